//! How automation values and calls map onto `VARIANT` and `DISPPARAMS`, as portable tables.
//!
//! The Windows layer builds and reads the real structures. The decisions live here so that
//! they are tested on every platform: which `VARTYPE` a value gets, how an out argument is
//! passed, in which order arguments go, and which returned types are read directly or
//! coerced. The numbers are the `VARENUM` and `DISPATCH_*` values of `oaidl.h`/`oleauto.h`.

use swyx::automation::{Arg, Call, CallKind, Variant};

/// `VT_EMPTY`.
pub const VT_EMPTY: u16 = 0;
/// `VT_NULL`.
pub const VT_NULL: u16 = 1;
/// `VT_I2`.
pub const VT_I2: u16 = 2;
/// `VT_I4`.
pub const VT_I4: u16 = 3;
/// `VT_DATE`.
pub const VT_DATE: u16 = 7;
/// `VT_BSTR`.
pub const VT_BSTR: u16 = 8;
/// `VT_DISPATCH`.
pub const VT_DISPATCH: u16 = 9;
/// `VT_BOOL`.
pub const VT_BOOL: u16 = 11;
/// `VT_VARIANT`, used only by reference.
pub const VT_VARIANT: u16 = 12;
/// `VT_UNKNOWN`.
pub const VT_UNKNOWN: u16 = 13;
/// `VT_I1`.
pub const VT_I1: u16 = 16;
/// `VT_UI1`.
pub const VT_UI1: u16 = 17;
/// `VT_UI2`.
pub const VT_UI2: u16 = 18;
/// `VT_UI4`.
pub const VT_UI4: u16 = 19;
/// `VT_INT`.
pub const VT_INT: u16 = 22;
/// `VT_UINT`.
pub const VT_UINT: u16 = 23;
/// `VT_BYREF`, or-ed into the type of an argument passed by reference.
pub const VT_BYREF: u16 = 0x4000;

/// `DISPATCH_METHOD`.
pub const DISPATCH_METHOD: u16 = 1;
/// `DISPATCH_PROPERTYGET`.
pub const DISPATCH_PROPERTYGET: u16 = 2;
/// `DISPATCH_PROPERTYPUT`.
pub const DISPATCH_PROPERTYPUT: u16 = 4;

/// The way a returned `VARIANT` is read into a [`Variant`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Read {
    /// `Variant::Empty`.
    Empty,
    /// `Variant::I4`, read from `lVal`.
    I4,
    /// `Variant::I4` after `VariantChangeType(VT_I4)`: another integer type.
    CoerceToI4,
    /// `Variant::Bool`, read from `boolVal` (any value other than 0 is true).
    Bool,
    /// `Variant::Str`, read from `bstrVal`.
    Str,
    /// `Variant::Date`, read from `date`.
    Date,
    /// `Variant::Dispatch`, read from `pdispVal` (a null pointer reads as `Empty`).
    Dispatch,
    /// `Variant::Dispatch` after `QueryInterface(IID_IDispatch)` on `punkVal`.
    UnknownAsDispatch,
}

/// Returns how a returned `VARIANT` of type `vt` is read, or `None` for a type the automation
/// seam cannot carry (arrays, currency, decimals, by-reference results).
pub fn read_of(vt: u16) -> Option<Read> {
    match vt {
        VT_EMPTY | VT_NULL => Some(Read::Empty),
        VT_I4 => Some(Read::I4),
        VT_I2 | VT_I1 | VT_UI1 | VT_UI2 | VT_UI4 | VT_INT | VT_UINT => Some(Read::CoerceToI4),
        VT_BOOL => Some(Read::Bool),
        VT_BSTR => Some(Read::Str),
        VT_DATE => Some(Read::Date),
        VT_DISPATCH => Some(Read::Dispatch),
        VT_UNKNOWN => Some(Read::UnknownAsDispatch),
        _ => None,
    }
}

/// Returns the `VARTYPE` a value is passed as.
pub fn vt_of(value: &Variant) -> u16 {
    match value {
        Variant::Empty => VT_EMPTY,
        Variant::I4(_) => VT_I4,
        Variant::Bool(_) => VT_BOOL,
        Variant::Str(_) => VT_BSTR,
        Variant::Date(_) => VT_DATE,
        Variant::Dispatch(_) => VT_DISPATCH,
    }
}

