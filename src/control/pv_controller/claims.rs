//! Claims: `syncClaim`, `syncUnboundClaim`, `syncBoundClaim` and the external
//! provisioning hand-off (`provisionClaim`, `provisionClaimOperationExternal`) of
//! `pkg/controller/volume/persistentvolume/pv_controller.go`.

use super::PersistentVolumeController;
use super::index::find_best_match_for_claim;
use crate::api::pod::phase as pod_phase;
use crate::api::volume::{
    ANN_BETA_STORAGE_PROVISIONER, ANN_BIND_COMPLETED, ANN_BOUND_BY_CONTROLLER,
    ANN_STORAGE_PROVISIONER, capacity_bytes, check_access_modes, claim_class,
    is_delay_binding_mode, is_delay_binding_provisioning, is_volume_bound_to_claim,
    requested_bytes, volume_class, volume_mode_mismatch,
};
use crate::api::{ObjectKey, PersistentVolume, PersistentVolumeClaim, Pod, StorageClass, Tables};
use crate::apiserver::{ApiError, EventType};
use crate::component::Ctx;
use crate::control::ControlTimer;
use std::rc::Rc;

type Result<T> = std::result::Result<T, ApiError>;

/// The Event reasons of `pkg/controller/volume/events`.
pub mod reason {
    pub const FAILED_BINDING: &str = "FailedBinding";
    pub const VOLUME_MISMATCH: &str = "VolumeMismatch";
    pub const PROVISIONING_FAILED: &str = "ProvisioningFailed";
    pub const EXTERNAL_PROVISIONING: &str = "ExternalProvisioning";
    pub const WAIT_FOR_FIRST_CONSUMER: &str = "WaitForFirstConsumer";
    pub const WAIT_FOR_POD_SCHEDULED: &str = "WaitForPodScheduled";
}

/// `checkVolumeSatisfyClaim`: why a volume the claim names cannot serve it.
fn check_volume_satisfy_claim(
    volume: &PersistentVolume,
    claim: &PersistentVolumeClaim,
) -> std::result::Result<(), String> {
    if volume.metadata.deletion_timestamp.is_some() {
        return Err(format!(
            "the volume is marked for deletion {:?}",
            volume.metadata.name
        ));
    }
    if capacity_bytes(volume) < requested_bytes(claim) {
        return Err("requested PV is too small".into());
    }
    if volume_class(volume) != claim_class(claim) {
        return Err("storageClassName does not match".into());
    }
    if volume_mode_mismatch(claim, volume) {
        return Err("incompatible volumeMode".into());
    }
    if !check_access_modes(claim, volume) {
        return Err("incompatible accessMode".into());
    }
    Ok(())
}

/// `util.IsPodTerminated`: a terminal phase, or being deleted with no container running.
fn is_pod_terminated(pod: &Pod) -> bool {
    let s = &pod.status;
    s.phase == pod_phase::FAILED
        || s.phase == pod_phase::SUCCEEDED
        || (pod.metadata.deletion_timestamp.is_some()
            && s.container_statuses
                .iter()
                .all(|c| c.state.terminated.is_some() || c.state.waiting.is_some()))
}

impl PersistentVolumeController {
    /// `syncClaim`.
    pub(super) fn sync_claim(
        &mut self,
        claim: Rc<PersistentVolumeClaim>,
        cache: &Tables,
        ctx: &mut Ctx<'_, ControlTimer>,
    ) -> Result<()> {
        if !claim.metadata.annotations.contains_key(ANN_BIND_COMPLETED) {
            self.sync_unbound_claim(claim, cache, ctx)
        } else {
            self.sync_bound_claim(claim, ctx)
        }
    }

