//! Measures the adapter's own delay on the system clock: from a call starting in the simulator
//! to the `Observed` event reaching the driver, and the same for the call's end.
//!
//! Run: `cargo run --release -p swyx --example latency`

use std::sync::Arc;
use std::time::{Duration, Instant};

use clock::{SharedClock, SystemClock};
use swyx::simulator::{CallAction, Simulator};
use swyx::{SwyxAdapter, SwyxEvent};

const ROUNDS: usize = 1000;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let clock: SharedClock = Arc::new(SystemClock::new());
    let (simulator, control) = Simulator::new(clock.clone());
    let (handle, mut events) = SwyxAdapter::spawn(Arc::new(simulator), clock);
    let Some((SwyxEvent::Attached { .. }, _)) = events.recv().await else {
        panic!("the adapter did not attach");
    };

    let mut samples = Vec::with_capacity(ROUNDS * 2);
    for round in 0..ROUNDS * 2 {
        let action = if round % 2 == 0 {
            CallAction::Start
        } else {
            CallAction::End
        };
        let started = Instant::now();
        control.call(1, action);
        loop {
            match events.recv().await {
                Some((SwyxEvent::Observed(_), _guard)) => break,
                Some(_) => continue,
                None => panic!("the adapter stopped"),
            }
        }
        samples.push(started.elapsed());
    }
    handle.shutdown();

    samples.sort();
    let percentile = |p: f64| samples[((samples.len() - 1) as f64 * p) as usize];
    let micros = |d: Duration| d.as_secs_f64() * 1e6;
    println!(
        "{} call changes: p50 {:.0} µs, p99 {:.0} µs, max {:.0} µs",
        samples.len(),
        micros(percentile(0.50)),
        micros(percentile(0.99)),
        micros(*samples.last().unwrap()),
    );
}
