//! The attach/detach controller (`pkg/controller/volume/attachdetach`): attaches the
//! volumes of pods scheduled to a node before the kubelet mounts them, and detaches them
//! once no scheduled pod on that node needs them and the kubelet has unmounted them.
//!
//! Files, one concept each, named after upstream's: `desired_state` (the desired state of
//! the world, filled from pods by the informer handlers — `util.ProcessPodVolumes`),
//! `actual_state` (what is attached, with the node status updater), `operations`
//! (`nestedpendingoperations` with its exponential backoff, and the CSI attacher plugin's
//! attach and detach: create or delete the VolumeAttachment, then poll the lister for the
//! external-attacher's answer), `reconciler` (the 100 ms loop: detaches first, then
//! attaches, then node statuses), `sha256` (for VolumeAttachment names).
//!
//! Time: the reconciler loop runs on a fixed 100 ms grid (`ReconcilerLoopPeriod`) but only
//! while it has something to do — after a relevant change, or when a timer it depends on
//! comes due (a backoff, the six-minute unmount wait). A quiet cluster costs nothing, and
//! every decision is taken at the same grid instant a free-running loop would take it.
//! Everything runs as syncs of one work-queue key, requeued for the next instant due.

mod actual_state;
mod desired_state;
mod operations;
mod pod_claims;
mod reconciler;
mod sha256;

#[cfg(test)]
mod tests;

use super::{ControlTimer, Controller, Enqueue, Kinds};
use crate::api::{AnyObject, Kind, ObjectKey, Tables};
use crate::apiserver::{Actor, WatchEvent};
use crate::component::Ctx;
use crate::rng::SimRng;
use crate::time::{SimDuration, SimTime};
use actual_state::ActualState;
use desired_state::DesiredState;
use operations::Operations;
use pod_claims::PodClaimIndex;
use std::collections::BTreeMap;

/// The name it records Events and writes under.
pub const COMPONENT: &str = "attachdetach-controller";

/// `DefaultTimerConfig.ReconcilerLoopPeriod`.
pub const RECONCILER_LOOP_PERIOD: SimDuration = SimDuration::from_millis(100);
/// `maxWaitForUnmountDuration`: after this long undesired, a volume is force-detached from
/// a node that is not Ready (hard-coded upstream).
pub const MAX_WAIT_FOR_UNMOUNT: SimDuration = SimDuration::from_mins(6);
/// `csiTimeout`: how long the CSI plugin waits for the external-attacher's answer.
pub const CSI_TIMEOUT: SimDuration = SimDuration::from_mins(2);

/// The single work-queue key everything runs under.
fn key() -> ObjectKey {
    ObjectKey::cluster("attachdetach-reconciler")
}

/// What the controller needs to know of the cluster's configuration.
#[derive(Clone, Debug, Default)]
pub struct AttachDetachConfig {
    /// kube-controller-manager `--disable-force-detach-on-timeout` (1.30+; default false).
    pub disable_force_detach_on_timeout: bool,
    /// `CSIDriver.spec.attachRequired` per CSI driver name. A driver not listed has no
    /// CSIDriver object, and then attach is required (upstream's default).
    pub attach_required: BTreeMap<String, bool>,
}

impl AttachDetachConfig {
    /// `csiPlugin.skipAttach`, inverted.
    pub fn attach_required(&self, driver: &str) -> bool {
        self.attach_required.get(driver).copied().unwrap_or(true)
    }
}

/// `getAttachmentName`: `csi-` + hex SHA-256 of volume handle, driver name and node name.
pub fn attachment_name(volume_handle: &str, driver: &str, node: &str) -> String {
    let data = [volume_handle, driver, node].concat();
    ["csi-", &sha256::hex_digest(data.as_bytes())].concat()
}

/// The volume a desired or actual entry is about: what the attacher plugin needs of the
/// PersistentVolume spec.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VolumeSpec {
    /// The PersistentVolume's name (`spec.Name()`, used in Event messages).
    pub pv_name: String,
    pub driver: String,
    pub handle: String,
    /// `util.IsMultiAttachAllowed`.
    pub multi_attach_allowed: bool,
}

pub struct AttachDetachController {
    actor: Actor,
    config: AttachDetachConfig,
    /// Jitter of the lister poll backoff (its own stream: no other controller's draws move).
    rng: SimRng,
    dsw: DesiredState,
    /// The pods of each claim (`podPVCIndexFunc`), for `syncPVCByKey`.
    pod_claims: PodClaimIndex,
    asw: ActualState,
    ops: Operations,
    /// A change since the last reconcile pass: run one at the next grid tick.
    dirty: bool,
    /// The earliest grid tick a time-based condition of the last pass needs.
    timed_wake: Option<SimTime>,
    /// Desired (node, volume) entries the attach loop must look at (the rest are attached).
    attention: std::collections::BTreeSet<(String, String)>,
    /// Actual (volume, node) entries the detach loop must look at (the rest are desired).
    detach_attention: std::collections::BTreeSet<(String, String)>,
}

impl AttachDetachController {
    pub fn new(config: AttachDetachConfig, rng: SimRng) -> Self {
        AttachDetachController {
            actor: Actor::new(COMPONENT),
            config,
            rng,
            dsw: DesiredState::default(),
            pod_claims: PodClaimIndex::default(),
            asw: ActualState::default(),
            ops: Operations::default(),
            dirty: false,
            timed_wake: None,
            attention: Default::default(),
            detach_attention: Default::default(),
        }
    }
}

/// The first grid tick at or after `t`.
fn tick_at_or_after(t: SimTime) -> SimTime {
    let p = RECONCILER_LOOP_PERIOD.as_nanos();
    SimTime(t.as_nanos().div_ceil(p) * p)
}

