//! The simulator's object model, called directly through the automation traits.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use clock::{ManualClock, SharedClock};
use engine::SwyxSettable;
use swyx::automation::{
    Arg, AutomationError, Connection, Connector, Notification, NotificationReceiver, ObjectRef,
    Variant,
};
use swyx::simulator::{CallAction, FlagType, Members, Simulator, SimulatorControl, WriteOrigin};

struct Fixture {
    clock: ManualClock,
    control: SimulatorControl,
    connection: Box<dyn Connection>,
    notifications: NotificationReceiver,
}

async fn fixture() -> Fixture {
    let clock = ManualClock::new(SystemTime::UNIX_EPOCH);
    let shared: SharedClock = Arc::new(clock.clone());
    let (simulator, control) = Simulator::new(shared);
    let connection = simulator.connect().await.unwrap();
    let notifications = connection.subscribe().unwrap();
    Fixture {
        clock,
        control,
        connection,
        notifications,
    }
}

fn drain(receiver: &mut NotificationReceiver) -> Vec<(i32, i32)> {
    let mut seen = Vec::new();
    while let Ok((Notification { message, param }, _guard)) = receiver.try_recv() {
        seen.push((message, param));
    }
    seen
}

async fn config(connection: &dyn Connection) -> ObjectRef {
    let value = connection
        .get(connection.root(), "DispClientConfig")
        .await
        .unwrap();
    value.as_object().unwrap()
}

fn presence_outputs() -> Vec<Arg> {
    (0..5).map(|_| Arg::Out(Variant::Empty)).collect()
}

#[tokio::test]
async fn put_notifies_after_the_call_returns() {
    let mut fixture = fixture().await;
    let connection = &*fixture.connection;
    let config = config(connection).await;

    connection
        .put(config, "Away", Variant::I4(1))
        .await
        .unwrap();
    // The event waits in the channel; it was not delivered inside the call.
    assert_eq!(drain(&mut fixture.notifications), vec![(60, 5)]);
    assert_eq!(fixture.control.status().status, SwyxSettable::Away);
}

#[tokio::test]
async fn presence_info_fills_five_outputs() {
    let fixture = fixture().await;
    let connection = &*fixture.connection;
    let config = config(connection).await;
    fixture.control.set_status(SwyxSettable::DoNotDisturb);
    fixture.control.set_away_text("In the lab");

    let reply = connection
        .invoke(config, "GetOwnUserPresenceInfo", presence_outputs())
        .await
        .unwrap();
    assert_eq!(
        reply.by_ref,
        vec![
            Variant::I4(6),
            Variant::I4(0),
            Variant::Str("In the lab".into()),
            Variant::I4(1),
            Variant::Str(String::new()),
        ]
    );

    fixture.control.call(1, CallAction::Start);
    let reply = connection
        .invoke(config, "GetOwnUserPresenceInfo", presence_outputs())
        .await
        .unwrap();
    assert_eq!(
        reply.by_ref[0],
        Variant::I4(3),
        "Calling outranks Do not disturb"
    );

    let short = connection
        .invoke(config, "GetOwnUserPresenceInfo", vec![])
        .await;
    let expected = AutomationError::BadArgumentCount {
        member: "GetOwnUserPresenceInfo".into(),
    };
    assert_eq!(short, Err(expected));
}

#[tokio::test]
async fn missing_members_are_unknown_names() {
    let fixture = fixture().await;
    fixture.control.set_members(Members {
        own_presence_info: false,
        detected_away: false,
        ..Members::default()
    });
    let connection = &*fixture.connection;
    let config = config(connection).await;

    for member in [
        "GetOwnUserPresenceInfo",
        "PublicateDetectedAwayState",
        "SetRichPresenceStatus",
    ] {
        let result = connection.invoke(config, member, presence_outputs()).await;
        assert_eq!(
            result,
            Err(AutomationError::UnknownName {
                member: member.into()
            }),
            "{member}"
        );
    }
}

#[tokio::test]
async fn strict_bool_flag_rejects_integer() {
    let fixture = fixture().await;
    fixture.control.set_members(Members {
        away_type: FlagType::Bool,
        strict_types: true,
        ..Members::default()
    });
    let connection = &*fixture.connection;
    let config = config(connection).await;

    assert_eq!(
        connection.get(config, "Away").await,
        Ok(Variant::Bool(false))
    );
    let rejected = connection.put(config, "Away", Variant::I4(1)).await;
    assert_eq!(
        rejected,
        Err(AutomationError::TypeMismatch {
            member: "Away".into()
        })
    );
    connection
        .put(config, "Away", Variant::Bool(true))
        .await
        .unwrap();
    assert_eq!(fixture.control.status().status, SwyxSettable::Away);
}

