//! The user's configuration file and the machine-wide policy.
//!
//! The user's file is TOML in the OS config folder (`~/.config/presence-bridge/config.toml` on
//! Linux). With no file at all the app runs in demo mode. An invalid file is renamed to
//! `config.toml.bak` and the app runs "not configured" — never silently in demo mode, also not
//! at later starts while that `.bak` file is there and no new file replaced it. A policy
//! file (`/etc/presence-bridge/policy.toml` on Linux) overrides the tenant settings and the
//! minimum poll interval and can lock settings.

use std::path::{Path, PathBuf};
use std::time::Duration;

use engine::{Settings, SwyxSettable};
use serde::{Deserialize, Serialize};

/// Microsoft's public sign-in host, used once a real tenant is configured.
pub const DEFAULT_AUTHORITY_HOST: &str = "https://login.microsoftonline.com/";
/// Microsoft Graph's public v1.0 endpoint.
pub const DEFAULT_GRAPH_BASE: &str = "https://graph.microsoft.com/v1.0/";
/// The tenant segment for any work or school account.
pub const DEFAULT_TENANT: &str = "organizations";

/// The user's configuration file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct ConfigFile {
    pub tenant: TenantConfig,
    pub sync: SyncConfig,
    pub app: AppConfig,
}

/// Where and as which app registration the app signs in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TenantConfig {
    /// Tenant id or domain, or `organizations` for a multi-tenant registration.
    pub tenant: String,
    /// The app registration's application (client) id; empty means "not configured".
    pub client_id: String,
    pub authority_host: String,
    pub graph_base: String,
}

impl Default for TenantConfig {
    fn default() -> Self {
        Self {
            tenant: DEFAULT_TENANT.into(),
            client_id: String::new(),
            authority_host: DEFAULT_AUTHORITY_HOST.into(),
            graph_base: DEFAULT_GRAPH_BASE.into(),
        }
    }
}

/// The sync settings the window edits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SyncConfig {
    /// Seconds between two Teams presence polls, 1 to 600.
    pub poll_interval_secs: f64,
    /// How a Speaking target is written to Swyx: `Away` or `DoNotDisturb`.
    pub speaking_substitute: SwyxSettable,
    pub dnd_sets_dnd: bool,
    pub away_sets_away: bool,
}

impl Default for SyncConfig {
    fn default() -> Self {
        Self {
            poll_interval_secs: 2.0,
            speaking_substitute: SwyxSettable::Away,
            dnd_sets_dnd: true,
            away_sets_away: true,
        }
    }
}

/// Settings of the app itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AppConfig {
    /// `system`, `en` or `de`.
    pub language: String,
    /// None until the first successful sign-in switches it on.
    pub start_at_login: Option<bool>,
}

impl Default for AppConfig {
    fn default() -> Self {
        Self {
            language: "system".into(),
            start_at_login: None,
        }
    }
}

/// The machine-wide policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct Policy {
    pub tenant: Option<String>,
    pub client_id: Option<String>,
    pub authority_host: Option<String>,
    pub graph_base: Option<String>,
    /// The shortest poll interval a user may set, in seconds.
    pub min_poll_interval_secs: Option<f64>,
    /// Settings the user may not change (names as in the config file, e.g. `poll_interval_secs`).
    pub locked: Vec<String>,
    /// Whether the first sign-in switches start at login on; default true.
    pub start_at_login_on_sign_in: Option<bool>,
}

/// Why a configuration could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("invalid configuration in {path}: {source}")]
    Parse {
        path: PathBuf,
        source: toml::de::Error,
    },
    #[error("invalid configuration in {path}: {problem}")]
    Invalid { path: PathBuf, problem: String },
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// How the app starts, from the command line and the configuration file.
#[derive(Debug, Clone, PartialEq)]
pub enum StartMode {
    /// No configuration file (or `--demo`): the Graph twin and the SwyxIt! simulator in-process.
    Demo,
    /// A tenant is configured.
    Tenant(ConfigFile),
    /// The configuration file was invalid; it was kept as `.bak`.
    NotConfigured { path: PathBuf, error: String },
}

