//! The few strings the Rust side shows itself: the tray menu and desktop notifications.
//!
//! The window has its own, larger table in `ui/i18n.js`. Both sides resolve the language the
//! same way: the user's choice (`en`, `de`), or for `system` the locale environment variables.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::OnceLock;

use serde::Serialize;

/// A language the app speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    En,
    De,
}

/// The language of the tray and of notifications, shared by the whole process.
static CURRENT: AtomicU8 = AtomicU8::new(0);

impl Language {
    /// Resolves a configured choice (`system`, `en`, `de`) to a language.
    pub fn resolve(choice: &str) -> Language {
        match choice {
            "de" => Language::De,
            "en" => Language::En,
            _ => Language::from_locale(&system_locale()),
        }
    }

    /// Reads a POSIX locale such as `de_DE.UTF-8`; anything but German is English.
    pub fn from_locale(locale: &str) -> Language {
        if locale.to_ascii_lowercase().starts_with("de") {
            Language::De
        } else {
            Language::En
        }
    }

    /// Sets the process-wide language.
    pub fn make_current(self) {
        CURRENT.store(self as u8, Ordering::Relaxed);
    }

    /// The process-wide language.
    pub fn current() -> Language {
        match CURRENT.load(Ordering::Relaxed) {
            1 => Language::De,
            _ => Language::En,
        }
    }
}

/// The first of `LC_ALL`, `LC_MESSAGES`, `LANG` that is set and not empty.
fn system_locale() -> String {
    ["LC_ALL", "LC_MESSAGES", "LANG"]
        .iter()
        .filter_map(|name| std::env::var(name).ok())
        .find(|value| !value.is_empty())
        .unwrap_or_default()
}

/// A string the Rust side shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Text {
    Open,
    SyncOn,
    SyncOff,
    Pause,
    Pause15Minutes,
    Pause1Hour,
    PauseUntilTomorrow,
    Resume,
    SignIn,
    SignOut,
    Quit,
    NotifySignInTitle,
    NotifySignInBody,
    NotifySwyxGoneTitle,
    NotifySwyxGoneBody,
    NotifyConflictTitle,
    NotifyConflictBody,
}

/// The string for `text` in `language`.
pub fn text(language: Language, text: Text) -> &'static str {
    let (en, de) = match text {
        Text::Open => ("Open Presence Bridge", "Presence Bridge öffnen"),
        Text::SyncOn => ("Sync: on", "Abgleich: an"),
        Text::SyncOff => ("Sync: off", "Abgleich: aus"),
        Text::Pause => ("Pause", "Pausieren"),
        Text::Pause15Minutes => ("For 15 minutes", "Für 15 Minuten"),
        Text::Pause1Hour => ("For 1 hour", "Für 1 Stunde"),
        Text::PauseUntilTomorrow => ("Until tomorrow", "Bis morgen"),
        Text::Resume => ("Resume", "Fortsetzen"),
        Text::SignIn => ("Sign in", "Anmelden"),
        Text::SignOut => ("Sign out", "Abmelden"),
        Text::Quit => ("Quit", "Beenden"),
        Text::NotifySignInTitle => ("Sign in again", "Erneut anmelden"),
        Text::NotifySignInBody => (
            "Your Teams sign-in has expired. Swyx keeps syncing; open Presence Bridge to sign in.",
            "Ihre Teams-Anmeldung ist abgelaufen. Swyx wird weiter abgeglichen; öffnen Sie \
             Presence Bridge, um sich anzumelden.",
        ),
        Text::NotifySwyxGoneTitle => ("SwyxIt! is not available", "SwyxIt! ist nicht erreichbar"),
        Text::NotifySwyxGoneBody => (
            "Presence Bridge cannot reach SwyxIt! for more than a minute. Start SwyxIt! and log in.",
            "Presence Bridge erreicht SwyxIt! seit über einer Minute nicht. Starten Sie SwyxIt! \
             und melden Sie sich an.",
        ),
        Text::NotifyConflictTitle => ("Another sync changes your Swyx status", "Eine andere Synchronisation ändert Ihren Swyx-Status"),
        Text::NotifyConflictBody => (
            "Teams → Swyx is stopped until you decide. Open Presence Bridge to resume it.",
            "Teams → Swyx ist angehalten, bis Sie entscheiden. Öffnen Sie Presence Bridge, um es \
             fortzusetzen.",
        ),
    };
    match language {
        Language::En => en,
        Language::De => de,
    }
}

/// German for the app core's English texts, shared with the window (`ui/core-de.json`).
fn core_german() -> &'static HashMap<String, String> {
    static TABLE: OnceLock<HashMap<String, String>> = OnceLock::new();
    TABLE.get_or_init(|| {
        serde_json::from_str(include_str!("../../ui/core-de.json")).unwrap_or_else(|error| {
            tracing::error!(%error, "ui/core-de.json is invalid; core texts stay English");
            HashMap::new()
        })
    })
}

