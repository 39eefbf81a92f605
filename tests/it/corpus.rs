//! The real French codes of ../shared/corpus (or $AMENDA_CORPUS), with their whole
//! history: every version imports, article units match the article headings of the
//! file, unchanged articles keep their ids, diffs rebuild the new text exactly, and
//! duplicate article numbers stay distinct. Skipped when the corpus is absent, unless
//! CI=true, where its absence is a failure.

use crate::common;
use amenda::domain::ids::{AmendmentId, ConsultationId};

use amenda::domain::amendment::{self, article_body};
use amenda::service::import::import_git;
use amenda::service::Silent;
use amenda::store;
use amenda::text::diff::{apply_ops, compare_versions, own_text, Status};
use amenda::text::{Unit, UnitKind};
use std::path::PathBuf;

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

/// Article headings counted independently of the parser: a line of `#`s, a space, then
/// the word "Article" and a number.
fn article_headings(md: &str) -> usize {
    md.lines()
        .filter(|l| {
            let t = l.trim_start_matches('#');
            t.len() < l.len()
                && t.starts_with(' ')
                && t.split_whitespace()
                    .next()
                    .is_some_and(|w| w.eq_ignore_ascii_case("article"))
                && t.split_whitespace().nth(1).is_some()
        })
        .count()
}

