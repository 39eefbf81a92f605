//! Consultation pages: staff open one on a bill version and move it through its phases;
//! citizens propose amendments by editing an article (preview, then file); anyone reads
//! the consultation and each amendment. The rules are in `service::consultation`, what
//! each page shows in `view::consultation`.

use super::auth::{CsrfToken, HasRole, SignedIn, Staff};
use super::conditional::{CachedPage, IfNoneMatch};
use super::csrf::{Form, NoFields};
use super::errors::AppError;
use super::view::consultation::{self as pages, AmendDraft, ConsultationDraft};
use super::{AppState, Ctx};
use crate::domain::ids::ConsultationId;
use crate::service::amendments as listing;
use crate::service::consultation::{
    self as svc, ConsultationError, Disclosure, Filing, FilingKind, NewConsultation, Rectification,
};
use crate::service::disposition::{self, Ruling};
use crate::store;
use rocket::form::FromForm;
use rocket::http::Status;
use rocket::response::content::RawHtml;
use rocket::response::Redirect;
use rocket::{get, post, routes, Route, State};

pub fn routes() -> Vec<Route> {
    routes![
        list,
        new_page,
        create,
        page,
        advance,
        amend_page,
        amend,
        amendment_page,
        withdraw,
        rule,
        amendments_list,
        rectify_page,
        rectify
    ]
}

// ---------------------------------------------------------------- opening

/// The consultations of a bill, newest first (and, for staff, a way to open one).
#[get("/bills/<slug>/consultations")]
async fn list(app: &State<AppState>, ctx: Ctx, slug: &str) -> Result<RawHtml<String>, AppError> {
    let slug = slug.to_string();
    super::blocking(app, move |app| {
        let page = pages::consultations(app, &ctx, &slug)?;
        app.page(&ctx, &page).map(RawHtml)
    })
    .await
}

#[get("/bills/<slug>/consultations/new")]
async fn new_page(
    app: &State<AppState>,
    ctx: Ctx,
    _staff: HasRole<Staff>,
    csrf: CsrfToken,
    slug: &str,
) -> Result<RawHtml<String>, AppError> {
    let slug = slug.to_string();
    super::blocking(app, move |app| {
        let d = ConsultationDraft::default();
        let page = pages::new_consultation(app, &ctx, &csrf, &slug, &d, None)?;
        app.page(&ctx, &page).map(RawHtml)
    })
    .await
}

#[derive(FromForm)]
struct ConsultationForm<'r> {
    version: &'r str,
    title: &'r str,
    description: &'r str,
    opens_on: &'r str,
    closes_on: &'r str,
    level_comment: &'r str,
    level_amend: &'r str,
    level_vote: &'r str,
}

#[post("/bills/<slug>/consultations", format = "form", data = "<form>")]
async fn create(
    app: &State<AppState>,
    ctx: Ctx,
    staff: HasRole<Staff>,
    csrf: CsrfToken,
    slug: &str,
    form: Form<ConsultationForm<'_>>,
) -> Result<Result<Redirect, (Status, RawHtml<String>)>, AppError> {
    let take = |s: &str, n: usize| s.chars().take(n).collect::<String>();
    let d = ConsultationDraft {
        version: take(form.version, 10),
        title: take(form.title, 300),
        description: take(form.description, svc::MAX_JUSTIFICATION + 1),
        opens_on: take(form.opens_on, 20),
        closes_on: take(form.closes_on, 20),
        levels: [
            take(form.level_comment, 2),
            take(form.level_amend, 2),
            take(form.level_vote, 2),
        ],
    };
    let slug = slug.to_string();
    super::blocking(app, move |app| {
        let levels = d.levels.clone().map(|l| l.parse::<i64>().unwrap_or(-1));
        let outcome = svc::open(
            app.reader.store(),
            &staff.0,
            &NewConsultation {
                bill_slug: &slug,
                version: d.version.parse().unwrap_or(-1),
                title: &d.title,
                description: &d.description,
                opens_on: &d.opens_on,
                closes_on: &d.closes_on,
                levels,
            },
        );
        match outcome {
            Ok(id) => Ok(Ok(Redirect::to(format!("/consultations/{id}")))),
            Err(ConsultationError::Invalid { field, reason }) => {
                let page =
                    pages::new_consultation(app, &ctx, &csrf, &slug, &d, Some((field, reason)))?;
                let html = app.page(&ctx, &page)?;
                Ok(Err((Status::UnprocessableEntity, RawHtml(html))))
            }
            Err(e) => Err(e.into()),
        }
    })
    .await
}

