//! Moderation (docs/moderation.md): reports and automatic hiding, moderators' decisions,
//! suspensions, appeals decided by another moderator, the hash-chained public log, and
//! rate limits — through the service layer and the pages, on the backend chosen by
//! AMENDA_TEST_DATABASE_URL.

use crate::common;
use amenda::domain::ids::{AccountId, CommentId, ConsultationId};
use common::day_plus;

use amenda::domain::conflict::ConflictKind;
use amenda::domain::identity::Role;
use amenda::domain::moderation::{ChainError, Reason};
use amenda::service::comments::{self, NewComment, Target};
use amenda::service::consultation::{self, ConsultationError, Disclosure, NewConsultation};
use amenda::service::identity::SessionInfo;
use amenda::service::moderation::{self as moderation, Kind, Limit, ModerationError, Verdict};
use amenda::service::voting::{Choice, LogKey, VoteError, Voting};
use amenda::store::moderation::QueueFilter;
use amenda::text::UnitKind;
use common::fixtures::{account, with_role};

const KEY: [u8; 32] = [9; 32];

/// A consultation on budget-participatif v3 (levels 1, 1, 1), open for amendments;
/// returns it and the wid of its first article.
fn setup(store: &common::TestStore) -> (ConsultationId, String, Voting) {
    common::fixtures::import_laws(store);
    let staff = with_role(store, "staff", Role::Staff);
    let id = consultation::open(
        store,
        &staff,
        &NewConsultation {
            bill_slug: "budget-participatif",
            version: 3,
            title: "Consultation",
            description: "",
            opens_on: &day_plus(0),
            closes_on: &day_plus(30),
            levels: [1, 1, 1],
        },
    )
    .unwrap();
    let v = Voting::new((**store).clone(), LogKey::random(), "moderation.test", 30);
    assert_eq!(
        consultation::advance(store, &staff, id, &v).unwrap(),
        consultation::Phase::Amendments
    );
    let mut conn = store.conn().unwrap();
    let c = amenda::store::consultations::by_id(&mut conn, id)
        .unwrap()
        .unwrap();
    let wid = amenda::store::units::for_version(&mut conn, c.version_id)
        .unwrap()
        .into_iter()
        .find(|u| u.kind == UnitKind::Article)
        .unwrap()
        .wid;
    (id, wid, v)
}

fn comment(
    store: &amenda::store::Store,
    who: &SessionInfo,
    id: ConsultationId,
    wid: &str,
    body: &str,
    token: &str,
) -> Result<CommentId, ConsultationError> {
    comments::post(
        store,
        &KEY,
        who,
        &NewComment {
            consultation_id: id,
            target: Target::Unit(wid),
            parent: None,
            quote: "",
            body,
            disclosure: Disclosure::Name,
            form_token: token,
        },
    )
    .map(|c| c.id)
}

fn hidden(store: &amenda::store::Store, id: ConsultationId) -> Vec<(CommentId, String, bool)> {
    let mut v: Vec<_> = moderation::hidden_in(&mut store.conn().unwrap(), id)
        .unwrap()
        .into_iter()
        .map(|((_, cid), h)| (CommentId::new(cid), h.rule.as_str().to_string(), h.readable))
        .collect();
    v.sort();
    v
}

fn queue_len(store: &amenda::store::Store, m: &SessionInfo) -> i64 {
    moderation::queue(store, m, &QueueFilter::default(), 1)
        .unwrap()
        .1
}

