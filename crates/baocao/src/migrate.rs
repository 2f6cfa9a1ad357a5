//! `baocao migrate`: the schema brought up to date on the operator's word,
//! and `--check` first, on a copy: an upgrade is tried on yesterday's data
//! before it touches today's.
//!
//! Every command still migrates when it connects (a fresh installation
//! needs nothing else); on an installation in use the operator runs
//! `migrate --check` with the new binary before starting it.

use std::path::Path;

use anyhow::{Context, bail};
use baocao_store::{Backend, Db, Migrations};
use clap::Args;

use crate::output::Format;

#[derive(Args)]
pub struct MigrateArgs {
    /// Try the migrations on a copy (SQLite: a copy in a temporary
    /// directory; PostgreSQL: pg_dump into a temporary database, which
    /// needs the CREATEDB right), verify the copy's audit log, and leave
    /// the database itself as it is.
    #[arg(long)]
    check: bool,
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

pub async fn run(url: &str, args: MigrateArgs) -> anyhow::Result<()> {
    let db = Db::open(url).await.with_context(|| format!("không mở được cơ sở dữ liệu {url}"))?;
    let outcome = migrate(&db, url, &args).await;
    db.close().await;
    let (before, records) = outcome?;
    if args.format == Format::Json {
        return crate::output::json(&serde_json::json!({
            "checked_on_copy": args.check,
            "applied": before.pending,
            "audit_records": records,
        }));
    }
    match (args.check, before.pending.is_empty()) {
        (_, true) => outln!("Lược đồ đã mới nhất ({} bước nâng cấp); không có gì để áp dụng.", before.applied),
        (true, false) => {
            outln!("Đã thử trên bản sao: {} bước nâng cấp áp dụng được:", before.pending.len());
            for step in &before.pending {
                outln!("  {step}");
            }
            outln!(
                "Nhật ký của bản sao nguyên vẹn ({records} bản ghi). Cơ sở dữ liệu chưa thay đổi: chạy `baocao migrate`."
            );
        }
        (false, false) => {
            outln!("Đã áp dụng {} bước nâng cấp:", before.pending.len());
            for step in &before.pending {
                outln!("  {step}");
            }
        }
    }
    Ok(())
}

/// Where the schema stood, and the audit records verified afterwards.
async fn migrate(db: &Db, url: &str, args: &MigrateArgs) -> anyhow::Result<(Migrations, usize)> {
    let before = db.migrations().await?;
    if !before.failed.is_empty() || !before.unknown.is_empty() {
        bail!(
            "lược đồ dở dang ({:?}) hoặc do phiên bản baocao mới hơn tạo ({:?}): không nâng cấp",
            before.failed,
            before.unknown
        );
    }
    if before.pending.is_empty() {
        return Ok((before, 0));
    }
    if !args.check {
        db.migrate().await?;
        let verdict = db.verify_audit().await?;
        return Ok((before, verdict.records));
    }
    let dir = tempfile::tempdir().context("không tạo được thư mục tạm")?;
    let records = match db.backend() {
        Backend::Sqlite => {
            let copy = dir.path().join("copy.sqlite");
            db.backup_sqlite(&copy).await?;
            let target = format!("sqlite:{}", dir.path().join("migrated.sqlite").display());
            crate::backup::restore_into(&copy, &target).await?
        }
        Backend::Postgres => on_a_postgres_copy(db, url, dir.path()).await?,
    };
    Ok((before, records))
}

/// pg_dump of the schema, restored into a temporary database, migrated
/// and verified there; the temporary database is dropped whatever happened.
async fn on_a_postgres_copy(db: &Db, url: &str, dir: &Path) -> anyhow::Result<usize> {
    let dump = dir.join("copy.pgdump");
    crate::backup::write_backup(db, url, &dump).await?;
    let name = format!("baocao_migrate_check_{}", std::process::id());
    let mut target = url::Url::parse(url).with_context(|| format!("địa chỉ cơ sở dữ liệu không đọc được: {url}"))?;
    target.set_path(&name);
    db.create_database(&name).await.context("không tạo được cơ sở dữ liệu tạm (cần quyền CREATEDB)")?;
    let outcome = crate::backup::restore_into(&dump, target.as_str()).await;
    db.drop_database(&name).await?;
    outcome
}
