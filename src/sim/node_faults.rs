//! Node, zone and network faults as the engine carries them out: machines powered off and
//! on, kubelet processes stopped and started, links cut in the network model, the API
//! server down — and, after each change, who can still reach the API server, written to
//! the API server's reachability gate and told to the kubelets.

use super::{SimEvent, Simulation};
use crate::component::Ctx;
use crate::infra::kubelet::KubeletTimer;
use crate::scenario::{Fault, ZoneOutageFlavour};
use crate::time::SimTime;
use std::collections::BTreeSet;

impl Simulation {
    /// Carries out the start or end of fault `index` if it is a node, zone or network
    /// fault (storage faults are the CSI drivers').
    pub(super) fn apply_node_fault(
        &mut self,
        now: SimTime,
        index: usize,
        fault: &Fault,
        start: bool,
        kubelet_timers: &mut Vec<(SimTime, KubeletTimer)>,
    ) {
        let mut powered_off: Vec<String> = Vec::new();
        let mut powered_on: Vec<String> = Vec::new();
        match fault {
            Fault::NodeCrash { node } => {
                if start {
                    powered_off.push(node.clone());
                } else {
                    powered_on.push(node.clone());
                }
            }
            Fault::NodeReboot { node, .. } => {
                if !start {
                    powered_on.push(node.clone());
                } else {
                    let mut ctx = Ctx::new(
                        now,
                        &mut self.api,
                        &mut self.nodes_rng,
                        kubelet_timers,
                        &mut self.notes,
                    );
                    match self.nodes.begin_shutdown(node, &mut ctx) {
                        // Graceful node shutdown holds the power-off back.
                        Some(delay) => {
                            if let Some(i) = self.network.node_index(node) {
                                self.queue
                                    .schedule(now + delay, SimEvent::NodePowerOff { node: i });
                            }
                        }
                        None => powered_off.push(node.clone()),
                    }
                }
            }
            Fault::KubeletStop { node } => {
                if start {
                    self.nodes.stop_kubelet(node);
                } else {
                    let mut ctx = Ctx::new(
                        now,
                        &mut self.api,
                        &mut self.nodes_rng,
                        kubelet_timers,
                        &mut self.notes,
                    );
                    self.nodes.start_kubelet(node, &mut ctx);
                }
            }
            Fault::ZoneOutage { zone, flavour } => {
                if *flavour == ZoneOutageFlavour::Power {
                    let names = self.node_names_in_zone(zone);
                    if start {
                        powered_off.extend(names);
                    } else {
                        powered_on.extend(names);
                    }
                }
            }
            Fault::ApiServerOutage => {
                if start {
                    self.api_outages += 1;
                } else {
                    self.api_outages = self.api_outages.saturating_sub(1);
                }
            }
            Fault::NetPartition { .. } | Fault::ControlPlanePartition { .. } => {}
            // Storage faults.
            _ => return,
        }
        // The network model keeps its own account of links and of a zone's power.
        if start {
            self.network.start_fault(index, fault);
        } else {
            self.network.end_fault(index);
        }
        for name in &powered_off {
            if let Some(i) = self.network.node_index(name) {
                self.network.set_node_powered(i, false);
            }
            self.nodes.power_off(name);
        }
        for name in &powered_on {
            if let Some(i) = self.network.node_index(name) {
                self.network.set_node_powered(i, true);
            }
        }
        self.refresh_connectivity(now, kubelet_timers);
        for name in &powered_on {
            let mut ctx = Ctx::new(
                now,
                &mut self.api,
                &mut self.nodes_rng,
                kubelet_timers,
                &mut self.notes,
            );
            self.nodes.start_kubelet(name, &mut ctx);
        }
    }

    /// The end of a graceful node shutdown: the machine powers off.
    pub(super) fn power_off_node(&mut self, node: u32) {
        let Some(name) = self.all_node_names().get(node as usize).cloned() else {
            return;
        };
        self.network.set_node_powered(node, false);
        self.nodes.power_off(&name);
        let mut timers = Vec::new();
        self.refresh_connectivity(self.clock, &mut timers);
        for (at, t) in timers {
            self.queue.schedule(at, SimEvent::Kubelet(t));
        }
    }

    /// Tells the API server and the kubelets who can reach the API server now.
    fn refresh_connectivity(
        &mut self,
        now: SimTime,
        kubelet_timers: &mut Vec<(SimTime, KubeletTimer)>,
    ) {
        let cut: BTreeSet<u32> = self
            .network
            .nodes_cut_from_control_plane()
            .into_iter()
            .collect();
        let names = self.all_node_names();
        let cut_names: BTreeSet<String> = cut
            .iter()
            .filter_map(|&i| names.get(i as usize).cloned())
            .collect();
        let down = self.api_outages > 0 || !self.network.control_plane_up();
        self.api.set_outage(down);
        self.api.set_cut_hosts(cut_names);
        for (i, name) in names.iter().enumerate() {
            let connected = !down && !cut.contains(&(i as u32));
            let mut ctx = Ctx::new(
                now,
                &mut self.api,
                &mut self.nodes_rng,
                kubelet_timers,
                &mut self.notes,
            );
            self.nodes.set_connected(name, connected, &mut ctx);
        }
    }

    /// Node names in kubelet (and network) order: zones in file order, then pools.
    fn all_node_names(&self) -> Vec<String> {
        self.scenario
            .cluster
            .zones
            .iter()
            .flat_map(|z| z.nodes.iter().map(|n| n.name.clone()))
            .collect()
    }

    fn node_names_in_zone(&self, zone: &str) -> Vec<String> {
        self.scenario
            .cluster
            .zones
            .iter()
            .filter(|z| z.name == zone)
            .flat_map(|z| z.nodes.iter().map(|n| n.name.clone()))
            .collect()
    }
}
