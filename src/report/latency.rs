//! Storage latency distributions of a run, measured from its API writes as a watcher of
//! the API server would see them: attach latency (a VolumeAttachment created → the first
//! write that shows it `status.attached`) and pod start latency of pods that mount claims
//! (the pod created → the first write that shows it Running with every container
//! running: the end point of upstream's pod startup SLI, image pulls included).
//!
//! Percentiles are exact over the recorded samples, by the nearest-rank method: the p-th
//! percentile of n sorted samples is the sample of rank ⌈p·n/100⌉ (1-based), so every
//! figure shown is a latency some object really had. The engine feeds every journal entry
//! to [`LatencyRecorder::on_entry`]; the summary and `result.json` show the result when the
//! run created at least one VolumeAttachment.

use crate::api::{AnyObject, Pod};
use crate::apiserver::{JournalEntry, Verb, WatchEvent};
use crate::time::{SimDuration, SimTime};
use serde::Serialize;
use std::collections::BTreeMap;

/// The percentiles every distribution reports.
pub const PERCENTILES: [u32; 4] = [10, 50, 90, 99];

/// The nearest-rank `p`-th percentile (0 < p ≤ 100) of `sorted` (ascending, not empty):
/// the sample of 1-based rank ⌈p·n/100⌉.
pub fn nearest_rank(sorted: &[SimDuration], p: u32) -> SimDuration {
    assert!(!sorted.is_empty() && (1..=100).contains(&p), "p in 1..=100");
    let n = sorted.len() as u64;
    let rank = (u64::from(p) * n).div_ceil(100).max(1);
    sorted[(rank - 1) as usize]
}

/// A latency distribution: how many samples, and their nearest-rank percentiles.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Distribution {
    /// The samples, ascending.
    pub sorted: Vec<SimDuration>,
    /// Started but not finished by the end of the run, or abandoned (the object was
    /// deleted first); not in the samples.
    pub unfinished: u64,
}

impl Distribution {
    pub fn new(mut samples: Vec<SimDuration>, unfinished: u64) -> Self {
        samples.sort_unstable();
        Distribution {
            sorted: samples,
            unfinished,
        }
    }

    pub fn count(&self) -> usize {
        self.sorted.len()
    }

    /// The samples of several distributions as one.
    pub fn merged<'a>(parts: impl IntoIterator<Item = &'a Distribution>) -> Distribution {
        let (mut samples, mut unfinished) = (Vec::new(), 0);
        for p in parts {
            samples.extend_from_slice(&p.sorted);
            unfinished += p.unfinished;
        }
        Distribution::new(samples, unfinished)
    }

    /// The nearest-rank `p`-th percentile, if there is a sample.
    pub fn percentile(&self, p: u32) -> Option<SimDuration> {
        (!self.sorted.is_empty()).then(|| nearest_rank(&self.sorted, p))
    }

    pub fn min(&self) -> Option<SimDuration> {
        self.sorted.first().copied()
    }

    pub fn max(&self) -> Option<SimDuration> {
        self.sorted.last().copied()
    }

    /// One line for the summary: `300 samples: min 1s, p10 ..., max 31s`.
    pub fn describe(&self) -> String {
        let mut s = format!(
            "{} sample{}",
            self.count(),
            if self.count() == 1 { "" } else { "s" }
        );
        if let (Some(min), Some(max)) = (self.min(), self.max()) {
            s.push_str(&format!(": min {}", to_ms(min)));
            for p in PERCENTILES {
                let v = self.percentile(p).expect("not empty");
                s.push_str(&format!(", p{p} {}", to_ms(v)));
            }
            s.push_str(&format!(", max {}", to_ms(max)));
        }
        if self.unfinished > 0 {
            s.push_str(&format!("; {} unfinished at the end", self.unfinished));
        }
        s
    }

    pub fn to_json(&self) -> DistributionJson {
        let ms = |d: Option<SimDuration>| d.map(|d| d.as_nanos() as f64 / 1e6);
        DistributionJson {
            count: self.count() as u64,
            unfinished: self.unfinished,
            min_ms: ms(self.min()),
            p10_ms: ms(self.percentile(10)),
            p50_ms: ms(self.percentile(50)),
            p90_ms: ms(self.percentile(90)),
            p99_ms: ms(self.percentile(99)),
            max_ms: ms(self.max()),
        }
    }
}

