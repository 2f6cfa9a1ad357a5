//! Statements whose text differs between backends. Bulk writes pass a
//! whole batch as one JSON parameter: SQLite unpacks it with `json_each`,
//! PostgreSQL with `jsonb_to_recordset`, so that a batch is one statement
//! rather than a round trip per row. SQLite parses a `json_each` element
//! again at each `->>`, so the much larger writes of the registry and of
//! imported values bind their rows instead (`registry_writes`,
//! `value_writes`).

use sqlx::QueryBuilder;

/// Rows a multi-row statement carries: at up to twelve parameters a row,
/// well under SQLite's 32,766 and PostgreSQL's 65,535 parameters a
/// statement, and few distinct statement lengths to prepare.
pub(crate) const ROWS: usize = 1000;

/// Appends `(item, item, …)`, each item bound: the list of an `IN`.
pub(crate) fn push_list<'a, DB: sqlx::Database, T>(q: &mut QueryBuilder<'a, DB>, items: impl IntoIterator<Item = T>)
where
    T: 'a + sqlx::Encode<'a, DB> + sqlx::Type<DB>,
{
    q.push("(");
    let mut list = q.separated(", ");
    for item in items {
        list.push_bind(item);
    }
    list.push_unseparated(")");
}

/// Runs `statements` on SQLite in turn, each built while SQLite runs the
/// one before on its connection's worker thread: building a national
/// load's statements (binding 170,000 parameters) took about as long as
/// running them, one after the other, with one of two cores idle; an
/// import's values are written the same way. Answers the rows they wrote.
pub(crate) async fn pipelined<'q>(
    conn: &mut sqlx::SqliteConnection,
    mut statements: impl Iterator<Item = QueryBuilder<'q, sqlx::Sqlite>>,
) -> Result<u64, crate::StoreError> {
    let mut written = 0;
    let mut next = statements.next();
    while let Some(mut statement) = next {
        // `join` polls the execution first, which hands it to the worker,
        // then builds the next statement meanwhile.
        let (done, following) =
            futures::future::join(statement.build().execute(&mut *conn), async { statements.next() }).await;
        written += done?.rows_affected();
        next = following;
    }
    Ok(written)
}

/// A unit row `u` in force on the day bound as `$1`.
pub const IN_FORCE: &str = "(u.valid_from IS NULL OR u.valid_from <= $1) AND (u.valid_to IS NULL OR u.valid_to > $1)";

const STEP_COLUMNS: &str = "u.code, u.name, u.kind, u.level, u.parent_code, u.valid_from, u.valid_to, u.archive_note";

pub struct Dialect {
    /// An expression an indicator upsert returns: true when the row is new
    /// (PostgreSQL); none where that cannot be told (SQLite, whose writers
    /// take turns: what the transaction read before is what it met).
    pub upsert_inserted: Option<&'static str>,
    /// Upserts the values entered in reports: a JSON array (`$1`) of
    /// `[indicator code, unit row id, period, period end, value, number]`,
    /// stored at `$2`. Arrays and row ids rather than the objects and unit
    /// identities of `upsert_values`: this runs for every report action.
    pub upsert_report_values: &'static str,
    /// The recursive step of a subtree walk: children in force of the rows
    /// of `tree`, each found by a probe of the parent index.
    pub subtree_step: fn() -> String,
    /// Wraps a query returning unit columns so that the whole result comes
    /// back as one JSON array in one row. sqlx hands each SQLite row across
    /// threads separately; for the listings every page shows, one row is
    /// several times faster.
    pub units_as_json: fn(&str) -> String,
    /// Claims the oldest pending message due at `$1` (the outbox). On
    /// PostgreSQL a row another worker is claiming is skipped, not waited
    /// for (which would find it taken and claim nothing); SQLite has one
    /// writer at a time anyway.
    pub claim_mail: &'static str,
    /// For each report key of a JSON batch (`$1`: `k`, `regime_id`, `code`,
    /// `valid_from`, `period`), one JSON array: `k`, the unit's row id, the
    /// cutover that dissolved it, the report's status, signer and signer's
    /// position, its last snapshot, and the stored values
    /// `[code, value, value_num]` of the unit and period; all in one row.
    pub report_state: &'static str,
    /// Creates or moves the reports of a JSON batch (`$1`), acted on at `$2`.
    pub upsert_reports: &'static str,
    /// Appends the next revision of each report of a JSON batch (`$1`), at `$2`.
    pub insert_revisions: &'static str,
    /// Takes, until the transaction ends, the locks of the units and years
    /// a batch of report actions writes (`$1`: their keys, comma-separated
    /// in ascending order, so that two batches never wait for each other
    /// round).
    /// PostgreSQL only: SQLite's writers take turns anyway.
    pub lock_report_units: Option<&'static str>,
    /// Reads the end of the audit chain, locking it until the transaction ends.
    pub lock_audit_head: &'static str,
    /// Appends a JSON batch (`$1`) of chained audit records.
    pub insert_audit: &'static str,
}

