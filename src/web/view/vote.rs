//! Voting pages: the ballot, the log's public page, closing, what is put to the vote,
//! the results with their charts, the public voters, and checking a receipt. The rules
//! are in `service::voting`; here is what each page shows.

use super::Page;
use crate::domain::ids::ConsultationId;
use crate::domain::time::Day;
use crate::ledger::entry::{Disclosure, Manifest, RevotePolicy, Subject};
use crate::ledger::export::hex_hash;
use crate::service::identity::SessionInfo;
use crate::service::voting::{self, Candidate, ReceiptRefusal, VoteError};
use crate::store;
use crate::web::auth::CsrfToken;
use crate::web::charts;
use crate::web::errors::AppError;
use crate::web::i18n::{Arg, Lang, Translations};
use crate::web::{App, Ctx};
use rocket::http::Status;
use serde::Serialize;
use std::collections::HashMap;

/// A consultation as the voting pages name it (breadcrumbs, links).
#[derive(Serialize)]
struct ConsultationRef {
    id: ConsultationId,
    title: String,
}

impl ConsultationRef {
    fn of(c: &store::consultations::Consultation) -> ConsultationRef {
        ConsultationRef {
            id: c.id,
            title: c.title.clone(),
        }
    }
}

/// A consultation and its bill's slug.
fn consultation(
    app: &App,
    id: ConsultationId,
) -> Result<(store::consultations::Consultation, String), AppError> {
    let mut conn = app.reader.store().conn()?;
    let c = store::consultations::by_id(&mut conn, id)?.ok_or_else(AppError::not_found)?;
    let bill = store::bills::by_id(&mut conn, c.bill_id)?.ok_or_else(AppError::not_found)?;
    Ok((c, bill.slug))
}

/// An item of a manifest as the pages show it: its question, a link to the amendment it
/// is about, and its options (checked as in `chosen`, the ballot shown again).
#[derive(Serialize)]
struct Item {
    index: usize,
    question: String,
    href: Option<String>,
    options: Vec<ItemOption>,
    /// No option chosen: "no answer" is checked.
    blank_checked: bool,
}

#[derive(Serialize)]
struct ItemOption {
    index: usize,
    label: String,
    /// The radio button's id, `item-I-O`.
    id: String,
    checked: bool,
}

fn items(slug: &str, m: &Manifest, chosen: &HashMap<u16, u8>) -> Vec<Item> {
    m.items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let href = match item.subject {
                Subject::Amendment(a) => m.amendments.get(a as usize).map(|r| {
                    let n = r.id.rsplit('-').next().unwrap_or("");
                    format!("/bills/{slug}/amendments/{n}")
                }),
                Subject::Bill => None,
            };
            Item {
                index: i,
                question: item.question.clone(),
                href,
                options: item
                    .options
                    .iter()
                    .enumerate()
                    .map(|(o, label)| ItemOption {
                        index: o,
                        label: label.clone(),
                        id: format!("item-{i}-{o}"),
                        checked: chosen.get(&(i as u16)) == Some(&(o as u8)),
                    })
                    .collect(),
                blank_checked: !chosen.contains_key(&(i as u16)),
            }
        })
        .collect()
}

// ---------------------------------------------------------------- the ballot

/// `/consultations/<id>/vote`: the ballot, filled in as last cast, with the receipt of
/// the last ballot and, just after casting, the notice that it is recorded.
#[derive(Serialize)]
pub struct Vote {
    consultation: VoteConsultation,
    items: Vec<Item>,
    voted: Option<Voted>,
    /// Redirected here after casting (`?cast=INDEX` of the last ballot).
    just_cast: bool,
    /// Casting again replaces the ballot (the last counts).
    revote: bool,
    level: u8,
    minimum: u8,
    csrf: String,
}

#[derive(Serialize)]
struct VoteConsultation {
    id: ConsultationId,
    title: String,
    closes_on: Day,
}

/// The voter's last ballot.
#[derive(Serialize)]
struct Voted {
    index: u64,
    public: bool,
    receipt_href: String,
}

impl Page for Vote {
    const TEMPLATE: &'static str = "vote";
    fn title(&self, t: &Translations) -> String {
        t.get("vote_title").into()
    }
}

