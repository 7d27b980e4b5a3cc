//! TOML syntax and types: deserialize with serde's key path and rephrase
//! serde's messages as "expected …, found …" with hints.

use super::*;

/// TOML syntax and types, with serde's key path.
pub(super) fn deserialize(
    file: &str,
    source: &str,
) -> std::result::Result<ScenarioFile, ScenarioError> {
    if source.trim().is_empty() {
        return Err(ScenarioError {
            line: 1,
            column: 1,
            ..ScenarioError::at_span(
                file,
                source,
                None,
                "",
                "expected a scenario with at least a [meta] table (name and duration), found an empty file",
            )
        });
    }
    let de = toml::de::Deserializer::parse(source).map_err(|e| syntax_error(file, source, &e))?;
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = key_path(e.path());
        let inner = e.inner();
        let raw = inner.message().trim_end();
        let (mut path, mut message) = explain(&path, raw);
        let span = inner.span();
        // A struct read from `[[meta]]`: serde takes the array as a tuple.
        let header = span.clone().and_then(|s| source.get(s.start..));
        if raw.starts_with("invalid type: map")
            && header.is_some_and(|h| h.starts_with("[["))
            && path.ends_with(']')
            && let Some((table, _)) = path.clone().rsplit_once('[')
        {
            message = format!("expected a table [{table}], found an array of tables [[{table}]]");
            path = table.to_owned();
        }
        ScenarioError::at_span(file, source, span, &path, message)
    })
}

/// serde's key path as the file writes it: `versions."v2.3.0".pool`, with
/// the keys that are not bare TOML keys quoted; empty at the top.
fn key_path(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut out = String::new();
    for segment in path {
        let key = match segment {
            Segment::Seq { index } => {
                out.push_str(&format!("[{index}]"));
                continue;
            }
            Segment::Map { key } | Segment::Enum { variant: key } => key.as_str(),
            Segment::Unknown => "?",
        };
        if !out.is_empty() {
            out.push('.');
        }
        let bare = !key.is_empty()
            && key
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '?');
        if bare {
            out.push_str(key);
        } else {
            out.push_str(&format!("{key:?}"));
        }
    }
    out
}

/// The top-level keys of a scenario file, for a hint when one lands inside
/// a table.
const TOP_LEVEL: [&str; 12] = [
    "meta", "fleet", "traffic", "requests", "pool", "database", "job", "versions", "events",
    "alerts", "alerting", "targets",
];

/// The tables a `[versions."NAME"]` table may hold.
const VERSION_KEYS: [&str; 3] = ["requests", "pool", "job"];

/// Rephrase serde's messages in the "expected …, found …" form, with a
/// suggestion for misspelt keys.
fn explain(path: &str, message: &str) -> (String, String) {
    let join = |key: &str| {
        if path.is_empty() {
            key.to_owned()
        } else if path == key || path.ends_with(&format!(".{key}")) {
            path.to_owned()
        } else {
            format!("{path}.{key}")
        }
    };
    if let Some(rest) = message.strip_prefix("unknown field `") {
        let key = rest.split('`').next().unwrap_or_default();
        let expected: Vec<&str> = rest.split('`').skip(2).step_by(2).collect();
        let hint = match did_you_mean(key, &expected) {
            Some(s) => format!(" (did you mean `{s}`?)"),
            None if expected == VERSION_KEYS && TOP_LEVEL.contains(&key) => format!(
                " ({key} cannot vary by version: a version changes only [requests], [pool] and [job]; the rest is the same for every version)"
            ),
            None if !path.is_empty() && TOP_LEVEL.contains(&key) => {
                let table = path.strip_suffix(key).unwrap_or(path).trim_end_matches('.');
                format!(
                    " (keys after [{table}] belong to it: put `{key}` before the first table, or under its own [{key}] header)"
                )
            }
            None => String::new(),
        };
        let list = expected
            .iter()
            .map(|s| format!("`{s}`"))
            .collect::<Vec<_>>()
            .join(", ");
        let expected = if list.is_empty() {
            "no keys here".to_owned()
        } else {
            format!("one of {list}")
        };
        return (
            join(key),
            format!("expected {expected}, found unknown key `{key}`{hint}"),
        );
    }
    if let Some(rest) = message.strip_prefix("missing field `") {
        let key = rest.split('`').next().unwrap_or_default();
        if path.is_empty() && key == "meta" {
            return (
                key.to_owned(),
                "expected a [meta] table with at least name and duration, found none".to_owned(),
            );
        }
        return (
            join(key),
            format!("expected the required key `{key}`, found nothing"),
        );
    }
    if let Some(rest) = message.strip_prefix("unknown variant `") {
        let found = rest.split('`').next().unwrap_or_default();
        let expected: Vec<&str> = rest.split('`').skip(2).step_by(2).collect();
        let hint = did_you_mean(found, &expected)
            .map(|s| format!(" (did you mean \"{s}\"?)"))
            .unwrap_or_default();
        let list = expected
            .iter()
            .map(|s| format!("\"{s}\""))
            .collect::<Vec<_>>()
            .join(", ");
        return (
            path.to_owned(),
            format!("expected one of {list}, found \"{found}\"{hint}"),
        );
    }
    if let Some(rest) = message
        .strip_prefix("invalid type: ")
        .or_else(|| message.strip_prefix("invalid value: "))
        && let Some((found, expected)) = rest.split_once(", expected ")
    {
        return (path.to_owned(), expected_found(expected, found));
    }
    (path.to_owned(), message.to_owned())
}
