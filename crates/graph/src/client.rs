//! The Graph presence client: read the user's presence, publish and clear the app's call
//! session, read the account, and map every failure to the engine's [`GraphFailure`].

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use engine::{GraphFailure, GraphWriteResult, TeamsPresence};
use reqwest::{Method, StatusCode};
use serde::Deserialize;

use crate::auth::{AuthError, Authenticator};
use crate::config::{POLL_TIMEOUT, WRITE_TIMEOUT};
use crate::http::{HttpError, Response};
use crate::retry_after::parse_retry_after;
use crate::Secret;

/// A boxed future, so that the boundary traits stay object safe.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The source of the Teams presence: Graph polling today, a push source later.
pub trait PresenceSource: Send + Sync {
    /// Reads the user's current Teams presence.
    fn get_presence(&self) -> BoxFuture<'_, Result<TeamsPresence, GraphFailure>>;
}

/// The target where the driver publishes the Swyx call to Teams.
pub trait CallPresenceSink: Send + Sync {
    /// Publishes the app session as Busy / InACall for five minutes.
    fn set_in_a_call(&self) -> BoxFuture<'_, GraphWriteResult>;
    /// Removes the app session; an already missing session is [`GraphWriteResult::NotFound`].
    fn clear_presence(&self) -> BoxFuture<'_, GraphWriteResult>;
}

/// The signed-in account as `GET /me` returns it.
#[derive(Clone, PartialEq, Eq)]
pub struct Account {
    /// The user principal name; shown in the window, never logged.
    pub user_principal_name: String,
    /// The display name, when the directory has one.
    pub display_name: Option<String>,
}

impl std::fmt::Debug for Account {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Account").finish_non_exhaustive()
    }
}

/// The Graph client of one signed-in user.
#[derive(Debug, Clone)]
pub struct GraphClient {
    auth: Arc<Authenticator>,
}

/// One Graph request as the client sends it.
#[derive(Debug, Clone)]
struct Call {
    label: &'static str,
    method: Method,
    path: &'static str,
    timeout: Duration,
    write: bool,
}

const GET_PRESENCE: Call = Call {
    label: "me/presence",
    method: Method::GET,
    path: "me/presence",
    timeout: POLL_TIMEOUT,
    write: false,
};
const SET_PRESENCE: Call = Call {
    label: "me/presence/setPresence",
    method: Method::POST,
    path: "me/presence/setPresence",
    timeout: WRITE_TIMEOUT,
    write: true,
};
const CLEAR_PRESENCE: Call = Call {
    label: "me/presence/clearPresence",
    method: Method::POST,
    path: "me/presence/clearPresence",
    timeout: WRITE_TIMEOUT,
    write: true,
};
const GET_ME: Call = Call {
    label: "me",
    method: Method::GET,
    path: "me",
    timeout: WRITE_TIMEOUT,
    write: false,
};

impl GraphClient {
    /// Creates a client that takes its tokens from `auth`.
    pub fn new(auth: Arc<Authenticator>) -> Self {
        Self { auth }
    }

    /// Returns the authenticator behind this client.
    pub fn authenticator(&self) -> &Arc<Authenticator> {
        &self.auth
    }

    /// `GET /me/presence`, within 5 s.
    pub async fn get_presence(&self) -> Result<TeamsPresence, GraphFailure> {
        let response = self.send(&GET_PRESENCE, None).await?;
        let parsed = parse_presence(&response.body);
        if let Err(GraphFailure::Malformed { reason }) = &parsed {
            tracing::debug!(reason = %reason, "graph presence response unreadable");
        }
        parsed
    }

    /// `setPresence` Busy / InACall, `expirationDuration` PT5M, `sessionId` = the client id,
    /// within 10 s.
    pub async fn set_in_a_call(&self) -> GraphWriteResult {
        let body = serde_json::json!({
            "sessionId": self.auth.config().client_id,
            "availability": "Busy",
            "activity": "InACall",
            "expirationDuration": "PT5M",
        });
        match self.send(&SET_PRESENCE, Some(body)).await {
            Ok(_) => GraphWriteResult::Acknowledged,
            Err(failure) => GraphWriteResult::Failed(failure.into()),
        }
    }

