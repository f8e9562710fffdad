//! Why a control request failed. The control protocol carries the message
//! (`{"ok": false, "error": "..."}`); callers inside the daemon match on the
//! variant.

use crate::failover::status::FailoverOpsError;

/// A refused or failed control request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ControlError {
    /// The request line is not a request of the protocol.
    #[error("bad request: {0}")]
    BadRequest(String),
    /// The request line is longer than [`super::protocol::MAX_REQUEST`].
    #[error("request too long")]
    TooLong,
    /// No lease or host matches the request.
    #[error("{0}")]
    NotFound(String),
    /// An argument is malformed, or the change it asks for is not allowed.
    #[error("{0}")]
    Invalid(String),
    /// The change could not be made durable.
    #[error("{0}")]
    Store(String),
    /// The engine task has stopped (the daemon is shutting down).
    #[error("the engine has stopped")]
    EngineStopped,
    /// The engine task dropped the request without an answer.
    #[error("the engine dropped the request")]
    EngineDropped,
    /// The engine answered with a reply of another request.
    #[error("unexpected answer from the engine")]
    UnexpectedReply,
    /// The failover side refused the command.
    #[error("{0}")]
    Failover(String),
    /// The reload was refused; the message says why.
    #[error("{0}")]
    Reload(String),
}

impl From<FailoverOpsError> for ControlError {
    fn from(e: FailoverOpsError) -> Self {
        Self::Failover(e.to_string())
    }
}
