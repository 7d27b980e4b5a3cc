//! Where a scenario's text comes from: the caller's [`Resolve`], so that the
//! core reads no filesystem. The app reads files from disk, a browser reads
//! the files its user uploaded; the core decodes and validates the bytes the
//! same way for both.

use super::Scenario;
use super::error::ScenarioError;
use super::validate::{Overrides, decode, parse_with};

/// Reads the files a scenario comes from by the name the user gave them:
/// the scenario itself, and any file it names (read relative to the
/// scenario's folder).
pub trait Resolve {
    /// The bytes of the file `name` (at most
    /// [`MAX_FILE_BYTES`](super::validate::MAX_FILE_BYTES) + 1 of them
    /// need be read), or why it cannot be read, as the error's message
    /// (`cannot read the file: no such file`).
    fn read(&self, name: &str) -> Result<Vec<u8>, String>;
}

/// The scenario file `name` as text: read through `files`, size-capped,
/// UTF-8 checked, BOM removed; errors name `name`.
pub fn read_source(name: &str, files: &dyn Resolve) -> Result<String, ScenarioError> {
    let bytes = files
        .read(name)
        .map_err(|message| ScenarioError::at_span(name, "", None, "", message))?;
    decode(name, &bytes)
}

/// Read the scenario file `name` through `files`, parse and validate it with
/// `overrides` applied.
pub fn load(
    name: &str,
    files: &dyn Resolve,
    overrides: Overrides,
) -> Result<Scenario, ScenarioError> {
    let source = read_source(name, files)?;
    let mut scenario = parse_with(name, &source, overrides)?;
    super::observed::read_observed(&mut scenario, name, &source, files)?;
    Ok(scenario)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Files held in memory, as a browser holds the ones its user uploaded.
    struct Uploaded(&'static [(&'static str, &'static [u8])]);

    impl Resolve for Uploaded {
        fn read(&self, name: &str) -> Result<Vec<u8>, String> {
            let found = self.0.iter().find(|(n, _)| *n == name);
            found
                .map(|(_, bytes)| bytes.to_vec())
                .ok_or_else(|| "cannot read the file: no such file".into())
        }
    }

    const SCENARIO: &[u8] = b"\xEF\xBB\xBF[meta]\nname = \"up\"\nduration = \"1m\"\n";

    #[test]
    fn a_scenario_loads_through_the_callers_resolver() {
        let files = Uploaded(&[("up.toml", SCENARIO)]);
        let scenario = load("up.toml", &files, Overrides::default()).unwrap();
        assert_eq!(scenario.name, "up");
        assert_eq!(
            read_source("up.toml", &files).unwrap().lines().next(),
            Some("[meta]")
        );
    }

    #[test]
    fn the_resolvers_reason_is_reported_under_the_files_name() {
        let e = load("gone.toml", &Uploaded(&[]), Overrides::default()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "gone.toml: cannot read the file: no such file"
        );
    }

    #[test]
    fn bytes_a_resolver_reads_are_decoded_as_a_files_are() {
        let files = Uploaded(&[("bin.toml", b"[meta]\n\xFF")]);
        let e = load("bin.toml", &files, Overrides::default()).unwrap_err();
        assert_eq!((e.file.as_str(), e.line, e.column), ("bin.toml", 2, 1));
    }
}
