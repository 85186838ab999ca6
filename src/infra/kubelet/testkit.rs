//! A tiny engine for the kubelet tests: one API server, the node agents, their timers
//! (earliest first, first-in first-out among equal times) and informer deliveries, plus
//! helpers to write objects as other actors and to read back Events and status writes.

use super::{KubeletTimer, NodeAgents};
use crate::api::pod::{Container, PersistentVolumeClaimVolumeSource, PodSpec, Volume};
use crate::api::{ObjectKey, ObjectMeta, PersistentVolumeClaim, Pod};
use crate::apiserver::{Actor, ApiClient, ApiServer, DeleteOptions, Informer, JournalEntry, Verb};
use crate::component::{Ctx, Note};
use crate::rng::{Latency, RngStreams, SimRng};
use crate::scenario::{ImageBehavior, ImageSpec, NodeSpecInput, Timing};
use crate::time::{SimDuration, SimTime};
use std::collections::BTreeMap;
use std::rc::Rc;

pub fn secs(s: u64) -> SimDuration {
    SimDuration::from_secs(s)
}
pub fn ms(m: u64) -> SimDuration {
    SimDuration::from_millis(m)
}

/// Fixed latencies, so tests can state exact times: pulls 2 s, starts 500 ms, shutdown
/// 500 ms, watch delay 10 ms.
pub fn fixed_timing() -> Timing {
    Timing {
        watch_delay: ms(10),
        default_image_pull: Latency::Fixed(secs(2)),
        container_start: Latency::Fixed(ms(500)),
        default_shutdown: Latency::Fixed(ms(500)),
        ..Timing::default()
    }
}

pub fn image(
    name: &str,
    pull: SimDuration,
    behavior: ImageBehavior,
    shutdown: SimDuration,
) -> ImageSpec {
    ImageSpec {
        image: name.into(),
        pull: Latency::Fixed(pull),
        behavior,
        shutdown: Latency::Fixed(shutdown),
    }
}

