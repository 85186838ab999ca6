//! Pod availability and redundancy of each StatefulSet, integrated exactly over simulated
//! time from the API writes a watcher sees, and the time to recover from each fault.
//!
//! A pod counts as available while its Ready condition is True and it is not terminating
//! (a terminating pod leaves the Service's ready endpoints, as the EndpointSlice
//! controller marks it). A set is measured from the end of its warm-up — the first
//! moment all its desired replicas were available — because a cluster starting from
//! nothing is not an outage; a set that never got there is measured from its creation, so
//! its figure shows the failure. Recovery from a fault is the time from the fault's start
//! until every measured set has all its desired replicas available again; a fault after
//! which no set lost any is recovered in 0.

use super::integral::Integral;
use crate::api::{AnyObject, Pod, StatefulSet};
use crate::apiserver::WatchEvent;
use crate::time::{SimDuration, SimTime};
use std::collections::{BTreeMap, BTreeSet};

/// One StatefulSet's signals.
#[derive(Debug)]
struct SetState {
    start_ordinal: i32,
    desired: i64,
    /// Ordinals whose pod is available now.
    available: BTreeSet<i32>,
    /// The integrals, from the end of the warm-up (or from creation, at the end, if the
    /// warm-up never ended).
    measured: Option<Measured>,
    /// Integrals from creation, used only if the warm-up never ended.
    from_creation: Measured,
}

#[derive(Clone, Debug)]
struct Measured {
    available: Integral,
    desired: Integral,
    full: Integral,
    ordinals: BTreeMap<i32, Integral>,
}

/// A set's levels at one instant.
#[derive(Clone, Copy)]
struct Levels {
    available: i64,
    desired: i64,
}

impl Levels {
    /// Every desired replica available. A set scaled to zero (or deleted) lacks nothing:
    /// it is not degraded, so it does not hold up a recovery.
    fn full(self) -> i64 {
        i64::from(self.available >= self.desired)
    }
}

impl Measured {
    /// Integrals from `at`; ordinals available now start at level 1.
    fn starting(at: SimTime, levels: Levels, available: &BTreeSet<i32>) -> Self {
        Measured {
            available: Integral::starting(at, levels.available),
            desired: Integral::starting(at, levels.desired),
            full: Integral::starting(at, levels.full()),
            ordinals: available
                .iter()
                .map(|&o| (o, Integral::starting(at, 1)))
                .collect(),
        }
    }

    fn update(&mut self, at: SimTime, levels: Levels, ordinal: Option<(i32, bool)>) {
        self.available.set(at, levels.available);
        self.desired.set(at, levels.desired);
        self.full.set(at, levels.full());
        if let Some((o, up)) = ordinal {
            let from = self.available.from();
            self.ordinals
                .entry(o)
                .or_insert_with(|| Integral::starting(from, 0))
                .set(at, i64::from(up));
        }
    }
}

impl SetState {
    /// Available pods among the desired ordinals, at most the desired count.
    fn available_in_range(&self) -> i64 {
        let end = self.start_ordinal as i64 + self.desired;
        let n = self
            .available
            .iter()
            .filter(|&&o| o >= self.start_ordinal && i64::from(o) < end)
            .count() as i64;
        n.min(self.desired)
    }
}

/// What one fault did to the StatefulSets, for the report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Incident {
    pub fault_at: SimTime,
    /// The fault as the scenario wrote it, e.g. `zoneOutage zone-a (power) for 1h0m0s`.
    pub cause: String,
    /// The first moment after the fault's start that a measured set lacked a replica.
    pub degraded_at: Option<SimTime>,
    /// Every set whole again (the end of the recovery), if it happened in the run.
    pub recovered_at: Option<SimTime>,
    /// The lowest availability of a set while degraded: (set, available, desired).
    pub worst: Option<(String, i64, i64)>,
}

/// One change of a set's levels: a row of `metrics.csv`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeriesRow {
    pub at: SimTime,
    pub namespace: String,
    pub name: String,
    pub desired: i64,
    pub available: i64,
}

/// The availability SLIs of one set, at the end of the run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SetAvailability {
    pub namespace: String,
    pub name: String,
    /// Where measuring began: the end of the warm-up, or the set's creation if it never
    /// had all its replicas available.
    pub measured_from: SimTime,
    pub warmed_up: bool,
    /// ∫ available replicas dt and ∫ desired replicas dt (replica·ns).
    pub available_area: i128,
    pub desired_area: i128,
    /// Time with every desired replica available, and the time measured (ns).
    pub full_time: i128,
    pub measured_time: i128,
    /// Per ordinal: time its pod was available (ns), over `measured_time`.
    pub ordinals: BTreeMap<i32, i128>,
}

/// Recovery samples: recovered faults, and faults not recovered by the end (with the
/// time they had been open, a lower bound); and what each fault did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Recoveries {
    pub recovered: Vec<SimDuration>,
    pub not_recovered: Vec<SimDuration>,
    pub incidents: Vec<Incident>,
    pub series: Vec<SeriesRow>,
}

/// Follows every StatefulSet's pods.
#[derive(Debug, Default)]
pub struct AvailabilityRecorder {
    sets: BTreeMap<(String, String), SetState>,
    /// Measured sets missing a replica now.
    degraded: BTreeSet<(String, String)>,
    /// Per fault (id = index into `recoveries.incidents`): until every set is whole.
    clocks: super::recovery::RecoveryClocks,
    recoveries: Recoveries,
}

