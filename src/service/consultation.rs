//! Consultations and filing amendments (DESIGN §5): the rules that a page and the API
//! share. Each function checks everything before it writes, and writes in one
//! transaction, so a refused request leaves nothing behind.

use crate::domain::amendment::{self, article_body, AmendError, AmendmentStatus, Operation};
pub use crate::domain::consultation::Phase;
use crate::domain::identity::{pseudonym, Level};
use crate::domain::ids::{AccountId, AmendmentId, ConsultationId, VersionId};
use crate::service::identity::SessionInfo;
use crate::store::{self, amendments::Amendment, consultations::Consultation, Store, StoreError};
use crate::text::UnitKind;
use serde_json::json;

/// The largest article text an amendment may propose, and the longest justification.
pub const MAX_TEXT: usize = 64 * 1024;
pub const MAX_JUSTIFICATION: usize = 20 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum ConsultationError {
    #[error("no such consultation, bill, version or article")]
    NotFound,
    #[error("{field}: {reason}")]
    Invalid {
        field: &'static str,
        reason: &'static str,
    },
    #[error("this consultation is not open for amendments (it is in phase {0})")]
    NotOpen(Phase),
    #[error("this consultation needs level {needed} to propose amendments")]
    Level { needed: u8, have: u8 },
    #[error("the article changed since the form was opened: start again from the current version")]
    Stale,
    /// The request does not fit the amendment's or the consultation's state; the
    /// message is an i18n key.
    #[error("refused: {0}")]
    State(&'static str),
    #[error("staff only")]
    Forbidden,
    /// Nobody decides about themselves (`domain::conflict`).
    #[error("refused: this decision concerns you ({})", .0.as_str())]
    Conflict(crate::domain::conflict::Conflict),
    /// The account is suspended by moderation until this time (RFC 3339).
    #[error("your account is suspended until {0}")]
    Suspended(String),
    /// The adopted amendments cannot be applied together (the reason, in English).
    #[error("the adopted amendments cannot be consolidated: {0}")]
    Consolidate(String),
    #[error(transparent)]
    Amend(#[from] AmendError),
    #[error(transparent)]
    Vote(#[from] crate::service::voting::VoteError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

// Here rather than in `moderation`, which the use cases call: it imports neither.
impl From<crate::service::moderation::Suspended> for ConsultationError {
    fn from(s: crate::service::moderation::Suspended) -> Self {
        Self::Suspended(s.until)
    }
}

impl crate::service::MaybeConflict for ConsultationError {
    fn conflict(&self) -> Option<crate::domain::conflict::Conflict> {
        match self {
            ConsultationError::Conflict(c) => Some(*c),
            _ => None,
        }
    }
}

/// Refuses a staff member's decision on an amendment they wrote (`domain::conflict`).
pub(crate) fn staff_no_conflict(
    staff: &SessionInfo,
    author: AccountId,
) -> Result<(), ConsultationError> {
    use crate::domain::conflict::{check, Concerned, Deciders};
    let concerned = Concerned {
        author: Some(author),
        ..Concerned::default()
    };
    check(staff.account.id, concerned, Deciders::Staff).map_err(ConsultationError::Conflict)
}

/// Staff only: anyone else is refused.
pub(crate) fn staff_only(who: &SessionInfo) -> Result<(), ConsultationError> {
    if who.has_role(crate::domain::identity::Role::Staff) {
        Ok(())
    } else {
        Err(ConsultationError::Forbidden)
    }
}

fn invalid<T>(field: &'static str, reason: &'static str) -> Result<T, ConsultationError> {
    Err(ConsultationError::Invalid { field, reason })
}

/// What staff fill in to open a consultation.
pub struct NewConsultation<'a> {
    pub bill_slug: &'a str,
    pub version: i32,
    pub title: &'a str,
    pub description: &'a str,
    pub opens_on: &'a str,
    pub closes_on: &'a str,
    /// Levels to comment, to amend, to vote.
    pub levels: [i64; 3],
}

fn iso_day(s: &str) -> bool {
    s.len() == 10
        && time::Date::parse(s, time::macros::format_description!("[year]-[month]-[day]")).is_ok()
}

/// Opens a consultation (in phase "draft") on one version of a bill.
pub fn open(
    store: &Store,
    staff: &SessionInfo,
    c: &NewConsultation<'_>,
) -> Result<ConsultationId, ConsultationError> {
    open_as(store, staff.account.id, c)
}

fn open_as(
    store: &Store,
    staff_id: AccountId,
    c: &NewConsultation<'_>,
) -> Result<ConsultationId, ConsultationError> {
    let title = c.title.trim();
    if title.is_empty() || title.chars().count() > 200 {
        return invalid("title", "err_title");
    }
    if c.description.len() > MAX_JUSTIFICATION {
        return invalid("description", "err_too_long");
    }
    if !iso_day(c.opens_on) {
        return invalid("opens_on", "err_date");
    }
    if !iso_day(c.closes_on) || c.closes_on < c.opens_on {
        return invalid("closes_on", "err_closes");
    }
    if c.levels.iter().any(|l| !(0..=3).contains(l)) {
        return invalid("levels", "err_levels");
    }
    store.transaction(|conn| {
        let bill = store::bills::by_slug(conn, c.bill_slug)?.ok_or(ConsultationError::NotFound)?;
        let version = store::versions::by_number(conn, bill.id, c.version)?
            .ok_or(ConsultationError::NotFound)?;
        let id = store::consultations::insert(
            conn,
            &store::consultations::NewConsultation {
                bill_id: bill.id,
                version_id: version.meta.id,
                title,
                description: c.description.trim(),
                opens_on: c.opens_on,
                closes_on: c.closes_on,
                levels: c.levels.map(|l| l as i32),
                phase: Phase::FIRST,
                created_by: staff_id,
            },
        )?;
        store::audit::record(
            conn,
            Some(staff_id),
            "open_consultation",
            None,
            &json!({"consultation": id, "bill": c.bill_slug, "version": c.version}),
        )?;
        Ok(id)
    })
}

/// Moves a consultation to its next phase; returns the new phase. Entering the voting
/// phase opens the ballot log; leaving it closes the log with the count
/// (`service::voting`).
pub fn advance(
    store: &Store,
    staff: &SessionInfo,
    id: ConsultationId,
    voting: &crate::service::voting::Voting,
) -> Result<Phase, ConsultationError> {
    use crate::service::voting;
    let phase = {
        let mut conn = store.conn()?;
        store::consultations::by_id(&mut conn, id)?
            .ok_or(ConsultationError::NotFound)?
            .phase
    };
    if phase == Phase::Voting {
        voting.close(Some(staff.account.id), id, voting::today(store))?;
        return Ok(Phase::Closed);
    }
    store.transaction(|conn| {
        let c = store::consultations::by_id(conn, id)?.ok_or(ConsultationError::NotFound)?;
        let Some(next) = c.phase.next() else {
            return Err(ConsultationError::NotOpen(c.phase));
        };
        if !store::consultations::set_phase(conn, id, c.phase, next)? {
            return Err(ConsultationError::NotOpen(c.phase));
        }
        if next == Phase::Voting {
            voting::open_log(conn, &c, voting.key(), voting.host(), voting::today(store))?;
        }
        store::audit::record(
            conn,
            Some(staff.account.id),
            "consultation_phase",
            None,
            &json!({"consultation": id, "from": c.phase, "to": next}),
        )?;
        Ok(next)
    })
}

/// An article of a consultation's version: its number, heading and body.
pub struct Article {
    pub wid: String,
    pub num: String,
    pub heading: String,
    pub body: String,
    pub sha256: String,
}

/// The consultation, its bill's slug, and an article of its version.
pub fn article(
    store: &Store,
    consultation_id: ConsultationId,
    wid: &str,
) -> Result<(Consultation, String, Article), ConsultationError> {
    unit(store, consultation_id, wid, false)
}

/// Like [`article`], also accepting a division (a new article may open a division).
fn unit(
    store: &Store,
    consultation_id: ConsultationId,
    wid: &str,
    divisions: bool,
) -> Result<(Consultation, String, Article), ConsultationError> {
    let mut conn = store.conn()?;
    let c = store::consultations::by_id(&mut conn, consultation_id)?
        .ok_or(ConsultationError::NotFound)?;
    let version_id = c.version_id;
    unit_in(&mut conn, c, version_id, wid, divisions)
}

fn unit_in(
    conn: &mut store::DbConnection,
    c: Consultation,
    version_id: VersionId,
    wid: &str,
    divisions: bool,
) -> Result<(Consultation, String, Article), ConsultationError> {
    let bill = store::bills::by_id(conn, c.bill_id)?.ok_or(ConsultationError::NotFound)?;
    let version = store::versions::by_id(conn, version_id)?.ok_or(ConsultationError::NotFound)?;
    let units = store::units::for_version(conn, version.meta.id)?;
    let u = units
        .iter()
        .find(|u| {
            u.wid == wid
                && (u.kind == UnitKind::Article || (divisions && u.kind == UnitKind::Division))
        })
        .ok_or(ConsultationError::NotFound)?;
    let text = u.text(&version.markdown);
    Ok((
        c,
        bill.slug,
        Article {
            wid: u.wid.clone(),
            num: u.num.clone().unwrap_or_default(),
            heading: u.heading.clone().unwrap_or_default(),
            body: if u.kind == UnitKind::Article {
                article_body(text).to_string()
            } else {
                String::new()
            },
            sha256: u.sha256.clone(),
        },
    ))
}

pub use crate::domain::identity::Disclosure;

/// What the author label of a publication is: the name, or the pseudonym for the bill.
pub fn author_label(key: &[u8], who: &SessionInfo, bill_slug: &str, d: Disclosure) -> String {
    match d {
        Disclosure::Name => who.account.display_name.clone(),
        Disclosure::Pseudonym => pseudonym(key, who.account.id, bill_slug),
    }
}

/// What an amendment does to its article.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilingKind {
    /// The article's text, edited: word operations.
    Edit,
    /// Delete the whole article (the text is ignored).
    RepealArticle,
    /// Insert the text (one or more articles, headings included) after the unit.
    InsertAfter,
}

impl FilingKind {
    pub fn parse(s: &str) -> Option<FilingKind> {
        match s {
            "edit" => Some(FilingKind::Edit),
            "repeal" => Some(FilingKind::RepealArticle),
            "insert" => Some(FilingKind::InsertAfter),
            _ => None,
        }
    }
}

/// A filing, as the form sends it.
pub struct Filing<'a> {
    pub kind: FilingKind,
    pub consultation_id: ConsultationId,
    pub wid: &'a str,
    /// The SHA-256 of the article the form was made from (stale forms are refused).
    pub article_sha256: &'a str,
    pub text: &'a str,
    pub justification: &'a str,
    pub disclosure: Disclosure,
    /// One-time token of the form: submitting it twice files one amendment.
    pub form_token: &'a str,
}

/// Whether `who` may propose amendments in `c` now: while it is open for amendments,
/// at the consultation's level or above.
pub fn may_amend(who: &SessionInfo, c: &Consultation) -> Result<(), ConsultationError> {
    if !c.phase.open_for_contributions() {
        return Err(ConsultationError::NotOpen(c.phase));
    }
    let needed = u8::try_from(c.level_amend).unwrap_or(3);
    if who.level() < Level::new(i64::from(needed)).unwrap_or(Level::HIGH) {
        return Err(ConsultationError::Level {
            needed,
            have: who.level().get(),
        });
    }
    Ok(())
}

/// What the filing form holds for operations on `art` (the inverse of
/// [`check_filing`]): their kind, and the text that makes them — the article as they
/// leave it, the inserted articles, or the article itself for a repeal.
pub fn filing_of(art: &Article, ops: &[Operation]) -> Result<(FilingKind, String), AmendError> {
    if ops
        .iter()
        .any(|o| matches!(o, Operation::RepealUnit { .. }))
    {
        return Ok((FilingKind::RepealArticle, art.body.clone()));
    }
    if ops
        .iter()
        .all(|o| matches!(o, Operation::InsertArticle { .. }))
    {
        let md: Vec<&str> = ops
            .iter()
            .filter_map(|o| match o {
                Operation::InsertArticle { markdown, .. } => Some(markdown.as_str()),
                _ => None,
            })
            .collect();
        return Ok((FilingKind::InsertAfter, md.join("\n\n")));
    }
    Ok((FilingKind::Edit, amendment::apply(&art.body, ops)?))
}

/// The operations a filing would make, checked (the preview shows them).
pub fn check_filing(
    store: &Store,
    who: &SessionInfo,
    f: &Filing<'_>,
) -> Result<(Consultation, String, Article, Vec<Operation>), ConsultationError> {
    let (c, slug, art) = unit(
        store,
        f.consultation_id,
        f.wid,
        f.kind == FilingKind::InsertAfter,
    )?;
    may_amend(who, &c)?;
    if f.article_sha256 != art.sha256 {
        return Err(ConsultationError::Stale);
    }
    if f.text.len() > MAX_TEXT {
        return invalid("text", "err_too_long");
    }
    if f.justification.len() > MAX_JUSTIFICATION {
        return invalid("justification", "err_too_long");
    }
    // Line ends as browsers send them (CRLF) must not count as changes.
    let text = f.text.replace("\r\n", "\n");
    let ops = match f.kind {
        FilingKind::Edit => amendment::derive(&art.wid, &art.body, text.trim_end_matches('\n'))?,
        FilingKind::RepealArticle => vec![Operation::RepealUnit {
            wid: art.wid.clone(),
        }],
        FilingKind::InsertAfter => {
            let md = text.trim_matches('\n');
            let parsed = crate::text::parse(md);
            if !md.starts_with('#') || !parsed.units.iter().any(|u| u.kind == UnitKind::Article) {
                return invalid("text", "err_new_article");
            }
            vec![Operation::InsertArticle {
                after: art.wid.clone(),
                markdown: md.to_string(),
            }]
        }
    };
    Ok((c, slug, art, ops))
}

/// Files an amendment (or returns the one this form already filed).
pub fn file(
    store: &Store,
    key: &[u8],
    who: &SessionInfo,
    f: &Filing<'_>,
) -> Result<(Amendment, String), ConsultationError> {
    if f.form_token.len() < 16 || f.form_token.len() > 64 {
        return invalid("form", "err_form_token");
    }
    {
        let mut conn = store.conn()?;
        if let Some(a) = store::amendments::by_form(&mut conn, who.account.id, f.form_token)? {
            let bill =
                store::bills::by_id(&mut conn, a.bill_id)?.ok_or(ConsultationError::NotFound)?;
            return Ok((a, bill.slug));
        }
    }
    let (c, slug, art, ops) = check_filing(store, who, f)?;
    {
        let mut conn = store.conn()?;
        crate::service::moderation::ensure_active(&mut conn, who.account.id, store.clock().now())?;
    }
    let label = author_label(key, who, &slug, f.disclosure);
    let operations = serde_json::to_string(&ops).map_err(|e| StoreError::Invalid(e.to_string()))?;
    let a = store.transaction(|conn| {
        if let Some(a) = store::amendments::by_form(conn, who.account.id, f.form_token)? {
            return Ok::<_, ConsultationError>(a);
        }
        let a = store::amendments::insert(
            conn,
            &store::amendments::NewAmendment {
                bill_id: c.bill_id,
                consultation_id: c.id,
                version_id: c.version_id,
                article_wid: &art.wid,
                author_id: who.account.id,
                disclosure: f.disclosure,
                author_label: &label,
                author_level: i32::from(who.level().get()),
                form_token: f.form_token,
                operations: &operations,
                justification: f.justification.trim(),
            },
        )?;
        store::audit::record(
            conn,
            Some(who.account.id),
            "file_amendment",
            None,
            &json!({"amendment": a.id, "number": a.number, "consultation": c.id}),
        )?;
        Ok(a)
    })?;
    Ok((a, slug))
}

/// The display number of an amendment: `AM-<bill>-<n>`.
/// What has been said about each article of a version, for its bill page: the
/// amendments and comments of the public consultations on that version, summed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Activity {
    /// Article `wid` → (amendments, comments on its text, replies and answers included).
    pub by_article: std::collections::HashMap<String, (i64, i64)>,
    /// The consultation the counts link to: the newest on the version.
    pub consultation: Option<ConsultationId>,
}

