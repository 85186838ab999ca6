//! The attach/detach controller against an API server, with the test playing the
//! external-attacher (marking VolumeAttachments attached, removing their finalizer) and the
//! kubelet (`volumesInUse`), as upstream's reconciler tests drive a fake plugin.

use super::*;
use crate::api::storage::{CsiPersistentVolumeSource, PersistentVolumeSpec};
use crate::api::{
    Node, ObjectMeta, PersistentVolume, PersistentVolumeClaim, Pod, VolumeAttachment,
};
use crate::apiserver::{ApiClient, ApiServer, Informer, JournalEntry};
use crate::rng::RngStreams;
use crate::time::SimDuration;

const DRIVER: &str = "d.example.com";

struct World {
    api: ApiServer,
    informer: Informer,
    adc: AttachDetachController,
    now: SimTime,
    rng: SimRng,
    /// When the controller's key is next due.
    due: Option<SimTime>,
}

fn ms(v: u64) -> SimDuration {
    SimDuration::from_millis(v)
}

impl World {
    fn new(config: AttachDetachConfig) -> Self {
        let rngs = RngStreams::new(3);
        let mut w = World {
            api: ApiServer::new(Default::default()),
            informer: Informer::new(ms(10)),
            adc: AttachDetachController::new(config, rngs.stream("adc")),
            now: SimTime::ZERO,
            rng: rngs.stream("t"),
            due: None,
        };
        for n in ["a", "b"] {
            let mut node = Node::default();
            node.metadata.name = n.into();
            node.metadata.annotations.insert(
                crate::api::node::well_known::ANNOTATION_CONTROLLER_MANAGED_ATTACH.into(),
                "true".into(),
            );
            node.status
                .conditions
                .push(crate::api::node::NodeCondition {
                    type_: "Ready".into(),
                    status: "True".into(),
                    ..Default::default()
                });
            w.client("kubelet").create(node).unwrap();
        }
        w
    }

    fn client<'a>(&'a mut self, actor: &'static str) -> ApiClient<'a> {
        let actor: &'a Actor = Box::leak(Box::new(Actor::new(actor)));
        ApiClient::new(&mut self.api, actor, self.now)
    }

    /// A bound claim `name` in `ns` on a CSI volume `pv-<name>` with these access modes.
    fn volume(&mut self, ns: &str, name: &str, modes: &[&str]) {
        let pv = PersistentVolume {
            metadata: ObjectMeta {
                name: format!("pv-{name}"),
                ..Default::default()
            },
            spec: PersistentVolumeSpec {
                access_modes: modes.iter().map(|m| m.to_string()).collect(),
                claim_ref: Some(crate::api::ObjectReference {
                    namespace: ns.into(),
                    name: name.into(),
                    ..Default::default()
                }),
                csi: Some(CsiPersistentVolumeSource {
                    driver: DRIVER.into(),
                    volume_handle: format!("vol-{name}"),
                    ..Default::default()
                }),
                ..Default::default()
            },
            ..Default::default()
        };
        self.client("pv-controller").create(pv).unwrap();
        let mut pvc = PersistentVolumeClaim {
            metadata: ObjectMeta::named(ns, name),
            ..Default::default()
        };
        pvc.spec.volume_name = format!("pv-{name}");
        let pvc = self.client("pv-controller").create(pvc).unwrap();
        let mut bound = (*pvc).clone();
        bound.status.phase = "Bound".into();
        self.client("pv-controller").update_status(&bound).unwrap();
    }

    fn pod(&mut self, ns: &str, name: &str, node: &str, claim: &str) {
        let mut p = Pod {
            metadata: ObjectMeta::named(ns, name),
            ..Default::default()
        };
        p.spec.node_name = node.into();
        p.spec.volumes.push(crate::api::pod::Volume {
            name: "www".into(),
            persistent_volume_claim: Some(crate::api::pod::PersistentVolumeClaimVolumeSource {
                claim_name: claim.into(),
                read_only: false,
            }),
            ..Default::default()
        });
        self.client("kubectl").create(p).unwrap();
    }

