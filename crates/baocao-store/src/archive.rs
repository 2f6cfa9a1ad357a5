//! Archive packages loaded for consultation: a bag's files kept as they
//! were, in the database, so that a fresh instance (or the same one) can
//! show a dissolved unit's data read-only. Loaded once, never changed.

use chrono::Utc;
use serde::Serialize;
use serde_json::json;

use crate::audit::Change;
use crate::{Db, StoreError, append_audit, with_conn, with_pool};

/// A loaded package.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Package {
    pub id: i64,
    /// The bag's group (the cutover's key).
    pub group_key: String,
    pub unit_code: String,
    pub unit_name: String,
    pub oxum: String,
    /// bag-info.txt, in order.
    pub info: Vec<(String, String)>,
}

/// A file of a package to load: path in the bag, content, its SHA-256.
pub struct PackageFile {
    pub path: String,
    pub content: Vec<u8>,
    pub sha256: String,
}

type PackageRow = (i64, String, String, String, String, String);

fn package_of(row: PackageRow) -> Result<Package, StoreError> {
    let (id, group_key, unit_code, unit_name, oxum, info) = row;
    Ok(Package { id, group_key, unit_code, unit_name, oxum, info: crate::error::parse_json("bag info", &info)? })
}

const COLUMNS: &str = "id, group_key, unit_code, unit_name, oxum, info";

impl Db {
    /// Loads a verified bag; one already loaded (same group and unit) is
    /// left as it is. Returns the package and whether it was new.
    pub async fn load_package(
        &self,
        actor: &str,
        info: &[(String, String)],
        files: &[PackageFile],
    ) -> Result<(i64, bool), StoreError> {
        let field = |name: &str| info.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
        let group = field("Bag-Group-Identifier").unwrap_or_default();
        let code = field("External-Identifier")
            .ok_or_else(|| StoreError::Conflict("bag-info.txt thiếu External-Identifier (mã đơn vị).".into()))?;
        let name = field("Unit-Name").unwrap_or_else(|| code.clone());
        let oxum = field("Payload-Oxum").unwrap_or_default();
        let info_json = serde_json::to_string(info).expect("strings serialize");
        let mut tx = self.begin_write().await?;
        let out = with_conn!(tx, |conn| {
            let existing: Option<i64> =
                sqlx::query_scalar("SELECT id FROM archive_packages WHERE group_key = $1 AND unit_code = $2")
                    .bind(&group)
                    .bind(&code)
                    .fetch_optional(&mut *conn)
                    .await?;
            if let Some(id) = existing {
                return Ok((id, false));
            }
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO archive_packages (group_key, unit_code, unit_name, oxum, info, loaded_at)
                 VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
            )
            .bind(&group)
            .bind(&code)
            .bind(&name)
            .bind(&oxum)
            .bind(&info_json)
            .bind(Utc::now())
            .fetch_one(&mut *conn)
            .await?;
            for f in files {
                sqlx::query("INSERT INTO archive_files (package_id, path, sha256, content) VALUES ($1, $2, $3, $4)")
                    .bind(id)
                    .bind(&f.path)
                    .bind(&f.sha256)
                    .bind(&f.content)
                    .execute(&mut *conn)
                    .await?;
            }
            let change = Change {
                at: Utc::now(),
                actor,
                action: "archive.load",
                object: format!("package {group} {code}"),
                before: None,
                after: Some(json!({ "unit": code, "name": name, "oxum": oxum, "files": files.len() })),
            };
            append_audit!(conn, &change);
            (id, true)
        });
        tx.commit().await?;
        Ok(out)
    }

    /// Every loaded package, by group then unit code.
    pub async fn packages(&self) -> Result<Vec<Package>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM archive_packages ORDER BY group_key, unit_code");
        let rows: Vec<PackageRow> = with_pool!(self, |pool| sqlx::query_as(&sql).fetch_all(pool).await?);
        rows.into_iter().map(package_of).collect()
    }

    pub async fn package(&self, id: i64) -> Result<Package, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM archive_packages WHERE id = $1");
        let row: Option<PackageRow> =
            with_pool!(self, |pool| sqlx::query_as(&sql).bind(id).fetch_optional(pool).await?);
        package_of(row.ok_or_else(|| StoreError::NotFound(format!("Không có gói lưu trữ số {id}.")))?)
    }

    /// A package's files: path, checksum, size.
    pub async fn package_files(&self, id: i64) -> Result<Vec<(String, String, i64)>, StoreError> {
        let sql = "SELECT path, sha256, CAST(LENGTH(content) AS BIGINT) FROM archive_files WHERE package_id = $1 ORDER BY path";
        Ok(with_pool!(self, |pool| sqlx::query_as(sql).bind(id).fetch_all(pool).await?))
    }

    pub async fn package_file(&self, id: i64, path: &str) -> Result<Vec<u8>, StoreError> {
        let sql = "SELECT content FROM archive_files WHERE package_id = $1 AND path = $2";
        let content: Option<Vec<u8>> =
            with_pool!(self, |pool| sqlx::query_scalar(sql).bind(id).bind(path).fetch_optional(pool).await?);
        content.ok_or_else(|| StoreError::NotFound(format!("Gói lưu trữ số {id} không có tệp «{path}».")))
    }
}
