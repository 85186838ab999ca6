//! Cluster events as the scheduling queue sees them (`fwk.ClusterEvent`, `ActionType`,
//! `EventResource`) and the extraction of which scheduling-relevant properties an update
//! changed (`NodeSchedulingPropertiesChange`, `PodSchedulingPropertiesChange`). Plugins
//! register the events that could make a pod they rejected schedulable; the queue moves a
//! pod out of the unschedulable pool only on such an event (QueueingHints, GA in 1.34).

use crate::api::{Node, Pod};
use std::collections::BTreeMap;

/// `fwk.EventResource`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum EventResource {
    /// Any pod; matches the three narrower pod resources below.
    Pod,
    /// A pod bound to a node.
    AssignedPod,
    /// A pod not bound yet.
    UnscheduledPod,
    /// The pod being requeued itself.
    TargetPod,
    Node,
    PersistentVolume,
    PersistentVolumeClaim,
    StorageClass,
    CSINode,
    CSIStorageCapacity,
    VolumeAttachment,
    WildCard,
}

/// `fwk.ActionType`: a bit set, in upstream's bit order (the `<=` in [`ClusterEvent::matches`]
/// depends on it).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct ActionType(pub u32);

impl ActionType {
    pub const ADD: ActionType = ActionType(1);
    pub const DELETE: ActionType = ActionType(1 << 1);
    pub const UPDATE_NODE_ALLOCATABLE: ActionType = ActionType(1 << 2);
    pub const UPDATE_NODE_LABEL: ActionType = ActionType(1 << 3);
    pub const UPDATE_NODE_TAINT: ActionType = ActionType(1 << 4);
    pub const UPDATE_NODE_CONDITION: ActionType = ActionType(1 << 5);
    pub const UPDATE_NODE_ANNOTATION: ActionType = ActionType(1 << 6);
    pub const UPDATE_POD_LABEL: ActionType = ActionType(1 << 7);
    pub const UPDATE_POD_SCALE_DOWN: ActionType = ActionType(1 << 8);
    pub const UPDATE_POD_TOLERATION: ActionType = ActionType(1 << 9);
    pub const UPDATE_POD_SCHEDULING_GATES_ELIMINATED: ActionType = ActionType(1 << 10);
    /// Upstream's unexported `updatePodOther`: an update that changed nothing a plugin
    /// cares about (a status write, say).
    pub const UPDATE_POD_OTHER: ActionType = ActionType(1 << 11);
    /// Every update kind.
    pub const UPDATE: ActionType = ActionType(((1 << 12) - 1) & !3);
    pub const ALL: ActionType = ActionType((1 << 12) - 1);

    pub const fn or(self, other: ActionType) -> ActionType {
        ActionType(self.0 | other.0)
    }
}

/// `fwk.ClusterEvent`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct ClusterEvent {
    pub resource: EventResource,
    pub action: ActionType,
}

impl ClusterEvent {
    pub const fn new(resource: EventResource, action: ActionType) -> Self {
        ClusterEvent { resource, action }
    }
    /// `EventUnschedulableTimeout`: the periodic flush of the unschedulable pool.
    pub const UNSCHEDULABLE_TIMEOUT: ClusterEvent =
        ClusterEvent::new(EventResource::WildCard, ActionType::ALL);
    pub const NODE_ADD: ClusterEvent = ClusterEvent::new(EventResource::Node, ActionType::ADD);
    pub const NODE_DELETE: ClusterEvent =
        ClusterEvent::new(EventResource::Node, ActionType::DELETE);
    pub const ASSIGNED_POD_ADD: ClusterEvent =
        ClusterEvent::new(EventResource::AssignedPod, ActionType::ADD);
    pub const ASSIGNED_POD_DELETE: ClusterEvent =
        ClusterEvent::new(EventResource::AssignedPod, ActionType::DELETE);

    pub fn is_wildcard(&self) -> bool {
        self.resource == EventResource::WildCard && self.action == ActionType::ALL
    }

    /// `framework.MatchClusterEvents(self, incoming)`: `incoming` is the same as or more
    /// specific than this registered event.
    pub fn matches(&self, incoming: &ClusterEvent) -> bool {
        if self.is_wildcard() {
            return true;
        }
        let resource_matches = self.resource == EventResource::WildCard
            || self.resource == incoming.resource
            || (self.resource == EventResource::Pod
                && matches!(
                    incoming.resource,
                    EventResource::AssignedPod
                        | EventResource::UnscheduledPod
                        | EventResource::TargetPod
                ));
        resource_matches
            && self.action.0 & incoming.action.0 != 0
            && incoming.action.0 <= self.action.0
    }
}

