//! Word-level diffs, per unit and between two whole versions.

use super::units::{Unit, UnitKind};
use rustc_hash::FxHashMap as HashMap;
use serde::Serialize;
use similar::{Algorithm, ChangeTag, TextDiff};
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DiffTag {
    Equal,
    Delete,
    Insert,
}

/// One run of words kept, deleted or inserted. Consecutive runs never share a tag.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DiffOp {
    pub tag: DiffTag,
    pub text: String,
}

/// Word diff (Unicode word boundaries, whitespace kept as its own tokens). A deadline
/// bounds pathological inputs: past it the diff gets coarser but stays exact.
pub fn word_diff(old: &str, new: &str) -> Vec<DiffOp> {
    let mut ops: Vec<DiffOp> = Vec::new();
    if old == new {
        if !old.is_empty() {
            ops.push(DiffOp {
                tag: DiffTag::Equal,
                text: old.to_string(),
            });
        }
        return ops;
    }
    let diff = TextDiff::configure()
        .algorithm(Algorithm::Myers)
        .deadline(Instant::now() + Duration::from_millis(200))
        .diff_unicode_words(old, new);
    for change in diff.iter_all_changes() {
        let tag = match change.tag() {
            ChangeTag::Equal => DiffTag::Equal,
            ChangeTag::Delete => DiffTag::Delete,
            ChangeTag::Insert => DiffTag::Insert,
        };
        match ops.last_mut() {
            Some(last) if last.tag == tag => last.text.push_str(change.value()),
            _ => ops.push(DiffOp {
                tag,
                text: change.value().to_string(),
            }),
        }
    }
    ops
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("the diff does not apply to this text at byte {0}")]
pub struct ApplyError(pub usize);

/// Applies a diff to the text it was computed from, checking every kept and deleted run.
pub fn apply_ops(old: &str, ops: &[DiffOp]) -> Result<String, ApplyError> {
    let mut out = String::with_capacity(old.len());
    let mut pos = 0;
    for op in ops {
        match op.tag {
            DiffTag::Equal | DiffTag::Delete => {
                if !old[pos..].starts_with(&op.text) {
                    return Err(ApplyError(pos));
                }
                if op.tag == DiffTag::Equal {
                    out.push_str(&op.text);
                }
                pos += op.text.len();
            }
            DiffTag::Insert => out.push_str(&op.text),
        }
    }
    if pos != old.len() {
        return Err(ApplyError(pos));
    }
    Ok(out)
}

/// The old text of a diff (kept and deleted runs).
pub fn old_text(ops: &[DiffOp]) -> String {
    ops.iter()
        .filter(|o| o.tag != DiffTag::Insert)
        .map(|o| o.text.as_str())
        .collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Unchanged,
    Modified,
    Added,
    Removed,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Unchanged => "unchanged",
            Status::Modified => "modified",
            Status::Added => "added",
            Status::Removed => "removed",
        }
    }
}

/// Counts of article units.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub added: usize,
    pub removed: usize,
    pub modified: usize,
    pub unchanged: usize,
}

/// One unit of the comparison, in reading order. `old`/`new` index into the unit lists.
#[derive(Debug, Clone)]
pub struct UnitChange {
    pub kind: UnitKind,
    pub wid: String,
    pub status: Status,
    pub old: Option<usize>,
    pub new: Option<usize>,
    /// Word diff of the unit's own text (a heading, or a paragraph): empty when that
    /// text is unchanged, one insert for an added unit, one delete for a removed one.
    /// Articles carry their heading here; their paragraphs are units of their own.
    pub ops: Vec<DiffOp>,
}

#[derive(Debug, Clone)]
pub struct VersionDiff {
    pub summary: Summary,
    pub changes: Vec<UnitChange>,
}

/// The text a unit owns itself: the heading text (without its `#` marks) for divisions
/// and articles (an article's paragraphs are separate units), the block for paragraphs.
pub fn own_text<'a>(markdown: &'a str, unit: &Unit) -> &'a str {
    let text = unit.text(markdown);
    match unit.kind {
        UnitKind::Paragraph => text,
        _ => text
            .lines()
            .next()
            .unwrap_or("")
            .trim_start()
            .trim_start_matches('#')
            .trim(),
    }
}

