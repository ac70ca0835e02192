//! The adapter against the SwyxIt! simulator, through the automation traits, on a manual clock.

mod common;

use std::time::Duration;

use common::{attaches, is_detached, observed, unavailable, Harness};
use engine::{SwyxObservation, SwyxSettable, SwyxUnavailable};
use swyx::automation::AutomationError;
use swyx::simulator::{CallAction, EmailMember, FlagType, Members, WriteOrigin};
use swyx::{AdapterOptions, AwayWrite, SpeakingSources, SwyxError, SwyxEvent};

const AVAILABLE: SwyxSettable = SwyxSettable::Available;
const AWAY: SwyxSettable = SwyxSettable::Away;
const DND: SwyxSettable = SwyxSettable::DoNotDisturb;

#[tokio::test]
async fn attach_reports_identity_sources_and_state() {
    let mut harness = Harness::start_with(AdapterOptions::default(), |control| {
        control.set_status(AWAY);
    })
    .await;

    let events = harness.events();
    assert_eq!(events.len(), 1, "{events:?}");
    let SwyxEvent::Attached {
        first_of_run,
        observation,
        identity,
    } = &events[0]
    else {
        panic!("expected an attach, got {events:?}");
    };
    assert!(first_of_run);
    assert_eq!(
        *observation,
        SwyxObservation {
            status: AWAY,
            speaking: false,
            caused_by_us: false
        }
    );
    assert_eq!(identity.email.as_deref(), Some("alex.demo@contoso.example"));
    assert_eq!(identity.user.as_deref(), Some("Alex Demo"));
    assert_eq!(identity.server.as_deref(), Some("swyx.contoso.example"));
    assert_eq!(
        identity.speaking_sources,
        SpeakingSources {
            local_lines: true,
            server_presence: true
        }
    );
}

#[tokio::test]
async fn attach_never_logs_on_or_off() {
    let mut harness = Harness::start().await;
    harness.control.logoff();
    harness.advance(Duration::from_secs(10)).await;
    harness.control.logon();
    harness.settle().await;
    harness.control.quit();
    harness.advance(Duration::from_secs(10)).await;
    harness.control.restart();
    harness.advance(Duration::from_secs(10)).await;
    harness.handle.write(DND).await.unwrap();

    assert_eq!(harness.control.session_calls(), Vec::<String>::new());
    assert_eq!(attaches(&harness.events()).len(), 3);
}

#[tokio::test]
async fn not_running_at_start_retries_every_three_seconds() {
    let mut harness =
        Harness::start_with(AdapterOptions::default(), |control| control.quit()).await;
    assert_eq!(
        harness.events(),
        vec![unavailable(SwyxUnavailable::NotRunning)]
    );

    harness.advance(Duration::from_secs(9)).await;
    let attempts: Vec<u128> = harness
        .control
        .connect_attempts()
        .iter()
        .map(|at| at.since_start().as_millis())
        .collect();
    assert_eq!(attempts, vec![0, 3000, 6000, 9000]);
    // The unavailability is reported once, not on every attempt.
    assert_eq!(harness.events(), Vec::new());

    harness.control.restart();
    harness.advance_ms(2999).await;
    assert_eq!(harness.events(), Vec::new());
    harness.advance_ms(1).await;
    let events = harness.events();
    assert_eq!(attaches(&events).len(), 1, "{events:?}");
    assert!(attaches(&events)[0].0, "the first attach of the run");
}

#[tokio::test]
async fn quit_and_restart_reattach_as_reconciliation() {
    let mut harness = Harness::start().await;
    harness.events();

    harness.control.quit();
    harness.settle().await;
    let events = harness.events();
    assert_eq!(events.len(), 1, "{events:?}");
    assert!(is_detached(&events[0]), "{events:?}");
    assert_eq!(harness.control.live_connections(), 0);

    harness.advance(Duration::from_secs(3)).await;
    assert_eq!(
        harness.events(),
        vec![unavailable(SwyxUnavailable::NotRunning)]
    );

    harness.control.set_status(DND);
    harness.control.restart();
    harness.advance(Duration::from_secs(3)).await;
    let events = harness.events();
    let reattached = attaches(&events);
    assert_eq!(reattached.len(), 1, "{events:?}");
    assert!(
        !reattached[0].0,
        "a later attach is not the first of the run"
    );
    assert_eq!(reattached[0].1.status, DND);
    assert_eq!(harness.control.live_connections(), 1);
}

