//! Timing constants of the sync rules, the capped exponential backoff and the jitter factor.

use std::time::Duration;

/// How often `setPresence` is re-posted while a Swyx call lasts (the session expires after 5 min).
pub const KEEP_ALIVE: Duration = Duration::from_secs(120);
/// The `expirationDuration` of every `setPresence` (PT5M).
pub const SESSION_EXPIRY: Duration = Duration::from_secs(300);
/// The longest Teams → Swyx writes stay held after `clearPresence` was acknowledged.
pub const ECHO_HOLD_AFTER_CLEAR: Duration = Duration::from_secs(10);
/// First backoff delay after a failure.
pub const BACKOFF_START: Duration = Duration::from_secs(2);
/// Cap of the backoff and of the throttled poll interval.
pub const BACKOFF_CAP: Duration = Duration::from_secs(300);
/// Without a 429 for this long, the throttled poll interval halves once.
pub const THROTTLE_DECAY: Duration = Duration::from_secs(300);
/// Shortest poll interval the engine accepts, whatever the settings contain.
pub const MIN_POLL_INTERVAL: Duration = Duration::from_secs(1);
/// Longest poll interval the engine accepts, whatever the settings contain.
pub const MAX_POLL_INTERVAL: Duration = Duration::from_secs(600);
/// How far apart the Swyx adapter retries attaching (shown as the next retry).
pub const SWYX_ATTACH_RETRY: Duration = Duration::from_secs(3);
/// Delay before a failed Swyx write is tried again.
pub const SWYX_WRITE_RETRY: Duration = Duration::from_secs(3);
/// SwyxIt! gone for longer than this raises one notification.
pub const SWYX_GONE_NOTIFY: Duration = Duration::from_secs(60);
/// Window in which three detections make a shared writer or a conflict.
pub const DETECTION_WINDOW: Duration = Duration::from_secs(30 * 60);
/// Detections within [`DETECTION_WINDOW`] that make a shared writer or a conflict.
pub const DETECTIONS_NEEDED: usize = 3;
/// A foreign Swyx change this soon after our write, to another status, counts as a conflict.
pub const CONFLICT_REPLACE_WINDOW: Duration = Duration::from_secs(10);
/// A request reported neither done nor failed after this long is taken as lost.
///
/// The driver's timeouts (5 s poll, 10 s write) and its random start delay (up to 10 s) all end
/// well before this, so it only fires when the driver dropped a request without reporting it.
pub const LOST_REQUEST: Duration = Duration::from_secs(30);
/// Polls whose `sequenceNumber` sorts before the last applied one that are dropped in a row; the
/// next one is applied and restarts the sequence.
pub const STALE_SEQUENCE_DROPS: u8 = 2;
/// Entries kept in the sync history.
pub const HISTORY_LEN: usize = 20;
/// Jitter is clamped to ±10 %.
pub const MAX_JITTER_PERMILLE: i16 = 100;

/// Scales `duration` by `(1000 + permille) / 1000`, saturating instead of overflowing.
pub fn jittered(duration: Duration, permille: i16) -> Duration {
    let permille = permille.clamp(-MAX_JITTER_PERMILLE, MAX_JITTER_PERMILLE);
    let factor = u32::try_from(1000 + i32::from(permille)).unwrap_or(1000);
    duration.saturating_mul(factor) / 1000
}

/// A capped exponential backoff: 2 s, 4 s, 8 s, … up to 5 min.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Backoff {
    failures: u32,
}

impl Backoff {
    /// Counts one more failure and returns the delay before the next attempt.
    pub fn fail(&mut self) -> Duration {
        let exponent = self.failures.min(16);
        self.failures = self.failures.saturating_add(1);
        BACKOFF_START.saturating_mul(1 << exponent).min(BACKOFF_CAP)
    }

    /// Forgets the failures after a success.
    pub fn reset(&mut self) {
        self.failures = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_to_the_cap() {
        let mut backoff = Backoff::default();
        let delays: Vec<u64> = (0..10).map(|_| backoff.fail().as_secs()).collect();
        assert_eq!(delays, [2, 4, 8, 16, 32, 64, 128, 256, 300, 300]);
        backoff.reset();
        assert_eq!(backoff.fail(), BACKOFF_START);
    }

    #[test]
    fn jitter_is_clamped_to_ten_percent() {
        let two = Duration::from_secs(2);
        assert_eq!(jittered(two, 0), two);
        assert_eq!(jittered(two, 100), Duration::from_millis(2200));
        assert_eq!(jittered(two, -100), Duration::from_millis(1800));
        assert_eq!(jittered(two, 900), Duration::from_millis(2200));
        assert_eq!(jittered(two, i16::MIN), Duration::from_millis(1800));
    }
}
