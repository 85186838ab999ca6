//! Deleting (`ProvisionController.syncVolume`, `handleProtectionFinalizer`,
//! `shouldDelete`, `deleteVolumeOperation`): a Released volume with reclaim policy Delete
//! has its disk deleted (DeleteVolume, taking the profile's latency), then the PV object
//! goes, and with `HonorPVReclaimPolicy` the external-provisioner's finalizer with it.

use super::{Provisioner, ProvisionerTimer, Step};
use crate::api::volume::{PV_DELETION_PROTECTION_FINALIZER, phase};
use crate::api::{ObjectKey, PersistentVolume, Tables};
use crate::apiserver::{DeleteOptions, EventType};
use crate::component::Ctx;
use crate::infra::csi::CsiTimer;
use crate::infra::csi::cloud::{Cloud, volume_handle};
use std::rc::Rc;

fn has_finalizer(pv: &PersistentVolume) -> bool {
    pv.metadata
        .finalizers
        .iter()
        .any(|f| f == PV_DELETION_PROTECTION_FINALIZER)
}

impl Provisioner {
    /// `syncVolume`: keep the finalizer right, and delete a released volume's disk.
    pub(super) fn sync_volume(
        &mut self,
        i: usize,
        name: &str,
        cache: &Tables,
        ctx: &mut Ctx<'_, CsiTimer>,
    ) -> Step {
        let Some(pv) = cache.pvs.get(&ObjectKey::cluster(name)).cloned() else {
            return Step::Done(Ok(()));
        };
        let pv = match self.handle_protection_finalizer(i, pv, ctx) {
            Ok(pv) => pv,
            Err(()) => return Step::Done(Err(())),
        };
        if !self.should_delete(&pv) {
            return Step::Done(Ok(()));
        }
        let Some(handle) = volume_handle(&pv) else {
            return Step::Done(Ok(()));
        };
        let profile = &self.drivers[i].profile;
        let latency = self.rng.duration(&profile.delete);
        self.drivers[i].deleting.insert(name.to_string(), handle);
        let t = ProvisionerTimer::DeleteDone {
            driver: i,
            volume: name.to_string(),
        };
        ctx.after(latency, CsiTimer::Provisioner(t));
        Step::InFlight
    }

    /// `handleProtectionFinalizer`: a bound volume to be deleted on release carries the
    /// finalizer; one whose policy became Retain does not.
    fn handle_protection_finalizer(
        &mut self,
        i: usize,
        pv: Rc<PersistentVolume>,
        ctx: &mut Ctx<'_, CsiTimer>,
    ) -> Result<Rc<PersistentVolume>, ()> {
        let add = self.honor_reclaim_policy
            && super::claims::has_deletion_finalizer(&self.drivers[i].profile);
        let policy = pv.spec.persistent_volume_reclaim_policy.as_str();
        // Both conditions read the volume as it came (never each other's edit); the copy
        // is made only when one of them holds, not on every sync of every volume.
        let add_finalizer = add
            && policy == "Delete"
            && pv.metadata.deletion_timestamp.is_none()
            && pv.status.phase == phase::BOUND
            && !has_finalizer(&pv);
        let remove_finalizer =
            (!add || policy == "Retain" || policy == "Recycle") && has_finalizer(&pv);
        if !add_finalizer && !remove_finalizer {
            return Ok(pv);
        }
        let mut next = (*pv).clone();
        if add_finalizer {
            next.metadata
                .finalizers
                .push(PV_DELETION_PROTECTION_FINALIZER.into());
        }
        if remove_finalizer {
            next.metadata
                .finalizers
                .retain(|f| f != PV_DELETION_PROTECTION_FINALIZER);
        }
        let actor = self.drivers[i].actor.clone();
        ctx.client(&actor).update(next).map_err(|_| ())
    }

    /// `shouldDelete`.
    fn should_delete(&self, pv: &PersistentVolume) -> bool {
        if self.honor_reclaim_policy {
            if !has_finalizer(pv) && pv.metadata.deletion_timestamp.is_some() {
                return false; // deleted already
            }
        } else if pv.metadata.deletion_timestamp.is_some() {
            return false;
        }
        pv.status.phase == phase::RELEASED && pv.spec.persistent_volume_reclaim_policy == "Delete"
    }

    /// DeleteVolume returns: the disk is gone (or the error is recorded and retried);
    /// then the PV object is deleted and the finalizer removed.
    pub(super) fn finish_delete(
        &mut self,
        i: usize,
        name: &str,
        cache: &Tables,
        cloud: &mut Cloud,
        ctx: &mut Ctx<'_, CsiTimer>,
    ) {
        let Some(handle) = self.drivers[i].deleting.remove(name) else {
            return;
        };
        self.drivers[i].volume_workers -= 1;
        let actor = self.drivers[i].actor.clone();
        let key = ObjectKey::cluster(name);
        let result = match cloud.delete_disk(&handle) {
            Err(e) => {
                if let Some(pv) = cache.pvs.get(&key) {
                    ctx.client(&actor).event(
                        &**pv,
                        EventType::Warning,
                        "VolumeFailedDelete",
                        e.to_string(),
                    );
                }
                Err(())
            }
            Ok(()) => {
                let mut client = ctx.client(&actor);
                match client.delete::<PersistentVolume>(&key, &DeleteOptions::default()) {
                    Ok(_) => {}
                    Err(e) if e.is_not_found() => {}
                    Err(_) => {}
                }
                // Remove the finalizer from the live object, now that the disk is gone.
                match client.get::<PersistentVolume>(&key) {
                    Some(live) if has_finalizer(&live) => {
                        let mut next = (*live).clone();
                        next.metadata
                            .finalizers
                            .retain(|f| f != PV_DELETION_PROTECTION_FINALIZER);
                        client.update(next).map(|_| ()).map_err(|_| ())
                    }
                    _ => Ok(()),
                }
            }
        };
        self.volume_done(i, name, result, ctx);
    }
}
