//! Data values in the database: stored, imported and exported; how they
//! are composed into figures is [`crate::compose`], indicators are
//! [`crate::indicators`].

use std::collections::HashMap;

use baocao_core::datavalue::CheckedValue;
use baocao_core::{Indicator, Period, VersionKey};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use sha2::Digest;
use std::io::Write as _;

use crate::audit::Change;
use crate::compose::Counting;
use crate::value_writes::{ValueRow, WriteValues};
use crate::{Db, StoreError, WriteTx, Written, append_audit, with_conn, with_pool};

/// A stored value with what identifies it, for export and queries.
#[derive(Clone, Debug, PartialEq, Serialize, sqlx::FromRow)]
pub struct StoredValue {
    pub indicator: String,
    pub unit_code: String,
    pub unit_valid_from: Option<NaiveDate>,
    pub period: String,
    pub value: String,
    pub value_num: Option<f64>,
    pub comment: Option<String>,
    pub stored_at: DateTime<Utc>,
}

impl StoredValue {
    pub fn unit_key(&self) -> VersionKey {
        VersionKey { code: self.unit_code.clone(), valid_from: self.unit_valid_from }
    }
}

/// Where values stored other than by a report's entry come from.
pub(crate) enum Origin<'a> {
    /// A file or the API (`label` says which).
    Import { label: &'a str },
    /// A feed's run; `records[i]` is the identifier of the record the
    /// value of index `i` came from.
    Feed { label: &'a str, run: i64, records: &'a [String] },
}

/// How many values an import added and replaced.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct StoreCount {
    pub imported: usize,
    pub updated: usize,
}

const SELECT_VALUES: &str =
    "SELECT i.code AS indicator, u.code AS unit_code, u.valid_from AS unit_valid_from, d.period,
        d.value, d.value_num, d.comment, d.stored_at
    FROM data_values d JOIN indicators i ON i.id = d.indicator_id JOIN units u ON u.id = d.unit_id";

impl Db {
    /// Stores checked values in one transaction, replacing earlier values
    /// of the same indicator, unit and period; `label` says where they
    /// came from (a file's name, the API), kept as their source.
    pub async fn store_values(
        &self,
        actor: &str,
        label: &str,
        values: &[CheckedValue],
    ) -> Result<StoreCount, StoreError> {
        if values.is_empty() {
            return Ok(StoreCount::default());
        }
        let mut tx = self.begin_write().await?;
        let count = Self::store_values_in(&mut tx, actor, values, Origin::Import { label }).await?;
        tx.commit().await?;
        self.after_bulk_write(Written::Values(values), values.len()).await;
        Ok(count)
    }