/// Rounded to the millisecond for people (`16.012s`).
pub fn to_ms(d: SimDuration) -> SimDuration {
    SimDuration::from_millis((d.as_nanos() + 500_000) / 1_000_000)
}

/// `result.json`'s form of a distribution (milliseconds; `null` without samples).
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DistributionJson {
    pub count: u64,
    pub unfinished: u64,
    pub min_ms: Option<f64>,
    pub p10_ms: Option<f64>,
    pub p50_ms: Option<f64>,
    pub p90_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    pub max_ms: Option<f64>,
}

/// The storage latencies of a run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StorageLatencies {
    /// VolumeAttachment created → attached.
    pub attach: Distribution,
    /// Pod (with at least one claim) created → Running with every container running.
    pub pod_start: Distribution,
}

impl StorageLatencies {
    /// The summary's lines (two-space indent, as the rest of the summary).
    pub fn render(&self) -> String {
        format!(
            "  storage latency (nearest-rank percentiles):\n    attach (VolumeAttachment created → attached): {}\n    pod start (pod with claims created → running): {}\n",
            self.attach.describe(),
            self.pod_start.describe()
        )
    }

    pub fn to_json(&self) -> StorageLatenciesJson {
        StorageLatenciesJson {
            percentile_method: "nearest-rank",
            attach: self.attach.to_json(),
            pod_start: self.pod_start.to_json(),
        }
    }
}

/// `result.json`'s `storageLatency`.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StorageLatenciesJson {
    pub percentile_method: &'static str,
    pub attach: DistributionJson,
    pub pod_start: DistributionJson,
}

/// Creation → the first write that shows an object in a wanted state, per object (by
/// uid), grouped by `G`. An object deleted before it got there, or still waiting at the
/// end, is unfinished.
#[derive(Debug)]
pub struct FirstTransitions<G> {
    open: BTreeMap<String, (SimTime, G)>,
    samples: BTreeMap<G, Vec<SimDuration>>,
    unfinished: BTreeMap<G, u64>,
}

impl<G> Default for FirstTransitions<G> {
    fn default() -> Self {
        FirstTransitions {
            open: BTreeMap::new(),
            samples: BTreeMap::new(),
            unfinished: BTreeMap::new(),
        }
    }
}

impl<G: Ord + Clone> FirstTransitions<G> {
    /// One write of the object `uid`; `reached`: the write shows the wanted state.
    pub fn observe(&mut self, w: &WatchEvent, uid: &str, group: G, reached: bool) {
        if w.verb == Verb::Create && !w.removed {
            if reached {
                self.samples
                    .entry(group)
                    .or_default()
                    .push(SimDuration::ZERO);
            } else {
                self.open.insert(uid.to_string(), (w.at, group));
            }
        } else if w.removed {
            if let Some((_, g)) = self.open.remove(uid) {
                *self.unfinished.entry(g).or_default() += 1;
            }
        } else if reached && let Some((created, g)) = self.open.remove(uid) {
            self.samples
                .entry(g)
                .or_default()
                .push(w.at.saturating_since(created));
        }
    }

    /// The distribution of each group that saw an object.
    pub fn finish(mut self) -> BTreeMap<G, Distribution> {
        for (_, g) in std::mem::take(&mut self.open).into_values() {
            *self.unfinished.entry(g).or_default() += 1;
        }
        let mut groups: Vec<G> = self.samples.keys().cloned().collect();
        groups.extend(self.unfinished.keys().cloned());
        groups.sort();
        groups.dedup();
        groups
            .into_iter()
            .map(|g| {
                let samples = self.samples.remove(&g).unwrap_or_default();
                let unfinished = self.unfinished.get(&g).copied().unwrap_or(0);
                (g, Distribution::new(samples, unfinished))
            })
            .collect()
    }
}

