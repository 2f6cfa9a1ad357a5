//! The demo's signing key: an authority and the province's key issued on
//! the spot the first time (`baocao_signing::demo`), kept beside the demo's
//! database so that the reports it signed still check after a restart.
//!
//! Where SoftHSM2 and OpenSC are installed (Debian's `softhsm2`, `opensc`),
//! the key is moved into a SoftHSM2 token beside the demo's files, the way
//! official keys are held, and the demo signs through PKCS#11 ([`use_token`]);
//! otherwise it signs with the PKCS#12 file.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::Context;
use baocao_signing::token::TokenSettings;
use baocao_signing::{SigningKey, TrustList};

const AUTHORITY: &str = "baocao-demo-ca.pem";
const KEY: &str = "baocao-demo-ky-so.p12";
/// Demo only: a key anyone can make protects nothing.
const PASSPHRASE: &str = "demo-baocao";

/// Debian's SoftHSM2 module.
const MODULE: &str = "/usr/lib/softhsm/libsofthsm2.so";
/// The demo's token: its folder, label, the key's label and the PINs.
const TOKEN_DIR: &str = "baocao-demo-token";
const TOKEN: &str = "baocao-demo";
const OBJECT: &str = "ky-so";
const PIN: &str = "demo-baocao-pin";
const SO_PIN: &str = "demo-baocao-so-pin";

/// Issues the demo's authority and key the first time.
fn issue_if_missing() -> anyhow::Result<()> {
    if !Path::new(KEY).exists() || !Path::new(AUTHORITY).exists() {
        let issued =
            baocao_signing::demo::issue("Tổ chức chứng thực thử (demo baocao)", "UBND tỉnh (demo baocao)", PASSPHRASE)?;
        crate::files::write(AUTHORITY, &issued.authority_pem)?;
        crate::files::write(KEY, &issued.pkcs12)?;
    }
    Ok(())
}

/// The token's configuration file, in the working directory.
fn token_conf() -> anyhow::Result<PathBuf> {
    Ok(std::env::current_dir()?.join(TOKEN_DIR).join("softhsm2.conf"))
}

/// Whether a tool answers on this machine.
fn installed(tool: &str) -> bool {
    Command::new(tool).arg("--help").output().is_ok()
}

/// Puts the demo's key into a SoftHSM2 token once, then starts this
/// process again with the token's configuration in its environment
/// (SoftHSM2 reads it from there only); returns only when the demo signs
/// with the PKCS#12 file instead: SoftHSM2 or OpenSC missing, the
/// environment already naming a configuration, or the token not made
/// (said, not fatal).
pub fn use_token() -> anyhow::Result<()> {
    if std::env::var_os("SOFTHSM2_CONF").is_some()
        || !Path::new(MODULE).exists()
        || !installed("softhsm2-util")
        || !installed("pkcs11-tool")
    {
        return Ok(());
    }
    issue_if_missing()?;
    let conf = token_conf()?;
    if !conf.exists() {
        let dir = conf.parent().expect("a file in a folder").to_path_buf();
        if let Err(e) = make_token(&dir, &conf) {
            tracing::warn!(error = %format!("{e:#}"), "the demo's key stays in its PKCS#12 file");
            let _ = std::fs::remove_dir_all(&dir);
            return Ok(());
        }
    }
    let again = std::env::current_exe()?;
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        let error = Command::new(again).args(std::env::args_os().skip(1)).env("SOFTHSM2_CONF", &conf).exec();
        Err(anyhow::Error::new(error).context("không khởi động lại được với thiết bị ký của bản trình diễn"))
    }
    #[cfg(not(unix))]
    {
        let _ = again;
        Ok(())
    }
}

/// A SoftHSM2 token in `dir` holding the demo's key and certificate.
fn make_token(dir: &Path, conf: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir.join("tokens"))?;
    let settings = format!(
        "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n",
        dir.join("tokens").display()
    );
    std::fs::write(conf, settings)?;
    let run = |tool: &str, args: &[&str]| -> anyhow::Result<()> {
        let out = Command::new(tool).current_dir(dir).env("SOFTHSM2_CONF", conf).args(args).output()?;
        anyhow::ensure!(out.status.success(), "{tool}: {}", String::from_utf8_lossy(&out.stderr).trim());
        Ok(())
    };
    run("softhsm2-util", &["--init-token", "--free", "--label", TOKEN, "--pin", PIN, "--so-pin", SO_PIN])?;
    let der = crate::files::read(KEY)?;
    let (key, certificate) = baocao_signing::demo::unpack(&der, PASSPHRASE)?;
    // The key passes through a file only for the import, and is removed.
    std::fs::write(dir.join("ky-so.pem"), key)?;
    std::fs::write(dir.join("ky-so.der"), certificate)?;
    let imported = run(
        "softhsm2-util",
        &["--import", "ky-so.pem", "--token", TOKEN, "--label", OBJECT, "--id", "01", "--pin", PIN],
    );
    std::fs::remove_file(dir.join("ky-so.pem"))?;
    imported?;
    let login = ["--module", MODULE, "--token-label", TOKEN, "--login", "--pin", PIN];
    run(
        "pkcs11-tool",
        &[&login[..], &["--write-object", "ky-so.der", "--type", "cert", "--label", OBJECT, "--id", "01"]].concat(),
    )
}

/// The demo's key (in its token when this process was started on it, see
/// [`use_token`]) and the trust list holding its authority.
pub fn key() -> anyhow::Result<(SigningKey, TrustList)> {
    issue_if_missing()?;
    let pem = crate::files::read(AUTHORITY)?;
    let trust = TrustList::from_pem(&pem).with_context(|| AUTHORITY.to_string())?;
    let on_token =
        std::env::var_os("SOFTHSM2_CONF").is_some_and(|c| token_conf().is_ok_and(|ours| Path::new(&c) == ours));
    if on_token {
        let settings = TokenSettings { module: MODULE.into(), token: TOKEN.into(), key: OBJECT.into() };
        let key = SigningKey::from_pkcs11(&settings, PIN).context("thiết bị SoftHSM2 của bản trình diễn")?;
        outln!("Khóa ký của bản trình diễn nằm trong thiết bị SoftHSM2 «{TOKEN}» ({TOKEN_DIR}/)");
        return Ok((key, trust));
    }
    let der = crate::files::read(KEY)?;
    let key = SigningKey::from_pkcs12(&der, PASSPHRASE).with_context(|| KEY.to_string())?;
    Ok((key, trust))
}
