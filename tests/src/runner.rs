//! Runs one scenario and reports where it failed: the file, its `[start]` or its first failed
//! step.

use std::fmt;
use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::observe::check;
use crate::scenario::{self, Expectation, Scenario};
use crate::world::World;

/// Log lines printed with a failure.
const LOG_TAIL_LINES: usize = 40;

/// The part of a scenario that failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// The file could not be read or is invalid. For an invalid section, the message names it.
    File,
    /// Setting up the `[start]` state, or its `expect_always`.
    Start,
    /// A step, by its number in the file (from 1).
    Step(usize),
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Place::File => write!(f, "file error"),
            Place::Start => write!(f, "[start]"),
            Place::Step(number) => write!(f, "step {number}"),
        }
    }
}

/// Why a scenario failed.
#[derive(Debug)]
pub struct Failure {
    pub place: Place,
    /// The scenario time of the failure; zero for a file error.
    pub at: Duration,
    pub message: String,
    pub log_tail: Vec<String>,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.place == Place::File {
            // Nothing ran, so there is no time and no log.
            return writeln!(f, "{}: {}", self.place, self.message);
        }
        writeln!(f, "{} at {:?}: {}", self.place, self.at, self.message)?;
        writeln!(f, "last {} log lines of the app core:", self.log_tail.len())?;
        for line in &self.log_tail {
            writeln!(f, "  {line}")?;
        }
        Ok(())
    }
}

/// A buffer the run's tracing output goes to.
#[derive(Clone, Default)]
struct LogBuffer(Arc<Mutex<Vec<u8>>>);

impl Write for LogBuffer {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl LogBuffer {
    fn tail(&self) -> Vec<String> {
        let text = String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned();
        let lines: Vec<String> = text.lines().map(str::to_string).collect();
        lines[lines.len().saturating_sub(LOG_TAIL_LINES)..].to_vec()
    }
}

/// Runs the scenario file at `path` on a fresh single-threaded runtime.
pub fn run_file(path: &Path) -> Result<(), Failure> {
    let scenario = scenario::load(path).map_err(|error| Failure {
        place: Place::File,
        at: Duration::ZERO,
        message: error.to_string(),
        log_tail: Vec::new(),
    })?;
    run(&scenario)
}

/// Runs one scenario with the app core's log captured for the failure report.
pub fn run(scenario: &Scenario) -> Result<(), Failure> {
    let logs = LogBuffer::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(
            "debug,hyper=info,reqwest=info,h2=info",
        ))
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _default = tracing::subscriber::set_default(subscriber);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let result = runtime.block_on(run_steps(scenario, logs.0.clone()));
    result.map_err(|(place, at, message)| Failure {
        place,
        at,
        message,
        log_tail: logs.tail(),
    })
}

type StepError = (Place, Duration, String);

async fn run_steps(scenario: &Scenario, logs: Arc<Mutex<Vec<u8>>>) -> Result<(), StepError> {
    let mut world = World::start(&scenario.config, &scenario.start)
        .await
        .map_err(|error| {
            let message = format!("setup failed: {error:#}");
            (Place::Start, Duration::ZERO, message)
        })?;
    world.set_logs(logs);
    let mut always: Vec<(Place, Expectation)> = scenario
        .start
        .expect_always
        .iter()
        .map(|expectation| (Place::Start, expectation.clone()))
        .collect();
    check_all(&world, &always, "expect_always")
        .map_err(|message| (Place::Start, Duration::ZERO, message))?;

    let mut result = Ok(());
    'steps: for step in &scenario.steps {
        let fail = |message: String| (Place::Step(step.number), step.at, message);
        loop {
            let reached = match world.step_towards(step.at).await {
                Ok(reached) => reached,
                Err(error) => {
                    result = Err(fail(format!("the world failed: {error:#}")));
                    break 'steps;
                }
            };
            if let Err(message) = check_all(&world, &always, "expect_always") {
                result = Err((Place::Step(step.number), world.elapsed(), message));
                break 'steps;
            }
            if reached {
                break;
            }
        }
        for action in &step.actions {
            if let Err(error) = world.act(action).await {
                result = Err(fail(format!("action {action:?} failed: {error:#}")));
                break 'steps;
            }
        }
        world.clock.settle().await;
        always.extend(
            step.expect_always
                .iter()
                .map(|expectation| (Place::Step(step.number), expectation.clone())),
        );
        let expectations: Vec<(Place, Expectation)> = step
            .expect
            .iter()
            .map(|expectation| (Place::Step(step.number), expectation.clone()))
            .collect();
        for (label, list) in [("expect", &expectations), ("expect_always", &always)] {
            if let Err(message) = check_all(&world, list, label) {
                result = Err(fail(message));
                break 'steps;
            }
        }
    }
    world.shut_down().await;
    result
}

fn check_all(
    world: &World,
    expectations: &[(Place, Expectation)],
    label: &str,
) -> Result<(), String> {
    if expectations.is_empty() {
        return Ok(());
    }
    let mut observed = world.observe();
    let wants_secrets = expectations
        .iter()
        .any(|(_, expectation)| *expectation == Expectation::LogsContainNoSecret);
    if wants_secrets {
        // Searching every log line for every token is slow, so only when asked.
        observed.leaked_secrets = world.leaked_secrets();
    }
    for (since, expectation) in expectations {
        if let Err(mismatch) = check(expectation, &observed) {
            return Err(format!("{label} (from {since}) not met: {mismatch}"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_start_is_file_error() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("bad.toml");
        let text = "name = \"x\"\n[start]\nteams = \"Available/Available\"\nswyx = \"Banana\"\n";
        std::fs::write(&path, text).unwrap();

        let failure = run_file(&path).unwrap_err();

        assert_eq!(failure.place, Place::File);
        let report = failure.to_string();
        assert!(
            report.starts_with("file error: invalid [start]: swyx: \"Banana\""),
            "{report}"
        );
        assert!(!report.contains("step"), "{report}");
    }
}
