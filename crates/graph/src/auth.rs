//! Entra ID sign-in and the token lifecycle: browser sign-in with PKCE, "sign in with a code",
//! single-flight refresh, the keyring and the in-memory fallback.
//!
//! The refresh token lives in the OS keyring and in memory, the access token only in memory.
//! If the keyring rejects the token, the user stays signed in for this run and
//! [`Persistence::MemoryOnly`] carries the reason. No token is ever written anywhere else.

use std::borrow::Cow;
use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use clock::{Instant, SharedClock};
use oauth2::basic::{BasicClient, BasicTokenResponse};
use oauth2::{
    AuthUrl, AuthorizationCode, ClientId, CsrfToken, DeviceAuthorizationResponse,
    DeviceAuthorizationUrl, EndpointNotSet, EndpointSet, ExtraDeviceAuthorizationFields,
    PkceCodeChallenge, RedirectUrl, RefreshToken, RequestTokenError, Scope, StandardErrorResponse,
    TokenResponse, TokenUrl,
};
use serde::{Deserialize, Serialize};

use crate::browser::{BrowserError, OpenUrl};
use crate::config::{GraphConfig, ACCESS_TOKEN_MARGIN};
use crate::entra::EntraError;
use crate::http::{HttpClient, HttpError, TokenHttp};
use crate::loopback::{Callback, CallbackListener};
use crate::store::{SecretStore, StoreError, TokenStore};
use crate::Secret;

/// Lifetime assumed for an access token whose response has no `expires_in`.
const DEFAULT_ACCESS_LIFETIME: Duration = Duration::from_secs(3600);

type OAuthClient =
    BasicClient<EndpointSet, EndpointSet, EndpointNotSet, EndpointNotSet, EndpointSet>;

/// A failed sign-in or token refresh.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// No refresh token: the user has not signed in, or signed out.
    #[error("not signed in")]
    NotSignedIn,
    /// The refresh token was rejected (`invalid_grant`): the user must sign in again.
    #[error("the sign-in has expired: sign in again")]
    SignInExpired(#[source] Option<EntraError>),
    /// Entra ID returned an error, with its AADSTS code and the action.
    #[error(transparent)]
    Entra(#[from] EntraError),
    /// The browser did not come back to the loopback listener in time.
    #[error(
        "no answer from the browser within {} s: sign in again, or use \"Sign in with a code\"",
        .0.as_secs()
    )]
    CallbackTimeout(Duration),
    /// The device code expired before the user entered it.
    #[error("the sign-in code expired before it was entered: start again")]
    DeviceCodeExpired,
    /// The caller cancelled the sign-in.
    #[error("sign-in cancelled")]
    Cancelled,
    /// Another sign-in is still running.
    #[error("a sign-in is already in progress")]
    InProgress,
    /// The authorize page could not be opened.
    #[error("could not open the sign-in page")]
    Browser(#[source] BrowserError),
    /// The loopback listener could not be bound.
    #[error("could not start the loopback listener for the sign-in")]
    Listener(#[source] std::io::Error),
    /// Entra ID could not be reached, or did not respond in time.
    #[error("could not reach Entra ID")]
    Network(#[source] HttpError),
    /// Entra ID sent something that is not a valid OAuth response.
    #[error("Entra ID sent an unexpected answer: {0}")]
    Protocol(String),
}

impl AuthError {
    /// Returns a stable name of the failure for the window to branch on, e.g. `callback-timeout`
    /// or, for an Entra ID error, its kind such as `consent-required`.
    pub fn kind(&self) -> &'static str {
        match self {
            AuthError::NotSignedIn => "not-signed-in",
            AuthError::SignInExpired(_) => "sign-in-expired",
            AuthError::Entra(entra) => entra.kind.name(),
            AuthError::CallbackTimeout(_) => "callback-timeout",
            AuthError::DeviceCodeExpired => "device-code-expired",
            AuthError::Cancelled => "cancelled",
            AuthError::InProgress => "in-progress",
            AuthError::Browser(_) => "browser",
            AuthError::Listener(_) => "listener",
            AuthError::Network(_) => "network",
            AuthError::Protocol(_) => "protocol",
        }
    }

    /// Returns whether a later retry may succeed without the user doing anything.
    pub fn is_transient(&self) -> bool {
        match self {
            AuthError::Network(_) | AuthError::Protocol(_) => true,
            AuthError::Entra(entra) => entra.is_transient(),
            _ => false,
        }
    }
}

/// The place where the refresh token of the current sign-in is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Persistence {
    /// In the OS keyring: the sign-in survives a restart.
    Keyring,
    /// In memory only, because the keyring refused it.
    MemoryOnly {
        /// The keyring's refusal in words.
        reason: String,
    },
}

