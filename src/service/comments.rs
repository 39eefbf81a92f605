//! Comments on a consultation's text or on its amendments, replies one level deep, and
//! staff's public answers (DESIGN §5). Like filing an amendment: everything is checked
//! before anything is written, in one transaction, and a form sent twice makes one
//! comment.
//!
//! Rules:
//! - People comment while the consultation is open for amendments (phase
//!   `amendments`), at its comment level, under their name or their pseudonym for the
//!   bill. A comment is on a unit of the consultation's current version (an article or
//!   one of its paragraphs, optionally quoting a span of its text) or on an amendment.
//! - A reply answers a top comment; replying to a reply is refused.
//! - Staff may answer any comment (an answer to a reply goes under its top comment),
//!   any amendment, or the text, in every phase but the draft: the institution's answer.
//! - Comments follow their unit's `wid` into later versions; one whose quoted span (or
//!   paragraph) is no longer in the version shown is "on an earlier version".

use crate::domain::ids::{AmendmentId, CommentId, ConsultationId, VersionId};
use std::collections::HashMap;

pub use crate::domain::comment::CommentKind;
use crate::domain::comment::{clean_body, clean_quote, quote_in};

use crate::domain::identity::Level;
use crate::service::consultation::{author_label, staff_only, ConsultationError, Disclosure};
use crate::service::identity::SessionInfo;
use crate::store::{self, comments::Comment, consultations::Consultation, Store};
use crate::text::UnitKind;
use serde_json::json;

/// What a comment is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target<'a> {
    /// An article or a paragraph (by `wid`) of the consultation's current version.
    Unit(&'a str),
    /// An amendment of the consultation (by id).
    Amendment(AmendmentId),
}

/// A comment, a reply or an answer, as a form sends it.
pub struct NewComment<'a> {
    pub consultation_id: ConsultationId,
    /// What the comment is about; for a reply, taken from the comment replied to.
    pub target: Target<'a>,
    /// The comment replied to, if any.
    pub parent: Option<CommentId>,
    /// A span of the unit's text ('' for none; ignored for replies and amendments).
    pub quote: &'a str,
    pub body: &'a str,
    pub disclosure: Disclosure,
    /// One-time token of the form: submitting it twice makes one comment.
    pub form_token: &'a str,
}

fn invalid<T>(field: &'static str, reason: &'static str) -> Result<T, ConsultationError> {
    Err(ConsultationError::Invalid { field, reason })
}

/// A person comments (or replies). Returns the comment, or the one this form already
/// made.
pub fn post(
    store: &Store,
    key: &[u8],
    who: &SessionInfo,
    c: &NewComment<'_>,
) -> Result<Comment, ConsultationError> {
    write(store, key, who, c, false)
}

/// Staff answer publicly, as the institution.
pub fn answer(
    store: &Store,
    key: &[u8],
    who: &SessionInfo,
    c: &NewComment<'_>,
) -> Result<Comment, ConsultationError> {
    staff_only(who)?;
    write(store, key, who, c, true)
}

/// Where a new comment goes: version, article, unit, amendment, parent and quote.
struct Place {
    version_id: VersionId,
    article_wid: String,
    unit_wid: String,
    amendment_id: Option<AmendmentId>,
    parent_id: Option<CommentId>,
    quote: String,
}

fn write(
    store: &Store,
    key: &[u8],
    who: &SessionInfo,
    c: &NewComment<'_>,
    is_answer: bool,
) -> Result<Comment, ConsultationError> {
    if c.form_token.len() < 16 || c.form_token.len() > 64 {
        return invalid("form", "err_form_token");
    }
    {
        let mut conn = store.conn()?;
        if let Some(done) = store::comments::by_form(&mut conn, who.account.id, c.form_token)? {
            return Ok(done);
        }
    }
    let body = clean_body(c.body).map_err(|e| ConsultationError::Invalid {
        field: "body",
        reason: e.key(),
    })?;
    let mut conn = store.conn()?;
    let consultation = store::consultations::by_id(&mut conn, c.consultation_id)?
        .ok_or(ConsultationError::NotFound)?;
    let open = if is_answer {
        consultation.phase.is_public()
    } else {
        consultation.phase.open_for_contributions()
    };
    if !open {
        return Err(ConsultationError::NotOpen(consultation.phase));
    }
    if !is_answer {
        let needed = u8::try_from(consultation.level_comment).unwrap_or(3);
        if who.level() < Level::new(i64::from(needed)).unwrap_or(Level::HIGH) {
            return Err(ConsultationError::Level {
                needed,
                have: who.level().get(),
            });
        }
    }
    crate::service::moderation::ensure_active(&mut conn, who.account.id, store.clock().now())?;
    let place = place(&mut conn, &consultation, c, is_answer)?;
    let bill =
        store::bills::by_id(&mut conn, consultation.bill_id)?.ok_or(ConsultationError::NotFound)?;
    drop(conn);
    let (disclosure, label) = if is_answer {
        (Disclosure::Name, who.account.display_name.clone())
    } else {
        (
            c.disclosure,
            author_label(key, who, &bill.slug, c.disclosure),
        )
    };
    let kind = if is_answer {
        CommentKind::Answer
    } else {
        CommentKind::Comment
    };
    let written = store.transaction(|conn| {
        if let Some(done) = store::comments::by_form(conn, who.account.id, c.form_token)? {
            return Ok::<_, ConsultationError>(done);
        }
        let made = store::comments::insert(
            conn,
            &store::comments::NewComment {
                consultation_id: consultation.id,
                version_id: place.version_id,
                article_wid: &place.article_wid,
                unit_wid: &place.unit_wid,
                amendment_id: place.amendment_id,
                parent_id: place.parent_id,
                quote: &place.quote,
                body: &body,
                kind,
                author_id: who.account.id,
                disclosure,
                author_label: &label,
                author_level: i32::from(who.level().get()),
                form_token: c.form_token,
            },
        )?;
        store::audit::record(
            conn,
            Some(who.account.id),
            // The audit's action is the kind's word.
            kind.as_str(),
            None,
            &json!({"comment": made.id, "consultation": consultation.id,
                    "amendment": made.amendment_id, "parent": made.parent_id}),
        )?;
        Ok(made)
    });
    match written {
        // The same form sent twice at once: the unique (author, token) index let one
        // through; the other gets that one.
        Err(ConsultationError::Store(e)) if e.is_unique_violation() => {
            let mut conn = store.conn()?;
            store::comments::by_form(&mut conn, who.account.id, c.form_token)?
                .ok_or(ConsultationError::Store(e))
        }
        other => other,
    }
}

