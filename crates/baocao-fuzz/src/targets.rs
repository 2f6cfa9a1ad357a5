//! What each target feeds and to which parsers. An input may be refused,
//! never make a parser (or what runs on its result) panic.
//!
//! Inputs are of three kinds: text shaped like what a parser expects (near
//! misses find the edges), valid files mutated byte by byte (seeds: the
//! demo's own definitions and workbooks written by baocao), and anything at
//! all.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::str::FromStr;
use std::sync::LazyLock;

use baocao_core::form::Form;
use baocao_core::regime::Regime;
use baocao_core::{Indicator, Period, Registry, Reorganization, UnitKind, UnitVersion, Validity, ValueType};
use baocao_ingest::{definitions, dhis2, form_xlsx, indicators, roster, table, tasks, xlsx};
use proptest::prelude::*;

/// A named target: a strategy of inputs and what to do with each.
pub struct Target {
    pub name: &'static str,
    pub about: &'static str,
    pub run: fn(&mut proptest::test_runner::TestRunner) -> Result<(), String>,
}

pub const TARGETS: &[Target] = &[
    Target { name: "period", about: "DHIS2 period strings, and the calendar of a parsed period", run: period },
    Target { name: "date", about: "days typed YYYY-MM-DD or dd/mm/yyyy, and arithmetic on them", run: date },
    Target { name: "number", about: "numbers typed the Vietnamese way, every value type", run: number },
    Target { name: "csv", about: "indicator, agency, roster, task and DHIS2 CSV files", run: csv },
    Target { name: "xlsx", about: "workbooks: reports, rosters, agencies, tasks, indicators, forms", run: workbook },
    Target {
        name: "toml",
        about: "forms, regimes, reorganization plans, upstream links and feeds, then checked and planned",
        run: toml,
    },
    Target {
        name: "dhis2-json",
        about: "DHIS2 dataValueSets (checked against a registry), completeness registrations, feed documents, an upstream's answers",
        run: dhis2_json,
    },
    Target { name: "scim-filter", about: "SCIM filters, then evaluated on a user", run: scim_filter },
];

fn outcome<T: std::fmt::Debug>(result: Result<(), proptest::test_runner::TestError<T>>) -> Result<(), String> {
    result.map_err(|e| match e {
        proptest::test_runner::TestError::Fail(reason, input) => format!("{reason}\ninput: {input:?}"),
        proptest::test_runner::TestError::Abort(reason) => format!("aborted: {reason}"),
    })
}

/// Byte-level edits of one of `seeds`: replace, insert, delete, truncate.
fn mutated(seeds: &'static [Vec<u8>]) -> impl Strategy<Value = Vec<u8>> {
    (0..seeds.len(), prop::collection::vec((any::<u32>(), any::<u8>(), 0..4u8), 0..8)).prop_map(|(i, edits)| {
        let mut bytes = seeds[i].clone();
        for (at, byte, kind) in edits {
            if bytes.is_empty() {
                bytes.push(byte);
                continue;
            }
            let at = at as usize % bytes.len();
            match kind {
                0 => bytes[at] = byte,
                1 => bytes.insert(at, byte),
                2 => {
                    bytes.remove(at);
                }
                _ => bytes.truncate(at),
            }
        }
        bytes
    })
}

fn text(bytes: Vec<u8>) -> String {
    String::from_utf8_lossy(&bytes).into_owned()
}

fn period(runner: &mut proptest::test_runner::TestRunner) -> Result<(), String> {
    let inputs = prop_oneof!["[0-9]{4}[0-9QqSsNnWặ٣+-]{0,5}", "[0-9+-]{0,9}", any::<String>(),];
    outcome(runner.run(&inputs, |s| {
        if let Ok(p) = Period::from_str(&s) {
            let (start, end) = (p.start(), p.end());
            assert!(start <= end);
            let (from, to) = p.cutoff();
            assert!(from <= to);
            let _ = (p.year_before().end(), p.year_to_date(), p.label());
            assert_eq!(p.to_string().parse::<Period>(), Ok(p));
            let _ = Period::ending_between(p.periodicity(), start, end);
        }
        Ok(())
    }))
}