    /// [`Db::store_values`] inside `tx`, from `origin`.
    pub(crate) async fn store_values_in(
        tx: &mut WriteTx,
        actor: &str,
        values: &[CheckedValue],
        origin: Origin<'_>,
    ) -> Result<StoreCount, StoreError> {
        // Written period by period: the rows of a period then lie together
        // in the table, and reading a period (every figure of a month)
        // reads a few pages instead of one page a value.
        let mut ordered: Vec<&CheckedValue> = values.iter().collect();
        ordered.sort_by(|a, b| {
            (a.period, &a.unit.code, a.unit.valid_from, &a.indicator).cmp(&(
                b.period,
                &b.unit.code,
                b.unit.valid_from,
                &b.indicator,
            ))
        });
        type UnitRow = (i64, String, Option<NaiveDate>);
        let (indicator_rows, unit_rows): (Vec<(i64, String)>, Vec<UnitRow>) = with_conn!(tx, |conn| {
            let indicators = sqlx::query_as("SELECT id, code FROM indicators").fetch_all(&mut *conn).await?;
            let units = sqlx::query_as("SELECT id, code, valid_from FROM units").fetch_all(&mut *conn).await?;
            (indicators, units)
        });
        let indicator_ids: HashMap<&str, i64> = indicator_rows.iter().map(|(id, code)| (code.as_str(), *id)).collect();
        let unit_ids: HashMap<(&str, Option<NaiveDate>), i64> =
            unit_rows.iter().map(|(id, code, from)| ((code.as_str(), *from), *id)).collect();
        let records = match &origin {
            Origin::Feed { records, .. } => Some(*records),
            Origin::Import { .. } => None,
        };
        let mut digest = sha2::Sha256::new();
        let mut rows = Vec::with_capacity(ordered.len());
        for v in &ordered {
            let ids =
                (indicator_ids.get(v.indicator.as_str()), unit_ids.get(&(v.unit.code.as_str(), v.unit.valid_from)));
            let (Some(&indicator_id), Some(&unit_id)) = ids else { continue };
            let row = ValueRow {
                indicator_id,
                unit_id,
                period: v.period.to_string(),
                period_end: v.period.end(),
                value: v.value.to_string(),
                value_num: v.value.as_number(),
                comment: v.comment.clone(),
                source_record: records.and_then(|r| r.get(v.index)).cloned(),
            };
            // What the fingerprint covers: each value as written, in order,
            // fed to the hash as it is formatted (no string a value).
            writeln!(
                digest,
                "{}\t{}\t{}\t{}\t{}\t{}\t{}",
                v.indicator,
                v.unit.code,
                v.unit.valid_from.map(|d| d.to_string()).unwrap_or_default(),
                row.period,
                row.value,
                row.comment.as_deref().unwrap_or(""),
                row.value_num.map(|n| n.to_string()).unwrap_or_default()
            )
            .expect("a hash takes every byte");
            rows.push(row);
        }
        if rows.len() != values.len() {
            // Checked values name indicators and units that existed when
            // they were checked; one removed since writes nothing.
            return Err(StoreError::Conflict(format!(
                "{} trong {} giá trị không khớp được với chỉ tiêu hoặc đơn vị; chưa lưu giá trị nào",
                values.len() - rows.len(),
                values.len()
            )));
        }
        // In order: writers bump the periods they touch one way round.
        let periods: std::collections::BTreeSet<&str> = rows.iter().map(|r| r.period.as_str()).collect();
        let now = Utc::now();
        let (kind, label, feed_run) = match origin {
            Origin::Import { label } => ("import", label, None),
            Origin::Feed { label, run, .. } => ("feed", label, Some(run)),
        };
        let imported = with_conn!(tx, |conn| {
            let source: i64 = sqlx::query_scalar(
                "INSERT INTO value_sources (kind, label, actor, at, feed_run_id) VALUES ($1, $2, $3, $4, $5) RETURNING id",
            )
            .bind(kind)
            .bind(label)
            .bind(actor)
            .bind(now)
            .bind(feed_run)
            .fetch_one(&mut *conn)
            .await?;
            let written = conn.write_values(&rows, source, now).await?;
            sqlx::query(crate::catalog::BUMP_VALUES_REVISION).execute(&mut *conn).await?;
            for period in &periods {
                sqlx::query(crate::catalog::BUMP_PERIOD_REVISION).bind(*period).execute(&mut *conn).await?;
            }
            written
        });
        // Bulk loads are recorded by count and fingerprint: the values
        // themselves are in the table, and the fingerprint shows which batch.
        let digest = format!("{:x}", digest.finalize());
        let change = Change {
            at: now,
            actor,
            action: if kind == "feed" { "values.feed" } else { "values.import" },
            object: "data values".into(),
            before: None,
            after: Some(serde_json::json!({ "values": values.len(), "imported": imported,
                "updated": values.len() - imported, "sha256": digest, "source": label })),
        };
        with_conn!(tx, |conn| append_audit!(conn, &change));
        Ok(StoreCount { imported, updated: values.len() - imported })
    }

