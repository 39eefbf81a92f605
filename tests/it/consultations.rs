//! Consultations and filing amendments through the service layer (the same code the
//! pages and the API call), on the backend chosen by AMENDA_TEST_DATABASE_URL.

use crate::common;
use amenda::domain::ids::{AmendmentId, ConsultationId};

use amenda::domain::amendment::Operation;
use amenda::service::consultation::{
    self, display_number, ConsultationError, Disclosure, Filing, NewConsultation,
};
use amenda::service::identity::SessionInfo;
use amenda::text::UnitKind;
use common::fixtures::{self, person};

const KEY: [u8; 32] = [5; 32];

/// A consultation (levels 1, 2, 2) on version 3 of `budget-participatif`, in phase
/// draft; returns it and article 3's wid, body and hash.
fn setup(store: &common::TestStore) -> (ConsultationId, String, String, String) {
    fixtures::import_laws(store);
    let staff = person(store, "claire", 1);
    let id = fixtures::consultation(
        store,
        &staff,
        &NewConsultation {
            title: "Consultation sur le budget participatif",
            description: "Donnez votre avis.",
            levels: [1, 2, 2],
            ..fixtures::consultation_form(3)
        },
        amenda::domain::consultation::Phase::Draft,
    );
    let a = fixtures::article(store, id, "3");
    (id, a.wid, a.body, a.sha256)
}

fn filing<'a>(
    id: ConsultationId,
    wid: &'a str,
    sha: &'a str,
    text: &'a str,
    token: &'a str,
) -> Filing<'a> {
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
        matches!(e, ConsultationError::NotOpen(ref p) if *p == consultation::Phase::Draft),
        "{e}"
    );
    assert_eq!(
        consultation::advance(&store, &staff, id, &common::voting(&store)).unwrap(),
        consultation::Phase::Amendments
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
        consultation::Phase::Voting
    );
    let e = consultation::file(
        &store,
        &KEY,
        &camille,
        &filing(id, &wid, &sha, &edited, "token-bbbbbbbbbbbb3"),
    )
    .unwrap_err();
    assert!(
        matches!(e, ConsultationError::NotOpen(ref p) if *p == consultation::Phase::Voting),
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

    /// The bill page says, per article, how many amendments and comments the
    /// consultation on that version has, links to the article in the consultation, and
    /// follows new contributions (at once here: `live_pages` is zero, so the counts are
    /// read again on each request rather than after a second) while still served from
    /// the cache.
    #[test]
    fn the_bill_page_counts_amendments_and_comments_per_article() {
        use amenda::service::comments::{self, NewComment, Target};
        let store = common::test_store();
        let (id, wid, body, sha) = setup(&store);
        let staff = person(&store, "claire", 1);
        let camille = person(&store, "camille", 2);
        let c = demo_client(
            &store,
            WebConfig {
                pseudonym_key: Some(PseudonymKey(KEY.to_vec())),
                live_pages: Some(std::time::Duration::ZERO),
                ..WebConfig::default()
            },
        );
        let page = |uri: &str| {
            let res = c.get(uri.to_string()).dispatch();
            assert_eq!(res.status(), Status::Ok);
            let etag = res.headers().get_one("ETag").unwrap().to_string();
            (etag, res.into_string().unwrap())
        };
        // A draft consultation is not public: no counts, no link.
        let (_, draft) = page("/bills/budget-participatif?v=3");
        assert!(!draft.contains("class=\"activity\""));
        assert!(!draft.contains("id=\"bill-consultation\""));

        consultation::advance(&store, &staff, id, &common::voting(&store)).unwrap();
        let first_word = body.split_whitespace().next().unwrap().to_string();
        let edited = body.replacen(&first_word, "Désormais,", 1);
        consultation::file(
            &store,
            &KEY,
            &camille,
            &filing(id, &wid, &sha, &edited, "token-counts-00001"),
        )
        .unwrap();
        let comment = |token: &str| {
            comments::post(
                &store,
                &KEY,
                &camille,
                &NewComment {
                    consultation_id: id,
                    target: Target::Unit(&wid),
                    parent: None,
                    quote: "",
                    body: "Le délai me paraît trop court pour les petites communes.",
                    disclosure: Disclosure::Name,
                    form_token: token,
                },
            )
            .unwrap()
        };
        comment("token-counts-00002");
        let link = format!("<a class=\"activity\" href=\"/consultations/{id}/articles/{wid}\">");
        let (etag, one) = page("/bills/budget-participatif?v=3");
        assert!(
            one.contains(&format!("{link}1 amendment · 1 comment</a>")),
            "no counts in the table of contents"
        );
        assert_eq!(one.matches("class=\"activity\"").count(), 1);
        assert!(one.contains(&format!("href=\"/consultations/{id}\"")));
        // Served again from the cache, the same page and ETag.
        let (again, _) = page("/bills/budget-participatif?v=3");
        assert_eq!(again, etag);

        comment("token-counts-00003");
        let (etag2, two) = page("/bills/budget-participatif?v=3");
        assert!(two.contains(&format!("{link}1 amendment · 2 comments</a>")));
        assert_ne!(etag2, etag, "new counts must change the ETag");
        // Another version, without a consultation, has none.
        let (_, v2) = page("/bills/budget-participatif?v=2");
        assert!(!v2.contains("class=\"activity\""));
    }

    /// Staff open a consultation with the form, move it to the amendment phase; a
    /// citizen below the level is offered a step-up; at the level, previews and files.
    #[test]
    fn open_amend_preview_file_and_read() {
        let store = common::test_store();
        fixtures::import_laws(&store);
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
    fixtures::import_laws(&store);
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
        (c.phase.as_str(), c.closes_on.iso().as_str()),
        ("amendments", "2026-12-23")
    );
    let staff = amenda::service::identity::find_account(&mut conn, "demo:claire").unwrap();
    assert_eq!(c.created_by, staff.id);
}

