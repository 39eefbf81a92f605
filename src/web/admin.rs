//! Administration: roles of accounts, and the audit log (admins only).

use super::auth::{Admin, CsrfToken, HasRole};
use super::csrf::Form;
use super::errors::AppError;
use super::{AppState, Ctx};
use crate::domain::identity::Role;
use crate::service::identity::{self, RoleError};
use crate::store;
use rocket::form::FromForm;
use rocket::http::Status;
use rocket::response::content::RawHtml;
use rocket::response::Redirect;
use rocket::{get, post, routes, Route, State};
use serde_json::{json, Map, Value};

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
    let lang = ctx.lang;
    super::blocking(app, move |app| {
        let t = lang.tr();
        let mut conn = app.reader.store().conn()?;
        let mut rows = Vec::new();
        for a in store::accounts::list(&mut conn)? {
            let roles = store::accounts::roles(&mut conn, a.id)?;
            let names: Vec<&str> = roles.iter().map(|r| t.get(&format!("role_{}", r.as_str()))).collect();
            rows.push(json!({
                "id": a.id,
                "name": a.display_name,
                "provider": a.provider,
                "subject": a.subject,
                "roles": if names.is_empty() { t.get("role_citizen").to_string() } else { names.join(", ") },
            }));
        }
        let roles: Vec<Value> = Role::ALL
            .iter()
            .map(|r| json!({"value": r.as_str(), "label": t.get(&format!("role_{}", r.as_str()))}))
            .collect();
        let mut data = Map::new();
        data.insert("accounts".into(), json!(rows));
        data.insert("roles".into(), json!(roles));
        data.insert("csrf".into(), json!(csrf.0));
        app.render("admin", &ctx, t.get("admin_title"), data).map(RawHtml)
    })
    .await
}

#[derive(FromForm)]
struct RoleForm<'r> {
    account: i64,
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
            Err(e) => Err(AppError::internal(e.to_string())),
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
    let lang = ctx.lang;
    super::blocking(app, move |app| {
        let t = lang.tr();
        let mut conn = app.reader.store().conn()?;
        let entries: Vec<Value> = store::audit::latest(&mut conn, 500)?
            .into_iter()
            .map(|e| {
                json!({
                    "at": e.at.replace('T', " ").trim_end_matches('Z').to_string(),
                    "actor": e.actor_id.map(|a| a.to_string()).unwrap_or_else(|| t.get("audit_cli").to_string()),
                    "action": e.action,
                    "subject": e.subject_id.map(|a| a.to_string()).unwrap_or_default(),
                    "details": e.details,
                })
            })
            .collect();
        let mut data = Map::new();
        data.insert("entries".into(), json!(entries));
        app.render("audit", &ctx, t.get("audit_title"), data).map(RawHtml)
    })
    .await
}
