//! `amenda-verify` on a ballot log export (DESIGN §7): a genuine export verifies, and
//! each kind of tampering is caught with a precise message. Through the library and
//! through the binary.

use amenda::domain::ids::AccountId;
use amenda::ledger::entry::*;
use amenda::ledger::export::{checkpoint_file, write_tail, ExportWriter};
use amenda::ledger::merkle::{leaf_hash, Hash, Tree};
use amenda::ledger::receipt::Receipt;
use amenda::ledger::tally::{result_csv, result_sha256, tally};
use amenda::ledger::token::ConsultationKey;
use amenda::ledger::verify::{verify_export, verify_receipt_in, ReceiptStatus};
use amenda::ledger::{Checkpoint, SigningKey};
use std::path::Path;
use std::process::Command;

const ORIGIN: &str = "amenda.test/consultation/budget-2027";

fn key() -> SigningKey {
    SigningKey::from_seed(ORIGIN, &[0x11; 32]).unwrap()
}

fn sha(s: &str) -> Hash {
    result_sha256(s.as_bytes())
}

fn manifest() -> Manifest {
    let options = || vec!["pour".to_string(), "contre".into(), "abstention".into()];
    Manifest {
        consultation_id: "budget-2027".into(),
        origin: ORIGIN.into(),
        log_public_key: *key().public_key().bytes(),
        bill_version_hash: sha("budget-participatif v3"),
        amendments: vec![AmendmentRef {
            id: "AM-budget-participatif-1".into(),
            revision: 1,
            hash: sha("AM-1 r1"),
        }],
        opens: Day::parse_iso("2027-01-10").unwrap(),
        closes: Day::parse_iso("2027-01-20").unwrap(),
        minimum_level: 2,
        revote: RevotePolicy::LastCounts,
        items: vec![
            Item {
                subject: Subject::Amendment(0),
                question: "Adopter l'amendement AM-1, « seuil » ?".into(),
                options: options(),
            },
            Item {
                subject: Subject::Bill,
                question: "Adopter le texte ?".into(),
                options: options(),
            },
        ],
    }
}

fn ballot(account: AccountId, level: u8, answers: &[(u16, u8)], n: u8) -> Ballot {
    Ballot {
        consultation_id: "budget-2027".into(),
        manifest_leaf: leaf_hash(&manifest().encode().unwrap()),
        voter_token: ConsultationKey::from_bytes([3; 32]).voter_token(account),
        level,
        disclosure: if level == 3 {
            Disclosure::Public
        } else {
            Disclosure::Pseudonymous
        },
        day: Day::parse_iso("2027-01-12").unwrap(),
        answers: answers
            .iter()
            .map(|&(item, option)| Answer { item, option })
            .collect(),
        nonce: [n; 32],
    }
}

fn ballots() -> Vec<Ballot> {
    vec![
        ballot(AccountId::new(1), 2, &[(0, 0), (1, 0)], 1),
        ballot(AccountId::new(2), 3, &[(0, 1), (1, 0)], 2),
        ballot(AccountId::new(3), 1, &[(1, 1)], 3),
        ballot(AccountId::new(1), 2, &[(0, 1), (1, 0)], 4), // account 1 votes again: this one counts
        ballot(AccountId::new(4), 2, &[(0, 2), (1, 2)], 5),
    ]
}

/// Writes a genuine export: checkpoints after entry 0, after 3 entries and the final one.
/// Returns the entries' bytes.
fn export(dir: &Path) -> Vec<Vec<u8>> {
    let m = manifest();
    let bs = ballots();
    let t = tally(&m, &bs).unwrap();
    let csv = result_csv(&m, &t);
    let close = Close {
        consultation_id: "budget-2027".into(),
        manifest_leaf: leaf_hash(&m.encode().unwrap()),
        day: Day::parse_iso("2027-01-20").unwrap(),
        ballot_entries: t.ballot_entries,
        counted_ballots: t.counted_ballots,
        result_sha256: result_sha256(csv.as_bytes()),
    };
    let mut entries = vec![m.encode().unwrap()];
    entries.extend(bs.iter().map(|b| b.encode().unwrap()));
    entries.push(close.encode().unwrap());
    let mut w = ExportWriter::create(dir).unwrap();
    let mut tree = Tree::new();
    let mut checkpoints = Vec::new();
    for (i, e) in entries.iter().enumerate() {
        w.entry(e).unwrap();
        tree.push_entry(e);
        if i == 0 || i == 2 {
            checkpoints.push((tree.len(), note(&tree)));
        }
    }
    w.finish().unwrap();
    write_tail(
        dir,
        &checkpoints,
        &note(&tree),
        &key().public_key().to_vkey(),
        csv.as_bytes(),
    )
    .unwrap();
    entries
}