/// Checks the target (and the parent) of a new comment and says where it goes.
fn place(
    conn: &mut store::DbConnection,
    consultation: &Consultation,
    c: &NewComment<'_>,
    is_answer: bool,
) -> Result<Place, ConsultationError> {
    if let Some(parent_id) = c.parent {
        let mut parent =
            store::comments::by_id(conn, parent_id)?.ok_or(ConsultationError::NotFound)?;
        if parent.consultation_id != consultation.id {
            return Err(ConsultationError::NotFound);
        }
        if let Some(top) = parent.parent_id {
            // One level deep: staff's answer goes under the top comment; a person's
            // reply to a reply is refused.
            if !is_answer {
                return Err(ConsultationError::State("err_reply_depth"));
            }
            parent = store::comments::by_id(conn, top)?.ok_or(ConsultationError::NotFound)?;
        }
        return Ok(Place {
            version_id: consultation.version_id,
            article_wid: parent.article_wid,
            unit_wid: parent.unit_wid,
            amendment_id: parent.amendment_id,
            parent_id: Some(parent.id),
            quote: String::new(),
        });
    }
    match c.target {
        Target::Amendment(id) => {
            let a = store::amendments::by_id(conn, id)?.ok_or(ConsultationError::NotFound)?;
            if a.consultation_id != consultation.id {
                return Err(ConsultationError::NotFound);
            }
            Ok(Place {
                version_id: a.version_id,
                article_wid: a.article_wid.clone(),
                unit_wid: a.article_wid,
                amendment_id: Some(a.id),
                parent_id: None,
                quote: String::new(),
            })
        }
        Target::Unit(wid) => {
            let quote = clean_quote(c.quote).map_err(|e| ConsultationError::Invalid {
                field: "quote",
                reason: e.key(),
            })?;
            let version = store::versions::by_id(conn, consultation.version_id)?
                .ok_or(ConsultationError::NotFound)?;
            let units = store::units::for_version(conn, version.meta.id)?;
            let u = units
                .iter()
                .find(|u| u.wid == wid)
                .ok_or(ConsultationError::NotFound)?;
            let article = match u.kind {
                UnitKind::Article => u,
                UnitKind::Paragraph => u
                    .parent
                    .and_then(|p| units.get(p))
                    .filter(|p| p.kind == UnitKind::Article)
                    .ok_or(ConsultationError::NotFound)?,
                UnitKind::Division => return Err(ConsultationError::NotFound),
            };
            if !quote_in(&quote, u.text(&version.markdown)) {
                return invalid("quote", "err_comment_quote");
            }
            Ok(Place {
                version_id: version.meta.id,
                article_wid: article.wid.clone(),
                unit_wid: u.wid.clone(),
                amendment_id: None,
                parent_id: None,
                quote,
            })
        }
    }
}

/// A top comment with its replies and answers, as a page shows it.
#[derive(Debug, Clone)]
pub struct Thread {
    pub top: Comment,
    /// For a comment on the text: the paragraph it is on (1-based), in the version shown.
    pub paragraph: Option<usize>,
    /// The number of the version it was made on, when what it speaks of (its quote, or
    /// its paragraph) is no longer in the version shown.
    pub earlier: Option<i32>,
    /// The number of the version it was made on.
    pub made_on: i32,
    pub replies: Vec<Comment>,
}

