//! Content moderation pages (docs/moderation.md): reporting a comment or an amendment,
//! the moderators' queue and their decisions (hide, restore, suspend the author),
//! appeals, a person's own moderation decisions, and the public hash-chained log (page,
//! CSV and JSON).

use super::auth::{CsrfToken, HasRole, Moderator, SignedIn};
use super::csrf::Form;
use super::errors::{ApiError, AppError};
use super::i18n::Lang;
use super::ratelimit::{self, ClientAddr};
use super::{AppState, Ctx};
use crate::domain::moderation::{Action, ItemState, Reason, Rule};
use crate::service::moderation::{self as svc, Kind, Verdict};
use crate::store::moderation::{LogRow, QueueFilter};
use crate::text::render;
use rocket::form::FromForm;
use rocket::http::{ContentType, Status};
use rocket::response::content::RawHtml;
use rocket::response::Redirect;
use rocket::serde::json::Json;
use rocket::{get, post, routes, Route, State};
use serde_json::{json, Map, Value};

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

fn shown_time(at: &str) -> String {
    at.replace('T', " ").trim_end_matches('Z').to_string()
}

/// The words for a rule or a report reason.
fn rule_label(lang: Lang, rule: &str) -> String {
    if rule.is_empty() {
        return String::new();
    }
    lang.tr().get(&format!("rule_{rule}")).to_string()
}

pub(super) fn reasons_json(lang: Lang) -> Value {
    json!(Reason::ALL
        .iter()
        .map(|r| json!({"value": r.as_str(), "label": rule_label(lang, r.as_str())}))
        .collect::<Vec<_>>())
}

