//! The facts a pass reads from a pod ([`PodFacts`]), computed once per pod object by the
//! same helpers (`utils`) the upstream ports call, and the predicates a pass asks of them,
//! which repeat those helpers' formulas.

use crate::api::{Pod, StatefulSet};
use crate::control::statefulset::utils::{
    get_ordinal, get_pod_revision, identity_matches, is_available, is_created, is_failed,
    is_member_of, is_pending, is_running_and_ready, is_succeeded, is_terminating, ready_since,
    storage_matches,
};
use crate::time::SimTime;
use std::rc::Rc;

/// A revision label value by number (see [`RevisionNames`]).
pub type RevisionId = u32;

/// The `revision` of the facts of a pod the set cannot claim: no label's number.
const NO_REVISION: RevisionId = RevisionId::MAX;

/// The distinct revision label values seen, numbered in order of appearance: two labels
/// have the same number exactly when they are the same string, so a pass compares every
/// pod's revision with the current and update revisions as numbers.
#[derive(Debug, Default)]
pub struct RevisionNames(Vec<String>);

impl RevisionNames {
    /// The number of `name`, given one if new.
    pub fn id(&mut self, name: &str) -> RevisionId {
        match self.0.iter().position(|n| n == name) {
            Some(i) => i as RevisionId,
            None => {
                self.0.push(name.to_string());
                (self.0.len() - 1) as RevisionId
            }
        }
    }

    pub fn name(&self, id: RevisionId) -> &str {
        &self.0[id as usize]
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }
}

/// Who the pod's controller ownerRef (`metav1.GetControllerOf`) points to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ControlledBy {
    /// No controller: an orphan.
    None,
    /// A controller ref with the set's uid.
    ThisSet,
    /// A controller ref with another uid.
    Other,
}

/// What a pass reads from one pod, for one set (see the module notes of `memo`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PodFacts {
    /// `getOrdinal`.
    pub ordinal: i32,
    /// The set's selector matches the labels and `isMemberOf` (what `ClaimPods` matches).
    pub matches: bool,
    pub controlled_by: ControlledBy,
    /// `identityMatches` and `storageMatches`.
    pub identity_matches: bool,
    pub storage_matches: bool,
    /// `getPodRevision`.
    pub revision: RevisionId,
    /// `isCreated`, `isPending`, `isFailed`, `isSucceeded`, `isTerminating`,
    /// `isRunningAndReady`.
    created: bool,
    pending: bool,
    failed: bool,
    succeeded: bool,
    terminating: bool,
    running_and_ready: bool,
    /// `podutil.IsPodReady`, and the Ready condition's lastTransitionTime: what
    /// `isRunningAndAvailable` reads from the pod.
    ready: bool,
    ready_since: Option<SimTime>,
    /// [`PodFacts::is_settled`], computed with the rest (a pass asks it of every replica).
    settled: bool,
}

impl PodFacts {
    /// The facts of `pod` for `set`, computed afresh. A pod the set cannot claim (see
    /// [`PodFacts::is_claimable`]) gets only `controlled_by`, and `matches` unless another
    /// owner controls it (`ClaimPods` ignores such a pod before matching it).
    pub fn of(pod: &Pod, set: &StatefulSet, revisions: &mut RevisionNames) -> Self {
        let controlled_by = match pod.metadata.controller_ref() {
            None => ControlledBy::None,
            Some(r) if r.uid == set.metadata.uid => ControlledBy::ThisSet,
            Some(_) => ControlledBy::Other,
        };
        if controlled_by == ControlledBy::Other {
            return PodFacts::unclaimable(controlled_by, false);
        }
        let matches = set.spec.selector.matches(&pod.metadata.labels) && is_member_of(set, pod);
        if !matches {
            return PodFacts::unclaimable(controlled_by, matches);
        }
        let mut facts = PodFacts {
            ordinal: get_ordinal(pod),
            matches,
            controlled_by,
            identity_matches: identity_matches(set, pod),
            storage_matches: storage_matches(set, pod),
            revision: revisions.id(get_pod_revision(pod)),
            created: is_created(pod),
            pending: is_pending(pod),
            failed: is_failed(pod),
            succeeded: is_succeeded(pod),
            terminating: is_terminating(pod),
            running_and_ready: is_running_and_ready(pod),
            ready: pod.is_ready(),
            ready_since: ready_since(pod),
            settled: false,
        };
        facts.settled = facts.created
            && !facts.failed
            && !facts.succeeded
            && !facts.terminating
            && facts.identity_matches
            && facts.storage_matches;
        facts
    }

