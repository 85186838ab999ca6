//! PodTopologySpread (`plugins/podtopologyspread`): `whenUnsatisfiable: DoNotSchedule`
//! constraints filter nodes whose domain would exceed `maxSkew` (PreFilter counts the
//! matching pods per domain over every node, Filter compares); `ScheduleAnyway` constraints
//! — the pod's own, or the system defaults for pods of a Service or StatefulSet (hostname
//! maxSkew 3, zone maxSkew 5) — score nodes with fewer matching pods higher.
//!
//! Defaults as the API leaves them unset: `minDomains` 1, `nodeAffinityPolicy` Honor,
//! `nodeTaintsPolicy` Ignore (so a zone whose nodes are all tainted still counts as a domain
//! with its pods). Terminating pods are not counted (`countPodsMatchSelector`).

use super::taint_toleration::find_untolerated_taint;
use crate::api::node::well_known::{LABEL_HOSTNAME, LABEL_ZONE};
use crate::api::scheduling::TopologySpreadConstraint;
use crate::api::selector::LabelSelectorRequirement;
use crate::api::{AnyObject, LabelSelector, Node, Pod};
use crate::control::scheduler::cache::NodeInfo;
use crate::control::scheduler::events::{ActionType, ClusterEvent, EventResource};
use crate::control::scheduler::framework::{
    ClusterView, CycleState, MAX_NODE_SCORE, Plugin, PreFilterResult, QueueingHint, Rejection,
};
use crate::control::scheduler::list_positions::ListPositions;
use crate::control::scheduler::node_selector::RequiredNodeAffinity;
use counts::{CountKey, MatchCounts};
use domains::Domains;
use std::collections::BTreeMap;
use std::rc::Rc;

mod counts;
mod domains;

pub const NAME: &str = "PodTopologySpread";
/// `ErrReasonConstraintsNotMatch`.
pub const ERR_REASON_CONSTRAINTS_NOT_MATCH: &str =
    "node(s) didn't match pod topology spread constraints";
/// `ErrReasonNodeLabelNotMatch`.
pub const ERR_REASON_NODE_LABEL_NOT_MATCH: &str =
    "node(s) didn't match pod topology spread constraints (missing required label)";

const DO_NOT_SCHEDULE: &str = "DoNotSchedule";
const SCHEDULE_ANYWAY: &str = "ScheduleAnyway";
const PRE_FILTER_STATE_KEY: &str = "PreFilterPodTopologySpread";

/// `systemDefaultConstraints` (`defaultingType: System`).
const SYSTEM_DEFAULT_CONSTRAINTS: [(&str, i32); 2] = [(LABEL_HOSTNAME, 3), (LABEL_ZONE, 5)];

/// The plugin with the system default constraints (`systemDefaulted`), as kube-scheduler
/// runs it.
#[derive(Debug, Default)]
pub struct PodTopologySpread {
    /// `countPodsMatchSelector` per node, kept between cycles (`counts`).
    counts: MatchCounts,
    /// The topology domain of each node of the cycle's list as a number, per key, kept
    /// between cycles (`domains`).
    domains: Domains,
}

/// `topologySpreadConstraint`: the internal form, selector parsed and defaults applied.
#[derive(Clone, Debug, PartialEq)]
struct Constraint {
    max_skew: i32,
    topology_key: String,
    /// `None` matches nothing (`LabelSelectorAsSelector(nil)`).
    selector: Option<LabelSelector>,
    min_domains: i32,
    node_affinity_honor: bool,
    node_taints_honor: bool,
}

impl Constraint {
    fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.selector.as_ref().is_some_and(|s| s.matches(labels))
    }

    // `matchNodeInclusionPolicies`.
    fn match_node_inclusion_policies(
        &self,
        pod: &Pod,
        node: &Node,
        required: &RequiredNodeAffinity<'_>,
    ) -> bool {
        if self.node_affinity_honor && !required.matches(node) {
            return false;
        }
        if self.node_taints_honor && find_untolerated_taint(node, pod).is_some() {
            return false;
        }
        true
    }
}