/// Compares two versions of one bill unit by unit, matching units by work id (which
/// survives across versions), in the reading order of the new version; a removed unit is
/// shown after the last unit before it that survives.
pub fn compare_versions(
    old_md: &str,
    old_units: &[Unit],
    new_md: &str,
    new_units: &[Unit],
) -> VersionDiff {
    let old_by_wid: HashMap<&str, usize> = old_units
        .iter()
        .enumerate()
        .map(|(i, u)| (u.wid.as_str(), i))
        .collect();
    // For each new unit, the old unit with its wid: looked up once, and no map of the new
    // wids (an old unit survives when a new unit has its wid).
    let old_of: Vec<Option<usize>> = new_units
        .iter()
        .map(|u| old_by_wid.get(u.wid.as_str()).copied())
        .collect();
    let mut kept = vec![false; old_units.len()];
    for &i in old_of.iter().flatten() {
        kept[i] = true;
    }
    // Wids are unique within a version, so an old unit is its wid's entry; should one
    // repeat, the map's entry for it stands for all its units.
    let unique = old_by_wid.len() == old_units.len();
    let entry = |i: usize| {
        if unique {
            i
        } else {
            old_by_wid[old_units[i].wid.as_str()]
        }
    };

    // Removed units, grouped by the entry of the surviving unit they follow (None =
    // before everything).
    let mut removed_after: HashMap<Option<usize>, Vec<usize>> = HashMap::default();
    let mut anchor: Option<usize> = None;
    for i in 0..old_units.len() {
        let e = entry(i);
        if kept[e] {
            anchor = Some(e);
        } else {
            removed_after.entry(anchor).or_default().push(i);
        }
    }

    let mut summary = Summary::default();
    let mut changes = Vec::with_capacity(new_units.len());
    let removed = |i: usize, changes: &mut Vec<UnitChange>, summary: &mut Summary| {
        let u = &old_units[i];
        if u.kind == UnitKind::Article {
            summary.removed += 1;
        }
        changes.push(UnitChange {
            kind: u.kind,
            wid: u.wid.clone(),
            status: Status::Removed,
            old: Some(i),
            new: None,
            ops: vec![DiffOp {
                tag: DiffTag::Delete,
                text: own_text(old_md, u).to_string(),
            }],
        });
    };
    for &i in removed_after.get(&None).into_iter().flatten() {
        removed(i, &mut changes, &mut summary);
    }
    // (change, old text, new text) of every unit whose own text changed.
    let mut pending: Vec<(usize, &str, &str)> = Vec::new();
    for (j, u) in new_units.iter().enumerate() {
        let change = match old_of[j] {
            Some(i) => {
                let o = &old_units[i];
                // The texts rather than the digests, which may not be computed yet (see
                // `pipeline`): equal texts are equal digests.
                let status = if o.text(old_md) == u.text(new_md) {
                    Status::Unchanged
                } else {
                    Status::Modified
                };
                if u.kind == UnitKind::Article {
                    match status {
                        Status::Unchanged => summary.unchanged += 1,
                        _ => summary.modified += 1,
                    }
                }
                let (a, b) = (own_text(old_md, o), own_text(new_md, u));
                // Equal units have equal own texts: no need to compare these again (most
                // units of a new version are unchanged).
                let same = status == Status::Unchanged || a == b;
                if !same {
                    // This change's index: it is pushed right below.
                    pending.push((changes.len(), a, b));
                }
                UnitChange {
                    kind: u.kind,
                    wid: u.wid.clone(),
                    status: if same && u.kind != UnitKind::Article {
                        Status::Unchanged
                    } else {
                        status
                    },
                    old: Some(i),
                    new: Some(j),
                    // Unchanged text needs no operations (and no copy); the word diffs
                    // of changed texts are made below, all at once.
                    ops: Vec::new(),
                }
            }
            None => {
                if u.kind == UnitKind::Article {
                    summary.added += 1;
                }
                UnitChange {
                    kind: u.kind,
                    wid: u.wid.clone(),
                    status: Status::Added,
                    old: None,
                    new: Some(j),
                    ops: vec![DiffOp {
                        tag: DiffTag::Insert,
                        text: own_text(new_md, u).to_string(),
                    }],
                }
            }
        };
        changes.push(change);
        if removed_after.is_empty() || old_of[j].is_none() {
            continue;
        }
        if let Some(list) = removed_after.get(&old_of[j]) {
            for &i in list {
                removed(i, &mut changes, &mut summary);
            }
        }
    }
    for (k, ops) in word_diffs(&pending) {
        changes[k].ops = ops;
    }
    VersionDiff { summary, changes }
}

