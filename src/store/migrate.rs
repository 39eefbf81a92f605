//! Embedded migrations, one tree per backend with the same version names.

use diesel::sql_types::BigInt;
use diesel::RunQueryDsl;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use super::DbConnection;

pub const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
pub const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// Key of the session-level advisory lock that serializes migrations when several app
/// servers start at once on one PostgreSQL ("amenda" in ASCII).
pub const MIGRATION_LOCK_KEY: i64 = 0x616d_656e_6461;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Applies the pending migrations of the connection's backend; returns their versions.
pub(crate) fn run_pending(conn: &mut DbConnection) -> Result<Vec<String>, BoxError> {
    match conn {
        // One IMMEDIATE transaction takes SQLite's write lock before reading which
        // migrations are applied, so two processes cannot both apply the same one
        // (each migration then runs in a savepoint).
        DbConnection::Sqlite(c) => c.immediate_transaction(|c| {
            Ok(c.run_pending_migrations(SQLITE_MIGRATIONS)?
                .iter()
                .map(ToString::to_string)
                .collect())
        }),
        DbConnection::Pg(c) => {
            diesel::sql_query("SELECT pg_advisory_lock($1)")
                .bind::<BigInt, _>(MIGRATION_LOCK_KEY)
                .execute(c)?;
            let applied = c
                .run_pending_migrations(POSTGRES_MIGRATIONS)
                .map(|v| v.iter().map(ToString::to_string).collect());
            // Unlock even when a migration failed; the lock also ends with the session.
            let unlocked = diesel::sql_query("SELECT pg_advisory_unlock($1)")
                .bind::<BigInt, _>(MIGRATION_LOCK_KEY)
                .execute(c);
            let applied = applied?;
            unlocked?;
            Ok(applied)
        }
    }
}