/// Translates a text of the app core (a status label, for example); unknown texts stay English.
pub fn core_text(language: Language, english: &str) -> String {
    if language == Language::En {
        return english.to_string();
    }
    if let Some(german) = core_german().get(english) {
        return german.clone();
    }
    // The engine writes a Speaking target as "Speaking (shown in Swyx as <status>)".
    let shown_as = english
        .strip_prefix("Speaking (shown in Swyx as ")
        .and_then(|rest| rest.strip_suffix(')'));
    match shown_as {
        Some(status) => format!(
            "Im Gespräch (in Swyx angezeigt als {})",
            core_text(language, status)
        ),
        None => english.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn core_texts_in_german() {
        let check = |english: &str, german: &str| {
            assert_eq!(core_text(Language::De, english), german, "{english:?}");
            assert_eq!(
                core_text(Language::En, english),
                english,
                "{english:?} in English"
            );
        };
        check("In a call", "Im Anruf");
        check("Do not disturb", "Nicht stören");
        check(
            "Speaking (shown in Swyx as Away)",
            "Im Gespräch (in Swyx angezeigt als Abwesend)",
        );
        check("A status from a newer Teams", "A status from a newer Teams");
    }

    #[test]
    fn locale_resolution() {
        let check = |locale: &str, expected: Language| {
            assert_eq!(Language::from_locale(locale), expected, "locale {locale:?}");
        };
        check("de_DE.UTF-8", Language::De);
        check("de_AT", Language::De);
        check("DE", Language::De);
        check("en_US.UTF-8", Language::En);
        check("fr_FR.UTF-8", Language::En);
        check("C", Language::En);
        check("", Language::En);
    }

    #[test]
    fn explicit_choice_wins() {
        assert_eq!(Language::resolve("de"), Language::De);
        assert_eq!(Language::resolve("en"), Language::En);
    }

    #[test]
    fn every_text_has_both_languages() {
        let all = [
            Text::Open,
            Text::SyncOn,
            Text::SyncOff,
            Text::Pause,
            Text::Pause15Minutes,
            Text::Pause1Hour,
            Text::PauseUntilTomorrow,
            Text::Resume,
            Text::SignIn,
            Text::SignOut,
            Text::Quit,
            Text::NotifySignInTitle,
            Text::NotifySignInBody,
            Text::NotifySwyxGoneTitle,
            Text::NotifySwyxGoneBody,
            Text::NotifyConflictTitle,
            Text::NotifyConflictBody,
        ];
        for item in all {
            let en = text(Language::En, item);
            let de = text(Language::De, item);
            assert!(!en.is_empty(), "{item:?} has no English text");
            assert!(!de.is_empty(), "{item:?} has no German text");
            assert_ne!(en, de, "{item:?} is not translated");
        }
    }

    /// The keys of the object literal `const <name> = { ... };` in the window's i18n.js.
    fn window_table_keys(source: &str, name: &str) -> std::collections::BTreeSet<String> {
        let start = source
            .find(&format!("const {name} = {{"))
            .unwrap_or_else(|| panic!("table {name} not found in ui/i18n.js"));
        let body = &source[start..];
        let end = body.find("\n};").expect("end of the table");
        body[..end]
            .lines()
            .skip(1)
            .filter_map(|line| line.trim_start().split_once(':'))
            .map(|(key, _)| key.trim().to_string())
            .filter(|key| !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric()))
            .collect()
    }

    /// Every quoted argument that follows `marker` in `source`, such as the keys of `t('...')`;
    /// a marker preceded by a letter belongs to a longer name (`createElement('tr')`).
    fn quoted_after(source: &str, marker: &str, quote: char) -> Vec<String> {
        source
            .match_indices(marker)
            .filter(|(index, _)| {
                let before = source[..*index].chars().next_back();
                !before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
            })
            .filter_map(|(index, _)| source[index + marker.len()..].split(quote).next())
            .map(str::to_string)
            .collect()
    }

    #[test]
    fn window_tables_cover_every_key() {
        let i18n = include_str!("../../ui/i18n.js");
        let en = window_table_keys(i18n, "en");
        let de = window_table_keys(i18n, "de");
        assert!(en.len() > 50, "only {} English keys found", en.len());
        assert_eq!(
            en.symmetric_difference(&de).collect::<Vec<_>>(),
            Vec::<&String>::new(),
            "keys in only one of the two tables"
        );

        let html = include_str!("../../ui/index.html");
        let script = include_str!("../../ui/app.js");
        let mut used = quoted_after(html, "data-i18n=\"", '"');
        used.extend(quoted_after(html, "data-i18n-aria-label=\"", '"'));
        used.extend(quoted_after(script, "t('", '\''));
        assert!(used.len() > 50, "only {} keys used", used.len());
        for key in used {
            assert!(
                en.contains(&key),
                "the window uses {key:?}, which ui/i18n.js lacks"
            );
        }
    }

    #[test]
    fn sign_in_failures_have_german_actions() {
        let consent_page = "https://login.example/adminconsent".parse().expect("url");
        let entra = |error: &str, code: Option<u32>| {
            let description = code.map(|code| format!("AADSTS{code}: text from the server"));
            graph::EntraError::new(error, description.as_deref(), &consent_page)
        };
        let mut failures: Vec<graph::AuthError> = [
            entra("invalid_client", Some(65001)),
            entra("access_denied", Some(53003)),
            entra("invalid_request", Some(50194)),
            entra("invalid_request", Some(50011)),
            entra("unauthorized_client", Some(7000112)),
            entra("invalid_client", Some(7000218)),
            entra("invalid_grant", None),
            entra("access_denied", None),
            entra("server_error", None),
        ]
        .into_iter()
        .map(graph::AuthError::Entra)
        .collect();
        failures.push(graph::AuthError::SignInExpired(None));
        failures.push(graph::AuthError::Cancelled);
        for failure in &failures {
            let shown = bridge::teams::sign_in_error(failure);
            // The window translates "<text>: <link>" part by part, the link unchanged.
            let action = shown
                .action
                .split_once(": https://")
                .map_or(shown.action.as_str(), |(text, _)| text);
            assert!(
                core_german().contains_key(action),
                "no German for the action {action:?} of {failure:?}"
            );
        }
    }
}
