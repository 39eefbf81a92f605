//! Consultation pages: a bill's consultations, opening one, a consultation, the form
//! that files or corrects an amendment, an amendment, and the list of amendments.

use super::comment::{Comments, FormTarget, ModerationView};
use super::moderation::HiddenNotice;
use super::{BillRef, Choice, Named, Page};
use crate::domain::amendment::{self, AmendmentStatus, Operation, Wording};
use crate::domain::consolidation::{effect, RebaseOutcome};
use crate::domain::identity::Role;
use crate::domain::ids::{AmendmentId, ConsultationId, VersionId};
use crate::domain::time::Day;
use crate::service::amendments::{self as listing, PER_PAGE};
use crate::service::consultation::{
    self as svc, display_number, ConsultationError, Disclosure, FilingKind,
};
use crate::service::identity::SessionInfo;
use crate::service::{consolidation, disposition};
use crate::store::{self, amendments::Amendment, bills::Bill, consultations::Consultation};
use crate::store::{rebases::Rebase, DbConnection, StoreError};
use crate::text::{render, word_diff, UnitKind};
use crate::web::auth::CsrfToken;
use crate::web::errors::AppError;
use crate::web::i18n::{Lang, Translations};
use crate::web::url_encode;
use crate::web::{App, Ctx};
use rocket::http::Status;
use serde::Serialize;
use std::collections::{HashMap, HashSet};

/// `/bills/<slug>/consultations`: the consultations of a bill, newest first, and for
/// staff the way to open one.
#[derive(Serialize)]
pub struct Consultations {
    bill: BillRef,
    consultations: Vec<ConsultationItem>,
    staff: bool,
}

#[derive(Serialize)]
struct ConsultationItem {
    id: ConsultationId,
    title: String,
    phase: Named,
    opens_on: Day,
    closes_on: Day,
}

impl Page for Consultations {
    const TEMPLATE: &'static str = "consultations";
    fn title(&self, t: &Translations) -> String {
        t.get("consultations_title").into()
    }
}

pub fn consultations(app: &App, ctx: &Ctx, slug: &str) -> Result<Consultations, AppError> {
    let (bill, _) = app.reader.bill(slug)?;
    let mut conn = app.reader.store().conn()?;
    let consultations = crate::store::consultations::for_bill(&mut conn, bill.id)?
        .into_iter()
        .map(|c| ConsultationItem {
            id: c.id,
            title: c.title,
            phase: Named::new(ctx.lang, "phase", c.phase),
            opens_on: c.opens_on,
            closes_on: c.closes_on,
        })
        .collect();
    Ok(Consultations {
        bill: BillRef::of(&bill),
        consultations,
        staff: ctx.viewer.as_ref().is_some_and(|v| v.has_role(Role::Staff)),
    })
}

// ---------------------------------------------------------------- opening

/// What staff typed in the form that opens a consultation (kept when it comes back).
#[derive(Default)]
pub struct ConsultationDraft {
    pub version: String,
    pub title: String,
    pub description: String,
    pub opens_on: String,
    pub closes_on: String,
    /// Levels to comment, to amend, to vote, as typed.
    pub levels: [String; 3],
}

/// `/bills/<slug>/consultations/new`: the form that opens a consultation, with what was
/// typed and the refusal beside its field when it comes back.
#[derive(Serialize)]
pub struct NewConsultation {
    bill: BillRef,
    versions: Vec<VersionChoice>,
    draft: DraftFields,
    level_comment: Vec<Choice>,
    level_amend: Vec<Choice>,
    level_vote: Vec<Choice>,
    csrf: String,
    error_title: Option<String>,
    error_description: Option<String>,
    error_opens_on: Option<String>,
    error_closes_on: Option<String>,
    error_levels: Option<String>,
}

#[derive(Serialize)]
struct VersionChoice {
    number: i32,
    date: String,
    selected: bool,
}

#[derive(Serialize)]
struct DraftFields {
    title: String,
    description: String,
    opens_on: String,
    closes_on: String,
}

impl Page for NewConsultation {
    const TEMPLATE: &'static str = "consultation_new";
    fn title(&self, t: &Translations) -> String {
        t.get("consultation_new_title").into()
    }
}

