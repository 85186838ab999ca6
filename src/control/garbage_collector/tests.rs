//! Garbage collector and PVC protection tests: a real API server, both controllers behind
//! the controller manager's informer (no watch delay), and pod termination finished by
//! hand as a kubelet would. Cases follow upstream's `garbagecollector_test.go` and
//! `pvc_protection_controller_test.go` in spirit, and statefulset-cases C-61/C-63.

use super::GarbageCollector;
use crate::api::storage::{PV_PROTECTION_FINALIZER, PVC_PROTECTION_FINALIZER};
use crate::api::{
    ControllerRevision, ObjectKey, ObjectMeta, OwnerReference, PersistentVolume,
    PersistentVolumeClaim, Pod, StatefulSet,
};
use crate::apiserver::{
    DeleteOptions, FINALIZER_DELETE_DEPENDENTS, FINALIZER_ORPHAN_DEPENDENTS, Propagation, Strategy,
};
use crate::control::pvc_protection::PvcProtectionController;
use crate::control::testkit::ControlHarness;
use std::rc::Rc;

struct Cluster(ControlHarness);

impl std::ops::Deref for Cluster {
    type Target = ControlHarness;
    fn deref(&self) -> &ControlHarness {
        &self.0
    }
}

impl std::ops::DerefMut for Cluster {
    fn deref_mut(&mut self) -> &mut ControlHarness {
        &mut self.0
    }
}

impl Cluster {
    fn new() -> Self {
        Cluster(ControlHarness::new(vec![
            Box::new(GarbageCollector::default()),
            Box::new(PvcProtectionController::default()),
        ]))
    }

    /// Delivers every write and runs every queued key (retries at once) until nothing is
    /// left to do.
    fn settle(&mut self) {
        self.0.settle_with(10_000, |_| true);
    }

    fn create<T: Strategy>(&mut self, obj: T) -> Rc<T> {
        self.client().create(obj).expect("create")
    }

    fn delete<T: Strategy>(&mut self, name: &str, propagation: Option<Propagation>) -> bool {
        let opts = DeleteOptions {
            propagation,
            ..Default::default()
        };
        let (_, removed) = self
            .client()
            .delete::<T>(&ObjectKey::new("default", name), &opts)
            .expect("delete");
        removed
    }

    /// What a kubelet does once a pod's containers have stopped: the final delete.
    fn kubelet_finish(&mut self, name: &str) {
        let uid = self.pod(name).expect("pod exists").metadata.uid.clone();
        let opts = DeleteOptions {
            grace_period_seconds: Some(0),
            precondition_uid: Some(uid),
            ..Default::default()
        };
        let _ = self
            .client()
            .delete::<Pod>(&ObjectKey::new("default", name), &opts);
    }

    fn pod(&self, name: &str) -> Option<Rc<Pod>> {
        self.api
            .get::<Pod>(&ObjectKey::new("default", name))
            .cloned()
    }
    fn set(&self) -> Option<Rc<StatefulSet>> {
        self.api
            .get::<StatefulSet>(&ObjectKey::new("default", "web"))
            .cloned()
    }
    fn claim(&self, name: &str) -> Option<Rc<PersistentVolumeClaim>> {
        self.api
            .get::<PersistentVolumeClaim>(&ObjectKey::new("default", name))
            .cloned()
    }
    fn revisions(&self) -> Vec<Rc<ControllerRevision>> {
        self.api
            .objects()
            .list::<ControllerRevision>()
            .cloned()
            .collect()
    }
}

fn controller_ref(meta: &ObjectMeta, api_version: &str, kind: &str) -> OwnerReference {
    OwnerReference {
        api_version: api_version.into(),
        kind: kind.into(),
        name: meta.name.clone(),
        uid: meta.uid.clone(),
        controller: Some(true),
        block_owner_deletion: Some(true),
    }
}

