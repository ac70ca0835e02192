//! The scenario file format: a starting state, timed actions and timed expectations.
//!
//! The format is documented in the scenario folder's README. This module turns one file into a
//! [`Scenario`] and rejects anything it does not understand, so a typo fails loudly instead of
//! checking nothing.

use std::fmt;
use std::path::Path;
use std::time::Duration;

use engine::SwyxSettable;
use toml::Value;

/// One parsed scenario file.
#[derive(Debug, Clone)]
pub struct Scenario {
    pub name: String,
    pub why: String,
    pub config: RunConfig,
    pub start: Start,
    pub steps: Vec<Step>,
}

/// App settings for the run.
#[derive(Debug, Clone)]
pub struct RunConfig {
    pub poll_interval: Duration,
    pub speaking_substitute: String,
}

/// The state before t = 0.
#[derive(Debug, Clone)]
pub struct Start {
    pub teams: (String, String),
    pub teams_preferred: Option<(String, String)>,
    pub teams_out_of_office: bool,
    pub swyx: String,
    pub app_running: bool,
    pub signed_in: bool,
    pub expect_always: Vec<Expectation>,
}

/// The actions and expectations at one instant.
#[derive(Debug, Clone)]
pub struct Step {
    /// Position in the file, from 1, for messages.
    pub number: usize,
    pub at: Duration,
    pub actions: Vec<String>,
    pub expect: Vec<Expectation>,
    pub expect_always: Vec<Expectation>,
}

/// A count that must match exactly or stay at or below a maximum.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Count {
    Exactly(u64),
    AtMost(u64),
}

impl Count {
    /// Whether `observed` satisfies the count.
    pub fn accepts(self, observed: u64) -> bool {
        match self {
            Count::Exactly(expected) => observed == expected,
            Count::AtMost(maximum) => observed <= maximum,
        }
    }
}

impl fmt::Display for Count {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Count::Exactly(expected) => write!(f, "{expected}"),
            Count::AtMost(maximum) => write!(f, "at most {maximum}"),
        }
    }
}

/// What the override state must be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OverrideExpectation {
    Shown(bool),
    Contains(String),
}

/// One checked fact.
#[derive(Debug, Clone, PartialEq)]
pub enum Expectation {
    Teams(String),
    Swyx(String),
    AppSession(bool),
    Override(OverrideExpectation),
    HealthGraph(String),
    HealthSwyx(String),
    SwyxWrites(Count),
    /// Acknowledged writes per endpoint (`setPresence`, `clearPresence`); `None` as the
    /// endpoint means both together.
    GraphWrites(Vec<(Option<String>, Count)>),
    GraphRequests(Count),
    Notification(String),
    Notifications(Count),
    Warning(String),
    LastLatency {
        direction: String,
        max: Duration,
    },
    LogsContainNoSecret,
    /// Requests received per endpoint since t = 0, or with `since` only those sent after it.
    GraphCalls {
        since: Option<Duration>,
        counts: Vec<(String, Count)>,
    },
}

/// A problem in a scenario file.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct FormatError(String);

fn problem(message: impl Into<String>) -> FormatError {
    FormatError(message.into())
}

impl FormatError {
    /// Names the key whose value is invalid.
    fn for_key(self, key: &str) -> FormatError {
        FormatError(format!("{key}: {}", self.0))
    }

    /// Names the section of the file the problem is in, such as `[start]` or `step 2`.
    fn in_section(self, section: &str) -> FormatError {
        FormatError(format!("invalid {section}: {}", self.0))
    }
}

/// Reads and parses one scenario file.
pub fn load(path: &Path) -> Result<Scenario, FormatError> {
    let text = std::fs::read_to_string(path)
        .map_err(|error| problem(format!("cannot read {}: {error}", path.display())))?;
    parse(&text)
}

/// Parses the text of one scenario file.
pub fn parse(text: &str) -> Result<Scenario, FormatError> {
    let root: toml::Table = text
        .parse()
        .map_err(|error| problem(format!("invalid TOML: {error}")))?;
    check_keys(&root, &["name", "why", "config", "start", "step"])
        .map_err(|error| problem(format!("{error} at the top level")))?;
    let name = string(root.get("name"), "name")?;
    let why = root
        .get("why")
        .map(|value| string(Some(value), "why"))
        .transpose()?
        .unwrap_or_default();
    let config = parse_config(root.get("config")).map_err(|error| error.in_section("[config]"))?;
    let start = parse_start(root.get("start")).map_err(|error| error.in_section("[start]"))?;
    let mut steps = Vec::new();
    if let Some(list) = root.get("step") {
        let list = list
            .as_array()
            .ok_or_else(|| problem("step must be an array of tables"))?;
        for (index, step) in list.iter().enumerate() {
            let number = index + 1;
            let step = parse_step(number, step)
                .map_err(|error| error.in_section(&format!("step {number}")))?;
            steps.push(step);
        }
    }
    steps.sort_by_key(|step| step.at);
    Ok(Scenario {
        name,
        why,
        config,
        start,
        steps,
    })
}

