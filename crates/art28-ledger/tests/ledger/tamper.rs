//! Bundles: a valid one verifies, and every kind of tampering is caught and named.

use art28_ledger::{
    Bundle, BundleFailure, Checkpoint, CheckpointError, ConsistencyError, LogSigner, MemoryTree, VerifyError,
    consistency_proof, verify_bundle, verify_consistency_notes,
};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;

const NAME: &str = "art28.example/log";

fn access_entries(n: u64) -> Vec<Vec<u8>> {
    (0..n)
        .map(|i| format!("{{\"access_id\":{i},\"decision\":\"granted\",\"activity\":\"read\"}}").into_bytes())
        .collect()
}

/// A log of 40 entries, its key, the auditor's earlier checkpoint at 25, and the current one.
struct Fixture {
    signer: LogSigner,
    entries: Vec<Vec<u8>>,
    tree: MemoryTree,
    cp: Checkpoint,
    note: String,
    old_cp: Checkpoint,
    old_note: String,
}

fn fixture() -> Fixture {
    let signer = LogSigner::from_bytes(NAME, &[17; 32]).unwrap();
    let entries = access_entries(40);
    let tree = MemoryTree::from_entries(&entries);
    let cp = signer.checkpoint(40, tree.root());
    let note = signer.sign(&cp);
    let old_cp = signer.checkpoint(25, tree.root_at(25).unwrap());
    let old_note = signer.sign(&old_cp);
    Fixture {
        signer,
        entries,
        tree,
        cp,
        note,
        old_cp,
        old_note,
    }
}

impl Fixture {
    /// Entries 10..20 with proofs, and a consistency step from the size-25 checkpoint.
    fn bundle(&self) -> Bundle {
        let mut b = Bundle::build(
            &self.cp,
            &self.note,
            (10..20u64).map(|i| (i, &self.entries[i as usize])),
            &self.tree,
        )
        .unwrap();
        b.add_consistency(&self.old_cp, &self.old_note, 40, &self.tree).unwrap();
        b
    }

    fn verify(&self, b: &Bundle, trusted: Option<&str>) -> Vec<String> {
        match verify_bundle(b, &self.signer.verifier(), trusted) {
            Ok(_) => vec![],
            Err(failures) => failures.iter().map(ToString::to_string).collect(),
        }
    }
}

fn entry_mut(b: &mut Bundle, index: u64) -> &mut art28_ledger::BundleEntry {
    b.entries.iter_mut().find(|e| e.index == index).unwrap()
}

#[test]
fn a_valid_bundle_verifies_and_survives_json() {
    let f = fixture();
    let b = f.bundle();
    let json = b.to_json();
    assert!(json.contains("\"format\": \"art28/log-bundle/v1\""));
    let back = Bundle::from_json(&json).unwrap();
    assert_eq!(back, b);
    let report = verify_bundle(&back, &f.signer.verifier(), Some(&f.old_note)).unwrap();
    assert_eq!(report.entries_verified, 10);
    assert_eq!(report.consistency_verified, 1);
    assert_eq!(report.checkpoint, f.cp);
    assert_eq!(report.trusted, Some(f.old_cp.clone()));
    assert!(report.contiguous);
    // The auditor may also hold exactly the bundle's checkpoint.
    verify_bundle(&back, &f.signer.verifier(), Some(&f.note)).unwrap();
    // Unknown fields are refused rather than ignored.
    let extra = json.replacen('{', "{\"signed_by_ceo\": true,", 1);
    assert!(Bundle::from_json(&extra).is_err());
}

#[test]
fn a_modified_entry_byte_is_caught() {
    let f = fixture();
    let mut b = f.bundle();
    let e = entry_mut(&mut b, 17);
    let mut bytes = BASE64.decode(&e.entry).unwrap();
    let at = bytes.iter().position(|&c| c == b'g').unwrap();
    bytes[at] = b'r'; // "granted" -> "rranted"
    e.entry = BASE64.encode(bytes);
    assert_eq!(
        f.verify(&b, None),
        [
            "entry at index 17: inclusion proof does not lead to the checkpoint root (the entry or the proof was changed)"
        ]
    );
}

