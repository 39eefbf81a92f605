//! Sign-in through a real OpenID Provider: the certified `oidc-provider` package started
//! on loopback (`tests/oidc/provider.mjs`), driven like a browser with `reqwest`, and
//! Amenda through Rocket's local client. Covers the happy path, step-up, logout, and
//! every refusal: state, replay, issuer, audience, expiry, signature, `alg: none`,
//! nonce, and an `acr` below what was asked.
//!
//! Needs Node and `npm ci` (node_modules); without them the tests are skipped with a
//! message, except under CI=true where that is a failure.

use crate::common;

use amenda::config::ProviderConfig;
use amenda::web::{build, test_figment, App, WebConfig};
use rocket::http::{ContentType, Status};
use rocket::local::asynchronous::{Client, LocalResponse};
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

const PUBLIC_URL: &str = "http://127.0.0.1:8000";
const CLIENT_SECRET: &str = "amenda-test-secret";

/// The provider process, killed when dropped.
struct Provider {
    child: Child,
    issuer: String,
    _config: tempfile::NamedTempFile,
}

impl Drop for Provider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn provider_available() -> bool {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let ok = root.join("node_modules/oidc-provider").is_dir()
        && Command::new("node")
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success());
    if !ok {
        assert!(
            std::env::var("CI").map_or(true, |v| v != "true"),
            "CI needs node and node_modules (npm ci) for the OpenID Connect tests"
        );
        eprintln!("skipped: node or node_modules/oidc-provider missing (run npm ci)");
    }
    ok
}

fn start_provider() -> Provider {
    let config = serde_json::json!({
        "tamper": true,
        "clients": [{
            "client_id": "amenda-test",
            "client_secret": CLIENT_SECRET,
            "redirect_uris": [format!("{PUBLIC_URL}/signin/test/callback")],
            "post_logout_redirect_uris": [format!("{PUBLIC_URL}/")],
        }],
    });
    let mut file = tempfile::NamedTempFile::new().unwrap();
    std::io::Write::write_all(&mut file, config.to_string().as_bytes()).unwrap();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/oidc/provider.mjs");
    let mut child = Command::new("node")
        .arg(script)
        .arg(file.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("node starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let issuer = line.trim().to_string();
    assert!(
        issuer.starts_with("http://127.0.0.1:"),
        "issuer line: {line:?}"
    );
    Provider {
        child,
        issuer,
        _config: file,
    }
}

fn provider_config(issuer: &str) -> ProviderConfig {
    // Plain sign-ins ask for eidas1, so that step-up has something to raise.
    amenda::config::Config::parse(&format!(
        "[[provider]]\nid = \"test\"\nname = \"Test ID\"\nissuer = \"{issuer}\"\nclient_id = \"amenda-test\"\nclient_secret = \"{CLIENT_SECRET}\"\ndefault_acr_values = [\"eidas1\"]\n"
    ))
    .unwrap()
    .providers
    .remove(0)
}

async fn amenda(store: &common::TestStore, issuer: &str) -> Client {
    amenda_with(store, issuer, None).await
}

async fn amenda_with(store: &common::TestStore, issuer: &str, first_admin: Option<&str>) -> Client {
    let app = App::new(
        (**store).clone(),
        WebConfig {
            providers: vec![provider_config(issuer)],
            public_url: PUBLIC_URL.into(),
            first_admin: first_admin.map(str::to_string),
            ..WebConfig::default()
        },
    )
    .unwrap();
    let rocket =
        build(test_figment(), app).mount("/", rocket::routes![needs_level_2, needs_level_3]);
    let c = Client::tracked(rocket).await.unwrap();
    // Pages in English, as the assertions read them.
    c.get("/lang/en?next=/").dispatch().await;
    c
}

/// Routes that need a level, to exercise the step-up offer of the 403 page.
#[rocket::get("/test/needs-3")]
fn needs_level_3(_who: amenda::web::auth::AtLeast<3>) -> &'static str {
    "level 3 reached"
}

#[rocket::get("/test/needs-2")]
fn needs_level_2(_who: amenda::web::auth::AtLeast<2>) -> &'static str {
    "level 2 reached"
}

