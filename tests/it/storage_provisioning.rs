//! Provisioning and binding end to end (issue 4, items 1–4, 6–8): StorageClasses and their
//! binding modes, the PV controller, the external-provisioner, the scheduler's volume
//! plugins, reclaim, expansion, the provisioning faults and the storage-deletion findings,
//! on small inline scenarios: a cluster of `zones` × one node (`w-zone-a-1`, ...), the
//! `aws-ebs` driver with round timings (provision 1 s, delete 1 s) unless a test says
//! otherwise, and the manifests, faults and actions of the test.

use crate::harness::{SharedBuf, trace_lines};
use serde_json::Value;
use std::path::Path;
use stsim::api::{CSINode, Node, ObjectKey, PersistentVolume, PersistentVolumeClaim};
use stsim::report::timeline::TimelineLine;
use stsim::scenario::{self, Scenario};
use stsim::sim::{RunOptions, RunResult, Simulation};
use stsim::time::{SimDuration, SimTime};

const EBS: &str = "ebs.csi.aws.com";

struct Parts<'a> {
    zones: &'a [&'a str],
    duration: &'a str,
    /// Extra `key: value` lines of the EBS driver (10-space indent added).
    driver: &'a str,
    manifests: &'a str,
    faults: &'a str,
    actions: &'a str,
}

impl Default for Parts<'_> {
    fn default() -> Self {
        Parts {
            zones: &["zone-a", "zone-b"],
            duration: "10m",
            driver: "",
            manifests: "",
            faults: "",
            actions: "",
        }
    }
}

fn text(p: &Parts) -> String {
    let mut s = format!(
        "apiVersion: stsim/v1alpha1\nkind: Scenario\nmetadata: {{ name: storage }}\nspec:\n  seed: 1\n  duration: {}\n  cluster:\n    zones:\n",
        p.duration
    );
    for z in p.zones {
        s.push_str(&format!(
            "      - name: {z}\n        nodePools: [ {{ name: w, count: 1, capacity: {{ cpu: \"8\", memory: 32Gi }} }} ]\n"
        ));
    }
    s.push_str(&format!("  storage:\n    drivers:\n      - name: {EBS}\n"));
    let own: Vec<&str> = p.driver.lines().filter(|l| !l.trim().is_empty()).collect();
    for default in ["provisionTime: 1s", "deleteTime: 1s"] {
        let key = default.split(':').next().unwrap();
        if !own.iter().any(|l| l.trim().starts_with(key)) {
            s.push_str(&format!("        {default}\n"));
        }
    }
    for line in own {
        s.push_str(&format!("        {}\n", line.trim()));
    }
    s.push_str("  manifests:\n");
    s.push_str(p.manifests);
    if !p.faults.is_empty() {
        s.push_str("  faults:\n");
        s.push_str(p.faults);
    }
    if !p.actions.is_empty() {
        s.push_str("  actions:\n");
        s.push_str(p.actions);
    }
    s
}

fn scenario(p: &Parts) -> Scenario {
    let t = text(p);
    scenario::load_str(&t, Path::new("inline.yaml")).unwrap_or_else(|e| panic!("{e}\n{t}"))
}

/// A StorageClass of the EBS driver (4-space list item).
fn class(name: &str, mode: &str, extra: &str) -> String {
    format!(
        "    - apiVersion: storage.k8s.io/v1\n      kind: StorageClass\n      metadata: {{ name: {name} }}\n      provisioner: {EBS}\n      volumeBindingMode: {mode}\n{extra}"
    )
}

/// A StatefulSet `web` with claim template `data` of `class` (4-space list item).
fn web(replicas: u32, class: &str, pod_extra: &str) -> String {
    format!(
        "    - apiVersion: apps/v1
      kind: StatefulSet
      metadata: {{ name: web }}
      spec:
        serviceName: web
        replicas: {replicas}
        podManagementPolicy: Parallel
        selector: {{ matchLabels: {{ app: web }} }}
        template:
          metadata: {{ labels: {{ app: web }} }}
          spec:
            containers: [ {{ name: c, image: nginx }} ]
{pod_extra}        volumeClaimTemplates:
          - metadata: {{ name: data }}
            spec: {{ storageClassName: {class}, accessModes: [ReadWriteOnce], resources: {{ requests: {{ storage: 10Gi }} }} }}
"
    )
}

/// A standalone claim (4-space list item).
fn claim(name: &str, class: &str, size: &str, modes: &str) -> String {
    format!(
        "    - apiVersion: v1\n      kind: PersistentVolumeClaim\n      metadata: {{ name: {name} }}\n      spec: {{ storageClassName: {class}, accessModes: [{modes}], resources: {{ requests: {{ storage: {size} }} }} }}\n"
    )
}

