//! The text fields of a Node condition (type, status, reason, message): shared rather than
//! owned, because they are nearly always one of a few fixed texts and a Node is copied whole
//! on every status write. A kubelet's status post every 5 minutes replaced sixteen such
//! strings on each of 300 nodes, each allocated for the request and freed with the
//! replaced Node; a text written by the program is now the `&'static str` it is, copied
//! and dropped for free, and only text read from input is allocated, once.
//!
//! It reads, compares, prints and serializes as the `str` it holds, so a `String` field
//! could be replaced by it without changing any output.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::ops::Deref;
use std::rc::Rc;

/// A condition's text: a literal of the program, or text read from input.
#[derive(Clone)]
pub enum Text {
    Static(&'static str),
    Shared(Rc<str>),
}

impl Text {
    pub fn as_str(&self) -> &str {
        match self {
            Text::Static(s) => s,
            Text::Shared(s) => s,
        }
    }

    /// (For `skip_serializing_if`, which names a function.)
    pub fn is_empty(&self) -> bool {
        self.as_str().is_empty()
    }
}

impl Default for Text {
    fn default() -> Self {
        Text::Static("")
    }
}

impl Deref for Text {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for Text {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

/// A literal costs nothing to wrap (`"Ready".into()`).
impl From<&'static str> for Text {
    fn from(s: &'static str) -> Self {
        Text::Static(s)
    }
}

impl From<String> for Text {
    fn from(s: String) -> Self {
        Text::Shared(s.into())
    }
}

impl PartialEq for Text {
    fn eq(&self, other: &Self) -> bool {
        // The same literal on both sides (a kubelet comparing its view with the conditions
        // it posted) is equal without reading it.
        if let (Text::Static(a), Text::Static(b)) = (self, other)
            && std::ptr::eq(*a, *b)
        {
            return true;
        }
        self.as_str() == other.as_str()
    }
}

impl Eq for Text {}

impl PartialEq<str> for Text {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Text {
    fn eq(&self, other: &&str) -> bool {
        if let Text::Static(s) = self
            && std::ptr::eq(*s, *other)
        {
            return true;
        }
        self.as_str() == *other
    }
}

impl PartialEq<String> for Text {
    fn eq(&self, other: &String) -> bool {
        self.as_str() == other.as_str()
    }
}

impl fmt::Debug for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self.as_str(), f)
    }
}

impl Serialize for Text {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(Text::from)
    }
}

#[cfg(test)]
mod tests {
    use super::Text;

    #[test]
    fn reads_compares_and_serializes_as_its_str() {
        let a: Text = "Ready".into();
        let b: Text = String::from("Ready").into();
        assert_eq!(a, b);
        let owned = String::from("Ready");
        assert!(a == "Ready" && *a == *"Ready" && a == owned);
        assert_eq!(format!("{a} {a:?}"), "Ready \"Ready\"");
        assert_eq!(serde_json::to_string(&b).unwrap(), "\"Ready\"");
        let back: Text = serde_json::from_str("\"KubeletReady\"").unwrap();
        assert_eq!(back, "KubeletReady");
        assert!(Text::default().is_empty());
    }
}
