//! Reconcile-pass tests: a real API server, a cache copied from it before every sync (an
//! informer with no delay), and pod lifecycle driven by hand as a kubelet would. Names
//! follow the upstream tests they mirror (`stateful_set_control_test.go`,
//! `stateful_set_test.go`).

use super::utils::{
    POD_INDEX_LABEL, STATEFUL_SET_POD_NAME_LABEL, get_pod_revision, is_running_and_ready,
};
use super::{StatefulSetConfig, StatefulSetController};
use crate::api::pod::{Container, phase};
use crate::api::statefulset::{
    RollingUpdateStatefulSetStrategy, StatefulSetPersistentVolumeClaimRetentionPolicy, names,
};
use crate::api::{
    AnyObject, ControllerRevision, IntOrString, ObjectKey, ObjectMeta, OwnerReference,
    PersistentVolumeClaim, Pod, StatefulSet, Timestamp,
};
use crate::apiserver::{
    Actor, ApiClient, ApiServer, DeleteOptions, JournalEntry, Verb, WatchEvent,
};
use crate::component::{Ctx, Note};
use crate::control::{ControlTimer, Controller, Enqueue};
use crate::rng::{RngStreams, SimRng};
use crate::time::{SimDuration, SimTime};
use std::rc::Rc;

const CONTROLLER: &str = "statefulset-controller";

fn key() -> ObjectKey {
    ObjectKey::new("default", "web")
}

fn pod_key(name: &str) -> ObjectKey {
    ObjectKey::new("default", name)
}

/// The set every test starts from: `web`, selector and template labels `app=nginx`, one
/// container, one claim template `www`, headless service `nginx`.
fn web(replicas: i32) -> StatefulSet {
    let mut s = StatefulSet {
        metadata: ObjectMeta::named("default", "web"),
        ..Default::default()
    };
    s.spec.replicas = Some(replicas);
    s.spec.service_name = "nginx".into();
    s.spec
        .selector
        .match_labels
        .insert("app".into(), "nginx".into());
    s.spec
        .template
        .metadata
        .labels
        .insert("app".into(), "nginx".into());
    s.spec.template.spec.containers.push(Container {
        name: "nginx".into(),
        image: "nginx:1".into(),
        ..Default::default()
    });
    let mut claim = PersistentVolumeClaim::default();
    claim.metadata.name = "www".into();
    claim.spec.access_modes = vec!["ReadWriteOnce".into()];
    s.spec.volume_claim_templates.push(claim);
    s
}

fn parallel(mut s: StatefulSet) -> StatefulSet {
    s.spec.pod_management_policy = names::PARALLEL.into();
    s
}

/// A small cluster: the API server, the controller and a clock.
struct Harness {
    api: ApiServer,
    rng: SimRng,
    timers: Vec<(SimTime, ControlTimer)>,
    notes: Vec<Note>,
    ctrl: StatefulSetController,
    now: SimTime,
    user: Actor,
    /// Journal position up to which [`Harness::log`] has reported.
    mark: u64,
}

impl Harness {
    fn new(config: StatefulSetConfig) -> Self {
        Harness {
            api: ApiServer::new(Default::default()),
            rng: RngStreams::new(1).stream("t"),
            timers: Vec::new(),
            notes: Vec::new(),
            ctrl: StatefulSetController::new(config),
            now: SimTime::ZERO + SimDuration::from_secs(1),
            user: Actor::new("kubectl"),
            mark: 0,
        }
    }

    fn with(set: StatefulSet) -> Self {
        let mut h = Harness::new(StatefulSetConfig::default());
        h.client().create(set).unwrap();
        h
    }

