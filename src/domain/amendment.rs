//! Amendments as operations on the text of one article (DESIGN §5), pure: deriving them
//! from an edited text, applying them, finding them again in a new version (rebase),
//! conflicts between two amendments, the voting order, and the formal wording
//! ("À l'alinéa 2 de l'article 3, remplacer les mots « trois mois » par…").
//!
//! Offsets are bytes in the article's *body*: its text without the heading line, as
//! [`article_body`] gives it. Each operation is anchored three ways: the unit's `wid`,
//! the offsets, and the quoted text with some context before and after, so that it can
//! be found again when the offsets no longer fit.

use super::state::closed_set;
use crate::text::diff::{word_diff, DiffTag};
use serde::{Deserialize, Serialize};

/// How an amendment is named everywhere: `AM-<bill slug>-<number>`.
pub fn display_number(bill_slug: &str, number: i32) -> String {
    format!("AM-{bill_slug}-{number}")
}

closed_set! {
    /// Where an amendment stands (`amendments.status`; `amendment_dispositions.status`
    /// holds the rulings among them: admissible to fallen).
    pub enum AmendmentStatus("amendment status") {
        /// Filed, not ruled on yet.
        Filed = "filed",
        /// Withdrawn by its author.
        Withdrawn = "withdrawn",
        Admissible = "admissible",
        /// Ruled inadmissible, with a public reason.
        Inadmissible = "inadmissible",
        Adopted = "adopted",
        Rejected = "rejected",
        /// An adopted amendment conflicting with it made it fall.
        Fallen = "fallen",
    }
}

impl AmendmentStatus {
    /// Still standing: not ruled out, withdrawn, fallen or decided. These may be
    /// corrected, withdrawn, carried to a new version, put to the vote, made to fall.
    pub const STANDING: [AmendmentStatus; 2] =
        [AmendmentStatus::Filed, AmendmentStatus::Admissible];

    pub fn is_standing(self) -> bool {
        AmendmentStatus::STANDING.contains(&self)
    }
}

/// Context kept on each side of a quote (bytes, widened to a char boundary).
const CONTEXT: usize = 40;

/// Where an operation applies: `body[start..end]` was `quote` when it was written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Anchor {
    pub wid: String,
    pub start: usize,
    pub end: usize,
    pub quote: String,
    pub before: String,
    pub after: String,
}

/// One change, in the spirit of Akoma Ntoso's `textualMod`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Operation {
    /// Replace the quoted words by `text`.
    Substitute { anchor: Anchor, text: String },
    /// Insert `text` at the anchor (an empty quote: a position).
    Insert { anchor: Anchor, text: String },
    /// Delete the quoted words.
    Repeal { anchor: Anchor },
    /// Delete the whole article.
    RepealUnit { wid: String },
    /// Insert a whole new article (markdown, heading included) after the article `after`.
    InsertArticle { after: String, markdown: String },
}

impl Operation {
    pub fn anchor(&self) -> Option<&Anchor> {
        match self {
            Operation::Substitute { anchor, .. }
            | Operation::Insert { anchor, .. }
            | Operation::Repeal { anchor } => Some(anchor),
            _ => None,
        }
    }

    fn replacement(&self) -> &str {
        match self {
            Operation::Substitute { text, .. } | Operation::Insert { text, .. } => text,
            _ => "",
        }
    }