    /// `clearPresence` for the app's session, within 10 s; 404 means it was already gone.
    pub async fn clear_presence(&self) -> GraphWriteResult {
        let body = serde_json::json!({ "sessionId": self.auth.config().client_id });
        match self.send(&CLEAR_PRESENCE, Some(body)).await {
            Ok(_) => GraphWriteResult::Acknowledged,
            Err(Failure::NotFound) => GraphWriteResult::NotFound,
            Err(Failure::Graph(failure)) => GraphWriteResult::Failed(failure),
        }
    }

    /// `GET /me`: the user principal name and display name.
    pub async fn me(&self) -> Result<Account, GraphFailure> {
        let response = self.send(&GET_ME, None).await?;
        parse_account(&response.body)
    }

    /// Sends `call` with a valid access token; on 401 refreshes once (single-flight) and
    /// retries once.
    async fn send(
        &self,
        call: &Call,
        body: Option<serde_json::Value>,
    ) -> Result<Response, Failure> {
        let token = self.auth.access_token().await.map_err(auth_failure)?;
        let response = self.send_once(call, body.as_ref(), &token).await?;
        if response.status != StatusCode::UNAUTHORIZED {
            return check_status(call, response, self.wall_now());
        }

        tracing::debug!(
            endpoint = call.label,
            "graph returned 401; refreshing the access token"
        );
        let token = self
            .auth
            .refresh_rejected(&token)
            .await
            .map_err(auth_failure)?;
        let response = self.send_once(call, body.as_ref(), &token).await?;
        if response.status == StatusCode::UNAUTHORIZED {
            // A freshly issued token rejected again is not fixed by refreshing in a loop.
            return Err(Failure::Graph(GraphFailure::Forbidden {
                reason: "Graph rejected a freshly issued access token (401): sign out and sign \
                         in again; if that does not help, ask your administrator"
                    .to_owned(),
            }));
        }
        check_status(call, response, self.wall_now())
    }

    fn wall_now(&self) -> std::time::SystemTime {
        self.auth.http().clock().wall_now()
    }

    async fn send_once(
        &self,
        call: &Call,
        body: Option<&serde_json::Value>,
        token: &Secret,
    ) -> Result<Response, Failure> {
        let http = self.auth.http();
        let url = self.auth.config().graph_url(call.path);
        let mut builder = http
            .reqwest()
            .request(call.method.clone(), url)
            .bearer_auth(token.expose());
        if let Some(body) = body {
            builder = builder.json(body);
        }
        let request = builder.build().map_err(|error| {
            Failure::Graph(GraphFailure::Transient {
                reason: error.without_url().to_string(),
            })
        })?;
        http.execute(call.label, request, call.timeout)
            .await
            .map_err(|error| {
                Failure::Graph(GraphFailure::Transient {
                    reason: transport_reason(&error),
                })
            })
    }
}

impl PresenceSource for GraphClient {
    fn get_presence(&self) -> BoxFuture<'_, Result<TeamsPresence, GraphFailure>> {
        Box::pin(GraphClient::get_presence(self))
    }
}

impl CallPresenceSink for GraphClient {
    fn set_in_a_call(&self) -> BoxFuture<'_, GraphWriteResult> {
        Box::pin(GraphClient::set_in_a_call(self))
    }

    fn clear_presence(&self) -> BoxFuture<'_, GraphWriteResult> {
        Box::pin(GraphClient::clear_presence(self))
    }
}

/// A failed request: a 404 (success for `clearPresence`) or a [`GraphFailure`].
#[derive(Debug)]
enum Failure {
    NotFound,
    Graph(GraphFailure),
}

impl From<Failure> for GraphFailure {
    fn from(failure: Failure) -> Self {
        match failure {
            Failure::NotFound => GraphFailure::Rejected {
                reason: "not found (404)".to_owned(),
            },
            Failure::Graph(failure) => failure,
        }
    }
}

