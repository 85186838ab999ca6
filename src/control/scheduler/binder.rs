//! The scheduler's API writes: the binding (DefaultBinder, and the `pods/binding`
//! subresource's checks, stood in for by an update of `spec.nodeName` plus a status write
//! of `PodScheduled=True`), and the `PodScheduled=False` condition of a failed attempt.

use crate::api::pod::{PodCondition, condition};
use crate::api::{ObjectKey, Pod, Timestamp};
use crate::apiserver::ApiClient;

/// `podutil.UpdatePodCondition`: set the condition (reason and message replaced, the
/// transition time kept unless the status flips). Returns whether anything changed.
pub fn update_pod_condition(
    pod: &mut Pod,
    status: bool,
    reason: &str,
    message: &str,
    now: Timestamp,
) -> bool {
    let status = if status { "True" } else { "False" };
    let conditions = &mut pod.status.conditions;
    match conditions
        .iter_mut()
        .find(|c| c.type_ == condition::POD_SCHEDULED)
    {
        Some(c) if c.status == status && c.reason == reason && c.message == message => false,
        Some(c) => {
            if c.status != status {
                c.last_transition_time = Some(now);
            }
            c.status = status.into();
            c.reason = reason.into();
            c.message = message.into();
            true
        }
        None => {
            conditions.push(PodCondition {
                type_: condition::POD_SCHEDULED.into(),
                status: status.into(),
                last_transition_time: Some(now),
                reason: reason.into(),
                message: message.into(),
            });
            true
        }
    }
}

/// `pod`'s key, uid, resourceVersion and status, all a status write reads
/// (`ApiServer::update_status`): the spec and the rest of the metadata (labels,
/// annotations, owners) are not copied for it.
fn status_request(pod: &Pod) -> Pod {
    let meta = &pod.metadata;
    Pod {
        metadata: crate::api::ObjectMeta {
            namespace: meta.namespace.clone(),
            name: meta.name.clone(),
            uid: meta.uid.clone(),
            resource_version: meta.resource_version.clone(),
            ..Default::default()
        },
        status: pod.status.clone(),
        ..Default::default()
    }
}

/// `DefaultBinder.Bind` against `BindingREST.setPodNodeAndMetadata`: the pod (this very
/// incarnation, by uid) must exist, not be terminating and not be bound yet. The error is
/// the message the scheduler would log and put in its FailedScheduling event.
pub fn bind(client: &mut ApiClient<'_>, pod: &Pod, node: &str) -> Result<(), String> {
    const PLUGIN: &str = "running Bind plugin \"DefaultBinder\"";
    let name = &pod.metadata.name;
    let live = client
        .get::<Pod>(&ObjectKey::of(&pod.metadata))
        .ok_or_else(|| format!("{PLUGIN}: pods \"{name}\" not found"))?;
    let conflict = |why: String| {
        format!("{PLUGIN}: Operation cannot be fulfilled on pods/binding \"{name}\": {why}")
    };
    if live.metadata.uid != pod.metadata.uid {
        return Err(conflict(format!(
            "Precondition failed: UID in precondition: {}, UID in object meta: {}",
            pod.metadata.uid, live.metadata.uid
        )));
    }
    if live.metadata.deletion_timestamp.is_some() {
        return Err(format!(
            "{PLUGIN}: Internal error occurred: pod {name} is being deleted, cannot be assigned to a host"
        ));
    }
    if !live.spec.node_name.is_empty() {
        return Err(conflict(format!(
            "pod {name} is already assigned to node \"{}\"",
            live.spec.node_name
        )));
    }
    let mut next = (*live).clone();
    next.spec.node_name = node.to_string();
    let bound = client.update(next).map_err(|e| format!("{PLUGIN}: {e}"))?;
    // A status write reads the request's key, resourceVersion and status only.
    let mut scheduled = status_request(&bound);
    let now = Timestamp::at(client.now());
    if update_pod_condition(&mut scheduled, true, "", "", now) {
        client
            .update_status(&scheduled)
            .map_err(|e| format!("{PLUGIN}: {e}"))?;
    }
    Ok(())
}

/// `updatePod` after a failed attempt: `PodScheduled=False` with the reason
/// (`Unschedulable` or `SchedulerError`) and the full message, patched onto the live pod.
/// A pod that is gone by now is left alone (upstream logs the error).
pub fn set_unschedulable_condition(
    client: &mut ApiClient<'_>,
    pod: &Pod,
    reason: &str,
    message: &str,
) {
    let Some(live) = client.get::<Pod>(&ObjectKey::of(&pod.metadata)) else {
        return;
    };
    if live.metadata.uid != pod.metadata.uid {
        return;
    }
    let mut next = status_request(&live);
    let now = Timestamp::at(client.now());
    if update_pod_condition(&mut next, false, reason, message, now) {
        // A lost race with another writer is not retried: the next attempt writes again.
        let _ = client.update_status(&next);
    }
}