// ---------------------------------------------------------------- reading

#[get("/consultations/<id>?<page>")]
async fn page(
    app: &State<AppState>,
    ctx: Ctx,
    csrf: Option<CsrfToken>,
    inm: IfNoneMatch,
    id: ConsultationId,
    page: Option<i64>,
) -> Result<CachedPage, AppError> {
    let page = page.unwrap_or(1).max(1);
    super::live::page(app, ctx, csrf, inm, move |app, ctx, csrf| {
        app.page(ctx, &pages::consultation(app, ctx, csrf, id, page)?)
    })
    .await
}

#[post("/consultations/<id>/phase", format = "form", data = "<_csrf>")]
async fn advance(
    app: &State<AppState>,
    staff: HasRole<Staff>,
    id: ConsultationId,
    _csrf: Form<NoFields>,
) -> Result<Redirect, AppError> {
    super::blocking(app, move |app| {
        svc::advance(app.reader.store(), &staff.0, id, &app.voting)?;
        Ok(Redirect::to(format!("/consultations/{id}")))
    })
    .await
}

// ---------------------------------------------------------------- amending

#[get("/consultations/<id>/articles/<wid>/amend")]
async fn amend_page(
    app: &State<AppState>,
    ctx: Ctx,
    me: SignedIn,
    csrf: CsrfToken,
    id: ConsultationId,
    wid: &str,
) -> Result<RawHtml<String>, AppError> {
    let wid = wid.to_string();
    super::blocking(app, move |app| {
        let page = pages::amend_new(app, &ctx, &csrf, &me.0, id, &wid)?;
        app.page(&ctx, &page).map(RawHtml)
    })
    .await
}

#[derive(FromForm)]
struct AmendForm<'r> {
    // Defaults, so that a truncated form gets the page's own message rather
    // than failing to parse.
    #[field(default = "")]
    sha: &'r str,
    #[field(default = "")]
    token: &'r str,
    #[field(default = "")]
    text: &'r str,
    #[field(default = "")]
    justification: &'r str,
    #[field(default = "name")]
    disclosure: &'r str,
    #[field(default = "preview")]
    action: &'r str,
    #[field(default = "edit")]
    kind: &'r str,
}

/// Preview (the word diff and the formal wording) or file, from the same form; the
/// input comes back on any refusal.
// A route's guards are its arguments.
#[allow(clippy::too_many_arguments)]
#[post(
    "/consultations/<id>/articles/<wid>/amend",
    format = "form",
    data = "<form>"
)]
async fn amend(
    app: &State<AppState>,
    ctx: Ctx,
    me: SignedIn,
    csrf: CsrfToken,
    id: ConsultationId,
    wid: &str,
    addr: super::ratelimit::ClientAddr,
    form: Form<AmendForm<'_>>,
) -> Result<Result<Redirect, (Status, RawHtml<String>)>, AppError> {
    let lang = ctx.lang;
    let me = me.0;
    let wid = wid.to_string();
    let mut d = AmendDraft {
        text: form.text.chars().take(svc::MAX_TEXT + 1).collect(),
        justification: form
            .justification
            .chars()
            .take(svc::MAX_JUSTIFICATION + 1)
            .collect(),
        disclosure: Disclosure::parse(form.disclosure).unwrap_or(Disclosure::Name),
        kind: FilingKind::parse(form.kind).unwrap_or(FilingKind::Edit),
        token: form.token.chars().take(64).collect(),
        sha: form.sha.chars().take(64).collect(),
        preview: None,
        error: None,
    };
    let file = form.action == "file";
    super::blocking(app, move |app| {
        if file {
            super::ratelimit::check(app, super::ratelimit::Action::Post, me.account.id, &addr)?;
        }
        let store = app.reader.store();
        let filing = Filing {
            kind: d.kind,
            consultation_id: id,
            wid: &wid,
            article_sha256: &d.sha,
            text: &d.text,
            justification: &d.justification,
            disclosure: d.disclosure,
            form_token: &d.token,
        };
        if file {
            match svc::file(store, &app.pseudonym_key, &me, &filing) {
                Ok((a, slug)) => {
                    return Ok(Ok(Redirect::to(format!(
                        "/bills/{slug}/amendments/{}",
                        a.number
                    ))))
                }
                Err(e) => d.error = Some(pages::form_error(lang, e)?),
            }
        } else {
            match svc::check_filing(store, &me, &filing) {
                Ok((_, _, art, ops)) => d.preview = Some(pages::preview(lang, &art, &ops)?),
                Err(e) => d.error = Some(pages::form_error(lang, e)?),
            }
        }
        let status = if d.error.is_some() {
            Status::UnprocessableEntity
        } else {
            Status::Ok
        };
        let page = pages::amend_again(app, &ctx, &csrf, &me, id, &wid, d)?;
        Ok(Err((status, RawHtml(app.page(&ctx, &page)?))))
    })
    .await
}

