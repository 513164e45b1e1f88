//! Signed checkpoints: C2SP `tlog-checkpoint` bodies in C2SP `signed-note` envelopes, Ed25519.
//!
//! A checkpoint commits the log to its first `size` entries by their Merkle root. The text
//! formats are the ones Go's `golang.org/x/mod/sumdb/note`, the Certificate Transparency
//! static-API logs and the witness network use, so a third party can check our checkpoints
//! with their own tools, given only the verifier key string:
//!
//! ```text
//! art28.example/log                      ← origin (= the key name)
//! 1234                                   ← tree size, decimal
//! 9E3dBzU7TrjQyM2f…=                     ← base64 of the root hash
//!                                        ← blank line ends the body
//! — art28.example/log AbCdEf…            ← key id (4 bytes) ‖ Ed25519 signature, base64
//! ```
//!
//! Parsing is strict: anything that is not exactly this shape is refused with a reason, because
//! a lenient verifier is one an attacker gets to negotiate with.

use std::fmt;
use std::str::FromStr;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::merkle::Hash;

/// The signed-note algorithm byte for Ed25519.
const ALG_ED25519: u8 = 0x01;
/// The signature line prefix: an em dash (U+2014) and a space.
const SIG_PREFIX: &str = "\u{2014} ";
/// Notes larger than this are refused unread; ours are a few hundred bytes.
const MAX_NOTE_BYTES: usize = 64 * 1024;

/// A log's commitment to its first `size` entries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// The log's name; also the name of the key that signs it.
    pub origin: String,
    /// How many entries the tree holds.
    pub size: u64,
    /// The Merkle root of those entries.
    pub root: Hash,
}

impl Checkpoint {
    /// The C2SP checkpoint body: `"{origin}\n{size}\n{base64(root)}\n"`.
    pub fn body(&self) -> String {
        format!("{}\n{}\n{}\n", self.origin, self.size, BASE64.encode(self.root))
    }

    /// Parses a checkpoint body strictly: exactly three lines, a decimal size without leading
    /// zeros, a canonical base64 root of 32 bytes. art28 logs write no extension lines, so
    /// any are refused.
    pub fn parse_body(text: &str) -> Result<Checkpoint, CheckpointError> {
        let bad = |why: &str| CheckpointError::MalformedCheckpoint(why.to_owned());
        let Some(text) = text.strip_suffix('\n') else {
            return Err(bad("the body does not end with a newline"));
        };
        let mut lines = text.split('\n');
        let origin = lines.next().unwrap_or_default();
        let (Some(size), Some(root_line)) = (lines.next(), lines.next()) else {
            return Err(bad("the body needs three lines: origin, tree size, root hash"));
        };
        if lines.next().is_some() {
            return Err(bad(
                "unexpected lines after the root hash (art28 checkpoints have no extension lines)",
            ));
        }
        if origin.is_empty() {
            return Err(bad("the origin line is empty"));
        }
        if size.is_empty() || !size.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad("the tree size is not a decimal number"));
        }
        if size.len() > 1 && size.starts_with('0') {
            return Err(bad("the tree size has a leading zero"));
        }
        let size: u64 = size.parse().map_err(|_| bad("the tree size does not fit in 64 bits"))?;
        let decoded = BASE64
            .decode(root_line)
            .map_err(|_| bad("the root hash is not standard base64"))?;
        let root: Hash = decoded.try_into().map_err(|_| bad("the root hash is not 32 bytes"))?;
        if BASE64.encode(root) != root_line {
            return Err(bad("the root hash is not canonical base64"));
        }
        Ok(Checkpoint {
            origin: origin.to_owned(),
            size,
            root,
        })
    }
}

