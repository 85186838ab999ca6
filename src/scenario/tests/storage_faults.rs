//! `spec.storage` and `spec.faults`: driver profiles with overrides, the built-ins the
//! manifests use, StorageClass provisioners, and every fault kind with its checks.

use super::{VALID, error_of, load_text};
use crate::rng::Latency;
use crate::scenario::{Fault, VolumeTopology};
use crate::time::SimDuration;

fn with_sections(storage: &str, faults: &str) -> String {
    VALID.replace("  faults: []\n", &format!("{storage}  faults:\n{faults}"))
}

fn storage(drivers: &str) -> String {
    format!("  storage:\n    drivers:\n{drivers}")
}

#[test]
fn drivers_start_from_a_profile_and_take_overrides() {
    let text = with_sections(
        &storage(
            "      - name: ebs.csi.aws.com
        attachTime: { median: 3s, sigma: 0.5 }
        maxVolumesPerNode: 39
        provisionFailureRatio: 0.1
      - name: files.csi.example.com
        profile: gce-pd
        topology: regional
        attachRequired: false
        allowVolumeExpansion: false
        cloudAttachConcurrency: 5
",
        ),
        "",
    );
    let s = load_text(&text).unwrap_or_else(|e| panic!("{e}"));
    let ebs = s.storage.driver("ebs.csi.aws.com").unwrap();
    assert_eq!(ebs.profile, "aws-ebs");
    assert_eq!(
        ebs.attach,
        Latency::LogNormal {
            median: SimDuration::from_secs(3),
            sigma: 0.5
        }
    );
    assert_eq!(ebs.max_volumes_per_node, Some(39));
    assert_eq!(ebs.provision_failure_ratio, 0.1);
    assert_eq!(ebs.topology_key, "topology.ebs.csi.aws.com/zone");
    let files = s.storage.driver("files.csi.example.com").unwrap();
    assert_eq!(files.topology, VolumeTopology::Regional { zones: 2 });
    assert_eq!(files.topology_key, "topology.gke.io/zone");
    assert!(!files.attach_required && !files.allow_expansion);
    assert_eq!(files.cloud_attach_concurrency, Some(5));
    // Storage capacity is off unless a scenario asks for it.
    assert!(
        s.storage
            .drivers
            .iter()
            .all(|d| d.capacity_per_zone.is_none())
    );
    let text = text.replace(
        "        maxVolumesPerNode: 39\n",
        "        maxVolumesPerNode: 39\n        storageCapacity: true\n        capacityPerZone: 500Gi\n",
    );
    let s = load_text(&text).unwrap_or_else(|e| panic!("{e}"));
    let ebs = s.storage.driver("ebs.csi.aws.com").unwrap();
    assert_eq!(ebs.capacity_per_zone, Some(500 << 30));
    // The default class's driver is always there; unused built-ins are not.
    assert!(s.storage.driver("stsim.io/instant").is_some());
    assert!(s.storage.driver("pd.csi.storage.gke.io").is_none());
}

#[test]
fn built_in_drivers_the_manifests_use_need_no_declaration() {
    let class = "    - apiVersion: storage.k8s.io/v1
      kind: StorageClass
      metadata: { name: fast }
      provisioner: disk.csi.azure.com
      volumeBindingMode: WaitForFirstConsumer
";
    let text = VALID.replace("  manifests:\n", &format!("  manifests:\n{class}"));
    let s = load_text(&text).unwrap_or_else(|e| panic!("{e}"));
    let azure = s.storage.driver("disk.csi.azure.com").unwrap();
    assert_eq!(azure.profile, "azure-disk");
    assert_eq!(azure.max_volumes_per_node, Some(8));
}

