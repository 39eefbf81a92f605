//! Consultations and filing amendments through the service layer (the same code the
//! pages and the API call), on the backend chosen by AMENDA_TEST_DATABASE_URL.

mod common;

use amenda::domain::amendment::Operation;
use amenda::domain::identity::Level;
use amenda::service::consultation::{
    self, display_number, ConsultationError, Disclosure, Filing, NewConsultation,
};
use amenda::service::identity::{demo_sign_in, SessionInfo, DEMO_PEOPLE};
use amenda::text::UnitKind;

const KEY: [u8; 32] = [5; 32];

fn person(store: &common::TestStore, key: &str, level: u8) -> SessionInfo {
    let p = DEMO_PEOPLE.iter().find(|p| p.key == key).unwrap();
    demo_sign_in(store, p, Level::new(i64::from(level)).unwrap(), "test")
        .unwrap()
        .1
}

fn setup(store: &common::TestStore) -> (i64, String, String, String) {
    let laws = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("laws");
    amenda::service::import::import_folder(store, &laws, &amenda::service::Silent).unwrap();
    let staff = person(store, "claire", 1);
    let id = consultation::open(
        store,
        &staff,
        &NewConsultation {
            bill_slug: "budget-participatif",
            version: 3,
            title: "Consultation sur le budget participatif",
            description: "Donnez votre avis.",
            opens_on: "2026-12-01",
            closes_on: "2027-01-31",
            levels: [1, 2, 2],
        },
    )
    .unwrap();
    // Article 3 of version 3.
    let mut conn = store.conn().unwrap();
    let bill = amenda::store::bills::by_slug(&mut conn, "budget-participatif")
        .unwrap()
        .unwrap();
    let v = amenda::store::versions::by_number(&mut conn, bill.id, 3)
        .unwrap()
        .unwrap();
    let units = amenda::store::units::for_version(&mut conn, v.meta.id).unwrap();
    let art = units
        .iter()
        .find(|u| u.kind == UnitKind::Article && u.num.as_deref() == Some("3"))
        .unwrap();
    let (_, _, a) = consultation::article(store, id, &art.wid).unwrap();
    (id, art.wid.clone(), a.body, a.sha256)
}

fn filing<'a>(id: i64, wid: &'a str, sha: &'a str, text: &'a str, token: &'a str) -> Filing<'a> {
    Filing {
        kind: consultation::FilingKind::Edit,
        consultation_id: id,
        wid,
        article_sha256: sha,
        text,
        justification: "Un délai plus long laisse le temps aux habitants de s'organiser.",
        disclosure: Disclosure::Name,
        form_token: token,
    }
}

