//! Signatures inside PDF documents (PAdES, ETSI EN 319 142): an approved
//! report's printed PDF signed with the organisation's key, and the check
//! of a signed PDF someone uploads.
//!
//! Signing appends an incremental update (ISO 32000-1, 12.8) to the PDF:
//! a signature field on the first page and its signature dictionary,
//! whose `/Contents` holds a CMS detached signature (CAdES: SHA-256, the
//! signing certificate as a signed attribute, the chain) of every byte
//! of the file but the signature itself (`/ByteRange`). `lopdf` writes the
//! update; the key signs ([`SigningKey::sign_detached`]); what readers such as `pdfsig` and Acrobat check
//! is the standard layout, not ours.
//!
//! Checking does not parse the PDF's objects, which an uploaded file may
//! make hostile: it finds each `/ByteRange`, takes the signature from the
//! gap it leaves, and checks that signature over the ranges it names.

use chrono::{DateTime, Utc};
use der::{Decode, Encode, SliceReader};
use lopdf::{Dictionary, IncrementalDocument, Object, StringFormat};

use crate::{SigningError, SigningKey, TrustList};

/// Bytes kept for the CMS signature: the certificate chain of a
/// provincial organisation and its signature fit with room to spare.
const SIGNATURE_SPACE: usize = 32 * 1024;

/// Written where the byte ranges go once the file's length is known:
/// wide enough for any offset of a document this size.
const RANGE_PLACEHOLDER: i64 = 9_999_999_999;

/// Signs `pdf` (a document made by baocao): the same document with a
/// signature field whose signature covers the whole file. `reason` and
/// `signed_at` are shown by PDF readers beside the signature.
pub fn sign_pdf(key: &SigningKey, pdf: &[u8], reason: &str, signed_at: DateTime<Utc>) -> Result<Vec<u8>, SigningError> {
    let bad = |e: lopdf::Error| SigningError::Sign(format!("tệp PDF: {e}"));
    let mut document: IncrementalDocument = pdf.try_into().map_err(bad)?;
    let previous = document.get_prev_documents();
    let root = previous.trailer.get(b"Root").and_then(Object::as_reference).map_err(bad)?;
    let page =
        *previous.get_pages().values().next().ok_or_else(|| SigningError::Sign("tệp PDF không có trang".into()))?;

    let placeholder = Object::Integer(RANGE_PLACEHOLDER);
    let mut signature = Dictionary::new();
    signature.set("Type", Object::Name(b"Sig".to_vec()));
    signature.set("Filter", Object::Name(b"Adobe.PPKLite".to_vec()));
    signature.set("SubFilter", Object::Name(b"ETSI.CAdES.detached".to_vec()));
    signature.set(
        "ByteRange",
        Object::Array(vec![Object::Integer(0), placeholder.clone(), placeholder.clone(), placeholder]),
    );
    signature.set("Contents", Object::String(vec![0; SIGNATURE_SPACE], StringFormat::Hexadecimal));
    signature.set("M", Object::string_literal(signed_at.format("D:%Y%m%d%H%M%SZ").to_string()));
    signature.set("Name", text_string(&key.subject()));
    signature.set("Reason", text_string(reason));
    let new = &mut document.new_document;
    let signature = new.add_object(signature);
    let mut field = Dictionary::new();
    field.set("Type", Object::Name(b"Annot".to_vec()));
    field.set("Subtype", Object::Name(b"Widget".to_vec()));
    field.set("FT", Object::Name(b"Sig".to_vec()));
    // An invisible signature: the printed page keeps its layout.
    field.set("Rect", Object::Array(vec![0.into(), 0.into(), 0.into(), 0.into()]));
    field.set("F", Object::Integer(132));
    field.set("T", text_string("Chữ ký số"));
    field.set("V", Object::Reference(signature));
    field.set("P", Object::Reference(page));
    let field = new.add_object(field);

    document.opt_clone_object_to_new_document(root).map_err(bad)?;
    document.opt_clone_object_to_new_document(page).map_err(bad)?;
    let new = &mut document.new_document;
    let mut form = Dictionary::new();
    form.set("Fields", Object::Array(vec![Object::Reference(field)]));
    // Signatures exist, and the file may only be appended to.
    form.set("SigFlags", Object::Integer(3));
    new.get_dictionary_mut(root).map_err(bad)?.set("AcroForm", Object::Dictionary(form));
    let page = new.get_dictionary_mut(page).map_err(bad)?;
    match page.get_mut(b"Annots") {
        Ok(Object::Array(annotations)) => annotations.push(Object::Reference(field)),
        Ok(_) => return Err(SigningError::Sign("tệp PDF: /Annots của trang không phải một mảng".into())),
        Err(_) => page.set("Annots", Object::Array(vec![Object::Reference(field)])),
    }

    let mut out = Vec::with_capacity(pdf.len() + 2 * SIGNATURE_SPACE + 4096);
    document.save_to(&mut out).map_err(|e| SigningError::Sign(format!("tệp PDF: {e}")))?;

    // The gap is the hex string `<00…00>`, angle brackets included.
    let zeros = vec![b'0'; 2 * SIGNATURE_SPACE];
    let start =
        find_from(&out, &zeros, pdf.len()).ok_or_else(|| SigningError::Sign("không thấy chỗ giữ chữ ký".into()))? - 1;
    let end = start + 2 * SIGNATURE_SPACE + 2;
    let ranges = [0, start, end, out.len() - end];
    let written = format!("[0 {RANGE_PLACEHOLDER} {RANGE_PLACEHOLDER} {RANGE_PLACEHOLDER}]");
    let at = find_from(&out, written.as_bytes(), pdf.len())
        .ok_or_else(|| SigningError::Sign("không thấy chỗ giữ /ByteRange".into()))?;
    let actual = format!("[{} {} {} {}]", ranges[0], ranges[1], ranges[2], ranges[3]);
    out[at..at + written.len()].copy_from_slice(format!("{actual:<width$}", width = written.len()).as_bytes());

    let mut covered = out[..start].to_vec();
    covered.extend_from_slice(&out[end..]);
    let cms = key.sign_detached(&covered)?;
    let hex = hex::encode_upper(&cms);
    if hex.len() > 2 * SIGNATURE_SPACE {
        return Err(SigningError::Sign(format!("chữ ký dài {} byte, quá chỗ dành cho nó", cms.len())));
    }
    out[start + 1..start + 1 + hex.len()].copy_from_slice(hex.as_bytes());
    Ok(out)
}

