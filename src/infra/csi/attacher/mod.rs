//! The CSI external-attacher sidecar of every driver that needs attach
//! (`kubernetes-csi/external-attacher`, `csi_handler.go`): it watches VolumeAttachments
//! whose `spec.attacher` is its driver and calls the driver's ControllerPublish (attach) or
//! ControllerUnpublish (detach, once the VolumeAttachment is being deleted).
//!
//! Per driver: one work queue of VolumeAttachments (FIFO; a failed one is re-added after
//! `--retry-interval-start` 1 s doubling to `--retry-interval-max` 5 min), at most
//! `attachWorkers` (`--worker-threads`) calls in flight, and the cloud behind it
//! (`cloud_ops`: at most `cloudAttachConcurrency` operations in service). A call holds its
//! worker until the driver has seen the cloud operation finish — at the driver's next poll
//! point (`profiles::observed`) — or until the call's `--timeout` ends it with
//! `DeadlineExceeded` (the operation goes on in the cloud; the retry finds its result).
//!
//! Attach: the PersistentVolume gets the finalizer `external-attacher/<driver>` (removed
//! only when the PV is deleted and no VolumeAttachment names it), the VolumeAttachment
//! too, then the call; success sets `status.attached`, failure `status.attachError` with
//! the gRPC error text. Detach: the call, then the VolumeAttachment's finalizer goes (and
//! with it the object); failure sets `status.detachError`.
//!
//! Faults: `attachLatency` multiplies the service time of operations that start while it
//! lasts; `attachFailure` fails that share of attach operations; `stuckDetach` makes
//! detach calls hang (the attachment stays `Detaching`) until their timeout while it lasts.
//!
//! Every attachment the cloud gains or loses is logged for the data-safety checks
//! ([`Attacher::drain_changes`]).
//!
//! Files: this one (the sidecar: queue, workers, VolumeAttachment and PV writes), `calls`
//! (a call's life: cloud operation, service, answer, faults) and `cloud_ops` (the cloud's
//! FIFO of operations under its concurrency limit).

mod calls;
mod cloud_ops;

use super::CsiTimer;
use super::cloud::{Cloud, CloudError, Code, volume_handle};
use crate::api::storage::VolumeError;
use crate::api::{AnyObject, ObjectKey, PersistentVolume, Tables, Timestamp, VolumeAttachment};
use crate::apiserver::{Actor, WatchEvent};
use crate::component::Ctx;
use crate::infra::faults::ActiveFaults;
use crate::rng::{RngStreams, SimRng};
use crate::scenario::{CsiDriverProfile, Fault, Scenario};
use crate::time::{SimDuration, SimTime};
use calls::op_kind;
use cloud_ops::{CloudOps, Target};
use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// `--retry-interval-start`.
pub const RETRY_INTERVAL_START: SimDuration = SimDuration::from_secs(1);
/// `--retry-interval-max`.
pub const RETRY_INTERVAL_MAX: SimDuration = SimDuration::from_mins(5);

/// The external-attacher's `--timeout` for one CSI call: 15 s by default; the EBS driver's
/// chart runs it with 60 s (EBS CSI FAQ).
pub fn call_timeout(profile: &str) -> SimDuration {
    match profile {
        "aws-ebs" => SimDuration::from_secs(60),
        _ => SimDuration::from_secs(15),
    }
}

/// Whether the driver's cloud refuses to attach a disk that is not multi-attachable while
/// it is attached to another node (EBS "VolumeInUse", PD "already being used", Azure
/// "already attached"); a `custom` backend may not fence, and then only the checks notice.
pub fn fences_multi_attach(profile: &str) -> bool {
    matches!(profile, "aws-ebs" | "gce-pd" | "azure-disk")
}

/// `GetFinalizerName`: `external-attacher/` + the driver name with every character other
/// than letters, digits and `-` replaced by `-` (`SanitizeDriverName`, which also keeps the
/// name from ending in `-`).
pub fn finalizer_name(driver: &str) -> String {
    let mut name: String = driver
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect();
    if name.ends_with('-') {
        name.push('X');
    }
    format!("external-attacher/{name}")
}

/// An attacher timer.
#[derive(Clone, Debug, PartialEq)]
pub enum AttacherTimer {
    /// A cloud operation's service time is over.
    CloudOpDone { driver: usize, op: u64 },
    /// A call's answer reaches the sidecar.
    CallDone {
        driver: usize,
        va: String,
        call: u64,
    },
    /// A call's `--timeout` ends it.
    CallTimeout {
        driver: usize,
        va: String,
        call: u64,
    },
    /// A failed VolumeAttachment's rate-limited re-add.
    Retry {
        driver: usize,
        va: String,
        token: u64,
    },
}

