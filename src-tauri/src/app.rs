//! The tray app: Tauri with one window, the tray icon and the core on Tauri's async runtime.
//!
//! Closing the window only hides it; sync goes on until Quit (tray menu, SIGTERM or Ctrl-C),
//! which clears the own Graph session before the process exits.

use anyhow::Context;
use tauri::{AppHandle, Emitter, Manager, RunEvent, Runtime, WindowEvent};
use tauri_plugin_autostart::ManagerExt;
use tracing::{debug, error, info, warn};

use crate::commands;
use crate::headless::shutdown_signal;
use crate::lifecycle::{self, LifecycleEvent};
use crate::shell::Shell;
use crate::tray::Tray;
use crate::tray_host;
use crate::uninstall::AUTOSTART_NAME;
use crate::wiring::{self, Options};

/// The label of the one window.
pub const MAIN_WINDOW: &str = "main";
/// The event that carries a [`crate::view::UiState`] to the window on every change.
pub const STATE_EVENT: &str = "state";

/// Runs the app until Quit and returns the exit code.
pub fn run(options: Options) -> anyhow::Result<i32> {
    let context = tauri::generate_context!();
    announce_running_instance(&context.config().identifier);
    let app = tauri::Builder::default()
        .plugin(tauri_plugin_single_instance::init(|app, _args, _cwd| {
            info!("second launch: showing the first instance's window");
            show_main_window(app);
        }))
        .plugin(
            tauri_plugin_autostart::Builder::new()
                .app_name(AUTOSTART_NAME)
                // At login the app starts in the tray; the window opens from there.
                .arg("--hidden")
                .build(),
        )
        .invoke_handler(commands::handler())
        .on_window_event(|window, event| {
            if let WindowEvent::CloseRequested { api, .. } = event {
                api.prevent_close();
                if let Err(error) = window.hide() {
                    warn!(%error, "window not hidden");
                }
            }
        })
        .setup(move |app| Ok(setup(app, &options)?))
        .build(context)
        .context("cannot start the window system")?;
    Ok(app.run_return(on_run_event))
}

/// Logs that this start hands over to the instance already running for this user. The
/// single-instance plugin does that hand-over and exits without a word.
#[cfg(target_os = "linux")]
fn announce_running_instance(identifier: &str) {
    // The plugin's D-Bus name (tauri-plugin-single-instance 2.5 on Linux).
    let name = format!("{identifier}.SingleInstance");
    match tauri::async_runtime::block_on(tray_host::name_has_owner(&name)) {
        Ok(true) => info!("Presence Bridge is already running; showing its window instead"),
        Ok(false) => {}
        // Without a session bus the plugin cannot find other instances either.
        Err(error) => debug!(%error, "cannot ask the session bus for a running instance"),
    }
}

/// Elsewhere the plugin finds the running instance without D-Bus, and a Windows build has no
/// console to show such a line.
#[cfg(not(target_os = "linux"))]
fn announce_running_instance(_identifier: &str) {}

/// Starts the core and the tray. The core starts here, after the single-instance plugin, so
/// that a second launch never starts a second core.
fn setup(app: &mut tauri::App, options: &Options) -> anyhow::Result<()> {
    let (started, tray_host) = tauri::async_runtime::block_on(async {
        (wiring::start(options).await, tray_host::available().await)
    });
    let started = match started {
        Ok(started) => started,
        Err(failure) => {
            // An error returned from the setup hook makes Tauri panic, so the app exits on
            // its own with code 1 instead.
            error!(error = format!("{failure:#}"), "cannot start the app core");
            app.handle().exit(1);
            return Ok(());
        }
    };
    info!(tray_host, demo = started.demo.is_some(), "app core started");
    app.manage(Shell::new(started, tray_host));

    let handle = app.handle().clone();
    let tray = match Tray::build(&handle, &handle.state::<Shell>()) {
        Ok(tray) => Some(tray),
        Err(error) => {
            // Without a tray the window is the only way in, so it opens at start.
            warn!(%error, "tray icon not created; the window stays available instead");
            None
        }
    };
    // A start by hand opens the window, as any app does. `--hidden` (start at login) keeps it
    // closed, but only where the tray icon can be seen.
    let show_at_start = !options.hidden || !tray_host || tray.is_none();
    tauri::async_runtime::spawn(forward_state(handle.clone(), tray));
    tauri::async_runtime::spawn(quit_on_signal(handle.clone()));
    tauri::async_runtime::spawn(follow_lifecycle(handle.clone()));
    if options.demo_tour {
        if let Err(error) = handle.state::<Shell>().start_tour() {
            warn!(error = %error.detail(), "demo tour not started");
        }
    }
    if options.demo_call {
        match handle.state::<Shell>().demo() {
            Ok(demo) => {
                demo.swyx_call(true);
                info!("demo call started");
            }
            Err(error) => warn!(error = %error.detail(), "demo call not started"),
        }
    }
    if show_at_start {
        show_main_window(&handle);
    }
    Ok(())
}

