//! Offline evidence: a JSON bundle of log entries with their proofs, checkable by anyone who
//! holds the log's verifier key, without contacting the log.
//!
//! A bundle answers "were these entries in the log the operator committed to?". It holds a
//! signed checkpoint, each entry's exact bytes with an inclusion proof against that checkpoint,
//! and optionally consistency proofs from earlier checkpoints (ones the auditor may have kept)
//! to it. [`verify_bundle`] checks everything and reports every failure it finds, each naming
//! what failed and where, so a person can see at once what was changed.
//!
//! A bundle proves that what it holds is in the log; it does not prove that nothing else is.
//! Gaps in the indices are reported in [`BundleReport::contiguous`].

use std::collections::BTreeMap;
use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::{Deserialize, Serialize};

use crate::checkpoint::{Checkpoint, CheckpointError, LogVerifier};
use crate::merkle::{
    Hash, NodeReader, ProofError, VerifyError, consistency_proof, inclusion_proof, leaf_hash, verify_consistency,
    verify_inclusion,
};

/// The `format` value of the bundles this version writes and reads.
pub const BUNDLE_FORMAT: &str = "art28/log-bundle/v1";

/// A bundle of log entries with the proofs that they are in the log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bundle {
    /// Always [`BUNDLE_FORMAT`].
    pub format: String,
    /// The log's name (= the checkpoint origin and key name).
    pub origin: String,
    /// The signed checkpoint (a signed note) every proof leads to.
    pub checkpoint: String,
    /// The entries, indices strictly increasing.
    pub entries: Vec<BundleEntry>,
    /// Links from earlier checkpoints to `checkpoint`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub consistency: Vec<ConsistencyStep>,
}

/// One log entry and its inclusion proof.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BundleEntry {
    /// The entry's position in the log, from 0.
    pub index: u64,
    /// Base64 of the exact leaf bytes that were hashed into the log.
    pub entry: String,
    /// The inclusion proof, hex hashes, leaf level first.
    pub proof: Vec<String>,
}

/// A consistency proof from an earlier checkpoint to the bundle's checkpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsistencyStep {
    /// The earlier signed checkpoint.
    pub old_checkpoint: String,
    /// The consistency proof, hex hashes.
    pub proof: Vec<String>,
}

fn hex_all(proof: &[Hash]) -> Vec<String> {
    proof.iter().map(hex::encode).collect()
}

impl BundleEntry {
    /// An entry with its proof.
    pub fn new(index: u64, entry: &[u8], proof: &[Hash]) -> Self {
        BundleEntry {
            index,
            entry: BASE64.encode(entry),
            proof: hex_all(proof),
        }
    }
}

impl ConsistencyStep {
    /// A step from `old_checkpoint` (a signed note) with its proof.
    pub fn new(old_checkpoint: &str, proof: &[Hash]) -> Self {
        ConsistencyStep {
            old_checkpoint: old_checkpoint.to_owned(),
            proof: hex_all(proof),
        }
    }
}

impl Bundle {
    /// An empty bundle for the checkpoint `checkpoint_note` of log `origin`.
    pub fn new(origin: &str, checkpoint_note: &str) -> Self {
        Bundle {
            format: BUNDLE_FORMAT.to_owned(),
            origin: origin.to_owned(),
            checkpoint: checkpoint_note.to_owned(),
            entries: Vec::new(),
            consistency: Vec::new(),
        }
    }

    /// A bundle of `entries` (index, exact leaf bytes), in increasing index order, each proven
    /// against `checkpoint` (whose signed note is `note`) with nodes from `r`.
    pub fn build<R, I, E>(
        checkpoint: &Checkpoint,
        note: &str,
        entries: I,
        r: &R,
    ) -> Result<Bundle, ProofError<R::Error>>
    where
        R: NodeReader,
        I: IntoIterator<Item = (u64, E)>,
        E: AsRef<[u8]>,
    {
        let mut bundle = Bundle::new(&checkpoint.origin, note);
        for (index, entry) in entries {
            let proof = inclusion_proof(index, checkpoint.size, r)?;
            bundle.entries.push(BundleEntry::new(index, entry.as_ref(), &proof));
        }
        Ok(bundle)
    }

