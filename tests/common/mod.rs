//! Helpers shared by the integration tests.
//!
//! Every test gets its own migrated database: a SQLite file in a temporary folder, or,
//! when `AMENDA_TEST_DATABASE_URL` names a PostgreSQL server (an admin URL, e.g. from
//! `tests/support/pg.sh start DIR`), a fresh database on it, dropped afterwards. Tests can
//! therefore run in parallel on either backend.

// Each test binary compiles this module and uses only part of it.
#![allow(dead_code)]

pub mod web;

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::ops::Deref;
use std::sync::atomic::{AtomicU32, Ordering};

use amenda::store::Store;
use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};

/// Environment variable naming the PostgreSQL server to test against.
pub const PG_URL_VAR: &str = "AMENDA_TEST_DATABASE_URL";

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
    pub fn data_dir(&self) -> &std::path::Path {
        self.dir.path()
    }
}

impl Drop for TestStore {
    fn drop(&mut self) {
        // Close the pool first so that the DROP finds no session of ours.
        drop(self.store.take());
        if let Some(pg) = &self.pg {
            let result = PgConnection::establish(&pg.admin_url).and_then(|mut admin| {
                admin
                    .batch_execute(&format!(
                        "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
                        pg.name
                    ))
                    .map_err(|e| diesel::ConnectionError::BadConnection(e.to_string()))
            });
            if let Err(e) = result {
                eprintln!("warning: could not drop test database {}: {e}", pg.name);
            }
        }
    }
}

/// A fresh, migrated store on the backend chosen by `AMENDA_TEST_DATABASE_URL`.
pub fn test_store() -> TestStore {
    let store = unmigrated_test_store();
    store.migrate().expect("migrations apply");
    store
}

/// Like [`test_store`], without running the migrations.
pub fn unmigrated_test_store() -> TestStore {
    let dir = tempfile::tempdir().expect("temporary folder");
    let admin_url = std::env::var(PG_URL_VAR)
        .ok()
        .filter(|u| !u.trim().is_empty());
    let (url, pg) = match admin_url {
        None => (dir.path().join("test.sqlite3").display().to_string(), None),
        Some(admin_url) => {
            let name = unique_database_name();
            let mut admin = PgConnection::establish(&admin_url)
                .unwrap_or_else(|e| panic!("{PG_URL_VAR}: cannot connect: {e}"));
            admin
                .batch_execute(&format!("CREATE DATABASE \"{name}\""))
                .unwrap_or_else(|e| panic!("cannot create test database {name}: {e}"));
            let url = with_database(&admin_url, &name);
            (url, Some(PgDatabase { admin_url, name }))
        }
    };
    // Built before opening, so that a failed open still drops the database.
    let mut test = TestStore {
        store: None,
        url,
        dir,
        pg,
    };
    let store = Store::open(test.dir.path(), Some(&test.url))
        .unwrap_or_else(|e| panic!("cannot open test store: {e}"));
    test.store = Some(store);
    test
}

/// `amenda_t_<pid>_<n>_<random>`: unique across parallel tests and test binaries, and
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
        "amenda_t_{}_{n}_{:08x}",
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
    std::env::var(PG_URL_VAR).is_ok_and(|u| !u.trim().is_empty())
}
