//! Decoding one section of a file with its errors turned into diagnostics, so that each
//! section (or list item) is checked on its own.

use super::de::{DeError, decode, index, join};
use super::error::{Diagnostic, Source};
use super::yaml::{Node, Pos, Value};
use serde::de::DeserializeOwned;

/// Collects the diagnostics of one file.
pub struct Reporter<'a> {
    pub src: &'a Source,
    pub diags: &'a mut Vec<Diagnostic>,
}

impl Reporter<'_> {
    pub fn push(&mut self, pos: Pos, path: &str, message: impl Into<String>, hint: Option<String>) {
        self.diags
            .push(self.src.diag(pos, path, message).with_hint(hint));
    }

    /// Decodes `node` (stsim's own schema: unknown fields are errors), reporting errors;
    /// `None` if it failed.
    pub fn decode<T: DeserializeOwned>(&mut self, node: &Node, path: &str) -> Option<T> {
        match decode::<T>(node, path, true) {
            Ok(v) => Some(v),
            Err(errors) => {
                for e in errors {
                    self.push_de(e, node.pos);
                }
                None
            }
        }
    }

    fn push_de(&mut self, e: DeError, fallback: Pos) {
        let path = e.path.unwrap_or_default();
        self.push(e.pos.unwrap_or(fallback), &path, e.message, e.hint);
    }

    /// The key `key` of `parent` (at `path`), decoded; `None` if absent, null or bad.
    pub fn optional<T: DeserializeOwned>(
        &mut self,
        parent: &Node,
        key: &str,
        path: &str,
    ) -> Option<T> {
        let node = parent.get(key).filter(|n| !n.is_null())?;
        self.decode(node, &join(path, key))
    }

    /// The items of the list `key` of `parent`, each decoded on its own: `(index, item)`.
    pub fn list<T: DeserializeOwned>(
        &mut self,
        parent: &Node,
        key: &str,
        path: &str,
    ) -> Vec<(usize, T)> {
        let path = join(path, key);
        let Some(node) = parent.get(key) else {
            return Vec::new();
        };
        match &node.value {
            Value::Null => Vec::new(),
            Value::Seq(items) => items
                .iter()
                .enumerate()
                .filter_map(|(i, item)| Some((i, self.decode(item, &index(&path, i))?)))
                .collect(),
            _ => {
                self.push(
                    node.pos,
                    &path,
                    format!("expected a list, found {}", node.describe()),
                    None,
                );
                Vec::new()
            }
        }
    }
}