    /// Delivers due watch events and runs the controller's due syncs, until `until`.
    fn run_until(&mut self, until: SimTime) {
        loop {
            let delivery = self
                .api
                .journal_entry(self.informer.cursor())
                .map(|e| e.at() + ms(10));
            let t = [delivery, self.due].into_iter().flatten().min();
            let Some(t) = t.filter(|t| *t <= until) else {
                break;
            };
            self.now = t;
            let mut q = Enqueue::default();
            if delivery == Some(t) {
                let mut batch = Vec::new();
                self.informer
                    .catch_up(&self.api, t, |old, ev, _| batch.push((old, ev.clone())));
                for (old, ev) in &batch {
                    self.adc
                        .on_watch(old.as_ref(), ev, &self.informer.cache, &mut q);
                }
            } else {
                self.due = None;
                let mut timers = Vec::new();
                let mut notes = Vec::new();
                let mut ctx = Ctx::new(t, &mut self.api, &mut self.rng, &mut timers, &mut notes);
                self.adc
                    .sync(&key(), &self.informer.cache, &mut ctx, &mut q)
                    .unwrap();
            }
            let mut next: Vec<SimTime> = q.now.iter().map(|_| t).collect();
            next.extend(q.after.iter().map(|(d, _)| t + *d));
            if let Some(n) = next.into_iter().min() {
                self.due = Some(self.due.map_or(n, |d| d.min(n)));
            }
        }
        self.now = until;
    }

    fn run_for(&mut self, d: SimDuration) {
        self.run_until(self.now + d);
    }

    fn attachments(&self) -> Vec<std::rc::Rc<VolumeAttachment>> {
        self.api
            .objects()
            .list::<VolumeAttachment>()
            .cloned()
            .collect()
    }

    /// The external-attacher's answer: every VolumeAttachment attached (and finalized).
    fn attach_all(&mut self) {
        for va in self.attachments() {
            let mut v = (*va).clone();
            if !v.metadata.finalizers.contains(&"ea".to_string()) {
                v.metadata.finalizers.push("ea".into());
                v = (*self.client("external-attacher").update(v).unwrap()).clone();
            }
            v.status.attached = true;
            self.client("external-attacher").update_status(&v).unwrap();
        }
    }

    fn warnings(&self) -> Vec<(String, String)> {
        (0..self.api.journal_end())
            .filter_map(|i| match self.api.journal_entry(i) {
                Some(JournalEntry::Event { event, .. }) if event.type_ == "Warning" => {
                    Some((event.involved_object.name.clone(), event.message.clone()))
                }
                _ => None,
            })
            .collect()
    }
}

fn config() -> AttachDetachConfig {
    AttachDetachConfig::default()
}

#[test]
fn ticks_are_on_the_100ms_grid() {
    let t = |n| SimTime::ZERO + SimDuration::from_nanos(n);
    assert_eq!(tick_at_or_after(t(0)), t(0));
    assert_eq!(tick_at_or_after(t(1)), t(100_000_000));
    assert_eq!(tick_after(t(100_000_000)), t(200_000_000));
    assert_eq!(tick_after(t(150_000_000)), t(200_000_000));
}

#[test]
fn a_scheduled_pod_gets_one_volume_attachment_per_volume_and_node() {
    let mut w = World::new(config());
    w.volume("default", "data", &["ReadWriteOnce"]);
    w.pod("default", "p1", "a", "data");
    w.run_for(ms(500));
    let vas = w.attachments();
    assert_eq!(vas.len(), 1);
    assert_eq!(
        vas[0].metadata.name,
        attachment_name("vol-data", DRIVER, "a")
    );
    assert_eq!(
        vas[0].spec.source.persistent_volume_name.as_deref(),
        Some("pv-data")
    );
    // Created at the first 100 ms pass after the controller saw the pod (at 10 ms).
    let created = w.attachments()[0].metadata.creation_timestamp.unwrap();
    assert_eq!(created.time(), SimTime::ZERO);
    // Attached: the node status lists it once the controller's poll sees it.
    w.attach_all();
    w.run_for(SimDuration::from_secs(2));
    let node = w.api.objects().nodes[&ObjectKey::cluster("a")].clone();
    assert_eq!(
        node.status
            .volumes_attached
            .iter()
            .map(|v| v.name.as_str())
            .collect::<Vec<_>>(),
        ["kubernetes.io/csi/d.example.com^vol-data"]
    );
}

