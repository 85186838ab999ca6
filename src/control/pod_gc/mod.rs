//! The pod garbage collector (`pkg/controller/podgc/gc_controller.go`): every 20 s
//! (`gcCheckPeriod`) it force-deletes pods no kubelet will ever finish —
//!
//! * `gcTerminated`: terminated (Succeeded/Failed) pods beyond
//!   `--terminated-pod-gc-threshold` (12 500; ≤ 0 disables), evicted ones first, then
//!   oldest;
//! * `gcTerminating`: terminating pods on a node that is not Ready and carries the
//!   `node.kubernetes.io/out-of-service` taint (any effect) — non-graceful node shutdown;
//! * `gcOrphaned`: pods bound to a node that is gone, once the node has been missing from
//!   the informer for the 40 s quarantine (`quarantineTime`) and a live read confirms it;
//!   they get the `DisruptionTarget` condition (`DeletionByPodGC`, "PodGC: node no longer
//!   exists");
//! * `gcUnscheduledTerminating`: terminating pods never bound to a node.
//!
//! Each force deletion first moves the pod to phase Failed (unless it already finished),
//! then deletes it with grace period 0. The quarantine queue is client-go's delaying
//! queue: a node name waits 40 s from the pass that first finds an orphan on it (a later
//! sighting does not push it back) and is checked by the first pass at or after that.
//!
//! A pass that finds nothing to do is repeated every 20 s in steady state; while no Pod
//! has changed and no Node has come or gone since such a pass, the next one would find
//! nothing either, so it skips the scans of every pod (see [`PodGcController::gc`]).

#[cfg(test)]
mod tests;

use super::{ControlTimer, Controller, Enqueue, Kinds};
use crate::api::node::well_known::TAINT_OUT_OF_SERVICE;
use crate::api::pod::{PodCondition, condition, phase};
use crate::api::{AnyObject, IndexedTable, Kind, Node, ObjectKey, Pod, Tables, Timestamp};
use crate::apiserver::{Actor, ApiClient, ApiError, DeleteOptions, WatchEvent};
use crate::component::Ctx;
use crate::control::node_lifecycle::is_node_ready;
use crate::control::podutil::{patch_pod_status, update_pod_condition};
use crate::control::taints::taint_key_exists;
use crate::time::{SimDuration, SimTime};
use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;

/// The client name it writes under (`pod-garbage-collector`).
pub const COMPONENT: &str = "pod-garbage-collector";
/// `gcCheckPeriod`.
pub const GC_CHECK_PERIOD: SimDuration = SimDuration::from_secs(20);
/// `quarantineTime`.
pub const QUARANTINE_TIME: SimDuration = SimDuration::from_secs(40);
/// `--terminated-pod-gc-threshold` default.
pub const DEFAULT_TERMINATED_POD_GC_THRESHOLD: i64 = 12_500;

fn loop_key() -> ObjectKey {
    ObjectKey::new("#loops", "pod-gc")
}

pub struct PodGcController {
    actor: Actor,
    terminated_pod_threshold: i64,
    armed: bool,
    next_gc: Option<SimTime>,
    /// `nodeQueue`: node names waiting out the quarantine, with the instant they are due.
    node_queue: BTreeMap<String, SimTime>,
    /// A Pod was added, changed or removed, or a Node added or removed, since the last
    /// pass that scanned the pods.
    changed: bool,
    /// That pass found no pod to act on and no terminating pod.
    quiet: bool,
}

impl PodGcController {
    pub fn new(terminated_pod_threshold: i64) -> Self {
        PodGcController {
            actor: Actor::new(COMPONENT),
            terminated_pod_threshold,
            armed: false,
            next_gc: None,
            node_queue: BTreeMap::new(),
            changed: true,
            quiet: false,
        }
    }
}

impl Default for PodGcController {
    fn default() -> Self {
        PodGcController::new(DEFAULT_TERMINATED_POD_GC_THRESHOLD)
    }
}

/// `isPodTerminated`: neither Pending, Running nor Unknown.
fn is_pod_terminated(pod: &Pod) -> bool {
    !matches!(
        pod.status.phase.as_str(),
        phase::PENDING | phase::RUNNING | phase::UNKNOWN
    )
}

/// `eviction.PodIsEvicted`.
fn pod_is_evicted(pod: &Pod) -> bool {
    pod.status.phase == phase::FAILED && pod.status.reason == "Evicted"
}

/// `byEvictionAndCreationTimestamp`: evicted first, then by creation time, then name.
fn by_eviction_and_creation(a: &Rc<Pod>, b: &Rc<Pod>) -> std::cmp::Ordering {
    pod_is_evicted(b)
        .cmp(&pod_is_evicted(a))
        .then(
            a.metadata
                .creation_timestamp
                .cmp(&b.metadata.creation_timestamp),
        )
        .then(a.metadata.name.cmp(&b.metadata.name))
}

