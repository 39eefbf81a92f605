//! Content moderation pages (docs/moderation.md): reporting a comment or an amendment,
//! the moderators' queue and their decisions (hide, restore, suspend the author),
//! appeals, a person's own moderation decisions, and the public hash-chained log (page,
//! CSV and JSON).

use super::auth::{CsrfToken, HasRole, Moderator, SignedIn};
use super::csrf::Form;
use super::errors::{ApiError, AppError};
use super::ratelimit::{self, ClientAddr};
use super::{view, AppState, Ctx};
use crate::domain::ids::ConsultationId;
use crate::domain::moderation::Reason;
use crate::service::moderation::{self as svc, Kind, Verdict};
use crate::store::moderation::QueueFilter;
use rocket::form::FromForm;
use rocket::http::{ContentType, Status};
use rocket::response::content::RawHtml;
use rocket::response::Redirect;
use rocket::serde::json::Json;
use rocket::{get, post, routes, Route, State};
use serde::Serialize;

pub fn routes() -> Vec<Route> {
    routes![
        report,
        queue_page,
        decide,
        suspend,
        appeals_page,
        decide_appeal,
        my_moderation,
        appeal,
        log_page,
        log_csv
    ]
}

pub fn api_routes() -> Vec<Route> {
    routes![api_log]
}

// ---------------------------------------------------------------- reporting

#[derive(FromForm)]
struct ReportForm<'r> {
    #[field(default = "")]
    kind: &'r str,
    #[field(default = 0)]
    id: i64,
    #[field(default = "")]
    reason: &'r str,
    #[field(default = "")]
    detail: &'r str,
}

#[post("/reports", format = "form", data = "<form>")]
async fn report(
    app: &State<AppState>,
    ctx: Ctx,
    who: SignedIn,
    addr: ClientAddr,
    form: Form<ReportForm<'_>>,
) -> Result<RawHtml<String>, AppError> {
    let bad = || AppError::key(Status::BadRequest, "err_bad_form");
    let kind = Kind::parse(form.kind).ok_or_else(bad)?;
    let Some(reason) = Reason::parse(form.reason) else {
        return Err(AppError::key(Status::BadRequest, "err_report_reason"));
    };
    let (id, detail) = (form.id, form.detail.to_string());
    super::blocking(app, move |app| {
        ratelimit::check(app, ratelimit::Action::Report, who.0.account.id, &addr)?;
        let done = svc::report(
            app.reader.store(),
            &who.0,
            kind,
            id,
            reason,
            &detail,
            app.config.moderation.report_threshold,
        )?;
        let page = view::moderation::report_done(app, &ctx, kind, id, done.hidden_now)?;
        app.page(&ctx, &page).map(RawHtml)
    })
    .await
}

// ---------------------------------------------------------------- queue

#[allow(clippy::too_many_arguments)]
#[get("/moderation/queue?<kind>&<consultation>&<hidden>&<page>&<done>")]
async fn queue_page(
    app: &State<AppState>,
    ctx: Ctx,
    m: HasRole<Moderator>,
    csrf: CsrfToken,
    kind: Option<&str>,
    consultation: Option<ConsultationId>,
    hidden: Option<bool>,
    page: Option<i64>,
    done: Option<i64>,
) -> Result<RawHtml<String>, AppError> {
    let kind = match kind.filter(|k| !k.is_empty()) {
        None => None,
        Some(k) => Some(
            Kind::parse(k).ok_or_else(|| AppError::key(Status::BadRequest, "err_bad_filter"))?,
        ),
    };
    let page = page.unwrap_or(1);
    if page < 1 {
        return Err(AppError::key(Status::BadRequest, "err_bad_filter"));
    }
    let filter = QueueFilter {
        kind,
        consultation,
        hidden_only: hidden.unwrap_or(false),
    };
    super::blocking(app, move |app| {
        let view = view::moderation::queue(app, &ctx, &m.0, &csrf, &filter, page, done)?;
        app.page(&ctx, &view).map(RawHtml)
    })
    .await
}

