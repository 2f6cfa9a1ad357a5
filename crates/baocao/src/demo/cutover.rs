//! The demo province goes through the 2025 cutover as a province does: the
//! agencies that served its communes before and after the day, a roster on
//! each side of it, then the cutover of the applied reorganization over its
//! territory (old communes of every province merged into it included),
//! which makes the dissolved communes' reports read-only, activates the new
//! officials' accounts and packages every dissolved unit with its handover
//! record.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use anyhow::Context;
use baocao_core::cutover::{AccountPlan, Cutover, ReorgSource};
use baocao_core::directory::{Agency, DEFAULT_GRACE_DAYS, Gender, Listing};
use baocao_core::regime::Regime;
use baocao_core::{Period, Registry, UnitVersion};
use baocao_ingest::vn_admin::{REFORM_KEY, effective_date};
use baocao_store::Db;
use chrono::{Datelike, NaiveDate};

use super::{DEMO_ACTOR, noise};
use crate::cutover::Plan;
use crate::progress::Progress;

/// Where the demo's packages and its backup go: beside the demo database's
/// default file, in the directory the demo runs in.
const ARCHIVE_DIR: &str = "baocao-demo-luu-tru";
const BACKUP_DIR: &str = "baocao-demo-sao-luu";

/// The key of the demo province's cutover.
pub fn key(province: &str) -> String {
    format!("demo-{province}-2025")
}

/// Runs the demo province's cutover once; a later start finds it done.
pub async fn run(
    db: &Db,
    url: &str,
    registry: &Registry,
    regime: &Regime,
    province: &str,
    domain: &str,
    progress: &Progress,
) -> anyhow::Result<()> {
    let key = key(province);
    let archive_dir = PathBuf::from(ARCHIVE_DIR);
    if db.cutover(&key).await?.is_some_and(|c| c.units.iter().all(|u| u.package.is_some())) {
        return Ok(());
    }
    let eff = effective_date();
    let eve = eff.pred_opt().context("a day before the reform")?;
    let before = regime.units_for(registry, &Period::Month { year: eve.year(), month: eve.month() });
    let after = regime.units_for(registry, &Period::Month { year: eff.year(), month: eff.month() });

    progress.stage("nạp cơ quan và danh sách cán bộ của tỉnh mẫu");
    let agencies = agencies(registry, province, &before, &after, eff)?;
    db.import_agencies(DEMO_ACTOR, &agencies).await?;
    let (old_roster, new_roster) = rosters(province, &agencies, &before, &after);
    let roster_from = NaiveDate::from_ymd_opt(eve.year(), 1, 1).context("a valid day")?;
    db.import_roster(DEMO_ACTOR, &old_roster, roster_from).await?;
    db.import_roster(DEMO_ACTOR, &new_roster, eff).await?;

    let name = registry.in_force(province, eff).map_or_else(|| province.to_string(), |u| u.name.clone());
    let plan = Plan {
        cutover: Cutover {
            key,
            name: format!("Chuyển đổi hệ thống báo cáo ngày {} — {name}", baocao_core::date::format_vn(eff)),
            effective_date: eff,
            scope: Some(province.to_string()),
            source_organization: format!("Văn phòng Ủy ban nhân dân {}", lower_first(&name)),
            reorganization: ReorgSource::Applied { key: REFORM_KEY.into() },
            forms: Vec::new(),
            regimes: Vec::new(),
            accounts: Some(AccountPlan { domain: domain.to_string(), grace_days: DEFAULT_GRACE_DAYS }),
        },
        archive_dir: archive_dir.clone(),
        backup_dir: PathBuf::from(BACKUP_DIR),
        legal_basis: registry.reorganization(REFORM_KEY).and_then(|r| r.legal_basis.clone()),
        demo: true,
    };
    crate::cutover::carry_out(db, url, &plan, false, progress, &crate::cli_actor()).await?;
    // The packages open on «Lưu trữ», as a province's archive would load them.
    crate::cutover::load_bags(db, DEMO_ACTOR, &archive_dir.join(&plan.cutover.key), progress).await?;
    Ok(())
}

/// "Xã Ngọk Bay" → "xã Ngọk Bay", as it reads inside a sentence.
fn lower_first(name: &str) -> String {
    let mut chars = name.chars();
    chars.next().map(|c| c.to_lowercase().chain(chars).collect()).unwrap_or_default()
}

fn old_agency(province: &str, unit: &str) -> String {
    format!("H{province}.C{unit}")
}

fn new_agency(province: &str, unit: &str) -> String {
    format!("H{province}.X{unit}")
}

