//! The Swyx adapter: one task that attaches to the user's running SwyxIt!, watches the user's
//! own status and call state, writes the statuses the engine asks for, and reports to the
//! app's driver.
//!
//! It only attaches: it never logs the client on or off and never registers users, because the
//! line manager is the one the user's SwyxIt! runs on. While the client is not running, logged
//! off or without its server, it says so and checks again every 3 s. It reads the state on
//! attach, on every relevant notification and every second, because notifications can be
//! lost; the driver hears of a change only when the status or Speaking changed.

mod link;

use std::sync::Arc;
use std::time::Duration;

use clock::{Instant, SharedClock, WorkGuard};
use engine::{SwyxObservation, SwyxSettable, SwyxUnavailable};
use tokio::sync::{mpsc, oneshot};
use tracing::{debug, info, warn};

use self::link::{Link, Reading, Usability};
use crate::automation::{AutomationError, Connector, Notification};
use crate::messages;

/// The way the adapter writes Away.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AwayWrite {
    /// Sets the manual `Away` flag, as the user would in SwyxIt!'s menu. It shows at once on
    /// every device, and SwyxIt! asks at its next logon whether to go back to Available.
    #[default]
    Manual,
    /// Reports a detected (idle) away state with `PublicateDetectedAwayState`. The server shows
    /// it only once every client of the user is idle, and SwyxIt!'s own idle detection may take
    /// it back when the user is active. Falls back to [`AwayWrite::Manual`] when the member is
    /// missing.
    Detected,
}

/// The adapter's timing and write behaviour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AdapterOptions {
    /// How Away is written.
    pub away_write: AwayWrite,
    /// How often the state is read besides notifications.
    pub poll_interval: Duration,
    /// How often attaching is retried while the client is unusable.
    pub retry_interval: Duration,
    /// How long one automation call may take before the link counts as broken.
    pub call_timeout: Duration,
    /// How long after a write a matching change still counts as its echo.
    pub echo_window: Duration,
}

impl Default for AdapterOptions {
    fn default() -> Self {
        Self {
            away_write: AwayWrite::Manual,
            poll_interval: Duration::from_secs(1),
            retry_interval: Duration::from_secs(3),
            call_timeout: Duration::from_secs(5),
            echo_window: Duration::from_secs(10),
        }
    }
}

/// The sources from which the adapter learns that the user is Speaking.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SpeakingSources {
    /// The client's own lines (`DispGetLine(i).DispState`): calls in this SwyxIt!.
    pub local_lines: bool,
    /// The server's view of the user (`GetOwnUserPresenceInfo`): calls on any device,
    /// including a desk phone.
    pub server_presence: bool,
}

/// The attached SwyxIt! user.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SwyxIdentity {
    /// The user's e-mail address, compared with the Teams UPN; `None` when the client version
    /// does not offer it.
    pub email: Option<String>,
    /// The SwyxWare user name.
    pub user: Option<String>,
    /// The SwyxServer the client is logged on to.
    pub server: Option<String>,
    /// The sources of Speaking this client offers.
    pub speaking_sources: SpeakingSources,
}

/// A report from the adapter to the driver.
#[derive(Debug, Clone, PartialEq)]
pub enum SwyxEvent {
    /// The client became usable; `first_of_run` is true only for the first time in this run.
    Attached {
        /// Whether this is the first attach since the adapter started.
        first_of_run: bool,
        /// The state read at attach.
        observation: SwyxObservation,
        /// The user and the sources found.
        identity: SwyxIdentity,
    },
    /// The status or Speaking changed.
    Observed(SwyxObservation),
    /// The client is not usable; the adapter keeps retrying.
    Unavailable(SwyxUnavailable),
}

/// The reason a write failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SwyxError {
    /// The client is not attached and usable now; the write was not attempted.
    #[error("swyxit! is not attached")]
    NotAttached,
    /// The client rejected the write or the link broke during it.
    #[error("writing the swyx status failed")]
    Automation(#[source] AutomationError),
    /// The adapter has shut down.
    #[error("the swyx adapter has stopped")]
    Stopped,
}

/// Starts the adapter task.
pub struct SwyxAdapter;

