//! Scenario tests on the simulated world, named after the behaviour each guards.

use std::time::Duration;

use super::world::{Endpoint, Fault, World, ORIGIN};
use crate::api::*;
use crate::{Engine, Instant};
use SwyxSettable::{Available, Away, DoNotDisturb};

const MIN: u64 = 60_000;

fn sets(world: &World) -> u32 {
    world.set_calls
}

fn clears(world: &World) -> u32 {
    world.clear_calls
}

#[test]
fn call_round_trip_sets_keeps_alive_and_clears() {
    let mut w = World::new("Available/Available", Available);
    w.go(0);
    w.swyx_call(true);
    w.go(500);
    assert!(w.app_session());
    assert_eq!(w.teams(), "Busy/InACall");
    assert_eq!(sets(&w), 1);
    assert!(
        w.marker,
        "the session marker is kept while the session is held"
    );
    let last = w
        .engine
        .view()
        .last_swyx_to_teams
        .expect("a Swyx to Teams sync");
    assert!(
        last.latency <= Duration::from_millis(500),
        "latency {:?}",
        last.latency
    );

    w.go(10_000);
    assert_eq!(w.engine.view().override_text, None);
    w.go(MIN + 59_000);
    assert_eq!(sets(&w), 1, "no re-post before 2 min");
    w.go(2 * MIN + 1000);
    assert_eq!(sets(&w), 2, "keep-alive at 2 min");
    w.go(3 * MIN + 59_000);
    assert_eq!(sets(&w), 2);
    w.go(4 * MIN + 1000);
    assert_eq!(sets(&w), 3, "keep-alive at 4 min");

    w.go(4 * MIN + 30_000);
    w.swyx_call(false);
    w.go(4 * MIN + 30_500);
    assert!(!w.app_session());
    assert_eq!(w.teams(), "Available/Available");
    assert_eq!(clears(&w), 1);
    assert!(!w.marker, "the marker goes with the session");
    w.go(7 * MIN);
    assert_eq!((sets(&w), clears(&w)), (3, 1));
    assert_eq!(
        w.swyx_writes, 0,
        "our own In a call never comes back to Swyx"
    );
    assert_eq!(w.swyx_status, Available);
    let history = w.engine.view().history;
    let to: Vec<&str> = history.iter().map(|e| e.to.as_str()).collect();
    assert_eq!(to, ["In a call", "In a call removed"]);
}

#[test]
fn manual_dnd_outranks_call_session() {
    let mut w = World::stopped(Settings::default(), "Available/Available", DoNotDisturb);
    w.set_preferred(Some("DoNotDisturb/DoNotDisturb"));
    w.start_app();
    w.go(0);
    w.swyx_call(true);
    w.go(500);
    assert!(w.app_session());
    assert_eq!(sets(&w), 1);
    w.go(1000);
    assert_eq!(
        w.engine.view().override_text,
        None,
        "no poll sent after the acknowledgement"
    );
    w.go(2_500);
    assert_eq!(w.engine.view().override_text, None, "one poll is too early");
    w.go(4500);
    let text = w
        .engine
        .view()
        .override_text
        .expect("override after two polls");
    assert!(text.contains("'Do not disturb'"), "{text}");
    w.go(MIN + 59_000);
    assert_eq!(sets(&w), 1, "no re-post per poll");
    w.go(2 * MIN + 4000);
    assert_eq!(sets(&w), 2);
    assert!(
        w.engine.view().override_text.is_some(),
        "the keep-alive keeps the override shown"
    );
    w.go(2 * MIN + 5000);
    w.swyx_call(false);
    w.go(2 * MIN + 5500);
    assert!(!w.app_session());
    assert_eq!(w.engine.view().override_text, None);
    assert_eq!(clears(&w), 1);
    w.go(2 * MIN + 30_000);
    assert_eq!(w.swyx_writes, 0);
    assert_eq!(w.swyx_status, DoNotDisturb);
}

#[test]
fn manual_dnd_during_call_shows_override() {
    let mut w = World::stopped(Settings::default(), "Available/Available", Available);
    w.start_app();
    w.go(0);
    w.swyx_call(true);
    w.go(5_000);
    assert!(w.app_session());
    assert_eq!(w.teams(), "Busy/InACall");
    assert_eq!(w.engine.view().override_text, None);

    // The user picks Do not disturb in Teams while the call goes on.
    w.set_preferred(Some("DoNotDisturb/DoNotDisturb"));
    w.go(10_000);
    let text = w
        .engine
        .view()
        .override_text
        .expect("override shown once Teams reads Do not disturb during the call");
    assert!(text.contains("'Do not disturb'"), "{text}");
    assert!(
        w.app_session(),
        "the call session stays for when the override ends"
    );
}

/// One step of the mapping-table scenario: Teams change, then the expected Swyx state 2.5 s later.
struct Step {
    teams: &'static str,
    out_of_office: bool,
    swyx: SwyxSettable,
    writes: u32,
}

const fn step(teams: &'static str, swyx: SwyxSettable, writes: u32) -> Step {
    Step {
        teams,
        out_of_office: false,
        swyx,
        writes,
    }
}

const fn ooo(teams: &'static str, swyx: SwyxSettable, writes: u32) -> Step {
    Step {
        teams,
        out_of_office: true,
        swyx,
        writes,
    }
}

