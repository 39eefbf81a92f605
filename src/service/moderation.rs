//! Moderation (docs/moderation.md): reports and automatic hiding, the moderators'
//! queue and decisions, suspensions, appeals decided by another moderator, the public
//! hash-chained log and its verification, and rate limits shared by every app server.
//!
//! Every decision is written to the public log in the same transaction as its effect,
//! so the log and the state of the content never disagree.

use crate::domain::ids::{AccountId, AmendmentId, CommentId, ConsultationId};
use std::collections::HashMap;

use crate::domain::amendment::display_number;
use crate::domain::conflict::{self, Concerned, Conflict, Deciders};
use crate::domain::identity::Role;
use crate::domain::moderation::{
    self as rules, Action, AppealStatus, ChainCheck, ChainError, ItemState, LogRecord, Reason, Rule,
};
use crate::domain::time::Timestamp;
use crate::service::identity::SessionInfo;
use crate::store::moderation::{self as db, Appeal, Item, LogRow, Private, QueueFilter, Report};
use crate::store::{self, DbConnection, Store, StoreError};
use serde_json::json;

#[derive(Debug, thiserror::Error)]
pub enum ModerationError {
    #[error("no such content, decision or appeal")]
    NotFound,
    /// Bad input; `reason` is an i18n key.
    #[error("{field}: {reason}")]
    Invalid {
        field: &'static str,
        reason: &'static str,
    },
    #[error("you have already reported this")]
    AlreadyReported,
    #[error("moderators only")]
    ModeratorsOnly,
    /// Nobody decides about themselves (`domain::conflict`).
    #[error("refused: this decision concerns you ({})", .0.as_str())]
    Conflict(Conflict),
    #[error("this decision does not concern you")]
    NotYours,
    #[error("this decision has already been appealed")]
    AlreadyAppealed,
    #[error("this decision cannot be appealed")]
    NotAppealable,
    #[error("this appeal has already been decided")]
    AlreadyDecided,
    #[error("your account is suspended until {0}")]
    Suspended(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn invalid<T>(field: &'static str, reason: &'static str) -> Result<T, ModerationError> {
    Err(ModerationError::Invalid { field, reason })
}

impl crate::service::MaybeConflict for ModerationError {
    fn conflict(&self) -> Option<Conflict> {
        match self {
            ModerationError::Conflict(c) => Some(*c),
            _ => None,
        }
    }
}

/// Refuses a moderator's decision that concerns them (`domain::conflict`).
fn no_conflict(who: &SessionInfo, concerned: Concerned) -> Result<(), ModerationError> {
    conflict::check(who.account.id, concerned, Deciders::Moderators)
        .map_err(ModerationError::Conflict)
}

fn moderator_only(who: &SessionInfo) -> Result<(), ModerationError> {
    if who.has_role(Role::Moderator) {
        Ok(())
    } else {
        Err(ModerationError::ModeratorsOnly)
    }
}

pub use crate::domain::moderation::Kind;

/// A reported or moderated contribution, as moderators see it.
#[derive(Debug, Clone)]
pub struct Content {
    pub kind: Kind,
    pub id: i64,
    pub consultation_id: ConsultationId,
    pub author_id: AccountId,
    pub author_label: String,
    pub author_level: i32,
    /// Comment id or amendment number, as published.
    pub public_ref: String,
    /// Where it is shown.
    pub href: String,
    /// The comment's body or the amendment's justification (markdown), and its quote.
    pub body: String,
    pub quote: String,
}

/// Finds a comment or an amendment.
pub fn content(
    conn: &mut DbConnection,
    kind: Kind,
    id: i64,
) -> Result<Option<Content>, ModerationError> {
    // A moderation target is a (kind, number) pair (one `target_id` column for two
    // tables); here the kind says which typed id the number is.
    Ok(match kind {
        Kind::Comment => {
            let Some(c) = store::comments::by_id(conn, CommentId::new(id))? else {
                return Ok(None);
            };
            let href = match c.amendment_id {
                Some(a) => match store::amendments::by_id(conn, a)? {
                    Some(a) => {
                        let slug = store::bills::by_id(conn, a.bill_id)?
                            .map(|b| b.slug)
                            .unwrap_or_default();
                        format!("/bills/{slug}/amendments/{}#comment-{}", a.number, c.id)
                    }
                    None => String::new(),
                },
                None => format!(
                    "/consultations/{}/articles/{}#comment-{}",
                    c.consultation_id, c.article_wid, c.id
                ),
            };
            Some(Content {
                kind,
                id,
                consultation_id: c.consultation_id,
                author_id: c.author_id,
                author_label: c.author_label,
                author_level: c.author_level,
                public_ref: c.id.to_string(),
                href,
                body: c.body,
                quote: c.quote,
            })
        }
        Kind::Amendment => {
            let Some(a) = store::amendments::by_id(conn, AmendmentId::new(id))? else {
                return Ok(None);
            };
            let slug = store::bills::by_id(conn, a.bill_id)?
                .map(|b| b.slug)
                .unwrap_or_default();
            let body = store::amendments::revision(conn, a.id, a.revision)?
                .map(|r| r.justification)
                .unwrap_or_default();
            Some(Content {
                kind,
                id,
                consultation_id: a.consultation_id,
                author_id: a.author_id,
                author_label: a.author_label,
                author_level: a.author_level,
                public_ref: display_number(&slug, a.number),
                href: format!("/bills/{slug}/amendments/{}", a.number),
                body,
                quote: String::new(),
            })
        }
    })
}

/// An account suspended until `until` (as stored, UTC): every posting, reporting and
/// voting use case's error takes it, as its own `Suspended` case.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("your account is suspended until {until}")]
pub struct Suspended {
    pub until: String,
}

impl From<Suspended> for ModerationError {
    fn from(s: Suspended) -> Self {
        ModerationError::Suspended(s.until)
    }
}

/// Refuses people whose account is suspended at `now` (checked by every posting,
/// reporting and voting use case, inside its transaction or just before it).
pub fn ensure_active(
    conn: &mut DbConnection,
    account_id: AccountId,
    now: Timestamp,
) -> Result<(), Suspended> {
    match db::suspended_until(conn, account_id, &now.rfc3339()) {
        Ok(None) => Ok(()),
        Ok(Some(until)) => Err(Suspended { until }),
        // Failing closed would lock everybody out on a storage hiccup; the write that
        // follows fails on the same database anyway.
        Err(_) => Ok(()),
    }
}

fn check_active(
    store: &Store,
    conn: &mut DbConnection,
    who: &SessionInfo,
) -> Result<(), ModerationError> {
    Ok(ensure_active(conn, who.account.id, store.clock().now())?)
}

/// What a report led to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reported {
    pub report: Report,
    /// The report brought the qualifying reports to the threshold: the content is now
    /// hidden until a moderator decides.
    pub hidden_now: bool,
}

/// A signed-in person reports a comment or an amendment, once per item. At `threshold`
/// reports from distinct people at level 1 or more, the item is hidden until a
/// moderator decides (0: never automatically).
pub fn report(
    store: &Store,
    who: &SessionInfo,
    kind: Kind,
    id: i64,
    reason: Reason,
    detail: &str,
    threshold: u32,
) -> Result<Reported, ModerationError> {
    let Some(detail) = rules::clean_text(detail) else {
        return invalid("detail", "err_text_too_long");
    };
    if reason == Reason::Other && detail.is_empty() {
        return invalid("detail", "err_report_other_needs_text");
    }
    store.transaction(|conn| {
        check_active(store, conn, who)?;
        let c = content(conn, kind, id)?.ok_or(ModerationError::NotFound)?;
        if db::report_by(conn, kind, id, who.account.id)?.is_some() {
            return Err(ModerationError::AlreadyReported);
        }
        let report = db::insert_report(
            conn,
            &db::NewReport {
                consultation_id: c.consultation_id,
                target_kind: kind,
                target_id: id,
                reporter_id: who.account.id,
                reporter_level: i32::from(who.level().get()),
                reason,
                detail: &detail,
            },
        )?;
        let mut item = db::item(conn, kind, id)?.unwrap_or(Item {
            target_kind: kind,
            target_id: id,
            consultation_id: c.consultation_id,
            state: ItemState::Visible,
            rule: Rule::Unset,
            reason: String::new(),
            open_reports: 0,
            queued_at: None,
            decision_seq: None,
        });
        item.open_reports += 1;
        if item.queued_at.is_none() {
            item.queued_at = Some(report.created_at);
        }
        let moderator_decided = match item.decision_seq {
            Some(seq) => db::decision(conn, seq)?.is_some_and(|d| d.moderator_id.is_some()),
            None => false,
        };
        let all = db::reports_on(conn, kind, id)?;
        let qualifying = all.iter().filter(|r| r.reporter_level >= 1).count();
        let hidden_now = item.state == ItemState::Visible
            && rules::auto_hides(
                u32::try_from(qualifying).unwrap_or(u32::MAX),
                threshold,
                moderator_decided,
            );
        if hidden_now {
            let entry = db::append(
                conn,
                record(Action::AutoHide, &c, Rule::Reports, "", ""),
                &Private {
                    moderator_id: None,
                    subject_id: Some(c.author_id),
                    target_id: Some(id),
                },
            )?;
            item.state = ItemState::HiddenAuto;
            item.rule = Rule::Reports;
            item.reason = String::new();
            item.decision_seq = Some(entry.seq);
        }
        db::save_item(conn, &item)?;
        store::audit::record(
            conn,
            Some(who.account.id),
            "report",
            None,
            &json!({"kind": kind.as_str(), "id": id, "reason": reason.as_str()}),
        )?;
        Ok(Reported { report, hidden_now })
    })
}

fn record(action: Action, c: &Content, rule: Rule, reason: &str, moderator: &str) -> LogRecord {
    LogRecord {
        seq: 0,
        at: String::new(),
        action: action.as_str().into(),
        target_kind: c.kind.as_str().into(),
        target_ref: c.public_ref.clone(),
        consultation: Some(c.consultation_id),
        rule: rule.as_str().into(),
        reason: reason.into(),
        moderator: moderator.into(),
    }
}

/// A moderator's decision on content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Hide it under a rule.
    Hide(Reason),
    /// Show it again (or confirm it stays shown).
    Restore,
}

