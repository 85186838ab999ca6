//! One node's kubelet: its identity and node-wide state ([`NodeEnv`]: API identity, random
//! stream, images, crash-loop back-off, pod IPs) and its pod workers, one per pod uid bound
//! to the node. Pod events from the informer are handled as `HandlePodAdditions`,
//! `HandlePodUpdates` and `HandlePodRemoves` do; timers are routed to the pod worker they
//! belong to and dropped when the worker has moved on (generation mismatch).

use super::backoff::Backoff;
use super::images::ImageManager;
use super::lifecycle::KubeletState;
use super::node_status;
use super::parking::{QuietTick, SharedLot};
use super::pod_worker::{PodWorker, Stage};
use super::pod_workers::PodWorkers;
use super::{ContainerTimer, KCtx, KubeletTimer, PodTimer};
use crate::api::pod::phase;
use crate::api::{Pod, Tables};
use crate::apiserver::Actor;
use crate::rng::{Latency, RngStreams, SimRng};
use crate::scenario::{ImageSpec, NodeSpecInput, Timing};
use std::rc::Rc;

/// What every pod worker of a node shares.
pub struct NodeEnv {
    pub spec: NodeSpecInput,
    pub index: u32,
    /// `kubelet/<node>`: the trace's actor and the Events' source (component `kubelet`,
    /// host = the node).
    pub actor: Actor,
    pub host_ip: String,
    /// The node's own stream `kubelet/<node>`: pull, start and shutdown times.
    pub rng: SimRng,
    pub images: ImageManager,
    /// `Kubelet.crashLoopBackOff`, keyed by the container's stable key.
    pub crash_backoff: Backoff,
    pub container_start: Latency,
    /// The volume manager (`volumes.rs`).
    pub volumes: super::volumes::VolumeManager,
    /// Lease renewal and node status posts (`heartbeat.rs`).
    pub heartbeat: super::heartbeat::Heartbeat,
    /// Boots of the machine so far (`lifecycle.rs`); pod workers created after boot `b`
    /// number their generations from `b << 32`, so timers from before a crash are stale.
    pub boot: u64,
    pub boot_generation: u64,
    next_pod_ip: u32,
    /// The simulation's parked probe tickers (`parking.rs`): ticker keys come from it.
    pub parking: SharedLot,
}

impl NodeEnv {
    /// The next pod IP from the node's /24 of `10.244.0.0/16`-style pod CIDRs (the network
    /// plugin's job; deterministic here: node index and a per-node counter).
    pub fn allocate_pod_ip(&mut self) -> String {
        let host = 2 + self.next_pod_ip % 253;
        self.next_pod_ip += 1;
        let i = self.index;
        format!("10.{}.{}.{host}", 244 + i / 256, i % 256)
    }

    /// Starts the next queued image pull if the node's puller is idle.
    pub fn kick_puller(&mut self, ctx: &mut KCtx<'_>) {
        if let Some(took) = self.images.start_next(ctx.now, &mut self.rng) {
            ctx.after(took, KubeletTimer::PullDone { node: self.index });
        }
    }
}

pub struct Kubelet {
    pub env: NodeEnv,
    /// Pod workers by pod uid (a recreated StatefulSet pod has a new uid and a new worker).
    pub(super) pods: PodWorkers,
    /// Whether the process runs (`lifecycle.rs`); changed only by `set_state`, which has
    /// parked probe tickers checked.
    state: KubeletState,
    /// Timers that came due while the kubelet was down, to fire when it starts again.
    pub(super) deferred: Vec<KubeletTimer>,
}

impl Kubelet {
    pub fn new(
        index: u32,
        spec: &NodeSpecInput,
        images: &[ImageSpec],
        timing: &Timing,
        rngs: &RngStreams,
        parking: &SharedLot,
    ) -> Self {
        Kubelet {
            env: NodeEnv {
                spec: spec.clone(),
                index,
                actor: Actor::on_host("kubelet", &spec.name),
                host_ip: format!("172.16.{}.{}", index / 250, 10 + index % 250),
                rng: rngs.stream(&format!("kubelet/{}", spec.name)),
                images: ImageManager::new(images, timing),
                crash_backoff: Backoff::kubelet(),
                container_start: timing.container_start,
                volumes: super::volumes::VolumeManager::new(
                    &spec.name,
                    rngs,
                    timing.kubelet.node_status_update_frequency,
                ),
                heartbeat: super::heartbeat::Heartbeat::new(
                    &spec.name,
                    &timing.kubelet,
                    rngs.stream(&format!("kubelet/{}/lease", spec.name)),
                ),
                next_pod_ip: 0,
                boot: 0,
                boot_generation: 0,
                parking: Rc::clone(parking),
            },
            pods: PodWorkers::new(index, Rc::clone(parking)),
            state: KubeletState::Running,
            deferred: Vec::new(),
        }
    }

    /// Whether the process runs.
    pub fn state(&self) -> KubeletState {
        self.state
    }

    /// The process starts or stops: every probe tick reads this, so parked tickers are
    /// checked after the event.
    pub fn set_state(&mut self, state: KubeletState) {
        if state != self.state {
            self.state = state;
            self.pods.watch_all();
        }
    }

