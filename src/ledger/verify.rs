//! What `amenda-verify` checks on a ballot log export (DESIGN §7), with its own recount:
//! the count here shares no code with `tally.rs`, so a bug in one is caught by the
//! other. Every failure says exactly what is wrong, with the signed evidence when a
//! signature is involved.

use super::checkpoint::{verify_checkpoint, Checkpoint, PublicKey};
use super::entry::{Ballot, Disclosure, Entry, Manifest, RevotePolicy};
use super::export::{parse_entries, write_ballot_rows, BALLOTS_HEADER};
use super::merkle::{leaf_hash, Hash, Tree};
use super::receipt::{verify_receipt, Receipt};
use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::Path;

/// A failed check: what is wrong, and the signed note that proves it when there is one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub message: String,
    pub evidence: Option<String>,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)?;
        if let Some(e) = &self.evidence {
            write!(f, "\nsigned evidence:\n{e}")?;
        }
        Ok(())
    }
}

fn fail<T>(message: impl Into<String>) -> Result<T, Failure> {
    Err(Failure {
        message: message.into(),
        evidence: None,
    })
}

fn fail_with<T>(message: impl Into<String>, evidence: &str) -> Result<T, Failure> {
    Err(Failure {
        message: message.into(),
        evidence: Some(evidence.to_string()),
    })
}

/// What a verified export holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub entries: u64,
    pub ballot_entries: u64,
    pub counted_ballots: u64,
    pub root: Hash,
    pub checkpoints: usize,
}

fn read(dir: &Path, name: &str) -> Result<String, Failure> {
    std::fs::read_to_string(dir.join(name)).or_else(|e| fail(format!("cannot read {name}: {e}")))
}

/// The log's entries, decoded and checked: strict decoding, byte-exact re-encoding, leaf
/// hashes, dense indices, manifest first and close last, ballots against the manifest.
struct Log {
    manifest: Manifest,
    ballots: Vec<(u64, Ballot)>,
    close: super::entry::Close,
    tree: Tree,
    bytes: Vec<Vec<u8>>,
}

fn read_log(dir: &Path) -> Result<Log, Failure> {
    let rows = parse_entries(&read(dir, "entries.csv")?).or_else(fail)?;
    let mut tree = Tree::new();
    let mut manifest: Option<(Manifest, Hash)> = None;
    let mut ballots = Vec::new();
    let mut close = None;
    let mut bytes_all = Vec::with_capacity(rows.len());
    let last = rows.len().saturating_sub(1);
    for (i, row) in rows.iter().enumerate() {
        let at = format!("entries.csv line {} (entry {})", row.line, row.index);
        if row.index != i.to_string() {
            return fail(format!(
                "{at}: indices must be dense from 0: expected {i}, found {}",
                row.index
            ));
        }
        let bytes =
            hex::decode(&row.entry).or_else(|_| fail(format!("{at}: the entry is not hex")))?;
        let entry = Entry::decode(&bytes).or_else(|e| fail(format!("{at}: {e}")))?;
        if entry.encode().ok().as_deref() != Some(bytes.as_slice()) {
            return fail(format!(
                "{at}: re-encoding the entry does not give its bytes"
            ));
        }
        let leaf = leaf_hash(&bytes);
        if hex::encode(leaf) != row.leaf_hash {
            return fail(format!(
                "{at}: leaf_hash is {}, but the entry hashes to {}",
                row.leaf_hash,
                hex::encode(leaf)
            ));
        }
        if row.kind != entry.type_name() {
            return fail(format!(
                "{at}: type says {}, the entry is a {}",
                row.kind,
                entry.type_name()
            ));
        }
        match entry {
            Entry::Manifest(m) if i == 0 => manifest = Some((m, leaf)),
            Entry::Manifest(_) => return fail(format!("{at}: a manifest that is not entry 0")),
            _ if i == 0 => return fail(format!("{at}: entry 0 must be the manifest")),
            Entry::Close(c) if i == last => close = Some(c),
            Entry::Close(_) => {
                return fail(format!("{at}: a close record that is not the last entry"))
            }
            Entry::Ballot(b) => {
                let (m, mleaf) = manifest.as_ref().expect("entry 0 checked");
                b.check(m, mleaf).or_else(|e| fail(format!("{at}: {e}")))?;
                ballots.push((i as u64, b));
            }
        }
        tree.push_leaf_hash(leaf);
        bytes_all.push(bytes);
    }
    let Some((manifest, _)) = manifest else {
        return fail("entries.csv holds no entry");
    };
    let Some(close) = close else {
        return fail("the last entry is not a close record: the log is not closed");
    };
    Ok(Log {
        manifest,
        ballots,
        close,
        tree,
        bytes: bytes_all,
    })
}

