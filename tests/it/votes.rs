//! Voting through the service layer (the code the pages and the API call): the rules,
//! receipts, the close, the export checked by the verifier's code, key destruction,
//! and many voters at once through two appenders (two app servers) on one database.
//! On the backend chosen by AMENDA_TEST_DATABASE_URL.

use crate::common;
use amenda::domain::ids::ConsultationId;
use common::day_plus;

use amenda::ledger::checkpoint::PublicKey;
use amenda::ledger::entry::{Ballot, Disclosure, Entry, Subject};
use amenda::ledger::receipt::{verify_receipt, Receipt};
use amenda::ledger::verify::{verify_export, verify_receipt_in, ReceiptStatus};
use amenda::service::consultation::{self, Filing, NewConsultation};
use amenda::service::identity::SessionInfo;
use amenda::service::voting::{self, Choice, LogKey, VoteError, Voting};
use amenda::text::UnitKind;
use common::fixtures::{account, with_role};
use diesel::connection::SimpleConnection;

const PSEUDONYM_KEY: [u8; 32] = [5; 32];

/// Answers of a ballot that must be refused.
type Refusal = Vec<(u16, u8)>;

fn staff(store: &amenda::store::Store) -> SessionInfo {
    with_role(store, "staff", amenda::domain::identity::Role::Staff)
}

/// A consultation on budget-participatif v3 open today for 30 days, with two amendments
/// filed, in phase "amendments". Returns its id.
fn consultation_with_amendments(store: &common::TestStore, staff: &SessionInfo) -> ConsultationId {
    common::fixtures::import_laws(store);
    let id = consultation::open(
        store,
        staff,
        &NewConsultation {
            bill_slug: "budget-participatif",
            version: 3,
            title: "Vote sur le budget participatif",
            description: "Votez.",
            opens_on: &day_plus(0),
            closes_on: &day_plus(30),
            levels: [1, 1, 2],
        },
    )
    .unwrap();
    let v = voting(store, LogKey::random());
    assert_eq!(
        consultation::advance(store, staff, id, &v).unwrap(),
        consultation::Phase::Amendments
    );
    let mut conn = store.conn().unwrap();
    let bill = amenda::store::bills::by_slug(&mut conn, "budget-participatif")
        .unwrap()
        .unwrap();
    let version = amenda::store::versions::by_number(&mut conn, bill.id, 3)
        .unwrap()
        .unwrap();
    let articles: Vec<_> = amenda::store::units::for_version(&mut conn, version.meta.id)
        .unwrap()
        .into_iter()
        .filter(|u| u.kind == UnitKind::Article)
        .collect();
    drop(conn);
    let author = account(store, "author", 2);
    for (n, art) in articles.iter().take(2).enumerate() {
        let (_, _, a) = consultation::article(store, id, &art.wid).unwrap();
        let first = a.body.split_whitespace().next().unwrap().to_string();
        let edited = a.body.replacen(&first, "Désormais,", 1);
        consultation::file(
            store,
            &PSEUDONYM_KEY,
            &author,
            &Filing {
                consultation_id: id,
                wid: &art.wid,
                article_sha256: &a.sha256,
                text: &edited,
                justification: "Plus clair.",
                disclosure: consultation::Disclosure::Pseudonym,
                form_token: &format!("form-token-{n:08}"),
                kind: consultation::FilingKind::Edit,
            },
        )
        .unwrap();
    }
    id
}

fn voting(store: &amenda::store::Store, key: LogKey) -> Voting {
    Voting::new(store.clone(), key, "vote.test", 30)
}

fn choice(answers: &[(u16, u8)], disclosure: Disclosure) -> Choice {
    Choice {
        answers: answers.to_vec(),
        disclosure,
    }
}

fn log_size(store: &amenda::store::Store, id: ConsultationId) -> i64 {
    let mut conn = store.conn().unwrap();
    amenda::store::ballots::by_consultation(&mut conn, id)
        .unwrap()
        .map_or(0, |l| l.size)
}

