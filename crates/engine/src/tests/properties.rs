//! Property tests: random sequences of user actions, faults and time on the simulated world, and
//! random raw inputs on a bare engine.
//!
//! The world checks after every input that a Swyx write always has a new target that Swyx does
//! not show yet, and that the view matches the last observed statuses (see `World::feed`).

use std::time::Duration;

use proptest::prelude::*;

use super::world::{Endpoint, Fault, World};
use crate::api::*;
use crate::{Access, Engine, Instant};

/// Teams pairs that never show a call, so any Speaking target could only be our own session.
const TEAMS: &[&str] = &[
    "Available/Available",
    "Busy/Busy",
    "Busy/InAMeeting",
    "DoNotDisturb/DoNotDisturb",
    "DoNotDisturb/Focusing",
    "Away/Away",
    "BeRightBack/BeRightBack",
    "Offline/Offline",
    "Offline/OffWork",
    "PresenceUnknown/PresenceUnknown",
    "Busy/InAHuddle",
    "Huddling/Available",
    "AvailableIdle/Available",
];

const SWYX: &[SwyxSettable] = &[
    SwyxSettable::Available,
    SwyxSettable::Away,
    SwyxSettable::DoNotDisturb,
];

#[derive(Debug, Clone)]
enum Op {
    Advance(u64),
    Teams(usize),
    Manual(usize),
    Call(bool),
    Fault(Endpoint, u8),
    Sync(bool),
    Direction(Direction, bool),
    Pause(u64),
    ResumeSync,
    SignOut,
    SignIn,
    Revoke,
    Sleep(u64),
    SwyxQuit,
    SwyxRestart,
    Substitute(usize),
    Jitter(i16),
}

fn op() -> impl Strategy<Value = Op> {
    let endpoint = prop_oneof![
        Just(Endpoint::Presence),
        Just(Endpoint::SetPresence),
        Just(Endpoint::ClearPresence)
    ];
    let direction = prop_oneof![Just(Direction::TeamsToSwyx), Just(Direction::SwyxToTeams)];
    prop_oneof![
        8 => (100u64..20_000).prop_map(Op::Advance),
        5 => (0..TEAMS.len()).prop_map(Op::Teams),
        2 => (0..SWYX.len()).prop_map(Op::Manual),
        4 => any::<bool>().prop_map(Op::Call),
        2 => (endpoint, 0u8..6).prop_map(|(e, k)| Op::Fault(e, k)),
        1 => any::<bool>().prop_map(Op::Sync),
        1 => (direction, any::<bool>()).prop_map(|(d, on)| Op::Direction(d, on)),
        1 => (1u64..120).prop_map(Op::Pause),
        1 => Just(Op::ResumeSync),
        1 => Just(Op::SignOut),
        1 => Just(Op::SignIn),
        1 => Just(Op::Revoke),
        1 => (1u64..7_200).prop_map(Op::Sleep),
        1 => Just(Op::SwyxQuit),
        1 => Just(Op::SwyxRestart),
        1 => (0..SWYX.len()).prop_map(Op::Substitute),
        1 => (-150i16..150).prop_map(Op::Jitter),
    ]
}

fn fault(kind: u8) -> Fault {
    match kind {
        0 => Fault::Fail(GraphFailure::Throttled { retry_after: None }),
        1 => Fault::Fail(GraphFailure::Throttled {
            retry_after: Some(Duration::from_secs(3)),
        }),
        2 => Fault::Fail(GraphFailure::Transient {
            reason: "502".into(),
        }),
        3 => Fault::Fail(GraphFailure::Forbidden {
            reason: "scope".into(),
        }),
        4 => Fault::Fail(GraphFailure::Malformed {
            reason: "not JSON".into(),
        }),
        _ => Fault::Hang,
    }
}