impl Persistence {
    /// "sign-in will not survive a restart: <reason>" for [`Persistence::MemoryOnly`].
    pub fn warning(&self) -> Option<String> {
        match self {
            Persistence::Keyring => None,
            Persistence::MemoryOnly { reason } => {
                Some(format!("sign-in will not survive a restart: {reason}"))
            }
        }
    }
}

/// The sign-in state the window shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignInState {
    /// No sign-in.
    SignedOut,
    /// The refresh token was rejected; the user must sign in again.
    Expired,
    /// Signed in, and `persistence` tells whether the sign-in survives a restart.
    SignedIn {
        /// The place where the refresh token is kept.
        persistence: Persistence,
    },
}

/// The result of [`Authenticator::restore`].
#[derive(Debug)]
pub enum Restored {
    /// A refresh token; the next request refreshes the access token with it.
    SignedIn,
    /// No stored sign-in.
    NothingStored,
    /// The keyring could not be read; the user has to sign in, and the sign-in will likely not
    /// survive a restart either.
    StoreFailed(StoreError),
}

/// The text the window shows for "Sign in with a code".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceCodePrompt {
    /// The code the user types in.
    pub user_code: String,
    /// The page where the code is entered.
    pub verification_uri: String,
    /// Entra ID's ready-made instruction, when it sent one.
    pub message: Option<String>,
    /// When the code expires, on the shared clock.
    pub expires_at: Instant,
    /// The code's lifetime as Entra ID stated it.
    pub expires_in: Duration,
}

/// Entra ID's addition to the device authorization response.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EntraDeviceFields {
    /// A sentence with the URL and the code, localised by Entra ID.
    #[serde(default)]
    pub message: Option<String>,
}

impl ExtraDeviceAuthorizationFields for EntraDeviceFields {}

/// A started "Sign in with a code"; pass it to [`Authenticator::complete_device_code`].
pub struct DeviceCodeFlow {
    /// The code and URL to show the user.
    pub prompt: DeviceCodePrompt,
    details: DeviceAuthorizationResponse<EntraDeviceFields>,
}

impl std::fmt::Debug for DeviceCodeFlow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeviceCodeFlow")
            .field("expires_at", &self.prompt.expires_at)
            .finish()
    }
}

struct AccessToken {
    token: Secret,
    expires_at: Instant,
}

#[derive(Default)]
struct Tokens {
    access: Option<AccessToken>,
    refresh: Option<Secret>,
    persistence: Option<Persistence>,
    expired: bool,
}

/// Signs the user in and hands out access tokens; shared by every Graph request.
pub struct Authenticator {
    config: GraphConfig,
    http: HttpClient,
    oauth: OAuthClient,
    tokens: Arc<Mutex<Tokens>>,
    keyring: Keyring,
    refresh_flight: tokio::sync::Mutex<()>,
    sign_in_flight: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authenticator")
            .field("state", &self.state())
            .finish_non_exhaustive()
    }
}

impl Authenticator {
    /// An authenticator for `config` that keeps the refresh token in `store`, signed out until
    /// [`Authenticator::restore`] or a sign-in.
    pub fn new(
        config: GraphConfig,
        clock: SharedClock,
        store: Arc<dyn SecretStore>,
    ) -> Result<Self, AuthError> {
        let http = HttpClient::new(clock).map_err(AuthError::Network)?;
        Self::with_http(config, http, store)
    }

    /// Like [`Authenticator::new`], but the requests never go through a proxy: for the Graph
    /// twin inside the app (demo mode), which a proxy from the environment could not reach.
    pub fn new_direct(
        config: GraphConfig,
        clock: SharedClock,
        store: Arc<dyn SecretStore>,
    ) -> Result<Self, AuthError> {
        let http = HttpClient::direct(clock).map_err(AuthError::Network)?;
        Self::with_http(config, http, store)
    }

