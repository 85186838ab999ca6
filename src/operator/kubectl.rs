//! Carries out one kubectl action. Each command does what the real kubectl does against
//! the API: `scale` and `set image` update the StatefulSet, `delete pod` issues a delete
//! with the requested grace period, `cordon`/`uncordon` set `spec.unschedulable`.

use crate::api::{Node, ObjectKey, Pod, StatefulSet};
use crate::apiserver::{Actor, ApiClient, ApiError, DeleteOptions};
use crate::scenario::Action;

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

/// Runs `action` through `client` (whose actor is `kubectl`).
pub fn execute(client: &mut ApiClient<'_>, action: &Action) -> ActionOutcome {
    match run(client, action) {
        Ok(msg) => ActionOutcome::Ok(msg),
        Err(e) => ActionOutcome::Error(format!("Error from server: {e}")),
    }
}

/// The actor kubectl writes as.
pub fn actor() -> Actor {
    Actor::new("kubectl")
}

fn run(client: &mut ApiClient<'_>, action: &Action) -> Result<String, ApiError> {
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
            let mut missing = None;
            update_set(client, namespace, name, |set| {
                for (container, image) in images {
                    let spec = &mut set.spec.template.spec;
                    match spec
                        .containers
                        .iter_mut()
                        .chain(spec.init_containers.iter_mut())
                        .find(|c| &c.name == container)
                    {
                        Some(c) => c.image = image.clone(),
                        None => missing = Some(container.clone()),
                    }
                }
            })?;
            if let Some(c) = missing {
                return Err(ApiError::Invalid {
                    kind: crate::api::Kind::StatefulSet,
                    name: name.clone(),
                    message: format!("unable to find container named \"{c}\""),
                });
            }
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
            client.delete::<Pod>(&ObjectKey::new(namespace, name), &opts)?;
            if *grace_period_seconds == Some(0) {
                Ok(format!("pod \"{name}\" force deleted"))
            } else {
                Ok(format!("pod \"{name}\" deleted"))
            }
        }
        Action::Cordon { node } => set_unschedulable(client, node, true),
        Action::Uncordon { node } => set_unschedulable(client, node, false),
    }
}

fn update_set(
    client: &mut ApiClient<'_>,
    namespace: &str,
    name: &str,
    change: impl FnOnce(&mut StatefulSet),
) -> Result<(), ApiError> {
    let current = client
        .get::<StatefulSet>(&ObjectKey::new(namespace, name))
        .ok_or_else(|| ApiError::NotFound {
            kind: crate::api::Kind::StatefulSet,
            name: name.to_string(),
        })?;
    let mut next = (*current).clone();
    change(&mut next);
    client.update(next)?;
    Ok(())
}

fn set_unschedulable(
    client: &mut ApiClient<'_>,
    node: &str,
    unschedulable: bool,
) -> Result<String, ApiError> {
    let current = client
        .get::<Node>(&ObjectKey::cluster(node))
        .ok_or_else(|| ApiError::NotFound {
            kind: crate::api::Kind::Node,
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
