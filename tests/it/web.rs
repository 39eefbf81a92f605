//! The web pages and the JSON API through Rocket's local client, on the backend chosen by
//! AMENDA_TEST_DATABASE_URL (SQLite by default), with the bills of laws/.

use crate::common;

use amenda::service::import::import_folder;
use amenda::service::Silent;
use amenda::text::diff::{apply_ops, own_text, DiffOp, DiffTag};
use amenda::web::{build, test_figment, App, WebConfig};
use rocket::http::{ContentType, Header, Status};
use rocket::local::blocking::Client;
use serde_json::Value;
use std::path::Path;

fn client() -> (Client, common::TestStore) {
    let store = common::test_store();
    import_folder(
        &store,
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("laws"),
        &Silent,
    )
    .expect("laws/ imports");
    let app = App::new((*store).clone(), WebConfig::default()).expect("templates load");
    let client = Client::tracked(build(test_figment(), app)).expect("valid rocket");
    (client, store)
}

fn get(client: &Client, uri: &str, lang: &str) -> (Status, String) {
    let res = client
        .get(uri.to_string())
        .header(Header::new("Accept-Language", lang.to_string()))
        .dispatch();
    let status = res.status();
    (status, res.into_string().unwrap_or_default())
}

fn json(client: &Client, uri: &str) -> (Status, Value) {
    let res = client.get(uri.to_string()).dispatch();
    let status = res.status();
    assert_eq!(res.content_type(), Some(ContentType::JSON), "{uri}");
    (
        status,
        serde_json::from_str(&res.into_string().unwrap()).unwrap(),
    )
}

#[test]
fn home_lists_bills_in_both_languages() {
    let (c, _s) = client();
    let (status, fr) = get(&c, "/", "fr-FR,fr;q=0.9");
    assert_eq!(status, Status::Ok);
    assert!(fr.contains("<html lang=\"fr\">"));
    assert!(fr.contains("Textes en consultation"));
    assert!(fr.contains("href=\"/bills/budget-participatif\""));
    assert!(fr.contains("href=\"/bills/open-council-records\""));
    let (_, en) = get(&c, "/", "en-GB,en;q=0.9");
    assert!(en.contains("<html lang=\"en\">"));
    assert!(en.contains("Texts open for consultation"));
    // The switch sets a cookie that wins over Accept-Language, and only goes to local paths.
    let res = c.get("/lang/en?next=/bills/budget-participatif").dispatch();
    assert_eq!(res.status(), Status::SeeOther);
    assert_eq!(
        res.headers().get_one("Location"),
        Some("/bills/budget-participatif")
    );
    let (_, page) = get(&c, "/", "fr");
    assert!(page.contains("<html lang=\"en\">"), "the cookie decides");
    let res = c.get("/lang/fr?next=//evil.example/").dispatch();
    assert_eq!(res.headers().get_one("Location"), Some("/"));
    // What no redirect can carry, or a browser would read as another site, goes to `/`,
    // never to a 500.
    for next in [
        "/%09/x",
        "/%0d%0aSet-Cookie:%20a=b",
        "/x%00",
        "/%E3%80%80/x",
        "/a%20b",
    ] {
        let res = c.get(format!("/lang/fr?next={next}")).dispatch();
        assert_eq!(res.status(), Status::SeeOther, "{next}");
        assert_eq!(res.headers().get_one("Location"), Some("/"), "{next}");
    }
    assert_eq!(c.get("/lang/de").dispatch().status(), Status::NotFound);
}

#[test]
fn security_headers_on_every_response() {
    let (c, _s) = client();
    for uri in ["/", "/bills/nope", "/api/v1/bills", "/static/amenda.css"] {
        let res = c.get(uri).dispatch();
        let h = res.headers();
        let csp = h.get_one("Content-Security-Policy").unwrap_or_default();
        assert!(
            csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"),
            "{uri}"
        );
        assert_eq!(
            h.get_one("X-Content-Type-Options"),
            Some("nosniff"),
            "{uri}"
        );
        assert!(h.get_one("Referrer-Policy").is_some(), "{uri}");
    }
    let res = c.get("/static/amenda.css").dispatch();
    assert_eq!(res.content_type(), Some(ContentType::CSS));
}

