//! The trace's own serializer (`json`) against serde_json: the same bytes for real objects
//! of every kind, with odd strings put into them, and for every kind of trace line. (Under
//! `cfg(test)` `TraceWriter::emit` also compares every line it writes.)

use super::{TraceWriter, json};
use crate::api::{AnyObject, K8sEvent, Kind, Resource};
use crate::apiserver::{JournalEntry, Verb, WatchEvent};
use crate::component::Note;
use crate::scenario;
use crate::sim::{RunOptions, Simulation};
use crate::time::{SimDuration, SimTime};
use serde::Serialize;
use std::cell::RefCell;
use std::collections::BTreeSet;
use std::rc::Rc;

const ODD: [&str; 8] = [
    "",
    "\"quoted\" \\back\\slash\\",
    "ctl \n\t\r\u{8}\u{c}\u{0}\u{1}\u{1f}\u{7f} end",
    "ünïcödé ✓ 😀 日本語 \u{2028}",
    "a-very-long-name-without-anything-to-escape-0123456789-abcdefghijklmnopqrstuvwxyz",
    "long then \"quote\" at 8: 0123456\"",
    "\\\\\\\\\\\\\\\\\\\\",
    "x",
];

fn same<T: Serialize>(v: &T) {
    let mut fast = Vec::new();
    json::to_vec(&mut fast, v).expect("written by the trace serializer");
    let slow = serde_json::to_vec(v).unwrap();
    assert_eq!(
        String::from_utf8(fast).unwrap(),
        String::from_utf8(slow).unwrap()
    );
}

/// Every object the API server holds after ten minutes of `file`, each with every odd
/// string put into its name, namespace, labels, annotations and finalizers (and as is).
fn objects_after(file: &str) -> Vec<AnyObject> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios")
        .join(file);
    let mut text = std::fs::read_to_string(&path).unwrap();
    if file == "attach-storm.yaml" {
        // Storage capacity tracking on, so that CSIStorageCapacity objects exist too.
        let at = text.find("  manifests:\n").unwrap();
        text.insert_str(
            at,
            "  storage:\n    drivers:\n      - { name: ebs.csi.aws.com, storageCapacity: true, capacityPerZone: 10Ti }\n",
        );
    }
    let scenario = scenario::load_str(&text, &path).unwrap();
    let mut opts = RunOptions::for_scenario(&scenario);
    opts.keep_timeline = false;
    opts.trace = Some(Box::new(Vec::new()));
    opts.trace_heartbeats = true;
    let mut sim = Simulation::new(&scenario, opts);
    sim.run_for(SimDuration::from_secs(600));
    let t = sim.api().objects();
    let mut out = Vec::new();
    for kind in Kind::ALL {
        crate::with_kind!(kind, T => out.extend(t.list::<T>().flat_map(oddly_named)));
    }
    out
}

fn oddly_named<T: Resource>(obj: &Rc<T>) -> Vec<AnyObject> {
    let mut all = vec![T::wrap(Rc::clone(obj))];
    for odd in ODD {
        let mut o = T::clone(obj);
        let m = o.meta_mut();
        m.name = format!("{}{odd}", m.name);
        m.namespace = odd.to_string();
        m.labels.insert(odd.to_string(), odd.to_string());
        m.annotations
            .insert(format!("k{odd}"), format!("{odd}{odd}"));
        m.finalizers.push(odd.to_string());
        all.push(T::wrap(Rc::new(o)));
    }
    all
}

#[test]
fn every_kind_with_odd_strings_matches_serde_json() {
    let shared = Rc::new(RefCell::new(Vec::<u8>::new()));
    let mut seen = BTreeSet::new();
    let mut writer = TraceWriter::new(Some(Box::new(SharedSink(Rc::clone(&shared)))));
    for file in [
        "attach-storm.yaml",
        "zookeeper-drain.yaml",
        "statefulset-basics.yaml",
    ] {
        for obj in objects_after(file) {
            seen.insert(obj.kind());
            same(&super::ObjectJson(&obj));
            let actor = Rc::from(obj.meta().namespace.as_str());
            writer.entry(&JournalEntry::Write(WatchEvent {
                at: SimTime(7_000_000_000),
                verb: Verb::Update,
                removed: false,
                obj,
                actor,
                lease_renewal: None,
            }));
        }
    }
    assert_eq!(seen, Kind::ALL.into_iter().collect::<BTreeSet<_>>());
    assert!(!shared.borrow().is_empty());
}

