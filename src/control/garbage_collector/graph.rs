//! The garbage collector's graph of owners and dependents (upstream `graph.go` and
//! `graph_builder.go`): one node per object uid, built from informer events, with
//! "virtual" nodes for owners not observed yet. Changes queue the nodes the workers must
//! look at again.

use super::operations::group;
use crate::api::{AnyObject, Kind, ObjectKey, ObjectMeta, OwnerReference};
use crate::apiserver::{FINALIZER_DELETE_DEPENDENTS, FINALIZER_ORPHAN_DEPENDENTS, WatchEvent};
use crate::control::Enqueue;
use crate::lookup_map::LookupMap;
use std::collections::BTreeSet;

/// Key namespace of the `attemptToDelete` queue.
pub(super) const ATTEMPT_TO_DELETE: &str = "attemptToDelete";
/// Key namespace of the `attemptToOrphan` queue.
pub(super) const ATTEMPT_TO_ORPHAN: &str = "attemptToOrphan";

/// Upstream `objectReference`: an owner reference's coordinates plus the namespace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Identity {
    pub api_version: String,
    pub kind: String,
    pub namespace: String,
    pub name: String,
    pub uid: String,
}

impl Identity {
    pub fn of(obj: &AnyObject) -> Self {
        let meta = obj.meta();
        Identity {
            api_version: obj.kind().api_version().into(),
            kind: obj.kind().as_str().into(),
            namespace: meta.namespace.clone(),
            name: meta.name.clone(),
            uid: meta.uid.clone(),
        }
    }
    /// The stored kind and key, or `None` for a kind the simulator does not store.
    pub fn key(&self) -> Option<(Kind, ObjectKey)> {
        let kind = super::operations::stored_kind(&self.api_version, &self.kind)?;
        let namespace = if kind.is_cluster_scoped() {
            ""
        } else {
            &self.namespace
        };
        Some((kind, ObjectKey::new(namespace, &self.name)))
    }
    /// Upstream `ownerReferenceMatchesCoordinates`.
    pub fn matches(&self, r: &OwnerReference) -> bool {
        r.uid == self.uid && r.name == self.name && r.kind == self.kind && {
            group(&r.api_version) == group(&self.api_version)
        }
    }
}

/// Upstream `node`: one object (or a "virtual" owner not yet observed) in the graph.
#[derive(Debug)]
pub(super) struct GraphNode {
    pub identity: Identity,
    pub owners: Vec<OwnerReference>,
    /// Uids of the dependents, in uid order.
    pub dependents: BTreeSet<String>,
    pub being_deleted: bool,
    pub deleting_dependents: bool,
    /// Created for an owner reference before any informer event about the owner.
    pub virtual_: bool,
}

impl GraphNode {
    pub fn is_observed(&self) -> bool {
        !self.virtual_
    }
}

pub(super) fn delete_key(uid: &str) -> ObjectKey {
    ObjectKey::new(ATTEMPT_TO_DELETE, uid)
}

pub(super) fn orphan_key(uid: &str) -> ObjectKey {
    ObjectKey::new(ATTEMPT_TO_ORPHAN, uid)
}

pub(super) fn has_finalizer(meta: &ObjectMeta, finalizer: &str) -> bool {
    meta.finalizers.iter().any(|f| f == finalizer)
}

fn blocks(r: &OwnerReference) -> bool {
    r.block_owner_deletion == Some(true)
}

/// Upstream `uidToNode`, with the graph builder's operations on it.
#[derive(Debug, Default)]
pub(super) struct Graph {
    /// Looked up only, never iterated (`lookup_map`).
    nodes: LookupMap<String, GraphNode>,
}

impl Graph {
    pub fn get(&self, uid: &str) -> Option<&GraphNode> {
        self.nodes.get(uid)
    }

    /// The node of `uid`, which the caller knows is in the graph.
    pub fn node(&self, uid: &str) -> &GraphNode {
        &self.nodes[uid]
    }

