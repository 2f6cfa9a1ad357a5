//! Forms (biểu mẫu) and regimes (chế độ báo cáo) in the database: form
//! versions checked against the indicators and against the reports that
//! use them, regimes against their forms; every change audited.

use std::collections::HashMap;
use std::sync::Arc;

use baocao_core::form::Form;
use baocao_core::regime::Regime;
use baocao_core::{Indicator, Period};
use chrono::{NaiveDate, Utc};

use crate::audit::Change;
use crate::error::{parse_json, rejected};
use crate::{Db, StoreError, WriteTx, append_audit, with_conn, with_pool};

/// Whether saving a regime may replace one of the same code.
#[derive(Clone, Copy, PartialEq)]
pub(crate) enum Saving {
    Upsert,
    New,
}

/// A version that reports use keeps its content; it may only be given an
/// end (or a later one) that leaves every period reported with it inside.
fn check_used_version(form: &Form, stored: &str, periods: &[String]) -> Result<(), StoreError> {
    let stored: Form = parse_json("form definition", stored)?;
    let same_content = Form { valid_to: stored.valid_to, ..form.clone() } == stored;
    let last_day = periods.iter().filter_map(|p| p.parse::<Period>().ok()).map(|p| p.end()).max();
    let keeps_reports = match (form.valid_to, last_day) {
        (Some(end), Some(last)) => last < end,
        _ => true,
    };
    if same_content && keeps_reports {
        return Ok(());
    }
    Err(rejected(format!(
        "biểu mẫu {}: {} kỳ báo cáo đang dùng phiên bản này; chỉ được đổi ngày hết hiệu lực (valid_to), sau kỳ \
         cuối cùng trong số đó; thay đổi khác hãy lập phiên bản mới có ngày bắt đầu (valid_from) muộn hơn",
        form.code,
        periods.len()
    )))
}

impl Db {
    /// Stores a version of a form after checking it against the indicators.
    /// Versions of one code may not overlap in time.
    pub async fn save_form(&self, actor: &str, form: &Form) -> Result<(), StoreError> {
        let indicators = self.indicators_by_code().await?;
        let mut tx = self.begin_write().await?;
        Self::save_form_in(&mut tx, actor, form, &indicators).await?;
        tx.commit().await?;
        Ok(())
    }

    /// [`Db::save_form`] inside a transaction: the regimes and the other
    /// versions it is checked against are those of the transaction.
    pub(crate) async fn save_form_in(
        tx: &mut WriteTx,
        actor: &str,
        form: &Form,
        indicators: &HashMap<String, Indicator>,
    ) -> Result<(), StoreError> {
        baocao_core::text::check_strings(form)
            .map_err(|e| StoreError::Unprocessable(format!("biểu mẫu {}: {e}", form.code)))?;
        let mut problems = form.check(indicators);
        let definition = serde_json::to_string(form).expect("plain data serializes");
        with_conn!(tx, |conn| {
            if let Some(source) = &form.source {
                let known: Option<String> = sqlx::query_scalar("SELECT code FROM regimes WHERE code = $1")
                    .bind(&source.regime)
                    .fetch_optional(&mut *conn)
                    .await?;
                if known.is_none() {
                    problems.push(format!("nguồn: không có chế độ báo cáo «{}»", source.regime));
                }
            }
            if !problems.is_empty() {
                return Err(rejected(format!("biểu mẫu {}: {}", form.code, problems.join("; "))));
            }
            let others: Vec<String> = sqlx::query_scalar("SELECT definition FROM forms WHERE code = $1")
                .bind(&form.code)
                .fetch_all(&mut *conn)
                .await?;
            for other in others {
                let other: Form = parse_json("form definition", &other)?;
                if other.valid_from != form.valid_from && other.validity().overlaps(&form.validity()) {
                    return Err(rejected(format!(
                        "form {}: its validity overlaps the version from {}",
                        form.code,
                        other.valid_from.map_or("the beginning".to_string(), |d| d.to_string())
                    )));
                }
            }
            let existing: Option<i64> =
                sqlx::query_scalar("SELECT id FROM forms WHERE code = $1 AND COALESCE(valid_from, '0001-01-01') = COALESCE($2, '0001-01-01')")
                    .bind(&form.code)
                    .bind(form.valid_from)
                    .fetch_optional(&mut *conn)
                    .await?;
            let before: Option<String> = match existing {
                Some(id) => {
                    let before: String = sqlx::query_scalar("SELECT definition FROM forms WHERE id = $1")
                        .bind(id)
                        .fetch_one(&mut *conn)
                        .await?;
                    let periods: Vec<String> =
                        sqlx::query_scalar("SELECT DISTINCT period FROM reports WHERE form_id = $1")
                            .bind(id)
                            .fetch_all(&mut *conn)
                            .await?;
                    if !periods.is_empty() {
                        check_used_version(form, &before, &periods)?;
                    }
                    sqlx::query("UPDATE forms SET name = $1, valid_to = $2, definition = $3 WHERE id = $4")
                        .bind(&form.name)
                        .bind(form.valid_to)
                        .bind(&definition)
                        .bind(id)
                        .execute(&mut *conn)
                        .await?;
                    Some(before)
                }
                None => {
                    sqlx::query(
                        "INSERT INTO forms (code, name, valid_from, valid_to, definition) VALUES ($1, $2, $3, $4, $5)",
                    )
                    .bind(&form.code)
                    .bind(&form.name)
                    .bind(form.valid_from)
                    .bind(form.valid_to)
                    .bind(&definition)
                    .execute(&mut *conn)
                    .await?;
                    None
                }
            };
            let change = Change {
                at: Utc::now(),
                actor,
                action: "form.save",
                object: format!("form {} from {}", form.code, form.valid_from.map_or("-".into(), |d| d.to_string())),
                before: before.and_then(|b| serde_json::from_str(&b).ok()),
                after: serde_json::from_str(&definition).ok(),
            };
            append_audit!(conn, &change);
            Ok(())
        })
    }

