//! Moderation pages (docs/moderation.md): the notice after a report, the moderators'
//! queue, the appeals, a person's own moderation decisions and the public log; and what
//! a hidden contribution shows in place of itself, on the pages that show it.

use super::Page;
use crate::domain::ids::ConsultationId;
use crate::domain::moderation::{ItemState, Reason, Rule};
use crate::domain::time::{self, Timestamp};
use crate::service::moderation::{self as svc, Kind};
use crate::store::moderation::{LogRow, QueueFilter};
use crate::text::render;
use crate::web::auth::CsrfToken;
use crate::web::errors::AppError;
use crate::web::i18n::{Lang, Translations};
use crate::web::{App, Ctx};
use serde::Serialize;

/// The words for a rule or a report reason.
fn rule_label(lang: Lang, rule: &str) -> String {
    if rule.is_empty() {
        return String::new();
    }
    lang.tr().get(&format!("rule_{rule}")).to_string()
}

/// A report reason (or the rule a moderator hides under), as the forms offer it.
#[derive(Serialize)]
pub struct ReasonChoice {
    value: &'static str,
    label: String,
}

/// Every report reason, in order.
pub fn reasons(lang: Lang) -> Vec<ReasonChoice> {
    Reason::ALL
        .iter()
        .map(|r| ReasonChoice {
            value: r.as_str(),
            label: rule_label(lang, r.as_str()),
        })
        .collect()
}

/// What a hidden contribution shows in place of itself (the `moderated` partial): the
/// notice, the public reason, and, for signed-in people when the rule allows, the
/// content in a moderated view.
#[derive(Serialize)]
pub struct HiddenNotice {
    pub notice: String,
    pub reason: String,
    /// The content, rendered, when the viewer may open it (already-sanitized HTML).
    pub body_html: Option<String>,
    pub unreadable: bool,
}

/// How `h` is shown to this viewer, `body_markdown` being the hidden text.
pub fn hidden(lang: Lang, h: &svc::Hidden, signed_in: bool, body_markdown: &str) -> HiddenNotice {
    let t = lang.tr();
    let notice = if h.rule == Rule::Reports {
        t.get("hidden_pending").to_string()
    } else {
        t.fmt(
            "hidden_by_moderation",
            &[("rule", &rule_label(lang, h.rule.as_str()))],
        )
    };
    HiddenNotice {
        notice,
        reason: h.reason.clone(),
        body_html: (signed_in && h.readable).then(|| render::markdown_block(body_markdown)),
        unreadable: !h.readable,
    }
}

/// An entry of the public log, as the pages show it.
#[derive(Serialize)]
pub struct LogEntry {
    seq: i64,
    at: String,
    at_shown: String,
    action: String,
    target: String,
    target_ref: String,
    rule: String,
    reason: String,
    moderator: String,
    hash: String,
    hash_short: String,
}

impl LogEntry {
    fn of(lang: Lang, r: &LogRow) -> LogEntry {
        let t = lang.tr();
        LogEntry {
            seq: r.seq,
            at: r.at.clone(),
            at_shown: time::display(&r.at),
            action: t.get(&format!("action_{}", r.action)).to_string(),
            target: t.get(&format!("target_{}", r.target_kind)).to_string(),
            target_ref: r.target_ref.clone(),
            rule: rule_label(lang, &r.rule),
            reason: r.reason.clone(),
            moderator: if r.moderator.is_empty() {
                t.get("moderator_automatic").to_string()
            } else {
                r.moderator.clone()
            },
            hash: r.hash.clone(),
            hash_short: r.hash.get(..16).unwrap_or("").to_string(),
        }
    }
}

// ---------------------------------------------------------------- reporting

/// The notice after a report (the `notice` template), with the way back to the content.
#[derive(Serialize)]
pub struct ReportDone {
    heading: String,
    message: String,
    href: String,
    link_label: String,
}

impl Page for ReportDone {
    const TEMPLATE: &'static str = "notice";
    fn title(&self, t: &Translations) -> String {
        t.get("report_done_title").into()
    }
}

/// The notice after a report of `kind` `id` (`hidden_now`: the report hid it).
pub fn report_done(
    app: &App,
    ctx: &Ctx,
    kind: Kind,
    id: i64,
    hidden_now: bool,
) -> Result<ReportDone, AppError> {
    let t = ctx.lang.tr();
    let href = {
        let mut conn = app.reader.store().conn()?;
        svc::content(&mut conn, kind, id)?
            .map(|c| c.href)
            .unwrap_or_else(|| "/".into())
    };
    Ok(ReportDone {
        heading: t.get("report_done_title").into(),
        message: if hidden_now {
            t.get("report_done_hidden")
        } else {
            t.get("report_done")
        }
        .into(),
        href,
        link_label: t.get("back_to_content").into(),
    })
}

// ---------------------------------------------------------------- queue