/// `obj` with resourceVersion `rv`, for the kinds whose status writes reuse bytes.
fn with_resource_version(obj: &AnyObject, rv: &str) -> Option<AnyObject> {
    fn set<T: Resource>(o: &Rc<T>, rv: &str) -> AnyObject {
        let mut o = T::clone(o);
        o.meta_mut().resource_version = rv.into();
        T::wrap(Rc::new(o))
    }
    Some(match obj {
        AnyObject::Node(o) => set(o, rv),
        AnyObject::Pod(o) => set(o, rv),
        AnyObject::PersistentVolumeClaim(o) => set(o, rv),
        AnyObject::PersistentVolume(o) => set(o, rv),
        AnyObject::StatefulSet(o) => set(o, rv),
        AnyObject::PodDisruptionBudget(o) => set(o, rv),
        AnyObject::VolumeAttachment(o) => set(o, rv),
        _ => return None,
    })
}

/// Status writes that follow a write of the same object: the kept bytes with the new
/// resourceVersion (shorter, longer, as long, odd, empty) must be serde_json's line; so
/// must an update whose spec and status are copied.
#[test]
fn status_writes_after_a_write_of_the_object_match_serde_json() {
    let mut writer = TraceWriter::new(Some(Box::new(Vec::new())));
    let mut kinds = BTreeSet::new();
    for file in ["attach-storm.yaml", "zookeeper-drain.yaml"] {
        for obj in objects_after(file) {
            let Some(first) = with_resource_version(&obj, "4242") else {
                continue;
            };
            kinds.insert(obj.kind());
            let write = |obj: AnyObject, verb: Verb| {
                JournalEntry::Write(WatchEvent {
                    at: SimTime(9_000_000_000),
                    verb,
                    removed: false,
                    obj,
                    actor: Rc::from("test"),
                    lease_renewal: None,
                })
            };
            writer.entry(&write(first, Verb::Update));
            for rv in ["7", "123456789012", "999999999999", "x\"y", "", "5", "6"] {
                let next = with_resource_version(&obj, rv).expect("same kind");
                writer.entry(&write(next, Verb::Status));
            }
            // An update that finds spec and status as they were (copied), then a status write
            // after it.
            for (rv, verb) in [("77", Verb::Update), ("78", Verb::Status)] {
                let next = with_resource_version(&obj, rv).expect("same kind");
                writer.entry(&write(next, verb));
            }
        }
    }
    assert!(kinds.len() >= 6, "{kinds:?}");
}

/// Writes of one EndpointSlice whose endpoints change, go, come, move and get odd strings:
/// copied or written, every line must be serde_json's.
#[test]
fn endpoint_slice_writes_that_reuse_endpoints_match_serde_json() {
    let mut writer = TraceWriter::new(Some(Box::new(Vec::new())));
    let mut slices = 0;
    for obj in objects_after("attach-storm.yaml") {
        let AnyObject::EndpointSlice(first) = &obj else {
            continue;
        };
        if first.endpoints.len() < 2 {
            continue;
        }
        slices += 1;
        let mut versions = vec![(**first).clone()];
        let mut v = (**first).clone();
        v.endpoints[1].conditions.ready = Some(false);
        versions.push(v.clone());
        v.endpoints.remove(0);
        versions.push(v.clone());
        v.endpoints.push(first.endpoints[0].clone());
        versions.push(v.clone());
        v.endpoints.reverse();
        versions.push(v.clone());
        v.endpoints[0].hostname = Some(ODD[2].into());
        v.endpoints.push(v.endpoints[0].clone());
        versions.push(v.clone());
        v.endpoints.clear();
        versions.push(v);
        versions.push((**first).clone());
        for (i, v) in versions.into_iter().enumerate() {
            writer.entry(&JournalEntry::Write(WatchEvent {
                at: SimTime(9_000_000_000),
                verb: Verb::Update,
                removed: i == 7,
                obj: AnyObject::EndpointSlice(Rc::new(v)),
                actor: Rc::from("test"),
                lease_renewal: None,
            }));
        }
    }
    assert!(slices > 0);
}

