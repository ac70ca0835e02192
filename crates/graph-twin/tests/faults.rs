//! Injected faults, throttling, latency, the request log and the admin API.

mod common;

use std::time::{Duration, Instant as WallInstant};

use common::{pair, Harness};
use graph_twin::{Endpoint, Fault, FaultKind, Outcome, TwinConfig};
use reqwest::StatusCode;
use serde_json::{json, Value};

fn status_fault(
    endpoint: Endpoint,
    status: u16,
    retry_after_seconds: Option<u64>,
    count: u32,
) -> Fault {
    Fault::new(
        endpoint,
        FaultKind::Status {
            status,
            retry_after_seconds,
        },
        count,
    )
}

#[tokio::test]
async fn status_faults_answer_then_clear() {
    let harness = Harness::start().await;
    let (token, _) = harness.sign_in().await;
    // (status, Retry-After, Graph error code)
    let cases = [
        (503, None, "ServiceUnavailable"),
        (500, None, "InternalServerError"),
        (429, Some(7), "TooManyRequests"),
        (429, None, "TooManyRequests"),
        (403, None, "Forbidden"),
        (400, None, "BadRequest"),
        (401, None, "InvalidAuthenticationToken"),
        (404, None, "NotFound"),
        (502, None, "BadGateway"),
        (504, None, "GatewayTimeout"),
    ];
    for (status, retry_after, code) in cases {
        harness
            .twin
            .inject(status_fault(Endpoint::Presence, status, retry_after, 2));
        for attempt in 0..2 {
            let answer = harness.get_with("v1.0/me/presence", &token).await;
            assert_eq!(answer.status.as_u16(), status, "attempt {attempt}");
            assert_eq!(answer.json()["error"]["code"], code);
            assert_eq!(
                answer.header("retry-after"),
                retry_after.map(|s| s.to_string()),
                "{status}"
            );
            assert!(answer.header("request-id").is_some());
        }
        assert_eq!(
            harness.get_with("v1.0/me/presence", &token).await.status,
            StatusCode::OK,
            "after {status}"
        );
    }
}

