//! The PersistentVolume controller (`pkg/controller/volume/persistentvolume`,
//! `pv_controller.go` and `pv_controller_base.go`): binds claims to volumes, static
//! (an Available volume that fits) or dynamic (asking the claim's external provisioner,
//! a CSI driver, to make one), and releases and reclaims volumes whose claim is gone.
//!
//! Upstream runs two queues, claims and volumes; here both share one work queue: a claim
//! key has a namespace, a volume key (cluster-scoped) has none, and the empty key is the
//! periodic resync (`--pvclaimbinder-sync-period`, 15 s). Like upstream, the controller
//! keeps its own store of the newest claims and volumes it has seen or written
//! (`ctrl.claims`, `ctrl.volumes`), so a sync never undoes a write the informer has not
//! delivered yet. Upstream's queues retry nothing on error: the next event or resync
//! does; so here a sync error is dropped the same way.
//!
//! Files: `claims` (syncClaim), `volumes` (syncVolume, reclaim), `binding` (the writes),
//! `index` (findBestMatchForClaim), `store` (the volume store and its claimRef index),
//! `tests`.

mod binding;
mod claims;
pub mod index;
mod store;
mod volumes;

#[cfg(test)]
mod tests;

pub use binding::{bind_volume_to_claim_object, claim_ref};
pub use claims::default_class;

use super::{ControlTimer, Controller, Enqueue, Kinds};
use crate::api::key_ref::KeyRef;
use crate::api::volume::{ANN_BIND_COMPLETED, phase};
use crate::api::{AnyObject, Kind, ObjectKey, PersistentVolume, PersistentVolumeClaim, Tables};
use crate::apiserver::{Actor, WatchEvent};
use crate::component::Ctx;
use crate::lookup_map::LookupMap;
use crate::time::SimDuration;
use std::rc::Rc;
use store::VolumeStore;

/// The name it writes and records Events under.
pub const COMPONENT: &str = "persistentvolume-controller";

/// `--pvclaimbinder-sync-period` default.
pub const RESYNC_PERIOD: SimDuration = SimDuration::from_secs(15);

pub struct PersistentVolumeController {
    actor: Actor,
    /// `ctrl.volumes.store`: the newest version of each volume seen or written.
    volumes: VolumeStore,
    /// `ctrl.claims` (only looked up: `lookup_map`).
    claims: LookupMap<ObjectKey, Rc<PersistentVolumeClaim>>,
    /// Whether the resync tick is armed.
    resync_armed: bool,
}

impl Default for PersistentVolumeController {
    fn default() -> Self {
        PersistentVolumeController {
            actor: Actor::new(COMPONENT),
            volumes: VolumeStore::default(),
            claims: LookupMap::default(),
            resync_armed: false,
        }
    }
}

/// The queue key of the periodic resync.
fn resync_key() -> ObjectKey {
    ObjectKey::default()
}

impl PersistentVolumeController {
    /// `storeObjectUpdate` for volumes: keep `v` unless a newer version is stored;
    /// whether it was kept.
    fn store_volume(&mut self, v: &Rc<PersistentVolume>) -> bool {
        if let Some(old) = self.volumes.get(&v.metadata.name)
            && old.metadata.resource_version_u64() > v.metadata.resource_version_u64()
        {
            return false;
        }
        self.volumes.insert(v);
        true
    }

    fn store_claim(&mut self, c: &Rc<PersistentVolumeClaim>) -> bool {
        // Looked up by borrowed name: a key is built only for a claim not stored yet.
        let name = (c.metadata.namespace.as_str(), c.metadata.name.as_str());
        match self.claims.get_mut(&name as &dyn KeyRef) {
            Some(old)
                if old.metadata.resource_version_u64() > c.metadata.resource_version_u64() =>
            {
                false
            }
            Some(old) => {
                *old = Rc::clone(c);
                true
            }
            None => {
                self.claims.insert(ObjectKey::of(&c.metadata), Rc::clone(c));
                true
            }
        }
    }