/// `/moderation/queue`: reported and hidden contributions, oldest report first, each with
/// its reports and the forms to decide and to suspend the author.
#[derive(Serialize)]
pub struct Queue {
    items: Vec<QueueItem>,
    total: i64,
    csrf: String,
    reasons: Vec<ReasonChoice>,
    /// The filter: the kind ('' for all), the consultation, hidden items only.
    kind: &'static str,
    consultation: Option<ConsultationId>,
    hidden_only: bool,
    /// "Decision recorded" after a decision.
    done: Option<String>,
    prev_href: Option<String>,
    next_href: Option<String>,
    page_of: String,
}

#[derive(Serialize)]
struct QueueItem {
    kind: &'static str,
    kind_label: String,
    id: i64,
    #[serde(rename = "ref")]
    public_ref: String,
    href: String,
    author: String,
    level: i32,
    quote: String,
    body_html: String,
    hidden_auto: bool,
    hidden: bool,
    queued_at: Option<String>,
    reports: Vec<QueueReport>,
    /// Why the viewer may not decide on it (they wrote it), and who else may.
    refusal: Option<String>,
}

#[derive(Serialize)]
struct QueueReport {
    reason: String,
    detail: String,
    level: i32,
    at: String,
}

impl Page for Queue {
    const TEMPLATE: &'static str = "moderation_queue";
    fn title(&self, t: &Translations) -> String {
        t.get("moderation_queue").into()
    }
}

/// The queue's page `page` (from 1) under `filter`; `done`: the log entry just recorded.
pub fn queue(
    app: &App,
    ctx: &Ctx,
    moderator: &crate::service::identity::SessionInfo,
    csrf: &CsrfToken,
    filter: &QueueFilter,
    page: i64,
    done: Option<i64>,
) -> Result<Queue, AppError> {
    let lang = ctx.lang;
    let t = lang.tr();
    let (entries, total) = svc::queue(app.reader.store(), moderator, filter, page)?;
    let items = entries
        .iter()
        .map(|e| {
            let c = &e.content;
            QueueItem {
                kind: c.kind.as_str(),
                kind_label: t.get(&format!("target_{}", c.kind.as_str())).to_string(),
                id: c.id,
                public_ref: c.public_ref.clone(),
                href: c.href.clone(),
                author: c.author_label.clone(),
                level: c.author_level,
                quote: c.quote.clone(),
                body_html: render::markdown_block(&c.body),
                hidden_auto: e.item.state == ItemState::HiddenAuto,
                hidden: e.item.state == ItemState::Hidden,
                queued_at: e.item.queued_at.map(Timestamp::display),
                refusal: svc::conflict_on(moderator, c).map(|c| t.get(c.message_key()).to_string()),
                reports: e
                    .reports
                    .iter()
                    .map(|r| QueueReport {
                        reason: rule_label(lang, r.reason.as_str()),
                        detail: r.detail.clone(),
                        level: r.reporter_level,
                        at: r.created_at.display(),
                    })
                    .collect(),
            }
        })
        .collect();
    let pages = (total + svc::QUEUE_PAGE - 1) / svc::QUEUE_PAGE;
    let link = |p: i64| {
        let mut q = vec![format!("page={p}")];
        if let Some(k) = filter.kind {
            q.push(format!("kind={}", k.as_str()));
        }
        if let Some(c) = filter.consultation {
            q.push(format!("consultation={c}"));
        }
        if filter.hidden_only {
            q.push("hidden=true".into());
        }
        format!("/moderation/queue?{}", q.join("&"))
    };
    Ok(Queue {
        items,
        total,
        csrf: csrf.0.clone(),
        reasons: reasons(lang),
        kind: filter.kind.map(Kind::as_str).unwrap_or(""),
        consultation: filter.consultation,
        hidden_only: filter.hidden_only,
        done: done.map(|s| t.fmt("decision_recorded", &[("seq", &s)])),
        prev_href: (page > 1).then(|| link(page - 1)),
        next_href: (page < pages).then(|| link(page + 1)),
        page_of: t.fmt("mod_page_of", &[("page", &page), ("pages", &pages.max(1))]),
    })
}

// ---------------------------------------------------------------- appeals

/// `/moderation/appeals`: pending appeals, each with its decision and, for a moderator
/// who did not make it, the form to decide.
#[derive(Serialize)]
pub struct Appeals {
    appeals: Vec<AppealItem>,
    csrf: String,
    done: Option<String>,
}

#[derive(Serialize)]
struct AppealItem {
    seq: i64,
    decision: LogEntry,
    body: String,
    at: String,
    /// Why the viewer may not decide it, and who else may; the form otherwise.
    refusal: Option<String>,
    /// The content appealed about, rendered (already-sanitized HTML).
    content_html: Option<String>,
    href: Option<String>,
}

