//! The window's commands through Tauri's mock runtime, against a real core whose two sides
//! are test doubles: each test invokes a command as the page would and checks what the core
//! did.

use std::sync::Arc;
use std::time::Duration;

use bridge::config::{self, ConfigFile, Paths, Policy, StartMode};
use bridge::marker::SessionMarker;
use bridge::ports::BoxFuture;
use bridge::{Account, Core, CoreParts, Notifier, Snapshot, SwyxPort, TeamsPort};
use engine::{
    GraphFailure, GraphWrite, GraphWriteResult, NotificationKind, Settings, SwyxSettable,
    TeamsPresence,
};
use serde_json::{json, Value};
use tauri::ipc::{CallbackFn, InvokeBody};
use tauri::test::{get_ipc_response, mock_builder, mock_context, noop_assets, MockRuntime};
use tauri::webview::InvokeRequest;
use tauri::{App, Manager, WebviewWindow, WebviewWindowBuilder};

use crate::shell::Shell;
use crate::wiring::Started;

/// A Teams side that is signed in and always reads Available.
struct AvailableTeams;

fn account() -> Account {
    Account {
        upn: "ada@contoso.example".into(),
        display_name: "Ada".into(),
        not_persisted_reason: None,
    }
}

impl TeamsPort for AvailableTeams {
    fn poll(&self) -> BoxFuture<'_, Result<TeamsPresence, GraphFailure>> {
        Box::pin(async {
            Ok(TeamsPresence {
                availability: "Available".into(),
                activity: "Available".into(),
                ..TeamsPresence::default()
            })
        })
    }

    fn write(&self, _write: GraphWrite) -> BoxFuture<'_, GraphWriteResult> {
        Box::pin(async { GraphWriteResult::Acknowledged })
    }

    fn restore(&self) -> BoxFuture<'_, Result<Option<Account>, bridge::SignInError>> {
        Box::pin(async { Ok(Some(account())) })
    }

    fn sign_in(&self) -> BoxFuture<'_, Result<Account, bridge::SignInError>> {
        Box::pin(async { Ok(account()) })
    }

    fn sign_out(&self) -> BoxFuture<'_, ()> {
        Box::pin(async {})
    }

    fn refresh(&self) -> BoxFuture<'_, Result<(), GraphFailure>> {
        Box::pin(async { Ok(()) })
    }
}

/// A Teams side like [`AvailableTeams`] whose `cancel_sign_in` panics, which the driver calls
/// on its own task: a stand-in for a bug in the core.
struct PanickingTeams;

impl TeamsPort for PanickingTeams {
    fn poll(&self) -> BoxFuture<'_, Result<TeamsPresence, GraphFailure>> {
        AvailableTeams.poll()
    }

    fn write(&self, write: GraphWrite) -> BoxFuture<'_, GraphWriteResult> {
        AvailableTeams.write(write)
    }

    fn restore(&self) -> BoxFuture<'_, Result<Option<Account>, bridge::SignInError>> {
        AvailableTeams.restore()
    }

    fn sign_in(&self) -> BoxFuture<'_, Result<Account, bridge::SignInError>> {
        AvailableTeams.sign_in()
    }

    fn cancel_sign_in(&self) {
        panic!("a bug in the core, for the test");
    }

    fn sign_out(&self) -> BoxFuture<'_, ()> {
        AvailableTeams.sign_out()
    }

    fn refresh(&self) -> BoxFuture<'_, Result<(), GraphFailure>> {
        AvailableTeams.refresh()
    }
}

struct AcceptingSwyx;

impl SwyxPort for AcceptingSwyx {
    fn write(&self, _status: SwyxSettable) -> BoxFuture<'_, Result<(), String>> {
        Box::pin(async { Ok(()) })
    }

    fn shutdown(&self) {}
}

struct SilentNotifier;

impl Notifier for SilentNotifier {
    fn notify(&self, _kind: NotificationKind) {}
}

/// A running app with the mock runtime, its window, and the folder its files live in.
struct Harness {
    _app: App<MockRuntime>,
    window: WebviewWindow<MockRuntime>,
    folder: tempfile::TempDir,
}

