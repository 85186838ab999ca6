//! `v1.ResourceList` of a Node's status (capacity, allocatable), shared between versions of
//! the Node: a status write copies the whole status, and these two maps, set once when the
//! kubelet registers, are the same in every later version. A copy is one reference count;
//! a change copies the map first (copy-on-write, through `DerefMut`).
//!
//! It reads, compares, prints and serializes as the map it holds.

use crate::api::Quantity;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::BTreeMap;
use std::fmt;
use std::ops::{Deref, DerefMut};
use std::rc::Rc;

/// Resource name → quantity, shared copy-on-write.
#[derive(Clone, Default)]
pub struct ResourceList(Rc<BTreeMap<String, Quantity>>);

impl ResourceList {
    /// (For `skip_serializing_if`, which names a function.)
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl Deref for ResourceList {
    type Target = BTreeMap<String, Quantity>;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl DerefMut for ResourceList {
    fn deref_mut(&mut self) -> &mut Self::Target {
        Rc::make_mut(&mut self.0)
    }
}

impl From<BTreeMap<String, Quantity>> for ResourceList {
    fn from(map: BTreeMap<String, Quantity>) -> Self {
        ResourceList(Rc::new(map))
    }
}

impl FromIterator<(String, Quantity)> for ResourceList {
    fn from_iter<I: IntoIterator<Item = (String, Quantity)>>(iter: I) -> Self {
        ResourceList(Rc::new(iter.into_iter().collect()))
    }
}

impl PartialEq for ResourceList {
    fn eq(&self, other: &Self) -> bool {
        // Versions of one Node share the map: equal without reading it.
        Rc::ptr_eq(&self.0, &other.0) || self.0 == other.0
    }
}

impl fmt::Debug for ResourceList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl Serialize for ResourceList {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

impl<'de> Deserialize<'de> for ResourceList {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        BTreeMap::deserialize(d).map(ResourceList::from)
    }
}

#[cfg(test)]
mod tests {
    use super::ResourceList;
    use crate::api::Quantity;

    #[test]
    fn copies_share_until_changed_and_serialize_as_the_map() {
        let a: ResourceList = [("cpu".to_string(), Quantity("16".into()))]
            .into_iter()
            .collect();
        let mut b = a.clone();
        assert_eq!(a, b);
        b.insert("memory".into(), Quantity("64Gi".into()));
        assert_ne!(a, b);
        assert_eq!(a.len(), 1);
        assert_eq!(
            serde_json::to_string(&b).unwrap(),
            r#"{"cpu":"16","memory":"64Gi"}"#
        );
        assert_eq!(format!("{a:?}"), r#"{"cpu": Quantity("16")}"#);
    }
}
