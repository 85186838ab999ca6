//! Service level indicators of a run, measured exactly over simulated time from what a
//! watcher of the API server sees (`availability.rs`: pod availability, full redundancy,
//! time to recover from faults; `transitions.rs`: pod pending, scheduler pending, claim
//! bind and rollout durations; attach latency comes from `report::latency`), and the
//! verdicts of the scenario's SLOs on them (`slo.rs`). The engine feeds every journal
//! entry and every fault start; nothing here writes to the cluster.

mod availability;
mod integral;
pub mod slo;
mod transitions;

pub use availability::{Incident, Recoveries, SeriesRow, SetAvailability};
pub use transitions::{Durations, SetKey};

use crate::apiserver::JournalEntry;
use crate::report::latency::{Distribution, DistributionJson};
use crate::time::SimTime;
use serde::Serialize;

/// Collects the SLIs while the run goes.
#[derive(Debug, Default)]
pub struct SliRecorder {
    availability: availability::AvailabilityRecorder,
    transitions: transitions::TransitionRecorder,
}

impl SliRecorder {
    pub fn on_entry(&mut self, entry: &JournalEntry) {
        if let JournalEntry::Write(w) = entry {
            self.availability.on_write(w);
            self.transitions.on_write(w);
        }
    }

    /// A fault starts at `at`; `cause` is how the scenario wrote it.
    pub fn on_fault(&mut self, at: SimTime, cause: &str) {
        self.availability.on_fault(at, cause);
    }

    /// The SLIs at `end`; `attach` is the run's attach latency distribution.
    pub fn finish(self, end: SimTime, attach: Distribution) -> SliReport {
        let (availability, recoveries) = self.availability.finish(end);
        SliReport {
            availability,
            recoveries,
            durations: self.transitions.finish(),
            attach,
        }
    }
}

/// Every SLI of a run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SliReport {
    pub availability: Vec<SetAvailability>,
    pub recoveries: Recoveries,
    pub durations: Durations,
    pub attach: Distribution,
}

/// `result.json`'s `slis`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SliJson {
    pub percentile_method: &'static str,
    pub stateful_sets: Vec<SetSliJson>,
    pub time_to_recover: DistributionJson,
    pub faults_not_recovered: usize,
    pub scheduler_pending_time: DistributionJson,
    pub pvc_bind_time: DistributionJson,
    pub attach_latency: DistributionJson,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SetSliJson {
    pub namespace: String,
    pub name: String,
    pub measured_from_ms: f64,
    /// Whether every replica was once available (else measured from creation).
    pub warmed_up: bool,
    pub pod_availability: Option<f64>,
    pub full_redundancy: Option<f64>,
    /// Per ordinal, the share of measured time its pod was available.
    pub ordinal_availability: Vec<(i32, f64)>,
    pub pod_pending_time: Option<DistributionJson>,
    pub rollout_duration: Option<DistributionJson>,
}

impl SliReport {
    pub fn to_json(&self) -> SliJson {
        let ratio = |g: i128, t: i128| (t > 0).then(|| g as f64 / t as f64);
        let all = |m: &std::collections::BTreeMap<SetKey, Distribution>| {
            Distribution::merged(m.values()).to_json()
        };
        SliJson {
            percentile_method: "nearest-rank",
            stateful_sets: self
                .availability
                .iter()
                .map(|s| {
                    let key = Some((s.namespace.clone(), s.name.clone()));
                    SetSliJson {
                        namespace: s.namespace.clone(),
                        name: s.name.clone(),
                        measured_from_ms: s.measured_from.as_nanos() as f64 / 1e6,
                        warmed_up: s.warmed_up,
                        pod_availability: ratio(s.available_area, s.desired_area),
                        full_redundancy: ratio(s.full_time, s.measured_time),
                        ordinal_availability: s
                            .ordinals
                            .iter()
                            .filter_map(|(o, up)| ratio(*up, s.measured_time).map(|r| (*o, r)))
                            .collect(),
                        pod_pending_time: self.durations.pod_pending.get(&key).map(|d| d.to_json()),
                        rollout_duration: self.durations.rollout.get(&key).map(|d| d.to_json()),
                    }
                })
                .collect(),
            time_to_recover: Distribution::new(
                self.recoveries.recovered.clone(),
                self.recoveries.not_recovered.len() as u64,
            )
            .to_json(),
            faults_not_recovered: self.recoveries.not_recovered.len(),
            scheduler_pending_time: all(&self.durations.scheduler_pending),
            pvc_bind_time: all(&self.durations.pvc_bind),
            attach_latency: self.attach.to_json(),
        }
    }
}

#[cfg(test)]
mod tests;
