//! Consolidation pages: staff publish the consolidated text of a consultation and move a
//! consultation to a newer version (rebase); authors accept a proposed rebase; anyone
//! reads "who wrote this" for a consolidated version. The rules are in
//! `service::consolidation`.

use super::auth::{HasRole, SignedIn, Staff};
use super::consultations::find_amendment;
use super::csrf::{Form, NoFields};
use super::errors::AppError;
use super::{view, AppState, Ctx};
use crate::domain::ids::ConsultationId;
use crate::service::consolidation as svc;
use crate::store;
use rocket::form::FromForm;
use rocket::http::Status;
use rocket::response::content::RawHtml;
use rocket::response::Redirect;
use rocket::{get, post, routes, Route, State};

pub fn routes() -> Vec<Route> {
    routes![provenance, consolidate, rebase, accept_rebase]
}

#[derive(FromForm)]
struct RebaseForm<'r> {
    #[field(default = "")]
    version: &'r str,
}

/// Staff publish the consolidated text (a new version of the bill).
#[post("/consultations/<id>/consolidate", format = "form", data = "<_csrf>")]
async fn consolidate(
    app: &State<AppState>,
    staff: HasRole<Staff>,
    id: ConsultationId,
    _csrf: Form<NoFields>,
) -> Result<Redirect, AppError> {
    super::blocking(app, move |app| {
        let number = svc::consolidate(app.reader.store(), &staff.0, id)?;
        let mut conn = app.reader.store().conn()?;
        let c = store::consultations::by_id(&mut conn, id)?.ok_or_else(AppError::not_found)?;
        let bill = store::bills::by_id(&mut conn, c.bill_id)?.ok_or_else(AppError::not_found)?;
        Ok(Redirect::to(format!(
            "/bills/{}/versions/{number}/provenance",
            bill.slug
        )))
    })
    .await
}

/// Staff move a consultation to a newer version; pending amendments follow.
#[post("/consultations/<id>/rebase", format = "form", data = "<form>")]
async fn rebase(
    app: &State<AppState>,
    staff: HasRole<Staff>,
    id: ConsultationId,
    form: Form<RebaseForm<'_>>,
) -> Result<Redirect, AppError> {
    let version: i32 = form.version.trim().parse().unwrap_or(-1);
    super::blocking(app, move |app| {
        svc::rebase(app.reader.store(), &staff.0, id, version)?;
        Ok(Redirect::to(format!("/consultations/{id}")))
    })
    .await
}

/// The author accepts the rebase proposed for their amendment.
#[post(
    "/bills/<slug>/amendments/<number>/accept-rebase",
    format = "form",
    data = "<_csrf>"
)]
async fn accept_rebase(
    app: &State<AppState>,
    me: SignedIn,
    slug: &str,
    number: i32,
    _csrf: Form<NoFields>,
) -> Result<Redirect, AppError> {
    let slug = slug.to_string();
    super::blocking(app, move |app| {
        let (_, a) = find_amendment(app, &slug, number)?;
        if !svc::accept_rebase(app.reader.store(), &me.0, a.id)? {
            return Err(AppError::key(Status::Conflict, "err_no_rebase"));
        }
        Ok(Redirect::to(format!("/bills/{slug}/amendments/{number}")))
    })
    .await
}

/// "Who wrote this": the changed passages of a consolidated version, each changed span
/// marked and linked to the amendment (and revision) that wrote it.
#[get("/bills/<slug>/versions/<n>/provenance")]
async fn provenance(
    app: &State<AppState>,
    ctx: Ctx,
    slug: &str,
    n: i32,
) -> Result<RawHtml<String>, AppError> {
    let slug = slug.to_string();
    super::blocking(app, move |app| {
        let page = view::consolidation::provenance(app, &ctx, &slug, n)?;
        app.page(&ctx, &page).map(RawHtml)
    })
    .await
}