/// Controls a running adapter; cheap to clone.
#[derive(Clone, Debug)]
pub struct SwyxHandle {
    commands: mpsc::UnboundedSender<(Command, WorkGuard)>,
    clock: SharedClock,
}

enum Command {
    Write {
        status: SwyxSettable,
        reply: oneshot::Sender<Result<(), SwyxError>>,
    },
    Shutdown,
}

impl SwyxAdapter {
    /// Starts the adapter on the current tokio runtime with the default options.
    pub fn spawn(
        connector: Arc<dyn Connector>,
        clock: SharedClock,
    ) -> (SwyxHandle, mpsc::UnboundedReceiver<(SwyxEvent, WorkGuard)>) {
        Self::spawn_with_options(connector, clock, AdapterOptions::default())
    }

    /// Starts the adapter on the current tokio runtime.
    pub fn spawn_with_options(
        connector: Arc<dyn Connector>,
        clock: SharedClock,
        options: AdapterOptions,
    ) -> (SwyxHandle, mpsc::UnboundedReceiver<(SwyxEvent, WorkGuard)>) {
        let (command_sender, commands) = mpsc::unbounded_channel();
        let (event_sender, events) = mpsc::unbounded_channel();
        let task = Task {
            connector,
            clock: clock.clone(),
            options,
            commands,
            events: event_sender,
            attached_before: false,
            last_report: None,
            last_reading: None,
            pending_echo: None,
        };
        tokio::spawn(task.run());
        (
            SwyxHandle {
                commands: command_sender,
                clock,
            },
            events,
        )
    }
}

impl SwyxHandle {
    /// Writes a settable status and returns once SwyxIt! accepted it. The resulting change is
    /// reported as an [`SwyxEvent::Observed`] with `caused_by_us` set.
    pub async fn write(&self, status: SwyxSettable) -> Result<(), SwyxError> {
        let (reply, answer) = oneshot::channel();
        let command = Command::Write { status, reply };
        self.commands
            .send((command, self.clock.busy()))
            .map_err(|_| SwyxError::Stopped)?;
        answer.await.unwrap_or(Err(SwyxError::Stopped))
    }

    /// Stops the adapter and releases SwyxIt!.
    pub fn shutdown(&self) {
        let _ = self.commands.send((Command::Shutdown, WorkGuard::none()));
    }
}

/// What was last reported, to report changes only.
#[derive(Debug, Clone, PartialEq)]
enum Report {
    Attached,
    Unavailable(SwyxUnavailable),
}

/// What ended an attachment.
enum Exit {
    Detached,
    Shutdown,
}

/// What a batch of notifications asks for.
#[derive(Debug, Default)]
struct Wanted {
    read: bool,
    check: bool,
    shut_down: bool,
    closed: bool,
}

struct Task {
    connector: Arc<dyn Connector>,
    clock: SharedClock,
    options: AdapterOptions,
    commands: mpsc::UnboundedReceiver<(Command, WorkGuard)>,
    events: mpsc::UnboundedSender<(SwyxEvent, WorkGuard)>,
    attached_before: bool,
    last_report: Option<Report>,
    last_reading: Option<Reading>,
    /// The last written status and until when a change to it counts as our echo.
    pending_echo: Option<(SwyxSettable, Instant)>,
}

impl Task {
    async fn run(mut self) {
        loop {
            let Some(link) = self.connect().await else {
                break;
            };
            match self.serve(link).await {
                Exit::Detached => {
                    if !self.wait_for_retry().await {
                        break;
                    }
                }
                Exit::Shutdown => break,
            }
        }
        info!("Swyx adapter stopped");
    }

    /// Attaches, retrying every retry interval; `None` on shutdown.
    async fn connect(&mut self) -> Option<Link> {
        loop {
            let busy = self.clock.busy();
            let attempt = clock::timeout(
                &*self.clock,
                self.options.call_timeout,
                self.connector.connect(),
            )
            .await
            .unwrap_or(Err(AutomationError::Timeout))
            .and_then(|connection| {
                Link::new(connection, self.clock.clone(), self.options.call_timeout)
            });
            match attempt {
                Ok(link) => return Some(link),
                Err(error) => {
                    debug!(%error, "attaching to SwyxIt! failed");
                    self.report_unavailable(unavailable_for(&error));
                }
            }
            drop(busy);
            if !self.wait_for_retry().await {
                return None;
            }
        }
    }

