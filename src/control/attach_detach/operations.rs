//! Attach and detach operations: `nestedpendingoperations` (at most one operation per
//! volume — per volume and node for multi-attachable volumes — with an exponential backoff
//! after a failure, `exponentialbackoff`: 500 ms doubling to 2m2s) and the CSI attacher
//! plugin's operations themselves (`pkg/volume/csi/csi_attacher.go`):
//!
//! - attach: create the VolumeAttachment unless the lister has it, then poll the lister
//!   (`waitForVolumeAttachDetachStatusWithLister`: backoff 500 ms × 1.05ⁿ with 10 %
//!   jitter, capped at 7 s) until the external-attacher marks it attached, reports an
//!   attach error, or the VolumeAttachment is being deleted — or `csiTimeout` (2 min)
//!   passes;
//! - detach: (unless forced) check the node no longer lists the volume in use, delete the
//!   VolumeAttachment, then poll until it is gone or carries a detach error.
//!
//! Polls are evaluated only when their outcome can differ: the schedule is kept, but a
//! poll after one that saw "not yet" is only armed once the VolumeAttachment changes in
//! the lister (the first scheduled instant at or after the change) — the same instants a
//! busy poll loop would succeed or fail at, without an event per poll.

use super::actual_state::ActualState;
use super::{COMPONENT, CSI_TIMEOUT, VolumeSpec, attachment_name};
use crate::api::storage::{VolumeAttachmentSource, VolumeAttachmentSpec};
use crate::api::{Node, ObjectKey, ObjectMeta, Pod, Tables, VolumeAttachment};
use crate::apiserver::{Actor, DeleteOptions, EventType};
use crate::component::Ctx;
use crate::control::ControlTimer;
use crate::rng::SimRng;
use crate::time::{SimDuration, SimTime};
use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;

/// `initialDurationBeforeRetry`.
pub const INITIAL_DURATION_BEFORE_RETRY: SimDuration = SimDuration::from_millis(500);
/// `maxDurationBeforeRetry`: 2 min 2 s.
pub const MAX_DURATION_BEFORE_RETRY: SimDuration = SimDuration::from_secs(122);

/// `exponentialbackoff.ExponentialBackoff`: after each failure the next try waits twice as
/// long as the last, from 500 ms up to 2m2s; a success forgets it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ExponentialBackoff {
    last_error: Option<SimTime>,
    duration: SimDuration,
}

impl ExponentialBackoff {
    /// `Update`: a failure at `now`.
    pub fn update(&mut self, now: SimTime) {
        self.duration = if self.duration == SimDuration::ZERO {
            INITIAL_DURATION_BEFORE_RETRY
        } else {
            self.duration
                .saturating_mul(2)
                .min(MAX_DURATION_BEFORE_RETRY)
        };
        self.last_error = Some(now);
    }

    /// `SafeToRetry`: strictly more than `durationBeforeRetry` since the last error.
    pub fn safe_to_retry(&self, now: SimTime) -> bool {
        self.last_error
            .is_none_or(|t| now.saturating_since(t) > self.duration)
    }

    /// The instant after which a retry is allowed.
    pub fn retry_after(&self) -> Option<SimTime> {
        self.last_error.map(|t| t + self.duration)
    }

    #[cfg(test)]
    pub fn duration(&self) -> SimDuration {
        self.duration
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OpName {
    Attach,
    Detach,
}

/// `operationKey` without the pod: a node-less key covers the volume on every node.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct OpKey {
    pub volume: String,
    pub node: String,
}

impl OpKey {
    /// The key `AttachVolume`/`DetachVolume` run under: per volume and node if the volume
    /// may be attached to several nodes, else per volume.
    pub fn new(volume: &str, node: &str, multi_attach_allowed: bool) -> Self {
        OpKey {
            volume: volume.to_string(),
            node: if multi_attach_allowed {
                node.to_string()
            } else {
                String::new()
            },
        }
    }
}

#[derive(Clone, Debug)]
struct OpEntry {
    name: OpName,
    pending: bool,
    backoff: ExponentialBackoff,
}

/// Why an operation did not start (`AlreadyExists`, `ExponentialBackoff` errors).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NotStarted {
    AlreadyExists,
    Backoff,
}