    pub(crate) async fn indicators_by_code(&self) -> Result<Arc<HashMap<String, Indicator>>, StoreError> {
        Ok(self.catalog().await?.indicators.clone())
    }

    /// Every version of every form, by code then validity.
    pub async fn forms(&self) -> Result<Vec<Form>, StoreError> {
        let sql = "SELECT definition FROM forms ORDER BY code, valid_from NULLS FIRST";
        let rows: Vec<String> = with_pool!(self, |pool| sqlx::query_scalar(sql).fetch_all(pool).await?);
        rows.iter().map(|d| parse_json("form definition", d)).collect()
    }

    /// Every version of a form, oldest first.
    pub async fn form_versions(&self, code: &str) -> Result<Vec<Form>, StoreError> {
        let sql = "SELECT definition FROM forms WHERE code = $1 ORDER BY valid_from NULLS FIRST";
        let rows: Vec<String> = with_pool!(self, |pool| sqlx::query_scalar(sql).bind(code).fetch_all(pool).await?);
        rows.iter().map(|d| parse_json("form definition", d)).collect()
    }

    /// The version of a form in force on `day`, with its row id, from the
    /// catalog kept in memory; refused when none is.
    pub async fn form_at(&self, code: &str, day: NaiveDate) -> Result<(i64, Form), StoreError> {
        Ok(self.catalog().await?.form_at(code, day)?.clone())
    }

    /// Creates or replaces a regime; its form must exist.
    pub async fn save_regime(&self, actor: &str, regime: &Regime) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        Self::save_regime_in(&mut tx, actor, regime, Saving::Upsert, "regime.save").await?;
        tx.commit().await?;
        Ok(())
    }

    pub(crate) async fn save_regime_in(
        tx: &mut WriteTx,
        actor: &str,
        regime: &Regime,
        saving: Saving,
        action: &'static str,
    ) -> Result<(), StoreError> {
        baocao_core::text::check_strings(regime)
            .map_err(|e| StoreError::Unprocessable(format!("chế độ báo cáo {}: {e}", regime.code)))?;
        let definition = serde_json::to_string(regime).expect("plain data serializes");
        if let Some(request) = &regime.request {
            request.check().map_err(|e| rejected(format!("đề nghị báo cáo {}: {e}", regime.code)))?;
        }
        // A new code is inserted only if no one took it meanwhile: the
        // unique code refuses the second of two requests numbered alike.
        let sql = match saving {
            Saving::Upsert => {
                "INSERT INTO regimes (code, name, definition) VALUES ($1, $2, $3)
                 ON CONFLICT (code) DO UPDATE SET name = excluded.name, definition = excluded.definition"
            }
            Saving::New => "INSERT INTO regimes (code, name, definition) VALUES ($1, $2, $3)",
        };
        with_conn!(tx, |conn| {
            let form: Option<String> = sqlx::query_scalar("SELECT code FROM forms WHERE code = $1")
                .bind(&regime.form)
                .fetch_optional(&mut *conn)
                .await?;
            let mut known_units = Vec::new();
            for code in regime.approval.iter().filter_map(|l| l.unit.as_deref()) {
                let known: Option<String> = sqlx::query_scalar("SELECT code FROM units WHERE code = $1 LIMIT 1")
                    .bind(code)
                    .fetch_optional(&mut *conn)
                    .await?;
                known_units.extend(known);
            }
            let problems = regime.check_references(form.is_some(), |c| known_units.iter().any(|k| k == c));
            if let Some(problem) = problems.first() {
                return Err(rejected(format!("chế độ báo cáo {}: {problem}", regime.code)));
            }
            let before: Option<String> = sqlx::query_scalar("SELECT definition FROM regimes WHERE code = $1")
                .bind(&regime.code)
                .fetch_optional(&mut *conn)
                .await?;
            sqlx::query(sql).bind(&regime.code).bind(&regime.name).bind(&definition).execute(&mut *conn).await?;
            let change = Change {
                at: Utc::now(),
                actor,
                action,
                object: format!("regime {}", regime.code),
                before: before.and_then(|b| serde_json::from_str(&b).ok()),
                after: serde_json::from_str(&definition).ok(),
            };
            append_audit!(conn, &change);
            Ok(())
        })
    }

    /// A regime by code.
    pub async fn regime(&self, code: &str) -> Result<Regime, StoreError> {
        Ok(self.regime_row(code).await?.1)
    }

    /// A regime by code, with its row id.
    pub(crate) async fn regime_row(&self, code: &str) -> Result<(i64, Regime), StoreError> {
        Ok(self.catalog().await?.regime(code)?.clone())
    }

    /// Every regime.
    pub async fn regimes(&self) -> Result<Vec<Regime>, StoreError> {
        let rows: Vec<String> =
            with_pool!(self, |pool| sqlx::query_scalar("SELECT definition FROM regimes ORDER BY code")
                .fetch_all(pool)
                .await?);
        rows.iter().map(|d| parse_json("regime definition", d)).collect()
    }
}
