//! Indicators (chỉ tiêu) in the database: imported by code, all or nothing,
//! with the previous definitions kept in the audit trail.

use baocao_core::{Aggregation, Indicator, ValueType};
use chrono::Utc;

use crate::audit::Change;
use crate::values::StoreCount;
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
}
