//! CSRF by construction: every unsafe route Rocket mounts refuses a request that does not
//! carry this browser's token, before its handler runs, and says why; with the token the
//! same request is not refused for it. A new route is covered without being listed.

use crate::common;

use amenda::web::errors::CSRF_REFUSED;
use amenda::web::WebConfig;
use common::web::{csrf, demo_client, sign_in};
use rocket::http::{ContentType, Header, Method, Status};
use rocket::local::blocking::{Client, LocalResponse};

/// The English error page of a refused form (templates/i18n/en.json `err_csrf`).
const FORM_REFUSED: &str = "This form has expired or did not come from this site";

/// A concrete path for a route: its parameters filled with "1" (every parameter of an
/// unsafe route is a number or a name, so the route itself is reached).
fn concrete(uri: &str) -> String {
    uri.split('?')
        .next()
        .unwrap()
        .split('/')
        .map(|seg| if seg.starts_with('<') { "1" } else { seg })
        .collect::<Vec<_>>()
        .join("/")
}

fn send<'c>(
    c: &'c Client,
    method: Method,
    path: &str,
    content: Option<ContentType>,
    header: Option<&str>,
    body: &str,
) -> LocalResponse<'c> {
    let mut req = c.req(method, path.to_string()).body(body);
    if let Some(ct) = content {
        req = req.header(ct);
    }
    if let Some(token) = header {
        req = req.header(Header::new("X-CSRF-Token", token.to_string()));
    }
    req.dispatch()
}

/// Refused for its token: 403, and the page or the JSON says so.
fn assert_refused(res: LocalResponse<'_>, what: &str) {
    assert_eq!(res.status(), Status::Forbidden, "{what}");
    let body = res.into_string().unwrap_or_default();
    assert!(
        body.contains(FORM_REFUSED) || body.contains(CSRF_REFUSED),
        "{what}: the refusal says why: {body}"
    );
}

fn is_refused_for_token(res: LocalResponse<'_>) -> bool {
    let status = res.status();
    let body = res.into_string().unwrap_or_default();
    status == Status::Forbidden && (body.contains(FORM_REFUSED) || body.contains(CSRF_REFUSED))
}

#[test]
fn every_unsafe_route_refuses_a_request_without_the_token() {
    let store = common::test_store();
    let c = demo_client(&store, WebConfig::default());
    // An admin at the highest level passes every other guard, so a refusal can only be
    // the token's.
    sign_in(&c, "admin", 3);
    let safe = [Method::Get, Method::Head, Method::Options, Method::Trace];
    // Each route, and the media type it accepts when it says (a JSON route is not even
    // matched by a form: that request never reaches it).
    let routes: Vec<(Method, String, Option<String>)> = c
        .rocket()
        .routes()
        .filter(|r| !safe.contains(&r.method))
        .map(|r| {
            (
                r.method,
                r.uri.to_string(),
                r.format.as_ref().map(|f| f.to_string()),
            )
        })
        .collect();
    assert!(
        routes.len() >= 35,
        "the unsafe routes are found: {routes:?}"
    );
    assert!(amenda::web::csrf::EXEMPT.iter().all(|e| !e.why.is_empty()));
    let wrong = "0".repeat(64);
    for (method, uri, format) in &routes {
        if amenda::web::csrf::EXEMPT
            .iter()
            .any(|e| e.method == *method && e.uri == uri)
        {
            continue;
        }
        let path = concrete(uri);
        let what = |case: &str| format!("{method} {uri}: {case}");
        let form = Some(ContentType::Form);
        let json = Some(ContentType::JSON);
        let plain = Some(ContentType::Plain);
        let cases: [(&Option<ContentType>, Option<&str>, String, &str); 7] = [
            (
                &form,
                None,
                "reason=spam".into(),
                "a form without its token",
            ),
            (
                &form,
                None,
                format!("csrf={wrong}"),
                "a form with another token",
            ),
            (&form, None, String::new(), "an empty form"),
            (&json, None, "{}".into(), "JSON without the header"),
            (&json, Some(&wrong), "{}".into(), "JSON with another token"),
            (&None, None, String::new(), "no body"),
            (&plain, None, "csrf=x".into(), "plain text"),
        ];
        for (content, header, body, case) in cases {
            let res = send(&c, *method, &path, content.clone(), header, &body);
            // A route that says what it accepts is not even matched by another type:
            // that request never reaches it.
            let matched = match format {
                Some(f) => content
                    .as_ref()
                    .is_some_and(|ct| ct.media_type().to_string() == *f),
                None => true,
            };
            if matched {
                assert_refused(res, &what(case));
            } else {
                assert_eq!(res.status(), Status::NotFound, "{}", what(case));
            }
        }
    }
    // Nothing was done: the admin is still signed in (sign-out and session ends were
    // refused too).
    let me: serde_json::Value =
        serde_json::from_str(&c.get("/api/v1/me").dispatch().into_string().unwrap()).unwrap();
    assert_eq!(me["signed_in"], true);

    // With the token, no route refuses for it, whatever else it then says: in the
    // `csrf` field of a form to a form route, and in `X-CSRF-Token` to every route (with
    // the type the route takes). The token is read again each time: signing out renews it.
    let form_type = ContentType::Form.media_type().to_string();
    for (method, uri, format) in &routes {
        let path = concrete(uri);
        if format.as_ref() == Some(&form_type) {
            let token = csrf(&c);
            let body = format!("csrf={token}");
            let res = send(&c, *method, &path, Some(ContentType::Form), None, &body);
            assert!(
                !is_refused_for_token(res),
                "{method} {uri}: form with token"
            );
        }
        let token = csrf(&c);
        let (content, body) = match format {
            Some(f) if *f == form_type => (Some(ContentType::Form), ""),
            Some(_) => (Some(ContentType::JSON), "{}"),
            None => (None, ""),
        };
        let res = send(&c, *method, &path, content, Some(&token), body);
        assert!(
            !is_refused_for_token(res),
            "{method} {uri}: header with token"
        );
    }

    // A form to a route that takes no form is refused even with the right `csrf` field:
    // only routes that say `format = "form"` read one, through the checking `Form`.
    for (method, uri, format) in &routes {
        if format.is_none() {
            let body = format!("csrf={}", csrf(&c));
            let res = send(
                &c,
                *method,
                &concrete(uri),
                Some(ContentType::Form),
                None,
                &body,
            );
            assert_refused(
                res,
                &format!("{method} {uri}: a form to a route without one"),
            );
        }
    }
}
