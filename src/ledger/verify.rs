//! What `amenda-verify` checks on a ballot log export (DESIGN §7), with its own recount:
//! the count here shares no code with `tally.rs`, so a bug in one is caught by the
//! other. Every failure says exactly what is wrong, with the signed evidence when a
//! signature is involved.

use super::checkpoint::{verify_checkpoint, Checkpoint, PublicKey};
use super::entry::{Ballot, Close, Disclosure, Entry, Manifest, RevotePolicy};
use super::export::{write_ballot_rows, BALLOTS_HEADER, ENTRIES_HEADER};
use super::merkle::{empty_root, leaf_hash, Frontier, Hash};
use super::receipt::{verify_receipt, Receipt};
use std::collections::HashMap;
use std::fmt::Write as _;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
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

/// Large files are read through buffers this big, a line at a time: memory stays flat
/// whatever the size of the log.
const BUFFER: usize = 1 << 20;

/// Value of each byte as a lowercase hex digit, or 0xff. Lowercase only, as written.
const HEX: [u8; 256] = {
    let mut t = [0xffu8; 256];
    let mut i = 0;
    while i < 10 {
        t[b'0' as usize + i] = i as u8;
        i += 1;
    }
    let mut i = 0;
    while i < 6 {
        t[b'a' as usize + i] = 10 + i as u8;
        i += 1;
    }
    t
};

/// Decodes lowercase hex into `out` (half its length). A table lookup per digit: this
/// runs on every byte of `entries.csv`, the largest file of the export.
fn decode_hex(src: &[u8], out: &mut Vec<u8>) -> bool {
    if !src.len().is_multiple_of(2) {
        return false;
    }
    out.resize(src.len() / 2, 0);
    let mut bad = 0u8;
    for (o, p) in out.iter_mut().zip(src.chunks_exact(2)) {
        let (hi, lo) = (HEX[p[0] as usize], HEX[p[1] as usize]);
        bad |= hi | lo;
        *o = (hi << 4) | (lo & 0x0f);
    }
    bad & 0xf0 == 0
}

