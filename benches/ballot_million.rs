//! A ballot log of a million ballots, for the tally, export and verification targets of
//! docs/performance.md. Builds, in the data folder DATA (default /tmp/amenda-million), a
//! consultation on `budget-participatif` in its voting phase, appends BALLOTS ballots
//! (default 1,000,000; one voter in ten votes twice) in large transactions with a signed
//! checkpoint every 100,000 entries, then closes the consultation through the service
//! (the streamed tally, `result.csv`, the close record and the final checkpoint) and
//! prints how long the close took. `benches/million.sh` runs it, then measures the
//! export and `amenda-verify` on the same log.
//!
//!     DATA=/tmp/amenda-million cargo bench --bench ballot_million
//!
//! The ballots are appended straight to the store (casting speed is measured by
//! `vote_load`); they are real ballots nonetheless: tokens from the consultation key,
//! answers to the manifest's items, random nonces, all checked again at the close.

use amenda::domain::identity::{Level, Role};
use amenda::domain::ids::{AccountId, ConsultationId};
use amenda::ledger::checkpoint::Checkpoint;
use amenda::ledger::entry::{Answer, Ballot, Disclosure, Entry, Manifest};
use amenda::ledger::merkle::{leaf_hash, Tree};
use amenda::ledger::token::ConsultationKey;
use amenda::service::consultation::{self, NewConsultation};
use amenda::service::identity::{sign_in, Authenticated, SessionInfo};
use amenda::service::voting::{today, LogKey, Voting};
use amenda::store::ballots::{self, NewEntry};
use amenda::store::Store;
use ring::rand::SecureRandom;
use std::path::{Path, PathBuf};
use std::time::Instant;

const BATCH: usize = 20_000;
const CHECKPOINT_EVERY: u64 = 100_000;

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

/// The instance log key, as `amenda` keeps it (`log.key`, hexadecimal), so that the
/// export written later by the binary is signed by the same key.
fn log_key(data: &Path) -> LogKey {
    let path = data.join("log.key");
    let seed: [u8; 32] = match std::fs::read_to_string(&path) {
        Ok(h) => hex::decode(h.trim()).unwrap().try_into().unwrap(),
        Err(_) => {
            let mut k = [0u8; 32];
            ring::rand::SystemRandom::new().fill(&mut k).unwrap();
            std::fs::write(&path, hex::encode(k)).unwrap();
            k
        }
    };
    LogKey::from_seed(seed)
}

/// `COMMENTS` comments (default none) on the consultation's first article, written
/// straight to the store a thousand per transaction: the open-data export's load (issue
/// 6: 1,000,000 ballots and 100,000 comments).
fn comments(store: &Store, id: ConsultationId, author: &SessionInfo) {
    let n: u64 = std::env::var("COMMENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    if n == 0 {
        return;
    }
    let started = Instant::now();
    let mut conn = store.conn().unwrap();
    let c = amenda::store::consultations::by_id(&mut conn, id)
        .unwrap()
        .unwrap();
    let wid = amenda::store::units::for_version(&mut conn, c.version_id)
        .unwrap()
        .into_iter()
        .find(|u| u.kind == amenda::text::UnitKind::Article)
        .unwrap()
        .wid;
    drop(conn);
    let mut done = 0u64;
    while done < n {
        let take = 1000.min(n - done);
        store
            .transaction(|conn| {
                for k in done..done + take {
                    let body = format!(
                        "Commentaire numéro {k} : le délai de dépôt des projets devrait être \
                         porté à quarante-cinq jours pour laisser aux associations le temps \
                         de se réunir."
                    );
                    amenda::store::comments::insert(
                        conn,
                        &amenda::store::comments::NewComment {
                            consultation_id: id,
                            version_id: c.version_id,
                            article_wid: &wid,
                            unit_wid: &wid,
                            amendment_id: None,
                            parent_id: None,
                            quote: "",
                            body: &body,
                            kind: amenda::domain::comment::CommentKind::Comment,
                            author_id: author.account.id,
                            disclosure: amenda::domain::identity::Disclosure::Pseudonym,
                            author_label: "Citoyen 7f3a",
                            author_level: 2,
                            form_token: &format!("bench-comment-{k:012}"),
                        },
                    )?;
                }
                Ok::<_, amenda::store::StoreError>(())
            })
            .unwrap();
        done += take;
    }
    eprintln!("{n} comments in {:.1} s", started.elapsed().as_secs_f64());
}

