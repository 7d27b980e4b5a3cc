//! The vector selectors of a PromQL expression (`pg_pool_waiting_connections{pod="a"}`),
//! and whether one matches a series: enough to tell that an alert rule reads
//! a metric pooldrill does not export (a misspelling, a production-only
//! metric), which would otherwise pass for an alert that never fired.
//!
//! This is a scanner, not a parser: it skips strings, comments, ranges and
//! the label lists of `by`/`without`/`on`/`ignoring`/`group_*`, takes a word
//! followed by `(` for a function or an aggregation, and any other word that
//! is not a keyword or a number for a metric name.

use std::collections::BTreeMap;

/// How a label matcher compares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MatchOp {
    /// `=`
    Equal,
    /// `!=`
    NotEqual,
    /// `=~`
    Regex,
    /// `!~`
    NotRegex,
}

/// One `label op "value"` of a selector.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Matcher {
    /// The label name.
    pub label: String,
    /// The comparison.
    pub op: MatchOp,
    /// The value, unescaped.
    pub value: String,
}

/// A vector selector: a metric name, label matchers or both.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Selector {
    /// The selector as written (`name{…}`, spaces kept).
    pub text: String,
    /// The metric name, written before the braces or as `__name__="…"`.
    pub name: Option<String>,
    /// The label matchers other than `__name__`.
    pub matchers: Vec<Matcher>,
}

impl Selector {
    /// Whether the selector matches the series `name{labels}`. A regular
    /// expression is not evaluated: its matcher counts as matching.
    pub fn matches(&self, name: &str, labels: &BTreeMap<String, String>) -> bool {
        self.name.as_deref().is_none_or(|n| n == name)
            && self.matchers.iter().all(|m| {
                // A missing label matches the empty string, as in Prometheus.
                let value = labels.get(&m.label).map_or("", String::as_str);
                match m.op {
                    MatchOp::Equal => value == m.value,
                    MatchOp::NotEqual => value != m.value,
                    MatchOp::Regex | MatchOp::NotRegex => true,
                }
            })
    }
}

/// Words that are neither metric names nor functions.
const KEYWORDS: [&str; 8] = [
    "and", "or", "unless", "bool", "offset", "inf", "nan", "atan2",
];

/// Aggregation operators, which may be followed by `by (…)` before their
/// parentheses.
const AGGREGATIONS: [&str; 14] = [
    "sum",
    "min",
    "max",
    "avg",
    "group",
    "stddev",
    "stdvar",
    "count",
    "count_values",
    "bottomk",
    "topk",
    "quantile",
    "limitk",
    "limit_ratio",
];

/// Functions that are true when their selector matches nothing.
const ABSENCE: [&str; 2] = ["absent", "absent_over_time"];

/// Keywords followed by a list of label names in parentheses.
const LABEL_LISTS: [&str; 6] = [
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
];

/// The vector selectors of `expr`, in the order written.
pub fn selectors(expr: &str) -> Vec<Selector> {
    let s = expr.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < s.len() {
        let c = s[i];
        if c == b'#' {
            i = skip_while(s, i, |c| c != b'\n');
        } else if matches!(c, b'"' | b'\'' | b'`') {
            i = string(s, i).0;
        } else if c == b'[' {
            i = skip_while(s, i, |c| c != b']');
        } else if c == b'{' {
            let (end, name, matchers) = braces(s, i);
            out.push(Selector {
                text: expr[i..end].to_owned(),
                name,
                matchers,
            });
            i = end;
        } else if c.is_ascii_digit() || c == b'.' {
            i = skip_while(s, i, |c| {
                c.is_ascii_alphanumeric() || c == b'.' || c == b'_'
            });
        } else if c.is_ascii_alphabetic() || c == b'_' || c == b':' {
            let end = skip_while(s, i, |c| {
                c.is_ascii_alphanumeric() || c == b'_' || c == b':'
            });
            let word = &expr[i..end];
            let next = skip_while(s, end, |c| c.is_ascii_whitespace());
            let lower = word.to_ascii_lowercase();
            if LABEL_LISTS.contains(&lower.as_str()) {
                i = if s.get(next) == Some(&b'(') {
                    skip_while(s, next, |c| c != b')')
                } else {
                    end
                };
            } else if ABSENCE.contains(&lower.as_str()) && s.get(next) == Some(&b'(') {
                // A series missing here is what makes these fire: their
                // selectors are not asked to match.
                i = after_parentheses(s, next);
            } else if KEYWORDS.contains(&lower.as_str())
                || AGGREGATIONS.contains(&lower.as_str())
                || s.get(next) == Some(&b'(')
            {
                i = end;
            } else if s.get(next) == Some(&b'{') {
                let (close, name, matchers) = braces(s, next);
                out.push(Selector {
                    text: expr[i..close].to_owned(),
                    name: Some(name.unwrap_or_else(|| word.to_owned())),
                    matchers,
                });
                i = close;
            } else {
                out.push(Selector {
                    text: word.to_owned(),
                    name: Some(word.to_owned()),
                    matchers: Vec::new(),
                });
                i = end;
            }
        } else {
            i += 1;
        }
    }
    out
}

/// The index after the parenthesis that closes the one at `open` (strings
/// skipped), or the end.
fn after_parentheses(s: &[u8], open: usize) -> usize {
    let mut depth = 0usize;
    let mut i = open;
    while i < s.len() {
        match s[i] {
            b'"' | b'\'' | b'`' => {
                i = string(s, i).0;
                continue;
            }
            b'(' => depth += 1,
            b')' => {
                depth -= 1;
                if depth == 0 {
                    return i + 1;
                }
            }
            _ => {}
        }
        i += 1;
    }
    s.len()
}

