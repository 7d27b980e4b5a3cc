//! Scenario errors that point at the file, line and column of the culprit:
//! `FILE:LINE:COL: path.to.key: expected …, found …`.

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
    fn suggestions_for_typos_only() {
        let keys = ["max", "min", "idle_timeout", "acquire_timeout"];
        assert_eq!(did_you_mean("idle_timout", &keys), Some("idle_timeout"));
        assert_eq!(did_you_mean("maxx", &keys), Some("max"));
        assert_eq!(did_you_mean("colour", &keys), None);
    }
}
