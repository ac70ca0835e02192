//! The sync engine: every presence rule of Presence Bridge as a pure state machine.
//!
//! The engine does no I/O and never reads a clock. The app's driver feeds it [`Input`]s, each
//! with the [`Instant`] it happened at, and carries out the [`Action`]s it returns; the
//! [`View`] is what the window and the tray render.
//!
//! # The driver's part
//!
//! - Carry out the actions in the order returned: writes come before polls.
//! - Report each request: [`Input::TeamsPollSent`] when a poll goes out, then
//!   [`Input::TeamsPolled`] or [`Input::TeamsPollFailed`]; [`Input::GraphWriteSent`] and
//!   [`Input::GraphWriteDone`] for writes; [`Input::SwyxWriteDone`] for Swyx writes.
//! - Call [`Engine::handle`] with [`Input::Tick`] at the earliest [`Action::WakeAt`] instant.
//! - Jitter and the start delay are the driver's: it feeds a random [`Input::JitterSample`]
//!   (±10 %) after each poll, and it waits a random 0–10 s before sending the first poll it is
//!   asked for after start or resume. The engine itself is deterministic.
//! - After [`Input::SignedOut`], [`Input::Quitting`] and [`Input::Suspending`] the engine may
//!   answer with [`Action::WriteGraph`]`(`[`GraphWrite::Clear`]`)`: the driver sends it with the
//!   token it still holds (with a short timeout) before dropping the token or going on.
//! - Log the values of [`Engine::take_unknown_values`] after each poll.

pub mod api;
mod graph;
mod labels;
mod swyx;
pub mod table;
mod timing;
mod view;

#[cfg(test)]
mod tests;

use std::collections::VecDeque;
use std::time::Duration;

pub use api::*;
pub use clock::Instant;

use table::Lookup;
use timing::Backoff;

/// The sync engine's state.
#[derive(Debug, Clone)]
pub struct Engine {
    settings: Settings,
    jitter_permille: i16,
    life: Lifecycle,
    switches: Switches,
    teams: TeamsState,
    call: CallState,
    swyx: SwyxState,
    detect: Detection,
    record: Record,
}

/// Start, sign-in and shutdown state.
#[derive(Debug, Clone, Default)]
struct Lifecycle {
    started: bool,
    quitting: bool,
    suspended: bool,
    access: Access,
    /// The sign-in notification of this episode was raised.
    sign_in_notified: bool,
    /// After a sign-out, the token may still be used for one `clearPresence`.
    clear_before_sign_out: bool,
}

/// Whether Graph may be called.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
enum Access {
    #[default]
    SignedOut,
    SignedIn,
    /// The refresh token was refused (`invalid_grant`).
    Expired,
}

/// The user's switches.
#[derive(Debug, Clone)]
struct Switches {
    sync: bool,
    teams_to_swyx: bool,
    swyx_to_teams: bool,
    paused_until: Option<Instant>,
    identity_mismatch: bool,
}

/// The Teams side: the last applied presence and the polling state.
#[derive(Debug, Clone, Default)]
struct TeamsState {
    /// The last applied presence and its lookup.
    presence: Option<(TeamsPresence, Lookup)>,
    /// Whether `presence` was read since the last gap (sign-in, resume, polling stopped).
    fresh: bool,
    /// The target of the last applied poll, with the settings of that moment.
    target: Option<SwyxTarget>,
    /// When the first poll showing `target` was received.
    target_since: Instant,
    /// Send instant of the last applied poll.
    applied_sent_at: Option<Instant>,
    /// Send instant of the last applied poll before the one that changed the target.
    sent_before_change: Instant,
    last_sequence: Option<String>,
    stale_sequence_drops: u8,
    in_flight: Option<Request>,
    /// Send instant of the latest poll; `None` polls at once.
    last_sent: Option<Instant>,
    retry_at: Option<Instant>,
    backoff: Backoff,
    /// A pending retry: reason and detail.
    degraded: Option<String>,
    /// A poll refused with 403 or 400.
    refused: Option<String>,
    /// How many times the poll interval is doubled after 429 responses.
    throttle_level: u32,
    throttle_changed_at: Instant,
    /// Polls sent before this instant predate the last clear of our session and are dropped.
    epoch: Instant,
}

/// One outstanding request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Request {
    requested_at: Instant,
    sent_at: Option<Instant>,
}

impl Request {
    fn new(now: Instant) -> Self {
        Self {
            requested_at: now,
            sent_at: None,
        }
    }

    /// Returns the instant the lost-request guard counts from.
    fn started(&self) -> Instant {
        self.sent_at.unwrap_or(self.requested_at)
    }
}

