//! Importing bills: from a `laws/`-style folder, or the whole history of one file of a
//! git repository. Every import runs in one transaction, so a failure leaves the
//! database as it was; importing the same thing again adds nothing.

use super::Progress;
use crate::domain::bill::{check_markdown, validate_slug, BillManifest, InputError};
use crate::store::{self, DbConnection, Store, StoreError};
use crate::text::{hash::sha256_hex, parse_version, Unit, WidAllocator};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error(transparent)]
    Input(#[from] InputError),
    #[error("{0}")]
    Invalid(String),
    /// A bill folder's `bill.toml` is refused.
    #[error("{path}: {source}")]
    Manifest {
        path: String,
        source: crate::domain::bill::ManifestError,
    },
    #[error("cannot read {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("git: {0}")]
    Git(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A `--since` or `--until` that is not a date.
    #[error("--{option} {value}: not a date; write it YYYY-MM-DD, e.g. 2013-05-17")]
    BadDate { option: &'static str, value: String },
    /// Commits that change what is imported, but none in the dates asked.
    #[error("no commit of \"{what}\" in {repo} is dated {range}; check --since and --until")]
    NoCommitInRange {
        what: String,
        repo: String,
        range: String,
    },
    /// A per-article import of a folder no commit touches.
    #[error("no commit of {rev} in {repo} touches the folder \"{dir}\"; check the folder (relative to the repository root) and the branch")]
    NoFolder {
        rev: String,
        repo: String,
        dir: String,
    },
    /// An import into an existing bill that would change what the bill is (boxed: the
    /// other variants are small, and every `Result` of an import carries the largest).
    #[error(transparent)]
    Reimport(Box<ReimportError>),
}

impl From<ReimportError> for ImportError {
    fn from(e: ReimportError) -> ImportError {
        ImportError::Reimport(Box::new(e))
    }
}

/// Why an import into an existing bill is refused (unless `--append` is given): its
/// versions would no longer be the history of one text.
#[derive(Debug, thiserror::Error)]
pub enum ReimportError {
    #[error("bill \"{slug}\" was not imported from git (recorded source: \"{recorded}\"); import \"{what}\" with --bill and another slug, or pass --append to add its versions to this bill anyway")]
    NotFromGit {
        slug: String,
        recorded: String,
        what: String,
    },
    #[error("bill \"{slug}\" was imported from another repository (recorded source: \"{recorded}\"; its last version comes from commit {commit}, which {repo} does not have); import it with --bill and another slug, or pass --append to add its versions to this bill anyway")]
    OtherRepository {
        slug: String,
        recorded: String,
        commit: String,
        repo: String,
    },
    #[error("bill \"{slug}\" was imported from another file or folder (recorded source: \"{recorded}\"; its version {number} is not the text of \"{what}\" at commit {commit}); import \"{what}\" with --bill and another slug, or pass --append to add its versions to this bill anyway")]
    OtherFile {
        slug: String,
        recorded: String,
        number: i32,
        what: String,
        commit: String,
    },
    #[error("the first new commit of \"{what}\" ({commit}, dated {commit_date}) is older than version {number} of bill \"{slug}\" (dated {version_date}), so an older text would follow a newer one; import it with --bill and another slug, or pass --append to add its versions to this bill anyway")]
    OlderCommit {
        slug: String,
        what: String,
        commit: String,
        commit_date: String,
        number: i32,
        version_date: String,
    },
}

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ImportSummary {
    pub bills_created: usize,
    pub versions_added: usize,
    pub versions_unchanged: usize,
    pub warnings: Vec<String>,
}

impl ImportSummary {
    fn merge(&mut self, other: ImportSummary) {
        self.bills_created += other.bills_created;
        self.versions_added += other.versions_added;
        self.versions_unchanged += other.versions_unchanged;
        self.warnings.extend(other.warnings);
    }
}

impl std::fmt::Display for ImportSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} bill(s) created, {} version(s) added, {} already present, {} warning(s)",
            self.bills_created,
            self.versions_added,
            self.versions_unchanged,
            self.warnings.len()
        )
    }
}

/// One version to append to a bill.
pub struct VersionInput {
    pub markdown: String,
    pub date: String,
    pub author: String,
    pub note: String,
    pub source_ref: Option<String>,
}

/// Appends versions to a bill inside an open transaction, carrying the previous
/// version's units in memory so each new version is matched against it.
pub struct BillWriter {
    bill: store::bills::Bill,
    prev: Option<(i32, String, Vec<Unit>)>,
    alloc: WidAllocator,
    units: store::units::UnitWriter,
}

impl BillWriter {
    /// Opens (or creates) the bill `meta.slug`.
    pub fn open(
        conn: &mut DbConnection,
        meta: store::bills::NewBill,
        summary: &mut ImportSummary,
    ) -> Result<BillWriter, ImportError> {
        validate_slug(&meta.slug)?;
        let bill = match store::bills::by_slug(conn, &meta.slug)? {
            Some(b) => b,
            None => {
                summary.bills_created += 1;
                store::bills::insert(conn, &meta)?
            }
        };
        Self::existing(conn, bill)
    }

    /// Appends to an existing bill (a consolidated version, say).
    pub fn existing(
        conn: &mut DbConnection,
        bill: store::bills::Bill,
    ) -> Result<BillWriter, ImportError> {
        let prev = match store::versions::latest(conn, bill.id)? {
            Some(v) => {
                let units = store::units::for_version(conn, v.meta.id)?;
                Some((v.meta.number, v.markdown, units))
            }
            None => None,
        };
        let alloc = WidAllocator::new(bill.next_wid as u64);
        Ok(BillWriter {
            bill,
            prev,
            alloc,
            units: Default::default(),
        })
    }

    pub fn bill(&self) -> &store::bills::Bill {
        &self.bill
    }

