//! The real national reform, read and applied in memory.

use baocao_core::{Registry, parse_date};
use baocao_ingest::vn_admin::{NationalReform, Source, Sources};

fn reform() -> NationalReform {
    Sources::bundled().read().expect("the bundled files are readable")
}

fn applied() -> Registry {
    let reform = reform();
    let mut registry = Registry::new();
    registry.add_baseline(reform.baseline).unwrap();
    registry.apply(&reform.reorganization).unwrap_or_else(|e| panic!("{e:#?}"));
    registry
}

#[test]
fn anomalies_of_the_national_files_are_reported_by_code() {
    let a = reform().anomalies;
    assert_eq!(a.old_communes_without_successor.len(), 28);
    assert!(a.old_communes_without_successor.iter().any(|u| u.code == "01651"));
    // Eleven rows name ten distinct codes that no list has.
    assert_eq!(a.conversion_codes_not_in_lists.len(), 11);
    let distinct: std::collections::BTreeSet<_> = a.conversion_codes_not_in_lists.iter().map(|m| &m.code).collect();
    assert_eq!(distinct.len(), 10);
    assert!(a.conversion_codes_not_in_lists.iter().all(|m| m.column == "old_code" && m.line > 1));
    // The bundled supplement gives the five special zones their districts.
    assert!(a.new_units_without_predecessor.is_empty(), "{:?}", a.new_units_without_predecessor);
    assert!(a.old_districts_without_successor.is_empty());
    assert!(a.splits_without_weights.iter().any(|s| s.rest_unaccounted));
}

#[test]
fn without_the_supplement_special_zones_have_no_predecessor() {
    let mut sources = Sources::bundled();
    sources.supplement = None;
    let a = sources.read().unwrap().anomalies;
    let codes: Vec<_> = a.new_units_without_predecessor.iter().map(|u| u.code.as_str()).collect();
    assert_eq!(codes, ["11948", "19742", "20333", "21548", "26732"]);
    assert_eq!(a.old_districts_without_successor.len(), 5);
}

#[test]
fn quang_ngai_before_and_after() {
    let r = applied();
    assert!(r.check_invariants().is_empty(), "{:?}", &r.check_invariants()[..3]);
    let count = |day: &str, parent: &str, level: u8| {
        let day = parse_date(day).unwrap();
        r.versions()
            .iter()
            .filter(|v| v.validity.contains(day) && v.level == level)
            .filter(|v| {
                v.parent_code.as_deref() == Some(parent)
                    || v.parent_code.as_deref().and_then(|p| r.in_force(p, day)).and_then(|p| p.parent_code.as_deref())
                        == Some(parent)
            })
            .count()
    };
    assert_eq!(count("2025-06-30", "51", 2), 13);
    assert_eq!(count("2025-06-30", "51", 3), 170);
    assert_eq!(count("2025-07-01", "51", 2), 96);
    let lineage = r.lineage("23317", parse_date("2025-07-01").unwrap()).unwrap();
    let preds: Vec<_> = lineage.predecessors.iter().map(|p| p.unit.code.as_str()).collect();
    assert_eq!(preds, ["23314", "23317", "23320"]);
    let province = r.lineage("51", parse_date("2025-07-01").unwrap()).unwrap();
    let preds: Vec<_> = province.predecessors.iter().map(|p| p.unit.code.as_str()).collect();
    // Kon Tum before Quảng Ngãi: Vietnamese alphabetical order.
    assert_eq!(preds, ["62", "51"]);
}

