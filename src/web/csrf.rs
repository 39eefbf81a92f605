//! CSRF protection by construction: every unsafe request (POST, PUT, PATCH, DELETE) is
//! refused unless it carries this browser's token, whatever the route remembers.
//!
//! - [`shield`] wraps the handler of every mounted route ([`super::build`] mounts through
//!   it). Before the route sees anything, a request with `X-CSRF-Token` must match the
//!   token of the `amenda_csrf` cookie; a URL-encoded form is let on only to a route that
//!   declares `format = "form"`, which reads it through [`Form`]; anything else is refused
//!   (a form sent to a JSON or bodyless route included).
//! - [`Form`] is the only way to read a form (Rocket's own `Form` is a disallowed type,
//!   see `clippy.toml`): it takes the `csrf` field out of the body and checks it before
//!   the route's own fields are even looked at, so a forged form gets 403, not 422.
//! - A route may be exempt only by being listed in [`EXEMPT`], with the reason.
//!
//! A refusal is a 403: the error page says the form has expired (`err_csrf`), the API
//! answers `{"error": "forbidden"}`. The integration test `csrf` enumerates the mounted
//! routes and proves that each unsafe one refuses a request without a token.

use super::auth::{CsrfToken, CSRF_COOKIE};
use rocket::data::{self, Data, FromData};
use rocket::form::{self, DataField, FromForm, Options, ValueField};
use rocket::http::{Method, Status};
use rocket::request::Request;
use rocket::route::{self, Handler, Route};
use std::sync::atomic::{AtomicU8, Ordering};

/// The header JSON writes carry the token in.
pub const HEADER: &str = "X-CSRF-Token";

/// An unsafe route that does not need the token, and why.
pub struct Exempt {
    pub method: Method,
    pub uri: &'static str,
    pub why: &'static str,
}

/// No route is exempt today: every form and JSON write comes from our own pages. A
/// route called by another site's server (an identity provider's back-channel logout,
/// say) would be listed here, with its own authentication named in `why`.
pub const EXEMPT: &[Exempt] = &[];

/// Whether a method changes anything (RFC 9110 §9.2.1: the others are safe).
fn is_unsafe(method: Method) -> bool {
    !matches!(
        method,
        Method::Get | Method::Head | Method::Options | Method::Trace
    )
}

/// The routes, each unsafe one (unless exempt) wrapped in the token check.
pub fn shield(routes: Vec<Route>) -> Vec<Route> {
    shield_except(routes, EXEMPT)
}

fn shield_except(routes: Vec<Route>, exempt: &[Exempt]) -> Vec<Route> {
    routes
        .into_iter()
        .map(|mut route| {
            let uri = route.uri.to_string();
            let is_exempt = exempt
                .iter()
                .any(|e| e.method == route.method && e.uri == uri);
            if is_unsafe(route.method) && !is_exempt {
                let takes_form = route.format.as_ref().is_some_and(|f| f.is_form());
                route.handler = Box::new(Shielded {
                    inner: route.handler.clone(),
                    takes_form,
                });
            }
            route
        })
        .collect()
}

/// Where the check of a request stands (kept in the request's local cache).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
enum Check {
    /// A safe method or an exempt route: nothing to check.
    NotNeeded = 0,
    /// The header's token matched, or the form's did.
    Passed = 1,
    /// A form to a route that declares `format = "form"`: [`Form`] checks its `csrf` field.
    InForm = 2,
    /// No token, or a wrong one: the request was refused.
    Refused = 3,
}

#[derive(Default)]
struct CheckState(AtomicU8);

impl CheckState {
    fn of<'a>(req: &'a Request<'_>) -> &'a CheckState {
        req.local_cache(CheckState::default)
    }

    fn get(&self) -> Check {
        match self.0.load(Ordering::Relaxed) {
            1 => Check::Passed,
            2 => Check::InForm,
            3 => Check::Refused,
            _ => Check::NotNeeded,
        }
    }

    fn set(&self, check: Check) {
        self.0.store(check as u8, Ordering::Relaxed);
    }
}

/// Whether this request was refused for its CSRF token (the error page says why).
pub fn refused(req: &Request<'_>) -> bool {
    CheckState::of(req).get() == Check::Refused
}

/// Whether `given` is the token of this browser's cookie (compared in constant time).
fn matches_cookie(req: &Request<'_>, given: &str) -> bool {
    req.cookies()
        .get_private(CSRF_COOKIE)
        .is_some_and(|c| CsrfToken(c.value().to_string()).verify(given))
}

/// A route's handler behind the token check.
#[derive(Clone)]
struct Shielded {
    inner: Box<dyn Handler>,
    /// The route declares `format = "form"`: its form's `csrf` field is checked by [`Form`].
    takes_form: bool,
}