/// Pod node affinity to `zone` (for `web`'s template, 12-space indent).
fn in_zone(zone: &str) -> String {
    format!(
        "            affinity:
              nodeAffinity:
                requiredDuringSchedulingIgnoredDuringExecution:
                  nodeSelectorTerms:
                    - matchExpressions: [ {{ key: topology.kubernetes.io/zone, operator: In, values: [{zone}] }} ]
"
    )
}

struct Run {
    sim: Simulation,
    trace: SharedBuf,
}

impl Run {
    fn start(s: &Scenario) -> Run {
        let trace = SharedBuf::default();
        let mut opts = RunOptions::for_scenario(s);
        opts.trace = Some(Box::new(trace.clone()));
        Run {
            sim: Simulation::new(s, opts),
            trace,
        }
    }
    fn until(&mut self, t: &str) {
        let d = stsim::time::parse_duration(t).unwrap();
        self.sim.run_until(SimTime::ZERO + d);
    }
    fn claim(&self, name: &str) -> Option<std::rc::Rc<PersistentVolumeClaim>> {
        self.sim
            .api()
            .get::<PersistentVolumeClaim>(&ObjectKey::new("default", name))
            .cloned()
    }
    fn volume_of(&self, claim: &str) -> Option<std::rc::Rc<PersistentVolume>> {
        let c = self.claim(claim)?;
        self.sim
            .api()
            .get::<PersistentVolume>(&ObjectKey::cluster(&c.spec.volume_name))
            .cloned()
    }
    fn finish(self) -> (RunResult, Vec<Value>) {
        let result = self.sim.into_result();
        let lines = trace_lines(&self.trace.0.borrow());
        (result, lines)
    }
}

/// The Kubernetes Events of the trace with their time in seconds: (t, reason, object
/// name, message, count).
fn events(lines: &[Value]) -> Vec<(f64, String, String, String, i64)> {
    lines
        .iter()
        .filter(|l| l["type"] == "event")
        .map(|l| {
            (
                l["t_us"].as_u64().unwrap() as f64 / 1e6,
                l["reason"].as_str().unwrap().to_string(),
                l["name"].as_str().unwrap().to_string(),
                l["message"].as_str().unwrap().to_string(),
                l["count"].as_i64().unwrap(),
            )
        })
        .collect()
}

fn times_of(lines: &[Value], reason: &str) -> Vec<f64> {
    events(lines)
        .into_iter()
        .filter(|e| e.1 == reason)
        .map(|e| e.0)
        .collect()
}

fn zone_of(pv: &PersistentVolume) -> Vec<String> {
    pv.spec
        .node_affinity
        .as_ref()
        .and_then(|a| a.required.as_ref())
        .map(|s| {
            s.node_selector_terms
                .iter()
                .flat_map(|t| t.match_expressions.iter().flat_map(|e| e.values.clone()))
                .collect()
        })
        .unwrap_or_default()
}

fn timeline_has(t: &[TimelineLine], reason: &str, message_start: &str) -> bool {
    t.iter()
        .any(|l| l.reason == reason && l.message.starts_with(message_start))
}

#[test]
fn wait_for_first_consumer_provisions_in_the_zone_the_scheduler_chose() {
    let manifests = class("gp3", "WaitForFirstConsumer", "") + &web(1, "gp3", &in_zone("zone-b"));
    let s = scenario(&Parts {
        manifests: &manifests,
        ..Default::default()
    });
    let mut r = Run::start(&s);
    r.until("1m");
    let pvc = r.claim("data-web-0").unwrap();
    assert_eq!(pvc.status.phase, "Bound");
    assert_eq!(
        pvc.metadata.annotations["volume.kubernetes.io/selected-node"],
        "w-zone-b-1"
    );
    assert_eq!(
        pvc.metadata.annotations["volume.kubernetes.io/storage-provisioner"],
        EBS
    );
    let pv = r.volume_of("data-web-0").unwrap();
    assert_eq!(pv.metadata.name, format!("pvc-{}", pvc.metadata.uid));
    assert_eq!(zone_of(&pv), ["zone-b"]);
    let term = &pv
        .spec
        .node_affinity
        .as_ref()
        .unwrap()
        .required
        .as_ref()
        .unwrap()
        .node_selector_terms[0]
        .match_expressions[0];
    assert_eq!(term.key, "topology.ebs.csi.aws.com/zone");
    assert_eq!(
        pv.metadata.annotations["pv.kubernetes.io/provisioned-by"],
        EBS
    );
    assert_eq!(pv.spec.persistent_volume_reclaim_policy, "Delete");
    let csi = pv.spec.csi.as_ref().unwrap();
    assert_eq!(csi.driver, EBS);
    assert!(
        csi.volume_handle.starts_with("vol-0"),
        "{}",
        csi.volume_handle
    );
    assert!(
        pv.metadata
            .finalizers
            .contains(&"external-provisioner.volume.kubernetes.io/finalizer".to_string())
    );
    let (result, lines) = r.finish();
    let ev = events(&lines);
    let first = |reason: &str| ev.iter().find(|e| e.1 == reason).unwrap().clone();
    assert_eq!(
        first("WaitForPodScheduled").3,
        "waiting for pod web-0 to be scheduled"
    );
    assert_eq!(
        first("Provisioning").3,
        "External provisioner is provisioning volume for claim \"default/data-web-0\""
    );
    assert_eq!(
        first("ProvisioningSucceeded").3,
        format!("Successfully provisioned volume {}", pv.metadata.name)
    );
    // The pod is bound at PreBind's first poll after the claim is: polls come every second.
    let provisioned = first("ProvisioningSucceeded").0;
    let scheduled = first("Scheduled").0;
    assert!(
        scheduled > provisioned && scheduled < provisioned + 1.1,
        "{provisioned} {scheduled}"
    );
    assert_eq!(result.counts.warnings, 0);
    assert!(result.findings.is_empty());
}

