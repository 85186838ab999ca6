//! The cloud's block storage: disks with a placement (a zone, two zones, one node, or
//! anywhere), a size, whether they still exist, and the nodes they are attached to, each
//! attachment with its state. CSI sidecars call it the way a CSI driver's controller
//! plugin calls the cloud API: CreateVolume / DeleteVolume (`provisioner.rs`),
//! ControllerPublish / ControllerUnpublish (`attacher.rs`). Latency is not modelled here:
//! callers hold a call "in flight" for the profile's latency and apply its effect when it
//! completes; the cloud only keeps the state and refuses what the real API refuses.
//!
//! NOTE for the attach/detach half (API kept stable; ask before changing a signature):
//! - look disks up with [`Cloud::disk`] (by volume handle = PV `spec.csi.volumeHandle`, or
//!   `spec.hostPath.path` for `rancher.io/local-path`) or [`Cloud::disk_by_name`] (PV name);
//! - attach is two calls, [`Cloud::attach_begin`] when ControllerPublish starts and
//!   [`Cloud::attach_end`] when it completes (after the profile's attach latency); detach
//!   likewise ([`Cloud::detach_begin`], [`Cloud::detach_end`]). Each returns
//!   `Err(CloudError)` as the cloud would (disk gone or lost: `NotFound`; node in another
//!   zone: `InvalidArgument`); `CloudError`'s `Display` is the gRPC text
//!   (`rpc error: code = NotFound desc = ...`) for `attachError.message`;
//! - the cloud does not enforce single attachment: [`Cloud::attached_elsewhere`] tells
//!   whether an attach would make a non-shareable disk attached to two nodes, so the
//!   caller decides (refuse like EBS "VolumeInUse", or allow and let the checks see it);
//! - [`Cloud::attached_count`] counts a node's attachments of one driver;
//! - a lost disk (`diskLoss`) stays in the table with `lost = true` and its attachments,
//!   so detaching still works; attaching it fails with `NotFound`;
//! - per-driver attach throttling (`cloudAttachConcurrency`) is the attacher's to keep.
//! - kubelets register every driver on their node at registration (`infra/kubelet/csi_node.rs`:
//!   the CSINode with `allocatable.count`, and the topology label on the Node);
//! - a driver's observed latency is quantised to its poll points: `profiles::observed`.

use crate::api::{ObjectKey, PersistentVolume, Tables};
use crate::scenario::{Fault, Scenario, StorageSpec};
use crate::time::SimTime;
use std::collections::BTreeMap;
use std::fmt;

/// Where a disk can be used from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Placement {
    /// One zone (EBS, PD, Azure Disk).
    Zone(String),
    /// Replicated across these zones (regional PD).
    Zones(Vec<String>),
    /// One node's local disk (local-path).
    Node(String),
    /// No topology (network file systems, the `instant` driver).
    Anywhere,
}

impl Placement {
    /// Whether a node in `zone` named `node` can use the disk.
    pub fn reachable_from(&self, node: &str, zone: Option<&str>) -> bool {
        match self {
            Placement::Zone(z) => zone == Some(z.as_str()),
            Placement::Zones(zs) => zone.is_some_and(|z| zs.iter().any(|x| x == z)),
            Placement::Node(n) => n == node,
            Placement::Anywhere => true,
        }
    }
}

/// The state of one attachment of a disk to a node.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AttachState {
    /// ControllerPublish in flight.
    Attaching,
    Attached,
    /// ControllerUnpublish in flight.
    Detaching,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attachment {
    pub state: AttachState,
    /// When it entered `state`.
    pub since: SimTime,
}

/// One disk in the cloud.
#[derive(Clone, Debug, PartialEq)]
pub struct Disk {
    /// The CSI volume id (`vol-0a1b...` for EBS), the PV's `spec.csi.volumeHandle`.
    pub handle: String,
    /// The CSI driver that owns it (`ebs.csi.aws.com`).
    pub driver: String,
    /// The name it was created under: the PV name (`pvc-<claim uid>`).
    pub name: String,
    pub size_bytes: i128,
    pub placement: Placement,
    /// The claim it was created for (dynamic provisioning) or bound to (static PVs).
    pub claim: Option<ObjectKey>,
    pub created_at: SimTime,
    /// Destroyed by a `diskLoss` fault: the data is gone, the record stays.
    pub lost: bool,
    /// By node name.
    pub attachments: BTreeMap<String, Attachment>,
}

