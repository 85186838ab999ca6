//! Failed mounts end to end (issue 4, item 5): the driver profile's `mountFailureRatio`
//! and a `diskLoss` make the kubelet's MountDevice fail; the pod gets a `FailedMount`
//! Event worded as upstream's `GenerateError`, the volume manager retries after 500 ms
//! doubling to 2m2s, and the pod's wait for its volumes times out naming only unmounted
//! (not unattached) volumes. Scenarios and the `Run` helper come from `storage_attach`.

use crate::storage_attach::{
    DRIVER, NODE_A, Parts, Run, SECOND, claim, one_pod, pod_manifest, pod_object, scenario, secs,
};

/// The FailedMount Event's message for `pv` whose disk handle is `handle`.
fn failed_mount(pv: &str, err: &str) -> String {
    format!("MountVolume.MountDevice failed for volume \"{pv}\" : {err}")
}

/// Backoff gaps, in ms, between the first eleven failures.
const BACKOFF_MS: [u64; 10] = [
    500, 1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 64_000, 122_000, 122_000,
];

#[test]
fn a_driver_that_always_fails_to_mount_gets_failed_mount_events_backing_off_to_2m2s() {
    // Mounting takes no time and always fails: the gaps between failures are the backoff.
    let s = one_pod(
        "        mountTime: 0s\n        mountFailureRatio: 1.0\n",
        "",
        "",
        "db",
    );
    let mut r = Run::start(&s);
    r.until(secs(900));
    let pv = r.pv_of("data");
    let handle = pv.spec.csi.as_ref().unwrap().volume_handle.clone();
    let failed = r.events("FailedMount");
    assert!(failed.len() > BACKOFF_MS.len(), "{}", failed.len());
    let first = &failed[0].v;
    assert_eq!(first["eventType"], "Warning");
    assert_eq!(first["kind"], "Pod");
    assert_eq!(first["name"], "p1");
    assert_eq!(first["source"], "kubelet");
    assert_eq!(
        first["message"],
        failed_mount(
            &pv.metadata.name,
            &format!(
                "rpc error: code = Internal desc = could not format and mount volume \"{handle}\": mount failed: exit status 32"
            )
        )
    );
    // One Event, counted up at every failure.
    let counts: Vec<u64> = failed
        .iter()
        .map(|l| l.v["count"].as_u64().unwrap())
        .collect();
    assert_eq!(counts, (1..=counts.len() as u64).collect::<Vec<_>>());
    let gaps: Vec<u64> = failed
        .windows(2)
        .map(|w| (w[1].t - w[0].t) / 1_000)
        .collect();
    assert_eq!(&gaps[..BACKOFF_MS.len()], BACKOFF_MS, "{gaps:?}");
    // The volume is attached: the pod's wait times out on the mount alone.
    let timeouts = r.notes("Unable to attach or mount volumes");
    assert!(!timeouts.is_empty());
    assert_eq!(
        timeouts[0].v["message"],
        "Unable to attach or mount volumes: unmounted volumes=[www], unattached volumes=[], failed to process volumes=[]: context deadline exceeded; skipping pod"
    );
    assert!(!r.pod("p1").unwrap().is_ready());
    assert!(r.events("Pulling").is_empty(), "the container never starts");
}

#[test]
fn mounts_that_fail_some_of_the_time_are_retried_until_they_succeed() {
    // Ten pods, half of the mounts fail: every pod starts in the end, some after a retry.
    let mut manifests = String::new();
    for i in 0..10 {
        manifests.push_str(&claim(&format!("data-{i}"), "ReadWriteOnce"));
        manifests.push_str(&pod_manifest(
            &format!("p{i}"),
            if i % 2 == 0 { NODE_A } else { "w-a-2" },
            &format!("data-{i}"),
            "db",
        ));
    }
    let s = scenario(Parts {
        driver: "        mountFailureRatio: 0.5\n".into(),
        manifests,
        ..Default::default()
    });
    let mut r = Run::start(&s);
    r.until(secs(900));
    let failed = r.events("FailedMount");
    assert!(!failed.is_empty(), "half the mounts fail");
    for i in 0..10 {
        assert!(r.pod(&format!("p{i}")).unwrap().is_ready(), "p{i}");
    }
    // A failed mount of a 3 s mount is tried again after the backoff, and takes 3 s again.
    let pod = failed[0].v["name"].as_str().unwrap().to_string();
    let started = r
        .events("Started")
        .into_iter()
        .find(|l| l.v["name"] == pod.as_str())
        .unwrap();
    assert!(started.t >= failed[0].t + 3 * SECOND + SECOND / 2);
    assert!(r.sim.findings().is_empty(), "{:?}", r.sim.findings());
}

