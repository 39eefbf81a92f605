//! Voting pages and the ballot-log endpoints (DESIGN §6, §10): the ballot form, the
//! receipt, the log's public page (size, checkpoints, key, export files), closing, the
//! results with SVG charts, checking a receipt, and the JSON API of the log. The rules
//! are in `service::voting`.

use super::auth::{CsrfToken, HasRole, SignedIn, Staff, Viewer};
use super::csrf::{Form, NoFields};
use super::errors::{ApiError, AppError};
use super::i18n::Lang;
use super::{charts, AppState, Ctx};
use crate::ledger::entry::{Disclosure, Subject};
use crate::ledger::export::hex_hash;
use crate::ledger::receipt::{verify_receipt, Receipt};
use crate::service::consultation::Phase;
use crate::service::voting::{self, Choice, VoteError};
use crate::store;
use rocket::form::FromForm;
use rocket::fs::NamedFile;
use rocket::http::{ContentType, Header, Status};
use rocket::response::content::{RawHtml, RawText};
use rocket::response::Redirect;
use rocket::serde::json::Json;
use rocket::{get, post, routes, Responder, Route, State};
use serde_json::{json, Map, Value};
use std::collections::HashMap;

pub fn routes() -> Vec<Route> {
    routes![
        vote_page,
        vote,
        receipt,
        log_page,
        log_file,
        log_checkpoint_file,
        close_page,
        close,
        settings_page,
        save_settings,
        results_page,
        public_votes_page,
        check_page,
        check
    ]
}

pub fn api_routes() -> Vec<Route> {
    routes![
        api_consultation,
        api_checkpoint,
        api_inclusion,
        api_consistency,
        api_cast,
        api_key
    ]
}

/// A refusal as JSON.
fn api_error(e: VoteError) -> ApiError {
    let (status, code) = match &e {
        VoteError::NotFound => (Status::NotFound, "not_found"),
        VoteError::NotVoting(_) => (Status::Conflict, "not_voting"),
        VoteError::Level { .. } => (Status::Forbidden, "level_too_low"),
        VoteError::NotYet(_) => (Status::Conflict, "not_yet_open"),
        VoteError::Ended(_) => (Status::Conflict, "voting_ended"),
        VoteError::Invalid(_) => (Status::BadRequest, "invalid_ballot"),
        VoteError::AlreadyVoted => (Status::Conflict, "already_voted"),
        VoteError::Closed => (Status::Conflict, "closed"),
        VoteError::ClosingDayPassed(_) => (Status::Conflict, "closing_day_passed"),
        VoteError::NotYours => (Status::Forbidden, "forbidden"),
        VoteError::NotClosed => (Status::Conflict, "not_closed"),
        VoteError::KeyDestroyed => (Status::Gone, "key_destroyed"),
        _ => {
            tracing::error!(detail = %e, "internal error");
            return ApiError::new(
                Status::InternalServerError,
                "internal",
                "internal server error",
            );
        }
    };
    let message = match &e {
        VoteError::Invalid(key) => Lang::En.tr().get(key).to_string(),
        _ => e.to_string(),
    };
    ApiError::new(status, code, message)
}

/// The items of a manifest as the pages show them.
fn items_json(
    slug: &str,
    m: &crate::ledger::entry::Manifest,
    chosen: &HashMap<u16, u8>,
) -> Vec<Value> {
    m.items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let href = match item.subject {
                Subject::Amendment(a) => m.amendments.get(a as usize).map(|r| {
                    let n = r.id.rsplit('-').next().unwrap_or("");
                    format!("/bills/{slug}/amendments/{n}")
                }),
                Subject::Bill => None,
            };
            json!({
                "index": i,
                "question": item.question,
                "href": href,
                "options": item.options.iter().enumerate().map(|(o, label)| json!({
                    "index": o,
                    "label": label,
                    "id": format!("item-{i}-{o}"),
                    "checked": chosen.get(&(i as u16)) == Some(&(o as u8)),
                })).collect::<Vec<_>>(),
                "blank_checked": !chosen.contains_key(&(i as u16)),
            })
        })
        .collect()
}

/// Consultation, its bill's slug, and its phase.
fn consultation(
    app: &super::App,
    id: i64,
) -> Result<(store::consultations::Consultation, String), AppError> {
    let mut conn = app.reader.store().conn()?;
    let c = store::consultations::by_id(&mut conn, id)?.ok_or_else(AppError::not_found)?;
    let bill = store::bills::by_id(&mut conn, c.bill_id)?.ok_or_else(AppError::not_found)?;
    Ok((c, bill.slug))
}

// ---------------------------------------------------------------- casting

