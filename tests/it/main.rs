//! Integration tests, one binary with a module per area.

mod actions;
mod cli;
mod determinism;
mod gc_and_actions;
mod harness;
mod hygiene;
mod invariants;
mod props;
mod scenario_errors;
mod scenarios;
mod statefulset_cases;
mod statefulset_upstream;
mod sts_harness;
