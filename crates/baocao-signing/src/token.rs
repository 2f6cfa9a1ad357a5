//! The organisation's key in a PKCS#11 token: the USB tokens and HSMs
//! official signing keys live in (SoftHSM2 in the tests). The key never
//! leaves the token: cryptoki opens a session, logs in with the PIN, and
//! asks the token to sign; the certificate and its chain are read from the
//! token's certificate objects.
//!
//! OpenSSL signs only with a key it holds, so the CMS structure is built
//! here with RustCrypto's `cms` builder, the same as OpenSSL makes for a
//! PKCS#12 key: SHA-256, the content type, the message digest, the signing
//! time and the signing certificate (ESS signing-certificate-v2, CAdES) as
//! signed attributes, the chain carried along, the signer named by issuer
//! and serial number. RSA keys (the Vietnamese certification services'
//! tokens) sign with `CKM_SHA256_RSA_PKCS`, elliptic-curve keys with
//! `CKM_ECDSA` over the SHA-256 digest.

use std::path::PathBuf;
use std::sync::Mutex;

use cms::builder::{SignedDataBuilder, SignerInfoBuilder, create_signing_time_attribute};
use cms::cert::{CertificateChoices, IssuerAndSerialNumber};
use cms::signed_data::{EncapsulatedContentInfo, SignerIdentifier};
use const_oid::db::{rfc5911, rfc5912};
use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::mechanism::Mechanism;
use cryptoki::object::{Attribute, AttributeType, KeyType, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, UserType};
use cryptoki::types::AuthPin;
use der::asn1::{BitString, OctetString, SetOfVec, UintRef};
use der::{Any, Decode, Encode, Sequence};
use sha2::{Digest, Sha256};
use spki::AlgorithmIdentifierOwned;
use x509_cert::Certificate;
use x509_cert::attr::Attribute as CmsAttribute;

use crate::SigningError;

/// Where the key is: the module (`.so`) of the token's vendor, the token's
/// label, and the label of the key and its certificate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenSettings {
    pub module: PathBuf,
    pub token: String,
    pub key: String,
}

impl TokenSettings {
    /// Reads a PKCS#11 URI (RFC 7512), the way OpenSSL, GnuTLS and p11-kit
    /// name a key: `pkcs11:token=…;object=…?module-path=/usr/lib/….so`.
    /// The PIN is never part of it (`pin-value` is refused): it comes from
    /// the environment.
    pub fn from_uri(uri: &str) -> Result<TokenSettings, SigningError> {
        let bad = |why: String| SigningError::Key(format!("địa chỉ khóa PKCS#11 «{uri}»: {why}"));
        let rest = uri.strip_prefix("pkcs11:").ok_or_else(|| bad("phải bắt đầu bằng pkcs11:".into()))?;
        let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
        let decode = |v: &str| percent_encoding::percent_decode_str(v).decode_utf8().map(|v| v.into_owned());
        let (mut token, mut key, mut module) = (None, None, None);
        for (part, separator) in [(path, ';'), (query, '&')] {
            for pair in part.split(separator).filter(|p| !p.is_empty()) {
                let (name, value) = pair.split_once('=').ok_or_else(|| bad(format!("«{pair}» thiếu dấu =")))?;
                let value = decode(value).map_err(|e| bad(e.to_string()))?;
                match name {
                    "token" => token = Some(value),
                    "object" => key = Some(value),
                    "module-path" => module = Some(PathBuf::from(value)),
                    "pin-value" | "pin-source" => {
                        return Err(bad(
                            "mã PIN không ghi trong địa chỉ: đặt biến môi trường BAOCAO_SIGNING_PIN".into()
                        ));
                    }
                    // Other attributes (type, id, manufacturer…) narrow the
                    // search in other tools; the labels suffice here.
                    _ => {}
                }
            }
        }
        Ok(TokenSettings {
            module: module.ok_or_else(|| bad("cần module-path (thư viện PKCS#11 của thiết bị)".into()))?,
            token: token.ok_or_else(|| bad("cần token (nhãn thiết bị)".into()))?,
            key: key.ok_or_else(|| bad("cần object (nhãn khóa và chứng thư)".into()))?,
        })
    }
}

#[derive(Clone, Copy, Debug)]
enum Kind {
    Rsa,
    Ec,
}

/// A logged-in session on the token, with the key's handle and its
/// certificates.
pub(crate) struct TokenKey {
    /// Kept for the session's life: the module is finalized when dropped.
    _module: Pkcs11,
    /// A session serves one call at a time.
    session: Mutex<Session>,
    key: ObjectHandle,
    kind: Kind,
    pub(crate) certificate: Certificate,
    chain: Vec<Certificate>,
}

/// A CMS structure that could not be built.
fn failed(e: impl std::fmt::Display) -> SigningError {
    SigningError::Sign(e.to_string())
}

