//! Staff dispositions, consolidation with provenance and rebase onto a new version,
//! through the service layer and the pages, on the backend chosen by
//! AMENDA_TEST_DATABASE_URL.

use crate::common;
use amenda::domain::ids::{AmendmentId, ConsultationId};

use amenda::domain::amendment::Operation;
use amenda::service::consolidation;
use amenda::service::consultation::{
    self, ConsultationError, Disclosure, Filing, FilingKind, NewConsultation,
};
use amenda::service::disposition::{rule, Ruling};
use amenda::service::identity::SessionInfo;
use amenda::store;
use amenda::text::UnitKind;
use common::fixtures::{self, person};

const KEY: [u8; 32] = [5; 32];

/// The bill of `laws/`, a consultation on version `version` open for amendments.
fn setup(store: &common::TestStore, version: i32) -> ConsultationId {
    fixtures::import_laws(store);
    let form = NewConsultation {
        title: "Budget participatif",
        levels: [1, 1, 2],
        ..fixtures::consultation_form(version)
    };
    fixtures::consultation(
        store,
        &person(store, "claire", 1),
        &form,
        amenda::domain::consultation::Phase::Amendments,
    )
}

/// An article of the consultation's version by number: (wid, body, sha256).
fn article(store: &common::TestStore, id: ConsultationId, num: &str) -> (String, String, String) {
    let a = fixtures::article(store, id, num);
    (a.wid, a.body, a.sha256)
}

fn file(
    store: &common::TestStore,
    who: &SessionInfo,
    id: ConsultationId,
    num: &str,
    kind: FilingKind,
    text: &str,
) -> AmendmentId {
    let (wid, _, sha) = article(store, id, num);
    let token = format!("token-{:016x}", rand_u64());
    consultation::file(
        store,
        &KEY,
        who,
        &Filing {
            kind,
            consultation_id: id,
            wid: &wid,
            article_sha256: &sha,
            text,
            justification: "Parce que.",
            disclosure: Disclosure::Name,
            form_token: &token,
        },
    )
    .unwrap()
    .0
    .id
}

fn rand_u64() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(1);
    N.fetch_add(1, Ordering::Relaxed)
        ^ std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64
}

fn status(store: &common::TestStore, id: AmendmentId) -> String {
    store::amendments::by_id(&mut store.conn().unwrap(), id)
        .unwrap()
        .unwrap()
        .status
        .to_string()
}

