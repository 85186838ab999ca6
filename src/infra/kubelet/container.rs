//! One container of a pod as the node's runtime holds it: never created, starting,
//! running, stopping after SIGTERM, or exited; plus what the kubelet remembers about it
//! (the last termination, the reason it waits, its restart count). `api_status` turns it
//! into the `ContainerStatus` the kubelet reports (`convertToAPIContainerStatuses`).

use crate::api::Timestamp;
use crate::api::pod::{
    ContainerState, ContainerStateRunning, ContainerStateTerminated, ContainerStateWaiting,
    ContainerStatus,
};
use crate::scenario::ImageBehavior;
use crate::time::SimTime;

/// Waiting reasons, as the kubelet reports them.
pub mod reason {
    /// `convertToAPIContainerStatuses` default for containers not created yet.
    pub const CONTAINER_CREATING: &str = "ContainerCreating";
    /// `images.ErrImagePull`.
    pub const ERR_IMAGE_PULL: &str = "ErrImagePull";
    /// `images.ErrImagePullBackOff`.
    pub const IMAGE_PULL_BACK_OFF: &str = "ImagePullBackOff";
    /// `kubecontainer.ErrCrashLoopBackOff`.
    pub const CRASH_LOOP_BACK_OFF: &str = "CrashLoopBackOff";
    /// `kubecontainer.ContainerReasonStatusUnknown`, set by `statusManager.TerminatePod`.
    pub const STATUS_UNKNOWN: &str = "ContainerStatusUnknown";
}

/// How a container instance ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Termination {
    pub exit_code: i32,
    /// The runtime's reason: `Completed` for exit code 0, `Error` otherwise.
    pub reason: &'static str,
    pub started_at: SimTime,
    pub finished_at: SimTime,
}

impl Termination {
    pub fn new(exit_code: i32, started_at: SimTime, finished_at: SimTime) -> Self {
        Termination {
            exit_code,
            reason: if exit_code == 0 { "Completed" } else { "Error" },
            started_at,
            finished_at,
        }
    }
}