/// Why a note, checkpoint or key was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckpointError {
    /// The signed-note envelope is not well formed.
    #[error("malformed note: {0}")]
    MalformedNote(String),
    /// The note body is not a well-formed checkpoint.
    #[error("malformed checkpoint: {0}")]
    MalformedCheckpoint(String),
    /// No signature line carries the expected key's name and id.
    #[error("not signed by key {key} (signatures found: {found})")]
    UnknownKey {
        /// The expected key, as `name+keyid`.
        key: String,
        /// The keys that did sign, as `name+keyid`, comma separated.
        found: String,
    },
    /// A signature line names the key but the signature is wrong.
    #[error("signature does not verify with key {key}")]
    BadSignature {
        /// The key, as `name+keyid`.
        key: String,
    },
    /// The checkpoint names a different log than the key.
    #[error("checkpoint is for log {origin:?} but the key is for log {key_name:?}")]
    OriginMismatch {
        /// The checkpoint's origin line.
        origin: String,
        /// The key's name.
        key_name: String,
    },
    /// Text handed to the signer would not make a well-formed note.
    #[error("cannot sign: {0}")]
    Unsignable(String),
}

/// Why a key name, verifier key or secret key was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// Key names must be non-empty and hold no whitespace or `+` (C2SP signed-note).
    #[error("invalid key name {0:?}: it must be non-empty without spaces or '+'")]
    InvalidName(String),
    /// The verifier key text is not `name+keyid+base64key`.
    #[error("malformed verifier key: {0}")]
    Malformed(&'static str),
    /// The key id in the text is not the one the name and key give.
    #[error("verifier key id {stated} does not match the key (expected {computed})")]
    KeyIdMismatch {
        /// The id written in the key text.
        stated: String,
        /// The id computed from name and key.
        computed: String,
    },
    /// The key is not an Ed25519 key.
    #[error("unsupported signature algorithm {0:#04x} (only Ed25519, 0x01, is supported)")]
    UnsupportedAlgorithm(u8),
    /// The operating system's random number generator failed.
    #[error("the operating system's random number generator failed: {0}")]
    Random(String),
}

/// Whether `name` may name a signed-note key.
fn valid_key_name(name: &str) -> bool {
    !name.is_empty() && !name.chars().any(|c| c.is_whitespace() || c == '+')
}

/// The signed-note key id: the first 4 bytes of SHA-256(name ‖ "\n" ‖ 0x01 ‖ public key).
fn key_id(name: &str, key: &VerifyingKey) -> u32 {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update(b"\n");
    h.update([ALG_ED25519]);
    h.update(key.as_bytes());
    let d = h.finalize();
    u32::from_be_bytes([d[0], d[1], d[2], d[3]])
}

/// The log's signing key. `Debug` shows the name and key id, never the secret.
pub struct LogSigner {
    name: String,
    key: SigningKey,
}

impl fmt::Debug for LogSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LogSigner")
            .field("key", &self.verifier().label())
            .field("secret", &"<redacted>")
            .finish()
    }
}

impl LogSigner {
    /// A fresh key from the operating system's random number generator.
    pub fn generate(name: &str) -> Result<LogSigner, KeyError> {
        let mut seed = Zeroizing::new([0u8; 32]);
        getrandom::fill(seed.as_mut()).map_err(|e| KeyError::Random(e.to_string()))?;
        Self::from_bytes(name, &seed)
    }

    /// The key with the given 32-byte Ed25519 secret (seed), as written by
    /// [`LogSigner::secret_bytes`].
    pub fn from_bytes(name: &str, secret: &[u8; 32]) -> Result<LogSigner, KeyError> {
        if !valid_key_name(name) {
            return Err(KeyError::InvalidName(name.to_owned()));
        }
        Ok(LogSigner {
            name: name.to_owned(),
            key: SigningKey::from_bytes(secret),
        })
    }