/// An attachment the cloud gained or lost, for the data-safety checks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttachmentChange {
    pub driver: String,
    pub handle: String,
    pub pv: String,
    pub node: String,
    /// Gained (attach completed) or lost (detach completed).
    pub attached: bool,
    /// The PV allows attachment to several nodes (ReadWriteMany or ReadOnlyMany).
    pub multi_attach_allowed: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum CallKind {
    Publish,
    Unpublish,
}

/// A ControllerPublish or ControllerUnpublish in flight (it holds a worker).
#[derive(Clone, Debug)]
struct Call {
    id: u64,
    kind: CallKind,
    started: SimTime,
    target: Target,
    /// Its answer, once the driver has seen the cloud operation end.
    result: Option<Result<(), CloudError>>,
}

struct Driver {
    profile: CsiDriverProfile,
    actor: Actor,
    finalizer: String,
    timeout: SimDuration,
    /// VolumeAttachments waiting for a worker, FIFO, each once.
    queue: VecDeque<String>,
    queued: BTreeSet<String>,
    /// Calls in flight by VolumeAttachment (one worker each).
    calls: BTreeMap<String, Call>,
    /// VolumeAttachments that changed while their call was in flight.
    dirty: BTreeSet<String>,
    /// Failures per VolumeAttachment since its last success (the rate limiter).
    failures: BTreeMap<String, u32>,
    /// The armed re-add of each VolumeAttachment (its generation).
    retry: BTreeMap<String, u64>,
    cloud: CloudOps,
}

pub struct Attacher {
    drivers: Vec<Driver>,
    /// Its own stream: latencies and failure draws.
    rng: SimRng,
    next_call: u64,
    next_gen: u64,
    changes: Vec<AttachmentChange>,
}

impl Attacher {
    pub fn new(scenario: &Scenario, rngs: &RngStreams) -> Self {
        let drivers = scenario
            .storage
            .drivers
            .iter()
            .filter(|p| p.attach_required)
            .map(|p| Driver {
                profile: p.clone(),
                actor: Actor::on_host("external-attacher", &p.name),
                finalizer: finalizer_name(&p.name),
                timeout: call_timeout(&p.profile),
                queue: VecDeque::new(),
                queued: BTreeSet::new(),
                calls: BTreeMap::new(),
                dirty: BTreeSet::new(),
                failures: BTreeMap::new(),
                retry: BTreeMap::new(),
                cloud: CloudOps::default(),
            })
            .collect();
        Attacher {
            drivers,
            rng: rngs.stream("external-attacher"),
            next_call: 0,
            next_gen: 0,
            changes: Vec::new(),
        }
    }

    /// Whether an attachment changed since the last [`Attacher::drain_changes`] (asked
    /// after every event).
    pub fn has_changes(&self) -> bool {
        !self.changes.is_empty()
    }

    /// Attachments gained or lost since the last call, in the order they happened.
    pub fn drain_changes(&mut self) -> Vec<AttachmentChange> {
        std::mem::take(&mut self.changes)
    }

    fn driver_index(&self, name: &str) -> Option<usize> {
        self.drivers.iter().position(|d| d.profile.name == name)
    }

    /// The `vaQueue` and `pvQueue` handlers.
    pub fn on_watch(
        &mut self,
        ev: &WatchEvent,
        cache: &Tables,
        cloud: &mut Cloud,
        faults: &ActiveFaults,
        ctx: &mut Ctx<'_, CsiTimer>,
    ) {
        match &ev.obj {
            AnyObject::VolumeAttachment(va) => {
                let Some(d) = self.driver_index(&va.spec.attacher) else {
                    return;
                };
                if ev.removed {
                    if let Some(pv) = &va.spec.source.persistent_volume_name {
                        self.sync_pv(d, pv, cache, ctx);
                    }
                    return;
                }
                // `shouldEnqueueVAChange` ignores the sidecar's own error writes (they
                // would defeat the backoff); its other writes would only bring a no-op
                // sync, so none of its own writes is worth one.
                if ev.actor == self.drivers[d].actor.name {
                    return;
                }
                self.enqueue(d, va.metadata.name.clone());
                self.process(d, cache, cloud, faults, ctx);
            }
            AnyObject::PersistentVolume(pv) if !ev.removed => {
                for d in 0..self.drivers.len() {
                    self.sync_pv(d, &pv.metadata.name, cache, ctx);
                }
            }
            _ => {}
        }
    }

