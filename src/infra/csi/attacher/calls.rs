//! The calls themselves: a ControllerPublish or ControllerUnpublish starts, becomes (or
//! joins) a cloud operation, enters service when the cloud has a slot, lands its effect in
//! the cloud after its service time, and reaches the sidecar at the driver's next poll
//! point — or ends at its timeout. The faults in force shape each operation when it starts.

use super::cloud_ops::{OpKind, Target};
use super::{Attacher, AttacherTimer, AttachmentChange, Call, CallKind, fences_multi_attach};
use crate::api::{ObjectKey, Tables};
use crate::component::Ctx;
use crate::infra::csi::CsiTimer;
use crate::infra::csi::cloud::{AttachState, Cloud, CloudError, Code};
use crate::infra::csi::profiles::{CloudOp as PollOp, observed};
use crate::infra::faults::ActiveFaults;
use crate::scenario::Fault;
use crate::time::{SimDuration, SimTime};

impl Attacher {
    /// A ControllerPublish or ControllerUnpublish starts: answered at once if the cloud is
    /// already where it should be, else it waits for a cloud operation (a new one, or the
    /// one already under way for the target).
    #[allow(clippy::too_many_arguments)]
    pub(super) fn start_call(
        &mut self,
        d: usize,
        va: &str,
        kind: CallKind,
        target: Target,
        pv: &str,
        cache: &Tables,
        cloud: &mut Cloud,
        faults: &ActiveFaults,
        ctx: &mut Ctx<'_, CsiTimer>,
    ) {
        let now = ctx.now;
        self.next_call += 1;
        let id = self.next_call;
        let drv = &mut self.drivers[d];
        drv.calls.insert(
            va.to_string(),
            Call {
                id,
                kind,
                started: now,
                target: target.clone(),
                result: None,
            },
        );
        ctx.after(
            drv.timeout,
            CsiTimer::Attacher(AttacherTimer::CallTimeout {
                driver: d,
                va: va.to_string(),
                call: id,
            }),
        );
        let state = cloud
            .disk(&target.0)
            .and_then(|disk| disk.attachments.get(&target.1))
            .map(|a| a.state);
        if kind == CallKind::Unpublish
            && (stuck_detach(faults, &drv.profile.name, &target.1)
                || zone_out_for(faults, cloud, &target.0, &target.1).is_some())
        {
            // The detach hangs in the cloud; the call ends at its timeout.
            if state.is_some() {
                let _ = cloud.detach_begin(&target.0, &target.1, now);
            }
            return;
        }
        let kind_op = op_kind(kind);
        if let Some(op) = drv.cloud.current(&target, kind_op) {
            if let Some(o) = drv.cloud.get_mut(op) {
                o.waiter = Some((va.to_string(), id));
            }
            return;
        }
        let other_under_way = drv.cloud.current(&target, other(kind_op)).is_some();
        let done = !other_under_way
            && match kind {
                CallKind::Publish => state == Some(AttachState::Attached),
                CallKind::Unpublish => state.is_none(),
            };
        if done {
            // Idempotent: already attached (or already detached) answers at once.
            self.answer(d, va, id, Ok(()), ctx);
            return;
        }
        drv.cloud
            .add(kind_op, target, pv.to_string(), (va.to_string(), id));
        self.admit(d, cache, cloud, faults, ctx);
    }

    /// Operations enter service while the cloud has slots; each ends after its service time.
    pub(super) fn admit(
        &mut self,
        d: usize,
        cache: &Tables,
        cloud: &mut Cloud,
        faults: &ActiveFaults,
        ctx: &mut Ctx<'_, CsiTimer>,
    ) {
        let now = ctx.now;
        let limit = self.drivers[d].profile.cloud_attach_concurrency;
        for op in self.drivers[d].cloud.admit(limit) {
            let (kind, target) = {
                let o = self.drivers[d].cloud.get_mut(op).expect("admitted");
                (o.kind, o.target.clone())
            };
            let (took, outcome) = self.begin_service(d, kind, &target, cache, cloud, faults, now);
            let drv = &mut self.drivers[d];
            drv.cloud.start(op, now);
            drv.cloud.get_mut(op).expect("admitted").outcome = Some(outcome);
            ctx.after(
                took,
                CsiTimer::Attacher(AttacherTimer::CloudOpDone { driver: d, op }),
            );
        }
    }

