//! Importing bills from laws/ folders and git histories, and refusing bad input without
//! touching the database.

use crate::common;
use amenda::domain::ids::VersionId;

use amenda::service::import::{
    import_folder, import_git, import_git_per_article, import_git_with, GitOptions, ImportError,
    ReimportError,
};
use amenda::service::Silent;
use amenda::store;
use std::path::{Path, PathBuf};
use std::process::Command;

fn laws() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("laws")
}

/// (bills, versions, units) in the database.
fn counts(s: &store::Store) -> (usize, usize, usize) {
    let mut conn = s.conn().unwrap();
    let bills = store::bills::list(&mut conn).unwrap();
    let mut versions = 0;
    let mut units = 0;
    for b in &bills {
        for v in store::versions::list_meta(&mut conn, b.bill.id).unwrap() {
            versions += 1;
            units += store::units::for_version(&mut conn, v.id).unwrap().len();
        }
    }
    (bills.len(), versions, units)
}

#[test]
fn laws_import_is_idempotent() {
    let s = common::test_store();
    let first = import_folder(&s, &laws(), &Silent).unwrap();
    assert!(first.bills_created >= 2);
    assert!(first.versions_added >= 6);
    let before = counts(&s);
    let again = import_folder(&s, &laws(), &Silent).unwrap();
    assert_eq!(again.bills_created, 0);
    assert_eq!(again.versions_added, 0);
    assert_eq!(again.versions_unchanged, first.versions_added);
    assert_eq!(counts(&s), before);
}

fn copy_bill(dst: &Path) {
    std::fs::create_dir_all(dst).unwrap();
    for f in ["bill.toml", "v1.md", "v2.md", "v3.md"] {
        std::fs::copy(laws().join("budget-participatif").join(f), dst.join(f)).unwrap();
    }
}

#[test]
fn bad_files_are_refused_and_nothing_is_written() {
    let s = common::test_store();
    let tmp = tempfile::tempdir().unwrap();
    // A good bill next to a bad one: neither is imported.
    copy_bill(&tmp.path().join("a-good-bill"));
    let bad = tmp.path().join("b-bad-bill");
    copy_bill(&bad);
    std::fs::write(
        bad.join("v2.md"),
        b"# Titre\n\n## Article 1er\n\nCaf\xe9 en Latin-1.\n",
    )
    .unwrap();
    let err = import_folder(&s, tmp.path(), &Silent).unwrap_err();
    assert!(matches!(err, ImportError::Input(_)), "{err}");
    assert!(err.to_string().contains("not valid UTF-8"), "{err}");
    assert!(err.to_string().contains("v2.md"), "{err}");
    assert_eq!(counts(&s), (0, 0, 0));

    // A 50 MB file.
    let big = vec![b'a'; 50 * 1024 * 1024];
    std::fs::write(bad.join("v2.md"), &big).unwrap();
    let err = import_folder(&s, tmp.path(), &Silent).unwrap_err();
    assert!(err.to_string().contains("more than the"), "{err}");
    assert_eq!(counts(&s), (0, 0, 0));

    // A missing version file, a broken manifest, a bad folder name, an empty folder.
    std::fs::remove_file(bad.join("v2.md")).unwrap();
    let err = import_folder(&s, tmp.path(), &Silent).unwrap_err();
    assert!(err.to_string().contains("cannot read"), "{err}");
    std::fs::remove_dir_all(&bad).unwrap();
    let worse = tmp.path().join("c-broken");
    copy_bill(&worse);
    std::fs::write(worse.join("bill.toml"), "title = \"x\"\n").unwrap();
    let err = import_folder(&s, tmp.path(), &Silent).unwrap_err();
    assert!(err.to_string().contains("bill.toml"), "{err}");
    assert_eq!(counts(&s), (0, 0, 0));
    let empty = tempfile::tempdir().unwrap();
    let err = import_folder(&s, empty.path(), &Silent).unwrap_err();
    assert!(err.to_string().contains("holds no bill"), "{err}");
}

#[test]
fn a_changed_version_file_is_refused() {
    let s = common::test_store();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("budget-participatif");
    copy_bill(&dir);
    import_folder(&s, tmp.path(), &Silent).unwrap();
    let before = counts(&s);
    let v1 = std::fs::read_to_string(dir.join("v1.md")).unwrap();
    std::fs::write(dir.join("v1.md"), v1.replace("Article 2", "Article 2 bis")).unwrap();
    let err = import_folder(&s, tmp.path(), &Silent).unwrap_err();
    assert!(err.to_string().contains("immutable"), "{err}");
    assert_eq!(counts(&s), before);
}