#[test]
fn immediate_binding_chooses_a_zone_without_the_pod_and_can_conflict() {
    let zones = ["zone-a", "zone-b", "zone-c"];
    let manifests = class("gp3-now", "Immediate", "") + &web(3, "gp3-now", &in_zone("zone-a"));
    let s = scenario(&Parts {
        zones: &zones,
        manifests: &manifests,
        ..Default::default()
    });
    let mut r = Run::start(&s);
    r.until("2m");
    // The claims of the set are spread over the zones (hash of the set name + ordinal).
    let mut placed: Vec<String> = (0..3)
        .map(|i| zone_of(&r.volume_of(&format!("data-web-{i}")).unwrap())[0].clone())
        .collect();
    placed.sort();
    assert_eq!(placed, ["zone-a", "zone-b", "zone-c"]);
    let (result, _) = r.finish();
    let pending: Vec<&str> = result
        .final_state
        .pods
        .iter()
        .filter(|p| p.phase == "Pending")
        .map(|p| p.name.as_str())
        .collect();
    assert_eq!(pending.len(), 2, "two pods have a volume outside zone-a");
    assert!(timeline_has(
        &result.timeline,
        "FailedScheduling",
        "0/3 nodes are available: pod has unbound immediate PersistentVolumeClaims."
    ));
    assert!(timeline_has(
        &result.timeline,
        "FailedScheduling",
        "0/3 nodes are available: 1 node(s) had volume node affinity conflict, 2 node(s) didn't match Pod's node affinity/selector."
    ));
}

#[test]
fn provisioning_failures_are_retried_after_1_2_4_8_16_seconds() {
    let manifests = class("gp3", "Immediate", "") + &claim("data", "gp3", "1Gi", "ReadWriteOnce");
    let s = scenario(&Parts {
        // The `instant` profile's driver reports CreateVolume at once (EBS polls).
        driver: "profile: instant\nprovisionTime: 0s",
        manifests: &manifests,
        faults: "    - at: 0s\n      duration: 20s\n      provisioningFailure: { storageClass: gp3, message: \"InternalError: simulated outage\" }\n",
        ..Default::default()
    });
    let mut r = Run::start(&s);
    r.until("1m");
    assert_eq!(r.claim("data").unwrap().status.phase, "Bound");
    let (_, lines) = r.finish();
    let failed = times_of(&lines, "ProvisioningFailed");
    let gaps: Vec<f64> = failed.windows(2).map(|w| (w[1] - w[0]).round()).collect();
    assert_eq!(gaps, [1.0, 2.0, 4.0, 8.0], "{failed:?}");
    let ev = events(&lines);
    let f = ev.iter().find(|e| e.1 == "ProvisioningFailed").unwrap();
    assert_eq!(
        f.3,
        "failed to provision volume with StorageClass \"gp3\": rpc error: code = Internal desc = InternalError: simulated outage"
    );
    // The fault ends at 20 s; the next retry (16 s after the fifth failure) succeeds.
    let ok = times_of(&lines, "ProvisioningSucceeded");
    assert_eq!(ok.len(), 1);
    assert!(
        (ok[0] - (failed[4] + 16.0)).abs() < 0.01,
        "{ok:?} {failed:?}"
    );
}

