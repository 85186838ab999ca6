//! A first PV controller for the `instant` storage profile: every claim is provisioned and
//! bound the moment the controller sees it (a later storage model adds provisioning
//! latency, binding modes, topology and failures).

use super::{ControlTimer, Controller, Enqueue};
use crate::api::storage::{PersistentVolumeSpec, PersistentVolumeStatus};
use crate::api::{AnyObject, ObjectKey, ObjectMeta, ObjectReference, PersistentVolume, Tables};
use crate::apiserver::{Actor, EventType, WatchEvent};
use crate::component::Ctx;

pub struct PvBinder {
    actor: Actor,
}

impl Default for PvBinder {
    fn default() -> Self {
        PvBinder {
            actor: Actor::new("persistentvolume-controller"),
        }
    }
}

impl Controller for PvBinder {
    fn name(&self) -> &'static str {
        "persistentvolume-controller"
    }

    fn on_watch(
        &mut self,
        _old: Option<&AnyObject>,
        ev: &WatchEvent,
        _cache: &Tables,
        q: &mut Enqueue,
    ) {
        if let AnyObject::PersistentVolumeClaim(pvc) = &ev.obj
            && !ev.removed
            && !pvc.is_bound()
        {
            q.add(ObjectKey::of(&pvc.metadata));
        }
    }

    fn sync(
        &mut self,
        key: &ObjectKey,
        cache: &Tables,
        ctx: &mut Ctx<'_, ControlTimer>,
        _q: &mut Enqueue,
    ) -> Result<(), String> {
        let Some(pvc) = cache.pvcs.get(key) else {
            return Ok(());
        };
        if pvc.is_bound() || pvc.metadata.is_terminating() {
            return Ok(());
        }
        let class_name = match &pvc.spec.storage_class_name {
            Some(name) => Some(name.clone()),
            None => cache
                .storage_classes
                .values()
                .find(|c| c.is_default())
                .map(|c| c.metadata.name.clone()),
        };
        let class = class_name
            .as_deref()
            .and_then(|n| cache.storage_classes.get(&ObjectKey::cluster(n)));
        let Some(class) = class else {
            let mut client = ctx.client(&self.actor);
            client.event(
                &**pvc,
                EventType::Normal,
                "FailedBinding",
                "no persistent volumes available for this claim and no storage class is set".into(),
            );
            return Ok(());
        };
        let pv_name = format!("pvc-{}", pvc.metadata.uid);
        let mut client = ctx.client(&self.actor);
        let existing = client.get::<PersistentVolume>(&ObjectKey::cluster(&pv_name));
        if existing.is_none() {
            let pv = PersistentVolume {
                metadata: ObjectMeta {
                    name: pv_name.clone(),
                    annotations: [(
                        "pv.kubernetes.io/provisioned-by".to_string(),
                        class.provisioner.clone(),
                    )]
                    .into_iter()
                    .collect(),
                    ..Default::default()
                },
                spec: PersistentVolumeSpec {
                    capacity: pvc.spec.resources.requests.clone(),
                    access_modes: pvc.spec.access_modes.clone(),
                    claim_ref: Some(ObjectReference {
                        api_version: "v1".into(),
                        kind: "PersistentVolumeClaim".into(),
                        namespace: pvc.metadata.namespace.clone(),
                        name: pvc.metadata.name.clone(),
                        uid: pvc.metadata.uid.clone(),
                        resource_version: String::new(),
                    }),
                    persistent_volume_reclaim_policy: class
                        .reclaim_policy
                        .clone()
                        .unwrap_or_else(|| "Delete".into()),
                    storage_class_name: class.metadata.name.clone(),
                    volume_mode: pvc.spec.volume_mode.clone(),
                    ..Default::default()
                },
                ..Default::default()
            };
            let pv = client.create(pv).map_err(|e| e.to_string())?;
            let mut bound = (*pv).clone();
            bound.status = PersistentVolumeStatus {
                phase: "Bound".into(),
                ..Default::default()
            };
            client.update_status(&bound).map_err(|e| e.to_string())?;
            client.event(
                &**pvc,
                EventType::Normal,
                "ProvisioningSucceeded",
                format!("Successfully provisioned volume {pv_name}"),
            );
        }
        let mut claim = (**pvc).clone();
        claim.spec.volume_name = pv_name;
        claim
            .metadata
            .annotations
            .insert("pv.kubernetes.io/bind-completed".into(), "yes".into());
        let claim = client.update(claim).map_err(|e| e.to_string())?;
        let mut status = (*claim).clone();
        status.status.phase = "Bound".into();
        status.status.access_modes = claim.spec.access_modes.clone();
        status.status.capacity = claim.spec.resources.requests.clone();
        client.update_status(&status).map_err(|e| e.to_string())?;
        Ok(())
    }
}