    fn client(&mut self) -> ApiClient<'_> {
        ApiClient::new(&mut self.api, &self.user, self.now)
    }

    fn advance(&mut self, d: SimDuration) {
        self.now = self.now + d;
    }

    /// One sync of `default/web` against a cache equal to the store.
    fn sync(&mut self) -> (Result<(), String>, Enqueue) {
        let cache = self.api.objects().clone();
        let mut q = Enqueue::default();
        let mut ctx = Ctx::new(
            self.now,
            &mut self.api,
            &mut self.rng,
            &mut self.timers,
            &mut self.notes,
        );
        let result = self.ctrl.sync(&key(), &cache, &mut ctx, &mut q);
        (result, q)
    }

    fn step(&mut self) {
        let (result, _) = self.sync();
        result.unwrap();
    }

    fn set(&self) -> Rc<StatefulSet> {
        Rc::clone(&self.api.objects().stateful_sets[&key()])
    }

    /// Deletes a claim no scheduled pod uses; the PVC protection controller would release
    /// it at once, so its protection finalizer is removed here too.
    fn delete_unused_claim(&mut self, name: &str) {
        self.client()
            .delete::<PersistentVolumeClaim>(&pod_key(name), &DeleteOptions::default())
            .unwrap();
        if let Some(pvc) = self.api.get::<PersistentVolumeClaim>(&pod_key(name)) {
            let mut released = (**pvc).clone();
            released.metadata.finalizers.clear();
            self.client().update(released).unwrap();
        }
    }

    fn edit_set(&mut self, f: impl FnOnce(&mut StatefulSet)) {
        let mut s = (*self.set()).clone();
        f(&mut s);
        self.client().update(s).unwrap();
    }

    fn pod(&self, name: &str) -> Option<Rc<Pod>> {
        self.api.objects().pods.get(&pod_key(name)).cloned()
    }

    fn pod_names(&self) -> Vec<String> {
        self.api
            .objects()
            .pods
            .values()
            .map(|p| p.metadata.name.clone())
            .collect()
    }

    fn revisions(&self) -> Vec<Rc<ControllerRevision>> {
        self.api
            .objects()
            .controller_revisions
            .values()
            .cloned()
            .collect()
    }

    /// As a kubelet: bind the pod to a node (so deletes are graceful), then set its phase
    /// and Ready condition (lastTransitionTime = now when it changes).
    fn kubelet(&mut self, name: &str, phase_: &str, ready: bool) {
        let now = Timestamp::at(self.now);
        let mut pod = (*self.pod(name).unwrap()).clone();
        if pod.spec.node_name.is_empty() {
            pod.spec.node_name = "node-1".into();
            pod = (*self.client().update(pod).unwrap()).clone();
        }
        pod.status.phase = phase_.into();
        pod.set_condition("Ready", ready, now, "");
        self.client().update_status(&pod).unwrap();
    }

    fn ready(&mut self, name: &str) {
        self.kubelet(name, phase::RUNNING, true);
    }

    /// A graceful delete by a user: the pod stays terminating until [`Harness::finish`].
    fn delete_pod(&mut self, name: &str) {
        self.client()
            .delete::<Pod>(&pod_key(name), &DeleteOptions::default())
            .unwrap();
    }

    /// The kubelet confirms termination: the object goes.
    fn finish(&mut self, name: &str) {
        self.client()
            .delete::<Pod>(&pod_key(name), &DeleteOptions::force())
            .unwrap();
    }

    /// The controller's writes and Events since the last call, e.g. `create Pod web-0`,
    /// `event SuccessfulCreate: create Pod web-0 in StatefulSet web successful`.
    fn log(&mut self) -> Vec<String> {
        let mut out = Vec::new();
        while self.mark < self.api.journal_end() {
            match self.api.journal_entry(self.mark) {
                Some(JournalEntry::Write(w)) if &*w.actor == CONTROLLER => out.push(format!(
                    "{} {} {}",
                    w.verb.as_str(),
                    w.obj.kind(),
                    w.obj.meta().name
                )),
                Some(JournalEntry::Event { event, .. }) if event.source.component == CONTROLLER => {
                    out.push(format!("event {}: {}", event.reason, event.message))
                }
                _ => {}
            }
            self.mark += 1;
        }
        out
    }

    /// Pod writes only (creates and deletes), the shape most tests assert on.
    fn pod_writes(&mut self) -> Vec<String> {
        self.log()
            .into_iter()
            .filter(|l| l.starts_with("create Pod") || l.starts_with("delete Pod"))
            .collect()
    }

    fn notes(&self) -> Vec<&str> {
        self.notes.iter().map(|n| n.message.as_str()).collect()
    }

    /// As a kubelet that does everything at once: terminating pods go, the others become
    /// Running and Ready. Returns whether anything changed.
    fn auto_kubelet(&mut self) -> bool {
        let mut acted = false;
        for name in self.pod_names() {
            let pod = self.pod(&name).unwrap();
            if pod.is_terminating() {
                self.finish(&name);
                acted = true;
            } else if !is_running_and_ready(&pod) {
                self.ready(&name);
                acted = true;
            }
        }
        acted
    }

    /// Syncs under [`Harness::auto_kubelet`] until the set is complete.
    fn run_to_ready(&mut self) {
        for _ in 0..200 {
            self.step();
            self.advance(SimDuration::from_secs(1));
            let acted = self.auto_kubelet();
            let (set, n) = (self.set(), self.pod_names().len() as i32);
            let st = &set.status;
            if !acted
                && n == set.replicas()
                && st.ready_replicas == n
                && st.updated_replicas == n
                && st.current_revision == st.update_revision
            {
                return;
            }
        }
        panic!("set did not become ready: {:?}", self.set().status);
    }

    fn revision_of(&self, name: &str) -> String {
        get_pod_revision(&self.pod(name).unwrap()).to_string()
    }
}

