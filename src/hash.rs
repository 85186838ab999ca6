//! Fixed, seedless hashing shared by the places that hash for speed (filters, look-up
//! tables, cache keys): the same input hashes the same on every run and every machine,
//! so a run never depends on a per-process seed.

/// MurmurHash3's 64-bit finaliser (`fmix64`): spreads every input bit over every output
/// bit, so keys that differ only in their last bytes (uids, ordinal names) land far apart.
pub fn fmix64(mut h: u64) -> u64 {
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^ (h >> 33)
}

/// FxHash's word step (rustc's `FxHasher`): folds one eight-byte word into `h`. Cheap, but
/// it leaves a word's last bytes in the high bits: finish with [`fmix64`] before indexing
/// by the low bits.
#[inline]
pub fn fx_step(h: u64, word: u64) -> u64 {
    (h.rotate_left(5) ^ word).wrapping_mul(0x517c_c1b7_2722_0a95)
}

#[cfg(test)]
mod tests {
    #[test]
    fn fmix64_is_murmur3s_finaliser() {
        // Reference values of MurmurHash3's fmix64.
        assert_eq!(super::fmix64(0), 0);
        assert_eq!(super::fmix64(1), 0xb456_bcfc_34c2_cb2c);
    }
}
