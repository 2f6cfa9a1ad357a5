//! The account plan of a day (kế hoạch tài khoản): official addresses for
//! everyone on the roster, the accounts and grants the rosters ask for in
//! the reporting system, carried out in one transaction with what undoes
//! each step (a cutover's rollback).

use std::collections::{BTreeSet, HashMap};

use baocao_core::Validity;
use baocao_core::access::{Grant, Role};
use baocao_core::directory::{
    Agency, Duplicate, Existing, Person, Step, Unaddressed, Wanted, assign_addresses, duplicates, plan_accounts,
};
use chrono::NaiveDate;
use serde::Serialize;
use sqlx::QueryBuilder;

use crate::accounts::AccountText;
use crate::directory::RosterEntry;
use crate::sql::ROWS;
use crate::{Db, StoreError, WriteTx, with_conn, with_pool};

/// Account steps carried out in one transaction outside a cutover: few
/// enough that an interruption loses little, many enough that a province's
/// plan is not a transaction per official.
pub const STEPS_PER_COMMIT: usize = 1000;

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
            let Some(asked) = &a.baocao_role else { continue };
            // `approver` is held on the unit the agency serves (a commune's
            // committee: the commune); `approver@agency` on the agency
            // itself (a department's own reports, not the province's).
            let (role, on_agency) = match asked.split_once('@') {
                None => (asked.as_str(), false),
                Some((role, scope)) if scope.trim() == "agency" => (role.trim(), true),
                Some((_, scope)) => {
                    problems.push(format!(
                        "{} ({}): role «baocao:{asked}»: phạm vi «{}» không có (chỉ có @agency: trên chính cơ quan)",
                        a.full_name,
                        a.agency_code,
                        scope.trim()
                    ));
                    continue;
                }
            };
            match role.parse::<Role>() {
                Ok(role) => wanted.push(Wanted {
                    username: a.address.clone(),
                    display_name: a.full_name.clone(),
                    role,
                    unit: if on_agency {
                        Some(a.agency_code.clone())
                    } else {
                        agencies.get(&a.agency_code).and_then(|g| g.unit_code.clone())
                    },
                }),
                Err(e) => problems.push(format!("{} ({}): role «baocao:{asked}»: {e}", a.full_name, a.agency_code)),
            }
        }
        if !problems.is_empty() {
            return Err(StoreError::Conflict(format!(
                "danh sách cán bộ đề nghị những vai trò không có:\n  {}",
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
        let given: Vec<(i64, &str)> =
            planned.iter().filter(|a| a.action == "create").map(|a| (a.person, a.address.as_str())).collect();
        with_conn!(tx, |conn| {
            // `column1`, `column2`: the names both backends give to the
            // columns of a `VALUES` list.
            for chunk in given.chunks(ROWS) {
                let mut update = QueryBuilder::new("UPDATE people SET email = v.column2 FROM (");
                update.push_values(chunk, |mut b, (person, address)| {
                    b.push_bind(*person).push_bind(*address);
                });
                update.push(") AS v WHERE people.id = v.column1 AND people.email IS NULL");
                update.build().execute(&mut *conn).await?;
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

    /// Carries out account steps effective on `day`, [`STEPS_PER_COMMIT`] a
    /// transaction; planning again after an interruption gives what is left.
    pub async fn apply_account_steps(&self, actor: &str, steps: &[Step], day: NaiveDate) -> Result<(), StoreError> {
        for chunk in steps.chunks(STEPS_PER_COMMIT) {
            let mut tx = self.begin_write().await?;
            Self::apply_account_steps_in(&mut tx, actor, chunk, day).await?;
            tx.commit().await?;
        }
        Ok(())
    }

    /// Carries out account steps inside the caller's transaction; returns
    /// how to undo each, in the steps' order. New accounts and grants, which
    /// are nearly all of a cutover's steps, are written together, first
    /// the accounts (a plan's grants may be for them); the other steps
    /// follow one by one.
    pub(crate) async fn apply_account_steps_in(
        tx: &mut WriteTx,
        actor: &str,
        steps: &[Step],
        day: NaiveDate,
    ) -> Result<Vec<AccountUndo>, StoreError> {
        let mut undo: Vec<Option<AccountUndo>> = vec![None; steps.len()];
        let created: Vec<(&str, &str)> = steps
            .iter()
            .filter_map(|s| match s {
                Step::Create { username, display_name } => Some((username.as_str(), display_name.as_str())),
                _ => None,
            })
            .collect();
        Self::create_planned_accounts_in(tx, actor, &created, chrono::Utc::now()).await?;
        let mut granted: Vec<(usize, &str, Grant)> = Vec::new();
        for (n, step) in steps.iter().enumerate() {
            match step {
                Step::Create { username, .. } => undo[n] = Some(AccountUndo::Created { username: username.clone() }),
                Step::Grant { username, role, unit } => {
                    let validity = Validity::new(Some(day), None);
                    granted.push((n, username, Grant { role: *role, unit: unit.clone(), forms: vec![], validity }));
                }
                Step::ReadOnly { username, unit, until } => {
                    let validity = Validity::new(Some(day), Some(*until));
                    granted.push((
                        n,
                        username,
                        Grant { role: Role::Viewer, unit: unit.clone(), forms: vec![], validity },
                    ));
                }
                _ => {}
            }
        }
        let requests: Vec<(&str, &Grant)> = granted.iter().map(|(_, u, g)| (*u, g)).collect();
        let ids = Self::add_grants_in(tx, actor, &requests).await?;
        for ((n, _, _), grant) in granted.iter().zip(ids) {
            undo[*n] = Some(AccountUndo::Granted { grant });
        }
        for (n, step) in steps.iter().enumerate() {
            undo[n] = Some(match step {
                Step::Create { .. } | Step::Grant { .. } | Step::ReadOnly { .. } => continue,
                Step::End { grant, .. } => {
                    let valid_to: Option<NaiveDate> =
                        with_conn!(tx, |conn| sqlx::query_scalar("SELECT valid_to FROM grants WHERE id = $1")
                            .bind(grant)
                            .fetch_one(&mut *conn)
                            .await?);
                    Self::revoke_grant_in(tx, actor, *grant, day).await?;
                    AccountUndo::Ended { grant: *grant, valid_to }
                }
                Step::Close { username } => {
                    Self::set_state_in(tx, actor, username, false, false).await?;
                    AccountUndo::Closed { username: username.clone() }
                }
                Step::Open { username } => {
                    Self::set_state_in(tx, actor, username, true, false).await?;
                    AccountUndo::Opened { username: username.clone() }
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
                    AccountUndo::Renamed { username: username.clone(), display_name: before }
                }
            });
        }
        Ok(undo.into_iter().flatten().collect())
    }
}
