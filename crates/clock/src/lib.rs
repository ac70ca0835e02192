//! One clock for the whole app: monotonic instants, wall time and sleeps.
//!
//! Every piece that waits or reads the time (the engine's driver, the Graph and Swyx adapters,
//! the Graph twin and the SwyxIt! simulator) takes a [`SharedClock`]. In production that is the
//! [`SystemClock`]; tests and the scenario runner use the [`ManualClock`], whose time moves only
//! when the test advances it, so a five-minute session expiry takes microseconds and every run
//! sees the same order of events.
//!
//! The pure engine depends on this crate without the `runtime` feature and uses only [`Instant`].

mod instant;
#[cfg(feature = "runtime")]
mod manual;
#[cfg(feature = "runtime")]
mod system;

pub use instant::Instant;
#[cfg(feature = "runtime")]
pub use manual::ManualClock;
#[cfg(feature = "runtime")]
pub use system::SystemClock;

#[cfg(feature = "runtime")]
pub use runtime::*;

#[cfg(feature = "runtime")]
mod runtime {
    use std::fmt;
    use std::future::Future;
    use std::pin::Pin;
    use std::sync::Arc;
    use std::time::{Duration, SystemTime};

    use crate::Instant;

    /// A sleep that completes at its deadline on the clock that made it.
    pub type Sleep = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

    /// The clock handle every component holds.
    pub type SharedClock = Arc<dyn Clock>;

    /// Time source and timer for one process.
    pub trait Clock: Send + Sync + fmt::Debug + 'static {
        /// Monotonic time since the clock started.
        fn now(&self) -> Instant;

        /// Wall-clock time, used only to detect a machine sleep (the wall clock moves on
        /// while the monotonic clock stands still) and for display.
        fn wall_now(&self) -> SystemTime;

        /// Returns a future that completes once `now() >= deadline`.
        fn sleep_until(&self, deadline: Instant) -> Sleep;

        /// Marks work in progress until the guard drops.
        ///
        /// A [`ManualClock`] does not move time while any guard is alive (beyond those its
        /// holder declared as waiting on the clock), so a test never skips past a timer while a
        /// request is still being answered. The system clock ignores it.
        fn busy(&self) -> WorkGuard;

        /// Marks work that waits on this clock's time (an injected delay in a test double)
        /// until the guard drops, so that a [`ManualClock`] may move time while it is pending.
        fn waiting(&self) -> WorkGuard;

        /// Returns a future that completes `duration` from now.
        fn sleep(&self, duration: Duration) -> Sleep {
            self.sleep_until(self.now() + duration)
        }
    }

    /// A token for work in progress; see [`Clock::busy`].
    #[must_use = "the work counts as done as soon as the guard drops"]
    pub struct WorkGuard {
        on_drop: Option<Box<dyn FnOnce() + Send + Sync>>,
    }

    impl WorkGuard {
        /// A guard that tracks nothing.
        pub fn none() -> Self {
            Self { on_drop: None }
        }

        pub(crate) fn new(on_drop: impl FnOnce() + Send + Sync + 'static) -> Self {
            Self {
                on_drop: Some(Box::new(on_drop)),
            }
        }
    }

    impl fmt::Debug for WorkGuard {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("WorkGuard")
        }
    }

    impl Drop for WorkGuard {
        fn drop(&mut self) {
            if let Some(on_drop) = self.on_drop.take() {
                on_drop();
            }
        }
    }

    /// The error of [`timeout`]: the deadline passed first.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct Elapsed;

    impl fmt::Display for Elapsed {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("deadline elapsed")
        }
    }

    impl std::error::Error for Elapsed {}

    /// Runs `future` until it completes or `duration` passes on `clock`.
    pub async fn timeout<F: Future>(
        clock: &dyn Clock,
        duration: Duration,
        future: F,
    ) -> Result<F::Output, Elapsed> {
        let sleep = clock.sleep(duration);
        tokio::select! {
            biased;
            output = future => Ok(output),
            () = sleep => Err(Elapsed),
        }
    }
}
