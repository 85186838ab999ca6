//! The node controller helpers of `pkg/controller/util/node/controller_utils.go` that the
//! lifecycle controller uses: `MarkPodsNotReady`, `RecordNodeEvent`,
//! `RecordNodeStatusChange`, `SwapNodeControllerTaint` and `GetNodeCondition`.

use crate::api::node::NodeCondition;
use crate::api::pod::condition;
use crate::api::scheduling::Taint;
use crate::api::{Node, Pod, Timestamp};
use crate::apiserver::{ApiClient, ApiError, EventType};
use crate::control::podutil::update_pod_condition;
use crate::control::taints::{add_or_update_taint_on_node, remove_taint_off_node};
use std::rc::Rc;

/// `GetNodeCondition`: the node's condition of this type.
pub fn get_node_condition<'a>(node: &'a Node, type_: &str) -> Option<&'a NodeCondition> {
    node.status.conditions.iter().find(|c| c.type_ == type_)
}

// Port of `MarkPodsNotReady`: each pod of the node with a Ready condition gets it False
// (a status write of the cached pod; a pod already gone is skipped), then a Warning
// `NodeNotReady` Event. Errors are collected, and the caller retries the node next pass.
pub fn mark_pods_not_ready(
    client: &mut ApiClient<'_>,
    pods: &[Rc<Pod>],
    node_name: &str,
) -> Result<(), Vec<ApiError>> {
    let now = Timestamp::at(client.now());
    let mut errs = Vec::new();
    for p in pods {
        if p.spec.node_name != node_name {
            continue;
        }
        let Some(ready) = p.condition(condition::READY) else {
            continue;
        };
        let mut cond = ready.clone();
        cond.status = "False".into();
        let mut pod = (**p).clone();
        if !update_pod_condition(&mut pod, cond, now) {
            continue;
        }
        if let Err(e) = client.update_status(&pod) {
            if matches!(e, ApiError::NotFound { .. }) {
                continue;
            }
            errs.push(e);
        }
        // Recorded after the write, whatever came of it but NotFound, as upstream does.
        client.event(
            &pod,
            EventType::Warning,
            "NodeNotReady",
            "Node is not ready".into(),
        );
    }
    if errs.is_empty() { Ok(()) } else { Err(errs) }
}

/// `RecordNodeEvent`: an Event about the node, "Node NAME event: …".
pub fn record_node_event(
    client: &mut ApiClient<'_>,
    node: &Node,
    type_: EventType,
    reason: &str,
    event: &str,
) {
    let message = format!("Node {} event: {event}", node.metadata.name);
    client.event(node, type_, reason, message);
}

/// `RecordNodeStatusChange`: a Normal Event "Node NAME status is now: STATUS".
pub fn record_node_status_change(client: &mut ApiClient<'_>, node: &Node, new_status: &str) {
    let message = format!("Node {} status is now: {new_status}", node.metadata.name);
    client.event(node, EventType::Normal, new_status, message);
}

// Port of `SwapNodeControllerTaint`: the taints to add are stamped with `timeAdded` = now
// and added, then the ones to remove are removed. False if either write failed.
pub fn swap_node_controller_taint(
    client: &mut ApiClient<'_>,
    to_add: &[Taint],
    to_remove: &[Taint],
    node: &Node,
) -> bool {
    let now = Timestamp::at(client.now());
    let stamped: Vec<Taint> = to_add
        .iter()
        .map(|t| Taint {
            time_added: Some(now),
            ..t.clone()
        })
        .collect();
    let name = &node.metadata.name;
    if add_or_update_taint_on_node(client, name, &stamped).is_err() {
        return false;
    }
    // The caller's copy predates the add; the short-circuit only looks for the removals.
    remove_taint_off_node(client, name, Some(node), to_remove).is_ok()
}
