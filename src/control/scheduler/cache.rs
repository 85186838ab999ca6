//! The scheduler cache (`pkg/scheduler/backend/cache`): per node, the Node object and the
//! pods that occupy it, with their requests summed. It is fed by the informer's assigned
//! pods (terminal pods excluded, as the scheduler's pod informer selects them away) and by
//! "assumed" pods — pods this scheduler has bound but whose binding its informer has not
//! delivered yet — so that back-to-back cycles do not place two pods into the same space.

use super::resources::{PodResource, Resource};
use crate::api::{Node, Pod};
use std::collections::BTreeMap;
use std::rc::Rc;

/// `framework.NodeInfo`.
#[derive(Clone, Debug, Default)]
pub struct NodeInfo {
    pub name: String,
    /// `None` for a node that is gone but still has pods in the cache (upstream keeps such
    /// a "ghost" entry until its pods are removed); ghosts are not schedulable.
    node: Option<Rc<Node>>,
    /// Pods on the node by uid, assumed ones included.
    pub pods: BTreeMap<String, Rc<Pod>>,
    /// Sum of the pods' requests.
    pub requested: Resource,
    /// Sum of the pods' requests with the non-zero CPU and memory defaults (scoring only).
    pub non_zero_requested: Resource,
    /// `status.allocatable` of the node.
    pub allocatable: Resource,
    /// How many of `pods` have pod affinity or anti-affinity (upstream keeps the list,
    /// `PodsWithAffinity`): InterPodAffinity's Score passes over nodes without any.
    pub pods_with_affinity: usize,
    /// How many of `pods` have required anti-affinity (`PodsWithRequiredAntiAffinity`):
    /// InterPodAffinity's PreFilter passes over nodes without any.
    pub pods_with_required_anti_affinity: usize,
    /// The sum over `pods` of their claims (`Pod::claim_names`): NodeVolumeLimits' cheap
    /// bound, kept as pods come and go instead of counted in every Filter call.
    pub pod_claims: usize,
    /// `Generation`: a number the cache gives the NodeInfo at each change, never given
    /// twice by one cache (0 for a NodeInfo not from a cache), so that a plugin may keep
    /// what it computed from a node while the number stays the same.
    pub generation: u64,
}

impl NodeInfo {
    /// A node on its own, with no pods (for queueing hints and tests).
    pub fn of_node(node: Rc<Node>) -> NodeInfo {
        let mut info = NodeInfo {
            name: node.metadata.name.clone(),
            ..Default::default()
        };
        info.set_node(node);
        info
    }

    /// The Node. Only nodes that have one are handed to plugins.
    pub fn node(&self) -> &Node {
        self.node
            .as_deref()
            .expect("plugins only see NodeInfos of nodes that exist")
    }

    /// The Node, shared (a plugin may keep what it read from it while it is the same).
    pub fn node_rc(&self) -> &Rc<Node> {
        self.node
            .as_ref()
            .expect("plugins only see NodeInfos of nodes that exist")
    }

    pub fn has_node(&self) -> bool {
        self.node.is_some()
    }

    // `NodeInfo.SetNode`: the node and its allocatable resources.
    fn set_node(&mut self, node: Rc<Node>) {
        // A kubelet's status post every 5 minutes changes the conditions' heartbeat times
        // and leaves allocatable as it was: parsing it again would give the same figures.
        let same_allocatable = self
            .node
            .as_ref()
            .is_some_and(|old| old.status.allocatable == node.status.allocatable);
        if !same_allocatable {
            self.allocatable = Resource::from_list(&node.status.allocatable);
        }
        self.node = Some(node);
    }

    /// `NodeInfo.AddPod`.
    pub fn add_pod(&mut self, pod: Rc<Pod>) {
        let res = PodResource::of(&pod);
        self.requested.add(&res.requested);
        self.non_zero_requested.milli_cpu += res.non0_cpu;
        self.non_zero_requested.memory += res.non0_mem;
        self.count_pod(&pod, 1);
        if let Some(old) = self.pods.insert(pod.metadata.uid.clone(), pod) {
            // Not expected (the cache removes a pod before adding it again), but the
            // counts must describe `pods` whatever happens.
            self.count_pod(&old, -1);
        }
    }