#[derive(FromForm)]
struct DecideForm<'r> {
    /// hide | restore
    #[field(default = "")]
    verdict: &'r str,
    #[field(default = "")]
    rule: &'r str,
    #[field(default = "")]
    reason: &'r str,
}

#[post(
    "/moderation/items/<kind>/<id>/decide",
    format = "form",
    data = "<form>"
)]
async fn decide(
    app: &State<AppState>,
    m: HasRole<Moderator>,
    kind: &str,
    id: i64,
    form: Form<DecideForm<'_>>,
) -> Result<Redirect, AppError> {
    let bad = || AppError::key(Status::BadRequest, "err_bad_form");
    let kind = Kind::parse(kind).ok_or_else(bad)?;
    let verdict = match form.verdict {
        "hide" => Verdict::Hide(
            Reason::parse(form.rule)
                .ok_or_else(|| AppError::key(Status::BadRequest, "err_rule_required"))?,
        ),
        "restore" => Verdict::Restore,
        _ => return Err(bad()),
    };
    let reason = form.reason.to_string();
    super::blocking(app, move |app| {
        let entry = svc::decide(app.reader.store(), &m.0, kind, id, verdict, &reason)?;
        Ok(Redirect::to(format!(
            "/moderation/queue?done={}",
            entry.seq
        )))
    })
    .await
}

#[derive(FromForm)]
struct SuspendForm<'r> {
    #[field(default = 0)]
    days: u32,
    #[field(default = "")]
    reason: &'r str,
}

#[post(
    "/moderation/items/<kind>/<id>/suspend",
    format = "form",
    data = "<form>"
)]
async fn suspend(
    app: &State<AppState>,
    m: HasRole<Moderator>,
    kind: &str,
    id: i64,
    form: Form<SuspendForm<'_>>,
) -> Result<Redirect, AppError> {
    let kind =
        Kind::parse(kind).ok_or_else(|| AppError::key(Status::BadRequest, "err_bad_form"))?;
    let (days, reason) = (form.days, form.reason.to_string());
    super::blocking(app, move |app| {
        let entry = svc::suspend_author(app.reader.store(), &m.0, kind, id, days, &reason)?;
        Ok(Redirect::to(format!(
            "/moderation/queue?done={}",
            entry.seq
        )))
    })
    .await
}

// ---------------------------------------------------------------- appeals

#[get("/moderation/appeals?<done>")]
async fn appeals_page(
    app: &State<AppState>,
    ctx: Ctx,
    m: HasRole<Moderator>,
    csrf: CsrfToken,
    done: Option<i64>,
) -> Result<RawHtml<String>, AppError> {
    super::blocking(app, move |app| {
        let page = view::moderation::appeals(app, &ctx, &m.0, &csrf, done)?;
        app.page(&ctx, &page).map(RawHtml)
    })
    .await
}

#[derive(FromForm)]
struct AppealDecisionForm<'r> {
    /// uphold | overturn
    #[field(default = "")]
    outcome: &'r str,
    #[field(default = "")]
    answer: &'r str,
}

#[post("/moderation/appeals/<seq>", format = "form", data = "<form>")]
async fn decide_appeal(
    app: &State<AppState>,
    m: HasRole<Moderator>,
    seq: i64,
    form: Form<AppealDecisionForm<'_>>,
) -> Result<Redirect, AppError> {
    let uphold = match form.outcome {
        "uphold" => true,
        "overturn" => false,
        _ => return Err(AppError::key(Status::BadRequest, "err_bad_form")),
    };
    let answer = form.answer.to_string();
    super::blocking(app, move |app| {
        let entry = svc::decide_appeal(app.reader.store(), &m.0, seq, uphold, &answer)?;
        Ok(Redirect::to(format!(
            "/moderation/appeals?done={}",
            entry.seq
        )))
    })
    .await
}

// ---------------------------------------------------------------- my decisions

