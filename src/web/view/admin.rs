//! Administration pages: the accounts and their roles, the audit log.

use super::Page;
use crate::domain::identity::Role;
use crate::domain::ids::AccountId;
use crate::store;
use crate::web::auth::CsrfToken;
use crate::web::errors::AppError;
use crate::web::i18n::Translations;
use crate::web::{App, Ctx};
use serde::Serialize;

/// `/admin`: every account with its roles, and the forms granting or revoking one.
#[derive(Serialize)]
pub struct Admin {
    accounts: Vec<AccountRow>,
    /// The roles that may be granted.
    roles: Vec<RoleChoice>,
    csrf: String,
}

#[derive(Serialize)]
struct AccountRow {
    id: AccountId,
    name: String,
    provider: String,
    subject: String,
    /// Its roles by name, or "citizen".
    roles: String,
}

#[derive(Serialize)]
struct RoleChoice {
    value: &'static str,
    label: String,
}

impl Page for Admin {
    const TEMPLATE: &'static str = "admin";
    fn title(&self, t: &Translations) -> String {
        t.get("admin_title").into()
    }
}

pub fn admin(app: &App, ctx: &Ctx, csrf: &CsrfToken) -> Result<Admin, AppError> {
    let t = ctx.lang.tr();
    let mut conn = app.reader.store().conn()?;
    let mut accounts = Vec::new();
    for a in store::accounts::list(&mut conn)? {
        let roles = store::accounts::roles(&mut conn, a.id)?;
        let names: Vec<&str> = roles
            .iter()
            .map(|r| t.get(&format!("role_{}", r.as_str())))
            .collect();
        accounts.push(AccountRow {
            id: a.id,
            name: a.display_name,
            provider: a.provider,
            subject: a.subject,
            roles: if names.is_empty() {
                t.get("role_citizen").to_string()
            } else {
                names.join(", ")
            },
        });
    }
    let roles = Role::ALL
        .iter()
        .map(|r| RoleChoice {
            value: r.as_str(),
            label: t.get(&format!("role_{}", r.as_str())).to_string(),
        })
        .collect();
    Ok(Admin {
        accounts,
        roles,
        csrf: csrf.0.clone(),
    })
}

/// `/admin/audit`: the latest entries of the audit log.
#[derive(Serialize)]
pub struct Audit {
    entries: Vec<AuditRow>,
}

#[derive(Serialize)]
struct AuditRow {
    at: String,
    /// The acting account's id, or "command line".
    actor: String,
    action: String,
    subject: String,
    details: String,
}

impl Page for Audit {
    const TEMPLATE: &'static str = "audit";
    fn title(&self, t: &Translations) -> String {
        t.get("audit_title").into()
    }
}

/// How many entries the audit page shows.
const AUDIT_ENTRIES: i64 = 500;

pub fn audit(app: &App, ctx: &Ctx) -> Result<Audit, AppError> {
    let t = ctx.lang.tr();
    let mut conn = app.reader.store().conn()?;
    let entries = store::audit::latest(&mut conn, AUDIT_ENTRIES)?
        .into_iter()
        .map(|e| AuditRow {
            at: crate::domain::time::display(&e.at),
            actor: e
                .actor_id
                .map(|a| a.to_string())
                .unwrap_or_else(|| t.get("audit_cli").to_string()),
            action: e.action,
            subject: e.subject_id.map(|a| a.to_string()).unwrap_or_default(),
            details: e.details,
        })
        .collect();
    Ok(Audit { entries })
}