#[test]
fn reports_hide_at_the_threshold_and_moderators_restore_hide_and_hear_appeals() {
    let store = common::test_store();
    let (id, wid, _) = setup(&store);
    let author = account(&store, "author", 1);
    let c = comment(
        &store,
        &author,
        id,
        &wid,
        "Un avis tranché.",
        "tok-comment-000001",
    )
    .unwrap();
    let reporters: Vec<SessionInfo> = (0..5)
        .map(|i| account(&store, &format!("reporter{i}"), if i == 0 { 0 } else { 1 }))
        .collect();
    let m1 = with_role(&store, "mod-one", Role::Moderator);
    let m2 = with_role(&store, "mod-two", Role::Moderator);
    let report = |who: &SessionInfo, reason: Reason, detail: &str| {
        moderation::report(&store, who, Kind::Comment, c.get(), reason, detail, 3)
    };

    // "Other" needs a word; an unknown item is not found.
    assert!(matches!(
        report(&reporters[1], Reason::Other, " "),
        Err(ModerationError::Invalid { .. })
    ));
    assert!(matches!(
        moderation::report(
            &store,
            &reporters[1],
            Kind::Comment,
            c.get() + 999,
            Reason::Spam,
            "",
            3
        ),
        Err(ModerationError::NotFound)
    ));
    // Once per item and person.
    assert!(!report(&reporters[1], Reason::Spam, "").unwrap().hidden_now);
    assert!(matches!(
        report(&reporters[1], Reason::Offensive, ""),
        Err(ModerationError::AlreadyReported)
    ));
    // Level 0 reports are recorded but do not count towards hiding.
    assert!(!report(&reporters[0], Reason::Spam, "").unwrap().hidden_now);
    assert!(!report(&reporters[2], Reason::Spam, "").unwrap().hidden_now);
    assert!(hidden(&store, id).is_empty());
    // The third qualifying report hides it until a moderator decides, still readable.
    assert!(
        report(&reporters[3], Reason::Offensive, "insultant")
            .unwrap()
            .hidden_now
    );
    assert_eq!(hidden(&store, id), vec![(c, "reports".into(), true)]);

    // The queue is for moderators, and holds the item with its four reports.
    assert!(matches!(
        moderation::queue(&store, &author, &QueueFilter::default(), 1),
        Err(ModerationError::ModeratorsOnly)
    ));
    let (items, total) = moderation::queue(&store, &m1, &QueueFilter::default(), 1).unwrap();
    assert_eq!(total, 1);
    assert_eq!(items[0].reports.len(), 4);
    assert_eq!(items[0].content.body, "Un avis tranché.");
    let only_amendments = QueueFilter {
        kind: Some(Kind::Amendment),
        ..QueueFilter::default()
    };
    assert_eq!(
        moderation::queue(&store, &m1, &only_amendments, 1)
            .unwrap()
            .1,
        0
    );

    // A reason is required; a moderator restores it; the queue empties.
    assert!(matches!(
        moderation::decide(&store, &m1, Kind::Comment, c.get(), Verdict::Restore, "  "),
        Err(ModerationError::Invalid { .. })
    ));
    assert!(matches!(
        moderation::decide(
            &store,
            &author,
            Kind::Comment,
            c.get(),
            Verdict::Restore,
            "ok"
        ),
        Err(ModerationError::ModeratorsOnly)
    ));
    moderation::decide(
        &store,
        &m1,
        Kind::Comment,
        c.get(),
        Verdict::Restore,
        "Critique légitime.",
    )
    .unwrap();
    assert!(hidden(&store, id).is_empty());
    assert_eq!(queue_len(&store, &m1), 0);
    // After a moderator's decision, more reports queue it again but do not hide it.
    assert!(!report(&reporters[4], Reason::Spam, "").unwrap().hidden_now);
    assert!(hidden(&store, id).is_empty());
    assert_eq!(queue_len(&store, &m1), 1);

    // Hidden as illegal: not readable even in the moderated view.
    let hide = moderation::decide(
        &store,
        &m1,
        Kind::Comment,
        c.get(),
        Verdict::Hide(Reason::Illegal),
        "Propos diffamatoires.",
    )
    .unwrap();
    assert_eq!(hidden(&store, id), vec![(c, "illegal".into(), false)]);

    // Appeals: by the person concerned only, once, of a moderator's hiding.
    let restore_seq = hide.seq - 1;
    assert!(matches!(
        moderation::appeal(&store, &reporters[1], hide.seq, "Je conteste."),
        Err(ModerationError::NotYours)
    ));
    assert!(matches!(
        moderation::appeal(&store, &author, restore_seq, "Je conteste."),
        Err(ModerationError::NotAppealable)
    ));
    assert!(matches!(
        moderation::appeal(&store, &author, hide.seq, " "),
        Err(ModerationError::Invalid { .. })
    ));
    moderation::appeal(
        &store,
        &author,
        hide.seq,
        "C'est une critique, pas une diffamation.",
    )
    .unwrap();
    assert!(matches!(
        moderation::appeal(&store, &author, hide.seq, "Encore."),
        Err(ModerationError::AlreadyAppealed)
    ));
    // Decided by another moderator: the one who hid it cannot.
    let pending = moderation::pending_appeals(&store, &m1).unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(
        pending[0].conflict.map(|c| c.kind),
        Some(ConflictKind::OwnDecision)
    );
    assert!(moderation::pending_appeals(&store, &m2).unwrap()[0]
        .conflict
        .is_none());
    assert!(matches!(
        moderation::decide_appeal(&store, &m1, hide.seq, false, "Annulé."),
        Err(ModerationError::Conflict(c)) if c.kind == ConflictKind::OwnDecision
    ));
    moderation::decide_appeal(
        &store,
        &m2,
        hide.seq,
        false,
        "Propos critiques mais licites.",
    )
    .unwrap();
    assert!(hidden(&store, id).is_empty(), "overturned: shown again");
    assert!(matches!(
        moderation::decide_appeal(&store, &m2, hide.seq, true, "Encore."),
        Err(ModerationError::AlreadyDecided)
    ));

    // The log holds every decision, chained; the author sees those about them.
    let actions: Vec<String> = moderation::log_page(&store, 1)
        .unwrap()
        .0
        .into_iter()
        .rev()
        .map(|r| r.action)
        .collect();
    assert_eq!(
        actions,
        ["auto_hide", "restore", "hide", "appeal_overturned"]
    );
    assert_eq!(moderation::verify_log(&store).unwrap().unwrap().0, 4);
    assert_eq!(moderation::my_decisions(&store, &author).unwrap().len(), 4);
    assert!(moderation::my_decisions(&store, &reporters[1])
        .unwrap()
        .is_empty());
}

