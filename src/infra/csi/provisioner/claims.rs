//! Provisioning (`ProvisionController.syncClaim`, `shouldProvision`,
//! `provisionClaimOperation`, `provisionVolumeErrorHandling`, `rescheduleProvisioning` of
//! sig-storage-lib-external-provisioner; `csiProvisioner.Provision` and `checkError` of
//! the external-provisioner): a claim the PV controller handed to this driver gets a disk
//! (CreateVolume, taking the profile's latency) and a PersistentVolume bound to it.

use super::topology;
use super::{Provisioner, ProvisionerTimer, Step};
use crate::api::scheduling::{NodeSelector, NodeSelectorRequirement, NodeSelectorTerm};
use crate::api::storage::{CsiPersistentVolumeSource, PersistentVolumeSpec, VolumeNodeAffinity};
use crate::api::volume::{
    ANN_DYNAMICALLY_PROVISIONED, ANN_SELECTED_NODE, BINDING_WAIT_FOR_FIRST_CONSUMER,
    PV_DELETION_PROTECTION_FINALIZER, claim_class,
};
use crate::api::{
    ObjectKey, ObjectMeta, ObjectReference, PersistentVolume, PersistentVolumeClaim, Quantity,
    StorageClass, Tables,
};
use crate::apiserver::EventType;
use crate::component::Ctx;
use crate::infra::csi::CsiTimer;
use crate::infra::csi::cloud::{Cloud, CloudError, Code, CreateDisk, Placement};
use crate::infra::csi::profiles::{CloudOp, observed};
use crate::infra::faults::ActiveFaults;
use crate::scenario::{CsiDriverProfile, Fault, VolumeTopology};
use std::rc::Rc;

/// A CreateVolume call in flight.
#[derive(Clone, Debug)]
pub struct CreateCall {
    pub claim: Rc<PersistentVolumeClaim>,
    pub class: Rc<StorageClass>,
    pub placement: Placement,
    /// The selected node, if the scheduler chose one (WaitForFirstConsumer).
    pub selected_node: Option<String>,
}

/// `controller.ProvisioningState`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Finished,
    InBackground,
    Reschedule,
}

/// `checkError`: what a failed CreateVolume means. Only a lack of resources where the
/// scheduler picked the node gives the node back (the volume may fit elsewhere); an
/// operation that may still be running is retried as "in background"; anything else is
/// final for this attempt (and retried after the backoff).
fn check_error(code: Code, may_reschedule: bool) -> State {
    match code {
        Code::ResourceExhausted if may_reschedule => State::Reschedule,
        Code::ResourceExhausted => State::Finished,
        Code::Aborted | Code::DeadlineExceeded => State::InBackground,
        _ => State::Finished,
    }
}

/// The name of the PV for a claim (`getProvisionedVolumeNameForClaim`).
pub fn pv_name(claim: &PersistentVolumeClaim) -> String {
    ["pvc-", &claim.metadata.uid].concat()
}

impl Provisioner {
    /// `syncClaim`: checks and, if this driver should provision the claim, starts
    /// CreateVolume.
    pub(super) fn sync_claim(
        &mut self,
        i: usize,
        uid: &str,
        cache: &Tables,
        ctx: &mut Ctx<'_, CsiTimer>,
    ) -> Step {
        let Some(claim) = self
            .claim_keys
            .get(uid)
            .and_then(|k| cache.pvcs.get(k))
            .filter(|c| c.metadata.uid == uid)
            .cloned()
        else {
            return Step::Done(Ok(()));
        };
        match self.should_provision(i, &claim, cache) {
            Ok(true) => self.provision_claim_operation(i, claim, cache, ctx),
            Ok(false) => Step::Done(Ok(())),
            Err(()) => Step::Done(Err(())),
        }
    }

    /// `shouldProvision`: no volume named yet, this driver asked for, and (for
    /// WaitForFirstConsumer) a node selected. A missing class is retried.
    fn should_provision(
        &self,
        i: usize,
        claim: &PersistentVolumeClaim,
        cache: &Tables,
    ) -> Result<bool, ()> {
        if !claim.spec.volume_name.is_empty() {
            return Ok(false);
        }
        if super::claim_provisioner(claim) != Some(self.drivers[i].profile.name.as_str()) {
            return Ok(false);
        }
        let class = cache
            .storage_classes
            .get(&ObjectKey::cluster(claim_class(claim)))
            .ok_or(())?;
        if class.volume_binding_mode.as_deref() == Some(BINDING_WAIT_FOR_FIRST_CONSUMER) {
            // The PV controller hands such a claim over only once a node is selected, but
            // the provisioner may have removed it since to have the scheduler pick again.
            return Ok(claim
                .metadata
                .annotations
                .get(ANN_SELECTED_NODE)
                .is_some_and(|n| !n.is_empty()));
        }
        Ok(true)
    }

