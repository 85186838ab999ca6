//! The external-provisioner's capacity controller (`--enable-capacity`,
//! `pkg/capacity/capacity.go`): for each driver that publishes its capacity (scenario
//! `storageCapacity: true`), one CSIStorageCapacity object per WaitForFirstConsumer
//! StorageClass of the driver and per zone, whose `nodeTopology` selects the zone's nodes
//! by the driver's topology key and whose `capacity` is what GetCapacity reports: the
//! zone's `capacityPerZone` less the disks already there, 0 while a
//! `zoneCapacityExhausted` fault covers the zone. Upstream polls GetCapacity every
//! `--capacity-poll-interval` (1 min); here the objects are brought up to date whenever
//! the cloud or the faults may have changed (after each CSI step), which is the limit of
//! a short poll interval. Only objects whose capacity changed are written.

use super::CsiTimer;
use super::cloud::Cloud;
use crate::api::selector::LabelSelector;
use crate::api::volume::BINDING_WAIT_FOR_FIRST_CONSUMER;
use crate::api::{CSIStorageCapacity, ObjectKey, ObjectMeta, Quantity, Tables};
use crate::apiserver::{Actor, DeleteOptions};
use crate::component::Ctx;
use crate::scenario::Scenario;
use std::collections::BTreeMap;

/// The namespace the objects live in (the driver's controller's namespace).
pub const NAMESPACE: &str = "kube-system";

/// One driver that publishes capacity.
struct Publisher {
    driver: String,
    topology_key: String,
    actor: Actor,
}

/// One object as it should be: class, zone and capacity in bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Desired {
    driver: usize,
    class: String,
    zone: String,
    bytes: i128,
}

#[derive(Default)]
pub struct CapacityController {
    publishers: Vec<Publisher>,
    /// Object name → the capacity last written.
    published: BTreeMap<String, i128>,
}

impl CapacityController {
    pub fn new(scenario: &Scenario) -> Self {
        let publishers = scenario
            .storage
            .drivers
            .iter()
            .filter(|d| d.capacity_per_zone.is_some())
            .map(|d| Publisher {
                driver: d.name.clone(),
                topology_key: d.topology_key.clone(),
                actor: Actor::on_host("external-provisioner", &d.name),
            })
            .collect();
        CapacityController {
            publishers,
            published: BTreeMap::new(),
        }
    }

    /// Brings the published objects up to date with the cloud and the classes.
    pub fn sync(&mut self, cache: &Tables, cloud: &Cloud, ctx: &mut Ctx<'_, CsiTimer>) {
        if self.publishers.is_empty() {
            return;
        }
        let mut desired: BTreeMap<String, Desired> = BTreeMap::new();
        for (i, p) in self.publishers.iter().enumerate() {
            let classes = cache.storage_classes.values().filter(|c| {
                c.provisioner == p.driver
                    && c.volume_binding_mode.as_deref() == Some(BINDING_WAIT_FOR_FIRST_CONSUMER)
            });
            for class in classes {
                for zone in cloud.zones() {
                    let bytes = cloud.zone_free(&p.driver, zone).unwrap_or(0);
                    desired.insert(
                        object_name(&class.metadata.name, zone),
                        Desired {
                            driver: i,
                            class: class.metadata.name.clone(),
                            zone: zone.clone(),
                            bytes,
                        },
                    );
                }
            }
        }
        for (name, d) in &desired {
            if self.published.get(name) == Some(&d.bytes) {
                continue;
            }
            let p = &self.publishers[d.driver];
            let mut client = ctx.client(&p.actor);
            let key = ObjectKey::new(NAMESPACE, name);
            let capacity = Some(Quantity(crate::api::quantity::format_bytes(d.bytes)));
            let written = match client.get::<CSIStorageCapacity>(&key) {
                Some(live) => {
                    let mut next = (*live).clone();
                    next.capacity = capacity;
                    client.update(next).is_ok()
                }
                None => {
                    let mut topology = LabelSelector::default();
                    topology
                        .match_labels
                        .insert(p.topology_key.clone(), d.zone.clone());
                    let obj = CSIStorageCapacity {
                        api_version: "storage.k8s.io/v1".into(),
                        kind: "CSIStorageCapacity".into(),
                        metadata: ObjectMeta::named(NAMESPACE, name),
                        node_topology: Some(topology),
                        storage_class_name: d.class.clone(),
                        capacity,
                        maximum_volume_size: None,
                    };
                    client.create(obj).is_ok()
                }
            };
            if written {
                self.published.insert(name.clone(), d.bytes);
            }
        }
        // Objects of classes that are gone.
        let stale: Vec<String> = self
            .published
            .keys()
            .filter(|n| !desired.contains_key(*n))
            .cloned()
            .collect();
        for name in stale {
            let actor = &self.publishers[0].actor;
            let key = ObjectKey::new(NAMESPACE, &name);
            // Not found is as good as deleted; an unreachable API server leaves an
            // object that is simply not retried (classes are not deleted mid-run).
            let _ = ctx
                .client(actor)
                .delete::<CSIStorageCapacity>(&key, &DeleteOptions::default());
            self.published.remove(&name);
        }
    }
}

/// A stable object name per class and zone (upstream generates `csisc-` names; a
/// deterministic one keeps runs comparable).
fn object_name(class: &str, zone: &str) -> String {
    format!("csisc-{class}-{zone}")
}
