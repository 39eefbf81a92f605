//! Units of a version (divisions, articles, paragraphs), stored by reference: each
//! distinct unit of a bill is one `unit_revisions` row, and a version places revisions
//! (`version_units`: document order, enclosing unit, where the text starts), so that a
//! unit unchanged since the previous version costs one small row, not a copy. A
//! `Vec<Unit>` reads back exactly as it was written.

use std::collections::HashMap;

use crate::domain::ids::{BillId, VersionId};
use diesel::prelude::*;

use super::schema::{unit_revisions, version_units, versions};
use super::{DbConnection, StoreError};
use crate::text::{Unit, UnitKind};

/// Number of columns of `version_units`, i.e. bind parameters per inserted placement.
pub const PLACEMENT_COLUMNS: usize = 5;

/// Number of columns of `unit_revisions`.
pub const REVISION_COLUMNS: usize = 10;

/// SQLite's limit of bind parameters per statement (the bundled build's default).
/// Smaller chunks (500–1000 rows) measured the same.
const SQLITE_PARAMETERS: usize = 32766;

/// A revision's id: internal to this module (nothing outside the store refers to one).
type RevisionId = i64;

#[derive(Insertable)]
#[diesel(table_name = unit_revisions, treat_none_as_default_value = false)]
struct RevisionRow<'a> {
    id: RevisionId,
    bill_id: BillId,
    kind: &'static str,
    wid: &'a str,
    eid: &'a str,
    num: Option<&'a str>,
    heading: Option<&'a str>,
    depth: i32,
    length: i64,
    sha256: &'a str,
}

#[derive(Insertable)]
#[diesel(table_name = version_units, treat_none_as_default_value = false)]
struct PlacementRow {
    version_id: VersionId,
    ord: i32,
    revision_id: RevisionId,
    parent: Option<i32>,
    start_byte: i64,
}

/// A revision as read back, with its id.
#[derive(Queryable, Selectable)]
#[diesel(table_name = unit_revisions)]
struct StoredRevision {
    id: RevisionId,
    kind: String,
    wid: String,
    eid: String,
    num: Option<String>,
    heading: Option<String>,
    depth: i32,
    length: i64,
    sha256: String,
}

impl StoredRevision {
    /// Whether `u` is this revision: everything but its place in a version.
    fn is(&self, u: &Unit) -> bool {
        self.kind == u.kind.as_str()
            && self.wid == u.wid
            && self.sha256 == u.sha256
            && self.eid == u.eid
            && self.num.as_deref() == u.num.as_deref()
            && self.heading.as_deref() == u.heading.as_deref()
            && self.depth == i32::from(u.depth)
            && usize::try_from(self.length) == Ok(u.end - u.start)
    }
}

fn too_big(what: &str, value: usize) -> StoreError {
    StoreError::Invalid(format!("{what} {value} does not fit the database column"))
}

fn to_i32(what: &str, value: usize) -> Result<i32, StoreError> {
    i32::try_from(value).map_err(|_| too_big(what, value))
}

fn to_i64(what: &str, value: usize) -> Result<i64, StoreError> {
    i64::try_from(value).map_err(|_| too_big(what, value))
}

/// The version of `bill_id` just before number `number` (none for a first version): the
/// one a new version's units are compared with.
fn previous_version(
    conn: &mut DbConnection,
    bill_id: BillId,
    number: i32,
) -> Result<Option<VersionId>, StoreError> {
    Ok(versions::table
        .filter(versions::bill_id.eq(bill_id))
        .filter(versions::number.lt(number))
        .order(versions::number.desc())
        .select(versions::id)
        .first(conn)
        .optional()?)
}

/// The revisions placed in a version, by work id.
fn revisions_of(
    conn: &mut DbConnection,
    version_id: VersionId,
) -> Result<HashMap<String, StoredRevision>, StoreError> {
    let stored: Vec<StoredRevision> = version_units::table
        .inner_join(unit_revisions::table)
        .filter(version_units::version_id.eq(version_id))
        .select(StoredRevision::as_select())
        .load(conn)?;
    Ok(stored.into_iter().map(|r| (r.wid.clone(), r)).collect())
}

/// `n` fresh revision ids. On SQLite the write lock is held from the transaction's start
/// (`BEGIN IMMEDIATE`, see `Store::transaction`), so the ids above the largest are free;
/// on PostgreSQL, where another transaction may be adding revisions at the same time,
/// they come from the column's sequence.
fn fresh_ids(conn: &mut DbConnection, n: usize) -> Result<Vec<RevisionId>, StoreError> {
    if n == 0 {
        return Ok(Vec::new());
    }
    match conn {
        DbConnection::Sqlite(c) => {
            let max: Option<RevisionId> = unit_revisions::table
                .select(diesel::dsl::max(unit_revisions::id))
                .first(c)?;
            let first = max.unwrap_or(0) + 1;
            Ok((first..first + to_i64("revision count", n)?).collect())
        }
        DbConnection::Pg(c) => {
            #[derive(QueryableByName)]
            struct Id {
                #[diesel(sql_type = diesel::sql_types::BigInt)]
                id: RevisionId,
            }
            let ids: Vec<Id> = diesel::sql_query(
                "SELECT nextval(pg_get_serial_sequence('unit_revisions', 'id')) AS id \
                 FROM generate_series(1, $1)",
            )
            .bind::<diesel::sql_types::BigInt, _>(to_i64("revision count", n)?)
            .load(c)?;
            Ok(ids.into_iter().map(|i| i.id).collect())
        }
    }
}

