//! The driver: runs the engine, carries out its actions and publishes snapshots.
//!
//! One task owns the [`Engine`]. Everything that happens reaches it as a message on one
//! channel (a user command, a Swyx report, the result of a Graph or Swyx request, a timer), and
//! each message becomes one engine input. Requests run in their own tasks so that a write never
//! waits behind a pending poll; their results come back on the same channel.

use std::sync::Arc;
use std::time::Duration;

use clock::{Instant, SharedClock, WorkGuard};
use engine::{
    Action, Direction, Engine, GraphWrite, GraphWriteResult, Health, Input, Settings, SwyxSettable,
};
use tokio::sync::{mpsc, oneshot, watch};
use tracing::{debug, error, info, warn};

use crate::marker::SessionMarker;
use crate::ports::{Notifier, SwyxEventSource, SwyxPort, SwyxReport, TeamsPort};
use crate::snapshot::{unix_millis, HistoryEntry, NotificationCounts, Snapshot, SwyxIdentity};

/// How long quit, log-off and suspend wait for the `clearPresence` of the own session.
pub const SHUTDOWN_CLEAR_TIMEOUT: Duration = Duration::from_secs(3);

/// The maximum random delay before the first poll after start or resume, in milliseconds.
const FIRST_POLL_DELAY_MAX_MS: u64 = 10_000;

/// A wall-clock jump larger than the monotonic time by this much counts as a machine sleep.
const CLOCK_JUMP_THRESHOLD: Duration = Duration::from_secs(5);

/// A request from the window, the tray, the OS or a test.
#[derive(Debug)]
pub enum Command {
    SignIn,
    /// "Sign in with a code": the code appears in the snapshot until the sign-in ends.
    SignInWithCode,
    /// Cancels a "Sign in with a code" that waits for the user.
    CancelSignIn,
    SignOut,
    SetSync(bool),
    SetDirection {
        direction: Direction,
        enabled: bool,
    },
    PauseFor(Duration),
    ResumeSync,
    ResolveConflict,
    ChangeSettings(Settings),
    /// The OS announced a suspend: clear the own session, then stop timers until `Resumed`.
    Suspend(oneshot::Sender<()>),
    Resumed,
    /// Quit, OS log-off or shutdown: clear the own session, then stop.
    Quit(oneshot::Sender<()>),
}

/// Everything the core runs with.
pub struct CoreParts {
    pub clock: SharedClock,
    pub teams: Arc<dyn TeamsPort>,
    pub swyx: Arc<dyn SwyxPort>,
    pub swyx_events: SwyxEventSource,
    pub notifier: Arc<dyn Notifier>,
    pub marker: SessionMarker,
    pub settings: Settings,
    /// Sign in interactively at start when no earlier sign-in can be restored (demo mode).
    pub sign_in_at_start: bool,
    /// Poll jitter (±10 %) and a random 0–10 s delay before the first poll after start or
    /// resume, so that many installations do not poll in step. Off in scenario tests.
    pub randomize_polls: bool,
}

/// A running app core.
pub struct Core {
    messages: mpsc::UnboundedSender<(Message, WorkGuard)>,
    snapshots: watch::Receiver<Snapshot>,
    clock: SharedClock,
    /// The task that waits for the driver and reports how it ended.
    task: tokio::task::JoinHandle<()>,
    driver: tokio::task::AbortHandle,
}

enum Message {
    Command(Command),
    Input(Input),
    SignInDone(Result<crate::Account, crate::SignInError>),
    /// A start without a stored sign-in, where the app waits for the user to sign in.
    NoStoredSignIn,
    DeviceCode(crate::ports::DeviceCode),
}

