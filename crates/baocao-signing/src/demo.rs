//! A certification authority and an organisation's key made on the spot,
//! for the demo (and tests): what a province gets from its certification
//! service, issued here so that `serve --demo` signs and checks reports
//! without one. Never for real reports: anyone can make such a key.

use openssl::asn1::Asn1Time;
use openssl::bn::BigNum;
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkcs12::Pkcs12;
use openssl::pkey::{PKey, Private};
use openssl::stack::Stack;
use openssl::x509::extension::{BasicConstraints, KeyUsage};
use openssl::x509::{X509, X509Builder, X509Name, X509NameBuilder};

use crate::SigningError;

/// What was issued: the authority's certificate (PEM, the trust list) and
/// the organisation's key with its chain (PKCS#12, encrypted).
pub struct Issued {
    pub authority_pem: Vec<u8>,
    pub pkcs12: Vec<u8>,
}

fn name(common: &str) -> Result<X509Name, openssl::error::ErrorStack> {
    let mut b = X509NameBuilder::new()?;
    b.append_entry_by_nid(Nid::COUNTRYNAME, "VN")?;
    b.append_entry_by_nid(Nid::COMMONNAME, common)?;
    Ok(b.build())
}

fn certificate(
    subject: &X509Name,
    issuer: &X509Name,
    signer: &PKey<Private>,
    public: &PKey<Private>,
    serial: u32,
    authority: bool,
) -> Result<X509, openssl::error::ErrorStack> {
    let mut b = X509Builder::new()?;
    b.set_version(2)?;
    let serial = BigNum::from_u32(serial)?.to_asn1_integer()?;
    b.set_serial_number(&serial)?;
    b.set_subject_name(subject)?;
    b.set_issuer_name(issuer)?;
    b.set_pubkey(public)?;
    let (from, to) = (Asn1Time::days_from_now(0)?, Asn1Time::days_from_now(3650)?);
    b.set_not_before(&from)?;
    b.set_not_after(&to)?;
    if authority {
        b.append_extension(BasicConstraints::new().critical().ca().build()?)?;
        b.append_extension(KeyUsage::new().critical().key_cert_sign().crl_sign().build()?)?;
    } else {
        b.append_extension(BasicConstraints::new().build()?)?;
        b.append_extension(KeyUsage::new().critical().digital_signature().non_repudiation().build()?)?;
    }
    b.sign(signer, MessageDigest::sha256())?;
    Ok(b.build())
}

/// Issues an authority named `authority` and, under it, the key of
/// `organisation`, kept in a PKCS#12 file encrypted with `passphrase`.
pub fn issue(authority: &str, organisation: &str, passphrase: &str) -> Result<Issued, SigningError> {
    let made = || -> Result<Issued, openssl::error::ErrorStack> {
        let authority_key = PKey::ec_gen("prime256v1")?;
        let authority_name = name(authority)?;
        let root = certificate(&authority_name, &authority_name, &authority_key, &authority_key, 1, true)?;
        let key = PKey::ec_gen("prime256v1")?;
        let own = certificate(&name(organisation)?, &authority_name, &authority_key, &key, 2, false)?;
        let mut chain = Stack::new()?;
        chain.push(root.clone())?;
        let pkcs12 = Pkcs12::builder().name(organisation).pkey(&key).cert(&own).ca(chain).build2(passphrase)?;
        Ok(Issued { authority_pem: root.to_pem()?, pkcs12: pkcs12.to_der()? })
    };
    made().map_err(|e| SigningError::Key(e.to_string()))
}

/// The key of a PKCS#12 file as PKCS#8 PEM and its certificate as DER:
/// what token tools (`softhsm2-util --import`, `pkcs11-tool`) load.
pub fn unpack(pkcs12: &[u8], passphrase: &str) -> Result<(Vec<u8>, Vec<u8>), SigningError> {
    let unpacked = || -> Result<(Vec<u8>, Vec<u8>), openssl::error::ErrorStack> {
        let parsed = Pkcs12::from_der(pkcs12)?.parse2(passphrase)?;
        let (Some(key), Some(certificate)) = (parsed.pkey, parsed.cert) else {
            return Err(openssl::error::ErrorStack::get());
        };
        Ok((key.private_key_to_pem_pkcs8()?, certificate.to_der()?))
    };
    unpacked().map_err(|e| SigningError::Key(format!("sai định dạng hoặc sai mật khẩu ({e})")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{SigningKey, TrustList, verify_detached};

    #[test]
    fn a_signature_holds_against_its_authority_only_and_for_its_content_only() {
        let issued = issue("CA thử", "UBND tỉnh thử", "mat-khau").unwrap();
        let key = SigningKey::from_pkcs12(&issued.pkcs12, "mat-khau").unwrap();
        assert_eq!(key.subject(), "UBND tỉnh thử");
        let trust = TrustList::from_pem(&issued.authority_pem).unwrap();
        let content = br#"{"values":{"HS_TIEP_NHAN":"120"}}"#;
        let signature = key.sign_detached(content).unwrap();
        verify_detached(&signature, content, &trust).unwrap();
        let changed = br#"{"values":{"HS_TIEP_NHAN":"121"}}"#;
        assert!(verify_detached(&signature, changed, &trust).is_err());
        let other = issue("CA khác", "Kẻ giả mạo", "x").unwrap();
        let stranger = TrustList::from_pem(&other.authority_pem).unwrap();
        assert!(verify_detached(&signature, content, &stranger).is_err());
        assert!(verify_detached(b"not a signature", content, &trust).is_err());
        assert!(TrustList::from_pem(b"no certificate here").is_err());
        assert!(SigningKey::from_pkcs12(&issued.pkcs12, "sai").is_err());
    }
}
