//! The StatefulSet controller (`pkg/controller/statefulset`), a faithful port of upstream
//! Kubernetes 1.36. The rules it follows are numbered R-x.y in
//! `shared/reference/statefulset-controller.md`; each port names its upstream function.
//!
//! Layout, as upstream splits it:
//! * this file: the controller shell (`stateful_set.go`): informer event handlers (R-2.1–
//!   ), the sync entry, adoption and release of pods and revisions
//!   and the timeline notes that say why a pass held back;
//! * `control`: one reconcile pass (`stateful_set_control.go`);
//! * `pod_control`: pod and claim writes with their Events (`stateful_pod_control.go`);
//! * `status`: status counting and writing;
//! * `revision`: ControllerRevisions (R-4, `controller_history.go`);
//! * `retention`: claim ownerRefs under the PVC retention policy;
//! * `utils`: identity, storage and health helpers (`stateful_set_utils.go`);
//! * `memo`: what the controller remembers of each set's pods and claims between syncs, so
//!   that a pass over unchanged pods is cheap (not upstream; it changes no decision).
//!
//! Like upstream, the controller keeps no expectations: it trusts its informer
//! cache, and deterministic pod names make duplicate creates fail with AlreadyExists.

mod control;
#[cfg(test)]
pub(crate) use control::KEPT_PASSES;
mod memo;
mod pod_control;
mod retention;
mod revision;
mod status;
#[cfg(test)]
mod tests;
mod utils;

use super::{ControlTimer, Controller, Enqueue};
use crate::api::statefulset::StatefulSetStatus;
use crate::api::{AnyObject, ObjectKey, OwnerReference, Pod, StatefulSet, Tables};
use crate::apiserver::{Actor, WatchEvent};
use crate::component::Ctx;
use crate::time::SimDuration;
use control::{ClaimedPods, StatefulSetControl};
use memo::{ControlledBy, MarkKind, PodView, SetMemo, WatchMarks};
use pod_control::StatefulPodControl;
use revision::{adopt_controller_revision, list_revisions, merge_controller_ref};
use std::collections::BTreeMap;
use std::rc::Rc;
use utils::{CONTROLLER_KIND, aggregate, label_selector_as_selector};

/// The `source` of the controller's timeline notes, and its Event component.
const COMPONENT: &str = "statefulset-controller";

/// Version- and gate-dependent behaviour of the controller. `Default` is Kubernetes 1.36
/// with its default gates.
#[derive(Clone, Debug)]
pub struct StatefulSetConfig {
    /// Feature gate `MaxUnavailableStatefulSet` (off by default in 1.36): rolling updates
    /// honour `rollingUpdate.maxUnavailable` instead of one pod at a time.
    pub max_unavailable_statefulset: bool,
    /// v1.37 (PR #137666, issue #137409): with Parallel pod management and the gate on,
    /// old-revision pods that are already unavailable are replaced without waiting for the
    /// maxUnavailable budget (R-11.3 step 6).
    pub parallel_max_unavailable_fix: bool,
    /// v1.37 (PR #136833, issues #73492/#106055): `completeRollingUpdate` no longer requires
    /// the RollingUpdate strategy, so an OnDelete set's `currentRevision` advances once every
    /// pod runs the update revision.
    pub on_delete_completes_update: bool,
    /// v1.34 (PR #130909): the rolling update, maxUnavailable and the choice of the first
    /// unavailable pod wait for *available* pods (minReadySeconds), not only Running and
    /// Ready ones.
    pub update_waits_for_availability: bool,
}

impl Default for StatefulSetConfig {
    fn default() -> Self {
        StatefulSetConfig::for_version(36, false)
    }
}

impl StatefulSetConfig {
    /// The behaviour of Kubernetes 1.`minor` with the gate as given.
    pub fn for_version(minor: u32, max_unavailable_statefulset: bool) -> Self {
        StatefulSetConfig {
            max_unavailable_statefulset,
            parallel_max_unavailable_fix: minor >= 37,
            on_delete_completes_update: minor >= 37,
            update_waits_for_availability: minor >= 34,
        }
    }
}

