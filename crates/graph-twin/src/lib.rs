//! A local double of Entra ID sign-in and Microsoft Graph presence.
//!
//! No test machine reaches Microsoft, so every sign-in and Graph path of Presence Bridge runs
//! against this twin. It serves the OAuth 2.0 endpoints of the Microsoft identity platform
//! (`/{tenant}/oauth2/v2.0/authorize`, `token`, `devicecode`) and the Graph presence endpoints
//! under `/v1.0` on 127.0.0.1. It enforces the rules Microsoft documents for them. On the
//! Entra side these are registered redirect URIs, single-use authorization codes, PKCE,
//! refresh tokens, device code states and scopes. On the Graph side they are the documented
//! `setPresence` pairs and durations, session expiry and fading, and the aggregation of
//! sessions and the user's preferred presence.
//!
//! A test or the app's demo mode starts it in-process with [`Twin::start`], plays the user's
//! Teams client with [`Twin::set_teams`] and friends, injects faults with [`Twin::inject`] and
//! reads what the app sent with [`Twin::requests`]. All time comes from a
//! [`clock::SharedClock`], so a test on a `ManualClock` sees a five-minute session expire in
//! microseconds.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! let clock: clock::SharedClock = std::sync::Arc::new(clock::SystemClock::new());
//! let twin = graph_twin::Twin::start(graph_twin::TwinConfig::default(), clock).await?;
//! println!("Graph at {}", twin.graph_base());
//! twin.set_teams("Busy", "InAMeeting");
//! twin.shutdown().await;
//! # Ok(())
//! # }
//! ```

mod config;
mod duration;
mod entra;
mod faults;
mod http;
mod ids;
mod log;
mod presence;
mod scopes;
mod server;

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use url::Url;

pub use config::{AppRegistration, SignInBehaviour, TwinConfig, TwinTls, TwinUser};
pub use duration::parse_iso8601;
pub use entra::{AuthorizeRecord, PkceMethod};
pub use faults::{Endpoint, Fault, FaultKind, UnknownEndpoint, TIMEOUT_GIVE_UP};
pub use log::{Counters, Outcome, RequestRecord};
pub use presence::{PresenceSnapshot, SessionSnapshot, StatusMessage};

/// State shared by the HTTP handlers and the [`Twin`] handle.
#[derive(Debug)]
pub(crate) struct Shared {
    config: TwinConfig,
    clock: clock::SharedClock,
    base_url: Url,
    state: Mutex<State>,
}

/// Everything that changes while the twin runs.
#[derive(Debug)]
pub(crate) struct State {
    presence: presence::PresenceModel,
    tokens: entra::TokenStore,
    faults: faults::FaultQueue,
    bucket: Option<faults::TokenBucket>,
    latency: Duration,
    log: log::RequestLog,
    /// The sign-in page's behaviour, initially the configured one.
    sign_in: SignInBehaviour,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while the lock is held leaves plain data behind that later requests can
        // still use, so a poisoned lock is taken over instead of failing every request.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn now(&self) -> clock::Instant {
        self.clock.now()
    }
}

/// The accept loop's stop signal and task.
type ServerTask = (oneshot::Sender<()>, JoinHandle<()>);

/// A running twin; a cheap handle that can be cloned.
#[derive(Debug, Clone)]
pub struct Twin {
    shared: Arc<Shared>,
    server: Arc<Mutex<Option<ServerTask>>>,
}