/// The lister poll schedule of one wait.
#[derive(Clone, Copy, Debug)]
struct Poll {
    next: SimTime,
    /// The next step before jitter, in nanoseconds.
    step: f64,
}

const POLL_INITIAL: f64 = 500e6;
const POLL_FACTOR: f64 = 1.05;
const POLL_CAP: f64 = 7e9;
const POLL_JITTER: f64 = 0.1;

impl Poll {
    fn start(now: SimTime, rng: &mut SimRng) -> Self {
        let mut p = Poll {
            next: now,
            step: POLL_INITIAL,
        };
        p.advance(rng);
        p
    }
    /// `Backoff.Step` with jitter: the next poll instant.
    fn advance(&mut self, rng: &mut SimRng) {
        let d = self.step * (1.0 + POLL_JITTER * rng.unit_f64());
        self.next = self.next + SimDuration::from_nanos(d as u64);
        self.step = (self.step * POLL_FACTOR).min(POLL_CAP);
    }
}

/// One attach or detach waiting for the external-attacher.
#[derive(Clone, Debug)]
struct InFlight {
    key: OpKey,
    kind: OpName,
    volume: String,
    node: String,
    spec: VolumeSpec,
    /// Pods to tell about the outcome (`ScheduledPods` when the attach started).
    pods: Vec<Rc<Pod>>,
    deadline: SimTime,
    poll: Poll,
    /// The armed poll, if any (none while waiting for the VolumeAttachment to change).
    armed: Option<SimTime>,
}

#[derive(Default)]
pub struct Operations {
    /// Operations (running or backing off) by volume, then node ("" = every node).
    entries: BTreeMap<String, BTreeMap<String, OpEntry>>,
    /// In-flight operations by VolumeAttachment name.
    in_flight: BTreeMap<String, InFlight>,
    /// Armed polls and deadlines, by instant (the same instant may hold several).
    due: BTreeSet<(SimTime, String)>,
    /// VolumeAttachments that changed since the last pass.
    changed: BTreeSet<String>,
}

/// An operation to start.
pub struct OpRequest<'a> {
    pub key: OpKey,
    pub volume: &'a str,
    pub node: &'a str,
    pub spec: &'a VolumeSpec,
}

impl Operations {
    /// `isOperationExists`: the node key of the entry a new operation on (`volume`,
    /// `node`) would collide with — a pending one first, else the exact key, else any
    /// match ("" matches every node).
    fn find(&self, volume: &str, node: &str) -> Option<&str> {
        let mut found: Option<&str> = None;
        for (k, e) in self.entries.get(volume)? {
            let node_match = k.is_empty() || node.is_empty() || k == node;
            if !node_match {
                continue;
            }
            if e.pending {
                return Some(k);
            }
            if found.is_none() || k == node {
                found = Some(k);
            }
        }
        found
    }

    fn entry(&self, key: &OpKey) -> Option<&OpEntry> {
        let k = self.find(&key.volume, &key.node)?;
        self.entries.get(&key.volume)?.get(k)
    }

    /// `IsOperationPending`.
    pub fn is_operation_pending(&self, key: &OpKey) -> bool {
        self.entry(key).is_some_and(|e| e.pending)
    }

    /// `IsOperationSafeToRetry`.
    pub fn is_safe_to_retry(&self, key: &OpKey, name: OpName, now: SimTime) -> bool {
        let Some(e) = self.entry(key) else {
            return true;
        };
        if e.pending {
            return false;
        }
        e.backoff.safe_to_retry(now) || e.name != name
    }

    /// When a retry on `key` will be allowed, if it is in backoff.
    pub fn retry_after(&self, key: &OpKey) -> Option<SimTime> {
        let e = self.entry(key)?;
        (!e.pending).then(|| e.backoff.retry_after()).flatten()
    }

    /// The backoff in force for `key` (for tests).
    #[cfg(test)]
    pub fn backoff(&self, key: &OpKey) -> Option<ExponentialBackoff> {
        self.entry(key).map(|e| e.backoff)
    }

