//! The guard's command-line options, the same for every command that
//! simulates, and the parsers of their values.

use super::estimate::{Estimate, Outputs, estimate};
use super::limits::{DEFAULT_LIMITS, Limits, check};
use crate::scenario::Scenario;

/// The command-line options of the guard, the same for every command that
/// simulates.
#[derive(Clone, Debug, Default, clap::Args)]
pub struct GuardArgs {
    /// Refuse runs estimated at more than N events each (default 1e9, a
    /// few minutes); takes 5000000000 or 5e9.
    #[arg(long, value_name = "N", value_parser = parse_count)]
    pub max_events: Option<u64>,
    /// Refuse runs estimated to write more than SIZE of files (default
    /// 4GB); takes 500MB, 4GB, 1TB.
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub max_output: Option<u64>,
    /// Run even if the resource estimate is over the limits.
    #[arg(long)]
    pub force: bool,
}

impl GuardArgs {
    /// The limits these options set.
    pub fn limits(&self) -> Limits {
        Limits {
            max_events: self.max_events.unwrap_or(DEFAULT_LIMITS.max_events),
            max_output_bytes: self.max_output.unwrap_or(DEFAULT_LIMITS.max_output_bytes),
            ..DEFAULT_LIMITS
        }
    }

    /// [`check`] `s` from `file` with these limits, `concurrent` runs of it
    /// at once; with `--force`, only estimate it.
    pub fn check(
        &self,
        file: &str,
        s: &Scenario,
        outputs: Outputs,
        concurrent: usize,
    ) -> anyhow::Result<Estimate> {
        if self.force {
            return Ok(estimate(s, outputs));
        }
        check(file, s, outputs, self.limits(), concurrent).map_err(|e| anyhow::Error::new(*e))
    }
}

/// Parse a count for `--max-events`: `5000000000`, `5_000_000_000` or `5e9`.
pub fn parse_count(s: &str) -> Result<u64, String> {
    let clean = s.replace('_', "");
    if let Ok(n) = clean.parse::<u64>() {
        return Ok(n);
    }
    match clean.parse::<f64>() {
        Ok(v) if (1.0..1.8e19).contains(&v) && v.fract() == 0.0 => Ok(v as u64),
        _ => Err(format!(
            "expected a whole number of events like 5000000000 or 5e9, found \"{s}\""
        )),
    }
}

/// Parse a size for `--max-output`: `500MB`, `4GB`, `1.5TB`, `800kB` or
/// bytes (`4000000000`); decimal units, `K`/`M`/`G`/`T` alone accepted.
pub fn parse_size(s: &str) -> Result<u64, String> {
    let text = s.trim();
    let split = text
        .find(|c: char| c.is_ascii_alphabetic())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let scale = match unit.trim().to_ascii_uppercase().as_str() {
        "" | "B" => 1.0,
        "K" | "KB" => 1e3,
        "M" | "MB" => 1e6,
        "G" | "GB" => 1e9,
        "T" | "TB" => 1e12,
        _ => f64::NAN,
    };
    match number.trim().parse::<f64>() {
        Ok(v) if v >= 0.0 && (v * scale) < 1.8e19 => Ok((v * scale).round() as u64),
        _ => Err(format!(
            "expected a size like 500MB, 4GB or 4000000000 (bytes), found \"{s}\""
        )),
    }
}
