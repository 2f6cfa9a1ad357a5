//! What baocao stores for a secret, and how a secret is checked against it:
//! passwords as Argon2id hashes in PHC form, session and API tokens as
//! random 256-bit strings kept only as their SHA-256.
//!
//! A crate of its own because both the web application (signing in,
//! sessions, SCIM) and the command line (`users passwd`, `users token`, the
//! demo) make and check credentials, and neither should depend on the other
//! for it. Which passwords are taken is decided here too
//! ([`check_password`]).

use argon2::Argon2;
use argon2::password_hash::rand_core::{OsRng, RngCore};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use sha2::{Digest, Sha256};

/// An argon2id hash of `password` in PHC form, with a fresh salt.
pub fn hash_password(password: &str) -> String {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default().hash_password(password.as_bytes(), &salt).expect("argon2 with default parameters").to_string()
}

/// True when `password` matches the stored PHC `hash`.
pub fn verify_password(hash: &str, password: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
}

/// A fresh random token (256 bits, hex).
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    hex(&bytes)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// What is stored for a token: its SHA-256. Tokens are random and long, so
/// a fast hash is enough (unlike passwords).
pub fn token_hash(token: &str) -> String {
    format!("{:x}", Sha256::digest(token.as_bytes()))
}

/// What authenticator apps show baocao's codes under.
const TOTP_ISSUER: &str = "baocao";

/// A fresh secret for time-based one-time codes (RFC 6238: 160 random
/// bits), in base32 as authenticator apps take it.
pub fn new_totp_secret() -> String {
    totp_rs::Secret::generate().to_base32()
}

fn totp(secret: &str, account: &str) -> Option<totp_rs::Totp> {
    let secret = totp_rs::Secret::try_from_base32(secret).ok()?;
    // Six digits every 30 seconds (SHA-1): what every authenticator app
    // reads; one step either side for a phone's clock that drifts.
    totp_rs::Builder::new()
        .with_secret(secret)
        .with_account_name(account)
        .with_issuer(Some(TOTP_ISSUER))
        .with_skew(1)
        .build()
        .ok()
}

/// The `otpauth://` address an authenticator app reads from a QR code.
pub fn totp_url(secret: &str, account: &str) -> Option<String> {
    totp(secret, account)?.to_url().ok()
}

/// The time step whose code `code` is, at `unix_time` (one step of
/// 30 seconds either side), if it is one: the caller keeps a step from
/// being used twice.
pub fn totp_step(secret: &str, code: &str, unix_time: u64) -> Option<u64> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    totp(secret, "")?.check(&code, unix_time)
}

/// Ten single-use recovery codes (for a lost phone): 40 random bits each,
/// written as two groups of five hexadecimal digits.
pub fn new_recovery_codes() -> Vec<String> {
    (0..10)
        .map(|_| {
            let mut bytes = [0u8; 5];
            OsRng.fill_bytes(&mut bytes);
            let hex = hex(&bytes);
            format!("{}-{}", &hex[..5], &hex[5..])
        })
        .collect()
}

/// A recovery code as typed (any case, with or without its dash or
/// spaces) reduced to what is hashed.
pub fn recovery_code_hash(code: &str) -> String {
    let plain: String = code.chars().filter(char::is_ascii_hexdigit).collect::<String>().to_lowercase();
    token_hash(&plain)
}

/// Shortest password taken, in characters (NIST SP 800-63B asks at least 8).
pub const MIN_PASSWORD_CHARS: usize = 8;
/// Longest password taken: long passphrases are welcome, a megabyte is not
/// (argon2 reads all of it).
pub const MAX_PASSWORD_CHARS: usize = 128;

