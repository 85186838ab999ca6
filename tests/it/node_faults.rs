//! Node, zone and network faults on the quick start's cluster (3 zones × 2 nodes, a
//! 3-replica Redis set): what the machines, kubelets and the API server's reachability do.
//! (The node lifecycle controller's reaction is tested in `node_lifecycle.rs`.)

use super::harness::repo_path;
use std::path::Path;
use stsim::api::coordination::NAMESPACE_NODE_LEASE;
use stsim::api::{Lease, ObjectKey, Pod};
use stsim::infra::kubelet::KubeletState;
use stsim::scenario::{self, Scenario};
use stsim::sim::{RunOptions, Simulation};
use stsim::time::{SimDuration, SimTime};

fn with_faults(faults: &str) -> Scenario {
    let base = std::fs::read_to_string(repo_path("scenarios/quickstart.yaml")).unwrap();
    let text = format!("{base}  faults:\n{faults}");
    scenario::load_str(&text, Path::new("inline.yaml")).unwrap_or_else(|e| panic!("{e}"))
}

fn secs(s: u64) -> SimTime {
    SimTime::ZERO + SimDuration::from_secs(s)
}

fn node_of(sim: &Simulation, pod: &str) -> String {
    let p = sim
        .api()
        .get::<Pod>(&ObjectKey::new("default", pod))
        .expect("the pod");
    p.spec.node_name.clone()
}

fn live_on(sim: &Simulation, node: &str) -> Vec<String> {
    sim.live_instances()
        .into_iter()
        .filter(|(n, _, _)| n == node)
        .map(|(_, p, _)| p)
        .collect()
}

fn renew(sim: &Simulation, node: &str) -> SimTime {
    sim.api()
        .get::<Lease>(&ObjectKey::new(NAMESPACE_NODE_LEASE, node))
        .and_then(|l| l.spec.renew_time)
        .expect("renewed")
        .time()
}

/// The node `redis-0` runs on, found by a first run (seeded, so the same every time).
fn redis0_node() -> String {
    let s = with_faults("    []\n");
    let mut sim = Simulation::new(&s, RunOptions::for_scenario(&s));
    sim.run_until(secs(120));
    node_of(&sim, "redis-0")
}

#[test]
fn a_crashed_node_loses_its_containers_at_once_and_restarts_them_at_power_on() {
    let node = redis0_node();
    let s = with_faults(&format!(
        "    - {{ at: 5m, duration: 4m, nodeCrash: {{ node: {node} }} }}\n"
    ));
    let mut sim = Simulation::new(&s, RunOptions::for_scenario(&s));
    sim.run_until(secs(299));
    assert_eq!(live_on(&sim, &node), vec!["default/redis-0".to_string()]);
    sim.run_until(secs(300));
    assert_eq!(sim.kubelet_state(&node), Some(KubeletState::PoweredOff));
    assert!(
        live_on(&sim, &node).is_empty(),
        "containers die with the power"
    );
    let last = renew(&sim, &node);
    sim.run_until(secs(539));
    assert_eq!(renew(&sim, &node), last, "no heartbeat while off");
    // Power comes back before the pod's 300 s unreachable toleration runs out, so nothing
    // deleted the pod (the node lifecycle reaction is tested in node_lifecycle.rs): at
    // power-on the kubelet admits it again and its container starts.
    sim.run_until(secs(600));
    assert_eq!(sim.kubelet_state(&node), Some(KubeletState::Running));
    assert!(renew(&sim, &node) >= secs(540));
    assert_eq!(live_on(&sim, &node), vec!["default/redis-0".to_string()]);
    assert!(sim.findings().is_empty(), "{:?}", sim.findings());
}

#[test]
fn a_stopped_kubelet_leaves_its_containers_running_and_its_lease_stale() {
    let node = redis0_node();
    let s = with_faults(&format!(
        "    - {{ at: 5m, duration: 2m, kubeletStop: {{ node: {node} }} }}\n"
    ));
    let mut sim = Simulation::new(&s, RunOptions::for_scenario(&s));
    sim.run_until(secs(300));
    assert_eq!(sim.kubelet_state(&node), Some(KubeletState::Stopped));
    let last = renew(&sim, &node);
    sim.run_until(secs(419));
    assert_eq!(live_on(&sim, &node), vec!["default/redis-0".to_string()]);
    assert_eq!(renew(&sim, &node), last);
    sim.run_until(secs(421));
    assert_eq!(sim.kubelet_state(&node), Some(KubeletState::Running));
    assert!(renew(&sim, &node) >= secs(420));
}

#[test]
fn a_force_delete_during_a_partition_gives_two_live_instances_until_the_partition_heals() {
    let node = redis0_node();
    let s = with_faults(&format!(
        "    - {{ at: 5m, duration: 10m, netPartition: {{ isolate: {node} }} }}\n"
    ));
    let mut sim = Simulation::new(&s, RunOptions::for_scenario(&s));
    sim.run_until(secs(360));
    let last = renew(&sim, &node);
    assert!(last < secs(300) + SimDuration::from_secs(1));
    // The operator cordons the unreachable node (the node lifecycle controller's
    // unreachable taint is not asserted here) and force-deletes its pod.
    sim.kubectl(&format!("cordon {node}")).unwrap();
    sim.kubectl("delete pod redis-0 --force --grace-period=0")
        .unwrap();
    sim.run_until(secs(420));
    let new_node = node_of(&sim, "redis-0");
    assert_ne!(new_node, node, "the replacement runs elsewhere");
    // The old container still runs on the cut-off node: two live instances of redis-0.
    assert_eq!(live_on(&sim, &node), vec!["default/redis-0".to_string()]);
    assert_eq!(
        live_on(&sim, &new_node),
        vec!["default/redis-0".to_string()]
    );
    let found: Vec<_> = sim
        .findings()
        .iter()
        .filter(|f| f.invariant == "two-live-instances")
        .collect();
    assert_eq!(found.len(), 1, "{:?}", sim.findings());
    // When the partition heals, the kubelet relists, finds the pod gone and kills it.
    sim.run_until(secs(960));
    assert!(live_on(&sim, &node).is_empty());
    assert!(renew(&sim, &node) >= secs(900));
}

