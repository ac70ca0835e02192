//! The fault soak: a seeded random run of Teams changes, calls, manual Swyx changes, Graph
//! faults, SwyxIt! restarts, sleeps and app restarts, with invariants checked at quiet points.
//!
//! The same seed gives the same sequence of actions, so a failure is replayed with
//! `soak --seed N`.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bridge::Command;
use engine::{SwyxSettable, SwyxTarget, TeamsPresence};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::scenario::{RunConfig, Start};
use crate::world::World;

/// Teams pairs the soak picks from: every row of the table and a few unknown values.
const TEAMS_PAIRS: &[(&str, &str)] = &[
    ("Available", "Available"),
    ("Busy", "Busy"),
    ("Busy", "InACall"),
    ("Busy", "InAMeeting"),
    ("DoNotDisturb", "DoNotDisturb"),
    ("DoNotDisturb", "Presenting"),
    ("Away", "Away"),
    ("BeRightBack", "BeRightBack"),
    ("Offline", "OffWork"),
    ("Offline", "Offline"),
    ("PresenceUnknown", "PresenceUnknown"),
    ("AvailableIdle", "Available"),
    ("Busy", "InAHuddle"),
];

/// Graph faults the soak injects.
const GRAPH_FAULTS: &[&str] = &[
    "graph fault presence 503 count=3",
    "graph fault presence 429 retry-after=5 count=2",
    "graph fault presence 429 count=2",
    "graph timeout presence count=1",
    "graph malformed presence count=1",
    "graph reset presence count=2",
    "graph fault setPresence 503 count=2",
    "graph fault clearPresence 502 count=1",
    "graph reset token count=1",
];

/// How long the world runs without faults before the invariants are checked: longer than
/// the largest backoff step a soak fault can cause.
const QUIET_PERIOD: Duration = Duration::from_secs(6 * 60);

/// What the soak tracks of its own actions, to know what the invariants expect.
#[derive(Debug, Default)]
struct Expectations {
    in_call: bool,
    /// No manual Swyx change since Swyx was last seen showing the mapped Teams target (or the
    /// app started, which writes the target). A manual change stays until the next Teams
    /// target change, and whether one happened depends on targets the app applied during
    /// holds, so the soak checks the mapping only while this holds.
    clean: bool,
    signed_out: bool,
    swyx_quit: bool,
    /// The app's Swyx write count when the current call started, while nothing but the call
    /// happened since: such a call must cause no Swyx write, because the app's own In a call
    /// must never come back to Swyx.
    undisturbed_call_writes: Option<usize>,
}

/// A log writer that appends to a shared buffer.
#[derive(Clone)]
struct LogSink(Arc<Mutex<Vec<u8>>>);

impl Write for LogSink {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for LogSink {
    type Writer = LogSink;

    fn make_writer(&'a self) -> LogSink {
        self.clone()
    }
}

/// The result of a soak run.
#[derive(Debug)]
pub struct SoakReport {
    pub seed: u64,
    pub actions: u64,
    pub checks: u64,
    pub simulated: Duration,
}

/// A violated invariant, with what is needed to replay it.
#[derive(Debug)]
pub struct SoakFailure {
    pub seed: u64,
    pub at: Duration,
    pub invariant: String,
    pub recent_actions: Vec<String>,
}

impl std::fmt::Display for SoakFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "seed {} at {:?}: invariant violated: {}",
            self.seed, self.at, self.invariant
        )?;
        writeln!(f, "last actions (replay with `soak --seed {}`):", self.seed)?;
        for action in &self.recent_actions {
            writeln!(f, "  {action}")?;
        }
        Ok(())
    }
}