/// The recount, written independently of `tally.rs`: the last ballot of each token.
fn recount(log: &Log) -> Result<(String, u64), Failure> {
    let m = &log.manifest;
    let mut last: HashMap<[u8; 32], (u64, &Ballot)> = HashMap::new();
    for (index, b) in &log.ballots {
        if let Some((first, _)) = last.get(&b.voter_token) {
            if m.revote == RevotePolicy::Single {
                return fail(format!(
                    "entry {index}: voter token {} already voted in entry {first}, and this consultation allows one ballot",
                    hex::encode(b.voter_token)
                ));
            }
        }
        last.insert(b.voter_token, (*index, b));
    }
    // counts[item][option] = [total, headline, l0, l1, l2, l3, pseudonymous, public]
    let mut counts: Vec<Vec<[u64; 8]>> = m
        .items
        .iter()
        .map(|it| vec![[0; 8]; it.options.len()])
        .collect();
    for (_, b) in last.values() {
        for a in &b.answers {
            let c = &mut counts[a.item as usize][a.option as usize];
            c[0] += 1;
            if b.level >= m.minimum_level {
                c[1] += 1;
            }
            c[2 + b.level as usize] += 1;
            c[if b.disclosure == Disclosure::Public {
                7
            } else {
                6
            }] += 1;
        }
    }
    let quote = |s: &str| {
        if s.contains(['"', ',', '\n', '\r']) {
            format!("\"{}\"", s.replace('"', "\"\""))
        } else {
            s.to_string()
        }
    };
    let mut csv = String::from(
        "item,option,question,answer,total,headline,level_0,level_1,level_2,level_3,pseudonymous,public\n",
    );
    for (i, item) in m.items.iter().enumerate() {
        for (o, label) in item.options.iter().enumerate() {
            let c = counts[i][o];
            let _ = writeln!(
                csv,
                "{i},{o},{},{},{}",
                quote(&item.question),
                quote(label),
                c.iter().map(u64::to_string).collect::<Vec<_>>().join(",")
            );
        }
    }
    Ok((csv, last.len() as u64))
}

fn key_from(dir: &Path, key: Option<&str>) -> Result<PublicKey, Failure> {
    let text = match key {
        Some(k) if Path::new(k).is_file() => std::fs::read_to_string(k)
            .or_else(|e| fail(format!("cannot read the key file {k}: {e}")))?,
        Some(k) => k.to_string(),
        None => read(dir, "log.vkey")?,
    };
    PublicKey::from_vkey(text.trim()).or_else(|e| fail(format!("the public key is not valid: {e}")))
}

fn check_note(note: &str, key: &PublicKey, what: &str) -> Result<Checkpoint, Failure> {
    verify_checkpoint(note, key).or_else(|e| fail_with(format!("{what}: {e}"), note))
}

