//! The engine's inputs, actions and view model: the contract with the app's driver.

use std::time::Duration;

use clock::Instant;
use serde::{Deserialize, Serialize};

/// A Swyx status as SwyxWare shows it to others.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SwyxStatus {
    Available,
    Away,
    DoNotDisturb,
    /// Derived by the server: a call on any line or device.
    Speaking,
    /// Derived by the server: no status-defining device logged in.
    LoggedOff,
}

/// A status a SwyxIt! client session can set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SwyxSettable {
    Available,
    Away,
    DoNotDisturb,
}

/// What the Teams → Swyx table maps a Teams presence to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SwyxTarget {
    Available,
    Away,
    DoNotDisturb,
    /// Written as the configured substitute, because a client cannot set Speaking.
    Speaking,
}

/// One Teams presence as read from `GET /me/presence`, with its raw strings.
///
/// Values are kept as received; the engine parses them case-insensitively and tolerates
/// unknown ones.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct TeamsPresence {
    pub availability: String,
    pub activity: String,
    pub is_out_of_office: bool,
    pub sequence_number: Option<String>,
}

/// A sync direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Direction {
    TeamsToSwyx,
    SwyxToTeams,
}

/// The Graph write the engine asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum GraphWrite {
    /// `setPresence` Busy/InACall with `expirationDuration` PT5M and the app's session id.
    SetInACall,
    /// `clearPresence` for the app's session id.
    Clear,
}

/// Why a Graph request failed, as far as the engine needs to know.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum GraphFailure {
    /// 429, with the server's `Retry-After` when it sent one.
    Throttled { retry_after: Option<Duration> },
    /// 5xx, timeout, connection error: retried with backoff.
    Transient { reason: String },
    /// 403: a permission is missing; the user or an admin must act.
    Forbidden { reason: String },
    /// 400 on a write: the request was rejected; retrying cannot help.
    Rejected { reason: String },
    /// The body was not the expected JSON.
    Malformed { reason: String },
    /// No usable sign-in (refresh token revoked or expired: `invalid_grant`).
    SignInExpired,
}

/// Result of a Graph write.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum GraphWriteResult {
    /// 2xx.
    Acknowledged,
    /// 404 from `clearPresence`: the session was already gone, which counts as success.
    NotFound,
    Failed(GraphFailure),
}

/// Why the Swyx side is not usable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum SwyxUnavailable {
    NotRunning,
    LoggedOff,
    ServerDown,
    /// The client asked its users to let go (shut-down request) or the COM link broke.
    Detached {
        reason: String,
    },
}

/// What the Swyx adapter observed of the user's own state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SwyxObservation {
    /// The settable part: Available, Away or DoNotDisturb.
    pub status: SwyxSettable,
    /// Whether the user is in a call on any line or device the client reports.
    pub speaking: bool,
    /// Whether this change is the echo of the engine's own last write.
    pub caused_by_us: bool,
}

/// Health of one side, in the order of precedence of the spec.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "kebab-case")]
pub enum Health {
    /// Teams side only: no usable sign-in.
    SignedOut,
    /// Another user's or an admin's action is needed.
    Unavailable {
        reason: String,
        action: String,
    },
    /// An automatic retry is pending.
    Degraded {
        reason: String,
        next_retry: Option<Instant>,
    },
    Ok,
}

/// A desktop notification kind; the shell shows at most one per episode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum NotificationKind {
    SignIn,
    SwyxGone,
    Conflict,
}

/// A warning or information shown beside the health.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Warning {
    /// Another engine writes the same Swyx targets.
    SharedWriter,
    /// Another engine writes different Swyx statuses; Teams → Swyx is stopped.
    Conflict,
    /// The Swyx identity (e-mail) differs from the Teams UPN.
    IdentityMismatch,
}

/// The engine's settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settings {
    pub poll_interval: Duration,
    /// A machine policy's minimum; the effective interval is never shorter.
    pub min_poll_interval: Duration,
    pub speaking_substitute: SwyxSettable,
    /// "Teams Do not disturb sets Swyx Do not disturb".
    pub dnd_sets_dnd: bool,
    /// "Teams Away sets Swyx Away".
    pub away_sets_away: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            poll_interval: Duration::from_secs(2),
            min_poll_interval: Duration::from_secs(1),
            speaking_substitute: SwyxSettable::Away,
            dnd_sets_dnd: true,
            away_sets_away: true,
        }
    }
}

