//! Per-kind registry strategies (`pkg/registry/*/strategy.go`): what the API server does to
//! an object on create, and whether and how long a delete is graceful.

use super::defaults;
use crate::api::pod::{Container, PodSpec, phase};
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
        if pod_spec_update_allowed(&self.spec, &old.spec) {
            return Ok(());
        }
        Err("spec: Forbidden: pod updates may not change fields other than `spec.containers[*].image`,\
             `spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions \
             to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was \
             previously negative)"
            .into())
    }
}

/// Upstream copies the old spec, sets the fields that may change to the new spec's values
/// (each container's image, the tolerations if only added to, a nodeName not set before)
/// and compares the copy with the new spec. This is that comparison field by field,
/// without the copy. Both structs are taken apart whole, so that a field added to either
/// does not compile until it is placed here.
fn pod_spec_update_allowed(new: &PodSpec, old: &PodSpec) -> bool {
    let PodSpec {
        init_containers,
        containers,
        volumes,
        restart_policy,
        termination_grace_period_seconds,
        node_selector,
        node_name,
        scheduler_name,
        affinity,
        tolerations,
        topology_spread_constraints,
        hostname,
        subdomain,
        priority,
        priority_class_name,
    } = new;
    same_but_images(containers, &old.containers)
        && same_but_images(init_containers, &old.init_containers)
        && *volumes == old.volumes
        && *restart_policy == old.restart_policy
        && *termination_grace_period_seconds == old.termination_grace_period_seconds
        && *node_selector == old.node_selector
        && (old.node_name.is_empty() || *node_name == old.node_name)
        && *scheduler_name == old.scheduler_name
        && *affinity == old.affinity
        && tolerations.starts_with(&old.tolerations)
        && *topology_spread_constraints == old.topology_spread_constraints
        && *hostname == old.hostname
        && *subdomain == old.subdomain
        && *priority == old.priority
        && *priority_class_name == old.priority_class_name
}

/// The same containers but for their images (upstream copies the new images onto the old
/// containers pairwise; containers of a different count never compare equal).
fn same_but_images(new: &[Container], old: &[Container]) -> bool {
    new.len() == old.len()
        && new.iter().zip(old).all(|(n, o)| {
            let Container {
                name,
                image: _,
                resources,
                ports,
                volume_mounts,
                readiness_probe,
                liveness_probe,
                startup_probe,
                restart_policy,
            } = n;
            *name == o.name
                && *resources == o.resources
                && *ports == o.ports
                && *volume_mounts == o.volume_mounts
                && *readiness_probe == o.readiness_probe
                && *liveness_probe == o.liveness_probe
                && *startup_probe == o.startup_probe
                && *restart_policy == o.restart_policy
        })
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::scheduling::Toleration;

    /// Upstream's way, which `pod_spec_update_allowed` must agree with: a copy of the old
    /// spec with the mutable fields taken from the new one, compared with the new one.
    fn by_copy(new: &PodSpec, old: &PodSpec) -> bool {
        let mut mutable = old.clone();
        for (c, n) in mutable.containers.iter_mut().zip(&new.containers) {
            c.image = n.image.clone();
        }
        for (c, n) in mutable.init_containers.iter_mut().zip(&new.init_containers) {
            c.image = n.image.clone();
        }
        if new.tolerations.starts_with(&old.tolerations) {
            mutable.tolerations = new.tolerations.clone();
        }
        if old.node_name.is_empty() {
            mutable.node_name = new.node_name.clone();
        }
        mutable == *new
    }

    #[test]
    fn pod_update_validation_agrees_with_the_copy_and_compare() {
        let container = |name: &str, image: &str| Container {
            name: name.into(),
            image: image.into(),
            ..Default::default()
        };
        let toleration = |key: &str| Toleration {
            key: key.into(),
            operator: "Exists".into(),
            ..Default::default()
        };
        let mut base = PodSpec {
            containers: vec![container("a", "img:1"), container("b", "img:1")],
            init_containers: vec![container("i", "init:1")],
            tolerations: vec![toleration("t1")],
            hostname: "web-0".into(),
            ..Default::default()
        };
        let edits: Vec<fn(&mut PodSpec)> = vec![
            |_| {},
            |s| {
                if let Some(c) = s.containers.first_mut() {
                    c.image = "img:2".into();
                }
            },
            |s| {
                if let Some(c) = s.init_containers.first_mut() {
                    c.image = "init:2".into();
                }
            },
            |s| {
                if let Some(c) = s.containers.get_mut(1) {
                    c.name = "c".into();
                }
            },
            |s| s.containers.push(Container::default()),
            |s| {
                s.containers.pop();
            },
            |s| s.init_containers.clear(),
            |s| s.tolerations.push(Toleration::default()),
            |s| s.tolerations.clear(),
            |s| {
                if let Some(t) = s.tolerations.first_mut() {
                    t.key = "t2".into();
                }
            },
            |s| s.node_name = "node-1".into(),
            |s| s.node_name = "node-2".into(),
            |s| s.hostname = "web-1".into(),
            |s| s.priority = Some(1),
            |s| s.restart_policy = "Never".into(),
            |s| {
                if let Some(c) = s.containers.first_mut() {
                    c.restart_policy = Some("Always".into());
                }
            },
        ];
        for bound in ["", "node-1"] {
            base.node_name = bound.into();
            for first in &edits {
                for second in &edits {
                    let mut new = base.clone();
                    first(&mut new);
                    second(&mut new);
                    assert_eq!(
                        pod_spec_update_allowed(&new, &base),
                        by_copy(&new, &base),
                        "{new:?}"
                    );
                }
            }
        }
    }
}