    /// Appends one version (which may repeat the previous text: a consolidation at a
    /// new date with no change is still a version).
    pub fn append(
        &mut self,
        conn: &mut DbConnection,
        input: VersionInput,
        summary: &mut ImportSummary,
    ) -> Result<(), ImportError> {
        let sha = sha256_hex(input.markdown.as_bytes());
        // Units unchanged since the previous version take its digests (no rehashing).
        let parsed = parse_version(
            self.prev
                .as_ref()
                .map(|(_, md, u)| (md.as_str(), u.as_slice())),
            &input.markdown,
            &mut self.alloc,
        );
        let units = parsed.units;
        let number = self.prev.as_ref().map_or(1, |(n, _, _)| n + 1);
        let mut warnings: Vec<String> = parsed.warnings.iter().map(|w| w.to_string()).collect();
        if let Some(w) = crate::text::parse::no_article_warning(&units, &parsed.warnings) {
            warnings.push(w.to_string());
        }
        for w in &warnings {
            summary
                .warnings
                .push(format!("{} version {number}: {w}", self.bill.slug));
        }
        let version_id = store::versions::insert(
            conn,
            &store::versions::NewVersion {
                bill_id: self.bill.id,
                number,
                parent_number: self.prev.as_ref().map(|(n, _, _)| *n),
                sha256: sha,
                markdown: input.markdown.clone(),
                date: input.date,
                author: input.author,
                note: input.note,
                source_ref: input.source_ref,
                warnings,
            },
        )?;
        self.units.insert(conn, version_id, &units)?;
        store::bills::set_next_wid(conn, self.bill.id, self.alloc.next_value() as i64)?;
        self.prev = Some((number, input.markdown, units));
        summary.versions_added += 1;
        Ok(())
    }
}

fn read_file(path: &Path) -> Result<Vec<u8>, ImportError> {
    std::fs::read(path).map_err(|source| ImportError::Io {
        path: path.display().to_string(),
        source,
    })
}

/// A bill folder read and checked before anything is written.
struct FolderBill {
    slug: String,
    manifest: BillManifest,
    texts: Vec<String>,
}

fn read_bill_folder(dir: &Path) -> Result<FolderBill, ImportError> {
    let slug = dir
        .file_name()
        .and_then(|s| s.to_str())
        .unwrap_or_default()
        .to_string();
    validate_slug(&slug)?;
    let manifest_path = dir.join("bill.toml");
    let manifest_text = check_markdown(
        &manifest_path.display().to_string(),
        read_file(&manifest_path)?,
    )?;
    let manifest = BillManifest::parse(&manifest_text).map_err(|source| ImportError::Manifest {
        path: manifest_path.display().to_string(),
        source,
    })?;
    let mut texts = Vec::new();
    for v in &manifest.versions {
        let p = dir.join(&v.file);
        texts.push(check_markdown(&p.display().to_string(), read_file(&p)?)?);
    }
    Ok(FolderBill {
        slug,
        manifest,
        texts,
    })
}

/// Imports every bill of a `laws/`-style folder (or one bill folder). Versions already
/// present (same text as the bill's latest version, in order) are skipped.
pub fn import_folder(
    store: &Store,
    path: &Path,
    progress: &dyn Progress,
) -> Result<ImportSummary, ImportError> {
    let dirs: Vec<PathBuf> = if path.join("bill.toml").is_file() {
        vec![path.to_path_buf()]
    } else {
        let entries = std::fs::read_dir(path).map_err(|source| ImportError::Io {
            path: path.display().to_string(),
            source,
        })?;
        let mut dirs: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.join("bill.toml").is_file())
            .collect();
        dirs.sort();
        dirs
    };
    if dirs.is_empty() {
        return Err(ImportError::Invalid(format!(
            "{} holds no bill: expected folders with a bill.toml (see laws/README.md)",
            path.display()
        )));
    }
    // Read and check everything first: bad input must not leave half an import behind.
    let bills = dirs
        .iter()
        .map(|d| read_bill_folder(d))
        .collect::<Result<Vec<_>, _>>()?;
    let total: usize = bills.iter().map(|b| b.texts.len()).sum();
    progress.start(total as u64, "versions");
    let summary = store.transaction(|conn| {
        let mut summary = ImportSummary::default();
        for b in &bills {
            let mut s = ImportSummary::default();
            let m = &b.manifest;
            let mut w = BillWriter::open(
                conn,
                store::bills::NewBill {
                    slug: b.slug.clone(),
                    meta: store::bills::BillMeta {
                        title: m.title.clone(),
                        language: m.language.clone(),
                        jurisdiction: m.jurisdiction.clone(),
                        source: m.source.clone(),
                        licence: m.licence.clone(),
                        summary: m.summary.clone(),
                    },
                    next_wid: 1,
                },
                &mut s,
            )?;
            let existing = store::versions::list_meta(conn, w.bill().id)?;
            for (i, (v, text)) in m.versions.iter().zip(&b.texts).enumerate() {
                progress.advance(&format!("{} {}", b.slug, v.file));
                // Version i+1 of the folder is version i+1 of the bill when already there.
                if let Some(e) = existing.get(i) {
                    if e.sha256 == sha256_hex(text.as_bytes()) {
                        s.versions_unchanged += 1;
                        continue;
                    }
                    return Err(ImportError::Invalid(format!(
                        "{}: version {} in the database differs from {}; versions are immutable, add a new file instead",
                        b.slug,
                        i + 1,
                        v.file
                    )));
                }
                w.append(
                    conn,
                    VersionInput {
                        markdown: text.clone(),
                        date: v.date.clone(),
                        author: v.author.clone(),
                        note: v.note.clone(),
                        source_ref: None,
                    },
                    &mut s,
                )?;
            }
            summary.merge(s);
        }
        Ok::<_, ImportError>(summary)
    })?;
    if summary.versions_added > 0 {
        crate::service::reading::note_new_versions();
        store.analyze()?;
    }
    progress.finish();
    Ok(summary)
}

/// A new bill made by a git import (French by default; the rest is for staff to fill).
fn git_bill(slug: &str, title: String, source: String) -> store::bills::NewBill {
    store::bills::NewBill {
        slug: slug.to_string(),
        meta: store::bills::BillMeta {
            title,
            language: "fr".into(),
            jurisdiction: String::new(),
            source,
            licence: String::new(),
            summary: String::new(),
        },
        next_wid: 1,
    }
}

