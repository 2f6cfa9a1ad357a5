//! Agencies and the rosters of their officials, kept over time.
//!
//! A roster import is an agency's whole list as of a day: whoever it lists
//! works there from that day (a person listed by another agency until then
//! has moved: that posting ends), whoever it no longer lists stops working
//! there that day. So the roster of any day can be shown, and transfers
//! between agencies are part of the history rather than overwritten. The
//! accounts the rosters ask for are planned in [`crate::account_plan`].

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use baocao_core::directory::{Agency, AgencyLineage, Gender, Listing, agency_lineage, check_agencies};
use baocao_core::text::fold;
use chrono::{NaiveDate, Utc};
use serde::Serialize;
use serde_json::json;
use sqlx::QueryBuilder;

use crate::agency_rows::{AgencyRow, SELECT_AGENCIES, agency_of, all_agencies};
use crate::audit::Change;
use crate::sql::{ROWS, push_list};
use crate::{Db, StoreError, append_audit, with_conn, with_pool};

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

/// Postings in force on the day bound as `$1`, as `PostingRow`s.
const POSTINGS_IN_FORCE: &str = "SELECT id, person_id, agency_code, position, post, roles, valid_from FROM postings
    WHERE valid_from <= $1 AND (valid_to IS NULL OR valid_to > $1)";

/// A stored person: id, folded name, birth date, name, gender, email, phone.
type StoredPerson = (i64, String, NaiveDate, String, Option<String>, Option<String>, Option<String>);

/// Whom a posting begun by an import is for.
enum Holder {
    Stored(i64),
    /// The n-th of [`RosterWrites::new_people`].
    New(usize),
}

