//! The diff preview of an article edit (issue 4 speed target: under 1 ms for a typical
//! article): from the article's text and the edited text to the amendment operations and
//! their formal wording, as the preview page computes them.
//!
//!     cargo bench --bench amendment
//!
//! The article is one of the team's bills in `laws/` (compiled in, so the bench needs no
//! corpus): article 4 of the "budget participatif" bill, edited in two places.

use amenda::domain::amendment::{apply, article_body, derive, wording, Wording};
use amenda::text::{parse, UnitKind};
use criterion::Criterion;
use std::hint::black_box;

const BILL: &str = include_str!("../laws/budget-participatif/v3.md");

fn main() {
    let parsed = parse(BILL);
    // The longest article: the least favourable "typical" one of the bill.
    let article = parsed
        .units
        .iter()
        .filter(|u| u.kind == UnitKind::Article)
        .max_by_key(|u| u.end - u.start)
        .expect("the bill has articles");
    let body = article_body(article.text(BILL));
    let words: Vec<&str> = body.split_whitespace().collect();
    // Two edits: a word replaced near the start, words inserted near the end.
    let first = words[words.len() / 5];
    let last = words[words.len() * 4 / 5];
    let edited = body.replacen(first, "REMPLACÉ", 1).replacen(
        last,
        &format!("{last} et notamment les mots ajoutés"),
        1,
    );
    println!(
        "article {:?}: {} bytes, {} words",
        article.num,
        body.len(),
        words.len()
    );
    let num = article.num.clone().unwrap_or_default();
    let mut c = Criterion::default().configure_from_args();
    c.bench_function("amendment/preview", |b| {
        b.iter(|| {
            let ops = derive("a1", black_box(body), black_box(&edited)).unwrap();
            let text: Vec<String> = ops
                .iter()
                .map(|op| wording(Wording::Fr, &num, body, op))
                .collect();
            black_box((apply(body, &ops).unwrap(), text))
        })
    });
    c.final_summary();
}
