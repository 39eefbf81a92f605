//! JSON API of amendments and comments (DESIGN §10, docs/api.md): what the consultation
//! pages do, with the same rules, because the same service functions run behind both.
//! Writes need the session cookie and the CSRF token in `X-CSRF-Token`; refusals are
//! `{error, message}` with the status the page would give.

use super::auth::Viewer;
use super::errors::ApiError;
use super::i18n::Lang;
use super::ratelimit::{self, Action, ClientAddr};
use super::AppState;
use crate::domain::amendment::{self, AmendError, AmendmentStatus, Operation, Wording};
use crate::domain::consolidation::effect;
use crate::service::amendments as listing;
use crate::service::comments as comments_svc;
use crate::service::consultation::{
    self as svc, display_number, ConsultationError, Disclosure, Filing, FilingKind, Rectification,
};
use crate::service::identity::SessionInfo;
use crate::service::moderation::Kind;
use crate::store;
use crate::text::{render, word_diff};
use rocket::http::Status;
use rocket::serde::json::Json;
use rocket::{get, post, routes, Route, State};
use serde::Deserialize;
use serde_json::{json, Value};

pub fn routes() -> Vec<Route> {
    routes![
        article,
        file,
        list,
        one,
        withdraw,
        rectify,
        post_comment,
        post_answer
    ]
}

type ApiResult = Result<(Status, Json<Value>), ApiError>;

async fn blocking(
    app: &State<AppState>,
    f: impl FnOnce(&super::App) -> ApiResult + Send + 'static,
) -> ApiResult {
    super::run_blocking(app, f)
        .await
        .map_err(|_| ApiError::new(Status::InternalServerError, "internal", "worker failed"))?
}

/// A refusal of the service as the API says it: a stable code, and the message the page
/// would show, in English.
fn refusal(e: ConsultationError) -> ApiError {
    let code = match &e {
        ConsultationError::NotFound => "not_found",
        ConsultationError::Invalid { .. } | ConsultationError::Amend(_) => "invalid",
        ConsultationError::NotOpen(_) => "not_open",
        ConsultationError::Level { .. } => "level_too_low",
        ConsultationError::Stale => "stale",
        ConsultationError::State("err_not_author") | ConsultationError::Forbidden => "forbidden",
        ConsultationError::Suspended(_) => "suspended",
        ConsultationError::State(_)
        | ConsultationError::Consolidate(_)
        | ConsultationError::Vote(_) => "refused",
        ConsultationError::Store(_) => "internal",
    };
    let field = match &e {
        ConsultationError::Invalid { field, .. } => Some(*field),
        ConsultationError::Amend(AmendError::Empty) => Some("text"),
        _ => None,
    };
    let page = super::errors::AppError::from(e);
    if page.status.code >= 500 {
        return ApiError::new(page.status, "internal", "internal server error");
    }
    let message = match field {
        Some(f) => format!("{f}: {}", page.message(Lang::En)),
        None => page.message(Lang::En),
    };
    ApiError::new(page.status, code, message)
}

fn signed_in(viewer: Viewer) -> Result<SessionInfo, ApiError> {
    viewer
        .0
        .ok_or_else(|| ApiError::new(Status::Unauthorized, "unauthorized", "sign in first"))
}

fn store_error(e: store::StoreError) -> ApiError {
    refusal(ConsultationError::Store(e))
}

fn disclosure(s: Option<&str>) -> Result<Disclosure, ApiError> {
    Disclosure::parse(s.unwrap_or("name")).ok_or_else(|| {
        ApiError::new(
            Status::BadRequest,
            "invalid",
            "disclosure: name or pseudonym",
        )
    })
}

fn kind(s: Option<&str>) -> Result<FilingKind, ApiError> {
    FilingKind::parse(s.unwrap_or("edit")).ok_or_else(|| {
        ApiError::new(
            Status::BadRequest,
            "invalid",
            "kind: edit, repeal or insert",
        )
    })
}

/// Operations as the API shows them, with their formal wording in French and English.
fn operations_json(art: &svc::Article, ops: &[Operation]) -> Value {
    json!(ops
        .iter()
        .map(|op| json!({
            "operation": op,
            "wording_fr": amendment::wording(Wording::Fr, &art.num, &art.body, op),
            "wording_en": amendment::wording(Wording::En, &art.num, &art.body, op),
        }))
        .collect::<Vec<_>>())
}

