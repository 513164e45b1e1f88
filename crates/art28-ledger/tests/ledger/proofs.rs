//! Argument checking, verification failures and the cost of proofs.

use crate::common::{CountingReader, entries, leaves, tree_of};
use art28_ledger::{
    MissingNode, ProofError, VerifyError, consistency_proof, empty_root, inclusion_proof, node_hash, root,
    verify_consistency, verify_inclusion,
};
use std::cell::Cell;

#[test]
fn bad_arguments_are_refused() {
    let tree = tree_of(&entries(20, 10));
    assert_eq!(
        inclusion_proof(10, 10, &tree),
        Err(ProofError::IndexOutOfRange { index: 10, size: 10 })
    );
    assert_eq!(
        inclusion_proof(0, 0, &tree),
        Err(ProofError::IndexOutOfRange { index: 0, size: 0 })
    );
    assert_eq!(
        consistency_proof(6, 5, &tree),
        Err(ProofError::OldLargerThanNew {
            old_size: 6,
            new_size: 5
        })
    );
    assert_eq!(consistency_proof(0, 7, &tree), Ok(vec![]));
    assert_eq!(consistency_proof(7, 7, &tree), Ok(vec![]));
    // Asking beyond what the reader holds is the reader's error, not a made-up hash.
    assert!(matches!(
        inclusion_proof(3, 11, &tree),
        Err(ProofError::Reader(MissingNode { .. }))
    ));
    assert!(tree.root_at(11).is_err());
    assert_eq!(tree.root_at(0), Ok(empty_root()));
}

#[test]
fn inclusion_verification_names_the_fault() {
    let all = entries(21, 100);
    let tree = tree_of(&all);
    let hashes = leaves(&all);
    let root = tree.root();
    let proof = inclusion_proof(37, 100, &tree).unwrap();
    verify_inclusion(&hashes[37], 37, 100, &proof, &root).unwrap();

    assert_eq!(
        verify_inclusion(&hashes[37], 100, 100, &proof, &root),
        Err(VerifyError::IndexOutOfRange { index: 100, size: 100 })
    );
    assert_eq!(
        verify_inclusion(&hashes[37], 37, 100, &proof[..proof.len() - 1], &root),
        Err(VerifyError::ProofTooShort)
    );
    let mut long = proof.clone();
    long.push([0; 32]);
    assert_eq!(
        verify_inclusion(&hashes[37], 37, 100, &long, &root),
        Err(VerifyError::ProofTooLong)
    );
    assert_eq!(
        verify_inclusion(&hashes[38], 37, 100, &proof, &root),
        Err(VerifyError::RootMismatch)
    );
    assert_eq!(
        verify_inclusion(&hashes[37], 36, 100, &proof, &root),
        Err(VerifyError::RootMismatch)
    );
    // A proof for a smaller tree does not pass for the larger one.
    let small = inclusion_proof(37, 64, &tree).unwrap();
    assert!(verify_inclusion(&hashes[37], 37, 100, &small, &root).is_err());
    // Every single-bit change of every proof hash is caught.
    for i in 0..proof.len() {
        for bit in 0..256 {
            let mut p = proof.clone();
            p[i][bit / 8] ^= 1 << (bit % 8);
            assert!(verify_inclusion(&hashes[37], 37, 100, &p, &root).is_err());
        }
    }
}

