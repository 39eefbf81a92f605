//! The ballot log's pure core (src/ledger, format in docs/ballot-log.md): the RFC 9162
//! example, the transparency-dev vectors of ../shared/vectors/rfc6962 (or
//! $AMENDA_VECTORS; skipped when absent, unless CI=true, where absence is a failure),
//! every proof up to 64 leaves with every single-bit flip, the golden entries of
//! fixtures/ledger (regenerate with AMENDA_BLESS=1 after a deliberate format change),
//! strict decoding, checkpoints, receipts and the tally.

use amenda::domain::ids::AccountId;
use amenda::ledger::checkpoint::{
    verify_checkpoint, Checkpoint, CheckpointError, PublicKey, SigningKey,
};
use amenda::ledger::entry::*;
use amenda::ledger::merkle::{
    empty_root, leaf_hash, node_hash, verify_consistency, verify_inclusion, Hash, MerkleError, Tree,
};
use amenda::ledger::receipt::{verify_receipt, Receipt, ReceiptError};
use amenda::ledger::tally::{result_csv, result_sha256, tally, TallyError};
use amenda::ledger::token::ConsultationKey;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use serde_json::Value;
use std::path::{Path, PathBuf};

// ---------- Merkle: RFC 9162 §2.1.5 ----------

#[test]
fn rfc9162_seven_leaf_example() {
    let d: Vec<Vec<u8>> = (0u8..7).map(|i| vec![i; 3]).collect();
    let [a, b, c, dd, e, f, d6] = std::array::from_fn(|i| leaf_hash(&d[i]));
    let (g, h, i) = (node_hash(&a, &b), node_hash(&c, &dd), node_hash(&e, &f));
    let j = d6;
    let (k, l) = (node_hash(&g, &h), node_hash(&i, &j));
    let root = node_hash(&k, &l);

    let mut t = Tree::new();
    for x in &d {
        t.push_entry(x);
    }
    assert_eq!(t.root(), root);
    let hash0 = node_hash(&g, &c); // size 3
    assert_eq!(t.root_at(3).unwrap(), hash0);
    assert_eq!(t.root_at(4).unwrap(), k);
    assert_eq!(t.root_at(6).unwrap(), node_hash(&k, &i));

    assert_eq!(t.inclusion_proof(0, 7).unwrap(), vec![b, h, l]);
    assert_eq!(t.inclusion_proof(3, 7).unwrap(), vec![c, g, l]);
    assert_eq!(t.inclusion_proof(4, 7).unwrap(), vec![f, j, k]);
    assert_eq!(t.inclusion_proof(6, 7).unwrap(), vec![i, k]);
    assert_eq!(t.consistency_proof(3, 7).unwrap(), vec![c, dd, g, l]);
    assert_eq!(t.consistency_proof(4, 7).unwrap(), vec![l]);
    assert_eq!(t.consistency_proof(6, 7).unwrap(), vec![i, j, k]);
    for (n, p) in [(3, vec![c, dd, g, l]), (4, vec![l]), (6, vec![i, j, k])] {
        let r1 = t.root_at(n).unwrap();
        verify_consistency(n, 7, &p, &r1, &root).unwrap();
    }
    for (idx, p) in [(0, vec![b, h, l]), (3, vec![c, g, l]), (4, vec![f, j, k])] {
        verify_inclusion(idx, 7, &t.leaf(idx).unwrap(), &p, &root).unwrap();
    }
    assert_eq!(Tree::new().root(), empty_root());
}

// ---------- Merkle: the transparency-dev vectors ----------

fn vectors() -> Option<PathBuf> {
    let dir = std::env::var_os("AMENDA_VECTORS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/vectors"));
    let dir = dir.join("rfc6962");
    if dir.join("tree.json").is_file() {
        return Some(dir);
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!(
            "the test vectors are required in CI and are missing at {}",
            dir.display()
        );
    }
    eprintln!(
        "skipped: no vectors at {} (set AMENDA_VECTORS)",
        dir.display()
    );
    None
}

