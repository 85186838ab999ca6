//! `kubectl get` tables for pods, StatefulSets, claims and nodes: the column definitions
//! and print functions of `pkg/printers/internalversion/printers.go`, rendered as kubectl's
//! table printer does (upper-case headers, wide-only columns hidden without `-o wide`, an
//! optional NAMESPACE column first for `-A`, tab-aligned by `tabwriter::GET`).

use super::duration::since;
use super::tabwriter;
use crate::api::{Node, PersistentVolumeClaim, Pod, Resource, StatefulSet, Tables};
use crate::scenario::{GetRequest, GetResource};
use crate::time::SimTime;
use std::rc::Rc;

/// A column: its name as the column definition spells it, and whether only `-o wide`
/// shows it (`Priority: 1`).
type Column = (&'static str, bool);

// podColumnDefinitions
const POD_COLUMNS: &[Column] = &[
    ("Name", false),
    ("Ready", false),
    ("Status", false),
    ("Restarts", false),
    ("Age", false),
    ("IP", true),
    ("Node", true),
    ("Nominated Node", true),
    ("Readiness Gates", true),
];
// statefulSetColumnDefinitions
const STATEFULSET_COLUMNS: &[Column] = &[
    ("Name", false),
    ("Ready", false),
    ("Age", false),
    ("Containers", true),
    ("Images", true),
];
// persistentVolumeClaimColumnDefinitions
const PVC_COLUMNS: &[Column] = &[
    ("Name", false),
    ("Status", false),
    ("Volume", false),
    ("Capacity", false),
    ("Access Modes", false),
    ("StorageClass", false),
    ("VolumeAttributesClass", false),
    ("Age", false),
    ("VolumeMode", true),
];
// nodeColumnDefinitions
const NODE_COLUMNS: &[Column] = &[
    ("Name", false),
    ("Status", false),
    ("Roles", false),
    ("Age", false),
    ("Version", false),
    ("Internal-IP", true),
    ("External-IP", true),
    ("OS-Image", true),
    ("Kernel-Version", true),
    ("Container-Runtime", true),
];

/// What kubectl prints for `request` against `objects` at `now`: the aligned table, the
/// `NotFound` error for a missing named object, or kubectl's "No resources found" line.
pub fn get(objects: &Tables, request: &GetRequest, now: SimTime) -> Result<String, String> {
    let (columns, rows): (&[Column], Vec<(String, Vec<String>)>) = match request.resource {
        GetResource::Pods => (POD_COLUMNS, rows(objects, request, |p| print_pod(p, now))),
        GetResource::StatefulSets => (
            STATEFULSET_COLUMNS,
            rows(objects, request, |s| print_stateful_set(s, now)),
        ),
        GetResource::PersistentVolumeClaims => {
            (PVC_COLUMNS, rows(objects, request, |c| print_claim(c, now)))
        }
        GetResource::Nodes => (NODE_COLUMNS, rows(objects, request, |n| print_node(n, now))),
    };
    if rows.is_empty() {
        return match (&request.name, &request.namespace) {
            (Some(name), _) => Err(format!(
                "Error from server (NotFound): {} \"{name}\" not found",
                plural(request.resource)
            )),
            (None, Some(ns)) if request.resource.namespaced() => {
                Ok(format!("No resources found in {ns} namespace."))
            }
            _ => Ok("No resources found".into()),
        };
    }
    let all_namespaces = request.resource.namespaced() && request.namespace.is_none();
    let mut text = String::new();
    let header = columns
        .iter()
        .filter(|(_, wide_only)| request.wide || !wide_only)
        .map(|(name, _)| name.to_uppercase());
    let header: Vec<String> = all_namespaces
        .then(|| "NAMESPACE".to_string())
        .into_iter()
        .chain(header)
        .collect();
    push_row(&mut text, &header);
    for (namespace, cells) in rows {
        let visible = cells
            .into_iter()
            .zip(columns)
            .filter(|(_, (_, wide_only))| request.wide || !wide_only)
            .map(|(cell, _)| cell);
        let row: Vec<String> = all_namespaces
            .then_some(namespace)
            .into_iter()
            .chain(visible)
            .collect();
        push_row(&mut text, &row);
    }
    let table = tabwriter::GET.align(&text);
    Ok(table.trim_end_matches('\n').to_string())
}

fn plural(resource: GetResource) -> &'static str {
    match resource {
        GetResource::Pods => "pods",
        GetResource::StatefulSets => "statefulsets.apps",
        GetResource::PersistentVolumeClaims => "persistentvolumeclaims",
        GetResource::Nodes => "nodes",
    }
}