/// `s` is the decimal writing of `n`, without sign or leading zeros.
fn is_decimal(s: &[u8], n: u64) -> bool {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    let mut v = n;
    loop {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    s == &buf[i..]
}

/// What the single pass over `entries.csv` calls for every entry once it has been
/// checked: its index, its bytes, the entry, and the tree of the entries so far (this one
/// included).
type OnEntry<'a> = dyn FnMut(u64, &[u8], Entry, &Frontier) -> Result<(), Failure> + 'a;

/// What the pass found: the manifest and the close record (both checked to be where they
/// must be), the number of entries and the root of the whole log.
struct Scanned {
    manifest: Manifest,
    close: Close,
    entries: u64,
    root: Hash,
}

/// Reads `entries.csv` once, streaming: strict decoding, byte-exact re-encoding, leaf
/// hashes, dense indices, manifest first and close last, ballots against the manifest.
fn scan_entries(dir: &Path, on_entry: &mut OnEntry<'_>) -> Result<Scanned, Failure> {
    let file = File::open(dir.join("entries.csv"))
        .or_else(|e| fail(format!("cannot read entries.csv: {e}")))?;
    let mut reader = BufReader::with_capacity(BUFFER, file);
    let mut line = Vec::with_capacity(512);
    let read_line = |reader: &mut BufReader<File>, line: &mut Vec<u8>| {
        line.clear();
        reader
            .read_until(b'\n', line)
            .or_else(|e| fail(format!("cannot read entries.csv: {e}")))
    };
    read_line(&mut reader, &mut line)?;
    if line != ENTRIES_HEADER.as_bytes() {
        return fail(format!(
            "entries.csv: the header must be {ENTRIES_HEADER:?}"
        ));
    }
    let mut tree = Frontier::default();
    let mut manifest: Option<(Manifest, Hash)> = None;
    // The close record, and where it was: it must be the last entry.
    let mut close: Option<(Close, String)> = None;
    let mut bytes = Vec::with_capacity(256);
    let mut leaf_hex = [0u8; 64];
    let mut i = 0u64;
    let mut line_no = 1usize;
    while read_line(&mut reader, &mut line)? > 0 {
        line_no += 1;
        let text = line.strip_suffix(b"\n").unwrap_or(&line);
        let mut fields = text.split(|b| *b == b',');
        let (Some(index), Some(kind), Some(hex_entry), Some(leaf_field), None) = (
            fields.next(),
            fields.next(),
            fields.next(),
            fields.next(),
            fields.next(),
        ) else {
            return fail(format!("entries.csv line {line_no}: expected 4 fields"));
        };
        let shown = || String::from_utf8_lossy(index);
        let at = || format!("entries.csv line {line_no} (entry {})", shown());
        if let Some((_, close_at)) = &close {
            return fail(format!(
                "{close_at}: a close record that is not the last entry"
            ));
        }
        if !is_decimal(index, i) {
            return fail(format!(
                "{}: indices must be dense from 0: expected {i}, found {}",
                at(),
                shown()
            ));
        }
        if !decode_hex(hex_entry, &mut bytes) {
            return fail(format!("{}: the entry is not hex", at()));
        }
        let entry = Entry::decode(&bytes).or_else(|e| fail(format!("{}: {e}", at())))?;
        if !entry.encodes_to(&bytes) {
            return fail(format!(
                "{}: re-encoding the entry does not give its bytes",
                at()
            ));
        }
        let leaf = leaf_hash(&bytes);
        hex::encode_to_slice(leaf, &mut leaf_hex).expect("64 hex digits");
        if leaf_field != leaf_hex {
            return fail(format!(
                "{}: leaf_hash is {}, but the entry hashes to {}",
                at(),
                String::from_utf8_lossy(leaf_field),
                hex::encode(leaf)
            ));
        }
        if kind != entry.type_name().as_bytes() {
            return fail(format!(
                "{}: type says {}, the entry is a {}",
                at(),
                String::from_utf8_lossy(kind),
                entry.type_name()
            ));
        }
        match &entry {
            Entry::Manifest(m) if i == 0 => manifest = Some((m.clone(), leaf)),
            Entry::Manifest(_) => return fail(format!("{}: a manifest that is not entry 0", at())),
            _ if i == 0 => return fail(format!("{}: entry 0 must be the manifest", at())),
            Entry::Close(c) => close = Some((c.clone(), at())),
            Entry::Ballot(b) => {
                let (m, mleaf) = manifest.as_ref().expect("entry 0 checked");
                b.check(m, mleaf)
                    .or_else(|e| fail(format!("{}: {e}", at())))?;
            }
        }
        tree.push(leaf);
        on_entry(i, &bytes, entry, &tree)?;
        i += 1;
    }
    let Some((manifest, _)) = manifest else {
        return fail("entries.csv holds no entry");
    };
    let Some((close, _)) = close else {
        return fail("the last entry is not a close record: the log is not closed");
    };
    Ok(Scanned {
        manifest,
        close,
        entries: tree.len(),
        root: tree.root(),
    })
}

/// The recount, written independently of `tally.rs`, as the ballots stream past: the
/// last ballot of each token counts, so a re-vote takes the voter's previous ballot out
/// of the counts before adding the new one.
struct Recount {
    /// Voter token → its slot in `voters`.
    slots: HashMap<[u8; 32], u32>,
    voters: Vec<Voter>,
    /// The answers of every voter's current ballot, packed (item, option).
    answers: Vec<(u16, u8)>,
    /// counts[item][option] = [total, headline, l0, l1, l2, l3, pseudonymous, public]
    counts: Vec<Vec<[u64; 8]>>,
    ballots: u64,
    /// A re-vote where the consultation allows one ballot: reported after the checks
    /// that come first.
    refused: Option<Failure>,
}

struct Voter {
    index: u64,
    level: u8,
    public: bool,
    first: u32,
    len: u16,
}

impl Recount {
    fn new(m: &Manifest) -> Recount {
        Recount {
            slots: HashMap::new(),
            voters: Vec::new(),
            answers: Vec::new(),
            counts: m
                .items
                .iter()
                .map(|it| vec![[0; 8]; it.options.len()])
                .collect(),
            ballots: 0,
            refused: None,
        }
    }

    fn apply(&mut self, m: &Manifest, v: &Voter, sign: i64) {
        for &(item, option) in &self.answers[v.first as usize..v.first as usize + v.len as usize] {
            let c = &mut self.counts[item as usize][option as usize];
            let mut add = |k: usize| c[k] = c[k].wrapping_add_signed(sign);
            add(0);
            if v.level >= m.minimum_level {
                add(1);
            }
            add(2 + v.level as usize);
            add(if v.public { 7 } else { 6 });
        }
    }

    fn ballot(&mut self, m: &Manifest, index: u64, b: &Ballot) {
        self.ballots += 1;
        let voter = Voter {
            index,
            level: b.level,
            public: b.disclosure == Disclosure::Public,
            first: self.answers.len() as u32,
            len: b.answers.len() as u16,
        };
        self.answers
            .extend(b.answers.iter().map(|a| (a.item, a.option)));
        self.apply(m, &voter, 1);
        match self.slots.get(&b.voter_token) {
            Some(&slot) => {
                let previous = std::mem::replace(&mut self.voters[slot as usize], voter);
                if m.revote == RevotePolicy::Single && self.refused.is_none() {
                    self.refused = Some(Failure {
                        message: format!(
                            "entry {index}: voter token {} already voted in entry {}, and this consultation allows one ballot",
                            hex::encode(b.voter_token),
                            previous.index
                        ),
                        evidence: None,
                    });
                }
                self.apply(m, &previous, -1);
            }
            None => {
                self.slots.insert(b.voter_token, self.voters.len() as u32);
                self.voters.push(voter);
            }
        }
    }

    fn result_csv(&self, m: &Manifest) -> String {
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
                let c = self.counts[i][o];
                let _ = writeln!(
                    csv,
                    "{i},{o},{},{},{}",
                    quote(&item.question),
                    quote(label),
                    c.iter().map(u64::to_string).collect::<Vec<_>>().join(",")
                );
            }
        }
        csv
    }
}

