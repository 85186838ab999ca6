//! NodeAffinity (`plugins/nodeaffinity`): `spec.nodeSelector` and required node affinity
//! filter nodes; preferred node affinity terms add their weights to a node's score. A
//! required term that pins `metadata.name` narrows the candidate nodes in PreFilter.

use crate::api::{AnyObject, Pod};
use crate::control::scheduler::cache::NodeInfo;
use crate::control::scheduler::events::{ActionType, ClusterEvent, EventResource};
use crate::control::scheduler::framework::{
    CycleState, Plugin, PreFilterResult, QueueingHint, Rejection, default_normalize_score,
};
use crate::control::scheduler::node_selector::{
    OBJECT_NAME_FIELD, RequiredNodeAffinity, preferred_score,
};
use std::collections::BTreeSet;

pub const NAME: &str = "NodeAffinity";
/// `ErrReasonPod`.
pub const ERR_REASON_POD: &str = "node(s) didn't match Pod's node affinity/selector";
/// `errReasonConflict`.
pub const ERR_REASON_CONFLICT: &str = "pod affinity terms conflict";

pub struct NodeAffinity;

const EVENTS: &[ClusterEvent] = &[ClusterEvent::new(
    EventResource::Node,
    ActionType::ADD.or(ActionType::UPDATE_NODE_LABEL),
)];

