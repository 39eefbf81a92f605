//! The `amenda` command line: exit statuses, one-sentence errors, summaries, and the
//! admin commands, against the backend chosen by AMENDA_TEST_DATABASE_URL.

use crate::common;

use std::process::{Command, Output};

fn amenda(store: &common::TestStore, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_amenda"))
        .arg("--data")
        .arg(store.data_dir())
        .arg("--database-url")
        .arg(store.database_url())
        .args(args)
        .output()
        .unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn import_summary_and_errors() {
    let store = common::test_store();
    let laws = concat!(env!("CARGO_MANIFEST_DIR"), "/laws");
    let out = amenda(&store, &["import", laws]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("version(s) added"));
    let again = amenda(&store, &["import", laws]);
    assert!(text(&again.stdout).contains("0 bill(s) created, 0 version(s) added"));

    let out = amenda(&store, &["import", "/nonexistent/laws"]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.starts_with("error: cannot read /nonexistent/laws"),
        "{err}"
    );
    assert_eq!(err.trim().lines().count(), 1, "one sentence: {err}");

    let out = amenda(
        &store,
        &["import-git", "/nonexistent/repo", "code.md", "--bill", "x"],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).starts_with("error: git:"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn admin_commands() {
    let store = common::test_store();
    let out = amenda(&store, &["admin", "list"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("no accounts yet"));
    // An account appears at its first sign-in.
    amenda::service::identity::demo_sign_in(
        &store,
        &amenda::service::identity::DEMO_PEOPLE[0],
        amenda::domain::identity::Level::LOW,
        "test",
    )
    .unwrap();
    let out = amenda(&store, &["admin", "grant", "demo:camille", "admin"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("admin granted to Camille Martin"));
    let out = amenda(&store, &["admin", "list"]);
    assert!(text(&out.stdout).contains("demo:camille\tCamille Martin\tadmin"));
    // The only admin cannot be revoked; unknown accounts and roles are clear errors.
    let out = amenda(&store, &["admin", "revoke", "demo:camille", "admin"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("without any admin"));
    let out = amenda(&store, &["admin", "grant", "demo:nobody", "staff"]);
    assert!(text(&out.stderr).contains("no account matches"));
    assert!(
        text(&out.stderr).contains("--new"),
        "the error says how to name someone ahead"
    );
    // Named ahead with --new: the account exists with its role, and the person's first
    // sign-in fills in their name.
    let out = amenda(
        &store,
        &["admin", "grant", "demo:yanis", "moderator", "--new"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    amenda::service::identity::demo_sign_in(
        &store,
        &amenda::service::identity::DEMO_PEOPLE[1],
        amenda::domain::identity::Level::LOW,
        "test",
    )
    .unwrap();
    let out = amenda(&store, &["admin", "list"]);
    assert!(
        text(&out.stdout).contains("demo:yanis\tYanis"),
        "{}",
        text(&out.stdout)
    );
    assert!(text(&out.stdout).contains("moderator"));
    let out = amenda(&store, &["admin", "grant", "demo:camille", "king"]);
    assert!(text(&out.stderr).contains("is not a role"));
    let mut conn = store.conn().unwrap();
    let audit = amenda::store::audit::latest(&mut conn, 10).unwrap();
    let grant = audit.iter().find(|e| e.action == "grant_role").unwrap();
    assert_eq!(
        grant.actor_id, None,
        "the command line acts as the operator"
    );
    assert!(grant.details.contains("\"via\":\"cli\""));
}

#[test]
fn a_bad_database_url_is_reported_without_fallback() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_amenda"))
        .arg("--data")
        .arg(dir.path())
        .args([
            "--database-url",
            "postgres://nobody@127.0.0.1:1/none",
            "migrate",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("cannot connect to PostgreSQL"), "{err}");
    assert!(
        !dir.path().join("amenda.sqlite3").exists(),
        "never falls back to SQLite"
    );
}

/// `amenda diff OLD NEW` (and `amenda-diff`): the changed units with their word diff and
/// the counts of articles, the same as comparing the versions unit by unit through the
/// library; no database or data folder; bad files get a one-sentence error naming them.
#[test]
fn diff_of_two_files_without_a_database() {
    use amenda::text::diff::{compare_versions, Status};
    use amenda::text::{assign_wids, parse, WidAllocator};
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("never-made");
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_amenda"))
            .arg("--data")
            .arg(&data)
            .arg("diff")
            .args(args)
            .output()
            .unwrap()
    };
    let root = env!("CARGO_MANIFEST_DIR");
    let (v1, v2) = (
        format!("{root}/laws/budget-participatif/v1.md"),
        format!("{root}/laws/budget-participatif/v2.md"),
    );
    let out = run(&[&v1, &v2]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let shown = text(&out.stdout);

    // The reference: parse, give wids, compare, one version after the other.
    let (old_md, new_md) = (
        std::fs::read_to_string(&v1).unwrap(),
        std::fs::read_to_string(&v2).unwrap(),
    );
    let mut alloc = WidAllocator::new(1);
    let mut old = parse(&old_md).units;
    assign_wids(None, &old_md, &mut old, &mut alloc);
    let mut new = parse(&new_md).units;
    assign_wids(Some((&old_md, &old)), &new_md, &mut new, &mut alloc);
    let diff = compare_versions(&old_md, &old, &new_md, &new);
    let s = diff.summary;
    assert!(
        s.modified + s.added + s.removed > 0,
        "the bill's v2 changes v1"
    );
    let last = shown.lines().last().unwrap();
    assert_eq!(
        last,
        format!(
            "articles: {} added, {} removed, {} modified, {} unchanged",
            s.added, s.removed, s.modified, s.unchanged
        )
    );
    let changed = diff
        .changes
        .iter()
        .filter(|c| c.status != Status::Unchanged)
        .count();
    assert_eq!(
        shown.matches("\n@@ ").count() + usize::from(shown.starts_with("@@ ")),
        changed
    );
    // Every changed paragraph's words are marked, and applying the marks gives the text.
    for c in diff.changes.iter().filter(|c| c.status == Status::Modified) {
        let Some(i) = c.new else { continue };
        let u = &new[i];
        if u.num.is_some() {
            continue;
        }
        let header = format!("@@ modified {} (", u.eid);
        let block = shown
            .split(&header)
            .nth(1)
            .expect("each modified paragraph shown");
        let line = block.lines().nth(1).unwrap();
        assert!(line.contains("[-") || line.contains("{+"), "{line}");
        let kept: String = strip_marks(line, true);
        assert_eq!(kept, u.text(&new_md), "insertions kept, deletions dropped");
        let was = &old[c.old.expect("a modified unit has an old one")];
        assert_eq!(
            strip_marks(line, false),
            was.text(&old_md),
            "and the other way"
        );
    }
    // `amenda-diff`, the program of its own: the same output.
    let own = Command::new(env!("CARGO_BIN_EXE_amenda-diff"))
        .args([&v1, &v2])
        .output()
        .unwrap();
    assert!(own.status.success());
    assert_eq!(text(&own.stdout), shown);
    let usage = Command::new(env!("CARGO_BIN_EXE_amenda-diff"))
        .arg(&v1)
        .output()
        .unwrap();
    assert_eq!(usage.status.code(), Some(2));
    assert!(text(&usage.stderr).contains("usage: amenda-diff"));

    // --stat: the counts only.
    let out = run(&["--stat", &v1, &v2]);
    assert_eq!(text(&out.stdout).trim_end(), last);
    assert!(!data.exists(), "no data folder made");

    // The same file twice: nothing changed.
    let out = run(&[&v1, &v1]);
    let same = text(&out.stdout);
    assert!(!same.contains("@@"), "{same}");

    // Bad input: one sentence naming the file, exit status 1.
    let bad = dir.path().join("latin1.md");
    std::fs::write(&bad, b"# Article 1\n\nD\xe9cret\n").unwrap();
    let out = run(&[&v1, bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("latin1.md") && err.contains("UTF-8"), "{err}");
    let out = run(&[&v1, "/nonexistent/v9.md"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("/nonexistent/v9.md"));
}

/// A line of `amenda diff` with its marks resolved: the new text (`new`) or the old one.
fn strip_marks(line: &str, new: bool) -> String {
    let mut out = String::new();
    let mut rest = line;
    while !rest.is_empty() {
        let del = rest.find("[-");
        let ins = rest.find("{+");
        let (at, open, close, keep) = match (del, ins) {
            (Some(d), Some(i)) if d < i => (d, "[-", "-]", !new),
            (Some(d), None) => (d, "[-", "-]", !new),
            (_, Some(i)) => (i, "{+", "+}", new),
            (None, None) => {
                out.push_str(rest);
                break;
            }
        };
        out.push_str(&rest[..at]);
        let inner = &rest[at + open.len()..];
        let end = inner.find(close).expect("closed mark");
        if keep {
            out.push_str(&inner[..end]);
        }
        rest = &inner[end + close.len()..];
    }
    out
}

#[test]
fn import_git_per_article_append_and_refusals_in_one_sentence() {
    let store = common::test_store();
    let repo = tempfile::tempdir().unwrap();
    let r = repo.path();
    let git = |args: &[&str]| {
        let st = Command::new("git")
            .arg("-C")
            .arg(r)
            .args(args)
            .env("GIT_AUTHOR_NAME", "Greffe")
            .env("GIT_AUTHOR_EMAIL", "greffe@example.org")
            .env("GIT_COMMITTER_NAME", "Greffe")
            .env("GIT_COMMITTER_EMAIL", "greffe@example.org")
            .env("GIT_AUTHOR_DATE", "2010-01-01T00:00:00+01:00")
            .env("GIT_COMMITTER_DATE", "2010-01-01T00:00:00+01:00")
            .status()
            .unwrap();
        assert!(st.success(), "git {args:?}");
    };
    git(&["init", "-q", "-b", "main"]);
    std::fs::create_dir_all(r.join("code/Titre Ier")).unwrap();
    std::fs::write(
        r.join("code/Titre Ier/Article 2.md"),
        "# Article 2\n\nDeux.\n",
    )
    .unwrap();
    std::fs::write(
        r.join("code/Titre Ier/Article 10.md"),
        "# Article 10\n\nDix.\n",
    )
    .unwrap();
    std::fs::write(r.join("code/README.md"), "Lisez-moi.\n").unwrap();
    git(&["add", "-A"]);
    git(&["commit", "-q", "-m", "v1"]);
    let path = r.display().to_string();
    let args = [
        "import-git",
        &path,
        "code",
        "--bill",
        "code",
        "--per-article",
    ];
    let out = amenda(&store, &args);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("1 version(s) added"), "{stdout}");
    let stderr = text(&out.stderr);
    assert!(stderr.contains("code/README.md"), "the warning: {stderr}");

    // One file of the same repository into that bill: refused in one sentence.
    std::fs::write(
        r.join("code/Titre Ier/Article 2.md"),
        "# Article 2\n\nDeux bis.\n",
    )
    .unwrap();
    git(&["commit", "-q", "-am", "v2"]);
    let one = [
        "import-git",
        &path,
        "code/Titre Ier/Article 2.md",
        "--bill",
        "code",
    ];
    let out = amenda(&store, &one);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.starts_with("error: bill \"code\" was imported from another file"),
        "{err}"
    );
    assert!(err.contains("--append"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "one sentence: {err}");
    // With --append it is taken.
    let out = amenda(&store, &[&one[..], &["--append"]].concat());
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("version(s) added"));
    // A bad date: one sentence.
    let out = amenda(&store, &[&args[..], &["--since", "hier"]].concat());
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("--since hier: not a date"),
        "{}",
        text(&out.stderr)
    );
}
