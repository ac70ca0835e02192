//! The presence model: sessions, the user's preferred presence, out of office and the
//! aggregation rules Graph documents for them.
//!
//! Graph keeps one presence session per signed-in Teams client and one per application that
//! calls `setPresence`, and shows an aggregate (Microsoft Learn, "Manage presence state using
//! the Microsoft Graph API", and the `setPresence` and `setUserPreferredPresence` pages):
//!
//! - the user's preferred presence beats every session, but only while at least one session
//!   exists; with no session the user is `Offline/Offline`;
//! - among sessions `DoNotDisturb` > `Busy` > `Available` > `Away`;
//! - an application session lives for its `expirationDuration` (5 minutes to 4 hours);
//! - an `Available` application session fades to `Available/AvailableInactive` after 5 minutes
//!   and to `Away/Away` after 10 minutes unless it is posted again.
//!
//! Time enters every method as an [`Instant`], so the model never reads a clock and expiry and
//! fading are computed when someone looks.

use std::collections::BTreeMap;
use std::time::Duration;

use clock::Instant;

/// Shortest `expirationDuration` `setPresence` accepts.
pub const MIN_SESSION_DURATION: Duration = Duration::from_secs(5 * 60);
/// Longest `expirationDuration` `setPresence` accepts.
pub const MAX_SESSION_DURATION: Duration = Duration::from_secs(4 * 60 * 60);
/// `expirationDuration` of `setPresence` when the request leaves it out.
pub const DEFAULT_SESSION_DURATION: Duration = MIN_SESSION_DURATION;
/// Age at which an `Available` application session shows `AvailableInactive`.
pub const INACTIVE_AFTER: Duration = Duration::from_secs(5 * 60);
/// Age at which an `Available` application session shows `Away`.
pub const AWAY_AFTER: Duration = Duration::from_secs(10 * 60);

/// Pairs `setPresence` accepts, as (availability, activity).
pub const APP_SESSION_PAIRS: &[(&str, &str)] = &[
    ("Available", "Available"),
    ("Busy", "InACall"),
    ("Busy", "InAConferenceCall"),
    ("Away", "Away"),
    ("DoNotDisturb", "Presenting"),
];

/// Pairs `setUserPreferredPresence` accepts, as (availability, activity).
pub const PREFERRED_PAIRS: &[(&str, &str)] = &[
    ("Available", "Available"),
    ("Busy", "Busy"),
    ("DoNotDisturb", "DoNotDisturb"),
    ("BeRightBack", "BeRightBack"),
    ("Away", "Away"),
    ("Offline", "OffWork"),
];

/// Returns whether `setPresence` accepts this pair. Graph compares the names exactly.
pub fn app_session_pair_allowed(availability: &str, activity: &str) -> bool {
    APP_SESSION_PAIRS.contains(&(availability, activity))
}

/// Returns whether `setUserPreferredPresence` accepts this pair.
pub fn preferred_pair_allowed(availability: &str, activity: &str) -> bool {
    PREFERRED_PAIRS.contains(&(availability, activity))
}

/// Returns how long a preferred presence lasts when the request sets no
/// `expirationDuration`: one day for `Busy` and `DoNotDisturb`, seven days for everything
/// else, as Teams does for a manually chosen status.
pub fn default_preferred_duration(availability: &str) -> Duration {
    const DAY: Duration = Duration::from_secs(24 * 60 * 60);
    match availability {
        "Busy" | "DoNotDisturb" => DAY,
        _ => 7 * DAY,
    }
}

/// The aggregated presence as `GET /me/presence` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PresenceSnapshot {
    /// Aggregated availability, e.g. `Busy`.
    pub availability: String,
    /// Aggregated activity, e.g. `InACall`.
    pub activity: String,
    /// `outOfOfficeSettings.isOutOfOffice`.
    pub is_out_of_office: bool,
    /// The user's status message, when one is set and has not expired.
    pub status_message: Option<StatusMessage>,
    /// The version stamp; a later change has a larger value of the same width.
    pub sequence_number: String,
}