#[test]
fn bill_page_has_toc_anchors_and_article_links() {
    let (c, _s) = client();
    let (status, html) = get(&c, "/bills/budget-participatif", "fr");
    assert_eq!(status, Status::Ok);
    assert!(html.contains("<nav id=\"toc\""));
    assert!(html.contains("href=\"#art_1er\""));
    assert!(html.contains("id=\"art_1er\""));
    assert!(html.contains("class=\"article-link\" href=\"/bills/budget-participatif/articles/a"));
    assert!(html.contains("id=\"art_1er__para_1\""));
    assert!(html.contains("Version 3"));
    // An older version says so.
    let (status, old) = get(&c, "/bills/budget-participatif?v=1", "fr");
    assert_eq!(status, Status::Ok);
    assert!(old.contains("version antérieure"));
    // The raw markdown of a version.
    let res = c.get("/bills/budget-participatif/versions/1.md").dispatch();
    assert_eq!(res.status(), Status::Ok);
    assert!(res.into_string().unwrap().contains("### Article 1er"));
}

#[test]
fn article_page_and_permalinks() {
    let (c, _s) = client();
    let (_, v3) = json(&c, "/api/v1/bills/budget-participatif/versions/3");
    let units = v3["units"].as_array().unwrap();
    let art = units.iter().find(|u| u["eid"] == "art_2").unwrap();
    let wid = art["wid"].as_str().unwrap();
    let (status, html) = get(
        &c,
        &format!("/bills/budget-participatif/articles/{wid}"),
        "fr",
    );
    assert_eq!(status, Status::Ok);
    assert!(html.contains("<h1 lang=\"fr\">Article 2</h1>"));
    assert!(html.contains("class=\"para-link\" href=\"#art_2__para_1\""));
    assert!(
        html.contains("Historique de l&#x27;article") || html.contains("Historique de l'article")
    );
    // A paragraph's permanent link leads to its article, at its anchor.
    let para = units.iter().find(|u| u["eid"] == "art_2__para_1").unwrap();
    let res = c
        .get(format!(
            "/bills/budget-participatif/units/{}",
            para["wid"].as_str().unwrap()
        ))
        .dispatch();
    assert_eq!(res.status(), Status::SeeOther);
    assert_eq!(
        res.headers().get_one("Location").unwrap(),
        format!("/bills/budget-participatif/articles/{wid}?v=3#art_2__para_1")
    );
    // An article removed in version 2 is still readable, with a notice.
    let (_, v1) = json(&c, "/api/v1/bills/budget-participatif/versions/1");
    let v3_wids: Vec<&str> = units.iter().map(|u| u["wid"].as_str().unwrap()).collect();
    let gone = v1["units"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["kind"] == "article" && !v3_wids.contains(&u["wid"].as_str().unwrap()))
        .expect("an article of version 1 was removed");
    let (status, html) = get(
        &c,
        &format!(
            "/bills/budget-participatif/articles/{}",
            gone["wid"].as_str().unwrap()
        ),
        "en",
    );
    assert_eq!(status, Status::Ok);
    assert!(html.contains("was removed in version 2"), "{html}");
    let (status, _) = get(&c, "/bills/budget-participatif/articles/zzz", "en");
    assert_eq!(status, Status::NotFound);
}

#[test]
fn versions_page_has_the_compare_form() {
    let (c, _s) = client();
    let (status, html) = get(&c, "/bills/open-council-records/versions", "en");
    assert_eq!(status, Status::Ok);
    assert!(html.contains("<form id=\"compare\""));
    assert!(html.contains("name=\"from\"") && html.contains("name=\"to\""));
    assert!(html.contains("value=\"columns\""));
    assert_eq!(html.matches("<tr><td>").count(), 3, "one row per version");
}

