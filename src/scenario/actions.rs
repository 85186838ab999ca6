//! `spec.actions`: timed kubectl commands, parsed and checked against the scenario (the
//! time is within the run, cordoned nodes exist).

use super::de::{index, join};
use super::error::{Diagnostic, Source};
use super::kubectl;
use super::model::{ClusterSpec, TimedAction};
use super::raw::RawAction;
use super::suggest::did_you_mean;
use crate::time::SimDuration;

/// Checks decoded actions (item `i` of `spec.actions` is `(i, raw)`) against the run's
/// duration and the cluster's nodes (when both are known); returns them in time order
/// (ties keep the file's order).
pub fn build(
    raw: Vec<(usize, RawAction)>,
    duration: Option<SimDuration>,
    cluster: Option<&ClusterSpec>,
    src: &Source,
    diags: &mut Vec<Diagnostic>,
) -> Vec<TimedAction> {
    let nodes: Option<Vec<&str>> = cluster.map(|c| {
        c.zones
            .iter()
            .flat_map(|z| z.nodes.iter().map(|n| n.name.as_str()))
            .collect()
    });
    let mut out = Vec::new();
    for (i, a) in raw {
        let path = index("spec.actions", i);
        let at = a.at.value.0;
        if let Some(d) = duration.filter(|d| at > *d) {
            let msg = format!("action at {at} is after the end of the run ({d})");
            diags.push(src.diag(a.at.pos, &join(&path, "at"), msg));
        }
        let kpath = join(&path, "kubectl");
        let action = match kubectl::parse(&a.kubectl.value) {
            Ok(action) => action,
            Err(e) => {
                diags.push(src.diag(a.kubectl.pos, &kpath, e.message).with_hint(e.hint));
                continue;
            }
        };
        if let (Some(node), Some(nodes)) = (super::kubectl_nodes::named_node(&action), &nodes)
            && !nodes.contains(&node)
        {
            let hint = did_you_mean(node, nodes.iter().copied()).or_else(|| {
                nodes
                    .first()
                    .map(|n| format!("nodes are named <pool>-<zone>-<i>, e.g. {n:?}"))
            });
            diags.push(
                src.diag(
                    a.kubectl.pos,
                    &kpath,
                    format!("no node named {node:?} in the cluster"),
                )
                .with_hint(hint),
            );
            continue;
        }
        out.push(TimedAction {
            at,
            origin: src.location(a.kubectl.pos),
            text: a.kubectl.value.trim().to_string(),
            action,
        });
    }
    out.sort_by_key(|a| a.at);
    out
}
