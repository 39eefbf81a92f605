//! Copy-paste campaigns (issue 7): the staff page listing a consultation's groups of
//! near-identical amendments and comments, with the assurance levels of each group next
//! to those of the other contributions. The rules are in `service::campaigns`.

use super::auth::{HasRole, Staff};
use super::errors::AppError;
use super::{AppState, Ctx};
use crate::service::campaigns;
use crate::store;
use rocket::response::content::RawHtml;
use rocket::{get, routes, Route, State};
use serde_json::{json, Map, Value};

pub fn routes() -> Vec<Route> {
    routes![campaigns_page]
}

/// Levels 0 to 3 as table cells: the count and its share of the group.
fn levels_json(t: &super::i18n::Translations, levels: &campaigns::Levels) -> Vec<Value> {
    let total: usize = levels.iter().sum();
    levels
        .iter()
        .enumerate()
        .map(|(level, &n)| {
            json!({
                "level": level,
                "name": t.get(&format!("level_{level}")),
                "count": n,
                "percent": (n * 100).checked_div(total).unwrap_or(0),
            })
        })
        .collect()
}

#[get("/consultations/<id>/campaigns")]
async fn campaigns_page(
    app: &State<AppState>,
    ctx: Ctx,
    staff: HasRole<Staff>,
    id: i64,
) -> Result<RawHtml<String>, AppError> {
    let lang = ctx.lang;
    super::blocking(app, move |app| {
        let store = app.reader.store();
        let found = campaigns::clusters(store, &staff.0, id)?;
        let mut conn = store.conn()?;
        let c = store::consultations::by_id(&mut conn, id)?.ok_or_else(AppError::not_found)?;
        let t = lang.tr();
        let clusters: Vec<Value> = found
            .clusters
            .iter()
            .enumerate()
            .map(|(i, g)| {
                json!({
                    "number": i + 1,
                    "size": g.size,
                    "heading": t.fmt("campaigns_group", &[("n", &(i + 1)), ("size", &g.size)]),
                    "levels": levels_json(t, &g.levels),
                    "rest_levels": levels_json(t, &g.rest_levels),
                    "members": g.members.iter().map(|m| json!({
                        "kind": t.get(&format!("campaigns_kind_{}", m.kind)),
                        "label": m.label,
                        "author": m.author,
                        "pseudonymous": m.pseudonymous,
                        "level": m.level,
                        "excerpt": m.excerpt,
                        "href": m.href,
                    })).collect::<Vec<_>>(),
                })
            })
            .collect();
        let mut data = Map::new();
        data.insert("consultation".into(), json!({"id": c.id, "title": c.title}));
        data.insert(
            "summary".into(),
            json!(t.fmt(
                "campaigns_summary",
                &[
                    ("contributions", &found.contributions),
                    ("groups", &found.clusters.len()),
                    ("threshold", &format!("{:.0}", found.threshold * 100.0)),
                ],
            )),
        );
        data.insert("clusters".into(), json!(clusters));
        let title = t.get("campaigns_title").to_string();
        app.render("campaigns", &ctx, &title, data).map(RawHtml)
    })
    .await
}
