//! What the runner observes of the world at one instant, and the check of one expectation.

use std::time::Duration;

use crate::scenario::{Count, Expectation, OverrideExpectation};

/// One Graph or Entra request the twin received from the app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestSeen {
    /// `presence`, `setPresence`, `clearPresence`, `token`, `me`, …
    pub endpoint: String,
    /// Scenario time when the twin received it.
    pub at: Duration,
    /// The HTTP status answered, `None` when the request was never answered.
    pub status: Option<u16>,
}

/// The state of the world the expectations are checked against.
#[derive(Debug, Clone, Default)]
pub struct Observed {
    /// Graph's aggregated presence as `Availability/Activity`.
    pub teams: String,
    /// The simulator's settable status.
    pub swyx: String,
    pub app_session: bool,
    pub override_text: Option<String>,
    pub health_graph: String,
    pub health_swyx: String,
    /// App writes to SwyxIt! since t = 0.
    pub swyx_writes: u64,
    /// App requests to the twin since t = 0.
    pub requests: Vec<RequestSeen>,
    /// Notifications since t = 0, per kind (`sign-in`, `swyx-gone`, `conflict`).
    pub notifications: Vec<(String, u64)>,
    /// Warnings shown now (`conflict`, `shared-writer`).
    pub warnings: Vec<String>,
    pub last_latency_teams_to_swyx: Option<Duration>,
    pub last_latency_swyx_to_teams: Option<Duration>,
    /// Issued secrets found in the app's log output or files.
    pub leaked_secrets: Vec<String>,
}

impl Observed {
    fn acknowledged_writes(&self, endpoint: &str) -> u64 {
        let acknowledged = |request: &&RequestSeen| match request.status {
            Some(status) if (200..300).contains(&status) => true,
            Some(404) => endpoint == "clearPresence",
            _ => false,
        };
        self.requests
            .iter()
            .filter(|request| request.endpoint == endpoint)
            .filter(acknowledged)
            .count() as u64
    }

    /// Requests to `endpoint` since t = 0, or sent after `since` (strictly: one sent at that
    /// instant belongs to what came before).
    fn calls_since(&self, endpoint: &str, since: Option<Duration>) -> u64 {
        let counted = |request: &&RequestSeen| since.is_none_or(|since| request.at > since);
        self.requests
            .iter()
            .filter(|request| request.endpoint == endpoint)
            .filter(counted)
            .count() as u64
    }
}

fn compare_count(what: &str, count: Count, observed: u64) -> Result<(), String> {
    if count.accepts(observed) {
        Ok(())
    } else {
        Err(format!("{what}: expected {count}, observed {observed}"))
    }
}

fn compare_text(what: &str, expected: &str, observed: &str) -> Result<(), String> {
    if expected.eq_ignore_ascii_case(observed) {
        Ok(())
    } else {
        Err(format!(
            "{what}: expected {expected:?}, observed {observed:?}"
        ))
    }
}

/// Checks one expectation; the error names what was expected and what was observed.
pub fn check(expectation: &Expectation, observed: &Observed) -> Result<(), String> {
    match expectation {
        Expectation::Teams(expected) => compare_text("teams", expected, &observed.teams),
        Expectation::Swyx(expected) => compare_text("swyx", expected, &observed.swyx),
        Expectation::AppSession(expected) => {
            if *expected == observed.app_session {
                Ok(())
            } else {
                Err(format!(
                    "app_session: expected {expected}, observed {}",
                    observed.app_session
                ))
            }
        }
        Expectation::Override(expected) => {
            check_override(expected, observed.override_text.as_deref())
        }
        Expectation::HealthGraph(expected) => {
            compare_text("health_graph", expected, &observed.health_graph)
        }
        Expectation::HealthSwyx(expected) => {
            compare_text("health_swyx", expected, &observed.health_swyx)
        }
        Expectation::SwyxWrites(count) => {
            compare_count("swyx_writes", *count, observed.swyx_writes)
        }
        Expectation::GraphWrites(counts) => {
            for (endpoint, count) in counts {
                match endpoint {
                    Some(endpoint) => compare_count(
                        &format!("graph_writes.{endpoint}"),
                        *count,
                        observed.acknowledged_writes(endpoint),
                    )?,
                    None => compare_count(
                        "graph_writes",
                        *count,
                        observed.acknowledged_writes("setPresence")
                            + observed.acknowledged_writes("clearPresence"),
                    )?,
                }
            }
            Ok(())
        }
        Expectation::GraphRequests(count) => {
            compare_count("graph_requests", *count, observed.requests.len() as u64)
        }
        Expectation::Notification(kind) => {
            let raised = observed
                .notifications
                .iter()
                .any(|(name, count)| name == kind && *count > 0);
            if raised {
                Ok(())
            } else {
                Err(format!(
                    "notification: expected {kind:?} raised, observed {:?}",
                    observed.notifications
                ))
            }
        }
        Expectation::Notifications(count) => compare_count(
            "notifications",
            *count,
            observed.notifications.iter().map(|(_, count)| count).sum(),
        ),
        Expectation::Warning(kind) => {
            if observed.warnings.iter().any(|warning| warning == kind) {
                Ok(())
            } else {
                Err(format!(
                    "warning: expected {kind:?}, observed {:?}",
                    observed.warnings
                ))
            }
        }
        Expectation::LastLatency { direction, max } => {
            let latency = match direction.as_str() {
                "teams-to-swyx" => observed.last_latency_teams_to_swyx,
                "swyx-to-teams" => observed.last_latency_swyx_to_teams,
                other => return Err(format!("last_latency: unknown direction {other:?}")),
            };
            match latency {
                Some(latency) if latency <= *max => Ok(()),
                Some(latency) => Err(format!(
                    "last_latency {direction}: expected at most {max:?}, observed {latency:?}"
                )),
                None => Err(format!(
                    "last_latency {direction}: expected at most {max:?}, observed none"
                )),
            }
        }
        Expectation::LogsContainNoSecret => {
            if observed.leaked_secrets.is_empty() {
                Ok(())
            } else {
                Err(format!(
                    "logs_contain_no_secret: {} issued secrets found in logs or files",
                    observed.leaked_secrets.len()
                ))
            }
        }
        Expectation::GraphCalls { since, counts } => {
            for (endpoint, count) in counts {
                let what = match since {
                    Some(since) => format!("graph_calls.{endpoint} since {since:?}"),
                    None => format!("graph_calls.{endpoint}"),
                };
                compare_count(&what, *count, observed.calls_since(endpoint, *since))?;
            }
            Ok(())
        }
    }
}