#[test]
fn diff_pages_inline_columns_and_changed_only() {
    let (c, _s) = client();
    let (status, inline) = get(&c, "/bills/budget-participatif/diff?from=1&to=2", "fr");
    assert_eq!(status, Status::Ok);
    assert!(inline.contains("id=\"diff-summary\""));
    assert!(inline.contains("<del>") && inline.contains("<ins>"));
    let (_, api) = json(&c, "/api/v1/bills/budget-participatif/diff?from=1&to=2");
    let s = &api["summary"];
    for key in ["added", "removed", "modified", "unchanged"] {
        let n = s[key].as_u64().unwrap();
        assert!(
            inline.contains(&format!("<span class=\"badge {key}\">{n}</span>")),
            "{key}"
        );
    }
    let (_, cols) = get(
        &c,
        "/bills/budget-participatif/diff?from=1&to=2&mode=columns",
        "fr",
    );
    assert!(cols.contains("class=\"diff-columns\""));
    assert!(cols.contains("class=\"old\"") && cols.contains("class=\"new\""));
    // Only what changed: unchanged articles disappear, so the page is shorter.
    let (_, changed) = get(
        &c,
        "/bills/budget-participatif/diff?from=1&to=2&changed=1",
        "fr",
    );
    assert!(changed.len() < inline.len());
    assert!(changed.contains("<del>") || changed.contains("<ins>"));
    let unchanged_heading = "class=\"article-heading st-unchanged\"";
    assert!(inline.contains(unchanged_heading));
    assert!(!changed.contains(unchanged_heading));
    // Same version twice: nothing changed, said so.
    let (_, same) = get(
        &c,
        "/bills/budget-participatif/diff?from=2&to=2&changed=1",
        "en",
    );
    assert!(same.contains("These two versions are identical."));
}

#[test]
fn bad_requests_get_clear_errors_in_the_users_language() {
    let (c, _s) = client();
    let (status, html) = get(&c, "/bills/no-such-bill", "fr");
    assert_eq!(status, Status::NotFound);
    assert!(
        html.contains("Aucun texte ne porte l&#x27;identifiant")
            || html.contains("Aucun texte ne porte l'identifiant"),
        "{html}"
    );
    let (status, html) = get(&c, "/bills/no-such-bill", "en");
    assert_eq!(status, Status::NotFound);
    assert!(html.contains("No text has the identifier"));
    let (status, html) = get(&c, "/bills/budget-participatif?v=9", "en");
    assert_eq!(status, Status::NotFound);
    assert!(html.contains("has no version 9"));
    let (status, html) = get(&c, "/bills/budget-participatif?v=abc", "en");
    assert_eq!(status, Status::BadRequest);
    assert!(html.contains("is not a version"));
    let (status, html) = get(
        &c,
        "/bills/budget-participatif/diff?from=open-council-records@1&to=2",
        "en",
    );
    assert_eq!(status, Status::BadRequest);
    assert!(html.contains("Only two versions of the same text can be compared"));
    let (status, html) = get(&c, "/no/such/page", "fr");
    assert_eq!(status, Status::NotFound);
    assert!(html.contains("Page introuvable"));
    // The API answers in JSON with {error, message}.
    let (status, body) = json(&c, "/api/v1/bills/no-such-bill");
    assert_eq!(status, Status::NotFound);
    assert_eq!(body["error"], "not_found");
    assert!(body["message"].as_str().unwrap().contains("no-such-bill"));
    let (status, body) = json(
        &c,
        "/api/v1/bills/budget-participatif/diff?from=open-council-records@1&to=2",
    );
    assert_eq!(status, Status::BadRequest);
    assert_eq!(body["error"], "cross_bill");
    let (status, body) = json(&c, "/api/v1/bills/budget-participatif/versions/0");
    assert_eq!(status, Status::BadRequest);
    assert_eq!(body["error"], "bad_version");
    let (status, body) = json(&c, "/api/v1/nothing/here");
    assert_eq!(status, Status::NotFound);
    assert_eq!(body["error"], "not_found");
}

