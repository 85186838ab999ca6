//! The eviction subresource (`POST pods/NAME/eviction`, policy/v1 `Eviction`): a delete
//! that a PodDisruptionBudget may refuse. Port of `pkg/registry/core/pod/storage/eviction.go`.
//!
//! Answers: 200 (`Ok`, the pod marked `DisruptionTarget` and deleted gracefully); 429
//! (`TooManyRequests`) while the budget allows no disruption or its status is older than
//! its spec; 500 (`InternalError`) when several budgets select the pod. A successful
//! eviction under a budget spends one of its `disruptionsAllowed` and records the pod in
//! `disruptedPods`, so the next eviction sees the budget spent before the disruption
//! controller has counted the pod gone.

use super::{ApiError, ApiServer, DeleteOptions};
use crate::api::pod::{PodCondition, condition, phase};
use crate::api::service::pdb;
use crate::api::{ObjectKey, Pod, PodDisruptionBudget, Timestamp};
use crate::time::SimTime;
use std::rc::Rc;

/// `MaxDisruptedPodSize`: evictions refused while this many are unconfirmed.
pub const MAX_DISRUPTED_POD_SIZE: usize = 2000;

/// The refusal for a pod that several budgets select.
pub const MULTIPLE_PDBS: &str = "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.";

impl ApiServer {
    // Port of `EvictionREST.Create`.
    /// Evicts pod `key`, honouring the PodDisruptionBudget that selects it.
    pub fn evict(
        &mut self,
        now: SimTime,
        actor: &Rc<str>,
        key: &ObjectKey,
        opts: &DeleteOptions,
    ) -> Result<(), ApiError> {
        let pod = self
            .get::<Pod>(key)
            .cloned()
            .ok_or_else(|| ApiError::NotFound {
                kind: crate::api::Kind::Pod,
                name: key.name.clone(),
            })?;
        // A pod that is done, never started or already going has caused its disruption.
        if can_ignore_pdb(&pod) {
            return self.add_condition_and_delete_pod(now, actor, key, opts);
        }
        let budgets: Vec<Rc<PodDisruptionBudget>> = self
            .objects()
            .list_in::<PodDisruptionBudget>(&key.namespace)
            .filter(|b| b.selects(&pod.metadata.labels))
            .cloned()
            .collect();
        if budgets.len() > 1 {
            return Err(ApiError::InternalError {
                message: MULTIPLE_PDBS.into(),
            });
        }
        if let Some(budget) = budgets.first() {
            // Only a healthy (Ready) pod is guarded; an unhealthy one goes without spending
            // the budget when the policy says AlwaysAllow, or (IfHealthyBudget, the default)
            // while the application is not disrupted already.
            let unhealthy_goes = !pod.is_ready()
                && (budget.spec.unhealthy_pod_eviction_policy.as_deref()
                    == Some(pdb::ALWAYS_ALLOW)
                    || (budget.status.current_healthy >= budget.status.desired_healthy
                        && budget.status.desired_healthy > 0));
            if !unhealthy_goes {
                self.check_and_decrement(now, actor, &pod.metadata.name, budget)?;
            }
        }
        self.add_condition_and_delete_pod(now, actor, key, opts)
    }

    // Port of `EvictionREST.checkAndDecrement`.
    fn check_and_decrement(
        &mut self,
        now: SimTime,
        actor: &Rc<str>,
        pod_name: &str,
        budget: &PodDisruptionBudget,
    ) -> Result<(), ApiError> {
        let status = &budget.status;
        if status.observed_generation < budget.metadata.generation {
            return Err(ApiError::TooManyRequests);
        }
        let forbidden = |why: &str| ApiError::Forbidden {
            message: format!(
                "poddisruptionbudgets.policy \"{}\" is forbidden: {why}",
                budget.metadata.name
            ),
        };
        if status.disruptions_allowed < 0 {
            return Err(forbidden("pdb disruptions allowed is negative"));
        }
        if status.disrupted_pods.len() > MAX_DISRUPTED_POD_SIZE {
            return Err(forbidden(
                "DisruptedPods map too big - too many evictions not confirmed by PDB controller",
            ));
        }
        if status.disruptions_allowed == 0 {
            return Err(ApiError::TooManyRequests);
        }
        let mut next = budget.clone();
        next.status.disruptions_allowed -= 1;
        if next.status.disruptions_allowed == 0 {
            next.update_disruption_allowed_condition(Timestamp::at(now));
        }
        next.status
            .disrupted_pods
            .insert(pod_name.to_string(), Timestamp::at(now));
        self.update_status(now, actor, &next)?;
        Ok(())
    }

    // Port of `addConditionAndDeletePod`: the pod is marked `DisruptionTarget` (reason
    // `EvictionByEvictionAPI`), then deleted with the eviction's options.
    fn add_condition_and_delete_pod(
        &mut self,
        now: SimTime,
        actor: &Rc<str>,
        key: &ObjectKey,
        opts: &DeleteOptions,
    ) -> Result<(), ApiError> {
        if let Some(pod) = self.get::<Pod>(key).cloned() {
            let mut next = (*pod).clone();
            set_disruption_target(&mut next, Timestamp::at(now));
            self.update_status(now, actor, &next)?;
        }
        self.delete::<Pod>(now, actor, key, opts)?;
        Ok(())
    }
}

/// `canIgnorePDB`.
fn can_ignore_pdb(pod: &Pod) -> bool {
    matches!(
        pod.status.phase.as_str(),
        phase::SUCCEEDED | phase::FAILED | phase::PENDING
    ) || pod.metadata.deletion_timestamp.is_some()
}

/// `podutil.UpdatePodCondition` with the eviction's DisruptionTarget condition.
fn set_disruption_target(pod: &mut Pod, now: Timestamp) {
    let new = PodCondition {
        type_: condition::DISRUPTION_TARGET.into(),
        status: "True".into(),
        last_transition_time: Some(now),
        reason: "EvictionByEvictionAPI".into(),
        message: "Eviction API: evicting".into(),
    };
    match pod
        .status
        .conditions
        .iter_mut()
        .find(|c| c.type_ == new.type_)
    {
        Some(c) => {
            if c.status != new.status {
                c.last_transition_time = new.last_transition_time;
            }
            c.status = new.status;
            c.reason = new.reason;
            c.message = new.message;
        }
        None => pod.status.conditions.push(new),
    }
}

#[cfg(test)]
mod tests;