fn public_reason(text: &str) -> Result<String, ModerationError> {
    match rules::clean_text(text) {
        None => invalid("reason", "err_text_too_long"),
        Some(t) if t.is_empty() => invalid("reason", "err_public_reason_required"),
        Some(t) => Ok(t),
    }
}

/// A moderator hides or restores content, with a reason shown publicly in its place
/// (and in the log). The reports on it leave the queue.
pub fn decide(
    store: &Store,
    who: &SessionInfo,
    kind: Kind,
    id: i64,
    verdict: Verdict,
    reason: &str,
) -> Result<LogRow, ModerationError> {
    moderator_only(who)?;
    let reason = public_reason(reason)?;
    let result = store.transaction(|conn| {
        let c = content(conn, kind, id)?.ok_or(ModerationError::NotFound)?;
        // Neither hiding nor restoring one's own contribution.
        no_conflict(
            who,
            Concerned {
                author: Some(c.author_id),
                ..Concerned::default()
            },
        )?;
        let name = db::moderator_name(conn, who.account.id)?;
        let (action, rule, state) = match verdict {
            Verdict::Hide(r) => (Action::Hide, Rule::from(r), ItemState::Hidden),
            Verdict::Restore => (Action::Restore, Rule::Unset, ItemState::Visible),
        };
        let entry = db::append(
            conn,
            record(action, &c, rule, &reason, &name),
            &Private {
                moderator_id: Some(who.account.id),
                subject_id: Some(c.author_id),
                target_id: Some(id),
            },
        )?;
        db::save_item(
            conn,
            &Item {
                target_kind: kind,
                target_id: id,
                consultation_id: c.consultation_id,
                state,
                rule,
                reason: reason.clone(),
                open_reports: 0,
                queued_at: None,
                decision_seq: Some(entry.seq),
            },
        )?;
        Ok(entry)
    });
    let target = json!({"kind": kind.as_str(), "id": id});
    crate::service::audit_refusal(store, who, "moderate", target, result)
}

