//! A tiny world for the checks' unit tests: an API server written by hand (as the
//! controller and kubelets would write it), with every new journal entry fed to [`Checks`]
//! as the engine feeds it, and a clock moved by the test.

use super::Checks;
use crate::api::pod::{Container, PersistentVolumeClaimVolumeSource, PodSpec, Volume, phase};
use crate::api::statefulset::{StatefulSetSpec, names};
use crate::api::{
    LabelSelector, ObjectKey, ObjectMeta, OwnerReference, PersistentVolumeClaim, Pod, StatefulSet,
    Timestamp,
};
use crate::apiserver::{Actor, ApiClient, ApiServer};
use crate::time::{SimDuration, SimTime};
use std::collections::BTreeMap;

pub use names::{ORDERED_READY as OrderedReady, PARALLEL as Parallel};

pub fn secs(s: u64) -> SimDuration {
    SimDuration::from_secs(s)
}
pub fn ms(m: u64) -> SimDuration {
    SimDuration::from_millis(m)
}

/// StatefulSet `web` (selector `app=web`, claim template `www`) with `replicas`.
pub fn web_set(policy: &str, replicas: i32) -> StatefulSet {
    let labels = BTreeMap::from([("app".to_string(), "web".to_string())]);
    let mut set = StatefulSet {
        metadata: ObjectMeta::named("default", "web"),
        spec: StatefulSetSpec {
            replicas: Some(replicas),
            selector: LabelSelector {
                match_labels: labels.clone(),
                ..Default::default()
            },
            service_name: "web".into(),
            pod_management_policy: policy.into(),
            volume_claim_templates: vec![PersistentVolumeClaim {
                metadata: ObjectMeta::named("", "www"),
                ..Default::default()
            }],
            ..Default::default()
        },
        ..Default::default()
    };
    set.spec.template.metadata.labels = labels;
    set.spec.template.spec.containers = vec![Container {
        name: "nginx".into(),
        image: "nginx".into(),
        ..Default::default()
    }];
    set
}

pub struct Cluster {
    pub api: ApiServer,
    pub checks: Checks,
    pub now: SimTime,
    fed: u64,
}

impl Cluster {
    /// Watch delay 10 ms.
    pub fn new() -> Self {
        Cluster {
            api: ApiServer::new(Default::default()),
            checks: Checks::new(ms(10)),
            now: SimTime::ZERO,
            fed: 0,
        }
    }

    /// Writes as `actor` now (an event after the others of this instant), then feeds the
    /// checks like the engine's `after_event`.
    pub fn write<R>(&mut self, actor: &'static str, f: impl FnOnce(&mut ApiClient<'_>) -> R) -> R {
        self.checks.before_event(self.now, &self.api);
        let actor = Actor::new(actor);
        let r = f(&mut ApiClient::new(&mut self.api, &actor, self.now));
        self.feed();
        r
    }

    fn feed(&mut self) {
        let end = self.api.journal_end();
        for i in self.fed..end {
            let entry = self.api.journal_entry(i).expect("kept").clone();
            self.checks.on_entry(&entry, &self.api);
        }
        self.fed = end;
        self.checks.after_event(self.now, std::iter::empty());
    }

    /// Moves the clock to the end of the instant `d` from now (an event with no writes
    /// there, and the instant over).
    pub fn advance(&mut self, d: SimDuration) {
        self.now = self.now + d;
        self.feed();
        self.checks.instant_ended(self.now, &self.api);
    }

    pub fn finish(&mut self) {
        self.checks.finish(self.now, &self.api);
    }

    /// The findings of `invariant` so far, as `invariant: message` (the tests write only
    /// the objects one check needs, which may upset the others).
    pub fn findings(&self, invariant: &str) -> Vec<String> {
        self.checks
            .findings()
            .iter()
            .filter(|f| f.invariant == invariant)
            .map(|f| format!("{}: {}", f.invariant, f.message))
            .collect()
    }

    pub fn create_set(&mut self, set: StatefulSet) {
        self.write("kubectl", |c| c.create(set).expect("new set"));
    }

    fn set(&self, name: &str) -> StatefulSet {
        (**self
            .api
            .get::<StatefulSet>(&ObjectKey::new("default", name))
            .expect("the set exists"))
        .clone()
    }

    /// Creates pod `<set>-<ordinal>` as the controller would, mounting `claim` as `www`.
    /// Returns its uid.
    pub fn create_member_pod(&mut self, set: &str, ordinal: i32, claim: &str) -> String {
        let s = self.set(set);
        let mut meta = ObjectMeta::named("default", &format!("{set}-{ordinal}"));
        meta.labels = s.spec.template.metadata.labels.clone();
        meta.labels
            .insert("controller-revision-hash".into(), format!("{set}-r1"));
        meta.owner_references = vec![OwnerReference {
            api_version: "apps/v1".into(),
            kind: "StatefulSet".into(),
            name: set.into(),
            uid: s.metadata.uid.clone(),
            controller: Some(true),
            block_owner_deletion: Some(true),
        }];
        let pod = Pod {
            metadata: meta,
            spec: PodSpec {
                containers: s.spec.template.spec.containers.clone(),
                volumes: vec![Volume {
                    name: "www".into(),
                    persistent_volume_claim: Some(PersistentVolumeClaimVolumeSource {
                        claim_name: claim.into(),
                        read_only: false,
                    }),
                    ..Default::default()
                }],
                ..Default::default()
            },
            ..Default::default()
        };
        self.write("statefulset-controller", |c| {
            c.create(pod).expect("new pod").metadata.uid.clone()
        })
    }

    fn pod_status(&mut self, name: &str, running: bool, ready: bool) {
        let now = self.now;
        self.write("kubelet/worker-a-1", |c| {
            let mut p = (*c
                .get::<Pod>(&ObjectKey::new("default", name))
                .expect("the pod exists"))
            .clone();
            p.status.phase = if running {
                phase::RUNNING
            } else {
                phase::PENDING
            }
            .into();
            p.set_condition("Ready", ready, Timestamp::at(now), "");
            c.update_status(&p).expect("no conflict");
        });
    }

    pub fn mark_running_ready(&mut self, name: &str) {
        self.pod_status(name, true, true);
    }

    pub fn mark_not_ready(&mut self, name: &str) {
        self.pod_status(name, true, false);
    }

    /// Writes `status` = [replicas, ready, current, updated] at revision `<set>-r1`.
    pub fn set_status(&mut self, name: &str, counts: [i32; 4]) {
        let mut s = self.set(name);
        let st = &mut s.status;
        [
            st.replicas,
            st.ready_replicas,
            st.current_replicas,
            st.updated_replicas,
        ] = counts;
        st.current_revision = format!("{name}-r1");
        st.update_revision = format!("{name}-r1");
        self.write("statefulset-controller", |c| {
            c.update_status(&s).expect("no conflict");
        });
    }

    /// A spec write to the set that changes nothing the status depends on.
    pub fn touch_set(&mut self, name: &str) {
        let mut s = self.set(name);
        s.spec.revision_history_limit = Some(s.spec.revision_history_limit.unwrap_or(10) + 1);
        self.write("kubectl", |c| {
            c.update(s).expect("no conflict");
        });
    }
}
