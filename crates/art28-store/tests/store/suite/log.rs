//! LogStore: appends, per-customer reads, folds with their checkpoints, proofs, the window.

use super::*;
use art28_core::ErrorCode;
use art28_ledger::merkle::{Frontier, Hash, MemoryTree, leaf_hash, root, verify_consistency, verify_inclusion};
use art28_store::{LoggedEntry, StoredCheckpoint};

fn checkpoint(size: u64, root: Hash) -> StoredCheckpoint {
    StoredCheckpoint {
        size,
        root,
        note: format!("note {size}\n"),
        signed_at: ts("2026-01-01T10:00:00Z"),
    }
}

/// Fold the entries from the frontier's size up to `size` as the ledger does (handing the
/// store only the levels it keeps) and save the checkpoint.
async fn fold(store: &dyn Store, frontier: &mut Frontier, size: u64) -> StoredCheckpoint {
    let leaves = store.leaf_hashes(frontier.size(), size).await.expect("leaves");
    let nodes: Vec<_> = leaves
        .iter()
        .flat_map(|l| frontier.append(*l))
        .filter(|(level, _, _)| store.keeps_level(*level))
        .collect();
    let cp = checkpoint(size, frontier.root());
    store.save_fold(&nodes, &cp).await.expect("fold");
    cp
}

fn indices(v: &[LoggedEntry]) -> Vec<u64> {
    v.iter().map(|e| e.index).collect()
}

/// `n` entries, every third (from 0) for `b`, the others for `a`.
fn entries_for(a: &CustomerId, b: &CustomerId, n: u64) -> Vec<AccessEntry> {
    (0..n)
        .map(|i| next_entry(Some(if i % 3 == 0 { b } else { a }), "customer.read"))
        .collect()
}

pub async fn entries_are_appended_with_gapless_indices_alone_or_in_batches(store: &dyn Store) {
    assert_eq!(store.log_size().await.expect("size"), 0);
    assert_eq!(store.leaf_hashes(0, 0).await.expect("none"), Vec::<Hash>::new());
    let (a, b) = (id("cust-a"), id("cust-b"));
    let entries = entries_for(&a, &b, 40);
    let mut receipts = Vec::new();
    for e in &entries[..10] {
        receipts.push(store.log_access(e).await.expect("log"));
    }
    receipts.extend(store.log_accesses(&entries[10..]).await.expect("log batch"));
    assert_eq!(
        receipts.iter().map(|r| r.index).collect::<Vec<_>>(),
        (0..40).collect::<Vec<u64>>(),
        "dense and in order"
    );
    assert!(
        receipts.iter().zip(&entries).all(|(r, e)| r.access_id == e.access_id),
        "each receipt names its entry"
    );
    assert_eq!(store.log_accesses(&[]).await.expect("empty batch"), vec![]);
    assert_eq!(store.log_size().await.expect("size"), 40);
    // The leaves are the hashes of the entries' exact bytes.
    let leaves = store.leaf_hashes(0, 40).await.expect("leaves");
    let expected: Vec<Hash> = entries.iter().map(|e| leaf_hash(&e.to_bytes())).collect();
    assert_eq!(leaves, expected);
    assert_eq!(store.leaf_hashes(5, 8).await.expect("some"), expected[5..8].to_vec());

    // A write refused by the store leaves no entry and takes no index.
    let err = store
        .create_customer(&new_customer(&a, "A"), &next_entry(None, "customer.create"))
        .await
        .map(|_| ())
        .and(
            store
                .create_customer(&new_customer(&a, "A again"), &next_entry(None, "customer.create"))
                .await
                .map(|_| ()),
        )
        .expect_err("second create refused");
    assert_eq!(err.code, ErrorCode::CustomerExists);
    assert_eq!(store.log_size().await.expect("size"), 41);
    let next = store.log_access(&next_entry(None, "customer.read")).await.expect("log");
    assert_eq!(next.index, 41, "no gap where the refusal was");
}

