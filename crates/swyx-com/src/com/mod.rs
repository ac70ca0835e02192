//! The COM side: one STA thread's apartment over `IDispatch` and its event sink.
//!
//! Attaching (never starting the server) is in [`attach`], the type-information probe in
//! [`probe`].

#![deny(clippy::undocumented_unsafe_blocks)]

mod attach;
mod probe;

pub use probe::probe_type_info;

use std::collections::HashMap;
use std::mem::ManuallyDrop;
use std::ops::DerefMut;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use clock::{SharedClock, WorkGuard};
use swyx::automation::{
    Arg, AutomationError, Call, Connector, Notification, ObjectRef, Reply, Variant,
};
use tracing::debug;
use windows::Win32::Foundation::{
    DISP_E_BADPARAMCOUNT, DISP_E_UNKNOWNNAME, E_NOTIMPL, E_POINTER, VARIANT_FALSE, VARIANT_TRUE,
};
use windows::Win32::System::Com::{
    CoInitializeEx, CoUninitialize, IConnectionPoint, IConnectionPointContainer, IDispatch,
    IDispatch_Impl, IDispatch_Vtbl, ITypeInfo, COINIT_APARTMENTTHREADED, DISPATCH_FLAGS,
    DISPPARAMS, EXCEPINFO,
};
use windows::Win32::System::Ole::DISPID_PROPERTYPUT;
use windows::Win32::System::Variant::{
    VariantChangeType, VariantClear, VARENUM, VARIANT, VARIANT_0_0, VAR_CHANGE_FLAGS, VT_I4,
};
use windows::Win32::UI::WindowsAndMessaging::{
    DispatchMessageW, GetMessageW, TranslateMessage, MSG, WM_APP,
};
use windows_core::{
    implement, interface, AsImpl, IUnknown, Interface, BSTR, GUID, HRESULT, HSTRING, PCWSTR,
};

use crate::apartment::{Apartment, EventSender, ThreadConnector};
use crate::shape::{self, Read};
use crate::PROG_ID;

/// `LOCALE_USER_DEFAULT`, the locale of names and values.
const LCID: u32 = 0x0400;

/// The root object's handle on every connection.
const ROOT: u64 = 1;

/// The event member, named in errors about the subscription.
const EVENT_MEMBER: &str = "PubOnLineMgrNotification";

/// The root object's event interface, `IClientLineMgrEventsPub`.
///
/// ATL connection points query the sink for this interface before they accept it.
/// FIXME: the IID is not known yet, so this placeholder makes subscribing fail, and the adapter
/// falls back to reading every second. Run `probe_type_info` next to a real SwyxIt! and put
/// the IID that it lists under "event interfaces" here. The feature `fake-clmgr-events`
/// switches to the event interface of the fake server that the Wine test runs.
#[cfg_attr(
    not(feature = "fake-clmgr-events"),
    interface("00000000-0000-0000-0000-000000000000")
)]
#[cfg_attr(
    feature = "fake-clmgr-events",
    interface("b5fb15e5-3248-411a-b22a-bffdf6d17612")
)]
unsafe trait IClientLineMgrEventsPub: IDispatch {
    /// `PubOnLineMgrNotification` as a vtable call, in case the interface is dual (only the
    /// slot counts, not the name); a dispinterface sends it through `IDispatch::Invoke` instead.
    unsafe fn pub_on_line_mgr_notification(&self, message: i32, param: i32) -> HRESULT;
}

/// Returns the connector to the running SwyxIt! Client Line Manager.
///
/// Each connection gets its own STA thread; `call_timeout` bounds attaching and every call.
pub fn connector(clock: SharedClock, call_timeout: Duration) -> Arc<dyn Connector> {
    let open = Arc::new(|| attach::open(PROG_ID));
    Arc::new(ThreadConnector::new(open, clock, call_timeout))
}

/// Enters COM for the thread's lifetime.
struct ComThread;

impl ComThread {
    fn enter() -> Result<Self, AutomationError> {
        // SAFETY: called once on this new thread, and balanced by `CoUninitialize` in `drop`.
        let entered = unsafe { CoInitializeEx(None, COINIT_APARTMENTTHREADED) };
        entered.ok().map_err(|error| hresult_error(&error, ""))?;
        Ok(ComThread)
    }
}

