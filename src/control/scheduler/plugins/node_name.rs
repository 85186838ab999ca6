//! NodeName (`plugins/nodename`): a pod that names its node (`spec.nodeName`) fits only
//! there. The queue only holds pods without a node name, so this filter matters for other
//! callers of the filters (preemption dry runs, later) and is kept for fidelity of order.

use crate::api::{AnyObject, Pod};
use crate::control::scheduler::cache::NodeInfo;
use crate::control::scheduler::events::{ActionType, ClusterEvent, EventResource};
use crate::control::scheduler::framework::{CycleState, Plugin, QueueingHint, Rejection};

pub const NAME: &str = "NodeName";
/// `ErrReason`.
pub const ERR_REASON: &str = "node(s) didn't match the requested node name";

pub struct NodeName;

/// `nodename.Fits`.
fn fits(pod: &Pod, node_name: &str) -> bool {
    pod.spec.node_name.is_empty() || pod.spec.node_name == node_name
}

const EVENTS: &[ClusterEvent] = &[ClusterEvent::new(EventResource::Node, ActionType::ADD)];

impl Plugin for NodeName {
    fn name(&self) -> &'static str {
        NAME
    }

    // `NodeName.Filter`.
    fn filter(&self, _: &CycleState, pod: &Pod, node: &NodeInfo) -> Result<(), Rejection> {
        if fits(pod, &node.node().metadata.name) {
            Ok(())
        } else {
            Err(Rejection::unresolvable(ERR_REASON))
        }
    }

    fn events_to_register(&self) -> &'static [ClusterEvent] {
        EVENTS
    }

    // `isSchedulableAfterNodeAdd`.
    fn queueing_hint(
        &self,
        pod: &Pod,
        _: &ClusterEvent,
        _: Option<&AnyObject>,
        new: Option<&AnyObject>,
    ) -> QueueingHint {
        match new {
            Some(AnyObject::Node(n)) if !fits(pod, &n.metadata.name) => QueueingHint::QueueSkip,
            _ => QueueingHint::Queue,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::control::scheduler::plugins::testing::{info, node, pod};

    #[test]
    fn pods_naming_a_node_fit_only_there() {
        let mut p = pod("p", &[]);
        let state = CycleState::new(&p);
        let n1 = info(node("n1", "1", "1Gi"), &[]);
        let n2 = info(node("n2", "1", "1Gi"), &[]);
        assert!(NodeName.filter(&state, &p, &n1).is_ok());
        p.spec.node_name = "n1".into();
        assert!(NodeName.filter(&state, &p, &n1).is_ok());
        let err = NodeName.filter(&state, &p, &n2).unwrap_err();
        assert_eq!(
            err.reasons,
            vec!["node(s) didn't match the requested node name"]
        );
    }
}
