//! Storage in the validated scenario: the CSI drivers the cluster has, each described by a
//! latency and failure profile (built-in profiles calibrated from published figures, or
//! the scenario's own overrides).

use crate::rng::Latency;

/// `spec.storage`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StorageSpec {
    /// Every driver the cluster runs, by CSI driver name (the StorageClass `provisioner`).
    pub drivers: Vec<CsiDriverProfile>,
}

impl StorageSpec {
    pub fn driver(&self, name: &str) -> Option<&CsiDriverProfile> {
        self.drivers.iter().find(|d| d.name == name)
    }
}

/// Where a driver's volumes can be used from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VolumeTopology {
    /// One zone (EBS, PD, Azure Disk): PV node affinity pins pods to that zone.
    Zonal,
    /// Replicated across `zones` zones (regional PD): usable from any of them.
    Regional { zones: u32 },
    /// One node's local disk (local-path): pinned to that node.
    NodeLocal,
    /// No topology (network file systems, the `instant` profile).
    Any,
}

/// One CSI driver's behaviour.
#[derive(Clone, Debug, PartialEq)]
pub struct CsiDriverProfile {
    /// The CSI driver name, as StorageClasses name it in `provisioner` (`ebs.csi.aws.com`).
    pub name: String,
    /// The built-in profile it starts from (`aws-ebs`, `gce-pd`, `azure-disk`,
    /// `local-path`, `instant`) or `custom`.
    pub profile: String,
    pub topology: VolumeTopology,
    /// The topology label key in PV node affinity (`topology.ebs.csi.aws.com/zone`, ...).
    pub topology_key: String,
    /// Whether volumes must be attached to a node before mounting (`CSIDriver.spec.attachRequired`).
    pub attach_required: bool,
    pub provision: Latency,
    pub delete: Latency,
    pub attach: Latency,
    pub detach: Latency,
    pub mount: Latency,
    pub unmount: Latency,
    /// Share of CreateVolume calls that fail (0..1), retried with backoff.
    pub provision_failure_ratio: f64,
    /// Share of ControllerPublish (attach) calls that fail (0..1), retried with backoff.
    pub attach_failure_ratio: f64,
    /// Share of node-side mounts (NodeStageVolume, the kubelet's MountDevice) that fail
    /// (0..1), retried by the kubelet with its volume operation backoff.
    pub mount_failure_ratio: f64,
    /// Volumes one node can have attached (CSINode `allocatable.count`); `None` = no limit.
    pub max_volumes_per_node: Option<u32>,
    /// external-attacher `--worker-threads`: attach/detach calls in flight at once.
    pub attach_workers: u32,
    /// external-provisioner `--worker-threads`.
    pub provision_workers: u32,
    /// Cloud-side attach operations served at once across the cluster (API throttling);
    /// beyond it, operations queue and latency grows with load. `None` = unlimited.
    pub cloud_attach_concurrency: Option<u32>,
    pub allow_expansion: bool,
    /// `CSIDriver.spec.storageCapacity` with the external-provisioner's `--enable-capacity`:
    /// the bytes each zone has for new volumes of this driver, published per zone as
    /// CSIStorageCapacity objects and checked by the scheduler. `None` (every built-in
    /// profile, as the real EBS, PD and Azure Disk drivers publish no capacity) = off.
    pub capacity_per_zone: Option<i128>,
}