/// An article of a consultation as the amendment form starts from it: its text and the
/// SHA-256 a filing must give back.
#[get("/consultations/<id>/articles/<wid>")]
async fn article(app: &State<AppState>, id: i64, wid: &str) -> ApiResult {
    let wid = wid.to_string();
    blocking(app, move |app| {
        let (c, slug, art) = svc::article(app.reader.store(), id, &wid).map_err(refusal)?;
        Ok((
            Status::Ok,
            Json(json!({
                "consultation": c.id,
                "bill": slug,
                "phase": c.phase,
                "levels": {"comment": c.level_comment, "amend": c.level_amend, "vote": c.level_vote},
                "article": {"wid": art.wid, "num": art.num, "heading": art.heading,
                            "body": art.body, "sha256": art.sha256},
            })),
        ))
    })
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewAmendment {
    article: String,
    article_sha256: String,
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    text: String,
    #[serde(default)]
    justification: String,
    #[serde(default)]
    disclosure: Option<String>,
    /// One-time key (16–64 characters): sending the same request twice files once.
    #[serde(default)]
    token: String,
    /// Only check and show the operations, their wording and the diff; file nothing.
    #[serde(default)]
    preview: bool,
}

/// Files an amendment (201, its number and address), or previews it (200).
#[post("/consultations/<id>/amendments", format = "json", data = "<body>")]
async fn file(
    app: &State<AppState>,
    viewer: Viewer,
    addr: ClientAddr,
    id: i64,
    body: Json<NewAmendment>,
) -> ApiResult {
    let me = signed_in(viewer)?;
    let b = body.into_inner();
    let kind = kind(b.kind.as_deref())?;
    let disclosure = disclosure(b.disclosure.as_deref())?;
    blocking(app, move |app| {
        let filing = Filing {
            kind,
            consultation_id: id,
            wid: &b.article,
            article_sha256: &b.article_sha256,
            text: &b.text,
            justification: &b.justification,
            disclosure,
            form_token: &b.token,
        };
        let store = app.reader.store();
        if b.preview {
            let (_, _, art, ops) = svc::check_filing(store, &me, &filing).map_err(refusal)?;
            let (old, new) = effect(&art.body, &ops).map_err(|e| {
                ApiError::new(Status::InternalServerError, "internal", e.to_string())
            })?;
            return Ok((
                Status::Ok,
                Json(json!({
                    "operations": operations_json(&art, &ops),
                    "diff_html": render::diff_html(&word_diff(&old, &new)),
                })),
            ));
        }
        ratelimit::check(app, Action::Post, me.account.id, &addr).map_err(ApiError::from_page)?;
        let (a, slug) = svc::file(store, &app.pseudonym_key, &me, &filing).map_err(refusal)?;
        Ok((
            Status::Created,
            Json(json!({
                "number": a.number,
                "ref": display_number(&slug, a.number),
                "href": format!("/bills/{slug}/amendments/{}", a.number),
                "api": format!("/api/v1/bills/{slug}/amendments/{}", a.number),
                "revision": a.revision,
                "status": a.status,
            })),
        ))
    })
    .await
}

/// An amendment as the API lists it.
fn summary(slug: &str, a: &store::amendments::Amendment, identical: &[i32]) -> Value {
    json!({
        "number": a.number,
        "ref": display_number(slug, a.number),
        "article": a.article_wid,
        "author": a.author_label,
        "disclosure": a.disclosure,
        "level": a.author_level,
        "status": a.status,
        "revision": a.revision,
        "filed_at": a.filed_at,
        "identical": identical.iter().map(|n| display_number(slug, *n)).collect::<Vec<_>>(),
    })
}

/// A consultation's amendments, with the page's filters and pages (50 a page).
#[get("/consultations/<id>/amendments?<article>&<status>&<author>&<page>")]
async fn list(
    app: &State<AppState>,
    id: i64,
    article: Option<&str>,
    status: Option<&str>,
    author: Option<&str>,
    page: Option<i64>,
) -> ApiResult {
    let bad = |p: &str| ApiError::new(Status::BadRequest, "bad_request", format!("bad {p}"));
    let filter = listing::parse_filter(article, status, author).map_err(bad)?;
    let page = page.unwrap_or(1);
    if !(1..=1_000_000).contains(&page) {
        return Err(bad("page"));
    }
    let (article, status, author) = (
        filter.article_wid.map(str::to_string),
        filter.status.map(|s| s.to_string()),
        filter.disclosure.map(|d| d.to_string()),
    );
    blocking(app, move |app| {
        let filter = store::amendments::ListFilter {
            article_wid: article.as_deref(),
            status: status.as_deref().and_then(AmendmentStatus::parse),
            disclosure: author.as_deref().and_then(Disclosure::parse),
        };
        let mut conn = app.reader.store().conn().map_err(store_error)?;
        let c = store::consultations::by_id(&mut conn, id)
            .map_err(store_error)?
            .ok_or_else(|| refusal(ConsultationError::NotFound))?;
        let bill = store::bills::by_id(&mut conn, c.bill_id)
            .map_err(store_error)?
            .ok_or_else(|| refusal(ConsultationError::NotFound))?;
        drop(conn);
        let (rows, total) =
            listing::page(app.reader.store(), id, &filter, page).map_err(refusal)?;
        let identical = listing::identical_numbers(app.reader.store(), &rows).map_err(refusal)?;
        let pages = ((total + listing::PER_PAGE - 1) / listing::PER_PAGE).max(1);
        Ok((
            Status::Ok,
            Json(json!({
                "consultation": c.id,
                "bill": bill.slug,
                "total": total,
                "page": page,
                "pages": pages,
                "per_page": listing::PER_PAGE,
                "amendments": rows.iter().zip(&identical)
                    .map(|(a, same)| summary(&bill.slug, a, same))
                    .collect::<Vec<_>>(),
            })),
        ))
    })
    .await
}

/// The bill and amendment N, or 404.
fn find(
    app: &super::App,
    slug: &str,
    number: i32,
) -> Result<(store::bills::Bill, store::amendments::Amendment), ApiError> {
    let mut conn = app.reader.store().conn().map_err(store_error)?;
    let nf = || refusal(ConsultationError::NotFound);
    let bill = store::bills::by_slug(&mut conn, slug)
        .map_err(store_error)?
        .ok_or_else(nf)?;
    let a = store::amendments::by_number(&mut conn, bill.id, number)
        .map_err(store_error)?
        .ok_or_else(nf)?;
    Ok((bill, a))
}

/// One amendment: its current revision's operations (with their wording), its
/// justification, status and author. Hidden by moderation: no operations and no
/// justification, the moderation's rule and reason instead.
#[get("/bills/<slug>/amendments/<number>")]
async fn one(app: &State<AppState>, slug: &str, number: i32) -> ApiResult {
    let slug = slug.to_string();
    blocking(app, move |app| {
        let (bill, a) = find(app, &slug, number)?;
        let store = app.reader.store();
        let mut conn = store.conn().map_err(store_error)?;
        let hidden = crate::service::moderation::hidden_in(&mut conn, a.consultation_id)
            .map_err(store_error)?
            .remove(&(Kind::Amendment, a.id));
        let rev = store::amendments::revision(&mut conn, a.id, a.revision)
            .map_err(store_error)?
            .ok_or_else(|| refusal(ConsultationError::NotFound))?;
        drop(conn);
        let identical = listing::identical_numbers(store, std::slice::from_ref(&a))
            .map_err(refusal)?
            .pop()
            .unwrap_or_default();
        let mut out = summary(&bill.slug, &a, &identical);
        out["consultation"] = json!(a.consultation_id);
        out["href"] = json!(format!("/bills/{}/amendments/{}", bill.slug, a.number));
        match hidden {
            Some(h) => {
                out["operations"] = json!([]);
                out["justification"] = json!("");
                out["hidden"] = json!({"rule": h.rule, "reason": h.reason});
            }
            None => {
                let ops: Vec<Operation> = serde_json::from_str(&rev.operations).map_err(|e| {
                    ApiError::new(Status::InternalServerError, "internal", e.to_string())
                })?;
                // The version's text through the reader's cache, as the amendment page does.
                let (_, _, art) = listing::amendment_article(&app.reader, &a).map_err(refusal)?;
                out["operations"] = operations_json(&art, &ops);
                out["justification"] = json!(rev.justification);
                out["hidden"] = Value::Null;
            }
        }
        Ok((Status::Ok, Json(out)))
    })
    .await
}

/// Its author withdraws an amendment while amendments are open.
#[post("/bills/<slug>/amendments/<number>/withdraw")]
async fn withdraw(app: &State<AppState>, viewer: Viewer, slug: &str, number: i32) -> ApiResult {
    let me = signed_in(viewer)?;
    let slug = slug.to_string();
    blocking(app, move |app| {
        let (_, a) = find(app, &slug, number)?;
        if !svc::withdraw(app.reader.store(), &me, a.id).map_err(refusal)? {
            return Err(ApiError::new(
                Status::Conflict,
                "refused",
                Lang::En.tr().get("err_cannot_withdraw"),
            ));
        }
        Ok((
            Status::Ok,
            Json(json!({"ref": display_number(&slug, number), "status": "withdrawn"})),
        ))
    })
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Correction {
    /// The revision the correction starts from: sending it twice writes one revision.
    base_revision: i32,
    article_sha256: String,
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    text: String,
    #[serde(default)]
    justification: String,
}

/// Its author corrects an amendment ("rectifié"): a new revision.
#[post(
    "/bills/<slug>/amendments/<number>/rectify",
    format = "json",
    data = "<body>"
)]
async fn rectify(
    app: &State<AppState>,
    viewer: Viewer,
    addr: ClientAddr,
    slug: &str,
    number: i32,
    body: Json<Correction>,
) -> ApiResult {
    let me = signed_in(viewer)?;
    let b = body.into_inner();
    let kind = kind(b.kind.as_deref())?;
    let slug = slug.to_string();
    blocking(app, move |app| {
        let (_, a) = find(app, &slug, number)?;
        ratelimit::check(app, Action::Post, me.account.id, &addr).map_err(ApiError::from_page)?;
        let (a, _, revision) = svc::rectify(
            app.reader.store(),
            &me,
            &Rectification {
                amendment_id: a.id,
                base_revision: b.base_revision,
                kind,
                article_sha256: &b.article_sha256,
                text: &b.text,
                justification: &b.justification,
            },
        )
        .map_err(refusal)?;
        Ok((
            Status::Ok,
            Json(json!({"ref": display_number(&slug, a.number), "revision": revision})),
        ))
    })
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewComment {
    /// The unit (article or paragraph `wid`) commented on…
    #[serde(default)]
    unit: Option<String>,
    /// …or the amendment (its number in the bill)…
    #[serde(default)]
    amendment: Option<i32>,
    /// …or the comment replied to.
    #[serde(default)]
    parent: Option<i64>,
    #[serde(default)]
    quote: String,
    body: String,
    #[serde(default)]
    disclosure: Option<String>,
    /// One-time key (16–64 characters): sending the same request twice posts once.
    #[serde(default)]
    token: String,
}

/// Posts a comment, a reply or (staff) an answer; 201 with the comment.
async fn write(
    app: &State<AppState>,
    me: SessionInfo,
    addr: ClientAddr,
    id: i64,
    body: NewComment,
    is_answer: bool,
) -> ApiResult {
    let disclosure = disclosure(body.disclosure.as_deref())?;
    blocking(app, move |app| {
        let store = app.reader.store();
        // An amendment is named by its number in the bill, as everywhere in the API.
        let amendment_id = match body.amendment {
            None => None,
            Some(n) => {
                let mut conn = store.conn().map_err(store_error)?;
                let c = store::consultations::by_id(&mut conn, id)
                    .map_err(store_error)?
                    .ok_or_else(|| refusal(ConsultationError::NotFound))?;
                let a = store::amendments::by_number(&mut conn, c.bill_id, n)
                    .map_err(store_error)?
                    .filter(|a| a.consultation_id == id)
                    .ok_or_else(|| refusal(ConsultationError::NotFound))?;
                Some(a.id)
            }
        };
        let unit = body.unit.unwrap_or_default();
        let target = match (amendment_id, body.parent) {
            (Some(a), None) => comments_svc::Target::Amendment(a),
            (None, _) => comments_svc::Target::Unit(&unit),
            (Some(_), Some(_)) => {
                return Err(ApiError::new(
                    Status::BadRequest,
                    "invalid",
                    "give unit, amendment or parent, not amendment and parent",
                ))
            }
        };
        let new = comments_svc::NewComment {
            consultation_id: id,
            target,
            parent: body.parent,
            quote: &body.quote,
            body: &body.body,
            disclosure,
            form_token: &body.token,
        };
        ratelimit::check(app, Action::Post, me.account.id, &addr).map_err(ApiError::from_page)?;
        let made = if is_answer {
            comments_svc::answer(store, &app.pseudonym_key, &me, &new)
        } else {
            comments_svc::post(store, &app.pseudonym_key, &me, &new)
        }
        .map_err(refusal)?;
        Ok((
            Status::Created,
            Json(json!({
                "id": made.id,
                "consultation": made.consultation_id,
                "unit": made.unit_wid,
                "article": made.article_wid,
                "parent": made.parent_id,
                "kind": made.kind,
                "author": made.author_label,
                "disclosure": made.disclosure,
                "level": made.author_level,
                "quote": made.quote,
                "body": made.body,
                "created_at": made.created_at,
            })),
        ))
    })
    .await
}

#[post("/consultations/<id>/comments", format = "json", data = "<body>")]
async fn post_comment(
    app: &State<AppState>,
    viewer: Viewer,
    addr: ClientAddr,
    id: i64,
    body: Json<NewComment>,
) -> ApiResult {
    let me = signed_in(viewer)?;
    write(app, me, addr, id, body.into_inner(), false).await
}

#[post("/consultations/<id>/answers", format = "json", data = "<body>")]
async fn post_answer(
    app: &State<AppState>,
    viewer: Viewer,
    addr: ClientAddr,
    id: i64,
    body: Json<NewComment>,
) -> ApiResult {
    let me = signed_in(viewer)?;
    write(app, me, addr, id, body.into_inner(), true).await
}