    /// Waits one retry interval while replying to commands; returns false on shutdown.
    async fn wait_for_retry(&mut self) -> bool {
        let deadline = self.clock.now() + self.options.retry_interval;
        loop {
            let sleep = self.clock.sleep_until(deadline);
            tokio::select! {
                () = sleep => return true,
                command = self.commands.recv() => match command {
                    None | Some((Command::Shutdown, _)) => return false,
                    Some((Command::Write { reply, .. }, _guard)) => {
                        let _ = reply.send(Err(SwyxError::NotAttached));
                    }
                },
            }
        }
    }

    /// Serves one connection until it breaks or the adapter shuts down.
    async fn serve(&mut self, mut link: Link) -> Exit {
        let mut usable = false;
        let mut next_timer = self.clock.now();
        loop {
            // Sleep until the next read or check, a notification or a command; the guards of
            // what woke us are held until it is handled.
            let (wake, _guards) = self.next_wake(&mut link, next_timer).await;
            let _busy = self.clock.busy();
            let was_usable = usable;

            let wanted = match wake {
                Wake::Timer => Wanted {
                    read: true,
                    check: true,
                    ..Wanted::default()
                },
                Wake::Notifications(wanted) => wanted,
                Wake::Command(Command::Shutdown) | Wake::CommandsClosed => return Exit::Shutdown,
                Wake::Command(Command::Write { status, reply }) => {
                    let result = if usable {
                        self.write(&mut link, status).await
                    } else {
                        Err(SwyxError::NotAttached)
                    };
                    let broken = matches!(
                        &result,
                        Err(SwyxError::Automation(error)) if error.is_link_broken()
                    );
                    let _ = reply.send(result);
                    if broken {
                        self.report_unavailable(SwyxUnavailable::Detached {
                            reason: "SwyxIt! stopped answering during a write".into(),
                        });
                        return Exit::Detached;
                    }
                    Wanted {
                        read: true,
                        ..Wanted::default()
                    }
                }
            };

            if wanted.shut_down {
                info!("SwyxIt! asked its users to release it; detaching");
                self.report_unavailable(SwyxUnavailable::Detached {
                    reason: "SwyxIt! is shutting down".into(),
                });
                return Exit::Detached;
            }
            if wanted.closed {
                link.notifications = None;
                warn!("SwyxIt! notifications stopped; reading every second only");
            }

            if let Err(error) = self.refresh(&mut link, &mut usable, &wanted).await {
                warn!(%error, "SwyxIt! link broke; detaching");
                self.report_unavailable(SwyxUnavailable::Detached {
                    reason: error.to_string(),
                });
                return Exit::Detached;
            }

            // Poll every second while usable, check every retry interval while not.
            let timer_fired = wanted.check && wanted.read;
            if timer_fired || usable != was_usable {
                let interval = if usable {
                    self.options.poll_interval
                } else {
                    self.options.retry_interval
                };
                next_timer = self.clock.now() + interval;
            }
        }
    }

    /// Checks usability and reads as the wake asks; errors only when the link is broken.
    async fn refresh(
        &mut self,
        link: &mut Link,
        usable: &mut bool,
        wanted: &Wanted,
    ) -> Result<(), AutomationError> {
        if wanted.check || !*usable {
            match link.usability().await {
                Ok(Usability::Usable) if !*usable => {
                    *usable = self.attach(link).await?;
                    return Ok(());
                }
                Ok(Usability::Usable) => {}
                Ok(Usability::NotUsable(reason)) => {
                    if *usable {
                        link.release_objects();
                        self.last_reading = None;
                    }
                    *usable = false;
                    self.report_unavailable(reason);
                    return Ok(());
                }
                Err(error) => return Err(error),
            }
        }
        if *usable && wanted.read {
            match link.read().await {
                Ok(reading) => self.observe(reading),
                Err(error) if error.is_link_broken() => return Err(error),
                Err(error) => {
                    warn!(%error, "reading SwyxIt! failed; attaching again");
                    *usable = false;
                    link.release_objects();
                    self.last_reading = None;
                    self.report_unavailable(SwyxUnavailable::Detached {
                        reason: error.to_string(),
                    });
                }
            }
        }
        Ok(())
    }

