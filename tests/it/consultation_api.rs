//! The JSON API of amendments and comments (docs/api.md): the same rules as the pages —
//! session cookie and `X-CSRF-Token`, levels, phases, stale forms, one-time keys, staff
//! only answers, rate limits — with `{error, message}` refusals. On the backend chosen
//! by AMENDA_TEST_DATABASE_URL.

use crate::common;
use amenda::domain::ids::ConsultationId;

use crate::common::web::{csrf, demo_client, sign_in};
use amenda::config::ModerationConfig;
use amenda::service::consultation::NewConsultation;
use amenda::web::{PseudonymKey, WebConfig};
use common::fixtures::{self, person};
use rocket::http::{ContentType, Header, Status};
use rocket::local::blocking::Client;
use serde_json::{json, Value};

/// A consultation on version 3 of `budget-participatif`, open for amendments, at levels
/// comment 1, amend 2, vote 2.
fn consultation(store: &common::TestStore) -> ConsultationId {
    fixtures::import_laws(store);
    let form = NewConsultation {
        title: "Consultation par l'API",
        levels: [1, 2, 2],
        ..fixtures::consultation_form(3)
    };
    fixtures::consultation(
        store,
        &person(store, "claire", 1),
        &form,
        amenda::domain::consultation::Phase::Amendments,
    )
}

fn client(store: &common::TestStore, post_limit: &str) -> Client {
    demo_client(
        store,
        WebConfig {
            pseudonym_key: Some(PseudonymKey(vec![7; 32])),
            moderation: ModerationConfig {
                post_limit: post_limit.into(),
                ..ModerationConfig::default()
            },
            ..WebConfig::default()
        },
    )
}

fn get(c: &Client, uri: &str) -> (Status, Value) {
    let res = c.get(uri.to_string()).dispatch();
    let status = res.status();
    (
        status,
        serde_json::from_str(&res.into_string().unwrap()).unwrap(),
    )
}

/// A JSON write with this browser's CSRF token.
fn send(c: &Client, uri: &str, body: Value) -> (Status, Value) {
    // First: the request takes the browser's cookies when it is made.
    let token = csrf(c);
    let res = c
        .post(uri.to_string())
        .header(ContentType::JSON)
        .header(Header::new("X-CSRF-Token", token))
        .body(body.to_string())
        .dispatch();
    let status = res.status();
    let text = res.into_string().unwrap_or_default();
    (
        status,
        serde_json::from_str(&text).unwrap_or(json!({ "raw": text })),
    )
}