#[test]
fn every_row_writes_once_and_no_sync_rows_write_nothing() {
    let steps = [
        step("Busy/Busy", Away, 1),
        step("Available/Available", Available, 2),
        step("Busy/InACall", Away, 3),
        step("DoNotDisturb/DoNotDisturb", DoNotDisturb, 4),
        step("Busy/InAConferenceCall", Away, 5),
        step("Available/OutOfOffice", Available, 6),
        step("Busy/InAMeeting", Away, 7),
        step("DoNotDisturb/Focusing", DoNotDisturb, 8),
        step("DoNotDisturb/Presenting", Away, 9),
        step("AvailableIdle/Available", Available, 10),
        step("Away/Away", Away, 11),
        ooo("Available/Available", Available, 12),
        ooo("Busy/InACall", Away, 13),
        step("DoNotDisturb/DoNotDisturb", DoNotDisturb, 14),
        step("BeRightBack/BeRightBack", Away, 15),
        step("Available/Available", Available, 16),
        step("Away/BeRightBack", Away, 17),
        step("DoNotDisturb/DoNotDisturb", DoNotDisturb, 18),
        step("Offline/OffWork", Away, 19),
        step("Available/Available", Available, 20),
        step("BusyIdle/Busy", Away, 21),
        step("DoNotDisturb/UrgentInterruptionsOnly", DoNotDisturb, 22),
        step("Away/Inactive", Away, 23),
        step("Available/Available", Available, 24),
        step("Available/AvailableInactive", Away, 25),
        step("Available/InAHuddle", Available, 26),
        step("Busy/InAHuddle", Away, 27),
        step("DoNotDisturb/InAHuddle", DoNotDisturb, 28),
        step("Away/InAHuddle", Away, 29),
        step("Available/Available", Available, 30),
        step("BeRightBack/InAHuddle", Away, 31),
        step("DoNotDisturb/DoNotDisturb", DoNotDisturb, 32),
        step("Offline/Offline", DoNotDisturb, 32),
        step("PresenceUnknown/PresenceUnknown", DoNotDisturb, 32),
        step("Offline/OutOfOffice", DoNotDisturb, 32),
        step("OutOfOffice/OutOfOffice", DoNotDisturb, 32),
        step("Offline/InAHuddle", DoNotDisturb, 32),
    ];
    let mut w = World::new("Available/Available", Available);
    let mut at = 5_000;
    for step in &steps {
        w.go(at);
        w.out_of_office = step.out_of_office;
        w.set_teams(step.teams);
        w.go(at + 2_500);
        assert_eq!(w.swyx_status, step.swyx, "Swyx after {}", step.teams);
        assert_eq!(w.swyx_writes, step.writes, "writes after {}", step.teams);
        at += 5_000;
    }

    // A hand-set status survives a further no-sync change.
    w.swyx_manual(Available);
    w.set_teams("PresenceUnknown/PresenceUnknown");
    w.go(at + 2_500);
    assert_eq!((w.swyx_status, w.swyx_writes), (Available, 32));

    // The first synchronised row after the no-sync stretch writes again.
    at += 5_000;
    w.go(at);
    w.set_teams("Busy/Busy");
    w.go(at + 2_500);
    assert_eq!((w.swyx_status, w.swyx_writes), (Away, 33));
    let last = w
        .engine
        .view()
        .last_teams_to_swyx
        .expect("a Teams to Swyx sync");
    assert!(
        last.latency <= Duration::from_millis(500),
        "latency {:?}",
        last.latency
    );
    assert_eq!((sets(&w), clears(&w)), (0, 0));

    // The history names the Teams status as the window shows it, not Graph's raw pair.
    let history = w.engine.view().history;
    let newest = history.last().expect("a history entry");
    assert_eq!(newest.from, "Busy");
    assert_eq!(newest.to, "Away");
    let urgent_only = history
        .iter()
        .find(|event| event.from == "Urgent interruptions only")
        .map(|event| event.to.as_str());
    assert_eq!(urgent_only, Some("Do not disturb"), "{history:?}");
}

#[test]
fn stale_session_is_cleared_at_start() {
    let mut w = World::new("Available/Available", Available);
    w.go(0);
    w.swyx_call(true);
    w.go(500);
    assert!(w.app_session());
    w.go(MIN);
    w.kill_app();
    w.go(MIN + 30_000);
    w.swyx_call(false);
    w.go(2 * MIN + 29_000);
    assert!(
        w.app_session(),
        "the killed app's session stays until its expiry"
    );
    w.go(2 * MIN + 30_000);
    w.start_app();
    w.go(2 * MIN + 31_000);
    assert!(!w.app_session());
    assert_eq!((sets(&w), clears(&w)), (1, 1));
    assert_eq!(w.swyx_writes, 0, "the stale In a call never reaches Swyx");
}

#[test]
fn restart_during_call_keeps_the_session() {
    let mut w = World::new("Available/Available", Available);
    w.go(0);
    w.swyx_call(true);
    w.go(30_000);
    w.kill_app();
    w.go(40_000);
    w.start_app();
    w.go(41_000);
    assert!(w.app_session());
    assert_eq!(
        clears(&w),
        0,
        "a call going on replaces the stale session instead"
    );
    w.go(5 * MIN + 10_000);
    assert!(w.app_session(), "the restarted app keeps the session alive");
    w.swyx_call(false);
    w.go(5 * MIN + 10_500);
    assert!(!w.app_session());
    assert_eq!(w.swyx_writes, 0);
}

#[test]
fn forbidden_write_is_not_retried() {
    let mut w = World::new("Available/Available", Available);
    w.go(5000);
    let forbidden = GraphFailure::Forbidden {
        reason: "missing scope".into(),
    };
    w.fault(Endpoint::SetPresence, Fault::Fail(forbidden), 1);
    w.swyx_call(true);
    w.go(6000);
    assert!(matches!(
        w.engine.view().health_teams,
        Health::Unavailable { .. }
    ));
    assert_eq!(sets(&w), 1);
    assert!(!w.app_session());
    w.go(20_000);
    w.set_teams("DoNotDisturb/DoNotDisturb");
    w.go(22_500);
    assert_eq!(
        (w.swyx_status, w.swyx_writes),
        (DoNotDisturb, 1),
        "reading goes on"
    );
    w.go(MIN + 30_000);
    assert_eq!(sets(&w), 1, "no retry during the call");
    assert_eq!(w.engine.view().override_text, None);
    w.go(MIN + 35_000);
    w.swyx_call(false);
    w.go(MIN + 40_000);
    w.set_teams("Available/Available");
    w.go(MIN + 45_000);
    assert_eq!((w.swyx_status, w.swyx_writes), (Available, 2));
    assert_eq!(clears(&w), 0, "a refused set left no session to clear");

    w.go(MIN + 50_000);
    w.feed(Input::SignedOut);
    w.go(MIN + 52_000);
    w.feed(Input::SignedIn);
    w.go(MIN + 57_000);
    assert_eq!(w.engine.view().health_teams, Health::Ok);
    w.go(2 * MIN);
    w.swyx_call(true);
    w.go(2 * MIN + 500);
    assert!(w.app_session());
    assert_eq!(sets(&w), 2);
}

#[test]
fn rejected_set_gets_no_retry_loop() {
    let mut w = World::new("Available/Available", Available);
    w.go(0);
    let rejected = GraphFailure::Rejected {
        reason: "bad session id".into(),
    };
    w.fault(Endpoint::SetPresence, Fault::Fail(rejected), 10);
    w.swyx_call(true);
    w.go(10_000);
    let view = w.engine.view();
    assert!(
        matches!(view.health_teams, Health::Unavailable { .. }),
        "{:?}",
        view.health_teams
    );
    assert_eq!(view.override_text, None);
    w.go(MIN + 50_000);
    assert_eq!(sets(&w), 1);
    w.swyx_call(false);
    w.go(2 * MIN);
    assert!(!w.app_session());
    assert_eq!(sets(&w), 1);
}

#[test]
fn revoked_sign_in_stops_graph_and_notifies_once() {
    let mut w = World::new("Available/Available", Available);
    w.go(10_000);
    w.refresh_revoked = true;
    w.go(13_000);
    let view = w.engine.view();
    assert_eq!(view.health_teams, Health::SignedOut);
    assert_eq!(view.health_swyx, Health::Ok);
    assert_eq!(w.notifications, [NotificationKind::SignIn]);
    let polls = w.polls;
    w.go(20_000);
    w.swyx_call(true);
    w.go(30_000);
    w.swyx_call(false);
    w.go(MIN);
    assert_eq!(w.polls, polls, "no poll while signed out");
    assert_eq!((sets(&w), clears(&w)), (0, 0));
    assert_eq!(w.notifications.len(), 1);

    w.refresh_revoked = false;
    w.feed(Input::SignedIn);
    w.go(MIN + 5000);
    assert_eq!(w.engine.view().health_teams, Health::Ok);
    assert!(w.polls > polls);
}