fn apply(w: &mut World, op: &Op) {
    match *op {
        Op::Advance(millis) => {
            let until = w.now + Duration::from_millis(millis);
            w.run_until(until);
        }
        Op::Teams(index) => w.set_teams(TEAMS[index]),
        Op::Manual(index) => w.swyx_manual(SWYX[index]),
        Op::Call(speaking) => w.swyx_call(speaking),
        Op::Fault(endpoint, kind) => w.fault(endpoint, fault(kind), 1),
        Op::Sync(on) => w.feed(Input::SetSync(on)),
        Op::Direction(direction, enabled) => w.feed(Input::SetDirection { direction, enabled }),
        Op::Pause(secs) => {
            let until = w.now + Duration::from_secs(secs);
            w.feed(Input::PauseUntil(until));
        }
        Op::ResumeSync => w.feed(Input::ResumeSync),
        Op::SignOut => w.feed(Input::SignedOut),
        Op::SignIn => {
            w.refresh_revoked = false;
            w.feed(Input::SignedIn);
        }
        Op::Revoke => w.refresh_revoked = true,
        Op::Sleep(secs) => {
            w.feed(Input::Suspending);
            let settle = w.now + Duration::from_secs(1);
            w.run_until(settle);
            // No timers run while the machine sleeps; the clock jumps.
            w.now += Duration::from_secs(secs);
            w.feed(Input::Resumed);
        }
        Op::SwyxQuit => w.swyx_quit(),
        Op::SwyxRestart => w.swyx_restart(),
        Op::Substitute(index) => {
            let settings = Settings {
                speaking_substitute: SWYX[index],
                ..Settings::default()
            };
            w.feed(Input::ChangeSettings(settings));
        }
        Op::Jitter(permille) => w.feed(Input::JitterSample { permille }),
    }
}

fn graph_writes_since(w: &World, first: usize) -> Vec<GraphWrite> {
    w.log[first..]
        .iter()
        .filter_map(|(_, action)| match action {
            Action::WriteGraph(write) => Some(*write),
            _ => None,
        })
        .collect()
}

proptest! {
    /// No Swyx write without a target change, none for our own In a call, and a clean quit.
    #[test]
    fn random_worlds_keep_the_rules(ops in proptest::collection::vec(op(), 1..60)) {
        let mut w = World::new("Available/Available", SwyxSettable::Available);
        w.forbid_speaking_writes = true;
        for op in &ops {
            apply(&mut w, op);
        }

        // Quit: the last Graph write is a clear when a session may be held and a token exists.
        let token = w.engine.life.access == Access::SignedIn && !w.refresh_revoked;
        let call = &w.engine.call;
        let held_at_quit = call.own_session || call.unsure || call.stale_marker;
        let acknowledged_at_quit = w.sets_acknowledged;
        let quit_at = w.log.len();
        w.feed(Input::Quitting);
        let until = w.now + Duration::from_secs(600);
        w.run_until(until);
        // A set in flight at the quit that Graph then acknowledged also leaves a session.
        let held = held_at_quit || w.sets_acknowledged > acknowledged_at_quit;
        let writes = graph_writes_since(&w, quit_at);
        prop_assert!(!writes.contains(&GraphWrite::SetInACall), "a set after quit: {writes:?}");
        if held && token {
            // The clear may have left before the quit, while the session was still held.
            let all = graph_writes_since(&w, 0);
            prop_assert_eq!(all.last(), Some(&GraphWrite::Clear));
        }
        if token {
            prop_assert!(!w.engine.session_may_exist(), "the session survived the quit");
        }
    }

    /// Any input at any instant, in any order: the engine never panics and its wake-ups lie ahead.
    #[test]
    fn raw_inputs_never_panic(steps in proptest::collection::vec((0u64..10_000_000, input()), 1..80)) {
        let mut engine = Engine::new(Settings::default());
        for (millis, input) in steps {
            let now = Instant::from_millis(millis);
            let actions = engine.handle(now, input);
            for action in &actions {
                if let Action::WakeAt(at) = action {
                    prop_assert!(*at > now);
                }
            }
            let _ = engine.view();
        }
    }
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("Busy".to_owned()),
        Just("InACall".to_owned()),
        Just("available".to_owned()),
        Just(String::new()),
        "[A-Za-z]{0,12}",
        ".{0,8}",
    ]
}

fn failure() -> impl Strategy<Value = GraphFailure> {
    prop_oneof![
        proptest::option::of(0u64..u64::MAX).prop_map(|s| GraphFailure::Throttled {
            retry_after: s.map(Duration::from_millis)
        }),
        text().prop_map(|reason| GraphFailure::Transient { reason }),
        text().prop_map(|reason| GraphFailure::Forbidden { reason }),
        text().prop_map(|reason| GraphFailure::Rejected { reason }),
        text().prop_map(|reason| GraphFailure::Malformed { reason }),
        Just(GraphFailure::SignInExpired),
    ]
}