#[test]
fn an_api_server_outage_stops_every_heartbeat_until_it_ends() {
    let s = with_faults("    - { at: 5m, duration: 2m, apiServerOutage: {} }\n");
    let mut sim = Simulation::new(&s, RunOptions::for_scenario(&s));
    sim.run_until(secs(419));
    let node = "worker-zone-b-1";
    let last = renew(&sim, node);
    assert!(last <= secs(300));
    sim.run_until(secs(430));
    assert!(renew(&sim, node) >= secs(420));
}

#[test]
fn a_zone_power_outage_powers_off_every_node_of_the_zone() {
    let s =
        with_faults("    - { at: 5m, duration: 50m, zoneOutage: { zone: zone-a, kind: power } }\n");
    let mut sim = Simulation::new(&s, RunOptions::for_scenario(&s));
    sim.run_until(secs(301));
    for n in ["worker-zone-a-1", "worker-zone-a-2"] {
        assert_eq!(sim.kubelet_state(n), Some(KubeletState::PoweredOff));
        assert!(live_on(&sim, n).is_empty());
    }
    assert_eq!(
        sim.kubelet_state("worker-zone-b-1"),
        Some(KubeletState::Running)
    );
}

#[test]
fn a_reboot_without_graceful_shutdown_powers_off_at_once_and_boots_after_boot_time() {
    let node = redis0_node();
    let s = with_faults(&format!(
        "    - {{ at: 5m, nodeReboot: {{ node: {node}, bootTime: 90s }} }}\n"
    ));
    let mut sim = Simulation::new(&s, RunOptions::for_scenario(&s));
    sim.run_until(secs(300));
    assert_eq!(sim.kubelet_state(&node), Some(KubeletState::PoweredOff));
    sim.run_until(secs(389));
    assert_eq!(sim.kubelet_state(&node), Some(KubeletState::PoweredOff));
    sim.run_until(secs(390));
    assert_eq!(sim.kubelet_state(&node), Some(KubeletState::Running));
}

#[test]
fn graceful_node_shutdown_fails_the_pods_then_powers_off_after_the_grace_period() {
    let node = redis0_node();
    let base = std::fs::read_to_string(repo_path("scenarios/quickstart.yaml")).unwrap();
    let base = base.replace(
        "  cluster:\n    zones:",
        "  cluster:\n    kubernetes:\n      kubelet: { shutdownGracePeriod: 30s }\n    zones:",
    );
    let text = format!(
        "{base}  faults:\n    - {{ at: 5m, nodeReboot: {{ node: {node}, bootTime: 60s }} }}\n"
    );
    let s = scenario::load_str(&text, Path::new("inline.yaml")).unwrap_or_else(|e| panic!("{e}"));
    let buf = super::harness::SharedBuf::default();
    let mut opts = RunOptions::for_scenario(&s);
    opts.trace = Some(Box::new(buf.clone()));
    let mut sim = Simulation::new(&s, opts);
    sim.run_until(secs(300));
    // The node reports not Ready at once.
    let n = sim
        .api()
        .get::<stsim::api::Node>(&ObjectKey::cluster(&node))
        .unwrap();
    let ready = n
        .status
        .conditions
        .iter()
        .find(|c| c.type_ == "Ready")
        .unwrap();
    assert_eq!(
        (ready.status.as_str(), ready.message.as_str()),
        ("False", "node is shutting down")
    );
    assert_eq!(sim.kubelet_state(&node), Some(KubeletState::Running));
    sim.run_until(secs(329));
    // The pod's last status, written by the shutdown manager: Failed, Terminated, with a
    // DisruptionTarget condition; it is not deleted by the kubelet.
    let lines = super::harness::trace_lines(&buf.0.borrow());
    let failed = lines
        .iter()
        .find(|l| {
            l["kind"] == "Pod"
                && l["name"] == "redis-0"
                && l["object"]["status"]["phase"] == "Failed"
        })
        .expect("redis-0 Failed");
    let st = &failed["object"]["status"];
    assert_eq!(st["reason"], "Terminated");
    assert_eq!(
        st["message"],
        "Pod was terminated in response to imminent node shutdown."
    );
    let dt = st["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["type"] == "DisruptionTarget")
        .expect("DisruptionTarget");
    assert_eq!(dt["reason"], "TerminationByKubelet");
    assert!(failed["t_us"].as_u64().unwrap() <= 330_000_000);
    // Power off at the end of the 30 s, boot 60 s later.
    assert_eq!(sim.kubelet_state(&node), Some(KubeletState::Running));
    sim.run_until(secs(330));
    assert_eq!(sim.kubelet_state(&node), Some(KubeletState::PoweredOff));
    sim.run_until(secs(390));
    assert_eq!(sim.kubelet_state(&node), Some(KubeletState::Running));
    sim.run_until(secs(600));
    // The StatefulSet controller replaced the Failed pod; it runs again.
    assert!(
        sim.live_instances()
            .iter()
            .any(|(_, p, _)| p == "default/redis-0")
    );
    assert!(sim.findings().is_empty(), "{:?}", sim.findings());
}
