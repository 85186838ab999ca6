//! The in-tree plugins this scheduler runs, one file each, and the default profile that
//! lists them in upstream's order (`getDefaultPlugins`, filters run in list order) with
//! upstream's score weights. Plugins of later issues (PodTopologySpread, InterPodAffinity,
//! the volume plugins, NodePorts, ImageLocality) slot into this list.

pub mod balanced_allocation;
pub mod inter_pod_affinity;
pub mod node_affinity;
pub mod node_name;
pub mod node_resources_fit;
pub mod node_unschedulable;
pub mod node_volume_limits;
pub mod pod_topology_spread;
pub mod taint_toleration;
pub mod volume_binding;
pub mod volume_restrictions;
pub mod volume_zone;

#[cfg(test)]
pub(crate) mod testing;

use super::framework::{Plugin, PluginEntry, Profile};

fn entry(plugin: impl Plugin + 'static, weight: i64) -> PluginEntry {
    PluginEntry {
        plugin: Box::new(plugin),
        weight,
    }
}

/// The default profile (`default-scheduler`), restricted to the plugins modelled so far.
pub fn default_profile() -> Profile {
    Profile {
        plugins: vec![
            entry(node_unschedulable::NodeUnschedulable, 0),
            entry(node_name::NodeName, 0),
            entry(taint_toleration::TaintToleration, 3),
            entry(node_affinity::NodeAffinity, 2),
            entry(node_resources_fit::NodeResourcesFit, 1),
            entry(volume_restrictions::VolumeRestrictions, 0),
            entry(node_volume_limits::NodeVolumeLimits::default(), 0),
            entry(volume_binding::VolumeBinding, 0),
            entry(volume_zone::VolumeZone, 0),
            entry(pod_topology_spread::PodTopologySpread::default(), 2),
            entry(inter_pod_affinity::InterPodAffinity, 2),
            entry(balanced_allocation::BalancedAllocation, 1),
        ],
    }
}
