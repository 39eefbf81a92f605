//! The sign-in page and the account page (level, roles, sessions, pseudonyms).

use super::Page;
use crate::domain::identity::{pseudonym, Role};
use crate::service::identity::{SessionInfo, DEMO_PEOPLE};
use crate::store;
use crate::web::auth::CsrfToken;
use crate::web::errors::AppError;
use crate::web::i18n::Translations;
use crate::web::{App, Ctx};
use serde::Serialize;

/// Roles by name, comma-separated.
fn role_names(t: &Translations, roles: &[Role]) -> String {
    roles
        .iter()
        .map(|r| t.get(&format!("role_{}", r.as_str())))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `/signin`: the configured providers (and the demo form in demo mode). With a level,
/// a step-up: only providers that can confirm that level are offered.
#[derive(Serialize)]
pub struct SignIn {
    /// Demo mode: the form signing in as one of the demo people.
    demo_signin: bool,
    people: Vec<DemoPersonItem>,
    csrf: String,
    /// Where to go once signed in (a local path).
    next_path: String,
    providers: Vec<ProviderItem>,
    /// The demo form's levels.
    levels: Vec<LevelChoice>,
    /// Why a higher level is asked for, on a step-up.
    step_up: Option<String>,
    signed_in: bool,
}

#[derive(Serialize)]
struct DemoPersonItem {
    key: &'static str,
    name: &'static str,
    roles: String,
    first: bool,
}

#[derive(Serialize)]
struct ProviderItem {
    name: String,
    href: String,
    label: String,
}

/// A radio button of a level.
#[derive(Serialize)]
struct LevelChoice {
    value: u8,
    name: String,
    checked: bool,
}

impl Page for SignIn {
    const TEMPLATE: &'static str = "signin";
    fn title(&self, t: &Translations) -> String {
        t.get("signin_title").into()
    }
}

/// The sign-in page, coming back to `next_path` (already made local) with `level` (1
/// to 3) when it is a step-up.
pub fn signin(
    app: &App,
    ctx: &Ctx,
    csrf: &CsrfToken,
    next_path: String,
    level: Option<u8>,
) -> SignIn {
    let t = ctx.lang.tr();
    let query = format!(
        "next={}{}",
        crate::web::url_encode(&next_path),
        level.map(|l| format!("&level={l}")).unwrap_or_default()
    );
    let providers = app
        .oidc
        .providers()
        .filter(|p| p.max_level() >= level.unwrap_or(1))
        .map(|p| ProviderItem {
            name: p.name.clone(),
            href: format!("/signin/{}?{query}", p.id),
            label: t.fmt("signin_with", &[("provider", &p.name)]),
        })
        .collect();
    let levels = (1..=3u8)
        .map(|l| LevelChoice {
            value: l,
            name: t.get(&format!("level_{l}")).to_string(),
            checked: l == level.unwrap_or(1),
        })
        .collect();
    let people = DEMO_PEOPLE
        .iter()
        .enumerate()
        .map(|(i, p)| DemoPersonItem {
            key: p.key,
            name: p.name,
            roles: role_names(t, p.roles),
            first: i == 0,
        })
        .collect();
    SignIn {
        demo_signin: app.config.demo,
        people,
        csrf: csrf.0.clone(),
        next_path,
        providers,
        levels,
        step_up: level.map(|l| t.fmt("signin_step_up", &[("level", &l)])),
        signed_in: ctx.viewer.is_some(),
    }
}

/// `/account`: who the person is, at what level and why, their roles, open sessions and
/// pseudonym per bill.
#[derive(Serialize)]
pub struct AccountPage {
    name: String,
    email: Option<String>,
    level: u8,
    level_name: String,
    /// Where the level comes from: a verification, the provider's acr or its default.
    level_source: String,
    roles: String,
    sessions: Vec<SessionItem>,
    pseudonyms: Vec<PseudonymItem>,
    csrf: String,
}

#[derive(Serialize)]
struct SessionItem {
    id: String,
    current: bool,
    created: String,
    expires: String,
    provider: String,
    level: i32,
    agent: String,
}

#[derive(Serialize)]
struct PseudonymItem {
    slug: String,
    title: String,
    pseudonym: String,
}

impl Page for AccountPage {
    const TEMPLATE: &'static str = "account";
    fn title(&self, t: &Translations) -> String {
        t.get("account_title").into()
    }
}

pub fn account(
    app: &App,
    ctx: &Ctx,
    csrf: &CsrfToken,
    me: &SessionInfo,
) -> Result<AccountPage, AppError> {
    let t = ctx.lang.tr();
    let mut conn = app.reader.store().conn()?;
    let sessions = store::sessions::active_for_account(
        &mut conn,
        me.account.id,
        &app.reader.store().clock().now().rfc3339(),
    )?
    .into_iter()
    .map(|s| SessionItem {
        current: s.id == me.session_id,
        created: s.created_at.display(),
        expires: s.expires_at.display(),
        id: s.id,
        provider: s.provider,
        level: s.level,
        agent: s.user_agent,
    })
    .collect();
    let level = me.level();
    // Where the effective level comes from: a verification when it raises it.
    let level_source = match (&me.verified, &me.acr) {
        (Some((_, until)), _) if level > me.session_level => {
            t.fmt("level_source_verified", &[("until", until)])
        }
        (_, Some(acr)) => t.fmt(
            "level_source_acr",
            &[("provider", &me.provider), ("acr", acr)],
        ),
        (_, None) => t.fmt("level_source_default", &[("provider", &me.provider)]),
    };
    let pseudonyms = store::bills::list(&mut conn)?
        .into_iter()
        .map(|b| PseudonymItem {
            pseudonym: pseudonym(&app.pseudonym_key, me.account.id, &b.bill.slug),
            slug: b.bill.slug,
            title: b.bill.meta.title,
        })
        .collect();
    Ok(AccountPage {
        name: me.account.display_name.clone(),
        email: me.account.email.clone(),
        level: level.get(),
        level_name: t.get(&format!("level_{}", level.get())).to_string(),
        level_source,
        roles: if me.roles.is_empty() {
            t.get("role_citizen").to_string()
        } else {
            role_names(t, &me.roles)
        },
        sessions,
        pseudonyms,
        csrf: csrf.0.clone(),
    })
}
