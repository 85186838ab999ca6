//! The status manager's side of a pod worker (`pkg/kubelet/status/status_manager.go`): the
//! pod status generated from the worker's containers (`generateAPIPodStatus`, with the
//! phase and conditions of `status.rs`) and written to the API server when it changed.

use super::KCtx;
use super::node_kubelet::NodeEnv;
use super::pod_worker::PodWorker;
use super::status::{PhaseInput, conditions, get_phase};
use crate::api::pod::{ContainerStatus, PodStatus, phase};
use crate::api::{ObjectMeta, Pod, Timestamp};
use crate::time::SimTime;
use std::rc::Rc;

impl PodWorker {
    /// Whether the pod, as it stands, has reached a terminal phase by its restart policy.
    pub fn phase_is_terminal(&self) -> bool {
        // `getPhase` reads only whether a state is running or terminated, and the exit
        // code: the states without their strings (`phase_state`), so that the check every
        // sync makes allocates no names, images or messages.
        let statuses: Vec<ContainerStatus> = self
            .containers
            .iter()
            .map(|c| ContainerStatus {
                state: c.phase_state(),
                ..Default::default()
            })
            .collect();
        let phase_ = self.phase(&statuses, false);
        phase_ == phase::SUCCEEDED || phase_ == phase::FAILED
    }

    fn container_statuses(&self, terminal: bool) -> Vec<ContainerStatus> {
        self.containers
            .iter()
            .enumerate()
            .map(|(i, c)| {
                if terminal {
                    c.api_status(c.final_state(), false, false)
                } else {
                    c.api_status(c.api_state(), self.ready(i), self.started(i))
                }
            })
            .collect()
    }

    fn phase(&self, statuses: &[ContainerStatus], terminal: bool) -> &'static str {
        let inputs: Vec<PhaseInput<'_>> = statuses
            .iter()
            .zip(&self.containers)
            .map(|(status, c)| PhaseInput {
                status,
                has_last_termination: c.last_termination.is_some(),
            })
            .collect();
        get_phase(&inputs, &self.pod.spec.restart_policy, terminal)
    }

    /// `generateAPIPodStatus` against the live object: `terminal` once every container has
    /// stopped for good (the pod's last status).
    fn api_status(&self, live: &Pod, env: &NodeEnv, now: SimTime, terminal: bool) -> PodStatus {
        let statuses = self.container_statuses(terminal);
        // Pods are not allowed to transition out of terminal phases.
        let phase_ = match live.status.phase.as_str() {
            phase::SUCCEEDED => phase::SUCCEEDED,
            phase::FAILED => phase::FAILED,
            _ => self.phase(&statuses, terminal),
        };
        let ts = Timestamp::at(now);
        let sandbox_ready = self.sandbox_ready && !terminal;
        // The graceful node shutdown manager's status function (`killPods`): Failed unless
        // already Succeeded, reason `Terminated`, and a DisruptionTarget condition.
        // The status function runs on the status generated when the kill starts (a Running
        // pod), so the pod is Failed from then on unless it had already Succeeded.
        let shutdown = self.shutdown_grace.is_some();
        let phase_ = if shutdown && live.status.phase != phase::SUCCEEDED {
            phase::FAILED
        } else {
            phase_
        };
        let mut conds = conditions(live, &statuses, phase_, sandbox_ready, ts);
        let (mut reason, mut message) = (live.status.reason.clone(), live.status.message.clone());
        if shutdown {
            reason = super::shutdown::NODE_SHUTDOWN_REASON.into();
            message = super::shutdown::NODE_SHUTDOWN_MESSAGE.into();
            super::shutdown::set_disruption_target(&mut conds, live, ts);
        }
        PodStatus {
            phase: phase_.into(),
            conditions: conds,
            reason,
            message,
            host_ip: env.host_ip.clone(),
            pod_ip: self.pod_ip.clone().unwrap_or_default(),
            // The status manager stamps the start time on the first status it writes.
            start_time: live.status.start_time.or(Some(ts)),
            container_statuses: statuses,
        }
    }

    /// The status manager's write: a live read, then the status subresource if anything
    /// changed. Nothing is written for an object that is gone or was replaced (new uid).
    /// Returns the pod as it stands afterwards.
    pub fn write_status(
        &mut self,
        env: &NodeEnv,
        ctx: &mut KCtx<'_>,
        terminal: bool,
    ) -> Option<Rc<Pod>> {
        if self.gone {
            return None;
        }
        let now = ctx.now;
        let mut client = ctx.client(&env.actor);
        let live = client.get::<Pod>(&self.key)?;
        // The same object and the same inputs as the last no-op write (`status_memo.rs`).
        if self.status_known_equal(&live, env, terminal) {
            return Some(live);
        }
        if live.metadata.uid != self.uid {
            return None;
        }
        let status = self.api_status(&live, env, now, terminal);
        if status == live.status {
            self.remember_equal_status(&live, env, terminal);
            return Some(live);
        }
        // The status subresource reads the request's key, resourceVersion and status only,
        // so neither the spec nor the rest of the metadata (labels, annotations, owners)
        // is copied into it. A status patch: no resourceVersion precondition (the uid was
        // checked above).
        let next = Pod {
            metadata: ObjectMeta {
                namespace: live.metadata.namespace.clone(),
                name: live.metadata.name.clone(),
                ..Default::default()
            },
            status,
            ..Default::default()
        };
        client.update_status(&next).ok()
    }

    pub fn publish_status(&mut self, env: &NodeEnv, ctx: &mut KCtx<'_>) {
        self.write_status(env, ctx, false);
    }
}
