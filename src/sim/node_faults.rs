//! Node, zone and network faults as the engine carries them out: machines powered off and
//! on, kubelet processes stopped and started, links cut in the network model, the API
//! server down — and, after each change, who can still reach the API server, written to
//! the API server's reachability gate and told to the kubelets.

use super::events::schedule_kubelet;
use super::{SimEvent, Simulation};
use crate::component::Ctx;
use crate::infra::kubelet::{KubeletTimer, NodeAgents};
use crate::scenario::{Fault, ZoneOutageFlavour};
use crate::time::SimTime;
use std::collections::BTreeSet;

type KubeletTimers = Vec<(SimTime, KubeletTimer)>;

impl Simulation {
    /// Carries out the start or end of fault `index` if it is a node, zone or network
    /// fault (storage faults are the CSI drivers').
    pub(super) fn apply_node_fault(
        &mut self,
        now: SimTime,
        index: usize,
        fault: &Fault,
        start: bool,
        timers: &mut KubeletTimers,
    ) {
        let mut powered_off: Vec<u32> = Vec::new();
        let mut powered_on: Vec<u32> = Vec::new();
        let node_index = |name: &str| self.network.node_index(name);
        match fault {
            Fault::NodeCrash { node } => {
                let list = if start {
                    &mut powered_off
                } else {
                    &mut powered_on
                };
                list.extend(node_index(node));
            }
            Fault::NodeReboot { node, .. } if !start => powered_on.extend(node_index(node)),
            Fault::NodeReboot { node, .. } => {
                let i = node_index(node);
                // Graceful node shutdown holds the power-off back.
                match self.with_kubelets(now, timers, |n, ctx| n.begin_shutdown(node, ctx)) {
                    Some(delay) => {
                        if let Some(i) = i {
                            self.queue
                                .schedule(now + delay, SimEvent::NodePowerOff { node: i });
                        }
                    }
                    None => powered_off.extend(i),
                }
            }
            Fault::KubeletStop { node } if start => self.nodes.stop_kubelet(node),
            Fault::KubeletStop { node } => {
                self.with_kubelets(now, timers, |n, ctx| n.start_kubelet(node, ctx));
            }
            Fault::ZoneOutage { zone, flavour } => {
                if *flavour == ZoneOutageFlavour::Power {
                    let nodes = self.network.nodes_in_zone(zone);
                    let list = if start {
                        &mut powered_off
                    } else {
                        &mut powered_on
                    };
                    list.extend(nodes);
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
        for &i in &powered_off {
            self.set_powered(i, false);
        }
        for &i in &powered_on {
            self.set_powered(i, true);
        }
        self.refresh_connectivity(now, timers);
        for &i in &powered_on {
            let Some(name) = self.nodes.node_name(i).map(str::to_string) else {
                continue;
            };
            self.with_kubelets(now, timers, |n, ctx| n.start_kubelet(&name, ctx));
        }
    }

    /// The end of a graceful node shutdown: the machine powers off.
    pub(super) fn power_off_node(&mut self, node: u32) {
        self.set_powered(node, false);
        let mut timers = Vec::new();
        self.refresh_connectivity(self.clock, &mut timers);
        for (at, t) in timers {
            schedule_kubelet(&mut self.queue, at, t);
        }
    }

    /// Node `i`'s power, in the network model and, when it goes off, for its kubelet (a
    /// kubelet comes back with [`NodeAgents::start_kubelet`], once connectivity is known).
    ///
    /// [`NodeAgents::start_kubelet`]: crate::infra::kubelet::NodeAgents::start_kubelet
    fn set_powered(&mut self, i: u32, on: bool) {
        self.network.set_node_powered(i, on);
        if !on && let Some(name) = self.nodes.node_name(i).map(str::to_string) {
            self.nodes.power_off(&name);
        }
    }

    /// Runs `f` on the kubelets with a context for this instant (a split borrow of the
    /// engine's fields).
    fn with_kubelets<R>(
        &mut self,
        now: SimTime,
        timers: &mut KubeletTimers,
        f: impl FnOnce(&mut NodeAgents, &mut Ctx<'_, KubeletTimer>) -> R,
    ) -> R {
        let mut ctx = Ctx::new(
            now,
            &mut self.api,
            &mut self.nodes_rng,
            timers,
            &mut self.notes,
        );
        f(&mut self.nodes, &mut ctx)
    }

    /// Tells the API server and the kubelets who can reach the API server now.
    fn refresh_connectivity(&mut self, now: SimTime, timers: &mut KubeletTimers) {
        let cut: BTreeSet<u32> = self
            .network
            .nodes_cut_from_control_plane()
            .into_iter()
            .collect();
        let cut_names: BTreeSet<String> = cut
            .iter()
            .filter_map(|&i| self.nodes.node_name(i).map(str::to_string))
            .collect();
        let down = self.api_outages > 0 || !self.network.control_plane_up();
        self.api.set_outage(down);
        self.api.set_cut_hosts(cut_names);
        for i in 0..self.nodes.node_count() {
            let connected = !down && !cut.contains(&i);
            let Some(name) = self.nodes.node_name(i).map(str::to_string) else {
                continue;
            };
            self.with_kubelets(now, timers, |n, ctx| n.set_connected(&name, connected, ctx));
        }
    }
}