#[test]
fn revoked_during_call_leaves_the_session_to_expire() {
    let mut w = World::new("Available/Available", Available);
    w.go(0);
    w.swyx_call(true);
    w.go(500);
    assert!(w.app_session());
    w.go(30_000);
    w.refresh_revoked = true;
    w.go(35_000);
    assert_eq!(w.engine.view().health_teams, Health::SignedOut);
    w.swyx_call(false);
    w.go(6 * MIN);
    assert_eq!(clears(&w), 0, "no token, no clear");
    assert!(!w.app_session(), "the expiry ended it");
    assert_eq!(w.notifications, [NotificationKind::SignIn]);
}

#[test]
fn swyx_restart_reconciles_and_notifies_long_outage_once() {
    let mut w = World::new("Available/Available", Available);
    w.go(10_000);
    w.swyx_quit();
    w.go(13_000);
    assert!(matches!(
        w.engine.view().health_swyx,
        Health::Unavailable { .. }
    ));
    w.go(15_000);
    w.set_teams("Busy/InAMeeting");
    w.go(50_000);
    w.swyx_restart();
    w.go(58_000);
    assert_eq!(w.engine.view().health_swyx, Health::Ok);
    assert_eq!((w.swyx_status, w.swyx_writes), (Away, 1));
    assert!(w.notifications.is_empty(), "outage shorter than a minute");

    w.go(MIN + 10_000);
    w.swyx_quit();
    w.go(MIN + 15_000);
    w.set_teams("DoNotDisturb/DoNotDisturb");
    w.go(2 * MIN + 15_000);
    assert_eq!(w.notifications, [NotificationKind::SwyxGone]);
    w.go(2 * MIN + 20_000);
    w.swyx_restart();
    w.go(2 * MIN + 28_000);
    assert_eq!((w.swyx_status, w.swyx_writes), (DoNotDisturb, 2));
    assert_eq!(w.notifications.len(), 1);
    w.go(2 * MIN + 30_000);
    w.set_teams("Available/Available");
    w.go(2 * MIN + 32_500);
    assert_eq!((w.swyx_status, w.swyx_writes), (Available, 3));
}

#[test]
fn hung_poll_does_not_block_writes() {
    let mut w = World::new("Available/Available", Available);
    w.go(10_000);
    w.fault(Endpoint::Presence, Fault::Hang, 1);
    w.go(12_500);
    w.swyx_call(true);
    w.go(13_000);
    assert!(
        w.app_session(),
        "the write does not wait behind the hung poll"
    );
    let polls = w.polls;
    w.go(15_500);
    assert_eq!(w.polls, polls, "one poll in flight");
    w.go(16_000);
    w.swyx_call(false);
    w.go(16_500);
    assert!(!w.app_session());
    w.go(19_000);
    w.set_teams("DoNotDisturb/DoNotDisturb");
    w.go(21_500);
    assert_eq!((w.swyx_status, w.swyx_writes), (DoNotDisturb, 1));
    w.go(30_000);
    assert_eq!(w.engine.view().health_teams, Health::Ok);
}

#[test]
fn peer_session_maps_like_a_teams_call() {
    let mut w = World::stopped(Settings::default(), "Available/Available", Available);
    w.session_until = Some(ORIGIN + Duration::from_secs(3600));
    w.now = ORIGIN;
    w.go(30_000);
    w.start_app();
    w.go(34_000);
    assert!(w.app_session());
    assert_eq!((w.swyx_status, w.swyx_writes), (Away, 1));
    w.go(MIN);
    w.feed(Input::SetSync(false));
    w.go(MIN + 2000);
    assert!(w.app_session(), "a session we did not set is never cleared");
    w.go(MIN + 10_000);
    w.feed(Input::SetSync(true));
    w.go(MIN + 15_000);
    assert_eq!(w.swyx_writes, 1);
    w.go(MIN + 30_000);
    w.session_until = None;
    w.go(MIN + 32_500);
    assert_eq!((w.swyx_status, w.swyx_writes), (Available, 2));
    assert_eq!((sets(&w), clears(&w)), (0, 0));
}

#[test]
fn server_sync_with_same_mapping_is_a_shared_writer() {
    let mut w = World::new("Available/Available", Available);
    w.go(0);
    w.server_sync(Away, Duration::ZERO);
    for (at, teams, swyx) in [
        (3_000, "Busy/InAMeeting", Away),
        (13_000, "DoNotDisturb/DoNotDisturb", DoNotDisturb),
        (23_000, "Available/Available", Available),
        (33_000, "Busy/Busy", Away),
    ] {
        w.go(at);
        w.set_teams(teams);
        w.go(at + 2_500);
        assert_eq!(w.swyx_status, swyx, "after {teams}");
    }
    w.go(MIN);
    assert_eq!(w.swyx_writes, 0);
    let view = w.engine.view();
    assert_eq!(view.warnings, [Warning::SharedWriter]);
    assert!(w.notifications.is_empty());
    assert_eq!(view.health_swyx, Health::Ok);
}

#[test]
fn server_sync_with_other_mapping_is_a_conflict() {
    let mut w = World::new("Available/Available", Available);
    w.go(0);
    w.server_sync(DoNotDisturb, Duration::from_secs(3));
    let steps = [
        (1_000, "Busy/InACall", DoNotDisturb, 1),
        (11_000, "Available/Available", Available, 2),
        (21_000, "Busy/InACall", DoNotDisturb, 3),
        (31_000, "Available/Available", Available, 4),
        (41_000, "Busy/InACall", DoNotDisturb, 5),
        (51_000, "Available/Available", Available, 5),
        (61_000, "Busy/Busy", Away, 5),
    ];
    for (at, teams, swyx, writes) in steps {
        w.go(at);
        w.set_teams(teams);
        w.go(at + 7_000);
        assert_eq!(
            (w.swyx_status, w.swyx_writes),
            (swyx, writes),
            "after {teams} at {at}"
        );
        let conflict = w.engine.view().warnings.contains(&Warning::Conflict);
        assert_eq!(
            conflict,
            at >= 41_000,
            "conflict warning after {teams} at {at}"
        );
    }
    assert_eq!(w.notifications, [NotificationKind::Conflict]);

    // Resolving it brings Teams → Swyx back: Busy maps to Away, already shown.
    w.feed(Input::ResolveConflict);
    w.go(75_000);
    assert!(!w.engine.view().warnings.contains(&Warning::Conflict));
    w.set_teams("DoNotDisturb/DoNotDisturb");
    w.go(80_000);
    assert_eq!(
        (w.swyx_status, w.swyx_writes),
        (DoNotDisturb, 6),
        "the app writes again"
    );
    assert!(
        !w.engine.view().warnings.contains(&Warning::Conflict),
        "same status: no conflict"
    );
}

#[test]
fn manual_swyx_change_stays_until_teams_changes() {
    let mut w = World::new("Busy/Busy", Away);
    w.go(0);
    w.swyx_manual(DoNotDisturb);
    w.go(10_000);
    assert_eq!((w.swyx_status, w.swyx_writes), (DoNotDisturb, 0));
    // A Teams change with the same target is not a change of the target.
    w.set_teams("Busy/InAMeeting");
    w.go(15_000);
    assert_eq!((w.swyx_status, w.swyx_writes), (DoNotDisturb, 0));
    w.set_teams("Available/Available");
    w.go(20_000);
    assert_eq!((w.swyx_status, w.swyx_writes), (Available, 1));
}