impl Activity {
    /// A short digest of the counts, for the page's ETag and cache key; empty when
    /// there is no consultation on the version (so such pages keep their ETag).
    pub fn stamp(&self) -> String {
        let Some(id) = self.consultation else {
            return String::new();
        };
        let mut rows: Vec<_> = self.by_article.iter().collect();
        rows.sort();
        let mut text = format!("{id}\n");
        for (wid, (a, c)) in rows {
            text.push_str(&format!("{wid} {a} {c}\n"));
        }
        crate::text::hash::sha256_hex(text.as_bytes())[..12].to_string()
    }
}

/// The [`Activity`] on a version: one query per public consultation on it and kind.
pub fn activity(store: &Store, version_id: VersionId) -> Result<Activity, StoreError> {
    let mut conn = store.conn()?;
    let consultations = store::consultations::on_version(&mut conn, version_id)?;
    let mut out = Activity {
        consultation: consultations.first().map(|c| c.id),
        ..Activity::default()
    };
    for c in &consultations {
        for (wid, n) in store::amendments::counts_by_article(&mut conn, c.id)? {
            out.by_article.entry(wid).or_default().0 += n;
        }
        for (wid, n) in store::comments::counts_by_article(&mut conn, c.id)? {
            out.by_article.entry(wid).or_default().1 += n;
        }
    }
    Ok(out)
}

