//! Per-article imports along a history whose files change in every way a tree can:
//! changed, deleted and added again, moved to another folder and to another depth, turned
//! into a file without an article and back, brought by a merge, next to a submodule; each
//! version's text is the folder's at its commit, however the import starts (the whole
//! history, `--since`, or after an earlier import).

use crate::common;
use amenda::service::import::{import_git_per_article, GitOptions};
use amenda::service::Silent;
use amenda::store;
use std::path::Path;
use std::process::Command;

/// Runs git in `dir` as the test's author, the commit dated `date`.
fn git(dir: &Path, date: &str, args: &[&str]) {
    let st = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("GIT_AUTHOR_NAME", "Greffe")
        .env("GIT_AUTHOR_EMAIL", "greffe@example.org")
        .env("GIT_COMMITTER_NAME", "Greffe")
        .env("GIT_COMMITTER_EMAIL", "greffe@example.org")
        .env("GIT_AUTHOR_DATE", date)
        .env("GIT_COMMITTER_DATE", date)
        .status()
        .unwrap();
    assert!(st.success(), "git {args:?}");
}

/// Writes (or, for None, deletes) files under `code/`, then commits everything.
fn commit(dir: &Path, files: &[(&str, Option<&str>)], date: &str) {
    for (path, text) in files {
        let p = dir.join("code").join(path);
        match text {
            Some(t) => {
                std::fs::create_dir_all(p.parent().unwrap()).unwrap();
                std::fs::write(&p, t).unwrap();
            }
            None => std::fs::remove_file(&p).unwrap(),
        }
    }
    git(dir, date, &["add", "-A"]);
    git(dir, date, &["commit", "-q", "--allow-empty", "-m", date]);
}

const A1: &str = "# Article 1\n\nUn.\n";
const A1B: &str = "# Article 1\n\nUn, modifié.\n";
const A2: &str = "# Article 2\n\nDeux.\n";
const A2B: &str = "# Article 2\n\nDeux, modifié.\n";
const A3: &str = "# Article 3\n\nTrois.\n";
const A3BIS: &str = "# Article 3 bis\n\nTrois bis.\n";

/// The repository (see the comments) and each first-parent commit's text, in order.
fn repo() -> (tempfile::TempDir, Vec<String>) {
    let repo = tempfile::tempdir().unwrap();
    let r = repo.path();
    git(r, "2001-01-01T00:00:00Z", &["init", "-q", "-b", "main"]);
    // A submodule (a commit in the tree, not a file): neither read nor warned about.
    git(
        r,
        "2001-01-01T00:00:00Z",
        &[
            "update-index",
            "--add",
            "--cacheinfo",
            "160000,1111111111111111111111111111111111111111,code/module",
        ],
    );
    commit(
        r,
        &[
            ("Article 1.md", Some(A1)),
            ("Article 2.md", Some(A2)),
            ("Titre Ier/Article 3.md", Some(A3)),
        ],
        "2001-01-01T00:00:00Z",
    );
    let mut texts = vec![
        "# Article 1\n\nUn.\n\n# Article 2\n\nDeux.\n\n# Titre Ier\n\n## Article 3\n\nTrois.\n"
            .to_string(),
    ];
    // A branch changes Article 2 and adds Article 3 bis; main changes Article 1; the
    // merge brings the branch's changes (its own commit is no version: not first-parent).
    git(
        r,
        "2002-01-01T00:00:00Z",
        &["checkout", "-q", "-b", "branche"],
    );
    commit(
        r,
        &[
            ("Article 2.md", Some(A2B)),
            ("Titre Ier/Article 3 bis.md", Some(A3BIS)),
        ],
        "2002-02-01T00:00:00Z",
    );
    git(r, "2002-01-01T00:00:00Z", &["checkout", "-q", "main"]);
    commit(r, &[("Article 1.md", Some(A1B))], "2002-01-01T00:00:00Z");
    texts.push(
        "# Article 1\n\nUn, modifié.\n\n# Article 2\n\nDeux.\n\n# Titre Ier\n\n## Article 3\n\nTrois.\n"
            .to_string(),
    );
    git(
        r,
        "2002-03-01T00:00:00Z",
        &["merge", "-q", "--no-ff", "-m", "fusion", "branche"],
    );
    texts.push(
        "# Article 1\n\nUn, modifié.\n\n# Article 2\n\nDeux, modifié.\n\n# Titre Ier\n\n\
         ## Article 3\n\nTrois.\n\n## Article 3 bis\n\nTrois bis.\n"
            .to_string(),
    );
    // Article 2 without its heading: left out (warned once), then back as it first was.
    commit(
        r,
        &[("Article 2.md", Some("Notes sur l'article 2.\n"))],
        "2003-01-01T00:00:00Z",
    );
    texts.push(
        "# Article 1\n\nUn, modifié.\n\n# Titre Ier\n\n## Article 3\n\nTrois.\n\n\
         ## Article 3 bis\n\nTrois bis.\n"
            .to_string(),
    );
    commit(r, &[("Article 2.md", Some(A2))], "2004-01-01T00:00:00Z");
    let at_2004 = "# Article 1\n\nUn, modifié.\n\n# Article 2\n\nDeux.\n\n# Titre Ier\n\n\
                   ## Article 3\n\nTrois.\n\n## Article 3 bis\n\nTrois bis.\n";
    texts.push(at_2004.to_string());
    // Article 1 deleted, then added again with its first text.
    commit(r, &[("Article 1.md", None)], "2005-01-01T00:00:00Z");
    texts.push(
        "# Article 2\n\nDeux.\n\n# Titre Ier\n\n## Article 3\n\nTrois.\n\n\
         ## Article 3 bis\n\nTrois bis.\n"
            .to_string(),
    );
    commit(r, &[("Article 1.md", Some(A1))], "2006-01-01T00:00:00Z");
    texts.push(
        "# Article 1\n\nUn.\n\n# Article 2\n\nDeux.\n\n# Titre Ier\n\n\
         ## Article 3\n\nTrois.\n\n## Article 3 bis\n\nTrois bis.\n"
            .to_string(),
    );
    // The same contents moved: Article 3 one folder up (its heading one level up),
    // Article 3 bis to another folder at the same depth; Titre Ier is left empty.
    commit(
        r,
        &[
            ("Titre Ier/Article 3.md", None),
            ("Article 3.md", Some(A3)),
            ("Titre Ier/Article 3 bis.md", None),
            ("Titre II/Article 3 bis.md", Some(A3BIS)),
        ],
        "2007-01-01T00:00:00Z",
    );
    texts.push(
        "# Article 1\n\nUn.\n\n# Article 2\n\nDeux.\n\n# Article 3\n\nTrois.\n\n\
         # Titre II\n\n## Article 3 bis\n\nTrois bis.\n"
            .to_string(),
    );
    (repo, texts)
}

