//! Injected faults and Graph's request budget.

use std::collections::VecDeque;
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use clock::Instant;
use serde::{Deserialize, Serialize};

/// The endpoints the twin distinguishes in its request log and fault rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Endpoint {
    /// `GET /me/presence`.
    Presence,
    /// `POST /me/presence/setPresence`.
    SetPresence,
    /// `POST /me/presence/clearPresence`.
    ClearPresence,
    /// `POST /me/presence/setUserPreferredPresence`.
    SetUserPreferredPresence,
    /// `POST /me/presence/clearUserPreferredPresence`.
    ClearUserPreferredPresence,
    /// `POST /me/presence/setStatusMessage`.
    SetStatusMessage,
    /// `GET /me`.
    Me,
    /// `POST /{tenant}/oauth2/v2.0/token`.
    Token,
    /// `GET /{tenant}/oauth2/v2.0/authorize`.
    Authorize,
    /// `POST /{tenant}/oauth2/v2.0/devicecode`.
    #[serde(rename = "devicecode")]
    DeviceCode,
    /// Any other path; in a fault rule, every endpoint.
    Any,
}

impl Endpoint {
    /// Every endpoint except [`Endpoint::Any`].
    pub const ALL: [Endpoint; 10] = [
        Endpoint::Presence,
        Endpoint::SetPresence,
        Endpoint::ClearPresence,
        Endpoint::SetUserPreferredPresence,
        Endpoint::ClearUserPreferredPresence,
        Endpoint::SetStatusMessage,
        Endpoint::Me,
        Endpoint::Token,
        Endpoint::Authorize,
        Endpoint::DeviceCode,
    ];

    /// Returns the name used in records, faults and the admin API.
    pub fn as_str(self) -> &'static str {
        match self {
            Endpoint::Presence => "presence",
            Endpoint::SetPresence => "setPresence",
            Endpoint::ClearPresence => "clearPresence",
            Endpoint::SetUserPreferredPresence => "setUserPreferredPresence",
            Endpoint::ClearUserPreferredPresence => "clearUserPreferredPresence",
            Endpoint::SetStatusMessage => "setStatusMessage",
            Endpoint::Me => "me",
            Endpoint::Token => "token",
            Endpoint::Authorize => "authorize",
            Endpoint::DeviceCode => "devicecode",
            Endpoint::Any => "any",
        }
    }

    /// Returns whether Graph (not Entra) serves this endpoint, so it counts against the budget.
    pub fn is_graph(self) -> bool {
        !matches!(
            self,
            Endpoint::Token | Endpoint::Authorize | Endpoint::DeviceCode | Endpoint::Any
        )
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The name is not one of the twin's endpoint names.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown endpoint {0:?}; expected presence, setPresence, clearPresence, setUserPreferredPresence, clearUserPreferredPresence, setStatusMessage, me, token, authorize, devicecode or any")]
pub struct UnknownEndpoint(pub String);

impl FromStr for Endpoint {
    type Err = UnknownEndpoint;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Endpoint::ALL
            .into_iter()
            .chain([Endpoint::Any])
            .find(|endpoint| endpoint.as_str().eq_ignore_ascii_case(text))
            .ok_or_else(|| UnknownEndpoint(text.to_string()))
    }
}

/// The effect of an injected fault on a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum FaultKind {
    /// Responds with this status and the service's error body instead of handling the
    /// request. With `retry_after_seconds` a `Retry-After` header is added.
    Status {
        /// HTTP status, e.g. 503 or 429.
        status: u16,
        /// Value of `Retry-After` in seconds.
        #[serde(default)]
        retry_after_seconds: Option<u64>,
    },
    /// Handles the request when it arrives and sends the response this much later.
    Delay {
        /// The delay in milliseconds of clock time.
        millis: u64,
    },
    /// Closes the connection without a response (TCP reset).
    Reset,
    /// Sends no response. The connection closes after [`TIMEOUT_GIVE_UP`] of clock time.
    Timeout,
    /// Handles the request but sends a body that is not valid JSON.
    Malformed,
    /// Responds to `GET /me/presence` with this body verbatim (status 200).
    Body {
        /// The JSON text to send.
        body: String,
    },
    /// Sets the presence sequence number back to its lowest value; takes effect at once.
    ResetSequence,
}

/// How long a request under [`FaultKind::Timeout`] stays unanswered before the twin closes it.
pub const TIMEOUT_GIVE_UP: Duration = Duration::from_secs(60);

/// One fault rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fault {
    /// The endpoint it applies to; [`Endpoint::Any`] matches every endpoint.
    pub endpoint: Endpoint,
    /// The effect.
    #[serde(flatten)]
    pub kind: FaultKind,
    /// How many requests it affects; `None` = until the faults are cleared.
    #[serde(default)]
    pub count: Option<u32>,
}

impl Fault {
    /// Creates a fault for the next `count` requests to `endpoint`.
    pub fn new(endpoint: Endpoint, kind: FaultKind, count: u32) -> Self {
        Self {
            endpoint,
            kind,
            count: Some(count),
        }
    }

    /// Creates a fault for every request to `endpoint` until the faults are cleared.
    pub fn until_cleared(endpoint: Endpoint, kind: FaultKind) -> Self {
        Self {
            endpoint,
            kind,
            count: None,
        }
    }
}

/// Pending fault rules, applied first-in first-out.
#[derive(Debug, Default)]
pub struct FaultQueue {
    rules: VecDeque<Fault>,
}

impl FaultQueue {
    /// Adds a rule behind the others.
    pub fn push(&mut self, fault: Fault) {
        self.rules.push_back(fault);
    }

    /// Removes every rule.
    pub fn clear(&mut self) {
        self.rules.clear();
    }