fn auth_failure(error: AuthError) -> Failure {
    let failure = match error {
        AuthError::NotSignedIn | AuthError::SignInExpired(_) => GraphFailure::SignInExpired,
        error if error.is_transient() => GraphFailure::Transient {
            reason: crate::error_chain(&error),
        },
        AuthError::Entra(entra) => GraphFailure::Forbidden {
            reason: entra.to_string(),
        },
        other => GraphFailure::Transient {
            reason: crate::error_chain(&other),
        },
    };
    Failure::Graph(failure)
}

fn transport_reason(error: &HttpError) -> String {
    match error {
        HttpError::Timeout(limit) => format!("Graph request timed out after {} s", limit.as_secs()),
        HttpError::Transport(_)
        | HttpError::UntrustedCertificate { .. }
        | HttpError::Unavailable { .. } => crate::error_chain(error),
    }
}

/// Maps a non-401 response to success or a failure.
fn check_status(
    call: &Call,
    response: Response,
    wall_now: std::time::SystemTime,
) -> Result<Response, Failure> {
    let status = response.status;
    if status.is_success() {
        return Ok(response);
    }
    let code = graph_error_code(&response.body);
    let code_text = code
        .as_deref()
        .map(|code| format!(" {code}"))
        .unwrap_or_default();
    let failure = match status {
        StatusCode::NOT_FOUND if call.write => return Err(Failure::NotFound),
        StatusCode::TOO_MANY_REQUESTS => GraphFailure::Throttled {
            retry_after: response
                .headers
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|value| value.to_str().ok())
                .and_then(|value| parse_retry_after(value, wall_now)),
        },
        StatusCode::FORBIDDEN => GraphFailure::Forbidden {
            reason: format!(
                "Graph denied {} (403{code_text}): the app needs the delegated permission \
                 Presence.ReadWrite with consent; ask your administrator to grant it",
                call.label
            ),
        },
        StatusCode::REQUEST_TIMEOUT => GraphFailure::Transient {
            reason: format!("{} timed out at Graph (408)", call.label),
        },
        status if status.is_server_error() => GraphFailure::Transient {
            reason: format!(
                "Graph failed on {} ({}{code_text})",
                call.label,
                status.as_u16()
            ),
        },
        status => GraphFailure::Rejected {
            reason: format!(
                "Graph rejected {} ({}{code_text}); retrying will not help, report this to \
                 the app's maintainer",
                call.label,
                status.as_u16()
            ),
        },
    };
    tracing::debug!(
        endpoint = call.label,
        status = status.as_u16(),
        "graph request failed"
    );
    Err(Failure::Graph(failure))
}

/// Extracts the `error.code` of a Graph error body. The message is dropped because it may name
/// the user.
fn graph_error_code(body: &[u8]) -> Option<String> {
    #[derive(Deserialize)]
    struct Envelope {
        error: Inner,
    }
    #[derive(Deserialize)]
    struct Inner {
        code: String,
    }
    let envelope: Envelope = serde_json::from_slice(body).ok()?;
    let code: String = envelope
        .error
        .code
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '.')
        .take(64)
        .collect();
    (!code.is_empty()).then_some(code)
}

/// Parses `GET /me/presence`; values stay raw strings, unknown fields are ignored.
pub(crate) fn parse_presence(body: &[u8]) -> Result<TeamsPresence, GraphFailure> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Presence {
        availability: Option<String>,
        activity: Option<String>,
        #[serde(default)]
        out_of_office_settings: Option<OutOfOffice>,
        #[serde(default)]
        sequence_number: Option<String>,
    }
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct OutOfOffice {
        #[serde(default)]
        is_out_of_office: Option<bool>,
    }

    let presence: Presence =
        serde_json::from_slice(body).map_err(|error| GraphFailure::Malformed {
            reason: format!("presence is not valid JSON: {error}"),
        })?;
    let (Some(availability), Some(activity)) = (presence.availability, presence.activity) else {
        return Err(GraphFailure::Malformed {
            reason: "presence lacks availability or activity".to_owned(),
        });
    };
    Ok(TeamsPresence {
        availability,
        activity,
        is_out_of_office: presence
            .out_of_office_settings
            .and_then(|settings| settings.is_out_of_office)
            .unwrap_or(false),
        sequence_number: presence.sequence_number,
    })
}