/// The longest suspension, in days.
pub const MAX_SUSPENSION_DAYS: u32 = 365;

/// A moderator suspends the author of a contribution for `days`: they can still read
/// and sign in, but not post, report or vote until then.
pub fn suspend_author(
    store: &Store,
    who: &SessionInfo,
    kind: Kind,
    id: i64,
    days: u32,
    reason: &str,
) -> Result<LogRow, ModerationError> {
    moderator_only(who)?;
    if days == 0 || days > MAX_SUSPENSION_DAYS {
        return invalid("days", "err_suspension_days");
    }
    let reason = public_reason(reason)?;
    let result = store.transaction(|conn| {
        let c = content(conn, kind, id)?.ok_or(ModerationError::NotFound)?;
        no_conflict(
            who,
            Concerned {
                author: Some(c.author_id),
                subject: Some(c.author_id),
                decided_by: None,
            },
        )?;
        let name = db::moderator_name(conn, who.account.id)?;
        let until = store
            .clock()
            .now()
            .plus(time::Duration::days(i64::from(days)))
            .rfc3339();
        let entry = db::append(
            conn,
            LogRecord {
                target_kind: "account".into(),
                target_ref: String::new(),
                ..record(Action::Suspend, &c, Rule::Unset, &reason, &name)
            },
            &Private {
                moderator_id: Some(who.account.id),
                subject_id: Some(c.author_id),
                target_id: None,
            },
        )?;
        db::suspend(conn, c.author_id, entry.seq, &until)?;
        Ok(entry)
    });
    let target = json!({"kind": kind.as_str(), "id": id});
    crate::service::audit_refusal(store, who, "suspend", target, result)
}

