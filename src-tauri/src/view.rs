//! What the tray and the window show, derived from the core's [`Snapshot`].
//!
//! Everything here is pure, so the rules (which colour, which badge, which tooltip text)
//! are tested without a window.

use bridge::Snapshot;
use clock::Instant;
use engine::{Health, View, Warning};
use serde::Serialize;

use crate::i18n::{core_text, Language};

/// The colour of the tray icon: the Teams status at a glance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Tone {
    Available,
    /// Busy, in a call, in a meeting, presenting.
    Busy,
    DoNotDisturb,
    /// Away or be right back.
    Away,
    /// Offline, unknown, or no Teams presence read yet.
    Offline,
}

/// The small mark on the tray icon.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Badge {
    None,
    /// Sync is switched off or paused.
    Paused,
    /// The user must act: sign in, start SwyxIt!, or decide about a conflict.
    Action,
}

/// Picks the tray tone for the Teams availability in `view`.
///
/// Graph values are compared case-insensitively; an unknown availability shows as offline.
pub fn tone(view: &View) -> Tone {
    let Some(teams) = &view.teams else {
        return Tone::Offline;
    };
    match teams.availability.to_ascii_lowercase().as_str() {
        "available" | "availableidle" => Tone::Available,
        "busy" | "busyidle" => Tone::Busy,
        "donotdisturb" => Tone::DoNotDisturb,
        "away" | "berightback" => Tone::Away,
        _ => Tone::Offline,
    }
}

/// Picks the tray badge; an action beats a pause, because it needs the user.
pub fn badge(view: &View) -> Badge {
    let needs_action =
        |health: &Health| matches!(health, Health::SignedOut | Health::Unavailable { .. });
    let conflict = view.warnings.contains(&Warning::Conflict);
    if needs_action(&view.health_teams) || needs_action(&view.health_swyx) || conflict {
        Badge::Action
    } else if !view.sync_enabled || view.paused_until.is_some() {
        Badge::Paused
    } else {
        Badge::None
    }
}

/// Picks the tray badge for a snapshot: a stopped core needs the user to restart the app.
pub fn snapshot_badge(snapshot: &Snapshot) -> Badge {
    if snapshot.stopped {
        Badge::Action
    } else {
        badge(&snapshot.view)
    }
}

/// Builds the tray tooltip for a snapshot; after the core has stopped, the statuses it shows
/// are no longer read, so the tooltip says that sync has stopped instead.
pub fn snapshot_tooltip(snapshot: &Snapshot, language: Language) -> String {
    if snapshot.stopped {
        core_text(language, STOPPED_TOOLTIP)
    } else {
        tooltip(&snapshot.view, language)
    }
}

/// The tray tooltip after the core has stopped.
const STOPPED_TOOLTIP: &str = "Presence Bridge has stopped syncing. Restart the app.";

/// Builds the tray tooltip, "Teams: <status> · Swyx: <status>", in `language`, with
/// "· Sync off" or "· Paused" appended while the app does not sync.
pub fn tooltip(view: &View, language: Language) -> String {
    // "Status unknown" is a Teams status of its own, so a side not read yet says so.
    let label = |text: &Option<String>| match text {
        Some(text) => core_text(language, text),
        None => core_text(language, "Not read yet"),
    };
    let mut teams = label(&view.teams_label);
    if teams_status_stale(view) {
        teams = format!("{teams} {}", core_text(language, "(last known)"));
    }
    let swyx = if swyx_gone(view) {
        core_text(language, "Not available")
    } else {
        label(&view.swyx_label)
    };
    let mut tooltip = format!("Teams: {teams} · Swyx: {swyx}");
    if !view.sync_enabled {
        tooltip.push_str(&format!(" · {}", core_text(language, "Sync off")));
    } else if view.paused_until.is_some() {
        tooltip.push_str(&format!(" · {}", core_text(language, "Paused")));
    }
    tooltip
}

