//! The garbage collector (`pkg/controller/garbagecollector`), simplified to the kinds the
//! simulator stores. Like upstream it keeps its own graph of owners and dependents, built
//! from the shared informer's events (`GraphBuilder.processGraphChanges`), and works two
//! queues:
//! * `attemptToDelete`: an object whose every owner is gone is deleted (background, or as
//!   its own GC finalizer says); an owner being deleted in the foreground
//!   (`foregroundDeletion` finalizer) has its blocking dependents deleted first and loses
//!   the finalizer once none is left;
//! * `attemptToOrphan`: an owner deleted with the `orphan` finalizer has its ownerReference
//!   removed from every dependent, then loses the finalizer.
//!
//! Both queues share the controller's one work queue: a key's namespace names the queue
//! and its name is the node's uid (upstream queues hold graph nodes, keyed by uid).
//! Dependents are visited in uid order (creation order), so a cascade is deterministic; the
//! deletes are issued together, not one after another, with each object's own
//! grace period.
//!
//! Simplifications: no `absentOwnerCache` (owners are looked up live every time, as
//! upstream does on a cache miss); owners of kinds the simulator does not store
//! (a ConfigMap, say) are taken to exist, since the scenario loader skips such objects but a
//! real cluster would have them; the resourceVersion precondition of `deleteObject` is not
//! needed because a sync reads and writes at one instant.

mod graph;
mod operations;

use super::{ControlTimer, Controller, Enqueue};
use crate::api::{AnyObject, ObjectKey, OwnerReference, Tables};
use crate::apiserver::{
    Actor, FINALIZER_DELETE_DEPENDENTS, FINALIZER_ORPHAN_DEPENDENTS, Propagation, WatchEvent,
};
use crate::component::Ctx;
use graph::{ATTEMPT_TO_DELETE, ATTEMPT_TO_ORPHAN, Graph, Identity, delete_key, has_finalizer};
use operations::{
    Live, delete_object, get_object, live_get, patch_meta, remove_finalizer, stored_kind,
};

/// The name it writes under (`names.GarbageCollectorController`).
const COMPONENT: &str = "garbage-collector-controller";

pub struct GarbageCollector {
    actor: Actor,
    graph: Graph,
}

impl Default for GarbageCollector {
    fn default() -> Self {
        GarbageCollector {
            actor: Actor::new(COMPONENT),
            graph: Graph::default(),
        }
    }
}

impl Controller for GarbageCollector {
    fn name(&self) -> &'static str {
        COMPONENT
    }

    fn on_watch(
        &mut self,
        old: Option<&AnyObject>,
        ev: &WatchEvent,
        _cache: &Tables,
        q: &mut Enqueue,
    ) {
        self.graph.process_graph_changes(old, ev, q);
    }

    fn sync(
        &mut self,
        key: &ObjectKey,
        _cache: &Tables,
        ctx: &mut Ctx<'_, ControlTimer>,
        q: &mut Enqueue,
    ) -> Result<(), String> {
        match key.namespace.as_str() {
            ATTEMPT_TO_DELETE => self.attempt_to_delete_worker(&key.name, ctx, q),
            ATTEMPT_TO_ORPHAN => self.attempt_to_orphan_worker(&key.name, ctx),
            other => panic!("garbage collector queue {other:?} does not exist"),
        }
    }
}

impl GarbageCollector {
    // Port of `GarbageCollector.attemptToDeleteWorker`'s outcome handling.
    fn attempt_to_delete_worker(
        &mut self,
        uid: &str,
        ctx: &mut Ctx<'_, ControlTimer>,
        q: &mut Enqueue,
    ) -> Result<(), String> {
        let Some(node) = self.graph.get(uid) else {
            return Ok(());
        };
        let observed = node.is_observed();
        match self.attempt_to_delete_item(uid, ctx, q)? {
            Attempt::Done if !observed => {
                Err(format!("item {uid} hasn't been observed via informer yet"))
            }
            _ => Ok(()),
        }
    }

