//! Create, update, status update and delete, with the API server's rules: uid and
//! resourceVersion assignment, optimistic concurrency, generation bumps on spec changes,
//! graceful deletion and finalizers.

use super::{ApiError, ApiServer, JournalEntry, Strategy, Verb, WatchEvent};
use crate::api::{ObjectKey, ObjectMeta, ObjectTable, Resource, Timestamp};
use crate::decimal::set_decimal;
use crate::time::{SimDuration, SimTime};
use std::rc::Rc;

/// How dependents are treated when an owner is deleted (`metav1.DeletionPropagation`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Propagation {
    Background,
    Foreground,
    Orphan,
}

/// `metav1.FinalizerOrphanDependents`: the garbage collector orphans the dependents, then
/// removes this finalizer.
pub const FINALIZER_ORPHAN_DEPENDENTS: &str = "orphan";
/// `metav1.FinalizerDeleteDependents`: the garbage collector deletes the blocking
/// dependents first (foreground deletion), then removes this finalizer.
pub const FINALIZER_DELETE_DEPENDENTS: &str = "foregroundDeletion";

/// `metav1.DeleteOptions`, the part the simulator models.
#[derive(Clone, Debug, Default)]
pub struct DeleteOptions {
    /// `None` uses the object's own grace period; `Some(0)` deletes at once (force).
    pub grace_period_seconds: Option<i64>,
    /// Refuse the delete unless the stored object has this uid.
    pub precondition_uid: Option<String>,
    /// `None` (no `propagationPolicy` in the request) leaves the choice to the object's own
    /// GC finalizers, else the kind's default (background for every stored kind).
    pub propagation: Option<Propagation>,
}

impl DeleteOptions {
    pub fn force() -> Self {
        DeleteOptions {
            grace_period_seconds: Some(0),
            ..Default::default()
        }
    }
}

impl ApiServer {
    /// A consistent read of one object.
    pub fn get<T: Resource>(&self, key: &ObjectKey) -> Option<&Rc<T>> {
        T::table(&self.objects).get(key)
    }

    /// Creates `obj`. The server sets uid, resourceVersion, generation and
    /// creationTimestamp, applies defaults and resets status as the kind's strategy says.
    pub fn create<T: Strategy>(
        &mut self,
        now: SimTime,
        actor: &Rc<str>,
        mut obj: T,
    ) -> Result<Rc<T>, ApiError> {
        let kind = T::KIND;
        self.take_injected(actor, Verb::Create, kind)?;
        {
            let meta = obj.meta_mut();
            if kind.is_cluster_scoped() {
                meta.namespace.clear();
            } else if meta.namespace.is_empty() {
                meta.namespace = self.config.default_namespace.clone();
            }
            if meta.name.is_empty() {
                return Err(ApiError::Invalid {
                    kind,
                    name: meta.generate_name.clone(),
                    message: "metadata.name: Required value: name or generateName is required"
                        .into(),
                });
            }
        }
        let meta = obj.meta();
        if T::table(&self.objects)
            .get_by_parts(&meta.namespace, &meta.name)
            .is_some()
        {
            return Err(ApiError::AlreadyExists {
                kind,
                name: meta.name.clone(),
            });
        }
        obj.admit_create(&self.objects);
        obj.prepare_for_create();
        let uid = self.next_uid();
        self.resource_version += 1;
        let meta = obj.meta_mut();
        meta.uid = uid;
        set_decimal(&mut meta.resource_version, self.resource_version);
        meta.generation = 1;
        meta.creation_timestamp = Some(Timestamp::at(now));
        meta.deletion_timestamp = None;
        meta.deletion_grace_period_seconds = None;
        Ok(self.store(now, actor, Verb::Create, obj))
    }