impl Core {
    /// Starts the driver task on the current tokio runtime.
    pub fn start(parts: CoreParts) -> Core {
        let (messages, inbox) = mpsc::unbounded_channel();
        let engine = Engine::new(parts.settings.clone());
        let initial = Snapshot {
            view: engine.view(),
            history: Vec::new(),
            account: None,
            sign_in_error: None,
            signing_in: false,
            device_code: None,
            swyx_identity: SwyxIdentity::default(),
            notifications: NotificationCounts::default(),
            stopped: false,
            taken_at_unix_ms: unix_millis(&*parts.clock, parts.clock.now()),
            taken_at: parts.clock.now(),
        };
        let (publisher, snapshots) = watch::channel(initial.clone());
        let clock = parts.clock.clone();
        let driver = Driver {
            engine,
            snapshot: initial,
            publisher,
            messages: messages.clone(),
            next_wake: None,
            suspended: false,
            last_clock_reading: (clock.now(), clock.wall_now()),
            graph_writes_in_flight: Vec::new(),
            randomize_polls: parts.randomize_polls,
            delay_next_poll: parts.randomize_polls,
            clock: parts.clock,
            teams: parts.teams,
            swyx: parts.swyx,
            notifier: parts.notifier,
            marker: parts.marker,
            sign_in_at_start: parts.sign_in_at_start,
            logged_teams_health: ("signed out", String::new()),
        };
        let publisher = driver.publisher.clone();
        let driver = tokio::spawn(driver.run(inbox, parts.swyx_events));
        let driver_abort = driver.abort_handle();
        let task = tokio::spawn(watch_driver(driver, publisher));
        Core {
            messages,
            snapshots,
            clock,
            task,
            driver: driver_abort,
        }
    }

    /// Sends a command; it is handled in order with everything else.
    pub fn send(&self, command: Command) {
        let guard = self.clock.busy();
        if self
            .messages
            .send((Message::Command(command), guard))
            .is_err()
        {
            debug!("command dropped: the core has stopped");
        }
    }

    /// Returns the latest snapshot.
    pub fn snapshot(&self) -> Snapshot {
        self.snapshots.borrow().clone()
    }

    /// Returns a receiver that gets every new snapshot.
    pub fn subscribe(&self) -> watch::Receiver<Snapshot> {
        self.snapshots.clone()
    }

    /// Clears the own session (with a short timeout) and stops the core.
    pub async fn quit(self) {
        let (done, finished) = oneshot::channel();
        self.send(Command::Quit(done));
        let _ = finished.await;
        let _ = self.task.await;
    }

    /// Announces a suspend and waits until the own session is cleared (or the timeout passed).
    pub async fn suspend(&self) {
        let (done, finished) = oneshot::channel();
        self.send(Command::Suspend(done));
        let _ = finished.await;
    }

    /// Stops the core at once with no clean-up, as a crash or a kill would.
    pub fn kill(self) {
        self.driver.abort();
    }

    /// Stops the driver at once, as a bug in it would, but keeps the core: its last snapshot
    /// turns `stopped`, and commands fail from then on. Demo mode uses this to show that state.
    pub fn fail(&self) {
        self.driver.abort();
    }
}

struct Driver {
    engine: Engine,
    snapshot: Snapshot,
    publisher: watch::Sender<Snapshot>,
    messages: mpsc::UnboundedSender<(Message, WorkGuard)>,
    next_wake: Option<Instant>,
    suspended: bool,
    /// Monotonic and wall time at the last loop turn, to notice a machine sleep.
    last_clock_reading: (Instant, std::time::SystemTime),
    graph_writes_in_flight: Vec<tokio::task::JoinHandle<()>>,
    randomize_polls: bool,
    /// Set at start and resume: the next poll waits a random 0–10 s.
    delay_next_poll: bool,
    clock: SharedClock,
    teams: Arc<dyn TeamsPort>,
    swyx: Arc<dyn SwyxPort>,
    notifier: Arc<dyn Notifier>,
    marker: SessionMarker,
    sign_in_at_start: bool,
    /// The Teams health last written to the log, as its kind and reason.
    logged_teams_health: (&'static str, String),
}

impl Driver {
    async fn run(
        mut self,
        mut inbox: mpsc::UnboundedReceiver<(Message, WorkGuard)>,
        mut swyx_events: SwyxEventSource,
    ) {
        let stale_session_marker = self.marker.exists();
        self.feed(Input::Started {
            stale_session_marker,
        });
        self.start_sign_in(true);

        let mut swyx_open = true;
        loop {
            self.notice_clock_jump();
            let wake = match (self.next_wake, self.suspended) {
                (Some(at), false) => self.clock.sleep_until(at),
                _ => Box::pin(std::future::pending()),
            };
            tokio::select! {
                biased;
                message = inbox.recv() => {
                    let Some((message, _guard)) = message else { break };
                    if self.on_message(message, &mut inbox).await.is_break() {
                        break;
                    }
                }
                report = swyx_events.recv(), if swyx_open => {
                    match report {
                        Some((report, _guard)) => self.on_swyx(report),
                        None => swyx_open = false,
                    }
                }
                () = wake => {
                    let _guard = self.clock.busy();
                    self.next_wake = None;
                    self.feed(Input::Tick);
                }
            }
        }
        self.snapshot.stopped = true;
        self.publish();
    }