#[test]
fn staff_rule_and_an_adoption_makes_conflicting_amendments_fall() {
    let store = common::test_store();
    let id = setup(&store, 3);
    let staff = person(&store, "claire", 1);
    let cam = person(&store, "camille", 1);
    let (_, body, _) = article(&store, id, "3");
    let a = file(
        &store,
        &cam,
        id,
        "3",
        FilingKind::Edit,
        &body.replace("seize ans", "quinze ans"),
    );
    let b = file(
        &store,
        &cam,
        id,
        "3",
        FilingKind::Edit,
        &body.replace("seize ans", "dix-huit ans"),
    );
    let c = file(
        &store,
        &cam,
        id,
        "3",
        FilingKind::Edit,
        &body.replace(
            "sans condition de nationalité",
            "quelle que soit sa nationalité",
        ),
    );
    let d = file(&store, &cam, id, "3", FilingKind::RepealArticle, "");

    // Only staff rule; an inadmissibility needs a reason; adoption needs admissibility
    // and the voting phase.
    assert!(matches!(
        rule(&store, &cam, a, Ruling::Admissible),
        Err(ConsultationError::Forbidden)
    ));
    assert!(matches!(
        rule(&store, &staff, d, Ruling::Inadmissible("  ")),
        Err(ConsultationError::Invalid {
            field: "reason",
            ..
        })
    ));
    assert_eq!(status(&store, d), "filed", "nothing half-written");
    assert!(matches!(
        rule(&store, &staff, a, Ruling::Adopted),
        Err(ConsultationError::NotOpen(_))
    ));
    rule(
        &store,
        &staff,
        d,
        Ruling::Inadmissible("Supprimer l'article vide la loi de son objet."),
    )
    .unwrap();
    for x in [a, b, c] {
        rule(&store, &staff, x, Ruling::Admissible).unwrap();
    }
    consultation::advance(&store, &staff, id, &common::voting(&store)).unwrap(); // voting
    assert!(matches!(
        rule(&store, &staff, d, Ruling::Adopted),
        Err(ConsultationError::State("err_cannot_rule"))
    ));
    let fallen = rule(&store, &staff, a, Ruling::Adopted).unwrap();
    assert_eq!(fallen, vec![b], "b overlaps a; c is compatible");
    assert_eq!(status(&store, a), "adopted");
    assert_eq!(status(&store, b), "fallen");
    assert_eq!(status(&store, c), "admissible");
    let mut conn = store.conn().unwrap();
    let fb = store::dispositions::for_amendment(&mut conn, b)
        .unwrap()
        .unwrap();
    assert_eq!(fb.fallen_by, Some(a));
    let fd = store::dispositions::for_amendment(&mut conn, d)
        .unwrap()
        .unwrap();
    assert_eq!(fd.reason, "Supprimer l'article vide la loi de son objet.");
    // A fallen amendment cannot be adopted any more.
    drop(conn);
    assert!(rule(&store, &staff, b, Ruling::Adopted).is_err());
    rule(&store, &staff, c, Ruling::Rejected).unwrap();
    assert_eq!(status(&store, c), "rejected");
    let audit = store::audit::latest(&mut store.conn().unwrap(), 50).unwrap();
    assert!(
        audit
            .iter()
            .filter(|e| e.action == "rule_amendment")
            .count()
            >= 6
    );
}

