//! stsim: a deterministic discrete-event simulator of a Kubernetes cluster running
//! StatefulSets. See README.md for the user's view and the design notes for the layering:
//! time, rng, decimal, hash → api → apiserver, queue → infra | control → scenario → sim → trace, report.

mod allocator;
pub mod api;
pub mod apiserver;
pub mod check;
pub mod component;
pub mod control;
pub mod decimal;
pub mod hash;
pub mod infra;
pub mod lookup_map;
pub mod operator;
pub mod queue;
pub mod report;
pub mod rng;
pub mod scenario;
pub mod sim;
pub mod sli;
pub mod time;
pub mod trace;
pub mod trace_file;