/// A bare clone of a bundle, at `r.git` in the folder returned (read in place by
/// `import_git`, and by `git show`).
fn clone(bundle: &std::path::Path) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new("git")
        .args(["clone", "--quiet", "--bare", "--no-tags"])
        .arg(bundle)
        .arg(dir.path().join("r.git"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    dir
}

/// What `git ARGS` prints in `repo`.
fn git(repo: &std::path::Path, args: &[&str]) -> String {
    let out = std::process::Command::new("git")
        .arg("-C")
        .arg(repo)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn git_show(repo: &std::path::Path, rev: &str, file: &str) -> String {
    git(repo, &["show", &format!("{rev}:{file}")])
}

fn check_history(
    bundle: &str,
    file: &str,
    slug: &str,
    branch: &str,
    expected: usize,
    duplicate: &str,
) {
    let Some(dir) = corpus() else { return };
    let s = common::test_store();
    let repo = dir.join(bundle).display().to_string();
    let sum = import_git(&s, &repo, file, slug, Some(branch), None, &Silent)
        .unwrap_or_else(|e| panic!("{bundle}: {e}"));
    assert_eq!(sum.versions_added, expected, "{bundle}");
    assert!(
        sum.warnings
            .iter()
            .any(|w| w.contains(&format!("duplicate article number \"{duplicate}\""))),
        "{bundle}: no warning for {duplicate}"
    );

    let mut conn = s.conn().unwrap();
    let bill = store::bills::by_slug(&mut conn, slug).unwrap().unwrap();
    let metas = store::versions::list_meta(&mut conn, bill.id).unwrap();
    assert_eq!(metas.len(), expected);
    let mut prev: Option<(String, Vec<Unit>)> = None;
    let mut saw_duplicate = false;
    for m in &metas {
        let v = store::versions::by_number(&mut conn, bill.id, m.number)
            .unwrap()
            .unwrap();
        let units = store::units::for_version(&mut conn, m.id).unwrap();
        let md = v.markdown;
        let articles: Vec<&Unit> = units
            .iter()
            .filter(|u| u.kind == UnitKind::Article)
            .collect();
        assert_eq!(
            articles.len(),
            article_headings(&md),
            "{slug} version {}",
            m.number
        );
        // Ids are unique within a version.
        let mut wids: Vec<&str> = units.iter().map(|u| u.wid.as_str()).collect();
        wids.sort();
        wids.dedup();
        assert_eq!(
            wids.len(),
            units.len(),
            "{slug} version {}: duplicate wid",
            m.number
        );
        let mut eids: Vec<&str> = units.iter().map(|u| u.eid.as_str()).collect();
        eids.sort();
        eids.dedup();
        assert_eq!(
            eids.len(),
            units.len(),
            "{slug} version {}: duplicate eid",
            m.number
        );
        let dups: Vec<&&Unit> = articles
            .iter()
            .filter(|u| u.num.as_deref() == Some(duplicate))
            .collect();
        if dups.len() == 2 {
            saw_duplicate = true;
            assert_ne!(dups[0].wid, dups[1].wid);
        }

        if let Some((pmd, pu)) = &prev {
            let d = compare_versions(pmd, pu, &md, &units);
            let total_new = articles.len();
            assert_eq!(
                d.summary.added + d.summary.modified + d.summary.unchanged,
                total_new
            );
            for ch in &d.changes {
                let old = ch.old.map(|i| &pu[i]);
                let new = ch.new.map(|j| &units[j]);
                // The diff of every unit rebuilds its new text from its old text.
                let a = old.map(|u| own_text(pmd, u)).unwrap_or("");
                let b = new.map(|u| own_text(&md, u)).unwrap_or("");
                if ch.ops.is_empty() {
                    assert_eq!(
                        a, b,
                        "{slug} v{} {}: no operations, same text",
                        m.number, ch.wid
                    );
                } else {
                    assert_eq!(
                        apply_ops(a, &ch.ops).as_deref(),
                        Ok(b),
                        "{slug} v{} {}",
                        m.number,
                        ch.wid
                    );
                }
                if let (Some(o), Some(n)) = (old, new) {
                    if o.kind == UnitKind::Article {
                        assert_eq!(o.sha256 == n.sha256, ch.status == Status::Unchanged);
                    }
                    // Every real change of an article, written as amendment operations,
                    // gives the new text back, and each has a formal wording.
                    if o.kind == UnitKind::Article && o.sha256 != n.sha256 {
                        let (ob, nb) = (article_body(o.text(pmd)), article_body(n.text(&md)));
                        if ob != nb {
                            let ops = amendment::derive(&o.wid, ob, nb).unwrap();
                            assert_eq!(
                                amendment::apply(ob, &ops).as_deref(),
                                Ok(nb),
                                "{slug} v{} {}: amendment operations",
                                m.number,
                                o.wid
                            );
                            let num = n.num.as_deref().unwrap_or("?");
                            for op in &ops {
                                let w = amendment::wording(amendment::Wording::Fr, num, ob, op);
                                assert!(w.contains(num) && w.ends_with('.'), "{w}");
                            }
                        }
                    }
                }
            }
            // An article whose text did not change (same number, same text) keeps its id.
            for n in &articles {
                let same: Vec<&Unit> = pu
                    .iter()
                    .filter(|o| {
                        o.kind == UnitKind::Article && o.num == n.num && o.sha256 == n.sha256
                    })
                    .collect();
                if same.len() == 1 && articles.iter().filter(|x| x.num == n.num).count() == 1 {
                    assert_eq!(
                        same[0].wid, n.wid,
                        "{slug} v{}: {:?} lost its id",
                        m.number, n.num
                    );
                }
            }
        }
        prev = Some((md, units));
    }
    assert!(
        saw_duplicate,
        "{slug}: no version with two articles {duplicate}"
    );
    drop(conn);

    // Importing again adds nothing.
    let again = import_git(&s, &repo, file, slug, Some(branch), None, &Silent).unwrap();
    assert_eq!(again.versions_added, 0);
    assert_eq!(again.versions_unchanged, expected);
}

#[test]
fn cpi_whole_history() {
    check_history(
        "cpi.bundle",
        "code_de_la_propriété_intellectuelle.md",
        "cpi",
        "texte",
        198,
        "L611-19",
    );
}

#[test]
fn reglement_an_whole_history() {
    check_history(
        "reglement_an.bundle",
        "règlement.md",
        "reglement-an",
        "historique",
        120,
        "21",
    );
}

// ---------------------------------------------------------------- oracles
//
// Real reforms turned into citizens' amendments: one per changed article (its text
// edited), per repealed article, and per run of new articles (with any new division),
// filed through `service::consultation::file` like any citizen's, ruled admissible,
// adopted, consolidated. The consolidated version must equal the real new text.

mod oracle {
    use super::*;
    use amenda::domain::amendment::{self as am, Operation};
    use amenda::service::consolidation;
    use amenda::service::consultation::{self, Disclosure, Filing, FilingKind, NewConsultation};
    use amenda::service::disposition::{rule, Ruling};
    use amenda::service::identity::SessionInfo;
    use amenda::text::{assign_wids, parse, WidAllocator};
    use common::fixtures::person;
    use std::collections::{HashMap, HashSet};

    const KEY: [u8; 32] = [9; 32];

    fn heading_line<'a>(md: &'a str, u: &Unit) -> &'a str {
        u.text(md).lines().next().unwrap_or("")
    }

    /// What turns `old` into `new`, as amendments a citizen can file.
    #[derive(Default)]
    pub struct Plan {
        /// (article wid, its new body)
        pub edits: Vec<(String, String)>,
        pub repeals: Vec<String>,
        /// (unit the run follows, the run's markdown)
        pub inserts: Vec<(String, String)>,
    }

    pub fn plan(old_md: &str, old_units: &[Unit], new_md: &str) -> Plan {
        let mut new_units = parse(new_md).units;
        assign_wids(
            Some((old_md, old_units)),
            new_md,
            &mut new_units,
            &mut WidAllocator::new(1 << 40),
        );
        let old_pos: HashMap<&str, usize> = old_units
            .iter()
            .enumerate()
            .filter(|(_, u)| u.kind != UnitKind::Paragraph)
            .map(|(i, u)| (u.wid.as_str(), i))
            .collect();
        // Units kept in place: same kind and heading line, in the same order; found by
        // id, else by heading among the next old units (a new division may have taken
        // the id of an old one with a similar heading).
        let old_top: Vec<usize> = {
            let mut v: Vec<usize> = old_pos.values().copied().collect();
            v.sort_unstable();
            v
        };
        let mut used: HashSet<usize> = HashSet::new();
        // new unit index -> old unit index
        let mut kept: HashMap<usize, usize> = HashMap::new();
        let mut last: Option<usize> = None;
        for (ni, u) in new_units
            .iter()
            .enumerate()
            .filter(|(_, u)| u.kind != UnitKind::Paragraph)
        {
            let same = |j: usize| {
                let o = &old_units[j];
                o.kind == u.kind && heading_line(old_md, o) == heading_line(new_md, u)
            };
            let after_last = |j: usize| last.is_none_or(|l| j > l);
            let by_wid = old_pos
                .get(u.wid.as_str())
                .copied()
                .filter(|&j| same(j) && after_last(j) && !used.contains(&j));
            let found = by_wid.or_else(|| {
                old_top
                    .iter()
                    .copied()
                    .filter(|&j| after_last(j) && !used.contains(&j))
                    .take(50)
                    .find(|&j| same(j))
            });
            if let Some(j) = found {
                kept.insert(ni, j);
                used.insert(j);
                last = Some(j);
            }
        }
        for (j, o) in old_units
            .iter()
            .enumerate()
            .filter(|(_, o)| o.kind == UnitKind::Division)
        {
            assert!(
                used.contains(&j),
                "a division changed, which amendments cannot express: {}",
                heading_line(old_md, o)
            );
        }
        let mut p = Plan::default();
        for (ni, u) in new_units
            .iter()
            .enumerate()
            .filter(|(_, u)| u.kind == UnitKind::Article)
        {
            if let Some(&j) = kept.get(&ni) {
                let o = &old_units[j];
                let (ob, nb) = (article_body(o.text(old_md)), article_body(u.text(new_md)));
                if ob != nb {
                    p.edits.push((o.wid.clone(), nb.to_string()));
                }
            }
        }
        for (j, o) in old_units
            .iter()
            .enumerate()
            .filter(|(_, u)| u.kind == UnitKind::Article)
        {
            if !used.contains(&j) {
                p.repeals.push(o.wid.clone());
            }
        }
        let mut after: Option<&str> = None;
        let mut run: Option<(usize, usize)> = None;
        let flush = |after: Option<&str>, run: &mut Option<(usize, usize)>, p: &mut Plan| {
            if let Some((s, e)) = run.take() {
                let after = after.expect("new units before any kept unit");
                p.inserts
                    .push((after.to_string(), new_md[s..e].to_string()));
            }
        };
        for (ni, u) in new_units
            .iter()
            .enumerate()
            .filter(|(_, u)| u.kind != UnitKind::Paragraph)
        {
            if let Some(&j) = kept.get(&ni) {
                flush(after, &mut run, &mut p);
                after = Some(old_units[j].wid.as_str());
            } else {
                run = Some(match run {
                    Some((s, e)) => (s, e.max(u.end)),
                    None => (u.start, u.end),
                });
            }
        }
        flush(after, &mut run, &mut p);
        p
    }

    /// The units of a text as a reader sees them: kind, number, heading, and text (an
    /// article's body; a paragraph's text).
    pub fn shape(md: &str) -> Vec<(UnitKind, Option<String>, Option<String>, String)> {
        parse(md)
            .units
            .iter()
            .map(|u| {
                let text = match u.kind {
                    UnitKind::Article => article_body(u.text(md)).to_string(),
                    _ => u.text(md).to_string(),
                };
                (u.kind, u.num.clone(), u.heading.clone(), text)
            })
            .collect()
    }

    pub struct Setup {
        pub store: common::TestStore,
        pub consultation: ConsultationId,
        pub staff: SessionInfo,
        pub citizen: SessionInfo,
    }

    /// Imports `repo` up to `rev` as bill `slug` and opens a consultation on its last
    /// version, open for amendments.
    pub fn setup(repo: &std::path::Path, file: &str, slug: &str, rev: &str) -> Setup {
        let store = common::test_store();
        import_git(
            &store,
            &repo.display().to_string(),
            file,
            slug,
            Some(rev),
            None,
            &Silent,
        )
        .unwrap();
        let staff = person(&store, "claire", 2);
        let citizen = person(&store, "camille", 2);
        let latest = {
            let mut conn = store.conn().unwrap();
            let bill = store::bills::by_slug(&mut conn, slug).unwrap().unwrap();
            store::versions::max_number(&mut conn, bill.id)
                .unwrap()
                .unwrap()
        };
        let consultation = consultation::open(
            &store,
            &staff,
            &NewConsultation {
                bill_slug: slug,
                version: latest,
                title: "Réforme",
                description: "",
                opens_on: "2026-12-01",
                closes_on: "2027-01-31",
                levels: [1, 1, 2],
            },
        )
        .unwrap();
        consultation::advance(&store, &staff, consultation, &common::voting(&store)).unwrap();
        Setup {
            store,
            consultation,
            staff,
            citizen,
        }
    }

    /// The consultation's version: text and units.
    pub fn current(s: &Setup) -> (String, Vec<Unit>) {
        let mut conn = s.store.conn().unwrap();
        let c = store::consultations::by_id(&mut conn, s.consultation)
            .unwrap()
            .unwrap();
        let v = store::versions::by_id(&mut conn, c.version_id)
            .unwrap()
            .unwrap();
        let units = store::units::for_version(&mut conn, v.meta.id).unwrap();
        (v.markdown, units)
    }

    pub fn file(s: &Setup, units: &[Unit], wid: &str, kind: FilingKind, text: &str) -> AmendmentId {
        static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let sha = &units.iter().find(|u| u.wid == wid).unwrap().sha256;
        let token = format!("oracle-token-{n:08}-{}", std::process::id());
        consultation::file(
            &s.store,
            &KEY,
            &s.citizen,
            &Filing {
                kind,
                consultation_id: s.consultation,
                wid,
                article_sha256: sha,
                text,
                justification: "Réforme.",
                disclosure: Disclosure::Pseudonym,
                form_token: &token,
            },
        )
        .unwrap_or_else(|e| panic!("filing on {wid}: {e}"))
        .0
        .id
    }

    /// Files the plan, adopts every amendment (none falls), consolidates; returns the
    /// consolidated text and the number of amendments.
    pub fn amend_adopt_consolidate(s: &Setup, target: &str) -> (String, usize) {
        let (md, units) = current(s);
        let p = plan(&md, &units, target);
        let mut ids = Vec::new();
        for (wid, body) in &p.edits {
            ids.push(file(s, &units, wid, FilingKind::Edit, body));
        }
        for wid in &p.repeals {
            ids.push(file(s, &units, wid, FilingKind::RepealArticle, ""));
        }
        for (after, run) in &p.inserts {
            ids.push(file(s, &units, after, FilingKind::InsertAfter, run));
        }
        for id in &ids {
            rule(&s.store, &s.staff, *id, Ruling::Admissible).unwrap();
        }
        consultation::advance(
            &s.store,
            &s.staff,
            s.consultation,
            &common::voting(&s.store),
        )
        .unwrap();
        for id in &ids {
            let fallen = rule(&s.store, &s.staff, *id, Ruling::Adopted).unwrap();
            assert!(fallen.is_empty(), "{id} made {fallen:?} fall");
        }
        consultation::advance(
            &s.store,
            &s.staff,
            s.consultation,
            &common::voting(&s.store),
        )
        .unwrap();
        let number = consolidation::consolidate(&s.store, &s.staff, s.consultation).unwrap();
        let mut conn = s.store.conn().unwrap();
        let c = store::consultations::by_id(&mut conn, s.consultation)
            .unwrap()
            .unwrap();
        let v = store::versions::by_number(&mut conn, c.bill_id, number)
            .unwrap()
            .unwrap();
        // Every span is written by one of the adopted amendments.
        let spans = store::consolidations::spans(&mut conn, v.meta.id).unwrap();
        assert!(!spans.is_empty());
        assert!(spans.iter().all(|s| ids.contains(&s.amendment_id)));
        let written: HashSet<AmendmentId> = spans.iter().map(|s| s.amendment_id).collect();
        assert_eq!(written.len(), ids.len(), "every amendment wrote something");
        (v.markdown, ids.len())
    }

    pub fn assert_same_text(got: &str, want: &str) {
        let (g, w) = (shape(got), shape(want));
        for (i, (a, b)) in g.iter().zip(&w).enumerate() {
            assert_eq!(a, b, "unit {i} differs");
        }
        assert_eq!(g.len(), w.len(), "number of units");
    }

    /// Oracle 1: the 2019 reform of the Règlement de l'Assemblée nationale.
    #[test]
    fn reglement_an_reform_2019_through_amendments() {
        let Some(dir) = corpus() else { return };
        let repo = clone(&dir.join("reglement_an.bundle"));
        let repo = repo.path().join("r.git");
        let file = "règlement.md";
        let s = setup(&repo, file, "reglement-an", "historique");
        let target = git_show(&repo, "reforme-2019", file);
        let (got, n) = amend_adopt_consolidate(&s, &target);
        assert!(n >= 10, "{n} amendments");
        assert_same_text(&got, &target);
    }

    /// The CPI versions of oracle 2 (two consecutive commits of branch `texte`: 85
    /// articles changed, 19 added, 3 repealed, one new division).
    const CPI_FROM: &str = "671b58396babfdfc9b10a07124719abd9ab40063";
    const CPI_TO: &str = "3d6047de181c801dc24fe62f04556e3679d0b185";
    const CPI_FILE: &str = "code_de_la_propriété_intellectuelle.md";

    /// Oracle 2: two consecutive versions of the CPI.
    #[test]
    fn cpi_consecutive_versions_through_amendments() {
        let Some(dir) = corpus() else { return };
        let repo = clone(&dir.join("cpi.bundle"));
        let repo = repo.path().join("r.git");
        let s = setup(&repo, CPI_FILE, "cpi", CPI_FROM);
        let target = git_show(&repo, CPI_TO, CPI_FILE);
        let (got, n) = amend_adopt_consolidate(&s, &target);
        assert!(n >= 50, "{n} amendments");
        assert_same_text(&got, &target);
    }

    /// Words of a text with their byte ranges.
    fn words(s: &str) -> Vec<(usize, usize)> {
        let mut out = Vec::new();
        let mut start = None;
        for (i, c) in s.char_indices() {
            match (c.is_alphabetic(), start) {
                (true, None) => start = Some(i),
                (false, Some(b)) => {
                    out.push((b, i));
                    start = None;
                }
                _ => {}
            }
        }
        if let Some(b) = start {
            out.push((b, s.len()));
        }
        out
    }

    /// Rebase on real data: amendments filed on one CPI version are carried to the next,
    /// where the articles they target did not change (automatic), changed around the
    /// quote (three-way merge, proposed to the author, who accepts), or were rewritten
    /// or repealed (to redraft).
    #[test]
    fn cpi_rebase_onto_the_next_version() {
        let Some(dir) = corpus() else { return };
        let repo = clone(&dir.join("cpi.bundle"));
        let repo = repo.path().join("r.git");
        let s = setup(&repo, CPI_FILE, "cpi", CPI_FROM);
        let (old_md, old_units) = current(&s);
        // The next version, imported while amendments are pending.
        import_git(
            &s.store,
            &repo.display().to_string(),
            CPI_FILE,
            "cpi",
            Some(CPI_TO),
            None,
            &Silent,
        )
        .unwrap();
        let (new_md, new_units) = {
            let mut conn = s.store.conn().unwrap();
            let bill = store::bills::by_slug(&mut conn, "cpi").unwrap().unwrap();
            let v = store::versions::latest(&mut conn, bill.id)
                .unwrap()
                .unwrap();
            let u = store::units::for_version(&mut conn, v.meta.id).unwrap();
            (v.markdown, u)
        };
        let body = |md: &str, units: &[Unit], wid: &str| -> Option<String> {
            units
                .iter()
                .find(|u| u.wid == wid && u.kind == UnitKind::Article)
                .map(|u| article_body(u.text(md)).to_string())
        };
        let articles: Vec<&Unit> = old_units
            .iter()
            .filter(|u| u.kind == UnitKind::Article)
            .collect();

        // Unchanged articles: an edit and a repeal, carried automatically.
        let unchanged: Vec<&Unit> = articles
            .iter()
            .copied()
            .filter(|u| {
                body(&new_md, &new_units, &u.wid).as_deref() == Some(article_body(u.text(&old_md)))
                    && !article_body(u.text(&old_md)).is_empty()
            })
            .take(2)
            .collect();
        let ob = article_body(unchanged[0].text(&old_md));
        let first = words(ob)[0];
        let edited = format!("{}Désormais{}", &ob[..first.0], &ob[first.1..]);
        let automatic = file(&s, &old_units, &unchanged[0].wid, FilingKind::Edit, &edited);
        let repeal = file(
            &s,
            &old_units,
            &unchanged[1].wid,
            FilingKind::RepealArticle,
            "",
        );

        // Changed articles: a word just before a change, found twice in the new text
        // (three-way); a word the new version rewrote (to redraft).
        let mut three_way: Option<(AmendmentId, String, String)> = None;
        let mut redraft: Option<AmendmentId> = None;
        for u in &articles {
            let ob = article_body(u.text(&old_md));
            let Some(nb) = body(&new_md, &new_units, &u.wid) else {
                continue;
            };
            if ob == nb || ob.len() > 20_000 {
                continue;
            }
            let theirs = am::derive(&u.wid, ob, &nb).unwrap();
            let spans: Vec<(usize, usize, isize)> = theirs
                .iter()
                .filter_map(|o| {
                    let a = o.anchor()?;
                    let n = match o {
                        Operation::Substitute { text, .. } | Operation::Insert { text, .. } => {
                            text.len()
                        }
                        _ => 0,
                    };
                    Some((a.start, a.end, n as isize - (a.end - a.start) as isize))
                })
                .collect();
            for &(ws, we) in &words(ob) {
                let w = &ob[ws..we];
                if w.len() < 3 {
                    continue;
                }
                let clear = spans.iter().all(|&(hs, he, _)| we + 1 < hs || ws > he + 1);
                let near = spans.iter().any(|&(hs, _, _)| we + 1 < hs && hs <= we + 30);
                if three_way.is_none() && clear && near && nb.matches(w).count() >= 2 {
                    let mine = format!("{}ZZZ{}", &ob[..ws], &ob[we..]);
                    let shift: isize = spans
                        .iter()
                        .filter(|&&(_, he, _)| he <= ws)
                        .map(|&(_, _, d)| d)
                        .sum();
                    let p = (ws as isize + shift) as usize;
                    assert_eq!(&nb[p..p + w.len()], w);
                    let expected = format!("{}ZZZ{}", &nb[..p], &nb[p + w.len()..]);
                    let id = file(&s, &old_units, &u.wid, FilingKind::Edit, &mine);
                    three_way = Some((id, u.wid.clone(), expected));
                    break;
                }
                let inside = spans
                    .iter()
                    .any(|&(hs, he, _)| hs <= ws && we <= he && hs < he);
                if redraft.is_none() && inside && !nb.contains(w) {
                    let mine = format!("{}ZZZ{}", &ob[..ws], &ob[we..]);
                    redraft = Some(file(&s, &old_units, &u.wid, FilingKind::Edit, &mine));
                    break;
                }
            }
            if three_way.is_some() && redraft.is_some() {
                break;
            }
        }
        let (three_way, tw_wid, expected) = three_way.expect("a three-way case in this pair");
        let redraft = redraft.expect("a rewritten case in this pair");
        // An article the new version repealed.
        let gone = articles
            .iter()
            .find(|u| body(&new_md, &new_units, &u.wid).is_none())
            .expect("a repealed article");
        let on_gone = file(&s, &old_units, &gone.wid, FilingKind::RepealArticle, "");

        let latest = {
            let mut conn = s.store.conn().unwrap();
            let bill = store::bills::by_slug(&mut conn, "cpi").unwrap().unwrap();
            store::versions::max_number(&mut conn, bill.id)
                .unwrap()
                .unwrap()
        };
        let summary = consolidation::rebase(&s.store, &s.staff, s.consultation, latest).unwrap();
        let mut carried = summary.carried.clone();
        carried.sort();
        assert_eq!(carried, vec![automatic, repeal]);
        assert_eq!(summary.proposed, vec![three_way]);
        let mut redrafts = summary.redraft.clone();
        redrafts.sort();
        let mut want = vec![redraft, on_gone];
        want.sort();
        assert_eq!(redrafts, want);

        // The carried edit applies to the new text; the proposal waits for its author.
        let ops_of = |id: AmendmentId| -> (i32, Vec<Operation>) {
            let mut conn = s.store.conn().unwrap();
            let a = store::amendments::by_id(&mut conn, id).unwrap().unwrap();
            let r = store::amendments::revision(&mut conn, id, a.revision)
                .unwrap()
                .unwrap();
            (a.revision, serde_json::from_str(&r.operations).unwrap())
        };
        let (rev, ops) = ops_of(automatic);
        assert_eq!(rev, 2);
        let nb = body(&new_md, &new_units, &unchanged[0].wid).unwrap();
        assert_eq!(am::apply(&nb, &ops).unwrap(), edited);
        assert_eq!(ops_of(three_way).0, 1);
        let other = person(&s.store, "yanis", 2);
        assert!(consolidation::accept_rebase(&s.store, &other, three_way).is_err());
        assert!(consolidation::accept_rebase(&s.store, &s.citizen, three_way).unwrap());
        let (rev, ops) = ops_of(three_way);
        assert_eq!(rev, 2);
        let nb = body(&new_md, &new_units, &tw_wid).unwrap();
        assert_eq!(am::apply(&nb, &ops).unwrap(), expected);
        assert!(!consolidation::accept_rebase(&s.store, &s.citizen, three_way).unwrap());
        assert_eq!(
            ops_of(redraft).0,
            1,
            "an amendment to redraft is left as written"
        );
    }
}

