//! The node lifecycle controller (`pkg/controller/nodelifecycle/node_lifecycle_controller.go`):
//! notices kubelets that stopped reporting, marks their nodes and pods not Ready, and puts
//! the `not-ready` / `unreachable` taints on them — NoSchedule at once, NoExecute through
//! a per-zone rate limiter that slows or stops when a zone looks broadly disrupted. The
//! taint eviction controller (`control::taint_eviction`) then evicts the pods.
//!
//! Files, one concept each: `health` (`tryUpdateNodeHealth`), `monitor`
//! (`monitorNodeHealth`, `processTaintBaseEviction`, `processPod`), `zones`
//! (`ComputeZoneState`, `handleDisruption`), `tainting` (the NoSchedule and NoExecute
//! tainting passes), `rate_limited_queue` and `token_bucket` (the zone queues and their
//! limiters), `controller_utils` (`MarkPodsNotReady`, node Events, taint swaps).
//!
//! Time: upstream runs `monitorNodeHealth` every `nodeMonitorPeriod` and
//! `doNoExecuteTaintingPass` every 100 ms, both from the controller's start. Here both
//! run as syncs of one loop key on those grids, anchored at the controller's first sync
//! (its first watch event); the 100 ms pass only wakes at grid instants where a zone queue
//! could hand out a token, which is exactly where a free-running loop would act. At an
//! instant on both grids the monitor pass runs first. Node keys (the NoSchedule pass and
//! label reconciliation) and pod keys (`processPod`) are ordinary work-queue keys.

mod controller_utils;
mod health;
mod monitor;
pub mod rate_limited_queue;
mod tainting;
pub mod token_bucket;
pub mod zones;

#[cfg(test)]
mod steady_tests;
#[cfg(test)]
pub(crate) mod tests;

pub use monitor::is_node_ready;

use super::{ControlTimer, Controller, Enqueue};
use crate::api::node::well_known::{TAINT_NOT_READY, TAINT_UNREACHABLE};
use crate::api::scheduling::Taint;
use crate::api::{AnyObject, Node, ObjectKey, Tables};
use crate::apiserver::{Actor, WatchEvent};
use crate::component::Ctx;
use crate::time::{SimDuration, SimTime};
use health::NodeHealthData;
use rate_limited_queue::{NODE_EVICTION_PERIOD, RateLimitedTimedQueue};
use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;
use zones::ZoneState;

/// The client name it writes under and its Event source (`node-controller`).
pub const COMPONENT: &str = "node-controller";

const NOT_READY_TAINT: &str = TAINT_NOT_READY;
const UNREACHABLE_TAINT: &str = TAINT_UNREACHABLE;

/// `NotReadyTaintTemplate` / `UnreachableTaintTemplate`: the NoExecute taint of a key.
fn taint_template(key: &str) -> Taint {
    Taint {
        key: key.into(),
        effect: "NoExecute".into(),
        ..Default::default()
    }
}

/// kube-controller-manager's node lifecycle flags.
#[derive(Clone, Debug, PartialEq)]
pub struct NodeLifecycleConfig {
    /// `--node-monitor-period` (5 s).
    pub node_monitor_period: SimDuration,
    /// `--node-monitor-grace-period`: 40 s up to 1.31, 50 s from 1.32 (kubernetes#126287).
    pub node_monitor_grace_period: SimDuration,
    /// `--node-startup-grace-period` (60 s).
    pub node_startup_grace_period: SimDuration,
    /// `--node-eviction-rate` (0.1 nodes/s).
    pub eviction_limiter_qps: f32,
    /// `--secondary-node-eviction-rate` (0.01 nodes/s).
    pub secondary_eviction_limiter_qps: f32,
    /// `--large-cluster-size-threshold` (50; compared with a zone's node count).
    pub large_cluster_size_threshold: i32,
    /// `--unhealthy-zone-threshold` (0.55).
    pub unhealthy_zone_threshold: f32,
}