    /// Adds a consistency step from the earlier checkpoint `old` (signed note `old_note`) to
    /// this bundle's checkpoint of size `new_size`.
    pub fn add_consistency<R: NodeReader>(
        &mut self,
        old: &Checkpoint,
        old_note: &str,
        new_size: u64,
        r: &R,
    ) -> Result<(), ProofError<R::Error>> {
        let proof = consistency_proof(old.size, new_size, r)?;
        self.consistency.push(ConsistencyStep::new(old_note, &proof));
        Ok(())
    }

    /// The bundle as pretty-printed JSON.
    pub fn to_json(&self) -> String {
        // A struct of strings and integers always serializes.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// Reads a bundle from JSON, refusing unknown fields.
    pub fn from_json(json: &str) -> Result<Bundle, serde_json::Error> {
        serde_json::from_str(json)
    }
}

/// What a successful [`verify_bundle`] checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BundleReport {
    /// The verified checkpoint every entry leads to.
    pub checkpoint: Checkpoint,
    /// How many entries were proven included.
    pub entries_verified: usize,
    /// How many consistency steps were verified.
    pub consistency_verified: usize,
    /// The auditor's trusted checkpoint, when one was given: the bundle's checkpoint is the
    /// same tree or extends it.
    pub trusted: Option<Checkpoint>,
    /// Whether the entries' indices form one run without gaps.
    pub contiguous: bool,
}

/// One thing wrong with a bundle, saying what and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BundleFailure {
    /// The `format` field is not [`BUNDLE_FORMAT`].
    Format {
        /// The format found.
        found: String,
    },
    /// The bundle's origin is not the key's log.
    Origin {
        /// The origin in the bundle.
        bundle: String,
        /// The key's name.
        key: String,
    },
    /// The bundle's checkpoint does not verify.
    Checkpoint(CheckpointError),
    /// Entries were not checked because the checkpoint could not even be read.
    EntriesUnchecked,
    /// An entry's index is not greater than the one before it.
    EntryOrder {
        /// The entry's index.
        index: u64,
        /// The index of the entry before it.
        previous: u64,
    },
    /// An entry's bytes are not base64.
    EntryEncoding {
        /// The entry's index.
        index: u64,
    },
    /// A proof hash is not 64 hex digits.
    EntryProofEncoding {
        /// The entry's index.
        index: u64,
        /// The position of the bad hash in the proof, from 0.
        position: usize,
    },
    /// An entry lies beyond the checkpoint's tree.
    EntryBeyondCheckpoint {
        /// The entry's index.
        index: u64,
        /// The checkpoint's size.
        size: u64,
    },
    /// An entry's inclusion proof has the wrong length for the tree.
    EntryProofLength {
        /// The entry's index.
        index: u64,
        /// The checkpoint's size.
        size: u64,
    },
    /// An entry's inclusion proof leads to another root.
    EntryNotIncluded {
        /// The entry's index.
        index: u64,
    },
    /// A consistency step's old checkpoint does not verify.
    StepCheckpoint {
        /// The step's position, from 1.
        step: usize,
        /// Why.
        error: CheckpointError,
    },
    /// A consistency step's proof hash is not 64 hex digits.
    StepProofEncoding {
        /// The step's position, from 1.
        step: usize,
        /// The position of the bad hash, from 0.
        position: usize,
    },
    /// A consistency step's old checkpoint is larger than the bundle's checkpoint.
    StepNewer {
        /// The step's position, from 1.
        step: usize,
        /// The old checkpoint's size.
        old_size: u64,
        /// The bundle checkpoint's size.
        size: u64,
    },
    /// A consistency step's proof does not verify.
    StepProof {
        /// The step's position, from 1.
        step: usize,
        /// The old checkpoint's size.
        old_size: u64,
        /// The bundle checkpoint's size.
        size: u64,
        /// Why.
        error: VerifyError,
    },
    /// Two validly signed checkpoints of the same size have different roots: the log showed
    /// different histories to different readers.
    Fork {
        /// The size with two roots.
        size: u64,
    },
    /// The auditor's trusted checkpoint does not verify.
    TrustedCheckpoint(CheckpointError),
    /// The trusted checkpoint is newer than the bundle's.
    TrustedNewer {
        /// The trusted checkpoint's size.
        trusted_size: u64,
        /// The bundle checkpoint's size.
        size: u64,
    },
    /// No consistency step links the trusted checkpoint to the bundle's.
    TrustedNotLinked {
        /// The trusted checkpoint's size.
        trusted_size: u64,
        /// The bundle checkpoint's size.
        size: u64,
    },
}