#[test]
fn filing_follows_phase_level_and_form_rules() {
    let store = common::test_store();
    let (id, wid, body, sha) = setup(&store);
    let staff = person(&store, "claire", 1);
    let camille = person(&store, "camille", 2);
    let low = person(&store, "yanis", 1);
    let first_word = body.split_whitespace().next().unwrap().to_string();
    let edited = body.replacen(&first_word, "Désormais,", 1);

    // Draft: not open yet.
    let e = consultation::file(
        &store,
        &KEY,
        &camille,
        &filing(id, &wid, &sha, &edited, "token-aaaaaaaaaaaa1"),
    )
    .unwrap_err();
    assert!(
        matches!(e, ConsultationError::NotOpen(ref p) if p == "draft"),
        "{e}"
    );
    assert_eq!(
        consultation::advance(&store, &staff, id, &common::voting(&store)).unwrap(),
        "amendments"
    );

    // Below the level, stale form, no change, too long: refused, nothing written.
    let e = consultation::file(
        &store,
        &KEY,
        &low,
        &filing(id, &wid, &sha, &edited, "token-aaaaaaaaaaaa2"),
    )
    .unwrap_err();
    assert!(
        matches!(e, ConsultationError::Level { needed: 2, have: 1 }),
        "{e}"
    );
    let e = consultation::file(
        &store,
        &KEY,
        &camille,
        &filing(id, &wid, "0000", &edited, "token-aaaaaaaaaaaa3"),
    )
    .unwrap_err();
    assert!(matches!(e, ConsultationError::Stale), "{e}");
    let same = format!("{body}\r\n");
    let e = consultation::file(
        &store,
        &KEY,
        &camille,
        &filing(id, &wid, &sha, &same, "token-aaaaaaaaaaaa4"),
    )
    .unwrap_err();
    assert!(
        matches!(e, ConsultationError::Amend(_)),
        "an unchanged text (CRLF aside) is no amendment: {e}"
    );
    let huge = "mot ".repeat(20_000);
    let e = consultation::file(
        &store,
        &KEY,
        &camille,
        &filing(id, &wid, &sha, &huge, "token-aaaaaaaaaaaa5"),
    )
    .unwrap_err();
    assert!(
        matches!(e, ConsultationError::Invalid { field: "text", .. }),
        "{e}"
    );
    let mut conn = store.conn().unwrap();
    assert!(
        amenda::store::amendments::for_consultation(&mut conn, id, None, 0, 10)
            .unwrap()
            .is_empty()
    );

    // Filed, numbered, and a second submit of the same form files nothing more.
    let f = filing(id, &wid, &sha, &edited, "token-bbbbbbbbbbbb1");
    let (a, slug) = consultation::file(&store, &KEY, &camille, &f).unwrap();
    assert_eq!(display_number(&slug, a.number), "AM-budget-participatif-1");
    assert_eq!(a.author_label, "Camille Martin");
    assert_eq!(a.author_level, 2);
    let (again, _) = consultation::file(&store, &KEY, &camille, &f).unwrap();
    assert_eq!(again.id, a.id);
    let rev = amenda::store::amendments::revision(&mut conn, a.id, 1)
        .unwrap()
        .unwrap();
    let ops: Vec<Operation> = serde_json::from_str(&rev.operations).unwrap();
    assert_eq!(
        amenda::domain::amendment::apply(&body, &ops).unwrap(),
        edited
    );

    // Under a pseudonym: the bill's pseudonym, and the next number.
    let mut f2 = filing(id, &wid, &sha, &edited, "token-bbbbbbbbbbbb2");
    f2.disclosure = Disclosure::Pseudonym;
    let (b, _) = consultation::file(&store, &KEY, &camille, &f2).unwrap();
    assert_eq!(b.number, 2);
    assert_eq!(
        b.author_label,
        amenda::domain::identity::pseudonym(&KEY, camille.account.id, "budget-participatif")
    );
    assert_eq!(
        amenda::store::amendments::counts_by_article(&mut conn, id).unwrap(),
        vec![(wid.clone(), 2)]
    );

    // Voting: amendments are closed.
    assert_eq!(
        consultation::advance(&store, &staff, id, &common::voting(&store)).unwrap(),
        "voting"
    );
    let e = consultation::file(
        &store,
        &KEY,
        &camille,
        &filing(id, &wid, &sha, &edited, "token-bbbbbbbbbbbb3"),
    )
    .unwrap_err();
    assert!(
        matches!(e, ConsultationError::NotOpen(ref p) if p == "voting"),
        "{e}"
    );
}

#[test]
fn opening_a_consultation_checks_its_form() {
    let store = common::test_store();
    setup(&store);
    let staff = person(&store, "claire", 1);
    let base = NewConsultation {
        bill_slug: "budget-participatif",
        version: 3,
        title: "T",
        description: "",
        opens_on: "2026-12-01",
        closes_on: "2026-11-30",
        levels: [1, 1, 2],
    };
    let e = consultation::open(&store, &staff, &base).unwrap_err();
    assert!(
        matches!(
            e,
            ConsultationError::Invalid {
                field: "closes_on",
                ..
            }
        ),
        "{e}"
    );
    let e = consultation::open(
        &store,
        &staff,
        &NewConsultation {
            title: " ",
            closes_on: "2027-01-01",
            ..base
        },
    )
    .unwrap_err();
    assert!(
        matches!(e, ConsultationError::Invalid { field: "title", .. }),
        "{e}"
    );
    let e = consultation::open(
        &store,
        &staff,
        &NewConsultation {
            version: 9,
            closes_on: "2027-01-01",
            ..base
        },
    )
    .unwrap_err();
    assert!(matches!(e, ConsultationError::NotFound), "{e}");
    let e = consultation::open(
        &store,
        &staff,
        &NewConsultation {
            levels: [1, 4, 2],
            closes_on: "2027-01-01",
            ..base
        },
    )
    .unwrap_err();
    assert!(
        matches!(
            e,
            ConsultationError::Invalid {
                field: "levels",
                ..
            }
        ),
        "{e}"
    );
}

