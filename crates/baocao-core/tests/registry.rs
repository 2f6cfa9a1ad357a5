//! Behaviour of reorganizations on a small hand-made registry.

use baocao_core::reorg::SplitPart;
use baocao_core::{
    Change, NewUnit, Predecessor, Registry, ReorgInfo, Reorganization, Share, UnitKind, UnitVersion, Validity,
    parse_date,
};
use chrono::NaiveDate;

fn d(s: &str) -> NaiveDate {
    parse_date(s).unwrap()
}

fn unit(code: &str, name: &str, kind: UnitKind, level: u8, parent: Option<&str>) -> UnitVersion {
    UnitVersion {
        code: code.into(),
        name: name.into(),
        kind,
        level,
        parent_code: parent.map(Into::into),
        validity: Validity::default(),
        archive_note: None,
        agency: None,
    }
}

/// A province with two districts of two communes each, three levels deep.
fn three_levels() -> Registry {
    let mut r = Registry::new();
    r.add_baseline(vec![
        unit("01", "Tỉnh Một", UnitKind::Province, 1, None),
        unit("001", "Huyện Đông", UnitKind::RuralDistrict, 2, Some("01")),
        unit("002", "Huyện Tây", UnitKind::RuralDistrict, 2, Some("01")),
        unit("00001", "Xã An", UnitKind::Commune, 3, Some("001")),
        unit("00002", "Xã Bình", UnitKind::Commune, 3, Some("001")),
        unit("00003", "Xã Đức", UnitKind::Commune, 3, Some("002")),
        unit("00004", "Xã Dương", UnitKind::Commune, 3, Some("002")),
    ])
    .unwrap();
    r
}

fn new_unit(code: &str, name: &str, kind: UnitKind, parent: &str) -> NewUnit {
    NewUnit { code: code.into(), name: name.into(), kind, level: None, parent_code: Some(parent.into()) }
}

fn reorg(key: &str, day: &str, changes: Vec<Change>) -> Reorganization {
    Reorganization {
        info: ReorgInfo { key: key.into(), name: key.into(), effective_date: d(day), legal_basis: None },
        changes,
    }
}

fn two_level_reform() -> Reorganization {
    reorg(
        "two-level",
        "2025-07-01",
        vec![
            Change::AbolishLevel { level: 2 },
            Change::Merge {
                codes: vec!["00001".into(), "00002".into()],
                into: new_unit("00001", "Xã An Bình", UnitKind::Commune, "01"),
            },
            Change::Succession {
                predecessors: vec![Predecessor { code: "00003".into(), partial: false, weight: None }],
                successor: new_unit("00003", "Phường Đức", UnitKind::Ward, "01"),
            },
            Change::Split {
                code: "00004".into(),
                into: vec![
                    SplitPart {
                        unit: new_unit("00005", "Xã Dương Một", UnitKind::Commune, "01"), weight: Some(0.25)
                    },
                    SplitPart {
                        unit: new_unit("00006", "Xã Dương Hai", UnitKind::Commune, "01"), weight: Some(0.75)
                    },
                ],
            },
        ],
    )
}

#[test]
fn a_two_level_reform_ends_districts_and_derives_their_successors() {
    let mut r = three_levels();
    let delta = r.apply(&two_level_reform()).expect("valid reform");
    assert!(r.check_invariants().is_empty(), "{:?}", r.check_invariants());
    assert_eq!(delta.begun.len(), 4);
    let after = d("2025-07-01");
    assert!(r.in_force("001", after).is_none());
    let an_binh = r.in_force("00001", after).unwrap();
    assert_eq!((an_binh.level, an_binh.parent_code.as_deref()), (2, Some("01")));

    // District 001 went whole into An Bình; district 002 was shared out.
    let dong = r.map("001", d("2025-06-30"), after).unwrap();
    assert_eq!(dong.len(), 1);
    assert_eq!((dong[0].unit.code.as_str(), dong[0].weight), ("00001", Some(1.0)));
    let tay = r.map("002", d("2025-06-30"), after).unwrap();
    assert_eq!(tay.len(), 3);
    assert!(tay.iter().all(|m| m.weight.is_none()));

    // Lineage lists communes, not the district that contained them.
    let lineage = r.lineage("00001", after).unwrap();
    let codes: Vec<_> = lineage.predecessors.iter().map(|p| p.unit.code.as_str()).collect();
    assert_eq!(codes, ["00001", "00002"]);

    // Backwards, a merged commune maps to its predecessors with their shares.
    let back = r.map("00005", after, d("2024-07-01")).unwrap();
    assert_eq!(back.len(), 1);
    assert_eq!((back[0].unit.code.as_str(), back[0].weight), ("00004", Some(0.25)));
}

