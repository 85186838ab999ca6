//! `monitorNodeHealth`, run every `nodeMonitorPeriod`: new and vanished nodes, each node's
//! health (`tryUpdateNodeHealth`), its pods marked not Ready when Ready leaves True, the
//! node queued for (or cleared of) its NoExecute taint (`processTaintBaseEviction`), and
//! the zones' disruption states (`handleDisruption`). Also `processPod`, the pod informer
//! path that marks a pod bound to a not-Ready node not Ready.
//!
//! The pass visits nodes in name order (upstream: 8 workers in parallel), walking the node
//! lister and the controller's per-node entries in step: both are sorted by name, so a
//! node's health, Lease and zone are found without a search.

use super::controller_utils::{
    get_node_condition, mark_pods_not_ready, record_node_event, record_node_status_change,
    swap_node_controller_taint,
};
use super::health::{
    LeaseSeen, ReadyStatus, grace_expired, quiet_node_health, try_update_node_health,
};
use super::taint_template;
use super::zones::ZoneCount;
use super::{NOT_READY_TAINT, NodeEntry, NodeLifecycleController, UNREACHABLE_TAINT, ZoneKeys};
use crate::api::coordination::NAMESPACE_NODE_LEASE;
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

/// Calls `on_node` for every node of the lister with its entry (every node must have one),
/// and `on_other` for entries of names the lister does not have, all in name order. Each
/// node's entry first takes in the node's Lease as the Lease lister has it now (upstream
/// reads `leaseLister` in `tryUpdateNodeHealth`; Leases are named after their nodes, so
/// the Lease lister is walked in step too).
fn in_step<'a>(
    cache: &'a Tables,
    entries: &mut BTreeMap<String, NodeEntry>,
    mut on_node: impl FnMut(&'a Rc<Node>, &mut NodeEntry),
    mut on_other: impl FnMut(&str, &mut NodeEntry),
) -> bool {
    // Whether the three listings held the same names in the same order.
    let mut aligned = true;
    let mut it = entries.iter_mut();
    let mut leases = cache
        .leases
        .range(node_lease_range())
        .map(|(_, l)| l)
        .peekable();
    // One three-way comparison per step (a name compare is a `memcmp` call; `<` then `==`
    // made two), and none against the Lease lister once it is exhausted.
    for node in cache.nodes.values() {
        let name = node.metadata.name.as_str();
        let e = loop {
            let (k, e) = it.next().expect("every node of the lister has an entry");
            match k.as_str().cmp(name) {
                std::cmp::Ordering::Less => {
                    aligned = false;
                    e.listed = None;
                    on_other(k, e)
                }
                std::cmp::Ordering::Equal => break e,
                std::cmp::Ordering::Greater => {
                    unreachable!("every node of the lister has an entry")
                }
            }
        };
        let mut lease = None;
        while let Some(l) = leases.peek() {
            match l.metadata.name.as_str().cmp(name) {
                std::cmp::Ordering::Less => {
                    aligned = false;
                    leases.next();
                }
                std::cmp::Ordering::Equal => {
                    lease = Some(LeaseSeen::of(l));
                    leases.next();
                    break;
                }
                std::cmp::Ordering::Greater => break,
            }
        }
        aligned &= lease.is_some();
        e.lease = lease;
        if !e.listed.as_ref().is_some_and(|l| Rc::ptr_eq(l, node)) {
            e.listed = Some(Rc::clone(node));
        }
        on_node(node, e);
    }
    for (k, e) in it {
        aligned = false;
        e.listed = None;
        on_other(k, e);
    }
    aligned && leases.next().is_none()
}

/// [`in_step`]'s walk when the three listings are known to hold the same names in the
/// same order (`NodeLifecycleController::aligned`), for nodes `quiet` does not dispose
/// of (both are handed `z`, the pass's state): the entries and the Lease lister paired by
/// position, with each entry's node as `NodeEntry::listed` has it (the node lister is
/// not walked: most nodes are quiet, and their entries say all it needs).
fn aligned_step<Z>(
    cache: &Tables,
    entries: &mut BTreeMap<String, NodeEntry>,
    z: &mut Z,
    mut quiet: impl FnMut(&mut NodeEntry, &mut Z) -> bool,
    mut on_node: impl FnMut(&Rc<Node>, &mut NodeEntry, &mut Z),
) {
    let leases = cache.leases.range(node_lease_range()).map(|(_, l)| l);
    for ((name, e), lease) in entries.iter_mut().zip(leases) {
        debug_assert!(*name == lease.metadata.name);
        e.lease = Some(LeaseSeen::of(lease));
        if quiet(e, z) {
            continue;
        }
        let node = e.listed.clone().expect("aligned: every entry has its node");
        on_node(&node, e, z);
    }
}