pub struct StatefulSetController {
    config: StatefulSetConfig,
    actor: Actor,
    /// The last "why it waits" note written per set: a note is only written when the
    /// reason changes, and forgotten once a pass does not hold back, so that the timeline
    /// shows each waiting episode once.
    last_note: BTreeMap<ObjectKey, String>,
    /// Per set, the facts of its pods and claims kept from the last sync (`memo`).
    memos: BTreeMap<ObjectKey, SetMemo>,
    /// The pods and claims written to the cache, as the watch handler saw them, when every
    /// write to the cache the syncs read reaches the handler ([`Self::fed_by_informer`]).
    marks: Option<WatchMarks>,
}

impl StatefulSetController {
    pub fn new(config: StatefulSetConfig) -> Self {
        StatefulSetController {
            config,
            actor: Actor::new(COMPONENT),
            last_note: BTreeMap::new(),
            memos: BTreeMap::new(),
            marks: None,
        }
    }

    /// The controller as the controller manager runs it: every sync reads the cache of an
    /// informer that hands every write it applies to [`Controller::on_watch`] first. The
    /// memo then brings itself up to the cache from the pods and claims the handler saw
    /// written (`memo::WatchMarks`) instead of walking the namespace. A controller not
    /// built so (tests and benches that hand a sync any cache) always walks.
    pub fn fed_by_informer(mut self) -> Self {
        self.marks = Some(WatchMarks::default());
        self
    }

    /// Forgets what the memo kept, so that the next sync computes every fact afresh (the
    /// tests compare controllers with and without the memo).
    #[cfg(test)]
    pub(crate) fn forget_memos(&mut self) {
        self.memos.clear();
    }

    /// Writes the pass's wait reasons as one timeline note, unless they repeat the last.
    fn note_waits(&mut self, ctx: &mut Ctx<'_, ControlTimer>, key: &ObjectKey, waits: Vec<String>) {
        if waits.is_empty() {
            self.last_note.remove(key);
            return;
        }
        let message = waits.join("; ");
        if self.last_note.get(key) == Some(&message) {
            return;
        }
        ctx.note(COMPONENT, format!("StatefulSet {key}"), message.clone());
        self.last_note.insert(key.clone(), message);
    }
}

impl Controller for StatefulSetController {
    fn name(&self) -> &'static str {
        COMPONENT
    }

    // Upstream `NewStatefulSetController`'s handlers: only pod and set events
    // enqueue; claims and revisions are watched for the listers only ("TODO: Watch
    // volumes"), so a PVC change alone never starts a pass.
    fn on_watch(
        &mut self,
        old: Option<&AnyObject>,
        ev: &WatchEvent,
        cache: &Tables,
        q: &mut Enqueue,
    ) {
        if let Some(marks) = &mut self.marks {
            match &ev.obj {
                AnyObject::Pod(pod) => marks.record(MarkKind::Pod, ObjectKey::of(&pod.metadata)),
                AnyObject::PersistentVolumeClaim(claim) => {
                    marks.record(MarkKind::Claim, ObjectKey::of(&claim.metadata))
                }
                _ => {}
            }
        }
        match &ev.obj {
            // add, update (our own status writes included) and delete.
            AnyObject::StatefulSet(set) => q.add(ObjectKey::of(&set.metadata)),
            AnyObject::Pod(pod) if ev.removed => delete_pod(pod, cache, q),
            AnyObject::Pod(pod) => match old.and_then(AnyObject::as_pod) {
                None => add_pod(pod, cache, q),
                Some(old) => update_pod(old, pod, cache, q),
            },
            _ => {}
        }
    }

    // Port of upstream `sync` and `syncStatefulSet`.
    fn sync(
        &mut self,
        key: &ObjectKey,
        cache: &Tables,
        ctx: &mut Ctx<'_, ControlTimer>,
        q: &mut Enqueue,
    ) -> Result<(), String> {
        let Some(set) = cache.stateful_sets.get(key).cloned() else {
            self.last_note.remove(key);
            self.memos.remove(key);
            return Ok(());
        };
        if label_selector_as_selector(&set.spec.selector).is_err() {
            // A non-transient error: give up without a retry.
            return Ok(());
        }
        let memo = self.memos.entry(key.clone()).or_default();
        memo.begin(cache, &set, self.marks.as_ref());
        // The pass borrows the memo's pod views (no copy per pod) while it writes through
        // the memo: they are lent out for the pass and given back whatever its outcome.
        let views = memo.take_pods();
        let (result, waits) =
            sync_stateful_set(ctx, &self.actor, cache, memo, &self.config, &set, &views);
        memo.give_back_pods(views);
        if let Some(waits) = waits {
            self.note_waits(ctx, key, waits);
        }
        let status = result?;
        // One more sync once pods may have become available (clock skew, and the status
        // write right after), R-2.4.
        let min_ready = set.spec.min_ready_seconds;
        if min_ready > 0 && status.available_replicas != set.replicas() {
            q.add_after(key.clone(), SimDuration::from_secs(min_ready as u64));
        }
        Ok(())
    }
}

