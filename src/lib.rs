//! pooldrill: a discrete-event simulator that replays database
//! connection-pool exhaustion incidents.
//!
//! Data flows one way: scenario file → validated [`scenario::Scenario`] →
//! simulation ([`engine`] + [`model`]) → recorder ([`metrics`]) → reports
//! ([`report`]).

#![warn(missing_docs)]

pub use pooldrill_core::{
    caller_class, dist, engine, format, metrics, model, plan, prefetch, scenario, slab, stats,
    telemetry, theory,
};

pub mod cli;
pub mod commands;
pub mod guard;
pub mod interrupt;
pub mod replicate;
pub mod report;
pub mod scenario_file;
pub mod stdout;
pub mod tui;
