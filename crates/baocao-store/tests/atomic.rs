//! Every write is all or nothing: made to fail at any of the tables it
//! writes (a trigger that refuses the statement, as a full disk or a
//! broken constraint would), it leaves the database exactly as it was, on
//! either backend; and once the fault is gone it succeeds.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;

use baocao_core::access::{Grant, Permission, Role};
use baocao_core::cutover::{Cutover, ReorgSource};
use baocao_core::datavalue::RawValue;
use baocao_core::form::Column;
use baocao_core::regime::Regime;
use baocao_core::workflow::Action;
use baocao_core::{Period, Reorganization, UnitKind};
use baocao_store::idempotency::{Held, Keyed};
use baocao_store::reports::ReportRequest;
use baocao_store::{Backend, Db, StoreError, with_pool};
use baocao_testkit::{TestDb, counted_indicators, input_form, merge_communes, reorganization, unit};
use chrono::NaiveDate;

type Step = for<'a> fn(&'a Db) -> Pin<Box<dyn Future<Output = Result<(), StoreError>> + Send + 'a>>;

fn day(s: &str) -> NaiveDate {
    baocao_core::parse_date(s).unwrap()
}

fn merge_into_an(key: &str, effective: &str) -> Reorganization {
    reorganization(key, effective, vec![merge_communes(&["00001", "00002"], "00001", "Xã An", "01")])
}

fn regime() -> Regime {
    baocao_testkit::monthly_regime("BM", vec![UnitKind::Commune])
}

fn report(unit: &str, action: Action, values: &[(&str, &str)]) -> ReportRequest {
    ReportRequest {
        regime: "BC".into(),
        unit: unit.into(),
        period: Period::Month { year: 2025, month: 8 },
        action,
        values: values.iter().map(|(c, v)| (c.to_string(), v.to_string())).collect::<BTreeMap<_, _>>(),
        plan: BTreeMap::new(),
        actor: "test".into(),
        signature: Some(("Nguyễn Văn A".into(), "Chủ tịch".into())),
        at: None,
        level: None,
        idempotency: None,
        base_revision: None,
    }
}

/// A province with three communes, an indicator list, a form and a regime,
/// an account with a grant and a token, and a submitted report.
async fn setup(db: &Db) {
    let baseline = vec![
        unit("01", "Tỉnh Một", UnitKind::Province, 1, None),
        unit("00001", "Xã An", UnitKind::Commune, 2, Some("01")),
        unit("00002", "Xã Bình", UnitKind::Commune, 2, Some("01")),
        unit("00003", "Xã Cường", UnitKind::Commune, 2, Some("01")),
    ];
    db.apply_reorganization(baseline, &reorganization("baseline", "2020-01-01", vec![]), false, "test", &|_| {})
        .await
        .unwrap();
    let indicators = counted_indicators(["CT01".to_string(), "CT02".to_string()]);
    db.import_indicators("test", &indicators).await.unwrap();
    db.save_form("test", &input_form("BM", &indicators, vec![Column::ThisPeriod], vec![])).await.unwrap();
    db.save_regime("test", &regime()).await.unwrap();
    db.create_account("test", "canbo", "Cán bộ", None).await.unwrap();
    let grant =
        Grant { role: Role::DataEntry, unit: Some("00001".into()), forms: vec![], validity: Default::default() };
    db.add_grant("test", "canbo", &grant).await.unwrap();
    db.create_token("test", "canbo", "script", "hash-of-a-token", &[Permission::ViewReports]).await.unwrap();
    let registry = db.load_registry().await.unwrap();
    db.apply_report_action(&registry, report("00003", Action::Submit, &[("CT01", "4"), ("CT02", "5")])).await.unwrap();
    let keyed =
        Keyed { principal: "test", key: "atomic", fingerprint: "f", route: "POST /api/v1/reports", exact: true };
    db.claim_idempotency_key(&keyed, chrono::Utc::now()).await.unwrap();
}