/// Whether a new password may be used, following NIST SP 800-63B rather
/// than composition rules (no "one capital, one digit"): long enough, and
/// not among what attackers try first — the commonest passwords, words and
/// names by themselves, repeats (`aaaaaaaaaa`), sequences (`12345678`),
/// keyboard rows, dates, or the account's own names (`context`), as
/// zxcvbn's estimate of guesses finds them. The refusal is in Vietnamese.
pub fn check_password(password: &str, context: &[&str]) -> Result<(), String> {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return Err(format!("Mật khẩu cần ít nhất {MIN_PASSWORD_CHARS} ký tự (mật khẩu này có {chars})."));
    }
    if chars > MAX_PASSWORD_CHARS {
        return Err(format!("Mật khẩu dài tối đa {MAX_PASSWORD_CHARS} ký tự."));
    }
    let mut inputs: Vec<&str> = context.to_vec();
    inputs.extend(["baocao", "báo cáo", "bao cao"]);
    // Parts of an address or a name are guessed as readily as the whole.
    let separators = ['@', '.', ' ', '_', '-'];
    let parts = context.iter().flat_map(|c| c.split(separators)).filter(|p| p.len() >= 3);
    inputs.extend(parts);
    // …and so is an address's name written without its dots.
    let joined: Vec<String> =
        context.iter().map(|c| c.split('@').next().unwrap_or(c).replace(separators, "").to_lowercase()).collect();
    inputs.extend(joined.iter().map(String::as_str));
    let estimate = zxcvbn::zxcvbn(password, &inputs);
    if u8::from(estimate.score()) >= 2 {
        return Ok(());
    }
    use zxcvbn::feedback::Warning;
    let why = match estimate.feedback().and_then(|f| f.warning()) {
        Some(Warning::ThisIsATop10Password | Warning::ThisIsATop100Password | Warning::ThisIsACommonPassword) => {
            "nằm trong danh sách mật khẩu phổ biến nhất"
        }
        Some(Warning::ThisIsSimilarToACommonlyUsedPassword) => "gần giống một mật khẩu phổ biến",
        Some(Warning::RepeatsLikeAaaAreEasyToGuess | Warning::RepeatsLikeAbcAbcAreOnlySlightlyHarderToGuess) => {
            "chỉ lặp lại ký tự hoặc cụm ký tự"
        }
        Some(Warning::SequencesLikeAbcAreEasyToGuess) => "là một dãy liên tiếp (như abc, 1234)",
        Some(Warning::StraightRowsOfKeysAreEasyToGuess | Warning::ShortKeyboardPatternsAreEasyToGuess) => {
            "là một hàng phím liền nhau"
        }
        Some(Warning::RecentYearsAreEasyToGuess | Warning::DatesAreOftenEasyToGuess) => "chủ yếu là ngày tháng, năm",
        Some(
            Warning::AWordByItselfIsEasyToGuess
            | Warning::NamesAndSurnamesByThemselvesAreEasyToGuess
            | Warning::CommonNamesAndSurnamesAreEasyToGuess,
        ) => "chỉ là một từ hoặc một tên riêng",
        _ => "dễ đoán (có thể chứa tên đăng nhập, họ tên hoặc tên hệ thống)",
    };
    Err(format!(
        "Mật khẩu này {why}, kẻ gian thử đến rất sớm. Nên dùng một cụm vài từ dễ nhớ với mình nhưng khó đoán với người khác; không bắt buộc chữ hoa, số hay ký hiệu."
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn totp_codes_follow_rfc_6238_and_drift_at_most_one_step() {
        // RFC 6238, appendix B (SHA-1, the 20-byte ASCII secret
        // "12345678901234567890"), last six digits of its eight.
        let secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
        assert_eq!(totp_step(secret, "287082", 59), Some(1));
        assert_eq!(totp_step(secret, "081804", 1111111109), Some(37037036));
        assert_eq!(totp_step(secret, "050471", 1111111111), Some(37037037));
        assert_eq!(totp_step(secret, "005924", 1234567890), Some(41152263));
        assert_eq!(totp_step(secret, "279037", 2000000000), Some(66666666));
        // A step away is accepted, two are not; a wrong code never.
        assert_eq!(totp_step(secret, "081804", 1111111109 + 30), Some(37037036));
        assert_eq!(totp_step(secret, "081804", 1111111109 + 60), None);
        assert_eq!(totp_step(secret, "000000", 1111111109), None);
        assert_eq!(totp_step("not base32!", "081804", 1111111109), None);
        let fresh = new_totp_secret();
        assert_ne!(fresh, new_totp_secret());
        let url = totp_url(&fresh, "an.nv@tinh.gov.vn").unwrap();
        assert!(url.starts_with("otpauth://totp/baocao:an.nv"), "{url}");
        assert!(url.contains(&format!("secret={fresh}")), "{url}");
        let codes = new_recovery_codes();
        assert_eq!(codes.len(), 10);
        assert!(codes.iter().all(|c| c.len() == 11 && c.as_bytes()[5] == b'-'));
        assert_eq!(recovery_code_hash(&codes[0].to_uppercase().replace('-', " ")), recovery_code_hash(&codes[0]));
    }

    #[test]
    fn passwords_are_refused_for_being_guessable_not_for_their_composition() {
        let context = ["nguyen.van.an@tinh.gov.vn", "Nguyễn Văn An"];
        for weak in
            ["aaaaaaaaaa", "12345678", "password", "qwertyuiop", "iloveyou", "abcdefgh", "nguyenvanan", "baocao2025"]
        {
            assert!(check_password(weak, &context).is_err(), "{weak} should be refused");
        }
        let short = check_password("Tr#9x", &context).unwrap_err();
        assert!(short.contains("ít nhất 8 ký tự"), "{short}");
        assert!(check_password("aaaaaaaaaa", &context).unwrap_err().contains("lặp lại"));
        assert!(check_password(&"đồng lúa ".repeat(20), &context).unwrap_err().contains("tối đa 128"));
        // Lowercase passphrases without digits or symbols are fine.
        for strong in ["ngua vang qua cau tre", "mây trắng bay về núi", "correct horse battery staple"] {
            assert_eq!(check_password(strong, &context), Ok(()), "{strong}");
        }
    }

    #[test]
    fn a_password_matches_its_hash_only() {
        let hash = hash_password("mat-khau-dai-du");
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password(&hash, "mat-khau-dai-du"));
        assert!(!verify_password(&hash, "mat-khau-khac"));
        assert!(!verify_password("không phải PHC", "mat-khau-dai-du"));
        // A fresh salt each time: two hashes of one password differ.
        assert_ne!(hash, hash_password("mat-khau-dai-du"));
    }

    #[test]
    fn tokens_are_fresh_and_stored_as_their_digest() {
        let (a, b) = (new_token(), new_token());
        assert_eq!(a.len(), 64);
        assert_ne!(a, b);
        assert_eq!(token_hash(&a), token_hash(&a));
        assert_ne!(token_hash(&a), token_hash(&b));
        assert_eq!(token_hash("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }
}
