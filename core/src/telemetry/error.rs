//! A problem in a telemetry file, located by line and column (CSV, JSON
//! syntax and types) or by JSON path, and turned into a [`ScenarioError`]
//! that also names the scenario key that named the file.

use crate::scenario::ScenarioError;
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
    /// The offending line, for display under the message.
    pub snippet: Option<Box<str>>,
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
            snippet: None,
        }
    }

    /// The same error at `line`:`column` of `text` (`column` in characters).
    pub fn at(mut self, text: &str, line: usize, column: usize) -> Self {
        self.line = u32::try_from(line).unwrap_or(u32::MAX);
        self.column = u32::try_from(column).unwrap_or(u32::MAX);
        self.snippet = text.lines().nth(line.saturating_sub(1)).map(Box::from);
        self
    }

    /// The same error about `path` (a CSV column or a JSON path).
    pub fn on(mut self, path: impl Into<String>) -> Self {
        self.path = path.into();
        self
    }

    /// As a scenario error located in the data file, its key path naming
    /// the scenario key `key` and where it is (`scenario.toml:7`).
    pub fn into_scenario_error(self, key: &str, named_at: &str) -> ScenarioError {
        let path = match self.path.as_str() {
            "" => format!("{key} ({named_at})"),
            p => format!("{key} ({named_at}), {p}"),
        };
        ScenarioError {
            file: self.file,
            line: self.line as usize,
            column: self.column as usize,
            path,
            message: format!("expected {}, found {}", self.expected, self.found),
            snippet: self.snippet.map(String::from),
        }
    }
}

impl fmt::Display for TelemetryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if self.line > 0 {
            write!(f, ":{}:{}", self.line, self.column)?;
        }
        if !self.path.is_empty() {
            write!(f, ": {}", self.path)?;
        }
        write!(f, ": expected {}, found {}", self.expected, self.found)
    }
}

impl std::error::Error for TelemetryError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scenario_error_names_the_data_line_and_the_key() {
        let e = TelemetryError::whole("t.csv", "a rate ≥ 0", "-3")
            .at("time,rate\n0,-3\n", 2, 3)
            .on("rate");
        assert_eq!(
            e.to_string(),
            "t.csv:2:3: rate: expected a rate ≥ 0, found -3"
        );
        let s = e
            .into_scenario_error("traffic.rate_from", "s.toml:7")
            .to_string();
        assert!(
            s.starts_with(
                "t.csv:2:3: traffic.rate_from (s.toml:7), rate: expected a rate ≥ 0, found -3\n"
            ),
            "{s}"
        );
        assert!(s.contains("0,-3"), "{s}");
    }
}
