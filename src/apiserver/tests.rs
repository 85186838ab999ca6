//! The API server's rules, checked directly: identity and versions on create, optimistic
//! concurrency, generation bumps, graceful deletion, finalizers, and the journal.

use super::*;
use crate::api::pod::{Container, phase};
use crate::api::{ObjectKey, ObjectMeta, Pod, StatefulSet, Timestamp};
use crate::time::SimDuration;

fn actor() -> Rc<str> {
    Rc::from("test")
}

fn pod(name: &str) -> Pod {
    Pod {
        metadata: ObjectMeta::named("", name),
        spec: crate::api::pod::PodSpec {
            containers: vec![Container {
                name: "c".into(),
                image: "nginx".into(),
                ..Default::default()
            }],
            ..Default::default()
        },
        ..Default::default()
    }
}

fn t(secs: u64) -> SimTime {
    SimTime::ZERO + SimDuration::from_secs(secs)
}

#[test]
fn create_assigns_identity_defaults_and_versions() {
    let mut api = ApiServer::new(ApiServerConfig::default());
    let p = api.create(t(1), &actor(), pod("a")).unwrap();
    assert_eq!(p.metadata.namespace, "default");
    assert!(!p.metadata.uid.is_empty());
    assert_eq!(p.metadata.resource_version, "1");
    assert_eq!(p.metadata.generation, 1);
    assert_eq!(p.status.phase, phase::PENDING);
    assert_eq!(p.spec.termination_grace_period_seconds, Some(30));
    assert_eq!(p.spec.restart_policy, "Always");
    // DefaultTolerationSeconds adds the two NoExecute tolerations.
    assert_eq!(
        p.spec
            .tolerations
            .iter()
            .filter(|t| t.toleration_seconds == Some(300))
            .count(),
        2
    );
    let again = api.create(t(1), &actor(), pod("a")).unwrap_err();
    assert!(again.is_already_exists());
    assert_eq!(again.to_string(), "pods \"a\" already exists");
    let b = api.create(t(2), &actor(), pod("b")).unwrap();
    assert_ne!(b.metadata.uid, p.metadata.uid);
    assert_eq!(b.metadata.resource_version, "2");
}

#[test]
fn stale_resource_version_conflicts() {
    let mut api = ApiServer::new(ApiServerConfig::default());
    let p = api.create(t(0), &actor(), pod("a")).unwrap();
    let mut first = (*p).clone();
    first.metadata.labels.insert("x".into(), "1".into());
    api.update(t(1), &actor(), first).unwrap();
    let mut stale = (*p).clone();
    stale.metadata.labels.insert("x".into(), "2".into());
    let err = api.update(t(2), &actor(), stale).unwrap_err();
    assert!(err.is_conflict());
    assert!(
        err.to_string()
            .starts_with("Operation cannot be fulfilled on pods \"a\"")
    );
}

#[test]
fn generation_moves_only_with_the_spec_and_noop_updates_write_nothing() {
    let mut api = ApiServer::new(ApiServerConfig::default());
    let mut set = StatefulSet {
        metadata: ObjectMeta::named("default", "web"),
        ..Default::default()
    };
    set.spec.replicas = Some(1);
    let s = api.create(t(0), &actor(), set).unwrap();
    let end = api.journal_end();
    let same = api.update(t(1), &actor(), (*s).clone()).unwrap();
    assert_eq!(api.journal_end(), end, "a no-op update is not a write");
    assert_eq!(same.metadata.resource_version, s.metadata.resource_version);
    let mut labelled = (*s).clone();
    labelled.metadata.labels.insert("a".into(), "b".into());
    let l = api.update(t(1), &actor(), labelled).unwrap();
    assert_eq!(
        l.metadata.generation, 1,
        "metadata changes keep the generation"
    );
    let mut scaled = (*l).clone();
    scaled.spec.replicas = Some(3);
    let sc = api.update(t(2), &actor(), scaled).unwrap();
    assert_eq!(sc.metadata.generation, 2);
    let mut status = (*sc).clone();
    status.status.replicas = 3;
    let st = api.update_status(t(3), &actor(), &status).unwrap();
    assert_eq!(
        st.metadata.generation, 2,
        "status writes keep the generation"
    );
    assert_eq!(st.status.replicas, 3);
}