mod pages {
    use super::*;
    use amenda::web::{PseudonymKey, WebConfig};
    use common::web::{demo_client, post, sign_in};
    use rocket::http::Status;
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

    fn enc(s: &str) -> String {
        amenda::web::url_encode(s).replace('/', "%2F")
    }

    /// Staff open a consultation with the form, move it to the amendment phase; a
    /// citizen below the level is offered a step-up; at the level, previews and files.
    #[test]
    fn open_amend_preview_file_and_read() {
        let store = common::test_store();
        let laws = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("laws");
        amenda::service::import::import_folder(&store, &laws, &amenda::service::Silent).unwrap();
        let staff = client(&store);
        sign_in(&staff, "claire", 1);
        let list = staff
            .get("/bills/budget-participatif/consultations")
            .dispatch()
            .into_string()
            .unwrap();
        assert!(list.contains("id=\"open-consultation\""));
        let form = staff
            .get("/bills/budget-participatif/consultations/new")
            .dispatch()
            .into_string()
            .unwrap();
        assert!(form.contains("id=\"consultation-new\""));
        // A closing date before the opening: the form comes back, input kept.
        let (status, page, _) = post(
            &staff,
            "/bills/budget-participatif/consultations",
            "version=3&title=Budget+2027&description=Avis&opens_on=2026-12-01&closes_on=2026-11-01&level_comment=1&level_amend=2&level_vote=2",
        );
        assert_eq!(status, Status::UnprocessableEntity);
        assert!(page.contains("id=\"closes-error\"") && page.contains("value=\"Budget 2027\""));
        let (status, _, loc) = post(
            &staff,
            "/bills/budget-participatif/consultations",
            "version=3&title=Budget+2027&description=Avis&opens_on=2026-12-01&closes_on=2027-01-31&level_comment=1&level_amend=2&level_vote=2",
        );
        assert_eq!(status, Status::SeeOther);
        let url = loc.unwrap();
        let (status, _, _) = post(&staff, &format!("{url}/phase"), "");
        assert_eq!(status, Status::SeeOther);
        let page = staff.get(url.clone()).dispatch().into_string().unwrap();
        assert!(page.contains("open for amendments"), "{page}");
        let amend_link = page
            .split("href=\"")
            .find(|s| s.contains("/amend\""))
            .and_then(|s| s.split('"').next())
            .unwrap()
            .to_string();

        // Level 1 is below the consultation's 2: a 403 with a way to step up.
        let low = client(&store);
        sign_in(&low, "yanis", 1);
        let res = low.get(amend_link.clone()).dispatch();
        assert_eq!(res.status(), Status::Forbidden);
        assert!(res.into_string().unwrap().contains("id=\"error-action\""));

        let cam = client(&store);
        sign_in(&cam, "camille", 2);
        let form = cam
            .get(amend_link.clone())
            .dispatch()
            .into_string()
            .unwrap();
        let field = |name: &str| {
            form.split(&format!("name=\"{name}\" value=\""))
                .nth(1)
                .and_then(|s| s.split('"').next())
                .unwrap()
                .to_string()
        };
        let (sha, token) = (field("sha"), field("token"));
        let text = form
            .split("name=\"text\" rows=\"16\">")
            .nth(1)
            .and_then(|s| s.split("</textarea>").next())
            .unwrap()
            .replace("&#x27;", "'")
            .replace("&quot;", "\"")
            .replace("&amp;", "&");
        let first = text.split_whitespace().next().unwrap().to_string();
        let edited = text.replacen(&first, "Désormais", 1);
        let body = format!(
            "sha={sha}&token={token}&text={}&justification=Plus+clair&disclosure=pseudonym",
            enc(&edited)
        );
        // Unchanged text: refused next to the form, nothing filed.
        let (status, page, _) = post(
            &cam,
            &amend_link,
            &format!(
                "sha={sha}&token={token}&text={}&justification=&disclosure=name&action=file",
                enc(&text)
            ),
        );
        assert_eq!(status, Status::UnprocessableEntity, "{page}");
        assert!(page.contains("id=\"amend-error\""));
        // Preview: the wording and the diff, input kept.
        let (status, page, _) = post(&cam, &amend_link, &format!("{body}&action=preview"));
        assert_eq!(status, Status::Ok);
        assert!(
            page.contains("id=\"preview\"") && page.contains("<ins>"),
            "{page}"
        );
        assert!(
            page.contains("In paragraph 1 of article 1er, replace the word"),
            "{page}"
        );
        // File, twice (a double submit): one amendment.
        let (status, _, loc) = post(&cam, &amend_link, &format!("{body}&action=file"));
        assert_eq!(status, Status::SeeOther);
        assert_eq!(
            loc.as_deref(),
            Some("/bills/budget-participatif/amendments/1")
        );
        let (_, _, again) = post(&cam, &amend_link, &format!("{body}&action=file"));
        assert_eq!(again, loc);
        let anon = client(&store);
        let page = anon
            .get("/bills/budget-participatif/amendments/1")
            .dispatch()
            .into_string()
            .unwrap();
        assert!(page.contains("AM-budget-participatif-1"));
        let me =
            amenda::service::identity::find_account(&mut store.conn().unwrap(), "demo:camille")
                .unwrap();
        let pseudo = amenda::domain::identity::pseudonym(&KEY, me.id, "budget-participatif");
        assert!(
            page.contains(&pseudo) && !page.contains("Camille"),
            "published under the pseudonym"
        );
        assert!(page.contains("Plus clair"));
        let page = anon.get(url).dispatch().into_string().unwrap();
        assert!(page.contains("AM-budget-participatif-1"));
        let list = anon
            .get("/bills/budget-participatif/consultations")
            .dispatch()
            .into_string()
            .unwrap();
        assert!(list.contains("Budget 2027") && !list.contains("open-consultation"));

        // Only the author sees "withdraw"; another person's attempt changes nothing;
        // the author's withdrawal shows, and a second one is refused.
        assert!(!page.contains("id=\"withdraw\""));
        let (status, _, _) = post(&low, "/bills/budget-participatif/amendments/1/withdraw", "");
        assert_eq!(status, Status::NotFound);
        let mine = cam
            .get("/bills/budget-participatif/amendments/1")
            .dispatch()
            .into_string()
            .unwrap();
        assert!(mine.contains("id=\"withdraw\""));
        let (status, _, loc) = post(&cam, "/bills/budget-participatif/amendments/1/withdraw", "");
        assert_eq!(status, Status::SeeOther);
        let page = cam.get(loc.unwrap()).dispatch().into_string().unwrap();
        assert!(page.contains("id=\"status\">withdrawn<") && !page.contains("id=\"withdraw\""));
        let (status, _, _) = post(&cam, "/bills/budget-participatif/amendments/1/withdraw", "");
        assert_eq!(status, Status::Conflict);
    }
}

/// `amenda demo` opens one consultation, once, ready for amendments.
#[test]
fn the_demo_consultation_is_made_once() {
    let store = common::test_store();
    assert_eq!(
        consultation::ensure_demo(&store, "2026-11-23").unwrap(),
        None,
        "no bill, no consultation"
    );
    let laws = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("laws");
    amenda::service::import::import_folder(&store, &laws, &amenda::service::Silent).unwrap();
    let id = consultation::ensure_demo(&store, "2026-11-23")
        .unwrap()
        .unwrap();
    assert_eq!(
        consultation::ensure_demo(&store, "2026-11-24").unwrap(),
        Some(id)
    );
    let mut conn = store.conn().unwrap();
    let c = amenda::store::consultations::by_id(&mut conn, id)
        .unwrap()
        .unwrap();
    assert_eq!(
        (c.phase.as_str(), c.closes_on.as_str()),
        ("amendments", "2026-12-23")
    );
    let staff = amenda::service::identity::find_account(&mut conn, "demo:claire").unwrap();
    assert_eq!(c.created_by, staff.id);
}
