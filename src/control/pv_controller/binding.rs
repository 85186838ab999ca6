//! The writes of the PV controller (`pv_controller.go`): binding both sides (`bind`,
//! volume first), phases and claim status, undoing a binding, and Events that go with a
//! phase change. Every write updates the controller's own cache, so the next sync sees
//! it even before the informer does.

use super::PersistentVolumeController;
use crate::api::volume::{ANN_BIND_COMPLETED, ANN_BOUND_BY_CONTROLLER, is_volume_bound_to_claim};
use crate::api::{ObjectMeta, ObjectReference, PersistentVolume, PersistentVolumeClaim};
use crate::apiserver::{ApiError, EventType};
use crate::component::Ctx;
use crate::control::ControlTimer;
use std::rc::Rc;

type Result<T> = std::result::Result<T, ApiError>;

/// `reference.GetReference` of a claim, as a PV's `claimRef`.
pub fn claim_ref(claim: &PersistentVolumeClaim) -> ObjectReference {
    ObjectReference {
        api_version: "v1".into(),
        kind: "PersistentVolumeClaim".into(),
        namespace: claim.metadata.namespace.clone(),
        name: claim.metadata.name.clone(),
        uid: claim.metadata.uid.clone(),
        resource_version: claim.metadata.resource_version.clone(),
    }
}

/// `GetBindVolumeToClaim`: the volume with its claimRef pointing at the claim (and
/// `bound-by-controller` if the controller made the binding); whether it changed.
pub fn bind_volume_to_claim_object(
    volume: &PersistentVolume,
    claim: &PersistentVolumeClaim,
) -> (PersistentVolume, bool) {
    let should_set_bound_by_controller = !is_volume_bound_to_claim(volume, claim);
    let mut clone = volume.clone();
    let mut dirty = false;
    let same = volume.spec.claim_ref.as_ref().is_some_and(|r| {
        r.name == claim.metadata.name
            && r.namespace == claim.metadata.namespace
            && r.uid == claim.metadata.uid
    });
    if !same {
        clone.spec.claim_ref = Some(claim_ref(claim));
        dirty = true;
    }
    if should_set_bound_by_controller
        && !clone
            .metadata
            .annotations
            .contains_key(ANN_BOUND_BY_CONTROLLER)
    {
        clone
            .metadata
            .annotations
            .insert(ANN_BOUND_BY_CONTROLLER.into(), "yes".into());
        dirty = true;
    }
    debug_assert_eq!(dirty, bind_volume_to_claim_changes(volume, claim));
    (clone, dirty)
}

/// Whether [`bind_volume_to_claim_object`] would change the volume, found without copying
/// it (the same two tests, on the volume itself).
pub fn bind_volume_to_claim_changes(
    volume: &PersistentVolume,
    claim: &PersistentVolumeClaim,
) -> bool {
    let same = volume.spec.claim_ref.as_ref().is_some_and(|r| {
        r.name == claim.metadata.name
            && r.namespace == claim.metadata.namespace
            && r.uid == claim.metadata.uid
    });
    !same
        || (!is_volume_bound_to_claim(volume, claim)
            && !volume
                .metadata
                .annotations
                .contains_key(ANN_BOUND_BY_CONTROLLER))
}

/// The metadata of a status write's request: what `ApiServer::update_status` reads of it,
/// the key and the resourceVersion precondition (labels, annotations and owners are not
/// copied for nothing).
fn status_request_meta(meta: &ObjectMeta) -> ObjectMeta {
    ObjectMeta {
        namespace: meta.namespace.clone(),
        name: meta.name.clone(),
        resource_version: meta.resource_version.clone(),
        ..Default::default()
    }
}

impl PersistentVolumeController {
    /// `bind`: volume claimRef, volume phase Bound, claim volumeName (+ annotations),
    /// claim phase Bound, in that order; the first error stops it (a later sync finishes).
    pub(super) fn bind(
        &mut self,
        volume: Rc<PersistentVolume>,
        claim: Rc<PersistentVolumeClaim>,
        ctx: &mut Ctx<'_, ControlTimer>,
    ) -> Result<()> {
        let volume = self.bind_volume_to_claim(volume, &claim, ctx)?;
        let volume = self.update_volume_phase(volume, "Bound", "", ctx)?;
        let claim = self.bind_claim_to_volume(claim, &volume, ctx)?;
        self.update_claim_status(claim, "Bound", Some(&volume), ctx)?;
        Ok(())
    }

    fn bind_volume_to_claim(
        &mut self,
        volume: Rc<PersistentVolume>,
        claim: &PersistentVolumeClaim,
        ctx: &mut Ctx<'_, ControlTimer>,
    ) -> Result<Rc<PersistentVolume>> {
        // Most calls find the volume bound already: it is copied only to be changed.
        if !bind_volume_to_claim_changes(&volume, claim) {
            return Ok(volume);
        }
        let (clone, _) = bind_volume_to_claim_object(&volume, claim);
        let saved = ctx.client(&self.actor).update(clone)?;
        self.store_volume(&saved);
        Ok(saved)
    }

