//! Node selection rules shared by the NodeAffinity plugin (and, later, PersistentVolume
//! node affinity): a port of `k8s.io/component-helpers/scheduling/corev1/nodeaffinity`.
//!
//! Terms of a `NodeSelector` are ORed; the requirements inside a term are ANDed. A term
//! with no requirements selects nothing, and a term with a malformed requirement (an
//! unknown operator, `Gt` without exactly one integer) matches nothing either — upstream
//! records a parse error for it and moves on to the next term.

use crate::api::Node;
use crate::api::pod::PodSpec;
use crate::api::scheduling::{
    NodeSelector, NodeSelectorRequirement, NodeSelectorTerm, PreferredSchedulingTerm,
};
use std::collections::BTreeMap;

/// `metav1.ObjectNameField`, the only field `matchFields` may name.
pub const OBJECT_NAME_FIELD: &str = "metadata.name";

/// One `matchExpressions` requirement against node labels (`labels.Requirement.Matches`
/// after `NodeSelectorRequirementsAsSelector`). `Err` for a requirement upstream would
/// refuse to parse.
fn label_requirement(
    r: &NodeSelectorRequirement,
    labels: &BTreeMap<String, String>,
) -> Result<bool, ()> {
    let value = labels.get(&r.key);
    match r.operator.as_str() {
        "In" | "NotIn" => {
            if r.values.is_empty() {
                return Err(());
            }
            let listed = value.is_some_and(|v| r.values.contains(v));
            Ok(if r.operator == "In" { listed } else { !listed })
        }
        "Exists" | "DoesNotExist" => {
            if !r.values.is_empty() {
                return Err(());
            }
            Ok(value.is_some() == (r.operator == "Exists"))
        }
        "Gt" | "Lt" => {
            let [bound] = r.values.as_slice() else {
                return Err(());
            };
            let bound: i64 = bound.parse().map_err(|_| ())?;
            // A label that is missing or not an integer does not match.
            let Some(v) = value.and_then(|v| v.parse::<i64>().ok()) else {
                return Ok(false);
            };
            Ok(if r.operator == "Gt" {
                v > bound
            } else {
                v < bound
            })
        }
        _ => Err(()),
    }
}

/// One `matchFields` requirement (`NodeSelectorRequirementsAsFieldSelector`): only
/// `metadata.name` with `In`/`NotIn` and exactly one value is valid.
fn field_requirement(r: &NodeSelectorRequirement, node_name: &str) -> Result<bool, ()> {
    if r.key != OBJECT_NAME_FIELD {
        return Err(());
    }
    let [value] = r.values.as_slice() else {
        return Err(());
    };
    match r.operator.as_str() {
        "In" => Ok(node_name == value),
        "NotIn" => Ok(node_name != value),
        _ => Err(()),
    }
}

fn is_empty_term(t: &NodeSelectorTerm) -> bool {
    t.match_expressions.is_empty() && t.match_fields.is_empty()
}

/// `nodeSelectorTerm.match`: every requirement holds (a malformed one makes it false).
pub fn term_matches(t: &NodeSelectorTerm, node: &Node) -> bool {
    if is_empty_term(t) {
        return false;
    }
    let labels = &node.metadata.labels;
    let mut ok = true;
    for r in &t.match_expressions {
        match label_requirement(r, labels) {
            Ok(m) => ok &= m,
            Err(()) => return false,
        }
    }
    for r in &t.match_fields {
        match field_requirement(r, &node.metadata.name) {
            Ok(m) => ok &= m,
            Err(()) => return false,
        }
    }
    ok
}

/// `LazyErrorNodeSelector.Match`: any term matches.
pub fn node_selector_matches(ns: &NodeSelector, node: &Node) -> bool {
    ns.node_selector_terms.iter().any(|t| term_matches(t, node))
}

/// `RequiredNodeAffinity` (`GetRequiredNodeAffinity`): the pod's `nodeSelector` labels
/// and its required node affinity, both of which must hold.
pub struct RequiredNodeAffinity<'a> {
    node_selector: &'a BTreeMap<String, String>,
    affinity: Option<&'a NodeSelector>,
}

impl<'a> RequiredNodeAffinity<'a> {
    pub fn of(spec: &'a PodSpec) -> Self {
        let affinity = spec
            .affinity
            .as_ref()
            .and_then(|a| a.node_affinity.as_ref())
            .and_then(|na| {
                na.required_during_scheduling_ignored_during_execution
                    .as_ref()
            });
        RequiredNodeAffinity {
            node_selector: &spec.node_selector,
            affinity,
        }
    }

    /// Whether the pod asks for anything at all.
    pub fn is_empty(&self) -> bool {
        self.node_selector.is_empty() && self.affinity.is_none()
    }

    pub fn matches(&self, node: &Node) -> bool {
        let labels = &node.metadata.labels;
        if !self
            .node_selector
            .iter()
            .all(|(k, v)| labels.get(k) == Some(v))
        {
            return false;
        }
        self.affinity
            .is_none_or(|ns| node_selector_matches(ns, node))
    }
}

