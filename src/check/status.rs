//! `status-mismatch`: once a StatefulSet has been quiet — no write to the set and none to
//! any of its pods — for the watch delay × 2 + 1 s, its `status.replicas`, `readyReplicas`,
//! `currentReplicas` and `updatedReplicas` equal the counts from its pods.
//!
//! Why that long: the controller computes status from the objects its pass started with
//! so right after a pod write the status legitimately lags by one pass. The pod
//! write reaches the controller one watch delay later, and its pass writes the status; that
//! write comes back one more delay later, and that pass finds nothing to change. The extra
//! second covers the work queue's first rate-limited retries (5 ms doubling) after a failed
//! pass. Each set is checked once per quiet point, as the point's instant ends: before the
//! first event after it (nothing of the set has changed in between: a write would have
//! moved the point) or at the end of the run; a set written near the end of the run is not
//! judged. One finding per episode: until a check agrees.
//!
//! Not at the first event at or after the point: which events there are must not matter
//! (a parked probe ticker, `kubelet::parking`, leaves its ticks out), and a write at the
//! next event must not cancel a check the instant before it was due.

use super::{Finding, parent_and_ordinal, running_and_ready};
use crate::api::{ObjectKey, Pod, StatefulSet};
use crate::apiserver::ApiServer;
use crate::time::{SimDuration, SimTime};
use std::collections::{BTreeMap, BTreeSet};

pub const INVARIANT: &str = "status-mismatch";

/// The label holding a pod's revision (its value is the ControllerRevision's name).
const REVISION_LABEL: &str = "controller-revision-hash";

#[derive(Default)]
struct Watched {
    /// The last write to the set or one of its pods.
    last_write: SimTime,
    /// The last check disagreed (an episode is open).
    mismatch: bool,
}

pub struct StatusCounts {
    quiet: SimDuration,
    sets: BTreeMap<ObjectKey, Watched>,
    /// Quiet points not yet checked: (last write + quiet, set).
    due: BTreeSet<(SimTime, ObjectKey)>,
    /// The earliest time in `due` (`None` when it is empty). `check_before` runs before
    /// every event and mostly finds nothing due: this answers that without a walk down
    /// the tree.
    next_due: Option<SimTime>,
}

impl StatusCounts {
    pub fn new(watch_delay: SimDuration) -> Self {
        StatusCounts {
            quiet: watch_delay.saturating_mul(2) + SimDuration::from_secs(1),
            sets: BTreeMap::new(),
            due: BTreeSet::new(),
            next_due: None,
        }
    }

    pub fn on_set_write(&mut self, at: SimTime, set: &StatefulSet, removed: bool) {
        let key = ObjectKey::of(&set.metadata);
        if removed {
            if let Some(w) = self.sets.remove(&key) {
                self.due.remove(&(w.last_write + self.quiet, key));
                self.next_due = self.due.first().map(|(t, _)| *t);
            }
            return;
        }
        self.touch(at, key);
    }

    /// A pod write counts for the set that owns the pod, or — for an orphan the controller
    /// may adopt — the set its name says it belongs to.
    pub fn on_pod_write(&mut self, at: SimTime, pod: &Pod, api: &ApiServer) {
        let ns = &pod.metadata.namespace;
        let set_name = match pod.metadata.controller_ref() {
            Some(owner) if owner.kind == "StatefulSet" => owner.name.as_str(),
            Some(_) => return,
            None => match parent_and_ordinal(&pod.metadata.name) {
                Some((parent, _)) => parent,
                None => return,
            },
        };
        let key = ObjectKey::new(ns, set_name);
        if self.sets.contains_key(&key) || api.objects().stateful_sets.contains_key(&key) {
            self.touch(at, key);
        }
    }

    fn touch(&mut self, at: SimTime, key: ObjectKey) {
        let quiet = self.quiet;
        let w = self.sets.entry(key.clone()).or_default();
        self.due.remove(&(w.last_write + quiet, key.clone()));
        w.last_write = at;
        self.due.insert((at + quiet, key));
        self.next_due = self.due.first().map(|(t, _)| *t);
    }

    /// Checks every set whose quiet point is before `t` (every instant before `t` has
    /// ended).
    pub fn check_before(&mut self, t: SimTime, api: &ApiServer, out: &mut Vec<Finding>) {
        if self.next_due.is_none_or(|due| due >= t) {
            return;
        }
        while let Some(first) = self.due.first() {
            if first.0 >= t {
                break;
            }
            let (at, key) = self.due.pop_first().expect("peeked");
            let Some(set) = api.objects().stateful_sets.get(&key) else {
                continue;
            };
            let w = self.sets.get_mut(&key).expect("a due set is watched");
            match disagreement(set, api) {
                None => w.mismatch = false,
                Some(_) if w.mismatch => {}
                Some(diff) => {
                    w.mismatch = true;
                    let quiet_since = w.last_write;
                    out.push(Finding::new(
                        at,
                        INVARIANT,
                        format!("{key} status {diff} (quiet since {quiet_since})"),
                    ));
                }
            }
        }
        self.next_due = self.due.first().map(|(t, _)| *t);
    }
}

