//! The end-of-run summary a person reads: why the run stopped, what happened, and the
//! state the workloads ended in.

use crate::sim::RunResult;
use std::fmt::Write as _;
use std::time::Duration;

/// Renders the summary; `wall` (measured by the caller, never by the library) adds the
/// speed-up over real time.
pub fn render(r: &RunResult, wall: Option<Duration>) -> String {
    let mut s = String::new();
    let c = &r.counts;
    let _ = writeln!(s, "Summary (scenario {}, seed {})", r.scenario.name, r.seed);
    let _ = writeln!(s, "  stopped: {} at {}", r.stop.describe(), r.simulated);
    let _ = writeln!(
        s,
        "  {} events; {} API writes ({} create, {} update, {} status, {} delete); {} Kubernetes Events ({} warnings); {} actions; {} faults",
        c.events,
        c.api_writes,
        c.creates,
        c.updates,
        c.status_updates,
        c.deletes,
        c.k8s_events,
        c.warnings,
        c.actions,
        c.faults
    );
    for set in &r.final_state.stateful_sets {
        let _ = writeln!(
            s,
            "  statefulset {}/{}: {}/{} ready, {} available, {} updated; revision {}{}",
            set.namespace,
            set.name,
            set.ready_replicas,
            set.replicas,
            set.available_replicas,
            set.updated_replicas,
            set.update_revision,
            if set.current_revision != set.update_revision && !set.current_revision.is_empty() {
                format!(" (current {})", set.current_revision)
            } else {
                String::new()
            }
        );
    }
    let not_ready: Vec<_> = r
        .final_state
        .pods
        .iter()
        .filter(|p| !p.ready || p.terminating)
        .map(|p| {
            format!(
                "{} ({}{})",
                p.name,
                p.phase,
                if p.terminating { ", terminating" } else { "" }
            )
        })
        .collect();
    if !not_ready.is_empty() {
        let _ = writeln!(s, "  pods not ready at the end: {}", not_ready.join(", "));
    }
    if let Some(l) = &r.storage_latency {
        s.push_str(&l.render());
    }
    s.push_str(&super::slos::render(&r.slos));
    if r.findings.is_empty() {
        let _ = writeln!(s, "  invariants: no violation found");
    } else {
        for f in &r.findings {
            let _ = writeln!(s, "  VIOLATION {}: {}", f.invariant, f.message);
        }
    }
    if let Some(wall) = wall {
        let sim = r.simulated_duration().as_secs_f64();
        let w = wall.as_secs_f64().max(1e-9);
        let _ = writeln!(
            s,
            "  wall time: {:.1} ms ({:.0}x real time)",
            w * 1000.0,
            sim / w
        );
    }
    s
}
