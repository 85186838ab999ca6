//! `Loc<T>`: a decoded value together with the position of its YAML node, for checks
//! that happen after decoding (a duration past the end, an unknown feature gate).

use super::de::LOC_MAGIC;
use super::yaml::Pos;
use serde::de::{self, Deserialize, Deserializer, SeqAccess, Visitor};
use std::fmt;
use std::marker::PhantomData;

#[derive(Clone, Debug, PartialEq)]
pub struct Loc<T> {
    pub value: T,
    pub pos: Pos,
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Loc<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_newtype_struct(LOC_MAGIC, LocVisitor(PhantomData))
    }
}

struct LocVisitor<T>(PhantomData<T>);

impl<'de, T: Deserialize<'de>> Visitor<'de> for LocVisitor<T> {
    type Value = Loc<T>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a value")
    }
    /// From the scenario deserializer: line, column, value.
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Loc<T>, A::Error> {
        let line = seq
            .next_element::<u64>()?
            .ok_or_else(|| de::Error::invalid_length(0, &self))?;
        let column = seq
            .next_element::<u64>()?
            .ok_or_else(|| de::Error::invalid_length(1, &self))?;
        let value = seq
            .next_element::<T>()?
            .ok_or_else(|| de::Error::invalid_length(2, &self))?;
        Ok(Loc {
            value,
            pos: Pos { line, column },
        })
    }
    /// From any other deserializer: the value, position unknown.
    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<Loc<T>, D::Error> {
        Ok(Loc {
            value: T::deserialize(d)?,
            pos: Pos::default(),
        })
    }
}

/// A map whose keys keep their positions, in the order written.
#[derive(Clone, Debug, PartialEq)]
pub struct LocMap<V>(pub Vec<(Loc<String>, V)>);

impl<V> Default for LocMap<V> {
    fn default() -> Self {
        LocMap(Vec::new())
    }
}

impl<'de, V: Deserialize<'de>> Deserialize<'de> for LocMap<V> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct MapVisitor<V>(PhantomData<V>);
        impl<'de, V: Deserialize<'de>> Visitor<'de> for MapVisitor<V> {
            type Value = LocMap<V>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a map")
            }
            fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<LocMap<V>, A::Error> {
                let mut out = Vec::new();
                while let Some(key) = map.next_key::<Loc<String>>()? {
                    out.push((key, map.next_value::<V>()?));
                }
                Ok(LocMap(out))
            }
        }
        d.deserialize_map(MapVisitor(PhantomData))
    }
}
