//! The real French codes of ../shared/corpus (or $AMENDA_CORPUS), with their whole
//! history: every version imports, article units match the article headings of the
//! file, unchanged articles keep their ids, diffs rebuild the new text exactly, and
//! duplicate article numbers stay distinct. Skipped when the corpus is absent, unless
//! CI=true, where its absence is a failure.

mod common;

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
