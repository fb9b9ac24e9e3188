//! Secrets at rest: AES-256-GCM with a random nonce per value, bound to its row through associated data
//! (so a ciphertext copied onto another row does not decrypt). Also the key file of the embedded default.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use anyhow::{Context, bail};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;

const NONCE_LEN: usize = 12;

/// The master key. Its Debug never shows the bytes.
#[derive(Clone)]
pub struct MasterKey([u8; 32]);

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey(***)")
    }
}

impl MasterKey {
    pub fn from_base64(s: &SecretString) -> anyhow::Result<Self> {
        let bytes = STANDARD
            .decode(s.expose_secret().trim())
            .context("the secrets key is not valid base64")?;
        let arr: [u8; 32] = bytes
            .try_into()
            .map_err(|_| anyhow::anyhow!("the secrets key must be 32 bytes"))?;
        Ok(Self(arr))
    }

    pub fn generate() -> Self {
        let mut k = [0u8; 32];
        rand::rng().fill_bytes(&mut k);
        Self(k)
    }

    pub fn to_base64(&self) -> String {
        STANDARD.encode(self.0)
    }

    /// Reads `path`, or creates it (mode 0600) with a new key. Returns whether it was created.
    pub fn load_or_create(path: &Path) -> anyhow::Result<(Self, bool)> {
        if path.exists() {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            return Ok((Self::from_base64(&SecretString::from(text))?, false));
        }
        let key = Self::generate();
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)
            .with_context(|| format!("creating {}", path.display()))?;
        f.write_all(key.to_base64().as_bytes())?;
        f.sync_all()?;
        Ok((key, true))
    }

    /// A sub-key for one purpose, so that the JWT signing key and the encryption key are independent.
    pub fn derive(&self, purpose: &str) -> [u8; 32] {
        let mut mac =
            <Hmac<Sha256> as Mac>::new_from_slice(&self.0).expect("HMAC takes keys of any length");
        mac.update(purpose.as_bytes());
        mac.finalize().into_bytes().into()
    }

    pub fn cipher(&self) -> SecretBox {
        SecretBox {
            cipher: Aes256Gcm::new((&self.derive("pgward/secrets/v1")).into()),
        }
    }
}

/// Encrypts and decrypts secrets stored in the catalog.
#[derive(Clone)]
pub struct SecretBox {
    cipher: Aes256Gcm,
}

impl SecretBox {
    pub fn seal(&self, plaintext: &str, aad: &str) -> anyhow::Result<Vec<u8>> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rng().fill_bytes(&mut nonce);
        let ct = self
            .cipher
            .encrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: plaintext.as_bytes(),
                    aad: aad.as_bytes(),
                },
            )
            .map_err(|_| anyhow::anyhow!("encryption failed"))?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&ct);
        Ok(out)
    }

    /// Opens a sealed secret and seals it again under `to` (key rotation).
    pub fn reseal(&self, to: &SecretBox, sealed: &[u8], aad: &str) -> anyhow::Result<Vec<u8>> {
        use secrecy::ExposeSecret;
        to.seal(self.open(sealed, aad)?.expose_secret(), aad)
    }

    pub fn open(&self, sealed: &[u8], aad: &str) -> anyhow::Result<SecretString> {
        if sealed.len() <= NONCE_LEN {
            bail!("sealed secret is truncated");
        }
        let (nonce, ct) = sealed.split_at(NONCE_LEN);
        let nonce: [u8; NONCE_LEN] = nonce.try_into()?;
        let pt = self
            .cipher
            .decrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: ct,
                    aad: aad.as_bytes(),
                },
            )
            .map_err(|_| anyhow::anyhow!("cannot decrypt a stored secret: wrong secrets key?"))?;
        Ok(SecretString::from(
            String::from_utf8(pt).context("stored secret is not UTF-8")?,
        ))
    }
}

/// sha256 hex of a token, for lookups of tokens we never store in clear.
pub fn token_hash(token: &str) -> String {
    use sha2::Digest;
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A random URL-safe token with a recognisable prefix.
pub fn random_token(prefix: &str) -> String {
    let mut b = [0u8; 32];
    rand::rng().fill_bytes(&mut b);
    format!(
        "{prefix}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_secret_opens_only_with_the_same_key_and_row() {
        let key = MasterKey::generate();
        let sealed = key
            .cipher()
            .seal("postgres://u:pw@h/db", "databases:1")
            .unwrap();
        assert!(!String::from_utf8_lossy(&sealed).contains("pw@h"));
        assert_eq!(
            key.cipher()
                .open(&sealed, "databases:1")
                .unwrap()
                .expose_secret(),
            "postgres://u:pw@h/db"
        );
        assert!(key.cipher().open(&sealed, "databases:2").is_err());
        assert!(
            MasterKey::generate()
                .cipher()
                .open(&sealed, "databases:1")
                .is_err()
        );
    }
}