/// The form, from `d`; `error` is the service's refusal (a field and a message key).
pub fn new_consultation(
    app: &App,
    ctx: &Ctx,
    csrf: &CsrfToken,
    slug: &str,
    d: &ConsultationDraft,
    error: Option<(&str, &str)>,
) -> Result<NewConsultation, AppError> {
    let t = ctx.lang.tr();
    let (bill, versions) = app.reader.bill(slug)?;
    let latest = versions.iter().map(|v| v.number).max().unwrap_or(0);
    let chosen: i32 = d.version.parse().unwrap_or(latest);
    let versions = versions
        .iter()
        .rev()
        .map(|v| VersionChoice {
            number: v.number,
            date: v.date.clone(),
            selected: v.number == chosen,
        })
        .collect();
    let level = |i: usize, default: &str| -> Vec<Choice> {
        let v = if d.levels[i].is_empty() {
            default
        } else {
            d.levels[i].as_str()
        };
        (0..=3)
            .map(|l: u8| Choice {
                value: l.to_string(),
                name: t.get(&format!("level_{l}")).into(),
                selected: l.to_string() == v,
            })
            .collect()
    };
    let error_of = |field: &str| {
        error
            .filter(|(f, _)| *f == field)
            .map(|(_, key)| t.get(key).to_string())
    };
    Ok(NewConsultation {
        bill: BillRef::of(&bill),
        versions,
        draft: DraftFields {
            title: d.title.clone(),
            description: d.description.clone(),
            opens_on: d.opens_on.clone(),
            closes_on: d.closes_on.clone(),
        },
        level_comment: level(0, "1"),
        level_amend: level(1, "1"),
        level_vote: level(2, "2"),
        csrf: csrf.0.clone(),
        error_title: error_of("title"),
        error_description: error_of("description"),
        error_opens_on: error_of("opens_on"),
        error_closes_on: error_of("closes_on"),
        error_levels: error_of("levels"),
    })
}

// ---------------------------------------------------------------- reading

/// `/consultations/<id>`: a consultation, its articles with their counts, a page of its
/// amendments, and for staff the next phase, consolidation and rebase.
#[derive(Serialize)]
pub struct ConsultationPage {
    consultation: ConsultationFacts,
    phase: Named,
    bill: BillVersion,
    articles: Vec<ArticleRow>,
    amendments: Vec<AmendmentRow>,
    page: i64,
    prev_page: Option<i64>,
    next_page: Option<i64>,
    can_consolidate: bool,
    newer_versions: Vec<i32>,
    consolidated: Option<Consolidated>,
    /// Staff, and there is a next phase to move to.
    staff: bool,
    next_phase: Option<Named>,
    csrf: Option<String>,
}

#[derive(Serialize)]
struct ConsultationFacts {
    id: ConsultationId,
    title: String,
    /// Sanitized HTML of the markdown description.
    description: String,
    opens_on: Day,
    closes_on: Day,
    level_comment: i32,
    level_amend: i32,
    level_vote: i32,
}

#[derive(Serialize)]
struct BillVersion {
    slug: String,
    title: String,
    version: i32,
}

#[derive(Serialize)]
struct ArticleRow {
    wid: String,
    heading: Option<String>,
    amendments: i64,
    comments: i64,
    /// Open for amendments.
    open: bool,
}

#[derive(Serialize)]
struct AmendmentRow {
    number: String,
    href: String,
    author: String,
    level: i32,
    status: String,
}

#[derive(Serialize)]
struct Consolidated {
    number: i32,
    href: String,
    provenance: String,
}

impl Page for ConsultationPage {
    const TEMPLATE: &'static str = "consultation";
    fn title(&self, _: &Translations) -> String {
        self.consultation.title.clone()
    }
}

