//! Storage capacity tracking end to end (issue 4, item 4): a driver with
//! `storageCapacity: true` and `capacityPerZone` gets CSIStorageCapacity objects per zone
//! from the external-provisioner's capacity controller, and the scheduler's VolumeBinding
//! plugin keeps a WaitForFirstConsumer pod off nodes whose zone has too little room
//! (`node(s) did not have enough free storage`), until capacity is there.

use std::path::Path;
use stsim::api::{CSIStorageCapacity, ObjectKey, Pod};
use stsim::scenario::{self, Scenario};
use stsim::sim::{RunOptions, Simulation};
use stsim::time::SimTime;

const NOT_ENOUGH: &str = "node(s) did not have enough free storage";

/// Two zones of one node each, EBS publishing `per_zone` per zone, a WFFC class `gp3` and
/// a StatefulSet `web` of `replicas` pods with a 10Gi claim each (OrderedReady).
fn scenario(zones: &[&str], per_zone: &str, replicas: u32, faults: &str) -> Scenario {
    let mut s = String::from(
        "apiVersion: stsim/v1alpha1\nkind: Scenario\nmetadata: { name: capacity }\nspec:\n  seed: 1\n  duration: 10m\n  cluster:\n    zones:\n",
    );
    for z in zones {
        s.push_str(&format!(
            "      - name: {z}\n        nodePools: [ {{ name: w, count: 1, capacity: {{ cpu: \"8\", memory: 32Gi }} }} ]\n"
        ));
    }
    s.push_str(&format!(
        "  storage:
    drivers:
      - name: ebs.csi.aws.com
        provisionTime: 1s
        storageCapacity: true
        capacityPerZone: {per_zone}
  manifests:
    - apiVersion: storage.k8s.io/v1
      kind: StorageClass
      metadata: {{ name: gp3 }}
      provisioner: ebs.csi.aws.com
      volumeBindingMode: WaitForFirstConsumer
    - apiVersion: apps/v1
      kind: StatefulSet
      metadata: {{ name: web }}
      spec:
        serviceName: web
        replicas: {replicas}
        selector: {{ matchLabels: {{ app: web }} }}
        template:
          metadata: {{ labels: {{ app: web }} }}
          spec:
            containers: [ {{ name: c, image: nginx }} ]
        volumeClaimTemplates:
          - metadata: {{ name: data }}
            spec: {{ storageClassName: gp3, accessModes: [ReadWriteOnce], resources: {{ requests: {{ storage: 10Gi }} }} }}
"
    ));
    if !faults.is_empty() {
        s.push_str("  faults:\n");
        s.push_str(faults);
    }
    scenario::load_str(&s, Path::new("inline.yaml")).unwrap_or_else(|e| panic!("{e}\n{s}"))
}

fn until(sim: &mut Simulation, secs: u64) {
    sim.run_until(SimTime::ZERO + stsim::time::SimDuration::from_secs(secs));
}

fn node_of(sim: &Simulation, pod: &str) -> Option<String> {
    sim.api()
        .get::<Pod>(&ObjectKey::new("default", pod))
        .map(|p| p.spec.node_name.clone())
        .filter(|n| !n.is_empty())
}

fn capacity(sim: &Simulation, name: &str) -> Option<String> {
    sim.api()
        .get::<CSIStorageCapacity>(&ObjectKey::new("kube-system", name))
        .and_then(|c| c.capacity.as_ref().map(|q| q.0.clone()))
}

fn failed_scheduling(sim: Simulation) -> Vec<String> {
    sim.into_result()
        .timeline
        .iter()
        .filter(|l| l.reason == "FailedScheduling")
        .map(|l| l.message.clone())
        .collect()
}

#[test]
fn a_pod_waits_for_a_zone_with_room_for_its_claim() {
    let s = scenario(&["zone-a", "zone-b"], "5Gi", 1, "");
    let mut sim = Simulation::new(&s, RunOptions::for_scenario(&s));
    until(&mut sim, 60);
    assert_eq!(capacity(&sim, "csisc-gp3-zone-a").as_deref(), Some("5Gi"));
    assert_eq!(node_of(&sim, "web-0"), None);
    let msgs = failed_scheduling(sim);
    assert!(
        msgs.iter()
            .any(|m| m == &format!("0/2 nodes are available: 2 {NOT_ENOUGH}.")),
        "{msgs:?}"
    );
}

#[test]
fn the_pod_schedules_once_the_exhausted_zones_have_capacity_again() {
    let faults = "    - at: 0s\n      duration: 2m\n      zoneCapacityExhausted: { zone: zone-a }\n    - at: 0s\n      duration: 2m\n      zoneCapacityExhausted: { zone: zone-b }\n";
    let s = scenario(&["zone-a", "zone-b"], "100Gi", 1, faults);
    let mut sim = Simulation::new(&s, RunOptions::for_scenario(&s));
    until(&mut sim, 110);
    assert_eq!(capacity(&sim, "csisc-gp3-zone-b").as_deref(), Some("0"));
    assert_eq!(node_of(&sim, "web-0"), None);
    until(&mut sim, 240);
    let node = node_of(&sim, "web-0").expect("scheduled once the zones have room");
    // The zone that got the volume has 10Gi less.
    let zone = node
        .trim_start_matches("w-")
        .trim_end_matches("-1")
        .to_string();
    assert_eq!(
        capacity(&sim, &format!("csisc-gp3-{zone}")).as_deref(),
        Some("90Gi")
    );
    let msgs = failed_scheduling(sim);
    assert!(
        msgs.iter()
            .any(|m| m == &format!("0/2 nodes are available: 2 {NOT_ENOUGH}.")),
        "{msgs:?}"
    );
}

#[test]
fn provisioned_volumes_use_up_a_zone() {
    // One zone with room for one 10Gi volume: web-0 gets it, web-1 finds 5Gi left.
    let s = scenario(&["zone-a"], "15Gi", 2, "");
    let mut sim = Simulation::new(&s, RunOptions::for_scenario(&s));
    until(&mut sim, 300);
    assert_eq!(node_of(&sim, "web-0").as_deref(), Some("w-zone-a-1"));
    assert_eq!(node_of(&sim, "web-1"), None);
    assert_eq!(capacity(&sim, "csisc-gp3-zone-a").as_deref(), Some("5Gi"));
    let msgs = failed_scheduling(sim);
    assert!(
        msgs.iter()
            .any(|m| m == &format!("0/1 nodes are available: 1 {NOT_ENOUGH}.")),
        "{msgs:?}"
    );
}
