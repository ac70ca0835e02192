//! The twin's own control API under `/_twin/`, the HTTP mirror of the [`crate::Twin`] methods
//! for a scenario runner in another process. Only loopback peers may use it.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{ConnectInfo, Path, Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;

use crate::faults::{Fault, FaultKind, TokenBucket};
use crate::{Shared, SignInBehaviour};

/// Builds the admin routes; the caller nests them under `/_twin`.
pub(super) fn router() -> Router<Arc<Shared>> {
    Router::new()
        .route("/teams", post(set_teams))
        .route("/preferred", post(set_preferred).delete(clear_preferred))
        .route("/out-of-office", post(set_out_of_office))
        .route(
            "/status-message",
            post(set_status_message).delete(clear_status_message),
        )
        .route("/presence", get(presence))
        .route("/sessions/{session_id}", get(session))
        .route("/faults", get(faults).post(inject).delete(clear_faults))
        .route("/revoke-refresh-tokens", post(revoke_refresh_tokens))
        .route("/expire-access-tokens", post(expire_access_tokens))
        .route("/throttle", post(set_throttle).delete(clear_throttle))
        .route("/latency", post(set_latency))
        .route("/sign-in", post(set_sign_in))
        .route("/requests", get(requests))
        .route("/counters", get(counters))
        .route("/issued-secrets", get(issued_secrets))
        .route("/tokens", post(issue_token))
        .route(
            "/device-codes/{user_code}/approve",
            post(approve_device_code),
        )
        .route(
            "/device-codes/{user_code}/decline",
            post(decline_device_code),
        )
        .layer(middleware::from_fn(loopback_only))
}

async fn loopback_only(request: Request, next: Next) -> Response {
    let connect = request.extensions().get::<ConnectInfo<SocketAddr>>();
    if !super::is_loopback(connect) {
        return (
            StatusCode::FORBIDDEN,
            "the admin API answers loopback peers only",
        )
            .into_response();
    }
    next.run(request).await
}

#[derive(Deserialize)]
struct PresencePair {
    availability: String,
    activity: String,
}

async fn set_teams(
    State(shared): State<Arc<Shared>>,
    Json(pair): Json<PresencePair>,
) -> StatusCode {
    let now = shared.now();
    shared
        .lock()
        .presence
        .set_teams(now, &pair.availability, &pair.activity);
    StatusCode::NO_CONTENT
}

async fn set_preferred(
    State(shared): State<Arc<Shared>>,
    Json(pair): Json<PresencePair>,
) -> StatusCode {
    let now = shared.now();
    shared
        .lock()
        .presence
        .set_preferred(now, &pair.availability, &pair.activity, None);
    StatusCode::NO_CONTENT
}

async fn clear_preferred(State(shared): State<Arc<Shared>>) -> StatusCode {
    let now = shared.now();
    shared.lock().presence.clear_preferred(now);
    StatusCode::NO_CONTENT
}

#[derive(Deserialize)]
struct Switch {
    on: bool,
}

async fn set_out_of_office(
    State(shared): State<Arc<Shared>>,
    Json(switch): Json<Switch>,
) -> StatusCode {
    let now = shared.now();
    shared.lock().presence.set_out_of_office(now, switch.on);
    StatusCode::NO_CONTENT
}

#[derive(Deserialize)]
struct StatusText {
    content: String,
}

async fn set_status_message(
    State(shared): State<Arc<Shared>>,
    Json(text): Json<StatusText>,
) -> StatusCode {
    let now = shared.now();
    let message = crate::presence::StatusMessage {
        content: text.content,
        expiry: None,
        expires_at: None,
        published: shared.clock.wall_now(),
    };
    shared
        .lock()
        .presence
        .set_status_message(now, Some(message));
    StatusCode::NO_CONTENT
}

async fn clear_status_message(State(shared): State<Arc<Shared>>) -> StatusCode {
    let now = shared.now();
    shared.lock().presence.set_status_message(now, None);
    StatusCode::NO_CONTENT
}

async fn presence(State(shared): State<Arc<Shared>>) -> Json<serde_json::Value> {
    let now = shared.now();
    let snapshot = shared.lock().presence.snapshot(now);
    Json(json!({
        "availability": snapshot.availability,
        "activity": snapshot.activity,
        "isOutOfOffice": snapshot.is_out_of_office,
        "sequenceNumber": snapshot.sequence_number,
        "statusMessage": snapshot.status_message.map(|message| message.content),
    }))
}