/// A commit id as messages show it: its first 12 characters.
fn short_id(id: &str) -> &str {
    &id[..12.min(id.len())]
}

/// A commit that touched the file: id, ISO date, author, subject.
struct Commit {
    id: String,
    date: String,
    author: String,
    subject: String,
}

impl Commit {
    /// The version this commit makes of `markdown`: its date, author and message, and
    /// its id as the version's source.
    fn version(&self, markdown: String) -> VersionInput {
        VersionInput {
            markdown,
            date: self.date.clone(),
            author: self.author.clone(),
            note: self.subject.clone(),
            source_ref: Some(self.id.clone()),
        }
    }
}

/// After a git import's transaction: readers learn of the new versions and the
/// planner's statistics are refreshed (only when something was added).
fn finish(
    store: &Store,
    summary: ImportSummary,
    progress: &dyn Progress,
) -> Result<ImportSummary, ImportError> {
    if summary.versions_added > 0 {
        crate::service::reading::note_new_versions();
        store.analyze()?;
    }
    progress.finish();
    Ok(summary)
}

fn git(args: &[&str], dir: Option<&Path>) -> Result<Vec<u8>, ImportError> {
    let mut cmd = Command::new("git");
    if let Some(d) = dir {
        cmd.arg("-C").arg(d);
    }
    let out = cmd
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| ImportError::Git(format!("cannot run git ({e}); is git installed?")))?;
    if !out.status.success() {
        return Err(ImportError::Git(
            String::from_utf8_lossy(&out.stderr).trim().to_string(),
        ));
    }
    Ok(out.stdout)
}

/// What an import from git may be told besides the repository, the file and the bill.
#[derive(Debug, Default, Clone, Copy)]
pub struct GitOptions<'a> {
    /// Branch (or any revision) to read; default HEAD.
    pub branch: Option<&'a str>,
    /// Title of the bill when it is created.
    pub title: Option<&'a str>,
    /// Accept an import into an existing bill from another file or repository, or
    /// older than its last version (refused otherwise, see `ReimportError`).
    pub append: bool,
    /// Only commits dated (author date) on or after this day, `YYYY-MM-DD`.
    pub since: Option<&'a str>,
    /// Only commits dated on or before this day, `YYYY-MM-DD`.
    pub until: Option<&'a str>,
}

impl GitOptions<'_> {
    /// Checks `since` and `until`: a mistyped date must not silently import everything.
    fn check_dates(&self) -> Result<(), ImportError> {
        let f = time::macros::format_description!("[year]-[month]-[day]");
        for (option, value) in [("since", self.since), ("until", self.until)] {
            if let Some(v) = value {
                if time::Date::parse(v, &f).is_err() {
                    return Err(ImportError::BadDate {
                        option,
                        value: v.to_string(),
                    });
                }
            }
        }
        Ok(())
    }

    /// Whether a commit's date (`%aI`) falls within `since`..=`until`, compared by day.
    fn in_range(&self, date: &str) -> bool {
        let day = date.get(..10).unwrap_or(date);
        self.since.is_none_or(|s| day >= s) && self.until.is_none_or(|u| day <= u)
    }

    fn range(&self) -> String {
        match (self.since, self.until) {
            (Some(s), Some(u)) => format!("from {s} to {u}"),
            (Some(s), None) => format!("on or after {s}"),
            (None, Some(u)) => format!("on or before {u}"),
            (None, None) => "at any date".to_string(),
        }
    }
}

/// Imports every version of `file` in a git repository (a path, a URL or a bundle) as
/// versions of bill `slug`: one per commit that changed it, oldest first. Commits
/// already imported (by commit id) are skipped.
pub fn import_git(
    store: &Store,
    repo: &str,
    file: &str,
    slug: &str,
    branch: Option<&str>,
    title: Option<&str>,
    progress: &dyn Progress,
) -> Result<ImportSummary, ImportError> {
    let options = GitOptions {
        branch,
        title,
        ..GitOptions::default()
    };
    import_git_with(store, repo, file, slug, &options, progress)
}