    /// `nestedPendingOperations.Run`'s bookkeeping: marks the operation pending, or says
    /// why it cannot start. A different operation than the one that failed resets the
    /// backoff.
    fn run(&mut self, key: &OpKey, name: OpName, now: SimTime) -> Result<(), NotStarted> {
        if let Some(k) = self.find(&key.volume, &key.node).map(str::to_string) {
            let vol = self.entries.get_mut(&key.volume).expect("found above");
            let e = vol.get(&k).expect("found above");
            if e.pending {
                return Err(NotStarted::AlreadyExists);
            }
            let mut e = vol.remove(&k).expect("found above");
            if !e.backoff.safe_to_retry(now) {
                if e.name == name {
                    vol.insert(k, e);
                    return Err(NotStarted::Backoff);
                }
                e.backoff = ExponentialBackoff::default();
            }
            e.name = name;
            e.pending = true;
            vol.insert(key.node.clone(), e);
            return Ok(());
        }
        self.entries.entry(key.volume.clone()).or_default().insert(
            key.node.clone(),
            OpEntry {
                name,
                pending: true,
                backoff: ExponentialBackoff::default(),
            },
        );
        Ok(())
    }

    /// The operation on `key` finished: a success forgets the key, a failure starts or
    /// doubles its backoff.
    fn complete(&mut self, key: &OpKey, ok: bool, now: SimTime) {
        let Some(vol) = self.entries.get_mut(&key.volume) else {
            return;
        };
        if ok {
            vol.remove(&key.node);
            if vol.is_empty() {
                self.entries.remove(&key.volume);
            }
        } else if let Some(e) = vol.get_mut(&key.node) {
            e.pending = false;
            e.backoff.update(now);
        }
    }

    /// Records an in-flight operation and its due instants.
    fn insert_flight(&mut self, va: String, f: InFlight) {
        if let Some(p) = f.armed {
            self.due.insert((p, va.clone()));
        }
        self.due.insert((f.deadline, va.clone()));
        self.in_flight.insert(va, f);
    }

    fn remove_flight(&mut self, va: &str) -> Option<InFlight> {
        let f = self.in_flight.remove(va)?;
        if let Some(p) = f.armed {
            self.due.remove(&(p, va.to_string()));
        }
        self.due.remove(&(f.deadline, va.to_string()));
        self.changed.remove(va);
        Some(f)
    }

    /// The earliest armed poll or deadline.
    pub fn next_due(&self) -> Option<SimTime> {
        self.due.first().map(|(t, _)| *t)
    }

    /// The lister saw VolumeAttachment `name` change: an operation waiting for it polls
    /// again at its next scheduled instant. Returns whether one waits for it.
    pub fn on_attachment_changed(&mut self, name: &str) -> bool {
        if self.in_flight.contains_key(name) {
            self.changed.insert(name.to_string());
            true
        } else {
            false
        }
    }

    /// `AttachVolume`: starts the operation unless one runs or backs off on its key.
    #[allow(clippy::too_many_arguments)]
    pub fn attach(
        &mut self,
        req: OpRequest<'_>,
        pods: Vec<Rc<Pod>>,
        cache: &Tables,
        asw: &mut ActualState,
        rng: &mut SimRng,
        ctx: &mut Ctx<'_, ControlTimer>,
        actor: &Actor,
    ) -> Result<(), NotStarted> {
        let now = ctx.now;
        self.run(&req.key, OpName::Attach, now)?;
        let spec = req.spec;
        let va_name = attachment_name(&spec.handle, &spec.driver, req.node);
        let mut flight = InFlight {
            key: req.key,
            kind: OpName::Attach,
            volume: req.volume.to_string(),
            node: req.node.to_string(),
            spec: spec.clone(),
            pods,
            deadline: now + CSI_TIMEOUT,
            poll: Poll::start(now, rng),
            armed: None,
        };
        if !cache
            .volume_attachments
            .contains_key(&ObjectKey::cluster(&va_name))
        {
            let va = VolumeAttachment {
                metadata: ObjectMeta {
                    name: va_name.clone(),
                    ..Default::default()
                },
                spec: VolumeAttachmentSpec {
                    attacher: spec.driver.clone(),
                    source: VolumeAttachmentSource {
                        persistent_volume_name: Some(spec.pv_name.clone()),
                    },
                    node_name: req.node.to_string(),
                },
                ..Default::default()
            };
            match ctx.client(actor).create(va) {
                Ok(_) => {}
                Err(e) if e.is_already_exists() => {}
                Err(e) => {
                    let err = format!("attacher.Attach failed: {e}");
                    self.finish(flight, Err(err), asw, ctx, actor);
                    return Ok(());
                }
            }
        }
        flight.armed = Some(flight.poll.next);
        self.insert_flight(va_name, flight);
        Ok(())
    }