/// The Swyx → Teams side: the call and the app session in Graph.
#[derive(Debug, Clone, Default)]
struct CallState {
    speaking: bool,
    /// When the change behind the next write was observed (the start of its latency).
    change_at: Instant,
    /// The source of the next clear, for the history.
    clear_source: &'static str,
    /// The first `setPresence` of this call went into the history.
    call_reported: bool,
    /// Whether this installation owns the app session (a set was acknowledged, no clear since).
    own_session: bool,
    /// A set went out whose outcome is unknown (timeout, network error).
    unsure: bool,
    /// The previous run left its session marker behind.
    stale_marker: bool,
    in_flight: Option<(GraphWrite, Request)>,
    retry_at: Option<Instant>,
    backoff: Backoff,
    /// Send instant of the last acknowledged set: the keep-alive counts from it.
    last_set_sent: Option<Instant>,
    /// The latest instant the session can expire by itself (last acknowledgement + 5 min).
    session_expiry: Option<Instant>,
    /// A set was refused (403/400): no retry until the next call or sign-in.
    set_refused: bool,
    /// A clear was refused (403/400): no retry until sign-in.
    clear_refused: bool,
    /// The refusal shown as the health: reason and action.
    refused: Option<(&'static str, &'static str)>,
    /// A pending write retry: reason.
    degraded: Option<String>,
    /// After a clear: (acknowledged at, held until).
    hold_after_clear: Option<(Instant, Instant)>,
    /// Polls checked since the last acknowledged set.
    probe: Option<OverrideProbe>,
    /// The Teams status that outranks the call session.
    override_label: Option<&'static str>,
}

/// The override check after an acknowledged `setPresence`.
#[derive(Debug, Clone, Copy)]
struct OverrideProbe {
    acknowledged_at: Instant,
    polls_not_busy: u8,
}

/// The Swyx side: attach state, observations and writes.
#[derive(Debug, Clone, Default)]
struct SwyxState {
    /// The adapter reported anything at all.
    known: bool,
    attached: bool,
    observation: Option<SwyxObservation>,
    /// The reason SwyxIt! is unavailable, since when, and when that was last reported.
    unavailable: Option<(SwyxUnavailable, Instant, Instant)>,
    gone_notified: bool,
    /// The last target this app applied (written or already shown).
    last_applied: Option<SwyxTarget>,
    in_flight: Option<SwyxWrite>,
    retry_at: Option<Instant>,
    write_error: Option<String>,
    /// Our last acknowledged write, for the conflict check.
    last_write: Option<(SwyxSettable, Instant)>,
    /// The last Swyx change that was not ours.
    foreign_change: Option<(SwyxSettable, Instant)>,
}

/// A Swyx write in flight.
#[derive(Debug, Clone, Copy)]
struct SwyxWrite {
    target: SwyxTarget,
    status: SwyxSettable,
    requested_at: Instant,
}

/// Shared-writer and conflict detection.
#[derive(Debug, Clone, Default)]
struct Detection {
    shared_hits: VecDeque<Instant>,
    shared_writer: bool,
    conflict_hits: VecDeque<Instant>,
    /// Teams → Swyx is stopped until the user resolves the conflict.
    conflict: bool,
    conflict_notified: bool,
}

/// History, last syncs and diagnostics.
#[derive(Debug, Clone, Default)]
struct Record {
    history: VecDeque<SyncEvent>,
    last_teams_to_swyx: Option<LastSync>,
    last_swyx_to_teams: Option<LastSync>,
    throttle_count: u64,
    unknown_seen: Vec<(UnknownField, String)>,
    unknown_pending: Vec<UnknownValue>,
}

/// Distinct unknown values remembered; more are reported again rather than stored.
const UNKNOWN_MEMORY: usize = 64;

impl Engine {
    /// An engine with these settings, before [`Input::Started`].
    pub fn new(settings: Settings) -> Self {
        Self {
            settings,
            jitter_permille: 0,
            life: Lifecycle::default(),
            switches: Switches {
                sync: true,
                teams_to_swyx: true,
                swyx_to_teams: true,
                paused_until: None,
                identity_mismatch: false,
            },
            teams: TeamsState::default(),
            call: CallState::default(),
            swyx: SwyxState::default(),
            detect: Detection::default(),
            record: Record::default(),
        }
    }

    /// Applies one input that happened at `now` and returns what the driver must do.
    pub fn handle(&mut self, now: Instant, input: Input) -> Vec<Action> {
        let mut out = Vec::new();
        self.apply(now, input, &mut out);
        self.advance_timers(now, &mut out);
        self.decide(now, &mut out);
        if let Some(wake) = self.next_wake(now) {
            out.push(Action::WakeAt(wake));
        }
        out
    }

