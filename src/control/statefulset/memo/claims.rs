//! The claims of a set's namespace as the memo keeps them: which template and ordinal each
//! claim's name stands for (so that a pod's claims are found by number, not by a string
//! search of the claim table), the ownerRef facts of `isClaimOwnerUpToDate` for the
//! pod each claim was last checked against, and per ordinal the last answer of
//! `SetMemo::claim_checks` ([`OrdinalChecks`]).

use super::{ClaimChecks, in_namespace, refresh, refresh_marked};
use crate::api::{PersistentVolumeClaim, Pod, StatefulSet, Tables};
use crate::control::statefulset::retention::{ClaimOwnerFacts, Retention};
use crate::control::statefulset::utils::parse_dashed_name;
use std::collections::BTreeMap;
use std::rc::Rc;

/// A claim of the memo's last walk (valid until the next walk).
pub type ClaimId = usize;

/// The claims of the set's namespace, and their index by template and ordinal.
#[derive(Debug, Default)]
pub struct ClaimMemo {
    entries: Vec<ClaimEntry>,
    index: ClaimIndex,
    /// `checks[ordinal]`: the last answer for a pod of that ordinal (see [`OrdinalChecks`]).
    checks: Vec<Option<OrdinalChecks>>,
}

/// Ordinals above this are not given an [`OrdinalChecks`] (their checks are computed each
/// time), so that a stray huge ordinal cannot make the table huge.
const MAX_CHECKED_ORDINAL: i32 = 1 << 16;

/// The answer of `SetMemo::claim_checks` for one pod object under one policy, kept while
/// the claims of the pod's ordinal stay the same objects. It depends only on the pod, the
/// claims named for its ordinal (which exist, their ownerRefs and deletion), the policy,
/// whether the pod is scaled down, and the set's name and uid (fixed for the memo). So it
/// is dropped when a claim of its ordinal is replaced, and all are dropped when a claim is
/// added or removed; the pod is compared by pointer (the `Rc` held here keeps its
/// allocation from being reused).
#[derive(Debug)]
pub struct OrdinalChecks {
    pod: Rc<Pod>,
    policy: Retention,
    scaled_down: bool,
    checks: ClaimChecks,
}

#[derive(Debug)]
struct ClaimEntry {
    claim: Rc<PersistentVolumeClaim>,
    /// The template (by the number of the first template of its name) and ordinal the
    /// claim's name stands for, if it is `<template>-<set>-<ordinal>`. A name stands for
    /// at most one: the text after `<template>-<set>-` must be a bare decimal number, which
    /// holds at most one dash, while two readings would put `-<set>-` inside it.
    slot: Option<(usize, i32)>,
    /// The pod the owner facts were computed for, and those facts.
    owner: Option<(Rc<Pod>, ClaimOwnerFacts)>,
}

impl ClaimMemo {
    /// Brings the memo up to the claims of the set's namespace in `cache`. `templates` are
    /// the set's claim template names, `first_of_name[t]` the first template of `t`'s name.
    pub fn walk(
        &mut self,
        cache: &Tables,
        set: &StatefulSet,
        templates: &[String],
        first_of_name: &[usize],
    ) {
        let set_name = set.metadata.name.as_str();
        let checks = &mut self.checks;
        let renamed = refresh(
            &mut self.entries,
            in_namespace(&cache.pvcs, &set.metadata.namespace),
            |e| &e.claim,
            |claim| ClaimEntry::new(claim, set_name, templates, first_of_name, checks),
        );
        self.after_refresh(renamed, templates);
    }

