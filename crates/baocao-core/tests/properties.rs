//! Property tests of the registry's invariants under random reorganizations.

use baocao_core::reorg::SplitPart;
use baocao_core::{Change, NewUnit, Registry, ReorgInfo, Reorganization, UnitKind, UnitVersion, Validity};
use chrono::{Datelike, NaiveDate};
use proptest::prelude::*;

/// A random change, described by indices into whatever is in force when it
/// is applied, so that any sequence can be interpreted.
#[derive(Clone, Debug)]
enum Op {
    Merge(usize, usize),
    Split(usize, Option<u8>),
    Transfer(usize, usize, u8),
    Rename(usize),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Op::Merge(a, b)),
        (any::<usize>(), proptest::option::of(1u8..100)).prop_map(|(a, w)| Op::Split(a, w)),
        (any::<usize>(), any::<usize>(), 1u8..100).prop_map(|(a, b, w)| Op::Transfer(a, b, w)),
        any::<usize>().prop_map(Op::Rename),
    ]
}

fn day(year: i32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, 1, 1).unwrap()
}

fn start(communes: usize) -> Registry {
    let mut units = vec![UnitVersion {
        code: "01".into(),
        name: "Tỉnh Thử".into(),
        kind: UnitKind::Province,
        level: 1,
        parent_code: None,
        validity: Validity::default(),
        archive_note: None,
        agency: None,
    }];
    for i in 0..communes {
        units.push(UnitVersion {
            code: format!("{i:05}"),
            name: format!("Xã {i}"),
            kind: UnitKind::Commune,
            level: 2,
            parent_code: Some("01".into()),
            validity: Validity::default(),
            archive_note: None,
            agency: None,
        });
    }
    let mut r = Registry::new();
    r.add_baseline(units).unwrap();
    r
}

fn communes_on(r: &Registry, on: NaiveDate) -> Vec<String> {
    let mut codes: Vec<String> =
        r.versions().iter().filter(|v| v.level == 2 && v.validity.contains(on)).map(|v| v.code.clone()).collect();
    codes.sort();
    codes
}

/// Turns an op into a reorganization effective on `on`, with fresh codes
/// numbered from `next_code`.
fn reorganization(r: &Registry, op: &Op, on: NaiveDate, next_code: &mut usize) -> Option<Reorganization> {
    let eve = on.pred_opt().unwrap();
    let codes = communes_on(r, eve);
    if codes.is_empty() {
        return None;
    }
    let pick = |i: usize| codes[i % codes.len()].clone();
    let mut fresh = |name: &str| {
        *next_code += 1;
        NewUnit {
            code: format!("{:05}", 50_000 + *next_code),
            name: format!("Xã {name} {next_code}"),
            kind: UnitKind::Commune,
            level: None,
            parent_code: Some("01".into()),
        }
    };
    let change = match *op {
        Op::Merge(a, b) if pick(a) != pick(b) => Change::Merge { codes: vec![pick(a), pick(b)], into: fresh("Hợp") },
        Op::Split(a, w) => {
            let w = w.map(|w| f64::from(w) / 100.0);
            Change::Split {
                code: pick(a),
                into: vec![
                    SplitPart { unit: fresh("Tách"), weight: w },
                    SplitPart { unit: fresh("Tách"), weight: w.map(|w| 1.0 - w) },
                ],
            }
        }
        Op::Transfer(a, b, w) if pick(a) != pick(b) => {
            Change::TransferPart { from: pick(a), to: pick(b), weight: Some(f64::from(w) / 100.0) }
        }
        Op::Rename(a) => Change::Rename { code: pick(a), name: format!("Xã Đổi {}", on.year()) },
        _ => return None,
    };
    Some(Reorganization {
        info: ReorgInfo { key: format!("r{}", on.year()), name: "thử".into(), effective_date: on, legal_basis: None },
        changes: vec![change],
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn validity_intervals_of_a_code_never_overlap(ops in proptest::collection::vec(op(), 1..12)) {
        let mut r = start(6);
        let mut next = 0;
        for (i, op) in ops.iter().enumerate() {
            let on = day(2020 + i as i32);
            if let Some(plan) = reorganization(&r, op, on, &mut next) {
                r.apply(&plan).map_err(|e| TestCaseError::fail(format!("{e:?}")))?;
            }
            prop_assert!(r.check_invariants().is_empty(), "{:?}", r.check_invariants());
        }
    }

    #[test]
    fn apply_then_revert_leaves_the_registry_unchanged(ops in proptest::collection::vec(op(), 1..8), last in op()) {
        let mut r = start(5);
        let mut next = 0;
        for (i, op) in ops.iter().enumerate() {
            if let Some(plan) = reorganization(&r, op, day(2020 + i as i32), &mut next) {
                r.apply(&plan).unwrap();
            }
        }
        let before = r.clone();
        if let Some(plan) = reorganization(&r, &last, day(2040), &mut next) {
            let delta = r.apply(&plan).unwrap();
            prop_assert_ne!(&r, &before);
            r.revert(&delta).unwrap();
        }
        prop_assert_eq!(r, before);
    }

    #[test]
    fn mapping_old_to_new_to_old_conserves_known_weights(ops in proptest::collection::vec(op(), 1..8)) {
        let mut r = start(5);
        let mut next = 0;
        for (i, op) in ops.iter().enumerate() {
            if let Some(plan) = reorganization(&r, op, day(2020 + i as i32), &mut next) {
                r.apply(&plan).unwrap();
            }
        }
        let (old, new) = (day(2019), day(2040));
        for code in communes_on(&r, old) {
            let forward = r.map(&code, old, new).unwrap();
            if forward.iter().all(|m| m.weight.is_some()) {
                let total: f64 = forward.iter().filter_map(|m| m.weight).sum();
                prop_assert!((total - 1.0).abs() < 1e-9, "{code} spreads {total}");
            }
            for target in &forward {
                let back = r.map(&target.unit.code, new, old).unwrap();
                let mine = back.iter().find(|m| m.unit.code == code);
                prop_assert!(mine.is_some(), "{} does not lead back to {code}", target.unit.code);
                let (a, b) = (mine.unwrap().weight, target.weight);
                prop_assert!(match (a, b) {
                    (Some(a), Some(b)) => (a - b).abs() < 1e-9,
                    (None, None) => true,
                    _ => false,
                }, "{code} ↔ {}: {a:?} vs {b:?}", target.unit.code);
            }
        }
    }
}
