//! Node, zone and network faults of `spec.faults` (`nodeCrash`, `nodeReboot`, `kubeletStop`,
//! `zoneOutage`, `netPartition`, `controlPlanePartition`): names resolved against the
//! cluster (zones, nodes, the word `controlPlane`) and partitions' groups checked.
//! `faults.rs` dispatches here; each function pushes the fault's timeline words.

use super::de::{index, join};
use super::faults::{Context, check_name};
use super::located::Loc;
use super::model::{Fault, NetTarget, ZoneOutageFlavour};
use super::raw::{
    RawControlPlanePartition, RawGroup, RawNetPartition, RawNodeFault, RawNodeReboot,
    RawZoneOutage, RawZoneOutageKind,
};
use super::report::Reporter;
use super::suggest::did_you_mean;
use super::yaml::Pos;
use crate::time::SimDuration;

/// How a partition group names the control plane.
pub const CONTROL_PLANE: &str = "controlPlane";

/// `nodeReboot` without `bootTime`: the machine is back after a minute.
pub const DEFAULT_BOOT_TIME: SimDuration = SimDuration::from_secs(60);

/// The cluster's names; `known` is false when the cluster section was broken (then the
/// scenario fails anyway and names are not checked).
struct Names {
    zones: Vec<String>,
    nodes: Vec<String>,
    control_plane_zone: Option<String>,
    known: bool,
}

impl Names {
    fn of(ctx: &Context) -> Names {
        match ctx.cluster {
            Some(c) => Names {
                zones: c.zones.iter().map(|z| z.name.clone()).collect(),
                nodes: c
                    .zones
                    .iter()
                    .flat_map(|z| z.nodes.iter().map(|n| n.name.clone()))
                    .collect(),
                control_plane_zone: c.control_plane_zone.clone(),
                known: true,
            },
            None => Names {
                zones: Vec::new(),
                nodes: Vec::new(),
                control_plane_zone: None,
                known: false,
            },
        }
    }

    fn check_node(&self, n: &Loc<String>, path: &str, r: &mut Reporter) {
        if self.known {
            check_name(n, "node", &self.nodes, path, r);
        }
    }

    fn check_zone(&self, z: &Loc<String>, path: &str, r: &mut Reporter) {
        if self.known {
            check_name(z, "zone", &self.zones, path, r);
        }
    }

    /// A zone name, a node name or `controlPlane` (zones first: node names are
    /// `<pool>-<zone>-<i>`, so they cannot be a zone's name unless a zone is named so).
    fn target(&self, name: &Loc<String>, path: &str, r: &mut Reporter) -> Option<NetTarget> {
        let v = &name.value;
        if v == CONTROL_PLANE {
            return Some(NetTarget::ControlPlane);
        }
        if self.zones.contains(v) {
            return Some(NetTarget::Zone(v.clone()));
        }
        if self.nodes.contains(v) || !self.known {
            return Some(NetTarget::Node(v.clone()));
        }
        let candidates = self
            .zones
            .iter()
            .chain(&self.nodes)
            .map(String::as_str)
            .chain([CONTROL_PLANE]);
        let hint = did_you_mean(v, candidates).or_else(|| {
            Some(format!(
                "name a zone ({}), a node, or {CONTROL_PLANE}",
                self.zones.join(", ")
            ))
        });
        r.push(name.pos, path, format!("no zone or node named {v:?}"), hint);
        None
    }
}

/// A target as scenario files write it.
fn target_name(t: &NetTarget) -> &str {
    match t {
        NetTarget::Zone(n) | NetTarget::Node(n) => n,
        NetTarget::ControlPlane => CONTROL_PLANE,
    }
}

pub fn node_crash(
    f: RawNodeFault,
    kpath: &str,
    ctx: &Context,
    words: &mut Vec<String>,
    r: &mut Reporter,
) -> Fault {
    Names::of(ctx).check_node(&f.node, &join(kpath, "node"), r);
    words.push(format!("node={}", f.node.value));
    Fault::NodeCrash { node: f.node.value }
}

pub fn kubelet_stop(
    f: RawNodeFault,
    kpath: &str,
    ctx: &Context,
    words: &mut Vec<String>,
    r: &mut Reporter,
) -> Fault {
    Names::of(ctx).check_node(&f.node, &join(kpath, "node"), r);
    words.push(format!("node={}", f.node.value));
    Fault::KubeletStop { node: f.node.value }
}