/// The app's identifier, as `identifier` in `src-tauri/tauri.conf.json`.
pub const APP_IDENTIFIER: &str = "de.presencebridge.app";

/// The per-user folders and files.
#[derive(Debug, Clone)]
pub struct Paths {
    pub config_file: PathBuf,
    pub state_dir: PathBuf,
    pub log_dir: PathBuf,
    pub policy_file: PathBuf,
    /// The window's web engine data: WebKitGTK's cache and storage on Linux, WebView2's
    /// `EBWebView` folder on Windows. None when the OS has no local data folder.
    pub webview_data_dir: Option<PathBuf>,
}

impl Paths {
    /// The OS folders for this user; `PRESENCE_BRIDGE_HOME` puts all of them except the
    /// webview's data folder under one folder (used by tests).
    pub fn for_user() -> Paths {
        if let Some(home) = std::env::var_os("PRESENCE_BRIDGE_HOME") {
            let home = PathBuf::from(home);
            return Paths {
                config_file: home.join("config/config.toml"),
                state_dir: home.join("state"),
                log_dir: home.join("state/logs"),
                policy_file: std::env::var_os("PRESENCE_BRIDGE_POLICY")
                    .map_or_else(|| home.join("policy.toml"), PathBuf::from),
                webview_data_dir: webview_data_dir(),
            };
        }
        let config = dirs::config_dir().unwrap_or_else(|| PathBuf::from("."));
        let state = dirs::state_dir()
            .or_else(dirs::data_local_dir)
            .unwrap_or_else(|| PathBuf::from("."));
        Paths {
            config_file: config.join("presence-bridge/config.toml"),
            state_dir: state.join("presence-bridge"),
            log_dir: state.join("presence-bridge/logs"),
            policy_file: std::env::var_os("PRESENCE_BRIDGE_POLICY")
                .map_or_else(default_policy_path, PathBuf::from),
            webview_data_dir: webview_data_dir(),
        }
    }

    /// The session marker's file.
    pub fn marker_file(&self) -> PathBuf {
        self.state_dir.join("session.marker")
    }

    /// The session marker of demo mode, apart from a tenant's, so that a demo run never makes
    /// a tenant start clear a session in the user's real Graph.
    pub fn demo_marker_file(&self) -> PathBuf {
        self.state_dir.join("demo-session.marker")
    }
}

/// Returns the folder Tauri 2 gives the webview as its data directory: the app's local data
/// folder, `<local data folder>/<identifier>` (`$XDG_DATA_HOME` or `~/.local/share` on Linux,
/// `%LOCALAPPDATA%` on Windows). Tauri does not read `PRESENCE_BRIDGE_HOME`, so neither does
/// this.
fn webview_data_dir() -> Option<PathBuf> {
    dirs::data_local_dir().map(|folder| folder.join(APP_IDENTIFIER))
}

fn default_policy_path() -> PathBuf {
    if cfg!(windows) {
        // Windows reads the policy from the registry; this file is a fallback for tests.
        PathBuf::from(r"C:\ProgramData\PresenceBridge\policy.toml")
    } else {
        PathBuf::from("/etc/presence-bridge/policy.toml")
    }
}

/// Reads the user's file: `Ok(None)` when there is none.
pub fn load(path: &Path) -> Result<Option<ConfigFile>, ConfigError> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(ConfigError::Read {
                path: path.into(),
                source,
            })
        }
    };
    let file: ConfigFile = toml::from_str(&text).map_err(|source| ConfigError::Parse {
        path: path.into(),
        source,
    })?;
    validate(&file).map_err(|problem| ConfigError::Invalid {
        path: path.into(),
        problem,
    })?;
    Ok(Some(file))
}

