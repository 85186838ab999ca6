//! `tryUpdateNodeHealth`: whether the node's kubelet is still heard from.
//!
//! The controller never trusts the kubelet's clock. It keeps, per node, a private
//! `probeTimestamp`: its *own* time of the pass in which it first saw a new Ready
//! `lastHeartbeatTime` or a new Lease `renewTime`. Once its clock reaches probeTimestamp +
//! grace period (`nodeMonitorGracePeriod`, or `nodeStartupGracePeriod` for a node that
//! never posted a Ready condition; see [`grace_expired`]), it writes Ready, MemoryPressure, DiskPressure and
//! PIDPressure to Unknown ("Kubelet stopped posting node status.").

use super::controller_utils::get_node_condition;
use super::{NodeEntry, NodeLifecycleConfig};
use crate::api::coordination::MicroTime;
use crate::api::node::NodeCondition;
use crate::api::{Lease, Node, Timestamp};
use crate::apiserver::{ApiClient, ApiError};
use crate::time::SimTime;
use std::rc::Rc;

/// `nodeHealthData`.
#[derive(Clone, Debug)]
pub struct NodeHealthData {
    pub probe_timestamp: SimTime,
    pub ready_transition_timestamp: SimTime,
    /// The Ready condition of the status last taken in (`status`; only Ready is read).
    pub ready: Option<NodeCondition>,
    /// The Lease last seen renewed.
    pub lease: Option<LeaseSeen>,
}

impl NodeHealthData {
    /// `tryUpdateNodeHealth`'s Lease step: a Lease renewed since the one last taken in
    /// (or the first one seen) is taken in, and the probe timestamp becomes `now`.
    #[inline]
    pub fn take_in_lease(&mut self, observed: Option<LeaseSeen>, now: SimTime) {
        if let Some(observed) = observed
            && self
                .lease
                .is_none_or(|saved| renewed_after(saved, observed))
        {
            self.lease = Some(observed);
            self.probe_timestamp = now;
        }
    }
}

/// What the controller reads of a Lease: its `spec.renewTime` (kept instead of the
/// object, so that old Leases are not held alive).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LeaseSeen(pub Option<MicroTime>);

impl LeaseSeen {
    #[inline]
    pub fn of(lease: &Lease) -> Self {
        LeaseSeen(lease.spec.renew_time)
    }
}

/// A Ready condition's status, as the controller tests it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReadyStatus {
    True,
    False,
    Unknown,
    /// Anything else the API would store.
    Other,
}

impl ReadyStatus {
    pub fn of(c: &NodeCondition) -> Self {
        match c.status.as_str() {
            "True" => ReadyStatus::True,
            "False" => ReadyStatus::False,
            "Unknown" => ReadyStatus::Unknown,
            _ => ReadyStatus::Other,
        }
    }
}

/// What `tryUpdateNodeHealth` returns (bar the grace period, which its caller ignores):
/// the Ready status as observed at the start of the pass, the one after it (Unknown if
/// the controller just wrote it; `None` without a Ready condition), and the node as it
/// now stands.
pub struct HealthOutcome {
    pub observed: ReadyStatus,
    pub current: Option<ReadyStatus>,
    pub node: Rc<Node>,
}

/// The conditions the controller turns Unknown (`NetworkUnavailable` is the control
/// plane's, left alone).
const CONDITIONS_SET_UNKNOWN: [&str; 4] =
    ["Ready", "MemoryPressure", "DiskPressure", "PIDPressure"];

/// `nc.now().After(probeTimestamp.Add(gracePeriod))`, with passes that take no time.
///
/// The probe timestamp is the instant of a pass, and upstream's loop is sliding: each
/// pass starts a period after the previous one *ended*, so the pass one grace period
/// (a whole number of periods) later is always a little more than that later, and the
/// strict comparison holds there. Here passes take no time and sit on an exact grid,
/// which would make that pass compare equal and defer the node's Unknown by a whole
/// period; `>=` gives the real outcome.
#[inline]
pub fn grace_expired(now: SimTime, probe: SimTime, grace: crate::time::SimDuration) -> bool {
    now >= probe + grace
}

fn creation_time(node: &Node) -> SimTime {
    node.metadata
        .creation_timestamp
        .map_or(SimTime::ZERO, Timestamp::time)
}