/// Returns the `VARTYPE` of an argument in `DISPPARAMS`.
///
/// An out argument points at a cell of its initial value's type, because servers that check
/// types against their type library reject `VT_BYREF | VT_VARIANT` for a `long*` parameter.
/// An out argument whose initial value is `Empty` points at a whole `VARIANT`, for
/// parameters declared as `VARIANT*`.
pub fn vt_of_arg(arg: &Arg) -> u16 {
    match arg {
        Arg::In(value) => vt_of(value),
        Arg::Out(Variant::Empty) => VT_BYREF | VT_VARIANT,
        Arg::Out(value) => VT_BYREF | vt_of(value),
    }
}

/// Returns the `wFlags` of `IDispatch::Invoke` for a call.
///
/// A method is also allowed to be a parameterised property get, as Visual Basic's late binding
/// does, because type libraries declare some getters with arguments (`DispGetLine(i)`) either
/// way.
pub fn dispatch_flags(kind: CallKind) -> u16 {
    match kind {
        CallKind::Get => DISPATCH_PROPERTYGET,
        CallKind::Put => DISPATCH_PROPERTYPUT,
        CallKind::Method => DISPATCH_METHOD | DISPATCH_PROPERTYGET,
    }
}

/// The layout of a call's `DISPPARAMS`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    /// For each `rgvarg` slot, the index of the argument it carries: `DISPPARAMS` lists
    /// arguments last to first.
    pub slots: Vec<usize>,
    /// Whether slot 0 is the named argument `DISPID_PROPERTYPUT`, as a property put requires.
    pub named_put: bool,
}

/// Returns the `DISPPARAMS` layout of a call.
pub fn layout(call: &Call) -> Layout {
    let slots = (0..call.args.len()).rev().collect();
    let named_put = call.kind == CallKind::Put && !call.args.is_empty();
    Layout { slots, named_put }
}

/// Returns the IDL name of a `VARTYPE` as the probe prints it, e.g. `long`, `BSTR*`.
pub fn vt_name(vt: u16) -> String {
    let base = match vt & 0x0FFF {
        0 => "void-or-empty",
        1 => "null",
        2 => "short",
        3 => "long",
        4 => "float",
        5 => "double",
        6 => "CURRENCY",
        7 => "DATE",
        8 => "BSTR",
        9 => "IDispatch*",
        10 => "SCODE",
        11 => "VARIANT_BOOL",
        12 => "VARIANT",
        13 => "IUnknown*",
        14 => "DECIMAL",
        16 => "char",
        17 => "unsigned char",
        18 => "unsigned short",
        19 => "unsigned long",
        20 => "hyper",
        21 => "unsigned hyper",
        22 => "int",
        23 => "unsigned int",
        24 => "void",
        25 => "HRESULT",
        26 => "pointer",
        27 => "SAFEARRAY",
        28 => "C array",
        29 => "user-defined",
        30 => "LPSTR",
        31 => "LPWSTR",
        _ => "unknown",
    };
    let mut name = if vt & 0x2000 != 0 {
        format!("SAFEARRAY({base})")
    } else {
        base.to_owned()
    };
    if vt & VT_BYREF != 0 {
        name.push('*');
    }
    name
}

/// Returns the name of an `INVOKEKIND`.
pub fn invoke_kind_name(kind: i32) -> &'static str {
    match kind {
        1 => "method",
        2 => "get",
        4 => "put",
        8 => "putref",
        _ => "invoke?",
    }
}

/// Returns the name of a `TYPEKIND`.
pub fn type_kind_name(kind: i32) -> &'static str {
    match kind {
        0 => "enum",
        1 => "record",
        2 => "module",
        3 => "interface",
        4 => "dispinterface",
        5 => "coclass",
        6 => "alias",
        7 => "union",
        _ => "unknown",
    }
}

