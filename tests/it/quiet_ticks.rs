//! Probe ticks that change nothing outside their probe worker are done in place by the
//! engine (`Simulation::run_until`, `NodeAgents::quiet_probe`), and a worker whose ticks
//! can change nothing any more is parked, its ticks left out of the queue until something
//! it reads changes (`kubelet::parking`). This pins that both shortcuts are invisible:
//! with neither, with quiet ticks only and with parking too, the same scenario — probes
//! below their success threshold, an initial delay, startup probes, two probed
//! containers in one pod, a never-ready image whose probe fails at every tick, a stopped
//! kubelet, a crashed node and crashed containers whose readiness must be earned again —
//! gives the same trace bytes, the same result and the same Ready instants.

use crate::harness::SharedBuf;
use std::path::Path;
use stsim::api::ObjectKey;
use stsim::scenario;
use stsim::sim::{RunOptions, Simulation};
use stsim::time::{SimDuration, SimTime};

const SCENARIO: &str = "apiVersion: stsim/v1alpha1
kind: Scenario
metadata: { name: quiet-ticks }
spec:
  duration: 20m
  cluster:
    zones:
      - name: a
        nodePools: [ { name: w, count: 3, capacity: { cpu: \"4\", memory: 8Gi } } ]
  images:
    - { image: db, pullTime: 1s, shutdownTime: 1s }
    - { image: stuck, pullTime: 1s, shutdownTime: 1s, behavior: neverReady }
  manifests:
    - apiVersion: apps/v1
      kind: StatefulSet
      metadata: { name: web }
      spec:
        serviceName: web
        replicas: 3
        podManagementPolicy: Parallel
        selector: { matchLabels: { app: web } }
        template:
          metadata: { labels: { app: web } }
          spec:
            containers:
              - name: db
                image: db
                readinessProbe: { tcpSocket: { port: 80 }, periodSeconds: 10, successThreshold: 2, initialDelaySeconds: 5 }
                startupProbe: { tcpSocket: { port: 80 }, periodSeconds: 3, failureThreshold: 30 }
    - apiVersion: apps/v1
      kind: StatefulSet
      metadata: { name: pair }
      spec:
        serviceName: pair
        replicas: 2
        podManagementPolicy: Parallel
        selector: { matchLabels: { app: pair } }
        template:
          metadata: { labels: { app: pair } }
          spec:
            containers:
              - name: a
                image: db
                readinessProbe: { httpGet: { path: /, port: 80 }, periodSeconds: 10 }
              - name: b
                image: db
                readinessProbe: { httpGet: { path: /, port: 81 }, periodSeconds: 10 }
    - apiVersion: apps/v1
      kind: StatefulSet
      metadata: { name: stuck }
      spec:
        serviceName: stuck
        replicas: 1
        selector: { matchLabels: { app: stuck } }
        template:
          metadata: { labels: { app: stuck } }
          spec:
            containers:
              - name: s
                image: stuck
                readinessProbe: { httpGet: { path: /, port: 80 }, periodSeconds: 7 }
  faults:
    - { at: 8m, duration: 1m, kubeletStop: { node: w-a-2 } }
    - { at: 15m, duration: 3m, nodeCrash: { node: w-a-1 } }
";

/// What one run gave: trace bytes, event count, quiet ticks taken, workers parked, and
/// the instants at which web-0 turned Ready after each of its two container crashes.
struct Outcome {
    trace: Vec<u8>,
    events: u64,
    quiet: u64,
    parked: u64,
    ready_again: Vec<SimTime>,
}

fn run(quiet: bool, park: bool) -> Outcome {
    let s = scenario::load_str(SCENARIO, Path::new("inline.yaml")).unwrap();
    let buf = SharedBuf::default();
    let mut opts = RunOptions::for_scenario(&s);
    opts.trace = Some(Box::new(buf.clone()));
    let mut sim = Simulation::new(&s, opts);
    sim.set_quiet_ticks(quiet);
    sim.set_park_tickers(park);
    let web0 = ObjectKey::new("default", "web-0");
    let ready = |sim: &Simulation| {
        sim.api()
            .objects()
            .pods
            .get(&web0)
            .is_some_and(|p| p.is_ready())
    };
    let mut ready_again = Vec::new();
    for crash_at in [3 * 60, 12 * 60] {
        sim.run_until(SimTime::ZERO + SimDuration::from_secs(crash_at));
        assert!(
            ready(&sim),
            "web-0 is Ready before the crash at {crash_at} s"
        );
        assert!(sim.fail_container(&web0), "web-0 runs");
        // A millisecond at a time, to see the very instant it is Ready again.
        let mut steps = 0;
        while !ready(&sim) {
            sim.run_for(SimDuration::from_millis(1));
            steps += 1;
            assert!(steps < 300_000, "web-0 Ready again within 5 min");
        }
        ready_again.push(sim.now());
    }
    // On through the node crash to the end.
    sim.run_until(SimTime::ZERO + SimDuration::from_secs(20 * 60));
    let quiet_done = sim.quiet_ticks();
    let parked = sim.parked_tickers();
    let result = sim.into_result();
    assert!(result.findings.is_empty(), "{:?}", result.findings);
    let trace = buf.0.borrow().clone();
    Outcome {
        trace,
        events: result.counts.events,
        quiet: quiet_done,
        parked,
        ready_again,
    }
}

#[test]
fn quiet_probe_ticks_and_parked_tickers_change_nothing_a_run_shows() {
    let full = run(false, false);
    let quiet = run(true, false);
    let parked = run(true, true);
    assert_eq!(full.quiet, 0);
    assert!(
        quiet.quiet > 100,
        "the shortcut was taken ({} times)",
        quiet.quiet
    );
    assert_eq!(quiet.parked, 0);
    assert_eq!(
        quiet.events, full.events,
        "every quiet tick is still an event"
    );
    assert!(
        parked.parked > 10,
        "workers were parked ({} times)",
        parked.parked
    );
    assert!(
        parked.events + 500 < quiet.events,
        "parked tickers leave ticks out: {} events, {} without parking",
        parked.events,
        quiet.events
    );
    assert_eq!(quiet.ready_again, full.ready_again);
    assert_eq!(parked.ready_again, full.ready_again);
    assert!(
        quiet.trace == full.trace,
        "the trace differs with quiet probe ticks"
    );
    assert!(
        parked.trace == full.trace,
        "the trace differs with parked probe tickers"
    );
}

/// The bundled failure scenarios (crashes, partitions, outages, rollouts, drains, apps
/// with probes) give the same trace bytes and the same result with parked probe tickers
/// as without; only the engine's event count differs. A guard for the keyed tick order
/// and the quiet-point checks over many shapes of run: in these scenarios a released
/// ticker's next ticks are quiet again, so the release itself is pinned by the test
/// above, whose containers crash and must earn their readiness again.
#[test]
fn bundled_scenarios_are_the_same_with_parked_tickers() {
    let mut parked_total = 0;
    for name in [
        "node-crash",
        "node-crash-out-of-service",
        "az-outage",
        "network-partition",
        "partitioned-rollout",
        "forced-rollback",
        "primary-failover",
        "quorum-loss",
        "zookeeper-drain",
    ] {
        let s = crate::harness::bundled(name);
        let run = |park: bool| {
            let buf = SharedBuf::default();
            let mut opts = RunOptions::for_scenario(&s);
            opts.seed = 11;
            opts.trace = Some(Box::new(buf.clone()));
            let mut sim = Simulation::new(&s, opts);
            sim.set_park_tickers(park);
            let end = SimTime::ZERO + s.duration;
            sim.run_until(end);
            let parked = sim.parked_tickers();
            let mut result = sim.into_result();
            let events = result.counts.events;
            result.counts.events = 0;
            let trace = buf.0.borrow().clone();
            (trace, result.to_json(), events, parked)
        };
        let (trace_p, result_p, events_p, parked) = run(true);
        let (trace_f, result_f, events_f, none) = run(false);
        assert_eq!(none, 0);
        assert!(
            trace_p == trace_f,
            "{name}: the trace differs with parked tickers"
        );
        assert_eq!(result_p, result_f, "{name}: the result differs");
        assert!(
            events_p <= events_f,
            "{name}: {events_p} events, {events_f} without"
        );
        parked_total += parked;
    }
    // Each probe worker parks once it is settled, and again after each release.
    assert!(
        parked_total > 20,
        "tickers were parked ({parked_total} times)"
    );
}