fn json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every `*.json` under `dir`, sorted, recursively.
fn json_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "json") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

fn b64(v: &Value) -> Vec<u8> {
    B64.decode(v.as_str().unwrap()).unwrap()
}

fn b64_list(v: &Value) -> Vec<Vec<u8>> {
    v.as_array()
        .map(|a| a.iter().map(b64).collect())
        .unwrap_or_default()
}

fn vector_tree(dir: &Path) -> Tree {
    let t = json(&dir.join("tree.json"));
    let leaves: Vec<Vec<u8>> = t["leaf_inputs_hex"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| hex::decode(h.as_str().unwrap()).unwrap())
        .collect();
    let mut tree = Tree::new();
    for l in &leaves {
        tree.push_entry(l);
    }
    tree
}

#[test]
fn vectors_tree_roots() {
    let Some(dir) = vectors() else { return };
    let t = json(&dir.join("tree.json"));
    let tree = vector_tree(&dir);
    let roots = t["root_hashes_hex_by_size"].as_array().unwrap();
    assert_eq!(roots.len(), 9);
    for (n, want) in roots.iter().enumerate() {
        let got = tree.root_at(n as u64).unwrap();
        assert_eq!(hex::encode(got), want.as_str().unwrap(), "size {n}");
    }
}

#[test]
fn vectors_inclusion() {
    let Some(dir) = vectors() else { return };
    let tree = vector_tree(&dir);
    let files = json_files(&dir.join("inclusion"));
    assert!(files.len() >= 80, "only {} inclusion vectors", files.len());
    let mut happy = 0;
    for f in &files {
        let v = json(f);
        let (index, size) = (
            v["leafIdx"].as_u64().unwrap(),
            v["treeSize"].as_u64().unwrap(),
        );
        let proof = b64_list(&v["proof"]);
        let got = verify_inclusion(index, size, &b64(&v["leafHash"]), &proof, &b64(&v["root"]));
        let want_err = v["wantErr"].as_bool().unwrap();
        assert_eq!(got.is_err(), want_err, "{}: {got:?}", f.display());
        if !want_err && size <= tree.len() && size > 1 {
            // Our generator gives the same proof as the reference.
            let ours: Vec<Vec<u8>> = tree
                .inclusion_proof(index, size)
                .unwrap()
                .iter()
                .map(|h| h.to_vec())
                .collect();
            assert_eq!(ours, proof, "{}", f.display());
            happy += 1;
        }
    }
    assert!(happy >= 4);
}

#[test]
fn vectors_consistency() {
    let Some(dir) = vectors() else { return };
    let tree = vector_tree(&dir);
    let files = json_files(&dir.join("consistency"));
    assert!(
        files.len() >= 80,
        "only {} consistency vectors",
        files.len()
    );
    let mut happy = 0;
    for f in &files {
        let v = json(f);
        let (s1, s2) = (v["size1"].as_u64().unwrap(), v["size2"].as_u64().unwrap());
        let proof = b64_list(&v["proof"]);
        let got = verify_consistency(s1, s2, &proof, &b64(&v["root1"]), &b64(&v["root2"]));
        let want_err = v["wantErr"].as_bool().unwrap();
        assert_eq!(got.is_err(), want_err, "{}: {got:?}", f.display());
        if !want_err && s2 <= tree.len() && s1 > 0 {
            let ours: Vec<Vec<u8>> = tree
                .consistency_proof(s1, s2)
                .unwrap()
                .iter()
                .map(|h| h.to_vec())
                .collect();
            assert_eq!(ours, proof, "{}", f.display());
            happy += 1;
        }
    }
    assert!(happy >= 4);
}

// ---------- Merkle: every size up to 64, every bit flip ----------

fn flips(h: &Hash) -> impl Iterator<Item = Hash> + '_ {
    (0..256).map(move |bit| {
        let mut x = *h;
        x[bit / 8] ^= 1 << (bit % 8);
        x
    })
}