    /// Sets the link up and reports the attach; returns whether the client is usable.
    async fn attach(&mut self, link: &mut Link) -> Result<bool, AutomationError> {
        let set_up = match link.set_up().await {
            Ok(identity) => link.read().await.map(|reading| (identity, reading)),
            Err(error) => Err(error),
        };
        let (identity, reading) = match set_up {
            Ok(attached) => attached,
            Err(error) if error.is_link_broken() => return Err(error),
            Err(error) => {
                warn!(%error, "SwyxIt! lacks a member the adapter needs");
                link.release_objects();
                self.report_unavailable(SwyxUnavailable::Detached {
                    reason: error.to_string(),
                });
                return Ok(false);
            }
        };

        self.last_reading = Some(reading);
        self.pending_echo = None;
        let first_of_run = !self.attached_before;
        self.attached_before = true;
        self.last_report = Some(Report::Attached);
        let observation = SwyxObservation {
            status: reading.status,
            speaking: reading.speaking,
            caused_by_us: false,
        };
        info!(first_of_run, status = ?reading.status, speaking = reading.speaking, "SwyxIt! usable");
        self.send(SwyxEvent::Attached {
            first_of_run,
            observation,
            identity,
        });
        Ok(true)
    }

    /// Reports a reading when it differs from the last one, tagging the echo of our write.
    fn observe(&mut self, reading: Reading) {
        let now = self.clock.now();
        if matches!(self.pending_echo, Some((_, until)) if now > until) {
            self.pending_echo = None;
        }
        if self.last_reading == Some(reading) {
            // A write of the status already shown has no echo to wait for.
            if matches!(self.pending_echo, Some((status, _)) if status == reading.status) {
                self.pending_echo = None;
            }
            return;
        }
        let status_changed = self.last_reading.map(|last| last.status) != Some(reading.status);
        let caused_by_us = status_changed
            && matches!(self.pending_echo, Some((status, _)) if status == reading.status);
        if caused_by_us {
            self.pending_echo = None;
        }
        self.last_reading = Some(reading);
        debug!(status = ?reading.status, speaking = reading.speaking, caused_by_us, "SwyxIt! state changed");
        self.send(SwyxEvent::Observed(SwyxObservation {
            status: reading.status,
            speaking: reading.speaking,
            caused_by_us,
        }));
    }

    async fn write(&mut self, link: &mut Link, status: SwyxSettable) -> Result<(), SwyxError> {
        let until = self.clock.now() + self.options.echo_window;
        self.pending_echo = Some((status, until));
        match link.write(status, self.options.away_write).await {
            Ok(()) => Ok(()),
            Err(error) => {
                warn!(%error, ?status, "writing the SwyxIt! status failed");
                self.pending_echo = None;
                Err(SwyxError::Automation(error))
            }
        }
    }

    fn report_unavailable(&mut self, reason: SwyxUnavailable) {
        let report = Report::Unavailable(reason.clone());
        if self.last_report.as_ref() == Some(&report) {
            return;
        }
        info!(?reason, "SwyxIt! unavailable");
        self.last_report = Some(report);
        self.last_reading = None;
        self.send(SwyxEvent::Unavailable(reason));
    }

    fn send(&self, event: SwyxEvent) {
        let guard = self.clock.busy();
        if self.events.send((event, guard)).is_err() {
            debug!("the driver stopped listening to the Swyx adapter");
        }
    }

