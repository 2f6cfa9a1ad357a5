//! `baocao backup` and `baocao restore`, and the backup a cutover takes
//! before it changes anything: SQLite's online copy (`VACUUM INTO`) or
//! `pg_dump`, written under a hidden name, checked, flushed, then named; a
//! restore goes into a new database only and is checked by verifying the
//! audit log's hash chain.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use baocao_store::Db;
use clap::Args;

use crate::output::{self, Format};

/// The name backups made by `baocao backup` start with.
const PREFIX: &str = "baocao";

#[derive(Args)]
pub struct BackupArgs {
    /// Where backups are kept.
    #[arg(long, default_value = "backups")]
    dir: PathBuf,
    /// Keep this many of the newest backups made by this command and
    /// remove older ones (a cutover's backups are left alone).
    #[arg(long)]
    keep: Option<usize>,
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

#[derive(Args)]
pub struct RestoreArgs {
    /// A backup made by `baocao backup` or a cutover (.sqlite or .pgdump).
    file: PathBuf,
    /// The new database to restore into: `sqlite:PATH` (a file that does not
    /// exist yet) or `postgres://…` (a database without the backup's schema).
    #[arg(long)]
    to: String,
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

pub async fn backup(db: &Db, url: &str, args: BackupArgs) -> anyhow::Result<()> {
    let (path, removed) = backup_and_prune(db, url, &args.dir, args.keep).await?;
    if args.format == Format::Json {
        return output::json(&serde_json::json!({ "backup": path, "removed": removed }));
    }
    outln!("bản sao lưu: {}", path.display());
    for old in &removed {
        outln!("đã xóa (cũ hơn {} bản được giữ): {}", args.keep.unwrap_or_default(), old.display());
    }
    Ok(())
}

/// A backup in `dir`, then all but the `keep` newest of this command's
/// removed: the backup and what was removed.
pub async fn backup_and_prune(
    db: &Db,
    url: &str,
    dir: &Path,
    keep: Option<usize>,
) -> anyhow::Result<(PathBuf, Vec<PathBuf>)> {
    let path = write(db, url, dir, PREFIX).await?;
    let removed = match keep {
        Some(keep) => prune(dir, keep.max(1))?,
        None => Vec::new(),
    };
    Ok((path, removed))
}

/// Removes all but the `keep` newest backups of this command in `dir`
/// (their names sort by time).
fn prune(dir: &Path, keep: usize) -> anyhow::Result<Vec<PathBuf>> {
    let mut ours: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            let name = p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            name.starts_with(&format!("{PREFIX}-")) && (name.ends_with(".sqlite") || name.ends_with(".pgdump"))
        })
        .collect();
    ours.sort();
    let old = ours.len().saturating_sub(keep);
    let removed: Vec<PathBuf> = ours.into_iter().take(old).collect();
    for path in &removed {
        std::fs::remove_file(path).with_context(|| format!("không xóa được {}", path.display()))?;
    }
    Ok(removed)
}

/// Restores a backup into a new database and verifies its audit log.
pub async fn restore(args: RestoreArgs) -> anyhow::Result<()> {
    let records = restore_into(&args.file, &args.to).await?;
    if args.format == Format::Json {
        return output::json(&serde_json::json!({ "restored": args.to, "audit_records": records }));
    }
    outln!("đã khôi phục vào {}; nhật ký kiểm toán nguyên vẹn: {records} bản ghi, chuỗi băm đã kiểm tra", args.to);
    Ok(())
}