/// A browser at the provider: its own cookie jar, redirects followed by hand.
struct Browser {
    http: reqwest::Client,
    issuer: String,
}

impl Browser {
    fn new(issuer: &str) -> Browser {
        Browser {
            http: reqwest::Client::builder()
                .cookie_store(true)
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            issuer: issuer.to_string(),
        }
    }

    fn absolute(&self, location: &str) -> String {
        if location.starts_with("http") {
            location.to_string()
        } else {
            format!("{}{location}", self.issuer)
        }
    }

    /// Follows the provider's pages from `url` (signing in as `user` when asked) until
    /// it redirects back to Amenda; returns that address's path and query.
    async fn sign_in(&self, url: &str, user: &str) -> String {
        let mut url = url.to_string();
        for _ in 0..12 {
            if let Some(rest) = url.strip_prefix(PUBLIC_URL) {
                return rest.to_string();
            }
            let res = self.http.get(&url).send().await.unwrap();
            let res = if res.status() == 200 {
                let page = res.text().await.unwrap();
                assert!(
                    page.contains("id=\"username\""),
                    "a login form at {url}: {page}"
                );
                self.http
                    .post(format!("{url}/login"))
                    .form(&[("username", user), ("password", "password")])
                    .send()
                    .await
                    .unwrap()
            } else {
                res
            };
            assert!(
                res.status().is_redirection(),
                "redirect from {url}: {}",
                res.status()
            );
            url = self.absolute(res.headers()["location"].to_str().unwrap());
        }
        panic!("the provider never sent the browser back");
    }
}

fn location(res: &LocalResponse<'_>) -> String {
    res.headers()
        .get_one("Location")
        .unwrap_or_default()
        .to_string()
}

/// Starts a sign-in at Amenda; returns the provider's authorization address.
async fn start(c: &Client, query: &str) -> String {
    let res = c.get(format!("/signin/test?{query}")).dispatch().await;
    assert_eq!(
        res.status(),
        Status::SeeOther,
        "{:?}",
        res.into_string().await
    );
    let url = location(&res);
    assert!(
        url.contains("code_challenge_method=S256"),
        "PKCE S256: {url}"
    );
    assert!(url.contains("nonce="), "nonce: {url}");
    url
}

/// GET a page and read it.
async fn fetch(c: &Client, uri: impl std::fmt::Display) -> String {
    c.get(uri.to_string())
        .dispatch()
        .await
        .into_string()
        .await
        .unwrap_or_default()
}

async fn me(c: &Client) -> Value {
    serde_json::from_str(&fetch(c, "/api/v1/me").await).unwrap()
}

async fn count(store: &common::TestStore, sql_table: &str) -> i64 {
    use diesel::prelude::*;
    #[derive(QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let mut conn = store.conn().unwrap();
    diesel::sql_query(format!("SELECT COUNT(*) AS n FROM {sql_table}"))
        .get_result::<N>(&mut conn)
        .unwrap()
        .n
}

/// A full sign-in; returns Amenda's answer to the callback.
async fn sign_in<'c>(c: &'c Client, b: &Browser, user: &str, query: &str) -> LocalResponse<'c> {
    let url = start(c, query).await;
    let back = b.sign_in(&url, user).await;
    c.get(back).dispatch().await
}

