//! The HTTP surface: routing, the request log, faults, throttling and latency around every
//! Entra and Graph handler.

mod admin;
mod entra;
mod graph;

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde_json::json;
use url::Url;

use crate::faults::{Endpoint, FaultKind, TIMEOUT_GIVE_UP};
use crate::log::Outcome;
use crate::server::ConnectionControl;
use crate::{ids, Shared};

/// Per-request facts the middleware hands to the handlers.
#[derive(Debug, Clone)]
pub(crate) struct RequestContext {
    /// Id in the request log.
    pub log_id: u64,
    /// The `request-id` Graph sends back.
    pub request_id: String,
    /// The caller's `client-request-id`, or a fresh one.
    pub client_request_id: String,
}

/// Returns the Graph base URL of a twin: `{base}v1.0/`.
pub(crate) fn graph_base(shared: &Shared) -> Url {
    shared
        .base_url
        .join("v1.0/")
        .unwrap_or_else(|_| shared.base_url.clone())
}

/// Builds every route of the twin.
pub(crate) fn router(shared: Arc<Shared>) -> Router {
    let services = Router::new()
        .route("/{tenant}/oauth2/v2.0/authorize", get(entra::authorize))
        .route("/{tenant}/oauth2/v2.0/token", post(entra::token))
        .route("/{tenant}/oauth2/v2.0/devicecode", post(entra::device_code))
        .route("/devicelogin", get(entra::device_login))
        .route("/v1.0/me", get(graph::me))
        .route("/v1.0/users/{user}", get(graph::user))
        .route("/v1.0/me/presence", get(graph::my_presence))
        .route("/v1.0/users/{user}/presence", get(graph::user_presence))
        .route(
            "/v1.0/me/presence/{action}",
            post(graph::my_presence_action),
        )
        .route(
            "/v1.0/users/{user}/presence/{action}",
            post(graph::user_presence_action),
        )
        .fallback(graph::not_found)
        .layer(middleware::from_fn_with_state(shared.clone(), front));
    Router::new()
        .nest("/_twin", admin::router())
        .merge(services)
        .with_state(shared)
}

/// Names the endpoint of a request for the log and the fault rules.
fn classify(method: &Method, path: &str) -> Endpoint {
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let graph_tail = match segments.as_slice() {
        ["v1.0", "me", rest @ ..] => Some(rest),
        ["v1.0", "users", _, rest @ ..] => Some(rest),
        _ => None,
    };
    if let Some(tail) = graph_tail {
        return match (method, tail) {
            (&Method::GET, []) => Endpoint::Me,
            (&Method::GET, ["presence"]) => Endpoint::Presence,
            (&Method::POST, ["presence", "setPresence"]) => Endpoint::SetPresence,
            (&Method::POST, ["presence", "clearPresence"]) => Endpoint::ClearPresence,
            (&Method::POST, ["presence", "setUserPreferredPresence"]) => {
                Endpoint::SetUserPreferredPresence
            }
            (&Method::POST, ["presence", "clearUserPreferredPresence"]) => {
                Endpoint::ClearUserPreferredPresence
            }
            (&Method::POST, ["presence", "setStatusMessage"]) => Endpoint::SetStatusMessage,
            _ => Endpoint::Any,
        };
    }
    match segments.as_slice() {
        [_, "oauth2", "v2.0", "authorize"] => Endpoint::Authorize,
        [_, "oauth2", "v2.0", "token"] => Endpoint::Token,
        [_, "oauth2", "v2.0", "devicecode"] => Endpoint::DeviceCode,
        _ => Endpoint::Any,
    }
}

/// Returns the bearer token of a request, if any.
pub(crate) fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
        .filter(|t| !t.is_empty())
}

