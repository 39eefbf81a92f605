//! RFC 9162 Merkle tree: hashing (§2.1.1), inclusion proofs (§2.1.3) and consistency
//! proofs (§2.1.4), generation and verification.
//!
//! [`Tree`] keeps every complete, aligned subtree hash (levels of a perfect binary tree
//! filled from the left), about two hashes per leaf: the root or a proof for any size up
//! to the current one then costs O(log n) lookups plus a few hashes along the right edge.

use ring::digest::{Context, SHA256};

/// A SHA-256 output.
pub type Hash = [u8; 32];

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MerkleError {
    #[error("leaf index {index} is not below tree size {size}")]
    IndexOutOfRange { index: u64, size: u64 },
    #[error("tree size {size} is beyond the {have} leaves held")]
    SizeTooLarge { size: u64, have: u64 },
    #[error("old size {size1} is larger than new size {size2}")]
    SizesReversed { size1: u64, size2: u64 },
    #[error("a consistency proof from the empty tree proves nothing")]
    EmptyOldTree,
    #[error("proof has {got} hashes, expected {want}")]
    ProofLength { got: usize, want: usize },
    #[error("a hash is {0} bytes long, expected 32")]
    HashLength(usize),
    #[error("equal sizes but different roots")]
    RootsDiffer,
    #[error("the proof does not lead to the expected root")]
    RootMismatch,
}

/// `SHA-256(0x00 ‖ entry)`.
pub fn leaf_hash(entry: &[u8]) -> Hash {
    let mut c = Context::new(&SHA256);
    c.update(&[0]);
    c.update(entry);
    to_hash(c)
}

/// `SHA-256(0x01 ‖ left ‖ right)`.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut c = Context::new(&SHA256);
    c.update(&[1]);
    c.update(left);
    c.update(right);
    to_hash(c)
}

/// Root of the empty tree: SHA-256 of the empty string.
pub fn empty_root() -> Hash {
    to_hash(Context::new(&SHA256))
}

fn to_hash(c: Context) -> Hash {
    let mut h = [0u8; 32];
    h.copy_from_slice(c.finish().as_ref());
    h
}

/// Largest power of two strictly below `n` (n ≥ 2): the RFC's split point `k`.
fn split(n: u64) -> u64 {
    debug_assert!(n >= 2);
    1 << (63 - (n - 1).leading_zeros())
}

/// Root of a list of leaf hashes in one pass, holding only O(log n) hashes.
pub fn root_of(leaves: impl IntoIterator<Item = Hash>) -> Hash {
    let mut f = Frontier::default();
    for h in leaves {
        f.push(h);
    }
    f.root()
}

/// The right edge of a growing tree: one hash per perfect subtree of the current size
/// (at most 64), enough for the root at every size as leaves stream past. The verifier
/// uses it to check a log of any length in constant memory.
#[derive(Debug, Clone, Default)]
pub struct Frontier {
    /// (level, hash) of the perfect subtrees, largest first.
    stack: Vec<(u32, Hash)>,
    len: u64,
}

impl Frontier {
    pub fn push(&mut self, leaf: Hash) {
        let mut cur = (0u32, leaf);
        while let Some(&(level, left)) = self.stack.last() {
            if level != cur.0 {
                break;
            }
            self.stack.pop();
            cur = (level + 1, node_hash(&left, &cur.1));
        }
        self.stack.push(cur);
        self.len += 1;
    }

    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Root of the leaves pushed so far: RFC 9162 folds the right edge from the smallest.
    pub fn root(&self) -> Hash {
        let mut it = self.stack.iter().rev();
        match it.next() {
            None => empty_root(),
            Some((_, acc)) => it.fold(*acc, |acc, (_, left)| node_hash(left, &acc)),
        }
    }
}

/// Number of hashes in the inclusion proof of `index` in a tree of `size` (index < size).
fn inclusion_len(mut index: u64, mut size: u64) -> usize {
    let mut len = 0;
    while size > 1 {
        let k = split(size);
        if index < k {
            size = k;
        } else {
            index -= k;
            size -= k;
        }
        len += 1;
    }
    len
}

/// Number of hashes in the consistency proof from `m` to `n` (0 < m < n).
fn consistency_len(mut m: u64, mut n: u64) -> usize {
    let mut len = 0;
    let mut complete = true;
    while m != n {
        let k = split(n);
        if m <= k {
            n = k;
        } else {
            m -= k;
            n -= k;
            complete = false;
        }
        len += 1;
    }
    len + usize::from(!complete)
}

fn as_hash(b: &[u8]) -> Result<&Hash, MerkleError> {
    b.try_into().map_err(|_| MerkleError::HashLength(b.len()))
}