/// `savedLease.Spec.RenewTime.Before(observedLease.Spec.RenewTime)`: `MicroTime.Before`
/// on pointers is false if either is unset.
#[inline]
pub(super) fn renewed_after(saved: LeaseSeen, observed: LeaseSeen) -> bool {
    match (saved.0, observed.0) {
        (Some(a), Some(b)) => a < b,
        _ => false,
    }
}

// Port of `tryUpdateNodeHealth`, on the node's entry (its health data and the Lease the
// lister has). The health data is stored back whatever happens (the deferred `set`
// upstream), including when the status write fails. `shortcut`: take the common cases'
// exact shortcut ([`unchanged_node_health`]; off only in tests comparing the two).
pub(super) fn try_update_node_health(
    config: &NodeLifecycleConfig,
    entry: &mut NodeEntry,
    node: &Rc<Node>,
    client: &mut ApiClient<'_>,
    shortcut: bool,
) -> Result<HealthOutcome, ApiError> {
    let now = client.now();
    if shortcut && let Some(outcome) = unchanged_node_health(config, entry, node, now) {
        return Ok(outcome);
    }
    let mut health = entry.health.clone();
    let current = get_node_condition(node, "Ready").cloned();
    let observed_ready;
    let grace_period;
    match &current {
        None => {
            // The kubelet never posted a status: a made-up Unknown condition dated at
            // the node's creation, and the startup grace period.
            let created = node.metadata.creation_timestamp;
            observed_ready = NodeCondition {
                type_: "Ready".into(),
                status: "Unknown".into(),
                last_heartbeat_time: created,
                last_transition_time: created,
                ..Default::default()
            };
            grace_period = config.node_startup_grace_period;
            match health.as_mut() {
                Some(h) => h.ready = None,
                None => {
                    health = Some(NodeHealthData {
                        probe_timestamp: creation_time(node),
                        ready_transition_timestamp: creation_time(node),
                        ready: None,
                        lease: None,
                    })
                }
            }
        }
        Some(c) => {
            observed_ready = c.clone();
            grace_period = config.node_monitor_grace_period;
        }
    }
    let saved_condition = health.as_ref().and_then(|h| h.ready.clone());
    let saved_lease = health.as_ref().and_then(|h| h.lease);
    let fresh = |transition: SimTime| NodeHealthData {
        probe_timestamp: now,
        ready_transition_timestamp: transition,
        ready: current.clone(),
        lease: None,
    };
    let mut health = match (health, &saved_condition, &current) {
        (None, _, _) => fresh(now),
        (Some(_), None, Some(_)) | (Some(_), Some(_), None) => fresh(now),
        (Some(h), Some(saved), Some(cur))
            if saved.last_heartbeat_time != cur.last_heartbeat_time =>
        {
            // A new heartbeat; a new transition time too if Ready changed since.
            let transition = if saved.last_transition_time != cur.last_transition_time {
                now
            } else {
                h.ready_transition_timestamp
            };
            fresh(transition)
        }
        (Some(h), _, _) => h,
    };
    // A renewed Lease always counts (a kubelet that renews its Lease but never posts
    // a status is taken as healthy).
    let observed_lease = entry.lease;
    if let Some(observed) = observed_lease
        && saved_lease.is_none_or(|saved| renewed_after(saved, observed))
    {
        health.lease = Some(observed);
        health.probe_timestamp = now;
    }

    let mut outcome = HealthOutcome {
        observed: ReadyStatus::of(&observed_ready),
        current: current.as_ref().map(ReadyStatus::of),
        node: Rc::clone(node),
    };
    let stale = CONDITIONS_SET_UNKNOWN
        .iter()
        .any(|t| get_node_condition(node, t).is_none_or(|c| c.status != "Unknown"));
    // Past the grace period with every condition already Unknown, the rewrite below
    // would change nothing: skip the copy.
    if grace_expired(now, health.probe_timestamp, grace_period) && stale {
        let ts = Timestamp::at(now);
        let mut next = (**node).clone();
        for type_ in CONDITIONS_SET_UNKNOWN {
            match next.status.conditions.iter_mut().find(|c| c.type_ == type_) {
                None => next.status.conditions.push(NodeCondition {
                    type_: type_.into(),
                    status: "Unknown".into(),
                    reason: "NodeStatusNeverUpdated".into(),
                    message: "Kubelet never posted node status.".into(),
                    last_heartbeat_time: node.metadata.creation_timestamp,
                    last_transition_time: Some(ts),
                }),
                Some(c) if c.status != "Unknown" => {
                    c.status = "Unknown".into();
                    c.reason = "NodeStatusUnknown".into();
                    c.message = "Kubelet stopped posting node status.".into();
                    c.last_transition_time = Some(ts);
                }
                Some(_) => {}
            }
        }
        let now_ready = get_node_condition(&next, "Ready").cloned();
        if now_ready.as_ref() != Some(&observed_ready) {
            let written = match client.update_status(&next) {
                Ok(w) => w,
                Err(e) => {
                    entry.health = Some(health);
                    return Err(e);
                }
            };
            outcome.current = now_ready.as_ref().map(ReadyStatus::of);
            health = NodeHealthData {
                probe_timestamp: health.probe_timestamp,
                ready_transition_timestamp: now,
                ready: now_ready,
                lease: observed_lease,
            };
            outcome.node = written;
        }
    }
    entry.health = Some(health);
    Ok(outcome)
}

