//! Accounts (one per provider subject) and their roles.

use crate::domain::ids::AccountId;
use crate::domain::time::Timestamp;
use diesel::prelude::*;

use super::schema::{account_roles, accounts};
use super::{now_rfc3339, DbConnection, StoreError};
use crate::domain::identity::Role;

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = accounts)]
pub struct Account {
    pub id: AccountId,
    pub provider: String,
    pub subject: String,
    pub display_name: String,
    pub email: Option<String>,
    pub created_at: Timestamp,
    pub last_seen_at: Timestamp,
}

/// The account of `provider`/`subject`, created on first sign-in; the name and email
/// are refreshed from the provider's claims at every sign-in.
pub fn upsert(
    conn: &mut DbConnection,
    provider: &str,
    subject: &str,
    display_name: &str,
    email: Option<&str>,
) -> Result<Account, StoreError> {
    let now = super::now();
    super::transaction(conn, |conn| {
        let existing = accounts::table
            .filter(accounts::provider.eq(provider))
            .filter(accounts::subject.eq(subject))
            .select(Account::as_select())
            .first(conn)
            .optional()?;
        match existing {
            Some(a) => {
                diesel::update(accounts::table.find(a.id))
                    .set((
                        accounts::display_name.eq(display_name),
                        accounts::email.eq(email),
                        accounts::last_seen_at.eq(&now),
                    ))
                    .execute(conn)?;
                Ok(Account {
                    display_name: display_name.to_string(),
                    email: email.map(str::to_string),
                    last_seen_at: now,
                    ..a
                })
            }
            None => {
                diesel::insert_into(accounts::table)
                    .values((
                        accounts::provider.eq(provider),
                        accounts::subject.eq(subject),
                        accounts::display_name.eq(display_name),
                        accounts::email.eq(email),
                        accounts::created_at.eq(&now),
                        accounts::last_seen_at.eq(&now),
                    ))
                    .execute(conn)?;
                Ok(accounts::table
                    .filter(accounts::provider.eq(provider))
                    .filter(accounts::subject.eq(subject))
                    .select(Account::as_select())
                    .first(conn)?)
            }
        }
    })
}

pub fn by_id(conn: &mut DbConnection, id: AccountId) -> Result<Option<Account>, StoreError> {
    Ok(accounts::table
        .find(id)
        .select(Account::as_select())
        .first(conn)
        .optional()?)
}

pub fn list(conn: &mut DbConnection) -> Result<Vec<Account>, StoreError> {
    Ok(accounts::table
        .order(accounts::id.asc())
        .select(Account::as_select())
        .load(conn)?)
}

pub fn roles(conn: &mut DbConnection, account_id: AccountId) -> Result<Vec<Role>, StoreError> {
    let mut roles: Vec<Role> = account_roles::table
        .filter(account_roles::account_id.eq(account_id))
        .select(account_roles::role)
        .load(conn)?;
    roles.sort();
    Ok(roles)
}

/// Grants a role; returns false if the account already had it.
pub fn grant(
    conn: &mut DbConnection,
    account_id: AccountId,
    role: Role,
    granted_by: Option<AccountId>,
) -> Result<bool, StoreError> {
    super::transaction(conn, |conn| {
        let has = account_roles::table
            .filter(account_roles::account_id.eq(account_id))
            .filter(account_roles::role.eq(role))
            .count()
            .get_result::<i64>(conn)?;
        if has > 0 {
            return Ok(false);
        }
        diesel::insert_into(account_roles::table)
            .values((
                account_roles::account_id.eq(account_id),
                account_roles::role.eq(role),
                account_roles::granted_by.eq(granted_by),
                account_roles::granted_at.eq(now_rfc3339()),
            ))
            .execute(conn)?;
        Ok(true)
    })
}

/// Revokes a role; returns false if the account did not have it.
pub fn revoke(
    conn: &mut DbConnection,
    account_id: AccountId,
    role: Role,
) -> Result<bool, StoreError> {
    let n = diesel::delete(
        account_roles::table
            .filter(account_roles::account_id.eq(account_id))
            .filter(account_roles::role.eq(role)),
    )
    .execute(conn)?;
    Ok(n > 0)
}

/// How many accounts hold a role.
pub fn count_with_role(conn: &mut DbConnection, role: Role) -> Result<i64, StoreError> {
    Ok(account_roles::table
        .filter(account_roles::role.eq(role))
        .count()
        .get_result::<i64>(conn)?)
}