/// RFC 9162 §2.1.3.2. Proof hashes must be 32 bytes and exactly as many as the RFC's
/// generation algorithm gives; a root of another length simply does not match.
pub fn verify_inclusion<P: AsRef<[u8]>>(
    index: u64,
    size: u64,
    leaf: &[u8],
    proof: &[P],
    root: &[u8],
) -> Result<(), MerkleError> {
    if index >= size {
        return Err(MerkleError::IndexOutOfRange { index, size });
    }
    let leaf = as_hash(leaf)?;
    let want = inclusion_len(index, size);
    if proof.len() != want {
        return Err(MerkleError::ProofLength {
            got: proof.len(),
            want,
        });
    }
    let (mut fnode, mut snode) = (index, size - 1);
    let mut r = *leaf;
    for p in proof {
        let p = as_hash(p.as_ref())?;
        if snode == 0 {
            return Err(MerkleError::RootMismatch);
        }
        if fnode & 1 == 1 || fnode == snode {
            r = node_hash(p, &r);
            if fnode & 1 == 0 {
                while fnode & 1 == 0 && fnode != 0 {
                    fnode >>= 1;
                    snode >>= 1;
                }
            }
        } else {
            r = node_hash(&r, p);
        }
        fnode >>= 1;
        snode >>= 1;
    }
    if snode == 0 && r.as_slice() == root {
        Ok(())
    } else {
        Err(MerkleError::RootMismatch)
    }
}

/// RFC 9162 §2.1.4.2, for 0 < size1 ≤ size2. Equal sizes need an empty proof and
/// identical roots; a proof from the empty tree is refused as meaningless (as the
/// transparency-dev vectors require).
pub fn verify_consistency<P: AsRef<[u8]>>(
    size1: u64,
    size2: u64,
    proof: &[P],
    root1: &[u8],
    root2: &[u8],
) -> Result<(), MerkleError> {
    if size2 < size1 {
        return Err(MerkleError::SizesReversed { size1, size2 });
    }
    if size1 == 0 {
        return Err(MerkleError::EmptyOldTree);
    }
    if size1 == size2 {
        if !proof.is_empty() {
            return Err(MerkleError::ProofLength {
                got: proof.len(),
                want: 0,
            });
        }
        return if root1 == root2 {
            Ok(())
        } else {
            Err(MerkleError::RootsDiffer)
        };
    }
    let want = consistency_len(size1, size2);
    if proof.len() != want {
        return Err(MerkleError::ProofLength {
            got: proof.len(),
            want,
        });
    }
    let first_root = as_hash(root1)?;
    let mut path: Vec<&Hash> = Vec::with_capacity(proof.len() + 1);
    if size1.is_power_of_two() {
        path.push(first_root);
    }
    for p in proof {
        path.push(as_hash(p.as_ref())?);
    }
    let (mut fnode, mut snode) = (size1 - 1, size2 - 1);
    while fnode & 1 == 1 {
        fnode >>= 1;
        snode >>= 1;
    }
    let (mut fr, mut sr) = (*path[0], *path[0]);
    for c in &path[1..] {
        if snode == 0 {
            return Err(MerkleError::RootMismatch);
        }
        if fnode & 1 == 1 || fnode == snode {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            if fnode & 1 == 0 {
                while fnode & 1 == 0 && fnode != 0 {
                    fnode >>= 1;
                    snode >>= 1;
                }
            }
        } else {
            sr = node_hash(&sr, c);
        }
        fnode >>= 1;
        snode >>= 1;
    }
    if snode == 0 && fr.as_slice() == root1 && sr.as_slice() == root2 {
        Ok(())
    } else {
        Err(MerkleError::RootMismatch)
    }
}

/// An append-only Merkle tree over leaf hashes.
#[derive(Debug, Clone, Default)]
pub struct Tree {
    /// `levels[l][i]` = hash of leaves `i·2^l .. (i+1)·2^l`, for complete subtrees only.
    levels: Vec<Vec<Hash>>,
}

impl Tree {
    pub fn new() -> Tree {
        Tree::default()
    }

    pub fn from_leaf_hashes(leaves: impl IntoIterator<Item = Hash>) -> Tree {
        let mut t = Tree::new();
        for h in leaves {
            t.push_leaf_hash(h);
        }
        t
    }

    /// Appends an entry; returns its index.
    pub fn push_entry(&mut self, entry: &[u8]) -> u64 {
        self.push_leaf_hash(leaf_hash(entry))
    }

    /// Appends a leaf hash; returns its index.
    pub fn push_leaf_hash(&mut self, h: Hash) -> u64 {
        if self.levels.is_empty() {
            self.levels.push(Vec::new());
        }
        self.levels[0].push(h);
        let index = self.levels[0].len() as u64 - 1;
        let (mut level, mut i) = (0, self.levels[0].len() - 1);
        // Each time a right child completes, its parent completes too.
        while i % 2 == 1 {
            let parent = node_hash(&self.levels[level][i - 1], &self.levels[level][i]);
            if self.levels.len() == level + 1 {
                self.levels.push(Vec::new());
            }
            self.levels[level + 1].push(parent);
            level += 1;
            i /= 2;
        }
        index
    }

