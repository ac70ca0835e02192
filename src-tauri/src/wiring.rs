//! Builds the app core for a start mode: the real adapters against a configured tenant and the
//! running SwyxIt!, or, in demo mode, the same adapters against the in-process Graph twin and
//! SwyxIt! simulator.

use bridge::config::{Paths, Policy, StartMode};
use bridge::Core;
use engine::SwyxSettable;

/// Command-line choices that shape the core.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// `--demo`: demo mode even when a configuration file exists.
    pub demo: bool,
    /// `--demo-tour`: demo mode, plus the tour through every table row.
    pub demo_tour: bool,
    /// `--headless`: no tray and no window.
    pub headless: bool,
}

/// A started core and what the window needs to know about how it was started.
pub struct Started {
    pub core: Core,
    /// Present in demo mode: drives the simulated Teams and SwyxIt!.
    pub demo: Option<DemoControl>,
    pub mode: StartMode,
    pub paths: Paths,
    pub policy: Policy,
}

/// One row of the demo panel: a Teams status the user can pick.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct DemoRow {
    /// English label as Teams shows it, e.g. "In a meeting".
    pub label: &'static str,
    pub availability: &'static str,
    pub activity: &'static str,
    pub out_of_office: bool,
}

/// A fault the demo panel can inject.
#[derive(Debug, Clone, Copy, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DemoFault {
    /// Graph answers 503 for the next 5 requests.
    GraphOutage,
    /// Graph answers 429 with Retry-After for the next 3 requests.
    GraphThrottle,
    /// SwyxIt! quits; it comes back with `SwyxRestart`.
    SwyxQuit,
    SwyxRestart,
}

/// Drives the simulated Teams and SwyxIt! in demo mode.
#[derive(Clone)]
pub struct DemoControl {
    _private: (),
}

impl DemoControl {
    /// Every row of the Teams → Swyx table, for the demo panel.
    pub fn rows() -> &'static [DemoRow] {
        &[]
    }

    /// Sets the simulated Teams client's status.
    pub fn set_teams(&self, availability: &str, activity: &str, out_of_office: bool) {
        let _ = (availability, activity, out_of_office);
    }

    /// Starts (true) or ends (false) a simulated Swyx call on line 1.
    pub fn swyx_call(&self, active: bool) {
        let _ = active;
    }

    /// Sets the simulated SwyxIt! status by hand, as the user would.
    pub fn set_swyx(&self, status: SwyxSettable) {
        let _ = status;
    }

    /// Injects a fault.
    pub fn fault(&self, fault: DemoFault) {
        let _ = fault;
    }

    /// Runs the demo tour: a short call, then every table row, one step every few seconds.
    pub async fn run_tour(self) {}
}

/// Starts the core for these options.
pub async fn start(options: &Options) -> anyhow::Result<Started> {
    let _ = options;
    anyhow::bail!("the app core is not wired yet")
}
