//! The simulated members of the line manager, its configuration object and its lines.
//!
//! Property readers accept both a property get and a method call without arguments, because
//! late-bound callers often pass `DISPATCH_METHOD | DISPATCH_PROPERTYGET` together.

use clock::{Instant, SharedClock};

use super::{line_state, EmailMember, FlagType, SimObject, State, WriteOrigin};
use crate::automation::{Arg, AutomationError, Call, CallKind, ObjectRef, Reply, Variant};

/// `E_INVALIDARG`, for a line index out of range.
const E_INVALIDARG: u32 = 0x8007_0057;
/// `E_POINTER`, for a handle that was released or never issued.
const E_POINTER: u32 = 0x8000_4003;
/// `E_FAIL`, for a write made to fail with [`super::SimulatorControl::fail_writes`].
const E_FAIL: u32 = 0x8000_4005;

/// Members that log on, log off or register users: an attaching program must not call them.
const SESSION_MEMBERS: &[&str] = &[
    "DispInit",
    "DispInitEx",
    "DispRegisterUser",
    "DispReleaseUser",
    "RegisterUserEx",
    "RegisterUserEx4UC",
    "RegisterUserConnector4UC",
    "ReleaseUserEx",
    "PubInit",
    "PubInitEx",
];

/// Runs one call against the state of the connection `connection_id`.
pub(crate) fn dispatch(
    state: &mut State,
    clock: &SharedClock,
    now: Instant,
    connection_id: u64,
    call: &Call,
) -> Result<Reply, AutomationError> {
    let generation = state.generation;
    let running = state.running;
    let connection = state
        .connections
        .get(&connection_id)
        .ok_or(AutomationError::ServerGone)?;
    if !running || connection.generation != generation {
        return Err(AutomationError::ServerGone);
    }
    let object = *connection
        .objects
        .get(&call.object)
        .ok_or(AutomationError::Failed {
            member: call.member.clone(),
            hresult: E_POINTER,
        })?;

    match object {
        SimObject::LineManager => line_manager(state, connection_id, call),
        SimObject::ClientConfig => client_config(state, clock, now, call),
        SimObject::Line(index) => line(state, index, call),
    }
}

fn line_manager(
    state: &mut State,
    connection_id: u64,
    call: &Call,
) -> Result<Reply, AutomationError> {
    let member = call.member.as_str();
    if SESSION_MEMBERS
        .iter()
        .any(|name| name.eq_ignore_ascii_case(member))
    {
        state.session_calls.push(member.to_owned());
        return Ok(Reply::default());
    }
    match member {
        "DispClientConfig" => {
            expect_reader(call)?;
            let object = issue_object(state, connection_id, SimObject::ClientConfig);
            Ok(value(Variant::Dispatch(object)))
        }
        "DispNumberOfLines" => {
            expect_reader(call)?;
            Ok(value(Variant::I4(state.lines.len() as i32)))
        }
        "DispGetLine" => {
            let index = single_integer(call)?;
            let in_range = usize::try_from(index)
                .ok()
                .filter(|index| *index < state.lines.len());
            let Some(index) = in_range else {
                return Err(AutomationError::Failed {
                    member: call.member.clone(),
                    hresult: E_INVALIDARG,
                });
            };
            let object = issue_object(state, connection_id, SimObject::Line(index));
            Ok(value(Variant::Dispatch(object)))
        }
        "DispIsLoggedIn" => {
            expect_reader(call)?;
            Ok(value(Variant::I4(i32::from(state.logged_in))))
        }
        "DispIsServerUp" => {
            expect_reader(call)?;
            Ok(value(Variant::I4(i32::from(state.server_up))))
        }
        "DispGetCurrentUser" => {
            expect_reader(call)?;
            Ok(value(Variant::Str(state.identity.user.clone())))
        }
        "DispGetCurrentServer" => {
            expect_reader(call)?;
            Ok(value(Variant::Str(state.identity.server.clone())))
        }
        "GetOwnEmailAddress" if state.members.email == EmailMember::Root => {
            expect_reader(call)?;
            Ok(value(Variant::Str(state.identity.email.clone())))
        }
        _ => Err(unknown(call)),
    }
}

fn client_config(
    state: &mut State,
    clock: &SharedClock,
    now: Instant,
    call: &Call,
) -> Result<Reply, AutomationError> {
    let is_write = call.kind == CallKind::Put || call.member == "PublicateDetectedAwayState";
    if is_write && state.failing_writes > 0 {
        state.failing_writes -= 1;
        return Err(AutomationError::Failed {
            member: call.member.clone(),
            hresult: E_FAIL,
        });
    }
    match call.member.as_str() {
        "Away" if state.members.flag_properties => {
            flag_property(state, clock, now, call, Flag::Away)
        }
        "DoNotDisturb" if state.members.flag_properties => {
            flag_property(state, clock, now, call, Flag::DoNotDisturb)
        }
        "AwayText" => match call.kind {
            CallKind::Put => {
                let text = single_value(call)?
                    .as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| mismatch(call))?;
                state.away_text = text.clone();
                state.record_write(now, WriteOrigin::Automation, "AwayText", Variant::Str(text));
                Ok(Reply::default())
            }
            _ => {
                expect_reader(call)?;
                Ok(value(Variant::Str(state.away_text.clone())))
            }
        },
        "GetOwnUserPresenceInfo" if state.members.own_presence_info => {
            own_presence_info(state, call)
        }
        "PublicateDetectedAwayState" if state.members.detected_away => {
            if call.kind != CallKind::Method {
                return Err(unknown(call));
            }
            let written = single_value(call)?;
            let away = written.as_flag().ok_or_else(|| mismatch(call))?;
            let before = state.presence_key();
            state.detected_away = away;
            state.record_write(
                now,
                WriteOrigin::Automation,
                "PublicateDetectedAwayState",
                written,
            );
            state.notify_presence_change(clock, before);
            Ok(Reply::default())
        }
        "GetOwnEmailAddress" if state.members.email == EmailMember::Config => {
            expect_reader(call)?;
            Ok(value(Variant::Str(state.identity.email.clone())))
        }
        _ => Err(unknown(call)),
    }
}

