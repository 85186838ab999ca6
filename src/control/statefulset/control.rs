//! One reconcile pass of a StatefulSet, ported from upstream
//! `stateful_set_control.go`: choose revisions, count status, split pods into in-range
//! `replicas` (placeholders for missing ordinals) and out-of-range `condemned`, then process
//! the replicas (create, replace failed pods, wait, repair: R-6), fix claim refs of and
//! delete condemned pods, and finally run the update strategy, writing status
//! and truncating history at the end.
//!
//! Determinism: upstream's Parallel mode runs each slow-start batch concurrently; here the
//! calls of a batch run one after another in ascending index order (ascending ordinal for
//! replicas, descending ordinal for condemned pods). Every call reads only the pass's
//! snapshot, so the order is only visible in the order of API writes.
//!
//! Besides acting, a pass records in plain sentences why it held back ("why it waits"); the
//! controller shell turns those into timeline notes.
//!
//! Speed (not upstream): a Parallel pass whose every replica slot holds its pod and that
//! has no condemned pod runs from the memo's kept tally of the slots
//! (`kept.rs`, `memo::tally`): the same calls, writes and status, with the
//! per-pod loops replaced by the few slots that changed since the last sync.

use super::StatefulSetConfig;
use super::memo::{AppliedSet, ClaimChecks, PodView, RevisionId, is_owned};
use super::pod_control::StatefulPodControl;
use super::retention::{Retention, retention};
use super::revision::{
    get_stateful_set_revisions, list_revisions, sort_controller_revisions, truncate_history,
};
use super::status::{update_stateful_set_status, update_status};
use super::utils::{
    aggregate, allows_burst, get_end_ordinal, get_start_ordinal, get_stateful_set_max_unavailable,
    new_versioned_stateful_set_pod, ordinal_in_range,
};
use crate::api::statefulset::{StatefulSetStatus, names};
use crate::api::{ControllerRevision, StatefulSet};
use crate::time::SimTime;
use std::cmp::Reverse;
use std::rc::Rc;

mod kept;
#[cfg(test)]
pub use kept::KEPT_PASSES;

/// Upstream `MaxBatchSize`: at most this many calls of one slow-start batch.
pub const MAX_BATCH_SIZE: usize = 500;

/// Upstream `defaultStatefulSetControl` for one sync.
pub struct StatefulSetControl<'a, 'c> {
    pub pod_control: StatefulPodControl<'a, 'c>,
    config: &'a StatefulSetConfig,
    /// The single instant of this sync (v1.36: one `now` for every availability check).
    now: SimTime,
    /// Why the pass held back, in plain sentences, in the order met.
    waits: Vec<String>,
}

/// The pods `ClaimPods` returns for a set (`getPodsForStatefulSet`), with their facts.
pub enum ClaimedPods<'v> {
    /// The list it returned.
    Listed(Vec<&'v PodView>),
    /// Every pod of the namespace (name order), when the memo's census shows that claiming
    /// them writes nothing: the claimed pods are then the ones the set controls and that
    /// match, listed only if a step needs the list (a pass from the kept tally does not).
    Owned(&'v [PodView]),
}

impl<'v> ClaimedPods<'v> {
    /// The claimed pods, in name order.
    pub fn into_list(self) -> Vec<&'v PodView> {
        match self {
            ClaimedPods::Listed(list) => list,
            ClaimedPods::Owned(views) => views.iter().filter(|v| is_owned(v)).collect(),
        }
    }

    /// [`ClaimedPods::into_list`] in place.
    fn list(&mut self) -> &[&'v PodView] {
        if let ClaimedPods::Owned(views) = *self {
            *self = ClaimedPods::Listed(ClaimedPods::Owned(views).into_list());
        }
        match self {
            ClaimedPods::Listed(list) => list,
            ClaimedPods::Owned(_) => unreachable!("listed above"),
        }
    }
}

