//! The kubelets of all nodes, as the engine drives them: one shared informer, one
//! [`node_kubelet::Kubelet`] per node, and one timer type.
//!
//! A kubelet sees the cluster only through the informer (the pods bound to its node, the
//! claims they mount) and writes only through its own API client (`kubelet/<node>`): the
//! Node at registration, pod status, Events, and the final delete of a terminated pod.
//!
//! Files, one concept each:
//! `node_kubelet` (one node: pod admission and routing), `pod_worker` (one pod: `SyncPod`),
//! `termination` (`SyncTerminatingPod`, the final status and delete), `container` (one
//! container in the runtime), `status` (`generateAPIPodStatus`: phase and conditions),
//! `status_manager` (a pod worker's status, generated and written), `status_memo` (what
//! the last no-op status write saw), `images` (image manager and serial puller), `prober`
//! (probe workers), `readiness` (a pod worker's probes: started and ready), `parking`
//! (probe tickers left out of the queue while their ticks change nothing), `pod_workers`
//! (a kubelet's pod workers by uid, watched for parked tickers), `backoff`
//! (`flowcontrol.Backoff`), `volumes` (the volume manager's gate), `node_status` (Node
//! registration) and `events` (Event texts).

mod backoff;
mod container;
mod csi_node;
mod events;
mod heartbeat;
mod images;
mod lifecycle;
mod live;
mod node_kubelet;
mod node_status;
mod parking;
mod pod_worker;
mod pod_workers;
mod prober;
mod readiness;
mod shutdown;
mod status;
mod status_manager;
mod status_memo;
mod termination;
mod volumes;

#[cfg(test)]
mod testkit;
#[cfg(test)]
mod tests;

pub use lifecycle::KubeletState;
pub use live::{LiveChange, LiveInstance};
pub use parking::QuietTick;
pub use prober::ProbeKind;

use crate::api::{AnyObject, ObjectKey};
use crate::apiserver::{ApiServer, Informer};
use crate::component::Ctx;
use crate::rng::RngStreams;
use crate::scenario::{ImageSpec, NodeSpecInput, Timing};
use crate::time::SimTime;
use node_kubelet::Kubelet;
use std::collections::BTreeMap;
use std::rc::Rc;

type KCtx<'a> = Ctx<'a, KubeletTimer>;

/// Which pod worker set a timer, and at which of its generations.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PodTimer {
    pub node: u32,
    /// Shared with the worker (`PodWorker::timer_uid`): a timer costs no string copy.
    pub uid: Rc<str>,
    pub generation: u64,
}

/// A timer about one container of a pod; `token` is the container's transition count
/// when it was set, so a timer outlived by a restart or a kill is recognised as stale.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContainerTimer {
    pub pod: PodTimer,
    pub container: u32,
    pub token: u64,
}

/// A kubelet's timer. The engine hands each back to [`NodeAgents::on_timer`] at its time;
/// timers are never cancelled, stale ones are recognised and ignored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KubeletTimer {
    /// The pod worker syncs again: a back-off expired, or the next relist is due.
    Sync(PodTimer),
    /// The pod worker's periodic resync (`--sync-frequency`), re-armed after every sync;
    /// only the latest one counts.
    Resync(PodTimer),
    /// `StartContainer` returned: the container runs.
    ContainerStarted(ContainerTimer),
    /// The container exits on its own (`CrashLoop` images, a second after starting).
    ContainerExited(ContainerTimer),
    /// The container stopped after SIGTERM, or was SIGKILLed at the grace deadline.
    ContainerStopped(ContainerTimer),
    /// A probe worker's ticker fired; `ticker` is its key, the same at every tick
    /// (`ProbeWorker::key`): the engine schedules the tick as a keyed event with it.
    Probe {
        pod: PodTimer,
        container: u32,
        kind: ProbeKind,
        ticker: u64,
    },
    /// The node's image puller finished its current pull.
    PullDone { node: u32 },
    /// The volume manager's, or a pod's volume wait (`volumes.rs`).
    Volume(volumes::VolumeTimer),
    /// The node's lease renewal and status check (`heartbeat.rs`), of kubelet run `epoch`.
    Heartbeat { node: u32, epoch: u64 },
}