fn check_override(expected: &OverrideExpectation, shown: Option<&str>) -> Result<(), String> {
    match (expected, shown) {
        (OverrideExpectation::Shown(false), None) | (OverrideExpectation::Shown(true), Some(_)) => {
            Ok(())
        }
        (OverrideExpectation::Contains(fragment), Some(text))
            if text.contains(fragment.as_str()) =>
        {
            Ok(())
        }
        _ => Err(format!(
            "override: expected {expected:?}, observed {shown:?}"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(endpoint: &str, at_secs: u64, status: Option<u16>) -> RequestSeen {
        RequestSeen {
            endpoint: endpoint.into(),
            at: Duration::from_secs(at_secs),
            status,
        }
    }

    #[test]
    fn writes_count_acknowledged_only() {
        let observed = Observed {
            requests: vec![
                request("setPresence", 1, Some(200)),
                request("setPresence", 2, Some(503)),
                request("clearPresence", 3, Some(404)),
                request("setPresence", 4, None),
            ],
            ..Observed::default()
        };
        let expect = |endpoint: &str, count| {
            Expectation::GraphWrites(vec![(Some(endpoint.into()), Count::Exactly(count))])
        };
        assert_eq!(check(&expect("setPresence", 1), &observed), Ok(()));
        assert_eq!(check(&expect("clearPresence", 1), &observed), Ok(()));
        assert!(check(&expect("setPresence", 2), &observed).is_err());
    }

    #[test]
    fn calls_count_every_attempt_since() {
        let observed = Observed {
            requests: vec![
                request("presence", 5, Some(200)),
                request("presence", 12, None),
                request("presence", 14, Some(503)),
            ],
            ..Observed::default()
        };
        let calls = |since: u64, count| Expectation::GraphCalls {
            since: Some(Duration::from_secs(since)),
            counts: vec![("presence".into(), count)],
        };
        assert_eq!(check(&calls(10, Count::Exactly(2)), &observed), Ok(()));
        assert_eq!(check(&calls(0, Count::AtMost(3)), &observed), Ok(()));
        assert!(check(&calls(0, Count::AtMost(2)), &observed).is_err());
        // A request sent at the `since` instant itself belongs to what came before.
        assert_eq!(check(&calls(5, Count::Exactly(2)), &observed), Ok(()));
        let all = Expectation::GraphCalls {
            since: None,
            counts: vec![("presence".into(), Count::Exactly(3))],
        };
        assert_eq!(check(&all, &observed), Ok(()));
    }

    #[test]
    fn override_fragment_must_appear() {
        let text = "Teams shows 'Do not disturb' instead of 'In a call'";
        let shown = Observed {
            override_text: Some(text.into()),
            ..Observed::default()
        };
        let hidden = Observed::default();
        let fragment =
            Expectation::Override(OverrideExpectation::Contains("Do not disturb".into()));
        assert_eq!(check(&fragment, &shown), Ok(()));
        assert!(check(&fragment, &hidden).is_err());
        assert!(check(
            &Expectation::Override(OverrideExpectation::Shown(false)),
            &shown
        )
        .is_err());
        assert_eq!(
            check(
                &Expectation::Override(OverrideExpectation::Shown(false)),
                &hidden
            ),
            Ok(())
        );
    }
}
