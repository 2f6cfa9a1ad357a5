//! The handover record (biên bản bàn giao) of a dissolved unit's data: what
//! was handed over to which successor, counts and checksums, in the
//! official document layout (Decree 30/2020), as a standalone HTML file.

use askama::Template;

use crate::DocumentError;

/// What a handover record states.
pub struct Handover {
    /// The province's people's committee, above the issuing office.
    pub organization_parent: String,
    /// The office that runs the reporting system and hands the data over.
    pub organization: String,
    /// The place in "…, ngày … tháng … năm …".
    pub place: String,
    /// The cutover's effective day, dd/mm/yyyy.
    pub effective: String,
    pub day: String,
    pub month: String,
    pub year: String,
    pub legal_basis: String,
    pub cutover_key: String,
    pub cutover_name: String,
    pub unit_code: String,
    pub unit_name: String,
    /// "từ dd/mm/yyyy đến hết dd/mm/yyyy".
    pub validity: String,
    /// Receiving units, "Name (code)".
    pub successors: Vec<String>,
    pub archive_note: String,
    /// What was handed over, and how many.
    pub counts: Vec<(String, String)>,
    /// Payload files (the record itself aside) and their SHA-256.
    pub files: Vec<(String, String)>,
    /// Their Payload-Oxum (bytes.files).
    pub oxum: String,
}

#[derive(Template)]
#[template(path = "handover.html")]
struct HandoverPage<'a> {
    h: &'a Handover,
}

/// The handover record as a standalone HTML document.
pub fn render(h: &Handover) -> Result<String, DocumentError> {
    Ok(crate::standalone(&HandoverPage { h }.render()?))
}
