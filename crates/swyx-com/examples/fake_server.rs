//! A stand-in for an out-of-process automation server, used to run the COM layer across a
//! process boundary under Wine: a singleton class factory, as ATL servers have, whose object
//! answers `Value` (property), `Outs(long*, BSTR*)`, `Pid` and `Quit`. It has one connection
//! point, for any IID, whose sink gets `(message, param)` through `IDispatch::Invoke`, either
//! during the client's own call (`Notify(message, param)`, a re-entrant event) or 200 ms
//! later from another thread (`NotifyLater(message, param)`).
//!
//! It writes `fake_server.started` next to its executable when it starts, so a test can tell
//! whether anything launched it.

#[cfg(windows)]
fn main() -> windows_core::Result<()> {
    server::run()
}

#[cfg(not(windows))]
fn main() {
    eprintln!("fake_server runs only on Windows or under Wine");
}

#[cfg(windows)]
mod server {
    #![deny(clippy::undocumented_unsafe_blocks)]

    use std::ffi::c_void;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    use windows::Win32::Foundation::{DISP_E_MEMBERNOTFOUND, DISP_E_UNKNOWNNAME, E_NOTIMPL};
    use windows::Win32::System::Com::{
        CoInitializeEx, CoRegisterClassObject, CoRevokeClassObject, IClassFactory,
        IClassFactory_Impl, IConnectionPoint, IConnectionPointContainer,
        IConnectionPointContainer_Impl, IConnectionPoint_Impl, IDispatch, IDispatch_Impl,
        IEnumConnectionPoints, IEnumConnections, ITypeInfo, CLSCTX_LOCAL_SERVER,
        COINIT_MULTITHREADED, DISPATCH_FLAGS, DISPATCH_METHOD, DISPATCH_PROPERTYPUT, DISPPARAMS,
        EXCEPINFO, REGCLS_MULTIPLEUSE,
    };
    use windows::Win32::System::Threading::GetCurrentProcessId;
    use windows::Win32::System::Variant::{VARIANT, VARIANT_0_0, VT_I4};
    use windows_core::{implement, IUnknown, Interface, Ref, BOOL, BSTR, GUID, PCWSTR};

    /// The fake's class id, registered under the ProgID by the Wine test.
    const CLSID: GUID = GUID::from_u128(0x6f1d2c3b_8a4e_4b7f_9c2d_1e3f5a7b9c0d);

    /// The advised sink, a proxy into the client's apartment.
    #[derive(Clone)]
    struct Sink(IDispatch);

    // SAFETY: the sink is a proxy owned by this process's MTA, and every thread that uses it
    // has entered the MTA.
    unsafe impl Send for Sink {}

    type SinkSlot = Arc<Mutex<Option<Sink>>>;

    #[implement(IDispatch, IConnectionPointContainer)]
    struct Fake {
        value: Mutex<i32>,
        quit: Arc<AtomicBool>,
        sink: SinkSlot,
        point: IConnectionPoint,
    }

    impl IConnectionPointContainer_Impl for Fake_Impl {
        fn EnumConnectionPoints(&self) -> windows_core::Result<IEnumConnectionPoints> {
            Err(E_NOTIMPL.into())
        }

        fn FindConnectionPoint(
            &self,
            _riid: *const GUID,
        ) -> windows_core::Result<IConnectionPoint> {
            Ok(self.point.clone())
        }
    }

    #[implement(IConnectionPoint)]
    struct Point {
        sink: SinkSlot,
    }

    impl IConnectionPoint_Impl for Point_Impl {
        fn GetConnectionInterface(&self) -> windows_core::Result<GUID> {
            Ok(GUID::zeroed())
        }

        fn GetConnectionPointContainer(&self) -> windows_core::Result<IConnectionPointContainer> {
            Err(E_NOTIMPL.into())
        }