    // Port of `GraphBuilder.processGraphChanges` for an informer event of any kind.
    pub fn process_graph_changes(
        &mut self,
        old: Option<&AnyObject>,
        ev: &WatchEvent,
        q: &mut Enqueue,
    ) {
        let meta = ev.obj.meta();
        // Fast path for the common update that touches nothing the graph keeps (a status
        // write, a lease renewal): same owners, no deletion or finalizer change. What
        // follows would find no diff and no transition, so it is skipped.
        if !ev.removed
            && let (Some(old), Some(node)) = (old, self.nodes.get(&meta.uid))
            && !node.virtual_
            && node.owners == meta.owner_references
            && node.being_deleted == meta.deletion_timestamp.is_some()
            && old.meta().deletion_timestamp == meta.deletion_timestamp
            && old.meta().finalizers == meta.finalizers
        {
            return;
        }
        let uid = meta.uid.clone();
        let observed = Identity::of(&ev.obj);
        if let Some(node) = self.nodes.get_mut(&uid)
            && node.virtual_
        {
            // The first real event about a virtual owner: its dependents may have named it
            // by other coordinates; they are rechecked (a no-op while their owners are solid).
            node.virtual_ = false;
            node.identity = observed.clone();
            for dep in &node.dependents {
                q.add(delete_key(dep));
            }
        }
        if ev.removed {
            self.remove_node(&uid, q);
            return;
        }
        let being_deleted = meta.deletion_timestamp.is_some();
        if !self.nodes.contains_key(&uid) {
            let node = GraphNode {
                identity: observed,
                owners: meta.owner_references.clone(),
                dependents: BTreeSet::new(),
                being_deleted,
                deleting_dependents: being_deleted
                    && has_finalizer(meta, FINALIZER_DELETE_DEPENDENTS),
                virtual_: false,
            };
            let owners = node.owners.clone();
            self.nodes.insert(uid.clone(), node);
            self.add_dependent_to_owners(&uid, &owners, q);
        } else {
            let existing = &self.nodes[&uid];
            let (added, removed, changed) =
                references_diffs(&existing.owners, &meta.owner_references);
            if !added.is_empty() || !removed.is_empty() || !changed.is_empty() {
                self.add_unblocked_owners_to_delete_queue(&removed, &changed, q);
                let node = self.nodes.get_mut(&uid).expect("found above");
                node.owners = meta.owner_references.clone();
                self.add_dependent_to_owners(&uid, &added, q);
                self.remove_dependent_from_owners(&uid, &removed);
            }
            if being_deleted {
                self.nodes.get_mut(&uid).expect("found above").being_deleted = true;
            }
        }
        self.process_transitions(old.map(AnyObject::meta), meta, &uid, q);
    }

    // Port of `GraphBuilder.addDependentToOwners`: owners not in the graph get a virtual
    // node, queued so that a live read tells whether they exist.
    fn add_dependent_to_owners(&mut self, uid: &str, owners: &[OwnerReference], q: &mut Enqueue) {
        let namespace = self.nodes[uid].identity.namespace.clone();
        let mut potentially_invalid = false;
        for owner in owners {
            match self.nodes.get_mut(&owner.uid) {
                Some(node) => {
                    node.dependents.insert(uid.to_string());
                    if !node.identity.matches(owner) {
                        potentially_invalid = true;
                    }
                }
                None => {
                    let node = GraphNode {
                        identity: Identity {
                            api_version: owner.api_version.clone(),
                            kind: owner.kind.clone(),
                            namespace: namespace.clone(),
                            name: owner.name.clone(),
                            uid: owner.uid.clone(),
                        },
                        owners: Vec::new(),
                        dependents: [uid.to_string()].into_iter().collect(),
                        being_deleted: false,
                        deleting_dependents: false,
                        virtual_: true,
                    };
                    self.nodes.insert(owner.uid.clone(), node);
                    q.add(delete_key(&owner.uid));
                }
            }
        }
        if potentially_invalid {
            q.add(delete_key(uid));
        }
    }

    // Port of `GraphBuilder.removeDependentFromOwners`.
    fn remove_dependent_from_owners(&mut self, uid: &str, owners: &[OwnerReference]) {
        for owner in owners {
            if let Some(node) = self.nodes.get_mut(&owner.uid) {
                node.dependents.remove(uid);
            }
        }
    }

    // Port of `GraphBuilder.addUnblockedOwnersToDeleteQueue`: an owner waiting for its
    // blocking dependents is rechecked when one stops blocking it.
    fn add_unblocked_owners_to_delete_queue(
        &self,
        removed: &[OwnerReference],
        changed: &[(OwnerReference, OwnerReference)],
        q: &mut Enqueue,
    ) {
        let removed = removed.iter().filter(|r| blocks(r));
        let unblocked = changed
            .iter()
            .filter(|(old, new)| blocks(old) && !blocks(new))
            .map(|(_, new)| new);
        for r in removed.chain(unblocked) {
            if self.nodes.contains_key(&r.uid) {
                q.add(delete_key(&r.uid));
            }
        }
    }