/// A gRPC status code as CSI drivers return them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Code {
    NotFound,
    InvalidArgument,
    FailedPrecondition,
    ResourceExhausted,
    Internal,
    Aborted,
    DeadlineExceeded,
}

impl Code {
    pub fn as_str(self) -> &'static str {
        match self {
            Code::NotFound => "NotFound",
            Code::InvalidArgument => "InvalidArgument",
            Code::FailedPrecondition => "FailedPrecondition",
            Code::ResourceExhausted => "ResourceExhausted",
            Code::Internal => "Internal",
            Code::Aborted => "Aborted",
            Code::DeadlineExceeded => "DeadlineExceeded",
        }
    }
}

/// A failed cloud call, as the CSI driver reports it over gRPC.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CloudError {
    pub code: Code,
    pub message: String,
}

impl CloudError {
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        CloudError {
            code,
            message: message.into(),
        }
    }
}

impl fmt::Display for CloudError {
    /// `status.Error(...).Error()`: `rpc error: code = NotFound desc = ...`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "rpc error: code = {} desc = {}",
            self.code.as_str(),
            self.message
        )
    }
}

/// What a CreateVolume asks of the cloud.
#[derive(Clone, Debug, PartialEq)]
pub struct CreateDisk {
    pub driver: String,
    /// The PV name, which CreateVolume uses as its idempotency key.
    pub name: String,
    pub size_bytes: i128,
    pub placement: Placement,
    pub claim: Option<ObjectKey>,
}

/// Why a disk's data is gone, for the data-safety checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GoneCause {
    /// DeleteVolume (reclaim policy Delete).
    Deleted,
    /// A `diskLoss` fault.
    Lost,
}

/// A disk whose data is gone, drained by the engine for the checks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DiskGone {
    pub handle: String,
    pub name: String,
    pub claim: Option<ObjectKey>,
    pub cause: GoneCause,
}

pub struct Cloud {
    disks: BTreeMap<String, Disk>,
    /// Disk handle by name (PV name), for idempotent CreateVolume.
    by_name: BTreeMap<String, String>,
    node_zone: BTreeMap<String, String>,
    zones: Vec<String>,
    /// Zones with no capacity left, with how many faults say so.
    exhausted: BTreeMap<String, u32>,
    storage: StorageSpec,
    next_disk: u64,
    gone: Vec<DiskGone>,
    /// How many attachments (in any state) each node has, by driver: the disks' own
    /// attachments counted, kept with every change of them (an attach limit check reads
    /// it per ControllerPublish; counting walked every disk).
    attached: BTreeMap<String, BTreeMap<String, usize>>,
}

impl Cloud {
    /// The cloud of `scenario`'s cluster, holding a disk for every static PersistentVolume
    /// its manifests bring (they name disks that exist before the run).
    pub fn new(scenario: &Scenario) -> Self {
        let mut node_zone = BTreeMap::new();
        for z in &scenario.cluster.zones {
            for n in &z.nodes {
                node_zone.insert(n.name.clone(), z.name.clone());
            }
        }
        let mut cloud = Cloud {
            disks: BTreeMap::new(),
            by_name: BTreeMap::new(),
            node_zone,
            zones: scenario
                .cluster
                .zones
                .iter()
                .map(|z| z.name.clone())
                .collect(),
            exhausted: BTreeMap::new(),
            storage: scenario.storage.clone(),
            next_disk: 0,
            gone: Vec::new(),
            attached: BTreeMap::new(),
        };
        for m in &scenario.manifests {
            if let crate::scenario::ManifestObject::PersistentVolume(pv) = &m.object {
                cloud.adopt_static(pv);
            }
        }
        cloud
    }

    /// The zones of the cluster, in the order the scenario lists them.
    pub fn zones(&self) -> &[String] {
        &self.zones
    }