    async fn on_message(
        &mut self,
        message: Message,
        inbox: &mut mpsc::UnboundedReceiver<(Message, WorkGuard)>,
    ) -> std::ops::ControlFlow<()> {
        match message {
            Message::Input(input) => self.feed(input),
            Message::SignInDone(result) => self.on_sign_in_done(result),
            Message::NoStoredSignIn => {
                info!("no stored sign-in; waiting for the user to sign in");
                self.snapshot.signing_in = false;
                self.publish();
            }
            Message::DeviceCode(code) => {
                self.snapshot.device_code = Some(crate::snapshot::DeviceCodeView {
                    expires_at_unix_ms: unix_millis(&*self.clock, code.expires_at),
                    user_code: code.user_code,
                    verification_uri: code.verification_uri,
                    message: code.message,
                });
                self.publish();
            }
            Message::Command(command) => return self.on_command(command, inbox).await,
        }
        std::ops::ControlFlow::Continue(())
    }

    async fn on_command(
        &mut self,
        command: Command,
        inbox: &mut mpsc::UnboundedReceiver<(Message, WorkGuard)>,
    ) -> std::ops::ControlFlow<()> {
        match command {
            Command::SignIn => self.start_sign_in(false),
            Command::SignInWithCode => self.start_sign_in_with_code(),
            Command::CancelSignIn => self.teams.cancel_sign_in(),
            Command::SignOut => {
                self.feed(Input::SignedOut);
                self.finish_graph_writes(inbox).await;
                self.teams.sign_out().await;
                self.snapshot.account = None;
                self.publish();
            }
            Command::SetSync(enabled) => {
                info!(enabled, "sync switched");
                self.feed(Input::SetSync(enabled))
            }
            Command::SetDirection { direction, enabled } => {
                info!(?direction, enabled, "sync direction switched");
                self.feed(Input::SetDirection { direction, enabled })
            }
            Command::PauseFor(duration) => {
                let until = self.clock.now() + duration;
                self.feed(Input::PauseUntil(until));
            }
            Command::ResumeSync => {
                info!("sync resumed");
                self.feed(Input::ResumeSync)
            }
            Command::ResolveConflict => self.feed(Input::ResolveConflict),
            Command::ChangeSettings(settings) => self.feed(Input::ChangeSettings(settings)),
            Command::Suspend(done) => {
                self.feed(Input::Suspending);
                self.finish_graph_writes(inbox).await;
                self.suspended = true;
                let _ = done.send(());
            }
            Command::Resumed => {
                self.suspended = false;
                self.delay_next_poll = self.randomize_polls;
                self.last_clock_reading = (self.clock.now(), self.clock.wall_now());
                self.feed(Input::Resumed);
            }
            Command::Quit(done) => {
                self.feed(Input::Quitting);
                self.finish_graph_writes(inbox).await;
                self.swyx.shutdown();
                let _ = done.send(());
                return std::ops::ControlFlow::Break(());
            }
        }
        std::ops::ControlFlow::Continue(())
    }

    fn on_swyx(&mut self, report: SwyxReport) {
        match report {
            SwyxReport::Input(input) => self.feed(input),
            SwyxReport::Identity {
                email,
                user,
                server,
            } => {
                self.snapshot.swyx_identity = SwyxIdentity {
                    email,
                    user,
                    server,
                };
                self.compare_identities();
                self.publish();
            }
        }
    }

