//! Probe workers (`pkg/kubelet/prober/worker.go`): one per container and probe type, created
//! when the pod is first synced with its volumes ready (`probeManager.AddPod`), ticking every
//! `periodSeconds` from then on. Readiness and startup probes are modelled; a liveness probe
//! always passes for every image behaviour, so it changes nothing and is not run.
//!
//! What a probe answers comes from the image's behaviour: `NeverReady` images fail their
//! readiness probe forever; everything else passes.

use crate::api::pod::Probe;
use crate::time::{SimDuration, SimTime};

/// The probe types the simulator runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum ProbeKind {
    Readiness,
    Startup,
}

impl ProbeKind {
    /// `probeType.String()`, as the `Unhealthy` Event names it.
    pub fn as_str(self) -> &'static str {
        match self {
            ProbeKind::Readiness => "Readiness",
            ProbeKind::Startup => "Startup",
        }
    }
}

/// `results.Result`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProbeResult {
    Unknown,
    Success,
    Failure,
}

/// How the probe reaches the container; only the failure text depends on it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Handler {
    Http,
    Tcp { port: String },
    Grpc,
    Exec,
}

/// What one `doProbe` did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Probed {
    /// `Some(passed)` when the probe ran; `None` when it was skipped (container not
    /// running, initial delay, not started yet).
    pub ran: Option<bool>,
    /// The worker's result moved (a threshold was reached, or a new container reset it).
    pub changed: bool,
}

#[derive(Clone, Debug)]
pub struct ProbeWorker {
    pub kind: ProbeKind,
    /// The ticker's key: its place among the events of an instant (`queue` keyed events).
    pub key: u64,
    pub period: SimDuration,
    pub handler: Handler,
    initial_delay_secs: u64,
    success_threshold: u32,
    failure_threshold: u32,
    /// The container instance (its attempt number) the result belongs to.
    attempt: Option<u32>,
    pub result: ProbeResult,
    last: Option<bool>,
    run: u32,
    /// Parked (`parking.rs`): no tick is queued; when the next would come, and what the
    /// ticks read.
    pub parked: Option<super::parking::Parked>,
}

impl ProbeWorker {
    /// `newWorker`, with the API defaults (`SetDefaults_Probe`) for unset fields; `key`
    /// is the ticker's (see the field).
    pub fn new(kind: ProbeKind, p: &Probe, key: u64) -> Self {
        let handler = if p.http_get.is_some() {
            Handler::Http
        } else if let Some(tcp) = &p.tcp_socket {
            let port = match tcp.get("port") {
                Some(serde_json::Value::String(s)) => s.clone(),
                Some(v) => v.to_string(),
                None => String::new(),
            };
            Handler::Tcp { port }
        } else if p.grpc.is_some() {
            Handler::Grpc
        } else {
            Handler::Exec
        };
        let positive = |v: Option<i32>, default: i32| v.filter(|v| *v > 0).unwrap_or(default);
        ProbeWorker {
            kind,
            key,
            period: SimDuration::from_secs(positive(p.period_seconds, 10) as u64),
            handler,
            initial_delay_secs: p.initial_delay_seconds.unwrap_or(0).max(0) as u64,
            success_threshold: positive(p.success_threshold, 1) as u32,
            failure_threshold: positive(p.failure_threshold, 3) as u32,
            attempt: None,
            result: initial_value(kind),
            last: None,
            run: 0,
            parked: None,
        }
    }

    /// `worker.doProbe` once, at `now`. `running` is the container's start time and attempt
    /// when it runs; `started` whether it passed its startup probe (or has none);
    /// `passes` what the image answers.
    pub fn do_probe(
        &mut self,
        now: SimTime,
        running: Option<(SimTime, u32)>,
        started: bool,
        passes: bool,
    ) -> Probed {
        let skipped = |changed| Probed { ran: None, changed };
        let Some((started_at, attempt)) = running else {
            return skipped(false);
        };
        let mut changed = false;
        if self.attempt != Some(attempt) {
            // A new container: its result starts from the initial value again.
            self.attempt = Some(attempt);
            changed = self.result != initial_value(self.kind);
            self.result = initial_value(self.kind);
        }
        // `int32(time.Since(startedAt).Seconds()) < InitialDelaySeconds`: whole seconds.
        if now.saturating_since(started_at).as_secs() < self.initial_delay_secs {
            return skipped(changed);
        }
        // Startup probes stop once the container has started; the others wait for it.
        if (self.kind == ProbeKind::Startup) == started {
            return skipped(changed);
        }
        if self.last == Some(passes) {
            self.run += 1;
        } else {
            self.last = Some(passes);
            self.run = 1;
        }
        let threshold = if passes {
            self.success_threshold
        } else {
            self.failure_threshold
        };
        if self.run >= threshold {
            let next = if passes {
                ProbeResult::Success
            } else {
                ProbeResult::Failure
            };
            changed |= self.result != next;
            self.result = next;
        }
        Probed {
            ran: Some(passes),
            changed,
        }
    }
}