#[test]
fn voting_rules_receipts_close_export_and_key_destruction() {
    let store = common::test_store();
    let staff = staff(&store);
    let id = consultation_with_amendments(&store, &staff);
    let key = LogKey::from_seed([7; 32]);
    let v = voting(&store, key.clone());
    let camille = account(&store, "camille", 2);
    let yanis = account(&store, "yanis", 3);
    let low = account(&store, "low", 1);
    let today = voting::today(&store);

    // Before the voting phase: refused, and no log exists.
    let e = v
        .prepare(
            &camille,
            id,
            &choice(&[(0, 0)], Disclosure::Pseudonymous),
            today,
        )
        .err()
        .unwrap();
    assert!(
        matches!(e, VoteError::NotVoting(ref p) if *p == consultation::Phase::Amendments),
        "{e}"
    );
    assert_eq!(log_size(&store, id), 0);

    // Opening the vote writes the manifest: one item per amendment, one on the bill.
    assert_eq!(
        consultation::advance(&store, &staff, id, &v).unwrap(),
        consultation::Phase::Voting
    );
    assert_eq!(log_size(&store, id), 1);
    let mut conn = store.conn().unwrap();
    let m = v.log(&mut conn, id).unwrap().manifest.clone();
    drop(conn);
    assert_eq!(m.amendments.len(), 2);
    assert_eq!(m.items.len(), 3);
    assert_eq!(m.items[0].subject, Subject::Amendment(0));
    assert_eq!(m.items[2].subject, Subject::Bill);
    assert_eq!(m.items[0].options, ["pour", "contre", "abstention"]);
    assert_eq!(m.minimum_level, 2);
    assert!(m.amendments[0].id.starts_with("AM-budget-participatif-"));
    assert_eq!(m.log_public_key, key.public_key());

    // Refusals, each with nothing appended.
    let refusals: Vec<(SessionInfo, Refusal, &str)> = vec![
        (low.clone(), vec![(0, 0)], "level"),
        (camille.clone(), vec![], "empty"),
        (camille.clone(), vec![(0, 3)], "option out of range"),
        (camille.clone(), vec![(3, 0)], "item out of range"),
        (camille.clone(), vec![(1, 0), (1, 1)], "item twice"),
    ];
    for (who, answers, what) in refusals {
        let e = v
            .prepare(&who, id, &choice(&answers, Disclosure::Pseudonymous), today)
            .err()
            .unwrap_or_else(|| panic!("{what}: accepted"));
        match what {
            "level" => assert!(
                matches!(e, VoteError::Level { needed: 2, have: 1 }),
                "{what}: {e}"
            ),
            _ => assert!(matches!(e, VoteError::Invalid(_)), "{what}: {e}"),
        }
    }
    // Outside the manifest's days.
    let e = v
        .prepare(
            &camille,
            id,
            &choice(&[(0, 0)], Disclosure::Pseudonymous),
            amenda::ledger::entry::Day::parse_iso(&day_plus(31)).unwrap(),
        )
        .err()
        .unwrap();
    assert!(matches!(e, VoteError::Ended(_)), "{e}");
    assert_eq!(log_size(&store, id), 1, "nothing appended by refusals");

    // Camille votes; the receipt verifies offline with the log's key.
    let p = v
        .prepare(
            &camille,
            id,
            &choice(&[(0, 0), (2, 1)], Disclosure::Pseudonymous),
            today,
        )
        .unwrap();
    let first = v.submit_blocking(p).unwrap();
    assert_eq!(first.index, 1);
    let origin = m.origin.clone();
    let pk = PublicKey::new(&origin, key.public_key()).unwrap();
    let checked = verify_receipt(&Receipt::from_json(&first.to_json()).unwrap(), &pk).unwrap();
    assert_eq!(checked.checkpoint.size, 2);
    let Entry::Ballot(b) = checked.entry else {
        panic!("a ballot")
    };
    assert_eq!(b.level, 2);
    assert_eq!(b.disclosure, Disclosure::Pseudonymous);

    // Yanis votes publicly; Camille votes again asking for public: her first choice stays.
    let p = v
        .prepare(&yanis, id, &choice(&[(1, 2)], Disclosure::Public), today)
        .unwrap();
    assert_eq!(v.submit_blocking(p).unwrap().index, 2);
    let p = v
        .prepare(
            &camille,
            id,
            &choice(&[(0, 1), (1, 0)], Disclosure::Public),
            today,
        )
        .unwrap();
    let second = v.submit_blocking(p).unwrap();
    assert_eq!(second.index, 3);
    let b = Ballot::decode(&second.entry).unwrap();
    assert_eq!(
        b.disclosure,
        Disclosure::Pseudonymous,
        "fixed at the first ballot"
    );
    assert_eq!(
        b.voter_token,
        Ballot::decode(&first.entry).unwrap().voter_token
    );

    // A receipt is given again to its voter only.
    assert!(matches!(v.receipt(&yanis, id, 1), Err(VoteError::NotYours)));
    let again = v.receipt(&camille, id, 1).unwrap();
    assert_eq!(again.entry, first.entry);
    verify_receipt(&again, &pk).unwrap();

    // Proofs: inclusion of every entry, consistency of every older size.
    for size in 1..=4u64 {
        for index in 0..size {
            let proof = v.inclusion_proof(id, index, size).unwrap();
            let root = v.root_at(id, size).unwrap();
            let mut conn = store.conn().unwrap();
            let bytes = amenda::store::ballots::entry(&mut conn, id, index as i64)
                .unwrap()
                .unwrap();
            amenda::ledger::merkle::verify_inclusion(
                index,
                size,
                &amenda::ledger::merkle::leaf_hash(&bytes),
                &proof,
                &root,
            )
            .unwrap();
        }
    }
    let proof = v.consistency_proof(id, 2, 4).unwrap();
    amenda::ledger::merkle::verify_consistency(
        2,
        4,
        &proof,
        &v.root_at(id, 2).unwrap(),
        &v.root_at(id, 4).unwrap(),
    )
    .unwrap();

    // The log is append-only, whatever SQL is tried.
    let mut conn = store.conn().unwrap();
    for sql in [
        format!("UPDATE ballot_entries SET leaf_hash = leaf_hash WHERE consultation_id = {id} AND idx = 1"),
        format!("DELETE FROM ballot_entries WHERE consultation_id = {id} AND idx = 3"),
    ] {
        let err = match &mut *conn {
            amenda::store::DbConnection::Sqlite(c) => c.batch_execute(&sql).unwrap_err(),
            amenda::store::DbConnection::Pg(c) => c.batch_execute(&sql).unwrap_err(),
        };
        assert!(err.to_string().contains("append-only"), "{sql}: {err}");
    }
    drop(conn);
    assert_eq!(log_size(&store, id), 4);

    // Nothing to export before the close.
    let early = tempfile::tempdir().unwrap();
    assert!(matches!(
        voting::export(&store, &key, id, early.path()),
        Err(VoteError::NotClosed)
    ));

    // A ballot prepared before the close and submitted after it is refused.
    let late = v
        .prepare(&yanis, id, &choice(&[(2, 0)], Disclosure::Public), today)
        .unwrap();
    let closed = v.close(Some(staff.account.id), id, today).unwrap();
    assert_eq!((closed.entries, closed.ballots, closed.counted), (5, 3, 2));
    assert!(matches!(v.submit_blocking(late), Err(VoteError::Closed)));
    let e = v
        .prepare(&yanis, id, &choice(&[(2, 0)], Disclosure::Public), today)
        .err()
        .unwrap();
    assert!(
        matches!(e, VoteError::NotVoting(ref p) if *p == consultation::Phase::Closed),
        "{e}"
    );
    assert_eq!(log_size(&store, id), 5);
    assert!(matches!(
        v.close(Some(staff.account.id), id, today),
        Err(VoteError::NotVoting(_))
    ));

    // Results: the last ballot of each voter counts.
    let r = voting::results(&store, id).unwrap().unwrap();
    // item 0: Camille's second ballot says "contre" (1); her first "pour" is replaced.
    assert_eq!(r.rows[0][0][0], 0);
    assert_eq!(r.rows[0][1][0], 1);
    // item 1: Yanis "abstention" at level 3 (public), Camille "pour" at level 2.
    assert_eq!(r.rows[1][2], [1, 1, 0, 0, 0, 1, 0, 1]);
    assert_eq!(r.rows[1][0], [1, 1, 0, 0, 1, 0, 1, 0]);
    // item 2: nobody's last ballot answers it.
    assert!(r.rows[2].iter().all(|o| o[0] == 0));
    assert_eq!(r.participation, vec![(today.date().to_string(), 3)]);

    // The export verifies with the verifier's own code and recount.
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(voting::export(&store, &key, id, dir.path()).unwrap(), 5);
    let vkey = pk.to_vkey();
    let verified = verify_export(dir.path(), Some(&vkey)).unwrap();
    assert_eq!(
        (
            verified.entries,
            verified.ballot_entries,
            verified.counted_ballots
        ),
        (5, 3, 2)
    );
    assert!(verified.checkpoints >= 2, "opening and close checkpoints");
    assert_eq!(
        verify_receipt_in(&first.to_json(), dir.path(), Some(&vkey)).unwrap(),
        ReceiptStatus::Superseded { by: 3 }
    );
    assert_eq!(
        verify_receipt_in(&second.to_json(), dir.path(), Some(&vkey)).unwrap(),
        ReceiptStatus::Counted
    );
    // Another instance's key does not verify this export.
    let other = PublicKey::new(&origin, LogKey::from_seed([8; 32]).public_key())
        .unwrap()
        .to_vkey();
    assert!(verify_export(dir.path(), Some(&other)).is_err());

    // The consultation key is kept for the window, then destroyed (and audited).
    assert!(voting::destroy_due_keys(&store).unwrap().is_empty());
    let mut conn = store.conn().unwrap();
    assert!(amenda::store::ballots::by_consultation(&mut conn, id)
        .unwrap()
        .unwrap()
        .voter_key
        .is_some());
    let sql = format!(
        "UPDATE ballot_logs SET destroy_key_after = '2000-01-01T00:00:00Z' WHERE consultation_id = {id}"
    );
    match &mut *conn {
        amenda::store::DbConnection::Sqlite(c) => c.batch_execute(&sql).unwrap(),
        amenda::store::DbConnection::Pg(c) => c.batch_execute(&sql).unwrap(),
    }
    drop(conn);
    assert_eq!(voting::destroy_due_keys(&store).unwrap(), vec![id]);
    let mut conn = store.conn().unwrap();
    let log = amenda::store::ballots::by_consultation(&mut conn, id)
        .unwrap()
        .unwrap();
    assert!(log.voter_key.is_none() && log.key_destroyed_at.is_some());
    let audit = amenda::store::audit::latest(&mut conn, 50).unwrap();
    for action in ["close_voting", "destroy_consultation_key"] {
        assert!(
            audit.iter().any(|a| a.action == action),
            "{action} is audited"
        );
    }
    assert!(voting::results(&store, id).unwrap().unwrap().key_destroyed);
    // No server can tie Camille to her ballot any more, even one that served her before.
    assert!(matches!(
        v.receipt(&camille, id, 3),
        Err(VoteError::KeyDestroyed)
    ));
}