/// Runs the soak for `simulated` time with `seed`.
pub async fn run(seed: u64, simulated: Duration) -> Result<SoakReport, SoakFailure> {
    let mut rng = StdRng::seed_from_u64(seed);
    let config = RunConfig {
        poll_interval: Duration::from_secs(2),
        speaking_substitute: "Away".into(),
    };
    let start = Start {
        teams: ("Available".into(), "Available".into()),
        teams_preferred: None,
        teams_out_of_office: false,
        swyx: "Available".into(),
        app_running: true,
        signed_in: true,
        expect_always: Vec::new(),
    };
    let fail = |world: Option<&World>, invariant: String, log: &[String]| SoakFailure {
        seed,
        at: world.map_or(Duration::ZERO, World::elapsed),
        invariant,
        recent_actions: log[log.len().saturating_sub(25)..].to_vec(),
    };
    let mut log: Vec<String> = Vec::new();
    // The app core's log, kept to search it for secrets at the end. The runtime is
    // single-threaded, so a thread-local default subscriber receives every task's events.
    let logs = Arc::new(Mutex::new(Vec::new()));
    let _subscriber = tracing::subscriber::set_default(
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(
                "debug,graph_twin=warn,hyper=info,reqwest=info,h2=info",
            ))
            .with_ansi(false)
            .with_writer(LogSink(logs.clone()))
            .finish(),
    );
    let mut world = World::start(&config, &start)
        .await
        .map_err(|error| fail(None, format!("setup: {error:#}"), &log))?;
    world.set_logs(logs);
    let mut state = Expectations {
        clean: true,
        ..Expectations::default()
    };
    let (mut actions, mut checks) = (0u64, 0u64);

    while world.elapsed() < simulated {
        for _ in 0..rng.random_range(4..12) {
            let action = pick_action(&mut rng, &mut state);
            if let Err(violation) = check_echo(&world, &mut state, &action) {
                return Err(fail(Some(&world), violation, &log));
            }
            for step in &action {
                log.push(format!("{:>10.1?} {step}", world.elapsed()));
                if let Err(error) = world.act(step).await {
                    return Err(fail(
                        Some(&world),
                        format!("action {step:?} failed: {error:#}"),
                        &log,
                    ));
                }
                actions += 1;
            }
            let pause = Duration::from_secs(rng.random_range(1..90));
            let until = world.elapsed() + pause;
            world
                .advance_to(until)
                .await
                .map_err(|error| fail(Some(&world), format!("{error:#}"), &log))?;
        }

        quiet_down(&mut world, &mut state, &mut log)
            .await
            .map_err(|error| fail(Some(&world), error, &log))?;
        checks += 1;
        if let Err(violation) = check_invariants(&world, &mut state) {
            return Err(fail(Some(&world), violation, &log));
        }
    }
    let leaked = world.leaked_secrets();
    if !leaked.is_empty() {
        return Err(fail(
            Some(&world),
            format!("issued secrets in logs or files: {leaked:?}"),
            &log,
        ));
    }
    let simulated = world.elapsed();
    world.shut_down().await;
    Ok(SoakReport {
        seed,
        actions,
        checks,
        simulated,
    })
}

/// Checks that an undisturbed call caused no Swyx write, before `action` runs.
fn check_echo(world: &World, state: &mut Expectations, action: &[String]) -> Result<(), String> {
    let writes = world.swyx.app_write_count();
    match action.first().map(String::as_str) {
        None => Ok(()),
        Some("swyx call start") => {
            state.undisturbed_call_writes = Some(writes);
            Ok(())
        }
        Some("swyx call end") => match state.undisturbed_call_writes.take() {
            Some(before) if writes > before => Err(format!(
                "{} Swyx writes during a call with no other change: our own In a call came back",
                writes - before
            )),
            _ => Ok(()),
        },
        Some(_) => {
            state.undisturbed_call_writes = None;
            Ok(())
        }
    }
}