impl Plugin for NodeAffinity {
    fn name(&self) -> &'static str {
        NAME
    }

    // `NodeAffinity.PreFilter`.
    fn pre_filter(&self, _: &CycleState, pod: &Pod) -> PreFilterResult {
        let required = RequiredNodeAffinity::of(&pod.spec);
        if required.is_empty() {
            return PreFilterResult::Skip;
        }
        let terms = pod
            .spec
            .affinity
            .as_ref()
            .and_then(|a| a.node_affinity.as_ref())
            .and_then(|na| {
                na.required_during_scheduling_ignored_during_execution
                    .as_ref()
            })
            .map_or(&[][..], |ns| &ns.node_selector_terms[..]);
        if terms.is_empty() {
            return PreFilterResult::AllNodes;
        }
        // Terms are ORed: the candidates are the union over terms, and a term without a
        // `metadata.name In` requirement admits every node.
        let mut names: BTreeSet<String> = BTreeSet::new();
        for t in terms {
            let mut term_names: Option<BTreeSet<String>> = None;
            for r in &t.match_fields {
                if r.key == OBJECT_NAME_FIELD && r.operator == "In" {
                    let s: BTreeSet<String> = r.values.iter().cloned().collect();
                    term_names = Some(match term_names {
                        None => s,
                        Some(prev) => prev.intersection(&s).cloned().collect(),
                    });
                }
            }
            match term_names {
                None => return PreFilterResult::AllNodes,
                Some(s) => names.extend(s),
            }
        }
        if names.is_empty() {
            return PreFilterResult::Reject(Rejection::unresolvable(ERR_REASON_CONFLICT));
        }
        PreFilterResult::Nodes(names)
    }

    // `NodeAffinity.Filter`.
    fn filter(&self, _: &CycleState, pod: &Pod, node: &NodeInfo) -> Result<(), Rejection> {
        if RequiredNodeAffinity::of(&pod.spec).matches(node.node()) {
            Ok(())
        } else {
            Err(Rejection::unresolvable(ERR_REASON_POD))
        }
    }

    // `NodeAffinity.Score` + `NormalizeScore`; skipped when the pod prefers nothing.
    fn score(&self, _: &CycleState, pod: &Pod, nodes: &[&NodeInfo]) -> Option<Vec<i64>> {
        let preferred = &pod
            .spec
            .affinity
            .as_ref()?
            .node_affinity
            .as_ref()?
            .preferred_during_scheduling_ignored_during_execution;
        if preferred.is_empty() {
            return None;
        }
        let mut scores: Vec<i64> = nodes
            .iter()
            .map(|n| preferred_score(preferred, n.node()))
            .collect();
        default_normalize_score(&mut scores, false);
        Some(scores)
    }

    fn events_to_register(&self) -> &'static [ClusterEvent] {
        EVENTS
    }

    // `isSchedulableAfterNodeChange`: a node that now matches and did not before.
    fn queueing_hint(
        &self,
        pod: &Pod,
        _: &ClusterEvent,
        old: Option<&AnyObject>,
        new: Option<&AnyObject>,
    ) -> QueueingHint {
        let required = RequiredNodeAffinity::of(&pod.spec);
        let Some(AnyObject::Node(new)) = new else {
            return QueueingHint::Queue;
        };
        let matched_before = matches!(old, Some(AnyObject::Node(o)) if required.matches(o));
        if required.matches(new) && !matched_before {
            QueueingHint::Queue
        } else {
            QueueingHint::QueueSkip
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::scheduling::{
        Affinity, NodeAffinity as NodeAffinitySpec, NodeSelector, NodeSelectorRequirement,
        NodeSelectorTerm, PreferredSchedulingTerm,
    };
    use crate::control::scheduler::plugins::testing::{info, node, pod};

    fn req(key: &str, op: &str, values: &[&str]) -> NodeSelectorRequirement {
        NodeSelectorRequirement {
            key: key.into(),
            operator: op.into(),
            values: values.iter().map(|v| v.to_string()).collect(),
        }
    }

    fn with_required(terms: Vec<NodeSelectorTerm>) -> Pod {
        let mut p = pod("p", &[]);
        p.spec.affinity = Some(Affinity {
            node_affinity: Some(NodeAffinitySpec {
                required_during_scheduling_ignored_during_execution: Some(NodeSelector {
                    node_selector_terms: terms,
                }),
                ..Default::default()
            }),
            ..Default::default()
        });
        p
    }

    fn labelled(name: &str, labels: &[(&str, &str)]) -> NodeInfo {
        let mut n = node(name, "1", "1Gi");
        for (k, v) in labels {
            n.metadata.labels.insert(k.to_string(), v.to_string());
        }
        info(n, &[])
    }

    #[test]
    fn node_selector_and_required_affinity_both_apply() {
        let mut p = with_required(vec![NodeSelectorTerm {
            match_expressions: vec![req("zone", "In", &["a", "b"])],
            ..Default::default()
        }]);
        p.spec.node_selector.insert("disk".into(), "ssd".into());
        let state = CycleState::new(&p);
        let fits =
            |labels: &[(&str, &str)]| NodeAffinity.filter(&state, &p, &labelled("n", labels));
        assert!(fits(&[("zone", "a"), ("disk", "ssd")]).is_ok());
        let err = fits(&[("zone", "a")]).unwrap_err();
        assert_eq!(
            err.reasons,
            vec!["node(s) didn't match Pod's node affinity/selector"]
        );
        assert!(fits(&[("zone", "c"), ("disk", "ssd")]).is_err());
    }

    #[test]
    fn gt_and_lt_compare_integers() {
        let p = with_required(vec![NodeSelectorTerm {
            match_expressions: vec![req("cores", "Gt", &["4"]), req("cores", "Lt", &["32"])],
            ..Default::default()
        }]);
        let state = CycleState::new(&p);
        let fits = |cores: &str| {
            NodeAffinity
                .filter(&state, &p, &labelled("n", &[("cores", cores)]))
                .is_ok()
        };
        assert!(fits("8"));
        assert!(!fits("4"));
        assert!(!fits("32"));
        assert!(!fits("many"));
    }

    #[test]
    fn prefilter_skips_pods_without_requirements_and_narrows_pinned_ones() {
        let state = CycleState::new(&pod("p", &[]));
        assert_eq!(
            NodeAffinity.pre_filter(&state, &pod("p", &[])),
            PreFilterResult::Skip
        );
        let pinned = |values: &[&str]| NodeSelectorTerm {
            match_fields: vec![req(OBJECT_NAME_FIELD, "In", values)],
            ..Default::default()
        };
        let p = with_required(vec![pinned(&["n1"]), pinned(&["n2"])]);
        assert_eq!(
            NodeAffinity.pre_filter(&state, &p),
            PreFilterResult::Nodes(["n1".to_string(), "n2".to_string()].into())
        );
        let conflict = with_required(vec![NodeSelectorTerm {
            match_fields: vec![
                req(OBJECT_NAME_FIELD, "In", &["n1"]),
                req(OBJECT_NAME_FIELD, "In", &["n2"]),
            ],
            ..Default::default()
        }]);
        assert_eq!(
            NodeAffinity.pre_filter(&state, &conflict),
            PreFilterResult::Reject(Rejection::unresolvable("pod affinity terms conflict"))
        );
    }

    #[test]
    fn preferred_terms_score_by_weight() {
        let mut p = pod("p", &[]);
        p.spec.affinity = Some(Affinity {
            node_affinity: Some(NodeAffinitySpec {
                preferred_during_scheduling_ignored_during_execution: vec![
                    PreferredSchedulingTerm {
                        weight: 80,
                        preference: NodeSelectorTerm {
                            match_expressions: vec![req("zone", "In", &["a"])],
                            ..Default::default()
                        },
                    },
                    PreferredSchedulingTerm {
                        weight: 20,
                        preference: NodeSelectorTerm {
                            match_expressions: vec![req("disk", "In", &["ssd"])],
                            ..Default::default()
                        },
                    },
                ],
                ..Default::default()
            }),
            ..Default::default()
        });
        let state = CycleState::new(&p);
        let a = labelled("a", &[("zone", "a")]);
        let b = labelled("b", &[("disk", "ssd")]);
        let c = labelled("c", &[]);
        assert_eq!(
            NodeAffinity.score(&state, &p, &[&a, &b, &c]),
            Some(vec![100, 25, 0])
        );
        assert_eq!(NodeAffinity.score(&state, &pod("q", &[]), &[&a]), None);
    }
}
