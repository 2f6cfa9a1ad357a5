//! Indicators and data values in the database.

use std::collections::HashMap;

use baocao_core::datavalue::CheckedValue;
use baocao_core::restate::Contribution;
use baocao_core::{Aggregation, Indicator, Period, ValueType, VersionKey};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use sha2::Digest;

use crate::audit::Change;
use crate::{Db, StoreError, append_audit, with_conn, with_pool};

#[derive(sqlx::FromRow)]
struct IndicatorRow {
    code: String,
    name: String,
    unit: String,
    value_type: String,
    aggregation: String,
    formula: Option<String>,
    group_name: Option<String>,
}

impl IndicatorRow {
    fn into_indicator(self) -> Result<Indicator, StoreError> {
        Ok(Indicator {
            value_type: self.value_type.parse::<ValueType>().map_err(StoreError::Corrupt)?,
            aggregation: Aggregation::parse(&self.aggregation, self.formula.as_deref()).map_err(StoreError::Corrupt)?,
            code: self.code,
            name: self.name,
            unit: self.unit,
            group: self.group_name,
        })
    }
}

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

#[derive(Serialize)]
struct ValueJson<'a> {
    indicator: &'a str,
    unit_code: &'a str,
    unit_valid_from: Option<NaiveDate>,
    period: String,
    period_end: NaiveDate,
    value: String,
    value_num: Option<f64>,
    comment: Option<&'a str>,
}

