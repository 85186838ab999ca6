//! Carries out one kubectl action. Each command does what the real kubectl does against
//! the API: `scale`, `set image` and `patch` update the StatefulSet, `delete` issues a
//! delete with the requested grace period and propagation policy, `rollout undo|restart`
//! rewrite the pod template (`rollout.rs`), `cordon`/`uncordon` set `spec.unschedulable`.
//! Output and errors are worded as kubectl prints them.

use super::{patch, rollout};
use crate::api::{Kind, Node, ObjectKey, PersistentVolumeClaim, Pod, StatefulSet};
use crate::apiserver::{Actor, ApiClient, ApiError, DeleteOptions, Propagation, Strategy};
use crate::scenario::{Action, PatchType};

/// What kubectl would print: `statefulset.apps/web scaled`, or an error line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ActionOutcome {
    Ok(String),
    Error(String),
}

impl ActionOutcome {
    pub fn text(&self) -> &str {
        match self {
            ActionOutcome::Ok(s) | ActionOutcome::Error(s) => s,
        }
    }
    pub fn is_ok(&self) -> bool {
        matches!(self, ActionOutcome::Ok(_))
    }
}

/// Why a command failed: the API server refused a request, or kubectl itself gave up.
#[derive(Debug)]
pub(super) enum Failure {
    Api(ApiError),
    Client(String),
    /// An error line kubectl prints as it is.
    Printed(String),
}

impl From<ApiError> for Failure {
    fn from(e: ApiError) -> Self {
        Failure::Api(e)
    }
}

impl Failure {
    /// The error's own text, without kubectl's prefix.
    pub(super) fn server_text(&self) -> String {
        match self {
            Failure::Api(e) => e.to_string(),
            Failure::Client(s) | Failure::Printed(s) => s.clone(),
        }
    }

    // kubectl's `CheckErr` wording: `Error from server (Reason): ...` for API errors, `The
    // Kind "name" is invalid: ...` for validation errors, `error: ...` for its own.
    pub(super) fn text(&self) -> String {
        let reason = |r: &str, e: &ApiError| format!("Error from server ({r}): {e}");
        match self {
            Failure::Client(s) => format!("error: {s}"),
            Failure::Printed(s) => s.clone(),
            Failure::Api(ApiError::Invalid {
                kind,
                name,
                message,
            }) => format!("The {kind} \"{name}\" is invalid: {message}"),
            Failure::Api(e @ ApiError::NotFound { .. }) => reason("NotFound", e),
            Failure::Api(e @ ApiError::AlreadyExists { .. }) => reason("AlreadyExists", e),
            Failure::Api(e @ ApiError::Conflict { .. }) => reason("Conflict", e),
            Failure::Api(e @ ApiError::TooManyRequests) => reason("TooManyRequests", e),
            Failure::Api(e @ ApiError::Forbidden { .. }) => reason("Forbidden", e),
            Failure::Api(e) => format!("Error from server: {e}"),
        }
    }
}

/// Runs `action` through `client` (whose actor is `kubectl`).
pub fn execute(client: &mut ApiClient<'_>, action: &Action) -> ActionOutcome {
    match run(client, action) {
        Ok(msg) => ActionOutcome::Ok(msg),
        Err(e) => ActionOutcome::Error(e.text()),
    }
}

/// The actor kubectl writes as.
pub fn actor() -> Actor {
    Actor::new("kubectl")
}

fn run(client: &mut ApiClient<'_>, action: &Action) -> Result<String, Failure> {
    match action {
        Action::Scale {
            namespace,
            name,
            replicas,
        } => {
            update_set(client, namespace, name, |set| {
                set.spec.replicas = Some(*replicas)
            })?;
            Ok(format!("statefulset.apps/{name} scaled"))
        }
        Action::SetImage {
            namespace,
            name,
            images,
        } => {
            let set = get_set(client, namespace, name)?;
            let mut next = (*set).clone();
            for (container, image) in images {
                let spec = &mut next.spec.template.spec;
                let found = spec
                    .containers
                    .iter_mut()
                    .chain(spec.init_containers.iter_mut())
                    .find(|c| &c.name == container);
                match found {
                    Some(c) => c.image = image.clone(),
                    None => {
                        return Err(Failure::Client(format!(
                            "unable to find container named \"{container}\""
                        )));
                    }
                }
            }
            client.update(next)?;
            Ok(format!("statefulset.apps/{name} image updated"))
        }
        Action::DeletePod {
            namespace,
            name,
            grace_period_seconds,
        } => {
            let opts = DeleteOptions {
                grace_period_seconds: *grace_period_seconds,
                ..Default::default()
            };
            let force = *grace_period_seconds == Some(0);
            delete::<Pod>(client, namespace, name, opts, force)
        }
        Action::DeleteStatefulSet {
            namespace,
            name,
            propagation,
        } => delete::<StatefulSet>(client, namespace, name, cascade(*propagation), false),
        Action::DeletePvc {
            namespace,
            name,
            propagation,
        } => delete::<PersistentVolumeClaim>(client, namespace, name, cascade(*propagation), false),
        Action::RolloutUndo {
            namespace,
            name,
            to_revision,
        } => rollout::undo(client, namespace, name, *to_revision),
        Action::RolloutRestart { namespace, name } => rollout::restart(client, namespace, name),
        Action::Patch {
            namespace,
            name,
            patch_type,
            patch,
        } => patch_set(client, namespace, name, *patch_type, patch),
        Action::Cordon { node } => set_unschedulable(client, node, true),
        Action::Uncordon { node } => set_unschedulable(client, node, false),
        Action::CordonSelected {
            selector,
            unschedulable,
        } => super::nodes::cordon(client, selector, *unschedulable),
        Action::Taint {
            target,
            changes,
            overwrite,
        } => super::nodes::taint(client, target, changes, *overwrite),
        Action::DeleteNode { node } => super::nodes::delete_node(client, node),
        Action::DeletePv { name } => super::storage::delete_pv(client, name),
        Action::PatchPvc {
            namespace,
            name,
            patch_type,
            patch,
        } => super::storage::patch_pvc(client, namespace, name, *patch_type, patch),
        Action::Get(request) => {
            let (objects, _) = client.read()?;
            super::printers::get(objects, request, client.now()).map_err(Failure::Printed)
        }
        Action::DescribePod { namespace, name } => {
            let (objects, api) = client.read()?;
            let key = ObjectKey::new(namespace, name);
            let pod = objects.get::<Pod>(&key).ok_or_else(|| {
                Failure::Printed(format!(
                    "Error from server (NotFound): pods \"{name}\" not found"
                ))
            })?;
            let events = api.events_about(&pod.metadata.uid, client.now());
            Ok(super::printers::describe_pod(pod, &events, client.now()))
        }
        // A drain runs for a while: `Operator::start` drives it.
        Action::Drain { .. } => Err(Failure::Client(
            "drain runs on the operator's timers (Operator::start)".into(),
        )),
    }
}

