//! Pod and claim writes of the StatefulSet controller (upstream `stateful_pod_control.go`):
//! claims first, then the pod; identity and storage repairs; deletes; the
//! retention-policy ownerRefs on claims; and the Events upstream records for each,
//! with upstream's texts, always on the StatefulSet.
//!
//! Reads go through the informer cache (upstream's pod and claim listers); writes through
//! the API client under the controller's actor.

use super::memo::SetMemo;
use super::retention::{
    get_persistent_volume_claim_retention_policy, has_stale_owner_ref, has_unexpected_controller,
    is_claim_owner_up_to_date, update_claim_owner_ref_for_set_and_pod,
};
use super::utils::{
    POD_KIND, aggregate, get_ordinal, get_persistent_volume_claims, identity_matches,
    storage_matches, update_identity, update_storage,
};
use crate::api::statefulset::names;
use crate::api::{ObjectKey, PersistentVolumeClaim, Pod, StatefulSet, Tables};
use crate::apiserver::{Actor, ApiClient, ApiError, DeleteOptions, EventType};
use crate::component::Ctx;
use crate::control::ControlTimer;
use crate::time::SimTime;
use std::rc::Rc;

/// `retry.DefaultBackoff.Steps`: attempts of `UpdateStatefulPod` on conflict.
const UPDATE_RETRY_STEPS: usize = 4;

/// Upstream `StatefulPodControl` with its `realStatefulPodControlObjectManager`: the
/// controller's client and listers for one sync.
pub struct StatefulPodControl<'a, 'c> {
    ctx: &'a mut Ctx<'c, ControlTimer>,
    actor: &'a Actor,
    /// The informer cache: upstream's pod, claim, revision and set listers.
    pub cache: &'a Tables,
    /// What the controller remembers of this set's pods and claims from earlier syncs
    /// (`memo`): a pass looks up every pod's claims, and a string-keyed search of the
    /// whole claim table per lookup was a hot spot at 1,000 pods.
    pub memo: &'a mut SetMemo,
}

impl<'a, 'c> StatefulPodControl<'a, 'c> {
    /// `memo` must have been begun with the set this sync is about.
    pub fn new(
        ctx: &'a mut Ctx<'c, ControlTimer>,
        actor: &'a Actor,
        cache: &'a Tables,
        memo: &'a mut SetMemo,
    ) -> Self {
        StatefulPodControl {
            ctx,
            actor,
            cache,
            memo,
        }
    }

