//! A busy consultation on the real Code de la propriété intellectuelle, for the page
//! latency target of issue 4 (docs/performance.md, "Consultation pages under load"):
//! 1,000 amendments and 10,000 comments. Builds, in the data folder DATA (default
//! /tmp/amenda-consultation-load; PostgreSQL with AMENDA_BENCH_DATABASE_URL), the whole
//! CPI history imported from `cpi.bundle` (AMENDA_CORPUS, default ../shared/corpus), a
//! consultation on its latest version in the amendments phase, then
//!
//! - AMENDMENTS amendments (default 1,000) filed through `service::consultation::file`,
//!   each by a distinct signed-in person at level 2, each replacing one to three words
//!   of the article's current text; BUSY of them (default 30, a few identical to
//!   another) on Article L122-5, the article the page test reads, the others spread
//!   over several hundred articles;
//! - COMMENTS comments (default 10,000) posted through `service::comments::post` by
//!   2,000 people: a few hundred on Article L122-5 (some on one of its paragraphs with a
//!   quote, a quarter of them replies), a thousand on amendments (30 on the first
//!   amendment of L122-5, whose page the test reads), the rest spread over the articles
//!   that have amendments, one in five a reply.
//!
//! It prints how long each part took, then the lines `benches/consultation_load.sh`
//! reads: `consultation ID`, `article WID`, `amendment NUMBER` (on the busy article).
//!
//!     DATA=/tmp/amenda-consultation-load cargo bench --bench consultation_load
//!
//! Everything goes through the service layer, one transaction per filing or comment as
//! on the site (the service writes each in its own); only the rate limits, which the web
//! handlers apply (`web::ratelimit`), are not in the way: each person files at most
//! two amendments and five comments.

use amenda::domain::amendment::article_body;
use amenda::domain::identity::{Level, Role};
use amenda::domain::ids::{AmendmentId, CommentId};
use amenda::service::comments::{self, NewComment, Target};
use amenda::service::consultation::{self, Disclosure, Filing, FilingKind, NewConsultation};
use amenda::service::identity::{sign_in, Authenticated, SessionInfo};
use amenda::service::voting::Voting;
use amenda::store::Store;
use amenda::text::UnitKind;
use std::path::{Path, PathBuf};
use std::time::Instant;

const FILE: &str = "code_de_la_propriété_intellectuelle.md";
/// The article the page test reads (also the one of benches/http.sh).
const BUSY_NUM: &str = "L122-5";
const KEY: [u8; 32] = [7; 32];

fn env_num(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn person(store: &Store, subject: &str, level: i64) -> SessionInfo {
    sign_in(
        store,
        &Authenticated {
            provider: "bench",
            subject,
            display_name: subject,
            email: None,
            level: Level::new(level).unwrap(),
            acr: None,
            user_agent: "bench",
            id_token: None,
        },
    )
    .unwrap()
    .1
}

/// A small deterministic generator (xorshift), so that every run builds the same data.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// An article of the consultation's version, as a filing form shows it.
struct Art {
    wid: String,
    body: String,
    sha256: String,
    /// Its paragraphs: wid and text (quotes are taken from them).
    paragraphs: Vec<(String, String)>,
}

/// The byte ranges of the words of five letters or more of `body` (the ones replaced).
fn words(body: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, ch) in body
        .char_indices()
        .chain(std::iter::once((body.len(), ' ')))
    {
        match (start, ch.is_alphabetic()) {
            (None, true) => start = Some(i),
            (Some(s), false) => {
                if body[s..i].chars().count() >= 5 {
                    out.push((s, i));
                }
                start = None;
            }
            _ => {}
        }
    }
    out
}

const REPLACEMENTS: [&str; 12] = [
    "notamment",
    "également",
    "exclusivement",
    "raisonnablement",
    "préalablement",
    "strictement",
    "personnellement",
    "publiquement",
    "gratuitement",
    "expressément",
    "temporairement",
    "librement",
];