#[test]
fn suspended_accounts_cannot_post_report_or_vote_until_an_appeal_lifts_it() {
    let store = common::test_store();
    let (id, wid, v) = setup(&store);
    let author = account(&store, "author", 1);
    let m1 = with_role(&store, "mod-one", Role::Moderator);
    let m2 = with_role(&store, "mod-two", Role::Moderator);
    let c = comment(
        &store,
        &author,
        id,
        &wid,
        "Achetez ici.",
        "tok-comment-000001",
    )
    .unwrap();
    assert!(matches!(
        moderation::suspend_author(&store, &m1, Kind::Comment, c.get(), 0, "Spam."),
        Err(ModerationError::Invalid { .. })
    ));
    let s =
        moderation::suspend_author(&store, &m1, Kind::Comment, c.get(), 7, "Spam répété.").unwrap();
    assert_eq!(s.target_kind, "account");
    assert_eq!(s.target_ref, "", "the log does not name the account");

    // Cannot comment, file an amendment or report.
    assert!(matches!(
        comment(&store, &author, id, &wid, "Encore.", "tok-comment-000002"),
        Err(ConsultationError::Suspended(_))
    ));
    let (_, _, art) = consultation::article(&store, id, &wid).unwrap();
    let first = art.body.split_whitespace().next().unwrap().to_string();
    let edited = art.body.replacen(&first, "Désormais,", 1);
    let filing = consultation::Filing {
        kind: consultation::FilingKind::Edit,
        consultation_id: id,
        wid: &wid,
        article_sha256: &art.sha256,
        text: &edited,
        justification: "Plus clair.",
        disclosure: Disclosure::Name,
        form_token: "token-amendment-01",
    };
    assert!(matches!(
        consultation::file(&store, &KEY, &author, &filing),
        Err(ConsultationError::Suspended(_))
    ));
    let other = account(&store, "other", 1);
    let oc = comment(
        &store,
        &other,
        id,
        &wid,
        "Un autre avis.",
        "tok-comment-000003",
    )
    .unwrap();
    assert!(matches!(
        moderation::report(
            &store,
            &author,
            Kind::Comment,
            oc.get(),
            Reason::Spam,
            "",
            3
        ),
        Err(ModerationError::Suspended(_))
    ));

    // Cannot vote.
    let staff = with_role(&store, "staff", Role::Staff);
    assert_eq!(
        consultation::advance(&store, &staff, id, &v).unwrap(),
        consultation::Phase::Voting
    );
    let choice = Choice {
        answers: vec![(0, 0)],
        disclosure: amenda::ledger::entry::Disclosure::Pseudonymous,
    };
    let today = amenda::service::voting::today(&store);
    assert!(matches!(
        v.prepare(&author, id, &choice, today),
        Err(VoteError::Suspended(_))
    ));
    assert!(v.prepare(&other, id, &choice, today).is_ok());

    // Appealed, overturned by another moderator: the suspension is lifted.
    moderation::appeal(&store, &author, s.seq, "Erreur de personne.").unwrap();
    moderation::decide_appeal(&store, &m2, s.seq, false, "Suspension levée.").unwrap();
    assert!(v.prepare(&author, id, &choice, today).is_ok());
}

