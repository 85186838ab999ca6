//! A table that finds an object by key without a tree search, for a kind written far
//! more often than it is created or deleted: node Leases (300 kubelets renew theirs
//! every ten seconds, and the API server and the controller manager's cache each look
//! every renewal up by key), Nodes (status posts, the node lifecycle controller's look-ups
//! by name), Pods (status writes, each put into the store and four caches, and the
//! kubelets' reads), and the storage objects an attach storm writes by the hundred
//! (claims, volumes, VolumeAttachments).
//!
//! The objects sit in a `Vec` (`entries`, each with its key's hash) and are found through
//! an open-addressing hash index (`cells`, linear probing, at most half full): a look-up
//! hashes the key once (`key_hash`, a fixed, seedless hash of its eight-byte words) and
//! compares it with the entry its cell names, all inline, where a `BTreeMap` search among
//! 300 Leases compares some twenty keys (≈ 870 instructions). The name order (`order`, a
//! `BTreeMap` from key to position in `entries`) serves iteration, ranges and namespace
//! walks. Only adding or removing an object touches `order` and `cells`; replacing an
//! object or changing it in place touches its entry only.
//!
//! Nothing walks `entries` or `cells` in their own order, so that order cannot reach the
//! simulation: every walk goes through `order`.

use super::key_ref::{KeyRef, cmp_str};
use super::table::ObjectTable;
use super::{ObjectKey, Resource};
use crate::hash::fx_step;
use std::collections::BTreeMap;
use std::ops::RangeBounds;
use std::rc::Rc;

/// Objects by namespace and name with a hash index (see the header).
#[derive(Clone)]
pub struct IndexedTable<T> {
    /// The objects with their keys' hashes. Positions change only when an object is
    /// removed (the last one moves into its place).
    entries: Vec<(u64, Rc<T>)>,
    /// The hash index: each cell holds a position in `entries` plus one, or 0 if empty.
    /// An object's cell is the first free one from `hash & mask` on when it was added
    /// (and stays reachable from there without a free cell between: see `remove_at`).
    /// Empty, or a power of two at least twice `entries.len()`.
    cells: Vec<u32>,
    /// Key → position in `entries`, in key order.
    order: BTreeMap<ObjectKey, u32>,
}

impl<T> Default for IndexedTable<T> {
    fn default() -> Self {
        IndexedTable {
            entries: Vec::new(),
            cells: Vec::new(),
            order: BTreeMap::new(),
        }
    }
}

impl<T> IndexedTable<T> {
    fn at(&self, position: u32) -> &Rc<T> {
        &self.entries[position as usize].1
    }

    /// `(key, object)` pairs of the keys in `range`, in key order (as `BTreeMap::range`).
    pub fn range<R: RangeBounds<ObjectKey>>(
        &self,
        range: R,
    ) -> impl Iterator<Item = (&ObjectKey, &Rc<T>)> {
        self.order.range(range).map(|(k, &i)| (k, self.at(i)))
    }

