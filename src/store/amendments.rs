//! Amendments and their revisions (every revision is kept).

use crate::domain::ids::{AccountId, AmendmentId, BillId, ConsultationId, VersionId};
use crate::domain::time::Timestamp;
use diesel::prelude::*;

use super::schema::{amendment_revisions, amendments};
use super::{now_rfc3339, DbConnection, StoreError};
use crate::domain::amendment::AmendmentStatus;
use crate::domain::identity::Disclosure;

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = amendments)]
pub struct Amendment {
    pub id: AmendmentId,
    pub bill_id: BillId,
    pub number: i32,
    pub consultation_id: ConsultationId,
    pub version_id: VersionId,
    pub article_wid: String,
    pub author_id: AccountId,
    pub disclosure: Disclosure,
    pub author_label: String,
    pub author_level: i32,
    pub status: AmendmentStatus,
    pub revision: i32,
    pub form_token: String,
    pub filed_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = amendment_revisions)]
pub struct Revision {
    pub amendment_id: AmendmentId,
    pub revision: i32,
    pub operations: String,
    pub justification: String,
    pub created_at: Timestamp,
}

pub struct NewAmendment<'a> {
    pub bill_id: BillId,
    pub consultation_id: ConsultationId,
    pub version_id: VersionId,
    pub article_wid: &'a str,
    pub author_id: AccountId,
    pub disclosure: Disclosure,
    pub author_label: &'a str,
    pub author_level: i32,
    pub form_token: &'a str,
    pub operations: &'a str,
    pub justification: &'a str,
}

/// Files an amendment with the next number of its bill and its first revision. Call it
/// in a transaction: the number is `max + 1`, and the unique `(bill, number)` index
/// refuses a concurrent duplicate rather than reusing a number.
pub fn insert(conn: &mut DbConnection, a: &NewAmendment<'_>) -> Result<Amendment, StoreError> {
    let max: Option<i32> = amendments::table
        .filter(amendments::bill_id.eq(a.bill_id))
        .select(diesel::dsl::max(amendments::number))
        .get_result(conn)?;
    let now = now_rfc3339();
    let id: AmendmentId = diesel::insert_into(amendments::table)
        .values((
            amendments::bill_id.eq(a.bill_id),
            amendments::number.eq(max.unwrap_or(0) + 1),
            amendments::consultation_id.eq(a.consultation_id),
            amendments::version_id.eq(a.version_id),
            amendments::article_wid.eq(a.article_wid),
            amendments::author_id.eq(a.author_id),
            amendments::disclosure.eq(a.disclosure),
            amendments::author_label.eq(a.author_label),
            amendments::author_level.eq(a.author_level),
            amendments::status.eq(AmendmentStatus::Filed),
            amendments::revision.eq(1),
            amendments::form_token.eq(a.form_token),
            amendments::filed_at.eq(&now),
        ))
        .returning(amendments::id)
        .get_result(conn)?;
    diesel::insert_into(amendment_revisions::table)
        .values((
            amendment_revisions::amendment_id.eq(id),
            amendment_revisions::revision.eq(1),
            amendment_revisions::operations.eq(a.operations),
            amendment_revisions::justification.eq(a.justification),
            amendment_revisions::created_at.eq(&now),
        ))
        .execute(conn)?;
    by_id(conn, id)?.ok_or_else(|| StoreError::Invalid("the amendment vanished".into()))
}

pub fn by_id(conn: &mut DbConnection, id: AmendmentId) -> Result<Option<Amendment>, StoreError> {
    Ok(amendments::table
        .find(id)
        .select(Amendment::as_select())
        .load(conn)?
        .pop())
}

pub fn by_number(
    conn: &mut DbConnection,
    bill_id: BillId,
    number: i32,
) -> Result<Option<Amendment>, StoreError> {
    Ok(amendments::table
        .filter(amendments::bill_id.eq(bill_id))
        .filter(amendments::number.eq(number))
        .select(Amendment::as_select())
        .load(conn)?
        .pop())
}

