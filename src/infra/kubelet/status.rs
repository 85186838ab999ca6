//! The pod status a kubelet generates (`kubelet_pods.go` `generateAPIPodStatus`): the phase
//! (`getPhase`), the kubelet-owned conditions (`pkg/kubelet/status/generate.go`) merged with
//! the conditions other components own (`statusManager` `mergePodStatus`), and the
//! transition times (`updateLastTransitionTime`). Init containers are not modelled.

use crate::api::pod::{ContainerStatus, PodCondition, condition, phase};
use crate::api::{Pod, Timestamp};

/// Conditions the kubelet owns (`kubetypes.PodConditionByKubelet`); it regenerates them on
/// every status write and keeps every other condition as it finds it.
const KUBELET_OWNED: [&str; 5] = [
    condition::POD_READY_TO_START_CONTAINERS,
    condition::INITIALIZED,
    condition::READY,
    condition::CONTAINERS_READY,
    condition::POD_SCHEDULED,
];

/// `ContainersNotReady`, `PodCompleted`, `PodFailed` (`pkg/kubelet/status/generate.go`).
pub const CONTAINERS_NOT_READY: &str = "ContainersNotReady";
pub const POD_COMPLETED: &str = "PodCompleted";
pub const POD_FAILED: &str = "PodFailed";

/// One container as `getPhase` sees it: its reported status, and whether an earlier
/// instance has terminated (`LastTerminationState.Terminated != nil`).
pub struct PhaseInput<'a> {
    pub status: &'a ContainerStatus,
    pub has_last_termination: bool,
}

/// `getPhase` for regular containers. `pod_is_terminal` is set once the kubelet has stopped
/// every container of a pod it will not restart (deleted, or its restart policy says so):
/// then a pod whose containers all stopped is Succeeded or Failed whatever its restart
/// policy — the 1.27+ behaviour that gives deleted pods a terminal phase.
pub fn get_phase(
    containers: &[PhaseInput<'_>],
    restart_policy: &str,
    pod_is_terminal: bool,
) -> &'static str {
    let (mut running, mut waiting, mut stopped, mut succeeded) = (0, 0, 0, 0);
    for c in containers {
        let state = &c.status.state;
        if state.running.is_some() {
            running += 1;
        } else if let Some(t) = &state.terminated {
            stopped += 1;
            if t.exit_code == 0 {
                succeeded += 1;
            }
        } else if c.has_last_termination {
            stopped += 1;
        } else {
            waiting += 1;
        }
    }
    if waiting > 0 {
        // One or more containers has not been started.
        return phase::PENDING;
    }
    if running > 0 {
        return phase::RUNNING;
    }
    if stopped == 0 {
        return phase::PENDING;
    }
    if pod_is_terminal {
        return if stopped == succeeded {
            phase::SUCCEEDED
        } else {
            phase::FAILED
        };
    }
    match restart_policy {
        // All containers are in the process of restarting.
        "Always" => phase::RUNNING,
        _ if stopped == succeeded => phase::SUCCEEDED,
        "Never" => phase::FAILED,
        // OnFailure, with at least one failure in the process of restarting.
        _ => phase::RUNNING,
    }
}

/// A condition as the kubelet generates it, before transition times are merged in.
struct Generated {
    type_: &'static str,
    status: bool,
    reason: &'static str,
    message: String,
}

/// `GenerateContainersReadyCondition`; `GeneratePodReadyCondition` returns the same status,
/// reason and message while there are no readiness gates (not modelled).
fn containers_ready(pod: &Pod, statuses: &[ContainerStatus], phase_: &str) -> Generated {
    let mut unknown = Vec::new();
    let mut unready = Vec::new();
    for c in &pod.spec.containers {
        match statuses.iter().find(|s| s.name == c.name) {
            Some(s) if !s.ready => unready.push(c.name.as_str()),
            Some(_) => {}
            None => unknown.push(c.name.as_str()),
        }
    }
    let terminal = |reason| Generated {
        type_: condition::CONTAINERS_READY,
        status: false,
        reason,
        message: String::new(),
    };
    if phase_ == phase::SUCCEEDED && unknown.is_empty() {
        return terminal(POD_COMPLETED);
    }
    if phase_ == phase::FAILED {
        return terminal(POD_FAILED);
    }
    // Go prints a []string as `[a b]`.
    let mut messages = Vec::new();
    if !unknown.is_empty() {
        messages.push(format!(
            "containers with unknown status: [{}]",
            unknown.join(" ")
        ));
    }
    if !unready.is_empty() {
        messages.push(format!(
            "containers with unready status: [{}]",
            unready.join(" ")
        ));
    }
    if messages.is_empty() {
        Generated {
            type_: condition::CONTAINERS_READY,
            status: true,
            reason: "",
            message: String::new(),
        }
    } else {
        Generated {
            type_: condition::CONTAINERS_READY,
            status: false,
            reason: CONTAINERS_NOT_READY,
            message: messages.join(", "),
        }
    }
}

