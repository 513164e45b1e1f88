//! The Merkle tree of RFC 6962 / RFC 9162 §2.1, computed from perfect subtrees.
//!
//! A tree of any size is a row of *perfect* subtrees (one per set bit of the size, largest
//! first). A perfect subtree never changes once complete, so it is the unit we store and read:
//! node `(level, index)` is the hash of the perfect subtree of height `level` over the leaves
//! `[index << level, (index + 1) << level)`; level 0 holds the leaf hashes. Every root and proof
//! below is assembled from `O(log n)` such nodes, so a store only has to answer "give me node
//! (level, index)" and never has to walk the leaves.
//!
//! Proof generation follows the recursive definitions of RFC 9162 §2.1.3.1 (`PATH`) and
//! §2.1.4.1 (`SUBPROOF`); verification follows the iterative algorithms of §2.1.3.2 and
//! §2.1.4.2 step by step, so any RFC 6962 log client agrees with us.

use std::fmt;
use std::ops::Range;

use sha2::{Digest, Sha256};

/// A SHA-256 hash: a leaf hash, an interior node or a tree root.
pub type Hash = [u8; 32];

/// `SHA-256(0x00 ‖ entry)`: the hash of one log entry (RFC 9162 §2.1.1).
pub fn leaf_hash(entry: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0x00]);
    h.update(entry);
    h.finalize().into()
}

/// `SHA-256(0x01 ‖ left ‖ right)`: the hash of an interior node (RFC 9162 §2.1.1).
///
/// The distinct prefixes keep a leaf from ever being passed off as a node and vice versa.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([0x01]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// `SHA-256("")`: the root of the empty tree.
pub fn empty_root() -> Hash {
    Sha256::digest([]).into()
}

/// Read access to stored perfect-subtree hashes.
///
/// The functions of this module only ask for nodes of perfect subtrees lying entirely inside
/// the tree size they were given, so a reader backed by a store that has folded in at least
/// that many leaves can always answer.
pub trait NodeReader {
    /// Why a node could not be read (a database error, a missing node, …).
    type Error;

    /// The hash of the perfect subtree of height `level` over leaves
    /// `[index << level, (index + 1) << level)`.
    fn node(&self, level: u32, index: u64) -> Result<Hash, Self::Error>;

    /// The nodes `range` of one level, in order. Override when a batch read is cheaper.
    fn nodes(&self, level: u32, range: Range<u64>) -> Result<Vec<Hash>, Self::Error> {
        range.map(|index| self.node(level, index)).collect()
    }
}

impl<R: NodeReader + ?Sized> NodeReader for &R {
    type Error = R::Error;

    fn node(&self, level: u32, index: u64) -> Result<Hash, Self::Error> {
        (**self).node(level, index)
    }

    fn nodes(&self, level: u32, range: Range<u64>) -> Result<Vec<Hash>, Self::Error> {
        (**self).nodes(level, range)
    }
}

/// Why a proof could not be produced.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError<E> {
    /// The leaf asked about is not in the tree.
    #[error("leaf index {index} is outside a tree of {size} entries")]
    IndexOutOfRange {
        /// The requested leaf.
        index: u64,
        /// The tree size the proof was asked for.
        size: u64,
    },
    /// A consistency proof was asked from a larger tree to a smaller one.
    #[error("cannot prove consistency from size {old_size} to the smaller size {new_size}")]
    OldLargerThanNew {
        /// The older tree size.
        old_size: u64,
        /// The newer tree size.
        new_size: u64,
    },
    /// The node reader failed.
    #[error("reading a tree node failed: {0}")]
    Reader(E),
}

/// The largest power of two strictly less than `n` (`n >= 2`), the split point `k` of RFC 9162.
fn split_point(n: u64) -> u64 {
    debug_assert!(n >= 2);
    1u64 << (63 - (n - 1).leading_zeros())
}

/// MTH of leaves `[start, start + len)`, where `start` is a multiple of the smallest power of
/// two `>= len` (the shape of every subtree in RFC 9162's recursion). Decomposes into perfect
/// subtrees, largest first, and folds them right to left: `O(log len)` node reads.
fn range_root<R: NodeReader>(start: u64, len: u64, r: &R) -> Result<Hash, R::Error> {
    if len == 0 {
        return Ok(empty_root());
    }
    let mut parts = Vec::with_capacity(len.count_ones() as usize);
    let mut at = start;
    for level in (0..64u32).rev() {
        if len & (1u64 << level) != 0 {
            parts.push(r.node(level, at >> level)?);
            at += 1u64 << level;
        }
    }
    Ok(fold_right(&parts))
}