/// Returns the direction attributes of a parameter's `PARAMFLAGS` as an IDL prefix, e.g.
/// `[in] ` or `[out, retval] `; empty when the type library states none.
pub fn param_flags_text(flags: u16) -> String {
    let named = [
        (0x1, "in"),
        (0x2, "out"),
        (0x8, "retval"),
        (0x10, "optional"),
    ];
    let parts: Vec<&str> = named
        .iter()
        .filter(|(bit, _)| flags & bit != 0)
        .map(|(_, name)| *name)
        .collect();
    if parts.is_empty() {
        String::new()
    } else {
        format!("[{}] ", parts.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use swyx::automation::ObjectRef;

    #[test]
    fn returned_types_read_as_the_seam_expects() {
        fn check(vt: u16, expected: Option<Read>) {
            assert_eq!(read_of(vt), expected, "vt {vt}");
        }
        check(VT_EMPTY, Some(Read::Empty));
        check(VT_NULL, Some(Read::Empty));
        check(VT_I4, Some(Read::I4));
        check(VT_I2, Some(Read::CoerceToI4));
        check(VT_UI1, Some(Read::CoerceToI4));
        check(VT_UI4, Some(Read::CoerceToI4));
        check(VT_INT, Some(Read::CoerceToI4));
        check(VT_BOOL, Some(Read::Bool));
        check(VT_BSTR, Some(Read::Str));
        check(VT_DATE, Some(Read::Date));
        check(VT_DISPATCH, Some(Read::Dispatch));
        check(VT_UNKNOWN, Some(Read::UnknownAsDispatch));
        check(5, None); // VT_R8
        check(6, None); // VT_CY
        check(0x2000 | VT_I4, None); // VT_ARRAY
        check(VT_BYREF | VT_I4, None);
    }

    #[test]
    fn arguments_get_their_value_type() {
        fn check(arg: Arg, expected: u16) {
            assert_eq!(vt_of_arg(&arg), expected, "{arg:?}");
        }
        check(Arg::In(Variant::Empty), VT_EMPTY);
        check(Arg::In(Variant::I4(7)), VT_I4);
        check(Arg::In(Variant::Bool(true)), VT_BOOL);
        check(Arg::In(Variant::Str("x".into())), VT_BSTR);
        check(Arg::In(Variant::Date(45000.5)), VT_DATE);
        check(Arg::In(Variant::Dispatch(ObjectRef(3))), VT_DISPATCH);
        check(Arg::Out(Variant::I4(0)), 0x4003);
        check(Arg::Out(Variant::Bool(false)), 0x400B);
        check(Arg::Out(Variant::Str(String::new())), 0x4008);
        check(Arg::Out(Variant::Date(0.0)), 0x4007);
        check(Arg::Out(Variant::Empty), 0x400C);
    }

    #[test]
    fn call_kinds_map_to_dispatch_flags() {
        assert_eq!(dispatch_flags(CallKind::Get), 2);
        assert_eq!(dispatch_flags(CallKind::Put), 4);
        assert_eq!(dispatch_flags(CallKind::Method), 3);
    }

    #[test]
    fn arguments_are_laid_out_last_first() {
        fn check(call: Call, slots: &[usize], named_put: bool) {
            let layout = layout(&call);
            assert_eq!(layout.slots, slots, "{call:?}");
            assert_eq!(layout.named_put, named_put, "{call:?}");
        }
        let root = ObjectRef(1);
        check(Call::get(root, "DispIsLoggedIn"), &[], false);
        check(Call::put(root, "Away", Variant::I4(1)), &[0], true);
        let outs = (0..5).map(|_| Arg::Out(Variant::Empty)).collect();
        check(
            Call::method(root, "GetOwnUserPresenceInfo", outs),
            &[4, 3, 2, 1, 0],
            false,
        );
        check(
            Call::method(root, "DispGetLine", vec![Arg::In(Variant::I4(0))]),
            &[0],
            false,
        );
        let indexed = Call {
            object: root,
            member: "Item".into(),
            kind: CallKind::Put,
            args: vec![Arg::In(Variant::I4(2)), Arg::In(Variant::Str("v".into()))],
        };
        // The value of an indexed put is the last argument, so it lands in slot 0 as named.
        check(indexed, &[1, 0], true);
    }

    #[test]
    fn probe_names_types_in_idl_terms() {
        fn check(vt: u16, expected: &str) {
            assert_eq!(vt_name(vt), expected, "vt {vt:#x}");
        }
        check(VT_I4, "long");
        check(VT_BSTR, "BSTR");
        check(VT_BOOL, "VARIANT_BOOL");
        check(VT_DISPATCH, "IDispatch*");
        check(VT_BYREF | VT_VARIANT, "VARIANT*");
        check(0x2000 | VT_BSTR, "SAFEARRAY(BSTR)");
        check(24, "void");
        check(25, "HRESULT");
        check(0x0FFF, "unknown");
        assert_eq!(invoke_kind_name(2), "get");
        assert_eq!(invoke_kind_name(3), "invoke?");
        assert_eq!(type_kind_name(4), "dispinterface");
        assert_eq!(param_flags_text(0), "");
        assert_eq!(param_flags_text(0x1), "[in] ");
        assert_eq!(param_flags_text(0x2 | 0x8), "[out, retval] ");
    }
}
