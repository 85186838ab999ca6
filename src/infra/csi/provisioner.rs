//! The CSI external-provisioner sidecar of every driver (`kubernetes-csi/external-provisioner`
//! on `sig-storage-lib-external-provisioner`'s `ProvisionController`), with the driver's
//! external-resizer. Per driver: a claim queue and a volume queue (rate-limited, 1 s
//! doubling to 5 min), `--worker-threads` workers each (a worker is busy while its
//! CreateVolume or DeleteVolume call is in flight, for the profile's latency), and the
//! cloud behind the driver.
//!
//! Files: `claims` (provisioning: syncClaim → CreateVolume → the PV), `volumes` (deleting
//! released volumes: DeleteVolume → the PV goes), `resizer` (expansion), `topology` (where
//! a volume goes), `queue` (the work queues).

mod claims;
mod queue;
mod resizer;
pub mod topology;
mod volumes;

use super::CsiTimer;
use super::cloud::Cloud;
use crate::api::volume::{
    ANN_BETA_STORAGE_PROVISIONER, ANN_DYNAMICALLY_PROVISIONED, ANN_STORAGE_PROVISIONER,
};
use crate::api::{AnyObject, PersistentVolume, PersistentVolumeClaim, Tables};
use crate::apiserver::{Actor, WatchEvent};
use crate::component::Ctx;
use crate::infra::faults::ActiveFaults;
use crate::rng::{RngStreams, SimRng};
use crate::scenario::{CsiDriverProfile, Fault, Scenario};
use claims::CreateCall;
use queue::Queue;
use std::collections::{BTreeMap, BTreeSet};

/// A provisioner timer: a CSI call returns, or a rate-limited retry comes due.
#[derive(Clone, Debug, PartialEq)]
pub enum ProvisionerTimer {
    /// CreateVolume for the claim (by uid) returns.
    CreateDone { driver: usize, claim: String },
    /// DeleteVolume for the volume returns.
    DeleteDone { driver: usize, volume: String },
    /// ControllerExpandVolume for the volume returns.
    ExpandDone { driver: usize, volume: String },
    /// A claim's rate-limited re-add.
    ClaimRetry { driver: usize, claim: String },
    /// A volume's rate-limited re-add.
    VolumeRetry { driver: usize, volume: String },
}

/// One driver's sidecars.
struct Driver {
    profile: CsiDriverProfile,
    /// `external-provisioner/<driver>`.
    actor: Actor,
    /// `external-resizer/<driver>`.
    resizer_actor: Actor,
    /// Claim uids.
    claims: Queue,
    /// Volume names.
    volumes: Queue,
    claim_workers: u32,
    volume_workers: u32,
    /// CreateVolume calls in flight, by claim uid.
    creating: BTreeMap<String, CreateCall>,
    /// DeleteVolume calls in flight: volume name → disk handle.
    deleting: BTreeMap<String, String>,
    /// ControllerExpandVolume calls in flight: volume name → the new size.
    expanding: BTreeMap<String, crate::api::Quantity>,
}

pub struct Provisioner {
    drivers: Vec<Driver>,
    /// The provisioner's own random stream (failure draws, latencies).
    rng: SimRng,
    /// `HonorPVReclaimPolicy` (on since 1.31): provisioned volumes with reclaim policy
    /// Delete carry the external-provisioner's finalizer until their disk is deleted.
    honor_reclaim_policy: bool,
    /// Claim key by uid (the queues hold uids, as upstream's do).
    claim_keys: BTreeMap<String, crate::api::ObjectKey>,
    /// Claims whose expansion finished at this size (so a stale cache does not redo it).
    expanded: BTreeSet<(String, String)>,
}

impl Provisioner {
    pub fn new(scenario: &Scenario, rngs: &RngStreams) -> Self {
        let drivers = scenario
            .storage
            .drivers
            .iter()
            .map(|p| Driver {
                profile: p.clone(),
                actor: Actor::on_host("external-provisioner", &p.name),
                resizer_actor: Actor::on_host("external-resizer", &p.name),
                claims: Queue::default(),
                volumes: Queue::default(),
                claim_workers: 0,
                volume_workers: 0,
                creating: BTreeMap::new(),
                deleting: BTreeMap::new(),
                expanding: BTreeMap::new(),
            })
            .collect();
        Provisioner {
            drivers,
            rng: rngs.stream("csi/external-provisioner"),
            honor_reclaim_policy: scenario.kubernetes_version.at_least(31),
            claim_keys: BTreeMap::new(),
            expanded: BTreeSet::new(),
        }
    }