/// The first grid tick strictly after `t`.
fn tick_after(t: SimTime) -> SimTime {
    tick_at_or_after(SimTime(t.as_nanos() + 1))
}

impl Controller for AttachDetachController {
    fn name(&self) -> &'static str {
        COMPONENT
    }

    // The kinds `on_watch` acts on (any other kind is not `relevant`).
    fn watches(&self) -> Kinds {
        Kinds::of(&[
            Kind::Pod,
            Kind::PersistentVolumeClaim,
            Kind::PersistentVolume,
            Kind::Node,
            Kind::VolumeAttachment,
        ])
    }

    // The informer handlers: `podAdd`/`podUpdate`/`podDelete`, `nodeAdd`/`nodeUpdate`/
    // `nodeDelete`, `pvcUpdate` (via the PVC queue), and the VolumeAttachment lister that
    // in-flight operations poll.
    fn on_watch(
        &mut self,
        old: Option<&AnyObject>,
        ev: &WatchEvent,
        cache: &Tables,
        q: &mut Enqueue,
    ) {
        let relevant = match &ev.obj {
            AnyObject::Pod(pod) => {
                // An update of the same pod (its volumes are immutable) leaves the index
                // as its earlier event left it.
                let same_pod =
                    matches!(old, Some(AnyObject::Pod(o)) if o.metadata.uid == pod.metadata.uid);
                if ev.removed || !same_pod {
                    self.pod_claims.observe(pod, ev.removed);
                }
                self.dsw.on_pod(pod, ev.removed, cache, &self.config)
            }
            AnyObject::PersistentVolumeClaim(pvc) if !ev.removed && pvc.is_bound() => {
                // `pvcUpdate` queues the claim when it changes; only binding can add
                // volumes (a claim's volume never changes once bound).
                let was_bound = matches!(old, Some(AnyObject::PersistentVolumeClaim(o))
                    if o.is_bound() && o.spec.volume_name == pvc.spec.volume_name);
                !was_bound
                    && self
                        .dsw
                        .on_claim_bound(pvc, &self.pod_claims, cache, &self.config)
            }
            // A volume that appears after its claim was bound (the populator's periodic
            // pass, `findAndAddActivePods`, would find the pods later).
            AnyObject::PersistentVolume(pv) if !ev.removed && old.is_none() => {
                match pv
                    .spec
                    .claim_ref
                    .as_ref()
                    .and_then(|r| cache.pvcs.get(&ObjectKey::new(&r.namespace, &r.name)))
                {
                    Some(pvc) if pvc.is_bound() => {
                        let pvc = std::rc::Rc::clone(pvc);
                        self.dsw
                            .on_claim_bound(&pvc, &self.pod_claims, cache, &self.config)
                    }
                    _ => false,
                }
            }
            AnyObject::Node(node) => {
                let name = &node.metadata.name;
                let managed = node.metadata.annotations.contains_key(
                    crate::api::node::well_known::ANNOTATION_CONTROLLER_MANAGED_ATTACH,
                );
                if ev.removed {
                    self.dsw.delete_node(name);
                } else if managed {
                    self.dsw.add_node(name);
                }
                // `processVolumesInUse`; readiness and taints matter to detach decisions.
                self.asw
                    .set_volumes_mounted_by_node(name, &node.status.volumes_in_use);
                self.asw.has_node(name)
            }
            AnyObject::VolumeAttachment(va) => self.ops.on_attachment_changed(&va.metadata.name),
            _ => false,
        };
        if relevant {
            if !matches!(ev.obj, AnyObject::VolumeAttachment(_)) {
                self.dirty = true;
            }
            q.add(key());
        }
    }

    fn sync(
        &mut self,
        _key: &ObjectKey,
        cache: &Tables,
        ctx: &mut Ctx<'_, ControlTimer>,
        q: &mut Enqueue,
    ) -> Result<(), String> {
        let now = ctx.now;
        // In-flight operations whose poll or deadline is due (each may change the actual
        // state and so dirty the reconciler).
        let finished = self
            .ops
            .run_due(now, cache, &mut self.asw, &mut self.rng, ctx, &self.actor);
        self.dirty |= finished;
        let on_grid = now
            .as_nanos()
            .is_multiple_of(RECONCILER_LOOP_PERIOD.as_nanos());
        let timed_due = self.timed_wake.is_some_and(|w| w <= now);
        if on_grid && (self.dirty || timed_due) {
            self.dirty = false;
            self.timed_wake = self.reconcile(cache, ctx);
        }
        // Ask to run again at the earliest instant something is due: an operation's poll
        // or deadline, a pass still owed (at the next grid tick), a timed condition.
        let mut next = self.ops.next_due();
        let owed = self.dirty || self.timed_wake.is_some_and(|w| w <= now);
        if owed {
            next = min_time(next, Some(tick_after_if(now, on_grid)));
        } else {
            next = min_time(next, self.timed_wake);
        }
        if let Some(at) = next {
            debug_assert!(at > now, "everything due at {now} was handled");
            q.add_after(
                key(),
                at.saturating_since(now).max(SimDuration::from_nanos(1)),
            );
        }
        Ok(())
    }
}

/// The next tick for a pass still owed: the next grid instant, or the one after `now` if
/// `now` itself is a tick whose pass has been run.
fn tick_after_if(now: SimTime, on_grid: bool) -> SimTime {
    if on_grid {
        tick_after(now)
    } else {
        tick_at_or_after(now)
    }
}

fn min_time(a: Option<SimTime>, b: Option<SimTime>) -> Option<SimTime> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, None) => x,
        (None, y) => y,
    }
}
