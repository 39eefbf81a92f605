//! The `amenda` command line (DESIGN §10): global options, then a command.

mod error;

use crate::domain::ids::ConsultationId;
pub use error::{CliError, DiffError};

use crate::config::Config;
use crate::domain::identity::Role;
use crate::service::identity;
use crate::service::import::{
    import_folder, import_git_per_article, import_git_with, GitOptions, ImportSummary,
};
use crate::service::Progress;
use crate::store::Store;
use crate::web::{self, App, WebConfig};
use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use std::net::IpAddr;
use std::path::{Path, PathBuf};

#[derive(Debug, Parser)]
#[command(
    name = "amenda",
    version,
    about = "Citizen consultation and law-amendment platform"
)]
pub struct Cli {
    /// Data folder: SQLite database, instance keys.
    #[arg(long, global = true, env = "AMENDA_DATA", default_value = "data")]
    pub data: PathBuf,
    /// Database URL: postgres://… for PostgreSQL; default SQLite in the data folder.
    #[arg(long, global = true, env = "DATABASE_URL")]
    pub database_url: Option<String>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the whole platform locally with the bills of laws/ (no set-up, loopback only).
    Demo {
        #[arg(long, default_value_t = 8000)]
        port: u16,
    },
    /// Serve Amenda.
    Serve {
        #[arg(long, env = "AMENDA_PORT", default_value_t = 8000)]
        port: u16,
        #[arg(long, env = "AMENDA_ADDRESS", default_value = "127.0.0.1")]
        address: IpAddr,
        /// Mark cookies `Secure` even when `public_url` is not https (they are when it is).
        #[arg(long, env = "AMENDA_SECURE_COOKIES")]
        secure_cookies: bool,
        /// Configuration file (default: amenda.toml in the data folder, if present).
        #[arg(long, env = "AMENDA_CONFIG")]
        config: Option<PathBuf>,
    },
    /// Compare two markdown files of a bill word by word, unit by unit (articles matched
    /// as an import would): the changed units with their word diff, then the counts.
    /// Touches no database.
    Diff {
        old: PathBuf,
        new: PathBuf,
        /// Only the counts of articles added, removed, modified and unchanged.
        #[arg(long)]
        stat: bool,
    },
    /// Apply database migrations.
    Migrate,
    /// Import bills from a laws/-style folder (idempotent).
    Import { path: PathBuf },
    /// Manage accounts and roles (citizen, moderator, staff, admin).
    Admin {
        #[command(subcommand)]
        action: AdminAction,
    },
    /// Import every version of FILE in a git repository (path, URL or bundle), one per commit.
    ImportGit {
        repo: String,
        file: String,
        #[arg(long)]
        bill: String,
        #[arg(long)]
        branch: Option<String>,
        /// Title of the bill when it is created (default: from the file name).
        #[arg(long)]
        title: Option<String>,
        /// Add the versions to an existing bill even when they come from another file or
        /// repository than the bill's, or start before its last version (refused otherwise).
        #[arg(long)]
        append: bool,
        /// FILE is a folder of a code kept one file per article: each version is built
        /// from the folder's tree at a commit (folders are divisions, files articles).
        #[arg(long)]
        per_article: bool,
        /// Only commits dated on or after this day (YYYY-MM-DD).
        #[arg(long)]
        since: Option<String>,
        /// Only commits dated on or before this day (YYYY-MM-DD).
        #[arg(long)]
        until: Option<String>,
    },
    /// Consultations: close voting, destroy consultation keys whose window has ended.
    Consultation {
        #[command(subcommand)]
        action: ConsultationAction,
    },
    /// Write the open data into OUT_DIR: the datasets, texts, ballot-log exports,
    /// datapackage.json and the signed SHA256SUMS (docs/opendata.md); with
    /// --consultation, only that consultation's ballot-log export.
    Export {
        out_dir: PathBuf,
        #[arg(long)]
        consultation: Option<ConsultationId>,
    },
}

#[derive(Debug, Subcommand)]
pub enum ConsultationAction {
    /// Close voting: count, append the close record and the final checkpoint, publish.
    Close { id: ConsultationId },
    /// Destroy the consultation keys whose publication window has ended.
    DestroyKeys,
}

