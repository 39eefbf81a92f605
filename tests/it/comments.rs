//! Comments, replies and staff answers, through the service layer (the code the pages
//! and the API call) and through the pages, on the backend chosen by
//! AMENDA_TEST_DATABASE_URL.

use crate::common;
use amenda::domain::ids::{CommentId, ConsultationId};

use amenda::service::comments::{self, NewComment, Target};
use amenda::service::consultation::{self, ConsultationError, Disclosure, NewConsultation};
use amenda::service::identity::SessionInfo;
use amenda::text::UnitKind;
use common::fixtures::{self, person};

const KEY: [u8; 32] = [7; 32];

/// The article, its paragraphs (wid and text) in the consultation's version.
struct Art {
    wid: String,
    paragraphs: Vec<(String, String)>,
}

/// Imports `laws/`, opens a consultation (levels 2, 2, 2) on `version` of the
/// participatory-budget bill, in phase draft; returns it and article 2.
fn setup(store: &common::TestStore, version: i32) -> (ConsultationId, Art) {
    fixtures::import_laws(store);
    let form = NewConsultation {
        levels: [2, 2, 2],
        ..fixtures::consultation_form(version)
    };
    let id = fixtures::consultation(
        store,
        &person(store, "claire", 1),
        &form,
        amenda::domain::consultation::Phase::Draft,
    );
    (id, article(store, id, "2"))
}

fn article(store: &common::TestStore, id: ConsultationId, num: &str) -> Art {
    let mut conn = store.conn().unwrap();
    let c = amenda::store::consultations::by_id(&mut conn, id)
        .unwrap()
        .unwrap();
    let v = amenda::store::versions::by_id(&mut conn, c.version_id)
        .unwrap()
        .unwrap();
    let units = amenda::store::units::for_version(&mut conn, v.meta.id).unwrap();
    let i = units
        .iter()
        .position(|u| u.kind == UnitKind::Article && u.num.as_deref() == Some(num))
        .unwrap();
    Art {
        wid: units[i].wid.clone(),
        paragraphs: units
            .iter()
            .filter(|u| u.kind == UnitKind::Paragraph && u.parent == Some(i))
            .map(|u| (u.wid.clone(), u.text(&v.markdown).to_string()))
            .collect(),
    }
}

fn open(store: &common::TestStore, id: ConsultationId) {
    let staff = person(store, "claire", 1);
    consultation::advance(store, &staff, id, &common::voting(store)).unwrap();
}

fn new<'a>(
    id: ConsultationId,
    target: Target<'a>,
    body: &'a str,
    token: &'a str,
) -> NewComment<'a> {
    NewComment {
        consultation_id: id,
        target,
        parent: None,
        quote: "",
        body,
        disclosure: Disclosure::Name,
        form_token: token,
    }
}

fn count(store: &common::TestStore, id: ConsultationId, wid: &str) -> usize {
    amenda::store::comments::for_article(&mut store.conn().unwrap(), id, wid)
        .unwrap()
        .len()
}

