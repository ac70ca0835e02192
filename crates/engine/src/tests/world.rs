//! A small simulated world for scenario tests: a Graph presence service, a SwyxIt! client and a
//! driver that carries out the engine's actions with a fixed round trip, all on one test clock.

use std::time::Duration;

use crate::api::*;
use crate::table;
use crate::Engine;
use clock::Instant;

/// Which Graph endpoint a fault applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    Presence,
    SetPresence,
    ClearPresence,
}

/// An injected answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    Fail(GraphFailure),
    /// No answer; the driver gives up after its timeout (5 s poll, 10 s write).
    Hang,
    /// The next poll returns this presence instead of the aggregated one.
    Body(TeamsPresence),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Event {
    Wake,
    PollAnswer {
        sent_at: Instant,
        fault: Option<Fault>,
    },
    WriteAnswer {
        write: GraphWrite,
        sent_at: Instant,
        fault: Option<Fault>,
    },
    SwyxWriteAnswer {
        status: SwyxSettable,
        sent_at: Instant,
    },
    ServerSyncWrite(SwyxSettable),
}

/// The simulated world around one engine.
pub struct World {
    pub engine: Engine,
    pub now: Instant,
    events: Vec<(Instant, u64, Event)>,
    next_id: u64,
    pub rtt: Duration,
    pub app_running: bool,
    pub signed_in: bool,
    pub refresh_revoked: bool,
    // Graph
    pub client: (String, String),
    pub preferred: Option<(String, String)>,
    pub out_of_office: bool,
    /// The app session (shared by all installations of the user): expiry instant.
    pub session_until: Option<Instant>,
    faults: Vec<(Endpoint, Fault, u32)>,
    sequence: u64,
    // Swyx
    pub swyx_status: SwyxSettable,
    pub speaking: bool,
    pub swyx_running: bool,
    server_sync: Option<(SwyxSettable, Duration)>,
    // What happened
    pub swyx_writes: u32,
    pub set_calls: u32,
    pub clear_calls: u32,
    pub sets_acknowledged: u32,
    pub clears_acknowledged: u32,
    pub polls: u32,
    pub notifications: Vec<NotificationKind>,
    pub marker: bool,
    pub refreshes: u32,
    pub log: Vec<(Instant, Action)>,
    /// Fail when the engine writes Swyx for the target Speaking: set where Teams never shows a
    /// call of its own, so any such write would echo our own session.
    pub forbid_speaking_writes: bool,
}

fn pair(text: &str) -> (String, String) {
    let (a, b) = text.split_once('/').unwrap_or((text, text));
    (a.to_owned(), b.to_owned())
}

/// Scenario time zero: the world settles for 10 s before it.
pub const ORIGIN: Instant = Instant::from_millis(10_000);

/// Seconds as an instant of the test clock.
pub fn s(secs: u64) -> Instant {
    Instant::from_millis(secs * 1000)
}

impl World {
    /// A world where the app runs, is signed in and attached, Teams shows `teams` and Swyx
    /// shows `swyx`; it settles for 10 s before the returned world's time `t = 10 s`.
    pub fn new(teams: &str, swyx: SwyxSettable) -> Self {
        Self::with(Settings::default(), teams, swyx)
    }

    /// As [`World::new`], with these settings.
    pub fn with(settings: Settings, teams: &str, swyx: SwyxSettable) -> Self {
        let mut world = Self::stopped(settings, teams, swyx);
        world.start_app();
        world.run_until(s(10));
        world
    }

    /// A world whose app is not running yet.
    pub fn stopped(settings: Settings, teams: &str, swyx: SwyxSettable) -> Self {
        World {
            engine: Engine::new(settings),
            now: Instant::ZERO,
            events: Vec::new(),
            next_id: 0,
            rtt: Duration::from_millis(100),
            app_running: false,
            signed_in: true,
            refresh_revoked: false,
            client: pair(teams),
            preferred: None,
            out_of_office: false,
            session_until: None,
            faults: Vec::new(),
            sequence: 1000,
            swyx_status: swyx,
            speaking: false,
            swyx_running: true,
            server_sync: None,
            swyx_writes: 0,
            set_calls: 0,
            clear_calls: 0,
            sets_acknowledged: 0,
            clears_acknowledged: 0,
            polls: 0,
            notifications: Vec::new(),
            marker: false,
            refreshes: 0,
            log: Vec::new(),
            forbid_speaking_writes: false,
        }
    }

