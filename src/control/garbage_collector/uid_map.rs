//! The graph's table of nodes by uid (upstream `uidToNode`, a Go map). It is looked up on
//! every informer event of every kind, and a `BTreeMap<String, _>` search compared about
//! 30 uids per look-up, each a `memcmp` of strings that share their first 24 bytes
//! (`00000000-0000-4000-8000-…`). A hash table finds the node with one hash of the uid and
//! one comparison.
//!
//! The table is never iterated — only looked up, inserted into and removed from — so its
//! order cannot reach the simulation's output; it is an `IndexMap` (allowed by the
//! determinism lint) with a fixed hasher, so even its layout repeats from run to run.

use indexmap::IndexMap;
use std::hash::{BuildHasherDefault, Hasher};

/// Nodes by uid. Remove with `swap_remove` (order is never used).
pub(super) type UidMap<V> = IndexMap<String, V, BuildHasherDefault<UidHasher>>;

/// FxHash's word step with MurmurHash3's 64-bit finaliser: uids differ only in their last
/// bytes, which the word step leaves in the high bits; the finaliser spreads them to the low
/// bits the table indexes by.
#[derive(Default)]
pub(super) struct UidHasher(u64);

const K: u64 = 0x517c_c1b7_2722_0a95;

impl Hasher for UidHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let w = u64::from_le_bytes(c.try_into().expect("8 bytes"));
            self.0 = (self.0.rotate_left(5) ^ w).wrapping_mul(K);
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut last = [0u8; 8];
            last[..rest.len()].copy_from_slice(rest);
            let w = u64::from_le_bytes(last) ^ ((rest.len() as u64) << 59);
            self.0 = (self.0.rotate_left(5) ^ w).wrapping_mul(K);
        }
    }

    fn write_u8(&mut self, i: u8) {
        self.0 = (self.0.rotate_left(5) ^ u64::from(i)).wrapping_mul(K);
    }

    fn finish(&self) -> u64 {
        let mut h = self.0;
        h ^= h >> 33;
        h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
        h ^= h >> 33;
        h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        h ^ (h >> 33)
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
    fn finds_inserts_and_forgets_by_uid() {
        let mut m: UidMap<u32> = UidMap::default();
        for i in 0..100u32 {
            m.insert(format!("uid-{i}"), i);
        }
        m.swap_remove("uid-7");
        assert_eq!(m.get("uid-8"), Some(&8));
        assert_eq!(m.get("uid-7"), None);
        assert_eq!(m.len(), 99);
    }
}