fn conditions_by_type(node: &Node) -> BTreeMap<&str, &str> {
    node.status
        .conditions
        .iter()
        .map(|c| (c.type_.as_str(), c.status.as_str()))
        .collect()
}

/// `NodeSchedulingPropertiesChange`: one event per kind of scheduling-relevant change.
/// A cordoned node becoming schedulable counts as a taint change, as upstream has no
/// separate action type for `spec.unschedulable`.
pub fn node_scheduling_properties_change(new: &Node, old: &Node) -> Vec<ClusterEvent> {
    let mut actions = Vec::new();
    if new.spec.unschedulable != old.spec.unschedulable && !new.spec.unschedulable {
        actions.push(ActionType::UPDATE_NODE_TAINT);
    }
    if new.status.allocatable != old.status.allocatable {
        actions.push(ActionType::UPDATE_NODE_ALLOCATABLE);
    }
    if new.metadata.labels != old.metadata.labels {
        actions.push(ActionType::UPDATE_NODE_LABEL);
    }
    if new.spec.taints != old.spec.taints {
        actions.push(ActionType::UPDATE_NODE_TAINT);
    }
    if conditions_by_type(new) != conditions_by_type(old) {
        actions.push(ActionType::UPDATE_NODE_CONDITION);
    }
    if new.metadata.annotations != old.metadata.annotations {
        actions.push(ActionType::UPDATE_NODE_ANNOTATION);
    }
    actions
        .into_iter()
        .map(|a| ClusterEvent::new(EventResource::Node, a))
        .collect()
}

/// `PodSchedulingPropertiesChange`: the events an update of a pod amounts to, against
/// `resource` (the assigned-pod cache passes `AssignedPod`, the queue's own update of a
/// pending pod passes `TargetPod`). In-place resize and scheduling gates are not modelled.
pub fn pod_scheduling_properties_change(
    new: &Pod,
    old: &Pod,
    resource: EventResource,
) -> Vec<ClusterEvent> {
    let mut actions = Vec::new();
    if new.metadata.labels != old.metadata.labels {
        actions.push(ActionType::UPDATE_POD_LABEL);
    }
    if new.spec.tolerations != old.spec.tolerations {
        actions.push(ActionType::UPDATE_POD_TOLERATION);
    }
    if actions.is_empty() {
        actions.push(ActionType::UPDATE_POD_OTHER);
    }
    actions
        .into_iter()
        .map(|a| ClusterEvent::new(resource, a))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registered_events_match_narrower_incoming_events() {
        let fit_pod = ClusterEvent::new(EventResource::Pod, ActionType::DELETE);
        assert!(fit_pod.matches(&ClusterEvent::ASSIGNED_POD_DELETE));
        assert!(!fit_pod.matches(&ClusterEvent::ASSIGNED_POD_ADD));
        let node = ClusterEvent::new(
            EventResource::Node,
            ActionType::ADD.or(ActionType::UPDATE_NODE_TAINT),
        );
        assert!(node.matches(&ClusterEvent::new(
            EventResource::Node,
            ActionType::UPDATE_NODE_TAINT
        )));
        assert!(!node.matches(&ClusterEvent::new(
            EventResource::Node,
            ActionType::UPDATE_NODE_LABEL
        )));
        // A general Update does not match a registration for one kind of update.
        let label = ClusterEvent::new(EventResource::Node, ActionType::UPDATE_NODE_LABEL);
        assert!(!label.matches(&ClusterEvent::new(EventResource::Node, ActionType::UPDATE)));
        assert!(ClusterEvent::UNSCHEDULABLE_TIMEOUT.matches(&ClusterEvent::NODE_ADD));
    }

    #[test]
    fn uncordon_is_a_taint_change_and_cordon_is_not() {
        let mut cordoned = Node::default();
        cordoned.spec.unschedulable = true;
        let open = Node::default();
        let up = node_scheduling_properties_change(&open, &cordoned);
        assert_eq!(
            up,
            vec![ClusterEvent::new(
                EventResource::Node,
                ActionType::UPDATE_NODE_TAINT
            )]
        );
        assert!(node_scheduling_properties_change(&cordoned, &open).is_empty());
    }
}
