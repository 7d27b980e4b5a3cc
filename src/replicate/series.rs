//! The key time series of a comparison, binned as a run produces them:
//! open connections, the error rate and the mean acquire wait. About 120
//! bins per run keep memory flat and make the band across replications
//! readable (a one-second error rate is mostly noise).

use crate::metrics::{IntervalHistograms, PodRow, SeriesRow, Sink};
use crate::scenario::Scenario;
use crate::stats::Estimate;

/// Bins per run, about.
const BINS: u64 = 120;

/// The series drawn with bands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeySeries {
    /// Application backends holding a server slot (mean over the bin).
    OpenConnections,
    /// Client-visible failures / outcomes over the bin.
    ErrorRate,
    /// Mean acquire wait over the acquires that ended in the bin (s).
    AcquireWait,
}

impl KeySeries {
    /// Every key series, in chart order.
    pub const ALL: [KeySeries; 3] = [
        KeySeries::OpenConnections,
        KeySeries::ErrorRate,
        KeySeries::AcquireWait,
    ];

    /// Identifier: file stem and CSV value.
    pub fn id(self) -> &'static str {
        match self {
            KeySeries::OpenConnections => "open-connections",
            KeySeries::ErrorRate => "error-rate",
            KeySeries::AcquireWait => "acquire-wait",
        }
    }

    /// What the chart shows.
    pub fn title(self) -> &'static str {
        match self {
            KeySeries::OpenConnections => "Open connections",
            KeySeries::ErrorRate => "Error rate (client view)",
            KeySeries::AcquireWait => "Mean acquire wait",
        }
    }

    /// The y axis title, with the unit charts use.
    pub fn y_title(self) -> &'static str {
        match self {
            KeySeries::OpenConnections => "application backends (connections)",
            KeySeries::ErrorRate => "error rate (%)",
            KeySeries::AcquireWait => "mean acquire wait (ms)",
        }
    }

    /// The factor from stored values to chart units.
    pub fn display_factor(self) -> f64 {
        match self {
            KeySeries::OpenConnections => 1.0,
            KeySeries::ErrorRate => 100.0,
            KeySeries::AcquireWait => 1e3,
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// One run's key series: `values[series][bin]`, NaN where a bin has no
/// data (no answers, no acquires).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Binned {
    /// End of each bin (s).
    pub time_s: Vec<f64>,
    /// Per key series (in [`KeySeries::ALL`] order), one value per bin.
    pub values: [Vec<f64>; 3],
}

impl Binned {
    /// The values of `series`.
    pub fn of(&self, series: KeySeries) -> &[f64] {
        &self.values[series.index()]
    }
}

/// Sums over the rows of the current bin.
#[derive(Clone, Copy, Debug, Default)]
struct Bin {
    rows: u64,
    open: f64,
    answered: u64,
    failed: u64,
    acquires: u64,
    wait_sum_s: f64,
    end_s: f64,
}

/// A sink that keeps only the binned key series.
pub struct BinSink {
    rows_per_bin: u64,
    bin: Bin,
    out: Binned,
}

impl BinSink {
    /// A sink for a run of `scenario`, about [`BINS`] bins long.
    pub fn new(scenario: &Scenario) -> BinSink {
        let rows = scenario.duration.0 / scenario.sample_interval.0.max(1);
        BinSink {
            rows_per_bin: rows.div_ceil(BINS).max(1),
            bin: Bin::default(),
            out: Binned::default(),
        }
    }

    fn close_bin(&mut self) {
        let b = std::mem::take(&mut self.bin);
        if b.rows == 0 {
            return;
        }
        let ratio = |num: f64, den: u64| if den > 0 { num / den as f64 } else { f64::NAN };
        self.out.time_s.push(b.end_s);
        let values = [
            b.open / b.rows as f64,
            ratio(b.failed as f64, b.answered),
            ratio(b.wait_sum_s, b.acquires),
        ];
        for (series, v) in self.out.values.iter_mut().zip(values) {
            series.push(v);
        }
    }

    /// The bins, the last one possibly partial.
    pub fn finish(mut self) -> Binned {
        self.close_bin();
        self.out
    }
}

impl Sink for BinSink {
    fn series(&mut self, row: &SeriesRow, _: IntervalHistograms) -> std::io::Result<()> {
        let b = &mut self.bin;
        b.rows += 1;
        b.open += (row.open_request_pools + row.open_job_pools + row.open_leaked) as f64;
        b.answered += row.answered;
        b.failed += row.failed;
        b.acquires += row.acquires;
        b.wait_sum_s += row.wait_sum_s;
        b.end_s = row.time_s;
        if b.rows == self.rows_per_bin {
            self.close_bin();
        }
        Ok(())
    }

    fn pods(&mut self, _: &[PodRow]) -> std::io::Result<()> {
        Ok(())
    }
}

/// The mean and confidence interval of `series` at each bin across `runs`
/// (which share their bins: same duration and sample interval), as
/// `(end of bin, estimate)`.
pub fn band(runs: &[&Binned], series: KeySeries, confidence: f64) -> Vec<(f64, Estimate)> {
    let Some(first) = runs.first() else {
        return Vec::new();
    };
    first
        .time_s
        .iter()
        .enumerate()
        .map(|(i, &t)| {
            let values: Vec<f64> = runs
                .iter()
                .map(|r| r.of(series).get(i).copied().unwrap_or(f64::NAN))
                .collect();
            (t, Estimate::from_replications(&values, confidence))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(t: f64, open: u64, answered: u64, failed: u64) -> SeriesRow {
        SeriesRow {
            time_s: t,
            open_request_pools: open,
            answered,
            failed,
            acquires: answered,
            wait_sum_s: 0.001 * answered as f64,
            ..SeriesRow::default()
        }
    }

    #[test]
    fn bins_sum_counts_and_average_gauges() {
        let mut sink = BinSink {
            rows_per_bin: 2,
            bin: Bin::default(),
            out: Binned::default(),
        };
        let h = crate::metrics::DurationHistogram::new(2);
        for (t, open, answered, failed) in [(1.0, 10, 100, 1), (2.0, 20, 100, 3), (3.0, 30, 0, 0)] {
            let hists = IntervalHistograms {
                waits: &h,
                latencies: &h,
            };
            sink.series(&row(t, open, answered, failed), hists).unwrap();
        }
        let b = sink.finish();
        assert_eq!(b.time_s, vec![2.0, 3.0]);
        assert_eq!(b.of(KeySeries::OpenConnections), &[15.0, 30.0]);
        assert_eq!(b.of(KeySeries::ErrorRate)[0], 0.02);
        assert!(b.of(KeySeries::ErrorRate)[1].is_nan());
        assert!((b.of(KeySeries::AcquireWait)[0] - 0.001).abs() < 1e-15);
    }
}