/// Debug builds: `NodeEntry::listed` and `NodeEntry::healthy`, kept up by `on_watch`
/// between passes, are what the node lister holds (as a walk comparing each node with
/// them would find).
fn check_listed(cache: &Tables, entries: &BTreeMap<String, NodeEntry>, aligned: bool) {
    if cfg!(debug_assertions) {
        for (name, e) in entries {
            let lister = cache.nodes.get_by_parts("", name);
            // Until a walk has paired them, a new entry has no `listed` yet.
            if aligned || e.listed.is_some() {
                assert!(
                    match (lister, &e.listed) {
                        (Some(n), Some(l)) => Rc::ptr_eq(n, l),
                        (None, None) => true,
                        _ => false,
                    },
                    "node {name}: the entry's object is not the lister's"
                );
            }
            if let Some(h) = &e.healthy {
                assert!(
                    lister.is_some_and(|n| Rc::ptr_eq(n, h)),
                    "node {name}: the object found healthy is no longer the lister's"
                );
            }
        }
    }
}

/// The Lease lister's namespace as a key range (`list_in` would compare every key's
/// namespace once more): keys order by namespace, then name.
fn node_lease_range() -> std::ops::Range<ObjectKey> {
    ObjectKey::new(NAMESPACE_NODE_LEASE, "")
        ..ObjectKey::new(&format!("{NAMESPACE_NODE_LEASE}\0"), "")
}

/// The pass's `zoneToNodeConditions`: per zone, how many nodes' Ready condition is True
/// and how many not (all `ComputeZoneState` asks: it counts, so the order is not kept),
/// by the zone key's index in `ZoneKeys` (a node's topology remembers it).
#[derive(Default)]
struct ZoneConditions(Vec<ZoneCount>);

impl ZoneConditions {
    fn new(zones: usize) -> Self {
        ZoneConditions(vec![ZoneCount::default(); zones])
    }

    #[inline]
    fn push(&mut self, zone_index: usize, ready: bool) {
        if zone_index >= self.0.len() {
            // A zone key first seen in this pass.
            self.0.resize(zone_index + 1, ZoneCount::default());
        }
        let c = &mut self.0[zone_index];
        if ready {
            c.ready += 1;
        } else {
            c.not_ready += 1;
        }
    }

    /// The map `handleDisruption` takes: per zone key with a node counted, its counts.
    fn into_map(self, keys: &ZoneKeys) -> BTreeMap<Rc<str>, ZoneCount> {
        self.0
            .into_iter()
            .enumerate()
            .filter(|(_, c)| c.nodes() > 0)
            .map(|(i, c)| (Rc::clone(keys.get(i)), c))
            .collect()
    }
}

/// The steady state's whole visit of a node, inlined into the walk: the lister still
/// holds the very object a pass found healthy (`NodeEntry::healthy`), its topology was
/// read from that object, and no node is in the retry set (the caller's test). Takes in
/// a renewed Lease and counts the node Ready in its zone, as
/// `NodeLifecycleController::quiet_healthy` would (its Lease step is
/// `health::quiet_node_health`'s); returns false (that and then the full path run)
/// otherwise, or once the grace period is over.
#[inline]
fn quiet_steady(
    entry: &mut NodeEntry,
    now: crate::time::SimTime,
    grace: crate::time::SimDuration,
    zones: &mut ZoneConditions,
) -> bool {
    let (Some(healthy), Some(health), Some(t)) =
        (&entry.healthy, &mut entry.health, &entry.topology)
    else {
        return false;
    };
    if !Rc::ptr_eq(&t.of, healthy) {
        return false;
    }
    // `quiet_node_health`, on the fields already borrowed.
    health.take_in_lease(entry.lease, now);
    if grace_expired(now, health.probe_timestamp, grace) {
        return false;
    }
    if !t.excluded {
        zones.push(t.zone_index, true);
    }
    true
}