    /// `provisionClaimOperation` up to the CreateVolume call.
    fn provision_claim_operation(
        &mut self,
        i: usize,
        claim: Rc<PersistentVolumeClaim>,
        cache: &Tables,
        ctx: &mut Ctx<'_, CsiTimer>,
    ) -> Step {
        let name = pv_name(&claim);
        if cache.pvs.contains_key(&ObjectKey::cluster(&name)) {
            return Step::Done(Ok(())); // already provisioned
        }
        let class_name = claim_class(&claim).to_string();
        let Some(class) = cache
            .storage_classes
            .get(&ObjectKey::cluster(&class_name))
            .cloned()
        else {
            return Step::Done(Err(()));
        };
        if class.provisioner != self.drivers[i].profile.name {
            return Step::Done(Ok(()));
        }
        let selected_name = claim
            .metadata
            .annotations
            .get(ANN_SELECTED_NODE)
            .filter(|n| !n.is_empty())
            .cloned();
        let selected = match &selected_name {
            None => None,
            Some(n) => match cache.nodes.get(&ObjectKey::cluster(n)) {
                Some(node) => Some(Rc::clone(node)),
                None => {
                    // The node is gone: give the choice back to the scheduler.
                    let err = format!("nodes {n:?} not found");
                    return self.error_handling(i, &claim, State::Reschedule, err, cache, ctx);
                }
            },
        };
        let msg = [
            "External provisioner is provisioning volume for claim \"",
            &claim.metadata.namespace,
            "/",
            &claim.metadata.name,
            "\"",
        ]
        .concat();
        let actor = self.drivers[i].actor.clone();
        ctx.client(&actor)
            .event(&*claim, EventType::Normal, "Provisioning", msg);
        let profile = &self.drivers[i].profile;
        let placement = match topology::placement(
            profile,
            &class,
            &claim.metadata.name,
            selected.as_deref(),
            &cache.nodes,
        ) {
            Ok(p) => p,
            Err(e) => {
                let err =
                    format!("failed to provision volume with StorageClass {class_name:?}: {e}");
                return self.error_handling(i, &claim, State::Finished, err, cache, ctx);
            }
        };
        let actual = self.rng.duration(&profile.provision);
        let latency = observed(&profile.profile, CloudOp::Create, actual);
        let uid = claim.metadata.uid.clone();
        self.drivers[i].creating.insert(
            uid.clone(),
            CreateCall {
                claim,
                class,
                placement,
                selected_node: selected_name,
            },
        );
        let t = ProvisionerTimer::CreateDone {
            driver: i,
            claim: uid,
        };
        ctx.after(latency, CsiTimer::Provisioner(t));
        Step::InFlight
    }

    /// CreateVolume returns: the disk and its PV, or the error and what it means.
    pub(super) fn finish_create(
        &mut self,
        i: usize,
        uid: &str,
        cache: &Tables,
        cloud: &mut Cloud,
        faults: &ActiveFaults,
        ctx: &mut Ctx<'_, CsiTimer>,
    ) {
        let Some(call) = self.drivers[i].creating.remove(uid) else {
            return;
        };
        self.drivers[i].claim_workers -= 1;
        let result = self.create_volume(i, &call, cloud, faults, ctx);
        let done = match result {
            Ok(handle) => {
                self.save_volume(i, &call, &handle, ctx);
                Ok(())
            }
            Err(e) => {
                let class = &call.class.metadata.name;
                let err = format!("failed to provision volume with StorageClass {class:?}: {e}");
                let topology = self.drivers[i].profile.topology != VolumeTopology::Any;
                let may_reschedule = topology && call.selected_node.is_some();
                let state = check_error(e.code, may_reschedule);
                let claim = cache
                    .pvcs
                    .get(&ObjectKey::of(&call.claim.metadata))
                    .filter(|c| c.metadata.uid == uid)
                    .cloned()
                    .unwrap_or_else(|| Rc::clone(&call.claim));
                match self.error_handling(i, &claim, state, err, cache, ctx) {
                    Step::Done(r) => r,
                    Step::InFlight => unreachable!("error handling starts no call"),
                }
            }
        };
        self.claim_done(i, uid, done, ctx);
    }

