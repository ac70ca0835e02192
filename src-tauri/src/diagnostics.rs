//! The text behind "Copy diagnostics": app version, OS, settings, health and the newest log
//! lines, for a support request.
//!
//! The bundle leaves out everything personal or secret: the account (UPN, name), the SwyxIt!
//! identity (e-mail, user), every status word of Teams or Swyx and any status message, sign-in
//! codes and tokens. The settings it keeps (client id, tenant, endpoints) identify the app
//! registration, not a person. Log lines pass through [`redact_line`], which masks the fields
//! that carry such values, every e-mail address, anything shaped like a token, and every
//! status word.

use std::fmt::Write as _;
use std::path::Path;
use std::sync::OnceLock;

use bridge::config::ConfigFile;
use engine::{Health, SwyxSettable, SwyxStatus};
use regex::{Captures, Regex};

use crate::logging::LOG_FILE_PREFIX;
use crate::view::{ModeView, UiState};
use crate::wiring::DemoControl;

/// Log lines the bundle carries, newest last.
pub const LOG_LINES: usize = 200;

/// Placeholder for a removed value.
const REDACTED: &str = "<redacted>";

/// Log fields whose values may name a person, a status or a secret.
const REDACTED_FIELDS: &[&str] = &[
    "from",
    "to",
    "status",
    "target",
    "availability",
    "activity",
    "label",
    "row",
    "upn",
    "email",
    "mail",
    "user",
    "name",
    "display_name",
    "message",
    "status_message",
    "away_text",
    "content",
    "code",
    "user_code",
    "device_code",
    "token",
    "access_token",
    "refresh_token",
    "id_token",
    "secret",
    "password",
    "state",
];

/// Builds the diagnostics text from the window's state, the settings and the log lines.
pub fn bundle(state: &UiState, config: &ConfigFile, log_lines: &[String]) -> String {
    let mut text = String::new();
    let view = &state.snapshot.view;
    let _ = writeln!(text, "Presence Bridge diagnostics");
    let _ = writeln!(text, "version: {}", env!("CARGO_PKG_VERSION"));
    let _ = writeln!(text, "os: {}", os_description());
    let mode = match &state.mode {
        ModeView::Demo => "demo".to_string(),
        ModeView::Tenant { tenant } => format!("tenant {tenant}"),
        ModeView::NotConfigured { error, .. } => {
            format!("not configured: {}", redact_line(error))
        }
    };
    let _ = writeln!(text, "mode: {mode}");

    let _ = writeln!(text, "\n[settings]");
    write_endpoints(&mut text, &state.mode, config);
    let settings = &state.settings;
    let _ = writeln!(text, "poll_interval_secs: {}", settings.poll_interval_secs);
    let _ = writeln!(
        text,
        "min_poll_interval_secs: {}",
        settings.min_poll_interval_secs
    );
    // The substitute is a setting, not anyone's status, but it is a status word all the same.
    let substitute = match settings.speaking_substitute {
        SwyxSettable::DoNotDisturb => "do-not-disturb",
        _ => "away",
    };
    let _ = writeln!(text, "speaking_substitute: {substitute}");
    let _ = writeln!(text, "dnd_sets_dnd: {}", settings.dnd_sets_dnd);
    let _ = writeln!(text, "away_sets_away: {}", settings.away_sets_away);
    let _ = writeln!(text, "language: {}", settings.language);
    // Unset until the first sign-in switches it on (or a policy decides).
    let start_at_login = match settings.start_at_login {
        Some(true) => "on",
        Some(false) => "off",
        None => "not set yet",
    };
    let _ = writeln!(text, "start_at_login: {start_at_login}");
    let _ = writeln!(text, "managed: {:?}", settings.managed);

    let _ = writeln!(text, "\n[health]");
    let _ = writeln!(text, "teams: {}", health_line(&view.health_teams));
    let _ = writeln!(text, "swyx: {}", health_line(&view.health_swyx));
    let warnings: Vec<String> = view
        .warnings
        .iter()
        .map(|warning| format!("{warning:?}"))
        .collect();
    let _ = writeln!(text, "warnings: {warnings:?}");
    let _ = writeln!(text, "override: {}", view.override_text.is_some());
    let _ = writeln!(text, "signed_in: {}", state.snapshot.account.is_some());
    let sign_in_error = state.snapshot.sign_in_error.as_ref().map(|error| {
        let code = error.code.as_deref().unwrap_or("-");
        format!("{code}: {}", redact_line(&error.message))
    });
    let _ = writeln!(
        text,
        "sign_in_error: {}",
        sign_in_error.unwrap_or("none".into())
    );
    let swyx_attached = view
        .swyx
        .is_some_and(|status| status != SwyxStatus::LoggedOff);
    let _ = writeln!(text, "swyx_attached: {swyx_attached}");
    let _ = writeln!(text, "tray_host: {}", state.tray_host);
    let _ = writeln!(text, "stopped: {}", state.snapshot.stopped);

    let _ = writeln!(text, "\n[sync]");
    let _ = writeln!(text, "sync_enabled: {}", view.sync_enabled);
    let _ = writeln!(text, "teams_to_swyx: {}", view.teams_to_swyx);
    let _ = writeln!(text, "swyx_to_teams: {}", view.swyx_to_teams);
    let _ = writeln!(text, "paused: {}", view.paused_until.is_some());
    let _ = writeln!(text, "own_session: {}", view.own_session);
    let _ = writeln!(text, "poll_interval_ms: {}", view.poll_interval.as_millis());
    let _ = writeln!(text, "throttle_count: {}", view.throttle_count);
    let counts = &state.snapshot.notifications;
    let _ = writeln!(
        text,
        "notifications: sign_in {}, swyx_gone {}, conflict {}",
        counts.sign_in, counts.swyx_gone, counts.conflict
    );
    // Directions and latencies only: the statuses of each sync are left out.
    for entry in &state.snapshot.history {
        let _ = writeln!(
            text,
            "sync: at_unix_ms {} {:?} latency_ms {}",
            entry.at_unix_ms,
            entry.event.direction,
            entry.event.latency.as_millis()
        );
    }

    let _ = writeln!(text, "\n[log, last {} lines]", log_lines.len());
    for line in log_lines {
        let _ = writeln!(text, "{}", redact_line(line));
    }
    text
}