#[get("/account/moderation?<appealed>")]
async fn my_moderation(
    app: &State<AppState>,
    ctx: Ctx,
    who: SignedIn,
    csrf: CsrfToken,
    appealed: Option<i64>,
) -> Result<RawHtml<String>, AppError> {
    super::blocking(app, move |app| {
        let page = view::moderation::my_moderation(app, &ctx, &who.0, &csrf, appealed)?;
        app.page(&ctx, &page).map(RawHtml)
    })
    .await
}

#[derive(FromForm)]
struct AppealForm<'r> {
    #[field(default = "")]
    body: &'r str,
}

#[post("/account/moderation/<seq>/appeal", format = "form", data = "<form>")]
async fn appeal(
    app: &State<AppState>,
    who: SignedIn,
    seq: i64,
    form: Form<AppealForm<'_>>,
) -> Result<Redirect, AppError> {
    let body = form.body.to_string();
    super::blocking(app, move |app| {
        svc::appeal(app.reader.store(), &who.0, seq, &body)?;
        Ok(Redirect::to(format!("/account/moderation?appealed={seq}")))
    })
    .await
}

// ---------------------------------------------------------------- public log

#[get("/moderation/log?<page>")]
async fn log_page(
    app: &State<AppState>,
    ctx: Ctx,
    page: Option<i64>,
) -> Result<RawHtml<String>, AppError> {
    let page = page.unwrap_or(1);
    if page < 1 {
        return Err(AppError::key(Status::BadRequest, "err_bad_filter"));
    }
    super::blocking(app, move |app| {
        let view = view::moderation::log(app, &ctx, page)?;
        app.page(&ctx, &view).map(RawHtml)
    })
    .await
}

#[get("/moderation/log.csv")]
async fn log_csv(app: &State<AppState>) -> Result<(ContentType, Vec<u8>), AppError> {
    super::blocking(app, move |app| {
        let mut out = Vec::new();
        svc::write_log_csv(app.reader.store(), &mut out).map_err(AppError::internal)?;
        Ok((
            ContentType::new("text", "csv").with_params(("charset", "utf-8")),
            out,
        ))
    })
    .await
}

/// The public log as JSON (docs/api.md). Fields in alphabetical order, as the API has
/// always written them.
#[derive(Serialize)]
struct ApiLog {
    broken: Option<String>,
    entries: Vec<ApiLogEntry>,
    head: Option<String>,
    page: i64,
    per_page: i64,
    size: i64,
    verified: bool,
}

#[derive(Serialize)]
struct ApiLogEntry {
    action: String,
    at: String,
    consultation: Option<ConsultationId>,
    hash: String,
    moderator: String,
    prev_hash: String,
    reason: String,
    rule: String,
    seq: i64,
    target_kind: String,
    target_ref: String,
}

#[get("/moderation/log?<page>")]
async fn api_log(app: &State<AppState>, page: Option<i64>) -> Result<Json<ApiLog>, ApiError> {
    let page = page.unwrap_or(1);
    if page < 1 {
        return Err(ApiError::new(
            Status::BadRequest,
            "bad_request",
            "page starts at 1",
        ));
    }
    super::run_blocking(app, move |app| {
        let internal = |e: crate::store::StoreError| {
            ApiError::new(Status::InternalServerError, "internal", e.to_string())
        };
        let store = app.reader.store();
        let (rows, size) = svc::log_page(store, page).map_err(internal)?;
        let check = svc::verify_log(store).map_err(internal)?;
        let entries = rows
            .into_iter()
            .map(|r| ApiLogEntry {
                action: r.action,
                at: r.at,
                consultation: r.consultation_id,
                hash: r.hash,
                moderator: r.moderator,
                prev_hash: r.prev_hash,
                reason: r.reason,
                rule: r.rule,
                seq: r.seq,
                target_kind: r.target_kind,
                target_ref: r.target_ref,
            })
            .collect();
        Ok(Json(ApiLog {
            broken: check.as_ref().err().map(|e| e.to_string()),
            entries,
            head: check.as_ref().ok().map(|(_, h)| h.clone()),
            page,
            per_page: svc::LOG_PAGE,
            size,
            verified: check.is_ok(),
        }))
    })
    .await?
}
