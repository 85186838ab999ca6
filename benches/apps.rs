//! What the application layer costs (issue 6: no more than 2× the run time of the same
//! scenario without it). `scenarios/quorum-loss.yaml` (a 5-member etcd through a broken
//! rollout, a node crash and six minutes without quorum, 30 min simulated) and
//! `scenarios/primary-failover.yaml` (Patroni through a 10-minute zone partition) are run
//! as they are, and with their `spec.apps` and app SLOs removed; all with the trace
//! serialised to memory, as `stsim run` pays it. The ratio of each pair of medians is the
//! figure to check.
//!
//! Run: `cargo bench --bench apps`.

use stsim::scenario::{self, Scenario};
use stsim::sim::{RunOptions, Simulation};

fn main() {
    divan::main();
}

fn bundled(name: &str) -> Scenario {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios")
        .join(format!("{name}.yaml"));
    scenario::load(&path).expect("a bundled scenario is valid")
}

fn without_apps(mut scenario: Scenario) -> Scenario {
    scenario.apps.clear();
    scenario.slos.retain(|s| !s.sli.needs_app());
    scenario
}

fn run(scenario: &Scenario) -> u64 {
    let mut opts = RunOptions::for_scenario(scenario);
    opts.keep_timeline = false;
    opts.trace = Some(Box::new(Vec::<u8>::with_capacity(1 << 20)));
    Simulation::new(scenario, opts).run().counts.events
}

#[divan::bench(sample_count = 20)]
fn quorum_loss_with_apps(bencher: divan::Bencher) {
    let scenario = bundled("quorum-loss");
    assert!(!scenario.apps.is_empty());
    bencher.bench_local(|| divan::black_box(run(&scenario)));
}

#[divan::bench(sample_count = 20)]
fn quorum_loss_without_apps(bencher: divan::Bencher) {
    let scenario = without_apps(bundled("quorum-loss"));
    bencher.bench_local(|| divan::black_box(run(&scenario)));
}

#[divan::bench(sample_count = 20)]
fn primary_failover_with_apps(bencher: divan::Bencher) {
    let scenario = bundled("primary-failover");
    assert!(!scenario.apps.is_empty());
    bencher.bench_local(|| divan::black_box(run(&scenario)));
}

#[divan::bench(sample_count = 20)]
fn primary_failover_without_apps(bencher: divan::Bencher) {
    let scenario = without_apps(bundled("primary-failover"));
    bencher.bench_local(|| divan::black_box(run(&scenario)));
}
