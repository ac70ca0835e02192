//! The token store against the real OS keyring (Secret Service on Linux).
//!
//! `tests/with-keyring.sh` starts a private, unlocked gnome-keyring and sets
//! `PRESENCE_BRIDGE_REAL_KEYRING=1`; with that variable set, a keyring that does not work fails
//! this test. Without it the test prints that it did not run and passes, so a plain
//! `cargo test` needs no keyring.

use std::sync::Arc;

use graph::{KeyringStore, Secret, SecretStore, TokenStore};

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

#[test]
fn real_keyring_round_trip() {
    if std::env::var(ENV).as_deref() != Ok("1") {
        println!(
            "real-keyring test NOT RUN: {ENV} is not set; run crates/graph/tests/with-keyring.sh"
        );
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
    store()
        .save(&second)
        .expect("keyring must accept the rotated token");
    let restored = store().load().expect("keyring read").expect("token stored");
    assert_eq!(restored.expose(), second.expose());
    let keys = present_keys(&keyring);
    assert_eq!(keys.len(), 1 + 3, "stale entries: {keys:?}");

    store().clear().expect("keyring must accept a delete");
    assert!(present_keys(&keyring).is_empty());
    assert!(store().load().expect("keyring read").is_none());
    println!("real-keyring test ran against the OS keyring");
}
