//! A test harness: the adapter attached to the simulator on a manual clock.

#![allow(dead_code)]

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use clock::{Clock, Instant, ManualClock, SharedClock, WorkGuard};
use engine::{SwyxObservation, SwyxSettable, SwyxUnavailable};
use swyx::simulator::{Simulator, SimulatorControl};
use swyx::{AdapterOptions, SwyxAdapter, SwyxEvent, SwyxHandle};

pub struct Harness {
    pub clock: ManualClock,
    pub control: SimulatorControl,
    pub handle: SwyxHandle,
    events: Arc<Mutex<Vec<SwyxEvent>>>,
}

impl Harness {
    /// The adapter with default options, started against a running, logged-on client.
    pub async fn start() -> Harness {
        Self::start_with(AdapterOptions::default(), |_| {}).await
    }

    /// The adapter with `options`, started after `prepare` scripted the client.
    pub async fn start_with(
        options: AdapterOptions,
        prepare: impl FnOnce(&SimulatorControl),
    ) -> Harness {
        let clock = ManualClock::new(SystemTime::UNIX_EPOCH);
        let shared: SharedClock = Arc::new(clock.clone());
        let (simulator, control) = Simulator::new(shared.clone());
        prepare(&control);
        let (handle, mut receiver) =
            SwyxAdapter::spawn_with_options(Arc::new(simulator), shared, options);
        // Play the driver: take each event and drop its guard once it is stored.
        let events = Arc::new(Mutex::new(Vec::new()));
        let sink = events.clone();
        tokio::spawn(async move {
            while let Some((event, guard)) = receiver.recv().await {
                sink.lock().unwrap().push(event);
                drop::<WorkGuard>(guard);
            }
        });
        clock.settle().await;
        Harness {
            clock,
            control,
            handle,
            events,
        }
    }

    pub fn now(&self) -> Instant {
        self.clock.now()
    }

    /// The events reported since the last call.
    pub fn events(&mut self) -> Vec<SwyxEvent> {
        std::mem::take(&mut *self.events.lock().unwrap())
    }

    pub async fn settle(&self) {
        self.clock.settle().await;
    }

    pub async fn advance(&self, duration: Duration) {
        self.clock.advance(duration).await;
    }

    pub async fn advance_ms(&self, millis: u64) {
        self.clock.advance(Duration::from_millis(millis)).await;
    }
}

pub fn observed(status: SwyxSettable, speaking: bool, caused_by_us: bool) -> SwyxEvent {
    SwyxEvent::Observed(SwyxObservation {
        status,
        speaking,
        caused_by_us,
    })
}

pub fn unavailable(reason: SwyxUnavailable) -> SwyxEvent {
    SwyxEvent::Unavailable(reason)
}

/// The attach events among `events`, as `(first_of_run, observation)`.
pub fn attaches(events: &[SwyxEvent]) -> Vec<(bool, SwyxObservation)> {
    events
        .iter()
        .filter_map(|event| match event {
            SwyxEvent::Attached {
                first_of_run,
                observation,
                ..
            } => Some((*first_of_run, observation.clone())),
            _ => None,
        })
        .collect()
}

pub fn is_detached(event: &SwyxEvent) -> bool {
    matches!(
        event,
        SwyxEvent::Unavailable(SwyxUnavailable::Detached { .. })
    )
}
