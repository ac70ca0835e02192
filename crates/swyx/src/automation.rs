//! The late-bound automation seam: an IDispatch-shaped interface without Windows types.
//!
//! SwyxIt!'s Client Line Manager (`CLMgr.exe`, ProgID `CLMgr.ClientLineMgr`) is a 32-bit
//! out-of-process COM server, and only its dispatch interfaces marshal reliably across the
//! process boundary, so every member is called by name. This module describes such calls in
//! portable terms. The adapter speaks only this interface; the SwyxIt! simulator implements it
//! in-process, and a Windows layer implements it over `IDispatch::Invoke` on one STA thread.
//!
//! The shape suits a COM apartment: a [`Connection`] refers to objects by opaque
//! [`ObjectRef`] handles rather than by pointers, every [`Call`] is a plain value that can
//! travel over a channel to the STA thread, and the result comes back as a future. Events of
//! `PubOnLineMgrNotification(msg, param)` arrive on a channel, never inside a call.
//!
//! The Windows layer has nothing Swyx-specific to decide: it maps [`CallKind`] to the
//! `DISPATCH_*` flags, [`Variant`] to `VARIANT`, [`Arg::Out`] to a `VT_BYREF` argument and
//! failed `HRESULT`s through [`AutomationError::from_hresult`].

use std::fmt;
use std::future::Future;
use std::pin::Pin;

use clock::WorkGuard;
use tokio::sync::mpsc;

/// A future returned by the automation traits.
pub type AutomationFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The receiving end of a connection's notifications.
///
/// Each item carries a [`WorkGuard`] from the sender's clock that the receiver drops once it
/// has handled the notification. A real COM layer sends [`WorkGuard::none`]. The channel closes
/// when the connection breaks or is dropped.
pub type NotificationReceiver = mpsc::UnboundedReceiver<(Notification, WorkGuard)>;

/// An opaque handle to one automation object of a [`Connection`].
///
/// A handle is valid only on the connection that returned it, until it is released or the
/// connection is dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectRef(pub u64);

/// An automation value, the subset of `VARIANT` that the Client Line Manager uses.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Variant {
    /// `VT_EMPTY`: no value, also the result of a property put or a void method.
    #[default]
    Empty,
    /// `VT_I4`.
    I4(i32),
    /// `VT_BOOL`; the Windows layer maps `true` to `VARIANT_TRUE` (-1).
    Bool(bool),
    /// `VT_BSTR`.
    Str(String),
    /// `VT_DATE`: days since 1899-12-30 as an OLE automation date.
    Date(f64),
    /// `VT_DISPATCH`: another object, released with [`Connection::release`].
    Dispatch(ObjectRef),
}

impl Variant {
    /// The name of the variant's type, for messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Variant::Empty => "empty",
            Variant::I4(_) => "i4",
            Variant::Bool(_) => "bool",
            Variant::Str(_) => "string",
            Variant::Date(_) => "date",
            Variant::Dispatch(_) => "dispatch",
        }
    }

    /// An integer value; a bool reads as 0 or 1, as `VariantChangeType` would coerce it.
    pub fn as_i32(&self) -> Option<i32> {
        match self {
            Variant::I4(value) => Some(*value),
            Variant::Bool(value) => Some(i32::from(*value)),
            _ => None,
        }
    }

    /// A flag value: a bool, or an integer where any value other than 0 is true.
    pub fn as_flag(&self) -> Option<bool> {
        match self {
            Variant::Bool(value) => Some(*value),
            Variant::I4(value) => Some(*value != 0),
            _ => None,
        }
    }

    /// A string value; `Empty` reads as no string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Variant::Str(value) => Some(value),
            _ => None,
        }
    }

    /// An object handle.
    pub fn as_object(&self) -> Option<ObjectRef> {
        match self {
            Variant::Dispatch(object) => Some(*object),
            _ => None,
        }
    }
}

/// One argument of a call.
#[derive(Debug, Clone, PartialEq)]
pub enum Arg {
    /// Passed by value.
    In(Variant),
    /// Passed by reference (`VT_BYREF`) with this initial value; the callee's final value comes
    /// back in [`Reply::by_ref`].
    Out(Variant),
}

/// How a member is called: the `DISPATCH_*` flag of `IDispatch::Invoke`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallKind {
    /// `DISPATCH_PROPERTYGET`.
    Get,
    /// `DISPATCH_PROPERTYPUT`; the value is the last argument.
    Put,
    /// `DISPATCH_METHOD`.
    Method,
}

