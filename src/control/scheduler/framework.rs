//! The scheduling framework (`pkg/scheduler/framework`, `framework/runtime`): the plugin
//! interface, a profile (the ordered plugin list with score weights), and the runners that
//! call every plugin at one extension point. Plugins live one per file in `plugins/`.

use super::cache::NodeInfo;
use super::events::ClusterEvent;
use super::queue::QueuedPodInfo;
use super::resources::{NonMissing, Resource, pod_requests};
use crate::api::{AnyObject, Pod, Service, StatefulSet};
use std::any::Any;
use std::cell::RefCell;
use std::collections::BTreeSet;
use std::rc::Rc;

/// `fwk.MaxNodeScore`.
pub const MAX_NODE_SCORE: i64 = 100;

/// The status code of a rejection (`fwk.Unschedulable` / `UnschedulableAndUnresolvable`).
/// Only preemption (not modelled yet) tells them apart: it never tries nodes rejected as
/// unresolvable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Code {
    Unschedulable,
    UnschedulableAndUnresolvable,
}

/// A plugin's "no" for one node (or, from PreFilter, for every node), with the reasons
/// the FitError message counts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejection {
    pub code: Code,
    pub reasons: Vec<String>,
}

impl Rejection {
    pub fn unschedulable(reasons: Vec<String>) -> Self {
        Rejection {
            code: Code::Unschedulable,
            reasons,
        }
    }
    pub fn unresolvable(reason: &str) -> Self {
        Rejection {
            code: Code::UnschedulableAndUnresolvable,
            reasons: vec![reason.to_string()],
        }
    }
    /// `Status.Message()`: the reasons joined by ", ".
    pub fn message(&self) -> String {
        self.reasons.join(", ")
    }
}

/// What a PreFilter plugin says about the pod.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PreFilterResult {
    /// Every node is a candidate.
    AllNodes,
    /// Only these nodes can fit (`PreFilterResult.NodeNames`).
    Nodes(BTreeSet<String>),
    /// The plugin has nothing to check for this pod: its Filter is not run (`Skip`).
    Skip,
    /// No node can fit.
    Reject(Rejection),
}

/// `fwk.QueueingHint`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QueueingHint {
    Queue,
    QueueSkip,
}

/// What a plugin may read beyond the node it filters, as upstream plugins read it through
/// their framework handle (`SnapshotSharedLister`, informer listers): every node of this
/// cycle's snapshot with its pods, and the Services and StatefulSets of the pod's namespace
/// (for PodTopologySpread's default constraints).
#[derive(Clone, Default)]
pub struct ClusterView {
    pub nodes: Vec<Rc<NodeInfo>>,
    pub services: Vec<Rc<Service>>,
    pub stateful_sets: Vec<Rc<StatefulSet>>,
}

/// Data about the pod computed once per scheduling cycle and read by several plugins
/// (upstream keeps these in `CycleState` / `PodInfo`).
pub struct CycleState {
    /// `computePodResourceRequest`: what the pod asks of a node.
    pub requests: Resource,
    /// The same with the non-zero CPU/memory defaults, for the LeastAllocated score.
    pub non_zero_requests: Resource,
    /// The cluster as this cycle sees it (empty unless the caller sets it).
    pub cluster: ClusterView,
    /// What plugins compute at PreFilter and read back at Filter (`CycleState.Write` /
    /// `Read`), by state key: a handful of keys, read once per plugin and node, so a list
    /// searched by key is cheaper than a map.
    data: RefCell<Vec<(&'static str, Rc<dyn Any>)>>,
}

impl CycleState {
    pub fn new(pod: &Pod) -> Self {
        CycleState {
            requests: pod_requests(pod, NonMissing::default()),
            non_zero_requests: pod_requests(pod, NonMissing::DEFAULTS),
            cluster: ClusterView::default(),
            data: RefCell::default(),
        }
    }
    /// The same state, seeing `cluster`.
    pub fn with_cluster(mut self, cluster: ClusterView) -> Self {
        self.cluster = cluster;
        self
    }
    /// `CycleState.Write`.
    pub fn write<T: Any>(&self, key: &'static str, value: T) {
        let value: Rc<dyn Any> = Rc::new(value);
        let mut data = self.data.borrow_mut();
        match data.iter_mut().find(|(k, _)| *k == key) {
            Some((_, v)) => *v = value,
            None => data.push((key, value)),
        }
    }
    /// `CycleState.Read`: what was written under `key`, if it has type `T`. Keys are
    /// compared by address first (a plugin reads with the constant it wrote with, and
    /// Filter reads once per node), then by content.
    pub fn read<T: Any>(&self, key: &'static str) -> Option<Rc<T>> {
        let data = self.data.borrow();
        let same = |k: &&str| std::ptr::eq(*k, key);
        let (_, v) = match data.iter().find(|(k, _)| same(k)) {
            Some(found) => found,
            None => data.iter().find(|(k, _)| *k == key)?,
        };
        Rc::clone(v).downcast::<T>().ok()
    }
}

/// A scheduler plugin. Every extension point has a default that does nothing, so a plugin
/// implements only the points it takes part in.
pub trait Plugin {
    /// The upstream plugin name, e.g. `NodeResourcesFit`.
    fn name(&self) -> &'static str;

