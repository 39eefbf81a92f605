//! Markdown to units with wids and digests, with less hashing and on two cores. The
//! SHA-256 of every unit is the largest part of parsing (an article is hashed over its
//! whole span, which its paragraphs cover again, and the stored digests must stay those),
//! but matching and comparing need only the texts: so a unit whose text equals that of
//! its match in the previous version takes its digest, and the rest are hashed on a
//! second thread while this one matches and compares.

use super::diff::{compare_versions, VersionDiff};
use super::hash::sha256_hex;
use super::matching::{assign_wids_matched, WidAllocator};
use super::parse::{parse_unhashed, ParsedVersion};
use super::units::Unit;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Below this many bytes of markdown a second thread costs more than it saves.
const PARALLEL_MIN: usize = 64 * 1024;

/// Units hashed per claim: small enough to share the tail between the two threads,
/// large enough that the shared counter is rarely touched.
const CHUNK: usize = 64;

fn join<T>(h: std::thread::ScopedJoinHandle<'_, T>) -> T {
    // A panic of the other thread is a bug: pass it on.
    h.join().unwrap_or_else(|e| std::panic::resume_unwind(e))
}

fn spans(units: &[Unit]) -> Vec<(usize, usize)> {
    units.iter().map(|u| (u.start, u.end)).collect()
}

/// The digests of `spans` of `markdown`, hashed on a second thread while `work` runs on
/// this one, which then helps with the spans left.
fn hash_while<R>(
    markdown: &str,
    spans: &[(usize, usize)],
    work: impl FnOnce() -> R,
) -> (Vec<String>, R) {
    let bytes = markdown.as_bytes();
    let next = AtomicUsize::new(0);
    let chunks = spans.len().div_ceil(CHUNK);
    let hash = || {
        let mut done: Vec<(usize, Vec<String>)> = Vec::new();
        loop {
            let c = next.fetch_add(1, Ordering::Relaxed);
            if c >= chunks {
                return done;
            }
            let part = &spans[c * CHUNK..((c + 1) * CHUNK).min(spans.len())];
            done.push((
                c,
                part.iter()
                    .map(|&(s, e)| sha256_hex(&bytes[s..e]))
                    .collect(),
            ));
        }
    };
    let (mut parts, r) = std::thread::scope(|s| {
        let other = s.spawn(hash);
        let r = work();
        let mut parts = hash();
        parts.extend(join(other));
        (parts, r)
    });
    parts.sort_unstable_by_key(|&(c, _)| c);
    (parts.into_iter().flat_map(|(_, d)| d).collect(), r)
}

/// Sets the digests of `units`: that of the matched previous unit when the texts are
/// equal (a memcmp instead of a hash), else computed.
fn fill_digests(
    prev: Option<(&str, &[Unit])>,
    markdown: &str,
    units: &mut [Unit],
    matched: &[Option<usize>],
) {
    for (u, m) in units.iter_mut().zip(matched) {
        let text = u.text(markdown);
        u.sha256 = match (prev, m) {
            (Some((old_md, old)), Some(i))
                if !old[*i].sha256.is_empty() && old[*i].text(old_md) == text =>
            {
                old[*i].sha256.clone()
            }
            _ => sha256_hex(text.as_bytes()),
        };
    }
}

/// `parse` then `assign_wids` (see there): the same units, wids and digests, but units
/// unchanged since `prev` take their digests instead of being hashed, and a first
/// version is hashed on two cores.
pub fn parse_version(
    prev: Option<(&str, &[Unit])>,
    markdown: &str,
    alloc: &mut WidAllocator,
) -> ParsedVersion {
    let mut parsed = parse_unhashed(markdown);
    if prev.is_none() && markdown.len() >= PARALLEL_MIN {
        let (digests, ()) = hash_while(markdown, &spans(&parsed.units), || ());
        for (u, d) in parsed.units.iter_mut().zip(digests) {
            u.sha256 = d;
        }
        assign_wids_matched(None, markdown, &mut parsed.units, alloc);
        return parsed;
    }
    let matched = assign_wids_matched(prev, markdown, &mut parsed.units, alloc);
    fill_digests(prev, markdown, &mut parsed.units, &matched);
    parsed
}

