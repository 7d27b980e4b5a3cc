//! Finding where a key path such as `pool.max` or `traffic.profile[1].rate`
//! stands in the source text, so that errors found after parsing can still
//! name a line and a column.

use std::ops::Range;
use toml::de::{DeTable, DeValue};

/// One step of a key path.
#[derive(Debug, PartialEq, Eq)]
enum Step {
    Key(String),
    Index(usize),
}

/// Split `a."b.c"[2].d` into steps.
fn steps(path: &str) -> Vec<Step> {
    let mut out = Vec::new();
    let mut chars = path.chars().peekable();
    let mut key = String::new();
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                for q in chars.by_ref() {
                    if q == '"' {
                        break;
                    }
                    key.push(q);
                }
            }
            '.' => {
                if !key.is_empty() {
                    out.push(Step::Key(std::mem::take(&mut key)));
                }
            }
            '[' => {
                if !key.is_empty() {
                    out.push(Step::Key(std::mem::take(&mut key)));
                }
                let digits: String = chars.by_ref().take_while(|&d| d != ']').collect();
                if let Ok(i) = digits.parse() {
                    out.push(Step::Index(i));
                }
            }
            _ => key.push(c),
        }
    }
    if !key.is_empty() {
        out.push(Step::Key(key));
    }
    out
}

/// The span of the value at `path`, or of its deepest existing ancestor's
/// key when the path does not exist in full. `None` if the source does not
/// parse or nothing on the path exists.
pub fn span_of(source: &str, path: &str) -> Option<Range<usize>> {
    locate(source, path).map(|(span, _)| span)
}

/// The span of the value at `path`, only if the whole path exists.
pub fn exact_span_of(source: &str, path: &str) -> Option<Range<usize>> {
    locate(source, path)
        .filter(|(_, exact)| *exact)
        .map(|(span, _)| span)
}

/// The best span for `path`, and whether it is the whole path's.
fn locate(source: &str, path: &str) -> Option<(Range<usize>, bool)> {
    let root = DeTable::parse(source).ok()?;
    let mut best: Option<Range<usize>> = None;
    let mut value: Option<&DeValue> = None;
    let mut table: Option<&DeTable> = Some(root.get_ref());
    for step in steps(path) {
        match step {
            Step::Key(k) => {
                let Some(t) = table else {
                    return best.map(|b| (b, false));
                };
                let Some((key, v)) = t.get_key_value(k.as_str()) else {
                    return best.map(|b| (b, false));
                };
                best = Some(key.span());
                // Point at the value for leaves, at the key for tables.
                if !matches!(v.get_ref(), DeValue::Table(_)) {
                    best = Some(v.span());
                }
                value = Some(v.get_ref());
            }
            Step::Index(i) => {
                let DeValue::Array(items) = value? else {
                    return best.map(|b| (b, false));
                };
                let Some(item) = items.get(i) else {
                    return best.map(|b| (b, false));
                };
                best = Some(item.span());
                value = Some(item.get_ref());
            }
        }
        table = match value {
            Some(DeValue::Table(t)) => Some(t),
            _ => None,
        };
    }
    best.map(|b| (b, true))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SRC: &str = r#"
[pool]
max = 0

[versions."v2.3.0".job]
fan_out = 3

[[traffic.profile]]
at = "1m"
rate = "1/s"

[[traffic.profile]]
at = "2m"
rate = "oops"
"#;

    fn text(span: Option<Range<usize>>) -> &'static str {
        &SRC[span.expect("found")]
    }

    #[test]
    fn finds_leaves_quoted_keys_and_array_items() {
        assert_eq!(text(span_of(SRC, "pool.max")), "0");
        assert_eq!(text(span_of(SRC, "versions.\"v2.3.0\".job.fan_out")), "3");
        assert_eq!(text(span_of(SRC, "traffic.profile[1].rate")), "\"oops\"");
    }

    #[test]
    fn falls_back_to_the_deepest_existing_key() {
        assert_eq!(text(span_of(SRC, "pool.idle_timeout")), "pool");
        assert_eq!(span_of(SRC, "nothing.here"), None);
        assert_eq!(exact_span_of(SRC, "pool.idle_timeout"), None);
        assert_eq!(text(exact_span_of(SRC, "pool.max")), "0");
    }
}
