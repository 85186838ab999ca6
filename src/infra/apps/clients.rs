//! What each zone's clients get from an app right now. A client finds members through the
//! DNS records of the app's headless Service, so it can use only members with a ready
//! endpoint; it must reach the member through the network; and the member must be able to
//! serve the request: for a quorum group (etcd), any member forwards a write (and a
//! linearizable read, ReadIndex) to the leader, which must reach it and hold a quorum; a
//! serializable read is answered by the member itself from its current data. For a
//! primary with replicas (PostgreSQL), a write goes to the primary — the leader-key holder
//! if the client reaches it, else any member still taking writes that it reaches (a client
//! keeps its connection to an old primary cut off with it: split brain) — and a read to any
//! running member (hot standby).

use super::primary_replica::PrimaryReplica;
use super::quorum::{Data, Quorum};
use crate::infra::network::{Endpoint, Network};
use crate::scenario::{AppSpec, ReadConsistency};
use std::collections::BTreeSet;

/// The members as clients can find them.
pub struct ClientView<'a> {
    /// A member's process runs.
    pub up: Vec<bool>,
    /// Where it runs.
    pub nodes: Vec<Option<u32>>,
    /// Members with a ready endpoint in the Service.
    pub ready: &'a BTreeSet<usize>,
}

impl ClientView<'_> {
    /// Members zone `zone`'s clients can send requests to.
    fn reachable_from(&self, zone: u32, net: &mut Network) -> Vec<(usize, u32)> {
        self.ready
            .iter()
            .filter(|&&m| self.up.get(m).copied().unwrap_or(false))
            .filter_map(|&m| Some((m, self.nodes[m]?)))
            .filter(|&(_, n)| net.connected(Endpoint::Clients(zone), Endpoint::Node(n)))
            .collect()
    }
}

/// Per client group: (writes succeed, reads succeed).
pub fn quorum_outcomes(
    spec: &AppSpec,
    q: &Quorum,
    can_commit: bool,
    view: &ClientView<'_>,
    net: &mut Network,
) -> (Vec<bool>, Vec<bool>) {
    let leader_node = q.leader().and_then(|l| view.nodes[l]);
    let mut writes = Vec::with_capacity(spec.clients.len());
    let mut reads = Vec::with_capacity(spec.clients.len());
    for c in &spec.clients {
        let members = view.reachable_from(c.zone_index, net);
        let write = can_commit
            && leader_node.is_some_and(|ln| {
                members
                    .iter()
                    .any(|&(_, n)| n == ln || net.connected(Endpoint::Node(n), Endpoint::Node(ln)))
            });
        let read = match spec.reads {
            ReadConsistency::Linearizable => write,
            ReadConsistency::Serializable => {
                members.iter().any(|&(m, _)| q.data(m) == Data::Current)
            }
        };
        writes.push(write);
        reads.push(read);
    }
    (writes, reads)
}

/// Per client group: the member that acknowledges its writes (none: they fail), and
/// whether its reads succeed.
pub fn primary_outcomes(
    spec: &AppSpec,
    p: &PrimaryReplica,
    view: &ClientView<'_>,
    net: &mut Network,
) -> (Vec<Option<usize>>, Vec<bool>) {
    let mut targets = Vec::with_capacity(spec.clients.len());
    let mut reads = Vec::with_capacity(spec.clients.len());
    for c in &spec.clients {
        let members = view.reachable_from(c.zone_index, net);
        let holder = p
            .primary()
            .filter(|&h| p.accepts_writes(h) && members.iter().any(|&(m, _)| m == h));
        let target = holder.or_else(|| {
            members
                .iter()
                .map(|&(m, _)| m)
                .find(|&m| p.accepts_writes(m))
        });
        targets.push(target);
        reads.push(members.iter().any(|&(m, _)| p.can_serve_read(m)));
    }
    (targets, reads)
}

/// Per client group: whether it reaches a running member with a ready endpoint, which
/// serves it on its own (`stateless`).
pub fn stateless_outcomes(spec: &AppSpec, view: &ClientView<'_>, net: &mut Network) -> Vec<bool> {
    spec.clients
        .iter()
        .map(|c| !view.reachable_from(c.zone_index, net).is_empty())
        .collect()
}
