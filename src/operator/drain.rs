//! `kubectl drain`, port of kubectl's `RunDrain` (`pkg/cmd/drain`) and `evictPods` /
//! `waitForDelete` (`pkg/drain`): cordon every node, then per node (in name order) evict
//! the pods kubectl's filters let go, each on its own: a refusal (429, the budget is spent)
//! is printed and retried every `EvictErrorRetryDelay` (5 s); an accepted eviction is
//! followed by a poll every second until the pod is gone. `--timeout` bounds each node's
//! evictions; kubectl notices it when a pod next tries (the retry sleep is not interrupted)
//! or while polling.
//!
//! The drain is a state machine driven by operator timers; every line kubectl would print
//! is returned to the caller at the instant it is printed.

use super::kubectl::{Failure, set_unschedulable};
use super::nodes::resolve;
use crate::api::{ObjectKey, Pod};
use crate::apiserver::{ApiClient, ApiError, DeleteOptions};
use crate::scenario::{DrainOptions, NodeTarget};
use crate::time::{SimDuration, SimTime};
use std::collections::BTreeMap;
use std::rc::Rc;

/// `EvictErrorRetryDelay` as `kubectl drain` sets it.
pub const EVICT_ERROR_RETRY_DELAY: SimDuration = SimDuration::from_secs(5);
/// `waitForDelete`'s poll interval.
pub const POLL_INTERVAL: SimDuration = SimDuration::from_secs(1);

const LOCAL_STORAGE_FATAL: &str =
    "Pods with local storage (use --delete-emptydir-data to override)";
const LOCAL_STORAGE_WARNING: &str = "deleting Pods with local storage";
const UNMANAGED_FATAL: &str = "Pods declare no controller (use --force to override)";
const UNMANAGED_WARNING: &str = "deleting Pods that declare no controller";
/// `corev1.MirrorPodAnnotationKey`.
const MIRROR_POD_ANNOTATION: &str = "kubernetes.io/config.mirror";

/// `utilerrors.NewAggregate(errs).Error()`: one error as is, several (distinct) in brackets.
pub(super) fn aggregate(errors: &[String]) -> String {
    let mut seen: Vec<&str> = Vec::new();
    for e in errors {
        if !seen.contains(&e.as_str()) {
            seen.push(e);
        }
    }
    match seen[..] {
        [one] => one.to_string(),
        _ => format!("[{}]", seen.join(", ")),
    }
}

/// What a filter says about one pod (`PodDeleteStatus`).
enum Verdict {
    Okay,
    Skip,
    Warning { delete: bool, message: String },
    Error(String),
}

impl Verdict {
    fn delete(&self) -> bool {
        matches!(self, Verdict::Okay | Verdict::Warning { delete: true, .. })
    }
}

/// `PodDeleteList`: the pods to evict, and the warnings and errors kubectl reports.
pub(super) struct PodDeleteList {
    pub pods: Vec<Rc<Pod>>,
    pub warnings: Option<String>,
    pub errors: Vec<String>,
}

fn terminal(pod: &Pod) -> bool {
    matches!(pod.status.phase.as_str(), "Succeeded" | "Failed")
}

// `daemonSetFilter`: stsim runs no DaemonSets, so the one a pod names is never found (a
// found one would be refused with "DaemonSet-managed Pods (use --ignore-daemonsets to
// ignore)", or skipped with a warning under `--ignore-daemonsets`).
fn daemon_set_filter(pod: &Pod, opts: &DrainOptions) -> Verdict {
    match pod.metadata.controller_ref() {
        Some(r) if r.kind == "DaemonSet" && !terminal(pod) => {
            let not_found = format!("daemonsets.apps {:?} not found", r.name);
            if opts.force {
                Verdict::Warning {
                    delete: true,
                    message: not_found,
                }
            } else {
                Verdict::Error(not_found)
            }
        }
        _ => Verdict::Okay,
    }
}

fn mirror_pod_filter(pod: &Pod) -> Verdict {
    if pod.metadata.annotations.contains_key(MIRROR_POD_ANNOTATION) {
        Verdict::Skip
    } else {
        Verdict::Okay
    }
}

