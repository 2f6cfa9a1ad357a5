//! The configuration file (`--config FILE` or `BAOCAO_CONFIG`): one TOML
//! file an operator keeps in `/etc/baocao/baocao.toml`, each key the name
//! of a command-line option (`listen`, `smtp_url`, …) and of its
//! environment variable without `BAOCAO_` (`BAOCAO_LISTEN`, …).
//!
//! What is said closest to the command wins: the command line, then the
//! environment, then the file, then the built-in default. The file's
//! values are handed to clap as if typed after the command, but only for
//! options the command line and the environment left unset (clap says where
//! each value came from), so clap checks them as it checks everything.
//! `docs/baocao.toml` documents every key; a test keeps the two in step.

use std::ffi::OsString;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::ArgMatches;
use clap::parser::ValueSource;
use serde::Deserialize;

/// The largest configuration file read (it is a few dozen lines).
const LIMIT: u64 = 1 << 20;

/// Every key of the file. Unknown keys are refused: a misspelt key would
/// otherwise be silently without effect.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub database_url: Option<String>,
    pub log: Option<String>,
    pub log_format: Option<LogFormat>,
    pub listen: Option<SocketAddr>,
    pub public_url: Option<String>,
    pub secure_cookies: Option<bool>,
    pub behind_proxy: Option<bool>,
    pub mail_domain: Option<String>,
    pub smtp_url: Option<String>,
    pub mail_from: Option<String>,
    pub second_factor_for: Option<String>,
    pub oidc_issuer: Option<String>,
    pub oidc_client_id: Option<String>,
    pub oidc_client_secret: Option<String>,
    pub oidc_name: Option<String>,
    pub notify_at: Option<String>,
    pub backup_dir: Option<PathBuf>,
    pub backup_at: Option<String>,
    pub backup_keep: Option<usize>,
    pub signing_key: Option<PathBuf>,
    pub trust_list: Option<PathBuf>,
}

#[derive(Clone, Copy, Debug, Deserialize, PartialEq)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

impl Config {
    /// Reads and checks the file at `path`; every error names the file,
    /// and the line and key where TOML can tell.
    pub fn read(path: &Path) -> anyhow::Result<Config> {
        let shown = path.display();
        let size = std::fs::metadata(path).with_context(|| format!("không đọc được tệp cấu hình {shown}"))?.len();
        if size > LIMIT {
            bail!("tệp cấu hình {shown} quá lớn ({size} byte; tối đa {LIMIT})");
        }
        let text = std::fs::read_to_string(path).with_context(|| format!("không đọc được tệp cấu hình {shown}"))?;
        let config: Config =
            toml::from_str(&text).map_err(|e| anyhow::anyhow!("tệp cấu hình {shown}: {}", e.to_string().trim()))?;
        if let Some(log) = &config.log {
            tracing_subscriber::EnvFilter::try_new(log)
                .map_err(|e| anyhow::anyhow!("tệp cấu hình {shown}: khóa `log`: {e}"))?;
        }
        for (key, value) in [("notify_at", &config.notify_at), ("backup_at", &config.backup_at)] {
            if let Some(value) = value {
                baocao_core::schedule::parse_time(value)
                    .map_err(|e| anyhow::anyhow!("tệp cấu hình {shown}: khóa `{key}`: {e}"))?;
            }
        }
        Ok(config)
    }

    /// The options to add after the command line: those the file sets and
    /// neither the command line nor the environment did. `serve` is the
    /// subcommand's matches when the command is `serve`.
    pub fn arguments(&self, top: &ArgMatches, serve: Option<&ArgMatches>) -> Vec<OsString> {
        let mut args = Vec::new();
        let unset = |matches: &ArgMatches, id: &str| {
            !matches!(matches.value_source(id), Some(ValueSource::CommandLine | ValueSource::EnvVariable))
        };
        if let Some(url) = &self.database_url
            && unset(top, "db")
        {
            args.extend(["--db".into(), url.into()]);
        }
        let Some(serve) = serve else { return args };
        let values: [(&str, Option<String>); 15] = [
            ("listen", self.listen.map(|a| a.to_string())),
            ("public_url", self.public_url.clone()),
            ("mail_domain", self.mail_domain.clone()),
            ("smtp_url", self.smtp_url.clone()),
            ("mail_from", self.mail_from.clone()),
            ("second_factor_for", self.second_factor_for.clone()),
            ("oidc_issuer", self.oidc_issuer.clone()),
            ("oidc_client_id", self.oidc_client_id.clone()),
            ("oidc_client_secret", self.oidc_client_secret.clone()),
            ("oidc_name", self.oidc_name.clone()),
            ("notify_at", self.notify_at.clone()),
            ("backup_dir", self.backup_dir.as_ref().map(|d| d.display().to_string())),
            ("backup_at", self.backup_at.clone()),
            ("signing_key", self.signing_key.as_ref().map(|d| d.display().to_string())),
            ("trust_list", self.trust_list.as_ref().map(|d| d.display().to_string())),
        ];
        let keep = ("backup_keep", self.backup_keep.map(|n| n.to_string()));
        for (id, value) in values.into_iter().chain([keep]) {
            if let Some(value) = value
                && unset(serve, id)
            {
                args.extend([flag(id), value.into()]);
            }
        }
        for (id, on) in [("secure_cookies", self.secure_cookies), ("behind_proxy", self.behind_proxy)] {
            if on == Some(true) && unset(serve, id) {
                args.push(flag(id));
            }
        }
        args
    }
}

/// `--smtp-url` for `smtp_url`.
fn flag(id: &str) -> OsString {
    format!("--{}", id.replace('_', "-")).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The documented example sets every key, and nothing else: the
    /// documentation cannot fall behind the code.
    #[test]
    fn the_documented_example_names_every_key() {
        let path = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/baocao.toml"));
        let text = std::fs::read_to_string(path).unwrap();
        // The example keeps its keys commented out; uncommented, it parses.
        let uncommented: String = text
            .lines()
            .map(|l| l.strip_prefix("# ").filter(|rest| rest.contains(" = ")).unwrap_or(l))
            .collect::<Vec<_>>()
            .join("\n");
        let config: Config = toml::from_str(&uncommented).unwrap();
        let shown = format!("{config:?}");
        assert!(!shown.contains("None"), "a key missing from docs/baocao.toml: {shown}");
    }

    #[test]
    fn a_misspelt_key_or_a_bad_time_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("baocao.toml");
        std::fs::write(&path, "listen = \"0.0.0.0:8080\"\nsmtp_ulr = \"smtp://localhost\"\n").unwrap();
        let error = Config::read(&path).unwrap_err().to_string();
        assert!(error.contains("baocao.toml") && error.contains("smtp_ulr") && error.contains("line 2"), "{error}");
        std::fs::write(&path, "backup_at = \"25:00\"\n").unwrap();
        let error = Config::read(&path).unwrap_err().to_string();
        assert!(error.contains("`backup_at`"), "{error}");
    }
}
