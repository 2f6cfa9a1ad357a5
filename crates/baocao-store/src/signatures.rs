//! Digital signatures of approved reports: a row written with each final
//! approval ([`PEND_SIGNATURE`]), the report's canonical content built when
//! it is signed ([`Db::unsigned_report`]), and the signature kept with the
//! content it covers and the signed PDF ([`Db::record_signature`]).
//!
//! What is signed is the report as approved: regime, unit, period, the
//! revision, who approved it and when, who signs and in what position,
//! its values, and the SHA-256 of the document it shows (`reports.frozen`).
//! The content is canonical (fields in a fixed order, values sorted by
//! code, compact JSON), so that the same report always gives the same bytes.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::error::parse_json;
use crate::{Db, StoreError, with_conn, with_pool};

/// Run by the report writer for each final approval (`$1` regime, `$2`
/// unit, `$3` period, `$4` the approval's revision, `$5` now), after
/// [`SUPERSEDE_UNSIGNED`].
pub(crate) const PEND_SIGNATURE: &str = "INSERT INTO report_signatures (report_id, revision, created_at)
     SELECT id, $4, $5 FROM reports WHERE regime_id = $1 AND unit_id = $2 AND period = $3";

/// An earlier approval not yet signed gives way to the new one.
pub(crate) const SUPERSEDE_UNSIGNED: &str = "UPDATE report_signatures SET state = 'superseded'
     WHERE state = 'pending'
       AND report_id = (SELECT id FROM reports WHERE regime_id = $1 AND unit_id = $2 AND period = $3)";

/// The signature rows of the approved report `$1` regime, `$2` unit,
/// `$3` period (`s` the signature, `r` the report).
const LAST_APPROVAL: &str = "FROM report_signatures s JOIN reports r ON r.id = s.report_id
     JOIN regimes g ON g.id = r.regime_id JOIN units u ON u.id = r.unit_id
     WHERE g.code = $1 AND u.code = $2 AND r.period = $3 AND r.status = 'approved'";

/// The canonical content of an approved report, as signed.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SignedContent {
    pub regime: String,
    pub regime_name: String,
    pub unit: String,
    pub unit_name: String,
    pub period: String,
    pub revision: i64,
    pub approved_at: Option<DateTime<Utc>>,
    pub approved_by: String,
    pub signer: Option<String>,
    pub position: Option<String>,
    pub values: BTreeMap<String, String>,
    /// SHA-256 (hex) of the document the approved report shows.
    pub document_sha256: Option<String>,
}

impl SignedContent {
    /// The bytes signed: compact JSON, fields in the order above.
    pub fn canonical(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("plain data serializes")
    }
}

/// A report waiting for its signature, or none when it is no longer
/// approved (its row is then superseded).
#[derive(Clone, Debug)]
pub struct Unsigned {
    pub id: i64,
    pub content: Option<SignedContent>,
}

/// What a signer made of a report: the canonical content, its CMS
/// signature, who signed, and the printed PDF with its signature inside.
#[derive(Clone, Copy, Debug)]
pub struct Signed<'a> {
    pub content: &'a [u8],
    pub signature: &'a [u8],
    pub signer: &'a str,
    pub pdf: Option<&'a [u8]>,
}

/// A report's signature as kept.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Signature {
    pub revision: i64,
    /// pending or signed.
    pub state: String,
    pub content: Option<String>,
    pub signature: Option<Vec<u8>>,
    pub signer: Option<String>,
    pub signed_at: Option<DateTime<Utc>>,
}

type ContentRow = (
    String,
    String,
    String,
    String,
    String,
    String,
    Option<DateTime<Utc>>,
    Option<String>,
    Option<String>,
    Option<String>,
);