    /// The zone a node is in.
    pub fn node_zone(&self, node: &str) -> Option<&str> {
        self.node_zone.get(node).map(String::as_str)
    }

    /// Whether new volumes can be created in `zone` (no `zoneCapacityExhausted` fault).
    pub fn zone_has_capacity(&self, zone: &str) -> bool {
        !self.exhausted.contains_key(zone)
    }

    /// The bytes `driver` has left for new volumes in `zone`, if the scenario gives it a
    /// `capacityPerZone` (what its GetCapacity reports): the capacity less every live
    /// disk placed there; 0 while a `zoneCapacityExhausted` fault covers the zone.
    pub fn zone_free(&self, driver: &str, zone: &str) -> Option<i128> {
        let total = self.storage.driver(driver)?.capacity_per_zone?;
        if !self.zone_has_capacity(zone) {
            return Some(0);
        }
        let used: i128 = self
            .disks
            .values()
            .filter(|d| d.driver == driver && !d.lost)
            .filter(|d| match &d.placement {
                Placement::Zone(z) => z == zone,
                Placement::Zones(zs) => zs.iter().any(|z| z == zone),
                Placement::Node(_) | Placement::Anywhere => false,
            })
            .map(|d| d.size_bytes)
            .sum();
        Some((total - used).max(0))
    }

    pub fn disk(&self, handle: &str) -> Option<&Disk> {
        self.disks.get(handle)
    }

    pub fn disk_by_name(&self, name: &str) -> Option<&Disk> {
        self.by_name.get(name).and_then(|h| self.disks.get(h))
    }

    /// Every disk, by handle.
    pub fn disks(&self) -> impl Iterator<Item = &Disk> {
        self.disks.values()
    }

    /// CreateVolume: a new disk, or the existing one of that name (the call is idempotent
    /// by name). Fails with `ResourceExhausted` in a zone without capacity (a fault, or too
    /// little left of the driver's `capacityPerZone`).
    pub fn create_disk(&mut self, req: CreateDisk, now: SimTime) -> Result<&Disk, CloudError> {
        if let Some(h) = self.by_name.get(&req.name)
            && self.disks.get(h).is_some_and(|d| !d.lost)
        {
            return Ok(&self.disks[h]);
        }
        let zones: Vec<&str> = match &req.placement {
            Placement::Zone(z) => vec![z.as_str()],
            Placement::Zones(zs) => zs.iter().map(String::as_str).collect(),
            Placement::Node(_) | Placement::Anywhere => Vec::new(),
        };
        let full = |z: &&&str| {
            !self.zone_has_capacity(z)
                || self
                    .zone_free(&req.driver, z)
                    .is_some_and(|free| free < req.size_bytes)
        };
        if let Some(z) = zones.iter().find(full) {
            return Err(CloudError::new(
                Code::ResourceExhausted,
                format!(
                    "Could not create volume {:?}: insufficient capacity in zone {z:?} to create the volume",
                    req.name
                ),
            ));
        }
        let handle = self.new_handle(&req);
        let disk = Disk {
            handle: handle.clone(),
            driver: req.driver,
            name: req.name.clone(),
            size_bytes: req.size_bytes,
            placement: req.placement,
            claim: req.claim,
            created_at: now,
            lost: false,
            attachments: BTreeMap::new(),
        };
        self.by_name.insert(req.name, handle.clone());
        self.put_disk(handle.clone(), disk);
        Ok(&self.disks[&handle])
    }

    /// DeleteVolume: the disk and its data go. A disk that does not exist is already
    /// deleted (CSI DeleteVolume is idempotent); an attached one cannot be deleted
    /// (`FailedPrecondition`, EBS's "VolumeInUse").
    pub fn delete_disk(&mut self, handle: &str) -> Result<(), CloudError> {
        let Some(disk) = self.disks.get(handle) else {
            return Ok(());
        };
        if !disk.lost
            && let Some(node) = disk.attachments.keys().next()
        {
            return Err(CloudError::new(
                Code::FailedPrecondition,
                format!("Could not delete volume {handle:?}: volume is attached to node {node:?}"),
            ));
        }
        let disk = self.disks.remove(handle).expect("checked above");
        for node in disk.attachments.keys() {
            self.count_attachment(node, &disk.driver, false);
        }
        self.by_name.remove(&disk.name);
        if !disk.lost {
            self.gone.push(DiskGone {
                handle: disk.handle,
                name: disk.name,
                claim: disk.claim,
                cause: GoneCause::Deleted,
            });
        }
        Ok(())
    }

