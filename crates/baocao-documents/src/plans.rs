//! The plans of a cutover day as the lists people hand on: official mail
//! addresses (for the mail system), the reporting system's accounts, and
//! the digital certificate requests (Mẫu 01 for officials, Mẫu 02 for new
//! agencies). The same rows for the command line (printed or written) and
//! for the pages' downloads, so a file is the same whichever made it.

use baocao_core::date::format_vn;
use baocao_core::directory::Step;
use baocao_ingest::roster::{CertificateAgency, CertificatePerson, write_certificate_requests, write_plan};
use baocao_store::Db;
use baocao_store::account_plan::PlannedAddress;
use chrono::NaiveDate;

/// A plan as rows: field names (CSV, JSON), Vietnamese headers, a heading
/// for its workbook, and the values.
pub struct PlanRows {
    pub fields: &'static [&'static str],
    pub headers: &'static [&'static str],
    pub heading: &'static str,
    pub rows: Vec<Vec<String>>,
}

impl PlanRows {
    /// The plan as a workbook dated `day` (the same plan of the same day
    /// gives the same file).
    pub fn workbook(self, day: NaiveDate) -> Result<Vec<u8>, crate::DocumentError> {
        write_plan("Kế hoạch", self.heading, self.headers, self.rows, day).map_err(workbook_error)
    }
}

fn workbook_error(e: impl std::fmt::Display) -> crate::DocumentError {
    crate::DocumentError::Workbook(e.to_string())
}

/// The official addresses of a plan, one row each.
pub fn address_rows(addresses: &[PlannedAddress]) -> PlanRows {
    PlanRows {
        fields: &["person", "full_name", "agency_code", "address", "action"],
        headers: &["Mã", "Họ và tên", "Cơ quan", "Địa chỉ", "Thao tác"],
        heading: "KẾ HOẠCH ĐỊA CHỈ THƯ ĐIỆN TỬ CÔNG VỤ",
        rows: addresses
            .iter()
            .map(|p| {
                vec![
                    p.person.to_string(),
                    p.full_name.clone(),
                    p.agency_code.clone(),
                    p.address.clone(),
                    p.action.into(),
                ]
            })
            .collect(),
    }
}

/// The steps of the reporting system's account plan, one row each.
pub fn step_rows(steps: &[Step]) -> PlanRows {
    let unit = |u: &Option<String>| u.clone().unwrap_or_else(|| "toàn hệ thống".into());
    let rows = steps
        .iter()
        .map(|s| match s {
            Step::Create { username, display_name } => vec!["create".into(), username.clone(), display_name.clone()],
            Step::Grant { username, role, unit: u } => {
                vec!["grant".into(), username.clone(), format!("{} · {}", role.vietnamese(), unit(u))]
            }
            Step::End { username, grant, role, unit: u } => {
                vec!["end".into(), username.clone(), format!("quyền {grant}: {} · {}", role.vietnamese(), unit(u))]
            }
            Step::ReadOnly { username, unit: u, until } => {
                // `until` is the first day without it; people read the last day with it.
                let last = until.pred_opt().unwrap_or(*until);
                vec!["read_only".into(), username.clone(), format!("{} đến hết {}", unit(u), format_vn(last))]
            }
            Step::Close { username } => vec!["close".into(), username.clone(), String::new()],
            Step::Open { username } => vec!["open".into(), username.clone(), String::new()],
            Step::Rename { username, display_name } => vec!["rename".into(), username.clone(), display_name.clone()],
        })
        .collect();
    PlanRows {
        fields: &["action", "username", "detail"],
        headers: &["Thao tác", "Tài khoản", "Chi tiết"],
        heading: "KẾ HOẠCH TÀI KHOẢN HỆ THỐNG BÁO CÁO",
        rows,
    }
}

/// The certificate requests of `day`, as their workbook (Mẫu 01 and 02):
/// officials whose roster asks for a `signature` role, with their official
/// address, and agencies that begin that day. Also how many of each.
pub async fn certificate_requests(
    db: &Db,
    day: NaiveDate,
    addresses: &[PlannedAddress],
) -> Result<(Vec<u8>, usize, usize), crate::DocumentError> {
    let agencies = db.agencies_at(day).await?;
    let name_of = |code: &str| agencies.iter().find(|a| a.code == code).map_or(code.to_string(), |a| a.name.clone());
    let roster = db.roster_at(day, None).await?;
    let people: Vec<CertificatePerson> = roster
        .iter()
        .filter(|e| e.roles.contains_key("signature"))
        .map(|e| CertificatePerson {
            full_name: e.full_name.clone(),
            birth_date: e.birth_date,
            position: e.position.clone(),
            agency: name_of(&e.agency_code),
            email: addresses.iter().find(|a| a.person == e.person).map(|a| a.address.clone()).unwrap_or_default(),
            phone: e.phone.clone(),
        })
        .collect();
    let new_agencies: Vec<CertificateAgency> = agencies
        .iter()
        .filter(|a| a.valid_from == Some(day))
        .map(|a| CertificateAgency { name: a.name.clone(), code: a.code.clone(), unit: a.unit_code.clone() })
        .collect();
    let bytes = write_certificate_requests(&people, &new_agencies, day).map_err(workbook_error)?;
    Ok((bytes, people.len(), new_agencies.len()))
}
