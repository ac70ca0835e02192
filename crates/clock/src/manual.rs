//! A clock that moves only when a test moves it.
//!
//! The scenario runner drives the app core, the Graph twin and the SwyxIt! simulator from one
//! `ManualClock`. Between two moves it waits, in real time, until the system is quiet: no
//! sleeper that just fired is still unpolled and no [`WorkGuard`] from [`Clock::busy`] is alive
//! beyond those balanced by [`Clock::waiting`]. That makes a run deterministic in order and
//! relative timing while taking only as long as the real work does.

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, SystemTime};

use crate::{Clock, Instant, Sleep, WorkGuard};

/// How long `settle` sleeps while work is in progress, and how many quiet looks in a row it
/// needs before it returns.
const SETTLE_POLL: Duration = Duration::from_micros(200);
const SETTLE_QUIET_LOOKS: u32 = 8;

/// A controllable clock for tests; cheap to clone, all clones share one time line.
#[derive(Clone)]
pub struct ManualClock {
    inner: Arc<Mutex<State>>,
}

struct State {
    now: Instant,
    wall_at_zero: SystemTime,
    /// Extra wall time on top of `now`, for a wall-clock jump without monotonic time.
    wall_skew: Duration,
    /// Pending sleepers by (deadline, id).
    sleepers: BTreeMap<(Instant, u64), Waker>,
    /// Sleepers whose deadline passed and that were woken but not polled since.
    woken_unpolled: HashSet<u64>,
    next_id: u64,
    busy: usize,
    waiting: usize,
}

impl ManualClock {
    /// A clock at [`Instant::ZERO`] whose wall time starts at `wall_at_zero`.
    pub fn new(wall_at_zero: SystemTime) -> Self {
        Self {
            inner: Arc::new(Mutex::new(State {
                now: Instant::ZERO,
                wall_at_zero,
                wall_skew: Duration::ZERO,
                sleepers: BTreeMap::new(),
                woken_unpolled: HashSet::new(),
                next_id: 0,
                busy: 0,
                waiting: 0,
            })),
        }
    }

    /// A clock whose wall time starts at the real current time.
    pub fn starting_now() -> Self {
        Self::new(SystemTime::now())
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // A panic while the lock is held leaves plain counters behind; they stay usable.
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The earliest pending sleeper's deadline.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.state()
            .sleepers
            .keys()
            .next()
            .map(|(deadline, _)| *deadline)
    }

    /// Sets the time to `instant` (never backwards) and wakes every sleeper due by then,
    /// without waiting for them to run.
    pub fn set(&self, instant: Instant) {
        let mut state = self.state();
        if instant > state.now {
            state.now = instant;
        }
        let now = state.now;
        let due: Vec<(Instant, u64)> = state
            .sleepers
            .range(..=(now, u64::MAX))
            .map(|(key, _)| *key)
            .collect();
        for key in due {
            if let Some(waker) = state.sleepers.remove(&key) {
                state.woken_unpolled.insert(key.1);
                waker.wake();
            }
        }
    }

    /// Moves the wall clock forward by `jump` while monotonic time does not move, as an OS
    /// suspend does on Linux.
    pub fn skew_wall(&self, jump: Duration) {
        self.state().wall_skew += jump;
    }

    /// Waits in real time until every woken sleeper has run and no work is in progress.
    ///
    /// While the counters show work, it sleeps briefly so that I/O can progress. Once they are
    /// quiet, on a single-threaded runtime it only yields, several times in a row: a yield
    /// lets every other ready task run first, so tasks spawned or woken meanwhile get to show
    /// up as busy. On a multi-threaded runtime a yield tells nothing about the other workers,
    /// so there every quiet look also sleeps.
    pub async fn settle(&self) {
        let single_threaded = matches!(
            tokio::runtime::Handle::current().runtime_flavor(),
            tokio::runtime::RuntimeFlavor::CurrentThread
        );
        let mut quiet_looks = 0;
        while quiet_looks < SETTLE_QUIET_LOOKS {
            tokio::task::yield_now().await;
            let quiet = self.is_quiet();
            quiet_looks = if quiet { quiet_looks + 1 } else { 0 };
            if !quiet || !single_threaded {
                tokio::time::sleep(SETTLE_POLL).await;
            }
        }
    }

    fn is_quiet(&self) -> bool {
        let state = self.state();
        state.woken_unpolled.is_empty() && state.busy <= state.waiting
    }

    /// Advances time to `target`, stopping at every sleeper's deadline on the way and settling
    /// after each, so that events happen in deadline order.
    pub async fn advance_to(&self, target: Instant) {
        self.settle().await;
        loop {
            let next = match self.next_deadline() {
                Some(deadline) if deadline <= target => deadline,
                _ => target,
            };
            self.set(next);
            self.settle().await;
            if next >= target {
                break;
            }
        }
    }

    /// Advances time by `duration`; see [`ManualClock::advance_to`].
    pub async fn advance(&self, duration: Duration) {
        let target = self.now() + duration;
        self.advance_to(target).await;
    }

    fn register(&self, deadline: Instant, id: &mut Option<u64>, waker: &Waker) -> bool {
        let mut state = self.state();
        if state.now >= deadline {
            if let Some(id) = id.take() {
                state.sleepers.remove(&(deadline, id));
                state.woken_unpolled.remove(&id);
            }
            return true;
        }
        let key_id = match *id {
            Some(existing) => existing,
            None => {
                let fresh = state.next_id;
                state.next_id += 1;
                *id = Some(fresh);
                fresh
            }
        };
        state.woken_unpolled.remove(&key_id);
        state.sleepers.insert((deadline, key_id), waker.clone());
        false
    }

