//! An in-process SwyxIt! client: the Client Line Manager's object model behind the
//! [`automation`](crate::automation) traits, scriptable through a [`SimulatorControl`].
//!
//! The model follows what is known of `CLMgr.ClientLineMgr` (member names from the
//! SDK-based interop and reverse engineering, all late-bound): the root object with
//! `DispClientConfig`, `DispNumberOfLines`, `DispGetLine(i)`, `DispIsLoggedIn`,
//! `DispIsServerUp`, `DispGetCurrentUser` and `DispGetCurrentServer`; the configuration object
//! with `Away`, `DoNotDisturb`, `AwayText`, `GetOwnUserPresenceInfo` (five by-ref outputs),
//! `PublicateDetectedAwayState` and `GetOwnEmailAddress`; line objects with `DispState`.
//! Notifications arrive on the subscription channel after the call that caused them returns,
//! as COM events would, never inside a call.
//!
//! The control handle plays the user, the telephone system and the machine: it sets the status
//! by hand, places calls, logs off, quits, takes the server down, stops events and changes
//! which members exist. Writes through the automation traits (the app's) are recorded apart
//! from writes through the control handle (the user's or another engine's).

mod members;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use clock::{Instant, SharedClock};
use engine::SwyxSettable;
use tokio::sync::{mpsc, watch};

use crate::automation::{
    AutomationError, AutomationFuture, Call, Connection, Connector, Notification,
    NotificationReceiver, ObjectRef, Reply, Variant,
};
use crate::messages;

/// The CLMgr line-state numbers the simulator uses for a scripted call.
pub mod line_state {
    /// Idle.
    pub const INACTIVE: i32 = 0;
    /// Incoming call ringing.
    pub const RINGING: i32 = 3;
    /// Connected.
    pub const ACTIVE: i32 = 8;
    /// Connected, peer on hold.
    pub const ON_HOLD: i32 = 9;
    /// In a conference, connected.
    pub const CONFERENCE_ACTIVE: i32 = 10;
    /// In a conference, held.
    pub const CONFERENCE_ON_HOLD: i32 = 11;
    /// Held, waiting to be transferred.
    pub const TRANSFERRING: i32 = 13;
    /// Disconnected.
    pub const TERMINATED: i32 = 12;
}

/// The own presence state the simulated server reports through `GetOwnUserPresenceInfo`,
/// numbered like the SDK's speed-dial states.
pub mod presence_state {
    /// Known user, not logged on.
    pub const LOGGED_OUT: i32 = 1;
    /// Logged on and available.
    pub const ONLINE: i32 = 2;
    /// In a call on any device ("Speaking").
    pub const CALLING: i32 = 3;
    /// Away.
    pub const AWAY: i32 = 5;
    /// Do not disturb.
    pub const DO_NOT_DISTURB: i32 = 6;
}

/// A step of the scripted call on one line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallAction {
    /// The call rings (3) and is answered (8).
    Start,
    /// The peer is put on hold (9).
    Hold,
    /// The held call is taken back (8).
    Resume,
    /// The call joins a conference (10).
    Conference,
    /// The call is held for a transfer (13); it stays on the line until it ends.
    Transfer,
    /// The call is disconnected (12) and the line becomes idle (0).
    End,
}

/// The automation type of a flag property of the configuration object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlagType {
    /// `VT_I4` with 0 and 1.
    I4,
    /// `VT_BOOL`.
    Bool,
}

/// Where `GetOwnEmailAddress` lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmailMember {
    /// On the configuration object (`DispClientConfig`).
    Config,
    /// On the root object.
    Root,
    /// Not present in this client version.
    Missing,
}