    /// The API client, writing as `statefulset-controller` at this sync's instant.
    pub fn client(&mut self) -> ApiClient<'_> {
        self.ctx.client(self.actor)
    }

    /// The API client and the memo at once, for steps that write while reading the memo.
    pub fn client_and_memo(&mut self) -> (ApiClient<'_>, &mut SetMemo) {
        (self.ctx.client(self.actor), &mut *self.memo)
    }

    /// The sync's single instant (v1.36 passes one `now` to every availability check).
    pub fn now(&self) -> SimTime {
        self.ctx.now
    }

    fn get_claim(&self, namespace: &str, name: &str) -> Option<&Rc<PersistentVolumeClaim>> {
        self.cache.pvcs.get(&ObjectKey::new(namespace, name))
    }

    /// The cached claim of the set's claim template number `template` for the pod with
    /// `ordinal` (upstream's claim lister `Get` of `getPersistentVolumeClaimName`), found
    /// through the memo's index of the cache's claims.
    fn get_template_claim(
        &self,
        set: &StatefulSet,
        template: usize,
        ordinal: i32,
    ) -> Option<Rc<PersistentVolumeClaim>> {
        debug_assert!(self.memo.is_for(set), "the memo was begun for this set");
        self.memo.find_claim(template, ordinal).cloned()
    }

    // Port of upstream `CreateStatefulPod`. An AlreadyExists error is
    // returned without an Event (so it fails the sync, R-2.7). The claims' retention refs
    // are applied even when the create failed otherwise, as upstream does.
    pub fn create_stateful_pod(&mut self, set: &StatefulSet, pod: &Pod) -> Result<(), String> {
        if let Err(e) = self.create_persistent_volume_claims(set, pod) {
            self.record_pod_event("create", set, pod, Some(&e));
            return Err(e);
        }
        let result = self.client().create(pod.clone()).map(|_| ());
        if let Err(e) = &result
            && e.is_already_exists()
        {
            return Err(e.to_string());
        }
        if let Err(e) = self.update_pod_claim_for_retention_policy(set, pod) {
            self.record_pod_event("update", set, pod, Some(&e));
            return Err(e);
        }
        let result = result.map_err(|e| e.to_string());
        self.record_pod_event("create", set, pod, result.as_ref().err());
        result
    }

    // Port of upstream `UpdateStatefulPod`: repairs identity, storage (creating
    // missing claims) and claim retention refs, then updates the pod, retrying on conflict.
    pub fn update_stateful_pod(&mut self, set: &StatefulSet, pod: &Pod) -> Result<(), String> {
        let mut pod = pod.clone();
        let mut attempted_update = false;
        let mut result = Ok(());
        for _ in 0..UPDATE_RETRY_STEPS {
            let mut consistent = true;
            if !identity_matches(set, &pod) {
                update_identity(set, &mut pod);
                consistent = false;
            }
            if !storage_matches(set, &pod) {
                update_storage(set, &mut pod);
                consistent = false;
                if let Err(e) = self.create_persistent_volume_claims(set, &pod) {
                    self.record_pod_event("update", set, &pod, Some(&e));
                    return Err(e);
                }
            }
            if !self.claims_match_retention_policy(set, &pod) {
                if let Err(e) = self.update_pod_claim_for_retention_policy(set, &pod) {
                    self.record_pod_event("update", set, &pod, Some(&e));
                    return Err(e);
                }
                consistent = false;
            }
            if consistent {
                result = Ok(());
                break;
            }
            attempted_update = true;
            match self.client().update(pod.clone()) {
                Ok(_) => {
                    result = Ok(());
                    break;
                }
                Err(e) => {
                    // Upstream re-reads from its lister after a backoff; here, live.
                    let key = ObjectKey::of(&pod.metadata);
                    if let Some(fresh) = self.client().get::<Pod>(&key) {
                        pod = (*fresh).clone();
                    }
                    let retry = e.is_conflict();
                    result = Err(e.to_string());
                    if !retry {
                        break;
                    }
                }
            }
        }
        if attempted_update {
            self.record_pod_event("update", set, &pod, result.as_ref().err());
        }
        result
    }

    // Port of upstream `DeleteStatefulPod`: the claims are never deleted here.
    pub fn delete_stateful_pod(&mut self, set: &StatefulSet, pod: &Pod) -> Result<(), ApiError> {
        let key = ObjectKey::of(&pod.metadata);
        let result = self
            .client()
            .delete::<Pod>(&key, &DeleteOptions::default())
            .map(|_| ());
        let err = result.as_ref().err().map(ToString::to_string);
        self.record_pod_event("delete", set, pod, err.as_ref());
        result
    }

    // Port of upstream `ClaimsMatchRetentionPolicy`. Missing claims match (they
    // are picked up on a later pass). Upstream's error return is for lister failures, which
    // a cache read cannot have.
    pub fn claims_match_retention_policy(&self, set: &StatefulSet, pod: &Pod) -> bool {
        let ordinal = get_ordinal(pod);
        (0..set.spec.volume_claim_templates.len()).all(|template| {
            self.get_template_claim(set, template, ordinal)
                .is_none_or(|claim| is_claim_owner_up_to_date(&claim, set, pod))
        })
    }

    // Port of upstream `UpdatePodClaimForRetentionPolicy`: rewrites the
    // ownerRefs of `pod`'s existing claims. The update carries the cached resourceVersion
    // and is not retried, as upstream.
    pub fn update_pod_claim_for_retention_policy(
        &mut self,
        set: &StatefulSet,
        pod: &Pod,
    ) -> Result<(), String> {
        let ordinal = get_ordinal(pod);
        for template in 0..set.spec.volume_claim_templates.len() {
            let Some(claim) = self.get_template_claim(set, template, ordinal) else {
                continue;
            };
            let name = &claim.metadata.name;
            if has_unexpected_controller(&claim, set, pod) {
                // The typo "manging" is upstream's.
                let message = format!(
                    "PersistentVolumeClaim {name} has a conflicting OwnerReference that acts as a manging controller, the retention policy is ignored for this claim"
                );
                self.client()
                    .event(set, EventType::Warning, "ConflictingController", message);
            }
            if !is_claim_owner_up_to_date(&claim, set, pod) {
                let mut claim = (*claim).clone();
                update_claim_owner_ref_for_set_and_pod(&mut claim, set, pod);
                self.client().update(claim).map_err(|e| {
                    format!("could not update claim {name} for delete policy ownerRefs: {e}")
                })?;
            }
        }
        Ok(())
    }

    // Port of upstream `PodClaimIsStale`: with whenScaled=Delete, a claim
    // that still names a pod of this name with another uid (any uid, for a placeholder)
    // belongs to a previous incarnation and blocks creation.
    pub fn pod_claim_is_stale(&self, set: &StatefulSet, pod: &Pod) -> Option<String> {
        let policy = get_persistent_volume_claim_retention_policy(set);
        if policy.when_scaled == names::RETAIN {
            return None;
        }
        get_persistent_volume_claims(set, pod)
            .into_values()
            .find(|claim| {
                self.get_claim(&claim.metadata.namespace, &claim.metadata.name)
                    .is_some_and(|pvc| has_stale_owner_ref(pvc, &pod.metadata, POD_KIND))
            })
            .map(|claim| claim.metadata.name)
    }

    // Port of upstream `createMissingPersistentVolumeClaims`: for Pending pods.
    pub fn create_missing_persistent_volume_claims(
        &mut self,
        set: &StatefulSet,
        pod: &Pod,
    ) -> Result<(), String> {
        self.create_persistent_volume_claims(set, pod)?;
        if let Err(e) = self.update_pod_claim_for_retention_policy(set, pod) {
            self.record_pod_event("update", set, pod, Some(&e));
            return Err(e);
        }
        Ok(())
    }

    // Port of upstream `createPersistentVolumeClaims`: creates each missing claim
    // (as the cache sees it); an existing one is reused as is, unless it is being deleted.
    pub fn create_persistent_volume_claims(
        &mut self,
        set: &StatefulSet,
        pod: &Pod,
    ) -> Result<(), String> {
        // Nothing to do when every claim exists and none is being deleted, the case of
        // every Pending pod on every pass: checked without building the claims.
        let ordinal = get_ordinal(pod);
        let all_usable = (0..set.spec.volume_claim_templates.len()).all(|template| {
            self.get_template_claim(set, template, ordinal)
                .is_some_and(|c| c.metadata.deletion_timestamp.is_none())
        });
        if all_usable {
            return Ok(());
        }
        let mut errs = Vec::new();
        for claim in get_persistent_volume_claims(set, pod).into_values() {
            let name = claim.metadata.name.clone();
            match self.get_claim(&claim.metadata.namespace, &name) {
                None => {
                    let result = self.client().create(claim.clone());
                    if let Err(e) = &result {
                        errs.push(format!("failed to create PVC {name}: {e}"));
                    }
                    if !matches!(&result, Err(e) if e.is_already_exists()) {
                        let err = result.err().map(|e| e.to_string());
                        self.record_claim_event("create", set, pod, &claim, err.as_ref());
                    }
                }
                Some(pvc) if pvc.metadata.deletion_timestamp.is_some() => {
                    errs.push(format!("pvc {name} is being deleted"));
                }
                Some(_) => {}
            }
        }
        aggregate(errs)
    }

    // Port of upstream `recordPodEvent`.
    fn record_pod_event(&mut self, verb: &str, set: &StatefulSet, pod: &Pod, err: Option<&String>) {
        let pod_name = &pod.metadata.name;
        let set_name = &set.metadata.name;
        let (type_, reason, message) = match err {
            None => (
                EventType::Normal,
                titled("Successful", verb),
                [
                    verb,
                    " Pod ",
                    pod_name,
                    " in StatefulSet ",
                    set_name,
                    " successful",
                ]
                .concat(),
            ),
            Some(e) => (
                EventType::Warning,
                format!("Failed{}", title(verb)),
                format!("{verb} Pod {pod_name} in StatefulSet {set_name} failed error: {e}"),
            ),
        };
        self.client().event(set, type_, &reason, message);
    }

    // Port of upstream `recordClaimEvent`.
    fn record_claim_event(
        &mut self,
        verb: &str,
        set: &StatefulSet,
        pod: &Pod,
        claim: &PersistentVolumeClaim,
        err: Option<&String>,
    ) {
        let (claim_name, pod_name, set_name) =
            (&claim.metadata.name, &pod.metadata.name, &set.metadata.name);
        let (type_, reason, message) = match err {
            None => (
                EventType::Normal,
                titled("Successful", verb),
                [
                    verb,
                    " Claim ",
                    claim_name,
                    " Pod ",
                    pod_name,
                    " in StatefulSet ",
                    set_name,
                    " success",
                ]
                .concat(),
            ),
            Some(e) => (
                EventType::Warning,
                format!("Failed{}", title(verb)),
                format!(
                    "{verb} Claim {claim_name} for Pod {pod_name} in StatefulSet {set_name} failed error: {e}"
                ),
            ),
        };
        self.client().event(set, type_, &reason, message);
    }
}

/// `prefix` followed by [`title`] of `verb`, built in one string.
fn titled(prefix: &str, verb: &str) -> String {
    let mut s = String::with_capacity(prefix.len() + verb.len() + 2);
    s.push_str(prefix);
    let mut chars = verb.chars();
    if let Some(c) = chars.next() {
        s.extend(c.to_uppercase());
        s.push_str(chars.as_str());
    }
    s
}

/// `strings.Title` of a lower-case verb.
fn title(verb: &str) -> String {
    let mut chars = verb.chars();
    chars.next().map_or_else(String::new, |c| {
        c.to_uppercase().chain(chars).collect::<String>()
    })
}

#[cfg(test)]
mod text_tests {
    #[test]
    fn titled_builds_what_format_builds() {
        for verb in ["create", "delete", "update", "", "ßtrange"] {
            let want = format!("Successful{}", super::title(verb));
            assert_eq!(super::titled("Successful", verb), want);
        }
    }
}