/// Folds perfect-subtree hashes (left to right, largest first) into the root they make.
fn fold_right(parts: &[Hash]) -> Hash {
    let mut iter = parts.iter().rev();
    let Some(last) = iter.next() else {
        return empty_root();
    };
    iter.fold(*last, |acc, left| node_hash(left, &acc))
}

/// The Merkle Tree Hash of the first `size` leaves (RFC 9162 §2.1.1).
pub fn root<R: NodeReader>(size: u64, r: &R) -> Result<Hash, R::Error> {
    range_root(0, size, r)
}

/// The hash of the subtree `[lo, hi)` that RFC 9162's recursion names, read from perfect
/// subtrees. A range is perfect exactly when its length is a power of two.
fn subtree<R: NodeReader>(lo: u64, hi: u64, r: &R) -> Result<Hash, R::Error> {
    range_root(lo, hi - lo, r)
}

/// The audit path for leaf `index` in the tree of the first `size` leaves
/// (RFC 9162 §2.1.3.1 `PATH`), ordered from the leaf's sibling up to the root's child.
pub fn inclusion_proof<R: NodeReader>(index: u64, size: u64, r: &R) -> Result<Vec<Hash>, ProofError<R::Error>> {
    if index >= size {
        return Err(ProofError::IndexOutOfRange { index, size });
    }
    // Walk from the root down; each step contributes the sibling subtree. PATH appends the
    // sibling after the deeper path, so the proof is the reverse of the walk.
    let mut top_down = Vec::new();
    let (mut lo, mut hi) = (0u64, size);
    while hi - lo > 1 {
        let k = split_point(hi - lo);
        if index < lo + k {
            top_down.push(subtree(lo + k, hi, r).map_err(ProofError::Reader)?);
            hi = lo + k;
        } else {
            top_down.push(subtree(lo, lo + k, r).map_err(ProofError::Reader)?);
            lo += k;
        }
    }
    top_down.reverse();
    Ok(top_down)
}

/// The consistency proof from the tree of the first `old_size` leaves to the tree of the first
/// `new_size` leaves (RFC 9162 §2.1.4.1 `PROOF`).
///
/// Equal sizes give the empty proof (RFC 9162), and so does `old_size == 0`: every tree extends
/// the empty one (RFC 9162 leaves this case undefined; `verify_consistency` accepts it).
pub fn consistency_proof<R: NodeReader>(
    old_size: u64,
    new_size: u64,
    r: &R,
) -> Result<Vec<Hash>, ProofError<R::Error>> {
    if old_size > new_size {
        return Err(ProofError::OldLargerThanNew { old_size, new_size });
    }
    if old_size == 0 || old_size == new_size {
        return Ok(Vec::new());
    }
    // SUBPROOF(m, D[lo:hi], b), unrolled. Each step appends its hash after the deeper
    // subproof, so collect top-down and reverse at the end.
    let mut top_down = Vec::new();
    let (mut lo, mut hi, mut m, mut whole) = (0u64, new_size, old_size, true);
    loop {
        let n = hi - lo;
        if m == n {
            if !whole {
                top_down.push(subtree(lo, hi, r).map_err(ProofError::Reader)?);
            }
            break;
        }
        let k = split_point(n);
        if m <= k {
            top_down.push(subtree(lo + k, hi, r).map_err(ProofError::Reader)?);
            hi = lo + k;
        } else {
            top_down.push(subtree(lo, lo + k, r).map_err(ProofError::Reader)?);
            lo += k;
            m -= k;
            whole = false;
        }
    }
    top_down.reverse();
    Ok(top_down)
}

/// Why a proof did not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// The leaf index is not inside the tree.
    #[error("leaf index {index} is outside a tree of {size} entries")]
    IndexOutOfRange {
        /// The leaf index given.
        index: u64,
        /// The tree size given.
        size: u64,
    },
    /// The old tree is larger than the new one.
    #[error("the old tree ({old_size} entries) is larger than the new tree ({new_size} entries)")]
    OldLargerThanNew {
        /// The old size given.
        old_size: u64,
        /// The new size given.
        new_size: u64,
    },
    /// The proof holds more hashes than the tree shape needs.
    #[error("the proof has more hashes than a tree of this size needs")]
    ProofTooLong,
    /// The proof holds fewer hashes than the tree shape needs.
    #[error("the proof has fewer hashes than a tree of this size needs")]
    ProofTooShort,
    /// The proof leads to a different root than the one given.
    #[error("the proof does not lead to the given root")]
    RootMismatch,
    /// A consistency proof does not reproduce the old root.
    #[error("the proof does not reproduce the old root")]
    OldRootMismatch,
    /// A consistency proof does not reproduce the new root.
    #[error("the proof does not reproduce the new root")]
    NewRootMismatch,
}

