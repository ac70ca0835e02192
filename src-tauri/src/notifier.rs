//! Desktop notifications through the OS notification service.
//!
//! The core decides when to notify (once per episode); this only shows the message. Showing
//! it talks to D-Bus (Linux) or the toast service (Windows), which can be slow or absent, so
//! every notification runs on its own short-lived thread and a failure is only logged.

use engine::NotificationKind;
use tracing::{debug, warn};

use crate::i18n::{text, Language, Text};

/// A [`bridge::Notifier`] that shows desktop notifications in the app's current language.
#[derive(Debug, Default, Clone, Copy)]
pub struct DesktopNotifier;

impl DesktopNotifier {
    /// Creates a notifier; it reads the language when it shows a notification.
    pub fn new() -> Self {
        DesktopNotifier
    }
}

/// Returns the title and body of a notification.
pub fn message(language: Language, kind: NotificationKind) -> (&'static str, &'static str) {
    let (title, body) = match kind {
        NotificationKind::SignIn => (Text::NotifySignInTitle, Text::NotifySignInBody),
        NotificationKind::SwyxGone => (Text::NotifySwyxGoneTitle, Text::NotifySwyxGoneBody),
        NotificationKind::Conflict => (Text::NotifyConflictTitle, Text::NotifyConflictBody),
    };
    (text(language, title), text(language, body))
}

impl bridge::Notifier for DesktopNotifier {
    fn notify(&self, kind: NotificationKind) {
        let (title, body) = message(Language::current(), kind);
        let spawned = std::thread::Builder::new()
            .name("notification".into())
            .spawn(move || {
                let shown = notify_rust::Notification::new()
                    .appname("Presence Bridge")
                    .summary(title)
                    .body(body)
                    .show();
                match shown {
                    Ok(_) => debug!(?kind, "notification shown"),
                    Err(error) => warn!(?kind, %error, "notification not shown"),
                }
            });
        if let Err(error) = spawned {
            warn!(?kind, %error, "notification thread not started");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_has_its_own_message() {
        for language in [Language::En, Language::De] {
            let kinds = [
                NotificationKind::SignIn,
                NotificationKind::SwyxGone,
                NotificationKind::Conflict,
            ];
            let titles: std::collections::HashSet<_> = kinds
                .iter()
                .map(|kind| message(language, *kind).0)
                .collect();
            assert_eq!(titles.len(), kinds.len(), "{language:?}");
        }
        assert_eq!(
            message(Language::En, NotificationKind::SignIn).0,
            "Sign in again"
        );
        assert_eq!(
            message(Language::De, NotificationKind::SignIn).0,
            "Erneut anmelden"
        );
    }
}