/// Writes the app registration and the endpoints the app signs in and polls at. Only tenant
/// mode uses the settings' values (Microsoft's by default), so for the other modes the line
/// names what the app connects to instead.
fn write_endpoints(text: &mut String, mode: &ModeView, config: &ConfigFile) {
    match mode {
        ModeView::Tenant { .. } => {
            let _ = writeln!(text, "client_id: {}", config.tenant.client_id);
            let _ = writeln!(text, "tenant: {}", config.tenant.tenant);
            let _ = writeln!(text, "authority_host: {}", config.tenant.authority_host);
            let _ = writeln!(text, "graph_base: {}", config.tenant.graph_base);
        }
        ModeView::Demo => {
            let _ = writeln!(
                text,
                "endpoints: the in-process Graph twin on loopback (demo mode), no Microsoft \
                 endpoint"
            );
        }
        ModeView::NotConfigured { .. } => {
            let _ = writeln!(
                text,
                "endpoints: none, because the configuration file was rejected (no sign-in, no \
                 Graph request)"
            );
        }
    }
}

fn health_line(health: &Health) -> String {
    match health {
        Health::Ok => "ok".into(),
        Health::SignedOut => "signed-out".into(),
        Health::Degraded { reason, .. } => format!("degraded: {}", redact_line(reason)),
        Health::Unavailable { reason, action } => format!(
            "unavailable: {} / {}",
            redact_line(reason),
            redact_line(action)
        ),
    }
}

/// The OS family and architecture, with the distribution's name where the OS reports one.
fn os_description() -> String {
    let family = format!("{} {}", std::env::consts::OS, std::env::consts::ARCH);
    let pretty_name = std::fs::read_to_string("/etc/os-release")
        .ok()
        .and_then(|release| {
            release.lines().find_map(|line| {
                line.strip_prefix("PRETTY_NAME=")
                    .map(|name| name.trim_matches('"').to_string())
            })
        });
    match pretty_name {
        Some(name) => format!("{family} ({name})"),
        None => family,
    }
}