/// Restores `file` into the new database `to`, brings its schema up to
/// date, and verifies its audit log: the number of records verified.
pub(crate) async fn restore_into(file: &Path, to: &str) -> anyhow::Result<usize> {
    let is_sqlite = file.extension().is_some_and(|e| e == "sqlite");
    match (is_sqlite, to.strip_prefix("sqlite:")) {
        (true, Some(path)) => {
            let path = Path::new(path.split('?').next().unwrap_or(path));
            if path.exists() {
                bail!("{} đã có: bản sao lưu chỉ được khôi phục vào một cơ sở dữ liệu mới", path.display());
            }
            Db::check_sqlite_file(file)
                .await
                .with_context(|| format!("{} không phải là bản sao lưu hợp lệ", file.display()))?;
            let partial = path.with_extension("restoring");
            std::fs::copy(file, &partial).with_context(|| format!("không ghi được {}", partial.display()))?;
            std::fs::File::open(&partial).and_then(|f| f.sync_all())?;
            std::fs::rename(&partial, path).with_context(|| format!("không đặt tên được {}", path.display()))?;
        }
        (false, None) if to.starts_with("postgres") => {
            let status = std::process::Command::new("pg_restore")
                .args(["--no-owner", "--exit-on-error", "--dbname", to])
                .arg(file)
                .status()
                .context("không chạy được pg_restore (cài gói postgresql-client)")?;
            if !status.success() {
                bail!(
                    "pg_restore thất bại ({status}): cơ sở dữ liệu đích có phải là cơ sở mới, chưa có lược đồ không?"
                );
            }
        }
        _ => bail!("bản sao lưu .sqlite khôi phục vào sqlite:ĐƯỜNG_DẪN, bản .pgdump vào postgres://…"),
    }
    let db = Db::connect(to).await.with_context(|| format!("không mở được cơ sở dữ liệu đã khôi phục {to}"))?;
    let verdict = db.verify_audit().await;
    db.close().await;
    let verdict = verdict?;
    if !verdict.problems.is_empty() {
        bail!("nhật ký kiểm toán đã khôi phục không nguyên vẹn:\n{}", verdict.problems.join("\n"));
    }
    Ok(verdict.records)
}

/// Backs the database up into `dir` as `PREFIX-STAMP.sqlite|pgdump`: written
/// under a hidden name, checked (SQLite's integrity check, or `pg_restore`
/// reading the dump's table of contents), flushed to the disk, and only
/// then given its name. A backup killed or cut short by a full disk never
/// looks like a backup, and what it left is cleared by the next run.
pub(crate) async fn write(db: &Db, url: &str, dir: &Path, key: &str) -> anyhow::Result<PathBuf> {
    std::fs::create_dir_all(dir).with_context(|| format!("không tạo được thư mục {}", dir.display()))?;
    let extension = if db.backend() == baocao_store::Backend::Sqlite { "sqlite" } else { "pgdump" };
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ");
    // Two runs in one second get two names.
    let target = (1..)
        .map(|n| match n {
            1 => dir.join(format!("{key}-{stamp}.{extension}")),
            n => dir.join(format!("{key}-{stamp}-{n}.{extension}")),
        })
        .find(|p| !p.exists())
        .expect("some name is free");
    let name = target.file_name().expect("a file name").to_string_lossy().into_owned();
    let partial = dir.join(format!(".{name}.partial"));
    for leftover in std::fs::read_dir(dir)?.filter_map(|e| e.ok().map(|e| e.path())) {
        let hidden = leftover.file_name().is_some_and(|n| n.to_string_lossy().starts_with(&format!(".{key}-")));
        if hidden && leftover.extension().is_some_and(|e| e == "partial") {
            std::fs::remove_file(&leftover).with_context(|| format!("không xóa được {}", leftover.display()))?;
        }
    }
    let written = write_backup(db, url, &partial).await;
    if let Err(e) = written {
        let _ = std::fs::remove_file(&partial);
        return Err(e.context("sao lưu thất bại; không có gì thay đổi"));
    }
    std::fs::File::open(&partial)
        .and_then(|f| f.sync_all())
        .with_context(|| format!("không ghi xuống đĩa được {}", partial.display()))?;
    std::fs::rename(&partial, &target).with_context(|| format!("không đặt tên được {}", target.display()))?;
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .with_context(|| format!("không ghi xuống đĩa được {}", dir.display()))?;
    Ok(target)
}

/// Writes a backup to `path` and checks it can be read back.
pub(crate) async fn write_backup(db: &Db, url: &str, path: &Path) -> anyhow::Result<()> {
    if db.backup_sqlite(path).await? {
        return Ok(baocao_store::Db::check_sqlite_file(path).await?);
    }
    let schema = db.schema().await?.unwrap_or_else(|| "public".into());
    let status = std::process::Command::new("pg_dump")
        .args(["--format=custom", "--no-owner", "--schema", &schema, "--file"])
        .arg(path)
        .arg(url)
        .status()
        .context("không chạy được pg_dump (cài gói postgresql-client)")?;
    if !status.success() {
        bail!("pg_dump thất bại ({status})");
    }
    let listed = std::process::Command::new("pg_restore")
        .arg("--list")
        .arg(path)
        .stdout(std::process::Stdio::null())
        .status()
        .context("không chạy được pg_restore để kiểm tra bản sao lưu (cài gói postgresql-client)")?;
    if !listed.success() {
        bail!("pg_restore không đọc lại được bản sao lưu ({listed})");
    }
    Ok(())
}
