//! Faults in the validated scenario: what goes wrong, when, and for how long.

use super::model::SourceLocation;
use crate::time::SimDuration;

/// A fault with its schedule.
#[derive(Clone, Debug, PartialEq)]
pub struct TimedFault {
    pub at: SimDuration,
    /// How long it lasts; `None` = until the end of the run (or a one-off event such as
    /// disk loss, which has no duration).
    pub duration: Option<SimDuration>,
    pub origin: SourceLocation,
    /// A one-line description for the timeline, e.g. `provisioningFailure storageClass=gp3 zone=a`.
    pub text: String,
    pub fault: Fault,
}

/// What a fault does: storage faults (issue 4), then node, zone and network faults.
#[derive(Clone, Debug, PartialEq)]
pub enum Fault {
    /// CreateVolume fails for claims of this class and/or in this zone (`None` = any).
    ProvisioningFailure {
        storage_class: Option<String>,
        zone: Option<String>,
        message: String,
    },
    /// The zone has no capacity left for new volumes (CreateVolume fails with
    /// ResourceExhausted for that zone).
    ZoneCapacityExhausted { zone: String },
    /// Attach and detach take `multiplier` times as long for this driver (`None` = all).
    AttachLatency {
        driver: Option<String>,
        multiplier: f64,
    },
    /// This share (0..1) of attach calls fail for this driver (`None` = all).
    AttachFailure { driver: Option<String>, ratio: f64 },
    /// Detach calls never complete for this driver and/or node while the fault lasts.
    StuckDetach {
        driver: Option<String>,
        node: Option<String>,
    },
    /// The disk behind a PersistentVolume is destroyed (named by PV or by claim).
    DiskLoss {
        volume: Option<String>,
        claim: Option<(String, String)>,
    },
    /// The node loses power: its containers die, its kubelet stops, it reaches nothing. It
    /// powers on again when the fault ends (its `duration`), else stays off.
    NodeCrash { node: String },
    /// A clean OS reboot (one-off): the kubelet's graceful node shutdown runs if
    /// `shutdownGracePeriod` is set, then the node is down for `boot_time` and comes back.
    NodeReboot {
        node: String,
        boot_time: SimDuration,
    },
    /// The kubelet process stops (containers keep running) until the fault ends.
    KubeletStop { node: String },
    /// A whole zone fails: `Power` = every node in it crashes (and its zonal disks are
    /// unreachable); `Network` = the zone is cut off from everything outside it.
    ZoneOutage {
        zone: String,
        flavour: ZoneOutageFlavour,
    },
    /// Traffic between the groups is dropped; with `one_way`, only from the first group to
    /// the second (exactly two groups).
    NetPartition {
        groups: Vec<Vec<NetTarget>>,
        one_way: bool,
    },
    /// The targets (zones or nodes) cannot reach the control plane, nor it them; they
    /// still reach each other and the other zones.
    ControlPlanePartition { targets: Vec<NetTarget> },
    /// The API server answers no one.
    ApiServerOutage,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ZoneOutageFlavour {
    Power,
    Network,
}

/// One side of a network fault.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum NetTarget {
    Zone(String),
    Node(String),
    /// The API server and the controllers.
    ControlPlane,
}

impl Fault {
    /// The fault's name as scenario files write it.
    pub fn kind_name(&self) -> &'static str {
        match self {
            Fault::ProvisioningFailure { .. } => "provisioningFailure",
            Fault::ZoneCapacityExhausted { .. } => "zoneCapacityExhausted",
            Fault::AttachLatency { .. } => "attachLatency",
            Fault::AttachFailure { .. } => "attachFailure",
            Fault::StuckDetach { .. } => "stuckDetach",
            Fault::DiskLoss { .. } => "diskLoss",
            Fault::NodeCrash { .. } => "nodeCrash",
            Fault::NodeReboot { .. } => "nodeReboot",
            Fault::KubeletStop { .. } => "kubeletStop",
            Fault::ZoneOutage { .. } => "zoneOutage",
            Fault::NetPartition { .. } => "netPartition",
            Fault::ControlPlanePartition { .. } => "controlPlanePartition",
            Fault::ApiServerOutage => "apiServerOutage",
        }
    }
}
