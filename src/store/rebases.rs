//! What happened to pending amendments when their consultation moved to a new version:
//! carried over, proposed to the author (three-way merge), accepted by the author, or
//! to redraft.

use crate::domain::ids::{AmendmentId, VersionId};
use crate::domain::time::Timestamp;
use diesel::prelude::*;

use super::schema::amendment_rebases as r;
use super::{now_rfc3339, DbConnection, StoreError};
use crate::domain::consolidation::RebaseOutcome;

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = r)]
pub struct Rebase {
    pub amendment_id: AmendmentId,
    pub from_version_id: VersionId,
    pub to_version_id: VersionId,
    pub outcome: RebaseOutcome,
    pub operations: String,
    pub created_at: Timestamp,
}

pub fn insert(
    conn: &mut DbConnection,
    amendment_id: AmendmentId,
    from_version_id: VersionId,
    to_version_id: VersionId,
    outcome: RebaseOutcome,
    operations: &str,
) -> Result<(), StoreError> {
    diesel::insert_into(r::table)
        .values((
            r::amendment_id.eq(amendment_id),
            r::from_version_id.eq(from_version_id),
            r::to_version_id.eq(to_version_id),
            r::outcome.eq(outcome),
            r::operations.eq(operations),
            r::created_at.eq(now_rfc3339()),
        ))
        .execute(conn)?;
    Ok(())
}

/// Sets the outcome of a rebase if it is now `from`; false otherwise.
pub fn set_outcome(
    conn: &mut DbConnection,
    amendment_id: AmendmentId,
    to_version_id: VersionId,
    from: RebaseOutcome,
    to: RebaseOutcome,
) -> Result<bool, StoreError> {
    Ok(diesel::update(
        r::table
            .find((amendment_id, to_version_id))
            .filter(r::outcome.eq(from)),
    )
    .set(r::outcome.eq(to))
    .execute(conn)?
        == 1)
}

/// The latest rebase of an amendment.
pub fn latest(
    conn: &mut DbConnection,
    amendment_id: AmendmentId,
) -> Result<Option<Rebase>, StoreError> {
    Ok(r::table
        .filter(r::amendment_id.eq(amendment_id))
        .order(r::to_version_id.desc())
        .select(Rebase::as_select())
        .first(conn)
        .optional()?)
}
