//! The disruption controller's arithmetic, after upstream's `disruption_test.go`: expected
//! and desired counts for integers and percentages, healthy counting, and the disrupted
//! pods' bookkeeping.

use super::*;
use crate::api::{ObjectMeta, OwnerReference, StatefulSet};

fn set(name: &str, uid: &str, replicas: i32) -> Rc<StatefulSet> {
    let mut s = StatefulSet {
        metadata: ObjectMeta::named("default", name),
        ..Default::default()
    };
    s.metadata.uid = uid.into();
    s.spec.replicas = Some(replicas);
    Rc::new(s)
}

fn member(name: &str, owner: Option<(&str, &str)>, ready: bool) -> Rc<Pod> {
    let mut p = Pod {
        metadata: ObjectMeta::named("default", name),
        ..Default::default()
    };
    p.metadata.labels.insert("app".into(), "zk".into());
    if let Some((set, uid)) = owner {
        p.metadata.owner_references.push(OwnerReference {
            api_version: "apps/v1".into(),
            kind: "StatefulSet".into(),
            name: set.into(),
            uid: uid.into(),
            controller: Some(true),
            block_owner_deletion: Some(true),
        });
    }
    p.set_condition(
        crate::api::pod::condition::READY,
        ready,
        Timestamp::default(),
        "",
    );
    Rc::new(p)
}

fn budget(min: Option<IntOrString>, max: Option<IntOrString>) -> PodDisruptionBudget {
    let mut b = PodDisruptionBudget {
        metadata: ObjectMeta::named("default", "zk-pdb"),
        ..Default::default()
    };
    b.spec.min_available = min;
    b.spec.max_unavailable = max;
    b
}

fn pct(s: &str) -> Option<IntOrString> {
    Some(IntOrString::String(s.into()))
}

fn int(n: i64) -> Option<IntOrString> {
    Some(IntOrString::Int(n))
}

#[test]
fn expected_and_desired_counts_for_integers_and_percentages() {
    let mut cache = Tables::default();
    let zk = set("zk", "zk-uid", 3);
    cache
        .stateful_sets
        .insert(ObjectKey::new("default", "zk"), zk);
    let owned: Vec<Rc<Pod>> = (0..3)
        .map(|i| member(&format!("zk-{i}"), Some(("zk", "zk-uid")), true))
        .collect();
    let pods: Vec<&Rc<Pod>> = owned.iter().collect();
    // (minAvailable, maxUnavailable) → (expectedPods, desiredHealthy). Percentages round up:
    // maxUnavailable 34% of 3 is 2, 25% is 1; minAvailable 50% of 3 is 2.
    let cases = [
        ((None, int(1)), (3, 2)),
        ((None, pct("34%")), (3, 1)),
        ((None, pct("25%")), (3, 2)),
        ((None, pct("200%")), (3, 0)),
        ((int(2), None), (3, 2)),
        ((int(5), None), (3, 5)),
        ((pct("50%"), None), (3, 2)),
        ((pct("100%"), None), (3, 3)),
        ((pct("0%"), None), (3, 0)),
    ];
    for ((min, max), want) in cases {
        let b = budget(min.clone(), max.clone());
        let (expected, desired, unmanaged) = expected_pod_count(&b, &pods, &cache).unwrap();
        assert_eq!((expected, desired), want, "min {min:?} max {max:?}");
        assert!(unmanaged.is_empty());
    }
    // An integer minAvailable counts the pods it selects, whatever the scale says.
    let extra = member("stray", None, true);
    let mut with_stray = pods.clone();
    with_stray.push(&extra);
    let (expected, desired, unmanaged) =
        expected_pod_count(&budget(int(2), None), &with_stray, &cache).unwrap();
    assert_eq!((expected, desired, unmanaged.len()), (4, 2, 0));
    // A percentage needs the scale: the stray pod is reported unmanaged.
    let (expected, _, unmanaged) =
        expected_pod_count(&budget(pct("50%"), None), &with_stray, &cache).unwrap();
    assert_eq!((expected, unmanaged), (3, vec!["stray".to_string()]));
}

