//! The world a scenario runs in: the Graph twin, the SwyxIt! simulator, the app core, and the
//! test-only actors, all on one manual clock.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use bridge::config::Paths;
use bridge::launch::{demo_twin_config, twin_graph_config};
use bridge::marker::SessionMarker;
use bridge::snapshot::NotificationCounts;
use bridge::teams::GraphTeams;
use bridge::{Command, Core, CoreParts, Notifier};
use clock::{Clock, Instant, ManualClock, SharedClock};
use engine::{Direction, Health, NotificationKind, Settings, SwyxSettable, TeamsPresence, Warning};
use graph::{Authenticator, MemorySecretStore, MemoryStoreRule, SecretStore};
use graph_twin::{Endpoint, Fault, FaultKind, Outcome, Twin};
use swyx::simulator::{CallAction, Simulator, SimulatorControl};

use crate::observe::{Observed, RequestSeen};
use crate::scenario::{parse_duration, parse_pair, parse_settable, RunConfig, Start};

/// How long the peer installation keeps its call session alive between posts.
const PEER_KEEP_ALIVE: Duration = Duration::from_secs(120);

/// Counts notifications across app restarts.
#[derive(Default)]
struct CountingNotifier {
    counts: Mutex<NotificationCounts>,
}

impl Notifier for CountingNotifier {
    fn notify(&self, kind: NotificationKind) {
        self.counts.lock().unwrap().add(kind);
    }
}

/// SwyxWare's server-side sync, played by the runner.
struct ServerSync {
    enabled: bool,
    substitute: SwyxSettable,
    delay: Duration,
    last_seen: Option<(String, String, bool)>,
    pending: Vec<(Instant, SwyxSettable)>,
}

/// Another installation of the app for the same user.
struct Peer {
    token: String,
    next_keep_alive: Option<Instant>,
}

/// Everything one scenario run owns.
pub struct World {
    pub clock: ManualClock,
    shared: SharedClock,
    pub twin: Twin,
    simulator: Simulator,
    pub swyx: SimulatorControl,
    app: Option<Core>,
    settings: Settings,
    home: tempfile::TempDir,
    /// The OS keyring as the app sees it; it outlives app restarts.
    keyring: Arc<MemorySecretStore>,
    notifier: Arc<CountingNotifier>,
    http: reqwest::Client,
    server_sync: ServerSync,
    peer: Peer,
    /// Scenario time zero on the clock.
    pub origin: Instant,
    first_request_id: u64,
    swyx_writes_before: usize,
    /// The run's captured log output, searched for issued secrets.
    logs: Option<Arc<Mutex<Vec<u8>>>>,
}

impl World {
    /// Sets up the starting state; the app is started, signed in and attached unless the
    /// scenario starts it signed out or not running.
    pub async fn start(config: &RunConfig, start: &Start) -> anyhow::Result<World> {
        let clock = ManualClock::new(SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000));
        let shared: SharedClock = Arc::new(clock.clone());
        let mut twin_config = demo_twin_config();
        // The user consented on the peer device already, so its token carries the app's scopes.
        twin_config.registration.consented_scopes = graph::default_scopes();
        let twin = Twin::start(twin_config, shared.clone()).await?;
        twin.set_teams(&start.teams.0, &start.teams.1);
        if let Some((availability, activity)) = &start.teams_preferred {
            twin.set_preferred(availability, activity);
        }
        twin.set_out_of_office(start.teams_out_of_office);
        let (simulator, swyx) = Simulator::new(shared.clone());
        swyx.set_status(parse_settable(&start.swyx)?);

