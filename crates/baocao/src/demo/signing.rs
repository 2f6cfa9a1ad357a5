//! The demo's signing key: an authority and the province's key issued on
//! the spot the first time (`baocao_signing::demo`), kept beside the demo's
//! database so that the reports it signed still check after a restart.

use std::path::Path;

use anyhow::Context;
use baocao_signing::{SigningKey, TrustList};

const AUTHORITY: &str = "baocao-demo-ca.pem";
const KEY: &str = "baocao-demo-ky-so.p12";
/// Demo only: a key anyone can make protects nothing.
const PASSPHRASE: &str = "demo-baocao";

/// The demo's key and the trust list holding its authority.
pub fn key() -> anyhow::Result<(SigningKey, TrustList)> {
    if !Path::new(KEY).exists() || !Path::new(AUTHORITY).exists() {
        let issued =
            baocao_signing::demo::issue("Tổ chức chứng thực thử (demo baocao)", "UBND tỉnh (demo baocao)", PASSPHRASE)?;
        std::fs::write(AUTHORITY, &issued.authority_pem).with_context(|| format!("cannot write {AUTHORITY}"))?;
        std::fs::write(KEY, &issued.pkcs12).with_context(|| format!("cannot write {KEY}"))?;
    }
    let der = std::fs::read(KEY).with_context(|| format!("cannot read {KEY}"))?;
    let key = SigningKey::from_pkcs12(&der, PASSPHRASE).with_context(|| KEY.to_string())?;
    let pem = std::fs::read(AUTHORITY).with_context(|| format!("cannot read {AUTHORITY}"))?;
    Ok((key, TrustList::from_pem(&pem).with_context(|| AUTHORITY.to_string())?))
}