/// Page `page` (from 1) of consultation `id`'s amendments, with everything else.
pub fn consultation(
    app: &App,
    ctx: &Ctx,
    csrf: Option<&CsrfToken>,
    id: ConsultationId,
    page: i64,
) -> Result<ConsultationPage, AppError> {
    let lang = ctx.lang;
    let t = lang.tr();
    let nf = AppError::not_found;
    let mut conn = app.reader.store().conn()?;
    let c = store::consultations::by_id(&mut conn, id)?.ok_or_else(nf)?;
    let bill = store::bills::by_id(&mut conn, c.bill_id)?.ok_or_else(nf)?;
    let versions = store::versions::list_meta(&mut conn, bill.id)?;
    let number_of = |version_id: VersionId| {
        versions
            .iter()
            .find(|m| m.id == version_id)
            .map(|m| m.number)
    };
    let version = number_of(c.version_id).ok_or_else(nf)?;
    let counts: HashMap<String, i64> = store::amendments::counts_by_article(&mut conn, id)?
        .into_iter()
        .collect();
    let comment_counts: HashMap<String, i64> = store::comments::counts_by_article(&mut conn, id)?
        .into_iter()
        .collect();
    let open = c.phase.open_for_contributions();
    let articles = store::units::for_version(&mut conn, c.version_id)?
        .into_iter()
        .filter(|u| u.kind == UnitKind::Article)
        .map(|u| ArticleRow {
            amendments: counts.get(&u.wid).copied().unwrap_or(0),
            comments: comment_counts.get(&u.wid).copied().unwrap_or(0),
            wid: u.wid,
            heading: u.heading,
            open,
        })
        .collect();
    let list = store::amendments::for_consultation(
        &mut conn,
        id,
        None,
        (page - 1) * PER_PAGE,
        PER_PAGE + 1,
    )?;
    let more = list.len() as i64 > PER_PAGE;
    let amendments = list
        .iter()
        .take(PER_PAGE as usize)
        .map(|a| AmendmentRow {
            number: display_number(&bill.slug, a.number),
            href: amendment_href(&bill.slug, a.number),
            author: a.author_label.clone(),
            level: a.author_level,
            status: t.get(&format!("status_{}", a.status)).into(),
        })
        .collect();
    // The consolidated text, or staff's ways to make it / move to a newer version.
    let consolidated = store::consolidations::for_consultation(&mut conn, c.id)?
        .and_then(|k| number_of(k.version_id))
        .map(|n| Consolidated {
            number: n,
            href: format!("/bills/{}?v={n}", bill.slug),
            provenance: format!("/bills/{}/versions/{n}/provenance", bill.slug),
        });
    drop(conn);
    let staff = ctx.viewer.as_ref().is_some_and(|v| v.has_role(Role::Staff));
    let newer_versions = if staff && c.phase.before_voting() {
        versions
            .iter()
            .map(|m| m.number)
            .filter(|n| *n > version)
            .collect()
    } else {
        Vec::new()
    };
    let next_phase = c.phase.next().map(|p| Named::new(lang, "phase", p));
    Ok(ConsultationPage {
        can_consolidate: staff && consolidated.is_none() && c.phase.voting_started(),
        staff: staff && next_phase.is_some(),
        consultation: ConsultationFacts {
            id: c.id,
            description: render::markdown_block(&c.description),
            title: c.title,
            opens_on: c.opens_on,
            closes_on: c.closes_on,
            level_comment: c.level_comment,
            level_amend: c.level_amend,
            level_vote: c.level_vote,
        },
        phase: Named::new(lang, "phase", c.phase),
        bill: BillVersion {
            slug: bill.slug,
            title: bill.meta.title,
            version,
        },
        articles,
        amendments,
        page,
        prev_page: (page > 1).then_some(page - 1),
        next_page: more.then_some(page + 1),
        newer_versions,
        consolidated,
        next_phase,
        csrf: csrf.map(|c| c.0.clone()),
    })
}

// ---------------------------------------------------------------- amending

/// What the amendment form shows (and keeps when it comes back).
pub struct AmendDraft {
    pub text: String,
    pub justification: String,
    pub disclosure: Disclosure,
    pub kind: FilingKind,
    pub token: String,
    pub sha: String,
    pub preview: Option<Preview>,
    /// A refusal the person can fix in the form, in their language.
    pub error: Option<String>,
}

/// The word diff and the formal wording an amendment would make.
#[derive(Serialize)]
pub struct Preview {
    /// HTML.
    diff: String,
    wording: Vec<String>,
}

/// `/consultations/<id>/articles/<wid>/amend` and `/bills/<slug>/amendments/<n>/rectify`:
/// the form that files an amendment to an article, or corrects one ("rectifié").
#[derive(Serialize)]
pub struct AmendForm {
    action: String,
    /// The revision a correction is made from; none for a new amendment.
    base: Option<i32>,
    consultation: ConsultationRef,
    article: ArticleRef,
    text: String,
    justification: String,
    token: String,
    sha: String,
    csrf: String,
    name_label: String,
    pseudonym_label: String,
    pseudonymous: bool,
    level: u8,
    kinds: Vec<KindChoice>,
    error: Option<String>,
    preview: Option<Preview>,
    #[serde(skip)]
    heading: String,
}

#[derive(Serialize)]
struct ConsultationRef {
    id: ConsultationId,
    title: String,
}

#[derive(Serialize)]
struct ArticleRef {
    wid: String,
    num: String,
    heading: String,
}

#[derive(Serialize)]
struct KindChoice {
    value: &'static str,
    name: String,
    checked: bool,
}

impl Page for AmendForm {
    const TEMPLATE: &'static str = "amend";
    fn title(&self, _: &Translations) -> String {
        self.heading.clone()
    }
}

/// The amendment a form corrects, and the revision it was made from.
struct Correcting<'a> {
    bill_slug: &'a str,
    number: i32,
    base: i32,
}

/// The empty form for a new amendment to article `wid` of consultation `id`: its text,
/// to edit; only while the consultation takes amendments at the viewer's level (below
/// it, the error offers to raise it).
pub fn amend_new(
    app: &App,
    ctx: &Ctx,
    csrf: &CsrfToken,
    me: &SessionInfo,
    id: ConsultationId,
    wid: &str,
) -> Result<AmendForm, AppError> {
    let (c, slug, art) = svc::article(app.reader.store(), id, wid)?;
    match svc::may_amend(me, &c) {
        Err(e @ ConsultationError::Level { .. }) => {
            return Err(AppError::from(e).step_up_from(&ctx.path))
        }
        r => r?,
    }
    let d = AmendDraft {
        text: art.body.clone(),
        justification: String::new(),
        disclosure: Disclosure::Name,
        kind: FilingKind::Edit,
        token: crate::service::identity::random_token()?,
        sha: art.sha256.clone(),
        preview: None,
        error: None,
    };
    Ok(amend_form(app, ctx, csrf, me, &c, &slug, &art, None, d))
}