fn git(dir: &Path, args: &[&str]) {
    let st = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("GIT_AUTHOR_NAME", "Greffe")
        .env("GIT_AUTHOR_EMAIL", "greffe@example.org")
        .env("GIT_COMMITTER_NAME", "Greffe")
        .env("GIT_COMMITTER_EMAIL", "greffe@example.org")
        .status()
        .unwrap();
    assert!(st.success(), "git {args:?}");
}

fn commit(dir: &Path, file: &str, text: &str, date: &str, msg: &str) {
    std::fs::write(dir.join(file), text).unwrap();
    git(dir, &["add", "-A"]);
    let st = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["commit", "-q", "-m", msg])
        .env("GIT_AUTHOR_NAME", "Greffe")
        .env("GIT_AUTHOR_EMAIL", "greffe@example.org")
        .env("GIT_COMMITTER_NAME", "Greffe")
        .env("GIT_COMMITTER_EMAIL", "greffe@example.org")
        .env("GIT_AUTHOR_DATE", date)
        .env("GIT_COMMITTER_DATE", date)
        .status()
        .unwrap();
    assert!(st.success());
}

/// Imports `code.md` of branch `texte` of the test repository as bill `code-test`.
fn import_code(
    s: &store::Store,
    repo: &Path,
) -> Result<amenda::service::import::ImportSummary, ImportError> {
    import_git(
        s,
        &repo.display().to_string(),
        "code.md",
        "code-test",
        Some("texte"),
        None,
        &Silent,
    )
}

#[test]
fn git_history_imports_once_per_commit_and_incrementally() {
    let s = common::test_store();
    let repo = tempfile::tempdir().unwrap();
    let r = repo.path();
    git(r, &["init", "-q", "-b", "texte"]);
    commit(
        r,
        "README.md",
        "Dépôt\n",
        "2001-01-01T00:00:00+01:00",
        "Initial",
    );
    let v1 = "# Titre Ier\n\n## Article 1er\n\nLe délai est de trois mois.\n\n## Article 21\n\nPremier.\n\n## Article 21\n\nSecond, même numéro.\n";
    commit(
        r,
        "code.md",
        v1,
        "2002-02-02T00:00:00+01:00",
        "Version consolidée au 2 février 2002",
    );
    commit(
        r,
        "README.md",
        "Dépôt modifié\n",
        "2002-03-01T00:00:00+01:00",
        "Sans rapport",
    );
    let v2 = v1.replace("trois mois", "six mois");
    commit(
        r,
        "code.md",
        &v2,
        "2003-03-03T00:00:00+01:00",
        "Version consolidée au 3 mars 2003",
    );

    let sum = import_code(&s, r).unwrap();
    assert_eq!(sum.bills_created, 1);
    assert_eq!(
        sum.versions_added, 2,
        "one version per commit touching the file"
    );
    assert!(
        sum.warnings
            .iter()
            .any(|w| w.contains("duplicate article number")),
        "{:?}",
        sum.warnings
    );
    let mut conn = s.conn().unwrap();
    let bill = store::bills::by_slug(&mut conn, "code-test")
        .unwrap()
        .unwrap();
    assert_eq!(bill.meta.title, "Code");
    let versions = store::versions::list_meta(&mut conn, bill.id).unwrap();
    assert_eq!(versions[0].note, "Version consolidée au 2 février 2002");
    assert!(versions[0].date.starts_with("2002-02-02"));
    assert_eq!(versions[1].author, "Greffe");
    assert_eq!(versions[1].source_ref.as_deref().map(str::len), Some(40));
    // The two "Article 21" are two units with distinct ids.
    let units = store::units::for_version(&mut conn, versions[0].id).unwrap();
    let a21: Vec<_> = units
        .iter()
        .filter(|u| u.num.as_deref() == Some("21"))
        .collect();
    assert_eq!(a21.len(), 2);
    assert_ne!(a21[0].wid, a21[1].wid);
    assert_ne!(a21[0].eid, a21[1].eid);
    drop(conn);

    // Again: nothing new. Then one more commit: only it is added.
    let again = import_code(&s, r).unwrap();
    assert_eq!(again.versions_added, 0);
    assert_eq!(again.versions_unchanged, 2);
    commit(
        r,
        "code.md",
        &v2.replace("Premier.", "Premier, modifié."),
        "2004-04-04T00:00:00+01:00",
        "Version 3",
    );
    let more = import_code(&s, r).unwrap();
    assert_eq!(more.versions_added, 1);

    // A bundle works like a path.
    let bundle = r.join("../repo.bundle");
    git(
        r,
        &["bundle", "create", "-q", bundle.to_str().unwrap(), "--all"],
    );
    let s2 = common::test_store();
    let from_bundle = import_git(
        &s2,
        bundle.to_str().unwrap(),
        "code.md",
        "code-test",
        Some("texte"),
        Some("Code test"),
        &Silent,
    )
    .unwrap();
    assert_eq!(from_bundle.versions_added, 3);
    std::fs::remove_file(bundle).ok();
}

