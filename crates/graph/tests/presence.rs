//! The Graph presence client against the twin: reads, writes, every fault of the failure table
//! and the single-flight refresh.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::Harness;
use engine::{GraphFailure, GraphWriteResult};
use graph::{CallPresenceSink, PresenceSource};
use graph_twin::{Endpoint, Fault, FaultKind};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn call_session_set_and_cleared() {
    let h = Harness::start().await;
    h.sign_in().await;
    let client_id = h.config.client_id.clone();

    assert_eq!(
        h.client.set_in_a_call().await,
        GraphWriteResult::Acknowledged
    );
    let session = h.twin.app_session(&client_id).expect("app session exists");
    assert_eq!(
        (session.availability.as_str(), session.activity.as_str()),
        ("Busy", "InACall")
    );
    assert_eq!(
        session.expires_at - session.set_at,
        Duration::from_secs(300),
        "PT5M"
    );
    let presence = h.client.get_presence().await.unwrap();
    assert_eq!(
        (presence.availability.as_str(), presence.activity.as_str()),
        ("Busy", "InACall")
    );

    assert_eq!(
        h.client.clear_presence().await,
        GraphWriteResult::Acknowledged
    );
    assert!(h.twin.app_session(&client_id).is_none());
    assert_eq!(
        h.client.clear_presence().await,
        GraphWriteResult::NotFound,
        "already gone"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn boundary_traits_reach_graph() {
    let h = Harness::start().await;
    h.sign_in().await;
    let source: Arc<dyn PresenceSource> = Arc::new(h.client.clone());
    let sink: Arc<dyn CallPresenceSink> = Arc::new(h.client.clone());
    assert_eq!(sink.set_in_a_call().await, GraphWriteResult::Acknowledged);
    assert_eq!(source.get_presence().await.unwrap().activity, "InACall");
    assert_eq!(sink.clear_presence().await, GraphWriteResult::Acknowledged);
}

/// What a request under a fault must come back as.
#[derive(Debug, Clone, Copy)]
enum Request {
    Poll,
    SetInACall,
    Clear,
}

#[derive(Debug)]
enum Expect {
    Throttled(Option<Duration>),
    Transient,
    Forbidden,
    Rejected,
    Malformed,
    NotFound,
}

fn matches_expectation(expected: &Expect, failure: &GraphFailure) -> bool {
    match (expected, failure) {
        (Expect::Throttled(wait), GraphFailure::Throttled { retry_after }) => wait == retry_after,
        (Expect::Transient, GraphFailure::Transient { .. })
        | (Expect::Forbidden, GraphFailure::Forbidden { .. })
        | (Expect::Rejected, GraphFailure::Rejected { .. })
        | (Expect::Malformed, GraphFailure::Malformed { .. }) => true,
        _ => false,
    }
}

/// Runs `request` under `fault`, moving the clock by `advance` once the request is at the twin.
async fn check(fault: FaultKind, request: Request, advance: Option<Duration>, expected: Expect) {
    let h = Harness::start().await;
    h.sign_in().await;
    let endpoint = match request {
        Request::Poll => Endpoint::Presence,
        Request::SetInACall => Endpoint::SetPresence,
        Request::Clear => Endpoint::ClearPresence,
    };
    h.twin.inject(Fault::new(endpoint, fault.clone(), 1));
    let client = h.client.clone();
    let task = tokio::spawn(async move {
        match request {
            Request::Poll => client
                .get_presence()
                .await
                .map(|_| GraphWriteResult::Acknowledged),
            Request::SetInACall => Ok(client.set_in_a_call().await),
            Request::Clear => Ok(client.clear_presence().await),
        }
    });
    if let Some(advance) = advance {
        common::wait_until(|| h.count(endpoint) == 1).await;
        h.clock.advance(advance - Duration::from_millis(1)).await;
        assert!(!task.is_finished(), "{fault:?}: ended before {advance:?}");
        h.clock.advance(Duration::from_millis(1)).await;
    }
    let outcome = task.await.unwrap();
    let failure = match (outcome, &expected) {
        (Ok(GraphWriteResult::NotFound), Expect::NotFound) => return,
        (Ok(GraphWriteResult::Failed(failure)), _) | (Err(failure), _) => failure,
        (other, _) => panic!("{fault:?} on {request:?}: expected {expected:?}, got {other:?}"),
    };
    assert!(
        matches_expectation(&expected, &failure),
        "{fault:?} on {request:?}: expected {expected:?}, got {failure:?}"
    );
    assert_eq!(
        h.count(Endpoint::Token),
        1,
        "{fault:?}: no refresh for a non-401 failure"
    );
}

fn status(status: u16, retry_after_seconds: Option<u64>) -> FaultKind {
    FaultKind::Status {
        status,
        retry_after_seconds,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graph_faults_map_to_failures() {
    use Expect::*;
    use Request::*;
    let seven = Some(Duration::from_secs(7));
    check(status(429, Some(7)), Poll, None, Throttled(seven)).await;
    check(status(429, None), Poll, None, Throttled(None)).await;
    check(status(429, Some(7)), SetInACall, None, Throttled(seven)).await;
    check(status(500, None), Poll, None, Transient).await;
    check(status(503, Some(3)), Poll, None, Transient).await;
    check(status(502, None), SetInACall, None, Transient).await;
    check(status(504, None), Clear, None, Transient).await;
    check(FaultKind::Reset, Poll, None, Transient).await;
    check(FaultKind::Reset, SetInACall, None, Transient).await;
    check(
        FaultKind::Timeout,
        Poll,
        Some(Duration::from_secs(5)),
        Transient,
    )
    .await;
    check(
        FaultKind::Timeout,
        SetInACall,
        Some(Duration::from_secs(10)),
        Transient,
    )
    .await;
    check(
        FaultKind::Delay { millis: 6_000 },
        Poll,
        Some(Duration::from_secs(5)),
        Transient,
    )
    .await;
    check(FaultKind::Malformed, Poll, None, Malformed).await;
    check(status(403, None), Poll, None, Forbidden).await;
    check(status(403, None), SetInACall, None, Forbidden).await;
    check(status(400, None), SetInACall, None, Rejected).await;
    check(status(400, None), Clear, None, Rejected).await;
    check(status(404, None), Clear, None, NotFound).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forbidden_says_what_is_missing() {
    let h = Harness::start().await;
    h.sign_in().await;
    h.twin
        .inject(Fault::new(Endpoint::SetPresence, status(403, None), 1));
    let GraphWriteResult::Failed(GraphFailure::Forbidden { reason }) =
        h.client.set_in_a_call().await
    else {
        panic!("expected Forbidden");
    };
    assert!(reason.contains("Presence.ReadWrite"), "{reason}");
    assert!(reason.contains("administrator"), "{reason}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unexpected_presence_bodies() {
    let h = Harness::start().await;
    h.sign_in().await;
    // `None`: the body must read as malformed.
    let cases: &[(&str, Option<(&str, &str)>)] = &[
        (
            r#"{"availability":"Focusing","activity":"Brainstorming","extra":{"a":1}}"#,
            Some(("Focusing", "Brainstorming")),
        ),
        (
            r#"{"availability":"busy","activity":"inACall"}"#,
            Some(("busy", "inACall")),
        ),
        (r#"{"availability":"Available"}"#, None),
        (r#"{"availability":null,"activity":"Available"}"#, None),
        (
            r#"{"availability":["Available"],"activity":"Available"}"#,
            None,
        ),
        ("", None),
    ];
    for (body, expected) in cases {
        h.twin.inject(Fault::new(
            Endpoint::Presence,
            FaultKind::Body {
                body: body.to_string(),
            },
            1,
        ));
        let got = h.client.get_presence().await;
        match (got, expected) {
            (Ok(presence), Some((availability, activity))) => {
                assert_eq!(presence.availability, *availability, "{body}");
                assert_eq!(presence.activity, *activity, "{body}");
            }
            (Err(GraphFailure::Malformed { .. }), None) => {}
            (got, expected) => panic!("{body}: expected {expected:?}, got {got:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_access_token_refreshes_and_retries() {
    let h = Harness::start().await;
    h.sign_in().await;
    h.twin.expire_access_tokens();
    assert_eq!(
        h.client.set_in_a_call().await,
        GraphWriteResult::Acknowledged
    );
    assert_eq!(h.count(Endpoint::Token), 2, "sign-in and one refresh");
    let statuses: Vec<_> = h
        .twin
        .requests()
        .iter()
        .filter(|record| record.endpoint == Endpoint::SetPresence)
        .map(|record| record.status())
        .collect();
    assert_eq!(statuses, vec![Some(401), Some(200)]);
}

/// Ten requests rejected with 401 at once cause exactly one refresh.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_401s_share_one_refresh() {
    let h = Harness::start().await;
    h.sign_in().await;
    h.client.get_presence().await.unwrap();
    h.twin.expire_access_tokens();
    let tokens_before = h.count(Endpoint::Token);

    let mut tasks = Vec::new();
    for _ in 0..10 {
        let client = h.client.clone();
        tasks.push(tokio::spawn(async move { client.get_presence().await }));
    }
    for task in tasks {
        task.await
            .unwrap()
            .expect("every request succeeds after the refresh");
    }
    assert_eq!(
        h.count(Endpoint::Token),
        tokens_before + 1,
        "exactly one refresh"
    );
    let unauthorized = h
        .twin
        .requests()
        .iter()
        .filter(|record| record.endpoint == Endpoint::Presence && record.status() == Some(401))
        .count();
    assert!(
        unauthorized >= 1,
        "the old token was rejected at least once"
    );
}

/// A refresh that fails on the network is transient and keeps the sign-in.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresh_network_failure_is_transient() {
    let h = Harness::start().await;
    h.sign_in().await;
    h.twin.expire_access_tokens();
    h.twin
        .inject(Fault::new(Endpoint::Token, FaultKind::Reset, 1));
    let failure = h.client.get_presence().await.unwrap_err();
    assert!(
        matches!(failure, GraphFailure::Transient { .. }),
        "{failure:?}"
    );
    assert!(matches!(
        h.auth.state(),
        graph::SignInState::SignedIn { .. }
    ));
    h.client
        .get_presence()
        .await
        .expect("next request refreshes");
}

/// A 429 or 5xx from the token endpoint on refresh is transient too, not a sign-out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresh_server_error_is_transient() {
    for code in [429, 500, 503] {
        let h = Harness::start().await;
        h.sign_in().await;
        h.twin.expire_access_tokens();
        h.twin
            .inject(Fault::new(Endpoint::Token, status(code, Some(1)), 1));
        let failure = h.client.get_presence().await.unwrap_err();
        assert!(
            matches!(failure, GraphFailure::Transient { .. }),
            "{code}: {failure:?}"
        );
        assert!(
            matches!(h.auth.state(), graph::SignInState::SignedIn { .. }),
            "{code}: still signed in"
        );
        h.client
            .get_presence()
            .await
            .expect("the next poll refreshes");
    }
}

/// A token endpoint that never responds ends the refresh after 10 s on the shared clock.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresh_timeout_is_transient() {
    let h = Harness::start().await;
    h.sign_in().await;
    h.twin.expire_access_tokens();
    h.twin
        .inject(Fault::new(Endpoint::Token, FaultKind::Timeout, 1));
    let client = h.client.clone();
    let poll = tokio::spawn(async move { client.get_presence().await });
    common::wait_until(|| h.count(Endpoint::Token) == 2).await;
    h.clock.advance(Duration::from_millis(9_999)).await;
    assert!(!poll.is_finished(), "still waiting for the token endpoint");
    h.clock.advance(Duration::from_millis(1)).await;
    let failure = poll.await.unwrap().unwrap_err();
    assert!(
        matches!(failure, GraphFailure::Transient { .. }),
        "{failure:?}"
    );
    assert!(matches!(
        h.auth.state(),
        graph::SignInState::SignedIn { .. }
    ));
}
