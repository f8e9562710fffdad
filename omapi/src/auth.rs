//! Keys and signatures: HMAC-MD5 over a message's bytes after its 4-byte
//! authid and before its signature (the authlen field, 16, included), as
//! ISC's OMAPI and its clients compute it.

use base64::Engine as _;
use hmac::{Hmac, Mac};
use md5::Md5;
use thiserror::Error;

pub use crate::wire::SIGNATURE_LEN;

type HmacMd5 = Hmac<Md5>;

/// Why a key could not be made or parsed.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum KeyError {
    /// The secret is not valid base64.
    #[error("key {0}: secret is not valid base64")]
    BadBase64(String),
    /// The secret decodes to nothing.
    #[error("key {0}: empty secret")]
    EmptySecret(String),
    /// The key names an algorithm other than HMAC-MD5.
    #[error("key {name}: algorithm {algorithm} is not supported (only hmac-md5)")]
    Algorithm {
        /// Key name.
        name: String,
        /// Algorithm named.
        algorithm: String,
    },
    /// The `key { ... }` text could not be parsed.
    #[error("key statement: {0}")]
    Syntax(String),
}

/// A named HMAC-MD5 key, as ISC configures one with
/// `key NAME { algorithm hmac-md5; secret "BASE64"; };`.
#[derive(Clone, PartialEq, Eq)]
pub struct Key {
    name: String,
    secret: Vec<u8>,
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the secret.
        f.debug_struct("Key")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// Whether an algorithm name from configuration or from an authenticator
/// object means HMAC-MD5 (`hmac-md5`, or the DNS form
/// `HMAC-MD5.SIG-ALG.REG.INT` with or without its final dot; any case).
pub fn is_hmac_md5(algorithm: &[u8]) -> bool {
    let a = algorithm.strip_suffix(b".").unwrap_or(algorithm);
    a.eq_ignore_ascii_case(b"hmac-md5") || a.eq_ignore_ascii_case(b"hmac-md5.sig-alg.reg.int")
}

impl Key {
    /// A key from its name and base64 secret.
    pub fn new(name: &str, secret_base64: &str) -> Result<Key, KeyError> {
        let secret = base64::engine::general_purpose::STANDARD
            .decode(secret_base64.trim())
            .map_err(|_| KeyError::BadBase64(name.to_string()))?;
        if secret.is_empty() {
            return Err(KeyError::EmptySecret(name.to_string()));
        }
        Ok(Key {
            name: name.to_string(),
            secret,
        })
    }

    /// A key from raw secret bytes.
    pub fn from_secret(name: &str, secret: Vec<u8>) -> Result<Key, KeyError> {
        if secret.is_empty() {
            return Err(KeyError::EmptySecret(name.to_string()));
        }
        Ok(Key {
            name: name.to_string(),
            secret,
        })
    }

    /// Parse one ISC key statement:
    /// `key omapi_key { algorithm hmac-md5; secret "c2VjcmV0"; };`
    /// (the name may be quoted; `#` comments and the final `;` are allowed).
    pub fn parse_isc(text: &str) -> Result<Key, KeyError> {
        let toks = tokens(text)?;
        let mut it = toks.iter().map(String::as_str);
        let syntax = |m: &str| KeyError::Syntax(m.to_string());
        if it.next() != Some("key") {
            return Err(syntax("expected `key`"));
        }
        let name = it
            .next()
            .filter(|n| !matches!(*n, "{" | "}" | ";"))
            .ok_or_else(|| syntax("expected a key name"))?;
        if it.next() != Some("{") {
            return Err(syntax("expected `{` after the key name"));
        }
        let (mut algorithm, mut secret) = (None, None);
        loop {
            match it.next() {
                Some("}") => break,
                Some("algorithm") => algorithm = it.next(),
                Some("secret") => secret = it.next(),
                Some(other) => return Err(KeyError::Syntax(format!("unexpected `{other}`"))),
                None => return Err(syntax("missing `}`")),
            }
            if it.next() != Some(";") {
                return Err(syntax("expected `;`"));
            }
        }
        match it.next() {
            None | Some(";") => {}
            Some(other) => {
                return Err(KeyError::Syntax(format!("unexpected `{other}` after `}}`")));
            }
        }
        if it.next().is_some() {
            return Err(syntax("text after the key statement"));
        }
        let algorithm = algorithm.ok_or_else(|| syntax("missing `algorithm`"))?;
        if !is_hmac_md5(algorithm.as_bytes()) {
            return Err(KeyError::Algorithm {
                name: name.to_string(),
                algorithm: algorithm.to_string(),
            });
        }
        Key::new(name, secret.ok_or_else(|| syntax("missing `secret`"))?)
    }

    /// The key's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    fn mac(&self) -> HmacMd5 {
        // HMAC takes a key of any length.
        HmacMd5::new_from_slice(&self.secret)
            .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"))
    }

    /// The signature of `signed` (the bytes after the authid, before the signature).
    pub fn sign(&self, signed: &[u8]) -> [u8; SIGNATURE_LEN] {
        let mut m = self.mac();
        m.update(signed);
        m.finalize().into_bytes().into()
    }

    /// Whether `signature` is this key's signature of `signed`, compared in
    /// constant time.
    pub fn verify(&self, signed: &[u8], signature: &[u8]) -> bool {
        let mut m = self.mac();
        m.update(signed);
        m.verify_slice(signature).is_ok()
    }
}

