//! Pending OpenID Connect sign-ins, keyed by the SHA-256 of their `state`. Taking a flow
//! deletes it, so each provider answer is accepted at most once.

use crate::domain::time::Timestamp;
use diesel::prelude::*;

use super::schema::oidc_flows;
use super::{DbConnection, StoreError};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = oidc_flows)]
pub struct Flow {
    pub state_hash: String,
    pub provider: String,
    pub nonce: String,
    pub pkce_verifier: String,
    pub level: i32,
    pub next: String,
    pub created_at: Timestamp,
}

/// Stores a flow, and forgets the ones started before `stale_before` (never answered).
pub fn insert(conn: &mut DbConnection, flow: &Flow, stale_before: &str) -> Result<(), StoreError> {
    diesel::delete(oidc_flows::table.filter(oidc_flows::created_at.lt(stale_before)))
        .execute(conn)?;
    diesel::insert_into(oidc_flows::table)
        .values((
            oidc_flows::state_hash.eq(&flow.state_hash),
            oidc_flows::provider.eq(&flow.provider),
            oidc_flows::nonce.eq(&flow.nonce),
            oidc_flows::pkce_verifier.eq(&flow.pkce_verifier),
            oidc_flows::level.eq(flow.level),
            oidc_flows::next.eq(&flow.next),
            oidc_flows::created_at.eq(&flow.created_at),
        ))
        .execute(conn)?;
    Ok(())
}

/// Removes and returns the flow with this state hash, if it was started at or after
/// `not_before`. Of two concurrent takers only one gets it (the delete decides).
pub fn take(
    conn: &mut DbConnection,
    state_hash: &str,
    not_before: Timestamp,
) -> Result<Option<Flow>, StoreError> {
    let flow = oidc_flows::table
        .find(state_hash)
        .select(Flow::as_select())
        .load(conn)?
        .pop();
    let Some(flow) = flow else { return Ok(None) };
    let deleted = diesel::delete(oidc_flows::table.find(state_hash)).execute(conn)?;
    Ok((deleted == 1 && flow.created_at >= not_before).then_some(flow))
}
