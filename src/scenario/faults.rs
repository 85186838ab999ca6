//! `spec.faults`: timed faults, each item one fault kind with its start (`at`) and, for
//! faults that last, a `duration`; checked against the run (times within it) and the
//! cluster (zones, nodes, drivers, classes that exist), returned in time order. Storage
//! faults are built here; node, zone and network faults in `faults_net.rs`.

use super::de::{index, join};
use super::error::{Diagnostic, Source};
use super::faults_net;
use super::located::Loc;
use super::model::{ClusterSpec, Fault, TimedFault};
use super::raw::RawFault;
use super::report::Reporter;
use super::suggest::did_you_mean;
use super::yaml::{Node, Pos, Value};
use crate::time::SimDuration;

/// The fault kinds, as scenario files name them.
pub const FAULT_KINDS: &[&str] = &[
    "provisioningFailure",
    "zoneCapacityExhausted",
    "attachLatency",
    "attachFailure",
    "stuckDetach",
    "diskLoss",
    "nodeCrash",
    "nodeReboot",
    "kubeletStop",
    "zoneOutage",
    "netPartition",
    "controlPlanePartition",
    "apiServerOutage",
];

/// What the faults are checked against.
pub struct Context<'a> {
    pub duration: Option<SimDuration>,
    pub cluster: Option<&'a ClusterSpec>,
    /// StorageClass names the cluster will have.
    pub classes: &'a [String],
    /// CSI driver names the cluster runs or may run.
    pub drivers: &'a [String],
}

/// Checks `spec.faults` (under the node `spec`).
pub fn build(
    spec: &Node,
    ctx: &Context,
    src: &Source,
    diags: &mut Vec<Diagnostic>,
) -> Vec<TimedFault> {
    let Some(list) = spec.get("faults") else {
        return Vec::new();
    };
    let items = match &list.value {
        Value::Null => return Vec::new(),
        Value::Seq(items) => items,
        _ => {
            let msg = format!("expected a list, found {}", list.describe());
            diags.push(src.diag(list.pos, "spec.faults", msg));
            return Vec::new();
        }
    };
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let path = index("spec.faults", i);
        let mut r = Reporter { src, diags };
        if !kinds_known(item, &path, &mut r) {
            continue;
        }
        let Some(raw) = r.decode::<RawFault>(item, &path) else {
            continue;
        };
        if let Some(f) = fault(raw, item, &path, ctx, &mut r) {
            out.push(f);
        }
    }
    out.sort_by_key(|f| f.at);
    out
}

/// Refuses keys that are neither `at`/`duration` nor a fault kind, with a hint.
fn kinds_known(item: &Node, path: &str, r: &mut Reporter) -> bool {
    let mut ok = true;
    for e in item.entries() {
        if e.key == "at" || e.key == "duration" || FAULT_KINDS.contains(&e.key.as_str()) {
            continue;
        }
        let hint = did_you_mean(&e.key, FAULT_KINDS.iter().copied())
            .or_else(|| Some(format!("fault kinds: {}", FAULT_KINDS.join(", "))));
        r.push(
            e.key_pos,
            &join(path, &e.key),
            format!("unknown fault kind `{}`", e.key),
            hint,
        );
        ok = false;
    }
    ok
}