impl AvailabilityRecorder {
    pub fn on_write(&mut self, w: &WatchEvent) {
        match &w.obj {
            AnyObject::StatefulSet(set) => self.on_set(w.at, set, w.removed),
            AnyObject::Pod(pod) => self.on_pod(w.at, pod, w.removed),
            _ => {}
        }
    }

    /// A fault begins: time the recovery from it.
    pub fn on_fault(&mut self, at: SimTime, cause: &str) {
        let degraded = !self.degraded.is_empty();
        self.clocks.fault(at, degraded);
        self.recoveries.incidents.push(Incident {
            fault_at: at,
            cause: cause.to_string(),
            degraded_at: degraded.then_some(at),
            recovered_at: None,
            worst: None,
        });
    }

    fn on_set(&mut self, at: SimTime, set: &StatefulSet, removed: bool) {
        let key = (set.metadata.namespace.clone(), set.metadata.name.clone());
        let desired = if removed {
            0
        } else {
            i64::from(set.spec.replicas.unwrap_or(1))
        };
        let start = set.spec.ordinals.as_ref().map_or(0, |o| o.start);
        let new = !self.sets.contains_key(&key);
        let state = self.sets.entry(key.clone()).or_insert_with(|| SetState {
            start_ordinal: start,
            desired,
            available: BTreeSet::new(),
            measured: None,
            from_creation: Measured {
                available: Integral::starting(at, 0),
                desired: Integral::starting(at, desired),
                full: Integral::starting(at, i64::from(desired == 0)),
                ordinals: BTreeMap::new(),
            },
        });
        if !new && state.desired == desired && state.start_ordinal == start {
            return;
        }
        state.desired = desired;
        state.start_ordinal = start;
        self.changed(at, &key, None);
    }

    fn on_pod(&mut self, at: SimTime, pod: &Pod, removed: bool) {
        let Some(owner) = pod
            .metadata
            .controller_ref()
            .filter(|o| o.kind == "StatefulSet")
        else {
            return;
        };
        let key = (pod.metadata.namespace.clone(), owner.name.clone());
        let Some(ordinal) = pod
            .metadata
            .name
            .strip_prefix(owner.name.as_str())
            .and_then(|r| r.strip_prefix('-'))
            .and_then(|o| o.parse::<i32>().ok())
        else {
            return;
        };
        let Some(state) = self.sets.get_mut(&key) else {
            return;
        };
        let available = !removed && pod.metadata.deletion_timestamp.is_none() && pod.is_ready();
        let changed = if available {
            state.available.insert(ordinal)
        } else {
            state.available.remove(&ordinal)
        };
        if changed {
            self.changed(at, &key, Some(ordinal));
        }
    }

    /// A set's desired or available replicas changed at `at`.
    fn changed(&mut self, at: SimTime, key: &(String, String), ordinal: Option<i32>) {
        let state = self.sets.get_mut(key).expect("known set");
        let levels = Levels {
            available: state.available_in_range(),
            desired: state.desired,
        };
        let ordinal = ordinal.map(|o| (o, state.available.contains(&o)));
        state.from_creation.update(at, levels, ordinal);
        self.recoveries.series.push(SeriesRow {
            at,
            namespace: key.0.clone(),
            name: key.1.clone(),
            desired: levels.desired,
            available: levels.available,
        });
        match &mut state.measured {
            Some(m) => m.update(at, levels, ordinal),
            // The warm-up ends when the set first has replicas and all of them available
            // (a set created at zero and scaled up is measured from the end of that ramp).
            None if levels.desired > 0 && levels.full() == 1 => {
                state.measured = Some(Measured::starting(at, levels, &state.available));
            }
            None => return,
        }
        if levels.full() == 1 {
            self.degraded.remove(key);
        } else {
            self.degraded.insert(key.clone());
        }
        let incidents = &mut self.recoveries.incidents;
        if self.degraded.is_empty() {
            for id in self.clocks.whole(at) {
                incidents[id].recovered_at = Some(at);
            }
        } else {
            for id in self.clocks.degraded() {
                let incident = &mut incidents[id];
                incident.degraded_at.get_or_insert(at);
                // The lowest share of desired replicas available, while degraded.
                let worse = incident
                    .worst
                    .as_ref()
                    .is_none_or(|(_, a, d)| levels.available * d < a * levels.desired);
                if levels.full() == 0 && worse {
                    let set = format!("{}/{}", key.0, key.1);
                    incident.worst = Some((set, levels.available, levels.desired));
                }
            }
        }
    }

    /// The SLIs at the end of the run.
    pub fn finish(self, end: SimTime) -> (Vec<SetAvailability>, Recoveries) {
        let mut recoveries = self.recoveries;
        (recoveries.recovered, recoveries.not_recovered) = self.clocks.finish(end);
        let sets = self
            .sets
            .into_iter()
            .map(|((namespace, name), s)| {
                let warmed_up = s.measured.is_some();
                let m = s.measured.unwrap_or(s.from_creation);
                let from = m.available.from();
                let measured_time = i128::from(end.0.saturating_sub(from.0));
                let mut ordinals: BTreeMap<i32, i128> = m
                    .ordinals
                    .iter()
                    .map(|(o, i)| (*o, i.area_until(end)))
                    .collect();
                // A desired ordinal with no integral was never available while measured.
                for o in s.start_ordinal..s.start_ordinal + s.desired as i32 {
                    ordinals.entry(o).or_insert(0);
                }
                SetAvailability {
                    namespace,
                    name,
                    measured_from: from,
                    warmed_up,
                    available_area: m.available.area_until(end),
                    desired_area: m.desired.area_until(end),
                    full_time: m.full.area_until(end),
                    measured_time,
                    ordinals,
                }
            })
            .collect();
        (sets, recoveries)
    }
}