#[test]
fn inclusion_proofs_up_to_64_and_bit_flips() {
    let tree = Tree::from_leaf_hashes((0u32..64).map(|i| leaf_hash(&i.to_be_bytes())));
    for n in 1..=64u64 {
        let root = tree.root_at(n).unwrap();
        for i in 0..n {
            let leaf = tree.leaf(i).unwrap();
            let proof = tree.inclusion_proof(i, n).unwrap();
            verify_inclusion(i, n, &leaf, &proof, &root).unwrap();
            for bad in flips(&root) {
                assert!(verify_inclusion(i, n, &leaf, &proof, &bad).is_err());
            }
            for bad in flips(&leaf) {
                assert!(verify_inclusion(i, n, &bad, &proof, &root).is_err());
            }
            for k in 0..proof.len() {
                for bad in flips(&proof[k]) {
                    let mut p = proof.clone();
                    p[k] = bad;
                    assert!(
                        verify_inclusion(i, n, &leaf, &p, &root).is_err(),
                        "{i}/{n} [{k}]"
                    );
                }
            }
            // Another index, a shorter or longer proof. (A proof may also fit another
            // size of the same shape: the signed checkpoint is what binds the size.)
            assert!(verify_inclusion(i ^ 1, n, &leaf, &proof, &root).is_err() || n == 1);
            if !proof.is_empty() {
                assert!(verify_inclusion(i, n, &leaf, &proof[1..], &root).is_err());
            }
            let mut longer = proof.clone();
            longer.push(root);
            assert!(verify_inclusion(i, n, &leaf, &longer, &root).is_err());
        }
        assert!(tree.inclusion_proof(n, n).is_err());
    }
    assert!(tree.inclusion_proof(0, 65).is_err());
}

#[test]
fn consistency_proofs_up_to_64_and_bit_flips() {
    let tree = Tree::from_leaf_hashes((0u32..64).map(|i| leaf_hash(&i.to_be_bytes())));
    for n in 1..=64u64 {
        let r2 = tree.root_at(n).unwrap();
        for m in 1..=n {
            let r1 = tree.root_at(m).unwrap();
            let proof = tree.consistency_proof(m, n).unwrap();
            verify_consistency(m, n, &proof, &r1, &r2).unwrap();
            for bad in flips(&r1) {
                assert!(
                    verify_consistency(m, n, &proof, &bad, &r2).is_err(),
                    "{m}/{n}"
                );
            }
            for bad in flips(&r2) {
                assert!(
                    verify_consistency(m, n, &proof, &r1, &bad).is_err(),
                    "{m}/{n}"
                );
            }
            for k in 0..proof.len() {
                for bad in flips(&proof[k]) {
                    let mut p = proof.clone();
                    p[k] = bad;
                    assert!(
                        verify_consistency(m, n, &p, &r1, &r2).is_err(),
                        "{m}/{n} [{k}]"
                    );
                }
            }
            if m < n {
                assert!(verify_consistency(m, n, &proof[1..], &r1, &r2).is_err());
                let mut longer = proof.clone();
                longer.push(r2);
                assert!(verify_consistency(m, n, &longer, &r1, &r2).is_err());
            }
        }
    }
    assert_eq!(tree.consistency_proof(0, 5), Err(MerkleError::EmptyOldTree));
    assert!(tree.consistency_proof(6, 5).is_err());
}

// ---------- entries: golden vectors and strict decoding ----------

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/ledger")
}

/// Compares with the golden file, or (AMENDA_BLESS=1) rewrites it.
fn golden(name: &str, content: &str) {
    let path = fixtures().join(name);
    if std::env::var("AMENDA_BLESS").is_ok_and(|v| v == "1") {
        std::fs::write(&path, content).unwrap();
        return;
    }
    let want = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (bless with AMENDA_BLESS=1)", path.display()));
    assert_eq!(content, want, "{name} differs from its golden file");
}

fn sha(s: &str) -> Hash {
    result_sha256(s.as_bytes())
}

const ORIGIN: &str = "amenda.example/consultation/loi-numerique-2026";

