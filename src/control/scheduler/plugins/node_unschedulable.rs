//! NodeUnschedulable (`plugins/nodeunschedulable`): cordoned nodes (`spec.unschedulable`)
//! take no new pods, unless the pod tolerates the `node.kubernetes.io/unschedulable:
//! NoSchedule` taint (DaemonSet pods do).

use crate::api::node::well_known::TAINT_UNSCHEDULABLE;
use crate::api::scheduling::Taint;
use crate::api::{AnyObject, Pod};
use crate::control::scheduler::cache::NodeInfo;
use crate::control::scheduler::events::{ActionType, ClusterEvent, EventResource};
use crate::control::scheduler::framework::{CycleState, Plugin, QueueingHint, Rejection};

pub const NAME: &str = "NodeUnschedulable";
/// `ErrReasonUnschedulable`.
pub const ERR_REASON_UNSCHEDULABLE: &str = "node(s) were unschedulable";

pub struct NodeUnschedulable;

fn tolerates_unschedulable(pod: &Pod) -> bool {
    let taint = Taint {
        key: TAINT_UNSCHEDULABLE.into(),
        effect: "NoSchedule".into(),
        ..Default::default()
    };
    pod.spec.tolerations.iter().any(|t| t.tolerates(&taint))
}

const EVENTS: &[ClusterEvent] = &[
    ClusterEvent::new(
        EventResource::Node,
        ActionType::ADD.or(ActionType::UPDATE_NODE_TAINT),
    ),
    ClusterEvent::new(EventResource::Pod, ActionType::UPDATE_POD_TOLERATION),
];

impl Plugin for NodeUnschedulable {
    fn name(&self) -> &'static str {
        NAME
    }

    // `NodeUnschedulable.Filter`.
    fn filter(&self, _: &CycleState, pod: &Pod, node: &NodeInfo) -> Result<(), Rejection> {
        if node.node().spec.unschedulable && !tolerates_unschedulable(pod) {
            return Err(Rejection::unresolvable(ERR_REASON_UNSCHEDULABLE));
        }
        Ok(())
    }

    fn events_to_register(&self) -> &'static [ClusterEvent] {
        EVENTS
    }

    // `isSchedulableAfterNodeChange` / `isSchedulableAfterPodTolerationChange`.
    fn queueing_hint(
        &self,
        pod: &Pod,
        event: &ClusterEvent,
        old: Option<&AnyObject>,
        new: Option<&AnyObject>,
    ) -> QueueingHint {
        let hint = match (event.resource, new) {
            (EventResource::Node, Some(AnyObject::Node(new))) => {
                // Only a node turning schedulable (or a new schedulable one) can help.
                let was = matches!(old, Some(AnyObject::Node(o)) if !o.spec.unschedulable);
                !was && !new.spec.unschedulable
            }
            (_, Some(AnyObject::Pod(new))) => {
                new.metadata.uid == pod.metadata.uid && tolerates_unschedulable(new)
            }
            _ => true,
        };
        if hint {
            QueueingHint::Queue
        } else {
            QueueingHint::QueueSkip
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::control::scheduler::plugins::testing::{info, node, pod, toleration};
    use std::rc::Rc;

    #[test]
    fn cordoned_nodes_reject_unless_tolerated() {
        let state = CycleState::new(&pod("p", &[]));
        let mut cordoned = node("n1", "1", "1Gi");
        cordoned.spec.unschedulable = true;
        let ni = info(cordoned, &[]);
        let p = pod("p", &[]);
        let err = NodeUnschedulable.filter(&state, &p, &ni).unwrap_err();
        assert_eq!(err.reasons, vec!["node(s) were unschedulable"]);
        let mut tolerant = p.clone();
        tolerant.spec.tolerations =
            vec![toleration(TAINT_UNSCHEDULABLE, "Exists", "", "NoSchedule")];
        assert!(NodeUnschedulable.filter(&state, &tolerant, &ni).is_ok());
        assert!(
            NodeUnschedulable
                .filter(&state, &p, &info(node("n2", "1", "1Gi"), &[]))
                .is_ok()
        );
    }

    #[test]
    fn only_uncordon_or_a_new_open_node_requeues() {
        let p = pod("p", &[]);
        let mut cordoned = node("n1", "1", "1Gi");
        cordoned.spec.unschedulable = true;
        let cordoned = AnyObject::Node(Rc::new(cordoned));
        let open = AnyObject::Node(Rc::new(node("n1", "1", "1Gi")));
        let ev = ClusterEvent::new(EventResource::Node, ActionType::UPDATE_NODE_TAINT);
        let hint = |old, new| NodeUnschedulable.queueing_hint(&p, &ev, old, new);
        assert_eq!(hint(Some(&cordoned), Some(&open)), QueueingHint::Queue);
        assert_eq!(hint(Some(&open), Some(&open)), QueueingHint::QueueSkip);
        assert_eq!(hint(None, Some(&open)), QueueingHint::Queue);
        assert_eq!(hint(None, Some(&cordoned)), QueueingHint::QueueSkip);
    }
}
