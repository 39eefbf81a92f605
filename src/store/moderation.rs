//! Moderation: reports, the state of moderated items, the hash-chained public log with
//! its private side (who decided, about whom), moderators' pseudonyms, suspensions,
//! appeals, and the rate-limit counters shared by every app server.

use crate::domain::ids::{AccountId, ConsultationId, ReportId};
use crate::domain::time::Timestamp;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer, Text};

use super::schema::{
    appeals, moderation_decisions, moderation_items, moderation_log, moderator_names, reports,
    suspensions,
};
use super::{now_rfc3339, DbConnection, StoreError};
use crate::domain::moderation::{
    entry_hash, AppealStatus, ItemState, Kind, LogRecord, Reason, Rule, GENESIS,
};

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = reports)]
pub struct Report {
    pub id: ReportId,
    pub consultation_id: ConsultationId,
    pub target_kind: Kind,
    pub target_id: i64,
    pub reporter_id: AccountId,
    pub reporter_level: i32,
    pub reason: Reason,
    pub detail: String,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = moderation_items)]
pub struct Item {
    pub target_kind: Kind,
    pub target_id: i64,
    pub consultation_id: ConsultationId,
    pub state: ItemState,
    pub rule: Rule,
    pub reason: String,
    pub open_reports: i32,
    pub queued_at: Option<Timestamp>,
    pub decision_seq: Option<i64>,
}

impl Item {
    pub fn hidden(&self) -> bool {
        self.state.is_hidden()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = moderation_log)]
pub struct LogRow {
    pub seq: i64,
    pub at: String,
    pub action: String,
    pub target_kind: String,
    pub target_ref: String,
    pub consultation_id: Option<ConsultationId>,
    pub rule: String,
    pub reason: String,
    pub moderator: String,
    pub prev_hash: String,
    pub hash: String,
}

impl LogRow {
    pub fn record(&self) -> LogRecord {
        LogRecord {
            seq: self.seq,
            at: self.at.clone(),
            action: self.action.clone(),
            target_kind: self.target_kind.clone(),
            target_ref: self.target_ref.clone(),
            consultation: self.consultation_id,
            rule: self.rule.clone(),
            reason: self.reason.clone(),
            moderator: self.moderator.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = moderation_decisions)]
pub struct Decision {
    pub seq: i64,
    pub moderator_id: Option<AccountId>,
    pub subject_id: Option<AccountId>,
    pub target_id: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = appeals)]
pub struct Appeal {
    pub decision_seq: i64,
    pub author_id: AccountId,
    pub body: String,
    pub created_at: Timestamp,
    pub status: AppealStatus,
    pub decided_by: Option<AccountId>,
    pub decided_at: Option<Timestamp>,
    pub answer: String,
}

pub struct NewReport<'a> {
    pub consultation_id: ConsultationId,
    pub target_kind: Kind,
    pub target_id: i64,
    pub reporter_id: AccountId,
    pub reporter_level: i32,
    pub reason: Reason,
    pub detail: &'a str,
}

/// The report `reporter` made on an item, if any.
pub fn report_by(
    conn: &mut DbConnection,
    target_kind: Kind,
    target_id: i64,
    reporter_id: AccountId,
) -> Result<Option<Report>, StoreError> {
    Ok(reports::table
        .filter(reports::target_kind.eq(target_kind))
        .filter(reports::target_id.eq(target_id))
        .filter(reports::reporter_id.eq(reporter_id))
        .select(Report::as_select())
        .load(conn)?
        .pop())
}

pub fn insert_report(conn: &mut DbConnection, r: &NewReport<'_>) -> Result<Report, StoreError> {
    let now = now_rfc3339();
    diesel::insert_into(reports::table)
        .values((
            reports::consultation_id.eq(r.consultation_id),
            reports::target_kind.eq(r.target_kind),
            reports::target_id.eq(r.target_id),
            reports::reporter_id.eq(r.reporter_id),
            reports::reporter_level.eq(r.reporter_level),
            reports::reason.eq(r.reason),
            reports::detail.eq(r.detail),
            reports::created_at.eq(&now),
        ))
        .execute(conn)?;
    report_by(conn, r.target_kind, r.target_id, r.reporter_id)?
        .ok_or_else(|| StoreError::Invalid("report not found after insert".into()))
}

/// Every report on an item, oldest first.
pub fn reports_on(
    conn: &mut DbConnection,
    target_kind: Kind,
    target_id: i64,
) -> Result<Vec<Report>, StoreError> {
    Ok(reports::table
        .filter(reports::target_kind.eq(target_kind))
        .filter(reports::target_id.eq(target_id))
        .order(reports::id.asc())
        .select(Report::as_select())
        .load(conn)?)
}

