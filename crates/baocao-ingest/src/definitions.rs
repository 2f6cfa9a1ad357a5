//! Definitions people write and review as TOML files: forms and regimes.

use serde::de::DeserializeOwned;

use crate::error::{IngestError, Location, Problems};

/// Reads a TOML definition, naming the line and column of any mistake.
pub fn read_toml<T: DeserializeOwned>(file: &str, text: &str) -> Result<T, Problems> {
    let problem = |line: Option<u64>, message: String| {
        Problems(vec![IngestError {
            location: Location { file: file.into(), line, column: None, ..Default::default() },
            message,
        }])
    };
    let parsed = toml::from_str(text).map_err(|e| {
        let line = e.span().and_then(|span| text.get(..span.start)).map(|t| t.matches('\n').count() as u64 + 1);
        problem(line, e.message().to_string())
    })?;
    // Escapes (`\u0000`) can put into strings what the TOML grammar keeps
    // out of the text itself.
    let strings: toml::Table = toml::from_str(text).map_err(|e| problem(None, e.message().to_string()))?;
    baocao_core::text::check_strings(&strings).map_err(|e| problem(None, e))?;
    Ok(parsed)
}