impl PodGcController {
    // Port of `gc`, on the informer's pods and nodes as one pass sees them.
    //
    // Skipping the scans is exact: each of them is a function of the pods, of which node
    // names exist and — only for terminating pods — of the nodes' readiness and taints.
    // A quiet pass saw no terminating pod and nothing to act on; with no Pod event and no
    // Node added or removed since (every change of the informer cache reaches `on_watch`),
    // the scans would see the same and do nothing again. What does change with time alone,
    // the quarantine queue coming due, is processed on every pass.
    fn gc(&mut self, cache: &Tables, ctx: &mut Ctx<'_, ControlTimer>) {
        // Upstream lists once for the four passes; the cache does not change during a
        // pass (writes reach it through the watch), so each walks it directly.
        let pods = &cache.pods;
        let actor = self.actor.clone();
        let quiet = self.quiet && !self.changed;
        if quiet && self.node_queue.values().all(|at| *at > ctx.now) {
            return;
        }
        // The lister's node names, already in order: a sorted list to search.
        let existing: Vec<&str> = cache.nodes.keys().map(|k| k.name.as_str()).collect();
        if quiet {
            self.process_node_queue(pods, &existing, ctx, &actor);
            return;
        }
        let mut acted = false;
        if self.terminated_pod_threshold > 0 {
            acted |= self.gc_terminated(pods, ctx, &actor);
        }
        let terminating = gc_terminating(pods, cache, ctx, &actor);
        acted |= self.gc_orphaned(pods, &existing, ctx, &actor);
        gc_unscheduled_terminating(pods, ctx, &actor);
        self.quiet = !acted && !terminating;
        self.changed = false;
    }

    // Port of `gcTerminated`; returns whether it deleted any.
    fn gc_terminated(
        &self,
        pods: &IndexedTable<Pod>,
        ctx: &mut Ctx<'_, ControlTimer>,
        actor: &Actor,
    ) -> bool {
        let mut terminated: Vec<Rc<Pod>> = pods
            .values()
            .filter(|p| is_pod_terminated(p))
            .cloned()
            .collect();
        let delete_count = terminated.len() as i64 - self.terminated_pod_threshold;
        if delete_count <= 0 {
            return false;
        }
        terminated.sort_by(by_eviction_and_creation);
        for pod in terminated.iter().take(delete_count as usize) {
            let _ = mark_failed_and_delete_pod(pod, None, ctx, actor);
        }
        true
    }

    // Port of `gcOrphaned` with `discoverDeletedNodes` and `checkIfNodeExists`; returns
    // whether any pod is bound to a node the informer does not have. `existing`: the
    // informer's node names, sorted.
    fn gc_orphaned(
        &mut self,
        pods: &IndexedTable<Pod>,
        existing: &[&str],
        ctx: &mut Ctx<'_, ControlTimer>,
        actor: &Actor,
    ) -> bool {
        let now = ctx.now;
        let exists = |name: &str| existing.binary_search(&name).is_ok();
        let mut found = false;
        for pod in pods.values() {
            let node = pod.spec.node_name.as_str();
            if !node.is_empty() && !exists(node) {
                // `AddAfter`: an earlier wait is kept.
                found = true;
                let due = now + QUARANTINE_TIME;
                let at = self.node_queue.entry(node.to_string()).or_insert(due);
                *at = (*at).min(due);
            }
        }
        self.process_node_queue(pods, existing, ctx, actor);
        found
    }

    // The second half of `gcOrphaned`: node names whose quarantine is over are checked
    // with a live read, and the pods of the nodes that are gone are force-deleted.
    fn process_node_queue(
        &mut self,
        pods: &IndexedTable<Pod>,
        existing: &[&str],
        ctx: &mut Ctx<'_, ControlTimer>,
        actor: &Actor,
    ) {
        let now = ctx.now;
        let exists = |name: &str| existing.binary_search(&name).is_ok();
        let ready: Vec<String> = self
            .node_queue
            .iter()
            .filter(|(_, at)| **at <= now)
            .map(|(n, _)| n.clone())
            .collect();
        let mut deleted_nodes = BTreeSet::new();
        for node in ready {
            self.node_queue.remove(&node);
            if exists(node.as_str()) {
                continue;
            }
            let client = ctx.client(actor);
            if client.get::<Node>(&ObjectKey::cluster(&node)).is_none() {
                deleted_nodes.insert(node);
            }
        }
        if deleted_nodes.is_empty() {
            return;
        }
        for pod in pods.values() {
            if !deleted_nodes.contains(&pod.spec.node_name) {
                continue;
            }
            let cond = PodCondition {
                type_: condition::DISRUPTION_TARGET.into(),
                status: "True".into(),
                reason: "DeletionByPodGC".into(),
                message: "PodGC: node no longer exists".into(),
                last_transition_time: None,
            };
            let _ = mark_failed_and_delete_pod(pod, Some(cond), ctx, actor);
        }
    }

