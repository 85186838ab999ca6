//! The engine: owns the API server, the components and the event queue, and is the only
//! dispatcher. One run is single-threaded and deterministic: the same scenario and seed
//! give the same sequence of events, writes and trace bytes.

mod app_notes;
mod apps;
mod events;
mod node_faults;
mod result;
mod setup;

pub use events::{Reader, SimEvent};
pub use result::{RunResult, RunSummaryCounts, StopReason};

use crate::apiserver::{Actor, ApiServer, JournalEntry};
use crate::component::{Ctx, Note};
use crate::control::ControlTimer;
use crate::control::manager::ControllerManager;
use crate::control::scheduler::Scheduler;
use crate::infra::csi::{CsiDrivers, CsiTimer};
use crate::infra::kubelet::{KubeletTimer, NodeAgents, QuietTick};
use crate::queue::EventQueue;
use crate::report::timeline::TimelineLine;
use crate::rng::SimRng;
use crate::scenario::Scenario;
use crate::time::{SimDuration, SimTime};
use crate::trace::TraceWriter;

/// Limits that end a run with a stated reason instead of running away.
#[derive(Clone, Debug)]
pub struct Budgets {
    /// End of simulated time (the scenario's duration unless overridden).
    pub until: SimDuration,
    /// Most events one run may process.
    pub max_events: u64,
}

/// Options of one run.
pub struct RunOptions {
    pub seed: u64,
    pub budgets: Budgets,
    /// Where trace lines go; `None` discards them.
    pub trace: Option<Box<dyn std::io::Write>>,
    /// Keep the human timeline in memory (for printing and `timeline.txt`).
    pub keep_timeline: bool,
    /// Kubelets leave pods alone: the caller drives pod phases through [`Simulation::act`]
    /// (the "manual kubelet" of upstream's controller tests). Nodes are still registered.
    pub manual_kubelets: bool,
    /// Trace heartbeat-level writes too (node Lease renewals, node status posts that
    /// change no condition); left out by default (see `trace::is_heartbeat`).
    pub trace_heartbeats: bool,
}

impl RunOptions {
    /// The scenario's own seed and duration, no trace, timeline kept.
    pub fn for_scenario(scenario: &Scenario) -> Self {
        RunOptions {
            seed: scenario.seed,
            budgets: Budgets {
                until: scenario.duration,
                max_events: 50_000_000,
            },
            trace: None,
            keep_timeline: true,
            manual_kubelets: false,
            trace_heartbeats: false,
        }
    }
}

pub struct Simulation {
    scenario: Scenario,
    queue: EventQueue<SimEvent>,
    api: ApiServer,
    manager: ControllerManager,
    manager_rng: SimRng,
    scheduler: Scheduler,
    scheduler_rng: SimRng,
    nodes: NodeAgents,
    nodes_rng: SimRng,
    csi: CsiDrivers,
    csi_rng: SimRng,
    kubectl: Actor,
    kubectl_rng: SimRng,
    /// Operator commands still running (drains).
    operator: crate::operator::Operator,
    /// Faults in force now.
    faults: crate::infra::faults::ActiveFaults,
    /// Who reaches whom (`infra::network`), under the network faults in force.
    network: crate::infra::network::Network,
    /// The applications in the pods (`spec.apps`).
    apps: crate::infra::apps::Apps,
    /// `apiServerOutage` faults in force.
    api_outages: u32,
    /// Per reader: whether a delivery event is already queued.
    delivery_pending: [bool; Reader::COUNT],
    /// Per controller: whether a work event is already queued.
    work_pending: Vec<bool>,
    /// Whether the controller manager's work queues may have changed since
    /// `schedule_busy_work` last looked: only its own events (a delivery, a sync, a
    /// delayed add coming due) change them, so the look after a kubelet's heartbeat or
    /// probe tick, most events, is skipped.
    queues_touched: bool,
    /// Journal index up to which new writes have been noticed and traced.
    seen: u64,
    trace: TraceWriter,
    timeline: Option<Vec<TimelineLine>>,
    notes: Vec<Note>,
    counts: RunSummaryCounts,
    budgets: Budgets,
    seed: u64,
    /// The simulated clock: the time of the last event, or later if the caller ran the
    /// clock forward past a quiet stretch.
    clock: SimTime,
    /// Set once a budget ends the run.
    stopped: Option<StopReason>,
    /// Invariants checked after every event.
    checks: crate::check::Checks,
    /// Storage latency samples (attach, pod start) for the summary and `result.json`.
    latency: crate::report::latency::LatencyRecorder,
    slis: crate::sli::SliRecorder,
    /// Probe ticks with no effect outside their probe worker are done in place (see
    /// `run_until`); off only in tests that compare both paths.
    quiet_ticks: bool,
    /// How many ticks took that path, and how many of them parked their probe worker
    /// (`kubelet::parking`).
    quiet_done: u64,
    parked: u64,
    /// Every event due at or before the clock has run (`run_until` reached its end);
    /// otherwise the queue's last popped event is where the run stands.
    drained: bool,
    /// The timer lists `dispatch` hands the components, kept empty between events so that
    /// an event asking for a timer (most do: every heartbeat, resync and requeue re-arms
    /// one) does not allocate a list and free it again.
    timer_bufs: TimerBufs,
}

