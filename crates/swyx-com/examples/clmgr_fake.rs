//! A stand-in for SwyxIt!'s Client Line Manager (`CLMgr.exe`) that the Wine test runs as a
//! 32-bit local server: the SwyxIt! simulator of the `swyx` crate behind `IDispatch` objects
//! and one connection point, so the fake and the simulator cannot drift apart.
//!
//! - Member names and DISPIDs come from the type library `wine/clmgr_fake.idl`, which must lie
//!   next to the executable as `clmgr_fake.tlb`. The root object, the configuration object and
//!   the line objects each answer with their own dispinterface.
//! - The class factory is a singleton, as CLMgr's is. The process serves its callers from the
//!   multithreaded apartment, so a call that hangs does not block the others.
//! - Events: after each call, the notifications that the simulator queued are sent to every
//!   advised sink before the call returns, as an ATL server fires its events. So an event that
//!   a client's own call causes reaches it during that call.
//! - The connection point queries each sink for the event interface before accepting it, as
//!   ATL connection points do, which marshals through the registered type library.
//! - `FakeControl(command)` on the root object scripts the simulator for tests: see
//!   [`server::control`] for the commands. SwyxIt! has no such member.
//!
//! `clmgr_fake /RegServer` registers the class, the ProgID `CLMgr.ClientLineMgr` and the type
//! library, as an ATL server does; a 32-bit build writes them to the 32-bit registry view.
//! COM starts the server with `-Embedding`. It ends on `FakeControl("quit")` or
//! `FakeControl("exit")`, and after ten minutes at the latest. It logs to `clmgr_fake.log`
//! next to the executable, because a server that COM starts has no console.

#[cfg(windows)]
fn main() -> std::process::ExitCode {
    match server::main() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            server::log(&format!("failed: {error}"));
            std::process::ExitCode::FAILURE
        }
    }
}

#[cfg(not(windows))]
fn main() {
    eprintln!("clmgr_fake runs only on Windows or under Wine");
}

#[cfg(windows)]
mod server {
    #![deny(clippy::undocumented_unsafe_blocks)]

    use std::collections::BTreeMap;
    use std::ffi::c_void;
    use std::io::Write as _;
    use std::mem::ManuallyDrop;
    use std::ops::DerefMut;
    use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
    use std::sync::{Arc, Mutex, OnceLock};
    use std::time::Duration;

    use clock::SharedClock;
    use engine::SwyxSettable;
    use swyx::automation::{
        Arg, AutomationError, Call, CallKind, Connection, Connector, NotificationReceiver,
        ObjectRef, Variant,
    };
    use swyx::simulator::{CallAction, Simulator, SimulatorControl};
    use windows::Win32::Foundation::{
        CLASS_E_NOAGGREGATION, DISP_E_BADPARAMCOUNT, DISP_E_EXCEPTION, DISP_E_MEMBERNOTFOUND,
        DISP_E_TYPEMISMATCH, E_INVALIDARG, E_NOTIMPL, E_POINTER, RPC_E_DISCONNECTED, VARIANT_FALSE,
        VARIANT_TRUE,
    };
    use windows::Win32::System::Com::{
        CoInitializeEx, CoRegisterClassObject, CoRevokeClassObject, IClassFactory,
        IClassFactory_Impl, IConnectionPoint, IConnectionPointContainer,
        IConnectionPointContainer_Impl, IConnectionPoint_Impl, IDispatch, IDispatch_Impl,
        IEnumConnectionPoints, IEnumConnectionPoints_Impl, IEnumConnections, ITypeInfo, ITypeLib,
        CLSCTX_LOCAL_SERVER, COINIT_MULTITHREADED, DISPATCH_FLAGS, DISPATCH_METHOD, DISPPARAMS,
        EXCEPINFO, REGCLS_MULTIPLEUSE,
    };
    use windows::Win32::System::Ole::{
        LoadTypeLibEx, CONNECT_E_CANNOTCONNECT, CONNECT_E_NOCONNECTION, DISPID_PROPERTYPUT,
        REGKIND_NONE, REGKIND_REGISTER,
    };
    use windows::Win32::System::Registry::{RegSetKeyValueW, HKEY_CLASSES_ROOT, REG_SZ};
    use windows::Win32::System::Threading::GetCurrentProcessId;
    use windows::Win32::System::Variant::{
        VariantChangeType, VariantClear, VARENUM, VARIANT, VARIANT_0_0, VAR_CHANGE_FLAGS, VT_BOOL,
        VT_BSTR, VT_BYREF, VT_DATE, VT_DISPATCH, VT_EMPTY, VT_I4, VT_NULL, VT_VARIANT,
    };
    use windows_core::{implement, IUnknown, Interface, Ref, BOOL, BSTR, GUID, HRESULT};
    use windows_core::{HSTRING, PCWSTR};