    fn with_http(
        config: GraphConfig,
        http: HttpClient,
        store: Arc<dyn SecretStore>,
    ) -> Result<Self, AuthError> {
        let oauth = BasicClient::new(ClientId::new(config.client_id.clone()))
            .set_auth_uri(AuthUrl::from_url(config.authorize_url()))
            .set_token_uri(TokenUrl::from_url(config.token_url()))
            .set_device_authorization_url(DeviceAuthorizationUrl::from_url(
                config.device_code_url(),
            ));
        let keyring = Keyring {
            store: TokenStore::new(store, config.keyring_account()),
            saved: Arc::new(tokio::sync::Mutex::new(None)),
            clock: Arc::clone(http.clock()),
        };
        Ok(Self {
            config,
            http,
            oauth,
            tokens: Arc::default(),
            keyring,
            refresh_flight: tokio::sync::Mutex::new(()),
            sign_in_flight: tokio::sync::Mutex::new(()),
        })
    }

    /// Returns the configuration this authenticator signs in with.
    pub fn config(&self) -> &GraphConfig {
        &self.config
    }

    /// Returns the HTTP client, shared with the Graph client so both use one connection pool.
    pub fn http(&self) -> &HttpClient {
        &self.http
    }

    fn clock(&self) -> &SharedClock {
        self.http.clock()
    }