#[rocket::async_test]
async fn signs_in_with_the_providers_acr_names_and_a_fresh_session() {
    if !provider_available() {
        return;
    }
    let p = start_provider();
    let store = common::test_store();
    let c = amenda(&store, &p.issuer).await;
    let signin = fetch(&c, "/signin").await;
    assert!(
        signin.contains("href=\"/signin/test?next&#x3D;/\""),
        "{signin}"
    );
    assert!(signin.contains("Test ID"));
    // Each account, asking for the level it can reach, gets exactly that level.
    for (user, name, level) in [("alice", "Alice Martin", 1), ("carol", "Carol Dubois", 3)] {
        let c = amenda(&store, &p.issuer).await;
        let q = format!("next=/&level={level}");
        let res = sign_in(&c, &Browser::new(&p.issuer), user, &q).await;
        assert_eq!(res.status(), Status::SeeOther, "{user}");
        assert_eq!(me(&c).await["level"], level, "{user}");
        let account = fetch(&c, "/account").await;
        assert!(
            account.contains(name),
            "{user}: the name comes from userinfo"
        );
    }
    let res = sign_in(&c, &Browser::new(&p.issuer), "bob", "next=/bills&level=2").await;
    assert_eq!(res.status(), Status::SeeOther);
    assert_eq!(location(&res), "/bills");
    let m = me(&c).await;
    assert_eq!(m["signed_in"], true);
    assert_eq!(m["level"], 2, "eidas2 maps to level 2");
    let account = fetch(&c, "/account").await;
    assert!(
        account.contains("Bob Bernard"),
        "the name comes from userinfo"
    );
    assert!(account.contains("eidas2"));
    let mut conn = store.conn().unwrap();
    let a = amenda::service::identity::find_account(&mut conn, "test:bob").unwrap();
    assert_eq!(a.display_name, "Bob Bernard");
    assert_eq!(a.email.as_deref(), Some("bob@example.test"));
    // A plain sign-in asks for the configured default (eidas1): level 1.
    let c = amenda(&store, &p.issuer).await;
    assert_eq!(
        sign_in(&c, &Browser::new(&p.issuer), "bob", "next=/")
            .await
            .status(),
        Status::SeeOther
    );
    assert_eq!(me(&c).await["level"], 1);
    assert_eq!(count(&store, "oidc_flows").await, 0, "the flow is used up");
    // The flow cookie is gone, the session cookie is new.
    assert!(c.cookies().get_private("amenda_oidc").is_none());
    assert!(c.cookies().get_private("amenda_session").is_some());
}

#[rocket::async_test]
async fn an_answer_is_accepted_once_and_only_in_the_browser_that_asked() {
    if !provider_available() {
        return;
    }
    let p = start_provider();
    let store = common::test_store();
    let c = amenda(&store, &p.issuer).await;
    let b = Browser::new(&p.issuer);
    let url = start(&c, "next=/").await;
    let back = b.sign_in(&url, "bob").await;

    // Another browser (no flow cookie) replaying the answer: refused, nothing used up.
    let other = amenda(&store, &p.issuer).await;
    let res = other.get(back.clone()).dispatch().await;
    assert_eq!(res.status(), Status::BadRequest);
    assert!(res
        .into_string()
        .await
        .unwrap()
        .contains("does not match a sign-in started in this browser"));
    assert_eq!(me(&other).await["signed_in"], false);

    let res = c.get(back.clone()).dispatch().await;
    assert_eq!(res.status(), Status::SeeOther);
    assert_eq!(count(&store, "sessions").await, 1);

    // The same answer again, even with the cookie restored: the flow is gone.
    let res = c
        .get(back.clone())
        .private_cookie(rocket::http::Cookie::new("amenda_oidc", state_of(&back)))
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::BadRequest);
    assert_eq!(count(&store, "sessions").await, 1, "no second session");

    // A used code inside a new, genuine flow: the provider refuses it.
    let url = start(&c, "next=/").await;
    let new_state = query_param(&url, "state");
    let replay = back.replace(&state_of(&back), &new_state);
    let res = c.get(replay).dispatch().await;
    assert_eq!(res.status(), Status::BadRequest);
    assert!(res
        .into_string()
        .await
        .unwrap()
        .contains("failed a security check"));
    assert_eq!(count(&store, "sessions").await, 1);

    // No state at all, or a state that is not this browser's.
    let res = c.get("/signin/test/callback?code=abc").dispatch().await;
    assert_eq!(res.status(), Status::BadRequest);
    let url = start(&c, "next=/").await;
    let wrong = format!(
        "/signin/test/callback?code=abc&state=forged{}",
        query_param(&url, "state")
    );
    assert_eq!(c.get(wrong).dispatch().await.status(), Status::BadRequest);
    let refusals = audit_reasons(&store);
    assert!(
        refusals.contains(&"state_mismatch".to_string()),
        "{refusals:?}"
    );
    assert!(
        refusals.contains(&"unknown_or_used_state".to_string()),
        "{refusals:?}"
    );
    assert!(
        refusals.contains(&"code_refused".to_string()),
        "{refusals:?}"
    );
}