#[test]
fn test_stateful_set_control_creates_pods_monotonic() {
    let mut h = Harness::with(web(3));
    h.step();
    let log = h.log();
    let writes: Vec<&String> = log.iter().filter(|l| !l.starts_with("event")).collect();
    let revision = h.revisions()[0].metadata.name.clone();
    assert_eq!(
        writes,
        [
            &format!("create ControllerRevision {revision}"),
            "create PersistentVolumeClaim www-web-0",
            "create Pod web-0",
            "status StatefulSet web",
        ]
    );
    assert!(
        log.contains(
            &"event SuccessfulCreate: create Claim www-web-0 Pod web-0 in StatefulSet web success"
                .into()
        )
    );
    assert!(log.contains(
        &"event SuccessfulCreate: create Pod web-0 in StatefulSet web successful".into()
    ));
    // The first status lags creation: the new pod is not counted yet.
    let st = &h.set().status;
    assert_eq!((st.replicas, st.observed_generation), (0, 1));
    assert_eq!(st.current_revision, st.update_revision);

    // Pending, then Running but not Ready: no further creation.
    h.step();
    h.kubelet("web-0", phase::RUNNING, false);
    h.step();
    assert!(h.pod_writes().is_empty());
    assert_eq!(h.set().status.replicas, 1);
    assert_eq!(
        h.notes(),
        ["waiting for web-0 to be Running and Ready before creating web-1"]
    );
    // Ready: exactly one more pod per pass.
    h.ready("web-0");
    h.step();
    assert_eq!(h.pod_writes(), ["create Pod web-1"]);
    h.ready("web-1");
    h.step();
    assert_eq!(h.pod_writes(), ["create Pod web-2"]);
    h.ready("web-2");
    h.step();
    let pod = h.pod("web-2").unwrap();
    assert_eq!(pod.metadata.labels[STATEFUL_SET_POD_NAME_LABEL], "web-2");
    assert_eq!(pod.metadata.labels[POD_INDEX_LABEL], "2");
    assert_eq!(
        (pod.spec.hostname.as_str(), pod.spec.subdomain.as_str()),
        ("web-2", "nginx")
    );
    let st = h.set().status.clone();
    assert_eq!(
        (
            st.replicas,
            st.ready_replicas,
            st.available_replicas,
            st.current_replicas,
            st.updated_replicas
        ),
        (3, 3, 3, 3, 3)
    );
    let revisions = h.revisions();
    assert_eq!(revisions.len(), 1);
    assert_eq!(revisions[0].revision, 1);
    assert_eq!(st.update_revision, revisions[0].metadata.name);
    assert_eq!(h.revision_of("web-0"), revisions[0].metadata.name);
}

#[test]
fn test_stateful_set_control_creates_pods_burst() {
    let mut h = Harness::with(parallel(web(3)));
    h.step();
    assert_eq!(
        h.pod_writes(),
        ["create Pod web-0", "create Pod web-1", "create Pod web-2"]
    );
    // Nothing left to do while the pods start.
    h.step();
    assert!(h.pod_writes().is_empty());
    assert!(h.notes().is_empty());
}

#[test]
fn test_stateful_set_control_scales_up_with_start_ordinal() {
    let mut s = web(2);
    s.spec.ordinals = Some(crate::api::statefulset::StatefulSetOrdinals { start: 3 });
    let mut h = Harness::with(s);
    h.run_to_ready();
    assert_eq!(h.pod_names(), ["web-3", "web-4"]);
    h.log();
    // Lowering start: web-2 is created first, then web-4 is condemned.
    h.edit_set(|s| {
        s.spec.ordinals = Some(crate::api::statefulset::StatefulSetOrdinals { start: 2 })
    });
    h.step();
    assert_eq!(h.pod_writes(), ["create Pod web-2"]);
    h.ready("web-2");
    h.step();
    assert_eq!(h.pod_writes(), ["delete Pod web-4"]);
}

#[test]
fn test_stateful_set_control_scales_down() {
    let mut h = Harness::with(web(5));
    h.run_to_ready();
    h.log();
    h.edit_set(|s| s.spec.replicas = Some(3));
    h.step();
    assert_eq!(h.pod_writes(), ["delete Pod web-4"]);
    assert!(h.pod("web-4").unwrap().is_terminating());
    // While web-4 terminates, web-3 is not touched; terminating pods count in replicas and
    // ready, not in current/updated.
    h.step();
    assert!(h.pod_writes().is_empty());
    assert_eq!(
        h.notes().last(),
        Some(&"waiting for web-4 to terminate before deleting web-3")
    );
    let st = h.set().status.clone();
    assert_eq!(
        (
            st.replicas,
            st.ready_replicas,
            st.current_replicas,
            st.updated_replicas
        ),
        (5, 5, 4, 4)
    );
    h.finish("web-4");
    h.step();
    assert_eq!(h.pod_writes(), ["delete Pod web-3"]);
    h.finish("web-3");
    h.step();
    assert!(h.pod_writes().is_empty());
    assert_eq!(h.pod_names(), ["web-0", "web-1", "web-2"]);
    // Claims survive scale-down under the default Retain policy.
    assert_eq!(h.api.objects().pvcs.len(), 5);
}