#[derive(Debug, Subcommand)]
pub enum AdminAction {
    /// List accounts with their roles.
    List,
    /// Grant a role: ACCOUNT is an account number or PROVIDER:SUBJECT.
    Grant {
        account: String,
        role: String,
        /// Create the account PROVIDER:SUBJECT if that person has not signed in yet
        /// (e.g. to name the first admin before anyone signs in).
        #[arg(long)]
        new: bool,
    },
    /// Revoke a role.
    Revoke { account: String, role: String },
}

fn parse_role(role: &str) -> Result<Role, CliError> {
    Role::parse(role).ok_or_else(|| CliError::NotARole(role.to_string()))
}

fn admin(store: &Store, action: &AdminAction) -> Result<(), CliError> {
    let mut conn = store.conn()?;
    match action {
        AdminAction::List => {
            let accounts = crate::store::accounts::list(&mut conn)?;
            if accounts.is_empty() {
                println!("no accounts yet: people appear here after their first sign-in");
            }
            for a in accounts {
                let roles = crate::store::accounts::roles(&mut conn, a.id)?;
                let roles: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
                println!(
                    "{}\t{}:{}\t{}\t{}",
                    a.id,
                    a.provider,
                    a.subject,
                    a.display_name,
                    if roles.is_empty() {
                        "citizen".to_string()
                    } else {
                        roles.join(",")
                    }
                );
            }
            Ok(())
        }
        AdminAction::Grant { account, role, .. } | AdminAction::Revoke { account, role } => {
            let grant = matches!(action, AdminAction::Grant { .. });
            let create = matches!(action, AdminAction::Grant { new: true, .. });
            let role = parse_role(role)?;
            let a = match identity::find_account(&mut conn, account) {
                Err(identity::RoleError::UnknownAccount(_)) if create => {
                    identity::create_account_ahead(&mut conn, account)?
                }
                other => other?,
            };
            drop(conn);
            let changed = identity::set_role(store, None, a.id, role, grant)?;
            let what = if grant { "granted to" } else { "revoked from" };
            if changed {
                println!(
                    "{} {what} {} ({}:{})",
                    role.as_str(),
                    a.display_name,
                    a.provider,
                    a.subject
                );
            } else {
                println!(
                    "nothing to do: {} already {}",
                    a.display_name,
                    if grant {
                        "has this role"
                    } else {
                        "lacks this role"
                    }
                );
            }
            Ok(())
        }
    }
}

/// A progress bar on stderr (hidden when stderr is not a terminal).
struct Bar(ProgressBar);