    fn tokens(&self) -> MutexGuard<'_, Tokens> {
        lock_tokens(&self.tokens)
    }

    /// Returns the current sign-in state.
    pub fn state(&self) -> SignInState {
        let tokens = self.tokens();
        match (&tokens.refresh, &tokens.persistence) {
            (Some(_), Some(persistence)) => SignInState::SignedIn {
                persistence: persistence.clone(),
            },
            (Some(_), None) => SignInState::SignedIn {
                persistence: Persistence::Keyring,
            },
            (None, _) if tokens.expired => SignInState::Expired,
            (None, _) => SignInState::SignedOut,
        }
    }

    /// Loads a stored sign-in from the keyring. It does not contact Entra ID: the first
    /// request refreshes the access token with the stored refresh token.
    pub async fn restore(&self) -> Restored {
        let mut saved = self.keyring.saved.lock().await;
        let store = self.keyring.store.clone();
        let _busy = self.clock().busy();
        let loaded = run_blocking(move || store.load()).await;
        match loaded {
            Ok(Some(refresh)) => {
                *saved = Some(refresh.clone());
                let mut tokens = self.tokens();
                tokens.refresh = Some(refresh);
                tokens.access = None;
                tokens.persistence = Some(Persistence::Keyring);
                tokens.expired = false;
                tracing::info!("restored the sign-in from the keyring");
                Restored::SignedIn
            }
            Ok(None) => Restored::NothingStored,
            Err(error) => {
                tracing::warn!(error = %error, "could not read the keyring");
                Restored::StoreFailed(error)
            }
        }
    }

    /// Signs in through a browser: authorization code with PKCE (S256), redirected to a loopback
    /// listener. `open_url` shows the authorize page; the wait for the redirect ends after
    /// `timeout` on the shared clock.
    pub async fn sign_in_browser(
        &self,
        open_url: &OpenUrl,
        timeout: Duration,
    ) -> Result<Persistence, AuthError> {
        let _flight = self
            .sign_in_flight
            .try_lock()
            .map_err(|_| AuthError::InProgress)?;
        let listener = CallbackListener::bind()
            .await
            .map_err(AuthError::Listener)?;
        let redirect = RedirectUrl::from_url(listener.redirect_uri());

        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (authorize_url, state) = self
            .oauth
            .authorize_url(CsrfToken::new_random)
            .add_scopes(self.scopes())
            .set_pkce_challenge(challenge)
            .set_redirect_uri(Cow::Borrowed(&redirect))
            .url();
        open_url(&authorize_url).map_err(AuthError::Browser)?;
        tracing::info!(
            port = listener.redirect_uri().port(),
            "waiting for the browser sign-in"
        );

        let clock = Arc::clone(self.clock());
        let serve = listener.serve(state.secret().clone(), Arc::clone(&clock));
        let callback = clock::timeout(&*clock, timeout, serve)
            .await
            .map_err(|_| AuthError::CallbackTimeout(timeout))?;
        let code = match callback {
            Callback::Code(code) => code,
            Callback::Error { error, description } => {
                let error =
                    EntraError::new(&error, description.as_deref(), &self.admin_consent_url());
                tracing::warn!(code = %error.code_text(), "the browser sign-in returned an error");
                return Err(error.into());
            }
        };

        let response = self
            .oauth
            .exchange_code(AuthorizationCode::new(code.expose().to_owned()))
            .set_pkce_verifier(verifier)
            .set_redirect_uri(Cow::Borrowed(&redirect))
            .request_async(&self.token_http("token"))
            .await
            .map_err(|error| self.classify(error, false))?;
        Ok(self.accept_sign_in(response).await)
    }

    /// Starts "Sign in with a code": requests a device code from Entra ID to show the user.
    pub async fn start_device_code(&self) -> Result<DeviceCodeFlow, AuthError> {
        let details: DeviceAuthorizationResponse<EntraDeviceFields> = self
            .oauth
            .exchange_device_code()
            .add_scopes(self.scopes())
            .request_async(&self.token_http("devicecode"))
            .await
            .map_err(|error| self.classify(error, false))?;
        let expires_in = details.expires_in();
        let prompt = DeviceCodePrompt {
            user_code: details.user_code().secret().clone(),
            verification_uri: details.verification_uri().to_string(),
            message: details.extra_fields().message.clone(),
            expires_at: self.clock().now() + expires_in,
            expires_in,
        };
        Ok(DeviceCodeFlow { prompt, details })
    }

    /// Polls until the user entered the code, honouring `authorization_pending`, `slow_down`
    /// and the code's expiry; ends with [`AuthError::Cancelled`] once `cancel` completes.
    pub async fn complete_device_code(
        &self,
        flow: DeviceCodeFlow,
        cancel: impl Future<Output = ()>,
    ) -> Result<Persistence, AuthError> {
        let _flight = self
            .sign_in_flight
            .try_lock()
            .map_err(|_| AuthError::InProgress)?;
        let clock = Arc::clone(self.clock());
        let time_clock = Arc::clone(&clock);
        let http = self.token_http("token");
        let poll = self
            .oauth
            .exchange_device_access_token(&flow.details)
            .set_time_fn(move || chrono::DateTime::<chrono::Utc>::from(time_clock.wall_now()))
            .request_async(&http, |interval| clock.sleep(interval), None);
        let response = tokio::select! {
            response = poll => response,
            () = cancel => {
                tracing::info!("sign-in with a code cancelled");
                return Err(AuthError::Cancelled);
            }
        };
        let response = response.map_err(|error| match &error {
            RequestTokenError::ServerResponse(answer)
                if answer.error().as_ref() == "expired_token" =>
            {
                AuthError::DeviceCodeExpired
            }
            _ => self.classify(error, false),
        })?;
        Ok(self.accept_sign_in(response).await)
    }

    /// Returns a valid access token, refreshed first when it is missing or about to expire.
    pub async fn access_token(&self) -> Result<Secret, AuthError> {
        if let Some(token) = self.current_access() {
            return Ok(token);
        }
        let _flight = self.refresh_flight.lock().await;
        // Another caller may have refreshed while this one waited for the lock.
        if let Some(token) = self.current_access() {
            return Ok(token);
        }
        self.refresh_locked().await
    }

    /// Returns a new access token after Graph rejected `rejected` with 401.
    ///
    /// Single-flight: when several requests are rejected at once, the first one refreshes and
    /// the others wait for it and get its token.
    pub async fn refresh_rejected(&self, rejected: &Secret) -> Result<Secret, AuthError> {
        let _flight = self.refresh_flight.lock().await;
        if let Some(current) = self.current_access() {
            if &current != rejected {
                return Ok(current);
            }
        }
        self.refresh_locked().await
    }

    /// Refreshes the access token now, e.g. after the machine resumed.
    pub async fn refresh_now(&self) -> Result<(), AuthError> {
        let _flight = self.refresh_flight.lock().await;
        self.refresh_locked().await.map(drop)
    }

    /// Forgets the tokens and deletes the stored sign-in.
    pub async fn sign_out(&self) -> Result<(), StoreError> {
        *self.tokens() = Tokens::default();
        let result = self.keyring.clear().await;
        tracing::info!(keyring_cleared = result.is_ok(), "signed out");
        result
    }

    fn current_access(&self) -> Option<Secret> {
        let now = self.clock().now();
        let tokens = self.tokens();
        let access = tokens.access.as_ref()?;
        (now + ACCESS_TOKEN_MARGIN < access.expires_at).then(|| access.token.clone())
    }

    /// Redeems the refresh token. The caller must have locked `refresh_flight`.
    async fn refresh_locked(&self) -> Result<Secret, AuthError> {
        let refresh = {
            let tokens = self.tokens();
            match &tokens.refresh {
                Some(refresh) => refresh.clone(),
                None if tokens.expired => return Err(AuthError::SignInExpired(None)),
                None => return Err(AuthError::NotSignedIn),
            }
        };
        let result = self
            .oauth
            .exchange_refresh_token(&RefreshToken::new(refresh.expose().to_owned()))
            .add_scopes(self.scopes())
            .request_async(&self.token_http("token"))
            .await;
        match result {
            Ok(response) => {
                let (access, rotated) = self.accept_tokens(response);
                if rotated {
                    // The keyring can take a second or more (Secret Service over D-Bus), so the
                    // retry of the rejected request does not wait for it.
                    let keyring = self.keyring.clone();
                    let tokens = Arc::clone(&self.tokens);
                    let busy = self.clock().busy();
                    tokio::spawn(async move {
                        let _busy = busy;
                        keyring.persist_latest(&tokens).await;
                    });
                }
                tracing::debug!("access token refreshed");
                Ok(access)
            }
            Err(error) => {
                let error = self.classify(error, true);
                if let AuthError::SignInExpired(_) = error {
                    self.end_expired_sign_in().await;
                }
                Err(error)
            }
        }
    }

    /// Drops a sign-in whose refresh token Entra ID rejected, in memory and in the keyring.
    async fn end_expired_sign_in(&self) {
        *self.tokens() = Tokens {
            expired: true,
            ..Tokens::default()
        };
        if let Err(error) = self.keyring.clear().await {
            tracing::warn!(%error, "could not delete the rejected sign-in from the keyring");
        }
        tracing::warn!("the refresh token was rejected; the user must sign in again");
    }

    /// Keeps the tokens of a new sign-in and waits until the keyring has the refresh token, so
    /// that the caller can show whether the sign-in survives a restart.
    async fn accept_sign_in(&self, response: BasicTokenResponse) -> Persistence {
        self.tokens().expired = false;
        self.accept_tokens(response);
        self.keyring.persist_latest(&self.tokens).await;
        let persistence = self
            .tokens()
            .persistence
            .clone()
            .unwrap_or(Persistence::Keyring);
        // A store in memory (demo mode) accepts every token but loses it at exit.
        let persisted =
            persistence == Persistence::Keyring && self.keyring.store.outlives_process();
        tracing::info!(persisted, "signed in");
        persistence
    }

    /// Keeps the new tokens in memory. Returns the access token and whether a new refresh token
    /// came, which the keyring must then take.
    fn accept_tokens(&self, response: BasicTokenResponse) -> (Secret, bool) {
        let access = Secret::new(response.access_token().secret().clone());
        let lifetime = response.expires_in().unwrap_or(DEFAULT_ACCESS_LIFETIME);
        let expires_at = self.clock().now() + lifetime;
        let new_refresh = response
            .refresh_token()
            .map(|token| Secret::new(token.secret().clone()));
        let mut tokens = self.tokens();
        tokens.access = Some(AccessToken {
            token: access.clone(),
            expires_at,
        });
        let rotated = new_refresh.is_some();
        if let Some(refresh) = new_refresh {
            tokens.refresh = Some(refresh);
        }
        (access, rotated)
    }

    fn scopes(&self) -> Vec<Scope> {
        self.config.scopes.iter().cloned().map(Scope::new).collect()
    }

    fn admin_consent_url(&self) -> url::Url {
        self.config.admin_consent_url()
    }

    fn token_http(&self, label: &'static str) -> TokenHttp {
        TokenHttp {
            http: self.http.clone(),
            label,
        }
    }

    /// Turns an `oauth2` error into an [`AuthError`] without keeping any response body, which
    /// may contain tokens.
    fn classify<T>(
        &self,
        error: RequestTokenError<HttpError, StandardErrorResponse<T>>,
        refreshing: bool,
    ) -> AuthError
    where
        T: oauth2::ErrorResponseType + AsRef<str> + std::fmt::Display + Send + Sync + 'static,
    {
        match error {
            RequestTokenError::ServerResponse(answer) => {
                let entra = EntraError::new(
                    answer.error().as_ref(),
                    answer.error_description().map(String::as_str),
                    &self.admin_consent_url(),
                );
                tracing::debug!(code = %entra.code_text(), refreshing, "entra id returned an error");
                if refreshing && entra.ends_sign_in() {
                    AuthError::SignInExpired(Some(entra))
                } else {
                    AuthError::Entra(entra)
                }
            }
            RequestTokenError::Request(error) => AuthError::Network(error),
            RequestTokenError::Parse(error, _body) => {
                AuthError::Protocol(format!("invalid JSON at {}", error.path()))
            }
            RequestTokenError::Other(text) => AuthError::Protocol(text),
        }
    }
}

