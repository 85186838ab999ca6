//! `spec.storage`: the CSI drivers the cluster runs, each a built-in profile (by name, or
//! by the driver's own name) with the scenario's overrides. The built-in drivers are always
//! available: a StorageClass may name `ebs.csi.aws.com` without declaring it. The drivers
//! the run gets are the declared ones, the built-ins the manifests use, and `instant` (the
//! default class's driver).

use super::de::{index, join};
use super::model::{CsiDriverProfile, Manifest, ManifestObject, StorageSpec, VolumeTopology};
use super::raw::{RawDriver, RawStorage, RawTopology};
use super::report::Reporter;
use super::suggest::did_you_mean;
use super::yaml::Node;
use crate::infra::csi::profiles;

/// The drivers `spec.storage.drivers` declares (the node at `spec`), checked.
pub fn declared(spec: &Node, r: &mut Reporter) -> Vec<CsiDriverProfile> {
    let raw: RawStorage = r.optional(spec, "storage", "spec").unwrap_or_default();
    let mut out: Vec<CsiDriverProfile> = Vec::new();
    for (i, d) in raw.drivers.into_iter().enumerate() {
        let path = index("spec.storage.drivers", i);
        let pos = d.pos;
        if let Some(p) = driver(d.value, &path, r) {
            if out.iter().any(|o| o.name == p.name) {
                let msg = format!("driver {:?} is declared twice", p.name);
                r.push(pos, &join(&path, "name"), msg, None);
                continue;
            }
            out.push(p);
        }
    }
    out
}

/// Every CSI driver name a StorageClass or PV may name: the built-ins and the declared.
pub fn known_names(declared: &[CsiDriverProfile]) -> Vec<String> {
    let mut names: Vec<String> = profiles::BUILTINS
        .iter()
        .map(|(_, d)| d.to_string())
        .collect();
    for d in declared {
        if !names.contains(&d.name) {
            names.push(d.name.clone());
        }
    }
    names
}

/// The drivers of the run: the declared ones, then (in the built-ins' order) each built-in
/// a StorageClass or a CSI PersistentVolume of the manifests uses, and `instant`.
pub fn complete(declared: Vec<CsiDriverProfile>, manifests: &[Manifest]) -> StorageSpec {
    let used: Vec<&str> = manifests
        .iter()
        .filter_map(|m| match &m.object {
            ManifestObject::StorageClass(c) => Some(c.provisioner.as_str()),
            ManifestObject::PersistentVolume(pv) => pv.spec.csi.as_ref().map(|c| c.driver.as_str()),
            _ => None,
        })
        .collect();
    let mut drivers = declared;
    for (profile, name) in profiles::BUILTINS {
        let wanted = used.contains(name) || *name == profiles::INSTANT_DRIVER;
        if wanted && !drivers.iter().any(|d| d.name == *name) {
            drivers.push(profiles::builtin(profile, name).expect("a built-in profile"));
        }
    }
    StorageSpec { drivers }
}

