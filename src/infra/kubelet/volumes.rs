//! The kubelet's volume manager (`pkg/kubelet/volumemanager`): for each node, which pod
//! volumes are wanted (the desired-state populator), which are attached according to the
//! Node status, which are mounted (the reconciler's MountVolume / UnmountVolume), the
//! `volumesInUse` list it reports in the Node status — and, per pod, the gate before
//! containers start (`WaitForAttachAndMount`).
//!
//! A claim volume is wanted once its claim is Bound to a PersistentVolume the kubelet
//! sees. An attachable volume (a CSI driver whose profile needs attach; a driver without
//! a profile needs it too, as without a CSIDriver object) is mounted only when both hold:
//! the Node status lists it in `volumesInUse` (reported by this kubelet at its next node
//! status sync, every 10 s — `nodeStatusUpdateFrequency`: "it may take as much as 10
//! seconds before this clears") and in `volumesAttached` (written by the attach/detach
//! controller). Since 1.24 neither wait burns the operation backoff, so the mount starts
//! as soon as both are seen. Mount (MountDevice + SetUp) and unmount take the driver
//! profile's latencies; volumes without a profile (or other sources) take no time.
//!
//! `WaitForAttachAndMount` polls every 300 ms (the first poll at once) for up to 2m3s.
//! On timeout the sync fails and the pod worker retries after `backOffPeriod` (10 s,
//! jittered by up to half). Since kubelet 1.28 (kubernetes#117412) `SyncPod` records no
//! `FailedMount` Event for that timeout: the error wraps `context.DeadlineExceeded`, which
//! `wait.Interrupted` filters out with the cancellations it was meant for (the omission is
//! kubernetes#127004). The simulator writes the error as a timeline note instead.
//!
//! On termination the pod's volumes stop being wanted once its containers have stopped;
//! they are unmounted, and the status manager deletes the pod object only after that
//! (`canBeDeleted` waits for the volumes to be cleaned up). `volumesInUse` keeps a volume
//! until it is unmounted, so the attach/detach controller detaches only after that.
//!
//! A failed mount is retried after an exponential backoff (500 ms doubling to 2m2s,
//! `nestedpendingoperations`), with a `FailedMount` Event; mounts fail on a disk that a
//! `diskLoss` destroyed, by the driver profile's `mountFailureRatio`, or on a device the
//! test hook [`NodeAgents::set_device_broken`] breaks (see `mount_failure`).
//!
//! Files: this one (the node's volume manager), `wait` (a pod's wait for its volumes) and
//! `mount_failure` (failed mounts: causes, Event, backoff).

mod claim_filter;
mod mount_failure;
mod wait;

use super::node_kubelet::{Kubelet, NodeEnv};
use super::pod_worker::Stage;
use super::{KCtx, KubeletTimer, NodeAgents, PodTimer};
use crate::api::{Node, ObjectKey, PersistentVolume, Pod, Tables};
use crate::rng::{Latency, RngStreams, SimRng};
use crate::scenario::StorageSpec;
use crate::time::{SimDuration, SimTime};
use claim_filter::ClaimFilter;
pub use claim_filter::ClaimHash;
use mount_failure::MountFailure;
use std::collections::{BTreeMap, BTreeSet};
pub use wait::{PodVolumes, VolumeWait};

/// `exponentialbackoff` for failed volume operations: 500 ms doubling to 2m2s.
const MOUNT_BACKOFF_INITIAL: SimDuration = SimDuration::from_millis(500);
const MOUNT_BACKOFF_MAX: SimDuration = SimDuration::from_secs(122);

/// A timer of the volume manager or of a pod's wait.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VolumeTimer {
    /// MountDevice + SetUp of a pod's volume finished (`token` names the operation).
    MountDone {
        node: u32,
        uid: String,
        pv: String,
        token: u64,
    },
    /// TearDown + UnmountDevice finished.
    UnmountDone {
        node: u32,
        uid: String,
        pv: String,
        token: u64,
    },
    /// A failed mount's backoff is over.
    MountRetry { node: u32, uid: String, pv: String },
    /// The node status sync that reports `volumesInUse`.
    StatusSync { node: u32 },
    /// A `WaitForAttachAndMount` poll that will find every volume mounted.
    WaitPoll { pod: PodTimer, wait: u64 },
    /// `WaitForAttachAndMount` times out.
    WaitTimeout { pod: PodTimer, wait: u64 },
    /// The pod worker's sync after a failed one (`backOffPeriod`).
    SyncRetry { pod: PodTimer, wait: u64 },
}

