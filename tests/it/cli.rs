//! The `stsim` command as a user runs it.

use crate::harness::repo_path;
use std::process::{Command, Output};

fn stsim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_stsim"))
        .args(args)
        .current_dir(repo_path(""))
        .output()
        .expect("stsim runs")
}

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[test]
fn run_prints_the_seed_first_and_writes_outputs() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("o");
    let o = stsim(&[
        "run",
        "scenarios/quickstart.yaml",
        "--seed",
        "5",
        "--out",
        out.to_str().unwrap(),
    ]);
    let (stdout, stderr) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{stdout}\n{stderr}");
    assert_eq!(stdout.lines().next(), Some("seed: 5"));
    assert!(stdout.contains("SuccessfulCreate"), "{stdout}");
    assert!(stdout.contains("Summary"), "{stdout}");
    for f in ["trace.jsonl", "result.json", "timeline.txt"] {
        assert!(out.join(f).is_file(), "{f} missing");
    }
    let result: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("result.json")).unwrap()).unwrap();
    assert_eq!(result["seed"], 5);
    assert_eq!(result["scenario"], "quickstart");
}

#[test]
fn quiet_and_until_shorten_the_output() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().to_str().unwrap().to_string();
    let o = stsim(&[
        "run",
        "scenarios/quickstart.yaml",
        "--quiet",
        "--until",
        "2s",
        "--out",
        &out,
    ]);
    let (stdout, _) = text(&o);
    assert_eq!(o.status.code(), Some(0));
    assert!(
        !stdout.contains("SuccessfulCreate"),
        "--quiet prints no timeline: {stdout}"
    );
    assert!(stdout.contains("at +00:00:02.000"), "{stdout}");
}

#[test]
fn validate_accepts_bundled_scenarios() {
    let o = stsim(&[
        "validate",
        "scenarios/quickstart.yaml",
        "scenarios/statefulset-basics.yaml",
        "scenarios/zookeeper-drain.yaml",
        "scenarios/az-outage.yaml",
        "scenarios/node-crash.yaml",
        "scenarios/node-crash-out-of-service.yaml",
        "scenarios/node-crash-force-delete.yaml",
        "scenarios/network-partition.yaml",
    ]);
    let (stdout, stderr) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{stdout}{stderr}");
    assert_eq!(stdout.matches(": ok").count(), 8, "{stdout}");
}

#[test]
fn help_has_examples_and_bad_arguments_exit_2() {
    let o = stsim(&["--help"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(text(&o).0.contains("Examples:"));
    let o = stsim(&["run"]);
    assert_eq!(o.status.code(), Some(2));
    let o = stsim(&["run", "scenarios/quickstart.yaml", "--until", "soon"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).1.contains("invalid duration"), "{}", text(&o).1);
    let o = stsim(&["run", "no/such/file.yaml"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).1.contains("no/such/file.yaml"));
}
