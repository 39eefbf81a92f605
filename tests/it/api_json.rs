//! Snapshots of the JSON API (docs/api.md): the read side (`/api/v1/bills…`, `/me`) and
//! a consultation's endpoints (article, preview, filing, refusal, list, amendment,
//! comment), in `snapshots/`, reviewed with `cargo insta review`. What varies from run
//! to run or between SQLite and PostgreSQL (times, ids, tokens, pseudonyms) is redacted,
//! so that the same snapshots hold on both backends.

use crate::common::fixtures::{self, person};
use crate::common::web::{csrf, demo_client, sign_in};
use crate::common::{self, TestStore};
use amenda::domain::ids::ConsultationId;
use amenda::service::consultation::NewConsultation;
use amenda::web::{PseudonymKey, WebConfig};
use rocket::http::{ContentType, Header, Status};
use rocket::local::blocking::Client;
use serde_json::{json, Value};

/// The redactions of every snapshot here.
fn settings() -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.set_sort_maps(true);
    for time in [
        "created_at",
        "updated_at",
        "filed_at",
        "imported_at",
        "decided_at",
        "expires_at",
    ] {
        s.add_redaction(&format!(".**.{time}"), "[time]");
    }
    // Row ids (of a consultation, a comment) come from sequences, and PostgreSQL's skip
    // the numbers rolled back inserts took. (`parent` is not one: a unit's parent is an
    // index, a version's its number.)
    for id in ["id", "consultation"] {
        s.add_redaction(&format!(".**.{id}"), "[id]");
    }
    s.add_redaction(".**.csrf_token", "[token]");
    s
}

/// `uri`'s status and JSON.
fn get(c: &Client, uri: &str) -> (Status, Value) {
    let res = c.get(uri.to_string()).dispatch();
    let status = res.status();
    let text = res.into_string().unwrap();
    (status, serde_json::from_str(&text).unwrap())
}

/// A JSON write with this browser's CSRF token: status and JSON.
fn send(c: &Client, uri: &str, body: Value) -> (Status, Value) {
    let token = csrf(c);
    let res = c
        .post(uri.to_string())
        .header(ContentType::JSON)
        .header(Header::new("X-CSRF-Token", token))
        .body(body.to_string())
        .dispatch();
    let status = res.status();
    let text = res.into_string().unwrap();
    (status, serde_json::from_str(&text).unwrap())
}

/// The JSON of `uri`, which must answer `expected`, with the consultation's id in it
/// replaced by `[consultation]` (it is also in URLs).
fn answer(status: Status, expected: Status, v: Value, id: ConsultationId) -> Value {
    assert_eq!(status, expected, "{v}");
    let text = v.to_string().replace(
        &format!("/consultations/{id}/"),
        "/consultations/[consultation]/",
    );
    serde_json::from_str(&text).unwrap()
}

fn client(store: &TestStore) -> Client {
    demo_client(
        store,
        WebConfig {
            pseudonym_key: Some(PseudonymKey(vec![7; 32])),
            ..WebConfig::default()
        },
    )
}

#[test]
fn read_api() {
    let store = common::test_store();
    fixtures::import_laws(&store);
    let c = client(&store);
    settings().bind(|| {
        let (status, bills) = get(&c, "/api/v1/bills");
        assert_eq!(status, Status::Ok);
        insta::assert_json_snapshot!("bills", bills);
        let (status, bill) = get(&c, "/api/v1/bills/open-council-records");
        assert_eq!(status, Status::Ok);
        insta::assert_json_snapshot!("bill", bill);
        let (status, version) = get(&c, "/api/v1/bills/budget-participatif/versions/3");
        assert_eq!(status, Status::Ok);
        insta::assert_json_snapshot!("version", version);
        let (status, diff) = get(
            &c,
            "/api/v1/bills/budget-participatif/diff?from=2&to=3&changed=true",
        );
        assert_eq!(status, Status::Ok);
        insta::assert_json_snapshot!("diff", diff);
        let (status, unknown) = get(&c, "/api/v1/bills/no-such-bill");
        assert_eq!(status, Status::NotFound);
        insta::assert_json_snapshot!("unknown_bill", unknown);

        insta::assert_json_snapshot!("me_anonymous", get(&c, "/api/v1/me").1);
        sign_in(&c, "camille", 2);
        insta::assert_json_snapshot!("me_signed_in", get(&c, "/api/v1/me").1);
    });
}

#[test]
fn consultation_api() {
    let store = common::test_store();
    fixtures::import_laws(&store);
    let form = NewConsultation {
        title: "Consultation en instantané",
        levels: [1, 2, 2],
        ..fixtures::consultation_form(3)
    };
    let id = fixtures::consultation(
        &store,
        &person(&store, "claire", 1),
        &form,
        amenda::domain::consultation::Phase::Amendments,
    );
    let art = fixtures::article(&store, id, "3");
    let c = client(&store);
    sign_in(&c, "camille", 2);
    let amendments = format!("/api/v1/consultations/{id}/amendments");
    let filing = |token: &str, text: &str, sha: &str, disclosure: &str| {
        json!({"article": art.wid, "article_sha256": sha, "text": text, "token": token,
               "justification": "Seize ans, c'est tôt.", "disclosure": disclosure})
    };
    let edited = art.body.replacen("seize", "dix-huit", 1);
    settings().bind(|| {
        let (s, v) = get(&c, &format!("/api/v1/consultations/{id}"));
        insta::assert_json_snapshot!("consultation", answer(s, Status::Ok, v, id));
        let (s, v) = get(
            &c,
            &format!("/api/v1/consultations/{id}/articles/{}", art.wid),
        );
        insta::assert_json_snapshot!("article", answer(s, Status::Ok, v, id));

        let mut preview = filing("snapshot-token-0001", &edited, &art.sha256, "name");
        preview["preview"] = json!(true);
        let (s, v) = send(&c, &amendments, preview);
        insta::assert_json_snapshot!("preview", answer(s, Status::Ok, v, id));
        let stale = "0".repeat(64);
        let (s, v) = send(
            &c,
            &amendments,
            filing("snapshot-token-0002", &edited, &stale, "name"),
        );
        insta::assert_json_snapshot!("stale_refused", answer(s, Status::Conflict, v, id));

        let (s, v) = send(
            &c,
            &amendments,
            filing("snapshot-token-0003", &edited, &art.sha256, "name"),
        );
        insta::assert_json_snapshot!("filed", answer(s, Status::Created, v, id));
        let (s, v) = get(&c, &amendments);
        insta::assert_json_snapshot!("amendments", answer(s, Status::Ok, v, id));
        let (s, v) = get(&c, "/api/v1/bills/budget-participatif/amendments/1");
        insta::assert_json_snapshot!("amendment", answer(s, Status::Ok, v, id));

        let (s, v) = send(
            &c,
            &format!("/api/v1/consultations/{id}/comments"),
            json!({"unit": art.wid, "body": "Un avis par l'API.", "token": "snapshot-comment-01"}),
        );
        insta::assert_json_snapshot!("comment", answer(s, Status::Created, v, id));
    });
}
