//! What the StatefulSet controller remembers about pods and claims from one sync of a set
//! to the next (a memo of this port, not upstream code): the answers of the per-pod checks
//! that only depend on the pod, the claim and the set's identity, so that a pass over pods
//! that did not change is a loop over small structs.
//!
//! Why: like upstream's, every sync is O(pods) — it claims every pod of the namespace,
//! counts status twice, checks each replica's identity, storage and claim ownerRefs, and
//! scans for the rolling update and for live revisions — and a set syncs once per informer
//! delivery of any of its pods. A 1,000-replica scale-up runs ≈ 2,000 syncs, each over
//! 1,000 pods of which one or two changed since the sync before; recomputing their label
//! look-ups, name parses and ownerRef scans was most of the run's time.
//!
//! What is kept, per set:
//! * for each pod of the set's namespace, its [`PodFacts`]: ordinal, whether the set's
//!   selector and name claim it, who controls it, whether its identity and storage match
//!   the set, its revision label (as a number, [`RevisionNames`]), phase, readiness, the
//!   time its Ready condition last changed, and whether it is being deleted;
//! * for each claim of the namespace, the template and ordinal its name stands for, and the
//!   ownerRef facts of `isClaimOwnerUpToDate` (`retention::ClaimOwnerFacts`) for the pod it
//!   was last checked against;
//! * for each ordinal, the last answer of [`SetMemo::claim_checks`] with the pod object,
//!   policy and scale-down it was for, dropped when a claim of that ordinal is replaced
//!   and for every ordinal when a claim is added or removed (`claims::OrdinalChecks`);
//! * for the set's revisions, the candidate `newRevision` of its template (a JSON patch
//!   and its hash), each revision's data bytes and the template each restores;
//! * while the change marks are followed: who claims the namespace's pods (a census: the
//!   pods the set controls and that match, and those `ClaimPods` would adopt or release),
//!   and for a Parallel set the kept tally of its replica slots (`tally`).
//!
//! Files: this one holds the per-set memo and the walk that brings it up to a cache;
//! `pods` the pod facts, `claims` the claim index and ownerRef facts, `history` the
//! revision memo, `marks` the change marks that spare the walk when the controller's watch
//! handler sees every write to the cache, `tally` the census and the kept slots of a
//! Parallel pass, `tests` the equivalence tests.
//!
//! Everything that changes from pass to pass (`now`, minReadySeconds, the current and update
//! revisions, replicas and start ordinal, the retention policy, the set's deletion) is
//! applied to the facts by the pass itself.
//!
//! How it stays exact:
//! * an entry is reused only for the very same object. The memo holds a clone of the
//!   object's `Rc` and compares pointers (`Rc::ptr_eq`): a cached object is never changed
//!   while shared (every write makes a new object, and `Rc::make_mut` copies a shared one),
//!   and the clone the memo holds keeps the allocation from being reused for another
//!   object, so the same pointer means the same content. A write of a pod or claim gives
//!   it new facts at the next sync.
//! * the facts that depend on the set are computed against its uid, namespace, name,
//!   selector and claim template names; when one of those differs from the sync before,
//!   the whole memo is dropped ([`SetMemo::begin`]); a revision's facts are kept per
//!   revision object, the candidate for the same serialised template, set identity,
//!   annotations and collision count.
//! * each fact is computed by the very helper the fresh check calls (`utils`, `retention`),
//!   and the predicates on facts repeat the helpers' formulas; the tests compare both on
//!   many pods, and whole controllers with and without the memo.
//!
//! The memo only saves work: the objects a pass reads (the informer cache's) and what it
//! decides never depend on what the memo holds.

mod claims;
mod history;
mod marks;
mod pods;
mod tally;
#[cfg(test)]
mod tests;

pub use history::{AppliedSet, RevisionMemo};
pub use marks::{MarkKind, WatchMarks};
pub use pods::{ControlledBy, PodFacts, PodView, RevisionId, RevisionNames};
pub use tally::{Census, TallyParams, find_slot, is_owned};

use super::retention::Retention;
use crate::api::key_ref::cmp_str;
use crate::api::{
    LabelSelector, ObjectKey, ObjectTable, PersistentVolumeClaim, Pod, Resource, StatefulSet,
    Tables,
};
use crate::control::statefulset::utils::parse_dashed_name;
use claims::ClaimMemo;
use std::rc::Rc;
use tally::Tally;

