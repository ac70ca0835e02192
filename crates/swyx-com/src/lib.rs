//! The Windows COM layer under the Swyx adapter.
//!
//! SwyxIt! publishes its client API only as an out-of-process COM server (ProgID
//! [`PROG_ID`]), reached by late binding through `IDispatch`. This crate implements the
//! adapter's [`swyx::automation::Connector`] over that server: one STA thread per connection
//! owns every COM pointer, callers reach it over a channel ([`apartment`]), and values cross
//! as portable `VARIANT` shapes ([`shape`]). It decides nothing about Swyx itself, because
//! the adapter chooses which members to call and interprets their results.
//!
//! Everything but the COM calls themselves builds and is tested on every platform; the COM
//! part (`connector`, `probe_type_info`) exists only on Windows.

pub mod apartment;
pub mod server;
pub mod shape;

#[cfg(windows)]
mod com;

#[cfg(windows)]
pub use com::{connector, probe_type_info};

/// The ProgID of SwyxIt!'s Client Line Manager, the root automation object.
pub const PROG_ID: &str = "CLMgr.ClientLineMgr";