/// A batch of checked values as the JSON parameter of `upsert_values`.
pub(crate) fn values_json(values: &[CheckedValue]) -> String {
    let rows: Vec<ValueJson<'_>> = values
        .iter()
        .map(|v| ValueJson {
            indicator: &v.indicator,
            unit_code: &v.unit.code,
            unit_valid_from: v.unit.valid_from,
            period: v.period.to_string(),
            period_end: v.period.end(),
            value: v.value.to_string(),
            value_num: v.value.as_number(),
            comment: v.comment.as_deref(),
        })
        .collect();
    serde_json::to_string(&rows).expect("plain data serializes")
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
    /// Creates or updates indicators by code, all in one transaction.
    pub async fn import_indicators(&self, actor: &str, list: &[Indicator]) -> Result<StoreCount, StoreError> {
        let inserted = self.dialect().upsert_inserted;
        let sql = format!(
            "INSERT INTO indicators (code, name, unit, value_type, aggregation, formula, group_name)
            VALUES ($1, $2, $3, $4, $5, $6, $7)
            ON CONFLICT (code) DO UPDATE SET name = excluded.name, unit = excluded.unit, value_type = excluded.value_type,
                aggregation = excluded.aggregation, formula = excluded.formula, group_name = excluded.group_name
            RETURNING {}",
            inserted.unwrap_or("false")
        );
        let mut tx = self.begin_write().await?;
        let out = with_conn!(tx, |conn| {
            let previous: Vec<IndicatorRow> = sqlx::query_as(
                "SELECT code, name, unit, value_type, aggregation, formula, group_name FROM indicators ORDER BY code",
            )
            .fetch_all(&mut *conn)
            .await?;
            let mut new_rows = 0;
            for i in list {
                let new: bool = sqlx::query_scalar(&sql)
                    .bind(&i.code)
                    .bind(&i.name)
                    .bind(&i.unit)
                    .bind(i.value_type.as_str())
                    .bind(i.aggregation.word())
                    .bind(i.aggregation.formula())
                    .bind(&i.group)
                    .fetch_one(&mut *conn)
                    .await?;
                new_rows += usize::from(new);
            }
            let imported = match inserted {
                Some(_) => new_rows,
                None => list.iter().filter(|i| !previous.iter().any(|p| p.code == i.code)).count(),
            };
            let previous: Vec<Indicator> = previous
                .into_iter()
                .map(IndicatorRow::into_indicator)
                .filter(|p| p.as_ref().map_or(true, |p| list.iter().any(|i| i.code == p.code)))
                .collect::<Result<_, _>>()?;
            let change = Change {
                at: Utc::now(),
                actor,
                action: "indicators.import",
                object: "indicators".into(),
                before: Some(serde_json::json!(previous)),
                after: Some(serde_json::json!(list)),
            };
            append_audit!(conn, &change);
            StoreCount { imported, updated: list.len() - imported }
        });
        tx.commit().await?;
        Ok(out)
    }

    /// Every indicator, by code.
    pub async fn indicators(&self) -> Result<Vec<Indicator>, StoreError> {
        let sql = "SELECT code, name, unit, value_type, aggregation, formula, group_name FROM indicators ORDER BY code";
        let rows: Vec<IndicatorRow> = with_pool!(self, |pool| sqlx::query_as(sql).fetch_all(pool).await?);
        rows.into_iter().map(IndicatorRow::into_indicator).collect()
    }

    /// Stores checked values in one transaction, replacing earlier values
    /// of the same indicator, unit and period.
    pub async fn store_values(&self, actor: &str, values: &[CheckedValue]) -> Result<StoreCount, StoreError> {
        if values.is_empty() {
            return Ok(StoreCount::default());
        }
        let json = values_json(values);
        let dialect = self.dialect();
        let mut tx = self.begin_write().await?;
        let out = with_conn!(tx, |conn| {
            let existing: i64 = match dialect.existing_values {
                Some(sql) => sqlx::query_scalar(sql).bind(&json).fetch_one(&mut *conn).await?,
                None => 0,
            };
            let written: Vec<bool> =
                sqlx::query_scalar(dialect.upsert_values).bind(&json).bind(Utc::now()).fetch_all(&mut *conn).await?;
            if written.len() != values.len() {
                return Err(StoreError::Conflict(format!(
                    "{} of {} values could not be matched to their indicator or unit; nothing was stored",
                    values.len() - written.len().min(values.len()),
                    values.len()
                )));
            }
            let new_rows = written.iter().filter(|new| **new).count();
            let imported = new_rows.saturating_sub(usize::try_from(existing).unwrap_or(0));
            // Bulk loads are recorded by count and fingerprint: the values
            // themselves are in the table, and the fingerprint shows which batch.
            let digest = format!("{:x}", sha2::Sha256::digest(json.as_bytes()));
            let change = Change {
                at: Utc::now(),
                actor,
                action: "values.import",
                object: "data values".into(),
                before: None,
                after: Some(serde_json::json!({ "values": values.len(), "imported": imported,
                    "updated": values.len() - imported, "sha256": digest })),
            };
            append_audit!(conn, &change);
            StoreCount { imported, updated: values.len() - imported }
        });
        tx.commit().await?;
        Ok(out)
    }

    /// The (indicator, unit version, period) of `values` that an approved
    /// report holds: those are locked.
    async fn locked_values(
        &self,
        values: &[CheckedValue],
    ) -> Result<std::collections::HashSet<(String, VersionKey, String)>, StoreError> {
        let mut periods: Vec<String> = values.iter().map(|v| v.period.to_string()).collect();
        periods.sort();
        periods.dedup();
        let sql = "SELECT u.code, u.valid_from, r.period, f.definition FROM reports r
            JOIN units u ON u.id = r.unit_id JOIN forms f ON f.id = r.form_id
            WHERE r.status = 'approved' AND r.period = $1";
        let mut locked = std::collections::HashSet::new();
        for period in periods {
            let rows: Vec<(String, Option<NaiveDate>, String, String)> =
                with_pool!(self, |pool| sqlx::query_as(sql).bind(&period).fetch_all(pool).await?);
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

    /// [`Db::compose_indicator`] for what is shown: a value that cannot be
    /// composed (no formula components, aggregation «none») is left blank.
    pub(crate) async fn compose_or_blank(
        &self,
        ctx: &ComposeContext<'_>,
        indicator: &Indicator,
        code: &str,
        period: Period,
        structure_at: NaiveDate,
    ) -> Result<Option<baocao_core::restate::Composed>, StoreError> {
        match self.compose_indicator(ctx, indicator, code, &period, structure_at, 0).await {
            Ok(c) => Ok(Some(c)),
            Err(StoreError::Conflict(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The numbers of one indicator and period for some units. Each unit's
    /// values of a period are read once, for every indicator, and kept in `ctx`.
    async fn cached_numbers(
        &self,
        ctx: &ComposeContext<'_>,
        indicator: &str,
        period: &Period,
        units: &[&str],
    ) -> Result<HashMap<VersionKey, f64>, StoreError> {
        let missing: Vec<&str> = {
            let cache = ctx.numbers.lock().expect("not poisoned");
            let known = cache.get(period).map(|n| &n.codes);
            units.iter().copied().filter(|c| !known.is_some_and(|k| k.contains(*c))).collect()
        };
        if !missing.is_empty() {
            let read = self.numbers_of_units(period, &missing, ctx.counting).await?;
            let mut cache = ctx.numbers.lock().expect("not poisoned");
            let entry = cache.entry(*period).or_default();
            entry.codes.extend(missing.iter().map(|c| c.to_string()));
            entry.values.extend(read);
        }
        let wanted: std::collections::HashSet<&str> = units.iter().copied().collect();
        let cache = ctx.numbers.lock().expect("not poisoned");
        let values = cache.get(period).map(|n| &n.values);
        Ok(values
            .into_iter()
            .flatten()
            .filter(|((i, unit), _)| i == indicator && wanted.contains(unit.code.as_str()))
            .map(|((_, unit), v)| (unit.clone(), *v))
            .collect())
    }

    /// The numbers stored for one period for the units with these codes,
    /// by indicator and unit version. They come back as one JSON row: sqlx
    /// hands each SQLite row across threads separately, and compositions
    /// read hundreds of small rows.
    async fn numbers_of_units(
        &self,
        period: &Period,
        codes: &[&str],
        counting: Counting,
    ) -> Result<Vec<((String, VersionKey), f64)>, StoreError> {
        let mut numbers = Vec::new();
        // Bounded batches keep within both backends' limits on parameters.
        for chunk in codes.chunks(500) {
            let list: Vec<String> = (0..chunk.len()).map(|i| format!("${}", i + 2)).collect();
            // From the units to their values through the (unit_id, period)
            // index, not through all values of the period: CROSS JOIN fixes
            // that order for SQLite and is an ordinary join for PostgreSQL.
            let sql = (self.dialect().arrays_as_json)(
                "i.code, u.code, u.valid_from, d.value_num",
                &format!(
                    "FROM units u CROSS JOIN data_values d JOIN indicators i ON i.id = d.indicator_id
                     WHERE d.unit_id = u.id AND d.period = $1 AND d.value_num IS NOT NULL AND u.code IN ({})
                       AND {}",
                    list.join(", "),
                    counting.condition(chunk.len() + 2)
                ),
            );
            let json: String = with_pool!(self, |pool| {
                let mut q = sqlx::query_scalar(&sql).bind(period.to_string());
                for code in chunk {
                    q = q.bind(*code);
                }
                q.bind(counting.include_submitted()).fetch_one(pool).await?
            });
            type Row = (String, String, Option<NaiveDate>, f64);
            let rows: Vec<Row> =
                serde_json::from_str(&json).map_err(|e| StoreError::Corrupt(format!("stored numbers: {e}")))?;
            numbers.extend(rows.into_iter().map(|(i, code, valid_from, v)| ((i, VersionKey { code, valid_from }), v)));
        }
        Ok(numbers)
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

/// Whether the asker may see a unit as it stood on a day: a composed value
/// leaves out (and counts as withheld) the sources it may not.
pub type Visibility<'a> = dyn Fn(&baocao_core::UnitVersion, NaiveDate) -> bool + Sync + 'a;

/// Whom a figure is composed for: which stored values count, and which
/// units they may see (all when `visible` is absent).
#[derive(Clone, Copy)]
pub struct Audience<'a> {
    pub counting: Counting,
    pub visible: Option<&'a Visibility<'a>>,
}

impl Audience<'_> {
    /// Someone who sees every unit (the command line, a system-wide grant).
    pub fn everywhere(counting: Counting) -> Audience<'static> {
        Audience { counting, visible: None }
    }
}

/// Which stored values a figure is made of: one rule for every total the
/// system shows (comparisons, output forms, targets, year to date,
/// exports), stated on the pages that show them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Counting {
    /// Values that belong to no report (imported directly, as DHIS2
    /// dataValueSets) and those of approved reports; with
    /// `include_submitted`, those of submitted reports too. A draft or a
    /// returned report never counts.
    Official { include_submitted: bool },
    /// Every stored value: what a report shows of itself while it is a draft.
    Everything,
}

impl Counting {
    /// Approved reports only: what counts unless one asks for more.
    pub const APPROVED: Counting = Counting::Official { include_submitted: false };

    /// The condition on a value `d` (of `data_values`), with the parameter
    /// `$n` bound to [`Counting::include_submitted`]: false when the value
    /// belongs to a report (one whose form has its indicator, of its unit
    /// and period) that does not count.
    pub(crate) fn condition(self, n: usize) -> String {
        match self {
            // The parameter is bound whatever the rule (PostgreSQL refuses
            // a bound parameter a statement does not use).
            Counting::Everything => format!("(CAST(${n} AS BOOLEAN) OR true)"),
            Counting::Official { .. } => format!(
                "NOT EXISTS (SELECT 1 FROM reports r JOIN form_indicators fi ON fi.form_id = r.form_id
                   WHERE r.unit_id = d.unit_id AND r.period = d.period AND fi.indicator_id = d.indicator_id
                     AND r.status <> 'approved' AND NOT (${n} AND r.status = 'submitted'))"
            ),
        }
    }

    pub(crate) fn include_submitted(self) -> bool {
        matches!(self, Counting::Official { include_submitted: true })
    }

    /// The rule in Vietnamese, for the pages that show totals.
    pub fn vietnamese(self) -> &'static str {
        match self {
            Counting::Official { include_submitted: false } => {
                "Số liệu gồm số liệu nhập trực tiếp và số liệu của các báo cáo đã phê duyệt; báo cáo nháp, đã gửi chưa duyệt hoặc bị trả lại không được tính."
            }
            Counting::Official { include_submitted: true } => {
                "Số liệu gồm số liệu nhập trực tiếp và số liệu của các báo cáo đã phê duyệt hoặc đã gửi (chưa duyệt); báo cáo nháp hoặc bị trả lại không được tính."
            }
            Counting::Everything => "Mọi số liệu đã lưu, kể cả của báo cáo nháp.",
        }
    }
}

/// What values are composed from: the registry, the indicators, and which
/// stored values count.
pub(crate) struct ComposeContext<'a> {
    pub registry: &'a baocao_core::Registry,
    pub indicators: &'a HashMap<String, Indicator>,
    pub counting: Counting,
    /// Only the sources the asker may see; all when absent.
    pub visible: Option<&'a Visibility<'a>>,
    /// Numbers already read, by period: one query per period, however many
    /// indicators and units a report or an output form composes.
    numbers: std::sync::Mutex<HashMap<Period, PeriodNumbers>>,
    /// Contributions by unit code and the epochs of the structure day and
    /// the period's day: the same for every period between two changes of
    /// the registry (a year of months before a reform shares one).
    contributions: std::sync::Mutex<HashMap<(String, usize, usize), SharedContributions>>,
}

type SharedContributions = std::sync::Arc<Vec<Contribution>>;

/// The numeric values of one period for the unit codes read so far.
#[derive(Default)]
struct PeriodNumbers {
    codes: std::collections::HashSet<String>,
    values: HashMap<(String, VersionKey), f64>,
}

impl<'a> ComposeContext<'a> {
    pub fn new(
        registry: &'a baocao_core::Registry,
        indicators: &'a HashMap<String, Indicator>,
        counting: Counting,
    ) -> Self {
        ComposeContext {
            registry,
            indicators,
            counting,
            visible: None,
            numbers: Default::default(),
            contributions: Default::default(),
        }
    }

    fn contributions(
        &self,
        code: &str,
        structure_at: NaiveDate,
        period_end: NaiveDate,
    ) -> Result<SharedContributions, StoreError> {
        let key = (code.to_string(), self.registry.epoch(structure_at), self.registry.epoch(period_end));
        if let Some(found) = self.contributions.lock().expect("not poisoned").get(&key) {
            return Ok(found.clone());
        }
        let computed =
            std::sync::Arc::new(baocao_core::restate::contributions(self.registry, code, structure_at, period_end)?);
        self.contributions.lock().expect("not poisoned").insert(key, computed.clone());
        Ok(computed)
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
        registry: &baocao_core::Registry,
        raw: Vec<baocao_core::datavalue::RawValue>,
    ) -> Result<ImportSummary, StoreError> {
        let total = raw.len();
        let indicators: HashMap<String, Indicator> =
            self.indicators().await?.into_iter().map(|i| (i.code.clone(), i)).collect();
        let today = baocao_core::today_in_vietnam();
        let (mut ok, mut conflicts) = baocao_core::datavalue::check(raw, &indicators, registry, today);
        let locked = self.locked_values(&ok).await?;
        ok.retain(|v| {
            let key = (v.indicator.clone(), v.unit.clone(), v.period.to_string());
            if !locked.contains(&key) {
                return true;
            }
            conflicts.push(baocao_core::datavalue::Conflict {
                object: v.unit.code.clone(),
                value: format!(
                    "the report of unit {} for period {} that holds {} is approved and locked",
                    v.unit.code, v.period, v.indicator
                ),
                error_code: "E7641".into(),
                indexes: vec![v.index],
            });
            false
        });
        let count = self.store_values(actor, &ok).await?;
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

    /// The value of `indicator` for unit `code` in `period`, in the
    /// structure of day `structure_at` (the period's own last day when
    /// absent): a province or district sums its units of that day, and a
    /// unit that did not exist in the period is composed from those that did.
    /// What counts and what the asker may see are the `audience`'s; the
    /// sources it may not see are left out and counted as withheld.
    pub async fn query_value(
        &self,
        registry: &baocao_core::Registry,
        indicator: &str,
        code: &str,
        period: &Period,
        structure_at: Option<NaiveDate>,
        audience: Audience<'_>,
    ) -> Result<baocao_core::restate::Composed, StoreError> {
        let at = structure_at.unwrap_or_else(|| period.end());
        let periods = std::slice::from_ref(period);
        let mut series = self.query_series(registry, indicator, code, periods, at, audience).await?;
        Ok(series.remove(0))
    }

    /// [`Db::query_value`] for several periods, all in the structure of
    /// day `structure_at`, reading each period's numbers once.
    pub async fn query_series(
        &self,
        registry: &baocao_core::Registry,
        indicator: &str,
        code: &str,
        periods: &[Period],
        structure_at: NaiveDate,
        audience: Audience<'_>,
    ) -> Result<Vec<baocao_core::restate::Composed>, StoreError> {
        let indicators: HashMap<String, Indicator> =
            self.indicators().await?.into_iter().map(|i| (i.code.clone(), i)).collect();
        let found = indicators.get(indicator);
        let indicator = found.ok_or_else(|| StoreError::NotFound(format!("Không có chỉ tiêu «{indicator}».")))?;
        let mut ctx = ComposeContext::new(registry, &indicators, audience.counting);
        ctx.visible = audience.visible;
        let mut series = Vec::with_capacity(periods.len());
        for period in periods {
            let mut composed = self.compose_indicator(&ctx, indicator, code, period, structure_at, 0).await?;
            // Shown to people: in Vietnamese order of names.
            composed.sources.sort_by(|a, b| baocao_core::text::compare_vi(&a.name, &b.name).then(a.unit.cmp(&b.unit)));
            series.push(composed);
        }
        Ok(series)
    }

    /// The value of `indicator` for unit `code` in `period`, in the
    /// structure of day `structure_at`; a computed indicator from the
    /// values of the indicators its formula names, each composed first.
    pub(crate) fn compose_indicator<'a>(
        &'a self,
        ctx: &'a ComposeContext<'a>,
        indicator: &'a Indicator,
        code: &'a str,
        period: &'a Period,
        structure_at: NaiveDate,
        depth: u8,
    ) -> std::pin::Pin<Box<dyn Future<Output = Result<baocao_core::restate::Composed, StoreError>> + Send + 'a>> {
        Box::pin(async move {
            let Some(formula) = indicator.aggregation.formula() else {
                let mut contributions = ctx.contributions(code, structure_at, period.end())?;
                let mut withheld = 0;
                if let Some(visible) = ctx.visible {
                    let (shown, hidden): (Vec<_>, Vec<_>) =
                        contributions.iter().cloned().partition(|c| visible(&c.unit, period.end()));
                    withheld = hidden.len();
                    if withheld > 0 {
                        contributions = std::sync::Arc::new(shown);
                    }
                }
                let units: Vec<&str> = contributions.iter().map(|c| c.unit.code.as_str()).collect();
                let numbers = self.cached_numbers(ctx, &indicator.code, period, &units).await?;
                let mut composed = baocao_core::restate::compose(&indicator.aggregation, &contributions, &numbers)
                    .map_err(StoreError::Conflict)?;
                composed.withheld = withheld;
                return Ok(composed);
            };
            if depth > 8 {
                return Err(StoreError::Conflict(format!(
                    "Công thức của chỉ tiêu {} quay vòng lại chính nó.",
                    indicator.code
                )));
            }
            let mut components = std::collections::BTreeMap::new();
            let mut estimated = false;
            let mut withheld = 0;
            for name in baocao_core::indicator::formula_references(formula) {
                let part = ctx.indicators.get(name).ok_or_else(|| {
                    StoreError::Conflict(format!(
                        "Công thức của chỉ tiêu {} dùng «{name}», không có chỉ tiêu này.",
                        indicator.code
                    ))
                })?;
                let composed = self.compose_indicator(ctx, part, code, period, structure_at, depth + 1).await?;
                estimated |= composed.estimated;
                withheld = withheld.max(composed.withheld);
                components.insert(name.to_string(), composed.value);
            }
            let known: HashMap<String, f64> = components.iter().filter_map(|(k, v)| Some((k.clone(), (*v)?))).collect();
            let value = baocao_core::indicator::evaluate_formula(formula, &known).map_err(StoreError::Conflict)?;
            Ok(baocao_core::restate::Composed { value, estimated, sources: Vec::new(), components, withheld })
        })
    }
}
