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
        self.gather_attention();
        let candidates: Vec<(String, String)> = self.detach_attention.iter().cloned().collect();
        for (volume, node) in candidates {
            let Some((spec, state)) = self.asw.get(&volume, &node) else {
                self.detach_attention.remove(&(volume, node));
                continue;
            };
            if self.dsw.volume_exists(&volume, &node) {
                self.detach_attention.remove(&(volume, node));
                continue;
            }
            let (spec, state) = (spec.clone(), state.clone());
            // No operation may be running or backing off for this volume (and node).
            let key = OpKey::new(&volume, &node, spec.multi_attach_allowed);
            if !self.ops.is_safe_to_retry(&key, OpName::Detach, now) {
                match self.ops.retry_after(&key) {
                    Some(t) => wake = min_time(wake, Some(tick_after(t))),
                    // Running: its end changes the actual state, which brings it back.
                    None => {
                        self.detach_attention.remove(&(volume, node));
                    }
                }
                continue;
            }
            if self.asw.attach_state(&volume, &node) == AttachState::Detached {
                self.detach_attention.remove(&(volume, node));
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
            // Started (or refused): looked at again when the actual state changes.
            self.detach_attention.remove(&(volume, node));
        }
        self.attach_desired_volumes(cache, ctx, &mut wake);
        self.asw.update_node_statuses(&self.actor, ctx);
        wake
    }

    /// Entries whose state may have changed since the last pass: the desired state's new
    /// and removed entries, and every entry of a volume whose actual state changed.
    fn gather_attention(&mut self) {
        for (node, volume) in std::mem::take(&mut self.dsw.added) {
            self.attention.insert((node, volume));
        }
        for (volume, node) in std::mem::take(&mut self.dsw.removed) {
            self.detach_attention.insert((volume, node));
        }
        for volume in std::mem::take(&mut self.asw.changed) {
            for node in self.dsw.nodes_wanting(&volume) {
                self.attention.insert((node, volume.clone()));
            }
            for node in self.asw.nodes_of(&volume) {
                self.detach_attention.insert((volume.clone(), node));
            }
        }
    }

    // Port of `attachDesiredVolumes`.
    fn attach_desired_volumes(
        &mut self,
        cache: &Tables,
        ctx: &mut Ctx<'_, ControlTimer>,
        wake: &mut Option<SimTime>,
    ) {
        // Only entries that may need work are looked at: new ones, those whose volume's
        // actual state changed, and those blocked by a backoff. The others are attached and
        // need nothing, as the full loop would find.
        let candidates: Vec<(String, String)> = self.attention.iter().cloned().collect();
        for (node, volume) in candidates {
            let Some(to_attach) = self.dsw.get(&node, &volume).cloned() else {
                self.attention.remove(&(node, volume));
                continue;
            };
            let multi = to_attach.spec.multi_attach_allowed;
            let key = OpKey::new(&volume, &node, multi);
            if self.ops.is_operation_pending(&key) {
                self.attention.remove(&(node, volume));
                continue;
            }
            if self.asw.attach_state(&volume, &node) == AttachState::Attached {
                // Attached: wanted again, so any unmount wait starts over.
                self.asw.reset_detach_request_time(&volume, &node);
                self.attention.remove(&(node, volume));
                continue;
            }
            if !multi {
                let nodes = self.asw.nodes_for_attached_volume(&volume);
                if !nodes.is_empty() {
                    if !to_attach.multi_attach_error_reported {
                        self.report_multi_attach_error(&volume, &node, &to_attach, &nodes, ctx);
                        self.dsw.set_multi_attach_error(&volume, &node);
                    }
                    // Waits for the other node's detach (a change of this volume).
                    self.attention.remove(&(node, volume));
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
            match started {
                Err(NotStarted::Backoff) => {
                    if let Some(t) = self.ops.retry_after(&key) {
                        *wake = min_time(*wake, Some(tick_after(t)));
                    }
                }
                _ => {
                    self.attention.remove(&(node, volume));
                }
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