/// Amendments among the others: conflicts and identical ones on the amendment page,
/// the filtered list, and corrections ("rectifié") by the author.
mod related {
    use super::*;
    use amenda::service::disposition::{self, Ruling};
    use amenda::web::{PseudonymKey, WebConfig};
    use common::web::{demo_client, get, post, sign_in};
    use consultation::{FilingKind, Rectification};
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

    /// The consultation of [`setup`], open for amendments.
    fn open(store: &common::TestStore) -> (ConsultationId, String, String, String) {
        let s = setup(store);
        let staff = person(store, "claire", 1);
        consultation::advance(store, &staff, s.0, &common::voting(store)).unwrap();
        s
    }

    fn file_as(
        store: &common::TestStore,
        who: &SessionInfo,
        f: &Filing<'_>,
    ) -> amenda::store::amendments::Amendment {
        consultation::file(store, &KEY, who, f).unwrap().0
    }

    fn replace_first(body: &str, by: &str) -> String {
        let first = body.split_whitespace().next().unwrap();
        body.replacen(first, by, 1)
    }

    fn replace_last(body: &str, by: &str) -> String {
        let last = body.split_whitespace().last().unwrap();
        let at = body.rfind(last).unwrap();
        format!("{}{by}{}", &body[..at], &body[at + last.len()..])
    }

    /// The `<section id="conflicts">` of an amendment page.
    fn conflicts_section(page: &str) -> String {
        page.split("id=\"conflicts\"")
            .nth(1)
            .and_then(|s| s.split("</section>").next())
            .unwrap()
            .to_string()
    }

