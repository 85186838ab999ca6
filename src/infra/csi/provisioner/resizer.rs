//! The external-resizer (`kubernetes-csi/external-resizer`): a bound claim whose request
//! grew past its capacity has its disk expanded (ControllerExpandVolume, taking the
//! profile's provisioning latency), then the PV's capacity and the claim's
//! `status.capacity` are updated. File-system expansion on the node (the kubelet's
//! NodeExpandVolume) is not modelled apart: the claim is complete when the disk is.
//! A driver whose profile does not support expansion has no resizer: the claim waits.

use super::{Provisioner, ProvisionerTimer};
use crate::api::{ObjectKey, PersistentVolume, PersistentVolumeClaim, Tables};
use crate::apiserver::EventType;
use crate::component::Ctx;
use crate::infra::csi::CsiTimer;
use crate::infra::csi::cloud::{Cloud, volume_handle};

fn bytes_of(q: Option<&crate::api::Quantity>) -> i128 {
    q.map_or(0, |q| q.units())
}

impl Provisioner {
    /// A claim changed: start an expansion if it asks for more than it has.
    pub(super) fn check_resize(
        &mut self,
        claim: &PersistentVolumeClaim,
        cache: &Tables,
        _cloud: &mut Cloud,
        ctx: &mut Ctx<'_, CsiTimer>,
    ) {
        if !claim.is_bound() || claim.spec.volume_name.is_empty() {
            return;
        }
        let Some(requested) = claim.requested_storage() else {
            return;
        };
        if requested.units() <= bytes_of(claim.status.capacity.get("storage")) {
            return;
        }
        let Some(pv) = cache.pvs.get(&ObjectKey::cluster(&claim.spec.volume_name)) else {
            return;
        };
        let Some(i) = super::volume_driver(pv).and_then(|d| self.driver_index(d)) else {
            return;
        };
        let d = &self.drivers[i];
        if !d.profile.allow_expansion || d.expanding.contains_key(&pv.metadata.name) {
            return;
        }
        let done = (pv.metadata.name.clone(), requested.0.clone());
        if self.expanded.contains(&done) {
            return;
        }
        let msg = format!("External resizer is resizing volume {}", pv.metadata.name);
        let actor = d.resizer_actor.clone();
        ctx.client(&actor)
            .event(claim, EventType::Normal, "Resizing", msg);
        let latency = self.rng.duration(&self.drivers[i].profile.provision);
        self.drivers[i]
            .expanding
            .insert(pv.metadata.name.clone(), requested.clone());
        let t = ProvisionerTimer::ExpandDone {
            driver: i,
            volume: pv.metadata.name.clone(),
        };
        ctx.after(latency, CsiTimer::Provisioner(t));
    }

    /// ControllerExpandVolume returns: the disk, the PV and the claim have the new size.
    pub(super) fn finish_expand(
        &mut self,
        i: usize,
        volume: &str,
        cache: &Tables,
        cloud: &mut Cloud,
        ctx: &mut Ctx<'_, CsiTimer>,
    ) {
        let Some(size) = self.drivers[i].expanding.remove(volume) else {
            return;
        };
        let actor = self.drivers[i].resizer_actor.clone();
        let Some(pv) = cache.pvs.get(&ObjectKey::cluster(volume)).cloned() else {
            return;
        };
        let claim: Option<std::rc::Rc<PersistentVolumeClaim>> = pv
            .spec
            .claim_ref
            .as_ref()
            .and_then(|r| cache.pvcs.get(&ObjectKey::new(&r.namespace, &r.name)))
            .cloned();
        if let Some(h) = volume_handle(&pv)
            && let Err(e) = cloud.expand_disk(&h, size.units())
        {
            if let Some(c) = &claim {
                let msg = format!(
                    "resize volume {volume:?} by resizer {:?} failed: {e}",
                    self.drivers[i].profile.name
                );
                ctx.client(&actor)
                    .event(&**c, EventType::Warning, "VolumeResizeFailed", msg);
            }
            return;
        }
        let mut client = ctx.client(&actor);
        let mut next: PersistentVolume = (*pv).clone();
        next.spec.capacity.insert("storage".into(), size.clone());
        let _ = client.update(next);
        if let Some(c) = claim {
            let mut status = (*c).clone();
            status
                .status
                .capacity
                .insert("storage".into(), size.clone());
            let _ = client.update_status(&status);
            client.event(
                &*c,
                EventType::Normal,
                "VolumeResizeSuccessful",
                "Resize volume succeeded".into(),
            );
        }
        self.expanded.insert((volume.to_string(), size.0));
    }
}
