//! Roots and proofs against two independent RFC 6962 implementations: `tlog_tiles` (a port of
//! Go's `golang.org/x/mod/sumdb/tlog`) and `ct-merkle`. Proofs must agree byte for byte, and
//! each side must accept the other's.

use crate::common::{Rng, entries, leaves, tree_of};
use art28_ledger::{Hash, MemoryTree, consistency_proof, inclusion_proof, verify_consistency, verify_inclusion};
use ct_merkle::mem_backed_tree::MemoryBackedTree;
use ct_merkle::{ConsistencyProof, InclusionProof, RootHash};
use ct_merkle_sha2::Sha256 as CtSha256;
use tlog_tiles::tlog;

/// Go-tlog storage: the hashes `stored_hashes` returns, in stored-hash-index order.
struct TlogStore(Vec<tlog::Hash>);

impl tlog::HashReader for TlogStore {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<tlog::Hash>, tlog::Error> {
        Ok(indexes.iter().map(|&i| self.0[i as usize]).collect())
    }
}

fn tlog_store(entries: &[Vec<u8>]) -> TlogStore {
    let mut store = TlogStore(Vec::new());
    for (n, e) in entries.iter().enumerate() {
        let new = tlog::stored_hashes(n as u64, e, &store).unwrap();
        store.0.extend(new);
    }
    store
}

fn to_tlog(h: &Hash) -> tlog::Hash {
    tlog::Hash(*h)
}

fn from_tlog(p: &[tlog::Hash]) -> Vec<Hash> {
    p.iter().map(|h| h.0).collect()
}

/// Checks every size, every leaf and every (old, new) pair of a tree against Go's tlog.
fn check_all_pairs_against_tlog(entries: &[Vec<u8>]) {
    let tree = tree_of(entries);
    let store = tlog_store(entries);
    let hashes = leaves(entries);
    let n = entries.len() as u64;
    for size in 1..=n {
        let root = tree.root_at(size).unwrap();
        assert_eq!(tlog::tree_hash(size, &store).unwrap().0, root, "root {size}");
        for index in 0..size {
            let ours = inclusion_proof(index, size, &tree).unwrap();
            let theirs = from_tlog(&tlog::prove_record(size, index, &store).unwrap());
            assert_eq!(ours, theirs, "inclusion {index} in {size}");
            verify_inclusion(&hashes[index as usize], index, size, &theirs, &root).unwrap();
            let ours_t: Vec<_> = ours.iter().map(to_tlog).collect();
            tlog::check_record(&ours_t, size, to_tlog(&root), index, to_tlog(&hashes[index as usize])).unwrap();
        }
        for old in 1..=size {
            let old_root = tree.root_at(old).unwrap();
            let ours = consistency_proof(old, size, &tree).unwrap();
            let theirs = from_tlog(&tlog::prove_tree(size, old, &store).unwrap());
            assert_eq!(ours, theirs, "consistency {old} -> {size}");
            verify_consistency(old, size, &old_root, &root, &theirs).unwrap();
            let ours_t: Vec<_> = ours.iter().map(to_tlog).collect();
            tlog::check_tree(&ours_t, size, to_tlog(&root), old, to_tlog(&old_root)).unwrap();
        }
    }
}

#[test]
fn tlog_agrees_on_every_size_leaf_and_pair_up_to_300() {
    check_all_pairs_against_tlog(&entries(1, 300));
}

#[test]
fn tlog_agrees_on_a_second_random_tree() {
    check_all_pairs_against_tlog(&entries(2, 130));
}