/// Verifies that `leaf` (a leaf hash) is entry `index` of the tree of `size` entries whose root
/// is `root`, exactly as RFC 9162 §2.1.3.2.
pub fn verify_inclusion(leaf: &Hash, index: u64, size: u64, proof: &[Hash], root: &Hash) -> Result<(), VerifyError> {
    // 1.
    if index >= size {
        return Err(VerifyError::IndexOutOfRange { index, size });
    }
    // 2., 3.
    let (mut fnode, mut snode) = (index, size - 1);
    let mut r = *leaf;
    // 4.
    for p in proof {
        if snode == 0 {
            return Err(VerifyError::ProofTooLong);
        }
        if fnode & 1 == 1 || fnode == snode {
            r = node_hash(p, &r);
            while fnode & 1 == 0 && fnode != 0 {
                fnode >>= 1;
                snode >>= 1;
            }
        } else {
            r = node_hash(&r, p);
        }
        fnode >>= 1;
        snode >>= 1;
    }
    // 5.
    if snode != 0 {
        return Err(VerifyError::ProofTooShort);
    }
    if &r != root {
        return Err(VerifyError::RootMismatch);
    }
    Ok(())
}

/// Verifies that the tree of `new_size` entries with root `new_root` extends the tree of
/// `old_size` entries with root `old_root`, exactly as RFC 9162 §2.1.4.2.
///
/// RFC 9162 covers `0 < old_size < new_size`. The edges: equal sizes need an empty proof and
/// equal roots; `old_size == 0` needs an empty proof and the empty-tree root.
pub fn verify_consistency(
    old_size: u64,
    new_size: u64,
    old_root: &Hash,
    new_root: &Hash,
    proof: &[Hash],
) -> Result<(), VerifyError> {
    if old_size > new_size {
        return Err(VerifyError::OldLargerThanNew { old_size, new_size });
    }
    if old_size == new_size || old_size == 0 {
        if !proof.is_empty() {
            return Err(VerifyError::ProofTooLong);
        }
        if old_size == 0 && old_root != &empty_root() {
            return Err(VerifyError::OldRootMismatch);
        }
        if old_size == new_size && old_root != new_root {
            return Err(VerifyError::RootMismatch);
        }
        return Ok(());
    }
    // 1.
    let Some((first, rest)) = proof.split_first() else {
        return Err(VerifyError::ProofTooShort);
    };
    // 2. A perfect old tree is its own first proof element; RFC 9162 omits it from the proof.
    let (start, path): (&Hash, &[Hash]) = if old_size.is_power_of_two() {
        (old_root, proof)
    } else {
        (first, rest)
    };
    // 3.
    let (mut fnode, mut snode) = (old_size - 1, new_size - 1);
    // 4.
    while fnode & 1 == 1 {
        fnode >>= 1;
        snode >>= 1;
    }
    // 5.
    let (mut fr, mut sr) = (*start, *start);
    // 6.
    for c in path {
        if snode == 0 {
            return Err(VerifyError::ProofTooLong);
        }
        if fnode & 1 == 1 || fnode == snode {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            while fnode & 1 == 0 && fnode != 0 {
                fnode >>= 1;
                snode >>= 1;
            }
        } else {
            sr = node_hash(&sr, c);
        }
        fnode >>= 1;
        snode >>= 1;
    }
    // 7.
    if snode != 0 {
        return Err(VerifyError::ProofTooShort);
    }
    if &fr != old_root {
        return Err(VerifyError::OldRootMismatch);
    }
    if &sr != new_root {
        return Err(VerifyError::NewRootMismatch);
    }
    Ok(())
}

/// The right edge of a growing tree: one perfect-subtree hash per set bit of the size.
///
/// Enough to append leaves and compute the root without reading the tree; `append` hands back
/// every node it completes so the caller can store them for proofs.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Frontier {
    size: u64,
    /// `(level, hash)` of the perfect subtrees, largest (leftmost) first.
    edge: Vec<(u32, Hash)>,
}

impl fmt::Debug for Frontier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Frontier")
            .field("size", &self.size)
            .field("root", &hex::encode(self.root()))
            .finish()
    }
}

impl Frontier {
    /// The frontier of the empty tree.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many leaves have been appended.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The root of the tree so far.
    pub fn root(&self) -> Hash {
        let parts: Vec<Hash> = self.edge.iter().map(|(_, h)| *h).collect();
        fold_right(&parts)
    }

