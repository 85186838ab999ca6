//! `WaitForAttachAndMount` as a pod's sync runs it: the pod's volumes in upstream's terms
//! (`PodVolumes`), the wait itself (polls every 300 ms, the first at once, for up to 2m3s),
//! its timeout and the pod worker's retry after `backOffPeriod`, and the release of the
//! pod's volumes when its containers have stopped.

use super::{VolumeTimer, reconcile_one};
use crate::api::Tables;
use crate::infra::kubelet::node_kubelet::NodeEnv;
use crate::infra::kubelet::pod_worker::PodWorker;
use crate::infra::kubelet::{KCtx, KubeletTimer};
use crate::time::{SimDuration, SimTime};

/// `podAttachAndMountTimeout`: 2 min 3 s.
pub const POD_ATTACH_AND_MOUNT_TIMEOUT: SimDuration = SimDuration::from_secs(123);
/// `podAttachAndMountRetryInterval`.
pub const POD_ATTACH_AND_MOUNT_RETRY_INTERVAL: SimDuration = SimDuration::from_millis(300);
/// `backOffPeriod`: a pod worker whose sync failed syncs again after this, ...
pub const BACK_OFF_PERIOD: SimDuration = SimDuration::from_secs(10);
/// ... stretched by up to half (`workerBackOffPeriodJitterFactor`).
const BACK_OFF_JITTER: f64 = 0.5;
/// Why a pod's volumes are not all mounted, in upstream's words.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PodVolumes {
    /// Claims that do not exist (yet).
    pub missing: Vec<String>,
    /// Claims that exist but are not Bound (or whose volume the kubelet does not see).
    pub unbound: Vec<String>,
    /// Pod volume names not mounted yet (`getUnmountedVolumes`), sorted.
    pub unmounted: Vec<String>,
    /// Attachable ones not attached yet (`getUnattachedVolumes`), sorted.
    pub unattached: Vec<String>,
    /// Pod volume names that are not in the desired state (`getVolumesNotInDSW`), sorted.
    pub not_in_dsw: Vec<String>,
}

impl PodVolumes {
    pub fn all_mounted(&self) -> bool {
        self.unmounted.is_empty()
    }

    /// One line for the timeline: why the pod waits.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if !self.missing.is_empty() {
            parts.push(format!(
                "persistentvolumeclaim {} not found",
                self.missing.join(", ")
            ));
        }
        if !self.unbound.is_empty() {
            parts.push(format!(
                "persistentvolumeclaim {} not bound",
                self.unbound.join(", ")
            ));
        }
        if !self.unattached.is_empty() {
            parts.push(format!(
                "volume {} not attached",
                self.unattached.join(", ")
            ));
        }
        let mounting: Vec<&str> = self
            .unmounted
            .iter()
            .filter(|v| !self.unattached.contains(v) && !self.not_in_dsw.contains(v))
            .map(String::as_str)
            .collect();
        if !mounting.is_empty() {
            parts.push(format!("volume {} not mounted", mounting.join(", ")));
        }
        format!("waiting for volumes: {}", parts.join("; "))
    }

    /// The error `WaitForAttachAndMount` returns on timeout.
    pub fn timeout_error(&self) -> String {
        format!(
            "unmounted volumes={}, unattached volumes={}, failed to process volumes={}: context deadline exceeded",
            go_list(&self.unmounted),
            go_list(&self.unattached),
            go_list(&self.not_in_dsw)
        )
    }
}

/// Go's `%v` of a `[]string`: `[a b]`.
fn go_list(v: &[String]) -> String {
    format!("[{}]", v.join(" "))
}

/// A pod worker's `WaitForAttachAndMount`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum VolumeWait {
    /// No wait running (none started yet, or the last one ended).
    #[default]
    Idle,
    /// Waiting since `started`; `id` tells this wait's timers from older ones.
    Waiting { started: SimTime, id: u64 },
    /// The last wait timed out; the worker syncs again on its retry timer.
    BackingOff { id: u64 },
}