fn local_storage_filter(pod: &Pod, opts: &DrainOptions) -> Verdict {
    let empty_dir = pod
        .spec
        .volumes
        .iter()
        .any(|v| v.other.contains_key("emptyDir"));
    if !empty_dir || terminal(pod) {
        Verdict::Okay
    } else if !opts.delete_emptydir_data {
        Verdict::Error(LOCAL_STORAGE_FATAL.into())
    } else {
        Verdict::Warning {
            delete: true,
            message: LOCAL_STORAGE_WARNING.into(),
        }
    }
}

fn unreplicated_filter(pod: &Pod, opts: &DrainOptions) -> Verdict {
    if terminal(pod) || pod.metadata.controller_ref().is_some() {
        Verdict::Okay
    } else if opts.force {
        Verdict::Warning {
            delete: true,
            message: UNMANAGED_WARNING.into(),
        }
    } else {
        Verdict::Error(UNMANAGED_FATAL.into())
    }
}

// `makeFilters` + the loop of `filterPods`: skipDeleted (a no-op:
// `--skip-wait-for-delete-timeout` is 0), daemonSet, mirrorPod, localStorage, unreplicated;
// the first filter that keeps the pod stops the chain, otherwise the last verdict stands.
fn filter(pod: &Pod, opts: &DrainOptions) -> Verdict {
    let filters: [&dyn Fn() -> Verdict; 4] = [
        &|| daemon_set_filter(pod, opts),
        &|| mirror_pod_filter(pod),
        &|| local_storage_filter(pod, opts),
        &|| unreplicated_filter(pod, opts),
    ];
    let mut verdict = Verdict::Okay;
    for f in filters {
        verdict = f();
        if !verdict.delete() {
            break;
        }
    }
    verdict
}

