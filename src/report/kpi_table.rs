//! The KPI table of a comparison (or of one replicated scenario): every
//! KPI's mean ± confidence half-width per arm, and each arm's paired
//! difference from the first, as a terminal table, `kpis.csv` and
//! `kpis.json`.

use super::number;
use crate::format::percent;
use crate::replicate::comparison::Comparison;
use crate::replicate::kpi::Kpi;
use crate::stats::Estimate;
use anyhow::{Context, Result};
use serde::Serialize;
use std::fmt::Write;

/// The table for a terminal.
pub fn terminal(c: &Comparison) -> String {
    let names: Vec<&str> = c.arms.iter().map(|a| a.name.as_str()).collect();
    let mut header = vec!["KPI".to_owned()];
    header.extend(names.iter().map(|n| n.to_string()));
    header.extend(names.iter().skip(1).map(|n| format!("{n} − {}", names[0])));
    let mut rows = vec![header];
    for (k, kpi) in c.kpis.iter().enumerate() {
        let mut row = vec![kpi.label.clone()];
        row.extend(
            c.estimates[k]
                .iter()
                .map(|e| kpi.unit.format_non_negative(e)),
        );
        let baseline = &c.estimates[k][0];
        let magnitude = baseline.mean.abs().max(baseline.half_width);
        row.extend(
            c.differences[k]
                .iter()
                .flatten()
                .map(|d| kpi.unit.format_estimate_like(d, true, magnitude)),
        );
        rows.push(row);
    }
    let columns = rows[0].len();
    let widths: Vec<usize> = (0..columns)
        .map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    let runs = if c.replications == 1 {
        "1 run".to_owned()
    } else {
        format!("{} replications", c.replications)
    };
    let seeds = if c.arms.len() > 1 {
        "replication i of every arm shares its seed"
    } else {
        "replication i derives its seed from (seed, i)"
    };
    let _ = writeln!(
        out,
        "{}: {runs}{}, seed {} ({seeds}); mean ± {} confidence interval",
        names.join(" vs "),
        if c.arms.len() > 1 { " per arm" } else { "" },
        c.seed,
        percent(c.confidence, 0)
    );
    for row in &rows {
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            let pad = widths[i] - cell.chars().count();
            if i == 0 {
                let _ = write!(line, "  {cell}{}", " ".repeat(pad));
            } else {
                let _ = write!(line, "  {}{cell}", " ".repeat(pad));
            }
        }
        let _ = writeln!(out, "{}", line.trim_end());
    }
    out
}

/// `kpis.csv`: one row per KPI and arm (long format); the difference
/// columns are empty on the baseline's rows.
pub fn csv(c: &Comparison) -> Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "kpi",
        "label",
        "unit",
        "arm",
        "n",
        "mean",
        "half_width",
        "lo",
        "hi",
        "std_dev",
        "diff_vs",
        "diff_n",
        "diff_mean",
        "diff_half_width",
    ])?;
    for (k, kpi) in c.kpis.iter().enumerate() {
        for (a, arm) in c.arms.iter().enumerate() {
            let e = &c.estimates[k][a];
            let diff = match &c.differences[k][a] {
                Some(d) => [
                    c.arms[0].name.clone(),
                    d.n.to_string(),
                    number(d.mean),
                    number(d.half_width),
                ],
                None => Default::default(),
            };
            w.write_record(
                [
                    kpi.id.clone(),
                    kpi.label.clone(),
                    kpi.unit.id().into(),
                    arm.name.clone(),
                    e.n.to_string(),
                    number(e.mean),
                    number(e.half_width),
                    number(e.lo()),
                    number(e.hi()),
                    number(e.std_dev),
                ]
                .into_iter()
                .chain(diff),
            )?;
        }
    }
    w.into_inner().context("writing kpis.csv")
}

fn estimate<'a>(arm: &'a str, minus: Option<&'a str>, e: &Estimate) -> JsonEstimate<'a> {
    JsonEstimate {
        arm,
        minus,
        estimate: *e,
        lo: e.lo(),
        hi: e.hi(),
    }
}

#[derive(Serialize)]
struct Json<'a> {
    tool: &'static str,
    version: &'static str,
    seed: u64,
    replications: u32,
    confidence: f64,
    arms: Vec<JsonArm<'a>>,
    kpis: Vec<JsonKpi<'a>>,
}

#[derive(Serialize)]
struct JsonArm<'a> {
    name: &'a str,
    file: &'a str,
    hash: &'a str,
    seeds: Vec<u64>,
}

#[derive(Serialize)]
struct JsonKpi<'a> {
    #[serde(flatten)]
    kpi: &'a Kpi,
    arms: Vec<JsonEstimate<'a>>,
    differences: Vec<JsonEstimate<'a>>,
}

#[derive(Serialize)]
struct JsonEstimate<'a> {
    arm: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    minus: Option<&'a str>,
    #[serde(flatten)]
    estimate: Estimate,
    lo: f64,
    hi: f64,
}

/// `kpis.json`: the same numbers, with the arms' files, hashes and seeds.
pub fn json(c: &Comparison) -> Vec<u8> {
    let doc = Json {
        tool: "pooldrill",
        version: env!("CARGO_PKG_VERSION"),
        seed: c.seed,
        replications: c.replications,
        confidence: c.confidence,
        arms: c
            .arms
            .iter()
            .map(|a| JsonArm {
                name: &a.name,
                file: &a.file,
                hash: &a.hash,
                seeds: a.runs.iter().map(|r| r.seed).collect(),
            })
            .collect(),
        kpis: c
            .kpis
            .iter()
            .enumerate()
            .map(|(k, kpi)| JsonKpi {
                kpi,
                arms: c
                    .arms
                    .iter()
                    .zip(&c.estimates[k])
                    .map(|(a, e)| estimate(&a.name, None, e))
                    .collect(),
                differences: c
                    .arms
                    .iter()
                    .zip(&c.differences[k])
                    .filter_map(|(a, d)| {
                        d.as_ref()
                            .map(|d| estimate(&a.name, Some(c.arms[0].name.as_str()), d))
                    })
                    .collect(),
            })
            .collect(),
    };
    let mut bytes = serde_json::to_vec_pretty(&doc).expect("serialisable");
    bytes.push(b'\n');
    bytes
}