/// Groups comments (oldest first) into threads.
fn threads(list: Vec<Comment>) -> Vec<(Comment, Vec<Comment>)> {
    let mut order: Vec<(Comment, Vec<Comment>)> = Vec::new();
    let mut index: HashMap<CommentId, usize> = HashMap::new();
    let mut replies = Vec::new();
    for c in list {
        match c.parent_id {
            None => {
                index.insert(c.id, order.len());
                order.push((c, Vec::new()));
            }
            Some(_) => replies.push(c),
        }
    }
    for r in replies {
        if let Some(&i) = r.parent_id.and_then(|p| index.get(&p)) {
            order[i].1.push(r);
        }
    }
    order
}

/// The comments on an article of a consultation, as shown on its current version.
pub fn for_article(
    store: &Store,
    consultation: &Consultation,
    article_wid: &str,
) -> Result<Vec<Thread>, ConsultationError> {
    let (markdown, units) = {
        let mut conn = store.conn()?;
        let version = store::versions::by_id(&mut conn, consultation.version_id)?
            .ok_or(ConsultationError::NotFound)?;
        let units = store::units::for_version(&mut conn, version.meta.id)?;
        (version.markdown, units)
    };
    for_article_in(store, consultation, article_wid, &markdown, &units)
}

/// Like [`for_article`], with the text and units of the consultation's version already
/// at hand (pages take them from the reader's cache: loading the CPI's 800 kB and 7,600
/// units for every request was most of an article page's time, docs/performance.md).
pub fn for_article_in(
    store: &Store,
    consultation: &Consultation,
    article_wid: &str,
    markdown: &str,
    units: &[crate::text::Unit],
) -> Result<Vec<Thread>, ConsultationError> {
    let mut conn = store.conn()?;
    let list = store::comments::for_article(&mut conn, consultation.id, article_wid)?;
    if list.is_empty() {
        return Ok(Vec::new());
    }
    let numbers: HashMap<VersionId, i32> =
        store::versions::list_meta(&mut conn, consultation.bill_id)?
            .into_iter()
            .map(|m| (m.id, m.number))
            .collect();
    drop(conn);
    let article = units.iter().position(|u| u.wid == article_wid);
    let paragraphs: Vec<&crate::text::Unit> = units
        .iter()
        .filter(|u| u.kind == UnitKind::Paragraph && article.is_some() && u.parent == article)
        .collect();
    Ok(threads(list)
        .into_iter()
        .map(|(top, replies)| {
            let made_on = numbers.get(&top.version_id).copied().unwrap_or(0);
            let paragraph = paragraphs.iter().position(|p| p.wid == top.unit_wid);
            let unit = if top.unit_wid == article_wid {
                article.map(|i| &units[i])
            } else {
                paragraph.map(|i| paragraphs[i])
            };
            let here = unit.is_some_and(|u| quote_in(&top.quote, u.text(markdown)));
            Thread {
                paragraph: paragraph.map(|i| i + 1),
                earlier: (!here).then_some(made_on),
                made_on,
                replies,
                top,
            }
        })
        .collect())
}

/// The comments on an amendment.
pub fn for_amendment(
    store: &Store,
    amendment: &store::amendments::Amendment,
) -> Result<Vec<Thread>, ConsultationError> {
    let mut conn = store.conn()?;
    let list = store::comments::for_amendment(&mut conn, amendment.id)?;
    let numbers: HashMap<VersionId, i32> = if list.is_empty() {
        HashMap::new()
    } else {
        store::versions::list_meta(&mut conn, amendment.bill_id)?
            .into_iter()
            .map(|m| (m.id, m.number))
            .collect()
    };
    Ok(threads(list)
        .into_iter()
        .map(|(top, replies)| Thread {
            paragraph: None,
            earlier: None,
            made_on: numbers.get(&top.version_id).copied().unwrap_or(0),
            replies,
            top,
        })
        .collect())
}

/// Whether `who` may comment on this consultation now (phase and level).
pub fn may_comment(c: &Consultation, who: &SessionInfo) -> bool {
    c.phase.open_for_contributions() && i32::from(who.level().get()) >= c.level_comment
}

/// Why the comment form is not offered, when it is not: what a page says in its place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoComment {
    /// Anonymous while comments are open: signing in (at the consultation's level) is
    /// the way forward.
    SignIn,
    /// Signed in, outside the amendments phase.
    Closed,
    /// Signed in below the consultation's level for comments.
    Level,
}

/// Why `who` (`None`: anonymous) may not comment on this consultation now; `None` when
/// they may, and for an anonymous visitor outside the amendments phase (nothing to say).
pub fn why_not_comment(c: &Consultation, who: Option<&SessionInfo>) -> Option<NoComment> {
    match who {
        None => (c.phase.open_for_contributions()).then_some(NoComment::SignIn),
        Some(w) if may_comment(c, w) => None,
        Some(_) if !c.phase.open_for_contributions() => Some(NoComment::Closed),
        Some(_) => Some(NoComment::Level),
    }
}

/// Whether `who` may answer as the institution on this consultation now.
pub fn may_answer(c: &Consultation, who: &SessionInfo) -> bool {
    c.phase.is_public() && who.has_role(crate::domain::identity::Role::Staff)
}
