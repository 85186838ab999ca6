//! Garbage collection, PVC protection and the retention policy end to end, and the kubectl
//! actions of issue 3 (delete statefulset/pvc, rollout undo/restart, patch), on small
//! inline scenarios run with auto kubelets. Case numbers are statefulset-cases.md's.

use crate::harness::{SharedBuf, run_with_trace, trace_lines};
use serde_json::Value;
use std::path::Path;
use std::rc::Rc;
use stsim::api::{ObjectKey, PersistentVolumeClaim, Pod, StatefulSet};
use stsim::apiserver::Actor;
use stsim::scenario::{self, ManifestObject, Scenario};
use stsim::sim::{RunOptions, Simulation};
use stsim::time::SimTime;

/// A scenario with set `web` (nginx:1, claim template `www`, 10 s grace period), `extra`
/// lines added to its spec, and `actions` as (time, kubectl line).
fn scenario(replicas: i32, extra: &str, actions: &[(&str, &str)]) -> Scenario {
    let mut text = format!(
        r#"apiVersion: stsim/v1alpha1
kind: Scenario
metadata: {{ name: gc }}
spec:
  duration: 30m
  cluster:
    zones:
      - name: a
        nodePools: [ {{ name: w, count: 3, capacity: {{ cpu: "8", memory: 16Gi }} }} ]
  images:
    - {{ image: "nginx:1", pullTime: 1s, shutdownTime: 1s }}
    - {{ image: "nginx:2", pullTime: 1s, shutdownTime: 1s }}
  manifests:
    - apiVersion: apps/v1
      kind: StatefulSet
      metadata: {{ name: web }}
      spec:
        serviceName: web
        replicas: {replicas}
{extra}        selector: {{ matchLabels: {{ app: web }} }}
        template:
          metadata: {{ labels: {{ app: web }} }}
          spec:
            terminationGracePeriodSeconds: 10
            containers: [ {{ name: nginx, image: "nginx:1" }} ]
        volumeClaimTemplates:
          - metadata: {{ name: www }}
            spec: {{ accessModes: [ ReadWriteOnce ], resources: {{ requests: {{ storage: 1Gi }} }} }}
  actions:
"#
    );
    if actions.is_empty() {
        text.push_str("    []\n");
    }
    for (at, line) in actions {
        text.push_str(&format!(
            "    - at: {at}\n      kubectl: >-\n        {line}\n"
        ));
    }
    scenario::load_str(&text, Path::new("inline.yaml")).unwrap_or_else(|e| panic!("{e}"))
}

fn retention(when_deleted: &str, when_scaled: &str) -> String {
    format!(
        "        persistentVolumeClaimRetentionPolicy: {{ whenDeleted: {when_deleted}, whenScaled: {when_scaled} }}\n"
    )
}

fn at(spec: &str) -> SimTime {
    SimTime::ZERO + stsim::time::parse_duration(spec).expect("a duration")
}

/// A run driven step by step, its trace kept in memory.
struct Run {
    sim: Simulation,
    trace: SharedBuf,
    scenario: Scenario,
}