#[test]
fn bad_rows_are_named_by_file_line_and_column_and_nothing_is_taken() {
    let mut sources = Sources::bundled();
    sources.units_before = Source {
        name: "units-2024.csv".into(),
        text: "code,name,type,level,parent_code\n01,Tỉnh A,tỉnh,1,\n001,Huyện B,huyen,2,01\n00001,Xã C,xã,x,001\n00002,Xã D,xã,3,404\n00003,\"Xã E,3\n"
            .into(),
    };
    let problems = sources.read().err().expect("bad rows are refused").0;
    let text: Vec<String> = problems.iter().map(ToString::to_string).collect();
    let has = |needle: &str| text.iter().any(|t| t.contains(needle));
    assert!(has("units-2024.csv, dòng 3, cột `type`: loại đơn vị «huyen»"), "{text:#?}");
    assert!(has("units-2024.csv, dòng 4, cột `level`: cấp «x» không hợp lệ"), "{text:#?}");
    assert!(has("units-2024.csv, dòng 5, cột `parent_code`: không có đơn vị cấp trên 404"), "{text:#?}");
    assert!(has("units-2024.csv, dòng 6"), "{text:#?}");
}

#[test]
fn line_numbers_are_right_with_crlf_endings() {
    let mut sources = Sources::bundled();
    sources.units_after = Source {
        name: "units-2025.csv".into(),
        text: "code,name,type,level,parent_code\r\n01,Thành phố A,thành phố trung ương,1,\r\n00004,Phường B,phuong,2,01\r\n".into(),
    };
    let problems = sources.read().err().unwrap().0;
    assert!(problems.iter().any(|p| p.to_string().starts_with("units-2025.csv, dòng 3, cột `type`")), "{problems:?}");
}

#[test]
fn a_missing_column_is_named() {
    let mut sources = Sources::bundled();
    sources.conversion = Source { name: "conversion-2025.csv".into(), text: "old_code,new_code\n00004,00004\n".into() };
    let problems = sources.read().err().unwrap().0;
    assert!(problems[0].to_string().contains("conversion-2025.csv, dòng 1, cột `partly`: thiếu cột"), "{problems:?}");
}

#[test]
fn values_are_checked_against_the_unit_in_force_in_their_period() {
    use baocao_core::datavalue::{RawValue, check};
    use baocao_core::{Aggregation, Indicator, ValueType};
    let r = applied();
    let indicator = Indicator {
        code: "HS_TIEP_NHAN".into(),
        name: "Số hồ sơ tiếp nhận".into(),
        unit: "hồ sơ".into(),
        value_type: ValueType::Integer,
        aggregation: Aggregation::Sum,
        group: None,
    };
    let indicators = std::collections::HashMap::from([(indicator.code.clone(), indicator)]);
    let raw = |index, de: &str, pe: &str, ou: &str, v: &str| RawValue {
        index,
        data_element: de.into(),
        period: pe.into(),
        org_unit: ou.into(),
        value: v.into(),
        comment: None,
    };
    let (ok, conflicts) = check(
        vec![
            raw(0, "HS_TIEP_NHAN", "202407", "23314", "12"),
            raw(1, "HS_TIEP_NHAN", "202508", "23314", "12"),
            raw(2, "HS_TIEP_NHAN", "202508", "23317", "40"),
            raw(3, "HS_KHAC", "202508", "23317", "1"),
            raw(4, "HS_TIEP_NHAN", "2025M8", "23317", "1"),
            raw(5, "HS_TIEP_NHAN", "202508", "23317", "4,5"),
        ],
        &indicators,
        &r,
        baocao_core::parse_date("2026-11-30").unwrap(),
    );
    assert_eq!(ok.len(), 2);
    assert_eq!(ok[1].unit.valid_from.map(|d| d.to_string()).as_deref(), Some("2025-07-01"));
    let by_index = |i: usize| conflicts.iter().find(|c| c.indexes == [i]).map(|c| c.value.clone()).unwrap_or_default();
    assert!(by_index(1).contains("23314 không có hiệu lực trong kỳ"), "{conflicts:?}");
    assert!(by_index(3).contains("không có chỉ tiêu"));
    assert!(by_index(4).contains("không hợp lệ"));
    assert!(by_index(5).contains("cần một số nguyên"));
}