#[test]
fn amendments_through_the_json_api_follow_the_rules_of_the_pages() {
    let store = common::test_store();
    let id = consultation(&store);
    let c = client(&store, "30/600");
    let (status, list) = get(&c, &format!("/api/v1/consultations/{id}"));
    assert_eq!(status, Status::Ok, "{list}");
    // The first article of the version, as the form starts from it.
    let wid = {
        let mut conn = store.conn().unwrap();
        let cons = amenda::store::consultations::by_id(&mut conn, id)
            .unwrap()
            .unwrap();
        amenda::store::units::for_version(&mut conn, cons.version_id)
            .unwrap()
            .into_iter()
            .find(|u| u.kind == amenda::text::UnitKind::Article)
            .unwrap()
            .wid
    };
    let (status, art) = get(&c, &format!("/api/v1/consultations/{id}/articles/{wid}"));
    assert_eq!(status, Status::Ok);
    let body = art["article"]["body"].as_str().unwrap().to_string();
    let sha = art["article"]["sha256"].as_str().unwrap().to_string();
    let word = body.split_whitespace().next().unwrap().to_string();
    let edited = body.replacen(&word, "Désormais,", 1);
    let filing = |token: &str, text: &str, sha: &str| {
        json!({"article": wid, "article_sha256": sha, "text": text, "token": token,
               "justification": "Plus clair.", "disclosure": "pseudonym"})
    };
    let uri = format!("/api/v1/consultations/{id}/amendments");

    // Not signed in: 401. Signed in without the token in the header: 403.
    let (status, e) = send(&c, &uri, filing("api-token-00000001", &edited, &sha));
    assert_eq!(
        (status, e["error"].as_str()),
        (Status::Unauthorized, Some("unauthorized")),
        "{e}"
    );
    sign_in(&c, "camille", 1);
    let res = c
        .post(uri.clone())
        .header(ContentType::JSON)
        .body(filing("api-token-00000001", &edited, &sha).to_string())
        .dispatch();
    assert_eq!(res.status(), Status::Forbidden);
    // Below the level: 403 level_too_low, nothing filed.
    let (status, e) = send(&c, &uri, filing("api-token-00000001", &edited, &sha));
    assert_eq!(
        (status, e["error"].as_str()),
        (Status::Forbidden, Some("level_too_low")),
        "{e}"
    );
    let (_, list) = get(&c, &uri);
    assert_eq!(list["total"], 0);

    sign_in(&c, "camille", 2);
    // A preview files nothing and shows the wording and the diff.
    let mut preview = filing("api-token-00000002", &edited, &sha);
    preview["preview"] = json!(true);
    let (status, p) = send(&c, &uri, preview);
    assert_eq!(status, Status::Ok, "{p}");
    assert!(p["diff_html"]
        .as_str()
        .unwrap()
        .contains("<ins>Désormais,</ins>"));
    assert!(p["operations"][0]["wording_fr"]
        .as_str()
        .unwrap()
        .contains("Désormais"));
    // Bad input: stale article, no change, unknown kind — each refused, nothing filed.
    let stale = "0".repeat(64);
    let (status, e) = send(&c, &uri, filing("api-token-00000003", &edited, &stale));
    assert_eq!(
        (status, e["error"].as_str()),
        (Status::Conflict, Some("stale")),
        "{e}"
    );
    let (status, e) = send(&c, &uri, filing("api-token-00000004", &body, &sha));
    assert_eq!(
        (status, e["error"].as_str()),
        (Status::BadRequest, Some("invalid")),
        "{e}"
    );
    let mut odd = filing("api-token-00000005", &edited, &sha);
    odd["kind"] = json!("rewrite");
    assert_eq!(send(&c, &uri, odd).0, Status::BadRequest);
    let (_, list) = get(&c, &uri);
    assert_eq!(list["total"], 0);

    // Filed: 201 with its number; the same request again files nothing more.
    let (status, filed) = send(&c, &uri, filing("api-token-00000006", &edited, &sha));
    assert_eq!(status, Status::Created, "{filed}");
    assert_eq!(filed["ref"], "AM-budget-participatif-1");
    let (status, again) = send(&c, &uri, filing("api-token-00000006", &edited, &sha));
    assert_eq!(status, Status::Created);
    assert_eq!(again["number"], filed["number"]);
    let (status, list) = get(&c, &format!("{uri}?author=pseudonym"));
    assert_eq!(status, Status::Ok);
    assert_eq!(list["total"], 1);
    assert_ne!(list["amendments"][0]["author"], "Camille Martin");
    assert_eq!(
        get(&c, &format!("{uri}?status=nonsense")).0,
        Status::BadRequest
    );
    let one = "/api/v1/bills/budget-participatif/amendments/1";
    let (status, a) = get(&c, one);
    assert_eq!(status, Status::Ok);
    assert_eq!(a["justification"], "Plus clair.");
    assert_eq!(a["revision"], 1);
    assert!(a["hidden"].is_null());

    // Someone else files the same change: both are listed as identical to each other,
    // here and on the list page.
    let other = client(&store, "30/600");
    sign_in(&other, "yanis", 2);
    let (status, twin) = send(&other, &uri, filing("api-token-00000007", &edited, &sha));
    assert_eq!(status, Status::Created, "{twin}");
    assert_eq!(twin["ref"], "AM-budget-participatif-2");
    let (_, list) = get(&c, &uri);
    assert_eq!(list["total"], 2);
    assert_eq!(
        list["amendments"][0]["identical"],
        json!(["AM-budget-participatif-2"])
    );
    assert_eq!(
        list["amendments"][1]["identical"],
        json!(["AM-budget-participatif-1"])
    );
    let page = c
        .get(format!("/consultations/{id}/amendments"))
        .dispatch()
        .into_string()
        .unwrap();
    assert_eq!(
        page.matches("href=\"/bills/budget-participatif/amendments/2\"")
            .count(),
        2,
        "amendment 2 is listed, and named identical to amendment 1"
    );

    // Corrected by its author: one new revision, even when sent twice; it is no longer
    // identical to the other.
    let correction = json!({"base_revision": 1, "article_sha256": sha,
        "text": body.replacen(&word, "Dorénavant,", 1), "justification": "Mieux dit."});
    let rectify = format!("{one}/rectify");
    let (status, r) = send(&c, &rectify, correction.clone());
    assert_eq!(
        (status, r["revision"].as_i64()),
        (Status::Ok, Some(2)),
        "{r}"
    );
    let (status, r) = send(&c, &rectify, correction);
    assert_eq!(
        (status, r["revision"].as_i64()),
        (Status::Ok, Some(2)),
        "{r}"
    );
    assert_eq!(get(&c, one).1["justification"], "Mieux dit.");
    assert_eq!(get(&c, &uri).1["amendments"][0]["identical"], json!([]));
    // Nobody else may correct or withdraw it.
    let (status, e) = send(
        &other,
        &rectify,
        json!({"base_revision": 2, "article_sha256": sha, "text": edited, "justification": "x"}),
    );
    assert!(
        status == Status::Forbidden || status == Status::NotFound,
        "{status} {e}"
    );
    assert_eq!(
        send(&other, &format!("{one}/withdraw"), json!({})).0,
        Status::NotFound
    );
    // Its author withdraws it, once.
    let (status, w) = send(&c, &format!("{one}/withdraw"), json!({}));
    assert_eq!(
        (status, w["status"].as_str()),
        (Status::Ok, Some("withdrawn")),
        "{w}"
    );
    assert_eq!(
        send(&c, &format!("{one}/withdraw"), json!({})).0,
        Status::Conflict
    );
    assert_eq!(get(&c, one).1["status"], "withdrawn");
    assert_eq!(
        get(&c, "/api/v1/bills/budget-participatif/amendments/99").0,
        Status::NotFound
    );
}

