//! pooldrill: a discrete-event simulator that replays database
//! connection-pool exhaustion incidents.
//!
//! Data flows one way: scenario file → validated [`scenario::Scenario`] →
//! simulation ([`engine`] + [`model`]) → recorder ([`metrics`]) → reports
//! ([`report`]).

#![warn(missing_docs)]

pub mod cli;
pub mod commands;
pub mod dist;
pub mod engine;
pub mod guard;
pub mod interrupt;
pub mod metrics;
pub mod model;
pub mod prefetch;
pub mod replicate;
pub mod report;
pub mod scenario;
pub mod slab;
pub mod stats;
pub mod stdout;
pub mod theory;
pub mod tui;
