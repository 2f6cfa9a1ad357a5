//! The package of a dissolved unit: its data in open formats (CSV, JSON),
//! each report as a workbook and as the printable document, its handover
//! record, all in a BagIt bag (RFC 8493) that any archive can verify, with
//! a copy of the record beside the bag for people to open and print.

use std::path::{Path, PathBuf};

use baocao_archive::{Payload, write_bag};
use baocao_core::date::format_vn;
use baocao_core::{Period, Registry};
use baocao_store::Db;
use baocao_store::cutover::{CutoverRecord, CutoverUnit};
use baocao_store::unit_archive::UnitArchive;
use chrono::{Datelike, NaiveDate};

use crate::DocumentError;
use crate::handover::Handover;

/// Who packages, and on what basis: said in the bag and its record.
pub struct Issuer<'a> {
    /// The office that runs the reporting system (Source-Organization).
    pub source_organization: &'a str,
    /// The province whose people's committee the office belongs to.
    pub scope: Option<&'a str>,
    /// The decision the handover follows; the reorganization's plan when none.
    pub legal_basis: Option<&'a str>,
    /// The demo's own cutover: its documents are marked as the demo's.
    pub demo: bool,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> DocumentError + '_ {
    move |source| DocumentError::Io { path: path.display().to_string(), source }
}

/// Where the handover record beside a unit's bag is.
pub fn record_beside(bag: &Path, code: &str) -> PathBuf {
    bag.with_file_name(format!("bien-ban-{code}.html"))
}

/// The handover record inside a bag.
const RECORD_INSIDE: &str = "data/bien-ban-ban-giao.html";

/// Checks that the record beside a bag is the one the bag holds, byte for byte.
pub fn check_record_beside(bag: &Path, code: &str) -> Result<(), DocumentError> {
    let inside = bag.join(RECORD_INSIDE);
    let inside = std::fs::read(&inside).map_err(io(&inside))?;
    let beside = record_beside(bag, code);
    let found = std::fs::read(&beside).map_err(io(&beside))?;
    if found != inside {
        return Err(DocumentError::RecordDiffers { path: beside.display().to_string() });
    }
    Ok(())
}

/// Writes the record beside a bag again from the bag's own copy, when it is
/// missing or damaged; answers where it is when it was written.
pub fn restore_record_beside(bag: &Path, code: &str) -> Result<Option<PathBuf>, DocumentError> {
    if check_record_beside(bag, code).is_ok() {
        return Ok(None);
    }
    let inside = bag.join(RECORD_INSIDE);
    let bytes = std::fs::read(&inside).map_err(io(&inside))?;
    let beside = record_beside(bag, code);
    baocao_archive::write_file(&beside, &bytes)?;
    Ok(Some(beside))
}

/// Writes CSV rows to bytes.
fn csv_bytes(header: &[&str], rows: impl IntoIterator<Item = Vec<String>>) -> Result<Vec<u8>, DocumentError> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(header)?;
    for row in rows {
        w.write_record(row)?;
    }
    w.into_inner().map_err(|e| DocumentError::Csv(e.into_error().into()))
}

fn date(d: Option<NaiveDate>) -> String {
    d.map(|d| d.to_string()).unwrap_or_default()
}