/// Adopted amendments become a new version; each changed span is traced.
#[test]
fn consolidation_publishes_a_version_with_provenance() {
    let store = common::test_store();
    let id = setup(&store, 3);
    let staff = person(&store, "claire", 1);
    let cam = person(&store, "camille", 1);
    let (_, body3, _) = article(&store, id, "3");
    let (w5, _, _) = article(&store, id, "5");
    let edit = file(
        &store,
        &cam,
        id,
        "3",
        FilingKind::Edit,
        &body3.replace("seize ans", "quinze ans"),
    );
    let insert = file(
        &store,
        &cam,
        id,
        "3",
        FilingKind::InsertAfter,
        "### Article 3 bis\n\nLe budget participatif est ouvert aux associations.",
    );
    let repeal = file(&store, &cam, id, "5", FilingKind::RepealArticle, "");
    let rejected = file(
        &store,
        &cam,
        id,
        "3",
        FilingKind::Edit,
        &body3.replace("Les membres du conseil", "Les élus du conseil"),
    );
    // An inserted text must be an article.
    let (w3, _, sha3) = article(&store, id, "3");
    let e = consultation::file(
        &store,
        &KEY,
        &cam,
        &Filing {
            kind: FilingKind::InsertAfter,
            consultation_id: id,
            wid: &w3,
            article_sha256: &sha3,
            text: "Pas un article.",
            justification: "",
            disclosure: Disclosure::Name,
            form_token: "token-not-an-article",
        },
    )
    .unwrap_err();
    assert!(
        matches!(e, ConsultationError::Invalid { field: "text", .. }),
        "{e}"
    );
    for a in [edit, insert, repeal, rejected] {
        rule(&store, &staff, a, Ruling::Admissible).unwrap();
    }
    assert!(matches!(
        consolidation::consolidate(&store, &staff, id),
        Err(ConsultationError::NotOpen(_))
    ));
    consultation::advance(&store, &staff, id, &common::voting(&store)).unwrap(); // voting
    assert!(matches!(
        consolidation::consolidate(&store, &staff, id),
        Err(ConsultationError::State("err_nothing_adopted"))
    ));
    for a in [edit, insert, repeal] {
        assert!(rule(&store, &staff, a, Ruling::Adopted).unwrap().is_empty());
    }
    rule(&store, &staff, rejected, Ruling::Rejected).unwrap();
    assert!(matches!(
        consolidation::consolidate(&store, &cam, id),
        Err(ConsultationError::Forbidden)
    ));
    let number = consolidation::consolidate(&store, &staff, id).unwrap();
    assert_eq!(number, 4);
    assert!(matches!(
        consolidation::consolidate(&store, &staff, id),
        Err(ConsultationError::State("err_already_consolidated"))
    ));

    let mut conn = store.conn().unwrap();
    let bill = store::bills::by_slug(&mut conn, "budget-participatif")
        .unwrap()
        .unwrap();
    let v = store::versions::by_number(&mut conn, bill.id, 4)
        .unwrap()
        .unwrap();
    let units = store::units::for_version(&mut conn, v.meta.id).unwrap();
    let nums: Vec<&str> = units
        .iter()
        .filter(|u| u.kind == UnitKind::Article)
        .filter_map(|u| u.num.as_deref())
        .collect();
    let i = nums.iter().position(|n| *n == "3").unwrap();
    assert_eq!(nums[i + 1], "3 bis");
    assert!(!nums.contains(&"5"));
    assert!(!units.iter().any(|u| u.wid == w5), "article 5 is gone");
    let a3 = units
        .iter()
        .find(|u| u.num.as_deref() == Some("3"))
        .unwrap();
    assert_eq!(a3.wid, w3, "the article keeps its id");
    assert!(v.markdown.contains("au moins quinze ans"));
    assert!(!v.markdown.contains("Les élus du conseil"));
    let spans = store::consolidations::spans(&mut conn, v.meta.id).unwrap();
    let written: Vec<(&str, AmendmentId)> = spans
        .iter()
        .map(|s| {
            (
                &v.markdown[s.start_byte as usize..s.end_byte as usize],
                s.amendment_id,
            )
        })
        .collect();
    assert_eq!(
        written,
        vec![
            ("quinze", edit),
            (
                "### Article 3 bis\n\nLe budget participatif est ouvert aux associations.",
                insert
            ),
            ("", repeal),
        ]
    );
    assert_eq!(spans[0].unit_wid, w3);
    assert_eq!(spans[2].unit_wid, w5);
    assert!(spans.iter().all(|s| s.revision == 1));
}