    /// The (indicator, unit version, period) of `values` that an approved
    /// report (or, `with_submitted`, a submitted one) holds: those are locked.
    async fn locked_values(
        &self,
        values: &[CheckedValue],
        with_submitted: bool,
    ) -> Result<std::collections::HashSet<(String, VersionKey, String)>, StoreError> {
        let mut periods: Vec<String> = values.iter().map(|v| v.period.to_string()).collect();
        periods.sort();
        periods.dedup();
        let sql = "SELECT u.code, u.valid_from, r.period, f.definition FROM reports r
            JOIN units u ON u.id = r.unit_id JOIN forms f ON f.id = r.form_id
            WHERE (r.status = 'approved' OR ($2 AND r.status = 'submitted')) AND r.period = $1";
        let mut locked = std::collections::HashSet::new();
        for period in periods {
            let rows: Vec<(String, Option<NaiveDate>, String, String)> =
                with_pool!(self, |pool| sqlx::query_as(sql).bind(&period).bind(with_submitted).fetch_all(pool).await?);
            for (code, valid_from, period, definition) in rows {
                let form: baocao_core::form::Form = serde_json::from_str(&definition)
                    .map_err(|e| StoreError::Corrupt(format!("form definition: {e}")))?;
                for indicator in form.indicators() {
                    locked.insert((
                        indicator.to_string(),
                        VersionKey { code: code.clone(), valid_from },
                        period.clone(),
                    ));
                }
            }
        }
        Ok(locked)
    }

    /// The units whose report of `period` counts under `filter`.
    pub(crate) async fn reported_units(
        &self,
        filter: &ReportFilter,
        period: &Period,
    ) -> Result<std::collections::HashSet<VersionKey>, StoreError> {
        let sql = "SELECT u.code, u.valid_from FROM reports r JOIN units u ON u.id = r.unit_id
            WHERE r.regime_id = $1 AND r.period = $2 AND (r.status = 'approved' OR ($3 AND r.status = 'submitted'))";
        let rows: Vec<(String, Option<NaiveDate>)> = with_pool!(self, |pool| sqlx::query_as(sql)
            .bind(filter.regime_id)
            .bind(period.to_string())
            .bind(filter.include_submitted)
            .fetch_all(pool)
            .await?);
        Ok(rows.into_iter().map(|(code, valid_from)| VersionKey { code, valid_from }).collect())
    }

    /// Stored values of one period that count under `counting`, optionally
    /// of one indicator.
    pub async fn values_of_period(
        &self,
        period: &Period,
        indicator: Option<&str>,
        counting: Counting,
    ) -> Result<Vec<StoredValue>, StoreError> {
        let sql = format!(
            "{SELECT_VALUES} WHERE d.period = $1 AND (CAST($2 AS TEXT) IS NULL OR i.code = $2) AND {}
             ORDER BY i.code, u.code",
            counting.condition(3)
        );
        Ok(with_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(period.to_string())
            .bind(indicator)
            .bind(counting.include_submitted())
            .fetch_all(pool)
            .await?))
    }

    /// Stored values of a period for export: all of them, or those of one
    /// unit (and with `children` the units under it in that period).
    pub async fn export_values(
        &self,
        registry: &baocao_core::Registry,
        period: &Period,
        org_unit: Option<&str>,
        children: bool,
        counting: Counting,
    ) -> Result<Vec<StoredValue>, StoreError> {
        let units = match org_unit {
            None => None,
            Some(code) => {
                if registry.in_force(code, period.end()).is_none() {
                    return Err(
                        baocao_core::RegistryError::NotInForce { code: code.to_string(), day: period.end() }.into()
                    );
                }
                let mut codes = vec![code.to_string()];
                if children {
                    codes.extend(self.units_at(period.end(), Some(code), None).await?.into_iter().map(|u| u.code));
                }
                Some(codes)
            }
        };
        let values = self.values_of_period(period, None, counting).await?;
        Ok(values.into_iter().filter(|v| units.as_ref().is_none_or(|u| u.contains(&v.unit_code))).collect())
    }

    /// The numeric values of one indicator and period that count under
    /// `counting`, by unit version.
    pub async fn numbers(
        &self,
        indicator: &str,
        period: &Period,
        counting: Counting,
    ) -> Result<HashMap<VersionKey, f64>, StoreError> {
        Ok(self
            .values_of_period(period, Some(indicator), counting)
            .await?
            .into_iter()
            .filter_map(|v| Some((v.unit_key(), v.value_num?)))
            .collect())
    }
}

/// Which reports count in a consolidation.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ReportFilter {
    pub regime_id: i64,
    pub include_submitted: bool,
}

/// Counts of an import, as DHIS2 reports them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct ImportCount {
    pub imported: usize,
    pub updated: usize,
    pub ignored: usize,
    pub deleted: usize,
}