impl Harness {
    /// Starts an app in `mode`; `user_file` is written first as the user's configuration file.
    fn start(mode: StartMode, policy: Policy, user_file: Option<&ConfigFile>) -> Harness {
        Harness::start_with(mode, policy, user_file, Arc::new(AvailableTeams))
    }

    /// Like [`Harness::start`], with `teams` as the Teams side.
    fn start_with(
        mode: StartMode,
        policy: Policy,
        user_file: Option<&ConfigFile>,
        teams: Arc<dyn TeamsPort>,
    ) -> Harness {
        let folder = tempfile::tempdir().expect("temporary folder");
        let paths = Paths {
            config_file: folder.path().join("config/config.toml"),
            state_dir: folder.path().join("state"),
            log_dir: folder.path().join("logs"),
            policy_file: folder.path().join("policy.toml"),
            webview_data_dir: Some(folder.path().join("webview")),
        };
        if let Some(file) = user_file {
            config::save(&paths.config_file, file).expect("config written");
        }
        let settings = match &mode {
            StartMode::Tenant(file) => file.engine_settings(&policy),
            _ => Settings::default(),
        };
        // The Swyx side sends no reports; its sender is dropped at once.
        let (_, swyx_events) = tokio::sync::mpsc::unbounded_channel();
        let parts = CoreParts {
            clock: Arc::new(clock::SystemClock::new()),
            teams,
            swyx: Arc::new(AcceptingSwyx),
            swyx_events,
            notifier: Arc::new(SilentNotifier),
            marker: SessionMarker::new(paths.marker_file()),
            settings,
            sign_in_at_start: false,
            // Polls start at once, so the tests need not wait up to 10 s.
            randomize_polls: false,
        };
        let core = tauri::async_runtime::block_on(async { Core::start(parts) });
        let started = Started {
            core,
            demo: None,
            mode,
            paths,
            policy,
        };

        let app = mock_builder()
            .invoke_handler(crate::commands::handler())
            .build(mock_context(noop_assets()))
            .expect("mock app");
        app.manage(Shell::new(started, true));
        let window = WebviewWindowBuilder::new(&app, "main", Default::default())
            .build()
            .expect("mock window");
        Harness {
            _app: app,
            window,
            folder,
        }
    }

    fn demo() -> Harness {
        Harness::start(StartMode::Demo, Policy::default(), None)
    }

    fn shell(&self) -> tauri::State<'_, Shell> {
        self.window.state::<Shell>()
    }

    /// Invokes a command as the page does and returns its result as JSON.
    fn invoke(&self, command: &str, arguments: Value) -> Result<Value, Value> {
        let request = InvokeRequest {
            cmd: command.into(),
            callback: CallbackFn(0),
            error: CallbackFn(1),
            // On Linux the mock runtime accepts commands only from this origin.
            url: "tauri://localhost".parse().expect("url"),
            body: InvokeBody::Json(arguments),
            headers: Default::default(),
            invoke_key: tauri::test::INVOKE_KEY.into(),
        };
        get_ipc_response(&self.window, request)
            .map(|body| body.deserialize::<Value>().expect("JSON response"))
    }

    fn error_kind(&self, command: &str, arguments: Value) -> String {
        match self.invoke(command, arguments) {
            Ok(value) => panic!("{command} succeeded with {value}, expected an error"),
            Err(error) => error["kind"].as_str().expect("error kind").to_string(),
        }
    }

    /// Waits (at most 5 s) until the core publishes a snapshot that passes `check`.
    fn wait_for(&self, what: &str, check: impl Fn(&Snapshot) -> bool) -> Snapshot {
        let (mut snapshots, _) = self.shell().subscribe();
        tauri::async_runtime::block_on(async {
            let waited = tokio::time::timeout(Duration::from_secs(5), snapshots.wait_for(check));
            match waited.await {
                Ok(Ok(snapshot)) => snapshot.clone(),
                _ => panic!("timed out waiting for {what}"),
            }
        })
    }
}

#[test]
fn state_shows_mode_and_teams_tone() {
    let harness = Harness::demo();
    harness.wait_for("a Teams presence", |snapshot| snapshot.view.teams.is_some());
    let state = harness.invoke("get_state", json!({})).expect("state");
    assert_eq!(state["mode"]["kind"], "demo");
    assert_eq!(state["tone"], "available");
    assert_eq!(state["badge"], "none");
    assert_eq!(state["settings"]["poll_interval_secs"], 2.0);
    assert_eq!(state["snapshot"]["account"]["upn"], "ada@contoso.example");
    assert_eq!(state["tray_host"], true);
}

