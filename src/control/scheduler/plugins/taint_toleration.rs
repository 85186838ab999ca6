//! TaintToleration (`plugins/tainttoleration`): a node's `NoSchedule` and `NoExecute`
//! taints keep out pods that do not tolerate them (the first untolerated one is named in
//! the reason); `PreferNoSchedule` taints only lower the node's score.

use crate::api::scheduling::{Taint, Toleration};
use crate::api::{AnyObject, Node, Pod};
use crate::control::scheduler::cache::NodeInfo;
use crate::control::scheduler::events::{ActionType, ClusterEvent, EventResource};
use crate::control::scheduler::framework::{
    CycleState, Plugin, QueueingHint, Rejection, default_normalize_score,
};

pub const NAME: &str = "TaintToleration";

pub struct TaintToleration;

/// `v1helper.TolerationsTolerateTaint`.
fn tolerated(tolerations: &[Toleration], taint: &Taint) -> bool {
    tolerations.iter().any(|t| t.tolerates(taint))
}

/// `FindMatchingUntoleratedTaint` with `DoNotScheduleTaintsFilterFunc`: the first
/// `NoSchedule`/`NoExecute` taint, in the node's order, that no toleration covers.
pub fn find_untolerated_taint<'a>(node: &'a Node, pod: &Pod) -> Option<&'a Taint> {
    node.spec.taints.iter().find(|t| {
        (t.effect == "NoSchedule" || t.effect == "NoExecute")
            && !tolerated(&pod.spec.tolerations, t)
    })
}

/// `getAllTolerationPreferNoSchedule` (PreScore, once per cycle): the tolerations that can
/// cover a `PreferNoSchedule` taint (that effect or an empty one).
fn tolerations_prefer_no_schedule(pod: &Pod) -> Vec<&Toleration> {
    pod.spec
        .tolerations
        .iter()
        .filter(|t| t.effect.is_empty() || t.effect == "PreferNoSchedule")
        .collect()
}

/// `countIntolerableTaintsPreferNoSchedule`.
fn count_intolerable_prefer_no_schedule(node: &Node, tolerations: &[&Toleration]) -> i64 {
    node.spec
        .taints
        .iter()
        .filter(|t| t.effect == "PreferNoSchedule" && !tolerations.iter().any(|x| x.tolerates(t)))
        .count() as i64
}

const EVENTS: &[ClusterEvent] = &[
    ClusterEvent::new(
        EventResource::Node,
        ActionType::ADD.or(ActionType::UPDATE_NODE_TAINT),
    ),
    ClusterEvent::new(EventResource::Pod, ActionType::UPDATE_POD_TOLERATION),
];