impl Drop for ComThread {
    fn drop(&mut self) {
        // SAFETY: balances the successful `CoInitializeEx` in `enter` on the same thread.
        unsafe { CoUninitialize() };
    }
}

/// The pointers of one connection, owned by its STA thread.
struct ComApartment {
    objects: HashMap<u64, IDispatch>,
    next_handle: u64,
    dispids: HashMap<(u64, String), i32>,
    subscription: Option<Subscription>,
    /// Declared last, so that COM is left only after every pointer above is released.
    _com: ComThread,
}

struct Subscription {
    point: IConnectionPoint,
    cookie: u32,
    sink: IClientLineMgrEventsPub,
}

fn hresult_error(error: &windows_core::Error, member: &str) -> AutomationError {
    AutomationError::from_hresult(error.code().0 as u32, member)
}

/// Returns the tagged part of a `VARIANT`. This layer never handles the bare `DECIMAL` form.
fn fields(variant: &VARIANT) -> &VARIANT_0_0 {
    // SAFETY: every VARIANT here is the tagged form, and all bit patterns are valid for it.
    unsafe { &variant.Anonymous.Anonymous }
}

fn fields_mut(variant: &mut VARIANT) -> &mut VARIANT_0_0 {
    // SAFETY: as in `fields`.
    unsafe { DerefMut::deref_mut(&mut variant.Anonymous.Anonymous) }
}

/// VARIANTs this layer owns, each cleared on drop; by-reference entries are only reset.
struct Variants(Vec<VARIANT>);

impl Drop for Variants {
    fn drop(&mut self) {
        for variant in &mut self.0 {
            // SAFETY: each entry is an initialised VARIANT owned by this vector.
            let _ = unsafe { VariantClear(variant) };
        }
    }
}

impl ComApartment {
    fn object(&self, handle: ObjectRef, member: &str) -> Result<IDispatch, AutomationError> {
        self.objects.get(&handle.0).cloned().ok_or_else(|| {
            // E_HANDLE: the caller used a handle that was released or never issued.
            AutomationError::Failed {
                member: member.to_owned(),
                hresult: 0x8007_0006,
            }
        })
    }

    fn insert(&mut self, object: IDispatch) -> ObjectRef {
        let handle = self.next_handle;
        self.next_handle += 1;
        self.objects.insert(handle, object);
        ObjectRef(handle)
    }

    fn dispid(
        &mut self,
        handle: ObjectRef,
        object: &IDispatch,
        member: &str,
    ) -> Result<i32, AutomationError> {
        let key = (handle.0, member.to_owned());
        if let Some(id) = self.dispids.get(&key) {
            return Ok(*id);
        }
        let name = HSTRING::from(member);
        let names = [PCWSTR(name.as_ptr())];
        let mut id = 0;
        // SAFETY: one valid NUL-terminated name and one writable DISPID, as `cnames = 1` needs.
        unsafe { object.GetIDsOfNames(&GUID::zeroed(), names.as_ptr(), 1, LCID, &mut id) }
            .map_err(|error| hresult_error(&error, member))?;
        self.dispids.insert(key, id);
        Ok(id)
    }

    fn to_variant(&self, value: &Variant, member: &str) -> Result<VARIANT, AutomationError> {
        let mut variant = VARIANT::default();
        let tagged = fields_mut(&mut variant);
        match value {
            Variant::Empty => {}
            Variant::I4(number) => tagged.Anonymous.lVal = *number,
            Variant::Bool(flag) => {
                tagged.Anonymous.boolVal = if *flag { VARIANT_TRUE } else { VARIANT_FALSE }
            }
            Variant::Str(text) => {
                tagged.Anonymous.bstrVal = ManuallyDrop::new(BSTR::from(text.as_str()))
            }
            Variant::Date(days) => tagged.Anonymous.date = *days,
            Variant::Dispatch(handle) => {
                tagged.Anonymous.pdispVal = ManuallyDrop::new(Some(self.object(*handle, member)?))
            }
        }
        tagged.vt = VARENUM(shape::vt_of(value));
        Ok(variant)
    }