    /// Starts the app as the driver does: started, signed in, SwyxIt! attached.
    pub fn start_app(&mut self) {
        self.engine = Engine::new(self.engine.settings().clone());
        self.app_running = true;
        self.events.clear();
        let marker = self.marker;
        self.feed(Input::Started {
            stale_session_marker: marker,
        });
        if self.signed_in {
            self.feed(Input::SignedIn);
        }
        if self.swyx_running {
            let observation = self.observation(false);
            self.feed(Input::SwyxAttached {
                first_of_run: true,
                observation,
            });
        } else {
            self.feed(Input::SwyxUnavailable(SwyxUnavailable::NotRunning));
        }
    }

    /// Kills the app: no clean-up, its outstanding requests are lost.
    pub fn kill_app(&mut self) {
        self.app_running = false;
        self.events
            .retain(|(_, _, e)| matches!(e, Event::ServerSyncWrite(_)));
    }

    fn observation(&self, caused_by_us: bool) -> SwyxObservation {
        SwyxObservation {
            status: self.swyx_status,
            speaking: self.speaking,
            caused_by_us,
        }
    }

    /// Feeds one input to the engine at the current instant and carries out its actions.
    pub fn feed(&mut self, input: Input) {
        if !self.app_running {
            return;
        }
        let applied_before = self.engine.swyx.last_applied;
        let shown_before = self.engine.swyx.observation.as_ref().map(|o| o.status);
        let actions = self.engine.handle(self.now, input.clone());
        self.check_invariants(&input, &actions, applied_before, shown_before);
        for action in actions {
            self.log.push((self.now, action.clone()));
            self.carry_out(action);
        }
    }

    /// Checks what must hold after every input, whatever came before.
    fn check_invariants(
        &self,
        input: &Input,
        actions: &[Action],
        applied_before: Option<SwyxTarget>,
        shown_before: Option<SwyxSettable>,
    ) {
        for action in actions {
            let Action::WriteSwyx(status) = action else {
                continue;
            };
            let write = self
                .engine
                .swyx
                .in_flight
                .expect("a Swyx write is tracked in flight");
            assert_eq!(write.status, *status, "after {input:?}");
            assert_ne!(
                Some(write.target),
                applied_before,
                "target unchanged, after {input:?}"
            );
            assert_ne!(
                shown_before,
                Some(*status),
                "Swyx already shows it, after {input:?}"
            );
            if self.forbid_speaking_writes {
                assert_ne!(
                    write.target,
                    SwyxTarget::Speaking,
                    "echo of our call, after {input:?}"
                );
            }
        }
        let wakes = actions
            .iter()
            .filter(|a| matches!(a, Action::WakeAt(_)))
            .count();
        assert!(wakes <= 1, "one wake per input");
        for action in actions {
            if let Action::WakeAt(at) = action {
                assert!(*at > self.now, "a wake in the future, after {input:?}");
            }
        }

        // The view matches the last observed statuses.
        let view = self.engine.view();
        if let Some(presence) = &view.teams {
            let lookup = table::lookup(presence);
            assert_eq!(view.teams_label.as_deref(), Some(lookup.label()));
            assert_eq!(view.target, lookup.target(self.engine.settings()));
        }
        if self.swyx_running && self.engine.swyx.attached {
            let expected = if self.speaking {
                SwyxStatus::Speaking
            } else {
                match self.swyx_status {
                    SwyxSettable::Available => SwyxStatus::Available,
                    SwyxSettable::Away => SwyxStatus::Away,
                    SwyxSettable::DoNotDisturb => SwyxStatus::DoNotDisturb,
                }
            };
            assert_eq!(view.swyx, Some(expected), "after {input:?}");
        }
    }

    fn schedule(&mut self, at: Instant, event: Event) {
        if event == Event::Wake
            && self
                .events
                .iter()
                .any(|(t, _, e)| *t == at && *e == Event::Wake)
        {
            return;
        }
        self.next_id += 1;
        self.events.push((at, self.next_id, event));
    }

    fn take_fault(&mut self, endpoint: Endpoint) -> Option<Fault> {
        let index = self.faults.iter().position(|(e, _, _)| *e == endpoint)?;
        let fault = self.faults[index].1.clone();
        self.faults[index].2 -= 1;
        if self.faults[index].2 == 0 {
            self.faults.remove(index);
        }
        Some(fault)
    }

