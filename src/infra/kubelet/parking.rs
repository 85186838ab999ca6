//! Parked probe tickers: a probe worker whose ticks can change nothing any more is left
//! out of the event queue until something it reads changes.
//!
//! A probe worker that passes every tick with its result already `Success` (or a startup
//! probe whose container has started, which skips every tick) does the same thing at each
//! tick for as long as what it reads stays the same: its pod worker's stage and
//! generation, the container's instance and start, whether it has started, what the
//! image answers, and whether the kubelet runs. Most of a steady cluster's events are
//! such ticks. Instead of re-arming, the engine's quiet path (`sim::Simulation::run_until`)
//! may *park* the worker: it records when the next tick would be and what the tick read.
//!
//! While parked the worker's ticks run only in principle. Any mutable access to its pod
//! worker (`PodWorkers`) and any change of the kubelet's state asks for a check, done
//! after the event by [`super::NodeAgents::release_parked`]: a worker whose inputs moved
//! gets its ticker back at the very tick the unparked ticker would have had next. That is
//! exact because probe ticks are keyed events (`queue` module header): their order among
//! the events of an instant is their key's, not the time their last tick was scheduled,
//! so a tick put back lands where it always would have. The ticks skipped meanwhile
//! changed nothing but the worker's own count of equal results (`run`), which matters no
//! more once past the threshold.

use super::KubeletTimer;
use super::pod_worker::PodWorker;
use super::prober::ProbeResult;
use crate::time::{SimDuration, SimTime};
use std::cell::RefCell;
use std::rc::Rc;

/// What a probe tick of one container's probe worker reads; a parked worker stays parked
/// only while these stay the same.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProbeInputs {
    /// The pod worker's generation (its timers carry it).
    pub generation: u64,
    /// The pod worker runs its pod (`Stage::Running`).
    pub pod_running: bool,
    /// The container's start time and attempt, when it runs.
    pub running: Option<(SimTime, u32)>,
    /// Started (past its startup probe, if any).
    pub started: bool,
    /// What the image answers this probe.
    pub passes: bool,
}

/// A parked probe worker: when its next tick would come, and what its ticks read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Parked {
    pub next: SimTime,
    pub inputs: ProbeInputs,
    pub result: ProbeResult,
}

/// What the engine does with a probe tick done in place (`NodeAgents::quiet_probe`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QuietTick {
    /// Tick again one period later.
    Again(SimDuration),
    /// The ticker stops (its pod worker has moved on).
    Stopped,
    /// The worker is parked: no tick until it is released.
    Parked,
}

/// A ticker given back: its next tick is the first of `anchor + k · period` not yet run.
#[derive(Clone, Debug)]
pub struct ReleasedTicker {
    pub anchor: SimTime,
    pub period: SimDuration,
    pub key: u64,
    pub timer: KubeletTimer,
}

impl ReleasedTicker {
    /// The tick to put back, given that every event up to `after` (a time and a sequence
    /// number or key, `EventQueue::last_popped`) has run: the first tick of the ticker's
    /// phase that sorts after it.
    pub fn next_tick(&self, after: (SimTime, u64)) -> SimTime {
        let (t, seq) = after;
        let period = self.period.as_nanos().max(1);
        let mut at = self.anchor;
        if at < t {
            let periods = (t.as_nanos() - at.as_nanos()).div_ceil(period);
            at = SimTime(at.as_nanos() + periods * period);
        }
        if at == t && self.key < seq {
            // The tick of this very instant sorts before the event that ran last: done.
            at = SimTime(at.as_nanos() + period);
        }
        at
    }
}

/// Shared by the kubelets of a simulation: the ticker keys handed out, and the checks and
/// releases asked for during the current event.
#[derive(Default)]
pub struct ParkingLot {
    /// The next probe worker's ticker key (creation order).
    next_key: u64,
    /// Pod workers (node index, uid) with parked tickers that were accessed mutably.
    pub(super) checks: Vec<(u32, Rc<str>)>,
    /// Tickers of pod workers that went away while parked.
    pub(super) released: Vec<ReleasedTicker>,
}

/// The handle every kubelet and its pod worker map keep.
pub type SharedLot = Rc<RefCell<ParkingLot>>;

impl ParkingLot {
    /// A fresh key for a new probe worker's ticker.
    pub fn next_key(&mut self) -> u64 {
        let key = self.next_key;
        self.next_key += 1;
        key
    }

    /// Whether an event asked for anything.
    pub fn is_idle(&self) -> bool {
        self.checks.is_empty() && self.released.is_empty()
    }
}

