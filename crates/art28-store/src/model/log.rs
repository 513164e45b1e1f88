//! The access log: where an entry landed, entries read back, signed checkpoints.

use jiff::Timestamp;

/// A result together with the access entry written with it.
#[derive(Debug, Clone, PartialEq)]
pub struct Logged<T> {
    /// The result.
    pub value: T,
    /// Where its access entry landed.
    pub receipt: crate::LogReceipt,
}

/// A signed checkpoint of the access log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCheckpoint {
    /// Tree size.
    pub size: u64,
    /// Root hash.
    pub root: [u8; 32],
    /// The signed note (C2SP tlog-checkpoint).
    pub note: String,
    /// When it was signed.
    pub signed_at: Timestamp,
}

/// An entry read back from the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedEntry {
    /// Leaf index.
    pub index: u64,
    /// The exact leaf bytes.
    pub bytes: Vec<u8>,
}

/// Where an entry landed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogReceipt {
    /// Its leaf index in the log.
    pub index: u64,
    /// Its access id.
    pub access_id: String,
}
