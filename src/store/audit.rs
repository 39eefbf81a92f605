//! The audit log: who did what to whom, append-only.

use crate::domain::ids::AccountId;
use diesel::prelude::*;

use super::schema::audit_log;
use super::{now_rfc3339, DbConnection, StoreError};

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = audit_log)]
pub struct Entry {
    pub id: i64,
    pub at: String,
    pub actor_id: Option<AccountId>,
    pub action: String,
    pub subject_id: Option<AccountId>,
    pub details: String,
}

pub fn record(
    conn: &mut DbConnection,
    actor_id: Option<AccountId>,
    action: &str,
    subject_id: Option<AccountId>,
    details: &serde_json::Value,
) -> Result<(), StoreError> {
    diesel::insert_into(audit_log::table)
        .values((
            audit_log::at.eq(now_rfc3339()),
            audit_log::actor_id.eq(actor_id),
            audit_log::action.eq(action),
            audit_log::subject_id.eq(subject_id),
            audit_log::details.eq(details.to_string()),
        ))
        .execute(conn)?;
    Ok(())
}

/// The latest entries, newest first.
pub fn latest(conn: &mut DbConnection, limit: i64) -> Result<Vec<Entry>, StoreError> {
    Ok(audit_log::table
        .order(audit_log::id.desc())
        .limit(limit)
        .select(Entry::as_select())
        .load(conn)?)
}
