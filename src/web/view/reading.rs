//! Reading pages: the home page (the bills), a bill's text at a version, an article and
//! its history, the list of versions and the comparison of two versions.

use super::Page;
use crate::domain::bill::VersionRef;
use crate::domain::ids::ConsultationId;
use crate::service::consultation::Activity;
use crate::service::reading::ReadError;
use crate::store::bills::Bill;
use crate::store::unit_history::UnitAt;
use crate::store::versions::VersionMeta;
use crate::text::UnitKind;
use crate::web::errors::AppError;
use crate::web::fragments::{self, PageLinks};
use crate::web::i18n::Translations;
use crate::web::{App, Ctx};
use rocket::http::Status;
use serde::Serialize;

/// `2018-06-08T00:00:00+02:00` → `2018-06-08`: dates of versions are days.
pub fn short_date(d: &str) -> String {
    d.get(..10).unwrap_or(d).to_string()
}

/// A bill in a page's heading and breadcrumbs, with the language of its text.
#[derive(Serialize)]
pub struct BillHead {
    slug: String,
    title: String,
    language: String,
}

impl BillHead {
    fn of(b: &Bill) -> BillHead {
        BillHead {
            slug: b.slug.clone(),
            title: b.meta.title.clone(),
            language: b.meta.language.clone(),
        }
    }
}

/// A version as pages show it.
#[derive(Serialize, Clone)]
pub struct Version {
    number: i32,
    date: String,
    author: String,
    note: String,
    sha256: String,
    short_sha: String,
}

impl Version {
    fn of(v: &VersionMeta) -> Version {
        Version {
            number: v.number,
            date: short_date(&v.date),
            author: v.author.clone(),
            note: v.note.clone(),
            sha256: v.sha256.clone(),
            short_sha: v.sha256[..12.min(v.sha256.len())].to_string(),
        }
    }
}

/// `/`: the bills.
#[derive(Serialize)]
pub struct Home {
    bills: Vec<HomeBill>,
}

#[derive(Serialize)]
struct HomeBill {
    slug: String,
    title: String,
    language: String,
    summary: String,
    versions_label: String,
    latest_date: String,
}

impl Page for Home {
    const TEMPLATE: &'static str = "home";
    fn title(&self, t: &Translations) -> String {
        t.get("home_title").into()
    }
}

pub fn home(app: &App, ctx: &Ctx) -> Result<Home, AppError> {
    let t = ctx.lang.tr();
    let bills = app
        .reader
        .bills()?
        .into_iter()
        .map(|b| HomeBill {
            versions_label: t.fmt("versions_count", &[("n", &b.version_count)]),
            latest_date: b.latest_date.as_deref().map(short_date).unwrap_or_default(),
            slug: b.bill.slug,
            title: b.bill.meta.title,
            language: b.bill.meta.language,
            summary: b.bill.meta.summary,
        })
        .collect();
    Ok(Home { bills })
}

/// `/bills/<slug>?v=N`: the text of a version, its table of contents with the
/// activity of the consultation on it.
#[derive(Serialize)]
pub struct BillText {
    bill: BillHead,
    version: Version,
    version_label: String,
    is_latest: bool,
    previous: Option<i32>,
    /// The version has no article.
    empty: bool,
    /// Already-escaped HTML.
    toc_html: String,
    /// The consultation the activity counts link to.
    consultation: Option<ConsultationId>,
    /// Already-sanitized HTML.
    text_html: String,
}

impl Page for BillText {
    const TEMPLATE: &'static str = "bill";
    fn title(&self, _: &Translations) -> String {
        self.bill.title.clone()
    }
}

/// The bill page at version `meta` (of `bill`, whose latest is `latest`), with the
/// consultations' `activity` on it.
pub fn bill(
    app: &App,
    ctx: &Ctx,
    bill: &Bill,
    meta: &VersionMeta,
    latest: i32,
    activity: &Activity,
) -> Result<BillText, AppError> {
    let t = ctx.lang.tr();
    let number = meta.number;
    let v = app.reader.version(bill, number)?;
    let links = PageLinks {
        slug: &bill.slug,
        tr: t,
    };
    Ok(BillText {
        bill: BillHead::of(bill),
        version: Version::of(meta),
        version_label: t.fmt("version_label", &[("n", &number)]),
        is_latest: number == latest,
        previous: (number > 1).then_some(number - 1),
        empty: !v.units.iter().any(|u| u.kind == UnitKind::Article),
        toc_html: fragments::toc(&v.units, Some(activity), t),
        consultation: activity.consultation,
        text_html: fragments::text(&v.markdown, &v.units, &links),
    })
}

