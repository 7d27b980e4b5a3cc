//! Scenario errors that point at the file, line and column of the culprit:
//! `FILE:LINE:COL: path.to.key: expected …, found …`; TOML syntax errors and
//! serde's type errors rephrased in that form.

use crate::telemetry::TelemetryError;
use std::fmt;
use std::ops::Range;

/// A problem in a scenario file, located.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScenarioError {
    /// The file as the user named it.
    pub file: String,
    /// 1-based line (0 when unknown).
    pub line: usize,
    /// 1-based column, in characters (0 when unknown).
    pub column: usize,
    /// Dotted key path, e.g. `pool.max` or `traffic.profile[1].rate`; empty
    /// for problems with the whole file.
    pub path: String,
    /// What was expected and what was found.
    pub message: String,
    /// The offending source line, for display under the message.
    pub snippet: Option<String>,
}

/// Something valid but likely wrong in a scenario file, located and shown
/// as an error is (commands print it after `warning: `).
pub type ScenarioWarning = ScenarioError;

impl ScenarioError {
    /// An error at a byte span of `source`.
    pub fn at_span(
        file: &str,
        source: &str,
        span: Option<Range<usize>>,
        path: &str,
        message: impl Into<String>,
    ) -> ScenarioError {
        let (line, column, snippet) = match span {
            Some(span) => {
                let (line, column) = line_column(source, span.start);
                (
                    line,
                    column,
                    source.lines().nth(line - 1).map(str::to_owned),
                )
            }
            None => (0, 0, None),
        };
        ScenarioError {
            file: file.to_owned(),
            line,
            column,
            path: path.to_owned(),
            message: message.into(),
            snippet,
        }
    }
}

/// 1-based line and character column of byte `offset` in `source`.
pub fn line_column(source: &str, offset: usize) -> (usize, usize) {
    let offset = floor_char_boundary(source, offset.min(source.len()));
    let before = &source[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = source[line_start..offset].chars().count() + 1;
    (line, column)
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if self.line > 0 {
            write!(f, ":{}:{}", self.line, self.column)?;
        }
        if !self.path.is_empty() {
            write!(f, ": {}", self.path)?;
        }
        write!(f, ": {}", self.message)?;
        if let Some(snippet) = &self.snippet {
            // 120 characters of the line, around the column on long lines.
            // Control characters would garble the terminal: shown as �. The
            // caret copies the line's tabs so that it stays aligned.
            let skip = self.column.saturating_sub(100);
            let shown: String = (if skip > 0 { "…" } else { "" })
                .chars()
                .chain(snippet.chars().skip(skip).take(120))
                .map(|c| {
                    if c.is_control() && c != '\t' {
                        '\u{fffd}'
                    } else {
                        c
                    }
                })
                .collect();
            write!(f, "\n  {:>4} | {shown}", self.line)?;
            let column = self.column - skip + usize::from(skip > 0);
            if self.column > 0 && column <= 121 {
                let pad: String = shown
                    .chars()
                    .chain(std::iter::repeat(' '))
                    .take(column - 1)
                    .map(|c| if c == '\t' { '\t' } else { ' ' })
                    .collect();
                write!(f, "\n       | {pad}^")?;
            }
        }
        Ok(())
    }
}

impl std::error::Error for ScenarioError {}

/// The closest of `candidates` to `word` by edit distance, if close enough to
/// be a likely typo.
pub fn did_you_mean<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    candidates
        .iter()
        .map(|c| (edit_distance(word, c), *c))
        .filter(|(d, c)| *d <= (c.len().max(word.len()) / 3).max(1))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// A TOML syntax error, located, with the table (and key) it is in and what
/// was found where something else was expected.
pub(super) fn syntax_error(file: &str, source: &str, e: &toml::de::Error) -> ScenarioError {
    const DEPTH: usize = 80; // toml's nesting limit
    let raw = e.message().trim_end();
    // toml gives no position for keys with too many parts: find the line.
    let span = e.span().or_else(|| {
        let mut start = 0;
        source.split_inclusive('\n').find_map(|line| {
            let found = line.matches('.').count() + 1 >= DEPTH;
            start += line.len();
            found.then(|| start - line.len()..start - line.len())
        })
    });
    let at = span.clone().map_or(source.len(), |s| s.start);
    let found = describe_at(source, span.clone());
    let line_start = source
        .get(..at)
        .and_then(|b| b.rfind('\n'))
        .map_or(0, |i| i + 1);
    let in_header = source
        .get(line_start..)
        .is_some_and(|l| l.trim_start().starts_with('['));
    let message = if raw == "duplicate key" && in_header {
        format!("expected each table once, found {found} a second time")
    } else if raw == "duplicate key" {
        format!("expected each key once in a table, found {found} a second time")
    } else if raw.starts_with("string values must be quoted") && found.starts_with("the end") {
        format!("expected a value, found {found}")
    } else if raw.starts_with("carriage return") {
        let why = if source.contains('\n') {
            "a carriage return alone in the middle of the file: remove it"
        } else {
            "the file's lines end with a carriage return alone, as old Mac files did: save it with LF or CRLF line endings"
        };
        format!("expected a line feed after a carriage return, found {found} ({why})")
    } else if raw.contains("recursi") {
        format!(
            "expected keys, arrays and inline tables nested at most {DEPTH} deep, found deeper nesting"
        )
    } else if raw.contains("expected") && !raw.contains("found") {
        format!("{raw}, found {found}")
    } else {
        raw.to_owned()
    };
    let path = table_at(source, at);
    ScenarioError::at_span(
        file,
        source,
        span,
        &path,
        format!("invalid TOML: {message}"),
    )
}