    /// Replaces the object's spec and metadata; the stored status is kept. Fails with a
    /// conflict if `obj` carries a resourceVersion other than the stored one.
    pub fn update<T: Strategy>(
        &mut self,
        now: SimTime,
        actor: &Rc<str>,
        obj: T,
    ) -> Result<Rc<T>, ApiError> {
        self.take_injected(actor, Verb::Update, T::KIND)?;
        self.write_update(now, actor, obj)
    }

    /// [`ApiServer::update`] once the request has passed the injected failures.
    pub(super) fn write_update<T: Strategy>(
        &mut self,
        now: SimTime,
        actor: &Rc<str>,
        mut obj: T,
    ) -> Result<Rc<T>, ApiError> {
        let old = self.current_for_write(&obj)?;
        obj.apply_defaults();
        obj.validate_update(&old)
            .map_err(|message| ApiError::Invalid {
                kind: T::KIND,
                name: obj.meta().name.clone(),
                message,
            })?;
        obj.admit_update(&old, &self.objects)?;
        obj.take_status_from(&old);
        let spec_changed = !obj.same_spec(&old);
        let meta = obj.meta_mut();
        let old_meta = old.meta();
        // `clone_from`: the request nearly always carries these already, so its buffers
        // are reused rather than replaced.
        meta.uid.clone_from(&old_meta.uid);
        meta.creation_timestamp = old_meta.creation_timestamp;
        meta.deletion_timestamp = old_meta.deletion_timestamp;
        meta.deletion_grace_period_seconds = old_meta.deletion_grace_period_seconds;
        meta.generation = old_meta.generation + i64::from(spec_changed);
        // A no-op update writes nothing, as in a real API server (compared with the stored
        // resourceVersion put in place, rather than on a clone).
        meta.resource_version.clone_from(&old_meta.resource_version);
        if *old == obj {
            return Ok(old);
        }
        self.resource_version += 1;
        set_decimal(&mut obj.meta_mut().resource_version, self.resource_version);
        let finished = obj.meta().deletion_timestamp.is_some()
            && obj.meta().finalizers.is_empty()
            && obj.meta().deletion_grace_period_seconds.unwrap_or(0) == 0;
        if finished {
            return Ok(self.remove(now, actor, Verb::Update, obj));
        }
        Ok(self.store(now, actor, Verb::Update, obj))
    }

    /// Writes the status subresource: only `obj`'s status is taken; spec and metadata stay.
    pub fn update_status<T: Strategy>(
        &mut self,
        now: SimTime,
        actor: &Rc<str>,
        obj: &T,
    ) -> Result<Rc<T>, ApiError> {
        self.write_status(now, actor, std::borrow::Cow::Borrowed(obj))
    }

    /// [`ApiServer::update_status`] with a request the caller gives up: its status is moved
    /// into the stored object instead of copied (the same write).
    pub fn update_status_owned<T: Strategy>(
        &mut self,
        now: SimTime,
        actor: &Rc<str>,
        obj: T,
    ) -> Result<Rc<T>, ApiError> {
        self.write_status(now, actor, std::borrow::Cow::Owned(obj))
    }

    fn write_status<T: Strategy>(
        &mut self,
        now: SimTime,
        actor: &Rc<str>,
        obj: std::borrow::Cow<'_, T>,
    ) -> Result<Rc<T>, ApiError> {
        self.take_injected(actor, Verb::Status, T::KIND)?;
        // One search of the table: the slot the checks read is the one written (what
        // `current_for_write` then `store` find, as nothing is stored in between).
        let meta = obj.meta();
        let slot = T::table_mut(&mut self.objects)
            .get_mut_by_parts(write_namespace::<T>(meta), &meta.name)
            .ok_or_else(|| ApiError::NotFound {
                kind: T::KIND,
                name: meta.name.clone(),
            })?;
        check_resource_version::<T>(meta, slot.meta())?;
        // Only the status is taken, so the write is a no-op exactly when the statuses are
        // equal: checked before copying the stored object.
        if obj.same_status(slot) {
            return Ok(Rc::clone(slot));
        }
        let mut next = match obj {
            std::borrow::Cow::Borrowed(obj) => slot.with_status_of(obj),
            std::borrow::Cow::Owned(obj) => slot.with_status_moved_from(obj),
        };
        self.resource_version += 1;
        set_decimal(&mut next.meta_mut().resource_version, self.resource_version);
        let rc = Rc::new(next);
        *slot = Rc::clone(&rc);
        self.push(JournalEntry::Write(WatchEvent {
            at: now,
            verb: Verb::Status,
            removed: false,
            obj: T::wrap(Rc::clone(&rc)),
            actor: Rc::clone(actor),
            lease_renewal: None,
        }));
        Ok(rc)
    }

