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
    #[error("bill \"{slug}\" was imported from another file (recorded source: \"{recorded}\"; its version {number} is not the text of \"{what}\" at commit {commit}); import \"{what}\" with --bill and another slug, or pass --append to add its versions to this bill anyway")]
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
        let prev = match store::versions::latest(conn, bill.id)? {
            Some(v) => {
                let units = store::units::for_version(conn, v.meta.id)?;
                Some((v.meta.number, v.markdown, units))
            }
            None => None,
        };
        let alloc = WidAllocator::new(bill.next_wid as u64);
        Ok(BillWriter { bill, prev, alloc })
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
        Ok(BillWriter { bill, prev, alloc })
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
        store::units::insert_many(conn, version_id, &units)?;
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

/// A commit that touched the file: id, ISO date, author, subject.
struct Commit {
    id: String,
    date: String,
    author: String,
    subject: String,
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
    // A local repository is read in place; a URL or a bundle is cloned (bare) first.
    let local = Path::new(repo);
    let _clone_dir;
    let git_dir: PathBuf = if local.is_dir() {
        local.to_path_buf()
    } else {
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
        _clone_dir = tmp;
        target
    };
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
    let result = store.transaction(|conn| {
        let mut summary = ImportSummary::default();
        let mut w = BillWriter::open(
            conn,
            store::bills::NewBill {
                slug: slug.to_string(),
                meta: store::bills::BillMeta {
                    title: title.map(str::to_string).unwrap_or(default_title),
                    language: "fr".into(),
                    jurisdiction: String::new(),
                    source: format!("git: {repo} {file}"),
                    licence: String::new(),
                    summary: String::new(),
                },
                next_wid: 1,
            },
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
            new_commits >= store::units::BULK_VERSIONS && store::units::suspend_wid_index(conn)?;
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
            let markdown = check_markdown(
                &format!("{file} at commit {}", &c.id[..12.min(c.id.len())]),
                bytes,
            )?;
            w.append(
                conn,
                VersionInput {
                    markdown,
                    date: c.date.clone(),
                    author: c.author.clone(),
                    note: c.subject.clone(),
                    source_ref: Some(c.id.clone()),
                },
                &mut summary,
            )?;
        }
        if suspended {
            store::units::restore_wid_index(conn)?;
        }
        Ok::<_, ImportError>(summary)
    });
    reader.stop();
    let summary = result?;
    if summary.versions_added > 0 {
        crate::service::reading::note_new_versions();
        store.analyze()?;
    }
    progress.finish();
    Ok(summary)
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
    let short = commit[..12.min(commit.len())].to_string();
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
            commit: first_new.id[..12.min(first_new.id.len())].to_string(),
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

impl BlobReader {
    fn start(git_dir: &Path) -> Result<BlobReader, ImportError> {
        let mut child = Command::new("git")
            .arg("-C")
            .arg(git_dir)
            .args(["cat-file", "--batch"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| ImportError::Git(format!("cannot run git cat-file: {e}")))?;
        let stdin = child
            .stdin
            .take()
            .ok_or_else(|| ImportError::Git("no stdin".into()))?;
        let stdout = std::io::BufReader::new(
            child
                .stdout
                .take()
                .ok_or_else(|| ImportError::Git("no stdout".into()))?,
        );
        Ok(BlobReader {
            child,
            stdin,
            stdout,
        })
    }

    fn read(&mut self, commit: &str, file: &str) -> Result<Option<Vec<u8>>, ImportError> {
        use std::io::{BufRead, Read, Write};
        let io = |e: std::io::Error| ImportError::Git(format!("git cat-file: {e}"));
        writeln!(self.stdin, "{commit}:{file}").map_err(io)?;
        self.stdin.flush().map_err(io)?;
        let mut header = String::new();
        self.stdout.read_line(&mut header).map_err(io)?;
        let parts: Vec<&str> = header.split_whitespace().collect();
        if parts.len() == 2 && parts[1] == "missing" {
            return Ok(None);
        }
        if parts.len() != 3 || parts[1] != "blob" {
            return Err(ImportError::Git(format!(
                "unexpected answer from git cat-file for {commit}:{file}: {}",
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
