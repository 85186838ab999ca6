//! A compact JSON `serde::Serializer` for trace lines that writes exactly the bytes
//! `serde_json::to_writer` writes, only faster on strings ([`super::escape`]): serde_json
//! lets a `Formatter` change how escapes look but not how a string is scanned, and the
//! scan was most of the trace's cost.
//!
//! Same output as serde_json's `Serializer<_, CompactFormatter>` for every shape: maps and
//! structs as `{"k":v,…}`, sequences, tuples and bytes as `[…]`, `None`/unit/unit structs
//! as `null`, unit variants as strings, other variants as `{"Variant":…}`, newtype structs
//! transparent. Floats and 128-bit integers are rare here (only inside free-form
//! `serde_json::Value`s) and are handed to serde_json itself so their formatting is its
//! own. Anything this writer does not reproduce exactly — a map key that is not a string,
//! a `RawValue` — is an [`Unsupported`] error, and the caller then writes the line with
//! serde_json instead.

use super::escape::write_str;
use serde::ser::{self, Serialize};
use std::fmt;

/// Serialises `value` as compact JSON onto `out`. On error, `out` holds a partial line.
pub fn to_vec<T: ?Sized + Serialize>(out: &mut Vec<u8>, value: &T) -> Result<(), Unsupported> {
    value.serialize(Json { out })
}

/// A value this writer leaves to serde_json. It carries no message: the caller only
/// needs to know that it must write the line with serde_json, and an error that is a
/// single byte keeps every `?` on the hot path a register test.
#[derive(Debug)]
pub struct Unsupported;

impl fmt::Display for Unsupported {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a value left to serde_json")
    }
}

impl std::error::Error for Unsupported {}

impl ser::Error for Unsupported {
    fn custom<T: fmt::Display>(_msg: T) -> Self {
        Unsupported
    }
}

/// `what` says, where it is called, which value is refused.
fn unsupported<T>(_what: &str) -> Result<T, Unsupported> {
    Err(Unsupported)
}

/// `serde_json` writes integers with `itoa`: plain decimal, `-` for negatives
/// (`crate::decimal`, itoa's method; sequence numbers and microsecond times are 5–9 digits).
pub fn write_u64(out: &mut Vec<u8>, v: u64) {
    out.extend_from_slice(crate::decimal::Decimal::of(v).as_bytes());
}

pub fn write_i64(out: &mut Vec<u8>, v: i64) {
    if v < 0 {
        out.push(b'-');
    }
    write_u64(out, v.unsigned_abs());
}

/// Hands one scalar to serde_json (floats, 128-bit integers): its bytes, by construction.
fn by_serde_json<T: Serialize>(out: &mut Vec<u8>, v: T) -> Result<(), Unsupported> {
    serde_json::to_writer(out, &v).map_err(|_| Unsupported)
}

/// The serializer: a borrowed output buffer.
pub struct Json<'a> {
    out: &'a mut Vec<u8>,
}

/// A sequence, map or struct being written; `first` decides the comma.
pub struct Compound<'a> {
    out: &'a mut Vec<u8>,
    first: bool,
    /// Closing bytes: `]`, `}`, or `]}` / `}}` for a variant's contents.
    close: &'static [u8],
}

impl Compound<'_> {
    #[inline(always)]
    fn comma(&mut self) {
        if self.first {
            self.first = false;
        } else {
            self.out.push(b',');
        }
    }

    #[inline(always)]
    fn element<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), Unsupported> {
        self.comma();
        value.serialize(Json { out: self.out })
    }

    /// `,"key":value`. A struct's keys are its field names (Rust identifiers, camelCased,
    /// or a `rename`: none in this crate needs an escape, which debug builds check on
    /// every field written), so they are copied without the escape scan; inlined, the
    /// copy of a literal key is a few fixed-size moves.
    #[inline(always)]
    fn field<T: ?Sized + Serialize>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), Unsupported> {
        debug_assert!(
            super::escape::needs_no_escape(key),
            "struct field name {key:?} needs an escape"
        );
        let out = &mut *self.out;
        out.reserve(key.len() + 4);
        if self.first {
            self.first = false;
            out.push(b'"');
        } else {
            out.extend_from_slice(b",\"");
        }
        out.extend_from_slice(key.as_bytes());
        out.extend_from_slice(b"\":");
        value.serialize(Json { out })
    }

    #[inline]
    fn end(self) -> Result<(), Unsupported> {
        self.out.extend_from_slice(self.close);
        Ok(())
    }
}