/// Returns whether the Teams status shown may be out of date: the sign-in ended, reads fail,
/// sync is off or paused, or the app changed its own "In a call" since the last read.
pub fn teams_status_stale(view: &View) -> bool {
    let signed_out = matches!(view.health_teams, Health::SignedOut);
    view.teams_label.is_some() && (signed_out || !view.teams_current)
}

/// Returns whether SwyxIt! has gone (not running, access denied) and left no status, where
/// "Not read yet" would be wrong.
pub fn swyx_gone(view: &View) -> bool {
    view.swyx_label.is_none() && matches!(view.health_swyx, Health::Unavailable { .. })
}

/// Returns the PNG of the tray icon for a tone and badge, from `icons/`.
pub fn tray_icon_png(tone: Tone, badge: Badge) -> &'static [u8] {
    macro_rules! icon {
        ($name:literal) => {
            include_bytes!(concat!("../../icons/tray-", $name, ".png")).as_slice()
        };
    }
    match (tone, badge) {
        (Tone::Available, Badge::None) => icon!("available-none"),
        (Tone::Available, Badge::Paused) => icon!("available-paused"),
        (Tone::Available, Badge::Action) => icon!("available-action"),
        (Tone::Busy, Badge::None) => icon!("busy-none"),
        (Tone::Busy, Badge::Paused) => icon!("busy-paused"),
        (Tone::Busy, Badge::Action) => icon!("busy-action"),
        (Tone::DoNotDisturb, Badge::None) => icon!("dnd-none"),
        (Tone::DoNotDisturb, Badge::Paused) => icon!("dnd-paused"),
        (Tone::DoNotDisturb, Badge::Action) => icon!("dnd-action"),
        (Tone::Away, Badge::None) => icon!("away-none"),
        (Tone::Away, Badge::Paused) => icon!("away-paused"),
        (Tone::Away, Badge::Action) => icon!("away-action"),
        (Tone::Offline, Badge::None) => icon!("offline-none"),
        (Tone::Offline, Badge::Paused) => icon!("offline-paused"),
        (Tone::Offline, Badge::Action) => icon!("offline-action"),
    }
}

/// Whether the SwyxIt! session and the Teams account look like different people, as the
/// engine decides from the Swyx e-mail and the Teams UPN.
pub fn identity_mismatch(snapshot: &Snapshot) -> bool {
    snapshot.view.warnings.contains(&Warning::IdentityMismatch)
}

/// Converts a core instant to Unix milliseconds, anchored at the moment the snapshot was
/// taken, which the snapshot carries in both forms. Returns `None` before the Unix epoch.
pub fn instant_to_unix_ms(snapshot: &Snapshot, instant: Instant) -> Option<u64> {
    let anchor_ms = snapshot.taken_at.since_start().as_millis() as i128;
    let instant_ms = instant.since_start().as_millis() as i128;
    let unix_ms = snapshot.taken_at_unix_ms as i128 + (instant_ms - anchor_ms);
    u64::try_from(unix_ms).ok()
}

/// The start mode, for the window.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum ModeView {
    Demo,
    Tenant { tenant: String },
    NotConfigured { path: String, error: String },
}

/// The settings the window edits, with their limits.
#[derive(Debug, Clone, Serialize)]
pub struct SettingsView {
    pub poll_interval_secs: f64,
    /// The policy's minimum, or 1 s.
    pub min_poll_interval_secs: f64,
    pub speaking_substitute: engine::SwyxSettable,
    pub dnd_sets_dnd: bool,
    pub away_sets_away: bool,
    /// The user's choice: `system`, `en` or `de`.
    pub language: String,
    /// None until the first sign-in (or the user) decides.
    pub start_at_login: Option<bool>,
    /// Settings a machine policy sets or locks, by config file name.
    pub managed: Vec<String>,
}

/// Wall-clock times the window shows, in Unix milliseconds.
#[derive(Debug, Clone, Default, Serialize)]
pub struct WallTimes {
    pub paused_until: Option<u64>,
    pub last_teams_to_swyx: Option<u64>,
    pub last_swyx_to_teams: Option<u64>,
    pub next_retry_teams: Option<u64>,
    pub next_retry_swyx: Option<u64>,
}

