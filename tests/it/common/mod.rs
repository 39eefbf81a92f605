//! Helpers shared by the integration tests.
//!
//! Every test gets its own migrated database: a SQLite file in a temporary folder, or,
//! when `AMENDA_TEST_DATABASE_URL` names a PostgreSQL server (an admin URL, e.g. from
//! `tests/support/pg.sh start DIR`), a fresh database on it, dropped afterwards. Tests can
//! therefore run in parallel on either backend.
//!
//! The migrations run once per test process, on a template: SQLite, a file migrated once
//! and kept in memory, written out as each test's file; PostgreSQL, a database
//! `amenda_tpl_<host>_<pid>` migrated once, which each test's database is created from
//! (`CREATE DATABASE … TEMPLATE …`). Tests of the migrations themselves use
//! [`unmigrated_test_store`].

pub mod fixtures;
pub mod web;

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::ops::Deref;
use std::path::Path;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, OnceLock};

use amenda::clock::Clock;
use amenda::domain::time::Timestamp;
use amenda::store::Store;
use diesel::connection::SimpleConnection;
use diesel::sql_types::Text;
use diesel::{Connection, PgConnection, QueryableByName, RunQueryDsl};

/// The instant every test store's clock starts at (`Store::clock`): tests do not depend
/// on the calendar, and move the clock on (`store.clock().advance(…)`) instead of
/// sleeping. The consultation fixtures run from this day.
pub const TEST_NOW: &str = "2026-12-01T09:00:00Z";

/// The day `days` after [`TEST_NOW`]'s, as `YYYY-MM-DD`.
pub fn day_plus(days: i64) -> String {
    (test_now().date() + time::Duration::days(days)).to_string()
}

pub fn test_now() -> Timestamp {
    Timestamp::parse(TEST_NOW).expect("TEST_NOW is RFC 3339")
}

/// Environment variable naming the PostgreSQL server to test against.
pub const PG_URL_VAR: &str = "AMENDA_TEST_DATABASE_URL";

/// File name of a test's SQLite database in its data folder.
const SQLITE_FILE: &str = "test.sqlite3";

/// A migrated store that cleans up after itself; derefs to [`Store`].
pub struct TestStore {
    store: Option<Store>,
    url: String,
    dir: tempfile::TempDir,
    pg: Option<PgDatabase>,
}

struct PgDatabase {
    admin_url: String,
    name: String,
}

impl Deref for TestStore {
    type Target = Store;

    fn deref(&self) -> &Store {
        self.store.as_ref().expect("store is present until drop")
    }
}

impl TestStore {
    /// URL of this test's database (for code under test that opens its own store).
    pub fn database_url(&self) -> &str {
        &self.url
    }