/// Moving a consultation to a newer version carries its pending amendments over, or
/// marks them to redraft; an amendment that was voted on is never changed.
#[test]
fn a_new_version_carries_pending_amendments_over() {
    let store = common::test_store();
    let id = setup(&store, 2);
    let staff = person(&store, "claire", 1);
    let cam = person(&store, "camille", 1);
    let (_, body3, _) = article(&store, id, "3");
    let (_, body2, _) = article(&store, id, "2");
    let kept = file(
        &store,
        &cam,
        id,
        "3",
        FilingKind::Edit,
        &body3.replace("seize ans", "quinze ans"),
    );
    let gone = file(
        &store,
        &cam,
        id,
        "2",
        FilingKind::Edit,
        &body2.replace("compte administratif", "compte de gestion"),
    );
    let withdrawn = file(
        &store,
        &cam,
        id,
        "3",
        FilingKind::Edit,
        &body3.replace("la commune", "le quartier"),
    );
    consultation::withdraw(&store, &cam, withdrawn).unwrap();
    assert!(matches!(
        consolidation::rebase(&store, &staff, id, 1),
        Err(ConsultationError::Invalid {
            field: "version",
            ..
        })
    ));
    assert!(matches!(
        consolidation::rebase(&store, &cam, id, 3),
        Err(ConsultationError::Forbidden)
    ));
    let s = consolidation::rebase(&store, &staff, id, 3).unwrap();
    assert_eq!(s.carried, vec![kept]);
    assert_eq!(s.redraft, vec![gone]);
    assert!(s.proposed.is_empty());
    let mut conn = store.conn().unwrap();
    let a = store::amendments::by_id(&mut conn, kept).unwrap().unwrap();
    let c = store::consultations::by_id(&mut conn, id).unwrap().unwrap();
    assert_eq!((a.revision, a.version_id), (2, c.version_id));
    let ops: Vec<Operation> = serde_json::from_str(
        &store::amendments::revision(&mut conn, kept, 2)
            .unwrap()
            .unwrap()
            .operations,
    )
    .unwrap();
    drop(conn);
    let (_, new3, _) = article(&store, id, "3");
    assert_eq!(
        amenda::domain::amendment::apply(&new3, &ops).unwrap(),
        new3.replace("seize ans", "quinze ans")
    );
    let mut conn = store.conn().unwrap();
    let r = store::rebases::latest(&mut conn, gone).unwrap().unwrap();
    assert_eq!(r.outcome.as_str(), "redraft");
    let w = store::amendments::by_id(&mut conn, withdrawn)
        .unwrap()
        .unwrap();
    assert_eq!(w.revision, 1, "a withdrawn amendment is left alone");
    assert!(store::rebases::latest(&mut conn, withdrawn)
        .unwrap()
        .is_none());
    drop(conn);
    // Nothing proposed, so nothing to accept.
    assert!(!consolidation::accept_rebase(&store, &cam, gone).unwrap());
    // An amendment left on the old version cannot be adopted.
    rule(&store, &staff, gone, Ruling::Admissible).unwrap();
    rule(&store, &staff, kept, Ruling::Admissible).unwrap();
    // Voting: the text of amendments no longer moves.
    let voting = common::voting(&store);
    consultation::advance(&store, &staff, id, &voting).unwrap();
    // Only the amendment carried to the current version is put to the vote.
    let mut conn = store.conn().unwrap();
    let number = |id: AmendmentId| {
        let a = store::amendments::by_id(&mut store.conn().unwrap(), id)
            .unwrap()
            .unwrap();
        format!("AM-budget-participatif-{}", a.number)
    };
    let voted: Vec<String> = voting
        .log(&mut conn, id)
        .unwrap()
        .manifest
        .amendments
        .iter()
        .map(|a| a.id.clone())
        .collect();
    drop(conn);
    assert_eq!(voted, vec![number(kept)]);
    assert!(matches!(
        rule(&store, &staff, gone, Ruling::Adopted),
        Err(ConsultationError::State("err_not_rebased"))
    ));
    rule(&store, &staff, kept, Ruling::Adopted).unwrap();
    assert!(matches!(
        consolidation::rebase(&store, &staff, id, 3),
        Err(ConsultationError::NotOpen(_))
    ));
}

mod pages {
    use super::*;
    use amenda::web::{PseudonymKey, WebConfig};
    use common::web::{demo_client, post, sign_in};
    use rocket::http::{ContentType, Status};
    use rocket::local::blocking::Client;

    fn client(store: &common::TestStore) -> Client {
        demo_client(
            store,
            WebConfig {
                pseudonym_key: Some(PseudonymKey(KEY.to_vec())),
                ..WebConfig::default()
            },
        )
    }

    fn get(c: &Client, uri: &str) -> String {
        common::web::get(c, uri).1
    }

