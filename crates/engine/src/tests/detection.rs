//! Shared-writer and conflict detection at exact instants, on a bare engine fed by hand.

use std::time::Duration;

use crate::api::*;
use crate::{Engine, Instant};
use SwyxSettable::{Available, Away, DoNotDisturb};

const SECOND: u64 = 1_000;
const MINUTE: u64 = 60 * SECOND;

/// An engine fed by hand: started, signed in, attached to a SwyxIt! showing Available.
struct Bare {
    engine: Engine,
    sequence: u64,
}

impl Bare {
    fn new() -> Self {
        let mut engine = Engine::new(Settings::default());
        let zero = Instant::ZERO;
        engine.handle(
            zero,
            Input::Started {
                stale_session_marker: false,
            },
        );
        engine.handle(zero, Input::SignedIn);
        let observation = observed(Available, false);
        engine.handle(
            zero,
            Input::SwyxAttached {
                first_of_run: true,
                observation,
            },
        );
        let mut bare = Bare {
            engine,
            sequence: 0,
        };
        bare.poll(0, "Available/Available");
        bare
    }

    /// A poll sent at `at` that shows `pair`; returns the Swyx write it caused, if any.
    fn poll(&mut self, at: u64, pair: &str) -> Option<SwyxSettable> {
        let (availability, activity) = pair.split_once('/').unwrap_or((pair, pair));
        self.sequence += 1;
        let presence = TeamsPresence {
            availability: availability.into(),
            activity: activity.into(),
            is_out_of_office: false,
            sequence_number: Some(format!("{:08}", self.sequence)),
        };
        let sent_at = Instant::from_millis(at);
        self.engine.handle(sent_at, Input::TeamsPollSent);
        let polled = Input::TeamsPolled { sent_at, presence };
        let actions = self
            .engine
            .handle(sent_at + Duration::from_millis(50), polled);
        actions.into_iter().find_map(|a| match a {
            Action::WriteSwyx(status) => Some(status),
            _ => None,
        })
    }

    /// Our write of `status` acknowledged at `at`, then its echo from the adapter.
    fn acknowledge(&mut self, at: u64, status: SwyxSettable, flagged_echo: bool) {
        let now = Instant::from_millis(at);
        let result = Ok(());
        self.engine.handle(
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
            caused_by_us: flagged_echo,
        };
        self.engine.handle(now, Input::SwyxObserved(echo));
    }

    /// A Swyx change at `at` that the app did not write.
    fn foreign(&mut self, at: u64, status: SwyxSettable) -> Vec<Action> {
        let observation = observed(status, false);
        self.engine
            .handle(Instant::from_millis(at), Input::SwyxObserved(observation))
    }

    fn warnings(&self) -> Vec<Warning> {
        self.engine.view().warnings
    }
}

fn observed(status: SwyxSettable, speaking: bool) -> SwyxObservation {
    SwyxObservation {
        status,
        speaking,
        caused_by_us: false,
    }
}

/// Runs one fight: Teams goes In a call, we write Away, another writer sets Do not disturb
/// `replace_after` ms after our write, then Teams goes Available and Swyx follows.
fn fight(bare: &mut Bare, start: u64, replace_after: u64) -> Vec<Action> {
    assert_eq!(bare.poll(start, "Busy/InACall"), Some(Away));
    bare.acknowledge(start + 100, Away, true);
    let actions = bare.foreign(start + 100 + replace_after, DoNotDisturb);
    let later = start + 100 + replace_after + SECOND;
    // After a third conflict the app no longer writes Teams → Swyx.
    if bare.poll(later, "Available/Available") == Some(Available) {
        bare.acknowledge(later + 100, Available, true);
    } else {
        bare.foreign(later + 500, Available);
    }
    actions
}

#[test]
fn three_fights_make_a_conflict() {
    let mut bare = Bare::new();
    fight(&mut bare, 10 * SECOND, 3 * SECOND);
    fight(&mut bare, 30 * SECOND, 3 * SECOND);
    assert!(bare.warnings().is_empty());
    let third = fight(&mut bare, 50 * SECOND, 3 * SECOND);
    assert!(third.contains(&Action::Notify(NotificationKind::Conflict)));
    assert_eq!(bare.warnings(), [Warning::Conflict]);
    // Teams → Swyx is stopped now.
    assert_eq!(bare.poll(80 * SECOND, "DoNotDisturb/DoNotDisturb"), None);
    assert_eq!(bare.poll(82 * SECOND, "Busy/Busy"), None);
}

#[test]
fn replacement_at_ten_seconds_still_counts() {
    let mut bare = Bare::new();
    for round in 0..3 {
        fight(&mut bare, (10 + 30 * round) * SECOND, 10 * SECOND);
    }
    assert_eq!(bare.warnings(), [Warning::Conflict]);
}

#[test]
fn replacement_after_ten_seconds_is_not_a_conflict() {
    let mut bare = Bare::new();
    for round in 0..3 {
        fight(&mut bare, (10 + 30 * round) * SECOND, 10 * SECOND + 1);
    }
    assert!(bare.warnings().is_empty());
}

#[test]
fn conflicts_count_within_thirty_minutes() {
    let mut bare = Bare::new();
    // The three replacements land 15 minutes apart: 30 minutes from first to last.
    for round in 0..3 {
        fight(&mut bare, 10 * SECOND + round * 15 * MINUTE, 3 * SECOND);
    }
    assert_eq!(bare.warnings(), [Warning::Conflict]);
}

