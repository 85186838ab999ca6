//! What kubectl prints for the read-only commands a scenario can run as teaching aids:
//! `get` tables (`get.rs`) and `describe pod` (`describe_pod.rs`), aligned as kubectl's
//! tab writer aligns them (`tabwriter.rs`), with ages as kubectl words them
//! (`duration.rs`). Upstream: `pkg/printers/internalversion/printers.go` and
//! `staging/src/k8s.io/kubectl/pkg/describe/describe.go`.

mod describe_pod;
mod duration;
mod get;
pub mod tabwriter;

pub use describe_pod::describe_pod;
pub use get::get;