    /// Unknown Graph values met since the last call, each distinct value once per run.
    pub fn take_unknown_values(&mut self) -> Vec<UnknownValue> {
        std::mem::take(&mut self.record.unknown_pending)
    }

    /// The settings in force.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Updates the state for one input; the decisions follow in [`Self::decide`].
    fn apply(&mut self, now: Instant, input: Input, out: &mut Vec<Action>) {
        match input {
            Input::Started {
                stale_session_marker,
            } => self.on_started(now, stale_session_marker),
            Input::Quitting => {
                self.life.quitting = true;
                self.note_clear_source(now, labels::history::QUITTING);
            }
            Input::Suspending => {
                self.life.suspended = true;
                self.note_clear_source(now, labels::history::SUSPENDING);
            }
            Input::Resumed => self.on_resumed(out),
            Input::SignedIn => self.on_signed_in(),
            Input::SignedOut => self.on_signed_out(now),
            Input::TeamsPollSent => self.on_poll_sent(now),
            Input::TeamsPolled { sent_at, presence } => self.on_polled(now, sent_at, presence),
            Input::TeamsPollFailed { sent_at, failure } => {
                self.on_poll_failed(now, sent_at, failure, out)
            }
            Input::GraphWriteSent { write } => self.on_write_sent(now, write),
            Input::GraphWriteDone {
                write,
                sent_at,
                result,
            } => self.on_write_done(now, write, sent_at, result, out),
            Input::SwyxAttached {
                first_of_run,
                observation,
            } => self.on_swyx_attached(now, first_of_run, observation, out),
            Input::SwyxObserved(observation) => self.on_swyx_observed(now, observation, out),
            Input::SwyxUnavailable(reason) => self.on_swyx_unavailable(now, reason),
            Input::SwyxWriteDone {
                target,
                sent_at: _,
                result,
            } => self.on_swyx_write_done(now, target, result),
            Input::Tick => {}
            Input::SetSync(enabled) => self.on_set_sync(now, enabled),
            Input::SetDirection { direction, enabled } => {
                self.on_set_direction(now, direction, enabled)
            }
            Input::PauseUntil(until) => self.on_pause(now, until),
            Input::ResumeSync => self.on_resume_sync(now),
            Input::ResolveConflict => self.on_resolve_conflict(),
            Input::ChangeSettings(settings) => self.settings = settings,
            Input::JitterSample { permille } => self.jitter_permille = permille,
            Input::IdentityMismatch(mismatch) => self.switches.identity_mismatch = mismatch,
        }
    }

    fn on_started(&mut self, now: Instant, stale_session_marker: bool) {
        self.life.started = true;
        self.life.quitting = false;
        self.life.suspended = false;
        self.call.stale_marker |= stale_session_marker;
        if stale_session_marker {
            self.note_clear_source(now, labels::history::STALE_SESSION);
        }
        // The start write: the current target is written once if Swyx does not show it.
        self.swyx.last_applied = None;
        self.restart_polling();
    }

    fn on_resumed(&mut self, out: &mut Vec<Action>) {
        self.life.suspended = false;
        if self.life.access == Access::SignedIn {
            out.push(Action::RefreshToken);
        }
        // Requests from before the sleep are dead; their late answers are still accepted.
        self.teams.in_flight = None;
        self.call.in_flight = None;
        self.call.retry_at = None;
        self.call.backoff.reset();
        self.restart_polling();
    }

    fn on_signed_in(&mut self) {
        self.life.access = Access::SignedIn;
        self.life.sign_in_notified = false;
        self.life.clear_before_sign_out = false;
        self.teams.refused = None;
        self.teams.degraded = None;
        self.teams.backoff.reset();
        self.call.set_refused = false;
        self.call.clear_refused = false;
        self.call.refused = None;
        self.call.degraded = None;
        self.call.retry_at = None;
        self.call.backoff.reset();
        // Sign-in writes the current target once if Swyx does not show it, like a start.
        self.swyx.last_applied = None;
        self.restart_polling();
    }

    fn on_signed_out(&mut self, now: Instant) {
        if self.life.access == Access::SignedIn && self.session_may_exist() {
            self.life.clear_before_sign_out = true;
            self.note_clear_source(now, labels::history::SIGNED_OUT);
        }
        self.life.access = Access::SignedOut;
        self.teams.fresh = false;
    }

