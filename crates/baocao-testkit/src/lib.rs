//! A fresh database for each test, so tests run in parallel without
//! seeing each other's data.
//!
//! With `BAOCAO_TEST_DATABASE_URL` unset, each test gets a new SQLite file
//! in a temporary directory. Set to a PostgreSQL URL, each test gets a new
//! schema in that database (the CI creates the database for the run and
//! drops it afterwards, schemas and all).

use std::sync::atomic::{AtomicU32, Ordering};

use baocao_core::form::{Column, Form, FormKind, FormRow, Rule};
use baocao_core::regime::{Regime, UnitSelector};
use baocao_core::{
    Aggregation, Change, Indicator, NewUnit, Periodicity, ReorgInfo, Reorganization, UnitKind, UnitVersion, Validity,
    ValueType,
};
use baocao_store::Db;
use sqlx::Connection;

pub struct TestDb {
    /// The URL a separate process (the CLI) can connect to.
    pub url: String,
    pub db: Db,
    _dir: Option<tempfile::TempDir>,
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

impl TestDb {
    pub async fn new() -> TestDb {
        match std::env::var("BAOCAO_TEST_DATABASE_URL").ok().filter(|u| !u.is_empty()) {
            Some(base) if base.starts_with("postgres") => Self::postgres(&base).await,
            Some(other) => panic!("BAOCAO_TEST_DATABASE_URL must be a postgres:// URL, not {other}"),
            None => Self::sqlite().await,
        }
    }

    /// The URL of a new, empty database (no table yet), and what keeps it
    /// alive: for tests of what happens when processes first open one.
    pub async fn blank() -> (String, Option<tempfile::TempDir>) {
        match std::env::var("BAOCAO_TEST_DATABASE_URL").ok().filter(|u| !u.is_empty()) {
            Some(base) => (Self::schema(&base).await, None),
            None => {
                let dir = tempfile::tempdir().expect("a temporary directory");
                (format!("sqlite:{}", dir.path().join("baocao.db").display()), Some(dir))
            }
        }
    }

    async fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let url = format!("sqlite:{}", dir.path().join("baocao.db").display());
        let db = Db::connect(&url).await.expect("a fresh SQLite database");
        TestDb { url, db, _dir: Some(dir) }
    }

    async fn postgres(base: &str) -> TestDb {
        let url = Self::schema(base).await;
        let db = Db::connect(&url).await.expect("connect to the test schema");
        TestDb { url, db, _dir: None }
    }

    /// A new, empty schema of the database at `base`, as a URL.
    async fn schema(base: &str) -> String {
        let schema = format!(
            "t_{}_{}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed),
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos())
        );
        let mut conn =
            sqlx::PgConnection::connect(base).await.expect("PostgreSQL reachable at BAOCAO_TEST_DATABASE_URL");
        sqlx::query(&format!("CREATE SCHEMA {schema}")).execute(&mut conn).await.expect("create a test schema");
        conn.close().await.ok();
        let separator = if base.contains('?') { '&' } else { '?' };
        format!("{base}{separator}options=-c%20search_path%3D{schema}")
    }
}

/// Indicators counted (whole numbers, never negative) and summed, named
/// after their codes.
pub fn counted_indicators(codes: impl IntoIterator<Item = String>) -> Vec<Indicator> {
    codes
        .into_iter()
        .map(|code| Indicator {
            name: format!("Chỉ tiêu {code}"),
            code,
            unit: "hồ sơ".into(),
            value_type: ValueType::IntegerZeroOrPositive,
            aggregation: Aggregation::Sum,
            group: None,
        })
        .collect()
}

/// An input form with one row per indicator, in force at all times.
pub fn input_form(code: &str, indicators: &[Indicator], columns: Vec<Column>, rules: Vec<Rule>) -> Form {
    Form {
        code: code.into(),
        name: format!("Biểu {code}"),
        kind: FormKind::Input,
        valid_from: None,
        valid_to: None,
        columns,
        rows: indicators
            .iter()
            .enumerate()
            .map(|(i, ind)| FormRow {
                stt: (i + 1).to_string(),
                indicator: Some(ind.code.clone()),
                label: None,
                heading: false,
                indent: 0,
            })
            .collect(),
        rules,
        source: None,
    }
}

/// The regime `BC` of `form`, monthly, over every unit of `kinds`, each
/// report approved by its sender alone, with a reminder 3 days before.
pub fn monthly_regime(form: &str, kinds: Vec<UnitKind>) -> Regime {
    Regime {
        code: "BC".into(),
        name: "Chế độ thử".into(),
        form: form.into(),
        periodicity: Periodicity::Monthly,
        deadline_days_after_cutoff: 5,
        units: UnitSelector { under: None, kinds, codes: vec![] },
        issued_by: None,
        planning: false,
        approval: Vec::new(),
        self_approval: true,
        request: None,
        reminders: vec![3],
        agencies: None,
    }
}

/// A unit valid since forever, for a registry built by a test.
pub fn unit(code: &str, name: &str, kind: UnitKind, level: u8, parent: Option<&str>) -> UnitVersion {
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

/// Communes `codes` merged into commune `into` (one of them keeping its
/// code, or a new one) named `name`, under `parent`.
pub fn merge_communes(codes: &[&str], into: &str, name: &str, parent: &str) -> Change {
    Change::Merge {
        codes: codes.iter().map(|c| c.to_string()).collect(),
        into: NewUnit {
            code: into.into(),
            name: name.into(),
            kind: UnitKind::Commune,
            level: None,
            parent_code: Some(parent.into()),
        },
    }
}

/// A reorganization named `key`, effective on `effective` (yyyy-mm-dd).
pub fn reorganization(key: &str, effective: &str, changes: Vec<Change>) -> Reorganization {
    let effective_date = baocao_core::parse_date(effective).expect("a day written yyyy-mm-dd");
    Reorganization { info: ReorgInfo { key: key.into(), name: key.into(), effective_date, legal_basis: None }, changes }
}
