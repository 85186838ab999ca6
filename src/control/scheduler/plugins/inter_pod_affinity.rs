//! InterPodAffinity (`plugins/interpodaffinity`): required pod affinity and anti-affinity
//! filter nodes by the pods already in the node's topology domain (and by the anti-affinity
//! of those pods towards the incoming one); preferred terms, and the required affinity of
//! existing pods (`hardPodAffinityWeight` 1), score domains.
//!
//! Terms' `matchLabelKeys` / `mismatchLabelKeys` are merged into their label selector as the
//! API server does at pod creation (`applyMatchLabelKeysAndMismatchLabelKeys`). Namespaces
//! are not modelled as objects: a `namespaceSelector` is matched against the one label every
//! namespace carries, `kubernetes.io/metadata.name`. Terminating pods count, as upstream.

use crate::api::scheduling::{PodAffinity, PodAffinityTerm};
use crate::api::{AnyObject, Node, Pod};
use crate::control::scheduler::cache::{
    NodeInfo, pod_with_affinity as has_affinity,
    pod_with_required_anti_affinity as has_required_anti_affinity,
};
use crate::control::scheduler::events::{ActionType, ClusterEvent, EventResource};
use crate::control::scheduler::framework::{
    CycleState, MAX_NODE_SCORE, Plugin, PreFilterResult, QueueingHint, Rejection,
};
use std::collections::BTreeMap;
use std::rc::Rc;

pub const NAME: &str = "InterPodAffinity";
/// `ErrReasonExistingAntiAffinityRulesNotMatch`.
pub const ERR_REASON_EXISTING_ANTI_AFFINITY_RULES_NOT_MATCH: &str =
    "node(s) didn't satisfy existing pods anti-affinity rules";
/// `ErrReasonAffinityRulesNotMatch`.
pub const ERR_REASON_AFFINITY_RULES_NOT_MATCH: &str = "node(s) didn't match pod affinity rules";
/// `ErrReasonAntiAffinityRulesNotMatch`.
pub const ERR_REASON_ANTI_AFFINITY_RULES_NOT_MATCH: &str =
    "node(s) didn't match pod anti-affinity rules";

/// `InterPodAffinityArgs.HardPodAffinityWeight` default.
const HARD_POD_AFFINITY_WEIGHT: i64 = 1;
const PRE_FILTER_STATE_KEY: &str = "PreFilterInterPodAffinity";
/// The label the API server puts on every namespace.
const NAMESPACE_NAME_LABEL: &str = "kubernetes.io/metadata.name";

pub struct InterPodAffinity;

/// `fwk.AffinityTerm`: a term of `owner`, read in place (terms are matched once per pod
/// per node per cycle, so they are not copied).
#[derive(Clone, Copy, Debug)]
struct AffinityTerm<'a> {
    owner: &'a Pod,
    term: &'a PodAffinityTerm,
}

impl AffinityTerm<'_> {
    fn topology_key(&self) -> &str {
        &self.term.topology_key
    }

    /// `AffinityTerm.Matches`: `pod` is in one of the term's namespaces
    /// (`getNamespacesFromPodAffinityTerm`: the owner's own when the term names none) and
    /// has the labels its selector asks for, `matchLabelKeys` and `mismatchLabelKeys`
    /// included (`applyMatchLabelKeysAndMismatchLabelKeys`: `key In (owner's value)`,
    /// `key NotIn (owner's value)`).
    fn matches(&self, pod: &Pod) -> bool {
        let t = self.term;
        let ns = &pod.metadata.namespace;
        let in_namespace = if t.namespaces.is_empty() && t.namespace_selector.is_none() {
            *ns == self.owner.metadata.namespace
        } else {
            t.namespaces.contains(ns)
                || t.namespace_selector.as_ref().is_some_and(|s| {
                    s.matches(&[(NAMESPACE_NAME_LABEL.to_string(), ns.clone())].into())
                })
        };
        // A missing selector matches nothing.
        let Some(selector) = &t.label_selector else {
            return false;
        };
        let labels = &pod.metadata.labels;
        let owner = &self.owner.metadata.labels;
        in_namespace
            && selector.matches(labels)
            && t.match_label_keys
                .iter()
                .all(|k| owner.get(k).is_none_or(|v| labels.get(k) == Some(v)))
            && t.mismatch_label_keys
                .iter()
                .all(|k| owner.get(k).is_none_or(|v| labels.get(k) != Some(v)))
    }
}

fn pod_affinity(pod: &Pod) -> Option<&PodAffinity> {
    pod.spec.affinity.as_ref()?.pod_affinity.as_ref()
}

