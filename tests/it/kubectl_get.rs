//! The read-only kubectl commands (`get`, `describe pod`) as teaching aids: what they print
//! at a simulated moment, and that printing it changes nothing in the run.

use crate::harness::{bundled, run, run_with_trace};
use std::path::Path;
use stsim::scenario;

fn output_of<'a>(r: &'a stsim::sim::RunResult, command: &str) -> &'a str {
    r.timeline
        .iter()
        .find(|l| l.type_ == "Action" && l.message.starts_with(&format!("kubectl {command}")))
        .map(|l| l.message.as_str())
        .unwrap_or_else(|| panic!("no output of {command}"))
}

#[test]
fn node_crash_shows_the_stuck_pod_as_kubectl_would() {
    let r = run(&bundled("node-crash"));
    let pods = output_of(&r, "get pods -o wide");
    let lines: Vec<&str> = pods.lines().collect();
    assert_eq!(lines[0], "kubectl get pods -o wide");
    assert!(lines[1].starts_with("NAME     READY   STATUS        RESTARTS   AGE   IP "));
    let etcd0: Vec<&str> = lines[2].split_whitespace().collect();
    assert_eq!(
        (etcd0[0], etcd0[1], etcd0[2], etcd0[4], etcd0[6]),
        ("etcd-0", "1/1", "Terminating", "12m", "worker-zone-c-1")
    );
    for line in &lines[3..] {
        assert!(line.contains(" Running "), "{line}");
    }

    let describe = output_of(&r, "describe pod etcd-0");
    for needle in [
        "Name:                      etcd-0",
        "Status:                    Terminating (lasts 35s)",
        "Termination Grace Period:  30s",
        "Controlled By:  StatefulSet/etcd",
        "ClaimName:   data-etcd-0",
        "node.kubernetes.io/unreachable:NoExecute op=Exists for 300s",
        "Warning  NodeNotReady",
    ] {
        assert!(
            describe.contains(needle),
            "{needle:?} missing in\n{describe}"
        );
    }
    // Events are listed oldest first; the scheduler's comes before the kubelet's.
    let scheduled = describe.find("Normal   Scheduled").unwrap();
    let started = describe.find("Normal   Started").unwrap();
    assert!(scheduled < started);
}

#[test]
fn reading_the_cluster_changes_nothing_in_the_run() {
    let with = bundled("node-crash");
    let mut without = with.clone();
    without
        .actions
        .retain(|a| !a.text.starts_with("get") && !a.text.starts_with("describe"));
    assert_eq!(with.actions.len(), without.actions.len() + 2);
    let strip = |trace: &[u8]| -> Vec<String> {
        String::from_utf8_lossy(trace)
            .lines()
            .filter(|l| !l.contains("\"type\":\"action\""))
            .map(|l| l.split_once(',').map_or(l, |(_, rest)| rest).to_string())
            .collect()
    };
    let (a, ta) = run_with_trace(&with, 1);
    let (b, tb) = run_with_trace(&without, 1);
    assert_eq!(
        strip(&ta),
        strip(&tb),
        "the trace differs only by the action lines"
    );
    assert_eq!(a.counts.events, b.counts.events + 2);
    let state = |r: &stsim::sim::RunResult| serde_json::to_string(&r.final_state).unwrap();
    assert_eq!(state(&a), state(&b));
}

#[test]
fn get_during_an_api_server_outage_fails_as_kubectl_does() {
    let text = "apiVersion: stsim/v1alpha1
kind: Scenario
metadata: { name: outage-get }
spec:
  duration: 5m
  cluster:
    zones:
      - name: a
        nodePools: [ { name: w, count: 1, capacity: { cpu: \"4\", memory: 8Gi } } ]
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
            containers: [ { name: c, image: nginx } ]
  actions:
    - { at: 1m, kubectl: get sts }
    - { at: 3m, kubectl: get sts }
    - { at: 3m, kubectl: describe pod web-9 }
  faults:
    - { at: 2m, duration: 2m, apiServerOutage: {} }
";
    let s = scenario::load_str(text, Path::new("outage-get.yaml")).unwrap();
    let r = run(&s);
    let outputs: Vec<&str> = r
        .timeline
        .iter()
        .filter(|l| l.type_ == "Action")
        .map(|l| l.message.as_str())
        .collect();
    assert_eq!(outputs.len(), 3);
    assert!(outputs[0].ends_with("web    1/1     60s"), "{}", outputs[0]);
    assert!(outputs[1].contains("i/o timeout"), "{}", outputs[1]);
    assert!(outputs[2].contains("i/o timeout"), "{}", outputs[2]);
}
