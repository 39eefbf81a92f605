//! The formal wording of amendments (docs/amendments.md, `domain::amendment::wording`),
//! in French and English, for a handful of representative edits of real articles of
//! `laws/budget-participatif` version 3: snapshots in `snapshots/`, reviewed with
//! `cargo insta review`.

use amenda::domain::amendment::{self, article_body, Operation, Wording};
use amenda::text::{parse, UnitKind};

/// The body of article `num` of `budget-participatif` version 3.
fn body(num: &str) -> String {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/laws/budget-participatif/v3.md"
    );
    let md = std::fs::read_to_string(path).unwrap();
    let units = parse(&md).units;
    let art = units
        .iter()
        .find(|u| u.kind == UnitKind::Article && u.num.as_deref() == Some(num))
        .unwrap_or_else(|| panic!("no article {num}"));
    article_body(art.text(&md)).to_string()
}

/// What a reader of the amendment sees: each operation's wording in both languages, and
/// that applying the operations gives the edited text.
fn worded(num: &str, old: &str, ops: &[Operation], new: Option<&str>) -> String {
    if let Some(new) = new {
        assert_eq!(amendment::apply(old, ops).unwrap(), new);
    }
    ops.iter()
        .map(|op| {
            format!(
                "fr: {}\nen: {}\n",
                amendment::wording(Wording::Fr, num, old, op),
                amendment::wording(Wording::En, num, old, op)
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The wording of the operations that turn article `num` into `edit(body)`.
fn edited(num: &str, edit: impl Fn(&str) -> String) -> String {
    let old = body(num);
    let new = edit(&old);
    assert_ne!(old, new, "the edit changes article {num}");
    let ops = amendment::derive(&format!("art_{num}"), &old, &new).unwrap();
    worded(num, &old, &ops, Some(&new))
}

#[test]
fn one_word_replaced() {
    insta::assert_snapshot!(edited("3", |b| b.replacen("seize", "quinze", 1)));
}

#[test]
fn several_words_replaced() {
    insta::assert_snapshot!(edited("3", |b| b.replacen(
        "toute personne âgée d'au moins seize ans",
        "toute personne majeure",
        1
    )));
}

#[test]
fn words_inserted_and_a_first_word_rewritten() {
    insta::assert_snapshot!(edited("2", |b| b
        .replacen(
            "délibération motivée",
            "délibération motivée et publique",
            1
        )
        .replacen("Dans les communes", "Toutefois, dans les communes", 1)));
}

#[test]
fn words_deleted() {
    insta::assert_snapshot!(edited("3", |b| b.replacen(
        ", sans condition de nationalité",
        "",
        1
    )));
}

#[test]
fn changes_in_two_paragraphs() {
    insta::assert_snapshot!(edited("3", |b| b
        .replacen("seize", "quatorze", 1)
        .replacen("ni présenter un projet ni", "pas", 1)));
}

#[test]
fn whole_articles_deleted_and_inserted() {
    let old = body("3");
    let ops = [
        Operation::RepealUnit {
            wid: "art_3".into(),
        },
        Operation::InsertArticle {
            after: "art_3".into(),
            markdown: "### Article 3 bis\n\nLa commune publie chaque année le bilan du budget \
                       participatif.\n"
                .into(),
        },
    ];
    insta::assert_snapshot!(worded("3", &old, &ops, None));
}