/// `import_git` with all its options.
pub fn import_git_with(
    store: &Store,
    repo: &str,
    file: &str,
    slug: &str,
    options: &GitOptions<'_>,
    progress: &dyn Progress,
) -> Result<ImportSummary, ImportError> {
    let GitOptions { branch, title, .. } = *options;
    validate_slug(slug)?;
    options.check_dates()?;
    // A local repository is read in place; a URL or a bundle is cloned (bare) first.
    let (git_dir, _clone_dir) = open_repository(repo)?;
    let rev = match branch {
        Some(b) => {
            git(
                &[
                    "rev-parse",
                    "--verify",
                    "--quiet",
                    &format!("{b}^{{commit}}"),
                ],
                Some(&git_dir),
            )
            .map_err(|_| ImportError::Git(format!("branch \"{b}\" not found in {repo}")))?;
            b.to_string()
        }
        None => "HEAD".to_string(),
    };
    // Every first-parent commit with its changed files: a version is a commit that
    // changes FILE, or an empty commit (a consolidation at a new date with no change, as
    // in the Règlement's history); commits that change only other files are not.
    let log = git(
        &[
            "-c",
            "core.quotePath=off",
            "log",
            "--reverse",
            "--first-parent",
            "--name-only",
            "--format=%x1e%H%x1f%aI%x1f%an%x1f%s",
            &rev,
        ],
        Some(&git_dir),
    )?;
    let log = String::from_utf8_lossy(&log);
    let commits: Vec<Commit> = log
        .split('\x1e')
        .filter_map(|rec| {
            let (header, files) = rec.split_once('\n').unwrap_or((rec, ""));
            let mut f = header.split('\x1f');
            let commit = Commit {
                id: f.next()?.trim().to_string(),
                date: f.next()?.to_string(),
                author: f.next()?.to_string(),
                subject: f.next()?.trim_end().to_string(),
            };
            let mut changed = files.lines().filter(|l| !l.is_empty()).peekable();
            let relevant = changed.peek().is_none() || changed.any(|l| l == file);
            (relevant && !commit.id.is_empty()).then_some(commit)
        })
        .collect();
    let touching = git(
        &["log", "-1", "--format=%H", &rev, "--", file],
        Some(&git_dir),
    )?;
    if commits.is_empty() || touching.iter().all(u8::is_ascii_whitespace) {
        return Err(ImportError::Git(format!(
            "no commit of {} in {repo} touches \"{file}\"; check the file path (relative to the repository root) and the branch",
            rev
        )));
    }
    let mut commits = commits;
    commits.retain(|c| options.in_range(&c.date));
    if commits.is_empty() {
        return Err(ImportError::NoCommitInRange {
            what: file.to_string(),
            repo: repo.to_string(),
            range: options.range(),
        });
    }

    let default_title = Path::new(file)
        .file_stem()
        .map(|s| s.to_string_lossy().replace('_', " "))
        .map(|s| {
            let mut c = s.chars();
            c.next()
                .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
                .unwrap_or_default()
        })
        .unwrap_or_else(|| slug.to_string());

    let mut reader = BlobReader::start(&git_dir)?;
    progress.start(commits.len() as u64, "commits");
    let result = store.bulk_transaction(|conn| {
        let mut summary = ImportSummary::default();
        let mut w = BillWriter::open(
            conn,
            git_bill(
                slug,
                title.map(str::to_string).unwrap_or(default_title),
                format!("git: {repo} {file}"),
            ),
            &mut summary,
        )?;
        // Which commits are new, looked up once: their number decides a bulk import.
        let mut is_new = Vec::with_capacity(commits.len());
        for c in &commits {
            is_new.push(store::versions::find_by_source_ref(conn, w.bill().id, &c.id)?.is_none());
        }
        let first_new = commits.iter().zip(&is_new).find(|(_, &n)| n);
        if let (false, Some((first, _))) = (options.append, first_new) {
            check_reimport(conn, &git_dir, repo, file, w.bill(), first, &mut |commit| {
                reader.read(commit, file)
            })?;
        }
        let new_commits = is_new.iter().filter(|&&n| n).count();
        let suspended =
            new_commits >= store::units::BULK_VERSIONS && store::units::suspend_checks(conn)?;
        for (c, &new) in commits.iter().zip(&is_new) {
            progress.advance(&c.date);
            if !new {
                summary.versions_unchanged += 1;
                continue;
            }
            let Some(bytes) = reader.read(&c.id, file)? else {
                // The commit deleted the file: not a version.
                continue;
            };
            let markdown = check_markdown(&format!("{file} at commit {}", short_id(&c.id)), bytes)?;
            w.append(conn, c.version(markdown), &mut summary)?;
        }
        if suspended {
            store::units::restore_checks(conn)?;
        }
        Ok::<_, ImportError>(summary)
    });
    reader.stop();
    finish(store, result?, progress)
}

/// What is imported (a file, or a folder's text) at a commit; None when not there.
type TextAt<'a> = dyn FnMut(&str) -> Result<Option<Vec<u8>>, ImportError> + 'a;

/// Refuses an import into an existing bill that would make its versions something else
/// than the history of one text: from a bill not imported from git, from another
/// repository (its last version's commit is not there), from another file (the file at
/// that commit is not its last version's text), or starting before its last version.
/// Checked on what the repository holds rather than on how REPO and FILE are spelled, so
/// `./repo` and `/abs/repo` are the same repository. `text_at` reads what is imported
/// (the file, or the folder's text) at a commit.
fn check_reimport(
    conn: &mut DbConnection,
    git_dir: &Path,
    repo: &str,
    what: &str,
    bill: &store::bills::Bill,
    first_new: &Commit,
    text_at: &mut TextAt<'_>,
) -> Result<(), ImportError> {
    let Some(last) = store::versions::latest(conn, bill.id)? else {
        return Ok(());
    };
    let slug = bill.slug.clone();
    let recorded = bill.meta.source.clone();
    let Some(commit) = last.meta.source_ref.clone() else {
        return Err(ReimportError::NotFromGit {
            slug,
            recorded,
            what: what.to_string(),
        }
        .into());
    };
    let short = short_id(&commit).to_string();
    let known = git(
        &["cat-file", "-e", &format!("{commit}^{{commit}}")],
        Some(git_dir),
    );
    if known.is_err() {
        return Err(ReimportError::OtherRepository {
            slug,
            recorded,
            commit: short,
            repo: repo.to_string(),
        }
        .into());
    }
    let same = text_at(&commit)?.is_some_and(|b| sha256_hex(&b) == last.meta.sha256);
    if !same {
        return Err(ReimportError::OtherFile {
            slug,
            recorded,
            number: last.meta.number,
            what: what.to_string(),
            commit: short,
        }
        .into());
    }
    if is_older(&first_new.date, &last.meta.date) {
        return Err(ReimportError::OlderCommit {
            slug,
            what: what.to_string(),
            commit: short_id(&first_new.id).to_string(),
            commit_date: first_new.date.clone(),
            number: last.meta.number,
            version_date: last.meta.date.clone(),
        }
        .into());
    }
    Ok(())
}

/// Whether date `a` is strictly before date `b`; both are ISO 8601 dates or RFC 3339
/// date-times (a date alone is read as midnight UTC). Dates that do not parse are
/// compared by their first ten characters (the day), which never refuses a same-day one.
fn is_older(a: &str, b: &str) -> bool {
    fn instant(s: &str) -> Option<time::OffsetDateTime> {
        use time::format_description::well_known::Rfc3339;
        time::OffsetDateTime::parse(s, &Rfc3339).ok().or_else(|| {
            let f = time::macros::format_description!("[year]-[month]-[day]");
            time::Date::parse(s, &f)
                .ok()
                .map(|d| d.midnight().assume_utc())
        })
    }
    match (instant(a), instant(b)) {
        (Some(x), Some(y)) => x < y,
        _ => a.get(..10).unwrap_or(a) < b.get(..10).unwrap_or(b),
    }
}

/// Reads blobs through one `git cat-file --batch` process: one fork for 200 versions.
struct BlobReader {
    child: std::process::Child,
    stdin: std::process::ChildStdin,
    stdout: std::io::BufReader<std::process::ChildStdout>,
}

