//! Maps that are only looked up — never iterated — keyed by uids or object keys, for the
//! hottest look-ups: the garbage collector's graph (`uidToNode`, a look-up per informer
//! event of every kind), the PV controller's claim store (two per claim event) and the
//! trace writer's last JSON of each object (one per traced write). A utility below
//! `control` and `trace`, so that neither imports the other.
//! A `BTreeMap<String, _>` search compares about 10–30 keys, each a string comparison of
//! names that often share long prefixes (uids are `00000000-0000-4000-8000-…`); a hash
//! table finds the entry with one hash and one comparison.
//!
//! Never iterated (only looked up, inserted into and removed from), so their order cannot
//! reach the simulation's output; they are `IndexMap`s (allowed by the determinism lint)
//! with a fixed hasher, so even their layout repeats from run to run.

use crate::api::key_ref::KeyRef;
use crate::hash::{fmix64, fx_step};
use indexmap::IndexMap;
use std::hash::{BuildHasherDefault, Hash, Hasher};

/// A map only looked up. Remove with `swap_remove` (order is never used).
pub type LookupMap<K, V> = IndexMap<K, V, BuildHasherDefault<UidHasher>>;

/// An `ObjectKey`-keyed [`LookupMap`] is looked up by borrowed parts (`&dyn KeyRef`, as the
/// `BTreeMap`s are): hashed as `ObjectKey`'s derived `Hash` hashes its two strings.
impl Hash for dyn KeyRef + '_ {
    fn hash<H: Hasher>(&self, state: &mut H) {
        let (namespace, name) = self.parts();
        namespace.hash(state);
        name.hash(state);
    }
}

/// FxHash's word step with MurmurHash3's 64-bit finaliser: uids differ only in their last
/// bytes, which the word step leaves in the high bits; the finaliser spreads them to the low
/// bits the table indexes by.
#[derive(Default)]
pub struct UidHasher(u64);

impl Hasher for UidHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let w = u64::from_le_bytes(c.try_into().expect("8 bytes"));
            self.0 = fx_step(self.0, w);
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut last = [0u8; 8];
            last[..rest.len()].copy_from_slice(rest);
            let w = u64::from_le_bytes(last) ^ ((rest.len() as u64) << 59);
            self.0 = fx_step(self.0, w);
        }
    }

    fn write_u8(&mut self, i: u8) {
        self.0 = fx_step(self.0, u64::from(i));
    }

    fn finish(&self) -> u64 {
        fmix64(self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::hash::BuildHasher;

    #[test]
    fn uids_that_differ_in_their_last_digit_land_in_different_low_bits() {
        let b = BuildHasherDefault::<UidHasher>::default();
        let low: std::collections::BTreeSet<u64> = (1..=64u64)
            .map(|i| b.hash_one(format!("00000000-0000-4000-8000-{i:012x}")) & 0xff)
            .collect();
        // 64 uids into 256 low-byte buckets: nearly all distinct (a weak hash gives 1).
        assert!(low.len() > 48, "{} distinct", low.len());
    }

    #[test]
    fn an_object_key_is_found_by_its_borrowed_parts() {
        use crate::api::ObjectKey;
        let mut m: LookupMap<ObjectKey, u32> = LookupMap::default();
        m.insert(ObjectKey::new("ns", "a"), 1);
        m.insert(ObjectKey::new("ns", "b"), 2);
        assert_eq!(m.get(&("ns", "b") as &dyn KeyRef), Some(&2));
        assert_eq!(m.get(&ObjectKey::new("ns", "a")), Some(&1));
        assert_eq!(m.get(&("n", "sa") as &dyn KeyRef), None);
    }

    #[test]
    fn finds_inserts_and_forgets_by_uid() {
        let mut m: LookupMap<String, u32> = LookupMap::default();
        for i in 0..100u32 {
            m.insert(format!("uid-{i}"), i);
        }
        m.swap_remove("uid-7");
        assert_eq!(m.get("uid-8"), Some(&8));
        assert_eq!(m.get("uid-7"), None);
        assert_eq!(m.len(), 99);
    }
}