fn log_key() -> SigningKey {
    SigningKey::from_seed(ORIGIN, &[0x42; 32]).unwrap()
}

fn manifest() -> Manifest {
    let options = || vec!["pour".to_string(), "contre".into(), "abstention".into()];
    Manifest {
        consultation_id: "loi-numerique-2026".into(),
        origin: ORIGIN.into(),
        log_public_key: *log_key().public_key().bytes(),
        bill_version_hash: sha("bill loi-numerique version 3"),
        amendments: vec![
            AmendmentRef {
                id: "A-1".into(),
                revision: 2,
                hash: sha("A-1 revision 2"),
            },
            AmendmentRef {
                id: "A-7".into(),
                revision: 1,
                hash: sha("A-7 revision 1"),
            },
        ],
        opens: Day::parse_iso("2026-12-01").unwrap(),
        closes: Day::parse_iso("2026-12-15").unwrap(),
        minimum_level: 2,
        revote: RevotePolicy::LastCounts,
        items: vec![
            Item {
                subject: Subject::Amendment(0),
                question: "Adopter l'amendement A-1 ?".into(),
                options: options(),
            },
            Item {
                subject: Subject::Amendment(1),
                question: "Adopter l'amendement A-7, « données ouvertes » ?".into(),
                options: options(),
            },
            Item {
                subject: Subject::Bill,
                question: "Adopter le projet de loi tel qu'amendé ?".into(),
                options: options(),
            },
        ],
    }
}

fn manifest_leaf() -> Hash {
    leaf_hash(&manifest().encode().unwrap())
}

fn ballot(
    account: AccountId,
    level: u8,
    disclosure: Disclosure,
    answers: &[(u16, u8)],
    n: u8,
) -> Ballot {
    Ballot {
        consultation_id: "loi-numerique-2026".into(),
        manifest_leaf: manifest_leaf(),
        voter_token: ConsultationKey::from_bytes([7; 32]).voter_token(account),
        level,
        disclosure,
        day: Day::parse_iso("2026-12-03").unwrap(),
        answers: answers
            .iter()
            .map(|&(item, option)| Answer { item, option })
            .collect(),
        nonce: [n; 32],
    }
}

fn sample_ballot() -> Ballot {
    ballot(
        AccountId::new(42),
        2,
        Disclosure::Pseudonymous,
        &[(0, 0), (1, 1), (2, 0)],
        0x5a,
    )
}

fn close() -> Close {
    Close {
        consultation_id: "loi-numerique-2026".into(),
        manifest_leaf: manifest_leaf(),
        day: Day::parse_iso("2026-12-15").unwrap(),
        ballot_entries: 6,
        counted_ballots: 4,
        result_sha256: sha("result.csv"),
    }
}

fn golden_entries() -> Vec<(&'static str, Entry)> {
    vec![
        ("manifest.hex", Entry::Manifest(manifest())),
        ("ballot.hex", Entry::Ballot(sample_ballot())),
        (
            "ballot-public.hex",
            Entry::Ballot(ballot(
                AccountId::new(7),
                3,
                Disclosure::Public,
                &[(2, 2)],
                0x01,
            )),
        ),
        ("close.hex", Entry::Close(close())),
    ]
}

#[test]
fn golden_entries_decode_and_reencode_identically() {
    for (name, entry) in golden_entries() {
        let bytes = entry.encode().unwrap();
        golden(name, &format!("{}\n", hex::encode(&bytes)));
        let stored = hex::decode(
            std::fs::read_to_string(fixtures().join(name))
                .unwrap()
                .trim_end(),
        )
        .unwrap();
        let decoded = Entry::decode(&stored).unwrap();
        assert_eq!(decoded, entry, "{name}");
        assert_eq!(decoded.encode().unwrap(), stored, "{name}");
    }
    let m = manifest();
    let b = Ballot::decode_for(&sample_ballot().encode().unwrap(), &m, &manifest_leaf()).unwrap();
    assert_eq!(b, sample_ballot());
    assert_eq!(
        Day::parse_iso("2026-12-03").unwrap().to_string(),
        "2026-12-03"
    );
}

