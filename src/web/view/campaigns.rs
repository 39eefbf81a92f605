//! The staff page of a consultation's copy-paste campaigns: groups of near-identical
//! amendments and comments, with the assurance levels of each group next to those of
//! the other contributions. The rules are in `service::campaigns`.

use super::Page;
use crate::domain::ids::ConsultationId;
use crate::service::campaigns::{self, Levels};
use crate::service::identity::SessionInfo;
use crate::store;
use crate::web::errors::AppError;
use crate::web::i18n::Translations;
use crate::web::{App, Ctx};
use serde::Serialize;

/// `/consultations/<id>/campaigns`.
#[derive(Serialize)]
pub struct CampaignsPage {
    consultation: ConsultationRef,
    /// How many contributions were compared, how many groups, at what threshold.
    summary: String,
    clusters: Vec<ClusterItem>,
}

#[derive(Serialize)]
struct ConsultationRef {
    id: ConsultationId,
    title: String,
}

#[derive(Serialize)]
struct ClusterItem {
    number: usize,
    size: usize,
    heading: String,
    levels: Vec<LevelCell>,
    rest_levels: Vec<LevelCell>,
    members: Vec<MemberItem>,
}

/// A level as a table cell: the count and its share of the group.
#[derive(Serialize)]
struct LevelCell {
    level: usize,
    name: String,
    count: usize,
    percent: usize,
}

#[derive(Serialize)]
struct MemberItem {
    /// "Amendment" or "comment", translated.
    kind: String,
    label: String,
    /// The author as published: a name or a pseudonym.
    author: String,
    pseudonymous: bool,
    level: i32,
    excerpt: String,
    href: String,
}

impl Page for CampaignsPage {
    const TEMPLATE: &'static str = "campaigns";
    fn title(&self, t: &Translations) -> String {
        t.get("campaigns_title").into()
    }
}

/// Levels 0 to 3 as table cells.
fn level_cells(t: &Translations, levels: &Levels) -> Vec<LevelCell> {
    let total: usize = levels.iter().sum();
    levels
        .iter()
        .enumerate()
        .map(|(level, &n)| LevelCell {
            level,
            name: t.get(&format!("level_{level}")).to_string(),
            count: n,
            percent: (n * 100).checked_div(total).unwrap_or(0),
        })
        .collect()
}

pub fn campaigns(
    app: &App,
    ctx: &Ctx,
    staff: &SessionInfo,
    id: ConsultationId,
) -> Result<CampaignsPage, AppError> {
    let store = app.reader.store();
    let found = campaigns::clusters(store, staff, id)?;
    let mut conn = store.conn()?;
    let c = store::consultations::by_id(&mut conn, id)?.ok_or_else(AppError::not_found)?;
    let t = ctx.lang.tr();
    let summary = t.fmt(
        "campaigns_summary",
        &[
            ("contributions", &found.contributions),
            ("groups", &found.clusters.len()),
            ("threshold", &format!("{:.0}", found.threshold * 100.0)),
        ],
    );
    let clusters = found
        .clusters
        .into_iter()
        .enumerate()
        .map(|(i, g)| ClusterItem {
            number: i + 1,
            size: g.size,
            heading: t.fmt("campaigns_group", &[("n", &(i + 1)), ("size", &g.size)]),
            levels: level_cells(t, &g.levels),
            rest_levels: level_cells(t, &g.rest_levels),
            members: g
                .members
                .into_iter()
                .map(|m| MemberItem {
                    kind: t.get(&format!("campaigns_kind_{}", m.kind)).to_string(),
                    label: m.label,
                    author: m.author,
                    pseudonymous: m.pseudonymous,
                    level: m.level,
                    excerpt: m.excerpt,
                    href: m.href,
                })
                .collect(),
        })
        .collect();
    Ok(CampaignsPage {
        consultation: ConsultationRef {
            id: c.id,
            title: c.title,
        },
        summary,
        clusters,
    })
}
