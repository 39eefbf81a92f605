//! Errors of the storage layer. "Not found" is not an error: lookups return `Option`.

use super::Backend;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database could not be reached or opened. `target` names the file or the
    /// host/database (never the password).
    #[error("cannot connect to {backend} at {target}: {source}")]
    Connect {
        backend: Backend,
        target: String,
        #[source]
        source: diesel::ConnectionError,
    },

    /// A connection was opened but could not be prepared (SQLite pragmas).
    #[error("cannot prepare {backend} connection to {target}: {source}")]
    Setup {
        backend: Backend,
        target: String,
        #[source]
        source: diesel::result::Error,
    },

    #[error("invalid database URL {url:?}: {reason}")]
    BadUrl { url: String, reason: String },

    #[error("cannot create data folder {path}: {source}", path = .path.display())]
    DataDir {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// No connection became available in time (pool exhausted or database gone).
    #[error("no database connection available ({target}): {source}")]
    Pool {
        target: String,
        #[source]
        source: diesel::r2d2::PoolError,
    },

    #[error("database migration failed on {target}: {message}")]
    Migration { target: String, message: String },

    /// Shown with its causes: a row that cannot be read says which field and why
    /// ("Error deserializing field 'phase': unknown consultation phase \"archived\"").
    #[error("database error: {}", with_causes(.0))]
    Query(#[from] diesel::result::Error),

    /// A row that cannot be turned back into a domain value (e.g. an unknown unit kind),
    /// or a value that cannot be stored (e.g. an offset beyond 2^63).
    #[error("invalid stored data: {0}")]
    Invalid(String),
}

impl StoreError {
    /// True when the error is a violated UNIQUE or PRIMARY KEY constraint, e.g. a bill
    /// slug or a version number that already exists.
    pub fn is_unique_violation(&self) -> bool {
        use diesel::result::{DatabaseErrorKind, Error};
        matches!(
            self,
            StoreError::Query(Error::DatabaseError(DatabaseErrorKind::UniqueViolation, _))
        )
    }

    /// True when the error is a violated FOREIGN KEY constraint.
    pub fn is_foreign_key_violation(&self) -> bool {
        use diesel::result::{DatabaseErrorKind, Error};
        matches!(
            self,
            StoreError::Query(Error::DatabaseError(
                DatabaseErrorKind::ForeignKeyViolation,
                _
            ))
        )
    }
}

/// An error's message followed by those of its sources, each after ": ".
fn with_causes(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}