fn query_param(url: &str, name: &str) -> String {
    let q = url.split_once('?').map(|x| x.1).unwrap_or("");
    q.split('&')
        .find_map(|kv| kv.strip_prefix(&format!("{name}=")))
        .unwrap_or_else(|| panic!("{name} in {url}"))
        .to_string()
}

fn state_of(callback: &str) -> String {
    query_param(callback, "state")
}

fn audit_reasons(store: &common::TestStore) -> Vec<String> {
    let mut conn = store.conn().unwrap();
    amenda::store::audit::latest(&mut conn, 1000)
        .unwrap()
        .into_iter()
        .filter(|e| e.action == "sign_in_refused")
        .filter_map(|e| {
            serde_json::from_str::<Value>(&e.details).ok()?["reason"]
                .as_str()
                .map(str::to_string)
        })
        .collect()
}

#[rocket::async_test]
async fn every_forged_id_token_is_refused() {
    if !provider_available() {
        return;
    }
    let p = start_provider();
    let store = common::test_store();
    let tamper = reqwest::Client::new();
    for mode in [
        "iss",
        "aud",
        "azp",
        "expired",
        "nonce",
        "signature",
        "none",
        "other-key",
        "no-id-token",
    ] {
        let c = amenda(&store, &p.issuer).await;
        let b = Browser::new(&p.issuer);
        let url = start(&c, "next=/").await;
        let back = b.sign_in(&url, "carol").await;
        let r = tamper
            .post(format!("{}/test/tamper", p.issuer))
            .form(&[("mode", mode)])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{mode}");
        let res = c.get(back).dispatch().await;
        assert_eq!(res.status(), Status::BadRequest, "{mode} must be refused");
        let page = res.into_string().await.unwrap();
        assert!(page.contains("failed a security check"), "{mode}: {page}");
        assert_eq!(me(&c).await["signed_in"], false, "{mode}");
    }
    assert_eq!(count(&store, "sessions").await, 0);
    assert_eq!(count(&store, "accounts").await, 0);
    let reasons = audit_reasons(&store);
    assert_eq!(
        reasons.iter().filter(|r| *r == "invalid_id_token").count(),
        9,
        "{reasons:?}"
    );

    // The same provider, untampered, still works (the refusals were the tokens').
    let c = amenda(&store, &p.issuer).await;
    let res = sign_in(&c, &Browser::new(&p.issuer), "carol", "next=/&level=3").await;
    assert_eq!(res.status(), Status::SeeOther);
    assert_eq!(me(&c).await["level"], 3);
}