#[test]
fn comments_and_answers_through_the_json_api() {
    let store = common::test_store();
    let id = consultation(&store);
    let c = client(&store, "5/600");
    let wid = {
        let (_, art) = get(
            &c,
            &format!("/api/v1/consultations/{id}/comments?article=x"),
        );
        assert_eq!(art["comments"], json!([]));
        let mut conn = store.conn().unwrap();
        let cons = amenda::store::consultations::by_id(&mut conn, id)
            .unwrap()
            .unwrap();
        amenda::store::units::for_version(&mut conn, cons.version_id)
            .unwrap()
            .into_iter()
            .find(|u| u.kind == amenda::text::UnitKind::Article)
            .unwrap()
            .wid
    };
    let uri = format!("/api/v1/consultations/{id}/comments");
    sign_in(&c, "camille", 1);
    let (status, made) = send(
        &c,
        &uri,
        json!({"unit": wid, "body": "Un avis envoyé par l'API.", "token": "api-comment-000001"}),
    );
    assert_eq!(status, Status::Created, "{made}");
    assert_eq!(made["author"], "Camille Martin");
    // The same key again posts nothing more.
    let (status, same) = send(
        &c,
        &uri,
        json!({"unit": wid, "body": "Un avis envoyé par l'API.", "token": "api-comment-000001"}),
    );
    assert_eq!((status, &same["id"]), (Status::Created, &made["id"]));
    // A reply; a unit that is not in the version is refused.
    let (status, reply) = send(
        &c,
        &uri,
        json!({"parent": made["id"], "body": "Je précise.", "token": "api-comment-000002"}),
    );
    assert_eq!(status, Status::Created, "{reply}");
    assert_eq!(reply["parent"], made["id"]);
    let (status, e) = send(
        &c,
        &uri,
        json!({"unit": "nowhere", "body": "?", "token": "api-comment-000003"}),
    );
    assert_eq!(
        (status, e["error"].as_str()),
        (Status::NotFound, Some("not_found")),
        "{e}"
    );
    let (_, read) = get(&c, &format!("{uri}?article={wid}"));
    assert_eq!(read["comments"].as_array().unwrap().len(), 1);
    assert_eq!(read["comments"][0]["replies"].as_array().unwrap().len(), 1);

    // Answers are for staff.
    let answers = format!("/api/v1/consultations/{id}/answers");
    let (status, e) = send(
        &c,
        &answers,
        json!({"parent": made["id"], "body": "Réponse.", "token": "api-answer-0000001"}),
    );
    assert_eq!(
        (status, e["error"].as_str()),
        (Status::Forbidden, Some("forbidden")),
        "{e}"
    );

    // Beyond the posting limit (5 here: every attempt counts, refusals too): 429 with Retry-After.
    let res = c
        .post(uri.clone())
        .header(ContentType::JSON)
        .header(Header::new("X-CSRF-Token", csrf(&c)))
        .body(json!({"unit": wid, "body": "Encore.", "token": "api-comment-000004"}).to_string())
        .dispatch();
    assert_eq!(res.status(), Status::TooManyRequests);
    assert!(
        res.headers()
            .get_one("Retry-After")
            .unwrap()
            .parse::<i64>()
            .unwrap()
            > 0
    );
    let e: Value = serde_json::from_str(&res.into_string().unwrap()).unwrap();
    assert_eq!(e["error"], "rate_limited");

    let staff = client(&store, "30/600");
    sign_in(&staff, "claire", 1);
    let (status, answer) = send(
        &staff,
        &answers,
        json!({"parent": made["id"], "body": "La commune étudiera ce point.", "token": "api-answer-0000002"}),
    );
    assert_eq!(status, Status::Created, "{answer}");
    assert_eq!(answer["kind"], "answer");
}