/// The pod's conditions after a kubelet status write: conditions owned by others first, as
/// found on `live`, then the kubelet's in its order (`PodReadyToStartContainers`,
/// `Initialized`, `Ready`, `ContainersReady`, `PodScheduled`). A condition keeps its
/// `lastTransitionTime` while its status is unchanged.
pub fn conditions(
    live: &Pod,
    statuses: &[ContainerStatus],
    phase_: &str,
    sandbox_ready: bool,
    now: Timestamp,
) -> Vec<PodCondition> {
    let ready = containers_ready(live, statuses, phase_);
    let generated = [
        Generated {
            type_: condition::POD_READY_TO_START_CONTAINERS,
            status: sandbox_ready,
            reason: "",
            message: String::new(),
        },
        // `GeneratePodInitializedCondition`: no init containers, so initialized.
        Generated {
            type_: condition::INITIALIZED,
            status: true,
            reason: "",
            message: String::new(),
        },
        Generated {
            type_: condition::READY,
            status: ready.status,
            reason: ready.reason,
            message: ready.message.clone(),
        },
        ready,
        Generated {
            type_: condition::POD_SCHEDULED,
            status: true,
            reason: "",
            message: String::new(),
        },
    ];
    let mut out: Vec<PodCondition> = live
        .status
        .conditions
        .iter()
        .filter(|c| !KUBELET_OWNED.contains(&c.type_.as_str()))
        .cloned()
        .collect();
    for g in generated {
        let status = if g.status { "True" } else { "False" };
        let last_transition_time = match live.condition(g.type_) {
            Some(old) if old.status == status => old.last_transition_time,
            _ => Some(now),
        };
        out.push(PodCondition {
            type_: g.type_.into(),
            status: status.into(),
            last_transition_time,
            reason: g.reason.into(),
            message: g.message,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::pod::{
        ContainerState, ContainerStateRunning, ContainerStateTerminated, ContainerStateWaiting,
    };

    fn status(state: ContainerState) -> ContainerStatus {
        ContainerStatus {
            name: "c".into(),
            state,
            ..Default::default()
        }
    }
    fn running() -> ContainerState {
        ContainerState {
            running: Some(ContainerStateRunning::default()),
            ..Default::default()
        }
    }
    fn exited(code: i32) -> ContainerState {
        ContainerState {
            terminated: Some(ContainerStateTerminated {
                exit_code: code,
                ..Default::default()
            }),
            ..Default::default()
        }
    }
    fn waiting() -> ContainerState {
        ContainerState {
            waiting: Some(ContainerStateWaiting::default()),
            ..Default::default()
        }
    }

    #[test]
    fn get_phase_table() {
        // (states, has_last_termination, restart policy, terminal) → phase
        let cases: Vec<(Vec<ContainerState>, bool, &str, bool, &str)> = vec![
            (vec![waiting()], false, "Always", false, phase::PENDING),
            (
                vec![running(), waiting()],
                false,
                "Always",
                false,
                phase::PENDING,
            ),
            (
                vec![running(), running()],
                false,
                "Always",
                false,
                phase::RUNNING,
            ),
            (
                vec![running(), exited(1)],
                false,
                "Always",
                false,
                phase::RUNNING,
            ),
            // CrashLoopBackOff: waiting, but an earlier instance terminated.
            (vec![waiting()], true, "Always", false, phase::RUNNING),
            (vec![exited(0)], false, "Always", false, phase::RUNNING),
            (vec![exited(0)], false, "Never", false, phase::SUCCEEDED),
            (vec![exited(1)], false, "Never", false, phase::FAILED),
            (vec![exited(1)], false, "OnFailure", false, phase::RUNNING),
            (
                vec![exited(0), exited(0)],
                false,
                "Always",
                true,
                phase::SUCCEEDED,
            ),
            (
                vec![exited(0), exited(137)],
                false,
                "Always",
                true,
                phase::FAILED,
            ),
            (vec![], false, "Always", false, phase::PENDING),
        ];
        for (states, last, policy, terminal, want) in cases {
            let statuses: Vec<ContainerStatus> = states.into_iter().map(status).collect();
            let input: Vec<PhaseInput<'_>> = statuses
                .iter()
                .map(|s| PhaseInput {
                    status: s,
                    has_last_termination: last,
                })
                .collect();
            assert_eq!(get_phase(&input, policy, terminal), want, "{statuses:?}");
        }
    }
}
