//! Moderation: finding a person and recording, confirming or revoking identity
//! verifications (moderators only; every act is in the audit log).

use super::auth::{CsrfToken, HasRole, Moderator};
use super::csrf::Form;
use super::errors::AppError;
use super::view::verification::{self as page, Draft, Found, ReidentifyField};
use super::{AppState, Ctx};
use crate::domain::identity::Method;
use crate::domain::ids::{AccountId, VerificationId};
use crate::service::identity::{self, SessionInfo, VerifyError};
use rocket::form::FromForm;
use rocket::http::Status;
use rocket::response::content::RawHtml;
use rocket::response::Redirect;
use rocket::{get, post, routes, Route, State};

pub fn routes() -> Vec<Route> {
    routes![
        people,
        person,
        record,
        confirm,
        revoke,
        reidentify_page,
        reidentify
    ]
}

#[get("/moderation/people?<q>")]
async fn people(
    app: &State<AppState>,
    ctx: Ctx,
    _m: HasRole<Moderator>,
    q: Option<&str>,
) -> Result<RawHtml<String>, AppError> {
    let q = q.unwrap_or("").trim().chars().take(100).collect::<String>();
    super::blocking(app, move |app| {
        app.page(&ctx, &page::people(app, &q)?).map(RawHtml)
    })
    .await
}

fn person_page(
    app: &super::App,
    ctx: &Ctx,
    me: &SessionInfo,
    csrf: &CsrfToken,
    id: AccountId,
    draft: Draft,
) -> Result<String, AppError> {
    app.page(ctx, &page::person(app, ctx, me, csrf, id, draft)?)
}

#[get("/moderation/people/<id>")]
async fn person(
    app: &State<AppState>,
    ctx: Ctx,
    m: HasRole<Moderator>,
    csrf: CsrfToken,
    id: AccountId,
) -> Result<RawHtml<String>, AppError> {
    super::blocking(app, move |app| {
        person_page(app, &ctx, &m.0, &csrf, id, Draft::default()).map(RawHtml)
    })
    .await
}

#[derive(FromForm)]
struct RecordForm<'r> {
    level: &'r str,
    method: &'r str,
    verified_on: &'r str,
    expires_on: &'r str,
}

/// Records a verification; a rule broken re-shows the form with the input kept and the
/// error next to its field.
#[post(
    "/moderation/people/<id>/verifications",
    format = "form",
    data = "<form>"
)]
async fn record(
    app: &State<AppState>,
    ctx: Ctx,
    m: HasRole<Moderator>,
    csrf: CsrfToken,
    id: AccountId,
    form: Form<RecordForm<'_>>,
) -> Result<Result<Redirect, (Status, RawHtml<String>)>, AppError> {
    let lang = ctx.lang;
    let mut draft = Draft {
        level: form.level.chars().take(4).collect(),
        method: form.method.chars().take(20).collect(),
        verified_on: form.verified_on.chars().take(20).collect(),
        expires_on: form.expires_on.chars().take(20).collect(),
        error: None,
    };
    super::blocking(app, move |app| {
        let t = lang.tr();
        let Some(method) = Method::parse(&draft.method) else {
            draft.error = Some(("method", t.get("err_verify_method").to_string()));
            let html = person_page(app, &ctx, &m.0, &csrf, id, draft)?;
            return Ok(Err((Status::UnprocessableEntity, RawHtml(html))));
        };
        let level = draft.level.parse::<i64>().unwrap_or(-1);
        match identity::record_verification(
            app.reader.store(),
            &m.0,
            id,
            level,
            method,
            &draft.verified_on,
            &draft.expires_on,
        ) {
            Ok(_) => Ok(Ok(Redirect::to(format!("/moderation/people/{id}")))),
            Err(VerifyError::Rule(rule)) => {
                let field = match rule {
                    crate::domain::identity::VerificationError::Level => "level",
                    crate::domain::identity::VerificationError::VerifiedOn => "verified_on",
                    crate::domain::identity::VerificationError::ExpiresOn => "expires_on",
                    _ => "form",
                };
                draft.error = Some((field, t.get(rule.key()).to_string()));
                let html = person_page(app, &ctx, &m.0, &csrf, id, draft)?;
                Ok(Err((Status::UnprocessableEntity, RawHtml(html))))
            }
            Err(VerifyError::NotFound) => {
                Err(AppError::key(Status::NotFound, "err_unknown_account"))
            }
            Err(e @ VerifyError::Store(_)) => Err(e.into()),
        }
    })
    .await
}

