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

/// What a fault does. Storage faults (issue 4); node, zone and network faults come next.
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
        }
    }
}
