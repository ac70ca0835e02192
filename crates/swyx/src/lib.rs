//! The SwyxIt! side of Presence Bridge.
//!
//! SwyxIt! exposes its Client Line Manager only as a Windows COM server. Everything this crate
//! does with it is portable and tested on any OS:
//!
//! - [`automation`]: the late-bound, IDispatch-shaped seam ([`Connector`], [`Connection`]) that
//!   a Windows COM layer implements over real `IDispatch`;
//! - [`simulator`]: an in-process SwyxIt! with the same object model, scriptable by tests, the
//!   demo mode and the scenario runner;
//! - [`SwyxAdapter`]: attaches to the running, logged-on client, reads the user's status and
//!   call state, writes Available, Away or Do not disturb, and reports what it sees to the
//!   app's driver.

pub mod automation;
pub mod messages;
pub mod simulator;

pub use automation::{AutomationError, Connection, Connector};
mod adapter;

pub use adapter::{
    AdapterOptions, AwayWrite, SpeakingSources, SwyxAdapter, SwyxError, SwyxEvent, SwyxHandle,
    SwyxIdentity,
};