// ---------------------------------------------------------------- renumberings
//
// The matcher links an article that lost its number to a new one only when it is
// clearly the same article (docs/markdown.md, "Renumbering"): a wrong link carries
// comments, amendments and history to an unrelated article.

mod renumbering {
    use super::*;
    use amenda::text::matching::{article_body, word_similarity};
    use amenda::text::{assign_wids, parse, WidAllocator};
    use std::collections::{BTreeMap, BTreeSet};

    /// The versions of `file` on `branch` of a bundle, oldest first.
    fn history(bundle: &std::path::Path, branch: &str, file: &str) -> Vec<String> {
        let dir = clone(bundle);
        let repo = dir.path().join("r.git");
        git(
            &repo,
            &["log", "--reverse", "--format=%H", branch, "--", file],
        )
        .lines()
        .map(|rev| git_show(&repo, rev, file))
        .collect()
    }

    /// Every renumbering the matcher makes over a history, with its similarity:
    /// (old number, new number) → (score, the new version's index).
    fn renumberings(versions: &[String]) -> BTreeMap<(String, String), (f32, usize)> {
        let mut alloc = WidAllocator::new(1);
        let mut prev: Option<(&str, Vec<Unit>)> = None;
        let mut found = BTreeMap::new();
        for (n, md) in versions.iter().enumerate() {
            let mut units = parse(md).units;
            assign_wids(
                prev.as_ref().map(|(m, u)| (*m, u.as_slice())),
                md,
                &mut units,
                &mut alloc,
            );
            if let Some((pmd, pu)) = &prev {
                let old_by_wid: BTreeMap<&str, &Unit> =
                    pu.iter().map(|u| (u.wid.as_str(), u)).collect();
                for u in units.iter().filter(|u| u.kind == UnitKind::Article) {
                    let Some(o) = old_by_wid.get(u.wid.as_str()) else {
                        continue;
                    };
                    let (from, to) = (o.num.clone().unwrap_or_default(), u.num.clone());
                    if Some(&from) != to.as_ref() {
                        let score = word_similarity(article_body(pmd, o), article_body(md, u));
                        found.insert((from, to.unwrap_or_default()), (score, n));
                    }
                }
            }
            prev = Some((md, units));
        }
        found
    }

