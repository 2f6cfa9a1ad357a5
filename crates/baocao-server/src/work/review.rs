//! The review queue: the submitted reports waiting for the account's
//! decision (at its level of the regime's approval chain), and approving a
//! selection of them with one confirmation.

use super::*;
use baocao_core::workflow::approval_barred;

#[derive(Template)]
#[template(path = "review.html")]
struct ReviewPage {
    chrome: Chrome,
    picker: Picker,
    /// The regime's approval levels (empty for one level).
    levels: Vec<String>,
    /// Each report waiting for the account, and why it may not approve it
    /// itself when so (its own submission): it may still return it.
    rows: Vec<(ListRow, Option<&'static str>)>,
    notice: Option<String>,
    /// Reports of a bulk approval that were refused: the unit and why.
    refused: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "review_confirm.html")]
struct ConfirmPage {
    chrome: Chrome,
    regime: String,
    regime_name: String,
    period: String,
    period_label: String,
    rows: Vec<ListRow>,
}

/// The submitted reports of the chosen regime and period that wait for
/// the account's decision.
async fn queue(
    state: &AppState,
    access: &Access,
    q: &ListQuery,
) -> Result<(Vec<Regime>, Regime, Vec<Period>, Period, Vec<(ListRow, Option<&'static str>)>), ApiError> {
    let registry = state.registry().await?;
    let (regimes, regime, periods, period) = choose(state, q).await?;
    let completeness = state.db.completeness(&registry, &regime.code, &period).await?;
    let levels = regime.level_names();
    // `decides` is the approval check itself (without a chain, may approve
    // the unit's reports): no other pass over the units is needed.
    let waiting: Vec<_> = completeness
        .units
        .iter()
        .filter(|u| u.status == Some(Status::Submitted))
        .filter(|u| access.decides(&registry, &regime, &u.code, &period, u.approvals))
        .collect();
    let deciders = state.db.report_deciders(&regime.code, &period).await?;
    let rows = waiting
        .into_iter()
        .map(|u| {
            let barred = deciders.get(&u.code).and_then(|(submitter, approvers)| {
                let approvers: Vec<&str> = approvers.iter().map(String::as_str).collect();
                approval_barred(access.username(), Some(submitter), &approvers, regime.self_approval)
            });
            (list_row(u, &levels), barred)
        })
        .collect();
    Ok((regimes, regime, periods, period, rows))
}

async fn review_page(
    state: &AppState,
    access: &Access,
    q: &ListQuery,
    notice: Option<String>,
    refused: Vec<(String, String)>,
) -> Result<ReviewPage, ApiError> {
    let (regimes, regime, periods, period, rows) = queue(state, access, q).await?;
    Ok(ReviewPage {
        chrome: Chrome::new(state, access),
        picker: Picker::new(&regimes, &regime, &periods, &period),
        levels: regime.level_names(),
        rows,
        notice,
        refused,
    })
}

/// Submitted reports waiting for the account's decision.
pub async fn review(State(state): State<AppState>, access: Access, Query(q): Query<ListQuery>) -> Response {
    page_result(review_page(&state, &access, &q, None, Vec::new()).await)
}

/// Approves the reports selected on the review page: first a page that
/// lists them for one confirmation, then, confirmed, each approved in its
/// own transaction (one refused, say because another approver returned it
/// meanwhile, does not hold back the others; each refusal is listed).
/// Only reports in the account's queue are taken.
pub async fn approve_selected(
    State(state): State<AppState>,
    access: Access,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let field = |name: &str| fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    let q = ListQuery { regime: field("regime"), period: field("period") };
    let chosen: Vec<&str> = fields.iter().filter(|(k, _)| k == "unit").map(|(_, v)| v.as_str()).collect();
    let confirmed = field("confirm").as_deref() == Some("1");
    let outcome = async {
        let (_, regime, _, period, rows) = queue(&state, &access, &q).await?;
        let picked: Vec<ListRow> = rows
            .into_iter()
            .filter(|(r, barred)| barred.is_none() && chosen.contains(&r.unit.as_str()))
            .map(|(r, _)| r)
            .collect();
        if picked.is_empty() {
            return Err(ApiError::bad_request(
                "Chưa chọn báo cáo nào đang chờ tài khoản này phê duyệt (hoặc các báo cáo đã chọn không còn chờ).",
            ));
        }
        if !confirmed {
            return Ok(Err(ConfirmPage {
                chrome: Chrome::new(&state, &access),
                regime: regime.code.clone(),
                regime_name: regime.name.clone(),
                period: period.to_string(),
                period_label: period.label(),
                rows: picked,
            }));
        }
        let mut approved = 0;
        let mut refused = Vec::new();
        for row in &picked {
            let request = ReportRequest {
                regime: regime.code.clone(),
                unit: row.unit.clone(),
                period,
                action: Action::Approve,
                values: BTreeMap::new(),
                plan: BTreeMap::new(),
                actor: access.username().to_string(),
                signature: None,
                at: None,
                level: None,
                idempotency: None,
                base_revision: None,
            };
            match act_as(&state, &access, request, crate::reports_api::Answer::Outcome).await {
                Ok(_) => approved += 1,
                Err(e) => refused.push((format!("{} ({})", row.name, row.unit), e.message)),
            }
        }
        let notice = format!("Đã phê duyệt {approved}/{} báo cáo đã chọn.", picked.len());
        Ok(Ok(review_page(&state, &access, &q, Some(notice), refused).await?))
    };
    match outcome.await {
        Ok(Ok(page)) => render(&page),
        Ok(Err(confirm)) => render(&confirm),
        Err(e) => error_page(e),
    }
}
