//! Compute resources as the scheduler counts them: `framework.Resource` (requests summed per
//! dimension) and the pod request helpers of `k8s.io/component-helpers/resource`
//! (`PodRequests`: containers summed, init containers taken at their peak, sidecars added).

use crate::api::pod::Container;
use crate::api::{Pod, Quantity};
use std::collections::BTreeMap;

/// `schedutil.DefaultMilliCPURequest`: the CPU a container without a CPU request is scored
/// as using, so that many request-less pods are not all piled onto one node.
pub const DEFAULT_MILLI_CPU_REQUEST: i64 = 100;
/// `schedutil.DefaultMemoryRequest` (200 MiB), the memory counterpart.
pub const DEFAULT_MEMORY_REQUEST: i64 = 200 * 1024 * 1024;

/// `framework.Resource`: CPU in millicores, memory and ephemeral storage in bytes, the
/// allowed pod count, and scalar (extended, hugepages) resources in whole units.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Resource {
    pub milli_cpu: i64,
    pub memory: i64,
    pub ephemeral_storage: i64,
    pub allowed_pod_number: i64,
    pub scalar: BTreeMap<String, i64>,
}

fn clamp(v: i128) -> i64 {
    i64::try_from(v).unwrap_or(if v < 0 { i64::MIN } else { i64::MAX })
}

/// `schedutil.IsScalarResourceName`: extended resources (`example.com/foo`), prefixed
/// native ones (`*kubernetes.io/*`), hugepages and attachable volumes. Plain names such as
/// `storage` are not scalar and are ignored, as upstream ignores them.
pub fn is_scalar_resource_name(name: &str) -> bool {
    if name.starts_with("requests.") {
        return false;
    }
    name.contains('/') || name.starts_with("hugepages-") || name.starts_with("attachable-volumes-")
}

impl Resource {
    /// `framework.NewResource`: a resource list (requests or allocatable) as a `Resource`.
    pub fn from_list(list: &BTreeMap<String, Quantity>) -> Resource {
        let mut r = Resource::default();
        r.add_list(list);
        r
    }

    /// `Resource.Add(ResourceList)`.
    pub fn add_list(&mut self, list: &BTreeMap<String, Quantity>) {
        for (name, q) in list {
            match name.as_str() {
                "cpu" => self.milli_cpu += clamp(q.milli()),
                "memory" => self.memory += clamp(q.units()),
                "pods" => self.allowed_pod_number += clamp(q.units()),
                "ephemeral-storage" => self.ephemeral_storage += clamp(q.units()),
                n if is_scalar_resource_name(n) => {
                    *self.scalar.entry(n.to_string()).or_default() += clamp(q.units());
                }
                _ => {}
            }
        }
    }

    pub fn add(&mut self, other: &Resource) {
        self.milli_cpu += other.milli_cpu;
        self.memory += other.memory;
        self.ephemeral_storage += other.ephemeral_storage;
        self.allowed_pod_number += other.allowed_pod_number;
        for (k, v) in &other.scalar {
            *self.scalar.entry(k.clone()).or_default() += v;
        }
    }

    pub fn sub(&mut self, other: &Resource) {
        self.milli_cpu -= other.milli_cpu;
        self.memory -= other.memory;
        self.ephemeral_storage -= other.ephemeral_storage;
        self.allowed_pod_number -= other.allowed_pod_number;
        for (k, v) in &other.scalar {
            *self.scalar.entry(k.clone()).or_default() -= v;
        }
    }

    /// `maxResourceList`: the larger value in every dimension.
    pub fn set_max(&mut self, other: &Resource) {
        self.milli_cpu = self.milli_cpu.max(other.milli_cpu);
        self.memory = self.memory.max(other.memory);
        self.ephemeral_storage = self.ephemeral_storage.max(other.ephemeral_storage);
        self.allowed_pod_number = self.allowed_pod_number.max(other.allowed_pod_number);
        for (k, v) in &other.scalar {
            let e = self.scalar.entry(k.clone()).or_default();
            *e = (*e).max(*v);
        }
    }

    /// Whether nothing is requested (a BestEffort pod as far as the scheduler cares).
    pub fn is_zero(&self) -> bool {
        self.milli_cpu == 0
            && self.memory == 0
            && self.ephemeral_storage == 0
            && self.scalar.values().all(|v| *v == 0)
    }
}

/// Defaults applied to containers that do not request CPU or memory
/// (`PodResourcesOptions.NonMissingContainerRequests`).
#[derive(Clone, Copy, Debug, Default)]
pub struct NonMissing {
    pub milli_cpu: Option<i64>,
    pub memory: Option<i64>,
}

impl NonMissing {
    /// Both defaults, as the resource scorers apply them to the pod being scheduled.
    pub const DEFAULTS: NonMissing = NonMissing {
        milli_cpu: Some(DEFAULT_MILLI_CPU_REQUEST),
        memory: Some(DEFAULT_MEMORY_REQUEST),
    };
}

fn container_requests(c: &Container, non_missing: NonMissing) -> Resource {
    let mut r = Resource::from_list(&c.resources.requests);
    if let Some(cpu) = non_missing.milli_cpu
        && !c.resources.requests.contains_key("cpu")
    {
        r.milli_cpu = cpu;
    }
    if let Some(mem) = non_missing.memory
        && !c.resources.requests.contains_key("memory")
    {
        r.memory = mem;
    }
    r
}

fn is_sidecar(c: &Container) -> bool {
    c.restart_policy.as_deref() == Some("Always")
}

