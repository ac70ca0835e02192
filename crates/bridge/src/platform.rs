//! The SwyxIt! connector of this operating system.

use std::sync::Arc;

use swyx::automation::{AutomationError, AutomationFuture, Connection, Connector};

/// The connector to the user's running SwyxIt!.
///
/// SwyxIt! exists only on Windows, where the COM layer attaches to it.
pub fn swyx_connector() -> Arc<dyn Connector> {
    Arc::new(NoSwyxIt)
}

/// A connector for systems without SwyxIt!: the client is never running.
struct NoSwyxIt;

impl Connector for NoSwyxIt {
    fn connect(&self) -> AutomationFuture<'_, Result<Box<dyn Connection>, AutomationError>> {
        Box::pin(async { Err(AutomationError::NotRunning) })
    }
}