#[get("/consultations/<id>/vote?<cast>")]
async fn vote_page(
    app: &State<AppState>,
    ctx: Ctx,
    me: SignedIn,
    csrf: CsrfToken,
    id: i64,
    cast: Option<u64>,
) -> Result<RawHtml<String>, AppError> {
    let lang = ctx.lang;
    super::blocking(app, move |app| {
        let path = format!("/consultations/{id}/vote");
        let (c, slug) = consultation(app, id)?;
        let needed = c.level_vote as u8;
        if me.0.level().get() < needed {
            return Err(AppError::level(needed, me.0.level().get()).step_up_from(&path));
        }
        let view = app
            .voting
            .voter(&me.0, id)
            .map_err(|e| AppError::from(e).step_up_from(&path))?;
        let chosen: HashMap<u16, u8> = view
            .last
            .as_ref()
            .map(|(_, b)| b.answers.iter().map(|a| (a.item, a.option)).collect())
            .unwrap_or_default();
        let m = &view.log.manifest;
        let mut data = Map::new();
        data.insert(
            "consultation".into(),
            json!({"id": c.id, "title": c.title, "closes_on": c.closes_on}),
        );
        data.insert("items".into(), json!(items_json(&slug, m, &chosen)));
        data.insert(
            "voted".into(),
            json!(view.last.as_ref().map(|(i, b)| json!({
                "index": i,
                "public": b.disclosure == Disclosure::Public,
                "receipt_href": format!("/consultations/{id}/receipts/{i}"),
            }))),
        );
        data.insert(
            "just_cast".into(),
            json!(cast.is_some() && cast == view.last.as_ref().map(|l| l.0)),
        );
        data.insert(
            "revote".into(),
            json!(m.revote == crate::ledger::entry::RevotePolicy::LastCounts),
        );
        data.insert("level".into(), json!(me.0.level().get()));
        data.insert("minimum".into(), json!(m.minimum_level));
        data.insert("csrf".into(), json!(csrf.0));
        let title = lang.tr().get("vote_title").to_string();
        app.render("vote", &ctx, &title, data).map(RawHtml)
    })
    .await
}

#[derive(FromForm)]
struct VoteForm {
    #[field(default = String::new())]
    disclosure: String,
    /// `answer[ITEM]=OPTION`; an empty value leaves the item unanswered.
    #[field(default = HashMap::new())]
    answer: HashMap<u16, String>,
}

fn choice_of(form: &VoteForm) -> Result<Choice, VoteError> {
    let mut answers = Vec::new();
    for (item, option) in &form.answer {
        if option.is_empty() {
            continue;
        }
        let option: u8 = option
            .parse()
            .map_err(|_| VoteError::Invalid("err_vote_option"))?;
        answers.push((*item, option));
    }
    let disclosure = match form.disclosure.as_str() {
        "public" => Disclosure::Public,
        _ => Disclosure::Pseudonymous,
    };
    Ok(Choice {
        answers,
        disclosure,
    })
}

#[post("/consultations/<id>/vote", format = "form", data = "<form>")]
async fn vote(
    app: &State<AppState>,
    me: SignedIn,
    id: i64,
    addr: super::ratelimit::ClientAddr,
    form: Form<VoteForm>,
) -> Result<Redirect, AppError> {
    let path = format!("/consultations/{id}/vote");
    // A ballot refused for its content sends back to the ballot (as last cast).
    let back = |e: AppError| match e.status {
        Status::BadRequest => e.with_link(path.clone(), |t| t.get("back_to_ballot").to_string()),
        _ => e,
    };
    let choice = choice_of(&form).map_err(|e| back(AppError::from(e)))?;
    let prepared = super::run_blocking(app, move |app| {
        super::ratelimit::check(app, super::ratelimit::Action::Vote, me.0.account.id, &addr)
            .map(|()| app.voting.prepare(&me.0, id, &choice, voting::today()))
    })
    .await
    .map_err(AppError::internal)??
    .map_err(|e| back(AppError::from(e).step_up_from(&path)))?;
    let receipt = app.voting.submit(prepared).await?;
    Ok(Redirect::to(format!(
        "/consultations/{id}/vote?cast={}",
        receipt.index
    )))
}

/// A receipt file, offered for download.
#[derive(Responder)]
#[response(content_type = "json")]
struct ReceiptFile {
    body: String,
    disposition: Header<'static>,
}

impl ReceiptFile {
    fn new(id: i64, r: &Receipt) -> ReceiptFile {
        ReceiptFile {
            body: r.to_json(),
            disposition: Header::new(
                "Content-Disposition",
                format!(
                    "attachment; filename=\"amenda-receipt-{id}-{}.json\"",
                    r.index
                ),
            ),
        }
    }
}

