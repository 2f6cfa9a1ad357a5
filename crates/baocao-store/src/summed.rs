//! Figures summed by the database: a table too large to keep its numbers
//! (every province of the country over years of months) has each plain
//! figure's numbers added up where they are stored, and only the
//! [`Summary`] of each (unit, indicator) comes back, aggregated by the same
//! rule as any figure ([`Composed::of_summary`]); a formula is evaluated
//! from its components' figures ([`Composed::of_formula`]), as
//! [`Db::compose_indicator`] does.
//!
//! Reading a national month's million numbers into maps by indicator and
//! unit code took most of the time of such a table (2–2.5 s a month on
//! SQLite, about 5 s on PostgreSQL, and hundreds of MiB); the database
//! sums them in 0.9–1.1 s, and a few thousand summaries come back.

use std::collections::{HashMap, HashSet};

use baocao_core::restate::{Composed, Contribution, Summary};
use baocao_core::{Indicator, Period};

use crate::compose::Counting;
use crate::{Db, ReadTx, StoreError, with_conn};

/// The shares one statement sums at most: SQLite groups by sorting, and
/// sorting a province's numbers (300 communes × 100 indicators) at a time
/// took half as long as sorting the whole country's at once.
const SHARES_A_STATEMENT: usize = 500;

/// The sums of one period: for each unit asked (by its position in the
/// table) and each plain indicator, the summary of its numbers and whether
/// any was pulled from another system.
pub(crate) struct Sums {
    /// The indicators summed: no formula, nothing filed by agencies.
    plain: HashSet<String>,
    summaries: HashMap<(usize, String), Summary>,
    pulled: HashSet<(usize, String)>,
}

/// One row: the unit's position, the indicator, then the [`Summary`]'s
/// fields (count, weighted, weights, least, most) and whether any number
/// was pulled from another system (0 or 1).
type Row = (i64, String, i64, f64, f64, f64, f64, i32);

impl Sums {
    /// The figure of `indicator` for the unit at `position` (made of
    /// `shares`, without `withheld` sources), as
    /// [`Db::compose_indicator`] gives it: a plain indicator from its sums,
    /// a formula from its components' figures; `None` when something it is
    /// made of was not summed (agencies' figures) and the general path
    /// must answer.
    pub(crate) fn figure(
        &self,
        position: usize,
        indicator: &Indicator,
        catalog: &HashMap<String, Indicator>,
        shares: &[Contribution],
        withheld: usize,
    ) -> Option<Result<Composed, String>> {
        self.composed(position, indicator, catalog, (shares, withheld), 0)
    }

    fn composed(
        &self,
        position: usize,
        indicator: &Indicator,
        catalog: &HashMap<String, Indicator>,
        (shares, withheld): (&[Contribution], usize),
        depth: u8,
    ) -> Option<Result<Composed, String>> {
        let Some(formula) = indicator.aggregation.formula() else {
            return self.plain(position, indicator, shares, withheld);
        };
        // A formula that names itself or an unknown indicator: the general
        // path says so.
        if depth > 8 {
            return None;
        }
        let mut parts = Vec::new();
        for name in baocao_core::indicator::formula_references(formula) {
            let part = catalog.get(name)?;
            match self.composed(position, part, catalog, (shares, withheld), depth + 1)? {
                Ok(composed) => parts.push((name.to_string(), composed)),
                Err(e) => return Some(Err(e)),
            }
        }
        Some(Composed::of_formula(formula, parts))
    }

    /// A plain indicator's figure from its sums, as
    /// [`crate::compose::ComposeContext::plain_figure`] gives it.
    fn plain(
        &self,
        position: usize,
        indicator: &Indicator,
        shares: &[Contribution],
        withheld: usize,
    ) -> Option<Result<Composed, String>> {
        if !self.plain.contains(&indicator.code) {
            return None;
        }
        let key = (position, indicator.code.clone());
        let summary = self.summaries.get(&key).copied().unwrap_or_default();
        let pulled = self.pulled.contains(&key);
        Some(Composed::of_summary(&indicator.aggregation, &summary, shares, withheld, pulled))
    }
}

impl Db {
    /// Sums, for each unit asked (its shares, without those the asker may
    /// not see), the numbers of `period` of each plain indicator of
    /// `asked` (with those their formulas name), as `counting` counts
    /// them; every statement in one snapshot.
    pub(crate) async fn sums(
        &self,
        period: &Period,
        units: &[&[Contribution]],
        asked: &[&Indicator],
        counting: Counting,
    ) -> Result<Sums, StoreError> {
        let mut snapshot = self.begin_read().await?;
        let (filed, all_count) = self.period_reports(&mut snapshot, period, counting).await?;
        let plain: Vec<&Indicator> =
            asked.iter().copied().filter(|i| i.aggregation.formula().is_none() && !filed.contains(&i.code)).collect();
        let mut sums = Sums {
            plain: plain.iter().map(|i| i.code.clone()).collect(),
            summaries: HashMap::new(),
            pulled: HashSet::new(),
        };
        if plain.is_empty() {
            return Ok(sums);
        }
        let sql = self.summing(plain.len(), if all_count { Counting::Everything } else { counting });
        let mut batch: Vec<serde_json::Value> = Vec::new();
        for (position, shares) in units.iter().enumerate() {
            for c in shares.iter() {
                // The day as the identity index of units has it.
                let since = c.unit.validity.from.map_or_else(|| "0001-01-01".to_string(), |d| d.to_string());
                batch.push(serde_json::json!([position, c.unit.code, since, c.weight]));
            }
            let (full, last) = (batch.len() >= SHARES_A_STATEMENT, position + 1 == units.len());
            if batch.is_empty() || !(full || last) {
                continue;
            }
            let shares = serde_json::Value::Array(std::mem::take(&mut batch)).to_string();
            let rows: Vec<Row> = with_conn!(snapshot, |conn| {
                let mut q = sqlx::query_as::<_, Row>(&sql).bind(&shares).bind(period.to_string());
                q = q.bind(counting.include_submitted());
                for indicator in &plain {
                    q = q.bind(indicator.code.as_str());
                }
                q.fetch_all(&mut *conn).await?
            });
            for (position, indicator, count, weighted, weights, least, most, any_pulled) in rows {
                let key = (position as usize, indicator);
                if any_pulled == 1 {
                    sums.pulled.insert(key.clone());
                }
                sums.summaries.insert(key, Summary { count: count as usize, weighted, weights, least, most });
            }
        }
        Ok(sums)
    }

