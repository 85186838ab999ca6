//! The taint eviction controller (`pkg/controller/tainteviction/taint_eviction.go`,
//! `taint-eviction-controller`, separate from the node lifecycle controller since
//! `SeparateTaintEvictionController`, GA in 1.34): deletes the pods of nodes with NoExecute
//! taints they do not tolerate.
//!
//! On a node's NoExecute taints changing, each pod on it is looked at
//! (`processPodOnNode`): a taint not tolerated → the pod is deleted now; all tolerated,
//! some for a limited time → deletion scheduled at the instant the controller saw the
//! taints plus the smallest `tolerationSeconds`; all tolerated forever → any scheduled
//! deletion is cancelled, as it is when the taints go. The deletion marks the pod
//! `DisruptionTarget` (reason `DeletionByTaintManager`) and deletes it gracefully with its
//! own grace period — no eviction API, so PodDisruptionBudgets are not consulted. A pod on
//! an unreachable node then stays Terminating until its kubelet, a force delete or the pod
//! GC finishes it.
//!
//! Keys: a node's (the node informer), a pod's (the pod informer), and a fired timer's
//! (namespace `#fire/<ns>`), all on one work queue; upstream shards node and pod updates
//! over 8 workers by node name and runs node updates first, which a simulated instant
//! does not need.

mod timed_workers;

#[cfg(test)]
mod tests;

use super::{ControlTimer, Controller, Enqueue, Kinds};
use crate::api::pod::{PodCondition, condition};
use crate::api::scheduling::{Taint, Toleration};
use crate::api::{AnyObject, Kind, ObjectKey, ObjectMeta, Pod, Tables, Timestamp};
use crate::apiserver::{Actor, ApiClient, ApiError, DeleteOptions, EventType, WatchEvent};
use crate::component::Ctx;
use crate::control::podutil::{patch_pod_status, update_pod_condition};
use crate::time::{SimDuration, SimTime};
use std::collections::BTreeMap;
use timed_workers::{Added, TimedWorkerQueue};

/// The controller's name, client name and Event source.
pub const COMPONENT: &str = "taint-eviction-controller";

/// `retries` of `deletePodHandler`.
const RETRIES: usize = 5;

const FIRE_PREFIX: &str = "#fire/";

fn fire_key(pod: &ObjectKey) -> ObjectKey {
    ObjectKey::new(&format!("{FIRE_PREFIX}{}", pod.namespace), &pod.name)
}

/// `getNoExecuteTaints`.
fn no_execute_taints(taints: &[Taint]) -> Vec<Taint> {
    taints
        .iter()
        .filter(|t| t.effect == "NoExecute")
        .cloned()
        .collect()
}

// Port of `v1helper.GetMatchingTolerations`: whether every taint is tolerated, and for
// each taint the first toleration that tolerates it.
pub fn get_matching_tolerations<'a>(
    taints: &[Taint],
    tolerations: &'a [Toleration],
) -> (bool, Vec<&'a Toleration>) {
    if taints.is_empty() {
        return (true, Vec::new());
    }
    let mut used = Vec::new();
    for taint in taints {
        match tolerations.iter().find(|t| t.tolerates(taint)) {
            Some(t) => used.push(t),
            None => return (false, Vec::new()),
        }
    }
    (true, used)
}

// Port of `getMinTolerationTime`: the smallest `tolerationSeconds` of the tolerations used
// (≤ 0 means at once), `None` for forever; no toleration at all means at once.
pub fn get_min_toleration_time(tolerations: &[&Toleration]) -> Option<SimDuration> {
    if tolerations.is_empty() {
        return Some(SimDuration::ZERO);
    }
    let mut min: Option<i64> = None;
    for t in tolerations {
        if let Some(s) = t.toleration_seconds {
            if s <= 0 {
                return Some(SimDuration::ZERO);
            }
            min = Some(min.map_or(s, |m| m.min(s)));
        }
    }
    min.map(|s| SimDuration::from_secs(s as u64))
}

pub struct TaintEvictionController {
    actor: Actor,
    /// `taintedNodes`: each node's NoExecute taints as last seen.
    tainted_nodes: BTreeMap<String, Vec<Taint>>,
    /// `taintEvictionQueue`.
    queue: TimedWorkerQueue,
}

impl Default for TaintEvictionController {
    fn default() -> Self {
        TaintEvictionController {
            actor: Actor::new(COMPONENT),
            tainted_nodes: BTreeMap::new(),
            queue: TimedWorkerQueue::default(),
        }
    }
}