    /// CLMgr's own class ID, so that the registration looks like SwyxIt!'s.
    const CLSID: GUID = GUID::from_u128(0xf8e552f8_4c00_11d3_80bc_00105a653379);
    const PROG_ID: &str = "CLMgr.ClientLineMgr";
    /// The fake's type library and interfaces, as declared in `clmgr_fake.idl`.
    const LIBID: GUID = GUID::from_u128(0x81189a56_3d06_4d23_b7d4_18047afbba1d);
    const ROOT_INTERFACE: GUID = GUID::from_u128(0xe321d60c_d776_40b1_9c38_41594ea8366f);
    const CONFIG_INTERFACE: GUID = GUID::from_u128(0x2fce555d_5553_46ae_ba90_4db5746bbb8c);
    const LINE_INTERFACE: GUID = GUID::from_u128(0x92a41b00_24a2_4c74_89b6_ae27fbf2a601);
    const EVENT_INTERFACE: GUID = GUID::from_u128(0xb5fb15e5_3248_411a_b22a_bffdf6d17612);
    /// `PubOnLineMgrNotification`'s DISPID in the event interface.
    const EVENT_DISPID: i32 = 1;
    /// The test-only member of the root object.
    const CONTROL_MEMBER: &str = "FakeControl";
    const LIFETIME: Duration = Duration::from_secs(600);

    /// Appends a line to `clmgr_fake.log` next to the executable.
    pub fn log(line: &str) {
        let Ok(exe) = std::env::current_exe() else {
            return;
        };
        let pid = std::process::id();
        if let Ok(mut file) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(exe.with_file_name("clmgr_fake.log"))
        {
            let _ = writeln!(file, "[{pid}] {line}");
        }
    }

    /// A COM pointer that this process uses from any of its MTA threads.
    struct Agile<T>(T);

    // SAFETY: every thread of this process that touches COM has entered the MTA, where
    // pointers (proxies and the type library's objects alike) may be used from any thread.
    unsafe impl<T> Send for Agile<T> {}
    // SAFETY: as above.
    unsafe impl<T> Sync for Agile<T> {}

    /// The type information of each object kind.
    struct Types {
        root: Agile<ITypeInfo>,
        config: Agile<ITypeInfo>,
        line: Agile<ITypeInfo>,
    }

    /// Everything the objects share: the simulator, the advised sinks and the queue of
    /// notifications not yet sent.
    struct Server {
        runtime: tokio::runtime::Runtime,
        connection: Box<dyn Connection>,
        control: SimulatorControl,
        notifications: Mutex<NotificationReceiver>,
        sinks: Mutex<BTreeMap<u32, Agile<IDispatch>>>,
        next_cookie: AtomicU32,
        types: Types,
        /// The objects handed out and not yet released, the root object excepted.
        live_objects: AtomicU32,
        /// The simulator calls in progress, hung ones included.
        calls_in_progress: AtomicU32,
        quit: AtomicBool,
    }

    impl Server {
        /// Sends the queued notifications to every sink, on the calling thread. The lock keeps
        /// their order when several calls end at once.
        fn deliver(&self) {
            let mut notifications = self
                .notifications
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            while let Ok((notification, _guard)) = notifications.try_recv() {
                let sinks: Vec<(u32, IDispatch)> = self
                    .sinks
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner())
                    .iter()
                    .map(|(cookie, sink)| (*cookie, sink.0.clone()))
                    .collect();
                for (cookie, sink) in sinks {
                    if let Err(error) = fire(&sink, notification.message, notification.param) {
                        log(&format!("sink {cookie} failed, dropping it: {error}"));
                        self.sinks
                            .lock()
                            .unwrap_or_else(|poisoned| poisoned.into_inner())
                            .remove(&cookie);
                    }
                }
            }
        }