    fn from_variant(
        &mut self,
        variant: &VARIANT,
        member: &str,
    ) -> Result<Variant, AutomationError> {
        let tagged = fields(variant);
        let mismatch = || AutomationError::TypeMismatch {
            member: member.to_owned(),
        };
        let read = shape::read_of(tagged.vt.0).ok_or_else(mismatch)?;
        // SAFETY: each arm reads the union member that `vt` names as the active one.
        let value = unsafe {
            match read {
                Read::Empty => Variant::Empty,
                Read::I4 => Variant::I4(tagged.Anonymous.lVal),
                Read::CoerceToI4 => Variant::I4(to_i32(variant).map_err(|_| mismatch())?),
                Read::Bool => Variant::Bool(tagged.Anonymous.boolVal.0 != 0),
                Read::Str => Variant::Str(tagged.Anonymous.bstrVal.to_string()),
                Read::Date => Variant::Date(tagged.Anonymous.date),
                Read::Dispatch => match &*tagged.Anonymous.pdispVal {
                    Some(object) => Variant::Dispatch(self.insert(object.clone())),
                    None => Variant::Empty,
                },
                Read::UnknownAsDispatch => match &*tagged.Anonymous.punkVal {
                    Some(unknown) => {
                        let object = unknown.cast().map_err(|_| mismatch())?;
                        Variant::Dispatch(self.insert(object))
                    }
                    None => Variant::Empty,
                },
            }
        };
        Ok(value)
    }

    fn unsubscribe(&mut self) {
        if let Some(subscription) = self.subscription.take() {
            // SAFETY: the cookie came from this connection point's `Advise`.
            if let Err(error) = unsafe { subscription.point.Unadvise(subscription.cookie) } {
                debug!(%error, "unsubscribing from the server's events failed");
            }
            // The server may keep its reference to a dead sink for minutes; close the channel
            // now so that the subscriber hears of it.
            close_sink(&subscription.sink);
        }
    }
}

/// Frees the strings of an exception record and returns its description.
fn take_exception_strings(exception: &mut EXCEPINFO) -> String {
    // SAFETY: each string is taken once and the record is not read as strings afterwards;
    // unset strings are null BSTRs, whose drop does nothing.
    let (description, _source, _help_file) = unsafe {
        (
            ManuallyDrop::take(&mut exception.bstrDescription),
            ManuallyDrop::take(&mut exception.bstrSource),
            ManuallyDrop::take(&mut exception.bstrHelpFile),
        )
    };
    description.to_string()
}

/// Converts a VARIANT (also by reference) to an integer with oleaut32's own rules.
fn to_i32(variant: &VARIANT) -> windows_core::Result<i32> {
    let mut converted = Variants(vec![VARIANT::default()]);
    // SAFETY: both VARIANTs are initialised; the result is owned and cleared by `converted`.
    unsafe { VariantChangeType(&mut converted.0[0], variant, VAR_CHANGE_FLAGS(0), VT_I4)? };
    // SAFETY: `VariantChangeType` succeeded, so the active member is `lVal`.
    Ok(unsafe { fields(&converted.0[0]).Anonymous.lVal })
}

