//! NodeResourcesFit (`plugins/noderesources/fit.go`): a pod fits a node if its requests
//! fit into `status.allocatable` minus what the node's pods (assumed ones included)
//! already request, and the node's pod count allows one more. Its score is the default
//! LeastAllocated strategy (`least_allocated.go`): the emptier node, by CPU and memory
//! with equal weights, scores higher.

use crate::api::{AnyObject, Pod};
use crate::control::scheduler::cache::NodeInfo;
use crate::control::scheduler::events::{ActionType, ClusterEvent, EventResource};
use crate::control::scheduler::framework::{
    CycleState, MAX_NODE_SCORE, Plugin, QueueingHint, Rejection,
};
use crate::control::scheduler::resources::{NonMissing, Resource, pod_requests};
use std::rc::Rc;

pub const NAME: &str = "NodeResourcesFit";

pub struct NodeResourcesFit;

/// `fitsRequest`: the reasons the node cannot take `request`, empty if it can.
pub fn fits_request(request: &Resource, node: &NodeInfo) -> Vec<String> {
    let mut reasons = Vec::new();
    let (alloc, used) = (&node.allocatable, &node.requested);
    if node.pods.len() as i64 + 1 > alloc.allowed_pod_number {
        reasons.push("Too many pods".to_string());
    }
    if request.is_zero() {
        return reasons;
    }
    if request.milli_cpu > 0 && request.milli_cpu > alloc.milli_cpu - used.milli_cpu {
        reasons.push("Insufficient cpu".to_string());
    }
    if request.memory > 0 && request.memory > alloc.memory - used.memory {
        reasons.push("Insufficient memory".to_string());
    }
    if request.ephemeral_storage > 0
        && request.ephemeral_storage > alloc.ephemeral_storage - used.ephemeral_storage
    {
        reasons.push("Insufficient ephemeral-storage".to_string());
    }
    for (name, want) in &request.scalar {
        let free = alloc.scalar.get(name).copied().unwrap_or(0)
            - used.scalar.get(name).copied().unwrap_or(0);
        if *want > 0 && *want > free {
            reasons.push(format!("Insufficient {name}"));
        }
    }
    reasons
}

/// `leastRequestedScore`: the unused share of one resource, 0..=100.
fn least_requested_score(requested: i64, capacity: i64) -> i64 {
    if capacity == 0 || requested > capacity {
        return 0;
    }
    (capacity - requested) * MAX_NODE_SCORE / capacity
}

/// `leastResourceScorer` over CPU and memory (weight 1 each); resources the node does not
/// offer are left out of the average.
fn least_allocated(state: &CycleState, node: &NodeInfo) -> i64 {
    let pairs = [
        (
            node.non_zero_requested.milli_cpu + state.non_zero_requests.milli_cpu,
            node.allocatable.milli_cpu,
        ),
        (
            node.non_zero_requested.memory + state.non_zero_requests.memory,
            node.allocatable.memory,
        ),
    ];
    let (mut score, mut weights) = (0, 0);
    for (requested, allocatable) in pairs {
        if allocatable == 0 {
            continue;
        }
        score += least_requested_score(requested, allocatable);
        weights += 1;
    }
    if weights == 0 { 0 } else { score / weights }
}

const EVENTS: &[ClusterEvent] = &[
    ClusterEvent::new(EventResource::Pod, ActionType::DELETE),
    ClusterEvent::new(
        EventResource::Node,
        ActionType::ADD.or(ActionType::UPDATE_NODE_ALLOCATABLE),
    ),
];