impl VolumeTimer {
    pub fn node(&self) -> u32 {
        match self {
            VolumeTimer::MountDone { node, .. }
            | VolumeTimer::UnmountDone { node, .. }
            | VolumeTimer::MountRetry { node, .. }
            | VolumeTimer::StatusSync { node } => *node,
            VolumeTimer::WaitPoll { pod, .. }
            | VolumeTimer::WaitTimeout { pod, .. }
            | VolumeTimer::SyncRetry { pod, .. } => pod.node,
        }
    }
}

/// What a driver's profile says about mounting.
#[derive(Clone, Debug)]
struct DriverTiming {
    attach_required: bool,
    mount: Latency,
    unmount: Latency,
    mount_failure_ratio: f64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum MountState {
    /// Wanted, not mounted yet (waiting for attach, for the in-use report, or a backoff).
    Waiting,
    Mounting {
        token: u64,
    },
    Mounted,
    Unmounting {
        token: u64,
    },
}

/// One volume of one pod on the node.
#[derive(Clone, Debug)]
struct PodVolume {
    /// The attachable volume's unique name (`kubernetes.io/csi/<driver>^<handle>`).
    unique: Option<String>,
    timing: Option<DriverTiming>,
    state: MountState,
    wanted: bool,
    /// Failed mounts: (last failure, current backoff).
    backoff: Option<(SimTime, SimDuration)>,
    /// How the mount in flight will fail, decided when it started.
    fails: Option<MountFailure>,
}

/// One node's volume manager.
pub struct VolumeManager {
    drivers: BTreeMap<String, DriverTiming>,
    /// `kubelet-volumes/<node>`: mount latencies and retry jitter, apart from the
    /// kubelet's own stream so that storage never moves pull or start times.
    rng: SimRng,
    /// Per pod uid, per PersistentVolume name.
    pods: BTreeMap<String, BTreeMap<String, PodVolume>>,
    /// `volumesInUse` as last reported (`MarkVolumesAsReportedInUse`).
    reported_in_use: BTreeSet<String>,
    /// Attachable volumes wanted or mounted, with how many pod volumes hold each.
    in_use: BTreeMap<String, u32>,
    /// Pods (uids) whose volumes wait on each claim, and the claims of each such pod.
    claim_users: BTreeMap<ObjectKey, BTreeSet<String>>,
    /// A superset of `claim_users`' keys, tested before the map (`claim_filter.rs`).
    claim_filter: ClaimFilter,
    pod_claims: BTreeMap<String, Vec<ObjectKey>>,
    /// Pods whose every claim resolved to a volume the kubelet sees.
    resolved: BTreeSet<String>,
    /// `volumesAttached` of the Node, as the informer last delivered it.
    attached: BTreeSet<String>,
    /// Devices that fail to mount (test hook; see [`NodeAgents::set_device_broken`]).
    broken: BTreeSet<String>,
    /// PersistentVolumes whose disk was destroyed (`diskLoss`): no device to mount.
    lost: BTreeSet<String>,
    /// The node status loop's period (`nodeStatusUpdateFrequency`: `volumesInUse` is
    /// reported by the same `syncNodeStatus` as the rest of the status) ...
    status_period: SimDuration,
    /// ... and its phase within it.
    status_phase: SimDuration,
    /// The status sync armed, if any.
    status_sync_at: Option<SimTime>,
    next_token: u64,
    next_wait: u64,
}

impl VolumeManager {
    pub fn new(node: &str, rngs: &RngStreams, status_period: SimDuration) -> Self {
        let mut rng = rngs.stream(&format!("kubelet-volumes/{node}"));
        let status_period = status_period.max(SimDuration::from_millis(1));
        let phase = rng.below(status_period.as_millis());
        VolumeManager {
            drivers: BTreeMap::new(),
            rng,
            pods: BTreeMap::new(),
            reported_in_use: BTreeSet::new(),
            in_use: BTreeMap::new(),
            claim_users: BTreeMap::new(),
            claim_filter: ClaimFilter::default(),
            pod_claims: BTreeMap::new(),
            resolved: BTreeSet::new(),
            attached: BTreeSet::new(),
            broken: BTreeSet::new(),
            status_period,
            lost: BTreeSet::new(),
            status_phase: SimDuration::from_millis(phase),
            status_sync_at: None,
            next_token: 0,
            next_wait: 0,
        }
    }

    /// The CSI drivers of the cluster (their mount latencies and whether they attach).
    pub fn set_storage(&mut self, storage: &StorageSpec) {
        self.drivers = storage
            .drivers
            .iter()
            .map(|d| {
                let t = DriverTiming {
                    attach_required: d.attach_required,
                    mount: d.mount,
                    unmount: d.unmount,
                    mount_failure_ratio: d.mount_failure_ratio,
                };
                (d.name.clone(), t)
            })
            .collect();
    }