    /// Resizes a disk (ControllerExpandVolume).
    pub fn expand_disk(&mut self, handle: &str, size_bytes: i128) -> Result<(), CloudError> {
        match self.disks.get_mut(handle) {
            Some(d) if !d.lost => {
                d.size_bytes = d.size_bytes.max(size_bytes);
                Ok(())
            }
            _ => Err(not_found(handle)),
        }
    }

    /// Destroys a disk's data (`diskLoss`). Returns whether there was a disk to lose.
    pub fn lose_disk(&mut self, handle: &str) -> bool {
        let Some(disk) = self.disks.get_mut(handle).filter(|d| !d.lost) else {
            return false;
        };
        disk.lost = true;
        self.gone.push(DiskGone {
            handle: disk.handle.clone(),
            name: disk.name.clone(),
            claim: disk.claim.clone(),
            cause: GoneCause::Lost,
        });
        true
    }

    /// ControllerPublish starts: the attachment is `Attaching`. An attachment that exists
    /// already is left as it is.
    pub fn attach_begin(
        &mut self,
        handle: &str,
        node: &str,
        now: SimTime,
    ) -> Result<(), CloudError> {
        let zone = self.node_zone.get(node).cloned();
        let disk = self.live_disk_mut(handle)?;
        if !disk.placement.reachable_from(node, zone.as_deref()) {
            return Err(CloudError::new(
                Code::InvalidArgument,
                format!(
                    "Could not attach volume {handle:?} to node {node:?}: the volume is not accessible from the node's zone {:?}",
                    zone.unwrap_or_default()
                ),
            ));
        }
        if disk.attachments.contains_key(node) {
            return Ok(());
        }
        disk.attachments.insert(
            node.to_string(),
            Attachment {
                state: AttachState::Attaching,
                since: now,
            },
        );
        let driver = disk.driver.clone();
        self.count_attachment(node, &driver, true);
        Ok(())
    }

    /// ControllerPublish completes: the attachment is `Attached`.
    pub fn attach_end(&mut self, handle: &str, node: &str, now: SimTime) -> Result<(), CloudError> {
        let disk = self.live_disk_mut(handle)?;
        let added = match disk.attachments.get_mut(node) {
            Some(a) => {
                if a.state != AttachState::Attached {
                    a.state = AttachState::Attached;
                    a.since = now;
                }
                None
            }
            None => {
                let a = Attachment {
                    state: AttachState::Attached,
                    since: now,
                };
                disk.attachments.insert(node.to_string(), a);
                Some(disk.driver.clone())
            }
        };
        if let Some(driver) = added {
            self.count_attachment(node, &driver, true);
        }
        Ok(())
    }

    /// ControllerUnpublish starts: the attachment is `Detaching`. Detaching a disk that is
    /// not attached there succeeds (ControllerUnpublish is idempotent).
    pub fn detach_begin(
        &mut self,
        handle: &str,
        node: &str,
        now: SimTime,
    ) -> Result<(), CloudError> {
        if let Some(a) = self
            .disks
            .get_mut(handle)
            .and_then(|d| d.attachments.get_mut(node))
            && a.state != AttachState::Detaching
        {
            a.state = AttachState::Detaching;
            a.since = now;
        }
        Ok(())
    }

    /// ControllerUnpublish completes: the attachment is gone.
    pub fn detach_end(&mut self, handle: &str, node: &str) -> Result<(), CloudError> {
        if let Some(d) = self.disks.get_mut(handle)
            && d.attachments.remove(node).is_some()
        {
            let driver = d.driver.clone();
            self.count_attachment(node, &driver, false);
        }
        Ok(())
    }

    /// Another node the disk is attached (or attaching, or detaching) to, if any.
    pub fn attached_elsewhere(&self, handle: &str, node: &str) -> Option<&str> {
        self.disks
            .get(handle)?
            .attachments
            .keys()
            .find(|n| *n != node)
            .map(String::as_str)
    }

