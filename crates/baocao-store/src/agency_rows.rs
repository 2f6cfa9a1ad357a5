//! How an agency is stored and read back: one row shape and one reader,
//! for the directory and for the registry's reorganization gate (which
//! reads the agencies of the units a plan dissolves) alike.

use baocao_core::directory::Agency;
use chrono::NaiveDate;

use crate::StoreError;

pub(crate) type AgencyRow = (
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<NaiveDate>,
    Option<NaiveDate>,
    String,
    Option<String>,
);

pub(crate) const SELECT_AGENCIES: &str =
    "SELECT code, name, kind, parent_code, unit_code, valid_from, valid_to, successor_codes, archive FROM agencies";

pub(crate) fn agency_of(row: AgencyRow) -> Result<Agency, StoreError> {
    let (code, name, kind, parent_code, unit_code, valid_from, valid_to, successors, archive) = row;
    let successor_codes = serde_json::from_str(&successors)
        .map_err(|e| StoreError::Corrupt(format!("successors of agency {code}: {e}")))?;
    Ok(Agency { code, name, kind, parent_code, unit_code, valid_from, valid_to, successor_codes, archive })
}

/// Every version of every agency, on a connection of a transaction.
macro_rules! all_agencies {
    ($conn:expr) => {{
        let rows: Vec<_> = sqlx::query_as($crate::agency_rows::SELECT_AGENCIES).fetch_all(&mut *$conn).await?;
        rows.into_iter().map($crate::agency_rows::agency_of).collect::<Result<Vec<_>, StoreError>>()?
    }};
}
pub(crate) use all_agencies;