fn date(runner: &mut proptest::test_runner::TestRunner) -> Result<(), String> {
    let inputs =
        prop_oneof!["[+-]?[0-9]{1,7}-[0-9]{1,2}-[0-9]{1,2}", "[0-9]{1,2}/[0-9]{1,2}/[+-]?[0-9]{1,7}", any::<String>(),];
    outcome(runner.run(&inputs, |s| {
        if let Ok(day) = baocao_core::parse_date(&s) {
            let _ = (day.succ_opt(), day.pred_opt(), baocao_core::date::format_vn(day));
            let as_period = Period::Day(day);
            let _ = (as_period.year_before(), as_period.cutoff());
            let month: Period = format!("{}", day.format("%Y%m")).parse().expect("a month of a valid day");
            let _ = (month.end(), month.cutoff(), month.year_before().end());
            assert!(Validity::new(Some(day), None).contains(day));
        }
        Ok(())
    }))
}

fn number(runner: &mut proptest::test_runner::TestRunner) -> Result<(), String> {
    let inputs = (prop_oneof!["[0-9., \u{a0}+eE-]{0,24}", any::<String>()], any::<f64>(), 0..8usize);
    outcome(runner.run(&inputs, |(s, f, decimals)| {
        let normalized = baocao_core::text::parse_vn_number(&s);
        for kind in ValueType::ALL {
            let _ = kind.parse(&normalized);
            let _ = kind.parse(&s);
        }
        if f.is_finite() {
            let _ = (baocao_core::text::format_number(f, decimals), baocao_core::text::format_percent(f, decimals));
        }
        Ok(())
    }))
}

