//! One scheduling cycle (`pkg/scheduler/schedule_one.go`): pick the best feasible node for
//! a pod, assume it in the cache and bind it — or record why it fits nowhere and put it
//! back in the queue. The cycle, including the binding, takes no simulated time.

use super::Scheduler;
use super::binder;
use super::cache::NodeInfo;
use super::diagnosis::{Diagnosis, FitError, NO_NODES_AVAILABLE, truncate_message};
use super::events::ClusterEvent;
use super::framework::{ClusterView, CycleState, Profile};
use super::queue::QueuedPodInfo;
use crate::api::{AnyObject, Pod};
use crate::apiserver::EventType;
use crate::component::Ctx;
use crate::control::ControlTimer;
use crate::rng::SimRng;
use std::rc::Rc;

/// `minFeasibleNodesToFind`.
const MIN_FEASIBLE_NODES_TO_FIND: usize = 100;
/// `minFeasibleNodesPercentageToFind`.
const MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND: usize = 5;

/// Why an attempt failed.
pub enum Failure {
    /// `ErrNoNodesAvailable`: the cluster has no nodes.
    NoNodes,
    /// No node passed the filters.
    Fit(FitError),
    /// Something went wrong outside the plugins' verdicts (a failed binding).
    Error(String),
}

impl Failure {
    fn message(&self) -> String {
        match self {
            Failure::NoNodes => NO_NODES_AVAILABLE.to_string(),
            Failure::Fit(e) => e.message(),
            Failure::Error(m) => m.clone(),
        }
    }
    /// `Status.IsRejected`: the pod does not fit (as opposed to an error).
    fn is_rejected(&self) -> bool {
        !matches!(self, Failure::Error(_))
    }
}

/// `numFeasibleNodesToFind` with the default adaptive `percentageOfNodesToScore`: small
/// clusters are searched whole, large ones until enough feasible nodes are found.
pub fn num_feasible_nodes_to_find(num_all_nodes: usize) -> usize {
    if num_all_nodes < MIN_FEASIBLE_NODES_TO_FIND {
        return num_all_nodes;
    }
    let percentage = 50usize
        .saturating_sub(num_all_nodes / 125)
        .max(MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND);
    (num_all_nodes * percentage / 100).max(MIN_FEASIBLE_NODES_TO_FIND)
}

/// `findNodesThatFitPod` + `findNodesThatPassFilters`: nodes are tried from where the
/// previous cycle stopped (`nextStartNodeIndex`), so every node gets its turn when large
/// clusters are searched only in part.
pub fn find_nodes_that_fit_pod<'n>(
    profile: &Profile,
    next_start: &mut usize,
    state: &CycleState,
    pod: &Pod,
    all_nodes: &[&'n NodeInfo],
) -> (Vec<&'n NodeInfo>, Diagnosis) {
    let mut diagnosis = Diagnosis::default();
    let pre = profile.run_pre_filter_plugins(state, pod);
    diagnosis
        .unschedulable_plugins
        .extend(pre.narrowing.iter().copied());
    if let Some((plugin, rejection)) = pre.rejection {
        diagnosis.unschedulable_plugins.extend(plugin);
        diagnosis.pre_filter_msg = rejection.message();
        return (Vec::new(), diagnosis);
    }
    let nodes: Vec<&NodeInfo> = match &pre.nodes {
        None => all_nodes.to_vec(),
        Some(names) => {
            let mut plugins = pre.narrowing.clone();
            plugins.sort_unstable();
            plugins.dedup();
            diagnosis.absent_nodes_reasons = vec![format!(
                "node(s) didn't satisfy plugin(s) [{}]",
                plugins.join(" ")
            )];
            all_nodes
                .iter()
                .copied()
                .filter(|n| names.contains(&n.name))
                .collect()
        }
    };
    if nodes.is_empty() {
        return (Vec::new(), diagnosis);
    }
    let to_find = num_feasible_nodes_to_find(nodes.len());
    let mut feasible = Vec::new();
    let mut processed = 0;
    let filters = profile.filter_plugins(&pre.skip);
    for i in 0..nodes.len() {
        if feasible.len() >= to_find {
            break;
        }
        let node = nodes[(*next_start + i) % nodes.len()];
        processed += 1;
        match Profile::run_filter_plugins(&filters, state, pod, node) {
            Ok(()) => feasible.push(node),
            Err((plugin, rejection)) => {
                diagnosis.unschedulable_plugins.insert(plugin);
                diagnosis.node_to_status.push(rejection.reasons);
            }
        }
    }
    *next_start = (*next_start + processed) % all_nodes.len();
    (feasible, diagnosis)
}

/// `selectHost`: the highest total score; ties are broken by reservoir sampling, so each
/// of the k tied nodes wins with probability 1/k, drawn from the scheduler's own stream.
pub fn select_host(nodes: &[&NodeInfo], scores: &[i64], rng: &mut SimRng) -> String {
    let mut selected = 0;
    let mut max = scores[0];
    let mut count = 1u64;
    for (i, &s) in scores.iter().enumerate().skip(1) {
        if s > max {
            max = s;
            selected = i;
            count = 1;
        } else if s == max {
            count += 1;
            if rng.below(count) == 0 {
                selected = i;
            }
        }
    }
    nodes[selected].name.clone()
}

impl Scheduler {
    /// What the plugins may look at this cycle: the cache's nodes, and the Services and
    /// StatefulSets of the pod's namespace from the informer.
    fn cluster_view(&self, pod: &Pod) -> ClusterView {
        let ns = &pod.metadata.namespace;
        let cache = &self.informer.cache;
        ClusterView {
            nodes: self.cache.shared_snapshot(),
            services: cache.list_in::<crate::api::Service>(ns).cloned().collect(),
            stateful_sets: cache
                .list_in::<crate::api::StatefulSet>(ns)
                .cloned()
                .collect(),
        }
    }

