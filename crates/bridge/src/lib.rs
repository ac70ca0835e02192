//! The app core of Presence Bridge: everything but the window and the tray.
//!
//! [`Core`] runs the [`engine`] against a Teams side and a Swyx side behind the small
//! [`ports`] traits, on one [`clock::SharedClock`], and publishes a [`Snapshot`] for the
//! window, the tray, the headless log and the scenario runner. The app crate wires it to the
//! real Graph client and SwyxIt! adapter (or, in demo mode, to the same adapters talking to
//! the in-process Graph twin and SwyxIt! simulator) and renders the snapshot.

pub mod config;
pub mod demo;
pub mod driver;
pub mod launch;
pub mod marker;
mod platform;
pub mod policy_registry;
pub mod ports;
pub mod snapshot;
pub mod swyx_side;
pub mod teams;
pub mod uninstall;

pub use driver::{Command, Core, CoreParts};
pub use ports::{Account, Notifier, SignInError, SwyxEventSource, SwyxPort, TeamsPort};
pub use snapshot::Snapshot;