fn validate(file: &ConfigFile) -> Result<(), String> {
    let interval = file.sync.poll_interval_secs;
    if !(1.0..=600.0).contains(&interval) {
        return Err(format!(
            "poll_interval_secs is {interval}; it must be between 1 and 600"
        ));
    }
    for (name, value) in [
        ("authority_host", &file.tenant.authority_host),
        ("graph_base", &file.tenant.graph_base),
    ] {
        if !(value.starts_with("https://")
            || value.starts_with("http://127.0.0.1")
            || value.starts_with("http://localhost"))
        {
            return Err(format!(
                "{name} is {value:?}; it must be an https URL (or http on loopback)"
            ));
        }
    }
    if !matches!(file.app.language.as_str(), "system" | "en" | "de") {
        return Err(format!(
            "language is {:?}; use system, en or de",
            file.app.language
        ));
    }
    Ok(())
}

/// Decides the start mode; an invalid file is renamed to `<file>.bak`.
pub fn start_mode(path: &Path, force_demo: bool) -> StartMode {
    if force_demo {
        return StartMode::Demo;
    }
    match load(path) {
        Ok(None) => rejected_earlier(path).unwrap_or(StartMode::Demo),
        Ok(Some(file)) => StartMode::Tenant(file),
        Err(error) => {
            let backup = backup_path(path);
            if let Err(rename_error) = std::fs::rename(path, &backup) {
                tracing::warn!(path = %path.display(), %rename_error, "invalid config not moved aside");
            }
            tracing::error!(%error, "configuration rejected");
            StartMode::NotConfigured {
                path: path.into(),
                error: error.to_string(),
            }
        }
    }
}

/// Returns "not configured" while a file rejected at an earlier start waits as `<file>.bak`
/// and no new file replaced it. The error is what is wrong in the `.bak` file now, so the app
/// does not fall back to demo mode behind the user's back.
fn rejected_earlier(path: &Path) -> Option<StartMode> {
    let backup = backup_path(path);
    if !backup.exists() {
        return None;
    }
    let error = match load(&backup) {
        Err(error) => error.to_string(),
        Ok(_) => format!(
            "{} is valid now but still has its .bak name",
            backup.display()
        ),
    };
    tracing::error!(%error, "configuration rejected at an earlier start and not replaced");
    Some(StartMode::NotConfigured {
        path: path.into(),
        error,
    })
}

/// `<file>.bak` beside the file.
pub fn backup_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".bak");
    path.with_file_name(name)
}

/// Writes the file atomically (a temporary file renamed over the old one).
///
/// For an existing file, only the keys whose value differs from the file's current settings are
/// changed, so comments, key order, formatting and keys this version does not know stay as they
/// are. A new file is written whole.
pub fn save(path: &Path, file: &ConfigFile) -> Result<(), ConfigError> {
    let write_error = |source| ConfigError::Write {
        path: path.into(),
        source,
    };
    let invalid = |problem: String| ConfigError::Invalid {
        path: path.into(),
        problem,
    };
    let text = match std::fs::read_to_string(path) {
        Ok(existing) => edit_document(&existing, file).map_err(invalid)?,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            toml::to_string_pretty(file).map_err(|error| invalid(error.to_string()))?
        }
        Err(source) => {
            return Err(ConfigError::Read {
                path: path.into(),
                source,
            })
        }
    };
    if let Some(folder) = path.parent() {
        std::fs::create_dir_all(folder).map_err(write_error)?;
    }
    let temporary = path.with_extension("toml.tmp");
    std::fs::write(&temporary, text).map_err(write_error)?;
    std::fs::rename(&temporary, path).map_err(write_error)
}

