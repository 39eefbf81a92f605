//! Storage: Diesel over SQLite (default, one file in the data folder) or PostgreSQL
//! (when the database URL says so), with the same schema, migrations for both, and one
//! repository module per aggregate (DESIGN §2, §8).
//!
//! Repository functions take `&mut DbConnection`, so the caller decides what runs in one
//! transaction: get a connection with [`Store::conn`] for reads, and wrap writes that must
//! stand or fall together (a whole import) in [`Store::transaction`].

pub mod accounts;
pub mod amendments;
pub mod audit;
pub mod ballots;
pub mod bills;
pub mod comments;
mod connection;
pub mod consolidations;
pub mod consultations;
pub mod dispositions;
mod error;
pub mod migrate;
pub mod moderation;
pub mod oidc_flows;
pub mod rebases;
pub mod schema;
pub mod sessions;
mod states;
pub mod unit_history;
pub mod units;
pub mod verifications;
pub mod versions;

use crate::clock::Clock;
use std::path::Path;
use std::time::Duration;

use diesel::connection::{AnsiTransactionManager, TransactionManager};
use diesel::r2d2::{Pool, PooledConnection};

pub use bills::{Bill, BillMeta, BillSummary, NewBill};
pub use connection::{Backend, DbConnection, Manager, MultiBackend, DEFAULT_SQLITE_FILE};
pub use error::StoreError;
pub use versions::{NewVersion, Version, VersionMeta};

use connection::{Pragmas, Target};

/// A connection borrowed from the pool; derefs to [`DbConnection`].
pub type PooledConn = PooledConnection<Manager>;

/// Connections kept per process. SQLite has one writer at a time anyway (WAL lets readers
/// run alongside); PostgreSQL's default limit of 100 connections is shared by all servers.
pub const SQLITE_POOL_SIZE: u32 = 8;
const POSTGRES_POOL_SIZE: u32 = 10;

/// Handle to the database: a connection pool plus what it points at. Cheap to clone.
#[derive(Clone)]
pub struct Store {
    pool: Pool<Manager>,
    target: Target,
    /// The time the services' rules read (`crate::clock`): the system's, or a manual
    /// one in tests. Clones share it.
    clock: Clock,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe())
    }
}

impl Store {
    /// Opens the database named by `database_url` (see [`Backend`] selection below), or
    /// `<data_dir>/amenda.sqlite3` when there is none; creates `data_dir` for SQLite.
    ///
    /// `postgres://…` and `postgresql://…` select PostgreSQL; `sqlite://PATH`,
    /// `sqlite:PATH` or a plain path select that SQLite file. A connection is tried at
    /// once, and a failure is reported as such: there is no fallback to another backend.
    /// Does not migrate: call [`Store::migrate`].
    pub fn open(data_dir: &Path, database_url: Option<&str>) -> Result<Store, StoreError> {
        let target = Target::from_url(data_dir, database_url)?;
        if target.backend() == Backend::Sqlite {
            std::fs::create_dir_all(data_dir).map_err(|source| StoreError::DataDir {
                path: data_dir.to_owned(),
                source,
            })?;
        }
        // One direct connection first: r2d2 would retry for `connection_timeout` and then
        // report a timeout, hiding the actual reason (wrong password, host down…).
        drop(target.connect()?);
        let max_size = match target.backend() {
            Backend::Sqlite => SQLITE_POOL_SIZE,
            Backend::Postgres => POSTGRES_POOL_SIZE,
        };
        let pool = Pool::builder()
            .max_size(max_size)
            .min_idle(Some(1))
            .connection_timeout(Duration::from_secs(30))
            .connection_customizer(Box::new(Pragmas::new(&target)))
            .build(Manager::new(target.clone()))
            .map_err(|source| StoreError::Pool {
                target: target.shown(),
                source,
            })?;
        Ok(Store {
            pool,
            target,
            clock: Clock::system(),
        })
    }

    /// The same store, its rules reading `clock` (tests set the day with a manual one).
    pub fn with_clock(self, clock: Clock) -> Store {
        Store { clock, ..self }
    }

    /// The time the rules read.
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    pub fn backend(&self) -> Backend {
        self.target.backend()
    }

    /// "SQLite at data/amenda.sqlite3" or "PostgreSQL at host:5432/amenda" (no
    /// credentials), for logs and error messages.
    pub fn describe(&self) -> String {
        format!("{} at {}", self.backend(), self.target.shown())
    }

    /// Applies pending migrations (safe to run from several processes at once) and
    /// returns the versions applied, oldest first.
    pub fn migrate(&self) -> Result<Vec<String>, StoreError> {
        let mut conn = self.conn()?;
        migrate::run_pending(&mut conn).map_err(|e| StoreError::Migration {
            target: self.describe(),
            message: e.to_string(),
        })
    }

    /// Refreshes the query planner's statistics after a large import, so that lookups
    /// pick the right index (on SQLite, from a bounded sample: fast on millions of rows).
    pub fn analyze(&self) -> Result<(), StoreError> {
        use diesel::connection::SimpleConnection;
        let mut conn = self.conn()?;
        let sql = match conn.backend() {
            Backend::Sqlite => "PRAGMA analysis_limit = 1000; ANALYZE;",
            Backend::Postgres => "ANALYZE;",
        };
        conn.batch_execute(sql)?;
        Ok(())
    }

    /// A connection from the pool.
    pub fn conn(&self) -> Result<PooledConn, StoreError> {
        self.pool.get().map_err(|source| StoreError::Pool {
            target: self.describe(),
            source,
        })
    }