#[test]
fn pause_holds_writes_and_resume_reconciles() {
    let mut w = World::new("Available/Available", Available);
    w.go(0);
    w.swyx_call(true);
    w.go(1000);
    assert!(w.app_session());
    w.feed(Input::PauseUntil(ORIGIN + Duration::from_secs(60)));
    w.go(2000);
    assert!(!w.app_session(), "pausing clears the own session");
    let polls = w.polls;
    w.set_teams("DoNotDisturb/DoNotDisturb");
    w.go(50_000);
    assert_eq!(w.swyx_writes, 0);
    assert_eq!(w.polls, polls, "no polling while paused");
    assert!(w.engine.view().paused_until.is_some());
    w.go(61_000);
    assert!(w.engine.view().paused_until.is_none());
    assert!(
        w.app_session(),
        "the call goes on, so the session is set again"
    );
    assert_eq!(w.swyx_writes, 0, "held while the own session exists");
    w.swyx_call(false);
    w.go(64_000);
    assert!(!w.app_session());
    assert_eq!(
        (w.swyx_status, w.swyx_writes),
        (DoNotDisturb, 1),
        "reconciled after the call"
    );

    w.feed(Input::PauseUntil(ORIGIN + Duration::from_secs(3600)));
    w.go(62_000);
    assert!(!w.app_session());
    w.swyx_call(false);
    w.set_teams("Available/Available");
    w.go(70_000);
    w.feed(Input::ResumeSync);
    w.go(71_000);
    assert_eq!((w.swyx_status, w.swyx_writes), (Available, 2));
    assert!(!w.app_session());
}

#[test]
fn direction_switches_act_independently() {
    let mut w = World::new("Available/Available", Available);
    w.go(0);
    w.feed(Input::SetDirection {
        direction: Direction::TeamsToSwyx,
        enabled: false,
    });
    w.set_teams("Busy/Busy");
    w.go(5000);
    assert_eq!(w.swyx_writes, 0);
    w.swyx_call(true);
    w.go(5500);
    assert!(w.app_session(), "Swyx to Teams still runs");
    w.feed(Input::SetDirection {
        direction: Direction::SwyxToTeams,
        enabled: false,
    });
    w.go(6000);
    assert!(
        !w.app_session(),
        "switching the direction off clears the session"
    );
    w.go(20_000);
    assert_eq!(sets(&w), 1);
    w.swyx_call(false);
    w.feed(Input::SetDirection {
        direction: Direction::TeamsToSwyx,
        enabled: true,
    });
    w.go(25_000);
    assert_eq!(
        (w.swyx_status, w.swyx_writes),
        (Away, 1),
        "the Teams change is reconciled"
    );
    w.feed(Input::SetDirection {
        direction: Direction::SwyxToTeams,
        enabled: true,
    });
    w.swyx_call(true);
    w.go(26_000);
    assert!(w.app_session());
}

#[test]
fn sign_out_mid_call_clears_first() {
    let mut w = World::new("Available/Available", Available);
    w.go(0);
    w.swyx_call(true);
    w.go(1000);
    assert!(w.app_session());
    w.feed(Input::SignedOut);
    w.go(1500);
    assert!(!w.app_session());
    assert_eq!(clears(&w), 1);
    let last_graph = w.log.iter().rev().find_map(|(_, a)| match a {
        Action::WriteGraph(write) => Some(*write),
        _ => None,
    });
    assert_eq!(last_graph, Some(GraphWrite::Clear));
    let polls = w.polls;
    w.go(MIN);
    assert_eq!(w.polls, polls);
    assert_eq!(sets(&w), 1);
    assert_eq!(w.engine.view().health_teams, Health::SignedOut);
}

#[test]
fn quitting_clears_the_session() {
    let mut w = World::new("Available/Available", Available);
    w.go(0);
    w.swyx_call(true);
    w.go(1000);
    w.feed(Input::Quitting);
    w.go(1500);
    assert!(!w.app_session());
    assert!(!w.marker);
    let polls = w.polls;
    w.go(MIN);
    assert_eq!((w.polls, sets(&w)), (polls, 1));
}

#[test]
fn suspend_and_resume_refresh_and_reconcile() {
    let mut w = World::new("Available/Available", Available);
    w.go(0);
    w.swyx_call(true);
    w.go(1000);
    w.feed(Input::Suspending);
    w.go(1500);
    assert!(!w.app_session(), "suspend clears the session");
    // The machine sleeps: no timers run, Teams and Swyx change meanwhile.
    w.swyx_call(false);
    w.now = ORIGIN + Duration::from_secs(3600);
    w.set_teams("Away/Away");
    w.feed(Input::Resumed);
    assert_eq!(w.refreshes, 1);
    w.go(3_600_000 + 1000);
    assert_eq!((w.swyx_status, w.swyx_writes), (Away, 1));
    assert!(!w.app_session());
}

#[test]
fn throttled_polls_double_the_interval_and_decay() {
    let mut w = World::new("Available/Available", Available);
    w.go(0);
    assert_eq!(w.engine.view().poll_interval, Duration::from_secs(2));
    let throttled = GraphFailure::Throttled {
        retry_after: Some(Duration::from_secs(7)),
    };
    w.fault(Endpoint::Presence, Fault::Fail(throttled), 1);
    w.go(2_500);
    let view = w.engine.view();
    assert_eq!(view.poll_interval, Duration::from_secs(4));
    assert_eq!(view.throttle_count, 1);
    assert!(matches!(view.health_teams, Health::Degraded { .. }));
    let polls = w.polls;
    w.go(8_000);
    assert_eq!(w.polls, polls, "Retry-After is honoured");
    w.go(10_000);
    assert_eq!(w.polls, polls + 1);
    assert_eq!(w.engine.view().health_teams, Health::Ok);
    // Polls now come every 4 s.
    let polls = w.polls;
    w.go(30_000);
    assert_eq!(w.polls, polls + 5);

    let no_retry_after = GraphFailure::Throttled { retry_after: None };
    w.fault(Endpoint::Presence, Fault::Fail(no_retry_after), 1);
    w.go(35_000);
    assert_eq!(w.engine.view().poll_interval, Duration::from_secs(8));
    // The second 429 answered the poll sent at 33.1 s (9.1 s + 6 × 4 s).
    w.go(33_000 + 5 * MIN);
    assert_eq!(
        w.engine.view().poll_interval,
        Duration::from_secs(8),
        "not yet 5 min"
    );
    w.go(34_000 + 5 * MIN);
    assert_eq!(
        w.engine.view().poll_interval,
        Duration::from_secs(4),
        "halved after 5 min"
    );
    w.go(34_000 + 10 * MIN);
    assert_eq!(w.engine.view().poll_interval, Duration::from_secs(2));
}