/// Returns `existing` with the settings of `file` written into it, changing only the keys whose
/// value differs from what `existing` sets (or leaves at its default).
///
/// When `existing` is TOML but no valid configuration (a key this version does not know, a
/// value of the wrong type), every setting of `file` is written, still into the existing text.
fn edit_document(existing: &str, file: &ConfigFile) -> Result<String, String> {
    let mut document: toml_edit::DocumentMut = existing
        .parse()
        .map_err(|error: toml_edit::TomlError| format!("invalid TOML: {error}"))?;
    let before = match toml::from_str::<ConfigFile>(existing) {
        Ok(before) => settings_table(&before)?,
        Err(_) => toml::Table::new(),
    };
    let after = settings_table(file)?;

    let mut sections: Vec<&String> = before.keys().chain(after.keys()).collect();
    sections.sort();
    sections.dedup();
    for section in sections {
        let empty = toml::Table::new();
        let old_keys = section_table(&before, section).unwrap_or(&empty);
        let new_keys = section_table(&after, section).unwrap_or(&empty);
        let mut keys: Vec<&String> = old_keys.keys().chain(new_keys.keys()).collect();
        keys.sort();
        keys.dedup();
        for key in keys {
            let new_value = new_keys.get(key);
            if old_keys.get(key) != new_value {
                set_key(&mut document, section, key, new_value)?;
            }
        }
    }
    Ok(document.to_string())
}

/// Converts the settings into a table of sections, each a table of keys. Unset options are absent.
fn settings_table(file: &ConfigFile) -> Result<toml::Table, String> {
    toml::Table::try_from(file).map_err(|error| error.to_string())
}

fn section_table<'a>(table: &'a toml::Table, section: &str) -> Option<&'a toml::Table> {
    table.get(section).and_then(toml::Value::as_table)
}

/// Sets `[section] key` in `document` to `value`, or removes the key for `None`. An existing
/// value keeps its comments and the whitespace around it.
fn set_key(
    document: &mut toml_edit::DocumentMut,
    section: &str,
    key: &str,
    value: Option<&toml::Value>,
) -> Result<(), String> {
    let Some(value) = value else {
        if let Some(table) = document
            .get_mut(section)
            .and_then(toml_edit::Item::as_table_like_mut)
        {
            table.remove(key);
        }
        return Ok(());
    };
    let mut new_value: toml_edit::Value = value
        .to_string()
        .parse()
        .map_err(|error| format!("{section}.{key} cannot be written: {error}"))?;
    let table = document
        .entry(section)
        .or_insert(toml_edit::table())
        .as_table_like_mut()
        .ok_or_else(|| format!("{section} in the file is not a table"))?;
    match table.get_mut(key) {
        Some(toml_edit::Item::Value(old_value)) => {
            *new_value.decor_mut() = old_value.decor().clone();
            *old_value = new_value;
        }
        Some(item) => *item = toml_edit::Item::Value(new_value),
        None => {
            table.insert(key, toml_edit::Item::Value(new_value));
        }
    }
    Ok(())
}

/// Reads the machine policy. On Windows the registry key
/// (`crate::policy_registry::POLICY_KEY`) wins when it exists; otherwise, and on other
/// systems, the file at `path`. A missing file is an empty policy; an invalid key or file is
/// logged and ignored.
pub fn load_policy(path: &Path) -> Policy {
    #[cfg(windows)]
    match crate::policy_registry::read_machine_policy() {
        Ok(Some(policy)) => return policy,
        Ok(None) => {}
        Err(error) => {
            tracing::error!(%error, "invalid policy in the registry ignored");
            return Policy::default();
        }
    }
    match std::fs::read_to_string(path) {
        Ok(text) => toml::from_str(&text).unwrap_or_else(|error| {
            tracing::error!(path = %path.display(), %error, "invalid policy file ignored");
            Policy::default()
        }),
        Err(_) => Policy::default(),
    }
}

impl ConfigFile {
    /// Applies the policy's overrides.
    pub fn with_policy(mut self, policy: &Policy) -> ConfigFile {
        let overrides = [
            (&policy.tenant, &mut self.tenant.tenant),
            (&policy.client_id, &mut self.tenant.client_id),
            (&policy.authority_host, &mut self.tenant.authority_host),
            (&policy.graph_base, &mut self.tenant.graph_base),
        ];
        for (managed, value) in overrides {
            if let Some(managed) = managed {
                value.clone_from(managed);
            }
        }
        self
    }