/// A status message as `setStatusMessage` stores it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusMessage {
    /// The text (`message.content`).
    pub content: String,
    /// `expiryDateTime` as the request gave it: (dateTime, timeZone).
    pub expiry: Option<(String, String)>,
    /// When the message ends, on the monotonic clock; `None` = never.
    pub expires_at: Option<Instant>,
    /// `publishedDateTime`, when the message was set.
    pub published: std::time::SystemTime,
}

/// One application presence session as it is at the time of the query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionSnapshot {
    /// The session id, which Graph requires to be the application's client id.
    pub session_id: String,
    /// The availability the application posted.
    pub availability: String,
    /// The activity the application posted.
    pub activity: String,
    /// The session's current state after fading, as (availability, activity).
    pub effective: (String, String),
    /// When the last `setPresence` for this session arrived.
    pub set_at: Instant,
    /// When the session ends unless it is posted again.
    pub expires_at: Instant,
}

#[derive(Debug, Clone)]
struct Session {
    availability: String,
    activity: String,
    set_at: Instant,
    /// `None` for the Teams client session, which lives until the user signs out.
    expires_at: Option<Instant>,
    /// Order of the last change, to break ties between sessions of equal rank.
    changed: u64,
}

impl Session {
    fn is_live(&self, now: Instant) -> bool {
        self.expires_at.is_none_or(|expires_at| now < expires_at)
    }

    /// Returns the state the session shows at `now`. Only application sessions fade.
    fn effective(&self, now: Instant) -> (String, String) {
        let fades = self.expires_at.is_some() && self.availability == "Available";
        let age = now - self.set_at;
        if fades && age >= AWAY_AFTER {
            ("Away".into(), "Away".into())
        } else if fades && age >= INACTIVE_AFTER {
            ("Available".into(), "AvailableInactive".into())
        } else {
            (self.availability.clone(), self.activity.clone())
        }
    }
}

#[derive(Debug, Clone)]
struct Preferred {
    availability: String,
    activity: String,
    expires_at: Instant,
}

/// The fields whose change moves the sequence number.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Visible {
    availability: String,
    activity: String,
    is_out_of_office: bool,
    status_message: Option<StatusMessage>,
}

/// Sequence value of a fresh twin; a 10-digit counter like the documented `A0129311063`.
const FIRST_SEQUENCE: u64 = 129_311_063;

/// One user's presence: sessions, preferred presence and out of office.
#[derive(Debug, Clone)]
pub struct PresenceModel {
    teams: Option<Session>,
    app_sessions: BTreeMap<String, Session>,
    preferred: Option<Preferred>,
    out_of_office: bool,
    status_message: Option<StatusMessage>,
    sequence: u64,
    last_visible: Option<Visible>,
    changes: u64,
}

impl Default for PresenceModel {
    fn default() -> Self {
        Self {
            teams: None,
            app_sessions: BTreeMap::new(),
            preferred: None,
            out_of_office: false,
            status_message: None,
            sequence: FIRST_SEQUENCE,
            last_visible: None,
            changes: 0,
        }
    }
}

/// Orders availabilities for aggregation; names outside Graph's order rank lowest.
fn rank(availability: &str) -> u8 {
    match availability {
        "DoNotDisturb" => 4,
        "Busy" | "BusyIdle" => 3,
        "Available" | "AvailableIdle" => 2,
        "Away" | "BeRightBack" => 1,
        _ => 0,
    }
}

impl PresenceModel {
    /// Sets the Teams client session; `Offline/Offline` signs the Teams client out.
    pub fn set_teams(&mut self, now: Instant, availability: &str, activity: &str) {
        self.changes += 1;
        self.teams = if (availability, activity) == ("Offline", "Offline") {
            None
        } else {
            Some(Session {
                availability: availability.into(),
                activity: activity.into(),
                set_at: now,
                expires_at: None,
                changed: self.changes,
            })
        };
        self.observe(now);
    }

    /// Sets the preferred presence for `duration` (the documented default when `None`).
    pub fn set_preferred(
        &mut self,
        now: Instant,
        availability: &str,
        activity: &str,
        duration: Option<Duration>,
    ) {
        let duration = duration.unwrap_or_else(|| default_preferred_duration(availability));
        self.preferred = Some(Preferred {
            availability: availability.into(),
            activity: activity.into(),
            expires_at: now + duration,
        });
        self.observe(now);
    }

