//! The Graph side: polling `GET /me/presence`, and the call session written with
//! `setPresence` / `clearPresence`.

use clock::Instant;

use crate::api::{Action, Direction, GraphFailure, GraphWrite, GraphWriteResult, NotificationKind};
use crate::api::{SyncEvent, TeamsPresence, UnknownField};
use crate::timing::{self, jittered};
use crate::{labels, table, Access, Engine, OverrideProbe};

impl Engine {
    /// Tells whether Graph may be called for polls and sets.
    pub(crate) fn graph_usable(&self) -> bool {
        self.life.access == Access::SignedIn
            && self.life.started
            && !self.life.quitting
            && !self.life.suspended
    }

    /// Tells whether a `clearPresence` may be sent (also while quitting, suspending, signing out).
    fn clear_allowed(&self) -> bool {
        let token = self.life.access == Access::SignedIn || self.life.clear_before_sign_out;
        token && self.life.started && !self.call.clear_refused
    }

    pub(crate) fn polling_wanted(&self, now: Instant) -> bool {
        self.graph_usable() && self.sync_active(now)
    }

    /// Returns the instant the next poll is due, if polling runs and none is in flight.
    pub(crate) fn poll_wake(&self) -> Option<Instant> {
        if self.teams.in_flight.is_some() {
            return None;
        }
        if let Some(retry_at) = self.teams.retry_at {
            return Some(retry_at);
        }
        let interval = jittered(self.poll_interval(), self.jitter_permille);
        self.teams.last_sent.map(|sent| sent + interval)
    }

    pub(crate) fn poll_due(&self, now: Instant) -> bool {
        if !self.polling_wanted(now) || self.teams.in_flight.is_some() {
            return false;
        }
        self.poll_wake().is_none_or(|due| now >= due)
    }

    pub(crate) fn on_poll_sent(&mut self, now: Instant) {
        if let Some(request) = &mut self.teams.in_flight {
            request.sent_at = Some(now);
        }
        self.teams.last_sent = Some(now);
    }

    /// Ends the poll in flight and schedules the next one from its send instant.
    fn finish_poll(&mut self, sent_at: Instant) {
        // A late response to a poll from before a resume does not end the poll sent since.
        if self
            .teams
            .in_flight
            .is_some_and(|r| sent_at >= r.requested_at)
        {
            self.teams.in_flight = None;
        }
        self.teams.last_sent = Some(
            self.teams
                .last_sent
                .map_or(sent_at, |last| last.max(sent_at)),
        );
    }

    pub(crate) fn on_polled(&mut self, now: Instant, sent_at: Instant, presence: TeamsPresence) {
        self.finish_poll(sent_at);
        self.teams.retry_at = None;
        self.teams.backoff.reset();
        self.teams.degraded = None;
        self.teams.refused = None;

        // A response that arrives after sign-out or sign-in expiry is not used.
        if self.life.access != Access::SignedIn {
            return;
        }
        // A poll sent before our session was cleared may still show it.
        if sent_at < self.teams.epoch {
            return;
        }
        if self.is_stale_sequence(&presence) {
            return;
        }

        let lookup = table::lookup(&presence);
        self.note_unknown_values(&presence, &lookup);
        self.check_echo_release(sent_at, &lookup);
        self.check_override(sent_at, &lookup);

        let target = lookup.target(&self.settings);
        if target != self.teams.target || !self.teams.fresh {
            self.teams.target_since = now;
            self.teams.sent_before_change = self.teams.applied_sent_at.unwrap_or(sent_at);
        }
        self.teams.target = target;
        self.teams.applied_sent_at = Some(sent_at);
        self.teams.presence = Some((presence, lookup));
        self.teams.fresh = true;
    }

    /// Drops a response whose `sequenceNumber` sorts before the last applied one.
    ///
    /// Only values of equal length are compared, because the service may change their
    /// length. The third such answer in a row is applied and restarts the sequence.
    fn is_stale_sequence(&mut self, presence: &TeamsPresence) -> bool {
        let older = match (&presence.sequence_number, &self.teams.last_sequence) {
            (Some(new), Some(last)) => new.len() == last.len() && new < last,
            _ => false,
        };
        if older && self.teams.stale_sequence_drops < timing::STALE_SEQUENCE_DROPS {
            self.teams.stale_sequence_drops += 1;
            return true;
        }
        self.teams.stale_sequence_drops = 0;
        self.teams
            .last_sequence
            .clone_from(&presence.sequence_number);
        false
    }

