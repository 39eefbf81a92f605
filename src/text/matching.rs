//! Keeps work ids (`wid`) across versions: each unit of a new version is matched to a
//! unit of the previous one (DESIGN §3) and inherits its wid; the rest get fresh ones.

use super::parse::normalize_num;
use super::units::{Unit, UnitKind};
use rustc_hash::FxHashMap as HashMap;
use similar::{capture_diff_slices, Algorithm, DiffOp, DiffableStr};
use std::cell::OnceCell;
use std::collections::VecDeque;

/// Mints work ids from a per-bill counter: `a1z`, `p2k`… (kind letter + base 36).
#[derive(Debug, Clone)]
pub struct WidAllocator {
    next: u64,
}

impl WidAllocator {
    pub fn new(next: u64) -> Self {
        WidAllocator { next: next.max(1) }
    }

    /// The counter to store back with the bill.
    pub fn next_value(&self) -> u64 {
        self.next
    }

    pub fn mint(&mut self, kind: UnitKind) -> String {
        let mut n = self.next;
        self.next += 1;
        let mut digits = Vec::new();
        while n > 0 {
            digits.push(std::char::from_digit((n % 36) as u32, 36).unwrap_or('0'));
            n /= 36;
        }
        digits.push(kind.wid_prefix());
        digits.iter().rev().collect()
    }
}

/// Minimum similarity for two paragraphs of the same article to count as one paragraph,
/// modified.
const SIMILAR: f32 = 0.5;

/// Minimum similarity for an article that lost its number and one that is new to count
/// as one article, renumbered (and maybe modified). Higher than [`SIMILAR`]: nothing
/// else ties the two (no common number, no common parent), two unrelated articles of a
/// code share much of their vocabulary (« de la », « les dispositions du présent »…), and
/// a wrong link carries comments, amendments and history to the wrong article, which is
/// worse than a missed one (the article then reads as removed and added).
const RENUMBERED: f32 = 0.6;

/// Least number of words in common (in order) for a renumbering: below it, a similar
/// ratio is within chance for short articles (« Abrogé. », « Supprimé. »).
const RENUMBERED_MIN_WORDS: usize = 8;

/// How much better than the next candidate a renumbering must score, on both sides: when
/// two old articles fit one new one about as well (or the reverse), neither is chosen.
const RENUMBERED_MARGIN: f32 = 0.1;

/// A text and its words (`similar`'s Unicode word segmentation, keeping only the tokens
/// that hold a letter or a digit: spaces and punctuation between words are not words,
/// and counting them made unrelated texts look alike), split once per unit rather than
/// once per pair compared, and only once a pair passes the length test (the word
/// segmentation is slow).
struct Words<'a> {
    text: &'a str,
    words: OnceCell<Vec<&'a str>>,
}

impl<'a> Words<'a> {
    fn new(text: &'a str) -> Self {
        Words {
            text,
            words: OnceCell::new(),
        }
    }

    fn words(&self) -> &[&'a str] {
        self.words.get_or_init(|| {
            let mut words = self.text.tokenize_unicode_words();
            words.retain(|w| w.chars().any(char::is_alphanumeric));
            words
        })
    }
}

/// The word-level similarity ratio of two texts ([`word_similarity`], bounded in work),
/// when it reaches `SIMILAR`; None otherwise. Cheap upper bounds of the ratio
/// (lengths, then words in common regardless of order) reject most pairs before the
/// Myers diff, without changing which pairs pass.
fn similar_enough(a: &Words, b: &Words) -> Option<f32> {
    similarity(a, b, false)
}

/// Whether the ratio of `similar_enough` reaches `SIMILAR`, for callers that need no
/// more: a pair whose common first and last words alone reach it passes without the
/// search for the longest common subsequence, which would count them anyway.
fn is_similar(a: &Words, b: &Words) -> bool {
    similarity(a, b, true).is_some()
}