impl fmt::Display for BundleFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use BundleFailure as B;
        match self {
            B::Format { found } => write!(
                f,
                "format: expected {BUNDLE_FORMAT:?}, found {found:?} (not an art28 log bundle, or a version this tool does not read)"
            ),
            B::Origin { bundle, key } => write!(
                f,
                "origin: the bundle is for log {bundle:?} but the key is for log {key:?}"
            ),
            B::Checkpoint(e) => write!(f, "checkpoint: {e}"),
            B::EntriesUnchecked => write!(f, "entries: not checked, because the checkpoint could not be read"),
            B::EntryOrder { index, previous } if index == previous => {
                write!(f, "entry at index {index}: appears more than once")
            }
            B::EntryOrder { index, previous } => write!(
                f,
                "entry at index {index}: follows index {previous}, but indices must be strictly increasing (entries were reordered)"
            ),
            B::EntryEncoding { index } => {
                write!(f, "entry at index {index}: the entry is not valid base64")
            }
            B::EntryProofEncoding { index, position } => {
                write!(f, "entry at index {index}: proof hash {position} is not 64 hex digits")
            }
            B::EntryBeyondCheckpoint { index, size } => write!(
                f,
                "entry at index {index}: beyond the checkpoint, which covers {size} entries"
            ),
            B::EntryProofLength { index, size } => write!(
                f,
                "entry at index {index}: inclusion proof has the wrong number of hashes for a tree of {size} entries (the proof was changed)"
            ),
            B::EntryNotIncluded { index } => write!(
                f,
                "entry at index {index}: inclusion proof does not lead to the checkpoint root (the entry or the proof was changed)"
            ),
            B::StepCheckpoint { step, error } => {
                write!(f, "consistency step {step}: old checkpoint: {error}")
            }
            B::StepProofEncoding { step, position } => {
                write!(f, "consistency step {step}: proof hash {position} is not 64 hex digits")
            }
            B::StepNewer { step, old_size, size } => write!(
                f,
                "consistency step {step}: the old checkpoint (size {old_size}) is larger than the bundle's checkpoint (size {size})"
            ),
            B::StepProof {
                step,
                old_size,
                size,
                error,
            } => write!(
                f,
                "consistency step {step}: the tree of size {size} is not proven to extend the tree of size {old_size}: {error}"
            ),
            B::Fork { size } => write!(f, "checkpoints fork: size {size} has two different roots"),
            B::TrustedCheckpoint(e) => write!(f, "trusted checkpoint: {e}"),
            B::TrustedNewer { trusted_size, size } => write!(
                f,
                "trusted checkpoint: it is newer (size {trusted_size}) than the bundle's checkpoint (size {size}); ask for a current bundle"
            ),
            B::TrustedNotLinked { trusted_size, size } => write!(
                f,
                "trusted checkpoint: the bundle has no consistency proof from its size {trusted_size} to the bundle's size {size}"
            ),
        }
    }
}

/// Decodes hex proof hashes; `Err(position)` names the first bad one.
fn decode_proof(proof: &[String]) -> Result<Vec<Hash>, usize> {
    proof
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let mut out = [0u8; 32];
            hex::decode_to_slice(h, &mut out).map_err(|_| i)?;
            Ok(out)
        })
        .collect()
}

