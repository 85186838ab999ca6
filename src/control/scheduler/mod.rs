//! kube-scheduler. SKELETON: being written.

use super::ControlTimer;
use crate::apiserver::{ApiServer, Informer};
use crate::component::Ctx;
use crate::time::{SimDuration, SimTime};

#[derive(Clone, Debug)]
pub struct SchedulerConfig {
    pub pod_initial_backoff: SimDuration,
    pub pod_max_backoff: SimDuration,
    pub max_in_unschedulable: SimDuration,
}

pub struct Scheduler {
    pub informer: Informer,
    #[allow(dead_code)]
    config: SchedulerConfig,
}

impl Scheduler {
    pub fn new(informer: Informer, config: SchedulerConfig) -> Self {
        Scheduler { informer, config }
    }
    /// Delivers due watch events to the scheduling queue; returns the next delivery time.
    pub fn deliver(&mut self, api: &ApiServer, now: SimTime) -> Option<SimTime> {
        self.informer.catch_up(api, now, |_, _, _| {})
    }
    /// Runs the scheduling cycles due now; asks for `ControlTimer::Scheduler` when it next
    /// has work (a backoff expiring, the unschedulable-pool flush).
    pub fn run(&mut self, _ctx: &mut Ctx<'_, ControlTimer>) {}
}