fn token_error(what: &'static str) -> impl Fn(cryptoki::error::Error) -> SigningError {
    move |e| SigningError::Key(format!("{what}: {e}"))
}

impl TokenKey {
    /// Opens the token of `settings` and logs in with `pin`.
    pub(crate) fn open(settings: &TokenSettings, pin: &str) -> Result<TokenKey, SigningError> {
        let module = Pkcs11::new(&settings.module).map_err(|e| {
            SigningError::Key(format!("không nạp được thư viện PKCS#11 {}: {e}", settings.module.display()))
        })?;
        module
            .initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK))
            .map_err(token_error("không khởi động được thư viện PKCS#11"))?;
        let slots = module.get_slots_with_token().map_err(token_error("không đọc được các khe thiết bị ký"))?;
        let slot = slots
            .into_iter()
            .find(|s| module.get_token_info(*s).is_ok_and(|info| info.label().trim() == settings.token.trim()))
            .ok_or_else(|| SigningError::Key(format!("không thấy thiết bị ký (token) «{}»", settings.token)))?;
        let session = module.open_ro_session(slot).map_err(token_error("không mở được phiên làm việc với token"))?;
        session
            .login(UserType::User, Some(&AuthPin::from(pin)))
            .map_err(|e| SigningError::Key(format!("sai mã PIN hoặc token bị khóa ({e})")))?;
        let label = Attribute::Label(settings.key.as_bytes().to_vec());
        let keys = session
            .find_objects(&[Attribute::Class(ObjectClass::PRIVATE_KEY), label])
            .map_err(token_error("không tìm được khóa"))?;
        let [key] = keys[..] else {
            return Err(SigningError::Key(format!(
                "token có {} khóa bí mật mang nhãn «{}» (cần đúng một)",
                keys.len(),
                settings.key
            )));
        };
        let kind = match session.get_attributes(key, &[AttributeType::KeyType]).map_err(token_error("khóa"))?.first() {
            Some(Attribute::KeyType(KeyType::RSA)) => Kind::Rsa,
            Some(Attribute::KeyType(KeyType::EC)) => Kind::Ec,
            _ => return Err(SigningError::Key("khóa không phải RSA hay EC".into())),
        };
        let (certificate, chain) = certificates(&session, &settings.key)?;
        Ok(TokenKey { _module: module, session: Mutex::new(session), key, kind, certificate, chain })
    }

    /// A detached CMS signature of `content` (DER), made by the token.
    pub(crate) fn sign_detached(&self, content: &[u8]) -> Result<Vec<u8>, SigningError> {
        let encapsulated = EncapsulatedContentInfo { econtent_type: rfc5911::ID_DATA, econtent: None };
        let digest = Sha256::digest(content);
        let sha256 = AlgorithmIdentifierOwned { oid: rfc5912::ID_SHA_256, parameters: None };
        let sid = SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
            issuer: self.certificate.tbs_certificate.issuer.clone(),
            serial_number: self.certificate.tbs_certificate.serial_number.clone(),
        });
        let signer = OnToken(self);
        let mut info =
            SignerInfoBuilder::new(&signer, sid, sha256.clone(), &encapsulated, Some(&digest)).map_err(failed)?;
        info.add_signed_attribute(create_signing_time_attribute().map_err(failed)?).map_err(failed)?;
        info.add_signed_attribute(signing_certificate(&self.certificate)?).map_err(failed)?;
        let mut signed = SignedDataBuilder::new(&encapsulated);
        signed.add_digest_algorithm(sha256).map_err(failed)?;
        for c in std::iter::once(&self.certificate).chain(&self.chain) {
            signed.add_certificate(CertificateChoices::Certificate(c.clone())).map_err(failed)?;
        }
        signed.add_signer_info::<_, TokenSignature>(info).map_err(failed)?;
        signed.build().map_err(failed)?.to_der().map_err(failed)
    }

    /// Signs `message` on the token with the key's mechanism.
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, SigningError> {
        let session = self.session.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let refused = token_error("token không ký");
        match self.kind {
            Kind::Rsa => session.sign(&Mechanism::Sha256RsaPkcs, self.key, message).map_err(refused),
            Kind::Ec => {
                let raw = session.sign(&Mechanism::Ecdsa, self.key, &Sha256::digest(message)).map_err(refused)?;
                ecdsa_der(&raw)
            }
        }
    }
}

