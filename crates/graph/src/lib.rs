//! The Teams side of Presence Bridge: Entra ID sign-in, the keyring token store and the Graph
//! presence client.
//!
//! - [`Authenticator`] signs the user in (browser with PKCE, or "Sign in with a code"), keeps
//!   the refresh token in the OS keyring through [`TokenStore`], and hands out access tokens
//!   with a single-flight refresh.
//! - [`GraphClient`] reads `GET /me/presence` and `GET /me`, publishes and clears the app's
//!   call session, and maps every failure to the engine's [`engine::GraphFailure`]. The driver
//!   uses it through the [`PresenceSource`] and [`CallPresenceSink`] traits.
//!
//! Every wait runs on the shared [`clock::SharedClock`], and every request holds a busy guard
//! while in flight. Logs carry endpoint, status and elapsed time; never a token, code, user
//! principal name or e-mail address.

mod auth;
mod browser;
mod client;
mod config;
mod entra;
mod http;
mod loopback;
mod retry_after;
mod secret;
mod store;

pub use auth::{
    AuthError, Authenticator, DeviceCodeFlow, DeviceCodePrompt, EntraDeviceFields, Persistence,
    Restored, SignInState,
};
pub use browser::{
    scripted_browser, scripted_browser_with_language, system_browser, BrowserError, OpenUrl,
};
pub use client::{Account, BoxFuture, CallPresenceSink, GraphClient, PresenceSource};
pub use config::{
    default_scopes, keyring_account, GraphConfig, ACCESS_TOKEN_MARGIN, DEFAULT_CALLBACK_TIMEOUT,
    POLL_TIMEOUT, TOKEN_TIMEOUT, WRITE_TIMEOUT,
};
pub use entra::{EntraError, EntraErrorKind};
pub use http::{HttpClient, HttpError};
pub use retry_after::parse_retry_after;
pub use secret::Secret;
pub use store::{
    KeyringStore, MemorySecretStore, MemoryStoreRule, SecretStore, StoreError, TokenStore,
    CHUNK_BYTES, KEYRING_SERVICE, WINDOWS_BLOB_LIMIT,
};

/// Joins an error and its causes into one line, e.g. "the request failed: connection refused".
pub(crate) fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
