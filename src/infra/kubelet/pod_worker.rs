//! One pod on one node: the pod worker (`pkg/kubelet/pod_workers.go`) and the sync it runs
//! while the pod should be running (`Kubelet.SyncPod` → `kubeGenericRuntimeManager.SyncPod`).
//!
//! Admitted when the kubelet first sees the pod bound to its node; waits for its volumes
//! (`WaitForAttachAndMount`); then the sandbox gets its IP, the probe workers start, and the
//! containers are started one after another, each with `EnsureImageExists` (pull or
//! "already present"), create and start. Exited containers are restarted under the
//! crash-loop back-off; failed pulls are retried under the image back-off.
//!
//! Everything slow is a timer carrying the worker's generation (and, for container
//! timers, the container's token); a timer whose generation or token moved on is stale and
//! ignored — nothing is ever cancelled. Termination lives in `termination.rs`.

use super::container::{ContainerRuntime, RuntimeState, Termination, reason};
use super::events::{self, record};
use super::images::{PullOutcome, PullRequest, image_size_bytes};
use super::node_kubelet::NodeEnv;
use super::prober::ProbeWorker;
use super::volumes::VolumeWait;
use super::{ContainerTimer, KCtx, KubeletTimer, PodTimer};
use crate::api::{ObjectKey, Pod, Tables};
use crate::apiserver::EventType;
use crate::scenario::ImageBehavior;
use crate::time::{SimDuration, SimTime};
use std::collections::BTreeSet;
use std::rc::Rc;

/// `genericPlegRelistPeriod`: the kubelet sees runtime changes on its next relist, so a
/// failed pull is followed by a sync (which finds the back-off) a second later.
pub const PLEG_RELIST_PERIOD: SimDuration = SimDuration::from_secs(1);
/// How long a `CrashLoop` image runs before it exits with code 1.
pub const CRASH_AFTER: SimDuration = SimDuration::from_secs(1);
/// The kubelet's `--sync-frequency` (`resyncInterval`): a pod worker syncs again this long
/// after its last sync even if nothing happened, ...
pub const RESYNC_INTERVAL: SimDuration = SimDuration::from_secs(60);
/// ... stretched by up to half (`workerResyncIntervalJitterFactor`, `wait.Jitter`).
const RESYNC_JITTER: f64 = 0.5;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// Admitted; `WaitForAttachAndMount` has not succeeded yet, so no sandbox.
    WaitingForVolumes,
    /// The sandbox runs; syncs start and restart containers.
    Running,
    /// `SyncTerminatingPod`: containers are stopping.
    Terminating,
    /// Every container has stopped and the final status is written (and the pod deleted
    /// if it was being deleted). The worker stays until the object is gone.
    Terminated,
}

/// The slow step a sync waits on: `SyncPod` starts containers one after another, and a
/// pull blocks the pod's sync until the node's serial puller has done it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Busy {
    Pulling(usize),
    Starting(usize),
}

pub struct PodWorker {
    pub uid: String,
    /// `uid` again, shared by the worker's timers.
    timer_uid: Rc<str>,
    pub key: ObjectKey,
    /// The newest version the informer delivered.
    pub pod: Rc<Pod>,
    /// Bumped when the worker moves to termination and when it ends: older timers are stale.
    pub generation: u64,
    pub stage: Stage,
    /// The object left the API server (force delete, or our own final delete).
    pub gone: bool,
    pub pod_ip: Option<String>,
    pub sandbox_ready: bool,
    pub containers: Vec<ContainerRuntime>,
    /// Probe workers per container (readiness and/or startup).
    pub probes: Vec<Vec<ProbeWorker>>,
    /// The grace period the containers were given (seconds already floored by `KillPod`).
    pub grace: SimDuration,
    busy: Option<Busy>,
    /// A sync was asked for while another was blocked on `busy`.
    sync_queued: bool,
    pending_syncs: BTreeSet<SimTime>,
    /// When the periodic resync is due (re-armed by every completed sync).
    resync_at: Option<SimTime>,
    pub(super) waiting_note: Option<String>,
    /// `WaitForAttachAndMount` (`volumes.rs`).
    pub(super) volume_wait: VolumeWait,
    /// Killed by the graceful node shutdown manager (`shutdown.rs`): the grace it gave,
    /// and the terminal status it asks for.
    pub(super) shutdown_grace: Option<SimDuration>,
    /// The inputs of the last status write that found nothing to write (`status_memo.rs`).
    pub(super) status_memo: Option<super::status_memo::StatusMemo>,
    /// How many of the probe workers are parked (`parking.rs`).
    pub(super) parked_probes: u32,
}