    /// Adds (`sign` 1) or takes away (-1) `pod` in the kept per-pod counts.
    fn count_pod(&mut self, pod: &Pod, sign: isize) {
        let add = |n: &mut usize, yes: bool| {
            if yes {
                *n = n.checked_add_signed(sign).expect("counts stay in range");
            }
        };
        add(&mut self.pods_with_affinity, pod_with_affinity(pod));
        add(
            &mut self.pods_with_required_anti_affinity,
            pod_with_required_anti_affinity(pod),
        );
        let claims = pod.claim_names().count();
        self.pod_claims = self
            .pod_claims
            .checked_add_signed(sign * claims as isize)
            .expect("counts stay in range");
    }

    /// `NodeInfo.RemovePod`.
    pub fn remove_pod(&mut self, uid: &str) {
        if let Some(pod) = self.pods.remove(uid) {
            let res = PodResource::of(&pod);
            self.requested.sub(&res.requested);
            self.non_zero_requested.milli_cpu -= res.non0_cpu;
            self.non_zero_requested.memory -= res.non0_mem;
            self.count_pod(&pod, -1);
        }
    }
}

/// `podWithAffinity`: the pod has pod affinity or pod anti-affinity.
pub fn pod_with_affinity(pod: &Pod) -> bool {
    pod.spec
        .affinity
        .as_ref()
        .is_some_and(|a| a.pod_affinity.is_some() || a.pod_anti_affinity.is_some())
}

/// `podWithRequiredAntiAffinity`: the pod has required pod anti-affinity terms.
pub fn pod_with_required_anti_affinity(pod: &Pod) -> bool {
    pod.spec
        .affinity
        .as_ref()
        .and_then(|a| a.pod_anti_affinity.as_ref())
        .is_some_and(|a| {
            !a.required_during_scheduling_ignored_during_execution
                .is_empty()
        })
}

/// Whether `new` adds to a node exactly what `old` does: the same node, the same
/// requests (`PodResource::of` reads only the containers' and init containers' requests
/// and restart policies) and the same kept counts (affinity, claims).
fn same_footprint(old: &Pod, new: &Pod) -> bool {
    let same_containers = |a: &[crate::api::pod::Container], b: &[crate::api::pod::Container]| {
        a.len() == b.len()
            && a.iter().zip(b).all(|(x, y)| {
                x.resources.requests == y.resources.requests && x.restart_policy == y.restart_policy
            })
    };
    old.spec.node_name == new.spec.node_name
        && same_containers(&old.spec.containers, &new.spec.containers)
        && same_containers(&old.spec.init_containers, &new.spec.init_containers)
        && pod_with_affinity(old) == pod_with_affinity(new)
        && pod_with_required_anti_affinity(old) == pod_with_required_anti_affinity(new)
        && old.claim_names().count() == new.claim_names().count()
}

struct PodState {
    pod: Rc<Pod>,
    /// Bound by this scheduler, not yet confirmed by the informer.
    assumed: bool,
}

/// `cacheImpl`, keyed by node name and pod uid. NodeInfos are shared copy-on-write, so a
/// cycle's snapshot ([`Cache::shared_snapshot`]) costs one `Rc` per node, as upstream's
/// generation-based `UpdateSnapshot` copies only what changed.
#[derive(Default)]
pub struct Cache {
    nodes: BTreeMap<String, Rc<NodeInfo>>,
    pods: BTreeMap<String, PodState>,
    /// The last [`NodeInfo::generation`] given (upstream's `nextGeneration` counter).
    generation: u64,
}