    /// Whether any volume of pod `uid` is still mounted (or being mounted or unmounted).
    pub fn pod_has_volumes(&self, uid: &str) -> bool {
        self.pods.get(uid).is_some_and(|v| !v.is_empty())
    }

    /// `GetVolumesInUse`: attachable volumes wanted or still mounted, sorted.
    fn volumes_in_use(&self) -> Vec<String> {
        self.in_use.keys().cloned().collect()
    }

    /// Mounted volumes per PersistentVolume name, with the pods that mount them.
    pub fn mounted(&self) -> impl Iterator<Item = (&str, &str)> {
        self.pods.iter().flat_map(|(uid, vols)| {
            vols.iter()
                .filter(|(_, v)| !matches!(v.state, MountState::Waiting))
                .map(move |(pv, _)| (pv.as_str(), uid.as_str()))
        })
    }

    /// The driver profile of a PV: its CSI driver, else the provisioner that made it.
    fn drivers_timing(&self, pv: &PersistentVolume) -> Option<DriverTiming> {
        let driver = pv
            .spec
            .csi
            .as_ref()
            .map(|c| c.driver.as_str())
            .or_else(|| {
                pv.metadata
                    .annotations
                    .get("pv.kubernetes.io/provisioned-by")
                    .map(String::as_str)
            })?;
        self.drivers.get(driver).cloned()
    }

    /// Whether the PV is attachable (a CSI volume whose driver needs attach).
    fn is_attachable(&self, pv: &PersistentVolume) -> bool {
        let Some(csi) = &pv.spec.csi else {
            return false;
        };
        self.drivers
            .get(&csi.driver)
            .is_none_or(|d| d.attach_required)
    }
}

impl Kubelet {
    /// A claim (or the volume bound to it) changed: pods waiting for their volumes that
    /// use it look again (the desired-state populator would find it on its next pass).
    /// Whether a pod on this node may wait on the claim with this hash: false means
    /// [`Self::on_claim_changed`] would do nothing.
    pub fn may_wait_on_claim(&self, hash: ClaimHash) -> bool {
        self.env.volumes.claim_filter.may_contain(hash)
    }

    pub fn on_claim_changed(&mut self, claim: &ObjectKey, cache: &Tables, ctx: &mut KCtx<'_>) {
        let Some(users) = self.env.volumes.claim_users.get(claim) else {
            return;
        };
        // Pods whose claims all resolved already wait on the node, not on claims.
        let resolved = &self.env.volumes.resolved;
        let users: Vec<String> = users
            .iter()
            .filter(|u| !resolved.contains(*u))
            .cloned()
            .collect();
        for uid in users {
            self.wake_waiting_pods(Some(&uid), cache, ctx);
        }
    }

    /// The Node changed: `volumesAttached` may list new volumes.
    pub fn on_node_changed(&mut self, node: &Node, cache: &Tables, ctx: &mut KCtx<'_>) {
        let attached: BTreeSet<String> = node
            .status
            .volumes_attached
            .iter()
            .map(|v| v.name.clone())
            .collect();
        if attached == self.env.volumes.attached {
            return;
        }
        let old = std::mem::replace(&mut self.env.volumes.attached, attached);
        let changed: BTreeSet<String> = old
            .symmetric_difference(&self.env.volumes.attached)
            .cloned()
            .collect();
        self.reconcile_volumes(&changed, cache, ctx);
    }

    /// The volume manager's reconciler pass over the pod volumes whose attachable volume is
    /// in `changed`: start what can start, then let the pods waiting for them look again.
    fn reconcile_volumes(
        &mut self,
        changed: &BTreeSet<String>,
        cache: &Tables,
        ctx: &mut KCtx<'_>,
    ) {
        if changed.is_empty() {
            return;
        }
        let keys: Vec<(String, String)> = self
            .env
            .volumes
            .pods
            .iter()
            .flat_map(|(uid, v)| {
                v.iter()
                    .filter(|(_, pv)| pv.unique.as_ref().is_some_and(|u| changed.contains(u)))
                    .map(move |(pv, _)| (uid.clone(), pv.clone()))
            })
            .collect();
        for (uid, pv) in &keys {
            reconcile_one(&mut self.env, uid, pv, ctx);
        }
        self.env.arm_status_sync(ctx);
        let uids: BTreeSet<String> = keys.into_iter().map(|(uid, _)| uid).collect();
        for uid in uids {
            self.wake_waiting_pods(Some(&uid), cache, ctx);
        }
    }