    /// Staff rule with the form on the amendment page (reason shown publicly), adopt,
    /// publish the consolidated text, and anyone reads who wrote it.
    #[test]
    fn rule_consolidate_and_read_who_wrote_this() {
        let store = common::test_store();
        let id = setup(&store, 3);
        let cam = person(&store, "camille", 1);
        let (_, body3, _) = article(&store, id, "3");
        file(
            &store,
            &cam,
            id,
            "3",
            FilingKind::Edit,
            &body3.replace("seize ans", "quinze ans"),
        );
        file(&store, &cam, id, "3", FilingKind::RepealArticle, "");
        let staff = client(&store);
        sign_in(&staff, "claire", 1);
        let anon = client(&store);
        let page = get(&staff, "/bills/budget-participatif/amendments/1");
        assert!(page.contains("id=\"rule\""), "staff see the ruling form");
        assert!(!get(&anon, "/bills/budget-participatif/amendments/1").contains("id=\"rule\""));
        // A forged token: 403, nothing ruled.
        let res = staff
            .post("/bills/budget-participatif/amendments/2/rule")
            .header(ContentType::Form)
            .body("csrf=forged&ruling=inadmissible&reason=x")
            .dispatch();
        assert_eq!(res.status(), Status::Forbidden);
        // No reason: refused.
        let (status, _, _) = post(
            &staff,
            "/bills/budget-participatif/amendments/2/rule",
            "ruling=inadmissible&reason=",
        );
        assert_eq!(status, Status::BadRequest);
        let (status, _, _) = post(
            &staff,
            "/bills/budget-participatif/amendments/2/rule",
            "ruling=inadmissible&reason=Hors+du+champ+du+texte",
        );
        assert_eq!(status, Status::SeeOther);
        let page = get(&anon, "/bills/budget-participatif/amendments/2");
        assert!(
            page.contains("id=\"status\">inadmissible<") && page.contains("Hors du champ du texte"),
            "{page}"
        );
        let (status, _, _) = post(
            &staff,
            "/bills/budget-participatif/amendments/1/rule",
            "ruling=admissible",
        );
        assert_eq!(status, Status::SeeOther);
        // Adoption waits for the vote.
        let (status, _, _) = post(
            &staff,
            "/bills/budget-participatif/amendments/1/rule",
            "ruling=adopted",
        );
        assert_eq!(status, Status::Conflict);
        let (status, _, _) = post(&staff, &format!("/consultations/{id}/phase"), "");
        assert_eq!(status, Status::SeeOther);
        let (status, _, _) = post(
            &staff,
            "/bills/budget-participatif/amendments/1/rule",
            "ruling=adopted",
        );
        assert_eq!(status, Status::SeeOther);
        let page = get(&staff, &format!("/consultations/{id}"));
        assert!(page.contains("id=\"consolidate\""));
        let (status, _, loc) = post(&staff, &format!("/consultations/{id}/consolidate"), "");
        assert_eq!(status, Status::SeeOther);
        let loc = loc.unwrap();
        assert_eq!(loc, "/bills/budget-participatif/versions/4/provenance");
        let page = get(&anon, &loc);
        assert!(
            page.contains("<mark>quinze</mark><a class=\"prov-link\" href=\"/bills/budget-participatif/amendments/1\">[written by AM-budget-participatif-1, revision 1]</a>"),
            "{page}"
        );
        assert!(page.contains("id=\"contributors\""));
        let page = get(&anon, &format!("/consultations/{id}"));
        assert!(page.contains("id=\"consolidated\"") && !page.contains("id=\"consolidate\""));
        // Again: refused, with a clear message.
        let (status, page, _) = post(&staff, &format!("/consultations/{id}/consolidate"), "");
        assert_eq!(status, Status::Conflict);
        assert!(page.contains("already been published"), "{page}");
        // A version that is not a consolidation has no such page.
        let res = anon
            .get("/bills/budget-participatif/versions/3/provenance")
            .dispatch();
        assert_eq!(res.status(), Status::NotFound);
    }