pub fn vote(
    app: &App,
    me: &SessionInfo,
    csrf: &CsrfToken,
    id: ConsultationId,
    cast: Option<u64>,
) -> Result<Vote, AppError> {
    let path = format!("/consultations/{id}/vote");
    let (c, slug) = consultation(app, id)?;
    let view = voting::ensure_level(&c, me)
        .and_then(|()| app.voting.voter(me, id))
        .map_err(|e| AppError::from(e).step_up_from(&path))?;
    let chosen: HashMap<u16, u8> = view
        .last
        .as_ref()
        .map(|(_, b)| b.answers.iter().map(|a| (a.item, a.option)).collect())
        .unwrap_or_default();
    let m = &view.log.manifest;
    Ok(Vote {
        items: items(&slug, m, &chosen),
        voted: view.last.as_ref().map(|(i, b)| Voted {
            index: *i,
            public: b.disclosure == Disclosure::Public,
            receipt_href: format!("/consultations/{id}/receipts/{i}"),
        }),
        just_cast: cast.is_some() && cast == view.last.as_ref().map(|l| l.0),
        revote: m.revote == RevotePolicy::LastCounts,
        level: me.level().get(),
        minimum: m.minimum_level,
        csrf: csrf.0.clone(),
        consultation: VoteConsultation {
            id: c.id,
            title: c.title,
            closes_on: c.closes_on,
        },
    })
}

// ---------------------------------------------------------------- the log in public

/// `/consultations/<id>/ballots`: the log's size, key, checkpoints and, once closed, its
/// export files.
#[derive(Serialize)]
pub struct Ballots {
    consultation: ConsultationRef,
    /// Voting has opened: the log exists (the fields below are set only then).
    open: bool,
    log: Option<LogFacts>,
    latest: Option<Latest>,
    /// The 50 latest checkpoints, newest first.
    checkpoints: Vec<CheckpointLink>,
    /// Once closed.
    files: Option<Vec<FileLink>>,
}

#[derive(Serialize)]
struct LogFacts {
    origin: String,
    size: i64,
    closed: bool,
    /// The log's public key, as a note verifier key.
    vkey: String,
    key_destroyed: Option<String>,
    destroy_key_after: Option<String>,
}

#[derive(Serialize)]
struct Latest {
    size: i64,
    note: String,
    at: String,
}

#[derive(Serialize)]
struct CheckpointLink {
    size: i64,
    at: String,
    href: String,
}

#[derive(Serialize)]
struct FileLink {
    name: &'static str,
    href: String,
}

/// The files of a closed log's export.
const EXPORT_FILES: [&str; 5] = [
    "entries.csv",
    "ballots.csv",
    "result.csv",
    "checkpoint.txt",
    "log.vkey",
];

impl Page for Ballots {
    const TEMPLATE: &'static str = "ballots";
    fn title(&self, t: &Translations) -> String {
        t.get("log_title").into()
    }
}

pub fn ballots(app: &App, id: ConsultationId) -> Result<Ballots, AppError> {
    let (c, _) = consultation(app, id)?;
    let mut conn = app.reader.store().conn()?;
    let log = store::ballots::by_consultation(&mut conn, id)?;
    let checkpoints = store::ballots::checkpoints(&mut conn, id)?;
    drop(conn);
    let mut page = Ballots {
        consultation: ConsultationRef::of(&c),
        open: log.is_some(),
        log: None,
        latest: None,
        checkpoints: Vec::new(),
        files: None,
    };
    if let Some(log) = log {
        let closed = log.closed_at.is_some();
        page.latest = checkpoints.last().map(|(s, n, at)| Latest {
            size: *s,
            note: n.clone(),
            at: at.clone(),
        });
        page.checkpoints = checkpoints
            .iter()
            .rev()
            .take(50)
            .map(|(s, _, at)| CheckpointLink {
                size: *s,
                at: at.clone(),
                href: format!("/consultations/{id}/ballots/checkpoints/{s}.txt"),
            })
            .collect();
        page.files = closed.then(|| {
            EXPORT_FILES
                .iter()
                .map(|&f| FileLink {
                    name: f,
                    href: format!("/consultations/{id}/ballots/{f}"),
                })
                .collect()
        });
        page.log = Some(LogFacts {
            vkey: app.voting.key().signer(&log.origin).public_key().to_vkey(),
            origin: log.origin,
            size: log.size,
            closed,
            key_destroyed: log.key_destroyed_at.map(|t| t.rfc3339()),
            destroy_key_after: log.destroy_key_after,
        });
    }
    Ok(page)
}

