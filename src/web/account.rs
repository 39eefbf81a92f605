//! Signing in and out, and the account page (level, roles, sessions).

use super::auth::{self, CsrfToken, SignedIn};
use super::csrf::{Form, NoFields};
use super::errors::AppError;
use super::{view, AppState, Ctx};
use crate::domain::identity::Level;
use crate::service::identity::{self, DEMO_PEOPLE};
use rocket::form::FromForm;
use rocket::http::{CookieJar, Status};
use rocket::response::content::RawHtml;
use rocket::response::Redirect;
use rocket::{get, post, routes, Route, State};

pub fn routes() -> Vec<Route> {
    routes![
        signin_page,
        demo_signin,
        account_page,
        end_session,
        end_all,
        signout
    ]
}

/// Only local paths are followed after signing in or switching language (no open
/// redirect), and only those a redirect can carry: anything else is `/`.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if is_local_path(n) => n.to_string(),
        _ => "/".to_string(),
    }
}

/// A path of this site: one `/` first (`//host` is another site), no `\\` (which
/// browsers read as `/`), no control or space character (browsers drop tabs and line
/// breaks, so `/\t/evil.example` would be `//evil.example` to them), and a URI that
/// Rocket's `Redirect` accepts (it answers 500 for one it cannot parse).
fn is_local_path(n: &str) -> bool {
    n.starts_with('/')
        && !n.starts_with("//")
        && !n.contains('\\')
        && !n.chars().any(|c| c.is_control() || c.is_whitespace())
        && rocket::http::uri::Reference::parse(n).is_ok()
}

/// The sign-in page: the configured providers (and the demo form in demo mode). With
/// `level`, it is a step-up: only providers that can confirm that level are offered.
#[get("/signin?<next>&<level>")]
fn signin_page(
    app: &State<AppState>,
    ctx: Ctx,
    csrf: CsrfToken,
    next: Option<&str>,
    level: Option<u8>,
) -> Result<RawHtml<String>, AppError> {
    let level = level.filter(|l| (1..=3).contains(l));
    let page = view::account::signin(app, &ctx, &csrf, safe_next(next), level);
    app.page(&ctx, &page).map(RawHtml)
}

#[derive(FromForm)]
struct DemoSignIn<'r> {
    person: &'r str,
    level: u8,
    next: Option<&'r str>,
}

/// The demo sign-in: exists only in demo mode (which only runs on loopback).
#[post("/signin/demo", format = "form", data = "<form>")]
async fn demo_signin(
    app: &State<AppState>,
    jar: &CookieJar<'_>,
    form: Form<DemoSignIn<'_>>,
    ua: UserAgent,
    _limit: super::ratelimit::SignInAttempt,
) -> Result<Redirect, AppError> {
    if !app.config.demo {
        return Err(AppError::key(Status::NotFound, "err_not_found"));
    }
    let person = DEMO_PEOPLE
        .iter()
        .find(|p| p.key == form.person)
        .ok_or_else(|| AppError::key(Status::BadRequest, "err_demo_person"))?;
    let level = Level::new(i64::from(form.level))
        .filter(|l| *l >= Level::LOW)
        .ok_or_else(|| AppError::key(Status::BadRequest, "err_demo_level"))?;
    let next = safe_next(form.next);
    let secure = app.config.secure_cookies;
    let token = super::blocking(app, move |app| {
        identity::demo_sign_in(app.reader.store(), person, level, &ua.0)
            .map(|(token, _)| token)
            .map_err(AppError::internal)
    })
    .await?;
    auth::set_session(jar, token, secure);
    Ok(Redirect::to(next))
}

/// The `User-Agent` header, shown in the list of sessions.
pub struct UserAgent(pub String);

#[rocket::async_trait]
impl<'r> rocket::request::FromRequest<'r> for UserAgent {
    type Error = std::convert::Infallible;
    async fn from_request(
        req: &'r rocket::Request<'_>,
    ) -> rocket::request::Outcome<Self, Self::Error> {
        rocket::request::Outcome::Success(UserAgent(
            req.headers()
                .get_one("User-Agent")
                .unwrap_or("")
                .chars()
                .take(200)
                .collect(),
        ))
    }
}

#[get("/account")]
async fn account_page(
    app: &State<AppState>,
    ctx: Ctx,
    me: SignedIn,
    csrf: CsrfToken,
) -> Result<RawHtml<String>, AppError> {
    super::blocking(app, move |app| {
        app.page(&ctx, &view::account::account(app, &ctx, &csrf, &me.0)?)
            .map(RawHtml)
    })
    .await
}

#[derive(FromForm)]
struct SessionForm<'r> {
    session: Option<&'r str>,
}