/// The answer to an import, shaped like DHIS2's import summary.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ImportSummary {
    /// `SUCCESS`, `WARNING` (some values refused) or `ERROR` (none taken).
    pub status: &'static str,
    pub description: String,
    pub import_count: ImportCount,
    pub conflicts: Vec<baocao_core::datavalue::Conflict>,
}

impl Db {
    /// Checks raw values against the indicators and `registry`, stores those
    /// that pass in one transaction, and reports each one refused.
    pub async fn import_data_values(
        &self,
        actor: &str,
        label: &str,
        registry: &baocao_core::Registry,
        raw: Vec<baocao_core::datavalue::RawValue>,
    ) -> Result<ImportSummary, StoreError> {
        self.import_data_values_within(actor, label, registry, raw, &|_, _| true).await
    }

    /// [`Db::import_data_values`] for a sender whose reach is limited:
    /// a value whose unit `may` not be written (the unit version, the
    /// period) is refused as a conflict, as DHIS2 refuses a unit outside
    /// the user's hierarchy (E7617), and nothing of it is stored.
    pub async fn import_data_values_within(
        &self,
        actor: &str,
        label: &str,
        registry: &baocao_core::Registry,
        raw: Vec<baocao_core::datavalue::RawValue>,
        may: &(dyn Fn(&baocao_core::VersionKey, baocao_core::Period) -> bool + Sync),
    ) -> Result<ImportSummary, StoreError> {
        let total = raw.len();
        let (ok, conflicts) = self.checked_values(registry, raw, may, false).await?;
        let count = self.store_values(actor, label, &ok).await?;
        let ignored = total - ok.len();
        let status = match (conflicts.is_empty(), ok.is_empty() && total > 0) {
            (true, _) => "SUCCESS",
            (false, false) => "WARNING",
            (false, true) => "ERROR",
        };
        Ok(ImportSummary {
            status,
            description: format!(
                "{} imported, {} updated, {ignored} ignored of {total} values",
                count.imported, count.updated
            ),
            import_count: ImportCount { imported: count.imported, updated: count.updated, ignored, deleted: 0 },
            conflicts,
        })
    }

    /// Raw values checked as they are stored: against the indicators and
    /// `registry`, the sender's reach (`may`, else E7617), and the reports
    /// that hold them (E7641: an approved report's, and with
    /// `with_submitted` a submitted one's, are not written over). Answers
    /// the values to store and the conflicts.
    pub(crate) async fn checked_values(
        &self,
        registry: &baocao_core::Registry,
        raw: Vec<baocao_core::datavalue::RawValue>,
        may: &(dyn Fn(&baocao_core::VersionKey, baocao_core::Period) -> bool + Sync),
        with_submitted: bool,
    ) -> Result<(Vec<CheckedValue>, Vec<baocao_core::datavalue::Conflict>), StoreError> {
        let indicators: HashMap<String, Indicator> =
            self.indicators().await?.into_iter().map(|i| (i.code.clone(), i)).collect();
        let today = baocao_core::today_in_vietnam();
        let (mut ok, mut conflicts) = baocao_core::datavalue::check(raw, &indicators, registry, today);
        ok.retain(|v| {
            if may(&v.unit, v.period) {
                return true;
            }
            conflicts.push(baocao_core::datavalue::Conflict {
                object: v.unit.code.clone(),
                value: format!("tài khoản không được gửi số liệu của đơn vị {}", v.unit.code),
                error_code: "E7617".into(),
                indexes: vec![v.index],
            });
            false
        });
        let locked = self.locked_values(&ok, with_submitted).await?;
        let held = if with_submitted {
            "đã gửi hoặc đã duyệt; không ghi đè"
        } else {
            "đã được phê duyệt và khóa"
        };
        ok.retain(|v| {
            let key = (v.indicator.clone(), v.unit.clone(), v.period.to_string());
            if !locked.contains(&key) {
                return true;
            }
            conflicts.push(baocao_core::datavalue::Conflict {
                object: v.unit.code.clone(),
                value: format!("báo cáo của đơn vị {} kỳ {} có chỉ tiêu {} {held}", v.unit.code, v.period, v.indicator),
                error_code: "E7641".into(),
                indexes: vec![v.index],
            });
            false
        });
        Ok((ok, conflicts))
    }
}