impl Cache {
    /// Changes the NodeInfo of `name` (made if missing) with `change`; it gets a new
    /// generation. One search of the map for a node already there (every update but the
    /// first); the name is copied only for a node new to the cache.
    fn change_node_info<R>(&mut self, name: &str, change: impl FnOnce(&mut NodeInfo) -> R) -> R {
        self.generation += 1;
        let generation = self.generation;
        if let Some(info) = self.nodes.get_mut(name) {
            let info = Rc::make_mut(info);
            info.generation = generation;
            return change(info);
        }
        let mut info = NodeInfo {
            name: name.to_string(),
            generation,
            ..Default::default()
        };
        let out = change(&mut info);
        self.nodes.insert(name.to_string(), Rc::new(info));
        out
    }

    /// `AddNode` / `UpdateNode`.
    pub fn set_node(&mut self, node: &Rc<Node>) {
        self.change_node_info(&node.metadata.name, |info| info.set_node(Rc::clone(node)));
    }

    /// `RemoveNode`: the entry stays as a ghost while pods still point at it.
    pub fn remove_node(&mut self, name: &str) {
        if let Some(info) = self.nodes.get_mut(name) {
            if info.pods.is_empty() {
                self.nodes.remove(name);
            } else {
                let info = Rc::make_mut(info);
                info.node = None;
                info.allocatable = Resource::default();
                self.generation += 1;
                info.generation = self.generation;
            }
        }
    }

    fn add_to_node(&mut self, pod: Rc<Pod>) {
        // The name is read through a second handle while `pod` moves into the NodeInfo.
        let named = Rc::clone(&pod);
        self.change_node_info(&named.spec.node_name, |info| info.add_pod(pod));
    }

    fn remove_from_node(&mut self, pod: &Pod) {
        let name = &pod.spec.node_name;
        if let Some(info) = self.nodes.get_mut(name) {
            let info = Rc::make_mut(info);
            info.remove_pod(&pod.metadata.uid);
            self.generation += 1;
            info.generation = self.generation;
            if info.pods.is_empty() && info.node.is_none() {
                self.nodes.remove(name);
            }
        }
    }

    /// `AddPod`: an assigned pod seen by the informer. If this scheduler assumed it, the
    /// informer's copy confirms (and replaces) the assumed one.
    pub fn add_pod(&mut self, pod: &Rc<Pod>) {
        if let Some(state) = self.pods.get_mut(pod.metadata.uid.as_str())
            && same_footprint(&state.pod, pod)
            && let Some(info) = self.nodes.get_mut(pod.spec.node_name.as_str())
        {
            // The pod weighs on its node as the copy it replaces did (a status write, a
            // binding confirmed): taking the old copy's requests and counts away and the
            // new one's in leaves every sum as it is, so only the copy is swapped. The
            // node still gets a new generation, as upstream's remove and add give it.
            let info = Rc::make_mut(info);
            if let Some(slot) = info.pods.get_mut(pod.metadata.uid.as_str()) {
                *slot = Rc::clone(pod);
                self.generation += 1;
                info.generation = self.generation;
                state.pod = Rc::clone(pod);
                state.assumed = false;
                return;
            }
        }
        if let Some(old) = self.pods.remove(&pod.metadata.uid) {
            self.remove_from_node(&old.pod);
        }
        self.add_to_node(Rc::clone(pod));
        self.pods.insert(
            pod.metadata.uid.clone(),
            PodState {
                pod: Rc::clone(pod),
                assumed: false,
            },
        );
    }

    /// `UpdatePod`.
    pub fn update_pod(&mut self, old: &Pod, new: &Rc<Pod>) {
        if old.metadata.uid != new.metadata.uid {
            self.remove_pod(old);
        }
        self.add_pod(new);
    }

    /// `RemovePod`.
    pub fn remove_pod(&mut self, pod: &Pod) {
        if let Some(state) = self.pods.remove(&pod.metadata.uid) {
            self.remove_from_node(&state.pod);
        }
    }

