//! Integration tests, one binary with a module per area.

mod actions;
mod cli;
mod determinism;
mod disruption_and_scheduling;
mod failure_scenarios;
mod gc_and_actions;
mod harness;
mod heartbeats;
mod hygiene;
mod invariants;
mod kubectl_get;
mod node_faults;
mod node_lifecycle;
mod props;
mod rollout_scenarios;
mod scenario_errors;
mod scenarios;
mod slos;
mod statefulset_cases;
mod statefulset_upstream;
mod storage_attach;
mod storage_mount;
mod storage_provisioning;
mod storage_storm;
mod sts_harness;
mod zookeeper_drain;
