//! `--uninstall`: what the uninstaller runs as each user before it removes the program.
//!
//! It first asks this user's running instances to quit, which clears their Teams call status,
//! and waits for them to exit, so that none of them writes a token or a marker afterwards.
//! Then it removes the user's sign-in from the OS keyring, the state folder (session marker and
//! logs), the webview's data folder and the start-at-login entry. The settings file stays for a
//! reinstall.

use std::sync::Arc;
use std::time::Duration;

use bridge::config::{self, Paths};
use graph::KeyringStore;

/// The name of the start-at-login entry (the `.desktop` file on Linux, the `Run` value on
/// Windows); the autostart plugin is given the same name.
pub const AUTOSTART_NAME: &str = "Presence Bridge";

/// How long running instances get to clear their session and exit.
const QUIT_WAIT: Duration = Duration::from_secs(10);

/// Runs the removal and prints what it did; returns false when a part failed.
pub fn run(paths: &Paths) -> bool {
    let mut ok = true;
    match stop_running_instances(QUIT_WAIT) {
        Ok(0) => println!("no running instance"),
        Ok(stopped) => println!("running instances stopped: {stopped}"),
        Err(error) => {
            println!("FAILED: running instances not stopped: {error}");
            ok = false;
        }
    }

    let policy = config::load_policy(&paths.policy_file);
    let removal =
        bridge::uninstall::remove_user_data(paths, &policy, Arc::new(KeyringStore::new()));
    for line in &removal.done {
        println!("{line}");
    }
    for line in &removal.failed {
        println!("FAILED: {line}");
    }
    ok &= removal.failed.is_empty();

    match remove_autostart() {
        Ok(()) => println!("start at login removed"),
        Err(error) => {
            println!("FAILED: start at login not removed: {error}");
            ok = false;
        }
    }
    if paths.config_file.exists() {
        // Settings stay, so that a reinstall keeps them; the file holds no secret.
        println!("settings kept: {}", paths.config_file.display());
    }
    ok
}

fn remove_autostart() -> Result<(), String> {
    let exe = std::env::current_exe().map_err(|error| error.to_string())?;
    let launcher = auto_launch::AutoLaunchBuilder::new()
        .set_app_name(AUTOSTART_NAME)
        .set_app_path(&exe.display().to_string())
        .build()
        .map_err(|error| error.to_string())?;
    launcher.disable().map_err(|error| error.to_string())
}

/// Sends SIGTERM to this user's other processes of this program file (the app quits on it and clears
/// its session first) and waits until they exited. Returns how many there were.
#[cfg(unix)]
fn stop_running_instances(wait: Duration) -> Result<usize, String> {
    // Only processes of this very program file: a second copy elsewhere (a portable or
    // development build) is another installation.
    let own_exe = std::env::current_exe().map_err(|error| error.to_string())?;
    let own_pid = std::process::id();
    // SAFETY: getuid has no preconditions and cannot fail.
    let own_uid = unsafe { libc::getuid() };

    let mut running = Vec::new();
    let entries = std::fs::read_dir("/proc").map_err(|error| format!("/proc: {error}"))?;
    for entry in entries.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|pid| pid.parse::<u32>().ok())
        else {
            continue;
        };
        if pid == own_pid {
            continue;
        }
        let Ok(exe) = std::fs::read_link(entry.path().join("exe")) else {
            continue;
        };
        if exe != own_exe {
            continue;
        }
        let owner = std::fs::metadata(entry.path()).map(|meta| {
            use std::os::unix::fs::MetadataExt;
            meta.uid()
        });
        if owner.ok() == Some(own_uid) {
            running.push(pid);
        }
    }
    for &pid in &running {
        // SAFETY: kill with a pid read from /proc; a process that exited meanwhile makes it
        // return ESRCH, which is harmless.
        unsafe {
            libc::kill(pid as libc::pid_t, libc::SIGTERM);
        }
    }
    let deadline = std::time::Instant::now() + wait;
    while running.iter().any(|&pid| alive(pid)) {
        if std::time::Instant::now() > deadline {
            return Err(format!("still running after {} s", wait.as_secs()));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Ok(running.len())
}

/// Whether `pid` still runs; a zombie, which only waits for its parent to read its exit code,
/// counts as exited.
#[cfg(unix)]
fn alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // The state follows the command name, which is in brackets and may contain spaces.
        Ok(stat) => stat
            .rsplit_once(") ")
            .is_some_and(|(_, rest)| !rest.starts_with('Z')),
        Err(_) => false,
    }
}

/// Asks this session's running instance to quit through its hidden session window (the app
/// treats `WM_CLOSE` there as Quit and clears its session first) and waits until it exited.
#[cfg(windows)]
fn stop_running_instances(wait: Duration) -> Result<usize, String> {
    crate::windows_session::stop_running_instance(wait)
}

#[cfg(test)]
mod tests {
    /// The webview's data folder is named after the identifier, so the uninstall must use the
    /// one Tauri is built with.
    #[test]
    fn identifier_matches_tauri_config() {
        let config: serde_json::Value =
            serde_json::from_str(include_str!("../tauri.conf.json")).expect("tauri.conf.json");
        assert_eq!(
            config["identifier"].as_str(),
            Some(bridge::config::APP_IDENTIFIER)
        );
    }
}