#[tokio::test]
async fn every_line_state_maps_to_speaking() {
    // Known states 0–15 plus numbers no client is known to send.
    let cases: &[(i32, bool)] = &[
        (0, false),
        (1, false),
        (2, false),
        (3, false),
        (4, false),
        (5, false),
        (6, false),
        (7, false),
        (8, true),
        (9, true),
        (10, true),
        (11, true),
        (12, false),
        (13, true),
        (14, false),
        (15, true),
        (16, false),
        (42, false),
        (-1, false),
    ];
    let harness = Harness::start_with(AdapterOptions::default(), |control| {
        // Only the local lines decide here: the server's view is tested on its own.
        control.set_members(Members {
            own_presence_info: false,
            ..Members::default()
        });
    })
    .await;
    let mut harness = harness;
    harness.events();
    let mut speaking = false;

    async fn check(harness: &mut Harness, speaking: &mut bool, state: i32, expected: bool) {
        harness.control.set_line_state(1, state);
        harness.settle().await;
        let events = harness.events();
        if expected == *speaking {
            assert_eq!(events, Vec::new(), "line state {state}");
        } else {
            assert_eq!(
                events,
                vec![observed(AVAILABLE, expected, false)],
                "line state {state}"
            );
        }
        *speaking = expected;
    }
    for (state, expected) in cases {
        check(&mut harness, &mut speaking, *state, *expected).await;
    }
}

#[tokio::test]
async fn hold_conference_transfer_stay_speaking() {
    let mut harness = Harness::start().await;
    harness.events();

    harness.control.call(1, CallAction::Start);
    harness.settle().await;
    assert_eq!(harness.events(), vec![observed(AVAILABLE, true, false)]);

    for action in [
        CallAction::Hold,
        CallAction::Resume,
        CallAction::Conference,
        CallAction::Transfer,
    ] {
        harness.control.call(1, action);
        harness.settle().await;
        assert_eq!(harness.events(), Vec::new(), "{action:?} keeps Speaking");
        harness.advance(Duration::from_secs(2)).await;
        assert_eq!(harness.events(), Vec::new(), "{action:?} after polls");
    }

    harness.control.call(1, CallAction::End);
    harness.settle().await;
    assert_eq!(harness.events(), vec![observed(AVAILABLE, false, false)]);
}

#[tokio::test]
async fn second_line_keeps_speaking_until_both_end() {
    let mut harness = Harness::start().await;
    harness.events();

    harness.control.call(1, CallAction::Start);
    harness.control.call(2, CallAction::Start);
    harness.control.call(1, CallAction::End);
    harness.settle().await;
    assert_eq!(harness.events(), vec![observed(AVAILABLE, true, false)]);

    harness.control.call(2, CallAction::End);
    harness.settle().await;
    assert_eq!(harness.events(), vec![observed(AVAILABLE, false, false)]);
}

#[tokio::test]
async fn call_on_other_device_counts_as_speaking() {
    let mut harness = Harness::start().await;
    harness.events();

    harness.control.set_other_device_call(true);
    harness.settle().await;
    assert_eq!(harness.events(), vec![observed(AVAILABLE, true, false)]);
    assert_eq!(
        harness.control.lines(),
        vec![0, 0],
        "the local lines stay idle"
    );

    harness.control.set_other_device_call(false);
    harness.settle().await;
    assert_eq!(harness.events(), vec![observed(AVAILABLE, false, false)]);
}