    /// The hand-checked pairs of `fixtures/renumberings.tsv` for a bundle: (same, different).
    type Pairs = BTreeSet<(String, String)>;
    fn oracle(bundle: &str) -> (Pairs, Pairs) {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/renumberings.tsv");
        let (mut same, mut different) = (BTreeSet::new(), BTreeSet::new());
        for line in std::fs::read_to_string(path).unwrap().lines() {
            if line.starts_with('#') || line.trim().is_empty() {
                continue;
            }
            let f: Vec<&str> = line.split('\t').collect();
            assert!(f.len() >= 4, "fixtures/renumberings.tsv: {line:?}");
            if f[0] != bundle {
                continue;
            }
            let pair = (f[1].to_string(), f[2].to_string());
            match f[3] {
                "same" => same.insert(pair),
                "different" => different.insert(pair),
                v => panic!("fixtures/renumberings.tsv: verdict {v:?}"),
            };
        }
        (same, different)
    }

    fn check(bundle: &str, branch: &str, file: &str) {
        let Some(dir) = corpus() else { return };
        let versions = history(&dir.join(bundle), branch, file);
        let found = renumberings(&versions);
        // The listing, for review: every link with its score.
        let listing: String = found
            .iter()
            .map(|((from, to), (score, n))| format!("v{n}\t{score:.2}\t{from}\t{to}\n"))
            .collect();
        let out = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("target")
            .join(format!("renumberings-{bundle}.tsv"));
        let _ = std::fs::write(&out, &listing);
        eprintln!("{bundle}: {} renumberings\n{listing}", found.len());

        let (same, different) = oracle(bundle);
        assert!(
            !same.is_empty() && !different.is_empty(),
            "{bundle}: oracle read"
        );
        for pair in &same {
            assert!(
                found.contains_key(pair),
                "{bundle}: {pair:?} is one article renumbered, not linked"
            );
        }
        for pair in &different {
            assert!(
                !found.contains_key(pair),
                "{bundle}: {pair:?} are different articles, linked with score {:.2}",
                found[pair].0
            );
        }
        let unchecked: Vec<String> = found
            .iter()
            .filter(|(pair, _)| !same.contains(*pair))
            .map(|((from, to), (score, n))| format!("v{n} {from} → {to} ({score:.2})"))
            .collect();
        assert!(
            unchecked.is_empty(),
            "{bundle}: renumberings not checked by hand (read both texts, then add them to \
             fixtures/renumberings.tsv): {unchecked:?}"
        );
        // Each link the matcher makes meets its own rule.
        for ((from, to), (score, n)) in &found {
            assert!(
                *score >= 0.6,
                "{bundle} v{n} {from} → {to}: score {score:.2}"
            );
        }
    }