    /// `DetachVolume`: starts the operation unless one runs or backs off on its key.
    /// With `verify_safe` the node must no longer list the volume in use (a live read).
    pub fn detach(
        &mut self,
        req: OpRequest<'_>,
        verify_safe: bool,
        asw: &mut ActualState,
        rng: &mut SimRng,
        ctx: &mut Ctx<'_, ControlTimer>,
        actor: &Actor,
    ) -> Result<(), NotStarted> {
        let now = ctx.now;
        self.run(&req.key, OpName::Detach, now)?;
        let spec = req.spec;
        let va_name = attachment_name(&spec.handle, &spec.driver, req.node);
        let mut flight = InFlight {
            key: req.key,
            kind: OpName::Detach,
            volume: req.volume.to_string(),
            node: req.node.to_string(),
            spec: spec.clone(),
            pods: Vec::new(),
            deadline: now + CSI_TIMEOUT,
            poll: Poll::start(now, rng),
            armed: None,
        };
        // `verifyVolumeIsSafeToDetach`.
        if verify_safe
            && let Some(node) = ctx.client(actor).get::<Node>(&ObjectKey::cluster(req.node))
            && node.status.volumes_in_use.iter().any(|v| v == req.volume)
        {
            let err = format!(
                "DetachVolume failed for volume {:?} (spec.Name: {:?}) from node {:?} : volume is still in use by node, according to Node status",
                req.volume, spec.pv_name, req.node
            );
            self.finish(flight, Err(err), asw, ctx, actor);
            return Ok(());
        }
        let key = ObjectKey::cluster(&va_name);
        match ctx
            .client(actor)
            .delete::<VolumeAttachment>(&key, &DeleteOptions::default())
        {
            // Gone at once (no finalizer): detached.
            Ok((_, true)) => self.finish(flight, Ok(()), asw, ctx, actor),
            Ok((_, false)) => {
                flight.armed = Some(flight.poll.next);
                self.insert_flight(va_name, flight);
            }
            Err(e) if e.is_not_found() => self.finish(flight, Ok(()), asw, ctx, actor),
            Err(e) => {
                let err =
                    format!("detacher.Detach failed to delete VolumeAttachment [{va_name}]: {e}");
                self.finish(flight, Err(err), asw, ctx, actor);
            }
        }
        Ok(())
    }

