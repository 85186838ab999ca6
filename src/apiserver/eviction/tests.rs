//! The eviction subresource's answers, after upstream's `eviction_test.go`: 200 with and
//! without a budget, 429 when the budget is spent or stale, 500 for overlapping budgets,
//! and the unhealthy-pod policies.

use super::*;
use crate::api::service::PodDisruptionBudgetStatus;
use crate::api::{IntOrString, LabelSelector, ObjectMeta};
use crate::apiserver::ApiServerConfig;
use crate::time::SimDuration;

fn actor() -> Rc<str> {
    Rc::from("test")
}

fn t(secs: u64) -> SimTime {
    SimTime::ZERO + SimDuration::from_secs(secs)
}

fn key(name: &str) -> ObjectKey {
    ObjectKey::new("default", name)
}

/// A bound, Running pod labelled app=zk, Ready or not.
fn running(api: &mut ApiServer, name: &str, ready: bool) {
    let mut p = Pod {
        metadata: ObjectMeta::named("default", name),
        ..Default::default()
    };
    p.metadata.labels.insert("app".into(), "zk".into());
    p.spec.containers = vec![crate::api::pod::Container {
        name: "c".into(),
        image: "zk".into(),
        ..Default::default()
    }];
    let p = api.create(t(0), &actor(), p).unwrap();
    let mut bound = (*p).clone();
    bound.spec.node_name = "n1".into();
    let bound = api.update(t(0), &actor(), bound).unwrap();
    let mut st = (*bound).clone();
    st.status.phase = phase::RUNNING.into();
    st.set_condition(condition::READY, ready, Timestamp::at(t(0)), "");
    api.update_status(t(0), &actor(), &st).unwrap();
}

/// A budget over app=zk with the given status (observed at its generation).
fn budget(api: &mut ApiServer, name: &str, allowed: i32, current: i32, desired: i32) {
    let mut b = PodDisruptionBudget {
        metadata: ObjectMeta::named("default", name),
        ..Default::default()
    };
    b.spec.max_unavailable = Some(IntOrString::Int(1));
    b.spec.selector = Some(LabelSelector {
        match_labels: [("app".to_string(), "zk".to_string())].into(),
        ..Default::default()
    });
    let b = api.create(t(0), &actor(), b).unwrap();
    let mut s = (*b).clone();
    s.status = PodDisruptionBudgetStatus {
        observed_generation: b.metadata.generation,
        disruptions_allowed: allowed,
        current_healthy: current,
        desired_healthy: desired,
        expected_pods: 3,
        ..Default::default()
    };
    api.update_status(t(0), &actor(), &s).unwrap();
}

fn pod(api: &ApiServer, name: &str) -> Rc<Pod> {
    api.get::<Pod>(&key(name)).cloned().unwrap()
}

fn pdb(api: &ApiServer, name: &str) -> Rc<PodDisruptionBudget> {
    api.get::<PodDisruptionBudget>(&key(name)).cloned().unwrap()
}

fn evict(api: &mut ApiServer, name: &str) -> Result<(), ApiError> {
    api.evict(t(10), &actor(), &key(name), &DeleteOptions::default())
}

#[test]
fn a_pod_without_a_budget_is_always_evicted_gracefully() {
    let mut api = ApiServer::new(ApiServerConfig::default());
    running(&mut api, "zk-0", true);
    assert_eq!(evict(&mut api, "zk-0"), Ok(()));
    let p = pod(&api, "zk-0");
    assert!(
        p.metadata.deletion_timestamp.is_some(),
        "graceful: still there"
    );
    assert_eq!(p.metadata.deletion_grace_period_seconds, Some(30));
    let c = p.condition(condition::DISRUPTION_TARGET).unwrap();
    assert_eq!(
        (c.status.as_str(), c.reason.as_str()),
        ("True", "EvictionByEvictionAPI")
    );
    assert_eq!(c.message, "Eviction API: evicting");
    let missing = evict(&mut api, "nope").unwrap_err();
    assert!(missing.is_not_found());
}