impl Plugin for NodeResourcesFit {
    fn name(&self) -> &'static str {
        NAME
    }

    // `Fit.Filter`.
    fn filter(&self, state: &CycleState, _: &Pod, node: &NodeInfo) -> Result<(), Rejection> {
        let reasons = fits_request(&state.requests, node);
        if reasons.is_empty() {
            Ok(())
        } else {
            Err(Rejection::unschedulable(reasons))
        }
    }

    // `Fit.Score` with the LeastAllocated strategy (no normalisation).
    fn score(&self, state: &CycleState, _: &Pod, nodes: &[&NodeInfo]) -> Option<Vec<i64>> {
        Some(nodes.iter().map(|n| least_allocated(state, n)).collect())
    }

    fn events_to_register(&self) -> &'static [ClusterEvent] {
        EVENTS
    }

    // `isSchedulableAfterPodEvent` / `isSchedulableAfterNodeChange`.
    fn queueing_hint(
        &self,
        pod: &Pod,
        _: &ClusterEvent,
        old: Option<&AnyObject>,
        new: Option<&AnyObject>,
    ) -> QueueingHint {
        let queue = match (old, new) {
            // A deleted pod frees space only if it was on a node.
            (Some(AnyObject::Pod(deleted)), None) => !deleted.spec.node_name.is_empty(),
            (_, Some(AnyObject::Node(new))) => {
                let request = pod_requests(pod, NonMissing::default());
                // The node alone must be able to hold the pod...
                let fits_empty =
                    fits_request(&request, &NodeInfo::of_node(Rc::clone(new))).is_empty();
                match old {
                    // ...and an update must have raised something the pod asks for.
                    Some(AnyObject::Node(old)) => {
                        let (a, b) = (
                            Resource::from_list(&old.status.allocatable),
                            Resource::from_list(&new.status.allocatable),
                        );
                        fits_empty
                            && (b.allowed_pod_number > a.allowed_pod_number
                                || (request.milli_cpu > 0 && b.milli_cpu > a.milli_cpu)
                                || (request.memory > 0 && b.memory > a.memory)
                                || (request.ephemeral_storage > 0
                                    && b.ephemeral_storage > a.ephemeral_storage)
                                || request.scalar.iter().any(|(k, v)| {
                                    let get = |r: &Resource| r.scalar.get(k).copied().unwrap_or(0);
                                    *v > 0 && get(&b) > get(&a)
                                }))
                    }
                    _ => fits_empty,
                }
            }
            _ => true,
        };
        if queue {
            QueueingHint::Queue
        } else {
            QueueingHint::QueueSkip
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::control::scheduler::plugins::testing::{info, node, pod};

    fn check(p: &Pod, n: &NodeInfo) -> Result<(), Rejection> {
        NodeResourcesFit.filter(&CycleState::new(p), p, n)
    }

    #[test]
    fn requests_must_fit_what_the_node_has_left() {
        let n = info(
            node("n1", "2", "4Gi"),
            &[pod("a", &[("cpu", "1500m"), ("memory", "1Gi")])],
        );
        assert!(check(&pod("p", &[("cpu", "500m"), ("memory", "3Gi")]), &n).is_ok());
        let err = check(&pod("p", &[("cpu", "501m"), ("memory", "3Gi")]), &n).unwrap_err();
        assert_eq!(err.reasons, vec!["Insufficient cpu"]);
        let err = check(&pod("p", &[("cpu", "1"), ("memory", "4Gi")]), &n).unwrap_err();
        assert_eq!(err.reasons, vec!["Insufficient cpu", "Insufficient memory"]);
        // A pod that requests nothing fits anywhere there is room for one more pod.
        assert!(check(&pod("p", &[]), &n).is_ok());
        let err = check(&pod("p", &[("nvidia.com/gpu", "1")]), &n).unwrap_err();
        assert_eq!(err.reasons, vec!["Insufficient nvidia.com/gpu"]);
    }

    #[test]
    fn pod_count_is_limited_by_allocatable_pods() {
        let mut small = node("n1", "8", "8Gi");
        small
            .status
            .allocatable
            .insert("pods".into(), crate::api::Quantity("1".into()));
        let n = info(small, &[pod("a", &[])]);
        let err = check(&pod("p", &[]), &n).unwrap_err();
        assert_eq!(err.reasons, vec!["Too many pods"]);
    }

    #[test]
    fn assumed_pods_take_space_and_forgetting_frees_it() {
        use crate::control::scheduler::cache::Cache;
        let mut cache = Cache::default();
        cache.set_node(&Rc::new(node("n1", "1", "1Gi")));
        let mut bound = pod("a", &[("cpu", "800m")]);
        bound.spec.node_name = "n1".into();
        let bound = Rc::new(bound);
        cache.assume_pod(Rc::clone(&bound));
        let p = pod("p", &[("cpu", "300m")]);
        assert!(check(&p, cache.get("n1").unwrap()).is_err());
        cache.forget_pod(&bound);
        assert!(check(&p, cache.get("n1").unwrap()).is_ok());
    }

    #[test]
    fn least_allocated_prefers_the_emptier_node() {
        let p = pod("p", &[("cpu", "1"), ("memory", "1Gi")]);
        let state = CycleState::new(&p);
        let empty = info(node("e", "4", "4Gi"), &[]);
        let busy = info(
            node("b", "4", "4Gi"),
            &[pod("a", &[("cpu", "2"), ("memory", "2Gi")])],
        );
        // Empty: (3/4, 3/4) → 75. Busy: (1/4, 1/4) → 25.
        assert_eq!(
            NodeResourcesFit.score(&state, &p, &[&empty, &busy]),
            Some(vec![75, 25])
        );
        // Containers without requests are scored as 100m CPU and 200 MiB.
        let none = pod("q", &[]);
        let state = CycleState::new(&none);
        let big = info(node("big", "1", "2000Mi"), &[]);
        assert_eq!(
            NodeResourcesFit.score(&state, &none, &[&big]),
            Some(vec![(90 + 90) / 2])
        );
    }

    #[test]
    fn deletes_of_bound_pods_and_bigger_nodes_requeue() {
        let p = pod("p", &[("cpu", "2")]);
        let ev = ClusterEvent::ASSIGNED_POD_DELETE;
        let mut gone = pod("a", &[]);
        let unbound = AnyObject::Pod(Rc::new(gone.clone()));
        gone.spec.node_name = "n1".into();
        let bound = AnyObject::Pod(Rc::new(gone));
        assert_eq!(
            NodeResourcesFit.queueing_hint(&p, &ev, Some(&bound), None),
            QueueingHint::Queue
        );
        assert_eq!(
            NodeResourcesFit.queueing_hint(&p, &ev, Some(&unbound), None),
            QueueingHint::QueueSkip
        );
        let small = AnyObject::Node(Rc::new(node("n1", "1", "1Gi")));
        let large = AnyObject::Node(Rc::new(node("n1", "4", "1Gi")));
        let ev = ClusterEvent::NODE_ADD;
        assert_eq!(
            NodeResourcesFit.queueing_hint(&p, &ev, None, Some(&small)),
            QueueingHint::QueueSkip
        );
        assert_eq!(
            NodeResourcesFit.queueing_hint(&p, &ev, None, Some(&large)),
            QueueingHint::Queue
        );
        assert_eq!(
            NodeResourcesFit.queueing_hint(&p, &ev, Some(&small), Some(&large)),
            QueueingHint::Queue
        );
        assert_eq!(
            NodeResourcesFit.queueing_hint(&p, &ev, Some(&large), Some(&large)),
            QueueingHint::QueueSkip
        );
    }
}