    /// Runs every poll and deadline due at `now`. Returns whether an operation finished.
    pub fn run_due(
        &mut self,
        now: SimTime,
        cache: &Tables,
        asw: &mut ActualState,
        rng: &mut SimRng,
        ctx: &mut Ctx<'_, ControlTimer>,
        actor: &Actor,
    ) -> bool {
        // Arm the next poll of operations whose VolumeAttachment changed.
        for name in std::mem::take(&mut self.changed) {
            let Some(f) = self.in_flight.get_mut(&name) else {
                continue;
            };
            if f.armed.is_none() {
                while f.poll.next < now {
                    f.poll.advance(rng);
                }
                f.armed = Some(f.poll.next);
                self.due.insert((f.poll.next, name));
            }
        }
        let due: Vec<String> = self
            .due
            .range(..=(now, String::from("\u{10ffff}")))
            .map(|(_, k)| k.clone())
            .collect::<BTreeSet<String>>()
            .into_iter()
            .collect();
        let mut finished = false;
        for name in due {
            let Some(f) = self.in_flight.get_mut(&name) else {
                continue;
            };
            let poll_first = f.armed.is_some_and(|p| p <= now && p < f.deadline);
            let mut outcome = None;
            if poll_first {
                let va = cache.volume_attachments.get(&ObjectKey::cluster(&name));
                outcome = match f.kind {
                    OpName::Attach => verify_attachment_status(va.map(|v| &**v)),
                    OpName::Detach => verify_detachment_status(va.map(|v| &**v)),
                };
                if outcome.is_none() {
                    // Not yet: the next poll is armed by the next change.
                    let p = f.armed.take().expect("polled");
                    f.poll.advance(rng);
                    self.due.remove(&(p, name.clone()));
                }
            }
            if outcome.is_none() && f.deadline <= now {
                outcome = Some(Err(timeout_error(f)));
            }
            if let Some(result) = outcome {
                let f = self.remove_flight(&name).expect("present");
                self.finish(f, result, asw, ctx, actor);
                finished = true;
            }
        }
        finished
    }

    /// The operation's end: the actual state, the Events, the backoff.
    fn finish(
        &mut self,
        f: InFlight,
        result: Result<(), String>,
        asw: &mut ActualState,
        ctx: &mut Ctx<'_, ControlTimer>,
        actor: &Actor,
    ) {
        let now = ctx.now;
        let ok = result.is_ok();
        match (f.kind, result) {
            (OpName::Attach, Ok(())) => {
                // `GenerateMsg("AttachVolume.Attach succeeded", "")`: "%v for volume %q %v"
                // with an empty suffix, hence the trailing space.
                let msg = format!(
                    "AttachVolume.Attach succeeded for volume \"{}\" ",
                    f.spec.pv_name
                );
                let mut client = ctx.client(actor);
                for pod in &f.pods {
                    client.event(
                        &**pod,
                        EventType::Normal,
                        "SuccessfulAttachVolume",
                        msg.clone(),
                    );
                }
                asw.mark_attached(&f.volume, &f.spec, &f.node);
            }
            (OpName::Attach, Err(err)) => {
                asw.mark_uncertain(&f.volume, &f.spec, &f.node);
                // `GenerateError("AttachVolume.Attach failed", err)`.
                let msg = format!(
                    "AttachVolume.Attach failed for volume \"{}\" : {err}",
                    f.spec.pv_name
                );
                let mut client = ctx.client(actor);
                for pod in &f.pods {
                    client.event(
                        &**pod,
                        EventType::Warning,
                        "FailedAttachVolume",
                        msg.clone(),
                    );
                }
            }
            (OpName::Detach, Ok(())) => asw.mark_detached(&f.volume, &f.node),
            (OpName::Detach, Err(err)) => {
                // Attach must succeed again before the node lists it as attached.
                asw.mark_uncertain(&f.volume, &f.spec, &f.node);
                ctx.note(
                    COMPONENT,
                    format!("Node {}", f.node),
                    format!(
                        "DetachVolume.Detach failed for volume \"{}\" : {err}",
                        f.spec.pv_name
                    ),
                );
            }
        }
        self.complete(&f.key, ok, now);
    }
}

/// `verifyAttachmentStatus`: `None` = not yet.
fn verify_attachment_status(va: Option<&VolumeAttachment>) -> Option<Result<(), String>> {
    // Not in the lister yet (just created): try again.
    let va = va?;
    if va.metadata.deletion_timestamp.is_some() {
        return Some(Err("volume attachment is being deleted".into()));
    }
    if va.status.attached {
        return Some(Ok(()));
    }
    va.status
        .attach_error
        .as_ref()
        .map(|e| Err(e.message.clone()))
}

/// `verifyDetachmentStatus`: gone = detached.
fn verify_detachment_status(va: Option<&VolumeAttachment>) -> Option<Result<(), String>> {
    let Some(va) = va else {
        return Some(Ok(()));
    };
    va.status
        .detach_error
        .as_ref()
        .map(|e| Err(e.message.clone()))
}