#[test]
fn pods_of_an_unknown_controller_fail_the_count() {
    let cache = Tables::default();
    let orphan = member("zk-0", Some(("gone", "gone-uid")), true);
    let err = expected_pod_count(&budget(None, int(1)), &[&orphan], &cache).unwrap_err();
    assert_eq!(err, "found no controllers for pod \"zk-0\"");
    // A set of the same name but another uid is not the owner.
    let mut cache = Tables::default();
    cache
        .stateful_sets
        .insert(ObjectKey::new("default", "gone"), set("gone", "other", 3));
    assert!(expected_pod_count(&budget(None, int(1)), &[&orphan], &cache).is_err());
}

#[test]
fn healthy_pods_are_ready_not_terminating_and_not_freshly_evicted() {
    let now = SimTime::ZERO + SimDuration::from_secs(600);
    let a = member("a", None, true);
    let b = member("b", None, false);
    let mut c = (*member("c", None, true)).clone();
    c.metadata.deletion_timestamp = Some(Timestamp::at(now));
    let c = Rc::new(c);
    let d = member("d", None, true);
    let e = member("e", None, true);
    let pods = [&a, &b, &c, &d, &e];
    let disrupted: BTreeMap<String, Timestamp> = [
        (
            "d".to_string(),
            Timestamp::at(now - SimDuration::from_secs(30)),
        ),
        (
            "e".to_string(),
            Timestamp::at(now - SimDuration::from_secs(121)),
        ),
    ]
    .into();
    // a counts; b is not ready; c is terminating; d was evicted 30 s ago; e's eviction is
    // older than DeletionTimeout, so it counts again.
    assert_eq!(count_healthy_pods(&pods, &disrupted, now), 2);
    assert_eq!(disruptions_allowed(2, 1, 3), 1);
    assert_eq!(disruptions_allowed(1, 2, 3), 0);
    assert_eq!(
        disruptions_allowed(3, 0, 0),
        0,
        "no pod expected: nothing allowed"
    );
}

#[test]
fn disrupted_pods_expire_after_the_deletion_timeout() {
    let now = SimTime::ZERO + SimDuration::from_secs(600);
    let mut b = budget(None, int(1));
    b.status.disrupted_pods = [
        (
            "fresh".to_string(),
            Timestamp::at(now - SimDuration::from_secs(30)),
        ),
        (
            "stale".to_string(),
            Timestamp::at(now - SimDuration::from_secs(150)),
        ),
        (
            "going".to_string(),
            Timestamp::at(now - SimDuration::from_secs(30)),
        ),
        (
            "gone".to_string(),
            Timestamp::at(now - SimDuration::from_secs(30)),
        ),
    ]
    .into();
    let fresh = member("fresh", None, true);
    let stale = member("stale", None, true);
    let mut going = (*member("going", None, true)).clone();
    going.metadata.deletion_timestamp = Some(Timestamp::at(now));
    let going = Rc::new(going);
    let (map, recheck, not_deleted) = build_disrupted_pod_map(&[&fresh, &stale, &going], &b, now);
    assert_eq!(map.keys().collect::<Vec<_>>(), vec!["fresh"]);
    assert_eq!(recheck, Some(now + SimDuration::from_secs(90)));
    assert_eq!(not_deleted.len(), 1);
    assert_eq!(not_deleted[0].metadata.name, "stale");
}

#[test]
fn selectors_print_as_go_does() {
    let sel = LabelSelector {
        match_labels: [("app".to_string(), "zk".to_string())].into(),
        ..Default::default()
    };
    assert_eq!(
        go_selector(Some(&sel)),
        "&LabelSelector{MatchLabels:map[string]string{app: zk,},MatchExpressions:[]LabelSelectorRequirement{},}"
    );
}