fn push_row(text: &mut String, cells: &[String]) {
    text.push_str(&cells.join("\t"));
    text.push('\n');
}

/// The objects the request selects, in kubectl's order (namespace, then name), printed.
fn rows<T: Resource>(
    objects: &Tables,
    request: &GetRequest,
    print: impl Fn(&T) -> Vec<String>,
) -> Vec<(String, Vec<String>)> {
    objects
        .list::<T>()
        .filter(|o| {
            let meta = o.meta();
            request
                .namespace
                .as_ref()
                .is_none_or(|ns| meta.namespace == *ns)
                && request.name.as_ref().is_none_or(|n| meta.name == *n)
                && request
                    .selector
                    .as_ref()
                    .is_none_or(|(_, s)| s.matches(&meta.labels))
        })
        .map(|o: &Rc<T>| (o.meta().namespace.clone(), print(o)))
        .collect()
}

// Port of printers.go `printPod`. stsim does not model init-container statuses, the
// containers' lastState, nominatedNodeName or readiness gates, so those parts of the
// upstream algorithm see empty lists: no "Init:" reasons, RESTARTS without "(Xm ago)".
fn print_pod(pod: &Pod, now: SimTime) -> Vec<String> {
    let sidecars = pod
        .spec
        .init_containers
        .iter()
        .filter(|c| c.restart_policy.as_deref() == Some("Always"))
        .count();
    let total = pod.spec.containers.len() + sidecars;
    let mut reason = if pod.status.reason.is_empty() {
        pod.status.phase.clone()
    } else {
        pod.status.reason.clone()
    };
    if pod
        .status
        .conditions
        .iter()
        .any(|c| c.type_ == "PodScheduled" && c.reason == "SchedulingGated")
    {
        reason = "SchedulingGated".into();
    }
    let mut restarts = 0;
    let mut ready = 0;
    let mut has_running = false;
    // Reverse order, so that the first container's reason wins.
    for cs in pod.status.container_statuses.iter().rev() {
        restarts += cs.restart_count;
        let state = &cs.state;
        if let Some(w) = state.waiting.as_ref().filter(|w| !w.reason.is_empty()) {
            reason = w.reason.clone();
        } else if let Some(t) = &state.terminated {
            reason = if t.reason.is_empty() {
                format!("ExitCode:{}", t.exit_code)
            } else {
                t.reason.clone()
            };
        } else if cs.ready && state.running.is_some() {
            has_running = true;
            ready += 1;
        }
    }
    if reason == "Completed" && has_running {
        reason = if pod
            .status
            .conditions
            .iter()
            .any(|c| c.type_ == "Ready" && c.status == "True")
        {
            "Running".into()
        } else {
            "NotReady".into()
        };
    }
    if pod.metadata.deletion_timestamp.is_some() {
        if pod.status.reason == "NodeLost" {
            reason = "Unknown".into();
        } else if pod.status.phase != "Succeeded" && pod.status.phase != "Failed" {
            reason = "Terminating".into();
        }
    }
    vec![
        pod.metadata.name.clone(),
        format!("{ready}/{total}"),
        reason,
        restarts.to_string(),
        since(pod.metadata.creation_timestamp, now),
        or_none(&pod.status.pod_ip),
        or_none(&pod.spec.node_name),
        "<none>".into(),
        "<none>".into(),
    ]
}

