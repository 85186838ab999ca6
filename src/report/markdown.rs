//! `report.md`: what a person reads after a run — the verdict (the SLO table), the
//! incidents (each fault with what it did and how long recovery took), invariant
//! findings, each StatefulSet's SLIs, and the key timeline (faults, actions, warnings).

use super::latency::to_ms;
use crate::sim::RunResult;
use crate::sli::slo::percent;
use crate::time::{SimDuration, SimTime};
use std::fmt::Write as _;

/// Timeline lines shown in the report; the rest are in `timeline.txt`.
const KEY_LINES: usize = 60;

pub fn render(r: &RunResult) -> String {
    let mut s = String::new();
    let sc = &r.scenario;
    let _ = writeln!(s, "# {} (seed {})\n", sc.name, r.seed);
    if !sc.description.is_empty() {
        let _ = writeln!(s, "{}\n", sc.description);
    }
    let _ = writeln!(
        s,
        "Kubernetes {}, {} simulated; {} at {}. Reproduce: `stsim run {} --seed {}`.\n",
        sc.kubernetes_version,
        sc.duration,
        r.stop.describe(),
        r.simulated,
        sc.path.display(),
        r.seed
    );
    verdict(&mut s, r);
    incidents(&mut s, r);
    findings(&mut s, r);
    slis(&mut s, r);
    apps(&mut s, r);
    key_timeline(&mut s, r);
    s
}

fn verdict(s: &mut String, r: &RunResult) {
    let _ = writeln!(s, "## Verdict\n");
    if r.slos.is_empty() {
        let _ = writeln!(
            s,
            "The scenario sets no SLOs (`spec.slos`); the SLIs below are measured anyway.\n"
        );
        return;
    }
    let met = r.slos.iter().filter(|v| v.met).count();
    let _ = writeln!(
        s,
        "**{met} of {} SLOs met{}.**\n",
        r.slos.len(),
        if met == r.slos.len() {
            ""
        } else {
            " — exit code 1"
        }
    );
    let _ = writeln!(
        s,
        "| SLO | SLI | scope | value | target | budget left | burn rate | verdict |"
    );
    let _ = writeln!(s, "|---|---|---|---|---|---|---|---|");
    for v in &r.slos {
        let _ = writeln!(
            s,
            "| {} | `{}` | {} | {} | {} | {} | {} | {} |",
            v.name,
            v.sli,
            v.scope,
            v.value,
            v.target,
            v.error_budget_left
                .map_or("–".into(), |b| format!("{:.1}%", b * 100.0)),
            v.burn_rate.map_or("–".into(), |b| format!("{b:.2}×")),
            if v.met { "met" } else { "**missed**" }
        );
    }
    s.push('\n');
}

fn incidents(s: &mut String, r: &RunResult) {
    let list = &r.slis.recoveries.incidents;
    if list.is_empty() {
        return;
    }
    let _ = writeln!(s, "## Incidents\n");
    for (i, inc) in list.iter().enumerate() {
        let _ = writeln!(s, "{}. **{}** at {}", i + 1, inc.cause, inc.fault_at);
        match (inc.degraded_at, &inc.worst) {
            (None, _) => {
                let _ = writeln!(s, "   - impact: no StatefulSet lost a Ready replica");
            }
            (Some(at), worst) => {
                let _ = write!(s, "   - impact: a StatefulSet short of replicas from {at}");
                if let Some((set, available, desired)) = worst {
                    let _ = write!(s, "; worst: {set} at {available}/{desired} Ready");
                }
                s.push('\n');
                match inc.recovered_at {
                    Some(back) => {
                        let _ = writeln!(
                            s,
                            "   - recovery: every replica Ready again at {back}, {} after the fault began",
                            to_ms(back.saturating_since(inc.fault_at))
                        );
                    }
                    None => {
                        let _ = writeln!(
                            s,
                            "   - recovery: **not recovered** by the end of the run ({} after the fault began)",
                            to_ms(r.simulated.saturating_since(inc.fault_at))
                        );
                    }
                }
            }
        }
    }
    s.push('\n');
}

fn findings(s: &mut String, r: &RunResult) {
    let _ = writeln!(s, "## Invariants\n");
    if r.findings.is_empty() {
        let _ = writeln!(s, "No violation found.\n");
        return;
    }
    for f in &r.findings {
        let at = SimTime::ZERO + SimDuration::from_micros_u64(f.t_us);
        let _ = writeln!(s, "- {at} **{}**: {}", f.invariant, f.message);
    }
    s.push('\n');
}