/// The amendment form again, after a preview or a refusal.
pub fn amend_again(
    app: &App,
    ctx: &Ctx,
    csrf: &CsrfToken,
    me: &SessionInfo,
    id: ConsultationId,
    wid: &str,
    d: AmendDraft,
) -> Result<AmendForm, AppError> {
    let (c, slug, art) = svc::article(app.reader.store(), id, wid)?;
    Ok(amend_form(app, ctx, csrf, me, &c, &slug, &art, None, d))
}

/// The correction form of amendment `number` of bill `slug`: its current text in the
/// filing form; only its author, while it may be corrected.
pub fn rectify_new(
    app: &App,
    ctx: &Ctx,
    csrf: &CsrfToken,
    me: &SessionInfo,
    slug: &str,
    number: i32,
) -> Result<AmendForm, AppError> {
    let (bill, a) = listing::by_number(app.reader.store(), slug, number)?;
    let (c, slug, art) = listing::amendment_article(&app.reader, &a)?;
    svc::may_rectify(me, &a, &c)?;
    let mut conn = app.reader.store().conn()?;
    let rev = store::amendments::revision(&mut conn, a.id, a.revision)?
        .ok_or_else(AppError::not_found)?;
    drop(conn);
    let ops = disposition::parse_operations(&rev.operations)?;
    let (kind, text) = svc::filing_of(&art, &ops).map_err(AppError::internal)?;
    let d = AmendDraft {
        text,
        justification: rev.justification,
        disclosure: a.disclosure,
        kind,
        token: String::new(),
        sha: art.sha256.clone(),
        preview: None,
        error: None,
    };
    let correcting = Correcting {
        bill_slug: &bill.slug,
        number: a.number,
        base: a.revision,
    };
    Ok(amend_form(
        app,
        ctx,
        csrf,
        me,
        &c,
        &slug,
        &art,
        Some(correcting),
        d,
    ))
}

/// The correction form again, after a preview or a refusal: `d`, made from revision
/// `base` of amendment `a` of `bill` (its disclosure is the amendment's).
#[allow(clippy::too_many_arguments)]
pub fn rectify_again(
    app: &App,
    ctx: &Ctx,
    csrf: &CsrfToken,
    me: &SessionInfo,
    bill: &Bill,
    a: &Amendment,
    base: i32,
    d: AmendDraft,
) -> Result<AmendForm, AppError> {
    let (c, slug, art) = listing::amendment_article(&app.reader, a)?;
    // A correction keeps the amendment's disclosure, whatever the form sent.
    let d = AmendDraft {
        disclosure: a.disclosure,
        ..d
    };
    let correcting = Correcting {
        bill_slug: &bill.slug,
        number: a.number,
        base,
    };
    Ok(amend_form(
        app,
        ctx,
        csrf,
        me,
        &c,
        &slug,
        &art,
        Some(correcting),
        d,
    ))
}

#[allow(clippy::too_many_arguments)]
fn amend_form(
    app: &App,
    ctx: &Ctx,
    csrf: &CsrfToken,
    me: &SessionInfo,
    c: &Consultation,
    slug: &str,
    art: &svc::Article,
    correcting: Option<Correcting<'_>>,
    d: AmendDraft,
) -> AmendForm {
    let t = ctx.lang.tr();
    let kinds = [
        (FilingKind::Edit, "edit"),
        (FilingKind::RepealArticle, "repeal"),
        (FilingKind::InsertAfter, "insert"),
    ]
    .into_iter()
    .map(|(k, value)| KindChoice {
        value,
        name: t.get(&format!("kind_{value}")).into(),
        checked: k == d.kind,
    })
    .collect();
    let label = |disclosure| svc::author_label(&app.pseudonym_key, me, slug, disclosure);
    let (action, base, heading) = match &correcting {
        Some(r) => (
            format!("/bills/{}/amendments/{}/rectify", r.bill_slug, r.number),
            Some(r.base),
            t.fmt(
                "rectify_title",
                &[("number", &display_number(r.bill_slug, r.number))],
            ),
        ),
        None => (
            format!("/consultations/{}/articles/{}/amend", c.id, art.wid),
            None,
            t.fmt("amend_title", &[("num", &art.num)]),
        ),
    };
    AmendForm {
        action,
        base,
        consultation: ConsultationRef {
            id: c.id,
            title: c.title.clone(),
        },
        article: ArticleRef {
            wid: art.wid.clone(),
            num: art.num.clone(),
            heading: art.heading.clone(),
        },
        name_label: label(Disclosure::Name),
        pseudonym_label: label(Disclosure::Pseudonym),
        pseudonymous: d.disclosure == Disclosure::Pseudonym,
        level: me.level().get(),
        kinds,
        text: d.text,
        justification: d.justification,
        token: d.token,
        sha: d.sha,
        csrf: csrf.0.clone(),
        error: d.error,
        preview: d.preview,
        heading,
    }
}