impl Progress for Bar {
    fn start(&self, total: u64, what: &str) {
        self.0.set_length(total);
        self.0.set_style(
            ProgressStyle::with_template(&format!(
                "{{bar:40}} {{pos}}/{{len}} {what} {{msg}} ({{elapsed}})"
            ))
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
    }
    fn advance(&self, detail: &str) {
        self.0.inc(1);
        self.0.set_message(detail.to_string());
    }
    fn finish(&self) {
        self.0.finish_and_clear();
    }
}

/// After a large write (an import): empties SQLite's write-ahead log, which otherwise
/// keeps the import's size next to the database. A reader still in an older snapshot
/// (a server on the same file) may hold part of it: said, not an error; the server's
/// own checkpoints finish it.
fn checkpoint(store: &Store) {
    match store.checkpoint() {
        Ok(true) => {}
        Ok(false) => eprintln!(
            "note: the database's write-ahead log is still in use by a reader; it will be emptied by a later checkpoint"
        ),
        Err(e) => eprintln!("note: the write-ahead log was not emptied: {e}"),
    }
}

fn open_store(cli: &Cli) -> Result<Store, CliError> {
    let store = Store::open(&cli.data, cli.database_url.as_deref())?;
    store.migrate()?;
    Ok(store)
}

/// `amenda diff OLD NEW` (and `amenda-diff`, the same without the server's start-up):
/// reads and checks both files (UTF-8, size), writes their comparison to stdout. Meant
/// for a command that exits next: what it read is left for the exit to free.
pub fn diff_files(old: &Path, new: &Path, stat: bool) -> Result<(), DiffError> {
    let read = |p: &Path| -> Result<String, DiffError> {
        let bytes = std::fs::read(p).map_err(|source| DiffError::Read {
            path: p.to_path_buf(),
            source,
        })?;
        Ok(crate::domain::bill::check_markdown(
            &p.display().to_string(),
            bytes,
        )?)
    };
    // Each file read, checked and parsed on its own core.
    let (old_md, new_md, cmp) = crate::text::diff_sources(|| read(old), || read(new))?;
    let mut out = std::io::BufWriter::with_capacity(256 * 1024, std::io::stdout().lock());
    let written = write_diff(&old_md, &new_md, &cmp, stat, &mut out)
        .and_then(|()| std::io::Write::flush(&mut out));
    // The command ends here: its memory goes back with the process, at once, rather than
    // block by block (on the CPI, freeing would cost a twentieth of the whole run).
    std::mem::forget((old_md, new_md, cmp));
    match written {
        // A reader that stopped early (`| head`) is not an error.
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(DiffError::Output(e)),
        _ => Ok(()),
    }
}

/// Each changed unit of `cmp` (the comparison of `old_md` and `new_md`) as
/// `@@ STATUS EID` (for a paragraph, with its article) and its text with deletions as
/// `[-…-]` and insertions as `{+…+}` (the markers of `git diff --word-diff=plain`), then
/// the counts of articles.
pub fn write_diff(
    old_md: &str,
    new_md: &str,
    cmp: &crate::text::TextComparison,
    stat_only: bool,
    out: &mut impl std::io::Write,
) -> std::io::Result<()> {
    use crate::text::diff::Status;
    use crate::text::DiffTag;
    if !stat_only {
        for change in cmp
            .diff
            .changes
            .iter()
            .filter(|c| c.status != Status::Unchanged)
        {
            let (units, md, i) = match (change.new, change.old) {
                (Some(i), _) => (&cmp.new.units, new_md, i),
                (None, Some(i)) => (&cmp.old.units, old_md, i),
                (None, None) => continue,
            };
            let unit = &units[i];
            write!(out, "@@ {} {}", change.status.as_str(), unit.eid)?;
            if let Some(article) = unit
                .parent
                .map(|p| &units[p])
                .filter(|_| unit.num.is_none())
            {
                let heading = article.heading.as_deref().unwrap_or(&article.eid);
                write!(out, " ({heading})")?;
            }
            writeln!(out)?;
            for op in &change.ops {
                match op.tag {
                    DiffTag::Equal => write!(out, "{}", op.text)?,
                    DiffTag::Delete => write!(out, "[-{}-]", op.text)?,
                    DiffTag::Insert => write!(out, "{{+{}+}}", op.text)?,
                }
            }
            if change.ops.is_empty() {
                // An article whose own heading kept its words: its paragraphs follow.
                write!(out, "{}", crate::text::diff::own_text(md, unit))?;
            }
            writeln!(out)?;
        }
    }
    let s = cmp.diff.summary;
    writeln!(
        out,
        "articles: {} added, {} removed, {} modified, {} unchanged",
        s.added, s.removed, s.modified, s.unchanged
    )
}

fn print_summary(s: &ImportSummary) {
    for w in &s.warnings {
        eprintln!("warning: {w}");
    }
    println!("{s}");
}

/// Runs a command; the error is one sentence for stderr.
pub fn run(cli: Cli) -> Result<(), CliError> {
    match &cli.command {
        Command::Admin { action } => {
            let store = open_store(&cli)?;
            admin(&store, action)
        }
        Command::Consultation { action } => {
            let store = open_store(&cli)?;
            let file = Config::load(&cli.data.join("amenda.toml"), false)?;
            let voting = crate::service::voting::Voting::new(
                store.clone(),
                log_key(&cli.data)?,
                web::url_host(file.public_url.as_deref().unwrap_or("")),
                file.publication_window_days
                    .unwrap_or(web::DEFAULT_PUBLICATION_WINDOW_DAYS),
            );
            match action {
                ConsultationAction::Close { id } => {
                    let c = voting
                        .close(None, *id, crate::service::voting::today(&store))
                        .map_err(|e| CliError::Consultation {
                            id: *id,
                            source: Box::new(e),
                        })?;
                    println!(
                        "Consultation {id} closed: {} entries, {} ballots, {} counted; consultation key kept until {}.",
                        c.entries, c.ballots, c.counted, c.destroy_key_after
                    );
                    print!("{}", c.checkpoint);
                }
                ConsultationAction::DestroyKeys => {}
            }
            let destroyed = crate::service::voting::destroy_due_keys(&store)?;
            for id in &destroyed {
                println!(
                    "Consultation {id}: consultation key destroyed (publication window ended)."
                );
            }
            Ok(())
        }
        Command::Export {
            out_dir,
            consultation,
        } => {
            let store = open_store(&cli)?;
            let key = log_key(&cli.data)?;
            let Some(id) = consultation else {
                // Every closed ballot log, the datasets, the package description and
                // the signed sums over every file, under the licence of amenda.toml.
                let licence = Config::load(&cli.data.join("amenda.toml"), false)?
                    .opendata
                    .licence()?;
                let summary =
                    crate::service::opendata::export_all(&store, &key, &licence, out_dir)?;
                for (name, rows) in &summary.rows {
                    println!("{name}: {rows} row(s)");
                }
                println!(
                    "Open data: {} file(s) in {}, listed in datapackage.json and SHA256SUMS (signed: SHA256SUMS.note, key opendata.vkey)",
                    summary.files,
                    out_dir.display()
                );
                return Ok(());
            };
            let dir = out_dir.join(format!("consultations/{id}/ballot-log"));
            let n = crate::service::voting::export(&store, &key, *id, &dir).map_err(|e| {
                CliError::Consultation {
                    id: *id,
                    source: Box::new(e),
                }
            })?;
            println!(
                "Consultation {id}: {n} entries written to {}",
                dir.display()
            );
            Ok(())
        }
        Command::Migrate => {
            let store = Store::open(&cli.data, cli.database_url.as_deref())?;
            let applied = store.migrate()?;
            println!(
                "{}: {} migration(s) applied",
                store.describe(),
                applied.len()
            );
            Ok(())
        }
        Command::Diff { old, new, stat } => Ok(diff_files(old, new, *stat)?),
        Command::Import { path } => {
            let store = open_store(&cli)?;
            let s = import_folder(&store, path, &Bar(ProgressBar::new(0)))?;
            print_summary(&s);
            checkpoint(&store);
            Ok(())
        }
        Command::ImportGit {
            repo,
            file,
            bill,
            branch,
            title,
            append,
            per_article,
            since,
            until,
        } => {
            let store = open_store(&cli)?;
            let options = GitOptions {
                branch: branch.as_deref(),
                title: title.as_deref(),
                append: *append,
                since: since.as_deref(),
                until: until.as_deref(),
            };
            let bar = Bar(ProgressBar::new(0));
            let s = if *per_article {
                import_git_per_article(&store, repo, file, bill, &options, &bar)?
            } else {
                import_git_with(&store, repo, file, bill, &options, &bar)?
            };
            print_summary(&s);
            checkpoint(&store);
            Ok(())
        }
        Command::Serve {
            port,
            address,
            secure_cookies,
            config,
        } => {
            let file = match config {
                Some(path) => Config::load(path, true)?,
                None => Config::load(&cli.data.join("amenda.toml"), false)?,
            };
            let store = open_store(&cli)?;
            let public_url = file.public_url.clone().unwrap_or_else(|| match address {
                IpAddr::V6(a) => format!("http://[{a}]:{port}"),
                IpAddr::V4(a) => format!("http://{a}:{port}"),
            });
            let trusted_proxies = web::client::TrustedProxies(file.trusted_proxies()?);
            let config = WebConfig {
                demo: false,
                secure_cookies: *secure_cookies,
                providers: file.providers,
                public_url,
                first_admin: file.first_admin,
                pseudonym_key: None, // read from the data folder by `serve`
                publication_window_days: file.publication_window_days,
                licence: file.opendata.licence()?,
                opendata_refresh: file.opendata.refresh.map(std::time::Duration::from_secs),
                live_pages: file.live_pages_ms.map(std::time::Duration::from_millis),
                trusted_proxies,
                moderation: file.moderation,
                ..WebConfig::default()
            };
            serve(&cli.data, store, *address, *port, config)
        }
        Command::Demo { port } => {
            let store = open_store(&cli)?;
            let s = import_embedded_laws(&store)?;
            println!("Demo bills: {s}");
            if let Some(id) =
                crate::service::consultation::ensure_demo(&store, &store.clock().today_iso())?
            {
                println!("Demo consultation: /consultations/{id}");
            }
            // The demo reads no amenda.toml, but the moderation settings may be set
            // through the environment (AMENDA_REPORT_THRESHOLD, AMENDA_*_LIMIT).
            let mut env = crate::config::Config::default();
            env.apply_env(|k| std::env::var(k).ok());
            env.check()?;
            serve(
                &cli.data,
                store,
                IpAddr::from([127, 0, 0, 1]),
                *port,
                WebConfig {
                    demo: true,
                    public_url: format!("http://127.0.0.1:{port}"),
                    moderation: env.moderation,
                    ..WebConfig::default()
                },
            )
        }
    }
}

/// The bills of `laws/`, compiled into the binary so the demo needs no checkout.
#[derive(rust_embed::RustEmbed)]
#[folder = "laws/"]
struct Laws;

fn import_embedded_laws(store: &Store) -> Result<ImportSummary, CliError> {
    let dir = tempfile::tempdir().map_err(CliError::TempDir)?;
    for name in Laws::iter() {
        let path = dir.path().join(name.as_ref());
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|source| CliError::Create {
                path: parent.to_path_buf(),
                source,
            })?;
        }
        let file = Laws::get(&name).ok_or(CliError::EmbeddedFileVanished)?;
        std::fs::write(&path, &file.data).map_err(|source| CliError::Write {
            path: path.clone(),
            source,
        })?;
    }
    Ok(import_folder(store, dir.path(), &crate::service::Silent)?)
}

