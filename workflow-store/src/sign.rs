//! 国密 signatures (DESIGN §14): SM2 with SM3 (GB/T 32918, GB/T 32905) over what the
//! engine hands to someone else — a witness head ([`SignedHead`]), an issued 公文
//! ([`SignedFile`]), an archive package's eep.xml — behind [`Signer`], so that
//! a hardware 密码设备 or a 签章服务器 can take the software key's place.
//!
//! A software key gives verifiable integrity (whoever holds the public key can tell that
//! the signed bytes are unchanged and came from the key's holder); it is not a legally
//! recognised 电子印章.

use std::path::Path;

use serde::{Deserialize, Serialize};
use sm2::dsa::signature::{Signer as _, Verifier as _};
use sm2::pkcs8::{DecodePrivateKey as _, DecodePublicKey as _};

use crate::envelope::LogHead;

/// The algorithm every signature here is made with: SM2 over the SM3 digest of `Z_A || M`.
pub const SM2_SM3: &str = "SM2-SM3";

/// The 用户标识 (distinguishing identifier) GM/T 0009 gives as the default.
pub const DEFAULT_SIGNER_ID: &str = "1234567812345678";

/// Why a key could not be used or a signature did not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignError {
    /// The key is not an SM2 key this can read.
    #[error("not an SM2 key: {0}")]
    Key(String),
    /// The signer (a device, a service) could not sign now.
    #[error("the signer could not sign: {0}")]
    Unavailable(String),
    /// The signature does not verify: the bytes or the key differ.
    #[error("the signature does not verify: {0}")]
    Bad(String),
}

/// What signs: a software key here; a hardware 密码设备 or a 签章服务器 behind the same four
/// methods.
pub trait Signer: Send + Sync {
    /// The algorithm, [`SM2_SM3`].
    fn algorithm(&self) -> &'static str;
    /// The signer's 用户标识 (it enters the signed digest).
    fn signer_id(&self) -> &str;
    /// The public key, SEC1 uncompressed (65 bytes, `04 || x || y`).
    fn public_key(&self) -> Vec<u8>;
    /// The signature of `message`: `r || s`, 64 bytes.
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, SignError>;
}

/// An SM2 private key held in software (a PKCS#8 PEM file, as `openssl genpkey -algorithm
/// SM2` writes it).
pub struct SoftwareSm2 {
    key: sm2::dsa::SigningKey,
    id: String,
}

impl std::fmt::Debug for SoftwareSm2 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SoftwareSm2")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl SoftwareSm2 {
    /// The key in `pem` (PKCS#8), signing as `id`.
    pub fn from_pem(pem: &str, id: &str) -> Result<Self, SignError> {
        let secret =
            sm2::SecretKey::from_pkcs8_pem(pem).map_err(|e| SignError::Key(e.to_string()))?;
        Self::from_secret(&secret, id)
    }

    /// The key in the file at `path` (PKCS#8 PEM), signing as `id`.
    pub fn from_file(path: &Path, id: &str) -> Result<Self, SignError> {
        let pem = std::fs::read_to_string(path)
            .map_err(|e| SignError::Key(format!("{}: {e}", path.display())))?;
        Self::from_pem(&pem, id)
    }

    /// The key whose secret scalar is `bytes` (32 bytes, big-endian), signing as `id`.
    pub fn from_bytes(bytes: &[u8], id: &str) -> Result<Self, SignError> {
        let secret =
            sm2::SecretKey::from_slice(bytes).map_err(|e| SignError::Key(e.to_string()))?;
        Self::from_secret(&secret, id)
    }

    fn from_secret(secret: &sm2::SecretKey, id: &str) -> Result<Self, SignError> {
        check_id(id)?;
        let key =
            sm2::dsa::SigningKey::new(id, secret).map_err(|e| SignError::Key(e.to_string()))?;
        Ok(SoftwareSm2 {
            key,
            id: id.to_owned(),
        })
    }
}

fn check_id(id: &str) -> Result<(), SignError> {
    // Z_A carries the identifier's length in bits in two bytes.
    if id.is_empty() || id.len() > 8191 {
        return Err(SignError::Key(
            "the signer's 用户标识 must be 1 to 8191 bytes".into(),
        ));
    }
    Ok(())
}

impl Signer for SoftwareSm2 {
    fn algorithm(&self) -> &'static str {
        SM2_SM3
    }
    fn signer_id(&self) -> &str {
        &self.id
    }
    fn public_key(&self) -> Vec<u8> {
        self.key.verifying_key().to_sec1_bytes().to_vec()
    }
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, SignError> {
        let signature: sm2::dsa::Signature = self
            .key
            .try_sign(message)
            .map_err(|e| SignError::Unavailable(e.to_string()))?;
        Ok(signature.to_bytes().to_vec())
    }
}