    fn driver_index(&self, name: &str) -> Option<usize> {
        self.drivers.iter().position(|d| d.profile.name == name)
    }

    /// The informer handlers: every claim and volume change queues it for the driver it
    /// concerns (the provisioner named on the claim, the driver that made the volume).
    pub fn on_watch(
        &mut self,
        ev: &WatchEvent,
        cache: &Tables,
        cloud: &mut Cloud,
        _faults: &ActiveFaults,
        ctx: &mut Ctx<'_, CsiTimer>,
    ) {
        match &ev.obj {
            AnyObject::PersistentVolumeClaim(claim) => {
                let uid = claim.metadata.uid.as_str();
                if ev.removed {
                    self.claim_keys.remove(uid);
                    for d in &mut self.drivers {
                        d.claims.forget(uid);
                    }
                    return;
                }
                // A uid names one object for good, so its key is stored once, on the
                // first event about it (not copied again on every later one).
                if !self.claim_keys.contains_key(uid) {
                    self.claim_keys
                        .insert(uid.to_string(), crate::api::ObjectKey::of(&claim.metadata));
                }
                if let Some(i) = claim_provisioner(claim).and_then(|p| self.driver_index(p)) {
                    self.drivers[i].claims.add(uid);
                    self.pump(i, cache, ctx);
                }
                self.check_resize(claim, cache, cloud, ctx);
            }
            AnyObject::PersistentVolume(volume) => {
                let name = volume.metadata.name.clone();
                let Some(i) = volume_driver(volume).and_then(|d| self.driver_index(d)) else {
                    return;
                };
                if ev.removed {
                    self.drivers[i].volumes.forget(&name);
                    return;
                }
                self.drivers[i].volumes.add(&name);
                self.pump(i, cache, ctx);
            }
            _ => {}
        }
    }

    pub fn on_timer(
        &mut self,
        t: ProvisionerTimer,
        cache: &Tables,
        cloud: &mut Cloud,
        faults: &ActiveFaults,
        ctx: &mut Ctx<'_, CsiTimer>,
    ) {
        let now = ctx.now;
        let driver = match &t {
            ProvisionerTimer::CreateDone { driver, .. }
            | ProvisionerTimer::DeleteDone { driver, .. }
            | ProvisionerTimer::ExpandDone { driver, .. }
            | ProvisionerTimer::ClaimRetry { driver, .. }
            | ProvisionerTimer::VolumeRetry { driver, .. } => *driver,
        };
        match t {
            ProvisionerTimer::CreateDone { claim, .. } => {
                self.finish_create(driver, &claim, cache, cloud, faults, ctx)
            }
            ProvisionerTimer::DeleteDone { volume, .. } => {
                self.finish_delete(driver, &volume, cache, cloud, ctx)
            }
            ProvisionerTimer::ExpandDone { volume, .. } => {
                self.finish_expand(driver, &volume, cache, cloud, ctx)
            }
            ProvisionerTimer::ClaimRetry { claim, .. } => {
                self.drivers[driver].claims.timer_fired(&claim, now)
            }
            ProvisionerTimer::VolumeRetry { volume, .. } => {
                self.drivers[driver].volumes.timer_fired(&volume, now)
            }
        }
        self.pump(driver, cache, ctx);
    }

    /// Faults change what the cloud does; nothing to do here when they start or end (the
    /// provisioner reads the faults in force when a call returns).
    pub fn on_fault(
        &mut self,
        _fault: &Fault,
        _start: bool,
        _cache: &Tables,
        _cloud: &mut Cloud,
        _faults: &ActiveFaults,
        _ctx: &mut Ctx<'_, CsiTimer>,
    ) {
    }

