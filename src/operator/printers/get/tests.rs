//! The `get` tables against hand-written expectations in kubectl's layout.

use super::*;
use crate::api::node::NodeCondition;
use crate::api::pod::{
    ContainerState, ContainerStateRunning, ContainerStateWaiting, ContainerStatus,
};
use crate::api::{ObjectKey, ObjectMeta, Quantity, Timestamp};
use crate::scenario::Action;
use crate::scenario::parse_kubectl;
use crate::time::SimDuration;

fn at(secs: u64) -> SimTime {
    SimTime::ZERO + SimDuration::from_secs(secs)
}

fn request(line: &str) -> GetRequest {
    match parse_kubectl(line).unwrap() {
        Action::Get(g) => g,
        other => panic!("{other:?}"),
    }
}

fn pod(ns: &str, name: &str, created: u64) -> Pod {
    let mut p = Pod {
        metadata: ObjectMeta::named(ns, name),
        ..Default::default()
    };
    p.metadata.creation_timestamp = Some(Timestamp::at(at(created)));
    p.metadata.labels.insert("app".into(), "web".into());
    p.spec.containers.push(crate::api::pod::Container {
        name: "app".into(),
        image: "app:1".into(),
        ..Default::default()
    });
    p.status.phase = "Pending".into();
    p
}

fn running(mut p: Pod, node: &str, ip: &str, ready: bool, restarts: i32) -> Pod {
    p.spec.node_name = node.into();
    p.status.phase = "Running".into();
    p.status.pod_ip = ip.into();
    p.status.container_statuses.push(ContainerStatus {
        name: "app".into(),
        ready,
        restart_count: restarts,
        state: ContainerState {
            running: Some(ContainerStateRunning { started_at: None }),
            ..Default::default()
        },
        ..Default::default()
    });
    p
}

fn tables(pods: Vec<Pod>) -> Tables {
    let mut t = Tables::default();
    for p in pods {
        t.pods.insert(
            ObjectKey::new(&p.metadata.namespace, &p.metadata.name),
            Rc::new(p),
        );
    }
    t
}

#[test]
fn pods_table_reads_status_as_kubectl_does() {
    let mut creating = pod("default", "web-2", 290);
    creating.spec.node_name = "worker-b".into();
    creating.status.container_statuses.push(ContainerStatus {
        name: "app".into(),
        state: ContainerState {
            waiting: Some(ContainerStateWaiting {
                reason: "ContainerCreating".into(),
                message: String::new(),
            }),
            ..Default::default()
        },
        ..Default::default()
    });
    let mut leaving = running(
        pod("default", "web-1", 60),
        "worker-a",
        "10.244.0.3",
        true,
        0,
    );
    leaving.metadata.deletion_timestamp = Some(Timestamp::at(at(330)));
    let objects = tables(vec![
        running(
            pod("default", "web-0", 0),
            "worker-a",
            "10.244.0.2",
            true,
            2,
        ),
        leaving,
        creating,
        pod("other", "db-0", 0),
    ]);
    let text = get(&objects, &request("get pods"), at(300)).unwrap();
    assert_eq!(
        text,
        "NAME    READY   STATUS              RESTARTS   AGE\n\
         web-0   1/1     Running             2          5m\n\
         web-1   1/1     Terminating         0          4m\n\
         web-2   0/1     ContainerCreating   0          10s"
    );
    let wide = get(&objects, &request("get pods -o wide -l app=web"), at(300)).unwrap();
    let lines: Vec<&str> = wide.lines().collect();
    assert_eq!(
        lines[0],
        "NAME    READY   STATUS              RESTARTS   AGE   IP           NODE       NOMINATED NODE   READINESS GATES"
    );
    assert_eq!(
        lines[3],
        "web-2   0/1     ContainerCreating   0          10s   <none>       worker-b   <none>           <none>"
    );
}

#[test]
fn a_pod_on_a_lost_node_is_unknown_and_not_ready_counts_nothing() {
    let mut lost = running(
        pod("default", "web-0", 0),
        "worker-a",
        "10.244.0.2",
        false,
        0,
    );
    lost.status.reason = "NodeLost".into();
    lost.metadata.deletion_timestamp = Some(Timestamp::at(at(100)));
    let text = get(&tables(vec![lost]), &request("get pod web-0"), at(7_200)).unwrap();
    assert_eq!(
        text,
        "NAME    READY   STATUS    RESTARTS   AGE\nweb-0   0/1     Unknown   0          120m"
    );
}