/// Whether `signature` (`r || s`) is `signer_id`'s SM2 signature of `message` under
/// `public_key` (SEC1).
pub fn verify_sm2(
    signer_id: &str,
    public_key: &[u8],
    message: &[u8],
    signature: &[u8],
) -> Result<(), SignError> {
    check_id(signer_id)?;
    let key = sm2::dsa::VerifyingKey::from_sec1_bytes(signer_id, public_key)
        .map_err(|e| SignError::Key(e.to_string()))?;
    let signature = sm2::dsa::Signature::try_from(signature)
        .map_err(|_| SignError::Bad("not an SM2 signature (64 bytes, r || s)".into()))?;
    key.verify(message, &signature)
        .map_err(|_| SignError::Bad("it was not made by this key over these bytes".into()))
}

/// A public key from a PEM file (`openssl pkey -pubout`), SEC1 uncompressed.
pub fn public_key_from_pem(pem: &str) -> Result<Vec<u8>, SignError> {
    let key =
        sm2::PublicKey::from_public_key_pem(pem).map_err(|e| SignError::Key(e.to_string()))?;
    Ok(
        sm2::elliptic_curve::sec1::ToSec1Point::to_sec1_point(&key, false)
            .as_bytes()
            .to_vec(),
    )
}

/// SM3 (GB/T 32905) of `bytes`, hex.
pub fn sm3_hex(bytes: &[u8]) -> String {
    hex::encode(<sm3::Sm3 as sm3::Digest>::digest(bytes))
}

/// The format a signed head's file names.
pub const SIGNED_HEAD_FORMAT: &str = "workflow-signed-head/1";

/// A witness head signed by the store's operator: kept elsewhere, and later given to
/// `verify --against` (the log must extend it; the signature must verify).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedHead {
    /// [`SIGNED_HEAD_FORMAT`].
    pub format: String,
    /// The head's position.
    pub position: u64,
    /// The event hash at that position.
    pub hash: String,
    /// When it was signed (UTC, RFC 3339).
    pub signed_at: String,
    /// [`SM2_SM3`].
    pub algorithm: String,
    /// The signer's 用户标识.
    pub signer: String,
    /// The public key, SEC1 hex.
    pub public_key: String,
    /// `r || s`, hex.
    pub signature: String,
}

impl SignedHead {
    /// `head` signed at `at` by `signer`.
    pub fn sign(
        head: &LogHead,
        at: workflow_core::Timestamp,
        signer: &dyn Signer,
    ) -> Result<SignedHead, SignError> {
        let mut signed = SignedHead {
            format: SIGNED_HEAD_FORMAT.into(),
            position: head.position,
            hash: head.hash.clone(),
            signed_at: at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            algorithm: signer.algorithm().into(),
            signer: signer.signer_id().into(),
            public_key: hex::encode(signer.public_key()),
            signature: String::new(),
        };
        signed.signature = hex::encode(signer.sign(&signed.message())?);
        Ok(signed)
    }

    /// The bytes signed: the format, position, hash and time, one per line.
    pub fn message(&self) -> Vec<u8> {
        format!(
            "{}\n{}\n{}\n{}\n",
            self.format, self.position, self.hash, self.signed_at
        )
        .into_bytes()
    }

    /// The head it signs.
    pub fn head(&self) -> LogHead {
        LogHead {
            position: self.position,
            hash: self.hash.clone(),
        }
    }

    /// The public key it names (SEC1).
    pub fn key(&self) -> Result<Vec<u8>, SignError> {
        hex::decode(&self.public_key)
            .map_err(|_| SignError::Key("the public key is not hex".into()))
    }

    /// Checks the signature: under `trusted` (SEC1) when given — the key must be that one —
    /// else under the key the file names.
    pub fn check(&self, trusted: Option<&[u8]>) -> Result<(), SignError> {
        if self.format != SIGNED_HEAD_FORMAT || self.algorithm != SM2_SM3 {
            return Err(SignError::Bad(format!(
                "{} / {} is not a signed head this reads ({SIGNED_HEAD_FORMAT}, {SM2_SM3})",
                self.format, self.algorithm
            )));
        }
        verify_statement(
            &self.public_key,
            trusted,
            &self.signer,
            &self.message(),
            &self.signature,
        )
    }
}