/// The pods of one pass by role, and what every step of the pass needs to know. Pods come
/// with their facts (`memo`), which the pass's checks read.
struct Pass<'p> {
    set: &'p StatefulSet,
    /// The set with the update revision's template (built when first used).
    update_set: &'p AppliedSet<'p>,
    /// The update revision, by its number in the memo (pod revisions are compared so).
    update_revision: RevisionId,
    /// The set's claim retention policy.
    retention: Retention,
    monotonic: bool,
    /// `replicas[i]` is ordinal `start + i`: the claimed pod, or a placeholder. Empty in a
    /// pass from the kept tally (`update_statefulset_kept`), which finds the few replicas
    /// it reads through the tally and runs no step that reads these lists.
    replicas: Vec<&'p PodView>,
    /// Claimed pods with a valid ordinal outside the range, highest ordinal first.
    condemned: Vec<&'p PodView>,
    /// Name of upstream's `firstUnavailablePod` (names are unique, pointers are not here).
    first_unavailable_pod: Option<String>,
}

impl Pass<'_> {
    /// The slot the rolling update starts at: the partition (0 without `rollingUpdate`).
    fn update_min(&self) -> i64 {
        let ru = self.set.spec.update_strategy.rolling_update.as_ref();
        i64::from(ru.map_or(0, |ru| ru.partition.unwrap_or(0)))
    }

    /// The highest pod below slot `below` that the rolling update would still delete.
    fn pending_update(&self, below: usize) -> Option<&str> {
        if self.set.spec.update_strategy.type_ != names::ROLLING_UPDATE {
            return None;
        }
        let from = self.update_min().clamp(0, below as i64) as usize;
        self.replicas[from..below]
            .iter()
            .rev()
            .find(|p| self.needs_update(p))
            .map(|p| p.pod.metadata.name.as_str())
    }

    /// Whether the rolling update would replace `pod`: an old revision, not terminating.
    fn needs_update(&self, pod: &PodView) -> bool {
        pod.facts.revision != self.update_revision && !pod.facts.is_terminating()
    }

    /// What a monotonic stop at replica slot `i` holds back, if anything.
    fn blocked_after_replica(&self, i: usize) -> Option<String> {
        if let Some(p) = self.replicas[i + 1..]
            .iter()
            .find(|p| !p.facts.is_created())
        {
            return Some(format!("creating {}", p.pod.metadata.name));
        }
        if let Some(p) = self.condemned.first() {
            return Some(format!("deleting {}", p.pod.metadata.name));
        }
        self.pending_update(self.replicas.len())
            .map(|name| format!("updating {name}"))
    }

    /// What a monotonic stop at condemned pod `i` holds back, if anything.
    fn blocked_after_condemned(&self, i: usize) -> Option<String> {
        if let Some(p) = self.condemned.get(i + 1) {
            return Some(format!("deleting {}", p.pod.metadata.name));
        }
        self.pending_update(self.replicas.len())
            .map(|name| format!("updating {name}"))
    }
}

/// What an `updateStatefulSet`-shaped step returns: upstream's
/// `(*StatefulSetStatus, error)`, with the error kept as its parts (an aggregate).
type StepResult = (Option<StatefulSetStatus>, Vec<String>);

/// What `performUpdate` returns: the current and update revisions (for history
/// truncation), the status, and the errors.
type UpdateResult = (
    Option<Rc<ControllerRevision>>,
    Option<Rc<ControllerRevision>>,
    Option<StatefulSetStatus>,
    Vec<String>,
);

impl<'a, 'c> StatefulSetControl<'a, 'c> {
    pub fn new(pod_control: StatefulPodControl<'a, 'c>, config: &'a StatefulSetConfig) -> Self {
        let now = pod_control.now();
        StatefulSetControl {
            pod_control,
            config,
            now,
            waits: Vec::new(),
        }
    }

    /// The minReadySeconds the "unavailable" of the update and scale-down decisions uses:
    /// the set's from v1.34 (PR #130909, `isUnavailable`); before, those decisions used
    /// `isHealthy` (Running, Ready, not terminating) and ignored minReadySeconds, which is
    /// `isUnavailable` with 0 (issues #112307, #119234).
    fn health_min_ready(&self, set: &StatefulSet) -> i32 {
        if self.config.update_waits_for_availability {
            set.spec.min_ready_seconds
        } else {
            0
        }
    }

    /// The reasons this pass held back, for the timeline.
    pub fn take_waits(&mut self) -> Vec<String> {
        std::mem::take(&mut self.waits)
    }