/// A PDF text string: UTF-16BE with its byte order mark, which every
/// reader shows with Vietnamese diacritics.
fn text_string(text: &str) -> Object {
    let mut bytes = vec![0xFE, 0xFF];
    bytes.extend(text.encode_utf16().flat_map(u16::to_be_bytes));
    Object::String(bytes, StringFormat::Hexadecimal)
}

fn find_from(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    haystack.get(from..)?.windows(needle.len()).position(|w| w == needle).map(|i| i + from)
}

/// One signature found in a PDF, as checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PdfSignature {
    /// The signing certificate's common name, when it could be read.
    pub signer: Option<String>,
    /// The signing time the signature carries (a signed attribute).
    pub signed_at: Option<DateTime<Utc>>,
    /// Whether the signature covers the file to its last byte: a
    /// signature followed by later changes covers an earlier version.
    pub covers_whole_file: bool,
    /// Why the signature does not hold; `None` when it does: the signed
    /// bytes are unchanged and the certificate chains to the trust list.
    pub problem: Option<String>,
}

/// At most this many signatures are checked in one file.
const MAX_SIGNATURES: usize = 16;

/// Checks every signature in a PDF against `trust`; an empty list when
/// the file carries none. The file is read as bytes only (see the
/// module's note), so any input is safe to give.
pub fn verify_pdf(pdf: &[u8], trust: &TrustList) -> Vec<PdfSignature> {
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(at) = find_from(pdf, b"/ByteRange", from) {
        from = at + 1;
        if found.len() == MAX_SIGNATURES {
            break;
        }
        let Some(ranges) = byte_range(&pdf[at + b"/ByteRange".len()..]) else { continue };
        found.push(check_one(pdf, ranges, trust));
    }
    found
}

/// The four numbers of a `/ByteRange [a b c d]`, when they are four
/// non-negative integers.
fn byte_range(after: &[u8]) -> Option<[usize; 4]> {
    let text = after.get(..after.len().min(128))?;
    let open = text.iter().position(|&b| b == b'[')?;
    let close = open + text[open..].iter().position(|&b| b == b']')?;
    let inside = std::str::from_utf8(&text[open + 1..close]).ok()?;
    let numbers: Vec<usize> = inside.split_ascii_whitespace().map(str::parse).collect::<Result<_, _>>().ok()?;
    numbers.try_into().ok()
}