fn check_keys(table: &toml::Table, allowed: &[&str]) -> Result<(), FormatError> {
    match table.keys().find(|key| !allowed.contains(&key.as_str())) {
        Some(unknown) => Err(problem(format!("unknown key {unknown:?}"))),
        None => Ok(()),
    }
}

fn string(value: Option<&Value>, key: &str) -> Result<String, FormatError> {
    value
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| problem(format!("{key} must be a string")))
}

fn boolean(value: &Value, key: &str) -> Result<bool, FormatError> {
    value
        .as_bool()
        .ok_or_else(|| problem(format!("{key} must be true or false")))
}

fn parse_config(value: Option<&Value>) -> Result<RunConfig, FormatError> {
    let mut config = RunConfig {
        poll_interval: Duration::from_secs(2),
        speaking_substitute: "Away".into(),
    };
    let Some(value) = value else {
        return Ok(config);
    };
    let table = value.as_table().ok_or_else(|| problem("not a table"))?;
    check_keys(table, &["poll_interval", "speaking_substitute"])?;
    if let Some(interval) = table.get("poll_interval") {
        config.poll_interval = parse_duration(&string(Some(interval), "poll_interval")?)
            .map_err(|error| error.for_key("poll_interval"))?;
    }
    if let Some(substitute) = table.get("speaking_substitute") {
        let substitute = string(Some(substitute), "speaking_substitute")?;
        parse_settable(&substitute).map_err(|error| error.for_key("speaking_substitute"))?;
        config.speaking_substitute = substitute;
    }
    Ok(config)
}

fn parse_start(value: Option<&Value>) -> Result<Start, FormatError> {
    let table = value
        .ok_or_else(|| problem("the section is missing"))?
        .as_table()
        .ok_or_else(|| problem("not a table"))?;
    check_keys(
        table,
        &[
            "teams",
            "teams_preferred",
            "teams_out_of_office",
            "swyx",
            "app_running",
            "signed_in",
            "expect_always",
        ],
    )?;
    let teams = parse_pair(&string(table.get("teams"), "teams")?)
        .map_err(|error| error.for_key("teams"))?;
    let teams_preferred = table
        .get("teams_preferred")
        .map(|value| string(Some(value), "teams_preferred").and_then(|text| parse_pair(&text)))
        .transpose()
        .map_err(|error| error.for_key("teams_preferred"))?;
    let swyx = string(table.get("swyx"), "swyx")?;
    parse_settable(&swyx).map_err(|error| error.for_key("swyx"))?;
    let flag = |key: &str, default: bool| {
        table
            .get(key)
            .map_or(Ok(default), |value| boolean(value, key))
    };
    Ok(Start {
        teams,
        teams_preferred,
        teams_out_of_office: flag("teams_out_of_office", false)?,
        swyx,
        app_running: flag("app_running", true)?,
        signed_in: flag("signed_in", true)?,
        expect_always: table
            .get("expect_always")
            .map(parse_expectations)
            .transpose()?
            .unwrap_or_default(),
    })
}

fn parse_step(number: usize, value: &Value) -> Result<Step, FormatError> {
    let table = value.as_table().ok_or_else(|| problem("not a table"))?;
    check_keys(table, &["at", "do", "expect", "expect_always"])?;
    let at =
        parse_duration(&string(table.get("at"), "at")?).map_err(|error| error.for_key("at"))?;
    let actions = match table.get("do") {
        None => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| string(Some(item), "an action in do"))
            .collect::<Result<_, _>>()?,
        Some(_) => return Err(problem("do must be a list of strings")),
    };
    let expectations = |key| {
        table
            .get(key)
            .map(parse_expectations)
            .transpose()
            .map(Option::unwrap_or_default)
    };
    Ok(Step {
        number,
        at,
        actions,
        expect: expectations("expect")?,
        expect_always: expectations("expect_always")?,
    })
}

