//! The `amenda` command line: exit statuses, one-sentence errors, summaries, and the
//! admin commands, against the backend chosen by AMENDA_TEST_DATABASE_URL.

mod common;

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