fn all_golden_bytes() -> Vec<Vec<u8>> {
    golden_entries()
        .into_iter()
        .map(|(_, e)| e.encode().unwrap())
        .collect()
}

#[test]
fn truncations_and_trailing_bytes_are_rejected() {
    for bytes in all_golden_bytes() {
        for n in 0..bytes.len() {
            assert!(Entry::decode(&bytes[..n]).is_err(), "truncated to {n}");
        }
        for extra in [0u8, 1, 0xff] {
            let mut b = bytes.clone();
            b.push(extra);
            assert_eq!(Entry::decode(&b), Err(EntryError::TrailingBytes(1)));
        }
    }
}

#[test]
fn bad_version_and_type_are_rejected() {
    for bytes in all_golden_bytes() {
        for v in [0u8, 2, 0xff] {
            let mut b = bytes.clone();
            b[0] = v;
            assert_eq!(Entry::decode(&b), Err(EntryError::UnknownVersion(v)));
        }
        for t in [0u8, 4, 0xff] {
            let mut b = bytes.clone();
            b[1] = t;
            assert_eq!(Entry::decode(&b), Err(EntryError::UnknownType(t)));
        }
    }
    let ballot = sample_ballot().encode().unwrap();
    assert!(matches!(
        Manifest::decode(&ballot),
        Err(EntryError::WrongType {
            expected: 1,
            found: 2
        })
    ));
}

/// Offset of the answers in the sample ballot: after the header, the id string, the
/// manifest leaf, the token, level, disclosure and day.
fn answers_offset(b: &Ballot) -> usize {
    2 + 2 + b.consultation_id.len() + 32 + 32 + 1 + 1 + 4
}

#[test]
fn unsorted_duplicate_and_out_of_range_answers_are_rejected() {
    let b = sample_ballot();
    let bytes = b.encode().unwrap();
    let at = answers_offset(&b);
    assert_eq!(&bytes[at..at + 2], &[0, 3]);
    // Swap the first two answers (3 bytes each).
    let mut swapped = bytes.clone();
    swapped[at + 2..at + 8].copy_from_slice(&[0, 1, 1, 0, 0, 0]);
    assert_eq!(Entry::decode(&swapped), Err(EntryError::UnsortedAnswers));
    // Answer item 0 twice.
    let mut dup = bytes.clone();
    dup[at + 5..at + 7].copy_from_slice(&[0, 0]);
    assert_eq!(Entry::decode(&dup), Err(EntryError::UnsortedAnswers));
    // No answers at all: count 0, and the answers gone.
    let mut none = bytes[..at].to_vec();
    none.extend_from_slice(&[0, 0]);
    none.extend_from_slice(&b.nonce);
    assert_eq!(Entry::decode(&none), Err(EntryError::Empty("answer list")));

    // Structurally valid, but out of range for the manifest.
    let m = manifest();
    let bad_option = ballot(AccountId::new(1), 2, Disclosure::Public, &[(0, 3)], 9)
        .encode()
        .unwrap();
    assert_eq!(
        Ballot::decode_for(&bad_option, &m, &manifest_leaf()),
        Err(EntryError::OptionOutOfRange {
            item: 0,
            option: 3,
            options: 3
        })
    );
    let bad_item = ballot(AccountId::new(1), 2, Disclosure::Public, &[(3, 0)], 9)
        .encode()
        .unwrap();
    assert_eq!(
        Ballot::decode_for(&bad_item, &m, &manifest_leaf()),
        Err(EntryError::ItemOutOfRange { item: 3, items: 3 })
    );
    let mut other = sample_ballot();
    other.manifest_leaf = [0; 32];
    assert!(Ballot::decode_for(&other.encode().unwrap(), &m, &manifest_leaf()).is_err());
    let mut late = sample_ballot();
    late.day = Day::parse_iso("2026-12-16").unwrap();
    assert_eq!(
        late.check(&m, &manifest_leaf()),
        Err(EntryError::ManifestMismatch("day cast"))
    );
}