#[tokio::test]
async fn other_device_call_unseen_without_presence_info() {
    let mut harness = Harness::start_with(AdapterOptions::default(), |control| {
        control.set_members(Members {
            own_presence_info: false,
            ..Members::default()
        });
    })
    .await;
    let events = harness.events();
    let SwyxEvent::Attached { identity, .. } = &events[0] else {
        panic!("{events:?}")
    };
    assert_eq!(
        identity.speaking_sources,
        SpeakingSources {
            local_lines: true,
            server_presence: false
        }
    );

    harness.control.set_other_device_call(true);
    harness.advance(Duration::from_secs(2)).await;
    assert_eq!(
        harness.events(),
        Vec::new(),
        "only the server reports a desk-phone call"
    );

    harness.control.call(1, CallAction::Start);
    harness.settle().await;
    assert_eq!(harness.events(), vec![observed(AVAILABLE, true, false)]);
}

#[tokio::test]
async fn manual_status_changes_are_not_ours() {
    let mut harness = Harness::start().await;
    harness.events();

    for status in [AWAY, DND, AVAILABLE, DND] {
        harness.control.set_status(status);
        harness.settle().await;
        assert_eq!(
            harness.events(),
            vec![observed(status, false, false)],
            "{status:?}"
        );
    }
    assert_eq!(harness.control.app_write_count(), 0);
}

#[tokio::test]
async fn own_write_is_recognised_once() {
    let mut harness = Harness::start().await;
    harness.events();
    harness.advance_ms(500).await;

    harness.handle.write(AWAY).await.unwrap();
    harness.settle().await;
    assert_eq!(harness.events(), vec![observed(AWAY, false, true)]);
    let writes = harness.control.writes();
    assert_eq!(writes.len(), 1, "{writes:?}");
    assert_eq!(writes[0].origin, WriteOrigin::Automation);
    assert_eq!(writes[0].member, "Away");
    assert_eq!(writes[0].at.since_start(), Duration::from_millis(500));

    // The poll after the write reads the same state, so nothing more is reported.
    harness.advance(Duration::from_secs(3)).await;
    assert_eq!(harness.events(), Vec::new());

    // The user goes back and forth by hand: neither change is ours.
    harness.control.set_status(AVAILABLE);
    harness.control.set_status(AWAY);
    harness.settle().await;
    harness.control.set_status(AVAILABLE);
    harness.settle().await;
    let events = harness.events();
    assert!(
        events
            .iter()
            .all(|event| matches!(event, SwyxEvent::Observed(o) if !o.caused_by_us)),
        "{events:?}"
    );
    assert_eq!(harness.control.app_write_count(), 1);
}

#[tokio::test]
async fn writes_set_each_status_with_one_put() {
    let mut harness = Harness::start().await;
    harness.events();

    let steps = [
        (DND, "DoNotDisturb"),
        (AWAY, "Away"),
        (AVAILABLE, "Away"),
        (DND, "DoNotDisturb"),
        (AVAILABLE, "DoNotDisturb"),
    ];
    for (index, (status, member)) in steps.iter().enumerate() {
        harness.handle.write(*status).await.unwrap();
        harness.settle().await;
        assert_eq!(
            harness.events(),
            vec![observed(*status, false, true)],
            "{status:?}"
        );
        assert_eq!(harness.control.status().status, *status);
        assert_eq!(harness.control.app_write_count(), index + 1, "{status:?}");
        assert_eq!(harness.control.writes().last().unwrap().member, *member);
    }
}

#[tokio::test]
async fn write_of_shown_status_leaves_no_echo_behind() {
    let mut harness = Harness::start_with(AdapterOptions::default(), |control| {
        control.set_status(AWAY)
    })
    .await;
    harness.events();

    harness.handle.write(AWAY).await.unwrap();
    harness.settle().await;
    assert_eq!(harness.control.app_write_count(), 0, "Away was already set");
    assert_eq!(harness.events(), Vec::new());

    harness.control.set_status(AVAILABLE);
    harness.settle().await;
    harness.control.set_status(AWAY);
    harness.settle().await;
    assert_eq!(
        harness.events(),
        vec![
            observed(AVAILABLE, false, false),
            observed(AWAY, false, false)
        ]
    );
}