impl PodWorker {
    /// `WaitForAttachAndMount` as the pod's sync runs it: populates the pod's volumes,
    /// starts a wait if none runs, and returns true once a poll of the wait finds every
    /// volume mounted (the first poll at the wait's start, then every 300 ms).
    pub fn wait_for_attach_and_mount(
        &mut self,
        env: &mut NodeEnv,
        cache: &Tables,
        ctx: &mut KCtx<'_>,
    ) -> bool {
        if matches!(self.volume_wait, VolumeWait::BackingOff { .. }) {
            return false;
        }
        let now = ctx.now;
        let view = env.volumes.populate_pod(&self.pod, cache);
        let pvs: Vec<String> = env
            .volumes
            .pods
            .get(&self.uid)
            .map_or_else(Vec::new, |v| v.keys().cloned().collect());
        let before = env.volumes.mounted_count(&self.uid);
        for pv in &pvs {
            reconcile_one(env, &self.uid, pv, ctx);
        }
        env.arm_status_sync(ctx);
        // Mounting may have finished at once.
        let view = if env.volumes.mounted_count(&self.uid) == before {
            view
        } else {
            env.volumes.populate_pod(&self.pod, cache)
        };
        let (started, id) = match self.volume_wait {
            VolumeWait::Waiting { started, id } => (started, id),
            _ => {
                env.volumes.next_wait += 1;
                let id = env.volumes.next_wait;
                self.volume_wait = VolumeWait::Waiting { started: now, id };
                if !view.all_mounted() {
                    let t = VolumeTimer::WaitTimeout {
                        pod: self.timer(env),
                        wait: id,
                    };
                    ctx.at(now + POD_ATTACH_AND_MOUNT_TIMEOUT, KubeletTimer::Volume(t));
                }
                (now, id)
            }
        };
        if view.all_mounted() {
            let step = POD_ATTACH_AND_MOUNT_RETRY_INTERVAL.as_nanos();
            let k = now.saturating_since(started).as_nanos().div_ceil(step);
            let poll = started + SimDuration::from_nanos(k * step);
            if poll == now {
                self.volume_wait = VolumeWait::Idle;
                return true;
            }
            if poll < started + POD_ATTACH_AND_MOUNT_TIMEOUT {
                let t = VolumeTimer::WaitPoll {
                    pod: self.timer(env),
                    wait: id,
                };
                ctx.at(poll, KubeletTimer::Volume(t));
            }
            return false;
        }
        let line = view.describe();
        if self.waiting_note.as_ref() != Some(&line) {
            ctx.note(
                env.actor.name.as_ref(),
                format!("Pod {}", self.key),
                line.clone(),
            );
            self.waiting_note = Some(line);
            // The status `SyncPod` writes before it waits (Pending, `ContainerCreating`);
            // it does not change while the pod waits.
            self.publish_status(env, ctx);
        }
        false
    }

    /// The wait timed out: the sync fails ("Unable to attach or mount volumes: ...", not
    /// recorded as an Event since 1.28, see the module notes) and the pod worker syncs again
    /// after `backOffPeriod`.
    pub(super) fn wait_timed_out(&mut self, env: &mut NodeEnv, cache: &Tables, ctx: &mut KCtx<'_>) {
        let VolumeWait::Waiting { id, .. } = self.volume_wait else {
            return;
        };
        let view = env.volumes.populate_pod(&self.pod, cache);
        if view.all_mounted() {
            // The last poll (within the timeout) finds them mounted.
            self.volume_wait = VolumeWait::Idle;
            self.check_volumes(env, cache, ctx);
            return;
        }
        ctx.note(
            env.actor.name.as_ref(),
            format!("Pod {}", self.key),
            format!(
                "Unable to attach or mount volumes: {}; skipping pod",
                view.timeout_error()
            ),
        );
        self.waiting_note = None;
        self.volume_wait = VolumeWait::BackingOff { id };
        let jitter = env.volumes.rng.unit_f64() * BACK_OFF_JITTER;
        let delay =
            SimDuration::from_nanos((BACK_OFF_PERIOD.as_nanos() as f64 * (1.0 + jitter)) as u64);
        let t = VolumeTimer::SyncRetry {
            pod: self.timer(env),
            wait: id,
        };
        ctx.after(delay, KubeletTimer::Volume(t));
    }

    /// `SyncTerminatedPod`: the containers have stopped, so the volume manager unmounts the
    /// pod's volumes (the deletion waits for that).
    pub fn release_volumes(&mut self, env: &mut NodeEnv, ctx: &mut KCtx<'_>) {
        self.volume_wait = VolumeWait::Idle;
        for pv in env.volumes.release_pod(&self.uid) {
            reconcile_one(env, &self.uid, &pv, ctx);
        }
        env.arm_status_sync(ctx);
    }
}
