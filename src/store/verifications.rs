//! Identity verifications recorded by moderators.

use crate::domain::ids::{AccountId, VerificationId};
use crate::domain::time::{Day, Timestamp};
use diesel::prelude::*;

use super::schema::verifications;
use super::{now_rfc3339, DbConnection, StoreError};
use crate::domain::identity::Method;

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = verifications)]
pub struct Verification {
    pub id: VerificationId,
    pub account_id: AccountId,
    pub level: i32,
    pub method: Method,
    pub verified_on: Day,
    pub expires_on: Day,
    pub recorded_by: AccountId,
    pub confirmed_by: Option<AccountId>,
    pub confirmed_at: Option<Timestamp>,
    pub revoked_by: Option<AccountId>,
    pub revoked_at: Option<Timestamp>,
    pub revoke_reason: Option<String>,
    pub created_at: Timestamp,
}

pub struct NewVerification<'a> {
    pub account_id: AccountId,
    pub level: i32,
    pub method: Method,
    pub verified_on: &'a str,
    pub expires_on: &'a str,
    pub recorded_by: AccountId,
}

pub fn insert(
    conn: &mut DbConnection,
    v: &NewVerification<'_>,
) -> Result<VerificationId, StoreError> {
    let id: VerificationId = diesel::insert_into(verifications::table)
        .values((
            verifications::account_id.eq(v.account_id),
            verifications::level.eq(v.level),
            verifications::method.eq(v.method),
            verifications::verified_on.eq(v.verified_on),
            verifications::expires_on.eq(v.expires_on),
            verifications::recorded_by.eq(v.recorded_by),
            verifications::created_at.eq(now_rfc3339()),
        ))
        .returning(verifications::id)
        .get_result(conn)?;
    Ok(id)
}

pub fn by_id(
    conn: &mut DbConnection,
    id: VerificationId,
) -> Result<Option<Verification>, StoreError> {
    Ok(verifications::table
        .find(id)
        .select(Verification::as_select())
        .first(conn)
        .optional()?)
}

/// Every verification of an account, newest first.
pub fn for_account(
    conn: &mut DbConnection,
    account_id: AccountId,
) -> Result<Vec<Verification>, StoreError> {
    Ok(verifications::table
        .filter(verifications::account_id.eq(account_id))
        .order(verifications::id.desc())
        .select(Verification::as_select())
        .load(conn)?)
}

/// Sets the second moderator of a pending verification; false if it was not pending.
pub fn confirm(
    conn: &mut DbConnection,
    id: VerificationId,
    by: AccountId,
) -> Result<bool, StoreError> {
    let n = diesel::update(
        verifications::table
            .find(id)
            .filter(verifications::confirmed_by.is_null())
            .filter(verifications::revoked_at.is_null()),
    )
    .set((
        verifications::confirmed_by.eq(by),
        verifications::confirmed_at.eq(now_rfc3339()),
    ))
    .execute(conn)?;
    Ok(n > 0)
}

/// Revokes a verification; false if it was already revoked.
pub fn revoke(
    conn: &mut DbConnection,
    id: VerificationId,
    by: AccountId,
    reason: &str,
) -> Result<bool, StoreError> {
    let n = diesel::update(
        verifications::table
            .find(id)
            .filter(verifications::revoked_at.is_null()),
    )
    .set((
        verifications::revoked_by.eq(by),
        verifications::revoked_at.eq(now_rfc3339()),
        verifications::revoke_reason.eq(reason),
    ))
    .execute(conn)?;
    Ok(n > 0)
}