#[test]
fn storage_mistakes_are_located_with_hints() {
    let cases: &[(&str, &[&str])] = &[
        (
            "      - name: ebs.csi.aws.com\n        profile: aws-ebz\n",
            &[
                "spec.storage.drivers[0].profile: unknown storage profile \"aws-ebz\"",
                "did you mean \"aws-ebs\"?",
            ],
        ),
        (
            "      - name: my.csi.io\n",
            &[
                "driver \"my.csi.io\" is not a built-in driver: it needs a profile",
                "add profile: one of aws-ebs, gce-pd",
            ],
        ),
        (
            "      - name: ebs.csi.aws.com\n        attachFailureRatio: 2\n",
            &["attachFailureRatio must be between 0 and 1, found 2"],
        ),
        (
            "      - name: ebs.csi.aws.com\n        maxVolumesPerNode: 0\n",
            &["maxVolumesPerNode must be a whole number >= 1, found 0"],
        ),
        (
            "      - name: ebs.csi.aws.com\n        atachTime: 2s\n",
            &["unknown field `atachTime`", "did you mean \"attachTime\"?"],
        ),
        (
            "      - name: ebs.csi.aws.com\n      - name: ebs.csi.aws.com\n",
            &["driver \"ebs.csi.aws.com\" is declared twice"],
        ),
        (
            "      - name: ebs.csi.aws.com\n        storageCapacity: true\n",
            &[
                "storage.drivers[0].capacityPerZone: storageCapacity: true needs the capacity each zone has",
                "add capacityPerZone: a storage quantity such as 500Gi",
            ],
        ),
        (
            "      - name: ebs.csi.aws.com\n        capacityPerZone: 1Ti\n",
            &["capacityPerZone is only used when the driver publishes its capacity"],
        ),
        (
            "      - name: ebs.csi.aws.com\n        storageCapacity: true\n        capacityPerZone: lots\n",
            &[
                "capacityPerZone must be a storage quantity, found \"lots\"",
                "e.g. 500Gi or 2Ti",
            ],
        ),
        (
            "      - name: ebs.csi.aws.com\n        storageCapacity: true\n        capacityPerZone: -1Gi\n",
            &["capacityPerZone cannot be negative"],
        ),
        (
            "      - name: rancher.io/local-path\n        storageCapacity: true\n        capacityPerZone: 1Ti\n",
            &[
                "driver \"rancher.io/local-path\" has no zones: storage capacity is published per zone",
                "use topology: zonal or regional",
            ],
        ),
    ];
    for (drivers, wants) in cases {
        let err = error_of(&with_sections(&storage(drivers), ""));
        for want in *wants {
            assert!(err.contains(want), "wanted {want:?} in:\n{err}");
        }
    }
}