fn pod_anti_affinity(pod: &Pod) -> Option<&PodAffinity> {
    pod.spec.affinity.as_ref()?.pod_anti_affinity.as_ref()
}

fn required<'a>(pod: &'a Pod, a: Option<&'a PodAffinity>) -> Vec<AffinityTerm<'a>> {
    a.map_or(&[][..], |a| {
        &a.required_during_scheduling_ignored_during_execution[..]
    })
    .iter()
    .map(|term| AffinityTerm { owner: pod, term })
    .collect()
}

fn preferred<'a>(pod: &'a Pod, a: Option<&'a PodAffinity>) -> Vec<(AffinityTerm<'a>, i64)> {
    a.map_or(&[][..], |a| {
        &a.preferred_during_scheduling_ignored_during_execution[..]
    })
    .iter()
    .map(|w| {
        let t = AffinityTerm {
            owner: pod,
            term: &w.pod_affinity_term,
        };
        (t, i64::from(w.weight))
    })
    .collect()
}

fn required_affinity_terms(pod: &Pod) -> Vec<AffinityTerm<'_>> {
    required(pod, pod_affinity(pod))
}

fn required_anti_affinity_terms(pod: &Pod) -> Vec<AffinityTerm<'_>> {
    required(pod, pod_anti_affinity(pod))
}

