//! `monitorNodeHealth`, run every `nodeMonitorPeriod`: new and vanished nodes, each node's
//! health (`tryUpdateNodeHealth`), its pods marked not Ready when Ready leaves True, the
//! node queued for (or cleared of) its NoExecute taint (`processTaintBaseEviction`), and
//! the zones' disruption states (`handleDisruption`). Also `processPod`, the pod informer
//! path that marks a pod bound to a not-Ready node not Ready.

use super::NodeLifecycleController;
use super::controller_utils::{
    get_node_condition, mark_pods_not_ready, record_node_event, record_node_status_change,
    swap_node_controller_taint,
};
use super::health::ReadyStatus;
use super::zones::{get_zone_key, is_node_excluded_from_disruption_checks};
use super::{NOT_READY_TAINT, UNREACHABLE_TAINT, taint_template};
use crate::api::{Node, ObjectKey, Pod, Tables};
use crate::apiserver::{ApiError, EventType};
use crate::component::Ctx;
use crate::control::ControlTimer;
use crate::control::taints::{remove_taint_off_node, taint_exists};
use std::collections::BTreeMap;
use std::rc::Rc;

/// Tries of one node's health update in a pass: `wait.PollImmediate(retrySleepTime,
/// retrySleepTime * NodeHealthUpdateRetry)` is the immediate try plus one per 20 ms of
/// the 100 ms timeout. They run at the pass's instant here.
const HEALTH_UPDATE_TRIES: usize = 6;

/// Pods bound to the node, from the cache (`getPodsAssignedToNode`, the nodeName index).
pub fn pods_assigned_to_node(cache: &Tables, node_name: &str) -> Vec<Rc<Pod>> {
    cache
        .pods
        .values()
        .filter(|p| p.spec.node_name == node_name)
        .cloned()
        .collect()
}

/// `classifyNodes`' answer: added, deleted, new zone representatives.
type Classified = (Vec<Rc<Node>>, Vec<Rc<Node>>, Vec<Rc<Node>>);

impl NodeLifecycleController {
    // Port of `classifyNodes`: nodes not known yet, known nodes gone, and known nodes of a
    // zone that has no state yet.
    fn classify_nodes(&self, all: &[Rc<Node>]) -> Classified {
        let mut added = Vec::new();
        let mut new_zone_representatives = Vec::new();
        for n in all {
            if !self.known_nodes.contains_key(&n.metadata.name) {
                added.push(Rc::clone(n));
            } else if !self.zone_states.contains_key(&get_zone_key(n)) {
                new_zone_representatives.push(Rc::clone(n));
            }
        }
        let mut deleted = Vec::new();
        if self.known_nodes.len() + added.len() != all.len() {
            let present: std::collections::BTreeSet<&str> =
                all.iter().map(|n| n.metadata.name.as_str()).collect();
            deleted = self
                .known_nodes
                .iter()
                .filter(|(name, _)| !present.contains(name.as_str()))
                .map(|(_, n)| Rc::clone(n))
                .collect();
        }
        (added, deleted, new_zone_representatives)
    }

    // Port of `monitorNodeHealth`. Nodes are visited in name order (upstream runs them on
    // 8 workers in parallel).
    pub(super) fn monitor_node_health(&mut self, cache: &Tables, ctx: &mut Ctx<'_, ControlTimer>) {
        let nodes: Vec<Rc<Node>> = cache.nodes.values().cloned().collect();
        let (added, deleted, new_zone_representatives) = self.classify_nodes(&nodes);
        for n in &new_zone_representatives {
            self.add_pod_evictor_for_new_zone(n);
        }
        for n in &added {
            let name = &n.metadata.name;
            let mut client = ctx.client(&self.actor);
            let msg = format!("Registered Node {name} in Controller");
            record_node_event(&mut client, n, EventType::Normal, "RegisteredNode", &msg);
            self.known_nodes.insert(name.clone(), Rc::clone(n));
            self.add_pod_evictor_for_new_zone(n);
            let _ = self.mark_node_as_reachable(n, ctx);
        }
        for n in &deleted {
            let name = &n.metadata.name;
            let mut client = ctx.client(&self.actor);
            let msg = format!("Removing Node {name} from Controller");
            record_node_event(&mut client, n, EventType::Normal, "RemovingNode", &msg);
            self.known_nodes.remove(name);
        }

        let mut zone_to_node_conditions: BTreeMap<String, Vec<bool>> = BTreeMap::new();
        for node in &nodes {
            self.update_node(node, cache, ctx, &mut zone_to_node_conditions);
        }
        self.handle_disruption(&zone_to_node_conditions, &nodes, ctx);
    }