#[test]
fn sync_switch_reaches_core() {
    let harness = Harness::demo();
    harness
        .invoke("set_sync", json!({ "enabled": false }))
        .expect("set_sync");
    harness.wait_for("sync off", |snapshot| !snapshot.view.sync_enabled);
    let state = harness.invoke("get_state", json!({})).expect("state");
    assert_eq!(state["badge"], "paused");

    harness
        .invoke("set_sync", json!({ "enabled": true }))
        .expect("set_sync");
    harness.wait_for("sync on", |snapshot| snapshot.view.sync_enabled);
}

#[test]
fn direction_switch_reaches_core() {
    let harness = Harness::demo();
    let arguments = json!({ "direction": "teams-to-swyx", "enabled": false });
    harness
        .invoke("set_direction", arguments)
        .expect("set_direction");
    let snapshot = harness.wait_for("teams to swyx off", |snapshot| !snapshot.view.teams_to_swyx);
    assert!(snapshot.view.swyx_to_teams, "the other direction stays on");

    let unknown = json!({ "direction": "sideways", "enabled": false });
    assert!(harness.invoke("set_direction", unknown).is_err());
}

#[test]
fn pause_and_resume() {
    let harness = Harness::demo();
    let arguments = json!({ "length": { "minutes": 15 } });
    harness.invoke("pause", arguments).expect("pause");
    harness.wait_for("a pause", |snapshot| snapshot.view.paused_until.is_some());
    let state = harness.invoke("get_state", json!({})).expect("state");
    let until = state["times"]["paused_until"].as_u64().expect("pause end");
    let expected = chrono::Local::now().timestamp_millis() as u64 + 15 * 60 * 1000;
    assert!(
        until.abs_diff(expected) < 5_000,
        "pause ends at {until}, expected about {expected}"
    );

    harness.invoke("resume", json!({})).expect("resume");
    harness.wait_for("the end of the pause", |snapshot| {
        snapshot.view.paused_until.is_none()
    });

    let too_long = json!({ "length": { "minutes": 5000 } });
    assert_eq!(harness.error_kind("pause", too_long), "invalid");
}

#[test]
fn settings_are_checked_then_applied() {
    let harness = Harness::demo();
    let settings = |interval: f64, substitute: &str| {
        json!({ "settings": {
            "poll_interval_secs": interval,
            "speaking_substitute": substitute,
            "dnd_sets_dnd": true,
            "away_sets_away": false,
        }})
    };
    assert_eq!(
        harness.error_kind("save_settings", settings(0.5, "Away")),
        "invalid"
    );
    assert_eq!(
        harness.error_kind("save_settings", settings(601.0, "Away")),
        "invalid"
    );
    assert_eq!(
        harness.error_kind("save_settings", settings(5.0, "Available")),
        "invalid"
    );

    harness
        .invoke("save_settings", settings(5.0, "DoNotDisturb"))
        .expect("saved");
    harness.wait_for("the new interval", |snapshot| {
        snapshot.view.poll_interval == Duration::from_secs(5)
    });
    let state = harness.invoke("get_state", json!({})).expect("state");
    assert_eq!(state["settings"]["speaking_substitute"], "DoNotDisturb");
    assert_eq!(state["settings"]["away_sets_away"], false);
    assert!(
        !harness.folder.path().join("config/config.toml").exists(),
        "demo mode must not create a configuration file"
    );
}

