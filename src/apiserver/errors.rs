//! API errors, worded as the real API server words them (these are values inside the
//! simulation, e.g. a conflict a controller retries; never Rust errors out of the engine).

use crate::api::Kind;

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    #[error("{} \"{name}\" not found", .kind.resource())]
    NotFound { kind: Kind, name: String },
    #[error("{} \"{name}\" already exists", .kind.resource())]
    AlreadyExists { kind: Kind, name: String },
    #[error(
        "Operation cannot be fulfilled on {} \"{name}\": the object has been modified; please apply your changes to the latest version and try again",
        .kind.resource()
    )]
    Conflict { kind: Kind, name: String },
    #[error("{} \"{name}\" is invalid: {message}", .kind.as_str())]
    Invalid {
        kind: Kind,
        name: String,
        message: String,
    },
    #[error("Cannot evict pod as it would violate the pod's disruption budget.")]
    TooManyRequests,
    #[error("{message}")]
    Unavailable { message: String },
    /// 403, e.g. the eviction subresource refusing a budget in a bad state.
    #[error("{message}")]
    Forbidden { message: String },
    /// 500, e.g. an eviction of a pod that several PodDisruptionBudgets select.
    #[error("{message}")]
    InternalError { message: String },
}

impl ApiError {
    pub fn is_not_found(&self) -> bool {
        matches!(self, ApiError::NotFound { .. })
    }
    pub fn is_already_exists(&self) -> bool {
        matches!(self, ApiError::AlreadyExists { .. })
    }
    pub fn is_conflict(&self) -> bool {
        matches!(self, ApiError::Conflict { .. })
    }
}
