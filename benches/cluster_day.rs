//! Issue 5's speed target: a 300-node, 3-zone cluster with 100 StatefulSets of 3 replicas
//! (one pod per zone), through 24 simulated hours with zone-a powered off for an hour
//! (2h–3h), trace discarded (as `stsim run --quiet` without `--trace-heartbeats` writes no
//! heartbeat lines). Target: under 2 s wall (release). The scenario is generated here
//! rather than bundled: 100 StatefulSet manifests make a poor example file.
//!
//! Run: `cargo bench --bench cluster_day` (one iteration takes seconds: 3 samples).

use std::fmt::Write;
use std::path::Path;
use stsim::scenario::{self, Scenario};
use stsim::sim::{RunOptions, Simulation};

fn main() {
    divan::main();
}

/// The scenario text: 3 zones × 100 nodes, `sets` StatefulSets, `hours` simulated.
pub fn cluster_day(sets: usize, hours: u32) -> Scenario {
    let mut t = String::new();
    writeln!(
        t,
        "apiVersion: stsim/v1alpha1
kind: Scenario
metadata: {{ name: cluster-day }}
spec:
  seed: 1
  duration: {hours}h
  kubernetesVersion: \"1.36\"
  cluster:
    zones:"
    )
    .unwrap();
    for z in ["zone-a", "zone-b", "zone-c"] {
        writeln!(
            t,
            "      - name: {z}
        nodePools:
          - {{ name: worker, count: 100, capacity: {{ cpu: \"16\", memory: 64Gi }} }}"
        )
        .unwrap();
    }
    t.push_str(
        "  images:
    - { image: app:1, pullTime: { median: 3s, sigma: 0.3 } }
  manifests:\n",
    );
    for i in 0..sets {
        writeln!(
            t,
            "    - apiVersion: apps/v1
      kind: StatefulSet
      metadata: {{ name: app{i} }}
      spec:
        serviceName: app{i}
        replicas: 3
        podManagementPolicy: Parallel
        selector: {{ matchLabels: {{ app: app{i} }} }}
        template:
          metadata: {{ labels: {{ app: app{i} }} }}
          spec:
            topologySpreadConstraints:
              - {{ maxSkew: 1, topologyKey: topology.kubernetes.io/zone, whenUnsatisfiable: DoNotSchedule, labelSelector: {{ matchLabels: {{ app: app{i} }} }} }}
            containers:
              - name: app
                image: app:1
                resources: {{ requests: {{ cpu: 500m, memory: 1Gi }} }}
                readinessProbe: {{ tcpSocket: {{ port: 80 }}, periodSeconds: 10 }}"
        )
        .unwrap();
    }
    t.push_str(
        "  faults:
    - { at: 2h, duration: 1h, zoneOutage: { zone: zone-a, kind: power } }\n",
    );
    scenario::load_str(&t, Path::new("cluster-day.yaml")).expect("the generated scenario is valid")
}

#[divan::bench(sample_count = 3)]
fn cluster_day_300_nodes_100_sets_24h_zone_outage(bencher: divan::Bencher) {
    let scenario = cluster_day(100, 24);
    bencher.bench_local(|| {
        let mut opts = RunOptions::for_scenario(&scenario);
        opts.keep_timeline = false;
        divan::black_box(Simulation::new(&scenario, opts).run().counts.events)
    });
}