/// The bill and amendment `AM-<slug>-<number>`, or a 404 page.
pub(super) fn find_amendment(
    app: &super::App,
    slug: &str,
    number: i32,
) -> Result<(store::bills::Bill, store::amendments::Amendment), AppError> {
    Ok(listing::by_number(app.reader.store(), slug, number)?)
}

#[get("/bills/<slug>/amendments/<number>")]
async fn amendment_page(
    app: &State<AppState>,
    ctx: Ctx,
    csrf: Option<CsrfToken>,
    inm: IfNoneMatch,
    slug: &str,
    number: i32,
) -> Result<CachedPage, AppError> {
    let slug = slug.to_string();
    super::live::page(app, ctx, csrf, inm, move |app, ctx, csrf| {
        app.page(ctx, &pages::amendment(app, ctx, csrf, &slug, number)?)
    })
    .await
}

/// The author withdraws their amendment.
#[post(
    "/bills/<slug>/amendments/<number>/withdraw",
    format = "form",
    data = "<_csrf>"
)]
async fn withdraw(
    app: &State<AppState>,
    me: SignedIn,
    slug: &str,
    number: i32,
    _csrf: Form<NoFields>,
) -> Result<Redirect, AppError> {
    let slug = slug.to_string();
    super::blocking(app, move |app| {
        let (_, a) = find_amendment(app, &slug, number)?;
        if !svc::withdraw(app.reader.store(), &me.0, a.id)? {
            return Err(AppError::key(Status::Conflict, "err_cannot_withdraw"));
        }
        Ok(Redirect::to(format!("/bills/{slug}/amendments/{number}")))
    })
    .await
}

#[derive(FromForm)]
struct RuleForm<'r> {
    // Defaults, so that a truncated form gets the page's own message, not a 422.
    #[field(default = "")]
    ruling: &'r str,
    #[field(default = "")]
    reason: &'r str,
}

/// Staff rule on an amendment: admissible, inadmissible (with a public reason), adopted
/// (the amendments conflicting with it fall) or rejected.
#[post(
    "/bills/<slug>/amendments/<number>/rule",
    format = "form",
    data = "<form>"
)]
async fn rule(
    app: &State<AppState>,
    staff: HasRole<Staff>,
    slug: &str,
    number: i32,
    form: Form<RuleForm<'_>>,
) -> Result<Redirect, AppError> {
    let slug = slug.to_string();
    let ruling = form.ruling.to_string();
    let reason: String = form.reason.chars().take(svc::MAX_JUSTIFICATION).collect();
    super::blocking(app, move |app| {
        let (_, a) = find_amendment(app, &slug, number)?;
        let ruling = Ruling::parse(&ruling, &reason)
            .ok_or_else(|| AppError::key(Status::BadRequest, "err_ruling"))?;
        disposition::rule(app.reader.store(), &staff.0, a.id, ruling)?;
        Ok(Redirect::to(format!("/bills/{slug}/amendments/{number}")))
    })
    .await
}

// ---------------------------------------------------------------- the list

/// A consultation's amendments, filtered by article, status and author kind (name or
/// pseudonym; empty means any), 50 a page. A filter value that is not one of the
/// choices, or a page that is not a number from 1, is a 400 naming the parameter; a
/// page after the last is a 404.
#[get("/consultations/<id>/amendments?<article>&<status>&<author>&<page>")]
#[allow(clippy::too_many_arguments)] // Rocket passes each guard and parameter
async fn amendments_list(
    app: &State<AppState>,
    ctx: Ctx,
    inm: IfNoneMatch,
    id: ConsultationId,
    article: Option<&str>,
    status: Option<&str>,
    author: Option<&str>,
    page: Option<&str>,
) -> Result<CachedPage, AppError> {
    let query = pages::ListQuery::parse(article, status, author, page)?;
    super::live::page(app, ctx, None, inm, move |app, ctx, _| {
        app.page(ctx, &pages::amendments(app, ctx, id, &query)?)
    })
    .await
}