#[derive(FromForm)]
struct ActForm<'r> {
    account: AccountId,
    reason: Option<&'r str>,
}

#[post(
    "/moderation/verifications/<vid>/confirm",
    format = "form",
    data = "<form>"
)]
async fn confirm(
    app: &State<AppState>,
    m: HasRole<Moderator>,
    vid: VerificationId,
    form: Form<ActForm<'_>>,
) -> Result<Redirect, AppError> {
    let account = form.account;
    super::blocking(app, move |app| {
        identity::confirm_verification(app.reader.store(), &m.0, vid)?;
        Ok(Redirect::to(format!("/moderation/people/{account}")))
    })
    .await
}

#[post(
    "/moderation/verifications/<vid>/revoke",
    format = "form",
    data = "<form>"
)]
async fn revoke(
    app: &State<AppState>,
    m: HasRole<Moderator>,
    vid: VerificationId,
    form: Form<ActForm<'_>>,
) -> Result<Redirect, AppError> {
    let reason: String = form.reason.unwrap_or("").trim().chars().take(500).collect();
    if reason.is_empty() {
        return Err(AppError::key(Status::BadRequest, "err_revoke_reason"));
    }
    let account = form.account;
    super::blocking(app, move |app| {
        identity::revoke_verification(app.reader.store(), &m.0, vid, &reason)?;
        Ok(Redirect::to(format!("/moderation/people/{account}")))
    })
    .await
}

#[get("/moderation/reidentify")]
async fn reidentify_page(
    app: &State<AppState>,
    ctx: Ctx,
    _m: HasRole<Moderator>,
    csrf: CsrfToken,
) -> Result<RawHtml<String>, AppError> {
    super::blocking(app, move |app| {
        let view = page::reidentify(app, &csrf, ("", "", ""), None, None)?;
        app.page(&ctx, &view).map(RawHtml)
    })
    .await
}

#[derive(FromForm)]
struct ReidentifyForm<'r> {
    bill: &'r str,
    pseudonym: &'r str,
    reason: &'r str,
}

/// Re-identifies a pseudonym: a logged moderator act that needs a reason.
#[post("/moderation/reidentify", format = "form", data = "<form>")]
async fn reidentify(
    app: &State<AppState>,
    ctx: Ctx,
    m: HasRole<Moderator>,
    csrf: CsrfToken,
    form: Form<ReidentifyForm<'_>>,
) -> Result<(Status, RawHtml<String>), AppError> {
    let lang = ctx.lang;
    let bill: String = form.bill.chars().take(100).collect();
    let pseudonym: String = form.pseudonym.trim().chars().take(20).collect();
    let reason: String = form.reason.trim().chars().take(500).collect();
    super::blocking(app, move |app| {
        let t = lang.tr();
        let input = (bill.as_str(), pseudonym.as_str(), reason.as_str());
        let outcome = identity::reidentify(
            app.reader.store(),
            &m.0,
            &app.pseudonym_key,
            &bill,
            &pseudonym,
            &reason,
        );
        let (status, error, result) = match outcome {
            Ok(found) => (Status::Ok, None, Some(Found::of(found))),
            Err(identity::ReidentifyError::BadPseudonym) => (
                Status::UnprocessableEntity,
                Some((
                    ReidentifyField::Pseudonym,
                    t.get("err_pseudonym_format").to_string(),
                )),
                None,
            ),
            Err(identity::ReidentifyError::NoReason) => (
                Status::UnprocessableEntity,
                Some((
                    ReidentifyField::Reason,
                    t.get("err_reidentify_reason").to_string(),
                )),
                None,
            ),
            Err(identity::ReidentifyError::UnknownBill(_)) => (
                Status::UnprocessableEntity,
                Some((
                    ReidentifyField::Bill,
                    t.get("err_reidentify_bill").to_string(),
                )),
                None,
            ),
            Err(identity::ReidentifyError::Store(e)) => return Err(e.into()),
        };
        let view = page::reidentify(app, &csrf, input, error, result)?;
        Ok((status, RawHtml(app.page(&ctx, &view)?)))
    })
    .await
}