/// A one-off like `diskLoss`: the machine restarts once, so the item takes no `duration`.
pub fn node_reboot(
    f: RawNodeReboot,
    duration: Option<Pos>,
    path: &str,
    ctx: &Context,
    words: &mut Vec<String>,
    r: &mut Reporter,
) -> Fault {
    let kpath = join(path, "nodeReboot");
    if let Some(pos) = duration {
        let msg = "nodeReboot happens once: it takes no duration";
        let hint = Some("set nodeReboot.bootTime for how long the node is down".to_string());
        r.push(pos, &join(path, "duration"), msg, hint);
    }
    Names::of(ctx).check_node(&f.node, &join(&kpath, "node"), r);
    let boot_time = match f.boot_time {
        Some(b) if b.value.0 == SimDuration::ZERO => {
            let msg = "bootTime must be longer than 0s";
            r.push(b.pos, &join(&kpath, "bootTime"), msg, None);
            SimDuration::ZERO
        }
        Some(b) => b.value.0,
        None => DEFAULT_BOOT_TIME,
    };
    words.push(format!("node={}", f.node.value));
    words.push(format!("bootTime={boot_time}"));
    Fault::NodeReboot {
        node: f.node.value,
        boot_time,
    }
}

pub fn zone_outage(
    f: RawZoneOutage,
    kpath: &str,
    ctx: &Context,
    words: &mut Vec<String>,
    r: &mut Reporter,
) -> Fault {
    Names::of(ctx).check_zone(&f.zone, &join(kpath, "zone"), r);
    let (flavour, word) = match f.kind.unwrap_or(RawZoneOutageKind::Power) {
        RawZoneOutageKind::Power => (ZoneOutageFlavour::Power, "power"),
        RawZoneOutageKind::Network => (ZoneOutageFlavour::Network, "network"),
    };
    words.push(format!("zone={}", f.zone.value));
    words.push(format!("kind={word}"));
    Fault::ZoneOutage {
        zone: f.zone.value,
        flavour,
    }
}

/// `groups` (each a list of names) or `isolate: NAME` (that node, zone or the control
/// plane against everything else); `oneWay` drops only the first group's traffic to the
/// second.
pub fn net_partition(
    f: RawNetPartition,
    kpos: Pos,
    kpath: &str,
    ctx: &Context,
    words: &mut Vec<String>,
    r: &mut Reporter,
) -> Option<Fault> {
    let names = Names::of(ctx);
    let one_way = f.one_way.as_ref().is_some_and(|o| o.value);
    let groups = match (f.groups, f.isolate) {
        (Some(groups), None) => {
            let g = resolve_groups(groups, &names, &join(kpath, "groups"), r)?;
            let text: Vec<String> = g
                .iter()
                .map(|group| {
                    let names: Vec<&str> = group.iter().map(target_name).collect();
                    format!("[{}]", names.join(","))
                })
                .collect();
            words.push(format!("groups={}", text.join(",")));
            g
        }
        (None, Some(isolated)) => {
            let g = isolate(&isolated, &names, &join(kpath, "isolate"), r)?;
            words.push(format!("isolate={}", isolated.value));
            g
        }
        (Some(_), Some(isolated)) => {
            let msg = "give groups or isolate, not both";
            r.push(isolated.pos, &join(kpath, "isolate"), msg, None);
            return None;
        }
        (None, None) => {
            let hint = Some(
                "e.g. netPartition: { groups: [[zone-a], [zone-b, controlPlane]] } or netPartition: { isolate: worker-a-1 }"
                    .to_string(),
            );
            r.push(kpos, kpath, "netPartition needs groups or isolate", hint);
            return None;
        }
    };
    if let Some(o) = f.one_way.filter(|o| o.value) {
        if groups.len() != 2 {
            let msg = format!(
                "oneWay needs exactly two groups (traffic from the first to the second is dropped), found {}",
                groups.len()
            );
            r.push(o.pos, &join(kpath, "oneWay"), msg, None);
            return None;
        }
        words.push("oneWay=true".to_string());
    }
    Some(Fault::NetPartition { groups, one_way })
}