    /// [`ClaimMemo::walk`] for a memo that was walked before, from the names of the claims
    /// of the set's namespace written since (`marks`).
    pub fn apply_marks<'k>(
        &mut self,
        cache: &Tables,
        set: &StatefulSet,
        templates: &[String],
        first_of_name: &[usize],
        marks: impl Iterator<Item = &'k str>,
    ) {
        let set_name = set.metadata.name.as_str();
        let checks = &mut self.checks;
        let renamed = refresh_marked(
            &mut self.entries,
            &cache.pvcs,
            &set.metadata.namespace,
            marks,
            |e| &e.claim,
            |claim| ClaimEntry::new(claim, set_name, templates, first_of_name, checks),
            |_, _| {},
        );
        self.after_refresh(renamed, templates);
    }

    /// The entries of the namespace's claims in name order (for the debug check of marks).
    #[cfg(debug_assertions)]
    pub fn claims(&self) -> impl Iterator<Item = &Rc<PersistentVolumeClaim>> {
        self.entries.iter().map(|e| &e.claim)
    }

    fn after_refresh(&mut self, renamed: bool, templates: &[String]) {
        // A claim's slot follows from its name and the templates (which the memo's set
        // fixes): with the same names at the same positions, the index still holds.
        if renamed || !self.index.built {
            self.index.build(&self.entries, templates.len());
            // A claim added or removed (its entry is gone: its slot is not known here).
            self.checks.clear();
        }
    }

    /// The kept answer for `pod` (of `ordinal`) under `policy`, if any.
    #[inline]
    pub fn kept_checks(
        &self,
        ordinal: i32,
        pod: &Rc<Pod>,
        policy: Retention,
        scaled_down: bool,
    ) -> Option<ClaimChecks> {
        let kept = self.checks.get(usize::try_from(ordinal).ok()?)?.as_ref()?;
        (Rc::ptr_eq(&kept.pod, pod) && kept.policy == policy && kept.scaled_down == scaled_down)
            .then_some(kept.checks)
    }

    /// Keeps `checks`, the answer for `pod` (of `ordinal`) under `policy`.
    #[cold]
    #[inline(never)]
    pub fn keep_checks(
        &mut self,
        ordinal: i32,
        pod: &Rc<Pod>,
        policy: Retention,
        scaled_down: bool,
        checks: ClaimChecks,
    ) {
        if !(0..=MAX_CHECKED_ORDINAL).contains(&ordinal) {
            return;
        }
        let o = ordinal as usize;
        if self.checks.len() <= o {
            self.checks.resize_with(o + 1, || None);
        }
        self.checks[o] = Some(OrdinalChecks {
            pod: Rc::clone(pod),
            policy,
            scaled_down,
            checks,
        });
    }

    /// The claim named for the template of number `first_of_name` and `ordinal`, if cached.
    #[inline]
    pub fn find(&self, first_of_name: usize, ordinal: i32) -> Option<ClaimId> {
        self.index.get(first_of_name, ordinal)
    }

    pub fn claim(&self, id: ClaimId) -> &Rc<PersistentVolumeClaim> {
        &self.entries[id].claim
    }

    /// [`ClaimOwnerFacts::of`] the claim for `set` and `pod`, kept until either changes
    /// (`set` is always the memo's set, whose name and uid the facts read).
    #[inline]
    pub fn owner_facts(
        &mut self,
        id: ClaimId,
        set: &StatefulSet,
        pod: &Rc<Pod>,
    ) -> ClaimOwnerFacts {
        let entry = &mut self.entries[id];
        match &entry.owner {
            Some((p, facts)) if Rc::ptr_eq(p, pod) => *facts,
            _ => entry.compute_owner_facts(set, pod),
        }
    }

    /// Whether the claim is being deleted.
    #[inline]
    pub fn is_deleting(&self, id: ClaimId) -> bool {
        self.entries[id].claim.metadata.deletion_timestamp.is_some()
    }
}

impl ClaimEntry {
    /// The entry of a claim new to the memo (or a new object of a claim's name).
    fn new(
        claim: &Rc<PersistentVolumeClaim>,
        set_name: &str,
        templates: &[String],
        first_of_name: &[usize],
        checks: &mut [Option<OrdinalChecks>],
    ) -> Self {
        let slot = templates.iter().enumerate().find_map(|(t, name)| {
            if first_of_name[t] != t {
                return None;
            }
            parse_dashed_name(&claim.metadata.name, &[name, set_name]).map(|o| (t, o))
        });
        // A new object in a slot changes the answer for its ordinal.
        if let Some((_, ordinal)) = slot
            && let Some(c) = usize::try_from(ordinal)
                .ok()
                .and_then(|o| checks.get_mut(o))
        {
            *c = None;
        }
        ClaimEntry {
            claim: Rc::clone(claim),
            slot,
            owner: None,
        }
    }

    #[cold]
    #[inline(never)]
    fn compute_owner_facts(&mut self, set: &StatefulSet, pod: &Rc<Pod>) -> ClaimOwnerFacts {
        let facts = ClaimOwnerFacts::of(&self.claim, set, pod);
        self.owner = Some((Rc::clone(pod), facts));
        facts
    }
}

/// Claims by (template, ordinal): a dense table over the ordinals in use when they are not
/// too spread out (the usual case: 0 .. replicas), else a map.
#[derive(Debug, Default)]
struct ClaimIndex {
    built: bool,
    base: i64,
    /// Width of the dense table; 0 when the map is used.
    span: usize,
    /// `dense[template * span + (ordinal - base)]` is the claim's entry + 1, or 0.
    dense: Vec<u32>,
    sparse: BTreeMap<(usize, i32), usize>,
}

impl ClaimIndex {
    fn build(&mut self, entries: &[ClaimEntry], templates: usize) {
        self.built = true;
        self.dense.clear();
        self.sparse.clear();
        self.span = 0;
        let slots = || {
            entries
                .iter()
                .enumerate()
                .filter_map(|(i, e)| Some((i, e.slot?)))
        };
        let (lo, hi) = slots().fold((i64::MAX, i64::MIN), |(lo, hi), (_, (_, o))| {
            (lo.min(i64::from(o)), hi.max(i64::from(o)))
        });
        if lo > hi {
            return;
        }
        let span = (hi - lo + 1) as usize;
        if span <= 2 * entries.len() + 1024 && u32::try_from(entries.len()).is_ok() {
            self.base = lo;
            self.span = span;
            self.dense.resize(templates * span, 0);
            for (i, (t, o)) in slots() {
                self.dense[t * span + (i64::from(o) - lo) as usize] = i as u32 + 1;
            }
        } else {
            self.sparse.extend(slots().map(|(i, slot)| (slot, i)));
        }
    }

    #[inline]
    fn get(&self, template: usize, ordinal: i32) -> Option<ClaimId> {
        if self.span == 0 {
            if self.sparse.is_empty() {
                return None;
            }
            return self.sparse.get(&(template, ordinal)).copied();
        }
        let offset = i64::from(ordinal) - self.base;
        if offset < 0 || offset >= self.span as i64 {
            return None;
        }
        match self.dense[template * self.span + offset as usize] {
            0 => None,
            n => Some(n as usize - 1),
        }
    }
}