/// Kept here too: the pages and tests name amendments through this module.
pub use crate::domain::amendment::display_number;

/// The demo's consultation: on the latest version of the participatory-budget bill of
/// `laws/`, open for amendments for 30 days from `today`, opened by the demo's staff
/// member. Made once; returns its id (None when that bill is absent).
pub fn ensure_demo(
    store: &Store,
    today: &str,
) -> Result<Option<ConsultationId>, ConsultationError> {
    const BILL: &str = "budget-participatif";
    let mut conn = store.conn()?;
    let Some(bill) = store::bills::by_slug(&mut conn, BILL)? else {
        return Ok(None);
    };
    if let Some(c) = store::consultations::for_bill(&mut conn, bill.id)?.first() {
        return Ok(Some(c.id));
    }
    let Some(latest) = store::versions::max_number(&mut conn, bill.id)? else {
        return Ok(None);
    };
    let staff = crate::service::identity::DEMO_PEOPLE
        .iter()
        .find(|p| p.roles.contains(&crate::domain::identity::Role::Staff))
        .ok_or(ConsultationError::NotFound)?;
    let account = store::accounts::upsert(&mut conn, "demo", staff.key, staff.name, None)?;
    store::accounts::grant(
        &mut conn,
        account.id,
        crate::domain::identity::Role::Staff,
        None,
    )?;
    drop(conn);
    let closes = time::Date::parse(
        today,
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .map(|d| (d + time::Duration::days(30)).to_string())
    .unwrap_or_else(|_| today.to_string());
    let id = open_as(
        store,
        account.id,
        &NewConsultation {
            bill_slug: BILL,
            version: latest,
            title: "Consultation de démonstration : budget participatif",
            description: "Une consultation de démonstration : proposez des amendements aux \
                          articles en vous connectant avec une personne de démonstration.",
            opens_on: today,
            closes_on: &closes,
            levels: [1, 1, 2],
        },
    )?;
    let mut conn = store.conn()?;
    store::consultations::set_phase(&mut conn, id, Phase::Draft, Phase::Amendments)?;
    Ok(Some(id))
}

/// Whether `who` may withdraw `a` now ([`withdraw`]'s rule, which the amendment page
/// shows its button by): its author, while `c` is open for amendments, while it still
/// stands (filed or admissible). Someone else is told it does not exist; an amendment
/// no longer standing is `State("err_cannot_withdraw")`.
pub fn may_withdraw(
    who: &SessionInfo,
    a: &Amendment,
    c: &Consultation,
) -> Result<(), ConsultationError> {
    if a.author_id != who.account.id {
        return Err(ConsultationError::NotFound);
    }
    if !c.phase.open_for_contributions() {
        return Err(ConsultationError::NotOpen(c.phase));
    }
    if !a.status.is_standing() {
        return Err(ConsultationError::State("err_cannot_withdraw"));
    }
    Ok(())
}

/// The author withdraws their amendment, while amendments are open and before any
/// disposition other than admissibility; returns false if it could not be withdrawn.
pub fn withdraw(
    store: &Store,
    who: &SessionInfo,
    amendment_id: AmendmentId,
) -> Result<bool, ConsultationError> {
    store.transaction(|conn| {
        let a = store::amendments::by_id(conn, amendment_id)?.ok_or(ConsultationError::NotFound)?;
        let c = store::consultations::by_id(conn, a.consultation_id)?
            .ok_or(ConsultationError::NotFound)?;
        match may_withdraw(who, &a, &c) {
            // No longer standing: refused without an error, as when it changes meanwhile.
            Err(ConsultationError::State(_)) => return Ok(false),
            r => r?,
        }
        let done = store::amendments::set_status(
            conn,
            a.id,
            &AmendmentStatus::STANDING,
            AmendmentStatus::Withdrawn,
        )?;
        if done {
            store::audit::record(
                conn,
                Some(who.account.id),
                "withdraw_amendment",
                None,
                &json!({"amendment": a.id, "number": a.number}),
            )?;
        }
        Ok(done)
    })
}

/// A correction ("rectifié") of an amendment by its author, as the form sends it.
pub struct Rectification<'a> {
    pub amendment_id: AmendmentId,
    /// The revision the form was made from: submitting it twice writes one revision.
    pub base_revision: i32,
    pub kind: FilingKind,
    /// The SHA-256 of the article the form was made from.
    pub article_sha256: &'a str,
    pub text: &'a str,
    pub justification: &'a str,
}

