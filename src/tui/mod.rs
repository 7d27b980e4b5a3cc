//! The terminal dashboard: the incident write-up's "Connection Pool Health"
//! panel, drawn from the simulated state at one sampling instant.
//!
//! [`snapshot`] collects those states while a run produces them; [`panel`]
//! draws one with ratatui, on a terminal or as plain text (pipes,
//! `TERM=dumb`, snapshots in tests).

pub mod panel;
pub mod snapshot;

pub use panel::Panel;
pub use snapshot::{AlertState, Snapshot, SnapshotSink};
