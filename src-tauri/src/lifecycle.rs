//! The OS session's life: sleep, wake-up, log-off and shutdown, as one stream of events.
//!
//! Linux hears them from logind on the system bus, Windows from the messages sent to a hidden
//! top-level window. Either way the OS waits a short time for the app: it holds back the sleep
//! or the end of the session until the event's acknowledgement arrives or [`ACK_TIMEOUT`]
//! passes, so the own Teams session can be cleared first.

use std::time::Duration;

use tokio::sync::{mpsc, oneshot};
use tracing::warn;

/// How long the OS is held back for one event at most. logind's own limit
/// (`InhibitDelayMaxSec`) is 5 s by default and Windows gives a suspend handler about 2 s,
/// so the core's own Graph timeout decides in practice.
pub const ACK_TIMEOUT: Duration = Duration::from_secs(4);

/// One change of the OS session's state.
#[derive(Debug)]
pub enum LifecycleEvent {
    /// The machine is about to sleep; send on the sender once the own session is cleared.
    Suspending(oneshot::Sender<()>),
    /// The machine woke up.
    Resumed,
    /// The user logs off or the machine shuts down; send on the sender once the own session is
    /// cleared. No events follow.
    SessionEnding(oneshot::Sender<()>),
}

/// Starts following the OS session on this platform; must run inside a Tokio runtime. The
/// receiver ends when the platform offers no such notifications (no system bus, no logind),
/// which is logged once.
pub fn follow() -> mpsc::Receiver<LifecycleEvent> {
    let (events, receiver) = mpsc::channel(4);
    #[cfg(target_os = "linux")]
    tokio::spawn(async move {
        let connection = match zbus::Connection::system().await {
            Ok(connection) => connection,
            Err(error) => {
                tracing::info!(%error, "no system bus: sleeps are noticed only after the wake-up");
                return;
            }
        };
        if let Err(error) = crate::logind::watch(&connection, &events).await {
            warn!(%error, "logind not followed; sleeps are noticed after the wake-up");
        }
    });
    #[cfg(windows)]
    crate::windows_session::spawn(events, tokio::runtime::Handle::current());
    #[cfg(not(any(target_os = "linux", windows)))]
    drop(events);
    receiver
}

/// Sends `event` built around a fresh acknowledgement and waits for it at most
/// [`ACK_TIMEOUT`]. Returns false when nobody listens any more.
pub async fn send_and_wait(
    events: &mpsc::Sender<LifecycleEvent>,
    event: fn(oneshot::Sender<()>) -> LifecycleEvent,
) -> bool {
    let (ack, acknowledged) = oneshot::channel();
    if events.send(event(ack)).await.is_err() {
        return false;
    }
    if tokio::time::timeout(ACK_TIMEOUT, acknowledged)
        .await
        .is_err()
    {
        warn!(
            timeout_ms = ACK_TIMEOUT.as_millis() as u64,
            "the own session was not cleared in time; the OS goes on"
        );
    }
    true
}