// `filterTopologySpreadConstraints`: the constraints of one `whenUnsatisfiable` kind, with
// `matchLabelKeys` merged into the selector (`mergeLabelSetWithSelector`).
fn filter_topology_spread_constraints(
    constraints: &[TopologySpreadConstraint],
    pod_labels: &BTreeMap<String, String>,
    action: &str,
) -> Vec<Constraint> {
    constraints
        .iter()
        .filter(|c| c.when_unsatisfiable == action)
        .map(|c| {
            let mut selector = c.label_selector.clone();
            let extra: Vec<LabelSelectorRequirement> = c
                .match_label_keys
                .iter()
                .filter_map(|k| {
                    pod_labels.get(k).map(|v| LabelSelectorRequirement {
                        key: k.clone(),
                        operator: "In".into(),
                        values: vec![v.clone()],
                    })
                })
                .collect();
            if !extra.is_empty() {
                let mut merged = selector.unwrap_or_default();
                merged.match_expressions.extend(extra);
                selector = Some(merged);
            }
            Constraint {
                max_skew: c.max_skew,
                topology_key: c.topology_key.clone(),
                selector,
                min_domains: c.min_domains.unwrap_or(1),
                node_affinity_honor: c.node_affinity_policy.as_deref() != Some("Ignore"),
                node_taints_honor: c.node_taints_policy.as_deref() == Some("Honor"),
            }
        })
        .collect()
}

