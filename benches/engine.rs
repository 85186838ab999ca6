//! Engine throughput on a synthetic event workload (the classic "hold" model): a queue
//! holding `pending` timers; each popped event schedules one more at a random delay drawn
//! from a named stream, so the queue size stays constant. Target: >= 5 million events/s.
//!
//! Run: `cargo bench --bench engine`. Events per second = events / reported time.

use stsim::queue::EventQueue;
use stsim::rng::RngStreams;
use stsim::time::{SimDuration, SimTime};

fn main() {
    divan::main();
}

const EVENTS: u64 = 1_000_000;

#[derive(Clone, Copy)]
enum Payload {
    Tick(u32),
}

/// Processes `EVENTS` events with `pending` timers outstanding.
#[divan::bench(args = [1_000, 100_000], sample_count = 10)]
fn hold_model(bencher: divan::Bencher, pending: u64) {
    bencher
        .counter(divan::counter::ItemsCount::new(EVENTS))
        .bench_local(|| {
            let mut rng = RngStreams::new(42).stream("bench/engine");
            let mut q = EventQueue::new();
            for i in 0..pending {
                q.schedule(
                    SimTime::ZERO + SimDuration::from_micros_u64(rng.below(1_000_000)),
                    Payload::Tick(i as u32),
                );
            }
            let mut sum = 0u64;
            for _ in 0..EVENTS {
                let (now, _, Payload::Tick(id)) = q.pop().expect("the hold model never drains");
                sum = sum.wrapping_add(u64::from(id));
                q.schedule(
                    now + SimDuration::from_micros_u64(1 + rng.below(1_000_000)),
                    Payload::Tick(id),
                );
            }
            divan::black_box(sum)
        });
}

/// Cancellable timers: a third of the scheduled timers are cancelled before they fire, as
/// kubelet and scheduler timers are when the state they wait on changes.
#[divan::bench(sample_count = 10)]
fn hold_model_with_cancellation(bencher: divan::Bencher) {
    bencher
        .counter(divan::counter::ItemsCount::new(EVENTS))
        .bench_local(|| {
            let mut rng = RngStreams::new(42).stream("bench/engine");
            let mut q = EventQueue::new();
            for i in 0..10_000u32 {
                q.schedule(
                    SimTime::ZERO + SimDuration::from_micros_u64(rng.below(1_000_000)),
                    Payload::Tick(i),
                );
            }
            let mut fired = 0u64;
            while fired < EVENTS {
                let (now, _, Payload::Tick(id)) = q.pop().expect("the hold model never drains");
                fired += 1;
                let next = q.schedule(
                    now + SimDuration::from_micros_u64(1 + rng.below(1_000_000)),
                    Payload::Tick(id),
                );
                if rng.below(3) == 0 {
                    q.cancel(next);
                    q.schedule(
                        now + SimDuration::from_micros_u64(1 + rng.below(1_000_000)),
                        Payload::Tick(id),
                    );
                }
            }
            divan::black_box(fired)
        });
}
