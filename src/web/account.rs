//! Signing in and out, and the account page (level, roles, sessions).

use super::auth::{self, CsrfToken, SignedIn};
use super::csrf::{Form, NoFields};
use super::errors::AppError;
use super::{AppState, Ctx};
use crate::domain::identity::Level;
use crate::service::identity::{self, DEMO_PEOPLE};
use crate::store;
use rocket::form::FromForm;
use rocket::http::{CookieJar, Status};
use rocket::response::content::RawHtml;
use rocket::response::Redirect;
use rocket::{get, post, routes, Route, State};
use serde_json::{json, Map, Value};

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
/// redirect).
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.to_string(),
        _ => "/".to_string(),
    }
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
    let t = ctx.lang.tr();
    let level = level.filter(|l| (1..=3).contains(l));
    let next_path = safe_next(next);
    let query = format!(
        "next={}{}",
        super::url_encode(&next_path),
        level.map(|l| format!("&level={l}")).unwrap_or_default()
    );
    let providers: Vec<Value> = app
        .oidc
        .providers()
        .filter(|p| p.max_level() >= level.unwrap_or(1))
        .map(|p| {
            json!({
                "name": p.name,
                "href": format!("/signin/{}?{query}", p.id),
                "label": t.fmt("signin_with", &[("provider", &p.name)]),
            })
        })
        .collect();
    let levels: Vec<Value> = (1..=3u8)
        .map(|l| {
            json!({"value": l, "name": t.get(&format!("level_{l}")), "checked": l == level.unwrap_or(1)})
        })
        .collect();
    let people: Vec<Value> = DEMO_PEOPLE
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let roles: Vec<&str> = p
                .roles
                .iter()
                .map(|r| t.get(&format!("role_{}", r.as_str())))
                .collect();
            json!({"key": p.key, "name": p.name, "roles": roles.join(", "), "first": i == 0})
        })
        .collect();
    let mut data = Map::new();
    data.insert("demo_signin".into(), json!(app.config.demo));
    data.insert("people".into(), json!(people));
    data.insert("csrf".into(), json!(csrf.0));
    data.insert("next_path".into(), json!(next_path));
    data.insert("providers".into(), json!(providers));
    data.insert("levels".into(), json!(levels));
    data.insert(
        "step_up".into(),
        json!(level.map(|l| t.fmt("signin_step_up", &[("level", &l)]))),
    );
    data.insert("signed_in".into(), json!(ctx.viewer.is_some()));
    app.render("signin", &ctx, t.get("signin_title"), data)
        .map(RawHtml)
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
            .map_err(|e| AppError::internal(e.to_string()))
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
    let lang = ctx.lang;
    let me = me.0;
    super::blocking(app, move |app| {
        let t = lang.tr();
        let mut conn = app
            .reader
            .store()
            .conn()
            .map_err(|e| AppError::internal(e.to_string()))?;
        let sessions =
            store::sessions::active_for_account(&mut conn, me.account.id, &identity::now())
                .map_err(|e| AppError::internal(e.to_string()))?;
        let sessions: Vec<Value> = sessions
            .iter()
            .map(|s| {
                json!({
                    "id": s.id,
                    "current": s.id == me.session_id,
                    "created": s.created_at.replace('T', " ").trim_end_matches('Z').to_string(),
                    "expires": s.expires_at.replace('T', " ").trim_end_matches('Z').to_string(),
                    "provider": s.provider,
                    "level": s.level,
                    "agent": s.user_agent,
                })
            })
            .collect();
        let roles: Vec<&str> = me
            .roles
            .iter()
            .map(|r| t.get(&format!("role_{}", r.as_str())))
            .collect();
        // Where the effective level comes from: a verification when it raises it.
        let source = match (&me.verified, &me.acr) {
            (Some((l, until)), _) if *l > me.session_level => {
                t.fmt("level_source_verified", &[("until", until)])
            }
            (_, Some(acr)) => t.fmt(
                "level_source_acr",
                &[("provider", &me.provider), ("acr", acr)],
            ),
            (_, None) => t.fmt("level_source_default", &[("provider", &me.provider)]),
        };
        let mut data = Map::new();
        data.insert("name".into(), json!(me.account.display_name));
        data.insert("email".into(), json!(me.account.email));
        data.insert("level".into(), json!(me.level().get()));
        data.insert(
            "level_name".into(),
            json!(t.get(&format!("level_{}", me.level().get()))),
        );
        data.insert("level_source".into(), json!(source));
        data.insert(
            "roles".into(),
            json!(if roles.is_empty() {
                t.get("role_citizen").to_string()
            } else {
                roles.join(", ")
            }),
        );
        data.insert("sessions".into(), json!(sessions));
        let pseudonyms: Vec<Value> = store::bills::list(&mut conn)
            .map_err(|e| AppError::internal(e.to_string()))?
            .into_iter()
            .map(|b| {
                json!({
                    "slug": b.bill.slug,
                    "title": b.bill.meta.title,
                    "pseudonym": crate::domain::identity::pseudonym(&app.pseudonym_key, me.account.id, &b.bill.slug),
                })
            })
            .collect();
        data.insert("pseudonyms".into(), json!(pseudonyms));
        data.insert("csrf".into(), json!(csrf.0));
        app.render("account", &ctx, t.get("account_title"), data)
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
        identity::end_session(app.reader.store(), &me, &id)
            .map_err(|e| AppError::internal(e.to_string()))
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
        identity::end_all_sessions(app.reader.store(), &me)
            .map_err(|e| AppError::internal(e.to_string()))
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
        let id_token = identity::session_id_token(store, &id)
            .map_err(|e| AppError::internal(e.to_string()))?;
        identity::end_session(store, &me, &id).map_err(|e| AppError::internal(e.to_string()))?;
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
    }
}
