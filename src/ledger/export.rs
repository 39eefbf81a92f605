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
    // The columns shared by every answer, written once.
    let mut prefix = Vec::with_capacity(128);
    write!(prefix, "{index},")?;
    let mut token = [0u8; 64];
    hex::encode_to_slice(b.voter_token, &mut token).expect("64 hex digits");
    prefix.extend_from_slice(&token);
    write!(
        prefix,
        ",{},{},{},",
        b.level,
        b.disclosure.as_str(),
        b.day.date()
    )?;
    for a in &b.answers {
        out.write_all(&prefix)?;
        writeln!(out, "{},{}", a.item, a.option)?;
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

/// Lowercase hex of a hash.
pub fn hex_hash(h: &Hash) -> String {
    hex::encode(h)
}
