//! Failed mounts: why a MountDevice (the CSI driver's NodeStageVolume) fails, the
//! `FailedMount` Event the kubelet records, and the operation backoff before the volume
//! manager tries again.
//!
//! A mount fails when the disk behind the volume is gone (`diskLoss`: the node finds no
//! device for it), when a test breaks the device ([`super::NodeAgents::set_device_broken`]),
//! or by the driver profile's `mountFailureRatio` (drawn when the mount starts, and only
//! when the ratio is above zero, so that other runs keep their random streams).
//!
//! Upstream: `operationGenerator.GenerateMountVolumeFunc` returns
//! `volumeToMount.GenerateError("MountVolume.MountDevice failed", err)` — `%v for volume %q
//! %v` with the volume spec's name (the PV) and `: <err>` — and its event recorder writes it
//! as a Warning `FailedMount` on the pod (`kevents.FailedMountVolume`); the pending
//! operation then refuses a retry for `durationBeforeRetry`, 500 ms doubling to 2m2s
//! (`exponentialbackoff.ExponentialBackoff.Update`), which the kubelet logs as `Operation
//! for ... failed. No retries permitted until ... (durationBeforeRetry ...)`.

use super::{MOUNT_BACKOFF_INITIAL, MOUNT_BACKOFF_MAX, MountState, PodVolume, VolumeManager};
use crate::apiserver::EventType;
use crate::infra::kubelet::node_kubelet::Kubelet;
use crate::infra::kubelet::{KCtx, KubeletTimer, events};
use crate::time::SimDuration;

/// `kevents.FailedMountVolume`.
pub const FAILED_MOUNT: &str = "FailedMount";

/// Why a mount fails.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MountFailure {
    /// The node has no device for the volume (its disk was destroyed, or a test broke it).
    NoDevice,
    /// The driver's NodeStageVolume failed (the profile's `mountFailureRatio`).
    Driver,
}

impl MountFailure {
    /// The CSI driver's gRPC error, as NodeStageVolume returns it (the wording of the EBS
    /// driver's `NodeStageVolume`: `Failed to find device path %s. %v`, `could not format
    /// %q and mount it at %q: %v`).
    pub fn error(self, handle: &str) -> String {
        match self {
            MountFailure::NoDevice => format!(
                "rpc error: code = Internal desc = Failed to find device path for volume {handle:?}. no device found for volume {handle:?}"
            ),
            MountFailure::Driver => format!(
                "rpc error: code = Internal desc = could not format and mount volume {handle:?}: mount failed: exit status 32"
            ),
        }
    }
}

/// The message of the `FailedMount` Event (`GenerateError`'s simple error).
pub fn failed_mount_message(pv: &str, failure: MountFailure, handle: &str) -> String {
    format!(
        "MountVolume.MountDevice failed for volume {pv:?} : {}",
        failure.error(handle)
    )
}

/// The next `durationBeforeRetry` after a failure: 500 ms, then doubled, at most 2m2s.
pub fn next_backoff(last: Option<SimDuration>) -> SimDuration {
    last.map_or(MOUNT_BACKOFF_INITIAL, |d| {
        d.saturating_mul(2).min(MOUNT_BACKOFF_MAX)
    })
}

impl VolumeManager {
    /// Whether a mount of `pv` that starts now will fail, and why: a missing device first,
    /// else a draw against the driver's failure ratio.
    pub(super) fn mount_fails(&mut self, pv: &str, ratio: f64) -> Option<MountFailure> {
        if self.broken.contains(pv) || self.lost.contains(pv) {
            return Some(MountFailure::NoDevice);
        }
        (ratio > 0.0 && self.rng.unit_f64() < ratio).then_some(MountFailure::Driver)
    }
}

/// The volume handle a message names: the part of the unique name after `^`
/// (`kubernetes.io/csi/<driver>^<handle>`), else the PV name.
fn handle_of<'a>(v: &'a PodVolume, pv: &'a str) -> &'a str {
    v.unique
        .as_deref()
        .and_then(|u| u.split_once('^'))
        .map_or(pv, |(_, h)| h)
}

impl Kubelet {
    /// A mount of `pv` for pod `uid` failed: the volume waits out the backoff, the pod gets
    /// a `FailedMount` Event, and the timeline a note with the retry time.
    pub(super) fn mount_failed(
        &mut self,
        uid: &str,
        pv: &str,
        failure: MountFailure,
        ctx: &mut KCtx<'_>,
    ) {
        let node = self.env.index;
        let Some(v) = self.env.volumes.volume_mut(uid, pv) else {
            return;
        };
        let next = next_backoff(v.backoff.map(|(_, d)| d));
        v.backoff = Some((ctx.now, next));
        v.state = MountState::Waiting;
        v.fails = None;
        let message = failed_mount_message(pv, failure, handle_of(v, pv));
        // Retried at the first reconciler pass after the window (`now - last > duration`).
        ctx.at(
            ctx.now + next + SimDuration::from_nanos(1),
            KubeletTimer::Volume(super::VolumeTimer::MountRetry {
                node,
                uid: uid.to_string(),
                pv: pv.to_string(),
            }),
        );
        let Some(w) = self.pods.get(uid) else {
            return;
        };
        let pod = std::rc::Rc::clone(&w.pod);
        ctx.note(
            self.env.actor.name.as_ref(),
            format!("Pod {}", w.key),
            format!(
                "No retries permitted until {} (durationBeforeRetry {next}). Error: {message}",
                ctx.now + next
            ),
        );
        events::record(
            &self.env,
            ctx,
            &pod,
            EventType::Warning,
            FAILED_MOUNT,
            message,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_500ms_to_2m2s() {
        let mut d = None;
        let mut seen = Vec::new();
        for _ in 0..11 {
            let next = next_backoff(d);
            seen.push(next.as_millis());
            d = Some(next);
        }
        assert_eq!(
            seen,
            [
                500, 1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 64_000, 122_000, 122_000, 122_000
            ]
        );
    }

    #[test]
    fn messages_are_worded_as_generate_error() {
        assert_eq!(
            failed_mount_message("pvc-1", MountFailure::Driver, "vol-0a"),
            "MountVolume.MountDevice failed for volume \"pvc-1\" : rpc error: code = Internal desc = could not format and mount volume \"vol-0a\": mount failed: exit status 32"
        );
        assert!(
            failed_mount_message("pvc-1", MountFailure::NoDevice, "vol-0a").starts_with(
                "MountVolume.MountDevice failed for volume \"pvc-1\" : rpc error: code = Internal desc = Failed to find device path for volume \"vol-0a\""
            )
        );
    }
}