/// `/bills/<slug>/articles/<wid>?v=N`: an article at a version, and one row per version
/// saying how it changed.
#[derive(Serialize)]
pub struct Article {
    bill: BillHead,
    version: Version,
    version_label: String,
    wid: String,
    heading: String,
    /// The divisions holding the article, outermost first.
    path: Vec<Ancestor>,
    is_latest: bool,
    /// "Removed in version N" when the article is no longer in the latest version.
    removed_in: Option<String>,
    /// Already-sanitized HTML of its paragraphs.
    text_html: String,
    no_paragraphs: bool,
    history: Vec<HistoryRow>,
}

#[derive(Serialize)]
struct Ancestor {
    eid: String,
    label: String,
}

#[derive(Serialize)]
struct HistoryRow {
    number: i32,
    date: String,
    status: String,
    present: bool,
    current: bool,
    eid: String,
    diff_from: Option<i32>,
}

impl Page for Article {
    const TEMPLATE: &'static str = "article";
    fn title(&self, _: &Translations) -> String {
        format!("{} — {}", self.heading, self.bill.title)
    }
}

/// "No article `wid` in bill `slug`".
pub fn unknown_article(slug: &str, wid: &str) -> AppError {
    let (slug, wid) = (slug.to_string(), wid.to_string());
    AppError::new(Status::NotFound, move |t| {
        t.fmt("err_unknown_article", &[("slug", &slug), ("wid", &wid)])
    })
}

/// Article `wid` of `bill` (whose versions are `versions`, oldest first) at version
/// `number`, or at the latest version that has it.
pub fn article(
    app: &App,
    ctx: &Ctx,
    bill: &Bill,
    versions: &[VersionMeta],
    wid: &str,
    number: Option<i32>,
) -> Result<Article, AppError> {
    let t = ctx.lang.tr();
    let slug = &bill.slug;
    let unknown = || unknown_article(slug, wid);
    let latest = versions
        .last()
        .ok_or_else(|| ReadError::Empty(slug.clone()))?
        .number;
    let history = app.reader.unit_history(bill, wid)?;
    if history.iter().all(|h| h.kind != UnitKind::Article) {
        return Err(unknown());
    }
    // The requested version, or the latest that has the article.
    let shown = match number {
        Some(n) => history.iter().find(|h| h.number == n).ok_or_else(unknown)?,
        None => history.last().ok_or_else(unknown)?,
    };
    let removed_in = if number.is_none() && shown.number < latest {
        versions
            .iter()
            .find(|v| v.number > shown.number)
            .map(|v| t.fmt("removed_in", &[("n", &v.number), ("last", &shown.number)]))
    } else {
        None
    };
    let loaded = app.reader.version(bill, shown.number)?;
    let idx = loaded.unit_index(wid).ok_or_else(unknown)?;
    let unit = &loaded.units[idx];
    // The article's paragraphs follow it until the next non-paragraph unit.
    let end = loaded.units[idx + 1..]
        .iter()
        .position(|u| u.kind != UnitKind::Paragraph || u.parent != Some(idx))
        .map_or(loaded.units.len(), |p| idx + 1 + p);
    let links = PageLinks { slug, tr: t };
    let text_html =
        crate::text::render::render_units(&loaded.markdown, &loaded.units, idx + 1..end, 2, &links);
    let mut path = Vec::new();
    let mut p = unit.parent;
    while let Some(i) = p {
        let d = &loaded.units[i];
        path.push(Ancestor {
            eid: d.eid.clone(),
            label: d.num.clone().unwrap_or_default(),
        });
        p = d.parent;
    }
    path.reverse();
    let meta = versions
        .iter()
        .find(|v| v.number == shown.number)
        .ok_or_else(unknown)?;
    Ok(Article {
        bill: BillHead::of(bill),
        version: Version::of(meta),
        version_label: t.fmt("version_label", &[("n", &shown.number)]),
        wid: wid.to_string(),
        heading: unit.heading.clone().unwrap_or_default(),
        path,
        is_latest: shown.number == latest,
        removed_in,
        text_html,
        no_paragraphs: end == idx + 1,
        history: history_rows(t, versions, &history, shown.number),
    })
}

/// One row per version: present or not, and how it changed since the version before.
fn history_rows(
    t: &Translations,
    versions: &[VersionMeta],
    history: &[UnitAt],
    shown: i32,
) -> Vec<HistoryRow> {
    let mut rows = Vec::new();
    let mut prev: Option<&UnitAt> = None;
    let mut prev_number = None;
    for v in versions {
        let here = history.iter().find(|h| h.number == v.number);
        let status = match (prev, here) {
            (None, Some(_)) => "st_added",
            (Some(a), Some(b)) if a.sha256 == b.sha256 => "st_unchanged",
            (Some(_), Some(_)) => "st_modified",
            (Some(_), None) => "st_removed",
            (None, None) => "st_absent",
        };
        let changed =
            matches!(status, "st_modified" | "st_removed" | "st_added") && prev_number.is_some();
        rows.push(HistoryRow {
            number: v.number,
            date: short_date(&v.date),
            status: t.get(status).to_string(),
            present: here.is_some(),
            current: v.number == shown,
            eid: here.or(prev).map(|h| h.eid.clone()).unwrap_or_default(),
            diff_from: if changed { prev_number } else { None },
        });
        prev = here;
        prev_number = Some(v.number);
    }
    rows
}