/// Parses `GET /me`.
pub(crate) fn parse_account(body: &[u8]) -> Result<Account, GraphFailure> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Me {
        user_principal_name: Option<String>,
        #[serde(default)]
        display_name: Option<String>,
    }
    // The JSON error text could quote the user principal name, so only its position is kept.
    let me: Me = serde_json::from_slice(body).map_err(|error| GraphFailure::Malformed {
        reason: format!(
            "account is not valid JSON (line {}, column {})",
            error.line(),
            error.column()
        ),
    })?;
    let Some(user_principal_name) = me.user_principal_name else {
        return Err(GraphFailure::Malformed {
            reason: "account lacks userPrincipalName".to_owned(),
        });
    };
    Ok(Account {
        user_principal_name,
        display_name: me.display_name,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_presence(body: &str, expected: Result<(&str, &str, bool, Option<&str>), ()>) {
        let parsed = parse_presence(body.as_bytes());
        match (parsed, expected) {
            (Ok(got), Ok((availability, activity, ooo, sequence))) => {
                assert_eq!(got.availability, availability, "{body}");
                assert_eq!(got.activity, activity, "{body}");
                assert_eq!(got.is_out_of_office, ooo, "{body}");
                assert_eq!(got.sequence_number.as_deref(), sequence, "{body}");
            }
            (Err(GraphFailure::Malformed { .. }), Err(())) => {}
            (got, expected) => panic!("{body}: got {got:?}, expected {expected:?}"),
        }
    }

    #[test]
    fn presence_parsing() {
        check_presence(
            r#"{"id":"x","availability":"Available","activity":"Available",
                "outOfOfficeSettings":{"message":null,"isOutOfOffice":false},
                "sequenceNumber":"A0129311063"}"#,
            Ok(("Available", "Available", false, Some("A0129311063"))),
        );
        check_presence(
            r#"{"availability":"busy","activity":"inACall","outOfOfficeSettings":{"isOutOfOffice":true},
                "workLocation":{"@odata.type":"x"},"statusMessage":null}"#,
            Ok(("busy", "inACall", true, None)),
        );
        check_presence(
            r#"{"availability":"Focusing","activity":"SomethingNew"}"#,
            Ok(("Focusing", "SomethingNew", false, None)),
        );
        check_presence(r#"{"availability":"Available"}"#, Err(()));
        check_presence(r#"{"availability":1,"activity":"Available"}"#, Err(()));
        check_presence(r#"{"availability":"Available","activity":"Av"#, Err(()));
        check_presence("<html>gateway</html>", Err(()));
        check_presence("", Err(()));
        check_presence("[]", Err(()));
    }

    #[test]
    fn account_parsing() {
        let account =
            parse_account(br#"{"userPrincipalName":"a@b.example","displayName":"A B","id":"1"}"#)
                .unwrap();
        assert_eq!(account.user_principal_name, "a@b.example");
        assert_eq!(account.display_name.as_deref(), Some("A B"));
        assert!(
            !format!("{account:?}").contains("a@b"),
            "Debug must not print the UPN"
        );
        assert!(matches!(
            parse_account(b"{}"),
            Err(GraphFailure::Malformed { .. })
        ));
        let error = parse_account(br#"{"userPrincipalName":"a@b.example""#).unwrap_err();
        assert!(!format!("{error:?}").contains("a@b"), "{error:?}");
    }

    #[test]
    fn graph_error_code_is_sanitised() {
        let body = br#"{"error":{"code":"Forbidden","message":"user a@b.example has no access"}}"#;
        assert_eq!(graph_error_code(body).as_deref(), Some("Forbidden"));
        assert_eq!(
            graph_error_code(br#"{"error":{"code":"<b>x y</b>"}}"#).as_deref(),
            Some("bxyb")
        );
        assert_eq!(graph_error_code(b"not json"), None);
    }
}
