//! The grid of a sweep: `--set KEY=VALUES` options parsed into axes, and
//! scenario text with a point's values written in at their dotted paths.
//!
//! Values take the units of the file: integers (`4..12`, `4..12:2`),
//! numbers (`0.1..0.5:0.1`), durations (`"10s..60s:10s"`) and rates
//! (`1000/s..3000/s:500/s`), or a list (`4,6,10`). Values are set on the
//! parsed TOML table and the text re-serialised; validation then checks
//! them as it checks any file.

use crate::engine::SimTime;
use crate::scenario::overrides::key_path::{set, steps};
pub use crate::scenario::overrides::value::Kind;
use crate::scenario::overrides::value::{Value, common_kind, expected};
use serde::{Deserialize, Serialize};
use std::fmt;

/// Most values along one axis, and grid points in all.
const MAX_VALUES: usize = 10_000;

/// One `--set`: a key path and the values it takes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Axis {
    /// The option as given: `pool.max=4..12`.
    pub set: String,
    /// The dotted key path: `pool.max`, `versions."v2.3.1".job.fan_out`,
    /// `alerts[0].threshold`.
    pub path: String,
    /// The kind of its values.
    pub kind: Kind,
    /// The values in stored units (seconds for durations, per second for
    /// rates), in the order given.
    pub values: Vec<f64>,
}

/// A usage problem with a `--set` option.
#[derive(Debug, PartialEq, Eq)]
pub struct SetError(pub String);

impl fmt::Display for SetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for SetError {}

/// Parse one `--set KEY=VALUES`.
pub fn parse_set(option: &str) -> Result<Axis, SetError> {
    let fail = |message: String| SetError(format!("--set {option}: {message}"));
    let Some((path, spec)) = option.split_once('=') else {
        return Err(fail(
            "expected KEY=VALUES, as in pool.max=4..12 or traffic.rate=1000/s..3000/s:500/s".into(),
        ));
    };
    let path = path.trim();
    steps(path).map_err(fail)?;
    if path == "meta.seed" {
        return Err(fail(
            "expected a model setting, found the seed (use --replications and --seed)".into(),
        ));
    }
    let (kind, values) = if let Some((start, rest)) = spec.split_once("..") {
        let (end, step) = match rest.split_once(':') {
            Some((end, step)) => (end, Some(step)),
            None => (rest, None),
        };
        range(start, end, step).map_err(fail)?
    } else {
        let values: Vec<Value> = spec
            .split(',')
            .map(|v| Value::parse(v).map_err(expected))
            .collect::<Result<_, _>>()
            .map_err(fail)?;
        let kind = common_kind(&values).map_err(fail)?;
        (kind, values.iter().map(|v| v.stored()).collect())
    };
    if values.len() > MAX_VALUES {
        return Err(fail(format!(
            "expected at most {MAX_VALUES} values, found {}",
            values.len()
        )));
    }
    Ok(Axis {
        set: option.to_owned(),
        path: path.to_owned(),
        kind,
        values,
    })
}

/// `start..end[:step]`: integers step by 1 unless told; other kinds need a
/// step. Values are `start + k·step` up to `end` (included when on a
/// step), rounded to 12 significant digits so that 0.1 + 0.2 reads 0.3.
fn range(start: &str, end: &str, step: Option<&str>) -> Result<(Kind, Vec<f64>), String> {
    let (a, b) = (
        Value::parse(start).map_err(expected)?,
        Value::parse(end).map_err(expected)?,
    );
    let step = match step {
        Some(s) => Value::parse(s).map_err(expected)?,
        None if common_kind(&[a, b])? == Kind::Integer => Value::Integer(1),
        None => {
            return Err(format!(
                "expected a step after the range, as in {start}..{end}:{start}"
            ));
        }
    };
    let kind = common_kind(&[a, b, step])?;
    let (a, b, step) = (a.stored(), b.stored(), step.stored());
    if step <= 0.0 {
        return Err(format!("expected a step above zero, found {step}"));
    }
    if b < a {
        return Err(format!(
            "expected an end at or above the start, found {a} > {b}"
        ));
    }
    let count = ((b - a) / step * (1.0 + 1e-12)).floor() as usize + 1;
    if count > MAX_VALUES {
        return Err(format!(
            "expected at most {MAX_VALUES} values, found {count}"
        ));
    }
    let values = (0..count).map(|k| round12(a + k as f64 * step)).collect();
    Ok((kind, values))
}

