//! A node's kubelet going away and coming back: the process stopped (`kubeletStop`), the
//! machine powered off (`nodeCrash`, `nodeReboot`, a zone losing power), and the network
//! cutting it off from the API server (a partition).
//!
//! * **Stopped process**: containers keep running (the runtime does not need the kubelet),
//!   nothing is written, nothing is watched. The kubelet's pending work is frozen and
//!   resumes when the process starts again — the timers that came due meanwhile fire at
//!   the restart instant, in order (a simplification of the real restart, which rebuilds
//!   its state from the runtime and the API server to the same effect).
//! * **Power off**: every container dies at once; the pod workers, the image pull in
//!   flight and the heartbeats die with the process. At power-on the kubelet registers
//!   again (the Node object is still there), restarts its heartbeats, and admits the pods
//!   still bound to it from the API server — they start again (images on disk survive);
//!   a pod deleted meanwhile but still Terminating has nothing left to stop and is
//!   finalised. Pod-worker timers set before the crash are stale: workers created after a
//!   boot start their generations at `boot << 32`.
//! * **Cut off**: the kubelet runs its pods as usual (probes, restarts) but its requests
//!   fail (`apiserver::Reachability`) and it receives no watch events. When it can reach
//!   the API server again it relists: pods deleted or changed meanwhile are handled (a pod
//!   force-deleted during the partition is killed only now), and every pod's status is
//!   posted again.

use super::node_kubelet::Kubelet;
use super::pod_worker::Stage;
use super::{KCtx, KubeletTimer, NodeAgents};
use crate::api::Tables;
use std::rc::Rc;

/// Whether a node's kubelet runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KubeletState {
    Running,
    /// The process is stopped; containers run on.
    Stopped,
    /// The machine is off.
    PoweredOff,
}

impl Kubelet {
    /// Re-reads the informer cache as a relist would: every pod bound to this node is
    /// (re)delivered, and workers whose pod is gone are told so.
    pub(super) fn relist(&mut self, cache: &Tables, ctx: &mut KCtx<'_>) -> Vec<String> {
        let name = self.env.spec.name.clone();
        let mut touched = Vec::new();
        let gone: Vec<_> = self
            .pods
            .values()
            .filter(|w| {
                cache
                    .pods
                    .get(&w.key)
                    .is_none_or(|p| p.metadata.uid != w.uid)
            })
            .map(|w| Rc::clone(&w.pod))
            .collect();
        for pod in gone {
            touched.push(pod.metadata.uid.clone());
            self.on_pod(&pod, true, cache, ctx);
        }
        let bound: Vec<_> = cache
            .pods
            .values()
            .filter(|p| p.spec.node_name == name)
            .cloned()
            .collect();
        for pod in bound {
            touched.push(pod.metadata.uid.clone());
            self.on_pod(&pod, false, cache, ctx);
        }
        touched
    }
}

impl NodeAgents {
    fn index_of(&self, name: &str) -> Option<usize> {
        self.by_name.get(name).map(|&i| i as usize)
    }

    /// The kubelet's state on node `name`.
    pub fn kubelet_state(&self, name: &str) -> Option<KubeletState> {
        self.index_of(name).map(|i| self.kubelets[i].state())
    }

    /// `kubeletStop` begins: the process stops, containers run on.
    pub fn stop_kubelet(&mut self, name: &str) {
        let Some(i) = self.index_of(name) else {
            return;
        };
        let k = &mut self.kubelets[i];
        if k.state() == KubeletState::Running {
            k.set_state(KubeletState::Stopped);
            k.env.heartbeat.stop();
        }
    }

