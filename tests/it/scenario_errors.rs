//! Bad scenario files: exit code 2, a message with file:line:column and field path, and
//! never a panic.

use std::process::Command;

fn run_bad(yaml: &str, extra_files: &[(&str, &str)]) -> (i32, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.yaml");
    std::fs::write(&path, yaml).unwrap();
    for (name, body) in extra_files {
        std::fs::write(dir.path().join(name), body).unwrap();
    }
    let o = Command::new(env!("CARGO_BIN_EXE_stsim"))
        .args([
            "run",
            path.to_str().unwrap(),
            "--out",
            dir.path().join("out").to_str().unwrap(),
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(!stderr.contains("panicked"), "stsim panicked:\n{stderr}");
    (o.status.code().expect("exited normally"), stderr)
}

const HEAD: &str = "apiVersion: stsim/v1alpha1
kind: Scenario
metadata:
  name: bad
spec:
  duration: 10m
  cluster:
    zones:
      - name: a
        nodePools:
          - name: w
            count: 1
            capacity: { cpu: \"2\", memory: 4Gi }
";

fn sts(field_line: &str) -> String {
    format!(
        "{HEAD}  manifests:
    - apiVersion: apps/v1
      kind: StatefulSet
      metadata: {{ name: web }}
      spec:
        {field_line}
        selector: {{ matchLabels: {{ app: web }} }}
        template:
          metadata: {{ labels: {{ app: web }} }}
          spec:
            containers: [ {{ name: c, image: nginx }} ]
"
    )
}

#[test]
fn broken_yaml() {
    let (code, err) = run_bad(&format!("{HEAD}  actions: [ {{ at: 1m\n"), &[]);
    assert_eq!(code, 2);
    assert!(err.contains("bad.yaml:"), "{err}");
}

#[test]
fn unknown_scenario_field_with_hint() {
    let (code, err) = run_bad(
        &HEAD.replace("  duration: 10m", "  duration: 10m\n  sed: 3"),
        &[],
    );
    assert_eq!(code, 2);
    assert!(err.contains("bad.yaml:7:3"), "{err}");
    assert!(err.contains("seed"), "did-you-mean hint expected: {err}");
}

#[test]
fn misspelled_manifest_field_with_location_and_hint() {
    let (code, err) = run_bad(&sts("replica: 3"), &[]);
    assert_eq!(code, 2);
    assert!(err.contains("bad.yaml:19:9"), "{err}");
    assert!(err.contains("spec.replica"), "{err}");
    assert!(err.contains("replicas"), "{err}");
}

#[test]
fn real_but_unsimulated_field_is_not_an_error() {
    let (code, err) = run_bad(
        &sts(
            "revisionHistoryLimit: 3\n        persistentVolumeClaimRetentionPolicy: { whenScaled: Retain }",
        ),
        &[],
    );
    assert_eq!(code, 0, "{err}");
}

#[test]
fn missing_manifest_file() {
    let (code, err) = run_bad(
        &format!("{HEAD}  manifests:\n    - file: nowhere.yaml\n"),
        &[],
    );
    assert_eq!(code, 2);
    assert!(err.contains("nowhere.yaml"), "{err}");
    assert!(
        err.contains("bad.yaml:15"),
        "the error points at the reference: {err}"
    );
}

#[test]
fn malformed_kubectl_action() {
    for line in [
        "scale statefulset web",
        "frobnicate pod x",
        "delete pod",
        "scael statefulset web --replicas=2",
    ] {
        let (code, err) = run_bad(
            &format!("{HEAD}  actions:\n    - at: 1m\n      kubectl: {line}\n"),
            &[],
        );
        assert_eq!(code, 2, "{line}: {err}");
        assert!(err.contains("bad.yaml:16"), "{line}: {err}");
    }
}

#[test]
fn manifest_file_errors_point_into_that_file() {
    let manifest =
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: s\nspec:\n  clusterIp: None\n";
    let (code, err) = run_bad(
        &format!("{HEAD}  manifests:\n    - file: svc.yaml\n"),
        &[("svc.yaml", manifest)],
    );
    assert_eq!(code, 2);
    assert!(err.contains("svc.yaml:6:3"), "{err}");
    assert!(err.contains("clusterIP"), "{err}");
}