async fn session(State(shared): State<Arc<Shared>>, Path(session_id): Path<String>) -> Response {
    let now = shared.now();
    let Some(session) = shared.lock().presence.app_session(now, &session_id) else {
        return (
            StatusCode::NOT_FOUND,
            Json(json!({ "error": "no live session with this id" })),
        )
            .into_response();
    };
    Json(json!({
        "sessionId": session.session_id,
        "availability": session.availability,
        "activity": session.activity,
        "effectiveAvailability": session.effective.0,
        "effectiveActivity": session.effective.1,
        "setAtMillis": session.set_at.since_start().as_millis() as u64,
        "expiresAtMillis": session.expires_at.since_start().as_millis() as u64,
    }))
    .into_response()
}

async fn faults(State(shared): State<Arc<Shared>>) -> Json<Vec<Fault>> {
    Json(shared.lock().faults.pending())
}

async fn inject(State(shared): State<Arc<Shared>>, Json(fault): Json<Fault>) -> StatusCode {
    let mut state = shared.lock();
    match fault.kind {
        FaultKind::ResetSequence => state.presence.reset_sequence(),
        _ => state.faults.push(fault),
    }
    StatusCode::NO_CONTENT
}

async fn clear_faults(State(shared): State<Arc<Shared>>) -> StatusCode {
    shared.lock().faults.clear();
    StatusCode::NO_CONTENT
}

async fn revoke_refresh_tokens(State(shared): State<Arc<Shared>>) -> StatusCode {
    shared.lock().tokens.revoke_refresh_tokens();
    StatusCode::NO_CONTENT
}

async fn expire_access_tokens(State(shared): State<Arc<Shared>>) -> StatusCode {
    let now = shared.now();
    shared.lock().tokens.expire_access_tokens(now);
    StatusCode::NO_CONTENT
}

#[derive(Deserialize)]
struct Throttle {
    limit: u32,
    window_millis: u64,
}

async fn set_throttle(
    State(shared): State<Arc<Shared>>,
    Json(throttle): Json<Throttle>,
) -> StatusCode {
    let now = shared.now();
    let window = Duration::from_millis(throttle.window_millis);
    shared.lock().bucket = Some(TokenBucket::new(throttle.limit, window, now));
    StatusCode::NO_CONTENT
}

async fn clear_throttle(State(shared): State<Arc<Shared>>) -> StatusCode {
    shared.lock().bucket = None;
    StatusCode::NO_CONTENT
}

#[derive(Deserialize)]
struct Latency {
    millis: u64,
}

async fn set_latency(
    State(shared): State<Arc<Shared>>,
    Json(latency): Json<Latency>,
) -> StatusCode {
    shared.lock().latency = Duration::from_millis(latency.millis);
    StatusCode::NO_CONTENT
}

async fn set_sign_in(
    State(shared): State<Arc<Shared>>,
    Json(behaviour): Json<SignInBehaviour>,
) -> StatusCode {
    shared.lock().sign_in = behaviour;
    StatusCode::NO_CONTENT
}

async fn requests(State(shared): State<Arc<Shared>>) -> Json<Vec<crate::log::RequestRecord>> {
    Json(shared.lock().log.records())
}

/// Every code and token issued so far, for tests that scan files and logs for leaks.
async fn issued_secrets(State(shared): State<Arc<Shared>>) -> Json<Vec<String>> {
    Json(shared.lock().tokens.issued_secrets())
}

async fn counters(State(shared): State<Arc<Shared>>) -> Json<crate::log::Counters> {
    Json(shared.lock().log.counters())
}

#[derive(Deserialize)]
struct TokenFor {
    actor: String,
}

async fn issue_token(
    State(shared): State<Arc<Shared>>,
    Json(request): Json<TokenFor>,
) -> Json<serde_json::Value> {
    let now = shared.now();
    let token = shared
        .lock()
        .tokens
        .issue_access_token_for(&shared.config, now, &request.actor);
    Json(json!({ "access_token": token }))
}

async fn approve_device_code(
    State(shared): State<Arc<Shared>>,
    Path(user_code): Path<String>,
) -> StatusCode {
    finish_device_code(&shared, &user_code, true)
}

async fn decline_device_code(
    State(shared): State<Arc<Shared>>,
    Path(user_code): Path<String>,
) -> StatusCode {
    finish_device_code(&shared, &user_code, false)
}

fn finish_device_code(shared: &Shared, user_code: &str, approve: bool) -> StatusCode {
    let now = shared.now();
    if shared
        .lock()
        .tokens
        .finish_device_sign_in(now, user_code, approve)
    {
        StatusCode::NO_CONTENT
    } else {
        StatusCode::NOT_FOUND
    }
}
