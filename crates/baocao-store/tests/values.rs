//! Importing values (DHIS2 dataValueSets) on either backend: counts that
//! come from what was written, and entries that contradict each other.

use baocao_core::datavalue::RawValue;
use baocao_core::{Registry, UnitKind};
use baocao_store::Db;
use baocao_testkit::{TestDb, counted_indicators, reorganization, unit};

async fn province() -> (TestDb, Registry) {
    let t = TestDb::new().await;
    let mut baseline = vec![unit("01", "Đơn vị 01", UnitKind::Province, 1, None)];
    baseline.extend((1..=40).map(|i| {
        let code = format!("{i:05}");
        unit(&code, &format!("Đơn vị {code}"), UnitKind::Commune, 2, Some("01"))
    }));
    let plan = reorganization("baseline", "2020-01-01", vec![]);
    t.db.apply_reorganization(baseline, &plan, false, "test", &|_| {}).await.unwrap();
    t.db.import_indicators("test", &counted_indicators(["CT01".to_string()])).await.unwrap();
    let registry = t.db.load_registry().await.unwrap();
    (t, registry)
}

fn value(index: usize, unit: usize, value: &str) -> RawValue {
    RawValue {
        index,
        data_element: "CT01".into(),
        period: "202507".into(),
        org_unit: format!("{unit:05}"),
        value: value.into(),
        comment: None,
    }
}

async fn import(db: &Db, registry: &Registry, units: std::ops::Range<usize>) -> (usize, usize) {
    let raw = units.enumerate().map(|(i, u)| value(i, u, "1")).collect();
    let summary = db.import_data_values("test", "test.json", registry, raw).await.unwrap();
    (summary.import_count.imported, summary.import_count.updated)
}

#[tokio::test]
async fn imports_at_the_same_time_count_each_value_once() {
    let (t, registry) = province().await;
    for round in 0..5 {
        // Overlapping halves, at once: every value is new to exactly one
        // of the imports of the first round, and none is new after.
        let (a, b) = tokio::join!(import(&t.db, &registry, 1..31), import(&t.db, &registry, 11..41));
        assert_eq!(a.0 + a.1, 30, "round {round}: {a:?}");
        assert_eq!(b.0 + b.1, 30, "round {round}: {b:?}");
        let expected_new = if round == 0 { 40 } else { 0 };
        assert_eq!(a.0 + b.0, expected_new, "round {round}: {a:?} {b:?}");
    }
    let audited = t.db.audit_records(&baocao_store::audit::AuditFilter { limit: 100, ..Default::default() }).await;
    for record in audited.unwrap().iter().filter(|r| r.action == "values.import") {
        let after = record.after.as_ref().unwrap();
        let (imported, updated) = (after["imported"].as_u64().unwrap(), after["updated"].as_u64().unwrap());
        assert_eq!(imported + updated, 30, "audit record {}: {after}", record.seq);
    }
}

#[tokio::test]
async fn the_same_cell_given_twice_is_a_conflict_and_neither_is_stored() {
    let (t, registry) = province().await;
    let raw = vec![value(0, 1, "5"), value(1, 2, "6"), value(2, 1, "7")];
    let summary = t.db.import_data_values("test", "test.json", &registry, raw).await.unwrap();
    assert_eq!(summary.status, "WARNING");
    assert_eq!((summary.import_count.imported, summary.import_count.ignored), (1, 2));
    let conflict = &summary.conflicts[0];
    assert_eq!(conflict.indexes, [0, 2]);
    assert!(conflict.value.contains("được khai báo 2 lần"), "{}", conflict.value);
    let stored =
        t.db.numbers("CT01", &"202507".parse().unwrap(), baocao_store::compose::Counting::Everything).await.unwrap();
    assert_eq!(stored.len(), 1, "{stored:?}");
}

#[tokio::test]
async fn an_import_larger_than_one_statement_is_stored_whole_and_counted_once() {
    let (t, registry) = province().await;
    // 40 communes × 1,300 days: more values than one statement writes on
    // either backend (1,000 rows on SQLite, 50,000 on PostgreSQL).
    let first = baocao_core::parse_date("2023-01-01").unwrap();
    let raw = |value: &str| -> Vec<RawValue> {
        (0..1300)
            .flat_map(|d| (1..=40).map(move |u| (d, u)))
            .enumerate()
            .map(|(index, (d, u))| RawValue {
                index,
                data_element: "CT01".into(),
                period: (first + chrono::Days::new(d)).format("%Y%m%d").to_string(),
                org_unit: format!("{u:05}"),
                value: value.into(),
                comment: None,
            })
            .collect()
    };
    let summary = t.db.import_data_values("test", "test.json", &registry, raw("1")).await.unwrap();
    assert_eq!((summary.status, summary.import_count.imported), ("SUCCESS", 52_000), "{summary:?}");
    let again = t.db.import_data_values("test", "test.json", &registry, raw("2")).await.unwrap();
    assert_eq!((again.import_count.imported, again.import_count.updated), (0, 52_000), "{again:?}");
    let last_day = "20240822".parse().unwrap();
    let stored = t.db.numbers("CT01", &last_day, baocao_store::compose::Counting::Everything).await.unwrap();
    assert_eq!(stored.len(), 40);
    assert!(stored.values().all(|v| *v == 2.0), "{stored:?}");
}
