//! The binding cycle's volume part (`schedule_one.go` `bindingCycle` with VolumeBinding's
//! Reserve, PreBind and Unreserve): after a node is chosen and the pod assumed on it, the
//! pod's claims are assumed too (the selected node set, matching volumes pre-bound); if
//! any claim is not bound yet, PreBind writes those changes and the pod waits — still
//! assumed, occupying its node — while the PV controller and the provisioner do their
//! work, checked every second for at most `bindTimeoutSeconds` (600 s). Then the pod is
//! bound as usual; or, on failure or timeout, everything is undone and the pod goes back
//! to the queue with a `FailedScheduling` Event
//! (`running PreBind plugin "VolumeBinding": binding volumes: ...`).

use super::Scheduler;
use super::binder;
use super::events::ClusterEvent;
use super::queue::QueuedPodInfo;
use super::schedule_one::Failure;
use super::volume_binder::{
    BIND_POLL, BIND_TIMEOUT, WaitingBind, bind_api_update, check_bindings, find_pod_volumes,
    get_pod_volume_claims,
};
use crate::api::{AnyObject, ObjectKey, Pod};
use crate::apiserver::EventType;
use crate::component::Ctx;
use crate::control::ControlTimer;
use crate::time::SimTime;
use std::rc::Rc;

/// A pod waiting in PreBind.
pub struct Waiting {
    pub info: QueuedPodInfo,
    /// The pod as assumed on its node.
    pub assumed: Rc<Pod>,
    pub bind: WaitingBind,
}

const PRE_BIND: &str = "running PreBind plugin \"VolumeBinding\"";

impl Scheduler {
    /// VolumeBinding's Reserve and the start of its PreBind for a pod just assumed on
    /// `host`. Returns true when the pod's claims are all bound (bind the pod now); false
    /// when the pod waits for its claims, or its volumes failed (handled here).
    pub(super) fn volume_binding_reserve_and_pre_bind(
        &mut self,
        info: &QueuedPodInfo,
        assumed: &Rc<Pod>,
        host: &str,
        ctx: &mut Ctx<'_, ControlTimer>,
    ) -> bool {
        let pod = &info.pod;
        if pod.claim_names().next().is_none() {
            return true;
        }
        // `Reserve` (`AssumePodVolumes`) with the volumes `Filter` found for this node.
        let Some(node) = self
            .cache
            .get(host)
            .filter(|n| n.has_node())
            .map(|n| Rc::clone(n.node_rc()))
        else {
            return true;
        };
        let found = match get_pod_volume_claims(pod, &self.storage) {
            Ok(Some(claims)) => find_pod_volumes(&claims, &node, &self.storage).0,
            _ => return true,
        };
        let storage = Rc::make_mut(&mut self.storage);
        let (all_bound, mut volumes) = storage.assume_pod_volumes(pod, host, &found);
        if all_bound {
            return true;
        }
        // `PreBind` (`BindPodVolumes`): the API writes, then the wait.
        if let Err(e) = bind_api_update(&mut ctx.client(&self.actor), &mut volumes) {
            Rc::make_mut(&mut self.storage).revert_assumed_pod_volumes(&volumes);
            let msg = format!("{PRE_BIND}: {e}");
            self.binding_cycle_error(info.clone(), assumed, msg, ctx);
            return false;
        }
        let now = ctx.now;
        self.waiting_binds.insert(
            pod.metadata.uid.clone(),
            Waiting {
                info: info.clone(),
                assumed: Rc::clone(assumed),
                bind: WaitingBind {
                    node: host.to_string(),
                    volumes,
                    deadline: now + BIND_TIMEOUT,
                    next_poll: now + BIND_POLL,
                },
            },
        );
        false
    }

