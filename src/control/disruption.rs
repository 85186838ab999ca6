//! The disruption controller (`pkg/controller/disruption`): keeps each PodDisruptionBudget's
//! status — `expectedPods`, `currentHealthy`, `desiredHealthy`, `disruptionsAllowed`,
//! `observedGeneration`, the `DisruptionAllowed` condition — in step with the pods it
//! selects, and forgets `disruptedPods` entries (written by the eviction subresource) once
//! the pod is seen terminating or after `DeletionTimeout` (2 min).
//!
//! `minAvailable` / `maxUnavailable` may be integers or percentages; percentages (and any
//! `maxUnavailable`) scale against the replicas of the pods' controllers (StatefulSets
//! here), rounded up as `GetScaledValueFromIntOrPercent(…, true)` does. Not ported: the
//! stale-`DisruptionTarget` cleanup worker (an eviction here marks and deletes the pod in
//! one step, so the condition never goes stale) and the `MultiplePodDisruptionBudgets`
//! Event (the first budget by name is the one a pod's changes wake).

use super::{ControlTimer, Controller, Enqueue, Kinds};
use crate::api::meta::Condition;
use crate::api::service::{PodDisruptionBudgetStatus, pdb};
use crate::api::{
    AnyObject, IntOrString, Kind, LabelSelector, ObjectKey, Pod, PodDisruptionBudget, Tables,
    Timestamp,
};
use crate::apiserver::{Actor, EventType, WatchEvent};
use crate::component::Ctx;
use crate::time::{SimDuration, SimTime};
use std::collections::BTreeMap;
use std::rc::Rc;

/// The name it writes under (`names.DisruptionController`).
const COMPONENT: &str = "disruption-controller";
/// The Event source (`v1.EventSource{Component: "controllermanager"}`).
const EVENT_SOURCE: &str = "controllermanager";

/// `DeletionTimeout`: how long after an eviction a pod may still look undeleted before
/// the controller counts it healthy again.
pub const DELETION_TIMEOUT: SimDuration = SimDuration::from_secs(120);

pub struct DisruptionController {
    actor: Actor,
}

impl Default for DisruptionController {
    fn default() -> Self {
        DisruptionController {
            actor: Actor {
                name: Rc::from(COMPONENT),
                ..Actor::new(EVENT_SOURCE)
            },
        }
    }
}

/// The budgets of the pod's namespace that select it, in name order (the policy/v1
/// lister's `GetPodPodDisruptionBudgets`: a pod without labels has none).
pub fn budgets_for_pod<'a>(
    cache: &'a Tables,
    pod: &'a Pod,
) -> impl Iterator<Item = &'a Rc<PodDisruptionBudget>> + 'a {
    cache
        .list_in::<PodDisruptionBudget>(&pod.metadata.namespace)
        .filter(move |b| !pod.metadata.labels.is_empty() && b.selects(&pod.metadata.labels))
}

impl Controller for DisruptionController {
    fn name(&self) -> &'static str {
        COMPONENT
    }

    // The kinds `on_watch` acts on.
    fn watches(&self) -> Kinds {
        Kinds::of(&[Kind::PodDisruptionBudget, Kind::Pod])
    }

    // `addDB`/`updateDB`/`removeDB` and `addPod`/`updatePod`/`deletePod` (`getPdbForPod`).
    fn on_watch(
        &mut self,
        _old: Option<&AnyObject>,
        ev: &WatchEvent,
        cache: &Tables,
        q: &mut Enqueue,
    ) {
        match &ev.obj {
            AnyObject::PodDisruptionBudget(b) => q.add(ObjectKey::of(&b.metadata)),
            AnyObject::Pod(pod) => {
                if let Some(b) = budgets_for_pod(cache, pod).next() {
                    q.add(ObjectKey::of(&b.metadata));
                }
            }
            _ => {}
        }
    }

    // Port of `sync` + `trySync`.
    fn sync(
        &mut self,
        key: &ObjectKey,
        cache: &Tables,
        ctx: &mut Ctx<'_, ControlTimer>,
        q: &mut Enqueue,
    ) -> Result<(), String> {
        let Some(budget) = cache.pdbs.get(key) else {
            return Ok(()); // deleted
        };
        let now = ctx.now;
        let pods: Vec<&Rc<Pod>> = cache
            .list_in::<Pod>(&key.namespace)
            .filter(|p| budget.selects(&p.metadata.labels))
            .collect();
        let mut client = ctx.client(&self.actor);
        if pods.is_empty() {
            let msg = "No matching pods found".to_string();
            client.event(&**budget, EventType::Normal, "NoPods", msg);
        }
        let (expected, desired, unmanaged) = match expected_pod_count(budget, &pods, cache) {
            Ok(v) => v,
            Err(e) => {
                let msg = format!("Failed to calculate the number of expected pods: {e}");
                client.event(
                    &**budget,
                    EventType::Warning,
                    "CalculateExpectedPodCountFailed",
                    msg,
                );
                return fail_safe(budget, &e, now, &mut client);
            }
        };
        if !unmanaged.is_empty() {
            let msg = format!(
                "Pods selected by this PodDisruptionBudget (selector: {}) were found to be unmanaged. \
                 As a result, the status of the PDB cannot be calculated correctly, which may result \
                 in undefined behavior. To account for these pods please set \".spec.minAvailable\" \
                 field of the PDB to an integer value.",
                go_selector(budget.spec.selector.as_ref())
            );
            client.event(&**budget, EventType::Warning, "UnmanagedPods", msg);
        }
        let (disrupted, recheck, not_deleted) = build_disrupted_pod_map(&pods, budget, now);
        for pod in not_deleted {
            // Upstream names the budget's namespace twice.
            let msg = format!(
                "Pod was expected by PDB {}/{} to be deleted but it wasn't",
                budget.metadata.namespace, budget.metadata.namespace
            );
            client.event(&**pod, EventType::Warning, "NotDeleted", msg);
        }
        let current = count_healthy_pods(&pods, &disrupted, now);
        update_pdb_status(
            budget,
            current,
            desired,
            expected,
            disrupted,
            now,
            &mut client,
        )?;
        if let Some(at) = recheck {
            q.add_after(key.clone(), at.saturating_since(now));
        }
        Ok(())
    }
}