/// The timeout of `waitForVolumeAttachDetachStatusWithLister`. Detach has no volume spec,
/// so the driver is "unknown" in its message.
fn timeout_error(f: &InFlight) -> String {
    let (driver, op) = match f.kind {
        OpName::Attach => (f.spec.driver.as_str(), "attach"),
        OpName::Detach => ("unknown", "detach"),
    };
    format!(
        "timed out waiting for external-attacher of {driver} CSI driver to {op} volume {}",
        f.spec.handle
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(ms: u64) -> SimTime {
        SimTime::ZERO + SimDuration::from_millis(ms)
    }

    #[test]
    fn backoff_doubles_from_500ms_to_2m2s() {
        let mut b = ExponentialBackoff::default();
        assert!(b.safe_to_retry(at(0)));
        let mut seen = Vec::new();
        for _ in 0..10 {
            b.update(at(0));
            seen.push(b.duration().as_millis());
        }
        assert_eq!(
            seen,
            [
                500, 1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 64_000, 122_000, 122_000
            ]
        );
        let mut b = ExponentialBackoff::default();
        b.update(at(1_000));
        assert!(!b.safe_to_retry(at(1_500)), "not at exactly the duration");
        assert!(b.safe_to_retry(at(1_501)));
        assert_eq!(b.retry_after(), Some(at(1_500)));
    }

    #[test]
    fn one_operation_per_volume_unless_multi_attachable() {
        let mut ops = Operations::default();
        let rwo_a = OpKey::new("v", "a", false);
        let rwo_b = OpKey::new("v", "b", false);
        assert_eq!(rwo_a, rwo_b, "exclusive volumes share one key");
        ops.run(&rwo_a, OpName::Attach, at(0)).unwrap();
        assert!(ops.is_operation_pending(&rwo_b));
        assert_eq!(
            ops.run(&rwo_b, OpName::Detach, at(0)),
            Err(NotStarted::AlreadyExists)
        );
        let rwx_a = OpKey::new("w", "a", true);
        let rwx_b = OpKey::new("w", "b", true);
        ops.run(&rwx_a, OpName::Attach, at(0)).unwrap();
        assert!(!ops.is_operation_pending(&rwx_b));
        ops.run(&rwx_b, OpName::Attach, at(0)).unwrap();
    }

    #[test]
    fn a_failure_backs_off_the_same_operation_only() {
        let mut ops = Operations::default();
        let k = OpKey::new("v", "a", false);
        ops.run(&k, OpName::Attach, at(0)).unwrap();
        ops.complete(&k, false, at(100));
        assert!(!ops.is_safe_to_retry(&k, OpName::Attach, at(600)));
        assert!(ops.is_safe_to_retry(&k, OpName::Detach, at(600)));
        assert_eq!(
            ops.run(&k, OpName::Attach, at(600)),
            Err(NotStarted::Backoff)
        );
        assert_eq!(ops.retry_after(&k), Some(at(600)));
        // Second failure: 1 s.
        ops.run(&k, OpName::Attach, at(601)).unwrap();
        ops.complete(&k, false, at(700));
        assert_eq!(
            ops.backoff(&k).unwrap().duration(),
            SimDuration::from_secs(1)
        );
        // A detach resets the backoff; its success forgets the key.
        ops.run(&k, OpName::Detach, at(800)).unwrap();
        ops.complete(&k, true, at(900));
        assert!(ops.backoff(&k).is_none());
    }

    #[test]
    fn polls_grow_by_five_percent_with_jitter_and_cap_at_7s() {
        let mut rng = crate::rng::RngStreams::new(1).stream("t");
        let mut p = Poll::start(SimTime::ZERO, &mut rng);
        let first = p.next.as_nanos();
        assert!((500_000_000..=550_000_000).contains(&first), "{first}");
        let mut last = p.next;
        for _ in 0..200 {
            p.advance(&mut rng);
            let gap = p.next.saturating_since(last);
            assert!(gap <= SimDuration::from_millis(7_700), "{gap}");
            last = p.next;
        }
        assert_eq!(p.step, POLL_CAP);
    }
}