#[test]
fn test_stateful_set_control_scale_down_halts_on_two_unhealthy_condemned_pods() {
    // OrderedReady from the start: podManagementPolicy is immutable.
    let mut h = Harness::with(web(4));
    h.run_to_ready();
    h.kubelet("web-2", phase::RUNNING, false);
    h.kubelet("web-3", phase::RUNNING, false);
    h.edit_set(|s| s.spec.replicas = Some(2));
    h.log();
    h.step();
    // web-3 is processed first but is not the first unavailable pod (web-2 is): halt.
    assert!(h.pod_writes().is_empty());
    assert_eq!(
        h.notes().last(),
        Some(
            &"scale-down halted: web-3 is not Running and Ready and is not the first unavailable pod (web-2)"
        )
    );
    h.ready("web-3");
    h.step();
    assert_eq!(h.pod_writes(), ["delete Pod web-3"]);
    h.finish("web-3");
    h.step();
    // web-2 is still unready but is now the first unavailable pod: deleted.
    assert_eq!(h.pod_writes(), ["delete Pod web-2"]);
}

#[test]
fn test_parallel_scale_down_does_not_wait() {
    let mut h = Harness::with(parallel(web(5)));
    h.run_to_ready();
    h.log();
    h.edit_set(|s| s.spec.replicas = Some(1));
    h.step();
    assert_eq!(
        h.pod_writes(),
        [
            "delete Pod web-4",
            "delete Pod web-3",
            "delete Pod web-2",
            "delete Pod web-1"
        ]
    );
}

#[test]
fn test_stateful_set_control_recreates_failed_and_succeeded_pods() {
    for end_phase in [phase::FAILED, phase::SUCCEEDED] {
        let mut h = Harness::with(web(3));
        h.run_to_ready();
        let old_uid = h.pod("web-0").unwrap().metadata.uid.clone();
        h.kubelet("web-0", end_phase, false);
        h.log();
        // One pass deletes it (a finished pod goes at once) and creates nothing.
        h.step();
        assert_eq!(h.pod_writes(), ["delete Pod web-0"], "{end_phase}");
        assert!(h.pod("web-0").is_none());
        // The next pass recreates it, reusing the claim.
        h.step();
        let log = h.log();
        assert!(
            log.contains(&"create Pod web-0".into()),
            "{end_phase}: {log:?}"
        );
        assert!(!log.iter().any(|l| l.contains("PersistentVolumeClaim")));
        assert_ne!(h.pod("web-0").unwrap().metadata.uid, old_uid);
    }
}

#[test]
fn test_failed_pod_held_by_a_finalizer_is_not_replaced() {
    let mut h = Harness::with(web(2));
    h.run_to_ready();
    let mut pod = (*h.pod("web-0").unwrap()).clone();
    pod.metadata.finalizers.push("example.com/hold".into());
    h.client().update(pod).unwrap();
    h.kubelet("web-0", phase::FAILED, false);
    h.log();
    h.step();
    assert_eq!(h.pod_writes(), ["delete Pod web-0"]);
    for _ in 0..2 {
        h.step();
        assert!(h.pod_writes().is_empty(), "not while the object exists");
    }
    assert_eq!(h.notes(), ["not replacing web-0: pod is terminating"]);
    let mut pod = (*h.pod("web-0").unwrap()).clone();
    pod.metadata.finalizers.clear();
    h.client().update(pod).unwrap();
    assert!(h.pod("web-0").is_none());
    h.step();
    assert_eq!(h.pod_writes(), ["create Pod web-0"]);
}

#[test]
fn test_stateful_set_controller_blocks_scaling() {
    let mut h = Harness::with(web(3));
    h.run_to_ready();
    h.delete_pod("web-0");
    h.edit_set(|s| s.spec.replicas = Some(5));
    h.log();
    for _ in 0..3 {
        h.step();
        assert!(
            h.pod_writes().is_empty(),
            "a terminating pod is never replaced"
        );
    }
    assert_eq!(
        h.notes(),
        ["waiting for web-0 to terminate before creating web-3"],
        "the note is written once"
    );
    h.finish("web-0");
    h.step();
    assert_eq!(h.pod_writes(), ["create Pod web-0"]);
    h.step();
    assert!(h.pod_writes().is_empty(), "web-3 waits for the new web-0");
    h.ready("web-0");
    h.step();
    assert_eq!(h.pod_writes(), ["create Pod web-3"]);
}

#[test]
fn test_parallel_terminating_pod_is_not_replaced() {
    let mut h = Harness::with(parallel(web(3)));
    h.run_to_ready();
    h.delete_pod("web-1");
    h.edit_set(|s| s.spec.replicas = Some(4));
    h.log();
    h.step();
    assert_eq!(h.pod_writes(), ["create Pod web-3"]);
    assert_eq!(h.notes(), ["not replacing web-1: pod is terminating"]);
    h.finish("web-1");
    h.step();
    assert_eq!(h.pod_writes(), ["create Pod web-1"]);
}

fn new_image(s: &mut StatefulSet, image: &str) {
    s.spec.template.spec.containers[0].image = image.into();
}