impl NodeLifecycleConfig {
    /// The defaults of Kubernetes 1.`minor`.
    pub fn for_version(minor: u32) -> Self {
        NodeLifecycleConfig {
            node_monitor_period: SimDuration::from_secs(5),
            node_monitor_grace_period: default_node_monitor_grace_period(minor),
            node_startup_grace_period: SimDuration::from_secs(60),
            eviction_limiter_qps: 0.1,
            secondary_eviction_limiter_qps: 0.01,
            large_cluster_size_threshold: 50,
            unhealthy_zone_threshold: 0.55,
        }
    }
}

/// The `--node-monitor-grace-period` default of Kubernetes 1.`minor`.
pub fn default_node_monitor_grace_period(minor: u32) -> SimDuration {
    SimDuration::from_secs(if minor >= 32 { 50 } else { 40 })
}

/// The namespace of the loop key: no real namespace can contain `#`.
const LOOP_NAMESPACE: &str = "#loops";

fn loop_key() -> ObjectKey {
    ObjectKey::new(LOOP_NAMESPACE, "node-lifecycle")
}

/// Where the two periodic loops stand.
#[derive(Debug, Default)]
struct Loops {
    /// The loop key was queued (by the first watch event).
    armed: bool,
    /// The instant of the first sync: both grids start there.
    anchor: Option<SimTime>,
    next_monitor: SimTime,
    /// The last 100 ms tick whose tainting pass ran.
    last_taint_pass: Option<SimTime>,
}

/// A node's zone key and disruption-check exclusion, as of one stored version of it (a
/// version's labels never change), and of later versions with equal labels (both are
/// read from the labels alone).
#[derive(Debug)]
struct Topology {
    of: Rc<Node>,
    zone: Rc<str>,
    /// The zone key's place in `ZoneKeys` (the monitor pass counts by it).
    zone_index: usize,
    excluded: bool,
}

/// Everything the controller keeps per node name, in one map that the monitor pass walks
/// in step with the node lister (both in name order) rather than searching per node.
#[derive(Debug, Default)]
pub(super) struct NodeEntry {
    /// In `knownNodeSet`: the node as the controller first registered it.
    known: Option<Rc<Node>>,
    /// `nodeHealthMap`'s entry (never dropped, as upstream).
    health: Option<NodeHealthData>,
    /// The Lease lister's object for the node (`kube-node-lease/<name>`), as the pass
    /// read it.
    lease: Option<health::LeaseSeen>,
    topology: Option<Topology>,
    /// The node lister's object of this name (`None` if it has none), as the last walk
    /// in step with the lister found it and `on_watch` has kept it since; the aligned
    /// walk (`monitor::aligned_step`) reads the node from here.
    listed: Option<Rc<Node>>,
    /// The node object the last pass found Ready (observed and after), with no NoExecute
    /// node-controller taint, and left out of its zone's tainting set — as the node
    /// lister holds it: it is only set to the lister's object, and `on_watch` drops it
    /// when the lister's object changes or goes. While it is set, the pass has nothing to
    /// do for the node but take in a renewed Lease and check the grace period
    /// (`monitor::quiet_steady`, `monitor::quiet_healthy`), and needs no look at the
    /// node lister to know it.
    healthy: Option<Rc<Node>>,
}

/// The zone keys seen so far, one `Rc` per key: the nodes of a zone share it, so that the
/// monitor pass's per-zone count (`monitor::ZoneConditions`) finds a node's zone by a
/// pointer test instead of a string compare per node per pass. Zones are few.
#[derive(Debug, Default)]
struct ZoneKeys(Vec<Rc<str>>);

impl ZoneKeys {
    /// The shared key equal to `key`, and its index (keys are never dropped, so an index
    /// stays valid).
    fn intern(&mut self, key: String) -> (Rc<str>, usize) {
        if let Some(i) = self.0.iter().position(|k| **k == *key) {
            return (Rc::clone(&self.0[i]), i);
        }
        let k: Rc<str> = Rc::from(key);
        self.0.push(Rc::clone(&k));
        (k, self.0.len() - 1)
    }

    fn len(&self) -> usize {
        self.0.len()
    }

    fn get(&self, index: usize) -> &Rc<str> {
        &self.0[index]
    }
}