    fn note_unknown_values(&mut self, presence: &TeamsPresence, lookup: &table::Lookup) {
        if !lookup.availability_known {
            self.note_unknown(UnknownField::Availability, presence.availability.trim());
        }
        if !lookup.activity_known {
            self.note_unknown(UnknownField::Activity, presence.activity.trim());
        }
    }

    /// Ends the hold after a clear once a poll sent after the clear shows no InACall.
    fn check_echo_release(&mut self, sent_at: Instant, lookup: &table::Lookup) {
        if let Some((acknowledged_at, _)) = self.call.hold_after_clear {
            if sent_at >= acknowledged_at && !lookup.is_in_a_call() {
                self.call.hold_after_clear = None;
            }
        }
    }

    /// Sets the override state when 2 polls in a row show an availability other than Busy:
    /// the 2 sent after an acknowledged set, or, later in the call, a poll that first shows one
    /// (a status the user picked in Teams meanwhile) and the next. While the own session exists
    /// any Busy counts as ours.
    fn check_override(&mut self, sent_at: Instant, lookup: &table::Lookup) {
        if !self.call.own_session {
            return;
        }
        if lookup.is_busy() {
            self.call.override_label = None;
            self.call.probe = None;
            return;
        }
        let Some(probe) = &mut self.call.probe else {
            if self.call.override_label.is_some() {
                // Between checks, a shown override follows the Teams status.
                self.call.override_label = Some(lookup.label());
            } else {
                // This poll is the first of the two.
                self.call.probe = Some(OverrideProbe {
                    acknowledged_at: sent_at,
                    polls_not_busy: 1,
                });
            }
            return;
        };
        if sent_at < probe.acknowledged_at {
            return;
        }
        probe.polls_not_busy += 1;
        if probe.polls_not_busy >= 2 {
            self.call.override_label = Some(lookup.label());
            self.call.probe = None;
        }
    }

    pub(crate) fn on_poll_failed(
        &mut self,
        now: Instant,
        sent_at: Instant,
        failure: GraphFailure,
        out: &mut Vec<Action>,
    ) {
        self.finish_poll(sent_at);
        let (retry_at, reason) = match failure {
            GraphFailure::SignInExpired => {
                self.expire_sign_in(out);
                return;
            }
            GraphFailure::Throttled { retry_after } => {
                self.record.throttle_count += 1;
                self.teams.throttle_level = (self.teams.throttle_level + 1).min(16);
                self.teams.throttle_changed_at = now;
                let backoff = self.teams.backoff.fail();
                let wait = retry_after.unwrap_or(jittered(backoff, self.jitter_permille));
                (now + wait, labels::health::THROTTLED.to_owned())
            }
            GraphFailure::Transient { reason } => (
                self.poll_backoff(now),
                format!("{}: {reason}", labels::health::POLL_FAILED),
            ),
            GraphFailure::Malformed { reason } => (
                self.poll_backoff(now),
                format!("{}: {reason}", labels::health::POLL_MALFORMED),
            ),
            GraphFailure::Forbidden { reason } | GraphFailure::Rejected { reason } => {
                // Refused reads need someone to act; the slow backoff notices when they did.
                self.teams.refused = Some(format!("{}: {reason}", labels::health::READ_REFUSED));
                (
                    self.poll_backoff(now),
                    labels::health::READ_REFUSED.to_owned(),
                )
            }
        };
        self.teams.retry_at = Some(retry_at);
        self.teams.degraded = Some(reason);
    }

    fn poll_backoff(&mut self, now: Instant) -> Instant {
        now + jittered(self.teams.backoff.fail(), self.jitter_permille)
    }

    /// `invalid_grant`: stop Graph calls, ask once to sign in again, keep Swyx running.
    fn expire_sign_in(&mut self, out: &mut Vec<Action>) {
        self.life.access = Access::Expired;
        self.life.clear_before_sign_out = false;
        self.teams.fresh = false;
        self.call.retry_at = None;
        if !self.life.sign_in_notified {
            self.life.sign_in_notified = true;
            out.push(Action::Notify(NotificationKind::SignIn));
        }
    }

