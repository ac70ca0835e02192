//! Demo mode: the Graph twin and the SwyxIt! simulator in-process, and the demo tour.

use std::time::Duration;

use clock::SharedClock;
use engine::SwyxSettable;
use graph_twin::{Endpoint, Fault, FaultKind, Twin};
use serde::{Deserialize, Serialize};
use swyx::automation::AutomationError;
use swyx::simulator::{CallAction, SimulatorControl, SimulatorIdentity};

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
    // Busy/InAHuddle has no row in the mapping, so it shows the fallback for Busy.
    row("Busy, in a huddle", "Busy", "InAHuddle", false),
    row("Offline", "Offline", "Offline", false),
    row(
        "Status unknown",
        "PresenceUnknown",
        "PresenceUnknown",
        false,
    ),
    row("Out of office (offline)", "Offline", "OutOfOffice", true),
];

/// A fault the demo panel can inject; each one leads the window into a health state or
/// warning that real use can show.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DemoFault {
    /// Graph responds with 503 to the next 3 requests.
    GraphOutage,
    /// Graph answers 429 with `Retry-After: 5` to the next 3 presence polls.
    GraphThrottle,
    /// Graph responds to the next 3 presence polls with a body that is not JSON.
    GraphMalformed,
    /// Graph refuses the next 3 presence polls with 403, as without the permission to read.
    GraphReadForbidden,
    /// Graph responds with 503 to the next 2 `setPresence` calls.
    GraphWriteOutage,
    /// Graph refuses the next `setPresence` with 403, as without `Presence.ReadWrite`.
    GraphWriteForbidden,
    /// Graph rejects the next `setPresence` with 400, as for a wrong session id.
    GraphWriteRejected,
    /// Entra revokes the refresh tokens and expires the access tokens: the sign-in ends.
    SignInExpired,
    /// SwyxIt! quits; `SwyxRestart` brings it back.
    SwyxQuit,
    /// SwyxIt! starts again, logged on, as the same user as Teams and without injected faults.
    SwyxRestart,
    /// The user logs off in SwyxIt!; `SwyxLogOn` logs on again.
    SwyxLogOff,
    SwyxLogOn,
    /// SwyxIt! loses its SwyxWare server; `SwyxServerUp` brings it back.
    SwyxServerDown,
    SwyxServerUp,
    /// SwyxIt! restarts and refuses access, as when it runs under another Windows user.
    SwyxAccessDenied,
    /// The next 3 status writes to SwyxIt! fail.
    SwyxWriteFailure,
    /// SwyxIt! restarts logged on as another person than the Teams account.
    SwyxOtherUser,
}

/// Drives the simulated Teams and SwyxIt!; cheap to clone.
#[derive(Clone)]
pub struct Demo {
    twin: Twin,
    swyx: SimulatorControl,
    clock: SharedClock,
    /// The SwyxIt! user at start, who is the same person as the Teams account.
    identity: SimulatorIdentity,
}

impl Demo {
    pub(crate) fn new(
        twin: Twin,
        swyx: SimulatorControl,
        clock: SharedClock,
        identity: SimulatorIdentity,
    ) -> Self {
        Self {
            twin,
            swyx,
            clock,
            identity,
        }
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
        let status = |endpoint, status, retry_after_seconds, count| {
            self.twin.inject(Fault::new(
                endpoint,
                FaultKind::Status {
                    status,
                    retry_after_seconds,
                },
                count,
            ))
        };
        match fault {
            DemoFault::GraphOutage => status(Endpoint::Any, 503, None, 3),
            DemoFault::GraphThrottle => status(Endpoint::Presence, 429, Some(5), 3),
            DemoFault::GraphMalformed => {
                self.twin
                    .inject(Fault::new(Endpoint::Presence, FaultKind::Malformed, 3))
            }
            DemoFault::GraphReadForbidden => status(Endpoint::Presence, 403, None, 3),
            DemoFault::GraphWriteOutage => status(Endpoint::SetPresence, 503, None, 2),
            DemoFault::GraphWriteForbidden => status(Endpoint::SetPresence, 403, None, 1),
            DemoFault::GraphWriteRejected => status(Endpoint::SetPresence, 400, None, 1),
            DemoFault::SignInExpired => {
                self.twin.revoke_refresh_tokens();
                self.twin.expire_access_tokens();
            }
            DemoFault::SwyxQuit => self.swyx.quit(),
            DemoFault::SwyxRestart => {
                self.swyx.set_connect_error(None);
                self.swyx.fail_writes(0);
                self.swyx.set_identity(self.identity.clone());
                self.swyx.restart();
            }
            DemoFault::SwyxLogOff => self.swyx.logoff(),
            DemoFault::SwyxLogOn => self.swyx.logon(),
            DemoFault::SwyxServerDown => self.swyx.server_down(),
            DemoFault::SwyxServerUp => self.swyx.server_up(),
            DemoFault::SwyxAccessDenied => {
                self.swyx
                    .set_connect_error(Some(AutomationError::AccessDenied));
                self.swyx.restart();
            }
            DemoFault::SwyxWriteFailure => self.swyx.fail_writes(3),
            DemoFault::SwyxOtherUser => {
                self.swyx.set_identity(SimulatorIdentity {
                    email: "sam.other@fabrikam.example".into(),
                    user: "Sam Other".into(),
                    server: self.identity.server.clone(),
                });
                self.swyx.restart();
            }
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
