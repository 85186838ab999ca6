//! Invariants of the simulated cluster, checked by the engine after every event. They only
//! read: the journal entries the event wrote, the API objects, and what the kubelets run.
//! A violation becomes a [`Finding`] in the run's result (exit code 3), never a panic.
//!
//! Each check looks only at what changed, so checking costs little per event:
//! `live_instances` (at most one live instance per pod identity, from the kubelets' change
//! log), `claims` (a StatefulSet pod mounts only its own claims, on pod writes), `ordering`
//! (OrderedReady creates a pod only after its predecessors are Running and Ready, on pod
//! creates), `status` (a quiet StatefulSet's status counts agree with its pods, at the
//! set's quiet points and at the end of the run), `attachments` (no read-write-once
//! volume on two nodes; no detach under a running pod, on the cloud's attachment changes)
//! and `storage` (no retained volume deleted, no data of a wanted claim destroyed, on PV
//! writes and the cloud's lost disks).

mod attachments;
mod claims;
mod live_instances;
mod ordering;
mod status;
mod storage;

#[cfg(test)]
mod testkit;

use crate::api::{ObjectKey, Pod, StatefulSet};
use crate::apiserver::{ApiServer, JournalEntry};
use crate::infra::kubelet::LiveChange;
use crate::time::{SimDuration, SimTime};
use serde::Serialize;

/// A violation of a guarantee of the simulated system.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Finding {
    pub t_us: u64,
    /// Kebab-case name of the invariant, e.g. `two-live-instances`.
    pub invariant: String,
    /// What was seen, naming the objects and nodes.
    pub message: String,
}

impl Finding {
    fn new(at: SimTime, invariant: &str, message: String) -> Self {
        Finding {
            t_us: at.as_nanos() / 1_000,
            invariant: invariant.to_string(),
            message,
        }
    }
}

/// Every invariant's state, fed by the engine.
pub struct Checks {
    live: live_instances::LiveInstances,
    claims: claims::Claims,
    ordering: ordering::Ordering,
    status: status::StatusCounts,
    attachments: attachments::Attachments,
    storage: storage::StorageSafety,
    findings: Vec<Finding>,
}

impl Checks {
    /// `watch_delay` is the informer delay of the controller-manager: the checks that
    /// judge the controller allow for the cache lagging by that much.
    pub fn new(watch_delay: SimDuration) -> Self {
        Checks {
            live: Default::default(),
            claims: Default::default(),
            ordering: ordering::Ordering::new(watch_delay),
            status: status::StatusCounts::new(watch_delay),
            attachments: Default::default(),
            storage: Default::default(),
            findings: Vec::new(),
        }
    }

    /// One journal entry of the event just handled, in journal order; `api` is the state
    /// after the event.
    pub fn on_entry(&mut self, entry: &JournalEntry, api: &ApiServer) {
        let JournalEntry::Write(w) = entry else {
            return;
        };
        let out = &mut self.findings;
        match &w.obj {
            crate::api::AnyObject::Pod(pod) => {
                self.claims.on_pod_write(w, pod, api, out);
                self.ordering.on_pod_write(w, pod, api, out);
                self.status.on_pod_write(w.at, pod, api);
            }
            crate::api::AnyObject::StatefulSet(set) => {
                self.status.on_set_write(w.at, set, w.removed);
            }
            crate::api::AnyObject::PersistentVolume(pv) => {
                self.storage.on_volume_write(w, pv, out);
            }
            _ => {}
        }
    }

    /// Before an event at `t`: every instant before it has ended, so the sets whose quiet
    /// point came before `t` are checked.
    pub fn before_event(&mut self, t: SimTime, api: &ApiServer) {
        self.status.check_before(t, api, &mut self.findings);
    }

    /// Instant `t` has ended too (every event at `t` has run): [`Checks::before_event`]
    /// for the instant after it.
    pub fn instant_ended(&mut self, t: SimTime, api: &ApiServer) {
        self.before_event(t + crate::time::SimDuration::from_nanos(1), api);
    }

    /// After the event at `now` and its journal entries: the kubelets' liveness changes.
    pub fn after_event(&mut self, now: SimTime, live_changes: impl Iterator<Item = LiveChange>) {
        for change in live_changes {
            self.live.on_change(now, change, &mut self.findings);
        }
    }

    /// Attachments the cloud gained or lost in the event at `now` (`attachments.rs`).
    pub fn on_attachments(
        &mut self,
        now: SimTime,
        changes: &[crate::infra::csi::attacher::AttachmentChange],
        cloud: &crate::infra::csi::cloud::Cloud,
        nodes: &crate::infra::kubelet::NodeAgents,
    ) {
        for c in changes {
            self.attachments
                .on_change(now, c, cloud, nodes, &mut self.findings);
        }
    }

    /// Disks whose data went in the event at `now` (`storage.rs`).
    pub fn on_disks_gone(
        &mut self,
        now: SimTime,
        gone: &[crate::infra::csi::cloud::DiskGone],
        api: &ApiServer,
    ) {
        for g in gone {
            self.storage.on_disk_gone(now, g, api, &mut self.findings);
        }
    }

    /// The end of the run at `now`: sets quiet by then are checked (a set written too
    /// recently may still legitimately lag by one pass, so it is not).
    pub fn finish(&mut self, now: SimTime, api: &ApiServer) {
        self.instant_ended(now, api);
        // Quiet points found late are reported at their own time: keep the list in time
        // order (stable, so equal times keep the order they were found in).
        self.findings.sort_by_key(|f| f.t_us);
    }

    pub fn findings(&self) -> &[Finding] {
        &self.findings
    }

    pub fn into_findings(self) -> Vec<Finding> {
        self.findings
    }
}

/// `(parent, ordinal)` of a StatefulSet pod name (`<set>-<digits>`), if it has that shape.
fn parent_and_ordinal(name: &str) -> Option<(&str, i32)> {
    let (parent, digits) = name.rsplit_once('-')?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((parent, digits.parse().ok()?))
}

/// The StatefulSet that controls `pod` (its controller ownerRef, same uid), with the pod's
/// ordinal, if the pod is a member of it by name.
fn owning_set<'a>(pod: &Pod, api: &'a ApiServer) -> Option<(&'a StatefulSet, i32)> {
    let owner = pod.metadata.controller_ref()?;
    if owner.kind != "StatefulSet" {
        return None;
    }
    let key = ObjectKey::new(&pod.metadata.namespace, &owner.name);
    let set = api.objects().stateful_sets.get(&key)?;
    let (parent, ordinal) = parent_and_ordinal(&pod.metadata.name)?;
    (set.metadata.uid == owner.uid && parent == set.metadata.name).then_some((set, ordinal))
}

/// `isRunningAndReady`: phase Running and condition Ready=True.
fn running_and_ready(pod: &Pod) -> bool {
    pod.status.phase == crate::api::pod::phase::RUNNING && pod.is_ready()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pod_names_parse_like_upstream() {
        assert_eq!(parent_and_ordinal("web-0"), Some(("web", 0)));
        assert_eq!(parent_and_ordinal("my-db-12"), Some(("my-db", 12)));
        assert_eq!(parent_and_ordinal("web"), None);
        assert_eq!(parent_and_ordinal("web-"), None);
        assert_eq!(parent_and_ordinal("web-1a"), None);
        assert_eq!(parent_and_ordinal("web-99999999999"), None);
    }
}
