//! The two rollout teaching scenarios, step by step: `scenarios/forced-rollback.yaml` (the
//! "Forced rollback" trap, upstream #67250, R-11.7) and `scenarios/partitioned-rollout.yaml`
//! (a canary and a phased rollout with `rollingUpdate.partition`, R-11.4, R-4.5). Each test
//! runs the bundled file with the engine's stepping API, looks at the cluster just before
//! each operator action, and reads the order of events from the trace.

use crate::harness::{SharedBuf, bundled, trace_lines};
use serde_json::Value;
use std::collections::BTreeMap;
use stsim::api::pod::phase;
use stsim::api::statefulset::StatefulSetStatus;
use stsim::api::{ObjectKey, Pod};
use stsim::sim::{RunOptions, RunResult, Simulation};
use stsim::time::{SimDuration, SimTime};

const REVISION_LABEL: &str = "controller-revision-hash";

fn at(secs: u64) -> SimTime {
    SimTime::ZERO + SimDuration::from_secs(secs)
}

/// What a test needs to know of one pod at one instant.
#[derive(Clone, Debug, PartialEq, Eq)]
struct PodView {
    uid: String,
    revision: String,
    phase: String,
    ready: bool,
    terminating: bool,
}

impl PodView {
    fn of(pod: &Pod) -> Self {
        PodView {
            uid: pod.metadata.uid.clone(),
            revision: pod
                .metadata
                .labels
                .get(REVISION_LABEL)
                .cloned()
                .unwrap_or_default(),
            phase: pod.status.phase.clone(),
            ready: pod.is_ready(),
            terminating: pod.is_terminating(),
        }
    }
}

/// A bundled scenario run in steps, its trace kept in memory.
struct Stepper {
    sim: Simulation,
    trace: SharedBuf,
}

impl Stepper {
    fn new(name: &str) -> Self {
        let scenario = bundled(name);
        let trace = SharedBuf::default();
        let mut opts = RunOptions::for_scenario(&scenario);
        opts.trace = Some(Box::new(trace.clone()));
        Stepper {
            sim: Simulation::new(&scenario, opts),
            trace,
        }
    }

    /// Runs to `t` and returns the pods of `web` by name.
    fn pods_at(&mut self, t: SimTime) -> BTreeMap<String, PodView> {
        self.sim.run_until(t);
        self.sim
            .api()
            .objects()
            .pods
            .values()
            .map(|p| (p.metadata.name.clone(), PodView::of(p)))
            .collect()
    }

    fn status(&self) -> StatefulSetStatus {
        self.sim.api().objects().stateful_sets[&ObjectKey::new("default", "web")]
            .status
            .clone()
    }

    /// Runs to the end; the result and the trace lines.
    fn finish(self) -> (RunResult, Vec<Value>) {
        let result = self.sim.run();
        let lines = trace_lines(&self.trace.0.borrow());
        (result, lines)
    }
}

