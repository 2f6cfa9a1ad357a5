//! The demo: the national registry, the demo regime over the configured
//! province, and generated history so that comparisons with the same period
//! last year are visible on both sides of the 2025 reorganization.
//!
//! The numbers are made up, deterministically (the same on every machine),
//! and a new commune's numbers grow from its predecessors' so that the
//! comparisons look like a real province's.

mod cutover;
pub mod feed;
pub mod national;
pub mod signing;

use std::collections::BTreeMap;

use anyhow::Context;
use baocao_core::datavalue::CheckedValue;
use baocao_core::form::Form;
use baocao_core::regime::{Regime, Request, RequestKind, UnitSelector};
use baocao_core::workflow::Action;
use baocao_core::{Period, Periodicity, Registry, UnitVersion, Value, today_in_vietnam};
use baocao_ingest::definitions::read_toml;
use baocao_ingest::vn_admin::Sources;
use baocao_store::Db;
use baocao_store::dashboards::Page;

/// Who the audit log names for what the demo loads.
pub(crate) const DEMO_ACTOR: &str = "demo-loader";
use baocao_store::reports::ReportRequest;
use chrono::{Datelike, NaiveDate};

use crate::progress::Progress;

const INDICATORS: &str = include_str!("../../../../data/demo/indicators.csv");
const INPUT_FORMS: [(&str, &str); 2] = [
    ("form-bm01-2024.toml", include_str!("../../../../data/demo/form-bm01-2024.toml")),
    ("form-bm01.toml", include_str!("../../../../data/demo/form-bm01.toml")),
];
/// Output forms name the regime they consolidate: loaded after it.
const OUTPUT_FORMS: [(&str, &str); 2] = [
    ("form-th01.toml", include_str!("../../../../data/demo/form-th01.toml")),
    ("form-th02.toml", include_str!("../../../../data/demo/form-th02.toml")),
];
const REGIME: &str = include_str!("../../../../data/demo/regime-monthly.toml");
/// A quarterly regime over the same form whose reports climb two levels.
const CHAIN_REGIME: &str = include_str!("../../../../data/demo/regime-quarterly.toml");
/// The departments' monthly regime, approved in two levels.
const DEPARTMENT_REGIME: &str = include_str!("../../../../data/demo/regime-departments.toml");
/// A plan's task table and its target, to follow up on «Kế hoạch».
const TASKS: &str = include_str!("../../../../data/demo/nhiem-vu.csv");
const TARGETS: &str = include_str!("../../../../data/demo/chi-tieu.toml");

/// The demo regime's indicators and how large a commune's monthly value is.
const SCALES: [(&str, f64); 4] =
    [("HS_TIEP_NHAN", 160.0), ("HS_DUNG_HAN", 0.0), ("HS_TRUC_TUYEN_TOAN_TRINH", 0.0), ("VB_DIEN_TU", 300.0)];