#[test]
fn every_line_type_with_odd_strings_matches_serde_json() {
    let mut writer = TraceWriter::new(Some(Box::new(Vec::new())));
    for odd in ODD {
        let mut event = K8sEvent {
            reason: odd.into(),
            message: format!("{odd} message {odd}"),
            type_: "Warning".into(),
            count: -3,
            ..K8sEvent::default()
        };
        event.involved_object.name = odd.into();
        event.source.component = odd.into();
        writer.entry(&JournalEntry::Event {
            at: SimTime(1_000_000),
            event: Rc::new(event),
        });
        writer.action(SimTime(2_000_000), odd, true, odd);
        writer.fault(SimTime(3_000_000), odd, false, odd);
        writer.note(&Note {
            at: SimTime(4_000_000),
            source: odd.into(),
            object: odd.into(),
            message: odd.into(),
        });
    }
    assert_eq!(writer.lines_written(), 4 * ODD.len() as u64);
}

#[test]
fn free_form_values_match_serde_json() {
    let v: serde_json::Value = serde_json::from_str(
        r#"{"z":1,"a":[1.5,-0.0,1e300,2.5e-8,0.1,-7,18446744073709551615,-9223372036854775808],
            "n":null,"t":true,"f":false,"s":"\"\\\n\u0001é😀","o":{"":{"x":[]},"y":{}}}"#,
    )
    .unwrap();
    same(&v);
    same(&(
        1u8,
        'c',
        '"',
        i128::MIN,
        u128::MAX,
        3.25f32,
        f64::NAN,
        f64::INFINITY,
    ));
    same(&Some(b"bytes".as_slice()));
    same(&Option::<u32>::None);
    #[derive(Serialize)]
    enum E {
        Unit,
        New(u32),
        Tuple(u32, String),
        Struct { a: i8, b: Vec<()> },
    }
    same(&vec![
        E::Unit,
        E::New(1),
        E::Tuple(2, "t\"".into()),
        E::Struct {
            a: -1,
            b: vec![(), ()],
        },
    ]);
    // What this serializer leaves to serde_json is refused, not written differently.
    let keyed: std::collections::BTreeMap<u32, u32> = [(1, 2)].into();
    assert!(json::to_vec(&mut Vec::new(), &keyed).is_err());
    let raw = serde_json::value::RawValue::from_string("[1, 2]".into()).unwrap();
    assert!(json::to_vec(&mut Vec::new(), &raw).is_err());
    // …and the trace writer then writes it with serde_json.
    let mut writer = TraceWriter::new(Some(Box::new(Vec::new())));
    writer.emit(&keyed);
    writer.emit(&raw);
}

/// A sink the test can read after handing it to a writer.
struct SharedSink(Rc<RefCell<Vec<u8>>>);