    /// Waits for the Graph writes under way (the clear of the own session above all), at most
    /// [`SHUTDOWN_CLEAR_TIMEOUT`], and feeds their results to the engine so that the session
    /// marker follows.
    async fn finish_graph_writes(
        &mut self,
        inbox: &mut mpsc::UnboundedReceiver<(Message, WorkGuard)>,
    ) {
        let writes = std::mem::take(&mut self.graph_writes_in_flight);
        let all_done = join_all(writes);
        if clock::timeout(&*self.clock, SHUTDOWN_CLEAR_TIMEOUT, all_done)
            .await
            .is_err()
        {
            warn!(
                timeout_ms = SHUTDOWN_CLEAR_TIMEOUT.as_millis() as u64,
                "graph writes unfinished at shutdown"
            );
        }
        let mut deferred = Vec::new();
        while let Ok((message, guard)) = inbox.try_recv() {
            match message {
                Message::Input(input @ Input::GraphWriteDone { .. }) => self.feed(input),
                other => deferred.push((other, guard)),
            }
        }
        for message in deferred {
            let _ = self.messages.send(message);
        }
    }

    fn start_sign_in(&mut self, at_start: bool) {
        let teams = self.teams.clone();
        let messages = self.messages.clone();
        let clock = self.clock.clone();
        let interactive = !at_start || self.sign_in_at_start;
        self.snapshot.signing_in = true;
        self.publish();
        tokio::spawn(async move {
            let restored = if at_start {
                teams.restore().await
            } else {
                Ok(None)
            };
            let message = match restored {
                Ok(Some(account)) => Message::SignInDone(Ok(account)),
                Ok(None) if interactive => Message::SignInDone(teams.sign_in().await),
                Ok(None) => Message::NoStoredSignIn,
                Err(error) => Message::SignInDone(Err(error)),
            };
            let _ = messages.send((message, clock.busy()));
        });
    }

    fn start_sign_in_with_code(&mut self) {
        let teams = self.teams.clone();
        let messages = self.messages.clone();
        let clock = self.clock.clone();
        self.snapshot.signing_in = true;
        self.publish();
        tokio::spawn(async move {
            let shown = messages.clone();
            let show_clock = clock.clone();
            let show: crate::ports::ShowDeviceCode = Box::new(move |code| {
                let _ = shown.send((Message::DeviceCode(code), show_clock.busy()));
            });
            let result = teams.sign_in_with_code(show).await;
            let _ = messages.send((Message::SignInDone(result), clock.busy()));
        });
    }

    fn on_sign_in_done(&mut self, result: Result<crate::Account, crate::SignInError>) {
        self.snapshot.signing_in = false;
        self.snapshot.device_code = None;
        match result {
            Ok(account) => {
                info!("signed in");
                self.snapshot.account = Some(account);
                self.snapshot.sign_in_error = None;
                self.feed(Input::SignedIn);
                self.compare_identities();
            }
            Err(error) => {
                if error.cancelled {
                    info!("sign-in cancelled");
                } else {
                    warn!(code = ?error.code, error = %error.message, "sign-in failed");
                }
                self.snapshot.sign_in_error = Some(error);
                self.publish();
            }
        }
    }

    /// Tells the engine whether the SwyxIt! user's e-mail differs from the Teams account,
    /// once both are known.
    fn compare_identities(&mut self) {
        let account = self.snapshot.account.as_ref();
        let upn = account.map_or("", |account| account.upn.as_str());
        let email = self.snapshot.swyx_identity.email.as_deref().unwrap_or("");
        if !upn.is_empty() && !email.is_empty() {
            self.feed(Input::IdentityMismatch(!upn.eq_ignore_ascii_case(email)));
        }
    }