/// `/bills/<slug>/versions`: the versions, and the form comparing two of them.
#[derive(Serialize)]
pub struct Versions {
    bill: BillHead,
    /// Oldest first, for the comparison form.
    versions: Vec<VersionItem>,
    /// Newest first, for the table.
    versions_desc: Vec<VersionItem>,
}

#[derive(Serialize, Clone)]
struct VersionItem {
    #[serde(flatten)]
    version: Version,
    /// Chosen by default as the comparison's "from" (the one before the latest).
    selected_from: bool,
    /// Chosen by default as the comparison's "to" (the latest).
    selected_to: bool,
    previous: Option<i32>,
}

impl Page for Versions {
    const TEMPLATE: &'static str = "versions";
    fn title(&self, t: &Translations) -> String {
        format!("{} — {}", t.get("versions"), self.bill.title)
    }
}

pub fn versions(app: &App, slug: &str) -> Result<Versions, AppError> {
    let (bill, versions) = app.reader.bill(slug)?;
    let n = versions.len();
    let list: Vec<VersionItem> = versions
        .iter()
        .enumerate()
        .map(|(i, v)| VersionItem {
            version: Version::of(v),
            selected_from: n >= 2 && i == n - 2 || n == 1,
            selected_to: i == n - 1,
            previous: i.checked_sub(1).map(|p| versions[p].number),
        })
        .collect();
    let versions_desc = list.iter().rev().cloned().collect();
    Ok(Versions {
        bill: BillHead::of(&bill),
        versions: list,
        versions_desc,
    })
}

/// `/bills/<slug>/diff?from=A&to=B`: the comparison of two versions.
#[derive(Serialize)]
pub struct Diff {
    bill: BillHead,
    heading: String,
    summary: crate::text::diff::Summary,
    /// Inline or in columns, all articles or the changed ones.
    options: Vec<DiffOption>,
    columns: bool,
    /// Nothing to show (no change, with "changed only").
    nothing: bool,
    from_label: String,
    to_label: String,
    /// Already-escaped HTML.
    body_html: String,
}

#[derive(Serialize)]
struct DiffOption {
    label: String,
    href: String,
    current: bool,
}

impl Page for Diff {
    const TEMPLATE: &'static str = "diff";
    fn title(&self, _: &Translations) -> String {
        format!("{} — {}", self.heading, self.bill.title)
    }
}

/// How the comparison is shown.
#[derive(Clone, Copy)]
pub struct DiffMode {
    pub columns: bool,
    pub changed_only: bool,
}

/// The comparison of `from` (by default the version before `to`) with `to` (by default
/// the latest, `latest`).
pub fn diff(
    app: &App,
    ctx: &Ctx,
    bill: &Bill,
    latest: i32,
    from: Option<VersionRef>,
    to: Option<VersionRef>,
    mode: DiffMode,
) -> Result<Diff, AppError> {
    let t = ctx.lang.tr();
    let slug = &bill.slug;
    let DiffMode {
        columns,
        changed_only,
    } = mode;
    let to = to.unwrap_or(VersionRef {
        bill: None,
        number: latest,
    });
    let from = from.unwrap_or(VersionRef {
        bill: None,
        number: (to.number - 1).max(1),
    });
    let c = app.reader.compare(slug, &from, &to)?;
    let (body_html, shown) = fragments::comparison(&c, columns, changed_only, t);
    let (f, tn) = (from.number, to.number);
    let option = |key: &str, cols: bool, ch: bool, current: bool| DiffOption {
        label: t.get(key).to_string(),
        href: format!(
            "/bills/{slug}/diff?from={f}&to={tn}&mode={}{}",
            if cols { "columns" } else { "inline" },
            if ch { "&changed=1" } else { "" }
        ),
        current,
    };
    let options = vec![
        option("opt_inline", false, changed_only, !columns),
        option("opt_columns", true, changed_only, columns),
        option("opt_all", columns, false, !changed_only),
        option("opt_changed", columns, true, changed_only),
    ];
    Ok(Diff {
        bill: BillHead::of(bill),
        heading: t.fmt("diff_heading", &[("from", &f), ("to", &tn)]),
        summary: c.diff.summary,
        options,
        columns,
        nothing: !shown,
        from_label: t.fmt("current_text", &[("n", &f)]),
        to_label: t.fmt("modified_text", &[("n", &tn)]),
        body_html,
    })
}