    /// The machine loses power: every container of the node dies now.
    pub fn power_off(&mut self, name: &str) {
        let Some(i) = self.index_of(name) else {
            return;
        };
        let k = &mut self.kubelets[i];
        if k.state() == KubeletState::PoweredOff {
            return;
        }
        k.set_state(KubeletState::PoweredOff);
        k.env.heartbeat.stop();
        k.env.images.power_off();
        // Pull timers of the dead process must not finish a pull of the next one.
        k.deferred
            .retain(|t| !matches!(t, KubeletTimer::PullDone { .. }));
        let uids: Vec<String> = k.pods.keys().cloned().collect();
        k.pods.clear();
        for uid in uids {
            self.sync_liveness(i as u32, &uid);
        }
    }

    /// The kubelet on node `name` starts (after `kubeletStop` or at power-on).
    pub fn start_kubelet(&mut self, name: &str, ctx: &mut KCtx<'_>) {
        let Some(i) = self.index_of(name) else {
            return;
        };
        let was = self.kubelets[i].state();
        match was {
            KubeletState::Running => return,
            KubeletState::Stopped => {
                self.kubelets[i].set_state(KubeletState::Running);
                let index = self.kubelets[i].env.index;
                let last = self.kubelets[i].env.heartbeat.last_report();
                self.kubelets[i].env.heartbeat.start(index, last, ctx);
            }
            KubeletState::PoweredOff => {
                let k = &mut self.kubelets[i];
                k.set_state(KubeletState::Running);
                k.env.boot += 1;
                k.env.boot_generation = k.env.boot << 32;
                k.register(ctx);
                let csi = self.csi_drivers.clone();
                let k = &self.kubelets[i];
                super::csi_node::register(&k.env.spec, &csi, &k.env.actor, ctx);
            }
        }
        // The timers that came due while it was down fire now, in order.
        let deferred = std::mem::take(&mut self.kubelets[i].deferred);
        for t in deferred {
            self.on_timer(t, ctx);
        }
        if self.connected[i] {
            self.relist(i, ctx);
        }
    }

    /// The network lets node `name` reach the API server (`true`) or not.
    pub fn set_connected(&mut self, name: &str, connected: bool, ctx: &mut KCtx<'_>) {
        let Some(i) = self.index_of(name) else {
            return;
        };
        if self.connected[i] == connected {
            return;
        }
        self.connected[i] = connected;
        if connected && self.kubelets[i].state() == KubeletState::Running {
            self.relist(i, ctx);
        }
    }

    /// A relist of kubelet `i` after it could not watch: catch up with the cache, then post
    /// every pod's status again (the status manager's writes made while cut off failed).
    fn relist(&mut self, i: usize, ctx: &mut KCtx<'_>) {
        let name = crate::api::ObjectKey::cluster(&self.kubelets[i].env.spec.name);
        if let Some(node) = self.informer.cache.nodes.get(&name) {
            self.kubelets[i].env.heartbeat.observe_node(node);
        }
        let touched = self.kubelets[i].relist(&self.informer.cache, ctx);
        let k = &mut self.kubelets[i];
        let env = &k.env;
        for w in k.pods.values_mut() {
            if w.stage != Stage::Terminated {
                w.publish_status(env, ctx);
            }
        }
        for uid in touched {
            self.sync_liveness(i as u32, &uid);
        }
    }

    /// Whether kubelet `i` receives watch events now.
    pub(super) fn watching(&self, i: usize) -> bool {
        self.connected[i] && self.kubelets[i].state() == KubeletState::Running
    }

    /// Keeps `timer` for later if its kubelet is not running; returns whether it did.
    pub(super) fn defer_if_down(&mut self, timer: &KubeletTimer) -> bool {
        let i = timer.node() as usize;
        let Some(k) = self.kubelets.get_mut(i) else {
            return false;
        };
        if k.state() == KubeletState::Running {
            return false;
        }
        match timer {
            // Heartbeats of a stopped process are stale (its epoch moved on).
            KubeletTimer::Heartbeat { .. } => {}
            // Nothing of a dead machine's pull survives it.
            KubeletTimer::PullDone { .. } if k.state() == KubeletState::PoweredOff => {}
            _ => k.deferred.push(timer.clone()),
        }
        true
    }
}
