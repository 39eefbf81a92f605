//! JSON API of amendments and comments (DESIGN §10, docs/api.md): what the consultation
//! pages do, with the same rules, because the same service functions run behind both.
//! Writes need the session cookie and the CSRF token in `X-CSRF-Token`; refusals are
//! `{error, message}` with the status the page would give.

use super::auth::Viewer;
use super::errors::ApiError;
use super::i18n::Lang;
use super::ratelimit::{self, Action, ClientAddr};
use super::AppState;
use crate::domain::amendment::{self, AmendmentStatus, Operation, Wording};
use crate::domain::consolidation::effect;
use crate::domain::consultation::Phase;
use crate::domain::ids::{CommentId, ConsultationId};
use crate::domain::moderation::Rule;
use crate::domain::time::Timestamp;
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
use serde::{Deserialize, Serialize};

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

/// A JSON answer with its status, or a refusal (`{error, message}`).
type ApiResult<T> = Result<(Status, Json<T>), ApiError>;

/// Runs `f` off the async workers; a refusal of the services converts with `?`.
async fn blocking<T: Send + 'static>(
    app: &State<AppState>,
    f: impl FnOnce(&super::App) -> Result<(Status, T), ApiError> + Send + 'static,
) -> ApiResult<T> {
    let (status, body) = super::run_blocking(app, f).await??;
    Ok((status, Json(body)))
}