impl std::io::Write for SharedSink {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.borrow_mut().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Node and Pod status writes whose lists change by an element inserted, removed,
/// replaced, moved or cleared: the parts copied from the previous line must still give
/// serde_json's bytes (`emit_by` compares every line). Each object's versions start with
/// an update (`objects_after` holds other objects of the same uid, and a status write
/// keeps the stored object's metadata and spec, as the API server's does).
#[test]
fn status_writes_with_edited_lists_match_serde_json() {
    use crate::api::node::AttachedVolume;
    let mut writer = TraceWriter::new(Some(Box::new(Vec::new())));
    let (mut nodes, mut pods) = (0, 0);
    let write = |writer: &mut TraceWriter, verb: Verb, obj: AnyObject, rv: usize| {
        let obj = with_resource_version(&obj, &rv.to_string()).expect("a kind with metadata");
        writer.entry(&JournalEntry::Write(WatchEvent {
            at: SimTime(9_000_000_000),
            verb,
            removed: false,
            obj,
            actor: Rc::from("test"),
            // `false`, or `None` where the field holds a Lease position.
            lease_renewal: Default::default(),
        }));
    };
    for obj in objects_after("attach-storm.yaml") {
        match &obj {
            AnyObject::Node(first) => {
                nodes += 1;
                let mut v = (**first).clone();
                let volume = |n: usize| AttachedVolume {
                    name: format!("kubernetes.io/csi/ebs.csi.aws.com^vol-{n:04}{}", ODD[n % 8]),
                    device_path: String::new(),
                };
                let mut versions = vec![v.clone()];
                for n in [5, 1, 9, 3] {
                    v.status.volumes_attached.push(volume(n));
                    v.status.volumes_attached.sort();
                    versions.push(v.clone());
                }
                v.status.volumes_attached.remove(1);
                versions.push(v.clone());
                v.status.volumes_attached[0] = volume(7);
                versions.push(v.clone());
                v.status.volumes_attached.reverse();
                versions.push(v.clone());
                v.status.volumes_in_use = vec![ODD[3].into()];
                v.status.capacity.clear();
                versions.push(v.clone());
                if let Some(c) = v.status.conditions.first_mut() {
                    c.reason = ODD[4].into();
                }
                v.status.conditions.push(v.status.conditions[0].clone());
                versions.push(v.clone());
                v.status.volumes_attached.clear();
                v.status.conditions.remove(0);
                versions.push(v.clone());
                versions.push((**first).clone());
                for (i, v) in versions.into_iter().enumerate() {
                    let verb = [Verb::Status, Verb::Update][usize::from(i % 4 == 0)];
                    write(&mut writer, verb, AnyObject::Node(Rc::new(v)), 100 + i);
                }
            }
            AnyObject::Pod(first) => {
                pods += 1;
                let mut v = (**first).clone();
                let mut versions = vec![v.clone()];
                let cond = |t: &str| crate::api::pod::PodCondition {
                    type_: t.into(),
                    status: "True".into(),
                    ..Default::default()
                };
                v.status.conditions.insert(0, cond(ODD[1]));
                versions.push(v.clone());
                v.status.conditions.push(cond("Extra"));
                versions.push(v.clone());
                v.status.start_time = None;
                versions.push(v.clone());
                v.status.conditions.remove(1);
                v.status.container_statuses.clear();
                versions.push(v.clone());
                v.status.conditions.clear();
                versions.push(v.clone());
                versions.push((**first).clone());
                for (i, v) in versions.into_iter().enumerate() {
                    let verb = [Verb::Status, Verb::Update][usize::from(i % 3 == 0)];
                    write(&mut writer, verb, AnyObject::Pod(Rc::new(v)), 100 + i);
                }
            }
            _ => {}
        }
    }
    assert!(nodes > 0 && pods > 0);
}

/// Event lines with timestamps, hosts and empty parts of the involved object: the object
/// copies the head's strings and a last timestamp equal to the first.
#[test]
fn event_lines_with_every_part_match_serde_json() {
    use crate::api::Timestamp;
    let mut writer = TraceWriter::new(Some(Box::new(Vec::new())));
    // `s` where `on`, else empty.
    let pick = |on: bool, s: &str| if on { s.to_string() } else { String::new() };
    for (i, &odd) in ODD.iter().enumerate() {
        let t = |s: u64| Some(Timestamp::at(SimTime(s * 1_000_000_000)));
        let mut event = K8sEvent {
            api_version: "v1".into(),
            kind: "Event".into(),
            reason: odd.into(),
            message: format!("{odd} message"),
            type_: pick(i % 2 == 0, "Normal"),
            first_timestamp: t(5),
            last_timestamp: if i % 3 == 0 { t(5) } else { t(7 + i as u64) },
            count: i as i32,
            ..K8sEvent::default()
        };
        event.metadata.name = format!("x.{i:016x}");
        event.metadata.namespace = odd.to_string();
        let io = &mut event.involved_object;
        io.api_version = pick(i % 2 == 1, "v1");
        io.kind = pick(i % 3 != 1, "Pod");
        io.namespace = pick(i % 4 != 2, odd);
        io.name = odd.to_string();
        io.uid = pick(i % 2 == 0, &format!("uid-{i}"));
        io.resource_version = pick(i % 3 != 2, "12");
        event.source.component = pick(i % 4 != 3, "kubelet");
        event.source.host = pick(i % 2 == 0, odd);
        if i == 5 {
            event.first_timestamp = None;
        }
        if i == 6 {
            event.last_timestamp = None;
        }
        writer.entry(&JournalEntry::Event {
            at: SimTime(1_000_000),
            event: Rc::new(event),
        });
    }
}
