//! The Swyx side: observations of SwyxIt!, Teams → Swyx writes, and the detection of another
//! engine that writes the same Swyx status (shared writer) or fights ours (conflict).

use std::collections::VecDeque;

use clock::Instant;

use crate::api::{Action, Direction, NotificationKind, SwyxObservation, SwyxSettable};
use crate::api::{SwyxTarget, SwyxUnavailable, SyncEvent};
use crate::timing;
use crate::{labels, Engine, SwyxWrite};

impl Engine {
    pub(crate) fn on_swyx_attached(
        &mut self,
        now: Instant,
        first_of_run: bool,
        observation: SwyxObservation,
        out: &mut Vec<Action>,
    ) {
        self.mark_attached();
        // The first attach of a run writes the current target once if Swyx does not show it;
        // a later one is a reconciliation against the last applied target.
        if first_of_run {
            self.swyx.last_applied = None;
        }
        self.swyx.observation = None;
        self.apply_observation(now, observation, out);
    }

    pub(crate) fn on_swyx_observed(
        &mut self,
        now: Instant,
        observation: SwyxObservation,
        out: &mut Vec<Action>,
    ) {
        self.mark_attached();
        self.apply_observation(now, observation, out);
    }

    fn mark_attached(&mut self) {
        self.swyx.known = true;
        self.swyx.attached = true;
        self.swyx.unavailable = None;
        self.swyx.gone_notified = false;
    }

    /// Takes a new observation: call edges first, then the foreign-change checks.
    fn apply_observation(
        &mut self,
        now: Instant,
        observation: SwyxObservation,
        out: &mut Vec<Action>,
    ) {
        if observation.speaking && !self.call.speaking {
            self.call.speaking = true;
            self.call.change_at = now;
            self.call.call_reported = false;
            // A new call may try a refused write once more; retrying within a call would loop.
            self.call.set_refused = false;
        } else if !observation.speaking && self.call.speaking {
            self.call.speaking = false;
            self.note_clear_source(now, labels::history::CALL_ENDED);
        }

        let previous = self.swyx.observation.replace(observation.clone());
        let changed = previous.is_some_and(|p| p.status != observation.status);
        let ours = observation.caused_by_us
            || self
                .swyx
                .in_flight
                .is_some_and(|w| w.status == observation.status);
        if changed && !ours {
            self.swyx.foreign_change = Some((observation.status, now));
            self.check_conflict(now, observation.status, out);
        }
    }

    /// A Swyx change we did not write that replaces our write within 10 s with a different
    /// status is one conflict; the third within 30 minutes stops Teams → Swyx.
    fn check_conflict(&mut self, now: Instant, status: SwyxSettable, out: &mut Vec<Action>) {
        let Some((written, at)) = self.swyx.last_write else {
            return;
        };
        if status == written || now - at > timing::CONFLICT_REPLACE_WINDOW {
            return;
        }
        self.swyx.last_write = None;
        if count_detection(&mut self.detect.conflict_hits, now) && !self.detect.conflict {
            self.detect.conflict = true;
            if !self.detect.conflict_notified {
                self.detect.conflict_notified = true;
                out.push(Action::Notify(NotificationKind::Conflict));
            }
        }
    }

    /// Swyx already shows a new target before our write: the third time within 30 minutes
    /// that another engine made that change shows the shared-writer information.
    fn check_shared_writer(&mut self, now: Instant, status: SwyxSettable) {
        let Some((changed_to, at)) = self.swyx.foreign_change else {
            return;
        };
        if changed_to != status || at < self.teams.sent_before_change {
            return;
        }
        self.swyx.foreign_change = None;
        if count_detection(&mut self.detect.shared_hits, now) {
            self.detect.shared_writer = true;
        }
    }

    pub(crate) fn on_swyx_unavailable(&mut self, now: Instant, reason: SwyxUnavailable) {
        self.swyx.known = true;
        self.swyx.attached = false;
        self.swyx.observation = None;
        // Without SwyxIt! the call state is unknown; the session is cleared rather than kept
        // alive for a call that may have ended, and set again when an attach shows the call.
        if self.call.speaking {
            self.call.speaking = false;
            self.note_clear_source(now, labels::history::SWYX_GONE);
        }
        let since = self
            .swyx
            .unavailable
            .as_ref()
            .map_or(now, |(_, since, _)| *since);
        self.swyx.unavailable = Some((reason, since, now));
    }