#[test]
fn voting_cannot_open_after_the_closing_day() {
    let store = common::test_store();
    let staff = staff(&store);
    common::fixtures::import_laws(&store);
    let id = consultation::open(
        &store,
        &staff,
        &NewConsultation {
            bill_slug: "budget-participatif",
            version: 3,
            title: "Trop tard",
            description: "",
            opens_on: "2020-01-01",
            closes_on: "2020-02-01",
            levels: [1, 1, 2],
        },
    )
    .unwrap();
    let v = voting(&store, LogKey::random());
    consultation::advance(&store, &staff, id, &v).unwrap();
    let e = consultation::advance(&store, &staff, id, &v).unwrap_err();
    assert!(e.to_string().contains("2020-02-01"), "{e}");
    let mut conn = store.conn().unwrap();
    let c = amenda::store::consultations::by_id(&mut conn, id)
        .unwrap()
        .unwrap();
    assert_eq!(
        c.phase,
        consultation::Phase::Amendments,
        "nothing half-written"
    );
    assert!(amenda::store::ballots::by_consultation(&mut conn, id)
        .unwrap()
        .is_none());
}

/// Staff choose the items, the options and the re-vote rule before voting opens; the
/// manifest says so and casting follows it. Public voters are named after the close.
#[test]
fn staff_choose_what_is_voted_and_public_voters_are_named_after_the_close() {
    use amenda::ledger::entry::RevotePolicy;
    use voting::{OptionSet, VoteSettings};
    let store = common::test_store();
    let staff = staff(&store);
    let id = consultation_with_amendments(&store, &staff);
    let v = voting(&store, LogKey::random());

    // The defaults: both amendments, the bill, three options, the last ballot counts.
    let (settings, candidates) = voting::vote_settings(&store, id).unwrap();
    assert_eq!(settings, VoteSettings::default());
    let numbers: Vec<i32> = candidates.iter().map(|c| c.number).collect();
    assert_eq!(numbers.len(), 2);
    assert!(candidates.iter().all(|c| c.chosen));

    // Refusals, each writing nothing.
    let citizen = account(&store, "citoyen", 3);
    let only_second = VoteSettings {
        amendments: Some(vec![numbers[1]]),
        bill_item: false,
        options: OptionSet::ForAgainst,
        revote: RevotePolicy::Single,
    };
    assert!(matches!(
        voting::save_vote_settings(&store, &citizen, id, &only_second),
        Err(VoteError::StaffOnly)
    ));
    let unknown = VoteSettings {
        amendments: Some(vec![999]),
        ..only_second.clone()
    };
    assert!(matches!(
        voting::save_vote_settings(&store, &staff, id, &unknown),
        Err(VoteError::Invalid("err_vote_settings_amendment"))
    ));
    let nothing = VoteSettings {
        amendments: Some(vec![]),
        ..only_second.clone()
    };
    assert!(matches!(
        voting::save_vote_settings(&store, &staff, id, &nothing),
        Err(VoteError::NothingToVote)
    ));
    assert_eq!(
        voting::vote_settings(&store, id).unwrap().0,
        VoteSettings::default()
    );

    // Saved, then written into the manifest when voting opens.
    voting::save_vote_settings(&store, &staff, id, &only_second).unwrap();
    let (saved, candidates) = voting::vote_settings(&store, id).unwrap();
    assert_eq!(saved, only_second);
    assert_eq!(
        candidates.iter().map(|c| c.chosen).collect::<Vec<_>>(),
        [false, true]
    );
    assert_eq!(
        consultation::advance(&store, &staff, id, &v).unwrap(),
        consultation::Phase::Voting
    );
    let mut conn = store.conn().unwrap();
    let m = amenda::ledger::entry::Manifest::decode(
        &amenda::store::ballots::entry(&mut conn, id, 0)
            .unwrap()
            .unwrap(),
    )
    .unwrap();
    drop(conn);
    assert_eq!(m.items.len(), 1);
    assert_eq!(m.amendments.len(), 1);
    assert!(m.amendments[0].id.ends_with(&format!("-{}", numbers[1])));
    assert_eq!(m.items[0].options, ["pour", "contre"]);
    assert_eq!(m.revote, RevotePolicy::Single);
    assert!(matches!(
        voting::save_vote_settings(&store, &staff, id, &VoteSettings::default()),
        Err(VoteError::SettingsLocked(p)) if p == consultation::Phase::Voting
    ));

    // One ballot per person; a third option does not exist.
    let today = voting::today(&store);
    let alice = account(&store, "alice", 2);
    let bruno = account(&store, "bruno", 2);
    assert!(matches!(
        v.prepare(&alice, id, &choice(&[(0, 2)], Disclosure::Public), today),
        Err(VoteError::Invalid(_))
    ));
    let p = v
        .prepare(&alice, id, &choice(&[(0, 0)], Disclosure::Public), today)
        .unwrap();
    v.submit_blocking(p).unwrap();
    assert!(matches!(
        v.prepare(&alice, id, &choice(&[(0, 1)], Disclosure::Public), today),
        Err(VoteError::AlreadyVoted)
    ));
    let p = v
        .prepare(
            &bruno,
            id,
            &choice(&[(0, 1)], Disclosure::Pseudonymous),
            today,
        )
        .unwrap();
    v.submit_blocking(p).unwrap();

    // Public voters: nothing before the close, then Alice by name, never Bruno.
    assert!(matches!(
        voting::public_votes(&store, id, 0, 50),
        Err(VoteError::NotClosed)
    ));
    v.close(None, id, today).unwrap();
    let (total, votes) = voting::public_votes(&store, id, 0, 50).unwrap();
    assert_eq!(total, 1);
    assert_eq!(votes.len(), 1);
    assert_eq!(votes[0].name, "alice");
    assert_eq!(votes[0].answers, [(0, 0)]);
    assert_eq!(votes[0].index, 1);
    assert!(voting::public_votes(&store, id, 50, 50)
        .unwrap()
        .1
        .is_empty());
}