    fn forget(&self, deadline: Instant, id: u64) {
        let mut state = self.state();
        state.sleepers.remove(&(deadline, id));
        state.woken_unpolled.remove(&id);
    }

    fn counter_guard(&self, pick: fn(&mut State) -> &mut usize) -> WorkGuard {
        *pick(&mut self.state()) += 1;
        let clock = self.clone();
        WorkGuard::new(move || {
            let mut state = clock.state();
            let counter = pick(&mut state);
            *counter = counter.saturating_sub(1);
        })
    }
}

impl fmt::Debug for ManualClock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.state();
        f.debug_struct("ManualClock")
            .field("now", &state.now)
            .field("sleepers", &state.sleepers.len())
            .field("busy", &state.busy)
            .field("waiting", &state.waiting)
            .finish()
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Instant {
        self.state().now
    }

    fn wall_now(&self) -> SystemTime {
        let state = self.state();
        state.wall_at_zero + state.now.since_start() + state.wall_skew
    }

    fn sleep_until(&self, deadline: Instant) -> Sleep {
        Box::pin(ManualSleep {
            clock: self.clone(),
            deadline,
            id: None,
        })
    }

    fn busy(&self) -> WorkGuard {
        self.counter_guard(|state| &mut state.busy)
    }

    fn waiting(&self) -> WorkGuard {
        self.counter_guard(|state| &mut state.waiting)
    }
}

struct ManualSleep {
    clock: ManualClock,
    deadline: Instant,
    id: Option<u64>,
}

impl Future for ManualSleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        if this.clock.register(this.deadline, &mut this.id, cx.waker()) {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}

impl Drop for ManualSleep {
    fn drop(&mut self) {
        if let Some(id) = self.id {
            self.clock.forget(self.deadline, id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU64, Ordering};

    fn clock() -> ManualClock {
        ManualClock::new(SystemTime::UNIX_EPOCH)
    }

    #[tokio::test]
    async fn sleeper_fires_only_when_advanced() {
        let clock = clock();
        let fired = Arc::new(AtomicU64::new(0));
        let task = {
            let clock = clock.clone();
            let fired = fired.clone();
            tokio::spawn(async move {
                clock.sleep(Duration::from_secs(300)).await;
                fired.store(clock.now().since_start().as_secs(), Ordering::SeqCst);
            })
        };
        clock.advance(Duration::from_secs(299)).await;
        assert_eq!(fired.load(Ordering::SeqCst), 0);
        clock.advance(Duration::from_secs(1)).await;
        task.await.unwrap();
        assert_eq!(fired.load(Ordering::SeqCst), 300);
    }

    #[tokio::test]
    async fn advance_stops_at_each_deadline_in_order() {
        let clock = clock();
        let seen = Arc::new(Mutex::new(Vec::new()));
        for seconds in [3u64, 1, 2] {
            let clock = clock.clone();
            let seen = seen.clone();
            tokio::spawn(async move {
                clock.sleep(Duration::from_secs(seconds)).await;
                seen.lock()
                    .unwrap()
                    .push(clock.now().since_start().as_secs());
            });
        }
        clock.settle().await;
        clock.advance(Duration::from_secs(10)).await;
        assert_eq!(*seen.lock().unwrap(), vec![1, 2, 3]);
        assert_eq!(clock.now(), Instant::from_millis(10_000));
    }

    #[tokio::test]
    async fn settle_waits_for_busy_work() {
        let clock = clock();
        let done = Arc::new(AtomicU64::new(0));
        {
            let guard = clock.busy();
            let done = done.clone();
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(30)).await;
                done.store(1, Ordering::SeqCst);
                drop(guard);
            });
        }
        clock.settle().await;
        assert_eq!(done.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn waiting_work_balances_busy_work() {
        let clock = clock();
        let _request = clock.busy();
        let _held_by_double = clock.waiting();
        // Would hang if waiting did not balance busy.
        clock.settle().await;
        assert!(clock.is_quiet());
    }

    #[tokio::test]
    async fn dropped_sleep_unregisters() {
        let clock = clock();
        let sleep = clock.sleep(Duration::from_secs(5));
        let _ = futures_poll_once(sleep).await;
        assert_eq!(clock.next_deadline(), None);
    }

    #[tokio::test]
    async fn wall_clock_skews_without_monotonic_time() {
        let clock = clock();
        clock.skew_wall(Duration::from_secs(600));
        assert_eq!(clock.now(), Instant::ZERO);
        assert_eq!(
            clock
                .wall_now()
                .duration_since(SystemTime::UNIX_EPOCH)
                .unwrap(),
            Duration::from_secs(600)
        );
    }

    #[tokio::test]
    async fn timeout_elapses_on_manual_time() {
        let clock = clock();
        let handle = {
            let clock = clock.clone();
            tokio::spawn(async move {
                crate::timeout(&clock, Duration::from_secs(5), std::future::pending::<()>()).await
            })
        };
        clock.settle().await;
        clock.advance(Duration::from_secs(5)).await;
        assert_eq!(handle.await.unwrap(), Err(crate::Elapsed));
    }

    /// Polls a future once and drops it, returning whether it was ready.
    async fn futures_poll_once(mut future: Sleep) -> bool {
        std::future::poll_fn(|cx| Poll::Ready(future.as_mut().poll(cx).is_ready())).await
    }
}