impl Twin {
    /// Binds 127.0.0.1 on `config.port` (0 = any free port) and starts serving, over HTTPS
    /// when `config.tls` is set.
    pub async fn start(config: TwinConfig, clock: clock::SharedClock) -> std::io::Result<Twin> {
        let acceptor = config.tls.as_ref().map(server::tls_acceptor).transpose()?;
        let listener =
            TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, config.port))).await?;
        let address = listener.local_addr()?;
        let scheme = if acceptor.is_some() { "https" } else { "http" };
        let base_url =
            Url::parse(&format!("{scheme}://{address}/")).map_err(std::io::Error::other)?;

        let now = clock.now();
        let mut presence = presence::PresenceModel::default();
        if let Some((availability, activity)) = &config.teams {
            presence.set_teams(now, availability, activity);
        }
        let state = State {
            presence,
            tokens: entra::TokenStore::new(&config),
            faults: faults::FaultQueue::default(),
            bucket: config
                .throttle
                .map(|(limit, window)| faults::TokenBucket::new(limit, window, now)),
            latency: Duration::ZERO,
            log: log::RequestLog::default(),
            sign_in: config.sign_in.clone(),
        };
        let shared = Arc::new(Shared {
            config,
            clock,
            base_url,
            state: Mutex::new(state),
        });

        let (stop, stopped) = oneshot::channel();
        let router = http::router(shared.clone());
        let task = tokio::spawn(server::serve(listener, acceptor, router, stopped));
        tracing::info!(base_url = %shared.base_url, "graph twin listening");
        Ok(Twin {
            shared,
            server: Arc::new(Mutex::new(Some((stop, task)))),
        })
    }

    /// Returns the base URL, `http://127.0.0.1:PORT/` or, with TLS, `https://127.0.0.1:PORT/`.
    pub fn base_url(&self) -> Url {
        self.shared.base_url.clone()
    }

    /// Returns the authority host: `{authority_host}{tenant}/oauth2/v2.0/authorize` and so on.
    pub fn authority_host(&self) -> Url {
        self.shared.base_url.clone()
    }

    /// Returns the Graph base URL, ending in `v1.0/`.
    pub fn graph_base(&self) -> Url {
        http::graph_base(&self.shared)
    }

    /// Returns the configuration the twin runs with.
    pub fn config(&self) -> &TwinConfig {
        &self.shared.config
    }

    /// Sets the user's Teams client session; `Offline`/`Offline` signs Teams out.
    pub fn set_teams(&self, availability: &str, activity: &str) {
        let now = self.shared.now();
        self.shared
            .lock()
            .presence
            .set_teams(now, availability, activity);
    }

    /// Sets the user's preferred (manually chosen) presence with the documented default
    /// expiry.
    pub fn set_preferred(&self, availability: &str, activity: &str) {
        let now = self.shared.now();
        self.shared
            .lock()
            .presence
            .set_preferred(now, availability, activity, None);
    }

    /// Clears the user's preferred presence.
    pub fn clear_preferred(&self) {
        let now = self.shared.now();
        self.shared.lock().presence.clear_preferred(now);
    }

    /// Turns the user's automatic replies (out of office) on or off.
    pub fn set_out_of_office(&self, on: bool) {
        let now = self.shared.now();
        self.shared.lock().presence.set_out_of_office(now, on);
    }

    /// Sets the user's status message without expiry, as typed in Teams; `None` clears it.
    pub fn set_status_message(&self, content: Option<&str>) {
        let now = self.shared.now();
        let message = content.map(|content| StatusMessage {
            content: content.to_string(),
            expiry: None,
            expires_at: None,
            published: self.shared.clock.wall_now(),
        });
        self.shared.lock().presence.set_status_message(now, message);
    }

    /// Returns the aggregated presence as `GET /me/presence` would return it now.
    pub fn presence(&self) -> PresenceSnapshot {
        let now = self.shared.now();
        self.shared.lock().presence.snapshot(now)
    }

    /// Returns the live application session with this id (the app's client id).
    pub fn app_session(&self, session_id: &str) -> Option<SessionSnapshot> {
        let now = self.shared.now();
        self.shared.lock().presence.app_session(now, session_id)
    }

    /// Adds a fault rule; [`FaultKind::ResetSequence`] takes effect at once.
    pub fn inject(&self, fault: Fault) {
        tracing::debug!(?fault, "fault injected");
        let mut state = self.shared.lock();
        match fault.kind {
            FaultKind::ResetSequence => state.presence.reset_sequence(),
            _ => state.faults.push(fault),
        }
    }

    /// Removes every pending fault rule.
    pub fn clear_faults(&self) {
        self.shared.lock().faults.clear();
    }

    /// Returns the fault rules still pending.
    pub fn pending_faults(&self) -> Vec<Fault> {
        self.shared.lock().faults.pending()
    }

    /// Revokes every refresh token issued so far.
    pub fn revoke_refresh_tokens(&self) {
        self.shared.lock().tokens.revoke_refresh_tokens();
    }

    /// Ends the lifetime of every access token issued so far.
    pub fn expire_access_tokens(&self) {
        let now = self.shared.now();
        self.shared.lock().tokens.expire_access_tokens(now);
    }

    /// Sets Graph's request budget for the app's tenant to `limit` requests per `window`,
    /// starting with a full bucket.
    pub fn set_throttle(&self, limit: u32, window: Duration) {
        let now = self.shared.now();
        self.shared.lock().bucket = Some(faults::TokenBucket::new(limit, window, now));
    }

    /// Turns Graph's request budget off.
    pub fn clear_throttle(&self) {
        self.shared.lock().bucket = None;
    }

    /// Changes what the sign-in page does from the next authorization request on.
    pub fn set_sign_in(&self, behaviour: SignInBehaviour) {
        self.shared.lock().sign_in = behaviour;
    }

    /// Delays every response (Graph and Entra) by `latency` of clock time from now on.
    pub fn set_latency(&self, latency: Duration) {
        self.shared.lock().latency = latency;
    }

    /// Returns every request received so far, oldest first.
    pub fn requests(&self) -> Vec<RequestRecord> {
        self.shared.lock().log.records()
    }

    /// Counts the requests per endpoint, status and actor.
    pub fn counters(&self) -> Counters {
        self.shared.lock().log.counters()
    }

    /// Returns the authorization requests that got a code, oldest first.
    pub fn authorizations(&self) -> Vec<AuthorizeRecord> {
        self.shared.lock().tokens.authorizations().to_vec()
    }

    /// Returns every code and token issued so far, so a test can search logs and files for
    /// them.
    pub fn issued_secrets(&self) -> Vec<String> {
        self.shared.lock().tokens.issued_secrets()
    }

    /// Issues a valid access token for the same user and client id with every consented
    /// permission. The log attributes its requests to `actor` (e.g. `peer`).
    pub fn issue_token_for(&self, actor: &str) -> String {
        let now = self.shared.now();
        self.shared
            .lock()
            .tokens
            .issue_access_token_for(&self.shared.config, now, actor)
    }

    /// Completes the device sign-in with this user code; `false` when none is pending.
    pub fn approve_device_code(&self, user_code: &str) -> bool {
        let now = self.shared.now();
        self.shared
            .lock()
            .tokens
            .finish_device_sign_in(now, user_code, true)
    }

    /// Declines the device sign-in with this user code; `false` when none is pending.
    pub fn decline_device_code(&self, user_code: &str) -> bool {
        let now = self.shared.now();
        self.shared
            .lock()
            .tokens
            .finish_device_sign_in(now, user_code, false)
    }

    /// Stops serving and waits until the server task has ended; open connections close.
    pub async fn shutdown(self) {
        let server = self
            .server
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .take();
        if let Some((stop, task)) = server {
            let _ = stop.send(());
            if let Err(error) = task.await {
                tracing::warn!(%error, "graph twin server task failed");
            }
        }
    }
}