    #[test]
    fn conflicts_and_identical_amendments_are_shown_on_both_pages() {
        let store = common::test_store();
        let (id, wid, body, sha) = open(&store);
        let camille = person(&store, "camille", 2);
        let dominique = person(&store, "dominique", 2);
        let first = replace_first(&body, "Désormais,");
        let other_first = replace_first(&body, "Ainsi,");
        let last = replace_last(&body, "immédiatement.");
        // 1 and 2 change the same word differently; 3 changes another word; 4 is the
        // same as 1; 5 deletes the article; 6 was withdrawn.
        let a1 = file_as(
            &store,
            &camille,
            &filing(id, &wid, &sha, &first, "tok-conflict-0001"),
        );
        let a2 = file_as(
            &store,
            &dominique,
            &filing(id, &wid, &sha, &other_first, "tok-conflict-0002"),
        );
        let a3 = file_as(
            &store,
            &dominique,
            &filing(id, &wid, &sha, &last, "tok-conflict-0003"),
        );
        let a4 = file_as(
            &store,
            &dominique,
            &filing(id, &wid, &sha, &first, "tok-conflict-0004"),
        );
        let mut repeal = filing(id, &wid, &sha, "", "tok-conflict-0005");
        repeal.kind = FilingKind::RepealArticle;
        let a5 = file_as(&store, &camille, &repeal);
        let a6 = file_as(
            &store,
            &camille,
            &filing(id, &wid, &sha, &other_first, "tok-conflict-0006"),
        );
        assert!(consultation::withdraw(&store, &camille, a6.id).unwrap());
        assert_eq!((a1.number, a5.number, a6.number), (1, 5, 6));

        let anon = client(&store);
        let page = |n: i32| get(&anon, &format!("/bills/budget-participatif/amendments/{n}")).1;
        let link = |n: i32| format!("href=\"/bills/budget-participatif/amendments/{n}\"");
        let p1 = page(a1.number);
        let c1 = conflicts_section(&p1);
        assert!(c1.contains(&link(a2.number)), "{c1}");
        assert!(c1.contains("they change the same words"), "{c1}");
        assert!(
            c1.contains(&link(a5.number)) && c1.contains("deletes the article"),
            "{c1}"
        );
        assert!(
            !c1.contains(&link(a3.number)),
            "compatible amendments are no conflict: {c1}"
        );
        assert!(
            !c1.contains(&link(a6.number)),
            "a withdrawn amendment is not standing: {c1}"
        );
        assert!(
            !c1.contains(&link(a4.number)),
            "identical ones are grouped instead: {c1}"
        );
        let identical = p1
            .split("id=\"identical\"")
            .nth(1)
            .unwrap()
            .split("</p>")
            .next()
            .unwrap();
        assert!(
            identical.contains(&link(a4.number)) && identical.contains("AM-budget-participatif-4")
        );
        // The other side lists it too.
        let c2 = conflicts_section(&page(a2.number));
        assert!(
            c2.contains(&link(a1.number)) && c2.contains(&link(a4.number)),
            "{c2}"
        );
        let c3 = conflicts_section(&page(a3.number));
        assert!(
            !c3.contains(&link(a1.number)) && !c3.contains(&link(a2.number)),
            "{c3}"
        );
        assert!(
            c3.contains(&link(a5.number)),
            "the repeal conflicts with every edit: {c3}"
        );
        assert!(page(a4.number).contains(&link(a1.number)));
        // In French, in words.
        let fr = client(&store);
        fr.get("/lang/fr?next=/").dispatch();
        let c1 = conflicts_section(&get(&fr, "/bills/budget-participatif/amendments/1").1);
        assert!(
            c1.contains("modifient les mêmes mots") && c1.contains("supprime l&#x27;article"),
            "{c1}"
        );
        // Nothing standing on the article conflicts with the repeal once the others go.
        for a in [&a1, &a2, &a3, &a4] {
            let who = if a.author_id == camille.account.id {
                &camille
            } else {
                &dominique
            };
            assert!(consultation::withdraw(&store, who, a.id).unwrap());
        }
        let c5 = conflicts_section(&page(a5.number));
        assert!(c5.contains("No amendment still standing conflicts"), "{c5}");
    }