/// Verifies a bundle against the log's key and, when given, a checkpoint the auditor saved
/// earlier (a signed note). Reports every failure, not just the first.
pub fn verify_bundle(
    bundle: &Bundle,
    key: &LogVerifier,
    trusted_checkpoint: Option<&str>,
) -> Result<BundleReport, Vec<BundleFailure>> {
    let mut failures = Vec::new();
    if bundle.format != BUNDLE_FORMAT {
        failures.push(BundleFailure::Format {
            found: bundle.format.clone(),
        });
    }
    if bundle.origin != key.name() {
        failures.push(BundleFailure::Origin {
            bundle: bundle.origin.clone(),
            key: key.name().to_owned(),
        });
    }

    // Every validly signed checkpoint seen, by size, to catch forks.
    let mut signed: BTreeMap<u64, Vec<Hash>> = BTreeMap::new();
    let mut see = |cp: &Checkpoint| {
        let roots = signed.entry(cp.size).or_default();
        if !roots.contains(&cp.root) {
            roots.push(cp.root);
        }
    };

    // The checkpoint. When its signature fails but its body reads, the entries are still
    // checked against it, so the auditor learns everything that is wrong at once.
    let checkpoint = match key.verify(&bundle.checkpoint) {
        Ok(cp) => {
            see(&cp);
            Some(cp)
        }
        Err(e) => {
            failures.push(BundleFailure::Checkpoint(e));
            None
        }
    };
    let proof_target = checkpoint
        .clone()
        .or_else(|| crate::checkpoint::read_unverified(&bundle.checkpoint));

    // Entries.
    let mut entries_verified = 0;
    let mut previous: Option<u64> = None;
    for e in &bundle.entries {
        let index = e.index;
        if let Some(p) = previous.filter(|p| index <= *p) {
            failures.push(BundleFailure::EntryOrder { index, previous: p });
        }
        previous = Some(index);
        let Ok(bytes) = BASE64.decode(&e.entry) else {
            failures.push(BundleFailure::EntryEncoding { index });
            continue;
        };
        let proof = match decode_proof(&e.proof) {
            Ok(p) => p,
            Err(position) => {
                failures.push(BundleFailure::EntryProofEncoding { index, position });
                continue;
            }
        };
        let Some(target) = &proof_target else {
            continue;
        };
        match verify_inclusion(&leaf_hash(&bytes), index, target.size, &proof, &target.root) {
            Ok(()) => entries_verified += 1,
            Err(VerifyError::IndexOutOfRange { .. }) => {
                failures.push(BundleFailure::EntryBeyondCheckpoint {
                    index,
                    size: target.size,
                });
            }
            Err(VerifyError::ProofTooLong | VerifyError::ProofTooShort) => {
                failures.push(BundleFailure::EntryProofLength {
                    index,
                    size: target.size,
                });
            }
            Err(_) => failures.push(BundleFailure::EntryNotIncluded { index }),
        }
    }
    if proof_target.is_none() && !bundle.entries.is_empty() {
        failures.push(BundleFailure::EntriesUnchecked);
    }

    // Consistency steps: each earlier checkpoint, and that the bundle's tree extends it.
    let mut linked: Vec<Checkpoint> = Vec::new();
    let mut step_sizes: Vec<u64> = Vec::new();
    for (i, step) in bundle.consistency.iter().enumerate() {
        let n = i + 1;
        let old = match key.verify(&step.old_checkpoint) {
            Ok(old) => {
                see(&old);
                step_sizes.push(old.size);
                old
            }
            Err(error) => {
                failures.push(BundleFailure::StepCheckpoint { step: n, error });
                continue;
            }
        };
        let proof = match decode_proof(&step.proof) {
            Ok(p) => p,
            Err(position) => {
                failures.push(BundleFailure::StepProofEncoding { step: n, position });
                continue;
            }
        };
        let Some(cp) = &checkpoint else {
            continue;
        };
        if old.size > cp.size {
            failures.push(BundleFailure::StepNewer {
                step: n,
                old_size: old.size,
                size: cp.size,
            });
            continue;
        }
        if old.size == cp.size && old.root != cp.root {
            continue; // a fork, reported once below
        }
        match verify_consistency(old.size, cp.size, &old.root, &cp.root, &proof) {
            Ok(()) => linked.push(old),
            Err(error) => failures.push(BundleFailure::StepProof {
                step: n,
                old_size: old.size,
                size: cp.size,
                error,
            }),
        }
    }

    // The auditor's own earlier checkpoint: same tree, or linked by a verified step.
    let mut trusted = None;
    if let Some(note) = trusted_checkpoint {
        match key.verify(note) {
            Err(e) => failures.push(BundleFailure::TrustedCheckpoint(e)),
            Ok(t) => {
                see(&t);
                if let Some(cp) = &checkpoint {
                    let same_size_step = step_sizes.contains(&t.size);
                    if t.size > cp.size {
                        failures.push(BundleFailure::TrustedNewer {
                            trusted_size: t.size,
                            size: cp.size,
                        });
                    } else if t.size < cp.size && !same_size_step {
                        failures.push(BundleFailure::TrustedNotLinked {
                            trusted_size: t.size,
                            size: cp.size,
                        });
                    }
                    // Otherwise: equal size is checked by the fork check; a step of the same
                    // size either has the same root (and its proof was checked above) or forks.
                }
                trusted = Some(t);
            }
        }
    }

    for (size, roots) in &signed {
        if roots.len() > 1 {
            failures.push(BundleFailure::Fork { size: *size });
        }
    }

    match checkpoint {
        Some(checkpoint) if failures.is_empty() => {
            let contiguous = bundle.entries.windows(2).all(|w| w[1].index == w[0].index + 1);
            Ok(BundleReport {
                checkpoint,
                entries_verified,
                consistency_verified: linked.len(),
                trusted,
                contiguous,
            })
        }
        _ => Err(failures),
    }
}