impl PodWorker {
    pub fn new(pod: &Rc<Pod>, env: &NodeEnv) -> Self {
        let containers = pod
            .spec
            .containers
            .iter()
            .map(|c| ContainerRuntime::new(&c.name, &c.image, env.images.behavior(&c.image)))
            .collect::<Vec<_>>();
        PodWorker {
            uid: pod.metadata.uid.clone(),
            timer_uid: Rc::from(pod.metadata.uid.as_str()),
            key: ObjectKey::of(&pod.metadata),
            pod: Rc::clone(pod),
            generation: 0,
            stage: Stage::WaitingForVolumes,
            gone: false,
            pod_ip: None,
            sandbox_ready: false,
            probes: vec![Vec::new(); containers.len()],
            containers,
            grace: SimDuration::ZERO,
            busy: None,
            sync_queued: false,
            pending_syncs: BTreeSet::new(),
            resync_at: None,
            waiting_note: None,
            volume_wait: VolumeWait::Idle,
            shutdown_grace: None,
            status_memo: None,
            parked_probes: 0,
        }
    }

    /// The uid its timers share.
    pub fn timer_uid(&self) -> Rc<str> {
        Rc::clone(&self.timer_uid)
    }

    pub fn timer(&self, env: &NodeEnv) -> PodTimer {
        PodTimer {
            node: env.index,
            uid: Rc::clone(&self.timer_uid),
            generation: self.generation,
        }
    }

    fn container_timer(&self, env: &NodeEnv, idx: usize) -> ContainerTimer {
        ContainerTimer {
            pod: self.timer(env),
            container: idx as u32,
            token: self.containers[idx].token,
        }
    }

    /// First sight of the pod (`HandlePodAdditions` → the first `SyncPod`).
    pub fn admit(&mut self, env: &mut NodeEnv, cache: &Tables, ctx: &mut KCtx<'_>) {
        if self.pod.is_terminating() {
            self.begin_termination(env, ctx);
            return;
        }
        self.check_volumes(env, cache, ctx);
    }

    /// `WaitForAttachAndMount` (`volumes.rs`), re-run on admission, whenever a claim, volume
    /// or the node's attached volumes change, and on the wait's own timers. The first status
    /// (Pending, `ContainerCreating`) is written before the wait, as `SyncPod` does.
    pub fn check_volumes(&mut self, env: &mut NodeEnv, cache: &Tables, ctx: &mut KCtx<'_>) {
        if self.stage != Stage::WaitingForVolumes {
            return;
        }
        if self.wait_for_attach_and_mount(env, cache, ctx) {
            self.create_sandbox(env, ctx);
            self.sync(env, ctx);
        }
    }

    /// The sandbox is up with its IP, and `probeManager.AddPod` starts one worker per probe,
    /// ticking every period from now.
    fn create_sandbox(&mut self, env: &mut NodeEnv, ctx: &mut KCtx<'_>) {
        self.stage = Stage::Running;
        self.sandbox_ready = true;
        self.pod_ip = Some(env.allocate_pod_ip());
        self.add_probe_workers(env, ctx);
    }

    /// A sync of the running pod (a pod update, a relist, a back-off expiring, a probe
    /// result changing). While a slow step is in progress the sync is queued behind it.
    pub fn sync(&mut self, env: &mut NodeEnv, ctx: &mut KCtx<'_>) {
        if self.stage != Stage::Running {
            return;
        }
        if self.busy.is_some() {
            self.sync_queued = true;
            return;
        }
        self.run_sync(0, env, ctx);
    }

