//! A sink that keeps what the charts need while a simulation runs.

use super::data::{RunSeries, WAIT_BUCKET_BOUNDS_S};
use crate::metrics::{IntervalHistograms, PodRow, SeriesRow, Sink};

/// The interval histogram keeps 2 significant digits: a recorded value can
/// read up to 1/128 above itself. Bounds are widened by that much so that a
/// 5 s acquire timeout falls in the "≤ 5 s" bucket, not the one above.
const HISTOGRAM_SLACK: f64 = 1.0 + 1.0 / 128.0;

/// Keeps series rows, pod rows and per-row acquire-wait bucket counts.
#[derive(Clone, Debug, Default)]
pub struct ChartSink {
    /// The series rows in order.
    pub rows: Vec<SeriesRow>,
    /// Per row: counts per bucket of [`WAIT_BUCKET_BOUNDS_S`] plus overflow.
    pub wait_buckets: Vec<Vec<u64>>,
    /// The pod rows in order.
    pub pods: Vec<PodRow>,
}

impl ChartSink {
    /// The kept rows as a run of one replication; everything else (names,
    /// capacities, markers, regions, clock) is left at its default for the
    /// caller to fill.
    pub fn into_run(self) -> RunSeries {
        RunSeries {
            replications: 1,
            rows: self.rows,
            wait_buckets: self.wait_buckets,
            pods: self.pods,
            ..RunSeries::default()
        }
    }
}

impl Sink for ChartSink {
    fn series(&mut self, row: &SeriesRow, hists: IntervalHistograms) -> std::io::Result<()> {
        let bounds: Vec<f64> = WAIT_BUCKET_BOUNDS_S
            .iter()
            .map(|b| b * HISTOGRAM_SLACK)
            .collect();
        self.rows.push(row.clone());
        self.wait_buckets.push(hists.waits.bucket_counts(&bounds));
        Ok(())
    }

    fn pods(&mut self, rows: &[PodRow]) -> std::io::Result<()> {
        self.pods.extend_from_slice(rows);
        Ok(())
    }
}
