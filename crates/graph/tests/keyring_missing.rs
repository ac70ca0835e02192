//! The real keyring backend with no reachable Secret Service: sign-in still works for this run,
//! and the reason it will not survive a restart names the unavailable keyring.
//!
//! This test points `DBUS_SESSION_BUS_ADDRESS` at a socket that does not exist, so it runs in a
//! test binary of its own.

mod common;

use std::sync::Arc;
use std::time::Duration;

use graph::{Authenticator, GraphClient, KeyringStore, Persistence, Restored, SignInState};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_secret_service_falls_back_to_memory() {
    let scratch = std::env::temp_dir().join(format!("pb-no-keyring-{}", std::process::id()));
    // Edition 2021: `set_var` is safe; this binary has no other test that reads the variable.
    std::env::set_var(
        "DBUS_SESSION_BUS_ADDRESS",
        format!("unix:path={}", scratch.display()),
    );

    let h = common::Harness::start().await;
    let keyring = Arc::new(KeyringStore::with_service("presence-bridge-test"));
    let auth =
        Arc::new(Authenticator::new(h.config.clone(), h.shared_clock(), keyring.clone()).unwrap());
    assert!(matches!(auth.restore().await, Restored::StoreFailed(_)));

    let browser = graph::scripted_browser(h.shared_clock());
    let persistence = auth
        .sign_in_browser(&browser, Duration::from_secs(300))
        .await
        .expect("signed in");
    let Persistence::MemoryOnly { reason } = &persistence else {
        panic!("expected memory only, got {persistence:?}");
    };
    assert!(
        reason.starts_with("the OS keyring is not available"),
        "{reason}"
    );
    assert!(
        reason.to_lowercase().contains("d-bus") || reason.contains("DBus"),
        "{reason}"
    );
    assert_eq!(
        auth.state(),
        SignInState::SignedIn {
            persistence: persistence.clone()
        }
    );

    let client = GraphClient::new(Arc::clone(&auth));
    client
        .get_presence()
        .await
        .expect("Graph works for this run");
    h.twin.expire_access_tokens();
    client
        .get_presence()
        .await
        .expect("refresh works from memory");
    assert!(
        !scratch.exists(),
        "nothing was written where the bus socket would be"
    );
}
