//! Sessions, the demo sign-in, CSRF and the access rule of every route, through Rocket's
//! local client on the backend chosen by AMENDA_TEST_DATABASE_URL.

use crate::common;

use amenda::web::{build, test_figment, App, WebConfig};
use rocket::http::{ContentType, Cookie, Status};
use rocket::local::blocking::Client;
use serde_json::Value;

fn client_with(store: &common::TestStore, demo: bool) -> Client {
    let app = App::new(
        (**store).clone(),
        WebConfig {
            demo,
            // One instance: every client (app server) shares the pseudonym key.
            pseudonym_key: Some(amenda::web::PseudonymKey(vec![9; 32])),
            ..WebConfig::default()
        },
    )
    .unwrap();
    Client::tracked(build(test_figment(), app)).unwrap()
}

fn me(c: &Client) -> Value {
    serde_json::from_str(&c.get("/api/v1/me").dispatch().into_string().unwrap()).unwrap()
}

/// The CSRF token of the client's browser, as forms carry it.
fn csrf(c: &Client) -> String {
    me(c)["csrf_token"].as_str().unwrap().to_string()
}

fn demo_sign_in<'c>(
    c: &'c Client,
    person: &str,
    level: u8,
) -> rocket::local::blocking::LocalResponse<'c> {
    let token = csrf(c);
    c.post("/signin/demo")
        .header(ContentType::Form)
        .body(format!(
            "csrf={token}&person={person}&level={level}&next=/account"
        ))
        .dispatch()
}

fn session_count(store: &common::TestStore) -> usize {
    let mut conn = store.conn().unwrap();
    let mut n = 0;
    for a in amenda::store::accounts::list(&mut conn).unwrap() {
        n += amenda::store::sessions::active_for_account(
            &mut conn,
            a.id,
            &store.clock().now().rfc3339(),
        )
        .unwrap()
        .len();
    }
    n
}

#[test]
fn demo_sign_in_opens_a_session_at_the_chosen_level() {
    let store = common::test_store();
    let c = client_with(&store, true);
    assert_eq!(me(&c)["signed_in"], false);
    let page = c.get("/signin").dispatch().into_string().unwrap();
    assert!(page.contains("id=\"demo-signin\""));
    let res = demo_sign_in(&c, "camille", 2);
    assert_eq!(res.status(), Status::SeeOther);
    assert_eq!(res.headers().get_one("Location"), Some("/account"));
    let m = me(&c);
    assert_eq!(m["signed_in"], true);
    assert_eq!(m["level"], 2);
    assert_eq!(m["name"], "Camille Martin");
    let account = c.get("/account").dispatch().into_string().unwrap();
    assert!(account.contains("Camille Martin"));
    assert!(account.contains("demo-level-2"));
    // The header names the person on every page, and no cache keeps those pages.
    let res = c.get("/").dispatch();
    assert_eq!(res.headers().get_one("Cache-Control"), Some("no-store"));
    let res = c.get("/bills/nope").dispatch();
    assert_eq!(res.status(), Status::NotFound);
    // Demo roles come with the demo person.
    let c2 = client_with(&store, true);
    demo_sign_in(&c2, "dominique", 1);
    assert_eq!(me(&c2)["roles"], serde_json::json!(["moderator"]));
}

#[test]
fn demo_sign_in_does_not_exist_outside_demo_mode() {
    let store = common::test_store();
    let c = client_with(&store, false);
    let page = c.get("/signin").dispatch().into_string().unwrap();
    assert!(!page.contains("id=\"demo-signin\""));
    let res = demo_sign_in(&c, "camille", 3);
    assert_eq!(res.status(), Status::NotFound);
    assert_eq!(session_count(&store), 0);
    assert_eq!(me(&c)["signed_in"], false);
}

#[test]
fn forged_forms_are_refused_and_change_nothing() {
    let store = common::test_store();
    let c = client_with(&store, true);
    for body in [
        "person=camille&level=2".to_string(),
        "csrf=0000&person=camille&level=2".to_string(),
        format!("csrf={}&person=camille&level=2", "a".repeat(64)),
    ] {
        let res = c
            .post("/signin/demo")
            .header(ContentType::Form)
            .body(body)
            .dispatch();
        assert!(
            matches!(
                res.status(),
                Status::Forbidden | Status::UnprocessableEntity
            ),
            "{}",
            res.status()
        );
        assert_eq!(session_count(&store), 0);
    }
    // A token from another browser does not work either.
    let other = client_with(&store, true);
    let stolen = csrf(&other);
    let _ = csrf(&c);
    let res = c
        .post("/signin/demo")
        .header(ContentType::Form)
        .body(format!("csrf={stolen}&person=camille&level=2"))
        .dispatch();
    assert_eq!(res.status(), Status::Forbidden);
    assert!(res.into_string().unwrap().contains("formulaire a expiré"));
    assert_eq!(session_count(&store), 0);
    // Bad values are clear 400s.
    let t = csrf(&c);
    let res = c
        .post("/signin/demo")
        .header(ContentType::Form)
        .body(format!("csrf={t}&person=nobody&level=2"))
        .dispatch();
    assert_eq!(res.status(), Status::BadRequest);
    let res = c
        .post("/signin/demo")
        .header(ContentType::Form)
        .body(format!("csrf={t}&person=camille&level=0"))
        .dispatch();
    assert_eq!(res.status(), Status::BadRequest);
    assert_eq!(session_count(&store), 0);
    // Signed in, a sign-out without the token does nothing.
    demo_sign_in(&c, "camille", 1);
    let res = c
        .post("/signout")
        .header(ContentType::Form)
        .body("csrf=nope")
        .dispatch();
    assert_eq!(res.status(), Status::Forbidden);
    assert_eq!(me(&c)["signed_in"], true);
}