/// Pushes the state to the window and the tray on every change, until the app exits.
async fn forward_state<R: Runtime>(app: AppHandle<R>, tray: Option<Tray<R>>) {
    let shell = app.state::<Shell>();
    let (mut snapshots, mut changes) = shell.subscribe();
    let mut start_at_login_tried = false;
    let mut core_running = true;
    loop {
        let state = shell.ui_state();
        // Quit takes the core away before the app exits, and the tray and the window go with
        // it; only a core that failed by itself is shown as stopped.
        if state.snapshot.stopped && !shell.is_running() {
            break;
        }
        if let Some(tray) = &tray {
            tray.update(&state);
        }
        if let Err(error) = app.emit(STATE_EVENT, &state) {
            warn!(%error, "state not sent to the window");
        }
        if !start_at_login_tried && shell.start_at_login_due(&state.snapshot) {
            start_at_login_tried = true;
            enable_start_at_login(&app, &shell);
        }
        // After the core has failed, local changes such as the language still reach the tray
        // and the window.
        tokio::select! {
            changed = snapshots.changed(), if core_running => core_running = changed.is_ok(),
            changed = changes.changed() => if changed.is_err() { break },
        }
    }
}

/// Switches start at login on after the first successful sign-in.
fn enable_start_at_login<R: Runtime>(app: &AppHandle<R>, shell: &Shell) {
    if let Err(error) = app.autolaunch().enable() {
        warn!(%error, "start at login not switched on after the first sign-in");
        return;
    }
    info!("start at login switched on after the first sign-in");
    if let Err(error) = shell.record_start_at_login(true) {
        warn!(error = %error.detail(), "start at login not recorded");
    }
}

/// Passes the OS session's sleeps, wake-ups and end to the core; the session's end also
/// quits the app.
async fn follow_lifecycle<R: Runtime>(app: AppHandle<R>) {
    let mut events = lifecycle::follow();
    while let Some(event) = events.recv().await {
        let shell = app.state::<Shell>();
        match event {
            LifecycleEvent::Suspending(ack) => {
                shell.suspend().await;
                let _ = ack.send(());
            }
            LifecycleEvent::Resumed => {
                if let Err(error) = shell.resumed() {
                    warn!(error = %error.detail(), "resume not passed to the core");
                }
            }
            LifecycleEvent::SessionEnding(ack) => {
                shell.quit().await;
                let _ = ack.send(());
                app.exit(0);
                return;
            }
        }
    }
}

async fn quit_on_signal<R: Runtime>(app: AppHandle<R>) {
    shutdown_signal().await;
    info!("signal received");
    quit(app);
}

/// Shows, unminimizes and focuses the window.
pub fn show_main_window<R: Runtime>(app: &AppHandle<R>) {
    let Some(window) = app.get_webview_window(MAIN_WINDOW) else {
        warn!("main window not found");
        return;
    };
    let shown = window
        .show()
        .and_then(|()| window.unminimize())
        .and_then(|()| window.set_focus());
    if let Err(error) = shown {
        warn!(%error, "window not shown");
    }
}

/// Clears the own session, stops the core, then exits with code 0.
pub fn quit<R: Runtime>(app: AppHandle<R>) {
    tauri::async_runtime::spawn(async move {
        app.state::<Shell>().quit().await;
        app.exit(0);
    });
}

/// Stops the core like Quit, then starts this program again with the same arguments and exits.
pub fn restart<R: Runtime>(app: AppHandle<R>) {
    tauri::async_runtime::spawn(async move {
        app.state::<Shell>().quit().await;
        // The new process must not find this one's single-instance name and hand over to it.
        tauri_plugin_single_instance::destroy(&app);
        if let Err(error) = start_this_program_again() {
            error!(%error, "the app did not start again; start Presence Bridge by hand");
        }
        app.exit(0);
    });
}

fn start_this_program_again() -> std::io::Result<()> {
    let program = std::env::current_exe()?;
    std::process::Command::new(program)
        .args(std::env::args_os().skip(1))
        .spawn()?;
    Ok(())
}

fn on_run_event<R: Runtime>(app: &AppHandle<R>, event: RunEvent) {
    if let RunEvent::ExitRequested { api, .. } = event {
        // An exit that did not come through `quit` (the OS, a closed last window) first
        // stops the core, so the own session is cleared.
        let running = app
            .try_state::<Shell>()
            .is_some_and(|shell| shell.is_running());
        if running {
            api.prevent_exit();
            quit(app.clone());
        }
    }
}
