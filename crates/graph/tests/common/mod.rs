//! Helpers shared by the end-to-end tests: a Graph twin on a manual clock, an authenticator over
//! an in-memory keyring, and browser stand-ins.

#![allow(dead_code)]

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use clock::{ManualClock, SharedClock};
use graph::{Authenticator, GraphClient, GraphConfig, MemorySecretStore, MemoryStoreRule, OpenUrl};
use graph_twin::{Endpoint, Twin, TwinConfig};
use url::Url;

pub mod net;

/// A twin, an authenticator and a client on one manual clock.
pub struct Harness {
    pub clock: ManualClock,
    pub twin: Twin,
    pub keyring: MemorySecretStore,
    pub config: GraphConfig,
    pub auth: Arc<Authenticator>,
    pub client: GraphClient,
}

impl Harness {
    /// A default twin and a keyring with the Windows size rule.
    pub async fn start() -> Harness {
        Harness::with(TwinConfig::default(), MemoryStoreRule::WindowsSize).await
    }

    /// A twin with `twin_config` and a keyring with `rule`.
    pub async fn with(twin_config: TwinConfig, rule: MemoryStoreRule) -> Harness {
        let clock = ManualClock::starting_now();
        let shared: SharedClock = Arc::new(clock.clone());
        let twin = Twin::start(twin_config, Arc::clone(&shared))
            .await
            .expect("twin starts");
        let keyring = MemorySecretStore::new(rule);
        let config = config_for(&twin);
        let auth = Arc::new(
            Authenticator::new(
                config.clone(),
                Arc::clone(&shared),
                Arc::new(keyring.clone()),
            )
            .expect("authenticator builds"),
        );
        let client = GraphClient::new(Arc::clone(&auth));
        Harness {
            clock,
            twin,
            keyring,
            config,
            auth,
            client,
        }
    }

    /// The shared clock handle.
    pub fn shared_clock(&self) -> SharedClock {
        Arc::new(self.clock.clone())
    }

    /// A second authenticator over the same keyring, as after an app restart.
    pub fn restarted(&self) -> (Arc<Authenticator>, GraphClient) {
        let auth = Arc::new(
            Authenticator::new(
                self.config.clone(),
                self.shared_clock(),
                Arc::new(self.keyring.clone()),
            )
            .expect("authenticator builds"),
        );
        let client = GraphClient::new(Arc::clone(&auth));
        (auth, client)
    }

    /// Signs in through the scripted browser.
    pub async fn sign_in(&self) -> graph::Persistence {
        let browser = graph::scripted_browser(self.shared_clock());
        self.auth
            .sign_in_browser(&browser, Duration::from_secs(300))
            .await
            .expect("sign-in succeeds")
    }

    /// Requests the twin received at `endpoint`.
    pub fn count(&self, endpoint: Endpoint) -> usize {
        self.twin
            .requests()
            .iter()
            .filter(|record| record.endpoint == endpoint)
            .count()
    }
}

/// The app configuration that points at `twin`.
pub fn config_for(twin: &Twin) -> GraphConfig {
    GraphConfig {
        authority_host: twin.authority_host(),
        tenant: "organizations".to_owned(),
        client_id: twin.config().registration.client_id.clone(),
        graph_base: twin.graph_base(),
        scopes: graph::default_scopes(),
    }
}

/// The `redirect_uri` and `state` of an authorize URL.
pub fn redirect_and_state(authorize: &Url) -> (Url, String) {
    let mut redirect = None;
    let mut state = None;
    for (key, value) in authorize.query_pairs() {
        match key.as_ref() {
            "redirect_uri" => redirect = Some(Url::parse(&value).expect("redirect URI parses")),
            "state" => state = Some(value.into_owned()),
            _ => {}
        }
    }
    (
        redirect.expect("authorize URL has redirect_uri"),
        state.expect("authorize URL has state"),
    )
}

/// What a scripted browser step saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seen {
    /// An HTTP status.
    Status(u16),
    /// No connection or no answer.
    ConnectionFailed,
}

/// A browser stand-in that runs `script` with the authorize URL in a spawned task and records
/// what it saw in the returned log.
pub fn custom_browser<F, Fut>(clock: SharedClock, script: F) -> (OpenUrl, Arc<Mutex<Vec<Seen>>>)
where
    F: Fn(Url, reqwest::Client, Arc<Mutex<Vec<Seen>>>) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    let open: OpenUrl = Box::new(move |url: &Url| {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client builds");
        let busy = clock.busy();
        let task = script(url.clone(), client, Arc::clone(&log));
        tokio::spawn(async move {
            let _busy = busy;
            task.await;
        });
        Ok(())
    });
    (open, seen)
}

/// Sends a GET and records its status, or that the connection failed.
pub async fn get_and_record(
    client: &reqwest::Client,
    url: Url,
    seen: &Mutex<Vec<Seen>>,
) -> Option<reqwest::Response> {
    match client.get(url).send().await {
        Ok(response) => {
            seen.lock()
                .unwrap()
                .push(Seen::Status(response.status().as_u16()));
            Some(response)
        }
        Err(_) => {
            seen.lock().unwrap().push(Seen::ConnectionFailed);
            None
        }
    }
}

/// The `Location` of a redirect answer.
pub fn location(response: &reqwest::Response) -> Url {
    let value = response
        .headers()
        .get(reqwest::header::LOCATION)
        .expect("redirect has a Location")
        .to_str()
        .expect("Location is text");
    Url::parse(value).expect("Location parses")
}

/// Waits in real time until `condition` holds, at most five seconds.
pub async fn wait_until(mut condition: impl FnMut() -> bool) {
    for _ in 0..500 {
        if condition() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("condition not reached within 5 s");
}

/// Wall time of a fresh manual clock, for clocks that must agree.
pub fn wall_start() -> SystemTime {
    SystemTime::now()
}
