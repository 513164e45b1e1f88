//! The art28 access log's tamper-evident core, usable alone by an auditor.
//!
//! Every access to service data is logged (R3.1). For the log to be evidence rather than a
//! claim, a processor must not be able to change or drop an entry, or show one customer a
//! different history than another, without that being detectable by someone who does not trust
//! the processor. This crate is the mathematics and the file formats of that guarantee; it
//! holds no state, does no IO and knows nothing of tenants, databases or HTTP, so the same code
//! runs inside the server and in an auditor's offline tool.
//!
//! # Layout
//!
//! - [`merkle`] — the Merkle tree of RFC 6962 / RFC 9162 §2.1 (the one Certificate
//!   Transparency uses): leaf and node hashing, roots, inclusion and consistency proofs and
//!   their verification. Everything is computed from *perfect subtree* hashes addressed by
//!   `(level, index)`, which never change once complete; a store keeps those and answers
//!   [`merkle::NodeReader`], so every root or proof costs `O(log n)` reads. [`merkle::Frontier`]
//!   appends without reading the tree; [`merkle::MemoryTree`] holds a whole tree in memory.
//! - [`checkpoint`] — signed tree heads in the C2SP `tlog-checkpoint` format inside C2SP
//!   `signed-note` envelopes with Ed25519 (the formats of Go's sumdb and the transparency-log
//!   witness ecosystem), so third parties can check them with their own tools from one
//!   verifier-key string.
//! - [`bundle`] — offline evidence: a JSON bundle of entries, their inclusion proofs, a signed
//!   checkpoint and optional consistency proofs from earlier checkpoints, and
//!   [`bundle::verify_bundle`], which reports every fault it finds in words a person can act on.
//!
//! # Why it works offline
//!
//! An auditor needs only the log's verifier key (published once) and what the processor hands
//! over. The signature binds the processor to a root; an inclusion proof binds an entry's exact
//! bytes and position to that root; a consistency proof binds an older root the auditor kept to
//! the newer one, so history cannot be rewritten between two looks. Two signed checkpoints of
//! the same size with different roots are themselves proof of misbehaviour (a fork).
//!
//! # Example
//!
//! ```
//! use art28_ledger::{Bundle, LogSigner, LogVerifier, MemoryTree, verify_bundle};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // The log side: entries into the tree, a signed checkpoint, a bundle for an auditor.
//! let signer = LogSigner::generate("art28.example/log")?;
//! let entries: Vec<&[u8]> = vec![b"access 0", b"access 1", b"access 2"];
//! let tree = MemoryTree::from_entries(&entries);
//! let checkpoint = signer.checkpoint(tree.size(), tree.root());
//! let note = signer.sign(&checkpoint);
//! let bundle = Bundle::build(&checkpoint, &note, [(1, entries[1])], &tree)?;
//! let vkey = signer.verifier().to_vkey();
//!
//! // The auditor side, offline: the published key string and the bundle's JSON.
//! let key: LogVerifier = vkey.parse()?;
//! let bundle = Bundle::from_json(&bundle.to_json())?;
//! let report = verify_bundle(&bundle, &key, None).map_err(|f| format!("{f:?}"))?;
//! assert_eq!(report.entries_verified, 1);
//! # Ok(())
//! # }
//! ```
//!
//! Cryptographic primitives come from audited crates (`sha2`, `ed25519-dalek`); this crate
//! only arranges them as the RFCs and C2SP specifications prescribe.

pub mod bundle;
pub mod checkpoint;
pub mod merkle;

pub use bundle::{
    BUNDLE_FORMAT, Bundle, BundleEntry, BundleFailure, BundleReport, ConsistencyError, ConsistencyStep, verify_bundle,
    verify_consistency_notes,
};
pub use checkpoint::{Checkpoint, CheckpointError, KeyError, LogSigner, LogVerifier};
pub use merkle::{
    Frontier, Hash, MemoryTree, MissingNode, NodeReader, ProofError, VerifyError, consistency_proof, empty_root,
    inclusion_proof, leaf_hash, node_hash, root, verify_consistency, verify_inclusion,
};