#[rocket::async_trait]
impl Handler for Shielded {
    async fn handle<'r>(&self, req: &'r Request<'_>, data: Data<'r>) -> route::Outcome<'r> {
        let state = CheckState::of(req);
        let is_form = req.content_type().is_some_and(|c| c.is_form());
        match req.headers().get_one(HEADER) {
            Some(given) if matches_cookie(req, given) => state.set(Check::Passed),
            None if is_form && self.takes_form => state.set(Check::InForm),
            _ => {
                state.set(Check::Refused);
                return route::Outcome::Error(Status::Forbidden);
            }
        }
        let outcome = self.inner.handle(req, data).await;
        if state.get() == Check::InForm && outcome.is_success() {
            // A route declared `format = "form"` but answered without reading the form
            // through `Form`: the token was never checked. The `csrf` test catches such
            // a route before it ships.
            tracing::error!(uri = %req.uri(), "a form was answered without its CSRF check");
        }
        outcome
    }
}

/// A form whose `csrf` field matched this browser's token (or whose request carried
/// the token in `X-CSRF-Token`); the route's own fields are in `T`. The only way a
/// route reads a form.
#[derive(Debug)]
pub struct Form<T>(pub T);

impl<T> Form<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> std::ops::Deref for Form<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T> std::ops::DerefMut for Form<T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.0
    }
}

/// A form with nothing but its token (buttons: sign out, advance, close…).
pub struct NoFields;

#[rocket::async_trait]
impl<'r> FromForm<'r> for NoFields {
    type Context = ();
    fn init(_: Options) {}
    fn push_value(_: &mut (), _: ValueField<'r>) {}
    async fn push_data(_: &mut (), _: DataField<'r, '_>) {}
    fn finalize(_: ()) -> form::Result<'r, Self> {
        Ok(NoFields)
    }
}

/// The body split into the token and the route's fields, whose parse result is kept
/// so the token is checked first.
struct WithToken<'r, T> {
    csrf: Option<&'r str>,
    fields: form::Result<'r, T>,
}

struct WithTokenContext<'r, T: FromForm<'r>> {
    csrf: Option<&'r str>,
    fields: T::Context,
}

#[rocket::async_trait]
impl<'r, T: FromForm<'r>> FromForm<'r> for WithToken<'r, T> {
    type Context = WithTokenContext<'r, T>;

    fn init(opts: Options) -> Self::Context {
        WithTokenContext {
            csrf: None,
            fields: T::init(opts),
        }
    }

    fn push_value(ctxt: &mut Self::Context, field: ValueField<'r>) {
        if field.name == "csrf" {
            ctxt.csrf = Some(field.value);
        } else {
            T::push_value(&mut ctxt.fields, field);
        }
    }

    async fn push_data(ctxt: &mut Self::Context, field: DataField<'r, '_>) {
        T::push_data(&mut ctxt.fields, field).await;
    }

    fn push_error(ctxt: &mut Self::Context, error: form::Error<'r>) {
        T::push_error(&mut ctxt.fields, error);
    }

    fn finalize(ctxt: Self::Context) -> form::Result<'r, Self> {
        Ok(WithToken {
            csrf: ctxt.csrf,
            fields: T::finalize(ctxt.fields),
        })
    }
}

#[rocket::async_trait]
impl<'r, T: FromForm<'r>> FromData<'r> for Form<T> {
    type Error = form::Errors<'r>;

    async fn from_data(req: &'r Request<'_>, data: Data<'r>) -> data::Outcome<'r, Self> {
        // The one place Rocket's form parser is used: everything else goes through here.
        #[allow(clippy::disallowed_types)]
        let parsed = rocket::form::Form::<WithToken<'r, T>>::from_data(req, data).await;
        let body = match parsed {
            data::Outcome::Success(body) => body.into_inner(),
            data::Outcome::Error(e) => return data::Outcome::Error(e),
            data::Outcome::Forward(f) => return data::Outcome::Forward(f),
        };
        let state = CheckState::of(req);
        let passed = state.get() == Check::Passed
            || body.csrf.is_some_and(|given| matches_cookie(req, given));
        if !passed {
            state.set(Check::Refused);
            return data::Outcome::Error((Status::Forbidden, form::Errors::new()));
        }
        state.set(Check::Passed);
        match body.fields {
            Ok(fields) => data::Outcome::Success(Form(fields)),
            Err(e) => data::Outcome::Error((e.status(), e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rocket::local::blocking::Client;
    use rocket::{post, routes};

    #[post("/guarded")]
    fn guarded() -> &'static str {
        "done"
    }

    #[post("/exempt")]
    fn exempt() -> &'static str {
        "done"
    }

    #[rocket::get("/page")]
    fn page() -> &'static str {
        "page"
    }

    #[test]
    fn only_listed_routes_and_safe_methods_go_unchecked() {
        let listed = [Exempt {
            method: Method::Post,
            uri: "/exempt",
            why: "a test",
        }];
        let rocket = rocket::custom(super::super::test_figment())
            .mount("/", shield_except(routes![guarded, exempt, page], &listed));
        let client = Client::untracked(rocket).unwrap();
        assert_eq!(
            client.post("/guarded").dispatch().status(),
            Status::Forbidden
        );
        let res = client
            .post("/guarded")
            .header(rocket::http::Header::new(HEADER, "forged"))
            .dispatch();
        assert_eq!(res.status(), Status::Forbidden);
        assert_eq!(client.post("/exempt").dispatch().status(), Status::Ok);
        assert_eq!(client.get("/page").dispatch().status(), Status::Ok);
    }
}