/// Empty timer lists with room, one per kind of component timer (see `dispatch`).
#[derive(Default)]
struct TimerBufs {
    control: Vec<(SimTime, ControlTimer)>,
    kubelet: Vec<(SimTime, KubeletTimer)>,
    csi: Vec<(SimTime, CsiTimer)>,
    /// Parked probe tickers given back, as keyed events (`NodeAgents::release_parked`).
    released: Vec<(SimTime, u64, KubeletTimer)>,
}

impl Simulation {
    /// Builds the cluster of `scenario` at time zero (nodes registered, manifests applied,
    /// actions scheduled). Nothing runs until [`Simulation::run`].
    pub fn new(scenario: &Scenario, opts: RunOptions) -> Self {
        setup::build(scenario, opts)
    }

    /// Runs to the end of simulated time or until a budget is spent.
    pub fn run(mut self) -> RunResult {
        let end = SimTime::ZERO + self.budgets.until;
        self.run_until(end);
        self.into_result()
    }

    /// Processes every event due at or before `t`, then sets the clock to `t`. Stops early
    /// if the event budget is spent (see [`Simulation::stopped`]).
    pub fn run_until(&mut self, t: SimTime) {
        while self.stopped.is_none() {
            if self.counts.events >= self.budgets.max_events {
                self.stopped = Some(StopReason::EventBudget {
                    max_events: self.budgets.max_events,
                });
                return;
            }
            // Nothing left to happen by `t`: the cluster stays as it is.
            let Some((now, _, ev)) = self.queue.pop_due(t) else {
                break;
            };
            // Every instant before this one has ended: quiet points before it are judged
            // (whatever events there were, `check::status`).
            self.checks.before_event(now, &self.api);
            self.clock = now;
            self.drained = false;
            self.counts.events += 1;
            // A probe tick that changes nothing outside its probe worker: done in place,
            // the very timer re-armed (the one event the full path would schedule, with
            // the same key, so every later event keeps its order) — or not re-armed at
            // all while the worker is parked.
            if self.quiet_ticks
                && let SimEvent::Kubelet(t) = &ev
                && let Some(tick) = self.nodes.quiet_probe(t, now)
            {
                self.quiet_done += 1;
                match tick {
                    QuietTick::Again(period) => {
                        // `ev` is this kubelet timer (the `let` above).
                        if let SimEvent::Kubelet(timer) = ev {
                            events::schedule_kubelet(&mut self.queue, now + period, timer);
                        }
                    }
                    QuietTick::Parked => self.parked += 1,
                    QuietTick::Stopped => {}
                }
                self.schedule_busy_work(now);
                self.after_event(now);
                continue;
            }
            self.dispatch(now, ev);
            self.after_event(now);
        }
        if self.stopped.is_none() {
            self.clock = self.clock.max(t);
            self.drained = true;
        }
    }

    /// Runs the clock forward by `d`.
    pub fn run_for(&mut self, d: SimDuration) {
        let t = self.clock + d;
        self.run_until(t);
    }

    /// The simulated clock.
    pub fn now(&self) -> SimTime {
        self.clock
    }

    /// Why the run stopped early, if a budget was spent.
    pub fn stopped(&self) -> Option<&StopReason> {
        self.stopped.as_ref()
    }

    /// A consistent read of the cluster's API objects.
    pub fn api(&self) -> &ApiServer {
        &self.api
    }