#[test]
fn tenant_settings_saved_without_policy_values() {
    let mut file = ConfigFile::default();
    file.tenant.client_id = "user-client".into();
    let policy = Policy {
        client_id: Some("managed-client".into()),
        min_poll_interval_secs: Some(10.0),
        locked: vec!["away_sets_away".into()],
        ..Policy::default()
    };
    // The running app uses the policy's values, which the user's file on disk does not contain.
    let mode = StartMode::Tenant(file.clone().with_policy(&policy));
    let harness = Harness::start(mode, policy, Some(&file));
    let settings = |interval: f64, away_sets_away: bool| {
        json!({ "settings": {
            "poll_interval_secs": interval,
            "speaking_substitute": "Away",
            "dnd_sets_dnd": false,
            "away_sets_away": away_sets_away,
        }})
    };
    assert_eq!(
        harness.error_kind("save_settings", settings(5.0, true)),
        "invalid"
    );
    assert_eq!(
        harness.error_kind("save_settings", settings(20.0, false)),
        "managed"
    );

    harness
        .invoke("save_settings", settings(20.0, true))
        .expect("saved");
    let path = harness.folder.path().join("config/config.toml");
    let saved = config::load(&path).expect("readable").expect("present");
    assert_eq!(saved.sync.poll_interval_secs, 20.0);
    assert!(!saved.sync.dnd_sets_dnd);
    assert_eq!(saved.tenant.client_id, "user-client");

    let state = harness.invoke("get_state", json!({})).expect("state");
    assert_eq!(state["settings"]["min_poll_interval_secs"], 10.0);
    let managed = state["settings"]["managed"]
        .as_array()
        .expect("managed list");
    assert!(managed.contains(&json!("away_sets_away")), "{managed:?}");
}

#[test]
fn language_choice_is_checked() {
    let harness = Harness::demo();
    harness
        .invoke("set_language", json!({ "language": "de" }))
        .expect("de");
    let state = harness.invoke("get_state", json!({})).expect("state");
    assert_eq!(state["language"], "de");
    assert_eq!(state["settings"]["language"], "de");
    assert_eq!(
        harness.error_kind("set_language", json!({ "language": "fr" })),
        "invalid"
    );
    harness
        .invoke("set_language", json!({ "language": "en" }))
        .expect("en");
}

#[test]
fn demo_start_at_login_stays_in_memory() {
    // The mock app has no autostart plugin: reaching it would panic.
    let harness = Harness::demo();
    harness
        .invoke("set_start_at_login", json!({ "enabled": true }))
        .expect("start at login switched for this run");
    let state = harness.invoke("get_state", json!({})).expect("state");
    assert_eq!(state["settings"]["start_at_login"], true);
    assert!(!harness.folder.path().join("config/config.toml").exists());
}

#[test]
fn managed_start_at_login_is_rejected() {
    let policy = Policy {
        locked: vec!["start_at_login".into()],
        ..Policy::default()
    };
    let harness = Harness::start(StartMode::Demo, policy, None);
    let kind = harness.error_kind("set_start_at_login", json!({ "enabled": true }));
    assert_eq!(kind, "managed");
}

#[test]
fn first_sign_in_enables_start_at_login() {
    let tenant = |start_at_login: Option<bool>| {
        let mut file = ConfigFile::default();
        file.tenant.client_id = "client-1".into();
        file.app.start_at_login = start_at_login;
        file
    };
    let due = |mode: StartMode, policy: Policy, file: Option<ConfigFile>| {
        let harness = Harness::start(mode, policy, file.as_ref());
        let signed_in = harness.wait_for("the sign-in", |snapshot| snapshot.account.is_some());
        harness.shell().start_at_login_due(&signed_in)
    };

    assert!(
        due(
            StartMode::Tenant(tenant(None)),
            Policy::default(),
            Some(tenant(None))
        ),
        "the first sign-in switches start at login on"
    );
    let opted_out = Policy {
        start_at_login_on_sign_in: Some(false),
        ..Policy::default()
    };
    assert!(
        !due(
            StartMode::Tenant(tenant(None)),
            opted_out,
            Some(tenant(None))
        ),
        "a policy can keep it off"
    );
    let locked = Policy {
        locked: vec!["start_at_login".into()],
        ..Policy::default()
    };
    assert!(
        !due(StartMode::Tenant(tenant(None)), locked, Some(tenant(None))),
        "a managed setting is left alone"
    );
    assert!(
        !due(
            StartMode::Tenant(tenant(Some(false))),
            Policy::default(),
            Some(tenant(Some(false)))
        ),
        "the user's own choice stays"
    );
    assert!(
        !due(StartMode::Demo, Policy::default(), None),
        "demo mode never touches start at login"
    );
}

