//! The registry in the database, on whichever backend the environment names.

use baocao_core::{Change, ReorgInfo, Reorganization, parse_date};
use baocao_ingest::vn_admin::Sources;
use baocao_store::StoreError;
use baocao_testkit::TestDb;

fn quiet(_: &str) {}

async fn loaded() -> TestDb {
    let t = TestDb::new().await;
    let reform = Sources::bundled().read().unwrap();
    let outcome =
        t.db.apply_reorganization(reform.baseline, &reform.reorganization, false, "test", &quiet).await.unwrap();
    assert!(!outcome.already_applied);
    assert_eq!(outcome.baseline_added, 10_810);
    assert_eq!(outcome.units_begun, 3_355);
    t
}

#[tokio::test]
async fn the_national_reform_loads_once_and_reloads_as_a_no_op() {
    let t = loaded().await;
    let revision = t.db.registry_revision().await.unwrap();
    let reform = Sources::bundled().read().unwrap();
    let again =
        t.db.apply_reorganization(reform.baseline, &reform.reorganization, false, "test", &quiet).await.unwrap();
    assert!(again.already_applied);
    assert_eq!(t.db.registry_revision().await.unwrap(), revision);
    let registry = t.db.load_registry().await.unwrap();
    assert_eq!(registry.versions().len(), 10_810 + 3_355);
    assert!(registry.check_invariants().is_empty());
}

#[tokio::test]
async fn quang_ngai_in_the_structure_of_each_day() {
    let t = loaded().await;
    let day = |s| parse_date(s).unwrap();
    let before = t.db.units_at(day("2025-06-30"), Some("51"), None).await.unwrap();
    assert_eq!(before.iter().filter(|u| u.level == 2).count(), 13);
    assert_eq!(before.iter().filter(|u| u.level == 3).count(), 170);
    // Each district is followed by its own communes.
    assert_eq!(before[0].level, 2);
    assert!(before[1..].iter().take_while(|u| u.level == 3).all(|u| u.parent_code.as_deref() == Some(&before[0].code)));

    let after = t.db.units_at(day("2025-07-01"), Some("51"), None).await.unwrap();
    assert_eq!(after.len(), 96);
    let kinds = |k: &str| after.iter().filter(|u| u.kind.as_str() == k).count();
    assert_eq!((kinds("xã"), kinds("phường"), kinds("đặc khu")), (86, 9, 1));
    // Kon Tum's communes are under 51 after the reform.
    assert!(after.iter().any(|u| u.code == "23317"));
    // Vietnamese order of names: Ba … before Bình … before Đ….
    let names: Vec<&str> = after.iter().map(|u| u.short_name()).collect();
    let mut sorted = names.clone();
    sorted.sort_by(|a, b| baocao_core::text::compare_vi(a, b));
    assert_eq!(names, sorted);

    let provinces = t.db.units_at(day("2025-07-01"), None, Some(1)).await.unwrap();
    assert_eq!(provinces.len(), 34);
    assert_eq!(t.db.units_at(day("2025-06-30"), None, Some(1)).await.unwrap().len(), 63);
}

#[tokio::test]
async fn search_ignores_case_and_diacritics() {
    let t = loaded().await;
    let at = Some(parse_date("2025-07-01").unwrap());
    for query in ["ngok bay", "NGỌK BAY", "Ngọk"] {
        let found = t.db.search_units(query, at, 50).await.unwrap();
        assert!(found.iter().any(|u| u.code == "23317" && u.name == "Xã Ngọk Bay"), "{query}: {found:?}");
    }
    // Without a date, both versions of the code are found.
    let all = t.db.search_units("ngok bay", None, 50).await.unwrap();
    assert_eq!(all.iter().filter(|u| u.code == "23317").count(), 2);
    assert!(t.db.search_units("100%_", None, 50).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_reorganization_applies_atomically_and_reverts() {
    let t = loaded().await;
    let before = t.db.load_registry().await.unwrap();
    let plan = Reorganization {
        info: ReorgInfo {
            key: "test-rename".into(),
            name: "Đổi tên".into(),
            effective_date: parse_date("2026-01-01").unwrap(),
            legal_basis: None,
        },
        changes: vec![
            Change::Rename { code: "23317".into(), name: "Xã Ngọk Bay Mới".into() },
            // Invalid: unknown unit; the whole plan is refused.
            Change::Rename { code: "99999".into(), name: "Không có".into() },
        ],
    };
    let err = t.db.apply_reorganization(vec![], &plan, false, "test", &quiet).await.unwrap_err();
    assert!(matches!(&err, StoreError::Invalid(e) if e.iter().any(|e| e.code == "99999")), "{err}");
    assert!(t.db.load_registry().await.unwrap() == before, "nothing was half-applied");

    let plan = Reorganization { changes: plan.changes[..1].to_vec(), ..plan };
    t.db.apply_reorganization(vec![], &plan, false, "test", &quiet).await.unwrap();
    let history = t.db.unit_history("23317").await.unwrap();
    assert_eq!(history.len(), 3);
    t.db.revert_reorganization("test", "test-rename").await.unwrap();
    assert!(t.db.load_registry().await.unwrap() == before, "revert restores the registry");
}

/// On PostgreSQL a national load checks its foreign keys once, taking them
/// off and putting them back in its transaction: they are all back, as
/// they were defined, and they hold.
#[tokio::test]
async fn a_bulk_load_leaves_the_foreign_keys_as_they_were() {
    let t = TestDb::new().await;
    if !t.url.starts_with("postgres") {
        // SQLite checks them row by row, as it always does.
        return;
    }
    let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&t.url).await.unwrap();
    let keys = "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint
                WHERE contype = 'f' AND conrelid IN ('units'::regclass, 'lineage'::regclass) ORDER BY 1, 2";
    let before: Vec<(String, String, String)> = sqlx::query_as(keys).fetch_all(&mut conn).await.unwrap();
    assert_eq!(before.len(), 5, "{before:?}");
    let reform = Sources::bundled().read().unwrap();
    t.db.apply_reorganization(reform.baseline, &reform.reorganization, false, "test", &quiet).await.unwrap();
    let after: Vec<(String, String, String)> = sqlx::query_as(keys).fetch_all(&mut conn).await.unwrap();
    assert_eq!(after, before);
    let dangling = "INSERT INTO lineage (predecessor_id, successor_id, reorganization_id, partial)
                    SELECT MAX(id) + 1, MIN(id), (SELECT MIN(id) FROM reorganizations), false FROM units";
    let refused = sqlx::query(dangling).execute(&mut conn).await.unwrap_err().to_string();
    assert!(refused.contains("lineage_predecessor_id_fkey"), "{refused}");
}