/// The similarity of two texts as the matcher measures it (its words only, in order:
/// 2 × words in common / words in both), for reports of what it matched.
pub fn word_similarity(a: &str, b: &str) -> f32 {
    let (a, b) = (Words::new(a), Words::new(b));
    let (aw, bw) = (a.words(), b.words());
    if aw.is_empty() && bw.is_empty() {
        return 1.0;
    }
    common_words_at_least(aw, bw, 0)
        .map_or(0.0, |lcs| 2.0 * lcs as f32 / (aw.len() + bw.len()) as f32)
}

/// An article's text after its heading line (what renumbered articles are compared by).
pub fn article_body<'a>(md: &'a str, u: &Unit) -> &'a str {
    body(md, u)
}

fn similarity(a: &Words, b: &Words, enough: bool) -> Option<f32> {
    let (la, lb) = (a.text.len() as f32, b.text.len() as f32);
    if la.min(lb) < 0.3 * la.max(lb) {
        return None;
    }
    if a.text == b.text {
        return Some(1.0);
    }
    let (aw, bw) = (a.words(), b.words());
    let (na, nb) = (aw.len(), bw.len());
    // The ratio is 2·matches / (na + nb); matches ≤ min(na, nb), and ≤ the multiset
    // intersection. Division and product by positive numbers keep the order, so a bound
    // below SIMILAR means the ratio is below too.
    let below = |matches: usize| (2.0 * matches as f32 / (na + nb) as f32) < SIMILAR;
    if na + nb == 0 || below(na.min(nb)) {
        return (na + nb == 0).then_some(1.0);
    }
    if enough {
        let prefix = aw.iter().zip(bw).take_while(|(x, y)| x == y).count();
        let suffix = aw[prefix..]
            .iter()
            .rev()
            .zip(bw[prefix..].iter().rev())
            .take_while(|(x, y)| x == y)
            .count();
        if !below(prefix + suffix) {
            return Some(SIMILAR);
        }
    }
    let (small, large) = if na <= nb { (aw, bw) } else { (bw, aw) };
    let mut counts: HashMap<&str, u32> = HashMap::default();
    for w in small {
        *counts.entry(w).or_default() += 1;
    }
    let mut common = 0;
    for w in large {
        if let Some(c) = counts.get_mut(w) {
            if *c > 0 {
                *c -= 1;
                common += 1;
            }
        }
    }
    if below(common) {
        return None;
    }
    // The least number of common words that reaches SIMILAR (`below` is monotone).
    let mut need = ((na + nb) / 4).saturating_sub(1);
    while below(need) {
        need += 1;
    }
    let lcs = common_words_at_least(aw, bw, need)?;
    if enough {
        return Some(SIMILAR);
    }
    Some(2.0 * lcs as f32 / (na + nb) as f32)
}

/// Work allowed to one comparison in [`common_words_at_least`] (steps of the search):
/// enough for any two articles or paragraphs of the real codes that are alike (the
/// search is quick when they are); two long texts with the same words in another order
/// stop there and count as not similar.
const COMPARISON_BUDGET: usize = 1_000_000;

/// The length of the longest common subsequence of `a` and `b`, if it is at least
/// `need` words: Myers' greedy search for the shortest edit script (length n + m −
/// 2·LCS), given up past the length that `need` allows. A pair that fails stops there,
/// where a full diff would go on. Quadratic at worst (two long paragraphs with the same
/// words in another order): it then gives up after [`COMPARISON_BUDGET`] steps and
/// answers "not similar" (the paragraph gets a new id), so no input can stall an import
/// or a consolidation. The bound is counted in steps, not time, so that the same texts
/// always give the same ids, however busy the machine.
fn common_words_at_least(a: &[&str], b: &[&str], need: usize) -> Option<usize> {
    let (n, m) = (a.len(), b.len());
    if need > n.min(m) {
        return None;
    }
    let max_d = n + m - 2 * need;
    let off = max_d as isize + 1;
    // v[k + off]: the furthest x reached on diagonal k = x − y.
    let mut v = vec![0usize; 2 * max_d + 3];
    let mut work = 0usize;
    for d in 0..=max_d as isize {
        for k in (-d..=d).step_by(2) {
            let i = (k + off) as usize;
            let mut x = if k == -d || (k != d && v[i - 1] < v[i + 1]) {
                v[i + 1]
            } else {
                v[i - 1] + 1
            };
            let mut y = (x as isize - k) as usize;
            let from = x;
            while x < n && y < m && a[x] == b[y] {
                x += 1;
                y += 1;
            }
            work += 1 + x - from;
            if work > COMPARISON_BUDGET {
                return None;
            }
            v[i] = x;
            if x >= n && y >= m {
                // d edits: n + m − 2·LCS = d.
                return Some((n + m - d as usize) / 2);
            }
        }
    }
    None
}