#[test]
fn demo_commands_need_demo_control() {
    let harness = Harness::demo();
    let cases = [
        ("demo_rows", json!({})),
        ("demo_set_teams", json!({ "row": 0 })),
        ("demo_call", json!({ "active": true })),
        ("demo_set_swyx", json!({ "status": "Away" })),
        ("demo_fault", json!({ "fault": "graph-outage" })),
        ("demo_start_tour", json!({})),
    ];
    for (command, arguments) in cases {
        assert_eq!(
            harness.error_kind(command, arguments),
            "not-demo",
            "{command}"
        );
    }
}

#[test]
fn sign_in_with_code_reaches_core() {
    let harness = Harness::demo();
    let answer = harness.invoke("sign_in_with_code", json!({}));
    assert!(answer.is_ok(), "{answer:?}");
    let answer = harness.invoke("cancel_sign_in", json!({}));
    assert!(answer.is_ok(), "{answer:?}");
}

#[test]
fn commands_after_quit_report_stopped() {
    let harness = Harness::demo();
    tauri::async_runtime::block_on(harness.shell().quit());
    assert!(!harness.shell().is_running());
    assert_eq!(
        harness.error_kind("set_sync", json!({ "enabled": false })),
        "stopped"
    );
    assert_eq!(harness.error_kind("sign_out", json!({})), "stopped");
}

#[test]
fn core_panic_shows_stopped() {
    let teams = Arc::new(PanickingTeams);
    let harness = Harness::start_with(StartMode::Demo, Policy::default(), None, teams);
    harness.wait_for("a Teams presence", |snapshot| snapshot.view.teams.is_some());
    harness
        .invoke("cancel_sign_in", json!({}))
        .expect("the command reaches the core");
    harness.wait_for("the core to stop", |snapshot| snapshot.stopped);
    let state = harness.invoke("get_state", json!({})).expect("state");
    assert_eq!(state["snapshot"]["stopped"], true);
    assert_eq!(state["badge"], "action");
    assert_eq!(
        state["tooltip"],
        "Presence Bridge has stopped syncing. Restart the app."
    );
    assert_eq!(
        harness.error_kind("set_sync", json!({ "enabled": false })),
        "stopped"
    );
    // Quit still ends the app, although the core cannot clear anything any more.
    tauri::async_runtime::block_on(harness.shell().quit());
    assert!(!harness.shell().is_running());
}

#[test]
fn demo_stop_core_needs_demo_mode() {
    // The harness has no demo controls, as a start with a tenant.
    let harness = Harness::demo();
    harness.wait_for("a Teams presence", |snapshot| snapshot.view.teams.is_some());
    assert_eq!(harness.error_kind("demo_stop_core", json!({})), "not-demo");
    assert!(!harness.shell().snapshot().stopped);
    harness
        .invoke("set_sync", json!({ "enabled": false }))
        .expect("the core still runs");
}

#[test]
fn diagnostics_in_demo_name_twin() {
    let harness = Harness::demo();
    let bundle = harness
        .invoke("diagnostics", json!({}))
        .expect("diagnostics");
    let bundle = bundle.as_str().expect("a text");
    assert!(bundle.contains("mode: demo"), "{bundle}");
    assert!(
        bundle.contains("endpoints: the in-process Graph twin on loopback"),
        "{bundle}"
    );
    for default in [
        config::DEFAULT_AUTHORITY_HOST,
        config::DEFAULT_GRAPH_BASE,
        "tenant: organizations",
        "client_id:",
    ] {
        assert!(
            !bundle.contains(default),
            "demo mode lists {default:?}:\n{bundle}"
        );
    }
}

#[test]
fn diagnostics_not_configured_name_no_endpoint() {
    let mode = StartMode::NotConfigured {
        path: "/home/user/.config/presence-bridge/config.toml".into(),
        error: "poll_interval_secs is 0.1; it must be between 1 and 600".into(),
    };
    let harness = Harness::start(mode, Policy::default(), None);
    let bundle = harness
        .invoke("diagnostics", json!({}))
        .expect("diagnostics");
    let bundle = bundle.as_str().expect("a text");
    assert!(bundle.contains("mode: not configured"), "{bundle}");
    assert!(
        bundle.contains("endpoints: none, because the configuration file was rejected"),
        "{bundle}"
    );
    for default in [
        config::DEFAULT_AUTHORITY_HOST,
        config::DEFAULT_GRAPH_BASE,
        "tenant: organizations",
    ] {
        assert!(
            !bundle.contains(default),
            "a start without configuration lists {default:?}:\n{bundle}"
        );
    }
}

