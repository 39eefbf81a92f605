//! JSON API, read side (DESIGN §10). Errors are `{error, message}` with the right status.
//! Each answer is a `#[derive(Serialize)]` struct below, its fields in the order
//! docs/api.md gives them.

use super::auth::{CsrfToken, Viewer};
use super::errors::ApiError;
use super::AppState;
use crate::domain::bill::VersionRef;
use crate::text::diff::{own_text, DiffTag, Status as UnitStatus};
use rocket::http::Status;
use rocket::serde::json::Json;
use rocket::{get, routes, Route, State};
use serde::Serialize;

pub fn routes() -> Vec<Route> {
    routes![bills, bill, version, diff, me]
}

type ApiResult<T> = Result<Json<T>, ApiError>;

/// Runs `f` off the async workers; the reader's refusals convert with `?`.
async fn blocking<T: Send + 'static>(
    app: &State<AppState>,
    f: impl FnOnce(&super::App) -> Result<T, ApiError> + Send + 'static,
) -> ApiResult<T> {
    Ok(Json(super::run_blocking(app, f).await??))
}

/// A bill in the list of bills.
#[derive(Serialize)]
struct BillItem {
    slug: String,
    title: String,
    language: String,
    versions: i64,
}

#[get("/bills")]
async fn bills(app: &State<AppState>) -> ApiResult<Vec<BillItem>> {
    blocking(app, |app| {
        Ok(app
            .reader
            .bills()?
            .iter()
            .map(|b| BillItem {
                slug: b.bill.slug.clone(),
                title: b.bill.meta.title.clone(),
                language: b.bill.meta.language.clone(),
                versions: b.version_count,
            })
            .collect())
    })
    .await
}

/// `GET /bills/<slug>`: a bill and its versions.
#[derive(Serialize)]
struct BillJson {
    slug: String,
    title: String,
    language: String,
    jurisdiction: String,
    source: String,
    licence: String,
    summary: String,
    versions: Vec<VersionItem>,
}

/// A version in a bill's list.
#[derive(Serialize)]
struct VersionItem {
    number: i32,
    sha256: String,
    date: String,
    author: String,
    note: String,
    parent: Option<i32>,
}

#[get("/bills/<slug>")]
async fn bill(app: &State<AppState>, slug: &str) -> ApiResult<BillJson> {
    let slug = slug.to_string();
    blocking(app, move |app| {
        let (b, versions) = app.reader.bill(&slug)?;
        let m = b.meta;
        Ok(BillJson {
            slug: b.slug,
            title: m.title,
            language: m.language,
            jurisdiction: m.jurisdiction,
            source: m.source,
            licence: m.licence,
            summary: m.summary,
            versions: versions
                .iter()
                .map(|v| VersionItem {
                    number: v.number,
                    sha256: v.sha256.clone(),
                    date: v.date.clone(),
                    author: v.author.clone(),
                    note: v.note.clone(),
                    parent: v.parent_number,
                })
                .collect(),
        })
    })
    .await
}

/// `GET /bills/<slug>/versions/<n>`: a version's text and its units.
#[derive(Serialize)]
struct VersionJson {
    bill: String,
    number: i32,
    sha256: String,
    date: String,
    author: String,
    note: String,
    parent: Option<i32>,
    warnings: Vec<String>,
    markdown: String,
    units: Vec<UnitJson>,
}

/// A unit of a version: where it is in the markdown, and its hash.
#[derive(Serialize)]
struct UnitJson {
    wid: String,
    eid: String,
    kind: &'static str,
    num: Option<String>,
    heading: Option<String>,
    /// The `wid` of the enclosing unit.
    parent: Option<String>,
    start: usize,
    end: usize,
    sha256: String,
}

#[get("/bills/<slug>/versions/<n>")]
async fn version(app: &State<AppState>, slug: &str, n: &str) -> ApiResult<VersionJson> {
    let number: i32 = n.parse().ok().filter(|n| *n > 0).ok_or_else(|| {
        ApiError::new(
            Status::BadRequest,
            "bad_version",
            format!(
                "\"{}\" is not a version number",
                n.chars().take(40).collect::<String>()
            ),
        )
    })?;
    let slug = slug.to_string();
    blocking(app, move |app| {
        let (b, _) = app.reader.bill(&slug)?;
        let v = app.reader.version(&b, number)?;
        let units = v
            .units
            .iter()
            .map(|u| UnitJson {
                wid: u.wid.clone(),
                eid: u.eid.clone(),
                kind: u.kind.as_str(),
                num: u.num.clone(),
                heading: u.heading.clone(),
                parent: u.parent.map(|p| v.units[p].wid.clone()),
                start: u.start,
                end: u.end,
                sha256: u.sha256.clone(),
            })
            .collect();
        let m = &v.meta;
        Ok(VersionJson {
            bill: b.slug,
            number: m.number,
            sha256: m.sha256.clone(),
            date: m.date.clone(),
            author: m.author.clone(),
            note: m.note.clone(),
            parent: m.parent_number,
            warnings: m.warnings.clone(),
            markdown: v.markdown.clone(),
            units,
        })
    })
    .await
}