    fn wait(&mut self, reason: String) {
        self.waits.push(reason);
    }

    // Port of upstream `UpdateStatefulSet` (R-5.1 steps 1 and 15): history is truncated even
    // when the pass failed. Returns the computed status (used for the minReadySeconds
    // requeue even when it was not written).
    pub fn update_stateful_set(
        &mut self,
        set: &StatefulSet,
        mut pods: ClaimedPods<'_>,
    ) -> Result<StatefulSetStatus, String> {
        let mut revisions = list_revisions(self.pod_control.cache, set);
        sort_controller_revisions(&mut revisions);
        // The pods' revisions, for `truncateHistory` below: read now, as the pass takes
        // the pods (the pass does not change them). They only decide which revisions are
        // old, and with no more revisions than `revisionHistoryLimit` (or a negative one)
        // none is deleted whatever they are: only then are they looked up.
        let limit = set.spec.revision_history_limit.unwrap_or(10);
        let pod_revisions = if limit >= 0 && revisions.len() > limit as usize {
            self.pod_control.memo.revision_names(pods.list())
        } else {
            Vec::new()
        };
        let (current, update, status, mut errs) = self.perform_update(set, pods, &mut revisions);
        let truncated = truncate_history(
            &mut self.pod_control.client(),
            set,
            &pod_revisions,
            &revisions,
            current.as_deref(),
            update.as_deref(),
        );
        if !errs.is_empty() {
            errs.extend(truncated.err());
            return Err(aggregate(errs).err().unwrap_or_default());
        }
        truncated?;
        Ok(status.expect("performUpdate returns a status whenever it returns no error"))
    }

    // Port of upstream `performUpdate`: the status is written even when the pass failed
    // (if one was computed); the pass's error wins over the status write's.
    fn perform_update(
        &mut self,
        set: &StatefulSet,
        pods: ClaimedPods<'_>,
        revisions: &mut [Rc<ControllerRevision>],
    ) -> UpdateResult {
        let (mut client, memo) = self.pod_control.client_and_memo();
        let revs = get_stateful_set_revisions(&mut client, set, revisions, &mut memo.history);
        let (current, update, collision_count) = match revs {
            Ok(r) => r,
            Err(e) => return (None, None, None, vec![e]),
        };
        let (status, errs) = self.update_statefulset(set, &current, &update, collision_count, pods);
        let Some(mut status) = status else {
            return (Some(current), Some(update), None, errs);
        };
        let status_err = update_stateful_set_status(
            &mut self.pod_control.client(),
            set,
            &mut status,
            self.config.on_delete_completes_update,
        );
        let errs = match (errs.is_empty(), status_err) {
            (false, _) => errs,
            (true, Err(e)) => vec![e],
            (true, Ok(())) => errs,
        };
        (Some(current), Some(update), Some(status), errs)
    }