fn note(tree: &Tree) -> String {
    key().sign(&Checkpoint {
        origin: ORIGIN.into(),
        size: tree.len(),
        root: tree.root(),
    })
}

fn vkey() -> String {
    key().public_key().to_vkey()
}

fn verify(dir: &Path) -> Result<amenda::ledger::verify::Verified, String> {
    verify_export(dir, Some(&vkey())).map_err(|f| f.to_string())
}

fn edit(dir: &Path, file: &str, f: impl FnOnce(String) -> String) {
    let p = dir.join(file);
    let s = std::fs::read_to_string(&p).unwrap();
    std::fs::write(&p, f(s)).unwrap();
}

/// The rows of entries.csv, reindexed after an edit (a careful forger's move).
fn rewrite_entries(dir: &Path, f: impl FnOnce(&mut Vec<String>)) {
    edit(dir, "entries.csv", |s| {
        let mut lines: Vec<String> = s.lines().skip(1).map(str::to_string).collect();
        f(&mut lines);
        let mut out = String::from("index,type,entry,leaf_hash\n");
        for (i, l) in lines.iter().enumerate() {
            let rest = l.split_once(',').unwrap().1;
            out.push_str(&format!("{i},{rest}\n"));
        }
        out
    });
}

fn fresh() -> (tempfile::TempDir, Vec<Vec<u8>>) {
    let dir = tempfile::tempdir().unwrap();
    let entries = export(dir.path());
    (dir, entries)
}

#[test]
fn a_genuine_export_verifies() {
    let (dir, _) = fresh();
    let v = verify(dir.path()).unwrap();
    assert_eq!(v.entries, 7);
    assert_eq!(v.ballot_entries, 5);
    assert_eq!(
        v.counted_ballots, 4,
        "account 1's re-vote replaces its first ballot"
    );
    assert_eq!(v.checkpoints, 2);
    assert!(dir.path().join(checkpoint_file(3)).is_file());
    // The same through the binary.
    let out = Command::new(env!("CARGO_BIN_EXE_amenda-verify"))
        .arg(dir.path())
        .args(["--key", &vkey()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout)
        .starts_with("verified: 7 entries, 5 ballots, 4 counted"));
}

#[test]
fn a_flipped_byte_in_an_entry_is_caught() {
    let (dir, _) = fresh();
    edit(dir.path(), "entries.csv", |s| {
        let mut lines: Vec<String> = s.lines().map(str::to_string).collect();
        // Flip a nonce byte of entry 2 (the last hex digits before the leaf hash).
        let (head, leaf) = lines[3].rsplit_once(',').unwrap();
        let mut head = head.to_string();
        let last = head.pop().unwrap();
        head.push(if last == '0' { '1' } else { '0' });
        lines[3] = format!("{head},{leaf}");
        lines.join("\n") + "\n"
    });
    let e = verify(dir.path()).unwrap_err();
    assert!(
        e.contains("entries.csv line 4 (entry 2): leaf_hash is"),
        "{e}"
    );
}