impl KubeletTimer {
    /// The node whose kubelet set the timer.
    pub fn node(&self) -> u32 {
        match self {
            KubeletTimer::Sync(p)
            | KubeletTimer::Resync(p)
            | KubeletTimer::Probe { pod: p, .. } => p.node,
            KubeletTimer::ContainerStarted(c)
            | KubeletTimer::ContainerExited(c)
            | KubeletTimer::ContainerStopped(c) => c.pod.node,
            KubeletTimer::PullDone { node } | KubeletTimer::Heartbeat { node, .. } => *node,
            KubeletTimer::Volume(v) => v.node(),
        }
    }
}

pub struct NodeAgents {
    pub informer: Informer,
    kubelets: Vec<Kubelet>,
    by_name: BTreeMap<String, u32>,
    /// Pods are left alone (tests drive pod phases themselves, as upstream's controller
    /// tests do); nodes are still registered.
    manual_pods: bool,
    /// Per node: the pod instances (by uid) with a live container process (`live.rs`).
    live: Vec<BTreeMap<String, ObjectKey>>,
    /// Changes of `live` not yet drained by the engine.
    live_changes: Vec<LiveChange>,
    /// The CSI drivers whose node plugins run on every node (`csi_node.rs`).
    csi_drivers: Vec<crate::scenario::CsiDriverProfile>,
    /// Per node: whether the network lets its kubelet reach the API server
    /// (`lifecycle.rs`).
    connected: Vec<bool>,
    /// Parked probe tickers (`parking.rs`), shared with every kubelet.
    parking: parking::SharedLot,
    /// Whether quiet probe ticks may park their worker (the default; off only in tests
    /// that compare both).
    park_tickers: bool,
}

impl NodeAgents {
    /// One kubelet per node, in the order given (the order fixes node indices, and with
    /// them host and pod IPs); each draws from its own stream `kubelet/<node>`.
    pub fn new(
        informer: Informer,
        nodes: &[NodeSpecInput],
        images: &[ImageSpec],
        timing: &Timing,
        rngs: &RngStreams,
    ) -> Self {
        let parking = parking::SharedLot::default();
        let kubelets: Vec<Kubelet> = nodes
            .iter()
            .enumerate()
            .map(|(i, n)| Kubelet::new(i as u32, n, images, timing, rngs, &parking))
            .collect();
        let by_name = nodes
            .iter()
            .enumerate()
            .map(|(i, n)| (n.name.clone(), i as u32))
            .collect();
        NodeAgents {
            informer,
            live: vec![BTreeMap::new(); kubelets.len()],
            connected: vec![true; kubelets.len()],
            kubelets,
            by_name,
            manual_pods: false,
            live_changes: Vec::new(),
            csi_drivers: Vec::new(),
            parking,
            park_tickers: true,
        }
    }

    /// The CSI drivers that register on every node at registration (CSINode objects and
    /// topology labels).
    pub fn set_csi_drivers(&mut self, drivers: &[crate::scenario::CsiDriverProfile]) {
        self.csi_drivers = drivers.to_vec();
    }

    /// Leaves pods to the caller: the kubelets neither start nor stop them.
    pub fn set_manual_pods(&mut self, manual: bool) {
        self.manual_pods = manual;
    }

    /// Registers every node (creates its Node object, Ready).
    pub fn register_all(&mut self, ctx: &mut Ctx<'_, KubeletTimer>) {
        for k in &mut self.kubelets {
            k.register(ctx);
            csi_node::register(&k.env.spec, &self.csi_drivers, &k.env.actor, ctx);
        }
    }

    /// Delivers due watch events: pods go to the kubelet named by `spec.nodeName`, claim
    /// changes to every kubelet. The kubelets' own writes are delivered too once due.
    /// Returns the informer's next delivery time.
    pub fn deliver(&mut self, ctx: &mut Ctx<'_, KubeletTimer>) -> Option<SimTime> {
        loop {
            let mut batch = Vec::new();
            let next = self
                .informer
                .catch_up(ctx.api, ctx.now, |_, ev, _| batch.push(ev.clone()));
            if batch.is_empty() {
                return next;
            }
            for ev in batch {
                match &ev.obj {
                    AnyObject::Pod(_) if self.manual_pods => {}
                    AnyObject::Pod(pod) => {
                        if let Some(&i) = self.by_name.get(&pod.spec.node_name)
                            && self.watching(i as usize)
                        {
                            let cache = &self.informer.cache;
                            self.kubelets[i as usize].on_pod(pod, ev.removed, cache, ctx);
                            self.sync_liveness(i, &pod.metadata.uid);
                        }
                    }
                    AnyObject::PersistentVolumeClaim(pvc) => {
                        self.claim_changed(&ObjectKey::of(&pvc.metadata), ctx);
                    }
                    AnyObject::PersistentVolume(pv) => {
                        let Some(r) = &pv.spec.claim_ref else {
                            continue;
                        };
                        self.claim_changed(&ObjectKey::new(&r.namespace, &r.name), ctx);
                    }
                    AnyObject::Node(node) => {
                        if let Some(&i) = self.by_name.get(&node.metadata.name)
                            && self.watching(i as usize)
                        {
                            self.kubelets[i as usize].env.heartbeat.observe_node(node);
                            let cache = &self.informer.cache;
                            self.kubelets[i as usize].on_node_changed(node, cache, ctx);
                        }
                    }
                    _ => {}
                }
            }
        }
    }