    /// `SyncPod` from container `from` on: refresh probe-driven readiness, start what
    /// should run, write the status if it changed.
    fn run_sync(&mut self, from: usize, env: &mut NodeEnv, ctx: &mut KCtx<'_>) {
        self.update_probe_status(env, ctx);
        self.start_containers(from, env, ctx);
        if self.busy.is_none() && std::mem::take(&mut self.sync_queued) {
            self.start_containers(0, env, ctx);
        }
        self.publish_status(env, ctx);
        if self.busy.is_some() {
            return;
        }
        if self.phase_is_terminal() {
            // Restart policy Never/OnFailure and everything has stopped: the pod is done.
            self.finish_termination(env, ctx);
            return;
        }
        // `podWorkers.completeWork`: the next periodic sync, jittered.
        let jitter = env.rng.unit_f64() * RESYNC_JITTER * RESYNC_INTERVAL.as_nanos() as f64;
        let jitter = SimDuration::from_millis((jitter / 1e6) as u64);
        let at = ctx.now + RESYNC_INTERVAL + jitter;
        self.resync_at = Some(at);
        ctx.at(at, KubeletTimer::Resync(self.timer(env)));
    }

    /// `kubeGenericRuntimeManager.SyncPod` step "start containers": in spec order, skip
    /// what runs, hold back what is in back-off, and start the first container that can
    /// start (the sync continues with the next one when that start is done).
    fn start_containers(&mut self, from: usize, env: &mut NodeEnv, ctx: &mut KCtx<'_>) {
        let now = ctx.now;
        let pod = Rc::clone(&self.pod);
        for idx in from..self.containers.len() {
            let c = &mut self.containers[idx];
            if c.state != RuntimeState::Idle {
                continue;
            }
            if let Some(t) = &c.last_termination {
                if !should_restart(&pod.spec.restart_policy, t.exit_code) {
                    continue;
                }
                // `doBackOff`: measured from when the last instance finished.
                let key = stable_key(&pod, &c.name);
                let finished = t.finished_at;
                if env.crash_backoff.is_in_backoff_since(&key, finished, now) {
                    let backoff = env.crash_backoff.get(&key);
                    let message = format!(
                        "back-off {backoff} restarting failed container={} pod={}",
                        c.name,
                        events::format_pod(&pod)
                    );
                    c.waiting = Some((reason::CRASH_LOOP_BACK_OFF, message));
                    let text = events::crash_back_off(&c.name, &pod);
                    record(env, ctx, &pod, EventType::Warning, events::BACK_OFF, text);
                    self.schedule_sync(finished + backoff, env, ctx);
                    continue;
                }
                env.crash_backoff.next(&key, finished, now);
            }
            // `EnsureImageExists` (pull policy IfNotPresent).
            let image = c.image.clone();
            if env.images.is_present(&image) {
                let text = events::already_present(&image);
                record(env, ctx, &pod, EventType::Normal, events::PULLED, text);
                self.begin_start(idx, env, ctx);
                return;
            }
            if let Some(until) = env.images.backoff_until(&self.uid, &image, now) {
                let err = env.images.last_error(&self.uid, &image);
                let message = format!("Back-off pulling image \"{image}\": ErrImagePull: {err}");
                self.containers[idx].waiting = Some((reason::IMAGE_PULL_BACK_OFF, message));
                let text = events::pull_back_off(&image);
                record(env, ctx, &pod, EventType::Normal, events::BACK_OFF, text);
                let text = events::start_error(reason::IMAGE_PULL_BACK_OFF);
                record(env, ctx, &pod, EventType::Warning, events::FAILED, text);
                self.schedule_sync(until, env, ctx);
                continue;
            }
            let text = events::pulling(&image);
            record(env, ctx, &pod, EventType::Normal, events::PULLING, text);
            env.images.enqueue(PullRequest {
                uid: self.uid.clone(),
                generation: self.generation,
                container: idx,
                image,
                requested_at: now,
            });
            env.kick_puller(ctx);
            self.busy = Some(Busy::Pulling(idx));
            return;
        }
    }

    /// `startContainer` once the image is there: create (Event `Created`), then start,
    /// which takes the node's container start latency.
    fn begin_start(&mut self, idx: usize, env: &mut NodeEnv, ctx: &mut KCtx<'_>) {
        let pod = Rc::clone(&self.pod);
        let text = events::CONTAINER_CREATED.to_string();
        record(env, ctx, &pod, EventType::Normal, events::CREATED, text);
        self.containers[idx].set_state(RuntimeState::Starting);
        let took = env.rng.duration(&env.container_start);
        let t = self.container_timer(env, idx);
        ctx.after(took, KubeletTimer::ContainerStarted(t));
        self.busy = Some(Busy::Starting(idx));
    }

