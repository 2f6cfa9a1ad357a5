//! Agencies and the rosters of their officials, kept over time.
//!
//! A roster import is an agency's whole list as of a day: whoever it lists
//! works there from that day (a person listed by another agency until then
//! has moved: that posting ends), whoever it no longer lists stops working
//! there that day. So the roster of any day can be shown, and transfers
//! between agencies are part of the history rather than overwritten.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use baocao_core::Validity;
use baocao_core::access::{Grant, Role};
use baocao_core::directory::{
    Agency, AgencyLineage, Duplicate, Existing, Gender, Listing, Person, Step, Unaddressed, Wanted, agency_lineage,
    assign_addresses, check_agencies, duplicates, plan_accounts,
};
use baocao_core::text::fold;
use chrono::{NaiveDate, Utc};
use serde::Serialize;
use serde_json::json;

use crate::accounts::AccountText;
use crate::agency_rows::{AgencyRow, SELECT_AGENCIES, agency_of, all_agencies};
use crate::audit::Change;
use crate::{Db, StoreError, WriteTx, append_audit, with_conn, with_pool};

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

/// How to undo one account step (a cutover's rollback).
#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize)]
#[serde(tag = "undo", rename_all = "snake_case")]
pub enum AccountUndo {
    /// An account was created: it is closed.
    Created { username: String },
    /// A grant was given: it ends where it began, never in force.
    Granted { grant: i64 },
    /// A grant was ended: its former end comes back.
    Ended { grant: i64, valid_to: Option<NaiveDate> },
    /// An account was closed: it is opened again.
    Closed { username: String },
    /// An account was opened again: it is closed.
    Opened { username: String },
    /// An account was renamed: its former name comes back.
    Renamed { username: String, display_name: String },
}

/// The addresses of a plan that its account steps give out (as usernames):
/// recorded as their people's when the steps are carried out.
pub(crate) fn given_addresses(addresses: &[PlannedAddress], steps: &[Step]) -> Vec<PlannedAddress> {
    let usernames: BTreeSet<&str> = steps
        .iter()
        .filter_map(|s| match s {
            Step::Create { username, .. } | Step::Grant { username, .. } => Some(username.as_str()),
            _ => None,
        })
        .collect();
    addresses.iter().filter(|a| usernames.contains(a.address.as_str())).cloned().collect()
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

/// An official's address in the plan of a day.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PlannedAddress {
    pub person: i64,
    pub full_name: String,
    pub agency_code: String,
    pub address: String,
    /// `keep` (the address exists) or `create`.
    pub action: &'static str,
    /// The role the roster asks for in the reporting system, if any.
    #[serde(skip)]
    pub baocao_role: Option<String>,
}

/// The addresses of a day and what the scheme noticed on the way.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AddressPlan {
    pub addresses: Vec<PlannedAddress>,
    pub duplicates: Vec<Duplicate>,
    pub refused: Vec<Unaddressed>,
}

impl Db {
    /// Official addresses for everyone on the roster of `day`, by the
    /// documented scheme (`baocao_core::directory`).
    pub async fn address_plan(&self, day: NaiveDate, domain: &str) -> Result<AddressPlan, StoreError> {
        let roster = self.roster_at(day, None).await?;
        let people: Vec<Person> = roster
            .iter()
            .map(|e| Person {
                id: e.person.to_string(),
                full_name: e.full_name.clone(),
                birth_date: Some(e.birth_date),
                agency: e.agency_code.clone(),
                existing: e.email.clone(),
            })
            .collect();
        // Addresses already given: to anyone ever listed, and every account
        // named by an address. A person who left keeps theirs; nobody else gets it.
        let mut in_use: Vec<String> = with_pool!(self, |pool| {
            sqlx::query_scalar(
            "SELECT email FROM people WHERE email IS NOT NULL UNION SELECT username FROM accounts WHERE username LIKE '%@%'"
        )
        .fetch_all(pool)
        .await?
        });
        in_use.sort();
        let (addresses, refused) = assign_addresses(&people, domain, &in_use);
        let by_person: HashMap<String, &RosterEntry> = roster.iter().map(|e| (e.person.to_string(), e)).collect();
        let addresses = addresses
            .iter()
            .filter_map(|a| {
                let e = by_person.get(&a.person)?;
                Some(PlannedAddress {
                    person: e.person,
                    full_name: e.full_name.clone(),
                    agency_code: e.agency_code.clone(),
                    address: a.address.clone(),
                    action: if a.existing { "keep" } else { "create" },
                    baocao_role: e.roles.get("baocao").cloned(),
                })
            })
            .collect();
        Ok(AddressPlan { addresses, duplicates: duplicates(&people), refused })
    }

    /// The steps that give the reporting system the accounts the rosters of
    /// `day` ask for (usernames are the official addresses in `domain`).
    pub async fn reporting_plan(&self, day: NaiveDate, domain: &str, grace_days: u64) -> Result<Vec<Step>, StoreError> {
        let addresses = self.address_plan(day, domain).await?.addresses;
        self.reporting_plan_from(&addresses, day, domain, grace_days).await
    }

