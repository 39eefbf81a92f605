//! JSON API, read side (DESIGN §10). Errors are `{error, message}` with the right status.

use super::auth::{CsrfToken, Viewer};
use super::errors::ApiError;
use super::AppState;
use crate::domain::bill::VersionRef;
use crate::text::diff::{own_text, DiffTag, Status as UnitStatus};
use rocket::http::Status;
use rocket::serde::json::Json;
use rocket::{get, routes, Route, State};
use serde_json::{json, Value};

pub fn routes() -> Vec<Route> {
    routes![bills, bill, version, diff, me]
}

type ApiResult = Result<Json<Value>, ApiError>;

async fn blocking(
    app: &State<AppState>,
    f: impl FnOnce(&super::App) -> Result<Value, ApiError> + Send + 'static,
) -> ApiResult {
    super::run_blocking(app, f)
        .await
        .map_err(|_| ApiError::new(Status::InternalServerError, "internal", "worker failed"))?
        .map(Json)
}

#[get("/bills")]
async fn bills(app: &State<AppState>) -> ApiResult {
    blocking(app, |app| {
        let list = app.reader.bills()?;
        Ok(json!(list
            .iter()
            .map(|b| json!({
                "slug": b.bill.slug,
                "title": b.bill.meta.title,
                "language": b.bill.meta.language,
                "versions": b.version_count,
            }))
            .collect::<Vec<_>>()))
    })
    .await
}

#[get("/bills/<slug>")]
async fn bill(app: &State<AppState>, slug: &str) -> ApiResult {
    let slug = slug.to_string();
    blocking(app, move |app| {
        let (b, versions) = app.reader.bill(&slug)?;
        Ok(json!({
            "slug": b.slug,
            "title": b.meta.title,
            "language": b.meta.language,
            "jurisdiction": b.meta.jurisdiction,
            "source": b.meta.source,
            "licence": b.meta.licence,
            "summary": b.meta.summary,
            "versions": versions.iter().map(|v| json!({
                "number": v.number,
                "sha256": v.sha256,
                "date": v.date,
                "author": v.author,
                "note": v.note,
                "parent": v.parent_number,
            })).collect::<Vec<_>>(),
        }))
    })
    .await
}

#[get("/bills/<slug>/versions/<n>")]
async fn version(app: &State<AppState>, slug: &str, n: &str) -> ApiResult {
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
        let units: Vec<Value> = v
            .units
            .iter()
            .map(|u| {
                json!({
                    "wid": u.wid,
                    "eid": u.eid,
                    "kind": u.kind.as_str(),
                    "num": u.num,
                    "heading": u.heading,
                    "parent": u.parent.map(|p| v.units[p].wid.clone()),
                    "start": u.start,
                    "end": u.end,
                    "sha256": u.sha256,
                })
            })
            .collect();
        Ok(json!({
            "bill": b.slug,
            "number": v.meta.number,
            "sha256": v.meta.sha256,
            "date": v.meta.date,
            "author": v.meta.author,
            "note": v.meta.note,
            "parent": v.meta.parent_number,
            "warnings": v.meta.warnings,
            "markdown": v.markdown,
            "units": units,
        }))
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

/// Per-unit comparison; `changed=true` leaves unchanged units out. Word operations are
/// given for changed units: applying them to the old text gives the new text.
#[get("/bills/<slug>/diff?<from>&<to>&<changed>")]
async fn diff(
    app: &State<AppState>,
    slug: &str,
    from: Option<&str>,
    to: Option<&str>,
    changed: Option<bool>,
) -> ApiResult {
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
        let units: Vec<Value> = c
            .diff
            .changes
            .iter()
            .filter(|ch| !changed_only || ch.status != UnitStatus::Unchanged)
            .map(|ch| {
                let old = ch.old.map(|i| &c.from.units[i]);
                let new = ch.new.map(|j| &c.to.units[j]);
                let mut u = json!({
                    "wid": ch.wid,
                    "kind": ch.kind.as_str(),
                    "eid": new.or(old).map(|u| u.eid.clone()),
                    "old_eid": old.map(|u| u.eid.clone()),
                    "new_eid": new.map(|u| u.eid.clone()),
                    "num": new.or(old).and_then(|u| u.num.clone()),
                    "status": ch.status.as_str(),
                });
                if ch.status != UnitStatus::Unchanged {
                    // A modified article whose heading did not change: its own text is
                    // kept whole (its paragraphs carry the changes).
                    u["ops"] = if ch.ops.is_empty() {
                        let kept = new.map(|n| own_text(&c.to.markdown, n)).unwrap_or("");
                        json!([["=", kept]])
                    } else {
                        json!(ch
                            .ops
                            .iter()
                            .map(|o| json!([match o.tag {
                                DiffTag::Equal => "=",
                                DiffTag::Delete => "-",
                                DiffTag::Insert => "+",
                            }, o.text]))
                            .collect::<Vec<_>>())
                    };
                }
                u
            })
            .collect();
        let s = c.diff.summary;
        Ok(json!({
            "bill": slug,
            "from": c.from.meta.number,
            "to": c.to.meta.number,
            "summary": {"added": s.added, "removed": s.removed, "modified": s.modified, "unchanged": s.unchanged},
            "units": units,
        }))
    })
    .await
}

/// Who is asking: signed in or not, effective level, roles, and the CSRF token that
/// JSON writes must send in `X-CSRF-Token`.
#[get("/me")]
fn me(viewer: Viewer, csrf: CsrfToken) -> Json<Value> {
    Json(match viewer.0 {
        Some(s) => json!({
            "signed_in": true,
            "name": s.account.display_name,
            "level": s.level().get(),
            "roles": s.roles.iter().map(|r| r.as_str()).collect::<Vec<_>>(),
            "csrf_token": csrf.0,
        }),
        None => json!({"signed_in": false, "level": 0, "roles": [], "csrf_token": csrf.0}),
    })
}
