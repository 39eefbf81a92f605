//! Copy-paste campaigns (issue 7): the clustering on the real French codes of
//! ../shared/corpus (or $AMENDA_CORPUS; skipped when the corpus is absent, unless
//! CI=true, where its absence is a failure) with a planted campaign, and the staff page
//! through Rocket's local client, on the backend chosen by AMENDA_TEST_DATABASE_URL.

use crate::common;
use amenda::domain::ids::ConsultationId;

use amenda::domain::similarity::{clusters, jaccard, normalise, shingles, Settings};
use amenda::service::campaigns;
use amenda::service::comments::{self, NewComment, Target};
use amenda::service::consultation::{
    self, ConsultationError, Disclosure, Filing, FilingKind, NewConsultation,
};
use amenda::service::identity::SessionInfo;
use common::fixtures::{self, person};
use std::path::PathBuf;
use std::process::Command;

const KEY: [u8; 32] = [3; 32];

// ---------------------------------------------------------------- the real corpus

fn corpus() -> Option<PathBuf> {
    let dir = std::env::var_os("AMENDA_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus"));
    if dir.join("cpi.bundle").is_file() {
        return Some(dir);
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!(
            "the corpus is required in CI and is missing at {}",
            dir.display()
        );
    }
    eprintln!(
        "skipped: no corpus at {} (set AMENDA_CORPUS)",
        dir.display()
    );
    None
}