/// The article's text with one to three of its words replaced.
fn edited(body: &str, rng: &mut Rng) -> Option<String> {
    let w = words(body);
    if w.len() < 3 {
        return None;
    }
    let count = 1 + rng.below(3);
    let mut picks: Vec<usize> = (0..count).map(|_| rng.below(w.len())).collect();
    picks.sort_unstable();
    picks.dedup();
    let mut out = body.to_string();
    for &p in picks.iter().rev() {
        let (s, e) = w[p];
        let new = REPLACEMENTS[rng.below(REPLACEMENTS.len())];
        if &body[s..e] == new {
            continue;
        }
        out.replace_range(s..e, new);
    }
    (out != body).then_some(out)
}

/// A quote of a few words from a paragraph's text (its first line skipped when it is
/// a heading), or '' when it has too few words.
fn quote_of(text: &str, rng: &mut Rng) -> String {
    let ws: Vec<&str> = text
        .lines()
        .filter(|l| !l.starts_with('#'))
        .flat_map(str::split_whitespace)
        .collect();
    if ws.len() < 8 {
        return String::new();
    }
    let n = 3 + rng.below(5);
    let s = rng.below(ws.len() - n);
    ws[s..s + n].join(" ")
}

fn main() {
    let data =
        PathBuf::from(std::env::var("DATA").unwrap_or("/tmp/amenda-consultation-load".into()));
    let corpus = std::env::var_os("AMENDA_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus"));
    let bundle = corpus.join("cpi.bundle");
    if !bundle.is_file() {
        eprintln!("skipped: no {} (set AMENDA_CORPUS)", bundle.display());
        return;
    }
    let n_amend = env_num("AMENDMENTS", 1000);
    let n_busy = env_num("BUSY", 30).min(n_amend);
    let n_comments = env_num("COMMENTS", 10_000);

    if data.exists() {
        std::fs::remove_dir_all(&data).unwrap();
    }
    std::fs::create_dir_all(&data).unwrap();
    let url = std::env::var("AMENDA_BENCH_DATABASE_URL").ok();
    let store = Store::open(&data, url.as_deref()).unwrap();
    store.migrate().unwrap();
    let all = Instant::now();

    let t = Instant::now();
    let sum = amenda::service::import::import_git(
        &store,
        &bundle.display().to_string(),
        FILE,
        "cpi",
        Some("texte"),
        None,
        &amenda::service::Silent,
    )
    .unwrap();
    println!(
        "import-git of the CPI: {} versions in {:.1} s",
        sum.versions_added,
        t.elapsed().as_secs_f64()
    );

    // Staff open a consultation on the latest version and open it for amendments.
    let s = person(&store, "staff", 1);
    amenda::store::accounts::grant(&mut store.conn().unwrap(), s.account.id, Role::Staff, None)
        .unwrap();
    let staff = person(&store, "staff", 1);
    let (latest, version_id) = {
        let mut conn = store.conn().unwrap();
        let bill = amenda::store::bills::by_slug(&mut conn, "cpi")
            .unwrap()
            .unwrap();
        let m = amenda::store::versions::list_meta(&mut conn, bill.id)
            .unwrap()
            .into_iter()
            .max_by_key(|m| m.number)
            .unwrap();
        (m.number, m.id)
    };
    let day =
        |d: i64| (time::OffsetDateTime::now_utc().date() + time::Duration::days(d)).to_string();
    let id = consultation::open(
        &store,
        &staff,
        &NewConsultation {
            bill_slug: "cpi",
            version: latest,
            title: "Consultation sur le Code de la propriété intellectuelle",
            description: "Banc d'essai : mille amendements et dix mille commentaires.",
            opens_on: &day(0),
            closes_on: &day(30),
            levels: [1, 2, 2],
        },
    )
    .unwrap();
    let voting = Voting::new(
        store.clone(),
        amenda::service::voting::LogKey::from_seed([9; 32]),
        "bench.invalid",
        30,
    );
    consultation::advance(&store, &staff, id, &voting).unwrap();

    // The articles of the version, as the filing form reads them.
    let (articles, busy) = {
        let mut conn = store.conn().unwrap();
        let version = amenda::store::versions::by_id(&mut conn, version_id)
            .unwrap()
            .unwrap();
        let units = amenda::store::units::for_version(&mut conn, version_id).unwrap();
        let md = &version.markdown;
        let mut arts = Vec::new();
        let mut busy = None;
        for (i, u) in units.iter().enumerate() {
            if u.kind != UnitKind::Article {
                continue;
            }
            let body = article_body(u.text(md)).to_string();
            if words(&body).len() < 10 {
                continue; // "Abrogé." and the like
            }
            let paragraphs = units
                .iter()
                .filter(|p| p.kind == UnitKind::Paragraph && p.parent == Some(i))
                .map(|p| (p.wid.clone(), p.text(md).to_string()))
                .collect();
            let num = u.num.as_deref().unwrap_or("").replace([' ', '.'], "");
            if busy.is_none() && num == BUSY_NUM {
                busy = Some(arts.len());
            }
            arts.push(Art {
                wid: u.wid.clone(),
                body,
                sha256: u.sha256.clone(),
                paragraphs,
            });
        }
        (
            arts,
            busy.expect("Article L122-5 in the latest CPI version"),
        )
    };
    println!(
        "consultation {id} opened on version {latest}: {} articles with text; busy article {} ({} paragraphs)",
        articles.len(),
        articles[busy].wid,
        articles[busy].paragraphs.len()
    );

    // Amendments: BUSY on the busy article, the rest on other articles (about two each).
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let spread: Vec<usize> = {
        let mut v: Vec<usize> = (0..articles.len()).filter(|&i| i != busy).collect();
        // A deterministic shuffle, then as many articles as half the other amendments.
        for i in (1..v.len()).rev() {
            v.swap(i, rng.below(i + 1));
        }
        v.truncate(((n_amend - n_busy) / 2).max(1));
        v
    };
    let t = Instant::now();
    let mut people = Instant::now().elapsed();
    let mut on_busy: Vec<(AmendmentId, i32)> = Vec::new(); // (id, number)
    let mut amendments: Vec<(AmendmentId, usize)> = Vec::new(); // (id, article index)
    let mut last_busy_text = String::new();
    for k in 0..n_amend {
        let a = if k % (n_amend / n_busy.max(1)).max(1) == 0 && on_busy.len() < n_busy {
            busy
        } else {
            spread[k % spread.len()]
        };
        let art = &articles[a];
        // One busy amendment in five is identical to the one before it.
        let text = if a == busy && on_busy.len() % 5 == 4 {
            last_busy_text.clone()
        } else {
            let mut tries = 0;
            loop {
                tries += 1;
                if let Some(t) = edited(&art.body, &mut rng) {
                    break t;
                }
                assert!(tries < 10, "no word to replace in {}", art.wid);
            }
        };
        if a == busy {
            last_busy_text = text.clone();
        }
        let p = Instant::now();
        let who = person(&store, &format!("auteur-{:04}", k / 2), 2);
        people += p.elapsed();
        let (filed, _) = consultation::file(
            &store,
            &KEY,
            &who,
            &Filing {
                kind: FilingKind::Edit,
                consultation_id: id,
                wid: &art.wid,
                article_sha256: &art.sha256,
                text: &text,
                justification: "Une rédaction plus précise, qui lève une ambiguïté relevée \
                                par les praticiens.",
                disclosure: if k % 3 == 0 {
                    Disclosure::Name
                } else {
                    Disclosure::Pseudonym
                },
                form_token: &format!("bench-amendment-{k:08}"),
            },
        )
        .unwrap();
        if a == busy {
            on_busy.push((filed.id, filed.number));
        }
        amendments.push((filed.id, a));
    }
    let took = t.elapsed();
    println!(
        "{n_amend} amendments ({} on the busy article) filed in {:.1} s ({:.1} ms each, of which signing in {:.1} ms)",
        on_busy.len(),
        took.as_secs_f64(),
        took.as_secs_f64() * 1000.0 / n_amend.max(1) as f64,
        people.as_secs_f64() * 1000.0 / n_amend.max(1) as f64
    );

    // Comments: 2,000 commenters, signed in once each.
    let t = Instant::now();
    let commenters: Vec<SessionInfo> = (0..2000)
        .map(|i| person(&store, &format!("citoyen-{i:04}"), 1 + (i % 3) as i64))
        .collect();
    println!(
        "2000 commenters signed in in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    let n_on_busy = (n_comments * 3 / 100).max(1); // 300 of 10,000
    let n_on_amend = n_comments / 10; // 1,000 of 10,000
    let first_busy = on_busy.first().map(|&(id, _)| id);
    let commented: Vec<usize> = {
        let mut v: Vec<usize> = amendments.iter().map(|&(_, a)| a).collect();
        v.sort_unstable();
        v.dedup();
        v
    };
    // Top comments per place, for the replies.
    let mut tops_busy: Vec<CommentId> = Vec::new();
    let mut tops_other: Vec<CommentId> = Vec::new();
    let mut tops_amend: Vec<CommentId> = Vec::new();
    let t = Instant::now();
    let (mut replies, mut quoted) = (0usize, 0usize);
    for k in 0..n_comments {
        let who = &commenters[k % commenters.len()];
        let reply_share = if k < n_on_busy { 4 } else { 5 };
        let (tops, target, quote): (&mut Vec<CommentId>, Target<'_>, String) = if k < n_on_busy {
            let art = &articles[busy];
            if k % 2 == 1 && !art.paragraphs.is_empty() {
                let (wid, text) = &art.paragraphs[rng.below(art.paragraphs.len())];
                (&mut tops_busy, Target::Unit(wid), quote_of(text, &mut rng))
            } else {
                (&mut tops_busy, Target::Unit(&art.wid), String::new())
            }
        } else if k < n_on_busy + n_on_amend {
            // 30 on the busy article's first amendment, the rest spread.
            let aid = match first_busy {
                Some(f) if k < n_on_busy + 30 => f,
                _ => amendments[rng.below(amendments.len())].0,
            };
            (&mut tops_amend, Target::Amendment(aid), String::new())
        } else {
            let art = &articles[commented[rng.below(commented.len())]];
            (&mut tops_other, Target::Unit(&art.wid), String::new())
        };
        // Replies go to a recent top comment of the same kind of place (on the busy
        // article: one of its own; on amendments: the first amendment's when still in
        // its thirty).
        let parent = (k % reply_share == reply_share - 1 && !tops.is_empty())
            .then(|| tops[tops.len() - 1 - rng.below(tops.len().min(10))]);
        if !quote.is_empty() && parent.is_none() {
            quoted += 1;
        }
        let body = format!(
            "Commentaire {k} : cette disposition mérite d'être précisée, notamment quant \
             à son articulation avec les exceptions prévues ailleurs dans le code. Les \
             praticiens relèvent des divergences d'interprétation."
        );
        let made = comments::post(
            &store,
            &KEY,
            who,
            &NewComment {
                consultation_id: id,
                target,
                parent,
                quote: &quote,
                body: &body,
                disclosure: if k % 4 == 0 {
                    Disclosure::Name
                } else {
                    Disclosure::Pseudonym
                },
                form_token: &format!("bench-comment-{k:08}"),
            },
        )
        .unwrap();
        if parent.is_some() {
            replies += 1;
        } else {
            tops.push(made.id);
        }
    }
    let took = t.elapsed();
    println!(
        "{n_comments} comments ({n_on_busy} on the busy article, {quoted} of them quoting a paragraph; {n_on_amend} on amendments; {replies} replies in all) posted in {:.1} s ({:.1} ms each)",
        took.as_secs_f64(),
        took.as_secs_f64() * 1000.0 / n_comments.max(1) as f64
    );
    println!("generated in {:.1} s", all.elapsed().as_secs_f64());
    println!("consultation {id}");
    println!("article {}", articles[busy].wid);
    if let Some(&(_, number)) = on_busy.first() {
        println!("amendment {number}");
    }
}