/// `ballots.csv` compared, line by line as the ballots stream past, with the rows
/// `entries.csv` gives; the first disagreement is kept.
struct BallotsCsv {
    reader: Result<BufReader<File>, String>,
    expected: Vec<u8>,
    found: Vec<u8>,
    line: usize,
    mismatch: Option<Failure>,
}

impl BallotsCsv {
    fn open(dir: &Path) -> BallotsCsv {
        let mut b = BallotsCsv {
            reader: File::open(dir.join("ballots.csv"))
                .map(|f| BufReader::with_capacity(BUFFER, f))
                .map_err(|e| format!("cannot read ballots.csv: {e}")),
            expected: Vec::with_capacity(1024),
            found: Vec::with_capacity(256),
            line: 0,
            mismatch: None,
        };
        b.expected.extend_from_slice(BALLOTS_HEADER.as_bytes());
        b.compare();
        b
    }

    fn ballot(&mut self, index: u64, ballot: &Ballot) {
        if self.mismatch.is_none() && self.reader.is_ok() {
            self.expected.clear();
            write_ballot_rows(&mut self.expected, index, ballot).expect("writing to memory");
            self.compare();
        }
    }

    /// Compares the lines in `expected` with the next bytes of the file; on a difference,
    /// finds the line where it is and reads that whole line of the file for the message.
    fn compare(&mut self) {
        let Ok(reader) = self.reader.as_mut() else {
            return;
        };
        self.found.clear();
        let read = reader
            .by_ref()
            .take(self.expected.len() as u64)
            .read_to_end(&mut self.found);
        if read.is_ok() && self.found == self.expected {
            self.line += self.expected.iter().filter(|b| **b == b'\n').count();
            return;
        }
        let same = self
            .expected
            .iter()
            .zip(&self.found)
            .take_while(|(a, b)| a == b)
            .count();
        let start = self.expected[..same]
            .iter()
            .rposition(|b| *b == b'\n')
            .map_or(0, |p| p + 1);
        let line = self.line
            + 1
            + self.expected[..start]
                .iter()
                .filter(|b| **b == b'\n')
                .count();
        let want = self.expected[start..]
            .split_inclusive(|b| *b == b'\n')
            .next()
            .unwrap_or_default()
            .to_vec();
        let mut found = self.found[start.min(self.found.len())..].to_vec();
        if let Some(end) = found.iter().position(|b| *b == b'\n') {
            found.truncate(end + 1);
        } else {
            let _ = reader.read_until(b'\n', &mut found);
        }
        self.mismatch = Some(Self::disagree(line, &want, &found));
    }