    fn on_set_sync(&mut self, now: Instant, enabled: bool) {
        if enabled == self.switches.sync {
            return;
        }
        self.switches.sync = enabled;
        if enabled {
            self.restart_polling();
            self.note_sync_resumed(now);
        } else {
            self.teams.fresh = false;
            self.note_clear_source(now, labels::history::SYNC_OFF);
        }
    }

    fn on_set_direction(&mut self, now: Instant, direction: Direction, enabled: bool) {
        match direction {
            Direction::TeamsToSwyx => self.switches.teams_to_swyx = enabled,
            Direction::SwyxToTeams => {
                self.switches.swyx_to_teams = enabled;
                if enabled {
                    self.note_sync_resumed(now);
                } else {
                    self.note_clear_source(now, labels::history::SYNC_OFF);
                }
            }
        }
    }

    fn on_pause(&mut self, now: Instant, until: Instant) {
        if until <= now {
            return;
        }
        self.switches.paused_until = Some(until);
        self.teams.fresh = false;
        self.note_clear_source(now, labels::history::PAUSED);
    }

    fn on_resume_sync(&mut self, now: Instant) {
        if self.switches.paused_until.take().is_some() {
            self.restart_polling();
            self.note_sync_resumed(now);
        }
    }

    fn on_resolve_conflict(&mut self) {
        self.detect.conflict = false;
        self.detect.conflict_notified = false;
        self.detect.conflict_hits.clear();
    }

    /// Remembers why the next clear happens, when a session may need one.
    fn note_clear_source(&mut self, now: Instant, source: &'static str) {
        if self.session_may_exist() {
            self.call.clear_source = source;
            self.call.change_at = now;
        }
    }

    /// Starts the latency of a call session that sync now sets again, measured from here.
    fn note_sync_resumed(&mut self, now: Instant) {
        if self.call.speaking {
            self.call.change_at = now;
        }
    }

    /// Polls at once (after a gap) and waits for that poll before mapping Teams again.
    fn restart_polling(&mut self) {
        self.teams.fresh = false;
        self.teams.last_sent = None;
        self.teams.retry_at = None;
        self.teams.backoff.reset();
        self.teams.degraded = None;
    }

    /// Runs the timers that are due: pause end, throttle decay, lost requests, notifications.
    fn advance_timers(&mut self, now: Instant, out: &mut Vec<Action>) {
        if self.switches.paused_until.is_some_and(|until| now >= until) {
            self.switches.paused_until = None;
            self.restart_polling();
            self.note_sync_resumed(now);
        }
        if self
            .call
            .hold_after_clear
            .is_some_and(|(_, until)| now >= until)
        {
            // The hold ran out without a poll showing the session gone: the target comes
            // from the next poll, not from one that may have shown our session.
            self.call.hold_after_clear = None;
            self.teams.fresh = false;
        }
        while self.teams.throttle_level > 0
            && now >= self.teams.throttle_changed_at + timing::THROTTLE_DECAY
        {
            self.teams.throttle_level -= 1;
            self.teams.throttle_changed_at += timing::THROTTLE_DECAY;
        }
        self.expire_lost_requests(now);
        self.notify_swyx_gone(now, out);
    }

    fn expire_lost_requests(&mut self, now: Instant) {
        if self
            .teams
            .in_flight
            .is_some_and(|r| now >= r.started() + timing::LOST_REQUEST)
        {
            self.teams.in_flight = None;
            let delay = self.teams.backoff.fail();
            self.teams.retry_at = Some(now + timing::jittered(delay, self.jitter_permille));
            self.teams.degraded = Some(labels::health::POLL_FAILED.to_owned());
        }
        if let Some((write, request)) = self.call.in_flight {
            if now >= request.started() + timing::LOST_REQUEST {
                self.call.in_flight = None;
                if write == GraphWrite::SetInACall {
                    self.call.unsure = true;
                }
            }
        }
        if self
            .swyx
            .in_flight
            .is_some_and(|w| now >= w.requested_at + timing::LOST_REQUEST)
        {
            self.swyx.in_flight = None;
        }
    }

    /// Decides the writes and the poll, writes first.
    fn decide(&mut self, now: Instant, out: &mut Vec<Action>) {
        if let Some(write) = self.decide_graph_write(now) {
            self.call.in_flight = Some((write, Request::new(now)));
            out.push(Action::WriteGraph(write));
        }
        if let Some(write) = self.decide_swyx_write(now) {
            out.push(Action::WriteSwyx(write));
        }
        if self.poll_due(now) {
            self.teams.in_flight = Some(Request::new(now));
            self.teams.last_sent = Some(now);
            out.push(Action::PollTeams);
        }
    }