/// What `a` and `b` see of the log of `entries` (one entry without a customer after them).
async fn check_views(store: &dyn Store, a: &CustomerId, b: &CustomerId, entries: &[AccessEntry], what: &str) {
    let size = store.log_size().await.expect("size");
    let a_indices: Vec<u64> = (0..900).filter(|i| i % 3 != 0).collect();
    let b_indices: Vec<u64> = (0..900).step_by(3).collect();
    let mine = store.tenant_log(a, 0, size, 10_000).await.expect("tenant log");
    assert_eq!(indices(&mine), a_indices, "{what}: a's entries, oldest first");
    for e in &mine {
        let back = AccessEntry::from_bytes(&e.bytes).expect("entry");
        assert_eq!(back, entries[e.index as usize], "{what}: the exact bytes");
    }
    let theirs = store.tenant_log(b, 0, size, 10_000).await.expect("tenant log");
    assert_eq!(indices(&theirs), b_indices, "{what}");
    // Pages of 7 across whatever boundaries the store has.
    let mut paged = Vec::new();
    let mut from = 0;
    loop {
        let page = store.tenant_log(a, from, size, 7).await.expect("page");
        assert!(page.len() <= 7);
        let Some(last) = page.last() else { break };
        from = last.index + 1;
        paged.extend(page);
    }
    assert_eq!(indices(&paged), a_indices, "{what}: pages of 7");
    let window = store.tenant_log(b, 140, 160, 100).await.expect("window");
    assert_eq!(
        indices(&window),
        (141..160).step_by(3).collect::<Vec<u64>>(),
        "{what}: from..below only"
    );
    assert_eq!(store.tenant_log(b, 0, 50, 5).await.expect("limit").len(), 5);
    assert_eq!(
        store.tenant_log(&id("nobody-here"), 0, size, 100).await.expect("none"),
        vec![]
    );
}

pub async fn a_tenant_sees_only_its_own_entries_across_folds_and_pages(store: &dyn Store) {
    let (a, b) = (id("cust-a"), id("cust-b"));
    // The first 300 one at a time, 600 more in one batch: enough for a customer's entries to
    // span more than one run of a per-customer index.
    let entries = entries_for(&a, &b, 900);
    for e in &entries[..300] {
        store.log_access(e).await.expect("log");
    }
    store.log_accesses(&entries[300..]).await.expect("batch");
    store
        .log_access(&next_entry(None, "processor.read"))
        .await
        .expect("no tenant");
    let size = store.log_size().await.expect("size");
    assert_eq!(size, 901);

    check_views(store, &a, &b, &entries, "unfolded").await;
    let mut frontier = Frontier::new();
    fold(store, &mut frontier, 450).await;
    check_views(store, &a, &b, &entries, "folded to 450").await;
    fold(store, &mut frontier, size).await;
    check_views(store, &a, &b, &entries, "folded to the end").await;
}

pub async fn folds_give_checkpoints_proofs_and_a_restorable_frontier(store: &dyn Store) {
    assert_eq!(store.latest_checkpoint().await.expect("none"), None);
    let (a, b) = (id("cust-a"), id("cust-b"));
    let entries = entries_for(&a, &b, 700);
    store.log_accesses(&entries).await.expect("append");
    let leaves = store.leaf_hashes(0, 700).await.expect("leaves");
    let memory = MemoryTree::from_entries(entries.iter().map(|e| e.to_bytes()));

    let mut frontier = Frontier::new();
    let cp300 = fold(store, &mut frontier, 300).await;
    assert_eq!(cp300.root, root(300, &memory).expect("root"));
    assert_eq!(store.latest_checkpoint().await.expect("cp"), Some(cp300.clone()));
    // Saving the same fold again changes nothing.
    let mut again = Frontier::new();
    fold(store, &mut again, 300).await;
    assert_eq!(store.latest_checkpoint().await.expect("cp"), Some(cp300.clone()));
    assert_eq!(store.restore_frontier(300).await.expect("restore").root(), cp300.root);

    let cp700 = fold(store, &mut frontier, 700).await;
    assert_eq!(cp700.root, memory.root());
    assert_eq!(store.latest_checkpoint().await.expect("cp"), Some(cp700.clone()));
    assert_eq!(store.checkpoint_at(300).await.expect("cp"), Some(cp300.clone()));
    assert_eq!(store.checkpoint_at(700).await.expect("cp"), Some(cp700.clone()));
    assert_eq!(store.checkpoint_at(500).await.expect("none"), None);
    // A restored frontier continues the tree exactly where the fold left it.
    let mut restored = store.restore_frontier(700).await.expect("restore");
    assert_eq!((restored.size(), restored.root()), (700, cp700.root));
    let more: Vec<AccessEntry> = (0..3).map(|_| next_entry(Some(&a), "record.read")).collect();
    store.log_accesses(&more).await.expect("more");
    for e in &more {
        restored.append(leaf_hash(&e.to_bytes()));
    }
    let all = MemoryTree::from_entries(entries.iter().chain(&more).map(|e| e.to_bytes()));
    assert_eq!(restored.root(), all.root());

    for index in [0, 1, 2, 15, 16, 17, 100, 255, 256, 299, 300, 301, 699] {
        let proof = store.inclusion_proof(index, 700).await.expect("proof");
        verify_inclusion(&leaves[index as usize], index, 700, &proof, &cp700.root).expect("proof verifies");
    }
    let proof = store.inclusion_proof(7, 300).await.expect("proof in the older tree");
    verify_inclusion(&leaves[7], 7, 300, &proof, &cp300.root).expect("verifies against 300");
    for old in [1, 2, 16, 100, 300] {
        let proof = store.consistency_proof(old, 700).await.expect("consistency");
        verify_consistency(old, 700, &root(old, &memory).expect("root"), &cp700.root, &proof).expect("consistent");
    }
    let bad = store.inclusion_proof(700, 700).await.expect_err("index out of range");
    assert_eq!(bad.code, ErrorCode::BadRequest);
    let bad = store.consistency_proof(701, 700).await.expect_err("old after new");
    assert_eq!(bad.code, ErrorCode::BadRequest);
}

