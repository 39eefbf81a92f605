//! Consultation pages: staff open one on a bill version and move it through its phases;
//! citizens propose amendments by editing an article (preview, then file); anyone reads
//! the consultation and each amendment. The rules are in `service::consultation`.

use super::auth::{CsrfToken, HasRole, SignedIn, Staff};
use super::conditional::{CachedPage, IfNoneMatch};
use super::csrf::{Form, NoFields};
use super::errors::AppError;
use super::i18n::Lang;
use super::{view, AppState, Ctx};
use crate::domain::amendment::{self, AmendmentStatus, Operation, Wording};
use crate::domain::consolidation::{effect, RebaseOutcome};
use crate::service::amendments as listing;
use crate::service::consultation::{
    self as svc, display_number, ConsultationError, Disclosure, Filing, FilingKind,
    NewConsultation, Phase, Rectification,
};
use crate::service::disposition::{self, Ruling};
use crate::service::identity::SessionInfo;
use crate::store;
use crate::text::{render, word_diff, UnitKind};
use rocket::form::FromForm;
use rocket::http::Status;
use rocket::response::content::RawHtml;
use rocket::response::Redirect;
use rocket::{get, post, routes, Route, State};
use serde_json::{json, Map, Value};

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

/// Amendments shown per page of a consultation.
const PER_PAGE: i64 = listing::PER_PAGE;

fn phase_json(lang: Lang, phase: &Phase) -> Value {
    json!({"code": phase, "name": lang.tr().get(&format!("phase_{phase}"))})
}

// ---------------------------------------------------------------- opening

/// The consultations of a bill, newest first (and, for staff, a way to open one).
#[get("/bills/<slug>/consultations")]
async fn list(app: &State<AppState>, ctx: Ctx, slug: &str) -> Result<RawHtml<String>, AppError> {
    let slug = slug.to_string();
    super::blocking(app, move |app| {
        let page = view::consultation::consultations(app, &ctx, &slug)?;
        app.page(&ctx, &page).map(RawHtml)
    })
    .await
}

