//! Moderation: finding a person and recording, confirming or revoking identity
//! verifications (moderators only; every act is in the audit log).

use super::auth::{CsrfToken, HasRole, Moderator};
use super::csrf::Form;
use super::errors::AppError;
use super::{AppState, Ctx};
use crate::domain::identity::Method;
use crate::service::identity::{self, SessionInfo, VerifyError};
use crate::store;
use rocket::form::FromForm;
use rocket::http::Status;
use rocket::response::content::RawHtml;
use rocket::response::Redirect;
use rocket::{get, post, routes, Route, State};
use serde_json::{json, Map, Value};

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
    let lang = ctx.lang;
    let q = q.unwrap_or("").trim().chars().take(100).collect::<String>();
    super::blocking(app, move |app| {
        let t = lang.tr();
        let mut conn = app.reader.store().conn()?;
        let needle = q.to_lowercase();
        let rows: Vec<Value> = store::accounts::list(&mut conn)?
            .into_iter()
            .filter(|a| {
                needle.is_empty()
                    || a.display_name.to_lowercase().contains(&needle)
                    || a.email
                        .as_deref()
                        .is_some_and(|e| e.to_lowercase().contains(&needle))
                    || a.id.to_string() == needle
            })
            .take(200)
            .map(|a| json!({"id": a.id, "name": a.display_name, "provider": a.provider}))
            .collect();
        let mut data = Map::new();
        data.insert("q".into(), json!(q));
        data.insert("people".into(), json!(rows));
        app.render("people", &ctx, t.get("moderation_people"), data)
            .map(RawHtml)
    })
    .await
}

/// What the form showed, kept when it comes back with an error.
#[derive(Default, Clone)]
struct Draft {
    level: String,
    method: String,
    verified_on: String,
    expires_on: String,
    error: Option<(&'static str, String)>,
}

fn person_page(
    app: &super::App,
    ctx: &Ctx,
    me: &SessionInfo,
    csrf: &CsrfToken,
    id: i64,
    draft: Draft,
) -> Result<String, AppError> {
    let lang = ctx.lang;
    let t = lang.tr();
    let mut conn = app.reader.store().conn()?;
    let account = store::accounts::by_id(&mut conn, id)?
        .ok_or_else(|| AppError::key(Status::NotFound, "err_unknown_account"))?;
    let list: Vec<Value> = store::verifications::for_account(&mut conn, id)?
        .iter()
        .map(|v| {
            let status = identity::status(v);
            json!({
                "id": v.id,
                "level": v.level,
                "method": t.get(&format!("method_{}", v.method)),
                "verified_on": v.verified_on,
                "expires_on": v.expires_on,
                "recorded_by": v.recorded_by,
                "confirmed_by": v.confirmed_by,
                "status": t.get(&format!("vstatus_{}", status.as_str())),
                "can_confirm": status == crate::domain::identity::VerificationStatus::PendingConfirmation
                    && v.recorded_by != me.account.id && v.account_id != me.account.id,
                "can_revoke": v.revoked_at.is_none(),
            })
        })
        .collect();
    let verified = identity::verified_level(&mut conn, id, &identity::today())?;
    let (error_field, error) = match &draft.error {
        Some((f, m)) => (json!(f), json!(m)),
        None => (Value::Null, Value::Null),
    };
    let mut data = Map::new();
    data.insert("person".into(), json!({"id": account.id, "name": account.display_name, "provider": account.provider, "subject": account.subject}));
    data.insert(
        "verified".into(),
        json!(verified.map(|(l, until)| json!({"level": l.get(), "until": until}))),
    );
    data.insert("verifications".into(), json!(list));
    data.insert("self".into(), json!(account.id == me.account.id));
    data.insert("csrf".into(), json!(csrf.0));
    data.insert("draft".into(), json!({
        "level": draft.level, "method": draft.method, "verified_on": draft.verified_on, "expires_on": draft.expires_on,
        "level2": draft.level == "2", "level3": draft.level == "3", "in_person": draft.method == "in_person",
    }));
    data.insert("error_field".into(), error_field);
    data.insert("error".into(), error);
    data.insert("today".into(), json!(identity::today()));
    app.render("person", ctx, &account.display_name, data)
}

#[get("/moderation/people/<id>")]
async fn person(
    app: &State<AppState>,
    ctx: Ctx,
    m: HasRole<Moderator>,
    csrf: CsrfToken,
    id: i64,
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
    id: i64,
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
            Err(VerifyError::Store(e)) => Err(AppError::internal(e.to_string())),
        }
    })
    .await
}

#[derive(FromForm)]
struct ActForm<'r> {
    account: i64,
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
    vid: i64,
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
    vid: i64,
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

/// The re-identification form, its input, and (after a search) its result.
fn reidentify_view(
    app: &super::App,
    ctx: &Ctx,
    csrf: &CsrfToken,
    form: (&str, &str, &str),
    error: Option<(&str, String)>,
    result: Option<Value>,
) -> Result<String, AppError> {
    let lang = ctx.lang;
    let t = lang.tr();
    let mut conn = app.reader.store().conn()?;
    let bills: Vec<Value> = store::bills::list(&mut conn)?
        .into_iter()
        .map(|b| json!({"slug": b.bill.slug, "title": b.bill.meta.title, "selected": b.bill.slug == form.0}))
        .collect();
    let mut data = Map::new();
    data.insert("bills".into(), json!(bills));
    data.insert("pseudonym".into(), json!(form.1));
    data.insert("reason".into(), json!(form.2));
    data.insert("csrf".into(), json!(csrf.0));
    // The message goes next to its field (error_bill, error_pseudonym, error_reason).
    if let Some((field, message)) = error {
        data.insert(format!("error_{field}"), json!(message));
    }
    data.insert("result".into(), result.unwrap_or(Value::Null));
    app.render("reidentify", ctx, t.get("reidentify_title"), data)
}

#[get("/moderation/reidentify")]
async fn reidentify_page(
    app: &State<AppState>,
    ctx: Ctx,
    _m: HasRole<Moderator>,
    csrf: CsrfToken,
) -> Result<RawHtml<String>, AppError> {
    super::blocking(app, move |app| {
        reidentify_view(app, &ctx, &csrf, ("", "", ""), None, None).map(RawHtml)
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
            Ok(Some(a)) => (
                Status::Ok,
                None,
                Some(json!({"found": true, "id": a.id, "name": a.display_name, "provider": a.provider})),
            ),
            Ok(None) => (Status::Ok, None, Some(json!({"found": false}))),
            Err(identity::ReidentifyError::BadPseudonym) => (
                Status::UnprocessableEntity,
                Some(("pseudonym", t.get("err_pseudonym_format").to_string())),
                None,
            ),
            Err(identity::ReidentifyError::NoReason) => (
                Status::UnprocessableEntity,
                Some(("reason", t.get("err_reidentify_reason").to_string())),
                None,
            ),
            Err(identity::ReidentifyError::UnknownBill(_)) => (
                Status::UnprocessableEntity,
                Some(("bill", t.get("err_reidentify_bill").to_string())),
                None,
            ),
            Err(identity::ReidentifyError::Store(e)) => {
                return Err(AppError::internal(e.to_string()))
            }
        };
        let html = reidentify_view(app, &ctx, &csrf, input, error, result)?;
        Ok((status, RawHtml(html)))
    })
    .await
}