/// Whether `a` and `b` have a common subsequence of `need` words (see
/// [`common_words_at_least`]).
#[cfg(test)]
fn lcs_at_least(a: &[&str], b: &[&str], need: usize) -> bool {
    common_words_at_least(a, b, need).is_some()
}

/// Pairs the articles left without a match by number (`left_old`, `left_new`) that are
/// one article renumbered, calling `take(new, old)` for each: the same body, or a
/// similar one, when it is clearly that article. A body must hold
/// [`RENUMBERED_MIN_WORDS`] words, and be the only one of its text on each side; a
/// similar one must reach [`RENUMBERED`] and beat every other candidate, on both sides,
/// by [`RENUMBERED_MARGIN`]. Everything else reads as removed and added.
fn renumbered(
    old_md: &str,
    old: &[Unit],
    left_old: &[usize],
    new_md: &str,
    new: &[Unit],
    left_new: &[usize],
    take: &mut dyn FnMut(usize, usize),
) {
    let mut by_body: HashMap<&str, (Vec<usize>, Vec<usize>)> = HashMap::default();
    for &i in left_old {
        by_body.entry(body(old_md, &old[i])).or_default().0.push(i);
    }
    for &j in left_new {
        if let Some(e) = by_body.get_mut(body(new_md, &new[j])) {
            e.1.push(j);
        }
    }
    let mut taken_old = vec![false; old.len()];
    let mut taken_new = vec![false; new.len()];
    for (text, (olds, news)) in &by_body {
        if let ([i], [j]) = (olds.as_slice(), news.as_slice()) {
            if Words::new(text).words().len() >= RENUMBERED_MIN_WORDS {
                take(*j, *i);
                taken_old[*i] = true;
                taken_new[*j] = true;
            }
        }
    }

    // Pairwise similarity only while it stays cheap.
    if left_old.len() * left_new.len() > 10_000 {
        return;
    }
    let olds: Vec<(usize, Words)> = left_old
        .iter()
        .filter(|&&i| !taken_old[i])
        .map(|&i| (i, Words::new(body(old_md, &old[i]))))
        .collect();
    let news: Vec<(usize, Words)> = left_new
        .iter()
        .filter(|&&j| !taken_new[j])
        .map(|&j| (j, Words::new(body(new_md, &new[j]))))
        .collect();
    // Every pair that could be one article, with its score; then each side's best two.
    let mut pairs = Vec::new();
    for (a, (_, ow)) in olds.iter().enumerate() {
        for (b, (_, nw)) in news.iter().enumerate() {
            if let Some(ratio) = similar_enough(ow, nw) {
                pairs.push((a, b, ratio));
            }
        }
    }
    let mut best_old = vec![(f32::MIN, f32::MIN); olds.len()];
    let mut best_new = vec![(f32::MIN, f32::MIN); news.len()];
    let push = |top: &mut (f32, f32), r: f32| {
        if r > top.0 {
            *top = (r, top.0);
        } else if r > top.1 {
            top.1 = r;
        }
    };
    for &(a, b, r) in &pairs {
        push(&mut best_old[a], r);
        push(&mut best_new[b], r);
    }
    for &(a, b, r) in &pairs {
        let (ow, nw) = (&olds[a].1, &news[b].1);
        let common = (r * (ow.words().len() + nw.words().len()) as f32 / 2.0).round() as usize;
        let clear = |top: (f32, f32)| r == top.0 && r - top.1 >= RENUMBERED_MARGIN;
        if r >= RENUMBERED
            && common >= RENUMBERED_MIN_WORDS
            && clear(best_old[a])
            && clear(best_new[b])
        {
            take(news[b].0, olds[a].0);
        }
    }
}