// ---------------------------------------------------------------- closing

/// `/consultations/<id>/close`: staff close the vote (while it is open).
#[derive(Serialize)]
pub struct Close {
    consultation: ConsultationRef,
    /// Open for voting: the form is shown.
    voting: bool,
    /// Entries in the log.
    entries: Option<i64>,
    /// Days the consultation key is kept after the close.
    window: u32,
    csrf: String,
}

impl Page for Close {
    const TEMPLATE: &'static str = "close";
    fn title(&self, t: &Translations) -> String {
        t.get("close_title").into()
    }
}

pub fn close(app: &App, csrf: &CsrfToken, id: ConsultationId) -> Result<Close, AppError> {
    let (c, _) = consultation(app, id)?;
    let mut conn = app.reader.store().conn()?;
    let log = store::ballots::by_consultation(&mut conn, id)?;
    Ok(Close {
        voting: voting::open_for_voting(&c),
        consultation: ConsultationRef::of(&c),
        entries: log.map(|l| l.size),
        window: app.voting.window_days(),
        csrf: csrf.0.clone(),
    })
}

// ---------------------------------------------------------------- what is put to the vote

/// `/consultations/<id>/vote/settings`: staff choose the amendments, the bill item, the
/// options and the re-vote rule, before voting opens.
#[derive(Serialize)]
pub struct VoteSettings {
    consultation: ConsultationRef,
    /// Before voting: the form is shown.
    editable: bool,
    /// Every standing amendment (rather than those ticked).
    all: bool,
    candidates: Vec<Candidate>,
    bill_item: bool,
    /// For, against, abstain (rather than for, against).
    three_options: bool,
    /// The last ballot counts (rather than one ballot per person).
    last_counts: bool,
    csrf: String,
    /// Redirected here after saving (`?saved`).
    saved: bool,
}

impl Page for VoteSettings {
    const TEMPLATE: &'static str = "vote_settings";
    fn title(&self, t: &Translations) -> String {
        t.get("vote_settings_title").into()
    }
}

pub fn vote_settings(
    app: &App,
    csrf: &CsrfToken,
    id: ConsultationId,
    saved: bool,
) -> Result<VoteSettings, AppError> {
    let (c, _) = consultation(app, id)?;
    let (settings, candidates) = voting::vote_settings(app.reader.store(), id)?;
    Ok(VoteSettings {
        consultation: ConsultationRef::of(&c),
        editable: c.phase.before_voting(),
        all: settings.amendments.is_none(),
        candidates,
        bill_item: settings.bill_item,
        three_options: settings.options == voting::OptionSet::ForAgainstAbstain,
        last_counts: settings.revote == RevotePolicy::LastCounts,
        csrf: csrf.0.clone(),
        saved,
    })
}

// ---------------------------------------------------------------- results

/// `/consultations/<id>/results`: once closed, each item's counts (headline, by level,
/// by disclosure) with their charts, and participation by day.
#[derive(Serialize)]
pub struct Results {
    consultation: ConsultationRef,
    published: bool,
    /// Once closed (its fields beside the others).
    #[serde(flatten)]
    result: Option<Published>,
}

#[derive(Serialize)]
struct Published {
    items: Vec<ResultItem>,
    minimum: u8,
    entries: u64,
    participation: Vec<DayCount>,
    /// SVG, built from numbers and escaped labels (`charts`).
    participation_chart: String,
    checkpoint: Option<String>,
    key_destroyed: bool,
}

#[derive(Serialize)]
struct ResultItem {
    #[serde(flatten)]
    item: Item,
    /// SVG: the headline count of each option.
    chart: String,
    /// SVG: each option's count by level.
    levels_chart: String,
    rows: Vec<ResultRow>,
}

/// One option's counts: all ballots, those of the headline level and above, by level,
/// by disclosure.
#[derive(Serialize)]
struct ResultRow {
    label: String,
    total: u64,
    headline: u64,
    l0: u64,
    l1: u64,
    l2: u64,
    l3: u64,
    pseudonymous: u64,
    public: u64,
}

#[derive(Serialize)]
struct DayCount {
    day: String,
    count: u64,
}

impl Page for Results {
    const TEMPLATE: &'static str = "results";
    fn title(&self, t: &Translations) -> String {
        t.get("results_title").into()
    }
}