/// A signed statement's signature (`signature_hex`, `r || s`) by `signer` over `message`,
/// under the key it names (`public_key_hex`, SEC1), which must be `trusted` when given.
fn verify_statement(
    public_key_hex: &str,
    trusted: Option<&[u8]>,
    signer: &str,
    message: &[u8],
    signature_hex: &str,
) -> Result<(), SignError> {
    let named = hex::decode(public_key_hex)
        .map_err(|_| SignError::Key("the public key is not hex".into()))?;
    if let Some(trusted) = trusted
        && trusted != named.as_slice()
    {
        return Err(SignError::Bad(format!(
            "signed by the key {}, not the trusted key {}",
            key_fingerprint(&named),
            key_fingerprint(trusted)
        )));
    }
    let signature = hex::decode(signature_hex)
        .map_err(|_| SignError::Bad("the signature is not hex".into()))?;
    verify_sm2(signer, &named, message, &signature)
}

/// A key's fingerprint as people compare it: the first 16 hex digits of the SM3 of its
/// SEC1 bytes.
pub fn key_fingerprint(public_key: &[u8]) -> String {
    sm3_hex(public_key)[..16].to_owned()
}

/// The format a signed file's signature names.
pub const SIGNED_FILE_FORMAT: &str = "workflow-signed-file/1";

/// A file signed by the office (the issued 公文 as kept at 印发, first of all): kept beside
/// the file (`<file>.sig.json`) and sent with it, so that whoever holds the office's public
/// key can tell the file is the one the office issued, byte for byte.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedFile {
    /// [`SIGNED_FILE_FORMAT`].
    pub format: String,
    /// The document it belongs to (its id).
    pub document: String,
    /// Its 发文字号 (or another name the office gives it).
    pub number: String,
    /// SHA-256 of the file's bytes, hex.
    pub sha256: String,
    /// SM3 of the file's bytes, hex.
    pub sm3: String,
    /// Its size.
    pub bytes: u64,
    /// When it was signed (UTC, RFC 3339).
    pub signed_at: String,
    /// [`SM2_SM3`].
    pub algorithm: String,
    /// The signer's 用户标识.
    pub signer: String,
    /// The public key, SEC1 hex.
    pub public_key: String,
    /// `r || s`, hex, over [`SignedFile::message`].
    pub signature: String,
}

impl SignedFile {
    /// `bytes`, the file of `document` named `number`, signed at `at` by `signer`.
    pub fn sign(
        bytes: &[u8],
        document: &str,
        number: &str,
        at: workflow_core::Timestamp,
        signer: &dyn Signer,
    ) -> Result<SignedFile, SignError> {
        let mut signed = SignedFile {
            format: SIGNED_FILE_FORMAT.into(),
            document: document.into(),
            number: number.into(),
            sha256: hex::encode(<sha2::Sha256 as sha2::Digest>::digest(bytes)),
            sm3: sm3_hex(bytes),
            bytes: bytes.len() as u64,
            signed_at: at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            algorithm: signer.algorithm().into(),
            signer: signer.signer_id().into(),
            public_key: hex::encode(signer.public_key()),
            signature: String::new(),
        };
        signed.signature = hex::encode(signer.sign(&signed.message())?);
        Ok(signed)
    }

    /// The bytes signed: the format, the document, the number, both digests, the size and
    /// the time, one per line.
    pub fn message(&self) -> Vec<u8> {
        format!(
            "{}\n{}\n{}\n{}\n{}\n{}\n{}\n",
            self.format,
            self.document,
            self.number,
            self.sha256,
            self.sm3,
            self.bytes,
            self.signed_at
        )
        .into_bytes()
    }