    /// `AssumePod`: `pod` already carries the chosen `spec.nodeName`.
    pub fn assume_pod(&mut self, pod: Rc<Pod>) {
        self.add_to_node(Rc::clone(&pod));
        self.pods
            .insert(pod.metadata.uid.clone(), PodState { pod, assumed: true });
    }

    /// `ForgetPod`: the binding failed, the space is free again.
    pub fn forget_pod(&mut self, pod: &Pod) {
        if self.pods.get(&pod.metadata.uid).is_some_and(|s| s.assumed) {
            self.remove_pod(pod);
        }
    }

    pub fn is_assumed(&self, uid: &str) -> bool {
        self.pods.get(uid).is_some_and(|s| s.assumed)
    }

    /// `UpdateSnapshot` + `NodeInfos().List()`: the nodes that exist, in name order.
    pub fn snapshot(&self) -> Vec<&NodeInfo> {
        self.nodes
            .values()
            .filter(|n| n.has_node())
            .map(|n| &**n)
            .collect()
    }

    /// The same nodes, shared, for plugins that look at every node ([`ClusterView`]).
    ///
    /// [`ClusterView`]: super::framework::ClusterView
    pub fn shared_snapshot(&self) -> Vec<Rc<NodeInfo>> {
        let mut out = Vec::with_capacity(self.nodes.len());
        out.extend(self.nodes.values().filter(|n| n.has_node()).map(Rc::clone));
        out
    }

