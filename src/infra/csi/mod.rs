//! CSI drivers as the cluster runs them: the cloud's disks (`cloud`), and each driver's
//! controller-side sidecars — the external-provisioner (`provisioner`: CreateVolume /
//! DeleteVolume for claims) and the external-attacher (`attacher`: ControllerPublish /
//! ControllerUnpublish for VolumeAttachment objects). Like kubelets they see the cluster
//! only through their informer and act only through the API; unlike control-plane
//! controllers they talk to the "cloud", which is physical state. The external-provisioner's
//! capacity controller (`capacity`) publishes CSIStorageCapacity objects for drivers that
//! opt in.

pub mod attacher;
pub mod capacity;
pub mod cloud;
pub mod profiles;
pub mod provisioner;

use crate::apiserver::{Informer, WatchEvent};
use crate::component::Ctx;
use crate::infra::faults::ActiveFaults;
use crate::rng::RngStreams;
use crate::scenario::{Fault, Scenario};
use crate::time::SimTime;

/// A CSI timer, delivered back by the engine.
#[derive(Clone, Debug, PartialEq)]
pub enum CsiTimer {
    Provisioner(provisioner::ProvisionerTimer),
    Attacher(attacher::AttacherTimer),
}

/// All CSI drivers' sidecars and the cloud they call.
pub struct CsiDrivers {
    pub informer: Informer,
    pub cloud: cloud::Cloud,
    pub provisioner: provisioner::Provisioner,
    pub attacher: attacher::Attacher,
    pub capacity: capacity::CapacityController,
}

impl CsiDrivers {
    pub fn new(informer: Informer, scenario: &Scenario, rngs: &RngStreams) -> Self {
        CsiDrivers {
            informer,
            cloud: cloud::Cloud::new(scenario),
            provisioner: provisioner::Provisioner::new(scenario, rngs),
            attacher: attacher::Attacher::new(scenario, rngs),
            capacity: capacity::CapacityController::new(scenario),
        }
    }

    /// Delivers due watch events to both sidecars; returns the next delivery time.
    pub fn deliver(
        &mut self,
        ctx: &mut Ctx<'_, CsiTimer>,
        faults: &ActiveFaults,
    ) -> Option<SimTime> {
        let mut batch: Vec<WatchEvent> = Vec::new();
        let next = self
            .informer
            .catch_up(ctx.api, ctx.now, |_, ev, _| batch.push(ev.clone()));
        let cache = &self.informer.cache;
        for ev in &batch {
            self.provisioner
                .on_watch(ev, cache, &mut self.cloud, faults, ctx);
            self.attacher
                .on_watch(ev, cache, &mut self.cloud, faults, ctx);
        }
        self.capacity.sync(cache, &self.cloud, ctx);
        next
    }

    pub fn on_timer(
        &mut self,
        timer: CsiTimer,
        ctx: &mut Ctx<'_, CsiTimer>,
        faults: &ActiveFaults,
    ) {
        let cache = &self.informer.cache;
        match timer {
            CsiTimer::Provisioner(t) => {
                self.provisioner
                    .on_timer(t, cache, &mut self.cloud, faults, ctx)
            }
            CsiTimer::Attacher(t) => self
                .attacher
                .on_timer(t, cache, &mut self.cloud, faults, ctx),
        }
        self.capacity.sync(cache, &self.cloud, ctx);
    }

    /// A fault starts or ends (one-off effects such as a disk being destroyed happen here).
    pub fn on_fault(
        &mut self,
        fault: &Fault,
        start: bool,
        ctx: &mut Ctx<'_, CsiTimer>,
        faults: &ActiveFaults,
    ) {
        let cache = &self.informer.cache;
        self.cloud.on_fault(fault, start, cache);
        self.provisioner
            .on_fault(fault, start, cache, &mut self.cloud, faults, ctx);
        self.attacher
            .on_fault(fault, start, cache, &mut self.cloud, faults, ctx);
        self.capacity.sync(cache, &self.cloud, ctx);
    }
}