    /// Every `(key, object)` pair, in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&ObjectKey, &Rc<T>)> {
        self.order.iter().map(|(k, &i)| (k, self.at(i)))
    }

    /// The cell a hash's probe starts at.
    fn home(&self, hash: u64) -> usize {
        hash as usize & (self.cells.len() - 1)
    }

    /// Puts position `position` (of an entry with hash `hash`) in the first free cell of
    /// its probe. There must be one.
    fn place(&mut self, hash: u64, position: usize) {
        let mask = self.cells.len() - 1;
        let mut i = self.home(hash);
        while self.cells[i] != 0 {
            i = (i + 1) & mask;
        }
        self.cells[i] = position as u32 + 1;
    }

    /// Makes room for one more entry: the index is kept at most half full.
    fn reserve_one(&mut self) {
        let want = (self.entries.len() + 1) * 2;
        if self.cells.len() >= want {
            return;
        }
        let size = want.next_power_of_two().max(16);
        self.cells = vec![0; size];
        for p in 0..self.entries.len() {
            self.place(self.entries[p].0, p);
        }
    }

    /// Empties cell `i` and closes the gap (backward-shift deletion): each later cell of
    /// the run whose probe starts at or before the gap moves into it, so that every entry
    /// stays reachable from its home without crossing a free cell.
    fn clear_cell(&mut self, mut gap: usize) {
        let mask = self.cells.len() - 1;
        self.cells[gap] = 0;
        let mut j = gap;
        loop {
            j = (j + 1) & mask;
            let c = self.cells[j];
            if c == 0 {
                return;
            }
            let home = self.home(self.entries[c as usize - 1].0);
            // Whether `home` lies cyclically in (gap, j]: then the entry stays.
            let stays = if gap < j {
                gap < home && home <= j
            } else {
                gap < home || home <= j
            };
            if !stays {
                self.cells[gap] = c;
                self.cells[j] = 0;
                gap = j;
            }
        }
    }

    /// The cell naming `position` (an entry with hash `hash`).
    fn cell_of(&self, hash: u64, position: usize) -> usize {
        let mask = self.cells.len() - 1;
        let mut i = self.home(hash);
        while self.cells[i] as usize != position + 1 {
            i = (i + 1) & mask;
        }
        i
    }
}

impl<T: Resource> IndexedTable<T> {
    /// The cell and position of the object `namespace/name`, if stored.
    #[inline]
    fn find(&self, namespace: &str, name: &str) -> Option<(usize, usize)> {
        if self.cells.is_empty() {
            return None;
        }
        let hash = key_hash(namespace, name);
        let mask = self.cells.len() - 1;
        let mut i = self.home(hash);
        loop {
            let c = self.cells[i];
            if c == 0 {
                return None;
            }
            let p = c as usize - 1;
            let (h, obj) = &self.entries[p];
            if *h == hash {
                let meta = obj.meta();
                if str_eq(&meta.name, name) && str_eq(&meta.namespace, namespace) {
                    return Some((i, p));
                }
            }
            i = (i + 1) & mask;
        }
    }

    /// The object stored under `key`, to change or replace.
    pub fn get_mut(&mut self, key: &ObjectKey) -> Option<&mut Rc<T>> {
        self.get_mut_by_parts(&key.namespace, &key.name)
    }

    /// The object `namespace/name` with its position, to change in place, looked for first
    /// at position `hint` (where the caller saw it last, or where another table that saw
    /// the same adds and removes keeps it): a hit costs two name compares instead of the
    /// hash and the probe. Positions are not part of the table's meaning: a wrong hint
    /// only costs the ordinary look-up.
    #[inline]
    pub fn get_mut_hinted(
        &mut self,
        hint: u32,
        namespace: &str,
        name: &str,
    ) -> Option<(u32, &mut Rc<T>)> {
        let hit = self.entries.get(hint as usize).is_some_and(|(_, obj)| {
            let meta = obj.meta();
            str_eq(&meta.name, name) && str_eq(&meta.namespace, namespace)
        });
        let p = if hit {
            hint as usize
        } else {
            self.find(namespace, name)?.1
        };
        Some((p as u32, &mut self.entries[p].1))
    }
}

/// The `BTreeMap` methods that code reading and writing a table by key uses, with the
/// same meaning (walks in key order), so that a kind's table can be an `IndexedTable`
/// without its users changing.
impl<T: Resource> IndexedTable<T> {
    #[inline]
    pub fn get(&self, key: &ObjectKey) -> Option<&Rc<T>> {
        self.get_by_parts(&key.namespace, &key.name)
    }