#[test]
fn every_problem_is_reported_at_once_naming_codes() {
    let mut r = three_levels();
    let bad = reorg(
        "bad",
        "2025-07-01",
        vec![
            // 00002 ends with no successor and no archive decision.
            Change::Dissolve { code: "00002".into(), successors: vec![], archive: None },
            // Parent 999 does not exist.
            Change::Create { unit: new_unit("00009", "Xã Mới", UnitKind::Commune, "999") },
            // Two units begin with one code.
            Change::Create { unit: new_unit("00010", "Xã Mười", UnitKind::Commune, "001") },
            Change::Create { unit: new_unit("00010", "Xã Mười Bis", UnitKind::Commune, "001") },
            // 00001 is already in force.
            Change::Create { unit: new_unit("00001", "Xã An Khác", UnitKind::Commune, "001") },
            // Shares that do not add up.
            Change::Split {
                code: "00004".into(),
                into: vec![
                    SplitPart {
                        unit: new_unit("00011", "Xã Mười Một", UnitKind::Commune, "002"), weight: Some(0.5)
                    },
                    SplitPart {
                        unit: new_unit("00012", "Xã Mười Hai", UnitKind::Commune, "002"), weight: Some(0.6)
                    },
                ],
            },
            // District 002 ends while 00003 stays under it.
            Change::Dissolve {
                code: "002".into(),
                successors: vec![Share { code: "001".into(), weight: None }],
                archive: None,
            },
        ],
    );
    let before = r.clone();
    let errors = r.apply(&bad).unwrap_err();
    let text: Vec<String> = errors.iter().map(ToString::to_string).collect();
    let has = |code: &str, part: &str| text.iter().any(|t| t.starts_with(code) && t.contains(part));
    assert!(has("00002", "không có đơn vị kế thừa"), "{text:#?}");
    assert!(has("00009", "cấp trên 999"), "{text:#?}");
    assert!(has("00010", "trùng mã"), "{text:#?}");
    assert!(has("00001", "trùng thời gian hiệu lực"), "{text:#?}");
    assert!(has("00004", "cộng lại bằng"), "{text:#?}");
    assert!(has("00003", "trực thuộc 002"), "{text:#?}");
    assert_eq!(r, before, "a refused reorganization changes nothing");
}

#[test]
fn a_dissolved_unit_may_be_archived_and_drops_out_of_maps() {
    let mut r = three_levels();
    let plan = reorg(
        "archive",
        "2025-01-01",
        vec![Change::Dissolve {
            code: "00002".into(), successors: vec![], archive: Some("lòng hồ thủy điện".into())
        }],
    );
    r.apply(&plan).unwrap();
    assert!(r.map("00002", d("2024-12-31"), d("2025-01-01")).unwrap().is_empty());
    let ended = r.history("00002").next().unwrap();
    assert_eq!(ended.archive_note.as_deref(), Some("lòng hồ thủy điện"));
}