/// The writes under test, each from the state [`setup`] leaves.
fn writes() -> Vec<(&'static str, Step)> {
    vec![
        ("create an account", |db| Box::pin(async { db.create_account("test", "moi", "Mới", None).await.map(drop) })),
        ("set a password", |db| Box::pin(db.set_password("test", "canbo", "$argon2id$fake"))),
        ("close an account", |db| Box::pin(db.set_active("test", "canbo", false))),
        ("grant a role", |db| {
            Box::pin(async {
                let grant = Grant { role: Role::Viewer, unit: None, forms: vec![], validity: Default::default() };
                db.add_grant("test", "canbo", &grant).await.map(drop)
            })
        }),
        ("revoke a grant", |db| {
            Box::pin(async {
                let account = db.account("canbo").await?.expect("the account");
                let id = db.grants_of(account.id).await?[0].id;
                db.revoke_grant("test", id, day("2025-01-01")).await
            })
        }),
        ("issue a token", |db| {
            Box::pin(async { db.create_token("test", "canbo", "other", "another-hash", &[]).await.map(drop) })
        }),
        ("revoke a token", |db| {
            Box::pin(async {
                let id = db.token("hash-of-a-token").await?.expect("the token").id;
                db.revoke_token("test", id).await
            })
        }),
        ("record a failed sign-in", |db| {
            Box::pin(async {
                let account = db.account("canbo").await?.expect("the account");
                db.record_failed_sign_in(&account, 5, chrono::Utc::now()).await.map(drop)
            })
        }),
        ("import indicators", |db| {
            Box::pin(async { db.import_indicators("test", &counted_indicators(["CT03".to_string()])).await.map(drop) })
        }),
        ("save a form", |db| {
            Box::pin(async {
                let indicators = counted_indicators(["CT01".to_string()]);
                db.save_form("test", &input_form("BM2", &indicators, vec![Column::ThisPeriod], vec![])).await
            })
        }),
        ("save a regime", |db| {
            Box::pin(async { db.save_regime("test", &Regime { name: "Khác".into(), ..regime() }).await })
        }),
        ("import data values", |db| {
            Box::pin(async {
                let registry = db.load_registry().await?;
                let raw = vec![RawValue {
                    data_element: "CT01".into(),
                    period: "202507".into(),
                    org_unit: "00002".into(),
                    value: "3".into(),
                    comment: None,
                    index: 0,
                }];
                let summary = db.import_data_values("test", "test.json", &registry, raw).await?;
                assert_eq!(summary.status, "SUCCESS", "{summary:?}");
                Ok(())
            })
        }),
        ("save a report", |db| {
            Box::pin(async {
                let registry = db.load_registry().await?;
                db.apply_report_action(&registry, report("00001", Action::Save, &[("CT01", "7")])).await.map(drop)
            })
        }),
        ("save a report with an idempotency key", |db| {
            Box::pin(async {
                let registry = db.load_registry().await?;
                let token: String = with_pool!(db, |pool| sqlx::query_scalar(
                    "SELECT token FROM idempotency_keys WHERE key = 'atomic'"
                )
                .fetch_one(pool)
                .await)?;
                let held = Held { principal: "test".into(), key: "atomic".into(), token };
                let save = ReportRequest { idempotency: Some(held), ..report("00001", Action::Save, &[("CT01", "7")]) };
                db.apply_report_action(&registry, save).await.map(drop)
            })
        }),
        ("approve a report", |db| {
            Box::pin(async {
                let registry = db.load_registry().await?;
                db.apply_report_action(&registry, report("00003", Action::Approve, &[])).await.map(drop)
            })
        }),
        ("apply a reorganization", |db| {
            Box::pin(async {
                db.apply_reorganization(vec![], &merge_into_an("merge", "2026-01-01"), false, "test", &|_| {})
                    .await
                    .map(drop)
            })
        }),
        ("apply a cutover", |db| {
            Box::pin(async {
                let cutover = Cutover {
                    key: "cutover".into(),
                    name: "Chuyển đổi".into(),
                    effective_date: day("2026-01-01"),
                    scope: None,
                    source_organization: "Văn phòng".into(),
                    reorganization: ReorgSource::Plan { reorganization: merge_into_an("merge", "2026-01-01") },
                    forms: vec![],
                    regimes: vec![Regime { name: "Sau chuyển đổi".into(), ..regime() }],
                    accounts: None,
                };
                db.apply_cutover("test", &cutover).await.map(drop)
            })
        }),
        ("import tasks", |db| {
            Box::pin(async {
                let task = baocao_core::tasks::Task {
                    plan: "KH 1".into(),
                    number: "1".into(),
                    title: "Việc".into(),
                    lead: "Văn phòng".into(),
                    coordinating: String::new(),
                    deadline: day("2026-01-01"),
                    product: "Báo cáo".into(),
                    status: baocao_core::tasks::TaskStatus::NotStarted,
                    done_on: None,
                    evidence: None,
                };
                db.import_tasks("test", &[task]).await.map(drop)
            })
        }),
    ]
}