#[test]
fn sessions_can_be_ended_one_by_one_or_all_and_old_cookies_stop_working() {
    let store = common::test_store();
    let laptop = client_with(&store, true);
    let phone = client_with(&store, true);
    demo_sign_in(&laptop, "yanis", 1);
    demo_sign_in(&phone, "yanis", 2);
    assert_eq!(session_count(&store), 2);
    // The laptop ends the phone's session from the account page.
    let mut conn = store.conn().unwrap();
    let account = amenda::store::accounts::list(&mut conn).unwrap().remove(0);
    let sessions = amenda::store::sessions::active_for_account(
        &mut conn,
        account.id,
        &store.clock().now().rfc3339(),
    )
    .unwrap();
    drop(conn);
    let phone_session = sessions.iter().find(|s| s.level == 2).unwrap().id.clone();
    let page = laptop.get("/account").dispatch().into_string().unwrap();
    assert!(page.contains(&phone_session));
    let t = csrf(&laptop);
    let res = laptop
        .post("/account/sessions/end")
        .header(ContentType::Form)
        .body(format!("csrf={t}&session={phone_session}"))
        .dispatch();
    assert_eq!(res.status(), Status::SeeOther);
    assert_eq!(me(&phone)["signed_in"], false);
    assert_eq!(me(&laptop)["signed_in"], true);

    // Sign out: the old cookie, replayed, no longer opens the session.
    let old: Cookie<'static> = laptop
        .cookies()
        .get("amenda_session")
        .unwrap()
        .clone()
        .into_owned();
    let t = csrf(&laptop);
    let res = laptop
        .post("/signout")
        .header(ContentType::Form)
        .body(format!("csrf={t}"))
        .dispatch();
    assert_eq!(res.status(), Status::SeeOther);
    assert_eq!(me(&laptop)["signed_in"], false);
    let replay = client_with(&store, true);
    let res = replay.get("/api/v1/me").cookie(old).dispatch();
    let body: Value = serde_json::from_str(&res.into_string().unwrap()).unwrap();
    assert_eq!(body["signed_in"], false);
    assert_eq!(session_count(&store), 0);

    // End all: every device is signed out.
    demo_sign_in(&laptop, "yanis", 1);
    demo_sign_in(&phone, "yanis", 1);
    let t = csrf(&phone);
    let res = phone
        .post("/account/sessions/end-all")
        .header(ContentType::Form)
        .body(format!("csrf={t}"))
        .dispatch();
    assert_eq!(res.status(), Status::SeeOther);
    assert_eq!(me(&laptop)["signed_in"], false);
    assert_eq!(me(&phone)["signed_in"], false);
    // Every act is in the audit log.
    let mut conn = store.conn().unwrap();
    let actions: Vec<String> = amenda::store::audit::latest(&mut conn, 50)
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert!(actions.contains(&"sign_in".to_string()));
    assert!(actions.contains(&"end_session".to_string()));
    assert!(actions.contains(&"end_all_sessions".to_string()));
}