/// The set of members and their types: the differences between client versions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Members {
    /// The type of `Away`.
    pub away_type: FlagType,
    /// The type of `DoNotDisturb`.
    pub dnd_type: FlagType,
    /// Whether the `Away` and `DoNotDisturb` properties exist.
    pub flag_properties: bool,
    /// Whether a put of a flag with the other type fails with a type mismatch instead of
    /// being coerced.
    pub strict_types: bool,
    /// Whether `GetOwnUserPresenceInfo` exists.
    pub own_presence_info: bool,
    /// Whether `PublicateDetectedAwayState` exists.
    pub detected_away: bool,
    /// Where `GetOwnEmailAddress` lives.
    pub email: EmailMember,
}

impl Default for Members {
    fn default() -> Self {
        Self {
            away_type: FlagType::I4,
            dnd_type: FlagType::I4,
            flag_properties: true,
            strict_types: false,
            own_presence_info: true,
            detected_away: true,
            email: EmailMember::Config,
        }
    }
}

/// The writer of a recorded write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteOrigin {
    /// Through the automation traits: the app.
    Automation,
    /// Through the control handle: the user or another engine.
    Control,
}

/// One recorded write.
#[derive(Debug, Clone, PartialEq)]
pub struct WriteRecord {
    /// When it happened on the shared clock.
    pub at: Instant,
    /// Who made it.
    pub origin: WriteOrigin,
    /// The member written (`Away`, `DoNotDisturb`, `AwayText`, `PublicateDetectedAwayState`),
    /// or `status` for a status set by hand.
    pub member: String,
    /// The value written.
    pub value: Variant,
    /// The settable status after the write.
    pub status_after: SwyxSettable,
}

/// What the simulated SwyxIt! shows of the user now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimulatorStatus {
    /// The settable status others see: Do not disturb, else Away (manual, or detected when no
    /// other client of the user is active), else Available.
    pub status: SwyxSettable,
    /// Whether the server reports the user as Speaking: a connected local line or a call on
    /// another device.
    pub speaking: bool,
    /// The manual Away flag (what SwyxIt! asks about at the next logon).
    pub manual_away: bool,
    /// The away state the client reported as detected (idle).
    pub detected_away: bool,
    /// Whether SwyxIt! shows its question "go back to Available?" after a logon with a manual
    /// Away.
    pub away_prompt_pending: bool,
    /// The status text, which the app must never change.
    pub away_text: String,
    /// Whether the client process runs.
    pub running: bool,
    /// Whether the client is logged on.
    pub logged_in: bool,
    /// Whether the server is reachable.
    pub server_up: bool,
}

/// The simulated client's identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimulatorIdentity {
    /// The user's e-mail address (`GetOwnEmailAddress`).
    pub email: String,
    /// The user name (`DispGetCurrentUser`).
    pub user: String,
    /// The server (`DispGetCurrentServer`).
    pub server: String,
}

impl Default for SimulatorIdentity {
    fn default() -> Self {
        Self {
            email: "alex.demo@contoso.example".into(),
            user: "Alex Demo".into(),
            server: "swyx.contoso.example".into(),
        }
    }
}

/// The simulated client as a [`Connector`]: the app's side.
#[derive(Clone, Debug)]
pub struct Simulator {
    shared: Arc<Shared>,
}

/// The script handle: the user's, the server's and the test's side.
#[derive(Clone, Debug)]
pub struct SimulatorControl {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    clock: SharedClock,
    state: Mutex<State>,
    /// True while calls hang, as when SwyxIt! shows a modal dialog.
    hung: watch::Sender<bool>,
}

