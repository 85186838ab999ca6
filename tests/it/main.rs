//! Integration tests, one binary with a module per area.

mod actions;
mod cli;
mod determinism;
mod harness;
mod hygiene;
mod scenario_errors;
mod scenarios;