    fn carry_out(&mut self, action: Action) {
        match action {
            Action::WriteGraph(write) => {
                let endpoint = match write {
                    GraphWrite::SetInACall => {
                        self.set_calls += 1;
                        Endpoint::SetPresence
                    }
                    GraphWrite::Clear => {
                        self.clear_calls += 1;
                        Endpoint::ClearPresence
                    }
                };
                let sent_at = self.now;
                self.feed(Input::GraphWriteSent { write });
                let fault = self.take_fault(endpoint);
                let delay = if fault == Some(Fault::Hang) {
                    Duration::from_secs(10)
                } else {
                    self.rtt
                };
                self.schedule(
                    sent_at + delay,
                    Event::WriteAnswer {
                        write,
                        sent_at,
                        fault,
                    },
                );
            }
            Action::PollTeams => {
                self.polls += 1;
                let sent_at = self.now;
                self.feed(Input::TeamsPollSent);
                let fault = self.take_fault(Endpoint::Presence);
                let delay = if fault == Some(Fault::Hang) {
                    Duration::from_secs(5)
                } else {
                    self.rtt
                };
                self.schedule(sent_at + delay, Event::PollAnswer { sent_at, fault });
            }
            Action::WriteSwyx(status) => {
                let sent_at = self.now;
                self.schedule(
                    sent_at + Duration::from_millis(10),
                    Event::SwyxWriteAnswer { status, sent_at },
                );
            }
            Action::WakeAt(at) => self.schedule(at, Event::Wake),
            Action::SessionMarker(held) => self.marker = held,
            Action::RefreshToken => self.refreshes += 1,
            Action::Notify(kind) => self.notifications.push(kind),
        }
    }

    /// The presence Graph reports now: a manual status, else the app session, else the client.
    pub fn aggregated(&self) -> (String, String) {
        if let Some(preferred) = &self.preferred {
            return preferred.clone();
        }
        if self.session_until.is_some_and(|until| self.now < until) {
            return pair("Busy/InACall");
        }
        self.client.clone()
    }

    /// Whether the app session exists in Graph now.
    pub fn app_session(&self) -> bool {
        self.session_until.is_some_and(|until| self.now < until)
    }

    /// The aggregated presence as a Graph answer.
    pub fn teams(&self) -> String {
        let (a, b) = self.aggregated();
        format!("{a}/{b}")
    }

    fn presence_body(&mut self) -> TeamsPresence {
        self.sequence += 1;
        let (availability, activity) = self.aggregated();
        TeamsPresence {
            availability,
            activity,
            is_out_of_office: self.out_of_office,
            sequence_number: Some(format!("A{:010}", self.sequence)),
        }
    }

    /// Runs the world until `until`, handling every event on the way.
    pub fn run_until(&mut self, until: Instant) {
        loop {
            let next = self
                .events
                .iter()
                .enumerate()
                .filter(|(_, (at, _, _))| *at <= until)
                .min_by_key(|(_, (at, id, _))| (*at, *id))
                .map(|(index, _)| index);
            let Some(index) = next else { break };
            let (at, _, event) = self.events.remove(index);
            self.now = self.now.max(at);
            self.handle_event(event);
        }
        self.now = self.now.max(until);
    }

    fn graph_failure_when_signed_out(&self) -> Option<GraphFailure> {
        self.refresh_revoked.then_some(GraphFailure::SignInExpired)
    }

    fn handle_event(&mut self, event: Event) {
        match event {
            Event::Wake => self.feed(Input::Tick),
            Event::PollAnswer { sent_at, fault } => {
                let failure = match &fault {
                    Some(Fault::Fail(failure)) => Some(failure.clone()),
                    Some(Fault::Hang) => Some(GraphFailure::Transient {
                        reason: "timed out".into(),
                    }),
                    _ => self.graph_failure_when_signed_out(),
                };
                if let Some(failure) = failure {
                    self.feed(Input::TeamsPollFailed { sent_at, failure });
                    return;
                }
                let presence = match fault {
                    Some(Fault::Body(body)) => body,
                    _ => self.presence_body(),
                };
                self.feed(Input::TeamsPolled { sent_at, presence });
            }
            Event::WriteAnswer {
                write,
                sent_at,
                fault,
            } => {
                let result = match fault {
                    Some(Fault::Fail(failure)) => GraphWriteResult::Failed(failure),
                    Some(Fault::Hang) => GraphWriteResult::Failed(GraphFailure::Transient {
                        reason: "timed out".into(),
                    }),
                    _ => match self.graph_failure_when_signed_out() {
                        Some(failure) => GraphWriteResult::Failed(failure),
                        None => self.apply_write(write),
                    },
                };
                self.feed(Input::GraphWriteDone {
                    write,
                    sent_at,
                    result,
                });
            }
            Event::SwyxWriteAnswer { status, sent_at } => {
                if !self.swyx_running {
                    let result = Err("SwyxIt! is not running".to_owned());
                    self.feed(Input::SwyxWriteDone {
                        target: status,
                        sent_at,
                        result,
                    });
                    return;
                }
                self.swyx_writes += 1;
                self.feed(Input::SwyxWriteDone {
                    target: status,
                    sent_at,
                    result: Ok(()),
                });
                self.swyx_status = status;
                let observation = self.observation(true);
                self.feed(Input::SwyxObserved(observation));
            }
            Event::ServerSyncWrite(status) => {
                if self.swyx_status != status {
                    self.swyx_status = status;
                    let observation = self.observation(false);
                    self.feed(Input::SwyxObserved(observation));
                }
            }
        }
    }