impl super::NodeAgents {
    /// Whether quiet probe ticks may park their worker (on by default). A test hook, to
    /// be set before the run: parked tickers stay parked when it is turned off.
    pub fn set_park_tickers(&mut self, on: bool) {
        self.park_tickers = on;
    }

    /// Whether the event just handled asked for a check or a release of parked tickers.
    pub fn has_parked_to_release(&self) -> bool {
        !self.parking.borrow().is_idle()
    }

    /// After an event: the parked tickers whose inputs the event moved (or whose worker
    /// went away) come back, each as `(at, key, timer)` for the engine to schedule as a
    /// keyed event. `after` is the last event run (time and sequence number or key; every
    /// event of its instant when the key is `u64::MAX`): the tickers' ticks up to it ran
    /// while they were parked, changing nothing.
    pub fn release_parked(
        &mut self,
        after: (SimTime, u64),
        out: &mut Vec<(SimTime, u64, KubeletTimer)>,
    ) {
        let (checks, mut released) = {
            let mut lot = self.parking.borrow_mut();
            (
                std::mem::take(&mut lot.checks),
                std::mem::take(&mut lot.released),
            )
        };
        for (node, uid) in &checks {
            let k = &mut self.kubelets[*node as usize];
            let running = k.state() == super::KubeletState::Running;
            if let Some(w) = k.pods.get_mut_unwatched(uid) {
                w.release_parked_probes(*node, Some(running), &mut released);
            }
        }
        out.extend(
            released
                .into_iter()
                .map(|r| (r.next_tick(after), r.key, r.timer)),
        );
        // The checks list goes back, emptied, with its room (nothing asked for a check
        // meanwhile: the look-ups above are unwatched).
        let mut checks = checks;
        checks.clear();
        self.parking.borrow_mut().checks = checks;
    }
}

impl PodWorker {
    /// Gives back (into `out`) the parked tickers of this worker on node `node` whose
    /// tick would now read something else — the kubelet stopped (`kubelet_running`
    /// false), or a probe input or the result moved — or all of them when `kubelet_running`
    /// is `None` (the worker goes away).
    pub(super) fn release_parked_probes(
        &mut self,
        node: u32,
        kubelet_running: Option<bool>,
        out: &mut Vec<ReleasedTicker>,
    ) {
        for idx in 0..self.probes.len() {
            for k in 0..self.probes[idx].len() {
                let w = &self.probes[idx][k];
                let Some(parked) = w.parked else {
                    continue;
                };
                let kind = w.kind;
                let unmoved = kubelet_running == Some(true)
                    && self.probe_inputs(idx, kind) == parked.inputs
                    && w.result == parked.result;
                if unmoved {
                    continue;
                }
                let uid = self.timer_uid();
                let w = &mut self.probes[idx][k];
                w.parked = None;
                self.parked_probes -= 1;
                out.push(ReleasedTicker {
                    anchor: parked.next,
                    period: w.period,
                    key: w.key,
                    // The generation the ticker was armed with, as the queued tick would
                    // carry it.
                    timer: KubeletTimer::Probe {
                        pod: super::PodTimer {
                            node,
                            uid,
                            generation: parked.inputs.generation,
                        },
                        container: idx as u32,
                        kind,
                        ticker: w.key,
                    },
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::infra::kubelet::{PodTimer, ProbeKind};

    fn ticker(anchor_s: u64, key: u64) -> ReleasedTicker {
        ReleasedTicker {
            anchor: SimTime::ZERO + SimDuration::from_secs(anchor_s),
            period: SimDuration::from_secs(10),
            key,
            timer: KubeletTimer::Probe {
                pod: PodTimer {
                    node: 0,
                    uid: Rc::from("u"),
                    generation: 0,
                },
                container: 0,
                kind: ProbeKind::Readiness,
                ticker: key,
            },
        }
    }

    fn at(s: u64) -> SimTime {
        SimTime::ZERO + SimDuration::from_secs(s)
    }

    #[test]
    fn the_next_tick_keeps_the_phase_and_the_order_of_the_instant() {
        let t = ticker(15, 4);
        // Not due yet: the anchor itself.
        assert_eq!(t.next_tick((at(12), u64::MAX)), at(15));
        // Ticks at 15, 25, 35 ran; 45 is next.
        assert_eq!(t.next_tick((at(38), 0)), at(45));
        // At 45 itself: after an event that sorts later (a larger key, any sequence
        // number), the tick of 45 has run; after a smaller key, it has not.
        assert_eq!(t.next_tick((at(45), crate::queue::FIRST_SEQ)), at(55));
        assert_eq!(t.next_tick((at(45), 9)), at(55));
        assert_eq!(t.next_tick((at(45), 2)), at(45));
    }
}