/// The receipt of one's own ballot: entry, inclusion proof, signed checkpoint.
#[get("/consultations/<id>/receipts/<index>")]
async fn receipt(
    app: &State<AppState>,
    me: SignedIn,
    id: i64,
    index: u64,
) -> Result<ReceiptFile, AppError> {
    super::blocking(app, move |app| {
        let r = app.voting.receipt(&me.0, id, index)?;
        Ok(ReceiptFile::new(id, &r))
    })
    .await
}

// ---------------------------------------------------------------- the log in public

#[get("/consultations/<id>/ballots")]
async fn log_page(app: &State<AppState>, ctx: Ctx, id: i64) -> Result<RawHtml<String>, AppError> {
    let lang = ctx.lang;
    super::blocking(app, move |app| {
        let (c, _) = consultation(app, id)?;
        let mut conn = app.reader.store().conn()?;
        let log = store::ballots::by_consultation(&mut conn, id)?;
        let checkpoints = store::ballots::checkpoints(&mut conn, id)?;
        drop(conn);
        let mut data = Map::new();
        data.insert("consultation".into(), json!({"id": c.id, "title": c.title}));
        data.insert("open".into(), json!(log.is_some()));
        if let Some(log) = &log {
            let vkey = app.voting.key().signer(&log.origin).public_key().to_vkey();
            data.insert("log".into(), json!({
                "origin": log.origin,
                "size": log.size,
                "closed": log.closed_at.is_some(),
                "vkey": vkey,
                "key_destroyed": log.key_destroyed_at,
                "destroy_key_after": log.destroy_key_after,
            }));
            let latest = checkpoints.last().map(|(s, n, at)| json!({"size": s, "note": n, "at": at}));
            data.insert("latest".into(), json!(latest));
            data.insert("checkpoints".into(), json!(checkpoints.iter().rev().take(50).map(|(s, _, at)| json!({
                "size": s, "at": at, "href": format!("/consultations/{id}/ballots/checkpoints/{s}.txt"),
            })).collect::<Vec<_>>()));
            data.insert("files".into(), json!(log.closed_at.is_some().then(|| {
                ["entries.csv", "ballots.csv", "result.csv", "checkpoint.txt", "log.vkey"]
                    .iter()
                    .map(|f| json!({"name": f, "href": format!("/consultations/{id}/ballots/{f}")}))
                    .collect::<Vec<_>>()
            })));
        }
        let title = lang.tr().get("log_title").to_string();
        app.render("ballots", &ctx, &title, data).map(RawHtml)
    })
    .await
}

/// Writes the export of a closed log once (it never changes afterwards) and returns its
/// folder.
fn export_folder(app: &super::App, id: i64) -> Result<std::path::PathBuf, AppError> {
    let dir = app.export_dir.join(format!("consultation-{id}"));
    if dir.join("checkpoint.txt").is_file() {
        return Ok(dir);
    }
    std::fs::create_dir_all(&app.export_dir).map_err(|e| AppError::internal(e.to_string()))?;
    // Written aside, then renamed: a reader never sees half an export.
    let tmp =
        tempfile::tempdir_in(&app.export_dir).map_err(|e| AppError::internal(e.to_string()))?;
    match voting::export(app.reader.store(), app.voting.key(), id, tmp.path()) {
        Ok(_) => {}
        Err(VoteError::NotClosed) => return Err(AppError::not_found()),
        Err(e) => return Err(AppError::from(e)),
    }
    let tmp = tmp.keep();
    if std::fs::rename(&tmp, &dir).is_err() {
        // Another request finished first: theirs is the same.
        let _ = std::fs::remove_dir_all(&tmp);
    }
    Ok(dir)
}

/// The files of the export of a closed log, streamed from disk.
#[get("/consultations/<id>/ballots/<file>", rank = 2)]
async fn log_file(
    app: &State<AppState>,
    id: i64,
    file: &str,
) -> Result<(ContentType, NamedFile), AppError> {
    let kind = match file {
        "entries.csv" | "ballots.csv" | "result.csv" => ContentType::CSV,
        "checkpoint.txt" | "log.vkey" => ContentType::Text,
        _ => return Err(AppError::not_found()),
    };
    let name = file.to_string();
    let path = super::blocking(app, move |app| Ok(export_folder(app, id)?.join(name))).await?;
    let f = NamedFile::open(path)
        .await
        .map_err(|_| AppError::not_found())?;
    Ok((kind, f))
}

