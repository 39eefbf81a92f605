//! Signed checkpoints: a C2SP `tlog-checkpoint` body (origin, decimal size, base64 root)
//! wrapped in a C2SP signed note with one Ed25519 signature line:
//!
//! ```text
//! <origin>\n<size>\n<base64 root>\n\n— <key name> <base64(key id ‖ signature)>\n
//! ```
//!
//! The key id is the first 4 bytes of SHA-256(key name ‖ `\n` ‖ 0x01 ‖ public key), as in
//! the signed-note spec, so standard note verifiers accept these checkpoints.

use super::merkle::Hash;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use ring::signature::{Ed25519KeyPair, KeyPair, UnparsedPublicKey, ED25519};

/// Signed-note algorithm byte for Ed25519.
const ALG_ED25519: u8 = 0x01;
const SIG_PREFIX: &str = "\u{2014} ";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckpointError {
    #[error("malformed checkpoint: {0}")]
    Malformed(&'static str),
    #[error("not signed by key {want:?} (signatures by: {found})")]
    WrongKey { want: String, found: String },
    #[error("bad signature by key {0:?}")]
    BadSignature(String),
    #[error("invalid key: {0}")]
    InvalidKey(&'static str),
}

/// The signed statement: the log `origin` has `size` entries with Merkle root `root`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    pub origin: String,
    pub size: u64,
    pub root: Hash,
}

impl Checkpoint {
    /// The note text that is signed.
    pub fn body(&self) -> String {
        format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            B64.encode(self.root)
        )
    }

    /// Parses a body strictly: three lines, no extension lines, canonical decimal size,
    /// padded standard base64 of exactly 32 bytes.
    pub fn parse_body(body: &str) -> Result<Checkpoint, CheckpointError> {
        let mut lines = body
            .strip_suffix('\n')
            .ok_or(CheckpointError::Malformed(
                "body does not end with a newline",
            ))?
            .split('\n');
        let (Some(origin), Some(size), Some(root), None) =
            (lines.next(), lines.next(), lines.next(), lines.next())
        else {
            return Err(CheckpointError::Malformed(
                "body is not exactly origin, size and root lines",
            ));
        };
        if origin.is_empty() || origin.chars().any(char::is_control) {
            return Err(CheckpointError::Malformed("origin line"));
        }
        let canonical = size.bytes().all(|b| b.is_ascii_digit())
            && !size.is_empty()
            && (size == "0" || !size.starts_with('0'));
        let size = canonical
            .then(|| size.parse::<u64>().ok())
            .flatten()
            .ok_or(CheckpointError::Malformed("size line"))?;
        let root = B64
            .decode(root)
            .ok()
            .and_then(|r| Hash::try_from(r).ok())
            .ok_or(CheckpointError::Malformed("root line"))?;
        Ok(Checkpoint {
            origin: origin.to_string(),
            size,
            root,
        })
    }
}

fn check_key_name(name: &str) -> Result<(), CheckpointError> {
    if name.is_empty() || name.contains('+') || name.chars().any(|c| c.is_whitespace()) {
        return Err(CheckpointError::InvalidKey(
            "key name must be non-empty, without spaces or '+'",
        ));
    }
    Ok(())
}

/// A named Ed25519 public key that verifies checkpoints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKey {
    name: String,
    key: [u8; 32],
}

