//! The demo's national instance: a second baocao, on a database of its
//! own, that stands for the central level. `serve --demo` prepares it once
//! the province serves (`prepare`), serves it in the same process on a port
//! of its own (`serve.rs`), and links the province to it (`link`): each
//! report approved in the demo is sent up, as a province's is to the
//! centre, and can be read there.
//!
//! The national instance holds the national registry, the demo's
//! indicators and the monthly regime over the whole country; the province
//! signs into it as an account of its own (`tinh<code>`, administering its
//! province there), with an API token kept in a file beside its database
//! that the province's link names (`secret_file`). A person signs in as
//! `quocgia` (a viewer of everything) with the demo's password.

use std::path::{Path, PathBuf};

use baocao_core::access::{Grant, Permission, Role};
use baocao_core::regime::Regime;
use baocao_core::upstream::Link;
use baocao_ingest::definitions::read_toml;
use baocao_store::Db;

use super::{DEMO_ACTOR, REGIME};

const UPSTREAM: &str = include_str!("../../../../data/demo/upstream.toml");
/// The name of the province's token at the national instance: a restart
/// replaces it.
const TOKEN_NAME: &str = "demo: gửi lên từ tỉnh";
/// The national instance's reader.
pub const READER: &str = "quocgia";

/// Where the national instance keeps its database and the province's key.
pub struct Place {
    pub url: String,
    pub token_file: PathBuf,
}

/// Beside the province's SQLite file (`x.db` → `x-quoc-gia.db`), or in
/// the working directory when the province is on PostgreSQL.
pub fn place(province_url: &str) -> Place {
    let file = province_url
        .strip_prefix("sqlite:")
        .map(|path| path.split('?').next().unwrap_or(path))
        .filter(|path| !path.is_empty() && *path != ":memory:")
        .map(|path| {
            let path = Path::new(path);
            let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("baocao-demo");
            path.with_file_name(format!("{stem}-quoc-gia.db"))
        })
        .unwrap_or_else(|| PathBuf::from("baocao-demo-quoc-gia.db"));
    Place { url: format!("sqlite:{}", file.display()), token_file: file.with_extension("token") }
}

/// Opens the national instance's database and loads what it needs to
/// receive the province's reports: the registry, the indicators, the
/// regime, its accounts, and a new token for the province (written to
/// `place.token_file`, readable by this user only).
pub async fn prepare(place: &Place, province: &str, password: &str) -> anyhow::Result<Db> {
    let db = Db::connect(&place.url).await?;
    super::load_registry(&db, &crate::progress::Progress::new(true)).await?;
    super::load_forms(&db).await?;
    let mut regime: Regime = read_toml("regime-monthly.toml", REGIME)?;
    // The centre receives every province's communes.
    regime.units.under = None;
    db.save_regime(DEMO_ACTOR, &regime).await?;

    let sender = format!("tinh{province}");
    let accounts = [
        (sender.as_str(), format!("Tỉnh {province} (gửi báo cáo lên)"), Role::SystemAdmin, Some(province.to_string())),
        (READER, "Cán bộ cấp trung ương (demo)".to_string(), Role::Viewer, None),
    ];
    for (username, name, role, unit) in accounts {
        if db.account(username).await?.is_some() {
            continue;
        }
        let hash = baocao_credentials::hash_password(password);
        db.create_account(DEMO_ACTOR, username, &name, Some(&hash)).await?;
        let grant = Grant { role, unit, forms: Vec::new(), validity: baocao_core::Validity::default() };
        db.add_grant(DEMO_ACTOR, username, &grant).await?;
    }
    for old in db.tokens().await?.iter().filter(|t| t.name == TOKEN_NAME && t.revoked_at.is_none()) {
        db.revoke_token(DEMO_ACTOR, old.id).await?;
    }
    let token = baocao_credentials::new_token();
    let scopes = [Permission::EnterReports, Permission::ViewReports, Permission::ManageCatalog];
    db.create_token(DEMO_ACTOR, &sender, TOKEN_NAME, &baocao_credentials::token_hash(&token), &scopes).await?;
    write_private(&place.token_file, &token)?;
    Ok(db)
}

/// The province's link to the national instance at `base`, as
/// `data/demo/upstream.toml` describes it, its key in `token_file`.
pub async fn link(province: &Db, base: &str, token_file: &Path) -> anyhow::Result<()> {
    let mut link: Link = baocao_ingest::upstream::read_link("data/demo/upstream.toml", UPSTREAM)?;
    link.url = format!("{base}/api/v1");
    link.secret_env = String::new();
    link.secret_file = Some(token_file.display().to_string());
    // A demo instance comes back quickly: try again soon.
    link.retry_seconds = 5;
    province.save_upstream_link(DEMO_ACTOR, &link).await?;
    Ok(())
}

/// Writes `text` to `path`, readable and writable by its owner only.
fn write_private(path: &Path, text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(text.as_bytes())?;
    file.sync_all()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_national_database_lies_beside_the_provinces() {
        let p = place("sqlite:/tmp/x/demo.db");
        assert_eq!(
            (p.url.as_str(), p.token_file.to_str()),
            ("sqlite:/tmp/x/demo-quoc-gia.db", Some("/tmp/x/demo-quoc-gia.token"))
        );
        assert_eq!(place("sqlite:baocao-demo.db?mode=rwc").url, "sqlite:baocao-demo-quoc-gia.db");
        assert_eq!(place("postgres://localhost/baocao").url, "sqlite:baocao-demo-quoc-gia.db");
    }
}