    /// The earliest future instant at which a timer of the engine runs out.
    fn next_wake(&self, now: Instant) -> Option<Instant> {
        let mut candidates: Vec<Instant> = Vec::with_capacity(12);
        candidates.extend(self.switches.paused_until);
        candidates.extend(self.call.hold_after_clear.map(|(_, until)| until));
        candidates.extend(self.graph_write_wakes().into_iter().flatten());
        if self.polling_wanted(now) {
            candidates.extend(self.poll_wake());
        }
        candidates.extend(
            self.teams
                .in_flight
                .map(|r| r.started() + timing::LOST_REQUEST),
        );
        candidates.extend(
            self.call
                .in_flight
                .map(|(_, r)| r.started() + timing::LOST_REQUEST),
        );
        candidates.extend(
            self.swyx
                .in_flight
                .map(|w| w.requested_at + timing::LOST_REQUEST),
        );
        candidates.extend(self.swyx.retry_at);
        if self.teams.throttle_level > 0 {
            candidates.push(self.teams.throttle_changed_at + timing::THROTTLE_DECAY);
        }
        if let Some((_, since, _)) = &self.swyx.unavailable {
            if !self.swyx.gone_notified {
                candidates.push(*since + timing::SWYX_GONE_NOTIFY);
            }
        }
        candidates.into_iter().filter(|&at| at > now).min()
    }

    /// Whether the whole sync runs: started, switched on, not paused, not shutting down.
    fn sync_active(&self, now: Instant) -> bool {
        let paused = self.switches.paused_until.is_some_and(|until| now < until);
        self.life.started
            && self.switches.sync
            && !paused
            && !self.life.quitting
            && !self.life.suspended
    }

    /// Whether Teams → Swyx writes may happen.
    fn teams_to_swyx_active(&self, now: Instant) -> bool {
        self.sync_active(now) && self.switches.teams_to_swyx && !self.detect.conflict
    }

    /// Whether Swyx → Teams writes may set the call session.
    fn swyx_to_teams_active(&self, now: Instant) -> bool {
        self.sync_active(now) && self.switches.swyx_to_teams
    }

    /// Whether the app session may exist in Graph because of this installation.
    fn session_may_exist(&self) -> bool {
        self.call.own_session
            || self.call.unsure
            || self.call.stale_marker
            || matches!(self.call.in_flight, Some((GraphWrite::SetInACall, _)))
    }

    /// Whether Teams → Swyx writes are held because Teams may show our own session.
    fn echo_held(&self, now: Instant) -> bool {
        if cfg!(feature = "fault-no-echo-hold") {
            return false;
        }
        let after_clear = self
            .call
            .hold_after_clear
            .is_some_and(|(_, until)| now < until);
        self.session_may_exist() || after_clear
    }

    /// The Teams → Swyx target now, with the current settings.
    fn current_target(&self) -> Option<SwyxTarget> {
        self.teams
            .presence
            .as_ref()
            .and_then(|(_, lookup)| lookup.target(&self.settings))
    }

    /// The effective poll interval: the settings and policy minimum, doubled after 429s.
    fn poll_interval(&self) -> Duration {
        let base = self
            .settings
            .poll_interval
            .max(self.settings.min_poll_interval)
            .clamp(timing::MIN_POLL_INTERVAL, timing::MAX_POLL_INTERVAL);
        let throttled = base
            .saturating_mul(1u32 << self.teams.throttle_level.min(16))
            .min(timing::BACKOFF_CAP);
        base.max(throttled)
    }

    /// Adds one entry to the history, dropping the oldest beyond 20.
    fn push_history(&mut self, event: SyncEvent) {
        let last = LastSync {
            at: event.at,
            latency: event.latency,
        };
        match event.direction {
            Direction::TeamsToSwyx => self.record.last_teams_to_swyx = Some(last),
            Direction::SwyxToTeams => self.record.last_swyx_to_teams = Some(last),
        }
        if self.record.history.len() == timing::HISTORY_LEN {
            self.record.history.pop_front();
        }
        self.record.history.push_back(event);
    }

    /// Notes a value Graph sent that the table does not know, once per distinct value.
    fn note_unknown(&mut self, field: UnknownField, value: &str) {
        let lower = value.to_ascii_lowercase();
        let seen = self
            .record
            .unknown_seen
            .iter()
            .any(|(f, v)| *f == field && *v == lower);
        if seen {
            return;
        }
        if self.record.unknown_seen.len() < UNKNOWN_MEMORY {
            self.record.unknown_seen.push((field, lower));
        }
        if self.record.unknown_pending.len() < UNKNOWN_MEMORY {
            self.record.unknown_pending.push(UnknownValue {
                field,
                value: value.to_owned(),
            });
        }
    }
}