/// The whole simulated client; every field changes under the one lock.
#[derive(Debug)]
pub(crate) struct State {
    pub(crate) running: bool,
    /// Bumped each time the client quits, so that older connections are dead.
    pub(crate) generation: u64,
    pub(crate) logged_in: bool,
    pub(crate) server_up: bool,
    pub(crate) events_on: bool,
    pub(crate) connect_error: Option<AutomationError>,
    /// How many more property writes on the client configuration fail with `E_FAIL`.
    pub(crate) failing_writes: u32,
    pub(crate) away: bool,
    pub(crate) dnd: bool,
    pub(crate) away_text: String,
    pub(crate) detected_away: bool,
    pub(crate) other_client_active: bool,
    pub(crate) away_prompt_pending: bool,
    pub(crate) lines: Vec<i32>,
    pub(crate) other_device_call: bool,
    pub(crate) identity: SimulatorIdentity,
    pub(crate) members: Members,
    pub(crate) connections: HashMap<u64, ConnectionState>,
    pub(crate) next_connection: u64,
    pub(crate) writes: Vec<WriteRecord>,
    pub(crate) calls: u64,
    pub(crate) connect_attempts: Vec<Instant>,
    pub(crate) session_calls: Vec<String>,
}

/// One connection's objects and subscription.
#[derive(Debug)]
pub(crate) struct ConnectionState {
    pub(crate) generation: u64,
    pub(crate) objects: HashMap<ObjectRef, SimObject>,
    pub(crate) next_object: u64,
    pub(crate) subscriber: Option<mpsc::UnboundedSender<(Notification, clock::WorkGuard)>>,
}

/// The kind of object behind a handle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SimObject {
    LineManager,
    ClientConfig,
    Line(usize),
}

const ROOT: ObjectRef = ObjectRef(1);

impl State {
    fn new() -> Self {
        Self {
            running: true,
            generation: 0,
            logged_in: true,
            server_up: true,
            events_on: true,
            connect_error: None,
            failing_writes: 0,
            away: false,
            dnd: false,
            away_text: String::new(),
            detected_away: false,
            other_client_active: false,
            away_prompt_pending: false,
            lines: vec![line_state::INACTIVE; 2],
            other_device_call: false,
            identity: SimulatorIdentity::default(),
            members: Members::default(),
            connections: HashMap::new(),
            next_connection: 1,
            writes: Vec::new(),
            calls: 0,
            connect_attempts: Vec::new(),
            session_calls: Vec::new(),
        }
    }

    /// The settable status others see.
    pub(crate) fn effective_status(&self) -> SwyxSettable {
        if self.dnd {
            SwyxSettable::DoNotDisturb
        } else if self.away || (self.detected_away && !self.other_client_active) {
            SwyxSettable::Away
        } else {
            SwyxSettable::Available
        }
    }

    /// Whether the server sees the user in a call on any device.
    pub(crate) fn speaking(&self) -> bool {
        let local_call = self.lines.iter().any(|state| {
            matches!(
                *state,
                line_state::ACTIVE
                    | line_state::ON_HOLD
                    | line_state::CONFERENCE_ACTIVE
                    | line_state::CONFERENCE_ON_HOLD
                    | line_state::TRANSFERRING
            )
        });
        self.logged_in && (local_call || self.other_device_call)
    }

    /// The own presence state the server reports.
    pub(crate) fn presence_state(&self) -> i32 {
        if !self.logged_in {
            return presence_state::LOGGED_OUT;
        }
        if self.speaking() {
            return presence_state::CALLING;
        }
        match self.effective_status() {
            SwyxSettable::DoNotDisturb => presence_state::DO_NOT_DISTURB,
            SwyxSettable::Away => presence_state::AWAY,
            SwyxSettable::Available => presence_state::ONLINE,
        }
    }

    /// What a change of presence compares: the status and the server's state.
    fn presence_key(&self) -> (SwyxSettable, i32) {
        (self.effective_status(), self.presence_state())
    }

    /// Queues a notification to every live subscriber, unless events are off.
    pub(crate) fn notify(&mut self, clock: &SharedClock, message: i32, param: i32) {
        if !self.events_on || !self.running {
            return;
        }
        let generation = self.generation;
        for connection in self.connections.values_mut() {
            if connection.generation != generation {
                continue;
            }
            if let Some(sender) = &connection.subscriber {
                let notification = Notification { message, param };
                if sender.send((notification, clock.busy())).is_err() {
                    connection.subscriber = None;
                }
            }
        }
    }

