//! The tree deserializer (`de.rs`) against the serde features stsim's types use.

use crate::api::pod::Volume;
use crate::api::{IntOrString, Quantity, StatefulSet};
use crate::scenario::de::{DeError, decode};
use crate::scenario::located::Loc;
use crate::scenario::yaml::{Pos, parse_documents};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use std::collections::BTreeMap;

fn dec<T: DeserializeOwned>(text: &str, strict: bool) -> Result<T, Vec<DeError>> {
    let docs = parse_documents(text).expect("valid YAML");
    decode::<T>(&docs[0], "", strict)
}

fn at(line: u64, column: u64) -> Option<Pos> {
    Some(Pos { line, column })
}

#[derive(Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Outer {
    name: String,
    count: i32,
    #[serde(default)]
    ratio: Option<f64>,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default)]
    labels: BTreeMap<String, String>,
    #[serde(default)]
    mode: Option<Mode>,
    #[serde(default)]
    inner: Option<Inner>,
    #[serde(default)]
    wrapped: Option<Wrapped>,
}

#[derive(Debug, Deserialize, PartialEq)]
enum Mode {
    Fast,
    Slow,
}

#[derive(Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Inner {
    max_skew: u8,
    at: Loc<String>,
}

#[derive(Debug, Deserialize, PartialEq)]
struct Wrapped(u64);

#[test]
fn decodes_structs_options_lists_maps_enums_and_newtypes() {
    let text = "name: x\ncount: 3\nratio: 1\ntags: [a, b]\nlabels: {k: v}\nmode: Slow\ninner:\n  maxSkew: 2\n  at: here\nwrapped: 9\n";
    let v: Outer = dec(text, true).expect("valid");
    assert_eq!(v.count, 3);
    assert_eq!(v.ratio, Some(1.0));
    assert_eq!(v.tags, vec!["a", "b"]);
    assert_eq!(v.labels.get("k").map(String::as_str), Some("v"));
    assert_eq!(v.mode, Some(Mode::Slow));
    let inner = v.inner.expect("inner");
    assert_eq!(
        inner.at,
        Loc {
            value: "here".to_string(),
            pos: Pos { line: 9, column: 7 }
        }
    );
    assert_eq!(v.wrapped, Some(Wrapped(9)));
    // null reads as an empty string, list or map, and as None for options.
    let v: Outer = dec("name: ~\ncount: 1\ntags:\nlabels: ~\nmode: ~\n", true).expect("nulls");
    assert_eq!(
        (v.name.as_str(), v.tags.len(), v.labels.len(), v.mode),
        ("", 0, 0, None)
    );
}

#[test]
fn type_errors_name_what_was_expected_and_found() {
    let cases: &[(&str, &str, &str, Option<Pos>)] = &[
        (
            "name: x\ncount: three\n",
            "count",
            "expected an integer, found a string \"three\"",
            at(2, 8),
        ),
        (
            "name: x\ncount: 1.5\n",
            "count",
            "expected an integer, found a number 1.5",
            at(2, 8),
        ),
        (
            "name: 5\ncount: 1\n",
            "name",
            "expected a string, found an integer 5",
            at(1, 7),
        ),
        (
            "name: x\ncount: 1\ntags: a\n",
            "tags",
            "expected a list, found a string \"a\"",
            at(3, 7),
        ),
        (
            "name: x\ncount: 1\nlabels: [a]\n",
            "labels",
            "expected a map, found a list",
            at(3, 9),
        ),
        (
            "name: x\ncount: 1\nmode: Medium\n",
            "mode",
            "unknown value \"Medium\", expected one of: Fast, Slow",
            at(3, 7),
        ),
        (
            "name: x\ncount: 99999999999\n",
            "count",
            "invalid value an integer 99999999999: expected i32",
            at(2, 8),
        ),
        (
            "name: x\ncount: 1\ninner: {maxSkew: 300, at: x}\n",
            "inner.maxSkew",
            "expected u8",
            at(3, 18),
        ),
        (
            "name: x\ncount: 1\ninner:\n  at: x\n",
            "inner.maxSkew",
            "missing required field `maxSkew`",
            at(4, 3),
        ),
        (
            "name: x\n",
            "count",
            "missing required field `count`",
            at(1, 1),
        ),
    ];
    for &(text, path, message, pos) in cases {
        let errors = dec::<Outer>(text, true).expect_err(text);
        assert_eq!(errors.len(), 1, "{text}: {errors:?}");
        let e = &errors[0];
        assert_eq!(e.path.as_deref(), Some(path), "{text}");
        assert!(e.message.contains(message), "{text}: {}", e.message);
        assert_eq!(e.pos, pos, "{text}");
    }
    let errors = dec::<Outer>("name: x\ncount: 1\nmode: slow\n", true).expect_err("case");
    assert_eq!(errors[0].hint.as_deref(), Some("did you mean \"Slow\"?"));
    let errors = dec::<Outer>("name: true\ncount: 1\n", true).expect_err("bool");
    assert!(
        errors[0]
            .hint
            .as_deref()
            .is_some_and(|h| h.contains("quotes"))
    );
}

