//! The steady-state shortcuts against the plain port: two clusters driven by the same
//! script — status posts that move only the heartbeat, Lease renewals, kubelets that stop
//! and come back, a whole zone down, a node moved to another zone, one excluded from the
//! disruption checks, one deleted and registered again, pods on the failing nodes — one
//! with the controller as it runs, one without its shortcuts
//! (`NodeLifecycleController::without_shortcuts`). Every write, Event and note must be
//! the same, at the same instant; debug builds also check `NodeEntry::healthy` against the
//! node lister at every pass (`monitor::check_healthy`).

use super::NodeLifecycleConfig;
use super::NodeLifecycleController;
use super::tests::{World, at};
use crate::api::{Node, ObjectKey, Timestamp};
use crate::apiserver::{DeleteOptions, JournalEntry};
use crate::control::taint_eviction::TaintEvictionController;

fn world(shortcuts: bool) -> World {
    let nlc = NodeLifecycleController::new(NodeLifecycleConfig::for_version(36));
    let nlc = if shortcuts {
        nlc
    } else {
        nlc.without_shortcuts()
    };
    World::with(vec![
        Box::new(nlc),
        Box::new(TaintEvictionController::default()),
    ])
}

/// What the API server recorded from entry `from` on, one line each, with its instant.
fn journal(w: &World, from: u64) -> Vec<String> {
    (from..w.h.api.journal_end())
        .filter_map(|i| w.h.api.journal_entry(i))
        .map(|e| match e {
            JournalEntry::Write(ev) => format!("{:?} {:?} removed={}", ev.at, ev.obj, ev.removed),
            JournalEntry::Event { at, event } => format!("{at:?} event {event:?}"),
        })
        .collect()
}

/// A live kubelet's status post: the same conditions with a new heartbeat.
fn post_status(w: &mut World, name: &str) {
    let now = w.h.now;
    let mut next = (*w.node(name)).clone();
    for c in &mut next.status.conditions {
        c.last_heartbeat_time = Some(Timestamp::at(now));
    }
    w.h.client().update_status(&next).expect("status");
}

fn relabel(w: &mut World, name: &str, key: &str, value: &str) {
    let mut next = (*w.node(name)).clone();
    next.metadata.labels.insert(key.into(), value.into());
    w.h.client().update(next).expect("labels");
}

/// One step of the script at `t` (seconds), the same for both clusters.
fn step(w: &mut World, t: u32, nodes: &[String]) {
    match t {
        0 => {
            for (i, n) in nodes.iter().enumerate() {
                w.add_node(n, ["a", "b", "c"][i % 3]);
            }
            for (i, n) in nodes.iter().enumerate().take(6) {
                w.add_pod(&format!("p{i}"), n, None);
            }
        }
        100 => w.kill(&nodes[0]),
        160 => relabel(w, &nodes[4], "topology.kubernetes.io/zone", "c"),
        200 => {
            // Zone b (nodes 1, 4 moved away, 7, 10) down: 1, 7 and 10.
            for i in [1, 7, 10] {
                w.kill(&nodes[i]);
            }
        }
        230 => relabel(
            w,
            &nodes[5],
            super::zones::LABEL_NODE_DISRUPTION_EXCLUSION,
            "",
        ),
        330 => {
            for i in [0, 1, 7, 10] {
                w.revive(&nodes[i]);
            }
        }
        400 => {
            w.kill(&nodes[3]);
            let key = ObjectKey::cluster(&nodes[3]);
            let opts = DeleteOptions {
                grace_period_seconds: Some(0),
                ..Default::default()
            };
            w.h.client().delete::<Node>(&key, &opts).expect("delete");
        }
        460 => w.add_node(&nodes[3], "a"),
        // Every kubelet down: master disruption mode, then back.
        520 => {
            for n in nodes {
                w.kill(n);
            }
        }
        640 => {
            for n in nodes {
                w.revive(n);
            }
        }
        _ => {}
    }
    // Status posts every 40 s, at a phase per node, by the live kubelets.
    if t > 0 {
        for (i, n) in nodes.iter().enumerate() {
            if w.alive.contains(n) && (t + 7 * i as u32).is_multiple_of(40) {
                post_status(w, n);
            }
        }
    }
}

#[test]
fn shortcuts_write_exactly_what_the_plain_port_writes() {
    let nodes: Vec<String> = (0..12).map(|i| format!("n{i:02}")).collect();
    let mut fast = world(true);
    let mut plain = world(false);
    // A step every second: writes fall between the monitor passes and on them.
    let mut seen = 0;
    for t in 0..=760u32 {
        for w in [&mut fast, &mut plain] {
            w.advance(at(f64::from(t)));
            step(w, t, &nodes);
        }
        let (a, b) = (journal(&fast, seen), journal(&plain, seen));
        assert_eq!(a, b, "journals up to {t} s");
        seen = fast.h.api.journal_end();
    }
    assert_eq!(fast.notes(), plain.notes());
    // The script did reach the paths it is meant to: Unknown, taints, both modes.
    let notes = fast.notes();
    assert!(
        notes
            .iter()
            .any(|(_, m)| m.contains("Entering master disruption mode"))
    );
    assert!(
        notes
            .iter()
            .any(|(_, m)| m.contains("Exiting master disruption mode"))
    );
    assert!(!fast.events("NodeNotReady").is_empty());
}
