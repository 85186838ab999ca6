//! The decoding error: a message and hint, located (position and field path) on its way
//! out of the node deserializers; serde's error constructors worded for YAML users.

use super::join;
use crate::scenario::suggest::did_you_mean;
use crate::scenario::yaml::Pos;
use serde::de::{self, Unexpected};
use std::fmt;

/// Separates message and hint in `de::Error::custom` text (see [`with_hint`]).
const HINT_SEP: char = '\u{1f}';

/// A custom-error text that carries a hint as well, for `Deserialize` impls that can only
/// call `de::Error::custom`.
pub fn with_hint(message: impl fmt::Display, hint: impl fmt::Display) -> String {
    format!("{message}{HINT_SEP}{hint}")
}

/// One decoding error, located once it has passed through a node deserializer.
#[derive(Clone, Debug, PartialEq)]
pub struct DeError {
    pub message: String,
    pub hint: Option<String>,
    pub pos: Option<Pos>,
    pub path: Option<String>,
    /// For `missing field`: the field, appended to the path when located.
    missing: Option<&'static str>,
}

impl DeError {
    pub fn new(message: impl Into<String>) -> Self {
        DeError {
            message: message.into(),
            hint: None,
            pos: None,
            path: None,
            missing: None,
        }
    }
    pub(super) fn at(pos: Pos, path: &str, message: impl Into<String>) -> Self {
        DeError {
            pos: Some(pos),
            path: Some(path.to_string()),
            ..DeError::new(message)
        }
    }
    pub(super) fn hinted(mut self, hint: Option<String>) -> Self {
        self.hint = hint;
        self
    }
    /// Gives the error this position and path unless it already has one.
    pub fn locate(mut self, pos: Pos, path: &str) -> Self {
        if self.pos.is_none() {
            self.pos = Some(pos);
            self.path = Some(match self.missing {
                Some(field) => join(path, field),
                None => path.to_string(),
            });
        }
        self
    }
}

impl fmt::Display for DeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for DeError {}

impl de::Error for DeError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        let text = msg.to_string();
        match text.split_once(HINT_SEP) {
            Some((message, hint)) => DeError::new(message).hinted(Some(hint.to_string())),
            None => DeError::new(text),
        }
    }
    fn invalid_type(unexp: Unexpected, exp: &dyn de::Expected) -> Self {
        DeError::new(format!(
            "expected {exp}, found {}",
            describe_unexpected(&unexp)
        ))
    }
    fn invalid_value(unexp: Unexpected, exp: &dyn de::Expected) -> Self {
        DeError::new(format!(
            "invalid value {}: expected {exp}",
            describe_unexpected(&unexp)
        ))
    }
    fn unknown_variant(variant: &str, expected: &'static [&'static str]) -> Self {
        DeError::new(format!(
            "unknown value {variant:?}, expected one of: {}",
            expected.join(", ")
        ))
        .hinted(did_you_mean(variant, expected.iter().copied()))
    }
    fn unknown_field(field: &str, expected: &'static [&'static str]) -> Self {
        DeError::new(format!("unknown field `{field}`")).hinted(field_hint(field, expected))
    }
    fn missing_field(field: &'static str) -> Self {
        DeError {
            missing: Some(field),
            ..DeError::new(format!("missing required field `{field}`"))
        }
    }
    fn duplicate_field(field: &'static str) -> Self {
        DeError::new(format!("field `{field}` is given twice"))
    }
}

/// `did you mean "x"?`, or the list of known fields when none is close.
pub(super) fn field_hint(field: &str, expected: &[&str]) -> Option<String> {
    did_you_mean(field, expected.iter().copied()).or_else(|| {
        (!expected.is_empty()).then(|| format!("known fields: {}", expected.join(", ")))
    })
}

fn describe_unexpected(u: &Unexpected) -> String {
    match u {
        Unexpected::Str(s) => format!("a string {s:?}"),
        Unexpected::Signed(i) => format!("an integer {i}"),
        Unexpected::Unsigned(i) => format!("an integer {i}"),
        Unexpected::Float(f) => format!("a number {f}"),
        Unexpected::Bool(b) => format!("a boolean {b}"),
        Unexpected::Unit => "null".to_string(),
        Unexpected::Seq => "a list".to_string(),
        Unexpected::Map => "a map".to_string(),
        other => other.to_string(),
    }
}