    // Port of upstream `updateStatefulSet` (R-5.1 steps 2–14).
    fn update_statefulset(
        &mut self,
        set: &StatefulSet,
        current_revision: &Rc<ControllerRevision>,
        update_revision: &Rc<ControllerRevision>,
        collision_count: i32,
        pods: ClaimedPods<'_>,
    ) -> StepResult {
        let history = &mut self.pod_control.memo.history;
        let (current_set, update_set) = match (
            history.applied_revision(set, current_revision),
            history.applied_revision(set, update_revision),
        ) {
            (Ok(c), Ok(u)) => (c, u),
            (Err(e), _) | (_, Err(e)) => return (None, vec![e]),
        };
        let (cur, upd) = (
            current_revision.metadata.name.as_str(),
            update_revision.metadata.name.as_str(),
        );
        let min_ready = set.spec.min_ready_seconds;
        let now = self.now;
        let mut status = StatefulSetStatus {
            observed_generation: set.metadata.generation,
            current_revision: cur.into(),
            update_revision: upd.into(),
            collision_count: Some(collision_count),
            ..Default::default()
        };
        let memo = &mut *self.pod_control.memo;
        let (cur_id, upd_id) = (memo.revisions.id(cur), memo.revisions.id(upd));
        let being_deleted = set.metadata.deletion_timestamp.is_some();
        if let ClaimedPods::Owned(views) = pods
            && !being_deleted
            && self.kept_tally_holds(set, views, cur_id, upd_id)
        {
            return self.update_statefulset_kept(set, &update_set, upd_id, views, status);
        }
        let pods = pods.into_list();
        let memo = &mut *self.pod_control.memo;
        // Upstream counts the pods here, but every path below recounts before it returns
        // (`recount`), except the one for a set being deleted: only that one needs this
        // count, so only it pays for it (one pass over every pod less per sync).
        if being_deleted {
            update_status(&mut status, min_ready, cur_id, upd_id, now, &[&pods]);
        }

        // Partition pods into in-range slots and condemned ones; pods whose ordinal cannot
        // be parsed are ignored (R-5.1 step 3).
        let (start, end) = (get_start_ordinal(set), get_end_ordinal(set));
        // `slots[i]`: the pod of ordinal `start + i`, if any (the last in name order).
        let mut slots: Vec<Option<&PodView>> = vec![None; set.replicas().max(0) as usize];
        let mut filled = 0;
        let mut condemned = Vec::new();
        for &pod in &pods {
            let ordinal = pod.facts.ordinal;
            // `ordinal_in_range`.
            if ordinal >= start && ordinal <= end {
                filled += usize::from(slots[(ordinal - start) as usize].replace(pod).is_none());
            } else if ordinal >= 0 {
                condemned.push(pod);
            }
        }
        // Placeholders for the empty slots, made in slot order and kept here for the
        // pass to borrow (no walk over the slots when every one is filled).
        let placeholders: Vec<PodView> = (filled < slots.len())
            .then(|| slots.iter().zip(start..).filter(|(at, _)| at.is_none()))
            .into_iter()
            .flatten()
            .map(|(_, ord)| {
                let pod = new_versioned_stateful_set_pod(
                    current_set.get(),
                    update_set.get(),
                    cur,
                    upd,
                    ord,
                );
                let facts = memo.facts(&pod, set);
                PodView {
                    pod: Rc::new(pod),
                    facts,
                }
            })
            .collect();
        let mut placeholder = placeholders.iter();
        let replicas: Vec<&PodView> = slots
            .into_iter()
            .map(|at| at.unwrap_or_else(|| placeholder.next().expect("one per empty slot")))
            .collect();
        condemned.sort_by_key(|p| Reverse(p.facts.ordinal));

        // The first unavailable pod: in-range slots upwards, then condemned pods from the
        // lowest ordinal up (R-5.1 step 6).
        let health_min_ready = self.health_min_ready(set);
        let unavailable = |p: &&&PodView| p.facts.is_unavailable(health_min_ready, now);
        let first_unavailable_pod = replicas
            .iter()
            .find(unavailable)
            .or_else(|| condemned.iter().rev().find(unavailable))
            .map(|p| p.pod.metadata.name.clone());

        if being_deleted {
            self.wait("the StatefulSet is being deleted: no pod is created or deleted".into());
            return (Some(status), Vec::new());
        }

        let pass = Pass {
            set,
            update_set: &update_set,
            update_revision: upd_id,
            retention: retention(set),
            monotonic: !allows_burst(set),
            replicas,
            condemned,
            first_unavailable_pod,
        };
        let monotonic = pass.monotonic;
        let recount = |status: &mut StatefulSetStatus, pass: &Pass| {
            update_status(
                status,
                min_ready,
                cur_id,
                upd_id,
                now,
                &[&pass.replicas, &pass.condemned],
            );
        };

        // Every in-range slot; in monotonic mode the first stop ends the pass.
        let (exit, errs) = run_for_all(pass.replicas.len(), monotonic, |i| {
            self.process_replica(&pass, i, pass.replicas[i])
        });
        if exit || !errs.is_empty() {
            recount(&mut status, &pass);
            return (Some(status), errs);
        }

        // Claims of condemned pods get their retention refs before any of them is deleted
        // so the garbage collector can follow the pod.
        let (exit, errs) = run_for_all(pass.condemned.len(), monotonic, |i| {
            let pod = &pass.condemned[i];
            if !self.claim_checks(&pass, pod).match_retention_policy {
                self.pod_control
                    .update_pod_claim_for_retention_policy(pass.update_set.get(), &pod.pod)?;
            }
            Ok(false)
        });
        if exit || !errs.is_empty() {
            recount(&mut status, &pass);
            return (Some(status), errs);
        }

        // Scale-down: in monotonic mode every replica is Running, Ready and available here.
        // Scaling takes precedence over updates.
        let (exit, errs) = run_for_all(pass.condemned.len(), monotonic, |i| {
            self.process_condemned(&pass, i)
        });
        if exit || !errs.is_empty() {
            recount(&mut status, &pass);
            return (Some(status), errs);
        }

        recount(&mut status, &pass);

        // OnDelete: pods are updated when someone deletes them.
        if set.spec.update_strategy.type_ == names::ON_DELETE {
            return (Some(status), Vec::new());
        }
        if self.config.max_unavailable_statefulset {
            return self.update_stateful_set_after_invariant_established(&pass, status);
        }
        self.rolling_update_one_at_a_time(&pass, status)
    }
    // The legacy rolling update of upstream `updateStatefulSet` (gate
    // `MaxUnavailableStatefulSet` off, R-11.2): from the highest slot down to the partition,
    // delete the first old-revision pod that is not terminating, else stop at the first
    // unavailable pod. One deletion per pass.
    fn rolling_update_one_at_a_time(
        &mut self,
        pass: &Pass,
        mut status: StatefulSetStatus,
    ) -> StepResult {
        let (set, min_ready, now) = (pass.set, self.health_min_ready(pass.set), self.now);
        let mut target = pass.replicas.len() as i64 - 1;
        while target >= pass.update_min() {
            let pod = &pass.replicas[target as usize];
            if pass.needs_update(pod) {
                if let Err(e) = self.pod_control.delete_stateful_pod(set, &pod.pod)
                    && !e.is_not_found()
                {
                    return (Some(status), vec![e.to_string()]);
                }
                status.current_replicas -= 1;
                return (Some(status), Vec::new());
            }
            if pod.facts.is_unavailable(min_ready, now) {
                if pass.pending_update(target as usize).is_some() {
                    let name = &pod.pod.metadata.name;
                    self.wait(if pod.facts.is_terminating() {
                        format!("rolling update waiting for {name} to terminate")
                    } else {
                        format!("rolling update waiting for {name} to become available")
                    });
                }
                return (Some(status), Vec::new());
            }
            target -= 1;
        }
        (Some(status), Vec::new())
    }