/// The key's certificate (the one labelled as the key) and the others the
/// token holds (its chain).
fn certificates(session: &Session, label: &str) -> Result<(Certificate, Vec<Certificate>), SigningError> {
    let handles = session
        .find_objects(&[Attribute::Class(ObjectClass::CERTIFICATE)])
        .map_err(token_error("không đọc được chứng thư trên token"))?;
    let (mut own, mut chain) = (None, Vec::new());
    for handle in handles {
        let attributes = session
            .get_attributes(handle, &[AttributeType::Label, AttributeType::Value])
            .map_err(token_error("không đọc được chứng thư trên token"))?;
        let (mut name, mut der) = (Vec::new(), Vec::new());
        for attribute in attributes {
            match attribute {
                Attribute::Label(l) => name = l,
                Attribute::Value(v) => der = v,
                _ => {}
            }
        }
        let certificate = Certificate::from_der(&der)
            .map_err(|e| SigningError::Key(format!("chứng thư trên token không đọc được: {e}")))?;
        if name == label.as_bytes() {
            own = Some(certificate);
        } else {
            chain.push(certificate);
        }
    }
    let own = own.ok_or_else(|| SigningError::Key(format!("token không có chứng thư mang nhãn «{label}»")))?;
    Ok((own, chain))
}

/// The ESS signing-certificate-v2 attribute (RFC 5035) of `certificate`:
/// its SHA-256, which binds the signature to the certificate (CAdES).
fn signing_certificate(certificate: &Certificate) -> Result<CmsAttribute, SigningError> {
    #[derive(Sequence)]
    struct EssCertIdV2 {
        // hashAlgorithm is SHA-256 by default, and then left out.
        cert_hash: OctetString,
    }
    #[derive(Sequence)]
    struct SigningCertificateV2 {
        certs: Vec<EssCertIdV2>,
    }
    let hash = Sha256::digest(certificate.to_der().map_err(failed)?);
    let value = SigningCertificateV2 {
        certs: vec![EssCertIdV2 { cert_hash: OctetString::new(hash.to_vec()).map_err(failed)? }],
    };
    let value = Any::from_der(&value.to_der().map_err(failed)?).map_err(failed)?;
    let values = SetOfVec::try_from(vec![value]).map_err(failed)?;
    Ok(CmsAttribute { oid: rfc5911::ID_AA_SIGNING_CERTIFICATE_V_2, values })
}

/// A raw ECDSA signature (r ‖ s, as PKCS#11 gives it) as the DER
/// `Ecdsa-Sig-Value` CMS carries.
fn ecdsa_der(raw: &[u8]) -> Result<Vec<u8>, SigningError> {
    #[derive(Sequence)]
    struct EcdsaSigValue<'a> {
        r: UintRef<'a>,
        s: UintRef<'a>,
    }
    if raw.is_empty() || !raw.len().is_multiple_of(2) {
        return Err(SigningError::Sign(format!("chữ ký ECDSA dài {} byte", raw.len())));
    }
    let (r, s) = raw.split_at(raw.len() / 2);
    EcdsaSigValue { r: UintRef::new(r).map_err(failed)?, s: UintRef::new(s).map_err(failed)? }.to_der().map_err(failed)
}

/// The token as the `cms` builder's signer.
struct OnToken<'a>(&'a TokenKey);

/// A signature the token made, encoded for CMS.
struct TokenSignature(Vec<u8>);

impl spki::SignatureBitStringEncoding for TokenSignature {
    fn to_bitstring(&self) -> der::Result<BitString> {
        BitString::from_bytes(&self.0)
    }
}

impl signature::Keypair for OnToken<'_> {
    // The builder names the signer by its certificate, not its key.
    type VerifyingKey = ();

    fn verifying_key(&self) {}
}

impl spki::DynSignatureAlgorithmIdentifier for OnToken<'_> {
    fn signature_algorithm_identifier(&self) -> spki::Result<AlgorithmIdentifierOwned> {
        Ok(match self.0.kind {
            Kind::Rsa => {
                AlgorithmIdentifierOwned { oid: rfc5912::SHA_256_WITH_RSA_ENCRYPTION, parameters: Some(Any::null()) }
            }
            Kind::Ec => AlgorithmIdentifierOwned { oid: rfc5912::ECDSA_WITH_SHA_256, parameters: None },
        })
    }
}

impl signature::Signer<TokenSignature> for OnToken<'_> {
    fn try_sign(&self, message: &[u8]) -> Result<TokenSignature, signature::Error> {
        self.0.sign(message).map(TokenSignature).map_err(signature::Error::from_source)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_uri_names_the_module_the_token_and_the_key_never_the_pin() {
        let uri = "pkcs11:token=UBND%20t%E1%BB%89nh;object=ky-so;type=private?module-path=/usr/lib/x.so";
        let settings = TokenSettings::from_uri(uri).unwrap();
        assert_eq!(
            settings,
            TokenSettings { module: "/usr/lib/x.so".into(), token: "UBND tỉnh".into(), key: "ky-so".into() }
        );
        assert!(TokenSettings::from_uri("pkcs11:token=a;object=b").is_err(), "no module");
        assert!(TokenSettings::from_uri("pkcs11:token=a;object=b;pin-value=1?module-path=/x.so").is_err());
        assert!(TokenSettings::from_uri("/etc/baocao/key.p12").is_err());
    }
}
