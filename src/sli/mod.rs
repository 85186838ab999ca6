//! Service level indicators of a run, measured exactly over simulated time from what a
//! watcher of the API server sees (`availability.rs`: pod availability, full redundancy,
//! time to recover from faults; `transitions.rs`: pod pending, scheduler pending, claim
//! bind and rollout durations; attach latency comes from `report::latency`), and the
//! verdicts of the scenario's SLOs on them (`slo.rs`). The engine feeds every journal
//! entry and every fault start; nothing here writes to the cluster.

mod apps;
mod availability;
mod integral;
pub mod lag;
mod recovery;
pub mod slo;
mod transitions;

pub use apps::{AppSeriesRow, AppSlis, LossWindow, Span};
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
    apps: apps::AppRecorder,
}

impl SliRecorder {
    /// A recorder for a run with these apps (`spec.apps`).
    pub fn new(apps: &[crate::scenario::AppSpec]) -> Self {
        SliRecorder {
            apps: apps::AppRecorder::new(apps),
            ..Default::default()
        }
    }

    /// App number `app` of `spec.apps` has this status from `at` on.
    pub fn on_app(&mut self, at: SimTime, app: usize, status: &crate::infra::apps::AppStatus) {
        self.apps.on_status(at, app, status);
    }

    pub fn on_entry(&mut self, entry: &JournalEntry) {
        if let JournalEntry::Write(w) = entry {
            self.availability.on_write(w);
            self.transitions.on_write(w);
        }
    }

    /// A fault starts at `at`; `cause` is how the scenario wrote it.
    pub fn on_fault(&mut self, at: SimTime, cause: &str) {
        self.availability.on_fault(at, cause);
        self.apps.on_fault(at);
    }

    /// The SLIs at `end`; `attach` is the run's attach latency distribution.
    pub fn finish(self, end: SimTime, attach: Distribution) -> SliReport {
        let (availability, recoveries) = self.availability.finish(end);
        let apps = self.apps.finish(end);
        SliReport {
            availability,
            recoveries,
            apps: apps.apps,
            writes_recovered: apps.recovered,
            writes_not_recovered: apps.not_recovered,
            app_series: apps.series,
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
    /// The apps' SLIs, in `spec.apps` order.
    pub apps: Vec<AppSlis>,
    /// Per fault (when apps run): time until every app's writes succeed again.
    pub writes_recovered: Vec<crate::time::SimDuration>,
    pub writes_not_recovered: Vec<crate::time::SimDuration>,
    /// Every change of an app's status (`app-metrics.csv`).
    pub app_series: Vec<AppSeriesRow>,
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
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub apps: Vec<AppSliJson>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time_to_recover_writes: Option<DistributionJson>,
}

/// One app's SLIs in `result.json`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AppSliJson {
    pub name: String,
    pub namespace: String,
    pub stateful_set: String,
    pub model: &'static str,
    pub measured_from_ms: f64,
    pub warmed_up: bool,
    pub quorum_availability: Option<f64>,
    pub write_availability: Option<f64>,
    pub read_availability: Option<f64>,
    pub leader_elections: u64,
    /// Intervals with quorum lost, in ms from the start (`toMs` null: still lost at the end).
    pub quorum_lost: Vec<SpanJson>,
    /// Intervals in which some zone's writes failed.
    pub write_outages: Vec<SpanJson>,
    /// primaryReplica: failovers after the warm-up, acknowledged writes lost, each
    /// data-loss window, and the intervals with two members taking writes.
    pub failovers: u64,
    pub writes_lost: i128,
    pub data_loss_windows: Vec<LossWindowJson>,
    pub split_brain: Vec<SpanJson>,
    /// Time-weighted percentiles of the replicas' lag (primaryReplica; null without
    /// replicas).
    pub replication_lag: Option<LagJson>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LagJson {
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

impl LagJson {
    fn of(pieces: &[lag::LagPiece]) -> Option<Self> {
        let ms = |p| lag::percentile(pieces, p).map(|d| d.as_nanos() as f64 / 1e6);
        Some(LagJson {
            p50_ms: ms(50)?,
            p90_ms: ms(90)?,
            p99_ms: ms(99)?,
            max_ms: ms(100)?,
        })
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LossWindowJson {
    pub from_ms: f64,
    pub to_ms: f64,
    pub old_primary: String,
    pub new_primary: String,
    pub writes: i128,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SpanJson {
    pub from_ms: f64,
    pub to_ms: Option<f64>,
}

impl SpanJson {
    fn of(s: &Span) -> Self {
        let ms = |t: SimTime| t.0 as f64 / 1e6;
        SpanJson {
            from_ms: ms(s.from),
            to_ms: s.to.map(ms),
        }
    }
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
            apps: self
                .apps
                .iter()
                .map(|a| AppSliJson {
                    name: a.name.clone(),
                    namespace: a.namespace.clone(),
                    stateful_set: a.stateful_set.clone(),
                    model: a.model,
                    measured_from_ms: a.measured_from.0 as f64 / 1e6,
                    warmed_up: a.warmed_up,
                    quorum_availability: ratio(a.quorum_time, a.measured_time),
                    write_availability: ratio(a.writes_ok_area, a.writes_area),
                    read_availability: ratio(a.reads_ok_area, a.reads_area),
                    leader_elections: a.leader_elections,
                    quorum_lost: a.quorum_lost.iter().map(SpanJson::of).collect(),
                    write_outages: a.write_outages.iter().map(SpanJson::of).collect(),
                    failovers: a.failovers,
                    writes_lost: a.writes_lost(),
                    data_loss_windows: a
                        .loss_windows
                        .iter()
                        .map(|w| LossWindowJson {
                            from_ms: w.from.0 as f64 / 1e6,
                            to_ms: w.to.0 as f64 / 1e6,
                            old_primary: w.old.clone(),
                            new_primary: w.new.clone(),
                            writes: w.writes,
                        })
                        .collect(),
                    split_brain: a.split_brain.iter().map(SpanJson::of).collect(),
                    replication_lag: LagJson::of(&a.lag),
                })
                .collect(),
            time_to_recover_writes: (!self.apps.is_empty()).then(|| {
                Distribution::new(
                    self.writes_recovered.clone(),
                    self.writes_not_recovered.len() as u64,
                )
                .to_json()
            }),
        }
    }
}

#[cfg(test)]
mod tests;