    /// `syncUnboundClaim`.
    fn sync_unbound_claim(
        &mut self,
        claim: Rc<PersistentVolumeClaim>,
        cache: &Tables,
        ctx: &mut Ctx<'_, ControlTimer>,
    ) -> Result<()> {
        if claim.spec.volume_name.is_empty() {
            // The user did not ask for a particular volume.
            let delay_binding = is_delay_binding_mode(&claim, cache);
            match find_best_match_for_claim(
                &claim,
                self.volumes.candidates_for(&claim),
                delay_binding,
            ) {
                Some(volume) => self.bind(volume, claim, ctx),
                None => {
                    if self.assign_default_storage_class(&claim, cache, ctx)? {
                        return Ok(()); // the update brings the claim back
                    }
                    if delay_binding && !is_delay_binding_provisioning(&claim) {
                        // No pod using the claim is scheduled yet.
                        self.emit_event_for_unbound_delay_binding_claim(&claim, cache, ctx);
                    } else if !claim_class(&claim).is_empty() {
                        // Provisioning runs on its own; the binding follows on a later sync.
                        return self.provision_claim(&claim, cache, ctx);
                    } else {
                        let msg = "no persistent volumes available for this claim and no storage class is set";
                        ctx.client(&self.actor).event(
                            &*claim,
                            EventType::Normal,
                            reason::FAILED_BINDING,
                            msg.into(),
                        );
                    }
                    self.update_claim_status(claim, "Pending", None, ctx)?;
                    Ok(())
                }
            }
        } else {
            // The user asked for a particular volume.
            let Some(volume) = self.volumes.get(&claim.spec.volume_name).cloned() else {
                // It does not exist (yet): try again later.
                self.update_claim_status(claim, "Pending", None, ctx)?;
                return Ok(());
            };
            if volume.spec.claim_ref.is_none() {
                if let Err(why) = check_volume_satisfy_claim(&volume, &claim) {
                    let msg = format!(
                        "Cannot bind to requested volume {:?}: {why}",
                        volume.metadata.name
                    );
                    ctx.client(&self.actor).event(
                        &*claim,
                        EventType::Warning,
                        reason::VOLUME_MISMATCH,
                        msg,
                    );
                    self.update_claim_status(claim, "Pending", None, ctx)?;
                    return Ok(());
                }
                self.bind(volume, claim, ctx)
            } else if is_volume_bound_to_claim(&volume, &claim) {
                // Pre-bound on both sides: finish the binding.
                self.bind(volume, claim, ctx)
            } else {
                let msg = format!(
                    "volume {:?} already bound to a different claim.",
                    volume.metadata.name
                );
                ctx.client(&self.actor).event(
                    &*claim,
                    EventType::Warning,
                    reason::FAILED_BINDING,
                    msg,
                );
                if !claim
                    .metadata
                    .annotations
                    .contains_key(ANN_BOUND_BY_CONTROLLER)
                {
                    // The user asked for this volume: wait for it.
                    self.update_claim_status(claim, "Pending", None, ctx)?;
                }
                // Else someone removed bind-completed from a claim this controller bound:
                // upstream's "THIS SHOULD NEVER HAPPEN"; nothing to do but wait.
                Ok(())
            }
        }
    }

    /// `syncBoundClaim`.
    fn sync_bound_claim(
        &mut self,
        claim: Rc<PersistentVolumeClaim>,
        ctx: &mut Ctx<'_, ControlTimer>,
    ) -> Result<()> {
        if claim.spec.volume_name.is_empty() {
            return self.update_claim_status_with_event(
                claim,
                "Lost",
                EventType::Warning,
                "ClaimLost",
                "Bound claim has lost reference to PersistentVolume. Data on the volume is lost!",
                ctx,
            );
        }
        let Some(volume) = self.volumes.get(&claim.spec.volume_name).cloned() else {
            return self.update_claim_status_with_event(
                claim,
                "Lost",
                EventType::Warning,
                "ClaimLost",
                "Bound claim has lost its PersistentVolume. Data on the volume is lost!",
                ctx,
            );
        };
        match &volume.spec.claim_ref {
            // Bound but the volume came unbound (or its update is not seen yet): bind again.
            None => self.bind(volume, claim, ctx),
            // All is well; bind() only fills in what is missing.
            Some(r) if r.uid == claim.metadata.uid => self.bind(volume, claim, ctx),
            Some(_) => self.update_claim_status_with_event(
                claim,
                "Lost",
                EventType::Warning,
                "ClaimMisbound",
                "Two claims are bound to the same volume, this one is bound incorrectly",
                ctx,
            ),
        }
    }

    /// `assignDefaultStorageClass`: a claim written before a default class existed gets it
    /// now (the DefaultStorageClass admission plugin gives it to claims created later).
    fn assign_default_storage_class(
        &mut self,
        claim: &PersistentVolumeClaim,
        cache: &Tables,
        ctx: &mut Ctx<'_, ControlTimer>,
    ) -> Result<bool> {
        if claim.spec.storage_class_name.is_some() {
            return Ok(false);
        }
        let Some(class) = default_class(cache) else {
            return Ok(false);
        };
        let mut clone = claim.clone();
        clone.spec.storage_class_name = Some(class.metadata.name.clone());
        let saved = ctx.client(&self.actor).update(clone)?;
        self.store_claim(&saved);
        Ok(true)
    }

