//! Duration SLIs measured from API writes as a watcher sees them: how long from an
//! object's creation to its first write in a wanted state — a pod Running (pod pending
//! time), a pod bound to a node (scheduler pending time), a claim Bound (PVC bind time) —
//! and how long each StatefulSet rollout took (the update revision differs from the
//! current one → every replica updated and Ready, the revisions equal again).

use crate::api::{AnyObject, Pod, StatefulSet};
use crate::apiserver::WatchEvent;
use crate::report::latency::{Distribution, FirstTransitions};
use crate::time::{SimDuration, SimTime};
use std::collections::BTreeMap;

/// A StatefulSet as `(namespace, name)`; `None` groups objects no set owns.
pub type SetKey = Option<(String, String)>;

/// A rollout in progress.
#[derive(Debug)]
struct Rollout {
    started: SimTime,
}

/// All duration SLIs but attach latency (which `report::latency` already measures).
#[derive(Debug, Default)]
pub struct TransitionRecorder {
    pod_pending: FirstTransitions<SetKey>,
    scheduler_pending: FirstTransitions<SetKey>,
    pvc_bind: FirstTransitions<SetKey>,
    rollouts: BTreeMap<(String, String), Rollout>,
    rollout_samples: BTreeMap<SetKey, Vec<SimDuration>>,
}

/// The duration SLIs at the end of a run, grouped by StatefulSet.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Durations {
    pub pod_pending: BTreeMap<SetKey, Distribution>,
    pub scheduler_pending: BTreeMap<SetKey, Distribution>,
    pub pvc_bind: BTreeMap<SetKey, Distribution>,
    pub rollout: BTreeMap<SetKey, Distribution>,
}

fn owner_set(pod: &Pod) -> SetKey {
    pod.metadata
        .controller_ref()
        .filter(|o| o.kind == "StatefulSet")
        .map(|o| (pod.metadata.namespace.clone(), o.name.clone()))
}

impl TransitionRecorder {
    pub fn on_write(&mut self, w: &WatchEvent) {
        match &w.obj {
            AnyObject::Pod(pod) => {
                let uid = &pod.metadata.uid;
                let set = owner_set(pod);
                let running = pod.status.phase == "Running";
                self.pod_pending.observe(w, uid, set.clone(), running);
                let bound = !pod.spec.node_name.is_empty();
                self.scheduler_pending.observe(w, uid, set, bound);
            }
            AnyObject::PersistentVolumeClaim(c) => {
                let bound = c.status.phase == "Bound";
                self.pvc_bind.observe(w, &c.metadata.uid, None, bound);
            }
            AnyObject::StatefulSet(set) => self.on_set(w, set),
            _ => {}
        }
    }

    fn on_set(&mut self, w: &WatchEvent, set: &StatefulSet) {
        let key = (set.metadata.namespace.clone(), set.metadata.name.clone());
        if w.removed {
            self.rollouts.remove(&key);
            return;
        }
        let st = &set.status;
        let rolling = !st.update_revision.is_empty()
            && !st.current_revision.is_empty()
            && st.update_revision != st.current_revision;
        let replicas = set.spec.replicas.unwrap_or(1);
        let done = !rolling
            && st.updated_replicas == replicas
            && st.ready_replicas == replicas
            && st.replicas == replicas;
        match self.rollouts.get(&key) {
            None if rolling => {
                self.rollouts.insert(key, Rollout { started: w.at });
            }
            Some(r) if done => {
                let took = w.at.saturating_since(r.started);
                self.rollout_samples
                    .entry(Some(key.clone()))
                    .or_default()
                    .push(took);
                self.rollouts.remove(&key);
            }
            _ => {}
        }
    }

    pub fn finish(self) -> Durations {
        let mut unfinished: BTreeMap<SetKey, u64> = BTreeMap::new();
        for key in self.rollouts.into_keys() {
            *unfinished.entry(Some(key)).or_default() += 1;
        }
        let mut samples = self.rollout_samples;
        for k in unfinished.keys() {
            samples.entry(k.clone()).or_default();
        }
        let rollout = samples
            .into_iter()
            .map(|(k, s)| {
                let u = unfinished.get(&k).copied().unwrap_or(0);
                (k, Distribution::new(s, u))
            })
            .collect();
        Durations {
            pod_pending: self.pod_pending.finish(),
            scheduler_pending: self.scheduler_pending.finish(),
            pvc_bind: self.pvc_bind.finish(),
            rollout,
        }
    }
}