    /// Deletes an object. Kinds with graceful deletion (pods on a node) get a
    /// deletionTimestamp `grace` seconds ahead and stay until their kubelet confirms;
    /// objects with finalizers stay until the finalizers are removed; others go at once.
    /// Returns the object as it stands after the call (`removed` tells which case).
    pub fn delete<T: Strategy>(
        &mut self,
        now: SimTime,
        actor: &Rc<str>,
        key: &ObjectKey,
        opts: &DeleteOptions,
    ) -> Result<(Rc<T>, bool), ApiError> {
        let kind = T::KIND;
        self.take_injected(actor, Verb::Delete, kind)?;
        let old = T::table(&self.objects)
            .get(key)
            .cloned()
            .ok_or_else(|| ApiError::NotFound {
                kind,
                name: key.name.clone(),
            })?;
        if let Some(uid) = &opts.precondition_uid
            && *uid != old.meta().uid
        {
            return Err(ApiError::Conflict {
                kind,
                name: key.name.clone(),
            });
        }
        let grace = old.graceful_delete_seconds(opts.grace_period_seconds);
        let mut next = (*old).clone();
        let meta = next.meta_mut();
        let already = meta.deletion_timestamp.is_some();
        match grace {
            Some(g) if g > 0 => {
                // `BeforeDelete`: a second delete may only shorten the grace period.
                let deadline = Timestamp::at(now + SimDuration::from_secs(g as u64));
                if already && meta.deletion_timestamp.is_some_and(|d| d <= deadline) {
                    return Ok((old, false));
                }
                if let Some(f) = deletion_finalizers_for_garbage_collection(meta, opts.propagation)
                {
                    meta.finalizers = f;
                }
                meta.deletion_timestamp = Some(deadline);
                meta.deletion_grace_period_seconds = Some(g);
            }
            _ => {
                let gc_finalizers =
                    deletion_finalizers_for_garbage_collection(meta, opts.propagation);
                let changed = gc_finalizers.is_some();
                if let Some(f) = gc_finalizers {
                    meta.finalizers = f;
                }
                if meta.finalizers.is_empty() {
                    return Ok((self.remove(now, actor, Verb::Delete, next), true));
                }
                if already && !changed && meta.deletion_grace_period_seconds.unwrap_or(0) == 0 {
                    return Ok((old, false));
                }
                meta.deletion_timestamp = meta.deletion_timestamp.or(Some(Timestamp::at(now)));
                meta.deletion_grace_period_seconds = Some(0);
            }
        }
        self.resource_version += 1;
        set_decimal(&mut next.meta_mut().resource_version, self.resource_version);
        Ok((self.store(now, actor, Verb::Delete, next), false))
    }

    fn current_for_write<T: Resource>(&self, obj: &T) -> Result<Rc<T>, ApiError> {
        let meta = obj.meta();
        let old = T::table(&self.objects)
            .get_by_parts(write_namespace::<T>(meta), &meta.name)
            .cloned()
            .ok_or_else(|| ApiError::NotFound {
                kind: T::KIND,
                name: meta.name.clone(),
            })?;
        check_resource_version::<T>(meta, old.meta())?;
        Ok(old)
    }