    /// `updateNodeFunc` of `monitorNodeHealth`, for one node.
    fn update_node(
        &mut self,
        node: &Rc<Node>,
        cache: &Tables,
        ctx: &mut Ctx<'_, ControlTimer>,
        zone_to_node_conditions: &mut BTreeMap<String, Vec<bool>>,
    ) {
        let mut node = Rc::clone(node);
        let mut outcome = None;
        for _ in 0..HEALTH_UPDATE_TRIES {
            let actor = self.actor.clone();
            let mut client = ctx.client(&actor);
            match self.try_update_node_health(&node, &mut client) {
                Ok(o) => {
                    outcome = Some(o);
                    break;
                }
                Err(_) => {
                    // Retry with the node as stored now; a node gone is skipped.
                    match client.get::<Node>(&ObjectKey::cluster(&node.metadata.name)) {
                        Some(live) => node = live,
                        None => return,
                    }
                }
            }
        }
        // "Update health of Node from Controller error, Skipping - no pods will be evicted".
        let Some(outcome) = outcome else {
            return;
        };
        let node = outcome.node;
        let name = node.metadata.name.as_str();
        if !is_node_excluded_from_disruption_checks(&node) {
            // `ComputeZoneState` only asks whether each node's Ready condition is True.
            let ready = outcome.current == Some(ReadyStatus::True);
            let zone = self.zone_key(&node);
            match zone_to_node_conditions.get_mut(&*zone) {
                Some(v) => v.push(ready),
                None => {
                    zone_to_node_conditions.insert(zone.to_string(), vec![ready]);
                }
            }
        }
        if let Some(current) = outcome.current {
            let observed = outcome.observed;
            self.process_taint_base_eviction(&node, observed, ctx);
            let needs_retry = self.nodes_to_retry.contains(name);
            let became_not_ready = current != ReadyStatus::True && observed == ReadyStatus::True;
            if became_not_ready || (needs_retry && observed != ReadyStatus::True) {
                let mut client = ctx.client(&self.actor);
                if became_not_ready {
                    // Reported once, when the status changes.
                    record_node_status_change(&mut client, &node, "NodeNotReady");
                }
                let pods = pods_assigned_to_node(cache, name);
                if mark_pods_not_ready(&mut client, &pods, name).is_err() {
                    self.nodes_to_retry.insert(name.to_string());
                    return;
                }
            }
        }
        if !self.nodes_to_retry.is_empty() {
            self.nodes_to_retry.remove(name);
        }
    }

