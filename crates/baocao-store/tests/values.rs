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

/// A value names only an indicator, a unit and a source that exist, and
/// none of them can go while a value names it. SQLite checks this with
/// foreign keys; PostgreSQL with triggers that check each statement's rows
/// at once (migration 0033): the same refusals, the same constraint names.
#[tokio::test]
async fn a_value_names_only_what_exists_and_what_it_names_stays() {
    let (t, registry) = province().await;
    import(&t.db, &registry, 1..3).await;
    let copy = "INSERT INTO data_values (indicator_id, unit_id, period, period_end, value, stored_at, source_id)
        SELECT indicator_id, unit_id, '202508', period_end, value, stored_at, source_id FROM data_values";
    for (change, named) in [
        (copy.replace("SELECT indicator_id,", "SELECT indicator_id + 1000,"), "indicator_id"),
        (copy.replace("indicator_id, unit_id, '202508'", "indicator_id, unit_id + 100000, '202508'"), "unit_id"),
        (copy.replace("stored_at, source_id FROM", "stored_at, source_id + 1000 FROM"), "source_id"),
    ] {
        let refused = execute(&t.db, &change).await.expect_err(&change);
        refused_as_foreign_key(&t.url, &refused, named);
    }
    execute(&t.db, copy).await.unwrap();
    for (delete, named) in [
        ("DELETE FROM units WHERE code = '00002'", "unit_id"),
        ("DELETE FROM indicators WHERE code = 'CT01'", "indicator_id"),
        ("DELETE FROM value_sources", "source_id"),
    ] {
        let refused = execute(&t.db, delete).await.expect_err(delete);
        refused_as_foreign_key(&t.url, &refused, named);
    }
    // A unit no value names still goes.
    execute(&t.db, "DELETE FROM units WHERE code = '00040'").await.unwrap();
    let copied: i64 = baocao_store::with_pool!(&t.db, |pool| sqlx::query_scalar(
        "SELECT COUNT(*) FROM data_values WHERE period = '202508'"
    )
    .fetch_one(pool)
    .await
    .unwrap());
    assert_eq!(copied, 2);
}

async fn execute(db: &Db, sql: &str) -> Result<(), String> {
    baocao_store::with_pool!(db, |pool| sqlx::query(sql).execute(pool).await.map(|_| ())).map_err(|e| e.to_string())
}

fn refused_as_foreign_key(url: &str, refused: &str, column: &str) {
    if url.starts_with("postgres") {
        assert!(refused.contains(&format!("data_values_{column}_fkey")), "{refused}");
    } else {
        assert!(refused.contains("FOREIGN KEY constraint failed"), "{refused}");
    }
}

/// A writer and a deletion at the same time on PostgreSQL, either way
/// round: the second waits for the first to commit, then is refused. A
/// foreign key's check locks the row it finds; the triggers that replace
/// them must too, or both would commit and leave a value naming nothing.
#[tokio::test]
async fn a_value_and_the_deletion_of_its_unit_at_once_do_not_both_commit() {
    let (t, registry) = province().await;
    if !t.url.starts_with("postgres") {
        // One writer at a time: there is no race to lose.
        return;
    }
    import(&t.db, &registry, 1..2).await;
    let connect = || async { <sqlx::PgConnection as sqlx::Connection>::connect(&t.url).await.unwrap() };
    let (mut first, mut second) = (connect().await, connect().await);
    let write = "INSERT INTO data_values (indicator_id, unit_id, period, period_end, value, stored_at)
        SELECT d.indicator_id, u.id, d.period, d.period_end, d.value, d.stored_at
        FROM data_values d JOIN units first ON first.id = d.unit_id AND first.code = '00001', units u
        WHERE u.code = $1";
    let delete = "DELETE FROM units WHERE code = $1";
    for (unit, statements) in [("00010", [write, delete]), ("00011", [delete, write])] {
        sqlx::query("BEGIN").execute(&mut first).await.unwrap();
        sqlx::query(statements[0]).bind(unit).execute(&mut first).await.unwrap();
        let mut waiting = Box::pin(sqlx::query(statements[1]).bind(unit).execute(&mut second));
        let early = tokio::time::timeout(std::time::Duration::from_millis(300), &mut waiting).await;
        assert!(early.is_err(), "{unit}: the second statement waits for the first's transaction: {early:?}");
        sqlx::query("COMMIT").execute(&mut first).await.unwrap();
        let refused = waiting.await.unwrap_err().to_string();
        assert!(refused.contains("data_values_unit_id_fkey"), "{unit}: {refused}");
    }
    let named: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM data_values d WHERE NOT EXISTS (SELECT 1 FROM units u WHERE u.id = d.unit_id)",
    )
    .fetch_one(&mut first)
    .await
    .unwrap();
    assert_eq!(named, 0, "no value names a unit that is gone");
}