// Port of `getExpectedPodCount`: (expectedCount, desiredHealthy, unmanaged pod names).
pub fn expected_pod_count(
    budget: &PodDisruptionBudget,
    pods: &[&Rc<Pod>],
    cache: &Tables,
) -> Result<(i32, i32, Vec<String>), String> {
    let spec = &budget.spec;
    if let Some(max_unavailable) = &spec.max_unavailable {
        let (expected, unmanaged) = expected_scale(pods, cache)?;
        let max = max_unavailable.scaled_value(i64::from(expected), true)?;
        let desired = (i64::from(expected) - max).max(0) as i32;
        return Ok((expected, desired, unmanaged));
    }
    match &spec.min_available {
        Some(IntOrString::Int(n)) => Ok((pods.len() as i32, *n as i32, Vec::new())),
        Some(pct @ IntOrString::String(_)) => {
            let (expected, unmanaged) = expected_scale(pods, cache)?;
            let min = pct.scaled_value(i64::from(expected), true)?;
            Ok((expected, min as i32, unmanaged))
        }
        None => Ok((0, 0, Vec::new())),
    }
}

// Port of `getExpectedScale` with the StatefulSet finder (`getPodStatefulSet`): the sum of
// the replicas of the pods' controllers, each counted once.
fn expected_scale(pods: &[&Rc<Pod>], cache: &Tables) -> Result<(i32, Vec<String>), String> {
    let mut scales: BTreeMap<String, i32> = BTreeMap::new();
    let mut unmanaged = Vec::new();
    for pod in pods {
        let Some(r) = pod.metadata.controller_ref() else {
            unmanaged.push(pod.metadata.name.clone());
            continue;
        };
        if scales.contains_key(&r.uid) {
            continue;
        }
        let group = r.api_version.rsplit_once('/').map_or("", |(g, _)| g);
        let set = (r.kind == "StatefulSet" && group == "apps")
            .then(|| {
                cache
                    .stateful_sets
                    .get(&ObjectKey::new(&pod.metadata.namespace, &r.name))
            })
            .flatten()
            .filter(|s| s.metadata.uid == r.uid);
        match set {
            Some(s) => {
                scales.insert(r.uid.clone(), s.spec.replicas.unwrap_or(1));
            }
            None => {
                return Err(format!(
                    "found no controllers for pod {:?}",
                    pod.metadata.name
                ));
            }
        }
    }
    Ok((scales.values().sum(), unmanaged))
}