fn check_one(pdf: &[u8], [a, b, c, d]: [usize; 4], trust: &TrustList) -> PdfSignature {
    let mut checked = PdfSignature { signer: None, signed_at: None, covers_whole_file: false, problem: None };
    let within = a == 0 && b < c && c.checked_add(d).is_some_and(|end| end <= pdf.len());
    let gap = within.then(|| &pdf[b..c]).filter(|g| g.len() >= 2 && g[0] == b'<' && g[g.len() - 1] == b'>');
    let Some(gap) = gap else {
        checked.problem = Some("vùng ký (/ByteRange) không hợp lệ".into());
        return checked;
    };
    checked.covers_whole_file = c + d == pdf.len();
    let hex: Vec<u8> = gap[1..gap.len() - 1].iter().copied().filter(|b| !b.is_ascii_whitespace()).collect();
    let Ok(der) = hex::decode(&hex) else {
        checked.problem = Some("chữ ký không phải chuỗi thập lục phân".into());
        return checked;
    };
    let der = cms_prefix(&der);
    let (signer, signed_at) = describe(der);
    checked.signer = signer;
    checked.signed_at = signed_at;
    let mut covered = pdf[..b].to_vec();
    covered.extend_from_slice(&pdf[c..c + d]);
    checked.problem = crate::verify_detached(der, &covered, trust).err().map(|e| e.to_string());
    checked
}

/// The CMS structure at the start of `bytes`, without the zeros that pad
/// the space kept for it.
fn cms_prefix(bytes: &[u8]) -> &[u8] {
    let Ok(mut reader) = SliceReader::new(bytes) else { return bytes };
    match der::asn1::AnyRef::decode(&mut reader) {
        Ok(any) => {
            any.encoded_len().ok().and_then(|l| bytes.get(..usize::try_from(u32::from(l)).ok()?)).unwrap_or(bytes)
        }
        Err(_) => bytes,
    }
}