    /// The facts of a pod that `ClaimPods` can never return for the set: one controlled by
    /// another owner (ignored, `matches` false without matching) or one that does not match
    /// (ignored, or released if the set controls it). Claiming reads only `controlled_by`
    /// and `matches` of such a pod, and a
    /// pass never sees it, so the rest — most of the cost of [`PodFacts::of`] (the revision
    /// label's number above all, which in a namespace shared by many sets would number
    /// every other set's revisions too) — is not computed; the other fields hold neutral
    /// values that no one reads.
    ///
    /// Why it matters: a set's memo holds facts for every pod of its namespace, and in a
    /// namespace of many sets most pods that changed since a set's last sync are other
    /// sets' pods.
    fn unclaimable(controlled_by: ControlledBy, matches: bool) -> Self {
        debug_assert!(controlled_by == ControlledBy::Other || !matches);
        PodFacts {
            ordinal: -1,
            matches,
            controlled_by,
            identity_matches: false,
            storage_matches: false,
            revision: NO_REVISION,
            created: false,
            pending: false,
            failed: false,
            succeeded: false,
            terminating: false,
            running_and_ready: false,
            ready: false,
            ready_since: None,
            settled: false,
        }
    }

    /// Whether `ClaimPods` can return this pod for the set (it matches the set's selector
    /// and name and no other owner controls it): only such pods have all their facts.
    #[inline]
    pub fn is_claimable(&self) -> bool {
        self.matches && self.controlled_by != ControlledBy::Other
    }

    /// `isCreated`.
    #[inline]
    pub fn is_created(&self) -> bool {
        self.created
    }

    /// `isPending`.
    #[inline]
    pub fn is_pending(&self) -> bool {
        self.pending
    }

    /// `isFailed`.
    #[inline]
    pub fn is_failed(&self) -> bool {
        self.failed
    }

    /// `isSucceeded`.
    #[inline]
    pub fn is_succeeded(&self) -> bool {
        self.succeeded
    }

    /// `isTerminating`.
    #[inline]
    pub fn is_terminating(&self) -> bool {
        self.terminating
    }

    /// `isRunningAndReady`.
    #[inline]
    pub fn is_running_and_ready(&self) -> bool {
        self.running_and_ready
    }

    /// `isRunningAndAvailable` (see [`is_available`]).
    #[inline]
    pub fn is_running_and_available(&self, min_ready_seconds: i32, now: SimTime) -> bool {
        is_available(self.ready, self.ready_since, min_ready_seconds, now)
    }

    /// Created, neither Failed, Succeeded nor terminating, and with identity and storage
    /// matching the set: what `processReplica` needs of a pod to have nothing to do
    /// (besides its claims, and readiness in a monotonic pass).
    #[inline]
    pub fn is_settled(&self) -> bool {
        self.settled
    }

    /// `isUnavailable` (v1.34+, PR #130909): terminating, or not Running, Ready and
    /// available. Placeholders (empty phase) are unavailable.
    #[inline]
    pub fn is_unavailable(&self, min_ready_seconds: i32, now: SimTime) -> bool {
        self.is_terminating()
            || !self.is_running_and_ready()
            || !self.is_running_and_available(min_ready_seconds, now)
    }
}

/// A pod of the pass with its facts.
#[derive(Clone, Debug)]
pub struct PodView {
    pub pod: Rc<Pod>,
    pub facts: PodFacts,
}