    /// The file must end where the ballots end.
    fn finish(mut self) -> Result<(), Failure> {
        if let Err(e) = self.reader {
            return fail(e);
        }
        if let Some(m) = self.mismatch {
            return Err(m);
        }
        let reader = self.reader.as_mut().expect("checked");
        self.found.clear();
        match reader.read_until(b'\n', &mut self.found) {
            Ok(0) => Ok(()),
            _ => Err(Self::disagree(self.line + 1, b"", &self.found)),
        }
    }

    fn disagree(line: usize, want: &[u8], found: &[u8]) -> Failure {
        let show =
            |b: &[u8]| String::from_utf8_lossy(b.strip_suffix(b"\n").unwrap_or(b)).into_owned();
        Failure {
            message: format!(
                "ballots.csv disagrees with entries.csv at line {line}: expected {:?}, found {:?}",
                show(want),
                show(found)
            ),
            evidence: None,
        }
    }
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

/// The published checkpoints (`checkpoints/*.txt`) in name order, each with its note and
/// the checkpoint if its signature holds. Failures wait until the log itself is checked.
fn published_checkpoints(
    dir: &Path,
    key: &PublicKey,
) -> Vec<(String, String, Result<Checkpoint, Failure>)> {
    let Ok(list) = std::fs::read_dir(dir.join("checkpoints")) else {
        return Vec::new();
    };
    let mut paths: Vec<_> = list.filter_map(|e| e.ok()).map(|e| e.path()).collect();
    paths.sort();
    paths
        .into_iter()
        .map(|path| {
            let name = format!(
                "checkpoints/{}",
                path.file_name().unwrap_or_default().to_string_lossy()
            );
            match std::fs::read_to_string(&path) {
                Ok(note) => {
                    let cp = check_note(&note, key, &name);
                    (name, note, cp)
                }
                Err(e) => {
                    let f = fail(format!("cannot read {name}: {e}"));
                    (name, String::new(), f)
                }
            }
        })
        .collect()
}

/// Checks a whole export (DESIGN §7) in one streaming pass over its large files, memory
/// bounded by the number of voters rather than the size of the files. `key` is the
/// public key the reader trusts (a verifier key string or a file); without it, the
/// export's own `log.vkey` is used, which only proves self-consistency.
pub fn verify_export(dir: &Path, key: Option<&str>) -> Result<Verified, Failure> {
    let key = key_from(dir, key)?;
    let published = published_checkpoints(dir, &key);
    // The sizes whose roots the pass must note, for the published checkpoints.
    let mut wanted: HashMap<u64, Option<Hash>> = published
        .iter()
        .filter_map(|(_, _, cp)| cp.as_ref().ok().map(|c| (c.size, None)))
        .collect();
    if let Some(r) = wanted.get_mut(&0) {
        *r = Some(empty_root());
    }
    // Two threads: this one reads, decodes and hashes entries.csv; the other recounts
    // and compares ballots.csv, with the ballots passed in batches.
    enum Work {
        Manifest(Manifest),
        Ballots(Vec<(u64, Ballot)>),
    }
    const BATCH: usize = 1024;
    let (scanned, recount, ballots_csv) = std::thread::scope(|scope| {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Work>(16);
        let worker = scope.spawn(move || {
            let mut ballots_csv = BallotsCsv::open(dir);
            let mut state: Option<(Manifest, Recount)> = None;
            for work in rx {
                match (work, &mut state) {
                    (Work::Manifest(m), _) => state = Some((m.clone(), Recount::new(&m))),
                    (Work::Ballots(list), Some((m, recount))) => {
                        for (index, b) in &list {
                            recount.ballot(m, *index, b);
                            ballots_csv.ballot(*index, b);
                        }
                    }
                    (Work::Ballots(_), None) => unreachable!("entry 0 is the manifest"),
                }
            }
            (state.map(|(_, r)| r), ballots_csv)
        });
        let mut batch = Vec::with_capacity(BATCH);
        let scanned = scan_entries(dir, &mut |index, _, entry, tree| {
            if let Some(r) = wanted.get_mut(&tree.len()) {
                *r = Some(tree.root());
            }
            match entry {
                Entry::Manifest(m) => {
                    let _ = tx.send(Work::Manifest(m));
                }
                Entry::Ballot(b) => {
                    batch.push((index, b));
                    if batch.len() == BATCH {
                        let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH));
                        let _ = tx.send(Work::Ballots(full));
                    }
                }
                Entry::Close(_) => {}
            }
            Ok(())
        });
        if !batch.is_empty() {
            let _ = tx.send(Work::Ballots(batch));
        }
        drop(tx);
        let (recount, ballots_csv) = worker.join().expect("the recount thread");
        (scanned, recount, ballots_csv)
    });
    let scanned = scanned?;
    let recount = recount.expect("a scanned log has a manifest");
    let (n, root) = (scanned.entries, scanned.root);
    if scanned.manifest.log_public_key != *key.bytes() {
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
    for (name, note, cp) in &published {
        let cp = cp.clone()?;
        let prefix = wanted.get(&cp.size).copied().flatten();
        if cp.size > n || prefix != Some(cp.root) {
            return fail_with(
                format!(
                    "{name} signs a log of {} entries that is not a prefix of the final log ({n} entries): its root differs from the root of the first {} entries",
                    cp.size, cp.size
                ),
                note,
            );
        }
    }

    // The recount, against result.csv and the close record.
    if let Some(f) = recount.refused.clone() {
        return Err(f);
    }
    let csv = recount.result_csv(&scanned.manifest);
    let counted = recount.voters.len() as u64;
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
    if digest != scanned.close.result_sha256 {
        return fail(format!(
            "the close record gives result.csv the SHA-256 {}, but the file hashes to {}",
            hex::encode(scanned.close.result_sha256),
            hex::encode(digest)
        ));
    }
    let ballot_entries = recount.ballots;
    if scanned.close.ballot_entries != ballot_entries || scanned.close.counted_ballots != counted {
        return fail(format!(
            "the close record says {} ballot entries and {} counted, the log holds {ballot_entries} and the recount counts {counted}",
            scanned.close.ballot_entries, scanned.close.counted_ballots
        ));
    }

    // ballots.csv is the decoded view of entries.csv, row for row.
    ballots_csv.finish()?;
    Ok(Verified {
        entries: n,
        ballot_entries,
        counted_ballots: counted,
        root,
        checkpoints: published.len(),
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
    let Entry::Ballot(mine) = verified.entry else {
        return fail("the receipt is not for a ballot");
    };
    let cp = verified.checkpoint;
    // What the pass notes: the entry at the receipt's index, the root at the size of the
    // receipt's checkpoint, and the last later ballot of the same voter.
    let mut at_index: Option<bool> = None;
    let mut prefix: Option<Hash> = (cp.size == 0).then(empty_root);
    let mut later: Option<u64> = None;
    scan_entries(dir, &mut |index, bytes, entry, tree| {
        if index == receipt.index {
            at_index = Some(bytes == receipt.entry.as_slice());
        }
        if tree.len() == cp.size {
            prefix = Some(tree.root());
        }
        if let Entry::Ballot(b) = &entry {
            if index > receipt.index && b.voter_token == mine.voter_token {
                later = Some(index);
            }
        }
        Ok(())
    })?;
    match at_index {
        Some(true) => {}
        Some(false) => {
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
    if prefix != Some(cp.root) {
        return fail_with(
            "the receipt's checkpoint is not a prefix of the exported log: the log was rewritten",
            &receipt.checkpoint,
        );
    }
    Ok(match later {
        Some(by) => ReceiptStatus::Superseded { by },
        None => ReceiptStatus::Counted,
    })
}

#[cfg(test)]
mod hex_tests {
    use super::decode_hex;

    #[test]
    fn lowercase_hex_only() {
        let mut out = Vec::new();
        assert!(decode_hex(b"00ff10a9", &mut out));
        assert_eq!(out, [0x00, 0xff, 0x10, 0xa9]);
        for bad in [&b"0"[..], b"0g", b"FF", b"0 ", b"zz"] {
            assert!(!decode_hex(bad, &mut out), "{bad:?}");
        }
        let all: Vec<u8> = (0..=255).collect();
        assert!(decode_hex(hex::encode(&all).as_bytes(), &mut out));
        assert_eq!(out, all);
    }
}
