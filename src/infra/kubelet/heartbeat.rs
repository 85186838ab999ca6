//! The kubelet's two heartbeats, as the node lifecycle controller reads them:
//!
//! * the node Lease (`kube-node-lease/<node>`), renewed by the lease controller of
//!   `k8s.io/component-helpers/apimachinery/lease` every `renewInterval` = a quarter of
//!   `nodeLeaseDurationSeconds` (10 s), run by `wait.JitterUntil(sync, renewInterval, 0.04,
//!   sliding)`: each wait is the interval plus up to 4 %;
//! * the Node status (`kubelet_node_status.go` `syncNodeStatus`/`tryUpdateNodeStatus`):
//!   computed every `nodeStatusUpdateFrequency` (10 s) and posted only when it changed
//!   (e.g. the node lifecycle controller set Ready to Unknown) or when
//!   `nodeStatusReportFrequency` (5 min) has passed since the last post.
//!
//! Both run on one timer per node (the status check rides on the lease tick, so it runs
//! every 10–10.4 s rather than on a separate exact 10 s ticker: the posts it makes are the
//! same, a fraction of a second apart). Requests that cannot reach the API server fail
//! at once (a real client would wait for its timeout first).
//!
//! Renewals are cheap: the lease controller's `latestLease` is kept as the version number
//! of a Lease that already names its Node as owner ([`LatestLease::Owned`]), because then
//! the next update differs from it only in renewTime and the API server's renewal path
//! (`apiserver/lease_renewal.rs`) needs nothing else; the stored Lease is changed in place.
//! A Lease not yet owned by its Node is kept whole and goes through the general update,
//! which adds the owner reference. Errors, conflicts and retries are the general path's.

use super::node_status;
use super::{KCtx, KubeletTimer};
use crate::api::coordination::{LeaseSpec, MicroTime, NAMESPACE_NODE_LEASE};
use crate::api::{Lease, Node, ObjectKey, ObjectMeta, OwnerReference};
use crate::apiserver::{Actor, LeaseVersion, resource_version_number};
use crate::rng::SimRng;
use crate::scenario::KubeletTiming;
use crate::time::{SimDuration, SimTime};
use std::rc::Rc;

/// `maxUpdateRetries`: immediate retries of a failed renewal.
const MAX_UPDATE_RETRIES: u32 = 5;
/// `backoffEnsureLease`: the first wait is twice this, doubling up to [`MAX_BACKOFF`].
const ENSURE_INITIAL_SLEEP: SimDuration = SimDuration::from_millis(100);
/// `maxBackoff` of the lease controller.
const MAX_BACKOFF: SimDuration = SimDuration::from_secs(7);
/// `wait.JitterUntil`'s jitter factor for the lease controller.
const JITTER: f64 = 0.04;

/// The lease controller's `latestLease`: the Lease as last written or read, as much of it
/// as the next update is built from.
#[derive(Clone)]
enum LatestLease {
    /// The version of a Lease owned by its Node: the next update is that version with a
    /// new renewTime.
    Owned(LeaseVersion),
    /// A Lease without the owner reference yet: the next update adds it.
    Object(Rc<Lease>),
}

impl LatestLease {
    fn of(lease: Rc<Lease>) -> Self {
        let rv = resource_version_number(&lease.metadata.resource_version);
        match rv {
            Some(rv) if !lease.metadata.owner_references.is_empty() => {
                LatestLease::Owned(LeaseVersion::new(rv))
            }
            _ => LatestLease::Object(lease),
        }
    }
}

/// One node's heartbeat state.
pub struct Heartbeat {
    node: String,
    /// `kube-node-lease/<node>`.
    lease_key: ObjectKey,
    timing: KubeletTiming,
    /// The node's stream `kubelet/<node>/lease` (jitter only, so that heartbeats do not
    /// shift the kubelet's other draws).
    rng: SimRng,
    /// `latestLease`: the lease as last written or read.
    latest_lease: Option<LatestLease>,
    /// `backoffEnsureLease` in progress: the sleep before the next attempt.
    ensure_sleep: Option<SimDuration>,
    /// When the node status was last posted.
    last_report: Option<SimTime>,
    /// Bumped when the kubelet stops (crash, process stop): older timers are stale.
    pub epoch: u64,
    /// Graceful node shutdown in progress: Ready is posted False (`shutdown.rs`).
    shutting_down: bool,
    /// The Node as the kubelet last saw it through its informer. `tryUpdateNodeStatus`
    /// reads the node with `resourceVersion: "0"`, i.e. from the API server's watch cache,
    /// which is what an informer holds; reading it here saves a store look-up per node
    /// every 10 s.
    node_obj: Option<Rc<Node>>,
    /// The last `status_changed` answer, with the Node (held, so its address cannot be
    /// reused) and the shutdown flag it was computed from: the check is a pure function
    /// of the two, and the Node object only changes on a write, so most checks every
    /// 10 s find the very same inputs.
    checked: Option<(Rc<Node>, bool, bool)>,
}

