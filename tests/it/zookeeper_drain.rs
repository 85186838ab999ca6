//! `scenarios/zookeeper-drain.yaml` (the ZooKeeper tutorial's "Surviving Maintenance"
//! drills), step by step against the timeline in its header: the ensemble forms one member
//! per node; the first drain moves zk-0 to the spare node; the second leaves zk-1 Pending
//! (required anti-affinity); the third is refused with 429 every 5 s while the budget is
//! spent and completes only after the uncordon lets zk-1 back and Ready. Also: members
//! never share a node, two stay Ready, the run is deterministic, and the tutorial's
//! published anti-affinity selector (`app In [zk]`, which no pod matches) would not have
//! kept the members apart.

use crate::harness::{bundled, repo_path, run_with_trace, trace_lines};
use serde_json::Value;
use std::collections::BTreeMap;
use stsim::api::{ObjectKey, Pod, PodDisruptionBudget};
use stsim::apiserver::{ApiError, DeleteOptions};
use stsim::scenario;
use stsim::sim::{RunOptions, RunResult, Simulation, StopReason};
use stsim::time::{SimTime, parse_duration};

const SPARE: &str = "node-zone-a-4";
const REFUSED: &str = "error when evicting pods/\"zk-2\" -n \"default\" (will retry after 5s): \
                       Cannot evict pod as it would violate the pod's disruption budget.";

/// Microseconds of a Go duration (the trace's `t_us`).
fn us(spec: &str) -> u64 {
    parse_duration(spec).expect("a duration").as_nanos() / 1_000
}

fn at(spec: &str) -> SimTime {
    SimTime::ZERO + parse_duration(spec).expect("a duration")
}

/// `t` is within `slack` of `want` (latencies that come from profiles and probes).
fn near(t: u64, want: &str, slack: &str) -> bool {
    t.abs_diff(us(want)) <= us(slack)
}

/// One write of a pod, as the trace has it.
#[derive(Clone, Debug)]
struct PodWrite {
    t: u64,
    name: String,
    uid: String,
    node: String,
    ready: bool,
    removed: bool,
}

struct Run {
    result: RunResult,
    lines: Vec<Value>,
}

impl Run {
    fn new() -> Self {
        let (result, bytes) = run_with_trace(&bundled("zookeeper-drain"), 1);
        Run {
            result,
            lines: trace_lines(&bytes),
        }
    }

    fn pod_writes(&self) -> Vec<PodWrite> {
        pod_writes(&self.lines)
    }

    /// The incarnations of `name` in order of creation: `(uid, node it ran on, first
    /// Ready)`.
    fn incarnations(&self, name: &str) -> Vec<(String, String, Option<u64>)> {
        let mut out: Vec<(String, String, Option<u64>)> = Vec::new();
        for w in self.pod_writes().into_iter().filter(|w| w.name == name) {
            let i = match out.iter().position(|(uid, _, _)| *uid == w.uid) {
                Some(i) => i,
                None => {
                    out.push((w.uid.clone(), String::new(), None));
                    out.len() - 1
                }
            };
            if !w.node.is_empty() {
                out[i].1 = w.node.clone();
            }
            if w.ready && out[i].2.is_none() {
                out[i].2 = Some(w.t);
            }
        }
        out
    }

    /// `(t_us, message)` of the lines a running `kubectl drain` prints later.
    fn kubectl_notes(&self) -> Vec<(u64, String)> {
        self.lines
            .iter()
            .filter(|l| l["type"] == "note" && l["source"] == "kubectl")
            .map(|l| (l["t_us"].as_u64().unwrap(), str_of(&l["message"])))
            .collect()
    }

    /// `(t_us, command, ok, output)` of every action.
    fn actions(&self) -> Vec<(u64, String, bool, String)> {
        self.lines
            .iter()
            .filter(|l| l["type"] == "action")
            .map(|l| {
                (
                    l["t_us"].as_u64().unwrap(),
                    str_of(&l["command"]),
                    l["ok"].as_bool().unwrap(),
                    str_of(&l["output"]),
                )
            })
            .collect()
    }

    /// `(t_us, message)` of the Kubernetes Events with `reason` about `name`.
    fn events(&self, reason: &str, name: &str) -> Vec<(u64, String)> {
        self.lines
            .iter()
            .filter(|l| l["type"] == "event" && l["reason"] == reason && l["name"] == name)
            .map(|l| (l["t_us"].as_u64().unwrap(), str_of(&l["message"])))
            .collect()
    }