impl NodeEntry {
    /// `GetZoneKey` and `isNodeExcludedFromDisruptionChecks` of `node`, remembered: the
    /// zone key, its index in `keys`, and the exclusion.
    fn topology(&mut self, node: &Rc<Node>, keys: &mut ZoneKeys) -> (Rc<str>, usize, bool) {
        match &mut self.topology {
            Some(t) if Rc::ptr_eq(&t.of, node) => (Rc::clone(&t.zone), t.zone_index, t.excluded),
            // A new version with the same labels (a kubelet's status post): the same
            // answer, for a map compare instead of the label look-ups and the key's
            // formatting.
            Some(t) if t.of.metadata.labels == node.metadata.labels => {
                t.of = Rc::clone(node);
                (Rc::clone(&t.zone), t.zone_index, t.excluded)
            }
            _ => {
                let (zone, zone_index) = keys.intern(zones::get_zone_key(node));
                let excluded = zones::is_node_excluded_from_disruption_checks(node);
                self.topology = Some(Topology {
                    of: Rc::clone(node),
                    zone: Rc::clone(&zone),
                    zone_index,
                    excluded,
                });
                (zone, zone_index, excluded)
            }
        }
    }
}

pub struct NodeLifecycleController {
    config: NodeLifecycleConfig,
    actor: Actor,
    /// Per node name: `knownNodeSet`, `nodeHealthMap`, the Lease lister.
    entries: BTreeMap<String, NodeEntry>,
    /// `zoneNoExecuteTainter`.
    zone_tainter: BTreeMap<String, RateLimitedTimedQueue>,
    /// `zoneStates`.
    zone_states: BTreeMap<String, ZoneState>,
    /// `nodesToRetry`: nodes whose pods could not all be marked not Ready.
    nodes_to_retry: BTreeSet<String>,
    /// The zone keys of the nodes' topologies, shared.
    zone_keys: ZoneKeys,
    /// Whether `classifyNodes` can find anything: a node came or went or changed its
    /// labels, or a zone's state was dropped, since the last pass. (When nothing of the
    /// kind happened it finds nothing, and the pass skips it.)
    classify: bool,
    /// The node lister, the entries and the Lease lister held the same names in the same
    /// order at the last full walk of a monitor pass, and no Node or Lease has been added
    /// or removed since (each add or remove reaches `on_watch`; Lease renewals, which do
    /// not, change no name): the pass may pair them by position (`monitor::aligned_step`).
    aligned: bool,
    /// The exact shortcuts of the steady state are taken (`monitor::quiet_steady` and
    /// `quiet_healthy`, `health`'s in-place status post, `zone_states_hold`). Only tests
    /// turn them off, to compare with the plain port.
    shortcuts: bool,
    loops: Loops,
}

impl NodeLifecycleController {
    pub fn new(config: NodeLifecycleConfig) -> Self {
        NodeLifecycleController {
            config,
            actor: Actor::new(COMPONENT),
            entries: BTreeMap::new(),
            zone_tainter: BTreeMap::new(),
            zone_states: BTreeMap::new(),
            nodes_to_retry: BTreeSet::new(),
            zone_keys: ZoneKeys::default(),
            classify: true,
            aligned: false,
            shortcuts: true,
            loops: Loops::default(),
        }
    }

    /// The controller without its steady-state shortcuts (see `shortcuts`), for tests
    /// that compare the two.
    #[cfg(test)]
    pub(crate) fn without_shortcuts(mut self) -> Self {
        self.shortcuts = false;
        self
    }

    /// The zone states as of the last monitor pass, by zone key.
    pub fn zone_states(&self) -> impl Iterator<Item = (&str, ZoneState)> {
        self.zone_states.iter().map(|(k, v)| (k.as_str(), *v))
    }

    /// The first 100 ms tick at or after `t`.
    fn tick_at_or_after(&self, t: SimTime) -> SimTime {
        let anchor = self.loops.anchor.unwrap_or(SimTime::ZERO);
        let p = NODE_EVICTION_PERIOD.as_nanos();
        let since = t.saturating_since(anchor).as_nanos();
        anchor + SimDuration::from_nanos(since.div_ceil(p) * p)
    }