#[test]
fn an_exhausted_zone_gives_the_node_back_to_the_scheduler() {
    let manifests = class("gp3", "WaitForFirstConsumer", "") + &web(1, "gp3", "");
    let s = scenario(&Parts {
        manifests: &manifests,
        faults: "    - at: 0s\n      duration: 10m\n      zoneCapacityExhausted: { zone: zone-a }\n",
        actions: "    - at: 0s\n      kubectl: cordon w-zone-b-1\n    - at: 30s\n      kubectl: uncordon w-zone-b-1\n",
        ..Default::default()
    });
    let mut r = Run::start(&s);
    r.until("5m");
    let pv = r.volume_of("data-web-0").expect("provisioned in the end");
    assert_eq!(zone_of(&pv), ["zone-b"]);
    let (result, lines) = r.finish();
    let ev = events(&lines);
    assert!(ev.iter().any(|e| e.1 == "ProvisioningFailed"
        && e.3.starts_with("failed to provision volume with StorageClass \"gp3\": rpc error: code = ResourceExhausted desc = ")));
    // The provisioner removed the selected node; the scheduler, polling, gave up the node.
    let removed = lines.iter().any(|l| {
        l["type"] == "write"
            && l["kind"] == "PersistentVolumeClaim"
            && l["actor"] == format!("external-provisioner/{EBS}")
            && l["object"]["metadata"]["annotations"]
                .get("volume.kubernetes.io/selected-node")
                .is_none()
    });
    assert!(removed);
    assert!(timeline_has(
        &result.timeline,
        "FailedScheduling",
        "running PreBind plugin \"VolumeBinding\": binding volumes: provisioning failed for PVC \"data-web-0\""
    ));
    assert_eq!(result.final_state.pods[0].node, "w-zone-b-1");
}

#[test]
fn a_claim_that_never_binds_times_out_prebind_after_ten_minutes() {
    let manifests = class("gp3", "WaitForFirstConsumer", "") + &web(1, "gp3", "");
    let s = scenario(&Parts {
        zones: &["zone-a"],
        duration: "15m",
        manifests: &manifests,
        faults: "    - at: 0s\n      duration: 15m\n      provisioningFailure: { zone: zone-a }\n",
        ..Default::default()
    });
    let r = Run::start(&s);
    let (result, lines) = r.finish_after("15m");
    let timeout = result
        .timeline
        .iter()
        .find(|l| l.reason == "FailedScheduling")
        .expect("the PreBind wait times out");
    assert!(timeout.message.starts_with(
        "running PreBind plugin \"VolumeBinding\": binding volumes: context deadline exceeded"
    ));
    let scheduled_at = times_of(&lines, "WaitForPodScheduled")[0];
    let waited = timeout.at.0 as f64 / 1e9 - scheduled_at;
    assert!((599.0..=601.0).contains(&waited), "{waited}");
}

impl Run {
    fn finish_after(mut self, t: &str) -> (RunResult, Vec<Value>) {
        self.until(t);
        self.finish()
    }
}

#[test]
fn reclaim_delete_removes_the_volume_and_its_disk() {
    let manifests = class("gp3", "Immediate", "") + &claim("data", "gp3", "1Gi", "ReadWriteOnce");
    let s = scenario(&Parts {
        manifests: &manifests,
        actions: "    - at: 1m\n      kubectl: delete pvc data\n",
        ..Default::default()
    });
    let mut r = Run::start(&s);
    r.until("59s");
    let pv_name = r.claim("data").unwrap().spec.volume_name.clone();
    r.until("2m");
    assert!(r.claim("data").is_none());
    assert!(
        r.sim
            .api()
            .get::<PersistentVolume>(&ObjectKey::cluster(&pv_name))
            .is_none(),
        "the volume is deleted"
    );
    let (result, lines) = r.finish();
    assert!(result.findings.is_empty(), "{:?}", result.findings);
    let pv_writes: Vec<&Value> = lines
        .iter()
        .filter(|l| l["type"] == "write" && l["name"] == pv_name.as_str())
        .collect();
    let released = pv_writes
        .iter()
        .any(|l| l["object"]["status"]["phase"] == "Released");
    assert!(released);
    let removed = pv_writes.iter().find(|l| l["removed"] == true).unwrap();
    assert_eq!(removed["object"]["metadata"]["finalizers"], Value::Null);
}