#[test]
fn diagnostics_leave_out_personal_data() {
    let mut file = ConfigFile::default();
    file.tenant.client_id = "8a6f1c2e-1b2c-4d5e-9f00-123456789abc".into();
    file.tenant.tenant = "contoso.example".into();
    let mode = StartMode::Tenant(file.clone());
    let harness = Harness::start(mode, Policy::default(), Some(&file));
    harness.wait_for("a Teams presence", |snapshot| {
        snapshot.view.teams.is_some() && snapshot.account.is_some()
    });

    // A log as a careless component might write it: every kind of value the bundle must drop.
    let access_token =
        "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJ1cG4iOiJhZGFAY29udG9zby5leGFtcGxlIn0.c2lnbmF0dXJl";
    let refresh_token = "0.AXkAq3v9RkLm2pQ8sT1uVwXyZaBcDeFgHiJkLmNoPqRsTuVwXyZ";
    let secrets = [
        "ada@contoso.example",
        "sam.other@fabrikam.example",
        access_token,
        refresh_token,
        "M.R3_BAY.c0d3-V4lu3",
        "ABCD-EFGH",
        "Lunch until 2",
    ];
    let log = [
        "INFO graph::auth: signed in upn=ada@contoso.example name=Ada Lovelace".to_string(),
        format!("DEBUG graph::http: request authorization=Bearer {access_token}"),
        format!("DEBUG graph::auth: refreshing refresh_token={refresh_token} scope=offline_access"),
        "DEBUG graph::loopback: callback GET /?code=M.R3_BAY.c0d3-V4lu3&state=s7 HTTP/1.1".into(),
        "INFO bridge::driver: device code user_code=ABCD-EFGH expires_in=900".into(),
        "INFO swyx::adapter: SwyxIt! identity email=sam.other@fabrikam.example".into(),
        "INFO bridge::driver: sync applied direction=TeamsToSwyx from=DoNotDisturb/Presenting to=Do not disturb latency_ms=812".into(),
        "INFO swyx::adapter: SwyxIt! usable first_of_run=true status=Away speaking=false".into(),
        "INFO graph::client: status message message=Lunch until 2 availability=BeRightBack".into(),
        "WARN swyx::adapter: writing failed error=automation call DoNotDisturb failed".into(),
        "INFO presence_bridge: Presence Bridge started version=0.1.0 demo=false".into(),
    ];
    let logs = harness.folder.path().join("logs");
    std::fs::create_dir_all(&logs).expect("log folder");
    std::fs::write(logs.join("presence-bridge.2026-12-04.log"), log.join("\n")).expect("log");

    let bundle = harness
        .invoke("diagnostics", json!({}))
        .expect("diagnostics");
    let bundle = bundle.as_str().expect("a text");
    for secret in secrets {
        assert!(
            !bundle.contains(secret),
            "the bundle contains {secret:?}:\n{bundle}"
        );
    }
    let status_words = [
        "Available",
        "Away",
        "Do not disturb",
        "DoNotDisturb",
        "Presenting",
        "BeRightBack",
    ];
    for word in status_words {
        assert!(
            !bundle.contains(word),
            "the bundle contains the status {word:?}:\n{bundle}"
        );
    }

    assert!(bundle.contains(env!("CARGO_PKG_VERSION")), "{bundle}");
    assert!(
        bundle.contains("client_id: 8a6f1c2e-1b2c-4d5e-9f00-123456789abc"),
        "the client id is no personal data and stays:\n{bundle}"
    );
    assert!(bundle.contains("tenant: contoso.example"), "{bundle}");
    assert!(bundle.contains("teams: ok"), "{bundle}");
    assert!(bundle.contains("signed_in: true"), "{bundle}");
    assert!(
        bundle.contains("direction=TeamsToSwyx from=<redacted> to=<redacted> latency_ms=812"),
        "log lines keep their structure:\n{bundle}"
    );
    assert!(bundle.contains("[log, last 11 lines]"), "{bundle}");
}