    /// Feeds one input to the engine and carries out the resulting actions, including the
    /// inputs those actions produce at once.
    fn feed(&mut self, input: Input) {
        let mut queue = std::collections::VecDeque::from([input]);
        while let Some(input) = queue.pop_front() {
            let now = self.clock.now();
            let actions = self.engine.handle(now, input);
            for action in actions {
                if let Some(follow_up) = self.execute(now, action) {
                    queue.push_back(follow_up);
                }
            }
        }
        for unknown in self.engine.take_unknown_values() {
            info!(value = ?unknown, "unknown Graph presence value; mapped by the fallback rules");
        }
        let view = self.engine.view();
        self.log_new_syncs(&view);
        self.publish_view(view);
    }

    fn execute(&mut self, now: Instant, action: Action) -> Option<Input> {
        match action {
            Action::WakeAt(at) => {
                self.next_wake = Some(self.next_wake.map_or(at, |current| current.min(at)));
                None
            }
            Action::PollTeams => {
                self.spawn_poll(now);
                Some(Input::TeamsPollSent)
            }
            Action::WriteGraph(write) => {
                self.spawn_graph_write(now, write);
                Some(Input::GraphWriteSent { write })
            }
            Action::WriteSwyx(target) => {
                self.spawn_swyx_write(now, target);
                None
            }
            Action::SessionMarker(held) => {
                if let Err(error) = self.marker.set(held) {
                    warn!(path = %self.marker.path().display(), %error, "session marker not updated");
                }
                None
            }
            Action::RefreshToken => {
                let teams = self.teams.clone();
                let guard = self.clock.busy();
                tokio::spawn(async move {
                    if let Err(failure) = teams.refresh().await {
                        debug!(?failure, "token refresh after resume failed");
                    }
                    drop(guard);
                });
                None
            }
            Action::Notify(kind) => {
                info!(?kind, "notification");
                self.snapshot.notifications.add(kind);
                self.notifier.notify(kind);
                None
            }
        }
    }

    fn spawn_poll(&mut self, sent_at: Instant) {
        let teams = self.teams.clone();
        let messages = self.messages.clone();
        let clock = self.clock.clone();
        let start_delay = if std::mem::take(&mut self.delay_next_poll) {
            Duration::from_millis(rand::random_range(0..=FIRST_POLL_DELAY_MAX_MS))
        } else {
            Duration::ZERO
        };
        if self.randomize_polls {
            let permille = rand::random_range(-100..=100);
            self.engine
                .handle(sent_at, Input::JitterSample { permille });
        }
        tokio::spawn(async move {
            if !start_delay.is_zero() {
                debug!(
                    delay_ms = start_delay.as_millis() as u64,
                    "first poll after start or resume delayed"
                );
                clock.sleep(start_delay).await;
            }
            // The client holds a busy guard while its request is in flight; this task takes one
            // only to carry the result, so a request a test double holds back on purpose lets
            // a manual clock move on to the timeout.
            let result = teams.poll().await;
            let guard = clock.busy();
            let input = match result {
                Ok(presence) => Input::TeamsPolled { sent_at, presence },
                Err(failure) => Input::TeamsPollFailed { sent_at, failure },
            };
            let _ = messages.send((Message::Input(input), guard));
        });
    }

    fn spawn_graph_write(&mut self, sent_at: Instant, write: GraphWrite) {
        let teams = self.teams.clone();
        let messages = self.messages.clone();
        let clock = self.clock.clone();
        let task = tokio::spawn(async move {
            let result: GraphWriteResult = teams.write(write).await;
            let guard = clock.busy();
            let input = Input::GraphWriteDone {
                write,
                sent_at,
                result,
            };
            let _ = messages.send((Message::Input(input), guard));
        });
        self.graph_writes_in_flight
            .retain(|task| !task.is_finished());
        self.graph_writes_in_flight.push(task);
    }

    fn spawn_swyx_write(&mut self, sent_at: Instant, target: SwyxSettable) {
        let swyx = self.swyx.clone();
        let messages = self.messages.clone();
        let clock = self.clock.clone();
        tokio::spawn(async move {
            let result = swyx.write(target).await;
            let guard = clock.busy();
            let input = Input::SwyxWriteDone {
                target,
                sent_at,
                result,
            };
            let _ = messages.send((Message::Input(input), guard));
        });
    }