/// Why two checkpoints were not shown to be one growing log.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConsistencyError {
    /// The old checkpoint does not verify.
    #[error("old checkpoint: {0}")]
    OldCheckpoint(CheckpointError),
    /// The new checkpoint does not verify.
    #[error("new checkpoint: {0}")]
    NewCheckpoint(CheckpointError),
    /// The "old" checkpoint is the larger one.
    #[error("the old checkpoint (size {old_size}) is larger than the new one (size {new_size})")]
    OldIsNewer {
        /// The old checkpoint's size.
        old_size: u64,
        /// The new checkpoint's size.
        new_size: u64,
    },
    /// Same size, different roots, both validly signed.
    #[error("checkpoints fork: size {size} has two different roots")]
    Fork {
        /// The size with two roots.
        size: u64,
    },
    /// The proof does not link the two trees.
    #[error("the tree of size {new_size} is not proven to extend the tree of size {old_size}: {error}")]
    Proof {
        /// The old checkpoint's size.
        old_size: u64,
        /// The new checkpoint's size.
        new_size: u64,
        /// Why.
        error: VerifyError,
    },
}

/// Checks that the log's signed checkpoint `new_note` extends `old_note` by `proof`
/// (for `art28 log consistency OLD NEW`).
pub fn verify_consistency_notes(
    old_note: &str,
    new_note: &str,
    proof: &[Hash],
    key: &LogVerifier,
) -> Result<(Checkpoint, Checkpoint), ConsistencyError> {
    let old = key.verify(old_note).map_err(ConsistencyError::OldCheckpoint)?;
    let new = key.verify(new_note).map_err(ConsistencyError::NewCheckpoint)?;
    if old.size > new.size {
        return Err(ConsistencyError::OldIsNewer {
            old_size: old.size,
            new_size: new.size,
        });
    }
    if old.size == new.size && old.root != new.root {
        return Err(ConsistencyError::Fork { size: old.size });
    }
    verify_consistency(old.size, new.size, &old.root, &new.root, proof).map_err(|error| ConsistencyError::Proof {
        old_size: old.size,
        new_size: new.size,
        error,
    })?;
    Ok((old, new))
}
