//! Reports: the output folder, CSV and JSON files, the terminal summary.

pub mod bands;
pub mod charts;
pub mod csv_sink;
pub mod figures;
pub mod fit_table;
pub mod html;
pub mod kpi_table;
pub mod markdown;
pub mod openmetrics;
pub mod output;
pub mod output_file;
pub mod plan;
pub mod replicated;
pub mod replications_csv;
pub mod retry_storm;
pub mod staging;
pub mod sweep_charts;
pub mod sweep_table;
pub mod terminal;
pub mod windows;

pub use csv_sink::CsvSink;
pub use openmetrics::{Date, OpenMetricsSink};
pub use output::OutputDir;
pub use output_file::OutputFile;

/// A number in a CSV file: the shortest text that reads back as exactly
/// the same `f64` (so files can be merged without drift); empty for NaN.
pub fn number(v: f64) -> String {
    if v.is_nan() {
        String::new()
    } else {
        v.to_string()
    }
}