/// Above this many distinct revision label values the memo starts afresh, so that a
/// namespace of pods with ever new labels cannot grow it without bound.
const MAX_REVISION_NAMES: usize = 4096;

/// What the facts depend on in the set.
#[derive(Debug, PartialEq)]
struct Signature {
    uid: String,
    namespace: String,
    name: String,
    selector: LabelSelector,
    claim_templates: Vec<String>,
    /// For each claim template, the number of the first template of its name: templates
    /// of the same name share their claims.
    first_of_name: Vec<usize>,
}

impl Signature {
    fn of(set: &StatefulSet) -> Self {
        let claim_templates: Vec<String> = template_names(set).map(str::to_string).collect();
        let first_of_name = claim_templates
            .iter()
            .map(|t| {
                claim_templates
                    .iter()
                    .position(|n| n == t)
                    .expect("the template itself")
            })
            .collect();
        Signature {
            uid: set.metadata.uid.clone(),
            namespace: set.metadata.namespace.clone(),
            name: set.metadata.name.clone(),
            selector: set.spec.selector.clone(),
            claim_templates,
            first_of_name,
        }
    }

    fn matches(&self, set: &StatefulSet) -> bool {
        let meta = &set.metadata;
        self.uid == meta.uid
            && self.namespace == meta.namespace
            && self.name == meta.name
            && self.selector == set.spec.selector
            && self
                .claim_templates
                .iter()
                .map(String::as_str)
                .eq(template_names(set))
    }
}

fn template_names(set: &StatefulSet) -> impl Iterator<Item = &str> {
    set.spec
        .volume_claim_templates
        .iter()
        .map(|t| t.metadata.name.as_str())
}

/// The memo of one StatefulSet (see the module notes).
#[derive(Debug, Default)]
pub struct SetMemo {
    signature: Option<Signature>,
    pub revisions: RevisionNames,
    /// What the pass computes from ControllerRevisions.
    pub history: RevisionMemo,
    /// The pods of the namespace at the last walk, in name order.
    pods: Vec<PodView>,
    claims: ClaimMemo,
    /// The position of the controller's change marks (`marks`) when the pods and claims
    /// were last brought up to the cache, if they were brought up to one the marks follow.
    seen: Option<u64>,
    /// Who claims the pods (`tally::Census`), kept up to date from the marks; `None` after
    /// a walk until a pass counts it again.
    census: Option<Census>,
    /// The kept slots of a Parallel pass (`tally`), and the ordinals whose pod or claims
    /// were written since it was brought up (noted only while there is one).
    tally: Option<Tally>,
    dirty: Vec<i32>,
}

/// What the claims of one pod of a pass say, from the memo (see [`SetMemo::claim_checks`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClaimChecks {
    /// Upstream `ClaimsMatchRetentionPolicy`: every claim that exists has the ownerRefs
    /// the policy wants (`isClaimOwnerUpToDate`).
    pub match_retention_policy: bool,
    /// `createMissingPersistentVolumeClaims` would neither write nor fail: every claim
    /// exists and is not being deleted (none to create), none has an unexpected controller
    /// (no Event) and all match the policy (no claim update).
    pub settled: bool,
}