/// One late-bound call on one object.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    /// The object called.
    pub object: ObjectRef,
    /// The member name, resolved with `GetIDsOfNames`.
    pub member: String,
    /// Property get, property put or method.
    pub kind: CallKind,
    /// Arguments in declaration order (the Windows layer reverses them for `DISPPARAMS`).
    pub args: Vec<Arg>,
}

impl Call {
    /// A property read.
    pub fn get(object: ObjectRef, member: &str) -> Self {
        Self {
            object,
            member: member.to_owned(),
            kind: CallKind::Get,
            args: Vec::new(),
        }
    }

    /// A property write.
    pub fn put(object: ObjectRef, member: &str, value: Variant) -> Self {
        Self {
            object,
            member: member.to_owned(),
            kind: CallKind::Put,
            args: vec![Arg::In(value)],
        }
    }

    /// A method call.
    pub fn method(object: ObjectRef, member: &str, args: Vec<Arg>) -> Self {
        Self {
            object,
            member: member.to_owned(),
            kind: CallKind::Method,
            args,
        }
    }
}

/// The result of a call.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Reply {
    /// The return value (`Empty` for a put or a void method).
    pub value: Variant,
    /// The final values of the [`Arg::Out`] arguments, in argument order.
    pub by_ref: Vec<Variant>,
}

/// One `PubOnLineMgrNotification(msg, param)` event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Notification {
    /// The `CLMgrMessage` number, e.g. 60 for "own presence changed".
    pub message: i32,
    /// The message's parameter.
    pub param: i32,
}

/// A failed automation call or connection attempt, by what the caller can do about it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AutomationError {
    /// `DISP_E_UNKNOWNNAME` or `DISP_E_MEMBERNOTFOUND`: this client version lacks the member.
    #[error("member {member} not found")]
    UnknownName {
        /// The member name.
        member: String,
    },
    /// `DISP_E_TYPEMISMATCH` or `DISP_E_BADVARTYPE`: an argument has another type.
    #[error("type mismatch calling {member}")]
    TypeMismatch {
        /// The member name.
        member: String,
    },
    /// `DISP_E_BADPARAMCOUNT` or `DISP_E_PARAMNOTOPTIONAL`: another signature.
    #[error("wrong number of arguments calling {member}")]
    BadArgumentCount {
        /// The member name.
        member: String,
    },
    /// The server process is gone (`RPC_S_SERVER_UNAVAILABLE` 0x800706BA,
    /// `RPC_S_CALL_FAILED` 0x800706BE, `RPC_E_DISCONNECTED` 0x80010108,
    /// `CO_E_OBJNOTCONNECTED` 0x800401FD): every object of the connection is dead.
    #[error("the automation server is gone")]
    ServerGone,
    /// No running instance to attach to (`REGDB_E_CLASSNOTREG` 0x80040154,
    /// `CO_E_SERVER_EXEC_FAILURE` 0x80080005, `MK_E_UNAVAILABLE` 0x800401E3).
    #[error("the automation server is not running or not installed")]
    NotRunning,
    /// `E_ACCESSDENIED`: the server runs under another user or integrity level.
    #[error("access to the automation server was denied")]
    AccessDenied,
    /// The server did not answer in time (a modal dialog can block an STA server).
    #[error("the automation call timed out")]
    Timeout,
    /// Any other failure, with its `HRESULT`.
    #[error("automation call {member} failed with HRESULT {hresult:#010x}")]
    Failed {
        /// The member name, or empty for a connection attempt.
        member: String,
        /// The failing `HRESULT`, as the unsigned 32-bit pattern.
        hresult: u32,
    },
}

impl AutomationError {
    /// Classifies a failed `HRESULT` of a call on `member` (empty when connecting).
    pub fn from_hresult(hresult: u32, member: &str) -> Self {
        let member = member.to_owned();
        match hresult {
            0x8002_0006 | 0x8002_0003 => AutomationError::UnknownName { member },
            0x8002_0005 | 0x8002_0008 => AutomationError::TypeMismatch { member },
            0x8002_000E | 0x8002_000F => AutomationError::BadArgumentCount { member },
            0x8007_06BA | 0x8007_06BE | 0x8001_0108 | 0x8004_01FD | 0x8001_0012 => {
                AutomationError::ServerGone
            }
            0x8004_0154 | 0x8008_0005 | 0x8004_01E3 | 0x8004_0111 => AutomationError::NotRunning,
            0x8007_0005 => AutomationError::AccessDenied,
            0x8001_010A | 0x8007_05B4 => AutomationError::Timeout,
            _ => AutomationError::Failed { member, hresult },
        }
    }

