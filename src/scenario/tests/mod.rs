//! Tests of scenario loading across modules: the typed decoder, whole scenarios (valid and
//! broken), the fixture files of broken scenarios, and robustness against mangled input.

mod api_fields;
mod decode;
mod fixtures;
mod kubectl_actions;
mod kubelet_knobs;
mod load;
mod mangled;
mod node_faults;
mod node_lifecycle_knobs;
mod storage_faults;

use super::{Scenario, ScenarioError, load_str};
use std::path::Path;

/// A complete scenario using every section, with inline manifests only.
pub const VALID: &str = r#"apiVersion: stsim/v1alpha1
kind: Scenario
metadata:
  name: quickstart
  description: "three redis pods"
spec:
  seed: 7
  duration: 1h
  kubernetesVersion: "1.35"
  cluster:
    featureGates: { MaxUnavailableStatefulSet: true }
    zones:
      - name: a
        nodePools:
          - name: worker
            count: 2
            capacity: { cpu: "4", memory: 16Gi }
            labels: { disktype: ssd }
            taints: [ { key: dedicated, value: db, effect: NoSchedule } ]
      - name: b
        nodePools:
          - name: worker
            count: 1
            capacity: { cpu: 2, memory: 8Gi, pods: 30 }
    kubernetes:
      watchDelay: 20ms
      scheduler: { podInitialBackoff: 2s, podMaxBackoff: 20s, podMaxInUnschedulablePodsDuration: 1m }
      kubelet:
        imagePullTime: { median: 2s, sigma: 0.5 }
        containerStartTime: { min: 1s, max: 4s }
        shutdownTime: { mean: 2s }
  images:
    - image: redis:7.2
      pullTime: 3s
      behavior: healthy
      shutdownTime: 1s
    - image: redis:bad
      behavior: pullError
  manifests:
    - apiVersion: v1
      kind: Service
      metadata: { name: redis }
      spec:
        clusterIP: None
        selector: { app: redis }
        ports: [ { name: redis, port: 6379 } ]
    - apiVersion: apps/v1
      kind: StatefulSet
      metadata:
        name: redis
        namespace: db
      spec:
        serviceName: redis
        replicas: 3
        selector: { matchLabels: { app: redis } }
        template:
          metadata: { labels: { app: redis } }
          spec:
            securityContext: { runAsUser: 999 }
            containers:
              - name: redis
                image: redis:7.2
                ports: [ { containerPort: 6379, name: redis } ]
                resources: { requests: { cpu: 500m, memory: 1Gi } }
        volumeClaimTemplates:
          - metadata: { name: data }
            spec:
              accessModes: [ ReadWriteOnce ]
              resources: { requests: { storage: 10Gi } }
  actions:
    - at: 5m
      kubectl: scale statefulset redis --replicas=5 -n db
    - at: 2m
      kubectl: cordon worker-a-1
  faults: []
"#;

/// Loads `text` as `scenario.yaml` (`file:` references resolve against the working directory).
pub fn load_text(text: &str) -> Result<Scenario, ScenarioError> {
    load_str(text, Path::new("scenario.yaml"))
}

/// The rendered error of loading `text`, which must fail.
pub fn error_of(text: &str) -> String {
    match load_text(text) {
        Ok(_) => panic!("expected an error for:\n{text}"),
        Err(e) => e.to_string(),
    }
}