/// The people's committee of each old commune, ending with the reform and
/// succeeded by those of the communes its territory went to; and that of
/// each new commune, from the reform on.
fn agencies(
    registry: &Registry,
    province: &str,
    before: &[UnitVersion],
    after: &[UnitVersion],
    eff: NaiveDate,
) -> anyhow::Result<Vec<Agency>> {
    let eve = eff.pred_opt().context("a day before the reform")?;
    let new_codes: BTreeSet<&str> = after.iter().map(|u| u.code.as_str()).collect();
    let committee = |u: &UnitVersion, code: String, from: Option<NaiveDate>, to: Option<NaiveDate>| Agency {
        code,
        name: format!("Ủy ban nhân dân {}", lower_first(&u.name)),
        kind: format!("UBND {}", u.kind),
        parent_code: None,
        unit_code: Some(u.code.clone()),
        valid_from: from,
        valid_to: to,
        successor_codes: Vec::new(),
        archive: None,
    };
    let mut out = Vec::new();
    for u in before {
        let successors: Vec<String> = registry
            .lineage(&u.code, eve)?
            .successors
            .iter()
            .map(|s| s.unit.code.as_str())
            .filter(|c| new_codes.contains(c))
            .map(|c| new_agency(province, c))
            .collect();
        let mut agency = committee(u, old_agency(province, &u.code), None, Some(eff));
        if successors.is_empty() {
            agency.archive = Some("Hồ sơ chuyển Lưu trữ lịch sử tỉnh (bản trình diễn)".into());
        }
        agency.successor_codes = successors;
        out.push(agency);
    }
    out.extend(after.iter().map(|u| committee(u, new_agency(province, &u.code), Some(eff), None)));
    out.extend(DEPARTMENTS.iter().map(|(code, name, kind)| Agency {
        code: format!("H{province}.{code}"),
        name: (*name).into(),
        kind: (*kind).into(),
        parent_code: None,
        unit_code: Some(province.to_string()),
        valid_from: None,
        valid_to: None,
        successor_codes: Vec::new(),
        archive: None,
    }));
    Ok(out)
}

/// Some of the province's departments (sở) and its office, serving the
/// province throughout; the departments report on their own regime.
const DEPARTMENTS: [(&str, &str, &str); 5] = [
    ("S01", "Sở Nội vụ", "sở"),
    ("S02", "Sở Tư pháp", "sở"),
    ("S03", "Sở Khoa học và Công nghệ", "sở"),
    ("S04", "Sở Y tế", "sở"),
    ("VP", "Văn phòng Ủy ban nhân dân tỉnh", "văn phòng"),
];

const FAMILY: [&str; 8] = ["Nguyễn", "Trần", "Lê", "Phạm", "Hồ", "Võ", "A", "Y"];
const MIDDLE: [&str; 4] = ["Văn", "Thị", "Minh", "Đức"];
const GIVEN: [&str; 8] = ["An", "Bình", "Châu", "Dũng", "Hà", "Sương", "Khánh", "Thư"];

/// A made-up official of a commune, the same on every machine.
fn official(place: &str, agency: String, unit: &str) -> Listing {
    let pick = |salt: &str, n: usize| (noise(&format!("{unit}{salt}")) * n as f64) as usize % n;
    let middle = MIDDLE[pick("m", MIDDLE.len())];
    let birth =
        NaiveDate::from_ymd_opt(1975 + pick("y", 24) as i32, 1 + pick("mo", 12) as u32, 1 + pick("d", 28) as u32)
            .expect("a valid day");
    Listing {
        place: place.to_string(),
        agency_code: agency,
        full_name: format!("{} {middle} {}", FAMILY[pick("f", FAMILY.len())], GIVEN[pick("g", GIVEN.len())]),
        birth_date: birth,
        gender: Some(if middle == "Thị" { Gender::Female } else { Gender::Male }),
        position: "Công chức".into(),
        post: "Văn phòng - Thống kê".into(),
        email: None,
        phone: None,
        roles: BTreeMap::from([("baocao".to_string(), "data_entry".to_string())]),
    }
}

/// One official of each old commune before the reform; after it, each
/// moves to the commune their territory went to (the first, when it was
/// split), as the officials of merged communes did; a new commune no one
/// moved to gets someone new. An old commune without a successor keeps its
/// official where they were.
fn rosters(
    province: &str,
    agencies: &[Agency],
    before: &[UnitVersion],
    after: &[UnitVersion],
) -> (Vec<Listing>, Vec<Listing>) {
    let place = |code: &str| format!("bản trình diễn, đơn vị {code}");
    let old: Vec<Listing> =
        before.iter().map(|u| official(&place(&u.code), old_agency(province, &u.code), &u.code)).collect();
    let successor: BTreeMap<&str, &String> =
        agencies.iter().filter_map(|a| Some((a.code.as_str(), a.successor_codes.first()?))).collect();
    let mut new: Vec<Listing> = old
        .iter()
        .filter_map(|person| {
            let next = successor.get(person.agency_code.as_str())?;
            Some(Listing { agency_code: (*next).clone(), ..person.clone() })
        })
        .collect();
    let staffed: BTreeSet<String> = new.iter().map(|l| l.agency_code.clone()).collect();
    new.extend(
        after
            .iter()
            .filter(|u| !staffed.contains(&new_agency(province, &u.code)))
            .map(|u| official(&place(&u.code), new_agency(province, &u.code), &u.code)),
    );
    (old, new)
}
