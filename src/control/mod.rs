//! The control plane: kube-controller-manager's controllers and kube-scheduler. They see
//! the cluster only through their informer caches and act only through the API client,
//! exactly as in a real cluster; they never read the physical world (`infra`).

pub mod attach_detach;
pub mod disruption;
pub mod endpointslice;
pub mod garbage_collector;
pub mod manager;
pub mod node_lifecycle;
pub mod pod_gc;
pub mod podutil;
pub mod pv_controller;
pub mod pv_protection;
pub mod pvc_protection;
pub mod scheduler;
pub mod statefulset;
pub mod taint_eviction;
pub mod taints;
#[cfg(test)]
pub(crate) mod testkit;
pub mod workqueue;

use crate::api::{AnyObject, Kind, ObjectKey, Tables};
use crate::apiserver::WatchEvent;
use crate::component::Ctx;
use crate::time::SimDuration;

/// Keys a controller asks to have queued: now, or after a delay (`AddAfter`).
#[derive(Default, Debug)]
pub struct Enqueue {
    pub now: Vec<ObjectKey>,
    pub after: Vec<(SimDuration, ObjectKey)>,
}

impl Enqueue {
    pub fn add(&mut self, key: ObjectKey) {
        self.now.push(key);
    }
    pub fn add_after(&mut self, key: ObjectKey, delay: SimDuration) {
        if delay == SimDuration::ZERO {
            self.now.push(key);
        } else {
            self.after.push((delay, key));
        }
    }
}

/// Timers of the control plane, as the engine delivers them back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ControlTimer {
    /// A delayed add of `key` to the queue of controller number `controller`.
    Requeue { controller: usize, key: ObjectKey },
    /// The scheduler asked to run again.
    Scheduler,
}

/// A set of kinds (bit `Kind as u32`): those a controller's informer handlers are
/// registered for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Kinds(u32);

impl Kinds {
    /// Every kind: the default, for a controller whose handlers look at any event.
    pub const ALL: Kinds = Kinds(u32::MAX);

    pub const fn of(kinds: &[Kind]) -> Kinds {
        let mut bits = 0;
        let mut i = 0;
        while i < kinds.len() {
            bits |= 1 << (kinds[i] as u32);
            i += 1;
        }
        Kinds(bits)
    }

    pub const fn contains(self, kind: Kind) -> bool {
        self.0 & (1 << (kind as u32)) != 0
    }
}

/// A level-triggered controller of kube-controller-manager.
pub trait Controller {
    /// The name it records Events and writes under, e.g. `statefulset-controller`.
    fn name(&self) -> &'static str;
    /// The kinds whose events `on_watch` is to be called for, asked before each delivered
    /// batch. Upstream, a controller registers event handlers only on the informers of the
    /// kinds it uses; here `on_watch` is not called for the others. A controller may name
    /// fewer kinds only where its `on_watch` would do nothing (queue no key, change no
    /// state) for an event of any kind left out, so that every key is queued as before.
    fn watches(&self) -> Kinds {
        Kinds::ALL
    }
    /// Informer event handlers: decide which keys to queue. Never told why later.
    fn on_watch(
        &mut self,
        old: Option<&AnyObject>,
        ev: &WatchEvent,
        cache: &Tables,
        q: &mut Enqueue,
    );
    /// One sync of one key. An `Err` is retried with the rate limiter's backoff.
    fn sync(
        &mut self,
        key: &ObjectKey,
        cache: &Tables,
        ctx: &mut Ctx<'_, ControlTimer>,
        q: &mut Enqueue,
    ) -> Result<(), String>;
}