/// What the text at `span` is, for "found …": a token in backquotes, the end
/// of the line or the end of the file.
fn describe_at(source: &str, span: Option<std::ops::Range<usize>>) -> String {
    let Some(span) = span else {
        return "something else".into();
    };
    let text = source.get(span.start..).unwrap_or_default();
    let token: String = source
        .get(span.clone())
        .filter(|t| !t.trim().is_empty())
        .unwrap_or(text)
        .lines()
        .next()
        .unwrap_or_default()
        .trim()
        .chars()
        .take(if span.is_empty() { 1 } else { 30 })
        .collect();
    match text.chars().next() {
        None => "the end of the file".into(),
        Some('\n' | '\r') if span.is_empty() => "the end of the line".into(),
        _ if token.is_empty() => "the end of the line".into(),
        _ => {
            let shown: String = token
                .chars()
                .map(|c| {
                    if c.is_control() {
                        c.escape_default().to_string()
                    } else {
                        c.to_string()
                    }
                })
                .collect();
            format!("`{shown}`")
        }
    }
}

/// The key path at byte `offset`, guessed line by line for syntax errors:
/// the last table header before it (arrays of tables counted), and the key
/// on its line if it has one.
fn table_at(source: &str, offset: usize) -> String {
    // A carriage return alone ends a line too here, so that a file with
    // old Mac line endings is not read as one long line.
    let before = source.get(..offset).unwrap_or(source);
    let line_start = before.rfind(['\n', '\r']).map_or(0, |i| i + 1);
    let mut table = String::new();
    let mut arrays: Vec<(String, usize)> = Vec::new();
    for line in source
        .get(..line_start)
        .unwrap_or_default()
        .split(['\n', '\r'])
    {
        let line = line.trim();
        if let Some(name) = line.strip_prefix("[[").and_then(|l| l.split("]]").next()) {
            let name = dotted(name);
            let count = match arrays.iter_mut().find(|(n, _)| *n == name) {
                Some((_, c)) => {
                    *c += 1;
                    *c
                }
                None => {
                    arrays.push((name.clone(), 0));
                    0
                }
            };
            table = format!("{name}[{count}]");
        } else if let Some(name) = line.strip_prefix('[').and_then(|l| l.split(']').next()) {
            table = dotted(name);
        }
    }
    let here = source.get(line_start..).unwrap_or_default();
    let here = here.split(['\n', '\r']).next().unwrap_or_default().trim();
    let key = match here.strip_prefix('[') {
        Some(header) => {
            table.clear();
            Some(dotted(header.trim_matches(['[', ']'])))
        }
        None => here.split_once('=').map(|(k, _)| dotted(k)),
    };
    let path = match (table.is_empty(), key.filter(|k| !k.is_empty())) {
        (_, None) => table,
        (true, Some(key)) => key,
        (false, Some(key)) => format!("{table}.{key}"),
    };
    if path.chars().count() > 60 {
        return path.chars().take(60).chain(['…']).collect();
    }
    path
}

/// A dotted key as written, without the spaces around its dots.
fn dotted(key: &str) -> String {
    key.split('.').map(str::trim).collect::<Vec<_>>().join(".")
}