impl<'a> Json<'a> {
    #[inline]
    fn open(self, open: &[u8], close: &'static [u8]) -> Compound<'a> {
        self.out.extend_from_slice(open);
        Compound {
            out: self.out,
            first: true,
            close,
        }
    }

    /// `{"variant":` — the opening of a non-unit enum variant.
    fn variant_key(&mut self, variant: &str) {
        self.out.push(b'{');
        write_str(self.out, variant);
        self.out.push(b':');
    }
}

impl<'a> ser::Serializer for Json<'a> {
    type Ok = ();
    type Error = Unsupported;
    type SerializeSeq = Compound<'a>;
    type SerializeTuple = Compound<'a>;
    type SerializeTupleStruct = Compound<'a>;
    type SerializeTupleVariant = Compound<'a>;
    type SerializeMap = Compound<'a>;
    type SerializeStruct = Compound<'a>;
    type SerializeStructVariant = Compound<'a>;

    #[inline]
    fn serialize_bool(self, v: bool) -> Result<(), Unsupported> {
        self.out
            .extend_from_slice(if v { b"true" } else { b"false" });
        Ok(())
    }
    #[inline]
    fn serialize_i8(self, v: i8) -> Result<(), Unsupported> {
        self.serialize_i64(i64::from(v))
    }
    #[inline]
    fn serialize_i16(self, v: i16) -> Result<(), Unsupported> {
        self.serialize_i64(i64::from(v))
    }
    #[inline]
    fn serialize_i32(self, v: i32) -> Result<(), Unsupported> {
        self.serialize_i64(i64::from(v))
    }
    #[inline]
    fn serialize_i64(self, v: i64) -> Result<(), Unsupported> {
        write_i64(self.out, v);
        Ok(())
    }
    fn serialize_i128(self, v: i128) -> Result<(), Unsupported> {
        by_serde_json(self.out, v)
    }
    #[inline]
    fn serialize_u8(self, v: u8) -> Result<(), Unsupported> {
        self.serialize_u64(u64::from(v))
    }
    #[inline]
    fn serialize_u16(self, v: u16) -> Result<(), Unsupported> {
        self.serialize_u64(u64::from(v))
    }
    #[inline]
    fn serialize_u32(self, v: u32) -> Result<(), Unsupported> {
        self.serialize_u64(u64::from(v))
    }
    #[inline]
    fn serialize_u64(self, v: u64) -> Result<(), Unsupported> {
        write_u64(self.out, v);
        Ok(())
    }
    fn serialize_u128(self, v: u128) -> Result<(), Unsupported> {
        by_serde_json(self.out, v)
    }
    fn serialize_f32(self, v: f32) -> Result<(), Unsupported> {
        by_serde_json(self.out, v)
    }
    fn serialize_f64(self, v: f64) -> Result<(), Unsupported> {
        by_serde_json(self.out, v)
    }
    fn serialize_char(self, v: char) -> Result<(), Unsupported> {
        self.serialize_str(v.encode_utf8(&mut [0u8; 4]))
    }
    #[inline]
    fn serialize_str(self, v: &str) -> Result<(), Unsupported> {
        write_str(self.out, v);
        Ok(())
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<(), Unsupported> {
        let mut seq = self.open(b"[", b"]");
        for b in v {
            ser::SerializeSeq::serialize_element(&mut seq, b)?;
        }
        seq.end()
    }
    #[inline]
    fn serialize_none(self) -> Result<(), Unsupported> {
        self.serialize_unit()
    }
    #[inline]
    fn serialize_some<T: ?Sized + Serialize>(self, value: &T) -> Result<(), Unsupported> {
        value.serialize(self)
    }
    #[inline]
    fn serialize_unit(self) -> Result<(), Unsupported> {
        self.out.extend_from_slice(b"null");
        Ok(())
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<(), Unsupported> {
        self.serialize_unit()
    }
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<(), Unsupported> {
        self.serialize_str(variant)
    }
    fn serialize_newtype_struct<T: ?Sized + Serialize>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<(), Unsupported> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        mut self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<(), Unsupported> {
        self.variant_key(variant);
        value.serialize(Json {
            out: &mut *self.out,
        })?;
        self.out.push(b'}');
        Ok(())
    }
    #[inline]
    fn serialize_seq(self, _len: Option<usize>) -> Result<Compound<'a>, Unsupported> {
        Ok(self.open(b"[", b"]"))
    }
    fn serialize_tuple(self, _len: usize) -> Result<Compound<'a>, Unsupported> {
        Ok(self.open(b"[", b"]"))
    }
    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Compound<'a>, Unsupported> {
        Ok(self.open(b"[", b"]"))
    }
    fn serialize_tuple_variant(
        mut self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Compound<'a>, Unsupported> {
        self.variant_key(variant);
        Ok(self.open(b"[", b"]}"))
    }
    #[inline]
    fn serialize_map(self, _len: Option<usize>) -> Result<Compound<'a>, Unsupported> {
        Ok(self.open(b"{", b"}"))
    }
    #[inline]
    fn serialize_struct(
        self,
        name: &'static str,
        _len: usize,
    ) -> Result<Compound<'a>, Unsupported> {
        // serde_json's `RawValue` is written verbatim, through a struct with this name.
        if name == "$serde_json::private::RawValue" {
            return unsupported("a RawValue");
        }
        Ok(self.open(b"{", b"}"))
    }
    fn serialize_struct_variant(
        mut self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Compound<'a>, Unsupported> {
        self.variant_key(variant);
        Ok(self.open(b"{", b"}}"))
    }
}

