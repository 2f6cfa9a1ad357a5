//! Digital signatures of approved reports (Decree 09/2019 asks for
//! electronic reports carrying one): a CMS detached signature (RFC 5652,
//! `SignedData` without the content) over the report's canonical content,
//! with SHA-256, the signing time as a signed attribute, and the signer's
//! certificate chain, so that anyone holding the content and the `.p7s`
//! checks it with standard tools (`openssl cms -verify`). The printed
//! report is signed the same way inside its PDF ([`pdf`], PAdES), which
//! `pdfsig` and PDF readers check.
//!
//! The key is the issuing organisation's: in a PKCS#11 token ([`token`],
//! the way official keys are held), or in an encrypted PKCS#12 file (what
//! a small installation holds). A signature is checked against a trust
//! list ([`TrustList`]: the certification authorities a province accepts).
//! OpenSSL, the token and RustCrypto's `cms` do the cryptography: nothing
//! here is hand-made.

pub mod demo;
pub mod pdf;
pub mod token;

use openssl::cms::{CMSOptions, CmsContentInfo};
use openssl::nid::Nid;
use openssl::pkcs12::Pkcs12;
use openssl::pkey::{PKey, Private};
use openssl::stack::Stack;
use openssl::x509::X509;
use openssl::x509::X509PurposeId;
use openssl::x509::store::{X509Store, X509StoreBuilder};

/// Why a key cannot be used or a signature made, in Vietnamese.
#[derive(Debug, thiserror::Error)]
pub enum SigningError {
    #[error("tệp khóa ký số (PKCS#12) không đọc được: {0}")]
    Key(String),
    #[error("không ký được: {0}")]
    Sign(String),
    #[error("danh sách chứng thư tin cậy không đọc được: {0}")]
    Trust(String),
    #[error("chữ ký không hợp lệ: {0}")]
    Invalid(String),
}

/// The certification authorities whose certificates a signature may chain
/// to (PEM, one certificate or several).
pub struct TrustList {
    store: X509Store,
    /// How many certificates it holds.
    pub len: usize,
}

impl TrustList {
    pub fn from_pem(pem: &[u8]) -> Result<TrustList, SigningError> {
        let certificates = X509::stack_from_pem(pem).map_err(|e| SigningError::Trust(e.to_string()))?;
        if certificates.is_empty() {
            return Err(SigningError::Trust("không có chứng thư nào (PEM)".into()));
        }
        let mut builder = X509StoreBuilder::new().map_err(|e| SigningError::Trust(e.to_string()))?;
        for c in &certificates {
            builder.add_cert(c.clone()).map_err(|e| SigningError::Trust(e.to_string()))?;
        }
        // Official document-signing certificates need not name S/MIME
        // (e-mail) among their uses, which CMS checks by default: the chain
        // to a trusted authority and the key usage are what count here.
        builder.set_purpose(X509PurposeId::ANY).map_err(|e| SigningError::Trust(e.to_string()))?;
        Ok(TrustList { store: builder.build(), len: certificates.len() })
    }
}

/// Checks a detached CMS signature (DER) of `content`: the content is the
/// one signed, and the signer's certificate chains to `trust` and is valid.
pub fn verify_detached(signature: &[u8], content: &[u8], trust: &TrustList) -> Result<(), SigningError> {
    let mut cms = CmsContentInfo::from_der(signature).map_err(|e| SigningError::Invalid(e.to_string()))?;
    cms.verify(None, Some(&trust.store), Some(content), None, CMSOptions::BINARY)
        .map_err(|e| SigningError::Invalid(e.to_string()))
}

/// The organisation's key and certificate, with the chain above it.
pub struct SigningKey {
    holder: Holder,
    /// The certificate subject's common name.
    subject: String,
}

/// Where the key is.
enum Holder {
    /// Read from a PKCS#12 file: OpenSSL signs.
    File { key: PKey<Private>, certificate: X509, chain: Stack<X509> },
    /// In a token: the token signs.
    Token(Box<token::TokenKey>),
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the key itself.
        f.debug_struct("SigningKey").field("subject", &self.subject()).finish_non_exhaustive()
    }
}

