//! The app's state behind the window and the tray: the running core, the demo controls and
//! the user's settings.
//!
//! Window commands and tray items call methods here; each method is a few lines that check
//! the request and hand it to the core. Nothing here depends on Tauri windows, so the rules
//! are tested without one.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use bridge::config::{self, ConfigFile, Paths, Policy, StartMode};
use bridge::{Command, Core, Snapshot};
use chrono::{DateTime, Local, TimeZone};
use engine::{Direction, SwyxSettable};
use serde::Deserialize;
use tokio::sync::watch;
use tracing::{info, warn};

use crate::diagnostics;
use crate::error::CommandError;
use crate::i18n::Language;
use crate::view::{self, ModeView, SettingsView, UiState};
use crate::wiring::{DemoControl, Started};

/// The maximum pause in minutes: one day.
const MAX_PAUSE_MINUTES: u32 = 24 * 60;

/// How long sync pauses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PauseLength {
    Minutes(u32),
    /// Until the next local midnight.
    UntilTomorrow,
}

/// The sync settings as the window sends them.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct SettingsInput {
    pub poll_interval_secs: f64,
    pub speaking_substitute: SwyxSettable,
    pub dnd_sets_dnd: bool,
    pub away_sets_away: bool,
}

/// The state every window command and tray item works on.
pub struct Shell {
    core: Mutex<Option<Core>>,
    snapshots: watch::Receiver<Snapshot>,
    demo: Option<DemoControl>,
    mode: StartMode,
    paths: Paths,
    policy: Policy,
    /// The settings in effect. Only tenant mode saves them to the user's file, because in
    /// demo mode a new file would turn the next start into a tenant start.
    config: Mutex<ConfigFile>,
    tray_host: bool,
    /// Wall-clock end of the last pause the app asked for, in Unix milliseconds.
    paused_until_ms: Mutex<Option<u64>>,
    tour_running: Arc<AtomicBool>,
    /// Bumped when something outside the snapshot changed (settings, language, tour).
    local_changes: watch::Sender<u64>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding one of these locks leaves plain data behind, still usable.
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Shell {
    /// Takes over a started core; `tray_host` is true when a tray icon can be shown.
    pub fn new(started: Started, tray_host: bool) -> Shell {
        let config = match &started.mode {
            StartMode::Tenant(file) => file.clone(),
            StartMode::Demo | StartMode::NotConfigured { .. } => ConfigFile::default(),
        };
        Language::resolve(&config.app.language).make_current();
        Shell {
            snapshots: started.core.subscribe(),
            core: Mutex::new(Some(started.core)),
            demo: started.demo,
            mode: started.mode,
            paths: started.paths,
            policy: started.policy,
            config: Mutex::new(config),
            tray_host,
            paused_until_ms: Mutex::new(None),
            tour_running: Arc::new(AtomicBool::new(false)),
            local_changes: watch::channel(0).0,
        }
    }

    /// Returns the latest snapshot of the core.
    pub fn snapshot(&self) -> Snapshot {
        self.snapshots.borrow().clone()
    }

    /// Receivers that change with every snapshot and with every local change.
    pub fn subscribe(&self) -> (watch::Receiver<Snapshot>, watch::Receiver<u64>) {
        (self.snapshots.clone(), self.local_changes.subscribe())
    }

    /// Returns whether the core still runs (Quit has not taken it away yet).
    pub fn is_running(&self) -> bool {
        lock(&self.core).is_some()
    }

    /// Returns the per-user folders.
    pub fn paths(&self) -> &Paths {
        &self.paths
    }

    fn send(&self, command: Command) -> Result<(), CommandError> {
        let core = lock(&self.core);
        match core.as_ref() {
            Some(core) if !self.snapshots.borrow().stopped => {
                core.send(command);
                Ok(())
            }
            _ => Err(CommandError::Stopped),
        }
    }

    fn touch(&self) {
        self.local_changes.send_modify(|count| *count += 1);
    }

    /// Switches all sync on or off.
    pub fn set_sync(&self, enabled: bool) -> Result<(), CommandError> {
        self.send(Command::SetSync(enabled))
    }

    /// Switches one direction on or off.
    pub fn set_direction(&self, direction: Direction, enabled: bool) -> Result<(), CommandError> {
        self.send(Command::SetDirection { direction, enabled })
    }

    /// Pauses sync for `length`, counted from `now`.
    pub fn pause(&self, length: PauseLength, now: DateTime<Local>) -> Result<(), CommandError> {
        let duration = pause_duration(length, now)?;
        self.send(Command::PauseFor(duration))?;
        let until = now + chrono::Duration::from_std(duration).unwrap_or(chrono::Duration::zero());
        *lock(&self.paused_until_ms) = u64::try_from(until.timestamp_millis()).ok();
        info!(minutes = duration.as_secs() / 60, "sync paused");
        Ok(())
    }

    /// Ends a pause.
    pub fn resume(&self) -> Result<(), CommandError> {
        *lock(&self.paused_until_ms) = None;
        self.send(Command::ResumeSync)
    }

    /// Acknowledges the conflict warning and turns Teams → Swyx back on.
    pub fn resolve_conflict(&self) -> Result<(), CommandError> {
        self.send(Command::ResolveConflict)
    }

    /// Starts an interactive sign-in.
    pub fn sign_in(&self) -> Result<(), CommandError> {
        self.send(Command::SignIn)
    }

    /// Starts "Sign in with a code"; the code arrives with the next state.
    pub fn sign_in_with_code(&self) -> Result<(), CommandError> {
        self.send(Command::SignInWithCode)
    }

    /// Cancels a "Sign in with a code" that waits for the user.
    pub fn cancel_sign_in(&self) -> Result<(), CommandError> {
        self.send(Command::CancelSignIn)
    }

    /// Signs out and deletes the stored tokens.
    pub fn sign_out(&self) -> Result<(), CommandError> {
        self.send(Command::SignOut)
    }

    /// Checks and applies new sync settings; in tenant mode they are saved first.
    pub fn apply_settings(&self, input: SettingsInput) -> Result<(), CommandError> {
        let mut config = lock(&self.config);
        let mut next = config.clone();
        self.validate_settings(&config.sync, &input)?;
        next.sync.poll_interval_secs = input.poll_interval_secs;
        next.sync.speaking_substitute = input.speaking_substitute;
        next.sync.dnd_sets_dnd = input.dnd_sets_dnd;
        next.sync.away_sets_away = input.away_sets_away;

        self.save(|file| file.sync = next.sync.clone())?;
        self.send(Command::ChangeSettings(next.engine_settings(&self.policy)))?;
        *config = next;
        drop(config);
        self.touch();
        Ok(())
    }

    fn validate_settings(
        &self,
        current: &config::SyncConfig,
        input: &SettingsInput,
    ) -> Result<(), CommandError> {
        let interval = input.poll_interval_secs;
        let minimum = self.min_poll_interval_secs();
        if !interval.is_finite() || !(minimum..=600.0).contains(&interval) {
            return Err(CommandError::Invalid {
                field: "poll_interval_secs",
                problem: format!("{interval} s is outside {minimum} to 600 s"),
            });
        }
        if input.speaking_substitute == SwyxSettable::Available {
            return Err(CommandError::Invalid {
                field: "speaking_substitute",
                problem: "a call must show as Away or DoNotDisturb".into(),
            });
        }
        let changes = [
            ("poll_interval_secs", current.poll_interval_secs != interval),
            (
                "speaking_substitute",
                current.speaking_substitute != input.speaking_substitute,
            ),
            ("dnd_sets_dnd", current.dnd_sets_dnd != input.dnd_sets_dnd),
            (
                "away_sets_away",
                current.away_sets_away != input.away_sets_away,
            ),
        ];
        for (setting, changed) in changes {
            if changed && self.is_locked(setting) {
                return Err(CommandError::Managed { setting });
            }
        }
        Ok(())
    }

    fn min_poll_interval_secs(&self) -> f64 {
        self.policy
            .min_poll_interval_secs
            .unwrap_or(1.0)
            .clamp(1.0, 600.0)
    }

    fn is_locked(&self, setting: &str) -> bool {
        self.policy.locked.iter().any(|locked| locked == setting)
    }

    /// Sets the language (`system`, `en` or `de`) of the window, tray and notifications.
    pub fn set_language(&self, choice: &str) -> Result<(), CommandError> {
        if !matches!(choice, "system" | "en" | "de") {
            return Err(CommandError::Invalid {
                field: "language",
                problem: format!("{choice:?} is not one of system, en, de"),
            });
        }
        if self.is_locked("language") {
            return Err(CommandError::Managed {
                setting: "language",
            });
        }
        self.save(|file| file.app.language = choice.to_string())?;
        lock(&self.config).app.language = choice.to_string();
        Language::resolve(choice).make_current();
        self.touch();
        Ok(())
    }

    /// Checks that the user may change start at login.
    pub fn check_start_at_login_change(&self) -> Result<(), CommandError> {
        if self.is_locked("start_at_login") {
            return Err(CommandError::Managed {
                setting: "start_at_login",
            });
        }
        Ok(())
    }

    /// Records the start-at-login choice after the OS entry was changed.
    pub fn record_start_at_login(&self, enabled: bool) -> Result<(), CommandError> {
        self.save(|file| file.app.start_at_login = Some(enabled))?;
        lock(&self.config).app.start_at_login = Some(enabled);
        self.touch();
        Ok(())
    }

    /// Returns whether settings outlive this run: only with a tenant. Demo mode and a start
    /// without a valid configuration keep changes in memory.
    pub fn saves_settings(&self) -> bool {
        matches!(self.mode, StartMode::Tenant(_))
    }

    /// Whether the first successful sign-in should switch start at login on now: in tenant
    /// mode, signed in, not decided yet, and no policy against it.
    pub fn start_at_login_due(&self, snapshot: &Snapshot) -> bool {
        let tenant = self.saves_settings();
        let undecided = lock(&self.config).app.start_at_login.is_none();
        let allowed = self.policy.start_at_login_on_sign_in != Some(false)
            && !self.is_locked("start_at_login");
        tenant && snapshot.account.is_some() && undecided && allowed
    }

    /// Rewrites the user's file with one change, in tenant mode only.
    ///
    /// The file is read again first, so values a machine policy overrides in memory are never
    /// written into the user's file.
    fn save(&self, change: impl FnOnce(&mut ConfigFile)) -> Result<(), CommandError> {
        if !self.saves_settings() {
            return Ok(());
        }
        let path = &self.paths.config_file;
        let mut file = config::load(path)
            .map_err(CommandError::Config)?
            .unwrap_or_default();
        change(&mut file);
        config::save(path, &file).map_err(CommandError::Config)
    }

    /// Returns the demo controls, or `NotDemo` outside demo mode.
    pub fn demo(&self) -> Result<&DemoControl, CommandError> {
        self.demo.as_ref().ok_or(CommandError::NotDemo)
    }

    /// Starts the demo tour in the background; only one runs at a time.
    pub fn start_tour(&self) -> Result<(), CommandError> {
        let demo = self.demo()?.clone();
        if self.tour_running.swap(true, Ordering::SeqCst) {
            return Err(CommandError::TourRunning);
        }
        self.touch();
        let running = self.tour_running.clone();
        let changes = self.local_changes.clone();
        tauri::async_runtime::spawn(async move {
            info!("demo tour started");
            demo.run_tour().await;
            running.store(false, Ordering::SeqCst);
            changes.send_modify(|count| *count += 1);
            info!("demo tour finished");
        });
        Ok(())
    }

    /// The diagnostics text: settings, health and the newest log lines, without personal
    /// data, statuses or secrets.
    pub fn diagnostics(&self) -> String {
        let config = lock(&self.config).clone();
        let lines = diagnostics::last_log_lines(&self.paths.log_dir, diagnostics::LOG_LINES);
        diagnostics::bundle(&self.ui_state(), &config, &lines)
    }

    /// Everything the window shows.
    pub fn ui_state(&self) -> UiState {
        let snapshot = self.snapshot();
        let config = lock(&self.config).clone();
        let paused_until = if snapshot.view.paused_until.is_some() {
            *lock(&self.paused_until_ms)
        } else {
            None
        };
        let language = Language::resolve(&config.app.language);
        UiState {
            tone: view::tone(&snapshot.view),
            badge: view::snapshot_badge(&snapshot),
            tooltip: view::snapshot_tooltip(&snapshot, language),
            times: view::wall_times(&snapshot, paused_until),
            mode: self.mode_view(),
            settings: SettingsView {
                poll_interval_secs: config.sync.poll_interval_secs,
                min_poll_interval_secs: self.min_poll_interval_secs(),
                speaking_substitute: config.sync.speaking_substitute,
                dnd_sets_dnd: config.sync.dnd_sets_dnd,
                away_sets_away: config.sync.away_sets_away,
                language: config.app.language.clone(),
                start_at_login: config.app.start_at_login,
                managed: self.policy.managed_settings(),
            },
            tray_host: self.tray_host,
            language,
            demo_tour_running: self.tour_running.load(Ordering::SeqCst),
            log_folder: self.paths.log_dir.display().to_string(),
            identity_mismatch: view::identity_mismatch(&snapshot),
            teams_stale: view::teams_status_stale(&snapshot.view),
            swyx_gone: view::swyx_gone(&snapshot.view),
            snapshot,
        }
    }

    fn mode_view(&self) -> ModeView {
        match &self.mode {
            StartMode::Demo => ModeView::Demo,
            StartMode::Tenant(file) => ModeView::Tenant {
                tenant: self
                    .policy
                    .tenant
                    .clone()
                    .unwrap_or_else(|| file.tenant.tenant.clone()),
            },
            StartMode::NotConfigured { path, error } => ModeView::NotConfigured {
                path: path.display().to_string(),
                error: error.clone(),
            },
        }
    }

    /// Announces a sleep to the core and waits until it cleared the own session (at most the
    /// core's shutdown timeout).
    pub async fn suspend(&self) {
        let (done, finished) = tokio::sync::oneshot::channel();
        if self.send(Command::Suspend(done)).is_ok() {
            let _ = finished.await;
        }
    }

    /// Tells the core that the machine woke up.
    pub fn resumed(&self) -> Result<(), CommandError> {
        self.send(Command::Resumed)
    }

    /// Stops the core's driver at once, as a bug in it would; see [`Core::fail`].
    pub fn fail_core(&self) {
        if let Some(core) = lock(&self.core).as_ref() {
            core.fail();
        }
    }

    /// Clears the own session and stops the core; later calls return at once.
    pub async fn quit(&self) {
        let core = lock(&self.core).take();
        if let Some(core) = core {
            info!("quitting: clearing the own session");
            core.quit().await;
            info!("core stopped");
        } else {
            warn!("quit requested twice");
        }
    }
}

/// Computes how long a pause of `length` lasts when it starts at `now`.
pub fn pause_duration(length: PauseLength, now: DateTime<Local>) -> Result<Duration, CommandError> {
    match length {
        PauseLength::Minutes(minutes) if (1..=MAX_PAUSE_MINUTES).contains(&minutes) => {
            Ok(Duration::from_secs(u64::from(minutes) * 60))
        }
        PauseLength::Minutes(minutes) => Err(CommandError::Invalid {
            field: "pause",
            problem: format!("{minutes} minutes is outside 1 to {MAX_PAUSE_MINUTES}"),
        }),
        PauseLength::UntilTomorrow => Ok(until_next_midnight(now)),
    }
}

fn until_next_midnight<Tz: TimeZone>(now: DateTime<Tz>) -> Duration {
    let tomorrow = now.date_naive().succ_opt().unwrap_or(now.date_naive());
    let midnight = tomorrow.and_hms_opt(0, 0, 0).unwrap_or_default();
    // A midnight that does not exist (a DST gap) falls back to the earliest valid reading.
    let end = now
        .timezone()
        .from_local_datetime(&midnight)
        .earliest()
        .unwrap_or_else(|| now.clone() + chrono::Duration::hours(24));
    (end - now).to_std().unwrap_or(Duration::from_secs(60))
}

#[cfg(test)]
mod tests {
    use chrono::{FixedOffset, NaiveDate};

