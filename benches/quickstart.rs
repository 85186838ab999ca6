//! A full run of `scenarios/quickstart.yaml` (1 h simulated). Target: under 20 ms wall
//! (release). Two variants: with the trace serialised to an in-memory buffer (what
//! `stsim run` pays, minus the disk), and with the trace discarded.
//!
//! Run: `cargo bench --bench quickstart`.

use stsim::scenario::{self, Scenario};
use stsim::sim::{RunOptions, Simulation};

fn main() {
    divan::main();
}

fn quickstart() -> Scenario {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/quickstart.yaml");
    scenario::load(&path).expect("the bundled quickstart scenario is valid")
}

#[divan::bench(sample_count = 20)]
fn quickstart_1h_with_trace(bencher: divan::Bencher) {
    let scenario = quickstart();
    bencher.bench_local(|| {
        let mut opts = RunOptions::for_scenario(&scenario);
        opts.keep_timeline = false;
        opts.trace = Some(Box::new(Vec::<u8>::with_capacity(1 << 20)));
        divan::black_box(Simulation::new(&scenario, opts).run().counts.events)
    });
}

#[divan::bench(sample_count = 20)]
fn quickstart_1h_no_trace(bencher: divan::Bencher) {
    let scenario = quickstart();
    bencher.bench_local(|| {
        let mut opts = RunOptions::for_scenario(&scenario);
        opts.keep_timeline = false;
        divan::black_box(Simulation::new(&scenario, opts).run().counts.events)
    });
}