fn signed_in(viewer: Viewer) -> Result<SessionInfo, ApiError> {
    viewer
        .0
        .ok_or_else(|| ApiError::new(Status::Unauthorized, "unauthorized", "sign in first"))
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

/// An operation as the API shows it, with its formal wording in French and English.
#[derive(Serialize)]
struct OperationJson {
    operation: Operation,
    wording_fr: String,
    wording_en: String,
}

fn operations_json(art: &svc::Article, ops: Vec<Operation>) -> Vec<OperationJson> {
    ops.into_iter()
        .map(|op| OperationJson {
            wording_fr: amendment::wording(Wording::Fr, &art.num, &art.body, &op),
            wording_en: amendment::wording(Wording::En, &art.num, &art.body, &op),
            operation: op,
        })
        .collect()
}

/// The levels a consultation asks for each act.
#[derive(Serialize)]
struct Levels {
    comment: i32,
    amend: i32,
    vote: i32,
}

/// `GET …/articles/<wid>`.
#[derive(Serialize)]
struct ArticleJson {
    consultation: ConsultationId,
    bill: String,
    phase: Phase,
    levels: Levels,
    article: ArticleText,
}

/// An article's text, and the SHA-256 a filing must give back.
#[derive(Serialize)]
struct ArticleText {
    wid: String,
    num: String,
    heading: String,
    body: String,
    sha256: String,
}

/// An article of a consultation as the amendment form starts from it: its text and the
/// SHA-256 a filing must give back.
#[get("/consultations/<id>/articles/<wid>")]
async fn article(app: &State<AppState>, id: ConsultationId, wid: &str) -> ApiResult<ArticleJson> {
    let wid = wid.to_string();
    blocking(app, move |app| {
        let (c, bill, art) = svc::article(app.reader.store(), id, &wid)?;
        let svc::Article {
            wid,
            num,
            heading,
            body,
            sha256,
        } = art;
        Ok((
            Status::Ok,
            ArticleJson {
                consultation: c.id,
                bill,
                phase: c.phase,
                levels: Levels {
                    comment: c.level_comment,
                    amend: c.level_amend,
                    vote: c.level_vote,
                },
                article: ArticleText {
                    wid,
                    num,
                    heading,
                    body,
                    sha256,
                },
            },
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

/// What `POST …/amendments` answers: the preview (200), or the amendment filed (201).
#[derive(Serialize)]
#[serde(untagged)]
enum FileAnswer {
    Preview(Preview),
    Filed(Filed),
}

/// An amendment checked, not filed: its operations and the word diff it makes.
#[derive(Serialize)]
struct Preview {
    operations: Vec<OperationJson>,
    diff_html: String,
}

/// An amendment filed: its number, reference and addresses.
#[derive(Serialize)]
struct Filed {
    number: i32,
    #[serde(rename = "ref")]
    reference: String,
    href: String,
    api: String,
    revision: i32,
    status: AmendmentStatus,
}

/// Files an amendment (201, its number and address), or previews it (200).
#[post("/consultations/<id>/amendments", format = "json", data = "<body>")]
async fn file(
    app: &State<AppState>,
    viewer: Viewer,
    addr: ClientAddr,
    id: ConsultationId,
    body: Json<NewAmendment>,
) -> ApiResult<FileAnswer> {
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
            let (_, _, art, ops) = svc::check_filing(store, &me, &filing)?;
            let (old, new) = effect(&art.body, &ops).map_err(ApiError::internal)?;
            return Ok((
                Status::Ok,
                FileAnswer::Preview(Preview {
                    diff_html: render::diff_html(&word_diff(&old, &new)),
                    operations: operations_json(&art, ops),
                }),
            ));
        }
        ratelimit::check(app, Action::Post, me.account.id, &addr)?;
        let (a, slug) = svc::file(store, &app.pseudonym_key, &me, &filing)?;
        Ok((
            Status::Created,
            FileAnswer::Filed(Filed {
                number: a.number,
                reference: display_number(&slug, a.number),
                href: format!("/bills/{slug}/amendments/{}", a.number),
                api: format!("/api/v1/bills/{slug}/amendments/{}", a.number),
                revision: a.revision,
                status: a.status,
            }),
        ))
    })
    .await
}

/// An amendment as the API lists it.
#[derive(Serialize)]
struct Summary {
    number: i32,
    #[serde(rename = "ref")]
    reference: String,
    article: String,
    author: String,
    disclosure: Disclosure,
    level: i32,
    status: AmendmentStatus,
    revision: i32,
    filed_at: Timestamp,
    /// The references of the amendments making the very same operations.
    identical: Vec<String>,
}

impl Summary {
    fn of(slug: &str, a: &store::amendments::Amendment, identical: &[i32]) -> Summary {
        Summary {
            number: a.number,
            reference: display_number(slug, a.number),
            article: a.article_wid.clone(),
            author: a.author_label.clone(),
            disclosure: a.disclosure,
            level: a.author_level,
            status: a.status,
            revision: a.revision,
            filed_at: a.filed_at,
            identical: identical.iter().map(|n| display_number(slug, *n)).collect(),
        }
    }
}

/// `GET …/amendments`: a page of a consultation's amendments.
#[derive(Serialize)]
struct AmendmentList {
    consultation: ConsultationId,
    bill: String,
    total: i64,
    page: i64,
    pages: i64,
    per_page: i64,
    amendments: Vec<Summary>,
}

/// A consultation's amendments, with the page's filters and pages (50 a page).
#[get("/consultations/<id>/amendments?<article>&<status>&<author>&<page>")]
async fn list(
    app: &State<AppState>,
    id: ConsultationId,
    article: Option<&str>,
    status: Option<&str>,
    author: Option<&str>,
    page: Option<i64>,
) -> ApiResult<AmendmentList> {
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
        let mut conn = app.reader.store().conn()?;
        let c = store::consultations::by_id(&mut conn, id)?.ok_or(ConsultationError::NotFound)?;
        let bill = store::bills::by_id(&mut conn, c.bill_id)?.ok_or(ConsultationError::NotFound)?;
        drop(conn);
        let (rows, total) = listing::page(app.reader.store(), id, &filter, page)?;
        let identical = listing::identical_numbers(app.reader.store(), &rows)?;
        let pages = ((total + listing::PER_PAGE - 1) / listing::PER_PAGE).max(1);
        Ok((
            Status::Ok,
            AmendmentList {
                consultation: c.id,
                total,
                page,
                pages,
                per_page: listing::PER_PAGE,
                amendments: rows
                    .iter()
                    .zip(&identical)
                    .map(|(a, same)| Summary::of(&bill.slug, a, same))
                    .collect(),
                bill: bill.slug,
            },
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
    let mut conn = app.reader.store().conn()?;
    let bill = store::bills::by_slug(&mut conn, slug)?.ok_or(ConsultationError::NotFound)?;
    let a = store::amendments::by_number(&mut conn, bill.id, number)?
        .ok_or(ConsultationError::NotFound)?;
    Ok((bill, a))
}

/// `GET /bills/<slug>/amendments/<number>`: the listing's fields and the amendment's
/// content (none when hidden by moderation: `hidden` says why instead).
#[derive(Serialize)]
struct AmendmentJson {
    #[serde(flatten)]
    summary: Summary,
    consultation: ConsultationId,
    href: String,
    operations: Vec<OperationJson>,
    justification: String,
    hidden: Option<HiddenJson>,
}

/// Why an item is hidden: the moderation's rule and public reason.
#[derive(Serialize)]
struct HiddenJson {
    rule: Rule,
    reason: String,
}

/// One amendment: its current revision's operations (with their wording), its
/// justification, status and author. Hidden by moderation: no operations and no
/// justification, the moderation's rule and reason instead.
#[get("/bills/<slug>/amendments/<number>")]
async fn one(app: &State<AppState>, slug: &str, number: i32) -> ApiResult<AmendmentJson> {
    let slug = slug.to_string();
    blocking(app, move |app| {
        let (bill, a) = find(app, &slug, number)?;
        let store = app.reader.store();
        let mut conn = store.conn()?;
        let hidden = crate::service::moderation::hidden_in(&mut conn, a.consultation_id)?
            .remove(&(Kind::Amendment, a.id.get()));
        let rev = store::amendments::revision(&mut conn, a.id, a.revision)?
            .ok_or(ConsultationError::NotFound)?;
        drop(conn);
        let identical = listing::identical_numbers(store, std::slice::from_ref(&a))?
            .pop()
            .unwrap_or_default();
        let (operations, justification, hidden) = match hidden {
            Some(h) => (
                Vec::new(),
                String::new(),
                Some(HiddenJson {
                    rule: h.rule,
                    reason: h.reason,
                }),
            ),
            None => {
                let ops: Vec<Operation> =
                    serde_json::from_str(&rev.operations).map_err(ApiError::internal)?;
                // The version's text through the reader's cache, as the amendment page does.
                let (_, _, art) = listing::amendment_article(&app.reader, &a)?;
                (operations_json(&art, ops), rev.justification, None)
            }
        };
        Ok((
            Status::Ok,
            AmendmentJson {
                summary: Summary::of(&bill.slug, &a, &identical),
                consultation: a.consultation_id,
                href: format!("/bills/{}/amendments/{}", bill.slug, a.number),
                operations,
                justification,
                hidden,
            },
        ))
    })
    .await
}

/// An amendment withdrawn.
#[derive(Serialize)]
struct Withdrawn {
    #[serde(rename = "ref")]
    reference: String,
    status: AmendmentStatus,
}

/// Its author withdraws an amendment while amendments are open.
#[post("/bills/<slug>/amendments/<number>/withdraw")]
async fn withdraw(
    app: &State<AppState>,
    viewer: Viewer,
    slug: &str,
    number: i32,
) -> ApiResult<Withdrawn> {
    let me = signed_in(viewer)?;
    let slug = slug.to_string();
    blocking(app, move |app| {
        let (_, a) = find(app, &slug, number)?;
        if !svc::withdraw(app.reader.store(), &me, a.id)? {
            return Err(ApiError::new(
                Status::Conflict,
                "refused",
                Lang::En.tr().get("err_cannot_withdraw"),
            ));
        }
        Ok((
            Status::Ok,
            Withdrawn {
                reference: display_number(&slug, number),
                status: AmendmentStatus::Withdrawn,
            },
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

/// An amendment corrected: its new revision.
#[derive(Serialize)]
struct Rectified {
    #[serde(rename = "ref")]
    reference: String,
    revision: i32,
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
) -> ApiResult<Rectified> {
    let me = signed_in(viewer)?;
    let b = body.into_inner();
    let kind = kind(b.kind.as_deref())?;
    let slug = slug.to_string();
    blocking(app, move |app| {
        let (_, a) = find(app, &slug, number)?;
        ratelimit::check(app, Action::Post, me.account.id, &addr)?;
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
        )?;
        Ok((
            Status::Ok,
            Rectified {
                reference: display_number(&slug, a.number),
                revision,
            },
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
    parent: Option<CommentId>,
    #[serde(default)]
    quote: String,
    body: String,
    #[serde(default)]
    disclosure: Option<String>,
    /// One-time key (16–64 characters): sending the same request twice posts once.
    #[serde(default)]
    token: String,
}

/// A comment or answer posted.
#[derive(Serialize)]
struct CommentJson {
    id: CommentId,
    consultation: ConsultationId,
    unit: String,
    article: String,
    parent: Option<CommentId>,
    kind: crate::domain::comment::CommentKind,
    author: String,
    disclosure: Disclosure,
    level: i32,
    quote: String,
    body: String,
    created_at: Timestamp,
}

impl From<store::comments::Comment> for CommentJson {
    fn from(c: store::comments::Comment) -> Self {
        CommentJson {
            id: c.id,
            consultation: c.consultation_id,
            unit: c.unit_wid,
            article: c.article_wid,
            parent: c.parent_id,
            kind: c.kind,
            author: c.author_label,
            disclosure: c.disclosure,
            level: c.author_level,
            quote: c.quote,
            body: c.body,
            created_at: c.created_at,
        }
    }
}

/// Posts a comment, a reply or (staff) an answer; 201 with the comment.
async fn write(
    app: &State<AppState>,
    me: SessionInfo,
    addr: ClientAddr,
    id: ConsultationId,
    body: NewComment,
    is_answer: bool,
) -> ApiResult<CommentJson> {
    let disclosure = disclosure(body.disclosure.as_deref())?;
    blocking(app, move |app| {
        let store = app.reader.store();
        // An amendment is named by its number in the bill, as everywhere in the API.
        let amendment_id = match body.amendment {
            None => None,
            Some(n) => {
                let mut conn = store.conn()?;
                let c = store::consultations::by_id(&mut conn, id)?
                    .ok_or(ConsultationError::NotFound)?;
                let a = store::amendments::by_number(&mut conn, c.bill_id, n)?
                    .filter(|a| a.consultation_id == id)
                    .ok_or(ConsultationError::NotFound)?;
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
        ratelimit::check(app, Action::Post, me.account.id, &addr)?;
        let made = if is_answer {
            comments_svc::answer(store, &app.pseudonym_key, &me, &new)
        } else {
            comments_svc::post(store, &app.pseudonym_key, &me, &new)
        }?;
        Ok((Status::Created, made.into()))
    })
    .await
}

#[post("/consultations/<id>/comments", format = "json", data = "<body>")]
async fn post_comment(
    app: &State<AppState>,
    viewer: Viewer,
    addr: ClientAddr,
    id: ConsultationId,
    body: Json<NewComment>,
) -> ApiResult<CommentJson> {
    let me = signed_in(viewer)?;
    write(app, me, addr, id, body.into_inner(), false).await
}

#[post("/consultations/<id>/answers", format = "json", data = "<body>")]
async fn post_answer(
    app: &State<AppState>,
    viewer: Viewer,
    addr: ClientAddr,
    id: ConsultationId,
    body: Json<NewComment>,
) -> ApiResult<CommentJson> {
    let me = signed_in(viewer)?;
    write(app, me, addr, id, body.into_inner(), true).await
}