    use super::*;

    #[test]
    fn pause_lengths() {
        let now = Local::now();
        let check = |length: PauseLength, expected: Option<Duration>| {
            let result = pause_duration(length, now);
            match expected {
                Some(duration) => assert_eq!(result.unwrap(), duration, "{length:?}"),
                None => assert_eq!(result.unwrap_err().kind(), "invalid", "{length:?}"),
            }
        };
        check(PauseLength::Minutes(15), Some(Duration::from_secs(900)));
        check(PauseLength::Minutes(60), Some(Duration::from_secs(3600)));
        check(
            PauseLength::Minutes(1440),
            Some(Duration::from_secs(86_400)),
        );
        check(PauseLength::Minutes(0), None);
        check(PauseLength::Minutes(1441), None);
    }

    #[test]
    fn until_tomorrow_ends_at_midnight() {
        let zone = FixedOffset::east_opt(3600).unwrap();
        let at = |hour, minute| {
            let naive = NaiveDate::from_ymd_opt(2026, 12, 4)
                .unwrap()
                .and_hms_opt(hour, minute, 0)
                .unwrap();
            zone.from_local_datetime(&naive).unwrap()
        };
        assert_eq!(
            until_next_midnight(at(17, 30)),
            Duration::from_secs(6 * 3600 + 1800)
        );
        assert_eq!(
            until_next_midnight(at(0, 0)),
            Duration::from_secs(24 * 3600)
        );
        assert_eq!(until_next_midnight(at(23, 59)), Duration::from_secs(60));
    }

    #[test]
    fn pause_length_reads_window_json() {
        let minutes: PauseLength = serde_json::from_str(r#"{"minutes":15}"#).unwrap();
        assert_eq!(minutes, PauseLength::Minutes(15));
        let tomorrow: PauseLength = serde_json::from_str(r#""until-tomorrow""#).unwrap();
        assert_eq!(tomorrow, PauseLength::UntilTomorrow);
    }
}