/// Logs the request, applies faults, throttling and latency, then runs the handler.
async fn front(State(shared): State<Arc<Shared>>, mut request: Request, next: Next) -> Response {
    let endpoint = classify(request.method(), request.uri().path());
    let path = request
        .uri()
        .path_and_query()
        .map_or_else(String::new, |p| p.to_string());
    let client_request_id = request
        .headers()
        .get("client-request-id")
        .and_then(|value| value.to_str().ok())
        .map_or_else(ids::guid, str::to_string);
    let control = request
        .extensions()
        .get::<ConnectionControl>()
        .cloned()
        .unwrap_or_default();

    // Open the log entry and take the fault (or the throttling verdict) in one step, so the
    // order of requests in the log is the order they were judged in.
    let sent = shared.now();
    let (context, fault, throttled, latency) = {
        let mut state = shared.lock();
        let actor = bearer(request.headers())
            .and_then(|token| state.tokens.actor_of(token))
            .unwrap_or("app")
            .to_string();
        let log_id = state
            .log
            .open(endpoint, request.method().as_str(), &path, &actor, sent);
        let fault = state.faults.take(endpoint);
        let throttled = match (&fault, state.bucket.as_mut()) {
            (None, Some(bucket)) if endpoint.is_graph() => bucket.try_take(sent).err(),
            _ => None,
        };
        if let Some(fault) = &fault {
            state.log.set_fault(log_id, format!("{fault:?}"));
        } else if throttled.is_some() {
            state.log.set_fault(log_id, "throttled".to_string());
        }
        let context = RequestContext {
            log_id,
            request_id: ids::guid(),
            client_request_id,
        };
        (context, fault, throttled, state.latency)
    };
    tracing::debug!(%endpoint, %path, log_id = context.log_id, ?fault, "request");

    // Faults that send a response without running the handler.
    let mut extra_delay = Duration::ZERO;
    let mut malformed = false;
    let mut response = match fault {
        Some(FaultKind::Reset) => {
            return close_connection(&shared, &context, &control, Outcome::Reset).await
        }
        Some(FaultKind::Timeout) => {
            let _waiting = shared.clock.waiting();
            shared.clock.sleep(TIMEOUT_GIVE_UP).await;
            return close_connection(&shared, &context, &control, Outcome::TimedOut).await;
        }
        Some(FaultKind::Status {
            status,
            retry_after_seconds,
        }) => {
            let mut response = fault_response(&shared, &context, endpoint, status);
            if let Some(seconds) = retry_after_seconds {
                response
                    .headers_mut()
                    .insert("retry-after", HeaderValue::from(seconds));
            }
            response
        }
        Some(FaultKind::Body { body }) => (
            [(
                axum::http::header::CONTENT_TYPE,
                "application/json; charset=utf-8",
            )],
            body,
        )
            .into_response(),
        Some(kind) => {
            match kind {
                FaultKind::Delay { millis } => extra_delay = Duration::from_millis(millis),
                FaultKind::Malformed => malformed = true,
                _ => {}
            }
            request.extensions_mut().insert(context.clone());
            next.run(request).await
        }
        None => match throttled {
            Some(wait) => throttled_response(&shared, &context, wait),
            None => {
                request.extensions_mut().insert(context.clone());
                next.run(request).await
            }
        },
    };

    if malformed {
        let status = response.status();
        let headers = response.headers().clone();
        response = (status, headers, r#"{"@odata.context": "#).into_response();
        response.headers_mut().insert(
            axum::http::header::CONTENT_TYPE,
            HeaderValue::from_static("application/json; charset=utf-8"),
        );
    }

    // Responses are computed on arrival and sent after the delay, on the shared clock.
    let delay = latency + extra_delay;
    if !delay.is_zero() {
        let _waiting = shared.clock.waiting();
        shared.clock.sleep(delay).await;
    }

    if endpoint.is_graph() || endpoint == Endpoint::Any {
        add_graph_headers(response.headers_mut(), &context);
    }
    let status = response.status().as_u16();
    shared
        .lock()
        .log
        .close(context.log_id, Outcome::Answered(status), shared.now());
    tracing::debug!(%endpoint, status, log_id = context.log_id, "answered");
    response
}

async fn close_connection(
    shared: &Shared,
    context: &RequestContext,
    control: &ConnectionControl,
    outcome: Outcome,
) -> Response {
    shared
        .lock()
        .log
        .close(context.log_id, outcome, shared.now());
    control.reset();
    // The connection task drops this future when it closes the socket.
    std::future::pending::<Response>().await
}

fn add_graph_headers(headers: &mut HeaderMap, context: &RequestContext) {
    for (name, value) in [
        ("request-id", &context.request_id),
        ("client-request-id", &context.client_request_id),
    ] {
        if let Ok(value) = HeaderValue::from_str(value) {
            headers.insert(name, value);
        }
    }
}

/// Builds the error response of an injected status fault, in the shape of the service that
/// owns the endpoint.
fn fault_response(
    shared: &Shared,
    context: &RequestContext,
    endpoint: Endpoint,
    status: u16,
) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if endpoint.is_graph() || endpoint == Endpoint::Any {
        let code = match status.as_u16() {
            400 => "BadRequest",
            401 => "InvalidAuthenticationToken",
            403 => "Forbidden",
            404 => "NotFound",
            429 => "TooManyRequests",
            502 => "BadGateway",
            503 => "ServiceUnavailable",
            504 => "GatewayTimeout",
            _ => "InternalServerError",
        };
        let message = status.canonical_reason().unwrap_or("Error");
        return graph_error(shared, context, status, code, message);
    }
    let error = entra_error_body(
        shared,
        context,
        &crate::entra::EntraError {
            status: status.as_u16(),
            error: if status.is_server_error() {
                "temporarily_unavailable"
            } else {
                "invalid_request"
            },
            code: 90_033,
            message: "A transient error has occurred. Please try again.".to_string(),
        },
    );
    (status, error).into_response()
}