    /// Staff move a consultation to a newer version; the amendment page says what
    /// became of each amendment.
    #[test]
    fn rebase_from_the_consultation_page() {
        let store = common::test_store();
        let id = setup(&store, 2);
        let cam = person(&store, "camille", 1);
        let (_, body3, _) = article(&store, id, "3");
        let (_, body2, _) = article(&store, id, "2");
        file(
            &store,
            &cam,
            id,
            "3",
            FilingKind::Edit,
            &body3.replace("seize ans", "quinze ans"),
        );
        file(
            &store,
            &cam,
            id,
            "2",
            FilingKind::Edit,
            &body2.replace("compte administratif", "compte de gestion"),
        );
        let staff = client(&store);
        sign_in(&staff, "claire", 1);
        let page = get(&staff, &format!("/consultations/{id}"));
        assert!(page.contains("id=\"rebase\""), "{page}");
        let (status, _, _) = post(&staff, &format!("/consultations/{id}/rebase"), "version=2");
        assert_eq!(status, Status::BadRequest);
        let (status, _, _) = post(&staff, &format!("/consultations/{id}/rebase"), "version=3");
        assert_eq!(status, Status::SeeOther);
        let anon = client(&store);
        let page = get(&anon, "/bills/budget-participatif/amendments/1");
        assert!(
            page.contains("Carried over automatically to version 3."),
            "{page}"
        );
        assert!(page.contains("quinze"));
        let page = get(&anon, "/bills/budget-participatif/amendments/2");
        assert!(page.contains("To redraft"), "{page}");
        let author = client(&store);
        sign_in(&author, "camille", 1);
        let (status, _, _) = post(
            &author,
            "/bills/budget-participatif/amendments/2/accept-rebase",
            "",
        );
        assert_eq!(status, Status::Conflict, "nothing proposed to accept");
        let page = get(&author, "/bills/budget-participatif/amendments/1");
        assert!(
            !page.contains("(rectified)"),
            "a rebase is no rectification"
        );
    }

    /// A three-way merge is proposed to the author on the amendment page; they accept.
    #[test]
    fn the_author_accepts_a_proposed_rebase() {
        let store = common::test_store();
        let id = setup(&store, 2);
        let cam = person(&store, "camille", 1);
        // Article 12: "par" is found many times, and version 3 changes the end of the
        // sentence right after it.
        let (_, body12, _) = article(&store, id, "12");
        let edited = body12.replace(
            "rendus par les conseils de quartier",
            "rendus selon les conseils de quartier",
        );
        assert_ne!(edited, body12);
        file(&store, &cam, id, "12", FilingKind::Edit, &edited);
        let staff = person(&store, "claire", 1);
        let s = consolidation::rebase(&store, &staff, id, 3).unwrap();
        assert_eq!(s.proposed.len(), 1, "{s:?}");
        let anon = client(&store);
        let page = get(&anon, "/bills/budget-participatif/amendments/1");
        assert!(page.contains("a new wording is proposed"), "{page}");
        assert!(
            !page.contains("id=\"accept-rebase\""),
            "only its author accepts"
        );
        let author = client(&store);
        sign_in(&author, "camille", 1);
        let page = get(&author, "/bills/budget-participatif/amendments/1");
        assert!(page.contains("id=\"accept-rebase\""), "{page}");
        let (status, _, loc) = post(
            &author,
            "/bills/budget-participatif/amendments/1/accept-rebase",
            "",
        );
        assert_eq!(status, Status::SeeOther);
        let page = get(&author, &loc.unwrap());
        assert!(
            page.contains("New wording accepted by the author (version 3)."),
            "{page}"
        );
        assert!(!page.contains("(rectified)"));
        let (_, new12, _) = article(&store, id, "12");
        assert!(new12.contains("5° Les observations"));
        let mut conn = store.conn().unwrap();
        let bill = store::bills::by_slug(&mut conn, "budget-participatif")
            .unwrap()
            .unwrap();
        let a = store::amendments::by_number(&mut conn, bill.id, 1)
            .unwrap()
            .unwrap();
        let ops: Vec<Operation> = serde_json::from_str(
            &store::amendments::revision(&mut conn, a.id, 2)
                .unwrap()
                .unwrap()
                .operations,
        )
        .unwrap();
        assert_eq!(
            amenda::domain::amendment::apply(&new12, &ops).unwrap(),
            new12.replace("rendus par les conseils", "rendus selon les conseils")
        );
    }
}