/// `resourcehelper.PodRequests` / `AggregateContainerRequests`: regular containers run
/// together, so their requests add up; init containers run one at a time, so the pod needs
/// the largest of them — except sidecars (init containers with `restartPolicy: Always`),
/// which keep running and so add to everything that starts after them.
pub fn pod_requests(pod: &Pod, non_missing: NonMissing) -> Resource {
    let mut reqs = Resource::default();
    for c in &pod.spec.containers {
        reqs.add(&container_requests(c, non_missing));
    }
    let mut sidecars = Resource::default();
    let mut init_peak = Resource::default();
    for c in &pod.spec.init_containers {
        let own = container_requests(c, non_missing);
        let in_use = if is_sidecar(c) {
            reqs.add(&own);
            sidecars.add(&own);
            sidecars.clone()
        } else {
            let mut tmp = own;
            tmp.add(&sidecars);
            tmp
        };
        init_peak.set_max(&in_use);
    }
    reqs.set_max(&init_peak);
    reqs
}

/// `PodInfo.CalculateResource`: what a pod on a node adds to the node's `Requested`, and
/// its CPU and memory as `NonZeroRequested` counts them. The defaults for the non-zero
/// figures apply only when the pod as a whole requests no CPU (or no memory) at all
/// (`getNonMissingContainerRequests`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PodResource {
    pub requested: Resource,
    pub non0_cpu: i64,
    pub non0_mem: i64,
}

impl PodResource {
    pub fn of(pod: &Pod) -> PodResource {
        let requested = pod_requests(pod, NonMissing::default());
        let any = |name: &str| {
            pod.spec
                .containers
                .iter()
                .chain(&pod.spec.init_containers)
                .any(|c| c.resources.requests.contains_key(name))
        };
        let non_missing = NonMissing {
            milli_cpu: (!any("cpu")).then_some(DEFAULT_MILLI_CPU_REQUEST),
            memory: (!any("memory")).then_some(DEFAULT_MEMORY_REQUEST),
        };
        let non0 = if non_missing.milli_cpu.is_some() || non_missing.memory.is_some() {
            pod_requests(pod, non_missing)
        } else {
            requested.clone()
        };
        PodResource {
            non0_cpu: non0.milli_cpu,
            non0_mem: non0.memory,
            requested,
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::api::pod::ResourceRequirements;

    pub fn container(name: &str, requests: &[(&str, &str)]) -> Container {
        Container {
            name: name.into(),
            resources: ResourceRequirements {
                requests: requests
                    .iter()
                    .map(|(k, v)| (k.to_string(), Quantity(v.to_string())))
                    .collect(),
                ..Default::default()
            },
            ..Default::default()
        }
    }

    #[test]
    fn containers_add_up_and_init_containers_take_the_peak() {
        // The example in `computePodResourceRequest`'s comment: CPU 3, memory 3G.
        let mut pod = Pod::default();
        pod.spec.init_containers = vec![
            container("ic1", &[("cpu", "2"), ("memory", "1G")]),
            container("ic2", &[("cpu", "2"), ("memory", "3G")]),
        ];
        pod.spec.containers = vec![
            container("c1", &[("cpu", "2"), ("memory", "1G")]),
            container("c2", &[("cpu", "1"), ("memory", "1G")]),
        ];
        let r = pod_requests(&pod, NonMissing::default());
        assert_eq!(r.milli_cpu, 3000);
        assert_eq!(r.memory, 3_000_000_000);
    }

    #[test]
    fn sidecars_add_to_the_containers_and_to_later_init_containers() {
        let mut pod = Pod::default();
        let mut sidecar = container("proxy", &[("cpu", "500m")]);
        sidecar.restart_policy = Some("Always".into());
        pod.spec.init_containers = vec![sidecar, container("migrate", &[("cpu", "2")])];
        pod.spec.containers = vec![container("app", &[("cpu", "1")])];
        // Running: 1 + 0.5; while `migrate` runs: 2 + 0.5.
        assert_eq!(pod_requests(&pod, NonMissing::default()).milli_cpu, 2500);
    }

    #[test]
    fn non_zero_defaults_apply_to_containers_without_requests() {
        let mut pod = Pod::default();
        pod.spec.containers = vec![container("a", &[]), container("b", &[("cpu", "1")])];
        let scored = pod_requests(&pod, NonMissing::DEFAULTS);
        assert_eq!(scored.milli_cpu, 1100);
        assert_eq!(scored.memory, 2 * DEFAULT_MEMORY_REQUEST);
        // On a node, the CPU default is not applied because the pod requests CPU somewhere.
        let on_node = PodResource::of(&pod);
        assert_eq!(on_node.non0_cpu, 1000);
        assert_eq!(on_node.non0_mem, 2 * DEFAULT_MEMORY_REQUEST);
        assert_eq!(on_node.requested.memory, 0);
    }

    #[test]
    fn scalar_resources_are_tracked_and_plain_names_ignored() {
        let list = [
            ("nvidia.com/gpu", "2"),
            ("hugepages-2Mi", "4Mi"),
            ("storage", "1Gi"),
            ("pods", "110"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), Quantity(v.to_string())))
        .collect();
        let r = Resource::from_list(&list);
        assert_eq!(r.scalar.get("nvidia.com/gpu"), Some(&2));
        assert_eq!(r.scalar.get("hugepages-2Mi"), Some(&(4 * 1024 * 1024)));
        assert!(!r.scalar.contains_key("storage"));
        assert_eq!(r.allowed_pod_number, 110);
    }
}