    /// Reports a machine sleep the OS did not announce: the wall clock moved on further than
    /// the monotonic clock.
    fn notice_clock_jump(&mut self) {
        let (mono_before, wall_before) = self.last_clock_reading;
        let (mono_now, wall_now) = (self.clock.now(), self.clock.wall_now());
        self.last_clock_reading = (mono_now, wall_now);
        let mono_elapsed = mono_now - mono_before;
        let wall_elapsed = wall_now
            .duration_since(wall_before)
            .unwrap_or(Duration::ZERO);
        if !self.suspended && wall_elapsed > mono_elapsed + CLOCK_JUMP_THRESHOLD {
            info!(
                jump_s = (wall_elapsed - mono_elapsed).as_secs(),
                "clock jump: the machine slept"
            );
            self.feed(Input::Resumed);
        }
    }

    /// Logs the syncs in `view` that the last published snapshot did not have yet.
    fn log_new_syncs(&self, view: &engine::View) {
        // The engine keeps only the last 20, so the new ones follow the newest one published.
        let newest_published = self.snapshot.history.last().map(|entry| &entry.event);
        let first_new = newest_published
            .and_then(|newest| view.history.iter().rposition(|event| event == newest))
            .map_or(0, |position| position + 1);
        for event in &view.history[first_new..] {
            info!(
                direction = ?event.direction,
                from = %event.from,
                to = %event.to,
                latency_ms = event.latency.as_millis() as u64,
                "sync applied"
            );
        }
    }

    fn publish(&mut self) {
        let view = self.engine.view();
        self.publish_view(view);
    }

    fn publish_view(&mut self, view: engine::View) {
        self.log_teams_health(&view.health_teams);
        if view.health_teams == Health::SignedOut && !self.snapshot.signing_in {
            // An expired or revoked sign-in ends the account too, so that the window and the
            // tray offer "Sign in" instead of "Sign out".
            self.snapshot.account = None;
        }
        self.snapshot.history = view
            .history
            .iter()
            .map(|event| HistoryEntry {
                at_unix_ms: unix_millis(&*self.clock, event.at),
                event: event.clone(),
            })
            .collect();
        self.snapshot.view = view;
        let now = self.clock.now();
        self.snapshot.taken_at_unix_ms = unix_millis(&*self.clock, now);
        self.snapshot.taken_at = now;
        self.publisher.send_replace(self.snapshot.clone());
    }
}

impl Driver {
    /// Logs a change of the Teams side's health, where a new retry time alone is no change.
    /// The SwyxIt! side logs its own changes where it attaches.
    fn log_teams_health(&mut self, health: &Health) {
        let (kind, reason) = match health {
            Health::Ok => ("ok", ""),
            Health::SignedOut => ("signed out", ""),
            Health::Unavailable { reason, .. } => ("unavailable", reason.as_str()),
            Health::Degraded { reason, .. } => ("degraded", reason.as_str()),
        };
        if (kind, reason)
            == (
                self.logged_teams_health.0,
                self.logged_teams_health.1.as_str(),
            )
        {
            return;
        }
        match health {
            Health::Ok => info!("Teams side healthy"),
            Health::SignedOut => info!("Teams side signed out"),
            _ => warn!(health = kind, reason, "Teams side unhealthy"),
        }
        self.logged_teams_health = (kind, reason.to_owned());
    }
}

/// Waits for the driver task. When it ends by a panic or an abort instead of a quit, marks the
/// last snapshot `stopped`, so that the window and the tray say sync has stopped instead of
/// showing a status that no longer changes.
async fn watch_driver(driver: tokio::task::JoinHandle<()>, publisher: watch::Sender<Snapshot>) {
    let Err(failure) = driver.await else {
        return;
    };
    if failure.is_panic() {
        error!("the app core failed; sync has stopped until Presence Bridge restarts");
    } else {
        warn!("the app core was stopped abruptly; sync has stopped");
    }
    publisher.send_modify(|snapshot| snapshot.stopped = true);
}

/// Awaits every task; a panicked task counts as finished.
async fn join_all(tasks: Vec<tokio::task::JoinHandle<()>>) {
    for task in tasks {
        let _ = task.await;
    }
}