        fn type_info(&self, object: ObjectKind) -> &ITypeInfo {
            match object {
                ObjectKind::Root => &self.types.root.0,
                ObjectKind::Config => &self.types.config.0,
                ObjectKind::Line => &self.types.line.0,
            }
        }
    }

    /// Calls `PubOnLineMgrNotification(message, param)` on one sink.
    fn fire(sink: &IDispatch, message: i32, param: i32) -> windows_core::Result<()> {
        let mut args = Variants(vec![VARIANT::default(), VARIANT::default()]);
        for (variant, value) in args.0.iter_mut().zip([param, message]) {
            let tagged = tagged_mut(variant);
            tagged.vt = VT_I4;
            tagged.Anonymous.lVal = value;
        }
        let params = DISPPARAMS {
            rgvarg: args.0.as_mut_ptr(),
            rgdispidNamedArgs: std::ptr::null_mut(),
            cArgs: 2,
            cNamedArgs: 0,
        };
        // SAFETY: `params` points at two initialised VARIANTs that outlive the call.
        unsafe {
            sink.Invoke(
                EVENT_DISPID,
                &GUID::zeroed(),
                0,
                DISPATCH_METHOD,
                &params,
                None,
                None,
                None,
            )
        }
    }

    #[derive(Clone, Copy, PartialEq, Eq, Debug)]
    enum ObjectKind {
        Root,
        Config,
        Line,
    }

    /// VARIANTs owned here, cleared on drop.
    struct Variants(Vec<VARIANT>);

    impl Drop for Variants {
        fn drop(&mut self) {
            for variant in &mut self.0 {
                // SAFETY: each entry is an initialised VARIANT owned by this vector.
                let _ = unsafe { VariantClear(variant) };
            }
        }
    }

    fn tagged(variant: &VARIANT) -> &VARIANT_0_0 {
        // SAFETY: only the tagged form of VARIANT is used here.
        unsafe { &variant.Anonymous.Anonymous }
    }

    fn tagged_mut(variant: &mut VARIANT) -> &mut VARIANT_0_0 {
        // SAFETY: as in `tagged`.
        unsafe { DerefMut::deref_mut(&mut variant.Anonymous.Anonymous) }
    }

    /// Reads an argument, following `VT_BYREF`.
    fn read(variant: &VARIANT) -> Result<Variant, HRESULT> {
        let fields = tagged(variant);
        let vt = fields.vt;
        // SAFETY: each arm reads the union member, or follows the pointer, that `vt` names;
        // by-reference pointers are valid for the duration of the call.
        unsafe {
            if vt.0 & VT_BYREF.0 != 0 {
                let base = VARENUM(vt.0 & !VT_BYREF.0);
                return match base {
                    VT_VARIANT => read(&*fields.Anonymous.pvarVal),
                    VT_I4 => Ok(Variant::I4(*fields.Anonymous.plVal)),
                    VT_BOOL => Ok(Variant::Bool((*fields.Anonymous.pboolVal).0 != 0)),
                    VT_BSTR => Ok(Variant::Str((*fields.Anonymous.pbstrVal).to_string())),
                    VT_DATE => Ok(Variant::Date(*fields.Anonymous.pdate)),
                    _ => Err(DISP_E_TYPEMISMATCH),
                };
            }
            match vt {
                VT_EMPTY | VT_NULL => Ok(Variant::Empty),
                VT_I4 => Ok(Variant::I4(fields.Anonymous.lVal)),
                VT_BOOL => Ok(Variant::Bool(fields.Anonymous.boolVal.0 != 0)),
                VT_BSTR => Ok(Variant::Str(fields.Anonymous.bstrVal.to_string())),
                VT_DATE => Ok(Variant::Date(fields.Anonymous.date)),
                _ => {
                    let mut converted = Variants(vec![VARIANT::default()]);
                    VariantChangeType(&mut converted.0[0], variant, VAR_CHANGE_FLAGS(0), VT_I4)
                        .map_err(|_| DISP_E_TYPEMISMATCH)?;
                    Ok(Variant::I4(tagged(&converted.0[0]).Anonymous.lVal))
                }
            }
        }
    }

    /// A new VARIANT holding `value`; an object becomes a new COM object of the server.
    fn to_variant(server: &Arc<Server>, value: &Variant, kind: ObjectKind) -> VARIANT {
        let mut variant = VARIANT::default();
        let fields = tagged_mut(&mut variant);
        match value {
            Variant::Empty => fields.vt = VT_EMPTY,
            Variant::I4(number) => {
                fields.vt = VT_I4;
                fields.Anonymous.lVal = *number;
            }
            Variant::Bool(flag) => {
                fields.vt = VT_BOOL;
                fields.Anonymous.boolVal = if *flag { VARIANT_TRUE } else { VARIANT_FALSE };
            }
            Variant::Str(text) => {
                fields.vt = VT_BSTR;
                fields.Anonymous.bstrVal = ManuallyDrop::new(BSTR::from(text.as_str()));
            }
            Variant::Date(days) => {
                fields.vt = VT_DATE;
                fields.Anonymous.date = *days;
            }
            Variant::Dispatch(handle) => {
                server.live_objects.fetch_add(1, Ordering::SeqCst);
                let object: IDispatch = Object {
                    server: server.clone(),
                    handle: *handle,
                    kind,
                }
                .into();
                fields.vt = VT_DISPATCH;
                fields.Anonymous.pdispVal = ManuallyDrop::new(Some(object));
            }
        }
        variant
    }

    /// Writes an out argument's final value through its `VT_BYREF` pointer.
    fn write_back(slot: &VARIANT, value: &Variant) -> Result<(), HRESULT> {
        let fields = tagged(slot);
        let base = VARENUM(fields.vt.0 & !VT_BYREF.0);
        // SAFETY: the by-reference pointer of the type that `vt` names is valid for the call;
        // the previous value it holds is released before it is replaced.
        unsafe {
            match (base, value) {
                (VT_VARIANT, _) => {
                    let target = &mut *fields.Anonymous.pvarVal;
                    let _ = VariantClear(target);
                    let mut fresh = VARIANT::default();
                    let cell = tagged_mut(&mut fresh);
                    match value {
                        Variant::I4(number) => {
                            cell.vt = VT_I4;
                            cell.Anonymous.lVal = *number;
                        }
                        Variant::Bool(flag) => {
                            cell.vt = VT_BOOL;
                            cell.Anonymous.boolVal =
                                if *flag { VARIANT_TRUE } else { VARIANT_FALSE };
                        }
                        Variant::Str(text) => {
                            cell.vt = VT_BSTR;
                            cell.Anonymous.bstrVal = ManuallyDrop::new(BSTR::from(text.as_str()));
                        }
                        Variant::Date(days) => {
                            cell.vt = VT_DATE;
                            cell.Anonymous.date = *days;
                        }
                        Variant::Empty => cell.vt = VT_EMPTY,
                        Variant::Dispatch(_) => return Err(DISP_E_TYPEMISMATCH),
                    }
                    std::ptr::write(target, fresh);
                }
                (VT_I4, _) => {
                    *fields.Anonymous.plVal = value.as_i32().ok_or(DISP_E_TYPEMISMATCH)?;
                }
                (VT_BOOL, _) => {
                    let flag = value.as_flag().ok_or(DISP_E_TYPEMISMATCH)?;
                    *fields.Anonymous.pboolVal = if flag { VARIANT_TRUE } else { VARIANT_FALSE };
                }
                (VT_BSTR, Variant::Str(text)) => {
                    *fields.Anonymous.pbstrVal = BSTR::from(text.as_str());
                }
                (VT_DATE, Variant::Date(days)) => *fields.Anonymous.pdate = *days,
                _ => return Err(DISP_E_TYPEMISMATCH),
            }
        }
        Ok(())
    }

    fn hresult_of(error: &AutomationError) -> (HRESULT, u32) {
        match error {
            AutomationError::UnknownName { .. } => (DISP_E_MEMBERNOTFOUND, 0),
            AutomationError::TypeMismatch { .. } => (DISP_E_TYPEMISMATCH, 0),
            AutomationError::BadArgumentCount { .. } => (DISP_E_BADPARAMCOUNT, 0),
            AutomationError::ServerGone => (RPC_E_DISCONNECTED, 0),
            // Any other failure travels in the exception record, as ATL servers report it.
            AutomationError::Failed { hresult, .. } => (DISP_E_EXCEPTION, *hresult),
            // The simulator's calls fail in no other way; E_FAIL if that ever changes.
            _ => (DISP_E_EXCEPTION, 0x8000_4005),
        }
    }

    /// The shared `IDispatch` body of every object.
    #[allow(clippy::too_many_arguments)]
    fn invoke(
        server: &Arc<Server>,
        handle: ObjectRef,
        kind: ObjectKind,
        dispid: i32,
        flags: DISPATCH_FLAGS,
        params: *const DISPPARAMS,
        result: *mut VARIANT,
        exception: *mut EXCEPINFO,
    ) -> windows_core::Result<()> {
        let info = server.type_info(kind);
        let mut name = BSTR::new();
        let mut help_context = 0;
        // SAFETY: the out pointers are valid for the call.
        unsafe { info.GetDocumentation(dispid, Some(&mut name), None, &mut help_context, None) }
            .map_err(|_| windows_core::Error::from(DISP_E_MEMBERNOTFOUND))?;
        let member = name.to_string();

        // SAFETY: COM passes a valid DISPPARAMS, or null.
        let params = unsafe { params.as_ref() }.ok_or(windows_core::Error::from(E_POINTER))?;
        let slots: &[VARIANT] = if params.cArgs == 0 {
            &[]
        } else {
            // SAFETY: `rgvarg` holds `cArgs` VARIANTs.
            unsafe { std::slice::from_raw_parts(params.rgvarg, params.cArgs as usize) }
        };
        let put = flags.0 & 0xC != 0;
        let named_put = params.cNamedArgs == 1
            // SAFETY: one named DISPID is present.
            && unsafe { *params.rgdispidNamedArgs } == DISPID_PROPERTYPUT;
        if put && !named_put {
            return Err(DISP_E_BADPARAMCOUNT.into());
        }
        let call_kind = if put {
            CallKind::Put
        } else if flags.0 & DISPATCH_METHOD.0 != 0 {
            CallKind::Method
        } else {
            CallKind::Get
        };
        // Arguments arrive last first.
        let mut args = Vec::with_capacity(slots.len());
        for slot in slots.iter().rev() {
            let value = read(slot)?;
            if tagged(slot).vt.0 & VT_BYREF.0 != 0 {
                args.push(Arg::Out(value));
            } else {
                args.push(Arg::In(value));
            }
        }

        if kind == ObjectKind::Root && member == CONTROL_MEMBER {
            let command = match args.as_slice() {
                [Arg::In(Variant::Str(command))] => command.clone(),
                _ => return Err(DISP_E_TYPEMISMATCH.into()),
            };
            let answer = control(server, &command);
            log(&format!("control {command:?} -> {answer:?}"));
            server.deliver();
            let answer = answer
                .map_err(|message| windows_core::Error::new(E_INVALIDARG, message.as_str()))?;
            // SAFETY: `result` is null or a writable VARIANT.
            if let Some(result) = unsafe { result.as_mut() } {
                *result = to_variant(server, &Variant::Str(answer), kind);
            }
            return Ok(());
        }

        let call = Call {
            object: handle,
            member: member.clone(),
            kind: call_kind,
            args,
        };
        server.calls_in_progress.fetch_add(1, Ordering::SeqCst);
        let outcome = server.runtime.block_on(server.connection.call(call));
        server.calls_in_progress.fetch_sub(1, Ordering::SeqCst);
        // Events the call caused reach the sinks before it returns, as in an ATL server.
        server.deliver();
        let reply = match outcome {
            Ok(reply) => reply,
            Err(error) => {
                let (code, scode) = hresult_of(&error);
                if code == DISP_E_EXCEPTION {
                    // SAFETY: `exception` is null or a writable record.
                    if let Some(exception) = unsafe { exception.as_mut() } {
                        exception.scode = scode as i32;
                        exception.bstrDescription =
                            ManuallyDrop::new(BSTR::from(error.to_string().as_str()));
                    }
                }
                return Err(code.into());
            }
        };
        let out_slots = slots
            .iter()
            .rev()
            .filter(|slot| tagged(slot).vt.0 & VT_BYREF.0 != 0);
        for (slot, value) in out_slots.zip(&reply.by_ref) {
            write_back(slot, value)?;
        }
        let result_kind = match member.as_str() {
            "DispClientConfig" => ObjectKind::Config,
            _ => ObjectKind::Line,
        };
        // SAFETY: `result` is null or a writable VARIANT.
        if let Some(result) = unsafe { result.as_mut() } {
            *result = to_variant(server, &reply.value, result_kind);
        } else if let Variant::Dispatch(unwanted) = reply.value {
            server.connection.release(unwanted);
        }
        Ok(())
    }

    /// Runs one test command:
    ///
    /// - `status available|away|dnd`: the user picks a status by hand;
    /// - `text TEXT`: the user sets the status text;
    /// - `line N STATE`: line N (1-based) takes the CLMgr line state STATE;
    /// - `call N start|hold|resume|end`: a step of a call on line N;
    /// - `notify MESSAGE PARAM`: a raw notification;
    /// - `hang 1|0`: every simulator call hangs until `hang 0`, as behind a modal dialog;
    /// - `quit`: SwyxIt! quits: the shut-down request (message 11) goes out, then the process
    ///   ends;
    /// - `exit`: the process ends at once without any notice, as in a crash;
    /// - `state`: the simulator's status and lines; `stats`: pid, sinks, live objects and
    ///   calls in progress.
    fn control(server: &Arc<Server>, command: &str) -> Result<String, String> {
        let words: Vec<&str> = command.split_whitespace().collect();
        let number = |index: usize| -> Result<i32, String> {
            words
                .get(index)
                .and_then(|word| word.parse().ok())
                .ok_or_else(|| format!("{command}: argument {index} is not a number"))
        };
        let control = &server.control;
        match words.first().copied().unwrap_or_default() {
            "status" => {
                let status = match words.get(1).copied() {
                    Some("available") => SwyxSettable::Available,
                    Some("away") => SwyxSettable::Away,
                    Some("dnd") => SwyxSettable::DoNotDisturb,
                    _ => return Err(format!("{command}: unknown status")),
                };
                control.set_status(status);
            }
            "text" => control.set_away_text(command.split_once(' ').map_or("", |(_, text)| text)),
            "line" => control.set_line_state(number(1)? as usize, number(2)?),
            "call" => {
                let action = match words.get(2).copied() {
                    Some("start") => CallAction::Start,
                    Some("hold") => CallAction::Hold,
                    Some("resume") => CallAction::Resume,
                    Some("end") => CallAction::End,
                    _ => return Err(format!("{command}: unknown call step")),
                };
                control.call(number(1)? as usize, action);
            }
            "notify" => control.notify(number(1)?, number(2)?),
            "hang" => control.set_hung(number(1)? != 0),
            "quit" => {
                control.quit();
                server.quit.store(true, Ordering::SeqCst);
            }
            "exit" => {
                std::thread::spawn(|| {
                    std::thread::sleep(Duration::from_millis(200));
                    log("exiting without notice");
                    std::process::exit(3);
                });
            }
            "state" => {
                let status = control.status();
                return Ok(format!(
                    "status={:?} speaking={} away_text={:?} lines={:?} app_writes={}",
                    status.status,
                    status.speaking,
                    status.away_text,
                    control.lines(),
                    control.app_write_count()
                ));
            }
            "stats" => {
                let sinks = server
                    .sinks
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner())
                    .len();
                // SAFETY: no preconditions.
                let pid = unsafe { GetCurrentProcessId() };
                return Ok(format!(
                    "pid={pid} bits={} sinks={sinks} objects={} calls={}",
                    usize::BITS,
                    server.live_objects.load(Ordering::SeqCst),
                    server.calls_in_progress.load(Ordering::SeqCst)
                ));
            }
            _ => return Err(format!("{command}: unknown command")),
        }
        Ok(String::new())
    }

    /// A configuration or line object; it releases its simulator handle when COM releases it.
    #[implement(IDispatch)]
    struct Object {
        server: Arc<Server>,
        handle: ObjectRef,
        kind: ObjectKind,
    }

    impl Drop for Object {
        fn drop(&mut self) {
            self.server.connection.release(self.handle);
            self.server.live_objects.fetch_sub(1, Ordering::SeqCst);
        }
    }

    /// `GetIDsOfNames` through the object's type information.
    fn ids_of_names(
        server: &Server,
        kind: ObjectKind,
        names: *const PCWSTR,
        count: u32,
        dispids: *mut i32,
    ) -> windows_core::Result<()> {
        // SAFETY: COM passes `count` names and as many writable DISPIDs.
        unsafe { server.type_info(kind).GetIDsOfNames(names, count, dispids) }
    }

    fn type_info_of(
        server: &Server,
        kind: ObjectKind,
        index: u32,
    ) -> windows_core::Result<ITypeInfo> {
        if index != 0 {
            return Err(E_INVALIDARG.into());
        }
        Ok(server.type_info(kind).clone())
    }

    impl IDispatch_Impl for Object_Impl {
        fn GetTypeInfoCount(&self) -> windows_core::Result<u32> {
            Ok(1)
        }

        fn GetTypeInfo(&self, index: u32, _lcid: u32) -> windows_core::Result<ITypeInfo> {
            type_info_of(&self.server, self.kind, index)
        }

        fn GetIDsOfNames(
            &self,
            _riid: *const GUID,
            names: *const PCWSTR,
            count: u32,
            _lcid: u32,
            dispids: *mut i32,
        ) -> windows_core::Result<()> {
            ids_of_names(&self.server, self.kind, names, count, dispids)
        }

        fn Invoke(
            &self,
            dispid: i32,
            _riid: *const GUID,
            _lcid: u32,
            flags: DISPATCH_FLAGS,
            params: *const DISPPARAMS,
            result: *mut VARIANT,
            exception: *mut EXCEPINFO,
            _arg_error: *mut u32,
        ) -> windows_core::Result<()> {
            invoke(
                &self.server,
                self.handle,
                self.kind,
                dispid,
                flags,
                params,
                result,
                exception,
            )
        }
    }

    /// The line manager: the singleton every activation returns.
    #[implement(IDispatch, IConnectionPointContainer)]
    struct Root {
        server: Arc<Server>,
        point: IConnectionPoint,
    }

    impl IDispatch_Impl for Root_Impl {
        fn GetTypeInfoCount(&self) -> windows_core::Result<u32> {
            Ok(1)
        }

        fn GetTypeInfo(&self, index: u32, _lcid: u32) -> windows_core::Result<ITypeInfo> {
            type_info_of(&self.server, ObjectKind::Root, index)
        }

        fn GetIDsOfNames(
            &self,
            _riid: *const GUID,
            names: *const PCWSTR,
            count: u32,
            _lcid: u32,
            dispids: *mut i32,
        ) -> windows_core::Result<()> {
            ids_of_names(&self.server, ObjectKind::Root, names, count, dispids)
        }

        fn Invoke(
            &self,
            dispid: i32,
            _riid: *const GUID,
            _lcid: u32,
            flags: DISPATCH_FLAGS,
            params: *const DISPPARAMS,
            result: *mut VARIANT,
            exception: *mut EXCEPINFO,
            _arg_error: *mut u32,
        ) -> windows_core::Result<()> {
            let root = self.server.connection.root();
            invoke(
                &self.server,
                root,
                ObjectKind::Root,
                dispid,
                flags,
                params,
                result,
                exception,
            )
        }
    }

    impl IConnectionPointContainer_Impl for Root_Impl {
        fn EnumConnectionPoints(&self) -> windows_core::Result<IEnumConnectionPoints> {
            Ok(PointList {
                points: vec![self.point.clone()],
                next: Mutex::new(0),
            }
            .into())
        }

        fn FindConnectionPoint(&self, riid: *const GUID) -> windows_core::Result<IConnectionPoint> {
            // SAFETY: COM passes a valid IID.
            if unsafe { *riid } == EVENT_INTERFACE {
                Ok(self.point.clone())
            } else {
                Err(CONNECT_E_NOCONNECTION.into())
            }
        }
    }

    #[implement(IEnumConnectionPoints)]
    struct PointList {
        points: Vec<IConnectionPoint>,
        next: Mutex<usize>,
    }

    impl IEnumConnectionPoints_Impl for PointList_Impl {
        fn Next(
            &self,
            count: u32,
            points: *mut Option<IConnectionPoint>,
            fetched: *mut u32,
        ) -> HRESULT {
            let mut next = self
                .next
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            let mut given = 0;
            while given < count as usize && *next < self.points.len() {
                // SAFETY: COM passes room for `count` pointers.
                unsafe { points.add(given).write(Some(self.points[*next].clone())) };
                given += 1;
                *next += 1;
            }
            // SAFETY: `fetched` is null or writable.
            if let Some(fetched) = unsafe { fetched.as_mut() } {
                *fetched = given as u32;
            }
            HRESULT(if given == count as usize { 0 } else { 1 })
        }

        fn Skip(&self, count: u32) -> windows_core::Result<()> {
            let mut next = self
                .next
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            *next = (*next + count as usize).min(self.points.len());
            Ok(())
        }

        fn Reset(&self) -> windows_core::Result<()> {
            *self
                .next
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner()) = 0;
            Ok(())
        }

        fn Clone(&self) -> windows_core::Result<IEnumConnectionPoints> {
            Err(E_NOTIMPL.into())
        }
    }

    /// The connection point of `IClientLineMgrEventsPub`.
    #[implement(IConnectionPoint)]
    struct Point {
        server: Arc<OnceLock<Arc<Server>>>,
    }

    impl Point_Impl {
        fn server(&self) -> windows_core::Result<&Arc<Server>> {
            self.server
                .get()
                .ok_or(windows_core::Error::from(E_POINTER))
        }
    }

    impl IConnectionPoint_Impl for Point_Impl {
        fn GetConnectionInterface(&self) -> windows_core::Result<GUID> {
            Ok(EVENT_INTERFACE)
        }

        fn GetConnectionPointContainer(&self) -> windows_core::Result<IConnectionPointContainer> {
            Err(E_NOTIMPL.into())
        }

        fn Advise(&self, sink: Ref<IUnknown>) -> windows_core::Result<u32> {
            let sink = sink.ok()?;
            // Ask for the event interface itself, as ATL does; across processes this needs the
            // interface's registered type library.
            let mut events: *mut c_void = std::ptr::null_mut();
            // SAFETY: a valid IID and out pointer.
            let queried = unsafe { sink.query(&EVENT_INTERFACE, &mut events) };
            if queried.is_err() || events.is_null() {
                log(&format!(
                    "Advise: the sink lacks the event interface: {queried:?}"
                ));
                return Err(CONNECT_E_CANNOTCONNECT.into());
            }
            // SAFETY: `query` succeeded, so `events` is an owned reference to an interface
            // derived from IDispatch (the event interface is a dispinterface).
            let events = unsafe { IDispatch::from_raw(events) };
            let server = self.server()?;
            let cookie = server.next_cookie.fetch_add(1, Ordering::SeqCst);
            server
                .sinks
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .insert(cookie, Agile(events));
            log(&format!("Advise: sink {cookie}"));
            Ok(cookie)
        }

        fn Unadvise(&self, cookie: u32) -> windows_core::Result<()> {
            let removed = self
                .server()?
                .sinks
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .remove(&cookie);
            log(&format!("Unadvise: sink {cookie}"));
            removed.map(|_| ()).ok_or(CONNECT_E_NOCONNECTION.into())
        }

        fn EnumConnections(&self) -> windows_core::Result<IEnumConnections> {
            Err(E_NOTIMPL.into())
        }
    }

    /// A singleton class factory: every activation gets the same line manager.
    #[implement(IClassFactory)]
    struct Factory {
        root: IDispatch,
    }

    impl IClassFactory_Impl for Factory_Impl {
        fn CreateInstance(
            &self,
            outer: Ref<IUnknown>,
            iid: *const GUID,
            object: *mut *mut c_void,
        ) -> windows_core::Result<()> {
            if outer.is_some() {
                return Err(CLASS_E_NOAGGREGATION.into());
            }
            // SAFETY: COM passes a valid IID and a writable out pointer.
            unsafe { self.root.query(iid, object) }.ok()
        }

        fn LockServer(&self, _lock: BOOL) -> windows_core::Result<()> {
            Ok(())
        }
    }

    fn type_library_path() -> windows_core::Result<HSTRING> {
        let exe = std::env::current_exe().map_err(|_| windows_core::Error::from(E_POINTER))?;
        Ok(HSTRING::from(
            exe.with_file_name("clmgr_fake.tlb").as_os_str(),
        ))
    }

    /// Registers the class and its type library as an ATL server's `/RegServer` does.
    fn register() -> windows_core::Result<()> {
        let exe = std::env::current_exe().map_err(|_| windows_core::Error::from(E_POINTER))?;
        let clsid = format!("{{{CLSID:?}}}");
        let entries = [
            (PROG_ID.to_owned(), "ClientLineMgr Class".to_owned()),
            (format!("{PROG_ID}\\CLSID"), clsid.clone()),
            (format!("CLSID\\{clsid}"), "ClientLineMgr Class".to_owned()),
            (format!("CLSID\\{clsid}\\ProgID"), PROG_ID.to_owned()),
            (
                format!("CLSID\\{clsid}\\LocalServer32"),
                format!("\"{}\"", exe.display()),
            ),
            (format!("CLSID\\{clsid}\\TypeLib"), format!("{{{LIBID:?}}}")),
        ];
        for (key, value) in entries {
            let data: Vec<u16> = value.encode_utf16().chain([0]).collect();
            // SAFETY: the key name is NUL-terminated and `data` is valid for its byte length.
            let status = unsafe {
                RegSetKeyValueW(
                    HKEY_CLASSES_ROOT,
                    &HSTRING::from(key.as_str()),
                    PCWSTR::null(),
                    REG_SZ.0,
                    Some(data.as_ptr().cast()),
                    (data.len() * 2) as u32,
                )
            };
            status.ok()?;
        }
        // SAFETY: the path is a NUL-terminated wide string.
        let _library: ITypeLib = unsafe { LoadTypeLibEx(&type_library_path()?, REGKIND_REGISTER) }?;
        log("registered");
        Ok(())
    }

    pub fn main() -> windows_core::Result<()> {
        let args: Vec<String> = std::env::args().skip(1).collect();
        log(&format!("started with {args:?}"));
        // SAFETY: called once on the main thread, which stays in COM until the process ends.
        unsafe { CoInitializeEx(None, COINIT_MULTITHREADED) }.ok()?;
        if args.iter().any(|arg| {
            arg.eq_ignore_ascii_case("/RegServer") || arg.eq_ignore_ascii_case("-RegServer")
        }) {
            return register();
        }

        // SAFETY: the path is a NUL-terminated wide string.
        let library: ITypeLib = unsafe { LoadTypeLibEx(&type_library_path()?, REGKIND_NONE) }?;
        let info = |iid: GUID| {
            // SAFETY: a valid GUID for the call.
            unsafe { library.GetTypeInfoOfGuid(&iid) }.map(Agile)
        };
        let types = Types {
            root: info(ROOT_INTERFACE)?,
            config: info(CONFIG_INTERFACE)?,
            line: info(LINE_INTERFACE)?,
        };
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .map_err(|_| windows_core::Error::from(E_POINTER))?;
        let clock: SharedClock = Arc::new(clock::SystemClock::new());
        let (simulator, control) = Simulator::new(clock);
        let connection = runtime
            .block_on(simulator.connect())
            .map_err(|error| windows_core::Error::new(E_POINTER, error.to_string().as_str()))?;
        let notifications = connection
            .subscribe()
            .map_err(|error| windows_core::Error::new(E_POINTER, error.to_string().as_str()))?;
        let server = Arc::new(Server {
            runtime,
            connection,
            control,
            notifications: Mutex::new(notifications),
            sinks: Mutex::new(BTreeMap::new()),
            next_cookie: AtomicU32::new(1),
            types,
            live_objects: AtomicU32::new(0),
            calls_in_progress: AtomicU32::new(0),
            quit: AtomicBool::new(false),
        });
        let point_server = Arc::new(OnceLock::new());
        let point: IConnectionPoint = Point {
            server: point_server.clone(),
        }
        .into();
        let _ = point_server.set(server.clone());
        let root: IDispatch = Root {
            server: server.clone(),
            point,
        }
        .into();
        let factory: IClassFactory = Factory { root }.into();
        // SAFETY: the factory stays alive until it is revoked below.
        let cookie = unsafe {
            CoRegisterClassObject(&CLSID, &factory, CLSCTX_LOCAL_SERVER, REGCLS_MULTIPLEUSE)
        }?;
        log(&format!("serving, {} bits", usize::BITS));
        let started = std::time::Instant::now();
        while !server.quit.load(Ordering::SeqCst) && started.elapsed() < LIFETIME {
            std::thread::sleep(Duration::from_millis(50));
        }
        // SAFETY: the cookie came from `CoRegisterClassObject`.
        unsafe { CoRevokeClassObject(cookie) }?;
        // Give the quit request's own reply time to leave before the process ends.
        std::thread::sleep(Duration::from_millis(300));
        log("stopped");
        // The objects still hold the server; COM would wait for clients to release them, and
        // CLMgr does not wait either.
        std::process::exit(0);
    }
}