    // Port of upstream `updateStatefulSetAfterInvariantEstablished` (gate
    // `MaxUnavailableStatefulSet` on, R-11.3, v1.35/v1.36 behaviour): count unavailable
    // pods over all slots, and delete up to `maxUnavailable − unavailable` old-revision
    // pods from the highest slot down to the partition, whatever their health.
    fn update_stateful_set_after_invariant_established(
        &mut self,
        pass: &Pass,
        mut status: StatefulSetStatus,
    ) -> StepResult {
        let set = pass.set;
        let (min_ready, now) = (self.health_min_ready(set), self.now);
        let max_unavailable = match &set.spec.update_strategy.rolling_update {
            None => 1,
            // A value stored while the gate was off is honoured once it is on.
            Some(ru) => {
                match get_stateful_set_max_unavailable(ru.max_unavailable.as_ref(), set.replicas())
                {
                    Ok(n) => n as usize,
                    Err(e) => return (Some(status), vec![e]),
                }
            }
        };
        if self.config.parallel_max_unavailable_fix && !pass.monotonic {
            return self.update_parallel_two_phase(pass, status, max_unavailable);
        }
        let unavailable_pods = pass
            .replicas
            .iter()
            .filter(|p| p.facts.is_unavailable(min_ready, now))
            .count();
        let pods_to_delete = max_unavailable.saturating_sub(unavailable_pods);
        if pods_to_delete == 0 {
            if pass.pending_update(pass.replicas.len()).is_some() {
                self.wait(format!(
                    "rolling update waiting: {unavailable_pods} pods unavailable, maxUnavailable is {max_unavailable}"
                ));
            }
            return (Some(status), Vec::new());
        }
        let mut deleted_pods = 0;
        let mut target = pass.replicas.len() as i64 - 1;
        while target >= pass.update_min() && deleted_pods < pods_to_delete {
            let pod = &pass.replicas[target as usize];
            if pass.needs_update(pod) {
                if let Err(e) = self.pod_control.delete_stateful_pod(set, &pod.pod)
                    && !e.is_not_found()
                {
                    return (Some(status), vec![e.to_string()]);
                }
                deleted_pods += 1;
                status.current_replicas -= 1;
            }
            target -= 1;
        }
        (Some(status), Vec::new())
    }

