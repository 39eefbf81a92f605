//! Use cases that combine the pure layers with storage: importing bills, reading and
//! comparing versions. Called by `web` and `cli`, never the other way round.

pub mod akn;
pub mod amendments;
pub mod campaigns;
pub mod comments;
pub mod consolidation;
pub mod consultation;
pub mod disposition;
pub mod feeds;
pub mod identity;
pub mod import;
pub mod moderation;
pub mod opendata;
pub mod reading;
pub mod voting;

/// An error that may be a decision refused for a conflict of interest.
pub(crate) trait MaybeConflict {
    fn conflict(&self) -> Option<crate::domain::conflict::Conflict>;
}

/// `result`, after writing it to the audit log if it is a decision refused for a conflict
/// of interest: who tried, which decision on what, and the conflict. In a transaction of
/// its own, since the refused one was rolled back.
pub(crate) fn audit_refusal<T, E>(
    store: &crate::store::Store,
    who: &identity::SessionInfo,
    decision: &str,
    target: serde_json::Value,
    result: Result<T, E>,
) -> Result<T, E>
where
    E: MaybeConflict + From<crate::store::StoreError>,
{
    if let Some(conflict) = result.as_ref().err().and_then(MaybeConflict::conflict) {
        store.transaction(|conn| {
            crate::store::audit::record(
                conn,
                Some(who.account.id),
                "refused_conflict",
                Some(who.account.id),
                &serde_json::json!({
                    "decision": decision,
                    "conflict": conflict.as_str(),
                    "target": target,
                }),
            )
        })?;
    }
    result
}

/// Reports the progress of a long job (a progress bar in the CLI, nothing in tests).
pub trait Progress {
    fn start(&self, _total: u64, _what: &str) {}
    fn advance(&self, _detail: &str) {}
    fn finish(&self) {}
}

/// Progress that is not shown.
pub struct Silent;
impl Progress for Silent {}