/// Parses a Swyx status the app can set: `Available`, `Away` or `DoNotDisturb`, in any case.
pub fn parse_settable(text: &str) -> Result<SwyxSettable, FormatError> {
    Ok(match text.to_ascii_lowercase().as_str() {
        "available" => SwyxSettable::Available,
        "away" => SwyxSettable::Away,
        "donotdisturb" => SwyxSettable::DoNotDisturb,
        _ => {
            return Err(problem(format!(
                "{text:?} is not Available, Away or DoNotDisturb"
            )))
        }
    })
}

/// Parses `Availability/Activity`.
pub fn parse_pair(text: &str) -> Result<(String, String), FormatError> {
    let (availability, activity) = text
        .split_once('/')
        .ok_or_else(|| problem(format!("{text:?} is not Availability/Activity")))?;
    Ok((availability.trim().to_string(), activity.trim().to_string()))
}

/// Parses a duration such as `500ms`, `2m30s` or `4m30s500ms`.
pub fn parse_duration(text: &str) -> Result<Duration, FormatError> {
    let invalid = || {
        problem(format!(
            "invalid duration {text:?}; use e.g. 500ms, 2s, 1m30s, 1h"
        ))
    };
    let mut total = Duration::ZERO;
    let mut rest = text.trim();
    if rest.is_empty() {
        return Err(invalid());
    }
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(invalid)?;
        let number: f64 = rest[..digits].parse().map_err(|_| invalid())?;
        rest = &rest[digits..];
        let unit_length = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let seconds_per_unit = match &rest[..unit_length] {
            "ms" => 0.001,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return Err(invalid()),
        };
        total += Duration::from_secs_f64(number * seconds_per_unit);
        rest = &rest[unit_length..];
    }
    Ok(total)
}

fn parse_count(value: &Value, key: &str) -> Result<Count, FormatError> {
    if let Some(number) = value.as_integer() {
        return u64::try_from(number)
            .map(Count::Exactly)
            .map_err(|_| problem(format!("{key} must not be negative")));
    }
    let table = value
        .as_table()
        .ok_or_else(|| problem(format!("{key} must be a number or {{ max = n }}")))?;
    check_keys(table, &["max"]).map_err(|error| error.for_key(key))?;
    let maximum = table
        .get("max")
        .and_then(Value::as_integer)
        .ok_or_else(|| problem(format!("{key}.max must be a number")))?;
    u64::try_from(maximum)
        .map(Count::AtMost)
        .map_err(|_| problem(format!("{key}.max must not be negative")))
}

fn parse_expectations(value: &Value) -> Result<Vec<Expectation>, FormatError> {
    let table = value
        .as_table()
        .ok_or_else(|| problem("an expectation must be an inline table"))?;
    let mut expectations = Vec::new();
    for (key, value) in table {
        expectations.push(parse_expectation(key, value)?);
    }
    Ok(expectations)
}

fn parse_expectation(key: &str, value: &Value) -> Result<Expectation, FormatError> {
    let text = || string(Some(value), key);
    Ok(match key {
        "teams" => Expectation::Teams(text()?),
        "swyx" => Expectation::Swyx(text()?),
        "app_session" => Expectation::AppSession(boolean(value, key)?),
        "override" => Expectation::Override(match value {
            Value::Boolean(shown) => OverrideExpectation::Shown(*shown),
            Value::String(fragment) => OverrideExpectation::Contains(fragment.clone()),
            _ => return Err(problem("override must be true, false or a text fragment")),
        }),
        "health_graph" => Expectation::HealthGraph(text()?),
        "health_swyx" => Expectation::HealthSwyx(text()?),
        "swyx_writes" => Expectation::SwyxWrites(parse_count(value, key)?),
        "graph_writes" => Expectation::GraphWrites(match value.as_table() {
            Some(table) if !table.contains_key("max") => table
                .iter()
                .map(|(endpoint, count)| {
                    Ok((Some(endpoint.clone()), parse_count(count, endpoint)?))
                })
                .collect::<Result<_, FormatError>>()?,
            _ => vec![(None, parse_count(value, key)?)],
        }),
        "graph_requests" => Expectation::GraphRequests(parse_count(value, key)?),
        "notification" => Expectation::Notification(text()?),
        "notifications" => Expectation::Notifications(parse_count(value, key)?),
        "warning" => Expectation::Warning(text()?),
        "last_latency" => {
            let table = value
                .as_table()
                .ok_or_else(|| problem("last_latency must be a table"))?;
            check_keys(table, &["direction", "max"]).map_err(|error| error.for_key(key))?;
            Expectation::LastLatency {
                direction: string(table.get("direction"), "last_latency.direction")?,
                max: parse_duration(&string(table.get("max"), "last_latency.max")?)?,
            }
        }
        "logs_contain_no_secret" => {
            if !boolean(value, key)? {
                return Err(problem(
                    "logs_contain_no_secret = false checks nothing; leave it out",
                ));
            }
            Expectation::LogsContainNoSecret
        }
        "graph_calls" => {
            let table = value
                .as_table()
                .ok_or_else(|| problem("graph_calls must be a table"))?;
            let mut since = None;
            let mut counts = Vec::new();
            for (name, count) in table {
                if name == "since" {
                    since = Some(parse_duration(&string(Some(count), "graph_calls.since")?)?);
                } else {
                    counts.push((name.clone(), parse_count(count, name)?));
                }
            }
            Expectation::GraphCalls { since, counts }
        }
        other => return Err(problem(format!("unknown expectation {other:?}"))),
    })
}