    /// How many disks of `driver` are attached (in any attachment state) to `node`.
    pub fn attached_count(&self, driver: &str, node: &str) -> usize {
        let n = self
            .attached
            .get(node)
            .and_then(|d| d.get(driver))
            .copied()
            .unwrap_or(0);
        debug_assert_eq!(
            n,
            self.disks
                .values()
                .filter(|d| d.attachments.contains_key(node) && d.driver == driver)
                .count()
        );
        n
    }

    /// Whether any disk went since the last [`Cloud::drain_gone`] (asked after every event:
    /// cheaper than draining an empty list and dropping it).
    pub fn has_gone(&self) -> bool {
        !self.gone.is_empty()
    }

    /// Disks whose data went since the last call (the engine hands them to the checks).
    pub fn drain_gone(&mut self) -> Vec<DiskGone> {
        std::mem::take(&mut self.gone)
    }

    /// A fault starts or ends: zones run out of capacity; disks are destroyed.
    pub fn on_fault(&mut self, fault: &Fault, start: bool, cache: &Tables) {
        match fault {
            Fault::ZoneCapacityExhausted { zone } => {
                if start {
                    *self.exhausted.entry(zone.clone()).or_default() += 1;
                } else if let Some(n) = self.exhausted.get_mut(zone) {
                    *n -= 1;
                    if *n == 0 {
                        self.exhausted.remove(zone);
                    }
                }
            }
            Fault::DiskLoss { volume, claim } if start => {
                let pv_name = match (volume, claim) {
                    (Some(v), _) => Some(v.clone()),
                    (None, Some((ns, name))) => cache
                        .pvcs
                        .get(&ObjectKey::new(ns, name))
                        .map(|c| c.spec.volume_name.clone())
                        .filter(|v| !v.is_empty()),
                    (None, None) => None,
                };
                let Some(pv_name) = pv_name else {
                    return;
                };
                let handle = cache
                    .pvs
                    .get(&ObjectKey::cluster(&pv_name))
                    .and_then(|pv| volume_handle(pv))
                    .or_else(|| self.by_name.get(&pv_name).cloned());
                if let Some(h) = handle {
                    self.lose_disk(&h);
                }
            }
            _ => {}
        }
    }

    /// Registers the disk a static PV names (created before the run), placed where its
    /// node affinity says.
    fn adopt_static(&mut self, pv: &PersistentVolume) {
        let Some(handle) = volume_handle(pv) else {
            return;
        };
        let driver = pv
            .spec
            .csi
            .as_ref()
            .map_or_else(String::new, |c| c.driver.clone());
        let size_bytes = pv.spec.capacity.get("storage").map_or(0, |q| q.units());
        let claim = pv
            .spec
            .claim_ref
            .as_ref()
            .map(|r| ObjectKey::new(&r.namespace, &r.name));
        let disk = Disk {
            handle: handle.clone(),
            driver,
            name: pv.metadata.name.clone(),
            size_bytes,
            placement: placement_of(pv, &self.storage),
            claim,
            created_at: SimTime::ZERO,
            lost: false,
            attachments: BTreeMap::new(),
        };
        self.by_name
            .insert(pv.metadata.name.clone(), handle.clone());
        self.put_disk(handle, disk);
    }

    /// Stores a disk (with no attachments), uncounting the one it replaces.
    fn put_disk(&mut self, handle: String, disk: Disk) {
        debug_assert!(disk.attachments.is_empty());
        if let Some(old) = self.disks.insert(handle, disk) {
            for node in old.attachments.keys() {
                self.count_attachment(node, &old.driver, false);
            }
        }
    }

    /// Counts an attachment of a `driver` disk to `node` in or out of [`Cloud::attached`].
    fn count_attachment(&mut self, node: &str, driver: &str, added: bool) {
        if added {
            let by_driver = match self.attached.get_mut(node) {
                Some(d) => d,
                None => self.attached.entry(node.to_string()).or_default(),
            };
            match by_driver.get_mut(driver) {
                Some(n) => *n += 1,
                None => {
                    by_driver.insert(driver.to_string(), 1);
                }
            }
        } else if let Some(by_driver) = self.attached.get_mut(node)
            && let Some(n) = by_driver.get_mut(driver)
        {
            *n -= 1;
            if *n == 0 {
                by_driver.remove(driver);
            }
        }
    }