#[test]
fn a_modified_proof_hash_is_caught() {
    let f = fixture();
    let mut b = f.bundle();
    let e = entry_mut(&mut b, 12);
    let flip = if e.proof[1].starts_with("00") { "11" } else { "00" };
    e.proof[1].replace_range(0..2, flip);
    assert_eq!(
        f.verify(&b, None),
        [
            "entry at index 12: inclusion proof does not lead to the checkpoint root (the entry or the proof was changed)"
        ]
    );
    let mut b = f.bundle();
    entry_mut(&mut b, 13).proof.pop();
    entry_mut(&mut b, 14).proof[0].push('0');
    assert_eq!(
        f.verify(&b, None),
        [
            "entry at index 13: inclusion proof has the wrong number of hashes for a tree of 40 entries (the proof was changed)",
            "entry at index 14: proof hash 0 is not 64 hex digits",
        ]
    );
}

#[test]
fn a_dropped_entry_is_caught() {
    let f = fixture();
    // Dropped from the bundle and the later ones renumbered to hide the gap.
    let mut b = f.bundle();
    b.entries.retain(|e| e.index != 15);
    for e in b.entries.iter_mut().filter(|e| e.index > 15) {
        e.index -= 1;
    }
    let failures = f.verify(&b, None);
    assert_eq!(failures.len(), 4, "{failures:#?}");
    for (k, index) in (15..19).enumerate() {
        assert_eq!(
            failures[k],
            format!(
                "entry at index {index}: inclusion proof does not lead to the checkpoint root (the entry or the proof was changed)"
            )
        );
    }
    // Dropped from the bundle without renumbering: the rest is still proven, and the gap shows.
    let mut b = f.bundle();
    b.entries.retain(|e| e.index != 15);
    let report = verify_bundle(&b, &f.signer.verifier(), None).unwrap();
    assert_eq!(report.entries_verified, 9);
    assert!(!report.contiguous);

    // Dropped from the log itself, the tree rebuilt and re-signed at the same size: a fork
    // against the auditor's saved checkpoint.
    let mut rewritten: Vec<Vec<u8>> = f.entries.clone();
    rewritten.remove(15);
    rewritten.push(b"{\"access_id\":40}".to_vec());
    let tree2 = MemoryTree::from_entries(&rewritten);
    let cp2 = f.signer.checkpoint(40, tree2.root());
    let note2 = f.signer.sign(&cp2);
    let b2 = Bundle::build(&cp2, &note2, [(10u64, &rewritten[10])], &tree2).unwrap();
    assert_eq!(
        f.verify(&b2, Some(&f.note)),
        ["checkpoints fork: size 40 has two different roots"]
    );

    // ... or grown past it, with the auditor's size-25 checkpoint and a proof from the new tree.
    rewritten.extend(access_entries(60).into_iter().skip(41));
    let tree3 = MemoryTree::from_entries(&rewritten);
    let cp3 = f.signer.checkpoint(59, tree3.root());
    let note3 = f.signer.sign(&cp3);
    let mut b3 = Bundle::build(&cp3, &note3, [(30u64, &rewritten[30])], &tree3).unwrap();
    b3.add_consistency(&f.old_cp, &f.old_note, 59, &tree3).unwrap();
    assert_eq!(
        f.verify(&b3, Some(&f.old_note)),
        [
            "consistency step 1: the tree of size 59 is not proven to extend the tree of size 25: the proof does not reproduce the old root"
        ]
    );
    // Without the step, the bundle cannot be tied to what the auditor saw.
    b3.consistency.clear();
    assert_eq!(
        f.verify(&b3, Some(&f.old_note)),
        ["trusted checkpoint: the bundle has no consistency proof from its size 25 to the bundle's size 59"]
    );
}

#[test]
fn reordered_entries_are_caught() {
    let f = fixture();
    // Contents swapped, indices kept.
    let mut b = f.bundle();
    let a = entry_mut(&mut b, 13).entry.clone();
    let c = std::mem::replace(&mut entry_mut(&mut b, 14).entry, a);
    entry_mut(&mut b, 13).entry = c;
    assert_eq!(
        f.verify(&b, None),
        [
            "entry at index 13: inclusion proof does not lead to the checkpoint root (the entry or the proof was changed)",
            "entry at index 14: inclusion proof does not lead to the checkpoint root (the entry or the proof was changed)",
        ]
    );
    // Whole entries swapped: each still proves, but the order is wrong.
    let mut b = f.bundle();
    b.entries.swap(3, 4);
    assert_eq!(
        f.verify(&b, None),
        ["entry at index 13: follows index 14, but indices must be strictly increasing (entries were reordered)"]
    );
    // A duplicate.
    let mut b = f.bundle();
    let dup = b.entries[2].clone();
    b.entries.insert(3, dup);
    assert_eq!(f.verify(&b, None), ["entry at index 12: appears more than once"]);
}

