//! The operator: timed kubectl commands from the scenario, carried out against the API
//! server as `kubectl` would (read, modify, write; errors reported as kubectl prints them).

mod kubectl;
mod patch;
mod rollout;

pub use kubectl::{ActionOutcome, actor, execute};