#[test]
fn tlog_agrees_on_larger_trees_sampled() {
    let all = entries(3, 70_000);
    let tree = tree_of(&all);
    let store = tlog_store(&all);
    let mut rng = Rng::new(4);
    let mut sizes = vec![1023u64, 1024, 1025, 4096, 65_535, 65_536, 65_537, 70_000];
    sizes.extend((0..12).map(|_| rng.range(300, 70_001)));
    for size in sizes {
        let root = tree.root_at(size).unwrap();
        assert_eq!(tlog::tree_hash(size, &store).unwrap().0, root, "root {size}");
        let mut indices: Vec<u64> = (0..30).map(|_| rng.range(0, size)).collect();
        indices.extend([0, size - 1, size / 2]);
        for index in indices {
            let ours = inclusion_proof(index, size, &tree).unwrap();
            let theirs = from_tlog(&tlog::prove_record(size, index, &store).unwrap());
            assert_eq!(ours, theirs, "inclusion {index} in {size}");
        }
        let mut olds: Vec<u64> = (0..30).map(|_| rng.range(1, size + 1)).collect();
        olds.extend([1, size - 1, size, size.next_power_of_two() / 2]);
        for old in olds {
            let ours = consistency_proof(old, size, &tree).unwrap();
            let theirs = from_tlog(&tlog::prove_tree(size, old, &store).unwrap());
            assert_eq!(ours, theirs, "consistency {old} -> {size}");
            verify_consistency(old, size, &tree.root_at(old).unwrap(), &root, &ours).unwrap();
        }
    }
}

type CtTree = MemoryBackedTree<CtSha256, Vec<u8>>;

fn ct_root(h: &Hash, size: u64) -> RootHash<CtSha256> {
    RootHash::new((*h).into(), size)
}

/// ct-merkle proves against its current size only, so grow it leaf by leaf and check every
/// size as it passes.
#[test]
fn ct_merkle_agrees_on_every_size_leaf_and_pair_up_to_200() {
    let all = entries(5, 200);
    let mut ct = CtTree::new();
    let mut ours = MemoryTree::new();
    for (i, e) in all.iter().enumerate() {
        ct.push(e.clone());
        ours.push(art28_ledger::leaf_hash(e));
        let size = i as u64 + 1;
        let root = ours.root();
        assert_eq!(ct.root().as_bytes().as_slice(), root.as_slice(), "root {size}");
        let ct_root = ct_root(&root, size);
        for index in 0..size {
            let proof = inclusion_proof(index, size, &ours).unwrap();
            let theirs = ct.prove_inclusion(index as usize);
            assert_eq!(theirs.as_bytes(), proof.concat(), "inclusion {index} in {size}");
            ct_root
                .verify_inclusion(&all[index as usize], index, &InclusionProof::from_bytes(proof.concat()))
                .unwrap();
        }
        for old in 1..size {
            let proof = consistency_proof(old, size, &ours).unwrap();
            let theirs = ct.prove_consistency((size - old) as usize);
            assert_eq!(theirs.as_bytes(), proof.concat(), "consistency {old} -> {size}");
            let old_root = ct_root_for(&ours, old);
            ct_root
                .verify_consistency(&old_root, &ConsistencyProof::try_from_bytes(proof.concat()).unwrap())
                .unwrap();
        }
    }
}

fn ct_root_for(tree: &MemoryTree, size: u64) -> RootHash<CtSha256> {
    ct_root(&tree.root_at(size).unwrap(), size)
}

/// The oracle catches a wrong proof: a sanity check that these comparisons can fail.
#[test]
fn oracles_reject_a_changed_proof() {
    let all = entries(6, 57);
    let tree = tree_of(&all);
    let store = tlog_store(&all);
    let mut proof = inclusion_proof(20, 57, &tree).unwrap();
    proof[2][0] ^= 1;
    let t: Vec<_> = proof.iter().map(to_tlog).collect();
    let root = tree.root_at(57).unwrap();
    assert!(tlog::check_record(&t, 57, to_tlog(&root), 20, to_tlog(&leaves(&all)[20])).is_err());
    assert!(
        ct_root(&root, 57)
            .verify_inclusion(&all[20], 20, &InclusionProof::from_bytes(proof.concat()))
            .is_err()
    );
    let mut c = consistency_proof(13, 57, &tree).unwrap();
    c[0][31] ^= 0x80;
    let t: Vec<_> = c.iter().map(to_tlog).collect();
    assert!(tlog::check_tree(&t, 57, to_tlog(&root), 13, to_tlog(&tree.root_at(13).unwrap())).is_err());
    let _ = store;
}