fn main() {
    let data = PathBuf::from(std::env::var("DATA").unwrap_or("/tmp/amenda-million".into()));
    let n: u64 = std::env::var("BALLOTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    if data.exists() {
        std::fs::remove_dir_all(&data).unwrap();
    }
    std::fs::create_dir_all(&data).unwrap();
    let url = std::env::var("AMENDA_BENCH_DATABASE_URL").ok();
    let store = Store::open(&data, url.as_deref()).unwrap();
    store.migrate().unwrap();
    let laws = Path::new(env!("CARGO_MANIFEST_DIR")).join("laws");
    amenda::service::import::import_folder(&store, &laws, &amenda::service::Silent).unwrap();
    let key = log_key(&data);
    let voting = Voting::new(store.clone(), key.clone(), "bench.invalid", 30);

    let s = person(&store, "staff", 1);
    amenda::store::accounts::grant(&mut store.conn().unwrap(), s.account.id, Role::Staff, None)
        .unwrap();
    let staff = person(&store, "staff", 1);
    let day =
        |d: i64| (time::OffsetDateTime::now_utc().date() + time::Duration::days(d)).to_string();
    let id = consultation::open(
        &store,
        &staff,
        &NewConsultation {
            bill_slug: "budget-participatif",
            version: 3,
            title: "Un million de bulletins",
            description: "Banc d'essai.",
            opens_on: &day(0),
            closes_on: &day(30),
            levels: [1, 1, 2],
        },
    )
    .unwrap();
    consultation::advance(&store, &staff, id, &voting).unwrap();
    // Four amendments, so that each ballot answers five items as a real one would.
    let author = person(&store, "author", 2);
    let wids: Vec<String> = {
        let mut conn = store.conn().unwrap();
        let c = amenda::store::consultations::by_id(&mut conn, id)
            .unwrap()
            .unwrap();
        amenda::store::units::for_version(&mut conn, c.version_id)
            .unwrap()
            .into_iter()
            .filter(|u| u.kind == amenda::text::UnitKind::Article)
            .map(|u| u.wid)
            .take(4)
            .collect()
    };
    for (n, wid) in wids.iter().enumerate() {
        let (_, _, a) = consultation::article(&store, id, wid).unwrap();
        let first = a.body.split_whitespace().next().unwrap().to_string();
        consultation::file(
            &store,
            &[7; 32],
            &author,
            &consultation::Filing {
                consultation_id: id,
                wid,
                article_sha256: &a.sha256,
                text: &a.body.replacen(&first, "Désormais,", 1),
                justification: "Plus clair.",
                disclosure: consultation::Disclosure::Pseudonym,
                form_token: &format!("bench-form-{n:08}"),
                kind: consultation::FilingKind::Edit,
            },
        )
        .unwrap();
    }
    comments(&store, id, &author);
    consultation::advance(&store, &staff, id, &voting).unwrap();

    let mut conn = store.conn().unwrap();
    let manifest_bytes = ballots::entry(&mut conn, id, 0).unwrap().unwrap();
    let manifest = Manifest::decode(&manifest_bytes).unwrap();
    let manifest_leaf = leaf_hash(&manifest_bytes);
    let ckey = ConsultationKey::from_bytes(
        ballots::voter_key(&mut conn, id)
            .unwrap()
            .unwrap()
            .try_into()
            .unwrap(),
    );
    let origin = ballots::by_consultation(&mut conn, id)
        .unwrap()
        .unwrap()
        .origin;
    drop(conn);
    let signer = key.signer(&origin);
    let mut tree = Tree::new();
    tree.push_leaf_hash(manifest_leaf);

    // One voter in ten votes twice: their second ballot is the one counted.
    let voters = n - n / 11;
    let rng = ring::rand::SystemRandom::new();
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let started = Instant::now();
    let mut cast = 0u64;
    while cast < n {
        let take = BATCH.min((n - cast) as usize);
        let mut rows: Vec<(Vec<u8>, [u8; 32], [u8; 32])> = Vec::with_capacity(take);
        for k in 0..take as u64 {
            let i = cast + k;
            let voter = if i < voters { i } else { (i - voters) * 10 };
            let mut nonce = [0u8; 32];
            rng.fill(&mut nonce).unwrap();
            let r = next();
            let ballot = Ballot {
                consultation_id: manifest.consultation_id.clone(),
                manifest_leaf,
                voter_token: ckey.voter_token(AccountId::new(voter as i64 + 1_000_000)),
                level: (r % 4) as u8,
                disclosure: if r & 0x30 == 0 {
                    Disclosure::Public
                } else {
                    Disclosure::Pseudonymous
                },
                day: manifest.opens,
                answers: manifest
                    .items
                    .iter()
                    .enumerate()
                    .map(|(item, it)| Answer {
                        item: item as u16,
                        option: ((r >> (8 + 2 * item)) % it.options.len() as u64) as u8,
                    })
                    .collect(),
                nonce,
            };
            let bytes = Entry::Ballot(ballot.clone()).encode().unwrap();
            let leaf = leaf_hash(&bytes);
            rows.push((bytes, leaf, ballot.voter_token));
        }
        let before = tree.len();
        for (_, leaf, _) in &rows {
            tree.push_leaf_hash(*leaf);
        }
        let size = tree.len();
        store
            .transaction(|conn| {
                let log = ballots::lock(conn, id)?.unwrap();
                assert_eq!(log.size as u64, before);
                let entries: Vec<NewEntry<'_>> = rows
                    .iter()
                    .map(|(e, l, t)| NewEntry {
                        entry: e,
                        leaf_hash: l,
                        voter_token: Some(t),
                    })
                    .collect();
                ballots::append(conn, id, log.size, &entries)?;
                if size / CHECKPOINT_EVERY > before / CHECKPOINT_EVERY {
                    let note = signer.sign(&Checkpoint {
                        origin: origin.clone(),
                        size,
                        root: tree.root(),
                    });
                    ballots::insert_checkpoint(conn, id, size as i64, &note)?;
                }
                Ok::<_, amenda::store::StoreError>(())
            })
            .unwrap();
        cast += take as u64;
    }
    println!(
        "appended {n} ballots ({voters} voters) in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let started = Instant::now();
    let closed = voting.close(None, id, today(&store)).unwrap();
    let took = started.elapsed();
    println!(
        "close (streamed tally of {} ballot entries, {} counted, result.csv, close record, final checkpoint): {:.2} s",
        closed.ballots,
        closed.counted,
        took.as_secs_f64()
    );

    // The tally alone, on ballots already decoded in memory.
    let mut conn = store.conn().unwrap();
    let decoded: Vec<Ballot> =
        amenda::service::voting::LogStream::new(&mut conn, id, 1, n as i64 + 1)
            .map(|r| Ballot::decode(&r.unwrap().1).unwrap())
            .collect();
    let started = Instant::now();
    let t = amenda::ledger::tally::tally(&manifest, &decoded).unwrap();
    println!(
        "tally alone of {} decoded ballots in memory: {:.2} s",
        t.ballot_entries,
        started.elapsed().as_secs_f64()
    );
    println!("consultation {id} in {}", data.display());
}
