//! Deterministic test data.

use art28_ledger::{Hash, MemoryTree, NodeReader, leaf_hash};
use std::cell::Cell;

/// SplitMix64: a tiny deterministic generator for test data (not for keys).
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `lo..hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next_u64() % (hi - lo)
    }

    pub fn bytes(&mut self, max_len: u64) -> Vec<u8> {
        let len = self.range(0, max_len + 1);
        (0..len).map(|_| self.next_u64() as u8).collect()
    }
}

/// `n` random entries of 0..=64 bytes from `seed`.
pub fn entries(seed: u64, n: usize) -> Vec<Vec<u8>> {
    let mut rng = Rng::new(seed);
    (0..n).map(|_| rng.bytes(64)).collect()
}

pub fn tree_of(entries: &[Vec<u8>]) -> MemoryTree {
    MemoryTree::from_entries(entries)
}

pub fn leaves(entries: &[Vec<u8>]) -> Vec<Hash> {
    entries.iter().map(|e| leaf_hash(e)).collect()
}

/// A reader over a virtual tree of any size that counts its reads: node hashes are made up,
/// which is enough to count how many nodes a computation touches.
pub struct CountingReader {
    pub reads: Cell<u64>,
}

impl NodeReader for CountingReader {
    type Error = std::convert::Infallible;

    fn node(&self, level: u32, index: u64) -> Result<Hash, Self::Error> {
        self.reads.set(self.reads.get() + 1);
        let mut h = [0u8; 32];
        h[..4].copy_from_slice(&level.to_be_bytes());
        h[4..12].copy_from_slice(&index.to_be_bytes());
        Ok(h)
    }
}

pub fn unhex(s: &str) -> Hash {
    let mut h = [0u8; 32];
    hex::decode_to_slice(s, &mut h).unwrap();
    h
}