// Port of `GetPodsForDeletion` + `filterPods`: the node's pods (all namespaces, in
// namespace/name order) through the filters.
pub(super) fn pods_for_deletion(
    client: &ApiClient<'_>,
    node: &str,
    opts: &DrainOptions,
) -> PodDeleteList {
    let mut pods = Vec::new();
    let mut warnings: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut errors: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for pod in client.list::<Pod>() {
        if pod.spec.node_name != node {
            continue;
        }
        let id = format!("{}/{}", pod.metadata.namespace, pod.metadata.name);
        match filter(&pod, opts) {
            Verdict::Okay => pods.push(pod),
            Verdict::Skip => {}
            Verdict::Warning { delete, message } => {
                warnings.entry(message).or_default().push(id);
                if delete {
                    pods.push(pod);
                }
            }
            Verdict::Error(m) => errors.entry(m).or_default().push(id),
        }
    }
    let warnings = (!warnings.is_empty()).then(|| {
        warnings
            .iter()
            .map(|(m, ids)| format!("{m}: {}", ids.join(", ")))
            .collect::<Vec<_>>()
            .join("; ")
    });
    PodDeleteList {
        pods,
        warnings,
        errors: errors
            .into_iter()
            .map(|(m, ids)| format!("cannot delete {m}: {}", ids.join(", ")))
            .collect(),
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Step {
    /// Try (or retry) the eviction.
    Evict,
    /// Poll until the pod is gone.
    Wait,
    Done,
}

/// One pod's goroutine in `evictPods`.
#[derive(Debug)]
struct PodTask {
    key: ObjectKey,
    /// The uid `waitForDelete` compares against (a recreated pod is a new one).
    uid: String,
    step: Step,
}

/// A running `kubectl drain`.
pub struct DrainRun {
    nodes: Vec<String>,
    /// The node being drained (index into `nodes`).
    current: usize,
    opts: DrainOptions,
    /// When this node's evictions give up (`--timeout`).
    deadline: Option<SimTime>,
    tasks: Vec<PodTask>,
    node_errors: Vec<String>,
    fatal: Vec<String>,
    remaining: Vec<String>,
    /// `Some(ok)` once the command has ended.
    pub finished: Option<bool>,
}

/// A step a drain asks to take later: pod task `task` of node number `node`, at `at`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Wake {
    pub at: SimTime,
    pub node: usize,
    pub task: usize,
}

impl DrainRun {
    /// Starts a drain: cordons the nodes and begins on the first. Lines printed go to `out`,
    /// later steps to `wakes`. An error before any node is drained ends the command.
    pub fn start(
        client: &mut ApiClient<'_>,
        target: &NodeTarget,
        opts: &DrainOptions,
        out: &mut Vec<String>,
        wakes: &mut Vec<Wake>,
    ) -> Result<DrainRun, Failure> {
        let nodes: Vec<String> = resolve(client, target)?
            .iter()
            .map(|n| n.metadata.name.clone())
            .collect();
        // `RunCordonOrUncordon(true)`: an error is printed and the drain goes on.
        for n in &nodes {
            match set_unschedulable(client, n, true) {
                Ok(line) => out.push(line),
                Err(e) => out.push(format!(
                    "error: unable to cordon node {n:?}: {}",
                    e.server_text()
                )),
            }
        }
        let mut run = DrainRun {
            nodes,
            current: 0,
            opts: opts.clone(),
            deadline: None,
            tasks: Vec::new(),
            node_errors: Vec::new(),
            fatal: Vec::new(),
            remaining: Vec::new(),
            finished: None,
        };
        run.begin_node(client, out, wakes);
        Ok(run)
    }

    /// The node being drained, if any.
    pub fn current_node(&self) -> Option<&str> {
        self.nodes.get(self.current).map(String::as_str)
    }

    // `deleteOrEvictPodsSimple` for the current node (and the following ones, while a node
    // needs no waiting).
    fn begin_node(
        &mut self,
        client: &mut ApiClient<'_>,
        out: &mut Vec<String>,
        wakes: &mut Vec<Wake>,
    ) {
        loop {
            let Some(node) = self.nodes.get(self.current).cloned() else {
                self.finish(out);
                return;
            };
            let list = pods_for_deletion(client, &node, &self.opts);
            if !list.errors.is_empty() {
                self.node_failed(&node, aggregate(&list.errors), false, client, out);
                continue;
            }
            if let Some(w) = list.warnings {
                out.push(format!("Warning: {w}"));
            }
            let now = client.now();
            self.deadline = self.opts.timeout.map(|t| now + t);
            self.node_errors.clear();
            self.tasks = list
                .pods
                .iter()
                .map(|p| PodTask {
                    key: ObjectKey::of(&p.metadata),
                    uid: p.metadata.uid.clone(),
                    step: Step::Evict,
                })
                .collect();
            for i in 0..self.tasks.len() {
                self.run_task(i, client, out, wakes);
            }
            if !self.node_done(client, out) {
                return;
            }
        }
    }

    /// A wake-up for pod task `w.task`.
    pub fn wake(
        &mut self,
        w: Wake,
        client: &mut ApiClient<'_>,
        out: &mut Vec<String>,
        wakes: &mut Vec<Wake>,
    ) {
        if self.finished.is_some() || w.node != self.current || w.task >= self.tasks.len() {
            return;
        }
        self.run_task(w.task, client, out, wakes);
        if self.node_done(client, out) {
            self.begin_node(client, out, wakes);
        }
    }

    /// If every pod of the node is done: reports the node and moves on. Returns whether it
    /// moved on.
    fn node_done(&mut self, client: &mut ApiClient<'_>, out: &mut Vec<String>) -> bool {
        if self.tasks.iter().any(|t| t.step != Step::Done) {
            return false;
        }
        let node = self.nodes[self.current].clone();
        if self.node_errors.is_empty() {
            out.push(format!("node/{node} drained"));
            self.current += 1;
        } else {
            let err = aggregate(&self.node_errors);
            self.node_failed(&node, err, true, client, out);
        }
        self.tasks.clear();
        true
    }

    fn node_failed(
        &mut self,
        node: &str,
        err: String,
        list_pending: bool,
        client: &ApiClient<'_>,
        out: &mut Vec<String>,
    ) {
        if list_pending {
            let pending = pods_for_deletion(client, node, &self.opts);
            if !pending.pods.is_empty() {
                out.push(format!(
                    "There are pending pods in node {node:?} when an error occurred: {err}"
                ));
                for p in &pending.pods {
                    out.push(format!("pod/{}", p.metadata.name));
                }
            }
        }
        out.push(format!(
            "error: unable to drain node {node:?} due to error: {err}, continuing command..."
        ));
        self.fatal.push(err);
        self.remaining.push(node.to_string());
        self.current += 1;
    }

    fn finish(&mut self, out: &mut Vec<String>) {
        if self.remaining.is_empty() {
            self.finished = Some(true);
            return;
        }
        out.push("There are pending nodes to be drained:".into());
        for n in &self.remaining {
            out.push(format!(" {n}"));
        }
        out.push(format!("error: {}", aggregate(&self.fatal)));
        self.finished = Some(false);
    }

    /// One step of one pod's loop in `evictPods` / `waitForDelete`.
    fn run_task(
        &mut self,
        i: usize,
        client: &mut ApiClient<'_>,
        out: &mut Vec<String>,
        wakes: &mut Vec<Wake>,
    ) {
        let now = client.now();
        let timed_out = self.deadline.is_some_and(|d| now >= d);
        let (ns, name) = (
            self.tasks[i].key.namespace.clone(),
            self.tasks[i].key.name.clone(),
        );
        let wake = |at: SimTime| Wake {
            at,
            node: self.current,
            task: i,
        };
        match self.tasks[i].step {
            Step::Done => {}
            Step::Evict => {
                out.push(format!("evicting pod {ns}/{name}"));
                if timed_out {
                    let t = self.opts.timeout.unwrap_or_default();
                    self.fail(
                        i,
                        format!("error when evicting pods/{name:?} -n {ns:?}: global timeout reached: {t}"),
                    );
                    return;
                }
                let opts = DeleteOptions {
                    grace_period_seconds: self.opts.grace_period_seconds,
                    ..Default::default()
                };
                match client.evict(&self.tasks[i].key, &opts) {
                    Ok(()) => {
                        self.tasks[i].step = Step::Wait;
                        // `waitForDelete` polls at once, then every second.
                        self.run_task(i, client, out, wakes);
                    }
                    Err(e) if e.is_not_found() => self.tasks[i].step = Step::Done,
                    Err(e @ ApiError::TooManyRequests) => {
                        out.push(format!(
                            "error when evicting pods/{name:?} -n {ns:?} (will retry after {EVICT_ERROR_RETRY_DELAY}): {e}"
                        ));
                        // The retry sees the pod as it is then (a recreated pod is another).
                        if let Some(fresh) = client.get::<Pod>(&self.tasks[i].key) {
                            self.tasks[i].uid = fresh.metadata.uid.clone();
                        }
                        wakes.push(wake(now + EVICT_ERROR_RETRY_DELAY));
                    }
                    Err(e) => {
                        self.fail(
                            i,
                            format!("error when evicting pods/{name:?} -n {ns:?}: {e}"),
                        );
                    }
                }
            }
            Step::Wait => {
                let gone = client
                    .get::<Pod>(&self.tasks[i].key)
                    .is_none_or(|p| p.metadata.uid != self.tasks[i].uid);
                if gone {
                    out.push(format!("pod/{name} evicted"));
                    self.tasks[i].step = Step::Done;
                } else if timed_out {
                    self.fail(
                        i,
                        format!(
                            "error when waiting for pod {name:?} in namespace {ns:?} to terminate: context deadline exceeded"
                        ),
                    );
                } else {
                    let next = now + POLL_INTERVAL;
                    let at = self.deadline.map_or(next, |d| next.min(d));
                    wakes.push(wake(at));
                }
            }
        }
    }

    fn fail(&mut self, i: usize, err: String) {
        self.tasks[i].step = Step::Done;
        self.node_errors.push(err);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aggregates_print_as_kubectl() {
        assert_eq!(aggregate(&["a".into()]), "a");
        assert_eq!(aggregate(&["a".into(), "b".into(), "a".into()]), "[a, b]");
    }
}
