//! Lease (`coordination.k8s.io/v1`): the kubelet's heartbeat. Each node has a Lease named
//! after it in the `kube-node-lease` namespace, which the kubelet renews every 10 s while
//! it can reach the API server and which the node lifecycle controller reads to decide
//! whether the node is alive (`pkg/controller/nodelifecycle`). Field names and
//! optionality follow `k8s.io/api/coordination/v1`.

use super::meta::{ObjectMeta, Timestamp};
use crate::time::{NANOS_PER_SEC, SimTime};
use serde::{Deserialize, Serialize};

/// The namespace of node heartbeats (`v1.NamespaceNodeLease`).
pub const NAMESPACE_NODE_LEASE: &str = "kube-node-lease";

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Lease {
    #[serde(default = "coordination_v1")]
    pub api_version: String,
    #[serde(default = "lease_kind")]
    pub kind: String,
    #[serde(default)]
    pub metadata: ObjectMeta,
    #[serde(default)]
    pub spec: LeaseSpec,
}

fn coordination_v1() -> String {
    "coordination.k8s.io/v1".into()
}
fn lease_kind() -> String {
    "Lease".into()
}

/// `coordination/v1.LeaseSpec`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LeaseSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub holder_identity: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lease_duration_seconds: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acquire_time: Option<MicroTime>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub renew_time: Option<MicroTime>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lease_transitions: Option<i32>,
}

/// `metav1.MicroTime`: an instant with microsecond precision, as leases carry it
/// (`2026-01-01T00:01:30.250000Z`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct MicroTime(pub SimTime);

impl MicroTime {
    /// The instant `t`, truncated to whole microseconds.
    pub fn at(t: SimTime) -> Self {
        MicroTime(SimTime(t.0 - t.0 % 1_000))
    }
    pub fn time(self) -> SimTime {
        self.0
    }
    /// RFC 3339 with six fractional digits.
    pub fn rfc3339(self) -> String {
        let whole = Timestamp::at(self.0).rfc3339();
        let micros = (self.0.0 % NANOS_PER_SEC) / 1_000;
        format!("{}.{micros:06}Z", whole.trim_end_matches('Z'))
    }
}

impl Serialize for MicroTime {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.rfc3339())
    }
}

/// As for `Timestamp`: times in user manifests are accepted and ignored.
impl<'de> Deserialize<'de> for MicroTime {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let _ = serde::de::IgnoredAny::deserialize(d)?;
        Ok(MicroTime::default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::SimDuration;

    #[test]
    fn micro_time_keeps_microseconds() {
        let t = SimTime::ZERO + SimDuration::from_millis(90_250) + SimDuration::from_nanos(999);
        assert_eq!(MicroTime::at(t).rfc3339(), "2026-01-01T00:01:30.250000Z");
        assert_eq!(
            MicroTime::at(SimTime::ZERO).rfc3339(),
            "2026-01-01T00:00:00.000000Z"
        );
    }
}
