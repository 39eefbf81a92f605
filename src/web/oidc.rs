//! Signing in through an OpenID Connect provider: sending the browser there, and taking
//! its answer back (DESIGN §4). The protocol checks live in `crate::oidc`; this module
//! binds each flow to the browser, makes every answer single-use, and opens the session.

use super::account::{safe_next, UserAgent};
use super::auth;
use super::errors::AppError;
use super::AppState;
use crate::oidc::{OidcError, PendingFlow};
use crate::service::identity;
use rocket::http::{Cookie, CookieJar, SameSite, Status};
use rocket::response::Redirect;
use rocket::{get, routes, Route, State};

pub fn routes() -> Vec<Route> {
    routes![start, callback]
}

/// Holds the `state` of the sign-in under way, so that only the browser that started a
/// sign-in can finish it (no login CSRF).
pub const FLOW_COOKIE: &str = "amenda_oidc";

/// Sends the browser to the provider, asking for at least `level` when given (step-up).
#[get("/signin/<provider>?<next>&<level>", rank = 2)]
async fn start(
    app: &State<AppState>,
    jar: &CookieJar<'_>,
    provider: &str,
    next: Option<&str>,
    level: Option<u8>,
    _limit: super::ratelimit::SignInAttempt,
) -> Result<Redirect, AppError> {
    let name = provider_name(app, provider)?;
    let level = level.unwrap_or(0).min(3);
    let (url, flow) = app
        .oidc
        .start(provider, level, safe_next(next))
        .await
        .map_err(|e| oidc_error(&name, e))?;
    let state = flow.state.clone();
    super::blocking(app, move |app| {
        Ok(identity::begin_flow(app.reader.store(), &flow)?)
    })
    .await?;
    jar.add_private(
        Cookie::build((FLOW_COOKIE, state))
            .path("/signin")
            .http_only(true)
            // Lax: the provider's redirect back is a top-level GET, which carries it.
            .same_site(SameSite::Lax)
            .secure(app.config.secure_cookies)
            .max_age(rocket::time::Duration::minutes(identity::FLOW_MINUTES))
            .build(),
    );
    Ok(Redirect::to(url))
}

/// The provider's answer. Everything is checked before a session is opened: the state
/// against this browser's cookie and the stored flow (taken, hence single-use), the
/// issuer, then the code exchange and the ID token (`crate::oidc`).
#[allow(clippy::too_many_arguments)]
#[get("/signin/<provider>/callback?<code>&<state>&<iss>&<error>&<error_description>")]
async fn callback(
    app: &State<AppState>,
    jar: &CookieJar<'_>,
    provider: &str,
    code: Option<&str>,
    state: Option<&str>,
    iss: Option<&str>,
    error: Option<&str>,
    error_description: Option<&str>,
    ua: UserAgent,
) -> Result<Redirect, AppError> {
    // No rate limit here: an answer is only accepted for a flow that a (rate-limited)
    // start stored, once.
    let name = provider_name(app, provider)?;
    let cookie_state = jar.get_private(FLOW_COOKIE).map(|c| c.value().to_string());
    jar.remove_private(Cookie::build(FLOW_COOKIE).path("/signin"));
    let invalid_state = || {
        let name = name.clone();
        AppError::new(Status::BadRequest, move |t| {
            t.fmt("err_oidc_state", &[("provider", &name)])
        })
    };
    let state = state.ok_or_else(invalid_state)?.to_string();
    // In constant time: how much of a guess matched must not show in the answer's delay.
    let same = cookie_state
        .as_deref()
        .is_some_and(|c| subtle::ConstantTimeEq::ct_eq(c.as_bytes(), state.as_bytes()).into());
    if !same {
        refused(app, provider, "state_mismatch").await;
        return Err(invalid_state());
    }
    let taken = state.clone();
    let flow = super::blocking(app, move |app| {
        Ok(identity::take_flow(app.reader.store(), &taken)?)
    })
    .await?;
    let Some(flow) = flow.filter(|f| f.provider == provider) else {
        refused(app, provider, "unknown_or_used_state").await;
        return Err(invalid_state());
    };
    let finished = match (error, code) {
        (Some(error), _) => Err(OidcError::Refused {
            error: error.chars().take(64).collect(),
            description: error_description.map(|d| d.chars().take(200).collect()),
        }),
        (None, Some(code)) => app.oidc.finish(&flow, code, iss).await,
        (None, None) => Err(OidcError::Token("the answer holds no code".into())),
    };
    let who = match finished {
        Ok(who) => who,
        Err(e) => {
            refused(app, provider, reason(&e)).await;
            return Err(oidc_error(&name, e));
        }
    };
    let secure = app.config.secure_cookies;
    let provider_id = provider.to_string();
    let PendingFlow { next, .. } = flow;
    let token = super::blocking(app, move |app| {
        let store = app.reader.store();
        let (token, info) = identity::sign_in(
            store,
            &identity::Authenticated {
                provider: &provider_id,
                subject: &who.subject,
                display_name: &who.display_name,
                email: who.email.as_deref(),
                level: who.level,
                acr: who.acr.as_deref(),
                user_agent: &ua.0,
                id_token: Some(&who.id_token),
            },
        )?;
        identity::grant_first_admin(store, &info, app.config.first_admin.as_deref())?;
        Ok(token)
    })
    .await?;
    auth::set_session(jar, token, secure);
    Ok(Redirect::to(next))
}

