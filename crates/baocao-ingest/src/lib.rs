//! Reading input files into domain types.
//!
//! Every reader here is all-or-nothing: it either returns complete domain
//! values or every problem it found, each naming the file, the line and the
//! column, so that a person can fix the file in one pass.

pub mod definitions;
pub mod dhis2;
pub mod error;
pub mod feed;
pub mod form_xlsx;
pub mod indicators;
pub mod roster;
pub mod table;
pub mod tasks;
pub mod upstream;
pub mod vn_admin;
pub mod workbook;
pub mod xlsx;

pub use error::{IngestError, Location, OVER_LIMIT, Problems};