/// Whether `who` may correct `a` now (see docs/amendments.md): its author, while the
/// consultation is open for amendments (voting has not opened), before any ruling
/// (status filed), on the consultation's current version.
pub fn may_rectify(
    who: &SessionInfo,
    a: &Amendment,
    c: &Consultation,
) -> Result<(), ConsultationError> {
    if a.author_id != who.account.id {
        return Err(ConsultationError::State("err_not_author"));
    }
    if !c.phase.open_for_contributions() {
        return Err(ConsultationError::NotOpen(c.phase));
    }
    if a.status != AmendmentStatus::Filed {
        return Err(ConsultationError::State("err_cannot_rectify"));
    }
    if a.version_id != c.version_id {
        return Err(ConsultationError::State("err_not_rebased"));
    }
    Ok(())
}

/// The amendment, its consultation, bill slug and article, and the operations a
/// correction would make, checked (the preview shows them).
pub fn check_rectify(
    store: &Store,
    who: &SessionInfo,
    r: &Rectification<'_>,
) -> Result<(Amendment, String, Article, Vec<Operation>), ConsultationError> {
    let (a, c) = {
        let mut conn = store.conn()?;
        let a = store::amendments::by_id(&mut conn, r.amendment_id)?
            .ok_or(ConsultationError::NotFound)?;
        let c = store::consultations::by_id(&mut conn, a.consultation_id)?
            .ok_or(ConsultationError::NotFound)?;
        (a, c)
    };
    may_rectify(who, &a, &c)?;
    let disclosure = a.disclosure;
    let (_, slug, art, ops) = check_filing(
        store,
        who,
        &Filing {
            kind: r.kind,
            consultation_id: c.id,
            wid: &a.article_wid,
            article_sha256: r.article_sha256,
            text: r.text,
            justification: r.justification,
            disclosure,
            form_token: "",
        },
    )?;
    Ok((a, slug, art, ops))
}

