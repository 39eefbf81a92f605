//! The auditable ballot log (DESIGN §6, format in docs/ballot-log.md), pure: no storage,
//! no HTTP. Entries and their strict codec, the RFC 9162 Merkle tree, signed
//! checkpoints, receipts, voter tokens and the tally.

pub mod checkpoint;
pub mod entry;
pub mod export;
pub mod merkle;
pub mod receipt;
pub mod tally;
pub mod token;
pub mod verify;

pub use checkpoint::{verify_checkpoint, Checkpoint, CheckpointError, PublicKey, SigningKey};
pub use entry::{
    AmendmentRef, Answer, Ballot, Close, Day, Disclosure, Entry, EntryError, Item, Manifest,
    RevotePolicy, Subject,
};
pub use merkle::{
    leaf_hash, node_hash, verify_consistency, verify_inclusion, Hash, MerkleError, Tree,
};
pub use receipt::{verify_receipt, Receipt, ReceiptError, VerifiedReceipt};
pub use tally::{result_csv, result_sha256, tally, OptionCount, Tally, TallyError};
pub use token::{ConsultationKey, VOTER_TOKEN_TAG};