    /// Sends "own presence changed" when the status or the server's state moved since
    /// `before`.
    pub(crate) fn notify_presence_change(
        &mut self,
        clock: &SharedClock,
        before: (SwyxSettable, i32),
    ) {
        let after = self.presence_key();
        if after != before {
            self.notify(clock, messages::OWN_PRESENCE_CHANGED, after.1);
        }
    }

    /// Records a write.
    pub(crate) fn record_write(
        &mut self,
        at: Instant,
        origin: WriteOrigin,
        member: &str,
        value: Variant,
    ) {
        let status_after = self.effective_status();
        self.writes.push(WriteRecord {
            at,
            origin,
            member: member.to_owned(),
            value,
            status_after,
        });
    }

    /// Sets one line's state and sends the line-state messages.
    fn set_line(&mut self, clock: &SharedClock, line: usize, state: i32) {
        if line >= self.lines.len() {
            self.lines.resize(line + 1, line_state::INACTIVE);
            let count = self.lines.len() as i32;
            self.notify(clock, messages::NUMBER_OF_LINES_CHANGED, count);
        }
        let before = self.presence_key();
        self.lines[line] = state;
        let index = line as i32;
        self.notify(clock, messages::LINE_STATE_CHANGED, index);
        self.notify(
            clock,
            messages::LINE_STATE_CHANGED_EX,
            (state << 16) | (index & 0xFFFF),
        );
        self.notify_presence_change(clock, before);
    }

    /// Ends the client process: connections die and their subscriptions close.
    fn quit(&mut self, clock: &SharedClock) {
        if !self.running {
            return;
        }
        self.notify(clock, messages::CLIENT_SHUT_DOWN_REQUEST, 0);
        for connection in self.connections.values_mut() {
            connection.subscriber = None;
            connection.objects.clear();
        }
        self.running = false;
        self.generation += 1;
        self.lines
            .iter_mut()
            .for_each(|state| *state = line_state::INACTIVE);
        self.detected_away = false;
    }
}

impl Simulator {
    /// Creates a running, logged-on client with two idle lines, Available, on `clock`.
    pub fn new(clock: SharedClock) -> (Simulator, SimulatorControl) {
        let (hung, _) = watch::channel(false);
        let shared = Arc::new(Shared {
            clock,
            state: Mutex::new(State::new()),
            hung,
        });
        (
            Simulator {
                shared: shared.clone(),
            },
            SimulatorControl { shared },
        )
    }
}

impl Shared {
    fn state(&self) -> MutexGuard<'_, State> {
        // The state stays consistent between statements, so a panic elsewhere leaves it usable.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Connector for Simulator {
    fn connect(&self) -> AutomationFuture<'_, Result<Box<dyn Connection>, AutomationError>> {
        Box::pin(async move {
            let mut state = self.shared.state();
            let now = self.shared.clock.now();
            state.connect_attempts.push(now);
            if let Some(error) = state.connect_error.clone() {
                return Err(error);
            }
            if !state.running {
                return Err(AutomationError::NotRunning);
            }
            let id = state.next_connection;
            state.next_connection += 1;
            let generation = state.generation;
            let objects = HashMap::from([(ROOT, SimObject::LineManager)]);
            let connection = ConnectionState {
                generation,
                objects,
                next_object: ROOT.0 + 1,
                subscriber: None,
            };
            state.connections.insert(id, connection);
            let connection: Box<dyn Connection> = Box::new(SimConnection {
                shared: self.shared.clone(),
                id,
            });
            Ok(connection)
        })
    }
}

/// One attachment to the simulated client.
struct SimConnection {
    shared: Arc<Shared>,
    id: u64,
}

impl Connection for SimConnection {
    fn root(&self) -> ObjectRef {
        ROOT
    }

