//! The SwyxIt! connector of this operating system.

use std::sync::Arc;
#[cfg(windows)]
use std::time::Duration;

use clock::SharedClock;
use swyx::automation::Connector;

/// How long one call into SwyxIt! may take before the link counts as broken.
#[cfg(windows)]
const SWYX_CALL_TIMEOUT: Duration = Duration::from_secs(5);

/// Returns the connector to the user's running SwyxIt!: the COM layer on Windows.
#[cfg(windows)]
pub fn swyx_connector(clock: SharedClock) -> Arc<dyn Connector> {
    swyx_com::connector(clock, SWYX_CALL_TIMEOUT)
}

/// Returns a connector whose SwyxIt! is never running, because SwyxIt! exists only on
/// Windows.
#[cfg(not(windows))]
pub fn swyx_connector(_clock: SharedClock) -> Arc<dyn Connector> {
    Arc::new(no_swyxit::NoSwyxIt)
}

#[cfg(not(windows))]
mod no_swyxit {
    use swyx::automation::{AutomationError, AutomationFuture, Connection, Connector};

    /// A connector for systems without SwyxIt!: the client is never running.
    pub struct NoSwyxIt;

    impl Connector for NoSwyxIt {
        fn connect(&self) -> AutomationFuture<'_, Result<Box<dyn Connection>, AutomationError>> {
            Box::pin(async { Err(AutomationError::NotRunning) })
        }
    }
}