fn version_ref(name: &str, value: Option<&str>) -> Result<Option<VersionRef>, ApiError> {
    match value {
        None | Some("") => Ok(None),
        Some(s) => s
            .parse()
            .map(Some)
            .map_err(|e: crate::domain::bill::InputError| {
                ApiError::new(Status::BadRequest, "bad_version", format!("{name}: {e}"))
            }),
    }
}

/// `GET /bills/<slug>/diff`: the comparison of two versions, unit by unit.
#[derive(Serialize)]
struct DiffJson {
    bill: String,
    from: i32,
    to: i32,
    summary: DiffSummary,
    units: Vec<UnitDiff>,
}

/// How many units were added, removed, modified and kept.
#[derive(Serialize)]
struct DiffSummary {
    added: usize,
    removed: usize,
    modified: usize,
    unchanged: usize,
}

/// A unit of the comparison; `ops` only for a changed unit.
#[derive(Serialize)]
struct UnitDiff {
    wid: String,
    kind: &'static str,
    eid: Option<String>,
    old_eid: Option<String>,
    new_eid: Option<String>,
    num: Option<String>,
    status: &'static str,
    /// Word operations, `["=" | "-" | "+", text]`: applied to the old text, the new one.
    #[serde(skip_serializing_if = "Option::is_none")]
    ops: Option<Vec<(&'static str, String)>>,
}

/// Per-unit comparison; `changed=true` leaves unchanged units out. Word operations are
/// given for changed units: applying them to the old text gives the new text.
#[get("/bills/<slug>/diff?<from>&<to>&<changed>")]
async fn diff(
    app: &State<AppState>,
    slug: &str,
    from: Option<&str>,
    to: Option<&str>,
    changed: Option<bool>,
) -> ApiResult<DiffJson> {
    let (from, to) = (version_ref("from", from)?, version_ref("to", to)?);
    let (Some(from), Some(to)) = (from, to) else {
        return Err(ApiError::new(
            Status::BadRequest,
            "bad_request",
            "give both versions to compare: ?from=N&to=M",
        ));
    };
    let slug = slug.to_string();
    let changed_only = changed.unwrap_or(false);
    blocking(app, move |app| {
        let c = app.reader.compare(&slug, &from, &to)?;
        let units = c
            .diff
            .changes
            .iter()
            .filter(|ch| !changed_only || ch.status != UnitStatus::Unchanged)
            .map(|ch| {
                let old = ch.old.map(|i| &c.from.units[i]);
                let new = ch.new.map(|j| &c.to.units[j]);
                // A modified article whose heading did not change: its own text is kept
                // whole (its paragraphs carry the changes).
                let ops = (ch.status != UnitStatus::Unchanged).then(|| {
                    if ch.ops.is_empty() {
                        let kept = new.map(|n| own_text(&c.to.markdown, n)).unwrap_or("");
                        vec![("=", kept.to_string())]
                    } else {
                        ch.ops
                            .iter()
                            .map(|o| {
                                let tag = match o.tag {
                                    DiffTag::Equal => "=",
                                    DiffTag::Delete => "-",
                                    DiffTag::Insert => "+",
                                };
                                (tag, o.text.clone())
                            })
                            .collect()
                    }
                });
                UnitDiff {
                    wid: ch.wid.clone(),
                    kind: ch.kind.as_str(),
                    eid: new.or(old).map(|u| u.eid.clone()),
                    old_eid: old.map(|u| u.eid.clone()),
                    new_eid: new.map(|u| u.eid.clone()),
                    num: new.or(old).and_then(|u| u.num.clone()),
                    status: ch.status.as_str(),
                    ops,
                }
            })
            .collect();
        let s = c.diff.summary;
        Ok(DiffJson {
            bill: slug,
            from: c.from.meta.number,
            to: c.to.meta.number,
            summary: DiffSummary {
                added: s.added,
                removed: s.removed,
                modified: s.modified,
                unchanged: s.unchanged,
            },
            units,
        })
    })
    .await
}

/// `GET /me`: who is asking. `name` only when signed in.
#[derive(Serialize)]
struct Me {
    signed_in: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    level: u8,
    roles: Vec<&'static str>,
    csrf_token: String,
}

/// Who is asking: signed in or not, effective level, roles, and the CSRF token that
/// JSON writes must send in `X-CSRF-Token`.
#[get("/me")]
fn me(viewer: Viewer, csrf: CsrfToken) -> Json<Me> {
    Json(match viewer.0 {
        Some(s) => Me {
            signed_in: true,
            level: s.level().get(),
            roles: s.roles.iter().map(|r| r.as_str()).collect(),
            name: Some(s.account.display_name),
            csrf_token: csrf.0,
        },
        None => Me {
            signed_in: false,
            name: None,
            level: 0,
            roles: Vec::new(),
            csrf_token: csrf.0,
        },
    })
}
