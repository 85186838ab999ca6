//! The reconciler pass (`reconciler/reconciler.go` `reconcile`): detaches first — so that a
//! volume whose pod moved to another node is freed before it is wanted there — then
//! attaches (`attachDesiredVolumes`), then node statuses (`UpdateNodeStatuses`).
//!
//! A volume attached but no longer desired waits until its node stops reporting it in
//! `volumesInUse` (the kubelet unmounted it). After `maxWaitForUnmountDuration` (6 min
//! from the first pass that saw it undesired) it is force-detached, but only from a node
//! that is not Ready, and never with `--disable-force-detach-on-timeout`. A node with the
//! `node.kubernetes.io/out-of-service` taint gets its volumes detached at once, mounted or
//! not. A volume that is not multi-attachable is not attached to a second node while the
//! actual state has it attached to another; the pods waiting for it get one
//! `FailedAttachVolume` "Multi-Attach error" Event per volume and node.

use super::actual_state::AttachState;
use super::desired_state::VolumeToAttach;
use super::operations::{NotStarted, OpKey, OpName, OpRequest};
use super::{AttachDetachController, COMPONENT, MAX_WAIT_FOR_UNMOUNT, min_time, tick_after};
use crate::api::node::well_known::TAINT_OUT_OF_SERVICE;
use crate::api::{ObjectKey, Tables};
use crate::apiserver::EventType;
use crate::component::Ctx;
use crate::control::ControlTimer;
use crate::time::SimTime;

impl AttachDetachController {
    /// One pass at grid instant `ctx.now`. Returns the earliest later tick a time-based
    /// condition of this pass needs (a backoff ending, the unmount wait expiring).
    pub(super) fn reconcile(
        &mut self,
        cache: &Tables,
        ctx: &mut Ctx<'_, ControlTimer>,
    ) -> Option<SimTime> {
        let now = ctx.now;
        let mut wake = None;
        let dsw = &self.dsw;
        let undesired = self
            .asw
            .attached_volumes_where(|v, n| !dsw.volume_exists(v, n));
        for (volume, node, spec, state) in undesired {
            // No operation may be running or backing off for this volume (and node).
            let key = OpKey::new(&volume, &node, spec.multi_attach_allowed);
            if !self.ops.is_safe_to_retry(&key, OpName::Detach, now) {
                if let Some(t) = self.ops.retry_after(&key) {
                    wake = min_time(wake, Some(tick_after(t)));
                }
                continue;
            }
            if self.asw.attach_state(&volume, &node) == AttachState::Detached {
                continue;
            }
            let elapsed = self.asw.set_detach_request_time(&volume, &node, now);
            let expired = elapsed > MAX_WAIT_FOR_UNMOUNT;
            let node_obj = cache.nodes.get(&ObjectKey::cluster(&node));
            // `nodeIsHealthy`: a node the lister does not have is not healthy.
            let healthy = node_obj.is_some_and(|n| n.is_ready());
            let force_timeout_expired = expired && !self.config.disable_force_detach_on_timeout;
            let force_detach = !healthy && force_timeout_expired;
            let out_of_service = node_obj.is_some_and(|n| n.has_taint(TAINT_OUT_OF_SERVICE));
            if state.mounted_by_node && !force_detach && !out_of_service {
                // Still mounted: wait. The wait may end by the clock (if the node is not
                // Ready by then; a readiness change wakes the controller anyway).
                if !expired {
                    let requested = now - elapsed;
                    wake = min_time(wake, Some(tick_after(requested + MAX_WAIT_FOR_UNMOUNT)));
                }
                continue;
            }
            // The node status must stop listing it before the detach starts.
            self.asw
                .remove_volume_from_report_as_attached(&volume, &node);
            self.asw
                .update_node_status_for_node(&node, &self.actor, ctx);
            let verify_safe = !(force_timeout_expired || out_of_service);
            let req = OpRequest {
                key,
                volume: &volume,
                node: &node,
                spec: &spec,
            };
            let started = self.ops.detach(
                req,
                verify_safe,
                &mut self.asw,
                &mut self.rng,
                ctx,
                &self.actor,
            );
            match started {
                Ok(()) if !verify_safe => {
                    let why = if force_timeout_expired {
                        format!(
                            "this volume is not safe to detach, but maxWaitForUnmountDuration {MAX_WAIT_FOR_UNMOUNT} expired, force detaching"
                        )
                    } else {
                        "node has out-of-service taint, force detaching".to_string()
                    };
                    ctx.note(
                        COMPONENT,
                        format!("Node {node}"),
                        format!(
                            "attacherDetacher.DetachVolume started for volume \"{}\": {why}",
                            spec.pv_name
                        ),
                    );
                }
                Ok(()) => {}
                Err(_) => self.asw.add_volume_to_report_as_attached(&volume, &node),
            }
        }
        self.attach_desired_volumes(cache, ctx, &mut wake);
        self.asw.update_node_statuses(&self.actor, ctx);
        wake
    }

