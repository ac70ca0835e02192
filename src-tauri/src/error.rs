//! The error every window command returns, with a stable `kind` the page branches on.

use serde::ser::SerializeStruct;
use serde::{Serialize, Serializer};

/// The failure of a command from the window or the tray.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    /// The core has quit (or its task ended); nothing more can be changed.
    #[error("the app core has stopped")]
    Stopped,
    /// A demo command outside demo mode.
    #[error("this needs demo mode")]
    NotDemo,
    #[error("invalid {field}: {problem}")]
    Invalid {
        field: &'static str,
        problem: String,
    },
    /// A machine policy locks this setting.
    #[error("{setting} is managed by a machine policy")]
    Managed { setting: &'static str },
    #[error("the demo tour is already running")]
    TourRunning,
    #[error("settings not saved")]
    Config(#[source] bridge::config::ConfigError),
    #[error("start at login not changed")]
    Autostart(#[source] tauri_plugin_autostart::Error),
}

impl CommandError {
    /// Returns the stable name of the variant, for the page.
    pub fn kind(&self) -> &'static str {
        match self {
            CommandError::Stopped => "stopped",
            CommandError::NotDemo => "not-demo",
            CommandError::Invalid { .. } => "invalid",
            CommandError::Managed { .. } => "managed",
            CommandError::TourRunning => "tour-running",
            CommandError::Config(_) => "config",
            CommandError::Autostart(_) => "autostart",
        }
    }

    /// Returns the message followed by every cause, joined by ": ".
    pub fn detail(&self) -> String {
        let mut detail = self.to_string();
        let mut source = std::error::Error::source(self);
        while let Some(cause) = source {
            detail.push_str(": ");
            detail.push_str(&cause.to_string());
            source = cause.source();
        }
        detail
    }
}

impl Serialize for CommandError {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut state = serializer.serialize_struct("CommandError", 2)?;
        state.serialize_field("kind", self.kind())?;
        state.serialize_field("message", &self.detail())?;
        state.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serializes_kind_and_causes() {
        let error = CommandError::Autostart(tauri_plugin_autostart::Error::Anyhow(
            "no autostart folder".into(),
        ));
        let json = serde_json::to_value(&error).unwrap();
        assert_eq!(json["kind"], "autostart");
        assert_eq!(
            json["message"],
            "start at login not changed: no autostart folder"
        );
    }

    #[test]
    fn invalid_names_the_field() {
        let error = CommandError::Invalid {
            field: "poll_interval_secs",
            problem: "0.5 is below the minimum of 1 s".into(),
        };
        let json = serde_json::to_value(&error).unwrap();
        assert_eq!(json["kind"], "invalid");
        assert_eq!(
            json["message"],
            "invalid poll_interval_secs: 0.5 is below the minimum of 1 s"
        );
    }
}