#[test]
fn test_stateful_set_control_rolling_update() {
    let mut h = Harness::with(web(3));
    h.run_to_ready();
    let r1 = h.set().status.current_revision.clone();
    h.edit_set(|s| new_image(s, "nginx:2"));
    h.log();
    h.step();
    // The highest old-revision pod goes first; currentReplicas drops by the deletion.
    assert_eq!(h.pod_writes(), ["delete Pod web-2"]);
    let st = h.set().status.clone();
    assert_ne!(st.update_revision, r1);
    assert_eq!(
        (st.current_revision.as_str(), st.current_replicas),
        (r1.as_str(), 2)
    );
    let r2 = st.update_revision.clone();
    h.step();
    assert!(h.pod_writes().is_empty());
    assert_eq!(
        h.notes().last(),
        Some(&"waiting for web-2 to terminate before updating web-1")
    );
    h.finish("web-2");
    h.step();
    assert_eq!(h.pod_writes(), ["create Pod web-2"]);
    assert_eq!(h.revision_of("web-2"), r2);
    h.step();
    assert!(h.pod_writes().is_empty(), "waits for the new web-2");
    h.ready("web-2");
    h.step();
    assert_eq!(h.pod_writes(), ["delete Pod web-1"]);
    h.finish("web-1");
    h.run_to_ready();
    for name in ["web-0", "web-1", "web-2"] {
        assert_eq!(h.revision_of(name), r2);
    }
    let st = h.set().status.clone();
    assert_eq!((st.current_revision, st.current_replicas), (r2, 3));
}

#[test]
fn test_parallel_rolling_update_waits_for_availability() {
    let mut s = parallel(web(3));
    s.spec.min_ready_seconds = 10;
    let mut h = Harness::with(s);
    h.run_to_ready();
    h.advance(SimDuration::from_secs(20));
    h.edit_set(|s| new_image(s, "nginx:2"));
    h.log();
    h.step();
    assert_eq!(h.pod_writes(), ["delete Pod web-2"]);
    h.finish("web-2");
    h.step();
    assert_eq!(h.pod_writes(), ["create Pod web-2"]);
    h.ready("web-2");
    h.step();
    assert!(h.pod_writes().is_empty(), "ready but not yet available");
    assert_eq!(
        h.notes().last(),
        Some(&"rolling update waiting for web-2 to become available")
    );
    h.advance(SimDuration::from_secs(11));
    h.step();
    assert_eq!(h.pod_writes(), ["delete Pod web-1"]);
}

#[test]
fn test_stateful_set_control_rolling_update_with_partition() {
    let mut s = web(4);
    s.spec.update_strategy.rolling_update = Some(RollingUpdateStatefulSetStrategy {
        partition: Some(2),
        max_unavailable: None,
    });
    let mut h = Harness::with(s);
    h.run_to_ready();
    let r1 = h.set().status.current_revision.clone();
    h.edit_set(|s| new_image(s, "nginx:2"));
    for _ in 0..20 {
        h.step();
        h.advance(SimDuration::from_secs(1));
        h.auto_kubelet();
    }
    let r2 = h.set().status.update_revision.clone();
    assert_eq!(
        ["web-0", "web-1", "web-2", "web-3"].map(|n| h.revision_of(n) == r2),
        [false, false, true, true]
    );
    let st = h.set().status.clone();
    assert_eq!(
        (
            st.current_revision.as_str(),
            st.current_replicas,
            st.updated_replicas
        ),
        (r1.as_str(), 2, 2),
        "a partition that leaves old pods never completes the update"
    );
    // A deleted pod below the partition comes back at the current revision.
    h.finish("web-0");
    h.step();
    assert_eq!(h.revision_of("web-0"), r1);
}

#[test]
fn test_stateful_set_control_on_delete_update() {
    let mut s = web(3);
    s.spec.update_strategy.type_ = names::ON_DELETE.into();
    let mut h = Harness::with(s);
    h.run_to_ready();
    let r1 = h.set().status.current_revision.clone();
    h.edit_set(|s| new_image(s, "nginx:2"));
    h.log();
    for _ in 0..3 {
        h.step();
    }
    assert!(
        h.pod_writes().is_empty(),
        "OnDelete never deletes for updates"
    );
    h.finish("web-1");
    h.step();
    assert_eq!(h.pod_writes(), ["create Pod web-1"]);
    h.ready("web-1");
    h.step();
    let st = h.set().status.clone();
    assert_eq!(h.revision_of("web-1"), st.update_revision);
    assert_eq!(
        (
            st.current_revision.as_str(),
            st.updated_replicas,
            st.current_replicas
        ),
        (r1.as_str(), 1, 2)
    );
}

#[test]
fn test_stateful_set_control_rollback() {
    let mut h = Harness::with(web(2));
    h.run_to_ready();
    let r1 = h.set().status.current_revision.clone();
    h.edit_set(|s| new_image(s, "nginx:2"));
    h.run_to_ready();
    let r2 = h.set().status.current_revision.clone();
    assert_ne!(r1, r2);
    // Revert the template: the old revision is reused with a bumped number (R-4.3 step 4).
    h.edit_set(|s| new_image(s, "nginx:1"));
    h.log();
    h.step();
    assert_eq!(h.set().status.update_revision, r1);
    let revisions = h.revisions();
    assert_eq!(revisions.len(), 2, "no third revision");
    let old = revisions.iter().find(|r| r.metadata.name == r1).unwrap();
    assert_eq!(old.revision, 3);
    // Pods are replaced back, highest first, and the old revision becomes current.
    h.run_to_ready();
    let deletes: Vec<String> = h
        .log()
        .into_iter()
        .filter(|l| l.starts_with("delete Pod"))
        .collect();
    assert_eq!(deletes, ["delete Pod web-1", "delete Pod web-0"]);
    assert_eq!(h.set().status.current_revision, r1);
    assert_eq!(h.revision_of("web-0"), r1);
}