    /// `emitEventForUnboundDelayBindingClaim`.
    fn emit_event_for_unbound_delay_binding_claim(
        &self,
        claim: &PersistentVolumeClaim,
        cache: &Tables,
        ctx: &mut Ctx<'_, ControlTimer>,
    ) {
        let ns = &claim.metadata.namespace;
        let pods: Vec<&str> = cache
            .list_in::<Pod>(ns)
            .filter(|p| !is_pod_terminated(p) && p.spec.node_name.is_empty())
            .filter(|p| p.claim_names().any(|c| c == claim.metadata.name))
            .map(|p| p.metadata.name.as_str())
            .collect();
        let (reason, message) = match pods.as_slice() {
            [] => (
                reason::WAIT_FOR_FIRST_CONSUMER,
                "waiting for first consumer to be created before binding".to_string(),
            ),
            [one] => (
                reason::WAIT_FOR_POD_SCHEDULED,
                format!("waiting for pod {one} to be scheduled"),
            ),
            many => (
                reason::WAIT_FOR_POD_SCHEDULED,
                format!("waiting for pods {} to be scheduled", many.join(",")),
            ),
        };
        ctx.client(&self.actor)
            .event(claim, EventType::Normal, reason, message);
    }

    /// `provisionClaim` for external provisioners (every CSI driver): mark the claim with
    /// the provisioner's name (`setClaimProvisioner`) and say so with an Event, on every
    /// sync until a volume is bound. In-tree names (`kubernetes.io/...`) have no plugin.
    fn provision_claim(
        &mut self,
        claim: &Rc<PersistentVolumeClaim>,
        cache: &Tables,
        ctx: &mut Ctx<'_, ControlTimer>,
    ) -> Result<()> {
        let class_name = claim_class(claim);
        let Some(class) = cache.storage_classes.get(&ObjectKey::cluster(class_name)) else {
            let msg = format!("storageclass.storage.k8s.io {class_name:?} not found");
            ctx.client(&self.actor).event(
                &**claim,
                EventType::Warning,
                reason::PROVISIONING_FAILED,
                msg,
            );
            return Ok(());
        };
        let provisioner = class.provisioner.clone();
        if provisioner.starts_with("kubernetes.io/") {
            let msg = "no provisionable volume plugin matched".to_string();
            ctx.client(&self.actor).event(
                &**claim,
                EventType::Warning,
                reason::PROVISIONING_FAILED,
                msg,
            );
            return Ok(());
        }
        let claim = match self.set_claim_provisioner(claim, &provisioner, ctx) {
            Ok(c) => c,
            Err(e) => {
                let msg = format!("Error saving claim: {e}");
                ctx.client(&self.actor).event(
                    &**claim,
                    EventType::Warning,
                    reason::PROVISIONING_FAILED,
                    msg,
                );
                return Err(e);
            }
        };
        let msg = format!(
            "Waiting for a volume to be created either by the external provisioner '{provisioner}' \
             or manually by the system administrator. If volume creation is delayed, please verify \
             that the provisioner is running and correctly registered."
        );
        ctx.client(&self.actor).event(
            &*claim,
            EventType::Normal,
            reason::EXTERNAL_PROVISIONING,
            msg,
        );
        Ok(())
    }

    /// `setClaimProvisioner`: both the GA and the beta annotation.
    fn set_claim_provisioner(
        &mut self,
        claim: &Rc<PersistentVolumeClaim>,
        provisioner: &str,
        ctx: &mut Ctx<'_, ControlTimer>,
    ) -> Result<Rc<PersistentVolumeClaim>> {
        if claim
            .metadata
            .annotations
            .get(ANN_STORAGE_PROVISIONER)
            .is_some_and(|v| v == provisioner)
        {
            // Already annotated: the same claim, shared rather than copied.
            return Ok(Rc::clone(claim));
        }
        let mut clone = (**claim).clone();
        for ann in [ANN_BETA_STORAGE_PROVISIONER, ANN_STORAGE_PROVISIONER] {
            clone
                .metadata
                .annotations
                .insert(ann.into(), provisioner.into());
        }
        let saved = ctx.client(&self.actor).update(clone)?;
        self.store_claim(&saved);
        Ok(saved)
    }
}

/// `util.GetDefaultClass`: the default StorageClass (the newest if several claim it).
pub fn default_class(tables: &Tables) -> Option<&StorageClass> {
    tables
        .storage_classes
        .values()
        .filter(|c| c.is_default())
        .max_by_key(|c| {
            (
                c.metadata.creation_timestamp,
                std::cmp::Reverse(c.metadata.name.clone()),
            )
        })
        .map(|c| &**c)
}