    /// Rows of the list page (one link per amendment row).
    fn rows(page: &str) -> usize {
        page.matches("<tr><td><a href=\"/bills/").count()
    }

    #[test]
    fn the_list_filters_in_sql_and_pages_by_fifty() {
        let store = common::test_store();
        let (id, wid, body, sha) = open(&store);
        let camille = person(&store, "camille", 2);
        // Another article of the same version.
        let mut conn = store.conn().unwrap();
        let c = amenda::store::consultations::by_id(&mut conn, id)
            .unwrap()
            .unwrap();
        let units = amenda::store::units::for_version(&mut conn, c.version_id).unwrap();
        drop(conn);
        let other = units
            .iter()
            .find(|u| u.kind == UnitKind::Article && u.wid != wid)
            .unwrap();
        let (_, _, art2) = consultation::article(&store, id, &other.wid).unwrap();
        // 51 amendments on article 3 (the 51st under a pseudonym), 2 on the other
        // article, one of them withdrawn.
        for i in 1..=51 {
            let text = replace_first(&body, &format!("Mot{i}"));
            let token = format!("tok-list-{i:08}");
            let mut f = filing(id, &wid, &sha, &text, &token);
            if i == 51 {
                f.disclosure = Disclosure::Pseudonym;
            }
            file_as(&store, &camille, &f);
        }
        let t2 = replace_first(&art2.body, "Autrement,");
        let b1 = file_as(
            &store,
            &camille,
            &filing(id, &other.wid, &art2.sha256, &t2, "tok-list-other-1"),
        );
        let t3 = replace_last(&art2.body, "autrement.");
        let b2 = file_as(
            &store,
            &camille,
            &filing(id, &other.wid, &art2.sha256, &t3, "tok-list-other-2"),
        );
        assert!(consultation::withdraw(&store, &camille, b2.id).unwrap());

        let anon = client(&store);
        let base = format!("/consultations/{id}/amendments");
        let (status, p1) = get(&anon, &base);
        assert_eq!(status, Status::Ok);
        assert_eq!(rows(&p1), 50);
        assert!(p1.contains("53 amendments — 1 to 50, page 1 of 2"), "{p1}");
        assert!(
            p1.contains(&format!("rel=\"next\" href=\"{base}?page&#x3D;2\"")),
            "{p1}"
        );
        assert!(!p1.contains("rel=\"prev\""));
        let (_, p2) = get(&anon, &format!("{base}?page=2"));
        assert_eq!(rows(&p2), 3);
        assert!(
            p2.contains("53 amendments — 51 to 53, page 2 of 2") && !p2.contains("rel=\"next\"")
        );
        assert!(
            p2.contains("AM-budget-participatif-53") && !p2.contains("AM-budget-participatif-50<")
        );
        assert_eq!(get(&anon, &format!("{base}?page=3")).0, Status::NotFound);

        // By article: the two on the other one, one page.
        let (_, p) = get(
            &anon,
            &format!("{base}?article={}&status=&author=", other.wid),
        );
        assert_eq!(rows(&p), 2, "{p}");
        assert!(p.contains(&format!("AM-budget-participatif-{}<", b1.number)));
        assert!(p.contains("2 amendments — 1 to 2, page 1 of 1") && !p.contains("rel=\"next\""));
        assert!(p.contains(&format!("<option value=\"{}\" selected>", other.wid)));
        // The article choices are the articles that have amendments: these two.
        let choices = p
            .split("id=\"filter-article\"")
            .nth(1)
            .unwrap()
            .split("</select>")
            .next()
            .unwrap();
        assert_eq!(
            choices.matches("<option value=\"").count(),
            1 + 2,
            "{choices}"
        );
        // By status, and the page links keep the filters.
        let (_, p) = get(&anon, &format!("{base}?status=withdrawn"));
        assert_eq!(rows(&p), 1);
        assert!(p.contains(&format!("AM-budget-participatif-{}<", b2.number)));
        let (_, p) = get(&anon, &format!("{base}?status=filed"));
        assert!(
            p.contains("52 amendments") && p.contains("status&#x3D;filed&amp;page&#x3D;2"),
            "{p}"
        );
        // By author kind.
        let (_, p) = get(&anon, &format!("{base}?author=pseudonym"));
        assert_eq!(rows(&p), 1);
        assert!(p.contains("AM-budget-participatif-51<"));
        let (_, p) = get(&anon, &format!("{base}?author=name&article={}", wid));
        assert!(p.contains("50 amendments — 1 to 50, page 1 of 1"), "{p}");
        // Nothing matches: the empty state, and no page after it.
        let (status, p) = get(&anon, &format!("{base}?status=adopted"));
        assert_eq!(status, Status::Ok);
        assert!(p.contains("id=\"amendments-empty\"") && p.contains("No amendment matches"));
        assert_eq!(rows(&p), 0);
        // Bad values: 400 naming the filter.
        for (q, name) in [
            ("status=nope", "status"),
            ("author=robot", "author"),
            ("page=0", "page"),
            ("page=abc", "page"),
        ] {
            let (status, p) = get(&anon, &format!("{base}?{q}"));
            assert_eq!(status, Status::BadRequest, "{q}");
            assert!(p.contains(&format!("“{name}”")), "{q}: {p}");
        }
        assert_eq!(
            get(&anon, "/consultations/999999/amendments").0,
            Status::NotFound
        );
        // A consultation without amendments.
        let staff = person(&store, "claire", 1);
        let empty = consultation::open(
            &store,
            &staff,
            &NewConsultation {
                bill_slug: "budget-participatif",
                version: 3,
                title: "Vide",
                description: "",
                opens_on: "2026-12-01",
                closes_on: "2027-01-31",
                levels: [1, 1, 2],
            },
        )
        .unwrap();
        let (status, p) = get(&anon, &format!("/consultations/{empty}/amendments"));
        assert_eq!(status, Status::Ok);
        assert!(
            p.contains("No amendment has been filed yet.") && p.contains("0 amendments"),
            "{p}"
        );
        // The consultation page links to the list.
        assert!(get(&anon, &format!("/consultations/{id}"))
            .1
            .contains(&format!("href=\"{base}\"")));
    }