#[derive(Default, Clone)]
struct ConsultationDraft {
    version: String,
    title: String,
    description: String,
    opens_on: String,
    closes_on: String,
    levels: [String; 3],
    error: Option<(&'static str, String)>,
}

fn new_form(
    app: &super::App,
    ctx: &Ctx,
    csrf: &CsrfToken,
    slug: &str,
    d: &ConsultationDraft,
) -> Result<String, AppError> {
    let lang = ctx.lang;
    let t = lang.tr();
    let (bill, versions) = app.reader.bill(slug)?;
    let latest = versions.iter().map(|v| v.number).max().unwrap_or(0);
    let chosen: i32 = d.version.parse().unwrap_or(latest);
    let versions: Vec<Value> = versions
        .iter()
        .rev()
        .map(|v| json!({"number": v.number, "date": v.date, "selected": v.number == chosen}))
        .collect();
    let level = |i: usize, default: &str| -> Vec<Value> {
        let v = if d.levels[i].is_empty() {
            default
        } else {
            d.levels[i].as_str()
        };
        (0..=3)
            .map(|l| json!({"value": l, "name": t.get(&format!("level_{l}")), "selected": l.to_string() == v}))
            .collect()
    };
    let mut data = Map::new();
    data.insert(
        "bill".into(),
        json!({"slug": slug, "title": bill.meta.title}),
    );
    data.insert("versions".into(), json!(versions));
    data.insert("draft".into(), json!({"title": d.title, "description": d.description, "opens_on": d.opens_on, "closes_on": d.closes_on}));
    data.insert("level_comment".into(), json!(level(0, "1")));
    data.insert("level_amend".into(), json!(level(1, "1")));
    data.insert("level_vote".into(), json!(level(2, "2")));
    data.insert("csrf".into(), json!(csrf.0));
    if let Some((field, message)) = &d.error {
        data.insert(format!("error_{field}"), json!(message));
    }
    app.render(
        "consultation_new",
        ctx,
        t.get("consultation_new_title"),
        data,
    )
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
        new_form(app, &ctx, &csrf, &slug, &ConsultationDraft::default()).map(RawHtml)
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
    let lang = ctx.lang;
    let take = |s: &str, n: usize| s.chars().take(n).collect::<String>();
    let mut d = ConsultationDraft {
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
        error: None,
    };
    let slug = slug.to_string();
    super::blocking(app, move |app| {
        let t = lang.tr();
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
                d.error = Some((field, t.get(reason).to_string()));
                let html = new_form(app, &ctx, &csrf, &slug, &d)?;
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
    id: i64,
    page: Option<i64>,
) -> Result<CachedPage, AppError> {
    let lang = ctx.lang;
    let page = page.unwrap_or(1).max(1);
    super::live::page(app, ctx, csrf, inm, move |app, ctx, csrf| {
        let t = lang.tr();
        let mut conn = app.reader.store().conn()?;
        let c = store::consultations::by_id(&mut conn, id)?
            .ok_or_else(AppError::not_found)?;
        let bill = store::bills::by_id(&mut conn, c.bill_id)?
            .ok_or_else(AppError::not_found)?;
        let version = store::versions::by_id(&mut conn, c.version_id)?
            .ok_or_else(AppError::not_found)?;
        let counts: std::collections::HashMap<String, i64> =
            store::amendments::counts_by_article(&mut conn, id)?
                .into_iter()
                .collect();
        let comment_counts: std::collections::HashMap<String, i64> =
            store::comments::counts_by_article(&mut conn, id)?
                .into_iter()
                .collect();
        let open = c.phase == Phase::Amendments;
        let articles: Vec<Value> = store::units::for_version(&mut conn, version.meta.id)?
            .iter()
            .filter(|u| u.kind == UnitKind::Article)
            .map(|u| {
                json!({
                    "wid": u.wid,
                    "heading": u.heading,
                    "amendments": counts.get(&u.wid).copied().unwrap_or(0),
                    "comments": comment_counts.get(&u.wid).copied().unwrap_or(0),
                    "open": open,
                })
            })
            .collect();
        let list = store::amendments::for_consultation(
            &mut conn,
            id,
            None,
            (page - 1) * PER_PAGE,
            PER_PAGE + 1,
        )?;
        let more = list.len() as i64 > PER_PAGE;
        let amendments: Vec<Value> = list
            .iter()
            .take(PER_PAGE as usize)
            .map(|a| {
                json!({
                    "number": display_number(&bill.slug, a.number),
                    "href": format!("/bills/{}/amendments/{}", bill.slug, a.number),
                    "author": a.author_label,
                    "level": a.author_level,
                    "status": t.get(&format!("status_{}", a.status)),
                })
            })
            .collect();
        let staff = ctx
            .viewer
            .as_ref()
            .is_some_and(|v| v.has_role(crate::domain::identity::Role::Staff));
        let next_phase = c.phase.next().map(|p| phase_json(lang, &p));
        let mut data = Map::new();
        data.insert("consultation".into(), json!({
            "id": c.id, "title": c.title, "description": render::markdown_block(&c.description),
            "opens_on": c.opens_on, "closes_on": c.closes_on,
            "level_comment": c.level_comment, "level_amend": c.level_amend, "level_vote": c.level_vote,
        }));
        data.insert("phase".into(), phase_json(lang, &c.phase));
        data.insert("bill".into(), json!({"slug": bill.slug, "title": bill.meta.title, "version": version.meta.number}));
        data.insert("articles".into(), json!(articles));
        data.insert("amendments".into(), json!(amendments));
        data.insert("page".into(), json!(page));
        data.insert("prev_page".into(), json!((page > 1).then_some(page - 1)));
        data.insert("next_page".into(), json!(more.then_some(page + 1)));
        // Consolidated text, or staff's ways to make it / move to a newer version.
        let mut conn = app.reader.store().conn()?;
        let consolidated = match store::consolidations::for_consultation(&mut conn, c.id)?
        {
            Some(k) => store::versions::by_id(&mut conn, k.version_id)?
                .map(|v| json!({"number": v.meta.number,
                    "href": format!("/bills/{}?v={}", bill.slug, v.meta.number),
                    "provenance": format!("/bills/{}/versions/{}/provenance", bill.slug, v.meta.number)})),
            None => None,
        };
        let newer: Vec<i32> = store::versions::list_meta(&mut conn, bill.id)?
            .iter()
            .map(|m| m.number)
            .filter(|n| *n > version.meta.number)
            .collect();
        drop(conn);
        data.insert("can_consolidate".into(), json!(staff && consolidated.is_none()
            && c.phase.voting_started()));
        data.insert("newer_versions".into(), json!(if staff && c.phase.before_voting() { newer } else { Vec::new() }));
        data.insert("consolidated".into(), json!(consolidated));
        data.insert("staff".into(), json!(staff && next_phase.is_some()));
        data.insert("next_phase".into(), json!(next_phase));
        data.insert("csrf".into(), json!(csrf.map(|c| c.0.clone())));
        app.render("consultation", ctx, &c.title, data)
    })
    .await
}

#[post("/consultations/<id>/phase", format = "form", data = "<_csrf>")]
async fn advance(
    app: &State<AppState>,
    staff: HasRole<Staff>,
    id: i64,
    _csrf: Form<NoFields>,
) -> Result<Redirect, AppError> {
    super::blocking(app, move |app| {
        svc::advance(app.reader.store(), &staff.0, id, &app.voting)?;
        Ok(Redirect::to(format!("/consultations/{id}")))
    })
    .await
}

// ---------------------------------------------------------------- amending

/// What the amendment form shows (and keeps when it comes back).
struct AmendDraft {
    text: String,
    justification: String,
    disclosure: Disclosure,
    kind: FilingKind,
    token: String,
    sha: String,
    preview: Option<(String, Vec<String>)>,
    error: Option<String>,
    rectify: Option<RectifyTarget>,
}

/// The amendment a form corrects ("rectifié"), when it is not a filing.
struct RectifyTarget {
    number: String,
    action: String,
    base: i32,
}

#[allow(clippy::too_many_arguments)]
fn amend_form(
    app: &super::App,
    ctx: &Ctx,
    csrf: &CsrfToken,
    me: &SessionInfo,
    c: &store::consultations::Consultation,
    slug: &str,
    art: &svc::Article,
    d: &AmendDraft,
) -> Result<String, AppError> {
    let lang = ctx.lang;
    let t = lang.tr();
    let mut data = Map::new();
    match &d.rectify {
        Some(r) => {
            data.insert("action".into(), json!(r.action));
            data.insert("base".into(), json!(r.base));
        }
        None => {
            data.insert(
                "action".into(),
                json!(format!(
                    "/consultations/{}/articles/{}/amend",
                    c.id, art.wid
                )),
            );
            data.insert("base".into(), Value::Null);
        }
    }
    data.insert("consultation".into(), json!({"id": c.id, "title": c.title}));
    data.insert(
        "article".into(),
        json!({"wid": art.wid, "num": art.num, "heading": art.heading}),
    );
    data.insert("text".into(), json!(d.text));
    data.insert("justification".into(), json!(d.justification));
    data.insert("token".into(), json!(d.token));
    data.insert("sha".into(), json!(d.sha));
    data.insert("csrf".into(), json!(csrf.0));
    data.insert(
        "name_label".into(),
        json!(svc::author_label(
            &app.pseudonym_key,
            me,
            slug,
            Disclosure::Name
        )),
    );
    data.insert(
        "pseudonym_label".into(),
        json!(svc::author_label(
            &app.pseudonym_key,
            me,
            slug,
            Disclosure::Pseudonym
        )),
    );
    data.insert(
        "pseudonymous".into(),
        json!(d.disclosure == Disclosure::Pseudonym),
    );
    data.insert("level".into(), json!(me.level().get()));
    let kinds: Vec<Value> = [
        (FilingKind::Edit, "edit"),
        (FilingKind::RepealArticle, "repeal"),
        (FilingKind::InsertAfter, "insert"),
    ]
    .iter()
    .map(|(k, v)| json!({"value": v, "name": t.get(&format!("kind_{v}")), "checked": *k == d.kind}))
    .collect();
    data.insert("kinds".into(), json!(kinds));
    data.insert("error".into(), json!(d.error));
    if let Some((diff, wording)) = &d.preview {
        data.insert("preview".into(), json!({"diff": diff, "wording": wording}));
    }
    let title = match &d.rectify {
        Some(r) => t.fmt("rectify_title", &[("number", &r.number)]),
        None => t.fmt("amend_title", &[("num", &art.num)]),
    };
    app.render("amend", ctx, &title, data)
}

#[get("/consultations/<id>/articles/<wid>/amend")]
async fn amend_page(
    app: &State<AppState>,
    ctx: Ctx,
    me: SignedIn,
    csrf: CsrfToken,
    id: i64,
    wid: &str,
) -> Result<RawHtml<String>, AppError> {
    let wid = wid.to_string();
    let me = me.0;
    super::blocking(app, move |app| {
        let (c, slug, art) = svc::article(app.reader.store(), id, &wid)?;
        if c.phase != Phase::Amendments {
            return Err(ConsultationError::NotOpen(c.phase).into());
        }
        let needed = u8::try_from(c.level_amend).unwrap_or(3);
        if me.level().get() < needed {
            return Err(AppError::level(needed, me.level().get()).step_up_from(&ctx.path));
        }
        let d = AmendDraft {
            text: art.body.clone(),
            justification: String::new(),
            disclosure: Disclosure::Name,
            kind: FilingKind::Edit,
            token: crate::service::identity::random_token()?,
            sha: art.sha256.clone(),
            preview: None,
            error: None,
            rectify: None,
        };
        amend_form(app, &ctx, &csrf, &me, &c, &slug, &art, &d).map(RawHtml)
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
    id: i64,
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
        rectify: None,
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
                Err(e) => d.error = Some(form_error(lang, e)?),
            }
        } else {
            match svc::check_filing(store, &me, &filing) {
                Ok((_, _, art, ops)) => d.preview = Some(preview(lang, &art, &ops)?),
                Err(e) => d.error = Some(form_error(lang, e)?),
            }
        }
        let status = if d.error.is_some() {
            Status::UnprocessableEntity
        } else {
            Status::Ok
        };
        let (c, slug, art) = svc::article(store, id, &wid)?;
        let html = amend_form(app, &ctx, &csrf, &me, &c, &slug, &art, &d)?;
        Ok(Err((status, RawHtml(html))))
    })
    .await
}

/// The word diff (HTML) and the formal wording of operations on an article.
fn preview(
    lang: Lang,
    art: &svc::Article,
    ops: &[Operation],
) -> Result<(String, Vec<String>), AppError> {
    let (old, new) = effect(&art.body, ops).map_err(|e| AppError::internal(e.to_string()))?;
    let diff = render::diff_html(&word_diff(&old, &new));
    let wording = ops
        .iter()
        .map(|op| amendment::wording(wording_lang(lang), &art.num, &art.body, op))
        .collect();
    Ok((diff, wording))
}

/// A refusal the form shows next to the input (the person can fix it there), or the
/// error page for anything else.
fn form_error(lang: Lang, e: ConsultationError) -> Result<String, AppError> {
    let t = lang.tr();
    match e {
        ConsultationError::Amend(amendment::AmendError::Empty) => {
            Ok(t.get("err_empty_amendment").into())
        }
        ConsultationError::Invalid { reason, .. } => Ok(t.get(reason).into()),
        ConsultationError::State(key @ "err_rectify_nothing") => Ok(t.get(key).into()),
        e => Err(e.into()),
    }
}

/// The bill and amendment `AM-<slug>-<number>`, or a 404 page.
pub(super) fn find_amendment(
    app: &super::App,
    slug: &str,
    number: i32,
) -> Result<(store::bills::Bill, store::amendments::Amendment), AppError> {
    let nf = || AppError::not_found();
    let mut conn = app.reader.store().conn()?;
    let bill = store::bills::by_slug(&mut conn, slug)?.ok_or_else(nf)?;
    let a = store::amendments::by_number(&mut conn, bill.id, number)?.ok_or_else(nf)?;
    Ok((bill, a))
}

/// The i18n suffix of a kind of conflict (`conflict_overlap`, …).
fn conflict_code(c: amendment::Conflict) -> &'static str {
    match c {
        amendment::Conflict::Overlap => "overlap",
        amendment::Conflict::RepealedUnit => "repealed_unit",
        amendment::Conflict::OrderDependent => "order_dependent",
    }
}

