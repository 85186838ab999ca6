//! Who can talk to the API server right now. The network model (`infra::network`) and the
//! fault schedule decide it; the engine writes the verdict here after every change, and
//! every request made through an [`ApiClient`](super::ApiClient) is checked against it, so a
//! kubelet cut off from the control plane fails its writes exactly where a real one would
//! time out — whichever of its code paths makes the request.
//!
//! Controllers and operators run next to the API server (empty host) and are refused only
//! while the API server itself is down. Reads through `ApiClient::get`/`list` are not
//! checked: components read through informers, which simply receive nothing while cut
//! off (the engine stops delivering to them).

use super::{Actor, ApiError, ApiServer};
use std::collections::BTreeSet;

#[derive(Clone, Debug, Default)]
pub struct Reachability {
    /// The API server answers no one (`apiServerOutage`, or its zone lost power).
    outage: bool,
    /// Hosts (node names) that cannot hold a TCP exchange with the API server.
    cut_hosts: BTreeSet<String>,
}

impl ApiServer {
    /// Sets whether the API server is down for everyone.
    pub fn set_outage(&mut self, down: bool) {
        self.reach.outage = down;
    }
    pub fn is_down(&self) -> bool {
        self.reach.outage
    }
    /// Replaces the set of hosts cut off from the API server.
    pub fn set_cut_hosts(&mut self, hosts: BTreeSet<String>) {
        self.reach.cut_hosts = hosts;
    }
    /// Whether `actor`'s requests get through.
    pub fn serves(&self, actor: &Actor) -> bool {
        !self.reach.outage && (actor.host.is_empty() || !self.reach.cut_hosts.contains(&actor.host))
    }
    /// The error a client sees when its request cannot get through: client-go's wording for
    /// a request that timed out on the wire.
    pub(super) fn unreachable(&self, verb: &str) -> ApiError {
        ApiError::Unavailable {
            message: format!(
                "{verb} \"https://kube-apiserver:6443\": dial tcp 10.96.0.1:443: i/o timeout"
            ),
        }
    }
}