#[tokio::test]
async fn status_text_is_never_written() {
    let mut harness = Harness::start().await;
    harness.control.set_away_text("Back at 3");
    for status in [AWAY, DND, AVAILABLE] {
        harness.handle.write(status).await.unwrap();
        harness.settle().await;
    }
    harness.events();
    assert_eq!(harness.control.status().away_text, "Back at 3");
    let text_writes = harness
        .control
        .writes()
        .into_iter()
        .filter(|write| write.origin == WriteOrigin::Automation && write.member == "AwayText")
        .count();
    assert_eq!(text_writes, 0);
}

#[tokio::test]
async fn storm_of_notifications_is_coalesced() {
    let mut harness = Harness::start().await;
    harness.events();
    let calls_before = harness.control.call_count();

    for _ in 0..1000 {
        harness.control.notify(0, 0);
    }
    harness.settle().await;
    let calls = harness.control.call_count() - calls_before;
    assert!(calls <= 12, "1000 notifications cost {calls} calls");
    assert_eq!(harness.events(), Vec::new());

    // A storm of real line changes ends in one state, reported once or twice at most.
    for index in 0..1000 {
        harness
            .control
            .set_line_state(1, if index % 2 == 0 { 8 } else { 0 });
    }
    harness.control.set_line_state(1, 8);
    harness.settle().await;
    let events = harness.events();
    assert!(!events.is_empty(), "the final state is reported");
    assert!(events.len() <= 3, "{events:?}");
    assert_eq!(events.last(), Some(&observed(AVAILABLE, true, false)));
}

#[tokio::test]
async fn bool_typed_flags_are_written_as_bool() {
    let members = Members {
        away_type: FlagType::Bool,
        dnd_type: FlagType::Bool,
        strict_types: true,
        ..Members::default()
    };
    let mut harness = Harness::start_with(AdapterOptions::default(), |control| {
        control.set_members(members)
    })
    .await;
    harness.events();

    harness.handle.write(AWAY).await.unwrap();
    harness.handle.write(DND).await.unwrap();
    harness.settle().await;
    let values: Vec<_> = harness
        .control
        .writes()
        .into_iter()
        .map(|write| write.value)
        .collect();
    use swyx::automation::Variant;
    assert_eq!(values, vec![Variant::Bool(true), Variant::Bool(true)]);
    assert_eq!(harness.control.status().status, DND);
}

#[tokio::test]
async fn flag_type_change_is_retried_with_other_type() {
    let mut harness = Harness::start().await;
    harness.events();
    // The type changes after the adapter read the flags; its first put has the old type.
    harness.control.set_members(Members {
        away_type: FlagType::Bool,
        dnd_type: FlagType::Bool,
        strict_types: true,
        ..Members::default()
    });
    harness.handle.write(AWAY).await.unwrap();
    harness.settle().await;
    assert_eq!(harness.control.status().status, AWAY);
    assert_eq!(harness.events(), vec![observed(AWAY, false, true)]);
}

#[tokio::test]
async fn email_is_found_where_the_client_puts_it() {
    async fn check(email: EmailMember, expected: Option<&str>) {
        let mut harness = Harness::start_with(AdapterOptions::default(), |control| {
            control.set_members(Members {
                email,
                ..Members::default()
            });
        })
        .await;
        let events = harness.events();
        let SwyxEvent::Attached { identity, .. } = &events[0] else {
            panic!("{events:?}")
        };
        assert_eq!(identity.email.as_deref(), expected, "{email:?}");
    }
    check(EmailMember::Config, Some("alex.demo@contoso.example")).await;
    check(EmailMember::Root, Some("alex.demo@contoso.example")).await;
    check(EmailMember::Missing, None).await;
}

#[tokio::test]
async fn client_shut_down_mid_call_releases_everything() {
    let mut harness = Harness::start().await;
    harness.control.call(1, CallAction::Start);
    harness.settle().await;
    harness.events();
    assert!(harness.control.live_objects() > 1);

    harness.control.quit();
    harness.settle().await;
    let events = harness.events();
    assert_eq!(events.len(), 1, "{events:?}");
    assert!(is_detached(&events[0]));
    assert_eq!(harness.control.live_connections(), 0);
    assert_eq!(harness.control.live_objects(), 0);

    harness.control.restart();
    harness.advance(Duration::from_secs(3)).await;
    let events = harness.events();
    assert_eq!(
        attaches(&events),
        vec![(
            false,
            SwyxObservation {
                status: AVAILABLE,
                speaking: false,
                caused_by_us: false
            }
        )]
    );
}