/// Something that happened, fed to [`Engine::handle`](crate::Engine::handle).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Input {
    /// The app started; `stale_session_marker` is true when the previous run left the
    /// marker of a held Graph session behind.
    Started {
        stale_session_marker: bool,
    },
    /// Quit, OS log-off or shutdown: clear the own session.
    Quitting,
    /// The OS announced a suspend: clear the own session.
    Suspending,
    /// The machine resumed (OS notice or a detected clock jump).
    Resumed,
    SignedIn,
    SignedOut,
    /// A poll is about to be sent (the driver reports the send instant).
    TeamsPollSent,
    TeamsPolled {
        sent_at: Instant,
        presence: TeamsPresence,
    },
    TeamsPollFailed {
        sent_at: Instant,
        failure: GraphFailure,
    },
    GraphWriteSent {
        write: GraphWrite,
    },
    GraphWriteDone {
        write: GraphWrite,
        sent_at: Instant,
        result: GraphWriteResult,
    },
    /// The Swyx adapter attached; `first_of_run` tells the start write from a reconciliation.
    SwyxAttached {
        first_of_run: bool,
        observation: SwyxObservation,
    },
    SwyxObserved(SwyxObservation),
    SwyxUnavailable(SwyxUnavailable),
    SwyxWriteDone {
        target: SwyxSettable,
        sent_at: Instant,
        result: Result<(), String>,
    },
    /// A timer the engine asked for fired (or any periodic tick).
    Tick,
    SetSync(bool),
    SetDirection {
        direction: Direction,
        enabled: bool,
    },
    PauseUntil(Instant),
    ResumeSync,
    /// The user acknowledged the conflict warning and wants Teams → Swyx back.
    ResolveConflict,
    ChangeSettings(Settings),
    /// A fresh random jitter for the next poll interval and backoff delay, in permille of the
    /// delay (clamped to -100..=100, that is ±10 %). Without it the engine uses no jitter.
    JitterSample {
        permille: i16,
    },
    /// Whether the Swyx identity (e-mail) differs from the Teams UPN: a warning, not a block.
    IdentityMismatch(bool),
}

/// Which Graph field carried a value the engine does not know.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum UnknownField {
    Availability,
    Activity,
}

/// A Graph value the engine met for the first time and does not know; the driver logs it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct UnknownValue {
    pub field: UnknownField,
    /// The value as received.
    pub value: String,
}

/// Something the driver must do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Action {
    WriteSwyx(SwyxSettable),
    WriteGraph(GraphWrite),
    PollTeams,
    /// Call `handle(Tick)` at this instant (the driver keeps only the earliest).
    WakeAt(Instant),
    /// Keep (true) or remove (false) the on-disk marker of a held Graph session.
    SessionMarker(bool),
    /// Refresh the access token before the next request (after a resume).
    RefreshToken,
    Notify(NotificationKind),
}

/// One applied sync, for the window's history and the log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncEvent {
    /// When the write was acknowledged.
    pub at: Instant,
    pub direction: Direction,
    /// Source status in words: the Teams label of the table row (e.g. "Presenting") or a
    /// Swyx-side cause such as "Speaking".
    pub from: String,
    /// What was written, e.g. "Away", "In a call" or "In a call removed".
    pub to: String,
    /// From the observation of the source change to the acknowledgement of the write.
    pub latency: Duration,
}

/// The last sync of one direction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LastSync {
    pub at: Instant,
    pub latency: Duration,
}

/// Everything the window and tray show; rebuilt by [`Engine::view`](crate::Engine::view).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct View {
    /// The last Teams presence applied, as received.
    pub teams: Option<TeamsPresence>,
    /// The Teams presence in words ("In a call", "Do not disturb", …).
    pub teams_label: Option<String>,
    /// Whether `teams` was read after the last event that may have changed it (sync switched
    /// off or on, a pause or its end, the app's own clear, a sign-in) and no read failed since.
    /// False while the app does not read Teams, so `teams` is only the last known presence.
    pub teams_current: bool,
    /// The last observed Swyx status (Speaking when on a call).
    pub swyx: Option<SwyxStatus>,
    /// The Swyx status in words, e.g. "Speaking (shown in Swyx as Away)".
    pub swyx_label: Option<String>,
    /// What Teams maps to now, if anything.
    pub target: Option<SwyxTarget>,
    pub sync_enabled: bool,
    pub teams_to_swyx: bool,
    pub swyx_to_teams: bool,
    pub paused_until: Option<Instant>,
    /// Whether this installation holds the app session in Graph.
    pub own_session: bool,
    /// The override text, when a manual Teams status outranks the call session.
    pub override_text: Option<String>,
    pub health_teams: Health,
    pub health_swyx: Health,
    pub warnings: Vec<Warning>,
    pub last_teams_to_swyx: Option<LastSync>,
    pub last_swyx_to_teams: Option<LastSync>,
    /// The Teams detection bound: the effective poll interval now.
    pub poll_interval: Duration,
    /// Graph 429 answers so far, for diagnostics.
    pub throttle_count: u64,
    /// The last 20 applied syncs, newest last.
    pub history: Vec<SyncEvent>,
}
