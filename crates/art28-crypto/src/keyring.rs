//! Master keys, the root of the hierarchy, and the keyring that holds them through rotation.

use core::fmt;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use zeroize::Zeroizing;

use crate::CryptoError;
use crate::key::{KEY_LEN, Key};

/// First two fields of a keyring line.
const LINE_PREFIX: &str = "art28-master-key v1 ";
const MAGIC: &str = "art28-master-key";
const VERSION: &str = "v1";

/// A master key: the root of the key hierarchy, identified by its [`Key::fingerprint`].
///
/// `Debug` shows the id only.
#[derive(Clone)]
pub struct MasterKey {
    /// The key's fingerprint (16 hex characters); safe to log and to store next to what it wraps.
    pub id: String,
    key: Key,
}

impl MasterKey {
    /// A master key, its id computed from the key.
    pub fn new(key: Key) -> Self {
        MasterKey {
            id: key.fingerprint(),
            key,
        }
    }

    /// The secret key.
    pub fn key(&self) -> &Key {
        &self.key
    }
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MasterKey")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

/// The master keys in use: one active key, used for new wraps, and retired keys kept only for unwrapping until
/// everything they wrap has been rewrapped under the active key.
///
/// `Debug` shows ids only.
#[derive(Clone)]
pub struct Keyring {
    active: MasterKey,
    retired: Vec<MasterKey>,
}

impl Keyring {
    /// A keyring from an active key and retired keys. Retired keys with the same id as the active key or an
    /// earlier retired key are dropped.
    pub fn new(active: MasterKey, retired: Vec<MasterKey>) -> Self {
        let mut ring = Keyring {
            active,
            retired: Vec::with_capacity(retired.len()),
        };
        for key in retired {
            if ring.get(&key.id).is_none() {
                ring.retired.push(key);
            }
        }
        ring
    }

    /// The key new wraps are made under.
    pub fn active(&self) -> &MasterKey {
        &self.active
    }

    /// The key (active or retired) with this id.
    pub fn get(&self, id: &str) -> Option<&MasterKey> {
        self.keys().find(|k| k.id == id)
    }

    /// All ids, active first, then retired ones from newest to oldest.
    pub fn ids(&self) -> Vec<String> {
        self.keys().map(|k| k.id.clone()).collect()
    }

    fn keys(&self) -> impl Iterator<Item = &MasterKey> {
        std::iter::once(&self.active).chain(&self.retired)
    }

    /// Parses a keyring file: text, one key per line as `art28-master-key v1 <base64 of 32 bytes>` (standard
    /// alphabet, padded), the first key line being the active key. Blank lines and lines starting with `#`
    /// (after leading whitespace) are ignored.
    ///
    /// Errors are [`CryptoError::Malformed`], naming the 1-based line number but never the key material. A key
    /// that appears twice is an error.
    pub fn parse(text: &str) -> Result<Keyring, CryptoError> {
        let mut keys: Vec<MasterKey> = Vec::new();
        for (index, line) in text.lines().enumerate() {
            let number = index + 1;
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let key = MasterKey::new(parse_line(line).map_err(|what| malformed_line(number, what))?);
            if keys.iter().any(|k| k.id == key.id) {
                return Err(malformed_line(number, "duplicate key"));
            }
            keys.push(key);
        }
        let mut keys = keys.into_iter();
        let active = keys
            .next()
            .ok_or_else(|| CryptoError::Malformed("keyring holds no master key".to_string()))?;
        Ok(Keyring {
            active,
            retired: keys.collect(),
        })
    }

    /// The keyring in the format [`parse`](Keyring::parse) reads, active key first. The text contains the keys, so
    /// it is zeroized on drop; write it only to protected storage.
    pub fn to_text(&self) -> Zeroizing<String> {
        let line_len = LINE_PREFIX.len() + base64::encoded_len(KEY_LEN, true).unwrap_or(0) + 1;
        // Reserved up front so the buffer never reallocates and leaves unzeroized copies behind.
        let mut text = Zeroizing::new(String::with_capacity(line_len * (1 + self.retired.len())));
        for key in self.keys() {
            text.push_str(LINE_PREFIX);
            STANDARD.encode_string(key.key().expose(), &mut text);
            text.push('\n');
        }
        text
    }

    /// A new keyring whose active key is freshly generated and whose retired keys are all current keys (the
    /// current active key first).
    pub fn rotated(&self) -> Keyring {
        let mut retired = Vec::with_capacity(1 + self.retired.len());
        retired.extend(self.keys().cloned());
        Keyring::new(MasterKey::new(Key::generate()), retired)
    }

    /// A new keyring without the retired key `id`, for when everything it wrapped has been rewrapped. Refuses
    /// ([`CryptoError::Malformed`]) to drop the active key or a key it does not hold.
    pub fn without(&self, id: &str) -> Result<Keyring, CryptoError> {
        if self.active.id == id {
            return Err(CryptoError::Malformed(format!(
                "refusing to drop the active master key {id}"
            )));
        }
        if !self.retired.iter().any(|k| k.id == id) {
            return Err(CryptoError::Malformed(format!("no retired master key with id {id}")));
        }
        let retired = self.retired.iter().filter(|k| k.id != id).cloned().collect();
        Ok(Keyring {
            active: self.active.clone(),
            retired,
        })
    }
}

/// One non-blank, non-comment line. The error says what is wrong without quoting the line.
fn parse_line(line: &str) -> Result<Key, &'static str> {
    let mut fields = line.split_whitespace();
    if fields.next() != Some(MAGIC) {
        return Err("expected `art28-master-key v1 <base64>`");
    }
    if fields.next() != Some(VERSION) {
        return Err("unsupported or missing version (expected v1)");
    }
    let encoded = fields.next().ok_or("missing key")?;
    if fields.next().is_some() {
        return Err("unexpected text after the key");
    }
    let mut bytes = Zeroizing::new([0u8; KEY_LEN]);
    // Decoding into a fixed 32-byte buffer: anything that does not decode to exactly 32 bytes is rejected, and the
    // decoder's error (which can quote input bytes) is not passed on.
    let decoded = Zeroizing::new(STANDARD.decode(encoded).map_err(|_| "key is not valid base64")?);
    if decoded.len() != KEY_LEN {
        return Err("key is not 32 bytes");
    }
    bytes.copy_from_slice(&decoded);
    Ok(Key::from_zeroizing(bytes))
}

fn malformed_line(number: usize, what: &str) -> CryptoError {
    CryptoError::Malformed(format!("keyring line {number}: {what}"))
}

impl fmt::Debug for Keyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let retired: Vec<&str> = self.retired.iter().map(|k| k.id.as_str()).collect();
        f.debug_struct("Keyring")
            .field("active", &self.active.id)
            .field("retired", &retired)
            .finish()
    }
}
