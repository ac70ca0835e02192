//! Builds a running core for a start mode: demo, a configured tenant, or "not configured".

use std::sync::Arc;
use std::time::Duration;

use clock::SharedClock;
use engine::{GraphFailure, GraphWrite, GraphWriteResult, TeamsPresence};
use graph::{
    Authenticator, GraphConfig, KeyringStore, MemorySecretStore, MemoryStoreRule, SecretStore,
};
use graph_twin::{SignInBehaviour, Twin, TwinConfig};
use swyx::simulator::{Simulator, SimulatorIdentity};
use url::Url;

use crate::config::{Paths, Policy, StartMode};
use crate::demo::Demo;
use crate::marker::SessionMarker;
use crate::ports::{Account, BoxFuture, Notifier, SignInError, TeamsPort};
use crate::teams::GraphTeams;
use crate::{Core, CoreParts};

/// An error that kept the core from starting.
#[derive(Debug, thiserror::Error)]
pub enum LaunchError {
    #[error("the Graph twin for demo mode did not start")]
    Twin(#[source] std::io::Error),
    #[error("the sign-in could not be set up")]
    Auth(#[source] Box<graph::AuthError>),
    #[error("invalid {name} {value:?} in the configuration")]
    Url { name: &'static str, value: String },
}

/// A started core and the handles that come with it.
pub struct Launched {
    pub core: Core,
    /// Present in demo mode.
    pub demo: Option<Demo>,
    /// The sign-in, for "Sign in with a code"; absent when not configured.
    pub authenticator: Option<Arc<Authenticator>>,
}

/// Starts the core for `mode` on the current tokio runtime. With `browser_sign_in_at_start`, a
/// configured tenant with no stored sign-in opens the browser sign-in at once (headless runs,
/// which have no Sign in button).
pub async fn launch(
    mode: &StartMode,
    paths: &Paths,
    policy: &Policy,
    clock: SharedClock,
    notifier: Arc<dyn Notifier>,
    browser_sign_in_at_start: bool,
) -> Result<Launched, LaunchError> {
    let marker = SessionMarker::new(paths.marker_file());
    match mode {
        StartMode::Demo => {
            // The demo's Graph twin lives in this process, so a session that an earlier demo
            // run left behind went with that run; there is nothing to clear.
            let demo_marker = paths.demo_marker_file();
            if let Err(error) = std::fs::remove_file(&demo_marker) {
                if error.kind() != std::io::ErrorKind::NotFound {
                    tracing::warn!(%error, "demo session marker not removed");
                }
            }
            launch_demo(SessionMarker::new(demo_marker), clock, notifier).await
        }
        StartMode::Tenant(file) => {
            let file = file.clone().with_policy(policy);
            let graph_config = GraphConfig {
                authority_host: parse_url("authority_host", &file.tenant.authority_host)?,
                tenant: file.tenant.tenant.clone(),
                client_id: file.tenant.client_id.clone(),
                graph_base: parse_url("graph_base", &file.tenant.graph_base)?,
                scopes: graph::default_scopes(),
            };
            let store: Arc<dyn SecretStore> = Arc::new(KeyringStore::new());
            let auth = Arc::new(
                Authenticator::new(graph_config, clock.clone(), store)
                    .map_err(|error| LaunchError::Auth(Box::new(error)))?,
            );
            let teams = Arc::new(GraphTeams::new(auth.clone(), graph::system_browser()));
            let (swyx, swyx_events) = crate::swyx_side::start(
                crate::platform::swyx_connector(clock.clone()),
                clock.clone(),
            );
            let core = Core::start(CoreParts {
                clock,
                teams,
                swyx,
                swyx_events,
                notifier,
                marker,
                settings: file.engine_settings(policy),
                sign_in_at_start: browser_sign_in_at_start,
                randomize_polls: true,
            });
            Ok(Launched {
                core,
                demo: None,
                authenticator: Some(auth),
            })
        }
        StartMode::NotConfigured { path, error } => {
            let teams = Arc::new(Unconfigured {
                path: path.display().to_string(),
                error: error.clone(),
            });
            let (swyx, swyx_events) = crate::swyx_side::start(
                crate::platform::swyx_connector(clock.clone()),
                clock.clone(),
            );
            let core = Core::start(CoreParts {
                clock,
                teams,
                swyx,
                swyx_events,
                notifier,
                marker,
                settings: engine::Settings::default(),
                sign_in_at_start: false,
                randomize_polls: true,
            });
            Ok(Launched {
                core,
                demo: None,
                authenticator: None,
            })
        }
    }
}

fn parse_url(name: &'static str, value: &str) -> Result<Url, LaunchError> {
    Url::parse(value).map_err(|_| LaunchError::Url {
        name,
        value: value.into(),
    })
}

/// Returns the Graph twin's settings for demo mode, where the demo user signs in without a
/// password page.
pub fn demo_twin_config() -> TwinConfig {
    TwinConfig {
        sign_in: SignInBehaviour::AutoConsent,
        demo: true,
        teams: Some(("Available".into(), "Available".into())),
        ..TwinConfig::default()
    }
}

/// Returns the Graph client's settings for a twin.
pub fn twin_graph_config(twin: &Twin) -> GraphConfig {
    GraphConfig {
        authority_host: twin.authority_host(),
        tenant: "organizations".into(),
        client_id: twin.config().registration.client_id.clone(),
        graph_base: twin.graph_base(),
        scopes: graph::default_scopes(),
    }
}

async fn launch_demo(
    marker: SessionMarker,
    clock: SharedClock,
    notifier: Arc<dyn Notifier>,
) -> Result<Launched, LaunchError> {
    let twin = Twin::start(demo_twin_config(), clock.clone())
        .await
        .map_err(LaunchError::Twin)?;
    let (simulator, swyx_control) = Simulator::new(clock.clone());
    // The demo user is the same person on both sides, so the window shows no mismatch.
    let user = &twin.config().user;
    let identity = SimulatorIdentity {
        email: user.mail.clone(),
        user: user.display_name.clone(),
        server: "swyx.contoso.example".into(),
    };
    swyx_control.set_identity(identity.clone());
    // Demo sign-ins belong to a twin that lives only as long as this process, so they are
    // kept in memory rather than in the keyring.
    let store: Arc<dyn SecretStore> = Arc::new(MemorySecretStore::new(MemoryStoreRule::Unlimited));
    let auth = Arc::new(
        Authenticator::new_direct(twin_graph_config(&twin), clock.clone(), store)
            .map_err(|error| LaunchError::Auth(Box::new(error)))?,
    );
    let teams = Arc::new(GraphTeams::new(
        auth.clone(),
        graph::scripted_browser(clock.clone()),
    ));
    let (swyx, swyx_events) = crate::swyx_side::start(Arc::new(simulator), clock.clone());
    tracing::info!(twin = %twin.base_url(), "demo mode: Graph twin and SwyxIt! simulator started");
    let core = Core::start(CoreParts {
        clock: clock.clone(),
        teams,
        swyx,
        swyx_events,
        notifier,
        marker,
        settings: engine::Settings::default(),
        sign_in_at_start: true,
        randomize_polls: true,
    });
    Ok(Launched {
        core,
        demo: Some(Demo::new(twin, swyx_control, clock, identity)),
        authenticator: Some(auth),
    })
}

/// The Teams side while the configuration file is invalid: it explains, and contacts nothing.
struct Unconfigured {
    path: String,
    error: String,
}

impl TeamsPort for Unconfigured {
    fn poll(&self) -> BoxFuture<'_, Result<TeamsPresence, GraphFailure>> {
        Box::pin(async { Err(GraphFailure::SignInExpired) })
    }

    fn write(&self, _write: GraphWrite) -> BoxFuture<'_, GraphWriteResult> {
        Box::pin(async { GraphWriteResult::Failed(GraphFailure::SignInExpired) })
    }

    fn restore(&self) -> BoxFuture<'_, Result<Option<Account>, SignInError>> {
        Box::pin(async { Ok(None) })
    }