/// The payload of a dissolved unit's package: open formats (CSV, JSON),
/// and each report as a workbook and as the printable document.
pub async fn payload(
    db: &Db,
    registry: &Registry,
    unit: &CutoverUnit,
    data: &UnitArchive,
    demo: bool,
) -> Result<Vec<Payload>, DocumentError> {
    let mut files = Vec::new();
    let json = |v: &serde_json::Value| serde_json::to_vec_pretty(v).expect("a JSON value serializes");
    files.push(Payload {
        path: "don-vi.json".into(),
        bytes: json(&serde_json::json!({ "code": unit.code, "name": unit.name, "versions": data.versions, "successors": unit.successors })),
    });
    files.push(Payload {
        path: "bao-cao.csv".into(),
        bytes: csv_bytes(
            &[
                "regime",
                "period",
                "form",
                "status",
                "submitted_at",
                "approved_at",
                "signer",
                "signer_position",
                "signed_at",
                "revisions",
            ],
            data.reports.iter().map(|r| {
                vec![
                    r.regime.clone(),
                    r.period.clone(),
                    r.form.clone(),
                    r.status.clone(),
                    r.submitted_at.map(|t| t.to_rfc3339()).unwrap_or_default(),
                    r.approved_at.map(|t| t.to_rfc3339()).unwrap_or_default(),
                    r.signer.clone().unwrap_or_default(),
                    r.signer_position.clone().unwrap_or_default(),
                    r.signed_at.map(|t| t.to_rfc3339()).unwrap_or_default(),
                    r.revisions.len().to_string(),
                ]
            }),
        )?,
    });
    for r in &data.reports {
        let name = format!("bao-cao/{}-{}", r.regime, r.period);
        files.push(Payload { path: format!("{name}.json"), bytes: json(&serde_json::json!(r)) });
        let period: Period =
            r.period.parse().map_err(|message: String| DocumentError::Report { report: name.clone(), message })?;
        let view = db.report(registry, &r.regime, &unit.code, &period).await?;
        let workbook = baocao_ingest::xlsx::write_report(&view, demo)
            .map_err(|e| DocumentError::Report { report: name.clone(), message: e.to_string() })?;
        files.push(Payload { path: format!("{name}.xlsx"), bytes: workbook });
        let html = crate::report::printable(view, demo)?;
        files.push(Payload { path: format!("{name}.html"), bytes: html.into_bytes() });
        // A signed report goes with its signature and the exact bytes it
        // covers, so that it can be checked from the package alone.
        let signature = db.report_signature(&r.regime, &unit.code, &r.period).await?;
        if let Some(baocao_store::signatures::Signature {
            state,
            content: Some(content),
            signature: Some(signature),
            ..
        }) = signature
            && state == "signed"
        {
            files.push(Payload { path: format!("{name}.signed.json"), bytes: content.into_bytes() });
            files.push(Payload { path: format!("{name}.p7s"), bytes: signature });
            if let Some(pdf) = db.report_signed_pdf(&r.regime, &unit.code, &r.period).await? {
                files.push(Payload { path: format!("{name}.signed.pdf"), bytes: pdf });
            }
        }
    }
    files.push(Payload {
        path: "so-lieu.csv".into(),
        bytes: csv_bytes(
            &["indicator", "period", "value", "comment"],
            data.values.iter().map(|v| {
                vec![v.indicator.clone(), v.period.clone(), v.value.clone(), v.comment.clone().unwrap_or_default()]
            }),
        )?,
    });
    for f in &data.forms {
        files.push(Payload {
            path: format!("bieu-mau/{}-{}.json", f.code, date(f.valid_from)),
            bytes: json(&serde_json::json!(f)),
        });
    }
    files.push(Payload {
        path: "tai-khoan.csv".into(),
        bytes: csv_bytes(
            &["username", "display_name", "role", "valid_from", "valid_to"],
            data.accounts.iter().map(|a| {
                vec![a.username.clone(), a.display_name.clone(), a.role.clone(), date(a.valid_from), date(a.valid_to)]
            }),
        )?,
    });
    files.push(Payload {
        path: "co-quan.csv".into(),
        bytes: csv_bytes(
            &["code", "name", "kind", "valid_from", "valid_to", "successor_codes", "archive"],
            data.agencies.iter().map(|a| {
                vec![
                    a.code.clone(),
                    a.name.clone(),
                    a.kind.clone(),
                    date(a.valid_from),
                    date(a.valid_to),
                    a.successor_codes.join(";"),
                    a.archive.clone().unwrap_or_default(),
                ]
            }),
        )?,
    });
    // The successor needs to know who worked there and in what post, not
    // their dates of birth or phone numbers.
    files.push(Payload {
        path: "danh-sach-can-bo.csv".into(),
        bytes: csv_bytes(
            &["agency_code", "full_name", "position", "post", "email", "since"],
            data.roster.iter().map(|e| {
                vec![
                    e.agency_code.clone(),
                    e.full_name.clone(),
                    e.position.clone(),
                    e.post.clone(),
                    e.email.clone().unwrap_or_default(),
                    e.since.to_string(),
                ]
            }),
        )?,
    });
    let mut audit = Vec::new();
    for record in &data.audit {
        audit.extend(serde_json::to_vec(record).expect("an audit record serializes"));
        audit.push(b'\n');
    }
    files.push(Payload { path: "nhat-ky.jsonl".into(), bytes: audit });
    Ok(files)
}