    // Port of `attachDesiredVolumes`.
    fn attach_desired_volumes(
        &mut self,
        cache: &Tables,
        ctx: &mut Ctx<'_, ControlTimer>,
        wake: &mut Option<SimTime>,
    ) {
        // Entries attached and not waiting to be detached need nothing: only the others
        // are looked at below, exactly as the full loop would.
        let (asw, ops) = (&self.asw, &self.ops);
        let candidates = self.dsw.volumes_to_attach_where(|node, volume, e| {
            if ops.pending_for(volume, node, e.spec.multi_attach_allowed) {
                return false;
            }
            asw.attach_state(volume, node) != AttachState::Attached
                || asw.detach_requested(volume, node).is_some()
        });
        for (node, volume, to_attach) in candidates {
            let multi = to_attach.spec.multi_attach_allowed;
            let key = OpKey::new(&volume, &node, multi);
            if self.ops.is_operation_pending(&key) {
                continue;
            }
            if self.asw.attach_state(&volume, &node) == AttachState::Attached {
                // Attached: wanted again, so any unmount wait starts over.
                self.asw.reset_detach_request_time(&volume, &node);
                continue;
            }
            if !multi {
                let nodes = self.asw.nodes_for_attached_volume(&volume);
                if !nodes.is_empty() {
                    if !to_attach.multi_attach_error_reported {
                        self.report_multi_attach_error(&volume, &node, &to_attach, &nodes, ctx);
                        self.dsw.set_multi_attach_error(&volume, &node);
                    }
                    continue;
                }
            }
            let req = OpRequest {
                key: key.clone(),
                volume: &volume,
                node: &node,
                spec: &to_attach.spec,
            };
            let pods = to_attach.scheduled_pods.values().cloned().collect();
            let started = self.ops.attach(
                req,
                pods,
                cache,
                &mut self.asw,
                &mut self.rng,
                ctx,
                &self.actor,
            );
            if let Err(NotStarted::Backoff) = started
                && let Some(t) = self.ops.retry_after(&key)
            {
                *wake = min_time(*wake, Some(tick_after(t)));
            }
        }
    }

    // Port of `reportMultiAttachError`: one Warning per pod waiting for the volume, naming
    // the pods in its own namespace that hold it on the other node(s), if known.
    fn report_multi_attach_error(
        &self,
        volume: &str,
        node: &str,
        to_attach: &VolumeToAttach,
        nodes: &[String],
        ctx: &mut Ctx<'_, ControlTimer>,
    ) {
        let other: Vec<String> = nodes.iter().filter(|n| *n != node).cloned().collect();
        let holders = self.dsw.volume_pods_on_nodes(&other, volume);
        let pv = &to_attach.spec.pv_name;
        let mut client = ctx.client(&self.actor);
        for pod in to_attach.scheduled_pods.values() {
            let ns = &pod.metadata.namespace;
            let detail = if holders.is_empty() {
                "Volume is already exclusively attached to one node and can't be attached to another"
                    .to_string()
            } else {
                let local: Vec<&str> = holders
                    .iter()
                    .filter(|p| p.metadata.namespace == *ns)
                    .map(|p| p.metadata.name.as_str())
                    .collect();
                let elsewhere = holders.len() - local.len();
                if local.is_empty() {
                    format!("Volume is already used by {elsewhere} pod(s) in different namespaces")
                } else if elsewhere > 0 {
                    format!(
                        "Volume is already used by pod(s) {} and {elsewhere} pod(s) in different namespaces",
                        local.join(", ")
                    )
                } else {
                    format!("Volume is already used by pod(s) {}", local.join(", "))
                }
            };
            let msg = format!("Multi-Attach error for volume \"{pv}\" {detail}");
            client.event(&**pod, EventType::Warning, "FailedAttachVolume", msg);
        }
    }
}
