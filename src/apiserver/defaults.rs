//! API defaulting (`pkg/apis/*/v1/defaults.go`).

use crate::api::StatefulSet;
use crate::api::pod::{PodSpec, Probe};
use crate::api::statefulset::{
    RollingUpdateStatefulSetStrategy, StatefulSetPersistentVolumeClaimRetentionPolicy, names,
};

/// `SetDefaults_PodSpec`, `SetDefaults_Probe` and the container defaults that matter here.
pub fn pod_spec(spec: &mut PodSpec) {
    if spec.restart_policy.is_empty() {
        spec.restart_policy = "Always".into();
    }
    spec.termination_grace_period_seconds.get_or_insert(30);
    if spec.scheduler_name.is_empty() {
        spec.scheduler_name = "default-scheduler".into();
    }
    for c in spec
        .init_containers
        .iter_mut()
        .chain(spec.containers.iter_mut())
    {
        for p in [
            &mut c.readiness_probe,
            &mut c.liveness_probe,
            &mut c.startup_probe,
        ]
        .into_iter()
        .flatten()
        {
            probe(p);
        }
    }
}

/// `SetDefaults_Probe`.
pub fn probe(p: &mut Probe) {
    p.timeout_seconds.get_or_insert(1);
    p.period_seconds.get_or_insert(10);
    p.success_threshold.get_or_insert(1);
    p.failure_threshold.get_or_insert(3);
}

/// `SetDefaults_StatefulSet`: podManagementPolicy OrderedReady; updateStrategy
/// RollingUpdate with `rollingUpdate: {partition: 0}` when no type is given; partition 0
/// when rollingUpdate is given; retention Retain/Retain; replicas 1; history limit 10.
/// `type: RollingUpdate` without `rollingUpdate` leaves it nil, as upstream does.
pub fn stateful_set(set: &mut StatefulSet) {
    let spec = &mut set.spec;
    if spec.pod_management_policy.is_empty() {
        spec.pod_management_policy = names::ORDERED_READY.into();
    }
    if spec.update_strategy.type_.is_empty() {
        spec.update_strategy.type_ = names::ROLLING_UPDATE.into();
        spec.update_strategy
            .rolling_update
            .get_or_insert_with(RollingUpdateStatefulSetStrategy::default);
    }
    if spec.update_strategy.type_ == names::ROLLING_UPDATE
        && let Some(ru) = spec.update_strategy.rolling_update.as_mut()
    {
        ru.partition.get_or_insert(0);
    }
    let retention = spec
        .persistent_volume_claim_retention_policy
        .get_or_insert_with(StatefulSetPersistentVolumeClaimRetentionPolicy::default);
    if retention.when_deleted.is_empty() {
        retention.when_deleted = names::RETAIN.into();
    }
    if retention.when_scaled.is_empty() {
        retention.when_scaled = names::RETAIN.into();
    }
    spec.replicas.get_or_insert(1);
    spec.revision_history_limit.get_or_insert(10);
    pod_spec(&mut spec.template.spec);
    for claim in &mut spec.volume_claim_templates {
        if claim.spec.volume_mode.is_none() {
            claim.spec.volume_mode = Some("Filesystem".into());
        }
    }
}