/// Starts `git -C GIT_DIR ARGS…` with its standard output piped, to be read as git
/// writes it; its standard input piped when `stdin`; its error output piped when
/// `errors` (read once the output has ended: only for a command whose errors are short),
/// else discarded (unread while the output is, a pipe could fill and stop git).
fn spawn_git(
    git_dir: &Path,
    args: &[&str],
    stdin: bool,
    errors: bool,
) -> Result<(std::process::Child, std::process::ChildStdout), ImportError> {
    let pipe_or_null = |piped: bool| if piped { Stdio::piped() } else { Stdio::null() };
    let mut child = Command::new("git")
        .arg("-C")
        .arg(git_dir)
        .args(args)
        .stdin(pipe_or_null(stdin))
        .stdout(Stdio::piped())
        .stderr(pipe_or_null(errors))
        .spawn()
        .map_err(|e| ImportError::Git(format!("cannot run git ({e}); is git installed?")))?;
    let stdout = child
        .stdout
        .take()
        .ok_or_else(|| ImportError::Git("no stdout".into()))?;
    Ok((child, stdout))
}

impl BlobReader {
    fn start(git_dir: &Path) -> Result<BlobReader, ImportError> {
        let (mut child, stdout) = spawn_git(git_dir, &["cat-file", "--batch"], true, false)?;
        let stdin = child
            .stdin
            .take()
            .ok_or_else(|| ImportError::Git("no stdin".into()))?;
        let stdout = std::io::BufReader::new(stdout);
        Ok(BlobReader {
            child,
            stdin,
            stdout,
        })
    }

    fn read(&mut self, commit: &str, file: &str) -> Result<Option<Vec<u8>>, ImportError> {
        self.read_object(&format!("{commit}:{file}"))
    }

    /// Reads a blob named as git names objects: `COMMIT:PATH`, or a blob id.
    fn read_object(&mut self, spec: &str) -> Result<Option<Vec<u8>>, ImportError> {
        use std::io::{BufRead, Read, Write};
        let io = |e: std::io::Error| ImportError::Git(format!("git cat-file: {e}"));
        writeln!(self.stdin, "{spec}").map_err(io)?;
        self.stdin.flush().map_err(io)?;
        let mut header = String::new();
        self.stdout.read_line(&mut header).map_err(io)?;
        let parts: Vec<&str> = header.split_whitespace().collect();
        if parts.len() == 2 && parts[1] == "missing" {
            return Ok(None);
        }
        if parts.len() != 3 || parts[1] != "blob" {
            return Err(ImportError::Git(format!(
                "unexpected answer from git cat-file for {spec}: {}",
                header.trim()
            )));
        }
        let size: usize = parts[2]
            .parse()
            .map_err(|_| ImportError::Git(format!("bad blob size in \"{}\"", header.trim())))?;
        let mut buf = vec![0u8; size + 1]; // the blob and its trailing newline
        self.stdout.read_exact(&mut buf).map_err(io)?;
        buf.pop();
        Ok(Some(buf))
    }

    fn stop(mut self) {
        drop(self.stdin);
        let _ = self.child.wait();
    }
}

/// A local repository as it is, or a URL or bundle cloned (bare) into a temporary
/// folder, kept as long as the returned guard.
fn open_repository(repo: &str) -> Result<(PathBuf, Option<tempfile::TempDir>), ImportError> {
    let local = Path::new(repo);
    if local.is_dir() {
        return Ok((local.to_path_buf(), None));
    }
    let tmp = tempfile::tempdir().map_err(|source| ImportError::Io {
        path: "temporary folder".into(),
        source,
    })?;
    let target = tmp.path().join("repo.git");
    git(
        &[
            "clone",
            "--quiet",
            "--bare",
            "--no-tags",
            repo,
            &target.to_string_lossy(),
        ],
        None,
    )?;
    Ok((target, Some(tmp)))
}

/// The revision to read: `branch`, checked to exist, or HEAD.
fn resolve_revision(
    git_dir: &Path,
    repo: &str,
    branch: Option<&str>,
) -> Result<String, ImportError> {
    let Some(b) = branch else {
        return Ok("HEAD".to_string());
    };
    git(
        &[
            "rev-parse",
            "--verify",
            "--quiet",
            &format!("{b}^{{commit}}"),
        ],
        Some(git_dir),
    )
    .map_err(|_| ImportError::Git(format!("branch \"{b}\" not found in {repo}")))?;
    Ok(b.to_string())
}

/// The first-parent commits of `rev` that change a file under `prefix` (or change
/// nothing: an empty commit is a consolidation at a new date), oldest first, with
/// whether each is empty. The log is read as git writes it: the list of changed files of
/// every commit (thousands in a code kept one file per article) is never held at once.
fn commits_under(
    git_dir: &Path,
    rev: &str,
    prefix: &str,
) -> Result<Vec<(Commit, bool)>, ImportError> {
    use std::io::BufRead;
    let (child, stdout) = spawn_git(
        git_dir,
        &[
            "-c",
            "core.quotePath=off",
            "log",
            "--reverse",
            "--first-parent",
            "--name-only",
            // A merge's files as against its first parent (implied by --first-parent
            // since git 2.31 only): with none listed, a merge of files outside the folder
            // would read as an empty commit, that is a version.
            "--diff-merges=first-parent",
            "--format=%x1e%H%x1f%aI%x1f%an%x1f%s",
            rev,
        ],
        false,
        // git log's errors (a bad revision) are one line, read once its output ends.
        true,
    )?;
    let mut commits = Vec::new();
    // The commit being read: it, whether it changed any file, whether one under prefix.
    let mut current: Option<(Commit, bool, bool)> = None;
    let finish = |c: Option<(Commit, bool, bool)>, commits: &mut Vec<(Commit, bool)>| {
        if let Some((commit, any, under)) = c {
            if !commit.id.is_empty() && (under || !any) {
                commits.push((commit, !any));
            }
        }
    };
    for line in std::io::BufReader::new(stdout).split(b'\n') {
        let line = line.map_err(|e| ImportError::Git(format!("git log: {e}")))?;
        let line = String::from_utf8_lossy(&line);
        if let Some(header) = line.strip_prefix('\x1e') {
            finish(current.take(), &mut commits);
            let mut f = header.split('\x1f');
            let mut next = || f.next().unwrap_or("").to_string();
            let commit = Commit {
                id: next().trim().to_string(),
                date: next(),
                author: next(),
                subject: next().trim_end().to_string(),
            };
            current = Some((commit, false, false));
        } else if !line.is_empty() {
            if let Some((_, any, under)) = &mut current {
                *any = true;
                *under |= line.starts_with(prefix);
            }
        }
    }
    finish(current.take(), &mut commits);
    let out = child
        .wait_with_output()
        .map_err(|e| ImportError::Git(format!("git log: {e}")))?;
    if !out.status.success() {
        return Err(ImportError::Git(
            String::from_utf8_lossy(&out.stderr).trim().to_string(),
        ));
    }
    Ok(commits)
}