/// A scheduled pod (so its delete is graceful) with claim `www-<name>`, owned by `owner`.
fn pod(name: &str, owners: Vec<OwnerReference>) -> Pod {
    let mut p = Pod {
        metadata: ObjectMeta::named("default", name),
        ..Default::default()
    };
    p.metadata.owner_references = owners;
    p.spec.node_name = "node-1".into();
    p.spec.volumes.push(crate::api::pod::Volume {
        name: "www".into(),
        persistent_volume_claim: Some(crate::api::pod::PersistentVolumeClaimVolumeSource {
            claim_name: format!("www-{name}"),
            read_only: false,
        }),
        ..Default::default()
    });
    p
}

fn claim(name: &str, owners: Vec<OwnerReference>) -> PersistentVolumeClaim {
    let mut c = PersistentVolumeClaim {
        metadata: ObjectMeta::named("default", name),
        ..Default::default()
    };
    c.metadata.owner_references = owners;
    c
}

/// Set `web` with pods web-0..2, two revisions and (unowned) claims, all settled.
fn web_with_pods(c: &mut Cluster) -> Rc<StatefulSet> {
    let set = c.create(StatefulSet {
        metadata: ObjectMeta::named("default", "web"),
        ..Default::default()
    });
    let owner = || vec![controller_ref(&set.metadata, "apps/v1", "StatefulSet")];
    for i in 0..3 {
        c.create(claim(&format!("www-web-{i}"), Vec::new()));
        c.create(pod(&format!("web-{i}"), owner()));
    }
    for i in 1..=2 {
        let mut r = ControllerRevision {
            metadata: ObjectMeta::named("default", &format!("web-rev{i}")),
            revision: i,
            ..Default::default()
        };
        r.metadata.owner_references = owner();
        c.create(r);
    }
    c.settle();
    set
}

#[test]
fn background_cascade_deletes_pods_together_and_revisions_keeps_claims() {
    let mut c = Cluster::new();
    web_with_pods(&mut c);
    assert!(c.delete::<StatefulSet>("web", Some(Propagation::Background)));
    c.settle();
    // Every pod got its delete at the same instant (not one at a time, R-15.1), with its
    // default grace period: the pods stay until their kubelets finish.
    for i in 0..3 {
        let p = c.pod(&format!("web-{i}")).expect("terminating, not gone");
        assert!(p.metadata.deletion_timestamp.is_some(), "web-{i}");
        assert_eq!(p.metadata.deletion_grace_period_seconds, Some(30));
    }
    assert!(c.revisions().is_empty(), "revisions have no grace period");
    for i in 0..3 {
        c.kubelet_finish(&format!("web-{i}"));
    }
    c.settle();
    assert!(c.pod("web-0").is_none() && c.pod("web-2").is_none());
    for i in 0..3 {
        let claim = c
            .claim(&format!("www-web-{i}"))
            .expect("claims without refs stay");
        assert!(claim.metadata.deletion_timestamp.is_none());
    }
}

#[test]
fn foreground_deletion_keeps_the_owner_until_blocking_dependents_are_gone() {
    let mut c = Cluster::new();
    web_with_pods(&mut c);
    assert!(!c.delete::<StatefulSet>("web", Some(Propagation::Foreground)));
    let set = c.set().expect("the owner stays");
    assert!(set.metadata.deletion_timestamp.is_some());
    assert_eq!(set.metadata.finalizers, [FINALIZER_DELETE_DEPENDENTS]);
    c.settle();
    assert!(c.revisions().is_empty());
    for i in 0..3 {
        assert!(
            c.pod(&format!("web-{i}"))
                .unwrap()
                .metadata
                .is_terminating()
        );
    }
    c.kubelet_finish("web-0");
    c.kubelet_finish("web-1");
    c.settle();
    assert!(c.set().is_some(), "web-2 still blocks its owner");
    c.kubelet_finish("web-2");
    c.settle();
    assert!(
        c.set().is_none(),
        "the finalizer is removed once no dependent blocks"
    );
}