/// The amendment a form already filed (a second submit of the same form).
pub fn by_form(
    conn: &mut DbConnection,
    author_id: AccountId,
    form_token: &str,
) -> Result<Option<Amendment>, StoreError> {
    Ok(amendments::table
        .filter(amendments::author_id.eq(author_id))
        .filter(amendments::form_token.eq(form_token))
        .select(Amendment::as_select())
        .load(conn)?
        .pop())
}

/// A page of a consultation's amendments, by number, optionally on one article.
pub fn for_consultation(
    conn: &mut DbConnection,
    consultation_id: ConsultationId,
    article_wid: Option<&str>,
    offset: i64,
    limit: i64,
) -> Result<Vec<Amendment>, StoreError> {
    let mut q = amendments::table
        .filter(amendments::consultation_id.eq(consultation_id))
        .into_boxed();
    if let Some(w) = article_wid {
        q = q.filter(amendments::article_wid.eq(w.to_string()));
    }
    Ok(q.order(amendments::number.asc())
        .offset(offset)
        .limit(limit)
        .select(Amendment::as_select())
        .load(conn)?)
}

/// Amendments per article of a consultation.
pub fn counts_by_article(
    conn: &mut DbConnection,
    consultation_id: ConsultationId,
) -> Result<Vec<(String, i64)>, StoreError> {
    Ok(amendments::table
        .filter(amendments::consultation_id.eq(consultation_id))
        .group_by(amendments::article_wid)
        .select((amendments::article_wid, diesel::dsl::count_star()))
        .load(conn)?)
}

/// The current revision of an amendment.
pub fn revision(
    conn: &mut DbConnection,
    amendment_id: AmendmentId,
    revision: i32,
) -> Result<Option<Revision>, StoreError> {
    Ok(amendment_revisions::table
        .find((amendment_id, revision))
        .select(Revision::as_select())
        .load(conn)?
        .pop())
}

/// Sets an amendment's status if it is now one of `from`; false otherwise.
pub fn set_status(
    conn: &mut DbConnection,
    id: AmendmentId,
    from: &[AmendmentStatus],
    to: AmendmentStatus,
) -> Result<bool, StoreError> {
    Ok(diesel::update(
        amendments::table
            .find(id)
            .filter(amendments::status.eq_any(from.to_vec())),
    )
    .set(amendments::status.eq(to))
    .execute(conn)?
        == 1)
}

/// Adds a revision to an amendment, anchored on `version_id` (a rebase onto a new
/// version, or a correction), and makes it current.
pub fn add_revision(
    conn: &mut DbConnection,
    id: AmendmentId,
    version_id: VersionId,
    operations: &str,
    justification: &str,
) -> Result<i32, StoreError> {
    let current: i32 = amendments::table
        .find(id)
        .select(amendments::revision)
        .get_result(conn)?;
    let next = current + 1;
    diesel::insert_into(amendment_revisions::table)
        .values((
            amendment_revisions::amendment_id.eq(id),
            amendment_revisions::revision.eq(next),
            amendment_revisions::operations.eq(operations),
            amendment_revisions::justification.eq(justification),
            amendment_revisions::created_at.eq(now_rfc3339()),
        ))
        .execute(conn)?;
    diesel::update(amendments::table.find(id))
        .set((
            amendments::revision.eq(next),
            amendments::version_id.eq(version_id),
        ))
        .execute(conn)?;
    Ok(next)
}

/// What a list of a consultation's amendments may be narrowed to (each `None` is "any").
#[derive(Debug, Clone, Copy, Default)]
pub struct ListFilter<'a> {
    pub article_wid: Option<&'a str>,
    pub status: Option<AmendmentStatus>,
    pub disclosure: Option<Disclosure>,
}