#[test]
fn a_dropped_ballot_is_caught() {
    let (dir, _) = fresh();
    // Dropped without renumbering: the indices are no longer dense.
    edit(dir.path(), "entries.csv", |s| {
        let mut lines: Vec<&str> = s.lines().collect();
        lines.remove(3);
        lines.join("\n") + "\n"
    });
    let e = verify(dir.path()).unwrap_err();
    assert!(
        e.contains("indices must be dense from 0: expected 2, found 3"),
        "{e}"
    );
    // Dropped and renumbered: the signed final checkpoint no longer matches.
    let (dir, _) = fresh();
    rewrite_entries(dir.path(), |l| {
        l.remove(2);
    });
    let e = verify(dir.path()).unwrap_err();
    assert!(e.contains("checkpoint.txt signs a log of 7 entries"), "{e}");
    assert!(e.contains("entries.csv gives 6 entries"), "{e}");
    assert!(
        e.contains("signed evidence:\namenda.test/consultation/budget-2027\n7\n"),
        "{e}"
    );
}

#[test]
fn two_swapped_ballots_are_caught() {
    let (dir, _) = fresh();
    rewrite_entries(dir.path(), |l| l.swap(3, 4));
    let e = verify(dir.path()).unwrap_err();
    assert!(
        e.contains("checkpoint.txt signs a log of 7 entries with root"),
        "{e}"
    );
    assert!(
        e.contains("but entries.csv gives 7 entries with root"),
        "{e}"
    );
}

#[test]
fn an_appended_ballot_is_caught() {
    let (dir, _) = fresh();
    let extra = ballot(AccountId::new(9), 3, &[(0, 0), (1, 0)], 9)
        .encode()
        .unwrap();
    // After the close record.
    edit(dir.path(), "entries.csv", |mut s| {
        s.push_str(&format!(
            "7,ballot,{},{}\n",
            hex::encode(&extra),
            hex::encode(leaf_hash(&extra))
        ));
        s
    });
    let e = verify(dir.path()).unwrap_err();
    assert!(
        e.contains("a close record that is not the last entry"),
        "{e}"
    );
    // Slipped in before the close, renumbered: the signed root no longer matches.
    let (dir, _) = fresh();
    rewrite_entries(dir.path(), |l| {
        l.insert(
            6,
            format!(
                "x,ballot,{},{}",
                hex::encode(&extra),
                hex::encode(leaf_hash(&extra))
            ),
        )
    });
    let e = verify(dir.path()).unwrap_err();
    assert!(e.contains("checkpoint.txt signs a log of 7 entries"), "{e}");
}

#[test]
fn an_edited_result_is_caught() {
    let (dir, _) = fresh();
    // One more vote for "contre" on the bill (line 6: item 1, option 1).
    edit(dir.path(), "result.csv", |s| {
        let mut lines: Vec<String> = s.lines().map(str::to_string).collect();
        let mut f: Vec<String> = lines[5].split(',').map(str::to_string).collect();
        assert_eq!((f[0].as_str(), f[1].as_str()), ("1", "1"));
        f[4] = (f[4].parse::<u64>().unwrap() + 1).to_string();
        lines[5] = f.join(",");
        lines.join("\n") + "\n"
    });
    let e = verify(dir.path()).unwrap_err();
    assert!(
        e.contains("result.csv differs from the recount at line 6"),
        "{e}"
    );
}

#[test]
fn ballots_csv_must_agree_with_entries_csv() {
    let (dir, _) = fresh();
    edit(dir.path(), "ballots.csv", |s| {
        s.replacen(",pseudonymous,", ",public,", 1)
    });
    let e = verify(dir.path()).unwrap_err();
    assert!(
        e.contains("ballots.csv disagrees with entries.csv at line 2"),
        "{e}"
    );
}

#[test]
fn ballots_csv_with_a_row_too_many_or_too_few_is_caught() {
    let (dir, _) = fresh();
    let original = std::fs::read_to_string(dir.path().join("ballots.csv")).unwrap();
    let rows = original.lines().count();
    let last = original.lines().last().unwrap().to_string();
    edit(dir.path(), "ballots.csv", |s| format!("{s}{last}\n"));
    let e = verify(dir.path()).unwrap_err();
    assert!(
        e.contains(&format!(
            "ballots.csv disagrees with entries.csv at line {}: expected \"\", found {last:?}",
            rows + 1
        )),
        "{e}"
    );
    let without_last = original
        .lines()
        .take(rows - 1)
        .collect::<Vec<_>>()
        .join("\n")
        + "\n";
    std::fs::write(dir.path().join("ballots.csv"), without_last).unwrap();
    let e = verify(dir.path()).unwrap_err();
    assert!(
        e.contains(&format!(
            "ballots.csv disagrees with entries.csv at line {rows}: expected {last:?}, found \"\""
        )),
        "{e}"
    );
}