    /// The workers: each free one takes the next key (`processNextClaimWorkItem`,
    /// `processNextVolumeWorkItem`).
    fn pump(&mut self, i: usize, cache: &Tables, ctx: &mut Ctx<'_, CsiTimer>) {
        loop {
            let d = &mut self.drivers[i];
            if d.claim_workers >= d.profile.provision_workers {
                break;
            }
            let Some(uid) = d.claims.get() else {
                break;
            };
            match self.sync_claim(i, &uid, cache, ctx) {
                Step::InFlight => self.drivers[i].claim_workers += 1,
                Step::Done(result) => self.claim_done(i, &uid, result, ctx),
            }
        }
        loop {
            let d = &mut self.drivers[i];
            if d.volume_workers >= d.profile.provision_workers {
                break;
            }
            let Some(name) = d.volumes.get() else {
                break;
            };
            match self.sync_volume(i, &name, cache, ctx) {
                Step::InFlight => self.drivers[i].volume_workers += 1,
                Step::Done(result) => self.volume_done(i, &name, result, ctx),
            }
        }
    }

    /// A claim's processing ended: forget it, or retry it after its backoff.
    fn claim_done(
        &mut self,
        i: usize,
        uid: &str,
        result: Result<(), ()>,
        ctx: &mut Ctx<'_, CsiTimer>,
    ) {
        let d = &mut self.drivers[i];
        match result {
            Ok(()) => d.claims.forget(uid),
            Err(()) => {
                if let Some(at) = d.claims.add_rate_limited(uid, ctx.now) {
                    let t = ProvisionerTimer::ClaimRetry {
                        driver: i,
                        claim: uid.to_string(),
                    };
                    ctx.at(at, CsiTimer::Provisioner(t));
                }
            }
        }
        d.claims.done(uid);
    }

    fn volume_done(
        &mut self,
        i: usize,
        name: &str,
        result: Result<(), ()>,
        ctx: &mut Ctx<'_, CsiTimer>,
    ) {
        let d = &mut self.drivers[i];
        match result {
            Ok(()) => d.volumes.forget(name),
            Err(()) => {
                if let Some(at) = d.volumes.add_rate_limited(name, ctx.now) {
                    let t = ProvisionerTimer::VolumeRetry {
                        driver: i,
                        volume: name.to_string(),
                    };
                    ctx.at(at, CsiTimer::Provisioner(t));
                }
            }
        }
        d.volumes.done(name);
    }
}

/// What a worker's sync did: started a CSI call (the worker stays busy until it returns),
/// or finished, well (`Ok`) or to be retried after the backoff (`Err`).
enum Step {
    InFlight,
    Done(Result<(), ()>),
}

/// The provisioner a claim asks for (`volume.kubernetes.io/storage-provisioner`, or the
/// beta annotation), set by the PV controller.
fn claim_provisioner(claim: &PersistentVolumeClaim) -> Option<&str> {
    let a = &claim.metadata.annotations;
    a.get(ANN_STORAGE_PROVISIONER)
        .or_else(|| a.get(ANN_BETA_STORAGE_PROVISIONER))
        .map(String::as_str)
}

/// The driver responsible for a volume (`isProvisionerForVolume`): the provisioner that
/// made it, or for a static volume its CSI driver.
fn volume_driver(volume: &PersistentVolume) -> Option<&str> {
    match volume.metadata.annotations.get(ANN_DYNAMICALLY_PROVISIONED) {
        Some(p) => Some(p.as_str()),
        None => volume.spec.csi.as_ref().map(|c| c.driver.as_str()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claims_and_volumes_name_their_driver() {
        let mut c = PersistentVolumeClaim::default();
        assert_eq!(claim_provisioner(&c), None);
        c.metadata.annotations.insert(
            ANN_BETA_STORAGE_PROVISIONER.into(),
            "ebs.csi.aws.com".into(),
        );
        assert_eq!(claim_provisioner(&c), Some("ebs.csi.aws.com"));
        let mut v = PersistentVolume::default();
        v.spec.csi = Some(crate::api::storage::CsiPersistentVolumeSource {
            driver: "pd.csi.storage.gke.io".into(),
            volume_handle: "h".into(),
            ..Default::default()
        });
        assert_eq!(volume_driver(&v), Some("pd.csi.storage.gke.io"));
        v.metadata.annotations.insert(
            ANN_DYNAMICALLY_PROVISIONED.into(),
            "rancher.io/local-path".into(),
        );
        assert_eq!(volume_driver(&v), Some("rancher.io/local-path"));
    }
}