/// Builds the whole text of a folder kept one file per article, commit by commit: the
/// folders under it are divisions (a heading at the folder's depth), its `.md` files
/// with an article heading are articles, in the natural order of codes
/// (`text::order`), a folder's own articles before its sub-folders. It holds one tree,
/// the files under the folder at the commit last read, kept in the text's order with
/// each file as put in the text: a commit changes a few files of thousands, so only
/// those are placed (their sort key computed once), read and parsed, and memory holds
/// one tree whatever the length of the history.
struct TreeReader {
    prefix: String,
    /// The files under the folder, in the text's order.
    files: std::collections::BTreeMap<PathKey, TreeFile>,
    /// The articles of `.md` files removed or changed since the last text, by (blob id,
    /// depth): a file moved or renamed with the same content is not read again.
    removed: std::collections::HashMap<(String, u8), Option<String>>,
    /// Paths already warned about, to say it once per import rather than per version.
    warned: std::collections::HashSet<String>,
}

/// A file's place in the text: its folders and then its name, each in the natural order
/// of codes without `.md`, a folder's files before its sub-folders; paths equal in that
/// order (`A.md` and `A`) compare by their text, so that no two paths tie.
#[derive(PartialEq, Eq, PartialOrd, Ord)]
struct PathKey {
    /// Per part: whether it is a folder (false, the file, sorts first), and its key.
    parts: Vec<(bool, crate::text::order::NaturalKey)>,
    /// The path under the folder.
    path: String,
}

impl PathKey {
    fn new(path: &str) -> PathKey {
        let n = path.split('/').count();
        let parts = path
            .split('/')
            .enumerate()
            .map(|(i, part)| {
                let name = part.strip_suffix(".md").unwrap_or(part);
                (i + 1 < n, crate::text::order::natural_key(name))
            })
            .collect();
        PathKey {
            parts,
            path: path.to_string(),
        }
    }
}

/// One file of the tree: its path under the folder split at `/` (folders, then the
/// file), its blob, and, once a text was built with it, the file as put in the text.
struct TreeFile {
    parts: Vec<String>,
    blob: String,
    /// None: not looked at yet (new or changed); Some(None): left out (not a `.md` file
    /// or no article heading in it).
    article: Option<Option<String>>,
}

impl TreeReader {
    fn new(dir: &str) -> TreeReader {
        // `code`, `code/`, `./code` and `./code/` name one folder; `.` or `./` the root.
        let dir = dir.trim_start_matches("./").trim_matches('/');
        let prefix = if dir.is_empty() || dir == "." {
            String::new()
        } else {
            format!("{dir}/")
        };
        TreeReader {
            prefix,
            files: Default::default(),
            removed: Default::default(),
            warned: Default::default(),
        }
    }

    /// Puts the file at `path` (from the repository's root) with content `blob`, or
    /// removes it (None); paths outside the folder are ignored.
    fn set(&mut self, path: &str, blob: Option<&str>) {
        let Some(rel) = path.strip_prefix(self.prefix.as_str()) else {
            return;
        };
        let key = PathKey::new(rel);
        let old = match blob {
            None => self.files.remove(&key),
            Some(blob) => match self.files.get_mut(&key) {
                // A change of mode only: the same text.
                Some(f) if f.blob == blob => None,
                Some(f) => Some(TreeFile {
                    parts: f.parts.clone(),
                    blob: std::mem::replace(&mut f.blob, blob.to_string()),
                    article: f.article.take(),
                }),
                None => {
                    let parts = rel.split('/').map(str::to_string).collect();
                    let file = TreeFile {
                        parts,
                        blob: blob.to_string(),
                        article: None,
                    };
                    self.files.insert(key, file);
                    None
                }
            },
        };
        // Kept for a file that takes the same blob at the same depth before the next
        // text; only a `.md` file's, whose article depends on its blob and depth alone.
        if let Some(TreeFile {
            parts,
            blob,
            article: Some(article),
        }) = old
        {
            if parts.last().is_some_and(|n| n.ends_with(".md")) {
                let depth = u8::try_from(parts.len()).unwrap_or(u8::MAX);
                self.removed.insert((blob, depth), article);
            }
        }
    }

    /// Makes the tree the folder's at `commit`, as `git ls-tree` lists it (any commit;
    /// `follow` is the way along a history).
    fn load(&mut self, git_dir: &Path, commit: &str) -> Result<(), ImportError> {
        let mut args = vec![
            "-c",
            "core.quotePath=off",
            "ls-tree",
            "-r",
            "-z",
            "--full-tree",
            commit,
        ];
        if !self.prefix.is_empty() {
            args.extend(["--", self.prefix.as_str()]);
        }
        let out = git(&args, Some(git_dir))?;
        self.files.clear();
        self.removed.clear();
        for entry in out.split(|&b| b == 0).filter(|e| !e.is_empty()) {
            let entry = String::from_utf8_lossy(entry);
            let Some((meta, path)) = entry.split_once('\t') else {
                continue;
            };
            let mut meta = meta.split(' ');
            let (_mode, kind, blob) = (meta.next(), meta.next(), meta.next());
            if let (Some("blob"), Some(blob)) = (kind, blob) {
                self.set(path, Some(blob));
            }
        }
        Ok(())
    }