    /// The article the operation changes (for an inserted article: the one it follows).
    pub fn wid(&self) -> &str {
        match self {
            Operation::Substitute { anchor, .. }
            | Operation::Insert { anchor, .. }
            | Operation::Repeal { anchor } => &anchor.wid,
            Operation::RepealUnit { wid } => wid,
            Operation::InsertArticle { after, .. } => after,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AmendError {
    #[error("the amendment changes nothing")]
    Empty,
    #[error("the quoted text «{0}» is not in the article")]
    QuoteNotFound(String),
    #[error("the quoted text «{0}» appears several times in the article")]
    Ambiguous(String),
    #[error("two operations of one amendment overlap")]
    Overlap,
    #[error("an offset is outside the article or inside a character")]
    BadOffset,
}

/// The body of an article unit's text: everything after its heading line.
pub fn article_body(article_text: &str) -> &str {
    article_text
        .split_once('\n')
        .map(|(_, b)| b.trim_start_matches('\n'))
        .unwrap_or("")
}

fn floor_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn ceil_boundary(s: &str, mut i: usize) -> usize {
    while i < s.len() && !s.is_char_boundary(i) {
        i += 1;
    }
    i
}

fn anchor(wid: &str, body: &str, start: usize, end: usize) -> Anchor {
    let b = floor_boundary(body, start.saturating_sub(CONTEXT));
    let a = ceil_boundary(body, (end + CONTEXT).min(body.len()));
    Anchor {
        wid: wid.to_string(),
        start,
        end,
        quote: body[start..end].to_string(),
        before: body[b..start].to_string(),
        after: body[end..a].to_string(),
    }
}

/// The operations that turn `old` (an article's body) into `new`: one per run of changed
/// words, so that each reads as a formal instruction. Whitespace-only runs between two
/// changes are folded into one operation.
pub fn derive(wid: &str, old: &str, new: &str) -> Result<Vec<Operation>, AmendError> {
    let diff = word_diff(old, new);
    // Hunks: (old start, old end, new text), from runs of Delete/Insert; Equal runs of
    // whitespace between two changes are absorbed.
    let mut hunks: Vec<(usize, usize, String)> = Vec::new();
    let mut pos = 0usize;
    let mut open: Option<(usize, usize, String)> = None;
    for (i, op) in diff.iter().enumerate() {
        match op.tag {
            DiffTag::Equal => {
                let joins = op.text.trim().is_empty()
                    && open.is_some()
                    && diff[i + 1..].iter().any(|o| o.tag != DiffTag::Equal)
                    && diff.get(i + 1).is_some_and(|o| o.tag != DiffTag::Equal);
                if joins {
                    let h = open.as_mut().expect("checked");
                    h.1 = pos + op.text.len();
                    h.2.push_str(&op.text);
                } else if let Some(h) = open.take() {
                    hunks.push(h);
                }
                pos += op.text.len();
            }
            DiffTag::Delete => {
                let h = open.get_or_insert((pos, pos, String::new()));
                h.1 = pos + op.text.len();
                pos += op.text.len();
            }
            DiffTag::Insert => {
                let h = open.get_or_insert((pos, pos, String::new()));
                h.2.push_str(&op.text);
            }
        }
    }
    if let Some(h) = open.take() {
        hunks.push(h);
    }
    if hunks.is_empty() {
        return Err(AmendError::Empty);
    }
    Ok(hunks
        .into_iter()
        .map(|(start, end, text)| {
            let anchor = anchor(wid, old, start, end);
            match (start == end, text.is_empty()) {
                (true, _) => Operation::Insert { anchor, text },
                (false, true) => Operation::Repeal { anchor },
                (false, false) => Operation::Substitute { anchor, text },
            }
        })
        .collect())
}

/// Applies word operations to an article body, checking that every quote is where its
/// offsets say. (Whole-article operations are applied by consolidation, not here.)
pub fn apply(body: &str, ops: &[Operation]) -> Result<String, AmendError> {
    let mut spans: Vec<(usize, usize, &str)> = Vec::new();
    for op in ops {
        let Some(a) = op.anchor() else { continue };
        if a.end < a.start
            || a.end > body.len()
            || !body.is_char_boundary(a.start)
            || !body.is_char_boundary(a.end)
        {
            return Err(AmendError::BadOffset);
        }
        if body[a.start..a.end] != a.quote {
            return Err(AmendError::QuoteNotFound(a.quote.clone()));
        }
        spans.push((a.start, a.end, op.replacement()));
    }
    spans.sort_by_key(|s| (s.0, s.1));
    for w in spans.windows(2) {
        // Two insertions at one place, or a span starting inside another.
        if w[1].0 < w[0].1 || (w[1].0 == w[0].0 && w[0].0 == w[0].1) {
            return Err(AmendError::Overlap);
        }
    }
    let mut out = String::with_capacity(body.len());
    let mut pos = 0;
    for (start, end, text) in spans {
        out.push_str(&body[pos..start]);
        out.push_str(text);
        pos = end;
    }
    out.push_str(&body[pos..]);
    Ok(out)
}

/// Where an anchor is in a (possibly new) body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Located {
    /// Found at these offsets (the same or moved), unambiguously.
    At(usize, usize),
    /// The quote is not in the text any more.
    Gone,
    /// The quote appears several times and its context does not tell which.
    Ambiguous,
}

/// Finds an anchor's quote in `body`: where its offsets say if it is still there, else
/// the only occurrence, else the only one whose context matches.
pub fn locate(body: &str, a: &Anchor) -> Located {
    if a.end <= body.len()
        && body.is_char_boundary(a.start)
        && body.is_char_boundary(a.end)
        && body[a.start..a.end] == a.quote
        && body[..a.start].ends_with(&a.before)
        && body[a.end..].starts_with(&a.after)
    {
        return Located::At(a.start, a.end);
    }
    if a.quote.is_empty() {
        // A position: found by its context alone.
        let probe = format!("{}{}", a.before, a.after);
        let hits: Vec<usize> = body.match_indices(&probe).map(|(i, _)| i).collect();
        return match hits.as_slice() {
            [i] => Located::At(i + a.before.len(), i + a.before.len()),
            [] => Located::Gone,
            _ => Located::Ambiguous,
        };
    }
    let hits: Vec<usize> = body.match_indices(&a.quote).map(|(i, _)| i).collect();
    match hits.as_slice() {
        [] => Located::Gone,
        [i] => Located::At(*i, i + a.quote.len()),
        many => {
            let fitting: Vec<usize> = many
                .iter()
                .copied()
                .filter(|i| {
                    body[..*i].ends_with(&a.before)
                        && body[i + a.quote.len()..].starts_with(&a.after)
                })
                .collect();
            match fitting.as_slice() {
                [i] => Located::At(*i, i + a.quote.len()),
                _ => Located::Ambiguous,
            }
        }
    }
}

/// Like [`locate`], for a body that other amendments *of the same version* have just
/// changed (the second of a pair checked for conflict, an adopted amendment after
/// those before it in consolidation): a repeated quote whose context an edit nearby
/// changed is taken at the occurrence whose context still agrees the most. Across
/// versions [`locate`] stays strict, and a rebase it cannot do is proposed to the
/// author instead.
pub fn locate_near(body: &str, a: &Anchor) -> Located {
    match locate(body, a) {
        Located::Ambiguous if !a.quote.is_empty() => {
            let hits: Vec<usize> = body.match_indices(&a.quote).map(|(i, _)| i).collect();
            closest_context(body, a, &hits)
        }
        other => other,
    }
}

/// Context bytes that must still agree for [`closest_context`] to choose an occurrence.
const MIN_AGREEMENT: usize = 12;

/// When no occurrence keeps the whole context — a nearby edit, often the other amendment
/// of a pair being checked, changed part of it — the occurrence whose context agrees
/// over the most bytes next to the quote, if it is the only one that close and agrees
/// over at least [`MIN_AGREEMENT`] bytes; else ambiguous.
fn closest_context(body: &str, a: &Anchor, hits: &[usize]) -> Located {
    let agreement = |i: usize| {
        let before = body[..i]
            .bytes()
            .rev()
            .zip(a.before.bytes().rev())
            .take_while(|(x, y)| x == y)
            .count();
        let after = body[i + a.quote.len()..]
            .bytes()
            .zip(a.after.bytes())
            .take_while(|(x, y)| x == y)
            .count();
        before + after
    };
    let mut scored: Vec<(usize, usize)> = hits.iter().map(|&i| (agreement(i), i)).collect();
    scored.sort_by_key(|&(score, _)| std::cmp::Reverse(score));
    match scored.as_slice() {
        [(best, i), rest @ ..]
            if *best >= MIN_AGREEMENT && rest.first().is_none_or(|(next, _)| next < best) =>
        {
            Located::At(*i, i + a.quote.len())
        }
        _ => Located::Ambiguous,
    }
}

/// The operations re-anchored on `body` when every quote is found unambiguously.
pub fn rebase(body: &str, wid: &str, ops: &[Operation]) -> Result<Vec<Operation>, Located> {
    rebase_with(body, wid, ops, locate)
}

/// [`rebase`] with [`locate_near`]: on a body other amendments of the same version
/// changed.
pub fn rebase_near(body: &str, wid: &str, ops: &[Operation]) -> Result<Vec<Operation>, Located> {
    rebase_with(body, wid, ops, locate_near)
}

fn rebase_with(
    body: &str,
    wid: &str,
    ops: &[Operation],
    locate: fn(&str, &Anchor) -> Located,
) -> Result<Vec<Operation>, Located> {
    ops.iter()
        .map(|op| {
            let Some(a) = op.anchor() else {
                return Ok(op.clone());
            };
            match locate(body, a) {
                Located::At(s, e) => {
                    let anchor = anchor(wid, body, s, e);
                    Ok(match op {
                        Operation::Substitute { text, .. } => Operation::Substitute {
                            anchor,
                            text: text.clone(),
                        },
                        Operation::Insert { text, .. } => Operation::Insert {
                            anchor,
                            text: text.clone(),
                        },
                        _ => Operation::Repeal { anchor },
                    })
                }
                other => Err(other),
            }
        })
        .collect()
}

/// Why two amendments on the same version cannot both be adopted as written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Conflict {
    /// Their quoted spans overlap (or both insert at one place).
    Overlap,
    /// One repeals an article the other changes.
    RepealedUnit,
    /// Applying them in the two orders gives different texts.
    OrderDependent,
}

/// Whether amendment `a` and amendment `b` (operations on the same version; `body_of`
/// gives an article's body by wid) conflict, and why.
pub fn conflict<'b>(
    a: &[Operation],
    b: &[Operation],
    body_of: impl Fn(&str) -> Option<&'b str>,
) -> Option<Conflict> {
    let repealed = |ops: &[Operation]| -> Vec<String> {
        ops.iter()
            .filter_map(|o| match o {
                Operation::RepealUnit { wid } => Some(wid.clone()),
                _ => None,
            })
            .collect()
    };
    let (ra, rb) = (repealed(a), repealed(b));
    if a.iter().any(|o| rb.iter().any(|w| w == o.wid()))
        || b.iter().any(|o| ra.iter().any(|w| w == o.wid()))
    {
        return Some(Conflict::RepealedUnit);
    }
    // Two new articles after the same one: their order is for staff to decide.
    let inserted_after = |ops: &[Operation]| -> Vec<String> {
        ops.iter()
            .filter_map(|o| match o {
                Operation::InsertArticle { after, .. } => Some(after.clone()),
                _ => None,
            })
            .collect()
    };
    if inserted_after(a)
        .iter()
        .any(|w| inserted_after(b).contains(w))
    {
        return Some(Conflict::Overlap);
    }
    for oa in a.iter().filter_map(Operation::anchor) {
        for ob in b.iter().filter_map(Operation::anchor) {
            if oa.wid != ob.wid {
                continue;
            }
            let same_point = oa.start == oa.end && ob.start == ob.end && oa.start == ob.start;
            let overlap = oa.start < ob.end && ob.start < oa.end;
            let inserts_inside = (oa.start == oa.end && ob.start < oa.start && oa.start < ob.end)
                || (ob.start == ob.end && oa.start < ob.start && ob.start < oa.end);
            if same_point || overlap || inserts_inside {
                return Some(Conflict::Overlap);
            }
        }
    }
    // The two-order test, article by article: a then b (re-anchored) against b then a.
    let mut wids: Vec<&str> = a
        .iter()
        .chain(b)
        .filter(|o| o.anchor().is_some())
        .map(Operation::wid)
        .collect();
    wids.sort_unstable();
    wids.dedup();
    for wid in wids {
        let Some(body) = body_of(wid) else { continue };
        let pick = |ops: &[Operation]| -> Vec<Operation> {
            ops.iter()
                .filter(|o| o.anchor().is_some() && o.wid() == wid)
                .cloned()
                .collect()
        };
        let (pa, pb) = (pick(a), pick(b));
        let then = |first: &[Operation], second: &[Operation]| -> Option<String> {
            let mid = apply(body, first).ok()?;
            let moved = rebase_near(&mid, wid, second).ok()?;
            apply(&mid, &moved).ok()
        };
        match (then(&pa, &pb), then(&pb, &pa)) {
            (Some(x), Some(y)) if x == y => {}
            _ => return Some(Conflict::OrderDependent),
        }
    }
    None
}

