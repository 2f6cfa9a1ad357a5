//! Agencies and the rosters of their officials, kept over time.
//!
//! A roster import is an agency's whole list as of a day: whoever it lists
//! works there from that day (a person listed by another agency until then
//! has moved: that posting ends), whoever it no longer lists stops working
//! there that day. So the roster of any day can be shown, and transfers
//! between agencies are part of the history rather than overwritten. The
//! accounts the rosters ask for are planned in [`crate::account_plan`].

use std::collections::{BTreeMap, BTreeSet, HashMap};

use baocao_core::directory::{Agency, AgencyLineage, Gender, Listing, agency_lineage, check_agencies};
use baocao_core::text::fold;
use chrono::{NaiveDate, Utc};
use serde::Serialize;
use serde_json::json;

use crate::agency_rows::{AgencyRow, SELECT_AGENCIES, agency_of, all_agencies};
use crate::audit::Change;
use crate::{Db, StoreError, append_audit, with_conn, with_pool};

/// Ends posting `$row` on `$day` (a posting begun that very day is removed:
/// it was never in force).
macro_rules! end_posting {
    ($conn:expr, $row:expr, $day:expr) => {{
        let (id, valid_from) = ($row.0, $row.6);
        if valid_from >= $day {
            sqlx::query("DELETE FROM postings WHERE id = $1").bind(id).execute(&mut *$conn).await?;
        } else {
            sqlx::query("UPDATE postings SET valid_to = $1 WHERE id = $2")
                .bind($day)
                .bind(id)
                .execute(&mut *$conn)
                .await?;
        }
    }};
}

/// One official on a day's roster.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RosterEntry {
    pub person: i64,
    pub full_name: String,
    pub birth_date: NaiveDate,
    pub gender: Option<String>,
    pub agency_code: String,
    pub position: String,
    pub post: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub roles: BTreeMap<String, String>,
    pub since: NaiveDate,
}

/// What a roster import changed.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct RosterSummary {
    /// People new to the rosters.
    pub people_added: usize,
    /// Postings begun (new people, transfers, changed positions).
    pub postings_begun: usize,
    /// Postings ended: people no longer listed, moved, or changed.
    pub postings_ended: usize,
    /// People who moved from another agency.
    pub transfers: usize,
    pub unchanged: usize,
}

type PostingRow = (i64, i64, String, String, String, String, NaiveDate);

/// Postings in force on the day bound as `$2`, as `PostingRow`s.
const POSTINGS_IN_FORCE: &str = "SELECT id, person_id, agency_code, position, post, roles, valid_from FROM postings
    WHERE valid_from <= $2 AND (valid_to IS NULL OR valid_to > $2)";

