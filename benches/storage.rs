//! A full run of `scenarios/attach-storm.yaml`: 300 volumes provisioned, attached and
//! mounted at once. Target (issue 4): under 100 ms wall (release) for the simulation.
//! Variants: with the trace serialised to an in-memory buffer (what `stsim run` pays,
//! minus the disk), with the trace discarded, and the scenario load alone (YAML parse
//! and validation, which `stsim run` pays before it starts the clock).
//!
//! Run: `cargo bench --bench storage`.

use stsim::scenario::{self, Scenario};
use stsim::sim::{RunOptions, Simulation};

fn main() {
    divan::main();
}

fn path() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/attach-storm.yaml")
}

fn attach_storm() -> Scenario {
    scenario::load(&path()).expect("the bundled attach-storm scenario is valid")
}

#[divan::bench(sample_count = 20)]
fn attach_storm_with_trace(bencher: divan::Bencher) {
    let scenario = attach_storm();
    bencher.bench_local(|| {
        let mut opts = RunOptions::for_scenario(&scenario);
        opts.keep_timeline = false;
        opts.trace = Some(Box::new(Vec::<u8>::with_capacity(8 << 20)));
        divan::black_box(Simulation::new(&scenario, opts).run().counts.events)
    });
}

#[divan::bench(sample_count = 20)]
fn attach_storm_no_trace(bencher: divan::Bencher) {
    let scenario = attach_storm();
    bencher.bench_local(|| {
        let mut opts = RunOptions::for_scenario(&scenario);
        opts.keep_timeline = false;
        divan::black_box(Simulation::new(&scenario, opts).run().counts.events)
    });
}

#[divan::bench(sample_count = 20)]
fn attach_storm_load(bencher: divan::Bencher) {
    let path = path();
    bencher.bench_local(|| divan::black_box(scenario::load(&path).expect("valid").seed));
}