    pub fn on_timer(
        &mut self,
        t: AttacherTimer,
        cache: &Tables,
        cloud: &mut Cloud,
        faults: &ActiveFaults,
        ctx: &mut Ctx<'_, CsiTimer>,
    ) {
        match t {
            AttacherTimer::CloudOpDone { driver, op } => {
                self.cloud_op_done(driver, op, cache, cloud, ctx);
                self.admit(driver, cache, cloud, faults, ctx);
            }
            AttacherTimer::CallDone { driver, va, call } => {
                let Some(c) = self.drivers[driver].calls.get(&va).filter(|c| c.id == call) else {
                    return;
                };
                let result = c.result.clone().unwrap_or(Ok(()));
                self.end_call(driver, &va, result, ctx);
                self.process(driver, cache, cloud, faults, ctx);
            }
            AttacherTimer::CallTimeout { driver, va, call } => {
                let d = &mut self.drivers[driver];
                let Some(c) = d.calls.get(&va).filter(|c| c.id == call) else {
                    return;
                };
                if c.result.is_some() {
                    // Answered in time; its CallDone comes at this very instant.
                    return;
                }
                // The operation goes on in the cloud without anyone waiting for it.
                let kind = op_kind(c.kind);
                if let Some(op) = d.cloud.current(&c.target, kind)
                    && let Some(o) = d.cloud.get_mut(op)
                    && o.waiter.as_ref().is_some_and(|(_, id)| *id == call)
                {
                    o.waiter = None;
                }
                let err = CloudError::new(Code::DeadlineExceeded, "context deadline exceeded");
                self.end_call(driver, &va, Err(err), ctx);
                self.process(driver, cache, cloud, faults, ctx);
            }
            AttacherTimer::Retry { driver, va, token } => {
                if self.drivers[driver].retry.get(&va) != Some(&token) {
                    return;
                }
                self.drivers[driver].retry.remove(&va);
                self.enqueue(driver, va);
                self.process(driver, cache, cloud, faults, ctx);
            }
        }
    }

    /// A fault starts or ends. Nothing to do at once: `attachLatency` and `attachFailure`
    /// apply to operations that start while they last, and a detach stuck on `stuckDetach`
    /// goes again at its next retry.
    pub fn on_fault(
        &mut self,
        _fault: &Fault,
        _start: bool,
        _cache: &Tables,
        _cloud: &mut Cloud,
        _faults: &ActiveFaults,
        _ctx: &mut Ctx<'_, CsiTimer>,
    ) {
    }

    fn enqueue(&mut self, d: usize, va: String) {
        let drv = &mut self.drivers[d];
        if drv.calls.contains_key(&va) {
            // Being processed: synced again when the call is done.
            drv.dirty.insert(va);
            return;
        }
        if drv.queued.insert(va.clone()) {
            drv.queue.push_back(va);
        }
    }

    /// Workers take VolumeAttachments off the queue while one is free.
    fn process(
        &mut self,
        d: usize,
        cache: &Tables,
        cloud: &mut Cloud,
        faults: &ActiveFaults,
        ctx: &mut Ctx<'_, CsiTimer>,
    ) {
        loop {
            let drv = &mut self.drivers[d];
            if drv.calls.len() as u32 >= drv.profile.attach_workers.max(1) {
                return;
            }
            let Some(va) = drv.queue.pop_front() else {
                return;
            };
            drv.queued.remove(&va);
            self.sync_va(d, &va, cache, cloud, faults, ctx);
        }
    }

