//! Informer event handlers (`pkg/scheduler/eventhandlers.go`): watch events become cache
//! updates (nodes, assigned pods) and queue updates (pending pods), and every change that
//! could make a waiting pod fit is offered to the queue as a cluster event.
//!
//! The scheduler's pod informer selects `status.phase!=Succeeded,status.phase!=Failed`, so
//! a pod that finishes looks like a deleted pod here: its requests leave the node.

use super::Scheduler;
use super::events::{ActionType, ClusterEvent, EventResource, node_scheduling_properties_change};
use crate::api::pod::phase;
use crate::api::{AnyObject, ObjectKey, Pod};
use crate::apiserver::WatchEvent;
use crate::time::SimTime;
use std::rc::Rc;

/// The profile's scheduler name; pods naming another scheduler are not ours to place.
pub const DEFAULT_SCHEDULER_NAME: &str = "default-scheduler";

/// What the scheduler's field-selected pod informer would deliver for one watch event.
enum PodChange {
    Add(Rc<Pod>),
    Update(Rc<Pod>, Rc<Pod>),
    Delete(Rc<Pod>),
}

fn visible(pod: &Rc<Pod>) -> Option<Rc<Pod>> {
    let terminal = pod.status.phase == phase::SUCCEEDED || pod.status.phase == phase::FAILED;
    (!terminal).then(|| Rc::clone(pod))
}

/// `assignedPod`.
fn assigned(pod: &Pod) -> bool {
    !pod.spec.node_name.is_empty()
}

/// `!assignedPod(t) && responsibleForPod(t, profiles)`.
fn pending_and_ours(pod: &Pod) -> bool {
    !assigned(pod) && pod.spec.scheduler_name == DEFAULT_SCHEDULER_NAME
}

/// `cache.FilteringResourceEventHandler`: an update that moves an object into or out of
/// the filter is an add or a delete for the handler behind it.
fn filtered(change: &PodChange, filter: fn(&Pod) -> bool) -> Option<PodChange> {
    match change {
        PodChange::Add(p) => filter(p).then(|| PodChange::Add(Rc::clone(p))),
        PodChange::Delete(p) => filter(p).then(|| PodChange::Delete(Rc::clone(p))),
        PodChange::Update(old, new) => match (filter(old), filter(new)) {
            (true, true) => Some(PodChange::Update(Rc::clone(old), Rc::clone(new))),
            (false, true) => Some(PodChange::Add(Rc::clone(new))),
            (true, false) => Some(PodChange::Delete(Rc::clone(old))),
            (false, false) => None,
        },
    }
}

impl Scheduler {
    /// Applies one watch event (`old` is the informer's copy before it).
    pub(super) fn handle_watch(&mut self, old: Option<AnyObject>, ev: &WatchEvent, now: SimTime) {
        // The volume binder's view of storage objects (`volume_binder.rs`).
        std::rc::Rc::make_mut(&mut self.storage).on_watch(&ev.obj, ev.removed);
        match &ev.obj {
            AnyObject::Node(node) => {
                let old = match old {
                    Some(AnyObject::Node(o)) => Some(o),
                    _ => None,
                };
                match (old, ev.removed) {
                    (_, true) => self.delete_node_from_cache(node, now),
                    (Some(old), false) => self.update_node_in_cache(&old, node, now),
                    (None, false) => self.add_node_to_cache(node, now),
                }
            }
            AnyObject::Pod(pod) => {
                let old = match old {
                    Some(AnyObject::Pod(o)) => visible(&o),
                    _ => None,
                };
                let new = if ev.removed { None } else { visible(pod) };
                let change = match (old, new) {
                    (None, Some(new)) => PodChange::Add(new),
                    (Some(old), Some(new)) => PodChange::Update(old, new),
                    (Some(old), None) => PodChange::Delete(old),
                    (None, None) => return,
                };
                if let Some(c) = filtered(&change, assigned) {
                    self.on_assigned_pod(c, now);
                }
                if let Some(c) = filtered(&change, pending_and_ours) {
                    self.on_pending_pod(c, now);
                }
            }
            // Storage objects move pods only for plugins that register them (the volume
            // plugins, later); the generic event reaches them through the queue.
            AnyObject::PersistentVolume(_) => {
                self.on_other(EventResource::PersistentVolume, old.as_ref(), ev, now)
            }
            AnyObject::PersistentVolumeClaim(_) => {
                self.on_other(EventResource::PersistentVolumeClaim, old.as_ref(), ev, now)
            }
            AnyObject::StorageClass(_) => {
                self.on_other(EventResource::StorageClass, old.as_ref(), ev, now)
            }
            AnyObject::CSINode(_) => self.on_other(EventResource::CSINode, old.as_ref(), ev, now),
            AnyObject::CSIStorageCapacity(_) => {
                self.on_other(EventResource::CSIStorageCapacity, old.as_ref(), ev, now)
            }
            AnyObject::VolumeAttachment(_) => {
                self.on_other(EventResource::VolumeAttachment, old.as_ref(), ev, now)
            }
            _ => {}
        }
    }