/// The part of upstream `syncStatefulSet` after the memo is brought up to the cache:
/// adopt revisions, claim pods, run the pass. Returns the pass's result and its wait
/// reasons (`None` when it did not get to the pass).
fn sync_stateful_set(
    ctx: &mut Ctx<'_, ControlTimer>,
    actor: &Actor,
    cache: &Tables,
    memo: &mut SetMemo,
    config: &StatefulSetConfig,
    set: &StatefulSet,
    views: &[PodView],
) -> (Result<StatefulSetStatus, String>, Option<Vec<String>>) {
    // With nothing to adopt or release (the census the memo keeps from the change marks),
    // `ClaimPods` writes nothing and returns the pods the set controls that match: the
    // walk over the namespace's pods is left to the steps that need the list.
    let owned_only = memo.follows_marks() && memo.census(views).special == 0;
    let mut pod_control = StatefulPodControl::new(ctx, actor, cache, memo);
    if let Err(e) = adopt_orphan_revisions(&mut pod_control, set) {
        return (Err(e), None);
    }
    let pods = if owned_only {
        ClaimedPods::Owned(views)
    } else {
        match get_pods_for_stateful_set(&mut pod_control, set, views) {
            Ok(pods) => ClaimedPods::Listed(pods),
            Err(e) => return (Err(e), None),
        }
    };
    let mut control = StatefulSetControl::new(pod_control, config);
    let result = control.update_stateful_set(set, pods);
    (result, Some(control.take_waits()))
}

fn enqueue(q: &mut Enqueue, set: &StatefulSet) {
    q.add(ObjectKey::of(&set.metadata));
}

// Port of upstream `resolveControllerRef`: look up by name, then check kind and uid.
fn resolve_controller_ref<'t>(
    cache: &'t Tables,
    namespace: &str,
    controller_ref: &OwnerReference,
) -> Option<&'t Rc<StatefulSet>> {
    if controller_ref.kind != CONTROLLER_KIND.kind {
        return None;
    }
    let set = cache
        .stateful_sets
        .get(&ObjectKey::new(namespace, &controller_ref.name))?;
    (set.metadata.uid == controller_ref.uid).then_some(set)
}

// Port of upstream `getStatefulSetsForPod` (the lister's `GetPodStatefulSets`): sets in the
// pod's namespace whose non-empty selector matches its labels; none for an unlabelled pod
// or when a selector cannot be converted.
fn get_stateful_sets_for_pod(cache: &Tables, pod: &Pod) -> Vec<Rc<StatefulSet>> {
    if pod.metadata.labels.is_empty() {
        return Vec::new();
    }
    let mut sets = Vec::new();
    for set in cache.list_in::<StatefulSet>(&pod.metadata.namespace) {
        let selector = &set.spec.selector;
        if label_selector_as_selector(selector).is_err() {
            return Vec::new();
        }
        if !selector.is_empty() && selector.matches(&pod.metadata.labels) {
            sets.push(Rc::clone(set));
        }
    }
    sets
}

// Port of upstream `addPod`.
fn add_pod(pod: &Pod, cache: &Tables, q: &mut Enqueue) {
    if pod.metadata.deletion_timestamp.is_some() {
        // Seen for the first time already terminating: handled as a delete.
        delete_pod(pod, cache, q);
        return;
    }
    if let Some(controller_ref) = pod.metadata.controller_ref() {
        if let Some(set) = resolve_controller_ref(cache, &pod.metadata.namespace, controller_ref) {
            enqueue(q, set);
        }
        return;
    }
    // An orphan: every matching set may want to adopt it.
    for set in get_stateful_sets_for_pod(cache, pod) {
        enqueue(q, &set);
    }
}