    /// `(t_us, disruptionsAllowed)` of every write of zk-pdb.
    fn budget(&self) -> Vec<(u64, i64)> {
        self.lines
            .iter()
            .filter(|l| l["type"] == "write" && l["kind"] == "PodDisruptionBudget")
            .map(|l| {
                let allowed = &l["object"]["status"]["disruptionsAllowed"];
                (l["t_us"].as_u64().unwrap(), allowed.as_i64().unwrap_or(0))
            })
            .collect()
    }
}

fn str_of(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_string()
}

fn pod_writes(lines: &[Value]) -> Vec<PodWrite> {
    lines
        .iter()
        .filter(|l| l["type"] == "write" && l["kind"] == "Pod")
        .map(|l| {
            let o = &l["object"];
            let ready = o["status"]["conditions"].as_array().is_some_and(|cs| {
                cs.iter()
                    .any(|c| c["type"] == "Ready" && c["status"] == "True")
            });
            PodWrite {
                t: l["t_us"].as_u64().unwrap(),
                name: str_of(&l["name"]),
                uid: str_of(&o["metadata"]["uid"]),
                node: str_of(&o["spec"]["nodeName"]),
                ready,
                removed: l["removed"].as_bool().unwrap(),
            }
        })
        .collect()
}

/// Replays pod writes and returns, after each, the live pods as `uid -> (name, node)`;
/// calls `check(t, live)` after every write.
fn replay(writes: &[PodWrite], mut check: impl FnMut(u64, &BTreeMap<String, PodWrite>)) {
    let mut live: BTreeMap<String, PodWrite> = BTreeMap::new();
    for w in writes {
        if w.removed {
            live.remove(&w.uid);
        } else {
            live.insert(w.uid.clone(), w.clone());
        }
        check(w.t, &live);
    }
}

#[test]
fn the_ensemble_forms_one_member_per_node_in_ordinal_order() {
    let r = Run::new();
    let first: Vec<(String, String, Option<u64>)> = ["zk-0", "zk-1", "zk-2"]
        .iter()
        .map(|n| r.incarnations(n)[0].clone())
        .collect();
    let nodes: Vec<&str> = first.iter().map(|(_, n, _)| n.as_str()).collect();
    assert_eq!(nodes, ["node-zone-a-1", "node-zone-a-3", "node-zone-a-2"]);
    let ready: Vec<u64> = first.iter().map(|(_, _, t)| t.unwrap()).collect();
    assert!(near(ready[0], "42.1s", "1s"), "zk-0 Ready at {}", ready[0]);
    assert!(
        near(ready[1], "1m24.5s", "1s"),
        "zk-1 Ready at {}",
        ready[1]
    );
    assert!(near(ready[2], "2m4.4s", "1s"), "zk-2 Ready at {}", ready[2]);
    // OrderedReady: each member is created only once its predecessor is Ready.
    let created: Vec<u64> = r
        .events("SuccessfulCreate", "zk")
        .into_iter()
        .filter(|(_, m)| m.starts_with("create Pod"))
        .map(|(t, _)| t)
        .take(3)
        .collect();
    assert!(
        created[1] >= ready[0] && created[2] >= ready[1],
        "{created:?}"
    );
    // The budget allows one disruption once all three are healthy.
    let allowed_at = r.budget().into_iter().find(|(_, a)| *a == 1).unwrap().0;
    assert!(allowed_at >= ready[2] && allowed_at < us("2m10s"));
}