/// The Event reference upstream builds from the name alone (no uid).
fn pod_ref(key: &ObjectKey) -> Pod {
    Pod {
        metadata: ObjectMeta::named(&key.namespace, &key.name),
        ..Default::default()
    }
}

impl TaintEvictionController {
    /// Pods with a deletion scheduled, with the instant each is due.
    pub fn scheduled(&self) -> Vec<(ObjectKey, SimTime)> {
        self.queue
            .iter()
            .map(|(k, w)| (k.clone(), w.fire_at))
            .collect()
    }

    /// `cancelWorkWithEvent`.
    fn cancel_work_with_event(&mut self, key: &ObjectKey, client: &mut ApiClient<'_>) {
        if self.queue.cancel_work(key) {
            let msg = format!("Cancelling deletion of Pod {key}");
            client.event(
                &pod_ref(key),
                EventType::Normal,
                "TaintManagerEviction",
                msg,
            );
        }
    }

    /// `AddWork`, running work due now at once and arming a timer for later work.
    fn add_work(
        &mut self,
        key: &ObjectKey,
        created_at: SimTime,
        fire_at: SimTime,
        client: &mut ApiClient<'_>,
        q: &mut Enqueue,
    ) {
        match self.queue.add_work(key, created_at, fire_at) {
            Added::Exists => {}
            Added::RunNow => delete_pod_handler(key, client),
            Added::Scheduled(at) => {
                q.add_after(fire_key(key), at.saturating_since(client.now()));
            }
        }
    }

    // Port of `processPodOnNode`.
    fn process_pod_on_node(
        &mut self,
        key: &ObjectKey,
        tolerations: &[Toleration],
        taints: &[Taint],
        client: &mut ApiClient<'_>,
        q: &mut Enqueue,
    ) {
        let now = client.now();
        if taints.is_empty() {
            self.cancel_work_with_event(key, client);
        }
        let (all_tolerated, used) = get_matching_tolerations(taints, tolerations);
        if !all_tolerated {
            // "Not all taints are tolerated after update for pod on node": delete now.
            self.cancel_work_with_event(key, client);
            self.add_work(key, now, now, client, q);
            return;
        }
        let Some(min_toleration) = get_min_toleration_time(&used) else {
            // Tolerated forever: cancel any scheduled deletion.
            self.cancel_work_with_event(key, client);
            return;
        };
        let mut start = now;
        let trigger = start + min_toleration;
        if let Some(scheduled) = self.queue.get_worker(key) {
            start = scheduled.created_at;
            // Upstream: `Before`. Work scheduled at this very instant (a node and a pod
            // update handled together) would be cancelled and re-added with a spurious
            // "Cancelling deletion" Event; a real clock always moves between the two, so
            // the equal case keeps the work as the real outcome does.
            if start + min_toleration <= trigger {
                return;
            }
            self.cancel_work_with_event(key, client);
        }
        self.add_work(key, start, trigger, client, q);
    }

    // Port of `handlePodUpdate`.
    fn handle_pod_update(
        &mut self,
        key: &ObjectKey,
        cache: &Tables,
        ctx: &mut Ctx<'_, ControlTimer>,
        q: &mut Enqueue,
    ) {
        let actor = self.actor.clone();
        let mut client = ctx.client(&actor);
        let Some(pod) = cache.pods.get(key) else {
            // "Noticed pod deletion".
            self.cancel_work_with_event(key, &mut client);
            return;
        };
        let node_name = &pod.spec.node_name;
        if node_name.is_empty() {
            return;
        }
        // The node was deleted or its taints removed before, which cancelled evictions.
        let Some(taints) = self.tainted_nodes.get(node_name).cloned() else {
            return;
        };
        self.process_pod_on_node(key, &pod.spec.tolerations, &taints, &mut client, q);
    }

    // Port of `handleNodeUpdate`.
    fn handle_node_update(
        &mut self,
        name: &str,
        cache: &Tables,
        ctx: &mut Ctx<'_, ControlTimer>,
        q: &mut Enqueue,
    ) {
        let Some(node) = cache.nodes.get(&ObjectKey::cluster(name)) else {
            // "Noticed node deletion".
            self.tainted_nodes.remove(name);
            return;
        };
        let taints = no_execute_taints(&node.spec.taints);
        if taints.is_empty() {
            self.tainted_nodes.remove(name);
        } else {
            self.tainted_nodes.insert(name.to_string(), taints.clone());
        }
        let pods: Vec<(ObjectKey, Vec<Toleration>)> = cache
            .pods
            .values()
            .filter(|p| p.spec.node_name == name)
            .map(|p| (ObjectKey::of(&p.metadata), p.spec.tolerations.clone()))
            .collect();
        if pods.is_empty() {
            return;
        }
        let actor = self.actor.clone();
        let mut client = ctx.client(&actor);
        if taints.is_empty() {
            // "All taints were removed from the node. Cancelling all evictions...".
            for (key, _) in &pods {
                self.cancel_work_with_event(key, &mut client);
            }
            return;
        }
        for (key, tolerations) in &pods {
            self.process_pod_on_node(key, tolerations, &taints, &mut client, q);
        }
    }