#[test]
fn git_errors_are_clear_and_write_nothing() {
    let s = common::test_store();
    let repo = tempfile::tempdir().unwrap();
    let r = repo.path();
    git(r, &["init", "-q", "-b", "main"]);
    commit(
        r,
        "README.md",
        "Rien\n",
        "2001-01-01T00:00:00+01:00",
        "Initial",
    );
    let path = r.display().to_string();
    let err = import_git(&s, &path, "code.md", "x", None, None, &Silent).unwrap_err();
    assert!(err.to_string().contains("touches \"code.md\""), "{err}");
    let err = import_git(&s, &path, "README.md", "x", Some("nope"), None, &Silent).unwrap_err();
    assert!(
        err.to_string().contains("branch \"nope\" not found"),
        "{err}"
    );
    let err = import_git(&s, "/nonexistent/repo", "a.md", "x", None, None, &Silent).unwrap_err();
    assert!(matches!(err, ImportError::Git(_)), "{err}");
    let err = import_git(&s, &path, "README.md", "Bad Slug", None, None, &Silent).unwrap_err();
    assert!(
        err.to_string().contains("not a valid bill identifier"),
        "{err}"
    );
    // A version that is not UTF-8 stops the whole import.
    commit(
        r,
        "code.md",
        "## Article 1\n\nBon.\n",
        "2002-01-01T00:00:00+01:00",
        "v1",
    );
    std::fs::write(r.join("code.md"), b"## Article 1\n\n\xff\xfe\n").unwrap();
    git(r, &["commit", "-q", "-am", "v2 cassée"]);
    let err = import_git(&s, &path, "code.md", "x", None, None, &Silent).unwrap_err();
    assert!(err.to_string().contains("not valid UTF-8"), "{err}");
    assert_eq!(counts(&s), (0, 0, 0));
}

/// Whether the checks and the index that a bulk import suspends on PostgreSQL are there
/// (`store::units::suspend_checks`): the index `version_units (revision_id)` (a unit's
/// history) on either backend, and on PostgreSQL the two foreign keys of `version_units`.
fn bulk_checks_present(s: &store::Store) -> bool {
    use diesel::prelude::*;
    #[derive(QueryableByName)]
    struct Found {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let mut conn = s.conn().unwrap();
    let (sql, want) = match conn.backend() {
        store::Backend::Sqlite => (
            "SELECT COUNT(*) AS n FROM sqlite_master \
             WHERE type = 'index' AND name = 'version_units_revision'",
            1,
        ),
        store::Backend::Postgres => (
            "SELECT (SELECT COUNT(*) FROM pg_indexes WHERE indexname = 'version_units_revision') \
             + (SELECT COUNT(*) FROM pg_constraint WHERE conrelid = 'version_units'::regclass \
                AND contype = 'f') AS n",
            3,
        ),
    };
    diesel::sql_query(sql)
        .get_result::<Found>(&mut *conn)
        .unwrap()
        .n
        == want
}

#[test]
fn a_long_history_imports_in_bulk_and_its_checks_survive_success_and_failure() {
    // On PostgreSQL an import of BULK_VERSIONS versions or more drops the foreign keys and
    // the history index of the units' placements and puts them back at its end; a failed
    // one must get them back too.
    let s = common::test_store();
    let repo = tempfile::tempdir().unwrap();
    let r = repo.path();
    git(r, &["init", "-q", "-b", "texte"]);
    let n = store::units::BULK_VERSIONS + 2;
    for i in 0..n {
        let text = format!(
            "# Titre Ier\n\n## Article 1er\n\nLe délai est de {} jours.\n\n## Article 2\n\nLe maire publie le budget.\n",
            i + 1
        );
        let date = format!("2001-01-01T00:00:{:02}+01:00", i % 60);
        commit(r, "code.md", &text, &date, &format!("v{}", i + 1));
    }
    let summary = import_code(&s, r).unwrap();
    assert_eq!(summary.versions_added, n);
    assert!(bulk_checks_present(&s));
    // On PostgreSQL (Debian's is built with lz4) the texts are compressed with lz4.
    if s.conn().unwrap().backend() == store::Backend::Postgres {
        use diesel::prelude::*;
        #[derive(QueryableByName)]
        struct Method {
            #[diesel(sql_type = diesel::sql_types::Text)]
            m: String,
        }
        let sql = "SELECT attcompression::text AS m FROM pg_attribute \
                   WHERE attrelid = 'versions'::regclass AND attname = 'markdown'";
        let got = diesel::sql_query(sql)
            .get_result::<Method>(&mut *s.conn().unwrap())
            .unwrap();
        assert_eq!(got.m, "l");
    }
    let bill = store::bills::by_slug(&mut s.conn().unwrap(), "code-test")
        .unwrap()
        .unwrap();
    // The wids were kept across the whole history (the same units, one text changed).
    let versions = store::versions::list_meta(&mut s.conn().unwrap(), bill.id).unwrap();
    assert_eq!(versions.len(), n);
    let units = |id| store::units::for_version(&mut s.conn().unwrap(), id).unwrap();
    let (a, b) = (units(versions[0].id), units(versions[n - 1].id));
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(x.wid, y.wid);
    }
    // Stored by reference: each version after the first adds two revisions, the
    // paragraph whose number changed and its article (a division's text is its heading).
    use diesel::prelude::*;
    let revisions: i64 = store::schema::unit_revisions::table
        .count()
        .get_result(&mut *s.conn().unwrap())
        .unwrap();
    assert_eq!(revisions as usize, a.len() + 2 * (n - 1));
    let before = counts(&s);

    // Another bulk history whose last version is not UTF-8: nothing written, index there.
    let repo2 = tempfile::tempdir().unwrap();
    let r2 = repo2.path();
    git(r2, &["init", "-q", "-b", "texte"]);
    for i in 0..n {
        let text = format!("## Article 1\n\nVersion {}.\n", i + 1);
        commit(r2, "code.md", &text, "2002-01-01T00:00:00+01:00", "v");
    }
    std::fs::write(r2.join("code.md"), b"## Article 1\n\n\xff\n").unwrap();
    git(r2, &["commit", "-q", "-am", "cassée"]);
    let path2 = r2.display().to_string();
    let err = import_git(&s, &path2, "code.md", "autre", None, None, &Silent).unwrap_err();
    assert!(err.to_string().contains("not valid UTF-8"), "{err}");
    assert_eq!(counts(&s), before);
    assert!(bulk_checks_present(&s));

    // Run again: nothing new, nothing dropped.
    let again = import_code(&s, r).unwrap();
    assert_eq!(again.versions_added, 0);
    assert!(bulk_checks_present(&s));
}

