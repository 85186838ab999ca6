//! A kubelet's pod workers by pod uid, kept so that no pod worker with a parked probe
//! ticker (`parking.rs`) can change unnoticed: every mutable access asks for a check of
//! its parked tickers after the event, and a worker that goes away gives its tickers back.
//! Reads and the quiet probe tick itself (which changes nothing outside its probe worker)
//! ask for nothing.

use super::PodTimer;
use super::parking::{ReleasedTicker, SharedLot};
use super::pod_worker::PodWorker;
use std::collections::BTreeMap;

pub struct PodWorkers {
    node: u32,
    map: BTreeMap<String, PodWorker>,
    lot: SharedLot,
}

impl PodWorkers {
    pub fn new(node: u32, lot: SharedLot) -> Self {
        PodWorkers {
            node,
            map: BTreeMap::new(),
            lot,
        }
    }

    pub fn get(&self, uid: &str) -> Option<&PodWorker> {
        self.map.get(uid)
    }

    pub fn values(&self) -> impl Iterator<Item = &PodWorker> {
        self.map.values()
    }

    pub fn keys(&self) -> impl Iterator<Item = &String> {
        self.map.keys()
    }

    /// The worker, to change: a check of its parked tickers follows the event.
    pub fn get_mut(&mut self, uid: &str) -> Option<&mut PodWorker> {
        let w = self.map.get_mut(uid)?;
        if w.parked_probes > 0 {
            let check = (self.node, w.timer_uid());
            self.lot.borrow_mut().checks.push(check);
        }
        Some(w)
    }

    /// Every worker, to change: a check of every parked ticker follows the event.
    pub fn values_mut(&mut self) -> impl Iterator<Item = &mut PodWorker> {
        self.watch_all();
        self.map.values_mut()
    }

    /// Asks for a check of every parked ticker after the event (the kubelet's state
    /// changed: every tick reads it).
    pub fn watch_all(&mut self) {
        let mut lot = self.lot.borrow_mut();
        for w in self.map.values().filter(|w| w.parked_probes > 0) {
            lot.checks.push((self.node, w.timer_uid()));
        }
    }

    /// The worker for a probe tick done in place, or for the check of its parked tickers:
    /// neither changes what a tick reads, so no check is asked for.
    pub(super) fn get_mut_unwatched(&mut self, uid: &str) -> Option<&mut PodWorker> {
        self.map.get_mut(uid)
    }

    pub fn insert(&mut self, uid: String, w: PodWorker) {
        if let Some(old) = self.map.insert(uid, w) {
            self.release(old);
        }
    }

    pub fn remove(&mut self, uid: &str) {
        if let Some(old) = self.map.remove(uid) {
            self.release(old);
        }
    }

    pub fn clear(&mut self) {
        for (_, old) in std::mem::take(&mut self.map) {
            self.release(old);
        }
    }

    /// A worker going away gives back its parked tickers: their ticks still come (and
    /// find no worker), as they would have unparked.
    fn release(&self, mut old: PodWorker) {
        if old.parked_probes == 0 {
            return;
        }
        let mut released: Vec<ReleasedTicker> = Vec::new();
        old.release_parked_probes(self.node, None, &mut released);
        self.lot.borrow_mut().released.extend(released);
    }
}

impl std::ops::Index<&str> for PodWorkers {
    type Output = PodWorker;
    fn index(&self, uid: &str) -> &PodWorker {
        &self.map[uid]
    }
}

impl PodWorkers {
    /// The worker timer `t` was set by, if it is still at the generation the timer
    /// carries, to change (see [`PodWorkers::get_mut`]).
    pub fn live_mut(&mut self, t: &PodTimer) -> Option<&mut PodWorker> {
        self.get_mut(&t.uid)
            .filter(|w| w.generation == t.generation)
    }

    /// [`PodWorkers::live_mut`] for a probe tick done in place (unwatched, see
    /// [`PodWorkers::get_mut_unwatched`]).
    pub(super) fn ticked_mut(&mut self, t: &PodTimer) -> Option<&mut PodWorker> {
        self.get_mut_unwatched(&t.uid)
            .filter(|w| w.generation == t.generation)
    }
}