    /// Pods waiting for their volumes (all, or one) look again.
    fn wake_waiting_pods(&mut self, only: Option<&str>, cache: &Tables, ctx: &mut KCtx<'_>) {
        let uids: Vec<String> = match only {
            Some(u) => vec![u.to_string()],
            None => self.pods.keys().cloned().collect(),
        };
        for uid in uids {
            if let Some(w) = self.pods.get_mut(&uid)
                && w.stage == Stage::WaitingForVolumes
            {
                w.check_volumes(&mut self.env, cache, ctx);
            }
        }
    }

    pub fn on_volume_timer(&mut self, t: VolumeTimer, cache: &Tables, ctx: &mut KCtx<'_>) {
        match t {
            VolumeTimer::MountDone { uid, pv, token, .. } => {
                let Some(v) = self.env.volumes.volume_mut(&uid, &pv) else {
                    return;
                };
                if v.state != (MountState::Mounting { token }) {
                    return;
                }
                let decided = v.fails;
                // The device may have gone while the mount ran.
                let vm = &self.env.volumes;
                let gone = vm.broken.contains(&pv) || vm.lost.contains(&pv);
                let failure = decided.or(gone.then_some(MountFailure::NoDevice));
                if let Some(failure) = failure {
                    // MountVolume.MountDevice failed: back off before the next try.
                    self.mount_failed(&uid, &pv, failure, ctx);
                    return;
                }
                let v = self.env.volumes.volume_mut(&uid, &pv).expect("seen above");
                v.backoff = None;
                v.state = MountState::Mounted;
                reconcile_one(&mut self.env, &uid, &pv, ctx);
                self.env.arm_status_sync(ctx);
                self.wake_waiting_pods(Some(&uid), cache, ctx);
            }
            VolumeTimer::MountRetry { uid, pv, .. } => {
                reconcile_one(&mut self.env, &uid, &pv, ctx);
                self.wake_waiting_pods(Some(&uid), cache, ctx);
            }
            VolumeTimer::UnmountDone { uid, pv, token, .. } => {
                let Some(v) = self.env.volumes.volume_mut(&uid, &pv) else {
                    return;
                };
                if v.state != (MountState::Unmounting { token }) {
                    return;
                }
                self.env.volumes.remove(&uid, &pv);
                self.env.arm_status_sync(ctx);
                self.volumes_cleaned_up(&uid, ctx);
            }
            VolumeTimer::StatusSync { .. } => {
                if self.env.volumes.status_sync_at != Some(ctx.now) {
                    return;
                }
                self.env.volumes.status_sync_at = None;
                let before = self.env.volumes.reported_in_use.clone();
                self.sync_node_status(ctx);
                let changed: BTreeSet<String> = before
                    .symmetric_difference(&self.env.volumes.reported_in_use)
                    .cloned()
                    .collect();
                self.reconcile_volumes(&changed, cache, ctx);
                // The in-use list may have to change again (volumes added meanwhile).
                self.env.arm_status_sync(ctx);
            }
            VolumeTimer::WaitPoll { pod, wait } => {
                if let Some(w) = self.pods.live_mut(&pod)
                    && matches!(w.volume_wait, VolumeWait::Waiting { id, .. } if id == wait)
                {
                    w.check_volumes(&mut self.env, cache, ctx);
                }
            }
            VolumeTimer::WaitTimeout { pod, wait } => {
                if let Some(w) = self.pods.live_mut(&pod)
                    && w.stage == Stage::WaitingForVolumes
                    && matches!(w.volume_wait, VolumeWait::Waiting { id, .. } if id == wait)
                {
                    w.wait_timed_out(&mut self.env, cache, ctx);
                }
            }
            VolumeTimer::SyncRetry { pod, wait } => {
                if let Some(w) = self.pods.live_mut(&pod)
                    && w.volume_wait == (VolumeWait::BackingOff { id: wait })
                {
                    w.volume_wait = VolumeWait::Idle;
                    w.check_volumes(&mut self.env, cache, ctx);
                }
            }
        }
    }

    /// The last volume of pod `uid` is unmounted: a terminated pod may now be deleted.
    fn volumes_cleaned_up(&mut self, uid: &str, ctx: &mut KCtx<'_>) {
        if self.env.volumes.pod_has_volumes(uid) {
            return;
        }
        if let Some(w) = self.pods.get_mut(uid)
            && w.stage == Stage::Terminated
        {
            w.final_delete(&self.env, ctx);
        }
    }