    /// Decides the Graph write to send now, if any.
    pub(crate) fn decide_graph_write(&self, now: Instant) -> Option<GraphWrite> {
        if self.call.in_flight.is_some() || self.call.retry_at.is_some_and(|at| now < at) {
            return None;
        }
        let want_session = self.graph_usable()
            && self.swyx_to_teams_active(now)
            && self.call.speaking
            && !self.call.set_refused;
        if want_session {
            let keep_alive_due = self
                .call
                .last_set_sent
                .is_none_or(|sent| now >= sent + timing::KEEP_ALIVE);
            let needs_set = !self.call.own_session || keep_alive_due;
            return needs_set.then_some(GraphWrite::SetInACall);
        }
        // A stale session waits until SwyxIt! reports whether a call goes on, which would
        // replace it with a set instead.
        let stale_only = self.call.stale_marker && !self.call.own_session && !self.call.unsure;
        if stale_only && !self.swyx.known && self.graph_usable() {
            return None;
        }
        let needs_clear = self.call.own_session || self.call.unsure || self.call.stale_marker;
        (needs_clear && self.clear_allowed()).then_some(GraphWrite::Clear)
    }

    /// Returns the instants a Graph write may become due: a retry and the next keep-alive.
    pub(crate) fn graph_write_wakes(&self) -> [Option<Instant>; 2] {
        if self.call.in_flight.is_some() {
            return [None, None];
        }
        let keep_alive = self
            .call
            .last_set_sent
            .filter(|_| self.call.own_session && self.call.speaking)
            .map(|sent| sent + timing::KEEP_ALIVE);
        [self.call.retry_at, keep_alive]
    }

    pub(crate) fn on_write_sent(&mut self, now: Instant, write: GraphWrite) {
        if let Some((in_flight, request)) = &mut self.call.in_flight {
            if *in_flight == write {
                request.sent_at = Some(now);
            }
        }
    }

    pub(crate) fn on_write_done(
        &mut self,
        now: Instant,
        write: GraphWrite,
        sent_at: Instant,
        result: GraphWriteResult,
        out: &mut Vec<Action>,
    ) {
        if self.call.in_flight.is_some_and(|(w, _)| w == write) {
            self.call.in_flight = None;
        }
        match (write, result) {
            (GraphWrite::SetInACall, GraphWriteResult::Acknowledged) => {
                self.on_set_acknowledged(now, sent_at, out)
            }
            (GraphWrite::Clear, GraphWriteResult::Acknowledged | GraphWriteResult::NotFound) => {
                self.on_clear_acknowledged(now, out)
            }
            (GraphWrite::SetInACall, GraphWriteResult::NotFound) => self.on_write_refused(
                write,
                labels::health::WRITE_REJECTED,
                labels::health::ACTION_CHECK_CLIENT_ID,
                now,
            ),
            (_, GraphWriteResult::Failed(failure)) => {
                self.on_write_failed(now, write, failure, out)
            }
        }
    }

    fn on_set_acknowledged(&mut self, now: Instant, sent_at: Instant, out: &mut Vec<Action>) {
        if !self.call.own_session {
            out.push(Action::SessionMarker(true));
        }
        self.call.own_session = true;
        self.call.unsure = false;
        self.call.stale_marker = false;
        self.call.hold_after_clear = None;
        self.call.last_set_sent = Some(sent_at);
        // Graph applied the set before this response, so the session ends by this instant.
        self.call.session_expiry = Some(now + timing::SESSION_EXPIRY);
        self.call.set_refused = false;
        self.call.clear_refused = false;
        self.call.refused = None;
        self.call.degraded = None;
        self.call.retry_at = None;
        self.call.backoff.reset();
        self.call.probe = Some(OverrideProbe {
            acknowledged_at: now,
            polls_not_busy: 0,
        });

        if self.call.speaking && !self.call.call_reported {
            self.call.call_reported = true;
            self.push_history(SyncEvent {
                at: now,
                direction: Direction::SwyxToTeams,
                from: labels::history::SPEAKING.to_owned(),
                to: labels::history::IN_A_CALL.to_owned(),
                latency: now - self.call.change_at,
            });
        }
    }

