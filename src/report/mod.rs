//! What a person reads: the timeline of a run, its summary, `report.md` and
//! `metrics.csv`.

pub mod latency;
pub mod markdown;
pub mod metrics;
pub mod slos;
pub mod summary;
pub mod timeline;