impl Db {
    /// Adds or updates agency versions by (code, valid_from); all or nothing.
    /// The agencies as a whole must then hold together: see
    /// [`check_agencies`].
    pub async fn import_agencies(&self, actor: &str, agencies: &[Agency]) -> Result<usize, StoreError> {
        let now = Utc::now();
        let mut tx = self.begin_write().await?;
        let out = with_conn!(tx, |conn| {
            for a in agencies {
                sqlx::query(
                    "DELETE FROM agencies WHERE code = $1 AND COALESCE(valid_from, '0001-01-01') = COALESCE($2, '0001-01-01')",
                )
                .bind(&a.code)
                .bind(a.valid_from)
                .execute(&mut *conn)
                .await?;
                sqlx::query(
                    "INSERT INTO agencies (code, name, kind, parent_code, unit_code, valid_from, valid_to, successor_codes, archive)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                )
                .bind(&a.code)
                .bind(&a.name)
                .bind(&a.kind)
                .bind(&a.parent_code)
                .bind(&a.unit_code)
                .bind(a.valid_from)
                .bind(a.valid_to)
                .bind(json!(a.successor_codes).to_string())
                .bind(&a.archive)
                .execute(&mut *conn)
                .await?;
            }
            // Each agency version reports as a body of its own (see
            // `UnitKind::Agency`): kept in step here, under its parent agency.
            for a in agencies {
                let clash: Option<String> =
                    sqlx::query_scalar("SELECT code FROM units WHERE code = $1 AND kind <> 'cơ quan' LIMIT 1")
                        .bind(&a.code)
                        .fetch_optional(&mut *conn)
                        .await?;
                if clash.is_some() {
                    return Err(StoreError::Refused(
                        "không nhập được danh sách cơ quan",
                        vec![format!("cơ quan {}: trùng mã với một đơn vị hành chính", a.code)],
                    ));
                }
                // Both statements take the same parameters, in this order.
                let with_row = |sql| {
                    sqlx::query(sql)
                        .bind(&a.code)
                        .bind(a.valid_from)
                        .bind(&a.name)
                        .bind(baocao_core::text::fold(&a.name))
                        .bind(&a.parent_code)
                        .bind(a.valid_to)
                        .bind(&a.kind)
                        .bind(&a.unit_code)
                };
                let updated = with_row(
                    "UPDATE units SET name = $3, search_name = $4, parent_code = $5, valid_to = $6, agency_kind = $7, area_code = $8
                     WHERE kind = 'cơ quan' AND code = $1 AND COALESCE(valid_from, '0001-01-01') = COALESCE($2, '0001-01-01')",
                )
                .execute(&mut *conn)
                .await?;
                if updated.rows_affected() == 0 {
                    with_row(
                        "INSERT INTO units (code, name, search_name, kind, level, parent_code, valid_from, valid_to, agency_kind, area_code)
                         VALUES ($1, $3, $4, 'cơ quan', 9, $5, $2, $6, $7, $8)",
                    )
                    .execute(&mut *conn)
                    .await?;
                }
            }
            sqlx::query(crate::registry::BUMP_REVISION).execute(&mut *conn).await?;
            let registry = crate::registry::load_registry!(conn);
            let problems = check_agencies(&all_agencies!(conn), &registry);
            if !problems.is_empty() {
                return Err(StoreError::Refused("không nhập được danh sách cơ quan", problems));
            }
            let change = Change {
                at: now,
                actor,
                action: "agencies.import",
                object: "agencies".into(),
                before: None,
                after: Some(json!(agencies)),
            };
            append_audit!(conn, &change);
            agencies.len()
        });
        tx.commit().await?;
        Ok(out)
    }

    /// Agencies in force on `day`, by code.
    pub async fn agencies_at(&self, day: NaiveDate) -> Result<Vec<Agency>, StoreError> {
        let sql = format!(
            "{SELECT_AGENCIES} WHERE (valid_from IS NULL OR valid_from <= $1) AND (valid_to IS NULL OR valid_to > $1) ORDER BY code"
        );
        let rows: Vec<AgencyRow> = with_pool!(self, |pool| sqlx::query_as(&sql).bind(day).fetch_all(pool).await?);
        rows.into_iter().map(agency_of).collect()
    }

    /// Every version of agency `code`, its predecessors and its successors.
    pub async fn agency_lineage(&self, code: &str) -> Result<AgencyLineage, StoreError> {
        let all = self.all_agencies().await?;
        agency_lineage(&all, code).ok_or_else(|| StoreError::NotFound(format!("Không có cơ quan «{code}».")))
    }

    /// Every version of every agency.
    pub(crate) async fn all_agencies(&self) -> Result<Vec<Agency>, StoreError> {
        let rows: Vec<AgencyRow> = with_pool!(self, |pool| sqlx::query_as(SELECT_AGENCIES).fetch_all(pool).await?);
        rows.into_iter().map(agency_of).collect()
    }

    /// Lists `listed` as the whole rosters of their agencies from `from`.
    pub async fn import_roster(
        &self,
        actor: &str,
        listed: &[Listing],
        from: NaiveDate,
    ) -> Result<RosterSummary, StoreError> {
        let agencies: BTreeSet<String> = self.agencies_at(from).await?.into_iter().map(|a| a.code).collect();
        let mut problems = Vec::new();
        let mut seen: HashMap<(String, NaiveDate), &Listing> = HashMap::new();
        for l in listed {
            if !agencies.contains(&l.agency_code) {
                problems.push(format!(
                    "{}: không có cơ quan «{}» có hiệu lực ngày {}",
                    l.place,
                    l.agency_code,
                    baocao_core::date::format_vn(from)
                ));
            }
            if let Some(first) = seen.insert((fold(&l.full_name), l.birth_date), l) {
                problems.push(format!(
                    "{}: {} (sinh ngày {}) đã có tên ở {} ({}); mỗi người chỉ một vị trí công tác",
                    l.place,
                    l.full_name,
                    baocao_core::date::format_vn(l.birth_date),
                    first.place,
                    first.agency_code
                ));
            }
        }
        if !problems.is_empty() {
            return Err(StoreError::Conflict(format!(
                "không nạp được danh sách cán bộ; {} lỗi:\n  {}",
                problems.len(),
                problems.join("\n  ")
            )));
        }
        let listed_agencies: BTreeSet<&str> = listed.iter().map(|l| l.agency_code.as_str()).collect();
        let now = Utc::now();
        let mut tx = self.begin_write().await?;
        let out = with_conn!(tx, |conn| {
            let mut summary = RosterSummary::default();
            let mut kept = BTreeSet::new();
            for l in listed {
                let folded = fold(&l.full_name);
                let person: Option<i64> =
                    sqlx::query_scalar("SELECT id FROM people WHERE folded_name = $1 AND birth_date = $2")
                        .bind(&folded)
                        .bind(l.birth_date)
                        .fetch_optional(&mut *conn)
                        .await?;
                let person = match person {
                    Some(id) => {
                        sqlx::query(
                            "UPDATE people SET full_name = $1, gender = COALESCE($2, gender),
                                email = COALESCE($3, email), phone = COALESCE($4, phone) WHERE id = $5",
                        )
                        .bind(&l.full_name)
                        .bind(l.gender.map(Gender::vietnamese))
                        .bind(&l.email)
                        .bind(&l.phone)
                        .bind(id)
                        .execute(&mut *conn)
                        .await?;
                        id
                    }
                    None => {
                        summary.people_added += 1;
                        sqlx::query_scalar(
                            "INSERT INTO people (full_name, folded_name, birth_date, gender, email, phone)
                             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
                        )
                        .bind(&l.full_name)
                        .bind(&folded)
                        .bind(l.birth_date)
                        .bind(l.gender.map(Gender::vietnamese))
                        .bind(&l.email)
                        .bind(&l.phone)
                        .fetch_one(&mut *conn)
                        .await?
                    }
                };
                let roles = serde_json::to_string(&l.roles).expect("strings serialize");
                let current: Vec<PostingRow> = sqlx::query_as(&format!("{POSTINGS_IN_FORCE} AND person_id = $1"))
                    .bind(person)
                    .bind(from)
                    .fetch_all(&mut *conn)
                    .await?;
                let same =
                    current.iter().find(|c| c.2 == l.agency_code && c.3 == l.position && c.4 == l.post && c.5 == roles);
                if let Some(same) = same {
                    summary.unchanged += 1;
                    kept.insert(same.0);
                    continue;
                }
                for c in &current {
                    if c.2 != l.agency_code {
                        summary.transfers += 1;
                    }
                    end_posting!(conn, c, from);
                    summary.postings_ended += 1;
                }
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO postings (person_id, agency_code, position, post, roles, valid_from)
                     VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
                )
                .bind(person)
                .bind(&l.agency_code)
                .bind(&l.position)
                .bind(&l.post)
                .bind(&roles)
                .bind(from)
                .fetch_one(&mut *conn)
                .await?;
                kept.insert(id);
                summary.postings_begun += 1;
            }
            // Whoever the listed agencies no longer list stops working there.
            for agency in &listed_agencies {
                let current: Vec<PostingRow> = sqlx::query_as(&format!("{POSTINGS_IN_FORCE} AND agency_code = $1"))
                    .bind(agency)
                    .bind(from)
                    .fetch_all(&mut *conn)
                    .await?;
                for c in current.iter().filter(|c| !kept.contains(&c.0)) {
                    end_posting!(conn, c, from);
                    summary.postings_ended += 1;
                }
            }
            let change = Change {
                at: now,
                actor,
                action: "roster.import",
                object: format!("roster of {}", listed_agencies.iter().copied().collect::<Vec<_>>().join(", ")),
                before: None,
                after: Some(json!({ "from": from, "listed": listed.len(), "summary": summary })),
            };
            append_audit!(conn, &change);
            summary
        });
        tx.commit().await?;
        Ok(out)
    }