    /// The cloud API call starts: how long the operation takes and how it will end.
    #[allow(clippy::too_many_arguments)]
    fn begin_service(
        &mut self,
        d: usize,
        kind: OpKind,
        (handle, node): &Target,
        cache: &Tables,
        cloud: &mut Cloud,
        faults: &ActiveFaults,
        now: SimTime,
    ) -> (SimDuration, Result<(), CloudError>) {
        let profile = &self.drivers[d].profile;
        let driver = profile.name.clone();
        let multiplier = latency_multiplier(faults, &driver);
        match kind {
            OpKind::Attach => {
                let multi = cloud
                    .disk(handle)
                    .and_then(|disk| cache.pvs.get(&ObjectKey::cluster(&disk.name)))
                    .is_some_and(|pv| pv.is_multi_attach_allowed());
                if fences_multi_attach(&profile.profile)
                    && !multi
                    && let Some(other) = cloud.attached_elsewhere(handle, node)
                {
                    let err = CloudError::new(
                        Code::FailedPrecondition,
                        format!(
                            "Could not attach volume {handle:?} to node {node:?}: volume is already attached to node {other:?} (VolumeInUse)"
                        ),
                    );
                    return (SimDuration::ZERO, Err(err));
                }
                if let Some(max) = profile.max_volumes_per_node
                    && cloud.attached_count(&driver, node) >= max as usize
                    && cloud
                        .disk(handle)
                        .is_none_or(|x| !x.attachments.contains_key(node))
                {
                    let err = CloudError::new(
                        Code::ResourceExhausted,
                        format!(
                            "Could not attach volume {handle:?} to node {node:?}: the node has {max} volumes attached, its limit (AttachmentLimitExceeded)"
                        ),
                    );
                    return (SimDuration::ZERO, Err(err));
                }
                if let Some(zone) = zone_out_for(faults, cloud, handle, node) {
                    let err = CloudError::new(
                        Code::Internal,
                        format!(
                            "Could not attach volume {handle:?} to node {node:?}: zone {zone} is unavailable"
                        ),
                    );
                    return (SimDuration::ZERO, Err(err));
                }
                if let Err(e) = cloud.attach_begin(handle, node, now) {
                    return (SimDuration::ZERO, Err(e));
                }
                let attach = profile.attach;
                let ratio = failure_ratio(profile.attach_failure_ratio, faults, &driver);
                let took = scale(self.rng.duration(&attach), multiplier);
                let fails = ratio > 0.0 && self.rng.unit_f64() < ratio;
                let outcome = if fails {
                    Err(CloudError::new(
                        Code::Internal,
                        format!(
                            "Could not attach volume {handle:?} to node {node:?}: attachment of volume failed"
                        ),
                    ))
                } else {
                    Ok(())
                };
                (took, outcome)
            }
            OpKind::Detach => {
                let attached = cloud
                    .disk(handle)
                    .is_some_and(|x| x.attachments.contains_key(node));
                if !attached {
                    return (SimDuration::ZERO, Ok(()));
                }
                let _ = cloud.detach_begin(handle, node, now);
                let detach = profile.detach;
                (scale(self.rng.duration(&detach), multiplier), Ok(()))
            }
        }
    }