/// The word diff and the formal wording of operations on an article.
pub fn preview(lang: Lang, art: &svc::Article, ops: &[Operation]) -> Result<Preview, AppError> {
    let (old, new) = effect(&art.body, ops).map_err(AppError::internal)?;
    Ok(Preview {
        diff: render::diff_html(&word_diff(&old, &new)),
        wording: wordings(lang, art, ops),
    })
}

/// A refusal the form shows next to the input (the person can fix it there), or the
/// error page for anything else.
pub fn form_error(lang: Lang, e: ConsultationError) -> Result<String, AppError> {
    let t = lang.tr();
    match e {
        ConsultationError::Amend(amendment::AmendError::Empty) => {
            Ok(t.get("err_empty_amendment").into())
        }
        ConsultationError::Invalid { reason, .. } => Ok(t.get(reason).into()),
        ConsultationError::State(key @ "err_rectify_nothing") => Ok(t.get(key).into()),
        e => Err(e.into()),
    }
}

fn wordings(lang: Lang, art: &svc::Article, ops: &[Operation]) -> Vec<String> {
    let wording = match lang {
        Lang::Fr => Wording::Fr,
        Lang::En => Wording::En,
    };
    ops.iter()
        .map(|op| amendment::wording(wording, &art.num, &art.body, op))
        .collect()
}

fn amendment_href(bill_slug: &str, number: i32) -> String {
    format!("/bills/{bill_slug}/amendments/{number}")
}

// ---------------------------------------------------------------- an amendment

/// `/bills/<slug>/amendments/<n>`: an amendment, its wording and diff, its ruling and
/// rebase, the amendments it conflicts with or is identical to, its earlier revisions,
/// its comments, and the buttons its author and staff may use.
#[derive(Serialize)]
pub struct AmendmentPage {
    number: String,
    revision: i32,
    rectified: bool,
    consultation: ConsultationRef,
    article: ArticleLink,
    author: String,
    pseudonymous: bool,
    level: i32,
    status: String,
    filed_at: String,
    wording: Vec<String>,
    /// HTML.
    diff: String,
    /// HTML.
    justification: String,
    can_withdraw: bool,
    withdraw_href: String,
    rectify_href: Option<String>,
    conflicts: Vec<ConflictLink>,
    identical: Vec<AmendmentLink>,
    revisions: Vec<EarlierRevision>,
    disposition: Option<DispositionFacts>,
    rebase: Option<RebaseFacts>,
    /// Staff's rulings (none for anyone else).
    rulings: Vec<Choice>,
    rule_href: Option<String>,
    /// The `comments` partial's data, as `web::comments` builds it (untyped there).
    comments: Comments,
    /// Hidden by moderation: the notice in place of the text, as `web::moderation`
    /// builds it (untyped there), with the moderated view of the diff and justification.
    hidden: Option<HiddenNotice>,
    can_report: bool,
    /// The amendment's id (the report form and the moderation notice name it).
    id: AmendmentId,
    csrf: Option<String>,
}

#[derive(Serialize)]
struct ArticleLink {
    num: String,
    heading: String,
    href: String,
}

#[derive(Serialize)]
struct AmendmentLink {
    number: String,
    href: String,
}

impl AmendmentLink {
    fn of(bill_slug: &str, number: i32) -> AmendmentLink {
        AmendmentLink {
            number: display_number(bill_slug, number),
            href: amendment_href(bill_slug, number),
        }
    }
}

#[derive(Serialize)]
struct ConflictLink {
    #[serde(flatten)]
    link: AmendmentLink,
    /// The kind of conflict, named.
    kind: String,
    code: &'static str,
}

#[derive(Serialize)]
struct EarlierRevision {
    revision: i32,
    created_at: String,
    /// HTML; none for a revision on another version than the current one's article.
    diff: Option<String>,
    /// HTML.
    justification: String,
}

#[derive(Serialize)]
struct DispositionFacts {
    /// The public reason of an inadmissibility.
    reason: Option<String>,
    fallen_by: Option<AmendmentLink>,
    decided_at: String,
}

#[derive(Serialize)]
struct RebaseFacts {
    outcome: RebaseOutcome,
    message: String,
    /// HTML: the proposed wording on the new version.
    diff: Option<String>,
    accept_href: Option<String>,
}

impl DispositionFacts {
    /// The ruling on `a`, if staff gave one.
    fn read(
        conn: &mut DbConnection,
        a: &Amendment,
        slug: &str,
    ) -> Result<Option<DispositionFacts>, StoreError> {
        let Some(d) = store::dispositions::for_amendment(conn, a.id)? else {
            return Ok(None);
        };
        let fallen_by = match d.fallen_by {
            Some(id) => {
                store::amendments::by_id(conn, id)?.map(|f| AmendmentLink::of(slug, f.number))
            }
            None => None,
        };
        Ok(Some(DispositionFacts {
            reason: (!d.reason.is_empty()).then_some(d.reason),
            fallen_by,
            decided_at: d.decided_at.display(),
        }))
    }
}