#[test]
fn the_first_drain_moves_zk0_to_the_spare_node_with_its_volume() {
    let r = Run::new();
    let (t, cmd, ok, out) = r.actions()[0].clone();
    assert_eq!(t, us("5m"));
    assert!(cmd.starts_with("drain node-zone-a-1"), "{cmd}");
    assert!(ok);
    assert_eq!(
        out,
        "node/node-zone-a-1 cordoned\nevicting pod default/zk-0"
    );
    let notes = r.kubectl_notes();
    assert!(notes.contains(&(us("5m1s"), "pod/zk-0 evicted".into())));
    assert!(notes.contains(&(us("5m1s"), "node/node-zone-a-1 drained".into())));
    let zk0 = r.incarnations("zk-0");
    assert_eq!(zk0.len(), 2, "evicted once: {zk0:?}");
    assert_eq!(zk0[1].1, SPARE);
    let ready = zk0[1].2.expect("the new zk-0 becomes Ready");
    assert!(near(ready, "5m52.9s", "2s"), "zk-0 Ready again at {ready}");
    // The volume follows: detached from the drained node, attached to the spare one.
    let attachments: Vec<(String, String)> = r
        .lines
        .iter()
        .filter(|l| {
            l["type"] == "write" && l["kind"] == "VolumeAttachment" && l["verb"] == "create"
        })
        .map(|l| {
            let spec = &l["object"]["spec"];
            (
                str_of(&spec["source"]["persistentVolumeName"]),
                str_of(&spec["nodeName"]),
            )
        })
        .collect();
    let claim = r
        .result
        .final_state
        .persistent_volume_claims
        .iter()
        .find(|c| c.name == "datadir-zk-0")
        .unwrap();
    let zk0_volume: Vec<&str> = attachments
        .iter()
        .filter(|(pv, _)| *pv == claim.volume)
        .map(|(_, n)| n.as_str())
        .collect();
    assert_eq!(zk0_volume, ["node-zone-a-1", SPARE]);
    let multi = r.events("FailedAttachVolume", "zk-0");
    assert_eq!(multi.len(), 1, "{multi:?}");
    assert!(multi[0].1.starts_with("Multi-Attach error"));
}

#[test]
fn the_second_drain_leaves_zk1_pending_by_anti_affinity() {
    let r = Run::new();
    let (t, cmd, ok, out) = r.actions()[1].clone();
    assert_eq!((t, ok), (us("7m"), true));
    assert!(cmd.starts_with("drain node-zone-a-3"), "{cmd}");
    assert_eq!(
        out,
        "node/node-zone-a-3 cordoned\nevicting pod default/zk-1"
    );
    assert!(
        r.kubectl_notes()
            .contains(&(us("7m1s"), "node/node-zone-a-3 drained".into()))
    );
    // Two attempts fail: the drain's, and the retry on the uncordon at 11m, which still
    // sees the node lifecycle controller's `node.kubernetes.io/unschedulable` taint (it is
    // removed on the node update a moment later, and the next retry succeeds) — the same
    // race a real cluster has.
    let failed = r.events("FailedScheduling", "zk-1");
    assert_eq!(failed.len(), 2, "{failed:?}");
    assert_eq!(
        failed[1].1,
        "0/4 nodes are available: 1 node(s) didn't match pod anti-affinity rules, \
         1 node(s) had untolerated taint {node.kubernetes.io/unschedulable: }, \
         2 node(s) were unschedulable."
    );
    assert_eq!(
        failed[0].1,
        "0/4 nodes are available: 2 node(s) didn't match pod anti-affinity rules, \
         2 node(s) were unschedulable."
    );
    // The new zk-1 has no node from its creation until the uncordon at 11m.
    let zk1 = r.incarnations("zk-1");
    assert_eq!(zk1.len(), 2);
    let scheduled = r
        .pod_writes()
        .into_iter()
        .find(|w| w.uid == zk1[1].0 && !w.node.is_empty())
        .unwrap();
    assert!(
        scheduled.t > us("11m") && scheduled.t < us("11m1s"),
        "zk-1 placed at {}",
        scheduled.t
    );
    assert_eq!(scheduled.node, "node-zone-a-1", "the uncordoned node");
    // The budget is spent from the second eviction until zk-1 is Ready again.
    let ready = zk1[1].2.expect("zk-1 Ready again");
    assert!(near(ready, "11m25.7s", "2s"), "zk-1 Ready again at {ready}");
    for (t, allowed) in r.budget() {
        if t > us("7m") && t < ready {
            assert_eq!(allowed, 0, "disruptionsAllowed at {t}");
        }
    }
}

