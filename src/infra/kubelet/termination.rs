//! The end of a pod on its node: `SyncTerminatingPod` (SIGTERM every running container,
//! SIGKILL at the end of the grace period), `SyncTerminatedPod` with the status manager's
//! `TerminatePod` (the last status: every container terminated, a terminal phase), and the
//! status manager's final delete (`canBeDeleted` → delete with grace 0 and a uid
//! precondition). A pod whose object is already gone (force delete) is stopped the same
//! way, but nothing is written for it.

use super::container::{RuntimeState, Termination};
use super::events::{self, record};
use super::node_kubelet::NodeEnv;
use super::pod_worker::{PodWorker, Stage};
use super::{KCtx, KubeletTimer};
use crate::api::Pod;
use crate::api::pod::phase;
use crate::apiserver::{DeleteOptions, EventType};
use crate::time::SimDuration;
use std::rc::Rc;

/// `minimumGracePeriodInSeconds`: `KillPod` always gives containers at least this long.
const MINIMUM_GRACE_PERIOD_SECONDS: i64 = 2;

/// `calculateEffectiveGracePeriod`: the grace the API server gave the deletion, else the
/// pod's own `terminationGracePeriodSeconds` (also for a force-deleted pod, whose last
/// state carries no deletion grace), and never less than one second.
pub fn effective_grace_seconds(pod: &Pod) -> i64 {
    let mut grace = pod.metadata.deletion_grace_period_seconds.unwrap_or(0);
    if grace == 0 {
        grace = pod.spec.termination_grace_period_seconds.unwrap_or(0);
    }
    grace.max(1)
}

/// The time `KillPod` gives each container between SIGTERM and SIGKILL.
fn kill_grace(pod: &Pod) -> SimDuration {
    let secs = effective_grace_seconds(pod).max(MINIMUM_GRACE_PERIOD_SECONDS);
    SimDuration::from_secs(secs as u64)
}

impl PodWorker {
    /// The pod got a deletionTimestamp, or its object vanished: stop every running
    /// container (`killContainer`: Event `Killing`, SIGTERM; the container exits when its
    /// image's shutdown takes, or is SIGKILLed with exit code 137 at the grace deadline).
    /// A container being created never ran and is dropped; a pod with nothing running
    /// finishes at once.
    pub fn begin_termination(&mut self, env: &mut NodeEnv, ctx: &mut KCtx<'_>) {
        if matches!(self.stage, Stage::Terminating | Stage::Terminated) {
            return;
        }
        self.retire_timers();
        self.stage = Stage::Terminating;
        self.grace = kill_grace(&self.pod);
        if let Some(g) = self.shutdown_grace {
            self.grace = self.grace.min(g);
        }
        let now = ctx.now;
        let pod = Rc::clone(&self.pod);
        for idx in 0..self.containers.len() {
            match self.containers[idx].state {
                RuntimeState::Running { started_at } => {
                    let c = &self.containers[idx];
                    let text = events::stopping(&c.name);
                    let shutdown = env.rng.duration(&env.images.shutdown(&c.image));
                    record(env, ctx, &pod, EventType::Normal, events::KILLING, text);
                    let (exit_at, exit_code) = if shutdown <= self.grace {
                        (now + shutdown, 0)
                    } else {
                        (now + self.grace, 137)
                    };
                    self.stop_at(idx, started_at, exit_at, exit_code, env, ctx);
                }
                RuntimeState::Starting => {
                    self.containers[idx].set_state(RuntimeState::Idle);
                }
                RuntimeState::Idle | RuntimeState::Stopping { .. } => {}
            }
        }
        self.finish_if_stopped(env, ctx);
    }

    /// The deletion grace period was shortened (a second delete): containers still
    /// stopping are killed at the new, earlier deadline.
    pub fn shorten_grace(&mut self, env: &NodeEnv, ctx: &mut KCtx<'_>) {
        let grace = kill_grace(&self.pod);
        if grace >= self.grace {
            return;
        }
        self.grace = grace;
        let deadline = ctx.now + grace;
        for idx in 0..self.containers.len() {
            if let RuntimeState::Stopping {
                started_at,
                exit_at,
                ..
            } = self.containers[idx].state
                && deadline < exit_at
            {
                self.stop_at(idx, started_at, deadline, 137, env, ctx);
            }
        }
    }

    fn stop_at(
        &mut self,
        idx: usize,
        started_at: crate::time::SimTime,
        exit_at: crate::time::SimTime,
        exit_code: i32,
        env: &NodeEnv,
        ctx: &mut KCtx<'_>,
    ) {
        self.containers[idx].set_state(RuntimeState::Stopping {
            started_at,
            exit_at,
            exit_code,
        });
        let t = super::ContainerTimer {
            pod: self.timer(env),
            container: idx as u32,
            token: self.containers[idx].token,
        };
        ctx.at(exit_at, KubeletTimer::ContainerStopped(t));
    }

    /// A container stopped after SIGTERM (or SIGKILL).
    pub fn on_stopped(&mut self, idx: usize, token: u64, env: &mut NodeEnv, ctx: &mut KCtx<'_>) {
        let c = &mut self.containers[idx];
        let RuntimeState::Stopping {
            started_at,
            exit_code,
            ..
        } = c.state
        else {
            return;
        };
        if c.token != token {
            return;
        }
        c.last_termination = Some(Termination::new(exit_code, started_at, ctx.now));
        c.set_state(RuntimeState::Idle);
        self.finish_if_stopped(env, ctx);
    }

    fn finish_if_stopped(&mut self, env: &mut NodeEnv, ctx: &mut KCtx<'_>) {
        let stopping = self
            .containers
            .iter()
            .any(|c| matches!(c.state, RuntimeState::Stopping { .. }));
        if !stopping {
            self.finish_termination(env, ctx);
        }
    }

    /// `SyncTerminatedPod` / `TerminatePod`: the last status, with every container
    /// terminated and a terminal phase (Succeeded if all exited 0, else Failed), then the
    /// final delete if the pod is being deleted. Nothing is written for a gone object.
    pub fn finish_termination(&mut self, env: &mut NodeEnv, ctx: &mut KCtx<'_>) {
        self.retire_timers();
        // The volume manager unmounts the pod's volumes now that nothing runs.
        self.release_volumes(env, ctx);
        self.stage = Stage::Terminated;
        self.sandbox_ready = false;
        for c in &mut self.containers {
            c.waiting = None;
        }
        if self.gone {
            return;
        }
        if let Some(pod) = self.write_status(env, ctx, true) {
            self.pod = pod;
        }
        self.final_delete(env, ctx);
    }

    /// The status manager's `canBeDeleted`: the pod is being deleted and its phase is
    /// terminal, so the kubelet removes the object (grace 0, only if it is still this pod).
    pub fn final_delete(&mut self, env: &NodeEnv, ctx: &mut KCtx<'_>) {
        let terminal = [phase::SUCCEEDED, phase::FAILED].contains(&self.pod.status.phase.as_str());
        if self.gone || !self.pod.is_terminating() || !terminal {
            return;
        }
        // `canBeDeleted` waits for the volumes to be cleaned up (`volumes.rs` calls this
        // again when the last one is unmounted).
        if env.volumes.pod_has_volumes(&self.uid) {
            return;
        }
        let opts = DeleteOptions {
            grace_period_seconds: Some(0),
            precondition_uid: Some(self.uid.clone()),
            ..Default::default()
        };
        // NotFound or a uid conflict: the object is already gone; nothing left to do.
        let _ = ctx.client(&env.actor).delete::<Pod>(&self.key, &opts);
    }
}
