//! The seams between the driver and the two sides.
//!
//! The driver knows only these traits, so the real Graph client, the real SwyxIt! adapter and
//! test doubles plug in the same way.

use std::future::Future;
use std::pin::Pin;

use engine::{
    GraphFailure, GraphWrite, GraphWriteResult, NotificationKind, SwyxSettable, TeamsPresence,
};
use serde::Serialize;

/// A boxed future, as returned by the port traits.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The signed-in Teams account, as shown in the window.
///
/// The UPN is personal data: it is shown in the window but never logged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Account {
    pub upn: String,
    pub display_name: String,
    /// The reason the refresh token could not be stored, when sign-in will not survive a
    /// restart.
    pub not_persisted_reason: Option<String>,
}

/// Why a sign-in failed, in words the window shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{message}")]
pub struct SignInError {
    /// The Entra error code (e.g. `AADSTS65001`), when there is one.
    pub code: Option<String>,
    pub message: String,
    /// What the user can do about it.
    pub action: String,
    /// A link that helps, such as the admin-consent URL.
    pub link: Option<String>,
    /// True when the user cancelled the sign-in, which is no failure.
    #[serde(skip)]
    pub cancelled: bool,
}

/// What the window shows for "Sign in with a code".
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeviceCode {
    /// The code the user types in on the sign-in page.
    pub user_code: String,
    /// The page where the code is entered.
    pub verification_uri: String,
    /// Entra ID's own instruction, when it sent one.
    pub message: Option<String>,
    /// When the code expires, on the core's clock.
    pub expires_at: clock::Instant,
}

/// Receives the code of a started "Sign in with a code".
pub type ShowDeviceCode = Box<dyn Fn(DeviceCode) + Send + Sync>;

/// The Teams side: Graph presence and the app's call session.
pub trait TeamsPort: Send + Sync + 'static {
    /// Reads `GET /me/presence`, with the poll timeout.
    fn poll(&self) -> BoxFuture<'_, Result<TeamsPresence, GraphFailure>>;

    /// Sends a `setPresence` or `clearPresence`, with the write timeout.
    fn write(&self, write: GraphWrite) -> BoxFuture<'_, GraphWriteResult>;

    /// Restores the sign-in of an earlier run from the keyring, if there is one.
    fn restore(&self) -> BoxFuture<'_, Result<Option<Account>, SignInError>>;

    /// Signs in interactively (browser, or the scripted stand-in in demo mode).
    fn sign_in(&self) -> BoxFuture<'_, Result<Account, SignInError>>;

    /// Signs in with the device code flow: `show` receives the code to enter on another
    /// device, then the future waits until the sign-in completes, expires or is cancelled.
    fn sign_in_with_code(
        &self,
        show: ShowDeviceCode,
    ) -> BoxFuture<'_, Result<Account, SignInError>> {
        drop(show);
        Box::pin(async {
            Err(SignInError {
                code: None,
                message: "sign-in with a code is not available here".into(),
                action: "Sign in through the browser".into(),
                link: None,
                cancelled: false,
            })
        })
    }

    /// Cancels a "Sign in with a code" that is waiting for the user.
    fn cancel_sign_in(&self) {}

    /// Forgets the tokens and deletes the keyring entry.
    fn sign_out(&self) -> BoxFuture<'_, ()>;

    /// Refreshes the access token now (after a resume).
    fn refresh(&self) -> BoxFuture<'_, Result<(), GraphFailure>>;
}

/// The Swyx side's writes; its observations arrive through a [`SwyxEventSource`].
pub trait SwyxPort: Send + Sync + 'static {
    /// Sets the user's Swyx status through the SwyxIt! client session.
    fn write(&self, status: SwyxSettable) -> BoxFuture<'_, Result<(), String>>;

    /// Releases the client session; used on quit.
    fn shutdown(&self);
}

/// What the Swyx side reports, already in the engine's words.
pub type SwyxEventSource = tokio::sync::mpsc::UnboundedReceiver<(SwyxReport, clock::WorkGuard)>;

/// One report of the Swyx side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SwyxReport {
    /// An engine input (attached, observed, unavailable).
    Input(engine::Input),
    /// The SwyxIt! session's identity, for the window.
    Identity {
        email: Option<String>,
        user: Option<String>,
        server: Option<String>,
    },
}

/// Shows desktop notifications. The engine asks for one only once per episode, and the
/// driver passes each request on.
pub trait Notifier: Send + Sync + 'static {
    fn notify(&self, kind: NotificationKind);
}
