//! The EndpointSlice reconciler, after upstream's `reconciler_test.go`: membership and
//! conditions, hostnames, slices of at most 100, the placeholder, and slice reuse.

use super::*;
use crate::api::pod::{ContainerPort, condition};
use crate::api::service::ServicePort;
use crate::api::{Node, Timestamp};

fn service(headless: bool, publish_not_ready: bool) -> Service {
    let mut svc = Service {
        metadata: ObjectMeta::named("default", "nginx"),
        ..Default::default()
    };
    svc.metadata.uid = "svc-uid".into();
    svc.spec.selector = [("app".to_string(), "web".to_string())].into();
    svc.spec.cluster_ip = if headless { "None" } else { "10.96.0.10" }.into();
    svc.spec.publish_not_ready_addresses = publish_not_ready;
    svc.spec.ports = vec![ServicePort {
        name: "web".into(),
        port: 80,
        ..Default::default()
    }];
    svc
}

fn member(i: usize, ready: bool) -> Pod {
    let mut p = Pod {
        metadata: ObjectMeta::named("default", &format!("web-{i}")),
        ..Default::default()
    };
    p.metadata.uid = format!("uid-{i}");
    p.metadata.labels.insert("app".into(), "web".into());
    p.spec.hostname = format!("web-{i}");
    p.spec.subdomain = "nginx".into();
    p.spec.node_name = "n1".into();
    p.status.phase = phase::RUNNING.into();
    p.status.pod_ip = format!("10.244.{}.{}", i / 250, 2 + i % 250);
    p.set_condition(condition::READY, ready, Timestamp::default(), "");
    p
}

fn zoned_node() -> Node {
    let mut n = Node::default();
    n.metadata.name = "n1".into();
    n.metadata.labels.insert(LABEL_ZONE.into(), "zone-a".into());
    n
}

/// The desired endpoints of `pods`, grouped by port map, as `sync` builds them.
fn desired(svc: &Service, pods: &[Pod]) -> BTreeMap<Vec<EndpointPort>, Vec<Endpoint>> {
    let node = zoned_node();
    let mut d: BTreeMap<Vec<EndpointPort>, Vec<Endpoint>> = BTreeMap::new();
    for p in pods.iter().filter(|p| should_pod_be_in_endpoints(p)) {
        let ports = port_map_key(&endpoint_ports(svc, p));
        d.entry(ports)
            .or_default()
            .push(pod_to_endpoint(p, Some(&node), svc));
    }
    d
}

fn namer() -> impl FnMut() -> String {
    let mut n = 0;
    move || {
        n += 1;
        generate_name("nginx", n)
    }
}

/// Applies a plan to a list of existing slices, as the API would.
fn applied(existing: &[Rc<EndpointSlice>], plan: &Plan) -> Vec<Rc<EndpointSlice>> {
    let mut out: BTreeMap<String, Rc<EndpointSlice>> = existing
        .iter()
        .map(|s| (s.metadata.name.clone(), Rc::clone(s)))
        .collect();
    for s in plan.create.iter().chain(&plan.update) {
        out.insert(s.metadata.name.clone(), Rc::new(s.clone()));
    }
    for n in &plan.delete {
        out.remove(n);
    }
    out.into_values().collect()
}

#[test]
fn one_slice_lists_every_pod_with_its_conditions_hostname_node_and_zone() {
    let svc = service(true, false);
    let mut terminating = member(2, true);
    terminating.metadata.deletion_timestamp = Some(Timestamp::default());
    let mut no_ip = member(3, true);
    no_ip.status.pod_ip.clear();
    let mut done = member(4, true);
    done.status.phase = phase::SUCCEEDED.into();
    let pods = vec![member(0, true), member(1, false), terminating, no_ip, done];
    let plan = reconcile(&svc, &[], desired(&svc, &pods), &mut namer());
    assert_eq!(plan.update, vec![]);
    assert_eq!(plan.delete, Vec::<String>::new());
    let [slice] = &plan.create[..] else {
        panic!("one slice: {plan:?}")
    };
    assert_eq!(slice.metadata.name, generate_name("nginx", 1));
    assert_eq!(slice.address_type, "IPv4");
    assert_eq!(
        slice.metadata.labels.get(labels::SERVICE_NAME).unwrap(),
        "nginx"
    );
    assert_eq!(
        slice.metadata.labels.get(labels::MANAGED_BY).unwrap(),
        "endpointslice-controller.k8s.io"
    );
    assert!(slice.metadata.labels.contains_key(LABEL_HEADLESS));
    assert_eq!(slice.metadata.owner_references[0].uid, "svc-uid");
    assert_eq!(slice.ports[0].port, Some(80));
    let conds: Vec<(Option<bool>, Option<bool>, Option<bool>)> = slice
        .endpoints
        .iter()
        .map(|e| {
            (
                e.conditions.ready,
                e.conditions.serving,
                e.conditions.terminating,
            )
        })
        .collect();
    assert_eq!(
        conds,
        vec![
            (Some(true), Some(true), Some(false)),
            (Some(false), Some(false), Some(false)),
            (Some(false), Some(true), Some(true)),
        ]
    );
    let e = &slice.endpoints[0];
    assert_eq!(e.hostname.as_deref(), Some("web-0"));
    assert_eq!(e.node_name.as_deref(), Some("n1"));
    assert_eq!(e.zone.as_deref(), Some("zone-a"));
    assert_eq!(e.target_ref.as_ref().unwrap().name, "web-0");
}