/// serde's "expected" and "found" in plain words, with a hint for the usual
/// mistakes (numbers in quotes, durations and rates without units).
pub(super) fn expected_found(expected: &str, found: &str) -> String {
    let expected_words = match expected {
        "i64" | "i32" | "u32" => "an integer",
        "u64" => "an integer from 0 to 18446744073709551615",
        "f64" | "f32" => "a number",
        "a boolean" => "true or false",
        "a sequence" => "an array",
        "a map" => "a table",
        e if e.starts_with("struct ") => "a table",
        e => e,
    };
    let quoted = |f: &str| f.split('`').nth(1).map(str::to_owned);
    let (found_words, value) = if let Some(s) = found.strip_prefix("string ") {
        (format!("the string {s}"), None)
    } else if found.starts_with("integer `") || found.starts_with("floating point `") {
        let n = quoted(found).unwrap_or_default();
        (n.clone(), Some(n))
    } else if found.starts_with("boolean `") {
        (quoted(found).unwrap_or_default(), None)
    } else {
        let words = match found {
            "map" => "a table",
            "sequence" => "an array",
            other => other,
        };
        (words.to_owned(), None)
    };
    let hint = match (expected_words, value) {
        _ if found.ends_with(" as i128") => ", beyond 64 bits".to_owned(),
        (e, Some(n)) if e.starts_with("a duration") => format!(" (write \"{n}s\" or \"{n}ms\")"),
        (e, Some(n)) if e.starts_with("a rate") => format!(" (write \"{n}/s\")"),
        ("an integer" | "a number" | "true or false", None) if found.starts_with("string ") => {
            " (write it without quotes)".to_owned()
        }
        _ => String::new(),
    };
    format!("expected {expected_words}, found {found_words}{hint}")
}

/// A telemetry file's error as a scenario error (here, above the telemetry
/// module, which knows nothing of scenarios).
impl TelemetryError {
    /// This error reported at the scenario key that named the file:
    /// `at_key` is an error located there (its message is replaced), the
    /// message names the data file's line and column (or JSON path).
    pub fn into_scenario_error(self, at_key: ScenarioError) -> ScenarioError {
        let message = format!(
            "in {}: expected {}, found {}",
            self.place(),
            self.expected,
            self.found
        );
        ScenarioError { message, ..at_key }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_column_count_characters() {
        let src = "a = 1\nµb = 2\n";
        assert_eq!(line_column(src, 0), (1, 1));
        assert_eq!(line_column(src, 6), (2, 1));
        assert_eq!(line_column(src, 8), (2, 2)); // after the two-byte µ
    }

    #[test]
    fn display_has_location_path_and_caret() {
        let e = ScenarioError::at_span(
            "x.toml",
            "[pool]\nmax = 0\n",
            Some(13..14),
            "pool.max",
            "expected an integer ≥ 1, found 0",
        );
        let s = e.to_string();
        assert!(
            s.starts_with("x.toml:2:7: pool.max: expected an integer ≥ 1, found 0"),
            "{s}"
        );
        assert!(s.contains("max = 0") && s.contains("      ^"), "{s}");
    }

    #[test]
    fn syntax_errors_are_placed_in_their_table_and_key() {
        let src = "[meta]\nname = \"x\"\n[[events]]\nat = \"1m\"\n[[events]]\nat = \n";
        assert_eq!(table_at(src, src.len() - 1), "events[1].at");
        assert_eq!(table_at(src, 0), "meta");
        assert_eq!(table_at("a . b = 1\n", 0), "a.b");
        assert_eq!(describe_at("x = \n", Some(4..4)), "the end of the line");
        assert_eq!(describe_at("x = 1", Some(5..5)), "the end of the file");
        assert_eq!(describe_at("x = \u{7}", Some(4..5)), "`\\u{7}`");
    }

    #[test]
    fn long_lines_show_the_part_around_the_column() {
        let line = format!("{}max = 0", " ".repeat(300));
        let e = ScenarioError::at_span("x.toml", &line, Some(306..307), "pool.max", "m");
        let shown = e.to_string();
        let lines: Vec<&str> = shown.lines().collect();
        let caret = lines[2].chars().position(|c| c == '^').unwrap();
        assert_eq!(lines[1].chars().nth(caret), Some('0'), "{shown}");
    }

    #[test]
    fn suggestions_for_typos_only() {
        let keys = ["max", "min", "idle_timeout", "acquire_timeout"];
        assert_eq!(did_you_mean("idle_timout", &keys), Some("idle_timeout"));
        assert_eq!(did_you_mean("maxx", &keys), Some("max"));
        assert_eq!(did_you_mean("colour", &keys), None);
    }

    #[test]
    fn a_telemetry_error_names_the_data_line_and_the_key() {
        let e = TelemetryError::whole("t.csv", "a rate ≥ 0", "-3")
            .at(2, 3)
            .on("rate");
        assert_eq!(
            e.to_string(),
            "t.csv:2:3, rate: expected a rate ≥ 0, found -3"
        );
        let src = "[traffic]\nrate_from = \"t.csv\"\n";
        let at_key = ScenarioError::at_span("s.toml", src, Some(22..29), "traffic.rate_from", "");
        let s = e.into_scenario_error(at_key).to_string();
        let head =
            "s.toml:2:13: traffic.rate_from: in t.csv:2:3, rate: expected a rate ≥ 0, found -3\n";
        assert!(s.starts_with(head), "{s}");
    }
}