fn sqlite_units_as_json(inner: &str) -> String {
    format!(
        "SELECT json_group_array(json_object('code', code, 'name', name, 'kind', kind, 'level', level,
            'parent_code', parent_code, 'valid_from', valid_from, 'valid_to', valid_to, 'archive_note', archive_note))
         FROM ({inner})"
    )
}

fn postgres_units_as_json(inner: &str) -> String {
    format!(
        "SELECT COALESCE(json_agg(json_build_object('code', code, 'name', name, 'kind', kind, 'level', level,
            'parent_code', parent_code, 'valid_from', valid_from, 'valid_to', valid_to, 'archive_note', archive_note)), '[]')::text
         FROM ({inner}) AS r"
    )
}

fn sqlite_subtree_step() -> String {
    format!("SELECT {STEP_COLUMNS} FROM units u JOIN tree t ON u.parent_code = t.code WHERE {IN_FORCE}")
}

/// PostgreSQL guesses the recursive work table large and would hash-join
/// it against a scan of all units; the lateral subquery, fenced by
/// `OFFSET 0` so it is not flattened back, makes each step an index probe.
fn postgres_subtree_step() -> String {
    format!(
        "SELECT c.* FROM tree t CROSS JOIN LATERAL (
            SELECT {STEP_COLUMNS} FROM units u WHERE u.parent_code = t.code AND {IN_FORCE} OFFSET 0) AS c"
    )
}

