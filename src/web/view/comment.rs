//! Comment pages: a consultation's article with its comments, and the comments of a
//! text or an amendment as the `comments` partial shows them (threads, and the forms to
//! comment, reply, answer and report that the viewer may use). The rules are in
//! `service::comments` and `service::moderation`.

use super::{Choice, Page};
use crate::domain::ids::{AccountId, AmendmentId, CommentId, ConsultationId};
use crate::domain::time::Timestamp;
use crate::service::comments::{self as svc, NoComment, Thread};
use crate::service::consultation::{author_label, Disclosure};
use crate::service::identity::{random_token, SessionInfo};
use crate::service::moderation::{self as moderation, Kind};
use crate::store::{self, comments::Comment, consultations::Consultation};
use crate::text::{render, UnitKind};
use crate::web::auth::CsrfToken;
use crate::web::errors::AppError;
use crate::web::fragments::PageLinks;
use crate::web::i18n::{Lang, Translations};
use crate::web::view::moderation::{hidden, reasons, HiddenNotice, ReasonChoice};
use crate::web::{url_encode, App, Ctx};
use serde::Serialize;
use std::collections::HashMap;

/// What moderation changes in how comments are shown to this viewer.
pub struct ModerationView {
    lang: Lang,
    pub hidden: HashMap<(Kind, i64), moderation::Hidden>,
    signed_in: bool,
    /// The viewer, when they may report (signed in, with a form token).
    reporter: Option<SessionInfo>,
}

impl ModerationView {
    pub fn load(
        app: &App,
        ctx: &Ctx,
        csrf: Option<&CsrfToken>,
        consultation_id: ConsultationId,
    ) -> Result<Self, AppError> {
        let mut conn = app.reader.store().conn()?;
        let hidden = moderation::hidden_in(&mut conn, consultation_id)?;
        Ok(ModerationView {
            lang: ctx.lang,
            hidden,
            signed_in: ctx.viewer.is_some(),
            reporter: ctx.viewer.clone().filter(|_| csrf.is_some()),
        })
    }

    /// Whether the viewer is offered to report a contribution by `author_id`.
    pub fn may_report(&self, author_id: AccountId) -> bool {
        self.reporter
            .as_ref()
            .is_some_and(|w| moderation::may_report(w, author_id))
    }
}

/// What the form of a new top comment targets.
pub enum FormTarget<'a> {
    /// The article (and its paragraphs, given as their wids).
    Article {
        wid: &'a str,
        paragraphs: Vec<String>,
        /// A refused comment comes back: show its form, with what was typed, even to
        /// someone who may not comment now (below the level, voting opened).
        keep: bool,
    },
    Amendment(AmendmentId),
}

/// What a refused comment form brings back: the reason and the input.
pub struct Draft {
    pub error: String,
    /// A way forward after the message (signing in again at a higher level, appealing
    /// a suspension): (address, label).
    pub link: Option<(String, String)>,
    pub unit: String,
    pub quote: String,
    pub body: String,
    pub token: String,
}

/// The data of the `comments` partial: the threads, and the forms the viewer may use.
#[derive(Serialize)]
pub struct Comments {
    consultation: ConsultationId,
    count: usize,
    threads: Vec<ThreadItem>,
    csrf: Option<String>,
    /// The form of a new top comment, for someone who may comment.
    form: Option<NewComment>,
    /// Why there is no form (sign in, closed, level), and where to sign in.
    refusal: Option<String>,
    signin_href: Option<String>,
    /// Staff's form to answer an amendment as the institution.
    answer_form: Option<AnswerForm>,
    /// The reasons of the report forms.
    reasons: Vec<ReasonChoice>,
}

/// A comment as the `comment` partial shows it.
#[derive(Serialize)]
struct CommentItem {
    hidden: Option<HiddenNotice>,
    can_report: bool,
    id: CommentId,
    author: String,
    pseudonymous: bool,
    level: i32,
    answer: bool,
    created_at: Timestamp,
    created_at_shown: String,
    /// The body, rendered ('' when hidden: the notice shows instead).
    body_html: String,
}

/// A top comment and its replies, with the reply and answer forms' tokens.
#[derive(Serialize)]
struct ThreadItem {
    #[serde(flatten)]
    top: CommentItem,
    quote: String,
    /// "On paragraph N".
    paragraph: Option<String>,
    /// "On an earlier version (N)".
    earlier: Option<String>,
    replies: Vec<CommentItem>,
    reply_token: Option<String>,
    answer_token: Option<String>,
}

