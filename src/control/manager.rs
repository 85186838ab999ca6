//! kube-controller-manager: one shared informer, several controllers, one work queue each.
//! A sync takes no simulated time; the engine runs queued keys at the instant they are
//! queued, one per engine event, so other events at the same instant interleave fairly.

use super::workqueue::WorkQueue;
use super::{ControlTimer, Controller, Enqueue};
use crate::api::Tables;
use crate::apiserver::{ApiServer, Informer};
use crate::component::Ctx;
use crate::time::SimTime;

pub struct ControllerManager {
    pub informer: Informer,
    controllers: Vec<Box<dyn Controller>>,
    queues: Vec<WorkQueue>,
}

impl ControllerManager {
    pub fn new(informer: Informer, controllers: Vec<Box<dyn Controller>>) -> Self {
        let queues = controllers.iter().map(|_| WorkQueue::default()).collect();
        ControllerManager {
            informer,
            controllers,
            queues,
        }
    }

    /// Delivers due watch events to every controller's handlers. Returns the next time a
    /// delivery is due, if any (Lease renewals need none: `work` takes them).
    pub fn deliver(
        &mut self,
        api: &ApiServer,
        now: SimTime,
        timers: &mut Vec<(SimTime, ControlTimer)>,
    ) -> Option<SimTime> {
        let mut delivered = Vec::new();
        let next = self
            .informer
            .catch_up(api, now, |old, ev, _| delivered.push((old, ev.clone())));
        if delivered.is_empty() {
            // Nothing, or only Lease renewals (taken into the cache in place).
            return next;
        }
        for (i, c) in self.controllers.iter_mut().enumerate() {
            let mut q = Enqueue::default();
            // Only the handlers a controller registered (`Controller::watches`).
            let kinds = c.watches();
            #[cfg(test)]
            let kinds = if probe::UNFILTERED.get() {
                super::Kinds::ALL
            } else {
                kinds
            };
            for (old, ev) in &delivered {
                if kinds.contains(ev.obj.kind()) {
                    c.on_watch(old.as_ref(), ev, &self.informer.cache, &mut q);
                }
            }
            #[cfg(test)]
            probe::log(i, &q);
            // Most deliveries (Lease renewals, status writes) queue nothing.
            if !q.now.is_empty() || !q.after.is_empty() {
                apply(&mut self.queues[i], i, q, now, timers);
            }
        }
        next
    }

    /// A delayed add has come due.
    pub fn requeue(&mut self, controller: usize, key: crate::api::ObjectKey) {
        self.queues[controller].timer_fired(&key);
    }

    /// Controllers with keys waiting, in a fixed order.
    pub fn busy(&self) -> impl Iterator<Item = usize> + '_ {
        self.queues
            .iter()
            .enumerate()
            .filter(|(_, q)| q.has_work())
            .map(|(i, _)| i)
    }

    /// Runs one sync of controller `i`'s next key. Returns whether one ran.
    pub fn work(&mut self, i: usize, ctx: &mut Ctx<'_, ControlTimer>) -> bool {
        let Some(key) = self.queues[i].get() else {
            return false;
        };
        // Lease renewals due by now reach the cache before a controller reads it (the
        // engine schedules no delivery for them: `Informer::taking_renewals_on_read`).
        if !self.informer.take_due_renewals(ctx.api, ctx.now) {
            // A renewal of a Lease the cache lacks: delivered now, as any write.
            let mut timers = Vec::new();
            self.deliver(ctx.api, ctx.now, &mut timers);
            for (at, t) in timers {
                ctx.at(at, t);
            }
        }
        let mut q = Enqueue::default();
        let result = self.controllers[i].sync(&key, &self.informer.cache, ctx, &mut q);
        let queue = &mut self.queues[i];
        match result {
            Ok(()) => queue.forget(&key),
            Err(_) => {
                let delay = queue.rate_limit_delay(&key);
                q.add_after(key.clone(), delay);
            }
        }
        queue.done(&key);
        let now = ctx.now;
        let mut timers = Vec::new();
        apply(queue, i, q, now, &mut timers);
        for (at, t) in timers {
            ctx.at(at, t);
        }
        true
    }

    /// The controllers' cache.
    pub fn cache(&mut self) -> &Tables {
        &self.informer.cache
    }
}

fn apply(
    queue: &mut WorkQueue,
    i: usize,
    q: Enqueue,
    now: SimTime,
    timers: &mut Vec<(SimTime, ControlTimer)>,
) {
    // A key added again with no `get` in between is already waiting (`dirty`): the add
    // would do nothing, so a run of the same key (one controller-wide key per event, say)
    // is added once.
    let mut keys = q.now;
    keys.dedup();
    for key in keys {
        queue.add(key);
    }
    for (delay, key) in q.after {
        // Coalesced as client-go's delaying queue does: only a new earliest wait arms a timer.
        if queue.add_after(key.clone(), now + delay) {
            timers.push((now + delay, ControlTimer::Requeue { controller: i, key }));
        }
    }
}

/// For tests: a switch that calls every handler for every event (the kind filter off), and
/// a log of the keys the handlers queue.
#[cfg(test)]
pub(crate) mod probe {
    use super::Enqueue;
    use std::cell::{Cell, RefCell};

    thread_local! {
        /// Call `on_watch` for every kind, as if every controller watched everything.
        pub static UNFILTERED: Cell<bool> = const { Cell::new(false) };
        /// Every key queued by the handlers: controller index, delay (ns; 0 = now), key.
        pub static QUEUED: RefCell<Vec<(usize, u64, String)>> = const { RefCell::new(Vec::new()) };
    }

    pub(super) fn log(i: usize, q: &Enqueue) {
        QUEUED.with_borrow_mut(|log| {
            for k in &q.now {
                log.push((i, 0, k.to_string()));
            }
            for (d, k) in &q.after {
                log.push((i, d.as_nanos(), k.to_string()));
            }
        });
    }
}

#[cfg(test)]
#[path = "manager_tests.rs"]
mod tests;
