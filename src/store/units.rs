//! Units of a version (divisions, articles, paragraphs), stored in document order so that
//! a `Vec<Unit>` reads back exactly as it was written.

use crate::domain::ids::VersionId;
use diesel::prelude::*;

use super::schema::units;
use super::{DbConnection, StoreError};
use crate::text::{Unit, UnitKind};

/// Number of columns of `units`, i.e. bind parameters per inserted row.
pub const COLUMNS: usize = 12;

/// Rows per INSERT statement on SQLite, under its limit of 32766 bind parameters (the
/// bundled build's default). Smaller chunks (500–1000) measured the same.
const SQLITE_ROWS_PER_STATEMENT: usize = 32766 / COLUMNS;

#[derive(Insertable)]
#[diesel(table_name = units, treat_none_as_default_value = false)]
struct UnitRow<'a> {
    version_id: VersionId,
    ord: i32,
    kind: &'static str,
    wid: &'a str,
    eid: &'a str,
    num: Option<&'a str>,
    heading: Option<&'a str>,
    depth: i32,
    parent: Option<i32>,
    start_byte: i64,
    end_byte: i64,
    sha256: &'a str,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = units)]
struct StoredUnit {
    ord: i32,
    kind: String,
    wid: String,
    eid: String,
    num: Option<String>,
    heading: Option<String>,
    depth: i32,
    parent: Option<i32>,
    start_byte: i64,
    end_byte: i64,
    sha256: String,
}

fn too_big(what: &str, value: usize) -> StoreError {
    StoreError::Invalid(format!("{what} {value} does not fit the database column"))
}

/// Stores the units of a version (which must have none yet): multi-row INSERTs on
/// SQLite, one COPY on PostgreSQL. Call it inside a transaction so that a version's
/// units stand or fall together (on SQLite, without one, each chunk commits alone).
pub fn insert_many(
    conn: &mut DbConnection,
    version_id: VersionId,
    units: &[Unit],
) -> Result<(), StoreError> {
    let rows = units
        .iter()
        .enumerate()
        .map(|(ord, u)| {
            Ok(UnitRow {
                version_id,
                ord: i32::try_from(ord).map_err(|_| too_big("unit index", ord))?,
                kind: u.kind.as_str(),
                wid: &u.wid,
                eid: &u.eid,
                num: u.num.as_deref(),
                heading: u.heading.as_deref(),
                depth: i32::from(u.depth),
                parent: u
                    .parent
                    .map(|p| i32::try_from(p).map_err(|_| too_big("parent index", p)))
                    .transpose()?,
                start_byte: i64::try_from(u.start).map_err(|_| too_big("offset", u.start))?,
                end_byte: i64::try_from(u.end).map_err(|_| too_big("offset", u.end))?,
                sha256: &u.sha256,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    match conn {
        // Multi-row INSERT is not available through `MultiConnection` on SQLite (diesel
        // implements it there by specialising on `SqliteConnection`), hence the branch.
        DbConnection::Sqlite(c) => {
            for chunk in rows.chunks(SQLITE_ROWS_PER_STATEMENT) {
                diesel::insert_into(units::table).values(chunk).execute(c)?;
            }
        }
        // COPY … FROM STDIN (binary): no bind-parameter limit (65535), and twice the rate
        // of multi-row INSERTs here, mostly less work for the server.
        DbConnection::Pg(c) => {
            diesel::copy_from(units::table)
                .from_insertable(&rows)
                .execute(c)?;
        }
    }
    Ok(())
}

/// Versions added by one import from which, on PostgreSQL, the `units_wid` index is
/// dropped during the import and built again at its end (see `suspend_wid_index`).
pub const BULK_VERSIONS: usize = 50;

/// Drops the index `units (wid, version_id)` for a bulk import, inside its transaction,
/// on PostgreSQL (returns whether it did): each version's units land all over that index,
/// and building it once at the end is faster (the CPI's 198 versions: 14.4 s to 11.5 s,
/// docs/performance.md). DDL is transactional there, so a failed import gets the index
/// back with its rollback; but the table is locked until the commit, so pages reading
/// texts wait for the import. On SQLite the gain was not measured: nothing is done.
pub fn suspend_wid_index(conn: &mut DbConnection) -> Result<bool, StoreError> {
    use diesel::connection::SimpleConnection;
    match conn {
        DbConnection::Pg(c) => {
            c.batch_execute("DROP INDEX IF EXISTS units_wid")?;
            Ok(true)
        }
        DbConnection::Sqlite(_) => Ok(false),
    }
}

/// Builds again the index that `suspend_wid_index` dropped: the same definition as the
/// first migration's.
pub fn restore_wid_index(conn: &mut DbConnection) -> Result<(), StoreError> {
    use diesel::connection::SimpleConnection;
    if let DbConnection::Pg(c) = conn {
        c.batch_execute("CREATE INDEX IF NOT EXISTS units_wid ON units (wid, version_id)")?;
    }
    Ok(())
}

/// The units of a version in document order (empty if it has none).
pub fn for_version(
    conn: &mut DbConnection,
    version_id: VersionId,
) -> Result<Vec<Unit>, StoreError> {
    let stored: Vec<StoredUnit> = units::table
        .filter(units::version_id.eq(version_id))
        .order(units::ord.asc())
        .select(StoredUnit::as_select())
        .load(conn)?;
    let bad = |ord: i32, what: &str| {
        StoreError::Invalid(format!("unit {ord} of version {version_id}: {what}"))
    };
    stored
        .into_iter()
        .enumerate()
        .map(|(i, s)| {
            // `parent` refers to positions in the vector, so ords must be 0, 1, 2…
            if usize::try_from(s.ord).ok() != Some(i) {
                return Err(bad(s.ord, "units are not numbered 0, 1, 2…"));
            }
            Ok(Unit {
                kind: UnitKind::parse(&s.kind).ok_or_else(|| bad(s.ord, "unknown kind"))?,
                wid: s.wid,
                eid: s.eid,
                num: s.num,
                heading: s.heading,
                depth: u8::try_from(s.depth).map_err(|_| bad(s.ord, "depth out of range"))?,
                parent: s
                    .parent
                    .map(usize::try_from)
                    .transpose()
                    .map_err(|_| bad(s.ord, "negative parent"))?,
                start: usize::try_from(s.start_byte).map_err(|_| bad(s.ord, "bad start"))?,
                end: usize::try_from(s.end_byte).map_err(|_| bad(s.ord, "bad end"))?,
                sha256: s.sha256,
            })
        })
        .collect()
}