fn wording_lang(lang: Lang) -> Wording {
    match lang {
        Lang::Fr => Wording::Fr,
        Lang::En => Wording::En,
    }
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
    let lang = ctx.lang;
    let slug = slug.to_string();
    super::live::page(app, ctx, csrf, inm, move |app, ctx, csrf| {
        let t = lang.tr();
        let (bill, a) = find_amendment(app, &slug, number)?;
        let mut conn = app.reader.store().conn()?;
        let rev = store::amendments::revision(&mut conn, a.id, a.revision)?
            .ok_or_else(AppError::not_found)?;
        drop(conn);
        let (c, _, art) = listing::amendment_article(&app.reader, &a)?;
        let ops: Vec<Operation> = serde_json::from_str(&rev.operations)
            .map_err(|e| AppError::internal(e.to_string()))?;
        let (old, new) = effect(&art.body, &ops)
            .map_err(|e| AppError::internal(e.to_string()))?;
        let wording: Vec<String> = ops
            .iter()
            .map(|op| amendment::wording(wording_lang(lang), &art.num, &art.body, op))
            .collect();
        let number_text = display_number(&bill.slug, a.number);
        let mut data = Map::new();
        data.insert("number".into(), json!(number_text));
        data.insert("revision".into(), json!(a.revision));
        // "Rectifié": a revision written by its author, not one a rebase wrote.
        let rebased = {
            let mut conn = app.reader.store().conn()?;
            store::rebases::latest(&mut conn, a.id)?
                .is_some_and(|r| {
                    r.outcome.stands()
                        && r.to_version_id == a.version_id
                })
        };
        data.insert("rectified".into(), json!(a.revision > 1 && !rebased));
        data.insert("consultation".into(), json!({"id": c.id, "title": c.title}));
        data.insert("article".into(), json!({"num": art.num, "heading": art.heading, "href": format!("/bills/{}/articles/{}", bill.slug, art.wid)}));
        data.insert("author".into(), json!(a.author_label));
        data.insert("pseudonymous".into(), json!(a.disclosure == Disclosure::Pseudonym));
        data.insert("level".into(), json!(a.author_level));
        data.insert("status".into(), json!(t.get(&format!("status_{}", a.status))));
        data.insert("filed_at".into(), json!(a.filed_at.replace('T', " ").trim_end_matches('Z')));
        data.insert("wording".into(), json!(wording));
        data.insert("diff".into(), json!(render::diff_html(&word_diff(&old, &new))));
        data.insert("justification".into(), json!(render::markdown_block(&rev.justification)));
        // Its author may withdraw it while amendments are open.
        let mine = ctx.viewer.as_ref().is_some_and(|v| v.account.id == a.author_id);
        let can_withdraw =
            mine && c.phase == Phase::Amendments && a.status.is_standing();
        data.insert("can_withdraw".into(), json!(can_withdraw));
        // Its author may correct it ("rectifié") until voting opens and staff rule.
        let can_rectify = ctx
            .viewer
            .as_ref()
            .is_some_and(|v| svc::may_rectify(v, &a, &c).is_ok());
        data.insert("rectify_href".into(), json!(can_rectify.then(|| format!("/bills/{}/amendments/{}/rectify", bill.slug, a.number))));
        // The standing amendments on the same unit it conflicts with, or is identical to.
        let related = listing::related(app.reader.store(), &a, &art.body)?;
        let link = |o: &store::amendments::Amendment| {
            json!({"number": display_number(&bill.slug, o.number),
                   "href": format!("/bills/{}/amendments/{}", bill.slug, o.number)})
        };
        let conflicts: Vec<Value> = related
            .conflicts
            .iter()
            .map(|(o, why)| {
                let mut v = link(o);
                v["kind"] = json!(t.get(&format!("conflict_{}", conflict_code(*why))));
                v["code"] = json!(conflict_code(*why));
                v
            })
            .collect();
        data.insert("conflicts".into(), json!(conflicts));
        data.insert("identical".into(), json!(related.identical.iter().map(link).collect::<Vec<_>>()));
        // Every revision, the earlier ones with their diff.
        let mut conn = app.reader.store().conn()?;
        let revisions: Vec<Value> = store::amendments::revisions(&mut conn, a.id)?
            .iter()
            .filter(|r| r.revision != a.revision)
            .rev()
            .map(|r| {
                let ops: Vec<Operation> = serde_json::from_str(&r.operations).unwrap_or_default();
                let diff = effect(&art.body, &ops)
                    .ok()
                    .filter(|_| !ops.is_empty())
                    .map(|(old, new)| render::diff_html(&word_diff(&old, &new)));
                json!({"revision": r.revision,
                       "created_at": r.created_at.replace('T', " ").trim_end_matches('Z'),
                       "diff": diff,
                       "justification": render::markdown_block(&r.justification)})
            })
            .collect();
        drop(conn);
        data.insert("revisions".into(), json!(revisions));
        data.insert("withdraw_href".into(), json!(format!("/bills/{}/amendments/{}/withdraw", bill.slug, a.number)));
        // The ruling (its reason is public), and what made it fall.
        let mut conn = app.reader.store().conn()?;
        if let Some(d) = store::dispositions::for_amendment(&mut conn, a.id)?
        {
            let fallen_by = match d.fallen_by {
                Some(id) => store::amendments::by_id(&mut conn, id)?
                    .map(|f| json!({"number": display_number(&bill.slug, f.number),
                                    "href": format!("/bills/{}/amendments/{}", bill.slug, f.number)})),
                None => None,
            };
            data.insert("disposition".into(), json!({
                "reason": (!d.reason.is_empty()).then_some(&d.reason),
                "fallen_by": fallen_by,
                "decided_at": d.decided_at.replace('T', " ").trim_end_matches('Z'),
            }));
        }
        if let Some(r) = store::rebases::latest(&mut conn, a.id)? {
            let to = store::versions::by_id(&mut conn, r.to_version_id)?
                .map_or(0, |v| v.meta.number);
            let mut rebase = json!({
                "outcome": r.outcome,
                "message": t.fmt(&format!("rebase_{}", r.outcome), &[("version", &to)]),
            });
            if r.outcome == RebaseOutcome::Proposed {
                // The proposed wording on the new version, and the author's button.
                let ops: Vec<Operation> = serde_json::from_str(&r.operations)
                    .map_err(|e| AppError::internal(e.to_string()))?;
                let bodies = crate::service::disposition::bodies(&mut conn, r.to_version_id)?;
                if let Some(body) = bodies.get(&a.article_wid) {
                    if let Ok(new) = amendment::apply(body, &ops) {
                        rebase["diff"] = json!(render::diff_html(&word_diff(body, &new)));
                    }
                }
                let mine = ctx.viewer.as_ref().is_some_and(|v| v.account.id == a.author_id);
                if mine && c.phase == Phase::Amendments {
                    rebase["accept_href"] = json!(format!("/bills/{}/amendments/{}/accept-rebase", bill.slug, a.number));
                }
            }
            data.insert("rebase".into(), rebase);
        }
        drop(conn);
        let staff = ctx
            .viewer
            .as_ref()
            .is_some_and(|v| v.has_role(crate::domain::identity::Role::Staff));
        if staff {
            let rulings: Vec<Value> = ["admissible", "inadmissible", "adopted", "rejected"]
                .iter()
                .map(|r| json!({"value": r, "name": t.get(&format!("rule_{r}"))}))
                .collect();
            data.insert("rulings".into(), json!(rulings));
            data.insert("rule_href".into(), json!(format!("/bills/{}/amendments/{}/rule", bill.slug, a.number)));
        }
        let threads = crate::service::comments::for_amendment(app.reader.store(), &a)?;
        // What moderation hides in this consultation, read once for the amendment and
        // its comments.
        let view = super::comments::ModerationView::load(app, ctx, csrf, c.id)?;
        let comments = super::comments::comments_json(
            app,
            ctx,
            csrf,
            &c,
            &bill.slug,
            &threads,
            super::comments::FormTarget::Amendment(a.id),
            &view,
        )?;
        data.insert("comments".into(), comments);
        // Hidden by moderation: the notice and reason in place of the text, which
        // signed-in people may still open when the rule allows.
        let hidden = view
            .hidden
            .get(&(crate::service::moderation::Kind::Amendment, a.id))
            .map(|h| {
                let mut v = super::moderation::hidden_json(lang, h, ctx.viewer.is_some(), &rev.justification);
                if v["body_html"].is_string() {
                    v["body_html"] = json!(format!(
                        "<div class=\"diff-inline\">{}</div>{}",
                        render::diff_html(&word_diff(&old, &new)),
                        render::markdown_block(&rev.justification)
                    ));
                }
                v
            });
        data.insert("hidden".into(), json!(hidden));
        data.insert(
            "can_report".into(),
            json!(csrf.is_some() && ctx.viewer.as_ref().is_some_and(|v| v.account.id != a.author_id)),
        );
        data.insert("id".into(), json!(a.id));
        data.insert("csrf".into(), json!(csrf.map(|c| c.0.clone())));
        app.render("amendment", ctx, &number_text, data)
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
    id: i64,
    article: Option<&str>,
    status: Option<&str>,
    author: Option<&str>,
    page: Option<&str>,
) -> Result<CachedPage, AppError> {
    let lang = ctx.lang;
    let bad = |p: &str| {
        let p = p.to_string();
        AppError::new(Status::BadRequest, move |t| {
            t.fmt("err_list_filter", &[("param", &p)])
        })
    };
    let filter = listing::parse_filter(article, status, author).map_err(bad)?;
    let page: i64 = match page.map(str::trim).filter(|p| !p.is_empty()) {
        None => 1,
        Some(p) => p
            .parse()
            .ok()
            .filter(|p| (1..=1_000_000).contains(p))
            .ok_or_else(|| bad("page"))?,
    };
    let (article, status, author) = (
        filter.article_wid.map(str::to_string),
        filter.status.map(|s| s.to_string()),
        filter.disclosure.map(|d| d.to_string()),
    );
    super::live::page(app, ctx, None, inm, move |app, ctx, _| {
        let t = lang.tr();
        let filter = store::amendments::ListFilter {
            article_wid: article.as_deref(),
            status: status.as_deref().and_then(AmendmentStatus::parse),
            disclosure: author.as_deref().and_then(Disclosure::parse),
        };
        let nf = || AppError::not_found();
        let mut conn = app.reader.store().conn()?;
        let c = store::consultations::by_id(&mut conn, id)?
            .ok_or_else(nf)?;
        let bill = store::bills::by_id(&mut conn, c.bill_id)?
            .ok_or_else(nf)?;
        drop(conn);
        // The version's units from the reader's cache, not the database (issue 4).
        let (_, version) = listing::cached_version(&app.reader, &bill.slug, c.version_id)?;
        let units = &version.units;
        let headings: std::collections::HashMap<&str, &str> = units
            .iter()
            .map(|u| (u.wid.as_str(), u.heading.as_deref().unwrap_or(u.wid.as_str())))
            .collect();
        let (list, total) = listing::page(app.reader.store(), id, &filter, page)?;
        let pages = ((total + listing::PER_PAGE - 1) / listing::PER_PAGE).max(1);
        if page > pages {
            return Err(nf());
        }
        let identical = listing::identical_numbers(app.reader.store(), &list)?;
        let amendments: Vec<Value> = list
            .iter()
            .zip(identical)
            .map(|(a, same)| {
                json!({
                    "number": display_number(&bill.slug, a.number),
                    "href": format!("/bills/{}/amendments/{}", bill.slug, a.number),
                    "article": headings.get(a.article_wid.as_str()).copied().unwrap_or(a.article_wid.as_str()),
                    "author": a.author_label,
                    "pseudonymous": a.disclosure == Disclosure::Pseudonym,
                    "level": a.author_level,
                    "status": t.get(&format!("status_{}", a.status)),
                    "identical": same.iter().map(|n| json!({
                        "number": display_number(&bill.slug, *n),
                        "href": format!("/bills/{}/amendments/{}", bill.slug, n)})).collect::<Vec<_>>(),
                })
            })
            .collect();
        // The choices of the form, the current ones selected: only the articles (and
        // divisions) that have amendments — a CPI-sized bill has thousands of others.
        let amended: std::collections::HashSet<String> = {
            let mut conn = app.reader.store().conn()?;
            store::amendments::counts_by_article(&mut conn, id)?
                .into_iter()
                .map(|(wid, _)| wid)
                .collect()
        };
        let articles: Vec<Value> = units
            .iter()
            .filter(|u| u.kind == UnitKind::Article || u.kind == UnitKind::Division)
            .filter(|u| amended.contains(&u.wid) || article.as_deref() == Some(u.wid.as_str()))
            .map(|u| json!({"value": u.wid, "name": u.heading.as_deref().unwrap_or(&u.wid),
                            "selected": article.as_deref() == Some(u.wid.as_str())}))
            .collect();
        let statuses: Vec<Value> = listing::STATUSES
            .iter()
            .map(|s| json!({"value": s, "name": t.get(&format!("status_{s}")),
                            "selected": status.as_deref() == Some(*s)}))
            .collect();
        let authors: Vec<Value> = ["name", "pseudonym"]
            .iter()
            .map(|s| json!({"value": s, "name": t.get(&format!("author_kind_{s}")),
                            "selected": author.as_deref() == Some(*s)}))
            .collect();
        // Page links keep the filters.
        let mut query = String::new();
        for (k, v) in [("article", &article), ("status", &status), ("author", &author)] {
            if let Some(v) = v {
                query.push_str(&format!("{k}={}&", super::url_encode(v).replace('/', "%2F")));
            }
        }
        let href = |p: i64| format!("/consultations/{id}/amendments?{query}page={p}");
        let first = (page - 1) * listing::PER_PAGE + 1;
        let mut data = Map::new();
        data.insert("consultation".into(), json!({"id": c.id, "title": c.title}));
        data.insert("amendments".into(), json!(amendments));
        data.insert("articles".into(), json!(articles));
        data.insert("statuses".into(), json!(statuses));
        data.insert("authors".into(), json!(authors));
        data.insert("filtered".into(), json!(article.is_some() || status.is_some() || author.is_some()));
        data.insert("count".into(), json!(t.fmt("amendments_count_line", &[
            ("total", &total), ("first", &first.min(total)), ("last", &(first - 1 + list.len() as i64)),
            ("page", &page), ("pages", &pages)])));
        data.insert("prev_href".into(), json!((page > 1).then(|| href(page - 1))));
        data.insert("next_href".into(), json!((page < pages).then(|| href(page + 1))));
        let title = t.fmt("amendments_list_title", &[("title", &c.title)]);
        app.render("amendments", ctx, &title, data)
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
    let me = me.0;
    super::blocking(app, move |app| {
        let (bill, a) = find_amendment(app, &slug, number)?;
        let (c, slug, art) = listing::amendment_article(&app.reader, &a)?;
        svc::may_rectify(&me, &a, &c)?;
        let mut conn = app.reader.store().conn()?;
        let rev = store::amendments::revision(&mut conn, a.id, a.revision)?
            .ok_or_else(AppError::not_found)?;
        drop(conn);
        let ops: Vec<Operation> =
            serde_json::from_str(&rev.operations).map_err(|e| AppError::internal(e.to_string()))?;
        let (kind, text) = if ops
            .iter()
            .any(|o| matches!(o, Operation::RepealUnit { .. }))
        {
            (FilingKind::RepealArticle, art.body.clone())
        } else if ops
            .iter()
            .all(|o| matches!(o, Operation::InsertArticle { .. }))
        {
            let md: Vec<&str> = ops
                .iter()
                .filter_map(|o| match o {
                    Operation::InsertArticle { markdown, .. } => Some(markdown.as_str()),
                    _ => None,
                })
                .collect();
            (FilingKind::InsertAfter, md.join("\n\n"))
        } else {
            let text =
                amendment::apply(&art.body, &ops).map_err(|e| AppError::internal(e.to_string()))?;
            (FilingKind::Edit, text)
        };
        let d = AmendDraft {
            text,
            justification: rev.justification,
            disclosure: a.disclosure,
            kind,
            token: String::new(),
            sha: art.sha256.clone(),
            preview: None,
            error: None,
            rectify: Some(RectifyTarget {
                number: display_number(&bill.slug, a.number),
                action: format!("/bills/{}/amendments/{}/rectify", bill.slug, a.number),
                base: a.revision,
            }),
        };
        amend_form(app, &ctx, &csrf, &me, &c, &slug, &art, &d).map(RawHtml)
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
        rectify: None,
    };
    let file = form.action == "file";
    super::blocking(app, move |app| {
        if file {
            super::ratelimit::check(app, super::ratelimit::Action::Post, me.account.id, &addr)?;
        }
        let store = app.reader.store();
        let (bill, a) = find_amendment(app, &slug, number)?;
        d.disclosure = a.disclosure;
        d.rectify = Some(RectifyTarget {
            number: display_number(&bill.slug, a.number),
            action: format!("/bills/{}/amendments/{}/rectify", bill.slug, a.number),
            base,
        });
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
                Err(e) => d.error = Some(form_error(lang, e)?),
            }
        } else {
            match svc::check_rectify(store, &me, &r) {
                Ok((_, _, art, ops)) => d.preview = Some(preview(lang, &art, &ops)?),
                Err(e) => d.error = Some(form_error(lang, e)?),
            }
        }
        let status = if d.error.is_some() {
            Status::UnprocessableEntity
        } else {
            Status::Ok
        };
        let (c, slug, art) = listing::amendment_article(&app.reader, &a)?;
        let html = amend_form(app, &ctx, &csrf, &me, &c, &slug, &art, &d)?;
        Ok(Err((status, RawHtml(html))))
    })
    .await
}
