//! Choosing the backend from the database URL, opening connections, and the r2d2 pool
//! plumbing. The backend is chosen here from the URL scheme, never by
//! `MultiConnection::establish`, which tries each backend in turn and, with PostgreSQL
//! down, silently creates a SQLite file named after the URL (DESIGN §11).

use std::fmt;
use std::path::{Path, PathBuf};

use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::r2d2::{CustomizeConnection, ManageConnection, R2D2Connection};
use diesel::sqlite::SqliteConnection;
use diesel::Connection;

use super::StoreError;

/// One connection type over both backends: queries written once with the diesel query
/// builder run on either.
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Sqlite(SqliteConnection),
    Pg(PgConnection),
}

impl DbConnection {
    pub fn backend(&self) -> Backend {
        match self {
            DbConnection::Sqlite(_) => Backend::Sqlite,
            DbConnection::Pg(_) => Backend::Postgres,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Backend::Sqlite => "SQLite",
            Backend::Postgres => "PostgreSQL",
        })
    }
}

/// Where the data lives, decided from the URL scheme alone.
#[derive(Clone, PartialEq, Eq)]
pub(crate) enum Target {
    Sqlite(PathBuf),
    /// The full URL (with password, for connecting) and its password-free description.
    Postgres {
        url: String,
        shown: String,
    },
}

// Hand-written so that the password in a PostgreSQL URL never reaches a log.
impl fmt::Debug for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at {}", self.backend(), self.shown())
    }
}

/// Name of the SQLite file inside the data folder when no URL is given.
pub const DEFAULT_SQLITE_FILE: &str = "amenda.sqlite3";

impl Target {
    /// `postgres://` or `postgresql://` → PostgreSQL; `sqlite://PATH`, `sqlite:PATH` or a
    /// plain path → that SQLite file; none (or empty) → `<data_dir>/amenda.sqlite3`.
    pub(crate) fn from_url(data_dir: &Path, url: Option<&str>) -> Result<Target, StoreError> {
        let url = url.map(str::trim).filter(|u| !u.is_empty());
        let Some(url) = url else {
            return Ok(Target::Sqlite(data_dir.join(DEFAULT_SQLITE_FILE)));
        };
        let lower = url.to_ascii_lowercase();
        if lower.starts_with("postgres://") || lower.starts_with("postgresql://") {
            return Ok(Target::Postgres {
                url: url.to_owned(),
                shown: describe_pg_url(url),
            });
        }
        let path = if lower.starts_with("sqlite://") {
            &url["sqlite://".len()..]
        } else if lower.starts_with("sqlite:") {
            &url["sqlite:".len()..]
        } else if let Some((scheme, _)) = url.split_once("://") {
            return Err(StoreError::BadUrl {
                url: redact(url),
                reason: format!(
                    "unsupported scheme {scheme:?} (use postgres://, postgresql://, sqlite:// or a file path)"
                ),
            });
        } else {
            url
        };
        if path.is_empty() || path == ":memory:" || path.starts_with("file:") {
            // A pool of in-memory databases would be several unrelated databases.
            return Err(StoreError::BadUrl {
                url: url.to_owned(),
                reason: "expected the path of a SQLite file".into(),
            });
        }
        Ok(Target::Sqlite(PathBuf::from(path)))
    }

    pub(crate) fn backend(&self) -> Backend {
        match self {
            Target::Sqlite(_) => Backend::Sqlite,
            Target::Postgres { .. } => Backend::Postgres,
        }
    }

    /// File path or `host:port/database`, without credentials.
    pub(crate) fn shown(&self) -> String {
        match self {
            Target::Sqlite(path) => path.display().to_string(),
            Target::Postgres { shown, .. } => shown.clone(),
        }
    }

    /// Opens and prepares one connection, with an error that says what was tried.
    pub(crate) fn connect(&self) -> Result<DbConnection, StoreError> {
        let mut conn = self.establish()?;
        Pragmas::new(self).on_acquire(&mut conn)?;
        Ok(conn)
    }

    /// Opens one connection, without the per-connection settings.
    fn establish(&self) -> Result<DbConnection, StoreError> {
        let connect_error = |source| StoreError::Connect {
            backend: self.backend(),
            target: self.shown(),
            source: match source {
                // libpq ends its messages with a newline.
                diesel::ConnectionError::BadConnection(m) => {
                    diesel::ConnectionError::BadConnection(m.trim_end().to_owned())
                }
                other => other,
            },
        };
        Ok(match self {
            Target::Sqlite(path) => {
                let Some(path_str) = path.to_str() else {
                    return Err(StoreError::BadUrl {
                        url: path.display().to_string(),
                        reason: "the SQLite path is not valid UTF-8".into(),
                    });
                };
                // SQLite's own message for a missing folder is "unable to open database file".
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    if !dir.is_dir() {
                        return Err(connect_error(diesel::ConnectionError::BadConnection(
                            format!("folder {} does not exist", dir.display()),
                        )));
                    }
                }
                DbConnection::Sqlite(SqliteConnection::establish(path_str).map_err(connect_error)?)
            }
            Target::Postgres { url, .. } => {
                DbConnection::Pg(PgConnection::establish(url).map_err(connect_error)?)
            }
        })
    }
}