    /// Brings the tree to `commit` along `log`, applying the changes of every commit up
    /// to it (`commit` must come later in the log than the one the tree is at).
    fn follow(&mut self, log: &mut TreeLog, commit: &str) -> Result<(), ImportError> {
        loop {
            let Some(at) = log.next_commit()? else {
                return Err(log.missing(commit));
            };
            while let Some((path, blob)) = log.next_change()? {
                self.set(&path, blob.as_deref());
            }
            if at == commit {
                return Ok(());
            }
        }
    }

    /// The text of the tree (None when the folder holds no article), with warnings for
    /// the files left out that were not warned about before; `commit` is the tree's, to
    /// name it in errors and warnings.
    fn text(
        &mut self,
        reader: &mut BlobReader,
        commit: &str,
        warnings: &mut Vec<String>,
    ) -> Result<Option<String>, ImportError> {
        let mut out = String::new();
        let mut open: Vec<&str> = Vec::new();
        let short = short_id(commit);
        for f in self.files.values_mut() {
            let (name, folders) = f.parts.split_last().expect("a path has a file name");
            if f.article.is_none() {
                // New or changed since the last text: read, and warned about once.
                let path = format!("{}{}", self.prefix, f.parts.join("/"));
                if !name.ends_with(".md") {
                    if self.warned.insert(path.clone()) {
                        warnings.push(format!(
                            "\"{path}\" (first at commit {short}) left out: not a .md file"
                        ));
                    }
                    f.article = Some(None);
                    continue;
                }
                let depth = u8::try_from(folders.len() + 1).unwrap_or(u8::MAX);
                let article = match self.removed.remove(&(f.blob.clone(), depth)) {
                    Some(a) => a,
                    None => {
                        let bytes = reader.read_object(&f.blob)?.unwrap_or_default();
                        let text = check_markdown(&format!("{path} at commit {short}"), bytes)?;
                        crate::text::parse::article_file_at_depth(&text, depth)
                    }
                };
                if article.is_none() && self.warned.insert(path.clone()) {
                    warnings.push(format!(
                        "\"{path}\" (first at commit {short}) left out: no article heading (`# Article …`) in it"
                    ));
                }
                f.article = Some(article);
            }
            let Some(Some(a)) = &f.article else {
                continue;
            };
            // The divisions of this file's folders that are not open yet.
            let common = open
                .iter()
                .zip(folders)
                .take_while(|(a, b)| **a == b.as_str())
                .count();
            open.truncate(common);
            for (i, folder) in folders.iter().enumerate().skip(common) {
                out.extend(std::iter::repeat_n('#', i + 1));
                out.push(' ');
                out.push_str(folder);
                out.push_str("\n\n");
                open.push(folder);
            }
            out.push_str(a);
            out.push('\n');
        }
        self.removed.clear();
        let end = out.trim_end().len();
        out.truncate(end);
        if out.is_empty() {
            // No article at all (a README alone): no text to make a version of.
            return Ok(None);
        }
        out.push('\n');
        Ok(Some(out))
    }

    /// The text at any `commit` (see `text`), the tree read whole with `load`.
    fn text_at(
        &mut self,
        git_dir: &Path,
        reader: &mut BlobReader,
        commit: &str,
        warnings: &mut Vec<String>,
    ) -> Result<Option<String>, ImportError> {
        self.load(git_dir, commit)?;
        self.text(reader, commit, warnings)
    }
}

/// The first-parent history of a revision with each commit's changed files and their
/// new blobs (`git log --raw`), oldest first, read as the import goes: one process for
/// the whole history instead of one `git ls-tree` per commit, and never held at once.
struct TreeLog {
    child: std::process::Child,
    stdout: std::io::BufReader<std::process::ChildStdout>,
    /// The commit whose header was read and whose changes come next.
    pending: Option<String>,
    /// Whether git's output has ended.
    done: bool,
}

impl TreeLog {
    fn start(git_dir: &Path, rev: &str) -> Result<TreeLog, ImportError> {
        let (child, stdout) = spawn_git(
            git_dir,
            &[
                "log",
                "--reverse",
                "--first-parent",
                // A merge's changes as against its first parent, as `commits_under`
                // reads them: the tree follows the first-parent line.
                "--diff-merges=first-parent",
                "--raw",
                "-r",
                "-z",
                // The root commit's files, as added ones.
                "--root",
                // A rename is a deletion and an addition: each path's new blob.
                "--no-renames",
                "--no-abbrev",
                "--no-color",
                "--format=%x1e%H",
                rev,
            ],
            false,
            // Not read: the same log ran without error in `commits_under`.
            false,
        )?;
        Ok(TreeLog {
            child,
            stdout: std::io::BufReader::new(stdout),
            pending: None,
            done: false,
        })
    }

    /// The next NUL-terminated field of git's output, None at its end.
    fn field(&mut self) -> Result<Option<Vec<u8>>, ImportError> {
        use std::io::BufRead;
        let mut buf = Vec::new();
        let n = self
            .stdout
            .read_until(0, &mut buf)
            .map_err(|e| ImportError::Git(format!("git log: {e}")))?;
        if n == 0 {
            self.done = true;
            return Ok(None);
        }
        if buf.last() == Some(&0) {
            buf.pop();
        }
        Ok(Some(buf))
    }

    /// The next commit of the log (its changes follow), None at the end.
    fn next_commit(&mut self) -> Result<Option<String>, ImportError> {
        if let Some(c) = self.pending.take() {
            return Ok(Some(c));
        }
        // Changes not read (none: `next_change` reads them all) until a header.
        while self.next_change()?.is_some() {}
        Ok(self.pending.take())
    }

