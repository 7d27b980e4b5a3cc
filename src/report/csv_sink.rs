//! `timeseries.csv` and `pods.csv`, written row by row as the run produces
//! them (memory stays flat however long the run).

use crate::metrics::{IntervalHistograms, LogEntry, PodRow, SeriesRow, Sink};
use std::fs::File;
use std::io::BufWriter;

/// Streams rows into three CSV writers.
pub struct CsvSink {
    series: csv::Writer<BufWriter<File>>,
    pods: csv::Writer<BufWriter<File>>,
    events: csv::Writer<BufWriter<File>>,
}

impl CsvSink {
    /// Write series rows to `series`, pod rows to `pods` and the event log
    /// to `events`.
    pub fn new(series: BufWriter<File>, pods: BufWriter<File>, events: BufWriter<File>) -> CsvSink {
        CsvSink {
            series: csv::Writer::from_writer(series),
            pods: csv::Writer::from_writer(pods),
            events: csv::Writer::from_writer(events),
        }
    }

    /// Flush every file.
    pub fn finish(mut self) -> std::io::Result<()> {
        self.series.flush()?;
        self.pods.flush()?;
        self.events.flush()
    }
}

fn io(e: csv::Error) -> std::io::Error {
    match e.into_kind() {
        csv::ErrorKind::Io(e) => e,
        other => std::io::Error::other(format!("{other:?}")),
    }
}

impl Sink for CsvSink {
    fn series(&mut self, row: &SeriesRow, _: IntervalHistograms) -> std::io::Result<()> {
        self.series.serialize(row).map_err(io)
    }
    fn pods(&mut self, rows: &[PodRow]) -> std::io::Result<()> {
        for row in rows {
            self.pods.serialize(row).map_err(io)?;
        }
        Ok(())
    }
    fn event(&mut self, entry: &LogEntry) -> std::io::Result<()> {
        self.events.serialize(entry).map_err(io)
    }
}