    fn live_disk_mut(&mut self, handle: &str) -> Result<&mut Disk, CloudError> {
        self.disks
            .get_mut(handle)
            .filter(|d| !d.lost)
            .ok_or_else(|| not_found(handle))
    }

    /// A new volume id in the style of the driver's cloud.
    fn new_handle(&mut self, req: &CreateDisk) -> String {
        self.next_disk += 1;
        let n = self.next_disk;
        let profile = self
            .storage
            .driver(&req.driver)
            .map_or("custom", |d| d.profile.as_str());
        match profile {
            "aws-ebs" => format!(
                "vol-0{:016x}",
                crate::rng::stream_seed(n, "cloud/aws-ebs/volume-id")
            ),
            "gce-pd" => match &req.placement {
                Placement::Zone(z) => format!("projects/stsim/zones/{z}/disks/{}", req.name),
                _ => format!("projects/stsim/regions/region-1/disks/{}", req.name),
            },
            "azure-disk" => format!(
                "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/stsim/providers/Microsoft.Compute/disks/{}",
                req.name
            ),
            "local-path" => {
                let claim = req
                    .claim
                    .as_ref()
                    .map(|c| format!("_{}_{}", c.namespace, c.name))
                    .unwrap_or_default();
                format!("/opt/local-path-provisioner/{}{claim}", req.name)
            }
            _ => format!("{}-{n}", req.name),
        }
    }
}

fn not_found(handle: &str) -> CloudError {
    CloudError::new(Code::NotFound, format!("Volume {handle:?} not found"))
}

/// The disk a PV names: `spec.csi.volumeHandle`, or the path of a `local` or `hostPath`
/// volume (local-path's volumes).
pub fn volume_handle(pv: &PersistentVolume) -> Option<String> {
    if let Some(csi) = &pv.spec.csi {
        return Some(csi.volume_handle.clone());
    }
    ["local", "hostPath"].iter().find_map(|source| {
        pv.spec
            .other
            .get(*source)
            .and_then(|l| l.get("path"))
            .and_then(|p| p.as_str())
            .map(str::to_string)
    })
}