fn body<'a>(md: &'a str, u: &Unit) -> &'a str {
    let t = u.text(md);
    t.split_once('\n')
        .map(|(_, b)| b.trim_start())
        .unwrap_or("")
}

/// Gives every unit of `new` a wid: inherited from its match in `prev` (markdown and
/// units of the previous version, wids set) or freshly minted, in document order.
pub fn assign_wids(
    prev: Option<(&str, &[Unit])>,
    new_md: &str,
    new: &mut [Unit],
    alloc: &mut WidAllocator,
) {
    assign_wids_matched(prev, new_md, new, alloc);
}

/// `assign_wids`, returning for each unit of `new` the index of its match in `prev`.
pub(crate) fn assign_wids_matched(
    prev: Option<(&str, &[Unit])>,
    new_md: &str,
    new: &mut [Unit],
    alloc: &mut WidAllocator,
) -> Vec<Option<usize>> {
    let mut matched: Vec<Option<usize>> = vec![None; new.len()];
    if let Some((old_md, old)) = prev {
        match_units(old_md, old, new_md, new, &mut matched);
        for (u, m) in new.iter_mut().zip(&matched) {
            if let Some(i) = m {
                u.wid = old[*i].wid.clone();
            }
        }
    }
    for (u, m) in new.iter_mut().zip(&matched) {
        if m.is_none() {
            u.wid = alloc.mint(u.kind);
        }
    }
    matched
}

