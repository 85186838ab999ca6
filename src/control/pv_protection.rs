//! The PV protection controller (`pkg/controller/volume/pvprotection`): a volume being
//! deleted keeps its `kubernetes.io/pv-protection` finalizer (added on create by the
//! `StorageObjectInUseProtection` admission plugin) while it is Bound to a claim; then the
//! finalizer goes and the API server removes the volume (once its other finalizers, such
//! as the external-provisioner's, are gone too).

use super::{ControlTimer, Controller, Enqueue, Kinds};
use crate::api::storage::PV_PROTECTION_FINALIZER;
use crate::api::volume::phase;
use crate::api::{AnyObject, Kind, ObjectKey, ObjectMeta, PersistentVolume, Tables};
use crate::apiserver::{Actor, WatchEvent};
use crate::component::Ctx;
use std::collections::BTreeSet;

/// The name it writes under (`names.PersistentVolumeProtectionController`).
const COMPONENT: &str = "persistentvolume-protection-controller";

pub struct PvProtectionController {
    actor: Actor,
    /// Volumes held while bound: the timeline says so once per volume.
    held: BTreeSet<String>,
}

impl Default for PvProtectionController {
    fn default() -> Self {
        PvProtectionController {
            actor: Actor::new(COMPONENT),
            held: BTreeSet::new(),
        }
    }
}

// `protectionutil.IsDeletionCandidate`.
fn is_deletion_candidate(m: &ObjectMeta) -> bool {
    m.deletion_timestamp.is_some() && m.finalizers.iter().any(|f| f == PV_PROTECTION_FINALIZER)
}

// `protectionutil.NeedToAddFinalizer`.
fn need_to_add_finalizer(m: &ObjectMeta) -> bool {
    m.deletion_timestamp.is_none() && !m.finalizers.iter().any(|f| f == PV_PROTECTION_FINALIZER)
}

// `isBeingUsed`: the PV controller's phase says whether a claim holds the volume.
fn is_being_used(pv: &PersistentVolume) -> bool {
    pv.status.phase == phase::BOUND
}

impl Controller for PvProtectionController {
    fn name(&self) -> &'static str {
        COMPONENT
    }

    // The kind `on_watch` acts on.
    fn watches(&self) -> Kinds {
        Kinds::of(&[Kind::PersistentVolume])
    }

    // `pvAddedUpdated`.
    fn on_watch(
        &mut self,
        _old: Option<&AnyObject>,
        ev: &WatchEvent,
        _cache: &Tables,
        q: &mut Enqueue,
    ) {
        if let AnyObject::PersistentVolume(pv) = &ev.obj
            && !ev.removed
            && (need_to_add_finalizer(&pv.metadata) || is_deletion_candidate(&pv.metadata))
        {
            q.add(ObjectKey::of(&pv.metadata));
        }
    }

    // `processPV`.
    fn sync(
        &mut self,
        key: &ObjectKey,
        cache: &Tables,
        ctx: &mut Ctx<'_, ControlTimer>,
        _q: &mut Enqueue,
    ) -> Result<(), String> {
        let Some(pv) = cache.pvs.get(key) else {
            self.held.remove(&key.name);
            return Ok(());
        };
        if is_deletion_candidate(&pv.metadata) {
            if !is_being_used(pv) {
                let mut next = (**pv).clone();
                next.metadata
                    .finalizers
                    .retain(|f| f != PV_PROTECTION_FINALIZER);
                ctx.client(&self.actor)
                    .update(next)
                    .map_err(|e| e.to_string())?;
                return Ok(());
            }
            if self.held.insert(key.name.clone()) {
                ctx.note(
                    COMPONENT,
                    format!("PersistentVolume {}", pv.metadata.name),
                    "Keeping PV because it is being used".into(),
                );
            }
        }
        if need_to_add_finalizer(&pv.metadata) {
            let mut next = (**pv).clone();
            next.metadata
                .finalizers
                .push(PV_PROTECTION_FINALIZER.into());
            ctx.client(&self.actor)
                .update(next)
                .map_err(|e| e.to_string())?;
        }
        Ok(())
    }
}