/// The common cases of `tryUpdateNodeHealth`, without copies: a node seen before with a
/// Ready condition then and now, within its grace period (or already all Unknown). Either
/// its Ready heartbeat has not moved (a renewed Lease is taken in), or it has (a status
/// post: the saved condition becomes the new one in place). Otherwise it is left to the
/// general path (which then finds the Lease already taken in).
fn unchanged_node_health(
    config: &NodeLifecycleConfig,
    entry: &mut NodeEntry,
    node: &Rc<Node>,
    now: SimTime,
) -> Option<HealthOutcome> {
    let current = get_node_condition(node, "Ready")?;
    let health = entry.health.as_mut()?;
    let saved = health.ready.as_mut()?;
    if saved.last_heartbeat_time != current.last_heartbeat_time {
        // The general path's new-heartbeat case: fresh data probed now (a new transition
        // time if Ready's moved), its Lease unset, then the Lease taken in if renewed
        // since the one saved before. Probed now, it is within any grace period but 0.
        if grace_expired(now, now, config.node_monitor_grace_period) {
            return None;
        }
        if saved.last_transition_time != current.last_transition_time {
            health.ready_transition_timestamp = now;
        }
        // `saved = current.clone()`, into the saved strings' buffers.
        saved.type_.clone_from(&current.type_);
        saved.status.clone_from(&current.status);
        saved.reason.clone_from(&current.reason);
        saved.message.clone_from(&current.message);
        saved.last_heartbeat_time = current.last_heartbeat_time;
        saved.last_transition_time = current.last_transition_time;
        debug_assert!(saved == current, "every field of the condition copied");
        health.probe_timestamp = now;
        let saved_lease = health.lease.take();
        if let Some(observed) = entry.lease
            && saved_lease.is_none_or(|saved| renewed_after(saved, observed))
        {
            health.lease = Some(observed);
        }
        let status = ReadyStatus::of(current);
        return Some(HealthOutcome {
            observed: status,
            current: Some(status),
            node: Rc::clone(node),
        });
    }
    health.take_in_lease(entry.lease, now);
    // Past the grace period, the general path rewrites the conditions to Unknown — which
    // changes nothing once they all are.
    if grace_expired(
        now,
        health.probe_timestamp,
        config.node_monitor_grace_period,
    ) && CONDITIONS_SET_UNKNOWN
        .iter()
        .any(|t| get_node_condition(node, t).is_none_or(|c| c.status != "Unknown"))
    {
        return None;
    }
    let status = ReadyStatus::of(current);
    Some(HealthOutcome {
        observed: status,
        current: Some(status),
        node: Rc::clone(node),
    })
}

/// `tryUpdateNodeHealth` for a node whose object has not changed since a pass found it
/// healthy: its Ready heartbeat cannot have moved, so only a renewed Lease is taken in.
/// Returns whether the node is still within its grace period (if not, the caller runs the
/// general path, which finds the Lease already taken in).
#[inline]
pub(super) fn quiet_node_health(
    config: &NodeLifecycleConfig,
    entry: &mut NodeEntry,
    now: SimTime,
) -> bool {
    let Some(health) = entry.health.as_mut() else {
        return false;
    };
    health.take_in_lease(entry.lease, now);
    !grace_expired(
        now,
        health.probe_timestamp,
        config.node_monitor_grace_period,
    )
}