fn round12(v: f64) -> f64 {
    if v == 0.0 {
        return 0.0;
    }
    format!("{v:.11e}").parse().unwrap_or(v)
}

impl Axis {
    /// The TOML value of value `i`, in the file's units.
    fn toml_value(&self, i: usize) -> toml::Value {
        self.kind.toml_value(self.values[i])
    }

    /// Value `i` for people: `4`, `0.2`, `10s`, `1500`.
    pub fn label(&self, i: usize) -> String {
        let v = self.values[i];
        match self.kind {
            Kind::Duration => SimTime::from_secs_f64(v).to_string(),
            _ => v.to_string(),
        }
    }

    /// The axis title: the key path, with the unit of [`label`](Self::label)
    /// for rates.
    pub fn title(&self) -> String {
        match self.kind {
            Kind::Rate => format!("{} (per second)", self.path),
            _ => self.path.clone(),
        }
    }
}

/// The grid: every combination of the axes' values, the first axis
/// varying slowest. `point(p)[a]` is the index into axis `a`'s values.
#[derive(Clone, Debug, PartialEq)]
pub struct Grid {
    /// The axes, in the order given.
    pub axes: Vec<Axis>,
}

impl Grid {
    /// Axes from `--set` options; each key once, at most
    /// [`MAX_VALUES`] points.
    pub fn new(axes: Vec<Axis>) -> Result<Grid, SetError> {
        for (i, a) in axes.iter().enumerate() {
            if axes[..i].iter().any(|b| b.path == a.path) {
                return Err(SetError(format!(
                    "--set {}: expected each key once, found {} twice",
                    a.set, a.path
                )));
            }
        }
        let grid = Grid { axes };
        if grid.size() > MAX_VALUES {
            return Err(SetError(format!(
                "expected a grid of at most {MAX_VALUES} points, found {}",
                grid.size()
            )));
        }
        Ok(grid)
    }

    /// Number of points.
    pub fn size(&self) -> usize {
        self.axes.iter().map(|a| a.values.len()).product()
    }

    /// The value index along each axis of point `p`.
    pub fn point(&self, p: usize) -> Vec<usize> {
        let mut rest = p;
        let mut out = vec![0; self.axes.len()];
        for (a, axis) in self.axes.iter().enumerate().rev() {
            out[a] = rest % axis.values.len();
            rest /= axis.values.len();
        }
        out
    }