    // Port of `csiHandler.SyncNewOrUpdatedVolumeAttachment` (`syncAttach`, `syncDetach`).
    fn sync_va(
        &mut self,
        d: usize,
        name: &str,
        cache: &Tables,
        cloud: &mut Cloud,
        faults: &ActiveFaults,
        ctx: &mut Ctx<'_, CsiTimer>,
    ) {
        let Some(va) = cache
            .volume_attachments
            .get(&ObjectKey::cluster(name))
            .cloned()
        else {
            return;
        };
        let has_finalizer = va.metadata.finalizers.contains(&self.drivers[d].finalizer);
        let pv_name = va
            .spec
            .source
            .persistent_volume_name
            .clone()
            .unwrap_or_default();
        let pv = cache.pvs.get(&ObjectKey::cluster(&pv_name)).cloned();
        let handle = pv
            .as_deref()
            .and_then(volume_handle)
            .or_else(|| cloud.disk_by_name(&pv_name).map(|x| x.handle.clone()));
        let node = va.spec.node_name.clone();
        if va.metadata.deletion_timestamp.is_some() {
            if !has_finalizer {
                return;
            }
            let Some(handle) = handle else {
                // No disk to detach: nothing is attached.
                self.mark_detached(d, &va, ctx);
                return;
            };
            let target = (handle, node);
            self.start_call(
                d,
                name,
                CallKind::Unpublish,
                target,
                &pv_name,
                cache,
                cloud,
                faults,
                ctx,
            );
            return;
        }
        if va.status.attached {
            return;
        }
        let (Some(pv), Some(handle)) = (pv, handle) else {
            let err = CloudError::new(
                Code::NotFound,
                format!("PersistentVolume {pv_name:?} not found"),
            );
            self.save_error(d, &va.metadata.name, CallKind::Publish, &err, ctx);
            return;
        };
        // `csiAttach`: the finalizers first, so nothing goes while it may be attached.
        self.add_pv_finalizer(d, &pv, ctx);
        if !has_finalizer && !self.add_va_finalizer(d, name, ctx) {
            return;
        }
        let target = (handle, node);
        self.start_call(
            d,
            name,
            CallKind::Publish,
            target,
            &pv_name,
            cache,
            cloud,
            faults,
            ctx,
        );
    }

    /// The call is over: the VolumeAttachment says so, and the worker is free.
    fn end_call(
        &mut self,
        d: usize,
        va: &str,
        result: Result<(), CloudError>,
        ctx: &mut Ctx<'_, CsiTimer>,
    ) {
        let Some(call) = self.drivers[d].calls.remove(va) else {
            return;
        };
        match (call.kind, result) {
            (CallKind::Publish, Ok(())) => {
                self.drivers[d].failures.remove(va);
                self.mark_attached(d, va, ctx);
            }
            (CallKind::Unpublish, Ok(())) => {
                self.drivers[d].failures.remove(va);
                if let Some(obj) = ctx
                    .client(&self.drivers[d].actor)
                    .get::<VolumeAttachment>(&ObjectKey::cluster(va))
                {
                    self.mark_detached(d, &obj, ctx);
                }
            }
            (kind, Err(err)) => self.save_error(d, va, kind, &err, ctx),
        }
        if self.drivers[d].dirty.remove(va) {
            self.enqueue(d, va.to_string());
        }
    }

    /// `markAsAttached`: `status.attached`, no error.
    fn mark_attached(&mut self, d: usize, va: &str, ctx: &mut Ctx<'_, CsiTimer>) {
        let actor = &self.drivers[d].actor;
        let mut client = ctx.client(actor);
        let Some(live) = client.get::<VolumeAttachment>(&ObjectKey::cluster(va)) else {
            return;
        };
        let mut next = (*live).clone();
        next.status.attached = true;
        next.status.attach_error = None;
        next.metadata.resource_version.clear();
        let _ = client.update_status(&next);
    }

    /// `markAsDetached`: the finalizer goes (and the object with it, being deleted).
    fn mark_detached(&mut self, d: usize, va: &VolumeAttachment, ctx: &mut Ctx<'_, CsiTimer>) {
        let drv = &self.drivers[d];
        let mut client = ctx.client(&drv.actor);
        let Some(live) = client.get::<VolumeAttachment>(&ObjectKey::of(&va.metadata)) else {
            return;
        };
        let mut next = (*live).clone();
        next.metadata.finalizers.retain(|f| *f != drv.finalizer);
        next.metadata.resource_version.clear();
        let _ = client.update(next);
    }