/// How far an amendment takes an article from its text: 1 − the word similarity ratio.
pub fn distance(old: &str, new: &str) -> f32 {
    if old == new {
        return 0.0;
    }
    1.0 - similar::TextDiff::from_unicode_words(old, new).ratio()
}

/// What the voting order needs to know about one amendment of a conflicting group.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub id: i64,
    /// Filing order (lower first).
    pub filed: i64,
    pub repeals: bool,
    pub distance: f32,
}

/// The voting order within a group of conflicting amendments (DESIGN §5): repeals first,
/// then the one furthest from the text, then filing order.
pub fn voting_order(mut group: Vec<Candidate>) -> Vec<i64> {
    group.sort_by(|x, y| {
        y.repeals
            .cmp(&x.repeals)
            .then(y.distance.total_cmp(&x.distance))
            .then(x.filed.cmp(&y.filed))
    });
    group.into_iter().map(|c| c.id).collect()
}

/// The language of a formal wording.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wording {
    Fr,
    En,
}

/// The alinéa (1-based) an offset of a body falls in: paragraphs are separated by
/// blank lines.
pub fn paragraph_number(body: &str, offset: usize) -> usize {
    let offset = floor_boundary(body, offset.min(body.len()));
    1 + body[..offset].matches("\n\n").count()
}