/// A published checkpoint, as text.
#[get("/consultations/<id>/ballots/checkpoints/<size>")]
async fn log_checkpoint_file(
    app: &State<AppState>,
    id: i64,
    size: &str,
) -> Result<RawText<String>, AppError> {
    let size: i64 = size
        .strip_suffix(".txt")
        .and_then(|s| s.parse().ok())
        .ok_or_else(AppError::not_found)?;
    super::blocking(app, move |app| {
        let mut conn = app.reader.store().conn()?;
        store::ballots::checkpoints(&mut conn, id)?
            .into_iter()
            .find(|(s, _, _)| *s == size)
            .map(|(_, note, _)| RawText(note))
            .ok_or_else(AppError::not_found)
    })
    .await
}

// ---------------------------------------------------------------- closing

#[get("/consultations/<id>/close")]
async fn close_page(
    app: &State<AppState>,
    ctx: Ctx,
    _staff: HasRole<Staff>,
    csrf: CsrfToken,
    id: i64,
) -> Result<RawHtml<String>, AppError> {
    let lang = ctx.lang;
    super::blocking(app, move |app| {
        let (c, _) = consultation(app, id)?;
        let mut conn = app.reader.store().conn()?;
        let log = store::ballots::by_consultation(&mut conn, id)?;
        let mut data = Map::new();
        data.insert("consultation".into(), json!({"id": c.id, "title": c.title}));
        data.insert("voting".into(), json!(c.phase == Phase::Voting));
        data.insert("entries".into(), json!(log.map(|l| l.size)));
        data.insert("window".into(), json!(app.voting.window_days()));
        data.insert("csrf".into(), json!(csrf.0));
        let title = lang.tr().get("close_title").to_string();
        app.render("close", &ctx, &title, data).map(RawHtml)
    })
    .await
}

#[post("/consultations/<id>/close", format = "form", data = "<_csrf>")]
async fn close(
    app: &State<AppState>,
    staff: HasRole<Staff>,
    id: i64,
    _csrf: Form<NoFields>,
) -> Result<Redirect, AppError> {
    super::blocking(app, move |app| {
        app.voting
            .close(Some(staff.0.account.id), id, voting::today())?;
        Ok(Redirect::to(format!("/consultations/{id}/results")))
    })
    .await
}

// ---------------------------------------------------------------- what is put to the vote

#[get("/consultations/<id>/vote/settings?<saved>")]
async fn settings_page(
    app: &State<AppState>,
    ctx: Ctx,
    _staff: HasRole<Staff>,
    csrf: CsrfToken,
    id: i64,
    saved: Option<&str>,
) -> Result<RawHtml<String>, AppError> {
    // Redirected here after saving (`?saved`): say so.
    let saved = saved.is_some();
    let lang = ctx.lang;
    super::blocking(app, move |app| {
        let (c, _) = consultation(app, id)?;
        let (settings, candidates) = voting::vote_settings(app.reader.store(), id)?;
        let mut data = Map::new();
        data.insert("consultation".into(), json!({"id": c.id, "title": c.title}));
        data.insert("editable".into(), json!(c.phase.before_voting()));
        data.insert("all".into(), json!(settings.amendments.is_none()));
        data.insert("candidates".into(), json!(candidates));
        data.insert("bill_item".into(), json!(settings.bill_item));
        data.insert(
            "three_options".into(),
            json!(settings.options == voting::OptionSet::ForAgainstAbstain),
        );
        data.insert(
            "last_counts".into(),
            json!(settings.revote == crate::ledger::entry::RevotePolicy::LastCounts),
        );
        data.insert("csrf".into(), json!(csrf.0));
        data.insert("saved".into(), json!(saved));
        let title = lang.tr().get("vote_settings_title").to_string();
        app.render("vote_settings", &ctx, &title, data).map(RawHtml)
    })
    .await
}

#[derive(FromForm)]
struct SettingsForm<'r> {
    /// "all": every amendment still standing; "chosen": those ticked.
    #[field(default = "all")]
    which: &'r str,
    #[field(default = Vec::new())]
    amendment: Vec<i32>,
    /// A ticked box sends "on"; an unticked one sends nothing.
    #[field(default = "")]
    bill_item: &'r str,
    #[field(default = "for_against_abstain")]
    options: &'r str,
    #[field(default = "last_counts")]
    revote: &'r str,
}