/// Reads the last `count` lines of the app's log files in `folder`, oldest first.
///
/// The daily files are named `presence-bridge.<YYYY-MM-DD>.log`, so their names sort by date.
/// A folder that cannot be read gives no lines.
pub fn last_log_lines(folder: &Path, count: usize) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(folder) else {
        return Vec::new();
    };
    let mut files: Vec<_> = entries
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| {
            path.file_name()
                .and_then(|name| name.to_str())
                .is_some_and(|name| name.starts_with(LOG_FILE_PREFIX) && name.ends_with(".log"))
        })
        .collect();
    files.sort();
    let mut lines: Vec<String> = Vec::new();
    for file in files.iter().rev() {
        let Ok(content) = std::fs::read_to_string(file) else {
            continue;
        };
        let mut older: Vec<String> = content.lines().map(str::to_string).collect();
        older.append(&mut lines);
        lines = older;
        if lines.len() >= count {
            break;
        }
    }
    let skip = lines.len().saturating_sub(count);
    lines.split_off(skip)
}

/// Masks what a log line must not carry outside the machine.
///
/// In order: the values of [`REDACTED_FIELDS`] (a `key=value` field runs to the next field or
/// the end of the line, so values with spaces are masked whole; a parameter in a URL runs to the
/// next `&`), e-mail addresses, bearer tokens
/// and token-shaped strings (32 or more characters of a token alphabet, except GUIDs such as
/// the client id), and the status words of Teams and Swyx.
pub fn redact_line(line: &str) -> String {
    static FIELD_KEY: OnceLock<Regex> = OnceLock::new();
    static URL_PARAMETER: OnceLock<Regex> = OnceLock::new();
    static EMAIL: OnceLock<Regex> = OnceLock::new();
    static TOKEN: OnceLock<Regex> = OnceLock::new();
    static GUID: OnceLock<Regex> = OnceLock::new();
    let field_key = FIELD_KEY.get_or_init(|| {
        Regex::new(r"(?:^|\s)([A-Za-z_][A-Za-z0-9_.]*)=").expect("field key pattern")
    });
    let url_parameter = URL_PARAMETER.get_or_init(|| {
        let names = REDACTED_FIELDS.join("|");
        Regex::new(&format!(r"([?&])({names})=([^&\s]*)")).expect("URL parameter pattern")
    });
    let email = EMAIL.get_or_init(|| {
        Regex::new(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}").expect("e-mail pattern")
    });
    let token = TOKEN.get_or_init(|| {
        Regex::new(r"(?i)\bbearer\s+\S+|[A-Za-z0-9_~+/=.-]{32,}").expect("token pattern")
    });
    let guid = GUID.get_or_init(|| {
        Regex::new(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
            .expect("GUID pattern")
    });

    // A field's value runs from its `=` to the space before the next field's key.
    let keys: Vec<_> = field_key.captures_iter(line).collect();
    let mut text = String::with_capacity(line.len());
    let mut copied = 0;
    for (index, key) in keys.iter().enumerate() {
        let whole = key.get(0).expect("match");
        let name = &key[1];
        let value_end = keys
            .get(index + 1)
            .map_or(line.len(), |next| next.get(0).expect("match").start());
        if REDACTED_FIELDS.contains(&name) {
            text.push_str(&line[copied..whole.end()]);
            text.push_str(REDACTED);
            copied = value_end;
        }
    }
    text.push_str(&line[copied..]);

    let text = url_parameter.replace_all(&text, |caps: &Captures| {
        format!("{}{}={REDACTED}", &caps[1], &caps[2])
    });
    let text = email.replace_all(&text, REDACTED);
    let text = token.replace_all(&text, |caps: &Captures| {
        if guid.is_match(&caps[0]) {
            caps[0].to_string()
        } else {
            REDACTED.to_string()
        }
    });
    status_words().replace_all(&text, "<status>").into_owned()
}

/// Every status word of Teams and Swyx the app knows: the labels and raw Graph names of the
/// mapping table, and the Swyx statuses, as one pattern that matches whole words.
fn status_words() -> &'static Regex {
    static WORDS: OnceLock<Regex> = OnceLock::new();
    WORDS.get_or_init(|| {
        let mut words: Vec<String> = Vec::new();
        for row in DemoControl::rows() {
            words.push(row.label.to_string());
            words.push(row.availability.to_string());
            words.push(row.activity.to_string());
        }
        let swyx = [
            SwyxStatus::Available,
            SwyxStatus::Away,
            SwyxStatus::DoNotDisturb,
            SwyxStatus::Speaking,
            SwyxStatus::LoggedOff,
        ];
        for status in swyx {
            words.push(format!("{status:?}"));
        }
        // The Swyx statuses in words, as the window shows them.
        for label in [
            "Do not disturb",
            "Speaking",
            "Logged off",
            "In a call",
            "InACall",
        ] {
            words.push(label.to_string());
        }
        // Longest first, so that "Do not disturb" wins over a shorter word inside it.
        words.sort_by_key(|word| std::cmp::Reverse(word.len()));
        words.dedup();
        let alternatives: Vec<String> = words.iter().map(|word| regex::escape(word)).collect();
        Regex::new(&format!(r"\b({})\b", alternatives.join("|"))).expect("status words pattern")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_with_spaces_are_masked() {
        let line = "INFO bridge::driver: sync applied direction=SwyxToTeams from=Speaking ended \
                    to=cleared latency_ms=1402";
        let redacted = redact_line(line);
        assert_eq!(
            redacted,
            "INFO bridge::driver: sync applied direction=SwyxToTeams from=<redacted> \
             to=<redacted> latency_ms=1402"
        );
    }

    #[test]
    fn secrets_and_addresses_are_masked() {
        let line = "callback http://127.0.0.1:5000/?code=0.AXkAabc&state=xyz for \
                    adele.vance@contoso.example Bearer eyJ0eXAiOiJKV1Qi.eyJzdWIiOiIxMjM0NTY3ODkw \
                    client 8a6f1c2e-1b2c-4d5e-9f00-123456789abc";
        let redacted = redact_line(line);
        assert!(!redacted.contains("0.AXkAabc"), "{redacted}");
        assert!(!redacted.contains("xyz"), "{redacted}");
        assert!(!redacted.contains("adele.vance"), "{redacted}");
        assert!(!redacted.contains("eyJ"), "{redacted}");
        assert!(
            redacted.contains("8a6f1c2e-1b2c-4d5e-9f00-123456789abc"),
            "a GUID such as the client id stays: {redacted}"
        );
    }

    #[test]
    fn status_words_are_masked() {
        let line = "WARN swyx::adapter: writing failed error=automation call DoNotDisturb failed";
        let redacted = redact_line(line);
        assert!(!redacted.contains("DoNotDisturb"), "{redacted}");
        assert!(redacted.contains("<status>"), "{redacted}");
        assert_eq!(
            redact_line("SwyxIt! unavailable reason=NotRunning"),
            "SwyxIt! unavailable reason=NotRunning",
            "words that are no status stay"
        );
    }

    #[test]
    fn last_lines_span_files() {
        let folder = tempfile::tempdir().expect("folder");
        let older: String = (0..150).map(|i| format!("old {i}\n")).collect();
        let newer: String = (0..100).map(|i| format!("new {i}\n")).collect();
        std::fs::write(folder.path().join("presence-bridge.2026-12-03.log"), older).unwrap();
        std::fs::write(folder.path().join("presence-bridge.2026-12-04.log"), newer).unwrap();
        std::fs::write(folder.path().join("other.log"), "not ours\n").unwrap();
        let lines = last_log_lines(folder.path(), LOG_LINES);
        assert_eq!(lines.len(), LOG_LINES);
        assert_eq!(lines.first().map(String::as_str), Some("old 50"));
        assert_eq!(lines.last().map(String::as_str), Some("new 99"));
        assert!(!lines.iter().any(|line| line == "not ours"));
    }
}