fn import(
    s: &store::Store,
    repo: &Path,
    options: &GitOptions<'_>,
) -> amenda::service::import::ImportSummary {
    import_git_per_article(
        s,
        &repo.display().to_string(),
        "code",
        "code",
        options,
        &Silent,
    )
    .unwrap()
}

/// The texts of the bill's versions, oldest first.
fn texts(s: &store::Store) -> Vec<String> {
    let mut conn = s.conn().unwrap();
    let bill = store::bills::by_slug(&mut conn, "code").unwrap().unwrap();
    let n = store::versions::list_meta(&mut conn, bill.id)
        .unwrap()
        .len();
    (1..=n as i32)
        .map(|i| {
            store::versions::by_number(&mut conn, bill.id, i)
                .unwrap()
                .unwrap()
                .markdown
        })
        .collect()
}

#[test]
fn per_article_import_texts_follow_every_change_of_the_tree() {
    let (repo, expected) = repo();
    let s = common::test_store();
    let sum = import(&s, repo.path(), &GitOptions::default());
    assert_eq!(sum.versions_added, expected.len(), "{sum:?}");
    assert_eq!(texts(&s), expected);
    // Said once, at the commit where Article 2 lost its heading; the submodule is silent.
    assert_eq!(sum.warnings.len(), 1, "{:?}", sum.warnings);
    assert!(
        sum.warnings[0].contains("\"code/Article 2.md\"")
            && sum.warnings[0].contains("no article heading"),
        "{:?}",
        sum.warnings
    );
}

#[test]
fn per_article_import_from_the_middle_of_a_history_has_the_same_texts() {
    let (repo, expected) = repo();
    // From 2004: the first version is the whole tree at that commit, changes before
    // it included.
    let s = common::test_store();
    let since = GitOptions {
        since: Some("2004-01-01"),
        ..GitOptions::default()
    };
    let sum = import(&s, repo.path(), &since);
    assert_eq!(sum.versions_added, 4, "{sum:?}");
    assert_eq!(texts(&s), expected[4..]);
    assert!(sum.warnings.is_empty(), "{:?}", sum.warnings);
    // Until 2003, then the rest: the versions of one import of the whole history.
    let s = common::test_store();
    let until = GitOptions {
        until: Some("2003-06-30"),
        ..GitOptions::default()
    };
    assert_eq!(import(&s, repo.path(), &until).versions_added, 4);
    let rest = import(&s, repo.path(), &GitOptions::default());
    assert_eq!(rest.versions_added, 4, "{rest:?}");
    assert_eq!(rest.versions_unchanged, 4, "{rest:?}");
    assert_eq!(texts(&s), expected);
}