// Port of `buildDisruptedPodMap`: entries for pods not yet seen terminating and evicted less
// than `DeletionTimeout` ago; the earliest time one of them expires; and the pods whose
// entry expired without a deletion.
pub fn build_disrupted_pod_map<'a>(
    pods: &[&'a Rc<Pod>],
    budget: &PodDisruptionBudget,
    now: SimTime,
) -> (
    BTreeMap<String, Timestamp>,
    Option<SimTime>,
    Vec<&'a Rc<Pod>>,
) {
    let mut result = BTreeMap::new();
    let mut recheck: Option<SimTime> = None;
    let mut not_deleted = Vec::new();
    for pod in pods {
        if pod.metadata.deletion_timestamp.is_some() {
            continue;
        }
        let Some(&at) = budget.status.disrupted_pods.get(&pod.metadata.name) else {
            continue;
        };
        let expected_deletion = at.time() + DELETION_TIMEOUT;
        if expected_deletion < now {
            not_deleted.push(*pod);
        } else {
            recheck = Some(recheck.map_or(expected_deletion, |r| r.min(expected_deletion)));
            result.insert(pod.metadata.name.clone(), at);
        }
    }
    (result, recheck, not_deleted)
}

// Port of `countHealthyPods`: Ready pods that are neither terminating nor freshly evicted.
pub fn count_healthy_pods(
    pods: &[&Rc<Pod>],
    disrupted: &BTreeMap<String, Timestamp>,
    now: SimTime,
) -> i32 {
    pods.iter()
        .filter(|p| p.metadata.deletion_timestamp.is_none())
        .filter(|p| {
            disrupted
                .get(&p.metadata.name)
                .is_none_or(|at| at.time() + DELETION_TIMEOUT <= now)
        })
        .filter(|p| p.is_ready())
        .count() as i32
}

/// `disruptionsAllowed`: what the budget can still lose, never negative, and 0 while no
/// pod is expected (so that a budget that matched nothing is safe when its pods appear).
pub fn disruptions_allowed(current: i32, desired: i32, expected: i32) -> i32 {
    let allowed = current - desired;
    if expected <= 0 || allowed <= 0 {
        0
    } else {
        allowed
    }
}

// Port of `updatePdbStatus`.
fn update_pdb_status(
    budget: &PodDisruptionBudget,
    current: i32,
    desired: i32,
    expected: i32,
    disrupted: BTreeMap<String, Timestamp>,
    now: SimTime,
    client: &mut crate::apiserver::ApiClient<'_>,
) -> Result<(), String> {
    let allowed = disruptions_allowed(current, desired, expected);
    let s = &budget.status;
    if s.current_healthy == current
        && s.desired_healthy == desired
        && s.expected_pods == expected
        && s.disruptions_allowed == allowed
        && s.disrupted_pods == disrupted
        && s.observed_generation == budget.metadata.generation
        && budget.conditions_are_up_to_date()
    {
        return Ok(());
    }
    let mut next = budget.clone();
    next.status = PodDisruptionBudgetStatus {
        observed_generation: budget.metadata.generation,
        disrupted_pods: disrupted,
        disruptions_allowed: allowed,
        current_healthy: current,
        desired_healthy: desired,
        expected_pods: expected,
        conditions: budget.status.conditions.clone(),
    };
    next.update_disruption_allowed_condition(Timestamp::at(now));
    client.update_status(&next).map_err(|e| e.to_string())?;
    Ok(())
}

// Port of `failSafe`: if the status cannot be computed, at least allow no disruption.
fn fail_safe(
    budget: &PodDisruptionBudget,
    err: &str,
    now: SimTime,
    client: &mut crate::apiserver::ApiClient<'_>,
) -> Result<(), String> {
    let mut next = budget.clone();
    next.status.disruptions_allowed = 0;
    let condition = Condition {
        type_: pdb::DISRUPTION_ALLOWED.into(),
        status: "False".into(),
        observed_generation: next.status.observed_generation,
        last_transition_time: None,
        reason: pdb::SYNC_FAILED.into(),
        message: err.to_string(),
    };
    Condition::set(&mut next.status.conditions, condition, Timestamp::at(now));
    client.update_status(&next).map_err(|e| e.to_string())?;
    Ok(())
}

/// A label selector as Go's `%v` prints a `*metav1.LabelSelector`.
fn go_selector(sel: Option<&LabelSelector>) -> String {
    let Some(sel) = sel else {
        return "nil".into();
    };
    let labels: String = sel
        .match_labels
        .iter()
        .map(|(k, v)| format!("{k}: {v},"))
        .collect();
    let exprs: String = sel
        .match_expressions
        .iter()
        .map(|r| {
            format!(
                "LabelSelectorRequirement{{Key:{},Operator:{},Values:[{}],}},",
                r.key,
                r.operator,
                r.values.join(" ")
            )
        })
        .collect();
    format!(
        "&LabelSelector{{MatchLabels:map[string]string{{{labels}}},MatchExpressions:[]LabelSelectorRequirement{{{exprs}}},}}"
    )
}

#[cfg(test)]
mod tests;