    #[test]
    fn cpi_renumberings_are_the_hand_checked_ones() {
        check(
            "cpi.bundle",
            "texte",
            "code_de_la_propriété_intellectuelle.md",
        );
    }

    #[test]
    fn reglement_renumberings_are_the_hand_checked_ones() {
        check("reglement_an.bundle", "historique", "règlement.md");
    }

    /// An article renumbered in a version where it stands alone: does the matcher link
    /// old `a` (numbered X) to new `b` (numbered Y)?
    fn linked(a: &str, b: &str) -> bool {
        let old = format!("## Article 9001\n\n{a}\n");
        let new = format!("## Article 9002\n\n{b}\n");
        let mut alloc = WidAllocator::new(1);
        let mut ou = parse(&old).units;
        assign_wids(None, &old, &mut ou, &mut alloc);
        let mut nu = parse(&new).units;
        assign_wids(Some((&old, &ou)), &new, &mut nu, &mut alloc);
        ou[0].wid == nu[0].wid
    }

    /// Two real articles that have nothing to do with each other (one of the Règlement
    /// de l'Assemblée nationale, one of the Code de la propriété intellectuelle) and
    /// about the same length never count as one article renumbered: for every article of
    /// the Règlement's last version, the CPI article of the nearest length, and 500
    /// random pairs within 20% of each other's length.
    #[test]
    fn unrelated_real_articles_of_the_same_length_never_match() {
        let Some(dir) = corpus() else { return };
        let bodies = |bundle: &str, branch: &str, file: &str| -> Vec<String> {
            let md = history(&dir.join(bundle), branch, file).pop().unwrap();
            let units = parse(&md).units;
            units
                .iter()
                .filter(|u| u.kind == UnitKind::Article)
                .map(|u| article_body(&md, u).to_string())
                .filter(|b| !b.trim().is_empty())
                .collect()
        };
        let mut cpi = bodies(
            "cpi.bundle",
            "texte",
            "code_de_la_propriété_intellectuelle.md",
        );
        let an = bodies("reglement_an.bundle", "historique", "règlement.md");
        cpi.sort_by_key(|b| b.len());
        let mut checked = 0;
        for a in &an {
            let at = cpi
                .partition_point(|b| b.len() < a.len())
                .min(cpi.len() - 1);
            let b = &cpi[at];
            if a != b {
                assert!(!linked(a, b), "linked:\n{a}\n---\n{b}");
                assert!(!linked(b, a), "linked:\n{b}\n---\n{a}");
                checked += 1;
            }
        }
        // A fixed-seed generator (xorshift): the same pairs every run.
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        };
        let mut random = 0;
        while random < 500 {
            let (a, b) = (&an[next(an.len())], &cpi[next(cpi.len())]);
            let (la, lb) = (a.len() as f32, b.len() as f32);
            if la.min(lb) < 0.8 * la.max(lb) || a == b {
                continue;
            }
            assert!(!linked(a, b), "linked:\n{a}\n---\n{b}");
            random += 1;
        }
        assert!(checked > 100, "{checked} nearest-length pairs");
    }
}