impl Heartbeat {
    pub fn new(node: &str, timing: &KubeletTiming, rng: SimRng) -> Self {
        Heartbeat {
            node: node.to_string(),
            lease_key: ObjectKey::new(NAMESPACE_NODE_LEASE, node),
            timing: timing.clone(),
            rng,
            latest_lease: None,
            ensure_sleep: None,
            last_report: None,
            epoch: 0,
            shutting_down: false,
            node_obj: None,
            checked: None,
        }
    }

    /// `renewInterval`: a quarter of the lease duration (`NewNodeLeaseController` with
    /// `renewIntervalFraction` 0.25).
    pub fn renew_interval(&self) -> SimDuration {
        SimDuration::from_millis(u64::from(self.timing.node_lease_duration_secs) * 250)
    }

    pub fn timing(&self) -> &KubeletTiming {
        &self.timing
    }

    /// The informer delivered this kubelet's Node.
    pub fn observe_node(&mut self, node: &Rc<Node>) {
        self.node_obj = Some(Rc::clone(node));
    }

    pub fn is_shutting_down(&self) -> bool {
        self.shutting_down
    }

    pub fn set_shutting_down(&mut self, on: bool) {
        self.shutting_down = on;
    }

    /// Posts the node status now if it changed (the shutdown manager's `SyncNodeStatusFunc`).
    pub fn post_status_now(&mut self, actor: &Actor, ctx: &mut KCtx<'_>) {
        self.sync_node_status(actor, ctx);
    }

    /// The kubelet (re)started: forget the lease in memory, as a new process would, and
    /// run the first sync now (`JitterUntil` runs `f` before its first wait).
    pub fn start(&mut self, node_index: u32, last_report: Option<SimTime>, ctx: &mut KCtx<'_>) {
        self.epoch += 1;
        self.shutting_down = false;
        self.latest_lease = None;
        self.ensure_sleep = None;
        self.last_report = last_report;
        ctx.after(
            SimDuration::ZERO,
            KubeletTimer::Heartbeat {
                node: node_index,
                epoch: self.epoch,
            },
        );
    }

    /// The kubelet stopped: its pending heartbeat timers die with it.
    pub fn stop(&mut self) {
        self.epoch += 1;
    }

    /// The heartbeat timer fired.
    pub fn on_timer(&mut self, node_index: u32, epoch: u64, actor: &Actor, ctx: &mut KCtx<'_>) {
        if epoch != self.epoch {
            return;
        }
        let next = match self.ensure_sleep {
            // Inside `backoffEnsureLease`'s loop: try again to get (or create) the lease.
            Some(sleep) => self.ensure_then_update(sleep, actor, ctx),
            None => {
                self.sync_node_status(actor, ctx);
                self.sync_lease(actor, ctx)
            }
        };
        ctx.after(
            next,
            KubeletTimer::Heartbeat {
                node: node_index,
                epoch: self.epoch,
            },
        );
    }

    /// The lease controller's `sync`; returns the wait before the next timer.
    fn sync_lease(&mut self, actor: &Actor, ctx: &mut KCtx<'_>) -> SimDuration {
        if let Some(latest) = self.latest_lease.take()
            && self.retry_update_lease(latest, actor, ctx)
        {
            return self.jittered_interval();
        }
        self.ensure_then_update(ENSURE_INITIAL_SLEEP, actor, ctx)
    }

    /// One attempt of `backoffEnsureLease`; on success, the update `sync` does after it.
    fn ensure_then_update(
        &mut self,
        sleep: SimDuration,
        actor: &Actor,
        ctx: &mut KCtx<'_>,
    ) -> SimDuration {
        match self.ensure_lease(actor, ctx) {
            Some((lease, created)) => {
                self.ensure_sleep = None;
                if created {
                    self.latest_lease = Some(LatestLease::of(lease));
                } else {
                    // A failed update waits for the next sync ("will retry after
                    // renewInterval").
                    self.retry_update_lease(LatestLease::of(lease), actor, ctx);
                }
                self.jittered_interval()
            }
            None => {
                let sleep = (sleep.saturating_mul(2)).min(MAX_BACKOFF);
                self.ensure_sleep = Some(sleep);
                sleep
            }
        }
    }

    /// `ensureLease`: the lease, created if missing; `None` on any error.
    fn ensure_lease(&mut self, actor: &Actor, ctx: &mut KCtx<'_>) -> Option<(Rc<Lease>, bool)> {
        let client = ctx.client(actor);
        if !client.connected() {
            return None;
        }
        if let Some(existing) = client.get::<Lease>(&self.lease_key) {
            return Some((existing, false));
        }
        let lease = self.new_lease(None, ctx.now, ctx);
        let mut client = ctx.client(actor);
        client.create(lease).ok().map(|l| (l, true))
    }

