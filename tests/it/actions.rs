//! Operator actions and run budgets, end to end on small inline scenarios.

use crate::harness::run;
use std::path::Path;
use stsim::scenario;
use stsim::sim::{RunOptions, Simulation, StopReason};

fn scenario_with(actions: &str, duration: &str) -> scenario::Scenario {
    let text = format!(
        "apiVersion: stsim/v1alpha1
kind: Scenario
metadata: {{ name: actions }}
spec:
  duration: {duration}
  cluster:
    zones:
      - name: a
        nodePools: [ {{ name: w, count: 2, capacity: {{ cpu: \"4\", memory: 8Gi }} }} ]
  manifests:
    - apiVersion: apps/v1
      kind: StatefulSet
      metadata: {{ name: web }}
      spec:
        serviceName: web
        replicas: 2
        selector: {{ matchLabels: {{ app: web }} }}
        template:
          metadata: {{ labels: {{ app: web }} }}
          spec:
            terminationGracePeriodSeconds: 20
            containers: [ {{ name: c, image: nginx }} ]
  images:
    - {{ image: nginx, pullTime: 1s, shutdownTime: 60s }}
  actions:
{actions}"
    );
    scenario::load_str(&text, Path::new("inline.yaml")).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn graceful_delete_waits_for_the_grace_period_and_force_delete_does_not() {
    // The image ignores SIGTERM for 60 s, so the 20 s grace period ends it with SIGKILL.
    let s = scenario_with(
        "    - { at: 1m, kubectl: delete pod web-1 }\n    - { at: 5m, kubectl: delete pod web-0 --force --grace-period=0 }",
        "10m",
    );
    let r = run(&s);
    let line = |needle: &str| {
        r.timeline
            .iter()
            .find(|l| l.message.contains(needle))
            .map(|l| l.at.as_millis())
    };
    let deleted = line("pod \"web-1\" deleted").expect("kubectl reports the delete");
    let recreated = r
        .timeline
        .iter()
        .filter(|l| {
            l.message
                .starts_with("create Pod web-1 in StatefulSet web successful")
        })
        .nth(1)
        .map(|l| l.at.as_millis())
        .expect("web-1 comes back");
    let waited = recreated - deleted;
    assert!(
        (20_000..21_000).contains(&waited),
        "web-1 is replaced once its 20 s grace period ends ({waited} ms)"
    );
    let forced = line("pod \"web-0\" force deleted").unwrap();
    let back = r
        .timeline
        .iter()
        .filter(|l| {
            l.message
                .starts_with("create Pod web-0 in StatefulSet web successful")
        })
        .nth(1)
        .map(|l| l.at.as_millis())
        .unwrap();
    assert!(
        back - forced < 100,
        "a force-deleted pod is replaced at once ({} ms)",
        back - forced
    );
    assert_eq!(r.final_state.stateful_sets[0].ready_replicas, 2);
}

#[test]
fn cordon_keeps_new_pods_off_the_node_and_errors_are_reported_not_fatal() {
    let s = scenario_with(
        "    - { at: 1m, kubectl: cordon w-a-1 }\n    - { at: 1m, kubectl: cordon w-a-2 }\n    - { at: 2m, kubectl: scale statefulset web --replicas=3 }\n    - { at: 3m, kubectl: scale statefulset nope --replicas=3 }\n    - { at: 4m, kubectl: uncordon w-a-2 }",
        "10m",
    );
    let r = run(&s);
    let failed: Vec<_> = r
        .timeline
        .iter()
        .filter(|l| l.reason == "FailedScheduling")
        .collect();
    assert!(!failed.is_empty());
    assert!(
        failed[0]
            .message
            .starts_with("0/2 nodes are available: 2 node(s) were unschedulable."),
        "{}",
        failed[0].message
    );
    assert!(
        r.timeline
            .iter()
            .any(|l| l.message.contains("statefulsets.apps \"nope\" not found"))
    );
    let web2 = r
        .final_state
        .pods
        .iter()
        .find(|p| p.name == "web-2")
        .expect("web-2 exists");
    assert_eq!(web2.node, "w-a-2", "scheduled once w-a-2 was uncordoned");
    assert!(web2.ready);
}

#[test]
fn event_budget_ends_a_run_with_a_stated_reason() {
    let s = scenario_with("    []", "1h");
    let mut opts = RunOptions::for_scenario(&s);
    opts.budgets.max_events = 25;
    let r = Simulation::new(&s, opts).run();
    assert_eq!(r.stop, StopReason::EventBudget { max_events: 25 });
    assert_eq!(r.counts.events, 25);
    assert!(r.to_json().contains("\"outcome\": \"budgetExhausted\""));
}