    /// The cloud's answer to CreateVolume: the faults in force, the profile's failure
    /// ratio, then the cloud itself (capacity).
    fn create_volume(
        &mut self,
        i: usize,
        call: &CreateCall,
        cloud: &mut Cloud,
        faults: &ActiveFaults,
        ctx: &Ctx<'_, CsiTimer>,
    ) -> Result<String, CloudError> {
        let profile = &self.drivers[i].profile;
        let zones: Vec<&str> = match &call.placement {
            Placement::Zone(z) => vec![z.as_str()],
            Placement::Zones(zs) => zs.iter().map(String::as_str).collect(),
            Placement::Node(n) => cloud.node_zone(n).into_iter().collect(),
            Placement::Anywhere => Vec::new(),
        };
        for f in faults.iter() {
            if let Fault::ZoneOutage { zone, .. } = f
                && zones.contains(&zone.as_str())
            {
                return Err(CloudError::new(
                    Code::Internal,
                    format!(
                        "Could not create volume {:?}: zone {zone} is unavailable",
                        pv_name(&call.claim)
                    ),
                ));
            }
            if let Fault::ProvisioningFailure {
                storage_class,
                zone,
                message,
            } = f
            {
                let class_ok = storage_class
                    .as_ref()
                    .is_none_or(|c| *c == call.class.metadata.name);
                let zone_ok = zone.as_ref().is_none_or(|z| zones.contains(&z.as_str()));
                if class_ok && zone_ok {
                    return Err(CloudError::new(Code::Internal, message.clone()));
                }
            }
        }
        let ratio = profile.provision_failure_ratio;
        if ratio > 0.0 && self.rng.unit_f64() < ratio {
            return Err(CloudError::new(
                Code::Internal,
                format!(
                    "Could not create volume {:?}: the cloud's CreateVolume call failed",
                    pv_name(&call.claim)
                ),
            ));
        }
        let size_bytes = call.claim.requested_storage().map_or(0, |q| q.units());
        let req = CreateDisk {
            driver: profile.name.clone(),
            name: pv_name(&call.claim),
            size_bytes,
            placement: call.placement.clone(),
            claim: Some(ObjectKey::of(&call.claim.metadata)),
        };
        cloud.create_disk(req, ctx.now).map(|d| d.handle.clone())
    }

    /// The PV for a new disk, bound to its claim (`claimRef`), and the success Event
    /// (`volumeStore.StoreVolume`). The PV controller completes the binding.
    fn save_volume(
        &mut self,
        i: usize,
        call: &CreateCall,
        handle: &str,
        ctx: &mut Ctx<'_, CsiTimer>,
    ) {
        let pv = build_volume(
            &self.drivers[i].profile,
            call,
            handle,
            self.honor_reclaim_policy,
        );
        let name = pv.metadata.name.clone();
        let actor = self.drivers[i].actor.clone();
        let mut client = ctx.client(&actor);
        match client.create(pv) {
            Ok(_) => {}
            Err(e) if e.is_already_exists() => {}
            // Upstream retries saving the PV; a refused create is not modelled further.
            Err(_) => return,
        }
        let msg = ["Successfully provisioned volume ", &name].concat();
        client.event(
            &*call.claim,
            EventType::Normal,
            "ProvisioningSucceeded",
            msg,
        );
    }

    /// `provisionVolumeErrorHandling`: the Warning Event; for a reschedule with a selected
    /// node, remove `selected-node` (`rescheduleProvisioning`) and stop; else retry.
    fn error_handling(
        &mut self,
        i: usize,
        claim: &Rc<PersistentVolumeClaim>,
        state: State,
        err: String,
        cache: &Tables,
        ctx: &mut Ctx<'_, CsiTimer>,
    ) -> Step {
        let actor = self.drivers[i].actor.clone();
        ctx.client(&actor)
            .event(&**claim, EventType::Warning, "ProvisioningFailed", err);
        let selected = claim.metadata.annotations.contains_key(ANN_SELECTED_NODE);
        if selected && state == State::Reschedule {
            let live = cache
                .pvcs
                .get(&ObjectKey::of(&claim.metadata))
                .cloned()
                .unwrap_or_else(|| Rc::clone(claim));
            let mut next = (*live).clone();
            next.metadata.annotations.remove(ANN_SELECTED_NODE);
            return match ctx.client(&actor).update(next) {
                Ok(_) => Step::Done(Ok(())),
                // Could not give the node back: keep the claim and try again later.
                Err(_) => Step::Done(Err(())),
            };
        }
        Step::Done(Err(()))
    }
}

