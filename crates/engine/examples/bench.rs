//! Measures the engine's cost per input: a driver loop of polls, Swyx events, write answers and
//! ticks, run for a few million inputs.
//!
//! Run with `cargo run --release -p engine --example bench`; it prints nanoseconds per input
//! and inputs per second.

use std::time::{Duration, Instant as WallInstant};

use engine::{
    Action, Engine, GraphWrite, GraphWriteResult, Input, Instant, Settings, SwyxObservation,
    SwyxSettable, TeamsPresence,
};

const PAIRS: &[(&str, &str)] = &[
    ("Available", "Available"),
    ("Busy", "InAMeeting"),
    ("DoNotDisturb", "Presenting"),
    ("Away", "Away"),
    ("busy", "inacall"),
    ("Offline", "OffWork"),
    ("BeRightBack", "InAHuddle"),
];

fn main() {
    let rounds = 200_000u64;
    let mut engine = Engine::new(Settings::default());
    let mut now = Instant::ZERO;
    let mut inputs = 0u64;
    let mut actions = 0usize;
    let observation = |status, speaking| SwyxObservation {
        status,
        speaking,
        caused_by_us: false,
    };

    let started = WallInstant::now();
    let mut feed = |engine: &mut Engine, now: Instant, input: Input| {
        inputs += 1;
        let out = engine.handle(now, input);
        actions += out.len();
        out
    };
    feed(
        &mut engine,
        now,
        Input::Started {
            stale_session_marker: false,
        },
    );
    feed(&mut engine, now, Input::SignedIn);
    let first = observation(SwyxSettable::Available, false);
    feed(
        &mut engine,
        now,
        Input::SwyxAttached {
            first_of_run: true,
            observation: first,
        },
    );

    for round in 0..rounds {
        let (availability, activity) = PAIRS[(round % PAIRS.len() as u64) as usize];
        let sent_at = now;
        feed(&mut engine, now, Input::TeamsPollSent);
        now += Duration::from_millis(100);
        let presence = TeamsPresence {
            availability: availability.to_owned(),
            activity: activity.to_owned(),
            is_out_of_office: false,
            sequence_number: Some(format!("{round:012}")),
        };
        let out = feed(&mut engine, now, Input::TeamsPolled { sent_at, presence });
        for action in out {
            if let Action::WriteSwyx(status) = action {
                let result = Ok(());
                feed(
                    &mut engine,
                    now,
                    Input::SwyxWriteDone {
                        target: status,
                        sent_at: now,
                        result,
                    },
                );
                let echo = SwyxObservation {
                    status,
                    speaking: false,
                    caused_by_us: true,
                };
                feed(&mut engine, now, Input::SwyxObserved(echo));
            }
        }
        // A short call every tenth round: set, acknowledgement, end, clear.
        if round % 10 == 0 {
            let speaking = observation(SwyxSettable::Available, round % 20 == 0);
            let out = feed(&mut engine, now, Input::SwyxObserved(speaking));
            for action in out {
                if let Action::WriteGraph(write) = action {
                    let result = GraphWriteResult::Acknowledged;
                    feed(&mut engine, now, Input::GraphWriteSent { write });
                    let done = Input::GraphWriteDone {
                        write,
                        sent_at: now,
                        result,
                    };
                    feed(&mut engine, now + Duration::from_millis(50), done);
                    if write == GraphWrite::Clear {
                        now += Duration::from_secs(11);
                    }
                }
            }
        }
        now += Duration::from_millis(1900);
        feed(&mut engine, now, Input::Tick);
    }
    let elapsed = started.elapsed();
    let per_input = elapsed.as_nanos() as f64 / inputs as f64;
    println!(
        "{inputs} inputs, {actions} actions in {:.3} s: {per_input:.0} ns per input, {:.0} inputs per second",
        elapsed.as_secs_f64(),
        1e9 / per_input
    );
    assert!(!engine.view().history.is_empty(), "the loop applied syncs");

    // The view model is rebuilt on demand, with a full history of 20 entries here.
    let views = 100_000u32;
    let started = WallInstant::now();
    let mut history = 0;
    for _ in 0..views {
        history += engine.view().history.len();
    }
    let per_view = started.elapsed().as_nanos() as f64 / f64::from(views);
    println!("view(): {per_view:.0} ns per call ({history} history entries read)");
}
