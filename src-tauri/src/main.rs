//! Presence Bridge: a per-user tray app that keeps Microsoft Teams presence and SwyxWare
//! presence in sync, both ways.
//!
//! This binary parses the command line, starts logging and runs either the tray app (Tauri)
//! or, with `--headless`, the core alone.

// Hide the console window of release builds on Windows.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

mod app;
mod cli;
mod commands;
mod diagnostics;
mod error;
mod headless;
mod i18n;
mod lifecycle;
mod logging;
#[cfg(target_os = "linux")]
mod logind;
mod notifier;
mod shell;
mod tray;
mod tray_host;
mod uninstall;
mod view;
#[cfg(windows)]
mod windows_session;
mod wiring;

#[cfg(test)]
mod tests;

use std::process::ExitCode;

use bridge::config::Paths;
use clap::Parser;
use tracing::{error, info, warn};

fn main() -> ExitCode {
    let args = cli::Args::parse();
    if let Some(file) = &args.probe_swyx {
        return probe_swyx(file);
    }
    let paths = Paths::for_user();
    if args.uninstall {
        // No log file: the state folder with the logs is one of the things removed.
        return if uninstall::run(&paths) {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        };
    }
    let logs = logging::init(&paths.log_dir);
    info!(
        version = env!("CARGO_PKG_VERSION"),
        log_folder = %logs.folder.as_ref().map_or("none".into(), |folder| folder.display().to_string()),
        "presence bridge starting"
    );

    let options = args.options();
    let result = if options.headless {
        headless::run(&options).map(|()| 0)
    } else {
        app::run(options)
    };
    match result {
        Ok(code) => {
            info!(code, "presence bridge stopped");
            ExitCode::from(u8::try_from(code).unwrap_or(1))
        }
        Err(failure) if handed_to_quitting_instance(&failure) => start_again(),
        Err(failure) => {
            error!(error = format!("{failure:#}"), "presence bridge failed");
            ExitCode::FAILURE
        }
    }
}

/// Set in the environment of a start that follows a failed hand-over, so it happens once.
const STARTED_AGAIN_VARIABLE: &str = "PRESENCE_BRIDGE_STARTED_AGAIN";

/// Returns whether this start found a running instance that quit before it took over the
/// arguments, as when the app is started again while it is still quitting.
fn handed_to_quitting_instance(failure: &anyhow::Error) -> bool {
    // NOTE: the plugin reports this only as text ("failed to forward arguments to the running
    // instance", tauri-plugin-single-instance 2.5 on Linux); the tray test breaks if it changes.
    let text = format!("{failure:#}");
    text.contains("single-instance")
        && text.contains("forward")
        && std::env::var_os(STARTED_AGAIN_VARIABLE).is_none()
}

/// Starts this program once more with the same arguments, after the quitting instance had
/// time to release its single-instance name, and returns that run's exit code.
fn start_again() -> ExitCode {
    warn!("the running instance quit during this start; starting again");
    std::thread::sleep(std::time::Duration::from_secs(1));
    let program = match std::env::current_exe() {
        Ok(program) => program,
        Err(error) => {
            error!(%error, "failed to find this program's path; start Presence Bridge again");
            return ExitCode::FAILURE;
        }
    };
    let status = std::process::Command::new(program)
        .args(std::env::args_os().skip(1))
        .env(STARTED_AGAIN_VARIABLE, "1")
        .status();
    match status {
        Ok(status) => ExitCode::from(
            status
                .code()
                .and_then(|code| u8::try_from(code).ok())
                .unwrap_or(1),
        ),
        Err(error) => {
            error!(%error, "failed to start this program again; start Presence Bridge again");
            ExitCode::FAILURE
        }
    }
}

/// Writes what the running SwyxIt! exposes through its client API, for confirming the member
/// signatures the adapter relies on.
#[cfg(windows)]
fn probe_swyx(file: &std::path::Path) -> ExitCode {
    match std::fs::write(file, swyx_com::probe_type_info(swyx_com::PROG_ID)) {
        Ok(()) => {
            println!("SwyxIt! probe written to {}", file.display());
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("cannot write {}: {error}", file.display());
            ExitCode::FAILURE
        }
    }
}

/// SwyxIt! exists only on Windows.
#[cfg(not(windows))]
fn probe_swyx(_file: &std::path::Path) -> ExitCode {
    eprintln!("--probe-swyx needs Windows: SwyxIt! and its client API exist only there");
    ExitCode::from(2)
}