    /// A cloud operation's service time is over: its effect lands in the cloud, and the
    /// call waiting for it (if any) gets its answer at the driver's next poll point.
    pub(super) fn cloud_op_done(
        &mut self,
        d: usize,
        op: u64,
        cache: &Tables,
        cloud: &mut Cloud,
        ctx: &mut Ctx<'_, CsiTimer>,
    ) {
        let now = ctx.now;
        let Some(o) = self.drivers[d].cloud.finish(op) else {
            return;
        };
        let (handle, node) = o.target.clone();
        let mut result = o.outcome.clone().unwrap_or(Ok(()));
        let driver = self.drivers[d].profile.name.clone();
        let multi = cache
            .pvs
            .get(&ObjectKey::cluster(&o.pv))
            .is_some_and(|pv| pv.is_multi_attach_allowed());
        let change = |attached| AttachmentChange {
            driver: driver.clone(),
            handle: handle.clone(),
            pv: o.pv.clone(),
            node: node.clone(),
            attached,
            multi_attach_allowed: multi,
        };
        match (o.kind, &result) {
            (OpKind::Attach, Ok(())) => match cloud.attach_end(&handle, &node, now) {
                Ok(()) => self.changes.push(change(true)),
                Err(e) => {
                    let _ = cloud.detach_end(&handle, &node);
                    result = Err(e);
                }
            },
            (OpKind::Attach, Err(_)) => {
                // A failed attach leaves nothing behind (unless it was attached already).
                let attaching = cloud
                    .disk(&handle)
                    .and_then(|x| x.attachments.get(&node))
                    .is_some_and(|a| a.state == AttachState::Attaching);
                if attaching {
                    let _ = cloud.detach_end(&handle, &node);
                }
            }
            (OpKind::Detach, _) => {
                let was = cloud
                    .disk(&handle)
                    .is_some_and(|x| x.attachments.contains_key(&node));
                let _ = cloud.detach_end(&handle, &node);
                if was {
                    self.changes.push(change(false));
                }
            }
        }
        if let Some((va, id)) = o.waiter {
            self.answer(d, &va, id, result, ctx);
        }
    }

    /// Call `id` of `va` has its answer; the sidecar sees it at the driver's poll point
    /// after the call started (`profiles::observed`), unless the call has timed out.
    fn answer(
        &mut self,
        d: usize,
        va: &str,
        id: u64,
        result: Result<(), CloudError>,
        ctx: &mut Ctx<'_, CsiTimer>,
    ) {
        let now = ctx.now;
        let drv = &mut self.drivers[d];
        let Some(c) = drv.calls.get_mut(va).filter(|c| c.id == id) else {
            return;
        };
        let poll = match c.kind {
            CallKind::Publish => PollOp::Attach,
            CallKind::Unpublish => PollOp::Detach,
        };
        let seen =
            c.started + observed(&drv.profile.profile, poll, now.saturating_since(c.started));
        c.result = Some(result);
        ctx.at(
            seen.max(now),
            CsiTimer::Attacher(AttacherTimer::CallDone {
                driver: d,
                va: va.to_string(),
                call: id,
            }),
        );
    }
}

pub(super) fn op_kind(kind: CallKind) -> OpKind {
    match kind {
        CallKind::Publish => OpKind::Attach,
        CallKind::Unpublish => OpKind::Detach,
    }
}

fn other(kind: OpKind) -> OpKind {
    match kind {
        OpKind::Attach => OpKind::Detach,
        OpKind::Detach => OpKind::Attach,
    }
}

/// The product of the `attachLatency` multipliers in force for `driver`.
fn latency_multiplier(faults: &ActiveFaults, driver: &str) -> f64 {
    faults
        .iter()
        .filter_map(|f| match f {
            Fault::AttachLatency {
                driver: d,
                multiplier,
            } if applies(d, driver) => Some(*multiplier),
            _ => None,
        })
        .product()
}

/// The share of attach operations that fail: the profile's and every `attachFailure` fault
/// in force, as independent causes.
fn failure_ratio(profile: f64, faults: &ActiveFaults, driver: &str) -> f64 {
    let ok = faults
        .iter()
        .filter_map(|f| match f {
            Fault::AttachFailure { driver: d, ratio } if applies(d, driver) => Some(*ratio),
            _ => None,
        })
        .fold(1.0 - profile.clamp(0.0, 1.0), |ok, r| {
            ok * (1.0 - r.clamp(0.0, 1.0))
        });
    1.0 - ok
}

/// Whether a `stuckDetach` fault in force hangs detaches of `driver` from `node`.
fn stuck_detach(faults: &ActiveFaults, driver: &str, node: &str) -> bool {
    faults.iter().any(|f| match f {
        Fault::StuckDetach { driver: d, node: n } => {
            applies(d, driver) && n.as_deref().is_none_or(|n| n == node)
        }
        _ => false,
    })
}