    /// The key name (= the log's origin).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The 32-byte secret, for writing the key file. Wiped from memory when dropped.
    pub fn secret_bytes(&self) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(self.key.to_bytes())
    }

    /// The public half, to hand to auditors.
    pub fn verifier(&self) -> LogVerifier {
        LogVerifier::new(&self.name, self.key.verifying_key())
    }

    /// A checkpoint of this log (origin = the key name).
    pub fn checkpoint(&self, size: u64, root: Hash) -> Checkpoint {
        Checkpoint {
            origin: self.name.clone(),
            size,
            root,
        }
    }

    /// Signs a checkpoint, giving the signed note.
    pub fn sign(&self, cp: &Checkpoint) -> String {
        self.sign_body(&cp.body())
    }

    /// Signs arbitrary signed-note text (non-empty, newline-terminated, no control characters
    /// but newlines, no blank line at the end). [`LogSigner::sign`] is what a log uses; this is
    /// the underlying signed-note operation, kept public for interoperability tests.
    pub fn sign_text(&self, text: &str) -> Result<String, CheckpointError> {
        check_note_text(text).map_err(CheckpointError::Unsignable)?;
        Ok(self.sign_body(text))
    }

    fn sign_body(&self, text: &str) -> String {
        let signature = self.key.sign(text.as_bytes());
        let id = key_id(&self.name, &self.key.verifying_key());
        let mut blob = Vec::with_capacity(4 + 64);
        blob.extend_from_slice(&id.to_be_bytes());
        blob.extend_from_slice(&signature.to_bytes());
        format!("{text}\n{SIG_PREFIX}{} {}\n", self.name, BASE64.encode(blob))
    }
}

/// Checks what signed-note requires of note text.
fn check_note_text(text: &str) -> Result<(), String> {
    if text.is_empty() {
        return Err("the text is empty".to_owned());
    }
    if !text.ends_with('\n') {
        return Err("the text does not end with a newline".to_owned());
    }
    if text.ends_with("\n\n") || text == "\n" {
        return Err("the text ends with a blank line".to_owned());
    }
    if text.chars().any(|c| c.is_ascii_control() && c != '\n') {
        return Err("the text holds a control character".to_owned());
    }
    Ok(())
}

/// A log's public key with its name: what an auditor needs to check checkpoints.
#[derive(Clone, PartialEq, Eq)]
pub struct LogVerifier {
    name: String,
    key: VerifyingKey,
    id: u32,
}

impl fmt::Debug for LogVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("LogVerifier").field(&self.to_vkey()).finish()
    }
}

impl fmt::Display for LogVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_vkey())
    }
}

/// A signature line, split but not yet checked.
struct SignatureLine<'a> {
    name: &'a str,
    id: u32,
    signature: Vec<u8>,
}

impl LogVerifier {
    fn new(name: &str, key: VerifyingKey) -> Self {
        LogVerifier {
            name: name.to_owned(),
            id: key_id(name, &key),
            key,
        }
    }

    /// The key name (= the log's origin).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The signed-note key id.
    pub fn key_id(&self) -> u32 {
        self.id
    }

    /// `name+keyid`: how messages name this key.
    pub fn label(&self) -> String {
        format!("{}+{:08x}", self.name, self.id)
    }

    /// The verifier key text, `"{name}+{keyid}+{base64(0x01 ‖ public key)}"`, as Go's `note`
    /// package and C2SP tools read it.
    pub fn to_vkey(&self) -> String {
        let mut material = Vec::with_capacity(33);
        material.push(ALG_ED25519);
        material.extend_from_slice(self.key.as_bytes());
        format!("{}+{}", self.label(), BASE64.encode(material))
    }

    /// Checks the note's signature by this key and returns its text (the signed body).
    pub fn open<'n>(&self, note: &'n str) -> Result<&'n str, CheckpointError> {
        let (text, lines) = split_note(note)?;
        let mut matched = false;
        for line in &lines {
            if line.name != self.name || line.id != self.id {
                continue;
            }
            matched = true;
            let signature = <[u8; 64]>::try_from(line.signature.as_slice())
                .map(|b| Signature::from_bytes(&b))
                .map_err(|_| CheckpointError::BadSignature { key: self.label() })?;
            self.key
                .verify_strict(text.as_bytes(), &signature)
                .map_err(|_| CheckpointError::BadSignature { key: self.label() })?;
        }
        if !matched {
            let found: Vec<String> = lines.iter().map(|l| format!("{}+{:08x}", l.name, l.id)).collect();
            return Err(CheckpointError::UnknownKey {
                key: self.label(),
                found: found.join(", "),
            });
        }
        Ok(text)
    }

    /// Checks a signed checkpoint: the note's shape, this key's signature, the body's shape and
    /// that the checkpoint is of this key's log.
    pub fn verify(&self, note: &str) -> Result<Checkpoint, CheckpointError> {
        let text = self.open(note)?;
        let cp = Checkpoint::parse_body(text)?;
        if cp.origin != self.name {
            return Err(CheckpointError::OriginMismatch {
                origin: cp.origin,
                key_name: self.name.clone(),
            });
        }
        Ok(cp)
    }
}