#[test]
fn the_third_drain_is_refused_every_5s_until_the_uncordon_lets_zk1_back() {
    let r = Run::new();
    let (t, cmd, ok, out) = r.actions()[2].clone();
    assert_eq!((t, ok), (us("9m"), true));
    assert!(cmd.starts_with("drain node-zone-a-2"), "{cmd}");
    assert_eq!(
        out,
        format!("node/node-zone-a-2 cordoned\nevicting pod default/zk-2\n{REFUSED}")
    );
    let notes = r.kubectl_notes();
    let refusals: Vec<u64> = notes
        .iter()
        .filter(|(_, m)| m == REFUSED)
        .map(|(t, _)| *t)
        .collect();
    // The action's own refusal at 9m, then one at every retry up to 11m25s.
    let want: Vec<u64> = (1..30).map(|k| us("9m") + k * 5_000_000).collect();
    assert_eq!(refusals, want);
    let tries: Vec<u64> = notes
        .iter()
        .filter(|(_, m)| m == "evicting pod default/zk-2")
        .map(|(t, _)| *t)
        .collect();
    assert_eq!(tries.len(), 30, "29 refused retries and the accepted one");
    let accepted = *tries.last().unwrap();
    assert_eq!(accepted, us("11m30s"));
    // Accepted only after the uncordon and once zk-1 was Ready again.
    let zk1_ready = r.incarnations("zk-1")[1].2.unwrap();
    assert!(accepted > us("11m") && accepted > zk1_ready);
    assert!(accepted - zk1_ready <= 5_000_000, "at the next retry");
    let tail: Vec<&str> = notes
        .iter()
        .filter(|(t, _)| *t > accepted)
        .map(|(_, m)| m.as_str())
        .collect();
    assert_eq!(tail, ["pod/zk-2 evicted", "node/node-zone-a-2 drained"]);
    let drained = notes
        .iter()
        .find(|(_, m)| m == "node/node-zone-a-2 drained")
        .unwrap()
        .0;
    assert_eq!(drained, us("11m31s"));
    // zk-2 then waits for the second uncordon (14m) and comes back on that node.
    let zk2 = r.incarnations("zk-2");
    assert_eq!(zk2.len(), 2);
    assert_eq!(zk2[1].1, "node-zone-a-3");
    let ready = zk2[1].2.expect("zk-2 Ready again");
    assert!(near(ready, "14m27.8s", "2s"), "zk-2 Ready again at {ready}");
    // As for zk-1: one more failed attempt on the uncordon, before the taint is removed.
    assert_eq!(r.events("FailedScheduling", "zk-2").len(), 2);
}

#[test]
fn the_eviction_api_answers_429_while_the_budget_is_spent() {
    let s = bundled("zookeeper-drain");
    let mut sim = Simulation::new(&s, RunOptions::for_scenario(&s));
    let key = ObjectKey::new("default", "zk-2");
    let pdb = |sim: &Simulation| {
        sim.api()
            .objects()
            .get::<PodDisruptionBudget>(&ObjectKey::new("default", "zk-pdb"))
            .unwrap()
            .status
            .clone()
    };
    let pod = |sim: &Simulation| sim.api().objects().get::<Pod>(&key).cloned();
    sim.run_until(at("10m"));
    let st = pdb(&sim);
    assert_eq!(
        (
            st.current_healthy,
            st.desired_healthy,
            st.disruptions_allowed
        ),
        (2, 2, 0)
    );
    let answer = sim.act(&stsim::operator::actor(), |c| {
        c.evict(&key, &DeleteOptions::default())
    });
    assert_eq!(answer, Err(ApiError::TooManyRequests));
    let zk2 = pod(&sim).unwrap();
    assert!(!zk2.is_terminating() && zk2.is_ready());
    assert_eq!(zk2.spec.node_name, "node-zone-a-2");
    // Still held just before the accepted retry; gone just after it.
    sim.run_until(at("11m29s"));
    assert_eq!(pdb(&sim).disruptions_allowed, 1, "zk-1 is Ready again");
    assert!(!pod(&sim).unwrap().is_terminating());
    sim.run_until(at("11m31s"));
    let zk2 = pod(&sim).unwrap();
    assert!(zk2.spec.node_name.is_empty(), "a new zk-2, Pending");
    let r = sim.into_result();
    assert!(r.findings.is_empty(), "{:?}", r.findings);
}

#[test]
fn members_never_share_a_node_and_two_stay_ready() {
    let r = Run::new();
    let writes = r.pod_writes();
    let formed = r.incarnations("zk-2")[0].2.unwrap();
    let mut checked = 0;
    replay(&writes, |t, live| {
        let mut nodes: Vec<&str> = live
            .values()
            .filter(|w| !w.node.is_empty())
            .map(|w| w.node.as_str())
            .collect();
        let n = nodes.len();
        nodes.sort();
        nodes.dedup();
        assert_eq!(nodes.len(), n, "two members on one node at {t}: {live:?}");
        if t >= formed {
            let ready = live.values().filter(|w| w.ready).count();
            assert!(ready >= 2, "only {ready} Ready at {t}");
            checked += 1;
        }
    });
    assert!(checked > 20, "{checked} writes checked");
}

