//! What the window, the tray and the scenario runner read of the app core.

use std::time::{Duration, SystemTime};

use clock::{Clock, Instant};
use engine::{NotificationKind, SyncEvent, View};
use serde::Serialize;

use crate::ports::{Account, SignInError};

/// The SwyxIt! session's identity.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SwyxIdentity {
    pub email: Option<String>,
    pub user: Option<String>,
    pub server: Option<String>,
}

/// One applied sync with its wall-clock time, for the window's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HistoryEntry {
    /// Milliseconds since the Unix epoch.
    pub at_unix_ms: u64,
    #[serde(flatten)]
    pub event: SyncEvent,
}

/// A started "Sign in with a code", as the window shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeviceCodeView {
    pub user_code: String,
    pub verification_uri: String,
    /// Entra ID's own instruction, when it sent one.
    pub message: Option<String>,
    /// When the code expires, in milliseconds since the Unix epoch.
    pub expires_at_unix_ms: u64,
}

/// Notifications raised so far, per kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct NotificationCounts {
    pub sign_in: u32,
    pub swyx_gone: u32,
    pub conflict: u32,
}

impl NotificationCounts {
    /// Counts one more notification of `kind`.
    pub fn add(&mut self, kind: NotificationKind) {
        match kind {
            NotificationKind::SignIn => self.sign_in += 1,
            NotificationKind::SwyxGone => self.swyx_gone += 1,
            NotificationKind::Conflict => self.conflict += 1,
        }
    }

    /// All notifications so far.
    pub fn total(&self) -> u32 {
        self.sign_in + self.swyx_gone + self.conflict
    }
}

/// The app core's state at one moment.
#[derive(Debug, Clone, Serialize)]
pub struct Snapshot {
    pub view: View,
    /// Wall-clock form of `view.history`, newest last.
    pub history: Vec<HistoryEntry>,
    pub account: Option<Account>,
    pub sign_in_error: Option<SignInError>,
    /// True while an interactive sign-in is under way.
    pub signing_in: bool,
    /// The code to enter while a "Sign in with a code" waits for the user.
    pub device_code: Option<DeviceCodeView>,
    pub swyx_identity: SwyxIdentity,
    pub notifications: NotificationCounts,
    /// Set once the core has stopped (quit, or the task ended).
    pub stopped: bool,
    /// Milliseconds since the Unix epoch when the snapshot was taken.
    pub taken_at_unix_ms: u64,
    /// The core clock's reading when the snapshot was taken, the same moment as
    /// `taken_at_unix_ms`, so that other instants of the snapshot convert to wall time.
    pub taken_at: Instant,
}

/// Converts a clock instant, past or future, to Unix milliseconds, using the clock's current
/// wall time.
pub(crate) fn unix_millis(clock: &dyn Clock, instant: Instant) -> u64 {
    let now = clock.now();
    let wall_now = clock.wall_now();
    let wall = if instant >= now {
        wall_now.checked_add(instant - now)
    } else {
        wall_now.checked_sub(now - instant)
    }
    .unwrap_or(SystemTime::UNIX_EPOCH);
    let since_epoch = wall
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or(Duration::ZERO);
    u64::try_from(since_epoch.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, SystemTime};

    use clock::{Instant, ManualClock};

    use super::unix_millis;

    #[test]
    fn unix_millis_converts_past_and_future() {
        let wall_at_zero = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let clock = ManualClock::new(wall_at_zero);
        clock.set(Instant::from_millis(60_000));
        let now_ms = 1_800_000_060_000;
        assert_eq!(unix_millis(&clock, Instant::from_millis(60_000)), now_ms);
        assert_eq!(
            unix_millis(&clock, Instant::from_millis(20_000)),
            now_ms - 40_000,
            "an instant 40 s ago"
        );
        assert_eq!(
            unix_millis(&clock, Instant::from_millis(960_000)),
            now_ms + 900_000,
            "a deadline 15 minutes ahead"
        );
    }
}
