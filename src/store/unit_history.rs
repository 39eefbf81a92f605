//! Where one unit (by work id) appears across the versions of a bill.

use crate::domain::ids::BillId;
use diesel::prelude::*;

use super::schema::{unit_revisions, version_units, versions};
use super::{DbConnection, StoreError};
use crate::text::UnitKind;

/// One appearance of a unit: the version number, its citation id there and its hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitAt {
    pub number: i32,
    pub kind: UnitKind,
    pub eid: String,
    pub sha256: String,
}

/// Every version of `bill_id` that has unit `wid`, oldest first: the unit's revisions
/// (index `unit_revisions (bill_id, wid)`), then where each is placed (index
/// `version_units (revision_id)`).
pub fn history(
    conn: &mut DbConnection,
    bill_id: BillId,
    wid: &str,
) -> Result<Vec<UnitAt>, StoreError> {
    let rows: Vec<(i32, String, String, String)> = version_units::table
        .inner_join(unit_revisions::table)
        .inner_join(versions::table)
        .filter(unit_revisions::bill_id.eq(bill_id))
        .filter(unit_revisions::wid.eq(wid))
        .order(versions::number.asc())
        .select((
            versions::number,
            unit_revisions::kind,
            unit_revisions::eid,
            unit_revisions::sha256,
        ))
        .load(conn)?;
    rows.into_iter()
        .map(|(number, kind, eid, sha256)| {
            Ok(UnitAt {
                number,
                kind: UnitKind::parse(&kind).ok_or_else(|| {
                    StoreError::Invalid(format!(
                        "unit {wid} of version {number}: unknown kind {kind}"
                    ))
                })?,
                eid,
                sha256,
            })
        })
        .collect()
}