#[test]
fn unbound_claims_and_drivers_without_attach_are_not_attached() {
    let mut cfg = config();
    cfg.attach_required.insert(DRIVER.into(), false);
    let mut w = World::new(cfg);
    w.volume("default", "data", &["ReadWriteOnce"]);
    w.pod("default", "p1", "a", "data");
    // An unscheduled pod and a pod whose claim is missing: nothing either.
    w.pod("default", "p2", "", "data");
    w.pod("default", "p3", "b", "nope");
    w.run_for(SimDuration::from_secs(2));
    assert!(w.attachments().is_empty());
}

#[test]
fn multi_attach_errors_name_every_pod_holding_the_volume_once_per_pod_and_node() {
    let mut w = World::new(config());
    w.volume("default", "data", &["ReadWriteOnce"]);
    w.pod("default", "p1", "a", "data");
    w.pod("default", "p1b", "a", "data");
    w.run_for(ms(500));
    w.attach_all();
    w.run_for(SimDuration::from_secs(2));
    // Two pods on b want it: each gets its own Event, once.
    w.pod("default", "p2", "b", "data");
    w.pod("default", "p3", "b", "data");
    w.run_for(SimDuration::from_secs(30));
    let mut got = w.warnings();
    got.sort();
    let msg = "Multi-Attach error for volume \"pv-data\" Volume is already used by pod(s) p1, p1b";
    assert_eq!(
        got,
        [
            ("p2".to_string(), msg.to_string()),
            ("p3".to_string(), msg.to_string())
        ]
    );
    assert_eq!(w.attachments().len(), 1, "not attached to b");
}

#[test]
fn multi_attachable_volumes_attach_to_several_nodes() {
    let mut w = World::new(config());
    w.volume("default", "data", &["ReadWriteMany"]);
    w.pod("default", "p1", "a", "data");
    w.pod("default", "p2", "b", "data");
    w.run_for(ms(500));
    let nodes: Vec<String> = w
        .attachments()
        .iter()
        .map(|v| v.spec.node_name.clone())
        .collect();
    assert_eq!(nodes.len(), 2, "{nodes:?}");
    assert!(w.warnings().is_empty());
}

#[test]
fn an_attach_that_is_never_answered_times_out_after_2_minutes() {
    let mut w = World::new(config());
    w.volume("default", "data", &["ReadWriteOnce"]);
    w.pod("default", "p1", "a", "data");
    w.run_for(SimDuration::from_secs(125));
    let warnings = w.warnings();
    assert_eq!(
        warnings,
        [(
            "p1".to_string(),
            "AttachVolume.Attach failed for volume \"pv-data\" : timed out waiting for external-attacher of d.example.com CSI driver to attach volume vol-data".to_string()
        )]
    );
}

#[test]
fn a_pod_that_terminates_releases_its_volume() {
    let mut w = World::new(config());
    w.volume("default", "data", &["ReadWriteOnce"]);
    w.pod("default", "p1", "a", "data");
    w.run_for(ms(500));
    w.attach_all();
    w.run_for(SimDuration::from_secs(2));
    // The pod ends (phase Failed): its volume is no longer desired; nothing reports it in
    // use, so it is detached at once (the VolumeAttachment is deleted).
    let p = w.api.objects().pods[&ObjectKey::new("default", "p1")].clone();
    let mut done = (*p).clone();
    done.status.phase = "Failed".into();
    w.client("kubelet").update_status(&done).unwrap();
    w.run_for(SimDuration::from_secs(1));
    let vas = w.attachments();
    assert_eq!(vas.len(), 1);
    assert!(vas[0].metadata.deletion_timestamp.is_some(), "detaching");
}
