//! Graceful node shutdown (`pkg/kubelet/nodeshutdown`): when the machine is told to shut
//! down (a clean reboot) and `shutdownGracePeriod` is set, the kubelet reports the node not
//! Ready ("node is shutting down") and kills every pod with at most
//! `shutdownGracePeriod - shutdownGracePeriodCriticalPods` of grace (or the pod's own
//! `terminationGracePeriodSeconds` if shorter), leaving each pod Failed with reason
//! `Terminated` and a `DisruptionTarget` condition (`TerminationByKubelet`) — not deleted:
//! its controller replaces it. The machine powers off when the inhibitor delay ends. All
//! pods are in the default priority group (stsim models no PriorityClasses, so the
//! critical-pods group is always empty).

use super::node_kubelet::NodeEnv;
use super::pod_worker::{PodWorker, Stage};
use super::{KCtx, NodeAgents};
use crate::api::Pod;
use crate::api::Timestamp;
use crate::api::pod::PodCondition;
use crate::apiserver::EventType;
use crate::time::SimDuration;
use std::rc::Rc;

/// `nodeShutdownReason`.
pub const NODE_SHUTDOWN_REASON: &str = "Terminated";
/// `nodeShutdownMessage`.
pub const NODE_SHUTDOWN_MESSAGE: &str = "Pod was terminated in response to imminent node shutdown.";
/// The Ready condition's message while shutting down (`ShutdownStatus` → the Ready setter).
pub const NODE_SHUTTING_DOWN: &str = "node is shutting down";

/// `UpdatePodCondition` with the DisruptionTarget condition the shutdown manager adds.
pub fn set_disruption_target(conds: &mut Vec<PodCondition>, live: &Pod, now: Timestamp) {
    let existing = live
        .status
        .conditions
        .iter()
        .find(|c| c.type_ == "DisruptionTarget" && c.status == "True");
    let cond = PodCondition {
        type_: "DisruptionTarget".into(),
        status: "True".into(),
        last_transition_time: Some(existing.and_then(|c| c.last_transition_time).unwrap_or(now)),
        reason: "TerminationByKubelet".into(),
        message: NODE_SHUTDOWN_MESSAGE.into(),
    };
    match conds.iter_mut().find(|c| c.type_ == "DisruptionTarget") {
        Some(c) => *c = cond,
        None => conds.push(cond),
    }
}

/// `NodeShutdownNotAdmittedReason` / message: a pod that arrives while the node shuts
/// down is rejected (`Admit`), i.e. left Failed.
pub const NODE_SHUTDOWN_NOT_ADMITTED_REASON: &str = "NodeShutdown";
pub const NODE_SHUTDOWN_NOT_ADMITTED_MESSAGE: &str =
    "Pod was rejected as the node is shutting down.";

/// `rejectPod` from the shutdown manager's `Admit`: a Warning Event and a Failed status;
/// the pod never runs here.
pub fn reject(w: &mut PodWorker, env: &NodeEnv, ctx: &mut KCtx<'_>) {
    w.stage = Stage::Terminated;
    let pod = Rc::clone(&w.pod);
    super::events::record(
        env,
        ctx,
        &pod,
        EventType::Warning,
        NODE_SHUTDOWN_NOT_ADMITTED_REASON,
        NODE_SHUTDOWN_NOT_ADMITTED_MESSAGE.to_string(),
    );
    let mut next = (*pod).clone();
    next.status.phase = crate::api::pod::phase::FAILED.into();
    next.status.reason = NODE_SHUTDOWN_NOT_ADMITTED_REASON.into();
    next.status.message = NODE_SHUTDOWN_NOT_ADMITTED_MESSAGE.into();
    next.metadata.resource_version.clear();
    if let Ok(p) = ctx.client(&env.actor).update_status(&next) {
        w.pod = p;
    }
}

impl NodeAgents {
    /// Node `name` is told to shut down; returns how long the kubelet holds the power-off
    /// back (`shutdownGracePeriod`), or `None` when graceful node shutdown is off and the
    /// machine goes down at once.
    pub fn begin_shutdown(&mut self, name: &str, ctx: &mut KCtx<'_>) -> Option<SimDuration> {
        let &i = self.by_name.get(name)?;
        let k = &mut self.kubelets[i as usize];
        let timing = k.env.heartbeat.timing().clone();
        if timing.shutdown_grace_period == SimDuration::ZERO {
            return None;
        }
        // `migrateConfig`: the default-priority group gets the requested period minus the
        // critical pods' share.
        let group = timing
            .shutdown_grace_period
            .saturating_sub(timing.shutdown_grace_period_critical_pods);
        k.env.heartbeat.set_shutting_down(true);
        let actor = k.env.actor.clone();
        k.env.heartbeat.post_status_now(&actor, ctx);
        let env = &mut k.env;
        for w in k.pods.values_mut() {
            if matches!(w.stage, Stage::Terminating | Stage::Terminated) {
                continue;
            }
            w.shutdown_grace = Some(group);
            w.begin_termination(env, ctx);
            if w.stage != Stage::Terminated {
                w.publish_status(env, ctx);
            }
        }
        let uids: Vec<String> = k.pods.keys().cloned().collect();
        for uid in uids {
            self.sync_liveness(i, &uid);
        }
        Some(timing.shutdown_grace_period)
    }
}