/// The person a decision concerns appeals it, once, with their reasons.
pub fn appeal(
    store: &Store,
    who: &SessionInfo,
    seq: i64,
    body: &str,
) -> Result<(), ModerationError> {
    let body = match rules::clean_text(body) {
        None => return invalid("body", "err_text_too_long"),
        Some(b) if b.is_empty() => return invalid("body", "err_appeal_required"),
        Some(b) => b,
    };
    store.transaction(|conn| {
        let entry = db::entry(conn, seq)?.ok_or(ModerationError::NotFound)?;
        let decision = db::decision(conn, seq)?.ok_or(ModerationError::NotFound)?;
        if decision.subject_id != Some(who.account.id) {
            return Err(ModerationError::NotYours);
        }
        if !Action::parse(&entry.action).is_some_and(Action::appealable) {
            return Err(ModerationError::NotAppealable);
        }
        if db::appeal(conn, seq)?.is_some() {
            return Err(ModerationError::AlreadyAppealed);
        }
        db::insert_appeal(conn, seq, who.account.id, &body)?;
        Ok(())
    })
}

/// Another moderator upholds or overturns an appealed decision, with a public answer.
/// Overturning a hiding shows the content again; overturning a suspension lifts it.
pub fn decide_appeal(
    store: &Store,
    who: &SessionInfo,
    seq: i64,
    uphold: bool,
    answer: &str,
) -> Result<LogRow, ModerationError> {
    moderator_only(who)?;
    let answer = public_reason(answer)?;
    let result = store.transaction(|conn| {
        let appeal = db::appeal(conn, seq)?.ok_or(ModerationError::NotFound)?;
        if appeal.status != AppealStatus::Pending {
            return Err(ModerationError::AlreadyDecided);
        }
        let original = db::entry(conn, seq)?.ok_or(ModerationError::NotFound)?;
        let decision = db::decision(conn, seq)?.ok_or(ModerationError::NotFound)?;
        // Not the moderator who decided, nor the person the decision is about (a
        // moderator appealing their own suspension).
        no_conflict(
            who,
            Concerned {
                author: None,
                subject: decision.subject_id,
                decided_by: decision.moderator_id,
            },
        )?;
        let name = db::moderator_name(conn, who.account.id)?;
        let action = if uphold {
            Action::AppealUpheld
        } else {
            Action::AppealOverturned
        };
        let entry = db::append(
            conn,
            LogRecord {
                seq: 0,
                at: String::new(),
                action: action.as_str().into(),
                target_kind: original.target_kind.clone(),
                target_ref: original.target_ref.clone(),
                consultation: original.consultation_id,
                rule: original.rule.clone(),
                reason: answer.clone(),
                moderator: name,
            },
            &Private {
                moderator_id: Some(who.account.id),
                subject_id: decision.subject_id,
                target_id: decision.target_id,
            },
        )?;
        if !db::decide_appeal(
            conn,
            seq,
            if uphold {
                AppealStatus::Upheld
            } else {
                AppealStatus::Overturned
            },
            who.account.id,
            &answer,
        )? {
            return Err(ModerationError::AlreadyDecided);
        }
        if !uphold {
            if Action::parse(&original.action) == Some(Action::Suspend) {
                db::lift_suspension(conn, seq)?;
            } else if let (Some(kind), Some(id)) =
                (Kind::parse(&original.target_kind), decision.target_id)
            {
                // Shown again, unless a later decision already changed it.
                if let Some(mut item) = db::item(conn, kind, id)? {
                    if item.decision_seq == Some(seq) {
                        item.state = ItemState::Visible;
                        item.rule = Rule::Unset;
                        item.reason = answer.clone();
                        item.decision_seq = Some(entry.seq);
                        db::save_item(conn, &item)?;
                    }
                }
            }
        }
        Ok(entry)
    });
    crate::service::audit_refusal(store, who, "decide_appeal", json!({"appeal": seq}), result)
}

