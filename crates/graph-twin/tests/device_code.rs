//! The device authorization grant: the devicecode endpoint and every polling state.

mod common;

use std::time::Duration;

use common::{Answer, Harness};
use graph_twin::{AppRegistration, TwinConfig};
use reqwest::StatusCode;

const DEVICE_CODE: &str = "organizations/oauth2/v2.0/devicecode";
const TOKEN: &str = "organizations/oauth2/v2.0/token";
const GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

async fn start(harness: &Harness) -> (String, String) {
    let client_id = harness.client_id();
    let answer = harness
        .post_form(
            DEVICE_CODE,
            &[
                ("client_id", &client_id),
                ("scope", "Presence.ReadWrite offline_access"),
            ],
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    let body = answer.json();
    assert_eq!(body["expires_in"], 900);
    assert_eq!(body["interval"], 5);
    let verification_uri = body["verification_uri"].as_str().unwrap();
    assert!(verification_uri.ends_with("/devicelogin"));
    let user_code = body["user_code"].as_str().unwrap().to_string();
    let message = body["message"].as_str().unwrap();
    assert!(
        message.contains(&user_code) && message.contains(verification_uri),
        "{message}"
    );
    (body["device_code"].as_str().unwrap().to_string(), user_code)
}

async fn poll(harness: &Harness, device_code: &str) -> Answer {
    let client_id = harness.client_id();
    harness
        .post_form(
            TOKEN,
            &[
                ("client_id", &client_id),
                ("grant_type", GRANT),
                ("device_code", device_code),
            ],
        )
        .await
}

fn check_error(answer: &Answer, error: &str) {
    assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{}", answer.text);
    assert_eq!(answer.json()["error"], error, "{}", answer.text);
}

#[tokio::test]
async fn pending_slow_down_then_tokens() {
    let harness = Harness::start().await;
    let (device_code, user_code) = start(&harness).await;
    check_error(&poll(&harness, &device_code).await, "authorization_pending");
    check_error(&poll(&harness, &device_code).await, "slow_down");
    harness.clock.advance(Duration::from_secs(5)).await;
    check_error(&poll(&harness, &device_code).await, "authorization_pending");

    assert!(harness.twin.approve_device_code(&user_code));
    assert!(
        !harness.twin.approve_device_code(&user_code),
        "only a pending sign-in can be approved"
    );
    harness.clock.advance(Duration::from_secs(5)).await;
    let answer = poll(&harness, &device_code).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    let body = answer.json();
    assert!(body["refresh_token"].is_string());
    let access = body["access_token"].as_str().unwrap();
    assert_eq!(
        harness.get_with("v1.0/me/presence", access).await.status,
        StatusCode::OK
    );

    harness.clock.advance(Duration::from_secs(5)).await;
    check_error(&poll(&harness, &device_code).await, "bad_verification_code");
}

#[tokio::test]
async fn declined_sign_in() {
    let harness = Harness::start().await;
    let (device_code, user_code) = start(&harness).await;
    assert!(harness.twin.decline_device_code(&user_code.to_lowercase()));
    check_error(
        &poll(&harness, &device_code).await,
        "authorization_declined",
    );
}

#[tokio::test]
async fn code_expires() {
    let harness = Harness::start().await;
    let (device_code, user_code) = start(&harness).await;
    harness.clock.advance(Duration::from_secs(900)).await;
    check_error(&poll(&harness, &device_code).await, "expired_token");
    assert_eq!(poll(&harness, &device_code).await.aadsts(), 70_019);
    assert!(!harness.twin.approve_device_code(&user_code));
}

#[tokio::test]
async fn unknown_device_code() {
    let harness = Harness::start().await;
    check_error(
        &poll(&harness, "not-a-device-code").await,
        "bad_verification_code",
    );
}

#[tokio::test]
async fn needs_public_client_flows() {
    let registration = AppRegistration {
        allow_public_client_flows: false,
        ..AppRegistration::default()
    };
    let harness = Harness::with(TwinConfig {
        registration,
        ..TwinConfig::default()
    })
    .await;
    let (device_code, user_code) = start(&harness).await;
    harness.twin.approve_device_code(&user_code);
    let answer = poll(&harness, &device_code).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert_eq!(answer.json()["error"], "invalid_client");
    assert_eq!(answer.aadsts(), 7_000_218);
}

#[tokio::test]
async fn demo_approves_on_its_own() {
    let harness = Harness::with(TwinConfig {
        demo: true,
        ..TwinConfig::default()
    })
    .await;
    let (device_code, _) = start(&harness).await;
    check_error(&poll(&harness, &device_code).await, "authorization_pending");
    harness.clock.advance(Duration::from_secs(5)).await;
    assert_eq!(poll(&harness, &device_code).await.status, StatusCode::OK);
}

#[tokio::test]
async fn device_login_page_approves() {
    let harness = Harness::start().await;
    let (device_code, user_code) = start(&harness).await;
    let page = harness
        .get(
            "devicelogin",
            &[("user_code", &user_code), ("action", "approve")],
        )
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text.contains("You have signed in"), "{}", page.text);
    assert_eq!(poll(&harness, &device_code).await.status, StatusCode::OK);
    let again = harness
        .get(
            "devicelogin",
            &[("user_code", &user_code), ("action", "approve")],
        )
        .await;
    assert!(again.text.contains("not valid"), "{}", again.text);
}

#[tokio::test]
async fn devicecode_request_checks() {
    let harness = Harness::start().await;
    let missing_scope = harness
        .post_form(DEVICE_CODE, &[("client_id", &harness.client_id())])
        .await;
    assert_eq!(missing_scope.aadsts(), 900_144);
    let unknown_client = harness
        .post_form(
            DEVICE_CODE,
            &[("client_id", "nobody"), ("scope", "Presence.Read")],
        )
        .await;
    assert_eq!(unknown_client.aadsts(), 700_016);
}
