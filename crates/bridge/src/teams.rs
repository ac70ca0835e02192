//! The Teams side of the core: the Graph client and the Entra sign-in behind [`TeamsPort`].

use std::sync::Arc;
use std::time::Duration;

use engine::{GraphFailure, GraphWrite, GraphWriteResult, TeamsPresence};
use graph::{AuthError, Authenticator, GraphClient, HttpError, OpenUrl, Persistence, Restored};

use crate::ports::{Account, BoxFuture, DeviceCode, ShowDeviceCode, SignInError, TeamsPort};

/// [`TeamsPort`] over the Graph client.
pub struct GraphTeams {
    client: GraphClient,
    browser: OpenUrl,
    callback_timeout: Duration,
    /// Wakes a "Sign in with a code" that waits for the user, to cancel it.
    cancel_code: tokio::sync::Notify,
}

impl GraphTeams {
    /// Signs in through `browser` (the system browser, or the scripted stand-in in demo mode).
    pub fn new(auth: Arc<Authenticator>, browser: OpenUrl) -> Self {
        Self {
            client: GraphClient::new(auth),
            browser,
            callback_timeout: graph::DEFAULT_CALLBACK_TIMEOUT,
            cancel_code: tokio::sync::Notify::new(),
        }
    }

    /// Returns the authenticator, for "Sign in with a code".
    pub fn authenticator(&self) -> &Arc<Authenticator> {
        self.client.authenticator()
    }

    /// Reads the account for the window. Only an expired sign-in fails it: when `GET /me`
    /// fails for another reason the sign-in is kept and the account stays unknown (empty), so
    /// that a network error at start does not leave the app signed out.
    async fn account(&self, persistence: Persistence) -> Result<Account, SignInError> {
        // The window words the warning itself; it gets only the keyring's reason.
        let not_persisted_reason = match persistence {
            Persistence::Keyring => None,
            Persistence::MemoryOnly { reason } => Some(reason),
        };
        match self.client.me().await {
            Ok(me) => Ok(Account {
                display_name: me
                    .display_name
                    .clone()
                    .unwrap_or_else(|| me.user_principal_name.clone()),
                upn: me.user_principal_name,
                not_persisted_reason,
            }),
            Err(GraphFailure::SignInExpired) => Err(SignInError {
                code: None,
                message: "the sign-in has expired".into(),
                action: "Sign in again".into(),
                link: None,
                cancelled: false,
            }),
            Err(failure) => {
                tracing::warn!(?failure, "account not read; keeping the sign-in");
                Ok(Account {
                    upn: String::new(),
                    display_name: String::new(),
                    not_persisted_reason,
                })
            }
        }
    }
}

/// Turns a sign-in failure into what the window shows.
pub fn sign_in_error(error: &AuthError) -> SignInError {
    match error {
        AuthError::Entra(entra) => {
            let link = match &entra.kind {
                graph::EntraErrorKind::ConsentRequired { admin_consent_url } => {
                    Some(admin_consent_url.to_string())
                }
                _ => None,
            };
            // The window shows the code and the action on their own, so the message carries
            // only the OAuth error name; the error's Display text would repeat both.
            SignInError {
                code: Some(entra.code_text()),
                message: format!("Entra ID refused the sign-in: {}", entra.error),
                action: sentence_case(&entra.action()),
                link,
                cancelled: false,
            }
        }
        AuthError::SignInExpired(_) => SignInError {
            code: None,
            message: error.to_string(),
            action: "Sign in again".into(),
            link: None,
            cancelled: false,
        },
        // "could not reach Entra ID" alone hides whether a proxy, a certificate or the network
        // failed, so the message carries the causes.
        AuthError::Network(network) => SignInError {
            code: None,
            message: with_causes(error),
            action: match network {
                HttpError::UntrustedCertificate { .. } => {
                    "Sign in again once the root certificate is installed and Presence Bridge \
                     has been restarted"
                        .into()
                }
                _ => {
                    "Check the network connection and the proxy settings, then sign in again".into()
                }
            },
            link: None,
            cancelled: false,
        },
        AuthError::Cancelled => SignInError {
            code: None,
            message: error.to_string(),
            action: "Sign in again".into(),
            link: None,
            cancelled: true,
        },
        other => SignInError {
            code: None,
            message: other.to_string(),
            action: "Sign in again".into(),
            link: None,
            cancelled: false,
        },
    }
}