/// Whether the driver's provisioner guards Delete volumes with its finalizer
/// (`HonorPVReclaimPolicy`): CSI drivers do; local-path (not CSI) and the simulator's
/// `instant` driver (nothing to clean up in a cloud) do not.
pub fn has_deletion_finalizer(profile: &CsiDriverProfile) -> bool {
    profile.profile != "local-path" && profile.profile != "instant"
}

/// The PersistentVolume the provisioner creates for a new disk.
fn build_volume(
    profile: &CsiDriverProfile,
    call: &CreateCall,
    handle: &str,
    honor_reclaim_policy: bool,
) -> PersistentVolume {
    let claim = &call.claim;
    let class = &call.class;
    let reclaim = class
        .reclaim_policy
        .clone()
        .unwrap_or_else(|| "Delete".into());
    let mut meta = ObjectMeta {
        name: pv_name(claim),
        ..Default::default()
    };
    meta.annotations
        .insert(ANN_DYNAMICALLY_PROVISIONED.into(), profile.name.clone());
    if honor_reclaim_policy && reclaim == "Delete" && has_deletion_finalizer(profile) {
        meta.finalizers
            .push(PV_DELETION_PROTECTION_FINALIZER.into());
    }
    let capacity = claim
        .requested_storage()
        .cloned()
        .unwrap_or_else(|| Quantity("1Gi".into()));
    let mut spec = PersistentVolumeSpec {
        capacity: [("storage".to_string(), capacity)].into_iter().collect(),
        access_modes: claim.spec.access_modes.clone(),
        claim_ref: Some(ObjectReference {
            api_version: "v1".into(),
            kind: "PersistentVolumeClaim".into(),
            namespace: claim.metadata.namespace.clone(),
            name: claim.metadata.name.clone(),
            uid: claim.metadata.uid.clone(),
            resource_version: claim.metadata.resource_version.clone(),
        }),
        persistent_volume_reclaim_policy: reclaim,
        storage_class_name: class.metadata.name.clone(),
        volume_mode: claim.spec.volume_mode.clone(),
        ..Default::default()
    };
    if !class.mount_options.is_empty() {
        spec.other.insert(
            "mountOptions".into(),
            serde_json::json!(class.mount_options),
        );
    }
    let term = |key: &str, value: &str| NodeSelectorTerm {
        match_expressions: vec![NodeSelectorRequirement {
            key: key.to_string(),
            operator: "In".into(),
            values: vec![value.to_string()],
        }],
        match_fields: Vec::new(),
    };
    let terms: Vec<NodeSelectorTerm> = match &call.placement {
        Placement::Zone(z) => vec![term(&profile.topology_key, z)],
        // `GenerateVolumeNodeAffinity`: one term per accessible topology.
        Placement::Zones(zs) => zs.iter().map(|z| term(&profile.topology_key, z)).collect(),
        Placement::Node(n) => vec![term("kubernetes.io/hostname", n)],
        Placement::Anywhere => Vec::new(),
    };
    if !terms.is_empty() {
        spec.node_affinity = Some(VolumeNodeAffinity {
            required: Some(NodeSelector {
                node_selector_terms: terms,
            }),
        });
    }
    if profile.profile == "local-path" {
        // rancher/local-path-provisioner makes hostPath volumes pinned to the node.
        spec.other.insert(
            "hostPath".into(),
            serde_json::json!({ "path": handle, "type": "DirectoryOrCreate" }),
        );
    } else {
        let fs_type = class
            .parameters
            .get("csi.storage.k8s.io/fstype")
            .cloned()
            .or_else(|| profile.attach_required.then(|| "ext4".to_string()));
        spec.csi = Some(CsiPersistentVolumeSource {
            driver: profile.name.clone(),
            volume_handle: handle.to_string(),
            fs_type,
            volume_attributes: [(
                "storage.kubernetes.io/csiProvisionerIdentity".to_string(),
                ["1767225600000-8081-", &profile.name].concat(),
            )]
            .into_iter()
            .collect(),
        });
    }
    PersistentVolume {
        metadata: meta,
        spec,
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_resource_exhaustion_with_a_selected_node_reschedules() {
        assert_eq!(
            check_error(Code::ResourceExhausted, true),
            State::Reschedule
        );
        assert_eq!(check_error(Code::ResourceExhausted, false), State::Finished);
        assert_eq!(check_error(Code::Internal, true), State::Finished);
        assert_eq!(
            check_error(Code::DeadlineExceeded, true),
            State::InBackground
        );
        assert_eq!(check_error(Code::Aborted, false), State::InBackground);
    }
}