fn slis(s: &mut String, r: &RunResult) {
    if r.slis.availability.is_empty() {
        return;
    }
    let _ = writeln!(s, "## StatefulSets\n");
    let _ = writeln!(
        s,
        "| StatefulSet | measured from | pod availability | full redundancy | per ordinal |"
    );
    let _ = writeln!(s, "|---|---|---|---|---|");
    for a in &r.slis.availability {
        let ordinals: Vec<String> = a
            .ordinals
            .iter()
            .map(|(o, up)| format!("{o}: {}", ratio(*up, a.measured_time)))
            .collect();
        let _ = writeln!(
            s,
            "| {}/{} | {}{} | {} | {} | {} |",
            a.namespace,
            a.name,
            a.measured_from,
            if a.warmed_up {
                ""
            } else {
                " (never all Ready)"
            },
            ratio(a.available_area, a.desired_area),
            ratio(a.full_time, a.measured_time),
            ordinals.join(", ")
        );
    }
    s.push('\n');
}

/// Each app's SLIs, and when its quorum was lost and its writes failed.
fn apps(s: &mut String, r: &RunResult) {
    if r.slis.apps.is_empty() {
        return;
    }
    let _ = writeln!(s, "## Applications\n");
    let _ = writeln!(
        s,
        "| app | model | measured from | leader can commit | writes | reads | leader changes | writes lost |"
    );
    let _ = writeln!(s, "|---|---|---|---|---|---|---|---|");
    for a in &r.slis.apps {
        let _ = writeln!(
            s,
            "| {}/{} | {} | {}{} | {} | {} | {} | {} | {} |",
            a.namespace,
            a.name,
            a.model,
            a.measured_from,
            if a.warmed_up {
                ""
            } else {
                " (never served writes)"
            },
            ratio(a.quorum_time, a.measured_time),
            ratio(a.writes_ok_area, a.writes_area),
            ratio(a.reads_ok_area, a.reads_area),
            a.leader_elections,
            a.writes_lost()
        );
    }
    s.push('\n');
    for a in &r.slis.apps {
        let spans = |list: &[crate::sli::Span]| -> Vec<String> {
            list.iter()
                .map(|sp| match sp.to {
                    Some(to) => format!(
                        "{} → {} ({})",
                        sp.from,
                        to,
                        to_ms(to.saturating_since(sp.from))
                    ),
                    None => format!(
                        "{} → end of run ({}, not recovered)",
                        sp.from,
                        to_ms(r.simulated.saturating_since(sp.from))
                    ),
                })
                .collect()
        };
        let no_leader = if a.model == "quorum" {
            "quorum lost"
        } else {
            "no primary taking writes"
        };
        let windows: Vec<String> = a
            .loss_windows
            .iter()
            .map(|w| {
                format!(
                    "{} → {}: {} writes acknowledged by {} and lost when {} was promoted",
                    w.from, w.to, w.writes, w.old, w.new
                )
            })
            .collect();
        for (what, list) in [
            (no_leader, spans(&a.quorum_lost)),
            ("writes failing for some clients", spans(&a.write_outages)),
            (
                "split brain (two members taking writes)",
                spans(&a.split_brain),
            ),
            ("data lost", windows),
        ] {
            if !list.is_empty() {
                let _ = writeln!(
                    s,
                    "- {}/{} {what}: {}",
                    a.namespace,
                    a.name,
                    list.join("; ")
                );
            }
        }
    }
    s.push('\n');
}

fn key_timeline(s: &mut String, r: &RunResult) {
    let key: Vec<_> = r
        .timeline
        .iter()
        .filter(|l| {
            matches!(l.type_.as_str(), "Fault" | "Action" | "Warning")
                || (l.type_ == "Note" && l.object.starts_with("app "))
        })
        .collect();
    if key.is_empty() {
        return;
    }
    let _ = writeln!(s, "## Key timeline\n");
    let what = if r.slis.apps.is_empty() {
        "Faults, operator actions and warnings"
    } else {
        "Faults, operator actions, warnings and what the apps did"
    };
    let _ = writeln!(s, "{what} (all lines: `timeline.txt`).\n");
    let _ = writeln!(s, "```");
    for l in key.iter().take(KEY_LINES) {
        let first = l.message.lines().next().unwrap_or_default();
        let _ = writeln!(
            s,
            "{}  {:<7}  {:<22}  {:<29}  {first}",
            l.at, l.type_, l.reason, l.object
        );
    }
    if key.len() > KEY_LINES {
        let _ = writeln!(s, "... {} more", key.len() - KEY_LINES);
    }
    let _ = writeln!(s, "```");
}

/// `g / t` as a percentage, or a dash when nothing was measured.
fn ratio(g: i128, t: i128) -> String {
    if t > 0 {
        percent(g as f64 / t as f64)
    } else {
        "–".into()
    }
}