#[test]
fn rename_and_reparent_of_one_unit_make_one_new_version() {
    let mut r = three_levels();
    let plan = reorg(
        "rename",
        "2025-01-01",
        vec![
            Change::Rename { code: "00003".into(), name: "Xã Đức Mới".into() },
            Change::Reparent { code: "00003".into(), parent_code: "001".into() },
            Change::ChangeKind { code: "00003".into(), kind: UnitKind::Township },
        ],
    );
    let delta = r.apply(&plan).unwrap();
    assert_eq!(delta.begun.len(), 1);
    let v = r.in_force("00003", d("2025-01-01")).unwrap();
    assert_eq!((v.name.as_str(), v.parent_code.as_deref(), v.kind), ("Xã Đức Mới", Some("001"), UnitKind::Township));
    assert_eq!(r.history("00003").count(), 2);
    let conflicting = reorg(
        "conflict",
        "2026-01-01",
        vec![
            Change::Rename { code: "00003".into(), name: "A".into() },
            Change::Rename { code: "00003".into(), name: "B".into() },
        ],
    );
    let errors = r.apply(&conflicting).unwrap_err();
    assert!(errors[0].message.contains("mâu thuẫn về tên"), "{errors:?}");
}

#[test]
fn transfer_of_part_keeps_both_units_with_shares() {
    let mut r = three_levels();
    let plan = reorg(
        "transfer",
        "2025-01-01",
        vec![Change::TransferPart { from: "00001".into(), to: "00002".into(), weight: Some(0.2) }],
    );
    r.apply(&plan).unwrap();
    assert!(r.check_invariants().is_empty());
    let map = r.map("00001", d("2024-12-31"), d("2025-01-01")).unwrap();
    let got: Vec<_> = map.iter().map(|m| (m.unit.code.as_str(), m.weight.map(|w| (w * 100.0).round()))).collect();
    assert_eq!(got, [("00001", Some(80.0)), ("00002", Some(20.0))]);
    let back = r.map("00002", d("2025-01-01"), d("2024-12-31")).unwrap();
    assert_eq!(back.len(), 2);
}

#[test]
fn applying_the_same_reorganization_twice_is_refused() {
    let mut r = three_levels();
    r.apply(&two_level_reform()).unwrap();
    let errors = r.apply(&two_level_reform()).unwrap_err();
    assert!(errors.iter().any(|e| e.message.contains("đã được áp dụng")), "{errors:?}");
}

#[test]
fn revert_is_refused_when_a_later_reorganization_builds_on_it() {
    let mut r = three_levels();
    let first = r.apply(&two_level_reform()).unwrap();
    let later =
        reorg("later", "2026-01-01", vec![Change::Rename { code: "00001".into(), name: "Xã An Bình Mới".into() }]);
    let second = r.apply(&later).unwrap();
    assert!(r.revert(&first).is_err());
    r.revert(&second).unwrap();
    r.revert(&first).unwrap();
    assert_eq!(r, three_levels());
}

#[test]
fn baseline_rejects_unknown_parents_and_wrong_levels() {
    let mut r = three_levels();
    let errors = r
        .add_baseline(vec![
            unit("00100", "Xã Lạc", UnitKind::Commune, 3, Some("404")),
            unit("00101", "Xã Lệch", UnitKind::Commune, 2, Some("001")),
        ])
        .unwrap_err();
    let text = format!("{errors:?}");
    assert!(text.contains("00100") && text.contains("không có đơn vị cấp trên mã 404"), "{text}");
    assert!(text.contains("00101") && text.contains("cấp 2"), "{text}");
    // The same list again changes nothing.
    let again = three_levels().versions().to_vec();
    assert_eq!(r.add_baseline(again), Ok(vec![]));
}

