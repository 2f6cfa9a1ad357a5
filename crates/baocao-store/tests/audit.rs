//! The audit log: every change recorded in its transaction, and any
//! tampering detected.

use baocao_core::access::{Grant, Role};
use baocao_store::audit::AuditFilter;
use baocao_store::{Backend, with_pool};
use baocao_testkit::TestDb;

async fn with_history() -> TestDb {
    let t = TestDb::new().await;
    t.db.create_account("admin", "an", "Nguyễn Văn An", Some("$argon2id$not-a-real-hash")).await.unwrap();
    let grant = Grant { role: Role::Viewer, unit: Some("51".into()), forms: vec![], validity: Default::default() };
    let id = t.db.add_grant("admin", "an", &grant).await.unwrap();
    t.db.revoke_grant("admin", id, baocao_core::parse_date("2026-01-01").unwrap()).await.unwrap();
    t.db.set_active("admin", "an", false).await.unwrap();
    t
}

async fn execute(t: &TestDb, sql: &str) -> Result<u64, sqlx::Error> {
    with_pool!(&t.db, |pool| sqlx::query(sql).execute(pool).await.map(|r| r.rows_affected()))
}

#[tokio::test]
async fn changes_are_recorded_with_before_and_after() {
    let t = with_history().await;
    let all = t.db.audit_records(&AuditFilter { limit: 100, ..Default::default() }).await.unwrap();
    let actions: Vec<&str> = all.iter().rev().map(|r| r.action.as_str()).collect();
    assert_eq!(actions, ["account.create", "grant.add", "grant.revoke", "account.close"]);
    let close = &all[0];
    assert_eq!((close.actor.as_str(), close.object.as_str()), ("admin", "account an"));
    assert_eq!(close.before.as_ref().unwrap()["active"], true);
    assert_eq!(close.after.as_ref().unwrap()["active"], false);
    assert!(!all.iter().any(|r| r.after.as_ref().is_some_and(|a| a.to_string().contains("argon2"))), "no hash logged");
    let verdict = t.db.verify_audit().await.unwrap();
    assert_eq!((verdict.records, verdict.problems.len()), (4, 0), "{:?}", verdict.problems);
    let filter = AuditFilter { action: Some("grant.".into()), limit: 10, ..Default::default() };
    assert_eq!(t.db.audit_records(&filter).await.unwrap().len(), 2);
}

#[tokio::test]
async fn the_log_refuses_updates_and_detects_tampering() {
    let t = with_history().await;
    assert!(execute(&t, "UPDATE audit_log SET actor = 'someone' WHERE seq = 2").await.is_err(), "append-only");
    assert!(execute(&t, "DELETE FROM audit_log WHERE seq = 4").await.is_err(), "append-only");

    // Someone with the database in hand drops the guard and edits a record.
    let drop = match t.db.backend() {
        Backend::Sqlite => "DROP TRIGGER audit_log_no_update",
        Backend::Postgres => "DROP TRIGGER audit_log_append_only ON audit_log",
    };
    execute(&t, drop).await.unwrap();
    execute(&t, "UPDATE audit_log SET after = '{\"active\":true}' WHERE seq = 4").await.unwrap();
    let verdict = t.db.verify_audit().await.unwrap();
    assert!(verdict.problems.iter().any(|p| p.starts_with("bản ghi 4")), "{:?}", verdict.problems);

    // Rewriting the whole chain from there is caught by the head kept apart
    // unless that is rewritten too; removing the last record is caught.
    if t.db.backend() == Backend::Sqlite {
        execute(&t, "DROP TRIGGER audit_log_no_delete").await.unwrap();
    }
    execute(&t, "DELETE FROM audit_log WHERE seq = 4").await.unwrap();
    let verdict = t.db.verify_audit().await.unwrap();
    assert!(verdict.problems.iter().any(|p| p.contains("đầu chuỗi")), "{:?}", verdict.problems);
}