    /// Acts on the cluster as `actor` at the current instant (a test driving pod phases, an
    /// operator tool); the writes are traced and delivered like any other.
    pub fn act<R>(
        &mut self,
        actor: &Actor,
        f: impl FnOnce(&mut crate::apiserver::ApiClient<'_>) -> R,
    ) -> R {
        let now = self.clock;
        self.before_hook();
        let mut client = crate::apiserver::ApiClient::new(&mut self.api, actor, now);
        let r = f(&mut client);
        self.after_event(now);
        r
    }

    /// Invariant violations found so far.
    pub fn findings(&self) -> &[crate::check::Finding] {
        self.checks.findings()
    }

    /// Test hook: the first running container of pod `key` crashes now and its kubelet
    /// restarts it under the crash-loop back-off (see `NodeAgents::fail_container`).
    /// Returns false if no kubelet runs a container of that pod.
    pub fn fail_container(&mut self, key: &crate::api::ObjectKey) -> bool {
        let now = self.clock;
        self.before_hook();
        let mut timers: Vec<(SimTime, KubeletTimer)> = Vec::new();
        let mut ctx = Ctx::new(
            now,
            &mut self.api,
            &mut self.nodes_rng,
            &mut timers,
            &mut self.notes,
        );
        let failed = self.nodes.fail_container(key, &mut ctx);
        for (at, t) in timers {
            events::schedule_kubelet(&mut self.queue, at, t);
        }
        self.after_event(now);
        failed
    }

    /// Test hook: whether probe ticks that change nothing outside their probe worker are
    /// done in place (the default) or dispatched like any other event. Either way the run
    /// is the same, byte for byte; tests compare the two.
    pub fn set_quiet_ticks(&mut self, on: bool) {
        self.quiet_ticks = on;
    }

    /// How many probe ticks were done in place so far.
    pub fn quiet_ticks(&self) -> u64 {
        self.quiet_done
    }

    /// Test hook, before the run: whether quiet probe ticks may park their probe worker
    /// (the default) or re-arm it at every tick (`kubelet::parking`). Either way the run
    /// is the same, byte for byte; tests compare the two.
    pub fn set_park_tickers(&mut self, on: bool) {
        self.nodes.set_park_tickers(on);
    }

    /// How many times a quiet probe tick parked its probe worker so far.
    pub fn parked_tickers(&self) -> u64 {
        self.parked
    }

    /// Test hook: node `name`'s kubelet stops renewing its Lease and posting node status
    /// (its pods keep running). Returns false if there is no such node.
    pub fn stop_heartbeats(&mut self, name: &str) -> bool {
        self.nodes.stop_heartbeats(name)
    }

    /// Test hook: these nodes cannot reach the API server from now on (their requests
    /// fail, see `apiserver::Reachability`), until the next network fault starts or ends
    /// and the network model's verdict replaces this set. The kubelets are not told (use a
    /// `netPartition` fault for the whole partition behaviour).
    pub fn set_cut_hosts(&mut self, hosts: std::collections::BTreeSet<String>) {
        self.api.set_cut_hosts(hosts);
    }

    /// The pod instances with a live container process right now, as (node, namespace/name,
    /// uid), in node order.
    pub fn live_instances(&self) -> Vec<(String, String, String)> {
        self.nodes
            .running_pods()
            .map(|l| (l.node.to_string(), l.pod.to_string(), l.uid.to_string()))
            .collect()
    }

    /// Whether the kubelet of node `name` runs, is stopped, or its machine is off.
    pub fn kubelet_state(&self, name: &str) -> Option<crate::infra::kubelet::KubeletState> {
        self.nodes.kubelet_state(name)
    }

    /// Ends the run here and builds its result.
    pub fn into_result(mut self) -> RunResult {
        let stop = self.stopped.take().unwrap_or(StopReason::EndOfTime);
        let at = self.clock;
        self.finish(stop, at)
    }

    fn dispatch(&mut self, now: SimTime, ev: SimEvent) {
        match ev {
            SimEvent::Deliver(Reader::ControllerManager) => {
                self.queues_touched = true;
                self.delivery_pending[Reader::ControllerManager as usize] = false;
                let next = self
                    .manager
                    .deliver(&self.api, now, &mut self.timer_bufs.control);
                self.redeliver(Reader::ControllerManager, next);
            }
            SimEvent::Deliver(Reader::Scheduler) => {
                self.delivery_pending[Reader::Scheduler as usize] = false;
                let next = self.scheduler.deliver(&self.api, now);
                self.redeliver(Reader::Scheduler, next);
                let mut ctx = Ctx::new(
                    now,
                    &mut self.api,
                    &mut self.scheduler_rng,
                    &mut self.timer_bufs.control,
                    &mut self.notes,
                );
                self.scheduler.run(&mut ctx);
            }
            SimEvent::Deliver(Reader::NodeAgents) => {
                self.delivery_pending[Reader::NodeAgents as usize] = false;
                let mut ctx = Ctx::new(
                    now,
                    &mut self.api,
                    &mut self.nodes_rng,
                    &mut self.timer_bufs.kubelet,
                    &mut self.notes,
                );
                let next = self.nodes.deliver(&mut ctx);
                self.redeliver(Reader::NodeAgents, next);
            }
            SimEvent::Deliver(Reader::Csi) => {
                self.delivery_pending[Reader::Csi as usize] = false;
                let mut ctx = Ctx::new(
                    now,
                    &mut self.api,
                    &mut self.csi_rng,
                    &mut self.timer_bufs.csi,
                    &mut self.notes,
                );
                let next = self.csi.deliver(&mut ctx, &self.faults);
                self.redeliver(Reader::Csi, next);
            }
            SimEvent::Csi(t) => {
                let mut ctx = Ctx::new(
                    now,
                    &mut self.api,
                    &mut self.csi_rng,
                    &mut self.timer_bufs.csi,
                    &mut self.notes,
                );
                self.csi.on_timer(t, &mut ctx, &self.faults);
            }
            SimEvent::ControllerWork(i) => {
                self.queues_touched = true;
                self.work_pending[i] = false;
                let mut ctx = Ctx::new(
                    now,
                    &mut self.api,
                    &mut self.manager_rng,
                    &mut self.timer_bufs.control,
                    &mut self.notes,
                );
                self.manager.work(i, &mut ctx);
            }
            SimEvent::Control(ControlTimer::Requeue { controller, key }) => {
                self.queues_touched = true;
                self.manager.requeue(controller, key)
            }
            SimEvent::Control(ControlTimer::Scheduler) => {
                let mut ctx = Ctx::new(
                    now,
                    &mut self.api,
                    &mut self.scheduler_rng,
                    &mut self.timer_bufs.control,
                    &mut self.notes,
                );
                self.scheduler.run(&mut ctx);
            }
            SimEvent::Kubelet(t) => {
                let mut ctx = Ctx::new(
                    now,
                    &mut self.api,
                    &mut self.nodes_rng,
                    &mut self.timer_bufs.kubelet,
                    &mut self.notes,
                );
                self.nodes.on_timer(t, &mut ctx);
            }
            SimEvent::App(t) => {
                for (at, t) in self.apps.on_timer(now, t, &mut self.network) {
                    self.queue.schedule(at, SimEvent::App(t));
                }
            }
            SimEvent::NodePowerOff { node } => self.power_off_node(node),
            SimEvent::Action(i) => self.run_action(now, i),
            SimEvent::Operator(t) => self.run_operator(now, t),
            SimEvent::Fault { index, start } => {
                self.run_fault(now, index, start);
                let fault = self.scenario.faults[index].fault.clone();
                // `apply_node_fault` takes `&mut self`: its timers come in a list of
                // their own (the kubelet list is empty before it, so the order is kept).
                let mut fault_timers = Vec::new();
                self.apply_node_fault(now, index, &fault, start, &mut fault_timers);
                self.timer_bufs.kubelet.append(&mut fault_timers);
                let mut ctx = Ctx::new(
                    now,
                    &mut self.api,
                    &mut self.csi_rng,
                    &mut self.timer_bufs.csi,
                    &mut self.notes,
                );
                self.csi.on_fault(&fault, start, &mut ctx, &self.faults);
            }
        }
        // In the order asked (their sequence numbers follow it); an empty list is not
        // drained (most events ask for no timer of a given kind).
        if !self.timer_bufs.control.is_empty() {
            for (at, t) in self.timer_bufs.control.drain(..) {
                self.queue.schedule(at, SimEvent::Control(t));
            }
        }
        if !self.timer_bufs.kubelet.is_empty() {
            for (at, t) in self.timer_bufs.kubelet.drain(..) {
                events::schedule_kubelet(&mut self.queue, at, t);
            }
        }
        if !self.timer_bufs.csi.is_empty() {
            for (at, t) in self.timer_bufs.csi.drain(..) {
                self.queue.schedule(at, SimEvent::Csi(t));
            }
        }
        self.schedule_busy_work(now);
    }

    /// Queues a work event for every controller with keys waiting and none queued.
    fn schedule_busy_work(&mut self, now: SimTime) {
        if !std::mem::take(&mut self.queues_touched) {
            return;
        }
        // Disjoint fields: no copy of the busy list is needed.
        for i in self.manager.busy() {
            if !self.work_pending[i] {
                self.work_pending[i] = true;
                self.queue
                    .schedule_in_lane(now, SimEvent::ControllerWork(i));
            }
        }
    }

    fn redeliver(&mut self, reader: Reader, next: Option<SimTime>) {
        if let Some(at) = next {
            self.delivery_pending[reader as usize] = true;
            self.queue.schedule(at, SimEvent::Deliver(reader));
        }
    }

    /// Notices writes made by the event just handled: traces them, records Events on the
    /// timeline, and makes sure every informer gets a delivery for them.
    fn after_event(&mut self, now: SimTime) {
        if self.nodes.has_parked_to_release() {
            self.release_parked();
        }
        let end = self.api.journal_end();
        if end > self.seen {
            for i in self.seen..end {
                let entry = self.api.journal_entry(i).expect("unseen entries are kept");
                self.trace.entry(entry);
                self.counts.count(entry);
                // A node Lease renewal, most writes of a steady cluster: no check, latency,
                // SLI or application model looks at Leases.
                if let JournalEntry::Write(w) = entry
                    && w.lease_renewal.is_some()
                {
                    continue;
                }
                self.checks.on_entry(entry, &self.api);
                self.latency.on_entry(entry);
                self.slis.on_entry(entry);
                if let JournalEntry::Write(w) = entry {
                    self.apps.on_write(w);
                }
                if let (Some(tl), JournalEntry::Event { at, event }) =
                    (self.timeline.as_mut(), entry)
                {
                    tl.push(TimelineLine::from_event(*at, event));
                }
            }
            self.seen = end;
            for reader in Reader::ALL {
                let api = &self.api;
                let informer = match reader {
                    Reader::ControllerManager => &mut self.manager.informer,
                    Reader::Scheduler => &mut self.scheduler.informer,
                    Reader::NodeAgents => &mut self.nodes.informer,
                    Reader::Csi => &mut self.csi.informer,
                };
                informer.skip_ignored(api);
                if !informer.is_behind(api) {
                    continue;
                }
                if !self.delivery_pending[reader as usize] {
                    self.delivery_pending[reader as usize] = true;
                    let delay = self.reader_delay(reader);
                    // A fixed watch delay per reader: a queue lane keeps these in order.
                    self.queue
                        .schedule_in_lane(now + delay, SimEvent::Deliver(reader));
                }
            }
            let min_cursor = [
                self.manager.informer.cursor(),
                self.scheduler.informer.cursor(),
                self.nodes.informer.cursor(),
                self.csi.informer.cursor(),
                self.seen,
            ]
            .into_iter()
            .min()
            .expect("five cursors");
            self.api.compact_journal(min_cursor);
        }
        // Most events lose no disk and change no attachment: nothing to drain and drop.
        if self.csi.cloud.has_gone() {
            let gone = self.csi.cloud.drain_gone();
            self.checks.on_disks_gone(now, &gone, &self.api);
            let lost = gone
                .iter()
                .filter(|g| g.cause == crate::infra::csi::cloud::GoneCause::Lost)
                .map(|g| g.name.as_str());
            self.nodes.on_disks_lost(lost.clone());
            self.apps.on_disks_lost(&lost.map(str::to_string).collect());
        }
        if self.csi.attacher.has_changes() {
            let attachment_changes = self.csi.attacher.drain_changes();
            self.checks
                .on_attachments(now, &attachment_changes, &self.csi.cloud, &self.nodes);
        }
        if self.apps.is_empty() {
            if self.nodes.has_live_changes() {
                let live_changes = self.nodes.drain_live_changes();
                self.checks.after_event(now, live_changes);
            }
        } else {
            let live_changes: Vec<_> = self.nodes.drain_live_changes().collect();
            self.follow_apps(now, &live_changes);
            self.checks.after_event(now, live_changes.into_iter());
        }
        if self.notes.is_empty() {
            // Most events note nothing: no drain to set up and drop.
            return;
        }
        for note in self.notes.drain(..) {
            self.trace.note(&note);
            if let Some(tl) = self.timeline.as_mut() {
                tl.push(TimelineLine {
                    at: note.at,
                    type_: "Note".into(),
                    reason: note.source.clone(),
                    object: note.object.clone(),
                    message: note.message.clone(),
                });
            }
        }
    }

    /// A test hook acts between events, after the last one run (all of its instant's
    /// when `run_until` reached its end): what `run_until` does before an event.
    fn before_hook(&mut self) {
        if self.drained {
            self.checks.instant_ended(self.clock, &self.api);
        } else {
            self.checks.before_event(self.clock, &self.api);
        }
    }

    /// The parked probe tickers the event moved come back, each at the tick it would have
    /// had next after the event just run (`NodeAgents::release_parked`).
    fn release_parked(&mut self) {
        let after = if self.drained {
            (self.clock, u64::MAX)
        } else {
            self.queue.last_popped()
        };
        let mut released = std::mem::take(&mut self.timer_bufs.released);
        self.nodes.release_parked(after, &mut released);
        for (at, key, t) in released.drain(..) {
            self.queue.schedule_keyed(at, key, SimEvent::Kubelet(t));
        }
        self.timer_bufs.released = released;
    }

    fn reader_delay(&self, reader: Reader) -> SimDuration {
        match reader {
            Reader::ControllerManager => self.manager.informer.delay,
            Reader::Scheduler => self.scheduler.informer.delay,
            Reader::NodeAgents => self.nodes.informer.delay,
            Reader::Csi => self.csi.informer.delay,
        }
    }

    fn run_fault(&mut self, now: SimTime, index: usize, start: bool) {
        let fault = self.scenario.faults[index].clone();
        if start {
            self.faults.start(index, fault.fault.clone());
            self.slis.on_fault(now, &fault.text);
        } else {
            self.faults.end(index);
        }
        self.counts.faults += u64::from(start);
        self.trace
            .fault(now, fault.fault.kind_name(), start, &fault.text);
        if let Some(tl) = self.timeline.as_mut() {
            tl.push(TimelineLine {
                at: now,
                type_: "Fault".into(),
                reason: fault.fault.kind_name().into(),
                object: String::new(),
                message: if start {
                    format!("{} begins", fault.text)
                } else {
                    format!("{} ends", fault.text)
                },
            });
        }
    }

    /// A step of a running operator command (a drain's eviction retry or deletion poll).
    fn run_operator(&mut self, now: SimTime, t: crate::operator::OperatorTimer) {
        let mut timers: Vec<(SimTime, crate::operator::OperatorTimer)> = Vec::new();
        let mut ctx = Ctx::new(
            now,
            &mut self.api,
            &mut self.kubectl_rng,
            &mut timers,
            &mut self.notes,
        );
        self.operator.on_timer(t, &self.kubectl, &mut ctx);
        for (at, t) in timers {
            self.queue.schedule(at, SimEvent::Operator(t));
        }
    }

    fn run_action(&mut self, now: SimTime, i: usize) {
        let action = self.scenario.actions[i].clone();
        self.start_action(now, &action.text, &action.action);
    }

    /// Runs a kubectl command line now, as a scenario action runs (traced as an action; a
    /// drain goes on on the simulated clock). Errors are the line's parse errors.
    pub fn kubectl(&mut self, line: &str) -> Result<crate::operator::ActionOutcome, String> {
        let action = crate::scenario::parse_kubectl(line)?;
        let now = self.clock;
        let outcome = self.start_action(now, line.trim(), &action);
        self.after_event(now);
        Ok(outcome)
    }

    fn start_action(
        &mut self,
        now: SimTime,
        text: &str,
        action: &crate::scenario::Action,
    ) -> crate::operator::ActionOutcome {
        let mut timers: Vec<(SimTime, crate::operator::OperatorTimer)> = Vec::new();
        let mut ctx = Ctx::new(
            now,
            &mut self.api,
            &mut self.kubectl_rng,
            &mut timers,
            &mut self.notes,
        );
        let outcome = self.operator.start(action, &self.kubectl, &mut ctx);
        for (at, t) in timers {
            self.queue.schedule(at, SimEvent::Operator(t));
        }
        self.counts.actions += 1;
        self.trace
            .action(now, text, outcome.is_ok(), outcome.text());
        if let Some(tl) = self.timeline.as_mut() {
            tl.push(TimelineLine {
                at: now,
                type_: "Action".into(),
                reason: "kubectl".into(),
                object: String::new(),
                // A table or a description goes on the lines below the command.
                message: if outcome.text().contains('\n') {
                    format!("kubectl {text}\n{}", outcome.text())
                } else {
                    format!("kubectl {text}  →  {}", outcome.text())
                },
            });
        }
        outcome
    }

    fn finish(mut self, stop: StopReason, simulated: SimTime) -> RunResult {
        self.checks.finish(simulated, &self.api);
        self.trace.flush();
        result::build(self, stop, simulated)
    }
}