/// A page of a consultation's amendments matching `filter`, by number. The filters are
/// SQL conditions on indexed columns (`consultation_id` with `article_wid`, `status` or
/// `disclosure`, then `number`): nothing is loaded to be thrown away.
pub fn filtered(
    conn: &mut DbConnection,
    consultation_id: ConsultationId,
    filter: &ListFilter<'_>,
    offset: i64,
    limit: i64,
) -> Result<Vec<Amendment>, StoreError> {
    let mut q = amendments::table
        .filter(amendments::consultation_id.eq(consultation_id))
        .into_boxed();
    if let Some(w) = filter.article_wid {
        q = q.filter(amendments::article_wid.eq(w.to_string()));
    }
    if let Some(s) = filter.status {
        q = q.filter(amendments::status.eq(s));
    }
    if let Some(d) = filter.disclosure {
        q = q.filter(amendments::disclosure.eq(d));
    }
    Ok(q.order(amendments::number.asc())
        .offset(offset)
        .limit(limit)
        .select(Amendment::as_select())
        .load(conn)?)
}

/// How many of a consultation's amendments match `filter`.
pub fn count_filtered(
    conn: &mut DbConnection,
    consultation_id: ConsultationId,
    filter: &ListFilter<'_>,
) -> Result<i64, StoreError> {
    let mut q = amendments::table
        .filter(amendments::consultation_id.eq(consultation_id))
        .into_boxed();
    if let Some(w) = filter.article_wid {
        q = q.filter(amendments::article_wid.eq(w.to_string()));
    }
    if let Some(s) = filter.status {
        q = q.filter(amendments::status.eq(s));
    }
    if let Some(d) = filter.disclosure {
        q = q.filter(amendments::disclosure.eq(d));
    }
    Ok(q.select(diesel::dsl::count_star()).get_result(conn)?)
}

/// The amendments of a consultation on one unit (`article_wid`), anchored on one
/// version, with one of `statuses`, by number.
pub fn on_unit(
    conn: &mut DbConnection,
    consultation_id: ConsultationId,
    version_id: VersionId,
    article_wid: &str,
    statuses: &[AmendmentStatus],
) -> Result<Vec<Amendment>, StoreError> {
    Ok(amendments::table
        .filter(amendments::consultation_id.eq(consultation_id))
        .filter(amendments::article_wid.eq(article_wid))
        .filter(amendments::version_id.eq(version_id))
        .filter(amendments::status.eq_any(statuses.to_vec()))
        .order(amendments::number.asc())
        .select(Amendment::as_select())
        .load(conn)?)
}

/// Every revision of an amendment, first to last.
pub fn revisions(
    conn: &mut DbConnection,
    amendment_id: AmendmentId,
) -> Result<Vec<Revision>, StoreError> {
    Ok(amendment_revisions::table
        .filter(amendment_revisions::amendment_id.eq(amendment_id))
        .order(amendment_revisions::revision.asc())
        .select(Revision::as_select())
        .load(conn)?)
}

/// Adds revision `base + 1` if the amendment's current revision is still `base` (the
/// check and the bump are one conditional UPDATE, so two submits of one form write one
/// revision on either backend); `None` when it is not.
pub fn add_revision_after(
    conn: &mut DbConnection,
    id: AmendmentId,
    base: i32,
    version_id: VersionId,
    operations: &str,
    justification: &str,
) -> Result<Option<i32>, StoreError> {
    let next = base + 1;
    let bumped = diesel::update(
        amendments::table
            .find(id)
            .filter(amendments::revision.eq(base)),
    )
    .set((
        amendments::revision.eq(next),
        amendments::version_id.eq(version_id),
    ))
    .execute(conn)?;
    if bumped != 1 {
        return Ok(None);
    }
    diesel::insert_into(amendment_revisions::table)
        .values((
            amendment_revisions::amendment_id.eq(id),
            amendment_revisions::revision.eq(next),
            amendment_revisions::operations.eq(operations),
            amendment_revisions::justification.eq(justification),
            amendment_revisions::created_at.eq(now_rfc3339()),
        ))
        .execute(conn)?;
    Ok(Some(next))
}

/// The latest amendments filed, newest first, on one bill or on all.
pub fn latest(
    conn: &mut DbConnection,
    bill_id: Option<BillId>,
    limit: i64,
) -> Result<Vec<Amendment>, StoreError> {
    let mut q = amendments::table.into_boxed();
    if let Some(b) = bill_id {
        q = q.filter(amendments::bill_id.eq(b));
    }
    Ok(q.order(amendments::id.desc())
        .limit(limit)
        .select(Amendment::as_select())
        .load(conn)?)
}
