//! Cluster DNS as CoreDNS's `kubernetes` plugin answers A queries from Services and
//! EndpointSlices: a read-only resolver over a view of the API objects, for clients in
//! the simulated cluster (applications resolve their peers' pod names through it).
//!
//! - `SVC.NS.svc.cluster.local`: the Service's clusterIP; for a headless Service, the
//!   address of every ready endpoint.
//! - `HOST.SVC.NS.svc.cluster.local` (headless Services only): the ready endpoint whose
//!   hostname is HOST — a StatefulSet pod's `spec.hostname` when its subdomain names the
//!   Service — or, for an endpoint without one, whose address written with dashes is HOST.
//!
//! An endpoint counts while its `ready` condition is true or unset (`endpointsliceReady`),
//! so a pod's record exists exactly while its endpoint is ready: while the pod is Ready
//! and not terminating, or always when the Service sets `publishNotReadyAddresses`.
//! Answers follow the API objects as they are; real CoreDNS adds its watch lag and cache.
//!
//! It lives beside the API server, not among the controllers: both the control plane's
//! tests and the applications in the pods (`infra::apps`) resolve through it.

use crate::api::discovery::Endpoint;
use crate::api::{EndpointSlice, ObjectKey, Service, Tables};

/// The cluster domain (kubelet `clusterDomain`).
pub const CLUSTER_DOMAIN: &str = "cluster.local";

/// Every address `name` resolves to (A records), in slice then endpoint order; empty
/// for a name that does not exist (NXDOMAIN).
pub fn resolve_all(objects: &Tables, name: &str) -> Vec<String> {
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    let name = name
        .strip_suffix(CLUSTER_DOMAIN)
        .map_or(name.as_str(), |n| n.trim_end_matches('.'));
    let labels: Vec<&str> = name.split('.').collect();
    let (host, svc, ns) = match labels[..] {
        [svc, ns, "svc"] => (None, svc, ns),
        [host, svc, ns, "svc"] => (Some(host), svc, ns),
        _ => return Vec::new(),
    };
    let Some(service) = objects.get::<Service>(&ObjectKey::new(ns, svc)) else {
        return Vec::new();
    };
    if !service.is_headless() {
        let ip = &service.spec.cluster_ip;
        return if host.is_none() && !ip.is_empty() {
            vec![ip.clone()]
        } else {
            Vec::new()
        };
    }
    let mut out = Vec::new();
    for e in ready_endpoints(objects, ns, svc) {
        for addr in &e.addresses {
            let matches = match host {
                None => true,
                Some(h) => endpoint_hostname(e.hostname.as_deref(), addr) == h,
            };
            if matches {
                out.push(addr.clone());
            }
        }
    }
    out
}

/// The endpoints of Service `ns/svc` that DNS answers for: ready, or with no `ready`
/// condition (`endpointsliceReady`).
fn ready_endpoints<'a>(
    objects: &'a Tables,
    ns: &'a str,
    svc: &'a str,
) -> impl Iterator<Item = &'a Endpoint> + 'a {
    objects
        .list_in::<EndpointSlice>(ns)
        .filter(move |s| s.service_name() == Some(svc))
        .flat_map(|s| s.endpoints.iter())
        .filter(|e| e.conditions.ready != Some(false))
}

/// The host labels with an A record under headless Service `ns/svc` (`HOST` in
/// `HOST.SVC.NS.svc.cluster.local`): for a StatefulSet's governing Service, the names of
/// its pods with a ready endpoint.
pub fn ready_hosts<'a>(
    objects: &'a Tables,
    ns: &'a str,
    svc: &'a str,
) -> impl Iterator<Item = String> + 'a {
    ready_endpoints(objects, ns, svc).flat_map(|e| {
        e.addresses
            .iter()
            .map(|addr| endpoint_hostname(e.hostname.as_deref(), addr))
    })
}

/// The first address `name` resolves to, if it exists.
pub fn resolve(objects: &Tables, name: &str) -> Option<String> {
    resolve_all(objects, name).into_iter().next()
}

/// CoreDNS `endpointHostname`: the endpoint's hostname, else its address with dashes.
fn endpoint_hostname(hostname: Option<&str>, addr: &str) -> String {
    match hostname {
        Some(h) if !h.is_empty() => h.to_ascii_lowercase(),
        _ => addr.replace(['.', ':'], "-"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::ObjectMeta;
    use crate::api::discovery::{Endpoint, EndpointConditions, labels};
    use std::rc::Rc;

    fn endpoint(ip: &str, host: Option<&str>, ready: Option<bool>) -> Endpoint {
        Endpoint {
            addresses: vec![ip.into()],
            conditions: EndpointConditions {
                ready,
                ..Default::default()
            },
            hostname: host.map(String::from),
            ..Default::default()
        }
    }

    fn cluster(cluster_ip: &str, endpoints: Vec<Endpoint>) -> Tables {
        let mut t = Tables::default();
        let mut svc = Service {
            metadata: ObjectMeta::named("default", "nginx"),
            ..Default::default()
        };
        svc.spec.cluster_ip = cluster_ip.into();
        t.services
            .insert(ObjectKey::new("default", "nginx"), Rc::new(svc));
        let mut slice = EndpointSlice {
            metadata: ObjectMeta::named("default", "nginx-abcde"),
            address_type: "IPv4".into(),
            endpoints,
            ..Default::default()
        };
        slice
            .metadata
            .labels
            .insert(labels::SERVICE_NAME.into(), "nginx".into());
        t.endpoint_slices
            .insert(ObjectKey::new("default", "nginx-abcde"), Rc::new(slice));
        t
    }

    #[test]
    fn headless_names_resolve_to_ready_endpoints() {
        let t = cluster(
            "None",
            vec![
                endpoint("10.244.0.2", Some("web-0"), Some(true)),
                endpoint("10.244.1.2", Some("web-1"), Some(false)),
                endpoint("10.244.2.2", None, None),
            ],
        );
        let r = |n: &str| resolve(&t, n);
        assert_eq!(
            r("web-0.nginx.default.svc.cluster.local"),
            Some("10.244.0.2".into())
        );
        assert_eq!(
            r("WEB-0.nginx.default.svc.cluster.local."),
            Some("10.244.0.2".into())
        );
        assert_eq!(r("web-0.nginx.default.svc"), Some("10.244.0.2".into()));
        assert_eq!(
            r("web-1.nginx.default.svc.cluster.local"),
            None,
            "not ready"
        );
        assert_eq!(r("web-9.nginx.default.svc.cluster.local"), None);
        assert_eq!(
            r("10-244-2-2.nginx.default.svc.cluster.local"),
            Some("10.244.2.2".into())
        );
        assert_eq!(
            resolve_all(&t, "nginx.default.svc.cluster.local"),
            vec!["10.244.0.2".to_string(), "10.244.2.2".to_string()]
        );
        assert_eq!(r("web-0.nginx.other.svc.cluster.local"), None);
        assert_eq!(r("web-0.nginx"), None);
    }

    #[test]
    fn cluster_ip_services_answer_with_their_ip_only() {
        let t = cluster(
            "10.96.0.10",
            vec![endpoint("10.244.0.2", Some("web-0"), Some(true))],
        );
        assert_eq!(
            resolve(&t, "nginx.default.svc.cluster.local"),
            Some("10.96.0.10".into())
        );
        assert_eq!(resolve(&t, "web-0.nginx.default.svc.cluster.local"), None);
    }
}