const A165: &str = "Livre Ier/Titre V/Article 165.md";
const A166: &str = "Livre Ier/Titre V/Article 166.md";

/// A repository of two article files: Article 166 written in 1975, Article 165 in 1975 (git has no dates before 1970)
/// and changed in 2013 (the history of the report).
fn two_articles_repo() -> tempfile::TempDir {
    let repo = tempfile::tempdir().unwrap();
    let r = repo.path();
    git(r, &["init", "-q", "-b", "main"]);
    std::fs::create_dir_all(r.join("Livre Ier/Titre V")).unwrap();
    commit(
        r,
        A166,
        "# Article 166\n\nLe mariage est célébré publiquement.\n",
        "1975-10-04T00:00:00+01:00",
        "Article 166",
    );
    commit(
        r,
        A165,
        "# Article 165\n\nLe mariage est célébré devant l'officier.\n",
        "1975-10-04T00:00:00+01:00",
        "Article 165",
    );
    commit(
        r,
        A165,
        "# Article 165\n\nLe mariage est célébré publiquement devant l'officier.\n",
        "2013-05-17T00:00:00+02:00",
        "Loi du 17 mai 2013",
    );
    repo
}

fn import_article(
    s: &store::Store,
    repo: &Path,
    file: &str,
    branch: Option<&str>,
    append: bool,
) -> Result<amenda::service::import::ImportSummary, ImportError> {
    let options = GitOptions {
        branch,
        append,
        ..GitOptions::default()
    };
    import_git_with(
        s,
        &repo.display().to_string(),
        file,
        "art165",
        &options,
        &Silent,
    )
}

#[test]
fn reimport_from_another_file_is_refused_and_writes_nothing() {
    let s = common::test_store();
    let repo = two_articles_repo();
    let first = import_article(&s, repo.path(), A165, None, false).unwrap();
    assert_eq!(first.versions_added, 2);
    let before = counts(&s);
    let err = import_article(&s, repo.path(), A166, None, false).unwrap_err();
    assert!(
        matches!(&err, ImportError::Reimport(e) if matches!(**e, ReimportError::OtherFile { .. })),
        "{err}"
    );
    let msg = err.to_string();
    // What was recorded, and the two ways on.
    assert!(msg.contains("Article 165.md"), "{msg}");
    assert!(msg.contains("Article 166.md"), "{msg}");
    assert!(msg.contains("--bill") && msg.contains("--append"), "{msg}");
    assert_eq!(counts(&s), before);

    // A bill that does not come from git is refused too.
    import_folder(&s, &laws(), &Silent).unwrap();
    let before = counts(&s);
    let err = import_git(
        &s,
        &repo.path().display().to_string(),
        A165,
        "budget-participatif",
        None,
        None,
        &Silent,
    )
    .unwrap_err();
    assert!(
        matches!(&err, ImportError::Reimport(e) if matches!(**e, ReimportError::NotFromGit { .. })),
        "{err}"
    );
    assert_eq!(counts(&s), before);
}