    /// The node status sync's `volumesInUse` part (`setters.VolumesInUse`): writes the list
    /// if it changed, then marks what the Node now lists as reported in use.
    fn sync_node_status(&mut self, ctx: &mut KCtx<'_>) {
        let in_use = self.env.volumes.volumes_in_use();
        let key = ObjectKey::cluster(&self.env.spec.name);
        let mut client = ctx.client(&self.env.actor);
        let Some(live) = client.get::<Node>(&key) else {
            return;
        };
        let listed = if live.status.volumes_in_use == in_use {
            in_use
        } else {
            let mut next = (*live).clone();
            next.status.volumes_in_use = in_use;
            next.metadata.resource_version.clear();
            match client.update_status(&next) {
                Ok(n) => n.status.volumes_in_use.clone(),
                Err(_) => live.status.volumes_in_use.clone(),
            }
        };
        self.env.volumes.reported_in_use = listed.into_iter().collect();
    }
}

impl NodeEnv {
    /// Arms the next node status sync if `volumesInUse` must change.
    fn arm_status_sync(&mut self, ctx: &mut KCtx<'_>) {
        let vm = &mut self.volumes;
        if vm.status_sync_at.is_some() || vm.in_use.keys().eq(vm.reported_in_use.iter()) {
            return;
        }
        let period = vm.status_period.as_nanos();
        let phase = vm.status_phase.as_nanos();
        let now = ctx.now.as_nanos();
        // The first tick phase + k·period strictly after now.
        let k = (now + period - phase) / period;
        let at = SimTime(phase + k * period);
        let at = if at.as_nanos() <= now {
            SimTime(at.as_nanos() + period)
        } else {
            at
        };
        vm.status_sync_at = Some(at);
        ctx.at(
            at,
            KubeletTimer::Volume(VolumeTimer::StatusSync { node: self.index }),
        );
    }
}

impl VolumeManager {
    fn volume_mut(&mut self, uid: &str, pv: &str) -> Option<&mut PodVolume> {
        self.pods.get_mut(uid)?.get_mut(pv)
    }

    fn remove(&mut self, uid: &str, pv: &str) {
        let Some(v) = self.pods.get_mut(uid) else {
            return;
        };
        if let Some(gone) = v.remove(pv)
            && let Some(u) = gone.unique
            && let Some(n) = self.in_use.get_mut(&u)
        {
            *n -= 1;
            if *n == 0 {
                self.in_use.remove(&u);
            }
        }
        if v.is_empty() {
            self.pods.remove(uid);
        }
    }

    /// How many of pod `uid`'s volumes are mounted.
    fn mounted_count(&self, uid: &str) -> usize {
        self.pods.get(uid).map_or(0, |v| {
            v.values()
                .filter(|x| x.state == MountState::Mounted)
                .count()
        })
    }

    fn token(&mut self) -> u64 {
        self.next_token += 1;
        self.next_token
    }

    /// The desired-state populator for one pod (`processPodVolumes`): its claim volumes
    /// whose PersistentVolume the kubelet sees are wanted. Returns the pod's volumes'
    /// state in `WaitForAttachAndMount`'s terms.
    fn populate_pod(&mut self, pod: &Pod, cache: &Tables) -> PodVolumes {
        let uid = &pod.metadata.uid;
        let mut out = PodVolumes::default();
        if !self.pod_claims.contains_key(uid) {
            let claims: Vec<ObjectKey> = pod
                .claim_names()
                .map(|c| ObjectKey::new(&pod.metadata.namespace, c))
                .collect();
            for c in &claims {
                self.claim_filter.insert(c);
                self.claim_users
                    .entry(c.clone())
                    .or_default()
                    .insert(uid.clone());
            }
            self.pod_claims.insert(uid.clone(), claims);
        }
        for vol in &pod.spec.volumes {
            let Some(src) = &vol.persistent_volume_claim else {
                // Other sources (configMap, emptyDir, ...) are set up at once.
                continue;
            };
            let claim = &src.claim_name;
            let key = ObjectKey::new(&pod.metadata.namespace, claim);
            let pvc = match cache.pvcs.get(&key) {
                None => {
                    out.missing.push(claim.clone());
                    out.not_in_dsw.push(vol.name.clone());
                    out.unmounted.push(vol.name.clone());
                    continue;
                }
                Some(pvc) => pvc,
            };
            if !pvc.is_bound() {
                out.unbound.push(claim.clone());
                out.not_in_dsw.push(vol.name.clone());
                out.unmounted.push(vol.name.clone());
                continue;
            }
            if pvc.spec.volume_name.is_empty() {
                // Bound with no volume named: nothing the kubelet could mount (only test
                // harnesses bind claims this way); counted as set up at once.
                continue;
            }
            let Some(pv) = cache.pvs.get(&ObjectKey::cluster(&pvc.spec.volume_name)) else {
                out.unbound.push(claim.clone());
                out.not_in_dsw.push(vol.name.clone());
                out.unmounted.push(vol.name.clone());
                continue;
            };
            let pv_name = pv.metadata.name.clone();
            let attachable = self.is_attachable(pv);
            let vols = self.pods.entry(uid.clone()).or_default();
            if !vols.contains_key(&pv_name) {
                let unique = if attachable {
                    pv.csi_unique_volume_name()
                } else {
                    None
                };
                if let Some(u) = &unique {
                    *self.in_use.entry(u.clone()).or_insert(0) += 1;
                }
                let timing = self.drivers_timing(pv);
                self.pods.get_mut(uid).expect("just made").insert(
                    pv_name.clone(),
                    PodVolume {
                        unique,
                        timing,
                        state: MountState::Waiting,
                        wanted: true,
                        backoff: None,
                        fails: None,
                    },
                );
            }
            let entry = self
                .pods
                .get_mut(uid)
                .and_then(|v| v.get_mut(&pv_name))
                .expect("present");
            entry.wanted = true;
            if entry.state != MountState::Mounted {
                out.unmounted.push(vol.name.clone());
                let attached = entry
                    .unique
                    .as_ref()
                    .is_none_or(|u| self.attached.contains(u) && self.reported_in_use.contains(u));
                if !attached {
                    out.unattached.push(vol.name.clone());
                }
            }
        }
        out.unmounted.sort();
        out.unattached.sort();
        out.not_in_dsw.sort();
        if out.not_in_dsw.is_empty() {
            self.resolved.insert(uid.clone());
        }
        out
    }

