//! Copy-paste campaigns (issue 7): the staff page listing a consultation's groups of
//! near-identical amendments and comments, with the assurance levels of each group next
//! to those of the other contributions. The rules are in `service::campaigns`.

use super::auth::{HasRole, Staff};
use super::errors::AppError;
use super::{view, AppState, Ctx};
use crate::domain::ids::ConsultationId;
use rocket::response::content::RawHtml;
use rocket::{get, routes, Route, State};

pub fn routes() -> Vec<Route> {
    routes![campaigns_page]
}

#[get("/consultations/<id>/campaigns")]
async fn campaigns_page(
    app: &State<AppState>,
    ctx: Ctx,
    staff: HasRole<Staff>,
    id: ConsultationId,
) -> Result<RawHtml<String>, AppError> {
    super::blocking(app, move |app| {
        let page = view::campaigns::campaigns(app, &ctx, &staff.0, id)?;
        app.page(&ctx, &page).map(RawHtml)
    })
    .await
}