    /// Removes the preferred presence.
    pub fn clear_preferred(&mut self, now: Instant) {
        self.preferred = None;
        self.observe(now);
    }

    /// Turns the out-of-office flag on or off.
    pub fn set_out_of_office(&mut self, now: Instant, on: bool) {
        self.out_of_office = on;
        self.observe(now);
    }

    /// Sets the status message; `None` or an empty text clears it.
    pub fn set_status_message(&mut self, now: Instant, message: Option<StatusMessage>) {
        self.status_message = message.filter(|message| !message.content.is_empty());
        self.observe(now);
    }

    /// Creates or replaces an application session; the caller has validated the request.
    pub fn set_app_session(
        &mut self,
        now: Instant,
        session_id: &str,
        availability: &str,
        activity: &str,
        duration: Duration,
    ) {
        self.changes += 1;
        let session = Session {
            availability: availability.into(),
            activity: activity.into(),
            set_at: now,
            expires_at: Some(now + duration),
            changed: self.changes,
        };
        self.app_sessions.insert(session_id.into(), session);
        self.observe(now);
    }

    /// Ends an application session; `false` when no live session has this id.
    pub fn clear_app_session(&mut self, now: Instant, session_id: &str) -> bool {
        self.prune(now);
        let existed = self.app_sessions.remove(session_id).is_some();
        self.observe(now);
        existed
    }

    /// Returns the live application session with this id.
    pub fn app_session(&self, now: Instant, session_id: &str) -> Option<SessionSnapshot> {
        let session = self
            .app_sessions
            .get(session_id)
            .filter(|s| s.is_live(now))?;
        Some(SessionSnapshot {
            session_id: session_id.into(),
            availability: session.availability.clone(),
            activity: session.activity.clone(),
            effective: session.effective(now),
            set_at: session.set_at,
            expires_at: session.expires_at.unwrap_or(now),
        })
    }

    /// Sets the sequence number back to its lowest value, as after a server-side reset.
    pub fn reset_sequence(&mut self) {
        self.sequence = 1;
    }

    /// Returns the aggregated presence at `now`.
    pub fn snapshot(&mut self, now: Instant) -> PresenceSnapshot {
        let visible = self.observe(now);
        PresenceSnapshot {
            availability: visible.availability,
            activity: visible.activity,
            is_out_of_office: visible.is_out_of_office,
            status_message: visible.status_message,
            sequence_number: format!("A{:010}", self.sequence),
        }
    }

    /// Drops expired sessions and an expired preferred presence.
    fn prune(&mut self, now: Instant) {
        self.app_sessions.retain(|_, session| session.is_live(now));
        if self
            .preferred
            .as_ref()
            .is_some_and(|preferred| now >= preferred.expires_at)
        {
            self.preferred = None;
        }
        let message_expired = self
            .status_message
            .as_ref()
            .and_then(|message| message.expires_at)
            .is_some_and(|expires_at| now >= expires_at);
        if message_expired {
            self.status_message = None;
        }
    }

    /// Computes what Graph shows at `now` and moves the sequence number when it changed.
    fn observe(&mut self, now: Instant) -> Visible {
        self.prune(now);
        let visible = self.aggregate(now);
        if self.last_visible.as_ref() != Some(&visible) {
            if self.last_visible.is_some() {
                self.sequence += 1;
            }
            self.last_visible = Some(visible.clone());
        }
        visible
    }