/// `helper.DefaultSelector`: the selectors of the Services and StatefulSets that select the
/// pod, ANDed. Empty when nothing selects it.
pub fn default_selector(pod: &Pod, cluster: &ClusterView) -> LabelSelector {
    let labels = &pod.metadata.labels;
    let mut sel = LabelSelector::default();
    for svc in &cluster.services {
        let s = &svc.spec.selector;
        if svc.metadata.namespace == pod.metadata.namespace
            && !s.is_empty()
            && s.iter().all(|(k, v)| labels.get(k) == Some(v))
        {
            sel.match_labels
                .extend(s.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
    }
    for set in &cluster.stateful_sets {
        let s = &set.spec.selector;
        if set.metadata.namespace != pod.metadata.namespace || s.is_empty() || !s.matches(labels) {
            continue;
        }
        // `selector.Add(requirements...)`: matchLabels become `In` requirements.
        for (k, v) in &s.match_labels {
            sel.match_expressions.push(LabelSelectorRequirement {
                key: k.clone(),
                operator: "In".into(),
                values: vec![v.clone()],
            });
        }
        sel.match_expressions
            .extend(s.match_expressions.iter().cloned());
    }
    sel
}

// `getConstraints` / `buildDefaultConstraints`: the pod's own constraints of `action`, or,
// for a pod with none, the system defaults with the default selector.
fn get_constraints(pod: &Pod, cluster: &ClusterView, action: &str) -> Vec<Constraint> {
    if !pod.spec.topology_spread_constraints.is_empty() {
        return filter_topology_spread_constraints(
            &pod.spec.topology_spread_constraints,
            &pod.metadata.labels,
            action,
        );
    }
    if action != SCHEDULE_ANYWAY {
        return Vec::new();
    }
    let selector = default_selector(pod, cluster);
    if selector.is_empty() {
        return Vec::new();
    }
    SYSTEM_DEFAULT_CONSTRAINTS
        .iter()
        .map(|&(key, max_skew)| Constraint {
            max_skew,
            topology_key: key.into(),
            selector: Some(selector.clone()),
            min_domains: 1,
            node_affinity_honor: true,
            node_taints_honor: false,
        })
        .collect()
}

/// `nodeLabelsMatchSpreadConstraints`: the node has every topology key.
fn node_labels_match_spread_constraints(
    labels: &BTreeMap<String, String>,
    constraints: &[Constraint],
) -> bool {
    constraints
        .iter()
        .all(|c| labels.contains_key(&c.topology_key))
}

/// `countPodsMatchSelector`: terminating pods and other namespaces do not count.
fn count_pods_match_selector(node: &NodeInfo, c: &Constraint, namespace: &str) -> i64 {
    node.pods
        .values()
        .filter(|p| {
            p.metadata.deletion_timestamp.is_none()
                && p.metadata.namespace == namespace
                && c.matches(&p.metadata.labels)
        })
        .count() as i64
}

/// `preFilterState`: per constraint, the matching pods per topology value. (Upstream also
/// keeps two "critical paths" for preemption; only their minimum is read here.)
struct PreFilterState {
    constraints: Vec<Constraint>,
    tp_value_to_match_num: Vec<BTreeMap<String, i64>>,
    /// Per constraint, `minMatchNum` and whether the pod matches its own selector
    /// (`selfMatchNum`): the same for every node, so worked out once.
    min_match: Vec<i64>,
    self_match: Vec<i64>,
    /// Filter's answer for each node of the cycle's list, worked out with the counts
    /// (`verdict`), by the node's position (any other NodeInfo is filtered from its
    /// labels).
    positions: ListPositions,
    verdicts: Vec<Verdict>,
}

/// Filter's answer for one node.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Verdict {
    Fits,
    /// The node lacks a constraint's topology label.
    MissingLabel,
    /// A constraint's skew would exceed its `maxSkew`.
    Skew,
}

impl Verdict {
    fn result(self) -> Result<(), Rejection> {
        match self {
            Verdict::Fits => Ok(()),
            Verdict::MissingLabel => Err(Rejection::unresolvable(ERR_REASON_NODE_LABEL_NOT_MATCH)),
            Verdict::Skew => Err(Rejection::unschedulable(vec![
                ERR_REASON_CONSTRAINTS_NOT_MATCH.into(),
            ])),
        }
    }
}

impl PreFilterState {
    /// `minMatchNum`: the global minimum, or 0 while fewer than `minDomains` domains exist.
    fn min_match_num(&self, i: usize) -> i64 {
        let counts = &self.tp_value_to_match_num[i];
        if (counts.len() as i64) < i64::from(self.constraints[i].min_domains) {
            return 0;
        }
        counts.values().copied().min().unwrap_or(0)
    }

    /// `PodTopologySpread.Filter` on a node, given per constraint how many matching pods
    /// the node's domain holds (`None`: the node lacks the topology label).
    fn verdict(&self, match_nums: impl Iterator<Item = Option<i64>>) -> Verdict {
        for (i, v) in match_nums.enumerate() {
            let Some(match_num) = v else {
                return Verdict::MissingLabel;
            };
            let c = &self.constraints[i];
            if match_num + self.self_match[i] - self.min_match[i] > i64::from(c.max_skew) {
                return Verdict::Skew;
            }
        }
        Verdict::Fits
    }
}

// `calPreFilterState`. The counts are summed by domain number (`domains`) and the node's
// count is kept between cycles (`counts`); the result is upstream's map by value.
fn cal_pre_filter_state(
    pod: &Pod,
    cluster: &ClusterView,
    kept: &MatchCounts,
    domains: &Domains,
) -> PreFilterState {
    let constraints = get_constraints(pod, cluster, DO_NOT_SCHEDULE);
    let mut s = PreFilterState {
        tp_value_to_match_num: Vec::new(),
        min_match: Vec::new(),
        self_match: Vec::new(),
        positions: ListPositions::default(),
        verdicts: Vec::new(),
        constraints,
    };
    if s.constraints.is_empty() {
        return s;
    }
    let constraints = &s.constraints;
    let nc = constraints.len();
    let keys: Vec<&str> = constraints
        .iter()
        .map(|c| c.topology_key.as_str())
        .collect();
    let node_domains = domains.of(&keys, &cluster.nodes);
    // Per constraint, by domain number: the count, once the domain is one (a node of it
    // passed the inclusion policies), and the domains in order of first sight.
    let mut by_id: Vec<Vec<Option<i64>>> =
        node_domains.sizes.iter().map(|&n| vec![None; n]).collect();
    let mut seen: Vec<Vec<(u32, String)>> = vec![Vec::new(); nc];
    let required = RequiredNodeAffinity::of(&pod.spec);
    let ns = &pod.metadata.namespace;
    let count_keys: Vec<CountKey> = constraints.iter().map(|c| kept.key(c, ns)).collect();
    for (position, info) in cluster.nodes.iter().enumerate() {
        let ids = node_domains.of_node(position);
        // `nodeLabelsMatchSpreadConstraints`.
        if ids.iter().any(Option::is_none) {
            continue;
        }
        let node = info.node();
        for (i, c) in constraints.iter().enumerate() {
            // `matchNodeInclusionPolicies`; an empty required affinity matches any node.
            let honor_affinity = c.node_affinity_honor && !required.is_empty();
            if (honor_affinity || c.node_taints_honor)
                && !c.match_node_inclusion_policies(pod, node, &required)
            {
                continue;
            }
            let id = ids[i].expect("checked above") as usize;
            // A node without pods matches none.
            let n = if info.pods.is_empty() {
                0
            } else {
                kept.count(position, info, c, ns, count_keys[i])
            };
            let slot = &mut by_id[i][id];
            if slot.is_none() {
                seen[i].push((id as u32, node.metadata.labels[&c.topology_key].clone()));
            }
            *slot.get_or_insert(0) += n;
        }
    }
    s.tp_value_to_match_num = seen
        .into_iter()
        .enumerate()
        .map(|(i, values)| {
            values
                .into_iter()
                .map(|(id, value)| (value, by_id[i][id as usize].unwrap_or(0)))
                .collect()
        })
        .collect();
    s.min_match = (0..nc).map(|i| s.min_match_num(i)).collect();
    s.self_match = s
        .constraints
        .iter()
        .map(|c| i64::from(c.matches(&pod.metadata.labels)))
        .collect();
    s.positions = ListPositions::of(&cluster.nodes);
    s.verdicts = (0..cluster.nodes.len())
        .map(|k| {
            let ids = node_domains.of_node(k);
            s.verdict(
                ids.iter()
                    .enumerate()
                    .map(|(i, id)| id.map(|id| by_id[i][id as usize].unwrap_or(0))),
            )
        })
        .collect();
    s
}

const EVENTS: &[ClusterEvent] = &[
    ClusterEvent::new(EventResource::Pod, ActionType::ALL),
    ClusterEvent::new(
        EventResource::Node,
        ActionType::ADD
            .or(ActionType::DELETE)
            .or(ActionType::UPDATE_NODE_LABEL)
            .or(ActionType::UPDATE_NODE_TAINT),
    ),
];

impl Plugin for PodTopologySpread {
    fn name(&self) -> &'static str {
        NAME
    }

    // `PodTopologySpread.PreFilter`.
    fn pre_filter(&self, state: &CycleState, pod: &Pod) -> PreFilterResult {
        let s = cal_pre_filter_state(pod, &state.cluster, &self.counts, &self.domains);
        if s.constraints.is_empty() {
            return PreFilterResult::Skip;
        }
        state.write(PRE_FILTER_STATE_KEY, s);
        PreFilterResult::AllNodes
    }

    // `PodTopologySpread.Filter`: `matchNum + selfMatch - minMatchNum <= maxSkew` for every
    // hard constraint. The list's own nodes were answered at PreFilter.
    fn filter(&self, state: &CycleState, _pod: &Pod, node: &NodeInfo) -> Result<(), Rejection> {
        let Some(s) = state.read::<PreFilterState>(PRE_FILTER_STATE_KEY) else {
            return Ok(());
        };
        if let Some(k) = s.positions.position_of(node) {
            return s.verdicts[k].result();
        }
        let labels = &node.node().metadata.labels;
        let values = s.constraints.iter().enumerate().map(|(i, c)| {
            let value = labels.get(&c.topology_key)?;
            Some(s.tp_value_to_match_num[i].get(value).copied().unwrap_or(0))
        });
        s.verdict(values).result()
    }

    // `PreScore` + `Score` + `NormalizeScore` over the soft constraints. Topology values
    // are domain numbers (`domains`), so per-domain counts are vectors indexed by number.
    fn score(&self, state: &CycleState, pod: &Pod, nodes: &[&NodeInfo]) -> Option<Vec<i64>> {
        let all_nodes = &state.cluster.nodes;
        if all_nodes.is_empty() {
            return None;
        }
        // Only the pod's own constraints require every topology label (system defaults let
        // nodes without a zone label still spread by hostname).
        let require_all = !pod.spec.topology_spread_constraints.is_empty();
        let constraints = get_constraints(pod, &state.cluster, SCHEDULE_ANYWAY);
        if constraints.is_empty() {
            return None;
        }
        let ns = &pod.metadata.namespace;
        let nc = constraints.len();
        let is_host: Vec<bool> = constraints
            .iter()
            .map(|c| c.topology_key == LABEL_HOSTNAME)
            .collect();
        let keys: Vec<&str> = constraints
            .iter()
            .map(|c| c.topology_key.as_str())
            .collect();
        // Each node's number for each constraint's key: `all.of_node(k)` for node `k` of
        // the cycle's list; for `nodes[j]`, its place's (the framework's NodeInfos are the
        // list's), or its labels' for a node from elsewhere.
        let all = self.domains.of(&keys, all_nodes);
        let places = places_in(nodes, all_nodes);
        let mut feasible: Vec<Option<u32>> = Vec::with_capacity(nodes.len() * nc);
        for (n, place) in nodes.iter().zip(&places) {
            match *place {
                Some(k) => feasible.extend_from_slice(all.of_node(k)),
                None => {
                    let labels = &n.node().metadata.labels;
                    feasible.extend(
                        keys.iter()
                            .map(|key| labels.get(*key).map(|v| self.domains.id(key, v))),
                    );
                }
            }
        }
        // A node without a key's label counts in the domain "" (upstream reads the missing
        // label as the empty value).
        let missing: Vec<usize> = keys
            .iter()
            .map(|k| self.domains.id(k, "") as usize)
            .collect();
        // `nodeLabelsMatchSpreadConstraints` on those numbers: every key present.
        let has_all = |ids: &[Option<u32>]| ids.iter().all(Option::is_some);
        // `initPreScoreState`: per constraint and domain number, the count once the domain
        // is one of a scored node's (`None` before).
        let mut ignored = vec![false; nodes.len()];
        let mut num_ignored = 0;
        let mut counts: Vec<Vec<Option<i64>>> = keys
            .iter()
            .map(|k| vec![None; self.domains.size(k)])
            .collect();
        let mut num_domains = vec![0usize; nc];
        for j in 0..nodes.len() {
            let ids = &feasible[j * nc..(j + 1) * nc];
            if require_all && !has_all(ids) {
                ignored[j] = true;
                num_ignored += 1;
                continue;
            }
            for i in 0..nc {
                if !is_host[i] {
                    let slot = &mut counts[i][ids[i].map_or(missing[i], |d| d as usize)];
                    if slot.is_none() {
                        *slot = Some(0);
                        num_domains[i] += 1;
                    }
                }
            }
        }
        let weights: Vec<f64> = (0..nc)
            .map(|i| {
                let size = if is_host[i] {
                    nodes.len() - num_ignored
                } else {
                    num_domains[i]
                };
                topology_normalizing_weight(size)
            })
            .collect();
        // `countPodsMatchSelector` depends only on the node, the selector and the namespace:
        // counted once per node and distinct selector (the system defaults' hostname and
        // zone constraints share one), as PreScore and Score would count alike, and kept
        // while the node does not change (`counts`).
        let count_keys: Vec<CountKey> =
            constraints.iter().map(|c| self.counts.key(c, ns)).collect();
        // Within the cycle, a node's count is looked up once per distinct selector: the
        // system defaults' zone count of PreScore is the hostname count of Score. A node
        // without pods matches none.
        let canon: Vec<usize> = count_keys
            .iter()
            .map(|key| count_keys.iter().position(|k| k == key).expect("present"))
            .collect();
        let mut cycle_counts: Vec<Option<i64>> = vec![None; all_nodes.len() * nc];
        let mut count_at = |k: usize, info: &NodeInfo, i: usize| -> i64 {
            if info.pods.is_empty() {
                return 0;
            }
            let c = &constraints[i];
            *cycle_counts[k * nc + canon[i]]
                .get_or_insert_with(|| self.counts.count(k, info, c, ns, count_keys[i]))
        };
        // `PreScore`: matching pods per domain, over every node. The hostname constraints
        // keep no domains (Score counts each node's own pods), so they add nothing here.
        let required = RequiredNodeAffinity::of(&pod.spec);
        for (k, info) in all_nodes.iter().enumerate() {
            let ids = all.of_node(k);
            if require_all && !has_all(ids) {
                continue;
            }
            let node = info.node();
            for (i, c) in constraints.iter().enumerate() {
                // `matchNodeInclusionPolicies`; an empty required affinity matches any node.
                let honor_affinity = c.node_affinity_honor && !required.is_empty();
                if is_host[i]
                    || ((honor_affinity || c.node_taints_honor)
                        && !c.match_node_inclusion_policies(pod, node, &required))
                {
                    continue;
                }
                if let Some(n) = &mut counts[i][ids[i].map_or(missing[i], |d| d as usize)] {
                    *n += count_at(k, info, i);
                }
            }
        }
        // `Score`.
        let raw: Vec<Option<i64>> = nodes
            .iter()
            .zip(&places)
            .enumerate()
            .map(|(j, (n, place))| {
                if ignored[j] {
                    return None;
                }
                let ids = &feasible[j * nc..(j + 1) * nc];
                let mut score = 0.0;
                for (i, c) in constraints.iter().enumerate() {
                    let Some(d) = ids[i] else {
                        continue;
                    };
                    let cnt = if is_host[i] {
                        match *place {
                            Some(k) => count_at(k, n, i),
                            // A node from elsewhere is counted afresh.
                            None => self.counts.count(usize::MAX, n, c, ns, count_keys[i]),
                        }
                    } else {
                        counts[i][d as usize].unwrap_or(0)
                    };
                    score += score_for_count(cnt, c.max_skew, weights[i]);
                }
                Some(score.round() as i64)
            })
            .collect();
        Some(normalize_score(raw))
    }

    fn events_to_register(&self) -> &'static [ClusterEvent] {
        EVENTS
    }

    // `isSchedulableAfterPodChange` / `isSchedulableAfterNodeChange`. The hints read only the
    // pod's own hard constraints (system defaults are soft and never reject).
    fn queueing_hint(
        &self,
        pod: &Pod,
        _: &ClusterEvent,
        old: Option<&AnyObject>,
        new: Option<&AnyObject>,
    ) -> QueueingHint {
        let constraints = get_constraints(pod, &ClusterView::default(), DO_NOT_SCHEDULE);
        let queue = match (old, new) {
            (Some(AnyObject::Node(_)), _) | (_, Some(AnyObject::Node(_))) => {
                node_change_hint(&constraints, as_node(old), as_node(new))
            }
            _ => pod_change_hint(pod, &constraints, as_pod(old), as_pod(new)),
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

/// `involvedInTopologySpreading`.
fn involved(changed: &Pod, pod: &Pod) -> bool {
    changed.metadata.uid == pod.metadata.uid
        || (!changed.spec.node_name.is_empty()
            && changed.metadata.namespace == pod.metadata.namespace)
}

// `isSchedulableAfterPodChange`.
fn pod_change_hint(
    pod: &Pod,
    constraints: &[Constraint],
    old: Option<&Rc<Pod>>,
    new: Option<&Rc<Pod>>,
) -> bool {
    if new.is_some_and(|p| !involved(p, pod)) || old.is_some_and(|p| !involved(p, pod)) {
        return false;
    }
    match (old, new) {
        (Some(o), Some(n)) => {
            if o.metadata.deletion_timestamp.is_none() && n.metadata.deletion_timestamp.is_some() {
                return true;
            }
            constraints
                .iter()
                .any(|c| c.matches(&o.metadata.labels) != c.matches(&n.metadata.labels))
        }
        (Some(p), None) | (None, Some(p)) => {
            constraints.iter().any(|c| c.matches(&p.metadata.labels))
        }
        (None, None) => true,
    }
}

// `isSchedulableAfterNodeChange`.
fn node_change_hint(
    constraints: &[Constraint],
    old: Option<&Rc<Node>>,
    new: Option<&Rc<Node>>,
) -> bool {
    let matching = |n: &Node| node_labels_match_spread_constraints(&n.metadata.labels, constraints);
    match (old, new) {
        (Some(o), Some(n)) => {
            let (om, nm) = (matching(o), matching(n));
            if om != nm {
                return true;
            }
            let labels_changed = constraints.iter().any(|c| {
                o.metadata.labels.get(&c.topology_key) != n.metadata.labels.get(&c.topology_key)
            });
            nm && (labels_changed || o.spec.taints != n.spec.taints)
        }
        (None, Some(n)) => matching(n),
        (Some(o), None) => matching(o),
        (None, None) => true,
    }
}

/// Where each of `nodes` is in `all` (the same NodeInfo, by address), if it is there.
/// The framework's feasible nodes are the list's, in its order from some start (the
/// filters' rotation), so a cursor that follows them finds each at the first comparison.
fn places_in(nodes: &[&NodeInfo], all: &[Rc<NodeInfo>]) -> Vec<Option<usize>> {
    let mut cursor = 0;
    nodes
        .iter()
        .map(|n| {
            for step in 0..all.len() {
                let k = (cursor + step) % all.len();
                if std::ptr::eq(*n, &*all[k]) {
                    cursor = k + 1;
                    return Some(k);
                }
            }
            None
        })
        .collect()
}

/// `topologyNormalizingWeight`: `ln(size + 2)`, computed with `libm` so that every
/// platform rounds alike.
fn topology_normalizing_weight(size: usize) -> f64 {
    libm::log(size as f64 + 2.0)
}

/// `scoreForCount`.
fn score_for_count(cnt: i64, max_skew: i32, weight: f64) -> f64 {
    cnt as f64 * weight + f64::from(max_skew - 1)
}

/// `NormalizeScore`: the fewer matching pods, the higher the score; a node that was not
/// scored (`None`) gets 0.
fn normalize_score(raw: Vec<Option<i64>>) -> Vec<i64> {
    let valid = raw.iter().flatten();
    let min = valid.clone().copied().min().unwrap_or(i64::MAX);
    let max = valid.copied().max().unwrap_or(0).max(0);
    raw.into_iter()
        .map(|s| match s {
            None => 0,
            Some(_) if max == 0 => MAX_NODE_SCORE,
            Some(s) => MAX_NODE_SCORE * (max + min - s) / max,
        })
        .collect()
}

#[cfg(test)]
mod tests;
