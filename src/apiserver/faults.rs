//! Injected API failures: a test (or, later, a fault schedule) makes one request of a given
//! actor, verb and kind fail with a chosen error instead of being carried out, as a real
//! API server's transient errors (timeouts, 5xx) make a controller's request fail. This is
//! how upstream's controller tests inject errors (client-go fake reactors).

use super::{ApiError, ApiServer, Verb};
use crate::api::Kind;

/// One request to fail: the `skip + 1`-th request by `actor` with `verb` on `kind` (counted
/// from the injection) fails with `error`, once.
#[derive(Clone, Debug)]
pub struct InjectedFailure {
    pub actor: String,
    pub verb: Verb,
    pub kind: Kind,
    pub skip: u32,
    pub error: ApiError,
}

impl InjectedFailure {
    /// The next request of this shape fails with a server error.
    pub fn next(actor: &str, verb: Verb, kind: Kind) -> Self {
        InjectedFailure {
            actor: actor.into(),
            verb,
            kind,
            skip: 0,
            error: ApiError::Unavailable {
                message: format!(
                    "the server is currently unable to handle the request (injected {} {})",
                    verb.as_str(),
                    kind.resource()
                ),
            },
        }
    }
}

impl ApiServer {
    /// Arms a one-shot failure (kept until a matching request consumes it).
    pub fn inject_failure(&mut self, failure: InjectedFailure) {
        self.injected.push(failure);
    }

    /// Consumes the first armed failure this request matches, if any is due.
    #[inline]
    pub(super) fn take_injected(
        &mut self,
        actor: &str,
        verb: Verb,
        kind: Kind,
    ) -> Result<(), ApiError> {
        // Every request asks; mostly no failure is injected at all.
        if self.injected.is_empty() {
            return Ok(());
        }
        let Some(i) = self
            .injected
            .iter()
            .position(|f| f.actor == actor && f.verb == verb && f.kind == kind)
        else {
            return Ok(());
        };
        if self.injected[i].skip > 0 {
            self.injected[i].skip -= 1;
            return Ok(());
        }
        Err(self.injected.remove(i).error)
    }
}
