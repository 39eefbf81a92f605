//! Bills: slug, title and metadata, plus the counter that mints work ids.

use crate::domain::ids::BillId;
use crate::domain::time::Timestamp;
use std::collections::HashMap;

use diesel::prelude::*;

use super::schema::{bills, versions};
use super::{now_rfc3339, DbConnection, StoreError};

/// The editable description of a bill.
#[derive(Debug, Clone, Default, PartialEq, Eq, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = bills)]
pub struct BillMeta {
    pub title: String,
    /// BCP 47 tag of the text, e.g. `fr`.
    pub language: String,
    pub jurisdiction: String,
    /// Where the text comes from (URL or reference).
    pub source: String,
    pub licence: String,
    pub summary: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = bills)]
pub struct Bill {
    pub id: BillId,
    pub slug: String,
    #[diesel(embed)]
    pub meta: BillMeta,
    /// Next number to use when minting a work id in this bill.
    pub next_wid: i64,
    /// RFC 3339.
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq, Insertable)]
#[diesel(table_name = bills)]
pub struct NewBill {
    pub slug: String,
    #[diesel(embed)]
    pub meta: BillMeta,
    pub next_wid: i64,
}

/// A bill with what a listing shows about its versions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BillSummary {
    pub bill: Bill,
    pub version_count: i64,
    /// Date of the highest-numbered version, if any.
    pub latest_date: Option<String>,
}

/// Inserts a bill and returns it (with its id and creation time).
pub fn insert(conn: &mut DbConnection, new: &NewBill) -> Result<Bill, StoreError> {
    Ok(diesel::insert_into(bills::table)
        .values((new, bills::created_at.eq(now_rfc3339())))
        // `Bill::as_returning()` does not compile for MultiConnection: spell out the
        // columns in the struct's (nested) field order.
        .returning((
            bills::id,
            bills::slug,
            (
                bills::title,
                bills::language,
                bills::jurisdiction,
                bills::source,
                bills::licence,
                bills::summary,
            ),
            bills::next_wid,
            bills::created_at,
        ))
        .get_result(conn)?)
}

pub fn by_slug(conn: &mut DbConnection, slug: &str) -> Result<Option<Bill>, StoreError> {
    Ok(bills::table
        .filter(bills::slug.eq(slug))
        .select(Bill::as_select())
        // Not `first`: its bound LIMIT makes SQLite re-prepare the cached statement on
        // every call, and the slug is unique anyway.
        .get_result(conn)
        .optional()?)
}

pub fn by_id(conn: &mut DbConnection, id: BillId) -> Result<Option<Bill>, StoreError> {
    Ok(bills::table
        .find(id)
        .select(Bill::as_select())
        .first(conn)
        .optional()?)
}

/// All bills by slug, each with its number of versions and latest version date.
pub fn list(conn: &mut DbConnection) -> Result<Vec<BillSummary>, StoreError> {
    let bills: Vec<Bill> = bills::table
        .order(bills::slug.asc())
        .select(Bill::as_select())
        .load(conn)?;
    let counts: HashMap<BillId, i64> = versions::table
        .group_by(versions::bill_id)
        .select((versions::bill_id, diesel::dsl::count(versions::id)))
        .load::<(BillId, i64)>(conn)?
        .into_iter()
        .collect();
    // The latest version of each bill is the one with no higher number in the same
    // bill (an anti-join, served by the unique (bill_id, number) index).
    let later = diesel::alias!(versions as later);
    let latest: HashMap<BillId, String> = versions::table
        .left_join(
            later.on(later
                .field(versions::bill_id)
                .eq(versions::bill_id)
                .and(later.field(versions::number).gt(versions::number))),
        )
        .filter(later.field(versions::id).is_null())
        .select((versions::bill_id, versions::date))
        .load::<(BillId, String)>(conn)?
        .into_iter()
        .collect();
    Ok(bills
        .into_iter()
        .map(|bill| BillSummary {
            version_count: counts.get(&bill.id).copied().unwrap_or(0),
            latest_date: latest.get(&bill.id).cloned(),
            bill,
        })
        .collect())
}

/// Stores the next work id number to mint; false if there is no such bill.
pub fn set_next_wid(
    conn: &mut DbConnection,
    bill_id: BillId,
    next_wid: i64,
) -> Result<bool, StoreError> {
    let n = diesel::update(bills::table.find(bill_id))
        .set(bills::next_wid.eq(next_wid))
        .execute(conn)?;
    Ok(n == 1)
}

/// Replaces title and metadata (not the slug); false if there is no such bill.
pub fn update_meta(
    conn: &mut DbConnection,
    bill_id: BillId,
    meta: &BillMeta,
) -> Result<bool, StoreError> {
    let n = diesel::update(bills::table.find(bill_id))
        .set(meta)
        .execute(conn)?;
    Ok(n == 1)
}