#[test]
fn foreground_deletion_without_dependents_finishes_at_once() {
    let mut c = Cluster::new();
    c.create(StatefulSet {
        metadata: ObjectMeta::named("default", "web"),
        ..Default::default()
    });
    c.settle();
    c.delete::<StatefulSet>("web", Some(Propagation::Foreground));
    c.settle();
    assert!(c.set().is_none());
}

#[test]
fn orphan_deletion_strips_owner_refs_and_leaves_pods_running() {
    let mut c = Cluster::new();
    web_with_pods(&mut c);
    assert!(!c.delete::<StatefulSet>("web", Some(Propagation::Orphan)));
    assert_eq!(
        c.set().unwrap().metadata.finalizers,
        [FINALIZER_ORPHAN_DEPENDENTS]
    );
    c.settle();
    assert!(
        c.set().is_none(),
        "the orphan finalizer is removed after orphaning"
    );
    for i in 0..3 {
        let p = c.pod(&format!("web-{i}")).unwrap();
        assert!(p.metadata.owner_references.is_empty(), "web-{i}");
        assert!(!p.metadata.is_terminating(), "web-{i}");
    }
    let revisions = c.revisions();
    assert_eq!(revisions.len(), 2);
    assert!(
        revisions
            .iter()
            .all(|r| r.metadata.owner_references.is_empty())
    );
}

#[test]
fn a_dependent_whose_owner_never_existed_is_collected() {
    let mut c = Cluster::new();
    let ghost = OwnerReference {
        api_version: "apps/v1".into(),
        kind: "StatefulSet".into(),
        name: "gone".into(),
        uid: "no-such-uid".into(),
        controller: Some(true),
        block_owner_deletion: Some(true),
    };
    let mut p = pod("orphan-0", vec![ghost]);
    p.spec.node_name.clear(); // never scheduled: deleted without grace
    c.create(p);
    c.settle();
    assert!(c.pod("orphan-0").is_none());
}

#[test]
fn owners_of_unsimulated_kinds_and_live_owners_keep_dependents() {
    let mut c = Cluster::new();
    let config_map = OwnerReference {
        api_version: "v1".into(),
        kind: "ConfigMap".into(),
        name: "cm".into(),
        uid: "cm-uid".into(),
        controller: None,
        block_owner_deletion: None,
    };
    c.create(claim("data", vec![config_map]));
    let set = c.create(StatefulSet {
        metadata: ObjectMeta::named("default", "web"),
        ..Default::default()
    });
    let stale = OwnerReference {
        uid: "old-uid".into(),
        ..controller_ref(&set.metadata, "apps/v1", "StatefulSet")
    };
    let live = controller_ref(&set.metadata, "apps/v1", "StatefulSet");
    c.create(claim("both", vec![stale, live.clone()]));
    c.settle();
    assert!(
        c.claim("data")
            .is_some_and(|p| !p.metadata.is_terminating())
    );
    // A dangling reference beside a live owner is removed, the object kept.
    let both = c.claim("both").unwrap();
    assert_eq!(both.metadata.owner_references, [live]);
    assert!(!both.metadata.is_terminating());
}

#[test]
fn claims_owned_by_the_set_or_a_pod_follow_their_owner() {
    let mut c = Cluster::new();
    let set = web_with_pods(&mut c);
    // whenDeleted=Delete puts a set ref on a claim; whenScaled=Delete a pod ref.
    let web2 = c.pod("web-2").unwrap();
    c.create(claim(
        "by-set",
        vec![controller_ref(&set.metadata, "apps/v1", "StatefulSet")],
    ));
    c.create(claim(
        "by-pod",
        vec![controller_ref(&web2.metadata, "v1", "Pod")],
    ));
    c.settle();
    c.delete::<Pod>("web-2", None);
    c.settle();
    assert!(c.claim("by-pod").is_some(), "its pod is only terminating");
    c.kubelet_finish("web-2");
    c.settle();
    assert!(
        c.claim("by-pod").is_none(),
        "collected once its pod is gone"
    );
    assert!(c.claim("by-set").is_some());
    c.delete::<StatefulSet>("web", Some(Propagation::Background));
    c.settle();
    // The claim is deleted, but web-0 and web-1 do not use it: gone at once.
    assert!(c.claim("by-set").is_none());
}

