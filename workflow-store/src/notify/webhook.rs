//! Webhook signatures per the Standard Webhooks specification
//! (<https://www.standardwebhooks.com>): a delivery carries `webhook-id` (the notice's
//! stable id, for the receiver's de-duplication), `webhook-timestamp` (seconds since the
//! epoch) and `webhook-signature`: `v1,` and the base64 HMAC-SHA256 of
//! `{id}.{timestamp}.{body}` under each secret in force, separated by spaces, so that a
//! secret can be rotated without a gap (the receiver accepts any one that verifies).
//! Secrets are written as the specification has them: `whsec_` and the key in base64.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Why a secret is not usable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    /// Not base64 after the `whsec_` prefix.
    #[error("a webhook secret is `whsec_` and its key in base64: {0}")]
    NotBase64(String),
    /// Too short to sign with, or longer than the specification allows.
    #[error("a webhook secret's key has {0} bytes; 24 to 64 are allowed (32 recommended)")]
    Length(usize),
}

/// A signing key, from its `whsec_…` text.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Vec<u8>);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never printed.
        f.write_str("Secret(…)")
    }
}

impl Secret {
    /// The key of `text` (`whsec_` and base64; the prefix may be left off).
    pub fn parse(text: &str) -> Result<Secret, SecretError> {
        let b64 = text.trim();
        let b64 = b64.strip_prefix("whsec_").unwrap_or(b64);
        let key = STANDARD
            .decode(b64)
            .map_err(|e| SecretError::NotBase64(e.to_string()))?;
        if !(24..=64).contains(&key.len()) {
            return Err(SecretError::Length(key.len()));
        }
        Ok(Secret(key))
    }

    /// This key's signature of a delivery: `v1,` and base64.
    fn sign(&self, id: &str, timestamp: i64, body: &[u8]) -> String {
        let timestamp = timestamp.to_string();
        let message = [id.as_bytes(), b".", timestamp.as_bytes(), b".", body];
        format!("v1,{}", hmac_sha256_base64(&self.0, &message))
    }
}

/// The base64 HMAC-SHA256 of the concatenated `parts` under `key` (Standard Webhooks' and
/// 钉钉 加签's signature alike).
pub(crate) fn hmac_sha256_base64(key: &[u8], parts: &[&[u8]]) -> String {
    // HMAC takes a key of any length.
    let mut mac = <Hmac<Sha256>>::new_from_slice(key)
        .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"));
    for p in parts {
        mac.update(p);
    }
    STANDARD.encode(mac.finalize().into_bytes())
}

/// The `webhook-signature` header of a delivery: one signature per secret in force, in
/// order, separated by spaces.
pub fn signature(secrets: &[Secret], id: &str, timestamp: i64, body: &[u8]) -> String {
    secrets
        .iter()
        .map(|s| s.sign(id, timestamp, body))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Whether `header` (a `webhook-signature`) holds a signature of the delivery by `secret`
/// (compared in constant time) — the signature half of what a receiver checks; it must also
/// refuse a `webhook-timestamp` too far from its own clock (the specification's replay
/// protection), which this does not judge.
pub fn verifies(secret: &Secret, header: &str, id: &str, timestamp: i64, body: &[u8]) -> bool {
    let mut mac = <Hmac<Sha256>>::new_from_slice(&secret.0)
        .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"));
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(body);
    header.split(' ').any(|part| {
        part.strip_prefix("v1,")
            .and_then(|b64| STANDARD.decode(b64).ok())
            .is_some_and(|sig| mac.clone().verify_slice(&sig).is_ok())
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests
mod tests {
    use super::*;

    /// The specification's published test vector.
    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    const TIMESTAMP: i64 = 1_614_265_330;
    const BODY: &[u8] = br#"{"test": 2432232314}"#;
    const SIGNATURE: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

    #[test]
    fn signs_as_the_specifications_test_vector() {
        let key = Secret::parse(SECRET).unwrap();
        assert_eq!(
            signature(std::slice::from_ref(&key), ID, TIMESTAMP, BODY),
            SIGNATURE
        );
        assert!(verifies(&key, SIGNATURE, ID, TIMESTAMP, BODY));
        // Without its prefix, the same key.
        assert_eq!(Secret::parse(&SECRET["whsec_".len()..]).unwrap(), key);
    }

    #[test]
    fn a_changed_body_id_or_time_does_not_verify() {
        let key = Secret::parse(SECRET).unwrap();
        assert!(!verifies(
            &key,
            SIGNATURE,
            ID,
            TIMESTAMP,
            br#"{"test": 2432232315}"#
        ));
        assert!(!verifies(&key, SIGNATURE, "msg_other", TIMESTAMP, BODY));
        assert!(!verifies(&key, SIGNATURE, ID, TIMESTAMP + 1, BODY));
        assert!(!verifies(&key, "v1,not-base64!", ID, TIMESTAMP, BODY));
    }

    #[test]
    fn a_rotation_signs_with_each_secret_and_either_verifies() {
        let old = Secret::parse(SECRET).unwrap();
        let new = Secret::parse(&format!("whsec_{}", STANDARD.encode([7u8; 32]))).unwrap();
        let header = signature(&[new.clone(), old.clone()], ID, TIMESTAMP, BODY);
        let parts: Vec<&str> = header.split(' ').collect();
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[1], SIGNATURE);
        assert!(verifies(&old, &header, ID, TIMESTAMP, BODY));
        assert!(verifies(&new, &header, ID, TIMESTAMP, BODY));
    }

    #[test]
    fn a_secret_that_is_not_base64_or_too_short_is_refused() {
        assert!(matches!(
            Secret::parse("whsec_not base64!"),
            Err(SecretError::NotBase64(_))
        ));
        assert_eq!(Secret::parse("whsec_c2hvcnQ="), Err(SecretError::Length(5)));
        assert_eq!(
            Secret::parse(&format!("whsec_{}", STANDARD.encode([1u8; 65]))),
            Err(SecretError::Length(65))
        );
        // Never printed.
        assert_eq!(format!("{:?}", Secret::parse(SECRET).unwrap()), "Secret(…)");
    }
}
