//! The outcome of a run: why it stopped, what it counted, and the final state of the
//! workloads, as `result.json` and the summary show it.

use crate::api::pod::condition;
use crate::apiserver::{JournalEntry, Verb};
use crate::report::timeline::TimelineLine;
use crate::scenario::Scenario;
use crate::time::{SimDuration, SimTime};
use serde::Serialize;

/// Why the event loop ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StopReason {
    /// Simulated time reached the end of the scenario (or `--until`).
    EndOfTime,
    /// The event budget was spent first: usually an event storm worth a look.
    EventBudget { max_events: u64 },
}

impl StopReason {
    pub fn describe(&self) -> String {
        match self {
            StopReason::EndOfTime => "reached the end of simulated time".into(),
            StopReason::EventBudget { max_events } => {
                format!("event budget of {max_events} events exhausted")
            }
        }
    }
}

/// Counters kept while running.
#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RunSummaryCounts {
    pub events: u64,
    pub api_writes: u64,
    pub creates: u64,
    pub updates: u64,
    pub status_updates: u64,
    pub deletes: u64,
    pub k8s_events: u64,
    pub warnings: u64,
    pub actions: u64,
    pub faults: u64,
}

impl RunSummaryCounts {
    pub fn count(&mut self, entry: &JournalEntry) {
        match entry {
            JournalEntry::Write(w) => {
                self.api_writes += 1;
                match w.verb {
                    Verb::Create => self.creates += 1,
                    Verb::Update => self.updates += 1,
                    Verb::Status => self.status_updates += 1,
                    Verb::Delete => self.deletes += 1,
                }
            }
            JournalEntry::Event { event, .. } => {
                self.k8s_events += 1;
                if event.type_ == "Warning" {
                    self.warnings += 1;
                }
            }
        }
    }
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SetState {
    pub namespace: String,
    pub name: String,
    pub replicas: i32,
    pub status_replicas: i32,
    pub ready_replicas: i32,
    pub available_replicas: i32,
    pub current_replicas: i32,
    pub updated_replicas: i32,
    pub current_revision: String,
    pub update_revision: String,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PodState {
    pub namespace: String,
    pub name: String,
    pub phase: String,
    pub ready: bool,
    pub terminating: bool,
    pub node: String,
    pub revision: String,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClaimState {
    pub namespace: String,
    pub name: String,
    pub phase: String,
    pub volume: String,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeState {
    pub name: String,
    pub zone: String,
    pub ready: bool,
    pub unschedulable: bool,
}

#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FinalState {
    pub stateful_sets: Vec<SetState>,
    pub pods: Vec<PodState>,
    pub persistent_volume_claims: Vec<ClaimState>,
    pub nodes: Vec<NodeState>,
}

/// A violation of a guarantee of the simulated system (filled by the invariant checks).
pub use crate::check::Finding;

pub struct RunResult {
    pub scenario: Scenario,
    pub seed: u64,
    pub stop: StopReason,
    pub simulated: SimTime,
    pub counts: RunSummaryCounts,
    pub trace_lines: u64,
    pub timeline: Vec<TimelineLine>,
    pub final_state: FinalState,
    pub findings: Vec<Finding>,
    pub trace_error: Option<std::io::Error>,
    /// Attach and pod start latency distributions (runs that attached volumes).
    pub storage_latency: Option<crate::report::latency::StorageLatencies>,
    /// Every SLI of the run.
    pub slis: crate::sli::SliReport,
    /// The verdicts of the scenario's SLOs, in file order.
    pub slos: Vec<crate::sli::slo::SloVerdict>,
}

pub(super) fn build(sim: super::Simulation, stop: StopReason, simulated: SimTime) -> RunResult {
    let super::Simulation {
        scenario,
        seed,
        api,
        counts,
        timeline,
        mut trace,
        checks,
        latency,
        slis,
        ..
    } = sim;
    let storage_latency = latency.finish();
    let attach = storage_latency
        .as_ref()
        .map(|l| l.attach.clone())
        .unwrap_or_default();
    let slis = slis.finish(simulated, attach);
    let slos = crate::sli::slo::evaluate(&scenario.slos, &slis);
    let objects = api.objects();
    let final_state = FinalState {
        stateful_sets: objects
            .stateful_sets
            .values()
            .map(|s| SetState {
                namespace: s.metadata.namespace.clone(),
                name: s.metadata.name.clone(),
                replicas: s.replicas(),
                status_replicas: s.status.replicas,
                ready_replicas: s.status.ready_replicas,
                available_replicas: s.status.available_replicas,
                current_replicas: s.status.current_replicas,
                updated_replicas: s.status.updated_replicas,
                current_revision: s.status.current_revision.clone(),
                update_revision: s.status.update_revision.clone(),
            })
            .collect(),
        pods: objects
            .pods
            .values()
            .map(|p| PodState {
                namespace: p.metadata.namespace.clone(),
                name: p.metadata.name.clone(),
                phase: p.status.phase.clone(),
                ready: p
                    .condition(condition::READY)
                    .is_some_and(|c| c.status == "True"),
                terminating: p.is_terminating(),
                node: p.spec.node_name.clone(),
                revision: p
                    .metadata
                    .labels
                    .get("controller-revision-hash")
                    .cloned()
                    .unwrap_or_default(),
            })
            .collect(),
        persistent_volume_claims: objects
            .pvcs
            .values()
            .map(|c| ClaimState {
                namespace: c.metadata.namespace.clone(),
                name: c.metadata.name.clone(),
                phase: c.status.phase.clone(),
                volume: c.spec.volume_name.clone(),
            })
            .collect(),
        nodes: objects
            .nodes
            .values()
            .map(|n| NodeState {
                name: n.metadata.name.clone(),
                zone: n.zone().to_string(),
                ready: n.is_ready(),
                unschedulable: n.spec.unschedulable,
            })
            .collect(),
    };
    RunResult {
        scenario,
        seed,
        stop,
        simulated,
        counts,
        trace_lines: trace.lines_written(),
        timeline: timeline.unwrap_or_default(),
        final_state,
        findings: checks.into_findings(),
        trace_error: trace.take_error(),
        storage_latency,
        slis,
        slos,
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ResultJson<'a> {
    scenario: &'a str,
    scenario_file: String,
    seed: u64,
    kubernetes_version: String,
    outcome: &'static str,
    stop_reason: String,
    simulated_ms: u64,
    /// The run's wall time, when the caller measured it (`stsim run` does); the only
    /// figure in the file that differs between two runs of the same scenario and seed.
    #[serde(skip_serializing_if = "Option::is_none")]
    wall_time_ms: Option<f64>,
    counts: &'a RunSummaryCounts,
    trace_lines: u64,
    slos: &'a [crate::sli::slo::SloVerdict],
    slis: crate::sli::SliJson,
    findings: &'a [Finding],
    not_simulated: Vec<String>,
    final_state: &'a FinalState,
    #[serde(skip_serializing_if = "Option::is_none")]
    storage_latency: Option<crate::report::latency::StorageLatenciesJson>,
}

impl RunResult {
    /// Exit code by the CLI contract: 0 ran and every SLO met, 1 an SLO missed,
    /// 3 an invariant violated.
    /// 3 for a violated invariant, else 1 for a missed SLO, else 0.
    pub fn exit_code(&self) -> i32 {
        if !self.findings.is_empty() {
            3
        } else if self.slos.iter().any(|s| !s.met) {
            1
        } else {
            0
        }
    }

    pub fn simulated_duration(&self) -> SimDuration {
        self.simulated.saturating_since(SimTime::ZERO)
    }

    /// `result.json`: deterministic (no wall-clock figures), pretty-printed.
    pub fn to_json(&self) -> String {
        self.to_json_with_wall(None)
    }

    /// `result.json` with the run's wall time (`wallTimeMs`) as `stsim run` writes it.
    pub fn to_json_with_wall(&self, wall: Option<std::time::Duration>) -> String {
        let doc = ResultJson {
            scenario: &self.scenario.name,
            scenario_file: self.scenario.path.display().to_string(),
            seed: self.seed,
            kubernetes_version: self.scenario.kubernetes_version.to_string(),
            outcome: match self.stop {
                StopReason::EventBudget { .. } => "budgetExhausted",
                _ => "completed",
            },
            stop_reason: self.stop.describe(),
            simulated_ms: self.simulated.as_millis(),
            wall_time_ms: wall.map(|w| (w.as_secs_f64() * 1e6).round() / 1e3),
            counts: &self.counts,
            trace_lines: self.trace_lines,
            slos: &self.slos,
            slis: self.slis.to_json(),
            findings: &self.findings,
            not_simulated: self
                .scenario
                .not_simulated
                .iter()
                .map(|n| {
                    format!("{}: {} {}", n.origin, n.object, n.path)
                        .trim_end()
                        .to_string()
                })
                .collect(),
            final_state: &self.final_state,
            storage_latency: self.storage_latency.as_ref().map(|l| l.to_json()),
        };
        let mut s = serde_json::to_string_pretty(&doc).expect("results always serialise");
        s.push('\n');
        s
    }
}