pub fn results(app: &App, ctx: &Ctx, id: ConsultationId) -> Result<Results, AppError> {
    let t = ctx.lang.tr();
    let (c, slug) = consultation(app, id)?;
    let results = voting::results(app.reader.store(), id)?;
    let result = results.map(|r| {
        let m = &r.manifest;
        let levels: Vec<String> = (0..4).map(|l| format!("{} {l}", t.get("level"))).collect();
        let items = items(&slug, m, &HashMap::new())
            .into_iter()
            .zip(&m.items)
            .zip(&r.rows)
            .map(|((item, manifest_item), rows)| {
                let labels: Vec<&str> = manifest_item.options.iter().map(String::as_str).collect();
                let headline: Vec<(String, u64)> = labels
                    .iter()
                    .zip(rows)
                    .map(|(l, r)| (l.to_string(), r[1]))
                    .collect();
                ResultItem {
                    chart: charts::bars(&item.question, &headline, t.get("chart_ballots")),
                    levels_chart: charts::stacked(
                        &format!("{} — {}", item.question, t.get("by_level")),
                        &labels,
                        &levels,
                        &rows.iter().map(|r| r[2..6].to_vec()).collect::<Vec<_>>(),
                    ),
                    rows: labels
                        .iter()
                        .zip(rows)
                        .map(|(l, r)| ResultRow {
                            label: l.to_string(),
                            total: r[0],
                            headline: r[1],
                            l0: r[2],
                            l1: r[3],
                            l2: r[4],
                            l3: r[5],
                            pseudonymous: r[6],
                            public: r[7],
                        })
                        .collect(),
                    item,
                }
            })
            .collect();
        Published {
            items,
            minimum: m.minimum_level,
            entries: r.entries,
            participation: r
                .participation
                .iter()
                .map(|(d, n)| DayCount {
                    day: d.clone(),
                    count: *n,
                })
                .collect(),
            participation_chart: charts::bars(
                t.get("participation"),
                &r.participation,
                t.get("chart_ballots"),
            ),
            checkpoint: r.checkpoint.clone(),
            key_destroyed: r.key_destroyed,
        }
    });
    Ok(Results {
        consultation: ConsultationRef::of(&c),
        published: result.is_some(),
        result,
    })
}

// ---------------------------------------------------------------- public voters

/// Voters who chose public disclosure are listed by name, with their counted ballot,
/// once the vote is closed: this many a page.
const PUBLIC_PAGE: i64 = 50;

/// `/consultations/<id>/results/public`: the public voters, a page at a time.
#[derive(Serialize)]
pub struct PublicVotes {
    consultation: ConsultationRef,
    items: Vec<Item>,
    votes: Vec<PublicRow>,
    total: i64,
    previous: Option<String>,
    next_href: Option<String>,
    page: i64,
    pages: i64,
}

/// A public voter: name, the option chosen for each item ("—" for none), log index.
#[derive(Serialize)]
struct PublicRow {
    name: String,
    index: i64,
    answers: Vec<String>,
}

impl Page for PublicVotes {
    const TEMPLATE: &'static str = "public_votes";
    fn title(&self, t: &Translations) -> String {
        t.get("public_votes_title").into()
    }
}

pub fn public_votes(
    app: &App,
    id: ConsultationId,
    page: Option<i64>,
) -> Result<PublicVotes, AppError> {
    let (c, slug) = consultation(app, id)?;
    let page = page.unwrap_or(1).max(1);
    let (total, votes) = voting::public_votes(
        app.reader.store(),
        id,
        (page - 1) * PUBLIC_PAGE,
        PUBLIC_PAGE,
    )
    .map_err(|e| match e {
        VoteError::NotClosed => AppError::key(Status::Conflict, "public_votes_not_yet"),
        e => AppError::from(e),
    })?;
    let results = voting::results(app.reader.store(), id)?.ok_or_else(AppError::not_found)?;
    let m = &results.manifest;
    let votes = votes
        .into_iter()
        .map(|v| {
            let chosen: HashMap<u16, u8> = v.answers.iter().copied().collect();
            PublicRow {
                answers: m
                    .items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| {
                        chosen
                            .get(&(i as u16))
                            .and_then(|o| item.options.get(*o as usize))
                            .cloned()
                            .unwrap_or_else(|| "—".into())
                    })
                    .collect(),
                name: v.name,
                index: v.index,
            }
        })
        .collect();
    let pages = (total + PUBLIC_PAGE - 1) / PUBLIC_PAGE;
    let href = |p: i64| format!("/consultations/{id}/results/public?page={p}");
    Ok(PublicVotes {
        consultation: ConsultationRef::of(&c),
        items: items(&slug, m, &HashMap::new()),
        votes,
        total,
        previous: (page > 1).then(|| href(page - 1)),
        next_href: (page < pages).then(|| href(page + 1)),
        page,
        pages: pages.max(1),
    })
}