// Port of upstream `updatePod`, with the minReadySeconds requeue.
fn update_pod(old: &Pod, cur: &Pod, cache: &Tables, q: &mut Enqueue) {
    if cur.metadata.resource_version == old.metadata.resource_version {
        return;
    }
    let label_changed = cur.metadata.labels != old.metadata.labels;
    let cur_ref = cur.metadata.controller_ref();
    let old_ref = old.metadata.controller_ref();
    let ref_changed = cur_ref != old_ref;
    if ref_changed
        && let Some(old_ref) = old_ref
        && let Some(set) = resolve_controller_ref(cache, &old.metadata.namespace, old_ref)
    {
        enqueue(q, set);
    }
    if let Some(cur_ref) = cur_ref {
        let Some(set) = resolve_controller_ref(cache, &cur.metadata.namespace, cur_ref) else {
            return;
        };
        enqueue(q, set);
        let min_ready = set.spec.min_ready_seconds;
        if !old.is_ready() && cur.is_ready() && min_ready > 0 {
            // One second more to avoid millisecond skew in AddAfter (upstream #39785).
            q.add_after(
                ObjectKey::of(&set.metadata),
                SimDuration::from_secs(min_ready as u64) + SimDuration::from_secs(1),
            );
        }
        return;
    }
    if label_changed || ref_changed {
        for set in get_stateful_sets_for_pod(cache, cur) {
            enqueue(q, &set);
        }
    }
}

// Port of upstream `deletePod`: orphans are ignored.
fn delete_pod(pod: &Pod, cache: &Tables, q: &mut Enqueue) {
    let Some(controller_ref) = pod.metadata.controller_ref() else {
        return;
    };
    if let Some(set) = resolve_controller_ref(cache, &pod.metadata.namespace, controller_ref) {
        enqueue(q, set);
    }
}

// Port of upstream `canAdoptFunc` with `controller.RecheckDeletionTimestamp`: before adopting
// anything, an uncached read confirms the set is the same object and not being deleted.
fn can_adopt(pc: &mut StatefulPodControl<'_, '_>, set: &StatefulSet) -> Result<(), String> {
    let meta = &set.metadata;
    let fresh = pc
        .client()
        .get::<StatefulSet>(&ObjectKey::of(meta))
        .ok_or_else(|| {
            format!(
                "can't recheck DeletionTimestamp: statefulsets.apps \"{}\" not found",
                meta.name
            )
        })?;
    if fresh.metadata.uid != meta.uid {
        return Err(format!(
            "can't recheck DeletionTimestamp: original StatefulSet {}/{} is gone: got uid {}, wanted {}",
            meta.namespace, meta.name, fresh.metadata.uid, meta.uid
        ));
    }
    if let Some(ts) = fresh.metadata.deletion_timestamp {
        return Err(format!(
            "{}/{} has just been deleted at {}",
            meta.namespace,
            meta.name,
            ts.rfc3339()
        ));
    }
    Ok(())
}

// Port of upstream `adoptOrphanRevisions`.
fn adopt_orphan_revisions(
    pc: &mut StatefulPodControl<'_, '_>,
    set: &StatefulSet,
) -> Result<(), String> {
    let orphans: Vec<_> = list_revisions(pc.cache, set)
        .into_iter()
        .filter(|r| r.metadata.controller_ref().is_none())
        .collect();
    if orphans.is_empty() {
        return Ok(());
    }
    can_adopt(pc, set).map_err(|e| format!("can't adopt ControllerRevisions: {e}"))?;
    for revision in &orphans {
        adopt_controller_revision(&mut pc.client(), set, revision)?;
    }
    Ok(())
}