#[test]
fn test_stateful_set_control_limits_history() {
    let mut s = web(0);
    s.spec.revision_history_limit = Some(2);
    let mut h = Harness::with(s);
    h.step();
    for i in 2..9 {
        h.edit_set(|s| new_image(s, &format!("nginx:{i}")));
        h.step();
        let revisions = h.revisions();
        // Live: current and update; at most `limit` others.
        assert!(revisions.len() <= 2 + 2, "{} revisions", revisions.len());
        let mut numbers: Vec<i64> = revisions.iter().map(|r| r.revision).collect();
        numbers.sort();
        // The deleted ones are always the oldest.
        let newest = *numbers.last().unwrap();
        assert_eq!(
            numbers,
            ((newest - numbers.len() as i64 + 1)..=newest).collect::<Vec<_>>()
        );
    }
}

#[test]
fn test_stateful_set_min_ready_seconds_requeue() {
    let mut s = web(2);
    s.spec.min_ready_seconds = 10;
    let mut h = Harness::with(s);
    let (result, q) = h.sync();
    result.unwrap();
    // availableReplicas (0) != replicas: requeue after minReadySeconds.
    assert_eq!(q.after, [(SimDuration::from_secs(10), key())]);

    // updatePod: not Ready → Ready with minReadySeconds > 0 enqueues after 11 s.
    h.step();
    let old = h.pod("web-0").unwrap();
    h.advance(SimDuration::from_secs(4));
    h.ready("web-0"); // Ready at t = 5 s.
    let cur = h.pod("web-0").unwrap();
    let ev = WatchEvent {
        at: h.now,
        verb: Verb::Status,
        removed: false,
        obj: AnyObject::Pod(Rc::clone(&cur)),
        actor: Rc::from("kubelet"),
        lease_renewal: None,
    };
    let mut q = Enqueue::default();
    let cache = h.api.objects().clone();
    h.ctrl
        .on_watch(Some(&AnyObject::Pod(old)), &ev, &cache, &mut q);
    assert_eq!(q.now, [key()]);
    assert_eq!(q.after, [(SimDuration::from_secs(11), key())]);

    // Strictly after lastTransitionTime + minReadySeconds (5 + 10 = 15 s).
    h.log();
    h.now = SimTime::ZERO + SimDuration::from_secs(15);
    h.step();
    assert!(
        h.pod_writes().is_empty(),
        "not yet available at exactly 15 s"
    );
    assert_eq!(
        h.notes().last(),
        Some(&"waiting for web-0 to be available (minReadySeconds 10) before creating web-1")
    );
    h.now = SimTime(h.now.0 + 1);
    h.step();
    assert_eq!(h.pod_writes(), ["create Pod web-1"]);
}

#[test]
fn test_stateful_set_controller_event_handlers() {
    let mut h = Harness::with(web(1));
    h.step();
    let cache = h.api.objects().clone();
    let pod = h.pod("web-0").unwrap();
    let event = |obj: AnyObject, removed: bool| WatchEvent {
        at: SimTime::ZERO,
        verb: Verb::Delete,
        removed,
        obj,
        actor: Rc::from("x"),
        lease_renewal: None,
    };
    let handle = |h: &mut Harness, old: Option<AnyObject>, ev: WatchEvent| {
        let mut q = Enqueue::default();
        h.ctrl.on_watch(old.as_ref(), &ev, &cache, &mut q);
        q.now
    };
    // Owned pod deleted: its set is synced.
    assert_eq!(
        handle(&mut h, None, event(AnyObject::Pod(Rc::clone(&pod)), true)),
        [key()]
    );
    // Claims and revisions never start a pass.
    let pvc = Rc::clone(cache.pvcs.values().next().unwrap());
    assert!(
        handle(
            &mut h,
            None,
            event(AnyObject::PersistentVolumeClaim(pvc), false)
        )
        .is_empty()
    );
    // An orphan with matching labels wakes every matching set; an unrelated one none.
    let mut orphan = (*pod).clone();
    orphan.metadata.owner_references.clear();
    orphan.metadata.name = "other-0".into();
    assert_eq!(
        handle(
            &mut h,
            None,
            event(AnyObject::Pod(Rc::new(orphan.clone())), false)
        ),
        [key()]
    );
    orphan.metadata.labels.clear();
    orphan.metadata.labels.insert("app".into(), "db".into());
    assert!(handle(&mut h, None, event(AnyObject::Pod(Rc::new(orphan)), false)).is_empty());
    // An update with an unchanged resourceVersion (a resync) is ignored.
    let same = AnyObject::Pod(Rc::clone(&pod));
    assert!(handle(&mut h, Some(same.clone()), event(same, false)).is_empty());
    // A pod whose controller is another set with the same name but another uid: ignored.
    let mut foreign = (*pod).clone();
    foreign.metadata.owner_references[0].uid = "someone-else".into();
    assert!(handle(&mut h, None, event(AnyObject::Pod(Rc::new(foreign)), false)).is_empty());
}