#[tokio::test]
async fn server_down_and_up() {
    let mut harness = Harness::start().await;
    harness.events();

    harness.control.server_down();
    harness.settle().await;
    assert_eq!(
        harness.events(),
        vec![unavailable(SwyxUnavailable::ServerDown)]
    );
    assert_eq!(
        harness.handle.write(AWAY).await,
        Err(SwyxError::NotAttached)
    );
    assert_eq!(harness.control.app_write_count(), 0);

    harness.advance(Duration::from_secs(10)).await;
    assert_eq!(harness.events(), Vec::new(), "reported once");

    harness.control.server_up();
    harness.settle().await;
    let events = harness.events();
    assert_eq!(attaches(&events).len(), 1, "{events:?}");
    assert!(!attaches(&events)[0].0);
    assert_eq!(
        harness.control.live_connections(),
        1,
        "the line manager is kept while down"
    );
}

#[tokio::test]
async fn server_down_without_events_found_by_retry() {
    let mut harness = Harness::start().await;
    harness.events();
    harness.control.set_events(false);
    harness.control.server_down();
    harness.advance(Duration::from_secs(1)).await;
    assert_eq!(
        harness.events(),
        vec![unavailable(SwyxUnavailable::ServerDown)]
    );

    harness.control.server_up();
    harness.advance(Duration::from_secs(3)).await;
    assert_eq!(attaches(&harness.events()).len(), 1);
}

#[tokio::test]
async fn logoff_and_logon() {
    let mut harness = Harness::start().await;
    harness.events();

    harness.control.logoff();
    harness.settle().await;
    assert_eq!(
        harness.events(),
        vec![unavailable(SwyxUnavailable::LoggedOff)]
    );
    assert_eq!(harness.handle.write(DND).await, Err(SwyxError::NotAttached));

    harness.control.logon();
    harness.settle().await;
    assert_eq!(attaches(&harness.events()).len(), 1);
    harness.handle.write(DND).await.unwrap();
    assert_eq!(harness.control.status().status, DND);
}

#[tokio::test]
async fn events_off_falls_back_to_one_second_reads() {
    let mut harness = Harness::start().await;
    harness.events();
    harness.advance_ms(300).await;
    harness.control.set_events(false);

    harness.control.call(1, CallAction::Start);
    let started = harness.now();
    harness.settle().await;
    assert_eq!(harness.events(), Vec::new(), "no notification arrived");

    harness.advance_ms(700).await;
    assert_eq!(harness.events(), vec![observed(AVAILABLE, true, false)]);
    assert!(harness.now() - started <= Duration::from_secs(1));

    harness.control.set_status(DND);
    harness.advance(Duration::from_secs(1)).await;
    assert_eq!(harness.events(), vec![observed(DND, true, false)]);
}

#[tokio::test]
async fn hung_client_times_out_and_reattaches() {
    let mut harness = Harness::start().await;
    harness.events();

    harness.control.set_hung(true);
    harness.advance(Duration::from_secs(7)).await;
    let events = harness.events();
    assert_eq!(events.len(), 1, "{events:?}");
    assert!(is_detached(&events[0]), "{events:?}");

    harness.control.set_hung(false);
    harness.advance(Duration::from_secs(9)).await;
    let events = harness.events();
    assert_eq!(attaches(&events).len(), 1, "{events:?}");
}

#[tokio::test]
async fn access_denied_is_reported_with_reason() {
    let mut harness = Harness::start_with(AdapterOptions::default(), |control| {
        control.set_connect_error(Some(AutomationError::AccessDenied));
    })
    .await;
    let events = harness.events();
    let [SwyxEvent::Unavailable(SwyxUnavailable::Detached { reason })] = events.as_slice() else {
        panic!("{events:?}");
    };
    assert!(reason.contains("another user"), "{reason}");

    harness.control.set_connect_error(None);
    harness.advance(Duration::from_secs(3)).await;
    assert_eq!(attaches(&harness.events()).len(), 1);
}