#[test]
fn values_restate_into_the_structure_of_another_day() {
    use baocao_core::restate::contributions;
    let mut r = three_levels();
    r.apply(&two_level_reform()).unwrap();
    let (new, july_2024_end, july_2025_end) = (d("2025-07-01"), d("2024-07-31"), d("2025-07-31"));
    let shares = |code: &str, at, end| -> Vec<(String, f64, bool)> {
        contributions(&r, code, at, end).unwrap().into_iter().map(|c| (c.unit.code, c.weight, c.estimated)).collect()
    };
    // A merged commune last year: the sum of its predecessors, exactly.
    assert_eq!(shares("00001", new, july_2024_end), [("00001".into(), 1.0, false), ("00002".into(), 1.0, false)]);
    // A split part: its known share of the old commune.
    assert_eq!(shares("00005", new, july_2024_end), [("00004".into(), 0.25, false)]);
    // The old commune asked about a later period: both parts, whole.
    let forward = shares("00004", d("2025-06-30"), july_2025_end);
    assert_eq!(forward, [("00006".into(), 1.0, false), ("00005".into(), 1.0, false)]);
    // An old commune merged with another: its part of the merged value is unknown.
    let merged = shares("00002", d("2025-06-30"), july_2025_end);
    assert_eq!(merged, [("00001".into(), 0.5, true)]);
    // The province: the sum of its lowest units of that day.
    assert_eq!(shares("01", new, july_2025_end).len(), 4);
    assert_eq!(shares("01", d("2025-06-30"), d("2025-06-30")).len(), 4);
}

mod access {
    use super::*;
    use baocao_core::access::{Grant, Permission, Role, Target, allows, holds, reach};

    fn grant(role: Role, unit: Option<&str>) -> Grant {
        Grant { role, unit: unit.map(Into::into), forms: vec![], validity: Validity::default() }
    }

    fn reformed() -> Registry {
        let mut r = three_levels();
        r.apply(&two_level_reform()).unwrap();
        r
    }

    #[test]
    fn a_commune_grant_reaches_the_commune_and_its_predecessors_only() {
        let r = reformed();
        let grants = [grant(Role::DataEntry, Some("00001"))];
        let today = d("2025-08-01");
        let can = |code: &str, day: &str, p: Permission| {
            let day = d(day);
            let unit = r.in_force(code, day).unwrap();
            allows(&r, &grants, None, p, Target::Unit { unit, day, form: None }, today)
        };
        assert!(can("00001", "2025-07-31", Permission::EnterReports));
        assert!(!can("00003", "2025-07-31", Permission::EnterReports), "another commune");
        assert!(!can("00001", "2025-07-31", Permission::ApproveReports), "not an approver");
        // Before the reform, Xã An Bình stood for Xã An and Xã Bình.
        assert!(can("00002", "2025-05-31", Permission::ViewReports));
        assert!(can("00001", "2025-05-31", Permission::ViewReports));
        assert!(!can("00003", "2025-05-31", Permission::ViewReports));
        assert!(!allows(&r, &grants, None, Permission::ViewReports, Target::System, today));
    }

    #[test]
    fn a_province_grant_covers_its_subtree_and_ends_with_its_validity() {
        let r = reformed();
        let mut g = grant(Role::Approver, Some("01"));
        g.validity = Validity::new(Some(d("2025-07-01")), Some(d("2026-01-01")));
        let day = d("2025-07-31");
        let unit = r.in_force("00005", day).unwrap();
        let target = Target::Unit { unit, day, form: None };
        let grants = [g];
        assert!(allows(&r, &grants, None, Permission::ApproveReports, target, d("2025-12-31")));
        assert!(!allows(&r, &grants, None, Permission::ApproveReports, target, d("2026-01-01")));
        assert!(!allows(&r, &grants, None, Permission::ApproveReports, target, d("2025-06-30")));
    }

    #[test]
    fn forms_and_token_scopes_narrow_a_grant() {
        let r = reformed();
        let day = d("2025-07-31");
        let unit = r.in_force("00003", day).unwrap();
        let mut g = grant(Role::DataEntry, None);
        g.forms = vec!["BM01".into()];
        let grants = [g];
        let on = |form| Target::Unit { unit, day, form: Some(form) };
        assert!(allows(&r, &grants, None, Permission::EnterReports, on("BM01"), day));
        assert!(!allows(&r, &grants, None, Permission::EnterReports, on("BM02"), day));
        assert!(!allows(&r, &grants, None, Permission::EnterReports, Target::System, day));
        let admin = [grant(Role::SystemAdmin, None)];
        let read_only = [Permission::ViewReports];
        assert!(allows(&r, &admin, Some(&read_only), Permission::ViewReports, Target::System, day));
        assert!(!allows(&r, &admin, Some(&read_only), Permission::EnterReports, on("BM01"), day));
        assert!(holds(&admin, Some(&read_only), Permission::ViewReports, day));
        assert!(!holds(&admin, Some(&read_only), Permission::EnterReports, day));
        assert!(!holds(&grants, None, Permission::ApproveReports, day), "a data entry grant does not approve");
    }

