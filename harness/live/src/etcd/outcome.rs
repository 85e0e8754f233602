//! How an etcd answer ends a workload operation: `ok`, `fail` (the request certainly had no
//! effect) or `info` (it may have had one).
//!
//! | what came back | outcome | why |
//! | --- | --- | --- |
//! | a response | ok | range: the value (or none); put: written; txn: `succeeded` is whether the cas applied |
//! | `etcdserver: no leader`, `not leader`, `leader changed` | fail | refused before being proposed (no leader to propose to; a ReadIndex round that lost its leader) |
//! | `etcdserver: too many requests`, request too large, other `InvalidArgument`, `FailedPrecondition`, `ResourceExhausted`, `OutOfRange`, `PermissionDenied`, `Unauthenticated` | fail | checked before proposing |
//! | `etcdserver: mvcc: required revision has been compacted` (`OutOfRange`) | fail | a range below the compacted revision is refused; in a txn it fails the whole txn when applied, on every member alike |
//! | `raft proposal dropped` | fail | raft refused the proposal (no leader, or a leader transfer) |
//! | the connection could not be made | fail | nothing was sent |
//! | `etcdserver: request timed out` (and its variants naming a leader failure or a lost connection), `server stopped`, `request cancelled` | info | proposed, and may still commit |
//! | the harness's own deadline, `DeadlineExceeded`, `Cancelled` | info | may be in flight or proposed |
//! | the connection broke after the request was sent, `Unknown`, `Internal` | info | may have reached the leader |
//!
//! etcd does not deduplicate requests, so an `info` write or cas is never sent again (it could
//! apply twice); it ends as `info` at the workload's `op_timeout`. A `fail` is answered to the
//! client as a refusal with no leader hint: it backs off and sends the same operation to the
//! next member, as it does when a workbench node refuses. A read has no effect, so a read is
//! retried after `info` too.

use replog::KvResult;
use tonic::Code;

/// How one request to etcd ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// etcd answered: the operation's result.
    Ok(KvResult),
    /// The request certainly had no effect; it may be sent again.
    Fail(String),
    /// The request may have had an effect.
    Info(String),
}

impl Outcome {
    /// Whether the request may have taken effect without an answer (a write must not be
    /// sent again).
    pub fn maybe_applied(&self) -> bool {
        matches!(self, Outcome::Info(_))
    }
}

/// etcd's messages for requests it refused before proposing them (etcd 3.4's
/// `rpctypes` and `etcdserver` errors, and raft's `ErrProposalDropped`).
const REFUSED: &[&str] = &[
    "etcdserver: no leader",
    "etcdserver: not leader",
    "etcdserver: leader changed",
    "etcdserver: too many requests",
    "etcdserver: request is too large",
    "etcdserver: mvcc: required revision has been compacted",
    "etcdserver: mvcc: required revision is a future revision",
    "etcdserver: unhealthy cluster",
    "etcdserver: not capable",
    "raft proposal dropped",
];

/// etcd's messages for proposals whose fate is unknown.
const UNKNOWN: &[&str] = &[
    "etcdserver: request timed out",
    "etcdserver: server stopped",
    "etcdserver: request cancelled",
];

/// The outcome of a gRPC status from etcd.
pub fn of_status(code: Code, message: &str) -> Outcome {
    let text = || format!("{code:?}: {message}");
    // Match on etcd's words first: "request timed out" is Unavailable like "no leader".
    if UNKNOWN.iter().any(|m| message.starts_with(m)) {
        return Outcome::Info(text());
    }
    if REFUSED.iter().any(|m| message.starts_with(m)) {
        return Outcome::Fail(text());
    }
    match code {
        Code::InvalidArgument
        | Code::FailedPrecondition
        | Code::ResourceExhausted
        | Code::OutOfRange
        | Code::PermissionDenied
        | Code::Unauthenticated
        | Code::Unimplemented
        | Code::NotFound
        | Code::AlreadyExists => Outcome::Fail(text()),
        // A connection that broke mid-request, a timeout, or an error etcd did not name.
        _ => Outcome::Info(text()),
    }
}