#[tokio::test]
async fn detected_away_mode_publishes_and_withdraws() {
    let options = AdapterOptions {
        away_write: AwayWrite::Detected,
        ..AdapterOptions::default()
    };
    let mut harness = Harness::start_with(options, |_| {}).await;
    harness.events();

    harness.handle.write(AWAY).await.unwrap();
    harness.settle().await;
    assert_eq!(harness.events(), vec![observed(AWAY, false, true)]);
    let status = harness.control.status();
    assert!(status.detected_away);
    assert!(
        !status.manual_away,
        "no manual Away, so no question at the next logon"
    );

    harness.handle.write(AVAILABLE).await.unwrap();
    harness.settle().await;
    assert_eq!(harness.events(), vec![observed(AVAILABLE, false, true)]);
    assert!(!harness.control.status().detected_away);
    let members: Vec<_> = harness
        .control
        .writes()
        .into_iter()
        .map(|write| write.member)
        .collect();
    assert_eq!(
        members,
        vec!["PublicateDetectedAwayState", "PublicateDetectedAwayState"]
    );
}

#[tokio::test]
async fn detected_away_hidden_by_another_active_client() {
    let options = AdapterOptions {
        away_write: AwayWrite::Detected,
        ..AdapterOptions::default()
    };
    let mut harness =
        Harness::start_with(options, |control| control.set_other_client_active(true)).await;
    harness.events();

    harness.handle.write(AWAY).await.unwrap();
    harness.advance(Duration::from_secs(2)).await;
    assert_eq!(harness.control.status().status, AVAILABLE);
    assert_eq!(
        harness.events(),
        Vec::new(),
        "the server still shows Available"
    );
}

#[tokio::test]
async fn detected_away_falls_back_to_manual_when_missing() {
    let options = AdapterOptions {
        away_write: AwayWrite::Detected,
        ..AdapterOptions::default()
    };
    let mut harness = Harness::start_with(options, |control| {
        control.set_members(Members {
            detected_away: false,
            ..Members::default()
        });
    })
    .await;
    harness.events();

    harness.handle.write(AWAY).await.unwrap();
    harness.settle().await;
    assert_eq!(harness.events(), vec![observed(AWAY, false, true)]);
    assert!(harness.control.status().manual_away);
}

#[tokio::test]
async fn manual_away_asks_at_next_logon() {
    let mut harness = Harness::start().await;
    harness.handle.write(AWAY).await.unwrap();
    harness.control.logoff();
    harness.control.logon();
    harness.settle().await;
    harness.events();
    assert!(harness.control.status().away_prompt_pending);
}

#[tokio::test]
async fn shutdown_releases_the_client() {
    let harness = Harness::start().await;
    assert_eq!(harness.control.live_connections(), 1);
    harness.handle.shutdown();
    harness.settle().await;
    assert_eq!(harness.control.live_connections(), 0);
    assert_eq!(harness.handle.write(AWAY).await, Err(SwyxError::Stopped));
}

