//! The kept tally of a set's replica slots (a memo of this port, not upstream code): for
//! each in-range ordinal, what a Parallel pass reads of its pod — whether `processReplica`
//! has anything to do for it, what it adds to the status counts of `computeReplicaStatus`,
//! whether the rolling update would replace it and whether it is unavailable — kept from
//! one sync to the next and brought up to date from the pods and claims the change marks
//! name (`marks`), so that a pass over 1,000 pods of which two changed looks at two.
//!
//! Why: in the 1,000-pod Parallel scale-up every one of ≈ 2,000 syncs walked every slot
//! four times (partition, `processReplica`'s quick test, `updateStatus`'s recount, the
//! rolling update's scan) to find nothing to do in nearly all of them.
//!
//! What a slot's entry depends on, and how it stays exact:
//! * the pod of the slot (the claimed pod whose name is the ordinal's canonical name,
//!   `getPodName`), through its facts; the claims of its ordinal, through
//!   `SetMemo::claim_checks`; and the tally's [`TallyParams`] (start ordinal, replicas,
//!   current and update revisions, retention policy). A different `TallyParams` rebuilds
//!   the tally from every pod.
//! * the memo notes the ordinals whose pod or claims were written since the last sync
//!   (`SetMemo::begin`, from the marks: a claimed pod's entry replaced, added or dropped,
//!   a claim whose name reads as one of the templates' names for an ordinal); only those
//!   slots are recomputed. A sync that walks the namespace instead drops the tally.
//! * the tally is used only where nothing else is read (`StatefulSetControl::update_statefulset`
//!   says when): minReadySeconds ≤ 0 (availability does not depend on `now`), every
//!   claimed pod in its own slot under its canonical name (no placeholders, no condemned
//!   pods, no two pods for one ordinal), nothing to adopt or release.
//! * debug builds compare every tally brought up from marks with one rebuilt from every pod.

use super::{ControlledBy, PodView, RevisionId, SetMemo};
use crate::api::StatefulSet;
use crate::api::key_ref::cmp_str;
use crate::control::statefulset::retention::Retention;
use crate::control::statefulset::status::ReplicaStatus;
use crate::control::statefulset::utils::{get_pod_name, is_dashed_name};
use crate::time::SimTime;
use std::collections::BTreeSet;

/// What the entries of a tally were computed for, besides the pods and claims.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TallyParams {
    pub start: i32,
    pub replicas: i32,
    pub current_revision: RevisionId,
    pub update_revision: RevisionId,
    pub policy: Retention,
}

/// The slot holds a claimed pod under the ordinal's canonical name.
const FILLED: u16 = 1;
/// `processReplica` would run its checks (the pass's quick test fails).
const UNSETTLED: u16 = 1 << 1;
/// `computeReplicaStatus`'s five counts.
const CREATED: u16 = 1 << 2;
const READY: u16 = 1 << 3;
const AVAILABLE: u16 = 1 << 4;
const CURRENT: u16 = 1 << 5;
const UPDATED: u16 = 1 << 6;
/// The rolling update would replace the pod (`needs_update`: an old revision, not
/// terminating).
const NEEDS_UPDATE: u16 = 1 << 7;
/// `isUnavailable` with minReadySeconds ≤ 0.
const UNAVAILABLE: u16 = 1 << 8;

/// Who claims a pod, counted over the set's namespace: what `ClaimPods` would do
/// without running it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Census {
    /// Pods the set controls and that match: `ClaimPods` returns them without a write.
    pub owned: usize,
    /// Orphans that match (adopted) and pods the set controls that no longer match
    /// (released): with none, `ClaimPods` writes nothing and returns the owned pods.
    pub special: usize,
}

impl Census {
    /// The census of `views`, every pod of the namespace.
    pub fn of(views: &[PodView]) -> Self {
        let mut census = Census::default();
        for v in views {
            census.add(v, 1);
        }
        census
    }