    /// PreFilter: once per cycle, before any node is filtered.
    fn pre_filter(&self, _state: &CycleState, _pod: &Pod) -> PreFilterResult {
        PreFilterResult::AllNodes
    }

    /// Filter: whether `node` can run `pod`; the rejection carries the reason strings.
    fn filter(&self, _state: &CycleState, _pod: &Pod, _node: &NodeInfo) -> Result<(), Rejection> {
        Ok(())
    }

    /// PreScore + Score + NormalizeScore over the feasible nodes: one score in
    /// `0..=MAX_NODE_SCORE` per node (before the profile's weight), or `None` when the
    /// plugin does not score or skips this pod.
    fn score(&self, _state: &CycleState, _pod: &Pod, _nodes: &[&NodeInfo]) -> Option<Vec<i64>> {
        None
    }

    /// `EventsToRegister`: the events that could make a pod this plugin rejected fit.
    fn events_to_register(&self) -> &'static [ClusterEvent] {
        &[]
    }

    /// The queueing hint for a registered event (`QueueingHintFn`); `old`/`new` are the
    /// object before and after (`None` for an add or a delete respectively).
    fn queueing_hint(
        &self,
        _pod: &Pod,
        _event: &ClusterEvent,
        _old: Option<&AnyObject>,
        _new: Option<&AnyObject>,
    ) -> QueueingHint {
        QueueingHint::Queue
    }
}

/// One enabled plugin and its score weight (0 for plugins that do not score).
pub struct PluginEntry {
    pub plugin: Box<dyn Plugin>,
    pub weight: i64,
}

/// How the queue should requeue a pod after an event (`queueingStrategy`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum QueueingStrategy {
    /// Stay in the unschedulable pool.
    Skip,
    /// To the backoffQ, or the activeQ if the backoff is already over.
    AfterBackoff,
}

/// A scheduling profile (`frameworkImpl`): plugins in the order their filters run.
pub struct Profile {
    pub plugins: Vec<PluginEntry>,
}

/// The outcome of `RunPreFilterPlugins`.
pub struct PreFilterOutcome {
    /// `None`: all nodes; otherwise the only candidates (intersection over plugins).
    pub nodes: Option<BTreeSet<String>>,
    /// Plugins whose Filter is skipped for this pod.
    pub skip: BTreeSet<&'static str>,
    /// Plugins that narrowed the node set (they count as rejecting the absent nodes).
    pub narrowing: Vec<&'static str>,
    /// A rejection of every node, and the plugin that made it (if one did).
    pub rejection: Option<(Option<&'static str>, Rejection)>,
}

impl Profile {
    /// `RunPreFilterPlugins`.
    pub fn run_pre_filter_plugins(&self, state: &CycleState, pod: &Pod) -> PreFilterOutcome {
        let mut out = PreFilterOutcome {
            nodes: None,
            skip: BTreeSet::new(),
            narrowing: Vec::new(),
            rejection: None,
        };
        for e in &self.plugins {
            let name = e.plugin.name();
            match e.plugin.pre_filter(state, pod) {
                PreFilterResult::AllNodes => {}
                PreFilterResult::Skip => {
                    out.skip.insert(name);
                }
                PreFilterResult::Reject(r) => {
                    // Unresolvable: preemption cannot help, so stop at once. Unschedulable:
                    // keep running the other PreFilters (their state feeds preemption).
                    let stop = r.code == Code::UnschedulableAndUnresolvable;
                    out.rejection = Some((Some(name), r));
                    if stop {
                        return out;
                    }
                }
                PreFilterResult::Nodes(names) => {
                    out.narrowing.push(name);
                    let merged = match out.nodes.take() {
                        None => names,
                        Some(prev) => prev.intersection(&names).cloned().collect(),
                    };
                    if merged.is_empty() {
                        let msg = if out.narrowing.len() == 1 {
                            format!("node(s) didn't satisfy plugin {}", out.narrowing[0])
                        } else {
                            format!(
                                "node(s) didn't satisfy plugin(s) [{}] simultaneously",
                                out.narrowing.join(" ")
                            )
                        };
                        out.nodes = Some(merged);
                        out.rejection = Some((None, Rejection::unresolvable(&msg)));
                        return out;
                    }
                    out.nodes = Some(merged);
                }
            }
        }
        out
    }

