//! Volumes: `syncVolume`, `reclaimVolume`, `isVolumeReleased` and the part of
//! `deleteVolumeOperation` that runs in the controller (`pv_controller.go`). Deleting the
//! disk of a CSI volume is the external-provisioner's work; the controller only marks the
//! volume Released.

use super::PersistentVolumeController;
use super::claims::reason;
use crate::api::volume::{ANN_DYNAMICALLY_PROVISIONED, volume_mode_mismatch};
use crate::api::{ObjectKey, PersistentVolume, PersistentVolumeClaim};
use crate::apiserver::{ApiError, EventType};
use crate::component::Ctx;
use crate::control::{ControlTimer, Enqueue};
use std::rc::Rc;

type Result<T> = std::result::Result<T, ApiError>;

impl PersistentVolumeController {
    /// `syncVolume`.
    pub(super) fn sync_volume(
        &mut self,
        volume: Rc<PersistentVolume>,
        ctx: &mut Ctx<'_, ControlTimer>,
        q: &mut Enqueue,
    ) -> Result<()> {
        let Some(claim_ref) = volume.spec.claim_ref.clone() else {
            // Unused.
            self.update_volume_phase(volume, "Available", "", ctx)?;
            return Ok(());
        };
        if claim_ref.uid.is_empty() {
            // Pre-bound by a user to a claim not bound yet: the claim's sync binds it.
            self.update_volume_phase(volume, "Available", "", ctx)?;
            return Ok(());
        }
        let claim_key = ObjectKey::new(&claim_ref.namespace, &claim_ref.name);
        let mut claim: Option<Rc<PersistentVolumeClaim>> = self.claims.get(&claim_key).cloned();
        let phase = volume.status.phase.as_str();
        if claim.is_none() && phase != "Released" && phase != "Failed" {
            // The claim may be too new for the cache: ask the API server before
            // reclaiming a volume by mistake.
            claim = ctx.client(&self.actor).get(&claim_key);
        }
        if claim
            .as_ref()
            .is_some_and(|c| c.metadata.uid != claim_ref.uid)
        {
            // Maybe a newer claim of the same name; the cache may be old.
            claim = ctx
                .client(&self.actor)
                .get::<PersistentVolumeClaim>(&claim_key)
                .filter(|c| c.metadata.uid == claim_ref.uid);
        }
        let Some(claim) = claim else {
            // The claim is gone: release the volume and apply its reclaim policy.
            let volume = if phase != "Released" && phase != "Failed" {
                self.update_volume_phase(volume, "Released", "", ctx)?
            } else {
                volume
            };
            return self.reclaim_volume(volume, ctx);
        };
        if claim.spec.volume_name.is_empty() {
            if volume_mode_mismatch(&claim, &volume) {
                let volume_msg = format!(
                    "Cannot bind PersistentVolume to requested PersistentVolumeClaim {:?} due to incompatible volumeMode.",
                    claim.metadata.name
                );
                let claim_msg = format!(
                    "Cannot bind PersistentVolume {:?} to requested PersistentVolumeClaim due to incompatible volumeMode.",
                    volume.metadata.name
                );
                let mut client = ctx.client(&self.actor);
                client.event(
                    &*volume,
                    EventType::Warning,
                    reason::VOLUME_MISMATCH,
                    volume_msg,
                );
                client.event(
                    &*claim,
                    EventType::Warning,
                    reason::VOLUME_MISMATCH,
                    claim_msg,
                );
                return Ok(());
            }
            // The volume points at the claim but the claim not yet at the volume (a
            // provisioned volume, typically): the claim's sync finishes the binding.
            q.add(claim_key);
            return Ok(());
        }
        if claim.spec.volume_name == volume.metadata.name {
            self.update_volume_phase(volume, "Bound", "", ctx)?;
            return Ok(());
        }
        // The claim is bound to another volume.
        let provisioned = volume
            .metadata
            .annotations
            .contains_key(ANN_DYNAMICALLY_PROVISIONED);
        if provisioned && volume.spec.persistent_volume_reclaim_policy == "Delete" {
            // Provisioned for this claim, which got another volume: not needed any more.
            let volume = if phase != "Released" && phase != "Failed" {
                self.update_volume_phase(volume, "Released", "", ctx)?
            } else {
                volume
            };
            return self.reclaim_volume(volume, ctx);
        }
        // Bound by the controller: undo it; pre-bound by a user: keep the name, drop the uid.
        self.unbind_volume(volume, ctx)
    }

    /// `reclaimVolume`.
    fn reclaim_volume(
        &mut self,
        volume: Rc<PersistentVolume>,
        ctx: &mut Ctx<'_, ControlTimer>,
    ) -> Result<()> {
        match volume.spec.persistent_volume_reclaim_policy.as_str() {
            "Retain" => Ok(()),
            "Recycle" => self.update_volume_phase_with_event(
                volume,
                "Failed",
                EventType::Warning,
                "VolumeFailedRecycle",
                "No recycler plugin found for the volume!",
                ctx,
            ),
            "Delete" => self.delete_volume_operation(&volume, ctx),
            _ => self.update_volume_phase_with_event(
                volume,
                "Failed",
                EventType::Warning,
                "VolumeUnknownReclaimPolicy",
                "Volume has unrecognized PersistentVolumeReclaimPolicy",
                ctx,
            ),
        }
    }

    /// `deleteVolumeOperation` up to `doDeleteVolume`: a volume of an external
    /// provisioner (every CSI driver, `HonorPVReclaimPolicy`) waits for it; a volume with
    /// no deleter (a static `local` or `hostPath` volume) fails.
    fn delete_volume_operation(
        &mut self,
        volume: &PersistentVolume,
        ctx: &mut Ctx<'_, ControlTimer>,
    ) -> Result<()> {
        let key = ObjectKey::cluster(&volume.metadata.name);
        let Some(live) = ctx.client(&self.actor).get::<PersistentVolume>(&key) else {
            return Ok(());
        };
        if !self.is_volume_released(&live) {
            return Ok(());
        }
        let external = live
            .metadata
            .annotations
            .get(ANN_DYNAMICALLY_PROVISIONED)
            .is_some_and(|p| !p.is_empty() && !p.starts_with("kubernetes.io/"))
            || live.spec.csi.is_some();
        if external {
            return Ok(());
        }
        let message = format!(
            "error getting deleter volume plugin for volume {:?}: no deletable volume plugin matched",
            live.metadata.name
        );
        self.update_volume_phase_with_event(
            live,
            "Failed",
            EventType::Warning,
            "VolumeFailedDelete",
            &message,
            ctx,
        )
    }

    /// `isVolumeReleased`: bound to a claim that is gone, or that is bound elsewhere.
    pub(super) fn is_volume_released(&self, volume: &PersistentVolume) -> bool {
        let Some(r) = &volume.spec.claim_ref else {
            return false;
        };
        if r.uid.is_empty() {
            return false;
        }
        match self.claims.get(&ObjectKey::new(&r.namespace, &r.name)) {
            Some(c) if c.metadata.uid == r.uid => {
                !c.spec.volume_name.is_empty() && c.spec.volume_name != volume.metadata.name
            }
            _ => true,
        }
    }
}