fn driver(d: RawDriver, path: &str, r: &mut Reporter) -> Option<CsiDriverProfile> {
    let name = d.name.value.trim().to_string();
    if name.is_empty() {
        r.push(
            d.name.pos,
            &join(path, "name"),
            "a driver needs a name",
            None,
        );
        return None;
    }
    let profile_names = || profiles::profile_names().collect::<Vec<_>>().join(", ");
    let profile = match &d.profile {
        Some(p) => p.value.clone(),
        None => match profiles::profile_of_driver(&name) {
            Some(p) => p.to_string(),
            None => {
                let msg = format!("driver {name:?} is not a built-in driver: it needs a profile");
                let hint = Some(format!("add profile: one of {}", profile_names()));
                r.push(d.name.pos, &join(path, "profile"), msg, hint);
                return None;
            }
        },
    };
    let Some(mut p) = profiles::builtin(&profile, &name) else {
        let pos = d.profile.as_ref().map_or(d.name.pos, |p| p.pos);
        let hint = did_you_mean(&profile, profiles::profile_names())
            .or_else(|| Some(format!("built-in profiles: {}", profile_names())));
        r.push(
            pos,
            &join(path, "profile"),
            format!("unknown storage profile {profile:?}"),
            hint,
        );
        return None;
    };
    let before = r.diags.len();
    if let Some(t) = d.topology {
        p.topology = match t {
            RawTopology::Zonal => VolumeTopology::Zonal,
            RawTopology::Regional => VolumeTopology::Regional { zones: 2 },
            RawTopology::NodeLocal => VolumeTopology::NodeLocal,
            RawTopology::Any => VolumeTopology::Any,
        };
        if p.topology == VolumeTopology::NodeLocal && d.topology_key.is_none() {
            p.topology_key = "kubernetes.io/hostname".into();
        }
    }
    if let Some(k) = d.topology_key {
        if k.value.trim().is_empty() {
            r.push(
                k.pos,
                &join(path, "topologyKey"),
                "a topology key cannot be empty",
                None,
            );
        }
        p.topology_key = k.value;
    }
    if matches!(
        p.topology,
        VolumeTopology::Zonal | VolumeTopology::Regional { .. }
    ) && p.topology_key.is_empty()
    {
        p.topology_key = "topology.kubernetes.io/zone".into();
    }
    if let Some(a) = d.attach_required {
        p.attach_required = a;
    }
    let latencies = [
        (d.provision_time, &mut p.provision),
        (d.delete_time, &mut p.delete),
        (d.attach_time, &mut p.attach),
        (d.detach_time, &mut p.detach),
        (d.mount_time, &mut p.mount),
        (d.unmount_time, &mut p.unmount),
    ];
    for (given, slot) in latencies {
        if let Some(l) = given {
            *slot = l.0;
        }
    }
    for (given, slot, key) in [
        (
            d.provision_failure_ratio,
            &mut p.provision_failure_ratio,
            "provisionFailureRatio",
        ),
        (
            d.attach_failure_ratio,
            &mut p.attach_failure_ratio,
            "attachFailureRatio",
        ),
        (
            d.mount_failure_ratio,
            &mut p.mount_failure_ratio,
            "mountFailureRatio",
        ),
    ] {
        if let Some(v) = given {
            if v.value.is_finite() && (0.0..=1.0).contains(&v.value) {
                *slot = v.value;
            } else {
                let msg = format!("{key} must be between 0 and 1, found {}", v.value);
                r.push(v.pos, &join(path, key), msg, None);
            }
        }
    }
    let mut count = |given: Option<super::located::Loc<i64>>, key: &str| -> Option<u32> {
        let v = given?;
        match u32::try_from(v.value) {
            Ok(n) if n >= 1 => Some(n),
            _ => {
                let msg = format!("{key} must be a whole number >= 1, found {}", v.value);
                r.push(v.pos, &join(path, key), msg, None);
                None
            }
        }
    };
    if let Some(n) = count(d.max_volumes_per_node, "maxVolumesPerNode") {
        p.max_volumes_per_node = Some(n);
    }
    if let Some(n) = count(d.attach_workers, "attachWorkers") {
        p.attach_workers = n;
    }
    if let Some(n) = count(d.provision_workers, "provisionWorkers") {
        p.provision_workers = n;
    }
    if let Some(n) = count(d.cloud_attach_concurrency, "cloudAttachConcurrency") {
        p.cloud_attach_concurrency = Some(n);
    }
    if let Some(e) = d.allow_volume_expansion {
        p.allow_expansion = e;
    }
    storage_capacity(d.storage_capacity, d.capacity_per_zone, &mut p, path, r);
    (r.diags.len() == before).then_some(p)
}

/// `storageCapacity` and `capacityPerZone`: both or neither, a zonal or regional driver
/// (capacity is published per zone), a storage quantity of at least 0.
fn storage_capacity(
    on: Option<super::located::Loc<bool>>,
    per_zone: Option<super::located::Loc<crate::api::Quantity>>,
    p: &mut CsiDriverProfile,
    path: &str,
    r: &mut Reporter,
) {
    let enabled = on.as_ref().is_some_and(|b| b.value);
    match (&on, per_zone) {
        (None, None) => {}
        (Some(_), None) if !enabled => {}
        (Some(b), None) => r.push(
            b.pos,
            &join(path, "capacityPerZone"),
            "storageCapacity: true needs the capacity each zone has",
            Some("add capacityPerZone: a storage quantity such as 500Gi".into()),
        ),
        (_, Some(q)) if !enabled => r.push(
            q.pos,
            &join(path, "storageCapacity"),
            "capacityPerZone is only used when the driver publishes its capacity",
            Some("add storageCapacity: true, or remove capacityPerZone".into()),
        ),
        (_, Some(q)) => {
            let Ok(milli) = crate::api::quantity::parse_quantity_milli(q.value.0.trim()) else {
                let msg = format!(
                    "capacityPerZone must be a storage quantity, found {:?}",
                    q.value.0
                );
                let hint = Some("write it as Kubernetes does, e.g. 500Gi or 2Ti".into());
                r.push(q.pos, &join(path, "capacityPerZone"), msg, hint);
                return;
            };
            if milli < 0 {
                let msg = format!("capacityPerZone cannot be negative, found {:?}", q.value.0);
                r.push(q.pos, &join(path, "capacityPerZone"), msg, None);
                return;
            }
            if !matches!(
                p.topology,
                VolumeTopology::Zonal | VolumeTopology::Regional { .. }
            ) {
                let pos = on.as_ref().map_or(q.pos, |b| b.pos);
                let msg = format!(
                    "driver {:?} has no zones: storage capacity is published per zone",
                    p.name
                );
                let hint =
                    Some("use topology: zonal or regional, or remove storageCapacity".into());
                r.push(pos, &join(path, "storageCapacity"), msg, hint);
                return;
            }
            p.capacity_per_zone = Some((milli + 999).div_euclid(1000));
        }
    }
}