    /// SQLite: copies the write-ahead log into the database and empties it
    /// (`wal_checkpoint(TRUNCATE)`), so that the `-wal` file does not keep the size of
    /// the largest transaction (a whole import) while the server runs. Returns whether
    /// it was complete: `false` when a reader still used an older snapshot (SQLite
    /// waits `busy_timeout` for it; the next checkpoint finishes the work). PostgreSQL
    /// manages its own log: nothing to do, `true`.
    pub fn checkpoint(&self) -> Result<bool, StoreError> {
        #[derive(diesel::QueryableByName)]
        struct Outcome {
            #[diesel(sql_type = diesel::sql_types::Integer)]
            busy: i32,
        }
        let mut conn = self.conn()?;
        if conn.backend() != Backend::Sqlite {
            return Ok(true);
        }
        let o: Outcome = diesel::RunQueryDsl::get_result(
            diesel::sql_query("PRAGMA wal_checkpoint(TRUNCATE)"),
            &mut *conn,
        )?;
        Ok(o.busy == 0)
    }

    /// Runs `f` in one transaction on a pooled connection: committed if `f` returns
    /// `Ok`, rolled back (leaving the database as it was) if it returns `Err`.
    pub fn transaction<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, E>,
        E: From<StoreError>,
    {
        let mut conn = self.conn()?;
        transaction(&mut conn, f)
    }

    /// `transaction` for an import that writes many versions. On SQLite its connection
    /// gets `BULK_SETTINGS` for the time of the transaction, then the defaults again,
    /// whatever the outcome: the pages such an import keeps changing (the units'
    /// B-trees) then stay in memory instead of being spilled to the write-ahead log and
    /// read back, version after version. Measured on the CPI's per-article history
    /// (docs/performance.md): the cache 12.5–13.2 s → 10.0–10.9 s, peak memory 57 → 91
    /// MB (256 MiB gave 9.3 s for 292 MB). On PostgreSQL, `transaction`.
    pub fn bulk_transaction<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, E>,
        E: From<StoreError>,
    {
        let mut conn = self.conn()?;
        let sqlite = matches!(&*conn, DbConnection::Sqlite(_));
        let settings = |conn: &mut DbConnection, sql: &str| {
            diesel::connection::SimpleConnection::batch_execute(conn, sql)
                .map_err(StoreError::Query)
        };
        if sqlite {
            settings(&mut conn, BULK_SETTINGS)?;
        }
        let result = transaction(&mut conn, f);
        // The default again before the connection goes back to the pool (where a large
        // cache would stay filled with whatever the import last touched); the import's
        // own error, if any, is the one to report.
        let reset = if sqlite {
            settings(&mut conn, DEFAULT_SETTINGS)
        } else {
            Ok(())
        };
        let value = result?;
        reset?;
        Ok(value)
    }
}

/// SQLite's settings for a bulk import's connection (`Store::bulk_transaction`): a page
/// cache of 32 MiB, and statement journals in memory (each multi-row INSERT of the
/// units, a statement that may stop half-way, copies the pages it changes to one; in a
/// temporary file that was an eighth of the CPI's per-article import).
const BULK_SETTINGS: &str = "PRAGMA cache_size = -32768; PRAGMA temp_store = MEMORY;";

/// SQLite's defaults again: a 2 MB page cache, temporary files as compiled.
const DEFAULT_SETTINGS: &str = "PRAGMA cache_size = -2000; PRAGMA temp_store = DEFAULT;";

/// Runs `f` in a transaction on `conn` (a savepoint if one is already open). On SQLite
/// the outermost transaction is `BEGIN IMMEDIATE`: it takes the write lock up front, so
/// two writers queue on `busy_timeout` instead of one failing with SQLITE_BUSY when a
/// deferred transaction tries to upgrade from reading to writing.
pub fn transaction<T, E, F>(conn: &mut DbConnection, f: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConnection) -> Result<T, E>,
    E: From<StoreError>,
{
    type Tm = <DbConnection as diesel::Connection>::TransactionManager;
    let outermost = Tm::transaction_manager_status_mut(conn)
        .transaction_depth()
        .map_err(StoreError::Query)?
        .is_none();
    match conn {
        DbConnection::Sqlite(c) if outermost => {
            AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE")
        }
        _ => Tm::begin_transaction(conn),
    }
    .map_err(StoreError::Query)?;
    match f(conn) {
        Ok(value) => {
            Tm::commit_transaction(conn).map_err(StoreError::Query)?;
            Ok(value)
        }
        Err(user_error) => match Tm::rollback_transaction(conn) {
            // A broken transaction manager after a failed callback: the callback's
            // error is the interesting one (same rule as diesel's `transaction`).
            Ok(()) | Err(diesel::result::Error::BrokenTransactionManager) => Err(user_error),
            Err(rollback_error) => Err(StoreError::Query(rollback_error).into()),
        },
    }
}

/// The system time, for the stamps `store` writes to record when something happened
/// (rules read `Store::clock` instead, see `crate::clock`).
pub(crate) fn now() -> crate::domain::time::Timestamp {
    crate::domain::time::Timestamp::new(time::OffsetDateTime::now_utc())
}

/// Current time as RFC 3339 UTC text, the format of every `*_at` column.
pub(crate) fn now_rfc3339() -> String {
    use time::format_description::well_known::Rfc3339;
    time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_else(|| "1970-01-01T00:00:00Z".to_owned())
}

#[cfg(test)]
mod tests {
    #[test]
    fn store_can_be_shared_between_threads() {
        fn shareable<T: Clone + Send + Sync + 'static>() {}
        shareable::<super::Store>();
    }
}