/// RFC 9207 (mix-up attacks): an answer naming another issuer is refused; so is one
/// naming none, since the provider's discovery document promises `iss`
/// (`authorization_response_iss_parameter_supported`) and an attacker relaying another
/// provider's answer would leave it out. No session is opened.
#[rocket::async_test]
async fn an_answer_naming_another_issuer_or_none_is_refused() {
    if !provider_available() {
        return;
    }
    let p = start_provider();
    let another = |back: &str, iss: &str| back.replace(iss, "http%3A%2F%2F127.0.0.1%3A1");
    let none = |back: &str, _: &str| {
        let (path, query) = back.split_once('?').unwrap();
        let kept: Vec<&str> = query
            .split('&')
            .filter(|kv| !kv.starts_with("iss="))
            .collect();
        format!("{path}?{}", kept.join("&"))
    };
    /// Changes the provider's answer, given it and its `iss`.
    type Tamper<'a> = &'a dyn Fn(&str, &str) -> String;
    let cases: [(Tamper, &str); 2] = [(&another, "issuer_mismatch"), (&none, "issuer_missing")];
    for (tamper, reason) in cases {
        let store = common::test_store();
        let c = amenda(&store, &p.issuer).await;
        let url = start(&c, "next=/").await;
        let back = Browser::new(&p.issuer).sign_in(&url, "bob").await;
        let iss = query_param(&back, "iss");
        assert!(!iss.is_empty(), "the provider names its issuer: {back}");
        let tampered = tamper(&back, &iss);
        assert_ne!(tampered, back);
        let res = c.get(tampered).dispatch().await;
        assert_eq!(res.status(), Status::BadRequest, "{reason}");
        assert_eq!(audit_reasons(&store), vec![reason]);
        assert_eq!(count(&store, "sessions").await, 0, "{reason}");
    }
}

#[rocket::async_test]
async fn a_level_below_the_one_asked_for_is_refused_and_step_up_works() {
    if !provider_available() {
        return;
    }
    let p = start_provider();
    let store = common::test_store();

    // Alice's account only reaches eidas1: asking for level 2 gets her refused.
    let c = amenda(&store, &p.issuer).await;
    let url = start(&c, "next=/&level=2").await;
    assert!(
        url.contains("acr_values=eidas2+eidas3") || url.contains("acr_values=eidas2%20eidas3"),
        "{url}"
    );
    let back = Browser::new(&p.issuer).sign_in(&url, "alice").await;
    let res = c.get(back).dispatch().await;
    assert_eq!(res.status(), Status::Forbidden);
    let page = res.into_string().await.unwrap();
    assert!(
        page.contains("confirmed identity assurance level 1, but level 2 is needed"),
        "{page}"
    );
    assert_eq!(me(&c).await["signed_in"], false);

    // Bob signs in plainly (eidas1, level 1) and meets a page that needs level 2: the
    // 403 page offers the step-up, the provider asks him to log in again (his session
    // there is below eidas2), and he comes back at level 2.
    let c = amenda(&store, &p.issuer).await;
    let browser = Browser::new(&p.issuer);
    let res = sign_in(&c, &browser, "bob", "next=/").await;
    assert_eq!(res.status(), Status::SeeOther);
    assert_eq!(me(&c).await["level"], 1);
    let res = c.get("/test/needs-2").dispatch().await;
    assert_eq!(res.status(), Status::Forbidden);
    let page = res.into_string().await.unwrap();
    assert!(
        page.contains("needs identity assurance level 2; yours is 1"),
        "{page}"
    );
    assert!(
        page.contains("href=\"/signin?level&#x3D;2&amp;next&#x3D;/test/needs-2\""),
        "{page}"
    );
    let signin = fetch(&c, "/signin?level=2&next=/test/needs-2").await;
    assert!(signin.contains("id=\"step-up\""));
    assert!(
        signin.contains("href=\"/signin/test?next&#x3D;/test/needs-2&amp;level&#x3D;2\""),
        "{signin}"
    );
    let url = start(&c, "next=/test/needs-2&level=2").await;
    let back = browser.sign_in(&url, "bob").await;
    let res = c.get(back).dispatch().await;
    assert_eq!(location(&res), "/test/needs-2");
    assert_eq!(me(&c).await["level"], 2);
    assert_eq!(c.get("/test/needs-2").dispatch().await.status(), Status::Ok);
    // Level 3 is beyond Bob's account: the provider still gives eidas2, Amenda refuses.
    assert_eq!(
        c.get("/test/needs-3").dispatch().await.status(),
        Status::Forbidden
    );
    let url = start(&c, "next=/test/needs-3&level=3").await;
    assert!(url.contains("acr_values=eidas3"), "{url}");
    let back = browser.sign_in(&url, "bob").await;
    assert_eq!(c.get(back).dispatch().await.status(), Status::Forbidden);
    assert_eq!(
        me(&c).await["level"],
        2,
        "the refused step-up left the session as it was"
    );

    // Carol steps up to level 3 and reaches the page.
    let c = amenda(&store, &p.issuer).await;
    let res = sign_in(
        &c,
        &Browser::new(&p.issuer),
        "carol",
        "next=/test/needs-3&level=3",
    )
    .await;
    assert_eq!(location(&res), "/test/needs-3");
    let res = c.get("/test/needs-3").dispatch().await;
    assert_eq!(res.status(), Status::Ok);
    assert_eq!(me(&c).await["level"], 3);
}