// Sequences, tuples and tuple structs/variants are all JSON arrays: one impl shape.
macro_rules! array_like {
    ($($trait:ident :: $method:ident),*) => {$(
        impl ser::$trait for Compound<'_> {
            type Ok = ();
            type Error = Unsupported;
            #[inline]
            fn $method<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), Unsupported> {
                self.element(value)
            }
            #[inline]
            fn end(self) -> Result<(), Unsupported> {
                Compound::end(self)
            }
        }
    )*};
}

array_like!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field,
    SerializeTupleVariant::serialize_field
);

impl ser::SerializeMap for Compound<'_> {
    type Ok = ();
    type Error = Unsupported;
    #[inline]
    fn serialize_key<T: ?Sized + Serialize>(&mut self, key: &T) -> Result<(), Unsupported> {
        self.comma();
        key.serialize(MapKey { out: self.out })?;
        self.out.push(b':');
        Ok(())
    }
    #[inline]
    fn serialize_value<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), Unsupported> {
        value.serialize(Json { out: self.out })
    }
    #[inline]
    fn end(self) -> Result<(), Unsupported> {
        Compound::end(self)
    }
}

impl ser::SerializeStruct for Compound<'_> {
    type Ok = ();
    type Error = Unsupported;
    #[inline(always)]
    fn serialize_field<T: ?Sized + Serialize>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), Unsupported> {
        self.field(key, value)
    }
    #[inline]
    fn end(self) -> Result<(), Unsupported> {
        Compound::end(self)
    }
}

impl ser::SerializeStructVariant for Compound<'_> {
    type Ok = ();
    type Error = Unsupported;
    #[inline(always)]
    fn serialize_field<T: ?Sized + Serialize>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), Unsupported> {
        self.field(key, value)
    }
    #[inline]
    fn end(self) -> Result<(), Unsupported> {
        Compound::end(self)
    }
}

/// A map key: serde_json's `MapKeySerializer` for strings (and what is a string to it:
/// chars, unit variants, newtype structs around strings); any other key is left to
/// serde_json.
struct MapKey<'a> {
    out: &'a mut Vec<u8>,
}

impl<'a> ser::Serializer for MapKey<'a> {
    type Ok = ();
    type Error = Unsupported;
    type SerializeSeq = ser::Impossible<(), Unsupported>;
    type SerializeTuple = ser::Impossible<(), Unsupported>;
    type SerializeTupleStruct = ser::Impossible<(), Unsupported>;
    type SerializeTupleVariant = ser::Impossible<(), Unsupported>;
    type SerializeMap = ser::Impossible<(), Unsupported>;
    type SerializeStruct = ser::Impossible<(), Unsupported>;
    type SerializeStructVariant = ser::Impossible<(), Unsupported>;

