//! The open-data page (`/opendata`): what the generated folder holds, with links into
//! it (the files themselves are served by `web::datasets`).

use super::Page;
use crate::domain::ids::ConsultationId;
use crate::service::consultation::display_number;
use crate::service::opendata::DATASETS;
use crate::store;
use crate::web::errors::AppError;
use crate::web::i18n::Translations;
use crate::web::{App, Ctx};
use serde::Serialize;
use std::collections::HashMap;

/// `/opendata`: the datasets and their columns, the ballot logs, and per bill its texts,
/// its feed, each consultation's files and its amendments in Akoma Ntoso.
#[derive(Serialize)]
pub struct OpenData {
    datasets: Vec<DatasetItem>,
    ballot_logs: Vec<BallotLog>,
    /// The licence's title.
    licence: String,
    licence_url: String,
    /// When the folder was generated (`YYYY-MM-DD HH:MM:SS UTC`).
    updated: String,
    /// How many files the folder has.
    files: usize,
    bills: Vec<BillFiles>,
}

#[derive(Serialize)]
struct DatasetItem {
    name: &'static str,
    /// The latest date-time in its rows, if any.
    latest: Option<String>,
    title: String,
    description: &'static str,
    rows: u64,
    csv: String,
    csv_size: String,
    json: String,
    json_size: String,
    fields: Vec<FieldItem>,
}

#[derive(Serialize)]
struct FieldItem {
    name: &'static str,
    #[serde(rename = "type")]
    kind: &'static str,
    description: &'static str,
}

/// A consultation's ballot log: its files.
#[derive(Serialize)]
struct BallotLog {
    /// The consultation's id.
    consultation: String,
    entries: String,
    ballots: String,
    result: String,
    checkpoint: String,
    key: String,
}

#[derive(Serialize)]
struct BillFiles {
    slug: String,
    title: String,
    feed: String,
    version_count: usize,
    versions: Vec<VersionFiles>,
    consultations: Vec<ConsultationFiles>,
    amendment_count: usize,
    amendments_xml: Vec<AmendmentFile>,
}

#[derive(Serialize)]
struct VersionFiles {
    number: i32,
    md: String,
    xml: String,
}

#[derive(Serialize)]
struct ConsultationFiles {
    id: ConsultationId,
    title: String,
    amendments_size: String,
    comments_size: String,
    amendments_csv: String,
    amendments_json: String,
    comments_csv: String,
    comments_json: String,
    /// Its ballot log, once it has one.
    ballot_log: Option<String>,
}

#[derive(Serialize)]
struct AmendmentFile {
    label: String,
    href: String,
}

impl Page for OpenData {
    const TEMPLATE: &'static str = "opendata";
    fn title(&self, t: &Translations) -> String {
        t.get("opendata_title").into()
    }
}

fn human_size(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 20 => format!("{:.1} MiB", b as f64 / f64::from(1u32 << 20)),
        b if b >= 1 << 10 => format!("{:.1} KiB", b as f64 / 1024.0),
        b => format!("{b} B"),
    }
}

/// RFC 3339 `…T…Z` → `… … UTC`.
fn utc(rfc3339: &str) -> String {
    format!("{} UTC", crate::domain::time::display(rfc3339))
}