    fn apply_write(&mut self, write: GraphWrite) -> GraphWriteResult {
        match write {
            GraphWrite::SetInACall => {
                self.sets_acknowledged += 1;
                self.session_until = Some(self.now + Duration::from_secs(300));
                GraphWriteResult::Acknowledged
            }
            GraphWrite::Clear => {
                self.clears_acknowledged += 1;
                if self.app_session() {
                    self.session_until = None;
                    GraphWriteResult::Acknowledged
                } else {
                    self.session_until = None;
                    GraphWriteResult::NotFound
                }
            }
        }
    }

    // User and fault actions, named after the scenario vocabulary.

    /// `teams A/B`: the user's Teams client changes.
    pub fn set_teams(&mut self, teams: &str) {
        self.client = pair(teams);
        self.after_teams_change();
    }

    /// `teams preferred A/B` or clear.
    pub fn set_preferred(&mut self, preferred: Option<&str>) {
        self.preferred = preferred.map(pair);
        self.after_teams_change();
    }

    fn after_teams_change(&mut self) {
        if let Some((substitute, delay)) = self.server_sync {
            let (availability, activity) = self.aggregated();
            let presence = TeamsPresence {
                availability,
                activity,
                is_out_of_office: self.out_of_office,
                sequence_number: None,
            };
            let target = table::lookup(&presence).target(&Settings::default());
            let status = target.map(|t| match t {
                SwyxTarget::Available => SwyxSettable::Available,
                SwyxTarget::Away => SwyxSettable::Away,
                SwyxTarget::DoNotDisturb => SwyxSettable::DoNotDisturb,
                SwyxTarget::Speaking => substitute,
            });
            if let Some(status) = status {
                let at = self.now + delay;
                self.schedule(at, Event::ServerSyncWrite(status));
            }
        }
    }

    /// `server-sync on substitute=<s>` with `server-sync delay <d>`.
    pub fn server_sync(&mut self, substitute: SwyxSettable, delay: Duration) {
        self.server_sync = Some((substitute, delay));
    }

    /// `swyx <status>`: the user sets a status by hand.
    pub fn swyx_manual(&mut self, status: SwyxSettable) {
        self.swyx_status = status;
        let observation = self.observation(false);
        self.feed(Input::SwyxObserved(observation));
    }

    /// `swyx call start` / `end`.
    pub fn swyx_call(&mut self, speaking: bool) {
        self.speaking = speaking;
        if self.swyx_running {
            let observation = self.observation(false);
            self.feed(Input::SwyxObserved(observation));
        }
    }

    /// `swyx quit`.
    pub fn swyx_quit(&mut self) {
        self.swyx_running = false;
        self.feed(Input::SwyxUnavailable(SwyxUnavailable::NotRunning));
    }

    /// `swyx restart` (logged on).
    pub fn swyx_restart(&mut self) {
        self.swyx_running = true;
        let observation = self.observation(false);
        self.feed(Input::SwyxAttached {
            first_of_run: false,
            observation,
        });
    }

    /// `graph fault <endpoint> ... count=<n>`.
    pub fn fault(&mut self, endpoint: Endpoint, fault: Fault, count: u32) {
        self.faults.push((endpoint, fault, count));
    }

    /// Runs until `millis` after the scenario origin, 10 s after the world was created.
    pub fn go(&mut self, millis: u64) {
        self.run_until(ORIGIN + Duration::from_millis(millis));
    }
}