#[test]
fn bad_strings_and_values_are_rejected() {
    let mut b = sample_ballot();
    b.consultation_id = "ABC".into();
    let bytes = b.encode().unwrap();
    assert_eq!(&bytes[4..7], b"ABC");
    // "e" + combining acute accent: 3 bytes, valid UTF-8, not NFC.
    let mut nfd = bytes.clone();
    nfd[4..7].copy_from_slice("e\u{301}".as_bytes());
    assert_eq!(
        Entry::decode(&nfd),
        Err(EntryError::NotNfc("consultation id"))
    );
    let mut invalid = bytes.clone();
    invalid[4..7].copy_from_slice(&[0xff, 0xfe, 0xfd]);
    assert_eq!(
        Entry::decode(&invalid),
        Err(EntryError::InvalidUtf8("consultation id"))
    );
    // The encoder refuses what the decoder would.
    b.consultation_id = "e\u{301}".into();
    assert!(b.encode().is_err());
    let mut m = manifest();
    m.items[0].options[1] = "pour".into();
    assert_eq!(m.encode(), Err(EntryError::Duplicate("option label")));
    let mut m = manifest();
    m.items[0].subject = Subject::Amendment(2);
    assert!(m.encode().is_err());
    let mut m = manifest();
    m.minimum_level = 4;
    assert!(m.encode().is_err());

    // Level, disclosure and day bytes out of range.
    let bytes = sample_ballot().encode().unwrap();
    let at = answers_offset(&sample_ballot());
    for (off, v) in [(at - 6, 4u8), (at - 5, 2)] {
        let mut x = bytes.clone();
        x[off] = v;
        assert!(matches!(
            Entry::decode(&x),
            Err(EntryError::BadValue { .. })
        ));
    }
    let mut x = bytes.clone();
    x[at - 4..at].copy_from_slice(&u32::MAX.to_be_bytes());
    assert!(matches!(
        Entry::decode(&x),
        Err(EntryError::BadValue { .. })
    ));
}

// ---------- checkpoints ----------

#[test]
fn checkpoint_sign_verify_and_wrong_key() {
    let key = log_key();
    let pk = key.public_key();
    let cp = Checkpoint {
        origin: ORIGIN.into(),
        size: 6,
        root: sha("root"),
    };
    let note = key.sign(&cp);
    golden("checkpoint.txt", &note);
    golden("log.vkey", &format!("{}\n", pk.to_vkey()));
    assert_eq!(verify_checkpoint(&note, &pk), Ok(cp.clone()));
    assert_eq!(PublicKey::from_vkey(&pk.to_vkey()), Ok(pk.clone()));
    assert!(note.starts_with(&format!("{ORIGIN}\n6\n")));
    assert!(note.contains("\n\n\u{2014} "));

    // Same name, other key; other name.
    let other = SigningKey::from_seed(ORIGIN, &[0x43; 32]).unwrap();
    assert!(matches!(
        verify_checkpoint(&note, &other.public_key()),
        Err(CheckpointError::WrongKey { .. })
    ));
    let renamed = PublicKey::new("someone-else", *pk.bytes()).unwrap();
    assert!(matches!(
        verify_checkpoint(&note, &renamed),
        Err(CheckpointError::WrongKey { .. })
    ));
    // A signature by the other key under the same name and id is still refused: the key id
    // differs, so it counts as another key.
    let forged = other.sign(&cp);
    assert!(verify_checkpoint(&forged, &pk).is_err());

    // Altered body.
    let tampered = note.replacen("\n6\n", "\n7\n", 1);
    assert_eq!(
        verify_checkpoint(&tampered, &pk),
        Err(CheckpointError::BadSignature(ORIGIN.into()))
    );
    // A cosignature by another key is ignored.
    let extra = other.sign(&cp);
    let cosig = extra.rsplit_once("\n\n").unwrap().1;
    let both = note.replacen("\n\n\u{2014}", &format!("\n\n{cosig}\u{2014}"), 1);
    assert_eq!(both.matches('\u{2014}').count(), 2);
    assert_eq!(verify_checkpoint(&both, &pk), Ok(cp.clone()));
    // Malformed texts.
    for bad in [
        note.replacen("\n\n", "\n", 1),
        note.replacen("\n6\n", "\n06\n", 1),
        note.replacen("\n6\n", "\n6\nextension\n", 1),
        note.trim_end().to_string(),
        format!("{note}garbage\n"),
        note.replacen(&B64.encode(cp.root), "not base64!", 1),
        note.replacen(&B64.encode(cp.root), &B64.encode([1u8; 31]), 1),
    ] {
        assert!(verify_checkpoint(&bad, &pk).is_err(), "{bad:?}");
    }
    assert!(PublicKey::from_vkey("a+00000000+AAAA").is_err());
    assert!(SigningKey::from_pkcs8(ORIGIN, b"junk").is_err());
    let pkcs8 = SigningKey::generate_pkcs8().unwrap();
    let fresh = SigningKey::from_pkcs8("fresh", &pkcs8).unwrap();
    verify_checkpoint(&fresh.sign(&cp), &fresh.public_key()).unwrap();
}