#[tokio::test]
async fn faulted_write_changes_nothing() {
    let harness = Harness::start().await;
    let (token, _) = harness.sign_in().await;
    harness
        .twin
        .inject(status_fault(Endpoint::SetPresence, 503, None, 1));
    let answer = harness.set_presence(&token, "Busy", "InACall", None).await;
    assert_eq!(answer.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(harness.twin.app_session(&harness.client_id()), None);
    assert_eq!(
        harness.presence_pair(&token).await,
        pair("Available", "Available")
    );
}

#[tokio::test]
async fn token_fault_has_entra_shape() {
    let harness = Harness::start().await;
    let (_, refresh) = harness.sign_in().await;
    harness
        .twin
        .inject(status_fault(Endpoint::Token, 503, Some(3), 1));
    let answer = harness.refresh(&refresh).await;
    assert_eq!(answer.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(answer.header("retry-after").as_deref(), Some("3"));
    let body = answer.json();
    assert_eq!(body["error"], "temporarily_unavailable");
    assert!(body["error_codes"][0].is_u64());
    assert_eq!(harness.refresh(&refresh).await.status, StatusCode::OK);
}

#[tokio::test]
async fn any_fault_until_cleared() {
    let harness = Harness::start().await;
    let (token, _) = harness.sign_in().await;
    harness.twin.inject(Fault::until_cleared(
        Endpoint::Any,
        FaultKind::Status {
            status: 502,
            retry_after_seconds: None,
        },
    ));
    for _ in 0..3 {
        assert_eq!(
            harness.get_with("v1.0/me", &token).await.status,
            StatusCode::BAD_GATEWAY
        );
        assert_eq!(
            harness
                .set_presence(&token, "Busy", "InACall", None)
                .await
                .status,
            StatusCode::BAD_GATEWAY
        );
    }
    assert_eq!(harness.twin.pending_faults().len(), 1);
    harness.twin.clear_faults();
    assert_eq!(
        harness.get_with("v1.0/me", &token).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn delay_runs_on_the_clock() {
    let harness = Harness::start().await;
    let (token, _) = harness.sign_in().await;
    harness.twin.inject(Fault::new(
        Endpoint::SetPresence,
        FaultKind::Delay { millis: 2_000 },
        1,
    ));
    let request = {
        let http = harness.http.clone();
        let url = harness.url("v1.0/me/presence/setPresence");
        let body = json!({ "sessionId": harness.client_id(), "availability": "Busy", "activity": "InACall" });
        let token = token.clone();
        tokio::spawn(async move { http.post(url).bearer_auth(token).json(&body).send().await })
    };
    harness.clock.settle().await;
    // The response is computed on arrival, so the session exists already but nothing is sent.
    assert!(harness.twin.app_session(&harness.client_id()).is_some());
    let record = harness.twin.requests().into_iter().last().unwrap();
    assert_eq!(record.outcome, Outcome::Pending);
    assert!(!request.is_finished());

    harness.clock.advance(Duration::from_millis(1_999)).await;
    assert!(!request.is_finished());
    harness.clock.advance(Duration::from_millis(1)).await;
    let response = request.await.unwrap().unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let record = harness.twin.requests().into_iter().last().unwrap();
    assert_eq!(record.outcome, Outcome::Answered(200));
    assert_eq!(
        record.answered.unwrap() - record.sent,
        Duration::from_secs(2)
    );
}

#[tokio::test]
async fn latency_delays_every_answer() {
    let harness = Harness::start().await;
    let (token, _) = harness.sign_in().await;
    harness.twin.set_latency(Duration::from_millis(100));
    let request = {
        let http = harness.http.clone();
        let url = harness.url("v1.0/me/presence");
        tokio::spawn(async move { http.get(url).bearer_auth(token).send().await })
    };
    harness.clock.settle().await;
    assert!(!request.is_finished());
    harness.clock.advance(Duration::from_millis(100)).await;
    assert_eq!(request.await.unwrap().unwrap().status(), StatusCode::OK);
    harness.twin.set_latency(Duration::ZERO);
    let record = harness.twin.requests().into_iter().last().unwrap();
    assert_eq!(
        record.answered.unwrap() - record.sent,
        Duration::from_millis(100)
    );
}

#[tokio::test]
async fn reset_closes_without_answer() {
    let harness = Harness::start().await;
    let (token, _) = harness.sign_in().await;
    harness
        .twin
        .inject(Fault::new(Endpoint::Presence, FaultKind::Reset, 1));
    let error = harness
        .http
        .get(harness.url("v1.0/me/presence"))
        .bearer_auth(&token)
        .send()
        .await;
    assert!(error.is_err(), "{error:?}");
    let record = harness.twin.requests().into_iter().last().unwrap();
    assert_eq!(record.endpoint, Endpoint::Presence);
    assert_eq!(record.outcome, Outcome::Reset);
    assert_eq!(
        harness.get_with("v1.0/me/presence", &token).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn timeout_never_answers() {
    let harness = Harness::start().await;
    let (token, _) = harness.sign_in().await;
    harness
        .twin
        .inject(Fault::new(Endpoint::ClearPresence, FaultKind::Timeout, 1));
    let request = {
        let http = harness.http.clone();
        let url = harness.url("v1.0/me/presence/clearPresence");
        let body = json!({ "sessionId": harness.client_id() });
        tokio::spawn(async move { http.post(url).bearer_auth(token).json(&body).send().await })
    };
    harness.clock.settle().await;
    harness.clock.advance(Duration::from_secs(59)).await;
    assert!(!request.is_finished());
    assert_eq!(
        harness.twin.requests().last().unwrap().outcome,
        Outcome::Pending
    );
    harness.clock.advance(Duration::from_secs(1)).await;
    assert!(
        request.await.unwrap().is_err(),
        "the connection closes without an answer"
    );
    assert_eq!(
        harness.twin.requests().last().unwrap().outcome,
        Outcome::TimedOut
    );
}

#[tokio::test]
async fn malformed_body_after_handling() {
    let harness = Harness::start().await;
    let (token, _) = harness.sign_in().await;
    harness
        .twin
        .inject(Fault::new(Endpoint::Presence, FaultKind::Malformed, 1));
    let answer = harness.get_with("v1.0/me/presence", &token).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert!(answer
        .header("content-type")
        .unwrap()
        .starts_with("application/json"));
    assert!(
        serde_json::from_str::<Value>(&answer.text).is_err(),
        "{}",
        answer.text
    );
    assert!(harness
        .get_with("v1.0/me/presence", &token)
        .await
        .json()
        .is_object());
}

#[tokio::test]
async fn verbatim_presence_body() {
    let harness = Harness::start().await;
    let (token, _) = harness.sign_in().await;
    let body =
        r#"{"id":"x","availability":"busy","activity":"InAFocusSession","sequenceNumber":"A1"}"#;
    harness.twin.inject(Fault::new(
        Endpoint::Presence,
        FaultKind::Body { body: body.into() },
        1,
    ));
    let answer = harness.get_with("v1.0/me/presence", &token).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.text, body);
    assert_eq!(
        harness.presence_pair(&token).await,
        pair("Available", "Available")
    );
}

#[tokio::test]
async fn reset_sequence_goes_back() {
    let harness = Harness::start().await;
    let (token, _) = harness.sign_in().await;
    let before =
        harness.get_with("v1.0/me/presence", &token).await.json()["sequenceNumber"].clone();
    harness
        .twin
        .inject(Fault::new(Endpoint::Presence, FaultKind::ResetSequence, 1));
    assert!(
        harness.twin.pending_faults().is_empty(),
        "takes effect at once"
    );
    let after = harness.get_with("v1.0/me/presence", &token).await.json()["sequenceNumber"].clone();
    assert!(
        after.as_str().unwrap() < before.as_str().unwrap(),
        "{after} < {before}"
    );
}

#[tokio::test]
async fn throttling_answers_429_with_retry_after() {
    let config = TwinConfig {
        throttle: Some((3, Duration::from_secs(30))),
        ..TwinConfig::default()
    };
    let harness = Harness::with(config).await;
    let (token, refresh) = harness.sign_in().await;
    for _ in 0..3 {
        assert_eq!(
            harness.get_with("v1.0/me/presence", &token).await.status,
            StatusCode::OK
        );
    }
    let throttled = harness.set_presence(&token, "Busy", "InACall", None).await;
    assert_eq!(throttled.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(throttled.header("retry-after").as_deref(), Some("10"));
    assert_eq!(throttled.json()["error"]["code"], "TooManyRequests");
    assert_eq!(harness.twin.app_session(&harness.client_id()), None);
    // Sign-in is Entra's, not Graph's budget.
    assert_eq!(harness.refresh(&refresh).await.status, StatusCode::OK);
    // The peer shares the app's budget.
    let peer = harness.twin.issue_token_for("peer");
    assert_eq!(
        harness.get_with("v1.0/me/presence", &peer).await.status,
        StatusCode::TOO_MANY_REQUESTS
    );

    harness.clock.advance(Duration::from_secs(10)).await;
    assert_eq!(
        harness
            .set_presence(&token, "Busy", "InACall", None)
            .await
            .status,
        StatusCode::OK
    );

    // Retry-After rounds the wait up to whole seconds: 7 per 30 s refill one every 4.29 s.
    harness.twin.set_throttle(7, Duration::from_secs(30));
    for _ in 0..7 {
        assert_eq!(
            harness.get_with("v1.0/me/presence", &token).await.status,
            StatusCode::OK
        );
    }
    let answer = harness.get_with("v1.0/me/presence", &token).await;
    assert_eq!(answer.header("retry-after").as_deref(), Some("5"));

    harness.twin.set_throttle(1, Duration::from_secs(60));
    assert_eq!(
        harness.get_with("v1.0/me/presence", &token).await.status,
        StatusCode::OK
    );
    let answer = harness.get_with("v1.0/me/presence", &token).await;
    assert_eq!(answer.header("retry-after").as_deref(), Some("60"));
    harness.twin.clear_throttle();
    assert_eq!(
        harness.get_with("v1.0/me/presence", &token).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn log_attributes_actors() {
    let harness = Harness::start().await;
    let (token, refresh) = harness.sign_in().await;
    let peer = harness.twin.issue_token_for("peer");
    harness.set_presence(&peer, "Busy", "InACall", None).await;
    harness.get_with("v1.0/me/presence", &peer).await;
    harness.get_with("v1.0/me/presence", &token).await;
    harness.refresh(&refresh).await;

    let app_presence = harness
        .twin
        .requests()
        .iter()
        .filter(|record| record.actor == "app" && record.endpoint == Endpoint::Presence)
        .count();
    assert_eq!(app_presence, 1);
    let counters = harness.twin.counters();
    assert_eq!(counters.by_actor.get("peer"), Some(&2));
    assert_eq!(
        counters.by_actor.get("app"),
        Some(&4),
        "authorize, token, presence and refresh"
    );
    assert_eq!(counters.by_endpoint.get("token"), Some(&2));
    assert_eq!(counters.by_endpoint.get("authorize"), Some(&1));
    assert_eq!(counters.by_status.get("200"), Some(&5));
    assert_eq!(counters.by_status.get("302"), Some(&1));
}

#[tokio::test]
async fn admin_api_mirrors_the_handle() {
    let harness = Harness::start().await;
    let (token, refresh) = harness.sign_in().await;
    let http = &harness.http;
    let admin = |path: &str| harness.url(&format!("_twin/{path}"));
    let ok = |status: StatusCode| assert!(status.is_success(), "{status}");

    ok(http
        .post(admin("teams"))
        .json(&json!({ "availability": "Busy", "activity": "InAMeeting" }))
        .send()
        .await
        .unwrap()
        .status());
    assert_eq!(
        harness.presence_pair(&token).await,
        pair("Busy", "InAMeeting")
    );
    ok(http
        .post(admin("preferred"))
        .json(&json!({ "availability": "DoNotDisturb", "activity": "DoNotDisturb" }))
        .send()
        .await
        .unwrap()
        .status());
    assert_eq!(
        harness.presence_pair(&token).await,
        pair("DoNotDisturb", "DoNotDisturb")
    );
    ok(http
        .delete(admin("preferred"))
        .send()
        .await
        .unwrap()
        .status());
    ok(http
        .post(admin("out-of-office"))
        .json(&json!({ "on": true }))
        .send()
        .await
        .unwrap()
        .status());
    let presence: Value = http
        .get(admin("presence"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(presence["availability"], "Busy");
    assert_eq!(presence["isOutOfOffice"], true);

    harness
        .set_presence(&token, "Busy", "InACall", Some("PT10M"))
        .await;
    let session: Value = http
        .get(admin(&format!("sessions/{}", harness.client_id())))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(session["expiresAtMillis"], 600_000);
    assert_eq!(
        http.get(admin("sessions/nobody"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::NOT_FOUND
    );

    let fault = json!({ "endpoint": "presence", "kind": "status", "status": 503, "count": 1 });
    ok(http
        .post(admin("faults"))
        .json(&fault)
        .send()
        .await
        .unwrap()
        .status());
    let pending: Value = http
        .get(admin("faults"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(pending.as_array().map(Vec::len), Some(1));
    assert_eq!(
        harness.get_with("v1.0/me/presence", &token).await.status,
        StatusCode::SERVICE_UNAVAILABLE
    );
    ok(http
        .post(admin("faults"))
        .json(&json!({ "endpoint": "any", "kind": "reset" }))
        .send()
        .await
        .unwrap()
        .status());
    ok(http.delete(admin("faults")).send().await.unwrap().status());
    assert_eq!(
        harness.get_with("v1.0/me/presence", &token).await.status,
        StatusCode::OK
    );

    ok(http
        .post(admin("throttle"))
        .json(&json!({ "limit": 1, "window_millis": 30_000 }))
        .send()
        .await
        .unwrap()
        .status());
    harness.get_with("v1.0/me/presence", &token).await;
    assert_eq!(
        harness.get_with("v1.0/me/presence", &token).await.status,
        StatusCode::TOO_MANY_REQUESTS
    );
    ok(http
        .delete(admin("throttle"))
        .send()
        .await
        .unwrap()
        .status());
    ok(http
        .post(admin("latency"))
        .json(&json!({ "millis": 0 }))
        .send()
        .await
        .unwrap()
        .status());

    let peer: Value = http
        .post(admin("tokens"))
        .json(&json!({ "actor": "peer" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let peer_token = peer["access_token"].as_str().unwrap();
    assert_eq!(
        harness
            .get_with("v1.0/me/presence", peer_token)
            .await
            .status,
        StatusCode::OK
    );

    ok(http
        .post(admin("expire-access-tokens"))
        .send()
        .await
        .unwrap()
        .status());
    assert_eq!(
        harness.get_with("v1.0/me/presence", &token).await.status,
        StatusCode::UNAUTHORIZED
    );
    ok(http
        .post(admin("revoke-refresh-tokens"))
        .send()
        .await
        .unwrap()
        .status());
    assert_eq!(harness.refresh(&refresh).await.aadsts(), 50_173);

    let client_id = harness.client_id();
    let device: Value = harness
        .post_form(
            "organizations/oauth2/v2.0/devicecode",
            &[("client_id", &client_id), ("scope", "Presence.Read")],
        )
        .await
        .json();
    let user_code = device["user_code"].as_str().unwrap();
    let approve = http
        .post(admin(&format!("device-codes/{user_code}/approve")))
        .send()
        .await
        .unwrap();
    ok(approve.status());
    let again = http
        .post(admin(&format!("device-codes/{user_code}/decline")))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::NOT_FOUND);

    let records: Value = http
        .get(admin("requests"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let records = records.as_array().unwrap();
    assert!(records
        .iter()
        .all(|record| !record["path"].as_str().unwrap().starts_with("/_twin")));
    assert_eq!(records.len(), harness.twin.requests().len());
    let counters: Value = http
        .get(admin("counters"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(counters["by_status"]["503"], 1);
    assert_eq!(counters["by_actor"]["peer"], 1);
}

#[tokio::test]
async fn starts_fast_and_shuts_down() {
    let clock: clock::SharedClock = std::sync::Arc::new(clock::ManualClock::starting_now());
    let begun = WallInstant::now();
    let twin = graph_twin::Twin::start(TwinConfig::default(), clock)
        .await
        .expect("twin starts");
    let elapsed = begun.elapsed();
    println!("twin started in {elapsed:?}");
    assert!(
        elapsed < Duration::from_millis(100),
        "start took {elapsed:?}"
    );

    let http = reqwest::Client::new();
    let url = twin.graph_base().join("me/presence").unwrap();
    assert_eq!(
        http.get(url.clone()).send().await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    twin.shutdown().await;
    assert!(
        http.get(url).send().await.is_err(),
        "nothing listens after shutdown"
    );
}