    // Port of `processTaintBaseEviction`: a not-Ready node is queued for its NoExecute
    // taint (or has the opposite one swapped at once), a Ready one is cleared of both.
    // `observed` is the Ready status as the pass found it, before any Unknown write — so
    // a node that goes Unknown in this pass is only queued in the next one.
    fn process_taint_base_eviction(
        &mut self,
        node: &Node,
        observed: ReadyStatus,
        ctx: &mut Ctx<'_, ControlTimer>,
    ) {
        let (add, opposite) = match observed {
            ReadyStatus::False => (NOT_READY_TAINT, UNREACHABLE_TAINT),
            ReadyStatus::Unknown => (UNREACHABLE_TAINT, NOT_READY_TAINT),
            ReadyStatus::True => {
                let _ = self.mark_node_as_reachable(node, ctx);
                return;
            }
            ReadyStatus::Other => return,
        };
        let remove = taint_template(opposite);
        if taint_exists(&node.spec.taints, &remove) {
            // "Failed to instantly swap …. Will try again in the next cycle" on failure.
            let mut client = ctx.client(&self.actor);
            swap_node_controller_taint(&mut client, &[taint_template(add)], &[remove], node);
        } else {
            self.mark_node_for_tainting(node, add, ctx);
        }
    }

    // Port of `markNodeForTainting`: if the node lacks the taint it is queued for (`key`,
    // by its status), it leaves the zone's set (so it can be queued again), then it is
    // queued.
    fn mark_node_for_tainting(&mut self, node: &Node, key: &str, ctx: &Ctx<'_, ControlTimer>) {
        let zone = self.zone_key(node);
        let now = ctx.now;
        let tainter = self.tainter(&zone);
        if !taint_exists(&node.spec.taints, &taint_template(key)) {
            tainter.remove(&node.metadata.name);
        }
        tainter.add(&node.metadata.name, &node.metadata.uid, now);
    }

    // Port of `markNodeAsReachable`: both NoExecute taints off the node (skipped when the
    // given copy has neither), and the node out of its zone's queue and set. Returns
    // whether it was in the set.
    pub(super) fn mark_node_as_reachable(
        &mut self,
        node: &Node,
        ctx: &mut Ctx<'_, ControlTimer>,
    ) -> Result<bool, ApiError> {
        let name = &node.metadata.name;
        // Both removals short-circuit on the caller's copy: only build the taints when the
        // copy has one of them.
        let has = |key: &str| {
            node.spec
                .taints
                .iter()
                .any(|t| t.key == key && t.effect == "NoExecute")
        };
        if has(UNREACHABLE_TAINT) || has(NOT_READY_TAINT) {
            let mut client = ctx.client(&self.actor);
            let unreachable = [taint_template(UNREACHABLE_TAINT)];
            remove_taint_off_node(&mut client, name, Some(node), &unreachable)?;
            let not_ready = [taint_template(NOT_READY_TAINT)];
            remove_taint_off_node(&mut client, name, Some(node), &not_ready)?;
        }
        let zone = self.zone_key(node);
        Ok(self.tainter(&zone).remove(name))
    }

    // Port of `processPod`: a pod newly bound to a node the controller holds not Ready is
    // marked not Ready. An `Err` asks for a rate-limited retry.
    pub(super) fn process_pod(
        &mut self,
        key: &ObjectKey,
        cache: &Tables,
        ctx: &mut Ctx<'_, ControlTimer>,
    ) -> Result<(), String> {
        let Some(pod) = cache.pods.get(key) else {
            return Ok(()); // deleted: nothing to do
        };
        let node_name = &pod.spec.node_name;
        let Some(health) = self.health.get(node_name) else {
            return Ok(()); // not gathered yet, or the node is gone
        };
        if !cache.nodes.contains_key(&ObjectKey::cluster(node_name)) {
            return Err(format!("node {node_name} not in the cache"));
        }
        let Some(ready) = &health.ready else {
            return Ok(());
        };
        if ready.status != "True" {
            let mut client = ctx.client(&self.actor);
            if mark_pods_not_ready(&mut client, std::slice::from_ref(pod), node_name).is_err() {
                return Err(format!("unable to mark pod {key} NotReady"));
            }
        }
        Ok(())
    }
}

/// Whether a node's Ready condition is True (`nodeutil.IsNodeReady`).
pub fn is_node_ready(node: &Node) -> bool {
    get_node_condition(node, "Ready").is_some_and(|c| c.status == "True")
}
