//! Windows' notices of log-off, shutdown, sleep and wake-up, heard by a hidden top-level window.
//!
//! Windows sends `WM_QUERYENDSESSION`, `WM_ENDSESSION` and `WM_POWERBROADCAST` to every
//! top-level window, but not to message-only windows, so the window is a normal one that is
//! never shown. It runs its own message loop on its own thread. While a notice is handled the
//! window procedure blocks, which is how Windows learns to wait: at most
//! [`crate::lifecycle::ACK_TIMEOUT`], below the 5 s after which Windows lists the app as
//! blocking the shutdown and the 2 s it grants a suspend handler before it goes on anyway.

use std::sync::OnceLock;

use tokio::runtime::Handle;
use tokio::sync::mpsc;
use tracing::{info, warn};
use windows::core::{w, PCWSTR};
use windows::Win32::Foundation::{HWND, LPARAM, LRESULT, WPARAM};
use windows::Win32::System::LibraryLoader::GetModuleHandleW;
use windows::Win32::System::Shutdown::{ShutdownBlockReasonCreate, ShutdownBlockReasonDestroy};
use windows::Win32::UI::WindowsAndMessaging::{
    CreateWindowExW, DefWindowProcW, DispatchMessageW, GetMessageW, RegisterClassW,
    TranslateMessage, MSG, PBT_APMRESUMEAUTOMATIC, PBT_APMSUSPEND, WINDOW_EX_STYLE, WM_CLOSE,
    WM_ENDSESSION, WM_POWERBROADCAST, WM_QUERYENDSESSION, WNDCLASSW, WS_OVERLAPPED,
};

use crate::lifecycle::{send_and_wait, LifecycleEvent};

const CLASS_NAME: PCWSTR = w!("PresenceBridgeSessionWatcher");

/// The event channel and runtime of the window procedure, set once before the window exists.
static LISTENER: OnceLock<(mpsc::Sender<LifecycleEvent>, Handle)> = OnceLock::new();

/// Starts the hidden window on its own thread; its notices go to `events`, handled on
/// `runtime`.
pub fn spawn(events: mpsc::Sender<LifecycleEvent>, runtime: Handle) {
    if LISTENER.set((events, runtime)).is_err() {
        warn!("the session watcher runs already");
        return;
    }
    let started = std::thread::Builder::new()
        .name("session-watcher".into())
        .spawn(|| {
            if let Err(error) = run_window() {
                warn!(%error, "log-off and sleep notices not followed");
            }
        });
    if let Err(error) = started {
        warn!(%error, "session watcher thread not started");
    }
}

/// Creates the window and pumps its messages until the thread's message queue ends.
fn run_window() -> windows::core::Result<()> {
    // SAFETY: plain Win32 calls with valid arguments. The class name is a static string, and
    // the window procedure is a valid `extern "system"` function that lives as long as the
    // process.
    unsafe {
        let instance = GetModuleHandleW(None)?;
        let class = WNDCLASSW {
            lpfnWndProc: Some(window_procedure),
            hInstance: instance.into(),
            lpszClassName: CLASS_NAME,
            ..Default::default()
        };
        if RegisterClassW(&class) == 0 {
            return Err(windows::core::Error::from_thread());
        }
        // A top-level window (no parent, not HWND_MESSAGE) that is never shown.
        CreateWindowExW(
            WINDOW_EX_STYLE::default(),
            CLASS_NAME,
            w!("Presence Bridge"),
            WS_OVERLAPPED,
            0,
            0,
            0,
            0,
            None,
            None,
            Some(instance.into()),
            None,
        )?;
        info!("following log-off, shutdown and sleep notices");
        let mut message = MSG::default();
        while GetMessageW(&mut message, None, 0, 0).as_bool() {
            let _ = TranslateMessage(&message);
            DispatchMessageW(&message);
        }
    }
    Ok(())
}