impl Apartment for ComApartment {
    fn call(&mut self, call: &Call) -> Result<Reply, AutomationError> {
        let member = call.member.as_str();
        let object = self.object(call.object, member)?;
        let dispid = self.dispid(call.object, &object, member)?;
        let layout = shape::layout(call);

        // Each out argument lives in a cell that `DISPPARAMS` points at. The cells are all
        // created before any pointer into their vector is taken, so the vector never moves.
        let mut cells = Variants(Vec::with_capacity(call.args.len()));
        let mut cell_of = vec![usize::MAX; call.args.len()];
        for (index, arg) in call.args.iter().enumerate() {
            if let Arg::Out(initial) = arg {
                cell_of[index] = cells.0.len();
                cells.0.push(self.to_variant(initial, member)?);
            }
        }
        let mut slots = Variants(Vec::with_capacity(call.args.len()));
        for &index in &layout.slots {
            let slot = match &call.args[index] {
                Arg::In(value) => self.to_variant(value, member)?,
                Arg::Out(_) => {
                    let cell = &mut cells.0[cell_of[index]];
                    let mut slot = VARIANT::default();
                    let tagged = fields_mut(&mut slot);
                    tagged.vt = VARENUM(shape::vt_of_arg(&call.args[index]));
                    tagged.Anonymous.byref = if tagged.vt.0 == shape::VT_BYREF | shape::VT_VARIANT {
                        (cell as *mut VARIANT).cast()
                    } else {
                        std::ptr::addr_of_mut!(fields_mut(cell).Anonymous).cast()
                    };
                    slot
                }
            };
            slots.0.push(slot);
        }

        let mut named_put = DISPID_PROPERTYPUT;
        let params = DISPPARAMS {
            rgvarg: slots.0.as_mut_ptr(),
            rgdispidNamedArgs: if layout.named_put {
                &mut named_put
            } else {
                std::ptr::null_mut()
            },
            cArgs: slots.0.len() as u32,
            cNamedArgs: u32::from(layout.named_put),
        };
        let mut result = Variants(vec![VARIANT::default()]);
        let mut exception = EXCEPINFO::default();
        let flags = DISPATCH_FLAGS(shape::dispatch_flags(call.kind));
        // SAFETY: `params` points at VARIANTs (`slots`, and the `cells` that its by-reference
        // entries point at) that outlive the call. The other pointers are valid out pointers.
        let invoked = unsafe {
            object.Invoke(
                dispid,
                &GUID::zeroed(),
                LCID,
                flags,
                &params,
                Some(&mut result.0[0]),
                Some(&mut exception),
                None,
            )
        };
        let description = take_exception_strings(&mut exception);
        if let Err(error) = invoked {
            // DISP_E_EXCEPTION carries the server's own error code in the exception record.
            let mut code = error.code().0 as u32;
            if code == 0x8002_0009 && exception.scode != 0 {
                code = exception.scode as u32;
            }
            debug!(member, hresult = code, %description, "automation call failed");
            return Err(AutomationError::from_hresult(code, member));
        }

        let value = self.from_variant(&result.0[0], member)?;
        let mut by_ref = Vec::with_capacity(cells.0.len());
        for cell in &cells.0 {
            by_ref.push(self.from_variant(cell, member)?);
        }
        Ok(Reply { value, by_ref })
    }

    fn release(&mut self, object: ObjectRef) {
        if object.0 != ROOT {
            self.objects.remove(&object.0);
            self.dispids.retain(|(handle, _), _| *handle != object.0);
        }
    }

    fn subscribe(&mut self, events: EventSender) -> Result<(), AutomationError> {
        self.unsubscribe();
        let failed = |error: windows_core::Error| hresult_error(&error, EVENT_MEMBER);
        let root = self.object(ObjectRef(ROOT), EVENT_MEMBER)?;
        let container: IConnectionPointContainer = root.cast().map_err(failed)?;
        // SAFETY: the IID is a valid GUID for the duration of the call.
        let point = unsafe { container.FindConnectionPoint(&IClientLineMgrEventsPub::IID) }
            .map_err(failed)?;
        let sink: IClientLineMgrEventsPub = EventSink {
            events: Mutex::new(Some(events)),
        }
        .into();
        let unknown: IUnknown = sink.cast().map_err(failed)?;
        // SAFETY: `unknown` is a live COM object; the connection point takes its own reference.
        let cookie = unsafe { point.Advise(&unknown) };
        match cookie {
            Ok(cookie) => {
                self.subscription = Some(Subscription {
                    point,
                    cookie,
                    sink,
                });
                Ok(())
            }
            Err(error) => {
                close_sink(&sink);
                Err(failed(error))
            }
        }
    }

    fn wait(&mut self) -> bool {
        let mut message = MSG::default();
        // SAFETY: `message` is a valid out pointer; no window filter, so thread messages and
        // COM's own window messages both arrive.
        let got = unsafe { GetMessageW(&mut message, None, 0, 0) };
        if got.0 <= 0 {
            return false; // WM_QUIT, or the message queue failed.
        }
        if message.message != WM_APP {
            // SAFETY: `message` was filled by `GetMessageW`.
            unsafe {
                let _ = TranslateMessage(&message);
                DispatchMessageW(&message);
            }
        }
        true
    }

