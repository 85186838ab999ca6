//! PV controller tests in the style of upstream's `binder_test.go` / `provision_test.go`:
//! a real API server, the controller (and the PV protection controller) behind the
//! controller manager's informer with no watch delay, and provisioners played by hand.

use super::PersistentVolumeController;
use crate::api::storage::{PV_PROTECTION_FINALIZER, StorageClass};
use crate::api::volume::{
    ANN_BIND_COMPLETED, ANN_BOUND_BY_CONTROLLER, ANN_DYNAMICALLY_PROVISIONED, ANN_SELECTED_NODE,
    ANN_STORAGE_PROVISIONER,
};
use crate::api::{
    K8sEvent, ObjectKey, ObjectMeta, PersistentVolume, PersistentVolumeClaim, Quantity,
};
use crate::apiserver::{DeleteOptions, JournalEntry, Strategy};
use crate::control::pv_protection::PvProtectionController;
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
            Box::new(PersistentVolumeController::default()),
            Box::new(PvProtectionController::default()),
        ]))
    }

    /// Delivers every write and runs every queued key until nothing is left (the 15 s
    /// resync tick is not run: `resync()` does that by hand).
    fn settle(&mut self) {
        self.0
            .settle_with(1_000, |key| *key != ObjectKey::default());
    }

    /// The periodic resync, then settle.
    fn resync(&mut self) {
        self.manager.requeue(0, ObjectKey::default());
        self.settle();
    }

    fn create<T: Strategy>(&mut self, obj: T) -> Rc<T> {
        self.client().create(obj).expect("create")
    }

    fn claim(&self, name: &str) -> Option<Rc<PersistentVolumeClaim>> {
        self.api.get(&ObjectKey::new("default", name)).cloned()
    }

    fn volume(&self, name: &str) -> Option<Rc<PersistentVolume>> {
        self.api.get(&ObjectKey::cluster(name)).cloned()
    }

    /// Every Event recorded so far: (reason, message, count).
    fn events(&self) -> Vec<(String, String, i32)> {
        let mut out = Vec::new();
        for i in 0..self.api.journal_end() {
            if let Some(JournalEntry::Event { event, .. }) = self.api.journal_entry(i) {
                let e: &K8sEvent = event;
                out.push((e.reason.clone(), e.message.clone(), e.count));
            }
        }
        out
    }
}

fn class(name: &str, provisioner: &str, mode: &str, reclaim: &str) -> StorageClass {
    StorageClass {
        metadata: ObjectMeta::named("", name),
        provisioner: provisioner.into(),
        volume_binding_mode: Some(mode.into()),
        reclaim_policy: Some(reclaim.into()),
        ..Default::default()
    }
}

fn claim(name: &str, size: &str, class: &str) -> PersistentVolumeClaim {
    let mut c = PersistentVolumeClaim {
        metadata: ObjectMeta::named("default", name),
        ..Default::default()
    };
    c.spec.access_modes = vec!["ReadWriteOnce".into()];
    c.spec
        .resources
        .requests
        .insert("storage".into(), Quantity(size.into()));
    c.spec.storage_class_name = Some(class.into());
    c
}

fn volume(name: &str, size: &str, class: &str, reclaim: &str) -> PersistentVolume {
    let mut v = PersistentVolume {
        metadata: ObjectMeta::named("", name),
        ..Default::default()
    };
    v.spec
        .capacity
        .insert("storage".into(), Quantity(size.into()));
    v.spec.access_modes = vec!["ReadWriteOnce".into()];
    v.spec.storage_class_name = class.into();
    v.spec.persistent_volume_reclaim_policy = reclaim.into();
    v.spec.csi = Some(crate::api::storage::CsiPersistentVolumeSource {
        driver: "ebs.csi.aws.com".into(),
        volume_handle: format!("vol-{name}"),
        ..Default::default()
    });
    v
}

