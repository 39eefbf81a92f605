//! Versions of a bill: immutable markdown with its hash, number and provenance.

use crate::domain::ids::{BillId, VersionId};
use crate::domain::time::Timestamp;
use diesel::prelude::*;

use super::schema::versions;
use super::{DbConnection, StoreError};

/// A version without its markdown, for listings and lookups.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionMeta {
    pub id: VersionId,
    pub bill_id: BillId,
    /// 1-based, unique per bill.
    pub number: i32,
    pub parent_number: Option<i32>,
    /// Lowercase hex SHA-256 of the markdown.
    pub sha256: String,
    /// ISO 8601 date or date-time.
    pub date: String,
    pub author: String,
    pub note: String,
    /// Where it was imported from (e.g. a git commit id); unique per bill when set.
    pub source_ref: Option<String>,
    /// Parser warnings.
    pub warnings: Vec<String>,
    /// RFC 3339.
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version {
    pub meta: VersionMeta,
    pub markdown: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewVersion {
    pub bill_id: BillId,
    pub number: i32,
    pub parent_number: Option<i32>,
    pub sha256: String,
    pub markdown: String,
    pub date: String,
    pub author: String,
    pub note: String,
    pub source_ref: Option<String>,
    pub warnings: Vec<String>,
}

// `treat_none_as_default_value = false`: a `None` is written as NULL rather than as the
// DEFAULT keyword, which also keeps multi-row inserts possible on SQLite.
#[derive(Insertable)]
#[diesel(table_name = versions, treat_none_as_default_value = false)]
struct VersionRow<'a> {
    bill_id: BillId,
    number: i32,
    parent_number: Option<i32>,
    sha256: &'a str,
    markdown: &'a str,
    date: &'a str,
    author: &'a str,
    note: &'a str,
    source_ref: Option<&'a str>,
    warnings: String,
    created_at: Timestamp,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = versions)]
struct MetaRow {
    id: VersionId,
    bill_id: BillId,
    number: i32,
    parent_number: Option<i32>,
    sha256: String,
    date: String,
    author: String,
    note: String,
    source_ref: Option<String>,
    warnings: String,
    created_at: Timestamp,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = versions)]
struct FullRow {
    #[diesel(embed)]
    meta: MetaRow,
    markdown: String,
}

impl TryFrom<MetaRow> for VersionMeta {
    type Error = StoreError;

    fn try_from(r: MetaRow) -> Result<VersionMeta, StoreError> {
        let warnings = serde_json::from_str(&r.warnings)
            .map_err(|e| StoreError::Invalid(format!("warnings of version {}: {e}", r.id)))?;
        Ok(VersionMeta {
            id: r.id,
            bill_id: r.bill_id,
            number: r.number,
            parent_number: r.parent_number,
            sha256: r.sha256,
            date: r.date,
            author: r.author,
            note: r.note,
            source_ref: r.source_ref,
            warnings,
            created_at: r.created_at,
        })
    }
}

impl TryFrom<FullRow> for Version {
    type Error = StoreError;

    fn try_from(r: FullRow) -> Result<Version, StoreError> {
        Ok(Version {
            meta: r.meta.try_into()?,
            markdown: r.markdown,
        })
    }
}

/// Inserts a version and returns its id. Fails with a unique violation if the bill
/// already has this number or this `source_ref`.
pub fn insert(conn: &mut DbConnection, new: &NewVersion) -> Result<VersionId, StoreError> {
    let warnings = serde_json::to_string(&new.warnings)
        .map_err(|e| StoreError::Invalid(format!("warnings: {e}")))?;
    let row = VersionRow {
        bill_id: new.bill_id,
        number: new.number,
        parent_number: new.parent_number,
        sha256: &new.sha256,
        markdown: &new.markdown,
        date: &new.date,
        author: &new.author,
        note: &new.note,
        source_ref: new.source_ref.as_deref(),
        warnings,
        created_at: super::now(),
    };
    Ok(diesel::insert_into(versions::table)
        .values(&row)
        .returning(versions::id)
        .get_result(conn)?)
}

/// Versions of a bill in number order, without markdown.
pub fn list_meta(conn: &mut DbConnection, bill_id: BillId) -> Result<Vec<VersionMeta>, StoreError> {
    versions::table
        .filter(versions::bill_id.eq(bill_id))
        .order(versions::number.asc())
        .select(MetaRow::as_select())
        .load(conn)?
        .into_iter()
        .map(VersionMeta::try_from)
        .collect()
}

pub fn by_id(conn: &mut DbConnection, id: VersionId) -> Result<Option<Version>, StoreError> {
    versions::table
        .find(id)
        .select(FullRow::as_select())
        .first(conn)
        .optional()?
        .map(Version::try_from)
        .transpose()
}

/// Version `number` of a bill, with its markdown.
pub fn by_number(
    conn: &mut DbConnection,
    bill_id: BillId,
    number: i32,
) -> Result<Option<Version>, StoreError> {
    versions::table
        .filter(versions::bill_id.eq(bill_id))
        .filter(versions::number.eq(number))
        .select(FullRow::as_select())
        .first(conn)
        .optional()?
        .map(Version::try_from)
        .transpose()
}

/// The highest-numbered version of a bill, with its markdown.
pub fn latest(conn: &mut DbConnection, bill_id: BillId) -> Result<Option<Version>, StoreError> {
    versions::table
        .filter(versions::bill_id.eq(bill_id))
        .order(versions::number.desc())
        .select(FullRow::as_select())
        .first(conn)
        .optional()?
        .map(Version::try_from)
        .transpose()
}

/// The lowest-numbered version of a bill whose markdown has this SHA-256.
pub fn find_by_sha(
    conn: &mut DbConnection,
    bill_id: BillId,
    sha256: &str,
) -> Result<Option<VersionMeta>, StoreError> {
    versions::table
        .filter(versions::bill_id.eq(bill_id))
        .filter(versions::sha256.eq(sha256))
        .order(versions::number.asc())
        .select(MetaRow::as_select())
        .first(conn)
        .optional()?
        .map(VersionMeta::try_from)
        .transpose()
}

/// The version of a bill imported from `source_ref` (e.g. a git commit id).
pub fn find_by_source_ref(
    conn: &mut DbConnection,
    bill_id: BillId,
    source_ref: &str,
) -> Result<Option<VersionMeta>, StoreError> {
    versions::table
        .filter(versions::bill_id.eq(bill_id))
        .filter(versions::source_ref.eq(source_ref))
        .select(MetaRow::as_select())
        .first(conn)
        .optional()?
        .map(VersionMeta::try_from)
        .transpose()
}

/// Highest version number of a bill; `None` when it has no version yet.
pub fn max_number(conn: &mut DbConnection, bill_id: BillId) -> Result<Option<i32>, StoreError> {
    Ok(versions::table
        .filter(versions::bill_id.eq(bill_id))
        .select(diesel::dsl::max(versions::number))
        .get_result(conn)?)
}
