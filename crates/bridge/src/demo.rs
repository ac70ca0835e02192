//! Demo mode: the Graph twin and the SwyxIt! simulator in-process, and the demo tour.

use std::time::Duration;

use clock::SharedClock;
use engine::SwyxSettable;
use graph_twin::{Endpoint, Fault, FaultKind, Twin};
use serde::{Deserialize, Serialize};
use swyx::simulator::{CallAction, SimulatorControl};

/// One row of the demo panel: a Teams status the user can pick.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DemoRow {
    /// English label as Teams shows it, e.g. "In a meeting".
    pub label: &'static str,
    pub availability: &'static str,
    pub activity: &'static str,
    pub out_of_office: bool,
}

const fn row(
    label: &'static str,
    availability: &'static str,
    activity: &'static str,
    out_of_office: bool,
) -> DemoRow {
    DemoRow {
        label,
        availability,
        activity,
        out_of_office,
    }
}

/// Every pair of the Teams → Swyx table, the idle and fallback forms included.
pub const DEMO_ROWS: &[DemoRow] = &[
    row("Available", "Available", "Available", false),
    row("Available, out of office", "Available", "OutOfOffice", true),
    row("Busy", "Busy", "Busy", false),
    row("In a call", "Busy", "InACall", false),
    row("In a conference call", "Busy", "InAConferenceCall", false),
    row("In a meeting", "Busy", "InAMeeting", false),
    row("In a call, out of office", "Busy", "InACall", true),
    row("Do not disturb", "DoNotDisturb", "DoNotDisturb", false),
    row("Presenting", "DoNotDisturb", "Presenting", false),
    row("Focusing", "DoNotDisturb", "Focusing", false),
    row(
        "Urgent interruptions only",
        "DoNotDisturb",
        "UrgentInterruptionsOnly",
        false,
    ),
    row("Away", "Away", "Away", false),
    row("Away, last seen (inactive)", "Away", "Inactive", false),
    row(
        "Available, inactive",
        "Available",
        "AvailableInactive",
        false,
    ),
    row("Be right back", "BeRightBack", "BeRightBack", false),
    row("Be right back (as Away)", "Away", "BeRightBack", false),
    row("Appear offline", "Offline", "OffWork", false),
    row("Available, idle", "AvailableIdle", "Available", false),
    row("Busy, idle", "BusyIdle", "Busy", false),
    row("Busy, in a huddle (fallback)", "Busy", "InAHuddle", false),
    row("Offline", "Offline", "Offline", false),
    row(
        "Status unknown",
        "PresenceUnknown",
        "PresenceUnknown",
        false,
    ),
    row("Out of office (offline)", "Offline", "OutOfOffice", true),
];

/// A fault the demo panel can inject.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DemoFault {
    /// Graph answers 503 to the next 5 requests.
    GraphOutage,
    /// Graph answers 429 with `Retry-After: 5` to the next 3 presence polls.
    GraphThrottle,
    /// SwyxIt! quits; `SwyxRestart` brings it back.
    SwyxQuit,
    SwyxRestart,
}

/// Drives the simulated Teams and SwyxIt!; cheap to clone.
#[derive(Clone)]
pub struct Demo {
    twin: Twin,
    swyx: SimulatorControl,
    clock: SharedClock,
}

impl Demo {
    pub(crate) fn new(twin: Twin, swyx: SimulatorControl, clock: SharedClock) -> Self {
        Self { twin, swyx, clock }
    }

    /// Every row of the Teams → Swyx table, for the demo panel.
    pub fn rows() -> &'static [DemoRow] {
        DEMO_ROWS
    }

    /// The Graph twin behind the demo.
    pub fn twin(&self) -> &Twin {
        &self.twin
    }

    /// The simulated SwyxIt!'s script handle.
    pub fn swyx(&self) -> &SimulatorControl {
        &self.swyx
    }

    /// Sets the simulated Teams client's status.
    pub fn set_teams(&self, availability: &str, activity: &str, out_of_office: bool) {
        self.twin.set_out_of_office(out_of_office);
        self.twin.set_teams(availability, activity);
    }

    /// Starts (true) or ends (false) a simulated Swyx call on line 1.
    pub fn swyx_call(&self, active: bool) {
        self.swyx.call(
            1,
            if active {
                CallAction::Start
            } else {
                CallAction::End
            },
        );
    }

    /// Sets the simulated SwyxIt! status by hand, as the user would.
    pub fn set_swyx(&self, status: SwyxSettable) {
        self.swyx.set_status(status);
    }

    /// Injects a fault.
    pub fn fault(&self, fault: DemoFault) {
        match fault {
            DemoFault::GraphOutage => self.twin.inject(Fault::new(
                Endpoint::Any,
                FaultKind::Status {
                    status: 503,
                    retry_after_seconds: None,
                },
                5,
            )),
            DemoFault::GraphThrottle => self.twin.inject(Fault::new(
                Endpoint::Presence,
                FaultKind::Status {
                    status: 429,
                    retry_after_seconds: Some(5),
                },
                3,
            )),
            DemoFault::SwyxQuit => self.swyx.quit(),
            DemoFault::SwyxRestart => self.swyx.restart(),
        }
    }

    /// Runs the demo tour: a short Swyx call, then every table row, one step every few seconds.
    pub async fn run_tour(self, step: Duration) {
        tracing::info!(rows = DEMO_ROWS.len(), "demo tour started");
        self.clock.sleep(step).await;
        self.swyx_call(true);
        self.clock.sleep(step * 2).await;
        self.swyx_call(false);
        self.clock.sleep(step).await;
        for row in DEMO_ROWS {
            tracing::info!(row = row.label, "demo tour: Teams status changes");
            self.set_teams(row.availability, row.activity, row.out_of_office);
            self.clock.sleep(step).await;
        }
        self.set_teams("Available", "Available", false);
        tracing::info!("demo tour finished");
    }
}