#[test]
fn store_sets_gc_finalizers_from_the_propagation_policy() {
    let mut c = Cluster::new();
    let mut s = StatefulSet {
        metadata: ObjectMeta::named("default", "web"),
        ..Default::default()
    };
    s.metadata.finalizers = vec!["example.com/hold".into()];
    c.create(s);
    c.delete::<StatefulSet>("web", Some(Propagation::Orphan));
    assert_eq!(
        c.set().unwrap().metadata.finalizers,
        ["example.com/hold", FINALIZER_ORPHAN_DEPENDENTS]
    );
    // A second delete may change the policy of a non-graceful kind.
    c.delete::<StatefulSet>("web", Some(Propagation::Foreground));
    assert_eq!(
        c.set().unwrap().metadata.finalizers,
        ["example.com/hold", FINALIZER_DELETE_DEPENDENTS]
    );
    // An unset policy keeps what the object carries.
    c.delete::<StatefulSet>("web", None);
    assert_eq!(
        c.set().unwrap().metadata.finalizers,
        ["example.com/hold", FINALIZER_DELETE_DEPENDENTS]
    );
    c.delete::<StatefulSet>("web", Some(Propagation::Background));
    assert_eq!(c.set().unwrap().metadata.finalizers, ["example.com/hold"]);
}

#[test]
fn admission_adds_storage_protection_finalizers() {
    let mut c = Cluster::new();
    let pvc = c.create(claim("data", Vec::new()));
    assert_eq!(pvc.metadata.finalizers, [PVC_PROTECTION_FINALIZER]);
    let pv = c.create(PersistentVolume {
        metadata: ObjectMeta {
            name: "pv-1".into(),
            finalizers: vec![PV_PROTECTION_FINALIZER.into()],
            ..Default::default()
        },
        ..Default::default()
    });
    assert_eq!(
        pv.metadata.finalizers,
        [PV_PROTECTION_FINALIZER],
        "not added twice"
    );
}

#[test]
fn a_claim_in_use_stays_terminating_until_its_pod_is_gone() {
    let mut c = Cluster::new();
    c.create(claim("www-db-0", Vec::new()));
    c.create(pod("db-0", Vec::new()));
    c.create(claim("unused", Vec::new()));
    c.settle();
    assert!(!c.delete::<PersistentVolumeClaim>("www-db-0", Some(Propagation::Background)));
    assert!(!c.delete::<PersistentVolumeClaim>("unused", Some(Propagation::Background)));
    c.settle();
    assert!(
        c.claim("unused").is_none(),
        "no pod uses it: released at once"
    );
    let held = c
        .claim("www-db-0")
        .expect("held by the protection finalizer");
    assert!(held.metadata.is_terminating());
    assert!(
        c.notes
            .iter()
            .any(|n| n.message == "Keeping PVC because it is being used by pod db-0")
    );
    // Terminating, or even terminated, the pod still holds the claim while it exists.
    c.delete::<Pod>("db-0", None);
    c.settle();
    assert!(c.claim("www-db-0").is_some());
    c.kubelet_finish("db-0");
    c.settle();
    assert!(c.pod("db-0").is_none());
    assert!(c.claim("www-db-0").is_none());
}

#[test]
fn an_unscheduled_pod_does_not_hold_its_claim() {
    let mut c = Cluster::new();
    c.create(claim("www-db-0", Vec::new()));
    let mut p = pod("db-0", Vec::new());
    p.spec.node_name.clear();
    c.create(p);
    c.settle();
    c.delete::<PersistentVolumeClaim>("www-db-0", None);
    c.settle();
    assert!(c.claim("www-db-0").is_none());
}