/// Two versions of a text compared from their markdown alone.
#[derive(Debug, Clone)]
pub struct TextComparison {
    pub old: ParsedVersion,
    pub new: ParsedVersion,
    pub diff: VersionDiff,
}

/// Parses both texts, gives the old one fresh wids and the new one wids matched against
/// it, and compares them: the same as `parse`, `assign_wids` twice and
/// `compare_versions`, with the two texts parsed at once, the old one hashed beside the
/// matching and the diff, and the new one's unchanged units taking the old digests.
pub fn compare_texts(old_md: &str, new_md: &str, alloc: &mut WidAllocator) -> TextComparison {
    let parallel = old_md.len().max(new_md.len()) >= PARALLEL_MIN;
    let (mut old, mut new) = if parallel {
        std::thread::scope(|s| {
            let other = s.spawn(|| parse_unhashed(old_md));
            let new = parse_unhashed(new_md);
            (join(other), new)
        })
    } else {
        (parse_unhashed(old_md), parse_unhashed(new_md))
    };
    let old_spans = if parallel {
        spans(&old.units)
    } else {
        Vec::new()
    };
    let (old_units, new_units) = (&mut old.units, &mut new.units);
    let mut work = || {
        assign_wids_matched(None, old_md, old_units, alloc);
        let matched = assign_wids_matched(Some((old_md, old_units)), new_md, new_units, alloc);
        let diff = compare_versions(old_md, old_units, new_md, new_units);
        (matched, diff)
    };
    let (digests, (matched, diff)) = if parallel {
        hash_while(old_md, &old_spans, work)
    } else {
        let r = work();
        (
            old_units
                .iter()
                .map(|u| sha256_hex(u.text(old_md).as_bytes()))
                .collect(),
            r,
        )
    };
    for (u, d) in old.units.iter_mut().zip(digests) {
        u.sha256 = d;
    }
    fill_digests(Some((old_md, &old.units)), new_md, &mut new.units, &matched);
    TextComparison { old, new, diff }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::matching::assign_wids;
    use crate::text::parse::parse;

    /// A text above `PARALLEL_MIN`, so that the threaded path runs.
    fn big(seed: &str) -> String {
        let mut md = String::from("# Titre Ier\n\n");
        for i in 0..800 {
            md.push_str(&format!(
                "## Article {i}\n\nPremier alinéa de l'article {i}, {seed}.\n\nSecond alinéa, qui reste le même pour l'article {i} dans toutes les versions de ce texte.\n\n"
            ));
        }
        md
    }

    #[test]
    fn same_units_as_parse_then_assign_wids() {
        let old_md = big("version une");
        let new_md = big("version deux").replace("## Article 7\n", "## Article 7 bis\n");
        assert!(old_md.len() >= PARALLEL_MIN);
        let mut a = WidAllocator::new(1);
        let mut old = parse(&old_md).units;
        assign_wids(None, &old_md, &mut old, &mut a);
        let mut new = parse(&new_md).units;
        assign_wids(Some((&old_md, &old)), &new_md, &mut new, &mut a);
        let want = compare_versions(&old_md, &old, &new_md, &new);

        let mut b = WidAllocator::new(1);
        let c = compare_texts(&old_md, &new_md, &mut b);
        assert_eq!(c.old.units, old);
        assert_eq!(c.new.units, new);
        assert_eq!(c.diff.summary, want.summary);
        assert_eq!(c.diff.changes.len(), want.changes.len());
        for (x, y) in c.diff.changes.iter().zip(&want.changes) {
            assert_eq!((&x.wid, x.status, &x.ops), (&y.wid, y.status, &y.ops));
        }
        assert_eq!(a.next_value(), b.next_value());

        let mut b = WidAllocator::new(1);
        let o = parse_version(None, &old_md, &mut b);
        let n = parse_version(Some((&old_md, &o.units)), &new_md, &mut b);
        assert_eq!(o.units, old);
        assert_eq!(n.units, new);
        assert_eq!(a.next_value(), b.next_value());
    }
}