impl Page for Appeals {
    const TEMPLATE: &'static str = "moderation_appeals";
    fn title(&self, t: &Translations) -> String {
        t.get("appeals_title").into()
    }
}

pub fn appeals(
    app: &App,
    ctx: &Ctx,
    moderator: &crate::service::identity::SessionInfo,
    csrf: &CsrfToken,
    done: Option<i64>,
) -> Result<Appeals, AppError> {
    let lang = ctx.lang;
    let t = lang.tr();
    let appeals = svc::pending_appeals(app.reader.store(), moderator)?
        .iter()
        .map(|a| AppealItem {
            seq: a.appeal.decision_seq,
            decision: LogEntry::of(lang, &a.decision),
            body: a.appeal.body.clone(),
            at: a.appeal.created_at.display(),
            refusal: a.conflict.map(|c| t.get(c.message_key()).to_string()),
            content_html: a.content.as_ref().map(|c| render::markdown_block(&c.body)),
            href: a.content.as_ref().map(|c| c.href.clone()),
        })
        .collect();
    Ok(Appeals {
        appeals,
        csrf: csrf.0.clone(),
        done: done.map(|s| t.fmt("decision_recorded", &[("seq", &s)])),
    })
}

// ---------------------------------------------------------------- my decisions

/// `/account/moderation`: the decisions concerning the viewer, their appeals, and the
/// form to appeal those that may be.
#[derive(Serialize)]
pub struct MyModeration {
    decisions: Vec<MyDecision>,
    csrf: String,
    suspended: Option<String>,
    appealed: Option<String>,
}

#[derive(Serialize)]
struct MyDecision {
    #[serde(flatten)]
    entry: LogEntry,
    appeal: Option<AppealState>,
    may_appeal: bool,
}

#[derive(Serialize)]
struct AppealState {
    status: String,
    answer: String,
}

impl Page for MyModeration {
    const TEMPLATE: &'static str = "my_moderation";
    fn title(&self, t: &Translations) -> String {
        t.get("my_moderation_title").into()
    }
}

/// `appealed`: the decision just appealed.
pub fn my_moderation(
    app: &App,
    ctx: &Ctx,
    who: &crate::service::identity::SessionInfo,
    csrf: &CsrfToken,
    appealed: Option<i64>,
) -> Result<MyModeration, AppError> {
    let lang = ctx.lang;
    let t = lang.tr();
    let store = app.reader.store();
    let decisions = svc::my_decisions(store, who)?
        .iter()
        .map(|(row, appeal)| MyDecision {
            entry: LogEntry::of(lang, row),
            appeal: appeal.as_ref().map(|a| AppealState {
                status: t.get(&format!("appeal_{}", a.status)).to_string(),
                answer: a.answer.clone(),
            }),
            may_appeal: svc::may_appeal(row, appeal.as_ref()),
        })
        .collect();
    let suspended = svc::my_suspension(store, who)?;
    Ok(MyModeration {
        decisions,
        csrf: csrf.0.clone(),
        suspended: suspended.map(|u| t.fmt("err_suspended", &[("until", &time::display(&u))])),
        appealed: appealed.map(|_| t.get("appeal_recorded").to_string()),
    })
}

// ---------------------------------------------------------------- public log

/// `/moderation/log`: a page of the public log, newest first, with the result of
/// checking its hash chain.
#[derive(Serialize)]
pub struct Log {
    rows: Vec<LogEntry>,
    size: i64,
    /// "N entries verified" and the chain's head, or why the chain is broken.
    verified: Option<String>,
    head: Option<String>,
    broken: Option<String>,
    prev_href: Option<String>,
    next_href: Option<String>,
    page_of: String,
}

impl Page for Log {
    const TEMPLATE: &'static str = "moderation_log";
    fn title(&self, t: &Translations) -> String {
        t.get("moderation_log_title").into()
    }
}

/// The log's page `page` (from 1).
pub fn log(app: &App, ctx: &Ctx, page: i64) -> Result<Log, AppError> {
    let lang = ctx.lang;
    let t = lang.tr();
    let store = app.reader.store();
    let (rows, size) = svc::log_page(store, page)?;
    let check = svc::verify_log(store)?;
    let pages = (size + svc::LOG_PAGE - 1) / svc::LOG_PAGE;
    let (verified, head, broken) = match check {
        Ok((n, head)) => (Some(t.fmt("log_verified", &[("n", &n)])), Some(head), None),
        Err(e) => (None, None, Some(e.to_string())),
    };
    Ok(Log {
        rows: rows.iter().map(|r| LogEntry::of(lang, r)).collect(),
        size,
        verified,
        head,
        broken,
        prev_href: (page > 1).then(|| format!("/moderation/log?page={}", page - 1)),
        next_href: (page < pages).then(|| format!("/moderation/log?page={}", page + 1)),
        page_of: t.fmt("mod_page_of", &[("page", &page), ("pages", &pages.max(1))]),
    })
}