#[test]
fn editing_or_deleting_a_past_log_row_is_detected() {
    use diesel::RunQueryDsl;
    let store = common::test_store();
    let (id, wid, _) = setup(&store);
    let author = account(&store, "author", 1);
    let m = with_role(&store, "mod-one", Role::Moderator);
    for n in 0..3 {
        let c = comment(
            &store,
            &author,
            id,
            &wid,
            "Texte.",
            &format!("tok-comment-00000{n}"),
        )
        .unwrap();
        moderation::decide(
            &store,
            &m,
            Kind::Comment,
            c.get(),
            Verdict::Hide(Reason::Spam),
            "Publicité.",
        )
        .unwrap();
    }
    let (size, head) = moderation::verify_log(&store).unwrap().unwrap();
    assert_eq!(size, 3);
    assert_eq!(head.len(), 64);

    let exec = |sql: &str| {
        let mut conn = store.conn().unwrap();
        match &mut *conn {
            amenda::store::DbConnection::Sqlite(c) => diesel::sql_query(sql).execute(c),
            amenda::store::DbConnection::Pg(c) => diesel::sql_query(sql).execute(c),
        }
        .unwrap();
    };
    // An edited reason.
    exec("UPDATE moderation_log SET reason = 'Rien à signaler.' WHERE seq = 2");
    assert_eq!(
        moderation::verify_log(&store).unwrap(),
        Err(ChainError::Hash { seq: 2 })
    );
    exec("UPDATE moderation_log SET reason = 'Publicité.' WHERE seq = 2");
    assert!(moderation::verify_log(&store).unwrap().is_ok());
    // A deleted entry.
    exec("DELETE FROM moderation_decisions WHERE seq = 2");
    exec("DELETE FROM moderation_log WHERE seq = 2");
    assert_eq!(
        moderation::verify_log(&store).unwrap(),
        Err(ChainError::Gap {
            expected: 2,
            found: 3
        })
    );
}