impl SetMemo {
    /// Starts a sync of `set` on `cache`: drops everything when the set's identity,
    /// selector or claim templates differ from the last sync's, then brings the pods and
    /// claims of the set's namespace up to `cache`. `marks`, if given, name every pod and
    /// claim written to `cache` since the memo last saw it (see `marks`): then only those
    /// are looked up, when they are few; otherwise the namespace is walked.
    pub fn begin(&mut self, cache: &Tables, set: &StatefulSet, marks: Option<&WatchMarks>) {
        let same = self.signature.as_ref().is_some_and(|s| s.matches(set));
        if !same || self.revisions.len() > MAX_REVISION_NAMES {
            *self = SetMemo {
                signature: Some(Signature::of(set)),
                ..SetMemo::default()
            };
        }
        let namespace = set.metadata.namespace.as_str();
        let seen = std::mem::replace(&mut self.seen, marks.map(WatchMarks::position));
        let marked = |kind: MarkKind| {
            let since = marks.zip(seen).and_then(|(m, seen)| m.since(seen));
            since.map(move |marks| {
                marks
                    .filter(move |(k, key)| *k == kind && key.namespace == namespace)
                    .map(|(_, key)| key.name.as_str())
            })
        };
        // A look-up costs about as much as walking 20 objects: above one mark per 20
        // objects of the namespace, walk. (Unit tests, whose namespaces are small, use
        // the marks whenever they can.)
        let few = marked(MarkKind::Pod)
            .zip(marked(MarkKind::Claim))
            .is_some_and(|(p, c)| cfg!(test) || (p.count() + c.count()) * 20 <= self.pods.len());
        let revisions = &mut self.revisions;
        let fresh = |pod: &Rc<Pod>| PodView {
            pod: Rc::clone(pod),
            facts: PodFacts::of(pod, set, revisions),
        };
        let signature = self.signature.as_ref().expect("set above");
        let (templates, first_of_name) = (&signature.claim_templates, &signature.first_of_name);
        if few {
            let pods = marked(MarkKind::Pod).expect("counted above");
            // A pod that leaves or joins the claimed ones changes the census, and the
            // tally's slot of its ordinal.
            let (census, dirty, keeps_tally) =
                (&mut self.census, &mut self.dirty, self.tally.is_some());
            let changed = |old: Option<&PodView>, new: Option<&PodView>| {
                for (view, sign) in [(old, -1), (new, 1)] {
                    let Some(view) = view else { continue };
                    if let Some(census) = census.as_mut() {
                        census.add(view, sign);
                    }
                    if keeps_tally && is_owned(view) {
                        dirty.push(view.facts.ordinal);
                    }
                }
            };
            refresh_marked(
                &mut self.pods,
                &cache.pods,
                namespace,
                pods,
                |v| &v.pod,
                fresh,
                changed,
            );
            let claims = marked(MarkKind::Claim).expect("counted above");
            if self.tally.is_some() {
                // The claims of an ordinal decide its slot's claim checks.
                let set_name = set.metadata.name.as_str();
                for name in marked(MarkKind::Claim).expect("counted above") {
                    for (t, template) in templates.iter().enumerate() {
                        if first_of_name[t] == t
                            && let Some(ordinal) = parse_dashed_name(name, &[template, set_name])
                        {
                            self.dirty.push(ordinal);
                        }
                    }
                }
            }
            self.claims
                .apply_marks(cache, set, templates, first_of_name, claims);
            // Passes that stop before they bring the tally up leave the noted ordinals
            // piling up: past one per pod, a rebuild costs less.
            if self.dirty.len() > self.pods.len() + 64 {
                self.drop_tally();
            }
            #[cfg(debug_assertions)]
            self.check_up_to(cache, namespace);
        } else {
            refresh(
                &mut self.pods,
                in_namespace(&cache.pods, namespace),
                |v| &v.pod,
                fresh,
            );
            self.claims.walk(cache, set, templates, first_of_name);
            // What changed is not known: counted and tallied afresh when next used.
            self.census = None;
            self.drop_tally();
        }
    }

    /// Whether the memo follows the controller's change marks (it was brought up to a
    /// cache whose every write the controller's watch handler saw): only then is a census
    /// or a tally kept up to date between syncs.
    pub fn follows_marks(&self) -> bool {
        self.seen.is_some()
    }

    /// The census of `views`, the pods this memo lent out for the pass: kept from the
    /// marks, or counted.
    pub fn census(&mut self, views: &[PodView]) -> Census {
        *self.census.get_or_insert_with(|| Census::of(views))
    }

    /// Debug builds: the memo brought up by marks holds the very objects a walk finds.
    #[cfg(debug_assertions)]
    fn check_up_to(&self, cache: &Tables, namespace: &str) {
        let pods = self.pods.iter().map(|v| Rc::as_ptr(&v.pod));
        assert!(
            pods.eq(in_namespace(&cache.pods, namespace).map(Rc::as_ptr)),
            "the marks missed a pod write"
        );
        let claims = self.claims.claims().map(Rc::as_ptr);
        assert!(
            claims.eq(in_namespace(&cache.pvcs, namespace).map(Rc::as_ptr)),
            "the marks missed a claim write"
        );
        if let Some(census) = self.census {
            assert_eq!(census, Census::of(&self.pods), "the census kept from marks");
        }
    }

    /// Whether the memo was begun for this set (or one with its identity, selector and
    /// claim templates, as the set with a revision's template applied).
    pub fn is_for(&self, set: &StatefulSet) -> bool {
        self.signature.as_ref().is_some_and(|s| s.matches(set))
    }

    /// The facts of a pod the memo does not hold (a placeholder).
    pub fn facts(&mut self, pod: &Pod, set: &StatefulSet) -> PodFacts {
        PodFacts::of(pod, set, &mut self.revisions)
    }

