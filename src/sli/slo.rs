//! SLO verdicts: each `spec.slos` entry judged against the SLIs of the run.
//!
//! Ratio SLOs (`objective`): the SLI is met when it is at least the objective, compared
//! exactly (integers). The error budget is the share of time the objective allows to be
//! bad, `1 − objective`; the burn rate is how fast the run spent it, `(1 − SLI) / (1 −
//! objective)` (1× spends exactly the budget over the measured time). With a `window`
//! (the compliance period, e.g. 30d) the run's bad time is charged to that period's
//! budget, `(1 − objective) × window`, assuming the rest of the period is perfect: the
//! SLO is missed when the run alone spends more than all of it, and "budget left" is
//! the share of the period's budget still unspent.
//!
//! Duration SLOs (`max`): the chosen nearest-rank percentile of the occurrences (100: the
//! largest) is at most `max`. Occurrences that never finished within the run (a pod never
//! started, a fault never recovered from) rank above every finished one; no occurrence
//! at all meets the SLO.

use super::{AppSlis, SliReport};
use crate::report::latency::{Distribution, to_ms};
use crate::scenario::{SliKind, SloSpec, SloTarget};
use crate::time::SimDuration;
use serde::Serialize;

/// An SLO's outcome.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SloVerdict {
    pub name: String,
    pub sli: &'static str,
    /// What the SLI was measured over: `all StatefulSets`, `statefulset default/web`, ...
    pub scope: String,
    /// The SLI's value, as people read it (`99.873%`, `2m13s`, `not finished`).
    pub value: String,
    /// The target, as written (`≥ 99.9%`, `p99 ≤ 2m`).
    pub target: String,
    pub met: bool,
    /// Ratio SLOs: the share of the error budget (of the window, if given) left; negative
    /// when overspent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_budget_left: Option<f64>,
    /// Ratio SLOs: `(1 − SLI) / (1 − objective)`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub burn_rate: Option<f64>,
    /// Ratio SLOs: the SLI as a fraction.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ratio: Option<f64>,
    /// Duration SLOs: the value in milliseconds (`null` if not finished or no occurrence).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value_ms: Option<f64>,
}

/// Judges every SLO of the scenario.
pub fn evaluate(slos: &[SloSpec], report: &SliReport) -> Vec<SloVerdict> {
    slos.iter().map(|s| verdict(s, report)).collect()
}

fn scope(slo: &SloSpec) -> String {
    match (&slo.stateful_set, slo.ordinal) {
        (Some((ns, name)), _) if slo.sli.per_app() => format!("app {ns}/{name}"),
        (Some((ns, name)), Some(o)) => format!("pod {ns}/{name}-{o}"),
        (Some((ns, name)), None) => format!("statefulset {ns}/{name}"),
        (None, _) if slo.sli.per_app() => "all apps".into(),
        (None, _) if slo.sli.per_set() => "all StatefulSets".into(),
        (None, _) => "cluster".into(),
    }
}