/// How hidden content is shown in place of itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hidden {
    /// The rule (`spam`…, or `reports` while waiting for a moderator).
    pub rule: Rule,
    /// The moderator's public reason ('' when hidden automatically).
    pub reason: String,
    /// Whether signed-in people may still read it in the moderated view.
    pub readable: bool,
    /// The log entry of the decision.
    pub seq: Option<i64>,
}

/// The hidden contributions of a consultation, by kind and id.
pub fn hidden_in(
    conn: &mut DbConnection,
    consultation_id: ConsultationId,
) -> Result<HashMap<(Kind, i64), Hidden>, StoreError> {
    let mut out = HashMap::new();
    for item in db::hidden_in(conn, consultation_id)? {
        let kind = item.target_kind;
        let reasons: Vec<Reason> = if item.rule == Rule::Reports {
            db::reports_on(conn, kind, item.target_id)?
                .iter()
                .map(|r| r.reason)
                .collect()
        } else {
            Vec::new()
        };
        out.insert(
            (kind, item.target_id),
            Hidden {
                readable: rules::readable_when_hidden(item.rule, &reasons),
                rule: item.rule,
                reason: item.reason,
                seq: item.decision_seq,
            },
        );
    }
    Ok(out)
}

/// One item of the moderators' queue.
#[derive(Debug, Clone)]
pub struct QueueEntry {
    pub item: Item,
    pub content: Content,
    pub reports: Vec<Report>,
}

/// Items per page of the queue.
pub const QUEUE_PAGE: i64 = 20;

/// The moderators' queue, oldest report first, and how many items it holds.
pub fn queue(
    store: &Store,
    who: &SessionInfo,
    filter: &QueueFilter,
    page: i64,
) -> Result<(Vec<QueueEntry>, i64), ModerationError> {
    moderator_only(who)?;
    let mut conn = store.conn()?;
    let total = db::queue_count(&mut conn, filter)?;
    let items = db::queue(
        &mut conn,
        filter,
        (page.max(1) - 1) * QUEUE_PAGE,
        QUEUE_PAGE,
    )?;
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        let Some(content) = content(&mut conn, item.target_kind, item.target_id)? else {
            continue;
        };
        let reports = db::reports_on(&mut conn, item.target_kind, item.target_id)?;
        out.push(QueueEntry {
            item,
            content,
            reports,
        });
    }
    Ok((out, total))
}

