//! The count (DESIGN §6): the last ballot of each voter token counts; per item and
//! option, a total, a headline (ballots at or above the manifest's minimum level) and
//! breakdowns by level and by disclosure; `result.csv` written byte-exactly.

use super::entry::{Answer, Ballot, Disclosure, EntryError, Manifest, RevotePolicy, MAX_LEVEL};
use super::merkle::Hash;
use std::collections::HashMap;

const LEVELS: usize = MAX_LEVEL as usize + 1;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TallyError {
    #[error("ballot {position}: {error}")]
    Ballot { position: u64, error: EntryError },
    #[error("ballot {position}: voter token {token} votes again, but re-voting is not allowed")]
    RevoteNotAllowed { position: u64, token: String },
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OptionCount {
    pub total: u64,
    /// Ballots at or above the minimum level.
    pub headline: u64,
    pub by_level: [u64; LEVELS],
    /// Indexed by `Disclosure as usize`.
    pub by_disclosure: [u64; 2],
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tally {
    pub ballot_entries: u64,
    pub counted_ballots: u64,
    /// `items[item][option]`.
    pub items: Vec<Vec<OptionCount>>,
}

struct Counted {
    level: u8,
    disclosure: Disclosure,
    answers: Box<[Answer]>,
}

/// Counts ballots given in log order (by reference or by value, so that a caller can
/// stream them). The ballots' answers are checked against the
/// manifest; the caller checks the rest (`Ballot::check`) when decoding.
pub fn tally<B: std::borrow::Borrow<Ballot>>(
    manifest: &Manifest,
    ballots: impl IntoIterator<Item = B>,
) -> Result<Tally, TallyError> {
    let mut last: HashMap<[u8; 32], Counted> = HashMap::new();
    let mut entries = 0u64;
    for b in ballots {
        let b: &Ballot = b.borrow();
        let position = entries;
        entries += 1;
        for a in &b.answers {
            let item = manifest
                .items
                .get(a.item as usize)
                .ok_or(TallyError::Ballot {
                    position,
                    error: EntryError::ItemOutOfRange {
                        item: a.item,
                        items: manifest.items.len(),
                    },
                })?;
            if a.option as usize >= item.options.len() {
                return Err(TallyError::Ballot {
                    position,
                    error: EntryError::OptionOutOfRange {
                        item: a.item,
                        option: a.option,
                        options: item.options.len(),
                    },
                });
            }
        }
        let c = Counted {
            level: b.level,
            disclosure: b.disclosure,
            answers: b.answers.clone().into_boxed_slice(),
        };
        if last.insert(b.voter_token, c).is_some() && manifest.revote == RevotePolicy::Single {
            return Err(TallyError::RevoteNotAllowed {
                position,
                token: hex::encode(b.voter_token),
            });
        }
    }
    let mut items: Vec<Vec<OptionCount>> = manifest
        .items
        .iter()
        .map(|it| vec![OptionCount::default(); it.options.len()])
        .collect();
    for c in last.values() {
        for a in c.answers.iter() {
            let o = &mut items[a.item as usize][a.option as usize];
            o.total += 1;
            if c.level >= manifest.minimum_level {
                o.headline += 1;
            }
            o.by_level[c.level as usize] += 1;
            o.by_disclosure[c.disclosure as usize] += 1;
        }
    }
    Ok(Tally {
        ballot_entries: entries,
        counted_ballots: last.len() as u64,
        items,
    })
}

/// The header of `result.csv`.
pub const RESULT_HEADER: &str =
    "item,option,question,answer,total,headline,level_0,level_1,level_2,level_3,pseudonymous,public\n";

/// `result.csv`: RFC 4180, UTF-8 without BOM, `\n` line ends, the header then one row per
/// item and option of the manifest, sorted by item then option index (0-based, as in
/// ballots), zero counts included.
pub fn result_csv(manifest: &Manifest, tally: &Tally) -> String {
    use std::fmt::Write;
    let mut s = String::from(RESULT_HEADER);
    for (i, (item, counts)) in manifest.items.iter().zip(&tally.items).enumerate() {
        for (o, (label, c)) in item.options.iter().zip(counts).enumerate() {
            let [l0, l1, l2, l3] = c.by_level;
            let [pseudo, public] = c.by_disclosure;
            writeln!(
                s,
                "{i},{o},{},{},{},{},{l0},{l1},{l2},{l3},{pseudo},{public}",
                csv_field(&item.question),
                csv_field(label),
                c.total,
                c.headline,
            )
            .expect("writing to a String");
        }
    }
    s
}

/// SHA-256 of the file's bytes, as recorded in the close entry.
pub fn result_sha256(csv: &[u8]) -> Hash {
    ring::digest::digest(&ring::digest::SHA256, csv)
        .as_ref()
        .try_into()
        .expect("32 bytes")
}

/// Quoted only when needed, quotes doubled (RFC 4180).
fn csv_field(s: &str) -> std::borrow::Cow<'_, str> {
    if s.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\"")).into()
    } else {
        s.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quoting() {
        assert_eq!(csv_field("Pour"), "Pour");
        assert_eq!(csv_field("a, b"), "\"a, b\"");
        assert_eq!(csv_field("dit \"non\""), "\"dit \"\"non\"\"\"");
    }
}