#[test]
fn interval_is_capped_at_five_minutes() {
    let mut w = World::new("Available/Available", Available);
    for _ in 0..12 {
        let throttled = GraphFailure::Throttled {
            retry_after: Some(Duration::from_secs(1)),
        };
        w.fault(Endpoint::Presence, Fault::Fail(throttled), 1);
        let next = w.now + Duration::from_secs(1);
        w.run_until(next);
    }
    assert_eq!(w.engine.view().poll_interval, Duration::from_secs(300));
}

#[test]
fn transient_failures_back_off_and_recover() {
    let mut w = World::new("Available/Available", Available);
    w.go(0);
    let failure = GraphFailure::Transient {
        reason: "502".into(),
    };
    w.fault(Endpoint::Presence, Fault::Fail(failure), 4);
    let start = w.now;
    w.go(60_000);
    let poll_times: Vec<u64> = w
        .log
        .iter()
        .filter(|(at, a)| *at >= start && *a == Action::PollTeams)
        .map(|(at, _)| (*at - start).as_millis() as u64)
        .take(7)
        .collect();
    // The poll at 0 was sent before the fault. Then the backoff waits 2, 4, 8, 16 s after each
    // failed answer (100 ms round trip), and the interval of 2 s follows the recovery.
    assert_eq!(poll_times, [0, 2_000, 4_100, 8_200, 16_300, 32_400, 34_400]);
    assert_eq!(w.engine.view().health_teams, Health::Ok);
}

#[test]
fn degraded_health_shows_the_next_retry() {
    let mut w = World::new("Available/Available", Available);
    let failure = GraphFailure::Transient {
        reason: "503".into(),
    };
    w.fault(Endpoint::Presence, Fault::Fail(failure), 1);
    w.go(2_500);
    match w.engine.view().health_teams {
        Health::Degraded { reason, next_retry } => {
            assert!(reason.contains("503"), "{reason}");
            assert!(next_retry.is_some_and(|at| at > w.now));
        }
        other => panic!("expected degraded, got {other:?}"),
    }
}

#[test]
fn throttled_write_retries_without_touching_the_interval() {
    let mut w = World::new("Available/Available", Available);
    w.go(0);
    let throttled = GraphFailure::Throttled {
        retry_after: Some(Duration::from_secs(3)),
    };
    w.fault(Endpoint::SetPresence, Fault::Fail(throttled), 1);
    w.swyx_call(true);
    w.go(1_000);
    assert!(!w.app_session());
    assert_eq!(w.engine.view().poll_interval, Duration::from_secs(2));
    w.go(3_500);
    assert!(w.app_session(), "retried after Retry-After");
    assert_eq!(sets(&w), 2);
    assert_eq!(w.engine.view().throttle_count, 1);
}

#[test]
fn set_no_longer_needed_is_dropped() {
    let mut w = World::new("Available/Available", Available);
    w.go(0);
    let failure = GraphFailure::Transient {
        reason: "timeout".into(),
    };
    w.fault(Endpoint::SetPresence, Fault::Fail(failure), 1);
    w.swyx_call(true);
    w.go(500);
    w.swyx_call(false);
    w.go(10_000);
    assert_eq!(sets(&w), 1, "the call ended before the retry: no set");
    // The lost set may have reached Graph, so one clear makes sure (a 404 counts as done).
    assert_eq!(
        clears(&w),
        1,
        "one clear for a set whose outcome is unknown"
    );
    assert!(!w.app_session());
}

#[test]
fn swyx_write_waits_for_graph_to_show_the_clear() {
    // Graph still shows our In a call after the clear: Teams → Swyx stays held, then writes
    // the target once the 10 s are over.
    let mut w = World::new("Available/Available", Available);
    w.go(0);
    w.swyx_call(true);
    w.go(1000);
    w.client = ("Busy".into(), "InACall".into());
    w.swyx_call(false);
    w.go(9_000);
    assert_eq!(
        w.swyx_writes, 0,
        "held while Graph may lag behind the clear"
    );
    // The hold ends at 11.1 s; the next poll (12 s) gives the target.
    w.go(13_000);
    assert_eq!(
        (w.swyx_status, w.swyx_writes),
        (Away, 1),
        "a Teams call after 10 s is real"
    );
}

#[test]
fn sequence_numbers_drop_older_answers() {
    let mut engine = Engine::new(Settings::default());
    let t = |ms: u64| Instant::from_millis(ms);
    engine.handle(
        t(0),
        Input::Started {
            stale_session_marker: false,
        },
    );
    engine.handle(t(0), Input::SignedIn);
    let observation = SwyxObservation {
        status: Available,
        speaking: false,
        caused_by_us: false,
    };
    engine.handle(
        t(0),
        Input::SwyxAttached {
            first_of_run: true,
            observation,
        },
    );
    let presence = |availability: &str, sequence: &str| TeamsPresence {
        availability: availability.into(),
        activity: availability.into(),
        is_out_of_office: false,
        sequence_number: Some(sequence.into()),
    };
    let poll = |engine: &mut Engine, at: u64, p: TeamsPresence| {
        engine.handle(t(at), Input::TeamsPollSent);
        engine.handle(
            t(at + 50),
            Input::TeamsPolled {
                sent_at: t(at),
                presence: p,
            },
        )
    };
    let applied = |engine: &Engine| engine.view().teams.map(|p| p.availability);
    poll(&mut engine, 0, presence("Available", "B005"));
    assert_eq!(applied(&engine).as_deref(), Some("Available"));
    poll(&mut engine, 2000, presence("Busy", "B004"));
    assert_eq!(
        applied(&engine).as_deref(),
        Some("Available"),
        "older: dropped"
    );
    poll(&mut engine, 4000, presence("Away", "B003"));
    assert_eq!(
        applied(&engine).as_deref(),
        Some("Available"),
        "older again: dropped"
    );
    let actions = poll(&mut engine, 6000, presence("Busy", "B002"));
    assert_eq!(
        applied(&engine).as_deref(),
        Some("Busy"),
        "the third in a row is applied"
    );
    assert!(actions.contains(&Action::WriteSwyx(Away)));
    engine.handle(
        t(6100),
        Input::SwyxWriteDone {
            target: Away,
            sent_at: t(6060),
            result: Ok(()),
        },
    );
    poll(&mut engine, 8000, presence("Available", "B003"));
    assert_eq!(
        applied(&engine).as_deref(),
        Some("Available"),
        "the sequence restarted"
    );
    // An equal value is not older.
    poll(&mut engine, 9000, presence("DoNotDisturb", "B003"));
    assert_eq!(applied(&engine).as_deref(), Some("DoNotDisturb"));
    // Different lengths, or a missing value, are not compared.
    poll(&mut engine, 10000, presence("Busy", "A9"));
    assert_eq!(applied(&engine).as_deref(), Some("Busy"));
    let mut no_sequence = presence("Away", "");
    no_sequence.sequence_number = None;
    poll(&mut engine, 12000, no_sequence);
    assert_eq!(applied(&engine).as_deref(), Some("Away"));
}