// ---------------------------------------------------------------- rectifié

/// The correction form of an amendment: the amendment's current text in the filing
/// form; only its author, while it may be corrected.
#[get("/bills/<slug>/amendments/<number>/rectify")]
async fn rectify_page(
    app: &State<AppState>,
    ctx: Ctx,
    me: SignedIn,
    csrf: CsrfToken,
    slug: &str,
    number: i32,
) -> Result<RawHtml<String>, AppError> {
    let slug = slug.to_string();
    super::blocking(app, move |app| {
        let page = pages::rectify_new(app, &ctx, &csrf, &me.0, &slug, number)?;
        app.page(&ctx, &page).map(RawHtml)
    })
    .await
}

#[derive(FromForm)]
struct RectifyForm<'r> {
    // Defaults, so that a truncated form gets the page's own message, not a 422.
    #[field(default = "")]
    sha: &'r str,
    #[field(default = "")]
    base: &'r str,
    #[field(default = "")]
    text: &'r str,
    #[field(default = "")]
    justification: &'r str,
    #[field(default = "preview")]
    action: &'r str,
    #[field(default = "edit")]
    kind: &'r str,
}

/// Preview or file a correction ("rectifié"): a new revision of the amendment; the
/// input comes back on any refusal the person can fix in the form.
// A route's guards are its arguments.
#[allow(clippy::too_many_arguments)]
#[post(
    "/bills/<slug>/amendments/<number>/rectify",
    format = "form",
    data = "<form>"
)]
async fn rectify(
    app: &State<AppState>,
    ctx: Ctx,
    me: SignedIn,
    csrf: CsrfToken,
    slug: &str,
    number: i32,
    addr: super::ratelimit::ClientAddr,
    form: Form<RectifyForm<'_>>,
) -> Result<Result<Redirect, (Status, RawHtml<String>)>, AppError> {
    let lang = ctx.lang;
    let me = me.0;
    let slug = slug.to_string();
    let base: i32 = form.base.parse().unwrap_or(0);
    let mut d = AmendDraft {
        text: form.text.chars().take(svc::MAX_TEXT + 1).collect(),
        justification: form
            .justification
            .chars()
            .take(svc::MAX_JUSTIFICATION + 1)
            .collect(),
        disclosure: Disclosure::Name,
        kind: FilingKind::parse(form.kind).unwrap_or(FilingKind::Edit),
        token: String::new(),
        sha: form.sha.chars().take(64).collect(),
        preview: None,
        error: None,
    };
    let file = form.action == "file";
    super::blocking(app, move |app| {
        if file {
            super::ratelimit::check(app, super::ratelimit::Action::Post, me.account.id, &addr)?;
        }
        let store = app.reader.store();
        let (bill, a) = listing::by_number(store, &slug, number)?;
        let r = Rectification {
            amendment_id: a.id,
            base_revision: base,
            kind: d.kind,
            article_sha256: &d.sha,
            text: &d.text,
            justification: &d.justification,
        };
        if file {
            match svc::rectify(store, &me, &r) {
                Ok(_) => {
                    return Ok(Ok(Redirect::to(format!(
                        "/bills/{}/amendments/{}",
                        bill.slug, a.number
                    ))))
                }
                Err(e) => d.error = Some(pages::form_error(lang, e)?),
            }
        } else {
            match svc::check_rectify(store, &me, &r) {
                Ok((_, _, art, ops)) => d.preview = Some(pages::preview(lang, &art, &ops)?),
                Err(e) => d.error = Some(pages::form_error(lang, e)?),
            }
        }
        let status = if d.error.is_some() {
            Status::UnprocessableEntity
        } else {
            Status::Ok
        };
        let page = pages::rectify_again(app, &ctx, &csrf, &me, &bill, &a, base, d)?;
        Ok(Err((status, RawHtml(app.page(&ctx, &page)?))))
    })
    .await
}
