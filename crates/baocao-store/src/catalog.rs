//! The catalog (indicators, forms, regimes) kept in memory.
//!
//! Every report action needs its regime, the version of its form and the
//! indicators; reading them each time cost more than writing the report.
//! The cache is checked against its `cache_revisions` row, which triggers bump on
//! every change to the three tables, whichever process or code path makes
//! it: one small read per use, and a stale copy is never served.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use baocao_core::Indicator;
use baocao_core::form::Form;
use baocao_core::regime::Regime;
use chrono::NaiveDate;

use crate::error::{parse_json, rejected};
use crate::{Db, StoreError, with_pool};

/// The catalog as read at one revision.
#[derive(Debug)]
pub(crate) struct Catalog {
    revision: i64,
    regimes: HashMap<String, (i64, Regime)>,
    /// Every version of each form, with its row id.
    forms: HashMap<String, Vec<(i64, Form)>>,
    pub(crate) indicators: Arc<HashMap<String, Indicator>>,
}

impl Catalog {
    /// A regime by code, with its row id.
    pub(crate) fn regime(&self, code: &str) -> Result<&(i64, Regime), StoreError> {
        self.regimes.get(code).ok_or_else(|| StoreError::NotFound(format!("Không có chế độ báo cáo «{code}».")))
    }

    /// The version of a form in force on `day`, with its row id.
    pub(crate) fn form_at(&self, code: &str, day: NaiveDate) -> Result<&(i64, Form), StoreError> {
        self.forms
            .get(code)
            .and_then(|versions| versions.iter().find(|(_, form)| form.validity().contains(day)))
            .ok_or_else(|| {
                rejected(format!(
                    "biểu mẫu {code} không có phiên bản nào có hiệu lực ngày {}",
                    baocao_core::date::format_vn(day)
                ))
            })
    }
}

/// Bumps the revision of stored values (migration `0030_values_revision`),
/// in the transaction that writes values or reports' status.
pub(crate) const BUMP_VALUES_REVISION: &str =
    "UPDATE cache_revisions SET revision = revision + 1 WHERE name = 'values'";

/// Bumps the revision of one period's values and reports (`$1`, migration
/// `0031_period_revisions`), after [`BUMP_VALUES_REVISION`] in the same
/// transaction: that row's lock makes writers take turns, so two bumping
/// several periods never wait on each other's.
pub(crate) const BUMP_PERIOD_REVISION: &str = "INSERT INTO period_revisions (period, revision) VALUES ($1, 1)
     ON CONFLICT (period) DO UPDATE SET revision = period_revisions.revision + 1";

/// What every composed figure depends on, as revisions: stored values and
/// reports, the catalog, access (grants, tokens) and the registry. Equal
/// revisions mean an equal figure for the same question and asker.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FigureRevisions([i64; 4]);

impl From<[i64; 4]> for FigureRevisions {
    fn from(revisions: [i64; 4]) -> Self {
        FigureRevisions(revisions)
    }
}

impl FigureRevisions {
    /// The revisions without that of values and reports: what a period's
    /// numbers depend on besides their own period's revision.
    pub(crate) fn without_values(self) -> Self {
        let [_, catalog, access, registry] = self.0;
        FigureRevisions([0, catalog, access, registry])
    }
}

impl Db {
    /// The revision of a kind of data kept in memory (`catalog`, `access`),
    /// which every change to its tables bumps.
    pub async fn cache_revision(&self, kind: &str) -> Result<i64, StoreError> {
        let sql = "SELECT revision FROM cache_revisions WHERE name = $1";
        Ok(with_pool!(self, |pool| sqlx::query_scalar(sql).bind(kind).fetch_one(pool).await?))
    }

    /// The revisions composed figures depend on, in one read.
    pub async fn figure_revisions(&self) -> Result<FigureRevisions, StoreError> {
        let sql = "SELECT (SELECT revision FROM cache_revisions WHERE name = 'values'),
                          (SELECT revision FROM cache_revisions WHERE name = 'catalog'),
                          (SELECT revision FROM cache_revisions WHERE name = 'access'),
                          (SELECT revision FROM registry_revision WHERE id = 1)";
        let read: (i64, i64, i64, i64) = with_pool!(self, |pool| sqlx::query_as(sql).fetch_one(pool).await?);
        Ok(FigureRevisions([read.0, read.1, read.2, read.3]))
    }

    /// The revision of each period whose values or reports were ever
    /// written (a period absent is at 0): a row per period, some hundreds
    /// over years of months, quarters and years.
    pub(crate) async fn period_revisions(&self) -> Result<HashMap<String, i64>, StoreError> {
        let sql = "SELECT period, revision FROM period_revisions";
        let rows: Vec<(String, i64)> = with_pool!(self, |pool| sqlx::query_as(sql).fetch_all(pool).await?);
        Ok(rows.into_iter().collect())
    }
}

/// A stored definition: row id and JSON.
type Definition = (i64, String);

#[derive(Debug, Default)]
pub(crate) struct CatalogCache(RwLock<Option<Arc<Catalog>>>);

impl Db {
    /// The catalog as it stands.
    pub(crate) async fn catalog(&self) -> Result<Arc<Catalog>, StoreError> {
        let revision = self.cache_revision("catalog").await?;
        let cache = &self.shared().catalog.0;
        if let Some(catalog) = cache.read().expect("catalog cache").as_ref().filter(|c| c.revision == revision) {
            return Ok(catalog.clone());
        }
        // Read after the revision: a change in between makes the copy newer
        // than its number says, and the next use reads it again.
        let (regimes, forms): (Vec<Definition>, Vec<Definition>) = with_pool!(self, |pool| (
            sqlx::query_as("SELECT id, definition FROM regimes").fetch_all(pool).await?,
            sqlx::query_as("SELECT id, definition FROM forms").fetch_all(pool).await?,
        ));
        let mut by_code: HashMap<String, Vec<(i64, Form)>> = HashMap::new();
        for (id, definition) in forms {
            let form: Form = parse_json("form definition", &definition)?;
            by_code.entry(form.code.clone()).or_default().push((id, form));
        }
        let catalog = Arc::new(Catalog {
            revision,
            regimes: regimes
                .into_iter()
                .map(|(id, definition)| {
                    let regime: Regime = parse_json("regime definition", &definition)?;
                    Ok((regime.code.clone(), (id, regime)))
                })
                .collect::<Result<_, StoreError>>()?,
            forms: by_code,
            indicators: Arc::new(self.indicators().await?.into_iter().map(|i| (i.code.clone(), i)).collect()),
        });
        *cache.write().expect("catalog cache") = Some(catalog.clone());
        Ok(catalog)
    }
}
