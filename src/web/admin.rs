//! Administration: roles of accounts, and the audit log (admins only).

use super::auth::{Admin, CsrfToken, HasRole};
use super::csrf::Form;
use super::errors::AppError;
use super::{view, AppState, Ctx};
use crate::domain::identity::Role;
use crate::domain::ids::AccountId;
use crate::service::identity::{self, RoleError};
use crate::store;
use rocket::form::FromForm;
use rocket::http::Status;
use rocket::response::content::RawHtml;
use rocket::response::Redirect;
use rocket::{get, post, routes, Route, State};

pub fn routes() -> Vec<Route> {
    routes![admin_page, set_role, audit_page]
}

#[get("/admin")]
async fn admin_page(
    app: &State<AppState>,
    ctx: Ctx,
    _admin: HasRole<Admin>,
    csrf: CsrfToken,
) -> Result<RawHtml<String>, AppError> {
    super::blocking(app, move |app| {
        app.page(&ctx, &view::admin::admin(app, &ctx, &csrf)?)
            .map(RawHtml)
    })
    .await
}

#[derive(FromForm)]
struct RoleForm<'r> {
    account: AccountId,
    role: &'r str,
    action: &'r str,
}

#[post("/admin/roles", format = "form", data = "<form>")]
async fn set_role(
    app: &State<AppState>,
    admin: HasRole<Admin>,
    form: Form<RoleForm<'_>>,
) -> Result<Redirect, AppError> {
    let role =
        Role::parse(form.role).ok_or_else(|| AppError::key(Status::BadRequest, "err_role"))?;
    let grant = match form.action {
        "grant" => true,
        "revoke" => false,
        _ => return Err(AppError::key(Status::BadRequest, "err_role")),
    };
    let (account, actor) = (form.account, admin.0.account.id);
    super::blocking(app, move |app| {
        let mut conn = app.reader.store().conn()?;
        if store::accounts::by_id(&mut conn, account)?.is_none() {
            return Err(AppError::key(Status::NotFound, "err_unknown_account"));
        }
        drop(conn);
        match identity::set_role(app.reader.store(), Some(actor), account, role, grant) {
            Ok(_) => Ok(Redirect::to("/admin")),
            Err(RoleError::LastAdmin) => Err(AppError::key(Status::Conflict, "err_last_admin")),
            Err(e) => Err(AppError::internal(e)),
        }
    })
    .await
}

#[get("/admin/audit")]
async fn audit_page(
    app: &State<AppState>,
    ctx: Ctx,
    _admin: HasRole<Admin>,
) -> Result<RawHtml<String>, AppError> {
    super::blocking(app, move |app| {
        app.page(&ctx, &view::admin::audit(app, &ctx)?).map(RawHtml)
    })
    .await
}