    /// The plugins `RunFilterPlugins` runs in a cycle, in order: all but those whose
    /// PreFilter answered Skip (looked up once per cycle, not once per node).
    pub fn filter_plugins(&self, skip: &BTreeSet<&'static str>) -> Vec<&dyn Plugin> {
        self.plugins
            .iter()
            .map(|e| &*e.plugin)
            .filter(|p| !skip.contains(p.name()))
            .collect()
    }

    /// `RunFilterPlugins` over [`Profile::filter_plugins`]: the first rejection wins.
    pub fn run_filter_plugins(
        plugins: &[&dyn Plugin],
        state: &CycleState,
        pod: &Pod,
        node: &NodeInfo,
    ) -> Result<(), (&'static str, Rejection)> {
        for plugin in plugins {
            plugin
                .filter(state, pod, node)
                .map_err(|r| (plugin.name(), r))?;
        }
        Ok(())
    }

    /// `RunScorePlugins`: each plugin's normalised score times its weight, summed per node.
    pub fn run_score_plugins(
        &self,
        state: &CycleState,
        pod: &Pod,
        nodes: &[&NodeInfo],
    ) -> Vec<i64> {
        let mut total = vec![0; nodes.len()];
        for e in self.plugins.iter().filter(|e| e.weight != 0) {
            if let Some(scores) = e.plugin.score(state, pod, nodes) {
                for (t, s) in total.iter_mut().zip(scores) {
                    *t += s * e.weight;
                }
            }
        }
        total
    }

    /// `isEventOfInterest`: some plugin registered an event this one matches.
    pub fn is_event_of_interest(&self, event: &ClusterEvent) -> bool {
        event.is_wildcard()
            || self.plugins.iter().any(|e| {
                e.plugin
                    .events_to_register()
                    .iter()
                    .any(|r| r.matches(event))
            })
    }

    /// `isPodWorthRequeuing`: ask the plugins that rejected the pod whether `event` may
    /// have changed their answer.
    pub fn is_pod_worth_requeuing(
        &self,
        info: &QueuedPodInfo,
        event: &ClusterEvent,
        old: Option<&AnyObject>,
        new: Option<&AnyObject>,
    ) -> QueueingStrategy {
        // Failed for no plugin's reason (an API error, no nodes at all): any event may help.
        if info.unschedulable_plugins.is_empty() || event.is_wildcard() {
            return QueueingStrategy::AfterBackoff;
        }
        for e in &self.plugins {
            let p = &e.plugin;
            if !info.unschedulable_plugins.contains(p.name()) {
                continue;
            }
            for registered in p.events_to_register() {
                if registered.matches(event)
                    && p.queueing_hint(&info.pod, event, old, new) == QueueingHint::Queue
                {
                    return QueueingStrategy::AfterBackoff;
                }
            }
        }
        QueueingStrategy::Skip
    }
}

/// `helper.DefaultNormalizeScore`: scale so the largest score becomes `MAX_NODE_SCORE`;
/// with `reverse`, the smallest raw count gets the highest score.
pub fn default_normalize_score(scores: &mut [i64], reverse: bool) {
    let max = scores.iter().copied().max().unwrap_or(0).max(0);
    if max == 0 {
        if reverse {
            scores.iter_mut().for_each(|s| *s = MAX_NODE_SCORE);
        }
        return;
    }
    for s in scores.iter_mut() {
        let scaled = MAX_NODE_SCORE * *s / max;
        *s = if reverse {
            MAX_NODE_SCORE - scaled
        } else {
            scaled
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_scales_to_max_and_reverses() {
        let mut s = vec![0, 2, 4];
        default_normalize_score(&mut s, false);
        assert_eq!(s, vec![0, 50, 100]);
        let mut s = vec![0, 1, 2];
        default_normalize_score(&mut s, true);
        assert_eq!(s, vec![100, 50, 0]);
        let mut s = vec![0, 0];
        default_normalize_score(&mut s, true);
        assert_eq!(s, vec![100, 100]);
        let mut s = vec![0, 0];
        default_normalize_score(&mut s, false);
        assert_eq!(s, vec![0, 0]);
    }
}