#[test]
fn reimport_from_another_repository_is_refused() {
    let s = common::test_store();
    let repo = two_articles_repo();
    import_article(&s, repo.path(), A165, None, false).unwrap();
    let before = counts(&s);
    // Another repository with a file of the same name, and a later text.
    let other = tempfile::tempdir().unwrap();
    let o = other.path();
    git(o, &["init", "-q", "-b", "main"]);
    std::fs::create_dir_all(o.join("Livre Ier/Titre V")).unwrap();
    commit(
        o,
        A165,
        "# Article 165\n\nUn autre texte.\n",
        "2020-01-01T00:00:00+01:00",
        "Autre dépôt",
    );
    let err = import_article(&s, o, A165, None, false).unwrap_err();
    assert!(
        matches!(
            &err,
            ImportError::Reimport(e) if matches!(**e, ReimportError::OtherRepository { .. })
        ),
        "{err}"
    );
    let msg = err.to_string();
    assert!(msg.contains("another repository"), "{msg}");
    assert!(
        msg.contains(&repo.path().display().to_string()),
        "the recorded source: {msg}"
    );
    assert_eq!(counts(&s), before);
}

#[test]
fn reimport_starting_before_the_last_version_is_refused() {
    let s = common::test_store();
    let repo = two_articles_repo();
    let r = repo.path();
    import_article(&s, r, A165, None, false).unwrap();
    let before = counts(&s);
    // A branch from the 1975 text of Article 165, changed in 1990: same file, same
    // repository, but its new commit is older than the bill's 2013 version.
    git(r, &["checkout", "-q", "-b", "ancienne", "HEAD~1"]);
    commit(
        r,
        A165,
        "# Article 165\n\nUne rédaction de 1990.\n",
        "1990-01-01T00:00:00+01:00",
        "Loi de 1990",
    );
    let err = import_article(&s, r, A165, Some("ancienne"), false).unwrap_err();
    assert!(
        matches!(
            &err,
            ImportError::Reimport(e) if matches!(**e, ReimportError::OlderCommit { .. })
        ),
        "{err}"
    );
    let msg = err.to_string();
    assert!(
        msg.contains("1990-01-01") && msg.contains("2013-05-17"),
        "{msg}"
    );
    assert_eq!(counts(&s), before);
}

#[test]
fn append_accepts_another_file_and_an_older_commit() {
    let s = common::test_store();
    let repo = two_articles_repo();
    let r = repo.path();
    import_article(&s, r, A165, None, false).unwrap();
    let sum = import_article(&s, r, A166, None, true).unwrap();
    assert_eq!(sum.versions_added, 1);
    let mut conn = s.conn().unwrap();
    let bill = store::bills::by_slug(&mut conn, "art165").unwrap().unwrap();
    let versions = store::versions::list_meta(&mut conn, bill.id).unwrap();
    assert_eq!(versions.len(), 3);
    assert!(versions[2].date.starts_with("1975"));
    drop(conn);
    // Now the bill follows Article 166: importing it again adds nothing and is not refused.
    let again = import_article(&s, r, A166, None, false).unwrap();
    assert_eq!(again.versions_added, 0);
    assert_eq!(again.versions_unchanged, 1);
}

#[test]
fn reimport_of_the_same_file_adds_only_new_commits_however_the_repository_is_spelled() {
    let s = common::test_store();
    let repo = two_articles_repo();
    let r = repo.path();
    import_article(&s, r, A165, None, false).unwrap();
    commit(
        r,
        A165,
        "# Article 165\n\nRédaction de 2020.\n",
        "2020-01-01T00:00:00+01:00",
        "2020",
    );
    // The same repository through another path ("…/./"): recognised by its commits.
    let spelled = r.join(".");
    let sum = import_article(&s, &spelled, A165, None, false).unwrap();
    assert_eq!(sum.versions_added, 1);
    assert_eq!(sum.versions_unchanged, 2);
    let again = import_article(&s, r, A165, None, false).unwrap();
    assert_eq!(again.versions_added, 0);
}

