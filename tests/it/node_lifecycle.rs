//! Node failure handling end to end (issue 5, items 3 and 4): the node lifecycle
//! controller, the taint eviction controller, pod GC and the DefaultTolerationSeconds
//! admission, with real kubelets renewing their Leases. Nodes fail through the scenario's
//! faults (`nodeCrash`, `kubeletStop`, `zoneOutage`, `controlPlanePartition`), and the
//! timeline is read off the trace (heartbeat writes included, to know the last renewal).
//!
//! The reference timeline (1.32+): last renewal r; the controller's next 5-s pass takes
//! it in (+10 ms watch delay); Ready → Unknown at the first pass more than 50 s after
//! that, so at r + (50, 55] s; the NoSchedule `unreachable` taint 10 ms later; the
//! NoExecute one at the following pass (+5 s); the pods deleted 300 s after the taint
//! eviction controller saw it; then Terminating for as long as the node stays away.

use crate::harness::{SharedBuf, trace_lines};
use serde_json::Value;
use std::path::Path;
use stsim::api::{ObjectKey, Pod};
use stsim::scenario::{self, Scenario};
use stsim::sim::{RunOptions, Simulation};
use stsim::time::{SimDuration, SimTime};

const SECOND: u64 = 1_000_000;
const MS: u64 = 1_000;

/// A cluster with `zones` (name, node count), nodes named `w-<zone>-<i>`, a 3-replica
/// StatefulSet `redis` (no volumes), and `faults` (items of `spec.faults`, one a line).
fn scenario(zones: &[(&str, u32)], version: &str, faults: &[String]) -> Scenario {
    let zones: String = zones
        .iter()
        .map(|(z, n)| {
            format!(
                "      - name: {z}\n        nodePools: [ {{ name: w, count: {n}, capacity: {{ cpu: \"8\", memory: 32Gi, pods: 110 }} }} ]\n"
            )
        })
        .collect();
    let text = format!(
        r#"apiVersion: stsim/v1alpha1
kind: Scenario
metadata: {{ name: nodelife }}
spec:
  seed: 3
  duration: 3h
  kubernetesVersion: "{version}"
  cluster:
    zones:
{zones}  images:
    - {{ image: redis, pullTime: 1s, shutdownTime: 1s }}
  manifests:
    - apiVersion: v1
      kind: Service
      metadata: {{ name: redis }}
      spec: {{ clusterIP: None, selector: {{ app: redis }} }}
    - apiVersion: apps/v1
      kind: StatefulSet
      metadata: {{ name: redis }}
      spec:
        serviceName: redis
        replicas: 3
        selector: {{ matchLabels: {{ app: redis }} }}
        template:
          metadata: {{ labels: {{ app: redis }} }}
          spec:
            containers: [ {{ name: redis, image: redis }} ]
  faults:
{faults}"#,
        faults = if faults.is_empty() {
            "    []\n".to_string()
        } else {
            faults.iter().map(|f| format!("    - {f}\n")).collect()
        }
    );
    scenario::load_str(&text, Path::new("inline.yaml")).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

struct Run {
    sim: Simulation,
    buf: SharedBuf,
}

fn at(secs: u64) -> SimTime {
    SimTime::ZERO + SimDuration::from_secs(secs)
}

impl Run {
    fn new(s: &Scenario) -> Self {
        let buf = SharedBuf::default();
        let mut opts = RunOptions::for_scenario(s);
        opts.trace = Some(Box::new(buf.clone()));
        opts.trace_heartbeats = true;
        Run {
            sim: Simulation::new(s, opts),
            buf,
        }
    }

    fn until(&mut self, secs: u64) {
        self.sim.run_until(at(secs));
    }

    fn lines(&self) -> Vec<Value> {
        trace_lines(&self.buf.0.borrow())
    }

    fn pod(&self, name: &str) -> Option<std::rc::Rc<Pod>> {
        self.sim
            .api()
            .get::<Pod>(&ObjectKey::new("default", name))
            .cloned()
    }

    fn node_of(&self, pod: &str) -> String {
        self.pod(pod).expect("pod").spec.node_name.clone()
    }
}

const ZONES3: &[(&str, u32)] = &[("a", 2), ("b", 2), ("c", 2)];

/// The node `redis-0` runs on at 180 s, from a run without faults (seeded: the same in
/// the run with them, which is identical up to the first fault).
fn redis0_node(zones: &[(&str, u32)], version: &str) -> String {
    let mut r = Run::new(&scenario(zones, version, &[]));
    r.until(180);
    r.node_of("redis-0")
}

fn t_us(l: &Value) -> u64 {
    l["t_us"].as_u64().unwrap()
}

fn is_write(l: &Value, kind: &str, name: &str) -> bool {
    l["type"] == "write" && l["kind"] == kind && l["name"] == name
}

fn ready_status(node: &Value) -> Option<&str> {
    node["status"]["conditions"]
        .as_array()?
        .iter()
        .find(|c| c["type"] == "Ready")
        .and_then(|c| c["status"].as_str())
}

fn has_taint(node: &Value, key: &str, effect: &str) -> bool {
    node["spec"]["taints"]
        .as_array()
        .is_some_and(|ts| ts.iter().any(|t| t["key"] == key && t["effect"] == effect))
}

const UNREACHABLE: &str = "node.kubernetes.io/unreachable";

/// What the trace says happened to node `n` after `from` (µs).
struct NodeTimeline {
    last_renewal: u64,
    unknown: u64,
    no_schedule: u64,
    no_execute: Option<u64>,
}

fn node_timeline(lines: &[Value], n: &str, from: u64) -> NodeTimeline {
    let last_renewal = lines
        .iter()
        .filter(|l| is_write(l, "Lease", n) && t_us(l) <= from)
        .map(t_us)
        .max()
        .expect("a renewal before the cut");
    let node_writes = || {
        lines
            .iter()
            .filter(move |l| is_write(l, "Node", n) && t_us(l) > from)
    };
    let unknown = node_writes()
        .find(|l| l["actor"] == "node-controller" && ready_status(&l["object"]) == Some("Unknown"))
        .map(t_us)
        .expect("Ready went Unknown");
    let no_schedule = node_writes()
        .find(|l| has_taint(&l["object"], UNREACHABLE, "NoSchedule"))
        .map(t_us)
        .expect("NoSchedule taint");
    let no_execute = node_writes()
        .find(|l| has_taint(&l["object"], UNREACHABLE, "NoExecute"))
        .map(t_us);
    NodeTimeline {
        last_renewal,
        unknown,
        no_schedule,
        no_execute,
    }
}

fn events<'a>(lines: &'a [Value], reason: &'a str) -> impl Iterator<Item = &'a Value> + 'a {
    lines
        .iter()
        .filter(move |l| l["type"] == "event" && l["reason"] == reason)
}