pub const SQLITE: Dialect = Dialect {
    upsert_inserted: None,
    // `WHERE true` keeps SQLite from reading ON CONFLICT as a join constraint.
    upsert_report_values: "INSERT INTO data_values (indicator_id, unit_id, period, period_end, value, value_num, stored_at)
        SELECT i.id, x.value->>1, x.value->>2, x.value->>3, x.value->>4, x.value->>5, $2
        FROM json_each($1) AS x
        JOIN indicators i ON i.code = x.value->>0
        WHERE true
        ON CONFLICT (unit_id, period, indicator_id) DO UPDATE SET
            value = excluded.value, value_num = excluded.value_num, comment = excluded.comment, stored_at = excluded.stored_at,
            source_id = CASE WHEN data_values.value = excluded.value THEN data_values.source_id END,
            source_record = CASE WHEN data_values.value = excluded.value THEN data_values.source_record END",
    subtree_step: sqlite_subtree_step,
    units_as_json: sqlite_units_as_json,
    claim_mail: "UPDATE outbox SET state = 'sending', claimed_at = $1
        WHERE id = (SELECT id FROM outbox WHERE state = 'pending' AND next_attempt_at <= $1
                    ORDER BY next_attempt_at, id LIMIT 1)
          AND state = 'pending'
        RETURNING id, template, recipient, params, attempts",
    report_state: "SELECT json_group_array(json_array(x.value->>'k', u.id,
            (SELECT c.cutover_key FROM cutover_units c WHERE c.unit_code = u.code),
            r.status, r.signer, r.signer_position,
            (SELECT v.snapshot FROM report_revisions v WHERE v.report_id = r.id ORDER BY v.seq DESC LIMIT 1),
            json((SELECT json_group_array(json_array(i.code, d.value, d.value_num, s.label))
                  FROM data_values d JOIN indicators i ON i.id = d.indicator_id
                  LEFT JOIN value_sources s ON s.id = d.source_id AND s.kind = 'feed'
                  WHERE d.unit_id = u.id AND d.period = x.value->>'period')),
            r.approvals,
            (SELECT v.actor FROM report_revisions v WHERE v.report_id = r.id AND v.action = 'submit'
             ORDER BY v.seq DESC LIMIT 1),
            json((SELECT json_group_array(v.actor) FROM report_revisions v
                  WHERE v.report_id = r.id AND v.action = 'approve'
                    AND v.seq > COALESCE((SELECT MAX(w.seq) FROM report_revisions w
                                          WHERE w.report_id = r.id AND w.action = 'submit'), 0))),
            (SELECT MAX(v.seq) FROM report_revisions v WHERE v.report_id = r.id)))
        FROM json_each($1) AS x
        JOIN units u ON u.code = x.value->>'code'
             AND COALESCE(u.valid_from, '0001-01-01') = COALESCE(x.value->>'valid_from', '0001-01-01')
        LEFT JOIN reports r ON r.regime_id = x.value->>'regime_id' AND r.unit_id = u.id
             AND r.period = x.value->>'period'",
    upsert_reports: "INSERT INTO reports (regime_id, form_id, unit_id, period, status, updated_at, submitted_at,
            approved_at, returned_reason, signer, signer_position, signed_at, frozen, approvals, about_unit_id)
        SELECT x.value->>'regime_id', x.value->>'form_id', x.value->>'unit_id', x.value->>'period',
               x.value->>'status', $2,
               CASE WHEN x.value->>'action' = 'submit' THEN $2 END,
               CASE WHEN x.value->>'status' = 'approved' THEN $2 END,
               CASE WHEN x.value->>'status' = 'returned' THEN x.value->>'reason' END,
               x.value->>'signer', x.value->>'position', CASE WHEN x.value->>'signer' IS NOT NULL THEN $2 END,
               x.value->>'frozen', x.value->>'approvals',
               (SELECT a.id FROM units a WHERE a.code = x.value->>'about_code'
                  AND COALESCE(a.valid_from, '0001-01-01') = COALESCE(x.value->>'about_from', '0001-01-01'))
        FROM json_each($1) AS x
        WHERE true
        ON CONFLICT (regime_id, unit_id, period) DO UPDATE SET
            status = excluded.status, updated_at = excluded.updated_at, frozen = excluded.frozen,
            approvals = excluded.approvals, about_unit_id = excluded.about_unit_id,
            submitted_at = COALESCE(excluded.submitted_at, reports.submitted_at),
            approved_at = excluded.approved_at,
            returned_reason = CASE WHEN excluded.status = 'returned' THEN excluded.returned_reason
                                   ELSE reports.returned_reason END,
            signer = COALESCE(excluded.signer, reports.signer),
            signer_position = CASE WHEN excluded.signer IS NOT NULL THEN excluded.signer_position
                                   ELSE reports.signer_position END,
            signed_at = COALESCE(excluded.signed_at, reports.signed_at)",
    insert_revisions: "INSERT INTO report_revisions (report_id, seq, action, status, actor, at, note, snapshot, level)
        SELECT r.id, COALESCE((SELECT MAX(v.seq) FROM report_revisions v WHERE v.report_id = r.id), 0) + 1,
               x.value->>'action', x.value->>'status', x.value->>'actor', $2, x.value->>'reason',
               x.value->>'snapshot', x.value->>'level'
        FROM json_each($1) AS x
        JOIN reports r ON r.regime_id = x.value->>'regime_id' AND r.unit_id = x.value->>'unit_id'
             AND r.period = x.value->>'period'",
    lock_report_units: None,
    lock_audit_head: "SELECT seq, hash FROM audit_head WHERE id = 1",
    insert_audit: "INSERT INTO audit_log (seq, at, actor, action, object, before, after, prev_hash, hash)
        SELECT x.value->>'seq', x.value->>'at', x.value->>'actor', x.value->>'action', x.value->>'object',
               x.value->>'before', x.value->>'after', x.value->>'prev_hash', x.value->>'hash'
        FROM json_each($1) AS x",
};

