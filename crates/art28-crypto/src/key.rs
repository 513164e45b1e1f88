//! The 256-bit secret key type.

use core::fmt;

use hkdf::Hkdf;
use rand::rngs::OsRng;
use rand::{RngCore, TryRngCore};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::infallible;

/// Length in bytes of every key in the hierarchy.
pub const KEY_LEN: usize = 32;

/// Domain tag for [`Key::fingerprint`].
const KEY_ID_TAG: &[u8] = b"art28/key-id/v1";

/// A 256-bit secret key.
///
/// `Debug` prints `Key(..)`; the bytes are zeroized on drop (clones too, each its own copy).
#[derive(Clone)]
pub struct Key(Zeroizing<[u8; KEY_LEN]>);

impl Key {
    /// A fresh key from the operating system's random number generator.
    pub fn generate() -> Key {
        let mut bytes = Zeroizing::new([0u8; KEY_LEN]);
        OsRng.unwrap_err().fill_bytes(bytes.as_mut_slice());
        Key(bytes)
    }

    /// A key from raw bytes. The caller's copy is not zeroized by this; prefer passing a temporary.
    pub fn from_bytes(bytes: [u8; KEY_LEN]) -> Key {
        Key(Zeroizing::new(bytes))
    }

    /// A key taking over an already-zeroizing buffer.
    pub(crate) fn from_zeroizing(bytes: Zeroizing<[u8; KEY_LEN]>) -> Key {
        Key(bytes)
    }

    /// The raw key bytes. Meant for producing wrapped or otherwise protected forms only; never log or store these.
    pub fn expose(&self) -> &[u8; KEY_LEN] {
        &self.0
    }

    /// A sub-key for one purpose: HKDF-SHA256 (RFC 5869) with this key as input key material, no salt, and
    /// `label` as info, e.g. `derive(b"art28/blind-index/v1")`.
    ///
    /// Deterministic; distinct labels give independent keys. Labels should be versioned, domain-tagged constants.
    pub fn derive(&self, label: &[u8]) -> Key {
        let hkdf = Hkdf::<Sha256>::new(None, self.expose());
        let mut okm = Zeroizing::new([0u8; KEY_LEN]);
        // HKDF-Expand only fails for outputs longer than 255 * 32 bytes; this is 32.
        infallible(
            hkdf.expand(label, okm.as_mut_slice()),
            "HKDF-SHA256 can always expand 32 bytes",
        );
        Key(okm)
    }

    /// A short public identifier: the first 8 bytes of SHA-256(`"art28/key-id/v1"` ‖ key), as 16 lowercase hex
    /// characters. Safe to log and store next to wrapped keys.
    pub fn fingerprint(&self) -> String {
        let mut hasher = Sha256::new();
        hasher.update(KEY_ID_TAG);
        hasher.update(self.expose());
        let digest = hasher.finalize();
        hex::encode(&digest[..8])
    }
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Key(..)")
    }
}
