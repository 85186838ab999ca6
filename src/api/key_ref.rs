//! Looking up an [`ObjectKey`]-keyed map by borrowed namespace and name, without building
//! a key (two `String`s) for every look-up: `ObjectKey` borrows as `dyn KeyRef`, which
//! orders exactly as `ObjectKey` does (namespace, then name).

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
        self.parts().cmp(&other.parts())
    }
}

/// `map[namespace/name]`, without allocating a key.
pub fn get_by_parts<'m, V>(
    map: &'m BTreeMap<ObjectKey, V>,
    namespace: &str,
    name: &str,
) -> Option<&'m V> {
    map.get(&(namespace, name) as &dyn KeyRef)
}

#[cfg(test)]
mod tests {
    use super::*;

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