impl NodeLifecycleController {
    // Port of `monitorNodeHealth`, with `classifyNodes`.
    pub(super) fn monitor_node_health(&mut self, cache: &Tables, ctx: &mut Ctx<'_, ControlTimer>) {
        let mut entries = std::mem::take(&mut self.entries);
        // Nodes the controller has never heard of get an entry first. While the listings
        // are aligned (`NodeLifecycleController::aligned`: no Node added or removed since a
        // walk found every node with its entry) there is none, and the walk (two name
        // compares per node per pass) is skipped.
        let mut missing = Vec::new();
        if !self.aligned {
            let mut names = entries.keys().peekable();
            for key in cache.nodes.keys() {
                while names.next_if(|n| n.as_str() < key.name.as_str()).is_some() {}
                if names.peek().is_none_or(|n| n.as_str() != key.name) {
                    missing.push(key.name.clone());
                }
            }
        }
        for name in missing {
            entries.insert(name, NodeEntry::default());
        }

        // `classifyNodes`: nodes not known yet, known nodes gone, known nodes of a zone
        // with no state yet.
        let mut added: Vec<(Rc<Node>, Rc<str>)> = Vec::new();
        let mut deleted: Vec<Rc<Node>> = Vec::new();
        let mut new_zone_representatives: Vec<Rc<str>> = Vec::new();
        let classify = std::mem::take(&mut self.classify);
        if classify {
            in_step(
                cache,
                &mut entries,
                |node, e| {
                    let (zone, _, _) = e.topology(node, &mut self.zone_keys);
                    if e.known.is_none() {
                        e.known = Some(Rc::clone(node));
                        added.push((Rc::clone(node), zone));
                    } else if !self.zone_states.contains_key(&*zone) {
                        new_zone_representatives.push(zone);
                    }
                },
                |_, e| {
                    if let Some(gone) = e.known.take() {
                        deleted.push(gone);
                    }
                },
            );
        }
        for zone in &new_zone_representatives {
            self.add_pod_evictor_for_new_zone(zone);
        }
        for (n, zone) in &added {
            let name = &n.metadata.name;
            let mut client = ctx.client(&self.actor);
            let msg = format!("Registered Node {name} in Controller");
            record_node_event(&mut client, n, EventType::Normal, "RegisteredNode", &msg);
            self.add_pod_evictor_for_new_zone(zone);
            let _ = self.mark_node_as_reachable(n, zone, ctx);
        }
        for n in &deleted {
            let name = &n.metadata.name;
            let mut client = ctx.client(&self.actor);
            let msg = format!("Removing Node {name} from Controller");
            record_node_event(&mut client, n, EventType::Normal, "RemovingNode", &msg);
        }

        let mut zones = ZoneConditions::new(self.zone_keys.len());
        let was_aligned = self.aligned;
        let now = ctx.now;
        let grace = self.config.node_monitor_grace_period;
        let no_retries = self.shortcuts && self.nodes_to_retry.is_empty();
        check_listed(cache, &entries, was_aligned);
        let aligned = if was_aligned {
            aligned_step(
                cache,
                &mut entries,
                &mut zones,
                |e, zones| no_retries && quiet_steady(e, now, grace, zones),
                |node, e, zones| self.update_node(node, e, cache, ctx, zones),
            );
            true
        } else {
            in_step(
                cache,
                &mut entries,
                |node, e| {
                    if !(no_retries && quiet_steady(e, now, grace, &mut zones)) {
                        self.update_node(node, e, cache, ctx, &mut zones)
                    }
                },
                |_, _| {},
            )
        };
        self.aligned = aligned;
        self.entries = entries;
        let zones = zones.into_map(&self.zone_keys);
        self.handle_disruption(&zones, cache, ctx);
    }