/// `(time in ms, pod name, actor)` of every pod deletion request in trace order: deletes
/// by the controller or an operator (the kubelet's final removal is no request).
fn pod_delete_requests(lines: &[Value]) -> Vec<(u64, String, String)> {
    lines
        .iter()
        .filter(|l| l["type"] == "write" && l["kind"] == "Pod" && l["verb"] == "delete")
        .filter(|l| l["actor"] == "statefulset-controller" || l["actor"] == "kubectl")
        .map(|l| {
            (
                l["t_us"].as_u64().unwrap() / 1000,
                l["name"].as_str().unwrap().to_string(),
                l["actor"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// `(time in ms, status)` of every status write of `web` by the controller.
fn status_writes(lines: &[Value]) -> Vec<(u64, Value)> {
    lines
        .iter()
        .filter(|l| l["type"] == "write" && l["kind"] == "StatefulSet" && l["verb"] == "status")
        .map(|l| {
            (
                l["t_us"].as_u64().unwrap() / 1000,
                l["object"]["status"].clone(),
            )
        })
        .collect()
}

/// When a pod named `name` created after `from_ms` first reported Ready (ms).
fn ready_after(lines: &[Value], name: &str, from_ms: u64) -> Option<u64> {
    lines
        .iter()
        .filter(|l| l["type"] == "write" && l["kind"] == "Pod" && l["name"] == name)
        .filter(|l| l["t_us"].as_u64().unwrap() / 1000 >= from_ms)
        .find(|l| {
            l["object"]["status"]["conditions"]
                .as_array()
                .is_some_and(|cs| {
                    cs.iter()
                        .any(|c| c["type"] == "Ready" && c["status"] == "True")
                })
        })
        .map(|l| l["t_us"].as_u64().unwrap() / 1000)
}

fn notes_between(lines: &[Value], from_ms: u64, to_ms: u64) -> Vec<String> {
    lines
        .iter()
        .filter(|l| l["type"] == "note" && l["source"] == "statefulset-controller")
        .filter(|l| (from_ms..to_ms).contains(&(l["t_us"].as_u64().unwrap() / 1000)))
        .map(|l| l["message"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn forced_rollback_is_stuck_until_the_broken_pod_is_deleted() {
    let mut s = Stepper::new("forced-rollback");

    // Before the rollout: three pods Running and Ready at one revision.
    let before = s.pods_at(at(119));
    assert_eq!(before.len(), 3);
    let good = before["web-0"].revision.clone();
    for (name, p) in &before {
        assert!(p.ready && p.phase == phase::RUNNING, "{name}: {p:?}");
        assert_eq!(p.revision, good, "{name}");
    }
    let st = s.status();
    assert_eq!((st.ready_replicas, st.updated_replicas), (3, 3));
    assert_eq!((&st.current_revision, &st.update_revision), (&good, &good));

    // The bad image: web-2 was replaced at the new revision and can never become Ready;
    // web-0 and web-1 are the same pods as before, at the good revision.
    let stuck = s.pods_at(at(299));
    let st = s.status();
    let bad = st.update_revision.clone();
    assert_ne!(bad, good);
    assert_eq!(st.current_revision, good);
    assert_eq!((st.ready_replicas, st.updated_replicas), (2, 1));
    let web2 = &stuck["web-2"];
    assert_ne!(web2.uid, before["web-2"].uid, "web-2 was recreated");
    assert_eq!(web2.revision, bad);
    assert!(!web2.ready && web2.phase == phase::PENDING, "{web2:?}");
    for name in ["web-0", "web-1"] {
        assert_eq!(stuck[name], before[name], "{name} is left alone");
    }

    // `rollout undo` makes the good revision the update revision again (the same
    // ControllerRevision, R-4.3 step 4), but the controller still waits for the broken pod.
    let undone = s.pods_at(at(479));
    let st = s.status();
    assert_eq!(st.update_revision, good, "the old revision is reused");
    assert_eq!(st.current_revision, good);
    assert_eq!((st.ready_replicas, st.updated_replicas), (2, 2));
    assert_eq!(
        undone["web-2"], *web2,
        "the broken pod is not replaced by the undo"
    );
    for name in ["web-0", "web-1"] {
        assert_eq!(undone[name], before[name], "{name} is left alone");
    }

    // The manual delete: web-2 comes back from the reverted template and the set converges.
    let after = s.pods_at(at(600));
    let st = s.status();
    assert_eq!(
        (st.ready_replicas, st.updated_replicas, st.replicas),
        (3, 3, 3)
    );
    assert_eq!((&st.current_revision, &st.update_revision), (&good, &good));
    assert_ne!(after["web-2"].uid, web2.uid);
    for (name, p) in &after {
        assert!(p.ready && p.revision == good, "{name}: {p:?}");
    }
    for name in ["web-0", "web-1"] {
        assert_eq!(after[name], before[name], "{name} never restarted");
    }

    let (result, lines) = s.finish();
    assert!(result.findings.is_empty(), "{:?}", result.findings);
    // Exactly two deletions in the whole run: the controller's rollout step at 2m and the
    // operator's at 8m. Nothing between them, the undo included.
    let deletes = pod_delete_requests(&lines);
    let summary: Vec<_> = deletes
        .iter()
        .map(|(t, n, a)| (*t / 1000, n.as_str(), a.as_str()))
        .collect();
    assert_eq!(
        summary,
        [
            (120, "web-2", "statefulset-controller"),
            (480, "web-2", "kubectl")
        ],
        "{deletes:?}"
    );
    // Why it waits, in the controller's words, before and after the undo.
    assert!(
        notes_between(&lines, 120_000, 300_000)
            .contains(&"waiting for web-2 to be Running and Ready before updating web-1".into())
    );
    assert_eq!(
        notes_between(&lines, 300_000, 480_000),
        ["waiting for web-2 to be Running and Ready before updating web-2"]
    );
    // The undo reused the first revision's object: still only two revisions.
    let revisions: Vec<_> = lines
        .iter()
        .filter(|l| l["type"] == "write" && l["kind"] == "ControllerRevision")
        .map(|l| (l["verb"].as_str().unwrap(), l["name"].as_str().unwrap()))
        .collect();
    assert_eq!(
        revisions,
        [
            ("create", good.as_str()),
            ("create", bad.as_str()),
            ("update", good.as_str())
        ]
    );
}

#[test]
fn partitioned_rollout_updates_the_canary_then_each_phase_highest_first() {
    let mut s = Stepper::new("partitioned-rollout");

    let before = s.pods_at(at(119));
    assert_eq!(before.len(), 5);
    let old = before["web-0"].revision.clone();
    assert!(before.values().all(|p| p.ready && p.revision == old));

    // Partition 4: only web-4 moves to the new revision (the canary).
    let canary = s.pods_at(at(299));
    let st = s.status();
    let new = st.update_revision.clone();
    assert_ne!(new, old);
    assert_eq!(st.current_revision, old);
    assert_eq!(
        (st.ready_replicas, st.current_replicas, st.updated_replicas),
        (5, 4, 1)
    );
    assert_eq!(canary["web-4"].revision, new);
    assert!(canary["web-4"].ready);
    for name in ["web-0", "web-1", "web-2", "web-3"] {
        assert_eq!(canary[name], before[name], "{name} is below the partition");
    }

    // Partition 2: web-3 and web-2 too; web-0 and web-1 untouched.
    let phase2 = s.pods_at(at(479));
    let st = s.status();
    assert_eq!(st.current_revision, old, "not every pod is updated yet");
    assert_eq!(
        (st.ready_replicas, st.current_replicas, st.updated_replicas),
        (5, 2, 3)
    );
    for name in ["web-2", "web-3", "web-4"] {
        assert!(phase2[name].ready && phase2[name].revision == new, "{name}");
    }
    for name in ["web-0", "web-1"] {
        assert_eq!(phase2[name], before[name], "{name} is below the partition");
    }

    // Partition 0: everyone; only now does currentRevision advance.
    let done = s.pods_at(at(600));
    let st = s.status();
    assert_eq!((&st.current_revision, &st.update_revision), (&new, &new));
    assert_eq!(
        (st.ready_replicas, st.current_replicas, st.updated_replicas),
        (5, 5, 5)
    );
    assert!(done.values().all(|p| p.ready && p.revision == new));

    let (result, lines) = s.finish();
    assert!(result.findings.is_empty(), "{:?}", result.findings);
    // No warning from the rollout itself (the first claims' provisioning may delay the
    // first scheduling attempts; that is over long before 2m).
    let warnings: Vec<_> = lines
        .iter()
        .filter(|l| l["type"] == "event" && l["eventType"] == "Warning")
        .filter(|l| l["t_us"].as_u64().unwrap() >= 60_000_000)
        .map(|l| l["message"].clone())
        .collect();
    assert!(warnings.is_empty(), "{warnings:?}");
    // Highest ordinal first, in three phases, each deletion only after the pod above it
    // is back and Ready.
    let deletes = pod_delete_requests(&lines);
    let names: Vec<_> = deletes.iter().map(|(_, n, _)| n.as_str()).collect();
    assert_eq!(names, ["web-4", "web-3", "web-2", "web-1", "web-0"]);
    assert!(
        deletes
            .iter()
            .all(|(_, _, a)| a == "statefulset-controller")
    );
    let phase_of = |t: u64| match t {
        120_000..180_000 => 1,
        300_000..360_000 => 2,
        480_000..540_000 => 3,
        _ => 0,
    };
    let phases: Vec<_> = deletes.iter().map(|(t, _, _)| phase_of(*t)).collect();
    assert_eq!(phases, [1, 2, 2, 3, 3], "{deletes:?}");
    for pair in deletes.windows(2) {
        let ((t_above, above, _), (t_below, below, _)) = (&pair[0], &pair[1]);
        if phase_of(*t_above) == phase_of(*t_below) {
            let ready = ready_after(&lines, above, *t_above).expect("recreated and Ready");
            assert!(
                ready <= *t_below,
                "{below} deleted at {t_below} ms before {above} was Ready again ({ready} ms)"
            );
        }
    }
    // status.currentRevision changes exactly once, when the last pod is updated and Ready.
    let writes = status_writes(&lines);
    let switches: Vec<_> = writes
        .windows(2)
        .filter(|w| w[0].1["currentRevision"] != w[1].1["currentRevision"])
        .map(|w| (w[1].0, w[1].1.clone()))
        .collect();
    assert_eq!(switches.len(), 1, "{switches:?}");
    let (t, status) = &switches[0];
    assert_eq!(status["currentRevision"], new.as_str());
    assert_eq!(
        (
            &status["readyReplicas"],
            &status["updatedReplicas"],
            &status["currentReplicas"]
        ),
        (&Value::from(5), &Value::from(5), &Value::from(5))
    );
    let web0_ready = ready_after(&lines, "web-0", 480_000).unwrap();
    assert!(
        *t >= web0_ready,
        "currentRevision advanced at {t} ms, web-0 Ready at {web0_ready} ms"
    );
    // The controller explains each wait of the phased rollout.
    let notes = notes_between(&lines, 300_000, 360_000);
    assert!(
        notes.contains(&"waiting for web-3 to be Running and Ready before updating web-2".into()),
        "{notes:?}"
    );
}
