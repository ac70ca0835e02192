//! The type-information probe: what the server declares, written as text for a person.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use swyx::automation::{Arg, AutomationError, Call, Reply, Variant};
use windows::Win32::Foundation::S_OK;
use windows::Win32::System::Com::{
    IConnectionPointContainer, IDispatch, ITypeInfo, ITypeLib, IMPLTYPEFLAG_FSOURCE, TKIND_COCLASS,
    TYPEDESC,
};
use windows_core::{Interface, BSTR};

use super::attach::open;
use super::{IClientLineMgrEventsPub, LCID};
use crate::apartment::{Apartment, Opened};
use crate::shape;

/// Members whose presence and signature the probe reports by name.
const PROBED_MEMBERS: [&str; 12] = [
    "DispClientConfig",
    "Away",
    "DoNotDisturb",
    "AwayText",
    "GetOwnUserPresenceInfo",
    "SetRichPresenceStatus",
    "PublicateDetectedAwayState",
    "DispNumberOfLines",
    "DispGetLine",
    "DispState",
    "DispIsLoggedIn",
    "GetOwnEmailAddress",
];

/// Attaches to the running instance of `progid`, never starting one, and returns its type
/// information as text. The text lists every member of the root object, of its client
/// configuration object and of its first line, with parameter types and directions. It also
/// lists the IIDs and members of the event interfaces, and which of the members that the Swyx
/// adapter uses were found.
///
/// Failures are written into the text, so the result is always worth saving.
pub fn probe_type_info(progid: &str) -> String {
    let progid = progid.to_owned();
    let probe = std::thread::spawn(move || {
        let mut text = String::new();
        if let Err(error) = probe(&progid, &mut text) {
            let _ = writeln!(text, "probe stopped: {error}");
        }
        text
    });
    probe
        .join()
        .unwrap_or_else(|_| "probe stopped: the probe thread panicked\n".to_owned())
}

fn probe(progid: &str, text: &mut String) -> Result<(), AutomationError> {
    let _ = writeln!(text, "ProgID {progid}");
    let Opened {
        mut apartment,
        root,
        ..
    } = open(progid)?;
    let mut seen = BTreeSet::new();
    let root_object = apartment.object(root, "")?;
    dump_object(text, "root object", &root_object, &mut seen);

    let follow = [
        ("DispClientConfig", Call::get(root, "DispClientConfig")),
        (
            "DispGetLine(0)",
            Call::method(root, "DispGetLine", vec![Arg::In(Variant::I4(0))]),
        ),
    ];
    for (label, call) in follow {
        match apartment.call(&call) {
            Ok(Reply {
                value: Variant::Dispatch(handle),
                ..
            }) => {
                let object = apartment.object(handle, label)?;
                dump_object(text, label, &object, &mut seen);
            }
            Ok(reply) => {
                let _ = writeln!(text, "\n{label} returned {:?}, not an object", reply.value);
            }
            Err(error) => {
                let _ = writeln!(text, "\n{label} failed: {error}");
            }
        }
    }

    dump_events(text, &root_object, &mut seen);
    let _ = writeln!(text, "\nmembers the adapter uses:");
    for member in PROBED_MEMBERS {
        let found = if seen.contains(member) {
            "found"
        } else {
            "NOT FOUND"
        };
        let _ = writeln!(text, "  {member}: {found}");
    }
    let _ = writeln!(
        text,
        "this build subscribes to {{{:?}}}",
        IClientLineMgrEventsPub::IID
    );
    apartment.close();
    Ok(())
}

fn dump_object(text: &mut String, label: &str, object: &IDispatch, seen: &mut BTreeSet<String>) {
    // SAFETY: `object` is a live IDispatch.
    match unsafe { object.GetTypeInfo(0, LCID) } {
        Ok(info) => dump_type(text, label, &info, seen),
        Err(error) => {
            let _ = writeln!(text, "\n[{label}] no type information: {error}");
        }
    }
}