#[test]
fn rate_limits_trip_per_account_and_address_and_reset() {
    let store = common::test_store();
    let limit = Limit {
        max: 2,
        window_secs: 2,
    };
    // The clock is given: the first window starts at `t0`, the next two seconds later.
    let t0: i64 = 1_800_000_000;
    let at = |now: i64, account: AccountId, addr: &str| {
        moderation::rate_limit_at(&store, "post", limit, account, Some(addr), now).unwrap()
    };
    let hit = |account: AccountId, addr: &str| at(t0, account, addr);
    assert_eq!(hit(AccountId::new(1), "192.0.2.1"), Ok(()));
    assert_eq!(hit(AccountId::new(1), "192.0.2.1"), Ok(()));
    let wait = hit(AccountId::new(1), "192.0.2.1").unwrap_err();
    assert_eq!(wait, 2, "the whole window is left at its start");
    assert_eq!(
        at(t0 + 1, AccountId::new(1), "192.0.2.1"),
        Err(1),
        "one second later, one left"
    );
    assert_eq!(hit(AccountId::new(2), "192.0.2.2"), Ok(()), "per account");
    // Many accounts from one address: the address limit (ten times) trips.
    let mut refused = 0;
    for account in 100..125 {
        if hit(AccountId::new(account), "198.51.100.7").is_err() {
            refused += 1;
        }
    }
    assert_eq!(refused, 25 - 20);
    // The next window starts afresh.
    assert_eq!(at(t0 + 2, AccountId::new(1), "192.0.2.1"), Ok(()));
    assert_eq!(at(t0 + 2, AccountId::new(100), "198.51.100.7"), Ok(()));
}

mod pages {
    use super::*;
    use amenda::web::{PseudonymKey, WebConfig};
    use common::web::{demo_client, get, post, sign_in};
    use rocket::http::Status;