pub fn item(
    conn: &mut DbConnection,
    target_kind: Kind,
    target_id: i64,
) -> Result<Option<Item>, StoreError> {
    Ok(moderation_items::table
        .find((target_kind, target_id))
        .select(Item::as_select())
        .load(conn)?
        .pop())
}

/// Writes an item's whole state (insert or replace).
pub fn save_item(conn: &mut DbConnection, i: &Item) -> Result<(), StoreError> {
    let exists = item(conn, i.target_kind, i.target_id)?.is_some();
    let values = (
        moderation_items::consultation_id.eq(i.consultation_id),
        moderation_items::state.eq(&i.state),
        moderation_items::rule.eq(&i.rule),
        moderation_items::reason.eq(&i.reason),
        moderation_items::open_reports.eq(i.open_reports),
        moderation_items::queued_at.eq(&i.queued_at),
        moderation_items::decision_seq.eq(i.decision_seq),
    );
    if exists {
        diesel::update(moderation_items::table.find((&i.target_kind, i.target_id)))
            .set(values)
            .execute(conn)?;
    } else {
        diesel::insert_into(moderation_items::table)
            .values((
                moderation_items::target_kind.eq(&i.target_kind),
                moderation_items::target_id.eq(i.target_id),
                values,
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// The items of a consultation that are hidden (automatically or by a moderator).
pub fn hidden_in(
    conn: &mut DbConnection,
    consultation_id: ConsultationId,
) -> Result<Vec<Item>, StoreError> {
    Ok(moderation_items::table
        .filter(moderation_items::consultation_id.eq(consultation_id))
        .filter(moderation_items::state.ne(ItemState::Visible))
        .select(Item::as_select())
        .load(conn)?)
}

/// What the moderation queue is filtered on.
#[derive(Debug, Clone, Default)]
pub struct QueueFilter {
    pub kind: Option<Kind>,
    pub consultation: Option<ConsultationId>,
    /// Only items hidden automatically and waiting for a moderator.
    pub hidden_only: bool,
}

fn queue_query(f: &QueueFilter) -> moderation_items::BoxedQuery<'static, super::MultiBackend> {
    let mut q = moderation_items::table
        .filter(moderation_items::open_reports.gt(0))
        .into_boxed();
    if let Some(k) = f.kind {
        q = q.filter(moderation_items::target_kind.eq(k));
    }
    if let Some(c) = f.consultation {
        q = q.filter(moderation_items::consultation_id.eq(c));
    }
    if f.hidden_only {
        q = q.filter(moderation_items::state.eq(ItemState::HiddenAuto));
    }
    q
}

/// Items with reports no moderator has looked at, oldest report first.
pub fn queue(
    conn: &mut DbConnection,
    f: &QueueFilter,
    offset: i64,
    limit: i64,
) -> Result<Vec<Item>, StoreError> {
    Ok(queue_query(f)
        .order((
            moderation_items::queued_at.asc(),
            moderation_items::target_id.asc(),
        ))
        .offset(offset)
        .limit(limit)
        .select(Item::as_select())
        .load(conn)?)
}

pub fn queue_count(conn: &mut DbConnection, f: &QueueFilter) -> Result<i64, StoreError> {
    Ok(queue_query(f).count().get_result(conn)?)
}

/// Serializes writers of the log. SQLite: the caller's `BEGIN IMMEDIATE` already holds
/// the write lock. PostgreSQL: a transaction-scoped advisory lock, so two app servers
/// cannot both append entry N.
fn lock_log(conn: &mut DbConnection) -> Result<(), StoreError> {
    if let DbConnection::Pg(c) = conn {
        // "moderation" in ASCII, as the lock's key.
        diesel::sql_query("SELECT pg_advisory_xact_lock($1)")
            .bind::<BigInt, _>(0x6d6f_6465_7261_7469_i64)
            .execute(c)?;
    }
    Ok(())
}

pub fn last_entry(conn: &mut DbConnection) -> Result<Option<LogRow>, StoreError> {
    Ok(moderation_log::table
        .order(moderation_log::seq.desc())
        .limit(1)
        .select(LogRow::as_select())
        .load(conn)?
        .pop())
}

/// The private side of an entry.
pub struct Private {
    pub moderator_id: Option<AccountId>,
    pub subject_id: Option<AccountId>,
    pub target_id: Option<i64>,
}

/// Appends a decision to the log (its sequence number, time and hashes are set here)
/// with its private side. Call in a transaction.
pub fn append(
    conn: &mut DbConnection,
    mut record: LogRecord,
    private: &Private,
) -> Result<LogRow, StoreError> {
    lock_log(conn)?;
    let last = last_entry(conn)?;
    record.seq = last.as_ref().map_or(1, |l| l.seq + 1);
    record.at = now_rfc3339();
    let prev = last.map_or_else(|| GENESIS.to_string(), |l| l.hash);
    let hash = entry_hash(&prev, &record);
    diesel::insert_into(moderation_log::table)
        .values((
            moderation_log::seq.eq(record.seq),
            moderation_log::at.eq(&record.at),
            moderation_log::action.eq(&record.action),
            moderation_log::target_kind.eq(&record.target_kind),
            moderation_log::target_ref.eq(&record.target_ref),
            moderation_log::consultation_id.eq(record.consultation),
            moderation_log::rule.eq(&record.rule),
            moderation_log::reason.eq(&record.reason),
            moderation_log::moderator.eq(&record.moderator),
            moderation_log::prev_hash.eq(&prev),
            moderation_log::hash.eq(&hash),
        ))
        .execute(conn)?;
    diesel::insert_into(moderation_decisions::table)
        .values((
            moderation_decisions::seq.eq(record.seq),
            moderation_decisions::moderator_id.eq(private.moderator_id),
            moderation_decisions::subject_id.eq(private.subject_id),
            moderation_decisions::target_id.eq(private.target_id),
        ))
        .execute(conn)?;
    entry(conn, record.seq)?.ok_or_else(|| StoreError::Invalid("log entry not written".into()))
}

pub fn entry(conn: &mut DbConnection, seq: i64) -> Result<Option<LogRow>, StoreError> {
    Ok(moderation_log::table
        .find(seq)
        .select(LogRow::as_select())
        .load(conn)?
        .pop())
}

pub fn decision(conn: &mut DbConnection, seq: i64) -> Result<Option<Decision>, StoreError> {
    Ok(moderation_decisions::table
        .find(seq)
        .select(Decision::as_select())
        .load(conn)?
        .pop())
}

/// Entries after `after` in sequence order, at most `limit` (to walk the whole log in
/// bounded memory).
pub fn entries_after(
    conn: &mut DbConnection,
    after: i64,
    limit: i64,
) -> Result<Vec<LogRow>, StoreError> {
    Ok(moderation_log::table
        .filter(moderation_log::seq.gt(after))
        .order(moderation_log::seq.asc())
        .limit(limit)
        .select(LogRow::as_select())
        .load(conn)?)
}

/// A page of the log, newest first.
pub fn log_page(
    conn: &mut DbConnection,
    offset: i64,
    limit: i64,
) -> Result<Vec<LogRow>, StoreError> {
    Ok(moderation_log::table
        .order(moderation_log::seq.desc())
        .offset(offset)
        .limit(limit)
        .select(LogRow::as_select())
        .load(conn)?)
}

pub fn log_size(conn: &mut DbConnection) -> Result<i64, StoreError> {
    Ok(moderation_log::table.count().get_result(conn)?)
}

/// The decisions concerning a person (about their content or their account), newest
/// first.
pub fn decisions_about(
    conn: &mut DbConnection,
    subject_id: AccountId,
) -> Result<Vec<LogRow>, StoreError> {
    let seqs: Vec<i64> = moderation_decisions::table
        .filter(moderation_decisions::subject_id.eq(subject_id))
        .select(moderation_decisions::seq)
        .load(conn)?;
    Ok(moderation_log::table
        .filter(moderation_log::seq.eq_any(seqs))
        .order(moderation_log::seq.desc())
        .select(LogRow::as_select())
        .load(conn)?)
}

/// The moderator's public pseudonym in the log (`mod-N`, given at their first decision).
pub fn moderator_name(
    conn: &mut DbConnection,
    account_id: AccountId,
) -> Result<String, StoreError> {
    if let Some(p) = moderator_names::table
        .find(account_id)
        .select(moderator_names::pseudonym)
        .load::<String>(conn)?
        .pop()
    {
        return Ok(p);
    }
    let n: i64 = moderator_names::table.count().get_result(conn)?;
    let pseudonym = format!("mod-{}", n + 1);
    diesel::insert_into(moderator_names::table)
        .values((
            moderator_names::account_id.eq(account_id),
            moderator_names::pseudonym.eq(&pseudonym),
        ))
        .execute(conn)?;
    Ok(pseudonym)
}

pub fn suspend(
    conn: &mut DbConnection,
    account_id: AccountId,
    decision_seq: i64,
    until: &str,
) -> Result<(), StoreError> {
    diesel::insert_into(suspensions::table)
        .values((
            suspensions::account_id.eq(account_id),
            suspensions::decision_seq.eq(decision_seq),
            suspensions::until.eq(until),
            suspensions::lifted.eq(0),
        ))
        .execute(conn)?;
    Ok(())
}

/// The end of the latest suspension of an account still running at `now` (RFC 3339).
pub fn suspended_until(
    conn: &mut DbConnection,
    account_id: AccountId,
    now: &str,
) -> Result<Option<String>, StoreError> {
    Ok(suspensions::table
        .filter(suspensions::account_id.eq(account_id))
        .filter(suspensions::lifted.eq(0))
        .filter(suspensions::until.gt(now))
        .select(diesel::dsl::max(suspensions::until))
        .get_result::<Option<String>>(conn)?)
}

pub fn lift_suspension(conn: &mut DbConnection, decision_seq: i64) -> Result<(), StoreError> {
    diesel::update(suspensions::table.filter(suspensions::decision_seq.eq(decision_seq)))
        .set(suspensions::lifted.eq(1))
        .execute(conn)?;
    Ok(())
}

pub fn appeal(conn: &mut DbConnection, decision_seq: i64) -> Result<Option<Appeal>, StoreError> {
    Ok(appeals::table
        .find(decision_seq)
        .select(Appeal::as_select())
        .load(conn)?
        .pop())
}

pub fn insert_appeal(
    conn: &mut DbConnection,
    decision_seq: i64,
    author_id: AccountId,
    body: &str,
) -> Result<(), StoreError> {
    diesel::insert_into(appeals::table)
        .values((
            appeals::decision_seq.eq(decision_seq),
            appeals::author_id.eq(author_id),
            appeals::body.eq(body),
            appeals::created_at.eq(now_rfc3339()),
            appeals::status.eq(AppealStatus::Pending),
            appeals::answer.eq(""),
        ))
        .execute(conn)?;
    Ok(())
}

/// Pending appeals, oldest first.
pub fn pending_appeals(conn: &mut DbConnection, limit: i64) -> Result<Vec<Appeal>, StoreError> {
    Ok(appeals::table
        .filter(appeals::status.eq(AppealStatus::Pending))
        .order(appeals::created_at.asc())
        .limit(limit)
        .select(Appeal::as_select())
        .load(conn)?)
}

/// Records the outcome of a pending appeal; false if it was no longer pending.
pub fn decide_appeal(
    conn: &mut DbConnection,
    decision_seq: i64,
    status: AppealStatus,
    decided_by: AccountId,
    answer: &str,
) -> Result<bool, StoreError> {
    let n = diesel::update(
        appeals::table
            .find(decision_seq)
            .filter(appeals::status.eq(AppealStatus::Pending)),
    )
    .set((
        appeals::status.eq(status),
        appeals::decided_by.eq(decided_by),
        appeals::decided_at.eq(now_rfc3339()),
        appeals::answer.eq(answer),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

#[derive(QueryableByName)]
struct Hits {
    #[diesel(sql_type = Integer)]
    hits: i32,
}

/// Counts one hit in `bucket`'s window starting at `window_start` and returns the hits
/// of that window so far. One statement, atomic on both backends, so that app servers
/// sharing the database share the count.
pub fn hit(conn: &mut DbConnection, bucket: &str, window_start: i64) -> Result<i32, StoreError> {
    const PG: &str = "INSERT INTO rate_limits (bucket, window_start, hits) VALUES ($1, $2, 1) \
         ON CONFLICT (bucket, window_start) DO UPDATE SET hits = rate_limits.hits + 1 \
         RETURNING hits";
    const SQLITE: &str = "INSERT INTO rate_limits (bucket, window_start, hits) VALUES (?, ?, 1) \
         ON CONFLICT (bucket, window_start) DO UPDATE SET hits = rate_limits.hits + 1 \
         RETURNING hits";
    let row: Hits = match conn {
        DbConnection::Sqlite(c) => diesel::sql_query(SQLITE)
            .bind::<Text, _>(bucket)
            .bind::<BigInt, _>(window_start)
            .get_result(c)?,
        DbConnection::Pg(c) => diesel::sql_query(PG)
            .bind::<Text, _>(bucket)
            .bind::<BigInt, _>(window_start)
            .get_result(c)?,
    };
    Ok(row.hits)
}

/// Forgets windows that ended before `before` (seconds since the epoch).
pub fn forget_windows(conn: &mut DbConnection, before: i64) -> Result<usize, StoreError> {
    use super::schema::rate_limits;
    Ok(
        diesel::delete(rate_limits::table.filter(rate_limits::window_start.lt(before)))
            .execute(conn)?,
    )
}
