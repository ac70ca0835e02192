//! The Teams side behind an HTTP proxy: sign-in, token refresh and Graph reads go through a
//! CONNECT proxy on loopback to an HTTPS Graph twin, and `NO_PROXY` sends them direct.
//!
//! reqwest reads the proxy variables when a client is built, so this binary contains a single test
//! that changes the environment between phases, never while a request is in flight.

mod common;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use clock::{SharedClock, SystemClock};
use common::net::{clear_network_env, ConnectProxy, ProxyRecord, TempDir, TestPki};
use engine::GraphFailure;
use graph::{
    Authenticator, GraphClient, GraphConfig, MemorySecretStore, MemoryStoreRule, Restored,
};
use graph_twin::{Endpoint, Twin, TwinConfig};
use url::Url;

const PROXY_USER: &str = "proxyuser:s3cret@";
/// `Basic` and the base64 of `proxyuser:s3cret`.
const PROXY_AUTHORIZATION: &str = "Basic cHJveHl1c2VyOnMzY3JldA==";

#[test]
fn proxy_carries_every_request() {
    clear_network_env();
    let pki = TestPki::generate("Presence Bridge Test Inspection Root");
    let dir = TempDir::new("proxy");
    let root_file = dir.write("company-root.pem", pki.root_pem());
    std::env::set_var("SSL_CERT_FILE", &root_file);

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime builds");
    runtime.block_on(run(pki));
    clear_network_env();
}

async fn run(pki: TestPki) {
    let clock: SharedClock = Arc::new(SystemClock::new());
    let twin = Twin::start(
        TwinConfig {
            tls: Some(pki.twin_tls()),
            ..TwinConfig::default()
        },
        Arc::clone(&clock),
    )
    .await
    .expect("twin starts");
    let port = twin.base_url().port().expect("twin URL has a port");
    // Sign-in and Graph on different host names, as login.microsoftonline.com and
    // graph.microsoft.com are, so the proxy log shows which client went where.
    let config = GraphConfig {
        authority_host: Url::parse(&format!("https://localhost:{port}/")).unwrap(),
        tenant: "organizations".to_owned(),
        client_id: twin.config().registration.client_id.clone(),
        graph_base: twin.graph_base(),
        scopes: graph::default_scopes(),
    };
    assert_eq!(config.graph_base.host_str(), Some("127.0.0.1"));
    let sign_in_host = format!("localhost:{port}");
    let graph_host = format!("127.0.0.1:{port}");
    let configured: BTreeSet<String> = [sign_in_host.clone(), graph_host.clone()].into();

    let proxy = ConnectProxy::start(Some(PROXY_AUTHORIZATION)).await;
    std::env::set_var("HTTPS_PROXY", proxy.url(PROXY_USER));
    let keyring = MemorySecretStore::new(MemoryStoreRule::Unlimited);

    // Browser sign-in, code redemption and a presence read.
    let first = authenticator(&config, &clock, &keyring);
    first
        .sign_in_browser(
            &graph::scripted_browser(Arc::clone(&clock)),
            Duration::from_secs(30),
        )
        .await
        .expect("sign-in through the proxy succeeds");
    GraphClient::new(Arc::clone(&first))
        .get_presence()
        .await
        .expect("presence read through the proxy succeeds");
    let records = proxy.take_records();
    assert_only_tunnels(&records, &configured);
    assert_eq!(
        targets(&records),
        configured,
        "sign-in and Graph both went through the proxy"
    );

    // A restarted app: the stored refresh token is redeemed, then presence is read, each on a
    // new tunnel because the new client has no pooled connection.
    let tokens_before = twin_count(&twin, Endpoint::Token);
    let restarted = restore(&config, &clock, &keyring).await;
    GraphClient::new(restarted)
        .get_presence()
        .await
        .expect("refresh and read through the proxy succeed");
    assert_eq!(
        twin_count(&twin, Endpoint::Token),
        tokens_before + 1,
        "the read needed one refresh"
    );
    let records = proxy.take_records();
    assert_only_tunnels(&records, &configured);
    let connected: Vec<&str> = records
        .iter()
        .map(|record| record.target.as_str())
        .collect();
    assert_eq!(
        connected,
        [sign_in_host.as_str(), graph_host.as_str()],
        "refresh first, then the presence read"
    );

    // ALL_PROXY alone also applies.
    std::env::remove_var("HTTPS_PROXY");
    std::env::set_var("ALL_PROXY", proxy.url(PROXY_USER));
    let via_all_proxy = restore(&config, &clock, &keyring).await;
    GraphClient::new(via_all_proxy)
        .get_presence()
        .await
        .expect("refresh and read through ALL_PROXY succeed");
    let records = proxy.take_records();
    assert_only_tunnels(&records, &configured);
    assert_eq!(targets(&records), configured);

    // Without credentials the proxy responds with 407 and offers only NTLM and Negotiate, which
    // reqwest does not support, so the refresh fails and the reason names the proxy.
    std::env::set_var("ALL_PROXY", proxy.url(""));
    let without_credentials = restore(&config, &clock, &keyring).await;
    let failure = GraphClient::new(without_credentials)
        .get_presence()
        .await
        .expect_err("a proxy that requires authentication fails the read");
    let GraphFailure::Transient { reason } = failure else {
        panic!("expected a transient failure, got {failure:?}");
    };
    println!("presence read, proxy requires authentication: {reason}");
    assert!(reason.contains("proxy authorization required"), "{reason}");
    let records = proxy.take_records();
    assert_eq!(targets(&records), [sign_in_host.clone()].into());
    assert!(records
        .iter()
        .all(|record| record.proxy_authorization.is_none()));
    std::env::remove_var("ALL_PROXY");

    // NO_PROXY lists both hosts: the same requests go direct.
    std::env::set_var("HTTPS_PROXY", proxy.url(PROXY_USER));
    std::env::set_var("NO_PROXY", "localhost,127.0.0.1");
    let tokens_before = twin_count(&twin, Endpoint::Token);
    let presence_before = twin_count(&twin, Endpoint::Presence);
    let direct = restore(&config, &clock, &keyring).await;
    GraphClient::new(direct)
        .get_presence()
        .await
        .expect("refresh and read without the proxy succeed");
    assert_eq!(twin_count(&twin, Endpoint::Token), tokens_before + 1);
    assert_eq!(twin_count(&twin, Endpoint::Presence), presence_before + 1);
    assert_eq!(
        proxy.take_records(),
        Vec::<ProxyRecord>::new(),
        "NO_PROXY hosts bypass the proxy"
    );

    twin.shutdown().await;
}