/// Writes a dissolved unit's bag, with its handover record inside and a
/// copy beside it for people to open and print; answers where that copy is.
pub async fn package(
    db: &Db,
    registry: &Registry,
    record: &CutoverRecord,
    unit: &CutoverUnit,
    target: &Path,
    issuer: &Issuer<'_>,
) -> Result<PathBuf, DocumentError> {
    let eff = record.effective_date;
    let last_day = eff.pred_opt().unwrap_or(eff);
    let data = db.unit_archive(&unit.code, last_day).await?;
    let mut files = payload(db, registry, unit, &data, issuer.demo).await?;
    let first = data.versions.first().and_then(|v| v.validity.from);
    let validity = match first {
        Some(d) => format!("từ ngày {} đến hết ngày {}", format_vn(d), format_vn(last_day)),
        None => format!("đến hết ngày {}", format_vn(last_day)),
    };
    let successors: Vec<String> = unit
        .successors
        .iter()
        .map(|c| registry.in_force(c, eff).map_or(c.clone(), |u| format!("{} ({c})", u.name)))
        .collect();
    let dissolved = record.summary.dissolved.iter().find(|d| d.code == unit.code);
    let approved = data.reports.iter().filter(|r| r.status == "approved").count();
    let counts = vec![
        ("Báo cáo đã phê duyệt".to_string(), approved.to_string()),
        ("Báo cáo chưa phê duyệt (nháp, đã gửi, bị trả lại)".into(), (data.reports.len() - approved).to_string()),
        (
            "Lần sửa đổi báo cáo (có chữ ký, người thực hiện, thời điểm)".into(),
            data.reports.iter().map(|r| r.revisions.len()).sum::<usize>().to_string(),
        ),
        ("Số liệu chỉ tiêu".into(), data.values.len().to_string()),
        ("Biểu mẫu đã dùng".into(), data.forms.len().to_string()),
        ("Tài khoản, quyền trên đơn vị".into(), data.accounts.len().to_string()),
        (
            "Cơ quan, cán bộ trong danh sách ngày cuối".into(),
            format!("{} / {}", data.agencies.len(), data.roster.len()),
        ),
        ("Bản ghi nhật ký hệ thống".into(), data.audit.len().to_string()),
    ];
    let checksums: Vec<(String, String)> =
        files.iter().map(|f| (format!("data/{}", f.path), baocao_archive::sha256(&f.bytes))).collect();
    let bytes: u64 = files.iter().map(|f| f.bytes.len() as u64).sum::<u64>();
    let province = issuer.scope.and_then(|s| registry.in_force(s, eff));
    let handover = Handover {
        organization_parent: province
            .map_or("ỦY BAN NHÂN DÂN".into(), |p| format!("UBND {}", p.name.to_uppercase())),
        organization: issuer.source_organization.to_uppercase(),
        place: province
            .map_or(String::new(), |p| p.name.split_once(' ').map_or(p.name.clone(), |(_, r)| r.to_string())),
        effective: format_vn(eff),
        day: format!("{:02}", eff.day()),
        month: format!("{:02}", eff.month()),
        year: eff.year().to_string(),
        legal_basis: issuer
            .legal_basis
            .map(str::to_string)
            .unwrap_or_else(|| format!("phương án sắp xếp «{}»", record.reorganization)),
        cutover_key: record.key.clone(),
        cutover_name: record.name.clone(),
        unit_code: unit.code.clone(),
        unit_name: unit.name.clone(),
        validity: validity.clone(),
        successors,
        archive_note: dissolved.and_then(|d| d.archive_note.clone()).unwrap_or_default(),
        counts,
        oxum: format!("{bytes}.{}", files.len()),
        files: checksums,
    };
    let html = crate::handover::render(&handover)?;
    files.push(Payload { path: RECORD_INSIDE.trim_start_matches("data/").into(), bytes: html.clone().into_bytes() });
    let mut info = vec![
        ("Source-Organization", issuer.source_organization.to_string()),
        ("Bagging-Date", eff.to_string()),
        ("External-Identifier", unit.code.clone()),
        ("External-Description", format!("Dữ liệu báo cáo của {} ({}), {validity}", unit.name, unit.code)),
        ("Bag-Group-Identifier", record.key.clone()),
        ("Unit-Code", unit.code.clone()),
        ("Unit-Name", unit.name.clone()),
        ("Unit-Valid-To", eff.to_string()),
        ("Successor-Codes", unit.successors.join(" ")),
    ];
    if let Some(d) = first {
        info.push(("Unit-Valid-From", d.to_string()));
    }
    if let Some(parent) = target.parent() {
        std::fs::create_dir_all(parent).map_err(io(parent))?;
    }
    write_bag(target, &files, &info)?;
    let beside = record_beside(target, &unit.code);
    baocao_archive::write_file(&beside, html.as_bytes())?;
    Ok(beside)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_record_beside_a_bag_is_checked_and_restored_from_the_bag() {
        let dir = tempfile::tempdir().unwrap();
        let bag = dir.path().join("23314");
        std::fs::create_dir_all(bag.join("data")).unwrap();
        std::fs::write(bag.join(RECORD_INSIDE), "<p>biên bản</p>").unwrap();
        let beside = record_beside(&bag, "23314");
        assert_eq!(beside, dir.path().join("bien-ban-23314.html"));

        // Missing: named, then written from the bag's copy.
        assert!(matches!(check_record_beside(&bag, "23314"), Err(DocumentError::Io { .. })));
        assert_eq!(restore_record_beside(&bag, "23314").unwrap(), Some(beside.clone()));
        check_record_beside(&bag, "23314").unwrap();
        // In place: nothing to do.
        assert_eq!(restore_record_beside(&bag, "23314").unwrap(), None);

        // Cut short: refused, then restored.
        std::fs::write(&beside, "<p>biên").unwrap();
        assert!(matches!(check_record_beside(&bag, "23314"), Err(DocumentError::RecordDiffers { .. })));
        restore_record_beside(&bag, "23314").unwrap();
        assert_eq!(std::fs::read_to_string(&beside).unwrap(), "<p>biên bản</p>");
    }
}