/// A stable number in [0, 1) from text (FNV-1a), so that the demo is the
/// same everywhere without a random generator.
pub(crate) fn noise(key: &str) -> f64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in key.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    // FNV-1a leaves the high bits of keys that differ only at the end
    // alike; SplitMix64's finalizer spreads them.
    h = (h ^ (h >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h = (h ^ (h >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^= h >> 31;
    (h >> 11) as f64 / (1u64 << 53) as f64
}

/// How busy a month is against the year's average: few dossiers around
/// Tết (late January, February), more before the year closes.
const SEASON: [f64; 12] = [0.95, 0.7, 1.0, 1.0, 1.05, 1.0, 0.95, 0.95, 1.0, 1.05, 1.1, 1.25];

/// This month's values of a unit that counts as `size` old communes: the
/// season, a growth of about 6% a year, and noise of ±15%.
fn month_values(code: &str, size: f64, period: &Period) -> Vec<(&'static str, f64)> {
    let key = format!("{code}{period}");
    // Fully online dossiers rise over the two years (the plans' target: 60%).
    let months_since = f64::from((period.year() - 2024) * 12) + f64::from(period.start().month());
    let season = SEASON[period.start().month0() as usize];
    let growth = 1.0 + 0.005 * months_since;
    // Each commune has its own size, kept from month to month.
    let own = 0.7 + 0.6 * noise(&format!("{code}size"));
    let received = (SCALES[0].1 * size * own * season * growth * (0.85 + 0.3 * noise(&format!("{key}r")))).round();
    let on_time = (received * (0.88 + 0.12 * noise(&format!("{key}d")))).round();
    let online_share = (0.25 + 0.02 * months_since).min(0.85) * (0.8 + 0.4 * noise(&format!("{key}o")));
    let online = (received * online_share.min(1.0)).round();
    let documents = (SCALES[3].1 * size * own * season * growth * (0.85 + 0.3 * noise(&format!("{key}v")))).round();
    vec![
        ("HS_TIEP_NHAN", received),
        ("HS_DUNG_HAN", on_time),
        ("HS_TRUC_TUYEN_TOAN_TRINH", online),
        ("VB_DIEN_TU", documents),
    ]
}

/// Loads everything the demo needs; what is already there is kept, so a
/// second start is quick and changes nothing.
pub async fn prepare(db: &Db, url: &str, province: &str, domain: &str) -> anyhow::Result<()> {
    let progress = Progress::new(false);
    let registry = load_registry(db, &progress).await?;
    registry
        .history(province)
        .last()
        .with_context(|| format!("tỉnh trình diễn {province} không có trong danh mục đơn vị"))?;

    progress.stage("nạp chế độ báo cáo mẫu");
    load_forms(db).await?;
    let mut regime: Regime = read_toml("regime-monthly.toml", REGIME)?;
    regime.units.under = Some(province.to_string());
    db.save_regime(DEMO_ACTOR, &regime).await?;
    let mut chain: Regime = read_toml("regime-quarterly.toml", CHAIN_REGIME)?;
    chain.units.under = Some(province.to_string());
    if let Some(office) = chain.approval.last_mut() {
        office.unit = Some(province.to_string());
    }
    db.save_regime(DEMO_ACTOR, &chain).await?;
    let mut departments: Regime = read_toml("regime-departments.toml", DEPARTMENT_REGIME)?;
    if let Some(agencies) = departments.agencies.as_mut() {
        agencies.under = Some(province.to_string());
    }
    if let Some(office) = departments.approval.last_mut() {
        office.unit = Some(province.to_string());
    }
    db.save_regime(DEMO_ACTOR, &departments).await?;
    for (name, text) in OUTPUT_FORMS {
        let form: Form = read_toml(name, text)?;
        db.save_form(DEMO_ACTOR, &form).await?;
    }

    // Once loaded, the plan is followed up in the demo: a restart keeps it.
    if db.tasks().await?.is_empty() {
        progress.stage("nạp nhiệm vụ và chỉ tiêu của kế hoạch mẫu");
        let plan = "Kế hoạch chuyển đổi hệ thống báo cáo (demo)";
        let tasks = baocao_ingest::tasks::read_tasks_csv("bundled data/demo/nhiem-vu.csv", TASKS, plan)?;
        db.import_tasks(DEMO_ACTOR, &tasks).await?;
        let mut targets: crate::tasks::TargetFile = read_toml("chi-tieu.toml", TARGETS)?;
        for t in &mut targets.targets {
            t.unit = province.to_string();
        }
        db.import_targets(DEMO_ACTOR, &targets.targets).await?;
    }

    let today = today_in_vietnam();
    // History starts a year before the reform, so that the first months of
    // the new communes have a same period last year.
    let reform = baocao_ingest::vn_admin::effective_date();
    let first = (reform - chrono::Months::new(12)).min(today - chrono::Months::new(24));
    let first = Period::Month { year: first.year(), month: first.month() };
    // The latest month whose data cut-off window has closed: its report is due.
    let last_month = Period::ending_between(Periodicity::Monthly, first.start(), today + chrono::Months::new(1))
        .into_iter()
        .rfind(|p| p.cutoff().1 <= today)
        .context("a month before today")?;
    let generated = db.numbers("HS_TIEP_NHAN", &last_month, baocao_store::compose::Counting::Everything).await?;
    if generated.is_empty() {
        progress.stage("tạo báo cáo tháng của hai năm");
        generate(db, &registry, &regime, first.start(), last_month.end()).await?;
        progress.stage("duyệt các báo cáo cuối của xã cũ");
        last_reports_before(db, &registry, &regime, reform).await?;
        progress.stage("gửi và duyệt các báo cáo gần đây");
        recent_reports(db, &registry, &regime, &last_month).await?;
    }
    let cutover = cutover::run(db, url, &registry, &regime, province, domain, &progress).await;
    // The departments are among the agencies the cutover loads.
    let reported = match cutover {
        Ok(()) => agencies_at_work(db, &regime, &departments, &last_month, today, &progress).await,
        Err(e) => Err(e),
    };
    progress.finish();
    reported
}

/// The national registry (the 2025 reorganization applied), loaded once.
async fn load_registry(db: &Db, progress: &Progress) -> anyhow::Result<Registry> {
    progress.stage("nạp danh mục đơn vị hành chính quốc gia");
    let reform = Sources::bundled().read()?;
    let stage = |s: &str| progress.stage(s);
    db.apply_reorganization(reform.baseline, &reform.reorganization, false, DEMO_ACTOR, &stage).await?;
    Ok(db.load_registry().await?)
}

/// The demo's indicators and its input forms.
async fn load_forms(db: &Db) -> anyhow::Result<()> {
    let indicators = baocao_ingest::indicators::read_csv("bundled data/demo/indicators.csv", INDICATORS)?;
    db.import_indicators(DEMO_ACTOR, &indicators).await?;
    for (name, text) in INPUT_FORMS {
        let form: Form = read_toml(name, text)?;
        db.save_form(DEMO_ACTOR, &form).await?;
    }
    Ok(())
}

/// What the departments do in the demo, once they are listed: their own
/// reports, and an ad-hoc request to a few communes and two of them.
async fn agencies_at_work(
    db: &Db,
    regime: &Regime,
    departments: &Regime,
    last_month: &Period,
    today: NaiveDate,
    progress: &Progress,
) -> anyhow::Result<()> {
    department_reports(db, departments, last_month).await?;
    if !db.regimes().await?.iter().any(|r| r.request.is_some()) {
        progress.stage("gửi một yêu cầu báo cáo đột xuất tới vài xã và sở");
        let registry = db.load_registry().await?;
        ad_hoc_request(db, &registry, regime, departments, today).await?;
    }
    Ok(())
}

/// The departments' reports of the last month, at each step of their two
/// levels: one waits for its director, one for the provincial office, one
/// is approved, the others have not sent. Once only: a restart keeps them.
async fn department_reports(db: &Db, regime: &Regime, period: &Period) -> anyhow::Result<()> {
    let registry = db.load_registry().await?;
    if db.completeness(&registry, &regime.code, period).await?.submitted > 0 {
        return Ok(());
    }
    let departments = regime.units_for(&registry, period);
    let mut values = Vec::new();
    for unit in &departments {
        push_values(&mut values, unit, 2.0, *period);
    }
    db.store_values(DEMO_ACTOR, "dữ liệu mẫu", &values).await?;
    let steps = [
        vec![Action::Submit],
        vec![Action::Submit, Action::Approve],
        vec![Action::Submit, Action::Approve, Action::Approve],
    ];
    let sent =
        regime.deadline(period).and_hms_opt(8, 30, 0).expect("a valid time").and_utc() - chrono::Duration::days(3);
    for (unit, actions) in departments.iter().zip(steps) {
        act(db, &registry, regime, &unit.code, *period, actions, sent).await?;
    }
    Ok(())
}

/// The old communes' reports of the quarter before the reform, approved:
/// after the cutover they are the dissolved units' read-only legacy.
async fn last_reports_before(db: &Db, registry: &Registry, regime: &Regime, reform: NaiveDate) -> anyhow::Result<()> {
    let from = reform - chrono::Months::new(3);
    for period in regime.periods(from, reform.pred_opt().context("a day before the reform")?) {
        for unit in regime.units_for(registry, &period) {
            let sent = regime.deadline(&period).and_hms_opt(9, 0, 0).expect("a valid time").and_utc()
                - chrono::Duration::days((noise(&format!("{}{period}old", unit.code)) * 4.0) as i64);
            act(db, registry, regime, &unit.code, period, vec![Action::Submit, Action::Approve], sent).await?;
        }
    }
    Ok(())
}

/// An ad-hoc request (báo cáo đột xuất) sent three days ago to a few of
/// the regime's communes and two departments for that day's figures, due
/// in four days; the first two answered the next morning, the others have
/// yet to.
async fn ad_hoc_request(
    db: &Db,
    registry: &Registry,
    regime: &Regime,
    departments: &Regime,
    today: NaiveDate,
) -> anyhow::Result<()> {
    let sent_on = today - chrono::Days::new(3);
    let period = Period::Day(sent_on);
    let mut units: Vec<UnitVersion> = regime
        .units_for(registry, &period)
        .into_iter()
        .filter(|u| noise(&format!("{}request", u.code)) < 0.08)
        .collect();
    units.extend(departments.units_for(registry, &period).into_iter().take(2));
    let request = Regime {
        code: String::new(),
        name: "Báo cáo nhanh tình hình giải quyết thủ tục hành chính phục vụ họp giao ban".into(),
        form: regime.form.clone(),
        periodicity: Periodicity::Daily,
        deadline_days_after_cutoff: 0,
        units: UnitSelector { codes: units.iter().map(|u| u.code.clone()).collect(), ..UnitSelector::default() },
        issued_by: regime.issued_by.clone(),
        planning: false,
        approval: Vec::new(),
        self_approval: false,
        agencies: None,
        request: Some(Request {
            kind: RequestKind::AdHoc,
            period,
            deadline: today + chrono::Days::new(4),
            legal_basis: format!(
                "Công văn số 45/VP-KSTT ngày {} của Văn phòng UBND tỉnh (minh họa)",
                baocao_core::date::format_vn(sent_on)
            ),
            sent_on,
            extended_from: None,
            closed_on: None,
        }),
        reminders: baocao_core::notify::DEFAULT_REMINDERS.to_vec(),
    };
    let code = db.send_request(DEMO_ACTOR, request).await?;
    let request = db.regime(&code).await?;
    let answered = &units[..units.len().min(2)];
    let mut values = Vec::new();
    for unit in answered {
        // A day's share of a month's dossiers.
        let size = size_of(registry, unit, sent_on) / 22.0;
        push_values(&mut values, unit, size, period);
    }
    db.store_values(DEMO_ACTOR, "dữ liệu mẫu", &values).await?;
    let next_morning = (sent_on + chrono::Days::new(1)).and_hms_opt(8, 0, 0).expect("a valid time").and_utc();
    for unit in answered {
        act(db, registry, &request, &unit.code, period, vec![Action::Submit], next_morning).await?;
    }
    Ok(())
}

/// An account the demo creates.
#[derive(serde::Deserialize)]
pub struct DemoAccount {
    pub username: String,
    pub name: String,
    pub role: baocao_core::access::Role,
    #[serde(default)]
    pub unit: Option<String>,
}

/// Creates the demo accounts that do not exist yet, each with its grant.
pub async fn accounts(db: &Db, accounts: &[DemoAccount], password: &str) -> anyhow::Result<()> {
    for a in accounts {
        if db.account(&a.username).await?.is_some() {
            continue;
        }
        let hash = baocao_credentials::hash_password(password);
        db.create_account(DEMO_ACTOR, &a.username, &a.name, Some(&hash)).await?;
        let grant = baocao_core::access::Grant {
            role: a.role,
            unit: a.unit.clone(),
            forms: Vec::new(),
            validity: baocao_core::Validity::default(),
        };
        db.add_grant(DEMO_ACTOR, &a.username, &grant).await?;
    }
    Ok(())
}

/// A dashboard the demo shares, of saved views of the analysis page.
#[derive(serde::Deserialize)]
pub struct DemoDashboard {
    /// The demo account that owns it.
    pub owner: String,
    pub name: String,
    /// Shared with this role over the demo province's tree.
    pub shared_role: Option<baocao_core::access::Role>,
    #[serde(default)]
    pub on_home: bool,
    pub views: Vec<DemoView>,
}

/// A saved view: the page's query (for the analysis page without `unit`,
/// the area of whoever opens it).
#[derive(serde::Deserialize)]
pub struct DemoView {
    /// `analysis` (when absent) or `quality`.
    #[serde(default)]
    pub page: Option<String>,
    pub name: String,
    pub query: String,
}

/// Creates the demo dashboards their owners do not have yet, shared over
/// `province`.
pub async fn dashboards(db: &Db, dashboards: &[DemoDashboard], province: &str) -> anyhow::Result<()> {
    let existing = db.dashboards(baocao_store::dashboards::Which::All).await?;
    for d in dashboards {
        if existing.iter().any(|e| e.owner == d.owner && e.name == d.name) {
            continue;
        }
        let owner = db.account(&d.owner).await?.with_context(|| format!("demo dashboard owner {}", d.owner))?;
        let mut items = Vec::new();
        for view in &d.views {
            let page = match view.page.as_deref() {
                None | Some("analysis") => Page::Analysis,
                Some("quality") => Page::Quality,
                Some(other) => anyhow::bail!("demo view «{}»: unknown page «{other}»", view.name),
            };
            items.push(db.save_favourite(owner.id, page, &view.name, &view.query).await?);
        }
        let draft = baocao_store::dashboards::DashboardDraft {
            id: None,
            name: d.name.clone(),
            shared_role: d.shared_role,
            shared_unit: Some(province.to_string()),
            on_home: d.on_home,
            items,
        };
        db.save_dashboard(owner.id, DEMO_ACTOR, &draft).await?;
    }
    Ok(())
}

/// How many old communes each unit of a day counts as: one for an old
/// commune; for a new one, the shares of its predecessors.
fn size_of(registry: &Registry, unit: &UnitVersion, day: NaiveDate) -> f64 {
    let reform = NaiveDate::from_ymd_opt(2025, 6, 30).expect("a valid day");
    if day <= reform {
        return 1.0;
    }
    registry
        .map(&unit.code, day, reform)
        .map(|m| m.iter().map(|e| e.weight.unwrap_or(0.5)).sum::<f64>())
        .unwrap_or(1.0)
        .max(0.5)
}

/// Adds a unit's generated values of `period` (see [`month_values`]) to
/// those to store.
fn push_values(values: &mut Vec<CheckedValue>, unit: &UnitVersion, size: f64, period: Period) {
    for (indicator, v) in month_values(&unit.code, size, &period) {
        values.push(CheckedValue {
            index: values.len(),
            indicator: indicator.to_string(),
            unit: unit.key(),
            period,
            value: Value::Number(v),
            comment: None,
        });
    }
}

async fn generate(db: &Db, registry: &Registry, regime: &Regime, from: NaiveDate, to: NaiveDate) -> anyhow::Result<()> {
    let mut values = Vec::new();
    for period in regime.periods(from, to) {
        for unit in regime.units_for(registry, &period) {
            let size = size_of(registry, &unit, period.end());
            push_values(&mut values, &unit, size, period);
        }
    }
    db.store_values(DEMO_ACTOR, "dữ liệu mẫu", &values).await?;
    Ok(())
}

/// Reports of the last two months in every state: most of the month before
/// approved, the last month partly sent, a few returned, some missing.
async fn recent_reports(db: &Db, registry: &Registry, regime: &Regime, last: &Period) -> anyhow::Result<()> {
    let before = Period::Month {
        year: if last.start().month() == 1 { last.year() - 1 } else { last.year() },
        month: if last.start().month() == 1 { 12 } else { last.start().month() - 1 },
    };
    for (period, share_sent) in [(before, 0.9), (*last, 0.6)] {
        for unit in regime.units_for(registry, &period) {
            let n = noise(&format!("{}{period}sent", unit.code));
            if n >= share_sent {
                continue;
            }
            let mut actions = vec![Action::Submit];
            if n < share_sent * 0.7 {
                actions.push(Action::Approve);
            } else if n > share_sent * 0.95 {
                actions.push(Action::Return {
                    reason: "Đề nghị kiểm tra lại số hồ sơ trực tuyến toàn trình.".into()
                });
            }
            // Most reports arrive in the days before the deadline, some after it.
            let deadline = regime.deadline(&period);
            let days = (noise(&format!("{}{period}day", unit.code)) * 8.0) as i64 - 5;
            let sent = deadline.and_hms_opt(9, 30, 0).expect("a valid time").and_utc() + chrono::Duration::days(days);
            act(db, registry, regime, &unit.code, period, actions, sent).await?;
        }
    }
    Ok(())
}

/// A unit's report goes through `actions`, the first at `sent`, each next
/// one a day later; it is signed when submitted.
async fn act(
    db: &Db,
    registry: &Registry,
    regime: &Regime,
    unit: &str,
    period: Period,
    actions: Vec<Action>,
    sent: chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<()> {
    let mut approved = false;
    for (step, action) in actions.into_iter().enumerate() {
        let signature = (action == Action::Submit).then(|| signer_of(unit));
        // Nobody approves their own submission: the unit sends, its leader
        // decides, and a second level is someone else again.
        let actor = match action {
            Action::Save | Action::Submit => "demo-canbo",
            Action::Approve if approved => "demo-vanphong",
            _ => "demo-lanhdao",
        };
        approved |= action == Action::Approve;
        let request = ReportRequest {
            regime: regime.code.clone(),
            unit: unit.to_string(),
            period,
            action,
            values: BTreeMap::new(),
            plan: BTreeMap::new(),
            actor: actor.into(),
            signature,
            at: Some(sent + chrono::Duration::days(step as i64)),
            level: None,
            idempotency: None,
            base_revision: None,
        };
        db.apply_report_action(registry, request).await?;
    }
    Ok(())
}

/// Who signs a commune's reports in the demo: its chairman, or in some
/// communes a vice chairman (the printed block then reads KT. CHỦ TỊCH).
fn signer_of(code: &str) -> (String, String) {
    const FAMILY: [&str; 6] = ["Nguyễn", "Trần", "Lê", "Phạm", "Hồ", "Y"];
    const GIVEN: [&str; 6] = ["Văn An", "Thị Bình", "Minh Châu", "Đức Dũng", "Thanh Hà", "Sương"];
    let n = noise(&format!("{code}signer"));
    let name = format!("{} {}", FAMILY[(n * 6.0) as usize], GIVEN[(n * 36.0) as usize % 6]);
    let position = if n < 0.7 { "Chủ tịch" } else { "Phó Chủ tịch" };
    (name, position.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn sample(code: &str, period: &Period) -> std::collections::HashMap<&'static str, f64> {
        month_values(code, 1.0, period).into_iter().collect()
    }

    #[test]
    fn generated_values_are_stable_and_consistent() {
        let p: Period = "202507".parse().unwrap();
        let a = sample("23317", &p);
        assert_eq!(a, sample("23317", &p));
        assert!(a["HS_DUNG_HAN"] <= a["HS_TIEP_NHAN"]);
        assert!(a["HS_TRUC_TUYEN_TOAN_TRINH"] <= a["HS_TIEP_NHAN"]);
        assert!(noise("x") < 1.0 && noise("x") >= 0.0);
    }

    #[test]
    fn months_follow_the_season_and_grow() {
        // The mean over many communes: February (Tết) below December, and
        // a year later above the year before.
        let mean = |period: &str| {
            let p: Period = period.parse().unwrap();
            (0..400).map(|c| sample(&format!("2{c:04}"), &p)["HS_TIEP_NHAN"]).sum::<f64>() / 400.0
        };
        assert!(mean("202502") < 0.8 * mean("202412"), "{} {}", mean("202502"), mean("202412"));
        assert!(mean("202510") > 1.03 * mean("202410"), "{} {}", mean("202510"), mean("202410"));
        // Noise: communes differ.
        let p: Period = "202510".parse().unwrap();
        let values: BTreeSet<u64> = (0..50).map(|c| sample(&format!("2{c:04}"), &p)["HS_TIEP_NHAN"] as u64).collect();
        assert!(values.len() > 30, "{values:?}");
    }
}