impl SigningKey {
    /// Opens an encrypted PKCS#12 file (`.p12`, `.pfx`) with its passphrase.
    pub fn from_pkcs12(der: &[u8], passphrase: &str) -> Result<SigningKey, SigningError> {
        let parsed = Pkcs12::from_der(der)
            .and_then(|p| p.parse2(passphrase))
            .map_err(|e| SigningError::Key(format!("sai định dạng hoặc sai mật khẩu ({e})")))?;
        let key = parsed.pkey.ok_or_else(|| SigningError::Key("tệp không có khóa bí mật".into()))?;
        let certificate = parsed.cert.ok_or_else(|| SigningError::Key("tệp không có chứng thư số".into()))?;
        let matches = certificate.public_key().is_ok_and(|public| public.public_eq(&key));
        if !matches {
            return Err(SigningError::Key("chứng thư số không khớp với khóa bí mật".into()));
        }
        let mut chain = Stack::new().map_err(|e| SigningError::Key(e.to_string()))?;
        for c in parsed.ca.into_iter().flatten() {
            chain.push(c).map_err(|e| SigningError::Key(e.to_string()))?;
        }
        let name = certificate.subject_name();
        let text = |e: &openssl::x509::X509NameEntryRef| e.data().to_string().ok();
        let subject = match name.entries_by_nid(Nid::COMMONNAME).next().and_then(text) {
            Some(cn) => cn,
            None => name.entries().filter_map(text).collect::<Vec<_>>().join(", "),
        };
        Ok(SigningKey { holder: Holder::File { key, certificate, chain }, subject })
    }

    /// Opens the key in the PKCS#11 token `settings` names, logging in
    /// with `pin`.
    pub fn from_pkcs11(settings: &token::TokenSettings, pin: &str) -> Result<SigningKey, SigningError> {
        let key = token::TokenKey::open(settings, pin)?;
        let subject = common_name(&key.certificate.tbs_certificate.subject).unwrap_or_else(|| settings.key.clone());
        Ok(SigningKey { holder: Holder::Token(Box::new(key)), subject })
    }

    /// Who signs: the certificate subject's common name (or the whole
    /// subject when it has none).
    pub fn subject(&self) -> String {
        self.subject.clone()
    }

    /// A detached CMS signature of `content` (DER): SHA-256, the signing
    /// time, the signing certificate as a signed attribute (CAdES), the
    /// signer's certificate and its chain.
    pub fn sign_detached(&self, content: &[u8]) -> Result<Vec<u8>, SigningError> {
        match &self.holder {
            Holder::File { key, certificate, chain } => {
                let flags = CMSOptions::DETACHED | CMSOptions::BINARY | CMSOptions::from_bits_retain(CMS_CADES);
                let cms = CmsContentInfo::sign(Some(certificate), Some(key), Some(chain), Some(content), flags)
                    .map_err(|e| SigningError::Sign(e.to_string()))?;
                cms.to_der().map_err(|e| SigningError::Sign(e.to_string()))
            }
            Holder::Token(key) => key.sign_detached(content),
        }
    }
}

/// OpenSSL's `CMS_CADES` (`cms.h`): adds the signing certificate
/// (ESS signing-certificate-v2) as a signed attribute, which PAdES
/// requires; the `openssl` crate has no name for it.
const CMS_CADES: u32 = 0x10_0000;

/// The common name of an X.509 name, when it has one.
pub(crate) fn common_name(name: &x509_cert::name::Name) -> Option<String> {
    name.0.iter().flat_map(|rdn| rdn.0.iter()).find_map(|attribute| {
        if attribute.oid != const_oid::db::rfc4519::CN {
            return None;
        }
        let value = &attribute.value;
        if let Ok(s) = value.decode_as::<der::asn1::Utf8StringRef<'_>>() {
            return Some(s.as_str().to_string());
        }
        value.decode_as::<der::asn1::PrintableStringRef<'_>>().ok().map(|s| s.as_str().to_string())
    })
}