/// A pending appeal with the decision it is against.
#[derive(Debug, Clone)]
pub struct AppealEntry {
    pub appeal: Appeal,
    pub decision: LogRow,
    /// Why the viewer may not decide it (their own decision, or one about them), if so.
    pub conflict: Option<Conflict>,
    pub content: Option<Content>,
}

pub fn pending_appeals(
    store: &Store,
    who: &SessionInfo,
) -> Result<Vec<AppealEntry>, ModerationError> {
    moderator_only(who)?;
    let mut conn = store.conn()?;
    let mut out = Vec::new();
    for appeal in db::pending_appeals(&mut conn, 200)? {
        let Some(decision) = db::entry(&mut conn, appeal.decision_seq)? else {
            continue;
        };
        let private = db::decision(&mut conn, appeal.decision_seq)?;
        let content = match (
            Kind::parse(&decision.target_kind),
            private.as_ref().and_then(|p| p.target_id),
        ) {
            (Some(k), Some(id)) => content(&mut conn, k, id)?,
            _ => None,
        };
        out.push(AppealEntry {
            conflict: conflict::check(
                who.account.id,
                Concerned {
                    author: None,
                    subject: private.as_ref().and_then(|p| p.subject_id),
                    decided_by: private.as_ref().and_then(|p| p.moderator_id),
                },
                Deciders::Moderators,
            )
            .err(),
            appeal,
            decision,
            content,
        });
    }
    Ok(out)
}

/// Whether the person a decision concerns may still appeal it: an appealable action,
/// not appealed yet (what [`appeal`] refuses otherwise).
pub fn may_appeal(decision: &LogRow, appeal: Option<&Appeal>) -> bool {
    appeal.is_none() && Action::parse(&decision.action).is_some_and(Action::appealable)
}

/// Why a moderator may not decide on a contribution (they wrote it), if so: the queue
/// then says so instead of offering the decision (what [`decide`] refuses).
pub fn conflict_on(who: &SessionInfo, c: &Content) -> Option<Conflict> {
    no_conflict(
        who,
        Concerned {
            author: Some(c.author_id),
            ..Concerned::default()
        },
    )
    .err()
    .and_then(|e| crate::service::MaybeConflict::conflict(&e))
}

/// Whether a signed-in person is offered to report a contribution: anyone's but their
/// own.
pub fn may_report(who: &SessionInfo, author_id: AccountId) -> bool {
    who.account.id != author_id
}

/// The decisions concerning the viewer, each with its appeal if any.
pub fn my_decisions(
    store: &Store,
    who: &SessionInfo,
) -> Result<Vec<(LogRow, Option<Appeal>)>, ModerationError> {
    let mut conn = store.conn()?;
    let rows = db::decisions_about(&mut conn, who.account.id)?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let a = db::appeal(&mut conn, r.seq)?;
        out.push((r, a));
    }
    Ok(out)
}

/// The end of the viewer's current suspension, if any.
pub fn my_suspension(store: &Store, who: &SessionInfo) -> Result<Option<String>, StoreError> {
    let mut conn = store.conn()?;
    db::suspended_until(&mut conn, who.account.id, &store.clock().now().rfc3339())
}

/// Entries per page of the public log.
pub const LOG_PAGE: i64 = 50;

/// A page of the public log (newest first) and its size.
pub fn log_page(store: &Store, page: i64) -> Result<(Vec<LogRow>, i64), StoreError> {
    let mut conn = store.conn()?;
    let size = db::log_size(&mut conn)?;
    let rows = db::log_page(&mut conn, (page.max(1) - 1) * LOG_PAGE, LOG_PAGE)?;
    Ok((rows, size))
}

/// Walks the whole log in sequence order, a thousand entries at a time.
pub fn each_entry(
    store: &Store,
    mut f: impl FnMut(&LogRow) -> Result<(), ChainError>,
) -> Result<Result<(), ChainError>, StoreError> {
    let mut conn = store.conn()?;
    let mut after = 0;
    loop {
        let rows = db::entries_after(&mut conn, after, 1000)?;
        let Some(last) = rows.last() else {
            return Ok(Ok(()));
        };
        after = last.seq;
        for r in &rows {
            if let Err(e) = f(r) {
                return Ok(Err(e));
            }
        }
    }
}