    /// Every pod of the set's namespace in the cache of this sync, in name order, with
    /// its facts (a pass borrows them through [`SetMemo::take_pods`]).
    #[cfg(test)]
    pub fn pods(&self) -> &[PodView] {
        &self.pods
    }

    /// Lends out the pods of [`SetMemo::pods`] for a pass, which reads them while it
    /// writes through the memo; [`SetMemo::give_back_pods`] returns them. Until then the
    /// memo holds no pods (a memo that lost them only recomputes their facts).
    pub fn take_pods(&mut self) -> Vec<PodView> {
        std::mem::take(&mut self.pods)
    }

    /// Returns the pods lent out by [`SetMemo::take_pods`].
    pub fn give_back_pods(&mut self, pods: Vec<PodView>) {
        debug_assert!(self.pods.is_empty(), "nothing walked meanwhile");
        self.pods = pods;
    }

    /// The distinct revision labels of `pods`, in order of first appearance.
    pub fn revision_names(&self, pods: &[&PodView]) -> Vec<String> {
        let mut seen = vec![false; self.revisions.len()];
        let mut ids: Vec<RevisionId> = Vec::new();
        for p in pods {
            let id = p.facts.revision;
            if !std::mem::replace(&mut seen[id as usize], true) {
                ids.push(id);
            }
        }
        ids.iter()
            .map(|&id| self.revisions.name(id).to_string())
            .collect()
    }

    /// The claim named `<template>-<set>-<ordinal>` in the cache of this sync, for the
    /// set's claim template number `template` (upstream's claim lister `Get` of
    /// `getPersistentVolumeClaimName`).
    pub fn find_claim(&self, template: usize, ordinal: i32) -> Option<&Rc<PersistentVolumeClaim>> {
        let first_of_name = self.first_of_name(template);
        Some(self.claims.claim(self.claims.find(first_of_name, ordinal)?))
    }

    fn first_of_name(&self, template: usize) -> usize {
        self.signature.as_ref().expect("begin() ran").first_of_name[template]
    }

    /// What the claims of `pod`, a pod of a pass of `set`, say under `policy` for a pod
    /// scaled down or not: upstream's `ClaimsMatchRetentionPolicy` and whether
    /// `createMissingPersistentVolumeClaims` would do nothing, from facts kept per claim
    /// and pod; the answer itself is kept per ordinal while the pod and the claims of its
    /// ordinal stay the same objects (`claims::OrdinalChecks`).
    #[inline]
    pub fn claim_checks(
        &mut self,
        set: &StatefulSet,
        pod: &PodView,
        policy: Retention,
        scaled_down: bool,
    ) -> ClaimChecks {
        let ordinal = pod.facts.ordinal;
        if let Some(checks) = self
            .claims
            .kept_checks(ordinal, &pod.pod, policy, scaled_down)
        {
            return checks;
        }
        let checks = self.compute_claim_checks(set, pod, policy, scaled_down);
        self.claims
            .keep_checks(ordinal, &pod.pod, policy, scaled_down, checks);
        checks
    }

    /// [`SetMemo::claim_checks`] without the answer kept per ordinal.
    #[cold]
    #[inline(never)]
    fn compute_claim_checks(
        &mut self,
        set: &StatefulSet,
        pod: &PodView,
        policy: Retention,
        scaled_down: bool,
    ) -> ClaimChecks {
        let mut checks = ClaimChecks {
            match_retention_policy: true,
            settled: true,
        };
        let signature = self.signature.as_ref().expect("begin() ran");
        debug_assert!(signature.matches(set), "the memo's set");
        // One entry per claim template, in template order.
        for &first_of_name in &signature.first_of_name {
            let Some(id) = self.claims.find(first_of_name, pod.facts.ordinal) else {
                checks.settled = false;
                continue;
            };
            let owner = self.claims.owner_facts(id, set, &pod.pod);
            let up_to_date = owner.is_up_to_date(policy, scaled_down);
            let usable = !self.claims.is_deleting(id);
            checks.match_retention_policy &= up_to_date;
            checks.settled &= up_to_date && usable && !owner.has_unexpected_controller(policy);
        }
        checks
    }
}

