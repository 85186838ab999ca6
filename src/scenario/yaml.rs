//! The YAML tree with positions: every value and every map key knows its line and column.
//!
//! `serde-saphyr` parses the text; a hand-written `Deserialize` reads each node through
//! `Spanned<_>` so that later stages (typed decoding in `de.rs`, the field walk against the
//! Kubernetes schema) can point at the exact place of a problem.

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::Spanned;
use std::fmt;

/// A 1-based line and column (in characters) within one file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Pos {
    pub line: u64,
    pub column: u64,
}

/// One YAML value with where it was written.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub value: Value,
    pub pos: Pos,
}

/// One `key: value` pair of a map, with the key's own position.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    pub key: String,
    pub key_pos: Pos,
    pub value: Node,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// `~`, `null` or nothing at all.
    Null,
    Bool(bool),
    Int(i64),
    UInt(u64),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    /// Entries in the order written.
    Map(Vec<Entry>),
}

/// A YAML syntax error: where and what.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyntaxError {
    pub pos: Pos,
    pub message: String,
}

impl Node {
    /// The entry for `key`, if this is a map that has it.
    pub fn entry(&self, key: &str) -> Option<&Entry> {
        match &self.value {
            Value::Map(entries) => entries.iter().find(|e| e.key == key),
            _ => None,
        }
    }
    /// The value of `key`, if this is a map that has it.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entry(key).map(|e| &e.value)
    }
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }
    pub fn entries(&self) -> &[Entry] {
        match &self.value {
            Value::Map(entries) => entries,
            _ => &[],
        }
    }
    pub fn items(&self) -> &[Node] {
        match &self.value {
            Value::Seq(items) => items,
            _ => &[],
        }
    }
    pub fn is_null(&self) -> bool {
        matches!(self.value, Value::Null)
    }
    pub fn is_scalar(&self) -> bool {
        !matches!(self.value, Value::Seq(_) | Value::Map(_))
    }
    /// This map without the entry `key` (other nodes are returned unchanged).
    pub fn without(&self, key: &str) -> Node {
        match &self.value {
            Value::Map(entries) => Node {
                value: Value::Map(entries.iter().filter(|e| e.key != key).cloned().collect()),
                pos: self.pos,
            },
            _ => self.clone(),
        }
    }
    /// The node at `path` (`spec.template.spec.containers[0].image`), or the deepest node on
    /// the way there that exists: where to point when something at `path` is wrong.
    pub fn nearest(&self, path: &str) -> &Node {
        let mut node = self;
        for segment in path.split('.').filter(|s| !s.is_empty()) {
            let (key, indices) = match segment.find('[') {
                Some(i) => (&segment[..i], &segment[i..]),
                None => (segment, ""),
            };
            if !key.is_empty() {
                match node.get(key) {
                    Some(n) => node = n,
                    None => return node,
                }
            }
            for i in indices.split(['[', ']']).filter(|s| !s.is_empty()) {
                match i.parse::<usize>().ok().and_then(|i| node.items().get(i)) {
                    Some(n) => node = n,
                    None => return node,
                }
            }
        }
        node
    }
    /// What this value is, for messages: `a string "three"`, `an integer 3`, `a list`.
    pub fn describe(&self) -> String {
        match &self.value {
            Value::Null => "null".to_string(),
            Value::Bool(b) => format!("a boolean {b}"),
            Value::Int(i) => format!("an integer {i}"),
            Value::UInt(u) => format!("an integer {u}"),
            Value::Float(f) => format!("a number {f}"),
            Value::Str(s) => format!("a string {s:?}"),
            Value::Seq(_) => "a list".to_string(),
            Value::Map(_) => "a map".to_string(),
        }
    }
}

/// Deepest nesting of lists and maps accepted. Real manifests stay below 25 (a `List` of
/// StatefulSets with pod anti-affinity expressions); the limit keeps the recursive parse
/// well inside a 2 MiB thread stack even in debug builds.
pub const MAX_DEPTH: usize = 40;

/// Parses every document of `text` (documents separated by `---`; empty ones are skipped).
/// Booleans are YAML 1.2's `true` and `false` only (`yes`, `on` are strings).
pub fn parse_documents(text: &str) -> Result<Vec<Node>, SyntaxError> {
    let options = serde_saphyr::options! {
        strict_booleans: true,
        budget: serde_saphyr::budget! { max_depth: MAX_DEPTH },
    };
    let docs = serde_saphyr::from_multiple_with_options::<Spanned<Node>>(text, options)
        .map_err(syntax_error)?;
    Ok(docs.into_iter().map(unspan).collect())
}

fn unspan(s: Spanned<Node>) -> Node {
    let pos = Pos {
        line: s.referenced.line(),
        column: s.referenced.column(),
    };
    Node {
        value: s.value.value,
        pos: if pos.line == 0 { s.value.pos } else { pos },
    }
}

fn syntax_error(err: serde_saphyr::Error) -> SyntaxError {
    let pos = err
        .location()
        .map(|l| Pos {
            line: l.line(),
            column: l.column(),
        })
        .unwrap_or(Pos { line: 1, column: 1 });
    let full = err.without_snippet().to_string();
    // The plain rendering ends in " at line L, column C": the position is reported apart.
    let message = match full.rfind(" at line ") {
        Some(i) if full[i..].contains(", column ") => full[..i].to_string(),
        _ => full,
    };
    let message = if message.contains("Depth {") || message.contains("recursion limit") {
        format!("lists and maps are nested deeper than {MAX_DEPTH} levels")
    } else {
        // Advice meant for programs using the library, not for people writing YAML.
        message.replace(", set DuplicateKeyPolicy in Options if acceptable", "")
    };
    SyntaxError { pos, message }
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(NodeVisitor)
    }
}

