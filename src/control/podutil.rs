//! Pod status helpers shared by the node lifecycle, taint eviction and pod GC controllers
//! (`pkg/api/v1/pod` `UpdatePodCondition`, `pkg/util/pod` `PatchPodStatus`).

use crate::api::pod::PodCondition;
use crate::api::{ObjectKey, Pod, Timestamp};
use crate::apiserver::{ApiClient, ApiError};

// Port of `podutil.UpdatePodCondition`: the condition gets `now` as its transition time
// unless its status is unchanged, then replaces the pod's condition of that type (or is
// appended). Returns whether anything changed.
pub fn update_pod_condition(pod: &mut Pod, mut condition: PodCondition, now: Timestamp) -> bool {
    condition.last_transition_time = Some(now);
    let conditions = &mut pod.status.conditions;
    let Some(old) = conditions.iter_mut().find(|c| c.type_ == condition.type_) else {
        conditions.push(condition);
        return true;
    };
    if condition.status == old.status {
        condition.last_transition_time = old.last_transition_time;
    }
    let equal = condition == *old;
    *old = condition;
    !equal
}

// Port of `utilpod.PatchPodStatus` as its callers use it: the change `edit` makes to the
// status is applied to the pod as stored now (a patch, not an update of a cached copy),
// guarded by the pod's uid. Returns the pod after the write.
pub fn patch_pod_status(
    client: &mut ApiClient<'_>,
    key: &ObjectKey,
    uid: &str,
    edit: impl FnOnce(&mut Pod),
) -> Result<std::rc::Rc<Pod>, ApiError> {
    let Some(live) = client.get::<Pod>(key) else {
        return Err(ApiError::NotFound {
            kind: crate::api::Kind::Pod,
            name: key.name.clone(),
        });
    };
    if live.metadata.uid != uid {
        return Err(ApiError::Conflict {
            kind: crate::api::Kind::Pod,
            name: key.name.clone(),
        });
    }
    let mut next = (*live).clone();
    edit(&mut next);
    client.update_status(&next)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::{SimDuration, SimTime};

    fn cond(status: &str, reason: &str) -> PodCondition {
        PodCondition {
            type_: "Ready".into(),
            status: status.into(),
            reason: reason.into(),
            ..Default::default()
        }
    }

    #[test]
    fn transition_time_moves_only_with_the_status() {
        let t1 = Timestamp::at(SimTime::ZERO + SimDuration::from_secs(1));
        let t2 = Timestamp::at(SimTime::ZERO + SimDuration::from_secs(2));
        let mut pod = Pod::default();
        assert!(update_pod_condition(&mut pod, cond("True", ""), t1));
        assert!(!update_pod_condition(&mut pod, cond("True", ""), t2));
        assert_eq!(pod.status.conditions[0].last_transition_time, Some(t1));
        // Same status, new reason: changed, but the transition time stays.
        assert!(update_pod_condition(&mut pod, cond("True", "R"), t2));
        assert_eq!(pod.status.conditions[0].last_transition_time, Some(t1));
        assert!(update_pod_condition(&mut pod, cond("False", "R"), t2));
        assert_eq!(pod.status.conditions[0].last_transition_time, Some(t2));
        assert_eq!(pod.status.conditions.len(), 1);
    }
}