    /// One sync of the loop key: the monitor pass if due, the tainting pass if this is a
    /// tick it is owed, then the next instant either loop has anything to do.
    fn run_loops(&mut self, cache: &Tables, ctx: &mut Ctx<'_, ControlTimer>, q: &mut Enqueue) {
        let now = ctx.now;
        if self.loops.anchor.is_none() {
            self.loops.anchor = Some(now);
            self.loops.next_monitor = now;
        }
        if self.loops.next_monitor <= now {
            self.monitor_node_health(cache, ctx);
            self.loops.next_monitor = now + self.config.node_monitor_period;
        }
        let on_tick = self.tick_at_or_after(now) == now;
        if on_tick && self.loops.last_taint_pass != Some(now) {
            self.do_no_execute_tainting_pass(cache, ctx);
            self.loops.last_taint_pass = Some(now);
        }
        let first = if self.loops.last_taint_pass == Some(now) {
            now + SimDuration::from_nanos(1)
        } else {
            now
        };
        let mut next = self.loops.next_monitor;
        for tainter in self.zone_tainter.values() {
            if let Some(t) = tainter.next_try(first, |t| self.tick_at_or_after(t)) {
                next = next.min(t);
            }
        }
        q.add_after(
            loop_key(),
            next.saturating_since(now).max(SimDuration::from_nanos(1)),
        );
    }
}

impl Controller for NodeLifecycleController {
    fn name(&self) -> &'static str {
        COMPONENT
    }

    // The node informer's add/update handlers queue the node for the NoSchedule pass and
    // the delete handler forgets its retry; the pod informer's `podUpdated` queues pods
    // newly bound to a node. Leases have no handler upstream: the monitor pass reads the
    // Lease lister (the informer cache, `monitor::in_step`).
    fn on_watch(
        &mut self,
        old: Option<&AnyObject>,
        ev: &WatchEvent,
        _cache: &Tables,
        q: &mut Enqueue,
    ) {
        if !self.loops.armed {
            self.loops.armed = true;
            q.add(loop_key());
        }
        if ev.removed || old.is_none() {
            // A name may have come or gone from the Node or Lease lister.
            if matches!(ev.obj, AnyObject::Node(_) | AnyObject::Lease(_)) {
                self.aligned = false;
            }
        }
        if let AnyObject::Node(node) = &ev.obj
            && let Some(e) = self.entries.get_mut(node.metadata.name.as_str())
        {
            // The lister's object changed or went; the one a pass found healthy is no
            // longer the lister's.
            e.listed = (!ev.removed).then(|| Rc::clone(node));
            e.healthy = None;
        }
        match &ev.obj {
            AnyObject::Node(node) if ev.removed => {
                self.nodes_to_retry.remove(&node.metadata.name);
                self.classify = true;
            }
            AnyObject::Node(node) => {
                let same_labels = matches!(old, Some(AnyObject::Node(o))
                    if o.metadata.labels == node.metadata.labels);
                self.classify |= !same_labels;
                q.add(ObjectKey::cluster(&node.metadata.name));
            }
            AnyObject::Pod(pod) if !ev.removed => {
                let old_node = match old {
                    Some(AnyObject::Pod(o)) => Some(o.spec.node_name.as_str()),
                    _ => None,
                };
                let bound = &pod.spec.node_name;
                if !bound.is_empty() && old_node != Some(bound.as_str()) {
                    q.add(ObjectKey::of(&pod.metadata));
                }
            }
            _ => {}
        }
    }

    fn sync(
        &mut self,
        key: &ObjectKey,
        cache: &Tables,
        ctx: &mut Ctx<'_, ControlTimer>,
        q: &mut Enqueue,
    ) -> Result<(), String> {
        if key.namespace == LOOP_NAMESPACE {
            self.run_loops(cache, ctx, q);
            Ok(())
        } else if key.namespace.is_empty() {
            // `doNodeProcessingPassWorker`: both passes read the node from the cache (one
            // look-up: the first pass writes through the API server, not the cache).
            if let Some(node) = cache.nodes.get_by_parts("", &key.name) {
                self.do_no_schedule_tainting_pass(node, ctx);
                self.reconcile_node_labels(node, ctx);
            }
            Ok(())
        } else {
            self.process_pod(key, cache, ctx)
        }
    }
}