fn notes(lines: &[Value]) -> Vec<(u64, String)> {
    lines
        .iter()
        .filter(|l| l["type"] == "note" && l["source"] == "node-controller")
        .map(|l| (t_us(l), l["message"].as_str().unwrap().to_string()))
        .collect()
}

#[test]
fn statefulset_pods_get_the_default_not_ready_and_unreachable_tolerations() {
    let s = scenario(ZONES3, "1.36", &[]);
    let mut r = Run::new(&s);
    r.until(120);
    for i in 0..3 {
        let pod = r
            .pod(&format!("redis-{i}"))
            .expect("created by the StatefulSet");
        let mut tols: Vec<(String, String, String, Option<i64>)> = pod
            .spec
            .tolerations
            .iter()
            .map(|t| {
                (
                    t.key.clone(),
                    t.operator.clone(),
                    t.effect.clone(),
                    t.toleration_seconds,
                )
            })
            .collect();
        tols.sort();
        assert_eq!(
            tols,
            vec![
                (
                    "node.kubernetes.io/not-ready".into(),
                    "Exists".into(),
                    "NoExecute".into(),
                    Some(300)
                ),
                (
                    UNREACHABLE.into(),
                    "Exists".into(),
                    "NoExecute".into(),
                    Some(300)
                ),
            ]
        );
    }
    // The controller registered every node, once.
    let lines = r.lines();
    assert_eq!(events(&lines, "RegisteredNode").count(), 6);
    assert!(notes(&lines).is_empty(), "{:?}", notes(&lines));
}