/// The author corrects their amendment: a new revision (every earlier one is kept).
/// Returns the amendment (as now), its bill's slug and the revision written — or, for a
/// second submit of the same form, the one the first wrote.
pub fn rectify(
    store: &Store,
    who: &SessionInfo,
    r: &Rectification<'_>,
) -> Result<(Amendment, String, i32), ConsultationError> {
    let (_, slug, _, ops) = check_rectify(store, who, r)?;
    let operations = serde_json::to_string(&ops).map_err(|e| StoreError::Invalid(e.to_string()))?;
    let justification = r.justification.trim();
    let same = |rev: &store::amendments::Revision| {
        rev.justification == justification
            && serde_json::from_str::<Vec<Operation>>(&rev.operations).is_ok_and(|o| o == ops)
    };
    let revision = store.transaction(|conn| {
        crate::service::moderation::ensure_active(conn, who.account.id, store.clock().now())
            .map_err(ConsultationError::from)?;
        let a =
            store::amendments::by_id(conn, r.amendment_id)?.ok_or(ConsultationError::NotFound)?;
        let c = store::consultations::by_id(conn, a.consultation_id)?
            .ok_or(ConsultationError::NotFound)?;
        if a.revision != r.base_revision {
            // This form was already used (a double submit), or another correction came
            // first: the former is answered with what it wrote, the latter refused.
            let latest = store::amendments::revision(conn, a.id, a.revision)?;
            if a.revision > r.base_revision
                && a.author_id == who.account.id
                && latest.is_some_and(|l| same(&l))
            {
                return Ok(a.revision);
            }
            return Err(ConsultationError::State("err_rectify_stale"));
        }
        may_rectify(who, &a, &c)?;
        if store::amendments::revision(conn, a.id, a.revision)?.is_some_and(|l| same(&l)) {
            return Err(ConsultationError::State("err_rectify_nothing"));
        }
        let Some(next) = store::amendments::add_revision_after(
            conn,
            a.id,
            r.base_revision,
            c.version_id,
            &operations,
            justification,
        )?
        else {
            return Err(ConsultationError::State("err_rectify_stale"));
        };
        store::audit::record(
            conn,
            Some(who.account.id),
            "rectify_amendment",
            None,
            &json!({"amendment": a.id, "number": a.number, "revision": next}),
        )?;
        Ok(next)
    })?;
    let mut conn = store.conn()?;
    let a =
        store::amendments::by_id(&mut conn, r.amendment_id)?.ok_or(ConsultationError::NotFound)?;
    Ok((a, slug, revision))
}
