//! Per-kind registry strategies (`pkg/registry/*/strategy.go`): what the API server does to
//! an object on create, and whether and how long a delete is graceful.

use super::defaults;
use crate::api::pod::phase;
use crate::api::storage::{PV_PROTECTION_FINALIZER, PVC_PROTECTION_FINALIZER};
use crate::api::{
    ControllerRevision, Node, ObjectMeta, PersistentVolume, PersistentVolumeClaim, Pod,
    PodDisruptionBudget, Resource, Service, StatefulSet, StorageClass, Tables,
};

pub trait Strategy: Resource {
    /// `PrepareForCreate` plus defaulting and the default admission plugins.
    fn prepare_for_create(&mut self) {}
    /// `CheckGracefulDelete`: the grace period in seconds for a delete with the requested
    /// one, or `None` if this kind is deleted without grace.
    fn graceful_delete_seconds(&self, _requested: Option<i64>) -> Option<i64> {
        None
    }
    /// `ValidateUpdate`: refuses changes to immutable fields, with upstream's message.
    fn validate_update(&self, _old: &Self) -> Result<(), String> {
        Ok(())
    }
    /// Defaulting that the API server applies to every write, not only creates (a real API
    /// server defaults each decoded object, so a patch that drops a defaulted field gets
    /// the default back).
    fn apply_defaults(&mut self) {}
    /// Admission plugins that read other objects (`objects` is the store before the
    /// write), on create.
    fn admit_create(&mut self, _objects: &Tables) {}
    /// The same on update, after validation; an `Err` refuses the write.
    fn admit_update(&self, _old: &Self, _objects: &Tables) -> Result<(), super::ApiError> {
        Ok(())
    }
}

impl Strategy for Pod {
    fn prepare_for_create(&mut self) {
        defaults::pod_spec(&mut self.spec);
        super::default_toleration_seconds::admit(&mut self.spec);
        // `podStrategy.PrepareForCreate`: status is reset and the phase starts Pending.
        self.status = Default::default();
        self.status.phase = phase::PENDING.into();
    }

    // `podStrategy.CheckGracefulDelete` (pkg/registry/core/pod/strategy.go).
    fn graceful_delete_seconds(&self, requested: Option<i64>) -> Option<i64> {
        let mut period = match requested {
            Some(g) if g >= 0 => g,
            _ => self.grace_period_seconds(),
        };
        // A pod that was never scheduled, or whose containers have all finished, has no
        // kubelet to wait for.
        if self.spec.node_name.is_empty()
            || self.status.phase == phase::FAILED
            || self.status.phase == phase::SUCCEEDED
        {
            period = 0;
        }
        Some(period)
    }

    // `ValidatePodUpdate` (pkg/apis/core/validation): only images, activeDeadlineSeconds,
    // added tolerations and the binding's nodeName may change on a live pod.
    fn validate_update(&self, old: &Self) -> Result<(), String> {
        let mut mutable = old.spec.clone();
        for (c, new) in mutable.containers.iter_mut().zip(&self.spec.containers) {
            c.image = new.image.clone();
        }
        for (c, new) in mutable
            .init_containers
            .iter_mut()
            .zip(&self.spec.init_containers)
        {
            c.image = new.image.clone();
        }
        if self.spec.tolerations.starts_with(&old.spec.tolerations) {
            mutable.tolerations = self.spec.tolerations.clone();
        }
        if old.spec.node_name.is_empty() {
            mutable.node_name = self.spec.node_name.clone(); // the pods/binding subresource
        }
        if mutable == self.spec {
            return Ok(());
        }
        Err("spec: Forbidden: pod updates may not change fields other than `spec.containers[*].image`,\
             `spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions \
             to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was \
             previously negative)"
            .into())
    }
}

impl Strategy for StatefulSet {
    fn apply_defaults(&mut self) {
        defaults::stateful_set(self);
    }

    fn prepare_for_create(&mut self) {
        defaults::stateful_set(self);
        self.status = Default::default();
    }

    // `ValidateStatefulSetUpdate` (pkg/apis/apps/validation): only the listed spec fields
    // are mutable.
    fn validate_update(&self, old: &Self) -> Result<(), String> {
        let (a, b) = (&self.spec, &old.spec);
        if a.selector == b.selector
            && a.service_name == b.service_name
            && a.volume_claim_templates == b.volume_claim_templates
            && a.pod_management_policy == b.pod_management_policy
        {
            return Ok(());
        }
        Err("spec: Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', \
             'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and \
             'minReadySeconds' are forbidden"
            .into())
    }
}

impl Strategy for PersistentVolumeClaim {
    fn admit_create(&mut self, objects: &Tables) {
        super::admission::default_storage_class(self, objects);
    }

    fn validate_update(&self, old: &Self) -> Result<(), String> {
        super::admission::validate_claim_update(self, old)
    }

    fn admit_update(&self, old: &Self, objects: &Tables) -> Result<(), super::ApiError> {
        super::admission::claim_resize(self, old, objects)
    }

    fn prepare_for_create(&mut self) {
        storage_object_in_use_protection(&mut self.metadata, PVC_PROTECTION_FINALIZER);
        self.status = Default::default();
        self.status.phase = "Pending".into();
        if self.spec.volume_mode.is_none() {
            self.spec.volume_mode = Some("Filesystem".into());
        }
    }
}

impl Strategy for PersistentVolume {
    fn prepare_for_create(&mut self) {
        storage_object_in_use_protection(&mut self.metadata, PV_PROTECTION_FINALIZER);
        self.status = Default::default();
        self.status.phase = "Pending".into();
        if self.spec.persistent_volume_reclaim_policy.is_empty() {
            self.spec.persistent_volume_reclaim_policy = "Retain".into();
        }
        if self.spec.volume_mode.is_none() {
            self.spec.volume_mode = Some("Filesystem".into());
        }
    }
}

// Port of the `StorageObjectInUseProtection` admission plugin (`admitPVC`, `admitPV`, on
// create only): every claim and volume gets its protection finalizer, so that deleting one
// in use leaves it Terminating until the protection controller lets it go.
fn storage_object_in_use_protection(meta: &mut ObjectMeta, finalizer: &str) {
    if !meta.finalizers.iter().any(|f| f == finalizer) {
        meta.finalizers.push(finalizer.into());
    }
}

impl Strategy for StorageClass {
    fn prepare_for_create(&mut self) {
        // `SetDefaults_StorageClass`.
        self.reclaim_policy.get_or_insert_with(|| "Delete".into());
        self.volume_binding_mode
            .get_or_insert_with(|| "Immediate".into());
    }
}

impl Strategy for Node {}
impl Strategy for ControllerRevision {}
impl Strategy for Service {}
impl Strategy for PodDisruptionBudget {
    fn prepare_for_create(&mut self) {
        self.status = Default::default();
    }
}

impl Strategy for crate::api::VolumeAttachment {}
impl Strategy for crate::api::CSINode {}
impl Strategy for crate::api::EndpointSlice {}
impl Strategy for crate::api::Lease {}
impl Strategy for crate::api::CSIStorageCapacity {}