impl RebaseFacts {
    /// What rebase `r` did to `a`: for a proposed one, the proposed wording on the new
    /// version, and the button to accept it when `accept`.
    fn read(
        conn: &mut DbConnection,
        t: &Translations,
        r: &Rebase,
        a: &Amendment,
        slug: &str,
        accept: bool,
    ) -> Result<RebaseFacts, StoreError> {
        let to = store::versions::by_id(conn, r.to_version_id)?.map_or(0, |v| v.meta.number);
        let mut facts = RebaseFacts {
            outcome: r.outcome,
            message: t.fmt(&format!("rebase_{}", r.outcome), &[("version", &to)]),
            diff: None,
            accept_href: None,
        };
        if r.outcome == RebaseOutcome::Proposed {
            let ops = disposition::parse_operations(&r.operations)?;
            let bodies = disposition::bodies(conn, r.to_version_id)?;
            if let Some(body) = bodies.get(&a.article_wid) {
                if let Ok(new) = amendment::apply(body, &ops) {
                    facts.diff = Some(render::diff_html(&word_diff(body, &new)));
                }
            }
            if accept {
                facts.accept_href = Some(format!(
                    "/bills/{slug}/amendments/{}/accept-rebase",
                    a.number
                ));
            }
        }
        Ok(facts)
    }
}

impl Page for AmendmentPage {
    const TEMPLATE: &'static str = "amendment";
    fn title(&self, _: &Translations) -> String {
        self.number.clone()
    }
}

/// The i18n suffix of a kind of conflict (`conflict_overlap`, …).
fn conflict_code(c: amendment::Conflict) -> &'static str {
    match c {
        amendment::Conflict::Overlap => "overlap",
        amendment::Conflict::RepealedUnit => "repealed_unit",
        amendment::Conflict::OrderDependent => "order_dependent",
    }
}