    /// The node's puller finished this worker's pull.
    pub fn on_pull_done(&mut self, out: PullOutcome, env: &mut NodeEnv, ctx: &mut KCtx<'_>) {
        let idx = out.request.container;
        if self.stage != Stage::Running || self.busy != Some(Busy::Pulling(idx)) {
            return;
        }
        self.busy = None;
        let pod = Rc::clone(&self.pod);
        let image = &out.request.image;
        match &out.error {
            None => {
                let size = image_size_bytes(image);
                let text = events::pulled(image, out.pulled_in, out.total, size);
                record(env, ctx, &pod, EventType::Normal, events::PULLED, text);
                self.begin_start(idx, env, ctx);
            }
            Some(err) => {
                let text = events::pull_failed(image, err);
                record(env, ctx, &pod, EventType::Warning, events::FAILED, text);
                let text = events::start_error(reason::ERR_IMAGE_PULL);
                record(env, ctx, &pod, EventType::Warning, events::FAILED, text);
                self.containers[idx].waiting = Some((reason::ERR_IMAGE_PULL, err.clone()));
                self.schedule_sync(ctx.now + PLEG_RELIST_PERIOD, env, ctx);
                self.run_sync(idx + 1, env, ctx);
            }
        }
    }

    /// `StartContainer` returned: the container runs (Event `Started`).
    pub fn on_started(&mut self, idx: usize, token: u64, env: &mut NodeEnv, ctx: &mut KCtx<'_>) {
        let c = &mut self.containers[idx];
        if c.token != token || c.state != RuntimeState::Starting {
            return;
        }
        c.attempts += 1;
        c.waiting = None;
        c.set_state(RuntimeState::Running {
            started_at: ctx.now,
        });
        let crashes = c.behavior == ImageBehavior::CrashLoop;
        let pod = Rc::clone(&self.pod);
        let text = events::CONTAINER_STARTED.to_string();
        record(env, ctx, &pod, EventType::Normal, events::STARTED, text);
        if crashes {
            let t = self.container_timer(env, idx);
            ctx.after(CRASH_AFTER, KubeletTimer::ContainerExited(t));
        }
        self.busy = None;
        self.run_sync(idx + 1, env, ctx);
    }

    /// A `CrashLoop` container exited with code 1; the next sync decides on the restart.
    pub fn on_exited(&mut self, idx: usize, token: u64, env: &mut NodeEnv, ctx: &mut KCtx<'_>) {
        let c = &mut self.containers[idx];
        let RuntimeState::Running { started_at } = c.state else {
            return;
        };
        if c.token != token {
            return;
        }
        c.last_termination = Some(Termination::new(1, started_at, ctx.now));
        c.set_state(RuntimeState::Idle);
        self.sync(env, ctx);
    }

    pub fn on_sync_timer(&mut self, env: &mut NodeEnv, ctx: &mut KCtx<'_>) {
        self.pending_syncs.remove(&ctx.now);
        self.sync(env, ctx);
    }

    /// The periodic resync, unless a later sync has re-armed it since.
    pub fn on_resync_timer(&mut self, env: &mut NodeEnv, ctx: &mut KCtx<'_>) {
        if self.resync_at == Some(ctx.now) {
            self.sync(env, ctx);
        }
    }

    /// Asks for a sync at `at` unless one is already set for that instant.
    fn schedule_sync(&mut self, at: SimTime, env: &NodeEnv, ctx: &mut KCtx<'_>) {
        if self.pending_syncs.insert(at) {
            ctx.at(at, KubeletTimer::Sync(self.timer(env)));
        }
    }

    /// Leaves the running stage: pending syncs, probes and starts become stale.
    pub fn retire_timers(&mut self) {
        self.generation += 1;
        self.pending_syncs.clear();
        self.resync_at = None;
        self.busy = None;
        self.sync_queued = false;
    }
}

/// `kubecontainer.ShouldContainerBeRestarted` for a container that exited with `exit_code`.
fn should_restart(restart_policy: &str, exit_code: i32) -> bool {
    match restart_policy {
        "Never" => false,
        "OnFailure" => exit_code != 0,
        _ => true,
    }
}

/// `getStableKey`: the crash-loop back-off key of a container of this pod instance.
fn stable_key(pod: &Pod, container: &str) -> String {
    let m = &pod.metadata;
    format!("{}_{}_{}_{container}", m.name, m.namespace, m.uid)
}
