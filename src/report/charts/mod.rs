//! Charts of a run, as PNG and SVG, for a trainer to project: the incident
//! timeline, the acquire-wait and per-pod heatmaps, starvation, small
//! multiples of several runs, the retry storm's arms; and, for comparisons
//! and sweeps, overlays with confidence bands and grid heatmaps.
//!
//! Every chart is drawn with an embedded font (no system fonts), in
//! colour-blind-safe colours, with a footer naming the scenario, the seed
//! and the replications. The same input gives byte-identical files.

mod axis;
mod canvas;
mod coarsen;
mod data;
mod events;
mod font;
mod frame;
mod grid_heatmap;
mod heat;
mod legend;
mod observed;
mod overlay;
mod panel;
#[cfg(test)]
mod plot_share;
mod pod_heatmap;
mod retry_storm;
mod run_panel;
mod sink;
mod small_multiples;
mod stack;
mod starvation;
mod style;
mod timeline;
mod wait_heatmap;

pub use data::{Marker, MarkerKind, Region, RegionKind, RunSeries, WAIT_BUCKET_BOUNDS_S, footer};
pub use grid_heatmap::{GridHeatmap, SafeRegion, grid_heatmap};
pub use observed::ObservedLine;
pub use overlay::{BandPoint, BandSeries, Overlay, Threshold, overlay};
pub use pod_heatmap::pod_heatmap;
pub use retry_storm::retry_storm;
pub use sink::ChartSink;
pub use small_multiples::small_multiples;
pub use starvation::starvation;
pub use timeline::incident_timeline;
pub use wait_heatmap::wait_heatmap;