    fn call(&self, call: Call) -> AutomationFuture<'_, Result<Reply, AutomationError>> {
        Box::pin(async move {
            self.wait_while_hung().await;
            let mut state = self.shared.state();
            state.calls += 1;
            let now = self.shared.clock.now();
            members::dispatch(&mut state, &self.shared.clock, now, self.id, &call)
        })
    }

    fn release(&self, object: ObjectRef) {
        let mut state = self.shared.state();
        if let Some(connection) = state.connections.get_mut(&self.id) {
            if object != ROOT {
                connection.objects.remove(&object);
            }
        }
    }

    fn subscribe(&self) -> Result<NotificationReceiver, AutomationError> {
        let mut state = self.shared.state();
        let generation = state.generation;
        let running = state.running;
        let connection = state
            .connections
            .get_mut(&self.id)
            .ok_or(AutomationError::ServerGone)?;
        if !running || connection.generation != generation {
            return Err(AutomationError::ServerGone);
        }
        let (sender, receiver) = mpsc::unbounded_channel();
        connection.subscriber = Some(sender);
        Ok(receiver)
    }
}

impl SimConnection {
    /// Blocks the call while the client hangs, counted as waiting on the clock so that a
    /// manual clock can move on to the caller's timeout.
    async fn wait_while_hung(&self) {
        let mut hung = self.shared.hung.subscribe();
        if !*hung.borrow() {
            return;
        }
        let _waiting = self.shared.clock.waiting();
        // The sender lives in `Shared`, which this connection keeps alive.
        let _ = hung.wait_for(|hung| !*hung).await;
    }
}

impl Drop for SimConnection {
    fn drop(&mut self) {
        self.shared.state().connections.remove(&self.id);
    }
}

impl SimulatorControl {
    fn with_state<T>(&self, change: impl FnOnce(&mut State, &SharedClock) -> T) -> T {
        let mut state = self.shared.state();
        change(&mut state, &self.shared.clock)
    }

    /// Returns a connector to this client, for attaching more than once.
    pub fn connector(&self) -> Simulator {
        Simulator {
            shared: self.shared.clone(),
        }
    }

    /// Sets the status as the user does by hand in SwyxIt!.
    ///
    /// Choosing a status is user activity, so it also ends a detected away state.
    pub fn set_status(&self, status: SwyxSettable) {
        self.with_state(|state, clock| {
            let before = state.presence_key();
            state.away = status == SwyxSettable::Away;
            state.dnd = status == SwyxSettable::DoNotDisturb;
            state.detected_away = false;
            state.away_prompt_pending = false;
            let value = Variant::Str(format!("{status:?}"));
            state.record_write(clock.now(), WriteOrigin::Control, "status", value);
            state.notify_presence_change(clock, before);
        });
    }

    /// Sets the status text as the user does by hand.
    pub fn set_away_text(&self, text: &str) {
        self.with_state(|state, clock| {
            state.away_text = text.to_owned();
            state.record_write(
                clock.now(),
                WriteOrigin::Control,
                "AwayText",
                Variant::Str(text.into()),
            );
            state.notify(
                clock,
                messages::OWN_PRESENCE_CHANGED,
                state.presence_state(),
            );
        });
    }

    /// SwyxIt!'s own idle detection reports the user as away (or back).
    pub fn set_detected_away(&self, away: bool) {
        self.with_state(|state, clock| {
            let before = state.presence_key();
            state.detected_away = away;
            state.notify_presence_change(clock, before);
        });
    }

    /// Another SwyxIt! of the same user is in use, so a detected away here does not show.
    pub fn set_other_client_active(&self, active: bool) {
        self.with_state(|state, clock| {
            let before = state.presence_key();
            state.other_client_active = active;
            state.notify_presence_change(clock, before);
        });
    }