fn verdict(slo: &SloSpec, report: &SliReport) -> SloVerdict {
    let base = SloVerdict {
        name: slo.name.clone(),
        sli: slo.sli.name(),
        scope: scope(slo),
        value: String::new(),
        target: String::new(),
        met: false,
        error_budget_left: None,
        burn_rate: None,
        ratio: None,
        value_ms: None,
    };
    match slo.target {
        SloTarget::Objective(objective) => {
            let (good, total, measured) = ratio_parts(slo, report);
            let target = format!("≥ {}", percent(objective.num as f64 / objective.den as f64));
            if total == 0 {
                return SloVerdict {
                    value: "nothing measured".into(),
                    target,
                    met: true,
                    ..base
                };
            }
            // good/total ≥ num/den, exactly.
            let met_ratio = good * objective.den as i128 >= objective.num as i128 * total;
            let ratio = good as f64 / total as f64;
            let allowed = 1.0 - objective.as_f64();
            let burn = if allowed > 0.0 {
                (1.0 - ratio) / allowed
            } else if ratio < 1.0 {
                f64::INFINITY
            } else {
                0.0
            };
            let (budget_left, met) = match slo.window {
                None => (1.0 - burn, met_ratio),
                Some(window) => {
                    let spent = burn * measured as f64 / window.as_nanos() as f64;
                    (1.0 - spent, spent <= 1.0)
                }
            };
            SloVerdict {
                value: percent(ratio),
                target,
                met,
                error_budget_left: Some(budget_left),
                burn_rate: Some(burn),
                ratio: Some(ratio),
                ..base
            }
        }
        SloTarget::MaxCount(max) => {
            let n = count(slo, report);
            SloVerdict {
                value: n.to_string(),
                target: format!("≤ {max}"),
                met: n <= max,
                ..base
            }
        }
        SloTarget::MaxDuration { max, percentile } if slo.sli == SliKind::ReplicationLag => {
            // A time-weighted percentile over replica-time, not a rank among occurrences.
            let pieces: Vec<_> = apps(slo, report)
                .flat_map(|a| a.lag.iter().copied())
                .collect();
            let target = max_target(max, percentile);
            let (value, met, ms) = match super::lag::percentile(&pieces, percentile) {
                None => ("no replica".to_string(), true, None),
                Some(d) => judged(d, max),
            };
            SloVerdict {
                value,
                target,
                met,
                value_ms: ms,
                ..base
            }
        }
        SloTarget::MaxDuration { max, percentile } => {
            let dist = durations(slo, report);
            let target = max_target(max, percentile);
            let (value, met, ms) = match ranked(&dist, percentile) {
                Ranked::None => ("no occurrence".to_string(), true, None),
                Ranked::Unfinished => ("not finished".to_string(), false, None),
                Ranked::Sample(d) => judged(d, max),
            };
            SloVerdict {
                value,
                target,
                met,
                value_ms: ms,
                ..base
            }
        }
    }
}

/// Good and total (same unit) of a ratio SLI, and the measured time (ns) the budget is
/// charged for.
fn ratio_parts(slo: &SloSpec, report: &SliReport) -> (i128, i128, i128) {
    let sets = report.availability.iter().filter(|s| {
        slo.stateful_set
            .as_ref()
            .is_none_or(|(ns, n)| s.namespace == *ns && s.name == *n)
    });
    match (slo.sli, slo.ordinal) {
        (SliKind::PodAvailability, Some(o)) => sets
            .map(|s| (s.ordinals.get(&o).copied().unwrap_or(0), s.measured_time))
            .fold((0, 0, 0), |(g, t, m), (a, b)| (g + a, t + b, m.max(b))),
        (SliKind::PodAvailability, None) => sets
            .map(|s| (s.available_area, s.desired_area, s.measured_time))
            .fold((0, 0, 0), |(g, t, m), (a, b, c)| (g + a, t + b, m.max(c))),
        // The worst set's share of time with every replica available.
        (SliKind::FullRedundancy, _) => sets
            .map(|s| (s.full_time, s.measured_time))
            .filter(|(_, t)| *t > 0)
            .min_by(|(a, b), (c, d)| (a * d).cmp(&(c * b)))
            .map_or((0, 0, 0), |(g, t)| (g, t, t)),
        (SliKind::QuorumAvailability, _) => {
            pooled(apps(slo, report).map(|a| (a.quorum_time, a.measured_time, a.measured_time)))
        }
        (SliKind::WriteAvailability, _) => {
            pooled(apps(slo, report).map(|a| (a.writes_ok_area, a.writes_area, a.measured_time)))
        }
        (SliKind::ReadAvailability, _) => {
            pooled(apps(slo, report).map(|a| (a.reads_ok_area, a.reads_area, a.measured_time)))
        }
        _ => (0, 0, 0),
    }
}

/// Sums of good and total, and the longest measured time.
fn pooled(parts: impl Iterator<Item = (i128, i128, i128)>) -> (i128, i128, i128) {
    parts.fold((0, 0, 0), |(g, t, m), (a, b, c)| (g + a, t + b, m.max(c)))
}

/// The apps an SLO is about: the app of its `statefulSet`, or every app.
fn apps<'a>(slo: &'a SloSpec, report: &'a SliReport) -> impl Iterator<Item = &'a AppSlis> {
    report.apps.iter().filter(|a| {
        slo.stateful_set
            .as_ref()
            .is_none_or(|(ns, n)| a.namespace == *ns && a.stateful_set == *n)
    })
}

