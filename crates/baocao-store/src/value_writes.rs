//! How an import's checked values are written, each backend its own way,
//! once their indicator and unit have been resolved to row ids.
//!
//! SQLite receives rows as bound multi-row `VALUES` (its JSON functions
//! parse an element again at each `->>`; a fifth of an import went there),
//! each statement built while SQLite runs the one before.
//! PostgreSQL receives one array a column, bound in the binary protocol and
//! unpacked by `UNNEST`: nothing to escape or parse as text, one statement
//! for tens of thousands of rows. Neither joins indicators or units any
//! more: their ids are looked up once, in memory, before writing.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::{PgConnection, QueryBuilder, Sqlite, SqliteConnection};

use crate::StoreError;
use crate::sql::{ROWS, pipelined};

/// One checked value, ready to write.
pub(crate) struct ValueRow {
    pub(crate) indicator_id: i64,
    pub(crate) unit_id: i64,
    pub(crate) period: String,
    pub(crate) period_end: NaiveDate,
    pub(crate) value: String,
    pub(crate) value_num: Option<f64>,
    pub(crate) comment: Option<String>,
    /// The record of the other system it was pulled from (a feed's).
    pub(crate) source_record: Option<String>,
}

/// What replaces a stored value. It ends with the time stored, which
/// PostgreSQL shifts (see [`postgres`]).
const ON_CONFLICT: &str = " ON CONFLICT (unit_id, period, indicator_id) DO UPDATE SET
    value = excluded.value, value_num = excluded.value_num, comment = excluded.comment,
    source_id = excluded.source_id, source_record = excluded.source_record, stored_at = excluded.stored_at";

/// A backend's connection that writes an import's values.
pub(crate) trait WriteValues {
    /// Writes `rows` stored at `now` from `source` (`value_sources`);
    /// answers how many were new.
    async fn write_values(&mut self, rows: &[ValueRow], source: i64, now: DateTime<Utc>) -> Result<usize, StoreError>;
}

impl WriteValues for SqliteConnection {
    async fn write_values(&mut self, rows: &[ValueRow], source: i64, now: DateTime<Utc>) -> Result<usize, StoreError> {
        sqlite(self, rows, source, now).await
    }
}

impl WriteValues for PgConnection {
    async fn write_values(&mut self, rows: &[ValueRow], source: i64, now: DateTime<Utc>) -> Result<usize, StoreError> {
        postgres(self, rows, source, now).await
    }
}

async fn sqlite(
    conn: &mut SqliteConnection,
    rows: &[ValueRow],
    source: i64,
    now: DateTime<Utc>,
) -> Result<usize, StoreError> {
    // SQLite's upsert cannot say whether it inserted. A new row takes the
    // next row id after the largest, and this transaction is the only
    // writer, so the rows above the largest id before are the new ones;
    // a replaced row keeps its id.
    let before: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) FROM data_values").fetch_one(&mut *conn).await?;
    let inserts = rows.chunks(ROWS).map(|chunk| {
        let mut q = QueryBuilder::<Sqlite>::new(
            "INSERT INTO data_values (indicator_id, unit_id, period, period_end, value, value_num, comment, stored_at,
                source_id, source_record) ",
        );
        q.push_values(chunk, |mut row, v| {
            row.push_bind(v.indicator_id)
                .push_bind(v.unit_id)
                .push_bind(v.period.as_str())
                .push_bind(v.period_end)
                .push_bind(v.value.as_str())
                .push_bind(v.value_num)
                .push_bind(v.comment.as_deref())
                .push_bind(now)
                .push_bind(source)
                .push_bind(v.source_record.as_deref());
        });
        q.push(ON_CONFLICT);
        q
    });
    pipelined(conn, inserts).await?;
    let new: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM data_values WHERE id > $1").bind(before).fetch_one(&mut *conn).await?;
    Ok(usize::try_from(new).unwrap_or(0))
}

/// Rows a PostgreSQL statement carries: its arrays stay a few MiB.
const PG_ROWS: usize = 50_000;

/// PostgreSQL's upsert tells a new row itself, which stays exact while
/// other transactions write. Not by `xmax = 0`: values are partitioned
/// (migration 0030) and a partitioned table's `RETURNING` has no system
/// columns. A replaced value is stored a microsecond after `$8` instead,
/// so the row returned says which branch wrote it; nothing shows stored
/// times to the microsecond.
async fn postgres(
    conn: &mut PgConnection,
    rows: &[ValueRow],
    source: i64,
    now: DateTime<Utc>,
) -> Result<usize, StoreError> {
    let sql = format!(
        "WITH written AS (
            INSERT INTO data_values (indicator_id, unit_id, period, period_end, value, value_num, comment, stored_at,
                source_id, source_record)
            SELECT x.v1, x.v2, x.v3, x.v4, x.v5, x.v6, x.v7, $8::timestamptz, $9::bigint, x.v8
            FROM UNNEST($1::bigint[], $2::bigint[], $3::text[], $4::date[], $5::text[], $6::float8[], $7::text[],
                        $10::text[]) AS x (v1, v2, v3, v4, v5, v6, v7, v8)
            {ON_CONFLICT} + interval '1 microsecond'
            RETURNING stored_at = $8::timestamptz AS new)
        SELECT COUNT(*) FILTER (WHERE new) FROM written"
    );
    let mut new = 0;
    for chunk in rows.chunks(PG_ROWS) {
        let count: i64 = sqlx::query_scalar(&sql)
            .bind(chunk.iter().map(|v| v.indicator_id).collect::<Vec<_>>())
            .bind(chunk.iter().map(|v| v.unit_id).collect::<Vec<_>>())
            .bind(chunk.iter().map(|v| v.period.as_str()).collect::<Vec<_>>())
            .bind(chunk.iter().map(|v| v.period_end).collect::<Vec<_>>())
            .bind(chunk.iter().map(|v| v.value.as_str()).collect::<Vec<_>>())
            .bind(chunk.iter().map(|v| v.value_num).collect::<Vec<_>>())
            .bind(chunk.iter().map(|v| v.comment.as_deref()).collect::<Vec<_>>())
            .bind(now)
            .bind(source)
            .bind(chunk.iter().map(|v| v.source_record.as_deref()).collect::<Vec<_>>())
            .fetch_one(&mut *conn)
            .await?;
        new += usize::try_from(count).unwrap_or(0);
    }
    Ok(new)
}
