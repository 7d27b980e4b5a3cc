//! Reports: the output folder, CSV and JSON files, the terminal summary.

pub mod charts;
pub mod csv_sink;
pub mod html;
pub mod markdown;
pub mod openmetrics;
pub mod output;
pub mod terminal;

pub use csv_sink::CsvSink;
pub use openmetrics::{Date, OpenMetricsSink};
pub use output::OutputDir;
