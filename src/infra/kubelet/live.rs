//! What the node runtimes are running, for the invariant checks: which pod instances
//! (uids) have a live container process on which node, and a log of the changes since the
//! engine last drained it. Read-only for everyone but the kubelets, plus one test hook
//! ([`NodeAgents::fail_container`]).
//!
//! A container is live from `StartContainer` returning until its process has exited,
//! including the time it takes to stop after SIGTERM: that is when it can serve and write
//! its volumes. A container being created is not live yet. A pod instance is live while
//! any of its containers is. The kubelet keeps running a force-deleted pod's containers
//! until they stop, so a force delete can leave two live instances of one pod name — the
//! hazard the force-delete docs warn about, which the checks must see.

use super::container::RuntimeState;
use super::node_kubelet::Kubelet;
use super::pod_worker::{PodWorker, Stage};
use super::{KCtx, NodeAgents};
use crate::api::ObjectKey;

/// One live pod instance.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LiveInstance<'a> {
    pub node: &'a str,
    pub pod: &'a ObjectKey,
    pub uid: &'a str,
}

/// A pod instance became live (its first container process started) or stopped being
/// live (its last container process exited).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LiveChange {
    pub node: String,
    pub pod: ObjectKey,
    pub uid: String,
    pub live: bool,
}

impl PodWorker {
    /// Some container of this pod instance has a process on the node.
    pub fn is_live(&self) -> bool {
        self.containers.iter().any(|c| c.running().is_some())
    }
}

impl Kubelet {
    fn is_live(&self, uid: &str) -> bool {
        self.pods.get(uid).is_some_and(PodWorker::is_live)
    }
}

impl NodeAgents {
    /// Every live pod instance, by node (in node order), then uid.
    pub fn running_pods(&self) -> impl Iterator<Item = LiveInstance<'_>> {
        self.live.iter().enumerate().flat_map(move |(i, pods)| {
            let node = self.kubelets[i].env.spec.name.as_str();
            pods.iter().map(move |(uid, pod)| LiveInstance {
                node,
                pod,
                uid: uid.as_str(),
            })
        })
    }

    /// Whether a container process started or ended since the last drain.
    pub fn has_live_changes(&self) -> bool {
        !self.live_changes.is_empty()
    }

    /// The liveness changes since the last call, in the order they happened.
    pub fn drain_live_changes(&mut self) -> std::vec::Drain<'_, LiveChange> {
        self.live_changes.drain(..)
    }

    /// Test hook: the first running container of pod `key` crashes now — its process
    /// exits with code 1, as a crashing process does — and its kubelet restarts it under
    /// the crash-loop back-off (restart policy `Always`), exactly as for a `crashLoop`
    /// image. Returns false if no kubelet runs a container of that pod.
    pub fn fail_container(&mut self, key: &ObjectKey, ctx: &mut KCtx<'_>) -> bool {
        for (node, k) in self.kubelets.iter_mut().enumerate() {
            let Some(w) = k
                .pods
                .values_mut()
                .find(|w| &w.key == key && w.stage == Stage::Running)
            else {
                continue;
            };
            let running = w
                .containers
                .iter()
                .position(|c| matches!(c.state, RuntimeState::Running { .. }));
            let Some(idx) = running else {
                return false;
            };
            let (uid, token) = (w.uid.clone(), w.containers[idx].token);
            w.on_exited(idx, token, &mut k.env, ctx);
            self.sync_liveness(node as u32, &uid);
            return true;
        }
        false
    }

    /// Records a change of pod instance `uid`'s liveness on `node` after its kubelet
    /// handled something.
    pub(super) fn sync_liveness(&mut self, node: u32, uid: &str) {
        let i = node as usize;
        let live = self.kubelets[i].is_live(uid);
        if live == self.live[i].contains_key(uid) {
            return;
        }
        let pod = if live {
            let key = self.kubelets[i].pods[uid].key.clone();
            self.live[i].insert(uid.to_string(), key.clone());
            key
        } else {
            self.live[i].remove(uid).expect("it was live")
        };
        self.live_changes.push(LiveChange {
            node: self.kubelets[i].env.spec.name.clone(),
            pod,
            uid: uid.to_string(),
            live,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::super::testkit::*;
    use super::LiveChange;
    use crate::api::ObjectKey;
    use crate::scenario::ImageBehavior;

    fn changes(w: &mut World) -> Vec<(String, bool)> {
        w.agents
            .drain_live_changes()
            .map(|c: LiveChange| (c.node, c.live))
            .collect()
    }

    #[test]
    fn a_force_deleted_pod_stays_live_until_its_container_stops() {
        let images = vec![image("db:1", secs(1), ImageBehavior::Healthy, secs(60))];
        let mut w = World::new(&["node-a", "node-b"], images, fixed_timing());
        w.create_pod(pod("web-0", "node-a", vec![container("db", "db:1")]));
        w.run_for(secs(1));
        assert_eq!(w.agents.running_pods().count(), 0, "still pulling");
        w.run_for(secs(5));
        assert_eq!(changes(&mut w), [("node-a".to_string(), true)]);
        let old_uid = w.pod("web-0").unwrap().metadata.uid.clone();

        // Force delete; the replacement goes to node-b. The pod's 30 s grace period ends
        // the old container (which would take 60 s) with SIGKILL.
        w.delete_pod("web-0", Some(0));
        w.create_pod(pod("web-0", "node-b", vec![container("db", "db:1")]));
        w.run_for(secs(5));
        let running: Vec<_> = w
            .agents
            .running_pods()
            .map(|l| (l.node.to_string(), l.pod.clone(), l.uid.to_string()))
            .collect();
        let key = ObjectKey::new("default", "web-0");
        let new_uid = w.pod("web-0").unwrap().metadata.uid.clone();
        assert_eq!(
            running,
            [
                ("node-a".to_string(), key.clone(), old_uid),
                ("node-b".to_string(), key, new_uid),
            ]
        );
        assert_eq!(changes(&mut w), [("node-b".to_string(), true)]);
        w.run_for(secs(30));
        assert_eq!(changes(&mut w), [("node-a".to_string(), false)]);
        assert_eq!(w.agents.running_pods().count(), 1);
    }

    #[test]
    fn fail_container_crashes_the_process_and_the_kubelet_restarts_it() {
        let mut w = World::new(&["node-a"], vec![], fixed_timing());
        w.create_pod(pod("web-0", "node-a", vec![container("db", "db:1")]));
        w.run_for(secs(5));
        let key = ObjectKey::new("default", "web-0");
        assert!(w.fail(&key));
        assert_eq!(
            changes(&mut w),
            [("node-a".to_string(), true), ("node-a".to_string(), false)]
        );
        // The first restart is immediate (the back-off starts with it), plus the start.
        w.run_for(secs(2));
        assert_eq!(changes(&mut w), [("node-a".to_string(), true)]);
        let p = w.pod("web-0").unwrap();
        assert_eq!(p.status.container_statuses[0].restart_count, 1);
        assert!(!w.fail(&ObjectKey::new("default", "nope")));
    }
}
