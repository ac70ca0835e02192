//! End-to-end tests of Presence Bridge.
//!
//! The scenario runner executes scenario files against the real app core (engine, driver, the
//! Graph client and the SwyxIt! adapter) talking to the Graph twin and the SwyxIt! simulator
//! over loopback, all on one manual clock.

pub mod observe;
pub mod runner;
pub mod scenario;
pub mod soak;
pub mod world;