    /// Answers SwyxIt!'s question after logon as the user; `back_to_available` clears the Away.
    pub fn answer_away_prompt(&self, back_to_available: bool) {
        self.with_state(|state, clock| {
            if !state.away_prompt_pending {
                return;
            }
            state.away_prompt_pending = false;
            if back_to_available {
                let before = state.presence_key();
                state.away = false;
                let value = Variant::Str("Available".into());
                state.record_write(clock.now(), WriteOrigin::Control, "status", value);
                state.notify_presence_change(clock, before);
            }
        });
    }

    /// Runs a step of the call on `line` (1-based, as the scenario files count lines).
    pub fn call(&self, line: usize, action: CallAction) {
        let index = line.saturating_sub(1);
        self.with_state(|state, clock| {
            let steps: &[i32] = match action {
                CallAction::Start => &[line_state::RINGING, line_state::ACTIVE],
                CallAction::Hold => &[line_state::ON_HOLD],
                CallAction::Resume => &[line_state::ACTIVE],
                CallAction::Conference => &[line_state::CONFERENCE_ACTIVE],
                CallAction::Transfer => &[line_state::TRANSFERRING],
                CallAction::End => &[line_state::TERMINATED, line_state::INACTIVE],
            };
            for step in steps {
                state.set_line(clock, index, *step);
            }
        });
    }

    /// Line `line` (1-based) takes any CLMgr line-state number, known or not, with the usual
    /// notifications.
    pub fn set_line_state(&self, line: usize, line_state: i32) {
        let index = line.saturating_sub(1);
        self.with_state(|state, clock| state.set_line(clock, index, line_state));
    }

    /// Changes the number of lines (`NumberOfLinesChanged`); new lines are idle.
    pub fn set_number_of_lines(&self, count: usize) {
        self.with_state(|state, clock| {
            let before = state.presence_key();
            state.lines.resize(count, line_state::INACTIVE);
            state.notify(clock, messages::NUMBER_OF_LINES_CHANGED, count as i32);
            state.notify_presence_change(clock, before);
        });
    }

    /// Starts or ends a call on another device of the user (a desk phone). The server reports
    /// Speaking while the local lines stay idle.
    pub fn set_other_device_call(&self, in_call: bool) {
        self.with_state(|state, clock| {
            let before = state.presence_key();
            state.other_device_call = in_call;
            state.notify_presence_change(clock, before);
        });
    }

    /// Logs SwyxIt! off as the user does; the process keeps running.
    pub fn logoff(&self) {
        self.with_state(|state, clock| {
            if !state.logged_in {
                return;
            }
            let before = state.presence_key();
            state.logged_in = false;
            state
                .lines
                .iter_mut()
                .for_each(|line| *line = line_state::INACTIVE);
            state.notify(clock, messages::USER_DATA_CHANGED, 0);
            state.notify_presence_change(clock, before);
        });
    }

    /// Logs SwyxIt! on again; a manual Away raises SwyxIt!'s question.
    pub fn logon(&self) {
        self.with_state(|state, clock| {
            if state.logged_in {
                return;
            }
            let before = state.presence_key();
            state.logged_in = true;
            state.away_prompt_pending = state.away;
            state.notify(clock, messages::USER_DATA_CHANGED, 0);
            state.notify_presence_change(clock, before);
        });
    }

    /// Quits SwyxIt!. It sends the shut-down request (message 11), then every object is dead and
    /// attaching fails until [`SimulatorControl::restart`].
    pub fn quit(&self) {
        self.with_state(|state, clock| state.quit(clock));
    }

    /// SwyxIt! starts again (quitting first if it runs) and logs on with the stored status; a
    /// manual Away raises its question.
    pub fn restart(&self) {
        self.with_state(|state, clock| {
            state.quit(clock);
            state.running = true;
            state.logged_in = true;
            state.server_up = true;
            state.away_prompt_pending = state.away;
        });
    }

    /// Takes the server down (message 5).
    pub fn server_down(&self) {
        self.with_state(|state, clock| {
            if state.server_up {
                state.server_up = false;
                state.notify(clock, messages::SERVER_DOWN, 0);
            }
        });
    }