/// Stores the units of versions one after the other, remembering the revisions of the
/// last version it stored: an import compares each version's units with those of the one
/// it has just written without reading them back (on PostgreSQL that read was a quarter
/// of the CPI's import).
#[derive(Default)]
pub struct UnitWriter {
    last: Option<(VersionId, HashMap<String, StoredRevision>)>,
}

/// Stores the units of a version (see `UnitWriter::insert`), comparing them with those of
/// the previous version read from the database.
pub fn insert_many(
    conn: &mut DbConnection,
    version_id: VersionId,
    units: &[Unit],
) -> Result<(), StoreError> {
    UnitWriter::default().insert(conn, version_id, units)
}

impl UnitWriter {
    /// Stores the units of a version (which must have none yet, and whose row is
    /// already inserted): a unit equal to one of the previous version's takes its
    /// revision, the others become new revisions. Multi-row INSERTs on SQLite, COPY on
    /// PostgreSQL. Call it inside a transaction so that a version's units stand or fall
    /// together (on SQLite, without one, each chunk commits alone).
    pub fn insert(
        &mut self,
        conn: &mut DbConnection,
        version_id: VersionId,
        units: &[Unit],
    ) -> Result<(), StoreError> {
        let (bill_id, number): (BillId, i32) = versions::table
            .find(version_id)
            .select((versions::bill_id, versions::number))
            .first(conn)
            .optional()?
            .ok_or_else(|| {
                StoreError::Invalid(format!(
                    "version {version_id} does not exist: its units cannot be stored"
                ))
            })?;
        let mut previous = match (previous_version(conn, bill_id, number)?, self.last.take()) {
            (None, _) => HashMap::new(),
            (Some(p), Some((last, known))) if p == last => known,
            (Some(p), _) => revisions_of(conn, p)?,
        };
        // Each unit equal to the previous version's takes that revision, moved (not
        // copied) into what the next version will be compared with: allocating and
        // freeing every unit's strings again for each version was a fifth of the CPI's
        // per-article import (docs/performance.md). Work ids are unique in a version; a
        // repeated one would only get a new revision.
        let reused: Vec<Option<(String, StoredRevision)>> = units
            .iter()
            .map(|u| match previous.remove_entry(u.wid.as_str()) {
                Some((wid, r)) if r.is(u) => Some((wid, r)),
                _ => None,
            })
            .collect();
        drop(previous);
        let mut ids = fresh_ids(conn, reused.iter().filter(|r| r.is_none()).count())?.into_iter();
        let mut revisions = Vec::new();
        let mut placements = Vec::with_capacity(units.len());
        let mut known = HashMap::with_capacity(units.len());
        for (ord, (u, reused)) in units.iter().zip(reused).enumerate() {
            let revision_id = match reused {
                Some((wid, r)) => {
                    let id = r.id;
                    known.insert(wid, r);
                    id
                }
                None => {
                    let id = ids.next().expect("one fresh id per new revision");
                    let length = to_i64("unit length", u.end - u.start)?;
                    revisions.push(RevisionRow {
                        id,
                        bill_id,
                        kind: u.kind.as_str(),
                        wid: &u.wid,
                        eid: &u.eid,
                        num: u.num.as_deref(),
                        heading: u.heading.as_deref(),
                        depth: i32::from(u.depth),
                        length,
                        sha256: &u.sha256,
                    });
                    known.insert(
                        u.wid.clone(),
                        StoredRevision {
                            id,
                            kind: u.kind.as_str().to_string(),
                            wid: u.wid.clone(),
                            eid: u.eid.clone(),
                            num: u.num.clone(),
                            heading: u.heading.clone(),
                            depth: i32::from(u.depth),
                            length,
                            sha256: u.sha256.clone(),
                        },
                    );
                    id
                }
            };
            placements.push(PlacementRow {
                version_id,
                ord: to_i32("unit index", ord)?,
                revision_id,
                parent: u.parent.map(|p| to_i32("parent index", p)).transpose()?,
                start_byte: to_i64("offset", u.start)?,
            });
        }
        match conn {
            // Multi-row INSERT is not available through `MultiConnection` on SQLite (diesel
            // implements it there by specialising on `SqliteConnection`), hence the branch.
            DbConnection::Sqlite(c) => {
                for chunk in revisions.chunks(SQLITE_PARAMETERS / REVISION_COLUMNS) {
                    diesel::insert_into(unit_revisions::table)
                        .values(chunk)
                        .execute(c)?;
                }
                for chunk in placements.chunks(SQLITE_PARAMETERS / PLACEMENT_COLUMNS) {
                    diesel::insert_into(version_units::table)
                        .values(chunk)
                        .execute(c)?;
                }
            }
            // COPY … FROM STDIN (binary): no bind-parameter limit (65535), and twice the
            // rate of multi-row INSERTs here, mostly less work for the server.
            DbConnection::Pg(c) => {
                if !revisions.is_empty() {
                    diesel::copy_from(unit_revisions::table)
                        .from_insertable(&revisions)
                        .execute(c)?;
                }
                diesel::copy_from(version_units::table)
                    .from_insertable(&placements)
                    .execute(c)?;
            }
        }
        self.last = Some((version_id, known));
        Ok(())
    }
}

