//! baocao's official documents and packages: a report printed as the
//! official document a unit signs, the handover record (biên bản bàn giao)
//! of a dissolved unit's data, both in the layout of Decree 30/2020, and the
//! BagIt package that carries a dissolved unit's data to its successors.
//!
//! The web application shows the documents (`/reports/…/print`, linked to
//! [`STYLESHEET`] at [`STYLESHEET_PATH`]); the command line writes them to
//! files and packages (`cutover apply`, the demo), made [`standalone`]. Both
//! use this crate, so neither depends on the other.

pub mod handover;
pub mod package;
pub mod plans;
pub mod report;
pub mod report_pdf;
pub mod restated;
pub mod table;

use baocao_store::StoreError;

/// The stylesheet of official documents.
pub const STYLESHEET: &str = include_str!("../static/document.css");

/// Where pages link [`STYLESHEET`]; the web application serves it there.
pub const STYLESHEET_PATH: &str = "/static/document.css";

/// A document as a file of its own: the stylesheet link replaced by the
/// stylesheet itself, so that it reads and prints the same anywhere.
pub fn standalone(html: &str) -> String {
    html.replacen(
        &format!(r#"<link rel="stylesheet" href="{STYLESHEET_PATH}">"#),
        &format!("<style>\n{STYLESHEET}</style>"),
        1,
    )
}

/// Why a document or a package could not be made.
#[derive(Debug, thiserror::Error)]
pub enum DocumentError {
    #[error("không lập được văn bản: {0}")]
    Template(#[from] askama::Error),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("báo cáo {report}: {message}")]
    Report { report: String, message: String },
    #[error("không ghi được gói lưu trữ: {0}")]
    Package(#[from] baocao_archive::BagError),
    #[error("không lập được tệp CSV: {0}")]
    Csv(#[from] csv::Error),
    #[error("{path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("{path}: khác với biên bản trong gói (bị hỏng hoặc ghi dở)")]
    RecordDiffers { path: String },
    #[error("không lập được tệp Excel: {0}")]
    Workbook(String),
    #[error("không lập được tệp PDF: {0}")]
    Pdf(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_standalone_document_carries_its_stylesheet() {
        let page = format!(r#"<head><link rel="stylesheet" href="{STYLESHEET_PATH}"></head>"#);
        let file = standalone(&page);
        assert!(!file.contains(STYLESHEET_PATH));
        assert!(file.contains("@page { size: A4"));
    }
}
