//! What baocao stores for a secret, and how a secret is checked against it:
//! passwords as Argon2id hashes in PHC form, session and API tokens as
//! random 256-bit strings kept only as their SHA-256.
//!
//! A crate of its own because both the web application (signing in,
//! sessions, SCIM) and the command line (`users passwd`, `users token`, the
//! demo) make and check credentials, and neither should depend on the other
//! for it.

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
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// What is stored for a token: its SHA-256. Tokens are random and long, so
/// a fast hash is enough (unlike passwords).
pub fn token_hash(token: &str) -> String {
    format!("{:x}", Sha256::digest(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

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