    fn store<T: Resource>(&mut self, now: SimTime, actor: &Rc<str>, verb: Verb, obj: T) -> Rc<T> {
        let rc = Rc::new(obj);
        T::table_mut(&mut self.objects).put(Rc::clone(&rc));
        self.push(JournalEntry::Write(WatchEvent {
            at: now,
            verb,
            removed: false,
            obj: T::wrap(Rc::clone(&rc)),
            actor: Rc::clone(actor),
            lease_renewal: None,
        }));
        rc
    }

    fn remove<T: Resource>(
        &mut self,
        now: SimTime,
        actor: &Rc<str>,
        verb: Verb,
        mut obj: T,
    ) -> Rc<T> {
        self.resource_version += 1;
        set_decimal(&mut obj.meta_mut().resource_version, self.resource_version);
        let rc = Rc::new(obj);
        let meta = rc.meta();
        T::table_mut(&mut self.objects).remove_by_parts(&meta.namespace, &meta.name);
        self.push(JournalEntry::Write(WatchEvent {
            at: now,
            verb,
            removed: true,
            obj: T::wrap(Rc::clone(&rc)),
            actor: Rc::clone(actor),
            lease_renewal: None,
        }));
        rc
    }
}

/// The namespace a write request is looked up in: a cluster-scoped object is found
/// whatever namespace the request carries.
fn write_namespace<T: Resource>(request: &ObjectMeta) -> &str {
    if T::KIND.is_cluster_scoped() {
        ""
    } else {
        request.namespace.as_str()
    }
}

/// Optimistic concurrency: a request that names a resourceVersion must name the stored one.
fn check_resource_version<T: Resource>(
    request: &ObjectMeta,
    stored: &ObjectMeta,
) -> Result<(), ApiError> {
    let rv = &request.resource_version;
    if !rv.is_empty() && *rv != stored.resource_version {
        return Err(ApiError::Conflict {
            kind: T::KIND,
            name: request.name.clone(),
        });
    }
    Ok(())
}

// Port of `deletionFinalizersForGarbageCollection` with `shouldOrphanDependents` and
// `shouldDeleteDependents` (apiserver `registry/generic/registry/store.go`): the GC
// finalizers a delete leaves on the object, or `None` if they do not change. Every stored
// kind's `DefaultGarbageCollectionPolicy` is DeleteDependents (apps/v1 and core/v1), so an
// unset policy keeps whatever GC finalizer the object already carries.
fn deletion_finalizers_for_garbage_collection(
    meta: &crate::api::ObjectMeta,
    propagation: Option<Propagation>,
) -> Option<Vec<String>> {
    let (orphan, foreground) = match propagation {
        Some(Propagation::Orphan) => (true, false),
        Some(Propagation::Foreground) => (false, true),
        Some(Propagation::Background) => (false, false),
        None => {
            // The first GC finalizer in the list decides `shouldOrphanDependents`.
            let first = meta
                .finalizers
                .iter()
                .find(|f| *f == FINALIZER_ORPHAN_DEPENDENTS || *f == FINALIZER_DELETE_DEPENDENTS);
            let orphan = first.is_some_and(|f| f == FINALIZER_ORPHAN_DEPENDENTS);
            let foreground = meta
                .finalizers
                .iter()
                .any(|f| f == FINALIZER_DELETE_DEPENDENTS);
            (orphan, foreground)
        }
    };
    let mut next: Vec<String> = meta
        .finalizers
        .iter()
        .filter(|f| *f != FINALIZER_ORPHAN_DEPENDENTS && *f != FINALIZER_DELETE_DEPENDENTS)
        .cloned()
        .collect();
    if orphan {
        next.push(FINALIZER_ORPHAN_DEPENDENTS.into());
    }
    if foreground {
        next.push(FINALIZER_DELETE_DEPENDENTS.into());
    }
    // Compared as sets, as upstream does.
    let as_set = |v: &[String]| v.iter().cloned().collect::<std::collections::BTreeSet<_>>();
    (as_set(&next) != as_set(&meta.finalizers)).then_some(next)
}