    /// The polls due now (`wait.PollUntilContextTimeout` of `BindPodVolumes`): bind the
    /// pods whose claims are bound; send back those whose binding failed or timed out.
    pub(super) fn poll_waiting_binds(&mut self, ctx: &mut Ctx<'_, ControlTimer>) {
        let now = ctx.now;
        let due: Vec<String> = self
            .waiting_binds
            .iter()
            .filter(|(_, w)| w.bind.next_poll <= now)
            .map(|(uid, _)| uid.clone())
            .collect();
        for uid in due {
            // Checked in place: a pod still waiting keeps its entry (only its next poll
            // moves), so the entry is taken out only when its wait ends.
            let w = self.waiting_binds.get_mut(&uid).expect("listed above");
            let checked = (now < w.bind.deadline).then(|| {
                let cache = &self.informer.cache;
                let pod_exists = cache
                    .pods
                    .get(&ObjectKey::of(&w.info.pod.metadata))
                    .is_some_and(|p| p.metadata.uid == uid);
                let node = cache.nodes.get(&ObjectKey::cluster(&w.bind.node));
                check_bindings(
                    &w.assumed,
                    node.map(|n| &**n),
                    &w.bind.volumes,
                    &self.storage,
                    pod_exists,
                )
            });
            if let Some(Ok(false)) = checked {
                w.bind.next_poll = now + BIND_POLL;
                continue;
            }
            let w = self.waiting_binds.remove(&uid).expect("listed above");
            match checked {
                None => {
                    self.volume_binding_failed(w, "binding volumes: context deadline exceeded", ctx)
                }
                Some(Ok(_)) => self.bind_after_volumes(w, ctx),
                Some(Err(e)) => {
                    self.volume_binding_failed(w, &format!("binding volumes: {e}"), ctx)
                }
            }
        }
    }

    /// The next poll of a pod waiting in PreBind.
    pub(super) fn next_bind_poll(&self) -> Option<SimTime> {
        self.waiting_binds.values().map(|w| w.bind.next_poll).min()
    }

    /// Whether a pod is in its binding cycle, waiting for its volumes.
    pub fn is_waiting_for_volumes(&self, uid: &str) -> bool {
        self.waiting_binds.contains_key(uid)
    }

    fn volume_binding_failed(&mut self, w: Waiting, why: &str, ctx: &mut Ctx<'_, ControlTimer>) {
        Rc::make_mut(&mut self.storage).revert_assumed_pod_volumes(&w.bind.volumes);
        let msg = format!("{PRE_BIND}: {why}");
        self.binding_cycle_error(w.info, &w.assumed, msg, ctx);
    }

    /// PreBind done: `Bind` (DefaultBinder) and the `Scheduled` Event.
    fn bind_after_volumes(&mut self, w: Waiting, ctx: &mut Ctx<'_, ControlTimer>) {
        let pod = Rc::clone(&w.info.pod);
        let host = w.bind.node.clone();
        match binder::bind(&mut ctx.client(&self.actor), &pod, &host) {
            Ok(()) => {
                let msg = format!(
                    "Successfully assigned {}/{} to {}",
                    pod.metadata.namespace, pod.metadata.name, host
                );
                ctx.client(&self.actor)
                    .event(&*w.assumed, EventType::Normal, "Scheduled", msg);
            }
            Err(msg) => {
                Rc::make_mut(&mut self.storage).revert_assumed_pod_volumes(&w.bind.volumes);
                self.binding_cycle_error(w.info, &w.assumed, msg, ctx);
            }
        }
    }

    /// `handleBindingCycleError`: forget the assumed pod (its space is free again, an
    /// assigned-pod delete for the other waiting pods) and requeue it as failed.
    fn binding_cycle_error(
        &mut self,
        info: QueuedPodInfo,
        assumed: &Rc<Pod>,
        msg: String,
        ctx: &mut Ctx<'_, ControlTimer>,
    ) {
        self.cache.forget_pod(assumed);
        let uid = info.pod.metadata.uid.clone();
        let old = AnyObject::Pod(Rc::clone(assumed));
        self.queue.move_all_to_active_or_backoff_queue(
            &self.profile,
            &ClusterEvent::ASSIGNED_POD_DELETE,
            Some(&old),
            None,
            ctx.now,
            &|p| p.metadata.uid != uid,
        );
        self.handle_scheduling_failure(info, Failure::Error(msg), ctx);
    }
}