#[test]
fn publish_not_ready_addresses_makes_every_endpoint_ready() {
    let svc = service(true, true);
    let mut terminating = member(1, false);
    terminating.metadata.deletion_timestamp = Some(Timestamp::default());
    let plan = reconcile(
        &svc,
        &[],
        desired(&svc, &[member(0, false), terminating]),
        &mut namer(),
    );
    let ready: Vec<_> = plan.create[0]
        .endpoints
        .iter()
        .map(|e| e.conditions.ready)
        .collect();
    assert_eq!(ready, vec![Some(true), Some(true)]);
}

#[test]
fn hostname_only_when_the_subdomain_names_the_service() {
    let svc = service(true, false);
    let mut other = member(0, true);
    other.spec.subdomain = "other".into();
    let e = pod_to_endpoint(&other, None, &svc);
    assert_eq!(e.hostname, None);
    assert_eq!(e.zone, None);
}

#[test]
fn a_service_without_endpoints_keeps_one_placeholder() {
    let svc = service(true, false);
    let plan = reconcile(&svc, &[], BTreeMap::new(), &mut namer());
    assert_eq!(plan.create.len(), 1);
    assert!(plan.create[0].endpoints.is_empty() && plan.create[0].ports.is_empty());
    let existing = applied(&[], &plan);
    assert_eq!(
        reconcile(&svc, &existing, BTreeMap::new(), &mut namer()),
        Plan::default()
    );
    // Pods appear: the placeholder is reused, not deleted and recreated.
    let plan = reconcile(
        &svc,
        &existing,
        desired(&svc, &[member(0, true)]),
        &mut namer(),
    );
    assert!(plan.create.is_empty() && plan.delete.is_empty());
    assert_eq!(plan.update.len(), 1);
    assert_eq!(plan.update[0].metadata.name, existing[0].metadata.name);
    assert_eq!(plan.update[0].endpoints.len(), 1);
    // And they go again: the slice becomes the placeholder once more.
    let existing = applied(&existing, &plan);
    let plan = reconcile(&svc, &existing, BTreeMap::new(), &mut namer());
    assert_eq!(plan.update.len(), 1);
    assert!(plan.update[0].endpoints.is_empty() && plan.update[0].ports.is_empty());
}

#[test]
fn slices_hold_at_most_100_endpoints() {
    let svc = service(true, false);
    let pods: Vec<Pod> = (0..250).map(|i| member(i, true)).collect();
    let plan = reconcile(&svc, &[], desired(&svc, &pods), &mut namer());
    let sizes: Vec<usize> = plan.create.iter().map(|s| s.endpoints.len()).collect();
    assert_eq!(sizes, vec![100, 100, 50]);
    let names: BTreeSet<&str> = plan
        .create
        .iter()
        .map(|s| s.metadata.name.as_str())
        .collect();
    assert_eq!(names.len(), 3, "distinct names");
    // One more pod fits into the slice with room, which is updated alone.
    let existing = applied(&[], &plan);
    let more: Vec<Pod> = (0..251).map(|i| member(i, true)).collect();
    let plan = reconcile(&svc, &existing, desired(&svc, &more), &mut namer());
    assert!(plan.create.is_empty() && plan.delete.is_empty());
    assert_eq!(plan.update.len(), 1);
    assert_eq!(plan.update[0].endpoints.len(), 51);
}

#[test]
fn a_changed_or_removed_endpoint_updates_only_its_slice() {
    let svc = service(true, false);
    let pods: Vec<Pod> = (0..3).map(|i| member(i, true)).collect();
    let existing = applied(
        &[],
        &reconcile(&svc, &[], desired(&svc, &pods), &mut namer()),
    );
    // Unchanged: nothing to write.
    assert_eq!(
        reconcile(&svc, &existing, desired(&svc, &pods), &mut namer()),
        Plan::default()
    );
    // web-1 turns unready, web-2 goes.
    let pods = vec![member(0, true), member(1, false)];
    let plan = reconcile(&svc, &existing, desired(&svc, &pods), &mut namer());
    assert_eq!(plan.update.len(), 1);
    let eps = &plan.update[0].endpoints;
    assert_eq!(eps.len(), 2);
    assert_eq!(eps[1].conditions.ready, Some(false));
}

