//! The kind filter (`Controller::watches`) skips only handlers that would do nothing: with
//! it and without it (every handler called for every event, as before the filter), bundled
//! scenarios queue the same keys, in the same order, and write the same trace.

use super::probe;
use crate::scenario;
use crate::sim::{RunOptions, Simulation};
use crate::time::{SimDuration, SimTime};
use std::cell::RefCell;
use std::io::Write;
use std::rc::Rc;

/// A trace sink the test can read back.
#[derive(Clone, Default)]
struct Shared(Rc<RefCell<Vec<u8>>>);

impl Write for Shared {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.borrow_mut().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The keys queued by the controllers' handlers and the trace, over `minutes` of `file`.
fn run(file: &str, minutes: u64, unfiltered: bool) -> (Vec<(usize, u64, String)>, Vec<u8>) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios")
        .join(file);
    let text = std::fs::read_to_string(&path).unwrap();
    let scenario = scenario::load_str(&text, &path).unwrap();
    let mut opts = RunOptions::for_scenario(&scenario);
    opts.keep_timeline = false;
    let trace = Shared::default();
    opts.trace = Some(Box::new(trace.clone()));
    probe::UNFILTERED.set(unfiltered);
    probe::QUEUED.take();
    let mut sim = Simulation::new(&scenario, opts);
    sim.run_until(SimTime::ZERO + SimDuration::from_mins(minutes));
    drop(sim);
    probe::UNFILTERED.set(false);
    let trace = trace.0.take();
    (probe::QUEUED.take(), trace)
}

fn same_keys_with_and_without_the_filter(file: &str, minutes: u64) {
    let (all, all_trace) = run(file, minutes, true);
    let (filtered, filtered_trace) = run(file, minutes, false);
    assert!(all.len() > 100, "{file}: only {} keys queued", all.len());
    if let Some(i) = (0..all.len().min(filtered.len())).find(|&i| all[i] != filtered[i]) {
        panic!(
            "{file}: key {i} differs: every handler queued {:?}, the filtered ones {:?}",
            all[i], filtered[i]
        );
    }
    assert_eq!(all.len(), filtered.len(), "{file}: number of keys queued");
    assert!(all_trace == filtered_trace, "{file}: the traces differ");
}

#[test]
fn the_kind_filter_queues_the_same_keys_in_a_storm_of_attaches() {
    same_keys_with_and_without_the_filter("attach-storm.yaml", 1);
}

#[test]
fn the_kind_filter_queues_the_same_keys_when_a_node_crashes() {
    same_keys_with_and_without_the_filter("node-crash-force-delete.yaml", 20);
}

#[test]
fn the_kind_filter_queues_the_same_keys_when_a_volume_cannot_bind() {
    same_keys_with_and_without_the_filter("pv-bind-failure.yaml", 5);
}