#[test]
fn unknown_fields_point_at_the_key_with_a_suggestion() {
    // Strict: every unknown field of every struct, with the rest still decoded.
    let text = "name: x\ncount: 1\ncuont: 2\ninner:\n  maxSkw: 1\n  at: y\n  zzz: 1\n";
    let errors = dec::<Outer>(text, true).expect_err("unknown fields");
    let got: Vec<(Option<&str>, Option<Pos>, Option<&str>)> = errors
        .iter()
        .map(|e| (e.path.as_deref(), e.pos, e.hint.as_deref()))
        .collect();
    assert_eq!(got.len(), 4, "{errors:?}");
    assert_eq!(
        got[0],
        (Some("cuont"), at(3, 1), Some("did you mean \"count\"?"))
    );
    assert_eq!(
        got[1],
        (
            Some("inner.maxSkw"),
            at(5, 3),
            Some("did you mean \"maxSkew\"?")
        )
    );
    assert_eq!(
        got[2].0,
        Some("inner.maxSkew"),
        "the misspelled field is then missing"
    );
    assert_eq!(got[3].0, Some("inner.zzz"));
    assert!(
        got[3]
            .2
            .is_some_and(|h| h.contains("known fields: maxSkew, at"))
    );
    // Not strict: serde's own unknown_field error, also at the key.
    let errors = dec::<Outer>("name: x\ncount: 1\ncuont: 2\n", false).expect_err("unknown");
    assert_eq!(errors.len(), 1);
    assert_eq!(
        (errors[0].path.as_deref(), errors[0].pos),
        (Some("cuont"), at(3, 1))
    );
    assert_eq!(errors[0].hint.as_deref(), Some("did you mean \"count\"?"));
}

#[test]
fn any_and_flatten_work_for_api_types() {
    #[derive(Debug, Deserialize)]
    struct Scalars {
        q: Vec<Quantity>,
        i: Vec<IntOrString>,
        j: serde_json::Value,
        volumes: Vec<Volume>,
    }
    let text = "q: [1, 500m, 1.5]\ni: [3, \"25%\"]\nj: {a: [1, x, ~, true, 2.5]}\nvolumes:\n  - name: data\n    persistentVolumeClaim: {claimName: c}\n  - name: cfg\n    configMap: {name: app}\n";
    let s: Scalars = dec(text, false).expect("valid");
    assert_eq!(
        s.q,
        vec![
            Quantity("1".into()),
            Quantity("500m".into()),
            Quantity("1.5".into())
        ]
    );
    assert_eq!(
        s.i,
        vec![IntOrString::Int(3), IntOrString::String("25%".into())]
    );
    assert_eq!(s.j, serde_json::json!({"a": [1, "x", null, true, 2.5]}));
    assert_eq!(
        s.volumes[0]
            .persistent_volume_claim
            .as_ref()
            .map(|c| c.claim_name.as_str()),
        Some("c")
    );
    assert_eq!(
        s.volumes[1].other.get("configMap"),
        Some(&serde_json::json!({"name": "app"}))
    );
    let errors =
        dec::<Scalars>("q: [[1]]\ni: []\nj: 1\nvolumes: []\n", false).expect_err("list quantity");
    assert_eq!(errors[0].path.as_deref(), Some("q[0]"));
    assert!(
        errors[0].message.starts_with("expected a quantity"),
        "{}",
        errors[0].message
    );
}

#[test]
fn decodes_a_statefulset_as_written() {
    let text = "apiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: web\n  creationTimestamp: null\n  managedFields: [{manager: kubectl}]\nspec:\n  replicas: 2\n  selector: {matchLabels: {app: web}}\n  updateStrategy: {rollingUpdate: {maxUnavailable: 50%}}\n  template:\n    metadata: {labels: {app: web}}\n    spec:\n      containers: [{name: web, image: nginx, resources: {limits: {cpu: 1}}}]\n";
    let s: StatefulSet = dec(text, false).expect("valid");
    assert_eq!(s.replicas(), 2);
    assert_eq!(
        s.spec.template.spec.containers[0]
            .resources
            .limits
            .get("cpu"),
        Some(&Quantity("1".into()))
    );
    let ru = s
        .spec
        .update_strategy
        .rolling_update
        .expect("rolling update");
    assert_eq!(ru.max_unavailable, Some(IntOrString::String("50%".into())));
    let errors = dec::<StatefulSet>("spec:\n  replicas: three\n", false).expect_err("bad replicas");
    assert_eq!(errors[0].path.as_deref(), Some("spec.replicas"));
    assert_eq!(
        errors[0].message,
        "expected an integer, found a string \"three\""
    );
    assert_eq!(errors[0].pos, at(2, 13));
}