/// Everything the window renders, sent with every change.
#[derive(Debug, Clone, Serialize)]
pub struct UiState {
    pub snapshot: Snapshot,
    pub tone: Tone,
    pub badge: Badge,
    pub tooltip: String,
    pub mode: ModeView,
    pub settings: SettingsView,
    pub times: WallTimes,
    /// Whether a tray host (a StatusNotifier watcher) was found at start.
    pub tray_host: bool,
    /// The resolved language of the window.
    pub language: Language,
    pub demo_tour_running: bool,
    /// The folder with the log files, for support requests.
    pub log_folder: String,
    /// See [`identity_mismatch`].
    pub identity_mismatch: bool,
    /// See [`teams_status_stale`].
    pub teams_stale: bool,
    /// See [`swyx_gone`].
    pub swyx_gone: bool,
}

/// Converts the snapshot's instants, with `paused_until_fallback` (recorded by the app when
/// it paused) for a pause whose instant does not convert.
pub fn wall_times(snapshot: &Snapshot, paused_until_fallback: Option<u64>) -> WallTimes {
    let view = &snapshot.view;
    let convert =
        |instant: Option<Instant>| instant.and_then(|at| instant_to_unix_ms(snapshot, at));
    let next_retry = |health: &Health| match health {
        Health::Degraded { next_retry, .. } => convert(*next_retry),
        _ => None,
    };
    let paused_until = view
        .paused_until
        .and_then(|until| instant_to_unix_ms(snapshot, until).or(paused_until_fallback));
    WallTimes {
        paused_until,
        last_teams_to_swyx: convert(view.last_teams_to_swyx.as_ref().map(|last| last.at)),
        last_swyx_to_teams: convert(view.last_swyx_to_teams.as_ref().map(|last| last.at)),
        next_retry_teams: next_retry(&view.health_teams),
        next_retry_swyx: next_retry(&view.health_swyx),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use std::time::Duration;

    use bridge::snapshot::{HistoryEntry, NotificationCounts, SwyxIdentity};
    use engine::{Direction, Settings, SyncEvent, TeamsPresence};

    use super::*;

    /// Builds a view with sync on and both sides healthy, as right after start.
    pub(crate) fn healthy_view() -> View {
        View {
            teams: None,
            teams_label: None,
            teams_current: true,
            swyx: None,
            swyx_label: None,
            target: None,
            sync_enabled: true,
            teams_to_swyx: true,
            swyx_to_teams: true,
            paused_until: None,
            own_session: false,
            override_text: None,
            health_teams: Health::Ok,
            health_swyx: Health::Ok,
            warnings: Vec::new(),
            last_teams_to_swyx: None,
            last_swyx_to_teams: None,
            poll_interval: Settings::default().poll_interval,
            throttle_count: 0,
            history: Vec::new(),
        }
    }

    pub(crate) fn snapshot_of(view: View) -> Snapshot {
        Snapshot {
            view,
            history: Vec::new(),
            account: None,
            sign_in_error: None,
            signing_in: false,
            device_code: None,
            swyx_identity: SwyxIdentity::default(),
            notifications: NotificationCounts::default(),
            stopped: false,
            taken_at_unix_ms: 0,
            taken_at: Instant::from_millis(0),
        }
    }

    fn with_teams(availability: &str) -> View {
        View {
            teams: Some(TeamsPresence {
                availability: availability.into(),
                activity: availability.into(),
                ..TeamsPresence::default()
            }),
            ..healthy_view()
        }
    }

    #[test]
    fn tone_follows_teams_availability() {
        let check = |availability: Option<&str>, expected: Tone| {
            let view = match availability {
                Some(availability) => with_teams(availability),
                None => healthy_view(),
            };
            assert_eq!(tone(&view), expected, "availability {availability:?}");
        };
        check(Some("Available"), Tone::Available);
        check(Some("AvailableIdle"), Tone::Available);
        check(Some("available"), Tone::Available);
        check(Some("Busy"), Tone::Busy);
        check(Some("BUSYIDLE"), Tone::Busy);
        check(Some("DoNotDisturb"), Tone::DoNotDisturb);
        check(Some("Away"), Tone::Away);
        check(Some("BeRightBack"), Tone::Away);
        check(Some("Offline"), Tone::Offline);
        check(Some("PresenceUnknown"), Tone::Offline);
        check(Some("SomethingNew"), Tone::Offline);
        check(None, Tone::Offline);
    }

    #[test]
    fn badge_prefers_action_over_pause() {
        let unavailable = Health::Unavailable {
            reason: "SwyxIt! is not running".into(),
            action: "Start SwyxIt!".into(),
        };
        let degraded = Health::Degraded {
            reason: "Graph answered 503".into(),
            next_retry: None,
        };
        let cases: Vec<(&str, View, Badge)> = vec![
            ("healthy", healthy_view(), Badge::None),
            (
                "sync off",
                View {
                    sync_enabled: false,
                    ..healthy_view()
                },
                Badge::Paused,
            ),
            (
                "paused",
                View {
                    paused_until: Some(Instant::from_millis(5_000)),
                    ..healthy_view()
                },
                Badge::Paused,
            ),
            (
                "degraded retries by itself",
                View {
                    health_teams: degraded,
                    ..healthy_view()
                },
                Badge::None,
            ),
            (
                "signed out",
                View {
                    health_teams: Health::SignedOut,
                    ..healthy_view()
                },
                Badge::Action,
            ),
            (
                "swyx unavailable while paused",
                View {
                    health_swyx: unavailable,
                    sync_enabled: false,
                    ..healthy_view()
                },
                Badge::Action,
            ),
            (
                "conflict",
                View {
                    warnings: vec![Warning::Conflict],
                    ..healthy_view()
                },
                Badge::Action,
            ),
            (
                "shared writer is information only",
                View {
                    warnings: vec![Warning::SharedWriter],
                    ..healthy_view()
                },
                Badge::None,
            ),
        ];
        for (name, view, expected) in cases {
            assert_eq!(badge(&view), expected, "case {name}");
        }
    }

    #[test]
    fn stopped_core_needs_action_and_says_so() {
        let mut snapshot = snapshot_of(healthy_view());
        assert_eq!(snapshot_badge(&snapshot), Badge::None);
        assert!(snapshot_tooltip(&snapshot, Language::En).starts_with("Teams: "));
        snapshot.stopped = true;
        assert_eq!(snapshot_badge(&snapshot), Badge::Action);
        assert_eq!(
            snapshot_tooltip(&snapshot, Language::En),
            "Presence Bridge has stopped syncing. Restart the app."
        );
        assert_eq!(
            snapshot_tooltip(&snapshot, Language::De),
            "Presence Bridge gleicht nicht mehr ab. Starten Sie die App neu."
        );
    }

    #[test]
    fn tooltip_names_both_sides() {
        let view = View {
            teams_label: Some("In a call".into()),
            swyx_label: Some("Speaking (shown in Swyx as Away)".into()),
            ..healthy_view()
        };
        assert_eq!(
            tooltip(&view, Language::En),
            "Teams: In a call · Swyx: Speaking (shown in Swyx as Away)"
        );
        assert_eq!(
            tooltip(&view, Language::De),
            "Teams: Im Anruf · Swyx: Im Gespräch (in Swyx angezeigt als Abwesend)"
        );
        assert_eq!(
            tooltip(&healthy_view(), Language::En),
            "Teams: Not read yet · Swyx: Not read yet"
        );
        let mut off = healthy_view();
        off.sync_enabled = false;
        assert_eq!(
            tooltip(&off, Language::De),
            "Teams: Noch nicht gelesen · Swyx: Noch nicht gelesen · Abgleich aus"
        );
    }

    #[test]
    fn tooltip_marks_stale_teams_status() {
        let view = View {
            teams_label: Some("Busy".into()),
            swyx_label: Some("Away".into()),
            health_teams: Health::SignedOut,
            ..healthy_view()
        };
        assert_eq!(
            tooltip(&view, Language::En),
            "Teams: Busy (last known) · Swyx: Away"
        );
        assert_eq!(
            tooltip(&view, Language::De),
            "Teams: Beschäftigt (zuletzt bekannt) · Swyx: Abwesend"
        );
    }

    #[test]
    fn tooltip_marks_teams_not_read_since_a_pause() {
        let view = View {
            teams_label: Some("In a call".into()),
            swyx_label: Some("Speaking".into()),
            teams_current: false,
            paused_until: Some(Instant::from_millis(60_000)),
            ..healthy_view()
        };
        assert_eq!(
            tooltip(&view, Language::En),
            "Teams: In a call (last known) · Swyx: Speaking · Paused"
        );
    }

    #[test]
    fn tooltip_names_swyx_not_available() {
        let view = View {
            teams_label: Some("Available".into()),
            health_swyx: Health::Unavailable {
                reason: "SwyxIt! is not running".into(),
                action: "Start SwyxIt!".into(),
            },
            ..healthy_view()
        };
        assert_eq!(
            tooltip(&view, Language::En),
            "Teams: Available · Swyx: Not available"
        );
        assert_eq!(
            tooltip(&view, Language::De),
            "Teams: Verfügbar · Swyx: Nicht verfügbar"
        );
    }

    #[test]
    fn every_tray_icon_is_a_png() {
        let tones = [
            Tone::Available,
            Tone::Busy,
            Tone::DoNotDisturb,
            Tone::Away,
            Tone::Offline,
        ];
        for tone in tones {
            for badge in [Badge::None, Badge::Paused, Badge::Action] {
                let png = tray_icon_png(tone, badge);
                assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "{tone:?}/{badge:?}");
                let image = tauri::image::Image::from_bytes(png).expect("decodable PNG");
                assert_eq!(
                    (image.width(), image.height()),
                    (32, 32),
                    "{tone:?}/{badge:?}"
                );
            }
        }
    }

    #[test]
    fn identity_mismatch_follows_engine() {
        let mut snapshot = snapshot_of(healthy_view());
        snapshot.swyx_identity.email = Some("alex@x.test".into());
        assert!(!identity_mismatch(&snapshot), "no warning, no mismatch");
        snapshot.view.warnings.push(Warning::IdentityMismatch);
        assert!(
            identity_mismatch(&snapshot),
            "the engine's warning is shown"
        );
    }

    #[test]
    fn instants_convert_to_wall_time() {
        let event = SyncEvent {
            at: Instant::from_millis(10_000),
            direction: Direction::TeamsToSwyx,
            from: "Busy/InACall".into(),
            to: "Away".into(),
            latency: Duration::from_millis(800),
        };
        let mut view = healthy_view();
        view.paused_until = Some(Instant::from_millis(70_000));
        view.last_teams_to_swyx = Some(engine::LastSync {
            at: event.at,
            latency: event.latency,
        });
        let mut snapshot = snapshot_of(view);
        snapshot.taken_at = Instant::from_millis(20_000);
        snapshot.taken_at_unix_ms = 1_700_000_010_000;
        assert_eq!(
            instant_to_unix_ms(&snapshot, Instant::from_millis(0)),
            Some(1_699_999_990_000),
            "an instant before the snapshot"
        );
        snapshot.taken_at_unix_ms = 5_000;
        assert_eq!(
            instant_to_unix_ms(&snapshot, Instant::from_millis(0)),
            None,
            "before the Unix epoch"
        );
        assert_eq!(wall_times(&snapshot, Some(42)).paused_until, Some(55_000));

        snapshot.taken_at_unix_ms = 1_700_000_010_000;
        snapshot.history.push(HistoryEntry {
            at_unix_ms: 1_700_000_000_000,
            event,
        });
        let times = wall_times(&snapshot, Some(42));
        assert_eq!(times.last_teams_to_swyx, Some(1_700_000_000_000));
        assert_eq!(times.paused_until, Some(1_700_000_060_000));
        assert_eq!(times.last_swyx_to_teams, None);
    }
}
