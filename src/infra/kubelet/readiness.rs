//! Container readiness as the probe manager reports it (`pkg/kubelet/prober/prober_manager.go`):
//! the pod worker's probe workers are created with the sandbox (`AddPod`), tick every
//! period, run once more whenever a sync finds a started container not ready yet
//! (`UpdatePodStatus`), and a changed result makes the pod sync (`handleProbeSync`).

use super::events::{self, record};
use super::node_kubelet::NodeEnv;
use super::parking::{Parked, ProbeInputs, QuietTick};
use super::pod_worker::{PodWorker, Stage};
use super::prober::{ProbeKind, ProbeResult, ProbeWorker, Probed, failure_output};
use super::{KCtx, KubeletTimer};
use crate::apiserver::EventType;
use crate::scenario::ImageBehavior;
use std::rc::Rc;

impl PodWorker {
    /// `probeManager.AddPod`: one worker per readiness and startup probe, ticking every
    /// period from now (the first tick at creation finds no container running yet).
    pub fn add_probe_workers(&mut self, env: &NodeEnv, ctx: &mut KCtx<'_>) {
        let pod = Rc::clone(&self.pod);
        for (idx, c) in pod.spec.containers.iter().enumerate() {
            let probes = [
                (ProbeKind::Readiness, &c.readiness_probe),
                (ProbeKind::Startup, &c.startup_probe),
            ];
            for (kind, probe) in probes {
                if let Some(p) = probe {
                    let key = env.parking.borrow_mut().next_key();
                    let w = ProbeWorker::new(kind, p, key);
                    ctx.after(
                        w.period,
                        KubeletTimer::Probe {
                            pod: self.timer(env),
                            container: idx as u32,
                            kind,
                            ticker: key,
                        },
                    );
                    self.probes[idx].push(w);
                }
            }
        }
    }

    /// A probe worker's ticker fired: probe, tick again a period later, and sync if the
    /// result moved (`handleProbeSync`).
    pub fn on_probe(&mut self, idx: usize, kind: ProbeKind, env: &mut NodeEnv, ctx: &mut KCtx<'_>) {
        if self.stage != Stage::Running {
            return;
        }
        let Some(k) = self.probes[idx].iter().position(|w| w.kind == kind) else {
            return;
        };
        let (period, ticker) = (self.probes[idx][k].period, self.probes[idx][k].key);
        let pod = self.timer(env);
        ctx.after(
            period,
            KubeletTimer::Probe {
                pod,
                container: idx as u32,
                kind,
                ticker,
            },
        );
        if self.run_probe(idx, k, env, ctx).changed {
            self.sync(env, ctx);
        }
    }

    /// The probe tick of [`PodWorker::on_probe`] when it has no effect but the worker's
    /// own counters and the re-arm: `Again(period)` — probed, tick again a period from
    /// now; `Stopped` — the worker is not running, the ticker stops; `Parked` — probed,
    /// and (with `park`) parked, its ticks changing nothing while what they read stays
    /// (`parking.rs`); `None` — the tick records a failure or moves a result, so the full
    /// path must run (nothing was changed). The engine then skips the event's general
    /// machinery (`sim` quiet ticks).
    pub fn quiet_probe(
        &mut self,
        idx: usize,
        kind: ProbeKind,
        now: crate::time::SimTime,
        park: bool,
    ) -> Option<QuietTick> {
        if self.stage != Stage::Running {
            return Some(QuietTick::Stopped);
        }
        let Some(k) = self.probes[idx].iter().position(|w| w.kind == kind) else {
            return Some(QuietTick::Stopped);
        };
        let inputs = self.probe_inputs(idx, kind);
        let w = &mut self.probes[idx][k];
        if !w.probe_quietly(now, inputs.running, inputs.started, inputs.passes) {
            return None;
        }
        if park && w.settled(now, inputs.running, inputs.started, inputs.passes) {
            w.parked = Some(Parked {
                next: now + w.period,
                inputs,
                result: w.result,
            });
            self.parked_probes += 1;
            return Some(QuietTick::Parked);
        }
        Some(QuietTick::Again(w.period))
    }

    /// What a tick of container `idx`'s `kind` probe reads.
    pub(super) fn probe_inputs(&self, idx: usize, kind: ProbeKind) -> ProbeInputs {
        ProbeInputs {
            generation: self.generation,
            pod_running: self.stage == Stage::Running,
            running: self.containers[idx].running(),
            started: self.started(idx),
            passes: !(kind == ProbeKind::Readiness
                && self.containers[idx].behavior == ImageBehavior::NeverReady),
        }
    }

    /// One `doProbe` of probe `k` of container `idx`, with the `Unhealthy` Event on failure.
    fn run_probe(&mut self, idx: usize, k: usize, env: &NodeEnv, ctx: &mut KCtx<'_>) -> Probed {
        let kind = self.probes[idx][k].kind;
        let ProbeInputs {
            running,
            started,
            passes,
            ..
        } = self.probe_inputs(idx, kind);
        let probed = self.probes[idx][k].do_probe(ctx.now, running, started, passes);
        if probed.ran == Some(false) {
            let spec = &self.pod.spec.containers[idx];
            let ports: Vec<(String, i32)> = spec
                .ports
                .iter()
                .map(|p| (p.name.clone(), p.container_port))
                .collect();
            let ip = self.pod_ip.as_deref().unwrap_or("");
            let output = failure_output(&self.probes[idx][k].handler, ip, &ports);
            let text = events::probe_failed(kind.as_str(), &output);
            let pod = Rc::clone(&self.pod);
            record(env, ctx, &pod, EventType::Warning, events::UNHEALTHY, text);
        }
        probed
    }

    /// `probeManager.UpdatePodStatus`: a started container whose readiness probe has not
    /// succeeded yet gets an immediate probe run (its ticker keeps its phase).
    pub fn update_probe_status(&mut self, env: &NodeEnv, ctx: &mut KCtx<'_>) {
        for idx in 0..self.containers.len() {
            if !self.started(idx) {
                continue;
            }
            let pending = self.probes[idx]
                .iter()
                .position(|w| w.kind == ProbeKind::Readiness && w.result != ProbeResult::Success);
            if let Some(k) = pending {
                self.run_probe(idx, k, env, ctx);
            }
        }
    }

    fn probe_result(&self, idx: usize, kind: ProbeKind) -> Option<ProbeResult> {
        self.probes[idx]
            .iter()
            .find(|w| w.kind == kind)
            .map(|w| w.result)
    }

    /// Running, and past its startup probe if it has one.
    pub fn started(&self, idx: usize) -> bool {
        self.containers[idx].running().is_some()
            && self
                .probe_result(idx, ProbeKind::Startup)
                .is_none_or(|r| r == ProbeResult::Success)
    }

    /// Started, and past its readiness probe if it has one.
    pub fn ready(&self, idx: usize) -> bool {
        self.started(idx)
            && self
                .probe_result(idx, ProbeKind::Readiness)
                .is_none_or(|r| r == ProbeResult::Success)
    }
}