    /// Counts `view` in (`sign` 1) or out (`sign` −1).
    pub fn add(&mut self, view: &PodView, sign: isize) {
        let f = &view.facts;
        match (f.controlled_by, f.matches) {
            (ControlledBy::ThisSet, true) => {
                self.owned = self.owned.wrapping_add_signed(sign);
            }
            (ControlledBy::ThisSet, false) | (ControlledBy::None, true) => {
                self.special = self.special.wrapping_add_signed(sign);
            }
            _ => {}
        }
    }
}

/// Whether `view` is a pod `ClaimPods` returns for the set without a write.
#[inline]
pub fn is_owned(view: &PodView) -> bool {
    view.facts.controlled_by == ControlledBy::ThisSet && view.facts.matches
}

/// The kept slots of one set (see the module notes).
#[derive(Debug, PartialEq, Eq)]
pub struct Tally {
    params: TallyParams,
    /// `flags[i]` for ordinal `start + i`.
    flags: Vec<u16>,
    /// Slots with [`FILLED`].
    pub filled: usize,
    /// The sums of the five counts over the slots.
    pub counts: ReplicaStatus,
    /// Slots with [`UNSETTLED`], [`NEEDS_UPDATE`], [`UNAVAILABLE`].
    pub unsettled: BTreeSet<u32>,
    pub needs_update: BTreeSet<u32>,
    pub unavailable: BTreeSet<u32>,
}

impl Tally {
    fn new(params: TallyParams) -> Self {
        Tally {
            params,
            flags: vec![0; params.replicas.max(0) as usize],
            filled: 0,
            counts: ReplicaStatus::default(),
            unsettled: BTreeSet::new(),
            needs_update: BTreeSet::new(),
            unavailable: BTreeSet::new(),
        }
    }

    /// Whether every slot holds its pod (and, with a census of `owned` pods, no claimed
    /// pod is outside the slots).
    pub fn holds_all(&self, owned: usize) -> bool {
        self.filled == self.flags.len() && owned == self.filled
    }

    /// Sets slot `i`'s entry to `flags`, moving its counts and set memberships.
    fn set(&mut self, i: usize, flags: u16) {
        let old = std::mem::replace(&mut self.flags[i], flags);
        if old == flags {
            return;
        }
        self.count(old, -1);
        self.count(flags, 1);
        let at = i as u32;
        for (bit, set) in [
            (UNSETTLED, &mut self.unsettled),
            (NEEDS_UPDATE, &mut self.needs_update),
            (UNAVAILABLE, &mut self.unavailable),
        ] {
            if flags & bit != 0 {
                set.insert(at);
            } else {
                set.remove(&at);
            }
        }
    }

    fn count(&mut self, flags: u16, sign: i32) {
        let n = |bit: u16| sign * i32::from(flags & bit != 0);
        self.filled = self.filled.wrapping_add_signed(n(FILLED) as isize);
        let c = &mut self.counts;
        c.replicas += n(CREATED);
        c.ready_replicas += n(READY);
        c.available_replicas += n(AVAILABLE);
        c.current_replicas += n(CURRENT);
        c.updated_replicas += n(UPDATED);
    }
}

impl SetMemo {
    /// Brings the kept tally up to `views` (the pods of this sync, which the memo lent
    /// out) for `params`: from the noted ordinals if it was kept for the same parameters,
    /// else rebuilt from every pod. `set` is the memo's set.
    pub fn bring_tally_up(&mut self, set: &StatefulSet, views: &[PodView], params: TallyParams) {
        let dirty = std::mem::take(&mut self.dirty);
        match self.tally.take() {
            Some(mut tally) if tally.params == params => {
                let mut dirty = dirty;
                dirty.sort_unstable();
                dirty.dedup();
                for ordinal in dirty {
                    let i = i64::from(ordinal) - i64::from(params.start);
                    if i < 0 || i >= i64::from(params.replicas) {
                        continue;
                    }
                    let flags = match find_slot(set, views, ordinal) {
                        Some(view) => self.slot_flags(set, view, &params),
                        None => 0,
                    };
                    tally.set(i as usize, flags);
                }
                #[cfg(debug_assertions)]
                {
                    let fresh = self.build_tally(set, views, params);
                    assert_eq!(tally, fresh, "the kept tally differs from a rebuilt one");
                }
                self.tally = Some(tally);
            }
            _ => self.tally = Some(self.build_tally(set, views, params)),
        }
    }