#[test]
fn api_read_side() {
    let (c, _s) = client();
    let (status, bills) = json(&c, "/api/v1/bills");
    assert_eq!(status, Status::Ok);
    let list = bills.as_array().unwrap();
    assert!(list.len() >= 2);
    assert!(list.iter().all(|b| b["versions"].as_u64().unwrap() >= 3));
    let (_, bill) = json(&c, "/api/v1/bills/open-council-records");
    let versions = bill["versions"].as_array().unwrap();
    assert_eq!(versions[0]["number"], 1);
    assert_eq!(versions[0]["sha256"].as_str().unwrap().len(), 64);
    let (_, v1) = json(&c, "/api/v1/bills/open-council-records/versions/1");
    let md = v1["markdown"].as_str().unwrap();
    for u in v1["units"].as_array().unwrap() {
        let (s, e) = (
            u["start"].as_u64().unwrap() as usize,
            u["end"].as_u64().unwrap() as usize,
        );
        assert_eq!(
            amenda::text::hash::sha256_hex(&md.as_bytes()[s..e]),
            u["sha256"].as_str().unwrap()
        );
    }
    let (_, me) = json(&c, "/api/v1/me");
    assert_eq!(me["signed_in"], false);
    assert_eq!(me["level"], 0);
}

/// Applying the word operations the API gives for each unit to the old text of the unit
/// gives its new text exactly.
#[test]
fn api_diff_operations_apply() {
    let (c, _s) = client();
    for slug in ["budget-participatif", "open-council-records"] {
        let (_, a) = json(&c, &format!("/api/v1/bills/{slug}/versions/1"));
        let (_, b) = json(&c, &format!("/api/v1/bills/{slug}/versions/3"));
        let parse = |v: &Value| {
            let md = v["markdown"].as_str().unwrap().to_string();
            let p = amenda::text::parse(&md);
            (md, p.units)
        };
        let ((amd, au), (bmd, bu)) = (parse(&a), parse(&b));
        let (_, d) = json(
            &c,
            &format!("/api/v1/bills/{slug}/diff?from=1&to=3&changed=true"),
        );
        let units = d["units"].as_array().unwrap();
        assert!(!units.is_empty());
        for u in units {
            let ops: Vec<DiffOp> = u["ops"]
                .as_array()
                .unwrap()
                .iter()
                .map(|o| DiffOp {
                    tag: match o[0].as_str().unwrap() {
                        "=" => DiffTag::Equal,
                        "-" => DiffTag::Delete,
                        _ => DiffTag::Insert,
                    },
                    text: o[1].as_str().unwrap().to_string(),
                })
                .collect();
            let old = u["old_eid"]
                .as_str()
                .map(|e| au.iter().find(|x| x.eid == e).unwrap());
            let new = u["new_eid"]
                .as_str()
                .map(|e| bu.iter().find(|x| x.eid == e).unwrap());
            let old_text = old.map(|x| own_text(&amd, x)).unwrap_or("");
            let new_text = new.map(|x| own_text(&bmd, x)).unwrap_or("");
            assert_eq!(apply_ops(old_text, &ops).unwrap(), new_text, "{u}");
        }
    }
}

/// Pages of immutable versions carry an ETag; a matching If-None-Match gets 304, and the
/// tag changes with the language and when the bill gets a new version.
#[test]
fn etags_and_not_modified() {
    let (c, store) = client();
    let res = c
        .get("/bills/open-council-records")
        .header(Header::new("Accept-Language", "en"))
        .dispatch();
    assert_eq!(res.status(), Status::Ok);
    let etag = res.headers().get_one("ETag").unwrap().to_string();
    assert!(
        res.headers().get_one("Set-Cookie").is_none(),
        "an anonymous, shareable page sets no cookie"
    );
    assert_eq!(res.headers().get_one("Cache-Control"), Some("no-cache"));
    let body = res.into_string().unwrap();
    let again = c
        .get("/bills/open-council-records")
        .header(Header::new("Accept-Language", "en"))
        .header(Header::new("If-None-Match", etag.clone()))
        .dispatch();
    assert_eq!(again.status(), Status::NotModified);
    assert!(again.into_string().unwrap_or_default().is_empty());
    let fr = c
        .get("/bills/open-council-records")
        .header(Header::new("Accept-Language", "fr"))
        .header(Header::new("If-None-Match", etag.clone()))
        .dispatch();
    assert_eq!(fr.status(), Status::Ok, "another language, another page");
    // A cached page is the same page.
    let cached = c
        .get("/bills/open-council-records")
        .header(Header::new("Accept-Language", "en"))
        .dispatch();
    assert_eq!(cached.into_string().unwrap(), body);

    // A new version changes the tag of every page of the bill.
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("open-council-records");
    std::fs::create_dir_all(&dir).unwrap();
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("laws/open-council-records");
    for f in ["v1.md", "v2.md", "v3.md"] {
        std::fs::copy(src.join(f), dir.join(f)).unwrap();
    }
    let v3 = std::fs::read_to_string(src.join("v3.md")).unwrap();
    std::fs::write(
        dir.join("v4.md"),
        format!("{v3}\n### Article 99\n\nThis By-law may be cited as the Open Records By-law.\n"),
    )
    .unwrap();
    let manifest = std::fs::read_to_string(src.join("bill.toml")).unwrap();
    std::fs::write(
        dir.join("bill.toml"),
        format!("{manifest}\n[[versions]]\nfile = \"v4.md\"\ndate = \"2026-04-01\"\nauthor = \"City Council\"\nnote = \"Citation article\"\n"),
    )
    .unwrap();
    let sum = import_folder(&store, tmp.path(), &Silent).unwrap();
    assert_eq!(sum.versions_added, 1);
    let after = c
        .get("/bills/open-council-records")
        .header(Header::new("Accept-Language", "en"))
        .header(Header::new("If-None-Match", etag.clone()))
        .dispatch();
    assert_eq!(after.status(), Status::Ok);
    assert_ne!(after.headers().get_one("ETag").unwrap(), etag);
    assert!(after.into_string().unwrap().contains("Article 99"));
}