    /// A scheduled deletion's timer went off.
    fn fire(&mut self, key: &ObjectKey, ctx: &mut Ctx<'_, ControlTimer>, q: &mut Enqueue) {
        let now = ctx.now;
        let pod = ObjectKey::new(&key.namespace[FIRE_PREFIX.len()..], &key.name);
        if self.queue.take_due(&pod, now).is_some() {
            let actor = self.actor.clone();
            delete_pod_handler(&pod, &mut ctx.client(&actor));
        } else if let Some(w) = self.queue.get_worker(&pod) {
            // Replaced by a later deletion while this timer waited: wait for that one.
            q.add_after(key.clone(), w.fire_at.saturating_since(now));
        }
    }
}

// Port of `deletePodHandler`: the `TaintManagerEviction` Event, then up to five tries of
// `addConditionAndDeletePod` (10 ms apart upstream; at once here).
fn delete_pod_handler(key: &ObjectKey, client: &mut ApiClient<'_>) {
    let msg = format!("Marking for deletion Pod {key}");
    client.event(
        &pod_ref(key),
        EventType::Normal,
        "TaintManagerEviction",
        msg,
    );
    for _ in 0..RETRIES {
        if add_condition_and_delete_pod(key, client).is_ok() {
            break;
        }
    }
}

// Port of `addConditionAndDeletePod`: a live read of the pod (by name: whatever pod has
// it now), the `DisruptionTarget` condition patched on if it changes anything, then a
// plain delete — the pod's own grace period.
fn add_condition_and_delete_pod(
    key: &ObjectKey,
    client: &mut ApiClient<'_>,
) -> Result<(), ApiError> {
    let Some(pod) = client.get::<Pod>(key) else {
        return Err(ApiError::NotFound {
            kind: crate::api::Kind::Pod,
            name: key.name.clone(),
        });
    };
    let now = Timestamp::at(client.now());
    let cond = PodCondition {
        type_: condition::DISRUPTION_TARGET.into(),
        status: "True".into(),
        reason: "DeletionByTaintManager".into(),
        message: "Taint manager: deleting due to NoExecute taint".into(),
        last_transition_time: None,
    };
    let mut probe = (*pod).clone();
    if update_pod_condition(&mut probe, cond.clone(), now) {
        patch_pod_status(client, key, &pod.metadata.uid, |p| {
            update_pod_condition(p, cond, now);
        })?;
    }
    client.delete::<Pod>(key, &DeleteOptions::default())?;
    Ok(())
}

impl Controller for TaintEvictionController {
    fn name(&self) -> &'static str {
        COMPONENT
    }

    // The kinds `on_watch` acts on.
    fn watches(&self) -> Kinds {
        Kinds::of(&[Kind::Node, Kind::Pod])
    }

    // `NodeUpdated` and `PodUpdated`: a node whose NoExecute taints changed, a pod whose
    // tolerations or node changed (or that came or went).
    fn on_watch(
        &mut self,
        old: Option<&AnyObject>,
        ev: &WatchEvent,
        _cache: &Tables,
        q: &mut Enqueue,
    ) {
        match &ev.obj {
            AnyObject::Node(node) => {
                if !ev.removed
                    && let Some(AnyObject::Node(o)) = old
                    && no_execute_taints(&o.spec.taints) == no_execute_taints(&node.spec.taints)
                {
                    return;
                }
                q.add(ObjectKey::cluster(&node.metadata.name));
            }
            AnyObject::Pod(pod) => {
                if !ev.removed
                    && let Some(AnyObject::Pod(o)) = old
                    && o.spec.tolerations == pod.spec.tolerations
                    && o.spec.node_name == pod.spec.node_name
                {
                    return;
                }
                q.add(ObjectKey::of(&pod.metadata));
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
        if key.namespace.starts_with(FIRE_PREFIX) {
            self.fire(key, ctx, q);
        } else if key.namespace.is_empty() {
            self.handle_node_update(&key.name, cache, ctx, q);
        } else {
            self.handle_pod_update(key, cache, ctx, q);
        }
        Ok(())
    }
}
