use baocao_core::{RegistryError, ReorgError};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("database schema migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("unsupported database URL «{0}»: expected sqlite:PATH or postgres://…")]
    UnsupportedUrl(String),
    #[error("{}", list("the reorganization cannot be applied", .0))]
    Invalid(Vec<ReorgError>),
    #[error("{}", list("the unit lists cannot be loaded", .0))]
    Baseline(Vec<RegistryError>),
    #[error(transparent)]
    Registry(#[from] RegistryError),
    #[error("{0}")]
    Conflict(String),
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
    #[error("stored data is inconsistent: {0}")]
    Corrupt(String),
}

impl StoreError {
    /// A field whose text holds a forbidden character, refused.
    pub(crate) fn check_text(field: &str, text: &str, lines: bool) -> Result<(), StoreError> {
        baocao_core::text::check_text(text, lines).map_err(|e| StoreError::Unprocessable(format!("{field}: {e}")))
    }
}

fn list<T: std::fmt::Display>(title: &str, items: &[T]) -> String {
    let mut out = format!("{title}; {} problem(s):", items.len());
    for item in items {
        out.push_str("\n  ");
        out.push_str(&item.to_string());
    }
    out
}