/// Every `*.toml` file in `folder`, sorted by name.
pub fn files_in(folder: &Path) -> std::io::Result<Vec<std::path::PathBuf>> {
    let mut files: Vec<_> = std::fs::read_dir(folder)?
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| {
            path.extension()
                .is_some_and(|extension| extension == "toml")
        })
        .collect();
    files.sort();
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse() {
        let cases = [
            ("0s", 0),
            ("500ms", 500),
            ("2s", 2_000),
            ("2m30s", 150_000),
            ("4m30s500ms", 270_500),
            ("1h", 3_600_000),
            ("1m40s", 100_000),
        ];
        for (text, millis) in cases {
            assert_eq!(
                parse_duration(text).unwrap(),
                Duration::from_millis(millis),
                "{text}"
            );
        }
    }

    #[test]
    fn bad_durations_are_rejected() {
        for text in ["", "5", "2x", "m5"] {
            assert!(parse_duration(text).is_err(), "{text:?} was accepted");
        }
    }

    #[test]
    fn unknown_expectation_is_rejected() {
        let text = r#"
            name = "x"
            [start]
            teams = "Available/Available"
            swyx = "Available"
            [[step]]
            at = "1s"
            expect = { tems = "Busy/Busy" }
        "#;
        let error = parse(text).unwrap_err().to_string();
        assert!(error.contains("tems"), "{error}");
    }

    #[test]
    fn bad_start_names_section() {
        let cases = [
            (
                "teams = \"Available/Available\"\nswyx = \"Banana\"",
                "invalid [start]: swyx: ",
            ),
            (
                "teams = \"Available\"\nswyx = \"Away\"",
                "invalid [start]: teams: ",
            ),
            (
                "teams = \"Available/Available\"",
                "invalid [start]: swyx must be a string",
            ),
            (
                "tems = \"Available/Available\"",
                "invalid [start]: unknown key \"tems\"",
            ),
        ];
        for (start, expected) in cases {
            let text = format!("name = \"x\"\n[start]\n{start}\n");
            let error = parse(&text).unwrap_err().to_string();
            assert!(error.starts_with(expected), "{start:?} gave {error:?}");
        }
        let error = parse("name = \"x\"\n").unwrap_err().to_string();
        assert_eq!(error, "invalid [start]: the section is missing");
    }

    #[test]
    fn bad_step_and_config_name_section() {
        let text = r#"
            name = "x"
            [config]
            speaking_substitute = "Busy"
            [start]
            teams = "Available/Available"
            swyx = "Available"
        "#;
        let error = parse(text).unwrap_err().to_string();
        assert!(
            error.starts_with("invalid [config]: speaking_substitute: "),
            "{error}"
        );

        let text = r#"
            name = "x"
            [start]
            teams = "Available/Available"
            swyx = "Available"
            [[step]]
            at = "1s"
            [[step]]
            at = "2x"
        "#;
        let error = parse(text).unwrap_err().to_string();
        assert!(
            error.starts_with("invalid step 2: at: invalid duration"),
            "{error}"
        );
    }

    #[test]
    fn graph_writes_forms_parse() {
        let text = r#"
            name = "x"
            [start]
            teams = "Available/Available"
            swyx = "Available"
            [[step]]
            at = "1s"
            expect = { graph_writes = { setPresence = 1, clearPresence = { max = 2 } } }
            [[step]]
            at = "2s"
            expect = { graph_writes = { max = 3 } }
        "#;
        let scenario = parse(text).unwrap();
        assert_eq!(
            scenario.steps[0].expect,
            vec![Expectation::GraphWrites(vec![
                (Some("clearPresence".into()), Count::AtMost(2)),
                (Some("setPresence".into()), Count::Exactly(1)),
            ])]
        );
        assert_eq!(
            scenario.steps[1].expect,
            vec![Expectation::GraphWrites(vec![(None, Count::AtMost(3))])]
        );
    }
}