/// `podMatchesAllAffinityTerms`.
fn pod_matches_all_affinity_terms(terms: &[AffinityTerm<'_>], pod: &Pod) -> bool {
    !terms.is_empty() && terms.iter().all(|t| t.matches(pod))
}

/// `topologyToMatchedTermCount`, as topology key → value → count (so that lookups borrow).
type TopologyCounts = BTreeMap<String, BTreeMap<String, i64>>;

fn add(counts: &mut TopologyCounts, node: &Node, key: &str, value: i64) {
    if let Some(v) = node.metadata.labels.get(key) {
        *counts
            .entry(key.to_string())
            .or_default()
            .entry(v.clone())
            .or_insert(0) += value;
    }
}

fn count(counts: &TopologyCounts, key: &str, value: &str) -> i64 {
    counts
        .get(key)
        .and_then(|m| m.get(value))
        .copied()
        .unwrap_or(0)
}

/// `preFilterState`.
struct PreFilterState {
    /// Topology pairs holding existing pods whose required anti-affinity matches the pod.
    existing_anti_affinity_counts: TopologyCounts,
    /// Topology pairs holding pods that match all the pod's required affinity terms.
    affinity_counts: TopologyCounts,
    /// Topology pairs holding pods that match one of the pod's anti-affinity terms.
    anti_affinity_counts: TopologyCounts,
    /// The topology keys of the pod's required affinity and anti-affinity terms.
    affinity_keys: Vec<String>,
    anti_affinity_keys: Vec<String>,
    /// The pod matches all of its own affinity terms (a first pod of a self-affine group).
    self_affine: bool,
}

// `satisfyPodAffinity`.
fn satisfy_pod_affinity(s: &PreFilterState, node: &Node) -> bool {
    let mut pods_exist = true;
    for key in &s.affinity_keys {
        let Some(v) = node.metadata.labels.get(key) else {
            return false; // All topology labels must exist on the node.
        };
        if count(&s.affinity_counts, key, v) <= 0 {
            pods_exist = false;
        }
    }
    // A pod of a group with affinity to itself may go anywhere while no pod of the group
    // exists, so that the first one is not left Pending forever.
    pods_exist || (s.affinity_counts.is_empty() && s.self_affine)
}

// `satisfyPodAntiAffinity`.
fn satisfy_pod_anti_affinity(s: &PreFilterState, node: &Node) -> bool {
    if s.anti_affinity_counts.is_empty() {
        return true;
    }
    !s.anti_affinity_keys.iter().any(|key| {
        node.metadata
            .labels
            .get(key)
            .is_some_and(|v| count(&s.anti_affinity_counts, key, v) > 0)
    })
}

// `satisfyExistingPodsAntiAffinity`.
fn satisfy_existing_pods_anti_affinity(s: &PreFilterState, node: &Node) -> bool {
    s.existing_anti_affinity_counts.is_empty()
        || !node
            .metadata
            .labels
            .iter()
            .any(|(k, v)| count(&s.existing_anti_affinity_counts, k, v) > 0)
}

const EVENTS: &[ClusterEvent] = &[
    ClusterEvent::new(
        EventResource::Pod,
        ActionType::ADD
            .or(ActionType::UPDATE_POD_LABEL)
            .or(ActionType::DELETE),
    ),
    ClusterEvent::new(
        EventResource::Node,
        ActionType::ADD.or(ActionType::UPDATE_NODE_LABEL),
    ),
];

impl Plugin for InterPodAffinity {
    fn name(&self) -> &'static str {
        NAME
    }

    // `InterPodAffinity.PreFilter` with `getExistingAntiAffinityCounts` and
    // `getIncomingAffinityAntiAffinityCounts`.
    fn pre_filter(&self, state: &CycleState, pod: &Pod) -> PreFilterResult {
        let affinity_terms = required_affinity_terms(pod);
        let anti_affinity_terms = required_anti_affinity_terms(pod);
        let mut s = PreFilterState {
            existing_anti_affinity_counts: BTreeMap::new(),
            affinity_counts: BTreeMap::new(),
            anti_affinity_counts: BTreeMap::new(),
            affinity_keys: affinity_terms
                .iter()
                .map(|t| t.topology_key().to_string())
                .collect(),
            anti_affinity_keys: anti_affinity_terms
                .iter()
                .map(|t| t.topology_key().to_string())
                .collect(),
            self_affine: pod_matches_all_affinity_terms(&affinity_terms, pod),
        };
        let incoming = !affinity_terms.is_empty() || !anti_affinity_terms.is_empty();
        for info in &state.cluster.nodes {
            // Without terms of its own, only existing pods with required anti-affinity
            // matter (upstream walks `HavePodsWithRequiredAntiAffinityList`).
            if !incoming && info.pods_with_required_anti_affinity == 0 {
                continue;
            }
            let node = info.node();
            for existing in info.pods.values() {
                if has_required_anti_affinity(existing) {
                    for t in required_anti_affinity_terms(existing) {
                        if t.matches(pod) {
                            add(
                                &mut s.existing_anti_affinity_counts,
                                node,
                                t.topology_key(),
                                1,
                            );
                        }
                    }
                }
                if !incoming {
                    continue;
                }
                if pod_matches_all_affinity_terms(&affinity_terms, existing) {
                    for t in &affinity_terms {
                        add(&mut s.affinity_counts, node, t.topology_key(), 1);
                    }
                }
                for t in &anti_affinity_terms {
                    if t.matches(existing) {
                        add(&mut s.anti_affinity_counts, node, t.topology_key(), 1);
                    }
                }
            }
        }
        if s.existing_anti_affinity_counts.is_empty() && !incoming {
            return PreFilterResult::Skip;
        }
        state.write(PRE_FILTER_STATE_KEY, s);
        PreFilterResult::AllNodes
    }

    // `InterPodAffinity.Filter`.
    fn filter(&self, state: &CycleState, _: &Pod, node: &NodeInfo) -> Result<(), Rejection> {
        let Some(s) = state.read::<PreFilterState>(PRE_FILTER_STATE_KEY) else {
            return Ok(());
        };
        let node = node.node();
        if !satisfy_pod_affinity(&s, node) {
            return Err(Rejection::unresolvable(ERR_REASON_AFFINITY_RULES_NOT_MATCH));
        }
        if !satisfy_pod_anti_affinity(&s, node) {
            return Err(Rejection::unschedulable(vec![
                ERR_REASON_ANTI_AFFINITY_RULES_NOT_MATCH.into(),
            ]));
        }
        if !satisfy_existing_pods_anti_affinity(&s, node) {
            return Err(Rejection::unschedulable(vec![
                ERR_REASON_EXISTING_ANTI_AFFINITY_RULES_NOT_MATCH.into(),
            ]));
        }
        Ok(())
    }

    // `PreScore` (`processExistingPod` over every node) + `Score` + `NormalizeScore`.
    fn score(&self, state: &CycleState, pod: &Pod, nodes: &[&NodeInfo]) -> Option<Vec<i64>> {
        let preferred_terms = preferred(pod, pod_affinity(pod));
        let preferred_anti = preferred(pod, pod_anti_affinity(pod));
        let has_constraints = !preferred_terms.is_empty() || !preferred_anti.is_empty();
        // topologyKey → value → score.
        let mut topology_score: BTreeMap<String, BTreeMap<String, i64>> = BTreeMap::new();
        let mut process = |t: &AffinityTerm<'_>, weight: i64, target: &Pod, node: &Node| {
            if t.matches(target)
                && let Some(v) = node.metadata.labels.get(t.topology_key())
            {
                *topology_score
                    .entry(t.topology_key().to_string())
                    .or_default()
                    .entry(v.clone())
                    .or_insert(0) += weight;
            }
        };
        for info in &state.cluster.nodes {
            let node = info.node();
            // Unless the pod prefers something itself, only nodes with pods with affinity
            // matter (upstream walks `HavePodsWithAffinityList`).
            if node.metadata.labels.is_empty() || (!has_constraints && info.pods_with_affinity == 0)
            {
                continue;
            }
            // Unless the pod prefers something itself, only pods with affinity matter.
            for existing in info
                .pods
                .values()
                .filter(|p| has_constraints || has_affinity(p))
            {
                for (t, w) in &preferred_terms {
                    process(t, *w, existing, node);
                }
                for (t, w) in &preferred_anti {
                    process(t, -*w, existing, node);
                }
                for t in required_affinity_terms(existing) {
                    process(&t, HARD_POD_AFFINITY_WEIGHT, pod, node);
                }
                for (t, w) in preferred(existing, pod_affinity(existing)) {
                    process(&t, w, pod, node);
                }
                for (t, w) in preferred(existing, pod_anti_affinity(existing)) {
                    process(&t, -w, pod, node);
                }
            }
        }
        if topology_score.is_empty() {
            return None;
        }
        let raw: Vec<i64> = nodes
            .iter()
            .map(|n| {
                let labels = &n.node().metadata.labels;
                topology_score
                    .iter()
                    .filter_map(|(k, values)| labels.get(k).and_then(|v| values.get(v)))
                    .sum()
            })
            .collect();
        let max = raw.iter().copied().max().unwrap_or(0);
        let min = raw.iter().copied().min().unwrap_or(0);
        let diff = max - min;
        Some(
            raw.iter()
                .map(|&s| {
                    if diff > 0 {
                        (MAX_NODE_SCORE as f64 * ((s - min) as f64 / diff as f64)) as i64
                    } else {
                        0
                    }
                })
                .collect(),
        )
    }

    fn events_to_register(&self) -> &'static [ClusterEvent] {
        EVENTS
    }

    // `isSchedulableAfterPodChange` / `isSchedulableAfterNodeChange`.
    fn queueing_hint(
        &self,
        pod: &Pod,
        _: &ClusterEvent,
        old: Option<&AnyObject>,
        new: Option<&AnyObject>,
    ) -> QueueingHint {
        let queue = match (old, new) {
            (Some(AnyObject::Node(_)), _) | (_, Some(AnyObject::Node(_))) => {
                node_change_hint(pod, as_node(old), as_node(new))
            }
            _ => pod_change_hint(pod, as_pod(old), as_pod(new)),
        };
        if queue {
            QueueingHint::Queue
        } else {
            QueueingHint::QueueSkip
        }
    }
}

