//! Markdown to units with wids (and digests, for storage), with less hashing and on two
//! cores. The SHA-256 of every unit is the largest part of parsing (an article is hashed
//! over its whole span, which its paragraphs cover again, and the stored digests must
//! stay those), but matching and comparing need only the texts: so an import's unit whose
//! text equals that of its match in the previous version takes its digest, a first
//! version is hashed on two cores, and a comparison for reading (`diff_sources`) hashes
//! nothing.

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

/// The digests of `spans` of `markdown`, hashed on two threads.
fn hash_two_cores(markdown: &str, spans: &[(usize, usize)]) -> Vec<String> {
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
    let mut parts = std::thread::scope(|s| {
        let other = s.spawn(hash);
        let mut parts = hash();
        parts.extend(join(other));
        parts
    });
    parts.sort_unstable_by_key(|&(c, _)| c);
    parts.into_iter().flat_map(|(_, d)| d).collect()
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
        let digests = hash_two_cores(markdown, &spans(&parsed.units));
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
    /// Units without digests (`sha256` empty): a comparison shows none.
    pub old: ParsedVersion,
    pub new: ParsedVersion,
    pub diff: VersionDiff,
}

/// Compares two texts for reading (`amenda diff`), which `load_old` and `load_new` read
/// (from files, say), each read and parsed on its own core: the old one gets fresh wids
/// from 1 (minted on its core), the new one wids matched against it, then
/// `compare_versions` — the same units, wids and diff as `parse`, `assign_wids` twice and
/// `compare_versions`, but without the SHA-256 of every unit, which only storage needs.
/// Returns both texts with their comparison, or the first error of a loader (the old
/// one's when both fail).
pub fn diff_sources<T, E>(
    load_old: impl FnOnce() -> Result<T, E> + Send,
    load_new: impl FnOnce() -> Result<T, E>,
) -> Result<(T, T, TextComparison), E>
where
    T: AsRef<str> + Send,
    E: Send,
{
    let old_side = || {
        let md = load_old()?;
        let mut parsed = parse_unhashed(md.as_ref());
        let mut alloc = WidAllocator::new(1);
        assign_wids_matched(None, md.as_ref(), &mut parsed.units, &mut alloc);
        Ok((md, parsed, alloc))
    };
    let new_side = || {
        let md = load_new()?;
        let parsed = parse_unhashed(md.as_ref());
        Ok((md, parsed))
    };
    let (old_side, new_side) = std::thread::scope(|s| {
        let other = s.spawn(old_side);
        let new_side = new_side();
        (join(other), new_side)
    });
    let (old_md, old, mut alloc) = old_side?;
    let (new_md, mut new) = new_side?;
    let (o, n) = (old_md.as_ref(), new_md.as_ref());
    assign_wids_matched(Some((o, &old.units)), n, &mut new.units, &mut alloc);
    let diff = compare_versions(o, &old.units, n, &new.units);
    Ok((old_md, new_md, TextComparison { old, new, diff }))
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
        // diff_sources: the same units without digests, the same diff; parse_version: the
        // same units with the same digests and the same next wid.
        let old_md = big("version une");
        let new_md = big("version deux").replace("## Article 7\n", "## Article 7 bis\n");
        assert!(old_md.len() >= PARALLEL_MIN);
        let mut a = WidAllocator::new(1);
        let mut old = parse(&old_md).units;
        assign_wids(None, &old_md, &mut old, &mut a);
        let mut new = parse(&new_md).units;
        assign_wids(Some((&old_md, &old)), &new_md, &mut new, &mut a);
        let want = compare_versions(&old_md, &old, &new_md, &new);

        let (_, _, c) = diff_sources(|| Ok::<_, ()>(&old_md), || Ok(&new_md)).unwrap();
        let unhashed = |units: &[Unit]| {
            let mut units = units.to_vec();
            units.iter_mut().for_each(|u| u.sha256.clear());
            units
        };
        assert_eq!(c.old.units, unhashed(&old));
        assert_eq!(c.new.units, unhashed(&new));
        assert_eq!(c.diff.summary, want.summary);
        assert_eq!(c.diff.changes.len(), want.changes.len());
        for (x, y) in c.diff.changes.iter().zip(&want.changes) {
            assert_eq!((&x.wid, x.status, &x.ops), (&y.wid, y.status, &y.ops));
        }

        let mut b = WidAllocator::new(1);
        let o = parse_version(None, &old_md, &mut b);
        let n = parse_version(Some((&old_md, &o.units)), &new_md, &mut b);
        assert_eq!(o.units, old);
        assert_eq!(n.units, new);
        assert_eq!(a.next_value(), b.next_value());
    }

    #[test]
    fn a_loader_error_is_returned_the_old_ones_first() {
        let fail = |what: &'static str| move || Err::<&str, _>(what);
        let ok = || Ok("## Article 1er\n\nTexte.\n");
        assert_eq!(diff_sources(fail("old"), fail("new")).unwrap_err(), "old");
        assert_eq!(diff_sources(ok, fail("new")).unwrap_err(), "new");
        assert_eq!(diff_sources(fail("old"), ok).unwrap_err(), "old");
        let (_, _, c) = diff_sources(ok, ok).unwrap();
        assert_eq!(c.diff.summary.unchanged, 1);
    }
}
