//! The `CLMgrMessage` numbers of `PubOnLineMgrNotification(msg, param)` that the adapter and
//! the simulator use, as the SDK's interop (`Swyx.Client.ClmgrAPI` 14.21) numbers them.

/// The state of at least one line changed.
pub const LINE_STATE_CHANGED: i32 = 0;
/// User data (name, logon) changed.
pub const USER_DATA_CHANGED: i32 = 3;
/// The server is unreachable; the line manager stays usable and waits for [`SERVER_UP`].
pub const SERVER_DOWN: i32 = 5;
/// The server is reachable again.
pub const SERVER_UP: i32 = 6;
/// The number of lines changed.
pub const NUMBER_OF_LINES_CHANGED: i32 = 10;
/// The client shuts down: every user of the line manager must release all its interfaces.
pub const CLIENT_SHUT_DOWN_REQUEST: i32 = 11;
/// A line changed state. The SDK header documents the line index in the low word and the new
/// state in the high word, but SDK-based code decodes bytes instead, so the adapter re-reads
/// every line.
pub const LINE_STATE_CHANGED_EX: i32 = 28;
/// A line changed state (second extended form).
pub const LINE_STATE_CHANGED_EX2: i32 = 35;
/// The federated login session expired; the client is logged off.
pub const FEDERATED_LOGIN_SESSION_EXPIRED: i32 = 53;
/// SwyxIt! closes.
pub const CLOSE_SWYXIT: i32 = 54;
/// The user's own presence changed.
pub const OWN_PRESENCE_CHANGED: i32 = 60;