fn line(state: &mut State, index: usize, call: &Call) -> Result<Reply, AutomationError> {
    match call.member.as_str() {
        "DispState" => {
            expect_reader(call)?;
            // A line object outlives a shrinking line count; it then reads as idle.
            let line_state = state
                .lines
                .get(index)
                .copied()
                .unwrap_or(line_state::INACTIVE);
            Ok(value(Variant::I4(line_state)))
        }
        _ => Err(unknown(call)),
    }
}

#[derive(Clone, Copy)]
enum Flag {
    Away,
    DoNotDisturb,
}

/// Reads or writes `Away` or `DoNotDisturb`, typed as the member set says. The statuses are
/// exclusive as in SwyxIt!'s menu: setting one clears the other.
fn flag_property(
    state: &mut State,
    clock: &SharedClock,
    now: Instant,
    call: &Call,
    flag: Flag,
) -> Result<Reply, AutomationError> {
    let flag_type = match flag {
        Flag::Away => state.members.away_type,
        Flag::DoNotDisturb => state.members.dnd_type,
    };
    if call.kind != CallKind::Put {
        expect_reader(call)?;
        let set = match flag {
            Flag::Away => state.away,
            Flag::DoNotDisturb => state.dnd,
        };
        return Ok(value(typed_flag(flag_type, set)));
    }

    let written = single_value(call)?;
    let type_matches = matches!(
        (flag_type, &written),
        (FlagType::I4, Variant::I4(_)) | (FlagType::Bool, Variant::Bool(_))
    );
    if state.members.strict_types && !type_matches {
        return Err(mismatch(call));
    }
    let set = written.as_flag().ok_or_else(|| mismatch(call))?;

    let before = state.presence_key();
    match (flag, set) {
        (Flag::Away, true) => {
            state.away = true;
            state.dnd = false;
        }
        (Flag::Away, false) => state.away = false,
        (Flag::DoNotDisturb, true) => {
            state.dnd = true;
            state.away = false;
        }
        (Flag::DoNotDisturb, false) => state.dnd = false,
    }
    state.record_write(now, WriteOrigin::Automation, &call.member, written);
    state.notify_presence_change(clock, before);
    Ok(Reply::default())
}

/// `GetOwnUserPresenceInfo(out state, out away, out text, out dnd, out appointment)`.
fn own_presence_info(state: &State, call: &Call) -> Result<Reply, AutomationError> {
    if call.kind != CallKind::Method {
        return Err(unknown(call));
    }
    let all_by_ref = call.args.iter().all(|arg| matches!(arg, Arg::Out(_)));
    if call.args.len() != 5 {
        return Err(AutomationError::BadArgumentCount {
            member: call.member.clone(),
        });
    }
    if !all_by_ref {
        return Err(mismatch(call));
    }
    let by_ref = vec![
        Variant::I4(state.presence_state()),
        typed_flag(state.members.away_type, state.away),
        Variant::Str(state.away_text.clone()),
        typed_flag(state.members.dnd_type, state.dnd),
        Variant::Str(String::new()),
    ];
    Ok(Reply {
        value: Variant::Empty,
        by_ref,
    })
}

fn typed_flag(flag_type: FlagType, set: bool) -> Variant {
    match flag_type {
        FlagType::I4 => Variant::I4(i32::from(set)),
        FlagType::Bool => Variant::Bool(set),
    }
}

fn issue_object(state: &mut State, connection_id: u64, object: SimObject) -> ObjectRef {
    let connection = state
        .connections
        .get_mut(&connection_id)
        .expect("dispatch checked that the connection exists");
    let handle = ObjectRef(connection.next_object);
    connection.next_object += 1;
    connection.objects.insert(handle, object);
    handle
}

fn expect_reader(call: &Call) -> Result<(), AutomationError> {
    match call.kind {
        CallKind::Get | CallKind::Method if call.args.is_empty() => Ok(()),
        CallKind::Get | CallKind::Method => Err(AutomationError::BadArgumentCount {
            member: call.member.clone(),
        }),
        CallKind::Put => Err(unknown(call)),
    }
}

fn single_value(call: &Call) -> Result<Variant, AutomationError> {
    match call.args.as_slice() {
        [Arg::In(value)] => Ok(value.clone()),
        [Arg::Out(_)] => Err(mismatch(call)),
        _ => Err(AutomationError::BadArgumentCount {
            member: call.member.clone(),
        }),
    }
}

fn single_integer(call: &Call) -> Result<i32, AutomationError> {
    let argument = single_value(call)?;
    match argument {
        Variant::I4(value) => Ok(value),
        _ => Err(mismatch(call)),
    }
}

fn value(value: Variant) -> Reply {
    Reply {
        value,
        by_ref: Vec::new(),
    }
}

fn unknown(call: &Call) -> AutomationError {
    AutomationError::UnknownName {
        member: call.member.clone(),
    }
}

fn mismatch(call: &Call) -> AutomationError {
    AutomationError::TypeMismatch {
        member: call.member.clone(),
    }
}