#[test]
fn unknown_values_are_reported_once() {
    let mut w = World::new("Available/Available", Available);
    w.go(0);
    let body = |availability: &str, activity: &str| TeamsPresence {
        availability: availability.into(),
        activity: activity.into(),
        ..TeamsPresence::default()
    };
    w.fault(
        Endpoint::Presence,
        Fault::Body(body("Busy", "InAHuddle")),
        2,
    );
    w.go(5_000);
    w.fault(
        Endpoint::Presence,
        Fault::Body(body("Huddling", "inahuddle")),
        1,
    );
    w.go(9_000);
    let unknown = w.engine.take_unknown_values();
    let values: Vec<(UnknownField, &str)> = unknown
        .iter()
        .map(|u| (u.field, u.value.as_str()))
        .collect();
    assert_eq!(
        values,
        [
            (UnknownField::Activity, "InAHuddle"),
            (UnknownField::Availability, "Huddling")
        ]
    );
    assert!(w.engine.take_unknown_values().is_empty());
    assert_eq!(
        (w.swyx_status, w.swyx_writes),
        (Available, 2),
        "Away, then back"
    );
}

#[test]
fn malformed_poll_is_a_failed_poll() {
    let mut w = World::new("Busy/Busy", Away);
    w.go(0);
    let malformed = GraphFailure::Malformed {
        reason: "expected a string".into(),
    };
    w.fault(Endpoint::Presence, Fault::Fail(malformed), 1);
    w.go(2_500);
    assert!(matches!(
        w.engine.view().health_teams,
        Health::Degraded { .. }
    ));
    w.go(5_000);
    assert_eq!(w.engine.view().health_teams, Health::Ok);
    assert_eq!(w.swyx_writes, 0);
}

#[test]
fn speaking_at_attach_sets_the_session() {
    let mut w = World::stopped(Settings::default(), "Available/Available", Available);
    w.speaking = true;
    w.start_app();
    w.run_until(Instant::from_millis(500));
    assert!(w.app_session());
    assert_eq!(sets(&w), 1);
}

#[test]
fn swyx_health_follows_the_adapter() {
    let mut w = World::new("Available/Available", Available);
    w.feed(Input::SwyxUnavailable(SwyxUnavailable::LoggedOff));
    let view = w.engine.view();
    assert!(matches!(view.health_swyx, Health::Unavailable { .. }));
    assert_eq!(view.swyx, Some(SwyxStatus::LoggedOff));
    w.feed(Input::SwyxUnavailable(SwyxUnavailable::ServerDown));
    match w.engine.view().health_swyx {
        Health::Degraded { next_retry, .. } => {
            assert_eq!(next_retry, Some(w.now + Duration::from_secs(3)));
        }
        other => panic!("expected degraded, got {other:?}"),
    }
}

#[test]
fn speaking_substitute_label_and_setting() {
    let settings = Settings {
        speaking_substitute: DoNotDisturb,
        ..Settings::default()
    };
    let mut w = World::with(settings, "Available/Available", Available);
    w.go(0);
    w.set_teams("Busy/InACall");
    w.go(2_500);
    assert_eq!((w.swyx_status, w.swyx_writes), (DoNotDisturb, 1));
    let view = w.engine.view();
    assert_eq!(
        view.swyx_label.as_deref(),
        Some("Speaking (shown in Swyx as Do not disturb)")
    );
    assert_eq!(view.teams_label.as_deref(), Some("In a call"));
    assert_eq!(view.target, Some(SwyxTarget::Speaking));
}

#[test]
fn dnd_switch_off_leaves_swyx_alone() {
    let settings = Settings {
        dnd_sets_dnd: false,
        ..Settings::default()
    };
    let mut w = World::with(settings, "Available/Available", Available);
    w.go(0);
    w.set_teams("DoNotDisturb/DoNotDisturb");
    w.go(2_500);
    assert_eq!((w.swyx_status, w.swyx_writes), (Available, 0));
    w.feed(Input::ChangeSettings(Settings::default()));
    w.go(3_000);
    assert_eq!(
        (w.swyx_status, w.swyx_writes),
        (DoNotDisturb, 1),
        "switched on: reconciled"
    );
}

#[test]
fn history_keeps_the_last_twenty() {
    let mut w = World::new("Available/Available", Available);
    let mut at = 0;
    for i in 0..30 {
        w.go(at);
        w.set_teams(if i % 2 == 0 {
            "Busy/Busy"
        } else {
            "Available/Available"
        });
        at += 3_000;
    }
    w.go(at);
    let history = w.engine.view().history;
    assert_eq!(history.len(), 20);
    assert!(
        history.windows(2).all(|pair| pair[0].at <= pair[1].at),
        "newest last"
    );
    assert_eq!(history.last().map(|e| e.to.as_str()), Some("Available"));
}

#[test]
fn refused_clear_holds_until_session_expiry() {
    // A refused clear leaves our session in Graph until it expires; writing its In a call to
    // Swyx after 10 s would echo it.
    let mut w = World::new("Available/Available", Available);
    w.go(0);
    w.swyx_call(true);
    w.go(1_000);
    let forbidden = GraphFailure::Forbidden {
        reason: "missing scope".into(),
    };
    w.fault(Endpoint::ClearPresence, Fault::Fail(forbidden), 1);
    w.swyx_call(false);
    w.go(4 * MIN);
    assert!(w.app_session());
    assert_eq!(w.swyx_writes, 0);
    w.go(6 * MIN);
    assert!(!w.app_session(), "expired");
    assert_eq!(w.swyx_writes, 0, "Available was never left");
    assert_eq!(clears(&w), 1, "no retry loop");
}

#[test]
fn unanswered_set_after_a_refused_clear_is_cleared_at_quit() {
    // A clear was refused, then a new call's set went out and got no answer. That set may have
    // made a new session, so the quit must try to clear it, once.
    let mut w = World::new("Available/Available", Available);
    w.go(0);
    w.swyx_call(true);
    w.go(1_000);
    let forbidden = GraphFailure::Forbidden {
        reason: "missing scope".into(),
    };
    w.fault(Endpoint::ClearPresence, Fault::Fail(forbidden), 1);
    w.swyx_call(false);
    w.go(2_000);
    assert_eq!(clears(&w), 1);
    let throttled = GraphFailure::Throttled { retry_after: None };
    w.fault(Endpoint::SetPresence, Fault::Fail(throttled), 1);
    w.swyx_call(true);
    w.go(2_100);
    assert_eq!(sets(&w), 2);
    w.feed(Input::Quitting);
    w.go(12_000);
    assert_eq!(
        clears(&w),
        2,
        "the quit clears the session the set may have made"
    );
    assert!(!w.engine.session_may_exist());
}

#[test]
fn hold_timeout_waits_for_a_poll_after_the_clear() {
    // A poll sent before the clear showed our In a call; when the 10 s end without a newer
    // poll, that old answer must not be written.
    let mut w = World::new("Available/Available", Available);
    w.go(0);
    w.swyx_call(true);
    w.go(2_000);
    let throttled = GraphFailure::Throttled {
        retry_after: Some(Duration::from_secs(30)),
    };
    w.fault(Endpoint::Presence, Fault::Fail(throttled), 1);
    w.swyx_call(false);
    w.go(20_000);
    assert_eq!(
        w.swyx_writes, 0,
        "no write from a poll older than the clear"
    );
    w.go(40_000);
    assert_eq!(w.swyx_writes, 0, "the next poll shows Available");
}

