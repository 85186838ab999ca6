//! The bundled node and zone failure scenarios replay the timelines their headers promise:
//! `az-outage`, the three `node-crash` variants and `network-partition` (issue 5).

use super::harness::{bundled, run_with_trace, trace_lines};
use serde_json::Value;

const S: u64 = 1_000_000;

struct Replay {
    lines: Vec<Value>,
    result: stsim::sim::RunResult,
}

impl Replay {
    fn of(name: &str) -> Self {
        let s = bundled(name);
        let (result, bytes) = run_with_trace(&s, s.seed);
        Replay {
            lines: trace_lines(&bytes),
            result,
        }
    }
    /// Times (µs) of Kubernetes Events with this reason about this object name.
    fn events(&self, reason: &str, name: &str) -> Vec<u64> {
        self.lines
            .iter()
            .filter(|l| l["type"] == "event" && l["reason"] == reason && l["name"] == name)
            .map(|l| l["t_us"].as_u64().unwrap())
            .collect()
    }
    /// Times of notes whose message contains `text`.
    fn notes(&self, text: &str) -> Vec<u64> {
        self.lines
            .iter()
            .filter(|l| {
                l["type"] == "note" && l["message"].as_str().is_some_and(|m| m.contains(text))
            })
            .map(|l| l["t_us"].as_u64().unwrap())
            .collect()
    }
    /// When a NoExecute taint with this key first appears on the node.
    fn tainted(&self, node: &str, key: &str) -> Option<u64> {
        self.lines
            .iter()
            .find(|l| {
                l["type"] == "write"
                    && l["kind"] == "Node"
                    && l["name"] == node
                    && l["object"]["spec"]["taints"].as_array().is_some_and(|ts| {
                        ts.iter()
                            .any(|t| t["key"] == key && t["effect"] == "NoExecute")
                    })
            })
            .map(|l| l["t_us"].as_u64().unwrap())
    }
    fn ready(&self) -> i32 {
        self.result.final_state.stateful_sets[0].ready_replicas
    }
    fn findings(&self) -> Vec<&str> {
        self.result
            .findings
            .iter()
            .map(|f| f.invariant.as_str())
            .collect()
    }
}

fn within(t: u64, from_s: f64, to_s: f64) -> bool {
    (from_s * S as f64) as u64 <= t && t <= (to_s * S as f64) as u64
}

#[test]
fn az_outage_leaves_the_member_terminating_for_the_hour_then_recovers() {
    let r = Replay::of("az-outage");
    let not_ready = r.events("NodeNotReady", "worker-zone-a-2");
    // Last renewal ≤ 10 s before the power cut, grace 50 s, 5 s monitor.
    assert!(within(not_ready[0], 640.0, 660.0), "{not_ready:?}");
    assert_eq!(
        r.notes("zone zone-a is now in state FullDisruption").len(),
        1
    );
    // The NoExecute taints go on at 0.1 node/s: 10 s apart.
    let a1 = r
        .tainted("worker-zone-a-1", "node.kubernetes.io/unreachable")
        .unwrap();
    let a2 = r
        .tainted("worker-zone-a-2", "node.kubernetes.io/unreachable")
        .unwrap();
    assert_eq!(a2 - a1, 10 * S);
    // etcd-2 (on worker-zone-a-2) is deleted 300 s after its node's taint ...
    let evicted = r.events("TaintManagerEviction", "etcd-2");
    assert_eq!(evicted.len(), 1);
    assert!(evicted[0] >= a2 + 300 * S && evicted[0] <= a2 + 301 * S);
    // ... and not replaced while the zone is dark.
    let created: Vec<u64> = r
        .events("SuccessfulCreate", "etcd")
        .into_iter()
        .filter(|t| *t > 600 * S)
        .collect();
    assert!(created.iter().all(|t| *t >= 4200 * S), "{created:?}");
    assert!(
        !r.notes("not replacing etcd-2: pod is terminating")
            .is_empty()
    );
    // After the zone is back (1h10m) it is recreated, and all three are Ready.
    assert!(within(created[0], 4200.0, 4201.0), "{created:?}");
    assert_eq!(r.ready(), 3);
    assert!(r.findings().is_empty());
}

#[test]
fn node_crash_with_nobody_acting_never_replaces_the_pod() {
    let r = Replay::of("node-crash");
    assert!(within(
        r.events("NodeNotReady", "worker-zone-c-1")[0],
        340.0,
        360.0
    ));
    let evicted = r.events("TaintManagerEviction", "etcd-0");
    assert_eq!(evicted.len(), 1);
    let taint = r
        .tainted("worker-zone-c-1", "node.kubernetes.io/unreachable")
        .unwrap();
    assert!(evicted[0] >= taint + 300 * S && evicted[0] <= taint + 301 * S);
    assert_eq!(
        r.events("SuccessfulCreate", "etcd")
            .iter()
            .filter(|t| **t > 300 * S)
            .count(),
        0
    );
    assert_eq!(r.ready(), 2);
    let pod = r
        .result
        .final_state
        .pods
        .iter()
        .find(|p| p.name == "etcd-0")
        .unwrap();
    assert!(pod.terminating, "{pod:?}");
}

#[test]
fn out_of_service_taint_brings_the_pod_back_in_about_half_a_minute() {
    let r = Replay::of("node-crash-out-of-service");
    // Taint eviction at once, pod GC at its next 20 s pass, immediate force detach.
    assert!(
        r.events("TaintManagerEviction", "etcd-0")
            .iter()
            .any(|t| within(*t, 420.0, 420.1))
    );
    let gc = r.notes("PodGC is force deleting Pod");
    assert!(within(gc[0], 420.0, 440.1), "{gc:?}");
    let detach = r.notes("node has out-of-service taint, force detaching");
    assert!(within(
        detach[0],
        gc[0] as f64 / S as f64,
        gc[0] as f64 / S as f64 + 1.0
    ));
    let attached = r.events("SuccessfulAttachVolume", "etcd-0");
    assert!(
        within(*attached.last().unwrap(), 421.0, 450.0),
        "{attached:?}"
    );
    assert_eq!(r.ready(), 3);
    assert!(r.findings().is_empty());
}

#[test]
fn force_delete_of_a_pod_on_a_dead_node_waits_six_minutes_for_its_volume() {
    let r = Replay::of("node-crash-force-delete");
    let multi = r.events("FailedAttachVolume", "etcd-0");
    assert_eq!(multi.len(), 1);
    assert!(within(multi[0], 420.0, 420.2));
    let detach = r.notes("maxWaitForUnmountDuration 6m0s expired, force detaching");
    assert!(within(detach[0], 780.0, 780.3), "{detach:?}");
    assert_eq!(r.ready(), 3);
    // The dead node runs nothing: the force detach is safe here.
    assert!(r.findings().is_empty());
}

#[test]
fn network_partition_and_a_force_delete_give_two_live_instances() {
    let r = Replay::of("network-partition");
    let detach = r.notes("maxWaitForUnmountDuration 6m0s expired, force detaching");
    assert!(within(detach[0], 780.0, 780.3));
    assert_eq!(r.findings(), ["unsafe-force-detach", "two-live-instances"]);
    assert_eq!(r.result.exit_code(), 3);
    // When the partition heals at 25m the old kubelet kills its instance.
    let killing = r.events("Killing", "etcd-0");
    assert!(
        killing.iter().any(|t| within(*t, 1500.0, 1500.1)),
        "{killing:?}"
    );
    assert_eq!(r.ready(), 3);
}