fn lock_tokens(tokens: &Mutex<Tokens>) -> MutexGuard<'_, Tokens> {
    tokens
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The refresh token's way into the keyring: one writer at a time, always the latest token.
#[derive(Clone)]
struct Keyring {
    store: TokenStore,
    /// The token the keyring holds as far as this run knows; the lock orders every keyring
    /// write.
    saved: Arc<tokio::sync::Mutex<Option<Secret>>>,
    clock: SharedClock,
}

impl Keyring {
    /// Writes the refresh token that is current when the keyring is free, unless it is there
    /// already, and records the outcome as the sign-in's [`Persistence`].
    ///
    /// Saves started out of order still end with the newest token, because each one reads the
    /// token from memory only once it holds the lock.
    async fn persist_latest(&self, tokens: &Mutex<Tokens>) {
        let mut saved = self.saved.lock().await;
        let Some(current) = lock_tokens(tokens).refresh.clone() else {
            return;
        };
        if saved.as_ref() == Some(&current) {
            return;
        }

        let _busy = self.clock.busy();
        let store = self.store.clone();
        let token = current.clone();
        let persistence = match run_blocking(move || store.save(&token)).await {
            Ok(()) => {
                *saved = Some(current.clone());
                Persistence::Keyring
            }
            Err(error) => {
                tracing::warn!(
                    %error,
                    "the keyring rejected the refresh token; sign-in will not survive a restart"
                );
                // An older token left in the keyring would make the warning untrue after a
                // restart, and it may still be redeemable, so it is removed.
                let store = self.store.clone();
                if let Err(clear_error) = run_blocking(move || store.clear()).await {
                    tracing::debug!(error = %clear_error, "could not remove the older stored token");
                }
                *saved = None;
                Persistence::MemoryOnly {
                    reason: crate::error_chain(&error),
                }
            }
        };

        let mut tokens = lock_tokens(tokens);
        if tokens.refresh.as_ref() == Some(&current) {
            tokens.persistence = Some(persistence);
        }
    }

    /// Deletes the stored token after every pending save.
    async fn clear(&self) -> Result<(), StoreError> {
        let mut saved = self.saved.lock().await;
        let _busy = self.clock.busy();
        let store = self.store.clone();
        let result = run_blocking(move || store.clear()).await;
        *saved = None;
        result
    }
}

/// Runs a keyring call on the blocking pool, since D-Bus and the Windows API block.
async fn run_blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
) -> Result<T, StoreError> {
    match tokio::task::spawn_blocking(work).await {
        Ok(result) => result,
        Err(join_error) => Err(StoreError::Other(format!(
            "keyring task failed: {join_error}"
        ))),
    }
}
