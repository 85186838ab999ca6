//! What node deserializers hand to visitors: list items, map entries, map keys (located at
//! the key), and the line/column/value triple that `Loc<T>` reads.

use super::error::DeError;
use super::node::NodeDe;
use super::{Ctx, LOC_MAGIC, index, join};
use crate::scenario::yaml::{Entry, Node, Pos};
use serde::de::value::{StrDeserializer, U64Deserializer};
use serde::de::{self, DeserializeSeed, IntoDeserializer, MapAccess, SeqAccess, Visitor};

/// The items of a list.
pub(super) struct SeqDe<'a> {
    pub(super) items: &'a [Node],
    pub(super) next: usize,
    pub(super) path: String,
    pub(super) ctx: &'a Ctx,
}

impl<'de> SeqAccess<'de> for SeqDe<'_> {
    type Error = DeError;
    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, DeError> {
        let Some(node) = self.items.get(self.next) else {
            return Ok(None);
        };
        let path = index(&self.path, self.next);
        self.next += 1;
        seed.deserialize(NodeDe {
            node,
            path,
            ctx: self.ctx,
        })
        .map(Some)
    }
    fn size_hint(&self) -> Option<usize> {
        Some(self.items.len() - self.next)
    }
}

/// The entries of a map (for a strict struct: only its known fields).
pub(super) struct MapDe<'a> {
    pub(super) entries: Vec<&'a Entry>,
    pub(super) next: usize,
    pub(super) pending: Option<&'a Entry>,
    pub(super) path: String,
    pub(super) ctx: &'a Ctx,
}

impl<'de> MapAccess<'de> for MapDe<'_> {
    type Error = DeError;
    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DeError> {
        let Some(&entry) = self.entries.get(self.next) else {
            return Ok(None);
        };
        self.next += 1;
        self.pending = Some(entry);
        let key = KeyDe {
            key: &entry.key,
            pos: entry.key_pos,
            path: join(&self.path, &entry.key),
        };
        seed.deserialize(key).map(Some)
    }
    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, DeError> {
        let entry = self
            .pending
            .take()
            .ok_or_else(|| DeError::new("a map value was read before its key"))?;
        seed.deserialize(NodeDe {
            node: &entry.value,
            path: join(&self.path, &entry.key),
            ctx: self.ctx,
        })
    }
    fn size_hint(&self) -> Option<usize> {
        Some(self.entries.len() - self.next)
    }
}

/// Deserializes a map key (always text), located at the key.
struct KeyDe<'a> {
    key: &'a str,
    pos: Pos,
    path: String,
}

impl<'de> de::Deserializer<'de> for KeyDe<'_> {
    type Error = DeError;
    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        visitor
            .visit_str(self.key)
            .map_err(|e: DeError| e.locate(self.pos, &self.path))
    }
    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        let (pos, path) = (self.pos, self.path.clone());
        let r = if name == LOC_MAGIC {
            visitor.visit_seq(LocSeq {
                pos,
                value: Some(self),
                state: 0,
            })
        } else {
            visitor.visit_newtype_struct(self)
        };
        r.map_err(|e| e.locate(pos, &path))
    }
    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        let access: StrDeserializer<'_, DeError> = self.key.into_deserializer();
        visitor
            .visit_enum(access)
            .map_err(|e| e.locate(self.pos, &self.path))
    }
    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let (pos, path) = (self.pos, self.path.clone());
        visitor.visit_some(self).map_err(|e| e.locate(pos, &path))
    }
    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct seq tuple tuple_struct map struct identifier ignored_any
    }
}

/// What `Loc<T>` reads: line, column, then the value itself.
pub(super) struct LocSeq<D> {
    pub(super) pos: Pos,
    pub(super) value: Option<D>,
    pub(super) state: u8,
}

impl<'de, D: de::Deserializer<'de, Error = DeError>> SeqAccess<'de> for LocSeq<D> {
    type Error = DeError;
    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, DeError> {
        self.state += 1;
        match self.state {
            1 => seed
                .deserialize(U64Deserializer::<DeError>::new(self.pos.line))
                .map(Some),
            2 => seed
                .deserialize(U64Deserializer::<DeError>::new(self.pos.column))
                .map(Some),
            _ => match self.value.take() {
                Some(d) => seed.deserialize(d).map(Some),
                None => Ok(None),
            },
        }
    }
}