#[test]
fn reclaim_retain_keeps_a_released_volume_and_deleting_it_is_a_finding() {
    let manifests = class("keep", "Immediate", "      reclaimPolicy: Retain\n")
        + &claim("data", "keep", "1Gi", "ReadWriteOnce");
    let s = scenario(&Parts {
        manifests: &manifests,
        actions: "    - at: 1m\n      kubectl: delete pvc data\n",
        ..Default::default()
    });
    let mut r = Run::start(&s);
    r.until("59s");
    let pv_name = r.claim("data").unwrap().spec.volume_name.clone();
    r.until("2m");
    let pv = r
        .sim
        .api()
        .get::<PersistentVolume>(&ObjectKey::cluster(&pv_name))
        .cloned()
        .expect("retained");
    assert_eq!(pv.status.phase, "Released");
    let out = r.sim.kubectl(&format!("delete pv {pv_name}")).unwrap();
    assert_eq!(
        out.text(),
        format!("persistentvolume \"{pv_name}\" deleted")
    );
    r.until("3m");
    let (result, _) = r.finish();
    assert_eq!(result.findings.len(), 1, "{:?}", result.findings);
    assert_eq!(result.findings[0].invariant, "retained-volume-deleted");
    assert!(result.findings[0].message.contains(&pv_name));
    assert_eq!(result.exit_code(), 3);
}

#[test]
fn deleting_the_claim_of_an_ordinal_in_range_destroys_wanted_data() {
    let manifests = class("gp3", "WaitForFirstConsumer", "") + &web(2, "gp3", "");
    let s = scenario(&Parts {
        manifests: &manifests,
        actions: "    - at: 2m\n      kubectl: delete pvc data-web-1\n    - at: 2m1s\n      kubectl: delete pod web-1\n",
        ..Default::default()
    });
    let r = Run::start(&s);
    let (result, _) = r.finish_after("5m");
    let destroyed: Vec<_> = result
        .findings
        .iter()
        .filter(|f| f.invariant == "claim-data-destroyed")
        .collect();
    assert_eq!(destroyed.len(), 1, "{:?}", result.findings);
    assert!(destroyed[0].message.contains("(claim default/data-web-1)"));
    assert!(destroyed[0].message.contains(
        "was deleted (reclaim policy Delete) while StatefulSet default/web still has ordinal 1"
    ));
}

#[test]
fn disk_loss_destroys_a_bound_claims_data() {
    let manifests = class("gp3", "Immediate", "") + &claim("data", "gp3", "1Gi", "ReadWriteOnce");
    let s = scenario(&Parts {
        manifests: &manifests,
        faults: "    - at: 1m\n      diskLoss: { persistentVolumeClaim: data }\n",
        ..Default::default()
    });
    let (result, _) = Run::start(&s).finish_after("2m");
    assert_eq!(result.findings.len(), 1);
    let f = &result.findings[0];
    assert_eq!(f.invariant, "claim-data-destroyed");
    assert_eq!(f.t_us, 60_000_000);
    assert!(
        f.message
            .contains("was destroyed (diskLoss) while claim default/data still exists")
    );
}

