use baocao_core::{RegistryError, ReorgError};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("lỗi cơ sở dữ liệu: {0}")]
    Database(sqlx::Error),
    #[error("lỗi nâng cấp cấu trúc cơ sở dữ liệu: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("địa chỉ cơ sở dữ liệu «{0}» không dùng được: cần sqlite:ĐƯỜNG_DẪN hoặc postgres://…")]
    UnsupportedUrl(String),
    /// The database cannot be opened, and why, said plainly.
    #[error("{0}")]
    Open(String),
    #[error("{}", list("không áp dụng được đợt sắp xếp", .0))]
    Invalid(Vec<ReorgError>),
    #[error("{}", list("không nạp được danh mục đơn vị", .0))]
    Baseline(Vec<RegistryError>),
    #[error(transparent)]
    Registry(#[from] RegistryError),
    #[error("{0}")]
    Conflict(String),
    /// A change made on an earlier state than the one stored (the
    /// precondition of a conditional write failed).
    #[error("{0}")]
    Stale(String),
    /// Input that can never be taken as it is (a control character in a
    /// name, a value of the wrong kind): mend it and send it again.
    #[error("{0}")]
    Unprocessable(String),
    /// Input refused as a whole, with every problem found.
    #[error("{}", list(.0, .1))]
    Refused(&'static str, Vec<String>),
    /// What was asked for does not exist (an unknown regime, form, account …).
    #[error("{0}")]
    NotFound(String),
    #[error("dữ liệu đã lưu không nhất quán: {0}")]
    Corrupt(String),
}

impl From<sqlx::Error> for StoreError {
    /// A write refused because the database is read-only is said so plainly
    /// (SQLite: "attempt to write a readonly database").
    fn from(e: sqlx::Error) -> Self {
        let read_only = e.as_database_error().is_some_and(|d| {
            let code = d.code();
            if d.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some() {
                // SQLITE_READONLY, whose extended codes keep it in the low byte.
                code.and_then(|c| c.parse::<i32>().ok()).is_some_and(|c| c & 0xff == 8)
            } else {
                // read_only_sql_transaction: a standby, a read-only database.
                code.as_deref() == Some("25006")
            }
        });
        if read_only {
            return StoreError::Open(format!(
                "the database cannot be written: its file, directory or file system is read-only \
                 (cơ sở dữ liệu chỉ đọc hoặc không có quyền ghi): {e}"
            ));
        }
        StoreError::Database(e)
    }
}

impl StoreError {
    /// A field whose text holds a forbidden character, refused.
    pub(crate) fn check_text(field: &str, text: &str, lines: bool) -> Result<(), StoreError> {
        baocao_core::text::check_text(text, lines).map_err(|e| StoreError::Unprocessable(format!("{field}: {e}")))
    }
}

fn list<T: std::fmt::Display>(title: &str, items: &[T]) -> String {
    let mut out = format!("{title}; {} lỗi:", items.len());
    for item in items {
        out.push_str("\n  ");
        out.push_str(&item.to_string());
    }
    out
}

/// A request refused for what it asks (the answer names why).
pub(crate) fn rejected(message: String) -> StoreError {
    StoreError::Conflict(message)
}

/// JSON stored by the application read back; unreadable means damaged.
pub(crate) fn parse_json<T: serde::de::DeserializeOwned>(what: &str, text: &str) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("{what}: {e}")))
}
