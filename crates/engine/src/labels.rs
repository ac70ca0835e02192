//! Every English text the engine puts into the view model, in one place.
//!
//! The window translates these strings, so they are stable keys as well as English text: change
//! one only together with the window's translation table.

use crate::api::{SwyxSettable, SwyxStatus};

/// Teams presence labels, one per row of the mapping table.
pub mod teams {
    /// Available.
    pub const AVAILABLE: &str = "Available";
    /// Available with automatic replies on.
    pub const AVAILABLE_OUT_OF_OFFICE: &str = "Available, out of office";
    /// Busy.
    pub const BUSY: &str = "Busy";
    /// In a call (one-to-one or conference).
    pub const IN_A_CALL: &str = "In a call";
    /// In a call with automatic replies on.
    pub const IN_A_CALL_OUT_OF_OFFICE: &str = "In a call, out of office";
    /// In a meeting.
    pub const IN_A_MEETING: &str = "In a meeting";
    /// Do not disturb.
    pub const DO_NOT_DISTURB: &str = "Do not disturb";
    /// Presenting.
    pub const PRESENTING: &str = "Presenting";
    /// Focusing.
    pub const FOCUSING: &str = "Focusing";
    /// Urgent interruptions only.
    pub const URGENT_INTERRUPTIONS_ONLY: &str = "Urgent interruptions only";
    /// Away, including "away, last seen".
    pub const AWAY: &str = "Away";
    /// Be right back.
    pub const BE_RIGHT_BACK: &str = "Be right back";
    /// Appear offline.
    pub const APPEAR_OFFLINE: &str = "Appear offline";
    /// Offline.
    pub const OFFLINE: &str = "Offline";
    /// Out of office while offline.
    pub const OUT_OF_OFFICE: &str = "Out of office";
    /// Status unknown, also used for an availability with no row.
    pub const STATUS_UNKNOWN: &str = "Status unknown";
}

/// Formats the override text shown when a manual Teams status outranks the call session.
pub fn override_text(teams_label: &str) -> String {
    format!(
        "Teams shows '{teams_label}' instead of 'In a call' — a status you chose in Teams \
         takes precedence"
    )
}

/// Returns a settable Swyx status in words.
pub fn swyx_settable(status: SwyxSettable) -> &'static str {
    match status {
        SwyxSettable::Available => "Available",
        SwyxSettable::Away => "Away",
        SwyxSettable::DoNotDisturb => "Do not disturb",
    }
}

/// Returns a Swyx status in words.
pub fn swyx_status(status: SwyxStatus) -> &'static str {
    match status {
        SwyxStatus::Available => "Available",
        SwyxStatus::Away => "Away",
        SwyxStatus::DoNotDisturb => "Do not disturb",
        SwyxStatus::Speaking => "Speaking",
        SwyxStatus::LoggedOff => "Logged off",
    }
}

/// Returns the Swyx label when the app wrote the substitute of the target Speaking.
pub fn speaking_shown_as(substitute: SwyxSettable) -> &'static str {
    match substitute {
        SwyxSettable::Available => "Speaking (shown in Swyx as Available)",
        SwyxSettable::Away => "Speaking (shown in Swyx as Away)",
        SwyxSettable::DoNotDisturb => "Speaking (shown in Swyx as Do not disturb)",
    }
}

/// Words for the sync history.
pub mod history {
    /// What a `setPresence` wrote.
    pub const IN_A_CALL: &str = "In a call";
    /// What a `clearPresence` did.
    pub const CLEARED: &str = "In a call removed";
    /// The Swyx source of a call session.
    pub const SPEAKING: &str = "Speaking";
    /// The Swyx source of a clear after a call.
    pub const CALL_ENDED: &str = "Speaking ended";
    /// The source of a clear when sync or the Swyx → Teams direction was switched off.
    pub const SYNC_OFF: &str = "Sync switched off";
    /// The source of a clear when sync was paused.
    pub const PAUSED: &str = "Sync paused";
    /// The source of a clear at sign-out.
    pub const SIGNED_OUT: &str = "Signed out";
    /// The source of a clear at quit, log-off or shutdown.
    pub const QUITTING: &str = "Quitting";
    /// The source of a clear before the machine sleeps.
    pub const SUSPENDING: &str = "Suspending";
    /// The source of a clear of a session the previous run left behind.
    pub const STALE_SESSION: &str = "Session left by the previous run";
    /// The source of a clear when SwyxIt! went away during a call.
    pub const SWYX_GONE: &str = "SwyxIt! not available";
}

/// Health reasons and actions.
pub mod health {
    /// Graph answered 429.
    pub const THROTTLED: &str = "Microsoft Graph is throttling requests";
    /// A poll failed for a passing reason.
    pub const POLL_FAILED: &str = "Reading the Teams presence failed";
    /// A poll returned a body that is not the expected JSON.
    pub const POLL_MALFORMED: &str = "Microsoft Graph sent a Teams presence that could not be read";
    /// A write failed for a passing reason.
    pub const WRITE_FAILED: &str = "Writing the Teams presence failed";
    /// A read was refused with 403 or 400.
    pub const READ_REFUSED: &str = "Microsoft Graph refused to read the Teams presence";
    /// A write was refused with 403.
    pub const WRITE_FORBIDDEN: &str =
        "Microsoft Graph refused the presence write: the permission Presence.ReadWrite is missing";
    /// A write was refused with 400.
    pub const WRITE_REJECTED: &str =
        "Microsoft Graph rejected the presence write (wrong client id as session id?)";
    /// What the user does about a missing permission.
    pub const ACTION_CONSENT: &str =
        "Ask your administrator to grant Presence.ReadWrite to Presence Bridge, then sign in again";
    /// What the user does about a rejected write.
    pub const ACTION_CHECK_CLIENT_ID: &str =
        "Check the client id in the configuration (or ask your administrator), then sign in again";
    /// SwyxIt! is not running.
    pub const SWYX_NOT_RUNNING: &str = "SwyxIt! is not running";
    /// What the user does when SwyxIt! is not running.
    pub const ACTION_START_SWYX: &str = "Start SwyxIt!";
    /// SwyxIt! runs without a logged-in user.
    pub const SWYX_LOGGED_OFF: &str = "SwyxIt! is logged off";
    /// What the user does when SwyxIt! is logged off.
    pub const ACTION_LOG_ON_SWYX: &str = "Log on in SwyxIt!";
    /// The SwyxWare server cannot be reached.
    pub const SWYX_SERVER_DOWN: &str = "SwyxIt! cannot reach the SwyxWare server";
    /// The link to SwyxIt! broke.
    pub const SWYX_DETACHED: &str = "The connection to SwyxIt! was lost";
    /// Before the first report of the Swyx adapter.
    pub const SWYX_CONNECTING: &str = "Connecting to SwyxIt!";
    /// A Swyx write failed.
    pub const SWYX_WRITE_FAILED: &str = "Writing the SwyxIt! status failed";
}