pub fn opendata(app: &App, ctx: &Ctx) -> Result<OpenData, AppError> {
    let t = ctx.lang.tr();
    let g = app.opendata.get(app)?;
    let size = |rel: &str| {
        std::fs::metadata(g.dir.join(rel))
            .map(|m| human_size(m.len()))
            .unwrap_or_default()
    };
    let datasets = DATASETS
        .iter()
        .map(|d| DatasetItem {
            name: d.name,
            latest: g
                .latest
                .iter()
                .find(|(n, _)| *n == d.name)
                .map(|(_, l)| utc(l)),
            title: t.get(&format!("dataset_{}", d.name)).to_string(),
            description: d.description,
            rows: g
                .rows
                .iter()
                .find(|(n, _)| *n == d.name)
                .map_or(0, |(_, r)| *r),
            csv: format!("/opendata/datasets/{}.csv", d.name),
            csv_size: size(&format!("datasets/{}.csv", d.name)),
            json: format!("/opendata/datasets/{}.json", d.name),
            json_size: size(&format!("datasets/{}.json", d.name)),
            fields: d
                .fields
                .iter()
                .map(|f| FieldItem {
                    name: f.name,
                    kind: f.kind,
                    description: f.description,
                })
                .collect(),
        })
        .collect();
    let mut logs: Vec<&String> = g
        .sums
        .keys()
        .filter(|k| k.starts_with("consultations/") && k.ends_with("/entries.csv"))
        .collect();
    logs.sort();
    let ballot_logs = logs
        .iter()
        .map(|p| {
            let dir = p.trim_end_matches("entries.csv");
            BallotLog {
                consultation: dir.split('/').nth(1).unwrap_or("").to_string(),
                entries: format!("/opendata/{p}"),
                ballots: format!("/opendata/{dir}ballots.csv"),
                result: format!("/opendata/{dir}result.csv"),
                checkpoint: format!("/opendata/{dir}checkpoint.txt"),
                key: format!("/opendata/{dir}log.vkey"),
            }
        })
        .collect();
    let updated = time::OffsetDateTime::from(g.at)
        .replace_nanosecond(0)
        .ok()
        .and_then(|d| {
            d.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default();
    let licence = &app.config.licence;
    Ok(OpenData {
        datasets,
        ballot_logs,
        licence: licence.title.clone(),
        licence_url: licence.url.clone(),
        updated: utc(&updated),
        files: g.sums.len(),
        bills: bill_files(app, &g.sums, &size)?,
    })
}

/// For each bill: its texts, its feed, and each consultation's own files, of those
/// the folder has (`sums`: its files by relative path).
fn bill_files(
    app: &App,
    sums: &HashMap<String, String>,
    size: &dyn Fn(&str) -> String,
) -> Result<Vec<BillFiles>, AppError> {
    let mut conn = app.reader.store().conn()?;
    let mut per_bill = Vec::new();
    for b in store::bills::list(&mut conn)? {
        let slug = b.bill.slug;
        let versions: Vec<VersionFiles> = store::versions::list_meta(&mut conn, b.bill.id)?
            .iter()
            .map(|v| VersionFiles {
                number: v.number,
                md: format!("/opendata/versions/{slug}/{}.md", v.number),
                xml: format!("/opendata/versions/{slug}/{}.xml", v.number),
            })
            .collect();
        let mut consultations = Vec::new();
        for c in store::consultations::for_bill(&mut conn, b.bill.id)? {
            let dir = format!("consultations/{}", c.id);
            if !sums.contains_key(&format!("{dir}/amendments.csv")) {
                continue;
            }
            let log = format!("{dir}/ballot-log/entries.csv");
            consultations.push(ConsultationFiles {
                id: c.id,
                title: c.title,
                amendments_size: size(&format!("{dir}/amendments.csv")),
                comments_size: size(&format!("{dir}/comments.csv")),
                amendments_csv: format!("/opendata/{dir}/amendments.csv"),
                amendments_json: format!("/opendata/{dir}/amendments.json"),
                comments_csv: format!("/opendata/{dir}/comments.csv"),
                comments_json: format!("/opendata/{dir}/comments.json"),
                ballot_log: sums.contains_key(&log).then(|| format!("/opendata/{log}")),
            });
        }
        // Every visible amendment of the bill, in Akoma Ntoso.
        let prefix = format!("amendments/{slug}/");
        let mut amendment_files: Vec<(i64, &String)> = sums
            .keys()
            .filter_map(|k| {
                let n = k.strip_prefix(&prefix)?.strip_suffix(".xml")?;
                Some((n.parse().ok()?, k))
            })
            .collect();
        amendment_files.sort();
        let amendments_xml: Vec<AmendmentFile> = amendment_files
            .iter()
            .map(|(n, k)| AmendmentFile {
                label: display_number(&slug, *n as i32),
                href: format!("/opendata/{k}"),
            })
            .collect();
        per_bill.push(BillFiles {
            feed: format!("/bills/{slug}/feed.atom"),
            title: b.bill.meta.title,
            version_count: versions.len(),
            versions,
            consultations,
            amendment_count: amendments_xml.len(),
            amendments_xml,
            slug,
        });
    }
    Ok(per_bill)
}
