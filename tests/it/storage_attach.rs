//! Attach and detach end to end (issue 4, items 5–7): the attach/detach controller, the
//! CSI external-attacher, the kubelet's volume manager and the data-safety checks, on small
//! inline scenarios with one custom-timed driver (`disk.csi.example.com`, built on the
//! `azure-disk` profile, whose driver reports cloud operations as soon as they finish):
//! provision 1 s, attach 2 s, detach 1 s, mount 3 s, unmount 1 s, unless a test says
//! otherwise. Pods are plain pods bound to a node by their manifest.

use crate::harness::{SharedBuf, trace_lines};
use serde_json::Value;
use std::path::Path;
use stsim::api::pod::{Container, PersistentVolumeClaimVolumeSource, Volume};
use stsim::api::{Node, ObjectKey, ObjectMeta, Pod, VolumeAttachment};
use stsim::apiserver::{Actor, DeleteOptions};
use stsim::scenario::{self, Scenario};
use stsim::sim::{RunOptions, Simulation};
use stsim::time::{SimDuration, SimTime};

pub(crate) const DRIVER: &str = "disk.csi.example.com";
pub(crate) const NODE_A: &str = "w-a-1";
pub(crate) const NODE_B: &str = "w-a-2";
pub(crate) const SECOND: u64 = 1_000_000;

/// Scenario parts.
#[derive(Default)]
pub(crate) struct Parts {
    pub(crate) duration: &'static str,
    /// Extra lines for the driver (8-space indent).
    pub(crate) driver: String,
    /// Extra lines under `spec.cluster.kubernetes` (6-space indent).
    pub(crate) kubernetes: String,
    /// Manifests (4-space indent list items).
    pub(crate) manifests: String,
    /// `spec.faults` items (4-space indent).
    pub(crate) faults: String,
    pub(crate) nodes: u32,
}