fn write() -> impl Strategy<Value = GraphWrite> {
    prop_oneof![Just(GraphWrite::SetInACall), Just(GraphWrite::Clear)]
}

fn settable() -> impl Strategy<Value = SwyxSettable> {
    prop_oneof![
        Just(SwyxSettable::Available),
        Just(SwyxSettable::Away),
        Just(SwyxSettable::DoNotDisturb)
    ]
}

fn observation() -> impl Strategy<Value = SwyxObservation> {
    (settable(), any::<bool>(), any::<bool>()).prop_map(|(status, speaking, caused_by_us)| {
        SwyxObservation {
            status,
            speaking,
            caused_by_us,
        }
    })
}

fn instant() -> impl Strategy<Value = Instant> {
    (0u64..10_000_000).prop_map(Instant::from_millis)
}

fn input() -> impl Strategy<Value = Input> {
    let presence = (text(), text(), any::<bool>(), proptest::option::of(text())).prop_map(
        |(availability, activity, is_out_of_office, sequence_number)| TeamsPresence {
            availability,
            activity,
            is_out_of_office,
            sequence_number,
        },
    );
    let result = prop_oneof![
        Just(GraphWriteResult::Acknowledged),
        Just(GraphWriteResult::NotFound),
        failure().prop_map(GraphWriteResult::Failed),
    ];
    let settings = (
        0u64..700_000,
        0u64..700_000,
        settable(),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(
            |(poll, min, speaking_substitute, dnd_sets_dnd, away_sets_away)| Settings {
                poll_interval: Duration::from_millis(poll),
                min_poll_interval: Duration::from_millis(min),
                speaking_substitute,
                dnd_sets_dnd,
                away_sets_away,
            },
        );
    prop_oneof![
        1 => any::<bool>().prop_map(|stale_session_marker| Input::Started { stale_session_marker }),
        1 => Just(Input::Quitting),
        1 => Just(Input::Suspending),
        1 => Just(Input::Resumed),
        1 => Just(Input::SignedIn),
        1 => Just(Input::SignedOut),
        1 => Just(Input::TeamsPollSent),
        3 => (instant(), presence).prop_map(|(sent_at, presence)| Input::TeamsPolled { sent_at, presence }),
        1 => (instant(), failure()).prop_map(|(sent_at, failure)| Input::TeamsPollFailed { sent_at, failure }),
        1 => write().prop_map(|write| Input::GraphWriteSent { write }),
        2 => (write(), instant(), result).prop_map(|(write, sent_at, result)| Input::GraphWriteDone { write, sent_at, result }),
        1 => (any::<bool>(), observation()).prop_map(|(first_of_run, observation)| Input::SwyxAttached { first_of_run, observation }),
        3 => observation().prop_map(Input::SwyxObserved),
        1 => Just(Input::SwyxUnavailable(SwyxUnavailable::NotRunning)),
        1 => Just(Input::SwyxUnavailable(SwyxUnavailable::LoggedOff)),
        1 => text().prop_map(|reason| Input::SwyxUnavailable(SwyxUnavailable::Detached { reason })),
        1 => (settable(), instant(), proptest::option::of(text())).prop_map(|(target, sent_at, error)| {
            Input::SwyxWriteDone { target, sent_at, result: error.map_or(Ok(()), Err) }
        }),
        3 => Just(Input::Tick),
        1 => any::<bool>().prop_map(Input::SetSync),
        1 => any::<bool>().prop_map(|enabled| Input::SetDirection { direction: Direction::SwyxToTeams, enabled }),
        1 => any::<bool>().prop_map(|enabled| Input::SetDirection { direction: Direction::TeamsToSwyx, enabled }),
        1 => instant().prop_map(Input::PauseUntil),
        1 => Just(Input::ResumeSync),
        1 => Just(Input::ResolveConflict),
        1 => settings.prop_map(Input::ChangeSettings),
        1 => any::<i16>().prop_map(|permille| Input::JitterSample { permille }),
        1 => any::<bool>().prop_map(Input::IdentityMismatch),
    ]
}