/// Amendment `number` of bill `slug`.
pub fn amendment(
    app: &App,
    ctx: &Ctx,
    csrf: Option<&CsrfToken>,
    slug: &str,
    number: i32,
) -> Result<AmendmentPage, AppError> {
    let lang = ctx.lang;
    let t = lang.tr();
    let store = app.reader.store();
    let (bill, a) = listing::by_number(store, slug, number)?;
    let slug = bill.slug.as_str();
    let (c, _, art) = listing::amendment_article(&app.reader, &a)?;
    let viewer = ctx.viewer.as_ref();
    // What is stored about it: its revisions, ruling and latest rebase, in one read.
    let mut conn = store.conn()?;
    let mut revisions = store::amendments::revisions(&mut conn, a.id)?;
    let at = revisions
        .iter()
        .position(|r| r.revision == a.revision)
        .ok_or_else(AppError::not_found)?;
    let rev = revisions.remove(at);
    let ruling = DispositionFacts::read(&mut conn, &a, slug)?;
    let latest_rebase = store::rebases::latest(&mut conn, a.id)?;
    let rebase = match &latest_rebase {
        // The author's button to accept a proposed rebase.
        Some(r) => Some(RebaseFacts::read(
            &mut conn,
            t,
            r,
            &a,
            slug,
            viewer.is_some_and(|me| consolidation::may_accept_rebase(&c, &a, r, me.account.id)),
        )?),
        None => None,
    };
    drop(conn);
    let ops = disposition::parse_operations(&rev.operations)?;
    let (old, new) = effect(&art.body, &ops).map_err(AppError::internal)?;
    let diff = render::diff_html(&word_diff(&old, &new));
    let justification = render::markdown_block(&rev.justification);
    // Every earlier revision, newest first, with its diff.
    let revisions = revisions
        .iter()
        .rev()
        .map(|r| {
            let ops = disposition::parse_operations(&r.operations).unwrap_or_default();
            EarlierRevision {
                revision: r.revision,
                created_at: r.created_at.display(),
                diff: effect(&art.body, &ops)
                    .ok()
                    .filter(|_| !ops.is_empty())
                    .map(|(old, new)| render::diff_html(&word_diff(&old, &new))),
                justification: render::markdown_block(&r.justification),
            }
        })
        .collect();
    // The standing amendments on the same unit it conflicts with, or is identical to.
    let related = listing::related(store, &a, &art.body)?;
    let conflicts = related
        .conflicts
        .iter()
        .map(|(o, why)| ConflictLink {
            link: AmendmentLink::of(slug, o.number),
            kind: t.get(&format!("conflict_{}", conflict_code(*why))).into(),
            code: conflict_code(*why),
        })
        .collect();
    let identical = related
        .identical
        .iter()
        .map(|o| AmendmentLink::of(slug, o.number))
        .collect();
    let staff = viewer.is_some_and(|v| v.has_role(Role::Staff));
    let rulings = if staff {
        ["admissible", "inadmissible", "adopted", "rejected"]
            .into_iter()
            .map(|r| Choice {
                value: r.into(),
                name: t.get(&format!("rule_{r}")).into(),
                selected: false,
            })
            .collect()
    } else {
        Vec::new()
    };
    let threads = crate::service::comments::for_amendment(store, &a)?;
    // What moderation hides in this consultation, read once for the amendment and its
    // comments.
    let hiding = ModerationView::load(app, ctx, csrf, c.id)?;
    let comments = super::comment::comments(
        app,
        ctx,
        csrf,
        &c,
        slug,
        &threads,
        FormTarget::Amendment(a.id),
        &hiding,
    )?;
    // Hidden by moderation: the notice and reason in place of the text, which signed-in
    // people may still open when the rule allows.
    let hidden = hiding
        .hidden
        .get(&(crate::service::moderation::Kind::Amendment, a.id.get()))
        .map(|h| {
            let mut notice =
                super::moderation::hidden(lang, h, viewer.is_some(), &rev.justification);
            if notice.body_html.is_some() {
                notice.body_html = Some(format!(
                    "<div class=\"diff-inline\">{diff}</div>{justification}"
                ));
            }
            notice
        });
    Ok(AmendmentPage {
        number: display_number(slug, a.number),
        revision: a.revision,
        // "Rectifié": a revision written by its author, not one a rebase wrote.
        rectified: listing::rectified(&a, latest_rebase.as_ref()),
        consultation: ConsultationRef {
            id: c.id,
            title: c.title.clone(),
        },
        article: ArticleLink {
            href: format!("/bills/{slug}/articles/{}", art.wid),
            num: art.num.clone(),
            heading: art.heading.clone(),
        },
        author: a.author_label.clone(),
        pseudonymous: a.disclosure == Disclosure::Pseudonym,
        level: a.author_level,
        status: t.get(&format!("status_{}", a.status)).into(),
        filed_at: a.filed_at.display(),
        wording: wordings(lang, &art, &ops),
        diff,
        justification,
        can_withdraw: viewer.is_some_and(|v| svc::may_withdraw(v, &a, &c).is_ok()),
        withdraw_href: format!("/bills/{slug}/amendments/{}/withdraw", a.number),
        rectify_href: viewer
            .is_some_and(|v| svc::may_rectify(v, &a, &c).is_ok())
            .then(|| format!("/bills/{slug}/amendments/{}/rectify", a.number)),
        conflicts,
        identical,
        revisions,
        disposition: ruling,
        rebase,
        rulings,
        rule_href: staff.then(|| format!("/bills/{slug}/amendments/{}/rule", a.number)),
        comments,
        hidden,
        can_report: csrf.is_some() && viewer.is_some_and(|v| v.account.id != a.author_id),
        id: a.id,
        csrf: csrf.map(|c| c.0.clone()),
    })
}

// ---------------------------------------------------------------- the list

/// A list's filters and page, checked (see [`ListQuery::parse`]).
pub struct ListQuery {
    article: Option<String>,
    status: Option<AmendmentStatus>,
    author: Option<Disclosure>,
    page: i64,
}

impl ListQuery {
    /// The query string's filters (empty means any) and page (from 1): a value that is
    /// not one of the choices, or a page that is not a number from 1, is a 400 naming
    /// the parameter.
    pub fn parse(
        article: Option<&str>,
        status: Option<&str>,
        author: Option<&str>,
        page: Option<&str>,
    ) -> Result<ListQuery, AppError> {
        let bad = |p: &str| {
            let p = p.to_string();
            AppError::new(Status::BadRequest, move |t| {
                t.fmt("err_list_filter", &[("param", &p)])
            })
        };
        let filter = listing::parse_filter(article, status, author).map_err(bad)?;
        let page = match page.map(str::trim).filter(|p| !p.is_empty()) {
            None => 1,
            Some(p) => p
                .parse()
                .ok()
                .filter(|p| (1..=1_000_000).contains(p))
                .ok_or_else(|| bad("page"))?,
        };
        Ok(ListQuery {
            article: filter.article_wid.map(str::to_string),
            status: filter.status,
            author: filter.disclosure,
            page,
        })
    }
}

/// `/consultations/<id>/amendments`: a consultation's amendments, filtered, a page of
/// them, and the filters' choices.
#[derive(Serialize)]
pub struct Amendments {
    consultation: ConsultationRef,
    amendments: Vec<ListedAmendment>,
    articles: Vec<Choice>,
    statuses: Vec<Choice>,
    authors: Vec<Choice>,
    filtered: bool,
    /// "Amendments 1 to 50 of 120 (page 1 of 3)".
    count: String,
    prev_href: Option<String>,
    next_href: Option<String>,
    #[serde(skip)]
    heading: String,
}

