//! Authenticated encryption (XChaCha20-Poly1305) of data and of keys.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::RngCore;
use zeroize::Zeroizing;

use crate::key::{KEY_LEN, Key};
use crate::{CryptoError, ad, infallible};

/// XChaCha20 nonce length.
const NONCE_LEN: usize = 24;
/// Poly1305 tag length.
const TAG_LEN: usize = 16;
/// Domain tag for the associated data of wrapped keys.
const WRAP_TAG: &[u8] = b"art28/wrap/v1";

fn cipher(key: &Key) -> XChaCha20Poly1305 {
    XChaCha20Poly1305::new(key.expose().into())
}

/// Seals `plaintext` with XChaCha20-Poly1305 under `key`.
///
/// Output: 24-byte random nonce ‖ ciphertext ‖ 16-byte tag (so 40 bytes longer than the plaintext). `ad` is
/// authenticated but not encrypted; [`open`] must be given the same bytes. Build it with [`ad`](crate::ad) from
/// everything that says where the ciphertext belongs (tenant, collection, record, field) so it cannot be moved.
///
/// The nonce is drawn from the thread's CSPRNG (`rand::rng()`: ChaCha12, seeded and periodically reseeded from the
/// operating system), which saves a system call per field; with 192-bit nonces random collisions are negligible.
/// Keys themselves still come straight from the operating system.
pub fn seal(key: &Key, plaintext: &[u8], ad: &[u8]) -> Vec<u8> {
    let mut nonce = [0u8; NONCE_LEN];
    rand::rng().fill_bytes(&mut nonce);
    let nonce = XNonce::from(nonce);
    // Encryption only fails for plaintexts beyond XChaCha20's 256 GiB per-nonce limit, larger than any buffer
    // this crate is handed.
    let ciphertext = infallible(
        cipher(key).encrypt(
            &nonce,
            Payload {
                msg: plaintext,
                aad: ad,
            },
        ),
        "XChaCha20-Poly1305 plaintext within the per-nonce limit",
    );
    let mut out = Vec::with_capacity(NONCE_LEN + ciphertext.len());
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&ciphertext);
    out
}

/// Opens the output of [`seal`], checking it against `key` and `ad`.
///
/// Returns the plaintext in a [`Zeroizing`] buffer, wiped when dropped (it is personal data); use `&*` or
/// `.to_vec()` where a plain slice or vector is needed. Any wrong key, wrong `ad`, truncation or modification gives
/// [`CryptoError::Open`], without saying which.
pub fn open(key: &Key, sealed: &[u8], ad: &[u8]) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    if sealed.len() < NONCE_LEN + TAG_LEN {
        return Err(CryptoError::Open);
    }
    let (nonce, ciphertext) = sealed.split_at(NONCE_LEN);
    let nonce = XNonce::from_slice(nonce);
    cipher(key)
        .decrypt(
            nonce,
            Payload {
                msg: ciphertext,
                aad: ad,
            },
        )
        .map(Zeroizing::new)
        .map_err(|_| CryptoError::Open)
}

/// Wraps (encrypts) `key` under the key-encryption key `kek`: a [`seal`] of the 32 key bytes with associated data
/// `ad(&[b"art28/wrap/v1", context])`.
///
/// `context` names what the wrapped key is for (e.g. tenant and collection) and must be given again to
/// [`unwrap`]. The output is 72 bytes.
pub fn wrap(kek: &Key, key: &Key, context: &[u8]) -> Vec<u8> {
    seal(kek, key.expose(), &ad(&[WRAP_TAG, context]))
}

/// Unwraps the output of [`wrap`] with the same `kek` and `context`.
///
/// [`CryptoError::Open`] if it does not authenticate; [`CryptoError::Malformed`] if it does but does not hold a
/// 32-byte key.
pub fn unwrap(kek: &Key, wrapped: &[u8], context: &[u8]) -> Result<Key, CryptoError> {
    let plaintext = open(kek, wrapped, &ad(&[WRAP_TAG, context]))?;
    let mut bytes = Zeroizing::new([0u8; KEY_LEN]);
    if plaintext.len() != KEY_LEN {
        return Err(CryptoError::Malformed(format!(
            "wrapped key holds {} bytes, expected {KEY_LEN}",
            plaintext.len()
        )));
    }
    bytes.copy_from_slice(&plaintext);
    Ok(Key::from_zeroizing(bytes))
}