// Port of printers.go `printStatefulSet` (with `layoutContainerCells` for the wide cells).
fn print_stateful_set(set: &StatefulSet, now: SimTime) -> Vec<String> {
    let containers = &set.spec.template.spec.containers;
    let join = |f: fn(&crate::api::pod::Container) -> &str| {
        containers.iter().map(f).collect::<Vec<_>>().join(",")
    };
    vec![
        set.metadata.name.clone(),
        format!(
            "{}/{}",
            set.status.ready_replicas,
            set.spec.replicas.unwrap_or(1)
        ),
        since(set.metadata.creation_timestamp, now),
        join(|c| &c.name),
        join(|c| &c.image),
    ]
}

// Port of printers.go `printPersistentVolumeClaim`; access modes and capacity come from
// the claim's status and only once it names a volume.
fn print_claim(claim: &PersistentVolumeClaim, now: SimTime) -> Vec<String> {
    let phase = if claim.metadata.deletion_timestamp.is_some() {
        "Terminating".to_string()
    } else {
        claim.status.phase.clone()
    };
    let (capacity, modes) = if claim.spec.volume_name.is_empty() {
        (String::new(), String::new())
    } else {
        let capacity = claim
            .status
            .capacity
            .get("storage")
            .map_or_else(|| "0".to_string(), ToString::to_string);
        (capacity, access_modes(&claim.status.access_modes))
    };
    let class = match claim
        .metadata
        .annotations
        .get("volume.beta.kubernetes.io/storage-class")
    {
        Some(c) => c.clone(),
        None => claim.spec.storage_class_name.clone().unwrap_or_default(),
    };
    vec![
        claim.metadata.name.clone(),
        phase,
        claim.spec.volume_name.clone(),
        capacity,
        modes,
        class,
        "<unset>".into(),
        since(claim.metadata.creation_timestamp, now),
        claim
            .spec
            .volume_mode
            .clone()
            .unwrap_or_else(|| "<unset>".into()),
    ]
}

// Port of helper.GetAccessModesAsString: each mode once, in a fixed order.
fn access_modes(modes: &[String]) -> String {
    [
        ("ReadWriteOnce", "RWO"),
        ("ReadOnlyMany", "ROX"),
        ("ReadWriteMany", "RWX"),
        ("ReadWriteOncePod", "RWOP"),
    ]
    .iter()
    .filter(|(mode, _)| modes.iter().any(|m| m == mode))
    .map(|(_, short)| *short)
    .collect::<Vec<_>>()
    .join(",")
}

// Port of printers.go `printNode`. stsim's nodes carry no addresses and no nodeInfo, so
// VERSION is empty and the wide columns print upstream's placeholders.
fn print_node(node: &Node, now: SimTime) -> Vec<String> {
    let mut status = Vec::new();
    // The last condition of a type wins, as in upstream's map.
    if let Some(ready) = node
        .status
        .conditions
        .iter()
        .rev()
        .find(|c| c.type_ == "Ready")
    {
        status.push(if ready.status == "True" {
            "Ready"
        } else {
            "NotReady"
        });
    }
    if status.is_empty() {
        status.push("Unknown");
    }
    if node.spec.unschedulable {
        status.push("SchedulingDisabled");
    }
    let mut roles: Vec<&str> = node
        .metadata
        .labels
        .iter()
        .filter_map(|(k, v)| match k.strip_prefix("node-role.kubernetes.io/") {
            Some(role) if !role.is_empty() => Some(role),
            _ if k == "kubernetes.io/role" && !v.is_empty() => Some(v.as_str()),
            _ => None,
        })
        .collect();
    roles.sort_unstable();
    roles.dedup();
    let roles = if roles.is_empty() {
        "<none>".to_string()
    } else {
        roles.join(",")
    };
    vec![
        node.metadata.name.clone(),
        status.join(","),
        roles,
        since(node.metadata.creation_timestamp, now),
        String::new(),
        "<none>".into(),
        "<none>".into(),
        "<unknown>".into(),
        "<unknown>".into(),
        "<unknown>".into(),
    ]
}

fn or_none(s: &str) -> String {
    if s.is_empty() {
        "<none>".into()
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests;