    /// Waits for the next thing to do, and returns the work guards that came with it.
    async fn next_wake(&mut self, link: &mut Link, deadline: Instant) -> (Wake, Vec<WorkGuard>) {
        let sleep = self.clock.sleep_until(deadline);
        let notifications = link.notifications.as_mut();
        tokio::select! {
            () = sleep => (Wake::Timer, Vec::new()),
            command = self.commands.recv() => match command {
                Some((command, guard)) => (Wake::Command(command), vec![guard]),
                None => (Wake::CommandsClosed, Vec::new()),
            },
            first = recv_notification(notifications) => {
                let mut wanted = Wanted::default();
                let mut guards = Vec::new();
                match first {
                    // A closed subscription may mean a dead server: check at once.
                    None => {
                        wanted.closed = true;
                        wanted.check = true;
                    }
                    Some((notification, guard)) => {
                        classify(notification, &mut wanted);
                        guards.push(guard);
                        // Coalesce a burst: everything already queued is handled by one read.
                        if let Some(receiver) = link.notifications.as_mut() {
                            while let Ok((notification, guard)) = receiver.try_recv() {
                                classify(notification, &mut wanted);
                                guards.push(guard);
                            }
                        }
                    }
                }
                (Wake::Notifications(wanted), guards)
            }
        }
    }
}

enum Wake {
    Timer,
    Notifications(Wanted),
    Command(Command),
    CommandsClosed,
}

async fn recv_notification(
    receiver: Option<&mut crate::automation::NotificationReceiver>,
) -> Option<(Notification, WorkGuard)> {
    match receiver {
        Some(receiver) => receiver.recv().await,
        None => std::future::pending().await,
    }
}

/// Decides what a notification asks for.
fn classify(notification: Notification, wanted: &mut Wanted) {
    match notification.message {
        messages::LINE_STATE_CHANGED
        | messages::LINE_STATE_CHANGED_EX
        | messages::LINE_STATE_CHANGED_EX2
        | messages::NUMBER_OF_LINES_CHANGED
        | messages::OWN_PRESENCE_CHANGED => wanted.read = true,
        messages::SERVER_DOWN
        | messages::SERVER_UP
        | messages::USER_DATA_CHANGED
        | messages::FEDERATED_LOGIN_SESSION_EXPIRED => {
            wanted.check = true;
            wanted.read = true;
        }
        // NOTE: reverse-engineered code numbers these messages differently (11 as a logon
        // result). If a real client sent 11 on logon, the adapter would re-attach 3 s later.
        messages::CLIENT_SHUT_DOWN_REQUEST | messages::CLOSE_SWYXIT => wanted.shut_down = true,
        _ => {}
    }
}

/// Maps an attach failure to the unavailability shown to the user.
fn unavailable_for(error: &AutomationError) -> SwyxUnavailable {
    match error {
        AutomationError::NotRunning | AutomationError::ServerGone => SwyxUnavailable::NotRunning,
        AutomationError::AccessDenied => SwyxUnavailable::Detached {
            reason: "access to SwyxIt! was denied; it may run under another user".into(),
        },
        other => SwyxUnavailable::Detached {
            reason: other.to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notifications_ask_for_reads_checks_or_release() {
        // (message, read, check, shut_down)
        fn check(message: i32, read: bool, check: bool, shut_down: bool) {
            let mut wanted = Wanted::default();
            classify(Notification { message, param: 0 }, &mut wanted);
            assert_eq!(wanted.read, read, "read on message {message}");
            assert_eq!(wanted.check, check, "check on message {message}");
            assert_eq!(wanted.shut_down, shut_down, "release on message {message}");
        }
        check(0, true, false, false);
        check(28, true, false, false);
        check(35, true, false, false);
        check(10, true, false, false);
        check(60, true, false, false);
        check(3, true, true, false);
        check(5, true, true, false);
        check(6, true, true, false);
        check(53, true, true, false);
        check(11, false, false, true);
        check(54, false, false, true);
        check(1, false, false, false);
        check(9, false, false, false);
        check(999, false, false, false);
    }

    #[test]
    fn attach_failures_map_to_unavailability() {
        fn check(error: AutomationError, expected: SwyxUnavailable) {
            assert_eq!(unavailable_for(&error), expected, "{error:?}");
        }
        check(AutomationError::NotRunning, SwyxUnavailable::NotRunning);
        check(AutomationError::ServerGone, SwyxUnavailable::NotRunning);
        check(
            AutomationError::Timeout,
            SwyxUnavailable::Detached {
                reason: "the automation call timed out".into(),
            },
        );
        let denied = unavailable_for(&AutomationError::AccessDenied);
        assert!(
            matches!(denied, SwyxUnavailable::Detached { reason } if reason.contains("denied"))
        );
    }
}
