//! What an account has to do about reports now: enter and send them, mend
//! them when returned, or decide on them at its level of the approval
//! chain. One list for the home page's tasks and for the entry API a phone
//! takes its reports from before going where the network does not reach.

use std::sync::Arc;

use baocao_core::access::{Permission, Target};
use baocao_core::regime::Regime;
use baocao_core::workflow::Status;
use baocao_core::{Period, Registry};
use chrono::{Days, NaiveDate};

use crate::access::Access;
use crate::error::ApiError;
use crate::state::AppState;

/// What the account is to do about a report.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Duty {
    /// Not begun, or a draft: enter and send it.
    Enter,
    /// Returned: mend it and send it again.
    Mend,
    /// Sent, waiting at the account's level of the chain.
    Decide,
}

impl Duty {
    pub(crate) fn vietnamese(self) -> &'static str {
        match self {
            Duty::Enter => "Cần nhập và gửi",
            Duty::Mend => "Bị trả lại, cần sửa",
            Duty::Decide => "Chờ phê duyệt",
        }
    }

    /// The duty as the API names it.
    pub(crate) fn code(self) -> &'static str {
        match self {
            Duty::Enter => "enter",
            Duty::Mend => "mend",
            Duty::Decide => "decide",
        }
    }

    /// Whether the duty is entering figures.
    pub(crate) fn enters(self) -> bool {
        matches!(self, Duty::Enter | Duty::Mend)
    }
}

/// One report the account has a duty on.
pub(crate) struct DueReport {
    pub(crate) duty: Duty,
    pub(crate) regime: Arc<Regime>,
    pub(crate) unit: String,
    pub(crate) unit_name: String,
    pub(crate) period: Period,
    pub(crate) deadline: NaiveDate,
}

/// The reports `access` has a duty on, on `today`: of every regime still
/// asking, the periods whose cut-off window has begun, back about three
/// months, newest first.
pub(crate) async fn due_reports(
    state: &AppState,
    access: &Access,
    registry: &Registry,
    today: NaiveDate,
) -> Result<Vec<DueReport>, ApiError> {
    let mut due = Vec::new();
    for regime in state.db.regimes().await? {
        // A closed request asks nothing more of anyone.
        if regime.request.as_ref().is_some_and(|r| r.closed_on.is_some()) {
            continue;
        }
        let regime = Arc::new(regime);
        for period in recent_periods(&regime, today) {
            let deadline = regime.deadline(&period);
            let completeness = state.db.completeness(registry, &regime.code, &period).await?;
            for u in &completeness.units {
                let Some(unit) = registry.in_force(&u.code, period.end()) else { continue };
                let target = Target::Unit { unit, day: period.end(), form: Some(&regime.form) };
                let duty = match u.status {
                    None | Some(Status::Draft) if access.can(registry, Permission::EnterReports, target) => Duty::Enter,
                    Some(Status::Returned) if access.can(registry, Permission::EnterReports, target) => Duty::Mend,
                    // Only at the level of the chain the report waits at.
                    Some(Status::Submitted) if access.decides(registry, &regime, &u.code, &period, u.approvals) => {
                        Duty::Decide
                    }
                    _ => continue,
                };
                due.push(DueReport {
                    duty,
                    regime: Arc::clone(&regime),
                    unit: u.code.clone(),
                    unit_name: u.name.clone(),
                    period,
                    deadline,
                });
            }
        }
    }
    Ok(due)
}

/// The periods worth showing on `today`: those whose data cut-off window
/// has begun, newest first, back about three months.
fn recent_periods(regime: &Regime, today: NaiveDate) -> Vec<Period> {
    let mut periods: Vec<Period> = regime
        .periods(today - Days::new(100), today + Days::new(400))
        .into_iter()
        .filter(|p| p.cutoff().0 <= today)
        .collect();
    periods.reverse();
    periods.truncate(3);
    periods
}
