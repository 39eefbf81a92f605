//! Consolidating 100 adopted amendments into a CPI-sized bill (issue 4 speed target:
//! under 1 s).
//!
//!     AMENDA_CORPUS=/work/shared/corpus cargo bench --bench consolidation
//!
//! The bill is the last version of the Code de la propriété intellectuelle from
//! `cpi.bundle` of the corpus (`$AMENDA_CORPUS`, default `../shared/corpus`); without the
//! corpus, a bill of the same size made of the `laws/` bill repeated. 100 amendments,
//! each an edit of a different article spread over the whole bill (one word replaced,
//! words inserted), are applied in order.
//!
//! Two figures:
//! - `consolidation/pure` (criterion): the text part — apply the 100 amendments and trace
//!   their spans (`domain::consolidation::consolidate`), then parse the result and keep
//!   the work ids (`parse`, `assign_wids`), as the new version needs;
//! - `consolidation/service` (timed runs, SQLite in a temporary folder, or the empty
//!   PostgreSQL database of `AMENDA_BENCH_DATABASE_URL`): the whole
//!   `service::consolidation::consolidate` call staff make, in one transaction — loading
//!   the version and the amendments, the above, storing the new version, its units, the
//!   provenance and the audit entry. Each run is on a fresh consultation with 100 new
//!   adopted amendments (their filing and adoption are not timed).

use amenda::domain::amendment::{article_body, derive, Operation};
use amenda::domain::consolidation::{consolidate, Adopted};
use amenda::domain::identity::Level;
use amenda::domain::ids::AmendmentId;
use amenda::service::consolidation as svc;
use amenda::service::consultation::{self, Disclosure, Filing, FilingKind, NewConsultation};
use amenda::service::disposition::{rule, Ruling};
use amenda::service::identity::{demo_sign_in, DEMO_PEOPLE};
use amenda::service::import::{BillWriter, ImportSummary, VersionInput};
use amenda::store::{self, Store};
use amenda::text::{assign_wids, parse, Unit, UnitKind, WidAllocator};
use criterion::Criterion;
use std::hint::black_box;
use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

const LAWS_BILL: &str = include_str!("../laws/budget-participatif/v3.md");
const CPI_FILE: &str = "code_de_la_propriété_intellectuelle.md";
const N: usize = 100;

/// The CPI's last version from the corpus, or a bill of the same size.
fn bill() -> (String, &'static str) {
    let dir = std::env::var_os("AMENDA_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus"));
    let bundle = dir.join("cpi.bundle");
    if bundle.is_file() {
        let tmp = tempfile::tempdir().unwrap();
        let repo = tmp.path().join("r.git");
        let ok = Command::new("git")
            .args(["clone", "--quiet", "--bare", "--no-tags"])
            .arg(&bundle)
            .arg(&repo)
            .status()
            .is_ok_and(|s| s.success());
        if ok {
            let out = Command::new("git")
                .arg("-C")
                .arg(&repo)
                .args(["show", &format!("texte:{CPI_FILE}")])
                .output()
                .unwrap();
            if out.status.success() {
                return (String::from_utf8(out.stdout).unwrap(), "CPI (corpus)");
            }
        }
    }
    // 2.6 MB of the laws/ bill, articles renumbered so that each is distinct.
    let mut md = String::new();
    let mut i = 0;
    while md.len() < 2_600_000 {
        i += 1;
        md.push_str(&format!("# Livre {i}\n\n"));
        md.push_str(
            &LAWS_BILL
                .replace("### Article ", &format!("### Article {i}-"))
                .replace("# Titre", "## Titre")
                .replace("## Chapitre", "### Chapitre")
                .replace("### Article", "#### Article"),
        );
        md.push_str("\n\n");
    }
    (md, "synthetic, laws/ bill repeated")
}

/// 100 edits of articles spread over the bill: (wid, new body).
fn edits(md: &str, units: &[Unit]) -> Vec<(String, String)> {
    let articles: Vec<&Unit> = units
        .iter()
        .filter(|u| u.kind == UnitKind::Article && article_body(u.text(md)).len() > 80)
        .collect();
    let step = articles.len() / N;
    (0..N)
        .map(|i| {
            let u = articles[i * step];
            let body = article_body(u.text(md));
            let first = body.split_whitespace().next().unwrap();
            let last = body.split_whitespace().last().unwrap();
            let new = body.replacen(first, "Désormais,", 1).replacen(
                last,
                &format!("{last} sous réserve des dispositions du présent code"),
                1,
            );
            (u.wid.clone(), new)
        })
        .collect()
}