    // The v1.37 Parallel path of upstream `updateStatefulSetAfterInvariantEstablished`
    // (PR #137666, fixing issue #137409; step 6), reconstructed from the PR text and
    // review: phase 1 deletes old-revision pods that are already unavailable, highest
    // first, at most `maxUnavailable` per pass, whatever the budget (replacing them does not
    // make availability worse); phase 2 deletes available old-revision pods within the
    // budget left, where old unavailable pods do not count against it but the phase-1
    // deletions of this pass do.
    fn update_parallel_two_phase(
        &mut self,
        pass: &Pass,
        mut status: StatefulSetStatus,
        max_unavailable: usize,
    ) -> StepResult {
        let set = pass.set;
        let (min_ready, now) = (self.health_min_ready(set), self.now);
        let counted = pass
            .replicas
            .iter()
            .filter(|p| p.facts.is_unavailable(min_ready, now) && !pass.needs_update(p))
            .count();
        let update_min = pass.update_min().max(0) as usize;
        let mut deleted = 0;
        for unavailable_phase in [true, false] {
            let budget = if unavailable_phase {
                max_unavailable
            } else {
                max_unavailable.saturating_sub(counted + deleted)
            };
            let mut deleted_here = 0;
            for pod in pass.replicas.iter().skip(update_min).rev() {
                if deleted_here >= budget {
                    break;
                }
                if !pass.needs_update(pod)
                    || pod.facts.is_unavailable(min_ready, now) != unavailable_phase
                {
                    continue;
                }
                if let Err(e) = self.pod_control.delete_stateful_pod(set, &pod.pod)
                    && !e.is_not_found()
                {
                    return (Some(status), vec![e.to_string()]);
                }
                deleted_here += 1;
                status.current_replicas -= 1;
            }
            deleted += deleted_here;
        }
        if deleted == 0 && pass.pending_update(pass.replicas.len()).is_some() {
            self.wait(format!(
                "rolling update waiting: {counted} pods unavailable, maxUnavailable is {max_unavailable}"
            ));
        }
        (Some(status), Vec::new())
    }

    // Port of upstream `processReplica`: the checks in upstream's order. Returns
    // whether a monotonic pass must stop here. The checks read the pod's facts (`memo`).
    //
    // Not upstream: in a burst pass, a replica that every check lets through (created,
    // neither Failed, Succeeded nor terminating, identity and storage matching, its claims
    // settled or the pod not Pending, their refs as the policy wants) is answered at once
    // from its facts and the memo's claim checks — the common case of a pass over a large
    // set, with no write, Event or wait. That test is inlined into the pass's loop; the
    // checks proper are `process_replica_checks`.
    #[inline]
    fn process_replica(&mut self, pass: &Pass, i: usize, view: &PodView) -> Result<bool, String> {
        if !pass.monotonic && view.facts.is_settled() {
            // A replica's ordinal is in range: it is not scaled down.
            debug_assert!(ordinal_in_range(view.facts.ordinal, pass.set));
            let claims = self
                .pod_control
                .memo
                .claim_checks(pass.set, view, pass.retention, false);
            if claims.match_retention_policy && (!view.facts.is_pending() || claims.settled) {
                return Ok(false);
            }
        }
        self.process_replica_checks(pass, i, view)
    }