#[test]
fn conflicts_older_than_thirty_minutes_expire() {
    let mut bare = Bare::new();
    for round in 0..3 {
        fight(
            &mut bare,
            10 * SECOND + round * (15 * MINUTE + 1),
            3 * SECOND,
        );
    }
    assert!(bare.warnings().is_empty());
}

#[test]
fn own_echoes_are_not_another_writer() {
    // In a call maps to Speaking, written as Away; Appear offline then maps to Away, which Swyx
    // already shows because of our own write. That is no shared writer, flagged or not.
    for flagged in [true, false] {
        let mut bare = Bare::new();
        for round in 0..4 {
            let start = 10 * SECOND + round * 20 * SECOND;
            assert_eq!(
                bare.poll(start, "Available/Available"),
                (round > 0).then_some(Available)
            );
            if round > 0 {
                bare.acknowledge(start + 100, Available, true);
            }
            assert_eq!(bare.poll(start + 5 * SECOND, "Busy/InACall"), Some(Away));
            if !flagged {
                // The echo arrives before the write's answer, without the adapter's flag.
                let echo = observed(Away, false);
                bare.engine.handle(
                    Instant::from_millis(start + 5_080),
                    Input::SwyxObserved(echo),
                );
            }
            bare.acknowledge(start + 5_100, Away, flagged);
            assert_eq!(bare.poll(start + 10 * SECOND, "Offline/OffWork"), None);
        }
        assert!(bare.warnings().is_empty(), "flagged echo: {flagged}");
    }
}

#[test]
fn old_manual_change_is_not_a_shared_writer() {
    // The user set Away by hand before the last poll that still showed Available: Swyx shows
    // the new target when Teams goes Busy, but no other engine made that change since.
    let mut bare = Bare::new();
    for round in 0..4 {
        let start = 10 * SECOND + round * 60 * SECOND;
        bare.foreign(start, Away);
        assert_eq!(bare.poll(start + 10 * SECOND, "Available/Available"), None);
        assert_eq!(bare.poll(start + 20 * SECOND, "Busy/Busy"), None);
        assert_eq!(
            bare.poll(start + 40 * SECOND, "Available/Available"),
            Some(Available)
        );
        bare.acknowledge(start + 40_100, Available, true);
    }
    assert!(bare.warnings().is_empty());
}

#[test]
fn quick_foreign_writes_are_a_shared_writer() {
    let changes = [
        ("Available/Available", "Busy/Busy", Away),
        ("Busy/Busy", "DoNotDisturb/DoNotDisturb", DoNotDisturb),
        (
            "DoNotDisturb/DoNotDisturb",
            "Available/Available",
            Available,
        ),
    ];
    let mut bare = Bare::new();
    for (round, (before, after, status)) in changes.into_iter().enumerate() {
        let start = 10 * SECOND + round as u64 * 10 * SECOND;
        // The poll before the change, the other engine's write, then the poll showing it.
        assert_eq!(bare.poll(start, before), None);
        bare.foreign(start + 500, status);
        assert_eq!(
            bare.poll(start + 2 * SECOND, after),
            None,
            "{after} is already shown"
        );
    }
    assert_eq!(bare.warnings(), [Warning::SharedWriter]);
}

#[test]
fn repeated_observation_during_a_call_keeps_it() {
    let mut bare = Bare::new();
    let start = Instant::from_millis(10 * SECOND);
    let actions = bare
        .engine
        .handle(start, Input::SwyxObserved(observed(Available, true)));
    assert!(actions.contains(&Action::WriteGraph(GraphWrite::SetInACall)));
    let done = Input::GraphWriteDone {
        write: GraphWrite::SetInACall,
        sent_at: start,
        result: GraphWriteResult::Acknowledged,
    };
    bare.engine.handle(start + Duration::from_millis(100), done);
    // The adapter reads SwyxIt! every second and reports the same state.
    for second in 1..5 {
        let now = start + Duration::from_secs(second);
        let actions = bare
            .engine
            .handle(now, Input::SwyxObserved(observed(Available, true)));
        assert!(
            !actions.contains(&Action::WriteGraph(GraphWrite::Clear)),
            "at {now}"
        );
    }
    assert!(bare.engine.view().own_session);
}

#[test]
fn swyx_label_names_the_substitute_only_when_shown() {
    let mut bare = Bare::new();
    assert_eq!(bare.poll(10 * SECOND, "Busy/InACall"), Some(Away));
    bare.acknowledge(10_100, Away, true);
    let label = |bare: &Bare| bare.engine.view().swyx_label;
    assert_eq!(
        label(&bare).as_deref(),
        Some("Speaking (shown in Swyx as Away)")
    );
    // A Swyx call shows as Speaking itself.
    bare.engine.handle(
        Instant::from_millis(11_000),
        Input::SwyxObserved(observed(Away, true)),
    );
    assert_eq!(label(&bare).as_deref(), Some("Speaking"));
    // A status other than the substitute is shown as it is.
    let manual = observed(DoNotDisturb, false);
    bare.engine
        .handle(Instant::from_millis(12_000), Input::SwyxObserved(manual));
    assert_eq!(label(&bare).as_deref(), Some("Do not disturb"));
}