#[test]
fn jitter_sample_scales_the_next_poll() {
    let mut w = World::new("Available/Available", Available);
    w.feed(Input::JitterSample { permille: 100 });
    let start = w.log.len();
    w.go(10_000);
    let polls: Vec<Instant> = w.log[start..]
        .iter()
        .filter(|(_, a)| *a == Action::PollTeams)
        .map(|(at, _)| *at)
        .collect();
    let gaps: Vec<u128> = polls
        .windows(2)
        .map(|p| (p[1] - p[0]).as_millis())
        .collect();
    assert!(!gaps.is_empty());
    assert!(gaps.iter().all(|&gap| gap == 2_200), "{gaps:?}");
}

#[test]
fn identity_mismatch_is_a_warning() {
    let mut w = World::new("Available/Available", Available);
    w.feed(Input::IdentityMismatch(true));
    assert_eq!(w.engine.view().warnings, [Warning::IdentityMismatch]);
    assert_eq!(w.engine.view().health_teams, Health::Ok);
    w.feed(Input::IdentityMismatch(false));
    assert!(w.engine.view().warnings.is_empty());
}

#[test]
fn stale_marker_cleared_when_swyx_is_gone() {
    let mut w = World::stopped(Settings::default(), "Available/Available", Available);
    w.marker = true;
    w.swyx_running = false;
    w.session_until = Some(Instant::from_millis(200_000));
    w.start_app();
    w.run_until(Instant::from_millis(1_000));
    assert_eq!(w.clear_calls, 1);
    assert!(!w.app_session());
    assert!(!w.marker);
    let history = w.engine.view().history;
    assert_eq!(
        history.last().map(|e| e.from.as_str()),
        Some("Session left by the previous run")
    );
}

#[test]
fn failed_swyx_write_is_retried() {
    let mut w = World::new("Available/Available", Available);
    w.go(0);
    w.swyx_running = false;
    w.set_teams("Busy/Busy");
    w.go(2_100);
    match w.engine.view().health_swyx {
        Health::Degraded { reason, next_retry } => {
            assert!(reason.contains("not running"), "{reason}");
            assert!(next_retry.is_some());
        }
        other => panic!("expected degraded, got {other:?}"),
    }
    let attempts = |w: &World| {
        w.log
            .iter()
            .filter(|(_, a)| matches!(a, Action::WriteSwyx(_)))
            .count()
    };
    assert_eq!(attempts(&w), 1, "no new attempt before the retry delay");
    w.swyx_running = true;
    w.go(6_000);
    assert_eq!(attempts(&w), 2, "one retry after 3 s");
    assert_eq!((w.swyx_status, w.swyx_writes), (Away, 1));
    // The latency counts from the first poll that showed Busy, retries included.
    let last = w
        .engine
        .view()
        .last_teams_to_swyx
        .expect("a Teams to Swyx sync");
    assert!(
        last.latency >= Duration::from_secs(3),
        "latency {:?}",
        last.latency
    );
    assert_eq!(w.engine.view().health_swyx, Health::Ok);
}

#[test]
fn late_poll_response_keeps_one_in_flight() {
    let mut engine = Engine::new(Settings::default());
    let t = Instant::from_millis;
    engine.handle(
        t(0),
        Input::Started {
            stale_session_marker: false,
        },
    );
    let first = engine.handle(t(0), Input::SignedIn);
    assert!(first.contains(&Action::PollTeams));
    // The machine sleeps with that poll out; after the resume a new poll goes out at once.
    let resumed = engine.handle(t(60_000), Input::Resumed);
    assert!(resumed.contains(&Action::PollTeams));
    let presence = TeamsPresence {
        availability: "Available".into(),
        activity: "Available".into(),
        ..TeamsPresence::default()
    };
    let late = engine.handle(
        t(60_100),
        Input::TeamsPolled {
            sent_at: t(0),
            presence,
        },
    );
    assert!(
        !late.contains(&Action::PollTeams),
        "the resumed poll is still in flight"
    );
    let tick = engine.handle(t(65_000), Input::Tick);
    assert!(!tick.contains(&Action::PollTeams), "one poll in flight");
}

#[test]
fn busy_after_the_call_ends_the_hold_at_once() {
    // Busy/Busy is not our In a call: the first poll after the clear ends the hold, so Busy is
    // written within one poll interval instead of after 10 s.
    let mut w = World::new("Available/Available", Available);
    w.go(0);
    w.swyx_call(true);
    w.go(1_000);
    w.client = ("Busy".into(), "Busy".into());
    w.swyx_call(false);
    w.go(3_500);
    assert_eq!((w.swyx_status, w.swyx_writes), (Away, 1));
}

#[test]
fn sync_off_stops_both_directions() {
    let mut w = World::new("Available/Available", Available);
    w.go(0);
    w.swyx_call(true);
    w.go(1_000);
    assert!(w.app_session());
    w.feed(Input::SetSync(false));
    w.go(2_000);
    assert!(
        !w.app_session(),
        "switching sync off clears the own session"
    );
    let history = w.engine.view().history;
    assert_eq!(
        history.last().map(|e| e.from.as_str()),
        Some("Sync switched off")
    );
    let polls = w.polls;
    w.set_teams("DoNotDisturb/DoNotDisturb");
    w.go(30_000);
    assert_eq!(w.polls, polls, "no polling while sync is off");
    assert_eq!((w.swyx_writes, sets(&w)), (0, 1));
    assert!(!w.engine.view().sync_enabled);

    w.feed(Input::SetSync(true));
    w.go(31_000);
    assert!(w.app_session(), "the call goes on: set again");
    w.swyx_call(false);
    w.go(34_000);
    assert_eq!(
        (w.swyx_status, w.swyx_writes),
        (DoNotDisturb, 1),
        "reconciled"
    );
}

#[test]
fn pause_during_call_marks_teams_and_reports_the_new_set() {
    let mut w = World::new("Available/Available", Available);
    w.go(0);
    w.swyx_call(true);
    w.go(3_000);
    assert!(w.engine.view().teams_current);
    assert_eq!(w.engine.view().teams_label.as_deref(), Some("In a call"));
    w.feed(Input::PauseUntil(w.now + Duration::from_secs(600)));
    w.go(4_000);
    assert!(!w.app_session(), "the pause clears the own session");
    let view = w.engine.view();
    assert!(!view.teams_current, "no poll read Teams since the clear");
    assert_eq!(
        view.teams_label, None,
        "the In a call that the app removed is not shown as Teams' status"
    );
    w.feed(Input::ResumeSync);
    w.go(10_000);
    assert!(w.app_session(), "the call goes on: set again");
    let view = w.engine.view();
    assert!(view.teams_current);
    let rows: Vec<(&str, &str)> = view
        .history
        .iter()
        .map(|event| (event.from.as_str(), event.to.as_str()))
        .collect();
    assert_eq!(
        rows,
        [
            ("Speaking", "In a call"),
            ("Sync paused", "In a call removed"),
            ("Speaking", "In a call")
        ]
    );
    let last = view.history.last().expect("the new set");
    assert!(
        last.latency < Duration::from_secs(3),
        "latency from the resume: {:?}",
        last.latency
    );
}

