//! Scenario files on disk: the app's [`Resolve`], which reads the scenario
//! the user named and any file it names relative to the scenario's folder.

use crate::scenario::resolve::{self, Resolve};
use crate::scenario::validate::{MAX_FILE_BYTES, Overrides};
use crate::scenario::{Scenario, ScenarioError};
use crate::telemetry::MAX_TELEMETRY_BYTES;
use std::io::Read;
use std::path::{Path, PathBuf};

/// The scenario file at `path` and its folder.
pub struct ScenarioFolder {
    /// The scenario's name in errors: its path as the user gave it.
    name: String,
    /// The scenario file itself (kept as a path: it need not be UTF-8).
    path: PathBuf,
}

impl ScenarioFolder {
    /// The scenario file at `path`.
    pub fn of(path: &Path) -> ScenarioFolder {
        ScenarioFolder {
            name: path.display().to_string(),
            path: path.to_owned(),
        }
    }
}

impl Resolve for ScenarioFolder {
    fn read(&self, name: &str) -> Result<Vec<u8>, String> {
        if name == self.name {
            read_capped(&self.path, MAX_FILE_BYTES, "a scenario file")
        } else {
            let folder = self.path.parent().unwrap_or(Path::new(""));
            read_capped(&folder.join(name), MAX_TELEMETRY_BYTES, "a data file")
        }
    }
}

/// Read, parse and validate the scenario file at `path`.
pub fn load_file(path: &Path, overrides: Overrides) -> Result<Scenario, ScenarioError> {
    resolve::load(
        &path.display().to_string(),
        &ScenarioFolder::of(path),
        overrides,
    )
}

/// [`load_file`] without overrides.
pub fn load(path: &Path) -> Result<Scenario, ScenarioError> {
    load_file(path, Overrides::default())
}

/// Read the scenario file at `path` as text: size-capped, UTF-8 checked, BOM
/// removed.
pub fn read_source(path: &Path) -> Result<String, ScenarioError> {
    resolve::read_source(&path.display().to_string(), &ScenarioFolder::of(path))
}

/// At most `cap` + 1 bytes of the file at `path` (`what` it should be), so
/// that a device or a pipe (`/dev/zero`) cannot exhaust memory.
fn read_capped(path: &Path, cap: u64, what: &str) -> Result<Vec<u8>, String> {
    let cannot = |e: std::io::Error| format!("cannot read the file: {}", io_reason(&e));
    let meta = std::fs::metadata(path).map_err(cannot)?;
    if meta.is_dir() {
        return Err(format!("expected {what}, found a directory"));
    }
    if meta.len() > cap {
        return Err(format!(
            "expected {what} of at most {} MiB, found {:.1} MiB",
            cap / 1048576,
            meta.len() as f64 / 1048576.0
        ));
    }
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(cap + 1).read_to_end(&mut bytes))
        .map_err(cannot)?;
    Ok(bytes)
}

fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => e.to_string(),
    }
}
