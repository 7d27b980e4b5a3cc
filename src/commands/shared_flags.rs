//! The flags `run`, `compare` and `sweep` share, flattened into each: the
//! seed and the duration over the scenario's, and the output folder. Each
//! command words their help for itself (`mut_arg`), as it uses them.

use crate::scenario::units::Duration;
use crate::scenario::validate::Overrides;
use clap::Args;
use std::path::PathBuf;

/// The flags `run`, `compare` and `sweep` share.
#[derive(Clone, Debug, Default, Args)]
pub struct SharedFlags {
    /// Replace the scenario's seed.
    #[arg(long, allow_negative_numbers = true, value_parser = super::parse_seed)]
    pub seed: Option<u64>,
    /// Replace the scenario's duration (e.g. "10m").
    #[arg(long)]
    pub duration: Option<Duration>,
    /// Output folder (default: output/<scenario name>).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

impl SharedFlags {
    /// The seed and the duration over the scenario file's.
    pub fn overrides(&self) -> Overrides {
        Overrides {
            seed: self.seed,
            duration: self.duration,
        }
    }
}
