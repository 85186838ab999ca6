//! `kubectl describe pod`: a port of kubectl's `describePod` (describe.go) over the fields
//! stsim models, written with tab-separated cells and aligned by `tabwriter::DESCRIBE`
//! exactly as kubectl's `tabbedString` does. Fields stsim does not model (container and
//! image IDs, environment, service account) print as upstream prints an empty value.

use super::duration::since;
use super::tabwriter;
use crate::api::pod::{Container, ContainerState, Probe};
use crate::api::quantity::parse_quantity_milli;
use crate::api::{K8sEvent, Pod};
use crate::time::SimTime;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::rc::Rc;

/// kubectl's `PrefixWriter` levels: two spaces per level.
const L1: &str = "  ";
const L2: &str = "    ";
const L3: &str = "      ";

/// The description of `pod` at `now`, with `events` about it (oldest first).
pub fn describe_pod(pod: &Pod, events: &[Rc<K8sEvent>], now: SimTime) -> String {
    let mut w = String::new();
    let meta = &pod.metadata;
    let _ = writeln!(w, "Name:\t{}", meta.name);
    let _ = writeln!(w, "Namespace:\t{}", meta.namespace);
    if let Some(p) = pod.spec.priority {
        let _ = writeln!(w, "Priority:\t{p}");
    }
    if !pod.spec.priority_class_name.is_empty() {
        let _ = writeln!(w, "Priority Class Name:\t{}", pod.spec.priority_class_name);
    }
    if pod.spec.node_name.is_empty() {
        w.push_str("Node:\t<none>\n");
    } else {
        let _ = writeln!(w, "Node:\t{}/{}", pod.spec.node_name, pod.status.host_ip);
    }
    if let Some(start) = pod.status.start_time {
        let _ = writeln!(w, "Start Time:\t{}", start.rfc1123z());
    }
    multiline(&mut w, "Labels", &meta.labels);
    annotations(&mut w, &meta.annotations);
    let phase = pod.status.phase.as_str();
    match meta.deletion_timestamp {
        // The deletion timestamp is when the grace period ends, usually in the future, so
        // upstream prints "(lasts <invalid>)" until the last second.
        Some(at) if phase != "Failed" && phase != "Succeeded" => {
            let _ = writeln!(w, "Status:\tTerminating (lasts {})", since(Some(at), now));
            let _ = writeln!(
                w,
                "Termination Grace Period:\t{}s",
                meta.deletion_grace_period_seconds.unwrap_or(0)
            );
        }
        _ => {
            let _ = writeln!(w, "Status:\t{phase}");
        }
    }
    if !pod.status.reason.is_empty() {
        let _ = writeln!(w, "Reason:\t{}", pod.status.reason);
    }
    if !pod.status.message.is_empty() {
        let _ = writeln!(w, "Message:\t{}", pod.status.message);
    }
    let _ = writeln!(w, "IP:\t{}", pod.status.pod_ip);
    if pod.status.pod_ip.is_empty() {
        w.push_str("IPs:\t<none>\n");
    } else {
        let _ = writeln!(w, "IPs:\n{L1}IP:\t{}", pod.status.pod_ip);
    }
    if let Some(owner) = meta.controller_ref() {
        let _ = writeln!(w, "Controlled By:\t{}/{}", owner.kind, owner.name);
    }
    containers(
        &mut w,
        "Init Containers",
        &pod.spec.init_containers,
        pod,
        true,
    );
    containers(&mut w, "Containers", &pod.spec.containers, pod, false);
    if !pod.status.conditions.is_empty() {
        let _ = writeln!(w, "Conditions:\n{L1}Type\tStatus");
        for c in &pod.status.conditions {
            let _ = writeln!(w, "{L1}{} \t{} ", c.type_, c.status);
        }
    }
    volumes(&mut w, pod);
    let _ = writeln!(w, "QoS Class:\t{}", qos_class(pod));
    multiline(&mut w, "Node-Selectors", &pod.spec.node_selector);
    tolerations(&mut w, pod);
    events_table(&mut w, events, now);
    tabwriter::DESCRIBE
        .align(&w)
        .trim_end_matches('\n')
        .to_string()
}

// printLabelsMultilineWithIndent: sorted `k=v`, continuation lines start with a tab.
fn multiline(w: &mut String, title: &str, map: &BTreeMap<String, String>) {
    let _ = write!(w, "{title}:\t");
    if map.is_empty() {
        w.push_str("<none>\n");
    }
    for (i, (k, v)) in map.iter().enumerate() {
        if i > 0 {
            w.push('\t');
        }
        let _ = writeln!(w, "{k}={v}");
    }
}