#[test]
fn test_get_pods_for_stateful_set_adopt_and_release() {
    let mut h = Harness::with(web(2));
    h.run_to_ready();
    // An orphan member is adopted; a non-member with matching labels is not.
    let mut orphan = (*h.pod("web-1").unwrap()).clone();
    h.finish("web-1");
    orphan.metadata = ObjectMeta {
        name: "web-1".into(),
        namespace: "default".into(),
        labels: orphan.metadata.labels.clone(),
        ..Default::default()
    };
    h.client().create(orphan.clone()).unwrap();
    let mut stranger = orphan.clone();
    stranger.metadata.name = "db-0".into();
    h.client().create(stranger).unwrap();
    // An owned pod that stops matching the selector is released.
    let mut web0 = (*h.pod("web-0").unwrap()).clone();
    web0.metadata.labels.insert("app".into(), "debug".into());
    h.client().update(web0).unwrap();
    // The released web-0 still holds its name, so recreating web-0 fails (AlreadyExists).
    let (result, _) = h.sync();
    assert!(result.unwrap_err().contains("already exists"));
    let set_uid = h.set().metadata.uid.clone();
    let owner = |h: &Harness, name: &str| {
        h.pod(name)
            .unwrap()
            .metadata
            .controller_ref()
            .map(|r: &OwnerReference| r.uid.clone())
    };
    assert_eq!(owner(&h, "web-1"), Some(set_uid));
    assert_eq!(owner(&h, "db-0"), None);
    assert_eq!(owner(&h, "web-0"), None, "released");
}

#[test]
fn test_adopt_orphan_revisions() {
    let mut h = Harness::with(web(1));
    h.step();
    let mut orphan = (*h.revisions()[0]).clone();
    h.client()
        .delete::<ControllerRevision>(&ObjectKey::of(&orphan.metadata), &DeleteOptions::default())
        .unwrap();
    orphan.metadata.owner_references.clear();
    orphan.metadata.resource_version.clear();
    h.client().create(orphan.clone()).unwrap();
    h.step();
    let adopted = h.revisions();
    assert_eq!(adopted.len(), 1, "the orphan is reused, not duplicated");
    assert_eq!(
        adopted[0].metadata.controller_ref().map(|r| r.uid.clone()),
        Some(h.set().metadata.uid.clone())
    );
}

#[test]
fn test_rolling_update_with_max_unavailable() {
    for (gate, want) in [
        (false, vec!["delete Pod web-4"]),
        (true, vec!["delete Pod web-4", "delete Pod web-3"]),
    ] {
        let mut s = parallel(web(5));
        s.spec.update_strategy.rolling_update = Some(RollingUpdateStatefulSetStrategy {
            partition: Some(0),
            max_unavailable: Some(IntOrString::Int(2)),
        });
        let mut h = Harness::new(StatefulSetConfig {
            max_unavailable_statefulset: gate,
            ..Default::default()
        });
        h.client().create(s).unwrap();
        h.run_to_ready();
        h.edit_set(|s| new_image(s, "nginx:2"));
        h.log();
        h.step();
        assert_eq!(h.pod_writes(), want, "gate {gate}");
        if gate {
            // Two pods unavailable: the budget is used up.
            h.step();
            assert!(h.pod_writes().is_empty());
            let note = h.notes().last().copied().unwrap_or_default();
            assert!(
                note.ends_with("rolling update waiting: 2 pods unavailable, maxUnavailable is 2"),
                "{note}"
            );
        }
    }
}

#[test]
fn test_stale_owner_ref_on_scaleup() {
    let mut s = web(1);
    s.spec.persistent_volume_claim_retention_policy =
        Some(StatefulSetPersistentVolumeClaimRetentionPolicy {
            when_deleted: names::RETAIN.into(),
            when_scaled: names::DELETE.into(),
        });
    let mut h = Harness::with(s);
    h.run_to_ready();
    // A claim left by an earlier web-1, still owned by that pod.
    let mut claim = (*h.api.objects().pvcs[&pod_key("www-web-0")]).clone();
    claim.metadata = ObjectMeta {
        name: "www-web-1".into(),
        namespace: "default".into(),
        owner_references: vec![OwnerReference {
            api_version: "v1".into(),
            kind: "Pod".into(),
            name: "web-1".into(),
            uid: "old-web-1".into(),
            controller: Some(true),
            block_owner_deletion: Some(true),
        }],
        ..Default::default()
    };
    h.client().create(claim).unwrap();
    h.edit_set(|s| s.spec.replicas = Some(2));
    h.log();
    for _ in 0..3 {
        let (result, _) = h.sync();
        assert!(result.is_ok(), "no error, so no backoff");
    }
    assert!(h.pod_writes().is_empty());
    assert_eq!(
        h.notes().last(),
        Some(&"not creating web-1: claim www-web-1 still belongs to a previous web-1")
    );
    h.delete_unused_claim("www-web-1");
    h.step();
    assert_eq!(h.pod_writes(), ["create Pod web-1"]);
}

