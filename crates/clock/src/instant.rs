//! The monotonic instant shared by the engine, its driver and the adapters.

use std::fmt;
use std::ops::{Add, AddAssign, Sub};
use std::time::Duration;

/// A point on a clock's monotonic time line, measured from the clock's start.
///
/// Instants of different clocks are not comparable; a process uses one clock.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Instant(Duration);

impl Instant {
    /// The clock's start.
    pub const ZERO: Instant = Instant(Duration::ZERO);

    /// The instant `elapsed` after the clock's start.
    pub const fn from_start(elapsed: Duration) -> Self {
        Instant(elapsed)
    }

    /// The instant `millis` milliseconds after the clock's start.
    pub const fn from_millis(millis: u64) -> Self {
        Instant(Duration::from_millis(millis))
    }

    /// Time since the clock's start.
    pub const fn since_start(self) -> Duration {
        self.0
    }

    /// Time from `earlier` to `self`, or zero when `earlier` is later.
    pub fn saturating_duration_since(self, earlier: Instant) -> Duration {
        self.0.saturating_sub(earlier.0)
    }

    /// `self + duration`, or `None` on overflow.
    pub fn checked_add(self, duration: Duration) -> Option<Instant> {
        self.0.checked_add(duration).map(Instant)
    }
}

impl Add<Duration> for Instant {
    type Output = Instant;

    fn add(self, rhs: Duration) -> Instant {
        Instant(self.0.saturating_add(rhs))
    }
}

impl AddAssign<Duration> for Instant {
    fn add_assign(&mut self, rhs: Duration) {
        self.0 = self.0.saturating_add(rhs);
    }
}

impl Sub<Instant> for Instant {
    type Output = Duration;

    /// Saturates at zero, as a clock that never runs backwards would.
    fn sub(self, rhs: Instant) -> Duration {
        self.saturating_duration_since(rhs)
    }
}

impl fmt::Debug for Instant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "t+{:?}", self.0)
    }
}

impl fmt::Display for Instant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:03}s", self.0.as_secs(), self.0.subsec_millis())
    }
}

#[cfg(feature = "serde")]
impl serde::Serialize for Instant {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u64(u64::try_from(self.0.as_millis()).unwrap_or(u64::MAX))
    }
}

#[cfg(feature = "serde")]
impl<'de> serde::Deserialize<'de> for Instant {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let millis = <u64 as serde::Deserialize>::deserialize(deserializer)?;
        Ok(Instant::from_millis(millis))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subtraction_saturates_at_zero() {
        let early = Instant::from_millis(100);
        let late = Instant::from_millis(250);
        assert_eq!(late - early, Duration::from_millis(150));
        assert_eq!(early - late, Duration::ZERO);
    }

    #[test]
    fn addition_moves_forward() {
        let start = Instant::ZERO + Duration::from_secs(2);
        assert_eq!(start.since_start(), Duration::from_secs(2));
        assert_eq!(format!("{start}"), "2.000s");
    }
}