/// Writes one type's functions and properties.
fn dump_type(text: &mut String, label: &str, info: &ITypeInfo, seen: &mut BTreeSet<String>) {
    // SAFETY: `info` is live; the attribute block is released below with the same object.
    let attr = match unsafe { info.GetTypeAttr() } {
        Ok(attr) => attr,
        Err(error) => {
            let _ = writeln!(text, "\n[{label}] no type attributes: {error}");
            return;
        }
    };
    // SAFETY: `GetTypeAttr` succeeded, so `attr` points at a valid TYPEATTR until released.
    let (guid, kind, functions, variables) = unsafe {
        (
            (*attr).guid,
            (*attr).typekind.0,
            (*attr).cFuncs,
            (*attr).cVars,
        )
    };
    // SAFETY: `attr` came from this object's `GetTypeAttr` and is released once.
    unsafe { info.ReleaseTypeAttr(attr) };
    let _ = writeln!(
        text,
        "\n[{label}] {} {{{guid:?}}} kind {}",
        type_name(info),
        shape::type_kind_name(kind)
    );

    for index in 0..u32::from(functions) {
        // SAFETY: `index` is below `cFuncs`; the descriptor is released below.
        let Ok(desc) = (unsafe { info.GetFuncDesc(index) }) else {
            continue;
        };
        // SAFETY: `GetFuncDesc` succeeded, so `desc` is valid until released.
        let line = unsafe {
            let desc = &*desc;
            let names = member_names(info, desc.memid, desc.cParams as usize + 1);
            let name = names.first().cloned().unwrap_or_default();
            seen.insert(name.clone());
            let mut params = Vec::new();
            for position in 0..desc.cParams as usize {
                let elem = &*desc.lprgelemdescParam.add(position);
                let flags = elem.Anonymous.paramdesc.wParamFlags.0;
                let param = names
                    .get(position + 1)
                    .cloned()
                    .unwrap_or_else(|| format!("arg{position}"));
                params.push(format!(
                    "{}{param}: {}",
                    shape::param_flags_text(flags),
                    type_text(info, &elem.tdesc)
                ));
            }
            format!(
                "  {:>6} {} {name}({}) -> {}",
                desc.memid,
                shape::invoke_kind_name(desc.invkind.0),
                params.join(", "),
                type_text(info, &desc.elemdescFunc.tdesc)
            )
        };
        // SAFETY: `desc` came from this object's `GetFuncDesc` and is released once.
        unsafe { info.ReleaseFuncDesc(desc) };
        let _ = writeln!(text, "{line}");
    }

    for index in 0..u32::from(variables) {
        // SAFETY: `index` is below `cVars`; the descriptor is released below.
        let Ok(desc) = (unsafe { info.GetVarDesc(index) }) else {
            continue;
        };
        // SAFETY: `GetVarDesc` succeeded, so `desc` is valid until released.
        let line = unsafe {
            let desc = &*desc;
            let name = member_names(info, desc.memid, 1)
                .first()
                .cloned()
                .unwrap_or_default();
            seen.insert(name.clone());
            format!(
                "  {:>6} property {name}: {}",
                desc.memid,
                type_text(info, &desc.elemdescVar.tdesc)
            )
        };
        // SAFETY: `desc` came from this object's `GetVarDesc` and is released once.
        unsafe { info.ReleaseVarDesc(desc) };
        let _ = writeln!(text, "{line}");
    }
}

/// The member's name followed by its parameter names.
fn member_names(info: &ITypeInfo, memid: i32, capacity: usize) -> Vec<String> {
    let mut names = vec![BSTR::new(); capacity.max(1)];
    let mut count = 0;
    // SAFETY: `names` has room for `names.len()` names and `count` is a valid out pointer.
    if unsafe { info.GetNames(memid, &mut names, &mut count) }.is_err() {
        return Vec::new();
    }
    names
        .iter()
        .take(count as usize)
        .map(BSTR::to_string)
        .collect()
}

fn type_name(info: &ITypeInfo) -> String {
    let mut name = BSTR::new();
    // SAFETY: `name` is a valid out pointer; -1 (MEMBERID_NIL) names the type itself.
    match unsafe { info.GetDocumentation(-1, Some(&mut name), None, std::ptr::null_mut(), None) } {
        Ok(()) => name.to_string(),
        Err(_) => "(unnamed)".to_owned(),
    }
}

/// Writes a parameter or return type, following pointers and user-defined types.
fn type_text(info: &ITypeInfo, desc: &TYPEDESC) -> String {
    const VT_PTR: u16 = 26;
    const VT_USERDEFINED: u16 = 29;
    match desc.vt.0 {
        // SAFETY: for VT_PTR the active member is `lptdesc`, valid while the descriptor is.
        VT_PTR => match unsafe { desc.Anonymous.lptdesc.as_ref() } {
            Some(inner) => format!("{}*", type_text(info, inner)),
            None => "?*".to_owned(),
        },
        VT_USERDEFINED => {
            // SAFETY: for VT_USERDEFINED the active member is `hreftype`.
            let reference = unsafe { desc.Anonymous.hreftype };
            // SAFETY: `reference` came from this type's own descriptor.
            match unsafe { info.GetRefTypeInfo(reference) } {
                Ok(referenced) => type_name(&referenced),
                Err(_) => "(user-defined)".to_owned(),
            }
        }
        vt => shape::vt_name(vt),
    }
}