    /// `registerWithAPIServer`: creates the Node; a Node left by an earlier registration is
    /// taken over with the fresh status.
    pub fn register(&mut self, ctx: &mut KCtx<'_>) {
        let node = node_status::initial_node(&self.env.spec, ctx.now);
        let mut client = ctx.client(&self.env.actor);
        let created = match client.create(node.clone()) {
            Ok(created) => created,
            Err(e) if e.is_already_exists() => {
                match client.get(&crate::api::ObjectKey::cluster(&node.metadata.name)) {
                    Some(existing) => existing,
                    None => return,
                }
            }
            Err(_) => return,
        };
        // The create keeps the status the kubelet sent; should a strategy ever reset it,
        // the status write puts it back (a no-op write records nothing).
        let mut with_status = (*created).clone();
        with_status.status = node.status;
        with_status.metadata.resource_version.clear();
        let posted = client
            .update_status(&with_status)
            .is_ok()
            .then_some(ctx.now);
        let index = self.env.index;
        self.env.heartbeat.start(index, posted, ctx);
    }

    /// A pod bound to this node was added, updated or removed in the informer.
    pub fn on_pod(&mut self, pod: &Rc<Pod>, removed: bool, cache: &Tables, ctx: &mut KCtx<'_>) {
        let uid = pod.metadata.uid.clone();
        let env = &mut self.env;
        if let Some(w) = self.pods.get_mut(&uid) {
            w.pod = Rc::clone(pod);
            if removed {
                // `HandlePodRemoves`: force-deleted, or our own final delete coming back.
                w.gone = true;
                w.begin_termination(env, ctx);
            } else if pod.is_terminating() {
                match w.stage {
                    Stage::Terminating => w.shorten_grace(env, ctx),
                    Stage::Terminated => w.final_delete(env, ctx),
                    Stage::WaitingForVolumes | Stage::Running => w.begin_termination(env, ctx),
                }
            }
            if w.gone && w.stage == Stage::Terminated {
                self.pods.remove(&uid);
            }
            return;
        }
        if removed {
            return;
        }
        let mut w = PodWorker::new(pod, env);
        w.generation = env.boot_generation;
        let terminal = [phase::SUCCEEDED, phase::FAILED].contains(&pod.status.phase.as_str());
        if terminal {
            // Pod phase progresses monotonically: a terminal pod is never run again; if it
            // is being deleted, only the final delete is left (`filterTerminalPodsToDelete`).
            w.stage = Stage::Terminated;
            w.final_delete(env, ctx);
        } else if env.heartbeat.is_shutting_down() {
            super::shutdown::reject(&mut w, env, ctx);
        } else {
            w.admit(env, cache, ctx);
        }
        self.pods.insert(uid, w);
    }

    pub fn on_timer(&mut self, timer: KubeletTimer, ctx: &mut KCtx<'_>) {
        let env = &mut self.env;
        match timer {
            KubeletTimer::PullDone { .. } => {
                let outcome = env.images.finish(ctx.now);
                env.kick_puller(ctx);
                let req = &outcome.request;
                if let Some(w) = self.pods.get_mut(&req.uid)
                    && w.generation == req.generation
                {
                    w.on_pull_done(outcome, env, ctx);
                }
            }
            KubeletTimer::Sync(t) => {
                if let Some(w) = self.pods.live_mut(&t) {
                    w.on_sync_timer(env, ctx);
                }
            }
            KubeletTimer::Resync(t) => {
                if let Some(w) = self.pods.live_mut(&t) {
                    w.on_resync_timer(env, ctx);
                }
            }
            KubeletTimer::ContainerStarted(c) => {
                if let Some(w) = self.pods.live_mut(&c.pod) {
                    w.on_started(c.container as usize, c.token, env, ctx);
                }
            }
            KubeletTimer::ContainerExited(c) => {
                if let Some(w) = self.pods.live_mut(&c.pod) {
                    w.on_exited(c.container as usize, c.token, env, ctx);
                }
            }
            KubeletTimer::ContainerStopped(ContainerTimer {
                pod,
                container,
                token,
            }) => {
                if let Some(w) = self.pods.live_mut(&pod) {
                    w.on_stopped(container as usize, token, env, ctx);
                    if w.gone && w.stage == Stage::Terminated {
                        self.pods.remove(&pod.uid);
                    }
                }
            }
            KubeletTimer::Probe {
                pod,
                container,
                kind,
                ..
            } => {
                if let Some(w) = self.pods.live_mut(&pod) {
                    w.on_probe(container as usize, kind, env, ctx);
                }
            }
            KubeletTimer::Heartbeat { epoch, .. } => {
                env.heartbeat.on_timer(env.index, epoch, &env.actor, ctx);
            }
            // Routed with the informer cache by `NodeAgents::on_timer`.
            KubeletTimer::Volume(_) => {}
        }
    }
}

impl Kubelet {
    /// A probe timer's tick if it is quiet (see `PodWorker::quiet_probe`); a timer whose
    /// worker has moved on is quiet too (the full path drops it).
    pub fn quiet_probe(
        &mut self,
        pod: &PodTimer,
        container: u32,
        kind: super::ProbeKind,
        now: crate::time::SimTime,
        park: bool,
    ) -> Option<QuietTick> {
        match self.pods.ticked_mut(pod) {
            Some(w) => w.quiet_probe(container as usize, kind, now, park),
            None => Some(QuietTick::Stopped),
        }
    }
}