    /// [`Db::reporting_plan`] from an address plan already made for the day.
    pub async fn reporting_plan_from(
        &self,
        addresses: &[PlannedAddress],
        day: NaiveDate,
        domain: &str,
        grace_days: u64,
    ) -> Result<Vec<Step>, StoreError> {
        let agencies: HashMap<String, Agency> =
            self.agencies_at(day).await?.into_iter().map(|a| (a.code.clone(), a)).collect();
        let mut wanted = Vec::new();
        let mut problems = Vec::new();
        for a in addresses {
            let Some(role) = &a.baocao_role else { continue };
            match role.parse::<Role>() {
                Ok(role) => wanted.push(Wanted {
                    username: a.address.clone(),
                    display_name: a.full_name.clone(),
                    role,
                    unit: agencies.get(&a.agency_code).and_then(|g| g.unit_code.clone()),
                }),
                Err(e) => problems.push(format!("{} ({}): role «baocao:{role}»: {e}", a.full_name, a.agency_code)),
            }
        }
        if !problems.is_empty() {
            return Err(StoreError::Conflict(format!(
                "the rosters ask for roles that do not exist:\n  {}",
                problems.join("\n  ")
            )));
        }
        let existing: Vec<Existing> = self
            .accounts()
            .await?
            .into_iter()
            .map(|a| Existing {
                display_name: a.display_name,
                username: a.username,
                active: a.active,
                grants: a.grants.into_iter().map(|g| (g.id, g.grant)).collect(),
            })
            .collect();
        Ok(plan_accounts(&wanted, &existing, domain, day, grace_days))
    }

    /// Records the addresses a plan gives (action `create`) as the people's
    /// own, so that they keep them and nobody else is given them.
    pub async fn record_addresses(&self, planned: &[PlannedAddress]) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        Self::record_addresses_in(&mut tx, planned).await?;
        tx.commit().await?;
        Ok(())
    }

    pub(crate) async fn record_addresses_in(tx: &mut WriteTx, planned: &[PlannedAddress]) -> Result<(), StoreError> {
        with_conn!(tx, |conn| {
            for a in planned.iter().filter(|a| a.action == "create") {
                sqlx::query("UPDATE people SET email = $1 WHERE id = $2 AND email IS NULL")
                    .bind(&a.address)
                    .bind(a.person)
                    .execute(&mut *conn)
                    .await?;
            }
            Ok(())
        })
    }

    /// Carries out the `baocao` plan of `day`: the addresses it is built on
    /// become the people's, then each step runs in its own transaction
    /// (planning again after an interruption gives what is left).
    pub async fn apply_reporting_plan(
        &self,
        actor: &str,
        day: NaiveDate,
        domain: &str,
        grace_days: u64,
    ) -> Result<usize, StoreError> {
        let addresses = self.address_plan(day, domain).await?.addresses;
        let steps = self.reporting_plan_from(&addresses, day, domain, grace_days).await?;
        self.record_addresses(&given_addresses(&addresses, &steps)).await?;
        self.apply_account_steps(actor, &steps, day).await?;
        Ok(steps.len())
    }

    /// Carries out account steps effective on `day`. Each step is its own
    /// transaction; planning again after an interruption gives what is left.
    pub async fn apply_account_steps(&self, actor: &str, steps: &[Step], day: NaiveDate) -> Result<(), StoreError> {
        for step in steps {
            let mut tx = self.begin_write().await?;
            Self::apply_account_steps_in(&mut tx, actor, std::slice::from_ref(step), day).await?;
            tx.commit().await?;
        }
        Ok(())
    }

    /// Carries out account steps inside the caller's transaction; returns
    /// how to undo each.
    pub(crate) async fn apply_account_steps_in(
        tx: &mut WriteTx,
        actor: &str,
        steps: &[Step],
        day: NaiveDate,
    ) -> Result<Vec<AccountUndo>, StoreError> {
        let mut undo = Vec::new();
        for step in steps {
            match step {
                Step::Create { username, display_name } => {
                    Self::create_account_in(tx, actor, username, display_name, None).await?;
                    undo.push(AccountUndo::Created { username: username.clone() });
                }
                Step::Grant { username, role, unit } => {
                    let validity = Validity::new(Some(day), None);
                    let grant = Grant { role: *role, unit: unit.clone(), forms: vec![], validity };
                    let id = Self::add_grant_in(tx, actor, username, &grant).await?;
                    undo.push(AccountUndo::Granted { grant: id });
                }
                Step::End { grant, .. } => {
                    let valid_to: Option<NaiveDate> =
                        with_conn!(tx, |conn| sqlx::query_scalar("SELECT valid_to FROM grants WHERE id = $1")
                            .bind(grant)
                            .fetch_one(&mut *conn)
                            .await?);
                    Self::revoke_grant_in(tx, actor, *grant, day).await?;
                    undo.push(AccountUndo::Ended { grant: *grant, valid_to });
                }
                Step::Close { username } => {
                    Self::set_state_in(tx, actor, username, false, false).await?;
                    undo.push(AccountUndo::Closed { username: username.clone() });
                }
                Step::Open { username } => {
                    Self::set_state_in(tx, actor, username, true, false).await?;
                    undo.push(AccountUndo::Opened { username: username.clone() });
                }
                Step::Rename { username, display_name } => {
                    let before: String = with_conn!(tx, |conn| sqlx::query_scalar(
                        "SELECT display_name FROM accounts WHERE username = $1"
                    )
                    .bind(username)
                    .fetch_one(&mut *conn)
                    .await?);
                    Self::set_account_text_in(tx, actor, username, AccountText::DisplayName, Some(display_name))
                        .await?;
                    undo.push(AccountUndo::Renamed { username: username.clone(), display_name: before });
                }
                Step::ReadOnly { username, unit, until } => {
                    let validity = Validity::new(Some(day), Some(*until));
                    let grant = Grant { role: Role::Viewer, unit: unit.clone(), forms: vec![], validity };
                    let id = Self::add_grant_in(tx, actor, username, &grant).await?;
                    undo.push(AccountUndo::Granted { grant: id });
                }
            }
        }
        Ok(undo)
    }
}