    #[test]
    fn report_queue_decision_appeal_and_public_log_through_the_pages() {
        let store = common::test_store();
        let (id, wid, _) = setup(&store);
        let config = || WebConfig {
            pseudonym_key: Some(PseudonymKey(KEY.to_vec())),
            moderation: amenda::config::ModerationConfig {
                report_threshold: 1,
                post_limit: "2/3600".into(),
                ..Default::default()
            },
            ..WebConfig::default()
        };
        let cam = demo_client(&store, config());
        sign_in(&cam, "camille", 1);
        let page_url = format!("/consultations/{id}/articles/{wid}");
        for (n, body) in ["Premier+avis.", "Second+avis."].iter().enumerate() {
            let (status, _, _) = post(
                &cam,
                &format!("/consultations/{id}/comments"),
                &format!(
                    "token=tok-page-comment-{n:04}&unit={wid}&quote=&disclosure=name&body={body}"
                ),
            );
            assert_eq!(status, Status::SeeOther);
        }
        // The post limit (2 per hour here) trips with a clear message and Retry-After.
        let res = cam
            .post(format!("/consultations/{id}/comments"))
            .header(rocket::http::ContentType::Form)
            .body(format!(
                "csrf={}&token=tok-page-comment-0003&unit={wid}&quote=&disclosure=name&body=Trois",
                common::web::csrf(&cam)
            ))
            .dispatch();
        assert_eq!(res.status(), Status::TooManyRequests);
        assert!(res.headers().get_one("Retry-After").is_some());
        assert!(res.into_string().unwrap().contains("Please wait"));

        let first = amenda::store::comments::for_article(&mut store.conn().unwrap(), id, &wid)
            .unwrap()[0]
            .id;
        // Yanis reports it (threshold 1 here): hidden, with the notice in its place.
        let yanis = demo_client(&store, config());
        sign_in(&yanis, "yanis", 1);
        let (_, page) = get(&yanis, &page_url);
        assert!(page.contains("action=\"/reports\""), "a report form");
        let (status, page, _) = post(
            &yanis,
            "/reports",
            &format!("kind=comment&id={first}&reason=spam&detail=publicit%C3%A9"),
        );
        assert_eq!(status, Status::Ok, "{page}");
        assert!(page.contains("now hidden"), "{page}");
        let (status, _, _) = post(
            &yanis,
            "/reports",
            &format!("kind=comment&id={first}&reason=spam&detail="),
        );
        assert_eq!(status, Status::Conflict, "once per item");
        // Reads on a server of its own, which would show another server's writes up to a
        // second late (tests/it/comments.rs, `an_anonymous_page_is_shared_for_a_moment`):
        // this one renders each request.
        let anon = demo_client(
            &store,
            WebConfig {
                live_pages: Some(std::time::Duration::ZERO),
                ..config()
            },
        );
        let (_, page) = get(&anon, &page_url);
        assert!(page.contains("until a moderator decides") && !page.contains("Premier avis."));
        // Signed-in people may open the moderated view.
        let (_, page) = get(&yanis, &page_url);
        assert!(page.contains("Show the moderated content") && page.contains("Premier avis."));
        // The JSON read endpoint leaves the text out.
        let (_, json) = get(
            &anon,
            &format!("/api/v1/consultations/{id}/comments?article={wid}"),
        );
        assert!(!json.contains("Premier avis.") && json.contains("\"rule\":\"reports\""));

        // The queue: moderators only.
        let (status, _) = get(&yanis, "/moderation/queue");
        assert_eq!(status, Status::Forbidden);
        let dom = demo_client(&store, config());
        sign_in(&dom, "dominique", 1);
        let (status, page) = get(&dom, "/moderation/queue");
        assert_eq!(status, Status::Ok);
        assert!(page.contains("Premier avis.") && page.contains("Spam or advertising"));
        let (status, _, loc) = post(
            &dom,
            &format!("/moderation/items/comment/{first}/decide"),
            "verdict=hide&rule=spam&reason=Publicit%C3%A9+commerciale",
        );
        assert_eq!(status, Status::SeeOther);
        let (_, page) = get(&dom, &loc.unwrap());
        assert!(page.contains("id=\"decision-done\"") && page.contains("id=\"queue-empty\""));
        let (_, page) = get(&anon, &page_url);
        assert!(page.contains("Publicité commerciale"));

        // The author appeals from their page; the same moderator cannot decide it.
        let (_, page) = get(&cam, "/account/moderation");
        assert!(page.contains("Publicité commerciale"));
        let (status, _, _) = post(
            &cam,
            "/account/moderation/2/appeal",
            "body=Ce+n%27est+pas+du+spam.",
        );
        assert_eq!(status, Status::SeeOther);
        let (_, page) = get(&dom, "/moderation/appeals");
        assert!(
            page.contains("pas du spam")
                && page.contains(
                    "This appeal is against your own decision: another moderator will decide it."
                )
        );
        let (status, _, _) = post(
            &dom,
            "/moderation/appeals/2",
            "outcome=overturn&answer=Non.",
        );
        assert_eq!(status, Status::Forbidden);

        // The public log: every decision, verified, in CSV too.
        let (status, page) = get(&anon, "/moderation/log");
        assert_eq!(status, Status::Ok);
        assert!(page.contains("id=\"log-verified\"") && page.contains("mod-1"));
        let (_, csv) = get(&anon, "/moderation/log.csv");
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines[0], "seq,at,action,target_kind,target_ref,consultation,rule,reason,moderator,prev_hash,hash");
        assert_eq!(lines.len(), 3, "{csv}");
        assert!(lines[2].contains(",hide,comment,") && !csv.contains("Camille"));
    }
}