#[test]
fn each_eviction_spends_the_budget_until_it_refuses_with_429() {
    let mut api = ApiServer::new(ApiServerConfig::default());
    for i in 0..3 {
        running(&mut api, &format!("zk-{i}"), true);
    }
    budget(&mut api, "zk-pdb", 1, 3, 2);
    assert_eq!(evict(&mut api, "zk-0"), Ok(()));
    let b = pdb(&api, "zk-pdb");
    assert_eq!(b.status.disruptions_allowed, 0);
    assert_eq!(
        b.status.disrupted_pods.get("zk-0"),
        Some(&Timestamp::at(t(10)))
    );
    let c = Condition::find(&b.status.conditions, pdb::DISRUPTION_ALLOWED).unwrap();
    assert_eq!(
        (c.status.as_str(), c.reason.as_str()),
        ("False", "InsufficientPods")
    );
    let refused = evict(&mut api, "zk-1").unwrap_err();
    assert_eq!(refused, ApiError::TooManyRequests);
    assert_eq!(
        refused.to_string(),
        "Cannot evict pod as it would violate the pod's disruption budget."
    );
    assert!(pod(&api, "zk-1").metadata.deletion_timestamp.is_none());
    assert!(
        pod(&api, "zk-1")
            .condition(condition::DISRUPTION_TARGET)
            .is_none()
    );
}

use crate::api::meta::Condition;

#[test]
fn a_budget_whose_status_lags_its_spec_refuses() {
    let mut api = ApiServer::new(ApiServerConfig::default());
    running(&mut api, "zk-0", true);
    budget(&mut api, "zk-pdb", 1, 3, 2);
    let mut b = (*pdb(&api, "zk-pdb")).clone();
    b.spec.max_unavailable = Some(IntOrString::Int(2));
    api.update(t(1), &actor(), b).unwrap();
    assert_eq!(evict(&mut api, "zk-0"), Err(ApiError::TooManyRequests));
}

#[test]
fn several_budgets_are_a_500() {
    let mut api = ApiServer::new(ApiServerConfig::default());
    running(&mut api, "zk-0", true);
    budget(&mut api, "a", 1, 3, 2);
    budget(&mut api, "b", 1, 3, 2);
    let err = evict(&mut api, "zk-0").unwrap_err();
    assert_eq!(
        err,
        ApiError::InternalError {
            message: MULTIPLE_PDBS.into()
        }
    );
    assert!(pod(&api, "zk-0").metadata.deletion_timestamp.is_none());
}

#[test]
fn unhealthy_pods_go_while_the_application_is_healthy_enough() {
    // IfHealthyBudget (the default): an unready pod goes without spending the budget while
    // currentHealthy >= desiredHealthy > 0 ...
    let mut api = ApiServer::new(ApiServerConfig::default());
    running(&mut api, "zk-0", false);
    budget(&mut api, "zk-pdb", 0, 2, 2);
    assert_eq!(evict(&mut api, "zk-0"), Ok(()));
    assert_eq!(pdb(&api, "zk-pdb").status.disruptions_allowed, 0);
    assert!(pdb(&api, "zk-pdb").status.disrupted_pods.is_empty());
    // ... and is guarded like a healthy one once the application is disrupted.
    let mut api = ApiServer::new(ApiServerConfig::default());
    running(&mut api, "zk-0", false);
    budget(&mut api, "zk-pdb", 0, 1, 2);
    assert_eq!(evict(&mut api, "zk-0"), Err(ApiError::TooManyRequests));
    // AlwaysAllow: unready pods always go.
    let mut b = (*pdb(&api, "zk-pdb")).clone();
    b.spec.unhealthy_pod_eviction_policy = Some(pdb::ALWAYS_ALLOW.into());
    let b = api.update(t(1), &actor(), b).unwrap();
    let mut s = (*b).clone();
    s.status.observed_generation = b.metadata.generation;
    api.update_status(t(1), &actor(), &s).unwrap();
    assert_eq!(evict(&mut api, "zk-0"), Ok(()));
    // A Ready pod is still guarded under AlwaysAllow.
    running(&mut api, "zk-1", true);
    assert_eq!(evict(&mut api, "zk-1"), Err(ApiError::TooManyRequests));
}

#[test]
fn pending_and_terminating_pods_ignore_the_budget() {
    let mut api = ApiServer::new(ApiServerConfig::default());
    let mut p = Pod {
        metadata: ObjectMeta::named("default", "zk-0"),
        ..Default::default()
    };
    p.metadata.labels.insert("app".into(), "zk".into());
    api.create(t(0), &actor(), p).unwrap();
    budget(&mut api, "zk-pdb", 0, 0, 2);
    assert_eq!(evict(&mut api, "zk-0"), Ok(()));
    assert!(
        api.get::<Pod>(&key("zk-0")).is_none(),
        "unscheduled: gone at once"
    );
    running(&mut api, "zk-1", true);
    api.delete::<Pod>(t(5), &actor(), &key("zk-1"), &DeleteOptions::default())
        .unwrap();
    assert_eq!(evict(&mut api, "zk-1"), Ok(()));
}
