//! What a table of one kind's objects offers the code that reaches tables generically
//! (the API server's store, informers' caches applying watch events, `Tables::get`): the
//! API server's storage and every informer cache keep each kind in a table of the type
//! the kind names ([`Resource::Table`](super::Resource::Table)).
//!
//! Most kinds use [`Table`] (a `BTreeMap` by namespace and name). Node Leases, Nodes,
//! Pods, claims, volumes and VolumeAttachments use
//! [`IndexedTable`](super::indexed_table::IndexedTable), which also finds an object by key
//! without a tree search: 300 kubelets renew their Lease every ten seconds, and the status
//! writes of the others are put into the store and every cache.

use super::key_ref::{self, KeyRef};
use super::{ObjectKey, Resource, Table};
use std::collections::BTreeMap;
use std::rc::Rc;

/// One kind's objects by namespace and name; iteration is in key order (namespace, then
/// name, byte-wise).
pub trait ObjectTable<T: 'static>: Clone + Default + std::fmt::Debug {
    fn get(&self, key: &ObjectKey) -> Option<&Rc<T>>;
    /// `get` by borrowed namespace and name (no key allocated).
    fn get_by_parts(&self, namespace: &str, name: &str) -> Option<&Rc<T>>;
    fn get_mut_by_parts(&mut self, namespace: &str, name: &str) -> Option<&mut Rc<T>>;
    /// Stores `rc` under its own namespace and name, returning the object it replaced.
    fn put(&mut self, rc: Rc<T>) -> Option<Rc<T>>;
    fn remove_by_parts(&mut self, namespace: &str, name: &str) -> Option<Rc<T>>;
    /// Every object, in key order.
    fn values(&self) -> impl Iterator<Item = &Rc<T>>;
    /// The objects of `namespace`, in name order.
    fn values_in<'a>(&'a self, namespace: &'a str) -> impl Iterator<Item = &'a Rc<T>> + 'a;
    /// The objects with keys in `from..to`, in key order.
    fn values_between<'a>(
        &'a self,
        from: ObjectKey,
        to: ObjectKey,
    ) -> impl Iterator<Item = &'a Rc<T>> + 'a
    where
        T: 'a;
    fn len(&self) -> usize;
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<T: Resource> ObjectTable<T> for Table<T> {
    #[inline]
    fn get(&self, key: &ObjectKey) -> Option<&Rc<T>> {
        BTreeMap::get(self, key)
    }
    #[inline]
    fn get_by_parts(&self, namespace: &str, name: &str) -> Option<&Rc<T>> {
        key_ref::get_by_parts(self, namespace, name)
    }
    #[inline]
    fn get_mut_by_parts(&mut self, namespace: &str, name: &str) -> Option<&mut Rc<T>> {
        BTreeMap::get_mut(self, &(namespace, name) as &dyn KeyRef)
    }
    /// The look-up borrows the object's namespace and name: a key is allocated only when
    /// the object is new to the table.
    fn put(&mut self, rc: Rc<T>) -> Option<Rc<T>> {
        let meta = rc.meta();
        match BTreeMap::get_mut(
            self,
            &(meta.namespace.as_str(), meta.name.as_str()) as &dyn KeyRef,
        ) {
            Some(slot) => Some(std::mem::replace(slot, rc)),
            None => {
                self.insert(ObjectKey::of(meta), rc);
                None
            }
        }
    }
    #[inline]
    fn remove_by_parts(&mut self, namespace: &str, name: &str) -> Option<Rc<T>> {
        key_ref::remove_by_parts(self, namespace, name)
    }
    #[inline]
    fn values(&self) -> impl Iterator<Item = &Rc<T>> {
        BTreeMap::values(self)
    }
    /// The start is found by borrowed key (no key allocated) and the end by the keys'
    /// namespaces, compared inline (`cmp_str`, no `memcmp` call per object): callers walk
    /// namespaces of a thousand pods per event.
    fn values_in<'a>(&'a self, namespace: &'a str) -> impl Iterator<Item = &'a Rc<T>> + 'a {
        use std::ops::Bound;
        let from = (namespace, "");
        self.range::<dyn KeyRef, _>((Bound::Included(&from as &dyn KeyRef), Bound::Unbounded))
            .take_while(move |(k, _)| key_ref::cmp_str(&k.namespace, namespace).is_eq())
            .map(|(_, v)| v)
    }
    #[inline]
    fn values_between<'a>(
        &'a self,
        from: ObjectKey,
        to: ObjectKey,
    ) -> impl Iterator<Item = &'a Rc<T>> + 'a
    where
        T: 'a,
    {
        self.range(from..to).map(|(_, v)| v)
    }
    fn len(&self) -> usize {
        BTreeMap::len(self)
    }
}
