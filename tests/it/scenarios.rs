//! Every bundled scenario validates and runs, and ends the way its header says.

use crate::harness::{bundled, repo_path, run};

/// Scenarios that exist to show an invariant violation (their headers say exit code 3).
pub(crate) const EXPECTED_FINDINGS: &[&str] = &["network-partition"];

#[test]
fn every_bundled_scenario_validates_and_runs() {
    let mut names = Vec::new();
    for entry in std::fs::read_dir(repo_path("scenarios")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "yaml") {
            names.push(path.file_stem().unwrap().to_string_lossy().into_owned());
        }
    }
    names.sort();
    assert!(names.len() >= 2, "{names:?}");
    for name in names {
        let scenario = bundled(&name);
        let result = run(&scenario);
        if EXPECTED_FINDINGS.contains(&name.as_str()) {
            assert!(
                !result.findings.is_empty(),
                "{name}: the header promises findings"
            );
        } else {
            assert!(result.findings.is_empty(), "{name}: {:?}", result.findings);
        }
        assert_eq!(result.stop, stsim::sim::StopReason::EndOfTime, "{name}");
    }
}

#[test]
fn quickstart_brings_up_three_ready_redis_pods_in_order() {
    let result = run(&bundled("quickstart"));
    let set = &result.final_state.stateful_sets[0];
    assert_eq!(
        (set.name.as_str(), set.replicas, set.ready_replicas),
        ("redis", 3, 3)
    );
    let pods: Vec<_> = result
        .final_state
        .pods
        .iter()
        .map(|p| (p.name.as_str(), p.ready))
        .collect();
    assert_eq!(
        pods,
        [("redis-0", true), ("redis-1", true), ("redis-2", true)]
    );
    let claims: Vec<_> = result
        .final_state
        .persistent_volume_claims
        .iter()
        .map(|c| (c.name.as_str(), c.phase.as_str()))
        .collect();
    assert_eq!(
        claims,
        [
            ("redis-data-redis-0", "Bound"),
            ("redis-data-redis-1", "Bound"),
            ("redis-data-redis-2", "Bound")
        ]
    );
    assert_eq!(result.counts.warnings, 0);
    // OrderedReady: each pod is created only after its predecessor became Ready.
    let created: Vec<_> = result
        .timeline
        .iter()
        .filter(|l| l.reason == "SuccessfulCreate" && l.message.starts_with("create Pod"))
        .map(|l| l.at)
        .collect();
    assert_eq!(created.len(), 3);
    assert!(created.windows(2).all(|w| w[1] > w[0]));
}

#[test]
fn statefulset_basics_ends_at_the_new_revision_with_five_claims() {
    let result = run(&bundled("statefulset-basics"));
    let set = &result.final_state.stateful_sets[0];
    assert_eq!(set.replicas, 3);
    assert_eq!(set.ready_replicas, 3);
    assert_eq!(set.updated_replicas, 3);
    assert_eq!(set.current_revision, set.update_revision);
    assert!(
        result
            .final_state
            .pods
            .iter()
            .all(|p| p.revision == set.update_revision && p.ready)
    );
    assert_eq!(
        result.final_state.persistent_volume_claims.len(),
        5,
        "scale-down keeps claims (Retain)"
    );
    // Scale-down deletes web-4 before web-3; the rollout deletes web-2, web-1, web-0 in turn.
    let deletes: Vec<_> = result
        .timeline
        .iter()
        .filter(|l| l.reason == "SuccessfulDelete")
        .map(|l| l.message.split_whitespace().nth(2).unwrap().to_string())
        .collect();
    assert_eq!(deletes, ["web-4", "web-3", "web-2", "web-1", "web-0"]);
}