    fn close(&mut self) {
        self.unsubscribe();
        self.dispids.clear();
        self.objects.clear();
    }
}

/// Receives `PubOnLineMgrNotification(msg, param)` and queues it; it never calls into COM,
/// because it may run inside the modal loop of an outgoing call.
#[implement(IClientLineMgrEventsPub)]
struct EventSink {
    events: Mutex<Option<EventSender>>,
}

impl EventSink {
    fn send(&self, message: i32, param: i32) {
        let events = self
            .events
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(events) = events.as_ref() {
            let _ = events.send((Notification { message, param }, WorkGuard::none()));
        }
    }
}

fn close_sink(sink: &IClientLineMgrEventsPub) {
    // SAFETY: the interface was made from an `EventSink` in `subscribe`.
    let sink: &EventSink = unsafe { sink.as_impl() };
    sink.events
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .take();
}

impl IDispatch_Impl for EventSink_Impl {
    fn GetTypeInfoCount(&self) -> windows_core::Result<u32> {
        Ok(0)
    }

    fn GetTypeInfo(&self, _index: u32, _lcid: u32) -> windows_core::Result<ITypeInfo> {
        Err(E_NOTIMPL.into())
    }

    fn GetIDsOfNames(
        &self,
        _riid: *const GUID,
        _names: *const PCWSTR,
        _count: u32,
        _lcid: u32,
        _dispids: *mut i32,
    ) -> windows_core::Result<()> {
        Err(DISP_E_UNKNOWNNAME.into())
    }

    /// Takes any two-argument call as the notification: the sink is advised on the one event
    /// interface, whose only member is `(message, param)`.
    fn Invoke(
        &self,
        _dispid: i32,
        _riid: *const GUID,
        _lcid: u32,
        _flags: DISPATCH_FLAGS,
        params: *const DISPPARAMS,
        _result: *mut VARIANT,
        _exception: *mut EXCEPINFO,
        _arg_error: *mut u32,
    ) -> windows_core::Result<()> {
        // SAFETY: COM passes a DISPPARAMS that is valid for this call, or null.
        let params = unsafe { params.as_ref() }.ok_or(windows_core::Error::from(E_POINTER))?;
        if params.cArgs != 2 || params.rgvarg.is_null() {
            return Err(DISP_E_BADPARAMCOUNT.into());
        }
        // SAFETY: `rgvarg` contains `cArgs` valid VARIANTs, last argument first.
        let args = unsafe { std::slice::from_raw_parts(params.rgvarg, 2) };
        self.send(to_i32(&args[1])?, to_i32(&args[0])?);
        Ok(())
    }
}

impl IClientLineMgrEventsPub_Impl for EventSink_Impl {
    unsafe fn pub_on_line_mgr_notification(&self, message: i32, param: i32) -> HRESULT {
        self.send(message, param);
        HRESULT(0)
    }
}

#[cfg(test)]
mod tests {
    use windows::Win32::Foundation::DISP_E_EXCEPTION;

    use super::*;

    /// An in-process automation object that records how it was invoked.
    #[implement(IDispatch)]
    struct Recorder {
        value: Mutex<i32>,
        invocations: Arc<Mutex<Vec<String>>>,
    }