/// Every table's rows, as text, sorted: what "nothing changed" compares
/// (on SQLite each value quoted as SQL, which a blob can be and JSON not).
async fn snapshot(db: &Db) -> BTreeMap<String, Vec<String>> {
    let mut tables = BTreeMap::new();
    for table in tables_of(db).await {
        let rows: Vec<String> = match db.backend() {
            Backend::Sqlite => {
                let columns: Vec<String> = with_pool!(db, |pool| sqlx::query_scalar(
                    "SELECT 'quote(\"' || name || '\")' FROM pragma_table_info($1)"
                )
                .bind(&table)
                .fetch_all(pool)
                .await
                .unwrap());
                let sql = format!("SELECT json_array({}) FROM \"{table}\"", columns.join(", "));
                with_pool!(db, |pool| sqlx::query_scalar(&sql).fetch_all(pool).await.unwrap())
            }
            Backend::Postgres => {
                let sql = format!("SELECT row_to_json(t)::text FROM \"{table}\" t");
                with_pool!(db, |pool| sqlx::query_scalar(&sql).fetch_all(pool).await.unwrap())
            }
        };
        let mut rows = rows;
        rows.sort();
        tables.insert(table, rows);
    }
    tables
}

async fn tables_of(db: &Db) -> Vec<String> {
    let sql = match db.backend() {
        Backend::Sqlite => {
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_sqlx%'"
        }
        Backend::Postgres => {
            "SELECT table_name::text FROM information_schema.tables WHERE table_schema = current_schema()
             AND table_type = 'BASE TABLE' AND table_name NOT LIKE '\\_sqlx%'"
        }
    };
    with_pool!(db, |pool| sqlx::query_scalar(sql).fetch_all(pool).await.unwrap())
}

/// Makes every statement that writes `table` fail, or stops doing so.
async fn fault(db: &Db, table: &str, on: bool) {
    let statements: Vec<String> = match (db.backend(), on) {
        (Backend::Sqlite, true) => ["INSERT", "UPDATE", "DELETE"]
            .iter()
            .map(|op| {
                format!(
                    "CREATE TRIGGER fault_{op}_{table} BEFORE {op} ON \"{table}\"
                     BEGIN SELECT RAISE(ABORT, 'injected fault'); END"
                )
            })
            .collect(),
        (Backend::Sqlite, false) => {
            ["INSERT", "UPDATE", "DELETE"].iter().map(|op| format!("DROP TRIGGER fault_{op}_{table}")).collect()
        }
        (Backend::Postgres, true) => vec![
            "CREATE OR REPLACE FUNCTION injected_fault() RETURNS trigger LANGUAGE plpgsql
             AS $$ BEGIN RAISE EXCEPTION 'injected fault'; END $$"
                .into(),
            format!(
                "CREATE TRIGGER fault_{table} BEFORE INSERT OR UPDATE OR DELETE ON \"{table}\"
                 FOR EACH ROW EXECUTE FUNCTION injected_fault()"
            ),
        ],
        (Backend::Postgres, false) => vec![format!("DROP TRIGGER fault_{table} ON \"{table}\"")],
    };
    for sql in statements {
        with_pool!(db, |pool| sqlx::query(&sql).execute(pool).await.map(drop).unwrap());
    }
}

/// The tables `write` changes, found by running it on a database of its own.
async fn written_by(write: Step) -> Vec<String> {
    let t = TestDb::new().await;
    setup(&t.db).await;
    let before = snapshot(&t.db).await;
    write(&t.db).await.unwrap();
    let after = snapshot(&t.db).await;
    after.into_iter().filter(|(table, rows)| before.get(table) != Some(rows)).map(|(table, _)| table).collect()
}

#[tokio::test]
async fn a_write_that_fails_at_any_table_leaves_nothing_behind() {
    for (name, write) in writes() {
        let tables = written_by(write).await;
        assert!(tables.iter().any(|t| t == "audit_log"), "{name}: not audited ({tables:?})");
        let t = TestDb::new().await;
        setup(&t.db).await;
        for table in &tables {
            let before = snapshot(&t.db).await;
            fault(&t.db, table, true).await;
            let outcome = write(&t.db).await;
            fault(&t.db, table, false).await;
            let error = outcome.err().map(|e| e.to_string()).unwrap_or_default();
            assert!(error.contains("injected fault"), "{name}, failing at {table}: answered «{error}»");
            let after = snapshot(&t.db).await;
            for (table_after, rows) in &after {
                assert_eq!(
                    before.get(table_after),
                    Some(rows),
                    "{name}, failing at {table}: {table_after} changed although the write failed"
                );
            }
        }
        // The database still writes, and the same write succeeds.
        write(&t.db).await.unwrap_or_else(|e| panic!("{name} after the faults: {e}"));
        let verdict = t.db.verify_audit().await.unwrap();
        assert!(verdict.problems.is_empty(), "{name}: the audit chain broke: {:?}", verdict.problems);
    }
}