/// The outcome of an error from the etcd client crate. `connect_failed` says the connection
/// to the member could not be made, so nothing was sent.
pub fn of_error(err: &etcd_client::Error, connect_failed: bool) -> Outcome {
    match err {
        _ if connect_failed => Outcome::Fail(format!("connecting: {err}")),
        etcd_client::Error::GRpcStatus(status) => of_status(status.code(), status.message()),
        // Failures of the client's own: nothing went out.
        etcd_client::Error::InvalidArgs(_)
        | etcd_client::Error::InvalidUri(_)
        | etcd_client::Error::InvalidMetadataValue(_)
        | etcd_client::Error::EndpointError(_)
        | etcd_client::Error::Utf8Error(_) => Outcome::Fail(err.to_string()),
        _ => Outcome::Info(err.to_string()),
    }
}

/// Whether `err` is a failure to connect (nothing sent): a refused or timed-out TCP connect
/// somewhere in its chain of causes.
pub fn is_connect_failure(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = cause {
        if let Some(io) = e.downcast_ref::<std::io::Error>()
            && matches!(
                io.kind(),
                std::io::ErrorKind::ConnectionRefused | std::io::ErrorKind::AddrNotAvailable
            )
        {
            return true;
        }
        if e.to_string().contains("tcp connect error") {
            return true;
        }
        cause = e.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fail(code: Code, message: &str) -> bool {
        matches!(of_status(code, message), Outcome::Fail(_))
    }

    fn info(code: Code, message: &str) -> bool {
        matches!(of_status(code, message), Outcome::Info(_))
    }

    #[test]
    fn leader_changes_are_refusals_that_may_be_retried() {
        assert!(fail(Code::Unavailable, "etcdserver: no leader"));
        assert!(fail(Code::Unavailable, "etcdserver: not leader"));
        assert!(fail(Code::Unavailable, "etcdserver: leader changed"));
        assert!(fail(Code::Unknown, "raft proposal dropped"));
    }

    #[test]
    fn timeouts_leave_the_outcome_unknown() {
        assert!(info(Code::Unavailable, "etcdserver: request timed out"));
        assert!(info(
            Code::Unavailable,
            "etcdserver: request timed out, possibly due to previous leader failure"
        ));
        assert!(info(
            Code::Unavailable,
            "etcdserver: request timed out, possibly due to connection lost"
        ));
        assert!(info(Code::DeadlineExceeded, "context deadline exceeded"));
        assert!(info(Code::Cancelled, "etcdserver: request cancelled"));
        assert!(info(Code::Unavailable, "etcdserver: server stopped"));
    }

    #[test]
    fn compaction_errors_are_refusals() {
        assert!(fail(
            Code::OutOfRange,
            "etcdserver: mvcc: required revision has been compacted"
        ));
        assert!(fail(
            Code::OutOfRange,
            "etcdserver: mvcc: required revision is a future revision"
        ));
    }

    #[test]
    fn requests_refused_before_proposing_fail_and_unexplained_errors_are_info() {
        assert!(fail(Code::ResourceExhausted, "etcdserver: too many requests"));
        assert!(fail(Code::InvalidArgument, "etcdserver: request is too large"));
        assert!(fail(Code::InvalidArgument, "etcdserver: key is not provided"));
        // A connection reset after sending, or an error etcd did not name.
        assert!(info(Code::Unavailable, "transport error"));
        assert!(info(Code::Unknown, "h2 protocol error: connection reset"));
        assert!(info(Code::Internal, "something broke"));
    }

    #[test]
    fn only_info_may_have_applied() {
        assert!(Outcome::Info(String::new()).maybe_applied());
        assert!(!Outcome::Fail(String::new()).maybe_applied());
        assert!(!Outcome::Ok(KvResult::Written).maybe_applied());
    }

    #[test]
    fn a_failed_connect_sent_nothing_whatever_the_client_says() {
        let err = etcd_client::Error::GRpcStatus(tonic::Status::unavailable("transport error"));
        assert!(matches!(of_error(&err, true), Outcome::Fail(_)));
        assert!(matches!(of_error(&err, false), Outcome::Info(_)));
        let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        assert!(is_connect_failure(&refused));
        let reset = std::io::Error::from(std::io::ErrorKind::ConnectionReset);
        assert!(!is_connect_failure(&reset));
    }
}