fn provider_name(app: &AppState, id: &str) -> Result<String, AppError> {
    app.oidc
        .provider(id)
        .map(|p| p.name.clone())
        .ok_or_else(|| {
            let id = id.to_string();
            AppError::new(Status::NotFound, move |t| {
                t.fmt("err_unknown_provider", &[("id", &id)])
            })
        })
}

/// A short, non-personal name for the audit log.
fn reason(e: &OidcError) -> &'static str {
    match e {
        OidcError::UnknownProvider(_) => "unknown_provider",
        OidcError::Unavailable(_) => "provider_unavailable",
        OidcError::Refused { .. } => "refused_by_provider",
        OidcError::IssuerMismatch(_) => "issuer_mismatch",
        OidcError::IssuerMissing => "issuer_missing",
        OidcError::Token(_) => "code_refused",
        OidcError::IdToken(_) => "invalid_id_token",
        OidcError::UnknownAcr(_) => "unknown_acr",
        OidcError::LevelTooLow { .. } => "level_too_low",
        OidcError::UserInfo(_) => "userinfo_failed",
    }
}

/// Failed sign-ins are kept in the audit log (no personal data: the provider and why).
async fn refused(app: &AppState, provider: &str, why: &'static str) {
    tracing::warn!(provider, why, "sign-in refused");
    let provider = provider.to_string();
    let _ = super::run_blocking(app, move |app| {
        identity::record_refused_sign_in(app.reader.store(), &provider, why)
    })
    .await;
}

/// The page a person sees when a sign-in fails: what happened, in their language.
fn oidc_error(provider: &str, e: OidcError) -> AppError {
    let p = provider.to_string();
    match e {
        OidcError::UnknownProvider(id) => AppError::new(Status::NotFound, move |t| {
            t.fmt("err_unknown_provider", &[("id", &id)])
        }),
        OidcError::Unavailable(detail) => {
            tracing::warn!(%detail, "identity provider unavailable");
            AppError::new(Status::BadGateway, move |t| {
                t.fmt("err_oidc_unavailable", &[("provider", &p)])
            })
        }
        OidcError::Refused { error, .. } if error == "access_denied" => {
            AppError::new(Status::BadRequest, move |t| {
                t.fmt("err_oidc_cancelled", &[("provider", &p)])
            })
        }
        OidcError::Refused { error, .. } => AppError::new(Status::BadRequest, move |t| {
            t.fmt("err_oidc_refused", &[("provider", &p), ("error", &error)])
        }),
        OidcError::LevelTooLow { got, wanted } => AppError::new(Status::Forbidden, move |t| {
            t.fmt(
                "err_oidc_level",
                &[("provider", &p), ("got", &got), ("wanted", &wanted)],
            )
        }),
        other => {
            tracing::warn!(detail = %other, "sign-in answer failed a check");
            AppError::new(Status::BadRequest, move |t| {
                t.fmt("err_oidc_invalid", &[("provider", &p)])
            })
        }
    }
}