    impl IDispatch_Impl for Recorder_Impl {
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
                "Fail" => 3,
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
            exception: *mut EXCEPINFO,
            _arg_error: *mut u32,
        ) -> windows_core::Result<()> {
            // SAFETY: COM passes valid parameters for the duration of the call.
            let params = unsafe { &*params };
            // SAFETY: `rgvarg` contains `cArgs` VARIANTs.
            let args = unsafe { std::slice::from_raw_parts(params.rgvarg, params.cArgs as usize) };
            let vts: Vec<String> = args
                .iter()
                .map(|arg| format!("{:#x}", fields(arg).vt.0))
                .collect();
            let named = if params.cNamedArgs == 1 {
                // SAFETY: one named DISPID is present.
                unsafe { *params.rgdispidNamedArgs }
            } else {
                0
            };
            self.invocations.lock().unwrap().push(format!(
                "{dispid} flags {} args [{}] named {named}",
                flags.0,
                vts.join(" ")
            ));

            // SAFETY: `result` is null or a writable VARIANT.
            let result = unsafe { result.as_mut() };
            match dispid {
                1 if flags.0 == shape::DISPATCH_PROPERTYPUT => {
                    // SAFETY: the put's value is a VT_I4 in this test.
                    *self.value.lock().unwrap() = unsafe { fields(&args[0]).Anonymous.lVal };
                }
                1 => {
                    if let Some(result) = result {
                        let tagged = fields_mut(result);
                        tagged.vt = VT_I4;
                        tagged.Anonymous.lVal = *self.value.lock().unwrap();
                    }
                }
                2 => {
                    // Outs(long* number, BSTR* text, VARIANT* any): arguments arrive last first.
                    // SAFETY: each by-reference argument points at a live cell of its type.
                    unsafe {
                        *fields(&args[2]).Anonymous.plVal = 41;
                        *fields(&args[1]).Anonymous.pbstrVal = BSTR::from("Büro ☎");
                        let any = &mut *fields(&args[0]).Anonymous.pvarVal;
                        fields_mut(any).vt = VARENUM(shape::VT_BOOL);
                        fields_mut(any).Anonymous.boolVal = VARIANT_TRUE;
                    }
                    if let Some(result) = result {
                        let child: IDispatch = Recorder {
                            value: Mutex::new(7),
                            invocations: self.invocations.clone(),
                        }
                        .into();
                        let tagged = fields_mut(result);
                        tagged.vt = VARENUM(shape::VT_DISPATCH);
                        tagged.Anonymous.pdispVal = ManuallyDrop::new(Some(child));
                    }
                }
                _ => {
                    // SAFETY: `exception` is a writable record when the caller passed one.
                    if let Some(exception) = unsafe { exception.as_mut() } {
                        exception.scode = 0x8007_06BA_u32 as i32;
                        exception.bstrDescription = ManuallyDrop::new(BSTR::from("server gone"));
                    }
                    return Err(DISP_E_EXCEPTION.into());
                }
            }
            Ok(())
        }
    }

    fn apartment() -> (ComApartment, Arc<Mutex<Vec<String>>>) {
        let com = ComThread::enter().unwrap();
        let invocations = Arc::new(Mutex::new(Vec::new()));
        let root: IDispatch = Recorder {
            value: Mutex::new(0),
            invocations: invocations.clone(),
        }
        .into();
        let apartment = ComApartment {
            objects: HashMap::from([(ROOT, root)]),
            next_handle: ROOT + 1,
            dispids: HashMap::new(),
            subscription: None,
            _com: com,
        };
        (apartment, invocations)
    }

    #[test]
    fn put_and_get_use_dispatch_flags() {
        let (mut apartment, invocations) = apartment();
        let root = ObjectRef(ROOT);
        apartment
            .call(&Call::put(root, "Value", Variant::I4(5)))
            .unwrap();
        let read = apartment.call(&Call::get(root, "Value")).unwrap();
        assert_eq!(read.value, Variant::I4(5));
        assert_eq!(
            *invocations.lock().unwrap(),
            ["1 flags 4 args [0x3] named -3", "1 flags 2 args [] named 0"]
        );
    }

    #[test]
    fn out_arguments_come_back_in_order() {
        let (mut apartment, invocations) = apartment();
        let outs = vec![
            Arg::Out(Variant::I4(0)),
            Arg::Out(Variant::Str(String::new())),
            Arg::Out(Variant::Empty),
        ];
        let reply = apartment
            .call(&Call::method(ObjectRef(ROOT), "Outs", outs))
            .unwrap();
        assert_eq!(
            reply.by_ref,
            [
                Variant::I4(41),
                Variant::Str("Büro ☎".into()),
                Variant::Bool(true)
            ]
        );
        assert_eq!(
            invocations.lock().unwrap()[0],
            "2 flags 3 args [0x400c 0x4008 0x4003] named 0"
        );

        let Variant::Dispatch(child) = reply.value else {
            panic!("expected an object, got {:?}", reply.value)
        };
        let read = apartment.call(&Call::get(child, "Value")).unwrap();
        assert_eq!(read.value, Variant::I4(7));
        apartment.release(child);
        let released = apartment.call(&Call::get(child, "Value"));
        assert!(
            matches!(
                released,
                Err(AutomationError::Failed {
                    hresult: 0x8007_0006,
                    ..
                })
            ),
            "{released:?}"
        );
    }

    #[tokio::test]
    async fn connection_wakes_the_message_loop() {
        let invocations = Arc::new(Mutex::new(Vec::new()));
        let for_open = invocations.clone();
        let open = Arc::new(move || {
            let for_root = for_open.clone();
            attach::open_with(move || {
                let recorder = Recorder {
                    value: Mutex::new(0),
                    invocations: for_root,
                };
                Ok(recorder.into())
            })
        });
        let clock: SharedClock = Arc::new(clock::SystemClock::new());
        let connector = ThreadConnector::new(open, clock, Duration::from_secs(10));
        let connection = connector.connect().await.unwrap();
        let root = connection.root();
        for value in 1..=3 {
            connection
                .put(root, "Value", Variant::I4(value))
                .await
                .unwrap();
            assert_eq!(connection.get(root, "Value").await, Ok(Variant::I4(value)));
        }
        assert_eq!(invocations.lock().unwrap().len(), 6);
    }

    #[test]
    fn sink_queues_notifications() {
        let _com = ComThread::enter().unwrap();
        let (events, mut receiver) = tokio::sync::mpsc::unbounded_channel();
        let sink: IClientLineMgrEventsPub = EventSink {
            events: Mutex::new(Some(events)),
        }
        .into();
        let dispatch: IDispatch = sink.cast().unwrap();

        // Through Invoke, last argument first, with the message passed by reference.
        let mut message = 60;
        let mut args = Variants(vec![VARIANT::default(), VARIANT::default()]);
        fields_mut(&mut args.0[0]).vt = VT_I4;
        fields_mut(&mut args.0[0]).Anonymous.lVal = 7;
        fields_mut(&mut args.0[1]).vt = VARENUM(shape::VT_BYREF | shape::VT_I4);
        fields_mut(&mut args.0[1]).Anonymous.plVal = &mut message;
        let params = DISPPARAMS {
            rgvarg: args.0.as_mut_ptr(),
            rgdispidNamedArgs: std::ptr::null_mut(),
            cArgs: 2,
            cNamedArgs: 0,
        };
        let method = DISPATCH_FLAGS(shape::DISPATCH_METHOD);
        // SAFETY: `params` points at two initialised VARIANTs that outlive the call.
        unsafe { dispatch.Invoke(1, &GUID::zeroed(), LCID, method, &params, None, None, None) }
            .unwrap();
        // Through the vtable slot of a dual interface.
        // SAFETY: a plain call on a live interface.
        unsafe { sink.pub_on_line_mgr_notification(28, 0x0208) }
            .ok()
            .unwrap();
        close_sink(&sink);

        let first = receiver.try_recv().unwrap().0;
        assert_eq!(
            first,
            Notification {
                message: 60,
                param: 7
            }
        );
        let second = receiver.try_recv().unwrap().0;
        assert_eq!(
            second,
            Notification {
                message: 28,
                param: 0x0208
            }
        );
        assert!(
            receiver.try_recv().is_err(),
            "closing the sink closes the channel"
        );
    }

    #[test]
    fn failures_map_through_hresults() {
        let (mut apartment, _invocations) = apartment();
        let root = ObjectRef(ROOT);
        assert_eq!(
            apartment.call(&Call::method(root, "Fail", Vec::new())),
            Err(AutomationError::ServerGone)
        );
        assert_eq!(
            apartment.call(&Call::get(root, "Missing")),
            Err(AutomationError::UnknownName {
                member: "Missing".into()
            })
        );
    }
}