    /// What the reports of `period` change for a sum: the indicators that
    /// some counting report of an agency gives figures of (about any unit:
    /// their figures are the agencies', not a sum of stored numbers, and go
    /// the general way); and whether every stored value counts, no report
    /// of the period being one that `counting` leaves out (then no value
    /// needs checking against its report).
    async fn period_reports(
        &self,
        snapshot: &mut ReadTx,
        period: &Period,
        counting: Counting,
    ) -> Result<(HashSet<String>, bool), StoreError> {
        let filed = format!(
            "SELECT DISTINCT i.code FROM reports r JOIN form_indicators fi ON fi.form_id = r.form_id
             JOIN indicators i ON i.id = fi.indicator_id
             WHERE r.period = $1 AND r.about_unit_id IS NOT NULL AND {}",
            counting.report_condition(2)
        );
        let excluded = format!("SELECT COUNT(*) FROM reports r WHERE r.period = $1 AND {}", counting.excludes(2));
        let (codes, excluded): (Vec<String>, i64) = with_conn!(snapshot, |conn| {
            let codes = sqlx::query_scalar(&filed)
                .bind(period.to_string())
                .bind(counting.include_submitted())
                .fetch_all(&mut *conn)
                .await?;
            let excluded = sqlx::query_scalar(&excluded)
                .bind(period.to_string())
                .bind(counting.include_submitted())
                .fetch_one(&mut *conn)
                .await?;
            (codes, excluded)
        });
        Ok((codes.into_iter().collect(), excluded == 0))
    }

    /// The statement that sums the numbers of a batch of shares (`$1`, a
    /// JSON array of [position, unit code, first day, weight]) in a period
    /// (`$2`) of `indicators` plain indicators (`$4`…), counted as
    /// `counting` says (`$3`), by position and indicator.
    fn summing(&self, indicators: usize, counting: Counting) -> String {
        let list: Vec<String> = (0..indicators).map(|i| format!("${}", i + 4)).collect();
        // The shares first, each unit found by its identity index and its
        // values by (unit, period): only the values of the units summed are
        // read, never the whole period. Materialized, the shares are
        // parsed once, not again for each of their values (SQLite parses a
        // `json_each` element at each `->>`; PostgreSQL extracted the
        // position for each row it grouped, 2.3× the statement's time).
        let (shares, units) = match self {
            Db::Sqlite(_) => (
                "WITH m AS MATERIALIZED (SELECT x.value->>0 AS t, x.value->>1 AS code, x.value->>2 AS since,
                        x.value->>3 AS w FROM json_each($1) AS x)",
                "m CROSS JOIN units u ON u.code = m.code AND COALESCE(u.valid_from, '0001-01-01') = m.since",
            ),
            Db::Postgres(_) => (
                "WITH m AS MATERIALIZED (SELECT (x->>0)::bigint AS t, x->>1 AS code, (x->>2)::date AS since, (x->>3)::float8 AS w
                      FROM jsonb_array_elements($1::jsonb) AS x)",
                "m CROSS JOIN LATERAL (SELECT u.id FROM units u WHERE u.code = m.code
                      AND COALESCE(u.valid_from, DATE '0001-01-01') = m.since LIMIT 1) u",
            ),
        };
        // `+` keeps SQLite from seeking each indicator's value in turn: a
        // unit's values of the period are one range of the index.
        format!(
            "{shares}
             SELECT g.t, i.code, g.n, g.weighted, g.weights, g.least, g.most, g.pulled
             FROM (SELECT m.t AS t, d.indicator_id AS indicator_id, COUNT(*) AS n,
                          SUM(d.value_num * m.w) AS weighted, SUM(m.w) AS weights,
                          MIN(d.value_num) AS least, MAX(d.value_num) AS most,
                          MAX(CASE WHEN s.id IS NULL THEN 0 ELSE 1 END) AS pulled
                   FROM {units}
                   CROSS JOIN data_values d
                   LEFT JOIN value_sources s ON s.id = d.source_id AND s.kind = 'feed'
                   WHERE d.unit_id = u.id AND d.period = $2 AND d.value_num IS NOT NULL
                     AND +d.indicator_id IN (SELECT id FROM indicators WHERE code IN ({}))
                     AND {}
                   GROUP BY m.t, d.indicator_id) g
             JOIN indicators i ON i.id = g.indicator_id",
            list.join(", "),
            counting.condition(3)
        )
    }
}