/// The instance's ballot-log key (an Ed25519 seed), made on first start.
fn log_key(data: &Path) -> Result<crate::service::voting::LogKey, CliError> {
    let seed = instance_key(data, "log.key", 32)?;
    Ok(crate::service::voting::LogKey::from_seed(
        seed.try_into().map_err(|_| CliError::LogKeyLength)?,
    ))
}

/// The instance secret (cookie signing and encryption), made on first start.
fn secret_key(data: &Path) -> Result<Vec<u8>, CliError> {
    instance_key(data, "secret.key", 64)
}

/// A key kept in the data folder (hexadecimal, owner-only), made on first start. Every
/// app server of one instance must have the same files.
fn instance_key(data: &Path, name: &str, len: usize) -> Result<Vec<u8>, CliError> {
    let path = data.join(name);
    if let Ok(hex_key) = std::fs::read_to_string(&path) {
        return match hex::decode(hex_key.trim()) {
            Ok(k) if k.len() == len => Ok(k),
            _ => Err(CliError::DamagedKey { path, len }),
        };
    }
    let mut key = vec![0u8; len];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut key)
        .map_err(|_| CliError::Random)?;
    std::fs::create_dir_all(data).map_err(|source| CliError::Create {
        path: data.to_path_buf(),
        source,
    })?;
    write_private(&path, hex::encode(&key).as_bytes())
        .map_err(|source| CliError::Write { path, source })?;
    Ok(key)
}

fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    opts.open(path)?.write_all(bytes)
}

fn serve(
    data: &Path,
    store: Store,
    address: IpAddr,
    port: u16,
    config: WebConfig,
) -> Result<(), CliError> {
    if config.demo && !address.is_loopback() {
        return Err(CliError::DemoNotLoopback);
    }
    let key = secret_key(data)?;
    let mut config = config;
    // Pseudonyms must stay the same across restarts: derived under a key of the instance.
    config.pseudonym_key = Some(web::PseudonymKey(instance_key(data, "pseudonym.key", 32)?));
    config.log_key = Some(log_key(data)?);
    config.export_dir = Some(data.join("exports"));
    let figment = rocket::Config::figment()
        .merge(("address", address))
        .merge(("port", port))
        .merge(("secret_key", key))
        .merge(("ident", "Amenda"))
        .merge(("log_level", rocket::config::LogLevel::Critical))
        .merge(("cli_colors", false));
    let demo = config.demo;
    let described = store.describe();
    let app = App::new(store, config)?;
    let rocket = web::build(figment, app)
        .attach(rocket::fairing::AdHoc::on_liftoff(
            "consultation keys",
            |r| {
                // Destroys consultation keys whose publication window has ended, hourly.
                let app = r.state::<web::AppState>().cloned();
                Box::pin(async move {
                    let Some(app) = app else { return };
                    // The open-data folder is made now, not by the first visitor.
                    app.opendata.refresh_in_background(&app);
                    // SQLite's write-ahead log emptied every five minutes, so that a
                    // large write (an import by the CLI on the same file) does not leave
                    // it at that size while the pages keep reading.
                    let store = app.reader.store().clone();
                    rocket::tokio::spawn(async move {
                        loop {
                            rocket::tokio::time::sleep(std::time::Duration::from_secs(300)).await;
                            let s = store.clone();
                            let done =
                                rocket::tokio::task::spawn_blocking(move || s.checkpoint()).await;
                            if let Ok(Err(e)) = done {
                                tracing::warn!("checkpoint: {e}");
                            }
                        }
                    });
                    rocket::tokio::spawn(async move {
                        loop {
                            let a = app.clone();
                            let done = rocket::tokio::task::spawn_blocking(move || {
                                crate::service::voting::destroy_due_keys(a.voting.store())
                            })
                            .await;
                            if let Ok(Err(e)) = done {
                                tracing::warn!("consultation keys: {e}");
                            }
                            rocket::tokio::time::sleep(std::time::Duration::from_secs(3600)).await;
                        }
                    });
                })
            },
        ))
        .attach(rocket::fairing::AdHoc::on_liftoff("announce", move |r| {
            Box::pin(async move {
                let c = r.config();
                println!(
                    "Amenda{} is running at http://{}:{}/ ({described}). Press Ctrl+C to stop.",
                    if demo { " (demo)" } else { "" },
                    c.address,
                    c.port
                );
            })
        }));
    rocket::execute(rocket.launch())
        .map(|_| ())
        .map_err(|e| CliError::Server(Box::new(e)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instance_keys_are_made_once_and_a_damaged_one_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let made = instance_key(&data, "pseudonym.key", 32).unwrap();
        assert_eq!(instance_key(&data, "pseudonym.key", 32).unwrap(), made);
        std::fs::write(data.join("log.key"), "abcd\n").unwrap();
        let e = log_key(&data).err().unwrap();
        assert!(matches!(e, CliError::DamagedKey { len: 32, .. }), "{e:?}");
        assert_eq!(
            e.to_string(),
            format!(
                "{} is damaged: it must hold 32 bytes in hexadecimal",
                data.join("log.key").display()
            )
        );
    }

    #[test]
    fn errors_keep_their_sentences() {
        let e = parse_role("king").unwrap_err();
        assert_eq!(
            e.to_string(),
            "\"king\" is not a role: use moderator, staff or admin (everyone is a citizen)"
        );
        let e = CliError::from(Config::parse("public_url = 1").unwrap_err());
        assert!(e.to_string().contains("invalid type"), "{e}");
        let e = diff_files(
            Path::new("/nonexistent/a.md"),
            Path::new("/nonexistent/b.md"),
            true,
        )
        .unwrap_err();
        assert!(
            e.to_string().starts_with("/nonexistent/a.md: ")
                || e.to_string().starts_with("/nonexistent/b.md: "),
            "{e}"
        );
    }
}