#[test]
fn named_target_ports_come_from_the_pods_containers() {
    let mut svc = service(false, false);
    svc.spec.ports = vec![
        ServicePort {
            name: "client".into(),
            port: 2181,
            target_port: Some(IntOrString::String("client".into())),
            ..Default::default()
        },
        ServicePort {
            name: "missing".into(),
            port: 9999,
            target_port: Some(IntOrString::String("nope".into())),
            ..Default::default()
        },
    ];
    let mut p = member(0, true);
    p.spec.containers = vec![crate::api::pod::Container {
        name: "zk".into(),
        ports: vec![ContainerPort {
            name: "client".into(),
            container_port: 12181,
            protocol: String::new(),
        }],
        ..Default::default()
    }];
    let ports = endpoint_ports(&svc, &p);
    assert_eq!(
        ports,
        vec![EndpointPort {
            name: Some("client".into()),
            protocol: Some("TCP".into()),
            port: Some(12181),
        }]
    );
}

#[test]
fn generated_names_are_stable_and_distinct() {
    let names: BTreeSet<String> = (1..=1000).map(|n| generate_name("web", n)).collect();
    assert_eq!(names.len(), 1000);
    assert_eq!(generate_name("web", 1), generate_name("web", 1));
    assert!(generate_name("web", 1).starts_with("web-"));
    assert_eq!(generate_name("web", 1).len(), "web-".len() + 5);
}

#[test]
fn the_tracker_waits_for_the_informer_to_show_its_own_writes() {
    let mut c = EndpointSliceController::default();
    let svc = ObjectKey::new("default", "nginx");
    let slice = |name: &str, rv: u64| {
        let mut s = EndpointSlice::default();
        s.metadata.name = name.into();
        s.metadata.resource_version = rv.to_string();
        Rc::new(s)
    };
    c.tracker.insert(
        svc.clone(),
        [("a".to_string(), Some(5)), ("b".to_string(), None)].into(),
    );
    // The cache still has the old "a" and the deleted "b".
    assert!(c.stale(&svc, &[slice("a", 4), slice("b", 3)]));
    // "a" caught up; "b" still there.
    assert!(c.stale(&svc, &[slice("a", 5), slice("b", 3)]));
    // Both caught up: fresh, and the expectations are gone.
    assert!(!c.stale(&svc, &[slice("a", 6)]));
    assert!(!c.tracker.contains_key(&svc));
}

/// `sync`'s shortcut for one slice gives `reconcile`'s plan wherever it answers: slices of
/// pods in every order, some gone, changed, new or foreign, with and without labels and
/// ports that differ.
#[test]
fn update_in_place_plans_what_reconcile_plans() {
    let svc = service(true, false);
    let mut answered = 0;
    // The existing slice: a selection of pods (some unready, some foreign), in some order.
    for existing_set in 0u32..64 {
        for order in 0..3 {
            let mut pods: Vec<Pod> = (0..6)
                .filter(|i| existing_set & (1 << i) != 0)
                .map(|i| member(i, i % 3 != 0))
                .collect();
            match order {
                1 => pods.reverse(),
                2 => {
                    let by = pods.len().min(2);
                    pods.rotate_left(by);
                }
                _ => {}
            }
            let base = applied(
                &[],
                &reconcile(&svc, &[], desired(&svc, &pods), &mut namer()),
            );
            let mut variants = vec![base.clone()];
            if let [only] = base.as_slice() {
                let mut relabelled = (**only).clone();
                relabelled.metadata.labels.insert("x".into(), "y".into());
                variants.push(vec![Rc::new(relabelled)]);
                let mut foreign = (**only).clone();
                foreign.metadata.owner_references.clear();
                variants.push(vec![Rc::new(foreign)]);
                let mut reordered = (**only).clone();
                reordered.endpoints.reverse();
                variants.push(vec![Rc::new(reordered)]);
                let mut doubled = (**only).clone();
                doubled.endpoints.extend(only.endpoints.first().cloned());
                variants.push(vec![Rc::new(doubled)]);
            }
            // The desired pods: another selection, readiness flipped for some.
            for desired_set in (0u32..64).step_by(5) {
                for flip in [0usize, 1, 2] {
                    let pods: Vec<Pod> = (0..6)
                        .filter(|i| desired_set & (1 << i) != 0)
                        .map(|i| member(i, (i + flip) % 3 != 0))
                        .collect();
                    for existing in &variants {
                        let want = desired(&svc, &pods);
                        let mut mine = want.clone();
                        if let Some(plan) = update_in_place(&svc, existing, &mut mine) {
                            answered += 1;
                            let full = reconcile(&svc, existing, want, &mut namer());
                            assert_eq!(plan, full, "{existing_set} {order} {desired_set} {flip}");
                        } else {
                            assert_eq!(mine, want, "left untouched");
                        }
                    }
                }
            }
        }
    }
    assert!(answered > 1000, "{answered}");
}