#[test]
fn consistency_verification_names_the_fault() {
    let tree = tree_of(&entries(22, 100));
    let (r30, r64, r100) = (
        tree.root_at(30).unwrap(),
        tree.root_at(64).unwrap(),
        tree.root_at(100).unwrap(),
    );
    let p = consistency_proof(30, 100, &tree).unwrap();
    verify_consistency(30, 100, &r30, &r100, &p).unwrap();
    assert_eq!(
        verify_consistency(100, 30, &r100, &r30, &p),
        Err(VerifyError::OldLargerThanNew {
            old_size: 100,
            new_size: 30
        })
    );
    assert_eq!(
        verify_consistency(30, 100, &r30, &r100, &[]),
        Err(VerifyError::ProofTooShort)
    );
    assert_eq!(
        verify_consistency(30, 100, &r30, &r100, &p[..p.len() - 1]),
        Err(VerifyError::ProofTooShort)
    );
    let mut long = p.clone();
    long.push([1; 32]);
    assert_eq!(
        verify_consistency(30, 100, &r30, &r100, &long),
        Err(VerifyError::ProofTooLong)
    );
    assert_eq!(
        verify_consistency(30, 100, &r64, &r100, &p),
        Err(VerifyError::OldRootMismatch)
    );
    assert_eq!(
        verify_consistency(30, 100, &r30, &r64, &p),
        Err(VerifyError::NewRootMismatch)
    );
    // A power-of-two old tree: the old root is implied, not sent.
    let p64 = consistency_proof(64, 100, &tree).unwrap();
    verify_consistency(64, 100, &r64, &r100, &p64).unwrap();
    assert!(verify_consistency(64, 100, &r30, &r100, &p64).is_err());
    // Edges.
    verify_consistency(100, 100, &r100, &r100, &[]).unwrap();
    assert_eq!(
        verify_consistency(100, 100, &r100, &r64, &[]),
        Err(VerifyError::RootMismatch)
    );
    assert_eq!(
        verify_consistency(100, 100, &r100, &r100, &p),
        Err(VerifyError::ProofTooLong)
    );
    verify_consistency(0, 100, &empty_root(), &r100, &[]).unwrap();
    assert_eq!(
        verify_consistency(0, 100, &r30, &r100, &[]),
        Err(VerifyError::OldRootMismatch)
    );
}

#[test]
fn errors_read_as_sentences() {
    assert_eq!(
        VerifyError::ProofTooShort.to_string(),
        "the proof has fewer hashes than a tree of this size needs"
    );
    assert_eq!(
        ProofError::<MissingNode>::IndexOutOfRange { index: 5, size: 5 }.to_string(),
        "leaf index 5 is outside a tree of 5 entries"
    );
}

/// Roots and proofs read `O(log n)` nodes and never walk the leaves, even for a tree of a
/// trillion entries.
#[test]
fn proofs_read_logarithmically_many_nodes() {
    let r = CountingReader { reads: Cell::new(0) };
    let sizes = [1u64, 2, 3, 1000, (1 << 40) + 12345, (1 << 40) - 1, u64::MAX / 2];
    for size in sizes {
        let log = 64 - size.leading_zeros() as u64;
        r.reads.set(0);
        root(size, &r).unwrap();
        assert!(r.reads.get() <= log, "root {size}: {}", r.reads.get());
        for index in [0, size / 3, size - 1] {
            r.reads.set(0);
            let p = inclusion_proof(index, size, &r).unwrap();
            assert!(p.len() as u64 <= log);
            assert!(
                r.reads.get() <= 2 * log + 1,
                "inclusion {index}/{size}: {}",
                r.reads.get()
            );
        }
        for old in [1, size / 2 + 1, size - 1] {
            r.reads.set(0);
            consistency_proof(old.min(size), size, &r).unwrap();
            assert!(
                r.reads.get() <= 3 * log + 1,
                "consistency {old}/{size}: {}",
                r.reads.get()
            );
        }
    }
}

/// The root is the fold of the perfect subtrees, right to left.
#[test]
fn root_is_the_right_fold_of_perfect_subtrees() {
    let tree = tree_of(&entries(23, 13));
    // 13 = 8 + 4 + 1
    use art28_ledger::NodeReader;
    let a = tree.node(3, 0).unwrap();
    let b = tree.node(2, 2).unwrap();
    let c = tree.node(0, 12).unwrap();
    assert_eq!(tree.root(), node_hash(&a, &node_hash(&b, &c)));
    assert_eq!(tree.nodes(0, 10..13).unwrap().len(), 3);
    assert!(tree.nodes(0, 10..14).is_err());
}
