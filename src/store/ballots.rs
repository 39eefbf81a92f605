//! The ballot logs (DESIGN §6): one row per consultation in `ballot_logs`, the entries
//! in `ballot_entries` (append-only: triggers refuse updates and deletes), the published
//! checkpoints in `ballot_checkpoints`. The bytes and their meaning are `ledger`'s; this
//! module only keeps them, in order.

use crate::domain::ids::{AccountId, ConsultationId};
use crate::domain::time::Timestamp;
use diesel::prelude::*;

use super::schema::{
    accounts, ballot_checkpoints, ballot_entries, ballot_logs, public_voters, vote_settings,
};
use super::{now_rfc3339, DbConnection, StoreError};

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = ballot_logs)]
pub struct Log {
    pub consultation_id: ConsultationId,
    pub origin: String,
    pub voter_key: Option<Vec<u8>>,
    pub size: i64,
    pub result_csv: Option<String>,
    /// Ballots cast per day, JSON, once closed.
    pub participation: Option<String>,
    pub closed_at: Option<Timestamp>,
    pub destroy_key_after: Option<String>,
    pub key_destroyed_at: Option<Timestamp>,
    pub created_at: Timestamp,
}

#[derive(Insertable)]
#[diesel(table_name = ballot_entries)]
struct EntryRow<'a> {
    consultation_id: ConsultationId,
    idx: i64,
    entry: &'a [u8],
    leaf_hash: &'a [u8],
    voter_token: Option<&'a [u8]>,
}

/// One entry to append.
pub struct NewEntry<'a> {
    pub entry: &'a [u8],
    pub leaf_hash: &'a [u8; 32],
    pub voter_token: Option<&'a [u8; 32]>,
}

/// Creates the log of a consultation with its manifest as entry 0.
pub fn create(
    conn: &mut DbConnection,
    consultation_id: ConsultationId,
    origin: &str,
    voter_key: &[u8],
    manifest: &NewEntry<'_>,
) -> Result<(), StoreError> {
    diesel::insert_into(ballot_logs::table)
        .values((
            ballot_logs::consultation_id.eq(consultation_id),
            ballot_logs::origin.eq(origin),
            ballot_logs::voter_key.eq(Some(voter_key)),
            ballot_logs::size.eq(0i64),
            ballot_logs::created_at.eq(now_rfc3339()),
        ))
        .execute(conn)?;
    append(conn, consultation_id, 0, std::slice::from_ref(manifest))?;
    Ok(())
}

/// The consultation key, if not destroyed. Read each time rather than kept in memory,
/// so that once destroyed in the database no server holds it any more.
pub fn voter_key(
    conn: &mut DbConnection,
    consultation_id: ConsultationId,
) -> Result<Option<Vec<u8>>, StoreError> {
    Ok(ballot_logs::table
        .find(consultation_id)
        .select(ballot_logs::voter_key)
        .load::<Option<Vec<u8>>>(conn)?
        .pop()
        .flatten())
}

pub fn by_consultation(
    conn: &mut DbConnection,
    consultation_id: ConsultationId,
) -> Result<Option<Log>, StoreError> {
    Ok(ballot_logs::table
        .find(consultation_id)
        .select(Log::as_select())
        .load(conn)?
        .pop())
}

/// Reads the log row and, on PostgreSQL, locks it until the end of the transaction
/// (`FOR UPDATE`). On SQLite the caller's `BEGIN IMMEDIATE` transaction already holds
/// the database's single write lock. Either way the appender that holds it is alone.
pub fn lock(
    conn: &mut DbConnection,
    consultation_id: ConsultationId,
) -> Result<Option<Log>, StoreError> {
    Ok(match conn {
        DbConnection::Pg(c) => ballot_logs::table
            .find(consultation_id)
            .select(Log::as_select())
            .for_update()
            .load(c)?
            .pop(),
        DbConnection::Sqlite(c) => ballot_logs::table
            .find(consultation_id)
            .select(Log::as_select())
            .load(c)?
            .pop(),
    })
}