    /// A data folder for this test (removed with it); the SQLite file lives there.
    pub fn data_dir(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for TestStore {
    fn drop(&mut self) {
        // Close the pool first so that the DROP finds no session of ours.
        drop(self.store.take());
        if let Some(pg) = &self.pg {
            if let Err(e) = drop_database(&pg.admin_url, &pg.name) {
                eprintln!("warning: could not drop test database {}: {e}", pg.name);
            }
        }
    }
}

fn drop_database(admin_url: &str, name: &str) -> Result<(), String> {
    let mut admin = PgConnection::establish(admin_url).map_err(|e| e.to_string())?;
    admin
        .batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
        .map_err(|e| e.to_string())
}

/// The PostgreSQL admin URL of `AMENDA_TEST_DATABASE_URL`, if set.
fn pg_admin_url() -> Option<String> {
    std::env::var(PG_URL_VAR)
        .ok()
        .filter(|u| !u.trim().is_empty())
}

/// A fresh, migrated store on the backend chosen by `AMENDA_TEST_DATABASE_URL`: a copy
/// of this process's migrated template.
pub fn test_store() -> TestStore {
    let dir = tempfile::tempdir().expect("temporary folder");
    match pg_admin_url() {
        None => {
            let path = dir.path().join(SQLITE_FILE);
            std::fs::write(&path, sqlite_template()).expect("writes the test database");
            open(dir, path.display().to_string(), None)
        }
        Some(admin_url) => {
            let template = pg_template(&admin_url);
            let name = unique_database_name();
            {
                // PostgreSQL copies a template only while nobody else uses it; one copy at a
                // time, so that two copies never see each other as "other users".
                let _one_at_a_time = PG_COPY.lock().unwrap_or_else(|e| e.into_inner());
                admin(&admin_url)
                    .batch_execute(&format!(
                        "CREATE DATABASE \"{name}\" TEMPLATE \"{template}\""
                    ))
                    .unwrap_or_else(|e| panic!("cannot create test database {name}: {e}"));
            }
            let url = with_database(&admin_url, &name);
            open(dir, url, Some(PgDatabase { admin_url, name }))
        }
    }
}

/// Like [`test_store`], without running the migrations: an empty database, for the
/// tests of the migrations themselves.
pub fn unmigrated_test_store() -> TestStore {
    let dir = tempfile::tempdir().expect("temporary folder");
    match pg_admin_url() {
        None => {
            let url = dir.path().join(SQLITE_FILE).display().to_string();
            open(dir, url, None)
        }
        Some(admin_url) => {
            let name = unique_database_name();
            admin(&admin_url)
                .batch_execute(&format!("CREATE DATABASE \"{name}\""))
                .unwrap_or_else(|e| panic!("cannot create test database {name}: {e}"));
            let url = with_database(&admin_url, &name);
            open(dir, url, Some(PgDatabase { admin_url, name }))
        }
    }
}

fn open(dir: tempfile::TempDir, url: String, pg: Option<PgDatabase>) -> TestStore {
    // Built before opening, so that a failed open still drops the database.
    let mut test = TestStore {
        store: None,
        url,
        dir,
        pg,
    };
    let store = Store::open(test.dir.path(), Some(&test.url))
        .unwrap_or_else(|e| panic!("cannot open test store: {e}"))
        .with_clock(Clock::manual(test_now()));
    test.store = Some(store);
    test
}

fn admin(admin_url: &str) -> PgConnection {
    PgConnection::establish(admin_url)
        .unwrap_or_else(|e| panic!("{PG_URL_VAR}: cannot connect: {e}"))
}

/// The bytes of a SQLite database with every migration applied, made once per process.
fn sqlite_template() -> &'static [u8] {
    static TEMPLATE: OnceLock<Vec<u8>> = OnceLock::new();
    TEMPLATE.get_or_init(|| {
        let dir = tempfile::tempdir().expect("temporary folder");
        let path = dir.path().join(SQLITE_FILE);
        let store = Store::open(dir.path(), Some(&path.display().to_string()))
            .unwrap_or_else(|e| panic!("cannot open the template store: {e}"));
        store.migrate().expect("migrations apply");
        // Everything into the main file (WAL mode), and every connection closed, so that
        // the file alone is the whole database.
        store
            .conn()
            .unwrap()
            .batch_execute("PRAGMA wal_checkpoint(TRUNCATE);")
            .expect("checkpoint");
        drop(store);
        std::fs::read(&path).expect("reads the template")
    })
}

/// Serializes the copies of the PostgreSQL template.
static PG_COPY: Mutex<()> = Mutex::new(());

/// The name of this process's migrated PostgreSQL template, made on first use (after
/// dropping the templates and test databases that runs no longer alive left behind).
fn pg_template(admin_url: &str) -> &'static str {
    static TEMPLATE: OnceLock<String> = OnceLock::new();
    TEMPLATE.get_or_init(|| {
        drop_stale_databases(admin_url);
        let name = format!("amenda_tpl_{}_{}", host_tag(), std::process::id());
        // A database of an earlier process with this pid cannot be in use: it goes. (Two
        // statements: PostgreSQL runs a multi-statement string as one transaction, which
        // DROP and CREATE DATABASE refuse.)
        let mut admin = admin(admin_url);
        for sql in [
            format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"),
            format!("CREATE DATABASE \"{name}\""),
        ] {
            admin
                .batch_execute(&sql)
                .unwrap_or_else(|e| panic!("cannot create the template database {name}: {e}"));
        }
        let url = with_database(admin_url, &name);
        let dir = tempfile::tempdir().expect("temporary folder");
        let store = Store::open(dir.path(), Some(&url))
            .unwrap_or_else(|e| panic!("cannot open the template database {name}: {e}"));
        store.migrate().expect("migrations apply");
        // PostgreSQL refuses to copy a database someone is connected to: close the pool.
        drop(store);
        name
    })
}