struct NodeVisitor;

fn leaf(value: Value) -> Node {
    Node {
        value,
        pos: Pos::default(),
    }
}

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any YAML value")
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Node, E> {
        Ok(leaf(Value::Bool(v)))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Node, E> {
        Ok(leaf(Value::Int(v)))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Node, E> {
        Ok(leaf(if let Ok(i) = i64::try_from(v) {
            Value::Int(i)
        } else {
            Value::UInt(v)
        }))
    }
    fn visit_i128<E: de::Error>(self, v: i128) -> Result<Node, E> {
        Ok(leaf(match (i64::try_from(v), u64::try_from(v)) {
            (Ok(i), _) => Value::Int(i),
            (_, Ok(u)) => Value::UInt(u),
            _ => Value::Float(v as f64),
        }))
    }
    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Node, E> {
        Ok(leaf(match u64::try_from(v) {
            Ok(u) => Value::UInt(u),
            Err(_) => Value::Float(v as f64),
        }))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Node, E> {
        Ok(leaf(Value::Float(v)))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Node, E> {
        Ok(leaf(Value::Str(v.to_string())))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Node, E> {
        Ok(leaf(Value::Str(v)))
    }
    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Node, E> {
        Ok(leaf(Value::Str(String::from_utf8_lossy(v).into_owned())))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Node, E> {
        Ok(leaf(Value::Null))
    }
    fn visit_none<E: de::Error>(self) -> Result<Node, E> {
        Ok(leaf(Value::Null))
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Node, D::Error> {
        Node::deserialize(d)
    }
    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<Node, D::Error> {
        Node::deserialize(d)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Spanned<Node>>()? {
            items.push(unspan(item));
        }
        Ok(leaf(Value::Seq(items)))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key::<Spanned<String>>()? {
            let value = unspan(map.next_value::<Spanned<Node>>()?);
            let key_pos = Pos {
                line: key.referenced.line(),
                column: key.referenced.column(),
            };
            entries.push(Entry {
                key: key.value,
                key_pos,
                value,
            });
        }
        Ok(leaf(Value::Map(entries)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(line: u64, column: u64) -> Pos {
        Pos { line, column }
    }

    #[test]
    fn keeps_positions_and_scalar_kinds() {
        let text = "a: 1\nb: \"1\"\nc: 1.30\nd: ~\ne: [x, {y: -2}]\nf:\n  - g: yes\n    h: true\n";
        let docs = parse_documents(text).expect("valid YAML");
        assert_eq!(docs.len(), 1);
        let doc = &docs[0];
        assert_eq!(doc.get("a").map(|n| &n.value), Some(&Value::Int(1)));
        assert_eq!(
            doc.get("b").map(|n| &n.value),
            Some(&Value::Str("1".into()))
        );
        assert_eq!(doc.get("c").map(|n| &n.value), Some(&Value::Float(1.3)));
        assert!(doc.get("d").is_some_and(Node::is_null));
        assert_eq!(doc.entry("c").map(|e| e.key_pos), Some(at(3, 1)));
        assert_eq!(doc.get("c").map(|n| n.pos), Some(at(3, 4)));
        let e = doc.get("e").expect("e");
        assert_eq!(
            e.items()[1].get("y").map(|n| (&n.value, n.pos)),
            Some((&Value::Int(-2), at(5, 12)))
        );
        let f = &doc.get("f").expect("f").items()[0];
        assert_eq!(
            f.get("g").map(|n| &n.value),
            Some(&Value::Str("yes".into())),
            "YAML 1.2 booleans only"
        );
        assert_eq!(f.get("h").map(|n| &n.value), Some(&Value::Bool(true)));
        assert_eq!(f.entry("h").map(|e| e.key_pos), Some(at(8, 5)));
    }

    #[test]
    fn finds_the_nearest_node_on_a_path() {
        let docs = parse_documents("spec:\n  list:\n    - a: 1\n    - b: 2\n").expect("valid YAML");
        let doc = &docs[0];
        assert_eq!(doc.nearest("spec.list[1].b").value, Value::Int(2));
        assert_eq!(doc.nearest("spec.list[1].c").pos, at(4, 7));
        assert_eq!(doc.nearest("spec.list[7].b").pos, at(3, 5));
        assert_eq!(doc.nearest("").pos, doc.pos);
    }

    #[test]
    fn multiple_documents_keep_file_lines() {
        let docs = parse_documents("a: 1\n---\n---\nb: 2\n").expect("valid YAML");
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[1].entry("b").map(|e| e.key_pos), Some(at(4, 1)));
        assert!(parse_documents("").expect("empty is fine").is_empty());
    }

    #[test]
    fn syntax_errors_have_positions() {
        let err = parse_documents("a: [1, 2\nb: 3\n").expect_err("unclosed bracket");
        assert_eq!(err.pos.line, 2);
        assert!(!err.message.contains("at line"), "{}", err.message);
        let dup = parse_documents("a: 1\na: 2\n").expect_err("duplicate key");
        assert_eq!(
            (dup.pos, dup.message.as_str()),
            (at(2, 1), "duplicate mapping key: a")
        );
        let deep = format!("a: {}{}\n", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        let err = parse_documents(&deep).expect_err("too deep");
        assert_eq!(
            err.message,
            format!("lists and maps are nested deeper than {MAX_DEPTH} levels")
        );
        let ok = format!(
            "a: {}{}\n",
            "[".repeat(MAX_DEPTH - 2),
            "]".repeat(MAX_DEPTH - 2)
        );
        assert!(parse_documents(&ok).is_ok());
    }
}
