//! The ballot log's Merkle work at the scale of issue 5 (1,000,000 ballots):
//!
//!     cargo bench --bench ledger
//!
//! - `leaves_1m/leaf_hashes`: leaf hashes of 1,000,000 ballot-sized entries (the bulk of
//!   what `amenda-verify` hashes besides reading the file).
//! - `leaves_1m/tree_root`: building the tree from the leaf hashes and its root.
//! - `leaves_1m/stream_root`: the root in one pass holding O(log n) hashes.
//! - `leaves_1m/all_receipts`: for every leaf, its inclusion proof in the full tree and
//!   its verification, i.e. generating and checking every voter's receipt.

use amenda::ledger::merkle::{leaf_hash, root_of, verify_inclusion, Hash, Tree};
use criterion::Criterion;
use std::hint::black_box;
use std::time::Duration;

const N: u64 = 1_000_000;
/// About the size of a ballot answering three items.
const ENTRY_LEN: usize = 140;

fn entries() -> Vec<[u8; ENTRY_LEN]> {
    (0..N)
        .map(|i| {
            let mut e = [0u8; ENTRY_LEN];
            e[..8].copy_from_slice(&i.to_be_bytes());
            e
        })
        .collect()
}

fn main() {
    let mut c = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(20))
        .configure_from_args();
    let entries = entries();
    let leaves: Vec<Hash> = entries.iter().map(|e| leaf_hash(e)).collect();
    let tree = Tree::from_leaf_hashes(leaves.iter().copied());
    let root = tree.root();

    let mut g = c.benchmark_group("leaves_1m");
    g.bench_function("leaf_hashes", |b| {
        b.iter(|| {
            let mut acc = 0u8;
            for e in &entries {
                acc ^= leaf_hash(e)[0];
            }
            black_box(acc)
        })
    });
    g.bench_function("tree_root", |b| {
        b.iter(|| black_box(Tree::from_leaf_hashes(leaves.iter().copied()).root()))
    });
    g.bench_function("stream_root", |b| {
        b.iter(|| black_box(root_of(leaves.iter().copied())))
    });
    g.bench_function("all_receipts", |b| {
        b.iter(|| {
            for i in 0..N {
                let proof = tree.inclusion_proof(i, N).unwrap();
                verify_inclusion(i, N, &leaves[i as usize], &proof, &root).unwrap();
            }
        })
    });
    g.finish();
    c.final_summary();
}