fn pick_action(rng: &mut StdRng, state: &mut Expectations) -> Vec<String> {
    match rng.random_range(0..100) {
        0..=34 => {
            let (availability, activity) = TEAMS_PAIRS[rng.random_range(0..TEAMS_PAIRS.len())];
            vec![format!("teams {availability}/{activity}")]
        }
        // A quit SwyxIt! has no lines to call on.
        35..=49 if state.swyx_quit => Vec::new(),
        35..=49 => {
            state.in_call = !state.in_call;
            vec![if state.in_call {
                "swyx call start".into()
            } else {
                "swyx call end".into()
            }]
        }
        50..=59 => {
            let status = ["Available", "Away", "DoNotDisturb"][rng.random_range(0..3)];
            state.clean = false;
            vec![format!("swyx {status}")]
        }
        60..=74 => vec![GRAPH_FAULTS[rng.random_range(0..GRAPH_FAULTS.len())].to_string()],
        75..=77 => {
            state.signed_out = true;
            vec!["graph revoke-refresh".into(), "graph expire-access".into()]
        }
        78..=82 => {
            // Quitting SwyxIt! drops its calls, as the real client does.
            state.in_call = false;
            if state.swyx_quit {
                state.swyx_quit = false;
                vec!["swyx restart".into()]
            } else {
                state.swyx_quit = true;
                vec!["swyx quit".into()]
            }
        }
        83..=85 => vec![format!("app sleep {}m", rng.random_range(1..20))],
        86..=88 => {
            // A start writes the current target once unless Swyx already shows it.
            state.clean = true;
            vec!["app kill".into(), "app start".into()]
        }
        _ => Vec::new(),
    }
}

/// Ends every fault and waits long enough for retries and reconciliation to finish.
async fn quiet_down(
    world: &mut World,
    state: &mut Expectations,
    log: &mut Vec<String>,
) -> Result<(), String> {
    world.twin.clear_faults();
    let mut steps = Vec::new();
    if state.swyx_quit {
        state.swyx_quit = false;
        steps.push("swyx restart");
    }
    if state.signed_out {
        state.signed_out = false;
        steps.push("app sign-in");
    }
    for step in steps {
        log.push(format!("{:>10.1?} {step} (quiet)", world.elapsed()));
        world
            .act(step)
            .await
            .map_err(|error| format!("{step}: {error:#}"))?;
    }
    if world
        .observe()
        .warnings
        .iter()
        .any(|warning| warning == "conflict")
    {
        // Random manual changes can look like another engine fighting us, so the soak resolves the
        // conflict as the user would.
        log.push(format!(
            "{:>10.1?} resolve conflict (quiet)",
            world.elapsed()
        ));
        world
            .send(Command::ResolveConflict)
            .map_err(|error| format!("{error:#}"))?;
    }
    let until = world.elapsed() + QUIET_PERIOD;
    world
        .advance_to(until)
        .await
        .map_err(|error| format!("{error:#}"))
}

fn check_invariants(world: &World, state: &mut Expectations) -> Result<(), String> {
    let observed = world.observe();
    if observed.health_graph != "ok" || observed.health_swyx != "ok" {
        return Err(format!(
            "health after a quiet period: graph {}, swyx {}",
            observed.health_graph, observed.health_swyx
        ));
    }
    if observed.app_session != state.in_call {
        return Err(format!(
            "app session {} while the call is {}",
            if observed.app_session {
                "held"
            } else {
                "missing"
            },
            if state.in_call { "on" } else { "off" }
        ));
    }
    if !state.in_call {
        let presence = world.twin.presence();
        let lookup = engine::table::lookup(&TeamsPresence {
            availability: presence.availability.clone(),
            activity: presence.activity.clone(),
            is_out_of_office: presence.is_out_of_office,
            sequence_number: None,
        });
        let expected = lookup
            .target(&engine::Settings::default())
            .map(|target| match target {
                SwyxTarget::Available => SwyxSettable::Available,
                SwyxTarget::Away | SwyxTarget::Speaking => SwyxSettable::Away,
                SwyxTarget::DoNotDisturb => SwyxSettable::DoNotDisturb,
            });
        if let Some(expected) = expected {
            let shown = format!("{expected:?}");
            if observed.swyx == shown {
                state.clean = true;
            } else if state.clean {
                return Err(format!(
                    "Swyx shows {} but Teams {}/{} maps to {shown}",
                    observed.swyx, presence.availability, presence.activity
                ));
            }
        }
    }
    Ok(())
}