/// A count SLI's value.
fn count(slo: &SloSpec, report: &SliReport) -> u64 {
    match slo.sli {
        SliKind::LeaderElections => apps(slo, report).map(|a| a.leader_elections).sum(),
        SliKind::Failovers => apps(slo, report).map(|a| a.failovers).sum(),
        SliKind::WritesLost => apps(slo, report)
            .map(|a| a.writes_lost().max(0) as u64)
            .sum(),
        _ => 0,
    }
}

fn durations(slo: &SloSpec, report: &SliReport) -> Distribution {
    let d = &report.durations;
    let pick = |map: &std::collections::BTreeMap<super::transitions::SetKey, Distribution>| {
        Distribution::merged(map.iter().filter_map(|(k, v)| {
            let wanted = match (&slo.stateful_set, k) {
                (None, _) => true,
                (Some(want), Some(have)) => want == have,
                (Some(_), None) => false,
            };
            wanted.then_some(v)
        }))
    };
    match slo.sli {
        SliKind::PodPendingTime => pick(&d.pod_pending),
        SliKind::SchedulerPendingTime => pick(&d.scheduler_pending),
        SliKind::PvcBindTime => pick(&d.pvc_bind),
        SliKind::RolloutDuration => pick(&d.rollout),
        SliKind::AttachLatency => report.attach.clone(),
        SliKind::TimeToRecover => Distribution::new(
            report.recoveries.recovered.clone(),
            report.recoveries.not_recovered.len() as u64,
        ),
        SliKind::QuorumLoss => {
            let spans: Vec<_> = apps(slo, report)
                .flat_map(|a| a.quorum_lost.iter())
                .collect();
            Distribution::new(
                spans
                    .iter()
                    .filter_map(|s| Some(s.to?.saturating_since(s.from)))
                    .collect(),
                spans.iter().filter(|s| s.to.is_none()).count() as u64,
            )
        }
        SliKind::DataLossWindow => Distribution::new(
            apps(slo, report)
                .flat_map(|a| a.loss_windows.iter())
                .map(|w| w.to.saturating_since(w.from))
                .collect(),
            0,
        ),
        SliKind::TimeToRecoverWrites => Distribution::new(
            report.writes_recovered.clone(),
            report.writes_not_recovered.len() as u64,
        ),
        SliKind::PodAvailability
        | SliKind::FullRedundancy
        | SliKind::QuorumAvailability
        | SliKind::WriteAvailability
        | SliKind::ReadAvailability
        | SliKind::LeaderElections
        | SliKind::Failovers
        | SliKind::WritesLost
        | SliKind::ReplicationLag => Distribution::new(Vec::new(), 0),
    }
}

/// A duration's value as people read it (rounded to the millisecond), its verdict
/// (judged exactly), and its value in milliseconds.
fn judged(d: SimDuration, max: SimDuration) -> (String, bool, Option<f64>) {
    (
        to_ms(d).to_string(),
        d <= max,
        Some(d.as_nanos() as f64 / 1e6),
    )
}

/// `≤ 2m0s`, or `p99 ≤ 2m0s` for a percentile below 100.
fn max_target(max: SimDuration, percentile: u32) -> String {
    if percentile == 100 {
        format!("≤ {max}")
    } else {
        format!("p{percentile} ≤ {max}")
    }
}

enum Ranked {
    None,
    Unfinished,
    Sample(SimDuration),
}

/// The nearest-rank percentile with unfinished occurrences ranked above every sample.
fn ranked(d: &Distribution, percentile: u32) -> Ranked {
    let n = d.count() as u64 + d.unfinished;
    if n == 0 {
        return Ranked::None;
    }
    let rank = (u64::from(percentile) * n).div_ceil(100).max(1);
    if rank > d.count() as u64 {
        return Ranked::Unfinished;
    }
    // The rank falls among the finished samples: the same as their own nearest rank at
    // this rank.
    Ranked::Sample(d.sorted[(rank - 1) as usize])
}

/// `99.873%`: three decimals, trailing zeros dropped.
pub fn percent(f: f64) -> String {
    let s = format!("{:.3}", f * 100.0);
    let s = s.trim_end_matches('0').trim_end_matches('.');
    format!("{s}%")
}
