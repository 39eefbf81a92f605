//! The ballot log export of one consultation (DESIGN §7), the folder a journalist
//! downloads and `amenda-verify` checks:
//!
//! | file | holds |
//! |---|---|
//! | `entries.csv` | authoritative: `index,type,entry,leaf_hash` (entry bytes and leaf hash in lowercase hex) |
//! | `ballots.csv` | the ballots decoded: `index,voter_token,level,disclosure,day,item,option`, one row per answer |
//! | `result.csv` | the result (see `tally::result_csv`), whose SHA-256 is in the close entry |
//! | `checkpoints/SIZE.txt` | every checkpoint published while the log grew (SIZE zero-padded to 12 digits) |
//! | `checkpoint.txt` | the final checkpoint, of the whole log |
//! | `log.vkey` | the log's public key (C2SP verifier key) |
//!
//! Writers stream row by row, so memory stays flat whatever the size of the log.

use super::entry::{Ballot, Entry};
use super::merkle::{leaf_hash, Hash};
use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::Path;

pub const ENTRIES_HEADER: &str = "index,type,entry,leaf_hash\n";
pub const BALLOTS_HEADER: &str = "index,voter_token,level,disclosure,day,item,option\n";

/// The name of a published checkpoint file.
pub fn checkpoint_file(size: u64) -> String {
    format!("checkpoints/{size:012}.txt")
}

/// Streams the export into `dir`. `entries` come in log order; `checkpoints` are signed
/// notes with the size each covers.
pub struct ExportWriter {
    entries: BufWriter<File>,
    ballots: BufWriter<File>,
    next: u64,
}

impl ExportWriter {
    pub fn create(dir: &Path) -> io::Result<ExportWriter> {
        fs::create_dir_all(dir.join("checkpoints"))?;
        let mut entries = BufWriter::new(File::create(dir.join("entries.csv"))?);
        entries.write_all(ENTRIES_HEADER.as_bytes())?;
        let mut ballots = BufWriter::new(File::create(dir.join("ballots.csv"))?);
        ballots.write_all(BALLOTS_HEADER.as_bytes())?;
        Ok(ExportWriter {
            entries,
            ballots,
            next: 0,
        })
    }

    /// Appends the next entry (its bytes exactly as logged).
    pub fn entry(&mut self, bytes: &[u8]) -> io::Result<()> {
        let index = self.next;
        self.next += 1;
        let entry = Entry::decode(bytes).map_err(|e| io::Error::other(e.to_string()))?;
        writeln!(
            self.entries,
            "{index},{},{},{}",
            entry.type_name(),
            hex::encode(bytes),
            hex::encode(leaf_hash(bytes))
        )?;
        if let Entry::Ballot(b) = &entry {
            write_ballot_rows(&mut self.ballots, index, b)?;
        }
        Ok(())
    }

    pub fn finish(mut self) -> io::Result<()> {
        self.entries.flush()?;
        self.ballots.flush()
    }
}

/// The rows of `ballots.csv` for one ballot.
pub fn write_ballot_rows(out: &mut impl Write, index: u64, b: &Ballot) -> io::Result<()> {
    let token = hex::encode(b.voter_token);
    let day = b.day.date();
    for a in &b.answers {
        writeln!(
            out,
            "{index},{token},{},{},{day},{},{}",
            b.level,
            b.disclosure.as_str(),
            a.item,
            a.option
        )?;
    }
    Ok(())
}

/// Writes the remaining files: checkpoints (`(size, note)`), the final checkpoint, the
/// public key and `result.csv`.
pub fn write_tail(
    dir: &Path,
    checkpoints: &[(u64, String)],
    final_checkpoint: &str,
    vkey: &str,
    result_csv: &[u8],
) -> io::Result<()> {
    fs::create_dir_all(dir.join("checkpoints"))?;
    for (size, note) in checkpoints {
        fs::write(dir.join(checkpoint_file(*size)), note)?;
    }
    fs::write(dir.join("checkpoint.txt"), final_checkpoint)?;
    fs::write(dir.join("log.vkey"), format!("{}\n", vkey.trim()))?;
    fs::write(dir.join("result.csv"), result_csv)
}

/// One row of `entries.csv`, parsed but not yet checked against its bytes.
#[derive(Debug, Clone)]
pub struct EntryRow {
    pub line: usize,
    pub index: String,
    pub kind: String,
    pub entry: String,
    pub leaf_hash: String,
}

/// Parses `entries.csv` (no quoting can occur in it: numbers, names and hex).
pub fn parse_entries(text: &str) -> Result<Vec<EntryRow>, String> {
    let mut lines = text.split_terminator('\n');
    match lines.next() {
        Some(h) if format!("{h}\n") == ENTRIES_HEADER => {}
        _ => {
            return Err(format!(
                "entries.csv: the header must be {ENTRIES_HEADER:?}"
            ))
        }
    }
    lines
        .enumerate()
        .map(|(i, l)| {
            let f: Vec<&str> = l.split(',').collect();
            match f.as_slice() {
                [index, kind, entry, leaf] => Ok(EntryRow {
                    line: i + 2,
                    index: index.to_string(),
                    kind: kind.to_string(),
                    entry: entry.to_string(),
                    leaf_hash: leaf.to_string(),
                }),
                _ => Err(format!("entries.csv line {}: expected 4 fields", i + 2)),
            }
        })
        .collect()
}

/// Lowercase hex of a hash.
pub fn hex_hash(h: &Hash) -> String {
    hex::encode(h)
}