/// Who signed and when, as the signature says: the first signer's
/// certificate's common name and its signing-time attribute. Read, not
/// trusted: whether they hold is [`crate::verify_detached`]'s answer.
fn describe(der: &[u8]) -> (Option<String>, Option<DateTime<Utc>>) {
    use cms::content_info::ContentInfo;
    use cms::signed_data::{SignedData, SignerIdentifier};
    let Ok(info) = ContentInfo::from_der(der) else { return (None, None) };
    let Ok(signed) = info.content.decode_as::<SignedData>() else { return (None, None) };
    let Some(first) = signed.signer_infos.0.iter().next() else { return (None, None) };
    let signed_at = first.signed_attrs.iter().flat_map(|a| a.iter()).find_map(|attribute| {
        (attribute.oid == const_oid::db::rfc5911::ID_SIGNING_TIME)
            .then(|| x509_cert::time::Time::from_der(&attribute.values.iter().next()?.to_der().ok()?).ok())
            .flatten()
            .and_then(|t| DateTime::<Utc>::from_timestamp(i64::try_from(t.to_unix_duration().as_secs()).ok()?, 0))
    });
    let certificate = signed.certificates.iter().flat_map(|set| set.0.iter()).find_map(|choice| match choice {
        cms::cert::CertificateChoices::Certificate(c) => match &first.sid {
            SignerIdentifier::IssuerAndSerialNumber(id)
                if c.tbs_certificate.issuer == id.issuer && c.tbs_certificate.serial_number == id.serial_number =>
            {
                Some(c)
            }
            SignerIdentifier::SubjectKeyIdentifier(_) => Some(c),
            _ => None,
        },
        _ => None,
    });
    let signer = certificate.and_then(|c| crate::common_name(&c.tbs_certificate.subject));
    (signer, signed_at)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demo::issue;
    use lopdf::dictionary;
    use proptest::prelude::*;

    /// A one-page PDF, as a document maker writes it.
    fn one_page() -> Vec<u8> {
        let mut document = lopdf::Document::with_version("1.7");
        let pages = document.new_object_id();
        let page = document.add_object(dictionary! {
            "Type" => "Page", "Parent" => pages, "MediaBox" => vec![0.into(), 0.into(), 595.into(), 842.into()],
        });
        document.objects.insert(
            pages,
            Object::Dictionary(dictionary! {
                "Type" => "Pages", "Kids" => vec![page.into()], "Count" => 1,
            }),
        );
        let catalog = document.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages });
        document.trailer.set("Root", catalog);
        let mut out = Vec::new();
        document.save_to(&mut out).unwrap();
        out
    }

    #[test]
    fn a_signed_pdf_holds_for_its_authority_until_a_byte_changes() {
        let issued = issue("CA thử", "UBND tỉnh thử", "mat-khau").unwrap();
        let key = SigningKey::from_pkcs12(&issued.pkcs12, "mat-khau").unwrap();
        let trust = TrustList::from_pem(&issued.authority_pem).unwrap();
        let at = DateTime::parse_from_rfc3339("2026-12-06T03:00:00Z").unwrap().to_utc();
        let signed = sign_pdf(&key, &one_page(), "Phê duyệt báo cáo", at).unwrap();

        let found = verify_pdf(&signed, &trust);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].problem, None);
        assert_eq!(found[0].signer.as_deref(), Some("UBND tỉnh thử"));
        assert!(found[0].covers_whole_file);
        let when = found[0].signed_at.expect("the signing time is a signed attribute");
        assert!((when - Utc::now()).num_minutes().abs() < 5, "{when}");

        // A byte changed in what the signature covers.
        let mut changed = signed.clone();
        let at = changed.windows(9).position(|w| w == b"/MediaBox").unwrap();
        changed[at + 12] = b'9';
        assert!(verify_pdf(&changed, &trust)[0].problem.is_some());
        // Something appended after signing: the signature holds for the
        // version it signed, which is not the whole file any more.
        let mut appended = signed.clone();
        appended.extend_from_slice(b"\n% later\n");
        let later = &verify_pdf(&appended, &trust)[0];
        assert_eq!(later.problem, None);
        assert!(!later.covers_whole_file);
        // Another authority's trust list.
        let other = issue("CA khác", "Kẻ giả mạo", "x").unwrap();
        let stranger = TrustList::from_pem(&other.authority_pem).unwrap();
        let refused = &verify_pdf(&signed, &stranger)[0];
        assert!(refused.problem.is_some());
        assert_eq!(refused.signer.as_deref(), Some("UBND tỉnh thử"));
        // A file with no signature.
        assert!(verify_pdf(&one_page(), &trust).is_empty());
    }

    #[test]
    fn broken_byte_ranges_are_reported_not_followed() {
        let issued = issue("CA thử", "UBND tỉnh thử", "mat-khau").unwrap();
        let trust = TrustList::from_pem(&issued.authority_pem).unwrap();
        for hostile in [
            &b"/ByteRange [0 5 3 1]"[..],
            b"/ByteRange [0 1 99999999999999 1]",
            b"/ByteRange [0 1 18446744073709551615 18446744073709551615]",
            b"x/ByteRange [0 12 14 0]<>",
            b"/ByteRange [0 11 15 0]<zz>",
        ] {
            let found = verify_pdf(hostile, &trust);
            assert!(found.iter().all(|s| s.problem.is_some()), "{}", String::from_utf8_lossy(hostile));
        }
        assert!(verify_pdf(b"/ByteRange [not numbers]", &trust).is_empty());
    }

    proptest! {
        #[test]
        fn any_bytes_are_checked_without_panicking(
            head in proptest::collection::vec(any::<u8>(), 0..64),
            numbers in proptest::array::uniform4(0usize..200),
            tail in proptest::collection::vec(any::<u8>(), 0..160),
        ) {
            let issued = TRUST.with(|t| t.clone());
            let trust = TrustList::from_pem(&issued).unwrap();
            let mut file = head;
            file.extend_from_slice(format!("/ByteRange [{} {} {} {}]", numbers[0], numbers[1], numbers[2], numbers[3]).as_bytes());
            file.extend_from_slice(&tail);
            for s in verify_pdf(&file, &trust) {
                prop_assert!(s.problem.is_some());
            }
        }
    }

    thread_local! {
        static TRUST: Vec<u8> = issue("CA thử", "UBND", "x").unwrap().authority_pem;
    }
}