/// Recomputes the chain of the whole log: its size and head hash, or where it breaks.
pub fn verify_log(store: &Store) -> Result<Result<(i64, String), ChainError>, StoreError> {
    let mut check = ChainCheck::default();
    Ok(
        each_entry(store, |r| check.push(&r.record(), &r.prev_hash, &r.hash))?
            .map(|()| (check.size(), check.head().to_string())),
    )
}

/// The columns of `moderation_log.csv` (docs/moderation.md): everything the chain
/// hashes, plus the hashes.
pub const LOG_CSV_HEADER: [&str; 11] = [
    "seq",
    "at",
    "action",
    "target_kind",
    "target_ref",
    "consultation",
    "rule",
    "reason",
    "moderator",
    "prev_hash",
    "hash",
];

/// Why the log could not be written out.
#[derive(Debug, thiserror::Error)]
pub enum LogCsvError {
    #[error(transparent)]
    Csv(#[from] csv::Error),
    #[error(transparent)]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Chain(#[from] ChainError),
}

/// Writes the whole log as CSV, a thousand rows at a time.
pub fn write_log_csv(store: &Store, out: impl std::io::Write) -> Result<(), LogCsvError> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(LOG_CSV_HEADER)?;
    let mut failed = None;
    each_entry(store, |r| {
        let consultation = r.consultation_id.map(|c| c.to_string()).unwrap_or_default();
        if let Err(e) = w.write_record([
            r.seq.to_string().as_str(),
            &r.at,
            &r.action,
            &r.target_kind,
            &r.target_ref,
            &consultation,
            &r.rule,
            &r.reason,
            &r.moderator,
            &r.prev_hash,
            &r.hash,
        ]) {
            failed.get_or_insert(e);
        }
        Ok(())
    })??;
    if let Some(e) = failed {
        return Err(e.into());
    }
    Ok(w.flush()?)
}

/// A rate limit (a pure type of `domain`, where `config` reads it; named here too, where
/// it is counted).
pub use crate::domain::moderation::Limit;

pub const ADDRESS_FACTOR: u32 = 10;

/// Counts one action of `account` from `address` under `what` (`post`, `report`,
/// `vote`). `Err(seconds)` when over the limit: how long until the window resets.
pub fn rate_limit(
    store: &Store,
    what: &str,
    limit: Limit,
    account: AccountId,
    address: Option<&str>,
) -> Result<Result<(), i64>, StoreError> {
    let now = store.clock().now().unix();
    rate_limit_at(store, what, limit, account, address, now)
}

/// [`rate_limit`] at `now` (Unix seconds): the clock is a parameter, so that tests walk
/// through windows without waiting for them.
pub fn rate_limit_at(
    store: &Store,
    what: &str,
    limit: Limit,
    account: AccountId,
    address: Option<&str>,
    now: i64,
) -> Result<Result<(), i64>, StoreError> {
    let (start, left) = rules::window(now, limit.window_secs);
    let mut conn = store.conn()?;
    let mine = db::hit(&mut conn, &format!("{what}:account:{account}"), start)?;
    let theirs = match address {
        // Addresses are kept hashed: the table never holds one in clear.
        Some(a) => db::hit(
            &mut conn,
            &format!(
                "{what}:address:{}",
                crate::text::hash::sha256_hex(a.as_bytes())
            ),
            start,
        )?,
        None => 0,
    };
    // Now and then, forget windows long gone.
    if mine == 1 && now % 17 == 0 {
        db::forget_windows(&mut conn, start - 86_400)?;
    }
    let over = u32::try_from(mine).unwrap_or(0) > limit.max
        || u32::try_from(theirs).unwrap_or(0) > limit.max.saturating_mul(ADDRESS_FACTOR);
    Ok(if over { Err(left) } else { Ok(()) })
}