#[tokio::test]
async fn line_changes_send_both_line_messages() {
    let mut fixture = fixture().await;
    fixture.control.set_line_state(2, 9);
    // Message 28 carries the state in the high word and the line index in the low word.
    assert_eq!(
        drain(&mut fixture.notifications),
        vec![(0, 1), (28, (9 << 16) | 1), (60, 3)]
    );

    let connection = &*fixture.connection;
    let line = connection
        .invoke(
            connection.root(),
            "DispGetLine",
            vec![Arg::In(Variant::I4(1))],
        )
        .await
        .unwrap();
    let line = line.value.as_object().unwrap();
    assert_eq!(connection.get(line, "DispState").await, Ok(Variant::I4(9)));

    let out_of_range = connection
        .invoke(
            connection.root(),
            "DispGetLine",
            vec![Arg::In(Variant::I4(2))],
        )
        .await;
    assert!(matches!(
        out_of_range,
        Err(AutomationError::Failed {
            hresult: 0x8007_0057,
            ..
        })
    ));
}

#[tokio::test]
async fn quit_kills_objects_and_refuses_attach() {
    let mut fixture = fixture().await;
    let connection = &*fixture.connection;
    let config = config(connection).await;

    fixture.control.quit();
    assert_eq!(drain(&mut fixture.notifications), vec![(11, 0)]);
    assert!(
        fixture.notifications.recv().await.is_none(),
        "the subscription closes"
    );
    assert_eq!(
        connection.get(config, "Away").await,
        Err(AutomationError::ServerGone)
    );

    let attach = fixture.control.connector().connect().await;
    assert_eq!(attach.err(), Some(AutomationError::NotRunning));

    fixture.control.restart();
    let connection = fixture.control.connector().connect().await.unwrap();
    assert_eq!(
        connection.get(connection.root(), "DispIsLoggedIn").await,
        Ok(Variant::I4(1))
    );
}

#[tokio::test]
async fn released_handle_is_invalid() {
    let fixture = fixture().await;
    let connection = &*fixture.connection;
    let config = config(connection).await;
    assert_eq!(fixture.control.live_objects(), 2);
    connection.release(config);
    assert_eq!(fixture.control.live_objects(), 1);
    let result = connection.get(config, "Away").await;
    assert!(matches!(
        result,
        Err(AutomationError::Failed {
            hresult: 0x8000_4003,
            ..
        })
    ));
}

#[tokio::test]
async fn writes_are_recorded_by_origin_and_instant() {
    let mut fixture = fixture().await;
    let connection = &*fixture.connection;
    let config = config(connection).await;

    fixture.clock.advance(Duration::from_secs(2)).await;
    fixture.control.set_status(SwyxSettable::Away);
    // A queued notification holds the clock still until it is taken.
    drain(&mut fixture.notifications);
    fixture.clock.advance(Duration::from_secs(1)).await;
    connection
        .put(config, "DoNotDisturb", Variant::I4(1))
        .await
        .unwrap();

    let writes: Vec<_> = fixture
        .control
        .writes()
        .into_iter()
        .map(|write| {
            (
                write.at.since_start().as_secs(),
                write.origin,
                write.member,
                write.status_after,
            )
        })
        .collect();
    assert_eq!(
        writes,
        vec![
            (
                2,
                WriteOrigin::Control,
                "status".to_owned(),
                SwyxSettable::Away
            ),
            (
                3,
                WriteOrigin::Automation,
                "DoNotDisturb".to_owned(),
                SwyxSettable::DoNotDisturb
            ),
        ]
    );
    assert_eq!(fixture.control.app_write_count(), 1);
}

#[tokio::test]
async fn session_members_are_recorded() {
    let fixture = fixture().await;
    let connection = &*fixture.connection;
    connection
        .invoke(
            connection.root(),
            "DispInit",
            vec![Arg::In(Variant::Str("pbx".into()))],
        )
        .await
        .unwrap();
    assert_eq!(fixture.control.session_calls(), vec!["DispInit".to_owned()]);
}

#[tokio::test]
async fn events_off_drops_notifications() {
    let mut fixture = fixture().await;
    fixture.control.set_events(false);
    fixture.control.call(1, CallAction::Start);
    assert_eq!(drain(&mut fixture.notifications), Vec::new());
    assert!(fixture.control.status().speaking, "the state still changes");
    fixture.control.set_events(true);
    fixture.control.call(1, CallAction::End);
    assert_eq!(drain(&mut fixture.notifications).len(), 5);
}
