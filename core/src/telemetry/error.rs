//! A problem in a telemetry file, located by line and column (CSV, JSON
//! syntax and types) or by JSON path. The scenario turns it into its own
//! error, naming also the key that named the file
//! (`TelemetryError::into_scenario_error`, in `scenario::error`).

use std::fmt;

/// A problem in a telemetry file: where, what was expected, what was found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TelemetryError {
    /// The file as the scenario names it.
    pub file: String,
    /// 1-based line (0 when unknown).
    pub line: u32,
    /// 1-based column, in characters (0 when unknown).
    pub column: u32,
    /// The CSV column (`time`, `rate`) or the JSON path
    /// (`data.result[0].values[3]`); empty for the whole file.
    pub path: String,
    /// What the file should hold there.
    pub expected: String,
    /// What it holds.
    pub found: String,
}

impl TelemetryError {
    /// An error about the whole file.
    pub fn whole(file: &str, expected: impl Into<String>, found: impl Into<String>) -> Self {
        TelemetryError {
            file: file.to_owned(),
            line: 0,
            column: 0,
            path: String::new(),
            expected: expected.into(),
            found: found.into(),
        }
    }

    /// The same error at `line`:`column` (`column` in characters).
    pub fn at(mut self, line: usize, column: usize) -> Self {
        self.line = u32::try_from(line).unwrap_or(u32::MAX);
        self.column = u32::try_from(column).unwrap_or(u32::MAX);
        self
    }

    /// Where in the file: `t.csv:3:4`, `t.json, data.result[0]` or `t.csv`.
    pub fn place(&self) -> String {
        let mut place = self.file.clone();
        if self.line > 0 {
            place.push_str(&format!(":{}:{}", self.line, self.column));
        }
        if !self.path.is_empty() {
            place.push_str(&format!(", {}", self.path));
        }
        place
    }

    /// The same error about `path` (a CSV column or a JSON path).
    pub fn on(mut self, path: impl Into<String>) -> Self {
        self.path = path.into();
        self
    }
}

impl fmt::Display for TelemetryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let place = self.place();
        write!(
            f,
            "{place}: expected {}, found {}",
            self.expected, self.found
        )
    }
}

impl std::error::Error for TelemetryError {}
