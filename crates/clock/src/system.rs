//! The production clock: `std::time::Instant` for monotonic time and tokio's timer for sleeps.

use std::time::SystemTime;

use crate::{Clock, Instant, Sleep, WorkGuard};

/// The operating system's clocks.
///
/// On Linux the monotonic clock stops while the machine is suspended and the wall clock does
/// not, which is how the app notices a sleep.
#[derive(Debug, Clone, Copy)]
pub struct SystemClock {
    origin: std::time::Instant,
}

impl SystemClock {
    /// A clock whose [`Instant::ZERO`] is now.
    pub fn new() -> Self {
        Self {
            origin: std::time::Instant::now(),
        }
    }

    fn to_std(self, instant: Instant) -> std::time::Instant {
        self.origin + instant.since_start()
    }
}

impl Default for SystemClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for SystemClock {
    fn now(&self) -> Instant {
        Instant::from_start(self.origin.elapsed())
    }

    fn wall_now(&self) -> SystemTime {
        SystemTime::now()
    }

    fn sleep_until(&self, deadline: Instant) -> Sleep {
        let deadline = tokio::time::Instant::from_std(self.to_std(deadline));
        Box::pin(tokio::time::sleep_until(deadline))
    }

    fn busy(&self) -> WorkGuard {
        WorkGuard::none()
    }

    fn waiting(&self) -> WorkGuard {
        WorkGuard::none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn sleep_waits_real_time() {
        let clock = SystemClock::new();
        let before = clock.now();
        clock.sleep(Duration::from_millis(20)).await;
        assert!(clock.now() - before >= Duration::from_millis(20));
    }
}