/// Joins an error and its causes into one line.
fn with_causes(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Capitalizes the first letter, for a text that is shown as a sentence of its own.
fn sentence_case(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

impl TeamsPort for GraphTeams {
    fn poll(&self) -> BoxFuture<'_, Result<TeamsPresence, GraphFailure>> {
        Box::pin(self.client.get_presence())
    }

    fn write(&self, write: GraphWrite) -> BoxFuture<'_, GraphWriteResult> {
        match write {
            GraphWrite::SetInACall => Box::pin(self.client.set_in_a_call()),
            GraphWrite::Clear => Box::pin(self.client.clear_presence()),
        }
    }

    fn restore(&self) -> BoxFuture<'_, Result<Option<Account>, SignInError>> {
        Box::pin(async move {
            match self.authenticator().restore().await {
                Restored::SignedIn => self.account(Persistence::Keyring).await.map(Some),
                Restored::NothingStored => Ok(None),
                Restored::StoreFailed(error) => {
                    tracing::warn!(%error, "stored sign-in not readable; signing in again");
                    Ok(None)
                }
            }
        })
    }

    fn sign_in(&self) -> BoxFuture<'_, Result<Account, SignInError>> {
        Box::pin(async move {
            let persistence = self
                .authenticator()
                .sign_in_browser(&self.browser, self.callback_timeout)
                .await
                .map_err(|error| sign_in_error(&error))?;
            self.account(persistence).await
        })
    }

    fn sign_in_with_code(
        &self,
        show: ShowDeviceCode,
    ) -> BoxFuture<'_, Result<Account, SignInError>> {
        Box::pin(async move {
            let auth = self.authenticator();
            let flow = auth
                .start_device_code()
                .await
                .map_err(|error| sign_in_error(&error))?;
            show(DeviceCode {
                user_code: flow.prompt.user_code.clone(),
                verification_uri: flow.prompt.verification_uri.clone(),
                message: flow.prompt.message.clone(),
                expires_at: flow.prompt.expires_at,
            });
            let cancelled = self.cancel_code.notified();
            let persistence = auth
                .complete_device_code(flow, cancelled)
                .await
                .map_err(|error| sign_in_error(&error))?;
            self.account(persistence).await
        })
    }

    fn cancel_sign_in(&self) {
        self.cancel_code.notify_waiters();
    }

    fn sign_out(&self) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            if let Err(error) = self.authenticator().sign_out().await {
                tracing::warn!(%error, "keyring entry not deleted at sign-out");
            }
        })
    }

    fn refresh(&self) -> BoxFuture<'_, Result<(), GraphFailure>> {
        Box::pin(async move {
            self.authenticator()
                .refresh_now()
                .await
                .map_err(|error| match error {
                    AuthError::SignInExpired(_) | AuthError::NotSignedIn => {
                        GraphFailure::SignInExpired
                    }
                    other => GraphFailure::Transient {
                        reason: other.to_string(),
                    },
                })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cancel_is_marked_cancelled() {
        let cancelled = sign_in_error(&AuthError::Cancelled);
        assert!(cancelled.cancelled);
        assert_eq!(cancelled.message, "sign-in cancelled");
        let expired = sign_in_error(&AuthError::DeviceCodeExpired);
        assert!(!expired.cancelled);
    }

    #[test]
    fn untrusted_certificate_names_fix() {
        let error = AuthError::Network(HttpError::UntrustedCertificate {
            host: "login.microsoftonline.com".into(),
            detail: "it was issued by a certificate authority that is not in the system \
                     certificate store"
                .into(),
        });
        let window_error = sign_in_error(&error);
        assert!(
            window_error.message.starts_with(
                "could not reach Entra ID: the certificate of login.microsoftonline.com is not \
                 trusted"
            ),
            "{}",
            window_error.message
        );
        assert!(
            window_error
                .message
                .contains("ask your IT department to install the company's root certificate"),
            "{}",
            window_error.message
        );
        assert!(
            window_error.action.contains("root certificate"),
            "{}",
            window_error.action
        );
    }

    #[test]
    fn network_timeout_shows_cause() {
        let error = AuthError::Network(HttpError::Timeout(Duration::from_secs(10)));
        let window_error = sign_in_error(&error);
        assert_eq!(
            window_error.message,
            "could not reach Entra ID: no response within 10 s"
        );
        assert!(
            window_error.action.contains("proxy settings"),
            "{}",
            window_error.action
        );
    }
}