/// The newest Code de la propriété intellectuelle of the corpus (read through a bare
/// clone of the bundle, never copied into the repository).
fn cpi(dir: &std::path::Path) -> String {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("r.git");
    let out = Command::new("git")
        .args(["clone", "--quiet", "--bare", "--no-tags"])
        .arg(dir.join("cpi.bundle"))
        .arg(&repo)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = Command::new("git")
        .arg("-C")
        .arg(&repo)
        .args(["show", "texte:code_de_la_propriété_intellectuelle.md"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The bodies of the articles of a code (the lines after an `Article` heading, up to the
/// next heading).
fn articles(md: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current: Option<String> = None;
    for line in md.lines() {
        let t = line.trim_start_matches('#');
        if t.len() < line.len() && t.starts_with(' ') {
            out.extend(current.take());
            if t.trim_start().starts_with("Article ") {
                current = Some(String::new());
            }
        } else if let Some(body) = current.as_mut() {
            if !line.trim().is_empty() {
                body.push_str(line.trim());
                body.push('\n');
            }
        }
    }
    out.extend(current);
    out
}

/// A citizens' text, reworded by each sender with small seeded edits.
const CAMPAIGN: &str = "Nous demandons que le budget participatif soit porté à dix pour \
    cent du budget d'investissement de la commune, que chaque quartier dispose d'une \
    enveloppe propre calculée selon sa population, et que les projets retenus soient \
    réalisés dans les deux ans qui suivent le vote, avec un bilan public présenté chaque \
    année devant le conseil municipal et les conseils de quartier.";

const WORDS: [&str; 12] = [
    "vraiment",
    "aussi",
    "notamment",
    "clairement",
    "également",
    "toujours",
    "enfin",
    "surtout",
    "bien",
    "rapidement",
    "pleinement",
    "ensemble",
];

/// xorshift64*: the same edits on every run.
struct Rng(u64);
impl Rng {
    fn next(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 33) as usize % n
    }
}

/// `base` with one to three small edits: a word replaced, a word added, a word dropped.
fn edited(base: &str, rng: &mut Rng) -> String {
    let mut words: Vec<&str> = base.split_whitespace().collect();
    for _ in 0..1 + rng.next(3) {
        let at = rng.next(words.len());
        match rng.next(3) {
            0 => words[at] = WORDS[rng.next(WORDS.len())],
            1 => words.insert(at, WORDS[rng.next(WORDS.len())]),
            _ => {
                words.remove(at);
            }
        }
    }
    words.join(" ")
}

/// 1,000 articles of the code, spread over the whole of it, with at least 20 words.
fn varied(md: &str) -> Vec<String> {
    let all: Vec<String> = articles(md)
        .into_iter()
        .filter(|a| a.split_whitespace().count() >= 20)
        .collect();
    assert!(all.len() >= 1_000, "{} articles", all.len());
    let step = all.len() as f64 / 1_000.0;
    (0..1_000)
        .map(|i| all[(i as f64 * step) as usize].clone())
        .collect()
}

#[test]
fn a_planted_campaign_is_one_cluster_among_real_articles() {
    let Some(dir) = corpus() else { return };
    let varied = varied(&cpi(&dir));
    let settings = Settings::default();

    // The real articles alone. The code genuinely repeats itself: the same provision is
    // written once for each title of industrial property (designs, patents, trademarks,
    // plant varieties…) and again in the regulatory part, changing only the title's name
    // and the article numbers ("Il est statué sur la demande d'inscription mentionnée aux
    // articles R. 512-15 …" / "… R. 613-55 …" / "… R. 714-4 …"). On these 1,000 articles
    // that makes 43 small groups (120 articles; the largest, of 6, is that very
    // sentence), printed below; no group is larger than a handful.
    let alone = clusters(&varied, &settings);
    for g in &alone {
        eprintln!("group of {} real articles:", g.len());
        for &i in g {
            eprintln!("  {}", varied[i].chars().take(100).collect::<String>());
        }
    }
    assert!(alone.iter().all(|g| g.len() <= 6), "{alone:?}");
    assert!(
        alone.iter().map(Vec::len).sum::<usize>() <= 120,
        "{alone:?}"
    );

    // 200 copies with small edits, spread among them.
    let mut rng = Rng(0x5eed_0000_0000_0007);
    let mut texts: Vec<(String, bool)> = varied.iter().map(|v| (v.clone(), false)).collect();
    for _ in 0..200 {
        let at = rng.next(texts.len() + 1);
        texts.insert(at, (edited(CAMPAIGN, &mut rng), true));
    }
    let planted: Vec<bool> = texts.iter().map(|(_, p)| *p).collect();
    let texts: Vec<String> = texts.into_iter().map(|(t, _)| t).collect();
    let found = clusters(&texts, &settings);
    let with_planted: Vec<&Vec<usize>> = found
        .iter()
        .filter(|g| g.iter().any(|&i| planted[i]))
        .collect();
    assert_eq!(with_planted.len(), 1, "one campaign, one group");
    let campaign = with_planted[0];
    assert!(
        campaign.iter().filter(|&&i| planted[i]).count() >= 195,
        "{} of 200",
        campaign.len()
    );
    assert!(
        campaign.iter().all(|&i| planted[i]),
        "no real article in the campaign"
    );
    assert_eq!(found[0], *campaign, "the campaign is the largest group");
    // The other groups are the ones of the real articles alone.
    assert_eq!(found.len(), alone.len() + 1);
}

/// 1,000 real articles no two of which are near-identical by the exact measure (Jaccard
/// of their shingles below the threshold, checked pair by pair: the brute-force oracle the
/// MinHash/LSH clustering approximates).
fn distinct(md: &str, settings: &Settings) -> Vec<String> {
    let all: Vec<String> = articles(md)
        .into_iter()
        .filter(|a| a.split_whitespace().count() >= 20)
        .collect();
    let mut kept: Vec<(String, Vec<u64>)> = Vec::new();
    for a in all {
        let sh = shingles(&normalise(&a), settings.shingle_words);
        if kept
            .iter()
            .all(|(_, k)| jaccard(k, &sh) < settings.threshold)
        {
            kept.push((a, sh));
            if kept.len() == 1_000 {
                break;
            }
        }
    }
    assert_eq!(kept.len(), 1_000, "not enough distinct articles");
    kept.into_iter().map(|(a, _)| a).collect()
}

#[test]
fn no_group_among_varied_articles_and_the_campaign_among_them_is_found() {
    let Some(dir) = corpus() else { return };
    let settings = Settings::default();
    let varied = distinct(&cpi(&dir), &settings);
    // No false group: none of these pairs is near-identical, and none is put together.
    assert_eq!(clusters(&varied, &settings), Vec::<Vec<usize>>::new());
    // With 200 near-identical copies planted among them: exactly one group, the campaign.
    let mut rng = Rng(0x5eed_0000_0000_0011);
    let mut texts: Vec<(String, bool)> = varied.iter().map(|v| (v.clone(), false)).collect();
    for _ in 0..200 {
        let at = rng.next(texts.len() + 1);
        texts.insert(at, (edited(CAMPAIGN, &mut rng), true));
    }
    let found = clusters(
        &texts.iter().map(|(t, _)| t.as_str()).collect::<Vec<_>>(),
        &settings,
    );
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].iter().all(|&i| texts[i].1), "only planted texts");
    assert!(found[0].len() >= 195, "{} of 200", found[0].len());
}

// ---------------------------------------------------------------- the staff page

/// Imports `laws/`, opens a consultation (levels 1, 1, 1) on version 3 of the
/// participatory-budget bill, in its amendment phase; returns it, article 3's wid, body
/// and hash.
fn setup(store: &common::TestStore) -> (ConsultationId, String, String, String) {
    fixtures::import_laws(store);
    let form = NewConsultation {
        title: "Consultation sur le budget participatif",
        description: "Donnez votre avis.",
        ..fixtures::consultation_form(3)
    };
    let id = fixtures::consultation(
        store,
        &person(store, "claire", 1),
        &form,
        amenda::domain::consultation::Phase::Amendments,
    );
    let a = fixtures::article(store, id, "3");
    (id, a.wid, a.body, a.sha256)
}

/// The counts of a levels row (`group-levels` or `rest-levels`) of the first group.
fn row(page: &str, class: &str) -> Vec<usize> {
    page.split(&format!("<tr class=\"{class}\">"))
        .nth(1)
        .unwrap_or_else(|| panic!("no row {class}"))
        .split("</tr>")
        .next()
        .unwrap()
        .split("<td>")
        .skip(1)
        .map(|c| c.split(' ').next().unwrap().parse().unwrap())
        .collect()
}

#[test]
fn staff_see_one_group_with_its_levels_and_citizens_are_refused() {
    use common::web::{demo_client, get, sign_in};
    use rocket::http::Status;

    let store = common::test_store();
    let (id, wid, body, sha) = setup(&store);
    let url = format!("/consultations/{id}/campaigns");
    let staff_client = demo_client(&store, amenda::web::WebConfig::default());
    sign_in(&staff_client, "claire", 1);
    let citizen_client = demo_client(&store, amenda::web::WebConfig::default());
    sign_in(&citizen_client, "camille", 2);

    // Nothing yet: the empty state.
    let (status, page) = get(&staff_client, &url);
    assert_eq!(status, Status::Ok);
    assert!(page.contains("id=\"no-campaigns\""), "{page}");
    assert!(page.contains("No group of near-identical contributions"));

    let camille = person(&store, "camille", 2);
    let yanis = person(&store, "yanis", 1);
    let dominique = person(&store, "dominique", 3);
    let admin = person(&store, "admin", 1);
    let first = body.split_whitespace().next().unwrap().to_string();
    let file = |who: &SessionInfo, text: &str, justification: &str, token: &str| {
        consultation::file(
            &store,
            &KEY,
            who,
            &Filing {
                kind: FilingKind::Edit,
                consultation_id: id,
                wid: &wid,
                article_sha256: &sha,
                text,
                justification,
                disclosure: Disclosure::Name,
                form_token: token,
            },
        )
        .unwrap()
        .0
    };
    let comment = |who: &SessionInfo, target: Target<'_>, text: &str, token: &str| {
        comments::post(
            &store,
            &KEY,
            who,
            &NewComment {
                consultation_id: id,
                target,
                parent: None,
                quote: "",
                body: text,
                disclosure: Disclosure::Name,
                form_token: token,
            },
        )
        .unwrap()
    };

    // The campaign: three amendments and two comments (one on the text, one on an
    // amendment), each sender changing a word or two; levels 2, 1, 3, 1, 1.
    let a1 = file(
        &camille,
        &body.replacen(&first, "Désormais,", 1),
        CAMPAIGN,
        "tok-campaign-000001",
    );
    file(
        &yanis,
        &body.replacen(&first, "Dorénavant,", 1),
        &CAMPAIGN.replace("dix pour cent", "douze pour cent"),
        "tok-campaign-000002",
    );
    file(
        &dominique,
        &body.replacen(&first, "Désormais,", 1),
        &CAMPAIGN.replace(" public", ""),
        "tok-campaign-000003",
    );
    comment(
        &yanis,
        Target::Unit(&wid),
        &CAMPAIGN.replace("Nous demandons", "Je demande"),
        "tok-campaign-000004",
    );
    comment(
        &admin,
        Target::Amendment(a1.id),
        &CAMPAIGN.replace("chaque année", "tous les ans"),
        "tok-campaign-000005",
    );
    // Two contributions of their own: levels 2 and 3.
    file(
        &camille,
        &body.replacen(&first, "Chaque année,", 1),
        "Une consultation annuelle suffit ; le texte actuel impose un rythme que les \
         services ne peuvent pas tenir.",
        "tok-campaign-000006",
    );
    comment(
        &dominique,
        Target::Unit(&wid),
        "Qui contrôle l'exécution des projets ? Le texte ne le dit nulle part.",
        "tok-campaign-000007",
    );

    // Through the service: one group of five.
    let found = campaigns::clusters(&store, &staff_who(&store), id).unwrap();
    assert_eq!(found.contributions, 7);
    assert_eq!(found.clusters.len(), 1, "{found:?}");
    let g = &found.clusters[0];
    assert_eq!(g.size, 5);
    assert_eq!(g.levels, [0, 3, 1, 1]);
    assert_eq!(g.rest_levels, [0, 0, 1, 1]);
    assert_eq!(
        g.members.iter().filter(|m| m.kind == "amendment").count(),
        3
    );
    assert!(g
        .members
        .iter()
        .any(|m| m.kind == "comment" && m.href.contains("/amendments/1#comment-")));
    assert!(matches!(
        campaigns::clusters(&store, &camille, id),
        Err(ConsultationError::Forbidden)
    ));

    // The page.
    let (status, page) = get(&staff_client, &url);
    assert_eq!(status, Status::Ok);
    assert!(!page.contains("id=\"no-campaigns\""));
    assert!(page.contains("id=\"campaign-1\"") && !page.contains("id=\"campaign-2\""));
    assert!(
        page.contains("Group 1: 5 near-identical contributions"),
        "{page}"
    );
    assert_eq!(row(&page, "group-levels"), vec![0, 3, 1, 1]);
    assert_eq!(row(&page, "rest-levels"), vec![0, 0, 1, 1]);
    assert!(page.contains("<caption>"), "tables have captions");
    assert!(page.contains("href=\"/bills/budget-participatif/amendments/1\""));
    assert!(page.contains(&format!(
        "href=\"/consultations/{id}/articles/{wid}#comment-"
    )));
    assert!(page.contains("Camille") && !page.contains("<script"));

    // In French.
    staff_client.get("/lang/fr?next=/").dispatch();
    let (_, page) = get(&staff_client, &url);
    assert!(
        page.contains("Groupe 1 : 5 contributions quasi identiques"),
        "{page}"
    );
    staff_client.get("/lang/en?next=/").dispatch();

    // Staff have a link from the consultation page; citizens neither the link nor the page.
    let (_, page) = get(&staff_client, &format!("/consultations/{id}"));
    assert!(page.contains("id=\"campaigns-link\""));
    let (_, page) = get(&citizen_client, &format!("/consultations/{id}"));
    assert!(!page.contains("id=\"campaigns-link\""));
    let (status, _) = get(&citizen_client, &url);
    assert_eq!(status, Status::Forbidden);
    // An unknown consultation: not found, for staff.
    let (status, _) = get(&staff_client, "/consultations/999999/campaigns");
    assert_eq!(status, Status::NotFound);
}

fn staff_who(store: &common::TestStore) -> SessionInfo {
    person(store, "claire", 1)
}