/// Where a PV's disk is, from its node affinity: `kubernetes.io/hostname` pins it to a
/// node, the driver's topology key (or `topology.kubernetes.io/zone`) to its zone(s).
pub fn placement_of(pv: &PersistentVolume, storage: &StorageSpec) -> Placement {
    let key = pv
        .spec
        .csi
        .as_ref()
        .and_then(|c| storage.driver(&c.driver))
        .map(|d| d.topology_key.clone());
    let Some(terms) = pv
        .spec
        .node_affinity
        .as_ref()
        .and_then(|a| a.required.as_ref())
    else {
        return Placement::Anywhere;
    };
    let mut zones: Vec<String> = Vec::new();
    for term in &terms.node_selector_terms {
        for req in &term.match_expressions {
            if req.operator != "In" {
                continue;
            }
            if req.key == "kubernetes.io/hostname"
                && let Some(n) = req.values.first()
            {
                return Placement::Node(n.clone());
            }
            let zonal = Some(&req.key) == key.as_ref()
                || req.key == "topology.kubernetes.io/zone"
                || req.key == "failure-domain.beta.kubernetes.io/zone";
            if zonal {
                for v in &req.values {
                    if !zones.contains(v) {
                        zones.push(v.clone());
                    }
                }
            }
        }
    }
    match zones.len() {
        0 => Placement::Anywhere,
        1 => Placement::Zone(zones.remove(0)),
        _ => Placement::Zones(zones),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn cloud() -> Cloud {
        let mut node_zone = BTreeMap::new();
        node_zone.insert("n-a".to_string(), "zone-a".to_string());
        node_zone.insert("n-b".to_string(), "zone-b".to_string());
        Cloud {
            disks: BTreeMap::new(),
            by_name: BTreeMap::new(),
            node_zone,
            zones: vec!["zone-a".into(), "zone-b".into()],
            exhausted: BTreeMap::new(),
            storage: StorageSpec::default(),
            next_disk: 0,
            gone: Vec::new(),
            attached: BTreeMap::new(),
        }
    }

    pub(crate) fn req(name: &str, placement: Placement) -> CreateDisk {
        CreateDisk {
            driver: "d".into(),
            name: name.into(),
            size_bytes: 1 << 30,
            placement,
            claim: Some(ObjectKey::new("default", "data-web-0")),
        }
    }

    #[test]
    fn create_is_idempotent_by_name_and_refused_in_an_exhausted_zone() {
        let mut c = cloud();
        let h1 = c
            .create_disk(
                req("pvc-1", Placement::Zone("zone-a".into())),
                SimTime::ZERO,
            )
            .unwrap()
            .handle
            .clone();
        let h2 = c
            .create_disk(
                req("pvc-1", Placement::Zone("zone-a".into())),
                SimTime::ZERO,
            )
            .unwrap()
            .handle
            .clone();
        assert_eq!(h1, h2);
        assert_eq!(c.disks().count(), 1);
        let fault = Fault::ZoneCapacityExhausted {
            zone: "zone-b".into(),
        };
        c.on_fault(&fault, true, &Tables::default());
        let err = c
            .create_disk(
                req("pvc-2", Placement::Zone("zone-b".into())),
                SimTime::ZERO,
            )
            .unwrap_err();
        assert_eq!(err.code, Code::ResourceExhausted);
        assert!(
            err.to_string()
                .starts_with("rpc error: code = ResourceExhausted desc = ")
        );
        c.on_fault(&fault, false, &Tables::default());
        assert!(c.zone_has_capacity("zone-b"));
    }

    #[test]
    fn attach_follows_placement_and_delete_refuses_attached_disks() {
        let mut c = cloud();
        let h = c
            .create_disk(
                req("pvc-1", Placement::Zone("zone-a".into())),
                SimTime::ZERO,
            )
            .unwrap()
            .handle
            .clone();
        let t = SimTime::ZERO;
        assert_eq!(
            c.attach_begin(&h, "n-b", t).unwrap_err().code,
            Code::InvalidArgument
        );
        c.attach_begin(&h, "n-a", t).unwrap();
        assert_eq!(
            c.disk(&h).unwrap().attachments["n-a"].state,
            AttachState::Attaching
        );
        c.attach_end(&h, "n-a", t).unwrap();
        assert_eq!(c.attached_count("d", "n-a"), 1);
        assert_eq!(c.attached_elsewhere(&h, "n-b"), Some("n-a"));
        assert_eq!(
            c.delete_disk(&h).unwrap_err().code,
            Code::FailedPrecondition
        );
        c.detach_begin(&h, "n-a", t).unwrap();
        c.detach_end(&h, "n-a").unwrap();
        c.delete_disk(&h).unwrap();
        assert!(c.disk(&h).is_none());
        let gone = c.drain_gone();
        assert_eq!(gone.len(), 1);
        assert_eq!(gone[0].cause, GoneCause::Deleted);
        // Deleting again is fine, as CSI DeleteVolume is idempotent.
        c.delete_disk(&h).unwrap();
    }

    #[test]
    fn a_lost_disk_cannot_be_attached_but_can_be_detached() {
        let mut c = cloud();
        let h = c
            .create_disk(req("pvc-1", Placement::Anywhere), SimTime::ZERO)
            .unwrap()
            .handle
            .clone();
        c.attach_end(&h, "n-a", SimTime::ZERO).unwrap();
        assert!(c.lose_disk(&h));
        assert!(!c.lose_disk(&h));
        assert_eq!(
            c.attach_begin(&h, "n-b", SimTime::ZERO).unwrap_err().code,
            Code::NotFound
        );
        c.detach_end(&h, "n-a").unwrap();
        assert_eq!(c.drain_gone()[0].cause, GoneCause::Lost);
        // A lost disk's delete records no second loss of data.
        c.delete_disk(&h).unwrap();
        assert!(c.drain_gone().is_empty());
    }
}
