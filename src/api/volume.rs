//! Storage helpers every component shares, ported from
//! `k8s.io/component-helpers/storage/volume` (`helpers.go`, `pv_helpers.go`): the
//! well-known annotations and the small predicates on claims and volumes.

use super::Tables;
use super::storage::{PersistentVolume, PersistentVolumeClaim, StorageClass};

/// `AnnBindCompleted`: on a claim whose binding the PV controller finished.
pub const ANN_BIND_COMPLETED: &str = "pv.kubernetes.io/bind-completed";
/// `AnnBoundByController`: the binding was made by the controller, not pre-bound by a user.
pub const ANN_BOUND_BY_CONTROLLER: &str = "pv.kubernetes.io/bound-by-controller";
/// `AnnDynamicallyProvisioned`: on a PV, the provisioner that made it.
pub const ANN_DYNAMICALLY_PROVISIONED: &str = "pv.kubernetes.io/provisioned-by";
/// `AnnStorageProvisioner`: on a claim, the provisioner asked to provision it.
pub const ANN_STORAGE_PROVISIONER: &str = "volume.kubernetes.io/storage-provisioner";
/// `AnnBetaStorageProvisioner`, still written alongside.
pub const ANN_BETA_STORAGE_PROVISIONER: &str = "volume.beta.kubernetes.io/storage-provisioner";
/// `AnnSelectedNode`: on a claim, the node the scheduler chose (WaitForFirstConsumer).
pub const ANN_SELECTED_NODE: &str = "volume.kubernetes.io/selected-node";
/// The external-provisioner's finalizer on PVs it must delete (HonorPVReclaimPolicy).
pub const PV_DELETION_PROTECTION_FINALIZER: &str =
    "external-provisioner.volume.kubernetes.io/finalizer";

/// The simulator's own driver (`instant` profile, the default class `standard`): storage
/// that is simply there. Its claims are provisioned and bound like any other, at once,
/// but they never hold a pod back: the scheduler's volume plugins treat them as bound, and
/// the kubelet waits the few milliseconds until they are.
pub const INSTANT_PROVISIONER: &str = "stsim.io/instant";

pub const BINDING_IMMEDIATE: &str = "Immediate";
pub const BINDING_WAIT_FOR_FIRST_CONSUMER: &str = "WaitForFirstConsumer";

pub mod phase {
    pub const PENDING: &str = "Pending";
    pub const AVAILABLE: &str = "Available";
    pub const BOUND: &str = "Bound";
    pub const RELEASED: &str = "Released";
    pub const FAILED: &str = "Failed";
    pub const LOST: &str = "Lost";
}

/// `GetPersistentVolumeClaimClass`: the claim's class, `""` for none.
pub fn claim_class(claim: &PersistentVolumeClaim) -> &str {
    claim.spec.storage_class_name.as_deref().unwrap_or("")
}

/// `GetPersistentVolumeClass`.
pub fn volume_class(volume: &PersistentVolume) -> &str {
    &volume.spec.storage_class_name
}

/// `IsVolumeBoundToClaim`: the volume's claimRef names this claim (and, if it carries a
/// uid, this very claim).
pub fn is_volume_bound_to_claim(volume: &PersistentVolume, claim: &PersistentVolumeClaim) -> bool {
    let Some(r) = &volume.spec.claim_ref else {
        return false;
    };
    r.name == claim.metadata.name
        && r.namespace == claim.metadata.namespace
        && (r.uid.is_empty() || r.uid == claim.metadata.uid)
}

/// `CheckAccessModes`: the volume offers every mode the claim asks for.
pub fn check_access_modes(claim: &PersistentVolumeClaim, volume: &PersistentVolume) -> bool {
    claim
        .spec
        .access_modes
        .iter()
        .all(|m| volume.spec.access_modes.contains(m))
}

/// `CheckVolumeModeMismatches`: Filesystem unless set.
pub fn volume_mode_mismatch(claim: &PersistentVolumeClaim, volume: &PersistentVolume) -> bool {
    let c = claim.spec.volume_mode.as_deref().unwrap_or("Filesystem");
    let v = volume.spec.volume_mode.as_deref().unwrap_or("Filesystem");
    c != v
}

/// The storage request of a claim in bytes (0 when none).
pub fn requested_bytes(claim: &PersistentVolumeClaim) -> i128 {
    claim.requested_storage().map_or(0, |q| q.units())
}

/// The capacity of a volume in bytes (0 when none).
pub fn capacity_bytes(volume: &PersistentVolume) -> i128 {
    volume.spec.capacity.get("storage").map_or(0, |q| q.units())
}

/// The claim's StorageClass, if it names one that exists.
pub fn class_of<'a>(claim: &PersistentVolumeClaim, tables: &'a Tables) -> Option<&'a StorageClass> {
    let name = claim_class(claim);
    if name.is_empty() {
        return None;
    }
    tables
        .storage_classes
        .get(&super::ObjectKey::cluster(name))
        .map(|c| &**c)
}

/// `IsDelayBindingMode`: the claim's class binds on first consumer.
pub fn is_delay_binding_mode(claim: &PersistentVolumeClaim, tables: &Tables) -> bool {
    class_of(claim, tables)
        .is_some_and(|c| c.volume_binding_mode.as_deref() == Some(BINDING_WAIT_FOR_FIRST_CONSUMER))
}

/// `IsDelayBindingProvisioning`: the scheduler has chosen a node for the claim.
pub fn is_delay_binding_provisioning(claim: &PersistentVolumeClaim) -> bool {
    claim
        .metadata
        .annotations
        .get(ANN_SELECTED_NODE)
        .is_some_and(|n| !n.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{ObjectMeta, ObjectReference};

    #[test]
    fn bound_means_the_claim_ref_names_this_claim() {
        let mut claim = PersistentVolumeClaim {
            metadata: ObjectMeta::named("default", "data"),
            ..Default::default()
        };
        claim.metadata.uid = "u1".into();
        let mut pv = PersistentVolume::default();
        assert!(!is_volume_bound_to_claim(&pv, &claim));
        pv.spec.claim_ref = Some(ObjectReference {
            namespace: "default".into(),
            name: "data".into(),
            ..Default::default()
        });
        assert!(is_volume_bound_to_claim(&pv, &claim), "pre-bound by name");
        pv.spec.claim_ref.as_mut().unwrap().uid = "u2".into();
        assert!(
            !is_volume_bound_to_claim(&pv, &claim),
            "bound to an older claim"
        );
    }

    #[test]
    fn access_and_volume_modes() {
        let mut claim = PersistentVolumeClaim::default();
        claim.spec.access_modes = vec!["ReadWriteOnce".into()];
        let mut pv = PersistentVolume::default();
        pv.spec.access_modes = vec!["ReadWriteOnce".into(), "ReadOnlyMany".into()];
        assert!(check_access_modes(&claim, &pv));
        claim.spec.access_modes.push("ReadWriteMany".into());
        assert!(!check_access_modes(&claim, &pv));
        assert!(!volume_mode_mismatch(&claim, &pv));
        pv.spec.volume_mode = Some("Block".into());
        assert!(volume_mode_mismatch(&claim, &pv));
    }
}