#[test]
fn expansion_needs_a_class_that_allows_it() {
    let manifests = class("grow", "Immediate", "      allowVolumeExpansion: true\n")
        + &class("fixed", "Immediate", "")
        + &claim("big", "grow", "10Gi", "ReadWriteOnce")
        + &claim("small", "fixed", "10Gi", "ReadWriteOnce");
    let patch = r#"'{"spec":{"resources":{"requests":{"storage":"20Gi"}}}}'"#;
    let s = scenario(&Parts {
        manifests: &manifests,
        actions: &format!(
            "    - at: 1m\n      kubectl: >-\n        patch pvc big -p {patch}\n    - at: 1m\n      kubectl: >-\n        patch pvc small -p {patch}\n"
        ),
        ..Default::default()
    });
    let mut r = Run::start(&s);
    r.until("2m");
    let big = r.claim("big").unwrap();
    assert_eq!(big.status.capacity["storage"].0, "20Gi");
    assert_eq!(
        r.volume_of("big").unwrap().spec.capacity["storage"].0,
        "20Gi"
    );
    assert_eq!(
        r.claim("small").unwrap().status.capacity["storage"].0,
        "10Gi"
    );
    let (result, lines) = r.finish();
    let outputs: Vec<String> = lines
        .iter()
        .filter(|l| l["type"] == "action")
        .map(|l| l["output"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(outputs[0], "persistentvolumeclaim/big patched");
    assert_eq!(
        outputs[1],
        "Error from server (Forbidden): persistentvolumeclaims \"small\" is forbidden: only dynamically provisioned pvc can be resized and the storageclass that provisions the pvc must support resize"
    );
    assert!(timeline_has(
        &result.timeline,
        "Resizing",
        "External resizer is resizing volume pvc-"
    ));
    assert!(timeline_has(
        &result.timeline,
        "VolumeResizeSuccessful",
        "Resize volume succeeded"
    ));
}

#[test]
fn the_node_volume_limit_and_read_write_once_pod_keep_pods_off_nodes() {
    // One node that takes three EBS volumes: p1, p2 and s1 fit; s2 shares s1's
    // ReadWriteOncePod claim; p3 would be a fourth volume.
    let pod = |name: &str, claim: &str| {
        format!(
            "    - apiVersion: v1\n      kind: Pod\n      metadata: {{ name: {name} }}\n      spec:\n        containers: [ {{ name: c, image: nginx }} ]\n        volumes: [ {{ name: d, persistentVolumeClaim: {{ claimName: {claim} }} }} ]\n"
        )
    };
    let manifests = class("gp3", "WaitForFirstConsumer", "")
        + &claim("one", "gp3", "1Gi", "ReadWriteOnce")
        + &claim("two", "gp3", "1Gi", "ReadWriteOnce")
        + &claim("three", "gp3", "1Gi", "ReadWriteOnce")
        + &claim("solo", "gp3", "1Gi", "ReadWriteOncePod")
        + &pod("p1", "one")
        + &pod("p2", "two")
        + &pod("s1", "solo")
        + &pod("s2", "solo")
        + &pod("p3", "three");
    let s = scenario(&Parts {
        zones: &["zone-a"],
        driver: "maxVolumesPerNode: 3",
        manifests: &manifests,
        ..Default::default()
    });
    let (result, _) = Run::start(&s).finish_after("2m");
    assert!(timeline_has(
        &result.timeline,
        "FailedScheduling",
        "0/1 nodes are available: 1 node(s) exceed max volume count."
    ));
    assert!(timeline_has(
        &result.timeline,
        "FailedScheduling",
        "0/1 nodes are available: 1 node has pod using PersistentVolumeClaim with the same name and ReadWriteOncePod access mode."
    ));
    let running = result
        .final_state
        .pods
        .iter()
        .filter(|p| !p.node.is_empty())
        .count();
    assert_eq!(running, 3, "the node's three volume slots");
}

#[test]
fn a_static_volume_with_zone_labels_pins_its_pod_by_volume_zone() {
    let manifests = "    - apiVersion: v1
      kind: PersistentVolume
      metadata: { name: old-disk, labels: { topology.kubernetes.io/zone: zone-b } }
      spec:
        capacity: { storage: 5Gi }
        accessModes: [ReadWriteOnce]
        storageClassName: manual
        csi: { driver: ebs.csi.aws.com, volumeHandle: vol-0123 }
    - apiVersion: v1
      kind: PersistentVolumeClaim
      metadata: { name: data }
      spec: { storageClassName: manual, accessModes: [ReadWriteOnce], resources: { requests: { storage: 1Gi } } }
    - apiVersion: v1
      kind: Pod
      metadata: { name: p }
      spec:
        nodeSelector: { topology.kubernetes.io/zone: zone-a }
        containers: [ { name: c, image: nginx } ]
        volumes: [ { name: d, persistentVolumeClaim: { claimName: data } } ]
";
    let s = scenario(&Parts {
        manifests,
        ..Default::default()
    });
    let (result, _) = Run::start(&s).finish_after("1m");
    assert_eq!(
        result.final_state.persistent_volume_claims[0].volume,
        "old-disk"
    );
    assert!(timeline_has(
        &result.timeline,
        "FailedScheduling",
        "0/2 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, 1 node(s) had no available volume zone."
    ));
}

#[test]
fn kubelets_register_csi_nodes_with_topology_and_limits() {
    let manifests = class("gp3", "WaitForFirstConsumer", "");
    let s = scenario(&Parts {
        manifests: &manifests,
        ..Default::default()
    });
    let mut r = Run::start(&s);
    r.until("1s");
    let api = r.sim.api();
    let csi = api
        .get::<CSINode>(&ObjectKey::cluster("w-zone-a-1"))
        .expect("registered");
    let ebs = csi.spec.drivers.iter().find(|d| d.name == EBS).unwrap();
    assert_eq!(ebs.topology_keys, ["topology.ebs.csi.aws.com/zone"]);
    assert_eq!(ebs.allocatable.as_ref().unwrap().count, Some(25));
    assert!(
        csi.spec
            .drivers
            .iter()
            .any(|d| d.name == "stsim.io/instant")
    );
    let node = api.get::<Node>(&ObjectKey::cluster("w-zone-a-1")).unwrap();
    assert_eq!(
        node.metadata.labels["topology.ebs.csi.aws.com/zone"],
        "zone-a"
    );
}

#[test]
fn storage_runs_are_deterministic() {
    let manifests = class("gp3", "WaitForFirstConsumer", "") + &web(3, "gp3", "");
    let s = scenario(&Parts {
        manifests: &manifests,
        driver: "provisionFailureRatio: 0.3",
        ..Default::default()
    });
    let a = Run::start(&s).finish_after("5m").1;
    let b = Run::start(&s).finish_after("5m").1;
    assert_eq!(a, b);
    assert!(
        !times_of(&a, "ProvisioningFailed").is_empty(),
        "the ratio made failures"
    );
}

#[test]
fn the_default_class_keeps_claims_out_of_the_schedulers_way() {
    let s = scenario(&Parts {
        manifests: &web(2, "standard", ""),
        ..Default::default()
    });
    let (result, lines) = Run::start(&s).finish_after("2m");
    assert_eq!(result.counts.warnings, 0);
    assert!(result.final_state.pods.iter().all(|p| p.ready));
    let _ = SimDuration::ZERO;
    assert!(times_of(&lines, "ProvisioningSucceeded").len() == 2);
}

#[test]
fn bundled_pv_bind_failure_halts_the_scale_up_at_the_failing_ordinal() {
    let s = crate::harness::bundled("pv-bind-failure");
    let (result, bytes) = crate::harness::run_with_trace(&s, s.seed);
    let lines = trace_lines(&bytes);
    assert!(result.findings.is_empty(), "{:?}", result.findings);
    let set = &result.final_state.stateful_sets[0];
    assert_eq!((set.replicas, set.ready_replicas), (6, 6));
    let failed: Vec<(f64, String)> = events(&lines)
        .into_iter()
        .filter(|e| e.1 == "ProvisioningFailed")
        .map(|e| (e.0, e.2))
        .collect();
    assert_eq!(failed.len(), 11);
    assert!(failed.iter().all(|(_, claim)| claim == "data-db-4"));
    assert!(failed.iter().all(|(t, _)| (300.0..24.0 * 60.0).contains(t)));
    // db-5 is created only once db-4 is Ready, after the fault ends at 24m.
    let created_db5 = result
        .timeline
        .iter()
        .find(|l| l.reason == "SuccessfulCreate" && l.message.starts_with("create Pod db-5"))
        .unwrap()
        .at;
    assert!(created_db5 > SimTime::ZERO + SimDuration::from_mins(24));
    assert!(created_db5 < SimTime::ZERO + SimDuration::from_mins(30));
    assert!(timeline_has(
        &result.timeline,
        "FailedScheduling",
        "running PreBind plugin \"VolumeBinding\": binding volumes: context deadline exceeded"
    ));
}

#[test]
fn bundled_immediate_binding_conflict_strands_two_pods() {
    let s = crate::harness::bundled("immediate-binding-conflict");
    let result = crate::harness::run(&s);
    assert!(result.findings.is_empty());
    let set = &result.final_state.stateful_sets[0];
    assert_eq!((set.replicas, set.ready_replicas), (3, 1));
    let pending: Vec<&str> = result
        .final_state
        .pods
        .iter()
        .filter(|p| p.phase == "Pending")
        .map(|p| p.name.as_str())
        .collect();
    assert_eq!(pending, ["cache-0", "cache-1"]);
    let conflicts = result
        .timeline
        .iter()
        .filter(|l| {
            l.reason == "FailedScheduling"
                && l.message.starts_with(
                    "0/3 nodes are available: 1 node(s) had volume node affinity conflict",
                )
        })
        .count();
    assert_eq!(
        conflicts, 12,
        "two pods, at 1.8 s and every 5 minutes from 5m30s"
    );
}

#[test]
fn provisioning_retries_double_up_to_five_minutes() {
    // The external-provisioner's `--retry-interval-start` 1 s doubling to
    // `--retry-interval-max` 5 min: 1, 2, 4, ..., 256 s, then 300 s apart.
    let manifests = class("gp3", "Immediate", "") + &claim("data", "gp3", "1Gi", "ReadWriteOnce");
    let s = scenario(&Parts {
        duration: "40m",
        driver: "profile: instant\nprovisionTime: 0s",
        manifests: &manifests,
        faults: "    - at: 0s\n      duration: 30m\n      provisioningFailure: { storageClass: gp3 }\n",
        ..Default::default()
    });
    let mut r = Run::start(&s);
    r.until("40m");
    assert_eq!(r.claim("data").unwrap().status.phase, "Bound");
    let (_, lines) = r.finish();
    let failed = times_of(&lines, "ProvisioningFailed");
    let gaps: Vec<f64> = failed.windows(2).map(|w| (w[1] - w[0]).round()).collect();
    assert_eq!(
        gaps,
        [
            1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 300.0, 300.0, 300.0, 300.0
        ],
        "{failed:?}"
    );
    // The fault ends at 30 min; the next retry, 300 s after the last failure, succeeds.
    let ok = times_of(&lines, "ProvisioningSucceeded");
    assert_eq!(ok.len(), 1);
    assert!(
        (ok[0] - (failed.last().unwrap() + 300.0)).abs() < 0.01,
        "{ok:?}"
    );
}

#[test]
fn a_delayed_binding_claim_with_no_volume_for_the_node_is_a_bind_conflict() {
    // Static volumes only (`kubernetes.io/no-provisioner`, WaitForFirstConsumer): the one
    // volume is in zone-b, the pod must run in zone-a.
    let manifests = "    - apiVersion: storage.k8s.io/v1
      kind: StorageClass
      metadata: { name: local }
      provisioner: kubernetes.io/no-provisioner
      volumeBindingMode: WaitForFirstConsumer
    - apiVersion: v1
      kind: PersistentVolume
      metadata: { name: disk-b }
      spec:
        capacity: { storage: 5Gi }
        accessModes: [ReadWriteOnce]
        storageClassName: local
        csi: { driver: ebs.csi.aws.com, volumeHandle: vol-0b }
        nodeAffinity:
          required:
            nodeSelectorTerms:
              - matchExpressions: [ { key: topology.kubernetes.io/zone, operator: In, values: [zone-b] } ]
    - apiVersion: v1
      kind: PersistentVolumeClaim
      metadata: { name: data }
      spec: { storageClassName: local, accessModes: [ReadWriteOnce], resources: { requests: { storage: 1Gi } } }
    - apiVersion: v1
      kind: PersistentVolumeClaim
      metadata: { name: spare }
      spec: { storageClassName: local, accessModes: [ReadWriteOnce], resources: { requests: { storage: 1Gi } } }
    - apiVersion: v1
      kind: Pod
      metadata: { name: p }
      spec:
        nodeSelector: { topology.kubernetes.io/zone: zone-a }
        containers: [ { name: c, image: nginx } ]
        volumes: [ { name: d, persistentVolumeClaim: { claimName: data } } ]
";
    let s = scenario(&Parts {
        manifests,
        ..Default::default()
    });
    let (result, lines) = Run::start(&s).finish_after("1m");
    assert!(timeline_has(
        &result.timeline,
        "FailedScheduling",
        "0/2 nodes are available: 1 node(s) didn't find available persistent volumes to bind, 1 node(s) didn't match Pod's node affinity/selector."
    ));
    // The PV controller says why each claim waits: its pod is not scheduled; no pod
    // uses the spare claim yet (`emitEventForUnboundDelayBindingClaim`).
    let ev = events(&lines);
    let said = |reason: &str, claim: &str, message: &str| {
        ev.iter()
            .any(|e| e.1 == reason && e.2 == claim && e.3 == message)
    };
    assert!(said(
        "WaitForPodScheduled",
        "data",
        "waiting for pod p to be scheduled"
    ));
    assert!(said(
        "WaitForFirstConsumer",
        "spare",
        "waiting for first consumer to be created before binding"
    ));
    assert!(
        result
            .final_state
            .persistent_volume_claims
            .iter()
            .all(|c| c.phase == "Pending")
    );
    assert_eq!(result.final_state.pods[0].phase, "Pending");
}

#[test]
fn a_volume_shared_by_pods_on_a_node_counts_once_against_its_limit() {
    // One node that takes two EBS volumes; p1 and p2 share a ReadWriteMany claim, p3 and
    // p4 have one each: the shared volume and one more fit, so three pods run.
    let pod = |name: &str, claim: &str| {
        format!(
            "    - apiVersion: v1\n      kind: Pod\n      metadata: {{ name: {name} }}\n      spec:\n        containers: [ {{ name: c, image: nginx }} ]\n        volumes: [ {{ name: d, persistentVolumeClaim: {{ claimName: {claim} }} }} ]\n"
        )
    };
    let manifests = class("gp3", "WaitForFirstConsumer", "")
        + &claim("shared", "gp3", "1Gi", "ReadWriteMany")
        + &claim("three", "gp3", "1Gi", "ReadWriteOnce")
        + &claim("four", "gp3", "1Gi", "ReadWriteOnce")
        + &pod("p1", "shared")
        + &pod("p2", "shared")
        + &pod("p3", "three")
        + &pod("p4", "four");
    let s = scenario(&Parts {
        zones: &["zone-a"],
        driver: "maxVolumesPerNode: 2",
        manifests: &manifests,
        ..Default::default()
    });
    let (result, _) = Run::start(&s).finish_after("3m");
    let placed: Vec<&str> = result
        .final_state
        .pods
        .iter()
        .filter(|p| !p.node.is_empty())
        .map(|p| p.name.as_str())
        .collect();
    assert_eq!(placed.len(), 3, "{placed:?}");
    assert!(
        placed.contains(&"p1") && placed.contains(&"p2"),
        "{placed:?}"
    );
    assert!(timeline_has(
        &result.timeline,
        "FailedScheduling",
        "0/1 nodes are available: 1 node(s) exceed max volume count."
    ));
}