pub(crate) fn scenario(p: Parts) -> Scenario {
    let faults = if p.faults.is_empty() {
        "  faults: []\n".to_string()
    } else {
        format!("  faults:\n{}", p.faults)
    };
    // The driver's timings, then the test's own lines (`key: value`), later keys winning.
    let mut driver: Vec<(String, String)> = [
        ("provisionTime", "1s"),
        ("attachTime", "2s"),
        ("detachTime", "1s"),
        ("mountTime", "3s"),
        ("unmountTime", "1s"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    for line in p.driver.lines().filter(|l| !l.trim().is_empty()) {
        let (k, v) = line.trim().split_once(':').expect("key: value");
        let (k, v) = (k.trim().to_string(), v.trim().to_string());
        match driver.iter_mut().find(|(dk, _)| *dk == k) {
            Some(e) => e.1 = v,
            None => driver.push((k, v)),
        }
    }
    let driver: String = driver
        .iter()
        .map(|(k, v)| format!("        {k}: {v}\n"))
        .collect();
    let text = format!(
        r#"apiVersion: stsim/v1alpha1
kind: Scenario
metadata: {{ name: attach }}
spec:
  duration: {duration}
  cluster:
    zones:
      - name: a
        nodePools: [ {{ name: w, count: {nodes}, capacity: {{ cpu: "64", memory: 256Gi, pods: "400" }} }} ]
    kubernetes:
      kubelet: {{ containerStartTime: 500ms }}
{kubernetes}
  images:
    - {{ image: db, pullTime: 1s, shutdownTime: 1s }}
    - {{ image: slow-exit, pullTime: 1s, shutdownTime: 60s }}
  storage:
    drivers:
      - name: {DRIVER}
        profile: azure-disk
{driver}
  manifests:
    - apiVersion: storage.k8s.io/v1
      kind: StorageClass
      metadata: {{ name: disk, annotations: {{ storageclass.kubernetes.io/is-default-class: "true" }} }}
      provisioner: {DRIVER}
      volumeBindingMode: Immediate
{manifests}
{faults}"#,
        duration = if p.duration.is_empty() {
            "30m"
        } else {
            p.duration
        },
        nodes = p.nodes.max(2),
        kubernetes = p.kubernetes,
        driver = driver,
        manifests = p.manifests,
    );
    scenario::load_str(&text, Path::new("inline.yaml")).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

/// A claim `name` (ReadWriteOnce unless `mode` says otherwise).
pub(crate) fn claim(name: &str, mode: &str) -> String {
    format!(
        "    - apiVersion: v1
      kind: PersistentVolumeClaim
      metadata: {{ name: {name} }}
      spec: {{ accessModes: [{mode}], resources: {{ requests: {{ storage: 1Gi }} }} }}
"
    )
}

/// A pod `name` on `node` running `image` with claim `claim` as volume `www`.
pub(crate) fn pod_manifest(name: &str, node: &str, claim: &str, image: &str) -> String {
    format!(
        "    - apiVersion: v1
      kind: Pod
      metadata: {{ name: {name} }}
      spec:
        nodeName: {node}
        terminationGracePeriodSeconds: 30
        containers: [ {{ name: db, image: {image} }} ]
        volumes: [ {{ name: www, persistentVolumeClaim: {{ claimName: {claim} }} }} ]
"
    )
}

pub(crate) fn pod_object(name: &str, node: &str, claim: &str) -> Pod {
    let mut p = Pod {
        metadata: ObjectMeta::named("default", name),
        ..Default::default()
    };
    p.spec.node_name = node.into();
    p.spec.containers.push(Container {
        name: "db".into(),
        image: "db".into(),
        ..Default::default()
    });
    p.spec.volumes.push(Volume {
        name: "www".into(),
        persistent_volume_claim: Some(PersistentVolumeClaimVolumeSource {
            claim_name: claim.into(),
            read_only: false,
        }),
        ..Default::default()
    });
    p
}

pub(crate) fn secs(s: u64) -> SimDuration {
    SimDuration::from_secs(s)
}

pub(crate) fn at_us(t: SimTime) -> u64 {
    t.as_nanos() / 1_000
}

/// A run driven step by step, its trace kept in memory.
pub(crate) struct Run {
    pub(crate) sim: Simulation,
    pub(crate) trace: SharedBuf,
}

#[derive(Debug, Clone)]
pub(crate) struct Line {
    pub(crate) t: u64,
    pub(crate) v: Value,
}

impl Run {
    pub(crate) fn start(s: &Scenario) -> Self {
        Run::with(s, false)
    }
    pub(crate) fn with(s: &Scenario, manual_kubelets: bool) -> Self {
        let trace = SharedBuf::default();
        let mut opts = RunOptions::for_scenario(s);
        opts.trace = Some(Box::new(trace.clone()));
        opts.manual_kubelets = manual_kubelets;
        Run {
            sim: Simulation::new(s, opts),
            trace,
        }
    }
    pub(crate) fn until(&mut self, t: SimDuration) {
        self.sim.run_until(SimTime::ZERO + t);
    }
    pub(crate) fn now(&self) -> SimTime {
        self.sim.now()
    }
    pub(crate) fn lines(&self) -> Vec<Line> {
        trace_lines(&self.trace.0.borrow())
            .into_iter()
            .map(|v| Line {
                t: v["t_us"].as_u64().unwrap(),
                v,
            })
            .collect()
    }
    pub(crate) fn writes(&self, kind: &str) -> Vec<Line> {
        self.lines()
            .into_iter()
            .filter(|l| l.v["type"] == "write" && l.v["kind"] == kind)
            .collect()
    }
    pub(crate) fn events(&self, reason: &str) -> Vec<Line> {
        self.lines()
            .into_iter()
            .filter(|l| l.v["type"] == "event" && l.v["reason"] == reason)
            .collect()
    }
    pub(crate) fn notes(&self, needle: &str) -> Vec<Line> {
        self.lines()
            .into_iter()
            .filter(|l| l.v["type"] == "note" && l.v["message"].as_str().unwrap().contains(needle))
            .collect()
    }
    pub(crate) fn pod(&self, name: &str) -> Option<std::rc::Rc<Pod>> {
        self.sim
            .api()
            .get::<Pod>(&ObjectKey::new("default", name))
            .cloned()
    }
    pub(crate) fn attachments(&self) -> Vec<std::rc::Rc<VolumeAttachment>> {
        self.sim
            .api()
            .objects()
            .list::<VolumeAttachment>()
            .cloned()
            .collect()
    }
    pub(crate) fn pv_of(&self, claim: &str) -> stsim::api::PersistentVolume {
        let c = self
            .sim
            .api()
            .get::<stsim::api::PersistentVolumeClaim>(&ObjectKey::new("default", claim))
            .expect("the claim");
        (**self
            .sim
            .api()
            .get::<stsim::api::PersistentVolume>(&ObjectKey::cluster(&c.spec.volume_name))
            .expect("its volume"))
        .clone()
    }
    /// When the first write to `kind` matching `pred` happened.
    pub(crate) fn first_write(&self, kind: &str, pred: impl Fn(&Value) -> bool) -> Option<u64> {
        self.writes(kind)
            .into_iter()
            .find(|l| pred(&l.v))
            .map(|l| l.t)
    }
    /// Acts as `actor` now.
    pub(crate) fn act<R>(
        &mut self,
        actor: &str,
        f: impl FnOnce(&mut stsim::apiserver::ApiClient<'_>) -> R,
    ) -> R {
        let actor = Actor::new(Box::leak(actor.to_string().into_boxed_str()));
        self.sim.act(&actor, f)
    }
    /// Writes node `name`'s Ready condition, as the node lifecycle controller would.
    pub(crate) fn set_ready(&mut self, name: &str, ready: bool) {
        self.act("node-controller", |c| {
            let live = c.get::<Node>(&ObjectKey::cluster(name)).expect("the node");
            let mut n = (*live).clone();
            for cond in &mut n.status.conditions {
                if cond.type_ == "Ready" {
                    cond.status = if ready { "True" } else { "Unknown" }.into();
                    cond.reason = if ready {
                        "KubeletReady"
                    } else {
                        "NodeStatusUnknown"
                    }
                    .into();
                }
            }
            n.metadata.resource_version.clear();
            c.update_status(&n).expect("the node status");
        });
    }
    pub(crate) fn taint_out_of_service(&mut self, name: &str) {
        self.act("kubectl", |c| {
            let live = c.get::<Node>(&ObjectKey::cluster(name)).expect("the node");
            let mut n = (*live).clone();
            n.spec.taints.push(stsim::api::scheduling::Taint {
                key: "node.kubernetes.io/out-of-service".into(),
                value: "nodeshutdown".into(),
                effect: "NoExecute".into(),
                ..Default::default()
            });
            n.metadata.resource_version.clear();
            c.update(n).expect("the taint");
        });
    }
    pub(crate) fn force_delete(&mut self, pod: &str) {
        self.act("kubectl", |c| {
            let opts = DeleteOptions {
                grace_period_seconds: Some(0),
                ..Default::default()
            };
            c.delete::<Pod>(&ObjectKey::new("default", pod), &opts)
                .expect("the pod exists");
        });
    }
}

fn unique_name(pv: &stsim::api::PersistentVolume) -> String {
    pv.csi_unique_volume_name().expect("a CSI volume")
}

fn lists(v: &Value, field: &str, name: &str) -> bool {
    v["status"][field]
        .as_array()
        .is_some_and(|a| a.iter().any(|x| x == name || x["name"] == name))
}

/// One pod on node A with one claim: the basic scenario.
pub(crate) fn one_pod(driver: &str, kubernetes: &str, faults: &str, image: &str) -> Scenario {
    scenario(Parts {
        driver: driver.into(),
        kubernetes: kubernetes.into(),
        manifests: format!(
            "{}{}",
            claim("data", "ReadWriteOnce"),
            pod_manifest("p1", NODE_A, "data", image)
        ),
        faults: faults.into(),
        ..Default::default()
    })
}

#[test]
fn a_volume_is_attached_then_mounted_before_the_container_starts() {
    let s = one_pod("", "", "", "db");
    let mut r = Run::start(&s);
    r.until(secs(60));
    let pv = r.pv_of("data");
    let unique = unique_name(&pv);
    let handle = pv.spec.csi.as_ref().unwrap().volume_handle.clone();

    // The VolumeAttachment is named as upstream names it and carries the attacher's
    // finalizer, as does the PV.
    let vas = r.attachments();
    assert_eq!(vas.len(), 1);
    let va = &vas[0];
    assert_eq!(
        va.metadata.name,
        stsim::control::attach_detach::attachment_name(&handle, DRIVER, NODE_A)
    );
    assert_eq!(va.spec.attacher, DRIVER);
    assert_eq!(va.spec.node_name, NODE_A);
    assert_eq!(
        va.spec.source.persistent_volume_name.as_deref(),
        Some(pv.metadata.name.as_str())
    );
    assert_eq!(
        va.metadata.finalizers,
        ["external-attacher/disk-csi-example-com"]
    );
    assert!(va.status.attached);
    assert!(
        pv.metadata
            .finalizers
            .contains(&"external-attacher/disk-csi-example-com".to_string())
    );

    // Order: VA created → attached (2 s later) → node status lists it → mount (3 s) → the
    // container's image is pulled.
    let created = r
        .first_write("VolumeAttachment", |v| v["verb"] == "create")
        .unwrap();
    let attached = r
        .first_write("VolumeAttachment", |v| {
            v["object"]["status"]["attached"] == true
        })
        .unwrap();
    assert_eq!(
        attached - created,
        2 * SECOND + 10_000,
        "2 s after the attacher saw it"
    );
    let in_status = r
        .first_write("Node", |v| lists(&v["object"], "volumesAttached", &unique))
        .unwrap();
    let in_use = r
        .first_write("Node", |v| lists(&v["object"], "volumesInUse", &unique))
        .unwrap();
    assert!(
        in_status > attached && in_status <= attached + 700_000,
        "{attached} {in_status}"
    );
    let mount_start = in_status.max(in_use) + 10_000;
    let pulling = r.events("Pulling")[0].t;
    assert!(
        pulling >= mount_start + 3 * SECOND && pulling <= mount_start + 3 * SECOND + 300_000,
        "mount 3 s then the next 300 ms poll: {mount_start} → {pulling}"
    );
    let ok = r.events("SuccessfulAttachVolume");
    assert_eq!(ok.len(), 1);
    assert_eq!(
        ok[0].v["message"],
        format!(
            "AttachVolume.Attach succeeded for volume \"{}\" ",
            pv.metadata.name
        )
    );
    assert_eq!(ok[0].v["source"], "attachdetach-controller");
    assert!(r.pod("p1").unwrap().is_ready());
    assert!(r.sim.findings().is_empty(), "{:?}", r.sim.findings());
}

#[test]
fn the_attachment_name_is_upstreams() {
    // sha256("vol-0123ebs.csi.aws.comworker-zone-a-1"), as Python's hashlib computes it.
    assert_eq!(
        stsim::control::attach_detach::attachment_name(
            "vol-0123",
            "ebs.csi.aws.com",
            "worker-zone-a-1"
        ),
        "csi-3c5a6836360c736bb18c87606e01babd05f9e99bd35c679255c0e5b5c0606e7e"
    );
}

#[test]
fn a_deleted_pod_is_unmounted_before_it_goes_and_detached_after() {
    let s = one_pod("", "", "", "db");
    let mut r = Run::start(&s);
    r.until(secs(60));
    let pv = r.pv_of("data");
    let unique = unique_name(&pv);
    r.act("kubectl", |c| {
        c.delete::<Pod>(&ObjectKey::new("default", "p1"), &DeleteOptions::default())
            .unwrap();
    });
    let deleted = at_us(r.now());
    r.until(secs(120));
    let pod_gone = r
        .writes("Pod")
        .into_iter()
        .find(|l| l.v["removed"] == true)
        .expect("the pod goes")
        .t;
    // Container stop (1 s) then unmount (1 s) before the kubelet deletes the pod object.
    assert!(pod_gone >= deleted + 2 * SECOND, "{deleted} {pod_gone}");
    let not_in_use = r
        .writes("Node")
        .into_iter()
        .filter(|l| l.t > deleted && !lists(&l.v["object"], "volumesInUse", &unique))
        .map(|l| l.t)
        .next()
        .expect("the kubelet drops it from volumesInUse");
    assert!(not_in_use >= pod_gone - 10_000);
    // Detach only then: the VolumeAttachment is deleted, then goes after the 1 s detach.
    let va_deleted = r
        .first_write("VolumeAttachment", |v| {
            v["object"]["metadata"]["deletionTimestamp"].is_string()
        })
        .unwrap();
    assert!(va_deleted > not_in_use, "{not_in_use} {va_deleted}");
    assert!(
        va_deleted <= not_in_use + 200_000,
        "at the controller's next 100 ms pass"
    );
    let va_gone = r
        .writes("VolumeAttachment")
        .into_iter()
        .find(|l| l.v["removed"] == true)
        .unwrap()
        .t;
    assert_eq!(va_gone - va_deleted, SECOND + 10_000);
    // The node status no longer lists it as attached, and the PV keeps no attacher
    // finalizer role beyond its lifetime (it stays: the PV is not being deleted).
    let node = r
        .sim
        .api()
        .get::<Node>(&ObjectKey::cluster(NODE_A))
        .unwrap();
    assert!(node.status.volumes_attached.is_empty());
    assert!(node.status.volumes_in_use.is_empty());
    assert!(r.sim.findings().is_empty(), "{:?}", r.sim.findings());
}

/// p1 on node A holds `data`; p2 on node B wants it too.
fn two_pods_one_claim(driver: &str) -> Scenario {
    scenario(Parts {
        driver: driver.into(),
        manifests: format!(
            "{}{}",
            claim("data", "ReadWriteOnce"),
            pod_manifest("p1", NODE_A, "data", "db")
        ),
        ..Default::default()
    })
}

#[test]
fn a_second_node_gets_one_multi_attach_error_naming_the_pod_that_holds_the_volume() {
    let mut r = Run::start(&two_pods_one_claim(""));
    r.until(secs(60));
    r.act("kubectl", |c| {
        c.create(pod_object("p2", NODE_B, "data")).unwrap()
    });
    r.until(secs(300));
    let pv = r.pv_of("data");
    let errors = r.events("FailedAttachVolume");
    assert_eq!(errors.len(), 1, "reported once: {errors:?}");
    let e = &errors[0];
    assert_eq!(e.v["name"], "p2");
    assert_eq!(e.v["eventType"], "Warning");
    assert_eq!(e.v["count"], 1);
    assert_eq!(
        e.v["message"],
        format!(
            "Multi-Attach error for volume \"{}\" Volume is already used by pod(s) p1",
            pv.metadata.name
        )
    );
    // Reported at the controller's first pass after it saw p2.
    assert!(e.t > 60 * SECOND && e.t <= 60 * SECOND + 120_000, "{}", e.t);
    // Never attached to B while p1 holds it.
    let vas = r.attachments();
    assert_eq!(vas.len(), 1);
    assert_eq!(vas[0].spec.node_name, NODE_A);
    assert!(!r.pod("p2").unwrap().is_ready());

    // Once p1 goes and the volume is detached from A, B gets it.
    r.act("kubectl", |c| {
        c.delete::<Pod>(&ObjectKey::new("default", "p1"), &DeleteOptions::default())
            .unwrap();
    });
    r.until(secs(360));
    let vas = r.attachments();
    assert_eq!(vas.len(), 1);
    assert_eq!(vas[0].spec.node_name, NODE_B);
    assert!(r.pod("p2").unwrap().is_ready());
    assert_eq!(r.events("FailedAttachVolume").len(), 1, "still once");
    assert!(r.sim.findings().is_empty(), "{:?}", r.sim.findings());
}

#[test]
fn a_volume_still_attached_for_no_pod_is_exclusively_attached() {
    // A long unmount keeps the volume attached to A after p1 has terminated.
    let mut r = Run::start(&two_pods_one_claim("        unmountTime: 20s\n"));
    r.until(secs(60));
    r.act("kubectl", |c| {
        c.delete::<Pod>(&ObjectKey::new("default", "p1"), &DeleteOptions::default())
            .unwrap();
    });
    r.until(secs(65));
    r.act("kubectl", |c| {
        c.create(pod_object("p2", NODE_B, "data")).unwrap()
    });
    r.until(secs(200));
    let pv = r.pv_of("data");
    let errors = r.events("FailedAttachVolume");
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(
        errors[0].v["message"],
        format!(
            "Multi-Attach error for volume \"{}\" Volume is already exclusively attached to one node and can't be attached to another",
            pv.metadata.name
        )
    );
    // p1's pod object went only after the 20 s unmount; then the detach from A, then B.
    let p1_gone = r
        .writes("Pod")
        .into_iter()
        .find(|l| l.v["name"] == "p1" && l.v["removed"] == true)
        .unwrap()
        .t;
    assert!(p1_gone >= 60 * SECOND + 21 * SECOND, "{p1_gone}");
    let attached_b = r
        .first_write("VolumeAttachment", |v| {
            v["object"]["spec"]["nodeName"] == NODE_B && v["object"]["status"]["attached"] == true
        })
        .unwrap();
    let gone_a = r
        .writes("VolumeAttachment")
        .into_iter()
        .find(|l| l.v["removed"] == true)
        .unwrap()
        .t;
    assert!(attached_b > gone_a && gone_a > p1_gone);
    assert!(r.pod("p2").unwrap().is_ready());
}

/// p1 on node A, run by a "manual" kubelet (the test plays the kubelet): the volume is
/// attached and the node reports it in use; then node A stops being Ready (as the node
/// lifecycle controller would write it for a dead node) and p1 is force-deleted. The
/// volume stays mounted as far as the node's last status says.
fn dead_node_run(kubernetes: &str, make_unready: bool) -> (Run, String, u64) {
    let s = scenario(Parts {
        kubernetes: kubernetes.into(),
        manifests: format!(
            "{}{}",
            claim("data", "ReadWriteOnce"),
            pod_manifest("p1", NODE_A, "data", "db")
        ),
        ..Default::default()
    });
    let mut r = Run::with(&s, true);
    r.until(secs(30));
    let unique = unique_name(&r.pv_of("data"));
    assert!(r.attachments()[0].status.attached);
    let in_use = unique.clone();
    r.act("kubelet", |c| {
        let live = c.get::<Node>(&ObjectKey::cluster(NODE_A)).unwrap();
        let mut n = (*live).clone();
        n.status.volumes_in_use = vec![in_use];
        n.metadata.resource_version.clear();
        c.update_status(&n).unwrap();
    });
    r.until(secs(60));
    if make_unready {
        // The kubelet goes silent (as a dead node's does) so that nothing posts Ready again.
        assert!(r.sim.stop_heartbeats(NODE_A));
        r.set_ready(NODE_A, false);
    }
    r.force_delete("p1");
    (r, unique, 60 * SECOND)
}

fn va_deleted_at(r: &Run) -> Option<u64> {
    r.first_write("VolumeAttachment", |v| {
        v["object"]["metadata"]["deletionTimestamp"].is_string()
    })
}

#[test]
fn a_volume_is_force_detached_from_a_node_that_is_not_ready_after_six_minutes() {
    let (mut r, _, t) = dead_node_run("", true);
    r.until(secs(60 + 359));
    assert!(va_deleted_at(&r).is_none(), "waits for the unmount");
    r.until(secs(60 + 600));
    let deleted = va_deleted_at(&r).expect("force-detached");
    // The wait starts at the controller's first pass that sees the pod gone (the next
    // 100 ms tick after the informer delivers the delete), and ends at the first pass
    // more than 6 min later.
    let six = 360 * SECOND;
    assert!(
        deleted > t + six && deleted <= t + six + 200_000,
        "{}",
        deleted - t
    );
    let notes = r.notes("maxWaitForUnmountDuration 6m0s expired, force detaching");
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert_eq!(notes[0].t, deleted);
    assert!(r.attachments().is_empty(), "detached 1 s later");
}

#[test]
fn disable_force_detach_on_timeout_keeps_the_volume_attached() {
    let (mut r, _, _) = dead_node_run(
        "      controllerManager: { disableForceDetachOnTimeout: true }\n",
        true,
    );
    r.until(secs(60 + 1800));
    assert!(va_deleted_at(&r).is_none());
    assert_eq!(r.attachments().len(), 1);
}

#[test]
fn a_ready_node_is_never_force_detached() {
    let (mut r, _, _) = dead_node_run("", false);
    r.until(secs(60 + 1800));
    assert!(
        va_deleted_at(&r).is_none(),
        "only unhealthy nodes are force-detached"
    );
}

#[test]
fn the_out_of_service_taint_detaches_at_once() {
    let (mut r, _, t) = dead_node_run("", true);
    r.taint_out_of_service(NODE_A);
    r.until(secs(120));
    let deleted = va_deleted_at(&r).expect("detached at once");
    assert!(deleted > t && deleted <= t + 120_000, "{}", deleted - t);
    assert_eq!(
        r.notes("node has out-of-service taint, force detaching")
            .len(),
        1
    );
    assert!(r.attachments().is_empty());
}

#[test]
fn detaching_under_a_running_pod_is_an_unsafe_force_detach_finding() {
    // The kubelet on A is alive and runs p1, whose container takes 60 s to exit (the 30 s
    // grace period SIGKILLs it). Node A is marked not Ready, tainted out-of-service and p1
    // force-deleted: the volume is detached while p1 still runs.
    let s = one_pod("", "", "", "slow-exit");
    let mut r = Run::start(&s);
    r.until(secs(60));
    assert!(r.pod("p1").unwrap().is_ready());
    r.set_ready(NODE_A, false);
    r.taint_out_of_service(NODE_A);
    r.force_delete("p1");
    r.until(secs(120));
    let f = r.sim.findings().to_vec();
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!(f[0].invariant, "unsafe-force-detach");
    let pv = r.pv_of("data");
    assert!(
        f[0].message.starts_with(&format!(
            "volume {} was detached from node {NODE_A} while pod default/p1 (uid ",
            pv.metadata.name
        )),
        "{}",
        f[0].message
    );
    // The detach: VA deleted at the next pass, gone 1 s later (the detach latency).
    assert!(f[0].t_us > 60 * SECOND + SECOND && f[0].t_us < 60 * SECOND + 2 * SECOND);
}

/// `attachFailure` for the driver, ratio 1, from 0 for `minutes`.
fn failing_attaches(minutes: u64) -> String {
    format!(
        "    - {{ at: 0s, duration: {minutes}m, attachFailure: {{ driver: {DRIVER}, ratio: 1.0 }} }}\n"
    )
}

#[test]
fn a_pod_whose_volume_cannot_attach_times_out_after_2m3s_and_retries() {
    let s = one_pod("", "", &failing_attaches(5), "db");
    let mut r = Run::start(&s);
    r.until(secs(400));
    let timeouts = r.notes("Unable to attach or mount volumes");
    assert!(timeouts.len() >= 2, "{timeouts:?}");
    assert_eq!(
        timeouts[0].v["message"],
        "Unable to attach or mount volumes: unmounted volumes=[www], unattached volumes=[www], failed to process volumes=[]: context deadline exceeded; skipping pod"
    );
    assert_eq!(timeouts[0].v["source"], "kubelet/w-a-1");
    // The wait starts when the kubelet first sees the pod (10 ms) and lasts 2m3s.
    assert_eq!(timeouts[0].t, 123 * SECOND + 10_000);
    // The pod worker syncs again after backOffPeriod (10 s, up to half more), waits again.
    let gap = timeouts[1].t - timeouts[0].t;
    assert!(
        (133 * SECOND..=138 * SECOND).contains(&gap),
        "retry after 10-15 s, then 2m3s: {gap}"
    );
    // Since 1.28 the timeout is not recorded as a FailedMount Event.
    assert!(r.events("FailedMount").is_empty());
    // The controller's attach errors carry the external-attacher's gRPC error.
    let pv = r.pv_of("data");
    let handle = pv.spec.csi.as_ref().unwrap().volume_handle.clone();
    let failed = r.events("FailedAttachVolume");
    assert!(!failed.is_empty());
    assert_eq!(
        failed[0].v["message"],
        format!(
            "AttachVolume.Attach failed for volume \"{}\" : rpc error: code = Internal desc = Could not attach volume \"{handle}\" to node \"{NODE_A}\": attachment of volume failed",
            pv.metadata.name
        )
    );
    // Once attaches work again the pod starts.
    r.until(secs(1200));
    assert!(r.pod("p1").unwrap().is_ready());
    assert_eq!(r.events("SuccessfulAttachVolume").len(), 1);
}

#[test]
fn the_controller_backs_off_from_500ms_doubling_to_2m2s() {
    let s = one_pod("", "", &failing_attaches(30), "db");
    let mut r = Run::start(&s);
    r.until(secs(1500));
    // Each failure is one more occurrence of the same Event (count + 1).
    let failed = r.events("FailedAttachVolume");
    let times: Vec<u64> = failed.iter().map(|l| l.t).collect();
    let counts: Vec<u64> = failed
        .iter()
        .map(|l| l.v["count"].as_u64().unwrap())
        .collect();
    assert_eq!(counts, (1..=counts.len() as u64).collect::<Vec<_>>());
    let backoff_ms = [
        500, 1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 64_000, 122_000, 122_000,
    ];
    assert!(times.len() > backoff_ms.len(), "{times:?}");
    for (k, b) in backoff_ms.iter().enumerate() {
        let d = times[k + 1] - times[k];
        // The next try starts at the first 100 ms pass after the backoff and fails at its
        // first lister poll (500 ms plus up to 10 % jitter), which sees the attach error.
        let lo = b * 1_000 + 500_000;
        let hi = b * 1_000 + 650_000;
        assert!(
            d > lo && d <= hi,
            "failure {k}: {d} µs after the last, backoff {b} ms"
        );
    }
}

#[test]
fn the_external_attacher_retries_from_1s_doubling() {
    let s = one_pod("", "", &failing_attaches(30), "db");
    let mut r = Run::start(&s);
    r.until(secs(600));
    // Every failed ControllerPublish writes attachError; the call takes the 2 s attach,
    // then the VolumeAttachment waits 1 s, 2 s, 4 s, ... before the next call.
    let errors: Vec<u64> = r
        .writes("VolumeAttachment")
        .into_iter()
        .filter(|l| {
            l.v["verb"] == "status"
                && l.v["actor"] == format!("external-attacher/{DRIVER}")
                && l.v["object"]["status"]["attachError"].is_object()
        })
        .map(|l| l.t)
        .collect();
    let gaps: Vec<u64> = errors.windows(2).map(|w| (w[1] - w[0]) / 1_000).collect();
    assert_eq!(
        &gaps[..8],
        [3_000, 4_000, 6_000, 10_000, 18_000, 34_000, 66_000, 130_000]
    );
    let va = &r.attachments()[0];
    let err = va.status.attach_error.as_ref().unwrap();
    assert!(
        err.message
            .starts_with("rpc error: code = Internal desc = Could not attach volume")
    );
}

#[test]
fn an_attach_latency_fault_multiplies_attach_and_detach_times() {
    let s = one_pod(
        "",
        "",
        &format!(
            "    - {{ at: 0s, duration: 10m, attachLatency: {{ driver: {DRIVER}, multiplier: 3 }} }}\n"
        ),
        "db",
    );
    let mut r = Run::start(&s);
    r.until(secs(60));
    let created = r
        .first_write("VolumeAttachment", |v| v["verb"] == "create")
        .unwrap();
    let attached = r
        .first_write("VolumeAttachment", |v| {
            v["object"]["status"]["attached"] == true
        })
        .unwrap();
    assert_eq!(attached - created, 6 * SECOND + 10_000, "2 s × 3");
    r.act("kubectl", |c| {
        c.delete::<Pod>(&ObjectKey::new("default", "p1"), &DeleteOptions::default())
            .unwrap();
    });
    r.until(secs(120));
    let deleted = va_deleted_at(&r).unwrap();
    let gone = r
        .writes("VolumeAttachment")
        .into_iter()
        .find(|l| l.v["removed"] == true)
        .unwrap()
        .t;
    assert_eq!(gone - deleted, 3 * SECOND + 10_000, "1 s × 3");
}

#[test]
fn a_stuck_detach_holds_the_volume_until_the_fault_ends() {
    let s = one_pod(
        "",
        "",
        &format!(
            "    - {{ at: 60s, duration: 3m, stuckDetach: {{ driver: {DRIVER}, node: {NODE_A} }} }}\n"
        ),
        "db",
    );
    let mut r = Run::start(&s);
    r.until(secs(60));
    r.act("kubectl", |c| {
        c.delete::<Pod>(&ObjectKey::new("default", "p1"), &DeleteOptions::default())
            .unwrap();
    });
    r.until(secs(239));
    let vas = r.attachments();
    assert_eq!(vas.len(), 1, "the detach hangs");
    assert!(vas[0].metadata.deletion_timestamp.is_some());
    assert_eq!(
        vas[0].status.detach_error.as_ref().unwrap().message,
        "rpc error: code = DeadlineExceeded desc = context deadline exceeded"
    );
    // The controller's detach operation fails on the detach error (and is retried).
    assert!(!r.notes("DetachVolume.Detach failed").is_empty());
    r.until(secs(600));
    assert!(r.attachments().is_empty(), "detached after the fault");
    let gone = r
        .writes("VolumeAttachment")
        .into_iter()
        .find(|l| l.v["removed"] == true)
        .unwrap()
        .t;
    assert!(gone > 240 * SECOND, "{gone}");
}

#[test]
fn a_cloud_that_fences_refuses_a_second_attachment() {
    // A VolumeAttachment made by hand for node B while the volume is attached to A: the
    // attacher calls ControllerPublish, which the cloud refuses (EBS "VolumeInUse").
    let mut r = Run::start(&one_pod("", "", "", "db"));
    r.until(secs(60));
    let pv = r.pv_of("data");
    let handle = pv.spec.csi.as_ref().unwrap().volume_handle.clone();
    let name = stsim::control::attach_detach::attachment_name(&handle, DRIVER, NODE_B);
    let pv_name = pv.metadata.name.clone();
    r.act("kubectl", |c| {
        let mut va = VolumeAttachment::default();
        va.metadata.name = name.clone();
        va.spec.attacher = DRIVER.into();
        va.spec.node_name = NODE_B.into();
        va.spec.source.persistent_volume_name = Some(pv_name);
        c.create(va).unwrap();
    });
    r.until(secs(70));
    let va = r
        .sim
        .api()
        .get::<VolumeAttachment>(&ObjectKey::cluster(&name))
        .unwrap()
        .clone();
    assert!(!va.status.attached);
    assert_eq!(
        va.status.attach_error.as_ref().unwrap().message,
        format!(
            "rpc error: code = FailedPrecondition desc = Could not attach volume \"{handle}\" to node \"{NODE_B}\": volume is already attached to node \"{NODE_A}\" (VolumeInUse)"
        )
    );
    assert!(r.sim.findings().is_empty(), "{:?}", r.sim.findings());
}

/// `n` pods with a claim each, spread over 10 nodes, all created at once.
pub(crate) fn storm(n: usize, driver: &str) -> Scenario {
    let mut manifests = String::new();
    for i in 0..n {
        let node = format!("w-a-{}", 1 + i % 10);
        manifests.push_str(&claim(&format!("data-{i}"), "ReadWriteOnce"));
        manifests.push_str(&pod_manifest(
            &format!("p{i}"),
            &node,
            &format!("data-{i}"),
            "db",
        ));
    }
    scenario(Parts {
        driver: driver.into(),
        manifests,
        nodes: 10,
        ..Default::default()
    })
}

/// Attach latency of every VolumeAttachment (created → attached), in creation order.
pub(crate) fn attach_latencies(r: &Run) -> Vec<u64> {
    let mut created = std::collections::BTreeMap::new();
    let mut out: Vec<(u64, u64)> = Vec::new();
    for l in r.writes("VolumeAttachment") {
        let name = l.v["name"].as_str().unwrap().to_string();
        if l.v["verb"] == "create" {
            created.insert(name, l.t);
        } else if l.v["object"]["status"]["attached"] == true
            && let Some(c) = created.remove(&name)
        {
            out.push((c, l.t - c));
        }
    }
    out.sort();
    out.into_iter().map(|(_, d)| d).collect()
}

fn percentile(sorted: &[u64], p: usize) -> u64 {
    sorted[(sorted.len() - 1) * p / 100]
}

#[test]
fn attach_latency_grows_with_load_when_attacher_workers_are_the_limit() {
    // 300 attaches of 2 s each through 10 attacher workers: FIFO rounds of 10.
    let s = storm(
        300,
        "        attachWorkers: 10\n        maxVolumesPerNode: 64\n",
    );
    let mut r = Run::start(&s);
    r.until(secs(600));
    let lat = attach_latencies(&r);
    assert_eq!(lat.len(), 300, "every volume attached");
    let mut sorted = lat.clone();
    sorted.sort();
    let (p10, p50, p90) = (
        percentile(&sorted, 10),
        percentile(&sorted, 50),
        percentile(&sorted, 90),
    );
    assert!(
        sorted[0] >= 2 * SECOND && sorted[0] < 3 * SECOND,
        "{sorted:?}"
    );
    assert!(p10 < 10 * SECOND, "p10 {p10}");
    assert!((25 * SECOND..=35 * SECOND).contains(&p50), "p50 {p50}");
    assert!(p90 > 50 * SECOND, "p90 {p90}");
    assert!(*sorted.last().unwrap() <= 62 * SECOND, "30 rounds of 2 s");
    // Later requests wait longer (FIFO): the last tenth waits more than the first.
    let first: u64 = lat[..30].iter().sum::<u64>() / 30;
    let last: u64 = lat[270..].iter().sum::<u64>() / 30;
    assert!(last > first + 40 * SECOND, "{first} {last}");
    // Every pod runs in the end; nothing unsafe happened.
    r.until(secs(900));
    assert!(r.sim.findings().is_empty(), "{:?}", r.sim.findings());
    assert_eq!(
        r.sim
            .api()
            .objects()
            .list::<Pod>()
            .filter(|p| p.is_ready())
            .count(),
        300
    );
}

#[test]
fn attach_latency_grows_with_load_when_the_cloud_throttles() {
    // 100 workers but only 20 cloud operations at once: rounds of 20 × 2 s.
    let s = storm(
        300,
        "        attachWorkers: 100\n        cloudAttachConcurrency: 20\n        maxVolumesPerNode: 64\n",
    );
    let mut r = Run::start(&s);
    r.until(secs(600));
    let mut sorted = attach_latencies(&r);
    assert_eq!(sorted.len(), 300);
    sorted.sort();
    let p50 = percentile(&sorted, 50);
    let max = *sorted.last().unwrap();
    assert!(sorted[0] < 3 * SECOND);
    assert!((12 * SECOND..=20 * SECOND).contains(&p50), "p50 {p50}");
    assert!(
        (28 * SECOND..=33 * SECOND).contains(&max),
        "15 rounds of 2 s: {max}"
    );
}

#[test]
fn attach_and_detach_runs_are_deterministic() {
    let s = one_pod(
        "        attachTime: { median: 2s, sigma: 0.5 }\n        attachFailureRatio: 0.3\n",
        "",
        &format!(
            "    - {{ at: 30s, duration: 1m, attachLatency: {{ driver: {DRIVER}, multiplier: 2 }} }}\n"
        ),
        "db",
    );
    let run = || {
        let mut r = Run::start(&s);
        r.until(secs(60));
        r.act("kubectl", |c| {
            c.delete::<Pod>(&ObjectKey::new("default", "p1"), &DeleteOptions::default())
                .unwrap();
        });
        r.until(secs(300));
        r.trace.0.borrow().clone()
    };
    let (a, b) = (run(), run());
    assert!(!a.is_empty());
    assert!(a == b, "same scenario and seed, same trace bytes");
}