        let mut settings = Settings {
            poll_interval: config.poll_interval,
            ..Settings::default()
        };
        settings.speaking_substitute = parse_settable(&config.speaking_substitute)?;
        let peer_token = twin.issue_token_for("peer");
        let mut world = World {
            clock,
            shared,
            twin,
            simulator,
            swyx,
            app: None,
            settings,
            home: tempfile::tempdir()?,
            keyring: Arc::new(MemorySecretStore::new(MemoryStoreRule::Unlimited)),
            notifier: Arc::new(CountingNotifier::default()),
            http: reqwest::Client::new(),
            server_sync: ServerSync {
                enabled: false,
                substitute: SwyxSettable::Away,
                delay: Duration::ZERO,
                last_seen: None,
                pending: Vec::new(),
            },
            peer: Peer {
                token: peer_token,
                next_keep_alive: None,
            },
            origin: Instant::ZERO,
            first_request_id: 0,
            swyx_writes_before: 0,
            logs: None,
        };
        if start.app_running {
            world.start_app(start.signed_in);
        }
        world.clock.settle().await;
        world.origin = world.clock.now();
        world.first_request_id = world
            .twin
            .requests()
            .iter()
            .map(|record| record.id + 1)
            .max()
            .unwrap_or(0);
        world.swyx_writes_before = world.swyx.app_write_count();
        Ok(world)
    }

    fn start_app(&mut self, sign_in: bool) {
        let paths = Paths {
            config_file: self.home.path().join("config.toml"),
            state_dir: self.home.path().join("state"),
            log_dir: self.home.path().join("logs"),
            policy_file: self.home.path().join("policy.toml"),
            webview_data_dir: Some(self.home.path().join("webview")),
        };
        let keyring: Arc<dyn SecretStore> = self.keyring.clone();
        let auth = Arc::new(
            Authenticator::new(twin_graph_config(&self.twin), self.shared.clone(), keyring)
                .expect("the sign-in client builds"),
        );
        let teams = Arc::new(GraphTeams::new(
            auth,
            graph::scripted_browser(self.shared.clone()),
        ));
        let (swyx, swyx_events) =
            bridge::swyx_side::start(Arc::new(self.simulator.clone()), self.shared.clone());
        let core = Core::start(CoreParts {
            clock: self.shared.clone(),
            teams,
            swyx,
            swyx_events,
            notifier: self.notifier.clone(),
            marker: SessionMarker::new(paths.marker_file()),
            settings: self.settings.clone(),
            sign_in_at_start: sign_in,
            randomize_polls: false,
        });
        self.app = Some(core);
    }

    /// Scenario time now.
    pub fn elapsed(&self) -> Duration {
        self.clock.now() - self.origin
    }

    /// Moves time to scenario time `at`, stopping at every timer and actor deadline.
    pub async fn advance_to(&mut self, at: Duration) -> anyhow::Result<()> {
        while !self.step_towards(at).await? {}
        Ok(())
    }

    /// Settles, lets the actors act, and moves time to the next deadline before scenario time
    /// `at` (or to `at`); returns true once `at` is reached.
    pub async fn step_towards(&mut self, at: Duration) -> anyhow::Result<bool> {
        let target = self.origin + at;
        self.clock.settle().await;
        self.run_actors().await?;
        let now = self.clock.now();
        if now >= target {
            return Ok(true);
        }
        let next = [self.clock.next_deadline(), self.actor_deadline()]
            .into_iter()
            .flatten()
            .filter(|deadline| *deadline > now)
            .min()
            .map_or(target, |deadline| deadline.min(target));
        self.clock.set(next);
        Ok(false)
    }

    fn actor_deadline(&self) -> Option<Instant> {
        let pending = self.server_sync.pending.iter().map(|(at, _)| *at);
        pending.chain(self.peer.next_keep_alive).min()
    }

    /// Lets the test-only actors act on what happened up to now.
    async fn run_actors(&mut self) -> anyhow::Result<()> {
        let now = self.clock.now();
        if self.server_sync.enabled {
            let presence = self.twin.presence();
            let seen = (
                presence.availability.clone(),
                presence.activity.clone(),
                presence.is_out_of_office,
            );
            if self.server_sync.last_seen.as_ref() != Some(&seen) {
                self.server_sync.last_seen = Some(seen);
                if let Some(status) = self.server_sync_target(&presence) {
                    self.server_sync
                        .pending
                        .push((now + self.server_sync.delay, status));
                }
            }
            let (due, later): (Vec<_>, Vec<_>) = self
                .server_sync
                .pending
                .drain(..)
                .partition(|(at, _)| *at <= now);
            self.server_sync.pending = later;
            let wrote = !due.is_empty();
            for (_, status) in due {
                if self.swyx.status().status != status {
                    self.swyx.set_status(status);
                }
            }
            if wrote {
                self.clock.settle().await;
            }
        }
        if let Some(due) = self.peer.next_keep_alive {
            if due <= now {
                self.peer_post(
                    "setPresence",
                    serde_json::json!({
                        "sessionId": self.twin.config().registration.client_id,
                        "availability": "Busy",
                        "activity": "InACall",
                        "expirationDuration": "PT5M",
                    }),
                )
                .await?;
                self.peer.next_keep_alive = Some(now + PEER_KEEP_ALIVE);
            }
        }
        Ok(())
    }

    fn server_sync_target(&self, presence: &graph_twin::PresenceSnapshot) -> Option<SwyxSettable> {
        let lookup = engine::table::lookup(&TeamsPresence {
            availability: presence.availability.clone(),
            activity: presence.activity.clone(),
            is_out_of_office: presence.is_out_of_office,
            sequence_number: None,
        });
        let settings = Settings {
            speaking_substitute: self.server_sync.substitute,
            ..Settings::default()
        };
        lookup.target(&settings).map(|target| match target {
            engine::SwyxTarget::Available => SwyxSettable::Available,
            engine::SwyxTarget::Away => SwyxSettable::Away,
            engine::SwyxTarget::DoNotDisturb => SwyxSettable::DoNotDisturb,
            engine::SwyxTarget::Speaking => self.server_sync.substitute,
        })
    }

    async fn peer_post(&self, action: &str, body: serde_json::Value) -> anyhow::Result<()> {
        let url = self
            .twin
            .graph_base()
            .join(&format!("me/presence/{action}"))?;
        let _busy = self.shared.busy();
        let response = self
            .http
            .post(url)
            .bearer_auth(&self.peer.token)
            .json(&body)
            .send()
            .await?;
        tracing::debug!(action, status = response.status().as_u16(), "peer request");
        Ok(())
    }

    /// Gives the world the run's captured log output, for [`World::leaked_secrets`].
    pub fn set_logs(&mut self, logs: Arc<Mutex<Vec<u8>>>) {
        self.logs = Some(logs);
    }

    /// Issued codes and tokens found in the captured logs or in any file the app wrote, each
    /// shortened to its first characters.
    pub fn leaked_secrets(&self) -> Vec<String> {
        let mut haystacks = Vec::new();
        if let Some(logs) = &self.logs {
            haystacks.push(String::from_utf8_lossy(&logs.lock().unwrap()).into_owned());
        }
        let mut folders = vec![self.home.path().to_path_buf()];
        while let Some(folder) = folders.pop() {
            for entry in std::fs::read_dir(&folder).into_iter().flatten().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    folders.push(path);
                } else if let Ok(bytes) = std::fs::read(&path) {
                    haystacks.push(String::from_utf8_lossy(&bytes).into_owned());
                }
            }
        }
        self.twin
            .issued_secrets()
            .into_iter()
            .filter(|secret| haystacks.iter().any(|text| text.contains(secret.as_str())))
            .map(|secret| {
                format!(
                    "{}… ({} chars)",
                    &secret[..secret.len().min(6)],
                    secret.len()
                )
            })
            .collect()
    }

    /// Returns the running app's latest snapshot.
    pub fn snapshot(&self) -> anyhow::Result<bridge::Snapshot> {
        Ok(self.app()?.snapshot())
    }

    /// Sends a command to the running app.
    pub fn send(&self, command: Command) -> anyhow::Result<()> {
        self.app()?.send(command);
        Ok(())
    }

    fn app(&self) -> anyhow::Result<&Core> {
        self.app
            .as_ref()
            .ok_or_else(|| anyhow::anyhow!("the app is not running"))
    }

    /// Carries out one action of the scenario format.
    pub async fn act(&mut self, action: &str) -> anyhow::Result<()> {
        let words: Vec<&str> = action.split_whitespace().collect();
        match words.as_slice() {
            ["teams", "preferred", "clear"] => self.twin.clear_preferred(),
            ["teams", "preferred", pair] => {
                let (availability, activity) = parse_pair(pair)?;
                self.twin.set_preferred(&availability, &activity);
            }
            ["teams", "out-of-office", switch] => self.twin.set_out_of_office(on_off(switch)?),
            ["teams", "poll-returns", ..] => {
                let body = action.splitn(3, ' ').nth(2).unwrap_or_default().trim();
                let body = if body.ends_with(".json") {
                    std::fs::read_to_string(body)?
                } else {
                    body.to_string()
                };
                self.twin
                    .inject(Fault::new(Endpoint::Presence, FaultKind::Body { body }, 1));
            }
            ["teams", pair] => {
                let (availability, activity) = parse_pair(pair)?;
                self.twin.set_teams(&availability, &activity);
            }
            ["swyx", "call", step] => self.swyx.call(1, call_action(step)?),
            ["swyx", "call2", step] => self.swyx.call(2, call_action(step)?),
            ["swyx", "logoff"] => self.swyx.logoff(),
            ["swyx", "logon"] => self.swyx.logon(),
            ["swyx", "quit"] => self.swyx.quit(),
            ["swyx", "restart"] => self.swyx.restart(),
            ["swyx", "server-down"] => self.swyx.server_down(),
            ["swyx", "server-up"] => self.swyx.server_up(),
            ["swyx", "events", switch] => self.swyx.set_events(on_off(switch)?),
            ["swyx", "line", line, state] => {
                self.swyx.set_line_state(line.parse()?, state.parse()?)
            }
            ["swyx", status] => self.swyx.set_status(parse_settable(status)?),
            ["graph", "fault", endpoint, status, options @ ..] => {
                let (retry_after, count) = fault_options(options)?;
                let kind = FaultKind::Status {
                    status: status.parse()?,
                    retry_after_seconds: retry_after,
                };
                self.inject(endpoint, kind, count)?;
            }
            ["graph", "latency", duration] => self.twin.set_latency(parse_duration(duration)?),
            ["graph", "timeout", endpoint, options @ ..] => {
                self.inject(endpoint, FaultKind::Timeout, fault_options(options)?.1)?
            }
            ["graph", "reset", endpoint, options @ ..] => {
                self.inject(endpoint, FaultKind::Reset, fault_options(options)?.1)?
            }
            ["graph", "malformed", endpoint, options @ ..] => {
                self.inject(endpoint, FaultKind::Malformed, fault_options(options)?.1)?
            }
            ["graph", "delay", endpoint, duration, options @ ..] => {
                let millis = u64::try_from(parse_duration(duration)?.as_millis())?;
                self.inject(
                    endpoint,
                    FaultKind::Delay { millis },
                    fault_options(options)?.1,
                )?;
            }
            ["graph", "revoke-refresh"] => self.twin.revoke_refresh_tokens(),
            ["graph", "expire-access"] => self.twin.expire_access_tokens(),
            ["graph", "throttle", budget] => {
                let (limit, window) = budget
                    .split_once('/')
                    .ok_or_else(|| anyhow::anyhow!("throttle needs n/window"))?;
                self.twin
                    .set_throttle(limit.parse()?, parse_duration(window)?);
            }
            ["server-sync", "on", options @ ..] => {
                self.server_sync.enabled = true;
                self.server_sync.last_seen = None;
                for option in options {
                    match option.split_once('=') {
                        Some(("substitute", value)) => {
                            self.server_sync.substitute = parse_settable(value)?
                        }
                        _ => anyhow::bail!("unknown server-sync option {option:?}"),
                    }
                }
            }
            ["server-sync", "off"] => {
                self.server_sync.enabled = false;
                self.server_sync.pending.clear();
            }
            ["server-sync", "delay", duration] => {
                self.server_sync.delay = parse_duration(duration)?
            }
            ["peer", "call", "start"] => self.peer.next_keep_alive = Some(self.clock.now()),
            ["peer", "call", "end"] => {
                self.peer.next_keep_alive = None;
                let session_id = self.twin.config().registration.client_id.clone();
                self.peer_post(
                    "clearPresence",
                    serde_json::json!({ "sessionId": session_id }),
                )
                .await?;
            }
            ["app", "sync", switch] => self.app()?.send(Command::SetSync(on_off(switch)?)),
            ["app", "direction", direction, switch] => {
                let direction = match *direction {
                    "teams-to-swyx" => Direction::TeamsToSwyx,
                    "swyx-to-teams" => Direction::SwyxToTeams,
                    other => anyhow::bail!("unknown direction {other:?}"),
                };
                self.app()?.send(Command::SetDirection {
                    direction,
                    enabled: on_off(switch)?,
                });
            }
            ["app", "pause", duration] => self
                .app()?
                .send(Command::PauseFor(parse_duration(duration)?)),
            ["app", "resume"] => self.app()?.send(Command::ResumeSync),
            ["app", "sign-out"] => self.app()?.send(Command::SignOut),
            ["app", "sign-in"] => self.app()?.send(Command::SignIn),
            ["app", "quit"] => {
                if let Some(app) = self.app.take() {
                    let clock = self.clock.clone();
                    let quitting = tokio::spawn(app.quit());
                    // Quit waits on the clock for its clear; keep time moving until it is done.
                    while !quitting.is_finished() {
                        clock.settle().await;
                        if let Some(deadline) = clock.next_deadline() {
                            if quitting.is_finished() {
                                break;
                            }
                            clock.set(deadline);
                        }
                    }
                    quitting.await?;
                }
            }
            ["app", "kill"] => {
                if let Some(app) = self.app.take() {
                    app.kill();
                }
            }
            ["app", "start"] => {
                if self.app.is_some() {
                    anyhow::bail!("app start: the app is already running");
                }
                self.start_app(true);
            }
            ["app", "sleep", duration] => {
                let duration = parse_duration(duration)?;
                let app = self
                    .app
                    .take()
                    .ok_or_else(|| anyhow::anyhow!("the app is not running"))?;
                app.suspend().await;
                let wake = self.elapsed() + duration;
                self.advance_to(wake).await?;
                app.send(Command::Resumed);
                self.app = Some(app);
            }
            ["app", "set", key, value] => self.change_setting(key, value)?,
            _ => anyhow::bail!("unknown action {action:?}"),
        }
        Ok(())
    }

    fn inject(&self, endpoint: &str, kind: FaultKind, count: u32) -> anyhow::Result<()> {
        let endpoint: Endpoint = endpoint.parse()?;
        self.twin.inject(Fault::new(endpoint, kind, count));
        Ok(())
    }

    fn change_setting(&mut self, key: &str, value: &str) -> anyhow::Result<()> {
        match key {
            "poll_interval" => self.settings.poll_interval = parse_duration(value)?,
            "speaking_substitute" => self.settings.speaking_substitute = parse_settable(value)?,
            "dnd_sets_dnd" => self.settings.dnd_sets_dnd = value.parse()?,
            "away_sets_away" => self.settings.away_sets_away = value.parse()?,
            other => anyhow::bail!("unknown setting {other:?}"),
        }
        self.app()?
            .send(Command::ChangeSettings(self.settings.clone()));
        Ok(())
    }

    /// Returns the state the expectations are checked against.
    pub fn observe(&self) -> Observed {
        let presence = self.twin.presence();
        let client_id = &self.twin.config().registration.client_id;
        let snapshot = self.app.as_ref().map(Core::snapshot);
        let view = snapshot.as_ref().map(|snapshot| &snapshot.view);
        let requests = self
            .twin
            .requests()
            .into_iter()
            .filter(|record| record.id >= self.first_request_id && record.actor == "app")
            .map(|record| RequestSeen {
                endpoint: record.endpoint.as_str().to_string(),
                at: record.sent - self.origin,
                status: match record.outcome {
                    Outcome::Answered(status) => Some(status),
                    _ => None,
                },
            })
            .collect();
        let counts = *self.notifier.counts.lock().unwrap();
        Observed {
            teams: format!("{}/{}", presence.availability, presence.activity),
            swyx: format!("{:?}", self.swyx.status().status),
            app_session: self.twin.app_session(client_id).is_some(),
            override_text: view.and_then(|view| view.override_text.clone()),
            health_graph: view.map_or("stopped".into(), |view| health_name(&view.health_teams)),
            health_swyx: view.map_or("stopped".into(), |view| health_name(&view.health_swyx)),
            swyx_writes: (self.swyx.app_write_count() - self.swyx_writes_before) as u64,
            requests,
            notifications: vec![
                ("sign-in".into(), u64::from(counts.sign_in)),
                ("swyx-gone".into(), u64::from(counts.swyx_gone)),
                ("conflict".into(), u64::from(counts.conflict)),
            ],
            warnings: view
                .map(|view| {
                    view.warnings
                        .iter()
                        .map(|warning| warning_name(*warning).to_string())
                        .collect()
                })
                .unwrap_or_default(),
            last_latency_teams_to_swyx: view
                .and_then(|view| view.last_teams_to_swyx.as_ref().map(|last| last.latency)),
            last_latency_swyx_to_teams: view
                .and_then(|view| view.last_swyx_to_teams.as_ref().map(|last| last.latency)),
            leaked_secrets: Vec::new(),
        }
    }

    /// Stops everything the world started.
    pub async fn shut_down(mut self) {
        if let Some(app) = self.app.take() {
            app.kill();
        }
        self.twin.shutdown().await;
    }
}