fn log_row_json(lang: Lang, r: &LogRow) -> Value {
    let t = lang.tr();
    json!({
        "seq": r.seq,
        "at": r.at,
        "at_shown": shown_time(&r.at),
        "action": t.get(&format!("action_{}", r.action)),
        "target": t.get(&format!("target_{}", r.target_kind)),
        "target_ref": r.target_ref,
        "rule": rule_label(lang, &r.rule),
        "reason": r.reason,
        "moderator": if r.moderator.is_empty() { t.get("moderator_automatic").to_string() } else { r.moderator.clone() },
        "hash": r.hash,
        "hash_short": r.hash.get(..16).unwrap_or(""),
    })
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
    let lang = ctx.lang;
    let t = lang.tr();
    let bad = || AppError::key(Status::BadRequest, "err_bad_form");
    let kind = Kind::parse(form.kind).ok_or_else(bad)?;
    let Some(reason) = Reason::parse(form.reason) else {
        return Err(AppError::key(Status::BadRequest, "err_report_reason"));
    };
    let (id, detail) = (form.id, form.detail.to_string());
    super::blocking(app, move |app| {
        ratelimit::check(app, ratelimit::Action::Report, who.0.account.id, &addr)?;
        let store = app.reader.store();
        let done = svc::report(
            store,
            &who.0,
            kind,
            id,
            reason,
            &detail,
            app.config.moderation.report_threshold,
        )?;
        let href = {
            let mut conn = store.conn()?;
            svc::content(&mut conn, kind, id)?
                .map(|c| c.href)
                .unwrap_or_else(|| "/".into())
        };
        let mut data = Map::new();
        data.insert("heading".into(), json!(t.get("report_done_title")));
        data.insert(
            "message".into(),
            json!(if done.hidden_now {
                t.get("report_done_hidden")
            } else {
                t.get("report_done")
            }),
        );
        data.insert("href".into(), json!(href));
        data.insert("link_label".into(), json!(t.get("back_to_content")));
        app.render("notice", &ctx, t.get("report_done_title"), data)
            .map(RawHtml)
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
    consultation: Option<i64>,
    hidden: Option<bool>,
    page: Option<i64>,
    done: Option<i64>,
) -> Result<RawHtml<String>, AppError> {
    let lang = ctx.lang;
    let t = lang.tr();
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
    let hidden = hidden.unwrap_or(false);
    super::blocking(app, move |app| {
        let filter = QueueFilter {
            kind,
            consultation,
            hidden_only: hidden,
        };
        let (entries, total) = svc::queue(app.reader.store(), &m.0, &filter, page)?;
        let items: Vec<Value> = entries
            .iter()
            .map(|e| {
                let c = &e.content;
                json!({
                    "kind": c.kind.as_str(),
                    "kind_label": t.get(&format!("target_{}", c.kind.as_str())),
                    "id": c.id,
                    "ref": c.public_ref,
                    "href": c.href,
                    "author": c.author_label,
                    "level": c.author_level,
                    "quote": c.quote,
                    "body_html": render::markdown_block(&c.body),
                    "hidden_auto": e.item.state == ItemState::HiddenAuto,
                    "hidden": e.item.state == ItemState::Hidden,
                    "queued_at": e.item.queued_at.as_deref().map(shown_time),
                    "reports": e.reports.iter().map(|r| json!({
                        "reason": rule_label(lang, r.reason.as_str()),
                        "detail": r.detail,
                        "level": r.reporter_level,
                        "at": shown_time(&r.created_at),
                    })).collect::<Vec<_>>(),
                })
            })
            .collect();
        let pages = (total + svc::QUEUE_PAGE - 1) / svc::QUEUE_PAGE;
        let link = |p: i64| {
            let mut q = vec![format!("page={p}")];
            if let Some(k) = kind {
                q.push(format!("kind={}", k.as_str()));
            }
            if let Some(c) = consultation {
                q.push(format!("consultation={c}"));
            }
            if hidden {
                q.push("hidden=true".into());
            }
            format!("/moderation/queue?{}", q.join("&"))
        };
        let mut data = Map::new();
        data.insert("items".into(), json!(items));
        data.insert("total".into(), json!(total));
        data.insert("csrf".into(), json!(csrf.0));
        data.insert("reasons".into(), reasons_json(lang));
        data.insert("kind".into(), json!(kind.map(Kind::as_str).unwrap_or("")));
        data.insert("consultation".into(), json!(consultation));
        data.insert("hidden_only".into(), json!(hidden));
        data.insert(
            "done".into(),
            json!(done.map(|s| t.fmt("decision_recorded", &[("seq", &s)]))),
        );
        data.insert(
            "prev_href".into(),
            json!((page > 1).then(|| link(page - 1))),
        );
        data.insert(
            "next_href".into(),
            json!((page < pages).then(|| link(page + 1))),
        );
        data.insert(
            "page_of".into(),
            json!(t.fmt("mod_page_of", &[("page", &page), ("pages", &pages.max(1))])),
        );
        app.render("moderation_queue", &ctx, t.get("moderation_queue"), data)
            .map(RawHtml)
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
    let lang = ctx.lang;
    super::blocking(app, move |app| {
        let t = lang.tr();
        let list = svc::pending_appeals(app.reader.store(), &m.0)?;
        let items: Vec<Value> = list
            .iter()
            .map(|a| {
                json!({
                    "seq": a.appeal.decision_seq,
                    "decision": log_row_json(lang, &a.decision),
                    "body": a.appeal.body,
                    "at": shown_time(&a.appeal.created_at),
                    "may_decide": a.may_decide,
                    "content_html": a.content.as_ref().map(|c| render::markdown_block(&c.body)),
                    "href": a.content.as_ref().map(|c| c.href.clone()),
                })
            })
            .collect();
        let mut data = Map::new();
        data.insert("appeals".into(), json!(items));
        data.insert("csrf".into(), json!(csrf.0));
        data.insert(
            "done".into(),
            json!(done.map(|s| t.fmt("decision_recorded", &[("seq", &s)]))),
        );
        app.render("moderation_appeals", &ctx, t.get("appeals_title"), data)
            .map(RawHtml)
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
    let lang = ctx.lang;
    super::blocking(app, move |app| {
        let t = lang.tr();
        let store = app.reader.store();
        let list = svc::my_decisions(store, &who.0)?;
        let suspended = svc::my_suspension(store, &who.0)?;
        let items: Vec<Value> = list
            .iter()
            .map(|(row, appeal)| {
                let mut v = log_row_json(lang, row);
                v["appeal"] = json!(appeal.as_ref().map(|a| json!({
                    "status": t.get(&format!("appeal_{}", a.status)),
                    "answer": a.answer,
                })));
                v["may_appeal"] = json!(
                    appeal.is_none() && Action::parse(&row.action).is_some_and(Action::appealable)
                );
                v
            })
            .collect();
        let mut data = Map::new();
        data.insert("decisions".into(), json!(items));
        data.insert("csrf".into(), json!(csrf.0));
        data.insert(
            "suspended".into(),
            json!(suspended.map(|u| t.fmt("err_suspended", &[("until", &shown_time(&u))]))),
        );
        data.insert(
            "appealed".into(),
            json!(appealed.map(|_| t.get("appeal_recorded"))),
        );
        app.render("my_moderation", &ctx, t.get("my_moderation_title"), data)
            .map(RawHtml)
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
    let lang = ctx.lang;
    let page = page.unwrap_or(1);
    if page < 1 {
        return Err(AppError::key(Status::BadRequest, "err_bad_filter"));
    }
    super::blocking(app, move |app| {
        let t = lang.tr();
        let store = app.reader.store();
        let (rows, size) = svc::log_page(store, page)?;
        let check = svc::verify_log(store)?;
        let pages = (size + svc::LOG_PAGE - 1) / svc::LOG_PAGE;
        let mut data = Map::new();
        data.insert(
            "rows".into(),
            json!(rows
                .iter()
                .map(|r| log_row_json(lang, r))
                .collect::<Vec<_>>()),
        );
        data.insert("size".into(), json!(size));
        match check {
            Ok((n, head)) => {
                data.insert(
                    "verified".into(),
                    json!(t.fmt("log_verified", &[("n", &n)])),
                );
                data.insert("head".into(), json!(head));
                data.insert("broken".into(), Value::Null);
            }
            Err(e) => {
                data.insert("verified".into(), Value::Null);
                data.insert("head".into(), Value::Null);
                data.insert("broken".into(), json!(e.to_string()));
            }
        }
        data.insert(
            "prev_href".into(),
            json!((page > 1).then(|| format!("/moderation/log?page={}", page - 1))),
        );
        data.insert(
            "next_href".into(),
            json!((page < pages).then(|| format!("/moderation/log?page={}", page + 1))),
        );
        data.insert(
            "page_of".into(),
            json!(t.fmt("mod_page_of", &[("page", &page), ("pages", &pages.max(1))])),
        );
        app.render("moderation_log", &ctx, t.get("moderation_log_title"), data)
            .map(RawHtml)
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

#[get("/moderation/log?<page>")]
async fn api_log(app: &State<AppState>, page: Option<i64>) -> Result<Json<Value>, ApiError> {
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
        let entries: Vec<Value> = rows
            .iter()
            .map(|r| {
                json!({
                    "seq": r.seq, "at": r.at, "action": r.action,
                    "target_kind": r.target_kind, "target_ref": r.target_ref,
                    "consultation": r.consultation_id, "rule": r.rule,
                    "reason": r.reason, "moderator": r.moderator,
                    "prev_hash": r.prev_hash, "hash": r.hash,
                })
            })
            .collect();
        Ok(Json(json!({
            "size": size,
            "page": page,
            "per_page": svc::LOG_PAGE,
            "verified": check.is_ok(),
            "head": check.as_ref().ok().map(|(_, h)| h.clone()),
            "broken": check.err().map(|e| e.to_string()),
            "entries": entries,
        })))
    })
    .await?
}

/// What a hidden contribution shows in place of itself: the notice, the public reason,
/// and, for signed-in people when the rule allows, the content in a moderated view.
pub(super) fn hidden_json(
    lang: Lang,
    h: &svc::Hidden,
    signed_in: bool,
    body_markdown: &str,
) -> Value {
    let t = lang.tr();
    let notice = if h.rule == Rule::Reports {
        t.get("hidden_pending").to_string()
    } else {
        t.fmt(
            "hidden_by_moderation",
            &[("rule", &rule_label(lang, h.rule.as_str()))],
        )
    };
    json!({
        "notice": notice,
        "reason": h.reason,
        "body_html": (signed_in && h.readable).then(|| render::markdown_block(body_markdown)),
        "unreadable": !h.readable,
    })
}