    /// `get` by borrowed namespace and name (no key allocated).
    #[inline]
    pub fn get_by_parts(&self, namespace: &str, name: &str) -> Option<&Rc<T>> {
        let (_, p) = self.find(namespace, name)?;
        Some(&self.entries[p].1)
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn contains_key(&self, key: &ObjectKey) -> bool {
        self.find(&key.namespace, &key.name).is_some()
    }

    /// Every object, in key order.
    pub fn values(&self) -> impl Iterator<Item = &Rc<T>> {
        self.order.values().map(|&i| self.at(i))
    }

    /// Every key, in order.
    pub fn keys(&self) -> impl Iterator<Item = &ObjectKey> {
        self.order.keys()
    }

    /// Stores `rc` under `key`, which must be its own key; returns the object replaced.
    pub fn insert(&mut self, key: ObjectKey, rc: Rc<T>) -> Option<Rc<T>> {
        debug_assert!(
            key.namespace == rc.meta().namespace && key.name == rc.meta().name,
            "an object is stored under its own key"
        );
        self.put(rc)
    }

    pub fn remove(&mut self, key: &ObjectKey) -> Option<Rc<T>> {
        self.remove_by_parts(&key.namespace, &key.name)
    }

    /// Keeps the objects for which `keep(key, object)` holds (asked in key order).
    pub fn retain(&mut self, mut keep: impl FnMut(&ObjectKey, &Rc<T>) -> bool) {
        let gone: Vec<ObjectKey> = self
            .iter()
            .filter(|(k, v)| !keep(k, v))
            .map(|(k, _)| k.clone())
            .collect();
        for key in &gone {
            self.remove(key);
        }
    }
}

impl<T: Resource> std::ops::Index<&ObjectKey> for IndexedTable<T> {
    type Output = Rc<T>;
    fn index(&self, key: &ObjectKey) -> &Rc<T> {
        self.get(key).expect("no object under that key")
    }
}

impl<T: Resource> ObjectTable<T> for IndexedTable<T> {
    // The look-ups and walks the inherent methods (above) already are.
    fn get(&self, key: &ObjectKey) -> Option<&Rc<T>> {
        IndexedTable::get(self, key)
    }
    fn get_by_parts(&self, namespace: &str, name: &str) -> Option<&Rc<T>> {
        IndexedTable::get_by_parts(self, namespace, name)
    }
    fn get_mut_by_parts(&mut self, namespace: &str, name: &str) -> Option<&mut Rc<T>> {
        let (_, p) = self.find(namespace, name)?;
        Some(&mut self.entries[p].1)
    }
    fn put(&mut self, rc: Rc<T>) -> Option<Rc<T>> {
        let meta = rc.meta();
        if let Some((_, p)) = self.find(&meta.namespace, &meta.name) {
            return Some(std::mem::replace(&mut self.entries[p].1, rc));
        }
        let hash = key_hash(&meta.namespace, &meta.name);
        let key = ObjectKey::of(meta);
        self.reserve_one();
        let position = self.entries.len();
        self.place(hash, position);
        self.order.insert(
            key,
            u32::try_from(position).expect("fewer than 2^32 objects"),
        );
        self.entries.push((hash, rc));
        None
    }
    fn remove_by_parts(&mut self, namespace: &str, name: &str) -> Option<Rc<T>> {
        let (cell, p) = self.find(namespace, name)?;
        self.clear_cell(cell);
        self.order.remove(&(namespace, name) as &dyn KeyRef);
        let (_, removed) = self.entries.swap_remove(p);
        // The last entry moved into the freed position: its cell and order follow.
        if let Some((hash, moved)) = self.entries.get(p) {
            let from = self.entries.len();
            let cell = self.cell_of(*hash, from);
            self.cells[cell] = p as u32 + 1;
            let meta = moved.meta();
            *self
                .order
                .get_mut(&(meta.namespace.as_str(), meta.name.as_str()) as &dyn KeyRef)
                .expect("every stored key is in the order") = p as u32;
        }
        Some(removed)
    }
    fn values(&self) -> impl Iterator<Item = &Rc<T>> {
        IndexedTable::values(self)
    }
    fn values_in<'a>(&'a self, namespace: &'a str) -> impl Iterator<Item = &'a Rc<T>> + 'a {
        use std::ops::Bound;
        let from = (namespace, "");
        self.order
            .range::<dyn KeyRef, _>((Bound::Included(&from as &dyn KeyRef), Bound::Unbounded))
            .take_while(move |(k, _)| cmp_str(&k.namespace, namespace).is_eq())
            .map(|(_, &i)| self.at(i))
    }
    fn values_between<'a>(
        &'a self,
        from: ObjectKey,
        to: ObjectKey,
    ) -> impl Iterator<Item = &'a Rc<T>> + 'a
    where
        T: 'a,
    {
        self.order.range(from..to).map(|(_, &i)| self.at(i))
    }
    fn len(&self) -> usize {
        IndexedTable::len(self)
    }
}

