//! Small builders for plugin tests: nodes with allocatable resources, labels and taints,
//! pods with requests and tolerations.

use crate::api::node::NodeCondition;
use crate::api::scheduling::{Taint, Toleration};
use crate::api::{Node, Pod, Quantity};
use crate::control::scheduler::cache::NodeInfo;
use crate::control::scheduler::resources::tests::container;
use std::rc::Rc;

pub fn node(name: &str, cpu: &str, memory: &str) -> Node {
    let mut n = Node::default();
    n.metadata.name = name.into();
    n.metadata
        .labels
        .insert("kubernetes.io/hostname".into(), name.into());
    for (k, v) in [("cpu", cpu), ("memory", memory), ("pods", "110")] {
        n.status.allocatable.insert(k.into(), Quantity(v.into()));
    }
    n.status.capacity = n.status.allocatable.clone();
    n.status.conditions.push(NodeCondition {
        type_: "Ready".into(),
        status: "True".into(),
        ..Default::default()
    });
    n
}

pub fn taint(key: &str, value: &str, effect: &str) -> Taint {
    Taint {
        key: key.into(),
        value: value.into(),
        effect: effect.into(),
        time_added: None,
    }
}

pub fn toleration(key: &str, op: &str, value: &str, effect: &str) -> Toleration {
    Toleration {
        key: key.into(),
        operator: op.into(),
        value: value.into(),
        effect: effect.into(),
        toleration_seconds: None,
    }
}

pub fn pod(name: &str, requests: &[(&str, &str)]) -> Pod {
    let mut p = Pod::default();
    p.metadata.namespace = "default".into();
    p.metadata.name = name.into();
    p.metadata.uid = format!("uid-{name}");
    p.spec.scheduler_name = "default-scheduler".into();
    p.spec.containers = vec![container("app", requests)];
    p
}

/// A NodeInfo holding `pods` (their `spec.nodeName` is set to the node).
pub fn info(node: Node, pods: &[Pod]) -> NodeInfo {
    let mut info = NodeInfo::of_node(Rc::new(node));
    for p in pods {
        let mut p = p.clone();
        p.spec.node_name = info.name.clone();
        info.add_pod(Rc::new(p));
    }
    info
}