    fn on_clear_acknowledged(&mut self, now: Instant, out: &mut Vec<Action>) {
        let had_session = self.call.own_session || self.call.unsure || self.call.stale_marker;
        self.end_session(now);
        self.call.degraded = None;
        self.call.retry_at = None;
        self.call.backoff.reset();
        self.life.clear_before_sign_out = false;
        // A later set during the same call, after a pause for example, is reported again.
        self.call.call_reported = false;
        // While sync is off or paused no poll replaces the "In a call" shown, which this clear
        // has just removed, so it is not shown as Teams' status any more.
        let shows_our_call = self.teams.presence.as_ref().is_some_and(|(presence, _)| {
            presence.availability.eq_ignore_ascii_case("Busy")
                && presence.activity.eq_ignore_ascii_case("InACall")
        });
        if had_session && shows_our_call && !self.polling_wanted(now) {
            self.teams.presence = None;
        }
        if had_session {
            out.push(Action::SessionMarker(false));
            let source = if self.call.clear_source.is_empty() {
                labels::history::CALL_ENDED
            } else {
                self.call.clear_source
            };
            self.push_history(SyncEvent {
                at: now,
                direction: Direction::SwyxToTeams,
                from: source.to_owned(),
                to: labels::history::CLEARED.to_owned(),
                latency: now - self.call.change_at,
            });
        }
    }

    /// Forgets the session and keeps Teams → Swyx held until Graph shows the clear.
    fn end_session(&mut self, now: Instant) {
        self.call.own_session = false;
        self.call.unsure = false;
        self.call.stale_marker = false;
        self.call.last_set_sent = None;
        self.call.session_expiry = None;
        self.call.probe = None;
        self.call.override_label = None;
        self.call.hold_after_clear = Some((now, now + timing::ECHO_HOLD_AFTER_CLEAR));
        // Polls sent before the clear may show our session: only a later one gives the target.
        self.teams.epoch = now;
        self.teams.fresh = false;
    }

    fn on_write_refused(
        &mut self,
        write: GraphWrite,
        reason: &'static str,
        action: &'static str,
        now: Instant,
    ) {
        self.call.refused = Some((reason, action));
        self.call.degraded = None;
        self.call.retry_at = None;
        match write {
            // A refused set was not applied: no session, no retry during this call.
            GraphWrite::SetInACall => self.call.set_refused = true,
            // A refused clear cannot be repeated. The session stays in Graph until its expiry,
            // 5 minutes after the last set, so Teams → Swyx stays held until then unless a
            // poll shows it gone sooner.
            GraphWrite::Clear => {
                let expiry = self
                    .call
                    .session_expiry
                    .unwrap_or(now + timing::SESSION_EXPIRY);
                self.call.clear_refused = true;
                self.life.clear_before_sign_out = false;
                self.end_session(now);
                let until = expiry.max(now + timing::ECHO_HOLD_AFTER_CLEAR);
                self.call.hold_after_clear = Some((now, until));
            }
        }
    }

    fn on_write_failed(
        &mut self,
        now: Instant,
        write: GraphWrite,
        failure: GraphFailure,
        out: &mut Vec<Action>,
    ) {
        let reason = match failure {
            GraphFailure::SignInExpired => {
                self.expire_sign_in(out);
                return;
            }
            GraphFailure::Forbidden { .. } => {
                let action = labels::health::ACTION_CONSENT;
                self.on_write_refused(write, labels::health::WRITE_FORBIDDEN, action, now);
                return;
            }
            GraphFailure::Rejected { .. } => {
                let action = labels::health::ACTION_CHECK_CLIENT_ID;
                self.on_write_refused(write, labels::health::WRITE_REJECTED, action, now);
                return;
            }
            GraphFailure::Throttled { retry_after } => {
                self.record.throttle_count += 1;
                let backoff = jittered(self.call.backoff.fail(), self.jitter_permille);
                self.call.retry_at = Some(now + retry_after.unwrap_or(backoff));
                labels::health::THROTTLED.to_owned()
            }
            GraphFailure::Transient { reason } | GraphFailure::Malformed { reason } => {
                let backoff = jittered(self.call.backoff.fail(), self.jitter_permille);
                self.call.retry_at = Some(now + backoff);
                format!("{}: {reason}", labels::health::WRITE_FAILED)
            }
        };
        // The set may have reached Graph although no answer came back.
        if write == GraphWrite::SetInACall && !self.call.own_session {
            self.call.unsure = true;
            // That session is new: a clear refused for an earlier one may still work for it.
            self.call.clear_refused = false;
        }
        self.call.degraded = Some(reason);
    }
}