    fn move_all(
        &mut self,
        event: ClusterEvent,
        old: Option<&AnyObject>,
        new: Option<&AnyObject>,
        now: SimTime,
    ) {
        self.queue.move_all_to_active_or_backoff_queue(
            &self.profile,
            &event,
            old,
            new,
            now,
            &|_| true,
        );
    }

    fn on_other(
        &mut self,
        resource: EventResource,
        old: Option<&AnyObject>,
        ev: &WatchEvent,
        now: SimTime,
    ) {
        let (action, old, new) = match (old, ev.removed) {
            (_, true) => (ActionType::DELETE, Some(&ev.obj), None),
            (Some(o), false) => (ActionType::UPDATE, Some(o), Some(&ev.obj)),
            (None, false) => (ActionType::ADD, None, Some(&ev.obj)),
        };
        self.move_all(ClusterEvent::new(resource, action), old, new, now);
    }

    // `addNodeToCache`.
    fn add_node_to_cache(&mut self, node: &Rc<crate::api::Node>, now: SimTime) {
        self.cache.set_node(node);
        let new = AnyObject::Node(Rc::clone(node));
        self.move_all(ClusterEvent::NODE_ADD, None, Some(&new), now);
    }

    // `updateNodeInCache`: one queue move per kind of change.
    fn update_node_in_cache(
        &mut self,
        old: &Rc<crate::api::Node>,
        new: &Rc<crate::api::Node>,
        now: SimTime,
    ) {
        self.cache.set_node(new);
        // With no pod in the unschedulable pool no event moves anything.
        if !self.queue.has_unschedulable() {
            return;
        }
        let (o, n) = (
            AnyObject::Node(Rc::clone(old)),
            AnyObject::Node(Rc::clone(new)),
        );
        for event in node_scheduling_properties_change(new, old) {
            self.move_all(event, Some(&o), Some(&n), now);
        }
    }

    // `deleteNodeFromCache`.
    fn delete_node_from_cache(&mut self, node: &Rc<crate::api::Node>, now: SimTime) {
        self.cache.remove_node(&node.metadata.name);
        let old = AnyObject::Node(Rc::clone(node));
        self.move_all(ClusterEvent::NODE_DELETE, Some(&old), None, now);
    }

    // `addPodToCache`, `updatePodInCache`, `deletePodFromCache`.
    fn on_assigned_pod(&mut self, change: PodChange, now: SimTime) {
        match change {
            PodChange::Add(pod) => {
                self.cache.add_pod(&pod);
                // `AssignedPodAdded`: only cross-topology plugins (inter-pod affinity,
                // topology spread; later issues) care, and they register this event.
                let new = AnyObject::Pod(pod);
                self.move_all(ClusterEvent::ASSIGNED_POD_ADD, None, Some(&new), now);
            }
            PodChange::Update(old, new) => {
                self.cache.update_pod(&old, &new);
                // With no pod in the unschedulable pool no event moves anything.
                if !self.queue.has_unschedulable() {
                    return;
                }
                let events = super::events::pod_scheduling_properties_change(
                    &new,
                    &old,
                    EventResource::AssignedPod,
                );
                let (o, n) = (AnyObject::Pod(old), AnyObject::Pod(new));
                for event in events {
                    self.move_all(event, Some(&o), Some(&n), now);
                }
            }
            PodChange::Delete(pod) => {
                self.cache.remove_pod(&pod);
                let old = AnyObject::Pod(pod);
                self.move_all(ClusterEvent::ASSIGNED_POD_DELETE, Some(&old), None, now);
            }
        }
    }

    // `addPodToSchedulingQueue`, `updatePodInSchedulingQueue`, `deletePodFromSchedulingQueue`.
    fn on_pending_pod(&mut self, change: PodChange, now: SimTime) {
        match change {
            PodChange::Add(pod) => self.queue.add(pod, now),
            PodChange::Update(old, new) => {
                if old.metadata.resource_version == new.metadata.resource_version {
                    return;
                }
                // A pod this scheduler has bound but the informer has not shown bound yet
                // must not be queued again by a stale update.
                if self.cache.is_assumed(&new.metadata.uid) {
                    return;
                }
                self.queue.update(&self.profile, &old, &new, now);
            }
            PodChange::Delete(pod) => self.queue.delete(&ObjectKey::of(&pod.metadata)),
        }
    }
}
