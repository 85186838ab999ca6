//! Application models in the validated scenario (`spec.apps`): which StatefulSet runs
//! which model (a quorum group or a primary with replicas), the model's settings over
//! their upstream defaults, and the clients of each zone with their request rates.

use crate::infra::apps::primary_replica::PrimaryReplicaConfig;
use crate::infra::apps::quorum::QuorumConfig;

/// One entry of `spec.apps`.
#[derive(Clone, Debug, PartialEq)]
pub struct AppSpec {
    /// How the app is named in reports and SLOs: `name`, else the StatefulSet's name.
    pub name: String,
    pub namespace: String,
    pub stateful_set: String,
    /// The set's governing (headless) Service: clients find the members through its DNS
    /// records, so only members with a ready endpoint take requests.
    pub service: String,
    /// The members: the set's `replicas` in the manifest, from `ordinals.start`. A member
    /// list is static, as etcd's `--initial-cluster` is; pods scaled beyond it are not
    /// members.
    pub members: u32,
    pub start_ordinal: i32,
    pub model: AppModel,
    /// How reads are served (`reads`).
    pub reads: ReadConsistency,
    /// The clients, one group per zone listed (every zone if `clients` is unset).
    pub clients: Vec<ClientSpec>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum AppModel {
    Quorum(QuorumConfig),
    PrimaryReplica(PrimaryReplicaConfig),
    /// Every member serves requests on its own (a web server).
    Stateless,
}

impl AppModel {
    pub fn name(&self) -> &'static str {
        match self {
            AppModel::Quorum(_) => "quorum",
            AppModel::PrimaryReplica(_) => "primaryReplica",
            AppModel::Stateless => "stateless",
        }
    }
}

/// What a read needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReadConsistency {
    /// etcd's default (`--consistency=l`): the read goes through the leader, which must
    /// still hold a quorum (ReadIndex), so it needs what a write needs.
    Linearizable,
    /// Served by whichever member the client reaches (`--consistency=s`), possibly stale.
    Serializable,
}

/// The clients of one zone.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientSpec {
    pub zone: String,
    /// The zone's index in `spec.cluster.zones` (the network model's client endpoint).
    pub zone_index: u32,
    pub writes_per_second: u64,
    pub reads_per_second: u64,
}

/// Requests per second of each kind a zone's clients send when `clients` is unset.
pub const DEFAULT_CLIENT_RATE: u64 = 100;