    // The checks of upstream `processReplica`, in upstream's order, for `view`, the
    // replica of slot `i`.
    #[inline(never)]
    fn process_replica_checks(
        &mut self,
        pass: &Pass,
        i: usize,
        view: &PodView,
    ) -> Result<bool, String> {
        let (set, monotonic) = (pass.set, pass.monotonic);
        let (pod, facts) = (&*view.pod, &view.facts);
        let name = &pod.metadata.name;

        // Failed and Succeeded pods (e.g. evicted ones whose containers exited 0) are
        // deleted; the replacement comes on a later pass, once the object is gone.
        if facts.is_failed() || facts.is_succeeded() {
            if facts.is_terminating() {
                self.wait(format!("not replacing {name}: pod is terminating"));
            } else {
                self.pod_control
                    .delete_stateful_pod(set, pod)
                    .map_err(|e| e.to_string())?;
            }
            return Ok(true);
        }

        // A placeholder: create the claims, then the pod.
        if !facts.is_created() {
            if let Some(claim) = self.pod_control.pod_claim_is_stale(set, pod) {
                self.wait(format!(
                    "not creating {name}: claim {claim} still belongs to a previous {name}"
                ));
                return Ok(true);
            }
            self.pod_control.create_stateful_pod(set, pod)?;
            if monotonic {
                return Ok(true);
            }
        }

        // A Pending pod whose claim went away gets it back. When the memo shows
        // every claim there, usable and owned as the policy wants, that call would neither
        // write nor fail, and is skipped. (Both claim checks read the pass's snapshot, so
        // they are made once, before any write.)
        let claims = self.claim_checks(pass, view);
        if facts.is_pending() && !claims.settled {
            self.pod_control
                .create_missing_persistent_volume_claims(set, pod)?;
        }

        // OrderedReady waits.
        if facts.is_terminating() {
            if monotonic {
                self.wait(match pass.blocked_after_replica(i) {
                    Some(work) => format!("waiting for {name} to terminate before {work}"),
                    None => format!("not replacing {name}: pod is terminating"),
                });
                return Ok(true);
            }
            self.wait(format!("not replacing {name}: pod is terminating"));
        }
        if !facts.is_running_and_ready() && monotonic {
            if let Some(work) = pass.blocked_after_replica(i) {
                self.wait(format!(
                    "waiting for {name} to be Running and Ready before {work}"
                ));
            }
            return Ok(true);
        }
        if !facts.is_running_and_available(set.spec.min_ready_seconds, self.now) && monotonic {
            if let Some(work) = pass.blocked_after_replica(i) {
                self.wait(format!(
                    "waiting for {name} to be available (minReadySeconds {}) before {work}",
                    set.spec.min_ready_seconds
                ));
            }
            return Ok(true);
        }

        // Invariants: identity, storage and claim retention refs, repaired by an
        // update that does not stop the pass.
        let retention_match = claims.match_retention_policy;
        if facts.identity_matches && facts.storage_matches && retention_match {
            return Ok(false);
        }
        self.pod_control
            .update_stateful_pod(pass.update_set.get(), pod)?;
        Ok(false)
    }

    // Port of upstream `processCondemned`: highest ordinal first; in
    // monotonic mode wait for termination, and delete an unhealthy pod only if it is the
    // first unavailable pod.
    fn process_condemned(&mut self, pass: &Pass, i: usize) -> Result<bool, String> {
        let (set, monotonic) = (pass.set, pass.monotonic);
        let view = &pass.condemned[i];
        let (pod, facts) = (&*view.pod, &view.facts);
        let name = &pod.metadata.name;
        if facts.is_terminating() {
            if monotonic {
                self.wait(match pass.blocked_after_condemned(i) {
                    Some(work) => format!("waiting for {name} to terminate before {work}"),
                    None => format!("waiting for {name} to terminate"),
                });
                return Ok(true);
            }
            return Ok(false);
        }
        let first = pass.first_unavailable_pod.as_deref();
        let is_first = first == Some(name.as_str());
        let first = first.unwrap_or_default();
        if !facts.is_running_and_ready() && monotonic && !is_first {
            self.wait(format!(
                "scale-down halted: {name} is not Running and Ready and is not the first unavailable pod ({first})"
            ));
            return Ok(true);
        }
        if !facts.is_running_and_available(set.spec.min_ready_seconds, self.now)
            && monotonic
            && !is_first
        {
            self.wait(format!(
                "scale-down halted: {name} is not available (minReadySeconds {}) and is not the first unavailable pod ({first})",
                set.spec.min_ready_seconds
            ));
            return Ok(true);
        }
        self.pod_control
            .delete_stateful_pod(set, pod)
            .map_err(|e| e.to_string())?;
        Ok(true)
    }