    /// The engine's settings, with the policy's minimum poll interval.
    pub fn engine_settings(&self, policy: &Policy) -> Settings {
        let min_poll = policy
            .min_poll_interval_secs
            .unwrap_or(1.0)
            .clamp(1.0, 600.0);
        Settings {
            poll_interval: Duration::from_secs_f64(self.sync.poll_interval_secs.clamp(1.0, 600.0)),
            min_poll_interval: Duration::from_secs_f64(min_poll),
            speaking_substitute: self.sync.speaking_substitute,
            dnd_sets_dnd: self.sync.dnd_sets_dnd,
            away_sets_away: self.sync.away_sets_away,
        }
    }
}

impl Policy {
    /// Settings the window shows as managed.
    pub fn managed_settings(&self) -> Vec<String> {
        let mut managed: Vec<String> = [
            ("tenant", self.tenant.is_some()),
            ("client_id", self.client_id.is_some()),
            ("authority_host", self.authority_host.is_some()),
            ("graph_base", self.graph_base.is_some()),
            (
                "min_poll_interval_secs",
                self.min_poll_interval_secs.is_some(),
            ),
        ]
        .into_iter()
        .filter(|(_, set)| *set)
        .map(|(name, _)| name.to_string())
        .collect();
        managed.extend(self.locked.iter().cloned());
        managed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_file_means_demo() {
        let folder = tempfile::tempdir().unwrap();
        assert_eq!(
            start_mode(&folder.path().join("config.toml"), false),
            StartMode::Demo
        );
    }

    #[test]
    fn invalid_file_is_kept_as_backup() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("config.toml");
        std::fs::write(&path, "[sync]\npoll_interval_secs = 0.1\n").unwrap();
        let mode = start_mode(&path, false);
        let StartMode::NotConfigured {
            path: reported,
            error,
        } = mode
        else {
            panic!("expected not configured, got {mode:?}");
        };
        assert_eq!(reported, path);
        assert!(error.contains("poll_interval_secs"), "{error}");
        assert!(!path.exists());
        assert!(backup_path(&path).exists());
    }

    #[test]
    fn rejected_backup_still_means_not_configured() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("config.toml");
        std::fs::write(&path, "[sync]\npoll_interval_secs = 0.1\n").unwrap();
        start_mode(&path, false);

        let mode = start_mode(&path, false);
        let StartMode::NotConfigured { error, .. } = mode else {
            panic!("a second start fell back to {mode:?}");
        };
        assert!(error.contains("poll_interval_secs"), "{error}");
        assert!(backup_path(&path).exists(), "the .bak file was moved");

        std::fs::write(backup_path(&path), "[sync]\npoll_interval_secs = 5\n").unwrap();
        let mode = start_mode(&path, false);
        let StartMode::NotConfigured { error, .. } = mode else {
            panic!("a fixed .bak file started {mode:?}");
        };
        assert!(error.contains("still has its .bak name"), "{error}");