// ---------- receipts ----------

/// The manifest, the six ballots of the tally test, the close.
fn sample_log() -> Vec<Vec<u8>> {
    let mut log = vec![manifest().encode().unwrap()];
    log.extend(tally_ballots().iter().map(|b| b.encode().unwrap()));
    log
}

fn receipt_for(log: &[Vec<u8>], index: u64, size: u64) -> Receipt {
    let tree = Tree::from_leaf_hashes(log.iter().map(|e| leaf_hash(e)));
    let cp = Checkpoint {
        origin: ORIGIN.into(),
        size,
        root: tree.root_at(size).unwrap(),
    };
    Receipt {
        index,
        entry: log[index as usize].clone(),
        proof: tree.inclusion_proof(index, size).unwrap(),
        checkpoint: log_key().sign(&cp),
    }
}

#[test]
fn receipts_verify_and_tampering_fails() {
    let log = sample_log();
    let pk = log_key().public_key();
    for size in 2..=log.len() as u64 {
        for index in 1..size {
            let r = receipt_for(&log, index, size);
            let v = verify_receipt(&r, &pk).unwrap();
            assert_eq!(v.checkpoint.size, size);
            assert!(matches!(v.entry, Entry::Ballot(_)));
            let back = Receipt::from_json(&r.to_json()).unwrap();
            assert_eq!(back, r);
        }
    }
    let r = receipt_for(&log, 3, log.len() as u64);
    golden("receipt.json", &r.to_json());

    let mut x = r.clone();
    x.entry[40] ^= 1;
    assert!(matches!(
        verify_receipt(&x, &pk),
        Err(ReceiptError::Inclusion(_))
    ));
    let mut x = r.clone();
    x.entry.push(0);
    assert!(matches!(
        verify_receipt(&x, &pk),
        Err(ReceiptError::Entry(_))
    ));
    let mut x = r.clone();
    x.proof[0][0] ^= 1;
    assert!(matches!(
        verify_receipt(&x, &pk),
        Err(ReceiptError::Inclusion(_))
    ));
    let mut x = r.clone();
    x.index = 4;
    assert!(verify_receipt(&x, &pk).is_err());
    let mut x = r.clone();
    x.index = 99;
    assert!(matches!(
        verify_receipt(&x, &pk),
        Err(ReceiptError::BeyondCheckpoint { .. })
    ));
    let mut x = r.clone();
    x.checkpoint = x.checkpoint.replacen("\n7\n", "\n8\n", 1);
    assert!(matches!(
        verify_receipt(&x, &pk),
        Err(ReceiptError::Checkpoint(_))
    ));
    let other = SigningKey::from_seed(ORIGIN, &[0x43; 32])
        .unwrap()
        .public_key();
    assert!(matches!(
        verify_receipt(&r, &other),
        Err(ReceiptError::Checkpoint(CheckpointError::WrongKey { .. }))
    ));
    for bad in [
        "{}".to_string(),
        r.to_json()
            .replace("amenda-receipt-v1", "amenda-receipt-v2"),
        r.to_json()
            .replacen("\"index\"", "\"extra\": 1,\n  \"index\"", 1),
    ] {
        assert!(matches!(
            Receipt::from_json(&bad),
            Err(ReceiptError::Malformed(_))
        ));
    }
}