fn authenticator(
    config: &GraphConfig,
    clock: &SharedClock,
    keyring: &MemorySecretStore,
) -> Arc<Authenticator> {
    Arc::new(
        Authenticator::new(config.clone(), Arc::clone(clock), Arc::new(keyring.clone()))
            .expect("authenticator builds"),
    )
}

/// A new authenticator with the stored sign-in, as after an app restart.
async fn restore(
    config: &GraphConfig,
    clock: &SharedClock,
    keyring: &MemorySecretStore,
) -> Arc<Authenticator> {
    let auth = authenticator(config, clock, keyring);
    assert!(matches!(auth.restore().await, Restored::SignedIn));
    auth
}

fn twin_count(twin: &Twin, endpoint: Endpoint) -> usize {
    twin.requests()
        .iter()
        .filter(|record| record.endpoint == endpoint)
        .count()
}

fn targets(records: &[ProxyRecord]) -> BTreeSet<String> {
    records.iter().map(|record| record.target.clone()).collect()
}

/// Every request was a CONNECT to a configured host, with the proxy URL's credentials.
fn assert_only_tunnels(records: &[ProxyRecord], configured: &BTreeSet<String>) {
    assert!(!records.is_empty(), "the proxy saw no request");
    for record in records {
        assert_eq!(record.method, "CONNECT", "{record:?}");
        assert!(
            configured.contains(&record.target),
            "tunnel to an unconfigured host: {record:?}"
        );
        assert_eq!(
            record.proxy_authorization.as_deref(),
            Some(PROXY_AUTHORIZATION),
            "{record:?}"
        );
    }
}
