//! Consolidated versions (one per consultation) and the provenance of their changed
//! spans: which amendment, at which revision, wrote bytes `start..end` of the version.

use crate::domain::ids::{AccountId, AmendmentId, ConsultationId, VersionId};
use crate::domain::time::Timestamp;
use diesel::prelude::*;

use super::schema::{consolidations, provenance};
use super::{now_rfc3339, DbConnection, StoreError};

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = consolidations)]
pub struct Consolidation {
    pub version_id: VersionId,
    pub consultation_id: ConsultationId,
    pub created_by: AccountId,
    pub created_at: Timestamp,
}

#[derive(Insertable)]
#[diesel(table_name = provenance)]
struct ProvenanceRow<'a> {
    version_id: VersionId,
    unit_wid: &'a str,
    start_byte: i64,
    end_byte: i64,
    amendment_id: AmendmentId,
    revision: i32,
}

/// One span of a consolidated version and the amendment revision that wrote it.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = provenance)]
pub struct Provenance {
    pub unit_wid: String,
    pub start_byte: i64,
    pub end_byte: i64,
    pub amendment_id: AmendmentId,
    pub revision: i32,
}

pub fn insert(
    conn: &mut DbConnection,
    version_id: VersionId,
    consultation_id: ConsultationId,
    created_by: AccountId,
    spans: &[Provenance],
) -> Result<(), StoreError> {
    diesel::insert_into(consolidations::table)
        .values((
            consolidations::version_id.eq(version_id),
            consolidations::consultation_id.eq(consultation_id),
            consolidations::created_by.eq(created_by),
            consolidations::created_at.eq(now_rfc3339()),
        ))
        .execute(conn)?;
    let rows: Vec<ProvenanceRow<'_>> = spans
        .iter()
        .map(|p| ProvenanceRow {
            version_id,
            unit_wid: &p.unit_wid,
            start_byte: p.start_byte,
            end_byte: p.end_byte,
            amendment_id: p.amendment_id,
            revision: p.revision,
        })
        .collect();
    // Multi-row INSERT is not available through `MultiConnection` (see units.rs): one
    // statement per chunk on each backend, within the bound-parameter limits.
    match conn {
        DbConnection::Sqlite(c) => {
            for chunk in rows.chunks(1000) {
                diesel::insert_into(provenance::table)
                    .values(chunk)
                    .execute(c)?;
            }
        }
        DbConnection::Pg(c) => {
            for chunk in rows.chunks(5000) {
                diesel::insert_into(provenance::table)
                    .values(chunk)
                    .execute(c)?;
            }
        }
    }
    Ok(())
}

pub fn for_version(
    conn: &mut DbConnection,
    version_id: VersionId,
) -> Result<Option<Consolidation>, StoreError> {
    Ok(consolidations::table
        .find(version_id)
        .select(Consolidation::as_select())
        .load(conn)?
        .pop())
}

pub fn for_consultation(
    conn: &mut DbConnection,
    consultation_id: ConsultationId,
) -> Result<Option<Consolidation>, StoreError> {
    Ok(consolidations::table
        .filter(consolidations::consultation_id.eq(consultation_id))
        .select(Consolidation::as_select())
        .load(conn)?
        .pop())
}

/// The spans of a version, in text order.
pub fn spans(
    conn: &mut DbConnection,
    version_id: VersionId,
) -> Result<Vec<Provenance>, StoreError> {
    Ok(provenance::table
        .filter(provenance::version_id.eq(version_id))
        .order((provenance::start_byte.asc(), provenance::id.asc()))
        .select(Provenance::as_select())
        .load(conn)?)
}
