//! Who is asking: the session cookie, CSRF tokens, and the request guards that every
//! route uses ("signed in", "level ≥ n", "role r").

use super::AppState;
use crate::domain::identity::Role;
use crate::service::identity::{self, SessionInfo};
use rocket::http::{Cookie, CookieJar, SameSite, Status};
use rocket::request::{FromRequest, Outcome, Request};

pub const SESSION_COOKIE: &str = "amenda_session";
pub const CSRF_COOKIE: &str = "amenda_csrf";

fn cookie(name: &'static str, value: String, secure: bool) -> Cookie<'static> {
    Cookie::build((name, value))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(secure)
        .build()
}

/// The person behind the request, if signed in (looked up once per request).
#[derive(Debug, Clone)]
pub struct Viewer(pub Option<SessionInfo>);

#[rocket::async_trait]
impl<'r> FromRequest<'r> for Viewer {
    type Error = std::convert::Infallible;
    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        let viewer = req
            .local_cache_async(async {
                let token = req
                    .cookies()
                    .get_private(SESSION_COOKIE)?
                    .value()
                    .to_string();
                let app = req.rocket().state::<AppState>()?;
                super::run_blocking(app, move |app| {
                    let mut conn = app.reader.store().conn().ok()?;
                    let now = app.reader.store().clock().now();
                    identity::session(&mut conn, &token, now).ok().flatten()
                })
                .await
                .ok()
                .flatten()
            })
            .await;
        Outcome::Success(Viewer(viewer.clone()))
    }
}

/// A signed-in person; anyone else gets 401 (pages redirect to the sign-in page).
pub struct SignedIn(pub SessionInfo);

#[rocket::async_trait]
impl<'r> FromRequest<'r> for SignedIn {
    type Error = ();
    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        match req.guard::<Viewer>().await {
            Outcome::Success(Viewer(Some(s))) => Outcome::Success(SignedIn(s)),
            _ => Outcome::Error((Status::Unauthorized, ())),
        }
    }
}

/// Set on a request refused for too low a level: what was needed, and what the person had.
#[derive(Debug, Clone, Copy, Default)]
pub struct MissingLevel {
    pub wanted: u8,
    pub got: u8,
}

/// A signed-in person whose effective level is at least `N`; lower gets 403.
pub struct AtLeast<const N: u8>(pub SessionInfo);

#[rocket::async_trait]
impl<'r, const N: u8> FromRequest<'r> for AtLeast<N> {
    type Error = ();
    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        match req.guard::<SignedIn>().await {
            Outcome::Success(SignedIn(s)) if s.level().get() >= N => Outcome::Success(AtLeast(s)),
            Outcome::Success(SignedIn(s)) => {
                // The 403 page offers to sign in again at that level (step-up).
                req.local_cache(|| MissingLevel {
                    wanted: N,
                    got: s.level().get(),
                });
                Outcome::Error((Status::Forbidden, ()))
            }
            _ => Outcome::Error((Status::Unauthorized, ())),
        }
    }
}

/// Role markers for [`HasRole`].
pub trait RoleMarker {
    const ROLE: Role;
}
pub struct Moderator;
pub struct Staff;
pub struct Admin;
impl RoleMarker for Moderator {
    const ROLE: Role = Role::Moderator;
}
impl RoleMarker for Staff {
    const ROLE: Role = Role::Staff;
}
impl RoleMarker for Admin {
    const ROLE: Role = Role::Admin;
}

/// A signed-in person with role `R` (admins have every role); others get 403.
pub struct HasRole<R: RoleMarker>(pub SessionInfo, std::marker::PhantomData<R>);

#[rocket::async_trait]
impl<'r, R: RoleMarker> FromRequest<'r> for HasRole<R> {
    type Error = ();
    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        match req.guard::<SignedIn>().await {
            Outcome::Success(SignedIn(s)) if s.has_role(R::ROLE) => {
                Outcome::Success(HasRole(s, std::marker::PhantomData))
            }
            Outcome::Success(_) => Outcome::Error((Status::Forbidden, ())),
            _ => Outcome::Error((Status::Unauthorized, ())),
        }
    }
}

/// The CSRF token of this browser: a random value kept in a private (encrypted) cookie
/// and repeated in every form; a forged cross-site form cannot know it.
#[derive(Debug, Clone)]
pub struct CsrfToken(pub String);

impl CsrfToken {
    /// Checks a submitted token in constant time.
    pub fn verify(&self, given: &str) -> bool {
        given.len() == self.0.len()
            && given
                .bytes()
                .zip(self.0.bytes())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0
    }

    /// A new token (at sign-in and sign-out), replacing the cookie.
    pub fn rotate(jar: &CookieJar<'_>, secure: bool) -> CsrfToken {
        let token = identity::random_token().unwrap_or_default();
        jar.add_private(cookie(CSRF_COOKIE, token.clone(), secure));
        CsrfToken(token)
    }
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for CsrfToken {
    type Error = std::convert::Infallible;
    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        let token = req.local_cache(|| match req.cookies().get_private(CSRF_COOKIE) {
            Some(c) if c.value().len() == 64 => CsrfToken(c.value().to_string()),
            _ => CsrfToken::rotate(req.cookies(), secure(req)),
        });
        Outcome::Success(token.clone())
    }
}

/// Whether cookies get the `Secure` flag (configured when served behind TLS).
pub fn secure(req: &Request<'_>) -> bool {
    req.rocket()
        .state::<AppState>()
        .is_some_and(|a| a.config.secure_cookies)
}

/// Opens the session in the browser: a new session cookie and a new CSRF token.
pub fn set_session(jar: &CookieJar<'_>, token: String, secure: bool) {
    jar.add_private(cookie(SESSION_COOKIE, token, secure));
    CsrfToken::rotate(jar, secure);
}

pub fn clear_session(jar: &CookieJar<'_>) {
    jar.remove_private(Cookie::build(SESSION_COOKIE).path("/"));
}

/// The page header's view of a signed-in person: name, level, whether the admin and
/// moderation links show, and the token of the sign-out form.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Header {
    name: String,
    level: u8,
    csrf: String,
    admin: bool,
    moderator: bool,
}

impl Header {
    pub fn of(viewer: &Viewer, csrf: &CsrfToken) -> Option<Header> {
        viewer.0.as_ref().map(|s| Header {
            name: s.account.display_name.clone(),
            level: s.level().get(),
            csrf: csrf.0.clone(),
            admin: s.has_role(Role::Admin),
            moderator: s.has_role(Role::Moderator),
        })
    }
}