#[post("/account/sessions/end", format = "form", data = "<form>")]
async fn end_session(
    app: &State<AppState>,
    me: SignedIn,
    jar: &CookieJar<'_>,
    form: Form<SessionForm<'_>>,
) -> Result<Redirect, AppError> {
    let id = form
        .session
        .ok_or_else(|| AppError::key(Status::BadRequest, "err_no_session"))?
        .to_string();
    let me = me.0;
    let current = id == me.session_id;
    let ended = super::blocking(app, move |app| {
        identity::end_session(app.reader.store(), &me, &id).map_err(AppError::internal)
    })
    .await?;
    if !ended {
        return Err(AppError::key(Status::NotFound, "err_no_session"));
    }
    if current {
        auth::clear_session(jar);
        return Ok(Redirect::to("/"));
    }
    Ok(Redirect::to("/account"))
}

#[post("/account/sessions/end-all", format = "form", data = "<_csrf>")]
async fn end_all(
    app: &State<AppState>,
    me: SignedIn,
    jar: &CookieJar<'_>,
    _csrf: Form<NoFields>,
) -> Result<Redirect, AppError> {
    let me = me.0;
    super::blocking(app, move |app| {
        identity::end_all_sessions(app.reader.store(), &me).map_err(AppError::internal)
    })
    .await?;
    auth::clear_session(jar);
    Ok(Redirect::to("/"))
}

#[post("/signout", format = "form", data = "<_csrf>")]
async fn signout(
    app: &State<AppState>,
    me: SignedIn,
    jar: &CookieJar<'_>,
    _csrf: Form<NoFields>,
) -> Result<Redirect, AppError> {
    let me = me.0;
    let id = me.session_id.clone();
    let provider = me.provider.clone();
    let id_token = super::blocking(app, move |app| {
        let store = app.reader.store();
        let id_token = identity::session_id_token(store, &id).map_err(AppError::internal)?;
        identity::end_session(store, &me, &id).map_err(AppError::internal)?;
        Ok(id_token)
    })
    .await?;
    auth::clear_session(jar);
    CsrfToken::rotate(jar, app.config.secure_cookies);
    // RP-initiated logout: the provider ends its own session too, then sends the
    // person back to the home page.
    if let Some(id_token) = id_token {
        if let Some(url) = app.oidc.logout_url(&provider, &id_token).await {
            return Ok(Redirect::to(url));
        }
    }
    Ok(Redirect::to("/"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn next_is_local_only() {
        assert_eq!(super::safe_next(Some("/bills/x?v=2")), "/bills/x?v=2");
        for bad in ["//evil.example", "https://evil.example", "/\\evil", ""] {
            assert_eq!(super::safe_next(Some(bad)), "/");
        }
        assert_eq!(super::safe_next(None), "/");
        // What a redirect cannot carry, or a browser would read as another site.
        for bad in [
            "/\t/evil.example",
            "/\r\nSet-Cookie: a=b",
            "/x\0",
            "/\u{3000}/x",
            "/a b",
            "/\u{e9}t\u{e9}",
        ] {
            assert_eq!(super::safe_next(Some(bad)), "/", "{bad:?}");
        }
        // Percent-encoded, the same paths are fine.
        for good in ["/%E3%80%80", "/lois/%C3%A9t%C3%A9?v=2#art_1", "/a%20b"] {
            assert_eq!(super::safe_next(Some(good)), good);
        }
    }

    /// Any string as `next` gives a path of this site that a redirect accepts: 20,000
    /// strings drawn from the characters that break URIs and redirects.
    #[test]
    fn any_next_gives_a_local_path_a_redirect_accepts() {
        const PIECES: [&str; 24] = [
            "/",
            "//",
            "\\",
            "a",
            "Z",
            "0",
            "%",
            "%2F",
            "%E3%80%80",
            "?",
            "#",
            ":",
            "@",
            ".",
            "..",
            " ",
            "\t",
            "\r",
            "\n",
            "\0",
            "\u{3000}",
            "é",
            "https:",
            "[",
        ];
        // xorshift64: reproducible without a dependency.
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..20_000 {
            let len = (next() % 8) as usize;
            let s: String = (0..len)
                .map(|_| PIECES[(next() % PIECES.len() as u64) as usize])
                .collect();
            let got = super::safe_next(Some(&s));
            assert!(
                got.starts_with('/') && !got.starts_with("//"),
                "{s:?} → {got:?}"
            );
            assert!(got == s || got == "/", "{s:?} → {got:?}");
            // What Redirect::to parses it as: a Location header, never a 500.
            let uri = rocket::http::uri::Reference::parse(&got);
            assert!(uri.is_ok(), "{s:?} → {got:?}");
        }
    }
}