#[post("/consultations/<id>/vote/settings", format = "form", data = "<form>")]
async fn save_settings(
    app: &State<AppState>,
    staff: HasRole<Staff>,
    id: i64,
    form: Form<SettingsForm<'_>>,
) -> Result<Redirect, AppError> {
    let settings = voting::VoteSettings {
        amendments: match form.which {
            "all" => None,
            "chosen" => Some(form.amendment.clone()),
            _ => return Err(AppError::key(Status::BadRequest, "err_bad_form")),
        },
        bill_item: !form.bill_item.is_empty(),
        options: voting::OptionSet::parse(form.options)
            .ok_or_else(|| AppError::key(Status::BadRequest, "err_bad_form"))?,
        revote: voting::parse_revote(form.revote)
            .ok_or_else(|| AppError::key(Status::BadRequest, "err_bad_form"))?,
    };
    super::blocking(app, move |app| {
        voting::save_vote_settings(app.reader.store(), &staff.0, id, &settings)?;
        Ok(Redirect::to(format!(
            "/consultations/{id}/vote/settings?saved"
        )))
    })
    .await
}

// ---------------------------------------------------------------- results

#[get("/consultations/<id>/results")]
async fn results_page(
    app: &State<AppState>,
    ctx: Ctx,
    id: i64,
) -> Result<RawHtml<String>, AppError> {
    let lang = ctx.lang;
    super::blocking(app, move |app| {
        let t = lang.tr();
        let (c, slug) = consultation(app, id)?;
        let results = voting::results(app.reader.store(), id)?;
        let mut data = Map::new();
        data.insert("consultation".into(), json!({"id": c.id, "title": c.title}));
        data.insert("published".into(), json!(results.is_some()));
        if let Some(r) = &results {
            let m = &r.manifest;
            let items: Vec<Value> = items_json(&slug, m, &HashMap::new())
                .into_iter()
                .zip(&r.rows)
                .map(|(mut item, rows)| {
                    let labels: Vec<&str> = m.items[item["index"].as_u64().unwrap_or(0) as usize]
                        .options
                        .iter()
                        .map(String::as_str)
                        .collect();
                    let headline: Vec<(String, u64)> = labels
                        .iter()
                        .zip(rows)
                        .map(|(l, r)| (l.to_string(), r[1]))
                        .collect();
                    let question = item["question"].as_str().unwrap_or("").to_string();
                    item["chart"] =
                        json!(charts::bars(&question, &headline, t.get("chart_ballots")));
                    item["levels_chart"] = json!(charts::stacked(
                        &format!("{question} — {}", t.get("by_level")),
                        &labels,
                        &(0..4)
                            .map(|l| format!("{} {l}", t.get("level")))
                            .collect::<Vec<_>>(),
                        &rows.iter().map(|r| r[2..6].to_vec()).collect::<Vec<_>>(),
                    ));
                    item["rows"] = json!(labels
                        .iter()
                        .zip(rows)
                        .map(|(l, r)| json!({
                            "label": l, "total": r[0], "headline": r[1],
                            "l0": r[2], "l1": r[3], "l2": r[4], "l3": r[5],
                            "pseudonymous": r[6], "public": r[7],
                        }))
                        .collect::<Vec<_>>());
                    item
                })
                .collect();
            data.insert("items".into(), json!(items));
            data.insert("minimum".into(), json!(m.minimum_level));
            data.insert("entries".into(), json!(r.entries));
            data.insert(
                "participation".into(),
                json!(r
                    .participation
                    .iter()
                    .map(|(d, n)| json!({"day": d, "count": n}))
                    .collect::<Vec<_>>()),
            );
            data.insert(
                "participation_chart".into(),
                json!(charts::bars(
                    t.get("participation"),
                    &r.participation,
                    t.get("chart_ballots"),
                )),
            );
            data.insert("checkpoint".into(), json!(r.checkpoint));
            data.insert("key_destroyed".into(), json!(r.key_destroyed));
        }
        let title = t.get("results_title").to_string();
        app.render("results", &ctx, &title, data).map(RawHtml)
    })
    .await
}

/// Voters who chose public disclosure are listed by name, with their counted ballot,
/// once the vote is closed.
const PUBLIC_PAGE: i64 = 50;