/// Collects the samples while the run goes (fed every journal entry, in order).
#[derive(Default)]
pub struct LatencyRecorder {
    attach: FirstTransitions<()>,
    attachments_created: u64,
    /// Pods with at least one claim (a pod's volumes never change, so every write of such
    /// a pod is one).
    pod_start: FirstTransitions<()>,
}

impl LatencyRecorder {
    pub fn on_entry(&mut self, entry: &JournalEntry) {
        let JournalEntry::Write(w) = entry else {
            return;
        };
        match &w.obj {
            AnyObject::VolumeAttachment(va) => {
                if w.verb == Verb::Create && !w.removed {
                    self.attachments_created += 1;
                }
                self.attach
                    .observe(w, &va.metadata.uid, (), va.status.attached);
            }
            AnyObject::Pod(pod) if pod.claim_names().next().is_some() => {
                self.pod_start
                    .observe(w, &pod.metadata.uid, (), started(pod));
            }
            _ => {}
        }
    }

    /// The distributions, if the run created any VolumeAttachment.
    pub fn finish(self) -> Option<StorageLatencies> {
        if self.attachments_created == 0 {
            return None;
        }
        let only = |d: FirstTransitions<()>| d.finish().remove(&()).unwrap_or_default();
        Some(StorageLatencies {
            attach: only(self.attach),
            pod_start: only(self.pod_start),
        })
    }
}

/// Running, with every container running.
fn started(pod: &Pod) -> bool {
    pod.status.phase == crate::api::pod::phase::RUNNING
        && !pod.status.container_statuses.is_empty()
        && pod.status.container_statuses.len() >= pod.spec.containers.len()
        && pod
            .status
            .container_statuses
            .iter()
            .all(|c| c.state.running.is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(v: &[u64]) -> Vec<SimDuration> {
        v.iter().map(|&x| SimDuration::from_millis(x)).collect()
    }

    #[test]
    fn nearest_rank_picks_the_sample_of_rank_ceil_p_n_over_100() {
        // n = 10: p10 → rank 1, p50 → rank 5, p90 → rank 9, p99 → rank 10.
        let s = ms(&[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
        let got: Vec<u64> = [10, 50, 90, 99, 100]
            .iter()
            .map(|&p| nearest_rank(&s, p).as_millis())
            .collect();
        assert_eq!(got, [1, 5, 9, 10, 10]);
        // n = 1: every percentile is the sample.
        assert_eq!(nearest_rank(&ms(&[7]), 1).as_millis(), 7);
        assert_eq!(nearest_rank(&ms(&[7]), 99).as_millis(), 7);
        // n = 300: p10 → rank 30, p50 → 150, p90 → 270, p99 → 297.
        let s: Vec<SimDuration> = (1..=300).map(SimDuration::from_millis).collect();
        let got: Vec<u64> = PERCENTILES
            .iter()
            .map(|&p| nearest_rank(&s, p).as_millis())
            .collect();
        assert_eq!(got, [30, 150, 270, 297]);
    }

    #[test]
    fn describe_rounds_to_milliseconds_and_counts_unfinished() {
        let d = Distribution::new(
            vec![
                SimDuration::from_micros_u64(2_010_400),
                SimDuration::from_millis(500),
            ],
            3,
        );
        assert_eq!(
            d.describe(),
            "2 samples: min 500ms, p10 500ms, p50 500ms, p90 2.01s, p99 2.01s, max 2.01s; 3 unfinished at the end"
        );
        let empty = Distribution::new(Vec::new(), 0);
        assert_eq!(empty.describe(), "0 samples");
        assert_eq!(empty.to_json().p50_ms, None);
        assert_eq!(d.to_json().max_ms, Some(2010.4));
    }
}