    /// A claim (or the volume bound to it) changed: every watching kubelet whose pods may
    /// wait on it looks again, in node order.
    fn claim_changed(&mut self, key: &ObjectKey, ctx: &mut Ctx<'_, KubeletTimer>) {
        let hash = volumes::ClaimHash::of(key);
        for i in 0..self.kubelets.len() {
            if self.kubelets[i].may_wait_on_claim(hash) && self.watching(i) {
                let cache = &self.informer.cache;
                self.kubelets[i].on_claim_changed(key, cache, ctx);
            }
        }
    }

    pub fn on_timer(&mut self, timer: KubeletTimer, ctx: &mut Ctx<'_, KubeletTimer>) {
        if self.defer_if_down(&timer) {
            return;
        }
        let node = timer.node();
        // A container process appears or disappears only on these timers (`live.rs`); the
        // others move containers to `Starting` at most, or stop nothing.
        let uid = match &timer {
            KubeletTimer::ContainerStarted(c)
            | KubeletTimer::ContainerExited(c)
            | KubeletTimer::ContainerStopped(c) => Some(c.pod.uid.clone()),
            _ => None,
        };
        if let KubeletTimer::Volume(t) = timer {
            if let Some(k) = self.kubelets.get_mut(node as usize) {
                k.on_volume_timer(t, &self.informer.cache, ctx);
            }
            return;
        }
        if let Some(k) = self.kubelets.get_mut(node as usize) {
            k.on_timer(timer, ctx);
            if let Some(uid) = uid {
                self.sync_liveness(node, &uid);
            }
        }
    }

    /// The tick of probe timer `timer` at `now` if it has no effect outside its probe
    /// worker (the container's result stands, no failure to record): performs it and
    /// says what becomes of the ticker ([`QuietTick`]: again a period later, stopped, or
    /// parked). `None` — the timer is not a probe, its kubelet is not running, or the
    /// tick does something — means nothing was done and [`NodeAgents::on_timer`] must
    /// handle it. A quiet tick is what `on_timer` would do for it, minus the work of
    /// building a fresh timer.
    pub fn quiet_probe(&mut self, timer: &KubeletTimer, now: SimTime) -> Option<QuietTick> {
        let KubeletTimer::Probe {
            pod,
            container,
            kind,
            ..
        } = timer
        else {
            return None;
        };
        let park = self.park_tickers;
        let k = self.kubelets.get_mut(pod.node as usize)?;
        if k.state() != lifecycle::KubeletState::Running {
            return None;
        }
        k.quiet_probe(pod, *container, *kind, now, park)
    }

    /// The name of node number `i` (kubelet order, which is also the network's).
    pub fn node_name(&self, i: u32) -> Option<&str> {
        self.kubelets
            .get(i as usize)
            .map(|k| k.env.spec.name.as_str())
    }

    /// How many nodes there are.
    pub fn node_count(&self) -> u32 {
        self.kubelets.len() as u32
    }

    /// Stops node `name`'s heartbeats (Lease renewals and node status posts) from now on,
    /// leaving its kubelet otherwise running; returns false if there is no such node. A
    /// test hook (a kubelet that goes silent while its pods and volumes stay); the
    /// `kubeletStop` and `nodeCrash` faults stop the whole kubelet (`lifecycle.rs`).
    pub fn stop_heartbeats(&mut self, name: &str) -> bool {
        match self.by_name.get(name) {
            Some(&i) => {
                self.kubelets[i as usize].env.heartbeat.stop();
                true
            }
            None => false,
        }
    }

    /// When the informer next has a journal entry to deliver (including this component's
    /// own writes made since the last delivery).
    pub fn next_delivery(&self, api: &ApiServer) -> Option<SimTime> {
        api.journal_entry(self.informer.cursor())
            .map(|e| e.at().saturating_add(self.informer.delay))
    }
}
