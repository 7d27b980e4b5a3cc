//! A run scored against the `[[observed]]` series: each observed point is
//! compared with the simulated column at the same time, over the points
//! whose interval lies inside the run.
//!
//! The simulated column is a step function: row `i`'s value holds over its
//! sample interval `(time_{i−1}, time_i]` (a count column as a rate per
//! second, a rate, percentile or gauge as it is). An observed point at `t`
//! stands for its own interval `(t − step, t]`, `step` being the gap to the
//! point before it (for the first point, the gap to the next one). When
//! that step is at least the sample interval, the simulated value is the
//! column's mean over the observed interval (so a 15-s Grafana series is
//! compared with 15-s means, not with one-second counts); when it is
//! shorter, the column is interpolated linearly between its samples. An
//! observed series equal to the simulated one therefore scores exactly 0.

use super::series::{IntervalHistograms, PodRow, SeriesRow, Sink};
use crate::scenario::observed::{ColumnKind, Observed};
use serde::Serialize;

/// Times closer than this (s) are the same instant.
const EPS: f64 = 1e-9;

/// One observed series against the run (`summary.json`'s `observed`).
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct ObservedScore {
    /// The compared `timeseries.csv` column.
    pub metric: String,
    /// The series' label.
    pub label: String,
    /// Observed points compared (those inside the run with a simulated value).
    pub n: usize,
    /// Root mean square of (observed − simulated); `null` when `n` = 0.
    pub rmse: Option<f64>,
    /// Mean absolute difference.
    pub mae: Option<f64>,
    /// Largest absolute difference.
    pub max_abs_diff: Option<f64>,
    /// Pearson correlation of observed and simulated; `null` with fewer than
    /// two points or a constant series.
    pub correlation: Option<f64>,
    /// Mean absolute observed value over the compared points (the scale of
    /// [`normalised_rmse`](Self::normalised_rmse)); not written.
    #[serde(skip)]
    pub observed_scale: f64,
}

impl ObservedScore {
    /// RMSE over the observed series' mean absolute value (the plain RMSE
    /// when that mean is 0); NaN when nothing was compared.
    pub fn normalised_rmse(&self) -> f64 {
        let rmse = self.rmse.unwrap_or(f64::NAN);
        if self.observed_scale > 0.0 {
            rmse / self.observed_scale
        } else {
            rmse
        }
    }
}

/// One simulated column: the end of each sample interval and the column's
/// value over it (`None` where the row has none, e.g. no answers).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Column {
    /// End of each sample interval (s).
    pub ends: Vec<f64>,
    /// The value over each interval.
    pub values: Vec<Option<f64>>,
}

/// The value of `metric` in `row` as `timeseries.csv` has it (a count as
/// the interval's count).
pub fn raw_value(row: &SeriesRow, metric: &str) -> Option<f64> {
    let n = |c: u64| Some(c as f64);
    match metric {
        "arrivals" => n(row.arrivals),
        "completed" => n(row.completed),
        "goodput" => n(row.goodput),
        "acquire_timeouts" => n(row.acquire_timeouts),
        "refusals" => n(row.refusals),
        "gave_up" => n(row.gave_up),
        "app_errors" => n(row.app_errors),
        "answered" => n(row.answered),
        "failed" => n(row.failed),
        "error_rate" => row.error_rate,
        "acquires" => n(row.acquires),
        "wait_p50_s" => row.wait_p50_s,
        "wait_p95_s" => row.wait_p95_s,
        "wait_p99_s" => row.wait_p99_s,
        "latency_p50_s" => row.latency_p50_s,
        "latency_p95_s" => row.latency_p95_s,
        "latency_p99_s" => row.latency_p99_s,
        "open_request_pools" => n(row.open_request_pools),
        "open_job_pools" => n(row.open_job_pools),
        "open_leaked" => n(row.open_leaked),
        "db_occupied" => n(row.db_occupied),
        "connecting" => n(row.connecting),
        "checked_out" => n(row.checked_out),
        "idle" => n(row.idle),
        "waiters" => n(row.waiters),
        "pools_starving" => n(row.pools_starving),
        "pool_utilisation_max" => Some(row.pool_utilisation_max),
        "starved_requests" => n(row.starved_requests),
        "starved_jobs" => n(row.starved_jobs),
        "job_runs" => n(row.job_runs),
        "leaked" => n(row.leaked),
        "leaked_cumulative" => n(row.leaked_cumulative),
        _ => None,
    }
}

