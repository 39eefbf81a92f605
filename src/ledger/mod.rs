//! The auditable ballot log (DESIGN §6, format in docs/ballot-log.md), pure: no storage,
//! no HTTP.

pub mod merkle;

pub use merkle::{
    leaf_hash, node_hash, verify_consistency, verify_inclusion, Hash, MerkleError, Tree,
};