#[test]
fn pods_on_nodes_are_deleted_gracefully_and_unscheduled_ones_at_once() {
    let mut api = ApiServer::new(ApiServerConfig::default());
    api.create(t(0), &actor(), pod("unscheduled")).unwrap();
    let (_, removed) = api
        .delete::<Pod>(
            t(1),
            &actor(),
            &ObjectKey::new("default", "unscheduled"),
            &Default::default(),
        )
        .unwrap();
    assert!(removed, "a pod with no node has no kubelet to wait for");

    let mut bound = pod("bound");
    bound.spec.node_name = "n1".into();
    api.create(t(0), &actor(), bound).unwrap();
    let key = ObjectKey::new("default", "bound");
    let (p, removed) = api
        .delete::<Pod>(t(10), &actor(), &key, &Default::default())
        .unwrap();
    assert!(!removed);
    assert_eq!(p.metadata.deletion_grace_period_seconds, Some(30));
    assert_eq!(p.metadata.deletion_timestamp.unwrap().time(), t(40));
    // A second delete may shorten the grace period, never lengthen it.
    let (p, _) = api
        .delete::<Pod>(
            t(11),
            &actor(),
            &key,
            &DeleteOptions {
                grace_period_seconds: Some(60),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(p.metadata.deletion_timestamp.unwrap().time(), t(40));
    // The kubelet's final delete (grace 0, uid precondition) removes the object.
    let wrong_uid = DeleteOptions {
        precondition_uid: Some("nope".into()),
        ..DeleteOptions::force()
    };
    assert!(
        api.delete::<Pod>(t(12), &actor(), &key, &wrong_uid)
            .unwrap_err()
            .is_conflict()
    );
    let (_, removed) = api
        .delete::<Pod>(t(12), &actor(), &key, &DeleteOptions::force())
        .unwrap();
    assert!(removed);
    assert!(api.get::<Pod>(&key).is_none());
}

#[test]
fn finalizers_hold_an_object_until_removed() {
    let mut api = ApiServer::new(ApiServerConfig::default());
    let mut set = StatefulSet {
        metadata: ObjectMeta::named("default", "web"),
        ..Default::default()
    };
    set.metadata.finalizers = vec!["example.com/hold".into()];
    api.create(t(0), &actor(), set).unwrap();
    let key = ObjectKey::new("default", "web");
    let (s, removed) = api
        .delete::<StatefulSet>(t(1), &actor(), &key, &Default::default())
        .unwrap();
    assert!(!removed);
    assert!(s.metadata.deletion_timestamp.is_some());
    let mut released = (*s).clone();
    released.metadata.finalizers.clear();
    api.update(t(2), &actor(), released).unwrap();
    assert!(
        api.get::<StatefulSet>(&key).is_none(),
        "the last finalizer's removal deletes the object"
    );
}

#[test]
fn informers_see_writes_after_the_watch_delay() {
    let mut api = ApiServer::new(ApiServerConfig::default());
    let mut inf = Informer::new(SimDuration::from_millis(10));
    api.create(t(0), &actor(), pod("a")).unwrap();
    let mut seen = Vec::new();
    let next = inf.catch_up(&api, t(0), |_, ev, _| seen.push(ev.obj.meta().name.clone()));
    assert!(seen.is_empty());
    assert_eq!(next, Some(t(0) + SimDuration::from_millis(10)));
    let next = inf.catch_up(
        &api,
        t(0) + SimDuration::from_millis(10),
        |old, ev, cache| {
            assert!(old.is_none());
            assert!(cache.pods.contains_key(&ObjectKey::of(ev.obj.meta())));
            seen.push(ev.obj.meta().name.clone());
        },
    );
    assert_eq!(seen, ["a"]);
    assert_eq!(next, None);
}

#[test]
fn identical_events_are_correlated_into_a_count() {
    let mut api = ApiServer::new(ApiServerConfig::default());
    let p = api.create(t(0), &actor(), pod("a")).unwrap();
    let kubelet = Actor::on_host("kubelet", "n1");
    let record = |reason, message: &str| EventRecord {
        type_: EventType::Warning,
        reason,
        message: message.into(),
    };
    for s in [1, 2, 3] {
        api.record_event(t(s), &*p, record("BackOff", "Back-off"), &kubelet, true);
    }
    api.record_event(t(4), &*p, record("Other", "x"), &kubelet, true);
    let events: Vec<_> = (0..api.journal_end())
        .filter_map(|i| match api.journal_entry(i) {
            Some(JournalEntry::Event { event, .. }) => Some((event.reason.clone(), event.count)),
            _ => None,
        })
        .collect();
    assert_eq!(
        events,
        [
            ("BackOff".into(), 1),
            ("BackOff".into(), 2),
            ("BackOff".into(), 3),
            ("Other".into(), 1)
        ]
    );
}

#[test]
fn an_event_that_cannot_be_posted_is_still_counted() {
    let mut api = ApiServer::new(ApiServerConfig::default());
    let p = api.create(t(0), &actor(), pod("a")).unwrap();
    let kubelet = Actor::on_host("kubelet", "n1");
    let record = || EventRecord {
        type_: EventType::Warning,
        reason: "BackOff",
        message: "Back-off".into(),
    };
    // The first one is correlated (named, counted) but its write never happens.
    api.record_event(t(1), &*p, record(), &kubelet, false);
    api.record_event(t(2), &*p, record(), &kubelet, true);
    let written: Vec<_> = (0..api.journal_end())
        .filter_map(|i| match api.journal_entry(i) {
            Some(JournalEntry::Event { event, .. }) => Some((
                event.metadata.name.clone(),
                event.count,
                event.first_timestamp,
            )),
            _ => None,
        })
        .collect();
    assert_eq!(
        written,
        [(
            "a.0000000000000001".to_string(),
            2,
            Some(Timestamp::at(t(1)))
        )]
    );
}