impl ProbeWorker {
    /// `doProbe` at `now` if it is *quiet* — it records no failure and moves no result,
    /// so the tick has no effect outside this worker — and nothing otherwise (the worker
    /// is left as it was, for the full path to run the same probe). Returns whether it
    /// ran. Exact by construction: the same `do_probe`, undone when not quiet.
    pub fn probe_quietly(
        &mut self,
        now: SimTime,
        running: Option<(SimTime, u32)>,
        started: bool,
        passes: bool,
    ) -> bool {
        let saved = (self.attempt, self.result, self.last, self.run);
        let probed = self.do_probe(now, running, started, passes);
        if probed.ran == Some(false) || probed.changed {
            (self.attempt, self.result, self.last, self.run) = saved;
            return false;
        }
        true
    }
}

impl ProbeWorker {
    /// Whether every later `do_probe` with these same inputs is quiet and leaves the
    /// result as it is (so the worker may be parked): the container is this worker's
    /// instance and past the initial delay at `now`, and either the probe skips (a
    /// startup probe of a started container, a readiness probe waiting for the start) or
    /// it passes with the result already `Success`. Time only moves past the initial
    /// delay, never back before it.
    pub fn settled(
        &self,
        now: SimTime,
        running: Option<(SimTime, u32)>,
        started: bool,
        passes: bool,
    ) -> bool {
        let Some((started_at, attempt)) = running else {
            return false;
        };
        if self.attempt != Some(attempt)
            || now.saturating_since(started_at).as_secs() < self.initial_delay_secs
        {
            return false;
        }
        (self.kind == ProbeKind::Startup) == started
            || (passes && self.result == ProbeResult::Success)
    }
}

/// `worker.initialValue`: readiness starts failed (a pod is not ready before its first
/// success), startup unknown.
fn initial_value(kind: ProbeKind) -> ProbeResult {
    match kind {
        ProbeKind::Readiness => ProbeResult::Failure,
        ProbeKind::Startup => ProbeResult::Unknown,
    }
}

