//! Tests of the engine: the mapping table, scenarios on a simulated world, and properties.

mod detection;
mod properties;
mod scenarios;
mod table;
mod world;
