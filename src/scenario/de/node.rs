//! The deserializer for one node of the tree: type checks worded for YAML users, null read
//! as empty, `Loc<T>` positions, and the strict unknown-field sweep of structs.

use super::access::{LocSeq, MapDe, SeqDe};
use super::error::{DeError, field_hint};
use super::{Ctx, LOC_MAGIC, join};
use crate::scenario::yaml::{Entry, Node, Pos, Value};
use serde::de::value::StrDeserializer;
use serde::de::{self, IntoDeserializer, Visitor};

/// Deserializes one node.
pub(super) struct NodeDe<'a> {
    pub(super) node: &'a Node,
    pub(super) path: String,
    pub(super) ctx: &'a Ctx,
}

impl<'a> NodeDe<'a> {
    fn type_error(&self, expected: &str) -> DeError {
        let hint = match (&self.node.value, expected) {
            (Value::Bool(_) | Value::Int(_) | Value::UInt(_) | Value::Float(_), "a string") => {
                Some("put the value in quotes to make it a string".to_string())
            }
            (Value::Str(s), "a boolean (true or false)")
                if matches!(s.as_str(), "yes" | "no" | "on" | "off") =>
            {
                Some("YAML 1.2 booleans are only true and false".to_string())
            }
            _ => None,
        };
        DeError::at(
            self.node.pos,
            &self.path,
            format!("expected {expected}, found {}", self.node.describe()),
        )
        .hinted(hint)
    }
    fn locate<T>(pos: Pos, path: &str, r: Result<T, DeError>) -> Result<T, DeError> {
        r.map_err(|e| e.locate(pos, path))
    }
    fn seq(&self, items: &'a [Node]) -> SeqDe<'a> {
        SeqDe {
            items,
            next: 0,
            path: self.path.clone(),
            ctx: self.ctx,
        }
    }
    fn map(&self, entries: Vec<&'a Entry>) -> MapDe<'a> {
        MapDe {
            entries,
            next: 0,
            pending: None,
            path: self.path.clone(),
            ctx: self.ctx,
        }
    }
    fn integer<'de, V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let r = match self.node.value {
            Value::Int(i) => visitor.visit_i64(i),
            Value::UInt(u) => visitor.visit_u64(u),
            _ => return Err(self.type_error("an integer")),
        };
        Self::locate(self.node.pos, &self.path, r)
    }
    fn string<'de, V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let r = match &self.node.value {
            Value::Str(s) => visitor.visit_str(s),
            Value::Null => visitor.visit_str(""),
            _ => return Err(self.type_error("a string")),
        };
        Self::locate(self.node.pos, &self.path, r)
    }
    fn list<'de, V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let r = match &self.node.value {
            Value::Seq(items) => visitor.visit_seq(self.seq(items)),
            Value::Null => visitor.visit_seq(self.seq(&[])),
            _ => return Err(self.type_error("a list")),
        };
        Self::locate(self.node.pos, &self.path, r)
    }
}

macro_rules! integers {
    ($($method:ident)*) => {
        $(fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
            self.integer(visitor)
        })*
    };
}

impl<'de, 'a> de::Deserializer<'de> for NodeDe<'a> {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let r = match &self.node.value {
            Value::Null => visitor.visit_unit(),
            Value::Bool(b) => visitor.visit_bool(*b),
            Value::Int(i) => visitor.visit_i64(*i),
            Value::UInt(u) => visitor.visit_u64(*u),
            Value::Float(f) => visitor.visit_f64(*f),
            Value::Str(s) => visitor.visit_str(s),
            Value::Seq(items) => visitor.visit_seq(self.seq(items)),
            Value::Map(entries) => visitor.visit_map(self.map(entries.iter().collect())),
        };
        Self::locate(self.node.pos, &self.path, r)
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self.node.value {
            Value::Bool(b) => Self::locate(self.node.pos, &self.path, visitor.visit_bool(b)),
            _ => Err(self.type_error("a boolean (true or false)")),
        }
    }

    integers!(deserialize_i8 deserialize_i16 deserialize_i32 deserialize_i64 deserialize_i128
              deserialize_u8 deserialize_u16 deserialize_u32 deserialize_u64 deserialize_u128);

    fn deserialize_f32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_f64(visitor)
    }

    fn deserialize_f64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let r = match self.node.value {
            Value::Int(i) => visitor.visit_i64(i),
            Value::UInt(u) => visitor.visit_u64(u),
            Value::Float(f) => visitor.visit_f64(f),
            _ => return Err(self.type_error("a number")),
        };
        Self::locate(self.node.pos, &self.path, r)
    }

    fn deserialize_char<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.string(visitor)
    }
    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.string(visitor)
    }
    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.string(visitor)
    }
    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.string(visitor)
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match &self.node.value {
            Value::Str(s) => {
                Self::locate(self.node.pos, &self.path, visitor.visit_bytes(s.as_bytes()))
            }
            _ => Err(self.type_error("a string")),
        }
    }
    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_bytes(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let (pos, path) = (self.node.pos, self.path.clone());
        let r = if self.node.is_null() {
            visitor.visit_none()
        } else {
            visitor.visit_some(self)
        };
        Self::locate(pos, &path, r)
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        if self.node.is_null() {
            Self::locate(self.node.pos, &self.path, visitor.visit_unit())
        } else {
            Err(self.type_error("null"))
        }
    }
    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_unit(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        let (pos, path) = (self.node.pos, self.path.clone());
        let r = if name == LOC_MAGIC {
            visitor.visit_seq(LocSeq {
                pos,
                value: Some(self),
                state: 0,
            })
        } else {
            visitor.visit_newtype_struct(self)
        };
        Self::locate(pos, &path, r)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.list(visitor)
    }
    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.list(visitor)
    }
    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.list(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let r = match &self.node.value {
            Value::Map(entries) => visitor.visit_map(self.map(entries.iter().collect())),
            Value::Null => visitor.visit_map(self.map(Vec::new())),
            _ => return Err(self.type_error("a map")),
        };
        Self::locate(self.node.pos, &self.path, r)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        let entries: Vec<&Entry> = match &self.node.value {
            Value::Map(entries) => entries.iter().collect(),
            Value::Null => Vec::new(),
            _ => return Err(self.type_error("a map")),
        };
        let known = if self.ctx.strict {
            let (known, unknown): (Vec<&Entry>, Vec<&Entry>) = entries
                .into_iter()
                .partition(|e| fields.contains(&e.key.as_str()));
            let mut collected = self.ctx.collected.borrow_mut();
            for e in unknown {
                let error = DeError::at(
                    e.key_pos,
                    &join(&self.path, &e.key),
                    format!("unknown field `{}`", e.key),
                );
                collected.push(error.hinted(field_hint(&e.key, fields)));
            }
            known
        } else {
            entries
        };
        Self::locate(
            self.node.pos,
            &self.path,
            visitor.visit_map(self.map(known)),
        )
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        match &self.node.value {
            Value::Str(s) => {
                let access: StrDeserializer<'_, DeError> = s.as_str().into_deserializer();
                Self::locate(self.node.pos, &self.path, visitor.visit_enum(access))
            }
            _ => Err(self.type_error(&format!("one of {}", variants.join(", ")))),
        }
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        visitor.visit_unit()
    }
}
