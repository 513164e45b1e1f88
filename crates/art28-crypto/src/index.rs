//! Associated data, blind indexes, pseudonyms, and the normalisers applied before indexing.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use unicode_normalization::UnicodeNormalization;

use crate::infallible;
use crate::key::Key;

type HmacSha256 = Hmac<Sha256>;

/// Domain tag for [`blind_index`].
const BLIND_TAG: &[u8] = b"art28/blind/v1";
/// Domain tag for [`pseudonym`].
const PSEUDONYM_TAG: &[u8] = b"art28/pseudonym/v1";

/// Unambiguous associated data (or MAC input) from parts: each part encoded as its length (`u32`, big-endian)
/// followed by its bytes, concatenated.
///
/// The first part should be a versioned domain tag naming the purpose, e.g.
/// `ad(&[b"art28/field/v1", tenant, collection, record, field])`, so that encodings for different purposes never
/// coincide. Because every part is length-prefixed, no two different lists of parts encode the same.
///
/// # Panics
///
/// If a part is 4 GiB or longer (not representable in the `u32` length prefix).
pub fn ad(parts: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::with_capacity(parts.iter().map(|p| 4 + p.len()).sum());
    for part in parts {
        let len = infallible(u32::try_from(part.len()), "associated-data part shorter than 4 GiB");
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(part);
    }
    out
}

fn hmac(key: &Key, message: &[u8]) -> [u8; 32] {
    // HMAC accepts keys of any length; `new_from_slice` never fails for it.
    let mut mac = infallible(HmacSha256::new_from_slice(key.expose()), "HMAC accepts any key length");
    mac.update(message);
    mac.finalize().into_bytes().into()
}

/// Keyed blind index for equality search over encrypted data: HMAC-SHA256(`key`,
/// `ad(&[b"art28/blind/v1", kind, normalized])`).
///
/// `kind` separates identifier types (e.g. `"email"`, `"phone"`); `normalized` must already be passed through the
/// matching normaliser ([`normalize_email`], [`normalize_id`]; phone numbers are read to E.164 by
/// `art28_core::vault::normalize_phone`, a rule of the domain rather than of cryptography). Use a key derived for
/// this purpose only (see [`Key::derive`]).
pub fn blind_index(key: &Key, kind: &str, normalized: &str) -> [u8; 32] {
    hmac(key, &ad(&[BLIND_TAG, kind.as_bytes(), normalized.as_bytes()]))
}

/// Keyed pseudonym for exports: `"ps_"` followed by the first 16 bytes of HMAC-SHA256(`key`,
/// `ad(&[b"art28/pseudonym/v1", kind, value])`) as 32 lowercase hex characters.
///
/// Stable for the same key, kind and value; unlinkable across keys. Normalise `value` first if variants of the
/// same identifier should map to one pseudonym.
pub fn pseudonym(key: &Key, kind: &str, value: &str) -> String {
    let mac = hmac(key, &ad(&[PSEUDONYM_TAG, kind.as_bytes(), value.as_bytes()]));
    format!("ps_{}", hex::encode(&mac[..16]))
}

/// Normalises an e-mail address for indexing: surrounding whitespace trimmed, lowercased, in
/// Unicode NFC, so the composed and decomposed spellings of `josé@…` find the same record.
pub fn normalize_email(s: &str) -> String {
    s.trim().to_lowercase().nfc().collect()
}

/// Normalises a generic identifier for indexing: surrounding whitespace trimmed, in Unicode
/// NFC (canonically equal spellings are one identifier); case is kept.
pub fn normalize_id(s: &str) -> String {
    s.trim().nfc().collect()
}