/// The first index from `i` whose byte fails `keep` (or the end).
fn skip_while(s: &[u8], i: usize, keep: impl Fn(u8) -> bool) -> usize {
    s.get(i..)
        .unwrap_or_default()
        .iter()
        .position(|&c| !keep(c))
        .map_or(s.len(), |p| i + p)
}

/// The string literal at `i`: (index after it, its unescaped value); an
/// unterminated one runs to the end of the expression.
fn string(s: &[u8], i: usize) -> (usize, String) {
    let quote = s[i];
    let mut value = Vec::new();
    let mut j = i + 1;
    while j < s.len() && s[j] != quote {
        if s[j] == b'\\' && quote != b'`' && j + 1 < s.len() {
            j += 1;
            value.push(match s[j] {
                b'n' => b'\n',
                b't' => b'\t',
                c => c,
            });
        } else {
            value.push(s[j]);
        }
        j += 1;
    }
    (
        (j + 1).min(s.len()),
        String::from_utf8_lossy(&value).into_owned(),
    )
}

/// The matchers `{…}` at `i`: (index after `}`, `__name__` if given by
/// equality or as a lone string, the other matchers).
fn braces(s: &[u8], i: usize) -> (usize, Option<String>, Vec<Matcher>) {
    let mut name = None;
    let mut matchers = Vec::new();
    let mut j = i + 1;
    loop {
        j = skip_while(s, j, |c| c.is_ascii_whitespace() || c == b',');
        match s.get(j) {
            None => return (s.len(), name, matchers),
            Some(b'}') => return (j + 1, name, matchers),
            _ => {}
        }
        let label = if matches!(s[j], b'"' | b'\'' | b'`') {
            let (end, label) = string(s, j);
            j = end;
            label
        } else {
            let end = skip_while(s, j, |c| c.is_ascii_alphanumeric() || c == b'_');
            let label = String::from_utf8_lossy(&s[j..end]).into_owned();
            j = end.max(j + 1);
            label
        };
        j = skip_while(s, j, |c| c.is_ascii_whitespace());
        let op = match (s.get(j), s.get(j + 1)) {
            (Some(b'='), Some(b'~')) => MatchOp::Regex,
            (Some(b'!'), Some(b'~')) => MatchOp::NotRegex,
            (Some(b'!'), Some(b'=')) => MatchOp::NotEqual,
            (Some(b'='), _) => MatchOp::Equal,
            _ => {
                // A lone quoted metric name (`{"a.b"}`).
                name = Some(label);
                continue;
            }
        };
        j += if op == MatchOp::Equal { 1 } else { 2 };
        j = skip_while(s, j, |c| c.is_ascii_whitespace());
        if !s.get(j).is_some_and(|c| matches!(c, b'"' | b'\'' | b'`')) {
            continue;
        }
        let (end, value) = string(s, j);
        j = end;
        if label == "__name__" && op == MatchOp::Equal {
            name = Some(value);
        } else {
            matchers.push(Matcher { label, op, value });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(expr: &str) -> Vec<String> {
        selectors(expr).into_iter().map(|s| s.text).collect()
    }

    #[test]
    fn functions_keywords_label_lists_strings_and_numbers_are_not_selectors() {
        assert_eq!(
            names(
                "histogram_quantile(0.99, sum by (le) (rate(pg_pool_acquire_wait_seconds_bucket[1m]))) > 0.1"
            ),
            ["pg_pool_acquire_wait_seconds_bucket"]
        );
        assert_eq!(
            names(
                "sum without(pod) (a) / on (pod) group_left(version) b offset 5m and bool c # d\n or e"
            ),
            ["a", "b", "c", "e"]
        );
        assert_eq!(
            names(r#"label_replace(up, "dst", "$1", "src", "(.*)") unless 1e3 * 2"#),
            ["up"]
        );
        assert_eq!(
            names("avg_over_time(max(x)[19s:1s] offset 20s) SUM BY (le) (y)"),
            ["x", "y"]
        );
    }

    #[test]
    fn an_unterminated_string_or_brace_is_read_to_the_end_without_a_panic() {
        for expr in [
            r#"up{job="a"#,
            r#"{"a"#,
            "up{job=`",
            "up{",
            r#"x{a="b", c="#,
            "\"a",
        ] {
            assert!(selectors(expr).len() <= 1, "{expr}");
        }
        let unterminated = selectors(r#"up{job="a"#);
        assert_eq!(unterminated[0].name.as_deref(), Some("up"));
    }

    #[test]
    fn selectors_under_absent_are_not_asked_to_match() {
        assert_eq!(
            names(r#"absent(up{job="a)"}) or absent_over_time(x[5m]) and y"#),
            ["y"]
        );
    }

    #[test]
    fn matchers_are_read_and_matched_as_prometheus_does() {
        let s = selectors(r#"http_requests_total{code!="200", pod=~"a.*", job = "api\"x"}"#);
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].name.as_deref(), Some("http_requests_total"));
        assert_eq!(s[0].matchers.len(), 3);
        assert_eq!(s[0].matchers[2].value, "api\"x");
        let labels = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        let series = labels(&[("code", "503"), ("job", "api\"x")]);
        assert!(s[0].matches("http_requests_total", &series));
        assert!(!s[0].matches("http_requests", &series));
        assert!(!s[0].matches("http_requests_total", &labels(&[("code", "503")])));
        let by_name = selectors(r#"{__name__="up", job=""}"#);
        assert_eq!(by_name[0].name.as_deref(), Some("up"));
        assert!(by_name[0].matches("up", &labels(&[])), "missing is empty");
        assert!(!by_name[0].matches("up", &labels(&[("job", "x")])));
    }
}