#[rocket::async_test]
async fn signing_out_also_ends_the_provider_session() {
    if !provider_available() {
        return;
    }
    let p = start_provider();
    let store = common::test_store();
    let c = amenda(&store, &p.issuer).await;
    let b = Browser::new(&p.issuer);
    assert_eq!(
        sign_in(&c, &b, "bob", "next=/").await.status(),
        Status::SeeOther
    );
    let csrf = me(&c).await["csrf_token"].as_str().unwrap().to_string();
    let old_cookie = c
        .cookies()
        .get_private("amenda_session")
        .unwrap()
        .value()
        .to_string();
    let res = c
        .post("/signout")
        .header(ContentType::Form)
        .body(format!("csrf={csrf}"))
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::SeeOther);
    let logout = location(&res);
    assert!(
        logout.starts_with(&format!("{}/session/end?", p.issuer)),
        "{logout}"
    );
    assert!(logout.contains("id_token_hint="));
    assert_eq!(me(&c).await["signed_in"], false);
    // The old cookie, replayed from elsewhere, no longer signs anyone in.
    let thief = amenda(&store, &p.issuer).await;
    let res = thief
        .get("/api/v1/me")
        .private_cookie(rocket::http::Cookie::new("amenda_session", old_cookie))
        .dispatch()
        .await;
    let m: Value = serde_json::from_str(&res.into_string().await.unwrap()).unwrap();
    assert_eq!(m["signed_in"], false);
    let csp = c
        .get("/")
        .dispatch()
        .await
        .headers()
        .get_one("Content-Security-Policy")
        .unwrap()
        .to_string();
    assert!(
        csp.contains(&format!("form-action 'self' {}", p.issuer)),
        "{csp}"
    );

    // The provider accepts the hint and the registered return address.
    let page = b.http.get(&logout).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    let between = |from: &str| {
        html.split(from)
            .nth(1)
            .and_then(|s| s.split('"').next())
            .expect("the logout form")
            .to_string()
    };
    let (action, xsrf) = (
        between("id=\"op.logoutForm\" method=\"post\" action=\""),
        between("name=\"xsrf\" value=\""),
    );
    let res = b
        .http
        .post(b.absolute(&action))
        .form(&[("xsrf", xsrf.as_str()), ("logout", "yes")])
        .send()
        .await
        .unwrap();
    assert!(res.status().is_redirection(), "{}", res.status());
    let next = b.absolute(res.headers()["location"].to_str().unwrap());
    assert_eq!(next, format!("{PUBLIC_URL}/"));
    // The ID token was forgotten with the session.
    let mut conn = store.conn().unwrap();
    let a = amenda::store::accounts::list(&mut conn).unwrap();
    let sessions = amenda::store::sessions::active_for_account(&mut conn, a[0].id, "0").unwrap();
    assert!(sessions.is_empty());
}

