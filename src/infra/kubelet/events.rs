//! The Kubernetes Events a kubelet records about pods, worded as the 1.36 kubelet words
//! them. Reasons are the constants of `pkg/kubelet/events/event.go`; each message names
//! the upstream function that records it.

use super::KCtx;
use super::node_kubelet::NodeEnv;
use crate::api::Pod;
use crate::apiserver::EventType;
use crate::time::SimDuration;

pub const PULLING: &str = "Pulling";
pub const PULLED: &str = "Pulled";
/// `FailedToPullImage` and `FailedToCreateContainer` share the reason `Failed`.
pub const FAILED: &str = "Failed";
/// `BackOffPullImage` (Normal) and `BackOffStartContainer` (Warning) share `BackOff`.
pub const BACK_OFF: &str = "BackOff";
pub const CREATED: &str = "Created";
pub const STARTED: &str = "Started";
pub const KILLING: &str = "Killing";
pub const UNHEALTHY: &str = "Unhealthy";

/// `imageManager.EnsureImageExists`, before the pull is queued.
pub fn pulling(image: &str) -> String {
    format!("Pulling image \"{image}\"")
}

/// `imageManager.EnsureImageExists` after a successful pull: the pull itself, then the
/// time including the wait in the serial puller's queue (both truncated to milliseconds).
pub fn pulled(image: &str, pull: SimDuration, total: SimDuration, size_bytes: u64) -> String {
    format!(
        "Successfully pulled image \"{image}\" in {} ({} including waiting). Image size: {size_bytes} bytes.",
        truncate_ms(pull),
        truncate_ms(total)
    )
}

/// `imageManager.EnsureImageExists` when the image is on the node (`IfNotPresent`). The
/// "can be accessed by the pod" wording came with the image pull manager of KEP-2535
/// (kubernetes#128152, 1.33), which checks that the pod may use a cached image.
pub fn already_present(image: &str) -> String {
    format!("Container image \"{image}\" already present on machine and can be accessed by the pod")
}

/// `imageManager.EnsureImageExists` when the CRI pull fails.
pub fn pull_failed(image: &str, err: &str) -> String {
    format!("Failed to pull image \"{image}\": {err}")
}

/// `kubeGenericRuntimeManager.startContainer` when `EnsureImageExists` fails: `Error: %v`
/// of the error's name (`ErrImagePull`, `ImagePullBackOff`).
pub fn start_error(err_name: &str) -> String {
    format!("Error: {err_name}")
}

/// `imageManager.EnsureImageExists` while the image is in back-off.
pub fn pull_back_off(image: &str) -> String {
    format!("Back-off pulling image \"{image}\"")
}

/// `kubeGenericRuntimeManager.startContainer`; since 1.35 (kubernetes#134043) the message no
/// longer names the container (the Event's fieldPath does).
pub const CONTAINER_CREATED: &str = "Container created";
/// `kubeGenericRuntimeManager.startContainer`, as above.
pub const CONTAINER_STARTED: &str = "Container started";

/// `kubeGenericRuntimeManager.killContainer`, recorded before the pre-stop hook and SIGTERM.
pub fn stopping(container: &str) -> String {
    format!("Stopping container {container}")
}

/// `kubeGenericRuntimeManager.doBackOff` while a restart is held back.
pub fn crash_back_off(container: &str, pod: &Pod) -> String {
    format!(
        "Back-off restarting failed container {container} in pod {}",
        format_pod(pod)
    )
}

/// `prober.probe` on a failed probe: `%s probe failed: %s` with the probe type's name.
pub fn probe_failed(kind: &str, output: &str) -> String {
    format!("{kind} probe failed: {output}")
}

/// `format.Pod`: `name_namespace(uid)`.
pub fn format_pod(pod: &Pod) -> String {
    let m = &pod.metadata;
    format!("{}_{}({})", m.name, m.namespace, m.uid)
}

/// `time.Duration.Truncate(time.Millisecond)` printed as Go prints durations.
fn truncate_ms(d: SimDuration) -> SimDuration {
    SimDuration::from_millis(d.as_millis())
}

/// Records an Event about the pod as this kubelet.
pub fn record(
    env: &NodeEnv,
    ctx: &mut KCtx<'_>,
    pod: &Pod,
    type_: EventType,
    reason: &str,
    message: String,
) {
    ctx.client(&env.actor).event(pod, type_, reason, message);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pulled_message_truncates_to_milliseconds() {
        let pull = SimDuration::from_nanos(2_100_400_000);
        let total = SimDuration::from_nanos(5_957_999_999);
        assert_eq!(
            pulled("busybox:1.36", pull, total, 1_906_887),
            "Successfully pulled image \"busybox:1.36\" in 2.1s (5.957s including waiting). Image size: 1906887 bytes."
        );
    }
}