#[test]
fn a_claim_binds_the_smallest_available_volume_of_its_class() {
    let mut c = Cluster::new();
    c.create(class(
        "manual",
        "kubernetes.io/no-provisioner",
        "Immediate",
        "Retain",
    ));
    for (n, size) in [("pv-50", "50Gi"), ("pv-20", "20Gi"), ("pv-5", "5Gi")] {
        c.create(volume(n, size, "manual", "Retain"));
    }
    c.settle();
    assert_eq!(c.volume("pv-20").unwrap().status.phase, "Available");
    c.create(claim("data", "10Gi", "manual"));
    c.settle();
    let pvc = c.claim("data").unwrap();
    assert_eq!(pvc.spec.volume_name, "pv-20");
    assert_eq!(pvc.status.phase, "Bound");
    assert_eq!(pvc.status.capacity["storage"], Quantity("20Gi".into()));
    assert!(pvc.metadata.annotations.contains_key(ANN_BIND_COMPLETED));
    assert!(
        pvc.metadata
            .annotations
            .contains_key(ANN_BOUND_BY_CONTROLLER)
    );
    let pv = c.volume("pv-20").unwrap();
    assert_eq!(pv.status.phase, "Bound");
    assert_eq!(pv.spec.claim_ref.as_ref().unwrap().uid, pvc.metadata.uid);
    assert!(
        pv.metadata
            .annotations
            .contains_key(ANN_BOUND_BY_CONTROLLER)
    );
    assert_eq!(c.volume("pv-5").unwrap().status.phase, "Available");
}

#[test]
fn a_claim_naming_a_too_small_volume_waits_with_volume_mismatch() {
    let mut c = Cluster::new();
    c.create(class(
        "manual",
        "kubernetes.io/no-provisioner",
        "Immediate",
        "Retain",
    ));
    c.create(volume("pv-1", "1Gi", "manual", "Retain"));
    let mut pvc = claim("data", "10Gi", "manual");
    pvc.spec.volume_name = "pv-1".into();
    c.create(pvc);
    c.settle();
    assert_eq!(c.claim("data").unwrap().status.phase, "Pending");
    assert!(c.events().iter().any(|(r, m, _)| r == "VolumeMismatch"
        && m == "Cannot bind to requested volume \"pv-1\": requested PV is too small"));
}

#[test]
fn immediate_claims_are_handed_to_their_external_provisioner() {
    let mut c = Cluster::new();
    c.create(class("gp3", "ebs.csi.aws.com", "Immediate", "Delete"));
    c.create(claim("data", "10Gi", "gp3"));
    c.settle();
    let pvc = c.claim("data").unwrap();
    assert_eq!(pvc.status.phase, "Pending");
    assert_eq!(
        pvc.metadata.annotations[ANN_STORAGE_PROVISIONER],
        "ebs.csi.aws.com"
    );
    let msg = "Waiting for a volume to be created either by the external provisioner \
               'ebs.csi.aws.com' or manually by the system administrator. If volume creation \
               is delayed, please verify that the provisioner is running and correctly registered.";
    assert!(
        c.events()
            .iter()
            .any(|(r, m, _)| r == "ExternalProvisioning" && m == msg)
    );
    // Every resync says it again.
    c.resync();
    let count = c
        .events()
        .iter()
        .filter(|(r, _, _)| r == "ExternalProvisioning")
        .map(|(_, _, n)| *n)
        .max();
    assert!(count >= Some(2), "{count:?}");
    // The provisioner creates the PV bound to the claim; the controller finishes.
    let mut pv = volume(
        &format!("pvc-{}", pvc.metadata.uid),
        "10Gi",
        "gp3",
        "Delete",
    );
    pv.metadata
        .annotations
        .insert(ANN_DYNAMICALLY_PROVISIONED.into(), "ebs.csi.aws.com".into());
    pv.spec.claim_ref = Some(super::claim_ref(&pvc));
    c.create(pv);
    c.settle();
    let pvc = c.claim("data").unwrap();
    assert_eq!(pvc.status.phase, "Bound");
    assert_eq!(pvc.spec.volume_name, format!("pvc-{}", pvc.metadata.uid));
    let pv = c.volume(&pvc.spec.volume_name).unwrap();
    assert_eq!(pv.status.phase, "Bound");
    // The provisioner made the binding, so the controller did not claim it as its own.
    assert!(
        !pv.metadata
            .annotations
            .contains_key(ANN_BOUND_BY_CONTROLLER)
    );
}

