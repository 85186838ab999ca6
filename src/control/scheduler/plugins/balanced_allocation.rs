//! NodeResourcesBalancedAllocation (`plugins/noderesources/balanced_allocation.go`): a
//! score that favours nodes whose CPU and memory would be used in equal shares after
//! placing the pod, so that neither runs out while the other idles.

use crate::api::Pod;
use crate::control::scheduler::cache::NodeInfo;
use crate::control::scheduler::framework::{CycleState, MAX_NODE_SCORE, Plugin};

pub const NAME: &str = "NodeResourcesBalancedAllocation";

pub struct BalancedAllocation;

/// `balancedResourceScorer` over CPU and memory (the default resources): `(1 − std) × 100`
/// over the used fractions (capped at 1) of the resources the node offers; with two
/// resources the standard deviation is half their difference, with one it is 0 (upstream's
/// general mean-and-variance branch is for three or more). No list is built per node.
fn balanced_resource_score(requested: [i64; 2], allocatable: [i64; 2]) -> i64 {
    let fraction = |i: usize| {
        (allocatable[i] != 0).then(|| (requested[i] as f64 / allocatable[i] as f64).min(1.0))
    };
    let std = match (fraction(0), fraction(1)) {
        (Some(a), Some(b)) => ((a - b) / 2.0).abs(),
        _ => 0.0,
    };
    ((1.0 - std) * MAX_NODE_SCORE as f64) as i64
}

impl Plugin for BalancedAllocation {
    fn name(&self) -> &'static str {
        NAME
    }

    // `BalancedAllocation.PreScore` + `Score`: actual requests (no non-zero defaults);
    // BestEffort pods are skipped so they do not all pile onto one node (#129138).
    fn score(&self, state: &CycleState, _: &Pod, nodes: &[&NodeInfo]) -> Option<Vec<i64>> {
        let pod = &state.requests;
        if pod.milli_cpu == 0 && pod.memory == 0 {
            return None;
        }
        Some(
            nodes
                .iter()
                .map(|n| {
                    let requested = [
                        n.requested.milli_cpu + pod.milli_cpu,
                        n.requested.memory + pod.memory,
                    ];
                    let allocatable = [n.allocatable.milli_cpu, n.allocatable.memory];
                    balanced_resource_score(requested, allocatable)
                })
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::control::scheduler::plugins::testing::{info, node, pod};

    #[test]
    fn balanced_use_scores_higher() {
        let p = pod("p", &[("cpu", "1"), ("memory", "1Gi")]);
        let state = CycleState::new(&p);
        // Node a: cpu 1/4, mem 1/4 → std 0 → 100.
        let a = info(node("a", "4", "4Gi"), &[]);
        // Node b: cpu (1+2)/4 = 0.75, mem 1/4 → std 0.25 → 75.
        let b = info(node("b", "4", "4Gi"), &[pod("x", &[("cpu", "2")])]);
        assert_eq!(
            BalancedAllocation.score(&state, &p, &[&a, &b]),
            Some(vec![100, 75])
        );
        // BestEffort pods are not scored by this plugin.
        let be = pod("be", &[]);
        assert_eq!(
            BalancedAllocation.score(&CycleState::new(&be), &be, &[&a]),
            None
        );
        // Fractions above 1 are capped.
        assert_eq!(balanced_resource_score([8, 1], [4, 4]), 62);
        assert_eq!(balanced_resource_score([1, 1], [0, 4]), 100);
    }
}