    /// Whether the connection is dead and must be dropped.
    pub fn is_link_broken(&self) -> bool {
        matches!(self, AutomationError::ServerGone | AutomationError::Timeout)
    }

    /// Whether the member is missing or has another signature in this client version.
    pub fn is_unsupported_member(&self) -> bool {
        matches!(
            self,
            AutomationError::UnknownName { .. } | AutomationError::BadArgumentCount { .. }
        )
    }
}

/// Attaches to a running automation server.
pub trait Connector: Send + Sync {
    /// Attaches to the running server and returns its root object's connection.
    ///
    /// It must attach to an instance that already runs and must never start one: SwyxIt!'s
    /// line manager is shared with the user's SwyxIt!, and a second instance started by us
    /// would be logged off.
    fn connect(&self) -> AutomationFuture<'_, Result<Box<dyn Connection>, AutomationError>>;
}

/// One attachment to the server: the root object, the objects reached from it, and the
/// event subscription.
///
/// Dropping the connection releases every object it still holds and unsubscribes.
pub trait Connection: Send + Sync {
    /// The root object (`IClientLineMgrDisp` for SwyxIt!).
    fn root(&self) -> ObjectRef;

    /// Calls one member. The call never re-enters the caller.
    fn call(&self, call: Call) -> AutomationFuture<'_, Result<Reply, AutomationError>>;

    /// Releases an object obtained as [`Variant::Dispatch`].
    fn release(&self, object: ObjectRef);

    /// Subscribes to the root object's notifications; a second subscription replaces the
    /// first.
    fn subscribe(&self) -> Result<NotificationReceiver, AutomationError>;
}

impl dyn Connection + '_ {
    /// Reads a property.
    pub async fn get(&self, object: ObjectRef, member: &str) -> Result<Variant, AutomationError> {
        Ok(self.call(Call::get(object, member)).await?.value)
    }

    /// Writes a property.
    pub async fn put(
        &self,
        object: ObjectRef,
        member: &str,
        value: Variant,
    ) -> Result<(), AutomationError> {
        self.call(Call::put(object, member, value))
            .await
            .map(|_| ())
    }

    /// Calls a method.
    pub async fn invoke(
        &self,
        object: ObjectRef,
        member: &str,
        args: Vec<Arg>,
    ) -> Result<Reply, AutomationError> {
        self.call(Call::method(object, member, args)).await
    }
}

impl fmt::Debug for dyn Connection + '_ {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connection")
            .field("root", &self.root())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hresults_map_to_what_the_caller_can_do() {
        fn check(hresult: u32, expected: AutomationError) {
            assert_eq!(
                AutomationError::from_hresult(hresult, "Away"),
                expected,
                "{hresult:#x}"
            );
        }
        let member = || "Away".to_owned();
        check(
            0x8002_0006,
            AutomationError::UnknownName { member: member() },
        );
        check(
            0x8002_0003,
            AutomationError::UnknownName { member: member() },
        );
        check(
            0x8002_0005,
            AutomationError::TypeMismatch { member: member() },
        );
        check(
            0x8002_000E,
            AutomationError::BadArgumentCount { member: member() },
        );
        check(0x8007_06BA, AutomationError::ServerGone);
        check(0x8007_06BE, AutomationError::ServerGone);
        check(0x8001_0108, AutomationError::ServerGone);
        check(0x8004_0154, AutomationError::NotRunning);
        check(0x8008_0005, AutomationError::NotRunning);
        check(0x8007_0005, AutomationError::AccessDenied);
        check(0x8001_010A, AutomationError::Timeout);
        check(
            0x8000_4005,
            AutomationError::Failed {
                member: member(),
                hresult: 0x8000_4005,
            },
        );
    }

    #[test]
    fn flags_read_from_bool_and_integer() {
        assert_eq!(Variant::Bool(true).as_flag(), Some(true));
        assert_eq!(Variant::I4(1).as_flag(), Some(true));
        assert_eq!(Variant::I4(-1).as_flag(), Some(true));
        assert_eq!(Variant::I4(0).as_flag(), Some(false));
        assert_eq!(Variant::Str("1".into()).as_flag(), None);
        assert_eq!(Variant::Bool(true).as_i32(), Some(1));
    }

    #[test]
    fn failed_error_shows_hresult_in_hex() {
        let error = AutomationError::Failed {
            member: "Away".into(),
            hresult: 0x8000_4005,
        };
        assert_eq!(
            error.to_string(),
            "automation call Away failed with HRESULT 0x80004005"
        );
    }
}
