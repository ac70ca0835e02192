//! The sync engine: every presence rule of Presence Bridge as a pure state machine.
//!
//! The engine does no I/O and never reads a clock. The app's driver feeds it [`Input`]s, each
//! with the [`Instant`] it happened at, and carries out the [`Action`]s it returns; the
//! [`View`] is what the window and the tray render.

pub mod api;

pub use api::*;
pub use clock::Instant;

/// The sync engine's state.
///
/// NOTE: the rules behind `handle` are being filled in; this skeleton maps nothing yet.
#[derive(Debug, Clone)]
pub struct Engine {
    settings: Settings,
}

impl Engine {
    /// An engine with these settings, before [`Input::Started`].
    pub fn new(settings: Settings) -> Self {
        Self { settings }
    }

    /// Applies one input that happened at `now` and returns what the driver must do.
    pub fn handle(&mut self, now: Instant, input: Input) -> Vec<Action> {
        let _ = (now, input, &self.settings);
        Vec::new()
    }

    /// The view model for the window and tray.
    pub fn view(&self) -> View {
        View {
            teams: None,
            teams_label: None,
            swyx: None,
            swyx_label: None,
            target: None,
            sync_enabled: true,
            teams_to_swyx: true,
            swyx_to_teams: true,
            paused_until: None,
            own_session: false,
            override_text: None,
            health_teams: Health::SignedOut,
            health_swyx: Health::Ok,
            warnings: Vec::new(),
            last_teams_to_swyx: None,
            last_swyx_to_teams: None,
            poll_interval: self.settings.poll_interval,
            throttle_count: 0,
            history: Vec::new(),
        }
    }
}