impl PublicKey {
    pub fn new(name: &str, key: [u8; 32]) -> Result<PublicKey, CheckpointError> {
        check_key_name(name)?;
        Ok(PublicKey {
            name: name.to_string(),
            key,
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn bytes(&self) -> &[u8; 32] {
        &self.key
    }

    /// First 4 bytes of SHA-256(name ‖ `\n` ‖ 0x01 ‖ key).
    pub fn key_id(&self) -> [u8; 4] {
        let mut c = ring::digest::Context::new(&ring::digest::SHA256);
        c.update(self.name.as_bytes());
        c.update(b"\n");
        c.update(&[ALG_ED25519]);
        c.update(&self.key);
        c.finish().as_ref()[..4].try_into().expect("4 bytes")
    }

    /// The signed-note verifier key: `<name>+<hex key id>+<base64(0x01 ‖ key)>`.
    pub fn to_vkey(&self) -> String {
        let mut k = vec![ALG_ED25519];
        k.extend_from_slice(&self.key);
        format!(
            "{}+{}+{}",
            self.name,
            hex::encode(self.key_id()),
            B64.encode(k)
        )
    }

    pub fn from_vkey(s: &str) -> Result<PublicKey, CheckpointError> {
        // Base64 may contain '+': the name and the hex id cannot.
        let mut parts = s.trim_end_matches('\n').splitn(3, '+');
        let (Some(name), Some(id), Some(key), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(CheckpointError::InvalidKey("expected name+id+key"));
        };
        let raw = B64
            .decode(key)
            .map_err(|_| CheckpointError::InvalidKey("key is not base64"))?;
        let key: [u8; 32] = match raw.split_first() {
            Some((&ALG_ED25519, k)) => k
                .try_into()
                .map_err(|_| CheckpointError::InvalidKey("Ed25519 key is not 32 bytes"))?,
            _ => return Err(CheckpointError::InvalidKey("not an Ed25519 key")),
        };
        let pk = PublicKey::new(name, key)?;
        if hex::encode(pk.key_id()) != id {
            return Err(CheckpointError::InvalidKey("key id does not match the key"));
        }
        Ok(pk)
    }
}

/// The log's signing key.
pub struct SigningKey {
    name: String,
    pair: Ed25519KeyPair,
}

impl SigningKey {
    /// A new random Ed25519 key as PKCS#8 bytes, to store and load with [`from_pkcs8`].
    ///
    /// [`from_pkcs8`]: SigningKey::from_pkcs8
    pub fn generate_pkcs8() -> Result<Vec<u8>, CheckpointError> {
        let rng = ring::rand::SystemRandom::new();
        Ed25519KeyPair::generate_pkcs8(&rng)
            .map(|d| d.as_ref().to_vec())
            .map_err(|_| CheckpointError::InvalidKey("key generation failed"))
    }

    pub fn from_pkcs8(name: &str, pkcs8: &[u8]) -> Result<SigningKey, CheckpointError> {
        check_key_name(name)?;
        let pair = Ed25519KeyPair::from_pkcs8(pkcs8)
            .map_err(|_| CheckpointError::InvalidKey("not an Ed25519 PKCS#8 key"))?;
        Ok(SigningKey {
            name: name.to_string(),
            pair,
        })
    }

    /// A key from its 32-byte Ed25519 seed (deterministic keys for tests and fixtures).
    pub fn from_seed(name: &str, seed: &[u8; 32]) -> Result<SigningKey, CheckpointError> {
        check_key_name(name)?;
        let pair = Ed25519KeyPair::from_seed_unchecked(seed)
            .map_err(|_| CheckpointError::InvalidKey("bad Ed25519 seed"))?;
        Ok(SigningKey {
            name: name.to_string(),
            pair,
        })
    }

    pub fn public_key(&self) -> PublicKey {
        let key = self
            .pair
            .public_key()
            .as_ref()
            .try_into()
            .expect("32 bytes");
        PublicKey {
            name: self.name.clone(),
            key,
        }
    }

    /// The signed note text of a checkpoint.
    pub fn sign(&self, cp: &Checkpoint) -> String {
        self.sign_text(&cp.body())
    }

    /// Any text (ending with a newline) as a signed note: the text, a blank line, and
    /// this key's signature line. Used for checkpoints and for the open-data
    /// `SHA256SUMS`.
    pub fn sign_text(&self, body: &str) -> String {
        let mut sig = self.public_key().key_id().to_vec();
        sig.extend_from_slice(self.pair.sign(body.as_bytes()).as_ref());
        format!("{body}\n{SIG_PREFIX}{} {}\n", self.name, B64.encode(sig))
    }
}

/// Checks `key`'s signature on a signed note made by [`SigningKey::sign_text`] and
/// returns the signed text.
pub fn verify_note<'a>(note: &'a str, key: &PublicKey) -> Result<&'a str, CheckpointError> {
    let split = note.find("\n\n").ok_or(CheckpointError::Malformed(
        "no blank line before signatures",
    ))?;
    let body = &note[..split + 1];
    check_signatures(body, &note[split + 2..], key)?;
    Ok(body)
}

/// Parses a signed checkpoint and checks the signature of `key` on it. Signature lines of
/// other keys are allowed (cosigners) and ignored.
pub fn verify_checkpoint(note: &str, key: &PublicKey) -> Result<Checkpoint, CheckpointError> {
    let split = note.find("\n\n").ok_or(CheckpointError::Malformed(
        "no blank line before signatures",
    ))?;
    let (body, sigs) = (&note[..split + 1], &note[split + 2..]);
    let cp = Checkpoint::parse_body(body)?;
    check_signatures(body, sigs, key)?;
    Ok(cp)
}

fn check_signatures(body: &str, sigs: &str, key: &PublicKey) -> Result<(), CheckpointError> {
    let sigs = sigs
        .strip_suffix('\n')
        .ok_or(CheckpointError::Malformed("does not end with a newline"))?;
    // Every line must be well-formed before any is trusted.
    let mut lines = Vec::new();
    for line in sigs.split('\n') {
        let (name, sig) = line
            .strip_prefix(SIG_PREFIX)
            .and_then(|l| l.split_once(' '))
            .ok_or(CheckpointError::Malformed("signature line"))?;
        let sig = B64
            .decode(sig)
            .map_err(|_| CheckpointError::Malformed("signature is not base64"))?;
        if name.is_empty() || sig.len() < 5 {
            return Err(CheckpointError::Malformed("signature line"));
        }
        lines.push((name, sig));
    }
    let mut found = Vec::new();
    for (name, sig) in lines {
        if name != key.name || sig[..4] != key.key_id() {
            found.push(format!("{name} ({})", hex::encode(&sig[..4])));
            continue;
        }
        return UnparsedPublicKey::new(&ED25519, &key.key)
            .verify(body.as_bytes(), &sig[4..])
            .map_err(|_| CheckpointError::BadSignature(key.name.clone()));
    }
    Err(CheckpointError::WrongKey {
        want: format!("{} ({})", key.name, hex::encode(key.key_id())),
        found: found.join(", "),
    })
}
