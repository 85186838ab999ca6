//! kube-scheduler (`pkg/scheduler`): watches pods and nodes through its own informer, keeps
//! a queue of pods that have no node and a cache of what every node already holds
//! (including pods it has bound but not yet seen back), and binds each pod to the best
//! node its plugins find — one scheduling cycle per pod, taking no simulated time, run back
//! to back while pods are waiting.
//!
//! Layout, following the upstream package:
//! - [`event_handlers`]: informer events → cache and queue (`eventhandlers.go`);
//! - [`queue`]: activeQ, backoffQ, unschedulable pool (`backend/queue`);
//! - [`cache`]: NodeInfo per node, assumed pods (`backend/cache`);
//! - [`schedule_one`]: one scheduling cycle (`schedule_one.go`);
//! - [`framework`], [`diagnosis`], [`events`]: the plugin interface and its runners,
//!   FitError messages, cluster events for queueing hints;
//! - [`resources`], [`node_selector`]: pod requests, node selector matching;
//! - [`binder`]: the API writes;
//! - [`plugins`]: one file per plugin, and the default profile.

pub mod binder;
mod binding_cycle;
pub mod cache;
pub mod diagnosis;
pub mod event_handlers;
pub mod events;
pub mod framework;
pub mod list_positions;
pub mod node_selector;
pub mod plugins;
pub mod queue;
pub mod resources;
pub mod schedule_one;
pub mod volume_binder;

#[cfg(test)]
mod tests;

use super::ControlTimer;
use crate::apiserver::{Actor, ApiServer, Informer};
use crate::component::Ctx;
use crate::time::{SimDuration, SimTime};
use cache::Cache;
use framework::Profile;
use queue::{QueueConfig, SchedulingQueue};

#[derive(Clone, Debug)]
pub struct SchedulerConfig {
    pub pod_initial_backoff: SimDuration,
    pub pod_max_backoff: SimDuration,
    pub max_in_unschedulable: SimDuration,
    /// The CSI drivers whose CSIDriver object has `storageCapacity: true` (stsim has no
    /// CSIDriver kind: the scenario's driver profiles stand in for the CSIDriver lister,
    /// as `attachRequired` does for the attach/detach controller).
    pub storage_capacity_drivers: std::collections::BTreeSet<String>,
}

pub struct Scheduler {
    pub informer: Informer,
    config: SchedulerConfig,
    actor: Actor,
    profile: Profile,
    cache: Cache,
    queue: SchedulingQueue,
    /// `nextStartNodeIndex`: where the next cycle starts trying nodes.
    next_start_node_index: usize,
    /// The earliest `ControlTimer::Scheduler` asked for that has not fired yet.
    wake_requested: Option<SimTime>,
    /// Storage objects and the volume binder's assumptions (`volume_binder.rs`).
    storage: std::rc::Rc<volume_binder::StorageIndex>,
    /// Pods in their binding cycle, waiting at PreBind for their volumes, by uid.
    waiting_binds: std::collections::BTreeMap<String, binding_cycle::Waiting>,
}

/// Kinds the scheduler never reads: their writes are neither cached nor handed to the
/// handlers (`Informer::unread`). Upstream has no informer for ControllerRevisions or
/// EndpointSlices; it lists PodDisruptionBudgets only for preemption
/// (`DefaultPreemption`), which is not modelled: when it is, PDBs leave this list.
const UNREAD_KINDS: [crate::api::Kind; 3] = [
    crate::api::Kind::ControllerRevision,
    crate::api::Kind::PodDisruptionBudget,
    crate::api::Kind::EndpointSlice,
];

impl Scheduler {
    pub fn new(informer: Informer, config: SchedulerConfig) -> Self {
        let informer = informer.unread(&UNREAD_KINDS);
        let queue = SchedulingQueue::new(QueueConfig {
            initial_backoff: config.pod_initial_backoff,
            max_backoff: config.pod_max_backoff,
            max_in_unschedulable: config.max_in_unschedulable,
            pop_from_backoff_q: true,
        });
        let storage = std::rc::Rc::new(volume_binder::StorageIndex::new(
            config.storage_capacity_drivers.clone(),
        ));
        Scheduler {
            informer,
            config,
            actor: Actor::new(event_handlers::DEFAULT_SCHEDULER_NAME)
                .recording_through_events_api(),
            profile: plugins::default_profile(),
            cache: Cache::default(),
            queue,
            next_start_node_index: 0,
            wake_requested: None,
            storage,
            waiting_binds: Default::default(),
        }
    }

    /// Sets the `SchedulerPopFromBackoffQ` feature gate (on by default since 1.33): with it
    /// off, pods in the backoffQ wait out their backoff even when the scheduler is idle.
    /// A construction-time switch: it starts from an empty queue.
    pub fn with_pop_from_backoff_q(mut self, enabled: bool) -> Self {
        self.queue = SchedulingQueue::new(QueueConfig {
            initial_backoff: self.config.pod_initial_backoff,
            max_backoff: self.config.pod_max_backoff,
            max_in_unschedulable: self.config.max_in_unschedulable,
            pop_from_backoff_q: enabled,
        });
        self
    }

    /// Delivers due watch events to the scheduling queue; returns the next delivery time.
    pub fn deliver(&mut self, api: &ApiServer, now: SimTime) -> Option<SimTime> {
        let mut delivered = Vec::new();
        let next = self
            .informer
            .catch_up(api, now, |old, ev, _| delivered.push((old, ev.clone())));
        for (old, ev) in delivered {
            self.handle_watch(old, &ev, now);
        }
        next
    }

    /// Runs the scheduling cycles due now; asks for `ControlTimer::Scheduler` when it next
    /// has work (a backoff expiring, the unschedulable-pool flush).
    pub fn run(&mut self, ctx: &mut Ctx<'_, ControlTimer>) {
        let now = ctx.now;
        if self.wake_requested.is_some_and(|t| t <= now) {
            self.wake_requested = None;
        }
        // Pods waiting at PreBind for their volumes whose poll is due.
        self.poll_waiting_binds(ctx);
        // The queue's periodic flushes, as their last tick at or before now ran them.
        self.queue.flush_backoff_q_completed(now);
        self.queue
            .flush_unschedulable_pods_leftover(&self.profile, now);
        while let Some(info) = self.queue.pop() {
            self.schedule_one(info, ctx);
        }
        let next = match (self.queue.next_wakeup(), self.next_bind_poll()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        if let Some(at) = next
            && self.wake_requested.is_none_or(|w| at < w)
        {
            ctx.at(at, ControlTimer::Scheduler);
            self.wake_requested = Some(at);
        }
    }

    /// The scheduling queue (read-only, for checks and tests).
    pub fn queue(&self) -> &SchedulingQueue {
        &self.queue
    }

    /// The scheduler cache (read-only, for checks and tests).
    pub fn cache(&self) -> &Cache {
        &self.cache
    }
}
