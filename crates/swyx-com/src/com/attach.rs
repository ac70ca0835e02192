//! Attaching to the running server without ever starting it.
//!
//! `GetActiveObject` is tried first, because it only finds an instance in the running object
//! table. ATL servers often do not register there, but their class factory is a singleton, so
//! `CoCreateInstance(CLSCTX_LOCAL_SERVER)` returns the running instance. That call would launch
//! the server when none runs, so it is made only when the executable registered as the class's
//! `LocalServer32` already runs in this session.

use std::collections::HashMap;
use std::sync::Arc;

use swyx::automation::{AutomationError, ObjectRef};
use tracing::debug;
use windows::Win32::Foundation::{CloseHandle, ERROR_SUCCESS, LPARAM, WPARAM};
use windows::Win32::System::Com::{
    CLSIDFromProgID, CoCreateInstance, IDispatch, CLSCTX_LOCAL_SERVER,
};
use windows::Win32::System::Diagnostics::ToolHelp::{
    CreateToolhelp32Snapshot, Process32FirstW, Process32NextW, PROCESSENTRY32W, TH32CS_SNAPPROCESS,
};
use windows::Win32::System::Ole::GetActiveObject;
use windows::Win32::System::Registry::{
    RegGetValueW, HKEY_CLASSES_ROOT, RRF_RT_REG_SZ, RRF_SUBKEY_WOW6432KEY,
};
use windows::Win32::System::RemoteDesktop::ProcessIdToSessionId;
use windows::Win32::System::Threading::{GetCurrentProcessId, GetCurrentThreadId};
use windows::Win32::UI::WindowsAndMessaging::{
    PeekMessageW, PostThreadMessageW, MSG, PM_NOREMOVE, WM_APP,
};
use windows_core::{IUnknown, Interface, GUID, HSTRING, PCWSTR};

use super::{hresult_error, ComApartment, ComThread, ROOT};
use crate::apartment::{Opened, Waker};
use crate::server;

/// Enters an STA on the calling thread and attaches to the running server.
pub(super) fn open(progid: &str) -> Result<Opened<ComApartment>, AutomationError> {
    open_with(|| attach(progid))
}

/// Enters an STA on the calling thread and takes the root object from `root`, which runs
/// inside that apartment.
pub(super) fn open_with(
    root: impl FnOnce() -> Result<IDispatch, AutomationError>,
) -> Result<Opened<ComApartment>, AutomationError> {
    let com = ComThread::enter()?;
    let mut message = MSG::default();
    // SAFETY: `message` is a valid out pointer; this only makes sure the thread has a message
    // queue before anyone posts a wake-up to it, and removes nothing.
    let _ = unsafe { PeekMessageW(&mut message, None, 0, 0, PM_NOREMOVE) };
    let root = root()?;

    // SAFETY: no preconditions.
    let thread = unsafe { GetCurrentThreadId() };
    let wake: Waker = Arc::new(move || {
        // SAFETY: posting to a thread id touches no memory of ours; if the thread has ended,
        // the call fails and the wake-up is not needed.
        let _ = unsafe { PostThreadMessageW(thread, WM_APP, WPARAM(0), LPARAM(0)) };
    });
    let apartment = ComApartment {
        objects: HashMap::from([(ROOT, root)]),
        next_handle: ROOT + 1,
        dispids: HashMap::new(),
        subscription: None,
        _com: com,
    };
    Ok(Opened {
        apartment,
        root: ObjectRef(ROOT),
        wake,
    })
}