/// The counts gives for `set`'s pods: replicas, ready, current, updated.
fn counts(set: &StatefulSet, api: &ApiServer) -> [i32; 4] {
    let mut c = [0; 4];
    let ns = &set.metadata.namespace;
    for pod in api.objects().list_in::<Pod>(ns) {
        let owned = pod
            .metadata
            .controller_ref()
            .is_some_and(|o| o.uid == set.metadata.uid);
        let member = parent_and_ordinal(&pod.metadata.name)
            .is_some_and(|(parent, _)| parent == set.metadata.name);
        if !owned || !member || pod.status.phase.is_empty() {
            continue;
        }
        c[0] += 1;
        if running_and_ready(pod) {
            c[1] += 1;
        }
        if pod.is_terminating() {
            continue;
        }
        let revision = pod.metadata.labels.get(REVISION_LABEL);
        if revision.is_some_and(|r| *r == set.status.current_revision) {
            c[2] += 1;
        }
        if revision.is_some_and(|r| *r == set.status.update_revision) {
            c[3] += 1;
        }
    }
    c
}

/// How `set`'s status differs from its pods, e.g. `readyReplicas=2 but 3 pods are
/// Running and Ready`, or `None` if it agrees.
fn disagreement(set: &StatefulSet, api: &ApiServer) -> Option<String> {
    let s = &set.status;
    let have = [
        s.replicas,
        s.ready_replicas,
        s.current_replicas,
        s.updated_replicas,
    ];
    let want = counts(set, api);
    const WHAT: [(&str, &str); 4] = [
        ("replicas", "pods exist"),
        ("readyReplicas", "pods are Running and Ready"),
        ("currentReplicas", "pods are at currentRevision"),
        ("updatedReplicas", "pods are at updateRevision"),
    ];
    let parts: Vec<String> = (0..4)
        .filter(|&i| have[i] != want[i])
        .map(|i| format!("{}={} but {} {}", WHAT[i].0, have[i], want[i], WHAT[i].1))
        .collect();
    (!parts.is_empty()).then(|| parts.join(", "))
}

#[cfg(test)]
mod tests {
    use super::super::testkit::*;

    #[test]
    fn a_status_that_agrees_once_quiet_is_fine_and_the_one_pass_lag_is_not_flagged() {
        let mut w = Cluster::new();
        w.create_set(web_set(OrderedReady, 1));
        w.create_member_pod("web", 0, "www-web-0");
        w.mark_running_ready("web-0");
        // The status lags for a moment (well within the quiet window): not judged.
        w.advance(ms(500));
        w.set_status("web", [1, 1, 1, 1]);
        w.advance(secs(5));
        assert_eq!(w.findings(super::INVARIANT), Vec::<String>::new());
        w.finish();
        assert_eq!(w.findings(super::INVARIANT), Vec::<String>::new());
    }

    #[test]
    fn a_quiet_point_is_judged_as_its_instant_ends_whatever_events_follow() {
        // The quiet point passes with no event at all; the first event after it writes the
        // set (and fixes the status). The check was due before that write: judged on the
        // state the quiet point saw, and not cancelled by the write.
        let mut w = Cluster::new();
        w.create_set(web_set(OrderedReady, 2));
        w.create_member_pod("web", 0, "www-web-0");
        w.mark_running_ready("web-0");
        w.set_status("web", [1, 0, 1, 1]);
        w.now = w.now + secs(30);
        w.set_status("web", [1, 1, 1, 1]);
        w.finish();
        assert_eq!(w.findings(super::INVARIANT).len(), 1);
    }

    #[test]
    fn a_quiet_set_whose_status_disagrees_is_one_finding() {
        let mut w = Cluster::new();
        w.create_set(web_set(OrderedReady, 2));
        w.create_member_pod("web", 0, "www-web-0");
        w.mark_running_ready("web-0");
        w.set_status("web", [1, 0, 1, 1]);
        w.advance(secs(5));
        assert_eq!(
            w.findings(super::INVARIANT),
            [
                "status-mismatch: default/web status readyReplicas=0 but 1 pods are Running and \
                 Ready (quiet since +00:00:00.000)"
            ]
        );
        // The same disagreement at the next quiet point is the same episode.
        w.advance(secs(1));
        w.touch_set("web");
        w.advance(secs(5));
        w.finish();
        assert_eq!(w.findings(super::INVARIANT).len(), 1);
    }

    #[test]
    fn a_set_written_just_before_the_end_is_not_judged() {
        let mut w = Cluster::new();
        w.create_set(web_set(OrderedReady, 1));
        w.create_member_pod("web", 0, "www-web-0");
        w.advance(ms(100));
        w.finish();
        assert_eq!(w.findings(super::INVARIANT), Vec::<String>::new());
    }
}