        fn Advise(&self, sink: Ref<IUnknown>) -> windows_core::Result<u32> {
            let sink: IDispatch = sink.ok()?.cast()?;
            *self.sink.lock().unwrap() = Some(Sink(sink));
            Ok(1)
        }

        fn Unadvise(&self, _cookie: u32) -> windows_core::Result<()> {
            self.sink.lock().unwrap().take();
            Ok(())
        }

        fn EnumConnections(&self) -> windows_core::Result<IEnumConnections> {
            Err(E_NOTIMPL.into())
        }
    }

    /// Sends `(message, param)` to the sink as `PubOnLineMgrNotification` would.
    fn notify(sink: &Sink, message: i32, param: i32) -> windows_core::Result<()> {
        let mut args = [VARIANT::default(), VARIANT::default()];
        for (variant, value) in args.iter_mut().zip([param, message]) {
            let tagged = tagged_mut(variant);
            tagged.vt = VT_I4;
            tagged.Anonymous.lVal = value;
        }
        let params = DISPPARAMS {
            rgvarg: args.as_mut_ptr(),
            rgdispidNamedArgs: std::ptr::null_mut(),
            cArgs: 2,
            cNamedArgs: 0,
        };
        // SAFETY: `params` points at two initialised VARIANTs that outlive the call.
        unsafe {
            sink.0.Invoke(
                1,
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

    impl IDispatch_Impl for Fake_Impl {
        fn GetTypeInfoCount(&self) -> windows_core::Result<u32> {
            Ok(0)
        }

        fn GetTypeInfo(&self, _index: u32, _lcid: u32) -> windows_core::Result<ITypeInfo> {
            Err(E_NOTIMPL.into())
        }

        fn GetIDsOfNames(
            &self,
            _riid: *const GUID,
            names: *const PCWSTR,
            _count: u32,
            _lcid: u32,
            dispids: *mut i32,
        ) -> windows_core::Result<()> {
            // SAFETY: COM passes one valid name and one writable DISPID.
            let name = unsafe { (*names).to_string() }.unwrap_or_default();
            let id = match name.as_str() {
                "Value" => 1,
                "Outs" => 2,
                "Pid" => 3,
                "Quit" => 4,
                "Notify" => 5,
                "NotifyLater" => 6,
                _ => return Err(DISP_E_UNKNOWNNAME.into()),
            };
            // SAFETY: as above.
            unsafe { *dispids = id };
            Ok(())
        }

        fn Invoke(
            &self,
            dispid: i32,
            _riid: *const GUID,
            _lcid: u32,
            flags: DISPATCH_FLAGS,
            params: *const DISPPARAMS,
            result: *mut VARIANT,
            _exception: *mut EXCEPINFO,
            _arg_error: *mut u32,
        ) -> windows_core::Result<()> {
            // SAFETY: COM passes valid parameters for the duration of the call.
            let params = unsafe { &*params };
            let args: &[VARIANT] = if params.cArgs == 0 {
                &[]
            } else {
                // SAFETY: `rgvarg` contains `cArgs` VARIANTs.
                unsafe { std::slice::from_raw_parts(params.rgvarg, params.cArgs as usize) }
            };
            let integer = match dispid {
                1 if flags == DISPATCH_PROPERTYPUT => {
                    // SAFETY: the client passes the value as VT_I4.
                    *self.value.lock().unwrap() = unsafe { tagged(&args[0]).Anonymous.lVal };
                    return Ok(());
                }
                1 => *self.value.lock().unwrap(),
                2 => {
                    // SAFETY: Outs(long*, BSTR*) gets its arguments last first, by reference.
                    unsafe {
                        *tagged(&args[1]).Anonymous.plVal = 41;
                        *tagged(&args[0]).Anonymous.pbstrVal = BSTR::from("line");
                    }
                    return Ok(());
                }
                // SAFETY: no preconditions.
                3 => (unsafe { GetCurrentProcessId() }) as i32,
                4 => {
                    self.quit.store(true, Ordering::SeqCst);
                    return Ok(());
                }
                5 | 6 => {
                    // SAFETY: the client passes (message, param) as VT_I4, last first.
                    let (message, param) = unsafe {
                        (
                            tagged(&args[1]).Anonymous.lVal,
                            tagged(&args[0]).Anonymous.lVal,
                        )
                    };
                    let sink = self
                        .sink
                        .lock()
                        .unwrap()
                        .clone()
                        .ok_or(windows_core::Error::from(E_NOTIMPL))?;
                    if dispid == 5 {
                        notify(&sink, message, param)?;
                    } else {
                        std::thread::spawn(move || {
                            // SAFETY: this thread joins the MTA for its lifetime.
                            let _ = unsafe { CoInitializeEx(None, COINIT_MULTITHREADED) };
                            std::thread::sleep(Duration::from_millis(200));
                            if let Err(error) = notify(&sink, message, param) {
                                println!("fake server: late notification failed: {error}");
                            }
                        });
                    }
                    return Ok(());
                }
                _ => return Err(DISP_E_MEMBERNOTFOUND.into()),
            };
            // SAFETY: `result` is null or a writable VARIANT.
            if let Some(result) = unsafe { result.as_mut() } {
                let mut variant = VARIANT::default();
                let tagged = tagged_mut(&mut variant);
                tagged.vt = VT_I4;
                tagged.Anonymous.lVal = integer;
                *result = variant;
            }
            Ok(())
        }
    }

    fn tagged(variant: &VARIANT) -> &VARIANT_0_0 {
        // SAFETY: the tagged form is the only one used here.
        unsafe { &variant.Anonymous.Anonymous }
    }

    fn tagged_mut(variant: &mut VARIANT) -> &mut VARIANT_0_0 {
        // SAFETY: as in `tagged`.
        unsafe { std::ops::DerefMut::deref_mut(&mut variant.Anonymous.Anonymous) }
    }

    /// A singleton class factory: every activation gets the same object.
    #[implement(IClassFactory)]
    struct Factory {
        object: IDispatch,
    }

    impl IClassFactory_Impl for Factory_Impl {
        fn CreateInstance(
            &self,
            _outer: Ref<IUnknown>,
            iid: *const GUID,
            object: *mut *mut c_void,
        ) -> windows_core::Result<()> {
            // SAFETY: COM passes a valid IID and a writable out pointer.
            unsafe { self.object.query(iid, object) }.ok()
        }

        fn LockServer(&self, _lock: BOOL) -> windows_core::Result<()> {
            Ok(())
        }
    }

    pub fn run() -> windows_core::Result<()> {
        // SAFETY: called once on the main thread, which stays in COM until the process ends.
        unsafe { CoInitializeEx(None, COINIT_MULTITHREADED) }.ok()?;
        if let Ok(exe) = std::env::current_exe() {
            let _ = std::fs::write(exe.with_file_name("fake_server.started"), "started\n");
        }
        let quit = Arc::new(AtomicBool::new(false));
        let sink = SinkSlot::default();
        let point: IConnectionPoint = Point { sink: sink.clone() }.into();
        let object: IDispatch = Fake {
            value: Mutex::new(0),
            quit: quit.clone(),
            sink,
            point,
        }
        .into();
        let factory: IClassFactory = Factory { object }.into();
        // SAFETY: the factory stays alive until it is revoked below.
        let cookie = unsafe {
            CoRegisterClassObject(&CLSID, &factory, CLSCTX_LOCAL_SERVER, REGCLS_MULTIPLEUSE)
        }?;
        println!("fake server registered");
        for _ in 0..600 {
            if quit.load(Ordering::SeqCst) {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        // SAFETY: the cookie came from `CoRegisterClassObject`.
        unsafe { CoRevokeClassObject(cookie) }?;
        println!("fake server stopped");
        Ok(())
    }
}
