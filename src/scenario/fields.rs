//! Checks a manifest's YAML tree against the real Kubernetes API schema (`api::schema`):
//! a key that is not a field of the real type, or a value of the wrong shape, is an error;
//! a real field that stsim does not model is noted as "not simulated" (once, at the
//! top-most such field).

use super::de::{index, join};
use super::simulated::is_modelled;
use super::suggest::did_you_mean;
use super::yaml::{Node, Pos, Value};
use crate::api::schema::{Ty, type_fields};

/// A problem found by the walk, with the path relative to the object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub pos: Pos,
    pub path: String,
    pub message: String,
    pub hint: Option<String>,
}

/// What the walk found.
#[derive(Debug, Default)]
pub struct Walk {
    pub errors: Vec<Problem>,
    /// Top-most real-but-unmodelled fields: position of the key and path.
    pub not_simulated: Vec<(Pos, String)>,
}

/// Walks `root`, an object of API type `root_type`; `modelled` lists what stsim models
/// (see `simulated.rs`). `status` is skipped: the simulator writes its own.
pub fn walk(root: &Node, root_type: &str, modelled: &[String]) -> Walk {
    let mut w = Walk::default();
    let at = Here {
        path: String::new(),
        pattern: String::new(),
        report: true,
    };
    walk_object(root, root_type, &at, modelled, &mut w);
    w
}

/// Where the walk is: the path with indices, the same with `[]` for the table, and whether
/// unmodelled fields below are still to be reported.
struct Here {
    path: String,
    pattern: String,
    report: bool,
}

fn walk_object(node: &Node, type_name: &str, at: &Here, modelled: &[String], w: &mut Walk) {
    let Some(fields) = type_fields(type_name) else {
        return;
    };
    let entries = match &node.value {
        Value::Map(entries) => entries,
        Value::Null => return,
        _ => {
            w.errors.push(shape_error(node, &at.path, "a map"));
            return;
        }
    };
    let is_object_root = at.pattern.is_empty() || at.pattern == "spec.volumeClaimTemplates[]";
    for e in entries {
        if is_object_root && e.key == "status" {
            continue;
        }
        let path = join(&at.path, &e.key);
        let Some(field) = fields.iter().find(|f| f.name == e.key) else {
            let hint = did_you_mean(&e.key, fields.iter().map(|f| f.name));
            let message = format!(
                "unknown field `{}`: not a field of {type_name} in the Kubernetes API",
                e.key
            );
            w.errors.push(Problem {
                pos: e.key_pos,
                path,
                message,
                hint,
            });
            continue;
        };
        let pattern = join(&at.pattern, &e.key);
        let mut report = at.report;
        if report && !is_modelled(modelled, &pattern) {
            w.not_simulated.push((e.key_pos, path.clone()));
            report = false;
        }
        let here = Here {
            path,
            pattern,
            report,
        };
        walk_value(&e.value, field.ty, &here, modelled, w);
    }
}

fn walk_value(node: &Node, ty: Ty, at: &Here, modelled: &[String], w: &mut Walk) {
    if node.is_null() {
        return;
    }
    match ty {
        Ty::Any => {}
        Ty::Scalar => {
            if !node.is_scalar() {
                w.errors.push(shape_error(node, &at.path, "a single value"));
            }
        }
        Ty::Obj(t) => walk_object(node, t, at, modelled, w),
        Ty::ListOf(t) => match &node.value {
            Value::Seq(items) => {
                for (i, item) in items.iter().enumerate() {
                    let here = Here {
                        path: index(&at.path, i),
                        pattern: format!("{}[]", at.pattern),
                        report: at.report,
                    };
                    walk_object(item, t, &here, modelled, w);
                }
            }
            _ => w.errors.push(shape_error(node, &at.path, "a list")),
        },
        Ty::ScalarList => match &node.value {
            Value::Seq(items) => {
                for (i, item) in items.iter().enumerate() {
                    if !item.is_scalar() {
                        w.errors
                            .push(shape_error(item, &index(&at.path, i), "a single value"));
                    }
                }
            }
            _ => w
                .errors
                .push(shape_error(node, &at.path, "a list of values")),
        },
        Ty::ScalarMap => match &node.value {
            Value::Map(entries) => {
                for e in entries {
                    if !e.value.is_scalar() {
                        w.errors.push(shape_error(
                            &e.value,
                            &join(&at.path, &e.key),
                            "a single value",
                        ));
                    }
                }
            }
            _ => w
                .errors
                .push(shape_error(node, &at.path, "a map of values")),
        },
    }
}

fn shape_error(node: &Node, path: &str, expected: &str) -> Problem {
    Problem {
        pos: node.pos,
        path: path.to_string(),
        message: format!("expected {expected}, found {}", node.describe()),
        hint: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::simulated::modelled_paths;
    use crate::scenario::yaml::parse_documents;

    fn walk_text(text: &str) -> Walk {
        let docs = parse_documents(text).expect("valid YAML");
        let kind = docs[0]
            .get("kind")
            .and_then(Node::as_str)
            .unwrap_or_default()
            .to_string();
        let modelled = modelled_paths(&kind).unwrap_or_default();
        walk(&docs[0], &kind, &modelled)
    }

    #[test]
    fn reports_misspellings_shapes_and_unmodelled_fields() {
        let w = walk_text(
            "apiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: web\n  uid: x\nspec:\n  replica: 3\n  selector: []\n  template:\n    spec:\n      securityContext:\n        runAsUser: 1\n        runAsUsr: 2\n      containers:\n      - name: a\n        env: [{name: X, value: y}]\nstatus:\n  bogus: 1\n",
        );
        let errors: Vec<(&str, Pos, Option<&str>)> = w
            .errors
            .iter()
            .map(|e| (e.path.as_str(), e.pos, e.hint.as_deref()))
            .collect();
        assert_eq!(
            errors,
            vec![
                (
                    "spec.replica",
                    Pos { line: 7, column: 3 },
                    Some("did you mean \"replicas\"?")
                ),
                (
                    "spec.selector",
                    Pos {
                        line: 8,
                        column: 13
                    },
                    None
                ),
                (
                    "spec.template.spec.securityContext.runAsUsr",
                    Pos {
                        line: 13,
                        column: 9
                    },
                    Some("did you mean \"runAsUser\"?")
                ),
            ]
        );
        let ns: Vec<&str> = w.not_simulated.iter().map(|(_, p)| p.as_str()).collect();
        assert_eq!(
            ns,
            vec![
                "spec.template.spec.securityContext",
                "spec.template.spec.containers[0].env"
            ]
        );
        assert_eq!(
            w.not_simulated[0].0,
            Pos {
                line: 11,
                column: 7
            }
        );
    }
}