/// Splits a signed note into its text and signature lines, refusing anything malformed.
fn split_note(note: &str) -> Result<(&str, Vec<SignatureLine<'_>>), CheckpointError> {
    let bad = |why: &str| CheckpointError::MalformedNote(why.to_owned());
    if note.len() > MAX_NOTE_BYTES {
        return Err(bad("the note is too large"));
    }
    if note.chars().any(|c| c.is_ascii_control() && c != '\n') {
        return Err(bad("the note holds a control character"));
    }
    let Some(split) = note.rfind("\n\n") else {
        return Err(bad("no blank line between the text and the signatures"));
    };
    let text = &note[..=split];
    let block = &note[split + 2..];
    let Some(block) = block.strip_suffix('\n') else {
        return Err(bad("the signature block does not end with a newline"));
    };
    if block.is_empty() {
        return Err(bad("the note has no signatures"));
    }
    let mut lines = Vec::new();
    for line in block.split('\n') {
        let Some(rest) = line.strip_prefix(SIG_PREFIX) else {
            return Err(bad("a signature line does not start with \"\u{2014} \""));
        };
        let Some((name, b64)) = rest.split_once(' ') else {
            return Err(bad("a signature line has no space between key name and signature"));
        };
        if !valid_key_name(name) {
            return Err(bad("a signature line has an invalid key name"));
        }
        let blob = BASE64
            .decode(b64)
            .map_err(|_| bad("a signature is not standard base64"))?;
        let [a, b, c, d, signature @ ..] = blob.as_slice() else {
            return Err(bad("a signature is shorter than its key id"));
        };
        lines.push(SignatureLine {
            name,
            id: u32::from_be_bytes([*a, *b, *c, *d]),
            signature: signature.to_vec(),
        });
    }
    Ok((text, lines))
}

impl FromStr for LogVerifier {
    type Err = KeyError;

    fn from_str(vkey: &str) -> Result<Self, KeyError> {
        let (name, rest) = vkey
            .split_once('+')
            .ok_or(KeyError::Malformed("expected name+keyid+key"))?;
        let (id_hex, key_b64) = rest
            .split_once('+')
            .ok_or(KeyError::Malformed("expected name+keyid+key"))?;
        if !valid_key_name(name) {
            return Err(KeyError::InvalidName(name.to_owned()));
        }
        if id_hex.len() != 8 || !id_hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(KeyError::Malformed("the key id is not 8 hex digits"));
        }
        let stated = u32::from_str_radix(id_hex, 16).map_err(|_| KeyError::Malformed("bad key id"))?;
        let material = BASE64
            .decode(key_b64)
            .map_err(|_| KeyError::Malformed("the key is not standard base64"))?;
        let Some((&alg, public)) = material.split_first() else {
            return Err(KeyError::Malformed("the key is empty"));
        };
        if alg != ALG_ED25519 {
            return Err(KeyError::UnsupportedAlgorithm(alg));
        }
        let public: [u8; 32] = public
            .try_into()
            .map_err(|_| KeyError::Malformed("an Ed25519 public key is 32 bytes"))?;
        let key =
            VerifyingKey::from_bytes(&public).map_err(|_| KeyError::Malformed("not a valid Ed25519 public key"))?;
        let verifier = LogVerifier::new(name, key);
        if verifier.id != stated {
            return Err(KeyError::KeyIdMismatch {
                stated: id_hex.to_owned(),
                computed: format!("{:08x}", verifier.id),
            });
        }
        Ok(verifier)
    }
}

/// The checkpoint in a note, without checking any signature: only for reporting more than one
/// fault at once after the signature has already been found bad.
pub(crate) fn read_unverified(note: &str) -> Option<Checkpoint> {
    let (text, _) = split_note(note).ok()?;
    Checkpoint::parse_body(text).ok()
}