    /// `resync`: every claim and volume again — except those fully bound to each other,
    /// whose sync upstream would write nothing (a shortcut that keeps large runs cheap).
    fn resync(&self, cache: &Tables, q: &mut Enqueue) {
        for (key, claim) in cache.pvcs.iter() {
            let settled = claim.status.phase == phase::BOUND
                && claim.metadata.annotations.contains_key(ANN_BIND_COMPLETED)
                && self
                    .volumes
                    .get(&claim.spec.volume_name)
                    .is_some_and(|v| v.status.phase == phase::BOUND);
            if !settled {
                q.add(key.clone());
            }
        }
        for (key, volume) in cache.pvs.iter() {
            if volume.status.phase != phase::BOUND {
                q.add(key.clone());
            }
        }
        q.add_after(resync_key(), RESYNC_PERIOD);
    }
}

impl Controller for PersistentVolumeController {
    fn name(&self) -> &'static str {
        COMPONENT
    }

    // Claims and volumes; until the resync is armed, every event (the first arms it).
    fn watches(&self) -> Kinds {
        if self.resync_armed {
            Kinds::of(&[Kind::PersistentVolumeClaim, Kind::PersistentVolume])
        } else {
            Kinds::ALL
        }
    }

    // The informer handlers (`addClaim`, `updateClaim`, `deleteClaim`, `addVolume`, ...).
    fn on_watch(
        &mut self,
        _old: Option<&AnyObject>,
        ev: &WatchEvent,
        _cache: &Tables,
        q: &mut Enqueue,
    ) {
        if !self.resync_armed {
            self.resync_armed = true;
            q.add_after(resync_key(), RESYNC_PERIOD);
        }
        match &ev.obj {
            AnyObject::PersistentVolumeClaim(claim) => {
                let key = ObjectKey::of(&claim.metadata);
                if ev.removed {
                    // `deleteClaim`: the volume it was bound to is released promptly.
                    self.claims.swap_remove(&key);
                    if !claim.spec.volume_name.is_empty() {
                        q.add(ObjectKey::cluster(&claim.spec.volume_name));
                    }
                } else {
                    self.store_claim(claim);
                    q.add(key);
                }
            }
            AnyObject::PersistentVolume(volume) => {
                let key = ObjectKey::cluster(&volume.metadata.name);
                if ev.removed {
                    // `deleteVolume`: its claim learns at once that it is Lost.
                    self.volumes.remove(&volume.metadata.name);
                    if let Some(r) = &volume.spec.claim_ref {
                        q.add(ObjectKey::new(&r.namespace, &r.name));
                    }
                } else {
                    self.store_volume(volume);
                    q.add(key);
                }
            }
            _ => {}
        }
    }

    // The claim and volume workers (`claimWorker` + `updateClaim`, `volumeWorker` +
    // `updateVolume`) and the resync.
    fn sync(
        &mut self,
        key: &ObjectKey,
        cache: &Tables,
        ctx: &mut Ctx<'_, ControlTimer>,
        q: &mut Enqueue,
    ) -> Result<(), String> {
        if *key == resync_key() {
            self.resync(cache, q);
            return Ok(());
        }
        // A write that failed (a conflict with a newer version, mostly) is not retried:
        // the event of that newer version, or the resync, brings the object back.
        let _ = if key.namespace.is_empty() {
            let Some(volume) = cache.pvs.get(key).cloned() else {
                return Ok(());
            };
            if !self.store_volume(&volume) {
                return Ok(()); // an older version than one already handled
            }
            self.sync_volume(volume, ctx, q)
        } else {
            let Some(claim) = cache.pvcs.get(key).cloned() else {
                return Ok(());
            };
            if !self.store_claim(&claim) {
                return Ok(());
            }
            self.sync_claim(claim, cache, ctx)
        };
        Ok(())
    }
}
