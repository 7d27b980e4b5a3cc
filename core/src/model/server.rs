//! PostgreSQL as a subsystem of the run: its connection slots
//! ([`database`](super::database)) and, if modelled, its processors
//! ([`cpu`](super::cpu)).

use super::cpu::Cpu;
use super::database::Database;
use crate::scenario::Scenario;

/// The server's state.
pub(crate) struct Postgres {
    /// Slot accounting.
    pub(crate) db: Database,
    /// The processors shared by the active queries, if modelled.
    pub(crate) cpu: Option<Cpu>,
}

impl Postgres {
    /// The server at time zero: no connection, idle processors.
    pub(crate) fn new(scenario: &Scenario) -> Postgres {
        Postgres {
            db: Database::new(scenario.database.clone()),
            cpu: scenario.database.cpu.map(|c| Cpu::new(c, scenario.warmup)),
        }
    }
}