/// Appends entries at `first`, `first + 1`…, and moves the log's size past them. The
/// caller holds the lock ([`lock`]) and has checked that `first` is the log's size.
pub fn append(
    conn: &mut DbConnection,
    consultation_id: ConsultationId,
    first: i64,
    entries: &[NewEntry<'_>],
) -> Result<i64, StoreError> {
    let rows: Vec<EntryRow<'_>> = entries
        .iter()
        .enumerate()
        .map(|(i, e)| EntryRow {
            consultation_id,
            idx: first + i as i64,
            entry: e.entry,
            leaf_hash: &e.leaf_hash[..],
            voter_token: e.voter_token.map(|t| &t[..]),
        })
        .collect();
    match conn {
        // Multi-row INSERT is not available through `MultiConnection` (see units.rs).
        DbConnection::Sqlite(c) => {
            for chunk in rows.chunks(1000) {
                diesel::insert_into(ballot_entries::table)
                    .values(chunk)
                    .execute(c)?;
            }
        }
        DbConnection::Pg(c) => {
            for chunk in rows.chunks(5000) {
                diesel::insert_into(ballot_entries::table)
                    .values(chunk)
                    .execute(c)?;
            }
        }
    }
    let size = first + entries.len() as i64;
    let updated = diesel::update(
        ballot_logs::table
            .find(consultation_id)
            .filter(ballot_logs::size.eq(first)),
    )
    .set(ballot_logs::size.eq(size))
    .execute(conn)?;
    if updated != 1 {
        return Err(StoreError::Invalid(format!(
            "ballot log {consultation_id} is not at size {first}"
        )));
    }
    Ok(size)
}

/// The leaf hashes of entries `from..to`, in order.
pub fn leaf_hashes(
    conn: &mut DbConnection,
    consultation_id: ConsultationId,
    from: i64,
    to: i64,
) -> Result<Vec<[u8; 32]>, StoreError> {
    let rows: Vec<Vec<u8>> = ballot_entries::table
        .filter(ballot_entries::consultation_id.eq(consultation_id))
        .filter(ballot_entries::idx.ge(from))
        .filter(ballot_entries::idx.lt(to))
        .order(ballot_entries::idx)
        .select(ballot_entries::leaf_hash)
        .load(conn)?;
    rows.into_iter()
        .map(|h| {
            h.try_into()
                .map_err(|_| StoreError::Invalid("a leaf hash is not 32 bytes".into()))
        })
        .collect()
}

/// The bytes of entry `idx`.
pub fn entry(
    conn: &mut DbConnection,
    consultation_id: ConsultationId,
    idx: i64,
) -> Result<Option<Vec<u8>>, StoreError> {
    Ok(ballot_entries::table
        .find((consultation_id, idx))
        .select(ballot_entries::entry)
        .load(conn)?
        .pop())
}

/// Entries `from..from+limit` in order, as `(index, bytes)`: a page for streaming
/// readers (export, tally), so memory stays bounded by the page.
pub fn entries_page(
    conn: &mut DbConnection,
    consultation_id: ConsultationId,
    from: i64,
    limit: i64,
) -> Result<Vec<(i64, Vec<u8>)>, StoreError> {
    Ok(ballot_entries::table
        .filter(ballot_entries::consultation_id.eq(consultation_id))
        .filter(ballot_entries::idx.ge(from))
        .order(ballot_entries::idx)
        .limit(limit)
        .select((ballot_entries::idx, ballot_entries::entry))
        .load(conn)?)
}

/// The last ballot of a voter token: `(index, bytes)`.
pub fn last_ballot_of(
    conn: &mut DbConnection,
    consultation_id: ConsultationId,
    token: &[u8; 32],
) -> Result<Option<(i64, Vec<u8>)>, StoreError> {
    Ok(ballot_entries::table
        .filter(ballot_entries::consultation_id.eq(consultation_id))
        .filter(ballot_entries::voter_token.eq(&token[..]))
        .order(ballot_entries::idx.desc())
        .limit(1)
        .select((ballot_entries::idx, ballot_entries::entry))
        .load(conn)?
        .pop())
}

/// Whether any of `tokens` already has a ballot.
pub fn tokens_with_ballots(
    conn: &mut DbConnection,
    consultation_id: ConsultationId,
    tokens: &[&[u8; 32]],
) -> Result<Vec<Vec<u8>>, StoreError> {
    let wanted: Vec<&[u8]> = tokens.iter().map(|t| &t[..]).collect();
    Ok(ballot_entries::table
        .filter(ballot_entries::consultation_id.eq(consultation_id))
        .filter(ballot_entries::voter_token.eq_any(wanted))
        .select(ballot_entries::voter_token.assume_not_null())
        .distinct()
        .load(conn)?)
}

pub fn insert_checkpoint(
    conn: &mut DbConnection,
    consultation_id: ConsultationId,
    size: i64,
    note: &str,
) -> Result<(), StoreError> {
    // Two app servers may publish the same size: the note is the same statement.
    let exists = ballot_checkpoints::table
        .find((consultation_id, size))
        .count()
        .get_result::<i64>(conn)?
        > 0;
    if !exists {
        diesel::insert_into(ballot_checkpoints::table)
            .values((
                ballot_checkpoints::consultation_id.eq(consultation_id),
                ballot_checkpoints::size.eq(size),
                ballot_checkpoints::note.eq(note),
                ballot_checkpoints::created_at.eq(now_rfc3339()),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Published checkpoints, by size: `(size, note, created_at)`.
pub fn checkpoints(
    conn: &mut DbConnection,
    consultation_id: ConsultationId,
) -> Result<Vec<(i64, String, String)>, StoreError> {
    Ok(ballot_checkpoints::table
        .filter(ballot_checkpoints::consultation_id.eq(consultation_id))
        .order(ballot_checkpoints::size)
        .select((
            ballot_checkpoints::size,
            ballot_checkpoints::note,
            ballot_checkpoints::created_at,
        ))
        .load(conn)?)
}

/// The latest published checkpoint: `(size, note, created_at)`.
pub fn latest_checkpoint(
    conn: &mut DbConnection,
    consultation_id: ConsultationId,
) -> Result<Option<(i64, String, String)>, StoreError> {
    Ok(ballot_checkpoints::table
        .filter(ballot_checkpoints::consultation_id.eq(consultation_id))
        .order(ballot_checkpoints::size.desc())
        .limit(1)
        .select((
            ballot_checkpoints::size,
            ballot_checkpoints::note,
            ballot_checkpoints::created_at,
        ))
        .load(conn)?
        .pop())
}

/// Records the close: the result file and when the consultation key goes.
pub fn set_closed(
    conn: &mut DbConnection,
    consultation_id: ConsultationId,
    result_csv: &str,
    participation: &str,
    destroy_key_after: &str,
) -> Result<(), StoreError> {
    diesel::update(ballot_logs::table.find(consultation_id))
        .set((
            ballot_logs::result_csv.eq(result_csv),
            ballot_logs::participation.eq(participation),
            ballot_logs::closed_at.eq(now_rfc3339()),
            ballot_logs::destroy_key_after.eq(destroy_key_after),
        ))
        .execute(conn)?;
    Ok(())
}

/// Logs whose consultation key is due for destruction at `now` (RFC 3339).
pub fn keys_due(conn: &mut DbConnection, now: &str) -> Result<Vec<ConsultationId>, StoreError> {
    Ok(ballot_logs::table
        .filter(ballot_logs::voter_key.is_not_null())
        .filter(ballot_logs::destroy_key_after.le(now))
        .select(ballot_logs::consultation_id)
        .load(conn)?)
}

/// Forgets the consultation key: voter tokens can no longer be tied to accounts.
pub fn destroy_key(
    conn: &mut DbConnection,
    consultation_id: ConsultationId,
) -> Result<bool, StoreError> {
    // SQLite would otherwise leave the old bytes in the freed page.
    if let DbConnection::Sqlite(c) = conn {
        diesel::connection::SimpleConnection::batch_execute(c, "PRAGMA secure_delete = ON")?;
    }
    Ok(diesel::update(
        ballot_logs::table
            .find(consultation_id)
            .filter(ballot_logs::voter_key.is_not_null()),
    )
    .set((
        ballot_logs::voter_key.eq(None::<Vec<u8>>),
        ballot_logs::key_destroyed_at.eq(Some(now_rfc3339())),
    ))
    .execute(conn)?
        == 1)
}

/// The consultations whose log is closed, by id.
pub fn closed(conn: &mut DbConnection) -> Result<Vec<ConsultationId>, StoreError> {
    Ok(ballot_logs::table
        .filter(ballot_logs::closed_at.is_not_null())
        .order(ballot_logs::consultation_id)
        .select(ballot_logs::consultation_id)
        .load(conn)?)
}

/// What staff put to the vote (`vote_settings`), as stored.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = vote_settings)]
pub struct Settings {
    pub consultation_id: ConsultationId,
    /// JSON list of amendment numbers; `None`: every amendment still standing.
    pub amendments: Option<String>,
    pub bill_item: i32,
    pub options: String,
    pub revote: String,
    pub updated_by: Option<AccountId>,
    pub updated_at: Timestamp,
}

pub fn settings(
    conn: &mut DbConnection,
    consultation_id: ConsultationId,
) -> Result<Option<Settings>, StoreError> {
    Ok(vote_settings::table
        .find(consultation_id)
        .select(Settings::as_select())
        .load(conn)?
        .pop())
}

/// Replaces the settings of a consultation.
pub fn save_settings(
    conn: &mut DbConnection,
    consultation_id: ConsultationId,
    amendments: Option<&str>,
    bill_item: bool,
    options: &str,
    revote: &str,
    updated_by: AccountId,
) -> Result<(), StoreError> {
    diesel::delete(vote_settings::table.find(consultation_id)).execute(conn)?;
    diesel::insert_into(vote_settings::table)
        .values((
            vote_settings::consultation_id.eq(consultation_id),
            vote_settings::amendments.eq(amendments),
            vote_settings::bill_item.eq(i32::from(bill_item)),
            vote_settings::options.eq(options),
            vote_settings::revote.eq(revote),
            vote_settings::updated_by.eq(Some(updated_by)),
            vote_settings::updated_at.eq(now_rfc3339()),
        ))
        .execute(conn)?;
    Ok(())
}

/// Records that the voter behind `voter_token` chose public disclosure (idempotent).
pub fn add_public_voter(
    conn: &mut DbConnection,
    consultation_id: ConsultationId,
    voter_token: &[u8; 32],
    account_id: AccountId,
) -> Result<(), StoreError> {
    let exists = public_voters::table
        .find((consultation_id, &voter_token[..]))
        .count()
        .get_result::<i64>(conn)?
        > 0;
    if !exists {
        diesel::insert_into(public_voters::table)
            .values((
                public_voters::consultation_id.eq(consultation_id),
                public_voters::voter_token.eq(&voter_token[..]),
                public_voters::account_id.eq(account_id),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// How many voters chose public disclosure.
pub fn public_voter_count(
    conn: &mut DbConnection,
    consultation_id: ConsultationId,
) -> Result<i64, StoreError> {
    Ok(public_voters::table
        .filter(public_voters::consultation_id.eq(consultation_id))
        .count()
        .get_result(conn)?)
}

/// A page of the voters who chose public disclosure, by name: `(display name, token)`.
pub fn public_voters_page(
    conn: &mut DbConnection,
    consultation_id: ConsultationId,
    offset: i64,
    limit: i64,
) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
    Ok(public_voters::table
        .inner_join(accounts::table)
        .filter(public_voters::consultation_id.eq(consultation_id))
        .order((accounts::display_name, accounts::id))
        .select((accounts::display_name, public_voters::voter_token))
        .offset(offset)
        .limit(limit)
        .load(conn)?)
}