/// A consultation on an older version cannot be consolidated (move it first); the
/// refusal writes nothing.
#[test]
fn consolidating_an_older_version_is_refused() {
    let store = common::test_store();
    let id = setup(&store, 2);
    let staff = person(&store, "claire", 1);
    let cam = person(&store, "camille", 1);
    let (_, body3, _) = article(&store, id, "3");
    let a = file(
        &store,
        &cam,
        id,
        "3",
        FilingKind::Edit,
        &body3.replace("seize ans", "quinze ans"),
    );
    rule(&store, &staff, a, Ruling::Admissible).unwrap();
    consultation::advance(&store, &staff, id, &common::voting(&store)).unwrap();
    rule(&store, &staff, a, Ruling::Adopted).unwrap();
    assert!(matches!(
        consolidation::consolidate(&store, &staff, id),
        Err(ConsultationError::State("err_not_latest"))
    ));
    let mut conn = store.conn().unwrap();
    let bill = store::bills::by_slug(&mut conn, "budget-participatif")
        .unwrap()
        .unwrap();
    assert_eq!(
        store::versions::max_number(&mut conn, bill.id).unwrap(),
        Some(3)
    );
    assert!(store::consolidations::for_consultation(&mut conn, id)
        .unwrap()
        .is_none());
}

/// Nobody decides about themselves (issue 18): a staff member who wrote an amendment
/// neither rules on it nor consolidates it; another staff member does, and each refusal
/// is in the audit log.
#[test]
fn staff_never_rule_on_or_consolidate_their_own_amendment() {
    use amenda::domain::conflict::{ConflictKind, Deciders};
    let store = common::test_store();
    let id = setup(&store, 3);
    let claire = person(&store, "claire", 1);
    let other = fixtures::with_role(
        &store,
        "second-staff",
        amenda::domain::identity::Role::Staff,
    );
    let (_, body3, _) = article(&store, id, "3");
    let own = file(
        &store,
        &claire,
        id,
        "3",
        FilingKind::Edit,
        &body3.replace("seize ans", "quinze ans"),
    );
    let refused = |e: ConsultationError| match e {
        ConsultationError::Conflict(c) => {
            assert_eq!(
                (c.kind, c.deciders),
                (ConflictKind::OwnContent, Deciders::Staff)
            );
        }
        e => panic!("not a conflict: {e}"),
    };
    for ruling in [Ruling::Admissible, Ruling::Inadmissible("Hors sujet.")] {
        refused(rule(&store, &claire, own, ruling).unwrap_err());
    }
    assert_eq!(
        status(&store, own),
        "filed",
        "a refused ruling changes nothing"
    );
    rule(&store, &other, own, Ruling::Admissible).unwrap();
    consultation::advance(&store, &claire, id, &common::voting(&store)).unwrap(); // voting
    refused(rule(&store, &claire, own, Ruling::Adopted).unwrap_err());
    rule(&store, &other, own, Ruling::Adopted).unwrap();
    // Consolidating their own adopted amendment: another staff member confirms it by
    // consolidating.
    refused(consolidation::consolidate(&store, &claire, id).unwrap_err());
    let mut conn = store.conn().unwrap();
    assert!(store::consolidations::for_consultation(&mut conn, id)
        .unwrap()
        .is_none());
    drop(conn);
    assert_eq!(consolidation::consolidate(&store, &other, id).unwrap(), 4);

    let audit = store::audit::latest(&mut store.conn().unwrap(), 100).unwrap();
    let refusals: Vec<serde_json::Value> = audit
        .iter()
        .filter(|e| e.action == "refused_conflict")
        .inspect(|e| assert_eq!(e.actor_id, Some(claire.account.id)))
        .map(|e| serde_json::from_str(&e.details).unwrap())
        .collect();
    let decisions: Vec<&str> = refusals
        .iter()
        .map(|d| d["decision"].as_str().unwrap())
        .collect();
    assert_eq!(
        decisions,
        [
            "consolidate",
            "rule_amendment",
            "rule_amendment",
            "rule_amendment"
        ],
        "newest first"
    );
    assert!(refusals.iter().all(|d| d["conflict"] == "own_content"));
    assert_eq!(refusals[1]["target"]["amendment"], own.get());
}
