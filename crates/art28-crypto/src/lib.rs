//! Cryptography for the art28 data vault, as a thin layer over audited RustCrypto crates.
//!
//! Nothing here implements a primitive. The building blocks are:
//!
//! - [`seal`] / [`open`]: XChaCha20-Poly1305 with a random 24-byte nonce from the operating system and
//!   caller-supplied associated data, which binds a ciphertext to where it belongs (see [`ad`]).
//! - [`wrap`] / [`unwrap`]: the same AEAD applied to a [`Key`], for the key hierarchy
//!   (master key → tenant/collection keys → data).
//! - [`Key::derive`]: HKDF-SHA256 sub-keys per purpose label.
//! - [`blind_index`] and [`pseudonym`]: HMAC-SHA256 over normalised identifiers, for equality search over encrypted
//!   data and for stable pseudonyms in exports.
//! - [`Keyring`]: the master keys at the root of the hierarchy, with rotation.
//!
//! Secrets ([`Key`], [`MasterKey`], [`Keyring`]) never print their material in `Debug` output and are zeroized
//! when dropped.

#![forbid(unsafe_code)]

mod aead;
mod index;
mod key;
mod keyring;

pub use aead::{open, seal, unwrap, wrap};
pub use index::{ad, blind_index, normalize_email, normalize_id, pseudonym};
pub use key::{KEY_LEN, Key};
pub use keyring::{Keyring, MasterKey};

/// Why a cryptographic operation failed. Messages never contain key material or plaintext.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum CryptoError {
    /// Authentication failed: wrong key, wrong associated data (context), or tampered/truncated ciphertext.
    /// Deliberately indistinguishable from one another.
    #[error("ciphertext does not open with this key and context")]
    Open,
    /// Key material (a keyring file, a wrapped key) is not in the expected shape, or a keyring operation was
    /// refused. The message says where, never what the material was.
    #[error("malformed key material: {0}")]
    Malformed(String),
}

/// Unwraps a result whose error case cannot occur by construction. Every call site states why.
#[allow(
    clippy::expect_used,
    reason = "only used where the error case is impossible; see each call site"
)]
fn infallible<T, E: core::fmt::Debug>(result: Result<T, E>, why: &'static str) -> T {
    result.expect(why)
}