// ---------- tally ----------

/// Accounts 1–4: 1 votes then changes their mind; 3 at level 1 (below the headline
/// minimum of 2); 4 public, votes twice; 2 answers only the bill.
fn tally_ballots() -> Vec<Ballot> {
    use Disclosure::*;
    vec![
        ballot(
            AccountId::new(1),
            2,
            Pseudonymous,
            &[(0, 0), (1, 0), (2, 0)],
            1,
        ),
        ballot(AccountId::new(2), 3, Pseudonymous, &[(2, 1)], 2),
        ballot(
            AccountId::new(3),
            1,
            Pseudonymous,
            &[(0, 1), (1, 1), (2, 1)],
            3,
        ),
        ballot(AccountId::new(4), 3, Public, &[(0, 2), (1, 0), (2, 0)], 4),
        ballot(
            AccountId::new(1),
            2,
            Pseudonymous,
            &[(0, 1), (1, 0), (2, 2)],
            5,
        ),
        ballot(AccountId::new(4), 3, Public, &[(0, 0), (1, 0), (2, 0)], 6),
    ]
}

#[test]
fn tally_counts_last_ballot_per_token_with_breakdowns() {
    let m = manifest();
    let ballots = tally_ballots();
    let t = tally(&m, &ballots).unwrap();
    assert_eq!(t.ballot_entries, 6);
    assert_eq!(t.counted_ballots, 4);
    // Item 0: account 1 → contre (re-vote), 3 → contre (level 1), 4 → pour (re-vote).
    let pour = t.items[0][0];
    assert_eq!((pour.total, pour.headline), (1, 1));
    assert_eq!(pour.by_level, [0, 0, 0, 1]);
    assert_eq!(pour.by_disclosure, [0, 1]);
    let contre = t.items[0][1];
    assert_eq!((contre.total, contre.headline), (2, 1));
    assert_eq!(contre.by_level, [0, 1, 1, 0]);
    assert_eq!(t.items[0][2].total, 0);
    // Item 2 (bill): 1 → abstention, 2 → contre, 3 → contre, 4 → pour.
    let bill: Vec<(u64, u64)> = t.items[2].iter().map(|c| (c.total, c.headline)).collect();
    assert_eq!(bill, vec![(1, 1), (2, 1), (1, 1)]);

    let csv = result_csv(&m, &t);
    golden("result.csv", &csv);
    assert!(csv.starts_with("item,option,question,answer,total,headline,"));
    assert!(!csv.contains('\r'));
    assert_eq!(csv.lines().count(), 1 + 9);
    // Quoted because of the comma.
    assert!(csv.contains("1,0,\"Adopter l'amendement A-7, « données ouvertes » ?\",pour,"));
    assert_eq!(result_sha256(csv.as_bytes()), sha(&csv));

    // Order of arrival matters only per token.
    let mut reordered = ballots.clone();
    reordered.swap(0, 1);
    assert_eq!(tally(&m, &reordered).unwrap(), t);
    let mut single = m.clone();
    single.revote = RevotePolicy::Single;
    assert!(matches!(
        tally(&single, &ballots),
        Err(TallyError::RevoteNotAllowed { position: 4, .. })
    ));
    let bad = [ballot(
        AccountId::new(9),
        2,
        Disclosure::Public,
        &[(1, 7)],
        0,
    )];
    assert!(matches!(
        tally(&m, &bad),
        Err(TallyError::Ballot { position: 0, .. })
    ));
}