    /// Brings the server back (message 6).
    pub fn server_up(&self) {
        self.with_state(|state, clock| {
            if !state.server_up {
                state.server_up = true;
                state.notify(clock, messages::SERVER_UP, 0);
            }
        });
    }

    /// Stops (false) or resumes (true) notifications; the state stays readable.
    pub fn set_events(&self, on: bool) {
        self.with_state(|state, _| state.events_on = on);
    }

    /// Makes every call hang (a modal dialog in SwyxIt!) until set back to false.
    pub fn set_hung(&self, hung: bool) {
        self.shared.hung.send_replace(hung);
    }

    /// Makes attaching fail with `error` (e.g. access denied), or succeed again with `None`.
    pub fn set_connect_error(&self, error: Option<AutomationError>) {
        self.with_state(|state, _| state.connect_error = error);
    }

    /// Makes the next `count` status writes through automation fail with `E_FAIL`, as when
    /// SwyxIt! rejects a change; reads keep working.
    pub fn fail_writes(&self, count: u32) {
        self.with_state(|state, _| state.failing_writes = count);
    }

    /// Changes which members exist and how they are typed.
    pub fn set_members(&self, members: Members) {
        self.with_state(|state, _| state.members = members);
    }

    /// Changes the user's identity.
    pub fn set_identity(&self, identity: SimulatorIdentity) {
        self.with_state(|state, _| state.identity = identity);
    }

    /// Sends a raw notification, as a client would for messages the model does not produce.
    pub fn notify(&self, message: i32, param: i32) {
        self.with_state(|state, clock| state.notify(clock, message, param));
    }

    /// Returns what SwyxIt! shows of the user now.
    pub fn status(&self) -> SimulatorStatus {
        self.with_state(|state, _| SimulatorStatus {
            status: state.effective_status(),
            speaking: state.speaking(),
            manual_away: state.away,
            detected_away: state.detected_away,
            away_prompt_pending: state.away_prompt_pending,
            away_text: state.away_text.clone(),
            running: state.running,
            logged_in: state.logged_in,
            server_up: state.server_up,
        })
    }

    /// Returns the line states, line 1 first.
    pub fn lines(&self) -> Vec<i32> {
        self.with_state(|state, _| state.lines.clone())
    }

    /// Every write so far, in order.
    pub fn writes(&self) -> Vec<WriteRecord> {
        self.with_state(|state, _| state.writes.clone())
    }

    /// The number of writes made through the automation traits (the app's).
    pub fn app_write_count(&self) -> usize {
        self.with_state(|state, _| {
            state
                .writes
                .iter()
                .filter(|write| write.origin == WriteOrigin::Automation)
                .count()
        })
    }

    /// The number of automation calls received so far.
    pub fn call_count(&self) -> u64 {
        self.with_state(|state, _| state.calls)
    }

    /// When each attach was attempted, successful or not.
    pub fn connect_attempts(&self) -> Vec<Instant> {
        self.with_state(|state, _| state.connect_attempts.clone())
    }

    /// The members called that log on or off or register users, which an attaching program
    /// must never call.
    pub fn session_calls(&self) -> Vec<String> {
        self.with_state(|state, _| state.session_calls.clone())
    }

    /// Objects held across all live connections, root objects included.
    pub fn live_objects(&self) -> usize {
        self.with_state(|state, _| {
            let generation = state.generation;
            state
                .connections
                .values()
                .filter(|connection| connection.generation == generation)
                .map(|connection| connection.objects.len())
                .sum()
        })
    }

    /// Connections attached to the running client.
    pub fn live_connections(&self) -> usize {
        self.with_state(|state, _| {
            let generation = state.generation;
            let live = |connection: &&ConnectionState| connection.generation == generation;
            if state.running {
                state.connections.values().filter(live).count()
            } else {
                0
            }
        })
    }
}
