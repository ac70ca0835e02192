//! Builds the app core for a start mode: the real adapters against a configured tenant and the
//! running SwyxIt!, or, in demo mode, the same adapters against the in-process Graph twin and
//! SwyxIt! simulator. All of it lives in the `bridge` crate; this module only picks the mode
//! from the command line and the configuration file.

use std::sync::Arc;

use bridge::config::{self, Paths, Policy, StartMode};
use bridge::launch::{launch, DEMO_TOUR_STEP};
use bridge::Core;
use engine::SwyxSettable;

pub use bridge::demo::{DemoFault, DemoRow};

/// Command-line choices that shape the core.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// `--demo`: demo mode even when a configuration file exists.
    pub demo: bool,
    /// `--demo-tour`: demo mode, plus the tour through every table row.
    pub demo_tour: bool,
    /// `--demo-call`: demo mode with a simulated Swyx call on from the start.
    pub demo_call: bool,
    /// `--headless`: no tray and no window.
    pub headless: bool,
    /// `--hidden`: the window stays hidden at start while a tray host shows the icon.
    pub hidden: bool,
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

/// Drives the simulated Teams and SwyxIt! in demo mode.
#[derive(Clone)]
pub struct DemoControl {
    demo: bridge::demo::Demo,
}

impl DemoControl {
    /// Every row of the Teams → Swyx table, for the demo panel.
    pub fn rows() -> &'static [DemoRow] {
        bridge::demo::Demo::rows()
    }

    /// Sets the simulated Teams client's status.
    pub fn set_teams(&self, availability: &str, activity: &str, out_of_office: bool) {
        self.demo.set_teams(availability, activity, out_of_office);
    }

    /// Starts (true) or ends (false) a simulated Swyx call on line 1.
    pub fn swyx_call(&self, active: bool) {
        self.demo.swyx_call(active);
    }

    /// Sets the simulated SwyxIt! status by hand, as the user would.
    pub fn set_swyx(&self, status: SwyxSettable) {
        self.demo.set_swyx(status);
    }

    /// Injects a fault.
    pub fn fault(&self, fault: DemoFault) {
        self.demo.fault(fault);
    }

    /// Runs the demo tour: a short call, then every table row, one step every few seconds.
    pub async fn run_tour(self) {
        self.demo.run_tour(DEMO_TOUR_STEP).await;
    }
}

/// Starts the core for these options on the current tokio runtime.
pub async fn start(options: &Options) -> anyhow::Result<Started> {
    let paths = Paths::for_user();
    let policy = config::load_policy(&paths.policy_file);
    let mode = config::start_mode(&paths.config_file, options.demo || options.demo_tour);
    let clock: clock::SharedClock = Arc::new(clock::SystemClock::new());
    let notifier = Arc::new(crate::notifier::DesktopNotifier::new());
    let launched = launch(&mode, &paths, &policy, clock, notifier, options.headless).await?;
    Ok(Started {
        core: launched.core,
        demo: launched.demo.map(|demo| DemoControl { demo }),
        mode,
        paths,
        policy,
    })
}