#[test]
fn a_checkpoint_signed_by_another_key_is_caught() {
    let (dir, _) = fresh();
    let other = SigningKey::from_seed(ORIGIN, &[0x99; 32]).unwrap();
    let forged = other.sign(&Checkpoint {
        origin: ORIGIN.into(),
        size: 3,
        root: [0; 32],
    });
    std::fs::write(dir.path().join(checkpoint_file(3)), &forged).unwrap();
    let e = verify(dir.path()).unwrap_err();
    assert!(e.starts_with(&format!("{}: ", checkpoint_file(3))), "{e}");
    assert!(e.contains("signed evidence:"), "{e}");
}

#[test]
fn a_checkpoint_that_is_not_a_prefix_is_caught() {
    let (dir, _) = fresh();
    // Properly signed, but for a history that is not this log's.
    let mut other = Tree::new();
    other.push_entry(&manifest().encode().unwrap());
    other.push_entry(&ballot(AccountId::new(5), 2, &[(1, 1)], 7).encode().unwrap());
    other.push_entry(&ballot(AccountId::new(6), 2, &[(1, 1)], 8).encode().unwrap());
    std::fs::write(dir.path().join(checkpoint_file(3)), note(&other)).unwrap();
    let e = verify(dir.path()).unwrap_err();
    assert!(
        e.contains("signs a log of 3 entries that is not a prefix of the final log (7 entries)"),
        "{e}"
    );
    assert!(e.contains("signed evidence:"));
}

fn receipt(entries: &[Vec<u8>], index: usize, size: usize) -> String {
    let tree = Tree::from_leaf_hashes(entries[..size].iter().map(|e| leaf_hash(e)));
    Receipt {
        index: index as u64,
        entry: entries[index].clone(),
        proof: tree.inclusion_proof(index as u64, size as u64).unwrap(),
        checkpoint: note(&tree),
    }
    .to_json()
}

#[test]
fn receipts_are_checked_against_the_export() {
    let (dir, entries) = fresh();
    let k = vkey();
    // Account 2's only ballot (entry 2): counted.
    let r = receipt(&entries, 2, 3);
    assert_eq!(
        verify_receipt_in(&r, dir.path(), Some(&k)),
        Ok(ReceiptStatus::Counted)
    );
    // Account 1's first ballot (entry 1), replaced by entry 4.
    let r = receipt(&entries, 1, 2);
    assert_eq!(
        verify_receipt_in(&r, dir.path(), Some(&k)),
        Ok(ReceiptStatus::Superseded { by: 4 })
    );
    // The ballot of a receipt removed from the export.
    let r2 = receipt(&entries, 2, 3);
    rewrite_entries(dir.path(), |l| {
        l.remove(2);
    });
    let e = verify_receipt_in(&r2, dir.path(), Some(&k))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("the export holds another entry at index 2"),
        "{e}"
    );
    assert!(e.contains("signed evidence:"), "{e}");
    // Through the binary.
    let (dir, entries) = fresh();
    let file = dir.path().join("receipt.json");
    std::fs::write(&file, receipt(&entries, 1, 2)).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_amenda-verify"))
        .arg("receipt")
        .arg(&file)
        .arg("--export")
        .arg(dir.path())
        .args(["--key", &k])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("voted again in entry 4"));
    // A tampered export fails with exit status 1 and the reason on stderr.
    edit(dir.path(), "result.csv", |s| s.replace(",pour,", ",POUR,"));
    let out = Command::new(env!("CARGO_BIN_EXE_amenda-verify"))
        .arg(dir.path())
        .args(["--key", &k])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("FAILED: result.csv differs"));
}
