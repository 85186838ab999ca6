//! The pass of upstream `updateStatefulSet` run from the kept tally of a Parallel set's
//! slots (`memo::tally`), a speed path of this port, not upstream code: the same calls,
//! writes, waits and status as the full pass in `control.rs`, with its per-pod loops (the
//! partition, `processReplica`'s quick test, `updateStatus`'s recount, the rolling
//! update's scan) replaced by the few slots whose pods or claims changed since the last
//! sync. `kept_tally_holds` says when a pass may take it; every other pass is the full one.
//! Debug builds check every tally brought up from the change marks against one rebuilt
//! from every pod (`memo::tally`).

use super::{MAX_BATCH_SIZE, Pass, StatefulSetControl, StepResult};
use crate::api::StatefulSet;
use crate::api::statefulset::{StatefulSetStatus, names};
use crate::control::statefulset::memo::{AppliedSet, PodView, RevisionId, TallyParams, find_slot};
use crate::control::statefulset::retention::retention;
use crate::control::statefulset::status::set_replica_status;
use crate::control::statefulset::utils::{allows_burst, get_start_ordinal};

#[cfg(test)]
thread_local! {
    /// Passes run from the kept tally on this thread (the tests check that theirs do).
    pub static KEPT_PASSES: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

impl StatefulSetControl<'_, '_> {
    /// Whether this pass can run from the kept tally (`memo::tally`), which it then brings
    /// up to date: a Parallel set (no OrderedReady stops, so a replica with nothing to do
    /// is skipped whatever comes after it) followed by the change marks, with
    /// minReadySeconds ≤ 0 (availability does not read `now`), the `MaxUnavailableStatefulSet`
    /// gate off (the legacy rolling update), a partition ≥ 0, and every claimed pod in its
    /// own slot under its canonical name (no placeholder, no condemned pod). Otherwise the
    /// tally is dropped unless it was brought up (it is kept up to date only while used).
    pub(super) fn kept_tally_holds(
        &mut self,
        set: &StatefulSet,
        views: &[PodView],
        current_revision: RevisionId,
        update_revision: RevisionId,
    ) -> bool {
        let memo = &mut *self.pod_control.memo;
        let partition = set.spec.update_strategy.rolling_update.as_ref();
        if !memo.follows_marks()
            || !allows_burst(set)
            || set.spec.min_ready_seconds > 0
            || self.config.max_unavailable_statefulset
            || partition.is_some_and(|ru| ru.partition.unwrap_or(0) < 0)
        {
            memo.drop_tally();
            return false;
        }
        let params = TallyParams {
            start: get_start_ordinal(set),
            replicas: set.replicas(),
            current_revision,
            update_revision,
            policy: retention(set),
        };
        memo.bring_tally_up(set, views, params);
        let owned = memo.census(views).owned;
        memo.tally().holds_all(owned)
    }

    // Upstream `updateStatefulSet` (R-5.1 steps 2–14) from the kept tally, for a pass that
    // `kept_tally_holds` allows: every slot holds its claimed pod and there is no condemned
    // pod, so the partition, the placeholders and the first unavailable pod (read only by
    // `processCondemned`) are not needed; `processReplica` runs only for the replicas whose
    // quick test fails (in `slowStartBatch`'s batches, `run_for_all_sparse`); the status
    // counts are the tally's (`updateStatus`); the scale-down steps have nothing to do; the
    // rolling update reads the tally (`rolling_update_one_at_a_time_kept`).
    pub(super) fn update_statefulset_kept(
        &mut self,
        set: &StatefulSet,
        update_set: &AppliedSet,
        update_revision: RevisionId,
        views: &[PodView],
        mut status: StatefulSetStatus,
    ) -> StepResult {
        #[cfg(test)]
        KEPT_PASSES.with(|n| n.set(n.get() + 1));
        let pass = Pass {
            set,
            update_set,
            update_revision,
            retention: retention(set),
            monotonic: false,
            replicas: Vec::new(),
            condemned: Vec::new(),
            first_unavailable_pod: None,
        };
        let start = get_start_ordinal(set);
        let tally = self.pod_control.memo.tally();
        let counts = tally.counts;
        let unsettled: Vec<u32> = tally.unsettled.iter().copied().collect();
        let n = set.replicas().max(0) as usize;
        let (exit, errs) = run_for_all_sparse(n, &unsettled, |i| {
            let view = find_slot(set, views, start + i as i32).expect("the tally's slot");
            self.process_replica(&pass, i, view)
        });
        set_replica_status(&mut status, counts);
        if exit || !errs.is_empty() {
            return (Some(status), errs);
        }
        // OnDelete: pods are updated when someone deletes them.
        if set.spec.update_strategy.type_ == names::ON_DELETE {
            return (Some(status), Vec::new());
        }
        self.rolling_update_one_at_a_time_kept(&pass, views, status)
    }

    // `rolling_update_one_at_a_time` (upstream `updateStatefulSet`'s legacy rolling update)
    // from the kept tally: the scan from the highest slot down to the partition stops at
    // the first pod it would replace or that is unavailable, which is the highest slot at
    // or above the partition in either of the tally's sets; the wait reason names the
    // highest pod below it that it would replace (`pending_update`).
    fn rolling_update_one_at_a_time_kept(
        &mut self,
        pass: &Pass,
        views: &[PodView],
        mut status: StatefulSetStatus,
    ) -> StepResult {
        let set = pass.set;
        let from = pass.update_min().clamp(0, i64::from(u32::MAX)) as u32;
        let tally = self.pod_control.memo.tally();
        let replace = tally.needs_update.range(from..).next_back().copied();
        let unavailable = tally.unavailable.range(from..).next_back().copied();
        let Some(target) = replace.max(unavailable) else {
            return (Some(status), Vec::new());
        };
        let pending = tally.needs_update.range(from..target).next_back().copied();
        let start = get_start_ordinal(set);
        let slot = |i: u32| find_slot(set, views, start + i as i32).expect("the tally's slot");
        let pod = slot(target);
        if replace == Some(target) {
            if let Err(e) = self.pod_control.delete_stateful_pod(set, &pod.pod)
                && !e.is_not_found()
            {
                return (Some(status), vec![e.to_string()]);
            }
            status.current_replicas -= 1;
            return (Some(status), Vec::new());
        }
        // `pending_update`.
        if set.spec.update_strategy.type_ == names::ROLLING_UPDATE && pending.is_some() {
            let name = &pod.pod.metadata.name;
            self.wait(if pod.facts.is_terminating() {
                format!("rolling update waiting for {name} to terminate")
            } else {
                format!("rolling update waiting for {name} to become available")
            });
        }
        (Some(status), Vec::new())
    }
}

// `run_for_all` of a burst pass (upstream `slowStartBatch`) when `f` is known to answer
// `Ok(false)` with no effect for every index but `calls` (ascending): only those are
// called, and an error ends the run at the end of its batch, as when every index is
// called. Returns (exit, errors).
fn run_for_all_sparse(
    n: usize,
    calls: &[u32],
    mut f: impl FnMut(usize) -> Result<bool, String>,
) -> (bool, Vec<String>) {
    let mut errs = Vec::new();
    let mut calls = calls.iter().map(|&i| i as usize).peekable();
    let (mut next, mut remaining) = (0, n);
    let mut batch_size = remaining.min(1);
    while batch_size > 0 && calls.peek().is_some() {
        let end = next + batch_size;
        while let Some(i) = calls.next_if(|&i| i < end) {
            if let Err(e) = f(i) {
                errs.push(e);
            }
        }
        if !errs.is_empty() {
            return (true, errs);
        }
        next = end;
        remaining -= batch_size;
        batch_size = (2 * batch_size).min(remaining).min(MAX_BATCH_SIZE);
    }
    (false, errs)
}

#[cfg(test)]
mod tests {
    use super::super::run_for_all;
    use super::*;

    #[test]
    fn run_for_all_sparse_calls_and_stops_as_run_for_all() {
        // Indices outside `calls` answer Ok(false) with no effect; some inside fail.
        let mut seed = 7u64;
        let mut rand = move |m: u64| {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) % m
        };
        for _ in 0..500 {
            let n = rand(1200) as usize;
            let calls: Vec<u32> = (0..n as u32).filter(|_| rand(8) == 0).collect();
            let failing: Vec<u32> = calls.iter().copied().filter(|_| rand(6) == 0).collect();
            let answer = |i: usize| {
                if failing.contains(&(i as u32)) {
                    Err(format!("e{i}"))
                } else {
                    Ok(i.is_multiple_of(2))
                }
            };
            let mut full = Vec::new();
            let full_result = run_for_all(n, false, |i| {
                if calls.contains(&(i as u32)) {
                    full.push(i);
                    answer(i)
                } else {
                    Ok(false)
                }
            });
            let mut sparse = Vec::new();
            let sparse_result = run_for_all_sparse(n, &calls, |i| {
                sparse.push(i);
                answer(i)
            });
            assert_eq!((full, full_result), (sparse, sparse_result));
        }
    }
}