/// `host:port/database` of a PostgreSQL URL, without user or password.
fn describe_pg_url(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let (authority, path) = match rest.find(['/', '?', '#']) {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = if host.is_empty() { "localhost" } else { host };
    let db = path
        .strip_prefix('/')
        .unwrap_or("")
        .split(['?', '#'])
        .next()
        .unwrap_or("");
    if db.is_empty() {
        host.to_owned()
    } else {
        format!("{host}/{db}")
    }
}

/// A URL with any `user:password@` part replaced, for error messages.
fn redact(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => {
            let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
            match rest[..end].rfind('@') {
                Some(at) => format!("{scheme}://***@{}", &rest[at + 1..]),
                None => url.to_owned(),
            }
        }
        None => url.to_owned(),
    }
}

/// r2d2 manager that opens connections of the backend chosen from the URL (diesel's
/// `ConnectionManager<DbConnection>` would go through `MultiConnection::establish`).
#[derive(Debug)]
pub struct Manager {
    target: Target,
}

impl Manager {
    pub(crate) fn new(target: Target) -> Manager {
        Manager { target }
    }
}

impl ManageConnection for Manager {
    type Connection = DbConnection;
    type Error = StoreError;

    fn connect(&self) -> Result<DbConnection, StoreError> {
        // Settings are applied by `Pragmas`, the pool's connection customizer.
        self.target.establish()
    }

    fn is_valid(&self, conn: &mut DbConnection) -> Result<(), StoreError> {
        conn.ping().map(|_| ()).map_err(StoreError::Query)
    }

    fn has_broken(&self, conn: &mut DbConnection) -> bool {
        conn.is_broken()
    }
}

/// Per-connection settings, applied by the pool to every new connection. SQLite: wait
/// for locks instead of failing at once (first, as switching to WAL may itself need a
/// lock), WAL so that readers never block the writer, FULL sync so that a committed vote
/// survives power loss, foreign keys (off by default in SQLite), and a WAL file cut back
/// to 64 MiB whenever a checkpoint resets it (without the limit it keeps the size of the
/// largest transaction, a whole import, for as long as the server runs).
#[derive(Debug, Clone)]
pub(crate) struct Pragmas {
    /// For error messages.
    shown: String,
}

impl Pragmas {
    pub(crate) fn new(target: &Target) -> Pragmas {
        Pragmas {
            shown: target.shown(),
        }
    }
}

impl CustomizeConnection<DbConnection, StoreError> for Pragmas {
    fn on_acquire(&self, conn: &mut DbConnection) -> Result<(), StoreError> {
        match conn {
            DbConnection::Sqlite(c) => c
                .batch_execute(
                    "PRAGMA busy_timeout = 5000;
                     PRAGMA journal_mode = WAL;
                     PRAGMA synchronous = FULL;
                     PRAGMA foreign_keys = ON;
                     PRAGMA journal_size_limit = 67108864;",
                )
                .map_err(|source| StoreError::Setup {
                    backend: Backend::Sqlite,
                    target: self.shown.clone(),
                    source,
                }),
            DbConnection::Pg(_) => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backend_from_scheme() {
        let dir = Path::new("data");
        assert_eq!(
            Target::from_url(dir, None).unwrap(),
            Target::Sqlite(PathBuf::from("data/amenda.sqlite3"))
        );
        assert_eq!(
            Target::from_url(dir, Some("sqlite://x/y.db")).unwrap(),
            Target::Sqlite(PathBuf::from("x/y.db"))
        );
        assert_eq!(
            Target::from_url(dir, Some("sqlite:///abs/y.db")).unwrap(),
            Target::Sqlite(PathBuf::from("/abs/y.db"))
        );
        assert_eq!(
            Target::from_url(dir, Some("y.db")).unwrap(),
            Target::Sqlite(PathBuf::from("y.db"))
        );
        let pg = Target::from_url(
            dir,
            Some("postgresql://u:secret@db.example:5433/amenda?sslmode=require"),
        )
        .unwrap();
        assert_eq!(pg.backend(), Backend::Postgres);
        assert_eq!(pg.shown(), "db.example:5433/amenda");
        assert!(Target::from_url(dir, Some("mysql://u:secret@h/db"))
            .unwrap_err()
            .to_string()
            .contains("***@h/db"));
        assert!(Target::from_url(dir, Some(":memory:")).is_err());
    }
}