    /// The next change of the current commit: a path from the repository's root and its
    /// new blob, None when deleted or no longer a file (a submodule); None at the end
    /// of the commit's changes.
    fn next_change(&mut self) -> Result<Option<(String, Option<String>)>, ImportError> {
        while !self.done && self.pending.is_none() {
            let Some(field) = self.field()? else {
                break;
            };
            // The format's line end, before the changes' first field.
            let field = field.strip_prefix(b"\n").unwrap_or(&field);
            if let Some(id) = field.strip_prefix(b"\x1e") {
                self.pending = Some(String::from_utf8_lossy(id).trim().to_string());
                break;
            }
            let Some(meta) = field.strip_prefix(b":") else {
                continue;
            };
            // `:OLDMODE NEWMODE OLDBLOB NEWBLOB STATUS`, then the path as its own field.
            let meta = String::from_utf8_lossy(meta).to_string();
            let Some(path) = self.field()? else {
                break;
            };
            let path = String::from_utf8_lossy(&path).to_string();
            let m: Vec<&str> = meta.split(' ').collect();
            let (Some(mode), Some(blob), Some(status)) = (m.get(1), m.get(3), m.get(4)) else {
                return Err(ImportError::Git(format!(
                    "unexpected line from git log --raw: :{meta}"
                )));
            };
            let gone = status.starts_with('D') || *mode == "160000";
            return Ok(Some((path, (!gone).then(|| blob.to_string()))));
        }
        Ok(None)
    }

    /// The error for a commit not found in the log (git stopped early).
    fn missing(&self, commit: &str) -> ImportError {
        let short = short_id(commit);
        ImportError::Git(format!("git log --raw ended before commit {short}"))
    }

    /// Ends git (its output may not have been read to the end: the last commits may
    /// change nothing under the folder).
    fn stop(mut self) {
        drop(self.stdout);
        let _ = self.child.wait();
    }
}

/// Imports the history of a code kept one file per article under folder `dir` of a git
/// repository: one version per first-parent commit that changes the text built from the
/// folder (see `TreeReader`), or that is empty, oldest first, with the commit's date,
/// author and subject, as `import_git` does for one file. Commits already imported are
/// skipped; a re-import is checked as `import_git`'s.
pub fn import_git_per_article(
    store: &Store,
    repo: &str,
    dir: &str,
    slug: &str,
    options: &GitOptions<'_>,
    progress: &dyn Progress,
) -> Result<ImportSummary, ImportError> {
    validate_slug(slug)?;
    options.check_dates()?;
    let (git_dir, _clone) = open_repository(repo)?;
    let rev = resolve_revision(&git_dir, repo, options.branch)?;
    let mut tree = TreeReader::new(dir);
    let all = commits_under(&git_dir, &rev, &tree.prefix)?;
    if !all.iter().any(|(_, empty)| !empty) {
        return Err(ImportError::NoFolder {
            rev,
            repo: repo.to_string(),
            dir: dir.to_string(),
        });
    }
    let commits: Vec<(Commit, bool)> = all
        .into_iter()
        .filter(|(c, _)| options.in_range(&c.date))
        .collect();
    if commits.is_empty() {
        return Err(ImportError::NoCommitInRange {
            what: dir.to_string(),
            repo: repo.to_string(),
            range: options.range(),
        });
    }
    let default_title = Path::new(dir.trim_matches('/'))
        .file_name()
        .map(|s| s.to_string_lossy().to_string())
        .filter(|s| !s.is_empty() && s != ".")
        .unwrap_or_else(|| slug.to_string());

    let mut reader = BlobReader::start(&git_dir)?;
    let mut log = TreeLog::start(&git_dir, &rev)?;
    progress.start(commits.len() as u64, "commits");
    let result = store.bulk_transaction(|conn| {
        let mut summary = ImportSummary::default();
        let mut w = BillWriter::open(
            conn,
            git_bill(
                slug,
                options.title.map(str::to_string).unwrap_or(default_title),
                format!("git: {repo} {dir} (one file per article)"),
            ),
            &mut summary,
        )?;
        let mut is_new = Vec::with_capacity(commits.len());
        for (c, _) in &commits {
            is_new.push(store::versions::find_by_source_ref(conn, w.bill().id, &c.id)?.is_none());
        }
        // Commits before the last one already imported were seen by the import that
        // took it: versions then, or not versions (a README changed); taking them now
        // would put an older text after a newer one. So they are left, unless --append.
        let last_known = is_new.iter().rposition(|&n| !n);
        let before_last_known = |i: usize| !options.append && last_known.is_some_and(|k| i < k);
        let first_new = commits
            .iter()
            .zip(&is_new)
            .enumerate()
            .find(|&(i, (_, &n))| n && !before_last_known(i))
            .map(|(_, c)| c);
        if let (false, Some(((first, _), _))) = (options.append, first_new) {
            // The folder's text at the bill's last commit, built apart (its warnings
            // and the files it reads are for this check only).
            let mut check_tree = TreeReader::new(dir);
            check_reimport(conn, &git_dir, repo, dir, w.bill(), first, &mut |commit| {
                Ok(check_tree
                    .text_at(&git_dir, &mut reader, commit, &mut Vec::new())?
                    .map(String::into_bytes))
            })?;
        }
        let new_commits = is_new.iter().filter(|&&n| n).count();
        let suspended =
            new_commits >= store::units::BULK_VERSIONS && store::units::suspend_checks(conn)?;
        for (i, ((c, empty), &new)) in commits.iter().zip(&is_new).enumerate() {
            progress.advance(&c.date);
            if !new {
                summary.versions_unchanged += 1;
                continue;
            }
            if before_last_known(i) {
                continue;
            }
            let mut warnings = Vec::new();
            tree.follow(&mut log, &c.id)?;
            let text = tree.text(&mut reader, &c.id, &mut warnings)?;
            summary
                .warnings
                .extend(warnings.into_iter().map(|w| format!("{slug}: {w}")));
            let Some(markdown) = text else {
                // No article in the folder at this commit: not a version.
                continue;
            };
            // A commit that changed only files left out (a README) is not a version.
            let same = w.prev.as_ref().is_some_and(|(_, md, _)| *md == markdown);
            if same && !empty {
                continue;
            }
            w.append(conn, c.version(markdown), &mut summary)?;
        }
        if suspended {
            store::units::restore_checks(conn)?;
        }
        Ok::<_, ImportError>(summary)
    });
    reader.stop();
    log.stop();
    finish(store, result?, progress)
}