// printAnnotationsMultiline: long or multi-line values go on their own indented lines.
fn annotations(w: &mut String, map: &BTreeMap<String, String>) {
    const MAX: usize = 140;
    let shown: Vec<_> = map
        .iter()
        .filter(|(k, _)| *k != "kubectl.kubernetes.io/last-applied-configuration")
        .collect();
    w.push_str("Annotations:\t");
    if shown.is_empty() {
        w.push_str("<none>\n");
    }
    for (i, (k, v)) in shown.into_iter().enumerate() {
        if i > 0 {
            w.push('\t');
        }
        let v = v.strip_suffix('\n').unwrap_or(v);
        if v.len() + k.len() + 2 > MAX || v.contains('\n') {
            let _ = writeln!(w, "{k}:");
            for line in v.split('\n') {
                let line = if line.chars().count() > MAX - 2 {
                    format!("{}...", line.chars().take(MAX - 2).collect::<String>())
                } else {
                    line.to_string()
                };
                let _ = writeln!(w, "\t  {line}");
            }
        } else {
            let _ = writeln!(w, "{k}: {v}");
        }
    }
}

// describeContainers, over the fields stsim models.
fn containers(w: &mut String, label: &str, list: &[Container], pod: &Pod, init: bool) {
    if list.is_empty() {
        if !init {
            let _ = writeln!(w, "{label}: <none>");
        }
        return;
    }
    let _ = writeln!(w, "{label}:");
    for c in list {
        let status = (!init)
            .then(|| {
                pod.status
                    .container_statuses
                    .iter()
                    .find(|s| s.name == c.name)
            })
            .flatten();
        let _ = writeln!(w, "{L1}{}:", c.name);
        if status.is_some() {
            let _ = writeln!(w, "{L2}Container ID:\t");
        }
        let _ = writeln!(w, "{L2}Image:\t{}", c.image);
        if status.is_some() {
            let _ = writeln!(w, "{L2}Image ID:\t");
        }
        let ports: Vec<String> = c
            .ports
            .iter()
            .map(|p| format!("{}/{}", p.container_port, protocol(&p.protocol)))
            .collect();
        let host_ports: Vec<String> = c
            .ports
            .iter()
            .map(|p| format!("0/{}", protocol(&p.protocol)))
            .collect();
        port_line(w, "Port", &ports);
        port_line(w, "Host Port", &host_ports);
        if let Some(s) = status {
            container_state(w, "State", &s.state);
            let _ = writeln!(w, "{L2}Ready:\t{}", if s.ready { "True" } else { "False" });
            let _ = writeln!(w, "{L2}Restart Count:\t{}", s.restart_count);
        }
        for (title, map) in [
            ("Limits", &c.resources.limits),
            ("Requests", &c.resources.requests),
        ] {
            if !map.is_empty() {
                let _ = writeln!(w, "{L2}{title}:");
                for (name, q) in map {
                    let _ = writeln!(w, "{L3}{name}:\t{q}");
                }
            }
        }
        for (title, probe) in [
            ("Liveness", &c.liveness_probe),
            ("Readiness", &c.readiness_probe),
            ("Startup", &c.startup_probe),
        ] {
            if let Some(p) = probe {
                let _ = writeln!(w, "{L2}{title}:\t{}", describe_probe(p));
            }
        }
        let _ = writeln!(w, "{L2}Environment:\t<none>");
        if c.volume_mounts.is_empty() {
            let _ = writeln!(w, "{L2}Mounts:\t<none>");
        } else {
            let _ = writeln!(w, "{L2}Mounts:");
            let mut mounts: Vec<_> = c.volume_mounts.iter().collect();
            mounts.sort_by(|a, b| a.mount_path.cmp(&b.mount_path));
            for m in mounts {
                let mode = if m.read_only { "ro" } else { "rw" };
                let _ = writeln!(w, "{L3}{} from {} ({mode})", m.mount_path, m.name);
            }
        }
    }
}

fn protocol(p: &str) -> &str {
    if p.is_empty() { "TCP" } else { p }
}

// `Port:` for one (or none), `Ports:` when the joined text has a comma.
fn port_line(w: &mut String, title: &str, ports: &[String]) {
    let joined = ports.join(", ");
    if joined.contains(',') {
        let _ = writeln!(w, "{L2}{title}s:\t{joined}");
    } else if joined.is_empty() {
        let _ = writeln!(w, "{L2}{title}:\t<none>");
    } else {
        let _ = writeln!(w, "{L2}{title}:\t{joined}");
    }
}

