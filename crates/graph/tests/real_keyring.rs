//! The token store against the real OS keyring (Secret Service on Linux).
//!
//! `tests/with-keyring.sh` starts a private, unlocked gnome-keyring and sets
//! `PRESENCE_BRIDGE_REAL_KEYRING=1`; with that variable set, a keyring that does not work fails
//! this test. Without it the test prints that it did not run and passes, so a plain
//! `cargo test` needs no keyring.

mod common;

use std::sync::Arc;
use std::time::Duration;

use graph::{
    Authenticator, GraphClient, KeyringStore, Persistence, Restored, Secret, SecretStore,
    TokenStore,
};
use graph_twin::{Endpoint, TwinConfig};

const ENV: &str = "PRESENCE_BRIDGE_REAL_KEYRING";
/// A service name of its own, so the test never touches the app's entries.
const SERVICE: &str = "presence-bridge-test";
const ACCOUNT: &str = "client-under-test@organizations";

fn token(length: usize, seed: u8) -> Secret {
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.";
    let text: String = (0..length)
        .map(|i| char::from(alphabet[(i * 7 + usize::from(seed)) % alphabet.len()]))
        .collect();
    Secret::new(text)
}

/// Keys this layout can leave behind for `ACCOUNT`, to prove none is stale.
fn present_keys(store: &KeyringStore) -> Vec<String> {
    let mut keys = vec![ACCOUNT.to_owned()];
    for generation in ['a', 'b'] {
        for index in 0..8 {
            keys.push(format!("{ACCOUNT}#{generation}{index}"));
        }
    }
    keys.into_iter()
        .filter(|key| store.get(key).expect("keyring read").is_some())
        .collect()
}

/// Whether the real keyring is announced; prints that the test did not run otherwise.
fn real_keyring_present(test: &str) -> bool {
    if std::env::var(ENV).as_deref() == Ok("1") {
        return true;
    }
    println!("real-keyring test {test} NOT RUN: {ENV} is not set; run crates/graph/tests/with-keyring.sh");
    false
}

#[test]
fn real_keyring_round_trip() {
    if !real_keyring_present("real_keyring_round_trip") {
        return;
    }
    let keyring = KeyringStore::with_service(SERVICE);
    let store = || TokenStore::new(Arc::new(keyring.clone()), ACCOUNT);
    store().clear().expect("keyring must accept a delete");

    // A 4 KB token survives a "restart": a new store instance reads it back byte for byte.
    let first = token(4096, 1);
    store().save(&first).expect("keyring must accept the token");
    let restored = store().load().expect("keyring read").expect("token stored");
    assert_eq!(restored.expose(), first.expose());
    assert_eq!(present_keys(&keyring).len(), 1 + 5, "head and five chunks");

    // Rotation to a shorter token leaves no chunk of the longer one.
    let second = token(2700, 2);
    let started = std::time::Instant::now();
    store()
        .save(&second)
        .expect("keyring must accept the rotated token");
    let saved_ms = started.elapsed().as_millis();
    let started = std::time::Instant::now();
    let restored = store().load().expect("keyring read").expect("token stored");
    println!(
        "real keyring: rotation save {saved_ms} ms, load {} ms",
        started.elapsed().as_millis()
    );
    assert_eq!(restored.expose(), second.expose());
    let keys = present_keys(&keyring);
    assert_eq!(keys.len(), 1 + 3, "stale entries: {keys:?}");

    store().clear().expect("keyring must accept a delete");
    assert!(present_keys(&keyring).is_empty());
    assert!(store().load().expect("keyring read").is_none());
    println!("real-keyring test ran against the OS keyring");
}

/// Sign in, "restart" with a new authenticator over the real keyring, and refresh silently with
/// the stored token; the twin accepts only the latest refresh token.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_keyring_sign_in_survives_restart() {
    if !real_keyring_present("real_keyring_sign_in_survives_restart") {
        return;
    }
    let config = TwinConfig {
        strict_refresh_rotation: true,
        ..TwinConfig::default()
    };
    let h = common::Harness::with(config, graph::MemoryStoreRule::Unlimited).await;
    let keyring = Arc::new(KeyringStore::with_service(SERVICE));
    let start = || {
        let auth = Authenticator::new(h.config.clone(), h.shared_clock(), keyring.clone())
            .expect("authenticator builds");
        Arc::new(auth)
    };

    let first = start();
    let browser = graph::scripted_browser(h.shared_clock());
    let persistence = first
        .sign_in_browser(&browser, Duration::from_secs(300))
        .await
        .unwrap();
    assert_eq!(
        persistence,
        Persistence::Keyring,
        "the real keyring must take the token"
    );
    drop(first);

    let second = start();
    assert!(matches!(second.restore().await, Restored::SignedIn));
    let tokens_before = h.count(Endpoint::Token);
    GraphClient::new(Arc::clone(&second))
        .get_presence()
        .await
        .expect("silent refresh");
    assert_eq!(
        h.count(Endpoint::Token),
        tokens_before + 1,
        "one refresh, no browser"
    );

    second.sign_out().await.expect("keyring cleared");
    let third = start();
    assert!(matches!(third.restore().await, Restored::NothingStored));
    println!("real-keyring sign-in test ran against the OS keyring");
}
