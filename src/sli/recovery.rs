//! Time to recover from each fault: a fault starts a clock; if whatever is watched is
//! degraded at the fault's start or becomes so while the clock runs, the clock stops the
//! first moment everything is whole again; a fault after which nothing was degraded
//! recovered in 0. Shared by the pod availability SLIs (every set has all its replicas) and
//! the app SLIs (every zone's writes succeed).

use crate::time::{SimDuration, SimTime};

/// A fault whose recovery is being timed; `id` counts faults from 0.
#[derive(Clone, Copy, Debug)]
struct Pending {
    at: SimTime,
    degraded: bool,
    id: usize,
}

#[derive(Debug, Default)]
pub struct RecoveryClocks {
    pending: Vec<Pending>,
    faults: usize,
    recovered: Vec<SimDuration>,
}

impl RecoveryClocks {
    /// A fault starts at `at`, with things `degraded` now or not. Returns its id.
    pub fn fault(&mut self, at: SimTime, degraded: bool) -> usize {
        let id = self.faults;
        self.faults += 1;
        self.pending.push(Pending { at, degraded, id });
        id
    }

    /// Everything is whole at `at`: the clocks of faults that saw a degradation stop.
    /// Returns their ids.
    pub fn whole(&mut self, at: SimTime) -> Vec<usize> {
        let mut stopped = Vec::new();
        let recovered = &mut self.recovered;
        self.pending.retain(|p| {
            if p.degraded {
                recovered.push(at.saturating_since(p.at));
                stopped.push(p.id);
            }
            !p.degraded
        });
        stopped
    }

    /// Something is degraded: every running clock now waits for wholeness. Returns the
    /// ids of the running clocks.
    pub fn degraded(&mut self) -> Vec<usize> {
        self.pending
            .iter_mut()
            .map(|p| {
                p.degraded = true;
                p.id
            })
            .collect()
    }

    /// At the end of the run: (recovered, not recovered by `end` — how long they had run).
    pub fn finish(self, end: SimTime) -> (Vec<SimDuration>, Vec<SimDuration>) {
        let mut recovered = self.recovered;
        let mut not_recovered = Vec::new();
        for p in self.pending {
            if p.degraded {
                not_recovered.push(end.saturating_since(p.at));
            } else {
                recovered.push(SimDuration::ZERO);
            }
        }
        (recovered, not_recovered)
    }
}
