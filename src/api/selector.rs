//! Label selectors (`metav1.LabelSelector`) and their matching rules.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LabelSelectorRequirement {
    pub key: String,
    pub operator: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LabelSelector {
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub match_labels: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub match_expressions: Vec<LabelSelectorRequirement>,
}

impl LabelSelector {
    /// `metav1.LabelSelectorAsSelector` then `Matches`: every matchLabels pair and every
    /// expression must hold. An empty selector matches everything (as a selector object;
    /// workload controllers refuse empty selectors at validation).
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.match_labels
            .iter()
            .all(|(k, v)| labels.get(k) == Some(v))
            && self.match_expressions.iter().all(|r| r.matches(labels))
    }
    pub fn is_empty(&self) -> bool {
        self.match_labels.is_empty() && self.match_expressions.is_empty()
    }
}

impl LabelSelectorRequirement {
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        let v = labels.get(&self.key);
        match self.operator.as_str() {
            "In" => v.is_some_and(|v| self.values.contains(v)),
            "NotIn" => v.is_none_or(|v| !self.values.contains(v)),
            "Exists" => v.is_some(),
            "DoesNotExist" => v.is_none(),
            _ => false,
        }
    }
}

/// Parses a kubectl `-l` selector: `a=b,c!=d,e in (x,y),!f,g`.
pub fn parse_selector_text(text: &str) -> Result<LabelSelector, String> {
    let mut sel = LabelSelector::default();
    let mut rest = text.trim();
    while !rest.is_empty() {
        // Split at the next comma that is not inside parentheses.
        let mut depth = 0;
        let mut end = rest.len();
        for (i, c) in rest.char_indices() {
            match c {
                '(' => depth += 1,
                ')' => depth -= 1,
                ',' if depth == 0 => {
                    end = i;
                    break;
                }
                _ => {}
            }
        }
        let term = rest[..end].trim();
        rest = rest[end..].trim_start_matches(',').trim();
        let req = |key: &str, op: &str, values: Vec<String>| LabelSelectorRequirement {
            key: key.trim().to_string(),
            operator: op.to_string(),
            values,
        };
        let list = |s: &str| -> Result<Vec<String>, String> {
            let s = s.trim();
            let inner = s
                .strip_prefix('(')
                .and_then(|s| s.strip_suffix(')'))
                .ok_or_else(|| format!("expected a parenthesised list in {term:?}"))?;
            Ok(inner.split(',').map(|v| v.trim().to_string()).collect())
        };
        if let Some((k, v)) = term.split_once("!=") {
            sel.match_expressions
                .push(req(k, "NotIn", vec![v.trim().to_string()]));
        } else if let Some((k, v)) = term.split_once("==").or_else(|| term.split_once('=')) {
            sel.match_labels
                .insert(k.trim().to_string(), v.trim().to_string());
        } else if let Some((k, v)) = term.split_once(" notin ") {
            sel.match_expressions.push(req(k, "NotIn", list(v)?));
        } else if let Some((k, v)) = term.split_once(" in ") {
            sel.match_expressions.push(req(k, "In", list(v)?));
        } else if let Some(k) = term.strip_prefix('!') {
            sel.match_expressions.push(req(k, "DoesNotExist", vec![]));
        } else if !term.is_empty() && !term.contains(char::is_whitespace) {
            sel.match_expressions.push(req(term, "Exists", vec![]));
        } else {
            return Err(format!("cannot parse selector term {term:?}"));
        }
    }
    Ok(sel)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn matches_labels_and_expressions() {
        let sel = parse_selector_text("app=web,tier in (a, b),!legacy,zone").unwrap();
        assert!(sel.matches(&labels(&[("app", "web"), ("tier", "a"), ("zone", "z")])));
        assert!(!sel.matches(&labels(&[("app", "web"), ("tier", "c"), ("zone", "z")])));
        assert!(!sel.matches(&labels(&[("app", "web"), ("tier", "a")])));
        assert!(!sel.matches(&labels(&[
            ("app", "web"),
            ("tier", "a"),
            ("zone", "z"),
            ("legacy", "")
        ])));
        let ne = parse_selector_text("topology.kubernetes.io/zone!=a").unwrap();
        assert!(ne.matches(&labels(&[])));
        assert!(!ne.matches(&labels(&[("topology.kubernetes.io/zone", "a")])));
        assert!(parse_selector_text("a in b").is_err());
    }
}