    /// Checks that `bytes` are the file signed (size, SHA-256 and SM3) and that the
    /// signature verifies under `trusted` (SEC1): the key must be that one.
    pub fn check(&self, bytes: &[u8], trusted: &[u8]) -> Result<(), SignError> {
        if self.format != SIGNED_FILE_FORMAT || self.algorithm != SM2_SM3 {
            return Err(SignError::Bad(format!(
                "{} / {} is not a signed file this reads ({SIGNED_FILE_FORMAT}, {SM2_SM3})",
                self.format, self.algorithm
            )));
        }
        verify_statement(
            &self.public_key,
            Some(trusted),
            &self.signer,
            &self.message(),
            &self.signature,
        )?;
        let sha256 = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(bytes));
        if bytes.len() as u64 != self.bytes || sha256 != self.sha256 || sm3_hex(bytes) != self.sm3 {
            return Err(SignError::Bad(format!(
                "the file is not the one signed: its SHA-256 is {sha256} ({} bytes), the \
                 signature's {} ({} bytes)",
                bytes.len(),
                self.sha256,
                self.bytes
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests
mod tests {
    use super::*;

    /// GB/T 32905-2016, Appendix A: the two examples.
    #[test]
    fn sm3_gives_the_standard_s_examples() {
        assert_eq!(
            sm3_hex(b"abc"),
            "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
        );
        assert_eq!(
            sm3_hex(&b"abcd".repeat(16)),
            "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"
        );
    }

    /// GB/T 32918.5-2017 / GM/T 0003.5-2012, Annex C (the recommended curve): the key pair
    /// of the example, and its signature of "message digest" by the default 用户标识
    /// verifies; another message, signer or one bit off does not.
    #[test]
    fn sm2_verifies_the_standard_s_example() {
        let secret =
            hex::decode("3945208F7B2144B13F36E38AC6D39F95889393692860B51A42FB81EF4DF7C5B8")
                .unwrap();
        let id = DEFAULT_SIGNER_ID;
        let key = SoftwareSm2::from_bytes(&secret, id).unwrap();
        let public = hex::decode(concat!(
            "04",
            "09F9DF311E5421A150DD7D161E4BC5C672179FAD1833FC076BB08FF356F35020",
            "CCEA490CE26775A52DC6EA718CC1AA600AED05FBF35E084A6632F6072DA9AD13"
        ))
        .unwrap();
        assert_eq!(key.public_key(), public);
        let mut signature = hex::decode(concat!(
            "F5A03B0648D2C4630EEAC513E1BB81A15944DA3827D5B74143AC7EACEEE720B3",
            "B1B6AA29DF212FD8763182BC0D421CA1BB9038FD1F7F42D4840B69C485BBC1AA"
        ))
        .unwrap();
        verify_sm2(id, &public, b"message digest", &signature).unwrap();
        assert!(verify_sm2(id, &public, b"message digesT", &signature).is_err());
        assert!(verify_sm2("ALICE123@YAHOO.COM", &public, b"message digest", &signature).is_err());
        signature[63] ^= 1;
        assert!(verify_sm2(id, &public, b"message digest", &signature).is_err());
        // Our own signature of it verifies too (deterministic: the same each time).
        let ours = key.sign(b"message digest").unwrap();
        assert_eq!(ours, key.sign(b"message digest").unwrap());
        verify_sm2(id, &public, b"message digest", &ours).unwrap();
    }

    #[test]
    fn a_signed_file_checks_under_its_key_and_not_once_a_byte_changed() {
        let key = SoftwareSm2::from_bytes(&[7u8; 32], "office@campus").unwrap();
        let at = chrono::DateTime::parse_from_rfc3339("2026-12-07T08:00:00Z")
            .unwrap()
            .with_timezone(&chrono::Utc);
        let pdf = b"%PDF-1.7 the issued document %%EOF".to_vec();
        let signed = SignedFile::sign(&pdf, "doc-1", "X校发〔2026〕1号", at, &key).unwrap();
        assert_eq!(signed.sm3, sm3_hex(&pdf));
        signed.check(&pdf, &key.public_key()).unwrap();
        let mut flipped = pdf.clone();
        flipped[10] ^= 1;
        assert!(matches!(
            signed.check(&flipped, &key.public_key()),
            Err(SignError::Bad(why)) if why.contains("not the one signed")
        ));
        let other = SoftwareSm2::from_bytes(&[8u8; 32], "office@campus").unwrap();
        assert!(signed.check(&pdf, &other.public_key()).is_err());
        // Its statement changed (another number), the signature no longer verifies.
        let mut renumbered = signed.clone();
        renumbered.number = "X校发〔2026〕2号".into();
        assert!(renumbered.check(&pdf, &key.public_key()).is_err());
        // A file signed again by someone else under their own key names that key.
        let forged = SignedFile::sign(&flipped, "doc-1", "X校发〔2026〕1号", at, &other).unwrap();
        assert!(forged.check(&flipped, &key.public_key()).is_err());
    }

    #[test]
    fn a_signed_head_checks_under_its_key_and_not_once_changed() {
        let key = SoftwareSm2::from_bytes(&[7u8; 32], "office@campus").unwrap();
        let head = LogHead {
            position: 42,
            hash: "ab".repeat(32),
        };
        let at = chrono::DateTime::parse_from_rfc3339("2026-12-07T08:00:00Z")
            .unwrap()
            .with_timezone(&chrono::Utc);
        let signed = SignedHead::sign(&head, at, &key).unwrap();
        assert_eq!(signed.head(), head);
        signed.check(None).unwrap();
        signed.check(Some(&key.public_key())).unwrap();
        let other = SoftwareSm2::from_bytes(&[8u8; 32], "office@campus").unwrap();
        assert!(matches!(
            signed.check(Some(&other.public_key())),
            Err(SignError::Bad(why)) if why.contains("not the trusted key")
        ));
        let mut moved = signed.clone();
        moved.position = 41;
        assert!(moved.check(None).is_err());
        let mut renamed = signed;
        renamed.signer = "someone@else".into();
        assert!(renamed.check(None).is_err());
    }
}