#[derive(Serialize)]
struct NewComment {
    token: String,
    name_label: String,
    pseudonym_label: String,
    level: u8,
    /// On the text: the article and its paragraphs to choose from.
    units: Option<Vec<Choice>>,
    /// On an amendment: its id.
    amendment: Option<AmendmentId>,
    legend: String,
    error: Option<String>,
    error_href: Option<String>,
    error_link: Option<String>,
    quote: String,
    body: String,
}

#[derive(Serialize)]
struct AnswerForm {
    token: String,
    amendment: AmendmentId,
}

impl CommentItem {
    fn of(c: &Comment, view: &ModerationView) -> CommentItem {
        let hidden = view
            .hidden
            .get(&(Kind::Comment, c.id.get()))
            .map(|h| hidden(view.lang, h, view.signed_in, &c.body));
        CommentItem {
            body_html: if hidden.is_some() {
                String::new()
            } else {
                render::markdown_block(&c.body)
            },
            hidden,
            can_report: view.may_report(c.author_id),
            id: c.id,
            author: c.author_label.clone(),
            pseudonymous: c.disclosure == Disclosure::Pseudonym,
            level: c.author_level,
            answer: c.kind == svc::CommentKind::Answer,
            created_at: c.created_at,
            created_at_shown: c.created_at.display(),
        }
    }
}

/// The comments of a text or an amendment (`threads`, read by the caller), and the forms
/// this viewer may use.
#[allow(clippy::too_many_arguments)]
pub fn comments(
    app: &App,
    ctx: &Ctx,
    csrf: Option<&CsrfToken>,
    c: &Consultation,
    bill_slug: &str,
    threads: &[Thread],
    target: FormTarget<'_>,
    view: &ModerationView,
) -> Result<Comments, AppError> {
    let t = ctx.lang.tr();
    let viewer = ctx.viewer.as_ref();
    let can_comment = viewer.is_some_and(|v| svc::may_comment(c, v)) && csrf.is_some();
    let can_answer = viewer.is_some_and(|v| svc::may_answer(c, v)) && csrf.is_some();
    let count: usize = threads.iter().map(|th| 1 + th.replies.len()).sum();
    let mut items = Vec::with_capacity(threads.len());
    for th in threads {
        items.push(ThreadItem {
            top: CommentItem::of(&th.top, view),
            quote: th.top.quote.clone(),
            paragraph: th
                .paragraph
                .map(|n| t.fmt("comment_paragraph", &[("n", &n)])),
            earlier: th
                .earlier
                .map(|n| t.fmt("on_earlier_version", &[("n", &n)])),
            replies: th
                .replies
                .iter()
                .map(|r| CommentItem::of(r, view))
                .collect(),
            reply_token: if can_comment {
                Some(random_token()?)
            } else {
                None
            },
            answer_token: if can_answer {
                Some(random_token()?)
            } else {
                None
            },
        });
    }
    let signin_href = || {
        format!(
            "/signin?level={}&next={}",
            c.level_comment,
            url_encode(&ctx.path)
        )
    };
    let keep = matches!(target, FormTarget::Article { keep: true, .. }) && csrf.is_some();
    let (mut form, mut refusal, mut signin) = (None, None, None);
    match viewer {
        Some(me) if can_comment || keep => {
            let (units, amendment, legend) = match &target {
                FormTarget::Article {
                    wid, paragraphs, ..
                } => {
                    let mut units = vec![Choice {
                        value: wid.to_string(),
                        name: t.get("comment_whole_article").into(),
                        selected: false,
                    }];
                    units.extend(paragraphs.iter().enumerate().map(|(i, p)| Choice {
                        value: p.clone(),
                        name: t.fmt("comment_paragraph", &[("n", &(i + 1))]),
                        selected: false,
                    }));
                    (Some(units), None, t.get("comment_new"))
                }
                FormTarget::Amendment(id) => (None, Some(*id), t.get("comment_new_amendment")),
            };
            form = Some(NewComment {
                token: random_token()?,
                name_label: author_label(&app.pseudonym_key, me, bill_slug, Disclosure::Name),
                pseudonym_label: author_label(
                    &app.pseudonym_key,
                    me,
                    bill_slug,
                    Disclosure::Pseudonym,
                ),
                level: me.level().get(),
                units,
                amendment,
                legend: legend.into(),
                error: None,
                error_href: None,
                error_link: None,
                quote: String::new(),
                body: String::new(),
            });
        }
        _ => match svc::why_not_comment(c, viewer) {
            None => {}
            Some(NoComment::SignIn) => {
                refusal = Some(t.get("comments_signin").to_string());
                signin = Some(signin_href());
            }
            Some(NoComment::Closed) => refusal = Some(t.get("comments_closed").to_string()),
            Some(NoComment::Level) => {
                let got = viewer.map_or(0, |me| me.level().get());
                refusal = Some(t.fmt(
                    "comments_level",
                    &[("level", &c.level_comment), ("got", &got)],
                ));
                signin = Some(signin_href());
            }
        },
    }
    let answer_form = match (can_answer, &target) {
        (true, FormTarget::Amendment(id)) => Some(AnswerForm {
            token: random_token()?,
            amendment: *id,
        }),
        _ => None,
    };
    Ok(Comments {
        consultation: c.id,
        count,
        threads: items,
        csrf: csrf.map(|c| c.0.clone()),
        form,
        refusal,
        signin_href: signin,
        answer_form,
        reasons: reasons(ctx.lang),
    })
}