    fn sign_in(&self) -> BoxFuture<'_, Result<Account, SignInError>> {
        let error = SignInError {
            code: None,
            message: format!("not configured: {}", self.error),
            action: format!(
                "Fix {path}.bak and rename it to {path}, or delete it to start in demo mode; \
                 then restart Presence Bridge",
                path = self.path
            ),
            link: None,
            cancelled: false,
        };
        Box::pin(async move { Err(error) })
    }

    fn sign_out(&self) -> BoxFuture<'_, ()> {
        Box::pin(async {})
    }

    fn refresh(&self) -> BoxFuture<'_, Result<(), GraphFailure>> {
        Box::pin(async { Err(GraphFailure::SignInExpired) })
    }
}

/// How often the demo tour changes the Teams status.
pub const DEMO_TOUR_STEP: Duration = Duration::from_secs(4);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Policy;

    struct Silent;

    impl Notifier for Silent {
        fn notify(&self, _kind: engine::NotificationKind) {}
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn demo_start_leaves_tenant_marker_and_drops_its_own() {
        let folder = tempfile::tempdir().expect("temporary folder");
        let paths = Paths {
            config_file: folder.path().join("config.toml"),
            state_dir: folder.path().join("state"),
            log_dir: folder.path().join("logs"),
            policy_file: folder.path().join("policy.toml"),
            webview_data_dir: None,
        };
        std::fs::create_dir_all(&paths.state_dir).expect("state folder");
        std::fs::write(paths.marker_file(), "set").expect("tenant marker");
        std::fs::write(paths.demo_marker_file(), "set").expect("demo marker");

        let clock: SharedClock = Arc::new(clock::SystemClock::new());
        let launched = launch(
            &StartMode::Demo,
            &paths,
            &Policy::default(),
            clock,
            Arc::new(Silent),
            false,
        )
        .await
        .expect("demo start");
        assert!(
            paths.marker_file().exists(),
            "a demo start must not touch the tenant's marker"
        );
        assert!(
            !paths.demo_marker_file().exists(),
            "an earlier demo run's session went with its in-process twin"
        );
        launched.core.quit().await;
    }
}