/// The objects of `namespace` in `table`, in name order: what `Tables::list_in` gives,
/// with the namespace's end as the range's bound instead of a comparison per object (no
/// string lies between `namespace` and `namespace` followed by NUL).
fn in_namespace<'t, T: Resource>(
    table: &'t T::Table,
    namespace: &str,
) -> impl Iterator<Item = &'t Rc<T>> + 't {
    let mut end = String::with_capacity(namespace.len() + 1);
    end.push_str(namespace);
    end.push('\0');
    table.values_between(ObjectKey::new(namespace, ""), ObjectKey::new(&end, ""))
}

/// Brings `entries` (the last walk's, in name order) up to `objects` (one namespace of a
/// cache table, in name order): an entry is kept for the very same object (`Rc::ptr_eq`),
/// anything else gets `fresh`. Between two syncs few objects change, so the walk is a
/// pointer comparison per object; a changed object replaces the entry of its name in place,
/// and only an object added or removed makes the rest of the list be merged again by name.
/// Returns whether the names changed (an object added or removed): if not, every entry
/// kept its position.
fn refresh<'o, T: Resource, E>(
    entries: &mut Vec<E>,
    objects: impl Iterator<Item = &'o Rc<T>>,
    object_of: impl Fn(&E) -> &Rc<T>,
    mut fresh: impl FnMut(&Rc<T>) -> E,
) -> bool {
    let mut objects = objects;
    let mut j = 0;
    let mut added = false;
    while let Some(obj) = objects.next() {
        match entries.get_mut(j) {
            None => {
                entries.push(fresh(obj));
                added = true;
            }
            Some(e) if Rc::ptr_eq(object_of(e), obj) => {}
            Some(e) if object_of(e).meta().name == obj.meta().name => *e = fresh(obj),
            Some(_) => {
                let tail = entries.split_off(j);
                merge(
                    entries,
                    tail,
                    std::iter::once(obj).chain(objects),
                    object_of,
                    fresh,
                );
                return true;
            }
        }
        j += 1;
    }
    let removed = j < entries.len();
    entries.truncate(j);
    added || removed
}

/// [`refresh`] for entries that were brought up to the namespace's objects in `table` at
/// some point, from the names of the objects written since (`names`, in any order, repeats
/// allowed): each name is looked up in `table` and in `entries` (by binary search, the
/// entries being in name order) and its entry replaced, added or dropped, which `changed`
/// is told (the old entry, the new one). Returns whether the names changed.
fn refresh_marked<'n, T: Resource, E>(
    entries: &mut Vec<E>,
    table: &T::Table,
    namespace: &str,
    names: impl Iterator<Item = &'n str>,
    object_of: impl Fn(&E) -> &Rc<T>,
    mut fresh: impl FnMut(&Rc<T>) -> E,
    mut changed: impl FnMut(Option<&E>, Option<&E>),
) -> bool {
    let mut renamed = false;
    for name in names {
        let obj = table.get_by_parts(namespace, name);
        let at = entries.binary_search_by(|e| cmp_str(&object_of(e).meta().name, name));
        match (at, obj) {
            (Ok(i), Some(obj)) => {
                if !Rc::ptr_eq(object_of(&entries[i]), obj) {
                    let old = std::mem::replace(&mut entries[i], fresh(obj));
                    changed(Some(&old), Some(&entries[i]));
                }
            }
            (Ok(i), None) => {
                let old = entries.remove(i);
                changed(Some(&old), None);
                renamed = true;
            }
            (Err(i), Some(obj)) => {
                entries.insert(i, fresh(obj));
                changed(None, Some(&entries[i]));
                renamed = true;
            }
            (Err(_), None) => {}
        }
    }
    renamed
}

/// The rest of [`refresh`] once objects were added or removed: `old` (entries in name
/// order) merged with `objects` by name, entries of objects that are gone dropped.
fn merge<'o, T: Resource, E>(
    entries: &mut Vec<E>,
    old: Vec<E>,
    objects: impl Iterator<Item = &'o Rc<T>>,
    object_of: impl Fn(&E) -> &Rc<T>,
    mut fresh: impl FnMut(&Rc<T>) -> E,
) {
    let mut old = old.into_iter().peekable();
    for obj in objects {
        if let Some(e) = old.next_if(|e| Rc::ptr_eq(object_of(e), obj)) {
            entries.push(e);
            continue;
        }
        let name = &obj.meta().name;
        while old.next_if(|e| object_of(e).meta().name < *name).is_some() {}
        old.next_if(|e| object_of(e).meta().name == *name);
        entries.push(fresh(obj));
    }
}
