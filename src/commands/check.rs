//! `pooldrill check FILE...`: validate without running.

use crate::stdout::outln;
use anyhow::Result;
use std::path::PathBuf;

/// Validate every file; report each problem (and warning, on stderr); exit
/// 2 if any file is bad.
pub fn check(files: &[PathBuf]) -> Result<i32> {
    let mut bad = 0;
    for f in files {
        match crate::scenario_file::load(f) {
            Ok(s) => {
                outln!(
                    "{}: ok ({}: {} pods × {} workers, {} possible connections, {} usable slots)",
                    f.display(),
                    s.name,
                    s.fleet.pods,
                    s.fleet.workers,
                    s.possible_connections(),
                    s.database.usable_slots()
                );
                super::warn(&s);
            }
            Err(e) => {
                eprintln!("error: {e}");
                bad += 1;
            }
        }
    }
    Ok(if bad > 0 { 2 } else { 0 })
}