// ---------------------------------------------------------------- checking a receipt

/// `/receipts/check`: the form, and after a receipt is pasted, what it proves or why it
/// does not check.
#[derive(Serialize)]
pub struct Check {
    csrf: String,
    /// The receipt as pasted, shown again.
    receipt: String,
    valid: bool,
    facts: Option<Facts>,
    /// Whether the ballot is the one counted (translated), once the log is closed.
    counted: Option<String>,
    /// Why it does not check, in the reader's language.
    error: Option<String>,
}

/// What a valid receipt proves.
#[derive(Serialize)]
struct Facts {
    index: u64,
    size: u64,
    origin: String,
    root: String,
    consultation: ConsultationId,
}

impl Page for Check {
    const TEMPLATE: &'static str = "check";
    fn title(&self, t: &Translations) -> String {
        t.get("check_title").into()
    }
}

/// The empty form.
pub fn check_form(csrf: &CsrfToken) -> Check {
    Check {
        csrf: csrf.0.clone(),
        receipt: String::new(),
        valid: false,
        facts: None,
        counted: None,
        error: None,
    }
}

/// The pasted receipt `text`, checked: its signature and proof, then against the log as
/// stored.
pub fn check(app: &App, ctx: &Ctx, csrf: &CsrfToken, text: String) -> Check {
    let t = ctx.lang.tr();
    let mut page = check_form(csrf);
    match app.voting.check_receipt(&text) {
        Ok(r) => {
            page.valid = true;
            page.counted = r
                .counted
                .map(|c| {
                    t.get(if c {
                        "receipt_counted"
                    } else {
                        "receipt_superseded"
                    })
                })
                .map(str::to_string);
            page.facts = Some(Facts {
                index: r.index,
                size: r.size,
                root: hex_hash(&r.root),
                origin: r.origin,
                consultation: r.consultation,
            });
        }
        Err(refusal) => page.error = Some(invalid(refusal).message(ctx.lang)),
    }
    page.receipt = text;
    page
}

/// Why a receipt does not check: a message key, its values, and a technical detail
/// (from the parser or the cryptography, in English) when there is one.
struct Invalid {
    key: &'static str,
    args: Vec<(&'static str, String)>,
    detail: Option<String>,
}

impl Invalid {
    fn new(key: &'static str) -> Self {
        Invalid {
            key,
            args: Vec::new(),
            detail: None,
        }
    }

    fn arg(mut self, name: &'static str, value: impl ToString) -> Self {
        self.args.push((name, value.to_string()));
        self
    }

    fn detail(mut self, d: impl ToString) -> Self {
        self.detail = Some(d.to_string());
        self
    }

    /// In the reader's language, the detail in parentheses.
    fn message(&self, lang: Lang) -> String {
        let args: Vec<(&str, &dyn Arg)> =
            self.args.iter().map(|(k, v)| (*k, v as &dyn Arg)).collect();
        let text = lang.tr().fmt(self.key, &args);
        match &self.detail {
            Some(d) => format!("{text} ({d})"),
            None => text,
        }
    }
}

/// Why a receipt does not check, as the page says it.
fn invalid(refusal: ReceiptRefusal) -> Invalid {
    use ReceiptRefusal as R;
    match refusal {
        R::NotReceipt(d) => Invalid::new("check_not_receipt").detail(d),
        R::OtherSite => Invalid::new("check_other_site"),
        R::NotProven(d) => Invalid::new("check_not_proven").detail(d),
        R::NoEntry(index) => Invalid::new("check_no_entry").arg("index", index),
        R::DifferentEntry(index) => Invalid::new("check_different_entry").arg("index", index),
        R::OtherRoot(size) => Invalid::new("check_other_root").arg("size", size),
        R::Unavailable(d) => Invalid::new("check_unavailable").detail(d),
    }
}