    pub fn len(&self) -> u64 {
        self.levels.first().map_or(0, |l| l.len() as u64)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn leaf(&self, index: u64) -> Option<Hash> {
        self.levels
            .first()?
            .get(usize::try_from(index).ok()?)
            .copied()
    }

    /// Root of the current tree.
    pub fn root(&self) -> Hash {
        self.subtree(0, self.len())
    }

    /// Root of the tree made of the first `size` leaves.
    pub fn root_at(&self, size: u64) -> Result<Hash, MerkleError> {
        self.check_size(size)?;
        Ok(self.subtree(0, size))
    }

    /// RFC 9162 §2.1.3.1 `PATH(index, D[size])`, leaf side first.
    pub fn inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<Hash>, MerkleError> {
        self.check_size(size)?;
        if index >= size {
            return Err(MerkleError::IndexOutOfRange { index, size });
        }
        let mut proof = Vec::with_capacity(64);
        let (mut start, mut end, mut m) = (0, size, index);
        // Walk down from the root; the RFC lists the siblings bottom-up.
        while end - start > 1 {
            let k = split(end - start);
            if m < k {
                proof.push(self.subtree(start + k, end));
                end = start + k;
            } else {
                proof.push(self.subtree(start, start + k));
                start += k;
                m -= k;
            }
        }
        proof.reverse();
        Ok(proof)
    }

    /// RFC 9162 §2.1.4.1 `PROOF(size1, D[size2])` for 0 < size1 ≤ size2.
    pub fn consistency_proof(&self, size1: u64, size2: u64) -> Result<Vec<Hash>, MerkleError> {
        self.check_size(size2)?;
        if size1 > size2 {
            return Err(MerkleError::SizesReversed { size1, size2 });
        }
        if size1 == 0 {
            return Err(MerkleError::EmptyOldTree);
        }
        let mut proof = Vec::with_capacity(64);
        let (mut start, mut end, mut m, mut complete) = (0, size2, size1, true);
        while m != end - start {
            let k = split(end - start);
            if m <= k {
                proof.push(self.subtree(start + k, end));
                end = start + k;
            } else {
                proof.push(self.subtree(start, start + k));
                start += k;
                m -= k;
                complete = false;
            }
        }
        if !complete {
            proof.push(self.subtree(start, end));
        }
        proof.reverse();
        Ok(proof)
    }

    fn check_size(&self, size: u64) -> Result<(), MerkleError> {
        if size > self.len() {
            return Err(MerkleError::SizeTooLarge {
                size,
                have: self.len(),
            });
        }
        Ok(())
    }

    /// `MTH(D[start..end])` for ranges that occur in the RFC's recursion (start is a
    /// multiple of the largest power of two not above the range length).
    fn subtree(&self, start: u64, end: u64) -> Hash {
        let n = end - start;
        if n == 0 {
            return empty_root();
        }
        if n.is_power_of_two() && start.is_multiple_of(n) {
            let level = n.trailing_zeros() as usize;
            return self.levels[level][(start >> level) as usize];
        }
        let k = split(n);
        node_hash(
            &self.subtree(start, start + k),
            &self.subtree(start + k, end),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// MTH straight from RFC 9162 §2.1.1.
    fn mth(leaves: &[Hash]) -> Hash {
        match leaves.len() {
            0 => empty_root(),
            1 => leaves[0],
            n => {
                let k = split(n as u64) as usize;
                node_hash(&mth(&leaves[..k]), &mth(&leaves[k..]))
            }
        }
    }

    #[test]
    fn roots_match_the_definition() {
        let leaves: Vec<Hash> = (0u32..100).map(|i| leaf_hash(&i.to_be_bytes())).collect();
        let t = Tree::from_leaf_hashes(leaves.iter().copied());
        for n in 0..=100 {
            let want = mth(&leaves[..n]);
            assert_eq!(t.root_at(n as u64).unwrap(), want, "size {n}");
            assert_eq!(root_of(leaves[..n].iter().copied()), want, "size {n}");
        }
        // One frontier, read after every push.
        let mut f = Frontier::default();
        for (n, leaf) in leaves.iter().enumerate() {
            assert_eq!((f.len(), f.root()), (n as u64, mth(&leaves[..n])));
            f.push(*leaf);
        }
        assert_eq!(f.root(), mth(&leaves));
        assert!(t.root_at(101).is_err());
    }

    #[test]
    fn proof_lengths_match_generation() {
        let t = Tree::from_leaf_hashes((0u32..40).map(|i| leaf_hash(&i.to_be_bytes())));
        for n in 1..=40 {
            for i in 0..n {
                assert_eq!(t.inclusion_proof(i, n).unwrap().len(), inclusion_len(i, n));
            }
            for m in 1..n {
                let p = t.consistency_proof(m, n).unwrap();
                assert_eq!(p.len(), consistency_len(m, n), "{m} {n}");
            }
        }
    }
}