#[test]
fn a_forked_checkpoint_is_caught() {
    let f = fixture();
    // Another history of the same size, validly signed.
    let mut other = f.entries.clone();
    other[3] = b"{\"access_id\":3,\"decision\":\"refused\"}".to_vec();
    let tree2 = MemoryTree::from_entries(&other);
    let cp2 = f.signer.checkpoint(40, tree2.root());
    let note2 = f.signer.sign(&cp2);
    let b = Bundle::build(&cp2, &note2, [(3u64, &other[3])], &tree2).unwrap();
    // Alone it verifies: the fork shows only against what the auditor saw.
    assert!(f.verify(&b, None).is_empty());
    assert_eq!(
        f.verify(&b, Some(&f.note)),
        ["checkpoints fork: size 40 has two different roots"]
    );
    // A forked step inside the bundle is caught too.
    let mut b = f.bundle();
    let fork25 = f.signer.checkpoint(25, tree2.root_at(25).unwrap());
    b.consistency.push(art28_ledger::ConsistencyStep::new(
        &f.signer.sign(&fork25),
        &consistency_proof(25, 40, &tree2).unwrap(),
    ));
    let failures = f.verify(&b, None);
    assert!(
        failures.contains(&"checkpoints fork: size 25 has two different roots".to_owned()),
        "{failures:#?}"
    );
    // And by the two-checkpoint check.
    assert_eq!(
        verify_consistency_notes(&f.note, &note2, &[], &f.signer.verifier()),
        Err(ConsistencyError::Fork { size: 40 })
    );
}

#[test]
fn a_checkpoint_signed_by_a_wrong_key_is_caught() {
    let f = fixture();
    let impostor = LogSigner::from_bytes(NAME, &[99; 32]).unwrap();
    let forged = impostor.sign(&f.cp);
    let mut b = f.bundle();
    b.checkpoint = forged;
    let want_key = f.signer.verifier().label();
    let got_key = impostor.verifier().label();
    assert_eq!(
        f.verify(&b, None),
        [format!(
            "checkpoint: not signed by key {want_key} (signatures found: {got_key})"
        )]
    );

    // The right key id but a changed body: the signature does not verify.
    let mut b = f.bundle();
    b.checkpoint = f.note.replacen("\n40\n", "\n41\n", 1);
    assert_eq!(
        f.verify(&b, None),
        [format!("checkpoint: signature does not verify with key {want_key}")]
    );
    // A changed root: the entries are still checked against the (unsigned) root it claims,
    // and all of them fail too, so the auditor sees the whole extent.
    let mut b = f.bundle();
    let root = BASE64.encode(f.cp.root);
    let other_root = BASE64.encode(f.tree.root_at(39).unwrap());
    b.checkpoint = f.note.replacen(&root, &other_root, 1);
    let failures = f.verify(&b, None);
    assert_eq!(
        failures[0],
        format!("checkpoint: signature does not verify with key {want_key}")
    );
    assert_eq!(failures.len(), 11, "{failures:#?}");

    // The trusted checkpoint from another key is refused, too.
    let b = f.bundle();
    let failures = f.verify(&b, Some(&impostor.sign(&f.old_cp)));
    assert_eq!(
        failures,
        [format!(
            "trusted checkpoint: not signed by key {want_key} (signatures found: {got_key})"
        )]
    );
    // A checkpoint of another log, signed by this log's key.
    let other = Checkpoint {
        origin: "other.example/log".into(),
        ..f.cp.clone()
    };
    assert_eq!(
        f.signer.verifier().verify(&f.signer.sign(&other)),
        Err(CheckpointError::OriginMismatch {
            origin: "other.example/log".into(),
            key_name: NAME.into()
        })
    );
}