    pub fn get(&self, node: &str) -> Option<&NodeInfo> {
        self.nodes.get(node).map(|n| &**n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::control::scheduler::resources::tests::container;

    fn pod(uid: &str, node: &str, cpu: &str) -> Rc<Pod> {
        let mut p = Pod::default();
        p.metadata.uid = uid.into();
        p.metadata.name = uid.into();
        p.spec.node_name = node.into();
        p.spec.containers = vec![container("c", &[("cpu", cpu)])];
        Rc::new(p)
    }

    #[test]
    fn assumed_pods_count_until_confirmed_or_forgotten() {
        let mut cache = Cache::default();
        let mut n = Node::default();
        n.metadata.name = "n1".into();
        cache.set_node(&Rc::new(n));
        cache.add_pod(&pod("a", "n1", "1"));
        let b = pod("b", "n1", "500m");
        cache.assume_pod(Rc::clone(&b));
        assert!(cache.is_assumed("b"));
        assert_eq!(cache.get("n1").unwrap().requested.milli_cpu, 1500);
        // The informer delivers the binding: counted once, no longer assumed.
        cache.add_pod(&b);
        assert!(!cache.is_assumed("b"));
        assert_eq!(cache.get("n1").unwrap().requested.milli_cpu, 1500);
        assert_eq!(cache.get("n1").unwrap().pods.len(), 2);
        // A forgotten assumption frees the space; a confirmed pod is not forgotten.
        let c = pod("c", "n1", "250m");
        cache.assume_pod(Rc::clone(&c));
        cache.forget_pod(&c);
        cache.forget_pod(&b);
        assert_eq!(cache.get("n1").unwrap().requested.milli_cpu, 1500);
        cache.remove_pod(&b);
        assert_eq!(cache.get("n1").unwrap().requested.milli_cpu, 1000);
    }

    #[test]
    fn removed_nodes_with_pods_stay_as_ghosts_outside_the_snapshot() {
        let mut cache = Cache::default();
        let mut n = Node::default();
        n.metadata.name = "n1".into();
        cache.set_node(&Rc::new(n));
        let a = pod("a", "n1", "1");
        cache.add_pod(&a);
        cache.remove_node("n1");
        assert!(cache.snapshot().is_empty());
        assert!(cache.get("n1").is_some());
        cache.remove_pod(&a);
        assert!(cache.get("n1").is_none());
    }

    /// The per-pod counts a NodeInfo keeps always equal a count over its pods, as pods
    /// with and without (anti-)affinity and claims are added, confirmed, updated, moved,
    /// forgotten and removed.
    #[test]
    fn kept_pod_counts_equal_a_fresh_count() {
        use crate::api::pod::{PersistentVolumeClaimVolumeSource, Volume};
        use crate::api::scheduling::{Affinity, PodAffinity, PodAffinityTerm};
        let mut cache = Cache::default();
        for name in ["n1", "n2"] {
            let mut n = Node::default();
            n.metadata.name = name.into();
            cache.set_node(&Rc::new(n));
        }
        let made = |step: usize, node: &str| {
            let cpu = if step.is_multiple_of(5) {
                "250m"
            } else {
                "100m"
            };
            let mut p = (*pod(&format!("p{}", step % 7), node, cpu)).clone();
            let term = PodAffinityTerm::default();
            let terms = PodAffinity {
                required_during_scheduling_ignored_during_execution: vec![term],
                ..Default::default()
            };
            p.spec.affinity = match step % 4 {
                0 => None,
                1 => Some(Affinity {
                    pod_anti_affinity: Some(terms),
                    ..Default::default()
                }),
                2 => Some(Affinity {
                    pod_affinity: Some(PodAffinity::default()),
                    ..Default::default()
                }),
                _ => Some(Affinity::default()),
            };
            for c in 0..step % 3 {
                p.spec.volumes.push(Volume {
                    name: format!("v{c}"),
                    persistent_volume_claim: Some(PersistentVolumeClaimVolumeSource {
                        claim_name: format!("c{c}"),
                        ..Default::default()
                    }),
                    ..Default::default()
                });
            }
            Rc::new(p)
        };
        let mut last: BTreeMap<String, Rc<Pod>> = BTreeMap::new();
        for step in 0..40usize {
            let node = if step % 5 < 3 { "n1" } else { "n2" };
            let mut p = made(step, node);
            let uid = p.metadata.uid.clone();
            if step % 6 == 5
                && let Some(old) = last.get(&uid)
            {
                // A status write: the same footprint, so the copy is swapped in place.
                let mut status = (**old).clone();
                status.status.phase = format!("phase-{step}");
                p = Rc::new(status);
            }
            match step % 6 {
                0 | 1 | 5 => match last.get(&uid) {
                    Some(old) => cache.update_pod(&Rc::clone(old), &p),
                    None => cache.add_pod(&p),
                },
                2 => {
                    if !last.contains_key(&uid) {
                        cache.assume_pod(Rc::clone(&p));
                    }
                }
                3 => {
                    if let Some(old) = last.remove(&uid) {
                        cache.forget_pod(&old);
                        cache.remove_pod(&old);
                    }
                    continue;
                }
                _ => cache.add_pod(&p),
            }
            last.insert(uid, p);
            for name in ["n1", "n2"] {
                let Some(info) = cache.get(name) else {
                    continue;
                };
                let pods = || info.pods.values();
                assert_eq!(
                    info.pods_with_affinity,
                    pods().filter(|p| pod_with_affinity(p)).count(),
                    "step {step}"
                );
                assert_eq!(
                    info.pods_with_required_anti_affinity,
                    pods()
                        .filter(|p| pod_with_required_anti_affinity(p))
                        .count(),
                    "step {step}"
                );
                assert_eq!(
                    info.pod_claims,
                    pods().map(|p| p.claim_names().count()).sum::<usize>(),
                    "step {step}"
                );
                let mut fresh = (0, 0, 0);
                for p in pods() {
                    let r = PodResource::of(p);
                    fresh.0 += r.requested.milli_cpu;
                    fresh.1 += r.non0_cpu;
                    fresh.2 += r.non0_mem;
                }
                let kept = (
                    info.requested.milli_cpu,
                    info.non_zero_requested.milli_cpu,
                    info.non_zero_requested.memory,
                );
                assert_eq!(kept, fresh, "step {step}");
                // The cache's copy of each pod is the node's.
                for (uid, p) in &info.pods {
                    assert!(Rc::ptr_eq(&cache.pods[uid].pod, p), "step {step}");
                }
            }
        }
    }
}