/// Encode `message` signed with `key` under authenticator `authid`: the
/// authid and authlen (16) fields are set, and the signature covers the
/// encoded bytes after the authid and before the signature.
pub fn encode_signed(message: &crate::wire::Message, authid: u32, key: &Key, out: &mut Vec<u8>) {
    let start = out.len();
    let mut m = message.clone();
    m.authid = authid;
    m.signature = vec![0; SIGNATURE_LEN];
    m.encode(out);
    let end = out.len();
    let sig = key.sign(&out[start + 4..end - SIGNATURE_LEN]);
    out[end - SIGNATURE_LEN..].copy_from_slice(&sig);
}

fn tokens(text: &str) -> Result<Vec<String>, KeyError> {
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(&c) = chars.peek() {
        match c {
            c if c.is_whitespace() => {
                chars.next();
            }
            '#' => while chars.next().is_some_and(|c| c != '\n') {},
            '{' | '}' | ';' => {
                out.push(c.to_string());
                chars.next();
            }
            '"' => {
                chars.next();
                let mut s = String::new();
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some(c) => s.push(c),
                        None => return Err(KeyError::Syntax("unterminated string".into())),
                    }
                }
                out.push(s);
            }
            _ => {
                let mut s = String::new();
                while let Some(&c) = chars.peek() {
                    if c.is_whitespace() || matches!(c, '{' | '}' | ';' | '"' | '#') {
                        break;
                    }
                    s.push(c);
                    chars.next();
                }
                out.push(s);
            }
        }
    }
    Ok(out)
}

/// The keys a server accepts, by name.
#[derive(Clone, Debug, Default)]
pub struct KeyRing {
    keys: Vec<Key>,
}

impl KeyRing {
    /// No keys: the server accepts unsigned messages (ISC without `omapi-key`).
    pub fn new() -> Self {
        KeyRing::default()
    }

    /// Add a key (replacing one of the same name).
    pub fn add(&mut self, key: Key) {
        self.keys.retain(|k| k.name != key.name);
        self.keys.push(key);
    }

    /// The key named `name` (names compare exactly; a trailing dot, as
    /// DNS-style key names may carry, is ignored).
    pub fn get(&self, name: &[u8]) -> Option<&Key> {
        let name = name.strip_suffix(b".").unwrap_or(name);
        self.keys.iter().find(|k| k.name.as_bytes() == name)
    }

    /// Whether no key is configured.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_md5_rfc2104_vector() {
        // RFC 2104's second test vector: key "Jefe".
        let k = Key::from_secret("k", b"Jefe".to_vec()).unwrap();
        let sig = k.sign(b"what do ya want for nothing?");
        assert_eq!(
            sig,
            [
                0x75, 0x0c, 0x78, 0x3e, 0x6a, 0xb0, 0xb5, 0x03, 0xea, 0xa8, 0x6e, 0x31, 0x0a, 0x5d,
                0xb7, 0x38
            ]
        );
        assert!(k.verify(b"what do ya want for nothing?", &sig));
        assert!(!k.verify(b"what do ya want for nothing!", &sig));
        assert!(!k.verify(b"what do ya want for nothing?", &sig[..15]));
    }

    #[test]
    fn parse_isc_key_statement() {
        let k = Key::parse_isc(
            "key omapi_key {\n  algorithm HMAC-MD5;  # as MAAS writes it\n  secret \"SmVmZQ==\";\n};\n",
        )
        .unwrap();
        assert_eq!(k.name(), "omapi_key");
        assert_eq!(k.secret, b"Jefe");
        let k = Key::parse_isc(
            "key \"quoted\" { secret \"SmVmZQ==\"; algorithm hmac-md5.SIG-ALG.REG.INT.; }",
        )
        .unwrap();
        assert_eq!(k.name(), "quoted");
        assert!(matches!(
            Key::parse_isc("key k { algorithm hmac-sha256; secret \"SmVmZQ==\"; };"),
            Err(KeyError::Algorithm { .. })
        ));
        assert_eq!(
            Key::parse_isc("key k { algorithm hmac-md5; secret \"!!\"; };"),
            Err(KeyError::BadBase64("k".into()))
        );
        for bad in [
            "",
            "key",
            "key k {",
            "key k { secret \"SmVmZQ==\"; }",
            "key k { algorithm hmac-md5 }",
            "key k { x y; }",
            "key k { algorithm hmac-md5; secret \"SmVmZQ==\"; } extra",
        ] {
            assert!(Key::parse_isc(bad).is_err(), "{bad}");
        }
        assert!(!format!("{k:?}").contains("Jefe"));
    }

    #[test]
    fn key_ring_lookup() {
        let mut ring = KeyRing::new();
        assert!(ring.is_empty());
        ring.add(Key::new("omapi_key", "SmVmZQ==").unwrap());
        assert!(ring.get(b"omapi_key").is_some());
        assert!(ring.get(b"omapi_key.").is_some());
        assert!(ring.get(b"other").is_none());
        assert!(is_hmac_md5(b"hmac-md5.SIG-ALG.REG.INT."));
        assert!(is_hmac_md5(b"HMAC-MD5.SIG-ALG.REG.INT"));
        assert!(!is_hmac_md5(b"hmac-sha1"));
    }
}