/// `amenda export` writes the public log as CSV, and the chain verifies offline from the
/// file alone; a changed reason in the file is caught.
#[test]
fn the_exported_log_verifies_offline() {
    use amenda::domain::moderation::{ChainCheck, LogRecord};
    let store = common::test_store();
    let (id, wid, _) = setup(&store);
    let author = account(&store, "author", 1);
    let m = with_role(&store, "mod-one", Role::Moderator);
    for n in 0..2 {
        let c = comment(
            &store,
            &author,
            id,
            &wid,
            "Texte.",
            &format!("tok-comment-00000{n}"),
        )
        .unwrap();
        moderation::decide(
            &store,
            &m,
            Kind::Comment,
            c.get(),
            Verdict::Hide(Reason::OffTopic),
            "Hors sujet, \"vraiment\".",
        )
        .unwrap();
    }
    let out = tempfile::tempdir().unwrap();
    let run = std::process::Command::new(env!("CARGO_BIN_EXE_amenda"))
        .arg("--data")
        .arg(store.data_dir())
        .arg("--database-url")
        .arg(store.database_url())
        .arg("export")
        .arg(out.path())
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let csv = std::fs::read_to_string(out.path().join("datasets/moderation_log.csv")).unwrap();
    let verify = |text: &str| {
        let mut r = csv::Reader::from_reader(text.as_bytes());
        let mut check = ChainCheck::default();
        for row in r.records() {
            let row = row.unwrap();
            let rec = LogRecord {
                seq: row[0].parse().unwrap(),
                at: row[1].into(),
                action: row[2].into(),
                target_kind: row[3].into(),
                target_ref: row[4].into(),
                consultation: row[5].parse().ok(),
                rule: row[6].into(),
                reason: row[7].into(),
                moderator: row[8].into(),
            };
            check.push(&rec, &row[9], &row[10])?;
        }
        Ok::<_, ChainError>(check.size())
    };
    assert_eq!(verify(&csv), Ok(2));
    assert!(!csv.contains("author"), "no account in the public log");
    let tampered = csv.replacen("Hors sujet", "Hors-sujet", 1);
    assert_eq!(verify(&tampered), Err(ChainError::Hash { seq: 1 }));
}

#[test]
fn a_suspension_ends_by_itself_when_its_days_are_over() {
    let store = common::test_store();
    let (id, wid, _) = setup(&store);
    let author = account(&store, "author", 1);
    let m = with_role(&store, "mod-one", Role::Moderator);
    let c = comment(
        &store,
        &author,
        id,
        &wid,
        "Achetez ici.",
        "tok-comment-000001",
    )
    .unwrap();
    moderation::suspend_author(&store, &m, Kind::Comment, c.get(), 2, "Spam répété.").unwrap();
    let until = moderation::my_suspension(&store, &author).unwrap().unwrap();
    let expected = common::test_now().plus(time::Duration::days(2));
    assert_eq!(until, expected.rfc3339(), "two days from the clock's now");

    // A day and 23 hours later: still suspended.
    store.clock().advance(time::Duration::hours(47));
    assert!(matches!(
        comment(&store, &author, id, &wid, "Encore.", "tok-comment-000002"),
        Err(ConsultationError::Suspended(u)) if u == until
    ));
    // Past the end: posting again, and nothing to show on the account page.
    store.clock().advance(time::Duration::hours(2));
    assert_eq!(moderation::my_suspension(&store, &author).unwrap(), None);
    assert!(comment(
        &store,
        &author,
        id,
        &wid,
        "De retour.",
        "tok-comment-000003"
    )
    .is_ok());
}