fn words(s: &str, fr: bool) -> String {
    let s = s.trim();
    let one = !s.contains(char::is_whitespace);
    match (fr, one) {
        (true, true) => format!("le mot « {s} »"),
        (true, false) => format!("les mots « {s} »"),
        (false, true) => format!("the word “{s}”"),
        (false, false) => format!("the words “{s}”"),
    }
}

fn last_word(s: &str) -> Option<&str> {
    s.split_whitespace()
        .last()
        .map(|w| w.trim_end_matches([',', ';', ':', '.']))
        .filter(|w| !w.is_empty())
}

/// The formal wording of one operation, as a clerk would write it. `num` is the article
/// number (`3`, `L122-5`); `body` the article body the operation applies to.
pub fn wording(lang: Wording, num: &str, body: &str, op: &Operation) -> String {
    let fr = lang == Wording::Fr;
    match op {
        Operation::RepealUnit { .. } => {
            if fr {
                format!("Supprimer l'article {num}.")
            } else {
                format!("Delete article {num}.")
            }
        }
        Operation::InsertArticle { markdown, .. } => {
            let text = markdown.trim();
            if fr {
                format!("Après l'article {num}, insérer un article ainsi rédigé : « {text} ».")
            } else {
                format!("After article {num}, insert the following article: “{text}”.")
            }
        }
        Operation::Substitute { anchor, text } | Operation::Insert { anchor, text } => {
            let n = paragraph_number(body, anchor.start);
            let place = if fr {
                format!("À l'alinéa {n} de l'article {num}")
            } else {
                format!("In paragraph {n} of article {num}")
            };
            if anchor.quote.is_empty() {
                let prev = last_word(&body[..anchor.start.min(body.len())]);
                let at_start = body[..anchor.start.min(body.len())]
                    .rsplit("\n\n")
                    .next()
                    .is_none_or(|p| p.trim().is_empty());
                match (fr, at_start, prev) {
                    (true, false, Some(w)) => format!(
                        "{place}, après le mot « {w} », insérer {}.",
                        words(text, true)
                    ),
                    (true, _, _) => format!("{place}, au début, insérer {}.", words(text, true)),
                    (false, false, Some(w)) => format!(
                        "{place}, after the word “{w}”, insert {}.",
                        words(text, false)
                    ),
                    (false, _, _) => {
                        format!("{place}, at the beginning, insert {}.", words(text, false))
                    }
                }
            } else if fr {
                format!(
                    "{place}, remplacer {} par {}.",
                    words(&anchor.quote, true),
                    words(text, true)
                )
            } else {
                format!(
                    "{place}, replace {} with {}.",
                    words(&anchor.quote, false),
                    words(text, false)
                )
            }
        }
        Operation::Repeal { anchor } => {
            let n = paragraph_number(body, anchor.start);
            if fr {
                format!(
                    "À l'alinéa {n} de l'article {num}, supprimer {}.",
                    words(&anchor.quote, true)
                )
            } else {
                format!(
                    "In paragraph {n} of article {num}, delete {}.",
                    words(&anchor.quote, false)
                )
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_round_trip() {
        for s in AmendmentStatus::ALL {
            assert_eq!(s.as_str().parse::<AmendmentStatus>(), Ok(s));
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
        let standing: Vec<_> = AmendmentStatus::ALL
            .into_iter()
            .filter(|s| s.is_standing())
            .collect();
        assert_eq!(standing, AmendmentStatus::STANDING);
        assert!("Filed".parse::<AmendmentStatus>().is_err());
    }

    const BODY: &str = "Le conseil se réunit tous les trois mois.\n\nIl délibère à la majorité des membres présents.";

    #[test]
    fn derives_a_substitution_with_its_anchor_and_wording() {
        let new = BODY.replace("trois mois", "six mois");
        let ops = derive("a1", BODY, &new).unwrap();
        assert_eq!(ops.len(), 1);
        let Operation::Substitute { anchor, text } = &ops[0] else {
            panic!("{ops:?}")
        };
        assert_eq!(anchor.quote, "trois");
        assert_eq!(text, "six");
        assert_eq!(&BODY[anchor.start..anchor.end], "trois");
        assert!(anchor.before.ends_with("tous les "));
        assert!(anchor.after.starts_with(" mois."));
        assert_eq!(apply(BODY, &ops).unwrap(), new);
        assert_eq!(
            wording(Wording::Fr, "3", BODY, &ops[0]),
            "À l'alinéa 1 de l'article 3, remplacer le mot « trois » par le mot « six »."
        );
        assert_eq!(
            wording(Wording::En, "3", BODY, &ops[0]),
            "In paragraph 1 of article 3, replace the word “trois” with the word “six”."
        );
    }

    #[test]
    fn neighbouring_changed_words_make_one_operation() {
        let new = BODY.replace("à la majorité des membres présents", "à l'unanimité");
        let ops = derive("a1", BODY, &new).unwrap();
        assert_eq!(ops.len(), 1, "{ops:?}");
        assert_eq!(apply(BODY, &ops).unwrap(), new);
        let w = wording(Wording::Fr, "3", BODY, &ops[0]);
        assert!(
            w.starts_with("À l'alinéa 2 de l'article 3, remplacer les mots"),
            "{w}"
        );
    }

    #[test]
    fn insertions_and_repeals() {
        let new = BODY.replace("se réunit", "se réunit en séance publique");
        let ops = derive("a1", BODY, &new).unwrap();
        let w = wording(Wording::Fr, "3", BODY, &ops[0]);
        assert!(matches!(ops[0], Operation::Insert { .. }), "{ops:?}");
        assert_eq!(
            w,
            "À l'alinéa 1 de l'article 3, après le mot « réunit », insérer les mots « en séance publique »."
        );
        assert_eq!(apply(BODY, &ops).unwrap(), new);
        let new = BODY.replace(" des membres présents", "");
        let ops = derive("a1", BODY, &new).unwrap();
        assert!(matches!(ops[0], Operation::Repeal { .. }), "{ops:?}");
        assert_eq!(
            wording(Wording::En, "3", BODY, &ops[0]),
            "In paragraph 2 of article 3, delete the words “des membres présents”."
        );
        assert_eq!(apply(BODY, &ops).unwrap(), new);
        let del = Operation::RepealUnit { wid: "a1".into() };
        assert_eq!(
            wording(Wording::Fr, "3", BODY, &del),
            "Supprimer l'article 3."
        );
    }

    #[test]
    fn an_unchanged_text_is_no_amendment() {
        assert_eq!(derive("a1", BODY, BODY), Err(AmendError::Empty));
    }

    #[test]
    fn a_quote_not_where_it_should_be_is_refused() {
        let ops = derive("a1", BODY, &BODY.replace("trois", "six")).unwrap();
        let other = BODY.replace("tous les trois mois", "chaque mois");
        assert!(matches!(
            apply(&other, &ops),
            Err(AmendError::QuoteNotFound(_) | AmendError::BadOffset)
        ));
    }

    #[test]
    fn rebase_finds_moved_quotes_and_refuses_gone_or_ambiguous_ones() {
        let ops = derive("a1", BODY, &BODY.replace("trois", "six")).unwrap();
        let moved = format!("Préambule ajouté.\n\n{BODY}");
        let re = rebase(&moved, "a1", &ops).unwrap();
        assert_eq!(apply(&moved, &re).unwrap(), moved.replace("trois", "six"));
        let gone = BODY.replace("trois", "quatre");
        assert_eq!(rebase(&gone, "a1", &ops), Err(Located::Gone));
        let twice = "trois et trois";
        let a = Anchor {
            wid: "a1".into(),
            start: 100,
            end: 105,
            quote: "trois".into(),
            before: "x".into(),
            after: "y".into(),
        };
        assert_eq!(locate(twice, &a), Located::Ambiguous);
    }

    #[test]
    fn a_repeated_quote_is_found_by_its_context_when_a_nearby_edit_changed_part_of_it() {
        let body =
            "Le conseil municipal de la commune délibère sur le budget de la commune chaque année.";
        // B: the second "de" (the word appears twice), A: a word 20 bytes before it.
        let b = derive("a1", body, &body.replace("budget de la", "budget du la")).unwrap();
        let a = derive("a1", body, &body.replace("délibère", "vote")).unwrap();
        let after_a = apply(body, &a).unwrap();
        assert_eq!(
            rebase(&after_a, "a1", &b),
            Err(Located::Ambiguous),
            "strict"
        );
        let re = rebase_near(&after_a, "a1", &b).unwrap();
        assert_eq!(
            apply(&after_a, &re).unwrap(),
            "Le conseil municipal de la commune vote sur le budget du la commune chaque année."
        );
        // So they commute, as they should: no conflict.
        assert_eq!(conflict(&a, &b, |_| Some(body)), None);
        // Two occurrences as close to the context as each other stay ambiguous.
        let twice = "x la commune y la commune z";
        let anchor = Anchor {
            wid: "a1".into(),
            start: 0,
            end: 0,
            quote: "commune".into(),
            before: "w la ".into(),
            after: " v".into(),
        };
        assert_eq!(locate_near(twice, &anchor), Located::Ambiguous);
    }

    #[test]
    fn conflicts_by_overlap_repeal_and_order() {
        let body = |_: &str| Some(BODY);
        let a = derive("a1", BODY, &BODY.replace("trois mois", "six mois")).unwrap();
        let b = derive(
            "a1",
            BODY,
            &BODY.replace("tous les trois", "tous les quatre"),
        )
        .unwrap();
        assert_eq!(conflict(&a, &b, body), Some(Conflict::Overlap));
        let c = derive("a1", BODY, &BODY.replace("présents", "en exercice")).unwrap();
        assert_eq!(conflict(&a, &c, body), None, "disjoint spans commute");
        let r = vec![Operation::RepealUnit { wid: "a1".into() }];
        assert_eq!(conflict(&a, &r, body), Some(Conflict::RepealedUnit));
        let i1 = derive(
            "a1",
            BODY,
            &BODY.replace("se réunit", "se réunit publiquement"),
        )
        .unwrap();
        let i2 = derive(
            "a1",
            BODY,
            &BODY.replace("se réunit", "se réunit librement"),
        )
        .unwrap();
        assert_eq!(
            conflict(&i1, &i2, body),
            Some(Conflict::Overlap),
            "same insertion point"
        );
        let ia = vec![Operation::InsertArticle {
            after: "a1".into(),
            markdown: "### Article 3 bis\n\nX.".into(),
        }];
        let ib = vec![Operation::InsertArticle {
            after: "a1".into(),
            markdown: "### Article 3 bis\n\nY.".into(),
        }];
        assert_eq!(conflict(&ia, &ib, body), Some(Conflict::Overlap));
        assert_eq!(conflict(&ia, &a, body), None);
    }

    #[test]
    fn voting_order_puts_repeals_then_the_furthest_first() {
        let order = voting_order(vec![
            Candidate {
                id: 1,
                filed: 1,
                repeals: false,
                distance: 0.1,
            },
            Candidate {
                id: 2,
                filed: 2,
                repeals: false,
                distance: 0.6,
            },
            Candidate {
                id: 3,
                filed: 3,
                repeals: true,
                distance: 1.0,
            },
            Candidate {
                id: 4,
                filed: 0,
                repeals: false,
                distance: 0.1,
            },
        ]);
        assert_eq!(order, vec![3, 2, 4, 1]);
        assert!(distance(BODY, &BODY.replace("trois", "six")) < distance(BODY, "Abrogé."));
        assert_eq!(distance(BODY, BODY), 0.0);
    }

    #[test]
    fn paragraph_numbers_count_blank_lines() {
        assert_eq!(paragraph_number(BODY, 0), 1);
        let second = BODY.find("Il délibère").unwrap();
        assert_eq!(paragraph_number(BODY, second), 2);
        assert_eq!(article_body("### Article 3\n\nLe texte."), "Le texte.");
    }
}