    fn aggregate(&self, now: Instant) -> Visible {
        let strongest_session = self
            .teams
            .iter()
            .chain(self.app_sessions.values())
            .map(|session| (session.effective(now), session.changed))
            .max_by_key(|((availability, _), changed)| (rank(availability), *changed))
            .map(|(state, _)| state);

        let (availability, activity) = match (strongest_session, &self.preferred) {
            (None, _) => ("Offline".to_string(), "Offline".to_string()),
            (Some(_), Some(preferred)) => {
                (preferred.availability.clone(), preferred.activity.clone())
            }
            (Some(state), None) => state,
        };

        // The permutation table shows Available plus out of office as activity OutOfOffice;
        // other states keep their activity and carry only the flag.
        // NOTE: Offline/OutOfOffice for a user with no session is a guess; Microsoft does not
        // document which availability goes with out of office when no client is signed in.
        let activity = match (availability.as_str(), activity.as_str(), self.out_of_office) {
            ("Available", "Available", true) | ("Offline", "Offline", true) => {
                "OutOfOffice".to_string()
            }
            _ => activity,
        };

        Visible {
            availability,
            activity,
            is_out_of_office: self.out_of_office,
            status_message: self.status_message.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINUTE: Duration = Duration::from_secs(60);

    fn at(minutes: u64) -> Instant {
        Instant::ZERO + MINUTE * minutes as u32
    }

    fn shown(model: &mut PresenceModel, now: Instant) -> (String, String) {
        let snapshot = model.snapshot(now);
        (snapshot.availability, snapshot.activity)
    }

    fn pair(availability: &str, activity: &str) -> (String, String) {
        (availability.into(), activity.into())
    }

    /// Teams client state, app session state, preferred state → what Graph shows.
    fn check(
        teams: Option<(&str, &str)>,
        app: Option<(&str, &str)>,
        preferred: Option<(&str, &str)>,
        expected: (&str, &str),
    ) {
        let mut model = PresenceModel::default();
        if let Some((availability, activity)) = teams {
            model.set_teams(at(0), availability, activity);
        }
        if let Some((availability, activity)) = app {
            model.set_app_session(at(0), "app", availability, activity, MIN_SESSION_DURATION);
        }
        if let Some((availability, activity)) = preferred {
            model.set_preferred(at(0), availability, activity, None);
        }
        assert_eq!(
            shown(&mut model, at(1)),
            pair(expected.0, expected.1),
            "teams {teams:?}, app {app:?}, preferred {preferred:?}"
        );
    }

    #[test]
    fn aggregation_follows_documented_order() {
        check(None, None, None, ("Offline", "Offline"));
        check(
            Some(("Available", "Available")),
            None,
            None,
            ("Available", "Available"),
        );
        check(
            Some(("Available", "Available")),
            Some(("Busy", "InACall")),
            None,
            ("Busy", "InACall"),
        );
        check(
            Some(("Busy", "InAMeeting")),
            Some(("Available", "Available")),
            None,
            ("Busy", "InAMeeting"),
        );
        check(
            Some(("DoNotDisturb", "Presenting")),
            Some(("Busy", "InACall")),
            None,
            ("DoNotDisturb", "Presenting"),
        );
        check(
            Some(("Away", "Away")),
            Some(("Available", "Available")),
            None,
            ("Available", "Available"),
        );
        check(
            Some(("Available", "Available")),
            Some(("Away", "Away")),
            None,
            ("Available", "Available"),
        );
        check(
            Some(("Away", "Away")),
            Some(("DoNotDisturb", "Presenting")),
            None,
            ("DoNotDisturb", "Presenting"),
        );
        check(None, Some(("Busy", "InACall")), None, ("Busy", "InACall"));
    }

    #[test]
    fn idle_states_rank_with_group() {
        check(
            Some(("AvailableIdle", "Available")),
            Some(("Away", "Away")),
            None,
            ("AvailableIdle", "Available"),
        );
        check(
            Some(("BusyIdle", "Busy")),
            Some(("Available", "Available")),
            None,
            ("BusyIdle", "Busy"),
        );
        check(
            Some(("BeRightBack", "BeRightBack")),
            Some(("Available", "Available")),
            None,
            ("Available", "Available"),
        );
        check(
            Some(("Offline", "OffWork")),
            Some(("Away", "Away")),
            None,
            ("Away", "Away"),
        );
        check(
            Some(("Offline", "OffWork")),
            None,
            None,
            ("Offline", "OffWork"),
        );
    }

    #[test]
    fn away_outranks_later_unranked_session() {
        let mut model = PresenceModel::default();
        model.set_app_session(at(0), "app", "Away", "Away", MIN_SESSION_DURATION);
        model.set_teams(at(1), "PresenceUnknown", "PresenceUnknown");
        assert_eq!(shown(&mut model, at(1)), pair("Away", "Away"));
        model.set_app_session(at(2), "app", "Available", "Available", MIN_SESSION_DURATION);
        model.set_teams(at(3), "BeRightBack", "BeRightBack");
        assert_eq!(shown(&mut model, at(3)), pair("Available", "Available"));
    }

    #[test]
    fn preferred_presence_beats_sessions() {
        check(
            Some(("Available", "Available")),
            Some(("Busy", "InACall")),
            Some(("DoNotDisturb", "DoNotDisturb")),
            ("DoNotDisturb", "DoNotDisturb"),
        );
        check(
            Some(("DoNotDisturb", "Presenting")),
            None,
            Some(("Available", "Available")),
            ("Available", "Available"),
        );
        check(
            None,
            Some(("Busy", "InACall")),
            Some(("Offline", "OffWork")),
            ("Offline", "OffWork"),
        );
    }

    #[test]
    fn preferred_presence_needs_a_session() {
        check(None, None, Some(("Busy", "Busy")), ("Offline", "Offline"));
    }

    #[test]
    fn equal_rank_shows_latest_session() {
        let mut model = PresenceModel::default();
        model.set_app_session(at(0), "app", "Busy", "InACall", MIN_SESSION_DURATION);
        model.set_teams(at(0), "Busy", "InAMeeting");
        assert_eq!(shown(&mut model, at(0)), pair("Busy", "InAMeeting"));
        model.set_app_session(
            at(1),
            "app",
            "Busy",
            "InAConferenceCall",
            MIN_SESSION_DURATION,
        );
        assert_eq!(shown(&mut model, at(1)), pair("Busy", "InAConferenceCall"));
    }

    #[test]
    fn equal_rank_app_sessions_show_latest() {
        let mut model = PresenceModel::default();
        model.set_app_session(at(0), "a", "Busy", "InACall", MIN_SESSION_DURATION);
        model.set_app_session(
            at(0),
            "b",
            "Busy",
            "InAConferenceCall",
            MIN_SESSION_DURATION,
        );
        assert_eq!(shown(&mut model, at(0)), pair("Busy", "InAConferenceCall"));
        model.set_app_session(at(1), "a", "Busy", "InACall", MIN_SESSION_DURATION);
        assert_eq!(shown(&mut model, at(1)), pair("Busy", "InACall"));
    }

    #[test]
    fn clearing_preferred_presence_shows_sessions() {
        let mut model = PresenceModel::default();
        model.set_teams(at(0), "Available", "Available");
        model.set_preferred(at(0), "DoNotDisturb", "DoNotDisturb", None);
        assert_eq!(
            shown(&mut model, at(0)),
            pair("DoNotDisturb", "DoNotDisturb")
        );
        model.clear_preferred(at(1));
        assert_eq!(shown(&mut model, at(1)), pair("Available", "Available"));
    }

    #[test]
    fn app_session_expires_on_time() {
        let mut model = PresenceModel::default();
        model.set_app_session(at(0), "app", "Busy", "InACall", 7 * MINUTE);
        let just_before = Instant::from_millis(7 * 60_000 - 1);
        assert_eq!(shown(&mut model, just_before), pair("Busy", "InACall"));
        assert!(model.app_session(just_before, "app").is_some());
        assert_eq!(shown(&mut model, at(7)), pair("Offline", "Offline"));
        assert_eq!(model.app_session(at(7), "app"), None);
    }

    #[test]
    fn reposting_extends_the_session() {
        let mut model = PresenceModel::default();
        model.set_app_session(at(0), "app", "Busy", "InACall", 5 * MINUTE);
        model.set_app_session(at(4), "app", "Busy", "InACall", 5 * MINUTE);
        assert_eq!(shown(&mut model, at(8)), pair("Busy", "InACall"));
        assert_eq!(
            model.app_session(at(8), "app").map(|s| s.expires_at),
            Some(at(9))
        );
    }

    #[test]
    fn available_app_session_fades() {
        let mut model = PresenceModel::default();
        model.set_app_session(at(0), "app", "Available", "Available", MAX_SESSION_DURATION);
        let check_at = |model: &mut PresenceModel, minute: u64, expected: (&str, &str)| {
            assert_eq!(
                shown(model, at(minute)),
                pair(expected.0, expected.1),
                "at minute {minute}"
            );
        };
        check_at(&mut model, 4, ("Available", "Available"));
        check_at(&mut model, 5, ("Available", "AvailableInactive"));
        check_at(&mut model, 9, ("Available", "AvailableInactive"));
        check_at(&mut model, 10, ("Away", "Away"));
        check_at(&mut model, 60, ("Away", "Away"));
        // A fresh post keeps the state again.
        model.set_app_session(
            at(61),
            "app",
            "Available",
            "Available",
            MAX_SESSION_DURATION,
        );
        check_at(&mut model, 65, ("Available", "Available"));
    }

    #[test]
    fn busy_app_session_does_not_fade() {
        let mut model = PresenceModel::default();
        model.set_app_session(at(0), "app", "Busy", "InACall", MAX_SESSION_DURATION);
        assert_eq!(shown(&mut model, at(30)), pair("Busy", "InACall"));
    }

    #[test]
    fn teams_session_does_not_fade() {
        let mut model = PresenceModel::default();
        model.set_teams(at(0), "Available", "Available");
        assert_eq!(shown(&mut model, at(30)), pair("Available", "Available"));
    }

    #[test]
    fn clear_removes_only_live_sessions() {
        let mut model = PresenceModel::default();
        model.set_teams(at(0), "Away", "Away");
        model.set_app_session(at(0), "app", "Busy", "InACall", 5 * MINUTE);
        assert!(model.clear_app_session(at(1), "app"));
        assert_eq!(shown(&mut model, at(1)), pair("Away", "Away"));
        assert!(!model.clear_app_session(at(1), "app"));
        model.set_app_session(at(2), "app", "Busy", "InACall", 5 * MINUTE);
        assert!(
            !model.clear_app_session(at(7), "app"),
            "an expired session cannot be cleared"
        );
    }

    #[test]
    fn preferred_presence_expires() {
        let mut model = PresenceModel::default();
        model.set_teams(at(0), "Available", "Available");
        model.set_preferred(at(0), "Busy", "Busy", None);
        let day = 24 * 60;
        assert_eq!(shown(&mut model, at(day - 1)), pair("Busy", "Busy"));
        assert_eq!(shown(&mut model, at(day)), pair("Available", "Available"));
        model.set_preferred(at(day), "Away", "Away", None);
        assert_eq!(
            shown(&mut model, at(day + 7 * day - 1)),
            pair("Away", "Away")
        );
        assert_eq!(
            shown(&mut model, at(day + 7 * day)),
            pair("Available", "Available")
        );
        model.set_preferred(at(0), "Away", "Away", Some(MINUTE));
        model.set_preferred(at(10 * day), "Away", "Away", Some(MINUTE));
        assert_eq!(
            shown(&mut model, at(10 * day + 1)),
            pair("Available", "Available")
        );
    }

    #[test]
    fn out_of_office_shows_in_activity_when_available() {
        let mut model = PresenceModel::default();
        model.set_out_of_office(at(0), true);
        assert_eq!(shown(&mut model, at(0)), pair("Offline", "OutOfOffice"));
        model.set_teams(at(0), "Available", "Available");
        let snapshot = model.snapshot(at(0));
        assert_eq!(
            (snapshot.availability.as_str(), snapshot.activity.as_str()),
            ("Available", "OutOfOffice")
        );
        assert!(snapshot.is_out_of_office);
        model.set_app_session(at(0), "app", "Busy", "InACall", MIN_SESSION_DURATION);
        let snapshot = model.snapshot(at(0));
        assert_eq!(
            (snapshot.availability.as_str(), snapshot.activity.as_str()),
            ("Busy", "InACall")
        );
        assert!(snapshot.is_out_of_office);
        model.set_out_of_office(at(0), false);
        assert!(!model.snapshot(at(0)).is_out_of_office);
    }

    #[test]
    fn sequence_number_moves_on_every_change_only() {
        let mut model = PresenceModel::default();
        let first = model.snapshot(at(0)).sequence_number;
        assert_eq!(
            model.snapshot(at(0)).sequence_number,
            first,
            "no change, same number"
        );
        model.set_teams(at(0), "Busy", "Busy");
        let second = model.snapshot(at(0)).sequence_number;
        assert!(second > first);
        assert_eq!(second.len(), first.len());
        model.set_app_session(at(0), "app", "Available", "Available", MAX_SESSION_DURATION);
        model.set_teams(at(0), "Away", "Away");
        let third = model.snapshot(at(0)).sequence_number;
        assert!(third > second);
        let faded = model.snapshot(at(5)).sequence_number;
        assert!(faded > third, "fading is a change");
        model.set_out_of_office(at(5), true);
        assert!(
            model.snapshot(at(5)).sequence_number > faded,
            "out of office is a change"
        );
    }

    #[test]
    fn status_message_expires_and_moves_sequence() {
        let mut model = PresenceModel::default();
        let before = model.snapshot(at(0)).sequence_number;
        let message = StatusMessage {
            content: "On site until noon".into(),
            expiry: None,
            expires_at: Some(at(30)),
            published: std::time::SystemTime::UNIX_EPOCH,
        };
        model.set_status_message(at(0), Some(message.clone()));
        let snapshot = model.snapshot(at(29));
        assert_eq!(snapshot.status_message, Some(message.clone()));
        assert!(snapshot.sequence_number > before);
        assert_eq!(model.snapshot(at(30)).status_message, None);

        model.set_status_message(at(31), Some(message.clone()));
        let empty = StatusMessage {
            content: String::new(),
            ..message
        };
        model.set_status_message(at(31), Some(empty));
        assert_eq!(model.snapshot(at(31)).status_message, None);
    }

    #[test]
    fn sequence_reset_goes_back() {
        let mut model = PresenceModel::default();
        model.set_teams(at(0), "Busy", "Busy");
        let before = model.snapshot(at(0)).sequence_number;
        model.reset_sequence();
        let after = model.snapshot(at(0)).sequence_number;
        assert!(after < before);
        assert_eq!(after.len(), before.len());
    }

    #[test]
    fn documented_pairs_only() {
        assert!(app_session_pair_allowed("Busy", "InACall"));
        assert!(app_session_pair_allowed("DoNotDisturb", "Presenting"));
        for (availability, activity) in [
            ("Busy", "Busy"),
            ("DoNotDisturb", "DoNotDisturb"),
            ("busy", "InACall"),
            ("Available", "OutOfOffice"),
            ("Busy", "InAMeeting"),
        ] {
            assert!(
                !app_session_pair_allowed(availability, activity),
                "{availability}/{activity}"
            );
        }
        assert!(preferred_pair_allowed("Offline", "OffWork"));
        assert!(preferred_pair_allowed("Busy", "Busy"));
        assert!(!preferred_pair_allowed("Busy", "InACall"));
    }

    #[test]
    fn session_duration_bounds() {
        // setPresence documents PT5M to PT4H, with PT5M when the request leaves it out.
        assert_eq!(MIN_SESSION_DURATION, 5 * MINUTE);
        assert_eq!(MAX_SESSION_DURATION, 240 * MINUTE);
        assert_eq!(DEFAULT_SESSION_DURATION, 5 * MINUTE);
        assert_eq!(INACTIVE_AFTER, 5 * MINUTE);
        assert_eq!(AWAY_AFTER, 10 * MINUTE);
    }

    #[test]
    fn preferred_default_durations() {
        assert_eq!(default_preferred_duration("Busy"), 24 * 60 * MINUTE);
        assert_eq!(default_preferred_duration("DoNotDisturb"), 24 * 60 * MINUTE);
        assert_eq!(default_preferred_duration("Away"), 7 * 24 * 60 * MINUTE);
    }
}
