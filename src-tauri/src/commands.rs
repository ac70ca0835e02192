//! The window's commands: each one checks its arguments and calls one [`Shell`] method.

use engine::{Direction, SwyxSettable};
use tauri::{AppHandle, Runtime, State};
use tauri_plugin_autostart::ManagerExt;
use tracing::info;

use crate::error::CommandError;
use crate::shell::{PauseLength, SettingsInput, Shell};
use crate::view::UiState;
use crate::wiring::{DemoControl, DemoFault, DemoRow};

/// The handler with every command, for the app and the tests.
pub fn handler<R: Runtime>() -> impl Fn(tauri::ipc::Invoke<R>) -> bool + Send + Sync + 'static {
    tauri::generate_handler![
        get_state,
        set_sync,
        set_direction,
        pause,
        resume,
        resolve_conflict,
        sign_in,
        sign_in_with_code,
        cancel_sign_in,
        sign_out,
        save_settings,
        set_language,
        set_start_at_login,
        diagnostics,
        demo_rows,
        demo_set_teams,
        demo_call,
        demo_set_swyx,
        demo_fault,
        demo_start_tour,
        demo_stop_core,
        quit,
        restart,
    ]
}

#[tauri::command]
fn get_state(shell: State<'_, Shell>) -> UiState {
    shell.ui_state()
}

/// Returns the diagnostics text for "Copy diagnostics"; the page copies it to the clipboard.
#[tauri::command]
fn diagnostics(shell: State<'_, Shell>) -> String {
    shell.diagnostics()
}

#[tauri::command]
fn set_sync(shell: State<'_, Shell>, enabled: bool) -> Result<(), CommandError> {
    shell.set_sync(enabled)
}

#[tauri::command]
fn set_direction(
    shell: State<'_, Shell>,
    direction: Direction,
    enabled: bool,
) -> Result<(), CommandError> {
    shell.set_direction(direction, enabled)
}

#[tauri::command]
fn pause(shell: State<'_, Shell>, length: PauseLength) -> Result<(), CommandError> {
    shell.pause(length, chrono::Local::now())
}

#[tauri::command]
fn resume(shell: State<'_, Shell>) -> Result<(), CommandError> {
    shell.resume()
}

#[tauri::command]
fn resolve_conflict(shell: State<'_, Shell>) -> Result<(), CommandError> {
    shell.resolve_conflict()
}

#[tauri::command]
fn sign_in(shell: State<'_, Shell>) -> Result<(), CommandError> {
    shell.sign_in()
}

#[tauri::command]
fn sign_in_with_code(shell: State<'_, Shell>) -> Result<(), CommandError> {
    shell.sign_in_with_code()
}

#[tauri::command]
fn cancel_sign_in(shell: State<'_, Shell>) -> Result<(), CommandError> {
    shell.cancel_sign_in()
}

#[tauri::command]
fn sign_out(shell: State<'_, Shell>) -> Result<(), CommandError> {
    shell.sign_out()
}

#[tauri::command]
fn save_settings(shell: State<'_, Shell>, settings: SettingsInput) -> Result<(), CommandError> {
    shell.apply_settings(settings)
}

#[tauri::command]
fn set_language(shell: State<'_, Shell>, language: String) -> Result<(), CommandError> {
    shell.set_language(&language)
}

#[tauri::command]
fn set_start_at_login<R: Runtime>(
    app: AppHandle<R>,
    shell: State<'_, Shell>,
    enabled: bool,
) -> Result<(), CommandError> {
    shell.check_start_at_login_change()?;
    if !shell.saves_settings() {
        // Demo mode changes nothing on the machine; the switch lasts until Quit.
        info!(enabled, "start at login changed for this run only");
        return shell.record_start_at_login(enabled);
    }
    let autostart = app.autolaunch();
    let changed = if enabled {
        autostart.enable()
    } else {
        autostart.disable()
    };
    changed.map_err(CommandError::Autostart)?;
    info!(enabled, "start at login changed");
    shell.record_start_at_login(enabled)
}

#[tauri::command]
fn demo_rows(shell: State<'_, Shell>) -> Result<&'static [DemoRow], CommandError> {
    shell.demo()?;
    Ok(DemoControl::rows())
}

#[tauri::command]
fn demo_set_teams(shell: State<'_, Shell>, row: usize) -> Result<(), CommandError> {
    let demo = shell.demo()?;
    let rows = DemoControl::rows();
    let Some(row) = rows.get(row) else {
        return Err(CommandError::Invalid {
            field: "row",
            problem: format!("{row} is not below the row count {}", rows.len()),
        });
    };
    demo.set_teams(row.availability, row.activity, row.out_of_office);
    Ok(())
}

#[tauri::command]
fn demo_call(shell: State<'_, Shell>, active: bool) -> Result<(), CommandError> {
    shell.demo()?.swyx_call(active);
    Ok(())
}

#[tauri::command]
fn demo_set_swyx(shell: State<'_, Shell>, status: SwyxSettable) -> Result<(), CommandError> {
    shell.demo()?.set_swyx(status);
    Ok(())
}

#[tauri::command]
fn demo_fault(shell: State<'_, Shell>, fault: DemoFault) -> Result<(), CommandError> {
    shell.demo()?.fault(fault);
    Ok(())
}

#[tauri::command]
fn demo_start_tour(shell: State<'_, Shell>) -> Result<(), CommandError> {
    shell.start_tour()
}

/// Stops the app core as a bug in it would, to show what the window and the tray do then.
#[tauri::command]
fn demo_stop_core(shell: State<'_, Shell>) -> Result<(), CommandError> {
    shell.demo()?;
    info!("demo: stopping the app core");
    shell.fail_core();
    Ok(())
}

/// Starts the app again; the window offers this after the core has stopped.
#[tauri::command]
fn restart<R: Runtime>(app: AppHandle<R>) {
    info!("restart from the window");
    crate::app::restart(app);
}

/// Quits the app; the window offers this when there is no tray menu.
#[tauri::command]
fn quit<R: Runtime>(app: AppHandle<R>) {
    info!("quit from the window");
    crate::app::quit(app);
}