    // `bindClaimToVolume`.
    fn bind_claim_to_volume(
        &mut self,
        claim: Rc<PersistentVolumeClaim>,
        volume: &PersistentVolume,
        ctx: &mut Ctx<'_, ControlTimer>,
    ) -> Result<Rc<PersistentVolumeClaim>> {
        // Nothing to write (checked first, so the claim is not copied for nothing).
        if claim.spec.volume_name == volume.metadata.name
            && claim.metadata.annotations.contains_key(ANN_BIND_COMPLETED)
        {
            return Ok(claim);
        }
        let mut clone = (*claim).clone();
        let mut dirty = false;
        if claim.spec.volume_name != volume.metadata.name {
            clone.spec.volume_name = volume.metadata.name.clone();
            clone
                .metadata
                .annotations
                .entry(ANN_BOUND_BY_CONTROLLER.into())
                .or_insert_with(|| "yes".into());
            dirty = true;
        }
        if !clone.metadata.annotations.contains_key(ANN_BIND_COMPLETED) {
            clone
                .metadata
                .annotations
                .insert(ANN_BIND_COMPLETED.into(), "yes".into());
            dirty = true;
        }
        if !dirty {
            return Ok(claim);
        }
        let saved = ctx.client(&self.actor).update(clone)?;
        self.store_claim(&saved);
        Ok(saved)
    }

    /// `updateClaimStatus`: phase, access modes and (when the claim becomes Bound) the
    /// capacity from the volume; nothing is written if nothing changes.
    pub(super) fn update_claim_status(
        &mut self,
        claim: Rc<PersistentVolumeClaim>,
        phase: &str,
        volume: Option<&PersistentVolume>,
        ctx: &mut Ctx<'_, ControlTimer>,
    ) -> Result<Rc<PersistentVolumeClaim>> {
        // Only the status is built: a status write reads the request's key,
        // resourceVersion and status, nothing else (`ApiServer::update_status`).
        let mut status = claim.status.clone();
        let mut dirty = false;
        if claim.status.phase != phase {
            status.phase = phase.into();
            dirty = true;
        }
        match volume {
            None => {
                if !status.access_modes.is_empty() || !status.capacity.is_empty() {
                    status.access_modes.clear();
                    status.capacity.clear();
                    dirty = true;
                }
            }
            Some(v) => {
                if status.access_modes != v.spec.access_modes {
                    status.access_modes = v.spec.access_modes.clone();
                    dirty = true;
                }
                // Capacity only when the claim becomes Bound: a later difference may be
                // an expansion in progress.
                let bytes = |c: &std::collections::BTreeMap<String, crate::api::Quantity>| {
                    c.get("storage").map(|q| q.units())
                };
                if claim.status.phase != phase
                    && bytes(&v.spec.capacity) != bytes(&claim.status.capacity)
                {
                    status.capacity = v.spec.capacity.clone();
                    dirty = true;
                }
            }
        }
        if !dirty {
            return Ok(claim);
        }
        let request = PersistentVolumeClaim {
            metadata: status_request_meta(&claim.metadata),
            status,
            ..Default::default()
        };
        let saved = ctx.client(&self.actor).update_status(&request)?;
        self.store_claim(&saved);
        Ok(saved)
    }

    /// `updateClaimStatusWithEvent`: the Event only when the phase changes.
    pub(super) fn update_claim_status_with_event(
        &mut self,
        claim: Rc<PersistentVolumeClaim>,
        phase: &str,
        type_: EventType,
        reason: &str,
        message: &str,
        ctx: &mut Ctx<'_, ControlTimer>,
    ) -> Result<()> {
        if claim.status.phase == phase {
            return Ok(());
        }
        let saved = self.update_claim_status(claim, phase, None, ctx)?;
        ctx.client(&self.actor)
            .event(&*saved, type_, reason, message.to_string());
        Ok(())
    }

    /// `updateVolumePhase`.
    pub(super) fn update_volume_phase(
        &mut self,
        volume: Rc<PersistentVolume>,
        phase: &str,
        message: &str,
        ctx: &mut Ctx<'_, ControlTimer>,
    ) -> Result<Rc<PersistentVolume>> {
        if volume.status.phase == phase {
            return Ok(volume);
        }
        // Metadata and status only: all a status write reads (see `update_claim_status`).
        let mut request = PersistentVolume {
            metadata: status_request_meta(&volume.metadata),
            status: volume.status.clone(),
            ..Default::default()
        };
        request.status.phase = phase.into();
        request.status.message = message.into();
        let saved = ctx.client(&self.actor).update_status(&request)?;
        self.store_volume(&saved);
        Ok(saved)
    }

    /// `updateVolumePhaseWithEvent`: the Event only when the phase changes.
    pub(super) fn update_volume_phase_with_event(
        &mut self,
        volume: Rc<PersistentVolume>,
        phase: &str,
        type_: EventType,
        reason: &str,
        message: &str,
        ctx: &mut Ctx<'_, ControlTimer>,
    ) -> Result<()> {
        if volume.status.phase == phase {
            return Ok(());
        }
        let saved = self.update_volume_phase(volume, phase, message, ctx)?;
        ctx.client(&self.actor)
            .event(&*saved, type_, reason, message.to_string());
        Ok(())
    }

    /// `unbindVolume`: a controller-made binding is dropped; a user's pre-binding keeps
    /// its name and loses only the uid. The volume is Available again.
    pub(super) fn unbind_volume(
        &mut self,
        volume: Rc<PersistentVolume>,
        ctx: &mut Ctx<'_, ControlTimer>,
    ) -> Result<()> {
        let mut clone = (*volume).clone();
        if clone
            .metadata
            .annotations
            .contains_key(ANN_BOUND_BY_CONTROLLER)
        {
            clone.spec.claim_ref = None;
            clone.metadata.annotations.remove(ANN_BOUND_BY_CONTROLLER);
        } else if let Some(r) = clone.spec.claim_ref.as_mut() {
            r.uid.clear();
        }
        let saved = ctx.client(&self.actor).update(clone)?;
        self.store_volume(&saved);
        self.update_volume_phase(saved, "Available", "", ctx)?;
        Ok(())
    }
}