/// Lists every connection point of the root object with its interface's members.
fn dump_events(text: &mut String, root: &IDispatch, seen: &mut BTreeSet<String>) {
    let _ = writeln!(text, "\nevent interfaces:");
    let Ok(container) = root.cast::<IConnectionPointContainer>() else {
        let _ = writeln!(text, "  the root object has no connection points");
        return;
    };
    // SAFETY: `container` is live.
    let Ok(points) = (unsafe { container.EnumConnectionPoints() }) else {
        let _ = writeln!(text, "  enumerating the connection points failed");
        return;
    };
    // SAFETY: `root` is live; the type library is only read.
    let library = unsafe { root.GetTypeInfo(0, LCID) }.ok().and_then(|info| {
        let mut library = None;
        let mut index = 0;
        // SAFETY: both out pointers are valid.
        unsafe { info.GetContainingTypeLib(&mut library, &mut index) }
            .ok()
            .and(library)
    });
    loop {
        let mut slot = [None];
        let mut fetched = 0;
        // SAFETY: `slot` has room for one connection point and `fetched` is a valid out pointer.
        let next = unsafe { points.Next(&mut slot, &mut fetched) };
        // S_OK alone means that the one requested point came back, because Wine 8's marshalled
        // `Next` has returned S_OK with `fetched` left at 0 across processes.
        let complete = next == S_OK || (next.is_ok() && fetched == 1);
        let Some(point) = slot[0].take().filter(|_| complete) else {
            break;
        };
        // SAFETY: `point` is live.
        let Ok(iid) = (unsafe { point.GetConnectionInterface() }) else {
            continue;
        };
        let _ = writeln!(text, "  {{{iid:?}}}");
        let Some(library) = library.as_ref() else {
            continue;
        };
        // SAFETY: `iid` is a valid GUID for the call.
        if let Ok(info) = unsafe { library.GetTypeInfoOfGuid(&iid) } {
            dump_type(text, "event interface", &info, seen);
        }
    }
    if let Some(library) = library.as_ref() {
        dump_source_interfaces(text, library, seen);
    }
}

/// Lists the event (`[source]`) interfaces that the type library's classes declare. This also
/// works where the connection points cannot be enumerated across the process boundary. Under
/// Wine 8, the marshalled `IEnumConnectionPoints::Next` has also returned a garbage `HRESULT`
/// and count.
fn dump_source_interfaces(text: &mut String, library: &ITypeLib, seen: &mut BTreeSet<String>) {
    let _ = writeln!(
        text,
        "
event interfaces declared in the type library:"
    );
    // SAFETY: `library` is live.
    let count = unsafe { library.GetTypeInfoCount() };
    for index in 0..count {
        // SAFETY: `index` is below the count.
        if unsafe { library.GetTypeInfoType(index) }.ok() != Some(TKIND_COCLASS) {
            continue;
        }
        // SAFETY: as above.
        let Ok(class) = (unsafe { library.GetTypeInfo(index) }) else {
            continue;
        };
        // SAFETY: `class` is live; the attribute block is released below with the same object.
        let Ok(attr) = (unsafe { class.GetTypeAttr() }) else {
            continue;
        };
        // SAFETY: `GetTypeAttr` succeeded, so `attr` is valid until released, once, here.
        let implemented = unsafe {
            let implemented = (*attr).cImplTypes;
            class.ReleaseTypeAttr(attr);
            implemented
        };
        for position in 0..u32::from(implemented) {
            // SAFETY: `position` is below `cImplTypes`.
            let source = unsafe { class.GetImplTypeFlags(position) }
                .is_ok_and(|flags| flags.0 & IMPLTYPEFLAG_FSOURCE.0 != 0);
            if !source {
                continue;
            }
            // SAFETY: as above.
            let Ok(reference) = (unsafe { class.GetRefTypeOfImplType(position) }) else {
                continue;
            };
            // SAFETY: the reference comes from the same class.
            if let Ok(info) = unsafe { class.GetRefTypeInfo(reference) } {
                dump_type(text, "event interface", &info, seen);
            }
        }
    }
}
