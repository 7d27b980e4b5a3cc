//! Streaming metrics: what the model writes to and the reports read from.

pub mod alerts;
pub mod buckets;
pub mod histogram;
pub mod level;
pub mod log_kind;
pub mod observed;
pub mod pooler;
pub mod recorder;
pub mod retry;
pub mod sections;
pub mod series;
pub mod summary;
pub mod tally;
pub mod targets;
pub mod window;
pub mod window_summary;
pub mod window_tally;

pub use histogram::DurationHistogram;
pub use log_kind::LogKind;
pub use recorder::{AcquireEnd, ClientEnd, Gauges, HandlerEnd, Recorder, Unfinished};
pub use series::{
    EventSink, IntervalHistograms, LogEntry, MemorySink, NullSink, PodRow, SeriesRow, Sink, Tee,
    WorkerRow,
};
pub use summary::Summary;