pub const POSTGRES: Dialect = Dialect {
    upsert_inserted: Some("(xmax = 0)"),
    upsert_report_values: "INSERT INTO data_values (indicator_id, unit_id, period, period_end, value, value_num, stored_at)
        SELECT i.id, (x.value->>1)::bigint, x.value->>2, (x.value->>3)::date, x.value->>4, (x.value->>5)::float8,
               $2::timestamptz
        FROM jsonb_array_elements($1::jsonb) AS x(value)
        JOIN indicators i ON i.code = x.value->>0
        ON CONFLICT (unit_id, period, indicator_id) DO UPDATE SET
            value = EXCLUDED.value, value_num = EXCLUDED.value_num, comment = EXCLUDED.comment, stored_at = EXCLUDED.stored_at,
            source_id = CASE WHEN data_values.value = EXCLUDED.value THEN data_values.source_id END,
            source_record = CASE WHEN data_values.value = EXCLUDED.value THEN data_values.source_record END",
    subtree_step: postgres_subtree_step,
    units_as_json: postgres_units_as_json,
    claim_mail: "UPDATE outbox SET state = 'sending', claimed_at = $1
        WHERE id = (SELECT id FROM outbox WHERE state = 'pending' AND next_attempt_at <= $1
                    ORDER BY next_attempt_at, id LIMIT 1 FOR UPDATE SKIP LOCKED)
          AND state = 'pending'
        RETURNING id, template, recipient, params, attempts",
    report_state: "SELECT COALESCE(json_agg(json_build_array(x.k, u.id,
            (SELECT c.cutover_key FROM cutover_units c WHERE c.unit_code = u.code LIMIT 1),
            r.status, r.signer, r.signer_position,
            (SELECT v.snapshot FROM report_revisions v WHERE v.report_id = r.id ORDER BY v.seq DESC LIMIT 1),
            (SELECT COALESCE(json_agg(json_build_array(i.code, d.value, d.value_num, s.label)), '[]'::json)
             FROM data_values d JOIN indicators i ON i.id = d.indicator_id
             LEFT JOIN value_sources s ON s.id = d.source_id AND s.kind = 'feed'
             WHERE d.unit_id = u.id AND d.period = x.period),
            r.approvals,
            (SELECT v.actor FROM report_revisions v WHERE v.report_id = r.id AND v.action = 'submit'
             ORDER BY v.seq DESC LIMIT 1),
            (SELECT COALESCE(json_agg(v.actor), '[]'::json) FROM report_revisions v
             WHERE v.report_id = r.id AND v.action = 'approve'
               AND v.seq > COALESCE((SELECT MAX(w.seq) FROM report_revisions w
                                     WHERE w.report_id = r.id AND w.action = 'submit'), 0)),
            (SELECT MAX(v.seq) FROM report_revisions v WHERE v.report_id = r.id))), '[]')::text
        FROM jsonb_to_recordset($1::jsonb) AS x(k bigint, regime_id bigint, code text, valid_from date, period text)
        -- Each unit by its identity index: as a plain join, the planner
        -- guesses a hundred keys and hashes the whole table of units
        -- (14,000 rows, 5-9 ms) for a batch of one. `LIMIT` keeps the
        -- subquery a lookup per key.
        CROSS JOIN LATERAL (SELECT u.id, u.code FROM units u WHERE u.code = x.code
             AND COALESCE(u.valid_from, DATE '0001-01-01') = COALESCE(x.valid_from, DATE '0001-01-01') LIMIT 1) u
        LEFT JOIN reports r ON r.regime_id = x.regime_id AND r.unit_id = u.id AND r.period = x.period",
    upsert_reports: "INSERT INTO reports (regime_id, form_id, unit_id, period, status, updated_at, submitted_at,
            approved_at, returned_reason, signer, signer_position, signed_at, frozen, approvals, about_unit_id)
        SELECT x.regime_id, x.form_id, x.unit_id, x.period, x.status, $2::timestamptz,
               CASE WHEN x.action = 'submit' THEN $2::timestamptz END,
               CASE WHEN x.status = 'approved' THEN $2::timestamptz END,
               CASE WHEN x.status = 'returned' THEN x.reason END,
               x.signer, x.position, CASE WHEN x.signer IS NOT NULL THEN $2::timestamptz END, x.frozen,
               x.approvals,
               (SELECT a.id FROM units a WHERE a.code = x.about_code
                  AND a.valid_from IS NOT DISTINCT FROM x.about_from)
        FROM jsonb_to_recordset($1::jsonb) AS x(regime_id bigint, form_id bigint, unit_id bigint, period text,
             status text, action text, reason text, signer text, position text, frozen text, approvals bigint,
             about_code text, about_from date)
        ON CONFLICT (regime_id, unit_id, period) DO UPDATE SET
            status = EXCLUDED.status, updated_at = EXCLUDED.updated_at, frozen = EXCLUDED.frozen,
            approvals = EXCLUDED.approvals, about_unit_id = EXCLUDED.about_unit_id,
            submitted_at = COALESCE(EXCLUDED.submitted_at, reports.submitted_at),
            approved_at = EXCLUDED.approved_at,
            returned_reason = CASE WHEN EXCLUDED.status = 'returned' THEN EXCLUDED.returned_reason
                                   ELSE reports.returned_reason END,
            signer = COALESCE(EXCLUDED.signer, reports.signer),
            signer_position = CASE WHEN EXCLUDED.signer IS NOT NULL THEN EXCLUDED.signer_position
                                   ELSE reports.signer_position END,
            signed_at = COALESCE(EXCLUDED.signed_at, reports.signed_at)",
    insert_revisions: "INSERT INTO report_revisions (report_id, seq, action, status, actor, at, note, snapshot, level)
        SELECT r.id, COALESCE((SELECT MAX(v.seq) FROM report_revisions v WHERE v.report_id = r.id), 0) + 1,
               x.action, x.status, x.actor, $2::timestamptz, x.reason, x.snapshot, x.level
        FROM jsonb_to_recordset($1::jsonb) AS x(regime_id bigint, unit_id bigint, period text, action text,
             status text, actor text, reason text, snapshot text, level bigint)
        JOIN reports r ON r.regime_id = x.regime_id AND r.unit_id = x.unit_id AND r.period = x.period",
    // The two-key form: a key space apart from the one-key locks of
    // `exclusive` and of the migrator. `unnest` yields the keys in order.
    lock_report_units: Some(
        "SELECT count(pg_advisory_xact_lock(1, k)) FROM unnest(string_to_array($1, ',')::int4[]) AS k",
    ),
    lock_audit_head: "SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE",
    insert_audit: "INSERT INTO audit_log (seq, at, actor, action, object, before, after, prev_hash, hash)
        SELECT x.seq, x.at, x.actor, x.action, x.object, x.before, x.after, x.prev_hash, x.hash
        FROM jsonb_to_recordset($1::jsonb) AS x(seq bigint, at text, actor text, action text, object text,
             before text, after text, prev_hash text, hash text)",
};