/// The compared value of `observed`'s column in `row`, whose interval
/// lasted `interval_s`: a count per second, any other column as it is.
pub fn column_value(row: &SeriesRow, observed: &Observed, interval_s: f64) -> Option<f64> {
    let v = raw_value(row, &observed.metric)?;
    Some(match observed.kind {
        ColumnKind::Count => v / interval_s,
        ColumnKind::Level => v,
    })
}

/// A sink that keeps only the columns the observed series name, one
/// [`Column`] per series, as the rows go by.
#[derive(Clone, Debug, Default)]
pub struct ObservedSink {
    observed: Vec<Observed>,
    columns: Vec<Column>,
    last_end: f64,
}

impl ObservedSink {
    /// A sink for these series.
    pub fn new(observed: &[Observed]) -> ObservedSink {
        ObservedSink {
            observed: observed
                .iter()
                .map(|o| Observed {
                    points: Vec::new(),
                    ..o.clone()
                })
                .collect(),
            columns: vec![Column::default(); observed.len()],
            last_end: 0.0,
        }
    }

    /// The columns kept, in the series' order.
    pub fn columns(&self) -> &[Column] {
        &self.columns
    }

    /// Score the run against `observed` (the series this sink was made for).
    pub fn scores(&self, observed: &[Observed]) -> Vec<ObservedScore> {
        observed
            .iter()
            .zip(&self.columns)
            .map(|(o, c)| score(o, c))
            .collect()
    }
}

impl Sink for ObservedSink {
    fn series(&mut self, row: &SeriesRow, _: IntervalHistograms) -> std::io::Result<()> {
        let interval = row.time_s - self.last_end;
        self.last_end = row.time_s;
        for (observed, column) in self.observed.iter().zip(&mut self.columns) {
            column.ends.push(row.time_s);
            column.values.push(column_value(row, observed, interval));
        }
        Ok(())
    }
    fn pods(&mut self, _: &[PodRow]) -> std::io::Result<()> {
        Ok(())
    }
}

/// The column of `rows` compared with `observed`, as [`ObservedSink`]
/// keeps it.
pub fn column_of(rows: &[SeriesRow], observed: &Observed) -> Column {
    let mut previous = 0.0;
    let mut column = Column::default();
    for row in rows {
        column.ends.push(row.time_s);
        column
            .values
            .push(column_value(row, observed, row.time_s - previous));
        previous = row.time_s;
    }
    column
}

/// The simulated value compared with an observed point at `t` standing for
/// `(t − step, t]`; `None` outside the run or where the column has no value.
pub fn simulated_at(column: &Column, t: f64, step: f64) -> Option<f64> {
    let ends = &column.ends;
    let last = *ends.last()?;
    if t > last + EPS || t - step < -EPS {
        return None;
    }
    // The row whose interval holds t.
    let i = ends.partition_point(|&e| e < t - EPS);
    let start = |k: usize| if k == 0 { 0.0 } else { ends[k - 1] };
    let interval = ends[i] - start(i);
    if step + EPS >= interval {
        mean_over(column, t - step, t)
    } else if (ends[i] - t).abs() <= EPS || i == 0 {
        column.values[i]
    } else {
        let (t0, t1) = (ends[i - 1], ends[i]);
        let (v0, v1) = (column.values[i - 1]?, column.values[i]?);
        Some(v0 + (v1 - v0) * (t - t0) / (t1 - t0))
    }
}

