//! Small helpers shared by the integration tests: load a bundled scenario or one written
//! inline, run it, and look at the result.

use std::path::{Path, PathBuf};
use stsim::scenario::{self, Scenario};
use stsim::sim::{RunOptions, RunResult, Simulation};

pub fn repo_path(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

pub fn bundled(name: &str) -> Scenario {
    let path = repo_path(&format!("scenarios/{name}.yaml"));
    scenario::load(&path).unwrap_or_else(|e| panic!("{name} should load:\n{e}"))
}

/// Runs `scenario` with `seed`, collecting the trace in memory.
pub fn run_with_trace(scenario: &Scenario, seed: u64) -> (RunResult, Vec<u8>) {
    let buf = SharedBuf::default();
    let mut opts = RunOptions::for_scenario(scenario);
    opts.seed = seed;
    opts.trace = Some(Box::new(buf.clone()));
    let result = Simulation::new(scenario, opts).run();
    let bytes = buf.0.borrow().clone();
    (result, bytes)
}

pub fn run(scenario: &Scenario) -> RunResult {
    Simulation::new(scenario, RunOptions::for_scenario(scenario)).run()
}

/// A `Write` whose bytes the test can read after the run consumed the writer.
#[derive(Clone, Default)]
pub struct SharedBuf(pub std::rc::Rc<std::cell::RefCell<Vec<u8>>>);

impl std::io::Write for SharedBuf {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.borrow_mut().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Parses the trace into JSON values, one per line.
pub fn trace_lines(bytes: &[u8]) -> Vec<serde_json::Value> {
    std::str::from_utf8(bytes)
        .expect("the trace is UTF-8")
        .lines()
        .map(|l| serde_json::from_str(l).expect("each trace line is one JSON object"))
        .collect()
}