    /// The pod's volumes are no longer wanted (its containers have stopped).
    fn release_pod(&mut self, uid: &str) -> Vec<String> {
        self.resolved.remove(uid);
        let mut forgotten = false;
        for c in self.pod_claims.remove(uid).unwrap_or_default() {
            if let Some(users) = self.claim_users.get_mut(&c) {
                users.remove(uid);
                if users.is_empty() {
                    self.claim_users.remove(&c);
                    forgotten = true;
                }
            }
        }
        if forgotten {
            self.claim_filter.rebuild(self.claim_users.keys());
        }
        match self.pods.get_mut(uid) {
            Some(vols) => vols
                .iter_mut()
                .map(|(pv, v)| {
                    v.wanted = false;
                    pv.clone()
                })
                .collect(),
            None => Vec::new(),
        }
    }
}

/// The volume manager reconciler for one pod volume: mount what is wanted and may be
/// mounted, unmount what is mounted and no longer wanted, forget what is neither.
fn reconcile_one(env: &mut NodeEnv, uid: &str, pv: &str, ctx: &mut KCtx<'_>) {
    let now = ctx.now;
    let node = env.index;
    let vm = &mut env.volumes;
    let Some(v) = vm.volume_mut(uid, pv) else {
        return;
    };
    match (v.wanted, v.state) {
        (true, MountState::Waiting) => {
            if v.backoff.is_some_and(|(t, d)| now.saturating_since(t) <= d) {
                return;
            }
            let ready = v
                .unique
                .clone()
                .is_none_or(|u| vm.attached.contains(&u) && vm.reported_in_use.contains(&u));
            if !ready {
                return;
            }
            let (latency, ratio) = match vm.volume_mut(uid, pv).and_then(|v| v.timing.clone()) {
                Some(t) => (vm.rng.duration(&t.mount), t.mount_failure_ratio),
                None => (SimDuration::ZERO, 0.0),
            };
            let fails = vm.mount_fails(pv, ratio);
            // No device to stage: NodeStageVolume fails at once.
            let latency = if fails == Some(MountFailure::NoDevice) {
                SimDuration::ZERO
            } else {
                latency
            };
            let token = vm.token();
            let v = vm.volume_mut(uid, pv).expect("present");
            if latency == SimDuration::ZERO && fails.is_none() {
                v.state = MountState::Mounted;
                return;
            }
            v.state = MountState::Mounting { token };
            v.fails = fails;
            ctx.after(
                latency,
                KubeletTimer::Volume(VolumeTimer::MountDone {
                    node,
                    uid: uid.to_string(),
                    pv: pv.to_string(),
                    token,
                }),
            );
        }
        (false, MountState::Waiting) => vm.remove(uid, pv),
        (false, MountState::Mounted) => {
            let latency = match &v.timing {
                Some(t) => {
                    let t = t.unmount;
                    vm.rng.duration(&t)
                }
                None => SimDuration::ZERO,
            };
            if latency == SimDuration::ZERO {
                vm.remove(uid, pv);
                return;
            }
            let token = vm.token();
            let v = vm.volume_mut(uid, pv).expect("present");
            v.state = MountState::Unmounting { token };
            ctx.after(
                latency,
                KubeletTimer::Volume(VolumeTimer::UnmountDone {
                    node,
                    uid: uid.to_string(),
                    pv: pv.to_string(),
                    token,
                }),
            );
        }
        // In flight: decided again when it completes.
        (_, MountState::Mounting { .. } | MountState::Unmounting { .. }) => {}
        (true, MountState::Mounted) => {}
    }
}

impl NodeAgents {
    /// The CSI drivers of the cluster, for every kubelet's volume manager.
    pub fn set_storage(&mut self, storage: &StorageSpec) {
        for k in &mut self.kubelets {
            k.env.volumes.set_storage(storage);
        }
    }