#[tokio::test]
async fn outage_sequence_recovers_each_time() {
    // Quit, restart logged off, logon, a long outage, then lost events during a call.
    let mut harness = Harness::start().await;
    harness.events();

    harness.advance(Duration::from_secs(10)).await;
    harness.control.quit();
    harness.advance(Duration::from_secs(3)).await;
    let events = harness.events();
    assert!(is_detached(&events[0]), "{events:?}");
    assert_eq!(
        events.last(),
        Some(&unavailable(SwyxUnavailable::NotRunning))
    );

    harness.advance(Duration::from_secs(27)).await;
    harness.control.restart();
    harness.control.logoff();
    harness.advance(Duration::from_secs(5)).await;
    assert_eq!(
        harness.events(),
        vec![unavailable(SwyxUnavailable::LoggedOff)]
    );

    harness.advance(Duration::from_secs(5)).await;
    harness.control.logon();
    harness.settle().await;
    let events = harness.events();
    assert_eq!(attaches(&events).len(), 1, "{events:?}");
    harness.handle.write(AWAY).await.unwrap();
    harness.settle().await;
    assert_eq!(harness.events(), vec![observed(AWAY, false, true)]);

    harness.advance(Duration::from_secs(20)).await;
    harness.control.quit();
    harness.advance(Duration::from_secs(70)).await;
    harness.control.restart();
    harness.advance(Duration::from_secs(3)).await;
    let events = harness.events();
    assert_eq!(
        attaches(&events),
        vec![(
            false,
            SwyxObservation {
                status: AWAY,
                speaking: false,
                caused_by_us: false
            }
        )]
    );
    assert!(
        harness.control.status().away_prompt_pending,
        "SwyxIt! asks about the manual Away"
    );

    harness.control.set_events(false);
    harness.advance(Duration::from_secs(10)).await;
    harness.control.call(1, CallAction::Start);
    harness.advance(Duration::from_secs(1)).await;
    assert_eq!(harness.events(), vec![observed(AWAY, true, false)]);
    harness.advance(Duration::from_secs(9)).await;
    harness.control.call(1, CallAction::End);
    harness.advance(Duration::from_secs(1)).await;
    assert_eq!(harness.events(), vec![observed(AWAY, false, false)]);
    assert_eq!(harness.control.app_write_count(), 1);
    assert_eq!(harness.control.session_calls(), Vec::<String>::new());
}

#[tokio::test]
async fn quit_unannounced_is_found_by_next_call() {
    // With events off, no shut-down request arrives; the broken calls reveal the quit.
    let mut harness = Harness::start().await;
    harness.events();
    harness.control.set_events(false);
    harness.control.quit();
    harness.advance(Duration::from_secs(1)).await;

    let events = harness.events();
    assert_eq!(events.len(), 1, "{events:?}");
    assert!(is_detached(&events[0]), "{events:?}");
    assert_eq!(harness.control.live_connections(), 0);
    assert_eq!(
        harness.handle.write(AWAY).await,
        Err(SwyxError::NotAttached)
    );
}

#[tokio::test]
async fn without_flag_properties_status_is_read_only() {
    let mut harness = Harness::start_with(AdapterOptions::default(), |control| {
        control.set_members(Members {
            flag_properties: false,
            ..Members::default()
        });
        control.set_status(DND);
    })
    .await;
    let attached = attaches(&harness.events());
    assert_eq!(attached.len(), 1);
    assert_eq!(
        attached[0].1.status, DND,
        "read from GetOwnUserPresenceInfo"
    );

    harness.control.set_status(AWAY);
    harness.settle().await;
    assert_eq!(harness.events(), vec![observed(AWAY, false, false)]);

    let write = harness.handle.write(AVAILABLE).await;
    let expected = AutomationError::UnknownName {
        member: "Away".into(),
    };
    assert_eq!(write, Err(SwyxError::Automation(expected)));
    harness.advance(Duration::from_secs(2)).await;
    assert_eq!(
        harness.events(),
        Vec::new(),
        "still attached after the failed write"
    );
    assert_eq!(harness.control.app_write_count(), 0);
}

#[tokio::test]
async fn without_any_status_member_client_is_unusable() {
    let mut harness = Harness::start_with(AdapterOptions::default(), |control| {
        control.set_members(Members {
            flag_properties: false,
            own_presence_info: false,
            ..Members::default()
        });
    })
    .await;
    let events = harness.events();
    assert_eq!(events.len(), 1, "{events:?}");
    let SwyxEvent::Unavailable(SwyxUnavailable::Detached { reason }) = &events[0] else {
        panic!("{events:?}");
    };
    assert!(reason.contains("Away"), "{reason}");
    assert_eq!(
        harness.control.live_objects(),
        1,
        "only the root object is kept"
    );

    harness.control.set_members(Members::default());
    harness.advance(Duration::from_secs(3)).await;
    assert_eq!(attaches(&harness.events()).len(), 1);
}
