//! Voting pages and the ballot-log endpoints (DESIGN §6, §10): the ballot form, the
//! receipt, the log's public page (size, checkpoints, key, export files), closing, the
//! results with SVG charts, checking a receipt, and the JSON API of the log. The rules
//! are in `service::voting`.

use super::auth::{CsrfToken, HasRole, SignedIn, Staff, Viewer};
use super::csrf::{Form, NoFields};
use super::errors::{ApiError, AppError};
use super::{view, AppState, Ctx};
use crate::domain::ids::ConsultationId;
use crate::domain::time::Day;
use crate::ledger::entry::{Disclosure, Subject};
use crate::ledger::export::hex_hash;
use crate::ledger::receipt::Receipt;
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
use serde::Serialize;
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

// ---------------------------------------------------------------- casting

#[get("/consultations/<id>/vote?<cast>")]
async fn vote_page(
    app: &State<AppState>,
    ctx: Ctx,
    me: SignedIn,
    csrf: CsrfToken,
    id: ConsultationId,
    cast: Option<u64>,
) -> Result<RawHtml<String>, AppError> {
    super::blocking(app, move |app| {
        app.page(&ctx, &view::vote::vote(app, &me.0, &csrf, id, cast)?)
            .map(RawHtml)
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
    id: ConsultationId,
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
        super::ratelimit::check(app, super::ratelimit::Action::Vote, me.0.account.id, &addr).map(
            |()| {
                app.voting
                    .prepare(&me.0, id, &choice, voting::today(app.reader.store()))
            },
        )
    })
    .await??
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
    fn new(id: ConsultationId, r: &Receipt) -> ReceiptFile {
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
    id: ConsultationId,
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
async fn log_page(
    app: &State<AppState>,
    ctx: Ctx,
    id: ConsultationId,
) -> Result<RawHtml<String>, AppError> {
    super::blocking(app, move |app| {
        app.page(&ctx, &view::vote::ballots(app, id)?).map(RawHtml)
    })
    .await
}

/// Writes the export of a closed log once (it never changes afterwards) and returns its
/// folder.
fn export_folder(app: &super::App, id: ConsultationId) -> Result<std::path::PathBuf, AppError> {
    let dir = app.export_dir.join(format!("consultation-{id}"));
    if dir.join("checkpoint.txt").is_file() {
        return Ok(dir);
    }
    std::fs::create_dir_all(&app.export_dir).map_err(AppError::internal)?;
    // Written aside, then renamed: a reader never sees half an export.
    let tmp = tempfile::tempdir_in(&app.export_dir).map_err(AppError::internal)?;
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
    id: ConsultationId,
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
    id: ConsultationId,
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
    id: ConsultationId,
) -> Result<RawHtml<String>, AppError> {
    super::blocking(app, move |app| {
        app.page(&ctx, &view::vote::close(app, &csrf, id)?)
            .map(RawHtml)
    })
    .await
}

#[post("/consultations/<id>/close", format = "form", data = "<_csrf>")]
async fn close(
    app: &State<AppState>,
    staff: HasRole<Staff>,
    id: ConsultationId,
    _csrf: Form<NoFields>,
) -> Result<Redirect, AppError> {
    super::blocking(app, move |app| {
        app.voting.close(
            Some(staff.0.account.id),
            id,
            voting::today(app.reader.store()),
        )?;
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
    id: ConsultationId,
    saved: Option<&str>,
) -> Result<RawHtml<String>, AppError> {
    // Redirected here after saving (`?saved`): say so.
    let saved = saved.is_some();
    super::blocking(app, move |app| {
        app.page(&ctx, &view::vote::vote_settings(app, &csrf, id, saved)?)
            .map(RawHtml)
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
    id: ConsultationId,
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
    id: ConsultationId,
) -> Result<RawHtml<String>, AppError> {
    super::blocking(app, move |app| {
        app.page(&ctx, &view::vote::results(app, &ctx, id)?)
            .map(RawHtml)
    })
    .await
}

#[get("/consultations/<id>/results/public?<page>")]
async fn public_votes_page(
    app: &State<AppState>,
    ctx: Ctx,
    id: ConsultationId,
    page: Option<i64>,
) -> Result<RawHtml<String>, AppError> {
    super::blocking(app, move |app| {
        app.page(&ctx, &view::vote::public_votes(app, id, page)?)
            .map(RawHtml)
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
    app.page(&ctx, &view::vote::check_form(&csrf)).map(RawHtml)
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
    if form.receipt.len() > 256 * 1024 {
        return Err(AppError::key(Status::PayloadTooLarge, "err_too_long"));
    }
    let text = form.into_inner().receipt;
    super::blocking(app, move |app| {
        app.page(&ctx, &view::vote::check(app, &ctx, &csrf, text))
            .map(RawHtml)
    })
    .await
}

// ---------------------------------------------------------------- JSON API

// The JSON objects below have their fields in alphabetical order: the order the API has
// always given them in (serde_json writes a `Value`'s keys sorted).

/// A consultation, what is put to the vote and its log.
#[derive(Serialize)]
struct ApiConsultation {
    bill: String,
    closes_on: Day,
    id: ConsultationId,
    /// Empty until voting opens.
    items: Vec<ApiItem>,
    levels: ApiLevels,
    log: Option<ApiLog>,
    opens_on: Day,
    phase: Phase,
    title: String,
    version: i32,
}

#[derive(Serialize)]
struct ApiItem {
    index: usize,
    options: Vec<String>,
    question: String,
    /// "bill", or the amendment's id (`AM-<bill>-<n>`).
    subject: String,
}

/// The level each act asks.
#[derive(Serialize)]
struct ApiLevels {
    amend: i32,
    comment: i32,
    vote: i32,
}

#[derive(Serialize)]
struct ApiLog {
    closed: bool,
    origin: String,
    size: i64,
}

fn api_consultation_of(app: &super::App, id: ConsultationId) -> Result<ApiConsultation, VoteError> {
    let mut conn = app.reader.store().conn()?;
    let c = store::consultations::by_id(&mut conn, id)?.ok_or(VoteError::NotFound)?;
    let bill = store::bills::by_id(&mut conn, c.bill_id)?.ok_or(VoteError::NotFound)?;
    let version = store::versions::by_id(&mut conn, c.version_id)?.ok_or(VoteError::NotFound)?;
    let log = store::ballots::by_consultation(&mut conn, id)?;
    let items = match &log {
        Some(_) => {
            let log = app.voting.log(&mut conn, id)?;
            let m = &log.manifest;
            m.items
                .iter()
                .enumerate()
                .map(|(i, it)| ApiItem {
                    index: i,
                    options: it.options.clone(),
                    question: it.question.clone(),
                    subject: match it.subject {
                        Subject::Bill => "bill".into(),
                        Subject::Amendment(a) => m.amendments[a as usize].id.clone(),
                    },
                })
                .collect()
        }
        None => Vec::new(),
    };
    Ok(ApiConsultation {
        bill: bill.slug,
        closes_on: c.closes_on,
        id: c.id,
        items,
        levels: ApiLevels {
            amend: c.level_amend,
            comment: c.level_comment,
            vote: c.level_vote,
        },
        log: log.map(|l| ApiLog {
            closed: l.closed_at.is_some(),
            origin: l.origin,
            size: l.size,
        }),
        opens_on: c.opens_on,
        phase: c.phase,
        title: c.title,
        version: version.meta.number,
    })
}

#[get("/consultations/<id>")]
async fn api_consultation(
    app: &State<AppState>,
    id: ConsultationId,
) -> Result<Json<ApiConsultation>, ApiError> {
    super::run_blocking(app, move |app| api_consultation_of(app, id))
        .await?
        .map(Json)
        .map_err(ApiError::from)
}

/// The log's latest checkpoint, signed now (text).
#[get("/consultations/<id>/checkpoint")]
async fn api_checkpoint(
    app: &State<AppState>,
    id: ConsultationId,
) -> Result<RawText<String>, ApiError> {
    super::run_blocking(app, move |app| app.voting.checkpoint_now(id))
        .await?
        .map(|(_, note)| RawText(note))
        .map_err(ApiError::from)
}

/// A proof's hashes, in hex.
fn proof_hex(proof: Vec<crate::ledger::merkle::Hash>) -> Vec<String> {
    proof.iter().map(hex_hash).collect()
}

/// That entry `index` is in the tree of `size` entries.
#[derive(Serialize)]
struct InclusionProof {
    index: u64,
    proof: Vec<String>,
    size: u64,
}

#[get("/consultations/<id>/proof/inclusion?<index>&<size>")]
async fn api_inclusion(
    app: &State<AppState>,
    id: ConsultationId,
    index: u64,
    size: u64,
) -> Result<Json<InclusionProof>, ApiError> {
    super::run_blocking(app, move |app| app.voting.inclusion_proof(id, index, size))
        .await?
        .map(|p| {
            Json(InclusionProof {
                index,
                proof: proof_hex(p),
                size,
            })
        })
        .map_err(|e| match e {
            VoteError::Ledger(m) => ApiError::new(Status::BadRequest, "bad_request", m),
            e => ApiError::from(e),
        })
}

/// That the tree of `from` entries is a prefix of the tree of `to`.
#[derive(Serialize)]
struct ConsistencyProof {
    from: u64,
    proof: Vec<String>,
    to: u64,
}

#[get("/consultations/<id>/proof/consistency?<from>&<to>")]
async fn api_consistency(
    app: &State<AppState>,
    id: ConsultationId,
    from: u64,
    to: u64,
) -> Result<Json<ConsistencyProof>, ApiError> {
    super::run_blocking(app, move |app| app.voting.consistency_proof(id, from, to))
        .await?
        .map(|p| {
            Json(ConsistencyProof {
                from,
                proof: proof_hex(p),
                to,
            })
        })
        .map_err(|e| match e {
            VoteError::Ledger(m) => ApiError::new(Status::BadRequest, "bad_request", m),
            e => ApiError::from(e),
        })
}

#[derive(Serialize)]
struct LogKeyJson {
    algorithm: &'static str,
    public_key_base64: String,
    public_key_hex: String,
}

/// The instance's log key: raw Ed25519 public key, hex and base64.
#[get("/log-key")]
fn api_key(app: &State<AppState>) -> Json<LogKeyJson> {
    use base64::Engine;
    let k = app.voting.key().public_key();
    Json(LogKeyJson {
        algorithm: "Ed25519",
        public_key_base64: base64::engine::general_purpose::STANDARD.encode(k),
        public_key_hex: hex::encode(k),
    })
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
    id: ConsultationId,
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
            Ok(()) => Ok(app
                .voting
                .prepare(&me, id, &choice, voting::today(app.reader.store()))),
            Err(e) => Err(e),
        }
    })
    .await?
    .map_err(ApiError::from_page)??;
    let receipt = app.voting.submit(prepared).await?;
    Ok((Status::Created, RawJson(receipt.to_json())))
}

#[derive(Responder)]
#[response(content_type = "json")]
struct RawJson(String);