fn throttled_response(shared: &Shared, context: &RequestContext, wait: Duration) -> Response {
    let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    let mut response = graph_error(
        shared,
        context,
        StatusCode::TOO_MANY_REQUESTS,
        "TooManyRequests",
        "Too many requests. The application exceeded its presence request budget for this tenant.",
    );
    response
        .headers_mut()
        .insert("retry-after", HeaderValue::from(seconds.max(1)));
    response
}

/// Builds a Graph error: `{"error":{"code","message","innerError":{...}}}`.
pub(crate) fn graph_error(
    shared: &Shared,
    context: &RequestContext,
    status: StatusCode,
    code: &str,
    message: &str,
) -> Response {
    let body = json!({
        "error": {
            "code": code,
            "message": message,
            "innerError": {
                "date": ids::graph_date(shared.clock.wall_now()),
                "request-id": context.request_id,
                "client-request-id": context.client_request_id,
            }
        }
    });
    let mut response = (status, axum::Json(body)).into_response();
    if status == StatusCode::UNAUTHORIZED {
        let challenge = format!(
            "Bearer realm=\"\", authorization_uri=\"{}common/oauth2/authorize\", client_id=\"00000003-0000-0000-c000-000000000000\"",
            shared.base_url
        );
        if let Ok(value) = HeaderValue::from_str(&challenge) {
            response
                .headers_mut()
                .insert(axum::http::header::WWW_AUTHENTICATE, value);
        }
    }
    response
}

/// Entra's JSON error body for the token and device code endpoints.
pub(crate) fn entra_error_body(
    shared: &Shared,
    context: &RequestContext,
    error: &crate::entra::EntraError,
) -> axum::Json<serde_json::Value> {
    axum::Json(json!({
        "error": error.error,
        "error_description": format!(
            "{}\r\nTrace ID: {}\r\nCorrelation ID: {}\r\nTimestamp: {}",
            error.description(),
            context.request_id,
            context.client_request_id,
            ids::entra_timestamp(shared.clock.wall_now())
        ),
        "error_codes": [error.code],
        "timestamp": ids::entra_timestamp(shared.clock.wall_now()),
        "trace_id": context.request_id,
        "correlation_id": context.client_request_id,
        "error_uri": format!("{}error?code={}", shared.base_url, error.code),
    }))
}