#[test]
fn all_namespaces_adds_the_namespace_column_and_misses_are_worded_as_kubectl() {
    let objects = tables(vec![pod("default", "web-0", 0), pod("other", "db-0", 0)]);
    let text = get(&objects, &request("get pods -A"), at(50 * 3600)).unwrap();
    assert_eq!(
        text,
        "NAMESPACE   NAME    READY   STATUS    RESTARTS   AGE\n\
         default     web-0   0/1     Pending   0          2d2h\n\
         other       db-0    0/1     Pending   0          2d2h"
    );
    assert_eq!(
        get(&objects, &request("get pods -n empty"), at(0)),
        Ok("No resources found in empty namespace.".into())
    );
    assert_eq!(
        get(&objects, &request("get pod web-9"), at(0)),
        Err("Error from server (NotFound): pods \"web-9\" not found".into())
    );
}

#[test]
fn statefulsets_claims_and_nodes() {
    let mut t = Tables::default();
    let mut set = StatefulSet {
        metadata: ObjectMeta::named("default", "web"),
        ..Default::default()
    };
    set.metadata.creation_timestamp = Some(Timestamp::at(at(0)));
    set.spec.replicas = Some(3);
    set.status.ready_replicas = 2;
    set.spec
        .template
        .spec
        .containers
        .push(crate::api::pod::Container {
            name: "nginx".into(),
            image: "nginx:1.27".into(),
            ..Default::default()
        });
    t.stateful_sets
        .insert(ObjectKey::new("default", "web"), Rc::new(set));
    assert_eq!(
        get(&t, &request("get sts -o wide"), at(90)).unwrap(),
        "NAME   READY   AGE   CONTAINERS   IMAGES\nweb    2/3     90s   nginx        nginx:1.27"
    );

    let mut bound = PersistentVolumeClaim {
        metadata: ObjectMeta::named("default", "www-web-0"),
        ..Default::default()
    };
    bound.metadata.creation_timestamp = Some(Timestamp::at(at(0)));
    bound.spec.volume_name = "pvc-1".into();
    bound.spec.storage_class_name = Some("gp3".into());
    bound.status.phase = "Bound".into();
    bound.status.access_modes = vec!["ReadWriteOncePod".into(), "ReadWriteOnce".into()];
    bound
        .status
        .capacity
        .insert("storage".into(), Quantity("1Gi".into()));
    let mut pending = PersistentVolumeClaim {
        metadata: ObjectMeta::named("default", "www-web-1"),
        ..Default::default()
    };
    pending.metadata.creation_timestamp = Some(Timestamp::at(at(30)));
    pending.spec.storage_class_name = Some("gp3".into());
    pending.status.phase = "Pending".into();
    for c in [bound, pending] {
        t.pvcs.insert(
            ObjectKey::new("default", &c.metadata.name.clone()),
            Rc::new(c),
        );
    }
    assert_eq!(
        get(&t, &request("get pvc"), at(90)).unwrap(),
        "NAME        STATUS    VOLUME   CAPACITY   ACCESS MODES   STORAGECLASS   VOLUMEATTRIBUTESCLASS   AGE\n\
         www-web-0   Bound     pvc-1    1Gi        RWO,RWOP       gp3            <unset>                 90s\n\
         www-web-1   Pending                                      gp3            <unset>                 60s"
    );

    for (name, ready, cordoned) in [("worker-a", "True", true), ("worker-b", "Unknown", false)] {
        let mut n = Node {
            metadata: ObjectMeta::named("", name),
            ..Default::default()
        };
        n.metadata.creation_timestamp = Some(Timestamp::at(at(0)));
        n.spec.unschedulable = cordoned;
        n.status.conditions.push(NodeCondition {
            type_: "Ready".into(),
            status: ready.into(),
            ..Default::default()
        });
        t.nodes.insert(ObjectKey::cluster(name), Rc::new(n));
    }
    assert_eq!(
        get(&t, &request("get nodes"), at(600)).unwrap(),
        "NAME       STATUS                     ROLES    AGE   VERSION\n\
         worker-a   Ready,SchedulingDisabled   <none>   10m   \n\
         worker-b   NotReady                   <none>   10m   "
    );
}