/// Nobody decides about themselves (issue 18), as reproduced by the review: a moderator
/// can neither restore their own hidden comment nor hide it, nor suspend themselves, nor
/// decide the appeal against their own suspension (and so post again); the queue and the
/// appeals page say so and who else may decide; each refusal is in the audit log.
#[test]
fn moderators_never_decide_about_themselves() {
    let store = common::test_store();
    let (id, wid, _) = setup(&store);
    let m1 = with_role(&store, "mod-one", Role::Moderator);
    let m2 = with_role(&store, "mod-two", Role::Moderator);
    let m3 = with_role(&store, "mod-three", Role::Moderator);
    let own = comment(&store, &m1, id, &wid, "Mon avis.", "tok-conflict-000001").unwrap();
    let conflict = |r: Result<_, ModerationError>| match r {
        Err(ModerationError::Conflict(c)) => c.kind,
        Err(e) => panic!("not a conflict: {e}"),
        Ok(_) => panic!("decided about oneself"),
    };
    let content = |store: &common::TestStore| {
        moderation::content(&mut store.conn().unwrap(), Kind::Comment, own.get())
            .unwrap()
            .unwrap()
    };
    assert_eq!(
        moderation::conflict_on(&m1, &content(&store)).map(|c| c.kind),
        Some(ConflictKind::OwnContent)
    );
    assert_eq!(moderation::conflict_on(&m2, &content(&store)), None);
    let hide = Verdict::Hide(Reason::OffTopic);
    let decide_own =
        |verdict| moderation::decide(&store, &m1, Kind::Comment, own.get(), verdict, "Non.");
    assert_eq!(conflict(decide_own(hide)), ConflictKind::OwnContent);
    assert!(hidden(&store, id).is_empty(), "the refusal hid nothing");
    moderation::decide(&store, &m2, Kind::Comment, own.get(), hide, "Hors sujet.").unwrap();
    // Hide → self-restore.
    assert_eq!(
        conflict(decide_own(Verdict::Restore)),
        ConflictKind::OwnContent
    );
    assert_eq!(hidden(&store, id).len(), 1, "still hidden");
    assert_eq!(
        conflict(moderation::suspend_author(
            &store,
            &m1,
            Kind::Comment,
            own.get(),
            7,
            "Moi."
        )),
        ConflictKind::OwnContent
    );

    // Suspend → self-appeal → self-overturn → post again: refused at the overturn.
    let s =
        moderation::suspend_author(&store, &m2, Kind::Comment, own.get(), 7, "Répété.").unwrap();
    moderation::appeal(&store, &m1, s.seq, "Je conteste.").unwrap();
    let mine = moderation::pending_appeals(&store, &m1).unwrap();
    let mine = mine
        .iter()
        .find(|a| a.appeal.decision_seq == s.seq)
        .unwrap();
    assert_eq!(
        mine.conflict.map(|c| c.kind),
        Some(ConflictKind::AboutThemselves)
    );
    assert_eq!(
        conflict(moderation::decide_appeal(
            &store, &m1, s.seq, false, "Levée."
        )),
        ConflictKind::AboutThemselves
    );
    assert_eq!(
        conflict(moderation::decide_appeal(
            &store, &m2, s.seq, false, "Levée."
        )),
        ConflictKind::OwnDecision
    );
    assert!(matches!(
        comment(&store, &m1, id, &wid, "Encore.", "tok-conflict-000002"),
        Err(ConsultationError::Suspended(_))
    ));
    // A third moderator may.
    moderation::decide_appeal(&store, &m3, s.seq, false, "Suspension levée.").unwrap();
    comment(&store, &m1, id, &wid, "Encore.", "tok-conflict-000003").unwrap();

    let audit = amenda::store::audit::latest(&mut store.conn().unwrap(), 100).unwrap();
    let refusals: Vec<(Option<AccountId>, serde_json::Value)> = audit
        .iter()
        .filter(|e| e.action == "refused_conflict")
        .map(|e| (e.actor_id, serde_json::from_str(&e.details).unwrap()))
        .collect();
    let summary: Vec<(Option<AccountId>, &str, &str)> = refusals
        .iter()
        .map(|(who, d)| {
            (
                *who,
                d["decision"].as_str().unwrap(),
                d["conflict"].as_str().unwrap(),
            )
        })
        .collect();
    let (one, two) = (Some(m1.account.id), Some(m2.account.id));
    assert_eq!(
        summary,
        [
            (two, "decide_appeal", "own_decision"),
            (one, "decide_appeal", "about_themselves"),
            (one, "suspend", "own_content"),
            (one, "moderate", "own_content"),
            (one, "moderate", "own_content"),
        ],
        "newest first"
    );
    assert_eq!(refusals[4].1["target"]["id"], own.get());
}