    /// What the claims of a pod of the pass say (`memo`): upstream's
    /// `ClaimsMatchRetentionPolicy(updateSet, pod)`, and whether
    /// `createMissingPersistentVolumeClaims(set, pod)` would do nothing. The set and the
    /// update set differ only in the pod template, which neither reads.
    fn claim_checks(&mut self, pass: &Pass, pod: &PodView) -> ClaimChecks {
        let scaled_down = !ordinal_in_range(pod.facts.ordinal, pass.set);
        self.pod_control
            .memo
            .claim_checks(pass.set, pod, pass.retention, scaled_down)
    }
}

// Port of upstream `runForAll`: monotonic calls `f` in order and stops at the
// first stop or error; otherwise slow-start batches, where "stop" is ignored and an error
// ends the run after its batch. Returns (exit, errors).
fn run_for_all(
    n: usize,
    monotonic: bool,
    mut f: impl FnMut(usize) -> Result<bool, String>,
) -> (bool, Vec<String>) {
    if monotonic {
        for i in 0..n {
            match f(i) {
                Ok(false) => {}
                Ok(true) => return (true, Vec::new()),
                Err(e) => return (true, vec![e]),
            }
        }
        return (false, Vec::new());
    }
    let (_, errs) = slow_start_batch(1, n, f);
    (!errs.is_empty(), errs)
}

// Port of upstream `slowStartBatch`: batches of 1, 2, 4, … (at most `MAX_BATCH_SIZE`); all
// calls of a batch run (in ascending index order, see the module notes), and a batch with
// errors ends the run. Returns (successes, errors).
fn slow_start_batch(
    initial_batch_size: usize,
    mut remaining: usize,
    mut f: impl FnMut(usize) -> Result<bool, String>,
) -> (usize, Vec<String>) {
    let mut successes = 0;
    let mut next = 0;
    let mut batch_size = remaining.min(initial_batch_size);
    while batch_size > 0 {
        let mut errs = Vec::new();
        for k in next..next + batch_size {
            // The "stop" answer only matters to monotonic runs.
            if let Err(e) = f(k) {
                errs.push(e);
            }
        }
        next += batch_size;
        successes += batch_size - errs.len();
        if !errs.is_empty() {
            return (successes, errs);
        }
        remaining -= batch_size;
        batch_size = (2 * batch_size).min(remaining).min(MAX_BATCH_SIZE);
    }
    (successes, Vec::new())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slow_start_batch_doubles_and_stops_after_a_failed_batch() {
        let mut calls = Vec::new();
        let (ok, errs) = slow_start_batch(1, 10, |i| {
            calls.push(i);
            Ok(true)
        });
        assert_eq!((ok, errs.len(), calls.len()), (10, 0, 10));
        // Batches 1, 2, 4: an error in the third batch still runs the whole batch.
        let mut calls = Vec::new();
        let (ok, errs) = slow_start_batch(1, 20, |i| {
            calls.push(i);
            if i == 4 {
                Err("boom".into())
            } else {
                Ok(false)
            }
        });
        assert_eq!(calls, (0..7).collect::<Vec<_>>());
        assert_eq!((ok, errs), (6, vec!["boom".to_string()]));
        // A large run calls every index once, in ascending order.
        let mut calls = Vec::new();
        let (ok, _) = slow_start_batch(1, 2000, |i| {
            calls.push(i);
            Ok(false)
        });
        assert_eq!(ok, 2000);
        assert_eq!(calls, (0..2000).collect::<Vec<_>>());
    }

    #[test]
    fn run_for_all_monotonic_stops_at_first_stop() {
        let mut calls = Vec::new();
        let (exit, errs) = run_for_all(5, true, |i| {
            calls.push(i);
            Ok(i == 2)
        });
        assert!(exit && errs.is_empty());
        assert_eq!(calls, [0, 1, 2]);
        let mut calls = Vec::new();
        let (exit, _) = run_for_all(5, false, |i| {
            calls.push(i);
            Ok(true)
        });
        assert!(!exit, "burst mode ignores stop");
        assert_eq!(calls, [0, 1, 2, 3, 4]);
    }
}
