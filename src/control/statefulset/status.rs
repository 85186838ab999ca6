//! StatefulSet status: counting pods into replicas / ready / available / current /
//! updated, completing a rolling update, and writing the status subresource only
//! when it is inconsistent with the stored one.
//!
//! Ports of `computeReplicaStatus`, `updateStatus`, `updateStatefulSetStatus`
//! (stateful_set_control.go), `completeRollingUpdate`, `inconsistentStatus`
//! (stateful_set_utils.go) and `realStatefulSetStatusUpdater` (stateful_set_status_updater.go).

use super::memo::{PodView, RevisionId};
use crate::api::statefulset::{StatefulSetStatus, names};
use crate::api::{ObjectKey, StatefulSet};
use crate::apiserver::ApiClient;
use crate::time::SimTime;

/// `retry.DefaultRetry.Steps`: attempts of the status write on conflict.
const STATUS_RETRY_STEPS: usize = 5;

/// Upstream `replicaStatus`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReplicaStatus {
    pub replicas: i32,
    pub ready_replicas: i32,
    pub available_replicas: i32,
    pub current_replicas: i32,
    pub updated_replicas: i32,
}

// Port of upstream `computeReplicaStatus`: created pods count in `replicas` even when
// terminating; ready/available need Running and Ready; current/updated skip terminating
// pods and count by revision label. Read from the pods' facts (`memo`); the revisions are
// the numbers of their names there.
pub fn compute_replica_status<'v>(
    pods: impl IntoIterator<Item = &'v PodView>,
    min_ready_seconds: i32,
    current_revision: RevisionId,
    update_revision: RevisionId,
    now: SimTime,
) -> ReplicaStatus {
    let mut status = ReplicaStatus::default();
    for PodView { facts: pod, .. } in pods {
        if pod.is_created() {
            status.replicas += 1;
        }
        if pod.is_running_and_ready() {
            status.ready_replicas += 1;
            if pod.is_running_and_available(min_ready_seconds, now) {
                status.available_replicas += 1;
            }
        }
        if pod.is_created() && !pod.is_terminating() {
            let revision = pod.revision;
            if revision == current_revision {
                status.current_replicas += 1;
            }
            if revision == update_revision {
                status.updated_replicas += 1;
            }
        }
    }
    status
}

// Port of upstream `updateStatus`: recounts `status` from scratch over every list.
pub fn update_status(
    status: &mut StatefulSetStatus,
    min_ready_seconds: i32,
    current_revision: RevisionId,
    update_revision: RevisionId,
    now: SimTime,
    pod_lists: &[&[&PodView]],
) {
    let mut total = ReplicaStatus::default();
    for list in pod_lists {
        let s = compute_replica_status(
            list.iter().copied(),
            min_ready_seconds,
            current_revision,
            update_revision,
            now,
        );
        total.replicas += s.replicas;
        total.ready_replicas += s.ready_replicas;
        total.available_replicas += s.available_replicas;
        total.current_replicas += s.current_replicas;
        total.updated_replicas += s.updated_replicas;
    }
    set_replica_status(status, total);
}

/// The end of upstream `updateStatus`: the five counts into `status` (also from a kept
/// tally, `memo::tally`).
pub fn set_replica_status(status: &mut StatefulSetStatus, total: ReplicaStatus) {
    status.replicas = total.replicas;
    status.ready_replicas = total.ready_replicas;
    status.available_replicas = total.available_replicas;
    status.current_replicas = total.current_replicas;
    status.updated_replicas = total.updated_replicas;
}

// Port of upstream `completeRollingUpdate`: only RollingUpdate, and only when every
// replica is updated, ready and counted; availability is not looked at (issue #136831).
// From v1.37 (PR #136833) the strategy condition is gone and OnDelete sets complete too
// (`on_delete_too`).
pub fn complete_rolling_update(
    set: &StatefulSet,
    status: &mut StatefulSetStatus,
    on_delete_too: bool,
) {
    let replicas = set.replicas();
    if (on_delete_too || set.spec.update_strategy.type_ == names::ROLLING_UPDATE)
        && status.updated_replicas == replicas
        && status.ready_replicas == replicas
        && status.replicas == replicas
    {
        status.current_replicas = status.updated_replicas;
        status.current_revision = status.update_revision.clone();
    }
}