fn as_node(o: Option<&AnyObject>) -> Option<&Rc<Node>> {
    match o {
        Some(AnyObject::Node(n)) => Some(n),
        _ => None,
    }
}

fn as_pod(o: Option<&AnyObject>) -> Option<&Rc<Pod>> {
    match o {
        Some(AnyObject::Pod(p)) => Some(p),
        _ => None,
    }
}

// `isSchedulableAfterPodChange`: an assigned pod that now matches the pod's affinity, that
// stopped matching its anti-affinity, or that went away while it matched the anti-affinity
// or carried anti-affinity of its own.
fn pod_change_hint(pod: &Pod, old: Option<&Rc<Pod>>, new: Option<&Rc<Pod>>) -> bool {
    if new.is_some_and(|p| p.spec.node_name.is_empty())
        || old.is_some_and(|p| p.spec.node_name.is_empty())
    {
        return false;
    }
    let terms = required_affinity_terms(pod);
    let anti = required_anti_affinity_terms(pod);
    let matches_anti = |p: &Pod| anti.iter().any(|t| t.matches(p));
    match (old, new) {
        (Some(o), Some(n)) => {
            (!pod_matches_all_affinity_terms(&terms, o)
                && pod_matches_all_affinity_terms(&terms, n))
                || (matches_anti(o) && !matches_anti(n))
        }
        (None, Some(n)) => pod_matches_all_affinity_terms(&terms, n),
        (Some(o), None) => matches_anti(o) || !required_anti_affinity_terms(o).is_empty(),
        (None, None) => true,
    }
}

// `isSchedulableAfterNodeChange`: a node added or relabelled in a topology key of the pod's
// terms.
fn node_change_hint(pod: &Pod, old: Option<&Rc<Node>>, new: Option<&Rc<Node>>) -> bool {
    let Some(new) = new else {
        return false;
    };
    let keys: Vec<&str> = required_affinity_terms(pod)
        .into_iter()
        .chain(required_anti_affinity_terms(pod))
        .map(|t| t.term.topology_key.as_str())
        .collect();
    if keys.is_empty() {
        return old.is_none();
    }
    keys.iter().any(|k| {
        let now = new.metadata.labels.get(*k);
        now.is_some() && old.is_none_or(|o| o.metadata.labels.get(*k) != now)
    })
}

#[cfg(test)]
mod tests;