    /// `saveAttachError` / `saveDetachError`, then the rate-limited re-add (1 s doubling
    /// to 5 min).
    fn save_error(
        &mut self,
        d: usize,
        va: &str,
        kind: CallKind,
        err: &CloudError,
        ctx: &mut Ctx<'_, CsiTimer>,
    ) {
        let now = ctx.now;
        {
            let mut client = ctx.client(&self.drivers[d].actor);
            if let Some(live) = client.get::<VolumeAttachment>(&ObjectKey::cluster(va)) {
                let mut next = (*live).clone();
                let e = Some(VolumeError {
                    time: Some(Timestamp::at(now)),
                    message: err.to_string(),
                });
                match kind {
                    CallKind::Publish => next.status.attach_error = e,
                    CallKind::Unpublish => next.status.detach_error = e,
                }
                next.metadata.resource_version.clear();
                let _ = client.update_status(&next);
            }
        }
        let drv = &mut self.drivers[d];
        let n = drv.failures.entry(va.to_string()).or_insert(0);
        let delay = retry_delay(*n);
        *n += 1;
        self.next_gen += 1;
        drv.retry.insert(va.to_string(), self.next_gen);
        ctx.after(
            delay,
            CsiTimer::Attacher(AttacherTimer::Retry {
                driver: d,
                va: va.to_string(),
                token: self.next_gen,
            }),
        );
    }

    /// `addPVFinalizer`.
    fn add_pv_finalizer(&mut self, d: usize, pv: &PersistentVolume, ctx: &mut Ctx<'_, CsiTimer>) {
        let drv = &self.drivers[d];
        if pv.metadata.finalizers.contains(&drv.finalizer) {
            return;
        }
        let mut client = ctx.client(&drv.actor);
        let Some(live) = client.get::<PersistentVolume>(&ObjectKey::of(&pv.metadata)) else {
            return;
        };
        if live.metadata.finalizers.contains(&drv.finalizer) {
            return;
        }
        let mut next = (*live).clone();
        next.metadata.finalizers.push(drv.finalizer.clone());
        next.metadata.resource_version.clear();
        let _ = client.update(next);
    }

    /// `addVAFinalizer`. Returns whether the VolumeAttachment has it now.
    fn add_va_finalizer(&mut self, d: usize, va: &str, ctx: &mut Ctx<'_, CsiTimer>) -> bool {
        let drv = &self.drivers[d];
        let mut client = ctx.client(&drv.actor);
        let Some(live) = client.get::<VolumeAttachment>(&ObjectKey::cluster(va)) else {
            return false;
        };
        if live.metadata.finalizers.contains(&drv.finalizer) {
            return true;
        }
        let mut next = (*live).clone();
        next.metadata.finalizers.push(drv.finalizer.clone());
        next.metadata.resource_version.clear();
        client.update(next).is_ok()
    }

    /// `SyncNewOrUpdatedPersistentVolume`: a PV being deleted loses this driver's
    /// finalizer once no VolumeAttachment names it.
    fn sync_pv(&mut self, d: usize, pv: &str, cache: &Tables, ctx: &mut Ctx<'_, CsiTimer>) {
        let drv = &self.drivers[d];
        let Some(obj) = cache.pvs.get(&ObjectKey::cluster(pv)) else {
            return;
        };
        if obj.metadata.deletion_timestamp.is_none()
            || !obj.metadata.finalizers.contains(&drv.finalizer)
        {
            return;
        }
        let needed = cache
            .volume_attachments
            .values()
            .any(|va| va.spec.source.persistent_volume_name.as_deref() == Some(pv));
        if needed {
            return;
        }
        let mut client = ctx.client(&drv.actor);
        let Some(live) = client.get::<PersistentVolume>(&ObjectKey::cluster(pv)) else {
            return;
        };
        let mut next = (*live).clone();
        next.metadata.finalizers.retain(|f| *f != drv.finalizer);
        next.metadata.resource_version.clear();
        let _ = client.update(next);
    }
}

/// `ItemExponentialFailureRateLimiter(1s, 5min)`: the delay after the `n`-th failure
/// (`n` failures before it).
pub fn retry_delay(n: u32) -> SimDuration {
    RETRY_INTERVAL_START
        .saturating_mul(1u64 << n.min(20))
        .min(RETRY_INTERVAL_MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finalizer_names_are_sanitized_like_upstream() {
        assert_eq!(
            finalizer_name("ebs.csi.aws.com"),
            "external-attacher/ebs-csi-aws-com"
        );
        assert_eq!(
            finalizer_name("pd.csi.storage.gke.io"),
            "external-attacher/pd-csi-storage-gke-io"
        );
        assert_eq!(finalizer_name("weird/"), "external-attacher/weird-X");
    }

    #[test]
    fn retries_back_off_from_1s_to_5min() {
        let d: Vec<u64> = (0..11).map(|n| retry_delay(n).as_secs()).collect();
        assert_eq!(d, [1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300]);
    }
}