#[test]
fn a_setext_article_imports_as_an_article_and_a_version_without_any_is_warned() {
    let s = common::test_store();
    let repo = tempfile::tempdir().unwrap();
    let r = repo.path();
    git(r, &["init", "-q", "-b", "main"]);
    commit(
        r,
        "a.md",
        "Article 165\n-----------\n\nLe mariage est célébré.\n",
        "2001-01-01T00:00:00+01:00",
        "v1",
    );
    commit(
        r,
        "a.md",
        "Une note sans articles.\n",
        "2002-01-01T00:00:00+01:00",
        "v2",
    );
    let sum = import_git(
        &s,
        &r.display().to_string(),
        "a.md",
        "a",
        None,
        None,
        &Silent,
    )
    .unwrap();
    assert_eq!(sum.versions_added, 2);
    let mut conn = s.conn().unwrap();
    let bill = store::bills::by_slug(&mut conn, "a").unwrap().unwrap();
    let versions = store::versions::list_meta(&mut conn, bill.id).unwrap();
    let units = store::units::for_version(&mut conn, versions[0].id).unwrap();
    assert_eq!(units[0].num.as_deref(), Some("165"));
    assert!(
        versions[0].warnings.is_empty(),
        "{:?}",
        versions[0].warnings
    );
    // The warning is kept with the version and reported by the import.
    assert!(
        versions[1].warnings[0].contains("no article"),
        "{:?}",
        versions[1].warnings
    );
    assert_eq!(sum.warnings.len(), 1, "{:?}", sum.warnings);
    assert!(sum.warnings[0].starts_with("a version 2: line 1: no article"));
}

/// Writes (or, for None, deletes) files of the work tree, then commits them all.
fn commit_files(dir: &Path, files: &[(&str, Option<&str>)], date: &str, msg: &str) {
    for (path, text) in files {
        let p = dir.join(path);
        match text {
            Some(t) => {
                std::fs::create_dir_all(p.parent().unwrap()).unwrap();
                std::fs::write(&p, t).unwrap();
            }
            None => std::fs::remove_file(&p).unwrap(),
        }
    }
    commit(dir, ".keep", "", date, msg);
}

const BODY_10: &str = "Les dispositions du présent article s'appliquent aux communes de plus de trois mille habitants.";

/// A code kept one file per article under `code/`, in four commits (see the test).
fn per_article_repo() -> tempfile::TempDir {
    let repo = tempfile::tempdir().unwrap();
    let r = repo.path();
    git(r, &["init", "-q", "-b", "main"]);
    let a10 = format!("# Article 10\n\n{BODY_10}\n");
    commit_files(
        r,
        &[
            ("README.md", Some("# Le dépôt\n")),
            (
                "code/README.md",
                Some("# Code de test\n\nUn article par fichier.\n"),
            ),
            (
                "code/Livre Ier/Article 4.md",
                Some("# Article 4\n\nTexte de l'article 4.\n"),
            ),
            (
                "code/Livre Ier/Article 4 bis.md",
                Some("# Article 4 bis\n\nTexte inséré.\n"),
            ),
            (
                "code/Livre Ier/Titre Ier/Article 1er.md",
                Some("Article 1er\n===========\n\nPremier article.\n"),
            ),
            ("code/Livre Ier/Titre II/Article 10.md", Some(&a10)),
            (
                "code/Livre Ier/Titre II/Article 2.md",
                Some("## Article 2\n\nDeuxième article.\n"),
            ),
            (
                "code/Livre II/Article L111-10.md",
                Some("# Article L111-10\n\nDixième.\n"),
            ),
            (
                "code/Livre II/Article L111-2.md",
                Some("# Article L111-2\n\nDeuxième du livre.\n"),
            ),
            ("code/Livre II/image.png", Some("PNG")),
        ],
        "2001-01-01T00:00:00+01:00",
        "Version consolidée au 1er janvier 2001",
    );
    // Only the README: not a version.
    commit_files(
        r,
        &[("code/README.md", Some("# Code de test\n\nModifié.\n"))],
        "2002-01-01T00:00:00+01:00",
        "README",
    );
    // Article 2 moves to Livre II, Article 4 bis is deleted, Article 4 changes.
    std::fs::create_dir_all(r.join("code/Livre II")).unwrap();
    git(
        r,
        &[
            "mv",
            "code/Livre Ier/Titre II/Article 2.md",
            "code/Livre II/Article 2.md",
        ],
    );
    commit_files(
        r,
        &[
            ("code/Livre Ier/Article 4 bis.md", None),
            (
                "code/Livre Ier/Article 4.md",
                Some("# Article 4\n\nTexte modifié de l'article 4.\n"),
            ),
        ],
        "2003-01-01T00:00:00+01:00",
        "Version consolidée au 1er janvier 2003",
    );
    // Article 10 renamed (file and heading) to 10-1, same text.
    git(
        r,
        &[
            "mv",
            "code/Livre Ier/Titre II/Article 10.md",
            "code/Livre Ier/Titre II/Article 10-1.md",
        ],
    );
    commit_files(
        r,
        &[(
            "code/Livre Ier/Titre II/Article 10-1.md",
            Some(&format!("# Article 10-1\n\n{BODY_10}\n")),
        )],
        "2004-01-01T00:00:00+01:00",
        "Version consolidée au 1er janvier 2004",
    );
    repo
}