fn fault(
    raw: RawFault,
    item: &Node,
    path: &str,
    ctx: &Context,
    r: &mut Reporter,
) -> Option<TimedFault> {
    let mut kinds: Vec<(&str, Pos)> = Vec::new();
    macro_rules! seen {
        ($field:expr, $name:expr) => {
            if let Some(v) = &$field {
                kinds.push(($name, v.pos));
            }
        };
    }
    seen!(raw.provisioning_failure, "provisioningFailure");
    seen!(raw.zone_capacity_exhausted, "zoneCapacityExhausted");
    seen!(raw.attach_latency, "attachLatency");
    seen!(raw.attach_failure, "attachFailure");
    seen!(raw.stuck_detach, "stuckDetach");
    seen!(raw.disk_loss, "diskLoss");
    seen!(raw.node_crash, "nodeCrash");
    seen!(raw.node_reboot, "nodeReboot");
    seen!(raw.kubelet_stop, "kubeletStop");
    seen!(raw.zone_outage, "zoneOutage");
    seen!(raw.net_partition, "netPartition");
    seen!(raw.control_plane_partition, "controlPlanePartition");
    // `apiServerOutage:` takes no settings, so a bare key (null) counts as given too.
    let api_server_outage = item.entries().iter().find(|e| e.key == "apiServerOutage");
    if let Some(e) = api_server_outage {
        kinds.push(("apiServerOutage", e.key_pos));
    }
    let pos = item.pos;
    match kinds.as_slice() {
        [] => {
            let hint = Some(format!("add one of: {}", FAULT_KINDS.join(", ")));
            r.push(pos, path, "a fault needs a kind", hint);
            return None;
        }
        [_] => {}
        [first, second, ..] => {
            let msg = format!(
                "one fault kind per item, found `{}` and `{}`",
                first.0, second.0
            );
            let hint = Some("write each fault as its own list item".to_string());
            r.push(second.1, &join(path, second.0), msg, hint);
            return None;
        }
    }
    let before = r.diags.len();
    let at = raw.at.value.0;
    if let Some(d) = ctx.duration.filter(|d| at > *d) {
        let msg = format!("fault at {at} is after the end of the run ({d})");
        r.push(raw.at.pos, &join(path, "at"), msg, None);
    }
    let duration = raw.duration.as_ref().map(|d| d.value.0);
    if let (Some(d), Some(run)) = (&raw.duration, ctx.duration) {
        if d.value.0 == SimDuration::ZERO {
            r.push(
                d.pos,
                &join(path, "duration"),
                "a fault must last longer than 0s",
                None,
            );
        } else if at + d.value.0 > run {
            let msg = format!(
                "the fault ends at {} (at {at} + duration {}), after the end of the run ({run})",
                at + d.value.0,
                d.value.0
            );
            r.push(d.pos, &join(path, "duration"), msg, None);
        }
    }
    let mut words: Vec<String> = Vec::new();
    let fault = if let Some(f) = raw.provisioning_failure {
        let f = f.value;
        let kpath = join(path, "provisioningFailure");
        if let Some(c) = &f.storage_class {
            check_name(
                c,
                "StorageClass",
                ctx.classes,
                &join(&kpath, "storageClass"),
                r,
            );
            words.push(format!("storageClass={}", c.value));
        }
        if let Some(z) = &f.zone {
            check_zone(z, ctx, &join(&kpath, "zone"), r);
            words.push(format!("zone={}", z.value));
        }
        let message = f.message.unwrap_or_else(|| {
            let wher = f
                .zone
                .as_ref()
                .map_or_else(String::new, |z| format!(" in zone {}", z.value));
            format!("the cloud's volume service is failing{wher}")
        });
        Fault::ProvisioningFailure {
            storage_class: f.storage_class.map(|c| c.value),
            zone: f.zone.map(|z| z.value),
            message,
        }
    } else if let Some(f) = raw.zone_capacity_exhausted {
        let z = f.value.zone;
        check_zone(&z, ctx, &join(path, "zoneCapacityExhausted.zone"), r);
        words.push(format!("zone={}", z.value));
        Fault::ZoneCapacityExhausted { zone: z.value }
    } else if let Some(f) = raw.attach_latency {
        let f = f.value;
        let kpath = join(path, "attachLatency");
        let driver = f.driver.map(|d| {
            check_name(&d, "CSI driver", ctx.drivers, &join(&kpath, "driver"), r);
            words.push(format!("driver={}", d.value));
            d.value
        });
        let m = f.multiplier;
        if !(m.value.is_finite() && m.value > 0.0) {
            let msg = format!("multiplier must be a number > 0, found {}", m.value);
            r.push(m.pos, &join(&kpath, "multiplier"), msg, None);
        }
        words.push(format!("multiplier={}", m.value));
        Fault::AttachLatency {
            driver,
            multiplier: m.value,
        }
    } else if let Some(f) = raw.attach_failure {
        let f = f.value;
        let kpath = join(path, "attachFailure");
        let driver = f.driver.map(|d| {
            check_name(&d, "CSI driver", ctx.drivers, &join(&kpath, "driver"), r);
            words.push(format!("driver={}", d.value));
            d.value
        });
        let ratio = f.ratio;
        if !(ratio.value.is_finite() && (0.0..=1.0).contains(&ratio.value)) {
            let msg = format!("ratio must be between 0 and 1, found {}", ratio.value);
            r.push(ratio.pos, &join(&kpath, "ratio"), msg, None);
        }
        words.push(format!("ratio={}", ratio.value));
        Fault::AttachFailure {
            driver,
            ratio: ratio.value,
        }
    } else if let Some(f) = raw.stuck_detach {
        let f = f.value;
        let kpath = join(path, "stuckDetach");
        let driver = f.driver.map(|d| {
            check_name(&d, "CSI driver", ctx.drivers, &join(&kpath, "driver"), r);
            words.push(format!("driver={}", d.value));
            d.value
        });
        let node = f.node.map(|n| {
            if let Some(c) = ctx.cluster {
                let nodes: Vec<String> = c
                    .zones
                    .iter()
                    .flat_map(|z| z.nodes.iter().map(|n| n.name.clone()))
                    .collect();
                check_name(&n, "node", &nodes, &join(&kpath, "node"), r);
            }
            words.push(format!("node={}", n.value));
            n.value
        });
        Fault::StuckDetach { driver, node }
    } else if let Some(f) = raw.disk_loss {
        let f = f.value;
        let kpath = join(path, "diskLoss");
        if let Some(d) = &raw.duration {
            let msg = "diskLoss happens once: it takes no duration";
            r.push(d.pos, &join(path, "duration"), msg, None);
        }
        match (f.persistent_volume, f.persistent_volume_claim) {
            (Some(pv), None) => {
                words.push(format!("persistentVolume={}", pv.value));
                Fault::DiskLoss {
                    volume: Some(pv.value),
                    claim: None,
                }
            }
            (None, Some(pvc)) => {
                let ns = f.namespace.unwrap_or_else(|| "default".to_string());
                words.push(format!("persistentVolumeClaim={}/{}", ns, pvc.value));
                Fault::DiskLoss {
                    volume: None,
                    claim: Some((ns, pvc.value)),
                }
            }
            (Some(_), Some(pvc)) => {
                let msg = "name the disk by persistentVolume or by persistentVolumeClaim, not both";
                r.push(pvc.pos, &join(&kpath, "persistentVolumeClaim"), msg, None);
                return None;
            }
            (None, None) => {
                let hint = Some("e.g. diskLoss: { persistentVolumeClaim: data-web-0 }".into());
                let msg = "diskLoss needs persistentVolume or persistentVolumeClaim";
                r.push(kinds[0].1, &kpath, msg, hint);
                return None;
            }
        }
    } else if let Some(f) = raw.node_crash {
        let kpath = join(path, "nodeCrash");
        faults_net::node_crash(f.value, &kpath, ctx, &mut words, r)
    } else if let Some(f) = raw.node_reboot {
        let duration = raw.duration.as_ref().map(|d| d.pos);
        faults_net::node_reboot(f.value, duration, path, ctx, &mut words, r)
    } else if let Some(f) = raw.kubelet_stop {
        let kpath = join(path, "kubeletStop");
        faults_net::kubelet_stop(f.value, &kpath, ctx, &mut words, r)
    } else if let Some(f) = raw.zone_outage {
        let kpath = join(path, "zoneOutage");
        faults_net::zone_outage(f.value, &kpath, ctx, &mut words, r)
    } else if let Some(f) = raw.net_partition {
        let kpath = join(path, "netPartition");
        faults_net::net_partition(f.value, f.pos, &kpath, ctx, &mut words, r)?
    } else if let Some(f) = raw.control_plane_partition {
        let kpath = join(path, "controlPlanePartition");
        faults_net::control_plane_partition(f.value, f.pos, &kpath, ctx, &mut words, r)?
    } else if api_server_outage.is_some() {
        Fault::ApiServerOutage
    } else {
        unreachable!("exactly one kind was found above")
    };
    if r.diags.len() != before {
        return None;
    }
    let mut text = fault.kind_name().to_string();
    for w in words {
        text.push(' ');
        text.push_str(&w);
    }
    Some(TimedFault {
        at,
        duration,
        origin: r.src.location(kinds[0].1),
        text,
        fault,
    })
}

fn check_zone(z: &Loc<String>, ctx: &Context, path: &str, r: &mut Reporter) {
    if let Some(c) = ctx.cluster {
        let zones: Vec<String> = c.zones.iter().map(|z| z.name.clone()).collect();
        check_name(z, "zone", &zones, path, r);
    }
}

/// `name` must be one of `known` (a `what`); else an error with a did-you-mean hint.
pub(super) fn check_name(
    name: &Loc<String>,
    what: &str,
    known: &[String],
    path: &str,
    r: &mut Reporter,
) {
    if known.contains(&name.value) {
        return;
    }
    let hint = did_you_mean(&name.value, known.iter().map(String::as_str))
        .or_else(|| (!known.is_empty()).then(|| format!("known: {}", known.join(", "))));
    r.push(
        name.pos,
        path,
        format!("no {what} named {:?}", name.value),
        hint,
    );
}