/// The zone of the disk or of the node that a `zoneOutage` in force has taken down, if
/// any: the zone's block-storage service answers nothing (an attach fails, a detach
/// hangs until the call times out).
fn zone_out_for(faults: &ActiveFaults, cloud: &Cloud, handle: &str, node: &str) -> Option<String> {
    let disk_zone = cloud.disk(handle).and_then(|d| match &d.placement {
        crate::infra::csi::cloud::Placement::Zone(z) => Some(z.clone()),
        crate::infra::csi::cloud::Placement::Node(n) => cloud.node_zone(n).map(str::to_string),
        _ => None,
    });
    let node_zone = cloud.node_zone(node).map(str::to_string);
    faults.iter().find_map(|f| match f {
        Fault::ZoneOutage { zone, .. }
            if disk_zone.as_deref() == Some(zone.as_str())
                || node_zone.as_deref() == Some(zone.as_str()) =>
        {
            Some(zone.clone())
        }
        _ => None,
    })
}

fn applies(fault_driver: &Option<String>, driver: &str) -> bool {
    fault_driver.as_deref().is_none_or(|d| d == driver)
}

fn scale(d: SimDuration, k: f64) -> SimDuration {
    if k == 1.0 {
        return d;
    }
    let micros = (d.as_nanos() as f64 * k / 1_000.0).round().max(0.0);
    SimDuration::from_micros_u64(micros as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_combine() {
        let mut f = ActiveFaults::default();
        assert_eq!(failure_ratio(0.0, &f, "d"), 0.0);
        f.start(
            0,
            Fault::AttachFailure {
                driver: Some("d".into()),
                ratio: 0.5,
            },
        );
        f.start(
            1,
            Fault::AttachFailure {
                driver: None,
                ratio: 0.5,
            },
        );
        assert!((failure_ratio(0.0, &f, "d") - 0.75).abs() < 1e-12);
        assert!((failure_ratio(0.0, &f, "other") - 0.5).abs() < 1e-12);
        f.start(
            2,
            Fault::AttachLatency {
                driver: None,
                multiplier: 3.0,
            },
        );
        assert_eq!(latency_multiplier(&f, "d"), 3.0);
        assert_eq!(
            scale(SimDuration::from_secs(2), 3.0),
            SimDuration::from_secs(6)
        );
        f.start(
            3,
            Fault::StuckDetach {
                driver: None,
                node: Some("n1".into()),
            },
        );
        assert!(stuck_detach(&f, "d", "n1") && !stuck_detach(&f, "d", "n2"));
    }

    #[test]
    fn a_zone_outage_takes_down_the_disks_and_nodes_of_its_zone() {
        use crate::infra::csi::cloud::Placement;
        use crate::infra::csi::cloud::tests::{cloud, req};
        use crate::scenario::ZoneOutageFlavour;
        let mut c = cloud();
        let h = c
            .create_disk(
                req("pvc-1", Placement::Zone("zone-a".into())),
                SimTime::ZERO,
            )
            .unwrap()
            .handle
            .clone();
        let mut f = ActiveFaults::default();
        assert_eq!(zone_out_for(&f, &c, &h, "n-a"), None);
        f.start(
            0,
            Fault::ZoneOutage {
                zone: "zone-b".into(),
                flavour: ZoneOutageFlavour::Network,
            },
        );
        // The disk is in zone-a: only a node in zone-b is affected.
        assert_eq!(zone_out_for(&f, &c, &h, "n-a"), None);
        assert_eq!(zone_out_for(&f, &c, &h, "n-b").as_deref(), Some("zone-b"));
        f.start(
            1,
            Fault::ZoneOutage {
                zone: "zone-a".into(),
                flavour: ZoneOutageFlavour::Power,
            },
        );
        assert_eq!(zone_out_for(&f, &c, &h, "n-a").as_deref(), Some("zone-a"));
        f.end(0);
        f.end(1);
        assert_eq!(zone_out_for(&f, &c, &h, "n-b"), None);
    }
}
