//! pooldrill's simulation core: a validated [`scenario::Scenario`] runs on
//! the discrete-event [`engine`] through the [`model`] into the [`metrics`]
//! recorder. No filesystem, no threads, no front end: the same code runs
//! natively and in the browser (`wasm32-unknown-unknown`).

#![warn(missing_docs)]

pub mod caller_class;
pub mod dist;
pub mod engine;
pub mod format;
pub mod math;
pub mod metrics;
pub mod model;
pub mod plan;
pub mod prefetch;
pub mod scenario;
pub mod slab;
pub mod stats;
pub mod telemetry;
pub mod theory;
