//! Staff rulings on amendments: the latest one per amendment (admissible, inadmissible
//! with its public reason, adopted, rejected, fallen with the amendment that made it
//! fall). The amendment's status itself is `amendments.status`.

use crate::domain::ids::{AccountId, AmendmentId};
use crate::domain::time::Timestamp;
use diesel::prelude::*;

use super::schema::amendment_dispositions as d;
use super::{now_rfc3339, DbConnection, StoreError};
use crate::domain::amendment::AmendmentStatus;

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = d)]
pub struct Disposition {
    pub amendment_id: AmendmentId,
    pub status: AmendmentStatus,
    pub reason: String,
    pub fallen_by: Option<AmendmentId>,
    pub decided_by: AccountId,
    pub decided_at: Timestamp,
}

/// Records (or replaces) the ruling on an amendment.
pub fn record(
    conn: &mut DbConnection,
    amendment_id: AmendmentId,
    status: AmendmentStatus,
    reason: &str,
    fallen_by: Option<AmendmentId>,
    decided_by: AccountId,
) -> Result<(), StoreError> {
    diesel::delete(d::table.find(amendment_id)).execute(conn)?;
    diesel::insert_into(d::table)
        .values((
            d::amendment_id.eq(amendment_id),
            d::status.eq(status),
            d::reason.eq(reason),
            d::fallen_by.eq(fallen_by),
            d::decided_by.eq(decided_by),
            d::decided_at.eq(now_rfc3339()),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn for_amendment(
    conn: &mut DbConnection,
    amendment_id: AmendmentId,
) -> Result<Option<Disposition>, StoreError> {
    Ok(d::table
        .find(amendment_id)
        .select(Disposition::as_select())
        .load(conn)?
        .pop())
}