fn import_per_article(
    s: &store::Store,
    repo: &Path,
    options: &GitOptions<'_>,
) -> Result<amenda::service::import::ImportSummary, ImportError> {
    import_git_per_article(
        s,
        &repo.display().to_string(),
        "code",
        "code",
        options,
        &Silent,
    )
}

/// (number, wid) of the articles of a version, in order.
fn articles(s: &store::Store, version_id: VersionId) -> Vec<(String, String)> {
    store::units::for_version(&mut s.conn().unwrap(), version_id)
        .unwrap()
        .into_iter()
        .filter(|u| u.kind == amenda::text::UnitKind::Article)
        .map(|u| (u.num.unwrap(), u.wid))
        .collect()
}

#[test]
fn per_article_history_builds_one_text_per_commit_in_natural_order() {
    let s = common::test_store();
    let repo = per_article_repo();
    let sum = import_per_article(&s, repo.path(), &GitOptions::default()).unwrap();
    assert_eq!(
        sum.versions_added, 3,
        "the README-only commit is no version"
    );
    // README.md (no article heading) and image.png are left out, said once each.
    assert_eq!(sum.warnings.len(), 2, "{:?}", sum.warnings);
    assert!(sum
        .warnings
        .iter()
        .any(|w| w.contains("code/README.md") && w.contains("no article heading")));
    assert!(sum
        .warnings
        .iter()
        .any(|w| w.contains("image.png") && w.contains("not a .md file")));

    let mut conn = s.conn().unwrap();
    let bill = store::bills::by_slug(&mut conn, "code").unwrap().unwrap();
    let versions = store::versions::list_meta(&mut conn, bill.id).unwrap();
    assert_eq!(versions.len(), 3);
    assert_eq!(versions[0].note, "Version consolidée au 1er janvier 2001");
    assert!(versions[1].date.starts_with("2003-01-01"));
    assert_eq!(versions[2].author, "Greffe");
    assert_eq!(versions[0].source_ref.as_deref().map(str::len), Some(40));
    assert_eq!(
        store::versions::latest(&mut conn, bill.id)
            .unwrap()
            .unwrap()
            .meta
            .number,
        3
    );
    let v1_md = store::versions::by_number(&mut conn, bill.id, 1)
        .unwrap()
        .unwrap()
        .markdown;
    drop(conn);
    assert_eq!(
        v1_md,
        format!(
            "# Livre Ier\n\n## Article 4\n\nTexte de l'article 4.\n\n## Article 4 bis\n\nTexte inséré.\n\n\
             ## Titre Ier\n\n### Article 1er\n\nPremier article.\n\n\
             ## Titre II\n\n### Article 2\n\nDeuxième article.\n\n### Article 10\n\n{BODY_10}\n\n\
             # Livre II\n\n## Article L111-2\n\nDeuxième du livre.\n\n## Article L111-10\n\nDixième.\n"
        )
    );
    let a1 = articles(&s, versions[0].id);
    let a2 = articles(&s, versions[1].id);
    let a3 = articles(&s, versions[2].id);
    let nums = |a: &[(String, String)]| a.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
    assert_eq!(
        nums(&a1),
        ["4", "4 bis", "1er", "2", "10", "L111-2", "L111-10"]
    );
    // Deleted 4 bis; Article 2 moved into Livre II, before L111-2, keeping its wid.
    assert_eq!(nums(&a2), ["4", "1er", "10", "2", "L111-2", "L111-10"]);
    let wid = |a: &[(String, String)], n: &str| a.iter().find(|(x, _)| x == n).unwrap().1.clone();
    assert_eq!(wid(&a1, "2"), wid(&a2, "2"));
    assert_eq!(wid(&a1, "4"), wid(&a2, "4"));
    // Renamed 10 → 10-1 with the same text: the same article.
    assert_eq!(nums(&a3), ["4", "1er", "10-1", "2", "L111-2", "L111-10"]);
    assert_eq!(wid(&a2, "10"), wid(&a3, "10-1"));
}

