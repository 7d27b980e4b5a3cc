//! `replications.csv`: every replication's KPI values, one row each,
//! behind identifying columns (arm or grid point, replication, seed). Values
//! are written so that they read back bit for bit, which is what lets
//! `pooldrill merge` recombine shards into exactly one run's files.

use super::number;
use crate::replicate::comparison::Comparison;
use anyhow::{Context, Result, bail, ensure};

/// Rows of identifiers and KPI values.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ReplicationTable {
    /// Names of the identifying columns.
    pub id_columns: Vec<String>,
    /// KPI ids, one column each after the identifiers.
    pub kpis: Vec<String>,
    /// The rows: identifiers as text, values (NaN: no value).
    pub rows: Vec<(Vec<String>, Vec<f64>)>,
}

impl ReplicationTable {
    /// The CSV text.
    pub fn to_csv(&self) -> Result<Vec<u8>> {
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record(self.id_columns.iter().chain(&self.kpis))?;
        for (ids, values) in &self.rows {
            let values = values.iter().map(|v| number(*v));
            w.write_record(ids.iter().cloned().chain(values))?;
        }
        w.into_inner().context("writing replications.csv")
    }

    /// Read `text` (the file `name`), which must have exactly these
    /// identifying and KPI columns.
    pub fn from_csv(
        text: &[u8],
        name: &str,
        id_columns: &[String],
        kpis: &[String],
    ) -> Result<ReplicationTable> {
        let mut r = csv::ReaderBuilder::new().from_reader(text);
        let header: Vec<String> = r
            .headers()
            .with_context(|| format!("{name}:1: cannot read the header"))?
            .iter()
            .map(str::to_owned)
            .collect();
        let expected: Vec<String> = id_columns.iter().chain(kpis).cloned().collect();
        ensure!(
            header == expected,
            "{name}:1: expected the columns {}, found {}",
            expected.join(","),
            header.join(",")
        );
        let mut rows = Vec::new();
        for record in r.records() {
            let record = record.with_context(|| format!("{name}: malformed CSV"))?;
            let line = record.position().map_or(0, |p| p.line());
            let ids = record.iter().take(id_columns.len()).map(str::to_owned);
            let mut values = Vec::with_capacity(kpis.len());
            for (cell, column) in record.iter().skip(id_columns.len()).zip(kpis) {
                values.push(if cell.is_empty() {
                    f64::NAN
                } else {
                    // A run writes no value as an empty cell, never NaN or
                    // infinity: those come from an edited or damaged file.
                    match cell.parse::<f64>() {
                        Ok(v) if v.is_finite() => v,
                        Ok(_) => bail!(
                            "{name}:{line}: {column}: expected a finite number (or an empty cell for no value), found \"{cell}\""
                        ),
                        Err(_) => {
                            bail!("{name}:{line}: {column}: expected a number, found \"{cell}\"")
                        }
                    }
                });
            }
            rows.push((ids.collect(), values));
        }
        Ok(ReplicationTable {
            id_columns: id_columns.to_vec(),
            kpis: kpis.to_vec(),
            rows,
        })
    }
}

/// The replications of a comparison: arm, replication, seed, then KPIs.
pub fn comparison(c: &Comparison) -> ReplicationTable {
    let mut rows = Vec::new();
    for (a, arm) in c.arms.iter().enumerate() {
        let values: Vec<Vec<f64>> = (0..c.kpis.len()).map(|k| c.values(k, a)).collect();
        for (i, run) in arm.runs.iter().enumerate() {
            rows.push((
                vec![arm.name.clone(), i.to_string(), run.seed.to_string()],
                values.iter().map(|v| v[i]).collect(),
            ));
        }
    }
    ReplicationTable {
        id_columns: ["arm", "replication", "seed"].map(String::from).to_vec(),
        kpis: c.kpis.iter().map(|k| k.id.clone()).collect(),
        rows,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_read_back_bit_for_bit() {
        let values = vec![0.1 + 0.2, 1.0 / 3.0, f64::NAN, 1e-12, 123456789.125];
        let t = ReplicationTable {
            id_columns: vec!["arm".into()],
            kpis: (0..values.len()).map(|i| format!("k{i}")).collect(),
            rows: vec![(vec!["a, with comma".into()], values.clone())],
        };
        let text = t.to_csv().unwrap();
        let back = ReplicationTable::from_csv(&text, "x.csv", &t.id_columns, &t.kpis).unwrap();
        assert_eq!(back.rows[0].0, t.rows[0].0);
        for (a, b) in back.rows[0].1.iter().zip(&values) {
            assert!(a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan()));
        }
        assert_eq!(back.to_csv().unwrap(), text);
    }

    #[test]
    fn a_bad_cell_names_the_line_and_column() {
        let ids = vec!["point".to_owned()];
        let kpis = vec!["error_rate".to_owned()];
        let text = b"point,error_rate\n0,0.1\n1,abc\n";
        let e = ReplicationTable::from_csv(text, "r.csv", &ids, &kpis).unwrap_err();
        assert_eq!(
            e.to_string(),
            "r.csv:3: error_rate: expected a number, found \"abc\""
        );
        let e = ReplicationTable::from_csv(b"a,b\n", "r.csv", &ids, &kpis).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("r.csv:1: expected the columns point,error_rate")
        );
    }
}
