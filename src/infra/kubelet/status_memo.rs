//! What the pod worker's last no-op status write saw, so that the next one can tell
//! without generating the status again (`status_manager.rs` `write_status`).
//!
//! A resync (`--sync-frequency`, every 60–90 s per pod) ends with a status write that,
//! in steady state, finds the live status already equal to the one generated, and writes
//! nothing. Generating it means building the container statuses, the five kubelet
//! conditions and their messages (≈ 8 k instructions a pod); the memo makes that check a
//! pointer comparison plus a comparison of the worker's own inputs.
//!
//! Why it is exact: `api_status(live, now, terminal)` reads only `live`, `terminal`, `now`,
//! the worker's containers (and their probe-derived `ready`/`started`), its sandbox, pod
//! IP, shutdown state and restart policy, and the node's host IP. The memo keeps every one
//! of these except `now`, and the live object by `Rc` (held, so the pointer cannot be
//! reused for another object; any write to the pod replaces the `Rc` in the store). `now`
//! does not matter once the status was found equal at some earlier `now₀`: `now` enters
//! only as the `lastTransitionTime` of a condition that is new or changed status
//! (`status::conditions`, `shutdown::set_disruption_target`) and as the start time when
//! the live object has none — and in either case the generated status at `now₀` carried
//! `now₀` where the live object could not have it (a condition absent from or of another
//! status in `live`, or `startTime` unset), so it would not have been equal. So equal at
//! `now₀` with the same inputs means equal at every `now`.

use super::container::ContainerRuntime;
use super::node_kubelet::NodeEnv;
use super::pod_worker::PodWorker;
use crate::api::Pod;
use std::rc::Rc;

/// The inputs of a generated status that equalled the live one.
pub struct StatusMemo {
    live: Rc<Pod>,
    terminal: bool,
    containers: Vec<ContainerRuntime>,
    /// `(ready(i), started(i))` per container: the probe results as the status saw them.
    probed: Vec<(bool, bool)>,
    sandbox_ready: bool,
    pod_ip: Option<String>,
    shutdown: bool,
    restart_policy: String,
    host_ip: String,
}

impl PodWorker {
    fn probed(&self) -> impl Iterator<Item = (bool, bool)> + '_ {
        (0..self.containers.len()).map(|i| (self.ready(i), self.started(i)))
    }

    /// Whether the status generated now against `live` is known to equal `live.status`
    /// (the memo's inputs are all unchanged).
    pub(super) fn status_known_equal(&self, live: &Rc<Pod>, env: &NodeEnv, terminal: bool) -> bool {
        let Some(m) = &self.status_memo else {
            return false;
        };
        Rc::ptr_eq(&m.live, live)
            && m.terminal == terminal
            && m.sandbox_ready == self.sandbox_ready
            && m.shutdown == self.shutdown_grace.is_some()
            && m.containers == self.containers
            && m.probed.iter().copied().eq(self.probed())
            && m.pod_ip == self.pod_ip
            && m.restart_policy == self.pod.spec.restart_policy
            && m.host_ip == env.host_ip
    }

    /// Remembers that the status generated from the current inputs equalled `live`'s.
    pub(super) fn remember_equal_status(&mut self, live: &Rc<Pod>, env: &NodeEnv, terminal: bool) {
        self.status_memo = Some(StatusMemo {
            live: Rc::clone(live),
            terminal,
            containers: self.containers.clone(),
            probed: self.probed().collect(),
            sandbox_ready: self.sandbox_ready,
            pod_ip: self.pod_ip.clone(),
            shutdown: self.shutdown_grace.is_some(),
            restart_policy: self.pod.spec.restart_policy.clone(),
            host_ip: env.host_ip.clone(),
        });
    }
}