/// The time-weighted mean of the step function over `(from, to]`, skipping
/// rows without a value; a row covering the whole span gives its value
/// exactly.
fn mean_over(column: &Column, from: f64, to: f64) -> Option<f64> {
    let ends = &column.ends;
    let first = ends.partition_point(|&e| e <= from + EPS);
    let (mut sum, mut weight) = (0.0, 0.0);
    let mut only: Option<f64> = None;
    let mut rows = 0;
    for k in first..ends.len() {
        let start = if k == 0 { 0.0 } else { ends[k - 1] };
        if start >= to - EPS {
            break;
        }
        let overlap = ends[k].min(to) - start.max(from);
        let Some(v) = column.values[k] else { continue };
        if overlap > EPS {
            sum += v * overlap;
            weight += overlap;
            only = Some(v);
            rows += 1;
        }
    }
    match rows {
        0 => None,
        1 => only,
        _ => Some(sum / weight),
    }
}

/// Score `observed` against the simulated `column`.
pub fn score(observed: &Observed, column: &Column) -> ObservedScore {
    let pairs: Vec<(f64, f64)> = compared(&observed.points, column);
    let n = pairs.len();
    let diffs: Vec<f64> = pairs.iter().map(|(o, s)| o - s).collect();
    let of_n = |x: f64| (n > 0).then_some(x);
    let nf = n as f64;
    let mse = diffs.iter().map(|d| d * d).sum::<f64>() / nf;
    ObservedScore {
        metric: observed.metric.clone(),
        label: observed.label.clone(),
        n,
        rmse: of_n(mse.sqrt()),
        mae: of_n(diffs.iter().map(|d| d.abs()).sum::<f64>() / nf),
        max_abs_diff: of_n(diffs.iter().fold(0.0, |m: f64, d| m.max(d.abs()))),
        correlation: correlation(&pairs),
        observed_scale: if n > 0 {
            pairs.iter().map(|(o, _)| o.abs()).sum::<f64>() / nf
        } else {
            0.0
        },
    }
}

/// (observed, simulated) at every observed point the run covers.
pub fn compared(points: &[(f64, f64)], column: &Column) -> Vec<(f64, f64)> {
    let fallback_step = match points {
        [a, b, ..] => b.0 - a.0,
        _ => column.ends.first().copied().unwrap_or(1.0),
    };
    points
        .iter()
        .enumerate()
        .filter_map(|(j, &(t, v))| {
            let step = if j == 0 {
                fallback_step
            } else {
                t - points[j - 1].0
            };
            simulated_at(column, t, step).map(|s| (v, s))
        })
        .collect()
}

/// Pearson's correlation of the pairs.
fn correlation(pairs: &[(f64, f64)]) -> Option<f64> {
    if pairs.len() < 2 {
        return None;
    }
    let n = pairs.len() as f64;
    let (mx, my) = pairs
        .iter()
        .fold((0.0, 0.0), |(x, y), (a, b)| (x + a / n, y + b / n));
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (a, b) in pairs {
        sxy += (a - mx) * (b - my);
        sxx += (a - mx) * (a - mx);
        syy += (b - my) * (b - my);
    }
    (sxx > 0.0 && syy > 0.0).then(|| sxy / (sxx * syy).sqrt())
}

/// The fit score of a run: the mean over the series of their normalised
/// RMSE (docs/own-incident.md#the-fit-score).
pub fn fit_score(scores: &[ObservedScore]) -> f64 {
    let n = scores.len() as f64;
    scores
        .iter()
        .map(ObservedScore::normalised_rmse)
        .sum::<f64>()
        / n
}

#[cfg(test)]
mod tests {
    use super::*;

    fn observed(points: Vec<(f64, f64)>) -> Observed {
        named("db_occupied", ColumnKind::Level, points)
    }

    fn named(metric: &str, kind: ColumnKind, points: Vec<(f64, f64)>) -> Observed {
        Observed {
            metric: metric.into(),
            kind,
            file: "c.csv".into(),
            label: "connections".into(),
            points,
        }
    }

    fn column(step: f64, values: &[f64]) -> Column {
        Column {
            ends: (1..=values.len()).map(|i| i as f64 * step).collect(),
            values: values.iter().map(|&v| Some(v)).collect(),
        }
    }

