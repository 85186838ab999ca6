//! Which claims a node's volume manager may be waiting on, as a 1,024-bit filter.
//!
//! Every claim change is offered to every kubelet (`NodeAgents::deliver`), and each asks its
//! own `claim_users` map whether a pod of its waits on that claim: in a 1,000-pod scale-up
//! on 50 nodes that is 300,000 string-keyed map searches, nearly all of them misses. The
//! filter answers "certainly not" for most of them with one bit test. It may answer "maybe"
//! for a claim nobody waits on (then the map says no, as before), never "no" for a claim
//! somebody waits on, so which kubelets act on a change — and in which order — is
//! unchanged. The hash is FNV-1a with a finaliser: fixed, so a run does not depend on a per-process seed
//! (it only decides speed, not behaviour, but runs should cost the same every time).

use crate::api::ObjectKey;
use crate::hash::fmix64;

/// A claim's hash, computed once per change and tested against each node's filter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClaimHash(u64);

impl ClaimHash {
    pub fn of(claim: &ObjectKey) -> Self {
        const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
        const PRIME: u64 = 0x0000_0100_0000_01b3;
        let mut h = OFFSET;
        // The separator keeps ("ab", "c") and ("a", "bc") apart.
        let parts = claim
            .namespace
            .bytes()
            .chain([b'/'])
            .chain(claim.name.bytes());
        for b in parts {
            h = (h ^ u64::from(b)).wrapping_mul(PRIME);
        }
        // FNV's last byte barely reaches the high bits, and claim names of one set differ
        // only in their last bytes: MurmurHash3's finaliser spreads them.
        ClaimHash(fmix64(h))
    }

    fn bit(self) -> (usize, u64) {
        let b = (self.0 >> 54) as usize;
        (b / 64, 1 << (b % 64))
    }
}

/// A superset of the claims in the volume manager's `claim_users`.
#[derive(Clone, Debug, Default)]
pub struct ClaimFilter {
    bits: [u64; 16],
}

impl ClaimFilter {
    pub fn insert(&mut self, claim: &ObjectKey) {
        let (word, mask) = ClaimHash::of(claim).bit();
        self.bits[word] |= mask;
    }

    /// False only if no claim with this hash was inserted since the last rebuild.
    pub fn may_contain(&self, hash: ClaimHash) -> bool {
        let (word, mask) = hash.bit();
        self.bits[word] & mask != 0
    }

    /// Forgets removed claims: the filter of exactly `claims`.
    pub fn rebuild<'a>(&mut self, claims: impl Iterator<Item = &'a ObjectKey>) {
        self.bits = [0; 16];
        for c in claims {
            self.insert(c);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_says_no_to_an_inserted_claim() {
        let mut f = ClaimFilter::default();
        let claims: Vec<ObjectKey> = (0..200)
            .map(|i| ObjectKey::new("default", &format!("www-web-{i}")))
            .collect();
        for c in &claims {
            f.insert(c);
        }
        assert!(claims.iter().all(|c| f.may_contain(ClaimHash::of(c))));
    }

    #[test]
    fn turns_most_other_claims_away_and_forgets_on_rebuild() {
        let mut f = ClaimFilter::default();
        let mine: Vec<ObjectKey> = (0..20)
            .map(|i| ObjectKey::new("default", &format!("www-web-{i}")))
            .collect();
        for c in &mine {
            f.insert(c);
        }
        let others = (20..1020)
            .map(|i| ObjectKey::new("default", &format!("www-web-{i}")))
            .filter(|c| f.may_contain(ClaimHash::of(c)))
            .count();
        // 20 bits of 1,024 set: about 2 % of other claims pass; allow twice that.
        assert!(others < 40, "{others} of 1000 other claims passed");
        f.rebuild(mine[..1].iter());
        let still = mine[1..]
            .iter()
            .filter(|c| f.may_contain(ClaimHash::of(c)))
            .count();
        assert!(still < 2, "{still} of 19 removed claims still pass");
        assert!(f.may_contain(ClaimHash::of(&mine[0])));
    }

    #[test]
    fn namespace_and_name_are_kept_apart() {
        let a = ClaimHash::of(&ObjectKey::new("ab", "c"));
        let b = ClaimHash::of(&ObjectKey::new("a", "bc"));
        assert_ne!(a, b);
    }
}