    /// Live pod instances on `node` that have PersistentVolume `pv` mounted (or mounting,
    /// or unmounting): who may still be writing to it.
    pub fn volume_writers(&self, node: &str, pv: &str) -> Vec<(ObjectKey, String)> {
        let Some(&i) = self.by_name.get(node) else {
            return Vec::new();
        };
        let k = &self.kubelets[i as usize];
        k.env
            .volumes
            .mounted()
            .filter(|(p, _)| *p == pv)
            .filter_map(|(_, uid)| {
                let w = k.pods.get(uid)?;
                w.is_live().then(|| (w.key.clone(), uid.to_string()))
            })
            .collect()
    }

    /// The disks behind these PersistentVolumes were destroyed (`diskLoss`): no node finds
    /// a device for them any more, so every later mount fails (a mounted volume stays
    /// mounted: the kubelet does not notice a disk that vanishes under a running pod).
    pub fn on_disks_lost<'a>(&mut self, pvs: impl IntoIterator<Item = &'a str> + Clone) {
        for k in &mut self.kubelets {
            k.env
                .volumes
                .lost
                .extend(pvs.clone().into_iter().map(str::to_string));
        }
    }

    /// Test hook: the device of PersistentVolume `pv` is broken on every node, so mounting
    /// it fails (and is retried under the operation backoff) until it is repaired.
    pub fn set_device_broken(&mut self, pv: &str, broken: bool) {
        for k in &mut self.kubelets {
            if broken {
                k.env.volumes.broken.insert(pv.to_string());
            } else {
                k.env.volumes.broken.remove(pv);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testkit::*;
    use super::*;
    use crate::api::storage::{CsiPersistentVolumeSource, PersistentVolumeSpec};
    use crate::api::{ObjectMeta, PersistentVolumeClaim};
    use crate::apiserver::{Actor, ApiClient};

    const NODE: &str = "node-a";

    /// A claim `data` Bound to PV `pv-data` (a CSI volume of driver `d` if `csi`).
    fn bound_claim(w: &mut World, csi: bool) {
        let actor = Actor::new("persistentvolume-controller");
        let mut c = ApiClient::new(&mut w.api, &actor, w.now);
        let pv = PersistentVolume {
            metadata: ObjectMeta {
                name: "pv-data".into(),
                ..Default::default()
            },
            spec: PersistentVolumeSpec {
                access_modes: vec!["ReadWriteOnce".into()],
                csi: csi.then(|| CsiPersistentVolumeSource {
                    driver: "d".into(),
                    volume_handle: "vol-1".into(),
                    ..Default::default()
                }),
                ..Default::default()
            },
            ..Default::default()
        };
        c.create(pv).unwrap();
        let mut pvc = PersistentVolumeClaim {
            metadata: ObjectMeta::named("default", "data"),
            ..Default::default()
        };
        pvc.spec.volume_name = "pv-data".into();
        let pvc = c.create(pvc).unwrap();
        let mut bound = (*pvc).clone();
        bound.status.phase = "Bound".into();
        c.update_status(&bound).unwrap();
    }

    fn node(w: &World) -> std::rc::Rc<Node> {
        w.api
            .get::<Node>(&ObjectKey::cluster(NODE))
            .cloned()
            .unwrap()
    }

    #[test]
    fn an_attachable_volume_waits_for_the_in_use_report_and_the_attach() {
        let mut w = World::new(&[NODE], vec![], fixed_timing());
        bound_claim(&mut w, true);
        w.create_pod(with_claim(
            pod("web-0", NODE, vec![container("db", "db:1")]),
            "www",
            "data",
        ));
        w.run_for(secs(20));
        // Reported in use at the node's status sync (its phase within 10 s), not mounted:
        // nothing attached yet.
        let n = node(&w);
        assert_eq!(n.status.volumes_in_use, ["kubernetes.io/csi/d^vol-1"]);
        assert!(w.events("web-0").is_empty());
        assert!(
            w.notes
                .iter()
                .any(|n| n.message.contains("volume www not attached")),
            "{:?}",
            w.notes
        );
        // The attach/detach controller's part, played here: the node lists it attached.
        let attached_at = w.now;
        let actor = Actor::new("attachdetach-controller");
        let mut next = (*n).clone();
        next.status.volumes_attached = vec![crate::api::node::AttachedVolume {
            name: "kubernetes.io/csi/d^vol-1".into(),
            device_path: String::new(),
        }];
        next.metadata.resource_version.clear();
        ApiClient::new(&mut w.api, &actor, w.now)
            .update_status(&next)
            .unwrap();
        w.run_for(secs(10));
        // Seen 10 ms later, mounted at once (no profile), found by the wait's next 300 ms
        // poll (the wait started when the pod was admitted, at 10 ms).
        let pulling = w.events_with("web-0", "Pulling")[0].at;
        let seen = attached_at + ms(10);
        assert!(pulling >= seen && pulling < seen + ms(300), "{pulling}");
        let since_start = pulling.saturating_since(SimTime::ZERO + ms(10));
        assert_eq!(since_start.as_nanos() % ms(300).as_nanos(), 0);
    }

    #[test]
    fn volumes_in_use_follows_the_node_status_update_frequency() {
        // `volumesInUse` is part of the node status: with `nodeStatusUpdateFrequency: 30s`
        // it changes only at the status loop's ticks, 30 s apart.
        let mut timing = fixed_timing();
        timing.kubelet.node_status_update_frequency = secs(30);
        let mut w = World::new(&[NODE], vec![], timing);
        bound_claim(&mut w, true);
        w.create_pod(with_claim(
            pod("web-0", NODE, vec![container("db", "db:1")]),
            "www",
            "data",
        ));
        let reported = |w: &World| !node(w).status.volumes_in_use.is_empty();
        while !reported(&w) {
            assert!(
                w.now < SimTime::ZERO + secs(31),
                "reported within one period"
            );
            w.run_for(ms(10));
        }
        let first = w.now;
        w.run_for(secs(1));
        w.delete_pod("web-0", Some(0));
        while reported(&w) {
            assert!(w.now < first + secs(61), "{}", w.now);
            w.run_for(ms(10));
        }
        // Seen by the test up to 10 ms after each write.
        let gap = w.now.saturating_since(first);
        assert_eq!(gap, secs(30), "the next tick, not 10 s later");
    }

    #[test]
    fn a_failed_mount_backs_off_from_500ms_doubling_to_2m2s() {
        let mut w = World::new(&[NODE], vec![], fixed_timing());
        w.agents.set_device_broken("pv-data", true);
        bound_claim(&mut w, false);
        w.create_pod(with_claim(
            pod("web-0", NODE, vec![container("db", "db:1")]),
            "www",
            "data",
        ));
        w.run_for(secs(700));
        // Each failure is a FailedMount Event on the pod (the same message: count + 1).
        let failures: Vec<SimTime> = w
            .events_with("web-0", "FailedMount")
            .iter()
            .map(|e| e.at)
            .collect();
        let gaps: Vec<u64> = failures
            .windows(2)
            .map(|p| p[1].saturating_since(p[0]).as_millis())
            .collect();
        assert_eq!(
            &gaps[..10],
            [
                500, 1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 64_000, 122_000, 122_000
            ],
            "{failures:?}"
        );
        let ev = &w.events_with("web-0", "FailedMount")[0];
        assert_eq!(ev.type_, "Warning");
        assert_eq!(
            ev.message,
            "MountVolume.MountDevice failed for volume \"pv-data\" : rpc error: code = Internal desc = Failed to find device path for volume \"pv-data\". no device found for volume \"pv-data\""
        );
        // The retry time is in the kubelet's log line (a note here).
        assert!(w.notes.iter().any(|n| n.message
            == format!(
                "No retries permitted until {} (durationBeforeRetry 500ms). Error: {}",
                failures[0] + ms(500),
                ev.message
            )));
        assert!(w.events_with("web-0", "Pulling").is_empty(), "not started");
        // Repaired: the next retry (at most 2m2s later) mounts it and the pod starts.
        w.agents.set_device_broken("pv-data", false);
        w.run_for(secs(200));
        assert!(!w.events_with("web-0", "Pulling").is_empty());
    }

    #[test]
    fn timeout_error_lists_like_go() {
        let v = PodVolumes {
            unmounted: vec!["a".into(), "www".into()],
            unattached: vec!["www".into()],
            ..Default::default()
        };
        assert_eq!(
            v.timeout_error(),
            "unmounted volumes=[a www], unattached volumes=[www], failed to process volumes=[]: context deadline exceeded"
        );
    }
}