#[test]
fn test_scale_down_sets_claim_owner_refs_when_scaled_delete() {
    let mut s = web(3);
    s.spec.persistent_volume_claim_retention_policy =
        Some(StatefulSetPersistentVolumeClaimRetentionPolicy {
            when_deleted: names::RETAIN.into(),
            when_scaled: names::DELETE.into(),
        });
    let mut h = Harness::with(s);
    h.run_to_ready();
    h.edit_set(|s| s.spec.replicas = Some(1));
    h.step();
    // Before web-2 is deleted, both condemned claims point at their pods.
    for (claim, pod) in [("www-web-2", "web-2"), ("www-web-1", "web-1")] {
        let claim = &h.api.objects().pvcs[&pod_key(claim)];
        let refs = &claim.metadata.owner_references;
        assert_eq!(refs.len(), 1, "{claim:?}");
        assert_eq!(
            (
                refs[0].kind.as_str(),
                refs[0].uid.as_str(),
                refs[0].controller
            ),
            ("Pod", h.pod(pod).unwrap().metadata.uid.as_str(), Some(true))
        );
    }
    assert!(h.pod("web-2").unwrap().is_terminating());
    let kept = &h.api.objects().pvcs[&pod_key("www-web-0")];
    assert!(kept.metadata.owner_references.is_empty());
}

#[test]
fn test_stateful_set_control_recreates_pvc_for_pending_pod() {
    let mut h = Harness::with(web(1));
    h.step();
    h.delete_unused_claim("www-web-0");
    h.log();
    h.step();
    assert_eq!(h.log()[0], "create PersistentVolumeClaim www-web-0");
}

#[test]
fn test_identity_repair_updates_the_pod() {
    let mut h = Harness::with(web(2));
    h.run_to_ready();
    let uid = h.pod("web-1").unwrap().metadata.uid.clone();
    let mut pod = (*h.pod("web-1").unwrap()).clone();
    pod.metadata.labels.remove(STATEFUL_SET_POD_NAME_LABEL);
    pod.metadata.labels.remove(POD_INDEX_LABEL);
    h.client().update(pod).unwrap();
    let mut pod = (*h.pod("web-0").unwrap()).clone();
    pod.metadata.labels.remove(POD_INDEX_LABEL);
    h.client().update(pod).unwrap();
    h.log();
    h.step();
    let log = h.log();
    assert!(log.contains(&"update Pod web-1".into()), "{log:?}");
    assert!(log.contains(
        &"event SuccessfulUpdate: update Pod web-1 in StatefulSet web successful".into()
    ));
    let repaired = h.pod("web-1").unwrap();
    assert_eq!(repaired.metadata.uid, uid, "updated, not recreated");
    assert_eq!(
        repaired.metadata.labels[STATEFUL_SET_POD_NAME_LABEL],
        "web-1"
    );
    assert_eq!(repaired.metadata.labels[POD_INDEX_LABEL], "1");
    // Only the pod-index label missing: not an identity mismatch, not repaired.
    assert!(
        !h.pod("web-0")
            .unwrap()
            .metadata
            .labels
            .contains_key(POD_INDEX_LABEL)
    );
}

#[test]
fn test_stateful_set_controller_deletion_timestamp() {
    let mut s = web(3);
    s.metadata.finalizers.push("example.com/hold".into());
    let mut h = Harness::with(s);
    h.client()
        .delete::<StatefulSet>(&key(), &DeleteOptions::default())
        .unwrap();
    h.step();
    assert!(h.pod_writes().is_empty());
    assert_eq!(
        h.notes(),
        ["the StatefulSet is being deleted: no pod is created or deleted"]
    );
    // Status is still written.
    assert_eq!(h.set().status.observed_generation, 1);
}

#[test]
fn test_create_pod_failure_records_warning_and_fails_the_sync() {
    let mut h = Harness::with(web(1));
    // A pod of that name exists already but is not the set's member by labels.
    let mut squatter = Pod {
        metadata: ObjectMeta::named("default", "web-0"),
        ..Default::default()
    };
    squatter
        .metadata
        .labels
        .insert("app".into(), "other".into());
    h.client().create(squatter).unwrap();
    h.log();
    let (result, _) = h.sync();
    let err = result.unwrap_err();
    assert!(err.contains("already exists"), "{err}");
    // AlreadyExists is returned without an Event (upstream "sinks" only the event).
    assert!(!h.log().iter().any(|l| l.starts_with("event FailedCreate")));
}