// Port of upstream `inconsistentStatus`: collisionCount alone never triggers a write.
pub fn inconsistent_status(set: &StatefulSet, status: &StatefulSetStatus) -> bool {
    let old = &set.status;
    status.observed_generation > old.observed_generation
        || status.replicas != old.replicas
        || status.current_replicas != old.current_replicas
        || status.ready_replicas != old.ready_replicas
        || status.updated_replicas != old.updated_replicas
        || status.current_revision != old.current_revision
        || status.available_replicas != old.available_replicas
        || status.update_revision != old.update_revision
}

/// The body of a status write of `set`: upstream sends the whole set with the new status,
/// but the status subresource reads only the object's metadata (key and resourceVersion)
/// and its status, so the spec is left out here instead of cloned (the pod template is
/// most of a set's size).
fn status_request(set: &StatefulSet, status: &StatefulSetStatus) -> StatefulSet {
    StatefulSet {
        metadata: set.metadata.clone(),
        status: status.clone(),
        ..Default::default()
    }
}

// Port of upstream `updateStatefulSetStatus` and `realStatefulSetStatusUpdater`
// completes a finished rolling update in `status`, then writes it if it is
// inconsistent with `set`'s (the cached object's). Conflicts are retried; upstream re-reads
// from its lister after a backoff, here the re-read is live (a sync takes no time).
pub fn update_stateful_set_status(
    client: &mut ApiClient<'_>,
    set: &StatefulSet,
    status: &mut StatefulSetStatus,
    on_delete_completes_update: bool,
) -> Result<(), String> {
    complete_rolling_update(set, status, on_delete_completes_update);
    if !inconsistent_status(set, status) {
        return Ok(());
    }
    let mut target = status_request(set, status);
    let mut last = String::new();
    for _ in 0..STATUS_RETRY_STEPS {
        target.status = status.clone();
        match client.update_status(&target) {
            Ok(_) => return Ok(()),
            Err(e) if e.is_conflict() => {
                last = e.to_string();
                match client.get::<StatefulSet>(&ObjectKey::of(&set.metadata)) {
                    Some(fresh) => target = status_request(&fresh, status),
                    None => return Err(last),
                }
            }
            Err(e) => return Err(e.to_string()),
        }
    }
    Err(last)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::pod::PodCondition;
    use crate::api::{ObjectMeta, Pod, Timestamp};
    use crate::control::statefulset::memo::{PodFacts, RevisionNames};
    use std::rc::Rc;

    /// Revision numbers of "r1" and "r2" in [`pod`]'s facts.
    const R1: RevisionId = 0;
    const R2: RevisionId = 1;

    fn pod(phase: &str, revision: &str, ready_at: Option<u64>, terminating: bool) -> PodView {
        let mut p = Pod {
            metadata: ObjectMeta::named("default", "web-0"),
            ..Default::default()
        };
        p.status.phase = phase.into();
        if !revision.is_empty() {
            p.metadata
                .labels
                .insert("controller-revision-hash".into(), revision.into());
        }
        if let Some(at) = ready_at {
            p.status.conditions.push(PodCondition {
                type_: "Ready".into(),
                status: "True".into(),
                last_transition_time: Some(Timestamp(SimTime(at * 1_000_000_000))),
                ..Default::default()
            });
        }
        if terminating {
            p.metadata.deletion_timestamp = Some(Timestamp::default());
        }
        let mut names = RevisionNames::default();
        assert_eq!((names.id("r1"), names.id("r2")), (R1, R2));
        // The pod's set ("web", selecting everything): facts are complete only for pods
        // the set can claim.
        let set = StatefulSet {
            metadata: ObjectMeta::named("default", "web"),
            ..Default::default()
        };
        let facts = PodFacts::of(&p, &set, &mut names);
        assert!(facts.is_claimable());
        PodView {
            pod: Rc::new(p),
            facts,
        }
    }

    #[test]
    fn test_compute_replica_status() {
        let now = SimTime(100 * 1_000_000_000);
        let rs = |replicas, ready_replicas, available_replicas, current, updated| ReplicaStatus {
            replicas,
            ready_replicas,
            available_replicas,
            current_replicas: current,
            updated_replicas: updated,
        };
        // (pods, minReadySeconds) → status; revisions are "r1" (current) and "r2" (update).
        let cases = [
            (
                vec![pod("Running", "r1", Some(0), false)],
                0,
                rs(1, 1, 1, 1, 0),
            ),
            (
                vec![pod("Running", "r2", Some(0), false)],
                0,
                rs(1, 1, 1, 0, 1),
            ),
            // Terminating: counted in replicas and ready, not in current/updated.
            (
                vec![pod("Running", "r1", Some(0), true)],
                0,
                rs(1, 1, 1, 0, 0),
            ),
            // A placeholder (no phase) counts nowhere.
            (vec![pod("", "r2", None, false)], 0, rs(0, 0, 0, 0, 0)),
            (
                vec![pod("Pending", "r1", None, false)],
                0,
                rs(1, 0, 0, 1, 0),
            ),
            (vec![pod("Failed", "", None, false)], 0, rs(1, 0, 0, 0, 0)),
            // Ready at 95 s, minReadySeconds 10: ready but not yet available at 100 s.
            (
                vec![pod("Running", "r1", Some(95), false)],
                10,
                rs(1, 1, 0, 1, 0),
            ),
            (
                vec![pod("Running", "r1", Some(80), false)],
                10,
                rs(1, 1, 1, 1, 0),
            ),
        ];
        for (i, (pods, min_ready, want)) in cases.into_iter().enumerate() {
            assert_eq!(
                compute_replica_status(&pods, min_ready, R1, R2, now),
                want,
                "case {i}"
            );
        }
        let mut status = StatefulSetStatus::default();
        let a = [pod("Running", "r1", Some(0), false)];
        let b = [pod("Running", "r2", Some(0), true)];
        update_status(&mut status, 0, R1, R2, now, &[&[&a[0]], &[&b[0]]]);
        assert_eq!(
            (
                status.replicas,
                status.ready_replicas,
                status.current_replicas
            ),
            (2, 2, 1)
        );
    }

    #[test]
    fn test_complete_rolling_update() {
        let mut set = StatefulSet::default();
        set.spec.replicas = Some(3);
        set.spec.update_strategy.type_ = names::ROLLING_UPDATE.into();
        let status = |replicas, ready, updated| StatefulSetStatus {
            replicas,
            ready_replicas: ready,
            updated_replicas: updated,
            current_replicas: 1,
            current_revision: "r1".into(),
            update_revision: "r2".into(),
            ..Default::default()
        };
        // (strategy, replicas, ready, updated) → completes?
        let cases = [
            (names::ROLLING_UPDATE, 3, 3, 3, true),
            (names::ROLLING_UPDATE, 3, 2, 3, false),
            (names::ROLLING_UPDATE, 4, 3, 3, false),
            (names::ROLLING_UPDATE, 3, 3, 2, false),
            (names::ON_DELETE, 3, 3, 3, false),
        ];
        for (i, (strategy, replicas, ready, updated, completes)) in cases.into_iter().enumerate() {
            set.spec.update_strategy.type_ = strategy.into();
            let mut s = status(replicas, ready, updated);
            complete_rolling_update(&set, &mut s, false);
            assert_eq!(s.current_revision == "r2", completes, "case {i}");
            assert_eq!(s.current_replicas == updated, completes, "case {i}");
            // v1.37 (PR #136833): the strategy no longer matters.
            let mut s = status(replicas, ready, updated);
            complete_rolling_update(&set, &mut s, true);
            let v137 = replicas == 3 && ready == 3 && updated == 3;
            assert_eq!(s.current_revision == "r2", v137, "case {i}, v1.37");
        }
    }

    #[test]
    fn test_inconsistent_status() {
        let mut set = StatefulSet::default();
        set.status.observed_generation = 2;
        set.status.replicas = 3;
        let mut same = set.status.clone();
        assert!(!inconsistent_status(&set, &same));
        same.collision_count = Some(4);
        assert!(!inconsistent_status(&set, &same), "collisionCount alone");
        let mut older = set.status.clone();
        older.observed_generation = 1;
        assert!(!inconsistent_status(&set, &older));
        let mut newer = set.status.clone();
        newer.observed_generation = 3;
        assert!(inconsistent_status(&set, &newer));
        let mut available = set.status.clone();
        available.available_replicas = 1;
        assert!(inconsistent_status(&set, &available));
    }
}