/// Every route and the access rule it must enforce. A new route must be added here, with
/// its rule, or this test fails.
#[test]
fn route_table() {
    #[derive(Debug, PartialEq)]
    enum Access {
        Public,
        SignedIn,
        /// A form or JSON write: signed in (if stated) and a CSRF token.
        Csrf {
            signed_in: bool,
        },
        /// Signed in with this role (admins have every role); writes also need CSRF.
        Role(&'static str),
        /// A JSON write: the CSRF token in `X-CSRF-Token`, else 403, signed in or not.
        JsonWrite,
    }
    use Access::*;
    let table: &[(&str, &str, Access)] = &[
        ("GET", "/", Public),
        ("GET", "/bills/<slug>?<v>", Public),
        ("GET", "/bills/<slug>/articles/<wid>?<v>", Public),
        ("GET", "/bills/<slug>/units/<wid>", Public),
        ("GET", "/bills/<slug>/versions", Public),
        ("GET", "/bills/<slug>/versions/<file>", Public),
        (
            "GET",
            "/bills/<slug>/diff?<from>&<to>&<mode>&<changed>",
            Public,
        ),
        ("GET", "/lang/<code>?<next>", Public),
        ("GET", "/static/<file..>", Public),
        ("GET", "/bills/<slug>/consultations", Public),
        ("GET", "/bills/<slug>/consultations/new", Role("staff")),
        ("POST", "/bills/<slug>/consultations", Role("staff")),
        ("GET", "/consultations/<id>?<page>", Public),
        ("POST", "/consultations/<id>/phase", Role("staff")),
        (
            "POST",
            "/bills/<slug>/amendments/<number>/rule",
            Role("staff"),
        ),
        ("POST", "/consultations/<id>/consolidate", Role("staff")),
        ("POST", "/consultations/<id>/rebase", Role("staff")),
        ("GET", "/bills/<slug>/versions/<n>/provenance", Public),
        ("GET", "/consultations/<id>/articles/<wid>/amend", SignedIn),
        (
            "POST",
            "/consultations/<id>/articles/<wid>/amend",
            Csrf { signed_in: true },
        ),
        ("GET", "/bills/<slug>/amendments/<number>", Public),
        ("GET", "/bills/<slug>/amendments/<file>", Public),
        (
            "POST",
            "/bills/<slug>/amendments/<number>/withdraw",
            Csrf { signed_in: true },
        ),
        (
            "GET",
            "/consultations/<id>/amendments?<article>&<status>&<author>&<page>",
            Public,
        ),
        ("GET", "/bills/<slug>/amendments/<number>/rectify", SignedIn),
        (
            "POST",
            "/bills/<slug>/amendments/<number>/rectify",
            Csrf { signed_in: true },
        ),
        ("GET", "/consultations/<id>/vote?<cast>", SignedIn),
        ("POST", "/consultations/<id>/vote", Csrf { signed_in: true }),
        ("GET", "/consultations/<id>/receipts/<index>", SignedIn),
        ("GET", "/consultations/<id>/ballots", Public),
        ("GET", "/consultations/<id>/ballots/<file>", Public),
        (
            "GET",
            "/consultations/<id>/ballots/checkpoints/<size>",
            Public,
        ),
        ("GET", "/consultations/<id>/close", Role("staff")),
        ("POST", "/consultations/<id>/close", Role("staff")),
        ("GET", "/consultations/<id>/results", Public),
        ("GET", "/consultations/<id>/results/public?<page>", Public),
        (
            "GET",
            "/consultations/<id>/vote/settings?<saved>",
            Role("staff"),
        ),
        ("POST", "/consultations/<id>/vote/settings", Role("staff")),
        ("GET", "/consultations/<id>/campaigns", Role("staff")),
        ("GET", "/receipts/check", Public),
        ("POST", "/receipts/check", Csrf { signed_in: false }),
        ("GET", "/api/v1/consultations/<id>", Public),
        ("GET", "/api/v1/consultations/<id>/checkpoint", Public),
        (
            "GET",
            "/api/v1/consultations/<id>/proof/inclusion?<index>&<size>",
            Public,
        ),
        (
            "GET",
            "/api/v1/consultations/<id>/proof/consistency?<from>&<to>",
            Public,
        ),
        ("POST", "/api/v1/consultations/<id>/ballots", JsonWrite),
        ("GET", "/api/v1/log-key", Public),
        (
            "POST",
            "/bills/<slug>/amendments/<number>/accept-rebase",
            Csrf { signed_in: true },
        ),
        ("GET", "/moderation/reidentify", Role("moderator")),
        ("POST", "/moderation/reidentify", Role("moderator")),
        ("GET", "/signin?<next>&<level>", Public),
        // Starting a provider sign-in is public (rate-limited); its answer is checked
        // against the flow cookie and the stored flow (tests/it/oidc.rs).
        ("GET", "/signin/<provider>?<next>&<level>", Public),
        (
            "GET",
            "/signin/<provider>/callback?<code>&<state>&<iss>&<error>&<error_description>",
            Public,
        ),
        ("POST", "/signin/demo", Csrf { signed_in: false }),
        ("GET", "/account", SignedIn),
        ("GET", "/account/moderation?<appealed>", SignedIn),
        (
            "POST",
            "/account/moderation/<seq>/appeal",
            Csrf { signed_in: true },
        ),
        ("POST", "/reports", Csrf { signed_in: true }),
        (
            "GET",
            "/moderation/queue?<kind>&<consultation>&<hidden>&<page>&<done>",
            Role("moderator"),
        ),
        (
            "POST",
            "/moderation/items/<kind>/<id>/decide",
            Role("moderator"),
        ),
        (
            "POST",
            "/moderation/items/<kind>/<id>/suspend",
            Role("moderator"),
        ),
        ("GET", "/moderation/appeals?<done>", Role("moderator")),
        ("POST", "/moderation/appeals/<seq>", Role("moderator")),
        ("GET", "/moderation/log?<page>", Public),
        ("GET", "/opendata", Public),
        ("GET", "/feeds/atom.xml", Public),
        ("GET", "/bills/<slug>/feed.atom", Public),
        ("GET", "/opendata/<path..>", Public),
        ("GET", "/moderation/log.csv", Public),
        ("GET", "/api/v1/moderation/log?<page>", Public),
        ("POST", "/account/sessions/end", Csrf { signed_in: true }),
        (
            "POST",
            "/account/sessions/end-all",
            Csrf { signed_in: true },
        ),
        ("POST", "/signout", Csrf { signed_in: true }),
        ("GET", "/admin", Role("admin")),
        ("POST", "/admin/roles", Role("admin")),
        ("GET", "/admin/audit", Role("admin")),
        ("GET", "/moderation/people?<q>", Role("moderator")),
        ("GET", "/moderation/people/<id>", Role("moderator")),
        (
            "POST",
            "/moderation/people/<id>/verifications",
            Role("moderator"),
        ),
        (
            "POST",
            "/moderation/verifications/<vid>/confirm",
            Role("moderator"),
        ),
        (
            "POST",
            "/moderation/verifications/<vid>/revoke",
            Role("moderator"),
        ),
        ("GET", "/api/v1/bills", Public),
        ("GET", "/api/v1/bills/<slug>", Public),
        ("GET", "/api/v1/bills/<slug>/versions/<n>", Public),
        (
            "GET",
            "/api/v1/bills/<slug>/diff?<from>&<to>&<changed>",
            Public,
        ),
        ("GET", "/api/v1/me", Public),
        ("GET", "/consultations/<id>/articles/<wid>", Public),
        (
            "POST",
            "/consultations/<id>/comments",
            Csrf { signed_in: true },
        ),
        ("POST", "/consultations/<id>/answers", Role("staff")),
        (
            "GET",
            "/api/v1/consultations/<id>/comments?<article>&<amendment>",
            Public,
        ),
        ("GET", "/api/v1/consultations/<id>/articles/<wid>", Public),
        ("POST", "/api/v1/consultations/<id>/amendments", JsonWrite),
        (
            "GET",
            "/api/v1/consultations/<id>/amendments?<article>&<status>&<author>&<page>",
            Public,
        ),
        ("GET", "/api/v1/bills/<slug>/amendments/<number>", Public),
        (
            "POST",
            "/api/v1/bills/<slug>/amendments/<number>/withdraw",
            JsonWrite,
        ),
        (
            "POST",
            "/api/v1/bills/<slug>/amendments/<number>/rectify",
            JsonWrite,
        ),
        ("POST", "/api/v1/consultations/<id>/comments", JsonWrite),
        ("POST", "/api/v1/consultations/<id>/answers", JsonWrite),
    ];
    let store = common::test_store();
    let c = client_with(&store, true);
    let mut mounted: Vec<(String, String)> = c
        .rocket()
        .routes()
        .map(|r| (r.method.as_str().to_string(), r.uri.to_string()))
        .collect();
    mounted.sort();
    let mut listed: Vec<(String, String)> = table
        .iter()
        .map(|(m, u, _)| (m.to_string(), u.to_string()))
        .collect();
    listed.sort();
    assert_eq!(
        mounted, listed,
        "every mounted route is listed with its access rule"
    );

    // Anonymous requests to protected routes are refused; pages send to the sign-in page.
    // A concrete path for a route: its parameters filled with "1".
    let concrete = |uri: &str| -> String {
        uri.split('?')
            .next()
            .unwrap()
            .split('/')
            .map(|seg| if seg.starts_with('<') { "1" } else { seg })
            .collect::<Vec<_>>()
            .join("/")
    };
    for (method, uri, access) in table {
        let path = concrete(uri);
        match access {
            Public => {}
            SignedIn | Role(_) if *method == "GET" => {
                let res = c.get(path.to_string()).dispatch();
                assert_eq!(res.status(), Status::SeeOther, "{method} {uri}");
                assert!(res
                    .headers()
                    .get_one("Location")
                    .unwrap()
                    .starts_with("/signin?next="));
            }
            Role(_) => {
                let res = c
                    .post(path.to_string())
                    .header(ContentType::Form)
                    .body("csrf=x")
                    .dispatch();
                assert_eq!(res.status(), Status::SeeOther, "{method} {uri}");
            }
            SignedIn => unreachable!("only GET routes are plain signed-in"),
            JsonWrite => {
                let res = c
                    .post(path.to_string())
                    .header(ContentType::JSON)
                    .body("{}")
                    .dispatch();
                assert_eq!(res.status(), Status::Forbidden, "{method} {uri}");
            }
            Csrf { signed_in } => {
                let res = c
                    .post(path.to_string())
                    .header(ContentType::Form)
                    .body("csrf=x&session=x&person=camille&level=1")
                    .dispatch();
                let expected = if *signed_in {
                    Status::SeeOther
                } else {
                    Status::Forbidden
                };
                assert_eq!(res.status(), expected, "{method} {uri}");
                if *signed_in {
                    assert!(res
                        .headers()
                        .get_one("Location")
                        .unwrap()
                        .starts_with("/signin"));
                }
            }
        }
    }
    // Signed in, but without a valid token: 403 on every write.
    demo_sign_in(&c, "camille", 1);
    for (method, uri, access) in table {
        if let JsonWrite = access {
            let res = c
                .post(concrete(uri))
                .header(ContentType::JSON)
                .header(rocket::http::Header::new("X-CSRF-Token", "x"))
                .body("{}")
                .dispatch();
            assert_eq!(res.status(), Status::Forbidden, "{method} {uri}");
        }
        if let Csrf { signed_in: true } = access {
            let res = c
                .post(concrete(uri))
                .header(ContentType::Form)
                .body("csrf=x&session=x")
                .dispatch();
            assert_eq!(res.status(), Status::Forbidden, "{method} {uri}");
        }
    }
    assert_eq!(me(&c)["signed_in"], true);
}

/// Each role-protected route refuses anonymous people, citizens and other roles, and
/// lets the right role through; role changes are audited and the last admin stays.
#[test]
fn role_matrix_and_role_changes() {
    let store = common::test_store();
    let anon = client_with(&store, true);
    let citizen = client_with(&store, true);
    let moderator = client_with(&store, true);
    let admin = client_with(&store, true);
    demo_sign_in(&citizen, "camille", 3);
    demo_sign_in(&moderator, "dominique", 3);
    demo_sign_in(&admin, "admin", 1);
    for path in ["/admin", "/admin/audit"] {
        assert_eq!(
            anon.get(path).dispatch().status(),
            Status::SeeOther,
            "{path}"
        );
        assert_eq!(
            citizen.get(path).dispatch().status(),
            Status::Forbidden,
            "{path}"
        );
        assert_eq!(
            moderator.get(path).dispatch().status(),
            Status::Forbidden,
            "{path}"
        );
        assert_eq!(admin.get(path).dispatch().status(), Status::Ok, "{path}");
    }
    let page = citizen.get("/admin").dispatch().into_string().unwrap();
    assert!(page.contains("Accès refusé"), "a clear message");

    // The admin makes Camille staff, through the form.
    let mut conn = store.conn().unwrap();
    let camille = amenda::service::identity::find_account(&mut conn, "demo:camille").unwrap();
    drop(conn);
    let t = csrf(&admin);
    let res = admin
        .post("/admin/roles")
        .header(ContentType::Form)
        .body(format!(
            "csrf={t}&account={}&role=staff&action=grant",
            camille.id
        ))
        .dispatch();
    assert_eq!(res.status(), Status::SeeOther);
    assert_eq!(me(&citizen)["roles"], serde_json::json!(["staff"]));
    // A citizen cannot do the same, even with a valid token of their own.
    let t2 = csrf(&citizen);
    let res = citizen
        .post("/admin/roles")
        .header(ContentType::Form)
        .body(format!(
            "csrf={t2}&account={}&role=admin&action=grant",
            camille.id
        ))
        .dispatch();
    assert_eq!(res.status(), Status::Forbidden);
    assert_eq!(me(&citizen)["roles"], serde_json::json!(["staff"]));
    // The last admin cannot be removed.
    let mut conn = store.conn().unwrap();
    let alex = amenda::service::identity::find_account(&mut conn, "demo:admin").unwrap();
    drop(conn);
    let res = admin
        .post("/admin/roles")
        .header(ContentType::Form)
        .body(format!(
            "csrf={t}&account={}&role=admin&action=revoke",
            alex.id
        ))
        .dispatch();
    assert_eq!(res.status(), Status::Conflict);
    assert_eq!(me(&admin)["roles"], serde_json::json!(["admin"]));
    // Unknown accounts and roles are clear errors.
    let res = admin
        .post("/admin/roles")
        .header(ContentType::Form)
        .body(format!("csrf={t}&account=9999&role=staff&action=grant"))
        .dispatch();
    assert_eq!(res.status(), Status::NotFound);
    let res = admin
        .post("/admin/roles")
        .header(ContentType::Form)
        .body(format!(
            "csrf={t}&account={}&role=king&action=grant",
            camille.id
        ))
        .dispatch();
    assert_eq!(res.status(), Status::BadRequest);
    // The audit log shows the grant, by whom, to whom.
    let audit = admin.get("/admin/audit").dispatch().into_string().unwrap();
    assert!(audit.contains("grant_role"));
    let mut conn = store.conn().unwrap();
    let entry = amenda::store::audit::latest(&mut conn, 50)
        .unwrap()
        .into_iter()
        .find(|e| e.action == "grant_role")
        .unwrap();
    assert_eq!(entry.actor_id, Some(alex.id));
    assert_eq!(entry.subject_id, Some(camille.id));
    assert!(entry.details.contains("staff"));
}

fn post_form(c: &Client, uri: &str, body: &str) -> (Status, String) {
    let t = csrf(c);
    let res = c
        .post(uri.to_string())
        .header(ContentType::Form)
        .body(format!("csrf={t}&{body}"))
        .dispatch();
    (res.status(), res.into_string().unwrap_or_default())
}

/// Moderators raise a person's level by recording a verification; level 3 needs a second
/// moderator; revocation and expiry bring the level back; every act is audited.
#[test]
fn moderator_verifications() {
    let store = common::test_store();
    let camille = client_with(&store, true);
    let dominique = client_with(&store, true);
    let second = client_with(&store, true);
    demo_sign_in(&camille, "camille", 1);
    demo_sign_in(&dominique, "dominique", 1);
    demo_sign_in(&second, "yanis", 1);
    let mut conn = store.conn().unwrap();
    let cam = amenda::service::identity::find_account(&mut conn, "demo:camille").unwrap();
    let dom = amenda::service::identity::find_account(&mut conn, "demo:dominique").unwrap();
    let yanis = amenda::service::identity::find_account(&mut conn, "demo:yanis").unwrap();
    drop(conn);
    amenda::service::identity::set_role(
        &store,
        None,
        yanis.id,
        amenda::domain::identity::Role::Moderator,
        true,
    )
    .unwrap();
    let today = store.clock().today_iso();
    let next_year = format!("{}{}", today[..4].parse::<i32>().unwrap() + 1, &today[4..]);

    // Citizens cannot use moderation pages.
    assert_eq!(
        camille
            .get(format!("/moderation/people/{}", cam.id))
            .dispatch()
            .status(),
        Status::Forbidden
    );
    let (status, _) = post_form(
        &camille,
        &format!("/moderation/people/{}/verifications", cam.id),
        &format!("level=3&method=document&verified_on={today}&expires_on={next_year}"),
    );
    assert_eq!(status, Status::Forbidden);
    assert_eq!(me(&camille)["level"], 1);

    // Find the person, record a level 2 verification: Camille's level rises at once.
    let list = dominique
        .get("/moderation/people?q=camil")
        .dispatch()
        .into_string()
        .unwrap();
    assert!(list.contains(&format!("/moderation/people/{}", cam.id)));
    assert!(!list.contains("Yanis"));
    let uri = format!("/moderation/people/{}/verifications", cam.id);
    let (status, _) = post_form(
        &dominique,
        &uri,
        &format!("level=2&method=document&verified_on={today}&expires_on={next_year}"),
    );
    assert_eq!(status, Status::SeeOther);
    assert_eq!(me(&camille)["level"], 2);
    let account = camille.get("/account").dispatch().into_string().unwrap();
    assert!(
        account.contains("vérification d&#x27;identité")
            || account.contains("vérification d'identité"),
        "the account page says where the level comes from: {account}"
    );

    // A bad expiry date: the form comes back with the input kept and the error.
    let (status, page) = post_form(
        &dominique,
        &uri,
        "level=3&method=in_person&verified_on=2020-01-02&expires_on=2020-01-01",
    );
    assert_eq!(status, Status::UnprocessableEntity);
    assert!(page.contains("value=\"2020-01-02\""), "input kept");
    assert!(
        page.contains("La date d&#x27;expiration") || page.contains("La date d'expiration"),
        "error shown"
    );
    assert!(page.contains("<option value=\"in_person\" selected>"));

    // Level 3 waits for a second moderator, who must not be the recorder.
    let (status, _) = post_form(
        &dominique,
        &uri,
        &format!("level=3&method=in_person&verified_on={today}&expires_on={next_year}"),
    );
    assert_eq!(status, Status::SeeOther);
    assert_eq!(me(&camille)["level"], 2, "level 3 needs a second moderator");
    let mut conn = store.conn().unwrap();
    let l3 = amenda::store::verifications::for_account(&mut conn, cam.id)
        .unwrap()
        .into_iter()
        .find(|v| v.level == 3)
        .unwrap();
    drop(conn);
    let confirm = format!("/moderation/verifications/{}/confirm", l3.id);
    let (status, _) = post_form(&dominique, &confirm, &format!("account={}", cam.id));
    assert_eq!(status, Status::Conflict, "the recorder cannot confirm");
    assert_eq!(me(&camille)["level"], 2);
    let (status, _) = post_form(&second, &confirm, &format!("account={}", cam.id));
    assert_eq!(status, Status::SeeOther);
    assert_eq!(me(&camille)["level"], 3);
    let (status, _) = post_form(&second, &confirm, &format!("account={}", cam.id));
    assert_eq!(status, Status::Conflict, "confirmed once only");

    // Revocation needs a reason and lowers the level back.
    let revoke = format!("/moderation/verifications/{}/revoke", l3.id);
    let (status, _) = post_form(&second, &revoke, &format!("account={}&reason=", cam.id));
    assert_eq!(status, Status::BadRequest);
    let (status, _) = post_form(
        &second,
        &revoke,
        &format!("account={}&reason=document+forged", cam.id),
    );
    assert_eq!(status, Status::SeeOther);
    assert_eq!(me(&camille)["level"], 2);

    // An expired verification no longer counts.
    let mut conn = store.conn().unwrap();
    for v in amenda::store::verifications::for_account(&mut conn, cam.id).unwrap() {
        amenda::store::verifications::revoke(&mut conn, v.id, dom.id, "test").unwrap();
    }
    amenda::store::verifications::insert(
        &mut conn,
        &amenda::store::verifications::NewVerification {
            account_id: cam.id,
            level: 2,
            method: amenda::domain::identity::Method::Document,
            verified_on: "2020-01-01",
            expires_on: "2021-01-01",
            recorded_by: dom.id,
        },
    )
    .unwrap();
    drop(conn);
    assert_eq!(me(&camille)["level"], 1, "expired");

    // Nobody verifies themselves.
    let own = format!("/moderation/people/{}/verifications", dom.id);
    let (status, _) = post_form(
        &dominique,
        &own,
        &format!("level=2&method=document&verified_on={today}&expires_on={next_year}"),
    );
    assert_eq!(status, Status::UnprocessableEntity);
    assert_eq!(me(&dominique)["level"], 1);

    // The audit log holds every act, by whom, on whom.
    let mut conn = store.conn().unwrap();
    let log = amenda::store::audit::latest(&mut conn, 100).unwrap();
    let acts = |a: &str| log.iter().filter(|e| e.action == a).count();
    assert_eq!(acts("record_verification"), 2);
    assert_eq!(acts("confirm_verification"), 1);
    assert_eq!(acts("revoke_verification"), 1);
    assert!(log.iter().any(|e| e.action == "confirm_verification"
        && e.actor_id == Some(yanis.id)
        && e.subject_id == Some(cam.id)));
}

/// Sign-in attempts are limited per address: beyond the limit, 429 and no session.
#[test]
fn sign_in_attempts_are_rate_limited() {
    let store = common::test_store();
    let c = client_with(&store, true);
    let t = csrf(&c);
    let limit = amenda::web::ratelimit::SIGN_IN_PER_MINUTE;
    for _ in 0..limit {
        let res = c
            .post("/signin/demo")
            .header(ContentType::Form)
            .body(format!("csrf={t}&person=nobody&level=1"))
            .dispatch();
        assert_eq!(res.status(), Status::BadRequest);
    }
    let res = c
        .post("/signin/demo")
        .header(ContentType::Form)
        .body(format!("csrf={t}&person=camille&level=1"))
        .dispatch();
    assert_eq!(res.status(), Status::TooManyRequests);
    // How long to wait, in the header and on the page: one attempt comes back each
    // sixth of the minute.
    let wait: u64 = res
        .headers()
        .get_one("Retry-After")
        .expect("a Retry-After header")
        .parse()
        .expect("whole seconds");
    assert!((1..=60 / u64::from(limit) + 1).contains(&wait), "{wait}");
    let page = res.into_string().unwrap();
    assert!(page.contains("Trop de tentatives"), "{page}");
    assert!(page.contains("Merci d’attendre"), "{page}");
    // In the reader's language.
    let res = c
        .post("/signin/demo")
        .header(ContentType::Form)
        .header(rocket::http::Header::new("Accept-Language", "en"))
        .body(format!("csrf={t}&person=camille&level=1"))
        .dispatch();
    assert_eq!(res.status(), Status::TooManyRequests);
    assert!(res.headers().get_one("Retry-After").is_some());
    let page = res.into_string().unwrap();
    assert!(page.contains("Too many sign-in attempts"), "{page}");
    assert!(page.contains("Please wait"), "{page}");
    assert_eq!(me(&c)["signed_in"], false);
    assert_eq!(session_count(&store), 0);
}

/// Sign-in attempts through a proxy: its headers name the client only when the proxy is
/// trusted (`trusted_proxies`), so a client cannot escape the limit by naming a new
/// address with each request, and clients behind a trusted proxy are counted apart.
#[test]
fn the_client_address_comes_from_trusted_proxies_only() {
    use std::net::SocketAddr;
    let store = common::test_store();
    let limit = amenda::web::ratelimit::SIGN_IN_PER_MINUTE;
    let attempt = |c: &Client, t: &str, peer: &str, xff: Option<&str>, real: Option<&str>| {
        let mut req = c
            .post("/signin/demo")
            .header(ContentType::Form)
            .remote(peer.parse::<SocketAddr>().unwrap())
            .body(format!("csrf={t}&person=nobody&level=1"));
        if let Some(x) = xff {
            req = req.header(rocket::http::Header::new("X-Forwarded-For", x.to_string()));
        }
        if let Some(r) = real {
            req = req.header(rocket::http::Header::new("X-Real-IP", r.to_string()));
        }
        req.dispatch().status()
    };

    // No trusted proxy: a new X-Real-IP and X-Forwarded-For with each attempt change
    // nothing, the peer is the client.
    let c = client_with(&store, true);
    let t = csrf(&c);
    for i in 0..limit {
        let fake = format!("198.51.100.{i}");
        let got = attempt(&c, &t, "203.0.113.5:4000", Some(&fake), Some(&fake));
        assert_eq!(got, Status::BadRequest, "attempt {i}");
    }
    let got = attempt(
        &c,
        &t,
        "203.0.113.5:4001",
        Some("198.51.100.99"),
        Some("198.51.100.98"),
    );
    assert_eq!(got, Status::TooManyRequests);
    // Another peer is another client.
    assert_eq!(
        attempt(&c, &t, "203.0.113.6:4000", None, None),
        Status::BadRequest
    );

    // Behind a trusted proxy: the address it appended is the client; what the client
    // wrote to the left of it is not believed.
    let app = App::new(
        (*store).clone(),
        WebConfig {
            demo: true,
            trusted_proxies: amenda::web::client::TrustedProxies(vec!["127.0.0.1/32"
                .parse()
                .unwrap()]),
            ..WebConfig::default()
        },
    )
    .unwrap();
    let c = Client::tracked(build(test_figment(), app)).unwrap();
    let t = csrf(&c);
    for i in 0..limit {
        let xff = format!("6.6.6.{i}, 198.51.100.1");
        let got = attempt(&c, &t, "127.0.0.1:5000", Some(&xff), None);
        assert_eq!(got, Status::BadRequest, "attempt {i}");
    }
    let got = attempt(&c, &t, "127.0.0.1:5000", Some("198.51.100.1"), None);
    assert_eq!(got, Status::TooManyRequests);
    // Another client behind the same proxy still may, by X-Forwarded-For or X-Real-IP.
    let got = attempt(&c, &t, "127.0.0.1:5000", Some("198.51.100.2"), None);
    assert_eq!(got, Status::BadRequest);
    let got = attempt(&c, &t, "127.0.0.1:5000", None, Some("198.51.100.3"));
    assert_eq!(got, Status::BadRequest);
    // The proxy's own address, for a request it sent without saying for whom, is
    // counted as one client: it was not used up by the clients behind it.
    assert_eq!(
        attempt(&c, &t, "127.0.0.1:5000", None, None),
        Status::BadRequest
    );
    assert_eq!(session_count(&store), 0);
}

/// A person sees their pseudonym per bill (stable, different on each bill); a moderator
/// can re-identify one only with a reason, and every attempt is in the audit log.
#[test]
fn pseudonyms_and_logged_reidentification() {
    let store = common::test_store();
    common::fixtures::import_laws(&store);
    let camille = client_with(&store, true);
    let dominique = client_with(&store, true);
    demo_sign_in(&camille, "camille", 2);
    demo_sign_in(&dominique, "dominique", 1);
    let mut conn = store.conn().unwrap();
    let cam = amenda::service::identity::find_account(&mut conn, "demo:camille").unwrap();
    let key = [9u8; 32];
    let on_budget = amenda::domain::identity::pseudonym(&key, cam.id, "budget-participatif");
    let on_records = amenda::domain::identity::pseudonym(&key, cam.id, "open-council-records");
    assert_ne!(on_budget, on_records, "unlinkable across bills");

    let account = camille.get("/account").dispatch().into_string().unwrap();
    assert!(
        account.contains(&on_budget) && account.contains(&on_records),
        "{account}"
    );
    assert_eq!(
        camille.get("/moderation/reidentify").dispatch().status(),
        Status::Forbidden,
        "citizens cannot re-identify"
    );

    // No reason, or a malformed pseudonym: refused next to the field, input kept.
    let (status, page) = post_form(
        &dominique,
        "/moderation/reidentify",
        &format!("bill=budget-participatif&pseudonym={on_budget}&reason="),
    );
    assert_eq!(status, Status::UnprocessableEntity);
    assert!(page.contains("id=\"reason-error\""), "{page}");
    assert!(
        page.contains(&format!("value=\"{on_budget}\"")),
        "input kept"
    );
    let (status, page) = post_form(
        &dominique,
        "/moderation/reidentify",
        "bill=budget-participatif&pseudonym=XYZ&reason=court+order+123",
    );
    assert_eq!(status, Status::UnprocessableEntity);
    assert!(page.contains("id=\"pseudonym-error\""));

    // Typed loosely, on the right bill: found. On another bill: nobody.
    let loose = on_budget.to_lowercase().replace('-', " ");
    let (status, page) = post_form(
        &dominique,
        "/moderation/reidentify",
        &format!("bill=budget-participatif&pseudonym={loose}&reason=court+order+123"),
    );
    assert_eq!(status, Status::Ok);
    assert!(
        page.contains(&format!("href=\"/moderation/people/{}\"", cam.id)),
        "{page}"
    );
    let (_, page) = post_form(
        &dominique,
        "/moderation/reidentify",
        &format!("bill=open-council-records&pseudonym={on_budget}&reason=court+order+123"),
    );
    assert!(page.contains("id=\"reidentify-result\""));
    assert!(!page.contains(&format!("/moderation/people/{}\"", cam.id)));

    let entries: Vec<_> = amenda::store::audit::latest(&mut conn, 50)
        .unwrap()
        .into_iter()
        .filter(|e| e.action == "reidentify_pseudonym")
        .collect();
    assert_eq!(
        entries.len(),
        2,
        "each completed search is logged, found or not"
    );
    assert!(entries.iter().any(|e| e.subject_id == Some(cam.id)
        && e.details.contains("court order 123")
        && e.details.contains(&on_budget)));
}

#[test]
fn a_session_ends_after_its_hours_on_the_clock() {
    let store = common::test_store();
    let c = client_with(&store, true);
    assert_eq!(demo_sign_in(&c, "camille", 2).status(), Status::SeeOther);
    let m = me(&c);
    assert_eq!(m["signed_in"], true);
    // An hour before the end, the cookie still opens the session…
    let hours = amenda::service::identity::SESSION_HOURS;
    store.clock().advance(time::Duration::hours(hours - 1));
    assert_eq!(me(&c)["signed_in"], true);
    assert_eq!(session_count(&store), 1);
    // …and past it, the same cookie is nobody's: signed out, no active session left.
    store.clock().advance(time::Duration::minutes(61));
    assert_eq!(me(&c)["signed_in"], false);
    assert_eq!(session_count(&store), 0);
}