impl Db {
    /// The oldest report waiting for its signature, with its content.
    pub async fn unsigned_report(&self) -> Result<Option<Unsigned>, StoreError> {
        let row: Option<(i64, i64)> = with_pool!(self, |pool| sqlx::query_as(
            "SELECT id, revision FROM report_signatures WHERE state = 'pending' ORDER BY id LIMIT 1"
        )
        .fetch_optional(pool)
        .await?);
        let Some((id, revision)) = row else { return Ok(None) };
        let found: Option<ContentRow> = with_pool!(self, |pool| sqlx::query_as(
            "SELECT g.code, g.name, u.code, u.name, r.period, r.status, r.approved_at, r.signer, r.signer_position,
                    r.frozen
             FROM report_signatures s JOIN reports r ON r.id = s.report_id
             JOIN regimes g ON g.id = r.regime_id JOIN units u ON u.id = r.unit_id
             WHERE s.id = $1"
        )
        .bind(id)
        .fetch_optional(pool)
        .await?);
        let Some((regime, regime_name, unit, unit_name, period, status, approved_at, signer, position, frozen)) = found
        else {
            return Ok(Some(Unsigned { id, content: None }));
        };
        // The revision approved must still be the report's last: a report
        // reopened (and maybe approved again) since is not signed as this.
        let last: Option<(i64, String, String)> = with_pool!(self, |pool| {
            sqlx::query_as(
            "SELECT v.seq, v.actor, v.snapshot FROM report_signatures s JOIN report_revisions v ON v.report_id = s.report_id
             WHERE s.id = $1 ORDER BY v.seq DESC LIMIT 1"
        )
        .bind(id)
        .fetch_optional(pool)
        .await?
        });
        let content = match last {
            Some((seq, approved_by, snapshot)) if seq == revision && status == "approved" => Some(SignedContent {
                regime,
                regime_name,
                unit,
                unit_name,
                period,
                revision,
                approved_at,
                approved_by,
                signer,
                position,
                values: parse_json("report snapshot", &snapshot)?,
                document_sha256: frozen.map(|f| format!("{:x}", Sha256::digest(f.as_bytes()))),
            }),
            _ => None,
        };
        Ok(Some(Unsigned { id, content }))
    }

    /// Keeps the signature of report signature row `id`, with the content
    /// it covers; `None` marks the row superseded (the report was reopened).
    /// Only a row still pending is written: of two processes signing the
    /// same report, the first to write keeps its signature.
    pub async fn record_signature(
        &self,
        id: i64,
        signed: Option<Signed<'_>>,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        with_conn!(tx, |conn| {
            match signed {
                Some(signed) => {
                    sqlx::query(
                        "UPDATE report_signatures SET state = 'signed', content = $2, signature = $3, signer = $4,
                                signed_at = $5, pdf = $6
                         WHERE id = $1 AND state = 'pending'",
                    )
                    .bind(id)
                    .bind(String::from_utf8_lossy(signed.content).into_owned())
                    .bind(signed.signature)
                    .bind(signed.signer)
                    .bind(at)
                    .bind(signed.pdf)
                    .execute(&mut *conn)
                    .await?;
                }
                None => {
                    sqlx::query(
                        "UPDATE report_signatures SET state = 'superseded' WHERE id = $1 AND state = 'pending'",
                    )
                    .bind(id)
                    .execute(&mut *conn)
                    .await?;
                }
            }
        });
        tx.commit().await?;
        Ok(())
    }

    /// The signature of a report's last approval, signed or waiting.
    pub async fn report_signature(
        &self,
        regime: &str,
        unit: &str,
        period: &str,
    ) -> Result<Option<Signature>, StoreError> {
        let row: Option<Signature> = with_pool!(self, |pool| sqlx::query_as(&format!(
            "SELECT s.revision, s.state, s.content, s.signature, s.signer, s.signed_at {LAST_APPROVAL}
                   AND s.state IN ('pending', 'signed')
                 ORDER BY s.id DESC LIMIT 1"
        ))
        .bind(regime)
        .bind(unit)
        .bind(period)
        .fetch_optional(pool)
        .await?);
        Ok(row)
    }

    /// The signed PDF of a report's last approval, when it was signed
    /// with one.
    pub async fn report_signed_pdf(
        &self,
        regime: &str,
        unit: &str,
        period: &str,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        let row: Option<(Option<Vec<u8>>,)> = with_pool!(self, |pool| sqlx::query_as(&format!(
            "SELECT s.pdf {LAST_APPROVAL} AND s.state = 'signed' ORDER BY s.id DESC LIMIT 1"
        ))
        .bind(regime)
        .bind(unit)
        .bind(period)
        .fetch_optional(pool)
        .await?);
        Ok(row.and_then(|(pdf,)| pdf))
    }
}