    // Port of `GraphBuilder.processTransitions`.
    fn process_transitions(
        &mut self,
        old: Option<&ObjectMeta>,
        new: &ObjectMeta,
        uid: &str,
        q: &mut Enqueue,
    ) {
        if deletion_starts_with_finalizer(old, new, FINALIZER_ORPHAN_DEPENDENTS) {
            q.add(orphan_key(uid));
            return;
        }
        if deletion_starts_with_finalizer(old, new, FINALIZER_DELETE_DEPENDENTS) {
            let node = self
                .nodes
                .get_mut(uid)
                .expect("processed node is in the graph");
            node.deleting_dependents = true;
            for dep in &node.dependents {
                q.add(delete_key(dep));
            }
            q.add(delete_key(uid));
        }
    }

    // The delete branch of `processGraphChanges`: dependents are rechecked (their owner is
    // gone), and owners waiting for their dependents may now finish.
    fn remove_node(&mut self, uid: &str, q: &mut Enqueue) {
        let Some(node) = self.nodes.swap_remove(uid) else {
            return;
        };
        self.remove_dependent_from_owners(uid, &node.owners);
        for dep in &node.dependents {
            q.add(delete_key(dep));
        }
        for owner in &node.owners {
            if self
                .nodes
                .get(&owner.uid)
                .is_some_and(|o| o.deleting_dependents)
            {
                q.add(delete_key(&owner.uid));
            }
        }
    }

    // A virtual delete event (`enqueueVirtualDeleteEvent`), processed at once: the live read
    // found no object with this identity. An observed node named differently by some
    // dependents stays; only those dependents are rechecked.
    pub fn virtual_delete(&mut self, identity: &Identity, q: &mut Enqueue) {
        let Some(node) = self.nodes.get(&identity.uid) else {
            return;
        };
        if node.is_observed() && node.identity != *identity {
            let matching: Vec<String> = node
                .dependents
                .iter()
                .filter(|d| {
                    self.nodes
                        .get(*d)
                        .is_some_and(|d| d.owners.iter().any(|r| identity.matches(r)))
                })
                .cloned()
                .collect();
            for dep in matching {
                q.add(delete_key(&dep));
            }
            return;
        }
        self.remove_node(&identity.uid, q);
    }

    // Port of `node.blockingDependents`: dependents whose reference to this node has
    // `blockOwnerDeletion: true`.
    pub fn blocking_dependents(&self, uid: &str) -> Vec<String> {
        self.nodes[uid]
            .dependents
            .iter()
            .filter(|d| {
                self.nodes
                    .get(*d)
                    .is_some_and(|d| d.owners.iter().any(|r| r.uid == uid && blocks(r)))
            })
            .cloned()
            .collect()
    }
}

// Port of `referencesDiffs`: owner references added, removed and changed (by uid).
fn references_diffs(
    old: &[OwnerReference],
    new: &[OwnerReference],
) -> (
    Vec<OwnerReference>,
    Vec<OwnerReference>,
    Vec<(OwnerReference, OwnerReference)>,
) {
    let mut added = Vec::new();
    let mut changed = Vec::new();
    for r in new {
        match old.iter().find(|o| o.uid == r.uid) {
            Some(o) if o != r => changed.push((o.clone(), r.clone())),
            Some(_) => {}
            None => added.push(r.clone()),
        }
    }
    let removed = old
        .iter()
        .filter(|o| !new.iter().any(|r| r.uid == o.uid))
        .cloned()
        .collect();
    (added, removed, changed)
}

// Port of `deletionStartsWithFinalizer`: the object is being deleted with `finalizer` now,
// and was not before.
fn deletion_starts_with_finalizer(
    old: Option<&ObjectMeta>,
    new: &ObjectMeta,
    finalizer: &str,
) -> bool {
    if new.deletion_timestamp.is_none() || !has_finalizer(new, finalizer) {
        return false;
    }
    old.is_none_or(|o| o.deletion_timestamp.is_none() || !has_finalizer(o, finalizer))
}