fn health_name(health: &Health) -> String {
    match health {
        Health::SignedOut => "signed-out",
        Health::Unavailable { .. } => "unavailable",
        Health::Degraded { .. } => "degraded",
        Health::Ok => "ok",
    }
    .into()
}

fn warning_name(warning: Warning) -> &'static str {
    match warning {
        Warning::SharedWriter => "shared-writer",
        Warning::Conflict => "conflict",
        Warning::IdentityMismatch => "identity-mismatch",
    }
}

fn on_off(word: &str) -> anyhow::Result<bool> {
    match word {
        "on" => Ok(true),
        "off" => Ok(false),
        other => anyhow::bail!("expected on or off, got {other:?}"),
    }
}

fn call_action(word: &str) -> anyhow::Result<CallAction> {
    Ok(match word {
        "start" => CallAction::Start,
        "hold" => CallAction::Hold,
        "resume" => CallAction::Resume,
        "conference" => CallAction::Conference,
        "transfer" => CallAction::Transfer,
        "end" => CallAction::End,
        other => anyhow::bail!("unknown call step {other:?}"),
    })
}

/// Reads `retry-after=<s>` and `count=<n>` (default 1).
fn fault_options(options: &[&str]) -> anyhow::Result<(Option<u64>, u32)> {
    let mut retry_after = None;
    let mut count = 1;
    for option in options {
        match option.split_once('=') {
            Some(("retry-after", value)) => {
                retry_after = Some(value.trim_end_matches('s').parse()?)
            }
            Some(("count", value)) => count = value.parse()?,
            _ => anyhow::bail!("unknown fault option {option:?}"),
        }
    }
    Ok((retry_after, count))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leaked_secret_is_found() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let config = RunConfig {
                poll_interval: Duration::from_secs(2),
                speaking_substitute: "Away".into(),
            };
            let start = Start {
                teams: ("Available".into(), "Available".into()),
                teams_preferred: None,
                teams_out_of_office: false,
                swyx: "Available".into(),
                app_running: false,
                signed_in: false,
                expect_always: Vec::new(),
            };
            let mut world = World::start(&config, &start).await.unwrap();
            let logs = Arc::new(Mutex::new(b"a clean log line\n".to_vec()));
            world.set_logs(logs.clone());
            assert!(world.leaked_secrets().is_empty());

            let token = world.twin.issue_token_for("test");
            logs.lock()
                .unwrap()
                .extend_from_slice(format!("Authorization: Bearer {token}\n").as_bytes());
            assert_eq!(world.leaked_secrets().len(), 1);
            world.shut_down().await;
        });
    }
}