#[test]
fn sign_out_after_expiry_sends_no_clear() {
    let mut w = World::new("Available/Available", Available);
    w.go(0);
    w.swyx_call(true);
    w.go(1_000);
    w.refresh_revoked = true;
    w.go(5_000);
    assert_eq!(w.engine.view().health_teams, Health::SignedOut);
    w.feed(Input::SignedOut);
    w.go(10_000);
    assert_eq!(clears(&w), 0, "no token left to clear with");
}

#[test]
fn direction_off_names_the_clear_source() {
    let mut w = World::new("Available/Available", Available);
    w.go(0);
    w.swyx_call(true);
    w.go(1_000);
    w.feed(Input::SetDirection {
        direction: Direction::SwyxToTeams,
        enabled: false,
    });
    w.go(2_000);
    let history = w.engine.view().history;
    assert_eq!(
        history.last().map(|e| e.from.as_str()),
        Some("Sync switched off")
    );
    // Switching it on again is no new clear source: the call end names itself.
    w.feed(Input::SetDirection {
        direction: Direction::SwyxToTeams,
        enabled: true,
    });
    w.go(3_000);
    w.swyx_call(false);
    w.go(4_000);
    let history = w.engine.view().history;
    assert_eq!(
        history.last().map(|e| e.from.as_str()),
        Some("Speaking ended")
    );
}

#[test]
fn lost_requests_are_given_up() {
    let mut engine = Engine::new(Settings::default());
    let t = Instant::from_millis;
    engine.handle(
        t(0),
        Input::Started {
            stale_session_marker: false,
        },
    );
    let first = engine.handle(t(0), Input::SignedIn);
    assert!(first.contains(&Action::PollTeams));
    // The driver waits its start delay, sends the poll, and then never reports it.
    engine.handle(t(10_000), Input::TeamsPollSent);
    engine.handle(t(31_000), Input::Tick);
    let health = engine.view().health_teams;
    assert_eq!(
        health,
        Health::Ok,
        "30 s count from the send, not the request"
    );
    let before = engine.handle(t(39_000), Input::Tick);
    assert!(
        !before.contains(&Action::PollTeams),
        "counted from the send, not the request"
    );
    engine.handle(t(40_000), Input::Tick);
    assert!(matches!(
        engine.view().health_teams,
        Health::Degraded { .. }
    ));
    let retry = engine.handle(t(42_000), Input::Tick);
    assert!(
        retry.contains(&Action::PollTeams),
        "a new poll after the backoff"
    );

    // A set that is never answered may have reached Graph: it is tried again.
    let observation = SwyxObservation {
        status: Available,
        speaking: true,
        caused_by_us: false,
    };
    let attach = Input::SwyxAttached {
        first_of_run: true,
        observation,
    };
    let set = engine.handle(t(50_000), attach);
    assert!(set.contains(&Action::WriteGraph(GraphWrite::SetInACall)));
    // The call ends while the set is still out: once the set counts as lost, it may have
    // reached Graph, so a clear follows.
    let ended = SwyxObservation {
        status: Available,
        speaking: false,
        caused_by_us: false,
    };
    let waiting = engine.handle(t(79_000), Input::SwyxObserved(ended));
    assert!(!waiting.iter().any(|a| matches!(a, Action::WriteGraph(_))));
    let lost = engine.handle(t(80_000), Input::Tick);
    assert!(lost.contains(&Action::WriteGraph(GraphWrite::Clear)));
}

#[test]
fn distinct_unknown_activities_are_each_reported() {
    let mut w = World::new("Available/Available", Available);
    let body = |activity: &str| TeamsPresence {
        availability: "Busy".into(),
        activity: activity.into(),
        ..TeamsPresence::default()
    };
    w.fault(Endpoint::Presence, Fault::Body(body("InAHuddle")), 1);
    w.go(3_000);
    w.fault(Endpoint::Presence, Fault::Body(body("OnABreak")), 1);
    w.go(6_000);
    let values: Vec<String> = w
        .engine
        .take_unknown_values()
        .into_iter()
        .map(|u| u.value)
        .collect();
    assert_eq!(values, ["InAHuddle", "OnABreak"]);
}

#[test]
fn override_counts_polls_sent_after_the_acknowledgement() {
    let mut engine = Engine::new(Settings::default());
    let t = Instant::from_millis;
    engine.handle(
        t(0),
        Input::Started {
            stale_session_marker: false,
        },
    );
    engine.handle(t(0), Input::SignedIn);
    let observation = SwyxObservation {
        status: DoNotDisturb,
        speaking: true,
        caused_by_us: false,
    };
    engine.handle(
        t(0),
        Input::SwyxAttached {
            first_of_run: true,
            observation,
        },
    );
    let dnd = TeamsPresence {
        availability: "DoNotDisturb".into(),
        activity: "DoNotDisturb".into(),
        ..TeamsPresence::default()
    };
    let polled = |sent_at: u64| Input::TeamsPolled {
        sent_at: t(sent_at),
        presence: dnd.clone(),
    };
    let acknowledged = Input::GraphWriteDone {
        write: GraphWrite::SetInACall,
        sent_at: t(0),
        result: GraphWriteResult::Acknowledged,
    };
    engine.handle(t(100), acknowledged);
    // Sent before the acknowledgement, answered after it: not one of the two.
    engine.handle(t(300), polled(50));
    engine.handle(t(2_050), polled(2_000));
    assert_eq!(engine.view().override_text, None);
    // Sent at the acknowledgement's instant: the second.
    engine.handle(t(2_200), polled(100));
    let text = engine
        .view()
        .override_text
        .expect("override after two polls");
    assert!(text.contains("'Do not disturb'"), "{text}");
}

#[test]
fn unanswered_swyx_write_is_not_repeated_at_once() {
    let mut engine = Engine::new(Settings::default());
    let t = Instant::from_millis;
    engine.handle(
        t(0),
        Input::Started {
            stale_session_marker: false,
        },
    );
    engine.handle(t(0), Input::SignedIn);
    let observation = SwyxObservation {
        status: Available,
        speaking: false,
        caused_by_us: false,
    };
    engine.handle(
        t(0),
        Input::SwyxAttached {
            first_of_run: true,
            observation,
        },
    );
    engine.handle(t(0), Input::TeamsPollSent);
    let busy = TeamsPresence {
        availability: "Busy".into(),
        activity: "Busy".into(),
        ..TeamsPresence::default()
    };
    let polled = engine.handle(
        t(100),
        Input::TeamsPolled {
            sent_at: t(0),
            presence: busy,
        },
    );
    assert!(polled.contains(&Action::WriteSwyx(Away)));
    let writes = |actions: &[Action]| {
        actions
            .iter()
            .filter(|a| matches!(a, Action::WriteSwyx(_)))
            .count()
    };
    assert_eq!(
        writes(&engine.handle(t(1_000), Input::Tick)),
        0,
        "still in flight"
    );
    assert_eq!(
        writes(&engine.handle(t(29_000), Input::Tick)),
        0,
        "still in flight"
    );
    assert_eq!(
        writes(&engine.handle(t(30_100), Input::Tick)),
        1,
        "given up and written again"
    );
}