#[test]
fn a_truncated_or_garbled_note_is_caught() {
    let f = fixture();
    let key = f.signer.verifier();
    // Every proper prefix of the note is refused.
    for (cut, _) in f.note.char_indices() {
        assert!(key.verify(&f.note[..cut]).is_err(), "prefix of {cut} bytes accepted");
    }
    assert!(key.verify(&f.note).is_ok());
    // Every one-character change is refused, or else reads the same checkpoint (none do).
    for (at, ch) in f.note.char_indices() {
        let replacement = if ch == 'A' { 'B' } else { 'A' };
        let mut garbled = f.note.clone();
        garbled.replace_range(at..at + ch.len_utf8(), &replacement.to_string());
        assert!(key.verify(&garbled).is_err(), "change at {at} accepted: {garbled:?}");
    }
    let mut b = f.bundle();
    b.checkpoint = f.note[..f.note.len() - 10].to_owned();
    assert_eq!(
        f.verify(&b, None),
        [
            "checkpoint: malformed note: the signature block does not end with a newline",
            "entries: not checked, because the checkpoint could not be read",
        ]
    );
    let mut b = f.bundle();
    b.checkpoint = f.note.replace('\u{2014}', "-");
    assert!(f.verify(&b, None)[0].starts_with("checkpoint: malformed note: a signature line does not start with"));
    let mut b = f.bundle();
    b.format = "art28/log-bundle/v2".into();
    assert_eq!(
        f.verify(&b, None),
        [
            "format: expected \"art28/log-bundle/v1\", found \"art28/log-bundle/v2\" (not an art28 log bundle, or a version this tool does not read)"
        ]
    );
}

#[test]
fn a_consistency_proof_from_a_non_prefix_tree_is_caught() {
    let f = fixture();
    let key = f.signer.verifier();
    // A tree that differs from the log in entry 3 only.
    let mut other = f.entries.clone();
    other[3].push(b' ');
    let tree2 = MemoryTree::from_entries(&other);
    let good = consistency_proof(25, 40, &f.tree).unwrap();
    let bad = consistency_proof(25, 40, &tree2).unwrap();
    let (old, new) = verify_consistency_notes(&f.old_note, &f.note, &good, &key).unwrap();
    assert_eq!((old.size, new.size), (25, 40));
    let err = verify_consistency_notes(&f.old_note, &f.note, &bad, &key).unwrap_err();
    assert!(matches!(
        err,
        ConsistencyError::Proof {
            error: VerifyError::OldRootMismatch | VerifyError::NewRootMismatch,
            ..
        }
    ));
    assert_eq!(
        err.to_string(),
        "the tree of size 40 is not proven to extend the tree of size 25: the proof does not reproduce the old root"
    );
    // In a bundle.
    let mut b = f.bundle();
    b.consistency[0] = art28_ledger::ConsistencyStep::new(&f.old_note, &bad);
    assert_eq!(
        f.verify(&b, Some(&f.old_note)),
        [
            "consistency step 1: the tree of size 40 is not proven to extend the tree of size 25: the proof does not reproduce the old root"
        ]
    );
    // Old and new swapped.
    assert_eq!(
        verify_consistency_notes(&f.note, &f.old_note, &good, &key),
        Err(ConsistencyError::OldIsNewer {
            old_size: 40,
            new_size: 25
        })
    );
    // A trusted checkpoint newer than the bundle.
    let b = f.bundle();
    let newer = f.signer.sign(&f.signer.checkpoint(41, [0; 32]));
    assert_eq!(
        f.verify(&b, Some(&newer)),
        ["trusted checkpoint: it is newer (size 41) than the bundle's checkpoint (size 40); ask for a current bundle"]
    );
}

#[test]
fn failure_variants_are_typed() {
    let f = fixture();
    let mut b = f.bundle();
    b.origin = "someone.else/log".into();
    entry_mut(&mut b, 19).index = 45;
    let failures = verify_bundle(&b, &f.signer.verifier(), None).unwrap_err();
    assert_eq!(
        failures,
        [
            BundleFailure::Origin {
                bundle: "someone.else/log".into(),
                key: NAME.into()
            },
            BundleFailure::EntryBeyondCheckpoint { index: 45, size: 40 },
        ]
    );
}