#[test]
fn delayed_binding_waits_for_a_consumer_then_for_the_selected_node() {
    let mut c = Cluster::new();
    c.create(class(
        "gp3",
        "ebs.csi.aws.com",
        "WaitForFirstConsumer",
        "Delete",
    ));
    c.create(claim("data", "10Gi", "gp3"));
    c.settle();
    let pvc = c.claim("data").unwrap();
    assert!(
        !pvc.metadata
            .annotations
            .contains_key(ANN_STORAGE_PROVISIONER)
    );
    assert!(
        c.events()
            .iter()
            .any(|(r, m, _)| r == "WaitForFirstConsumer"
                && m == "waiting for first consumer to be created before binding")
    );
    // The scheduler selects a node: now the provisioner is asked.
    let mut next = (*pvc).clone();
    next.metadata
        .annotations
        .insert(ANN_SELECTED_NODE.into(), "node-1".into());
    c.client().update(next).unwrap();
    c.settle();
    let pvc = c.claim("data").unwrap();
    assert_eq!(
        pvc.metadata.annotations[ANN_STORAGE_PROVISIONER],
        "ebs.csi.aws.com"
    );
}

#[test]
fn reclaim_retain_keeps_a_released_volume_and_delete_waits_for_the_provisioner() {
    let mut c = Cluster::new();
    c.create(class(
        "manual",
        "kubernetes.io/no-provisioner",
        "Immediate",
        "Retain",
    ));
    c.create(volume("kept", "10Gi", "manual", "Retain"));
    c.create(claim("a", "10Gi", "manual"));
    c.settle();
    assert_eq!(c.claim("a").unwrap().spec.volume_name, "kept");
    // A claim without the protection finalizer goes at once.
    let mut bare = (*c.claim("a").unwrap()).clone();
    bare.metadata.finalizers.clear();
    c.client().update(bare).unwrap();
    c.client()
        .delete::<PersistentVolumeClaim>(&ObjectKey::new("default", "a"), &DeleteOptions::default())
        .unwrap();
    c.settle();
    let pv = c.volume("kept").unwrap();
    assert_eq!(pv.status.phase, "Released");
    // Deleting the released volume: PV protection lets it go (it is not bound).
    assert!(
        pv.metadata
            .finalizers
            .contains(&PV_PROTECTION_FINALIZER.to_string())
    );
    c.client()
        .delete::<PersistentVolume>(&ObjectKey::cluster("kept"), &DeleteOptions::default())
        .unwrap();
    c.settle();
    assert!(c.volume("kept").is_none());
}

#[test]
fn a_bound_claim_whose_volume_is_gone_is_lost() {
    let mut c = Cluster::new();
    c.create(class(
        "manual",
        "kubernetes.io/no-provisioner",
        "Immediate",
        "Retain",
    ));
    let mut v = volume("gone", "10Gi", "manual", "Retain");
    v.metadata.finalizers.clear();
    c.create(v);
    c.create(claim("a", "10Gi", "manual"));
    c.settle();
    // Force the volume away (its protection finalizer removed by hand).
    let mut pv = (*c.volume("gone").unwrap()).clone();
    pv.metadata.finalizers.clear();
    c.client().update(pv).unwrap();
    c.client()
        .delete::<PersistentVolume>(&ObjectKey::cluster("gone"), &DeleteOptions::default())
        .unwrap();
    c.settle();
    assert_eq!(c.claim("a").unwrap().status.phase, "Lost");
    assert!(c.events().iter().any(|(r, m, _)| r == "ClaimLost"
        && m == "Bound claim has lost its PersistentVolume. Data on the volume is lost!"));
}

#[test]
fn a_claim_without_class_and_no_volume_fails_binding() {
    let mut c = Cluster::new();
    let mut pvc = claim("a", "1Gi", "");
    pvc.spec.storage_class_name = Some(String::new());
    c.create(pvc);
    c.settle();
    assert!(c.events().iter().any(|(r, m, _)| r == "FailedBinding"
        && m == "no persistent volumes available for this claim and no storage class is set"));
}