extern "system" fn window_procedure(
    window: HWND,
    message: u32,
    wparam: WPARAM,
    lparam: LPARAM,
) -> LRESULT {
    match message {
        // Agree to end the session; the clearing happens on WM_ENDSESSION, once it is sure.
        WM_QUERYENDSESSION => LRESULT(1),
        WM_ENDSESSION if wparam.0 != 0 => {
            info!("the session ends: log-off, shutdown or restart");
            // SAFETY: `window` is this window; the reason string is static.
            let blocked = unsafe {
                ShutdownBlockReasonCreate(window, w!("Clearing your call status in Teams"))
            };
            notify_and_wait(LifecycleEvent::SessionEnding);
            if blocked.is_ok() {
                // SAFETY: as above.
                let _ = unsafe { ShutdownBlockReasonDestroy(window) };
            }
            LRESULT(0)
        }
        // Only `--uninstall` closes this hidden window: it asks the app to quit.
        WM_CLOSE => {
            info!("quit requested by the uninstaller");
            notify_and_wait(LifecycleEvent::SessionEnding);
            LRESULT(0)
        }
        WM_POWERBROADCAST => {
            match wparam.0 as u32 {
                PBT_APMSUSPEND => {
                    info!("the machine is about to sleep");
                    notify_and_wait(LifecycleEvent::Suspending);
                }
                // Sent on every wake-up; PBT_APMRESUMESUSPEND follows only when a person woke
                // the machine, so it is not handled to avoid a second notice.
                PBT_APMRESUMEAUTOMATIC => {
                    info!("the machine woke up");
                    notify(LifecycleEvent::Resumed);
                }
                _ => {}
            }
            LRESULT(1)
        }
        // SAFETY: the default procedure for every other message of this window.
        _ => unsafe { DefWindowProcW(window, message, wparam, lparam) },
    }
}

/// Asks the running instance of this session to quit by closing its hidden window, and waits
/// up to `wait` for its process to exit. Returns how many instances there were (0 or 1).
pub fn stop_running_instance(wait: std::time::Duration) -> Result<usize, String> {
    use windows::Win32::Foundation::{CloseHandle, WAIT_OBJECT_0};
    use windows::Win32::System::Threading::{
        OpenProcess, WaitForSingleObject, PROCESS_SYNCHRONIZE,
    };
    use windows::Win32::UI::WindowsAndMessaging::{
        FindWindowW, GetWindowThreadProcessId, PostMessageW,
    };

    // SAFETY: plain Win32 calls; the process handle is closed on every path below.
    unsafe {
        // FindWindowW looks only at this session's desktop, so other users' instances on a
        // remote desktop server are left alone.
        let Ok(window) = FindWindowW(CLASS_NAME, None) else {
            return Ok(0);
        };
        let mut pid = 0u32;
        GetWindowThreadProcessId(window, Some(&mut pid));
        let process = OpenProcess(PROCESS_SYNCHRONIZE, false, pid)
            .map_err(|error| format!("process {pid} not opened: {error}"))?;
        let waited = PostMessageW(Some(window), WM_CLOSE, WPARAM(0), LPARAM(0))
            .map_err(|error| format!("quit request not sent: {error}"))
            .map(|()| WaitForSingleObject(process, wait.as_millis() as u32));
        let _ = CloseHandle(process);
        match waited? {
            WAIT_OBJECT_0 => Ok(1),
            _ => Err(format!("still running after {} s", wait.as_secs())),
        }
    }
}

/// Sends an event that needs an acknowledgement and blocks until it came or timed out.
fn notify_and_wait(event: fn(tokio::sync::oneshot::Sender<()>) -> LifecycleEvent) {
    if let Some((events, runtime)) = LISTENER.get() {
        runtime.block_on(send_and_wait(events, event));
    }
}

fn notify(event: LifecycleEvent) {
    if let Some((events, _)) = LISTENER.get() {
        if events.try_send(event).is_err() {
            warn!("wake-up notice dropped: the app is busy or quitting");
        }
    }
}
