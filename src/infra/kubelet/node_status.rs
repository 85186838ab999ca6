//! The Node object a kubelet registers (`kubelet_node_status.go` `initialNode` and
//! `registerWithAPIServer`) with the status its setters fill in on the first pass
//! (`pkg/kubelet/nodestatus/setters.go`: capacity/allocatable, the pressure conditions
//! and `ReadyCondition`). Heartbeats and leases come with a later issue.

use crate::api::node::{NodeCondition, NodeSpec, NodeStatus, ResourceList, well_known};
use crate::api::{Node, ObjectMeta, Quantity, Timestamp};
use crate::scenario::NodeSpecInput;
use crate::time::SimTime;

/// The Node as registered at `now`: the pool's labels and taints plus the labels the
/// kubelet sets itself, capacity = allocatable (the scenario gives allocatable figures),
/// and the conditions of a healthy node.
pub fn initial_node(spec: &NodeSpecInput, now: SimTime) -> Node {
    let mut labels = spec.labels.clone();
    // `initialNode` labels the node with its hostname, OS and architecture; the cloud
    // provider adds the zone.
    for (k, v) in [
        (well_known::LABEL_HOSTNAME, spec.name.as_str()),
        ("kubernetes.io/os", "linux"),
        ("kubernetes.io/arch", "amd64"),
        ("beta.kubernetes.io/os", "linux"),
        ("beta.kubernetes.io/arch", "amd64"),
        (well_known::LABEL_ZONE, spec.zone.as_str()),
    ] {
        if !v.is_empty() {
            labels.entry(k.to_string()).or_insert_with(|| v.to_string());
        }
    }
    let capacity: ResourceList = spec
        .capacity
        .iter()
        .map(|(k, v)| (k.clone(), Quantity(v.clone())))
        .collect();
    Node {
        api_version: "v1".into(),
        kind: "Node".into(),
        metadata: ObjectMeta {
            name: spec.name.clone(),
            labels,
            // `initialNode` with `enableControllerAttachDetach` (the default): attach and
            // detach are the attach/detach controller's.
            annotations: [(
                well_known::ANNOTATION_CONTROLLER_MANAGED_ATTACH.to_string(),
                "true".to_string(),
            )]
            .into_iter()
            .collect(),
            ..Default::default()
        },
        spec: NodeSpec {
            taints: spec.taints.clone(),
            ..Default::default()
        },
        status: NodeStatus {
            allocatable: capacity.clone(),
            capacity,
            conditions: healthy_conditions(Timestamp::at(now)),
            ..Default::default()
        },
    }
}

/// The kubelet's view of a node with no pressure and a working runtime:
/// `MemoryPressureCondition`, `DiskPressureCondition`, `PIDPressureCondition` and
/// `ReadyCondition`, in that order, as (type, status, reason, message).
const HEALTHY: [(&str, &str, &str, &str); 4] = [
    (
        "MemoryPressure",
        "False",
        "KubeletHasSufficientMemory",
        "kubelet has sufficient memory available",
    ),
    (
        "DiskPressure",
        "False",
        "KubeletHasNoDiskPressure",
        "kubelet has no disk pressure",
    ),
    (
        "PIDPressure",
        "False",
        "KubeletHasSufficientPID",
        "kubelet has sufficient PID available",
    ),
    (
        "Ready",
        "True",
        "KubeletReady",
        "kubelet is posting ready status",
    ),
];

/// The Ready condition while graceful node shutdown runs.
const SHUTTING_DOWN: (&str, &str, &str, &str) = (
    "Ready",
    "False",
    "KubeletNotReady",
    super::shutdown::NODE_SHUTTING_DOWN,
);

/// The kubelet's view of its conditions: healthy, or not Ready while shutting down.
fn view(shutting_down: bool) -> [(&'static str, &'static str, &'static str, &'static str); 4] {
    let mut v = HEALTHY;
    if shutting_down {
        v[3] = SHUTTING_DOWN;
    }
    v
}

fn healthy_conditions(now: Timestamp) -> Vec<NodeCondition> {
    conditions_of(HEALTHY, now)
}

fn conditions_of(
    view: [(&'static str, &'static str, &'static str, &'static str); 4],
    now: Timestamp,
) -> Vec<NodeCondition> {
    view.into_iter()
        .map(|(type_, status, reason, message)| NodeCondition {
            type_: type_.into(),
            status: status.into(),
            last_heartbeat_time: Some(now),
            last_transition_time: Some(now),
            reason: reason.into(),
            message: message.into(),
        })
        .collect()
}

/// Whether the node's conditions differ from the kubelet's view in anything but their
/// heartbeat and transition times (`nodeStatusHasChanged`); allocation-free, as it runs
/// for every node every 10 s.
pub fn status_changed(node: &Node, shutting_down: bool) -> bool {
    let conds = &node.status.conditions;
    let view = view(shutting_down);
    conds.len() != view.len()
        || view.iter().any(|(type_, status, reason, message)| {
            !conds.iter().any(|c| {
                c.type_ == *type_
                    && c.status == *status
                    && c.reason == *reason
                    && c.message == *message
            })
        })
}

/// The status the kubelet posts now over `node` (`setNodeStatus` with the condition
/// setters): its own view of every condition, transition times kept where the condition
/// did not change, heartbeat times set to now.
///
/// The request is the status subresource's: the API server reads its name (to find the
/// Node), its resourceVersion (empty: no precondition, as upstream's status patch) and its
/// status, and keeps everything else of the stored Node. So the request carries only
/// those: copying the node's labels, annotations and spec into it (a dozen allocations a
/// post, 300 nodes every 5 minutes) would change nothing that is stored. The conditions'
/// texts are the kubelet's literals and capacity and allocatable are shared with `node`
/// (`Text`, `ResourceList`), so the request allocates its condition list and its name, and
/// the API server moves its status into the stored Node (`update_status_owned`).
pub fn refreshed_status(node: &Node, now: SimTime, shutting_down: bool) -> Node {
    let ts = Timestamp::at(now);
    let mut conditions = conditions_of(view(shutting_down), ts);
    for c in &mut conditions {
        if let Some(old) = node.status.conditions.iter().find(|o| {
            o.type_ == c.type_
                && o.status == c.status
                && o.reason == c.reason
                && o.message == c.message
        }) {
            c.last_transition_time = old.last_transition_time;
        }
    }
    // Field by field rather than a clone of the whole status: the old conditions are
    // replaced, so they are not copied (no `..`: a new status field must be listed here).
    let s = &node.status;
    Node {
        metadata: ObjectMeta {
            namespace: node.metadata.namespace.clone(),
            name: node.metadata.name.clone(),
            ..Default::default()
        },
        status: NodeStatus {
            capacity: s.capacity.clone(),
            allocatable: s.allocatable.clone(),
            conditions,
            volumes_in_use: s.volumes_in_use.clone(),
            volumes_attached: s.volumes_attached.clone(),
        },
        // Listed rather than `..Default::default()`, which would build a whole default
        // Node and then drop its unused metadata and status.
        api_version: String::new(),
        kind: String::new(),
        spec: NodeSpec::default(),
    }
}