    /// `table` with point `p`'s values set, as TOML text.
    pub fn source_at(&self, table: &toml::Table, p: usize) -> Result<String, SetError> {
        let mut table = table.clone();
        for (axis, i) in self.axes.iter().zip(self.point(p)) {
            let steps = steps(&axis.path).map_err(SetError)?;
            set(&mut table, &steps, axis.toml_value(i))
                .map_err(|m| SetError(format!("--set {}: {m}", axis.set)))?;
        }
        toml::to_string(&table).map_err(|e| SetError(format!("cannot write the scenario: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(option: &str) -> Vec<f64> {
        parse_set(option).unwrap().values
    }

    #[test]
    fn ranges_in_the_units_of_the_file() {
        assert_eq!(values("pool.max=4..8"), vec![4.0, 5.0, 6.0, 7.0, 8.0]);
        assert_eq!(values("pool.max=4..12:4"), vec![4.0, 8.0, 12.0]);
        assert_eq!(values("pool.max=4,6,10"), vec![4.0, 6.0, 10.0]);
        assert_eq!(
            values("traffic.rate=1000/s..3000/s:500/s"),
            vec![1000.0, 1500.0, 2000.0, 2500.0, 3000.0]
        );
        assert_eq!(
            values("pool.idle_timeout=10s..1m:25s"),
            vec![10.0, 35.0, 60.0]
        );
        assert_eq!(
            values("job.error_probability=0.1..0.5:0.1"),
            vec![0.1, 0.2, 0.3, 0.4, 0.5]
        );
        assert_eq!(parse_set("traffic.rate=120/min").unwrap().kind, Kind::Rate);
        assert_eq!(parse_set("x.y=1,2.5").unwrap().kind, Kind::Number);
    }

    #[test]
    fn bad_options_say_what_was_expected() {
        let err = |o: &str| parse_set(o).unwrap_err().0;
        assert_eq!(
            err("pool.max"),
            "--set pool.max: expected KEY=VALUES, as in pool.max=4..12 or traffic.rate=1000/s..3000/s:500/s"
        );
        assert!(
            err("pool.max=4..x").ends_with("found \"x\""),
            "{}",
            err("pool.max=4..x")
        );
        assert!(err("pool.max=8..4").contains("expected an end at or above the start"));
        assert!(err("traffic.rate=1/s..3/s").contains("expected a step"));
        assert!(err("pool.max=1..5:10s").ends_with("found an integer and a duration"));
        assert!(err("pool..max=1").contains("dotted key path"));
        assert!(err("pool.=1").contains("dotted key path"));
        assert!(err("meta.seed=1..3").contains("--replications"));
        assert!(err("pool.max=1..100000").contains("at most"));
    }

    #[test]
    fn a_set_does_not_add_a_job_a_sidecar_or_a_version() {
        let table: toml::Table =
            toml::from_str("[meta]\nname = \"x\"\n[versions.\"v2.3.0\".pool]\nmax = 2\n").unwrap();
        let at = |option: &str| {
            Grid::new(vec![parse_set(option).unwrap()])
                .unwrap()
                .source_at(&table, 0)
        };
        for (option, missing) in [
            ("job.fan_out=2", "found no [job]"),
            ("pooler.pool_size=5", "found no [pooler]"),
            ("versions.v9.pool.max=3", "found no [versions.\"v9\"]"),
        ] {
            let e = at(option).unwrap_err().0;
            assert!(e.contains(missing), "{e}");
        }
        // Tables with defaults, and a declared version's tables, are made.
        assert!(
            at("database.cpu_cores=4")
                .unwrap()
                .contains("cpu_cores = 4")
        );
        assert!(at("versions.\"v2.3.0\".job.fan_out=2").is_ok());
    }

    #[test]
    fn points_vary_the_last_axis_fastest_and_set_values_in_file_units() {
        let grid = Grid::new(vec![
            parse_set("pool.max=4,6").unwrap(),
            parse_set("traffic.rate=100/s..300/s:100/s").unwrap(),
            parse_set("pool.idle_timeout=1.5s,250ms").unwrap(),
        ])
        .unwrap();
        assert_eq!(grid.size(), 12);
        assert_eq!(grid.point(0), vec![0, 0, 0]);
        assert_eq!(grid.point(1), vec![0, 0, 1]);
        assert_eq!(grid.point(11), vec![1, 2, 1]);
        let table: toml::Table =
            toml::from_str("[meta]\nname = \"x\"\n[[alerts]]\nthreshold = 1\n").unwrap();
        let text = grid.source_at(&table, 11).unwrap();
        let back: toml::Table = toml::from_str(&text).unwrap();
        assert_eq!(back["pool"]["max"].as_integer(), Some(6));
        assert_eq!(back["traffic"]["rate"].as_str(), Some("300/s"));
        assert_eq!(back["pool"]["idle_timeout"].as_str(), Some("250ms"));
        let grid = Grid::new(vec![parse_set("alerts[3].threshold=1").unwrap()]).unwrap();
        assert!(
            grid.source_at(&table, 0)
                .unwrap_err()
                .0
                .contains("expected an index below 1")
        );
        let grid = Grid::new(vec![parse_set("meta.name.x=1").unwrap()]).unwrap();
        assert!(grid.source_at(&table, 0).is_err());
    }
}