    /// The tally brought up by [`SetMemo::bring_tally_up`] in this sync.
    pub fn tally(&self) -> &Tally {
        self.tally.as_ref().expect("bring_tally_up ran")
    }

    /// Drops the tally (a pass that does not use it does not keep it up to date).
    pub fn drop_tally(&mut self) {
        self.tally = None;
        self.dirty.clear();
    }

    /// The tally of `views` for `params`, from every pod.
    fn build_tally(&mut self, set: &StatefulSet, views: &[PodView], params: TallyParams) -> Tally {
        let mut tally = Tally::new(params);
        for view in views {
            if !is_owned(view) {
                continue;
            }
            let ordinal = view.facts.ordinal;
            let i = i64::from(ordinal) - i64::from(params.start);
            // Only the pod of the ordinal's canonical name holds a slot here (another
            // spelling, as `web-01`, leaves the census's owned pods above the filled
            // slots, and the tally unused).
            if i < 0
                || i >= i64::from(params.replicas)
                || !(view.facts.identity_matches
                    || is_dashed_name(&view.pod.metadata.name, &[&set.metadata.name], ordinal))
            {
                continue;
            }
            let flags = self.slot_flags(set, view, &params);
            tally.set(i as usize, flags);
        }
        tally
    }

    /// The entry of a slot holding `view`, a claimed pod of its ordinal: the tests of
    /// `processReplica`'s quick path (`StatefulSetControl::process_replica`),
    /// `computeReplicaStatus`, `needs_update` and `isUnavailable`, with minReadySeconds ≤ 0
    /// (so `now` is not read).
    fn slot_flags(&mut self, set: &StatefulSet, view: &PodView, params: &TallyParams) -> u16 {
        let f = &view.facts;
        if !is_owned(view) {
            return 0;
        }
        let mut flags = FILLED;
        let settled = f.is_settled() && {
            let claims = self.claim_checks(set, view, params.policy, false);
            claims.match_retention_policy && (!f.is_pending() || claims.settled)
        };
        let bit = |on: bool, bit: u16| if on { bit } else { 0 };
        // Any instant: availability with minReadySeconds ≤ 0 does not read it.
        let now = SimTime::ZERO;
        flags |= bit(!settled, UNSETTLED);
        flags |= bit(f.is_created(), CREATED);
        flags |= bit(f.is_running_and_ready(), READY);
        flags |= bit(
            f.is_running_and_ready() && f.is_running_and_available(0, now),
            AVAILABLE,
        );
        let counted = f.is_created() && !f.is_terminating();
        flags |= bit(counted && f.revision == params.current_revision, CURRENT);
        flags |= bit(counted && f.revision == params.update_revision, UPDATED);
        flags |= bit(
            f.revision != params.update_revision && !f.is_terminating(),
            NEEDS_UPDATE,
        );
        flags |= bit(f.is_unavailable(0, now), UNAVAILABLE);
        flags
    }
}

/// The claimed pod of `ordinal` under its canonical name in `views` (name order), if any.
pub fn find_slot<'v>(set: &StatefulSet, views: &'v [PodView], ordinal: i32) -> Option<&'v PodView> {
    let name = get_pod_name(set, ordinal);
    let at = views
        .binary_search_by(|v| cmp_str(&v.pod.metadata.name, &name))
        .ok()?;
    let view = &views[at];
    (is_owned(view) && view.facts.ordinal == ordinal).then_some(view)
}
