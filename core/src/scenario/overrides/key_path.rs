//! Key paths of a `--set` (`versions."v2.3.0".pool.max`, `alerts[1].threshold`):
//! split into steps, and a value set at one in the parsed TOML table.

/// One step of a key path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// A table's key.
    Key(String),
    /// A list's index.
    Index(usize),
}

/// Split `a."b.c"[2].d` into steps.
pub fn steps(path: &str) -> Result<Vec<Step>, String> {
    let bad = || format!("expected a dotted key path like pool.max, found \"{path}\"");
    if path.starts_with('.') || path.ends_with('.') {
        return Err(bad());
    }
    let mut out = Vec::new();
    let mut chars = path.chars().peekable();
    let mut key = String::new();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                for q in chars.by_ref() {
                    if q == '"' {
                        break;
                    }
                    key.push(q);
                }
                quoted = true;
            }
            '.' | '[' => {
                if !key.is_empty() || quoted {
                    out.push(Step::Key(std::mem::take(&mut key)));
                    quoted = false;
                } else if c == '.' && !matches!(out.last(), Some(Step::Index(_))) {
                    return Err(bad());
                }
                if c == '[' {
                    let digits: String = chars.by_ref().take_while(|&d| d != ']').collect();
                    out.push(Step::Index(digits.parse().map_err(|_| bad())?));
                }
            }
            c if c.is_alphanumeric() || c == '_' || c == '-' => key.push(c),
            _ => return Err(bad()),
        }
    }
    if !key.is_empty() || quoted {
        out.push(Step::Key(key));
    }
    if !matches!(out.last(), Some(Step::Key(_))) {
        return Err(bad());
    }
    Ok(out)
}

/// Set `value` at `steps` in `table`, creating missing tables.
pub fn set(table: &mut toml::Table, steps: &[Step], value: toml::Value) -> Result<(), String> {
    let (last, parents) = steps.split_last().expect("a path has a step");
    let mut here = Here::Table(table);
    let mut walked = String::new();
    for step in parents {
        here = here.child(step, &mut walked)?;
    }
    match (here, last) {
        (Here::Table(t), Step::Key(k)) => {
            t.insert(k.clone(), value);
            Ok(())
        }
        _ => Err(format!(
            "expected a table at {walked}, found something else"
        )),
    }
}

/// The table at `steps` in `table`, if there is one.
pub fn table_at<'a>(table: &'a mut toml::Table, steps: &[Step]) -> Option<&'a mut toml::Table> {
    let mut here = table;
    for step in steps {
        let Step::Key(k) = step else {
            return None;
        };
        here = here.get_mut(k)?.as_table_mut()?;
    }
    Some(here)
}

/// Why a `--set` may not create the table `key` under `parent` (a dotted
/// path, empty at the top): a job, a sidecar or a version is there only if
/// the file says so, and a sweep varies the scenario, it does not add to
/// it. Tables with defaults (`[pool]`, `[database]`…) are created freely.
fn missing_feature(parent: &str, key: &str) -> Option<String> {
    match (parent, key) {
        ("", "job") => Some(
            "no [job] (the scenario has no background job to vary: add a [job] table to the file first)"
                .into(),
        ),
        ("", "pooler") => Some(
            "no [pooler] (setting its keys would add a sidecar: add a [pooler] table to the file first)"
                .into(),
        ),
        ("", "versions") => {
            Some("no [versions] (a sweep varies only the versions the file declares)".into())
        }
        ("versions", _) => Some(format!(
            "no [versions.\"{key}\"] (a sweep varies only the versions the file declares)"
        )),
        _ => None,
    }
}

/// Where a path walk stands.
enum Here<'a> {
    Table(&'a mut toml::Table),
    Array(&'a mut Vec<toml::Value>),
}

impl<'a> Here<'a> {
    fn child(self, step: &Step, walked: &mut String) -> Result<Here<'a>, String> {
        let at = walked.clone();
        match step {
            Step::Key(k) => {
                if !walked.is_empty() {
                    walked.push('.');
                }
                walked.push_str(k);
            }
            Step::Index(i) => walked.push_str(&format!("[{i}]")),
        }
        let value = match (self, step) {
            (Here::Table(t), Step::Key(k)) => {
                if !t.contains_key(k)
                    && let Some(missing) = missing_feature(&at, k)
                {
                    return Err(format!("expected a table the file has, found {missing}"));
                }
                t.entry(k.clone())
                    .or_insert_with(|| toml::Value::Table(toml::Table::new()))
            }
            (Here::Array(items), Step::Index(i)) => {
                let n = items.len();
                items
                    .get_mut(*i)
                    .ok_or_else(|| format!("expected an index below {n} at {at}, found [{i}]"))?
            }
            (Here::Table(_), Step::Index(_)) => {
                return Err(format!("expected a list at {at}, found a table"));
            }
            (Here::Array(_), Step::Key(_)) => {
                return Err(format!("expected a table at {at}, found a list"));
            }
        };
        match value {
            toml::Value::Table(t) => Ok(Here::Table(t)),
            toml::Value::Array(a) => Ok(Here::Array(a)),
            _ => Err(format!("expected a table at {walked}, found a value")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn paths_with_quotes_and_indexes() {
        assert_eq!(
            steps("versions.\"v2.3.1\".job.fan_out").unwrap(),
            vec![
                Step::Key("versions".into()),
                Step::Key("v2.3.1".into()),
                Step::Key("job".into()),
                Step::Key("fan_out".into())
            ]
        );
        assert_eq!(
            steps("alerts[1].threshold").unwrap(),
            vec![
                Step::Key("alerts".into()),
                Step::Index(1),
                Step::Key("threshold".into())
            ]
        );
        assert!(steps("alerts[1]").is_err());
    }
}