    // Port of `GarbageCollector.attemptToDeleteItem`.
    fn attempt_to_delete_item(
        &mut self,
        uid: &str,
        ctx: &mut Ctx<'_, ControlTimer>,
        q: &mut Enqueue,
    ) -> Result<Attempt, String> {
        let node = &self.graph.node(uid);
        // "Being deleted" is a one-way trip: wait for the final deletion.
        if node.being_deleted && !node.deleting_dependents {
            return Ok(Attempt::Done);
        }
        let identity = node.identity.clone();
        let latest = match get_object(&ctx.client(&self.actor), &identity) {
            Live::Unknown => return Ok(Attempt::Forget),
            Live::Absent => {
                self.graph.virtual_delete(&identity, q);
                return Ok(Attempt::Forget);
            }
            Live::Found(o) if o.meta().uid != identity.uid => {
                self.graph.virtual_delete(&identity, q);
                return Ok(Attempt::Forget);
            }
            Live::Found(o) => o,
        };
        if self.graph.node(uid).deleting_dependents {
            self.process_deleting_dependents_item(uid, ctx, q)?;
            return Ok(Attempt::Done);
        }
        let owner_references = latest.meta().owner_references.clone();
        if owner_references.is_empty() {
            return Ok(Attempt::Done);
        }
        let Some(refs) = self.classify_references(ctx, &identity, &owner_references) else {
            // A cluster-scoped object naming a namespaced owner: retrying cannot help.
            return Ok(Attempt::Forget);
        };
        let has_dependents = !self.graph.node(uid).dependents.is_empty();
        if !refs.solid.is_empty() {
            if refs.dangling.is_empty() && refs.waiting.is_empty() {
                return Ok(Attempt::Done);
            }
            // Waiting owners are dropped too, or they would wait for this item forever.
            let gone: Vec<String> = refs
                .dangling
                .iter()
                .chain(&refs.waiting)
                .map(|r| r.uid.clone())
                .collect();
            patch_meta(&mut ctx.client(&self.actor), &identity, |m| {
                m.owner_references.retain(|r| !gone.contains(&r.uid))
            })
            .map_err(|e| e.to_string())?;
            return Ok(Attempt::Done);
        }
        let policy = if !refs.waiting.is_empty() && has_dependents {
            // An owner is deleted in the foreground and this item has dependents of its own:
            // it is deleted in the foreground too. (Upstream first unblocks the item's
            // ownerReferences if a dependent is itself deleting dependents, to break cycles;
            // the owner graph of the stored kinds has none.)
            Propagation::Foreground
        } else if has_finalizer(latest.meta(), FINALIZER_ORPHAN_DEPENDENTS) {
            Propagation::Orphan
        } else if has_finalizer(latest.meta(), FINALIZER_DELETE_DEPENDENTS) {
            Propagation::Foreground
        } else {
            Propagation::Background
        };
        match delete_object(&mut ctx.client(&self.actor), &identity, policy) {
            Err(e) if e.is_not_found() => {
                self.graph.virtual_delete(&identity, q);
                Ok(Attempt::Forget)
            }
            Err(e) => Err(e.to_string()),
            Ok(()) => Ok(Attempt::Done),
        }
    }

    // Port of `GarbageCollector.classifyReferences` with `isDangling`. `None` when the
    // item is cluster-scoped and names a namespaced owner.
    fn classify_references(
        &self,
        ctx: &mut Ctx<'_, ControlTimer>,
        item: &Identity,
        refs: &[OwnerReference],
    ) -> Option<Classified> {
        let mut out = Classified::default();
        let client = ctx.client(&self.actor);
        for r in refs {
            let Some(kind) = stored_kind(&r.api_version, &r.kind) else {
                out.solid.push(r.clone()); // Not simulated: taken to exist (see the header).
                continue;
            };
            if item.namespace.is_empty() && !kind.is_cluster_scoped() {
                return None;
            }
            let namespace = if kind.is_cluster_scoped() {
                ""
            } else {
                &item.namespace
            };
            let owner = live_get(&client, kind, &ObjectKey::new(namespace, &r.name));
            match owner {
                Some(o) if o.meta().uid == r.uid => {
                    let m = o.meta();
                    if m.deletion_timestamp.is_some()
                        && has_finalizer(m, FINALIZER_DELETE_DEPENDENTS)
                    {
                        out.waiting.push(r.clone());
                    } else {
                        out.solid.push(r.clone());
                    }
                }
                _ => out.dangling.push(r.clone()),
            }
        }
        Some(out)
    }

    // Port of `GarbageCollector.processDeletingDependentsItem`.
    fn process_deleting_dependents_item(
        &mut self,
        uid: &str,
        ctx: &mut Ctx<'_, ControlTimer>,
        q: &mut Enqueue,
    ) -> Result<(), String> {
        let blocking = self.graph.blocking_dependents(uid);
        if blocking.is_empty() {
            let identity = self.graph.node(uid).identity.clone();
            return remove_finalizer(
                &mut ctx.client(&self.actor),
                &identity,
                FINALIZER_DELETE_DEPENDENTS,
            );
        }
        for dep in blocking {
            if !self.graph.node(&dep).deleting_dependents {
                q.add(delete_key(&dep));
            }
        }
        Ok(())
    }

    // Port of `GarbageCollector.attemptToOrphanWorker` with `orphanDependents`: every
    // dependent loses its reference to the owner, then the owner loses the finalizer.
    fn attempt_to_orphan_worker(
        &mut self,
        uid: &str,
        ctx: &mut Ctx<'_, ControlTimer>,
    ) -> Result<(), String> {
        let Some(owner) = self.graph.get(uid) else {
            return Ok(());
        };
        let identity = owner.identity.clone();
        let dependents: Vec<Identity> = owner
            .dependents
            .iter()
            .filter_map(|d| self.graph.get(d).map(|n| n.identity.clone()))
            .collect();
        let mut client = ctx.client(&self.actor);
        let mut errs = Vec::new();
        for dep in &dependents {
            let result = patch_meta(&mut client, dep, |m| {
                m.owner_references.retain(|r| r.uid != identity.uid)
            });
            match result {
                Ok(()) => {}
                Err(e) if e.is_not_found() => {}
                Err(e) => errs.push(format!(
                    "orphaning {}/{} failed, {e}",
                    dep.namespace, dep.name
                )),
            }
        }
        if !errs.is_empty() {
            return Err(format!(
                "failed to orphan dependents of owner {}, got errors: {}",
                identity.name,
                errs.join(", ")
            ));
        }
        remove_finalizer(&mut client, &identity, FINALIZER_ORPHAN_DEPENDENTS)
    }
}

/// How an `attemptToDeleteItem` ended: `Forget` stands for upstream's
/// `enqueuedVirtualDeleteEventErr` and the errors that retrying cannot fix.
enum Attempt {
    Done,
    Forget,
}

#[derive(Default)]
struct Classified {
    solid: Vec<OwnerReference>,
    dangling: Vec<OwnerReference>,
    waiting: Vec<OwnerReference>,
}

#[cfg(test)]
mod tests;