impl Run {
    fn start(s: Scenario) -> Self {
        let trace = SharedBuf::default();
        let mut opts = RunOptions::for_scenario(&s);
        opts.trace = Some(Box::new(trace.clone()));
        Run {
            sim: Simulation::new(&s, opts),
            trace,
            scenario: s,
        }
    }
    fn until(&mut self, t: &str) -> &mut Self {
        self.sim.run_until(at(t));
        self
    }
    fn pod(&self, name: &str) -> Option<Rc<Pod>> {
        self.sim
            .api()
            .get::<Pod>(&ObjectKey::new("default", name))
            .cloned()
    }
    fn claim(&self, name: &str) -> Option<Rc<PersistentVolumeClaim>> {
        self.sim
            .api()
            .get::<PersistentVolumeClaim>(&ObjectKey::new("default", name))
            .cloned()
    }
    fn set(&self) -> Option<Rc<StatefulSet>> {
        self.sim
            .api()
            .get::<StatefulSet>(&ObjectKey::new("default", "web"))
            .cloned()
    }
    fn pod_names(&self) -> Vec<String> {
        self.sim
            .api()
            .objects()
            .list::<Pod>()
            .map(|p| p.metadata.name.clone())
            .collect()
    }
    fn claim_names(&self) -> Vec<String> {
        self.sim
            .api()
            .objects()
            .list::<PersistentVolumeClaim>()
            .map(|p| p.metadata.name.clone())
            .collect()
    }
    /// Applies the scenario's set again with `replicas` (as `kubectl apply` would).
    fn recreate_set(&mut self, replicas: i32) {
        let mut set = self
            .scenario
            .manifests
            .iter()
            .find_map(|m| match &m.object {
                ManifestObject::StatefulSet(s) => Some(s.clone()),
                _ => None,
            })
            .expect("the scenario has a set");
        set.spec.replicas = Some(replicas);
        self.sim
            .act(&Actor::new("kubectl"), |c| c.create(set))
            .expect("the set is created again");
    }
    fn lines(&self) -> Vec<Value> {
        trace_lines(&self.trace.0.borrow())
    }
    /// The writes to `kind`/`name`, in trace order.
    fn writes(&self, kind: &str, name: &str) -> Vec<Write> {
        self.lines()
            .into_iter()
            .filter(|l| l["type"] == "write" && l["kind"] == kind && l["name"] == name)
            .map(|l| Write {
                t: l["t_us"].as_u64().unwrap(),
                seq: l["seq"].as_u64().unwrap(),
                verb: l["verb"].as_str().unwrap().to_string(),
                removed: l["removed"].as_bool().unwrap(),
                actor: l["actor"].as_str().unwrap().to_string(),
                object: l["object"].clone(),
            })
            .collect()
    }
    /// The write that removed `kind`/`name` from the store.
    fn removal(&self, kind: &str, name: &str) -> Option<Write> {
        self.writes(kind, name).into_iter().find(|w| w.removed)
    }
    /// When `kind`/`name` left the store.
    fn removed_at(&self, kind: &str, name: &str) -> Option<u64> {
        self.removal(kind, name).map(|w| w.t)
    }
    /// `(command, ok, output)` of every action so far.
    fn actions(&self) -> Vec<(String, bool, String)> {
        self.lines()
            .into_iter()
            .filter(|l| l["type"] == "action")
            .map(|l| {
                (
                    l["command"].as_str().unwrap().to_string(),
                    l["ok"].as_bool().unwrap(),
                    l["output"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    }
    fn outputs(&self) -> Vec<String> {
        self.actions().into_iter().map(|a| a.2).collect()
    }
}

/// One `write` line of the trace.
#[derive(Debug)]
struct Write {
    t: u64,
    seq: u64,
    verb: String,
    removed: bool,
    actor: String,
    object: Value,
}

fn owner_kinds(pvc: &PersistentVolumeClaim) -> Vec<String> {
    pvc.metadata
        .owner_references
        .iter()
        .map(|r| r.kind.clone())
        .collect()
}

#[test]
fn c63_cascading_delete_is_not_ordered_and_claims_are_reused() {
    let mut r = Run::start(scenario(3, "", &[("2m", "delete statefulset web")]));
    r.until("1m59s");
    let uids: Vec<String> = (0..3)
        .map(|i| {
            r.claim(&format!("www-web-{i}"))
                .unwrap()
                .metadata
                .uid
                .clone()
        })
        .collect();
    r.until("2m1s");
    assert!(
        r.set().is_none(),
        "a background delete removes the set at once"
    );
    assert_eq!(
        r.outputs(),
        ["statefulset.apps \"web\" deleted from default namespace"]
    );
    // The garbage collector deletes every pod at one instant, not one after another.
    let deletes: Vec<u64> = (0..3)
        .map(|i| {
            let w = r.writes("Pod", &format!("web-{i}"));
            let d = w
                .iter()
                .find(|w| w.verb == "delete" && w.actor == "garbage-collector-controller")
                .unwrap_or_else(|| panic!("web-{i} deleted by the GC: {w:?}"));
            d.t
        })
        .collect();
    assert!(deletes.iter().all(|t| *t == deletes[0]), "{deletes:?}");
    r.until("3m");
    assert!(r.pod_names().is_empty());
    assert!(
        r.sim
            .api()
            .objects()
            .list::<stsim::api::ControllerRevision>()
            .next()
            .is_none(),
        "revisions are collected too"
    );
    for (i, uid) in uids.iter().enumerate() {
        let c = r
            .claim(&format!("www-web-{i}"))
            .expect("claims remain (R-15.3)");
        assert!(!c.metadata.is_terminating());
        assert_eq!(&c.metadata.uid, uid);
    }
    // Re-applied, the set recreates web-0..2 in order with the same claims.
    r.recreate_set(3);
    r.until("5m");
    let created: Vec<u64> = (0..3)
        .map(|i| {
            r.writes("Pod", &format!("web-{i}"))
                .iter()
                .filter(|w| w.verb == "create")
                .nth(1)
                .expect("created again")
                .t
        })
        .collect();
    assert!(created.windows(2).all(|w| w[0] < w[1]), "{created:?}");
    for (i, uid) in uids.iter().enumerate() {
        assert!(r.pod(&format!("web-{i}")).unwrap().is_ready());
        assert_eq!(&r.claim(&format!("www-web-{i}")).unwrap().metadata.uid, uid);
    }
}

#[test]
fn foreground_delete_keeps_the_set_until_its_pods_are_gone() {
    let mut r = Run::start(scenario(
        3,
        "",
        &[("2m", "delete statefulset web --cascade=foreground")],
    ));
    r.until("2m100ms");
    let set = r.set().expect("the set waits for its pods");
    assert!(set.metadata.is_terminating());
    assert_eq!(set.metadata.finalizers, ["foregroundDeletion"]);
    assert!((0..3).all(|i| r.pod(&format!("web-{i}")).unwrap().is_terminating()));
    r.until("3m");
    assert!(r.set().is_none() && r.pod_names().is_empty());
    let set_gone = r.removed_at("StatefulSet", "web").unwrap();
    let last_pod = (0..3)
        .map(|i| r.removed_at("Pod", &format!("web-{i}")).unwrap())
        .max()
        .unwrap();
    assert!(set_gone >= last_pod, "{set_gone} < {last_pod}");
}

#[test]
fn c61_orphan_delete_then_recreate_adopts_the_pods() {
    let mut r = Run::start(scenario(
        3,
        "",
        &[
            ("2m", "delete statefulset web --cascade=orphan"),
            ("3m", "delete pod web-0"),
        ],
    ));
    r.until("1m59s");
    let www0 = r.claim("www-web-0").unwrap().metadata.uid.clone();
    r.until("2m1s");
    assert!(r.set().is_none(), "gone once its dependents are orphaned");
    for i in 0..3 {
        let p = r.pod(&format!("web-{i}")).unwrap();
        assert!(p.metadata.owner_references.is_empty(), "web-{i}");
        assert!(!p.is_terminating() && p.is_ready(), "web-{i} keeps running");
    }
    r.until("4m");
    assert_eq!(r.pod_names(), ["web-1", "web-2"], "nothing recreates web-0");
    r.recreate_set(2);
    r.until("6m");
    let set = r.set().unwrap();
    let web0 = r.pod("web-0").expect("web-0 recreated");
    assert!(web0.is_ready());
    assert_eq!(
        r.claim("www-web-0").unwrap().metadata.uid,
        www0,
        "same claim"
    );
    let web1 = r.pod("web-1").unwrap();
    assert_eq!(
        web1.metadata.controller_ref().map(|c| c.uid.clone()),
        Some(set.metadata.uid.clone()),
        "web-1 adopted"
    );
    assert!(r.pod("web-2").is_none(), "web-2 deleted as condemned");
    // web-2 goes only after web-0 is Ready (OrderedReady).
    let web0_ready = r
        .writes("Pod", "web-0")
        .iter()
        .filter(|w| {
            w.object["status"]["conditions"]
                .as_array()
                .is_some_and(|c| {
                    c.iter()
                        .any(|c| c["type"] == "Ready" && c["status"] == "True")
                })
        })
        .map(|w| w.t)
        .next_back()
        .unwrap();
    let web2_deleted = r
        .writes("Pod", "web-2")
        .iter()
        .find(|w| w.verb == "delete")
        .unwrap()
        .t;
    assert!(web2_deleted > web0_ready, "{web2_deleted} <= {web0_ready}");
}

#[test]
fn c49_default_retention_keeps_every_claim() {
    let mut r = Run::start(scenario(
        5,
        "",
        &[
            ("2m", "scale statefulset web --replicas=3"),
            ("4m", "delete statefulset web"),
        ],
    ));
    r.until("3m30s");
    assert_eq!(r.claim_names().len(), 5, "scale-down keeps the claims");
    r.until("6m");
    assert!(r.pod_names().is_empty());
    for i in 0..5 {
        let c = r.claim(&format!("www-web-{i}")).unwrap();
        assert!(c.metadata.owner_references.is_empty() && !c.metadata.is_terminating());
    }
}

#[test]
fn c51_when_scaled_delete_collects_the_condemned_claims() {
    let mut r = Run::start(scenario(
        3,
        &retention("Retain", "Delete"),
        &[("2m", "scale statefulset web --replicas=1")],
    ));
    r.until("5m");
    assert_eq!(r.claim_names(), ["www-web-0"]);
    assert!(
        r.claim("www-web-0")
            .unwrap()
            .metadata
            .owner_references
            .is_empty()
    );
    for i in [1, 2] {
        let claim = format!("www-web-{i}");
        let pod = format!("web-{i}");
        // The pod ref is on the claim before its pod is deleted (R-13.4)...
        let claim_writes = r.writes("PersistentVolumeClaim", &claim);
        let owned = claim_writes
            .iter()
            .find(|w| w.object["metadata"]["ownerReferences"][0]["kind"] == "Pod")
            .expect("a pod ref");
        let pod_writes = r.writes("Pod", &pod);
        let pod_deleted = pod_writes.iter().find(|w| w.verb == "delete").unwrap();
        assert!(owned.seq < pod_deleted.seq, "{claim}");
        // ...and the claim goes by the garbage collector once the pod is gone.
        let gc = claim_writes
            .iter()
            .find(|w| w.verb == "delete" && w.actor == "garbage-collector-controller")
            .expect("deleted by the GC");
        assert!(gc.seq > r.removal("Pod", &pod).unwrap().seq, "{claim}");
        assert!(r.removed_at("PersistentVolumeClaim", &claim).is_some());
    }
}

#[test]
fn when_deleted_delete_collects_claims_after_their_pods() {
    let mut r = Run::start(scenario(
        2,
        &retention("Delete", "Retain"),
        &[("2m", "delete statefulset web")],
    ));
    r.until("1m59s");
    let c = r.claim("www-web-0").unwrap();
    assert_eq!(owner_kinds(&c), ["StatefulSet"]);
    r.until("2m1s");
    // Deleted with the set, but held while their pods still run (PVC protection).
    let held = r.claim("www-web-0").expect("held by its pod");
    assert!(held.metadata.is_terminating());
    assert_eq!(held.metadata.finalizers, ["kubernetes.io/pvc-protection"]);
    r.until("4m");
    assert!(r.claim_names().is_empty());
    for i in 0..2 {
        let claim_gone = r
            .removed_at("PersistentVolumeClaim", &format!("www-web-{i}"))
            .unwrap();
        let pod_gone = r.removed_at("Pod", &format!("web-{i}")).unwrap();
        assert!(claim_gone >= pod_gone);
    }
}

#[test]
fn c57_a_terminating_claim_blocks_its_pod_until_it_is_gone() {
    let mut r = Run::start(scenario(
        2,
        "",
        &[("2m", "delete pvc www-web-1"), ("3m", "delete pod web-1")],
    ));
    r.until("1m59s");
    let old_uid = r.claim("www-web-1").unwrap().metadata.uid.clone();
    r.until("2m30s");
    let held = r.claim("www-web-1").expect("a running pod uses it");
    assert!(held.metadata.is_terminating());
    assert!(r.pod("web-1").unwrap().is_ready(), "the pod is untouched");
    r.until("4m");
    let fresh = r.claim("www-web-1").expect("a fresh claim");
    assert_ne!(fresh.metadata.uid, old_uid);
    assert!(!fresh.metadata.is_terminating());
    // The PV binder still binds claims that carry the protection finalizer.
    assert_eq!(fresh.status.phase, "Bound");
    assert_eq!(fresh.metadata.finalizers, ["kubernetes.io/pvc-protection"]);
    let pv = r
        .sim
        .api()
        .get::<stsim::api::PersistentVolume>(&ObjectKey::cluster(&fresh.spec.volume_name))
        .expect("its volume");
    assert_eq!(pv.metadata.finalizers, ["kubernetes.io/pv-protection"]);
    assert!(r.pod("web-1").unwrap().is_ready());
    let claim_writes = r.writes("PersistentVolumeClaim", "www-web-1");
    let old_gone = claim_writes.iter().find(|w| w.removed).unwrap().t;
    let new_claim = claim_writes
        .iter()
        .filter(|w| w.verb == "create")
        .nth(1)
        .unwrap()
        .t;
    let pod_writes = r.writes("Pod", "web-1");
    let old_pod_gone = pod_writes.iter().find(|w| w.removed).unwrap().t;
    let new_pod = pod_writes
        .iter()
        .filter(|w| w.verb == "create")
        .nth(1)
        .unwrap()
        .t;
    assert!(old_pod_gone <= old_gone, "the claim outlives its pod");
    assert!(
        old_gone <= new_claim && new_claim <= new_pod,
        "claim first, then pod"
    );
    assert_eq!(
        r.outputs(),
        [
            "persistentvolumeclaim \"www-web-1\" deleted from default namespace",
            "pod \"web-1\" deleted from default namespace"
        ]
    );
    let notes: Vec<Value> = r
        .lines()
        .into_iter()
        .filter(|l| {
            l["type"] == "note" && l["source"] == "persistentvolumeclaim-protection-controller"
        })
        .collect();
    assert_eq!(
        notes[0]["message"],
        "Keeping PVC because it is being used by pod web-1"
    );
}

#[test]
fn rollout_undo_restores_the_previous_template() {
    let mut r = Run::start(scenario(
        3,
        "",
        &[
            ("30s", "rollout undo statefulset/web"),
            ("1m", "set image statefulset/web nginx=nginx:2"),
            ("3m", "rollout undo statefulset/web"),
            ("5m", "rollout undo statefulset/web --to-revision=3"),
            ("6m", "rollout undo sts web --to-revision=9"),
            ("7m", "rollout undo statefulset/nope"),
        ],
    ));
    r.until("2m50s");
    assert!(
        r.pod_names()
            .iter()
            .all(|p| r.pod(p).unwrap().spec.containers[0].image == "nginx:2")
    );
    r.until("8m");
    assert_eq!(
        r.outputs(),
        [
            "error: no last revision to roll back to",
            "statefulset.apps/web image updated",
            "statefulset.apps/web rolled back",
            "statefulset.apps/web skipped rollback (current template already matches revision 3)",
            "error: unable to find specified revision 9 in history",
            "Error from server (NotFound): statefulsets.apps \"nope\" not found",
        ]
    );
    let set = r.set().unwrap();
    assert_eq!(set.spec.template.spec.containers[0].image, "nginx:1");
    let mut numbers: Vec<i64> = r
        .sim
        .api()
        .objects()
        .list::<stsim::api::ControllerRevision>()
        .map(|c| c.revision)
        .collect();
    numbers.sort();
    assert_eq!(numbers, [2, 3], "the first revision became number 3");
    for i in 0..3 {
        let p = r.pod(&format!("web-{i}")).unwrap();
        assert_eq!(p.spec.containers[0].image, "nginx:1");
        assert!(p.is_ready());
    }
    assert_eq!(set.status.current_revision, set.status.update_revision);
}

#[test]
fn rollout_restart_replaces_every_pod() {
    let mut r = Run::start(scenario(
        2,
        "",
        &[
            ("2m", "rollout restart statefulset/web"),
            ("2m", "rollout restart sts web"),
        ],
    ));
    r.until("1m59s");
    let before: Vec<String> = (0..2)
        .map(|i| r.pod(&format!("web-{i}")).unwrap().metadata.uid.clone())
        .collect();
    r.until("5m");
    assert_eq!(
        r.outputs(),
        [
            "statefulset.apps/web restarted",
            "error: failed to create patch for web: if restart has already been triggered within the past second, please wait before attempting to trigger another",
        ]
    );
    let stamp = "2026-01-01T00:02:00Z";
    let set = r.set().unwrap();
    assert_eq!(
        set.spec.template.metadata.annotations["kubectl.kubernetes.io/restartedAt"],
        stamp
    );
    for (i, old_uid) in before.iter().enumerate() {
        let p = r.pod(&format!("web-{i}")).unwrap();
        assert_ne!(&p.metadata.uid, old_uid, "web-{i} replaced");
        assert_eq!(
            p.metadata.annotations["kubectl.kubernetes.io/restartedAt"],
            stamp
        );
        assert!(p.is_ready());
    }
}

#[test]
fn patch_types_and_their_errors() {
    let mut r = Run::start(scenario(
        3,
        "",
        &[
            (
                "1m",
                r#"patch statefulset web -p '{"spec":{"updateStrategy":{"rollingUpdate":{"partition":2}}}}'"#,
            ),
            (
                "1m",
                r#"patch statefulset web -p '{"spec":{"updateStrategy":{"rollingUpdate":{"partition":2}}}}'"#,
            ),
            (
                "2m",
                r#"patch statefulset web --type=json -p '[{"op":"replace","path":"/spec/template/spec/containers/0/image","value":"nginx:2"}]'"#,
            ),
            (
                "3m",
                r#"patch sts web --type=merge -p '{"spec":{"minReadySeconds":5}}'"#,
            ),
            (
                "4m",
                r#"patch sts web -p '{"spec":{"podManagementPolicy":"Parallel"}}'"#,
            ),
            ("5m", r#"patch sts web -p '{"spec":{"replicas":4}}'"#),
            (
                "6m",
                r#"patch sts web --type=json -p '[{"op":"replace","path":"/spec/template/spec/containers/3/image","value":"x"}]'"#,
            ),
            ("6m", r#"patch sts nope -p '{"spec":{"replicas":1}}'"#),
        ],
    ));
    r.until("10m");
    assert_eq!(
        r.outputs(),
        [
            "statefulset.apps/web patched",
            "statefulset.apps/web patched (no change)",
            "statefulset.apps/web patched",
            "statefulset.apps/web patched",
            "The StatefulSet \"web\" is invalid: spec: Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
            "statefulset.apps/web patched",
            "Error from server: replace operation does not apply: doc is missing path: /spec/template/spec/containers/3/image: missing value",
            "Error from server (NotFound): statefulsets.apps \"nope\" not found",
        ]
    );
    let set = r.set().unwrap();
    let ru = set.spec.update_strategy.rolling_update.as_ref().unwrap();
    assert_eq!(ru.partition, Some(2));
    assert_eq!(set.spec.min_ready_seconds, 5);
    assert_eq!(set.spec.replicas, Some(4));
    assert_eq!(set.spec.pod_management_policy, "OrderedReady");
    let images: Vec<String> = (0..4)
        .map(|i| {
            r.pod(&format!("web-{i}")).unwrap().spec.containers[0]
                .image
                .clone()
        })
        .collect();
    assert_eq!(
        images,
        ["nginx:1", "nginx:1", "nginx:2", "nginx:2"],
        "partition 2"
    );
}

#[test]
fn gc_and_actions_are_deterministic() {
    let s = scenario(
        3,
        &retention("Delete", "Delete"),
        &[
            ("1m", "set image statefulset/web nginx=nginx:2"),
            ("3m", "rollout undo statefulset/web"),
            ("5m", "scale statefulset web --replicas=1"),
            ("6m", "rollout restart statefulset/web"),
            ("8m", r#"patch sts web -p '{"spec":{"replicas":3}}'"#),
            ("10m", "delete pvc www-web-0"),
            ("12m", "delete statefulset web --cascade=foreground"),
        ],
    );
    let (a, ta) = run_with_trace(&s, 7);
    let (_, tb) = run_with_trace(&s, 7);
    assert!(ta == tb, "same seed, same trace");
    assert!(a.final_state.pods.is_empty() && a.final_state.stateful_sets.is_empty());
    assert!(
        a.final_state.persistent_volume_claims.is_empty(),
        "whenDeleted=Delete"
    );
}