    /// Raises one notification per episode when SwyxIt! has been gone for over a minute.
    pub(crate) fn notify_swyx_gone(&mut self, now: Instant, out: &mut Vec<Action>) {
        let Some((_, since, _)) = &self.swyx.unavailable else {
            return;
        };
        if !self.swyx.gone_notified && now >= *since + timing::SWYX_GONE_NOTIFY {
            self.swyx.gone_notified = true;
            out.push(Action::Notify(NotificationKind::SwyxGone));
        }
    }

    pub(crate) fn on_swyx_write_done(
        &mut self,
        now: Instant,
        status: SwyxSettable,
        result: Result<(), String>,
    ) {
        let write = self.swyx.in_flight.take_if(|w| w.status == status);
        match result {
            Ok(()) => {
                self.swyx.write_error = None;
                self.swyx.retry_at = None;
                self.swyx.last_write = Some((status, now));
                if let Some(write) = write {
                    self.swyx.last_applied = Some(write.target);
                    self.record_teams_to_swyx(now, status);
                }
            }
            Err(reason) => {
                self.swyx.write_error = Some(reason);
                self.swyx.retry_at = Some(now + timing::SWYX_WRITE_RETRY);
            }
        }
    }

    fn record_teams_to_swyx(&mut self, now: Instant, status: SwyxSettable) {
        let from = self
            .teams
            .presence
            .as_ref()
            .map_or_else(String::new, |(presence, _)| {
                crate::table::lookup(presence).label().to_owned()
            });
        self.push_history(SyncEvent {
            at: now,
            direction: Direction::TeamsToSwyx,
            from,
            to: labels::swyx_settable(status).to_owned(),
            latency: now - self.teams.target_since,
        });
    }

    /// Returns the status that shows `target` in Swyx, the substitute for Speaking.
    pub(crate) fn settable(&self, target: SwyxTarget) -> SwyxSettable {
        match target {
            SwyxTarget::Available => SwyxSettable::Available,
            SwyxTarget::Away => SwyxSettable::Away,
            SwyxTarget::DoNotDisturb => SwyxSettable::DoNotDisturb,
            SwyxTarget::Speaking => self.settings.speaking_substitute,
        }
    }

    /// Decides the Teams → Swyx write to send now, if any.
    ///
    /// Edge-triggered: only a target other than the last applied one is written, and not when
    /// Swyx already shows it (then it simply becomes the last applied target).
    pub(crate) fn decide_swyx_write(&mut self, now: Instant) -> Option<SwyxSettable> {
        let writable = self.teams_to_swyx_active(now)
            && !self.echo_held(now)
            && self.teams.fresh
            && self.swyx.attached
            && self.swyx.in_flight.is_none()
            && self.swyx.retry_at.is_none_or(|at| now >= at);
        if !writable {
            return None;
        }
        let shown = self.swyx.observation.as_ref()?.status;
        let target = self.current_target()?;
        if Some(target) == self.swyx.last_applied {
            return None;
        }
        let status = self.settable(target);
        if shown == status {
            if self.swyx.last_applied.is_some() {
                self.check_shared_writer(now, status);
            }
            self.swyx.last_applied = Some(target);
            return None;
        }
        self.swyx.in_flight = Some(SwyxWrite {
            target,
            status,
            requested_at: now,
        });
        Some(status)
    }
}

/// Adds a detection at `now`, drops those older than 30 minutes, and returns whether three
/// remain.
fn count_detection(hits: &mut VecDeque<Instant>, now: Instant) -> bool {
    hits.push_back(now);
    while hits
        .front()
        .is_some_and(|&at| now - at > timing::DETECTION_WINDOW)
    {
        hits.pop_front();
    }
    hits.len() >= timing::DETECTIONS_NEEDED
}