/// `/consultations/<id>/articles/<wid>`: an article of the consultation's current
/// version, with its comments and the forms to comment.
#[derive(Serialize)]
pub struct Article {
    consultation: ConsultationRef,
    bill: ArticleBill,
    wid: String,
    heading: String,
    /// The article's text, rendered (already-sanitized HTML).
    text_html: String,
    /// Where to propose an amendment, while amendments are open.
    amend_href: Option<String>,
    comments: Comments,
}

#[derive(Serialize)]
struct ConsultationRef {
    id: ConsultationId,
    title: String,
}

#[derive(Serialize)]
struct ArticleBill {
    slug: String,
    title: String,
    language: String,
    version: i32,
}

impl Page for Article {
    const TEMPLATE: &'static str = "consultation_article";
    fn title(&self, t: &Translations) -> String {
        t.fmt("article_comments_title", &[("heading", &self.heading)])
    }
}

/// The article `wid` of consultation `id`; `draft`: a refused comment shown again, its
/// reason beside the form and what was typed kept.
pub fn article(
    app: &App,
    ctx: &Ctx,
    csrf: Option<&CsrfToken>,
    id: ConsultationId,
    wid: &str,
    draft: Option<&Draft>,
) -> Result<Article, AppError> {
    let t = ctx.lang.tr();
    let nf = AppError::not_found;
    let mut conn = app.reader.store().conn()?;
    let c = store::consultations::by_id(&mut conn, id)?.ok_or_else(nf)?;
    let slug = store::bills::by_id(&mut conn, c.bill_id)?
        .ok_or_else(nf)?
        .slug;
    drop(conn);
    // The version's text and units from the reader's cache, never from the database
    // on each request (docs/performance.md, issue 4).
    let (bill, loaded) =
        crate::service::amendments::cached_version(&app.reader, &slug, c.version_id)?;
    let idx = loaded
        .unit_index(wid)
        .filter(|&i| loaded.units[i].kind == UnitKind::Article)
        .ok_or_else(nf)?;
    let end = loaded.units[idx + 1..]
        .iter()
        .position(|u| u.kind != UnitKind::Paragraph || u.parent != Some(idx))
        .map_or(loaded.units.len(), |p| idx + 1 + p);
    let links = PageLinks {
        slug: &bill.slug,
        tr: t,
    };
    let text_html = render::render_units(&loaded.markdown, &loaded.units, idx + 1..end, 2, &links);
    let paragraphs: Vec<String> = loaded.units[idx + 1..end]
        .iter()
        .map(|u| u.wid.clone())
        .collect();
    let threads =
        svc::for_article_in(app.reader.store(), &c, wid, &loaded.markdown, &loaded.units)?;
    let heading = loaded.units[idx].heading.clone().unwrap_or_default();
    let mut comments = comments(
        app,
        ctx,
        csrf,
        &c,
        &bill.slug,
        &threads,
        FormTarget::Article {
            wid,
            paragraphs,
            keep: draft.is_some(),
        },
        &ModerationView::load(app, ctx, csrf, c.id)?,
    )?;
    if let (Some(d), Some(form)) = (draft, comments.form.as_mut()) {
        form.error = Some(d.error.clone());
        if let Some((href, label)) = &d.link {
            form.error_href = Some(href.clone());
            form.error_link = Some(label.clone());
        }
        form.quote = d.quote.clone();
        form.body = d.body.clone();
        form.token = d.token.clone();
        for u in form.units.iter_mut().flatten() {
            u.selected = u.value == d.unit;
        }
    }
    Ok(Article {
        consultation: ConsultationRef {
            id: c.id,
            title: c.title.clone(),
        },
        bill: ArticleBill {
            slug: bill.slug.clone(),
            title: bill.meta.title.clone(),
            language: bill.meta.language.clone(),
            version: loaded.meta.number,
        },
        wid: wid.to_string(),
        heading,
        text_html,
        amend_href: (c.phase.open_for_contributions())
            .then(|| format!("/consultations/{}/articles/{}/amend", c.id, wid)),
        comments,
    })
}