/// Versions added by one import from which, on PostgreSQL, the checks and the history
/// index of `version_units` are suspended during the import (see `suspend_checks`).
pub const BULK_VERSIONS: usize = 50;

/// What `suspend_checks` drops and `restore_checks` puts back, on PostgreSQL: the same
/// definitions as the migration's (with PostgreSQL's names for its foreign keys).
const SUSPENDED: [(&str, &str); 3] = [
    (
        "ALTER TABLE version_units DROP CONSTRAINT IF EXISTS version_units_version_id_fkey",
        "ALTER TABLE version_units ADD CONSTRAINT version_units_version_id_fkey \
         FOREIGN KEY (version_id) REFERENCES versions (id) ON DELETE CASCADE",
    ),
    (
        "ALTER TABLE version_units DROP CONSTRAINT IF EXISTS version_units_revision_id_fkey",
        "ALTER TABLE version_units ADD CONSTRAINT version_units_revision_id_fkey \
         FOREIGN KEY (revision_id) REFERENCES unit_revisions (id)",
    ),
    (
        "DROP INDEX IF EXISTS version_units_revision",
        "CREATE INDEX version_units_revision ON version_units (revision_id)",
    ),
];

/// For a bulk import, inside its transaction, on PostgreSQL (returns whether it did):
/// drops the two foreign keys of `version_units` and its index by revision (a unit's
/// history), which `restore_checks` puts back at the end. Each placement checked one
/// row at a time (a trigger per row) and the index dirtied all over took 11 of the 24 s
/// of the CPI's import; adding the keys back checks every row in one join (0.5 s), and
/// the index is built once (docs/performance.md). DDL is transactional there, so a
/// failed import gets them back with its rollback, and a restore that finds a row
/// without its version or revision fails the import; but the table is locked until the
/// commit, so pages reading texts wait for the import. On SQLite the checks are index
/// lookups and nothing is done.
pub fn suspend_checks(conn: &mut DbConnection) -> Result<bool, StoreError> {
    use diesel::connection::SimpleConnection;
    match conn {
        DbConnection::Pg(c) => {
            for (drop, _) in SUSPENDED {
                c.batch_execute(drop)?;
            }
            Ok(true)
        }
        DbConnection::Sqlite(_) => Ok(false),
    }
}

/// Puts back what `suspend_checks` dropped (on PostgreSQL; nothing on SQLite).
pub fn restore_checks(conn: &mut DbConnection) -> Result<(), StoreError> {
    use diesel::connection::SimpleConnection;
    if let DbConnection::Pg(c) = conn {
        for (_, add) in SUSPENDED {
            c.batch_execute(add)?;
        }
    }
    Ok(())
}

/// A placement read back with its revision.
#[derive(Queryable, Selectable)]
#[diesel(table_name = version_units)]
struct StoredPlacement {
    ord: i32,
    parent: Option<i32>,
    start_byte: i64,
    #[diesel(embed)]
    revision: StoredRevision,
}

/// The units of a version in document order (empty if it has none).
pub fn for_version(
    conn: &mut DbConnection,
    version_id: VersionId,
) -> Result<Vec<Unit>, StoreError> {
    let stored: Vec<StoredPlacement> = version_units::table
        .inner_join(unit_revisions::table)
        .filter(version_units::version_id.eq(version_id))
        .order(version_units::ord.asc())
        .select(StoredPlacement::as_select())
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
            let r = s.revision;
            let start = usize::try_from(s.start_byte).map_err(|_| bad(s.ord, "bad start"))?;
            let length = usize::try_from(r.length).map_err(|_| bad(s.ord, "bad length"))?;
            Ok(Unit {
                kind: UnitKind::parse(&r.kind).ok_or_else(|| bad(s.ord, "unknown kind"))?,
                wid: r.wid,
                eid: r.eid,
                num: r.num,
                heading: r.heading,
                depth: u8::try_from(r.depth).map_err(|_| bad(s.ord, "depth out of range"))?,
                parent: s
                    .parent
                    .map(usize::try_from)
                    .transpose()
                    .map_err(|_| bad(s.ord, "negative parent"))?,
                start,
                end: start
                    .checked_add(length)
                    .ok_or_else(|| bad(s.ord, "bad length"))?,
                sha256: r.sha256,
            })
        })
        .collect()
}