/// Above this many bytes of changed text, the word diffs are shared between two cores.
const PARALLEL_DIFF_MIN: usize = 32 * 1024;

/// The word diffs of `pending` (change index, old text, new text), made on two threads
/// when there is enough text: each takes the next unit left, so a long one does not hold
/// the other thread up.
fn word_diffs(pending: &[(usize, &str, &str)]) -> Vec<(usize, Vec<DiffOp>)> {
    let bytes: usize = pending.iter().map(|(_, a, b)| a.len() + b.len()).sum();
    if bytes < PARALLEL_DIFF_MIN {
        return pending
            .iter()
            .map(|&(k, a, b)| (k, word_diff(a, b)))
            .collect();
    }
    let next = std::sync::atomic::AtomicUsize::new(0);
    let work = || {
        let mut done = Vec::new();
        loop {
            let n = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let Some(&(k, a, b)) = pending.get(n) else {
                return done;
            };
            done.push((k, word_diff(a, b)));
        }
    };
    std::thread::scope(|s| {
        let other = s.spawn(work);
        let mut done = work();
        // A panic of the other thread is a bug: pass it on.
        done.extend(
            other
                .join()
                .unwrap_or_else(|e| std::panic::resume_unwind(e)),
        );
        done
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn word_diff_roundtrip() {
        let old = "Le délai est de trois mois à compter de la publication.";
        let new = "Le délai est de six mois à compter de la notification de l'acte.";
        let ops = word_diff(old, new);
        assert_eq!(apply_ops(old, &ops).unwrap(), new);
        assert_eq!(old_text(&ops), old);
        assert!(ops
            .iter()
            .any(|o| o.tag == DiffTag::Delete && o.text.contains("trois")));
        assert!(ops
            .iter()
            .any(|o| o.tag == DiffTag::Insert && o.text.contains("six")));
        for w in ops.windows(2) {
            assert_ne!(w[0].tag, w[1].tag);
        }
    }

    #[test]
    fn word_diffs_on_two_cores_are_those_of_one() {
        let texts: Vec<(String, String)> = (0..400)
            .map(|i| {
                (
                    format!("Le délai de recours est de {i} jours à compter de la publication de l'acte."),
                    format!("Le délai de recours contentieux est de {} jours à compter de sa notification.", i + 1),
                )
            })
            .collect();
        let pending: Vec<(usize, &str, &str)> = texts
            .iter()
            .enumerate()
            .map(|(k, (a, b))| (3 * k, a.as_str(), b.as_str()))
            .collect();
        let bytes: usize = pending.iter().map(|(_, a, b)| a.len() + b.len()).sum();
        assert!(bytes >= PARALLEL_DIFF_MIN, "the threaded path runs");
        let mut got = word_diffs(&pending);
        got.sort_by_key(|(k, _)| *k);
        let want: Vec<(usize, Vec<DiffOp>)> = pending
            .iter()
            .map(|&(k, a, b)| (k, word_diff(a, b)))
            .collect();
        assert_eq!(got, want);
        for ((_, a, b), (_, ops)) in pending.iter().zip(&got) {
            assert_eq!(apply_ops(a, ops).unwrap(), *b);
        }
    }

    #[test]
    fn apply_rejects_wrong_base() {
        let ops = word_diff("a b c", "a x c");
        assert!(apply_ops("a b d", &ops).is_err());
        assert!(apply_ops("a b c extra", &ops).is_err());
    }

    #[test]
    fn identical_and_empty() {
        assert!(word_diff("", "").is_empty());
        let ops = word_diff("", "nouveau");
        assert_eq!(apply_ops("", &ops).unwrap(), "nouveau");
        let ops = word_diff("même", "même");
        assert_eq!(ops.len(), 1);
        assert_eq!(ops[0].tag, DiffTag::Equal);
    }
}