    /// `schedulePod`: the chosen node, or why there is none.
    fn schedule_pod(
        &mut self,
        state: &CycleState,
        pod: &Pod,
        rng: &mut SimRng,
    ) -> Result<String, Failure> {
        let nodes = self.cache.snapshot();
        if nodes.is_empty() {
            return Err(Failure::NoNodes);
        }
        let (feasible, diagnosis) = find_nodes_that_fit_pod(
            &self.profile,
            &mut self.next_start_node_index,
            state,
            pod,
            &nodes,
        );
        match feasible.len() {
            0 => Err(Failure::Fit(FitError {
                num_all_nodes: nodes.len(),
                diagnosis,
            })),
            // One candidate needs no scoring (and draws no random number).
            1 => Ok(feasible[0].name.clone()),
            _ => {
                let scores = self.profile.run_score_plugins(state, pod, &feasible);
                Ok(select_host(&feasible, &scores, rng))
            }
        }
    }

    /// `ScheduleOne`: one attempt for the popped pod, binding included.
    pub(super) fn schedule_one(&mut self, info: QueuedPodInfo, ctx: &mut Ctx<'_, ControlTimer>) {
        let pod = Rc::clone(&info.pod);
        // `skipPodSchedule`: a pod being deleted is dropped (with an Event saying so).
        if pod.metadata.deletion_timestamp.is_some() {
            let msg = format!(
                "skip schedule deleting pod: {}/{}",
                pod.metadata.namespace, pod.metadata.name
            );
            ctx.client(&self.actor)
                .event(&*pod, EventType::Warning, "FailedScheduling", msg);
            return;
        }
        if self.cache.is_assumed(&pod.metadata.uid) {
            return;
        }
        let state = CycleState::new(&pod).with_cluster(self.cluster_view(&pod));
        state.write(
            super::volume_binder::STORAGE_STATE_KEY,
            Rc::clone(&self.storage),
        );
        let host = match self.schedule_pod(&state, &pod, ctx.rng) {
            Ok(host) => host,
            Err(failure) => return self.handle_scheduling_failure(info, failure, ctx),
        };
        drop(state);
        // `assume`: count the pod on its node before the binding is seen back.
        let mut assumed = (*pod).clone();
        assumed.spec.node_name = host.clone();
        let assumed = Rc::new(assumed);
        self.cache.assume_pod(Rc::clone(&assumed));
        // Reserve and PreBind of VolumeBinding: the pod may have to wait for its volumes.
        if !self.volume_binding_reserve_and_pre_bind(&info, &assumed, &host, ctx) {
            return;
        }
        let bound = binder::bind(&mut ctx.client(&self.actor), &pod, &host);
        match bound {
            Ok(()) => {
                let msg = format!(
                    "Successfully assigned {}/{} to {}",
                    pod.metadata.namespace, pod.metadata.name, host
                );
                ctx.client(&self.actor)
                    .event(&*assumed, EventType::Normal, "Scheduled", msg);
            }
            Err(msg) => {
                // `handleBindingCycleError`: forgetting the assumed pod frees space, which
                // is an assigned-pod delete for every other waiting pod.
                self.cache.forget_pod(&assumed);
                let uid = pod.metadata.uid.clone();
                let old = AnyObject::Pod(Rc::clone(&assumed));
                self.queue.move_all_to_active_or_backoff_queue(
                    &self.profile,
                    &ClusterEvent::ASSIGNED_POD_DELETE,
                    Some(&old),
                    None,
                    ctx.now,
                    &|p| p.metadata.uid != uid,
                );
                self.handle_scheduling_failure(info, Failure::Error(msg), ctx);
            }
        }
    }

    /// `handleSchedulingFailure`: requeue the pod (as the informer now has it, unless it is
    /// gone or bound meanwhile), record a FailedScheduling Event and set
    /// `PodScheduled=False`.
    pub(super) fn handle_scheduling_failure(
        &mut self,
        mut info: QueuedPodInfo,
        failure: Failure,
        ctx: &mut Ctx<'_, ControlTimer>,
    ) {
        let reason = if failure.is_rejected() {
            "Unschedulable"
        } else {
            "SchedulerError"
        };
        let message = failure.message();
        if let Failure::Fit(e) = &failure {
            info.unschedulable_plugins = e.diagnosis.unschedulable_plugins.clone();
        }
        let pod = Rc::clone(&info.pod);
        let cached = self
            .informer
            .cache
            .pods
            .get(&info.key())
            .filter(|p| p.status.phase != "Succeeded" && p.status.phase != "Failed")
            .cloned();
        if let Some(cached) = cached
            && cached.spec.node_name.is_empty()
        {
            info.pod = cached;
            self.queue.add_unschedulable_if_not_present(info, ctx.now);
        }
        let mut client = ctx.client(&self.actor);
        client.event(
            &*pod,
            EventType::Warning,
            "FailedScheduling",
            truncate_message(&message),
        );
        binder::set_unschedulable_condition(&mut client, &pod, reason, &message);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn large_clusters_are_searched_in_part() {
        assert_eq!(num_feasible_nodes_to_find(6), 6);
        assert_eq!(num_feasible_nodes_to_find(99), 99);
        assert_eq!(num_feasible_nodes_to_find(150), 100);
        assert_eq!(num_feasible_nodes_to_find(1000), 420);
        assert_eq!(num_feasible_nodes_to_find(10_000), 500);
    }
}