pub fn node_spec(name: &str) -> NodeSpecInput {
    NodeSpecInput {
        name: name.into(),
        zone: "zone-a".into(),
        pool: "worker".into(),
        capacity: [("cpu", "4"), ("memory", "16Gi"), ("pods", "110")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        labels: BTreeMap::from([("disktype".to_string(), "ssd".to_string())]),
        taints: Vec::new(),
    }
}

pub fn container(name: &str, image: &str) -> Container {
    Container {
        name: name.into(),
        image: image.into(),
        ..Default::default()
    }
}

/// A pod already bound to `node` (as the scheduler would leave it).
pub fn pod(name: &str, node: &str, containers: Vec<Container>) -> Pod {
    Pod {
        metadata: ObjectMeta::named("default", name),
        spec: PodSpec {
            node_name: node.into(),
            containers,
            ..Default::default()
        },
        ..Default::default()
    }
}

pub fn with_claim(mut p: Pod, volume: &str, claim: &str) -> Pod {
    p.spec.volumes.push(Volume {
        name: volume.into(),
        persistent_volume_claim: Some(PersistentVolumeClaimVolumeSource {
            claim_name: claim.into(),
            read_only: false,
        }),
        ..Default::default()
    });
    p
}

/// An Event as the journal recorded it.
#[derive(Clone, Debug, PartialEq)]
pub struct Ev {
    pub at: SimTime,
    pub type_: String,
    pub reason: String,
    pub message: String,
}

pub struct World {
    pub api: ApiServer,
    pub agents: NodeAgents,
    timers: Vec<(SimTime, u64, KubeletTimer)>,
    seq: u64,
    pub notes: Vec<Note>,
    rng: SimRng,
    pub now: SimTime,
}

impl World {
    pub fn new(nodes: &[&str], images: Vec<ImageSpec>, timing: Timing) -> World {
        World::with_seed(nodes, images, timing, 7)
    }

    pub fn with_seed(nodes: &[&str], images: Vec<ImageSpec>, timing: Timing, seed: u64) -> World {
        let specs: Vec<NodeSpecInput> = nodes.iter().map(|n| node_spec(n)).collect();
        let rngs = RngStreams::new(seed);
        let informer = Informer::new(timing.watch_delay);
        let mut w = World {
            api: ApiServer::new(Default::default()),
            agents: NodeAgents::new(informer, &specs, &images, &timing, &rngs),
            timers: Vec::new(),
            seq: 0,
            notes: Vec::new(),
            rng: rngs.stream("engine"),
            now: SimTime::ZERO,
        };
        w.with_ctx(|a, ctx| a.register_all(ctx));
        w
    }

    fn with_ctx(&mut self, f: impl FnOnce(&mut NodeAgents, &mut Ctx<'_, KubeletTimer>)) {
        let mut fresh = Vec::new();
        {
            let mut ctx = Ctx::new(
                self.now,
                &mut self.api,
                &mut self.rng,
                &mut fresh,
                &mut self.notes,
            );
            f(&mut self.agents, &mut ctx);
        }
        for (at, t) in fresh {
            assert!(at >= self.now, "a timer in the past");
            self.seq += 1;
            self.timers.push((at, self.seq, t));
        }
    }

    /// Runs every delivery and timer due up to and including `until`.
    pub fn run_until(&mut self, until: SimTime) {
        loop {
            let next_timer = self
                .timers
                .iter()
                .enumerate()
                .min_by_key(|(_, (at, seq, _))| (*at, *seq))
                .map(|(i, (at, _, _))| (i, *at));
            let delivery = self.agents.next_delivery(&self.api);
            let t = match (next_timer.map(|(_, at)| at), delivery) {
                (Some(a), Some(b)) => a.min(b),
                (a, b) => match a.or(b) {
                    Some(t) => t,
                    None => break,
                },
            };
            if t > until {
                break;
            }
            assert!(t >= self.now, "time went back");
            self.now = t;
            if delivery == Some(t) {
                self.with_ctx(|a, ctx| {
                    a.deliver(ctx);
                });
                continue;
            }
            let (i, _) = next_timer.expect("a timer is due");
            let (_, _, timer) = self.timers.remove(i);
            self.with_ctx(|a, ctx| a.on_timer(timer, ctx));
        }
        self.now = self.now.max(until);
    }

    pub fn run_for(&mut self, d: SimDuration) {
        self.run_until(self.now + d);
    }

    /// [`NodeAgents::fail_container`] now.
    pub fn fail(&mut self, key: &ObjectKey) -> bool {
        let mut failed = false;
        self.with_ctx(|a, ctx| failed = a.fail_container(key, ctx));
        failed
    }

    fn client<'a>(api: &'a mut ApiServer, actor: &'a Actor, now: SimTime) -> ApiClient<'a> {
        ApiClient::new(api, actor, now)
    }

    pub fn create_pod(&mut self, p: Pod) -> Rc<Pod> {
        let actor = Actor::new("kubectl");
        World::client(&mut self.api, &actor, self.now)
            .create(p)
            .expect("the pod is new")
    }

    /// `kubectl delete pod NAME [--grace-period=N]`.
    pub fn delete_pod(&mut self, name: &str, grace: Option<i64>) {
        let actor = Actor::new("kubectl");
        let opts = DeleteOptions {
            grace_period_seconds: grace,
            ..Default::default()
        };
        World::client(&mut self.api, &actor, self.now)
            .delete::<Pod>(&ObjectKey::new("default", name), &opts)
            .expect("the pod exists");
    }

    pub fn create_claim(&mut self, name: &str) {
        let actor = Actor::new("kubectl");
        let pvc = PersistentVolumeClaim {
            metadata: ObjectMeta::named("default", name),
            ..Default::default()
        };
        World::client(&mut self.api, &actor, self.now)
            .create(pvc)
            .expect("the claim is new");
    }

    /// Marks the claim Bound, as the PV controller would.
    pub fn bind_claim(&mut self, name: &str) {
        let actor = Actor::new("persistentvolume-controller");
        let mut c = World::client(&mut self.api, &actor, self.now);
        let live = c
            .get::<PersistentVolumeClaim>(&ObjectKey::new("default", name))
            .expect("the claim exists");
        let mut bound = (*live).clone();
        bound.status.phase = "Bound".into();
        c.update_status(&bound).expect("no conflict");
    }

    pub fn pod(&self, name: &str) -> Option<Rc<Pod>> {
        self.api
            .get::<Pod>(&ObjectKey::new("default", name))
            .cloned()
    }

    /// Every Event recorded about the pod, in order (a repeat counts again).
    pub fn events(&self, name: &str) -> Vec<Ev> {
        (0..self.api.journal_end())
            .filter_map(|i| match self.api.journal_entry(i) {
                Some(JournalEntry::Event { at, event }) if event.involved_object.name == name => {
                    Some(Ev {
                        at: *at,
                        type_: event.type_.clone(),
                        reason: event.reason.clone(),
                        message: event.message.clone(),
                    })
                }
                _ => None,
            })
            .collect()
    }

    pub fn events_with(&self, name: &str, reason: &str) -> Vec<Ev> {
        self.events(name)
            .into_iter()
            .filter(|e| e.reason == reason)
            .collect()
    }

    /// Every write of the pod: time, verb, whether it removed the object, actor, object.
    pub fn writes(&self, name: &str) -> Vec<(SimTime, Verb, bool, String, Rc<Pod>)> {
        (0..self.api.journal_end())
            .filter_map(|i| match self.api.journal_entry(i) {
                Some(JournalEntry::Write(w)) => match w.obj.as_pod() {
                    Some(p) if p.metadata.name == name => {
                        Some((w.at, w.verb, w.removed, w.actor.to_string(), Rc::clone(p)))
                    }
                    _ => None,
                },
                _ => None,
            })
            .collect()
    }

    /// The kubelet's status writes of the pod.
    pub fn status_writes(&self, name: &str) -> Vec<(SimTime, Rc<Pod>)> {
        self.writes(name)
            .into_iter()
            .filter(|(_, verb, _, actor, _)| *verb == Verb::Status && actor.starts_with("kubelet/"))
            .map(|(at, _, _, _, p)| (at, p))
            .collect()
    }

    /// When the pod first had condition Ready=True, per the kubelet's writes.
    pub fn ready_at(&self, name: &str) -> Option<SimTime> {
        self.status_writes(name)
            .into_iter()
            .find(|(_, p)| p.is_ready())
            .map(|(at, _)| at)
    }
}
