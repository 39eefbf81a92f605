//! Consultations: one bill version opened to the public, with its levels and phase.

use crate::domain::ids::{AccountId, BillId, ConsultationId, VersionId};
use crate::domain::time::{Day, Timestamp};
use diesel::prelude::*;

use super::schema::consultations;
use super::{now_rfc3339, DbConnection, StoreError};
use crate::domain::consultation::Phase;

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = consultations)]
pub struct Consultation {
    pub id: ConsultationId,
    pub bill_id: BillId,
    pub version_id: VersionId,
    pub title: String,
    pub description: String,
    pub opens_on: Day,
    pub closes_on: Day,
    pub level_comment: i32,
    pub level_amend: i32,
    pub level_vote: i32,
    pub phase: Phase,
    pub created_by: AccountId,
    pub created_at: Timestamp,
}

pub struct NewConsultation<'a> {
    pub bill_id: BillId,
    pub version_id: VersionId,
    pub title: &'a str,
    pub description: &'a str,
    pub opens_on: &'a str,
    pub closes_on: &'a str,
    pub levels: [i32; 3],
    pub phase: Phase,
    pub created_by: AccountId,
}

pub fn insert(
    conn: &mut DbConnection,
    c: &NewConsultation<'_>,
) -> Result<ConsultationId, StoreError> {
    Ok(diesel::insert_into(consultations::table)
        .values((
            consultations::bill_id.eq(c.bill_id),
            consultations::version_id.eq(c.version_id),
            consultations::title.eq(c.title),
            consultations::description.eq(c.description),
            consultations::opens_on.eq(c.opens_on),
            consultations::closes_on.eq(c.closes_on),
            consultations::level_comment.eq(c.levels[0]),
            consultations::level_amend.eq(c.levels[1]),
            consultations::level_vote.eq(c.levels[2]),
            consultations::phase.eq(c.phase),
            consultations::created_by.eq(c.created_by),
            consultations::created_at.eq(now_rfc3339()),
        ))
        .returning(consultations::id)
        .get_result(conn)?)
}

pub fn by_id(
    conn: &mut DbConnection,
    id: ConsultationId,
) -> Result<Option<Consultation>, StoreError> {
    Ok(consultations::table
        .find(id)
        .select(Consultation::as_select())
        .load(conn)?
        .pop())
}

/// The consultations of a bill, newest first.
pub fn for_bill(conn: &mut DbConnection, bill_id: BillId) -> Result<Vec<Consultation>, StoreError> {
    Ok(consultations::table
        .filter(consultations::bill_id.eq(bill_id))
        .order(consultations::id.desc())
        .select(Consultation::as_select())
        .load(conn)?)
}

/// The public consultations (not drafts) on a version, newest first.
pub fn on_version(
    conn: &mut DbConnection,
    version_id: VersionId,
) -> Result<Vec<Consultation>, StoreError> {
    Ok(consultations::table
        .filter(consultations::version_id.eq(version_id))
        .filter(consultations::phase.ne(Phase::Draft))
        .order(consultations::id.desc())
        .select(Consultation::as_select())
        .load(conn)?)
}

/// Moves a consultation from phase `from` to `to`; false if it was not in `from`.
pub fn set_phase(
    conn: &mut DbConnection,
    id: ConsultationId,
    from: Phase,
    to: Phase,
) -> Result<bool, StoreError> {
    Ok(diesel::update(
        consultations::table
            .find(id)
            .filter(consultations::phase.eq(from)),
    )
    .set(consultations::phase.eq(to))
    .execute(conn)?
        == 1)
}

/// Moves a consultation to another version of its bill (a rebase).
pub fn set_version(
    conn: &mut DbConnection,
    id: ConsultationId,
    version_id: VersionId,
) -> Result<(), StoreError> {
    diesel::update(consultations::table.find(id))
        .set(consultations::version_id.eq(version_id))
        .execute(conn)?;
    Ok(())
}