        std::fs::remove_file(backup_path(&path)).unwrap();
        assert_eq!(start_mode(&path, false), StartMode::Demo);
    }

    #[test]
    fn unknown_key_is_invalid() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("config.toml");
        std::fs::write(&path, "[tenant]\nclientid = \"x\"\n").unwrap();
        assert!(matches!(load(&path), Err(ConfigError::Parse { .. })));
    }

    #[test]
    fn save_then_load_round_trips() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("nested/config.toml");
        let mut file = ConfigFile::default();
        file.tenant.client_id = "11111111-2222-3333-4444-555555555555".into();
        file.sync.poll_interval_secs = 5.0;
        save(&path, &file).unwrap();
        assert_eq!(load(&path).unwrap(), Some(file));
    }

    /// A file as the README shows it, with a header comment added.
    const COMMENTED_FILE: &str = "\
# Presence Bridge, set up by the help desk
[tenant]
client_id = \"11111111-2222-3333-4444-555555555555\"
tenant = \"contoso.example\"   # needed for single-tenant registrations
";

    #[test]
    fn save_keeps_comments_and_unchanged_keys() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("config.toml");
        std::fs::write(&path, COMMENTED_FILE).unwrap();
        let mut file = load(&path).unwrap().unwrap();
        file.sync.poll_interval_secs = 5.0;

        save(&path, &file).unwrap();

        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.starts_with(COMMENTED_FILE),
            "the old text changed:\n{text}"
        );
        assert!(
            text.contains("poll_interval_secs = 5.0"),
            "the new value is missing:\n{text}"
        );
        assert!(
            !text.contains("authority_host"),
            "a default was written:\n{text}"
        );
        assert_eq!(load(&path).unwrap(), Some(file));
    }

    #[test]
    fn save_changes_value_in_place() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("config.toml");
        std::fs::write(&path, COMMENTED_FILE).unwrap();
        let mut file = load(&path).unwrap().unwrap();
        file.tenant.tenant = "fabrikam.example".into();

        save(&path, &file).unwrap();

        let text = std::fs::read_to_string(&path).unwrap();
        let expected = COMMENTED_FILE.replace("contoso.example", "fabrikam.example");
        assert_eq!(text, expected);
        assert_eq!(load(&path).unwrap(), Some(file));
    }

    #[test]
    fn save_removes_unset_option() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("config.toml");
        let text = "[app]\nlanguage = \"de\"\nstart_at_login = true # set by the first sign-in\n";
        std::fs::write(&path, text).unwrap();
        let mut file = load(&path).unwrap().unwrap();
        file.app.start_at_login = None;

        save(&path, &file).unwrap();

        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "[app]\nlanguage = \"de\"\n"
        );
        assert_eq!(load(&path).unwrap(), Some(file));
    }

    #[test]
    fn save_keeps_unknown_keys() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("config.toml");
        let text = "# written by a newer version\n[sync]\nfuture_option = 3 # kept\n";
        std::fs::write(&path, text).unwrap();
        let mut file = ConfigFile::default();
        file.tenant.client_id = "client".into();

        save(&path, &file).unwrap();

        let saved = std::fs::read_to_string(&path).unwrap();
        assert!(
            saved.starts_with("# written by a newer version\n[sync]\nfuture_option = 3 # kept\n"),
            "{saved}"
        );
        assert!(saved.contains("client_id = \"client\""), "{saved}");
        let parsed: toml::Table = toml::from_str(&saved).unwrap();
        assert_eq!(parsed["sync"]["future_option"].as_integer(), Some(3));
        let mut known = parsed.clone();
        known["sync"]
            .as_table_mut()
            .unwrap()
            .remove("future_option");
        let known: ConfigFile = known.try_into().unwrap();
        assert_eq!(known, file);
    }

    #[test]
    fn save_rejects_invalid_toml() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("config.toml");
        std::fs::write(&path, "[tenant\n").unwrap();
        let error = save(&path, &ConfigFile::default()).unwrap_err();
        assert!(matches!(error, ConfigError::Invalid { .. }), "{error}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "[tenant\n");
    }

    #[test]
    fn policy_overrides_tenant_and_minimum_interval() {
        let policy = Policy {
            client_id: Some("managed-client".into()),
            min_poll_interval_secs: Some(30.0),
            locked: vec!["poll_interval_secs".into()],
            ..Policy::default()
        };
        let file = ConfigFile::default().with_policy(&policy);
        assert_eq!(file.tenant.client_id, "managed-client");
        assert_eq!(
            file.engine_settings(&policy).min_poll_interval,
            Duration::from_secs(30)
        );
        assert_eq!(
            policy.managed_settings(),
            vec![
                "client_id".to_string(),
                "min_poll_interval_secs".into(),
                "poll_interval_secs".into()
            ]
        );
    }
}