/// Issue 18: a page that depends on who asks is never stored by a cache; a site reached
/// over TLS (`public_url` https) answers with HSTS and sends every cookie (session,
/// CSRF, language) `Secure` without the `--secure-cookies` flag; a plain-HTTP one does
/// neither (the browser would drop `Secure` cookies there).
#[test]
fn personal_pages_are_never_stored_and_an_https_site_gets_hsts_and_secure_cookies() {
    for (public_url, https) in [
        ("http://127.0.0.1:8000", false),
        ("https://consultation.example.org", true),
    ] {
        let store = common::test_store();
        import_folder(
            &store,
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("laws"),
            &Silent,
        )
        .unwrap();
        let c = common::web::demo_client(
            &store,
            WebConfig {
                public_url: public_url.into(),
                ..Default::default()
            },
        );
        let cookies = |res: &rocket::local::blocking::LocalResponse<'_>| -> Vec<String> {
            res.headers()
                .get("Set-Cookie")
                .map(str::to_string)
                .collect()
        };
        let lang = c.get("/lang/fr?next=/").dispatch();
        let mut set = cookies(&lang);
        assert!(set.iter().any(|c| c.starts_with("lang=")), "{set:?}");
        let t = common::web::csrf(&c);
        let signin = c
            .post("/signin/demo")
            .header(ContentType::Form)
            .body(format!("csrf={t}&person=admin&level=1&next=/"))
            .dispatch();
        assert_eq!(signin.status(), Status::SeeOther);
        let at_sign_in = cookies(&signin);
        assert!(
            at_sign_in.len() >= 2,
            "session and a new CSRF token: {at_sign_in:?}"
        );
        set.extend(at_sign_in);
        for cookie in &set {
            assert_eq!(cookie.contains("; Secure"), https, "{public_url}: {cookie}");
        }
        let home = c.get("/").dispatch();
        assert_eq!(
            home.headers().get_one("Strict-Transport-Security"),
            https.then_some("max-age=31536000"),
            "{public_url}"
        );
        for uri in [
            "/",
            "/account",
            "/admin",
            "/moderation/queue",
            "/api/v1/me",
            "/bills/budget-participatif",
        ] {
            let res = c.get(uri).dispatch();
            assert_eq!(res.status(), Status::Ok, "{uri}");
            let cache = res.headers().get_one("Cache-Control").unwrap_or_default();
            assert!(
                cache.split(", ").any(|d| d == "no-store"),
                "{public_url}{uri}, signed in: {cache:?}"
            );
        }
        // What may be cached says so itself.
        let css = c.get("/static/amenda.css").dispatch();
        let cache = css.headers().get_one("Cache-Control").unwrap_or_default();
        assert!(cache.contains("max-age"), "{cache}");
    }
}