// describeStatus
fn container_state(w: &mut String, title: &str, state: &ContainerState) {
    if let Some(r) = &state.running {
        let _ = writeln!(w, "{L2}{title}:\tRunning");
        let started = r.started_at.map(|t| t.rfc1123z()).unwrap_or_default();
        let _ = writeln!(w, "{L3}Started:\t{started}");
    } else if let Some(wt) = &state.waiting {
        let _ = writeln!(w, "{L2}{title}:\tWaiting");
        if !wt.reason.is_empty() {
            let _ = writeln!(w, "{L3}Reason:\t{}", wt.reason);
        }
    } else if let Some(t) = &state.terminated {
        let _ = writeln!(w, "{L2}{title}:\tTerminated");
        if !t.reason.is_empty() {
            let _ = writeln!(w, "{L3}Reason:\t{}", t.reason);
        }
        let _ = writeln!(w, "{L3}Exit Code:\t{}", t.exit_code);
        let time = |t: Option<crate::api::Timestamp>| t.map(|t| t.rfc1123z()).unwrap_or_default();
        let _ = writeln!(w, "{L3}Started:\t{}", time(t.started_at));
        let _ = writeln!(w, "{L3}Finished:\t{}", time(t.finished_at));
    } else {
        let _ = writeln!(w, "{L2}{title}:\tWaiting");
    }
}