#[get("/consultations/<id>/results/public?<page>")]
async fn public_votes_page(
    app: &State<AppState>,
    ctx: Ctx,
    id: i64,
    page: Option<i64>,
) -> Result<RawHtml<String>, AppError> {
    let lang = ctx.lang;
    super::blocking(app, move |app| {
        let t = lang.tr();
        let (c, slug) = consultation(app, id)?;
        let page = page.unwrap_or(1).max(1);
        let (total, votes) = voting::public_votes(
            app.reader.store(),
            id,
            (page - 1) * PUBLIC_PAGE,
            PUBLIC_PAGE,
        )
        .map_err(|e| match e {
            VoteError::NotClosed => AppError::key(Status::Conflict, "public_votes_not_yet"),
            e => AppError::from(e),
        })?;
        let results = voting::results(app.reader.store(), id)?.ok_or_else(AppError::not_found)?;
        let m = &results.manifest;
        let items: Vec<Value> = items_json(&slug, m, &HashMap::new());
        let rows: Vec<Value> = votes
            .iter()
            .map(|v| {
                let chosen: HashMap<u16, u8> = v.answers.iter().copied().collect();
                json!({
                    "name": v.name,
                    "index": v.index,
                    "answers": m.items.iter().enumerate().map(|(i, item)| {
                        chosen
                            .get(&(i as u16))
                            .and_then(|o| item.options.get(*o as usize))
                            .cloned()
                            .unwrap_or_else(|| "—".into())
                    }).collect::<Vec<_>>(),
                })
            })
            .collect();
        let pages = (total + PUBLIC_PAGE - 1) / PUBLIC_PAGE;
        let mut data = Map::new();
        data.insert("consultation".into(), json!({"id": c.id, "title": c.title}));
        data.insert("items".into(), json!(items));
        data.insert("votes".into(), json!(rows));
        data.insert("total".into(), json!(total));
        data.insert(
            "previous".into(),
            json!(
                (page > 1).then(|| format!("/consultations/{id}/results/public?page={}", page - 1))
            ),
        );
        data.insert(
            "next_href".into(),
            json!((page < pages)
                .then(|| format!("/consultations/{id}/results/public?page={}", page + 1))),
        );
        data.insert("page".into(), json!(page));
        data.insert("pages".into(), json!(pages.max(1)));
        let title = t.get("public_votes_title").to_string();
        app.render("public_votes", &ctx, &title, data).map(RawHtml)
    })
    .await
}

// ---------------------------------------------------------------- checking a receipt

#[get("/receipts/check")]
async fn check_page(
    app: &State<AppState>,
    ctx: Ctx,
    csrf: CsrfToken,
) -> Result<RawHtml<String>, AppError> {
    let mut data = Map::new();
    data.insert("csrf".into(), json!(csrf.0));
    data.insert("receipt".into(), json!(""));
    data.insert("valid".into(), json!(false));
    data.insert("error".into(), json!(null));
    let title = ctx.lang.tr().get("check_title").to_string();
    app.render("check", &ctx, &title, data).map(RawHtml)
}

#[derive(FromForm)]
struct CheckForm {
    #[field(default = String::new())]
    receipt: String,
}

/// Checks a pasted receipt: its signature and proof, then against the log as stored.
#[post("/receipts/check", format = "form", data = "<form>")]
async fn check(
    app: &State<AppState>,
    ctx: Ctx,
    csrf: CsrfToken,
    form: Form<CheckForm>,
) -> Result<RawHtml<String>, AppError> {
    let lang = ctx.lang;
    if form.receipt.len() > 256 * 1024 {
        return Err(AppError::key(Status::PayloadTooLarge, "err_too_long"));
    }
    let text = form.receipt.clone();
    let token = csrf.0.clone();
    super::blocking(app, move |app| {
        let t = lang.tr();
        let outcome = check_receipt(app, &text);
        let mut data = Map::new();
        data.insert("csrf".into(), json!(token));
        data.insert("receipt".into(), json!(text));
        match outcome {
            Ok((facts, counted)) => {
                data.insert("valid".into(), json!(true));
                data.insert("facts".into(), json!(facts));
                data.insert("counted".into(), json!(counted.map(|c| t.get(c))));
                data.insert("error".into(), json!(null));
            }
            Err(reason) => {
                data.insert("valid".into(), json!(false));
                data.insert("facts".into(), json!(null));
                data.insert("counted".into(), json!(null));
                data.insert("error".into(), json!(reason.message(lang)));
            }
        }
        let title = t.get("check_title").to_string();
        app.render("check", &ctx, &title, data).map(RawHtml)
    })
    .await
}

/// Why a receipt does not check: a message key, its values, and a technical detail
/// (from the parser or the cryptography, in English) when there is one.
struct Invalid {
    key: &'static str,
    args: Vec<(&'static str, String)>,
    detail: Option<String>,
}

impl Invalid {
    fn new(key: &'static str) -> Self {
        Invalid {
            key,
            args: Vec::new(),
            detail: None,
        }
    }

    fn arg(mut self, name: &'static str, value: impl ToString) -> Self {
        self.args.push((name, value.to_string()));
        self
    }

    fn detail(mut self, d: impl ToString) -> Self {
        self.detail = Some(d.to_string());
        self
    }

