//! Requests for ad-hoc and thematic reports (đề nghị báo cáo đột xuất,
//! chuyên đề): regimes that ask once ([`baocao_core::regime::Request`]),
//! numbered as they are sent, extended or closed by whoever may send them.

use baocao_core::regime::{Regime, Request};

use crate::error::{parse_json, rejected};
use crate::forms::Saving;
use crate::notifications::EventKind;
use crate::{Db, StoreError, with_conn};

impl Db {
    /// Stores `regime` (a request) under the next free code of its kind
    /// and year, which it returns. Two requests sent at once are numbered
    /// apart or the second is refused: never one written over the other.
    pub async fn send_request(&self, actor: &str, mut regime: Regime) -> Result<String, StoreError> {
        let Some(request) = &regime.request else {
            return Err(rejected("đây không phải một đề nghị báo cáo".into()));
        };
        let (kind, year) = (request.kind, chrono::Datelike::year(&request.sent_on));
        let mut tx = self.begin_write().await?;
        let taken: Vec<String> =
            with_conn!(&mut tx, |conn| sqlx::query_scalar("SELECT code FROM regimes").fetch_all(&mut *conn).await?);
        regime.code = Request::next_code(kind, year, taken.iter().map(String::as_str));
        Self::save_regime_in(&mut tx, actor, &regime, Saving::New, "request.send").await.map_err(|e| match e {
            StoreError::Database(d) if d.as_database_error().is_some_and(|d| d.is_unique_violation()) => {
                rejected(format!("mã {} vừa được một đề nghị khác nhận; hãy gửi lại", regime.code))
            }
            other => other,
        })?;
        // Whoever enters the asked units' reports is told it arrived.
        let event = serde_json::json!({ "regime": regime.code });
        Self::record_event_in(&mut tx, EventKind::Request, &event, chrono::Utc::now()).await?;
        tx.commit().await?;
        Ok(regime.code)
    }

    /// Changes a request (extends or closes it, as `change` decides on
    /// the stored one), in one transaction with its audit record.
    pub async fn change_request(
        &self,
        actor: &str,
        code: &str,
        action: &'static str,
        change: impl FnOnce(&mut Request) -> Result<(), String>,
    ) -> Result<Regime, StoreError> {
        let mut tx = self.begin_write().await?;
        let stored: Option<String> =
            with_conn!(&mut tx, |conn| sqlx::query_scalar("SELECT definition FROM regimes WHERE code = $1")
                .bind(code)
                .fetch_optional(&mut *conn)
                .await?);
        let mut regime: Regime = match stored {
            Some(definition) => parse_json("regime definition", &definition)?,
            None => return Err(StoreError::NotFound(format!("Không có đề nghị báo cáo «{code}»."))),
        };
        let Some(request) = regime.request.as_mut() else {
            return Err(StoreError::NotFound(format!("«{code}» là chế độ báo cáo định kỳ, không phải đề nghị.")));
        };
        change(request).map_err(|e| rejected(format!("đề nghị báo cáo {code}: {e}")))?;
        Self::save_regime_in(&mut tx, actor, &regime, Saving::Upsert, action).await?;
        tx.commit().await?;
        Ok(regime)
    }
}