static CSV_SEEDS: LazyLock<Vec<Vec<u8>>> = LazyLock::new(|| {
    [
        include_str!("../../../data/demo/indicators.csv"),
        include_str!("../../../data/demo/nhiem-vu.csv"),
        "Mã định danh,Tên cơ quan,Loại,Mã đơn vị hành chính,Hiệu lực từ,Hiệu lực đến,Cơ quan kế thừa\n\
         H51.01,UBND xã Ngọk Bay,UBND xã,23317,01/07/2025,,\n\
         H51.02,UBND xã Đăk Rơ Wa,UBND xã,23302,01/07/2025,01/01/2026,H51.01\n",
        "Mã cơ quan,Họ và tên,Ngày sinh,Giới tính,Chức vụ,Vị trí công tác,Vai trò\n\
         H51.02,Y Sương,02/02/1990,Nữ,Công chức,Văn phòng - Thống kê,baocao:data_entry\n",
        "dataelement,period,orgunit,catoptcombo,attroptcombo,value,storedby,lastupdated,comment,followup\n\
         HS_TIEP_NHAN,202407,23317,,,12,,,ghi chú,\n",
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .collect()
});

fn csv(runner: &mut proptest::test_runner::TestRunner) -> Result<(), String> {
    let inputs = prop_oneof![4 => mutated(&CSV_SEEDS).prop_map(text), 1 => any::<String>()];
    outcome(runner.run(&inputs, |s| {
        let _ = indicators::read_csv("f.csv", &s);
        let _ = roster::read_agencies_csv("f.csv", &s);
        let _ = roster::read_roster_csv("f.csv", &s);
        let _ = tasks::read_tasks_csv("f.csv", &s, "KH");
        let _ = dhis2::read_csv("f.csv", &s);
        Ok(())
    }))
}

fn demo_form() -> Form {
    definitions::read_toml("form-bm01.toml", include_str!("../../../data/demo/form-bm01.toml")).expect("the demo form")
}

fn demo_indicators() -> HashMap<String, Indicator> {
    let list = indicators::read_csv("indicators.csv", include_str!("../../../data/demo/indicators.csv"))
        .expect("the demo indicators");
    list.into_iter().map(|i| (i.code.clone(), i)).collect()
}

/// A workbook laid out as baocao's report template: its information sheet
/// and its form sheet with codes and this period's values.
fn report_workbook() -> Vec<u8> {
    let mut workbook = rust_xlsxwriter::Workbook::new();
    let info = workbook.add_worksheet().set_name(xlsx::INFO_SHEET).expect("a sheet name");
    for (row, (key, value)) in [("regime", "BC_THANG_TTHC"), ("unit", "23317"), ("period", "202508")].iter().enumerate()
    {
        info.write_string(row as u32, 0, *key).expect("a cell");
        info.write_string(row as u32, 1, *value).expect("a cell");
    }
    let form = workbook.add_worksheet().set_name(xlsx::FORM_SHEET).expect("a sheet name");
    for (col, heading) in ["STT", "Chỉ tiêu", "Mã chỉ tiêu", "Thực hiện kỳ này", "Kế hoạch năm"].iter().enumerate()
    {
        form.write_string(3, col as u16, *heading).expect("a cell");
    }
    for (row, code) in ["HS_TIEP_NHAN", "HS_DUNG_HAN", "HS_TRUC_TUYEN_TOAN_TRINH"].iter().enumerate() {
        let row = row as u32 + 4;
        form.write_string(row, 2, *code).expect("a cell");
        form.write_string(row, 3, "1.234").expect("a cell");
        form.write_number(row, 4, 5000.0).expect("a cell");
    }
    workbook.save_to_buffer().expect("a workbook")
}

/// The members of a workbook's archive: name and bytes.
type Members = Vec<(String, Vec<u8>)>;

/// Seed workbooks, each as its archive's members: mutations then reach the
/// XML inside as well as the archive around it.
static XLSX_SEEDS: LazyLock<Vec<Members>> = LazyLock::new(|| {
    let workbooks = [
        report_workbook(),
        roster::write_roster_template(&[("H51.01".into(), "UBND xã Ngọk Bay".into())]).expect("a template"),
        form_xlsx::write_form(&demo_form()).expect("a form workbook"),
    ];
    workbooks.iter().map(|bytes| members(bytes)).collect()
});

fn members(bytes: &[u8]) -> Members {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("a workbook written by baocao");
    (0..archive.len())
        .map(|i| {
            let mut member = archive.by_index(i).expect("a member");
            let name = member.name().expect("a member name").to_string();
            let mut content = Vec::new();
            member.read_to_end(&mut content).expect("a readable member");
            (name, content)
        })
        .collect()
}

fn zipped(members: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for (name, content) in members {
        out.start_file(name.as_str(), options).expect("a member");
        out.write_all(content).expect("written");
    }
    out.finish().expect("an archive").into_inner()
}

/// A seed workbook with one member's bytes edited (then zipped again), or
/// the archive's own bytes edited.
fn workbook_inputs() -> impl Strategy<Value = Vec<u8>> {
    let seeds = XLSX_SEEDS.len();
    let edits = prop::collection::vec((any::<u32>(), any::<u8>(), 0..4u8), 1..8);
    (0..seeds, any::<u16>(), edits, any::<bool>()).prop_map(|(seed, member, edits, inside)| {
        let mut members = XLSX_SEEDS[seed].clone();
        if inside {
            let m = member as usize % members.len();
            let content = &mut members[m].1;
            for (at, byte, kind) in edits {
                if content.is_empty() {
                    content.push(byte);
                    continue;
                }
                let at = at as usize % content.len();
                match kind {
                    0 => content[at] = byte,
                    1 => content.insert(at, byte),
                    2 => {
                        content.remove(at);
                    }
                    _ => content.truncate(at),
                }
            }
            zipped(&members)
        } else {
            let mut bytes = zipped(&members);
            for (at, byte, kind) in edits {
                let at = at as usize % bytes.len().max(1);
                match kind {
                    0 | 1 if !bytes.is_empty() => bytes[at] = byte,
                    _ => bytes.truncate(at),
                }
            }
            bytes
        }
    })
}

fn workbook(runner: &mut proptest::test_runner::TestRunner) -> Result<(), String> {
    let known = demo_indicators();
    outcome(runner.run(&workbook_inputs(), |bytes| {
        let _ = xlsx::read_report("f.xlsx", &bytes, &known);
        let _ = roster::read_roster_xlsx("f.xlsx", &bytes);
        let _ = roster::read_agencies_xlsx("f.xlsx", &bytes);
        let _ = tasks::read_tasks_xlsx("f.xlsx", &bytes, "KH");
        let _ = indicators::read_xlsx("f.xlsx", &bytes);
        let _ = table::first_sheet_as_csv("f.xlsx", &bytes);
        if let Ok(form) = form_xlsx::read_form("f.xlsx", &bytes) {
            let _ = form.check(&known);
        }
        Ok(())
    }))
}

static TOML_SEEDS: LazyLock<Vec<Vec<u8>>> = LazyLock::new(|| {
    [
        include_str!("../../../data/demo/form-bm01.toml"),
        include_str!("../../../data/demo/form-th01.toml"),
        include_str!("../../../data/demo/regime-monthly.toml"),
        include_str!("../../../data/demo/upstream.toml"),
        include_str!("../../../data/demo/feed.toml"),
        "key = \"2026-nhap-xa\"\nname = \"Nhập xã\"\neffective_date = \"2026-01-01\"\n\
         legal_basis = \"Nghị quyết số 99\"\n\n[[changes]]\nchange = \"merge\"\ncodes = [\"00001\", \"00002\"]\n\
         into = { code = \"00001\", name = \"Xã An\", kind = \"xã\", parent_code = \"01\" }\n\n\
         [[changes]]\nchange = \"rename\"\ncode = \"00003\"\nname = \"Xã Mới\"\n",
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .collect()
});

/// A province with three communes to plan fuzzed reorganizations against.
static REGISTRY: LazyLock<Registry> = LazyLock::new(|| {
    let unit = |code: &str, name: &str, kind, level, parent: Option<&str>| UnitVersion {
        code: code.into(),
        name: name.into(),
        kind,
        level,
        parent_code: parent.map(Into::into),
        validity: Validity::default(),
        archive_note: None,
        agency: None,
    };
    let mut registry = Registry::new();
    registry
        .add_baseline(vec![
            unit("01", "Tỉnh Một", UnitKind::Province, 1, None),
            unit("00001", "Xã An", UnitKind::Commune, 2, Some("01")),
            unit("00002", "Xã Bình", UnitKind::Commune, 2, Some("01")),
            unit("00003", "Xã Cường", UnitKind::Commune, 2, Some("01")),
        ])
        .expect("a valid baseline");
    registry
});

fn toml(runner: &mut proptest::test_runner::TestRunner) -> Result<(), String> {
    let known = demo_indicators();
    let inputs = prop_oneof![4 => mutated(&TOML_SEEDS).prop_map(text), 1 => any::<String>()];
    outcome(runner.run(&inputs, |s| {
        if let Ok(form) = definitions::read_toml::<Form>("f.toml", &s) {
            let _ = form.check(&known);
            let _ = form.validate(&HashMap::from([("HS_TIEP_NHAN".to_string(), 3.0)]), &known);
        }
        if let Ok(regime) = definitions::read_toml::<Regime>("f.toml", &s) {
            let month = Period::Month { year: 2025, month: 8 };
            let _ = (regime.units_for(&REGISTRY, &month), regime.deadline(&month));
        }
        if let Ok(plan) = definitions::read_toml::<Reorganization>("f.toml", &s) {
            let _ = REGISTRY.plan(&plan);
        }
        if let Ok(link) = baocao_ingest::upstream::read_link("f.toml", &s) {
            let _ = link.retry_after(i32::MAX);
        }
        if let Ok(feed) = baocao_ingest::feed::read_feed("f.toml", &s) {
            let _ = feed.raw_values(&[feed.indicators.keys().map(|k| (k.clone(), "1".to_string())).collect()]);
        }
        Ok(())
    }))
}

static JSON_SEEDS: LazyLock<Vec<Vec<u8>>> = LazyLock::new(|| {
    [
        r#"{"dataValues":[{"dataElement":"HS_TIEP_NHAN","period":"202407","orgUnit":"00001","value":"12"},
            {"dataElement":"HS_DUNG_HAN","period":"2024Q3","orgUnit":"00002","value":7,"comment":"ghi chú"}]}"#,
        r#"{"period":"202508","orgUnit":"01","dataValues":[{"dataElement":"TY_LE_TOAN_TRINH","value":"12.5"}]}"#,
        r#"{"completeDataSetRegistrations":[{"dataSet":"BC_THANG_TTHC","period":"202508","organisationUnit":"23317","completed":false,"date":"2025-09-10"}]}"#,
        r#"{"data":[{"ma_ban_ghi":"DVC-00001-202508","ma_xa":"00001","ky":"202508","tiep_nhan":12,"dung_han":"7"}]}"#,
        r#"{"httpStatusCode":409,"response":{"status":"WARNING","importCount":{"imported":1},"conflicts":[{}]}}"#,
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .collect()
});

/// The demo's feed, reading its records under `data`.
static DEMO_FEED: LazyLock<baocao_core::feed::Feed> = LazyLock::new(|| {
    baocao_ingest::feed::read_feed("feed.toml", include_str!("../../../data/demo/feed.toml"))
        .expect("the demo feed reads")
});

fn dhis2_json(runner: &mut proptest::test_runner::TestRunner) -> Result<(), String> {
    let known = demo_indicators();
    let inputs = prop_oneof![4 => mutated(&JSON_SEEDS).prop_map(text), 1 => any::<String>()];
    outcome(runner.run(&inputs, |s| {
        if let Ok(raw) = dhis2::read_json("f.json", &s) {
            let _ = baocao_core::datavalue::check(raw, &known, &REGISTRY, baocao_core::today_in_vietnam());
        }
        let _ = dhis2::read_registrations("f.json", &s);
        // What a feed's system sends is read as hostile too.
        let feed = &*DEMO_FEED;
        if let Ok(records) = baocao_ingest::feed::read_records(feed, s.as_bytes()) {
            let (raw, _, _) = feed.raw_values(&records);
            let _ = baocao_core::datavalue::check(raw, &known, &REGISTRY, baocao_core::today_in_vietnam());
        }
        // What an upstream answers is read as hostile too.
        for status in [200, 409, 503] {
            let _ = baocao_core::upstream::judge(status, &s);
        }
        Ok(())
    }))
}

fn scim_filter(runner: &mut proptest::test_runner::TestRunner) -> Result<(), String> {
    const TOKENS: [&str; 24] = [
        "userName",
        "displayName",
        "emails",
        "emails.value",
        "meta.resourceType",
        "eq",
        "NE",
        "co",
        "sw",
        "gt",
        "pr",
        "and",
        "OR",
        "not",
        "(",
        ")",
        "[",
        "]",
        "\"nguyen\"",
        "true",
        "12",
        "\"",
        "\\",
        "ặ",
    ];
    let tokens = prop::collection::vec(prop::sample::select(&TOKENS[..]), 0..24).prop_map(|t| t.join(" "));
    let glued = prop::collection::vec(prop::sample::select(&TOKENS[..]), 0..24).prop_map(|t| t.concat());
    let inputs = prop_oneof![tokens, glued, any::<String>()];
    let user = serde_json::json!({
        "id": "7", "userName": "nguyen.van.a@qn.gov.vn", "displayName": "Nguyễn Văn A", "active": true,
        "emails": [{ "value": "nguyen.van.a@qn.gov.vn", "type": "work", "primary": true }],
        "meta": { "resourceType": "User" }
    });
    outcome(runner.run(&inputs, |s| {
        if let Ok(filter) = baocao_server::scim_filter::parse(&s) {
            let _ = baocao_server::scim_filter::attributes(&filter);
            let _ = baocao_server::scim_filter::matches(&filter, &user);
        }
        Ok(())
    }))
}