/// The prober's failure output for a probe the container fails (what follows
/// `Readiness probe failed: `): the HTTP, TCP and gRPC probers' own wording; an exec probe
/// prints the command's output, which the model leaves empty.
pub fn failure_output(handler: &Handler, pod_ip: &str, ports: &[(String, i32)]) -> String {
    match handler {
        Handler::Http => "HTTP probe failed with statuscode: 503".into(),
        Handler::Tcp { port } => {
            let port = ports
                .iter()
                .find(|(name, _)| name == port)
                .map_or_else(|| port.clone(), |(_, p)| p.to_string());
            format!("dial tcp {pod_ip}:{port}: connect: connection refused")
        }
        Handler::Grpc => "service unhealthy (responded with \"NOT_SERVING\")".into(),
        Handler::Exec => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: u64) -> SimTime {
        SimTime::ZERO + SimDuration::from_secs(s)
    }

    fn probe(initial: i32, success: i32) -> Probe {
        Probe {
            initial_delay_seconds: Some(initial),
            period_seconds: Some(10),
            success_threshold: Some(success),
            ..Default::default()
        }
    }

    #[test]
    fn initial_delay_counts_whole_seconds_since_start() {
        let mut w = ProbeWorker::new(ProbeKind::Readiness, &probe(5, 1), 0);
        let run = Some((secs(2), 1));
        let just_before = secs(7) - SimDuration::from_nanos(1);
        let skipped = Probed {
            ran: None,
            changed: false,
        };
        assert_eq!(w.do_probe(just_before, run, true, true), skipped);
        let passed = Probed {
            ran: Some(true),
            changed: true,
        };
        assert_eq!(w.do_probe(secs(7), run, true, true), passed);
        assert_eq!(w.result, ProbeResult::Success);
    }

    #[test]
    fn thresholds_and_new_containers() {
        let mut w = ProbeWorker::new(ProbeKind::Readiness, &probe(0, 2), 0);
        let run = Some((secs(0), 1));
        assert!(
            !w.do_probe(secs(1), run, true, true).changed,
            "below threshold"
        );
        assert!(w.do_probe(secs(2), run, true, true).changed);
        assert_eq!(w.result, ProbeResult::Success);
        // A new container that has not started (startup probe pending): readiness is reset
        // to its initial value and waits.
        let reset = w.do_probe(secs(3), Some((secs(3), 2)), false, true);
        assert_eq!(
            reset,
            Probed {
                ran: None,
                changed: true
            }
        );
        assert_eq!(w.result, ProbeResult::Failure);
        assert_eq!(w.do_probe(secs(4), None, false, true).ran, None);
    }

    /// What a worker's observable state is (its counters included).
    fn state(w: &ProbeWorker) -> (Option<u32>, ProbeResult, Option<bool>, u32) {
        (w.attempt, w.result, w.last, w.run)
    }

    #[test]
    fn a_quiet_probe_is_the_full_probe_and_a_loud_one_is_left_to_it() {
        let run = Some((secs(0), 1));
        let mut w = ProbeWorker::new(ProbeKind::Readiness, &probe(0, 2), 0);
        // Below the success threshold: the first success moves nothing, so it is quiet
        // and counts exactly as the full probe would.
        let mut full = w.clone();
        assert!(w.probe_quietly(secs(10), run, true, true));
        full.do_probe(secs(10), run, true, true);
        assert_eq!(state(&w), state(&full));
        // The second success flips the result: not quiet, and nothing was changed, so
        // the full path flips it at this very tick.
        let before = state(&w);
        assert!(!w.probe_quietly(secs(20), run, true, true));
        assert_eq!(state(&w), before);
        assert!(w.do_probe(secs(20), run, true, true).changed);
        assert_eq!(w.result, ProbeResult::Success);
        // Steady: quiet from now on, the result stays.
        assert!(w.probe_quietly(secs(30), run, true, true));
        assert_eq!(w.result, ProbeResult::Success);
        // A failing probe records a failure: never quiet.
        assert!(!w.probe_quietly(secs(40), run, true, false));
        // A new container resets the result: not quiet either.
        assert!(!w.probe_quietly(secs(50), Some((secs(45), 2)), true, true));
        // No container running: the tick skips, quietly.
        assert!(w.probe_quietly(secs(60), None, false, true));
    }

    #[test]
    fn a_settled_worker_ticks_the_same_forever() {
        // Every kind, threshold, initial delay and input, after every prefix of ticks:
        // when `settled` says so, the next ticks with the same inputs stay quiet and
        // leave the result; and it does say so for a steady passing probe.
        let mut settled_seen = 0;
        for kind in [ProbeKind::Readiness, ProbeKind::Startup] {
            for success in 1..=3 {
                for initial in [0, 15] {
                    for started in [false, true] {
                        for passes in [false, true] {
                            let run = Some((secs(3), 1));
                            let mut w = ProbeWorker::new(kind, &probe(initial, success), 0);
                            for tick in 1..8 {
                                let now = secs(10 * tick);
                                w.do_probe(now, run, started, passes);
                                if !w.settled(now, run, started, passes) {
                                    continue;
                                }
                                settled_seen += 1;
                                let result = w.result;
                                let mut later = w.clone();
                                for more in 1..20 {
                                    let probed = later.do_probe(
                                        now + SimDuration::from_secs(10 * more),
                                        run,
                                        started,
                                        passes,
                                    );
                                    assert_ne!(
                                        probed.ran,
                                        Some(false),
                                        "{kind:?} {success} {initial}"
                                    );
                                    assert!(!probed.changed, "{kind:?} {success} {initial}");
                                    assert_eq!(later.result, result);
                                }
                            }
                        }
                    }
                }
            }
        }
        assert!(settled_seen > 50, "settled {settled_seen} times");
        // Passing but still below the success threshold: the next tick moves the result.
        let mut w = ProbeWorker::new(ProbeKind::Readiness, &probe(0, 2), 0);
        let run = Some((secs(0), 1));
        w.do_probe(secs(10), run, true, true);
        assert!(!w.settled(secs(10), run, true, true));
        // Inside the initial delay: the tick after it probes.
        let mut w = ProbeWorker::new(ProbeKind::Readiness, &probe(15, 1), 0);
        w.do_probe(secs(10), run, true, true);
        assert!(!w.settled(secs(10), run, true, true));
    }

    #[test]
    fn failure_texts() {
        let ports = [("redis".to_string(), 6379)];
        let tcp = Handler::Tcp {
            port: "redis".into(),
        };
        assert_eq!(
            failure_output(&tcp, "10.244.0.2", &ports),
            "dial tcp 10.244.0.2:6379: connect: connection refused"
        );
    }
}