#[test]
fn per_article_since_until_and_reimport() {
    let s = common::test_store();
    let repo = per_article_repo();
    let r = repo.path();
    let until = GitOptions {
        until: Some("2003-06-30"),
        ..GitOptions::default()
    };
    let sum = import_per_article(&s, r, &until).unwrap();
    assert_eq!(sum.versions_added, 2);
    // The rest of the history: the same folder, later commits, so not refused.
    let sum = import_per_article(&s, r, &GitOptions::default()).unwrap();
    assert_eq!(sum.versions_added, 1);
    assert_eq!(sum.versions_unchanged, 2);
    // Again, with the folder spelled `./code/`: the same folder, nothing new.
    let again = import_git_per_article(
        &s,
        &r.display().to_string(),
        "./code/",
        "code",
        &GitOptions::default(),
        &Silent,
    )
    .unwrap();
    assert_eq!(again.versions_added, 0);
    assert_eq!(again.versions_unchanged, 3);
    let before = counts(&s);
    // The same bill from a single file of the repository: another text, refused.
    commit_files(
        r,
        &[(
            "code/Livre Ier/Article 4.md",
            Some("# Article 4\n\nTexte de 2005.\n"),
        )],
        "2005-01-01T00:00:00+01:00",
        "2005",
    );
    let err = import_git(
        &s,
        &r.display().to_string(),
        "code/Livre Ier/Article 4.md",
        "code",
        None,
        None,
        &Silent,
    )
    .unwrap_err();
    assert!(
        matches!(&err, ImportError::Reimport(e) if matches!(**e, ReimportError::OtherFile { .. })),
        "{err}"
    );
    // Since and until are checked, and a range without commits is said so.
    let bad = GitOptions {
        since: Some("2003-13-01"),
        ..GitOptions::default()
    };
    let err = import_per_article(&s, r, &bad).unwrap_err();
    assert!(
        err.to_string().contains("--since 2003-13-01: not a date"),
        "{err}"
    );
    let late = GitOptions {
        since: Some("2030-01-01"),
        ..GitOptions::default()
    };
    let err = import_per_article(&s, r, &late).unwrap_err();
    assert!(err.to_string().contains("on or after 2030-01-01"), "{err}");
    let err = import_git_per_article(
        &s,
        &r.display().to_string(),
        "nulle-part",
        "x",
        &GitOptions::default(),
        &Silent,
    )
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("touches the folder \"nulle-part\""),
        "{err}"
    );
    assert_eq!(counts(&s), before);
    // --until on a single file too.
    let s2 = common::test_store();
    let sum = import_git_with(
        &s2,
        &r.display().to_string(),
        "code/Livre Ier/Article 4.md",
        "a4",
        &until,
        &Silent,
    )
    .unwrap();
    assert_eq!(sum.versions_added, 2);
}

#[test]
fn per_article_merges_count_by_what_they_bring() {
    let s = common::test_store();
    let repo = tempfile::tempdir().unwrap();
    let r = repo.path();
    git(r, &["init", "-q", "-b", "main"]);
    commit_files(
        r,
        &[("code/Article 1.md", Some("# Article 1\n\nUn.\n"))],
        "2001-01-01T00:00:00+01:00",
        "v1",
    );
    // A branch that changes only a file outside the folder, merged with a merge commit:
    // no version (git lists a merge's files only when asked to).
    git(r, &["checkout", "-q", "-b", "notes"]);
    commit_files(
        r,
        &[("NOTES.md", Some("Notes.\n"))],
        "2002-01-01T00:00:00+01:00",
        "notes",
    );
    git(r, &["checkout", "-q", "main"]);
    let st = Command::new("git")
        .arg("-C")
        .arg(r)
        .args(["merge", "-q", "--no-ff", "-m", "merge notes", "notes"])
        .env("GIT_AUTHOR_NAME", "Greffe")
        .env("GIT_AUTHOR_EMAIL", "greffe@example.org")
        .env("GIT_COMMITTER_NAME", "Greffe")
        .env("GIT_COMMITTER_EMAIL", "greffe@example.org")
        .env("GIT_AUTHOR_DATE", "2003-01-01T00:00:00+01:00")
        .env("GIT_COMMITTER_DATE", "2003-01-01T00:00:00+01:00")
        .status()
        .unwrap();
    assert!(st.success());
    let sum = import_per_article(&s, r, &GitOptions::default()).unwrap();
    assert_eq!(sum.versions_added, 1, "{sum:?}");
    // The whole repository (`.`): the merge brings NOTES.md, no article, so no version.
    let s2 = common::test_store();
    let path = r.display().to_string();
    let sum =
        import_git_per_article(&s2, &path, ".", "tout", &GitOptions::default(), &Silent).unwrap();
    assert_eq!(sum.versions_added, 1, "{sum:?}");
    assert!(
        sum.warnings.iter().any(|w| w.contains("NOTES.md")),
        "{sum:?}"
    );
    let mut conn = s2.conn().unwrap();
    let bill = store::bills::by_slug(&mut conn, "tout").unwrap().unwrap();
    let v = store::versions::latest(&mut conn, bill.id)
        .unwrap()
        .unwrap();
    assert_eq!(v.markdown, "# code\n\n## Article 1\n\nUn.\n");
}