    /// `updateNodeFunc` of `monitorNodeHealth`, for one node.
    fn update_node(
        &mut self,
        listed: &Rc<Node>,
        entry: &mut NodeEntry,
        cache: &Tables,
        ctx: &mut Ctx<'_, ControlTimer>,
        zones: &mut ZoneConditions,
    ) {
        if self.shortcuts && self.quiet_healthy(listed, entry, ctx.now, zones) {
            return;
        }
        entry.healthy = None;
        let mut node = Rc::clone(listed);
        let mut outcome = None;
        for _ in 0..HEALTH_UPDATE_TRIES {
            let mut client = ctx.client(&self.actor);
            let shortcut = self.shortcuts;
            match try_update_node_health(&self.config, entry, &node, &mut client, shortcut) {
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
        let (zone, zone_index, excluded) = entry.topology(&node, &mut self.zone_keys);
        if !excluded {
            zones.push(zone_index, outcome.current == Some(ReadyStatus::True));
        }
        if let Some(current) = outcome.current {
            let observed = outcome.observed;
            self.process_taint_base_eviction(&node, &zone, observed, ctx);
            if observed == ReadyStatus::True && current == ReadyStatus::True {
                // Marked reachable just now: out of the tainting set, and its copy
                // carried no NoExecute taint of ours (else it is retried until one shows
                // the removal).
                let tainted = node.spec.taints.iter().any(|t| {
                    t.effect == "NoExecute"
                        && (t.key == UNREACHABLE_TAINT || t.key == NOT_READY_TAINT)
                });
                // Only the lister's object (not one read live after a failed write):
                // `NodeEntry::healthy` is kept as the lister's by `on_watch`.
                if !tainted && Rc::ptr_eq(&node, listed) {
                    entry.healthy = Some(Rc::clone(&node));
                }
            }
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

    /// `updateNodeFunc` for a node whose object is the very one a pass found healthy (see
    /// `NodeEntry::healthy`), when nothing but its Lease can have changed: upstream's pass
    /// would take in the Lease, find Ready True before and after, remove no taint and
    /// find the node in no tainting set. Returns false (the full path runs) once the
    /// grace period is over or the node is in the retry set.
    fn quiet_healthy(
        &mut self,
        node: &Rc<Node>,
        entry: &mut NodeEntry,
        now: crate::time::SimTime,
        zones: &mut ZoneConditions,
    ) -> bool {
        if !entry.healthy.as_ref().is_some_and(|h| Rc::ptr_eq(h, node)) {
            return false;
        }
        if !self.nodes_to_retry.is_empty() && self.nodes_to_retry.contains(&node.metadata.name) {
            return false;
        }
        if !quiet_node_health(&self.config, entry, now) {
            return false;
        }
        match &entry.topology {
            // The usual case: the remembered topology is this very object's.
            Some(t) if Rc::ptr_eq(&t.of, node) => {
                if !t.excluded {
                    zones.push(t.zone_index, true);
                }
            }
            _ => {
                let (_, zone_index, excluded) = entry.topology(node, &mut self.zone_keys);
                if !excluded {
                    zones.push(zone_index, true);
                }
            }
        }
        true
    }

    // Port of `processTaintBaseEviction`: a not-Ready node is queued for its NoExecute
    // taint (or has the opposite one swapped at once), a Ready one is cleared of both.
    // `observed` is the Ready status as the pass found it, before any Unknown write — so
    // a node that goes Unknown in this pass is only queued in the next one.
    fn process_taint_base_eviction(
        &mut self,
        node: &Node,
        zone: &str,
        observed: ReadyStatus,
        ctx: &mut Ctx<'_, ControlTimer>,
    ) {
        let (add, opposite) = match observed {
            ReadyStatus::False => (NOT_READY_TAINT, UNREACHABLE_TAINT),
            ReadyStatus::Unknown => (UNREACHABLE_TAINT, NOT_READY_TAINT),
            ReadyStatus::True => {
                let _ = self.mark_node_as_reachable(node, zone, ctx);
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
            self.mark_node_for_tainting(node, zone, add, ctx);
        }
    }

    // Port of `markNodeForTainting`: if the node lacks the taint it is queued for (`key`,
    // by its status), it leaves the zone's set (so it can be queued again), then it is
    // queued.
    fn mark_node_for_tainting(
        &mut self,
        node: &Node,
        zone: &str,
        key: &str,
        ctx: &Ctx<'_, ControlTimer>,
    ) {
        let now = ctx.now;
        let tainter = self.tainter(zone);
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
        zone: &str,
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
        let queued = self.zone_tainter.get_mut(zone);
        Ok(queued.is_some_and(|t| t.remove(name)))
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
        let Some(health) = self.entries.get(node_name).and_then(|e| e.health.as_ref()) else {
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
