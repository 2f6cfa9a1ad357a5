//! Definitions people write and review as TOML files: forms and regimes.

use serde::de::DeserializeOwned;

use crate::error::{IngestError, Location, Problems};

/// Reads a TOML definition, naming the line and column of any mistake.
pub fn read_toml<T: DeserializeOwned>(file: &str, text: &str) -> Result<T, Problems> {
    toml::from_str(text).map_err(|e| {
        let line = e.span().map(|span| text[..span.start.min(text.len())].matches('\n').count() as u64 + 1);
        Problems(vec![IngestError {
            location: Location { file: file.into(), line, column: None, ..Default::default() },
            message: e.message().to_string(),
        }])
    })
}