    /// The first instant a pass is owed from now on.
    pub fn next_pass(&self) -> Option<SimTime> {
        self.next_gc
    }

    /// Node names in quarantine, with the instant each is checked from.
    pub fn quarantined(&self) -> impl Iterator<Item = (&str, SimTime)> {
        self.node_queue.iter().map(|(n, t)| (n.as_str(), *t))
    }
}

// Port of `gcTerminating`: terminating pods on a not-Ready node with the out-of-service
// taint, evicted first then oldest. Returns whether any pod is terminating at all.
fn gc_terminating(
    pods: &IndexedTable<Pod>,
    cache: &Tables,
    ctx: &mut Ctx<'_, ControlTimer>,
    actor: &Actor,
) -> bool {
    let mut any = false;
    let mut terminating: Vec<Rc<Pod>> = pods
        .values()
        .filter(|p| p.metadata.deletion_timestamp.is_some())
        .inspect(|_| any = true)
        .filter(|p| {
            cache
                .nodes
                .get(&ObjectKey::cluster(&p.spec.node_name))
                .is_some_and(|n| {
                    !is_node_ready(n) && taint_key_exists(&n.spec.taints, TAINT_OUT_OF_SERVICE)
                })
        })
        .cloned()
        .collect();
    if terminating.is_empty() {
        return any;
    }
    terminating.sort_by(by_eviction_and_creation);
    for pod in &terminating {
        let _ = mark_failed_and_delete_pod(pod, None, ctx, actor);
    }
    any
}

// Port of `gcUnscheduledTerminating`.
fn gc_unscheduled_terminating(
    pods: &IndexedTable<Pod>,
    ctx: &mut Ctx<'_, ControlTimer>,
    actor: &Actor,
) {
    for pod in pods.values() {
        if pod.metadata.deletion_timestamp.is_none() || !pod.spec.node_name.is_empty() {
            continue;
        }
        let _ = mark_failed_and_delete_pod(pod, None, ctx, actor);
    }
}

// Port of `markFailedAndDeletePodWithCondition`: phase Failed (with the condition, if
// any) unless the pod already finished, then a delete with grace period 0.
fn mark_failed_and_delete_pod(
    pod: &Pod,
    cond: Option<PodCondition>,
    ctx: &mut Ctx<'_, ControlTimer>,
    actor: &Actor,
) -> Result<(), ApiError> {
    let key = ObjectKey::of(&pod.metadata);
    ctx.note(
        COMPONENT,
        format!("Pod {key}"),
        "PodGC is force deleting Pod".into(),
    );
    let mut client: ApiClient<'_> = ctx.client(actor);
    let now = Timestamp::at(client.now());
    if pod.status.phase != phase::SUCCEEDED && pod.status.phase != phase::FAILED {
        patch_pod_status(&mut client, &key, &pod.metadata.uid, |p| {
            p.status.phase = phase::FAILED.into();
            if let Some(c) = cond {
                update_pod_condition(p, c, now);
            }
        })?;
    }
    client.delete::<Pod>(&key, &DeleteOptions::force())?;
    Ok(())
}

impl Controller for PodGcController {
    fn name(&self) -> &'static str {
        COMPONENT
    }

    // Pods and Nodes; until the loop is armed, every event (the first arms it).
    fn watches(&self) -> Kinds {
        if self.armed {
            Kinds::of(&[Kind::Pod, Kind::Node])
        } else {
            Kinds::ALL
        }
    }

    // No informer handlers upstream: the loop only lists. The first event starts it; Pod
    // events and Nodes coming or going are noted for `gc`'s quiet passes.
    fn on_watch(
        &mut self,
        old: Option<&AnyObject>,
        ev: &WatchEvent,
        _cache: &Tables,
        q: &mut Enqueue,
    ) {
        match ev.obj {
            AnyObject::Pod(_) => self.changed = true,
            AnyObject::Node(_) if old.is_none() || ev.removed => self.changed = true,
            _ => {}
        }
        if !self.armed {
            self.armed = true;
            q.add(loop_key());
        }
    }

    fn sync(
        &mut self,
        _key: &ObjectKey,
        cache: &Tables,
        ctx: &mut Ctx<'_, ControlTimer>,
        q: &mut Enqueue,
    ) -> Result<(), String> {
        let now = ctx.now;
        if self.next_gc.is_none_or(|t| t <= now) {
            self.gc(cache, ctx);
            self.next_gc = Some(now + GC_CHECK_PERIOD);
        }
        let next = self.next_gc.expect("set above");
        q.add_after(
            loop_key(),
            next.saturating_since(now).max(SimDuration::from_nanos(1)),
        );
        Ok(())
    }
}