fn match_units(
    old_md: &str,
    old: &[Unit],
    new_md: &str,
    new: &[Unit],
    matched: &mut [Option<usize>],
) {
    let mut used = vec![false; old.len()];
    let take = |n: usize, o: usize, matched: &mut [Option<usize>], used: &mut [bool]| {
        matched[n] = Some(o);
        used[o] = true;
    };

    // Articles by number and identical text first, so that when a number appears twice
    // the copy that did not change keeps its id; then by number, occurrence by occurrence.
    // Normalized once per article (empty for other units), not once per pass. Texts are
    // compared rather than digests (the same test), so that matching does not wait for
    // the hashing (see `pipeline`).
    let num_keys = |units: &[Unit]| -> Vec<String> {
        units
            .iter()
            .map(|u| match u.kind {
                UnitKind::Article => normalize_num(u.num.as_deref().unwrap_or("")),
                _ => String::new(),
            })
            .collect()
    };
    let (old_nums, new_nums) = (num_keys(old), num_keys(new));
    // The old articles of each number, in order, as a chain (first of the number, then
    // each one's next): the first pass takes, for each new article, the first one not
    // taken with the same text; the second the first left. The texts are compared only
    // within a number, and not hashed whole. (A chain, not a queue per number: one
    // allocation instead of one per article.)
    let mut first_of: HashMap<&str, usize> = HashMap::default();
    let mut next_of: Vec<Option<usize>> = vec![None; old.len()];
    let mut last_of: HashMap<&str, usize> = HashMap::default();
    for (i, u) in old.iter().enumerate() {
        if u.kind == UnitKind::Article {
            let key = old_nums[i].as_str();
            match last_of.insert(key, i) {
                Some(prev) => next_of[prev] = Some(i),
                None => {
                    first_of.insert(key, i);
                }
            }
        }
    }
    let chain = |key: &str| std::iter::successors(first_of.get(key).copied(), |&i| next_of[i]);
    // New articles whose text is that of their match: their paragraphs are too.
    let mut identical = vec![false; new.len()];
    for (j, u) in new.iter().enumerate() {
        if u.kind == UnitKind::Article {
            let text = u.text(new_md);
            if let Some(i) = chain(&new_nums[j]).find(|&i| !used[i] && old[i].text(old_md) == text)
            {
                take(j, i, matched, &mut used);
                identical[j] = true;
            }
        }
    }
    for (j, u) in new.iter().enumerate() {
        if u.kind == UnitKind::Article && matched[j].is_none() {
            if let Some(i) = chain(&new_nums[j]).find(|&i| !used[i]) {
                take(j, i, matched, &mut used);
            }
        }
    }
    // Renumbered articles: same body, then similar body.
    let left_old: Vec<usize> = (0..old.len())
        .filter(|&i| old[i].kind == UnitKind::Article && !used[i])
        .collect();
    let left_new: Vec<usize> = (0..new.len())
        .filter(|&j| new[j].kind == UnitKind::Article && matched[j].is_none())
        .collect();
    if !left_old.is_empty() && !left_new.is_empty() {
        renumbered(
            old_md,
            old,
            &left_old,
            new_md,
            new,
            &left_new,
            &mut |j, i| take(j, i, matched, &mut used),
        );
    }

    // Divisions: by citation path, then by heading text.
    let mut by_eid: HashMap<&str, usize> = HashMap::default();
    let mut by_heading: HashMap<&str, VecDeque<usize>> = HashMap::default();
    for (i, u) in old.iter().enumerate() {
        if u.kind == UnitKind::Division {
            by_eid.insert(u.eid.as_str(), i);
            by_heading
                .entry(u.heading.as_deref().unwrap_or(""))
                .or_default()
                .push_back(i);
        }
    }
    for (j, u) in new.iter().enumerate() {
        if u.kind == UnitKind::Division {
            if let Some(&i) = by_eid.get(u.eid.as_str()) {
                if !used[i] {
                    take(j, i, matched, &mut used);
                }
            }
        }
    }
    for (j, u) in new.iter().enumerate() {
        if u.kind == UnitKind::Division && matched[j].is_none() {
            if let Some(q) = by_heading.get_mut(u.heading.as_deref().unwrap_or("")) {
                while let Some(i) = q.pop_front() {
                    if !used[i] {
                        take(j, i, matched, &mut used);
                        break;
                    }
                }
            }
        }
    }

    // Paragraphs: aligned within each matched parent (or at the root).
    let mut old_children: HashMap<Option<usize>, Vec<usize>> = HashMap::default();
    for (i, u) in old.iter().enumerate() {
        if u.kind == UnitKind::Paragraph {
            old_children.entry(u.parent).or_default().push(i);
        }
    }
    let mut new_children: HashMap<Option<usize>, Vec<usize>> = HashMap::default();
    for (j, u) in new.iter().enumerate() {
        if u.kind == UnitKind::Paragraph {
            new_children.entry(u.parent).or_default().push(j);
        }
    }
    for (parent, kids) in &new_children {
        let old_parent = match parent {
            None => None,
            Some(p) => match matched[*p] {
                Some(op) => Some(op),
                None => continue,
            },
        };
        let Some(old_kids) = old_children.get(&old_parent) else {
            continue;
        };
        // Same article text, same paragraphs: no need to compare them again (most
        // articles of a new version did not change).
        if parent.is_some_and(|p| identical[p]) && kids.len() == old_kids.len() {
            for (&j, &i) in kids.iter().zip(old_kids) {
                take(j, i, matched, &mut used);
            }
            continue;
        }
        let oh: Vec<&str> = old_kids.iter().map(|&i| old[i].text(old_md)).collect();
        let nh: Vec<&str> = kids.iter().map(|&j| new[j].text(new_md)).collect();
        if oh == nh {
            for (&j, &i) in kids.iter().zip(old_kids) {
                take(j, i, matched, &mut used);
            }
            continue;
        }
        for op in capture_diff_slices(Algorithm::Myers, &oh, &nh) {
            match op {
                DiffOp::Equal {
                    old_index,
                    new_index,
                    len,
                } => {
                    for k in 0..len {
                        take(
                            kids[new_index + k],
                            old_kids[old_index + k],
                            matched,
                            &mut used,
                        );
                    }
                }
                DiffOp::Replace {
                    old_index,
                    old_len,
                    new_index,
                    new_len,
                } => {
                    // A delete + insert of similar text is one modified paragraph; pairs
                    // keep their order.
                    let mut from = old_index;
                    let mut old_words: Vec<Option<Words>> = (0..old_len).map(|_| None).collect();
                    for n in new_index..new_index + new_len {
                        let nt = Words::new(new[kids[n]].text(new_md));
                        for o in from..old_index + old_len {
                            let ot = old_words[o - old_index]
                                .get_or_insert_with(|| Words::new(old[old_kids[o]].text(old_md)));
                            if is_similar(ot, &nt) {
                                take(kids[n], old_kids[o], matched, &mut used);
                                from = o + 1;
                                break;
                            }
                        }
                    }
                }
                DiffOp::Delete { .. } | DiffOp::Insert { .. } => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::parse::parse;

    fn version(md: &str, prev: Option<(&str, &[Unit])>, alloc: &mut WidAllocator) -> Vec<Unit> {
        let mut units = parse(md).units;
        assign_wids(prev, md, &mut units, alloc);
        units
    }

    fn wid_of<'a>(units: &'a [Unit], eid: &str) -> &'a str {
        &units.iter().find(|u| u.eid == eid).unwrap().wid
    }

    #[test]
    fn wids_survive_edits_insertions_and_renumbering() {
        let v1 = "# Titre Ier\n\n## Article 1er\n\nPremier alinéa du premier article.\n\nSecond alinéa, qui sera modifié dans la suite des débats.\n\n## Article 2\n\nLe maire publie le budget.\n\n## Article 3\n\nCet article sera renuméroté sans changer de texte.\n";
        let v2 = "# Titre Ier\n\n## Article 1er\n\nUn alinéa nouveau placé en tête.\n\nPremier alinéa du premier article.\n\nSecond alinéa, qui a été modifié dans la suite des débats.\n\n## Article 1er bis\n\nArticle inséré.\n\n## Article 4\n\nCet article sera renuméroté sans changer de texte.\n";
        let mut alloc = WidAllocator::new(1);
        let u1 = version(v1, None, &mut alloc);
        let u2 = version(v2, Some((v1, &u1)), &mut alloc);
        assert_eq!(wid_of(&u1, "titre_ier"), wid_of(&u2, "titre_ier"));
        assert_eq!(wid_of(&u1, "art_1er"), wid_of(&u2, "art_1er"));
        assert_eq!(
            wid_of(&u1, "art_1er__para_1"),
            wid_of(&u2, "art_1er__para_2")
        );
        // Modified paragraph keeps its wid.
        assert_eq!(
            wid_of(&u1, "art_1er__para_2"),
            wid_of(&u2, "art_1er__para_3")
        );
        // Renumbered article (same text) keeps its wid.
        assert_eq!(wid_of(&u1, "art_3"), wid_of(&u2, "art_4"));
        // New units get fresh, distinct wids.
        let mut all: Vec<&str> = u1.iter().chain(&u2).map(|u| u.wid.as_str()).collect();
        let fresh = wid_of(&u2, "art_1er-bis");
        assert!(u1.iter().all(|u| u.wid != fresh));
        assert!(fresh.starts_with('a'));
        all.sort();
        all.dedup();
        assert_eq!(
            all.len(),
            u1.len() + 3,
            "one article and two paragraphs are new"
        );
        // The removed article 2 does not come back.
        assert!(u2.iter().all(|u| u.wid != wid_of(&u1, "art_2")));
    }

    #[test]
    fn duplicate_numbers_match_in_order() {
        let v1 = "## Article 21\n\nA.\n\n## Article 21\n\nB.\n";
        let v2 = "## Article 21\n\nA modifié.\n\n## Article 21\n\nB.\n";
        let mut alloc = WidAllocator::new(1);
        let u1 = version(v1, None, &mut alloc);
        let u2 = version(v2, Some((v1, &u1)), &mut alloc);
        assert_ne!(u1[0].wid, u1[2].wid);
        assert_eq!(u1[0].wid, u2[0].wid);
        assert_eq!(u1[2].wid, u2[2].wid);
        assert_eq!(u1[3].wid, u2[3].wid);
    }

    #[test]
    fn the_unchanged_copy_of_a_duplicate_keeps_its_id() {
        let v1 = "## Article 21\n\nA.\n\n## Article 21\n\nB.\n";
        let v2 = "## Article 21\n\nB.\n";
        let mut alloc = WidAllocator::new(1);
        let u1 = version(v1, None, &mut alloc);
        let u2 = version(v2, Some((v1, &u1)), &mut alloc);
        assert_eq!(u2[0].wid, u1[2].wid);
    }

    #[test]
    fn lcs_bound_agrees_with_the_diff_ratio() {
        let texts = [
            "Le délai est de trois mois à compter de la publication.",
            "Le délai est de six mois à compter de la notification de l'acte.",
            "Le maire publie le budget de la commune chaque année.",
            "La commune publie chaque année son budget.",
            "Un texte sans aucun rapport avec les autres.",
            "",
            "délai mois publication",
        ];
        for a in texts {
            for b in texts {
                let (x, y) = (Words::new(a), Words::new(b));
                let (wa, wb) = (x.words(), y.words());
                let ratio = similar::TextDiff::configure()
                    .algorithm(Algorithm::Myers)
                    .diff_slices(wa, wb)
                    .ratio();
                let lcs = ((ratio * (wa.len() + wb.len()) as f32) / 2.0).round() as usize;
                assert!(lcs_at_least(wa, wb, lcs), "{a:?} / {b:?}");
                assert!(!lcs_at_least(wa, wb, lcs + 1), "{a:?} / {b:?}");
                assert_eq!(is_similar(&x, &y), similar_enough(&x, &y).is_some());
            }
        }
    }

    /// Whether old article `from` (of version `old`) and new article `to` (of `new`)
    /// share a wid.
    fn renumbered_as(old: &str, new: &str, from: &str, to: &str) -> bool {
        let mut alloc = WidAllocator::new(1);
        let u1 = version(old, None, &mut alloc);
        let u2 = version(new, Some((old, &u1)), &mut alloc);
        wid_of(&u1, from) == wid_of(&u2, to)
    }

    #[test]
    fn words_not_the_spaces_between_them_make_a_renumbering() {
        // Two unrelated articles of the Code civil that an earlier rule linked (scoring
        // 0.51 with the separators counted as tokens, 0.2 on words).
        let old = "## Article 869\n\nLe rapport d'une somme d'argent est égal à son montant. Toutefois, si elle a servi à acquérir un bien, le rapport est dû de la valeur de ce bien, dans les conditions prévues à l'article 860.\n";
        let new = "## Article 806\n\nLe renonçant n'est pas tenu au paiement des dettes et charges de la succession. Toutefois, il est tenu à proportion de ses moyens au paiement des frais funéraires de l'ascendant ou du descendant à la succession duquel il a renoncé.\n";
        assert!(word_similarity(old, new) < 0.3);
        assert!(!renumbered_as(old, new, "art_869", "art_806"));
        // The same article, renumbered and reworded a little, is linked.
        let moved = "## Article 806\n\nLe rapport d'une somme d'argent est égal à son montant. Toutefois, si elle a servi à acquérir un bien, le rapport est dû de la valeur de ce bien, dans les conditions prévues à l'article 861.\n";
        assert!(renumbered_as(old, moved, "art_869", "art_806"));
    }

    #[test]
    fn boilerplate_and_doubtful_renumberings_read_as_removed_and_added() {
        // « Abrogé. » says nothing about which article it is.
        assert!(!renumbered_as(
            "## Article 3\n\nAbrogé.\n",
            "## Article 7\n\nAbrogé.\n",
            "art_3",
            "art_7"
        ));
        // Two old articles fit the new one equally: neither is chosen.
        let body = "Les dispositions du présent chapitre sont applicables dans les îles Wallis et Futuna, en Polynésie française et en Nouvelle-Calédonie.";
        let old = format!("## Article 3\n\n{body}\n\n## Article 4\n\n{body}\n");
        let new = format!("## Article 9\n\n{body}\n");
        assert!(!renumbered_as(&old, &new, "art_3", "art_9"));
        assert!(!renumbered_as(&old, &new, "art_4", "art_9"));
        // Alone, the same body is one article renumbered.
        let old = format!("## Article 3\n\n{body}\n");
        assert!(renumbered_as(&old, &new, "art_3", "art_9"));
    }

    #[test]
    fn allocator_is_base36() {
        let mut a = WidAllocator::new(35);
        assert_eq!(a.mint(UnitKind::Article), "az");
        assert_eq!(a.mint(UnitKind::Paragraph), "p10");
        assert_eq!(a.next_value(), 37);
    }
}
