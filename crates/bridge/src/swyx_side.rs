//! The Swyx side of the core: the SwyxIt! adapter behind [`SwyxPort`].

use std::sync::Arc;

use clock::{SharedClock, WorkGuard};
use engine::{Input, SwyxSettable};
use swyx::{Connector, SwyxAdapter, SwyxEvent, SwyxHandle};
use tokio::sync::mpsc;

use crate::ports::{BoxFuture, SwyxEventSource, SwyxPort, SwyxReport};

/// [`SwyxPort`] over the SwyxIt! adapter.
pub struct AdapterSwyx {
    handle: SwyxHandle,
}

impl SwyxPort for AdapterSwyx {
    fn write(&self, status: SwyxSettable) -> BoxFuture<'_, Result<(), String>> {
        Box::pin(async move {
            self.handle
                .write(status)
                .await
                .map_err(|error| error.to_string())
        })
    }

    fn shutdown(&self) {
        self.handle.shutdown();
    }
}

/// Starts the adapter on `connector` and returns the port and its reports in the engine's words.
pub fn start(
    connector: Arc<dyn Connector>,
    clock: SharedClock,
) -> (Arc<AdapterSwyx>, SwyxEventSource) {
    let (handle, mut events) = SwyxAdapter::spawn(connector, clock);
    let (reports, source) = mpsc::unbounded_channel::<(SwyxReport, WorkGuard)>();
    tokio::spawn(async move {
        while let Some((event, guard)) = events.recv().await {
            // The event's guard travels with its last report, so the manual clock stays still
            // until the driver has handled all of them.
            let mut pending = translate(event);
            let last = pending.pop();
            for report in pending {
                if reports.send((report, WorkGuard::none())).is_err() {
                    return;
                }
            }
            if let Some(report) = last {
                if reports.send((report, guard)).is_err() {
                    return;
                }
            }
        }
    });
    (Arc::new(AdapterSwyx { handle }), source)
}

fn translate(event: SwyxEvent) -> Vec<SwyxReport> {
    match event {
        SwyxEvent::Attached {
            first_of_run,
            observation,
            identity,
        } => vec![
            SwyxReport::Identity {
                email: identity.email,
                user: identity.user,
                server: identity.server,
            },
            SwyxReport::Input(Input::SwyxAttached {
                first_of_run,
                observation,
            }),
        ],
        SwyxEvent::Observed(observation) => {
            vec![SwyxReport::Input(Input::SwyxObserved(observation))]
        }
        SwyxEvent::Unavailable(reason) => vec![SwyxReport::Input(Input::SwyxUnavailable(reason))],
    }
}
