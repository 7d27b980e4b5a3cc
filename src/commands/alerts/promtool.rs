//! Running promtool: finding it, checking the rule file, and reading the
//! alerts `promtool test rules` reports active.

use anyhow::{Context, Result, bail};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// promtool: `$PROMTOOL`, or `promtool` on the `PATH`.
pub fn find_promtool() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("PROMTOOL") {
        return Some(PathBuf::from(p));
    }
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join("promtool"))
        .find(|p| p.is_file())
}

/// What promtool says about the rule file, or an error quoting it.
pub(super) fn check_rules(promtool: &Path, rules: &Path) -> Result<()> {
    let out = Command::new(promtool)
        .arg("check")
        .arg("rules")
        .arg(rules)
        .output()
        .with_context(|| format!("cannot run {}", promtool.display()))?;
    if !out.status.success() {
        bail!(
            "promtool rejects {}:\n{}{}",
            rules.display(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(())
}

/// An alert's state at one evaluation, as `ALERTS{alertstate}` says.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum State {
    Pending,
    Firing,
}

/// `{a="x", b="y"} 1.2E+02, {…} 3E+00`: promtool's rendering of a vector.
pub(super) fn parse_got(text: &str) -> Option<Vec<(BTreeMap<String, String>, f64)>> {
    let mut out = Vec::new();
    let mut rest = text.trim();
    while !rest.is_empty() {
        rest = rest.strip_prefix('{')?;
        let mut labels = BTreeMap::new();
        loop {
            rest = rest.trim_start_matches([',', ' ']);
            if let Some(r) = rest.strip_prefix('}') {
                rest = r;
                break;
            }
            let (name, r) = rest.split_once("=\"")?;
            let mut value = String::new();
            let mut chars = r.char_indices();
            let end = loop {
                match chars.next()? {
                    (_, '\\') => value.push(chars.next()?.1),
                    (i, '"') => break i,
                    (_, c) => value.push(c),
                }
            };
            labels.insert(name.trim().to_owned(), value);
            rest = &r[end + 1..];
        }
        let r = rest.trim_start();
        let end = r.find(',').unwrap_or(r.len());
        out.push((labels, r[..end].trim().parse().ok()?));
        rest = r[end..].trim_start_matches([',', ' ']);
    }
    Some(out)
}

/// Run the test; every alert seen active: (name, evaluation time, state).
pub(super) fn run_test(promtool: &Path, test: &Path) -> Result<Vec<(String, f64, State)>> {
    let out = Command::new(promtool)
        .args(["test", "rules"])
        .arg(test)
        .output()
        .with_context(|| format!("cannot run {}", promtool.display()))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let unexpected = || {
        let text: Vec<&str> = stdout.lines().chain(stderr.lines()).take(40).collect();
        let hint = if stdout.contains("too many samples") {
            "\nhint: promtool's rule tests cap every query at 10,000 samples; a subquery \
             over per-pool series loads pools × steps × selectors: use a coarser step"
        } else {
            ""
        };
        anyhow::anyhow!(
            "promtool test rules {} did not run as expected:\n{}{hint}",
            test.display(),
            text.join("\n")
        )
    };
    if !matches!(out.status.code(), Some(0 | 1)) {
        return Err(unexpected());
    }
    let mut active = Vec::new();
    let mut failures = false;
    for line in stdout.lines().chain(stderr.lines()).map(str::trim) {
        if line.starts_with("FAILED:") {
            failures = true;
        } else if let Some(got) = line.strip_prefix("got:") {
            for (labels, t) in parse_got(got).ok_or_else(unexpected)? {
                let state = match labels.get("alertstate").map(String::as_str) {
                    Some("firing") => State::Firing,
                    Some("pending") => State::Pending,
                    _ => return Err(unexpected()),
                };
                let name = labels.get("alertname").cloned().ok_or_else(unexpected)?;
                active.push((name, t, state));
            }
        } else if failures
            && !line.is_empty()
            && !line.starts_with("expr:")
            && !line.starts_with("exp:")
        {
            return Err(unexpected());
        }
    }
    if out.status.code() == Some(1) && active.is_empty() {
        return Err(unexpected());
    }
    Ok(active)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn promtool_vectors_parse() {
        let got = parse_got(
            r#" {alertname="High", alertstate="pending", pod="a \"b\""} 1.2E+02, {alertname="Low", alertstate="firing"} 1.8E+02"#,
        )
        .unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].0["pod"], "a \"b\"");
        assert_eq!(got[0].1, 120.0);
        assert_eq!(got[1].0["alertstate"], "firing");
        assert!(parse_got("nonsense").is_none());
    }
}
