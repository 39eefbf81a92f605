//! The command line's one error path: every lower error converts into [`CliError`]
//! (`?` in the commands), whose message is the one sentence `main` prints after
//! `error: ` before exiting with status 1.

use crate::domain::ids::ConsultationId;
use std::path::PathBuf;

use crate::config::ConfigError;
use crate::domain::bill::InputError;
use crate::service::consultation::ConsultationError;
use crate::service::identity::RoleError;
use crate::service::import::ImportError;
use crate::service::opendata::ExportError;
use crate::service::voting::VoteError;
use crate::store::StoreError;

/// Why a command failed.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Import(#[from] ImportError),
    #[error(transparent)]
    Role(#[from] RoleError),
    #[error("\"{0}\" is not a role: use moderator, staff or admin (everyone is a citizen)")]
    NotARole(String),
    /// Closing a consultation, or exporting its ballot log.
    #[error("consultation {id}: {source}")]
    Consultation {
        id: ConsultationId,
        source: Box<VoteError>,
    },
    /// Destroying the consultation keys whose window has ended.
    #[error(transparent)]
    Vote(Box<VoteError>),
    #[error(transparent)]
    Export(#[from] ExportError),
    /// Setting up the demo consultation.
    #[error(transparent)]
    Demo(#[from] ConsultationError),
    #[error(transparent)]
    Diff(#[from] DiffError),
    #[error("cannot create a temporary folder: {0}")]
    TempDir(#[source] std::io::Error),
    #[error("cannot create {}: {source}", path.display())]
    Create {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write {}: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("embedded file vanished")]
    EmbeddedFileVanished,
    /// An instance key in the data folder that is not `len` bytes in hexadecimal.
    #[error("{} is damaged: it must hold {len} bytes in hexadecimal", path.display())]
    DamagedKey { path: PathBuf, len: usize },
    #[error("log.key: 32 bytes expected")]
    LogKeyLength,
    #[error("the system random generator failed")]
    Random,
    #[error("demo mode only runs on a loopback address (127.0.0.1 or ::1)")]
    DemoNotLoopback,
    /// The web application could not be set up.
    #[error(transparent)]
    Web(#[from] crate::web::StartError),
    #[error("the server stopped: {0}")]
    Server(#[source] Box<rocket::Error>),
}

impl From<VoteError> for CliError {
    fn from(e: VoteError) -> Self {
        CliError::Vote(Box::new(e))
    }
}

/// Why `amenda diff` (and `amenda-diff`) failed: kept apart from [`CliError`] so that
/// `amenda-diff` links nothing but the text engine and these.
#[derive(Debug, thiserror::Error)]
pub enum DiffError {
    /// A file that cannot be read.
    #[error("{}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    /// Too large, or not UTF-8.
    #[error(transparent)]
    Input(#[from] InputError),
    /// Writing the comparison out (not a reader that stopped early).
    #[error("{0}")]
    Output(#[source] std::io::Error),
}