impl Plugin for TaintToleration {
    fn name(&self) -> &'static str {
        NAME
    }

    // `TaintToleration.Filter`.
    fn filter(&self, _: &CycleState, pod: &Pod, node: &NodeInfo) -> Result<(), Rejection> {
        match find_untolerated_taint(node.node(), pod) {
            None => Ok(()),
            Some(t) => Err(Rejection::unresolvable(&format!(
                "node(s) had untolerated taint {{{}: {}}}",
                t.key, t.value
            ))),
        }
    }

    // `TaintToleration.Score` + `NormalizeScore`: fewer intolerable PreferNoSchedule
    // taints score higher.
    fn score(&self, _: &CycleState, pod: &Pod, nodes: &[&NodeInfo]) -> Option<Vec<i64>> {
        let tolerations = tolerations_prefer_no_schedule(pod);
        let mut scores: Vec<i64> = nodes
            .iter()
            .map(|n| count_intolerable_prefer_no_schedule(n.node(), &tolerations))
            .collect();
        default_normalize_score(&mut scores, true);
        Some(scores)
    }

    fn events_to_register(&self) -> &'static [ClusterEvent] {
        EVENTS
    }

    // `isSchedulableAfterNodeChange` / `isSchedulableAfterPodTolerationChange`.
    fn queueing_hint(
        &self,
        pod: &Pod,
        _: &ClusterEvent,
        old: Option<&AnyObject>,
        new: Option<&AnyObject>,
    ) -> QueueingHint {
        let queue = match new {
            Some(AnyObject::Node(new)) => {
                let was_untolerated = match old {
                    Some(AnyObject::Node(old)) => find_untolerated_taint(old, pod).is_some(),
                    _ => true,
                };
                was_untolerated && find_untolerated_taint(new, pod).is_none()
            }
            Some(AnyObject::Pod(new)) => new.metadata.uid == pod.metadata.uid,
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
    use crate::control::scheduler::plugins::testing::{info, node, pod, taint, toleration};
    use std::rc::Rc;

    fn tainted(taints: Vec<Taint>) -> NodeInfo {
        let mut n = node("n1", "1", "1Gi");
        n.spec.taints = taints;
        info(n, &[])
    }

    fn with(tolerations: Vec<Toleration>) -> Pod {
        let mut p = pod("p", &[]);
        p.spec.tolerations = tolerations;
        p
    }

    #[test]
    fn filter_names_the_first_untolerated_taint() {
        let n = tainted(vec![
            taint("dedicated", "db", "NoSchedule"),
            taint("node.kubernetes.io/not-ready", "", "NoExecute"),
        ]);
        let p = with(vec![]);
        let state = CycleState::new(&p);
        let err = TaintToleration.filter(&state, &p, &n).unwrap_err();
        assert_eq!(
            err.reasons,
            vec!["node(s) had untolerated taint {dedicated: db}"]
        );
        let p = with(vec![toleration("dedicated", "Equal", "db", "NoSchedule")]);
        let err = TaintToleration.filter(&state, &p, &n).unwrap_err();
        assert_eq!(
            err.reasons,
            vec!["node(s) had untolerated taint {node.kubernetes.io/not-ready: }"]
        );
    }

    #[test]
    fn toleration_operators_and_effects() {
        let n = tainted(vec![taint("dedicated", "db", "NoSchedule")]);
        let state = CycleState::new(&pod("p", &[]));
        let cases = [
            (toleration("dedicated", "Equal", "db", "NoSchedule"), true),
            (toleration("dedicated", "", "db", "NoSchedule"), true),
            (toleration("dedicated", "Equal", "web", "NoSchedule"), false),
            (toleration("dedicated", "Exists", "", "NoSchedule"), true),
            // An empty effect tolerates every effect.
            (toleration("dedicated", "Exists", "", ""), true),
            (toleration("dedicated", "Exists", "", "NoExecute"), false),
            // An empty key with Exists tolerates every taint.
            (toleration("", "Exists", "", ""), true),
            (toleration("other", "Exists", "", ""), false),
        ];
        for (t, fits) in cases {
            let p = with(vec![t.clone()]);
            assert_eq!(
                TaintToleration.filter(&state, &p, &n).is_ok(),
                fits,
                "{t:?}"
            );
        }
        // PreferNoSchedule taints never filter.
        let soft = tainted(vec![taint("spot", "", "PreferNoSchedule")]);
        assert!(TaintToleration.filter(&state, &with(vec![]), &soft).is_ok());
    }

    #[test]
    fn score_prefers_fewer_intolerable_prefer_no_schedule_taints() {
        let clean = tainted(vec![]);
        let one = tainted(vec![taint("a", "", "PreferNoSchedule")]);
        let two = tainted(vec![
            taint("a", "", "PreferNoSchedule"),
            taint("b", "", "PreferNoSchedule"),
            taint("c", "", "NoSchedule"),
        ]);
        let p = with(vec![toleration("b", "Exists", "", "PreferNoSchedule")]);
        let state = CycleState::new(&p);
        let scores = TaintToleration
            .score(&state, &p, &[&clean, &one, &two])
            .unwrap();
        assert_eq!(scores, vec![100, 0, 0]);
        let scores = TaintToleration
            .score(&state, &with(vec![]), &[&clean, &one, &two])
            .unwrap();
        assert_eq!(scores, vec![100, 50, 0]);
    }

    #[test]
    fn requeue_when_the_blocking_taint_goes() {
        let p = with(vec![]);
        let mut n = node("n1", "1", "1Gi");
        n.spec.taints = vec![taint("node.kubernetes.io/not-ready", "", "NoSchedule")];
        let before = AnyObject::Node(Rc::new(n.clone()));
        n.spec.taints.clear();
        let after = AnyObject::Node(Rc::new(n));
        let ev = ClusterEvent::new(EventResource::Node, ActionType::UPDATE_NODE_TAINT);
        let hint = |o, n| TaintToleration.queueing_hint(&p, &ev, o, n);
        assert_eq!(hint(Some(&before), Some(&after)), QueueingHint::Queue);
        assert_eq!(hint(Some(&after), Some(&before)), QueueingHint::QueueSkip);
        assert_eq!(hint(Some(&after), Some(&after)), QueueingHint::QueueSkip);
    }
}