    #[test]
    fn reach_lists_subtree_roots_or_everything() {
        let day = d("2025-07-31");
        let grants = [grant(Role::Viewer, Some("00001")), grant(Role::DataEntry, Some("00003"))];
        assert_eq!(reach(&grants, Permission::ViewReports, day), Some(vec!["00001".into(), "00003".into()]));
        assert_eq!(reach(&grants, Permission::EnterReports, day), Some(vec!["00003".into()]));
        assert_eq!(reach(&[grant(Role::SystemAdmin, None)], Permission::ViewAudit, day), None);
    }
}

fn agency(code: &str, unit: &str, from: Option<&str>, to: Option<&str>) -> baocao_core::directory::Agency {
    baocao_core::directory::Agency {
        code: code.into(),
        name: format!("UBND {code}"),
        kind: "UBND xã".into(),
        parent_code: None,
        unit_code: Some(unit.into()),
        valid_from: from.map(d),
        valid_to: to.map(d),
        successor_codes: Vec::new(),
        archive: None,
    }
}

#[test]
fn a_reform_that_dissolves_a_unit_waits_for_its_agencies_to_be_settled() {
    use baocao_core::directory::{agency_lineage, check_agencies, unsettled_agencies};
    let r = three_levels();
    // Xã Bình (00002) merges into 00001, which continues under its code; the
    // district level goes. Xã An's agency may stay, Xã Bình's may not.
    let mut agencies =
        vec![agency("A01", "00001", None, None), agency("A02", "00002", None, None), agency("H01", "001", None, None)];
    let delta = r.plan(&two_level_reform()).unwrap();
    let unsettled = unsettled_agencies(&agencies, &delta);
    let codes: Vec<&str> = unsettled.iter().map(|e| e.code.as_str()).collect();
    assert_eq!(codes, ["00002", "001"], "{unsettled:?}");
    assert!(unsettled[0].message.contains("cơ quan A02") && unsettled[0].message.contains("01/07/2025"));

    // Ending A02 is not enough: it needs a successor or an archive decision.
    agencies[1].valid_to = Some(d("2025-07-01"));
    assert_eq!(unsettled_agencies(&agencies, &delta).len(), 2);
    agencies[1].successor_codes = vec!["A01".into()];
    agencies[2].valid_to = Some(d("2025-07-01"));
    agencies[2].archive = Some("QĐ 123/QĐ-UBND: hồ sơ chuyển Lưu trữ lịch sử tỉnh".into());
    assert_eq!(unsettled_agencies(&agencies, &delta), []);

    // Once applied, the agency list is checked against the registry as a whole.
    let mut after = three_levels();
    after.apply(&two_level_reform()).unwrap();
    assert_eq!(check_agencies(&agencies, &after), Vec::<String>::new());
    let mut careless = agencies.clone();
    careless[1].successor_codes.clear();
    careless.push(agency("A01", "00001", Some("2025-01-01"), None));
    careless[2].successor_codes = vec!["X99".into()];
    let problems = check_agencies(&careless, &after);
    assert_eq!(problems.len(), 3, "{problems:?}");
    assert!(problems.iter().any(|p| p.contains("A01: hai phiên bản")));
    assert!(problems.iter().any(|p| p.contains("A02") && p.contains("của đơn vị 00002")));
    assert!(problems.iter().any(|p| p.contains("«X99» không có hiệu lực")));

    let lineage = agency_lineage(&agencies, "A01").unwrap();
    assert_eq!(lineage.predecessors.iter().map(|a| a.code.as_str()).collect::<Vec<_>>(), ["A02"]);
    assert!(agency_lineage(&agencies, "A99").is_none());
}
