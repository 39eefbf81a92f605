//! Ballot receipts: everything a voter needs to check offline that their ballot is in
//! the log — the entry bytes, its index, an inclusion proof and a signed checkpoint of a
//! tree that contains it. Serialized as JSON (docs/ballot-log.md):
//!
//! ```json
//! {"format":"amenda-receipt-v1","index":5,"entry":"<hex>",
//!  "inclusion_proof":["<hex>",…],"checkpoint":"<signed note>"}
//! ```

use super::checkpoint::{verify_checkpoint, Checkpoint, CheckpointError, PublicKey};
use super::entry::{Entry, EntryError};
use super::merkle::{leaf_hash, verify_inclusion, Hash, MerkleError};
use serde::{Deserialize, Serialize};

pub const RECEIPT_FORMAT: &str = "amenda-receipt-v1";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    pub index: u64,
    pub entry: Vec<u8>,
    /// Inclusion proof of `index` in the checkpoint's tree.
    pub proof: Vec<Hash>,
    /// Signed note text.
    pub checkpoint: String,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Wire {
    format: String,
    index: u64,
    entry: String,
    inclusion_proof: Vec<String>,
    checkpoint: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReceiptError {
    #[error("not a receipt: {0}")]
    Malformed(String),
    #[error("checkpoint: {0}")]
    Checkpoint(#[from] CheckpointError),
    #[error("entry: {0}")]
    Entry(#[from] EntryError),
    #[error("entry {index} is not in the checkpoint's tree of {size} entries")]
    BeyondCheckpoint { index: u64, size: u64 },
    #[error("inclusion proof: {0}")]
    Inclusion(#[from] MerkleError),
}

/// What a valid receipt proves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedReceipt {
    pub checkpoint: Checkpoint,
    pub leaf_hash: Hash,
    pub entry: Entry,
}

impl Receipt {
    pub fn to_json(&self) -> String {
        let w = Wire {
            format: RECEIPT_FORMAT.to_string(),
            index: self.index,
            entry: hex::encode(&self.entry),
            inclusion_proof: self.proof.iter().map(hex::encode).collect(),
            checkpoint: self.checkpoint.clone(),
        };
        let mut s = serde_json::to_string_pretty(&w).expect("plain data");
        s.push('\n');
        s
    }

    pub fn from_json(s: &str) -> Result<Receipt, ReceiptError> {
        let bad = |m: &str| ReceiptError::Malformed(m.to_string());
        let w: Wire =
            serde_json::from_str(s).map_err(|e| ReceiptError::Malformed(e.to_string()))?;
        if w.format != RECEIPT_FORMAT {
            return Err(bad("unknown format"));
        }
        let entry = hex::decode(&w.entry).map_err(|_| bad("entry is not hex"))?;
        let proof = w
            .inclusion_proof
            .iter()
            .map(|h| {
                hex::decode(h)
                    .ok()
                    .and_then(|b| Hash::try_from(b).ok())
                    .ok_or_else(|| bad("a proof hash is not 32 bytes of hex"))
            })
            .collect::<Result<_, _>>()?;
        Ok(Receipt {
            index: w.index,
            entry,
            proof,
            checkpoint: w.checkpoint,
        })
    }
}

/// Checks the checkpoint signature, that the entry decodes strictly, and that the proof
/// puts the entry's leaf at `index` in the checkpoint's tree.
pub fn verify_receipt(r: &Receipt, key: &PublicKey) -> Result<VerifiedReceipt, ReceiptError> {
    let checkpoint = verify_checkpoint(&r.checkpoint, key)?;
    let entry = Entry::decode(&r.entry)?;
    if r.index >= checkpoint.size {
        return Err(ReceiptError::BeyondCheckpoint {
            index: r.index,
            size: checkpoint.size,
        });
    }
    let leaf = leaf_hash(&r.entry);
    verify_inclusion(r.index, checkpoint.size, &leaf, &r.proof, &checkpoint.root)?;
    Ok(VerifiedReceipt {
        checkpoint,
        leaf_hash: leaf,
        entry,
    })
}