pub async fn a_fold_ignores_the_levels_the_store_does_not_keep(store: &dyn Store) {
    // The answer is a property of the store: the same every time.
    let kept: Vec<bool> = (0..40).map(|l| store.keeps_level(l)).collect();
    assert_eq!(kept, (0..40).map(|l| store.keeps_level(l)).collect::<Vec<_>>());
    let entries: Vec<AccessEntry> = (0..1000).map(|_| next_entry(None, "customer.read")).collect();
    store.log_accesses(&entries).await.expect("append");
    let memory = MemoryTree::from_entries(entries.iter().map(|e| e.to_bytes()));
    // Folded from only the kept levels (and nodes of other levels handed in too, which the
    // store ignores), every proof still comes out right.
    let mut frontier = Frontier::new();
    let leaves = store.leaf_hashes(0, 1000).await.expect("leaves");
    let all_nodes: Vec<_> = leaves.iter().flat_map(|l| frontier.append(*l)).collect();
    let cp = checkpoint(1000, frontier.root());
    store.save_fold(&all_nodes, &cp).await.expect("fold with every level");
    assert_eq!(cp.root, memory.root());
    for index in [0, 511, 512, 999] {
        let proof = store.inclusion_proof(index, 1000).await.expect("proof");
        verify_inclusion(&leaves[index as usize], index, 1000, &proof, &cp.root).expect("verifies");
    }
    assert_eq!(store.restore_frontier(1000).await.expect("restore").root(), cp.root);
}

pub async fn inclusion_proofs_in_one_go_match_the_single_ones(store: &dyn Store) {
    let entries: Vec<AccessEntry> = (0..300).map(|_| next_entry(None, "customer.read")).collect();
    store.log_accesses(&entries).await.expect("append");
    let mut frontier = Frontier::new();
    let cp = fold(store, &mut frontier, 300).await;
    let leaves = store.leaf_hashes(0, 300).await.expect("leaves");
    let wanted = [299, 0, 17, 17, 256];
    let proofs = store.inclusion_proofs(&wanted, 300).await.expect("proofs");
    assert_eq!(proofs.len(), wanted.len(), "one per index asked, in that order");
    for (index, proof) in wanted.iter().zip(&proofs) {
        assert_eq!(proof, &store.inclusion_proof(*index, 300).await.expect("single"));
        verify_inclusion(&leaves[*index as usize], *index, 300, proof, &cp.root).expect("verifies");
    }
    assert_eq!(
        store.inclusion_proofs(&[], 300).await.expect("none"),
        Vec::<Vec<Hash>>::new()
    );
    let bad = store.inclusion_proofs(&[3, 300], 300).await.expect_err("out of range");
    assert_eq!(bad.code, ErrorCode::BadRequest);
}

pub async fn the_log_window_holds_customers_entries_in_a_time_range(store: &dyn Store) {
    let (a, b) = (id("cust-a"), id("cust-b"));
    let at = |tenant: Option<&CustomerId>, time: &str| AccessEntry {
        time: ts(time),
        ..next_entry(tenant, "customer.read")
    };
    let entries = vec![
        at(Some(&a), "2026-03-01T08:00:00Z"),
        at(Some(&b), "2026-03-01T09:00:00Z"),
        at(None, "2026-03-01T09:30:00Z"),
        at(Some(&a), "2026-03-01T10:00:00Z"),
        at(Some(&b), "2026-03-01T11:00:00Z"),
        at(Some(&a), "2026-03-01T12:00:00Z"),
    ];
    store.log_accesses(&entries).await.expect("append");
    let window = store
        .log_window(ts("2026-03-01T09:00:00Z"), ts("2026-03-01T12:00:00Z"), 100)
        .await
        .expect("window");
    assert_eq!(
        window,
        vec![entries[1].clone(), entries[3].clone(), entries[4].clone()],
        "from inclusive, to exclusive, customers' entries only, oldest first"
    );
    let limited = store
        .log_window(ts("2026-03-01T00:00:00Z"), ts("2026-03-02T00:00:00Z"), 2)
        .await
        .expect("window");
    assert_eq!(limited, vec![entries[0].clone(), entries[1].clone()]);
    assert_eq!(
        store
            .log_window(ts("2026-03-02T00:00:00Z"), ts("2026-03-03T00:00:00Z"), 100)
            .await
            .expect("empty"),
        vec![]
    );
}