    fn serialize_str(self, v: &str) -> Result<(), Unsupported> {
        write_str(self.out, v);
        Ok(())
    }
    fn serialize_char(self, v: char) -> Result<(), Unsupported> {
        self.serialize_str(v.encode_utf8(&mut [0u8; 4]))
    }
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<(), Unsupported> {
        self.serialize_str(variant)
    }
    fn serialize_newtype_struct<T: ?Sized + Serialize>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<(), Unsupported> {
        value.serialize(self)
    }

    fn serialize_bool(self, _v: bool) -> Result<(), Unsupported> {
        unsupported("a bool map key")
    }
    fn serialize_i8(self, _v: i8) -> Result<(), Unsupported> {
        unsupported("an integer map key")
    }
    fn serialize_i16(self, _v: i16) -> Result<(), Unsupported> {
        unsupported("an integer map key")
    }
    fn serialize_i32(self, _v: i32) -> Result<(), Unsupported> {
        unsupported("an integer map key")
    }
    fn serialize_i64(self, _v: i64) -> Result<(), Unsupported> {
        unsupported("an integer map key")
    }
    fn serialize_u8(self, _v: u8) -> Result<(), Unsupported> {
        unsupported("an integer map key")
    }
    fn serialize_u16(self, _v: u16) -> Result<(), Unsupported> {
        unsupported("an integer map key")
    }
    fn serialize_u32(self, _v: u32) -> Result<(), Unsupported> {
        unsupported("an integer map key")
    }
    fn serialize_u64(self, _v: u64) -> Result<(), Unsupported> {
        unsupported("an integer map key")
    }
    fn serialize_f32(self, _v: f32) -> Result<(), Unsupported> {
        unsupported("a float map key")
    }
    fn serialize_f64(self, _v: f64) -> Result<(), Unsupported> {
        unsupported("a float map key")
    }
    fn serialize_bytes(self, _v: &[u8]) -> Result<(), Unsupported> {
        unsupported("a bytes map key")
    }
    fn serialize_none(self) -> Result<(), Unsupported> {
        unsupported("a None map key")
    }
    fn serialize_some<T: ?Sized + Serialize>(self, _value: &T) -> Result<(), Unsupported> {
        unsupported("an Option map key")
    }
    fn serialize_unit(self) -> Result<(), Unsupported> {
        unsupported("a unit map key")
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<(), Unsupported> {
        unsupported("a unit map key")
    }
    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _value: &T,
    ) -> Result<(), Unsupported> {
        unsupported("a variant map key")
    }
    fn serialize_seq(self, _len: Option<usize>) -> Result<Self::SerializeSeq, Unsupported> {
        unsupported("a sequence map key")
    }
    fn serialize_tuple(self, _len: usize) -> Result<Self::SerializeTuple, Unsupported> {
        unsupported("a tuple map key")
    }
    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleStruct, Unsupported> {
        unsupported("a tuple map key")
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleVariant, Unsupported> {
        unsupported("a variant map key")
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<Self::SerializeMap, Unsupported> {
        unsupported("a map map key")
    }
    fn serialize_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStruct, Unsupported> {
        unsupported("a struct map key")
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStructVariant, Unsupported> {
        unsupported("a variant map key")
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn integers_are_written_as_itoa_writes_them() {
        let mut samples = vec![0u64, u64::MAX, u64::MAX - 1];
        let mut p = 1u64;
        while let Some(next) = p.checked_mul(10) {
            samples.extend([p - 1, p, p + 1, next / 2]);
            p = next;
        }
        samples.extend([p - 1, p, p + 1]);
        for v in samples {
            let mut out = Vec::new();
            super::write_u64(&mut out, v);
            assert_eq!(String::from_utf8(out).unwrap(), v.to_string());
        }
        for v in [i64::MIN, i64::MIN + 1, -100, -99, -10, -9, -1, 0, i64::MAX] {
            let mut out = Vec::new();
            super::write_i64(&mut out, v);
            assert_eq!(String::from_utf8(out).unwrap(), v.to_string());
        }
    }
}