    /// `retryUpdateLease`: up to five immediate attempts; a conflict re-reads the lease.
    /// `latestLease` becomes `base`, then the written Lease if an attempt succeeds.
    fn retry_update_lease(
        &mut self,
        mut base: LatestLease,
        actor: &Actor,
        ctx: &mut KCtx<'_>,
    ) -> bool {
        let latest = base.clone();
        for _ in 0..MAX_UPDATE_RETRIES {
            let written = match &base {
                LatestLease::Owned(version) => {
                    let renew_time = MicroTime::at(ctx.now);
                    let mut client = ctx.client(actor);
                    client
                        .renew_lease(&self.lease_key, *version, renew_time)
                        .map(LatestLease::Owned)
                }
                LatestLease::Object(b) => {
                    let lease = self.new_lease(Some(b), ctx.now, ctx);
                    ctx.client(actor).update(lease).map(LatestLease::of)
                }
            };
            match written {
                Ok(written) => {
                    self.latest_lease = Some(written);
                    return true;
                }
                Err(e) if e.is_conflict() => match self.ensure_lease(actor, ctx) {
                    Some((fresh, _)) => base = LatestLease::of(fresh),
                    None => break,
                },
                Err(e) if e.is_not_found() => break,
                Err(_) => {}
            }
        }
        self.latest_lease = Some(latest);
        false
    }

    /// `newLease` with the kubelet's `setNodeOwnerFunc`: holder = the node, duration from
    /// the configuration, renewTime = now, owned by the Node object.
    fn new_lease(&self, base: Option<&Rc<Lease>>, now: SimTime, ctx: &mut KCtx<'_>) -> Lease {
        let mut lease = match base {
            Some(b) => (**b).clone(),
            None => Lease {
                api_version: "coordination.k8s.io/v1".into(),
                kind: "Lease".into(),
                metadata: ObjectMeta::named(NAMESPACE_NODE_LEASE, &self.node),
                spec: LeaseSpec {
                    holder_identity: Some(self.node.clone()),
                    lease_duration_seconds: Some(self.timing.node_lease_duration_secs as i32),
                    ..Default::default()
                },
            },
        };
        lease.spec.renew_time = Some(MicroTime::at(now));
        if lease.metadata.owner_references.is_empty()
            && let Some(node) = ctx.api.get::<Node>(&ObjectKey::cluster(&self.node))
        {
            lease.metadata.owner_references.push(OwnerReference {
                api_version: "v1".into(),
                kind: "Node".into(),
                name: self.node.clone(),
                uid: node.metadata.uid.clone(),
                controller: None,
                block_owner_deletion: None,
            });
        }
        lease
    }

    fn jittered_interval(&mut self) -> SimDuration {
        let base = self.renew_interval();
        let extra = (base.as_nanos() as f64 * JITTER * self.rng.unit_f64()) as u64;
        base + SimDuration::from_nanos(extra)
    }

    /// `tryUpdateNodeStatus`: post the status if it changed or the report is due.
    fn sync_node_status(&mut self, actor: &Actor, ctx: &mut KCtx<'_>) {
        let now = ctx.now;
        let due = self
            .last_report
            .is_none_or(|t| now >= t + self.timing.node_status_report_frequency);
        // The quiet check, nearly every tick: the report is not due and the remembered
        // answer for this very Node says nothing changed (every test below is a pure read,
        // so the order of the early returns changes nothing).
        if !due
            && let (Some(node), Some((n, sd, false))) = (&self.node_obj, &self.checked)
            && Rc::ptr_eq(n, node)
            && *sd == self.shutting_down
        {
            return;
        }
        let client = ctx.client(actor);
        if !client.connected() {
            return;
        }
        let Some(node) = self.node_obj.clone() else {
            return;
        };
        let changed = match &self.checked {
            Some((n, sd, changed)) if Rc::ptr_eq(n, &node) && *sd == self.shutting_down => *changed,
            _ => {
                let changed = node_status::status_changed(&node, self.shutting_down);
                self.checked = Some((Rc::clone(&node), self.shutting_down, changed));
                changed
            }
        };
        if !changed && !due {
            return;
        }
        let updated = node_status::refreshed_status(&node, now, self.shutting_down);
        let mut client = ctx.client(actor);
        // The request is not needed after the write: its status is moved into the stored
        // Node rather than copied.
        if client.update_status_owned(updated).is_ok() {
            self.last_report = Some(now);
        }
    }

    /// When the node status was last posted (a restarted process keeps the report
    /// schedule: the node object carries it).
    pub fn last_report(&self) -> Option<SimTime> {
        self.last_report
    }
}