/// Checks a whole export (DESIGN §7). `key` is the public key the reader trusts (a
/// verifier key string or a file); without it, the export's own `log.vkey` is used,
/// which only proves self-consistency.
pub fn verify_export(dir: &Path, key: Option<&str>) -> Result<Verified, Failure> {
    let key = key_from(dir, key)?;
    let log = read_log(dir)?;
    let n = log.tree.len();
    let root = log.tree.root();
    if log.manifest.log_public_key != *key.bytes() {
        return fail("the manifest names another log public key than the one given");
    }

    // The final checkpoint covers the whole log.
    let final_note = read(dir, "checkpoint.txt")?;
    let fin = check_note(&final_note, &key, "checkpoint.txt")?;
    if fin.size != n || fin.root != root {
        return fail_with(
            format!(
                "checkpoint.txt signs a log of {} entries with root {}, but entries.csv gives {n} entries with root {}",
                fin.size,
                hex::encode(fin.root),
                hex::encode(root)
            ),
            &final_note,
        );
    }

    // Every published checkpoint is a prefix of the final log.
    let mut published = 0;
    if let Ok(list) = std::fs::read_dir(dir.join("checkpoints")) {
        let mut names: Vec<_> = list.filter_map(|e| e.ok()).map(|e| e.path()).collect();
        names.sort();
        for path in names {
            let name = format!(
                "checkpoints/{}",
                path.file_name().unwrap_or_default().to_string_lossy()
            );
            let note = std::fs::read_to_string(&path)
                .or_else(|e| fail(format!("cannot read {name}: {e}")))?;
            let cp = check_note(&note, &key, &name)?;
            let prefix = log.tree.root_at(cp.size).ok();
            if cp.size > n || prefix != Some(cp.root) {
                return fail_with(
                    format!(
                        "{name} signs a log of {} entries that is not a prefix of the final log ({n} entries): its root differs from the root of the first {} entries",
                        cp.size, cp.size
                    ),
                    &note,
                );
            }
            published += 1;
        }
    }

    // The recount, against result.csv and the close record.
    let (csv, counted) = recount(&log)?;
    let published_csv = std::fs::read(dir.join("result.csv"))
        .or_else(|e| fail(format!("cannot read result.csv: {e}")))?;
    if published_csv != csv.as_bytes() {
        let theirs = String::from_utf8_lossy(&published_csv);
        let line = csv
            .lines()
            .zip(theirs.lines())
            .position(|(a, b)| a != b)
            .map(|i| i + 1)
            .unwrap_or_else(|| csv.lines().count().min(theirs.lines().count()) + 1);
        return fail(format!(
            "result.csv differs from the recount at line {line}: expected {:?}, found {:?}",
            csv.lines().nth(line - 1).unwrap_or(""),
            theirs.lines().nth(line - 1).unwrap_or("")
        ));
    }
    let digest = super::tally::result_sha256(&published_csv);
    if digest != log.close.result_sha256 {
        return fail(format!(
            "the close record gives result.csv the SHA-256 {}, but the file hashes to {}",
            hex::encode(log.close.result_sha256),
            hex::encode(digest)
        ));
    }
    let ballot_entries = log.ballots.len() as u64;
    if log.close.ballot_entries != ballot_entries || log.close.counted_ballots != counted {
        return fail(format!(
            "the close record says {} ballot entries and {} counted, the log holds {ballot_entries} and the recount counts {counted}",
            log.close.ballot_entries, log.close.counted_ballots
        ));
    }

    // ballots.csv is the decoded view of entries.csv, row for row.
    let mut expected = String::from(BALLOTS_HEADER);
    let mut buf = Vec::new();
    for (index, b) in &log.ballots {
        buf.clear();
        write_ballot_rows(&mut buf, *index, b).expect("writing to memory");
        expected.push_str(&String::from_utf8_lossy(&buf));
    }
    let given = read(dir, "ballots.csv")?;
    if given != expected {
        let line = expected
            .lines()
            .zip(given.lines())
            .position(|(a, b)| a != b)
            .map(|i| i + 1)
            .unwrap_or_else(|| expected.lines().count().min(given.lines().count()) + 1);
        return fail(format!(
            "ballots.csv disagrees with entries.csv at line {line}: expected {:?}, found {:?}",
            expected.lines().nth(line - 1).unwrap_or(""),
            given.lines().nth(line - 1).unwrap_or("")
        ));
    }
    Ok(Verified {
        entries: n,
        ballot_entries,
        counted_ballots: counted,
        root,
        checkpoints: published,
    })
}

/// What a verified receipt says about its ballot in the export.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReceiptStatus {
    /// The ballot is in the log and is its token's last: it is counted.
    Counted,
    /// The ballot is in the log, but a later ballot of the same token replaced it.
    Superseded { by: u64 },
}

/// Checks one voter's receipt against an export: its signature and inclusion proof, the
/// same bytes at the same index in `entries.csv`, and whether it is the last ballot of
/// its voter token.
pub fn verify_receipt_in(
    receipt_json: &str,
    dir: &Path,
    key: Option<&str>,
) -> Result<ReceiptStatus, Failure> {
    let key = key_from(dir, key)?;
    let receipt = Receipt::from_json(receipt_json)
        .or_else(|e| fail(format!("the receipt cannot be read: {e}")))?;
    let verified = verify_receipt(&receipt, &key).or_else(|e| {
        fail_with(
            format!("the receipt does not verify: {e}"),
            &receipt.checkpoint,
        )
    })?;
    let log = read_log(dir)?;
    let Entry::Ballot(mine) = verified.entry else {
        return fail("the receipt is not for a ballot");
    };
    match log.bytes.get(receipt.index as usize) {
        Some(b) if *b == receipt.entry => {}
        Some(_) => {
            return fail_with(
                format!(
                    "the export holds another entry at index {} than the receipt's ballot: the ballot was altered or removed after it was signed",
                    receipt.index
                ),
                &receipt.checkpoint,
            )
        }
        None => {
            return fail_with(
                format!(
                    "the export has no entry {}: the receipt's ballot is missing from the log",
                    receipt.index
                ),
                &receipt.checkpoint,
            )
        }
    }
    // The signed checkpoint of the receipt must be a prefix of the exported log.
    let cp = verified.checkpoint;
    if log.tree.root_at(cp.size).ok() != Some(cp.root) {
        return fail_with(
            "the receipt's checkpoint is not a prefix of the exported log: the log was rewritten",
            &receipt.checkpoint,
        );
    }
    let later = log
        .ballots
        .iter()
        .filter(|(i, b)| *i > receipt.index && b.voter_token == mine.voter_token)
        .map(|(i, _)| *i)
        .next_back();
    Ok(match later {
        Some(by) => ReceiptStatus::Superseded { by },
        None => ReceiptStatus::Counted,
    })
}