#[test]
fn the_mount_failure_ratio_is_validated_like_the_others() {
    let text = format!(
        r#"apiVersion: stsim/v1alpha1
kind: Scenario
metadata: {{ name: x }}
spec:
  duration: 1m
  cluster:
    zones: [ {{ name: a, nodePools: [ {{ name: w, count: 1, capacity: {{ cpu: "4", memory: 8Gi }} }} ] }} ]
  storage:
    drivers:
      - name: {DRIVER}
        profile: azure-disk
        mountFailureRatio: 1.5
"#
    );
    let err = stsim::scenario::load_str(&text, std::path::Path::new("inline.yaml"))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("mountFailureRatio must be between 0 and 1, found 1.5"),
        "{err}"
    );
}

#[test]
fn a_disk_lost_while_it_mounts_fails_the_mount_and_every_retry() {
    // The mount takes 60 s; the disk is destroyed at 30 s, before it ends.
    let s = one_pod(
        "        mountTime: 60s\n",
        "",
        "    - { at: 30s, diskLoss: { persistentVolumeClaim: data } }\n",
        "db",
    );
    let mut r = Run::start(&s);
    r.until(secs(29));
    assert!(r.events("FailedMount").is_empty());
    assert!(r.notes("waiting for volumes: volume www not mounted").len() == 1);
    r.until(secs(600));
    let pv = r.pv_of("data");
    let handle = pv.spec.csi.as_ref().unwrap().volume_handle.clone();
    let failed = r.events("FailedMount");
    assert!(failed.len() > BACKOFF_MS.len(), "{}", failed.len());
    assert!(failed[0].t > 30 * SECOND);
    assert_eq!(
        failed[0].v["message"],
        failed_mount(
            &pv.metadata.name,
            &format!(
                "rpc error: code = Internal desc = Failed to find device path for volume \"{handle}\". no device found for volume \"{handle}\""
            )
        )
    );
    // No device: each retry fails at once, so the gaps are the backoff itself.
    let gaps: Vec<u64> = failed
        .windows(2)
        .map(|w| (w[1].t - w[0].t) / 1_000)
        .collect();
    assert_eq!(&gaps[..BACKOFF_MS.len()], BACKOFF_MS, "{gaps:?}");
    assert!(!r.pod("p1").unwrap().is_ready());
    // Losing the disk of a claim still in use is a data-safety finding.
    let f = r.sim.findings().to_vec();
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!(f[0].invariant, "claim-data-destroyed");
    assert_eq!(f[0].t_us, 30 * SECOND);
}

#[test]
fn a_disk_lost_under_a_mounted_volume_fails_the_next_pods_mount() {
    // p1 runs with its volume mounted when the disk goes: it keeps running (the kubelet
    // does not see a disk vanish under a running pod). It is then replaced by p2 on the
    // same node at once, as a StatefulSet replaces a pod: the volume stays attached (p2
    // wants it before it could be detached), and p2's mount finds no device.
    let s = one_pod(
        "",
        "",
        "    - { at: 60s, diskLoss: { persistentVolumeClaim: data } }\n",
        "db",
    );
    let mut r = Run::start(&s);
    r.until(secs(90));
    assert!(r.pod("p1").unwrap().is_ready(), "still running");
    assert!(r.events("FailedMount").is_empty());
    r.act("kubectl", |c| {
        c.delete::<stsim::api::Pod>(
            &stsim::api::ObjectKey::new("default", "p1"),
            &stsim::apiserver::DeleteOptions::default(),
        )
        .unwrap();
        c.create(pod_object("p2", NODE_A, "data")).unwrap();
    });
    r.until(secs(300));
    assert!(r.pod("p1").is_none());
    assert!(!r.pod("p2").unwrap().is_ready());
    assert_eq!(r.attachments().len(), 1, "never detached");
    let pv = r.pv_of("data");
    let failed = r.events("FailedMount");
    assert!(!failed.is_empty());
    assert_eq!(failed[0].v["name"], "p2");
    assert!(
        failed[0].v["message"]
            .as_str()
            .unwrap()
            .starts_with(&failed_mount(
                &pv.metadata.name,
                "rpc error: code = Internal desc = Failed to find device path"
            )),
        "{}",
        failed[0].v["message"]
    );
    assert!(r.events("FailedAttachVolume").is_empty());
}