    /// Appends one leaf hash and returns every node `(level, index, hash)` this append
    /// completed, starting with the leaf itself at level 0.
    pub fn append(&mut self, leaf: Hash) -> Vec<(u32, u64, Hash)> {
        let mut completed = Vec::new();
        self.append_with(leaf, |level, index, hash| completed.push((level, index, hash)));
        completed
    }

    /// Appends one leaf hash and hands every node this append completed to `node`, as
    /// `(level, index, hash)`, starting with the leaf itself at level 0. Nothing is allocated:
    /// for folding many leaves where only some levels are kept.
    pub fn append_with(&mut self, leaf: Hash, mut node: impl FnMut(u32, u64, Hash)) {
        let position = self.size;
        node(0, position, leaf);
        let mut current = (0u32, leaf);
        while let Some(&(level, left)) = self.edge.last() {
            if level != current.0 {
                break;
            }
            self.edge.pop();
            let up = level + 1;
            let hash = node_hash(&left, &current.1);
            node(up, position >> up, hash);
            current = (up, hash);
        }
        self.edge.push(current);
        self.size += 1;
    }

    /// Rebuilds the frontier of a tree of `size` leaves from stored nodes: one node read per
    /// set bit of `size`.
    pub fn restore<R: NodeReader>(size: u64, r: &R) -> Result<Frontier, R::Error> {
        let mut edge = Vec::with_capacity(size.count_ones() as usize);
        let mut at = 0u64;
        for level in (0..64u32).rev() {
            if size & (1u64 << level) != 0 {
                edge.push((level, r.node(level, at >> level)?));
                at += 1u64 << level;
            }
        }
        Ok(Frontier { size, edge })
    }
}

/// A whole tree in memory, every level kept: for tests, benchmarks and offline verification.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct MemoryTree {
    /// `levels[l][i]` is node `(l, i)`.
    levels: Vec<Vec<Hash>>,
}

impl fmt::Debug for MemoryTree {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryTree")
            .field("size", &self.size())
            .finish_non_exhaustive()
    }
}

/// A node asked of a [`MemoryTree`] that it does not hold (the tree is smaller than asked).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("node (level {level}, index {index}) is not in the tree")]
pub struct MissingNode {
    /// The requested level.
    pub level: u32,
    /// The requested index.
    pub index: u64,
}

impl MemoryTree {
    /// The empty tree.
    pub fn new() -> Self {
        Self::default()
    }

    /// A tree of the given entries, hashed as leaves.
    pub fn from_entries<I, E>(entries: I) -> Self
    where
        I: IntoIterator<Item = E>,
        E: AsRef<[u8]>,
    {
        let mut tree = Self::new();
        for e in entries {
            tree.push(leaf_hash(e.as_ref()));
        }
        tree
    }

    /// Appends a leaf hash.
    pub fn push(&mut self, leaf: Hash) {
        let mut level = 0usize;
        let mut hash = leaf;
        loop {
            if self.levels.len() == level {
                self.levels.push(Vec::new());
            }
            let row = &mut self.levels[level];
            row.push(hash);
            if row.len() % 2 == 1 {
                break;
            }
            hash = node_hash(&row[row.len() - 2], &row[row.len() - 1]);
            level += 1;
        }
    }

    /// How many leaves the tree holds.
    pub fn size(&self) -> u64 {
        self.levels.first().map_or(0, |l| l.len() as u64)
    }

    /// The root of the first `size` leaves.
    pub fn root_at(&self, size: u64) -> Result<Hash, MissingNode> {
        root(size, self)
    }

    /// The root of the whole tree.
    pub fn root(&self) -> Hash {
        // Every node of the whole tree is present, so the read cannot miss.
        root(self.size(), self).unwrap_or_else(|_| empty_root())
    }
}

impl NodeReader for MemoryTree {
    /// A `MemoryTree` fails only when asked for a size beyond what it holds; `Infallible`
    /// would force it to invent a hash or panic in that case.
    type Error = MissingNode;

    fn node(&self, level: u32, index: u64) -> Result<Hash, MissingNode> {
        usize::try_from(index)
            .ok()
            .and_then(|i| self.levels.get(level as usize)?.get(i))
            .copied()
            .ok_or(MissingNode { level, index })
    }

    fn nodes(&self, level: u32, range: Range<u64>) -> Result<Vec<Hash>, MissingNode> {
        let missing = MissingNode {
            level,
            index: range.end.saturating_sub(1),
        };
        let start = usize::try_from(range.start).map_err(|_| missing)?;
        let end = usize::try_from(range.end).map_err(|_| missing)?;
        self.levels
            .get(level as usize)
            .and_then(|row| row.get(start..end))
            .map(<[Hash]>::to_vec)
            .ok_or(missing)
    }
}
