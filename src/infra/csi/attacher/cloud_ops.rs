//! The cloud side of ControllerPublish / ControllerUnpublish for one driver: each call
//! becomes a cloud operation on one (disk, node) target. Operations are served FIFO with
//! at most `cloudAttachConcurrency` in service at once (the cloud API's throttling), so
//! under an attach storm each operation first waits its turn and latency grows with load.
//! An operation's service time is the profile's attach or detach latency, times the
//! `attachLatency` faults in force when it starts; its effect (attached, detached, or an
//! error) lands in the cloud when the service time is over, whether or not the call that
//! asked for it is still waiting (a timed-out call's retry finds the result there).
//!
//! One operation per target at a time: an unpublish asked for while a publish of the same
//! target is in the cloud waits for it, and the other way round.

use crate::infra::csi::cloud::CloudError;
use crate::time::SimTime;
use std::collections::{BTreeMap, VecDeque};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum OpKind {
    Attach,
    Detach,
}

/// (disk handle, node).
pub type Target = (String, String);

#[derive(Clone, Debug)]
pub struct CloudOp {
    pub kind: OpKind,
    pub target: Target,
    /// The PV the disk backs (for the checks' attachment log).
    pub pv: String,
    /// The call waiting for this operation: (VolumeAttachment name, call id).
    pub waiter: Option<(String, u64)>,
    /// An operation on the same target that must finish first.
    blocked_by: Option<u64>,
    /// When it entered service.
    pub started: Option<SimTime>,
    /// How it ends, decided when it enters service.
    pub outcome: Option<Result<(), CloudError>>,
}

/// One driver's cloud operations.
#[derive(Default)]
pub struct CloudOps {
    next_id: u64,
    ops: BTreeMap<u64, CloudOp>,
    /// The newest operation of each target.
    by_target: BTreeMap<Target, u64>,
    /// Operations waiting for a service slot, FIFO.
    waiting: VecDeque<u64>,
    in_service: u32,
}

impl CloudOps {
    /// The operation of `kind` already under way for `target`, if any.
    pub fn current(&self, target: &Target, kind: OpKind) -> Option<u64> {
        let id = *self.by_target.get(target)?;
        (self.ops[&id].kind == kind).then_some(id)
    }

    pub fn get_mut(&mut self, id: u64) -> Option<&mut CloudOp> {
        self.ops.get_mut(&id)
    }

    /// A new operation for `target`, queued behind the target's current one if there is
    /// one, else behind the other targets' operations waiting for a slot.
    pub fn add(&mut self, kind: OpKind, target: Target, pv: String, waiter: (String, u64)) -> u64 {
        self.next_id += 1;
        let id = self.next_id;
        let blocked_by = self.by_target.get(&target).copied();
        self.by_target.insert(target.clone(), id);
        self.ops.insert(
            id,
            CloudOp {
                kind,
                target,
                pv,
                waiter: Some(waiter),
                blocked_by,
                started: None,
                outcome: None,
            },
        );
        if blocked_by.is_none() {
            self.waiting.push_back(id);
        }
        id
    }

    /// Takes the next operations that may enter service under `limit` (`None` = no limit),
    /// counting them in service.
    pub fn admit(&mut self, limit: Option<u32>) -> Vec<u64> {
        let mut out = Vec::new();
        while limit.is_none_or(|l| self.in_service < l) {
            let Some(id) = self.waiting.pop_front() else {
                break;
            };
            self.in_service += 1;
            out.push(id);
        }
        out
    }

    /// Marks operation `id` in service from `now`.
    pub fn start(&mut self, id: u64, now: SimTime) {
        if let Some(op) = self.ops.get_mut(&id) {
            op.started = Some(now);
        }
    }

    /// Operation `id` is over: its slot frees and an operation blocked behind it may queue.
    pub fn finish(&mut self, id: u64) -> Option<CloudOp> {
        let op = self.ops.remove(&id)?;
        self.in_service = self.in_service.saturating_sub(1);
        if self.by_target.get(&op.target) == Some(&id) {
            self.by_target.remove(&op.target);
        }
        let next = self
            .ops
            .iter()
            .find(|(_, o)| o.blocked_by == Some(id))
            .map(|(k, _)| *k);
        if let Some(next) = next {
            self.ops.get_mut(&next).expect("found").blocked_by = None;
            self.waiting.push_back(next);
        }
        Some(op)
    }

    /// Operations waiting for a slot.
    #[cfg(test)]
    pub fn queued(&self) -> usize {
        self.waiting.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(h: &str, n: &str) -> Target {
        (h.to_string(), n.to_string())
    }

    #[test]
    fn operations_queue_fifo_under_the_concurrency_limit() {
        let mut ops = CloudOps::default();
        let a = ops.add(OpKind::Attach, t("v1", "n"), "p1".into(), ("va1".into(), 1));
        let b = ops.add(OpKind::Attach, t("v2", "n"), "p2".into(), ("va2".into(), 2));
        let c = ops.add(OpKind::Attach, t("v3", "n"), "p3".into(), ("va3".into(), 3));
        assert_eq!(ops.admit(Some(2)), [a, b]);
        assert_eq!(ops.admit(Some(2)), Vec::<u64>::new());
        assert_eq!(ops.queued(), 1);
        ops.finish(a);
        assert_eq!(ops.admit(Some(2)), [c]);
        assert_eq!(ops.admit(None), Vec::<u64>::new());
    }

    #[test]
    fn a_detach_waits_for_the_attach_of_its_target() {
        let mut ops = CloudOps::default();
        let a = ops.add(OpKind::Attach, t("v1", "n"), "p1".into(), ("va1".into(), 1));
        assert_eq!(ops.admit(None), [a]);
        let d = ops.add(OpKind::Detach, t("v1", "n"), "p1".into(), ("va1".into(), 2));
        assert_eq!(ops.current(&t("v1", "n"), OpKind::Detach), Some(d));
        assert_eq!(
            ops.admit(None),
            Vec::<u64>::new(),
            "blocked behind the attach"
        );
        ops.finish(a);
        assert_eq!(ops.admit(None), [d]);
    }
}