/// `PreferredSchedulingTerms.Score`: the sum of the weights of the preferred terms the
/// node matches (terms of weight 0 and empty terms count for nothing).
pub fn preferred_score(terms: &[PreferredSchedulingTerm], node: &Node) -> i64 {
    terms
        .iter()
        .filter(|t| t.weight != 0 && !is_empty_term(&t.preference))
        .filter(|t| term_matches(&t.preference, node))
        .map(|t| i64::from(t.weight))
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(name: &str, labels: &[(&str, &str)]) -> Node {
        let mut n = Node::default();
        n.metadata.name = name.into();
        n.metadata.labels = labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        n
    }

    fn req(key: &str, op: &str, values: &[&str]) -> NodeSelectorRequirement {
        NodeSelectorRequirement {
            key: key.into(),
            operator: op.into(),
            values: values.iter().map(|v| v.to_string()).collect(),
        }
    }

    fn term(exprs: Vec<NodeSelectorRequirement>) -> NodeSelectorTerm {
        NodeSelectorTerm {
            match_expressions: exprs,
            ..Default::default()
        }
    }

    #[test]
    fn operators() {
        let n = node("n1", &[("zone", "a"), ("cores", "8")]);
        let cases = [
            (req("zone", "In", &["a", "b"]), true),
            (req("zone", "In", &["b"]), false),
            (req("zone", "NotIn", &["b"]), true),
            (req("zone", "NotIn", &["a"]), false),
            (req("missing", "NotIn", &["a"]), true),
            (req("zone", "Exists", &[]), true),
            (req("missing", "Exists", &[]), false),
            (req("missing", "DoesNotExist", &[]), true),
            (req("zone", "DoesNotExist", &[]), false),
            (req("cores", "Gt", &["4"]), true),
            (req("cores", "Gt", &["8"]), false),
            (req("cores", "Lt", &["16"]), true),
            (req("cores", "Lt", &["8"]), false),
            // A label that is not an integer, or missing, never satisfies Gt/Lt.
            (req("zone", "Gt", &["1"]), false),
            (req("missing", "Lt", &["1"]), false),
            // Malformed requirements match nothing.
            (req("cores", "Gt", &["4", "5"]), false),
            (req("cores", "Gt", &["four"]), false),
            (req("zone", "In", &[]), false),
            (req("zone", "Exists", &["a"]), false),
            (req("zone", "Like", &["a"]), false),
        ];
        for (r, want) in cases {
            assert_eq!(term_matches(&term(vec![r.clone()]), &n), want, "{r:?}");
        }
    }

    #[test]
    fn terms_are_ored_and_expressions_anded() {
        let n = node("n1", &[("zone", "a"), ("disk", "ssd")]);
        let both = term(vec![req("zone", "In", &["a"]), req("disk", "In", &["hdd"])]);
        assert!(!term_matches(&both, &n));
        let ns = NodeSelector {
            node_selector_terms: vec![both, term(vec![req("disk", "In", &["ssd"])])],
        };
        assert!(node_selector_matches(&ns, &n));
        // An empty term selects nothing; no terms select nothing.
        assert!(!node_selector_matches(
            &NodeSelector {
                node_selector_terms: vec![NodeSelectorTerm::default()]
            },
            &n
        ));
        assert!(!node_selector_matches(&NodeSelector::default(), &n));
    }

    #[test]
    fn match_fields_select_by_node_name() {
        let n = node("node-a-1", &[]);
        let by_name = |op: &str, v: &[&str]| NodeSelectorTerm {
            match_fields: vec![req(OBJECT_NAME_FIELD, op, v)],
            ..Default::default()
        };
        assert!(term_matches(&by_name("In", &["node-a-1"]), &n));
        assert!(!term_matches(&by_name("In", &["node-b-1"]), &n));
        assert!(term_matches(&by_name("NotIn", &["node-b-1"]), &n));
        // Two values are refused by the field selector parser.
        assert!(!term_matches(&by_name("In", &["node-a-1", "x"]), &n));
        let other_field = NodeSelectorTerm {
            match_fields: vec![req("metadata.uid", "In", &["x"])],
            ..Default::default()
        };
        assert!(!term_matches(&other_field, &n));
    }

    #[test]
    fn preferred_terms_sum_matching_weights() {
        let n = node("n1", &[("zone", "a"), ("disk", "ssd")]);
        let pref = |w: i32, r: NodeSelectorRequirement| PreferredSchedulingTerm {
            weight: w,
            preference: term(vec![r]),
        };
        let terms = [
            pref(10, req("zone", "In", &["a"])),
            pref(5, req("disk", "In", &["ssd"])),
            pref(7, req("disk", "In", &["hdd"])),
            pref(0, req("zone", "Exists", &[])),
        ];
        assert_eq!(preferred_score(&terms, &n), 15);
    }
}