    /// In the reader's language, the detail in parentheses.
    fn message(&self, lang: Lang) -> String {
        let args: Vec<(&str, &dyn super::i18n::Arg)> = self
            .args
            .iter()
            .map(|(k, v)| (*k, v as &dyn super::i18n::Arg))
            .collect();
        let text = lang.tr().fmt(self.key, &args);
        match &self.detail {
            Some(d) => format!("{text} ({d})"),
            None => text,
        }
    }
}

/// `(what the receipt proves, whether it counts)` or why it is not valid.
fn check_receipt(app: &super::App, text: &str) -> Result<(Value, Option<&'static str>), Invalid> {
    let unavailable = |e: store::StoreError| Invalid::new("check_unavailable").detail(e);
    let r = Receipt::from_json(text).map_err(|e| Invalid::new("check_not_receipt").detail(e))?;
    // Which log: the origin names the consultation.
    let origin = r.checkpoint.lines().next().unwrap_or("");
    let elsewhere = || Invalid::new("check_other_site");
    let id: i64 = origin
        .strip_suffix("/ballots")
        .and_then(|o| o.rsplit('/').next())
        .and_then(|n| n.parse().ok())
        .ok_or_else(elsewhere)?;
    let mut conn = app.reader.store().conn().map_err(unavailable)?;
    let log = store::ballots::by_consultation(&mut conn, id)
        .map_err(unavailable)?
        .filter(|l| l.origin == origin)
        .ok_or_else(elsewhere)?;
    let key = app.voting.key().signer(&log.origin).public_key();
    let v = verify_receipt(&r, &key).map_err(|e| Invalid::new("check_not_proven").detail(e))?;
    let stored = store::ballots::entry(&mut conn, id, r.index as i64)
        .map_err(unavailable)?
        .ok_or_else(|| Invalid::new("check_no_entry").arg("index", r.index))?;
    if stored != r.entry {
        return Err(Invalid::new("check_different_entry").arg("index", r.index));
    }
    // The receipt's checkpoint must describe a prefix of the log as stored.
    let root = app
        .voting
        .root_at(id, v.checkpoint.size)
        .map_err(|e| Invalid::new("check_unavailable").detail(e))?;
    if root != v.checkpoint.root {
        return Err(Invalid::new("check_other_root").arg("size", v.checkpoint.size));
    }
    let counted = match &v.entry {
        crate::ledger::entry::Entry::Ballot(b) if log.closed_at.is_some() => {
            let last = store::ballots::last_ballot_of(&mut conn, id, &b.voter_token)
                .map_err(unavailable)?;
            Some(if last.map(|l| l.0) == Some(r.index as i64) {
                "receipt_counted"
            } else {
                "receipt_superseded"
            })
        }
        _ => None,
    };
    Ok((
        json!({"index": r.index, "size": v.checkpoint.size, "origin": v.checkpoint.origin,
               "root": hex_hash(&v.checkpoint.root), "consultation": id}),
        counted,
    ))
}

// ---------------------------------------------------------------- JSON API

#[get("/consultations/<id>")]
async fn api_consultation(app: &State<AppState>, id: i64) -> Result<Json<Value>, ApiError> {
    super::run_blocking(app, move |app| -> Result<Value, ApiError> {
        let mut conn = app.reader.store().conn().map_err(|e| api_error(e.into()))?;
        let c = store::consultations::by_id(&mut conn, id)
            .map_err(|e| api_error(e.into()))?
            .ok_or_else(|| api_error(VoteError::NotFound))?;
        let bill = store::bills::by_id(&mut conn, c.bill_id)
            .map_err(|e| api_error(e.into()))?
            .ok_or_else(|| api_error(VoteError::NotFound))?;
        let version = store::versions::by_id(&mut conn, c.version_id)
            .map_err(|e| api_error(e.into()))?
            .ok_or_else(|| api_error(VoteError::NotFound))?;
        let log = store::ballots::by_consultation(&mut conn, id).map_err(|e| api_error(e.into()))?;
        let items = match &log {
            Some(_) => {
                let log = app.voting.log(&mut conn, id).map_err(api_error)?;
                let m = &log.manifest;
                json!(m.items.iter().enumerate().map(|(i, it)| json!({
                    "index": i,
                    "subject": match it.subject { Subject::Bill => json!("bill"), Subject::Amendment(a) => json!(m.amendments[a as usize].id) },
                    "question": it.question,
                    "options": it.options,
                })).collect::<Vec<_>>())
            }
            None => json!([]),
        };
        Ok(json!({
            "id": c.id,
            "bill": bill.slug,
            "version": version.meta.number,
            "title": c.title,
            "phase": c.phase,
            "opens_on": c.opens_on,
            "closes_on": c.closes_on,
            "levels": {"comment": c.level_comment, "amend": c.level_amend, "vote": c.level_vote},
            "items": items,
            "log": log.map(|l| json!({"origin": l.origin, "size": l.size, "closed": l.closed_at.is_some()})),
        }))
    })
    .await
    .map_err(|_| ApiError::new(Status::InternalServerError, "internal", "worker failed"))?
    .map(Json)
}

/// The log's latest checkpoint, signed now (text).
#[get("/consultations/<id>/checkpoint")]
async fn api_checkpoint(app: &State<AppState>, id: i64) -> Result<RawText<String>, ApiError> {
    super::run_blocking(app, move |app| app.voting.checkpoint_now(id))
        .await
        .map_err(|_| ApiError::new(Status::InternalServerError, "internal", "worker failed"))?
        .map(|(_, note)| RawText(note))
        .map_err(api_error)
}

fn proof_json(proof: Vec<crate::ledger::merkle::Hash>) -> Value {
    json!(proof.iter().map(hex_hash).collect::<Vec<_>>())
}

#[get("/consultations/<id>/proof/inclusion?<index>&<size>")]
async fn api_inclusion(
    app: &State<AppState>,
    id: i64,
    index: u64,
    size: u64,
) -> Result<Json<Value>, ApiError> {
    super::run_blocking(app, move |app| app.voting.inclusion_proof(id, index, size))
        .await
        .map_err(|_| ApiError::new(Status::InternalServerError, "internal", "worker failed"))?
        .map(|p| Json(json!({"index": index, "size": size, "proof": proof_json(p)})))
        .map_err(|e| match e {
            VoteError::Ledger(m) => ApiError::new(Status::BadRequest, "bad_request", m),
            e => api_error(e),
        })
}

#[get("/consultations/<id>/proof/consistency?<from>&<to>")]
async fn api_consistency(
    app: &State<AppState>,
    id: i64,
    from: u64,
    to: u64,
) -> Result<Json<Value>, ApiError> {
    super::run_blocking(app, move |app| app.voting.consistency_proof(id, from, to))
        .await
        .map_err(|_| ApiError::new(Status::InternalServerError, "internal", "worker failed"))?
        .map(|p| Json(json!({"from": from, "to": to, "proof": proof_json(p)})))
        .map_err(|e| match e {
            VoteError::Ledger(m) => ApiError::new(Status::BadRequest, "bad_request", m),
            e => api_error(e),
        })
}

/// The instance's log key: raw Ed25519 public key, hex and base64.
#[get("/log-key")]
fn api_key(app: &State<AppState>) -> Json<Value> {
    use base64::Engine;
    let k = app.voting.key().public_key();
    Json(json!({
        "algorithm": "Ed25519",
        "public_key_hex": hex::encode(k),
        "public_key_base64": base64::engine::general_purpose::STANDARD.encode(k),
    }))
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ApiBallot {
    answers: Vec<ApiAnswer>,
    #[serde(default)]
    disclosure: Option<String>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ApiAnswer {
    item: u16,
    option: u8,
}

/// Casts a ballot; answers with the receipt.
#[post("/consultations/<id>/ballots", format = "json", data = "<body>")]
async fn api_cast(
    app: &State<AppState>,
    viewer: Viewer,
    id: i64,
    addr: super::ratelimit::ClientAddr,
    body: Json<ApiBallot>,
) -> Result<(Status, RawJson), ApiError> {
    let me = viewer
        .0
        .ok_or_else(|| ApiError::new(Status::Unauthorized, "unauthorized", "sign in to vote"))?;
    let disclosure = match body.disclosure.as_deref() {
        None | Some("pseudonymous") => Disclosure::Pseudonymous,
        Some("public") => Disclosure::Public,
        Some(_) => {
            return Err(ApiError::new(
                Status::BadRequest,
                "invalid_ballot",
                "disclosure is pseudonymous or public",
            ))
        }
    };
    let choice = Choice {
        answers: body.answers.iter().map(|a| (a.item, a.option)).collect(),
        disclosure,
    };
    let prepared = super::run_blocking(app, move |app| {
        match super::ratelimit::check(app, super::ratelimit::Action::Vote, me.account.id, &addr) {
            Ok(()) => Ok(app.voting.prepare(&me, id, &choice, voting::today())),
            Err(e) => Err(e),
        }
    })
    .await
    .map_err(|_| ApiError::new(Status::InternalServerError, "internal", "worker failed"))?
    .map_err(ApiError::from_page)?
    .map_err(api_error)?;
    let receipt = app.voting.submit(prepared).await.map_err(api_error)?;
    Ok((Status::Created, RawJson(receipt.to_json())))
}

#[derive(Responder)]
#[response(content_type = "json")]
struct RawJson(String);
