//! A control-plane test harness shared by controller unit tests: a real API server, the
//! controller manager with the controllers under test behind an informer with no watch
//! delay, and a `settle` loop that delivers writes and runs queued keys until quiet.

use crate::api::ObjectKey;
use crate::apiserver::{Actor, ApiClient, ApiServer, Informer};
use crate::component::{Ctx, Note};
use crate::control::manager::ControllerManager;
use crate::control::{ControlTimer, Controller};
use crate::rng::{RngStreams, SimRng};
use crate::time::{SimDuration, SimTime};

pub struct ControlHarness {
    pub api: ApiServer,
    pub manager: ControllerManager,
    pub rng: SimRng,
    pub notes: Vec<Note>,
    pub now: SimTime,
    /// Who the test writes as.
    pub user: Actor,
    /// Delayed requeues armed by [`ControlHarness::run_until`]'s syncs, by instant.
    pending: std::collections::BTreeMap<(SimTime, u64), (usize, ObjectKey)>,
    seq: u64,
}

impl ControlHarness {
    pub fn new(controllers: Vec<Box<dyn Controller>>) -> Self {
        ControlHarness {
            api: ApiServer::new(Default::default()),
            manager: ControllerManager::new(Informer::new(SimDuration::ZERO), controllers),
            rng: RngStreams::new(1).stream("t"),
            notes: Vec::new(),
            now: SimTime::ZERO + SimDuration::from_secs(1),
            user: Actor::new("kubectl"),
            pending: Default::default(),
            seq: 0,
        }
    }

    pub fn client(&mut self) -> ApiClient<'_> {
        ApiClient::new(&mut self.api, &self.user, self.now)
    }

    /// Delivers every write and runs every queued key until nothing is left, for at most
    /// `max_rounds` rounds. Delayed requeues run at once when `requeue(key)` says so
    /// (tests drop periodic resync ticks this way and run them by hand).
    pub fn settle_with(&mut self, max_rounds: usize, requeue: impl Fn(&ObjectKey) -> bool) {
        for _ in 0..max_rounds {
            let mut timers = Vec::new();
            self.manager.deliver(&self.api, self.now, &mut timers);
            let busy: Vec<usize> = self.manager.busy().collect();
            if busy.is_empty() && !self.manager.informer.is_behind(&self.api) {
                return;
            }
            for i in busy {
                let mut ctx = Ctx::new(
                    self.now,
                    &mut self.api,
                    &mut self.rng,
                    &mut timers,
                    &mut self.notes,
                );
                self.manager.work(i, &mut ctx);
            }
            for (_, t) in timers {
                if let ControlTimer::Requeue { controller, key } = t
                    && requeue(&key)
                {
                    self.manager.requeue(controller, key);
                }
            }
        }
        panic!("the controllers never settled");
    }

    /// Runs the control plane on the simulated clock up to `until` (inclusive): every
    /// write delivered and every queued key run at each instant, and delayed requeues
    /// fired at their own instants, as the engine would. Leaves the clock at `until`.
    pub fn run_until(&mut self, until: SimTime) {
        loop {
            self.run_now();
            let Some((&(at, _), _)) = self.pending.first_key_value() else {
                break;
            };
            if at > until {
                break;
            }
            self.now = at;
            while let Some(entry) = self.pending.first_entry() {
                if entry.key().0 != at {
                    break;
                }
                let (controller, key) = entry.remove();
                self.manager.requeue(controller, key);
            }
        }
        self.now = self.now.max(until);
        self.run_now();
    }

    /// Delivers and runs everything due at the current instant, keeping the timers.
    fn run_now(&mut self) {
        for _ in 0..100_000 {
            let mut timers = Vec::new();
            self.manager.deliver(&self.api, self.now, &mut timers);
            let busy: Vec<usize> = self.manager.busy().collect();
            let quiet = busy.is_empty() && !self.manager.informer.is_behind(&self.api);
            for i in busy {
                let mut ctx = Ctx::new(
                    self.now,
                    &mut self.api,
                    &mut self.rng,
                    &mut timers,
                    &mut self.notes,
                );
                self.manager.work(i, &mut ctx);
            }
            for (at, t) in timers {
                if let ControlTimer::Requeue { controller, key } = t {
                    self.seq += 1;
                    self.pending.insert((at, self.seq), (controller, key));
                }
            }
            if quiet {
                return;
            }
        }
        panic!("the controllers never settled at {}", self.now);
    }
}
