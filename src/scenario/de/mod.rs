//! A serde `Deserializer` over the positioned YAML tree (`yaml::Node`), so that typed
//! structs decode with errors that carry line:column and the field path.
//!
//! Errors are raised without a position by serde's visitors and "located" on their way out
//! by the innermost node deserializer that saw them (`node.rs`); unknown map keys are
//! located at the key (`access.rs`). In strict mode (stsim's own schema, where every struct
//! denies unknown fields) the unknown keys of every struct are collected and skipped, so one
//! pass reports them all.

mod access;
mod error;
mod node;

pub use error::{DeError, with_hint};

use super::yaml::Node;
use node::NodeDe;
use serde::de::DeserializeOwned;
use std::cell::RefCell;

/// The newtype-struct name by which `Loc<T>` asks for its node's position.
pub(crate) const LOC_MAGIC: &str = "__stsim_located";

/// `parent.key` (or `key` at the root).
pub fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// `parent[i]`.
pub fn index(path: &str, i: usize) -> String {
    format!("{path}[{i}]")
}

/// Shared by every node deserializer of one decode.
pub(super) struct Ctx {
    pub(super) strict: bool,
    pub(super) collected: RefCell<Vec<DeError>>,
}

/// Decodes `node` (found at field path `path`) into `T`. In `strict` mode, unknown fields of
/// every struct are all reported instead of only the first. Errors come back located and
/// sorted by position.
pub fn decode<T: DeserializeOwned>(
    node: &Node,
    path: &str,
    strict: bool,
) -> Result<T, Vec<DeError>> {
    let ctx = Ctx {
        strict,
        collected: RefCell::new(Vec::new()),
    };
    let result = T::deserialize(NodeDe {
        node,
        path: path.to_string(),
        ctx: &ctx,
    });
    let mut errors = ctx.collected.into_inner();
    if let Err(e) = result.as_ref() {
        errors.push(e.clone().locate(node.pos, path));
    }
    match result {
        Ok(v) if errors.is_empty() => Ok(v),
        _ => {
            errors.sort_by_key(|e| e.pos);
            Err(errors)
        }
    }
}