#[test]
fn a_class_must_name_a_driver_the_cluster_runs() {
    let class = "    - apiVersion: storage.k8s.io/v1
      kind: StorageClass
      metadata: { name: fast }
      provisioner: ebs.csi.aws.co
";
    let text = VALID.replace("  manifests:\n", &format!("  manifests:\n{class}"));
    let err = error_of(&text);
    assert!(
        err.contains(
            "provisioner: unknown provisioner \"ebs.csi.aws.co\": no CSI driver of that name"
        ),
        "{err}"
    );
    assert!(err.contains("did you mean \"ebs.csi.aws.com\"?"), "{err}");
    let text = text.replace("ebs.csi.aws.co\n", "example.com/nfs\n");
    let err = error_of(&text);
    assert!(
        err.contains("known drivers: ebs.csi.aws.com, pd.csi.storage.gke.io"),
        "{err}"
    );
    // Static volumes only: no provisioner.
    let ok = text.replace("example.com/nfs", "kubernetes.io/no-provisioner");
    load_text(&ok).unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn every_fault_kind_parses() {
    let faults = "    - at: 5m
      duration: 20m
      provisioningFailure: { storageClass: standard, zone: a, message: \"InsufficientVolumeCapacity\" }
    - at: 1m
      duration: 10m
      zoneCapacityExhausted: { zone: b }
    - at: 2m
      duration: 1m
      attachLatency: { driver: stsim.io/instant, multiplier: 3 }
    - at: 2m
      attachFailure: { ratio: 0.5 }
    - at: 3m
      duration: 5m
      stuckDetach: { node: worker-a-1 }
    - at: 4m
      diskLoss: { persistentVolumeClaim: data-redis-0, namespace: db }
    - at: 4m
      diskLoss: { persistentVolume: pvc-1 }
";
    let s = load_text(&with_sections("", faults)).unwrap_or_else(|e| panic!("{e}"));
    let f: Vec<(u64, Option<u64>, &Fault)> = s
        .faults
        .iter()
        .map(|t| (t.at.as_secs(), t.duration.map(|d| d.as_secs()), &t.fault))
        .collect();
    assert_eq!(f.len(), 7);
    // In time order (ties keep the file's order).
    assert_eq!(f[0].0, 60);
    assert_eq!(*f[0].2, Fault::ZoneCapacityExhausted { zone: "b".into() });
    assert_eq!(
        *f[1].2,
        Fault::AttachLatency {
            driver: Some("stsim.io/instant".into()),
            multiplier: 3.0
        }
    );
    assert_eq!(f[2].1, None, "until the end of the run");
    assert_eq!(
        *f[2].2,
        Fault::AttachFailure {
            driver: None,
            ratio: 0.5
        }
    );
    assert_eq!(
        *f[3].2,
        Fault::StuckDetach {
            driver: None,
            node: Some("worker-a-1".into())
        }
    );
    assert_eq!(
        *f[4].2,
        Fault::DiskLoss {
            volume: None,
            claim: Some(("db".into(), "data-redis-0".into()))
        }
    );
    assert_eq!(
        *f[5].2,
        Fault::DiskLoss {
            volume: Some("pvc-1".into()),
            claim: None
        }
    );
    assert_eq!((f[6].0, f[6].1), (300, Some(1200)));
    assert_eq!(
        *f[6].2,
        Fault::ProvisioningFailure {
            storage_class: Some("standard".into()),
            zone: Some("a".into()),
            message: "InsufficientVolumeCapacity".into()
        }
    );
    assert_eq!(
        s.faults[6].text,
        "provisioningFailure storageClass=standard zone=a"
    );
}

#[test]
fn fault_mistakes_are_located_with_hints() {
    let cases: &[(&str, &[&str])] = &[
        (
            "    - at: 1m\n      duration: 1m\n      zoneCapacityExhausted: { zone: a }\n      attachFailure: { ratio: 1 }\n",
            &[
                "spec.faults[0].attachFailure: one fault kind per item, found `zoneCapacityExhausted` and `attachFailure`",
            ],
        ),
        (
            "    - at: 1m\n      duration: 1m\n",
            &["spec.faults[0]: a fault needs a kind"],
        ),
        (
            "    - at: 2h\n      attachFailure: { ratio: 1 }\n",
            &["spec.faults[0].at: fault at 2h0m0s is after the end of the run (1h0m0s)"],
        ),
        (
            "    - at: 50m\n      duration: 20m\n      attachFailure: { ratio: 1 }\n",
            &[
                "spec.faults[0].duration: the fault ends at 1h10m0s (at 50m0s + duration 20m0s), after the end of the run (1h0m0s)",
            ],
        ),
        (
            "    - at: 5m\n      duration: 1m\n      diskLoss: { persistentVolume: x }\n",
            &["diskLoss happens once: it takes no duration"],
        ),
        (
            "    - at: 5m\n      diskLoss: {}\n",
            &["diskLoss needs persistentVolume or persistentVolumeClaim"],
        ),
        (
            "    - at: 5m\n      zoneCapacityExhausted: { zone: c }\n",
            &[
                "spec.faults[0].zoneCapacityExhausted.zone: no zone named \"c\"",
                "known: a, b",
            ],
        ),
        (
            "    - at: 5m\n      provisioningFailure: { storageClass: standrad }\n",
            &[
                "no StorageClass named \"standrad\"",
                "did you mean \"standard\"?",
            ],
        ),
        (
            "    - at: 5m\n      attachLatency: { driver: ebs.csi.aws.com, multiplier: 0 }\n",
            &["multiplier must be a number > 0, found 0"],
        ),
        (
            "    - at: 5m\n      stuckDetach: { node: worker-a-9 }\n",
            &[
                "no node named \"worker-a-9\"",
                "did you mean \"worker-a-1\"?",
            ],
        ),
        (
            "    - at: 5m\n      attachFailure: { ratio: 1.5 }\n",
            &["ratio must be between 0 and 1, found 1.5"],
        ),
        (
            "    - at: 5m\n      provisioningFailure: { zone: a, mesage: x }\n",
            &["unknown field `mesage`", "did you mean \"message\"?"],
        ),
    ];
    for (faults, wants) in cases {
        let err = error_of(&with_sections("", faults));
        for want in *wants {
            assert!(err.contains(want), "wanted {want:?} in:\n{err}");
        }
    }
}
