//! A browser for the page tests: Rocket's local client on a demo-mode app over the
//! test's store, in English, with the helpers every page test needs.

use super::TestStore;
use amenda::web::{build, test_figment, App, WebConfig};
use rocket::http::{ContentType, Status};
use rocket::local::blocking::Client;

/// A demo-mode client (demo sign-in available) with the given configuration, whose
/// pages come in English.
pub fn demo_client(store: &TestStore, config: WebConfig) -> Client {
    let app = App::new(
        (**store).clone(),
        WebConfig {
            demo: true,
            ..config
        },
    )
    .unwrap();
    let c = Client::tracked(build(test_figment(), app)).unwrap();
    c.get("/lang/en?next=/").dispatch();
    c
}

/// This browser's CSRF token.
pub fn csrf(c: &Client) -> String {
    let me: serde_json::Value =
        serde_json::from_str(&c.get("/api/v1/me").dispatch().into_string().unwrap()).unwrap();
    me["csrf_token"].as_str().unwrap().to_string()
}

/// Signs a demo person in at `level`.
pub fn sign_in(c: &Client, person: &str, level: u8) {
    let t = csrf(c);
    let res = c
        .post("/signin/demo")
        .header(ContentType::Form)
        .body(format!("csrf={t}&person={person}&level={level}&next=/"))
        .dispatch();
    assert_eq!(res.status(), Status::SeeOther);
}

/// Posts a form with this browser's CSRF token: status, body and `Location`.
pub fn post(c: &Client, uri: &str, body: &str) -> (Status, String, Option<String>) {
    let t = csrf(c);
    let res = c
        .post(uri.to_string())
        .header(ContentType::Form)
        .body(format!("csrf={t}&{body}"))
        .dispatch();
    let loc = res.headers().get_one("Location").map(str::to_string);
    (res.status(), res.into_string().unwrap_or_default(), loc)
}

/// Gets a page: status and body.
pub fn get(c: &Client, uri: &str) -> (Status, String) {
    let res = c.get(uri.to_string()).dispatch();
    (res.status(), res.into_string().unwrap_or_default())
}