/// Where the runtime's newest instance of the container is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RuntimeState {
    /// No instance yet (or the last one exited and no new one is being created).
    Idle,
    /// `CreateContainer` + `StartContainer` in progress.
    Starting,
    Running {
        started_at: SimTime,
    },
    /// SIGTERM sent: it exits at `exit_at` with `exit_code` (137 when SIGKILLed).
    Stopping {
        started_at: SimTime,
        exit_at: SimTime,
        exit_code: i32,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContainerRuntime {
    pub name: String,
    pub image: String,
    pub behavior: ImageBehavior,
    pub state: RuntimeState,
    /// Instances started so far; the status' `restartCount` is one less.
    pub attempts: u32,
    pub last_termination: Option<Termination>,
    /// The reason cache (`reasonCache`): why the last start attempt did not happen.
    pub waiting: Option<(&'static str, String)>,
    /// Bumped on every runtime transition; container timers carry it to detect staleness.
    pub token: u64,
}

impl ContainerRuntime {
    pub fn new(name: &str, image: &str, behavior: ImageBehavior) -> Self {
        ContainerRuntime {
            name: name.to_string(),
            image: image.to_string(),
            behavior,
            state: RuntimeState::Idle,
            attempts: 0,
            last_termination: None,
            waiting: None,
            token: 0,
        }
    }

    pub fn set_state(&mut self, state: RuntimeState) {
        self.state = state;
        self.token += 1;
    }

    /// Start time and attempt of the running instance (also while it stops).
    pub fn running(&self) -> Option<(SimTime, u32)> {
        match self.state {
            RuntimeState::Running { started_at } | RuntimeState::Stopping { started_at, .. } => {
                Some((started_at, self.attempts))
            }
            _ => None,
        }
    }

    /// The status state: running; else the reason it waits; else how it last ended; else
    /// `ContainerCreating`.
    pub fn api_state(&self) -> ContainerState {
        if let Some((started_at, _)) = self.running() {
            return ContainerState {
                running: Some(ContainerStateRunning {
                    started_at: Some(Timestamp::at(started_at)),
                }),
                ..Default::default()
            };
        }
        if let Some((reason, message)) = &self.waiting {
            return waiting(reason, message);
        }
        match &self.last_termination {
            Some(t) => terminated(t),
            None => waiting(reason::CONTAINER_CREATING, ""),
        }
    }

    /// [`Self::api_state`] as `getPhase` reads it — running, terminated with its exit
    /// code, or neither — without the strings it would allocate.
    pub fn phase_state(&self) -> ContainerState {
        if let Some((started_at, _)) = self.running() {
            return ContainerState {
                running: Some(ContainerStateRunning {
                    started_at: Some(Timestamp::at(started_at)),
                }),
                ..Default::default()
            };
        }
        match (&self.waiting, &self.last_termination) {
            (None, Some(t)) => ContainerState {
                terminated: Some(ContainerStateTerminated {
                    exit_code: t.exit_code,
                    ..Default::default()
                }),
                ..Default::default()
            },
            _ => ContainerState::default(),
        }
    }

    /// The final state once the pod is terminal: how the container last ended, or — for a
    /// container that never ran — `ContainerStatusUnknown` with exit code 137, as
    /// `statusManager.TerminatePod` reports it.
    pub fn final_state(&self) -> ContainerState {
        match &self.last_termination {
            Some(t) => terminated(t),
            None => ContainerState {
                terminated: Some(ContainerStateTerminated {
                    exit_code: 137,
                    reason: reason::STATUS_UNKNOWN.into(),
                    started_at: None,
                    finished_at: None,
                }),
                ..Default::default()
            },
        }
    }

    pub fn api_status(&self, state: ContainerState, ready: bool, started: bool) -> ContainerStatus {
        ContainerStatus {
            name: self.name.clone(),
            image: self.image.clone(),
            ready,
            restart_count: self.attempts.saturating_sub(1) as i32,
            started: Some(started),
            state,
        }
    }
}

fn waiting(reason: &str, message: &str) -> ContainerState {
    ContainerState {
        waiting: Some(ContainerStateWaiting {
            reason: reason.into(),
            message: message.into(),
        }),
        ..Default::default()
    }
}

fn terminated(t: &Termination) -> ContainerState {
    ContainerState {
        terminated: Some(ContainerStateTerminated {
            exit_code: t.exit_code,
            reason: t.reason.into(),
            started_at: Some(Timestamp::at(t.started_at)),
            finished_at: Some(Timestamp::at(t.finished_at)),
        }),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `phase_state` agrees with `api_state` on everything `getPhase` reads.
    #[test]
    fn phase_state_agrees_with_api_state() {
        let t0 = SimTime::ZERO;
        let mut cases = Vec::new();
        for state in [
            RuntimeState::Idle,
            RuntimeState::Starting,
            RuntimeState::Running { started_at: t0 },
            RuntimeState::Stopping {
                started_at: t0,
                exit_at: t0,
                exit_code: 137,
            },
        ] {
            for waiting in [None, Some((reason::CRASH_LOOP_BACK_OFF, "m".to_string()))] {
                for last in [
                    None,
                    Some(Termination::new(0, t0, t0)),
                    Some(Termination::new(1, t0, t0)),
                ] {
                    let mut c = ContainerRuntime::new("c", "i", ImageBehavior::Healthy);
                    c.state = state.clone();
                    c.waiting = waiting.clone();
                    c.last_termination = last;
                    cases.push(c);
                }
            }
        }
        for c in cases {
            let (full, light) = (c.api_state(), c.phase_state());
            assert_eq!(full.running, light.running, "{c:?}");
            assert_eq!(
                full.terminated.map(|t| t.exit_code),
                light.terminated.map(|t| t.exit_code),
                "{c:?}"
            );
        }
    }
}
