//! `two-live-instances`: at most one live instance of a pod identity (`namespace/name`, any
//! uid) at any time — the StatefulSet "at most one" guarantee, which a force delete can
//! break: the API object is gone at once, the controller creates the replacement,
//! and the old node's kubelet is still stopping the old containers.
//!
//! Fed by the kubelets' liveness change log, so it costs nothing while no container starts
//! or stops. Two instances on two nodes is the required case. Two instances on *one* node
//! (different uids) is flagged too: upstream's kubelet does not prevent it — its pod
//! workers are keyed by uid, and `podWorkers.allowPodStart` serialises same-name pods only
//! for static pods ("TODO: Do we want to allow non-static pods with the same full name?
//! Note that it may disable the force deletion of pods.") — so after a force delete the
//! replacement may start beside the old one, sharing its ReadWriteOnce volume on that node.
//! One finding per episode: from the moment a second instance goes live until at most one
//! is left.

use super::Finding;
use crate::api::ObjectKey;
use crate::infra::kubelet::LiveChange;
use crate::time::SimTime;
use std::collections::{BTreeMap, BTreeSet};

pub const INVARIANT: &str = "two-live-instances";

#[derive(Default)]
pub struct LiveInstances {
    /// Live instances per identity: (node, uid), in the order they went live.
    live: BTreeMap<ObjectKey, Vec<(String, String)>>,
    /// Identities with an open episode (already reported).
    open: BTreeSet<ObjectKey>,
}

impl LiveInstances {
    pub fn on_change(&mut self, now: SimTime, c: LiveChange, out: &mut Vec<Finding>) {
        if c.live {
            let instances = self.live.entry(c.pod.clone()).or_default();
            instances.push((c.node, c.uid));
            if instances.len() >= 2 && self.open.insert(c.pod.clone()) {
                let (a, b) = (&instances[0], &instances[1]);
                let message = if a.0 == b.0 {
                    format!(
                        "{} runs twice on {} (uid {} and uid {}) at once",
                        c.pod, a.0, a.1, b.1
                    )
                } else {
                    format!(
                        "{} runs on {} (uid {}) and {} (uid {}) at once",
                        c.pod, a.0, a.1, b.0, b.1
                    )
                };
                out.push(Finding::new(now, INVARIANT, message));
            }
            return;
        }
        let Some(instances) = self.live.get_mut(&c.pod) else {
            return;
        };
        instances.retain(|(node, uid)| !(*node == c.node && *uid == c.uid));
        if instances.len() <= 1 {
            self.open.remove(&c.pod);
        }
        if instances.is_empty() {
            self.live.remove(&c.pod);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::SimDuration;

    fn change(node: &str, uid: &str, live: bool) -> LiveChange {
        LiveChange {
            node: node.into(),
            pod: ObjectKey::new("default", "web-1"),
            uid: uid.into(),
            live,
        }
    }

    fn at(s: u64) -> SimTime {
        SimTime::ZERO + SimDuration::from_secs(s)
    }

    #[test]
    fn a_replacement_after_the_old_instance_stopped_is_fine() {
        let mut c = LiveInstances::default();
        let mut out = Vec::new();
        c.on_change(at(1), change("worker-a-1", "u1", true), &mut out);
        c.on_change(at(2), change("worker-a-1", "u1", false), &mut out);
        c.on_change(at(3), change("worker-b-1", "u2", true), &mut out);
        assert!(out.is_empty(), "{out:?}");
    }

    #[test]
    fn two_nodes_at_once_is_one_finding_per_episode() {
        let mut c = LiveInstances::default();
        let mut out = Vec::new();
        c.on_change(at(1), change("worker-a-1", "u1", true), &mut out);
        c.on_change(at(2), change("worker-b-1", "u2", true), &mut out);
        // A third instance in the same episode is not reported again.
        c.on_change(at(3), change("worker-c-1", "u3", true), &mut out);
        c.on_change(at(4), change("worker-a-1", "u1", false), &mut out);
        assert_eq!(out.len(), 1, "{out:?}");
        assert_eq!(out[0].invariant, "two-live-instances");
        assert_eq!(out[0].t_us, 2_000_000);
        assert_eq!(
            out[0].message,
            "default/web-1 runs on worker-a-1 (uid u1) and worker-b-1 (uid u2) at once"
        );
        // Down to one, then a second again: a new episode.
        c.on_change(at(5), change("worker-c-1", "u3", false), &mut out);
        c.on_change(at(6), change("worker-a-1", "u4", true), &mut out);
        assert_eq!(out.len(), 2, "{out:?}");
        assert_eq!(out[1].t_us, 6_000_000);
    }

    #[test]
    fn two_uids_on_one_node_are_flagged_too() {
        let mut c = LiveInstances::default();
        let mut out = Vec::new();
        c.on_change(at(1), change("worker-a-1", "u1", true), &mut out);
        c.on_change(at(2), change("worker-a-1", "u2", true), &mut out);
        assert_eq!(
            out.iter().map(|f| f.message.as_str()).collect::<Vec<_>>(),
            ["default/web-1 runs twice on worker-a-1 (uid u1 and uid u2) at once"]
        );
    }
}
