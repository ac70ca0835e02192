//! Removing one user's data when the app is uninstalled: the refresh token in the OS keyring,
//! the state folder (session marker and logs) and the webview's data folder. The configuration
//! file stays, so a reinstall keeps the user's settings; it contains no personal data.

use std::path::Path;
use std::sync::Arc;

use graph::{SecretStore, TokenStore};

use crate::config::{self, Paths, Policy};

/// The outcome of the removal, one line per part, for the uninstaller's output.
#[derive(Debug, Default, PartialEq)]
pub struct Removal {
    pub done: Vec<String>,
    pub failed: Vec<String>,
}

/// Removes the keyring entry of the configured account from `store`, the state folder and the
/// webview's data folder.
///
/// Without a readable configuration there is no account, so no keyring entry can exist: the
/// app stores a token only after a sign-in with a configured tenant.
pub fn remove_user_data(paths: &Paths, policy: &Policy, store: Arc<dyn SecretStore>) -> Removal {
    let mut removal = Removal::default();
    match config::load(&paths.config_file) {
        Ok(Some(file)) => {
            let file = file.with_policy(policy);
            let account = graph::keyring_account(&file.tenant.client_id, &file.tenant.tenant);
            match TokenStore::new(store, account).clear() {
                Ok(()) => removal
                    .done
                    .push("sign-in removed from the OS keyring".into()),
                Err(error) => removal
                    .failed
                    .push(format!("sign-in not removed from the OS keyring: {error}")),
            }
        }
        Ok(None) => removal
            .done
            .push("no configuration, so no sign-in in the OS keyring".into()),
        Err(error) => removal.failed.push(format!(
            "sign-in not removed: the configuration is unreadable ({error})"
        )),
    }
    remove_folder(
        &paths.state_dir,
        "state folder (session marker, logs)",
        &mut removal,
    );
    if let Some(folder) = &paths.webview_data_dir {
        remove_folder(folder, "webview data folder (cache, storage)", &mut removal);
    }
    removal
}

fn remove_folder(folder: &Path, what: &str, removal: &mut Removal) {
    match std::fs::remove_dir_all(folder) {
        Ok(()) => removal
            .done
            .push(format!("{what} removed: {}", folder.display())),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => removal
            .done
            .push(format!("{what} absent: {}", folder.display())),
        Err(error) => removal
            .failed
            .push(format!("{what} not removed: {}: {error}", folder.display())),
    }
}

#[cfg(test)]
mod tests {
    use graph::{MemorySecretStore, MemoryStoreRule, Secret};

    use super::*;
    use crate::config::ConfigFile;

    fn paths(home: &Path) -> Paths {
        Paths {
            config_file: home.join("config/config.toml"),
            state_dir: home.join("state"),
            log_dir: home.join("state/logs"),
            policy_file: home.join("policy.toml"),
            webview_data_dir: Some(home.join("data/de.presencebridge.app")),
        }
    }

    fn configured(home: &Path, client_id: &str) -> Paths {
        let paths = paths(home);
        let mut file = ConfigFile::default();
        file.tenant.client_id = client_id.into();
        file.tenant.tenant = "contoso.example".into();
        config::save(&paths.config_file, &file).unwrap();
        paths
    }

    #[test]
    fn token_marker_and_logs_removed() {
        let home = tempfile::tempdir().unwrap();
        let paths = configured(home.path(), "client-1");
        std::fs::create_dir_all(&paths.log_dir).unwrap();
        std::fs::write(paths.marker_file(), "set").unwrap();
        std::fs::write(paths.log_dir.join("presence-bridge.log"), "x").unwrap();
        let store = Arc::new(MemorySecretStore::new(MemoryStoreRule::Unlimited));
        let tokens = TokenStore::new(store.clone(), "client-1@contoso.example");
        tokens.save(&Secret::new("r".repeat(2500))).unwrap();
        let other = TokenStore::new(store.clone(), "client-2@contoso.example");
        other.save(&Secret::new("kept")).unwrap();

        let removal = remove_user_data(&paths, &Policy::default(), store.clone());

        assert!(removal.failed.is_empty(), "{:?}", removal.failed);
        assert_eq!(tokens.load().unwrap(), None, "the token is gone");
        assert!(
            other.load().unwrap().is_some(),
            "another account's token stays"
        );
        assert!(!paths.state_dir.exists(), "the state folder is gone");
        assert!(paths.config_file.exists(), "the settings stay");
    }

    #[test]
    fn policy_client_id_names_the_entry() {
        let home = tempfile::tempdir().unwrap();
        let paths = configured(home.path(), "user-choice");
        let store = Arc::new(MemorySecretStore::new(MemoryStoreRule::Unlimited));
        let managed = TokenStore::new(store.clone(), "managed@contoso.example");
        managed.save(&Secret::new("t")).unwrap();
        let policy = Policy {
            client_id: Some("managed".into()),
            ..Policy::default()
        };

        remove_user_data(&paths, &policy, store);

        assert_eq!(managed.load().unwrap(), None);
    }

    #[test]
    fn nothing_to_remove_is_no_failure() {
        let home = tempfile::tempdir().unwrap();
        let store = Arc::new(MemorySecretStore::new(MemoryStoreRule::Unlimited));
        let removal = remove_user_data(&paths(home.path()), &Policy::default(), store);
        assert!(removal.failed.is_empty(), "{:?}", removal.failed);
        assert_eq!(removal.done.len(), 3, "{:?}", removal.done);
    }

    #[test]
    fn webview_data_removed_and_listed() {
        let home = tempfile::tempdir().unwrap();
        let paths = paths(home.path());
        let webview = paths.webview_data_dir.clone().unwrap();
        std::fs::create_dir_all(webview.join("storage")).unwrap();
        std::fs::write(webview.join("storage/localstorage.sqlite3"), "x").unwrap();
        let store = Arc::new(MemorySecretStore::new(MemoryStoreRule::Unlimited));

        let removal = remove_user_data(&paths, &Policy::default(), store);

        assert!(removal.failed.is_empty(), "{:?}", removal.failed);
        assert!(!webview.exists(), "the webview data folder is gone");
        let listed = format!(
            "webview data folder (cache, storage) removed: {}",
            webview.display()
        );
        assert!(removal.done.contains(&listed), "{:?}", removal.done);
    }

    // Tauri and `dirs` read XDG_DATA_HOME on Linux only (of the systems the app supports).
    #[cfg(target_os = "linux")]
    #[test]
    fn webview_data_follows_xdg_data_home() {
        let data = tempfile::tempdir().unwrap();
        // NOTE: set_var affects the whole test process; no other test in this crate reads
        // XDG_DATA_HOME.
        std::env::set_var("XDG_DATA_HOME", data.path());
        let paths = Paths::for_user();
        std::env::remove_var("XDG_DATA_HOME");
        assert_eq!(
            paths.webview_data_dir,
            Some(data.path().join("de.presencebridge.app"))
        );
    }
}
