//! The request log: every request the twin received, who sent it and how it ended.

use std::collections::BTreeMap;

use clock::Instant;
use serde::Serialize;

use crate::faults::Endpoint;

/// The end state of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Outcome {
    /// Still being handled (or delayed).
    Pending,
    /// A response with this HTTP status was sent.
    Answered(u16),
    /// The connection was closed without a response.
    Reset,
    /// The twin sent no response and closed the connection after giving up.
    TimedOut,
}

/// One request as the twin saw it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RequestRecord {
    /// Sequential id, starting at 1.
    pub id: u64,
    /// Which endpoint.
    pub endpoint: Endpoint,
    /// HTTP method.
    pub method: String,
    /// Path and query as received.
    pub path: String,
    /// The sender: `app` unless the token was issued for another actor.
    pub actor: String,
    /// When it arrived, on the twin's clock.
    pub sent: Instant,
    /// When the response went out (or the connection closed).
    pub answered: Option<Instant>,
    /// The end state.
    pub outcome: Outcome,
    /// The injected fault or throttling that shaped the response, if any.
    pub fault: Option<String>,
}

impl RequestRecord {
    /// Returns the HTTP status, when a response was sent.
    pub fn status(&self) -> Option<u16> {
        match self.outcome {
            Outcome::Answered(status) => Some(status),
            _ => None,
        }
    }
}

/// Requests counted per endpoint, per status and per actor.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Counters {
    /// Requests per endpoint name.
    pub by_endpoint: BTreeMap<String, u64>,
    /// Requests per response status, with `reset`, `timeout` and `pending` for the others.
    pub by_status: BTreeMap<String, u64>,
    /// Requests per actor.
    pub by_actor: BTreeMap<String, u64>,
}

/// Every request since the twin started, oldest first.
#[derive(Debug, Default)]
pub struct RequestLog {
    records: Vec<RequestRecord>,
}

impl RequestLog {
    /// Adds a request that just arrived and returns its id.
    pub fn open(
        &mut self,
        endpoint: Endpoint,
        method: &str,
        path: &str,
        actor: &str,
        sent: Instant,
    ) -> u64 {
        let id = self.records.len() as u64 + 1;
        self.records.push(RequestRecord {
            id,
            endpoint,
            method: method.to_string(),
            path: path.to_string(),
            actor: actor.to_string(),
            sent,
            answered: None,
            outcome: Outcome::Pending,
            fault: None,
        });
        id
    }

    /// Changes the actor once the handler has found it (e.g. from a refresh token).
    pub fn set_actor(&mut self, id: u64, actor: &str) {
        if let Some(record) = self.get_mut(id) {
            record.actor = actor.to_string();
        }
    }

    /// Notes the fault that shaped the response.
    pub fn set_fault(&mut self, id: u64, fault: String) {
        if let Some(record) = self.get_mut(id) {
            record.fault = Some(fault);
        }
    }

    /// Closes a request.
    pub fn close(&mut self, id: u64, outcome: Outcome, at: Instant) {
        if let Some(record) = self.get_mut(id) {
            record.outcome = outcome;
            record.answered = Some(at);
        }
    }

    fn get_mut(&mut self, id: u64) -> Option<&mut RequestRecord> {
        let index = usize::try_from(id).ok()?.checked_sub(1)?;
        self.records.get_mut(index)
    }

    /// Returns a copy of every record.
    pub fn records(&self) -> Vec<RequestRecord> {
        self.records.clone()
    }

    /// Counts every record per endpoint, status and actor.
    pub fn counters(&self) -> Counters {
        let mut counters = Counters::default();
        for record in &self.records {
            *counters
                .by_endpoint
                .entry(record.endpoint.as_str().to_string())
                .or_default() += 1;
            let status = match record.outcome {
                Outcome::Answered(status) => status.to_string(),
                Outcome::Reset => "reset".to_string(),
                Outcome::TimedOut => "timeout".to_string(),
                Outcome::Pending => "pending".to_string(),
            };
            *counters.by_status.entry(status).or_default() += 1;
            *counters.by_actor.entry(record.actor.clone()).or_default() += 1;
        }
        counters
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_by_endpoint_status_and_actor() {
        let mut log = RequestLog::default();
        let first = log.open(
            Endpoint::Presence,
            "GET",
            "/v1.0/me/presence",
            "app",
            Instant::ZERO,
        );
        let second = log.open(
            Endpoint::SetPresence,
            "POST",
            "/v1.0/me/presence/setPresence",
            "app",
            Instant::ZERO,
        );
        let third = log.open(
            Endpoint::Presence,
            "GET",
            "/v1.0/me/presence",
            "app",
            Instant::ZERO,
        );
        log.set_actor(third, "peer");
        log.close(first, Outcome::Answered(200), Instant::from_millis(5));
        log.close(second, Outcome::Reset, Instant::from_millis(6));

        let counters = log.counters();
        assert_eq!(counters.by_endpoint.get("presence"), Some(&2));
        assert_eq!(counters.by_endpoint.get("setPresence"), Some(&1));
        assert_eq!(counters.by_status.get("200"), Some(&1));
        assert_eq!(counters.by_status.get("reset"), Some(&1));
        assert_eq!(counters.by_status.get("pending"), Some(&1));
        assert_eq!(counters.by_actor.get("app"), Some(&2));
        assert_eq!(counters.by_actor.get("peer"), Some(&1));

        let records = log.records();
        assert_eq!(records[0].status(), Some(200));
        assert_eq!(records[0].answered, Some(Instant::from_millis(5)));
        assert_eq!(records[1].status(), None);
    }
}
