//! The operator: timed kubectl commands from the scenario, carried out against the API
//! server as `kubectl` would (read, modify, write; errors reported as kubectl prints them).

mod drain;
mod kubectl;
mod nodes;
mod patch;
mod printers;
pub use printers::tabwriter;
mod rollout;
mod runs;
mod storage;

pub use drain::{EVICT_ERROR_RETRY_DELAY, POLL_INTERVAL};
pub use kubectl::{ActionOutcome, actor, execute};
pub use runs::{Operator, OperatorTimer};
