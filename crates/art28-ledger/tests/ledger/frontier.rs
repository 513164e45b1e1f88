//! The frontier: appends without reading the tree, and what it hands back is enough to store.

use crate::common::{Rng, entries, leaves};
use art28_ledger::{Frontier, Hash, MemoryTree, NodeReader, consistency_proof, empty_root, inclusion_proof};
use std::collections::HashMap;

/// A store built only from what `Frontier::append` returns.
#[derive(Default)]
struct AppendedNodes(HashMap<(u32, u64), Hash>);

impl NodeReader for AppendedNodes {
    type Error = (u32, u64);

    fn node(&self, level: u32, index: u64) -> Result<Hash, (u32, u64)> {
        self.0.get(&(level, index)).copied().ok_or((level, index))
    }
}

#[test]
fn frontier_matches_memory_tree_at_every_size_and_restores() {
    let hashes = leaves(&entries(30, 700));
    let mut frontier = Frontier::new();
    let mut tree = MemoryTree::new();
    let mut stored = AppendedNodes::default();
    assert_eq!(frontier.root(), empty_root());
    assert_eq!(Frontier::restore(0, &tree).unwrap(), frontier);
    for (i, leaf) in hashes.iter().enumerate() {
        let completed = frontier.append(*leaf);
        tree.push(*leaf);
        let size = i as u64 + 1;
        assert_eq!(completed[0], (0, i as u64, *leaf));
        // One node per trailing one-bit of the old size, plus the leaf.
        assert_eq!(completed.len() as u32, (i as u64).trailing_ones() + 1);
        for (level, index, hash) in &completed {
            assert_eq!(tree.node(*level, *index).unwrap(), *hash, "node ({level}, {index})");
            stored.0.insert((*level, *index), *hash);
        }
        assert_eq!(frontier.size(), size);
        assert_eq!(frontier.root(), tree.root(), "size {size}");
        assert_eq!(Frontier::restore(size, &tree).unwrap(), frontier, "size {size}");
        assert_eq!(Frontier::restore(size, &stored).unwrap(), frontier, "size {size}");
    }
    // Every node ever completed was handed back: proofs from the stored nodes alone match.
    assert_eq!(stored.0.len(), 2 * 700 - 700usize.count_ones() as usize);
    let mut rng = Rng::new(31);
    for _ in 0..200 {
        let size = rng.range(1, 701);
        let index = rng.range(0, size);
        let old = rng.range(1, size + 1);
        assert_eq!(
            inclusion_proof(index, size, &stored).unwrap(),
            inclusion_proof(index, size, &tree).unwrap()
        );
        assert_eq!(
            consistency_proof(old, size, &stored).unwrap(),
            consistency_proof(old, size, &tree).unwrap()
        );
    }
}

#[test]
fn restored_frontier_keeps_growing_like_the_original() {
    let hashes = leaves(&entries(32, 300));
    let mut tree = MemoryTree::new();
    for h in &hashes[..137] {
        tree.push(*h);
    }
    let mut restored = Frontier::restore(137, &tree).unwrap();
    for h in &hashes[137..] {
        restored.append(*h);
        tree.push(*h);
        assert_eq!(restored.root(), tree.root());
    }
}

#[test]
fn restore_reports_a_missing_node() {
    let stored = AppendedNodes::default();
    assert_eq!(Frontier::restore(5, &stored), Err((2, 0)));
}