    fn rectification<'a>(
        a: AmendmentId,
        base: i32,
        sha: &'a str,
        text: &'a str,
        why: &'a str,
    ) -> Rectification<'a> {
        Rectification {
            amendment_id: a,
            base_revision: base,
            kind: FilingKind::Edit,
            article_sha256: sha,
            text,
            justification: why,
        }
    }

    #[test]
    fn rectify_rules() {
        let store = common::test_store();
        let (id, wid, body, sha) = open(&store);
        let camille = person(&store, "camille", 2);
        let dominique = person(&store, "dominique", 2);
        let staff = person(&store, "claire", 1);
        let first = replace_first(&body, "Désormais,");
        let better = replace_first(&body, "Dorénavant,");
        let a = file_as(
            &store,
            &camille,
            &filing(id, &wid, &sha, &first, "tok-rectify-0001"),
        );

        // Not the author; nothing changed; a stale article: refused, nothing written.
        let e = consultation::rectify(
            &store,
            &dominique,
            &rectification(a.id, 1, &sha, &better, "Mieux"),
        )
        .unwrap_err();
        assert!(
            matches!(e, ConsultationError::State("err_not_author")),
            "{e}"
        );
        let same = rectification(
            a.id,
            1,
            &sha,
            &first,
            "Un délai plus long laisse le temps aux habitants de s'organiser.",
        );
        let e = consultation::rectify(&store, &camille, &same).unwrap_err();
        assert!(
            matches!(e, ConsultationError::State("err_rectify_nothing")),
            "{e}"
        );
        let e = consultation::rectify(
            &store,
            &camille,
            &rectification(a.id, 1, "0000", &better, "Mieux"),
        )
        .unwrap_err();
        assert!(matches!(e, ConsultationError::Stale), "{e}");
        let mut conn = store.conn().unwrap();
        assert_eq!(
            amenda::store::amendments::revisions(&mut conn, a.id)
                .unwrap()
                .len(),
            1
        );

        // The author corrects it: revision 2; the same form again writes nothing more.
        let r = rectification(a.id, 1, &sha, &better, "Mieux dit.");
        let (after, _, rev) = consultation::rectify(&store, &camille, &r).unwrap();
        assert_eq!((rev, after.revision), (2, 2));
        let (_, _, again) = consultation::rectify(&store, &camille, &r).unwrap();
        assert_eq!(again, 2);
        let revs = amenda::store::amendments::revisions(&mut conn, a.id).unwrap();
        assert_eq!(revs.len(), 2);
        let ops: Vec<Operation> = serde_json::from_str(&revs[1].operations).unwrap();
        assert_eq!(
            amenda::domain::amendment::apply(&body, &ops).unwrap(),
            better
        );
        assert_eq!(revs[1].justification, "Mieux dit.");
        let ops1: Vec<Operation> = serde_json::from_str(&revs[0].operations).unwrap();
        assert_eq!(
            amenda::domain::amendment::apply(&body, &ops1).unwrap(),
            first,
            "revision 1 is kept"
        );
        // Another form made from revision 1, with other words: refused as stale.
        let e = consultation::rectify(
            &store,
            &camille,
            &rectification(a.id, 1, &sha, &first, "Autre"),
        )
        .unwrap_err();
        assert!(
            matches!(e, ConsultationError::State("err_rectify_stale")),
            "{e}"
        );

        // Withdrawn, or ruled: no more corrections.
        let b = file_as(
            &store,
            &camille,
            &filing(id, &wid, &sha, &first, "tok-rectify-0002"),
        );
        assert!(consultation::withdraw(&store, &camille, b.id).unwrap());
        let e = consultation::rectify(
            &store,
            &camille,
            &rectification(b.id, 1, &sha, &better, "x"),
        )
        .unwrap_err();
        assert!(
            matches!(e, ConsultationError::State("err_cannot_rectify")),
            "{e}"
        );
        let d = file_as(
            &store,
            &camille,
            &filing(id, &wid, &sha, &first, "tok-rectify-0003"),
        );
        disposition::rule(&store, &staff, d.id, Ruling::Admissible).unwrap();
        let e = consultation::rectify(
            &store,
            &camille,
            &rectification(d.id, 1, &sha, &better, "x"),
        )
        .unwrap_err();
        assert!(
            matches!(e, ConsultationError::State("err_cannot_rectify")),
            "{e}"
        );

        // Voting opened: closed to corrections.
        assert_eq!(
            consultation::advance(&store, &staff, id, &common::voting(&store)).unwrap(),
            consultation::Phase::Voting
        );
        let e = consultation::rectify(&store, &camille, &rectification(a.id, 2, &sha, &first, "x"))
            .unwrap_err();
        assert!(
            matches!(e, ConsultationError::NotOpen(ref p) if *p == consultation::Phase::Voting),
            "{e}"
        );
        assert_eq!(
            amenda::store::amendments::revisions(&mut conn, a.id)
                .unwrap()
                .len(),
            2
        );
    }

    #[test]
    fn rectify_from_the_pages() {
        let store = common::test_store();
        let (id, wid, body, sha) = open(&store);
        let camille = person(&store, "camille", 2);
        let first = replace_first(&body, "Désormais,");
        let a = file_as(
            &store,
            &camille,
            &filing(id, &wid, &sha, &first, "tok-rectify-page1"),
        );
        let url = format!("/bills/budget-participatif/amendments/{}", a.number);
        let form_url = format!("{url}/rectify");

        // Only the author has the link and the form.
        let other = client(&store);
        sign_in(&other, "dominique", 2);
        assert!(!get(&other, &url).1.contains("id=\"rectify\""));
        let (status, p) = get(&other, &form_url);
        assert_eq!(status, Status::Forbidden);
        assert!(p.contains("Only the author"), "{p}");
        let cam = client(&store);
        sign_in(&cam, "camille", 2);
        assert!(get(&cam, &url)
            .1
            .contains(&format!("id=\"rectify\" href=\"{form_url}\"")));
        let (status, form) = get(&cam, &form_url);
        assert_eq!(status, Status::Ok);
        assert!(
            form.contains("name=\"base\" value=\"1\"") && form.contains("Désormais,"),
            "{form}"
        );
        assert!(form.contains(&format!("action=\"{form_url}\"")));
        let better = replace_first(&body, "Dorénavant,");
        let fields = format!(
            "sha={sha}&base=1&kind=edit&text={}&justification=Mieux+dit",
            amenda::web::url_encode(&better).replace('/', "%2F")
        );
        // Preview, then file twice (a double submit): one new revision.
        let (status, p, _) = post(&cam, &form_url, &format!("{fields}&action=preview"));
        assert_eq!(status, Status::Ok);
        assert!(
            p.contains("id=\"preview\"") && p.contains("Dorénavant"),
            "{p}"
        );
        let (status, _, loc) = post(&cam, &form_url, &format!("{fields}&action=file"));
        assert_eq!(status, Status::SeeOther);
        assert_eq!(loc.as_deref(), Some(url.as_str()));
        let (status, _, again) = post(&cam, &form_url, &format!("{fields}&action=file"));
        assert_eq!(
            (status, again.as_deref()),
            (Status::SeeOther, Some(url.as_str()))
        );
        let mut conn = store.conn().unwrap();
        assert_eq!(
            amenda::store::amendments::revisions(&mut conn, a.id)
                .unwrap()
                .len(),
            2
        );
        // The page: rectified, revision 2, revision 1 kept with its diff.
        let page = get(&other, &url).1;
        assert!(
            page.contains("(rectified)") && page.contains("Revision r2"),
            "{page}"
        );
        let earlier = page
            .split("id=\"revision-1\"")
            .nth(1)
            .unwrap()
            .split("</section>")
            .next()
            .unwrap();
        assert!(
            earlier.contains("<ins>Désormais,</ins>") || earlier.contains("Désormais"),
            "{earlier}"
        );
        assert!(
            !page.contains("id=\"revision-2\""),
            "the current revision is shown above"
        );
        // A forged token changes nothing; a form that changes nothing comes back (422).
        let res = cam
            .post(form_url.clone())
            .header(rocket::http::ContentType::Form)
            .body(format!("csrf=forged&{fields}&action=file"))
            .dispatch();
        assert_eq!(res.status(), Status::Forbidden);
        let (status, p, _) = post(
            &cam,
            &form_url,
            &format!("{}&action=file", fields.replace("base=1", "base=2")),
        );
        assert_eq!(status, Status::UnprocessableEntity);
        assert!(
            p.contains("id=\"amend-error\"") && p.contains("changes neither"),
            "{p}"
        );
        // Once staff rule on it: refused with the reason.
        let staff = person(&store, "claire", 1);
        disposition::rule(&store, &staff, a.id, Ruling::Admissible).unwrap();
        assert!(!get(&cam, &url).1.contains("id=\"rectify\""));
        let (status, p) = get(&cam, &form_url);
        assert_eq!(status, Status::Conflict);
        assert!(p.contains("can no longer be corrected"), "{p}");
        assert_eq!(
            amenda::store::amendments::revisions(&mut conn, a.id)
                .unwrap()
                .len(),
            2
        );
    }
}