fn cascade(propagation: Propagation) -> DeleteOptions {
    DeleteOptions {
        propagation: Some(propagation),
        ..Default::default()
    }
}

// kubectl's `DeleteResult` for one object: the delete always carries a propagation policy
// (background unless `--cascade` says otherwise); the line printed names the namespace.
fn delete<T: Strategy>(
    client: &mut ApiClient<'_>,
    namespace: &str,
    name: &str,
    mut opts: DeleteOptions,
    force: bool,
) -> Result<String, Failure> {
    opts.propagation.get_or_insert(Propagation::Background);
    client.delete::<T>(&ObjectKey::new(namespace, name), &opts)?;
    let operation = if force { "force deleted" } else { "deleted" };
    Ok(format!(
        "{} \"{name}\" {operation} from {namespace} namespace",
        kind_string(T::KIND)
    ))
}

/// `kind.group` as kubectl prints it (`statefulset.apps`, `pod`).
pub(super) fn kind_string(kind: Kind) -> String {
    match kind.api_version().rsplit_once('/') {
        Some((group, _)) => format!("{}.{group}", kind.short()),
        None => kind.short().to_string(),
    }
}

pub(super) fn get_set(
    client: &ApiClient<'_>,
    namespace: &str,
    name: &str,
) -> Result<std::rc::Rc<StatefulSet>, Failure> {
    client
        .get::<StatefulSet>(&ObjectKey::new(namespace, name))
        .ok_or_else(|| {
            Failure::Api(ApiError::NotFound {
                kind: Kind::StatefulSet,
                name: name.to_string(),
            })
        })
}

fn update_set(
    client: &mut ApiClient<'_>,
    namespace: &str,
    name: &str,
    change: impl FnOnce(&mut StatefulSet),
) -> Result<(), Failure> {
    let current = get_set(client, namespace, name)?;
    let mut next = (*current).clone();
    change(&mut next);
    client.update(next)?;
    Ok(())
}

/// `kubectl patch`: the patch applied to the live object's JSON, the result written back
/// (nothing is written when it changes nothing).
fn patch_set(
    client: &mut ApiClient<'_>,
    namespace: &str,
    name: &str,
    patch_type: PatchType,
    patch: &serde_json::Value,
) -> Result<String, Failure> {
    let current = get_set(client, namespace, name)?;
    let next = patched(&current, patch_type, patch)?;
    if next == *current {
        return Ok(format!("statefulset.apps/{name} patched (no change)"));
    }
    client.update(next)?;
    Ok(format!("statefulset.apps/{name} patched"))
}

/// `set` with `patch` applied, as the API server decodes the result.
pub(super) fn patched(
    set: &StatefulSet,
    patch_type: PatchType,
    patch: &serde_json::Value,
) -> Result<StatefulSet, Failure> {
    let bad_request = |e: String| Failure::Api(ApiError::Unavailable { message: e });
    let doc = serde_json::to_value(set).expect("API objects always serialise");
    let doc = patch::apply(&doc, patch_type, patch, "StatefulSet").map_err(bad_request)?;
    serde_json::from_value(doc)
        .map_err(|e| bad_request(format!("error decoding the patched StatefulSet: {e}")))
}

pub(super) fn set_unschedulable(
    client: &mut ApiClient<'_>,
    node: &str,
    unschedulable: bool,
) -> Result<String, Failure> {
    let current = client
        .get::<Node>(&ObjectKey::cluster(node))
        .ok_or_else(|| ApiError::NotFound {
            kind: Kind::Node,
            name: node.to_string(),
        })?;
    let verb = if unschedulable {
        "cordoned"
    } else {
        "uncordoned"
    };
    if current.spec.unschedulable == unschedulable {
        return Ok(format!("node/{node} already {verb}"));
    }
    let mut next = (*current).clone();
    next.spec.unschedulable = unschedulable;
    client.update(next)?;
    Ok(format!("node/{node} {verb}"))
}
