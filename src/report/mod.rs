//! What a person reads: the timeline of a run and its summary.

pub mod latency;
pub mod slos;
pub mod summary;
pub mod timeline;