#[test]
fn commenting_follows_phase_level_quote_and_size_rules() {
    let store = common::test_store();
    let (id, art) = setup(&store, 3);
    let camille = person(&store, "camille", 2);
    let low = person(&store, "yanis", 1);
    let (para, para_text) = art.paragraphs.last().unwrap().clone();

    // Draft: not open yet.
    let e = comments::post(
        &store,
        &KEY,
        &camille,
        &new(id, Target::Unit(&art.wid), "Bien.", "tok-aaaaaaaaaaaaaaa1"),
    )
    .unwrap_err();
    assert!(
        matches!(e, ConsultationError::NotOpen(ref p) if *p == consultation::Phase::Draft),
        "{e}"
    );
    open(&store, id);

    // Below the comment level.
    let e = comments::post(
        &store,
        &KEY,
        &low,
        &new(id, Target::Unit(&art.wid), "Bien.", "tok-aaaaaaaaaaaaaaa2"),
    )
    .unwrap_err();
    assert!(
        matches!(e, ConsultationError::Level { needed: 2, have: 1 }),
        "{e}"
    );
    // Empty, oversized, a quote that is not in the paragraph, an unknown unit.
    for (body, quote, field, reason) in [
        (" \r\n ", "", "body", "err_comment_empty"),
        (
            &*"x".repeat(amenda::domain::comment::MAX_BODY_BYTES + 1),
            "",
            "body",
            "err_comment_too_long",
        ),
        (
            "Bien.",
            "des mots absents du texte",
            "quote",
            "err_comment_quote",
        ),
    ] {
        let mut c = new(id, Target::Unit(&para), body, "tok-aaaaaaaaaaaaaaa3");
        c.quote = quote;
        let e = comments::post(&store, &KEY, &camille, &c).unwrap_err();
        assert!(
            matches!(e, ConsultationError::Invalid { field: f, reason: r } if f == field && r == reason),
            "{body:.20} {quote}: {e}"
        );
    }
    let e = comments::post(
        &store,
        &KEY,
        &camille,
        &new(id, Target::Unit("nope"), "Bien.", "tok-aaaaaaaaaaaaaaa4"),
    )
    .unwrap_err();
    assert!(matches!(e, ConsultationError::NotFound), "{e}");
    assert_eq!(count(&store, id, &art.wid), 0, "nothing written");

    // On the article; on a paragraph with a quote (blank space compared loosely).
    let on_article = comments::post(
        &store,
        &KEY,
        &camille,
        &new(
            id,
            Target::Unit(&art.wid),
            "Un article utile.",
            "tok-bbbbbbbbbbbbbbb1",
        ),
    )
    .unwrap();
    assert_eq!(
        (
            on_article.unit_wid.as_str(),
            on_article.article_wid.as_str()
        ),
        (art.wid.as_str(), art.wid.as_str())
    );
    assert_eq!(on_article.author_label, "Camille Martin");
    let words: Vec<&str> = para_text.split_whitespace().skip(2).take(4).collect();
    let quote = format!("  {}\n", words.join("  "));
    let mut c = new(id, Target::Unit(&para), "Trop peu.", "tok-bbbbbbbbbbbbbbb2");
    c.quote = &quote;
    c.disclosure = Disclosure::Pseudonym;
    let on_para = comments::post(&store, &KEY, &camille, &c).unwrap();
    assert_eq!(on_para.unit_wid, para);
    assert_eq!(on_para.article_wid, art.wid, "counted with its article");
    assert_eq!(on_para.quote, words.join(" "));
    assert_eq!(
        on_para.author_label,
        amenda::domain::identity::pseudonym(&KEY, camille.account.id, "budget-participatif")
    );
    // The same form again: the same comment, nothing more.
    let again = comments::post(&store, &KEY, &camille, &c).unwrap();
    assert_eq!(again.id, on_para.id);
    assert_eq!(count(&store, id, &art.wid), 2);

    // The same form sent twice at once: one comment.
    let ids: Vec<CommentId> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..2)
            .map(|_| {
                s.spawn(|| {
                    let c = new(
                        id,
                        Target::Unit(&art.wid),
                        "En même temps.",
                        "tok-bbbbbbbbbbbbbbb3",
                    );
                    comments::post(&store, &KEY, &camille, &c).unwrap().id
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(ids[0], ids[1]);
    assert_eq!(count(&store, id, &art.wid), 3);

    // A reply; a reply to the reply is refused.
    let mut r = new(id, Target::Unit(""), "D'accord.", "tok-ccccccccccccccc1");
    r.parent = Some(on_para.id);
    let reply = comments::post(&store, &KEY, &low_enough(&store), &r).unwrap();
    assert_eq!(reply.parent_id, Some(on_para.id));
    assert_eq!(reply.unit_wid, para);
    let mut rr = new(id, Target::Unit(""), "Non.", "tok-ccccccccccccccc2");
    rr.parent = Some(reply.id);
    let e = comments::post(&store, &KEY, &camille, &rr).unwrap_err();
    assert!(
        matches!(e, ConsultationError::State("err_reply_depth")),
        "{e}"
    );
    assert_eq!(count(&store, id, &art.wid), 4);

    // Shown as threads, with the paragraph it is on.
    let c = amenda::store::consultations::by_id(&mut store.conn().unwrap(), id)
        .unwrap()
        .unwrap();
    let threads = comments::for_article(&store, &c, &art.wid).unwrap();
    assert_eq!(threads.len(), 3);
    assert_eq!(threads[0].paragraph, None);
    assert_eq!(threads[1].paragraph, Some(art.paragraphs.len()));
    assert_eq!(threads[1].replies.len(), 1);
    assert!(threads.iter().all(|t| t.earlier.is_none()));
    assert_eq!(
        amenda::store::comments::counts_by_article(&mut store.conn().unwrap(), id).unwrap(),
        vec![(art.wid.clone(), 4)]
    );

    // Voting: comments are closed.
    open(&store, id);
    let e = comments::post(
        &store,
        &KEY,
        &camille,
        &new(id, Target::Unit(&art.wid), "Tard.", "tok-ddddddddddddddd1"),
    )
    .unwrap_err();
    assert!(
        matches!(e, ConsultationError::NotOpen(ref p) if *p == consultation::Phase::Voting),
        "{e}"
    );
    assert_eq!(count(&store, id, &art.wid), 4);
}

fn low_enough(store: &common::TestStore) -> SessionInfo {
    person(store, "yanis", 2)
}

#[test]
fn comments_on_amendments_and_staff_answers() {
    let store = common::test_store();
    let (id, art) = setup(&store, 3);
    open(&store, id);
    let camille = person(&store, "camille", 2);
    let staff = person(&store, "claire", 1);
    let (_, _, a, sha) = consultation::article(&store, id, &art.wid)
        .map(|(c, s, a)| (c, s, a.body.clone(), a.sha256))
        .unwrap();
    let edited = a.replacen("Le conseil municipal", "Le conseil municipal seul", 1);
    let (amendment, _) = consultation::file(
        &store,
        &KEY,
        &camille,
        &consultation::Filing {
            kind: consultation::FilingKind::Edit,
            consultation_id: id,
            wid: &art.wid,
            article_sha256: &sha,
            text: &edited,
            justification: "",
            disclosure: Disclosure::Name,
            form_token: "tok-amendment-00001",
        },
    )
    .unwrap();
    let on_am = comments::post(
        &store,
        &KEY,
        &camille,
        &new(
            id,
            Target::Amendment(amendment.id),
            "Je soutiens.",
            "tok-eeeeeeeeeeeeeee1",
        ),
    )
    .unwrap();
    assert_eq!(on_am.amendment_id, Some(amendment.id));
    // Comments on amendments are not counted with the text's.
    assert_eq!(count(&store, id, &art.wid), 0);

    // A citizen cannot answer as the institution; staff can, on the comment and on the
    // amendment; an answer to a reply goes under the top comment.
    let mut ans = new(
        id,
        Target::Amendment(amendment.id),
        "Merci.",
        "tok-fffffffffffffff1",
    );
    ans.parent = Some(on_am.id);
    let e = comments::answer(&store, &KEY, &camille, &ans).unwrap_err();
    assert!(matches!(e, ConsultationError::Forbidden), "{e}");
    let answer = comments::answer(&store, &KEY, &staff, &ans).unwrap();
    assert_eq!(answer.kind, comments::CommentKind::Answer);
    assert_eq!(answer.parent_id, Some(on_am.id));
    assert_eq!(answer.author_label, "Claire Fontaine");
    let mut later = new(id, Target::Unit(""), "Et encore.", "tok-fffffffffffffff2");
    later.parent = Some(answer.id);
    let under_top = comments::answer(&store, &KEY, &staff, &later).unwrap();
    assert_eq!(under_top.parent_id, Some(on_am.id));
    let top = comments::answer(
        &store,
        &KEY,
        &staff,
        &new(
            id,
            Target::Amendment(amendment.id),
            "Avis de la commission.",
            "tok-fffffffffffffff3",
        ),
    )
    .unwrap();
    assert_eq!((top.kind.as_str(), top.parent_id), ("answer", None));
    let threads = comments::for_amendment(&store, &amendment).unwrap();
    assert_eq!(threads.len(), 2);
    assert_eq!(threads[0].replies.len(), 2);
}

#[test]
fn a_comment_follows_its_unit_to_a_newer_version() {
    let store = common::test_store();
    let (id, art) = setup(&store, 2);
    open(&store, id);
    let camille = person(&store, "camille", 2);
    let staff = person(&store, "claire", 1);
    // Article 2's last paragraph says "dernier compte administratif" in version 2 and
    // "dernier compte financier unique" in version 3.
    let (para, text) = art.paragraphs.last().unwrap().clone();
    assert!(text.contains("compte administratif"), "{text}");
    let mut gone = new(id, Target::Unit(&para), "Lequel ?", "tok-ggggggggggggggg1");
    gone.quote = "dernier compte administratif";
    let gone = comments::post(&store, &KEY, &camille, &gone).unwrap();
    let mut kept = new(id, Target::Unit(&para), "Trop peu.", "tok-ggggggggggggggg2");
    kept.quote = "2 % des dépenses réelles";
    let kept = comments::post(&store, &KEY, &camille, &kept).unwrap();

    amenda::service::consolidation::rebase(&store, &staff, id, 3).unwrap();
    let c = amenda::store::consultations::by_id(&mut store.conn().unwrap(), id)
        .unwrap()
        .unwrap();
    let threads = comments::for_article(&store, &c, &art.wid).unwrap();
    let find = |cid: CommentId| threads.iter().find(|t| t.top.id == cid).unwrap();
    assert_eq!(find(gone.id).earlier, Some(2), "its quote is gone");
    assert_eq!(find(gone.id).made_on, 2);
    assert_eq!(find(kept.id).earlier, None, "its quote is still there");
    assert_eq!(find(kept.id).paragraph, find(gone.id).paragraph);
    assert!(
        find(kept.id).paragraph.is_some(),
        "the paragraph kept its wid"
    );

    // The page says so, with the old quote.
    let client = pages::client(&store);
    let (status, page) = common::web::get(
        &client,
        &format!("/consultations/{id}/articles/{}", art.wid),
    );
    assert_eq!(status, rocket::http::Status::Ok);
    let block = page
        .split(&format!("id=\"comment-{}\"", gone.id))
        .nth(1)
        .unwrap();
    assert!(
        block.contains("On an earlier version (version 2)")
            && block.contains("dernier compte administratif"),
        "{block}"
    );
    let block = page
        .split(&format!("id=\"comment-{}\"", kept.id))
        .nth(1)
        .unwrap()
        .split("</li>")
        .next()
        .unwrap();
    assert!(!block.contains("earlier version"), "{block}");
    // A new quote must be in the current text: the old words are refused now.
    let mut stale = new(id, Target::Unit(&para), "Encore ?", "tok-ggggggggggggggg3");
    stale.quote = "dernier compte administratif";
    let e = comments::post(&store, &KEY, &camille, &stale).unwrap_err();
    assert!(
        matches!(e, ConsultationError::Invalid { field: "quote", .. }),
        "{e}"
    );
}

mod pages {
    use super::*;
    use amenda::web::{PseudonymKey, WebConfig};
    use common::web::{demo_client, get, post, sign_in};
    use rocket::http::{ContentType, Status};
    use rocket::local::blocking::Client;
    use std::time::Duration;

    pub fn client(store: &common::TestStore) -> Client {
        client_keeping(store, None)
    }

    /// A server whose anonymous pages are kept `live_pages` (None: the default).
    fn client_keeping(store: &common::TestStore, live_pages: Option<Duration>) -> Client {
        demo_client(
            store,
            WebConfig {
                pseudonym_key: Some(PseudonymKey(KEY.to_vec())),
                live_pages,
                ..WebConfig::default()
            },
        )
    }

    /// A server for anonymous reading that renders every request: the writes of these
    /// tests go through other servers (clients), which it would otherwise show up to a
    /// second late (see `an_anonymous_page_is_shared_for_a_moment`).
    pub fn reader(store: &common::TestStore) -> Client {
        client_keeping(store, Some(Duration::ZERO))
    }

    /// An anonymous visitor's consultation page is one rendering shared by every visitor
    /// for a moment (`live_pages`, one second by default): a comment made through another
    /// server shows when it has passed, and after any write this server answers the next
    /// visitor gets a new rendering. A signed-in person's page is always rendered for them.
    #[test]
    fn an_anonymous_page_is_shared_for_a_moment() {
        use rocket::http::Header;
        let store = common::test_store();
        let (id, art) = setup(&store, 3);
        open(&store, id);
        let page_url = format!("/consultations/{id}/articles/{}", art.wid);
        // Server A keeps its pages an hour, so that nothing below depends on timing.
        let a = client_keeping(&store, Some(Duration::from_secs(3600)));
        let res = a.get(page_url.as_str()).dispatch();
        assert_eq!(res.status(), Status::Ok);
        assert_eq!(res.headers().get_one("Cache-Control"), Some("no-cache"));
        let etag = res.headers().get_one("ETag").expect("an ETag").to_string();
        let before = res.into_string().unwrap();
        assert!(before.contains("id=\"no-comments\""));
        // A shared page carries nobody's CSRF token, though the visitor got one.
        let token = a
            .cookies()
            .get_private("amenda_csrf")
            .expect("a CSRF cookie");
        assert!(!before.contains(token.value()));

        // Server B: Camille comments, and sees it at once on a page made for her.
        let b = client(&store);
        sign_in(&b, "camille", 2);
        let (_, page) = get(&b, &page_url);
        let form = field(&page, "comment-form", "token");
        let para = &art.paragraphs[0].0;
        let (status, _, _) = post(
            &b,
            &format!("/consultations/{id}/comments"),
            &format!("token={form}&unit={para}&quote=&disclosure=name&body=Un+avis+partag%C3%A9"),
        );
        assert_eq!(status, Status::SeeOther);
        let res = b.get(page_url.as_str()).dispatch();
        assert_eq!(
            res.headers().get_one("Cache-Control"),
            Some("private, no-store")
        );
        assert!(res.into_string().unwrap().contains("Un avis partagé"));

        // On A, anonymous visitors share the earlier rendering meanwhile: same bytes,
        // and 304 to a revalidation.
        let (_, again) = get(&a, &page_url);
        assert_eq!(again, before);
        let res = a
            .get(page_url.as_str())
            .header(Header::new("If-None-Match", etag.clone()))
            .dispatch();
        assert_eq!(res.status(), Status::NotModified);

        // The same page whatever else the query holds (only the parameters the route
        // reads make the key): neither a new rendering nor a new entry.
        for extra in ["?utm_source=x", "?a=1&b=2", "?%61=1"] {
            let (_, same) = get(&a, &format!("{page_url}{extra}"));
            assert_eq!(same, before, "{extra}");
        }

        // Requests that write nothing leave A's pages as they are: an anonymous form
        // (sent to sign in), a POST to an unknown address, a form without its token.
        let res = a
            .post(format!("/consultations/{id}/comments"))
            .header(ContentType::Form)
            .body(format!("unit={para}&body=Faux"))
            .dispatch();
        assert_eq!(res.status(), Status::SeeOther);
        let res = a
            .post("/nowhere")
            .header(ContentType::Form)
            .body("x=1")
            .dispatch();
        assert_eq!(res.status(), Status::NotFound);
        assert_eq!(count(&store, id, &art.wid), 1);
        let res = a
            .get(page_url.as_str())
            .header(Header::new("If-None-Match", etag.clone()))
            .dispatch();
        assert_eq!(
            res.status(),
            Status::NotModified,
            "still the earlier rendering"
        );

        // A write A carries out makes its pages stale: the next visitor gets the page as
        // it is now (with both comments).
        sign_in(&a, "yanis", 2);
        let (_, page) = get(&a, &page_url);
        let form = field(&page, "comment-form", "token");
        let (status, _, _) = post(
            &a,
            &format!("/consultations/{id}/comments"),
            &format!("token={form}&unit={para}&quote=&disclosure=name&body=Un+second+avis"),
        );
        assert_eq!(status, Status::SeeOther);
        let (status, _, _) = post(&a, "/signout", "");
        assert_eq!(status, Status::SeeOther);
        let res = a
            .get(page_url.as_str())
            .header(Header::new("If-None-Match", etag.clone()))
            .dispatch();
        assert_eq!(res.status(), Status::Ok);
        assert_ne!(res.headers().get_one("ETag"), Some(etag.as_str()));
        let now = res.into_string().unwrap();
        assert!(now.contains("Un avis partagé") && now.contains("Un second avis"));
    }

    /// The value of hidden field `name` in the form with `id`.
    fn field(page: &str, form_id: &str, name: &str) -> String {
        page.split(&format!("id=\"{form_id}\""))
            .nth(1)
            .unwrap_or_else(|| panic!("no form {form_id}"))
            .split(&format!("name=\"{name}\" value=\""))
            .nth(1)
            .and_then(|s| s.split('"').next())
            .unwrap()
            .to_string()
    }

    /// Refusals that are not about the input — the level, the rate limit, the phase —
    /// also come back on the article page with what was typed, their own status, and a
    /// way forward when there is one.
    #[test]
    fn a_refused_comment_keeps_what_was_typed() {
        let store = common::test_store();
        let (id, art) = setup(&store, 3);
        open(&store, id);
        let page_url = format!("/consultations/{id}/articles/{}", art.wid);
        let comments = format!("/consultations/{id}/comments");
        let typed = "Mon+avis+longuement+m%C3%BBri";
        let kept = ">Mon avis longuement mûri</textarea>";
        let c = demo_client(
            &store,
            WebConfig {
                pseudonym_key: Some(PseudonymKey(KEY.to_vec())),
                moderation: amenda::config::ModerationConfig {
                    post_limit: "1/600".into(),
                    ..Default::default()
                },
                ..WebConfig::default()
            },
        );
        sign_in(&c, "camille", 2);
        let (_, page) = get(&c, &page_url);
        let token = field(&page, "comment-form", "token");

        // The session's level fell below the consultation's: 403, the text kept, and
        // a link to sign in again at level 2 and come back here.
        sign_in(&c, "camille", 1);
        let (status, page, _) = post(
            &c,
            &comments,
            &format!("token={token}&unit={}&body={typed}", art.wid),
        );
        assert_eq!(status, Status::Forbidden);
        assert!(page.contains(kept), "the text was lost");
        let link = page
            .split("id=\"comment-error-link\" href=\"")
            .nth(1)
            .unwrap();
        // (Handlebars escapes "=" in attributes; browsers read it back.)
        assert!(
            link.starts_with(&format!(
                "/signin?level&#x3D;2&amp;next&#x3D;/consultations/{id}/articles/{}\"",
                art.wid
            )),
            "{link:.80}"
        );
        assert_eq!(count(&store, id, &art.wid), 0);

        // Beyond the posting limit (1 attempt here, the refused one): 429, Retry-After,
        // the text kept.
        sign_in(&c, "camille", 2);
        let res = c
            .post(comments.clone())
            .header(ContentType::Form)
            .body(format!(
                "csrf={}&token={token}&unit={}&body={typed}",
                common::web::csrf(&c),
                art.wid
            ))
            .dispatch();
        assert_eq!(res.status(), Status::TooManyRequests);
        assert!(res.headers().get_one("Retry-After").is_some());
        assert!(res.into_string().unwrap().contains(kept));
        assert_eq!(count(&store, id, &art.wid), 0);

        // Voting has opened: no more comments (409), the text kept.
        let other = client(&store);
        sign_in(&other, "yanis", 2);
        let (_, page) = get(&other, &page_url);
        let token = field(&page, "comment-form", "token");
        open(&store, id);
        let (status, page, _) = post(
            &other,
            &comments,
            &format!("token={token}&unit={}&body={typed}", art.wid),
        );
        assert_eq!(status, Status::Conflict);
        assert!(page.contains(kept));
        assert_eq!(count(&store, id, &art.wid), 0);
    }

    #[test]
    fn comment_reply_and_answer_through_the_pages() {
        let store = common::test_store();
        let (id, art) = setup(&store, 3);
        open(&store, id);
        let page_url = format!("/consultations/{id}/articles/{}", art.wid);

        // Anonymous: the comments, and a way to sign in; no form.
        let anon = reader(&store);
        let (status, page) = get(&anon, &page_url);
        assert_eq!(status, Status::Ok);
        assert!(page.contains("id=\"no-comments\"") && page.contains("id=\"comments-refusal\""));
        assert!(!page.contains("id=\"comment-form\""));

        // Below the level: told so, no form.
        let low = client(&store);
        sign_in(&low, "yanis", 1);
        let (_, page) = get(&low, &page_url);
        assert!(
            page.contains("needs identity assurance level 2") && !page.contains("comment-form")
        );

        let cam = client(&store);
        sign_in(&cam, "camille", 2);
        let (_, page) = get(&cam, &page_url);
        let token = field(&page, "comment-form", "token");
        let para = &art.paragraphs[0].0;
        let body = format!(
            "token={token}&unit={para}&quote=&disclosure=name&body=**gras**+%3Cscript%3Ealert(1)%3C%2Fscript%3E+%3Cimg+src%3Dx+onerror%3Dalert(2)%3E"
        );
        // Without the CSRF token: refused, nothing written.
        let res = cam
            .post(format!("/consultations/{id}/comments"))
            .header(ContentType::Form)
            .body(body.clone())
            .dispatch();
        assert_eq!(res.status(), Status::Forbidden);
        assert_eq!(count(&store, id, &art.wid), 0);
        // Posted twice (a double submit): one comment.
        let (status, _, loc) = post(&cam, &format!("/consultations/{id}/comments"), &body);
        assert_eq!(status, Status::SeeOther);
        let loc = loc.unwrap();
        assert!(loc.starts_with(&format!("{page_url}#comment-")), "{loc}");
        let (_, _, again) = post(&cam, &format!("/consultations/{id}/comments"), &body);
        assert_eq!(again.as_deref(), Some(loc.as_str()));
        assert_eq!(count(&store, id, &art.wid), 1);

        // Shown to anyone, inert: markdown rendered, markup as text.
        let (_, page) = get(&anon, &page_url);
        let shown = page.split("class=\"comment-body\">").nth(1).unwrap();
        let shown = shown.split("</div>").next().unwrap();
        assert!(shown.contains("<strong>gras</strong>"), "{shown}");
        assert!(
            !page.contains("<script>alert") && !page.contains("<img"),
            "{shown}"
        );
        assert!(shown.contains("&lt;script&gt;"), "{shown}");
        assert!(page.contains("Paragraph 1") && page.contains("Camille Martin"));

        // Refusals come back next to the form, the input kept; nothing written.
        let (_, page) = get(&cam, &page_url);
        let t2 = field(&page, "comment-form", "token");
        let (status, page, _) = post(
            &cam,
            &format!("/consultations/{id}/comments"),
            &format!("token={t2}&unit={para}&quote=absent+du+texte&body=Bien+vu"),
        );
        assert_eq!(status, Status::UnprocessableEntity);
        let error = page.split("id=\"comment-error\">").nth(1).unwrap();
        assert!(
            error.starts_with("The quoted words are not in the text"),
            "{error:.80}"
        );
        assert!(page.contains("value=\"absent du texte\"") && page.contains(">Bien vu</textarea>"));
        assert!(page.contains(&format!("<option value=\"{para}\" selected>")));
        assert_eq!(field(&page, "comment-form", "token"), t2, "the same form");
        let (status, page, _) = post(
            &cam,
            &format!("/consultations/{id}/comments"),
            &format!("token={t2}&unit={para}&body=+"),
        );
        assert_eq!(status, Status::UnprocessableEntity);
        assert!(page.contains("The comment is empty."));
        assert_eq!(count(&store, id, &art.wid), 1);

        // Reply from the thread's form; staff answer; a citizen cannot use the answer form.
        let (_, page) = get(&cam, &page_url);
        let top: i64 = loc.rsplit("comment-").next().unwrap().parse().unwrap();
        let reply_token = page
            .split(&format!("name=\"parent\" value=\"{top}\""))
            .next()
            .unwrap()
            .rsplit("name=\"token\" value=\"")
            .next()
            .unwrap()
            .split('"')
            .next()
            .unwrap()
            .to_string();
        let (status, _, _) = post(
            &cam,
            &format!("/consultations/{id}/comments"),
            &format!("token={reply_token}&parent={top}&body=Je+pr%C3%A9cise&disclosure=pseudonym"),
        );
        assert_eq!(status, Status::SeeOther);
        let (status, _, _) = post(
            &cam,
            &format!("/consultations/{id}/answers"),
            &format!("token=tok-hhhhhhhhhhhhhhh1&parent={top}&body=Officiel"),
        );
        assert_eq!(status, Status::Forbidden);
        let staff = client(&store);
        sign_in(&staff, "claire", 1);
        let (_, page) = get(&staff, &page_url);
        assert!(page.contains("Answer as the institution"));
        let (status, _, _) = post(
            &staff,
            &format!("/consultations/{id}/answers"),
            &format!("token=tok-hhhhhhhhhhhhhhh2&parent={top}&body=La+commune+r%C3%A9pond"),
        );
        assert_eq!(status, Status::SeeOther);
        let (_, page) = get(&anon, &page_url);
        let thread = page.split(&format!("id=\"comment-{top}\"")).nth(1).unwrap();
        assert!(
            thread.contains("Answer from the institution") && thread.contains("La commune répond")
        );
        let pseudo = amenda::domain::identity::pseudonym(
            &KEY,
            amenda::service::identity::find_account(&mut store.conn().unwrap(), "demo:camille")
                .unwrap()
                .id,
            "budget-participatif",
        );
        assert!(thread.contains(&pseudo) && thread.contains("Je précise"));

        // The consultation page counts comments and amendments per article.
        let (_, page) = get(&anon, &format!("/consultations/{id}"));
        let row = page
            .split(&format!("/articles/{}#comments\">", art.wid))
            .nth(1)
            .unwrap();
        assert!(row.starts_with("3<"), "{row:.40}");
        let other = article(&store, id, "1er");
        let row = page
            .split(&format!("/articles/{}#comments\">", other.wid))
            .nth(1)
            .unwrap();
        assert!(row.starts_with("0<"), "{row:.40}");

        // JSON.
        let (status, json) = get(
            &anon,
            &format!("/api/v1/consultations/{id}/comments?article={}", art.wid),
        );
        assert_eq!(status, Status::Ok);
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(v["comments"].as_array().unwrap().len(), 1);
        assert_eq!(v["comments"][0]["unit"], para.as_str());
        assert_eq!(v["comments"][0]["replies"].as_array().unwrap().len(), 2);
        assert_eq!(v["comments"][0]["replies"][1]["kind"], "answer");
        assert_eq!(v["comments"][0]["earlier_version"], false);
        let (status, _) = get(&anon, &format!("/api/v1/consultations/{id}/comments"));
        assert_eq!(status, Status::BadRequest);
        let (status, _) = get(&anon, "/api/v1/consultations/999/comments?article=x");
        assert_eq!(status, Status::NotFound);
        let (status, _) = get(&anon, "/consultations/999/articles/x");
        assert_eq!(status, Status::NotFound);
    }

    #[test]
    fn comments_on_the_amendment_page() {
        let store = common::test_store();
        let (id, art) = setup(&store, 3);
        open(&store, id);
        let camille = person(&store, "camille", 2);
        let (_, _, a) = consultation::article(&store, id, &art.wid).unwrap();
        let edited = a
            .body
            .replacen("Le conseil municipal", "Le seul conseil municipal", 1);
        consultation::file(
            &store,
            &KEY,
            &camille,
            &consultation::Filing {
                kind: consultation::FilingKind::Edit,
                consultation_id: id,
                wid: &art.wid,
                article_sha256: &a.sha256,
                text: &edited,
                justification: "",
                disclosure: Disclosure::Name,
                form_token: "tok-amendment-00002",
            },
        )
        .unwrap();
        let url = "/bills/budget-participatif/amendments/1";
        let cam = client(&store);
        sign_in(&cam, "camille", 2);
        let (_, page) = get(&cam, url);
        let token = field(&page, "comment-form", "token");
        let amendment = field(&page, "comment-form", "amendment");
        let (status, _, loc) = post(
            &cam,
            &format!("/consultations/{id}/comments"),
            &format!("token={token}&amendment={amendment}&body=Je+soutiens"),
        );
        assert_eq!(status, Status::SeeOther);
        assert!(loc.unwrap().starts_with(&format!("{url}#comment-")));
        let staff = client(&store);
        sign_in(&staff, "claire", 1);
        let (_, page) = get(&staff, url);
        let token = field(&page, "answer-form", "token");
        let (status, _, _) = post(
            &staff,
            &format!("/consultations/{id}/answers"),
            &format!("token={token}&amendment={amendment}&body=Avis+favorable"),
        );
        assert_eq!(status, Status::SeeOther);
        let (_, page) = get(&client(&store), url);
        assert!(page.contains("Je soutiens") && page.contains("Avis favorable"));
        assert!(page.contains("Answer from the institution"));
        assert!(page.contains("Comments (2)"), "amendment comments shown");
        let (_, json) = get(
            &cam,
            &format!("/api/v1/consultations/{id}/comments?amendment=1"),
        );
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(v["amendment"], "AM-budget-participatif-1");
        assert_eq!(v["comments"].as_array().unwrap().len(), 2);
        // The article's text comments are not the amendment's.
        assert_eq!(count(&store, id, &art.wid), 0);
        // In French too.
        let fr = client(&store);
        fr.get("/lang/fr?next=/").dispatch();
        let (_, page) = get(&fr, url);
        assert!(
            page.contains("Commentaires (2)") && page.contains("Réponse de l&#x27;institution")
        );
        let (_, page) = get(&fr, &format!("/consultations/{id}/articles/{}", art.wid));
        assert!(
            page.contains("Aucun commentaire pour l&#x27;instant."),
            "{page}"
        );
    }
}