/// Turns an Entra error into the token endpoint's response.
pub(crate) fn entra_error(
    shared: &Shared,
    context: &RequestContext,
    error: &crate::entra::EntraError,
) -> Response {
    let status = StatusCode::from_u16(error.status).unwrap_or(StatusCode::BAD_REQUEST);
    let mut response = (status, entra_error_body(shared, context, error)).into_response();
    no_store(response.headers_mut());
    response
}

/// Marks a token response as not cacheable (RFC 6749 section 5.1).
pub(crate) fn no_store(headers: &mut HeaderMap) {
    headers.insert(
        axum::http::header::CACHE_CONTROL,
        HeaderValue::from_static("no-store"),
    );
    headers.insert(
        axum::http::header::PRAGMA,
        HeaderValue::from_static("no-cache"),
    );
}

/// Returns whether a peer may use the admin API: loopback only.
pub(crate) fn is_loopback(connect: Option<&ConnectInfo<std::net::SocketAddr>>) -> bool {
    connect.is_some_and(|ConnectInfo(address)| address.ip().is_loopback())
}

/// Builds an empty 200 response, as Graph sends for the presence actions.
pub(crate) fn ok_empty() -> Response {
    (StatusCode::OK, Body::empty()).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_paths() {
        let check = |method: Method, path: &str, expected: Endpoint| {
            assert_eq!(classify(&method, path), expected, "{method} {path}");
        };
        check(Method::GET, "/v1.0/me/presence", Endpoint::Presence);
        check(Method::GET, "/v1.0/users/abc/presence", Endpoint::Presence);
        check(
            Method::POST,
            "/v1.0/me/presence/setPresence",
            Endpoint::SetPresence,
        );
        check(
            Method::POST,
            "/v1.0/users/abc/presence/clearPresence",
            Endpoint::ClearPresence,
        );
        check(
            Method::POST,
            "/v1.0/me/presence/setUserPreferredPresence",
            Endpoint::SetUserPreferredPresence,
        );
        check(
            Method::POST,
            "/v1.0/me/presence/clearUserPreferredPresence",
            Endpoint::ClearUserPreferredPresence,
        );
        check(
            Method::POST,
            "/v1.0/me/presence/setStatusMessage",
            Endpoint::SetStatusMessage,
        );
        check(Method::GET, "/v1.0/me", Endpoint::Me);
        check(
            Method::GET,
            "/organizations/oauth2/v2.0/authorize",
            Endpoint::Authorize,
        );
        check(Method::POST, "/common/oauth2/v2.0/token", Endpoint::Token);
        check(
            Method::POST,
            "/tenant/oauth2/v2.0/devicecode",
            Endpoint::DeviceCode,
        );
        check(Method::POST, "/v1.0/me/presence", Endpoint::Any);
        check(Method::GET, "/v1.0/me/calendar", Endpoint::Any);
    }

    #[test]
    fn admin_api_is_loopback_only() {
        let peer = |address: &str| ConnectInfo(address.parse::<std::net::SocketAddr>().unwrap());
        assert!(is_loopback(Some(&peer("127.0.0.1:5000"))));
        assert!(is_loopback(Some(&peer("[::1]:5000"))));
        assert!(!is_loopback(Some(&peer("192.168.1.20:5000"))));
        assert!(!is_loopback(None));
    }

    #[test]
    fn reads_bearer_tokens() {
        let mut headers = HeaderMap::new();
        assert_eq!(bearer(&headers), None);
        headers.insert("authorization", HeaderValue::from_static("Bearer abc"));
        assert_eq!(bearer(&headers), Some("abc"));
        headers.insert("authorization", HeaderValue::from_static("bearer  xyz "));
        assert_eq!(bearer(&headers), Some("xyz"));
        headers.insert("authorization", HeaderValue::from_static("Basic abc"));
        assert_eq!(bearer(&headers), None);
        headers.insert("authorization", HeaderValue::from_static("Bearer "));
        assert_eq!(bearer(&headers), None);
    }
}