/// 200 voters at once, a third of them voting two or three times, through two
/// appenders with their own connection pools (two app servers on one database).
#[test]
fn concurrent_voters_through_two_servers_get_dense_unique_indices() {
    const VOTERS: usize = 200;
    let store = common::test_store();
    let staff = staff(&store);
    let id = consultation_with_amendments(&store, &staff);
    let key = LogKey::from_seed([9; 32]);
    let a = voting(&store, key.clone());
    consultation::advance(&store, &staff, id, &a).unwrap();
    let other_pool =
        amenda::store::Store::open(store.data_dir(), Some(store.database_url())).unwrap();
    let b = voting(&other_pool, key.clone());
    let voters: Vec<SessionInfo> = (0..VOTERS)
        .map(|i| account(&store, &format!("voter-{i}"), 2 + (i % 2) as u8))
        .collect();
    let today = voting::today(&store);
    let receipts: Vec<(usize, Receipt)> = std::thread::scope(|s| {
        let handles: Vec<_> = voters
            .iter()
            .enumerate()
            .map(|(i, who)| {
                let server = if i % 2 == 0 { &a } else { &b };
                s.spawn(move || {
                    let times = if i % 3 == 0 { 1 + i % 3 + 1 } else { 1 };
                    (0..times)
                        .map(|t| {
                            let c = choice(
                                &[(0, (t % 3) as u8), (2, (i % 3) as u8)],
                                Disclosure::Pseudonymous,
                            );
                            let p = server.prepare(who, id, &c, today).unwrap();
                            (i, server.submit_blocking(p).unwrap())
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    let cast = receipts.len();
    assert!(cast > VOTERS);
    // Every acknowledged ballot has its own index, and the indices are exactly 1..=cast.
    let mut indices: Vec<u64> = receipts.iter().map(|(_, r)| r.index).collect();
    indices.sort();
    assert_eq!(indices, (1..=cast as u64).collect::<Vec<_>>());
    // Each receipt verifies and names bytes that are in the log at its index.
    let origin = a
        .log(&mut store.conn().unwrap(), id)
        .unwrap()
        .manifest
        .origin
        .clone();
    let pk = PublicKey::new(&origin, key.public_key()).unwrap();
    let mut conn = store.conn().unwrap();
    for (_, r) in &receipts {
        verify_receipt(r, &pk).unwrap();
        let stored = amenda::store::ballots::entry(&mut conn, id, r.index as i64)
            .unwrap()
            .unwrap();
        assert_eq!(stored, r.entry);
    }
    drop(conn);
    assert_eq!(log_size(&store, id), cast as i64 + 1);

    // Closed through the other server: one counted ballot per voter, and the export
    // verifies with the independent recount.
    let closed = b.close(Some(staff.account.id), id, today).unwrap();
    assert_eq!(closed.ballots, cast as u64);
    assert_eq!(closed.counted, VOTERS as u64);
    let r = voting::results(&store, id).unwrap().unwrap();
    let item0: u64 = r.rows[0].iter().map(|o| o[0]).sum();
    let item2: u64 = r.rows[2].iter().map(|o| o[0]).sum();
    assert_eq!((item0, item2), (VOTERS as u64, VOTERS as u64));
    // The level split: half the voters at level 2, half at 3.
    let l2: u64 = r.rows[0].iter().map(|o| o[4]).sum();
    let l3: u64 = r.rows[0].iter().map(|o| o[5]).sum();
    assert_eq!((l2, l3), (VOTERS as u64 / 2, VOTERS as u64 / 2));
    let dir = tempfile::tempdir().unwrap();
    voting::export(&store, &key, id, dir.path()).unwrap();
    let v = verify_export(dir.path(), Some(&pk.to_vkey())).unwrap();
    assert_eq!(v.counted_ballots, VOTERS as u64);
    // Each voter's last receipt is counted; earlier ones are superseded.
    for (i, r) in &receipts {
        let last = receipts
            .iter()
            .filter(|(j, _)| j == i)
            .map(|(_, r)| r.index)
            .max()
            .unwrap();
        let status = verify_receipt_in(&r.to_json(), dir.path(), Some(&pk.to_vkey())).unwrap();
        if r.index == last {
            assert_eq!(status, ReceiptStatus::Counted);
        } else {
            assert_eq!(status, ReceiptStatus::Superseded { by: last });
        }
    }
}

/// The pages and the JSON API, through Rocket's local client.
mod pages {
    use super::*;
    use amenda::web::{PseudonymKey, WebConfig};
    use common::web::{csrf, demo_client, get, post, sign_in};
    use rocket::http::{ContentType, Header, Status};
    use rocket::local::blocking::Client;

    const SEED: [u8; 32] = [3; 32];

    fn client(store: &common::TestStore) -> Client {
        demo_client(
            store,
            WebConfig {
                pseudonym_key: Some(PseudonymKey(PSEUDONYM_KEY.to_vec())),
                log_key: Some(LogKey::from_seed(SEED)),
                public_url: "http://vote.test".into(),
                ..WebConfig::default()
            },
        )
    }

    fn signed_in(store: &common::TestStore, person: &str, level: u8) -> Client {
        let c = client(store);
        sign_in(&c, person, level);
        c
    }

    #[test]
    fn vote_receipt_close_results_and_export_through_the_pages() {
        let store = common::test_store();
        let claire = signed_in(&store, "claire", 1);
        let staff = super::staff(&store);
        let id = consultation_with_amendments(&store, &staff);
        let base = format!("/consultations/{id}");

        // Before voting: the log page says so, the vote page refuses.
        let anon = client(&store);
        let (s, page) = get(&anon, &format!("{base}/ballots"));
        assert_eq!(s, Status::Ok);
        assert!(page.contains("Voting has not opened yet"), "{page}");
        let camille = signed_in(&store, "camille", 2);
        assert_eq!(get(&camille, &format!("{base}/vote")).0, Status::Conflict);

        // Staff choose what is put to the vote (here: what the defaults would give).
        assert_eq!(
            get(&camille, &format!("{base}/vote/settings")).0,
            Status::Forbidden
        );
        let (s, page) = get(&claire, &format!("{base}/vote/settings"));
        assert_eq!(s, Status::Ok);
        assert!(page.contains("id=\"amendment-1\""), "{page}");
        let (s, _, _) = post(
            &claire,
            &format!("{base}/vote/settings"),
            "which=chosen&amendment=1&amendment=2&bill_item=on&options=for_against_abstain&revote=last_counts",
        );
        assert_eq!(s, Status::SeeOther);
        let (s, _, _) = post(
            &claire,
            &format!("{base}/vote/settings"),
            "which=all&options=yes-no-maybe",
        );
        assert_eq!(s, Status::BadRequest);
        let (s, _, _) = post(
            &claire,
            &format!("{base}/vote/settings"),
            "which=chosen&options=for_against&revote=single",
        );
        assert_eq!(s, Status::BadRequest, "nothing to vote on");

        // Staff open the vote.
        let (s, _, _) = post(&claire, &format!("{base}/phase"), "");
        assert_eq!(s, Status::SeeOther);
        let (_, page) = get(&anon, &base);
        assert!(page.contains(&format!("{base}/vote")), "a link to vote");

        // Below the level: 403 with a way to step up.
        let low = signed_in(&store, "yanis", 1);
        let (s, page) = get(&low, &format!("{base}/vote"));
        assert_eq!(s, Status::Forbidden);
        assert!(page.contains("/signin?level&#x3D;2"), "{page}");

        // Camille votes with the form (no JavaScript), then downloads her receipt.
        let (s, page) = get(&camille, &format!("{base}/vote"));
        assert_eq!(s, Status::Ok);
        assert!(page.contains("name=\"answer[2]\""), "{page}");
        let (s, _, loc) = post(
            &camille,
            &format!("{base}/vote"),
            "answer%5B0%5D=0&answer%5B1%5D=&answer%5B2%5D=1&disclosure=public",
        );
        assert_eq!(s, Status::SeeOther);
        let loc = loc.unwrap();
        assert_eq!(loc, format!("{base}/vote?cast=1"));
        let (_, page) = get(&camille, &loc);
        assert!(page.contains("vote-recorded"), "{page}");
        assert!(page.contains(&format!("{base}/receipts/1")));
        let res = camille.get(format!("{base}/receipts/1")).dispatch();
        assert_eq!(res.status(), Status::Ok);
        assert!(res
            .headers()
            .get_one("Content-Disposition")
            .unwrap()
            .contains("attachment"));
        let receipt_json = res.into_string().unwrap();
        let receipt = Receipt::from_json(&receipt_json).unwrap();
        let b = Ballot::decode(&receipt.entry).unwrap();
        assert_eq!(b.disclosure, Disclosure::Public);
        assert_eq!(b.answers.len(), 2);
        // Nobody else gets it.
        assert_eq!(
            get(&low, &format!("{base}/receipts/1")).0,
            Status::Forbidden
        );
        assert_eq!(
            get(&anon, &format!("{base}/receipts/1")).0,
            Status::SeeOther
        );
        // A forged form is refused, nothing appended.
        let res = camille
            .post(format!("{base}/vote"))
            .header(ContentType::Form)
            .body("csrf=forged&answer%5B0%5D=1")
            .dispatch();
        assert_eq!(res.status(), Status::Forbidden);

        // The JSON API: cast with the CSRF header, refusals as JSON.
        let yanis = signed_in(&store, "yanis", 3);
        let t = csrf(&yanis);
        let res = yanis
            .post(format!("/api/v1{base}/ballots"))
            .header(ContentType::JSON)
            .header(Header::new("X-CSRF-Token", t.clone()))
            .body(r#"{"answers":[{"item":0,"option":1},{"item":1,"option":2}]}"#)
            .dispatch();
        assert_eq!(res.status(), Status::Created);
        let r = Receipt::from_json(&res.into_string().unwrap()).unwrap();
        assert_eq!(r.index, 2);
        let res = yanis
            .post(format!("/api/v1{base}/ballots"))
            .header(ContentType::JSON)
            .header(Header::new("X-CSRF-Token", t))
            .body(r#"{"answers":[{"item":0,"option":7}]}"#)
            .dispatch();
        assert_eq!(res.status(), Status::BadRequest);
        let err: serde_json::Value = serde_json::from_str(&res.into_string().unwrap()).unwrap();
        assert_eq!(err["error"], "invalid_ballot");

        // The log in public: size and checkpoints, proofs, but no choices before the close.
        let (_, api) = get(&anon, &format!("/api/v1{base}"));
        let api: serde_json::Value = serde_json::from_str(&api).unwrap();
        assert_eq!(api["phase"], "voting");
        assert_eq!(api["items"].as_array().unwrap().len(), 3);
        assert_eq!(api["log"]["size"], 3);
        let (s, cp) = get(&anon, &format!("/api/v1{base}/checkpoint"));
        assert_eq!(s, Status::Ok);
        let pk = PublicKey::new(
            &format!("vote.test/consultations/{id}/ballots"),
            LogKey::from_seed(SEED).public_key(),
        )
        .unwrap();
        let cp = amenda::ledger::checkpoint::verify_checkpoint(&cp, &pk).unwrap();
        assert_eq!(cp.size, 3);
        let (s, proof) = get(
            &anon,
            &format!("/api/v1{base}/proof/inclusion?index=1&size=3"),
        );
        assert_eq!(s, Status::Ok);
        let proof: serde_json::Value = serde_json::from_str(&proof).unwrap();
        let proof: Vec<Vec<u8>> = proof["proof"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| hex::decode(h.as_str().unwrap()).unwrap())
            .collect();
        amenda::ledger::merkle::verify_inclusion(
            1,
            3,
            &amenda::ledger::merkle::leaf_hash(&receipt.entry),
            &proof,
            &cp.root,
        )
        .unwrap();
        assert_eq!(
            get(
                &anon,
                &format!("/api/v1{base}/proof/consistency?from=1&to=3")
            )
            .0,
            Status::Ok
        );
        assert_eq!(
            get(
                &anon,
                &format!("/api/v1{base}/proof/inclusion?index=5&size=3")
            )
            .0,
            Status::BadRequest
        );
        let (_, page) = get(&anon, &format!("{base}/results"));
        assert!(page.contains("no-results"), "{page}");
        assert_eq!(
            get(&anon, &format!("{base}/results/public")).0,
            Status::Conflict,
            "public votes are shown after the close only"
        );
        assert_eq!(
            get(&anon, &format!("{base}/ballots/entries.csv")).0,
            Status::NotFound
        );

        // Staff close the vote from its page.
        assert_eq!(get(&camille, &format!("{base}/close")).0, Status::Forbidden);
        let (s, page) = get(&claire, &format!("{base}/close"));
        assert_eq!(s, Status::Ok);
        assert!(page.contains("close-button"), "{page}");
        let (s, _, loc) = post(&claire, &format!("{base}/close"), "");
        assert_eq!(s, Status::SeeOther);
        assert_eq!(loc.unwrap(), format!("{base}/results"));
        let (s, _, _) = post(&camille, &format!("{base}/vote"), "answer%5B0%5D=1");
        assert_eq!(s, Status::Conflict, "no vote after the close");

        // Results: charts with their tables.
        let (s, page) = get(&anon, &format!("{base}/results"));
        assert_eq!(s, Status::Ok);
        assert!(page.contains(&format!("{base}/results/public")));
        // Camille voted publicly: named, with her answers; Yanis (pseudonymous) is not.
        let (s, public) = get(&anon, &format!("{base}/results/public"));
        assert_eq!(s, Status::Ok);
        assert!(public.contains("Camille Martin"), "{public}");
        assert!(!public.contains("Yanis"), "{public}");
        // One page only: no link to a next one.
        assert!(!public.contains("rel=\"next\""), "{public}");
        let (_, settings) = get(&claire, &format!("{base}/vote/settings"));
        assert!(settings.contains("settings-locked"), "{settings}");
        assert!(page.contains("<svg class=\"chart\""), "{page}");
        assert!(page.contains("Participation per day"));

        // The export, downloaded file by file, verifies with the verifier's code.
        let dir = tempfile::tempdir().unwrap();
        let (_, log_page) = get(&anon, &format!("{base}/ballots"));
        for file in [
            "entries.csv",
            "ballots.csv",
            "result.csv",
            "checkpoint.txt",
            "log.vkey",
        ] {
            assert!(
                log_page.contains(&format!("{base}/ballots/{file}")),
                "{file}"
            );
            let (s, body) = get(&anon, &format!("{base}/ballots/{file}"));
            assert_eq!(s, Status::Ok, "{file}");
            std::fs::write(dir.path().join(file), body).unwrap();
        }
        let verified = verify_export(dir.path(), Some(&pk.to_vkey())).unwrap();
        assert_eq!((verified.ballot_entries, verified.counted_ballots), (2, 2));
        let (s, cp_text) = get(&anon, &format!("{base}/ballots/checkpoints/1.txt"));
        assert_eq!(s, Status::Ok);
        assert!(cp_text.starts_with(&format!("vote.test/consultations/{id}/ballots\n1\n")));

        // Checking the receipt on the site: valid, and counted.
        let (s, page) = get(&anon, "/receipts/check");
        assert_eq!(s, Status::Ok);
        assert!(page.contains("textarea"), "{page}");
        let (s, page, _) = post(
            &anon,
            "/receipts/check",
            &format!("receipt={}", amenda::web::url_encode(&receipt_json)),
        );
        assert_eq!(s, Status::Ok);
        assert!(page.contains("check-valid"), "{page}");
        assert!(page.contains("it is counted"), "{page}");
        let mut tampered = Receipt::from_json(&receipt_json).unwrap();
        tampered.index = 2;
        let tampered = tampered.to_json();
        let (_, page, _) = post(
            &anon,
            "/receipts/check",
            &format!("receipt={}", amenda::web::url_encode(&tampered)),
        );
        assert!(page.contains("check-error"), "{page}");
        assert!(
            page.contains("The receipt does not prove its ballot"),
            "{page}"
        );
        // Why, in the reader's language.
        anon.get("/lang/fr?next=/").dispatch();
        let (_, page, _) = post(
            &anon,
            "/receipts/check",
            &format!("receipt={}", amenda::web::url_encode(&tampered)),
        );
        assert!(
            page.contains("Le reçu ne prouve pas son bulletin"),
            "{page}"
        );
        let (_, page, _) = post(&anon, "/receipts/check", "receipt=bonjour");
        assert!(page.contains("pas un reçu Amenda"), "{page}");
    }
}