#[derive(Serialize)]
struct ListedAmendment {
    number: String,
    href: String,
    /// The heading of its article.
    article: String,
    author: String,
    pseudonymous: bool,
    level: i32,
    status: String,
    identical: Vec<AmendmentLink>,
}

impl Page for Amendments {
    const TEMPLATE: &'static str = "amendments";
    fn title(&self, _: &Translations) -> String {
        self.heading.clone()
    }
}

/// The page `q` asks for of consultation `id`'s amendments; a page after the last is a
/// 404.
pub fn amendments(
    app: &App,
    ctx: &Ctx,
    id: ConsultationId,
    q: &ListQuery,
) -> Result<Amendments, AppError> {
    let t = ctx.lang.tr();
    let store = app.reader.store();
    let nf = AppError::not_found;
    let filter = store::amendments::ListFilter {
        article_wid: q.article.as_deref(),
        status: q.status,
        disclosure: q.author,
    };
    let mut conn = store.conn()?;
    let c = store::consultations::by_id(&mut conn, id)?.ok_or_else(nf)?;
    let bill = store::bills::by_id(&mut conn, c.bill_id)?.ok_or_else(nf)?;
    // The choices of the form: only the articles (and divisions) that have amendments —
    // a CPI-sized bill has thousands of others.
    let amended: HashSet<String> = store::amendments::counts_by_article(&mut conn, id)?
        .into_iter()
        .map(|(wid, _)| wid)
        .collect();
    drop(conn);
    // The version's units from the reader's cache, not the database (issue 4).
    let (_, version) = listing::cached_version(&app.reader, &bill.slug, c.version_id)?;
    let units = &version.units;
    let headings: HashMap<&str, &str> = units
        .iter()
        .map(|u| {
            (
                u.wid.as_str(),
                u.heading.as_deref().unwrap_or(u.wid.as_str()),
            )
        })
        .collect();
    let page = q.page;
    let (list, total) = listing::page(store, id, &filter, page)?;
    let pages = ((total + listing::PER_PAGE - 1) / listing::PER_PAGE).max(1);
    if page > pages {
        return Err(nf());
    }
    let identical = listing::identical_numbers(store, &list)?;
    let slug = bill.slug.as_str();
    let amendments = list
        .iter()
        .zip(identical)
        .map(|(a, same)| ListedAmendment {
            number: display_number(slug, a.number),
            href: amendment_href(slug, a.number),
            article: headings
                .get(a.article_wid.as_str())
                .copied()
                .unwrap_or(a.article_wid.as_str())
                .to_string(),
            author: a.author_label.clone(),
            pseudonymous: a.disclosure == Disclosure::Pseudonym,
            level: a.author_level,
            status: t.get(&format!("status_{}", a.status)).into(),
            identical: same.iter().map(|n| AmendmentLink::of(slug, *n)).collect(),
        })
        .collect();
    let article = q.article.as_deref();
    let status = q.status.map(AmendmentStatus::as_str);
    let author = q.author.map(Disclosure::as_str);
    let articles = units
        .iter()
        .filter(|u| u.kind == UnitKind::Article || u.kind == UnitKind::Division)
        .filter(|u| amended.contains(&u.wid) || article == Some(u.wid.as_str()))
        .map(|u| Choice {
            value: u.wid.clone(),
            name: u.heading.clone().unwrap_or_else(|| u.wid.clone()),
            selected: article == Some(u.wid.as_str()),
        })
        .collect();
    let choices = |words: &[&str], prefix: &str, chosen: Option<&str>| -> Vec<Choice> {
        words
            .iter()
            .map(|s| Choice {
                value: s.to_string(),
                name: t.get(&format!("{prefix}_{s}")).into(),
                selected: chosen == Some(*s),
            })
            .collect()
    };
    // Page links keep the filters.
    let mut query = String::new();
    for (k, v) in [("article", article), ("status", status), ("author", author)] {
        if let Some(v) = v {
            query.push_str(&format!("{k}={}&", url_encode(v).replace('/', "%2F")));
        }
    }
    let href = |p: i64| format!("/consultations/{id}/amendments?{query}page={p}");
    let first = (page - 1) * listing::PER_PAGE + 1;
    Ok(Amendments {
        heading: t.fmt("amendments_list_title", &[("title", &c.title)]),
        consultation: ConsultationRef {
            id: c.id,
            title: c.title,
        },
        amendments,
        articles,
        statuses: choices(&listing::STATUSES, "status", status),
        authors: choices(&["name", "pseudonym"], "author_kind", author),
        filtered: article.is_some() || status.is_some() || author.is_some(),
        count: t.fmt(
            "amendments_count_line",
            &[
                ("total", &total),
                ("first", &first.min(total)),
                ("last", &(first - 1 + list.len() as i64)),
                ("page", &page),
                ("pages", &pages),
            ],
        ),
        prev_href: (page > 1).then(|| href(page - 1)),
        next_href: (page < pages).then(|| href(page + 1)),
    })
}