// describeProbe, with the API server's defaults for unset fields (SetDefaults_Probe).
fn describe_probe(p: &Probe) -> String {
    let attrs = format!(
        "delay={}s timeout={}s period={}s #success={} #failure={}",
        p.initial_delay_seconds.unwrap_or(0),
        p.timeout_seconds.unwrap_or(1),
        p.period_seconds.unwrap_or(10),
        p.success_threshold.unwrap_or(1),
        p.failure_threshold.unwrap_or(3)
    );
    let text = |v: &serde_json::Value, field: &str| match v.get(field) {
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(serde_json::Value::Number(n)) => n.to_string(),
        _ => String::new(),
    };
    if let Some(exec) = &p.exec {
        let command: Vec<String> = exec
            .get("command")
            .and_then(|c| c.as_array())
            .map(|a| {
                a.iter()
                    .filter_map(|s| s.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        format!("exec [{}] {attrs}", command.join(" "))
    } else if let Some(http) = &p.http_get {
        let scheme = match text(http, "scheme") {
            s if s.is_empty() => "http".to_string(),
            s => s.to_lowercase(),
        };
        let port = text(http, "port");
        let host = text(http, "host");
        let authority = if port.is_empty() {
            host
        } else {
            format!("{host}:{port}")
        };
        format!(
            "http-get {scheme}://{authority}{} {attrs}",
            text(http, "path")
        )
    } else if let Some(tcp) = &p.tcp_socket {
        format!(
            "tcp-socket {}:{} {attrs}",
            text(tcp, "host"),
            text(tcp, "port")
        )
    } else if let Some(grpc) = &p.grpc {
        format!(
            "grpc <pod>:{} {} {attrs}",
            text(grpc, "port"),
            text(grpc, "service")
        )
    } else {
        format!("unknown {attrs}")
    }
}

// describeVolumes: stsim models claim volumes; others print as upstream's unknown type.
fn volumes(w: &mut String, pod: &Pod) {
    if pod.spec.volumes.is_empty() {
        w.push_str("Volumes:\t<none>\n");
        return;
    }
    w.push_str("Volumes:\n");
    for v in &pod.spec.volumes {
        let _ = writeln!(w, "{L1}{}:", v.name);
        match &v.persistent_volume_claim {
            Some(pvc) => {
                let _ = writeln!(
                    w,
                    "{L2}Type:\tPersistentVolumeClaim (a reference to a PersistentVolumeClaim in the same namespace)\n{L2}ClaimName:\t{}\n{L2}ReadOnly:\t{}",
                    pvc.claim_name, pvc.read_only
                );
            }
            None => {
                let _ = writeln!(w, "{L1}<unknown>");
            }
        }
    }
}

// Port of qos.GetPodQOS (cpu and memory only; zero quantities ignored).
fn qos_class(pod: &Pod) -> &'static str {
    let mut requests: BTreeMap<&str, i128> = BTreeMap::new();
    let mut limits: BTreeMap<&str, i128> = BTreeMap::new();
    let mut guaranteed = true;
    for c in pod.spec.containers.iter().chain(&pod.spec.init_containers) {
        let value = |q: &crate::api::Quantity| parse_quantity_milli(&q.0).unwrap_or(0);
        for (name, q) in &c.resources.requests {
            let v = value(q);
            if matches!(name.as_str(), "cpu" | "memory") && v != 0 {
                *requests.entry(name).or_default() += v;
            }
        }
        let mut found = 0;
        for (name, q) in &c.resources.limits {
            let v = value(q);
            if matches!(name.as_str(), "cpu" | "memory") && v != 0 {
                found += 1;
                *limits.entry(name).or_default() += v;
            }
        }
        if found < 2 {
            guaranteed = false;
        }
    }
    if requests.is_empty() && limits.is_empty() {
        return "BestEffort";
    }
    // Requests default to limits, so a container with only limits still counts as equal.
    if guaranteed && requests.iter().all(|(k, v)| limits.get(k) == Some(v)) {
        return "Guaranteed";
    }
    "Burstable"
}

// printTolerationsMultiline
fn tolerations(w: &mut String, pod: &Pod) {
    w.push_str("Tolerations:\t");
    if pod.spec.tolerations.is_empty() {
        w.push_str("<none>\n");
    }
    let mut list: Vec<_> = pod.spec.tolerations.iter().collect();
    list.sort_by(|a, b| a.key.cmp(&b.key));
    for (i, t) in list.into_iter().enumerate() {
        if i > 0 {
            w.push('\t');
        }
        w.push_str(&t.key);
        if !t.value.is_empty() {
            let _ = write!(w, "={}", t.value);
        }
        if !t.effect.is_empty() {
            let _ = write!(w, ":{}", t.effect);
        }
        if t.operator == "Exists" && t.value.is_empty() {
            if t.key.is_empty() && t.effect.is_empty() {
                w.push_str("op=Exists");
            } else {
                w.push_str(" op=Exists");
            }
        }
        if let Some(s) = t.toleration_seconds {
            let _ = write!(w, " for {s}s");
        }
        w.push('\n');
    }
}

// DescribeEvents
fn events_table(w: &mut String, events: &[Rc<K8sEvent>], now: SimTime) {
    if events.is_empty() {
        w.push_str("Events:\t<none>\n");
        return;
    }
    let _ = writeln!(w, "Events:\n{L1}Type\tReason\tAge\tFrom\tMessage");
    let _ = writeln!(w, "{L1}----\t------\t----\t----\t-------");
    for e in events {
        let first = since(e.first_timestamp, now);
        let age = if e.count > 1 {
            format!(
                "{} (x{} over {first})",
                since(e.last_timestamp, now),
                e.count
            )
        } else {
            first
        };
        let _ = writeln!(
            w,
            "{L1}{}\t{}\t{age}\t{}\t{}",
            e.type_,
            e.reason,
            e.source.component,
            e.message.trim()
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::Quantity;
    use serde_json::json;

    #[test]
    fn probes_read_as_kubectl_prints_them_with_api_defaults() {
        let http = Probe {
            http_get: Some(json!({"path": "/healthz", "port": 8080})),
            period_seconds: Some(5),
            ..Default::default()
        };
        assert_eq!(
            describe_probe(&http),
            "http-get http://:8080/healthz delay=0s timeout=1s period=5s #success=1 #failure=3"
        );
        let exec = Probe {
            exec: Some(json!({"command": ["sh", "-c", "true"]})),
            failure_threshold: Some(6),
            ..Default::default()
        };
        assert_eq!(
            describe_probe(&exec),
            "exec [sh -c true] delay=0s timeout=1s period=10s #success=1 #failure=6"
        );
    }

    #[test]
    fn qos_class_follows_requests_and_limits() {
        let mut pod = Pod::default();
        pod.spec.containers.push(Container::default());
        assert_eq!(qos_class(&pod), "BestEffort");
        let q = |v: &str| Quantity(v.into());
        pod.spec.containers[0]
            .resources
            .requests
            .insert("cpu".into(), q("500m"));
        assert_eq!(qos_class(&pod), "Burstable");
        let res = &mut pod.spec.containers[0].resources;
        res.limits.insert("cpu".into(), q("0.5"));
        res.limits.insert("memory".into(), q("1Gi"));
        res.requests.insert("memory".into(), q("1024Mi"));
        assert_eq!(qos_class(&pod), "Guaranteed");
    }
}
