//! The Teams side behind a TLS-inspecting proxy, played by an HTTPS Graph twin whose certificate
//! a private root signed. Without that root in the OS certificate store the refresh fails with
//! an error that names the fix. With it, refresh and presence read succeed.
//!
//! On Linux rustls-native-certs reads `SSL_CERT_FILE` and `SSL_CERT_DIR` in place of the system
//! bundle, when a client is built. This binary contains a single test that changes them between
//! phases, never while a request is in flight.

mod common;

use std::sync::Arc;
use std::time::Duration;

use clock::{SharedClock, SystemClock};
use common::net::{clear_network_env, TempDir, TestPki};
use engine::GraphFailure;
use graph::{
    Authenticator, GraphClient, GraphConfig, MemorySecretStore, MemoryStoreRule, Restored,
};
use graph_twin::{Endpoint, Twin, TwinConfig};
use url::Url;

#[test]
fn private_root_must_be_in_store() {
    clear_network_env();
    let company = TestPki::generate("Presence Bridge Test Inspection Root");
    let other = TestPki::generate("Presence Bridge Test Unrelated Root");
    let dir = TempDir::new("private-ca");
    let company_file = dir.write("company-root.pem", company.root_pem());
    let other_file = dir.write("other-root.pem", other.root_pem());
    dir.write("store/company-root.pem", company.root_pem());
    let store_dir = dir.path().join("store");

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime builds");
    runtime.block_on(async {
        let clock: SharedClock = Arc::new(SystemClock::new());
        let twin = Twin::start(
            TwinConfig {
                tls: Some(company.twin_tls()),
                ..TwinConfig::default()
            },
            Arc::clone(&clock),
        )
        .await
        .expect("twin starts");
        let port = twin.base_url().port().expect("twin URL has a port");
        let config = GraphConfig {
            authority_host: Url::parse(&format!("https://localhost:{port}/")).unwrap(),
            tenant: "organizations".to_owned(),
            client_id: twin.config().registration.client_id.clone(),
            graph_base: twin.graph_base(),
            scopes: graph::default_scopes(),
        };
        let keyring = MemorySecretStore::new(MemoryStoreRule::Unlimited);

        // Trusted through SSL_CERT_FILE: sign in and read.
        std::env::set_var("SSL_CERT_FILE", &company_file);
        let first = authenticator(&config, &clock, &keyring);
        first
            .sign_in_browser(
                &graph::scripted_browser(Arc::clone(&clock)),
                Duration::from_secs(30),
            )
            .await
            .expect("sign-in with the root trusted succeeds");
        GraphClient::new(Arc::clone(&first))
            .get_presence()
            .await
            .expect("presence read with the root trusted succeeds");

        // A store without the company root: the refresh fails in the TLS handshake.
        std::env::set_var("SSL_CERT_FILE", &other_file);
        let tokens_before = twin_count(&twin, Endpoint::Token);
        let untrusted = restore(&config, &clock, &keyring).await;
        let failure = GraphClient::new(Arc::clone(&untrusted))
            .get_presence()
            .await
            .expect_err("an untrusted certificate fails the read");
        let GraphFailure::Transient { reason } = failure else {
            panic!("expected a transient failure, got {failure:?}");
        };
        println!("presence read, root not trusted: {reason}");
        assert!(
            reason.contains("the certificate of localhost is not trusted"),
            "{reason}"
        );
        assert!(
            reason.contains(
                "issued by a certificate authority that is not in the system certificate store"
            ),
            "{reason}"
        );
        assert!(
            reason.contains("ask your IT department to install the company's root certificate"),
            "{reason}"
        );
        assert_eq!(
            twin_count(&twin, Endpoint::Token),
            tokens_before,
            "no token request got past the handshake"
        );

        let error = untrusted
            .start_device_code()
            .await
            .expect_err("an untrusted certificate fails the code sign-in");
        assert_eq!(error.kind(), "network");
        let text = error_chain(&error);
        println!("sign in with a code, root not trusted: {text}");
        assert!(text.contains("not trusted"), "{text}");

        // The company root in a directory store through SSL_CERT_DIR alone.
        std::env::remove_var("SSL_CERT_FILE");
        std::env::set_var("SSL_CERT_DIR", &store_dir);
        let trusted = restore(&config, &clock, &keyring).await;
        GraphClient::new(trusted)
            .get_presence()
            .await
            .expect("refresh and read with the root in SSL_CERT_DIR succeed");
        assert_eq!(
            twin_count(&twin, Endpoint::Token),
            tokens_before + 1,
            "the read needed one refresh"
        );

        twin.shutdown().await;
    });
    clear_network_env();
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

fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