    /// The roster of `day`, optionally of one agency, by agency then name
    /// in Vietnamese order.
    pub async fn roster_at(&self, day: NaiveDate, agency: Option<&str>) -> Result<Vec<RosterEntry>, StoreError> {
        type Row = (
            i64,
            String,
            NaiveDate,
            Option<String>,
            String,
            String,
            String,
            Option<String>,
            Option<String>,
            String,
            NaiveDate,
        );
        let sql = "SELECT p.id, p.full_name, p.birth_date, p.gender, s.agency_code, s.position, s.post, p.email,
                p.phone, s.roles, s.valid_from
            FROM postings s JOIN people p ON p.id = s.person_id
            WHERE s.valid_from <= $1 AND (s.valid_to IS NULL OR s.valid_to > $1) AND ($2 IS NULL OR s.agency_code = $2)";
        let rows: Vec<Row> =
            with_pool!(self, |pool| sqlx::query_as(sql).bind(day).bind(agency).fetch_all(pool).await?);
        let mut out = rows
            .into_iter()
            .map(|r| {
                let roles =
                    serde_json::from_str(&r.9).map_err(|e| StoreError::Corrupt(format!("posting roles: {e}")))?;
                Ok(RosterEntry {
                    person: r.0,
                    full_name: r.1,
                    birth_date: r.2,
                    gender: r.3,
                    agency_code: r.4,
                    position: r.5,
                    post: r.6,
                    email: r.7,
                    phone: r.8,
                    roles,
                    since: r.10,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        out.sort_by(|a, b| {
            a.agency_code.cmp(&b.agency_code).then_with(|| baocao_core::text::compare_vi(&a.full_name, &b.full_name))
        });
        Ok(out)
    }
}