// Port of upstream `getPodsForStatefulSet` with `PodControllerRefManager.ClaimPods`:
// all pods of the namespace are considered, so that owned pods that stopped matching are
// released; the adoption recheck runs at most once per sync (upstream's `sync.Once`). The
// claimed pods come with their facts (`memo`).
fn get_pods_for_stateful_set<'v>(
    pc: &mut StatefulPodControl<'_, '_>,
    set: &StatefulSet,
    views: &'v [PodView],
) -> Result<Vec<&'v PodView>, String> {
    let mut can_adopt_once = None;
    let mut claimed = Vec::with_capacity(views.len());
    let mut errs = Vec::new();
    for pod in views {
        // Pods of other controllers are most of a shared namespace: skip them at once.
        // Pods the set controls and that still match are most of the rest: `ClaimObject`
        // keeps them with no write, so they are taken at once too.
        match (pod.facts.controlled_by, pod.facts.matches) {
            (ControlledBy::Other, _) => continue,
            (ControlledBy::ThisSet, true) => {
                claimed.push(pod);
                continue;
            }
            _ => {}
        }
        match claim_pod(pc, set, pod, &mut can_adopt_once) {
            Ok(true) => {
                // Only these have all their facts (`PodFacts::is_claimable`).
                debug_assert!(pod.facts.is_claimable(), "{}", pod.pod.metadata.name);
                claimed.push(pod)
            }
            Ok(false) => {}
            Err(e) => errs.push(e),
        }
    }
    aggregate(errs)?;
    Ok(claimed)
}

// Port of `BaseControllerRefManager.ClaimObject` for pods, with `AdoptPod` and `ReleasePod`.
// Upstream patches ownerReferences with the pod's uid as precondition; here the patch is a
// live read followed by an update of that version.
fn claim_pod(
    pc: &mut StatefulPodControl<'_, '_>,
    set: &StatefulSet,
    view: &PodView,
    can_adopt_once: &mut Option<Result<(), String>>,
) -> Result<bool, String> {
    let (pod, facts) = (&view.pod, &view.facts);
    // Only claim pods that match the selector *and* carry this set's name (isMemberOf).
    let matches = facts.matches;
    let being_deleted = set.metadata.deletion_timestamp.is_some();
    // Built only where a pod is read live: most pods return before.
    let key = || ObjectKey::of(&pod.metadata);
    let precondition = |live: &Pod| {
        (live.metadata.uid != pod.metadata.uid).then(|| {
            format!(
                "Precondition failed: UID in precondition: {}, UID in object meta: {}",
                pod.metadata.uid, live.metadata.uid
            )
        })
    };
    if facts.controlled_by != ControlledBy::None {
        if facts.controlled_by == ControlledBy::Other {
            return Ok(false); // Owned by someone else.
        }
        if matches {
            return Ok(true);
        }
        if being_deleted {
            return Ok(false);
        }
        // Owned by us but no longer ours by selector or name: release it.
        let Some(live) = pc.client().get::<Pod>(&key()) else {
            return Ok(false); // Gone: nothing to release.
        };
        if let Some(e) = precondition(&live) {
            return Err(e);
        }
        let mut next = (*live).clone();
        next.metadata
            .owner_references
            .retain(|r| r.uid != set.metadata.uid);
        return match pc.client().update(next) {
            Ok(_) => Ok(false),
            Err(e)
                if e.is_not_found() || matches!(e, crate::apiserver::ApiError::Invalid { .. }) =>
            {
                Ok(false)
            }
            Err(e) => Err(e.to_string()),
        };
    }
    // An orphan.
    if being_deleted || !matches || pod.metadata.deletion_timestamp.is_some() {
        return Ok(false);
    }
    let can = can_adopt_once.get_or_insert_with(|| can_adopt(pc, set));
    if let Err(e) = can {
        return Err(format!(
            "can't adopt Pod {}/{} ({}): {e}",
            pod.metadata.namespace, pod.metadata.name, pod.metadata.uid
        ));
    }
    let Some(live) = pc.client().get::<Pod>(&key()) else {
        return Ok(false); // Gone: nothing to adopt.
    };
    if let Some(e) = precondition(&live) {
        return Err(e);
    }
    let mut next = (*live).clone();
    merge_controller_ref(&mut next.metadata, &set.metadata)?;
    pc.client().update(next).map_err(|e| e.to_string())?;
    Ok(true)
}
