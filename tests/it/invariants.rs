//! Invariant checks end to end: a force delete that leaves two live instances of one pod
//! is reported (exit code 3, result.json, summary), a container crash is not a violation,
//! and no bundled scenario violates anything.

use crate::harness::{repo_path, run};
use std::path::Path;
use std::process::Command;
use stsim::api::ObjectKey;
use stsim::scenario;
use stsim::sim::{RunOptions, Simulation};
use stsim::time::{SimDuration, SimTime};

/// One StatefulSet pod `web-0` on two nodes. `w-a-2` is cordoned first, so web-0 lands on
/// `w-a-1`; at 1 min the operator swaps the cordon and force-deletes web-0, whose image
/// ignores SIGTERM for 60 s (the 30 s grace period ends it with SIGKILL). The replacement
/// starts on w-a-2 a few seconds later, while the old container still runs on w-a-1.
const CLUSTER: &str = "apiVersion: stsim/v1alpha1
kind: Scenario
metadata: { name: force-delete-split-brain }
spec:
  duration: 3m
  cluster:
    zones:
      - name: a
        nodePools: [ { name: w, count: 2, capacity: { cpu: \"4\", memory: 8Gi } } ]
  images:
    - { image: db, pullTime: 1s, shutdownTime: 60s }
  manifests:
    - apiVersion: apps/v1
      kind: StatefulSet
      metadata: { name: web }
      spec:
        serviceName: web
        replicas: 1
        selector: { matchLabels: { app: web } }
        template:
          metadata: { labels: { app: web } }
          spec:
            containers: [ { name: db, image: db } ]
";
const FORCE_DELETE_ACTIONS: &str = "  actions:
    - { at: 0s, kubectl: cordon w-a-2 }
    - { at: 1m, kubectl: uncordon w-a-2 }
    - { at: 1m, kubectl: cordon w-a-1 }
    - { at: 1m, kubectl: delete pod web-0 --force --grace-period=0 }
";

#[test]
fn force_delete_while_the_old_container_runs_is_a_finding_with_exit_code_3() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("force-delete.yaml");
    std::fs::write(&file, format!("{CLUSTER}{FORCE_DELETE_ACTIONS}")).unwrap();
    let out = dir.path().join("out");
    let o = Command::new(env!("CARGO_BIN_EXE_stsim"))
        .args(["run", file.to_str().unwrap(), "--quiet", "--out"])
        .arg(&out)
        .output()
        .expect("stsim runs");
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert_eq!(
        o.status.code(),
        Some(3),
        "{stdout}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        stdout.contains("VIOLATION two-live-instances: default/web-0 runs on w-a-1 (uid "),
        "{stdout}"
    );

    let result: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("result.json")).unwrap()).unwrap();
    let findings = result["findings"].as_array().expect("a list");
    assert_eq!(findings.len(), 1, "one episode, one finding: {findings:?}");
    let f = &findings[0];
    assert_eq!(f["invariant"], "two-live-instances");
    let message = f["message"].as_str().unwrap();
    assert!(
        message.starts_with("default/web-0 runs on w-a-1 (uid ")
            && message.contains(") and w-a-2 (uid ")
            && message.ends_with(") at once"),
        "{message}"
    );
    // After the force delete at 1 min, before the old container's SIGKILL at 1 min 30 s.
    let t_us = f["tUs"].as_u64().unwrap();
    assert!((60_000_000..90_000_000).contains(&t_us), "{t_us}");
}

#[test]
fn a_replacement_beside_the_old_container_on_the_same_node_is_a_finding_too() {
    // Upstream's kubelet starts a non-static pod even while another pod of the same name
    // (another uid) still stops on the node (`podWorkers.allowPodStart`), so a force
    // delete on a one-node cluster runs two instances side by side.
    let text = format!(
        "{}  actions:\n    - {{ at: 1m, kubectl: delete pod web-0 --force --grace-period=0 }}\n",
        CLUSTER.replace("count: 2", "count: 1")
    );
    let s = scenario::load_str(&text, Path::new("inline.yaml")).unwrap();
    let r = run(&s);
    let messages: Vec<_> = r.findings.iter().map(|f| f.message.as_str()).collect();
    assert_eq!(messages.len(), 1, "{messages:?}");
    assert!(
        messages[0].starts_with("default/web-0 runs twice on w-a-1 (uid "),
        "{messages:?}"
    );
    assert_eq!(r.exit_code(), 3);
}

#[test]
fn the_same_force_delete_with_a_fast_stopping_image_is_no_finding() {
    let text = format!("{CLUSTER}{FORCE_DELETE_ACTIONS}").replace("60s", "100ms");
    let s = scenario::load_str(&text, Path::new("inline.yaml")).unwrap();
    let r = run(&s);
    assert!(r.findings.is_empty(), "{:?}", r.findings);
    assert_eq!(r.exit_code(), 0);
}

#[test]
fn a_crashed_container_is_restarted_and_violates_nothing() {
    let s = scenario::load_str(CLUSTER, Path::new("inline.yaml")).unwrap();
    let mut sim = Simulation::new(&s, RunOptions::for_scenario(&s));
    let web0 = ObjectKey::new("default", "web-0");
    let ready = |sim: &Simulation| {
        sim.api()
            .objects()
            .pods
            .get(&web0)
            .is_some_and(|p| p.is_ready())
    };
    sim.run_until(SimTime::ZERO + SimDuration::from_secs(30));
    assert!(ready(&sim));
    assert!(sim.fail_container(&web0), "web-0 runs");
    sim.run_for(SimDuration::from_millis(100));
    assert!(!ready(&sim), "the crash makes the pod not Ready");
    let pod = &sim.api().objects().pods[&web0];
    assert_eq!(pod.status.container_statuses[0].restart_count, 0);
    sim.run_for(SimDuration::from_secs(60));
    assert!(ready(&sim), "restarted and Ready again");
    let pod = &sim.api().objects().pods[&web0];
    assert_eq!(pod.status.container_statuses[0].restart_count, 1);
    assert!(!sim.fail_container(&ObjectKey::new("default", "nope")));
    let r = sim.into_result();
    assert!(r.findings.is_empty(), "{:?}", r.findings);
}

#[test]
fn no_bundled_scenario_violates_an_invariant() {
    let mut files: Vec<_> = std::fs::read_dir(repo_path("scenarios"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    assert!(!files.is_empty());
    for file in files {
        let stem = file.file_stem().unwrap().to_string_lossy().into_owned();
        // Those that exist to show a violation are checked for it in `scenarios.rs`.
        if crate::scenarios::EXPECTED_FINDINGS.contains(&stem.as_str()) {
            continue;
        }
        let s = scenario::load(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        let r = run(&s);
        assert!(
            r.findings.is_empty(),
            "{}: {:#?}",
            file.display(),
            r.findings
        );
    }
}