/// Equal when the same keys hold equal objects (positions aside).
impl<T: PartialEq> PartialEq for IndexedTable<T> {
    fn eq(&self, other: &Self) -> bool {
        self.order.len() == other.order.len() && self.iter().eq(other.iter())
    }
}

impl<T: std::fmt::Debug> std::fmt::Debug for IndexedTable<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

/// `a == b`, inline (no `memcmp` call for names of a few dozen bytes).
#[inline]
fn str_eq(a: &str, b: &str) -> bool {
    a.len() == b.len() && cmp_str(a, b).is_eq()
}

/// A fixed, seedless hash of a namespace and a name: FxHash's word step over the name's
/// eight-byte words (the last one overlapping the one before, as `cmp_str` reads them),
/// one step for the namespace, both lengths, and MurmurHash3's finaliser, so that names
/// differing only in their last bytes (`…-worker-17`, `…-worker-18`) reach the low bits
/// the probe starts from. The namespace counts: a cluster of tenants has the same names in
/// many namespaces (`tenant-7/data-db-0`), and keys hashing alike would share one long
/// probe run (the attach storm's 30 tenants made a claim look-up probe ≈ 40 cells). One
/// step over its first and last eight bytes tells such namespaces apart at the cost of a
/// multiply (node Leases, the most looked-up keys, all share one namespace); namespaces
/// alike in both only share a probe run, told apart by the compare. Equal keys hash equal.
#[inline]
fn key_hash(namespace: &str, name: &str) -> u64 {
    let h = ((namespace.len() as u64) << 32) | name.len() as u64;
    crate::hash::fmix64(mix_str(mix_ends(h, namespace), name))
}

/// One FxHash step over `s`'s first and last eight bytes (fewer when shorter).
#[inline]
fn mix_ends(h: u64, s: &str) -> u64 {
    let b = s.as_bytes();
    let n = b.len();
    if n < 8 {
        return mix_str(h, s);
    }
    let word = |at: usize| u64::from_le_bytes(b[at..at + 8].try_into().expect("8 bytes"));
    fx_step(h, word(0) ^ word(n - 8).rotate_left(29))
}