#[test]
fn the_run_ends_with_three_ready_members_and_no_findings() {
    let r = Run::new();
    assert_eq!(r.result.stop, StopReason::EndOfTime);
    assert!(r.result.findings.is_empty(), "{:?}", r.result.findings);
    let pods: Vec<(&str, &str, bool)> = r
        .result
        .final_state
        .pods
        .iter()
        .map(|p| (p.name.as_str(), p.node.as_str(), p.ready))
        .collect();
    assert_eq!(
        pods,
        [
            ("zk-0", SPARE, true),
            ("zk-1", "node-zone-a-1", true),
            ("zk-2", "node-zone-a-3", true)
        ]
    );
    let cordoned: Vec<&str> = r
        .result
        .final_state
        .nodes
        .iter()
        .filter(|n| n.unschedulable)
        .map(|n| n.name.as_str())
        .collect();
    assert_eq!(cordoned, ["node-zone-a-2"]);
    // One Multi-Attach warning and four FailedScheduling (two per re-placed member).
    assert_eq!(r.result.counts.warnings, 5);
    assert!(
        r.result
            .final_state
            .persistent_volume_claims
            .iter()
            .all(|c| c.phase == "Bound")
    );
    let actions = r.actions();
    assert_eq!(actions.len(), 5);
    assert!(actions.iter().all(|a| a.2), "every action succeeds");
}

#[test]
fn two_runs_give_the_same_trace() {
    let s = bundled("zookeeper-drain");
    let (r1, a) = run_with_trace(&s, 1);
    let (r2, b) = run_with_trace(&s, 1);
    assert!(!a.is_empty());
    assert!(a == b, "two runs with seed 1 gave different traces");
    assert_eq!(r1.to_json(), r2.to_json());
}

#[test]
fn the_published_selector_would_let_two_members_share_a_node() {
    // The tutorial's file selects `app In [zk]` while its pods carry only
    // `app.kubernetes.io/name: zk`: the rule matches nothing, and the drills end with the
    // whole ensemble on one node.
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("manifests")).unwrap();
    let ours = std::fs::read_to_string(repo_path("scenarios/manifests/zookeeper.yaml")).unwrap();
    let fixed = "- key: \"app.kubernetes.io/name\"";
    assert_eq!(ours.matches(fixed).count(), 1);
    let published = ours.replace(fixed, "- key: \"app\"");
    std::fs::write(dir.path().join("manifests/zookeeper.yaml"), published).unwrap();
    let text = std::fs::read_to_string(repo_path("scenarios/zookeeper-drain.yaml")).unwrap();
    let path = dir.path().join("zookeeper-drain.yaml");
    std::fs::write(&path, text).unwrap();
    let s = scenario::load(&path).unwrap_or_else(|e| panic!("{e}"));
    let (result, bytes) = run_with_trace(&s, 1);
    let lines = trace_lines(&bytes);
    let mut shared = None;
    replay(&pod_writes(&lines), |t, live| {
        let mut nodes: Vec<&str> = live
            .values()
            .filter(|w| !w.node.is_empty())
            .map(|w| w.node.as_str())
            .collect();
        let n = nodes.len();
        nodes.sort();
        nodes.dedup();
        if nodes.len() < n && shared.is_none() {
            shared = Some(t);
        }
    });
    let shared = shared.expect("two members on one node");
    assert!(
        shared > us("7m") && shared < us("7m1s"),
        "zk-1 joins zk-2 at the second drain ({shared})"
    );
    // The third drain then needs no uncordon: it evicts zk-1 and zk-2 in turn, and all
    // three members end on the one node left schedulable.
    let drained = lines
        .iter()
        .find(|l| l["type"] == "note" && l["message"] == "node/node-zone-a-2 drained")
        .map(|l| l["t_us"].as_u64().unwrap())
        .unwrap();
    assert!(drained < us("11m"), "drained at {drained}");
    let nodes: Vec<&str> = result
        .final_state
        .pods
        .iter()
        .map(|p| p.node.as_str())
        .collect();
    assert_eq!(nodes, [SPARE, SPARE, SPARE]);
}