/// Drops the databases (`amenda_tpl_<host>_<pid>`, `amenda_t_<host>_<pid>_…`) of test runs
/// of this machine whose process is gone: a crashed run leaves its test databases, and
/// every run leaves its template (a process-wide value is never dropped). Only where
/// `/proc` tells which processes are alive; elsewhere they stay (a throwaway server from
/// `tests/support/pg.sh` goes with its folder anyway).
fn drop_stale_databases(admin_url: &str) {
    if !Path::new("/proc/self").exists() {
        return;
    }
    #[derive(QueryableByName)]
    struct Db {
        #[diesel(sql_type = Text)]
        datname: String,
    }
    let ours = format!("_{}_", host_tag());
    let stale: Vec<String> = diesel::sql_query(
        "SELECT datname FROM pg_database \
         WHERE datname LIKE 'amenda\\_tpl\\_%' OR datname LIKE 'amenda\\_t\\_%'",
    )
    .load::<Db>(&mut admin(admin_url))
    .unwrap_or_default()
    .into_iter()
    .map(|d| d.datname)
    .filter(|name| {
        let rest = name
            .strip_prefix("amenda_tpl")
            .or_else(|| name.strip_prefix("amenda_t"))
            .unwrap_or("");
        let Some(rest) = rest.strip_prefix(&ours) else {
            return false; // another machine's, or an older naming
        };
        let pid = rest.split('_').next().unwrap_or("");
        pid.parse::<u32>()
            .is_ok_and(|pid| !Path::new(&format!("/proc/{pid}")).exists())
    })
    .collect();
    for name in stale {
        match drop_database(admin_url, &name) {
            Ok(()) => eprintln!("dropped {name}, left by a test run that is no longer running"),
            Err(e) => eprintln!("warning: could not drop stale test database {name}: {e}"),
        }
    }
}

/// Six hex digits naming this machine, so that runs of two machines on one server never
/// take each other's databases for stale ones.
fn host_tag() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::env::var("HOSTNAME"))
        .unwrap_or_default();
    // FNV-1a: stable across runs (std's hashers are seeded per process).
    let h = host.trim().bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    format!("{:06x}", h & 0xff_ffff)
}

/// `amenda_t_<host>_<pid>_<n>_<random>`: unique across parallel tests and test runs, and
/// recognisable if a crashed run leaves one behind.
fn unique_database_name() -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    // std's RandomState is seeded randomly per process; mix in the time for good measure.
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    format!(
        "amenda_t_{}_{}_{n}_{:08x}",
        host_tag(),
        std::process::id(),
        hasher.finish() as u32
    )
}

/// The admin URL with its database replaced by `name` (query parameters kept).
fn with_database(admin_url: &str, name: &str) -> String {
    let (scheme, rest) = admin_url
        .split_once("://")
        .unwrap_or_else(|| panic!("{PG_URL_VAR} is not a postgres:// URL"));
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let query = tail.find('?').map_or("", |i| &tail[i..]);
    format!("{scheme}://{authority}/{name}{query}")
}

/// A voting service over `store` with a random log key, for tests that move
/// consultations through their phases (opening the vote writes a signed manifest).
pub fn voting(store: &Store) -> amenda::service::voting::Voting {
    amenda::service::voting::Voting::new(
        store.clone(),
        amenda::service::voting::LogKey::random(),
        "test.example",
        30,
    )
}

/// True when the tests run against PostgreSQL.
pub fn on_postgres() -> bool {
    pg_admin_url().is_some()
}