/// Attaches to the running instance of `progid`; see the module documentation.
fn attach(progid: &str) -> Result<IDispatch, AutomationError> {
    let connecting = |error: windows_core::Error| hresult_error(&error, "");
    let name = HSTRING::from(progid);
    // SAFETY: `name` is a NUL-terminated wide string that outlives the call.
    let clsid = unsafe { CLSIDFromProgID(PCWSTR(name.as_ptr())) }.map_err(connecting)?;

    let mut active = None;
    // SAFETY: `clsid` and the out pointer are valid for the call.
    let found = unsafe { GetActiveObject(&clsid, None, &mut active) };
    let unknown: IUnknown = match (found, active) {
        (Ok(()), Some(unknown)) => unknown,
        _ if server_running(&clsid) => {
            debug!(
                progid,
                "not in the running object table; asking the running server's class factory"
            );
            // SAFETY: `clsid` is valid; the server runs already, so this attaches to it.
            unsafe { CoCreateInstance(&clsid, None, CLSCTX_LOCAL_SERVER) }.map_err(connecting)?
        }
        _ => return Err(AutomationError::NotRunning),
    };
    unknown.cast::<IDispatch>().map_err(connecting)
}

/// Whether the executable registered as the class's local server runs in this session.
///
/// A server that starts or stops between this check and the activation is a window this
/// cannot close.
fn server_running(clsid: &GUID) -> bool {
    let Some(image) = local_server_image(clsid) else {
        return false;
    };
    let mut own_session = 0;
    // SAFETY: the out pointer is valid.
    if unsafe { ProcessIdToSessionId(GetCurrentProcessId(), &mut own_session) }.is_err() {
        return false;
    }
    // SAFETY: no preconditions; the handle is closed below.
    let Ok(snapshot) = (unsafe { CreateToolhelp32Snapshot(TH32CS_SNAPPROCESS, 0) }) else {
        return false;
    };
    let mut entry = PROCESSENTRY32W {
        dwSize: std::mem::size_of::<PROCESSENTRY32W>() as u32,
        ..Default::default()
    };
    let mut found = false;
    // SAFETY: `snapshot` is valid and `entry.dwSize` is set, as the process walk requires.
    let mut more = unsafe { Process32FirstW(snapshot, &mut entry) }.is_ok();
    while more && !found {
        let length = entry
            .szExeFile
            .iter()
            .position(|&c| c == 0)
            .unwrap_or(entry.szExeFile.len());
        let name = String::from_utf16_lossy(&entry.szExeFile[..length]);
        let mut session = u32::MAX;
        // SAFETY: the out pointer is valid; processes of other users may refuse, which reads
        // as another session.
        let known = unsafe { ProcessIdToSessionId(entry.th32ProcessID, &mut session) }.is_ok();
        found = known && session == own_session && name.eq_ignore_ascii_case(&image);
        // SAFETY: as for `Process32FirstW`.
        more = unsafe { Process32NextW(snapshot, &mut entry) }.is_ok();
    }
    // SAFETY: the snapshot handle is owned here and closed once.
    let _ = unsafe { CloseHandle(snapshot) };
    found
}

/// The file name of the class's `LocalServer32` executable, from either registry view.
fn local_server_image(clsid: &GUID) -> Option<String> {
    let key = HSTRING::from(format!("CLSID\\{{{clsid:?}}}\\LocalServer32"));
    // A 32-bit server registers in the 32-bit view, which a 64-bit process must ask for.
    for flags in [RRF_RT_REG_SZ, RRF_RT_REG_SZ | RRF_SUBKEY_WOW6432KEY] {
        let mut buffer = [0u16; 1024];
        let mut size = (buffer.len() * 2) as u32;
        // SAFETY: `key` is NUL-terminated and `buffer` is writable for `size` bytes.
        let status = unsafe {
            RegGetValueW(
                HKEY_CLASSES_ROOT,
                PCWSTR(key.as_ptr()),
                PCWSTR::null(),
                flags,
                None,
                Some(buffer.as_mut_ptr().cast()),
                Some(&mut size),
            )
        };
        if status == ERROR_SUCCESS {
            let length = (size as usize / 2).min(buffer.len());
            let command = String::from_utf16_lossy(&buffer[..length]);
            return server::image_name(command.trim_end_matches('\0'));
        }
    }
    None
}