#[inline]
fn mix_str(mut h: u64, s: &str) -> u64 {
    let b = s.as_bytes();
    let n = b.len();
    let word = |at: usize| u64::from_le_bytes(b[at..at + 8].try_into().expect("8 bytes"));
    let half = |at: usize| u32::from_le_bytes(b[at..at + 4].try_into().expect("4 bytes"));
    if n >= 8 {
        let mut at = 0;
        while at + 8 <= n {
            h = fx_step(h, word(at));
            at += 8;
        }
        if at < n {
            h = fx_step(h, word(n - 8));
        }
    } else if n >= 4 {
        h = fx_step(h, (u64::from(half(0)) << 32) | u64::from(half(n - 4)));
    } else if n > 0 {
        let w = u64::from(b[0]) | (u64::from(b[n / 2]) << 8) | (u64::from(b[n - 1]) << 16);
        h = fx_step(h, w);
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{Lease, ObjectMeta, Table};

    fn lease(namespace: &str, name: &str, holder: &str) -> Rc<Lease> {
        let mut l = Lease {
            api_version: "coordination.k8s.io/v1".into(),
            kind: "Lease".into(),
            metadata: ObjectMeta::named(namespace, name),
            spec: Default::default(),
        };
        l.spec.holder_identity = Some(holder.into());
        Rc::new(l)
    }

    /// The same names in many namespaces (a cluster of tenants) spread over the index:
    /// inserting 30 namespaces × 10 names probes about as few cells as 300 names in one.
    #[test]
    fn the_same_names_in_many_namespaces_do_not_share_a_probe_run() {
        let mut table: IndexedTable<Lease> = IndexedTable::default();
        for t in 0..30 {
            for i in 0..10 {
                table.put(lease(&format!("tenant-{t}"), &format!("data-db-{i}"), "x"));
            }
        }
        let mask = table.cells.len() - 1;
        let mut probes = 0;
        for (hash, obj) in &table.entries {
            let meta = obj.meta();
            let (cell, _) = table.find(&meta.namespace, &meta.name).expect("stored");
            probes += ((cell + table.cells.len() - table.home(*hash)) & mask) + 1;
        }
        let mean = probes as f64 / table.entries.len() as f64;
        assert!(mean < 2.0, "a look-up probes {mean:.1} cells on average");
    }

    /// Puts, replacements and removals (the last object moving into a removed one's
    /// place) give what a `BTreeMap` table gives, for every look-up, walk and namespace
    /// walk.
    #[test]
    fn behaves_as_the_btree_table() {
        let mut indexed: IndexedTable<Lease> = IndexedTable::default();
        let mut tree: Table<Lease> = BTreeMap::new();
        let names = [
            ("kube-node-lease", "zone-a-worker-1"),
            ("kube-node-lease", "zone-a-worker-10"),
            ("kube-node-lease", "zone-b-worker-2"),
            ("kube-system", "kube-controller-manager"),
            ("", "x"),
            ("kube-node-lease", ""),
            ("kube-node-leas", "e"),
            // Same name, namespaces of one length: one hash, told apart by the compare.
            ("team-a", "db"),
            ("team-b", "db"),
        ];
        let mut step = 0u32;
        for round in 0..4 {
            for (i, (ns, n)) in names.iter().enumerate() {
                step += 1;
                let l = lease(ns, n, &format!("h{step}"));
                if (i + round) % 3 == 0 {
                    assert_eq!(
                        indexed.remove_by_parts(ns, n),
                        ObjectTable::remove_by_parts(&mut tree, ns, n)
                    );
                } else {
                    assert_eq!(indexed.put(Rc::clone(&l)), ObjectTable::put(&mut tree, l));
                }
                for (ns, n) in names {
                    let key = ObjectKey::new(ns, n);
                    assert_eq!(ObjectTable::get(&indexed, &key), tree.get(&key));
                    assert_eq!(indexed.get_by_parts(ns, n), tree.get(&key));
                    assert_eq!(indexed.get_mut(&key).cloned(), tree.get(&key).cloned());
                }
                assert!(indexed.iter().eq(tree.iter()));
                assert!(ObjectTable::values(&indexed).eq(tree.values()));
                for ns in [
                    "",
                    "kube-node-lease",
                    "kube-node-leas",
                    "kube-system",
                    "team-a",
                    "zz",
                ] {
                    assert!(indexed.values_in(ns).eq(ObjectTable::values_in(&tree, ns)));
                }
                let r =
                    ObjectKey::new("kube-node-lease", "")..ObjectKey::new("kube-node-lease\0", "");
                assert!(indexed.range(r.clone()).eq(tree.range(r)));
                let (from, to) = (
                    ObjectKey::new("kube-node-lease", "zone-a"),
                    ObjectKey::new("team-a", "db"),
                );
                assert!(
                    indexed
                        .values_between(from.clone(), to.clone())
                        .eq(ObjectTable::values_between(&tree, from, to))
                );
                assert_eq!(ObjectTable::len(&indexed), tree.len());
                assert_eq!(indexed.len(), tree.len());
                assert!(indexed.keys().eq(tree.keys()));
                assert!(indexed.values().eq(tree.values()));
                for (ns, n) in names {
                    let key = ObjectKey::new(ns, n);
                    assert_eq!(indexed.get(&key), tree.get(&key));
                    assert_eq!(indexed.contains_key(&key), tree.contains_key(&key));
                    if let Some(v) = tree.get(&key) {
                        assert_eq!(&indexed[&key], v);
                    }
                }
            }
        }
        // The map-style writes: insert, remove, retain.
        let mut step = 0u32;
        for (ns, n) in names {
            step += 1;
            let l = lease(ns, n, &format!("again{step}"));
            let key = ObjectKey::new(ns, n);
            assert_eq!(
                indexed.insert(key.clone(), Rc::clone(&l)),
                tree.insert(key, l)
            );
        }
        indexed.retain(|k, v| k.namespace.len() % 2 == 0 || v.spec.holder_identity.is_none());
        tree.retain(|k, v| k.namespace.len() % 2 == 0 || v.spec.holder_identity.is_none());
        assert!(indexed.iter().eq(tree.iter()));
        let key = ObjectKey::new("team-a", "db");
        assert_eq!(indexed.remove(&key), tree.remove(&key));
        assert!(indexed.iter().eq(tree.iter()));
        assert_eq!(indexed.is_empty(), tree.is_empty());
    }

    /// Keys that differ in the name or in either length (across the parts' boundary too)
    /// hash apart.
    #[test]
    fn key_hashes_tell_close_keys_apart() {
        let mut keys = vec![("", ""), ("a", "bc"), ("ab", "c"), ("abc", "")];
        let names: Vec<String> = (0..300)
            .map(|i| format!("zone-{}-worker-{}", ["a", "b", "c"][i % 3], i / 3))
            .collect();
        keys.extend(names.iter().map(|n| ("kube-node-lease", n.as_str())));
        let hashes: std::collections::BTreeSet<u64> =
            keys.iter().map(|(ns, n)| key_hash(ns, n)).collect();
        assert_eq!(hashes.len(), keys.len());
    }

    /// Many objects added and removed in a scrambled order (the index grows, cells are
    /// freed inside probe runs, the last entry moves into freed positions): every look-up
    /// and walk agrees with a `BTreeMap` table throughout.
    #[test]
    fn many_adds_and_removes_keep_every_object_reachable() {
        let mut indexed: IndexedTable<Lease> = IndexedTable::default();
        let mut tree: Table<Lease> = BTreeMap::new();
        let names: Vec<String> = (0..200).map(|i| format!("node-{i}")).collect();
        let mut x = 7usize;
        for step in 0..3000 {
            x = (x * 1_103_515_245 + 12_345) % 2_147_483_648;
            let n = &names[x % names.len()];
            if x % 5 < 2 {
                assert_eq!(
                    indexed.remove_by_parts("ns", n),
                    ObjectTable::remove_by_parts(&mut tree, "ns", n)
                );
            } else {
                let l = lease("ns", n, &format!("h{step}"));
                assert_eq!(indexed.put(Rc::clone(&l)), ObjectTable::put(&mut tree, l));
            }
            if step % 97 == 0 || step > 2900 {
                for n in &names {
                    assert_eq!(
                        indexed.get_by_parts("ns", n),
                        tree.get(&ObjectKey::new("ns", n))
                    );
                }
                assert!(indexed.iter().eq(tree.iter()));
            }
        }
    }
}