/// The whole timeline of redis-0's node crashing at 180 s (and staying off), on 1.36 and
/// on 1.31.
#[test]
fn crashed_node_timeline_by_version() {
    for (version, grace) in [("1.36", 50), ("1.31", 40)] {
        let node = redis0_node(ZONES3, version);
        let crash = format!("{{ at: 180s, nodeCrash: {{ node: {node} }} }}");
        let mut r = Run::new(&scenario(ZONES3, version, &[crash]));
        r.until(180);
        let uid = r.pod("redis-0").unwrap().metadata.uid.clone();
        r.until(180 + 3600);
        let lines = r.lines();
        let tl = node_timeline(&lines, &node, 180 * SECOND);
        let silence = tl.unknown - tl.last_renewal;
        assert!(
            silence > grace * SECOND && silence <= (grace + 5) * SECOND + 10 * MS,
            "{version}: Unknown {silence} µs after the last renewal"
        );
        assert_eq!(tl.no_schedule, tl.unknown + 10 * MS, "{version}");
        let ne = tl.no_execute.expect("NoExecute taint");
        assert_eq!(ne, tl.unknown + 5 * SECOND, "{version}: the next pass");

        // The pass that wrote Unknown marked the pod not Ready, with the Events.
        let not_ready = lines
            .iter()
            .find(|l| {
                is_write(l, "Pod", "redis-0")
                    && l["actor"] == "node-controller"
                    && l["object"]["status"]["conditions"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .any(|c| c["type"] == "Ready" && c["status"] == "False")
            })
            .map(t_us);
        assert_eq!(not_ready, Some(tl.unknown));
        let node_event = events(&lines, "NodeNotReady")
            .find(|e| e["kind"] == "Node")
            .unwrap();
        assert_eq!(
            node_event["message"],
            format!("Node {node} status is now: NodeNotReady")
        );
        assert_eq!(t_us(node_event), tl.unknown);
        let pod_event = events(&lines, "NodeNotReady")
            .find(|e| e["kind"] == "Pod")
            .unwrap();
        assert_eq!(pod_event["eventType"], "Warning");
        assert_eq!(pod_event["message"], "Node is not ready");

        // Evicted 300 s after the taint eviction controller saw the taint.
        let eviction = events(&lines, "TaintManagerEviction").next().unwrap();
        assert_eq!(
            eviction["message"],
            "Marking for deletion Pod default/redis-0"
        );
        assert_eq!(t_us(eviction), ne + 10 * MS + 300 * SECOND, "{version}");
        let delete = lines
            .iter()
            .find(|l| is_write(l, "Pod", "redis-0") && l["verb"] == "delete")
            .unwrap();
        assert_eq!(delete["actor"], "taint-eviction-controller");
        assert_eq!(t_us(delete), t_us(eviction));

        // Terminating for the rest of the hour: no kubelet confirms, no replacement.
        let pod = r.pod("redis-0").unwrap();
        assert_eq!(pod.metadata.uid, uid);
        assert!(pod.is_terminating());
        let cond = pod.condition("DisruptionTarget").unwrap();
        assert_eq!(cond.reason, "DeletionByTaintManager");
        // The other replicas are untouched.
        for other in ["redis-1", "redis-2"] {
            if r.node_of(other) != node {
                assert!(!r.pod(other).unwrap().is_terminating());
            }
        }
    }
}

/// The operator marks the dead node out of service: the pod GC force-deletes the
/// Terminating pod at its next pass (≤ 20 s) and the StatefulSet recreates it elsewhere.
#[test]
fn out_of_service_taint_lets_pod_gc_finish_the_terminating_pod() {
    let node = redis0_node(ZONES3, "1.36");
    let crash = format!("{{ at: 180s, nodeCrash: {{ node: {node} }} }}");
    let mut r = Run::new(&scenario(ZONES3, "1.36", &[crash]));
    r.until(180);
    let uid = r.pod("redis-0").unwrap().metadata.uid.clone();
    r.until(900);
    assert!(r.pod("redis-0").unwrap().is_terminating());
    let taint =
        format!("taint nodes {node} node.kubernetes.io/out-of-service=nodeshutdown:NoExecute");
    assert!(r.sim.kubectl(&taint).unwrap().is_ok());
    r.until(921);
    let lines = r.lines();
    let gone = lines
        .iter()
        .find(|l| {
            is_write(l, "Pod", "redis-0")
                && l["removed"] == true
                && l["object"]["metadata"]["uid"] == uid.as_str()
        })
        .expect("the old pod is gone");
    assert_eq!(gone["actor"], "pod-garbage-collector");
    let t = t_us(gone);
    assert!(t > 900 * SECOND && t <= 920 * SECOND, "{t}");
    // Failed first (gcTerminating passes no condition of its own).
    let failed = lines
        .iter()
        .rfind(|l| is_write(l, "Pod", "redis-0") && l["verb"] == "status" && t_us(l) <= t)
        .unwrap();
    assert_eq!(failed["actor"], "pod-garbage-collector");
    assert_eq!(failed["object"]["status"]["phase"], "Failed");
    r.until(1000);
    let new = r.pod("redis-0").expect("recreated");
    assert_ne!(new.metadata.uid, uid);
    assert_ne!(new.spec.node_name, node);
}

/// The Node object is deleted: its pods are force-deleted by the pod GC 40–60 s later,
/// marked `DeletionByPodGC`.
#[test]
fn deleting_the_node_lets_pod_gc_remove_its_pods_after_the_quarantine() {
    let node = redis0_node(ZONES3, "1.36");
    let crash = format!("{{ at: 180s, nodeCrash: {{ node: {node} }} }}");
    let mut r = Run::new(&scenario(ZONES3, "1.36", &[crash]));
    r.until(300);
    assert!(
        r.sim
            .kubectl(&format!("delete node {node}"))
            .unwrap()
            .is_ok()
    );
    r.until(400);
    let lines = r.lines();
    let gone = lines
        .iter()
        .find(|l| is_write(l, "Pod", "redis-0") && l["removed"] == true)
        .expect("gone");
    assert_eq!(gone["actor"], "pod-garbage-collector");
    let t = t_us(gone);
    assert!(
        (340 * SECOND..=360 * SECOND + 10 * MS).contains(&t),
        "40–60 s after the delete: {t}"
    );
    let failed = lines
        .iter()
        .rfind(|l| is_write(l, "Pod", "redis-0") && l["verb"] == "status" && t_us(l) <= t)
        .unwrap();
    assert_eq!(failed["object"]["status"]["phase"], "Failed");
    let cond = failed["object"]["status"]["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["type"] == "DisruptionTarget")
        .unwrap();
    assert_eq!(cond["reason"], "DeletionByPodGC");
    assert_eq!(cond["message"], "PodGC: node no longer exists");
    assert!(events(&lines, "RemovingNode").any(
        |e| e["message"] == format!("Node {node} event: Removing Node {node} from Controller")
    ));
}

/// Zone a (2 nodes) loses power: FullDisruption there, the normal rate (the other zones are
/// fine), its nodes tainted at the next pass after each went Unknown but 10 s apart at
/// least; zones b and c untouched; no master disruption.
#[test]
fn one_zone_down_is_evicted_at_the_normal_rate() {
    let outage = "{ at: 180s, zoneOutage: { zone: a, kind: power } }".to_string();
    let mut r = Run::new(&scenario(ZONES3, "1.36", &[outage]));
    let a = ["w-a-1".to_string(), "w-a-2".to_string()];
    r.until(600);
    let lines = r.lines();
    let mut tls: Vec<NodeTimeline> = a
        .iter()
        .map(|n| node_timeline(&lines, n, 180 * SECOND))
        .collect();
    tls.sort_by_key(|t| (t.unknown, t.no_execute));
    let first = tls[0].no_execute.unwrap();
    assert_eq!(first, tls[0].unknown + 5 * SECOND);
    let second = tls[1].no_execute.unwrap();
    assert_eq!(
        second,
        (tls[1].unknown + 5 * SECOND).max(first + 10 * SECOND)
    );
    let notes = notes(&lines);
    let last_unknown = tls[1].unknown;
    assert!(
        notes.contains(&(
            last_unknown,
            "Controller detected that zone a is now in state FullDisruption".into()
        )),
        "{notes:?}"
    );
    assert!(
        !notes
            .iter()
            .any(|(_, m)| m.contains("zone b") || m.contains("zone c") || m.contains("master"))
    );
    for n in ["w-b-1", "w-b-2", "w-c-1", "w-c-2"] {
        assert!(lines.iter().all(
            |l| !(is_write(l, "Node", n) && has_taint(&l["object"], UNREACHABLE, "NoExecute"))
        ));
    }
}

/// The control plane cut off from every zone (180 s to 1800 s): the controller takes it
/// for its own isolation (master disruption mode) — the NoExecute taints come off,
/// nothing is evicted; when the nodes come back it leaves the mode and they are Ready
/// again.
#[test]
fn all_zones_down_is_master_disruption_mode() {
    let cut = "{ at: 180s, duration: 1620s, controlPlanePartition: { zones: [a, b, c] } }";
    let mut r = Run::new(&scenario(ZONES3, "1.36", &[cut.to_string()]));
    let all: Vec<String> = ["a", "b", "c"]
        .iter()
        .flat_map(|z| (1..=2).map(move |i| format!("w-{z}-{i}")))
        .collect();
    r.until(1800);
    let lines = r.lines();
    let entered = notes(&lines)
        .into_iter()
        .find(|(_, m)| m == "Controller detected that all Nodes are not-Ready. Entering master disruption mode.")
        .expect("master disruption mode");
    let unknowns: Vec<u64> = all
        .iter()
        .map(|n| node_timeline(&lines, n, 180 * SECOND).unknown)
        .collect();
    assert_eq!(
        entered.0,
        *unknowns.iter().max().unwrap(),
        "the pass the last node went Unknown"
    );
    for n in &all {
        let node = r
            .sim
            .api()
            .get::<stsim::api::Node>(&ObjectKey::cluster(n))
            .unwrap();
        let ne = node
            .spec
            .taints
            .iter()
            .any(|t| t.key == UNREACHABLE && t.effect == "NoExecute");
        assert!(!ne, "{n}");
    }
    for i in 0..3 {
        assert!(!r.pod(&format!("redis-{i}")).unwrap().is_terminating());
    }
    assert!(
        lines
            .iter()
            .all(|l| !(l["kind"] == "Pod" && l["verb"] == "delete")),
        "no pod deleted"
    );
    r.until(1900);
    let lines = r.lines();
    assert!(
        notes(&lines)
            .iter()
            .any(|(t, m)| *t > 1800 * SECOND && m == "Controller detected that some Nodes are Ready. Exiting master disruption mode."),
        "{:?}",
        notes(&lines)
    );
    for n in &all {
        let node = r
            .sim
            .api()
            .get::<stsim::api::Node>(&ObjectKey::cluster(n))
            .unwrap();
        assert!(node.is_ready(), "{n}");
        assert!(node.spec.taints.is_empty(), "{n}: {:?}", node.spec.taints);
    }
}

fn zone_nodes(zone: &str, n: u32) -> Vec<String> {
    (1..=n).map(|i| format!("w-{zone}-{i}")).collect()
}

/// These nodes cut off from the control plane from 180 s on.
fn partition(nodes: &[String]) -> String {
    format!(
        "{{ at: 180s, controlPlanePartition: {{ nodes: [{}] }} }}",
        nodes.join(", ")
    )
}

/// Three of six nodes of zone a have their kubelet stopped (0.5 < 0.55: Normal). Each is queued by the pass
/// after it went Unknown, and the zone's bucket (0.1/s, burst 1) hands out one token per
/// 10 s: taint_i = max(queued_i, taint_{i-1} + 10 s).
#[test]
fn a_normal_zone_taints_one_node_per_10_s() {
    let cut = zone_nodes("a", 3);
    let faults: Vec<String> = cut
        .iter()
        .map(|n| format!("{{ at: 180s, kubeletStop: {{ node: {n} }} }}"))
        .collect();
    let mut r = Run::new(&scenario(&[("a", 6), ("b", 1), ("c", 1)], "1.36", &faults));
    r.until(600);
    let lines = r.lines();
    let mut tls: Vec<(u64, String, NodeTimeline)> = cut
        .iter()
        .map(|n| {
            let tl = node_timeline(&lines, n, 180 * SECOND);
            (tl.unknown, n.clone(), tl)
        })
        .collect();
    // Queued in pass order, nodes of one pass in name order.
    tls.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
    let mut prev: Option<u64> = None;
    for (unknown, n, tl) in &tls {
        let queued = unknown + 5 * SECOND;
        let expected = prev.map_or(queued, |p| queued.max(p + 10 * SECOND));
        assert_eq!(tl.no_execute, Some(expected), "{n}");
        prev = Some(expected);
    }
    assert!(notes(&lines).is_empty(), "{:?}", notes(&lines));
}

/// The NoExecute taint times of `nodes` after `from`, sorted.
fn taint_times(lines: &[Value], nodes: &[String], from: u64) -> Vec<u64> {
    let mut v: Vec<u64> = nodes
        .iter()
        .filter_map(|n| node_timeline(lines, n, from).no_execute)
        .collect();
    v.sort();
    v
}

/// 29 of 52 nodes of zone a cut off from the control plane: once the 29th is Unknown (29/52 ≥ 0.55) the zone is
/// in PartialDisruption, and being larger than 50 nodes it goes on tainting at the
/// secondary rate: one node per 100.1 s (float32 0.01 falls just short at 100 s).
#[test]
fn a_large_zone_in_partial_disruption_taints_at_the_secondary_rate() {
    let cut = zone_nodes("a", 29);
    let fault = partition(&cut);
    let mut r = Run::new(&scenario(&[("a", 52), ("b", 2)], "1.36", &[fault]));
    r.until(900);
    let lines = r.lines();
    let partial = notes(&lines)
        .into_iter()
        .find(|(_, m)| m == "Controller detected that zone a is now in state PartialDisruption")
        .expect("partial disruption")
        .0;
    let last_unknown = cut
        .iter()
        .map(|n| node_timeline(&lines, n, 180 * SECOND).unknown)
        .max()
        .unwrap();
    assert_eq!(partial, last_unknown);
    let after: Vec<u64> = taint_times(&lines, &cut, 180 * SECOND)
        .into_iter()
        .filter(|t| *t > partial)
        .collect();
    assert!(after.len() >= 3, "{after:?}");
    for pair in after.windows(2) {
        assert_eq!(pair[1] - pair[0], 100_100 * MS, "{after:?}");
    }
    assert!(after[0] <= partial + 100_100 * MS + 5 * SECOND, "{after:?}");
}

/// 6 of 10 nodes of zone a cut off from the control plane: PartialDisruption in a zone of at most 50 nodes stops
/// the tainting (rate 0): no NoExecute taint after the zone's state changed.
#[test]
fn a_small_zone_in_partial_disruption_stops_tainting() {
    let cut = zone_nodes("a", 6);
    let fault = partition(&cut);
    let mut r = Run::new(&scenario(&[("a", 10), ("b", 2)], "1.36", &[fault]));
    r.until(1800);
    let lines = r.lines();
    let partial = notes(&lines)
        .into_iter()
        .find(|(_, m)| m == "Controller detected that zone a is now in state PartialDisruption")
        .expect("partial disruption")
        .0;
    let times = taint_times(&lines, &cut, 180 * SECOND);
    assert!(
        times.iter().all(|t| *t <= partial),
        "{times:?} after {partial}"
    );
    assert!(times.len() < cut.len(), "{times:?}");
    for n in &cut {
        let node = r
            .sim
            .api()
            .get::<stsim::api::Node>(&ObjectKey::cluster(n))
            .unwrap();
        assert!(
            node.spec
                .taints
                .iter()
                .any(|t| t.key == UNREACHABLE && t.effect == "NoSchedule"),
            "{n}"
        );
    }
}

/// The crashed node powers on again at 350 s, before its pods' 300 s tolerations run out:
/// its kubelet renews the Lease and posts Ready, the controller takes both `unreachable`
/// taints off, and the scheduled eviction is cancelled.
#[test]
fn a_node_back_before_the_toleration_runs_out_keeps_its_pods() {
    let node = redis0_node(ZONES3, "1.36");
    let crash = format!("{{ at: 180s, duration: 170s, nodeCrash: {{ node: {node} }} }}");
    let mut r = Run::new(&scenario(ZONES3, "1.36", &[crash]));
    r.until(180);
    let uid = r.pod("redis-0").unwrap().metadata.uid.clone();
    r.until(349);
    let tl = node_timeline(&r.lines(), &node, 180 * SECOND);
    assert!(tl.no_execute.is_some());
    r.until(1200);
    let lines = r.lines();
    let msgs: Vec<&str> = events(&lines, "TaintManagerEviction")
        .map(|e| e["message"].as_str().unwrap())
        .collect();
    assert_eq!(msgs, vec!["Cancelling deletion of Pod default/redis-0"]);
    let pod = r.pod("redis-0").unwrap();
    assert_eq!(pod.metadata.uid, uid);
    assert!(!pod.is_terminating());
    let n = r
        .sim
        .api()
        .get::<stsim::api::Node>(&ObjectKey::cluster(&node))
        .unwrap();
    assert!(n.is_ready());
    assert!(n.spec.taints.is_empty(), "{:?}", n.spec.taints);
}