    #[test]
    fn every_observable_column_is_read() {
        use crate::scenario::observed::OBSERVABLE;
        let row = SeriesRow {
            error_rate: Some(0.1),
            wait_p50_s: Some(0.1),
            wait_p95_s: Some(0.1),
            wait_p99_s: Some(0.1),
            latency_p50_s: Some(0.1),
            latency_p95_s: Some(0.1),
            latency_p99_s: Some(0.1),
            ..SeriesRow::default()
        };
        for (name, _) in OBSERVABLE {
            assert!(raw_value(&row, name).is_some(), "{name}");
        }
        assert_eq!(raw_value(&row, "time_s"), None);
    }

    #[test]
    fn the_simulated_series_itself_scores_exactly_zero() {
        let c = column(1.0, &[0.1, 0.7, 3.3, 2.9, 0.3]);
        let points = c.ends.iter().zip(&c.values).map(|(t, v)| (*t, v.unwrap()));
        let s = score(&observed(points.collect()), &c);
        assert_eq!(s.n, 5);
        assert_eq!(
            (s.rmse, s.mae, s.max_abs_diff),
            (Some(0.0), Some(0.0), Some(0.0))
        );
        assert!((s.correlation.unwrap() - 1.0).abs() < 1e-12);
    }

    #[test]
    fn a_coarser_observed_step_is_compared_with_the_mean_over_it() {
        let c = column(1.0, &[1.0, 3.0, 5.0, 7.0]);
        assert_eq!(simulated_at(&c, 2.0, 2.0), Some(2.0));
        assert_eq!(simulated_at(&c, 4.0, 2.0), Some(6.0));
        assert_eq!(simulated_at(&c, 4.0, 4.0), Some(4.0));
        assert_eq!(simulated_at(&c, 5.0, 2.0), None, "past the run");
    }

    #[test]
    fn a_finer_observed_step_interpolates_between_samples() {
        let c = column(10.0, &[10.0, 20.0]);
        assert_eq!(simulated_at(&c, 15.0, 5.0), Some(15.0));
        assert_eq!(simulated_at(&c, 20.0, 5.0), Some(20.0));
        assert_eq!(simulated_at(&c, 5.0, 5.0), Some(10.0));
    }

    #[test]
    fn known_offsets_give_the_known_errors() {
        let c = column(1.0, &[1.0, 1.0, 1.0, 1.0]);
        let s = score(
            &observed(vec![(1.0, 2.0), (2.0, 0.0), (3.0, 4.0), (4.0, 1.0)]),
            &c,
        );
        // Differences 1, −1, 3, 0.
        assert_eq!(s.n, 4);
        assert_eq!(s.rmse, Some((11.0f64 / 4.0).sqrt()));
        assert_eq!(s.mae, Some(5.0 / 4.0));
        assert_eq!(s.max_abs_diff, Some(3.0));
        assert_eq!(s.correlation, None, "the simulated series is constant");
        assert_eq!(s.normalised_rmse(), (11.0f64 / 4.0).sqrt() / (7.0 / 4.0));
    }

    #[test]
    fn counts_are_compared_per_second_and_missing_values_skipped() {
        let row = |t: f64, arrivals: u64, error_rate: Option<f64>| SeriesRow {
            time_s: t,
            arrivals,
            error_rate,
            ..SeriesRow::default()
        };
        let rows = [row(15.0, 30, None), row(30.0, 45, Some(0.5))];
        let arrivals = column_of(&rows, &named("arrivals", ColumnKind::Count, vec![]));
        assert_eq!(arrivals.values, [Some(2.0), Some(3.0)]);
        let error_rate = named(
            "error_rate",
            ColumnKind::Level,
            vec![(15.0, 1.0), (30.0, 0.5)],
        );
        let errors = column_of(&rows, &error_rate);
        assert_eq!(simulated_at(&errors, 15.0, 15.0), None);
        assert_eq!(simulated_at(&errors, 30.0, 30.0), Some(0.5));
        let s = score(&error_rate, &errors);
        assert_eq!((s.n, s.rmse), (1, Some(0.0)));
    }
}
