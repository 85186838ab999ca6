//! The PVC protection controller (`pkg/controller/volume/pvcprotection`): a claim being
//! deleted keeps its `kubernetes.io/pvc-protection` finalizer (added on create by the
//! `StorageObjectInUseProtection` admission plugin) until no scheduled pod uses it; then
//! the finalizer goes and the API server removes the claim.
//!
//! Upstream batches claims per namespace and shares one "lazy" live pod list between them;
//! here each claim is one sync with one live read, which decides the same way.

use super::{ControlTimer, Controller, Enqueue, Kinds};
use crate::api::pod::phase;
use crate::api::storage::PVC_PROTECTION_FINALIZER;
use crate::api::{AnyObject, Kind, ObjectKey, ObjectMeta, PersistentVolumeClaim, Pod, Tables};
use crate::apiserver::{Actor, WatchEvent};
use crate::component::Ctx;
use std::collections::BTreeMap;

/// The name it writes under (`names.PersistentVolumeClaimProtectionController`).
const COMPONENT: &str = "persistentvolumeclaim-protection-controller";

pub struct PvcProtectionController {
    actor: Actor,
    /// Claims held for a pod, and by which pod: the timeline says so once per pod.
    held: BTreeMap<ObjectKey, String>,
}

impl Default for PvcProtectionController {
    fn default() -> Self {
        PvcProtectionController {
            actor: Actor::new(COMPONENT),
            held: BTreeMap::new(),
        }
    }
}

impl Controller for PvcProtectionController {
    fn name(&self) -> &'static str {
        COMPONENT
    }

    // The kinds `on_watch` acts on.
    fn watches(&self) -> Kinds {
        Kinds::of(&[Kind::PersistentVolumeClaim, Kind::Pod])
    }

    // Upstream `pvcAddedUpdated` and `podAddedDeletedUpdated`.
    fn on_watch(
        &mut self,
        old: Option<&AnyObject>,
        ev: &WatchEvent,
        _cache: &Tables,
        q: &mut Enqueue,
    ) {
        match &ev.obj {
            AnyObject::PersistentVolumeClaim(pvc) if !ev.removed => {
                let m = &pvc.metadata;
                if need_to_add_finalizer(m) || is_deletion_candidate(m) {
                    q.add(ObjectKey::of(m));
                }
            }
            AnyObject::PersistentVolumeClaim(pvc) => {
                self.held.remove(&ObjectKey::of(&pvc.metadata));
            }
            AnyObject::Pod(pod) => {
                enqueue_pvcs(pod, ev.removed, q);
                // An update may hide the deletion of a pod and the creation of another
                // with the same name: the old one may have held a claim the new one does
                // not use.
                if let Some(old) = old.and_then(AnyObject::as_pod)
                    && old.metadata.uid != pod.metadata.uid
                {
                    enqueue_pvcs(old, true, q);
                }
            }
            _ => {}
        }
    }

    // Port of upstream `processPVC`.
    fn sync(
        &mut self,
        key: &ObjectKey,
        cache: &Tables,
        ctx: &mut Ctx<'_, ControlTimer>,
        _q: &mut Enqueue,
    ) -> Result<(), String> {
        let Some(pvc) = cache.pvcs.get(key) else {
            return Ok(());
        };
        if is_deletion_candidate(&pvc.metadata) {
            match is_being_used(pvc, cache, ctx) {
                None => {
                    self.held.remove(key);
                    return self.remove_finalizer(pvc, ctx);
                }
                Some(pod) => {
                    if self.held.get(key) != Some(&pod) {
                        ctx.note(
                            COMPONENT,
                            format!("PersistentVolumeClaim {key}"),
                            format!("Keeping PVC because it is being used by pod {pod}"),
                        );
                        self.held.insert(key.clone(), pod);
                    }
                }
            }
        }
        if need_to_add_finalizer(&pvc.metadata) {
            // Only claims created before the admission plugin was on lack it.
            let mut claim = (**pvc).clone();
            claim
                .metadata
                .finalizers
                .push(PVC_PROTECTION_FINALIZER.into());
            ctx.client(&self.actor)
                .update(claim)
                .map_err(|e| e.to_string())?;
        }
        Ok(())
    }
}

impl PvcProtectionController {
    // Port of upstream `removeFinalizer`: an update of the cached claim (a conflict is
    // retried with backoff).
    fn remove_finalizer(
        &self,
        pvc: &PersistentVolumeClaim,
        ctx: &mut Ctx<'_, ControlTimer>,
    ) -> Result<(), String> {
        let mut claim = pvc.clone();
        claim
            .metadata
            .finalizers
            .retain(|f| f != PVC_PROTECTION_FINALIZER);
        ctx.client(&self.actor)
            .update(claim)
            .map(|_| ())
            .map_err(|e| e.to_string())
    }
}

// Port of `protectionutil.IsDeletionCandidate`.
fn is_deletion_candidate(m: &ObjectMeta) -> bool {
    m.deletion_timestamp.is_some() && m.finalizers.iter().any(|f| f == PVC_PROTECTION_FINALIZER)
}

// Port of `protectionutil.NeedToAddFinalizer`.
fn need_to_add_finalizer(m: &ObjectMeta) -> bool {
    m.deletion_timestamp.is_none() && !m.finalizers.iter().any(|f| f == PVC_PROTECTION_FINALIZER)
}

// Port of upstream `isBeingUsed` (`askInformer`, then `askAPIServer`): the name of a pod
// using the claim, if any. The informer may not have seen a new pod yet, so "unused" is
// only believed after a live list agrees.
fn is_being_used(
    pvc: &PersistentVolumeClaim,
    cache: &Tables,
    ctx: &mut Ctx<'_, ControlTimer>,
) -> Option<String> {
    let ns = &pvc.metadata.namespace;
    let name = &pvc.metadata.name;
    let user = |t: &Tables| {
        t.list_in::<Pod>(ns)
            .find(|p| pod_uses_pvc(p, name))
            .map(|p| p.metadata.name.clone())
    };
    user(cache).or_else(|| user(ctx.api.objects()))
}

// Port of upstream `podUsesPVC`: only scheduled pods count (the kubelet refuses to start a
// pod whose claim is being deleted). A pod in a terminal phase still counts while it
// exists: upstream checks the phase only to decide which pod events are worth a look.
fn pod_uses_pvc(pod: &Pod, claim: &str) -> bool {
    !pod.spec.node_name.is_empty() && pod.claim_names().any(|c| c == claim)
}

// Port of upstream `enqueuePVCs`: only events that can free a claim are worth a sync: a
// deleted, terminated or unscheduled pod.
fn enqueue_pvcs(pod: &Pod, deleted: bool, q: &mut Enqueue) {
    if !deleted && !is_pod_terminated(pod) && !pod.spec.node_name.is_empty() {
        return;
    }
    for claim in pod.claim_names() {
        q.add(ObjectKey::new(&pod.metadata.namespace, claim));
    }
}

// Port of `volumeutil.IsPodTerminated`: a terminal phase, or being deleted with no
// container running.
fn is_pod_terminated(pod: &Pod) -> bool {
    let s = &pod.status;
    s.phase == phase::FAILED
        || s.phase == phase::SUCCEEDED
        || (pod.metadata.deletion_timestamp.is_some()
            && s.container_statuses
                .iter()
                .all(|c| c.state.terminated.is_some() || c.state.waiting.is_some()))
}