#[rocket::async_test]
async fn cancelling_unknown_providers_and_unreachable_ones_are_explained() {
    if !provider_available() {
        return;
    }
    let p = start_provider();
    let store = common::test_store();
    let c = amenda(&store, &p.issuer).await;
    let url = start(&c, "next=/").await;
    let state = query_param(&url, "state");
    let res = c
        .get(format!(
            "/signin/test/callback?error=access_denied&state={state}"
        ))
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::BadRequest);
    assert!(res
        .into_string()
        .await
        .unwrap()
        .contains("You cancelled signing in at Test ID"));

    let res = c.get("/signin/nobody").dispatch().await;
    assert_eq!(res.status(), Status::NotFound);

    // A provider that does not answer: a clear 502, nothing stored.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let c = amenda(&store, &dead).await;
    let res = c.get("/signin/test?next=/").dispatch().await;
    assert_eq!(res.status(), Status::BadGateway);
    assert!(res
        .into_string()
        .await
        .unwrap()
        .contains("cannot be reached"));
    assert_eq!(
        count(&store, "oidc_flows").await,
        0,
        "the cancelled flow is used up, none stored for the dead provider"
    );
}

#[rocket::async_test]
async fn the_configured_first_admin_becomes_admin_while_there_is_none() {
    if !provider_available() {
        return;
    }
    let p = start_provider();
    let store = common::test_store();
    let c = amenda_with(&store, &p.issuer, Some("test:carol")).await;
    assert_eq!(
        sign_in(&c, &Browser::new(&p.issuer), "bob", "next=/")
            .await
            .status(),
        Status::SeeOther
    );
    assert_eq!(
        me(&c).await["roles"],
        serde_json::json!([]),
        "bob is not the first admin"
    );
    let c = amenda_with(&store, &p.issuer, Some("test:carol")).await;
    assert_eq!(
        sign_in(&c, &Browser::new(&p.issuer), "carol", "next=/")
            .await
            .status(),
        Status::SeeOther
    );
    assert_eq!(me(&c).await["roles"], serde_json::json!(["admin"]));
    assert_eq!(c.get("/admin").dispatch().await.status(), Status::Ok);
}

/// Several providers are offered side by side; a step-up offers only those that can
/// give the level asked for. (No provider process needed: nothing is fetched.)
#[rocket::async_test]
async fn several_providers_and_only_capable_ones_for_a_step_up() {
    let store = common::test_store();
    let config = amenda::config::Config::parse(
        r#"
[[provider]]
id = "franceconnect"
name = "FranceConnect"
issuer = "https://fc.example.invalid"
client_id = "a"

[[provider]]
id = "ville"
name = "Compte Ville"
issuer = "https://login.ville.example.invalid"
client_id = "b"
acr = { "urn:ville:password" = 1 }
"#,
    )
    .unwrap();
    config.check().unwrap();
    let app = App::new(
        (*store).clone(),
        WebConfig {
            providers: config.providers,
            public_url: PUBLIC_URL.into(),
            ..WebConfig::default()
        },
    )
    .unwrap();
    let c = Client::tracked(build(test_figment(), app)).await.unwrap();
    let signin = fetch(&c, "/signin").await;
    assert!(signin.contains("/signin/franceconnect?") && signin.contains("/signin/ville?"));
    let step_up = fetch(&c, "/signin?level=2").await;
    assert!(step_up.contains("/signin/franceconnect?"));
    assert!(
        !step_up.contains("/signin/ville?"),
        "the city's accounts only reach level 1"
    );
    // Asking that provider for level 2 directly is refused before anything is sent.
    let res = c.get("/signin/ville?level=2").dispatch().await;
    assert_eq!(res.status(), Status::Forbidden);
    assert_eq!(count(&store, "oidc_flows").await, 0);
}
