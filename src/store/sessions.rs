//! Server-side sessions: revocable, shared by every app server through the database.
//! The cookie holds a random token; the table holds only its SHA-256.

use crate::domain::ids::AccountId;
use crate::domain::time::Timestamp;
use diesel::prelude::*;

use super::schema::sessions;
use super::{now_rfc3339, DbConnection, StoreError};

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = sessions)]
pub struct Session {
    pub id: String,
    pub account_id: AccountId,
    pub level: i32,
    pub acr: Option<String>,
    pub provider: String,
    pub user_agent: String,
    pub created_at: Timestamp,
    pub last_seen_at: Timestamp,
    pub expires_at: Timestamp,
    pub ended_at: Option<Timestamp>,
    /// The provider's ID token (for logout), cleared when the session ends.
    pub id_token: Option<String>,
}

pub struct NewSession<'a> {
    pub id: &'a str,
    pub account_id: AccountId,
    pub level: i32,
    pub acr: Option<&'a str>,
    pub provider: &'a str,
    pub user_agent: &'a str,
    pub expires_at: &'a str,
    pub id_token: Option<&'a str>,
}

pub fn insert(conn: &mut DbConnection, s: &NewSession<'_>) -> Result<(), StoreError> {
    let now = now_rfc3339();
    diesel::insert_into(sessions::table)
        .values((
            sessions::id.eq(s.id),
            sessions::account_id.eq(s.account_id),
            sessions::level.eq(s.level),
            sessions::acr.eq(s.acr),
            sessions::provider.eq(s.provider),
            sessions::user_agent.eq(s.user_agent),
            sessions::created_at.eq(&now),
            sessions::last_seen_at.eq(&now),
            sessions::expires_at.eq(s.expires_at),
            sessions::id_token.eq(s.id_token),
        ))
        .execute(conn)?;
    Ok(())
}

/// The session with this id if it is neither ended nor expired at `now` (RFC 3339 UTC,
/// which sorts as text).
pub fn active(conn: &mut DbConnection, id: &str, now: &str) -> Result<Option<Session>, StoreError> {
    Ok(sessions::table
        .find(id)
        .filter(sessions::ended_at.is_null())
        .filter(sessions::expires_at.gt(now))
        .select(Session::as_select())
        .first(conn)
        .optional()?)
}

/// Active sessions of an account, newest first.
pub fn active_for_account(
    conn: &mut DbConnection,
    account_id: AccountId,
    now: &str,
) -> Result<Vec<Session>, StoreError> {
    Ok(sessions::table
        .filter(sessions::account_id.eq(account_id))
        .filter(sessions::ended_at.is_null())
        .filter(sessions::expires_at.gt(now))
        .order(sessions::created_at.desc())
        .select(Session::as_select())
        .load(conn)?)
}

/// Records activity, at most once a minute per session (callers decide).
pub fn touch(conn: &mut DbConnection, id: &str) -> Result<(), StoreError> {
    diesel::update(sessions::table.find(id))
        .set(sessions::last_seen_at.eq(now_rfc3339()))
        .execute(conn)?;
    Ok(())
}

/// Ends one session of an account; false if there was no such active session.
pub fn end(conn: &mut DbConnection, account_id: AccountId, id: &str) -> Result<bool, StoreError> {
    let n = diesel::update(
        sessions::table
            .find(id)
            .filter(sessions::account_id.eq(account_id))
            .filter(sessions::ended_at.is_null()),
    )
    .set((
        sessions::ended_at.eq(now_rfc3339()),
        sessions::id_token.eq(None::<String>),
    ))
    .execute(conn)?;
    Ok(n > 0)
}

/// Ends every session of an account; returns how many.
pub fn end_all(conn: &mut DbConnection, account_id: AccountId) -> Result<usize, StoreError> {
    Ok(diesel::update(
        sessions::table
            .filter(sessions::account_id.eq(account_id))
            .filter(sessions::ended_at.is_null()),
    )
    .set((
        sessions::ended_at.eq(now_rfc3339()),
        sessions::id_token.eq(None::<String>),
    ))
    .execute(conn)?)
}