/// Each group's names resolved; at least two non-empty groups, no target in two places.
fn resolve_groups(
    groups: Loc<Vec<RawGroup>>,
    names: &Names,
    gpath: &str,
    r: &mut Reporter,
) -> Option<Vec<Vec<NetTarget>>> {
    let before = r.diags.len();
    if groups.value.len() < 2 {
        let msg = format!(
            "a partition needs at least two groups, found {}",
            groups.value.len()
        );
        let hint = Some("to cut one node or zone from everything else, write isolate: NAME".into());
        r.push(groups.pos, gpath, msg, hint);
        return None;
    }
    // Each target with the group that first named it.
    let mut seen: Vec<(NetTarget, usize)> = Vec::new();
    let mut out = Vec::new();
    for (i, group) in groups.value.into_iter().enumerate() {
        let path = index(gpath, i);
        if group.value.is_empty() {
            r.push(group.pos, &path, format!("group {i} is empty"), None);
            continue;
        }
        let mut targets = Vec::new();
        for (j, name) in group.value.iter().enumerate() {
            let npath = index(&path, j);
            let Some(t) = names.target(name, &npath, r) else {
                continue;
            };
            if let Some((_, first)) = seen.iter().find(|(s, _)| *s == t) {
                let msg = if *first == i {
                    format!("{:?} is listed twice in group {i}", name.value)
                } else {
                    format!(
                        "{:?} is already in group {first}: a target belongs to one group",
                        name.value
                    )
                };
                r.push(name.pos, &npath, msg, None);
                continue;
            }
            seen.push((t.clone(), i));
            targets.push(t);
        }
        out.push(targets);
    }
    (r.diags.len() == before).then_some(out)
}

/// `isolate: NAME` as two groups: the target, and every zone plus the control plane. A
/// node or the control plane named on its own belongs to its own group even though its
/// zone is in the other (the network gives the more specific target precedence). A zone
/// keeps its zonal control plane, as a zone's network outage does.
fn isolate(
    name: &Loc<String>,
    names: &Names,
    path: &str,
    r: &mut Reporter,
) -> Option<Vec<Vec<NetTarget>>> {
    let target = names.target(name, path, r)?;
    let mut rest: Vec<NetTarget> = Vec::new();
    for z in &names.zones {
        if target != NetTarget::Zone(z.clone()) {
            rest.push(NetTarget::Zone(z.clone()));
        }
    }
    let control_plane_inside = match &target {
        NetTarget::Zone(z) => names.control_plane_zone.as_ref() == Some(z),
        NetTarget::ControlPlane => true,
        NetTarget::Node(_) => false,
    };
    if !control_plane_inside {
        rest.push(NetTarget::ControlPlane);
    }
    if names.known && rest.is_empty() {
        let msg = format!("nothing outside {:?} to cut it from", name.value);
        r.push(name.pos, path, msg, None);
        return None;
    }
    Some(vec![vec![target], rest])
}

/// The zones and nodes cut from the control plane (both ways); at least one.
pub fn control_plane_partition(
    f: RawControlPlanePartition,
    kpos: Pos,
    kpath: &str,
    ctx: &Context,
    words: &mut Vec<String>,
    r: &mut Reporter,
) -> Option<Fault> {
    let names = Names::of(ctx);
    if f.zones.is_empty() && f.nodes.is_empty() {
        let hint = Some("e.g. controlPlanePartition: { zones: [zone-a] }".to_string());
        let msg = "controlPlanePartition needs at least one zone or node";
        r.push(kpos, kpath, msg, hint);
        return None;
    }
    let before = r.diags.len();
    let mut targets: Vec<NetTarget> = Vec::new();
    for (key, list) in [("zones", &f.zones), ("nodes", &f.nodes)] {
        let lpath = join(kpath, key);
        for (i, name) in list.iter().enumerate() {
            let path = index(&lpath, i);
            let t = if key == "zones" {
                names.check_zone(name, &path, r);
                NetTarget::Zone(name.value.clone())
            } else {
                names.check_node(name, &path, r);
                NetTarget::Node(name.value.clone())
            };
            if targets.contains(&t) {
                let msg = format!("{:?} is listed twice", name.value);
                r.push(name.pos, &path, msg, None);
                continue;
            }
            targets.push(t);
        }
        if !list.is_empty() {
            let v: Vec<&str> = list.iter().map(|n| n.value.as_str()).collect();
            words.push(format!("{key}={}", v.join(",")));
        }
    }
    (r.diags.len() == before).then_some(Fault::ControlPlanePartition { targets })
}