/// What a roster import writes, worked out in memory from what is stored
/// so that it is written in a few multi-row statements.
#[derive(Default)]
struct RosterWrites<'a> {
    /// People new to the rosters, with their folded names.
    new_people: Vec<(&'a Listing, String)>,
    /// Stored people whose name or contacts the import changes.
    changed_people: Vec<(i64, &'a Listing)>,
    /// Postings in force that end on the day.
    ended: Vec<i64>,
    /// Postings begun on the day itself that the import replaces: they
    /// were never in force, so they go.
    removed: Vec<i64>,
    /// Postings begun on the day, with the roles as stored (JSON).
    begun: Vec<(Holder, &'a Listing, String)>,
    summary: RosterSummary,
}

impl<'a> RosterWrites<'a> {
    fn plan(
        listed: &'a [Listing],
        agencies: &BTreeSet<&str>,
        people: &[StoredPerson],
        in_force: &[PostingRow],
        from: NaiveDate,
    ) -> Self {
        let stored: HashMap<(&str, NaiveDate), &StoredPerson> =
            people.iter().map(|p| ((p.1.as_str(), p.2), p)).collect();
        let mut postings_of: HashMap<i64, Vec<&PostingRow>> = HashMap::new();
        for p in in_force {
            postings_of.entry(p.1).or_default().push(p);
        }
        let mut w = RosterWrites::default();
        // Postings this import keeps or has already ended.
        let mut settled = HashSet::new();
        for l in listed {
            let folded = fold(&l.full_name);
            let roles = serde_json::to_string(&l.roles).expect("strings serialize");
            let (holder, current) = match stored.get(&(folded.as_str(), l.birth_date)) {
                Some(p) => {
                    if contacts_change(p, l) {
                        w.changed_people.push((p.0, l));
                    }
                    (Holder::Stored(p.0), postings_of.get(&p.0).map_or(&[][..], Vec::as_slice))
                }
                None => {
                    w.summary.people_added += 1;
                    w.new_people.push((l, folded));
                    (Holder::New(w.new_people.len() - 1), &[][..])
                }
            };
            let same =
                current.iter().find(|c| c.2 == l.agency_code && c.3 == l.position && c.4 == l.post && c.5 == roles);
            if let Some(same) = same {
                w.summary.unchanged += 1;
                settled.insert(same.0);
                continue;
            }
            for c in current {
                if c.2 != l.agency_code {
                    w.summary.transfers += 1;
                }
                w.end(c, from);
                settled.insert(c.0);
            }
            w.begun.push((holder, l, roles));
            w.summary.postings_begun += 1;
        }
        // Whoever the listed agencies no longer list stops working there.
        for c in in_force.iter().filter(|c| agencies.contains(c.2.as_str()) && !settled.contains(&c.0)) {
            w.end(c, from);
        }
        w
    }

    /// Ends posting `c` on `day` (a posting begun that very day is removed:
    /// it was never in force).
    fn end(&mut self, c: &PostingRow, day: NaiveDate) {
        if c.6 >= day {
            self.removed.push(c.0)
        } else {
            self.ended.push(c.0)
        }
        self.summary.postings_ended += 1;
    }
}

/// Whether listing `l` changes stored person `p`'s name or contacts (an
/// empty field keeps what is stored).
fn contacts_change(p: &StoredPerson, l: &Listing) -> bool {
    let differs = |new: Option<&str>, old: &Option<String>| new.is_some_and(|n| old.as_deref() != Some(n));
    p.3 != l.full_name
        || differs(l.gender.map(Gender::vietnamese), &p.4)
        || differs(l.email.as_deref(), &p.5)
        || differs(l.phone.as_deref(), &p.6)
}

/// Writes [`RosterWrites`] `$w` for day `$from` on either backend's
/// connection, in multi-row statements.
macro_rules! write_roster {
    ($conn:expr, $w:expr, $from:expr) => {{
        let w: &RosterWrites<'_> = $w;
        let from: NaiveDate = $from;
        let mut new_ids: HashMap<(String, NaiveDate), i64> = HashMap::with_capacity(w.new_people.len());
        for chunk in w.new_people.chunks(ROWS) {
            let mut insert =
                QueryBuilder::new("INSERT INTO people (full_name, folded_name, birth_date, gender, email, phone) ");
            insert.push_values(chunk, |mut b, (l, folded)| {
                b.push_bind(l.full_name.as_str())
                    .push_bind(folded.as_str())
                    .push_bind(l.birth_date)
                    .push_bind(l.gender.map(Gender::vietnamese))
                    .push_bind(l.email.as_deref())
                    .push_bind(l.phone.as_deref());
            });
            insert.push(" RETURNING id, folded_name, birth_date");
            let rows: Vec<(i64, String, NaiveDate)> = insert.build_query_as().fetch_all(&mut *$conn).await?;
            new_ids.extend(rows.into_iter().map(|(id, folded, born)| ((folded, born), id)));
        }
        for (id, l) in &w.changed_people {
            sqlx::query(
                "UPDATE people SET full_name = $1, gender = COALESCE($2, gender),
                    email = COALESCE($3, email), phone = COALESCE($4, phone) WHERE id = $5",
            )
            .bind(&l.full_name)
            .bind(l.gender.map(Gender::vietnamese))
            .bind(&l.email)
            .bind(&l.phone)
            .bind(id)
            .execute(&mut *$conn)
            .await?;
        }
        for chunk in w.ended.chunks(ROWS) {
            let mut update = QueryBuilder::new("UPDATE postings SET valid_to = ");
            update.push_bind(from).push(" WHERE id IN ");
            push_list(&mut update, chunk.iter().copied());
            update.build().execute(&mut *$conn).await?;
        }
        for chunk in w.removed.chunks(ROWS) {
            let mut delete = QueryBuilder::new("DELETE FROM postings WHERE id IN ");
            push_list(&mut delete, chunk.iter().copied());
            delete.build().execute(&mut *$conn).await?;
        }
        // Each begun posting with its holder's row id, new people's by
        // identity (their rows came back in no promised order).
        let begun = w
            .begun
            .iter()
            .map(|b| match b.0 {
                Holder::Stored(id) => Ok((id, b)),
                Holder::New(n) => {
                    let (l, folded) = &w.new_people[n];
                    let id = new_ids.get(&(folded.clone(), l.birth_date)).ok_or_else(|| {
                        StoreError::Corrupt(format!("{}: người vừa thêm không nhận được mã", l.place))
                    })?;
                    Ok((*id, b))
                }
            })
            .collect::<Result<Vec<(i64, &(Holder, &Listing, String))>, StoreError>>()?;
        for chunk in begun.chunks(ROWS) {
            let mut insert =
                QueryBuilder::new("INSERT INTO postings (person_id, agency_code, position, post, roles, valid_from) ");
            insert.push_values(chunk, |mut b, (person, (_, l, roles))| {
                b.push_bind(*person)
                    .push_bind(l.agency_code.as_str())
                    .push_bind(l.position.as_str())
                    .push_bind(l.post.as_str())
                    .push_bind(roles.as_str())
                    .push_bind(from);
            });
            insert.build().execute(&mut *$conn).await?;
        }
    }};
}

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
            // Everyone ever listed and the postings in force on the day, read
            // once: a province's roster is tens of thousands of officials,
            // and a statement per official made PostgreSQL pay a round trip
            // for each.
            let people: Vec<StoredPerson> =
                sqlx::query_as("SELECT id, folded_name, birth_date, full_name, gender, email, phone FROM people")
                    .fetch_all(&mut *conn)
                    .await?;
            let in_force: Vec<PostingRow> = sqlx::query_as(POSTINGS_IN_FORCE).bind(from).fetch_all(&mut *conn).await?;
            let plan = RosterWrites::plan(listed, &listed_agencies, &people, &in_force, from);
            write_roster!(conn, &plan, from);
            let summary = plan.summary;
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