    /// Returns the rules still pending.
    pub fn pending(&self) -> Vec<Fault> {
        self.rules.iter().cloned().collect()
    }

    /// Takes the fault for one request to `endpoint`, using up one of its count.
    pub fn take(&mut self, endpoint: Endpoint) -> Option<FaultKind> {
        let index = self
            .rules
            .iter()
            .position(|rule| rule.endpoint == endpoint || rule.endpoint == Endpoint::Any)?;
        let rule = &mut self.rules[index];
        let kind = rule.kind.clone();
        match rule.count {
            Some(count) if count <= 1 => {
                self.rules.remove(index);
            }
            Some(ref mut count) => *count -= 1,
            None => {}
        }
        Some(kind)
    }
}

/// A token bucket: `limit` requests per `window`, refilled continuously.
#[derive(Debug, Clone)]
pub struct TokenBucket {
    limit: u32,
    window: Duration,
    tokens: f64,
    updated: Instant,
}

impl TokenBucket {
    /// Creates a full bucket.
    pub fn new(limit: u32, window: Duration, now: Instant) -> Self {
        Self {
            limit,
            window,
            tokens: f64::from(limit),
            updated: now,
        }
    }

    /// Takes one token, or returns how long until one is available.
    pub fn try_take(&mut self, now: Instant) -> Result<(), Duration> {
        let limit = f64::from(self.limit);
        let window = self.window.as_secs_f64().max(f64::MIN_POSITIVE);
        let elapsed = (now - self.updated).as_secs_f64();
        self.tokens = (self.tokens + elapsed * limit / window).min(limit);
        self.updated = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            return Ok(());
        }
        let missing = 1.0 - self.tokens;
        Err(Duration::from_secs_f64(missing * window / limit.max(1.0)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_names_round_trip() {
        for endpoint in Endpoint::ALL.into_iter().chain([Endpoint::Any]) {
            assert_eq!(endpoint.as_str().parse::<Endpoint>(), Ok(endpoint));
            let json = serde_json::to_string(&endpoint).unwrap();
            assert_eq!(json, format!("\"{}\"", endpoint.as_str()));
        }
        assert!("presense".parse::<Endpoint>().is_err());
    }

    #[test]
    fn only_graph_endpoints_count_against_budget() {
        let graph: Vec<Endpoint> = Endpoint::ALL.into_iter().filter(|e| e.is_graph()).collect();
        assert!(graph.contains(&Endpoint::Presence));
        assert!(graph.contains(&Endpoint::SetPresence));
        assert!(graph.contains(&Endpoint::Me));
        for entra in [
            Endpoint::Token,
            Endpoint::Authorize,
            Endpoint::DeviceCode,
            Endpoint::Any,
        ] {
            assert!(!entra.is_graph(), "{entra}");
        }
    }

    #[test]
    fn endpoint_displays_its_name() {
        assert_eq!(Endpoint::SetPresence.to_string(), "setPresence");
        assert_eq!(Endpoint::DeviceCode.to_string(), "devicecode");
    }

    #[test]
    fn faults_apply_in_order_and_count_down() {
        let mut queue = FaultQueue::default();
        queue.push(Fault::new(Endpoint::Presence, FaultKind::Reset, 2));
        queue.push(Fault::new(Endpoint::Any, FaultKind::Malformed, 1));
        assert_eq!(
            queue.take(Endpoint::SetPresence),
            Some(FaultKind::Malformed)
        );
        assert_eq!(queue.take(Endpoint::SetPresence), None);
        assert_eq!(queue.take(Endpoint::Presence), Some(FaultKind::Reset));
        assert_eq!(queue.take(Endpoint::Presence), Some(FaultKind::Reset));
        assert_eq!(queue.take(Endpoint::Presence), None);
    }

    #[test]
    fn fault_without_count_lasts_until_cleared() {
        let mut queue = FaultQueue::default();
        queue.push(Fault::until_cleared(Endpoint::Token, FaultKind::Timeout));
        for _ in 0..5 {
            assert_eq!(queue.take(Endpoint::Token), Some(FaultKind::Timeout));
        }
        queue.clear();
        assert_eq!(queue.take(Endpoint::Token), None);
    }

    #[test]
    fn fault_json_shape() {
        let fault: Fault = serde_json::from_str(
            r#"{"endpoint":"setPresence","kind":"status","status":429,"retry_after_seconds":7,"count":2}"#,
        )
        .unwrap();
        assert_eq!(
            fault,
            Fault::new(
                Endpoint::SetPresence,
                FaultKind::Status {
                    status: 429,
                    retry_after_seconds: Some(7)
                },
                2
            )
        );
    }

    #[test]
    fn bucket_limits_and_refills() {
        let start = Instant::ZERO;
        let mut bucket = TokenBucket::new(3, Duration::from_secs(30), start);
        for _ in 0..3 {
            assert_eq!(bucket.try_take(start), Ok(()));
        }
        assert_eq!(bucket.try_take(start), Err(Duration::from_secs(10)));
        // Half a token has come back after 5 s, so the wait is the other half.
        assert_eq!(
            bucket.try_take(start + Duration::from_secs(5)),
            Err(Duration::from_secs(5))
        );
        assert!(bucket.try_take(start + Duration::from_secs(9)).is_err());
        assert_eq!(bucket.try_take(start + Duration::from_secs(10)), Ok(()));
        assert!(bucket.try_take(start + Duration::from_secs(10)).is_err());
        // A long pause refills to the limit, not beyond.
        let later = start + Duration::from_secs(3_600);
        for _ in 0..3 {
            assert_eq!(bucket.try_take(later), Ok(()));
        }
        assert!(bucket.try_take(later).is_err());
    }
}
