//! Looking up an [`ObjectKey`]-keyed map by borrowed namespace and name, without building
//! a key (two `String`s) for every look-up: `ObjectKey` borrows as `dyn KeyRef`, which
//! orders exactly as `ObjectKey` does (namespace, then name).
//!
//! Also the comparison both orders use. Keys are compared millions of times per run (every
//! `BTreeMap` search in the store, the informer caches and the controllers' maps), and
//! `str::cmp` calls the C library's `memcmp` for each, whose call and set-up cost more than
//! the comparison of two short names itself; `cmp_str` compares eight bytes at a time
//! inline and gives exactly `str::cmp`'s order.

use super::ObjectKey;
use std::borrow::Borrow;
use std::cmp::Ordering;
use std::collections::BTreeMap;

/// A namespace and a name, owned or borrowed.
pub trait KeyRef {
    fn parts(&self) -> (&str, &str);
}

impl KeyRef for ObjectKey {
    fn parts(&self) -> (&str, &str) {
        (&self.namespace, &self.name)
    }
}

impl KeyRef for (&str, &str) {
    fn parts(&self) -> (&str, &str) {
        (self.0, self.1)
    }
}

impl<'a> Borrow<dyn KeyRef + 'a> for ObjectKey {
    fn borrow(&self) -> &(dyn KeyRef + 'a) {
        self
    }
}

impl PartialEq for dyn KeyRef + '_ {
    fn eq(&self, other: &Self) -> bool {
        self.parts() == other.parts()
    }
}

impl Eq for dyn KeyRef + '_ {}

impl PartialOrd for dyn KeyRef + '_ {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for dyn KeyRef + '_ {
    fn cmp(&self, other: &Self) -> Ordering {
        cmp_parts(self.parts(), other.parts())
    }
}

/// (namespace, name) pairs in `ObjectKey`'s order.
#[inline]
pub fn cmp_parts(a: (&str, &str), b: (&str, &str)) -> Ordering {
    cmp_str(a.0, b.0).then_with(|| cmp_str(a.1, b.1))
}

/// `a.cmp(b)`, the byte-wise lexicographic order, without a call to `memcmp`: the common
/// length is compared as big-endian words (whose integer order is the byte order), the
/// last word overlapping the one before it (bytes already found equal compare equal
/// again), then the lengths decide.
#[inline]
pub fn cmp_str(a: &str, b: &str) -> Ordering {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let n = a.len().min(b.len());
    let word = |s: &[u8], at: usize| u64::from_be_bytes(s[at..at + 8].try_into().expect("8"));
    let half = |s: &[u8], at: usize| u32::from_be_bytes(s[at..at + 4].try_into().expect("4"));
    let common = if n >= 8 {
        let mut i = 0;
        loop {
            let at = i.min(n - 8);
            let (x, y) = (word(a, at), word(b, at));
            if x != y {
                break x.cmp(&y);
            }
            i += 8;
            if i >= n {
                break Ordering::Equal;
            }
        }
    } else if n >= 4 {
        let (x, y) = (half(a, 0), half(b, 0));
        let (u, v) = (half(a, n - 4), half(b, n - 4));
        x.cmp(&y).then(u.cmp(&v))
    } else {
        (0..n)
            .map(|i| a[i].cmp(&b[i]))
            .find(|o| o.is_ne())
            .unwrap_or(Ordering::Equal)
    };
    common.then(a.len().cmp(&b.len()))
}

/// `map[namespace/name]`, without allocating a key.
pub fn get_by_parts<'m, V>(
    map: &'m BTreeMap<ObjectKey, V>,
    namespace: &str,
    name: &str,
) -> Option<&'m V> {
    map.get(&(namespace, name) as &dyn KeyRef)
}

/// `map.remove(namespace/name)`, without allocating a key.
pub fn remove_by_parts<V>(
    map: &mut BTreeMap<ObjectKey, V>,
    namespace: &str,
    name: &str,
) -> Option<V> {
    map.remove(&(namespace, name) as &dyn KeyRef)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cmp_str_orders_as_str_does() {
        let words = [
            "",
            "a",
            "b",
            "ab",
            "abc",
            "abcdefgh",
            "abcdefgi",
            "abcdefghi",
            "abcdefgh0",
            "abcdefg",
            "node-zone-a-worker-17",
            "node-zone-a-worker-170",
            "node-zone-a-worker-2",
            "node-zone-b-worker-1",
            "tenant-07",
            "tenant-7",
            "tenant-07-db-0",
            "\u{e9}t\u{e9}",
            "zz",
            "\u{ff}\u{ff}\u{ff}\u{ff}\u{ff}",
            "~",
            "Z",
            "0123456789abcdef",
            "0123456789abcdeg",
        ];
        // Every string of up to 9 letters from {a, b}: each length on each side of the
        // word and half-word boundaries, every position of the first difference.
        let mut small = vec![String::new()];
        for len in 1..=9 {
            for bits in 0..(1u32 << len) {
                small.push(
                    (0..len)
                        .map(|i| if bits >> i & 1 == 1 { 'b' } else { 'a' })
                        .collect(),
                );
            }
        }
        for a in &small {
            for b in &small {
                assert_eq!(cmp_str(a, b), a.cmp(b), "{a:?} vs {b:?}");
            }
        }
        for a in words {
            for b in words {
                assert_eq!(cmp_str(a, b), a.cmp(b), "{a:?} vs {b:?}");
                let (ka, kb) = (ObjectKey::new(a, b), ObjectKey::new(b, a));
                assert_eq!(
                    ka.cmp(&kb),
                    (a, b).cmp(&(b, a)),
                    "{a:?}/{b:?} vs {b:?}/{a:?}"
                );
            }
        }
    }

    #[test]
    fn borrowed_lookups_find_what_owned_keys_find() {
        let mut m = BTreeMap::new();
        for (ns, n) in [
            ("a", "x"),
            ("a", "y"),
            ("", "node-1"),
            ("b", "x"),
            ("ab", ""),
        ] {
            m.insert(ObjectKey::new(ns, n), format!("{ns}/{n}"));
        }
        for (ns, n) in [
            ("a", "x"),
            ("a", "y"),
            ("", "node-1"),
            ("b", "x"),
            ("ab", ""),
        ] {
            assert_eq!(
                get_by_parts(&m, ns, n),
                m.get(&ObjectKey::new(ns, n)),
                "{ns}/{n}"
            );
        }
        assert_eq!(get_by_parts(&m, "a", "z"), None);
        assert_eq!(get_by_parts(&m, "", "x"), None);
    }
}