fn main() {
    let (md, what) = bill();
    let mut units = parse(&md).units;
    assign_wids(None, &md, &mut units, &mut WidAllocator::new(1));
    let articles = units.iter().filter(|u| u.kind == UnitKind::Article).count();
    println!(
        "bill: {what}, {} bytes, {} units, {articles} articles; {N} amendments",
        md.len(),
        units.len()
    );
    let ops: Vec<Vec<Operation>> = edits(&md, &units)
        .iter()
        .map(|(wid, new)| {
            let u = units.iter().find(|u| &u.wid == wid).unwrap();
            derive(wid, article_body(u.text(&md)), new).unwrap()
        })
        .collect();
    let adopted: Vec<Adopted<'_>> = ops
        .iter()
        .enumerate()
        .map(|(i, ops)| Adopted {
            id: AmendmentId::new(i as i64),
            revision: 1,
            ops,
        })
        .collect();

    let mut c = Criterion::default().configure_from_args().sample_size(20);
    c.bench_function("consolidation/pure", |b| {
        b.iter(|| {
            let (out, spans) = consolidate(black_box(&md), &units, &adopted).unwrap();
            let mut new_units = parse(&out).units;
            assign_wids(
                Some((&md, &units)),
                &out,
                &mut new_units,
                &mut WidAllocator::new(1 << 30),
            );
            black_box((out.len(), spans.len(), new_units.len()))
        })
    });
    c.final_summary();

    // The whole service call, on SQLite, or on the (empty) PostgreSQL database named by
    // AMENDA_BENCH_DATABASE_URL.
    let data = tempfile::tempdir().unwrap();
    let url = std::env::var("AMENDA_BENCH_DATABASE_URL").ok();
    let store = Store::open(data.path(), url.as_deref()).unwrap();
    println!("consolidation/service on {}", store.describe());
    store.migrate().unwrap();
    store
        .transaction(|conn| {
            let mut w = BillWriter::open(
                conn,
                store::bills::NewBill {
                    slug: "cpi".into(),
                    meta: store::bills::BillMeta {
                        title: "Code de la propriété intellectuelle".into(),
                        ..Default::default()
                    },
                    next_wid: 1,
                },
                &mut ImportSummary::default(),
            )?;
            w.append(
                conn,
                VersionInput {
                    markdown: md.clone(),
                    date: "2026-01-01".into(),
                    author: "bench".into(),
                    note: String::new(),
                    source_ref: None,
                },
                &mut ImportSummary::default(),
            )
        })
        .unwrap();
    let person = |key: &str| {
        let p = DEMO_PEOPLE.iter().find(|p| p.key == key).unwrap();
        demo_sign_in(&store, p, Level::new(2).unwrap(), "bench")
            .unwrap()
            .1
    };
    let (staff, citizen) = (person("claire"), person("camille"));
    let mut times = Vec::new();
    for run in 0..5 {
        let (version, md, units) = {
            let mut conn = store.conn().unwrap();
            let bill = store::bills::by_slug(&mut conn, "cpi").unwrap().unwrap();
            let v = store::versions::latest(&mut conn, bill.id)
                .unwrap()
                .unwrap();
            let u = store::units::for_version(&mut conn, v.meta.id).unwrap();
            (v.meta.number, v.markdown, u)
        };
        let id = consultation::open(
            &store,
            &staff,
            &NewConsultation {
                bill_slug: "cpi",
                version,
                title: "Bench",
                description: "",
                opens_on: "2026-12-01",
                closes_on: "2027-01-31",
                levels: [1, 1, 2],
            },
        )
        .unwrap();
        consultation::advance(&store, &staff, id, &voting(&store)).unwrap();
        let mut ids = Vec::new();
        for (i, (wid, text)) in edits(&md, &units).iter().enumerate() {
            let sha = &units.iter().find(|u| &u.wid == wid).unwrap().sha256;
            let token = format!("bench-token-{run}-{i:04}-xxxx");
            let (a, _) = consultation::file(
                &store,
                &[1; 32],
                &citizen,
                &Filing {
                    kind: FilingKind::Edit,
                    consultation_id: id,
                    wid,
                    article_sha256: sha,
                    text,
                    justification: "",
                    disclosure: Disclosure::Name,
                    form_token: &token,
                },
            )
            .unwrap();
            ids.push(a.id);
        }
        for a in &ids {
            rule(&store, &staff, *a, Ruling::Admissible).unwrap();
        }
        consultation::advance(&store, &staff, id, &voting(&store)).unwrap();
        for a in &ids {
            rule(&store, &staff, *a, Ruling::Adopted).unwrap();
        }
        let t = Instant::now();
        svc::consolidate(&store, &staff, id).unwrap();
        times.push(t.elapsed());
    }
    times.sort();
    println!(
        "consolidation/service ({}, 5 runs): median {:.1} ms, min {:.1} ms, max {:.1} ms",
        if url.is_some() {
            "PostgreSQL"
        } else {
            "SQLite"
        },
        times[2].as_secs_f64() * 1e3,
        times[0].as_secs_f64() * 1e3,
        times[4].as_secs_f64() * 1e3
    );
}

/// A voting service with a throwaway key: advancing a consultation to the vote signs
/// its manifest.
fn voting(store: &amenda::store::Store) -> amenda::service::voting::Voting {
    amenda::service::voting::Voting::new(
        store.clone(),
        amenda::service::voting::LogKey::random(),
        "bench.example",
        30,
    )
}
