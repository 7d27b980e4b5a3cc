//! The run's time series as Prometheus would have scraped them: the metric
//! names and labels that exporters in the wild publish (postgres_exporter,
//! node-postgres pool gauges exposed through prom-client, RED request
//! metrics), with timestamps anchored at `meta.start` on a chosen date.
//!
//! [`Exporter`] turns the simulation's rows into samples and hands them to a
//! [`SampleOut`]: [`OpenMetricsOut`] writes the OpenMetrics text format
//! (`promtool tsdb create-blocks-from openmetrics` loads it), and
//! `pooldrill alerts` writes promtool rule-test input from the same samples.
//!
//! OpenMetrics wants every series' points together and every family's series
//! together, while a run produces one instant of every series at a time. The
//! series are therefore spooled ([`Spool`]: a few kilobytes in memory per
//! series, the rest in temporary files) and written family after family at
//! the end: memory grows with the number of series, never with the run's
//! length.

mod date;
mod exporter;
mod metric;
mod sample;
mod spool;
mod writer;

pub use date::{Date, rfc3339};
pub use exporter::{Exporter, run_epoch_ms};
pub use metric::{Kind, Metric};
pub use sample::{Sample, SampleOut, escape, format_value, le_value};
pub use spool::Spool;
pub use writer::{OpenMetricsOut, OpenMetricsSink};
