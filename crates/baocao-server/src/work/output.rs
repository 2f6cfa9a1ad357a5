//! «Tổng hợp»: an output form (biểu đầu ra) of an area and a period.

use super::export::{Exported, FormatQuery, answer, query};
use super::*;
use baocao_core::table::{Cell, Table, TableRow};

#[derive(Deserialize)]
pub struct OutputQuery {
    form: Option<String>,
    unit: Option<String>,
    period: Option<String>,
    /// Count submitted reports too, not only approved ones.
    #[serde(default)]
    submitted: Option<String>,
}

struct OutputRow {
    stt: String,
    label: String,
    unit_of_measure: String,
    heading: bool,
    indent: u8,
    /// Each figure as shown, with where it comes from when it is one.
    cells: Vec<(String, Option<String>)>,
    /// The marks of the row's figures ([`marks`]).
    marks: &'static str,
}

#[derive(Template)]
#[template(path = "output.html")]
struct OutputPage {
    chrome: Chrome,
    forms: Vec<(String, String)>,
    form: String,
    unit: String,
    /// The units the account may consolidate, for the picker.
    unit_choices: Vec<(String, String)>,
    periods: Vec<(String, String)>,
    period: String,
    include_submitted: bool,
    view: std::sync::Arc<baocao_core::report::Consolidated>,
    rows: Vec<OutputRow>,
    /// Which reports the figures count, in words.
    counting: &'static str,
    /// The page's filters, for its workbook and print links.
    export: String,
}

impl OutputPage {
    /// What the marks shown mean, below the table and in its files.
    fn mark_notes(&self) -> Vec<&'static str> {
        let rows = &self.view.rows;
        [
            (rows.iter().any(|r| r.estimated), baocao_core::report::ESTIMATED_NOTE),
            (rows.iter().any(|r| r.pulled), baocao_core::report::PULLED_NOTE),
        ]
        .into_iter()
        .filter_map(|(shown, note)| shown.then_some(note))
        .collect()
    }
}

impl Exported for OutputPage {
    fn table(&self) -> Table {
        let v = &self.view;
        let by_unit = v.layout == baocao_core::form::Layout::ByUnit;
        let mut headings: Vec<String> =
            ["STT", if by_unit { "Đơn vị" } else { "Chỉ tiêu" }, "Đơn vị tính"].map(String::from).to_vec();
        headings.extend(v.headings.iter().cloned());
        let counted = if v.include_submitted { "đã gửi hoặc đã duyệt" } else { "đã duyệt" };
        let mut notes = vec![self.counting.to_string()];
        notes.extend(self.mark_notes().into_iter().map(String::from));
        Table {
            title: v.form_name.clone(),
            lines: vec![
                format!("Địa bàn: {} (mã {})", v.unit_name, v.unit),
                format!("Kỳ báo cáo: {}", v.period_label),
                format!("Tổng hợp từ {}/{} báo cáo {counted}", v.counted, v.expected),
            ],
            headings,
            rows: v
                .rows
                .iter()
                .map(|r| {
                    let mark = marks(r.estimated, false, r.pulled);
                    let mut cells = vec![
                        Cell::text(&r.stt),
                        Cell::text(&r.label),
                        Cell::text(r.unit_of_measure.as_deref().unwrap_or_default()),
                    ];
                    cells.extend(r.cells.iter().map(|c| Cell::figure(*c, mark)));
                    TableRow { heading: r.heading, indent: r.indent, cells }
                })
                .collect(),
            notes,
            file_name: format!("{}-{}-{}", v.form, v.unit, v.period),
        }
    }
}

/// An output form (biểu đầu ra): a province total or a breakdown by unit,
/// from the approved (or also submitted) reports of its regime.
pub async fn output(
    State(state): State<AppState>,
    access: Access,
    Query(q): Query<OutputQuery>,
    Query(f): Query<FormatQuery>,
) -> Response {
    let page = async {
        let outputs: Vec<baocao_core::form::Form> =
            state.db.forms().await?.into_iter().filter(|f| f.source.is_some() && f.valid_to.is_none()).collect();
        let form = match q.form.as_deref().filter(|f| !f.is_empty()) {
            Some(code) => outputs.iter().find(|f| f.code == code),
            None => outputs.first(),
        }
        .ok_or_else(|| ApiError::not_found("Chưa có biểu đầu ra nào."))?;
        let regime_code = form.source.as_ref().map(|s| s.regime.clone()).unwrap_or_default();
        let list = ListQuery { regime: Some(regime_code), period: q.period.clone() };
        let (_, _, periods, period) = choose(&state, &list).await?;
        let unit = q
            .unit
            .filter(|u| !u.is_empty())
            .or_else(|| access.home_unit(state.settings.home_province.as_deref()))
            .ok_or_else(|| ApiError::bad_request("Chọn đơn vị (mã đơn vị)."))?;
        let include_submitted = q.submitted.is_some();
        let view =
            crate::reports_api::readable_output(&state, &access, &form.code, &unit, &period, include_submitted).await?;
        let rows = view
            .rows
            .iter()
            .map(|r| OutputRow {
                stt: r.stt.clone(),
                label: r.label.clone(),
                unit_of_measure: r.unit_of_measure.clone().unwrap_or_default(),
                heading: r.heading,
                indent: r.indent,
                cells: r
                    .cells
                    .iter()
                    .enumerate()
                    .map(|(i, c)| {
                        let traced = r.traced.get(i).cloned().flatten().filter(|_| c.is_some());
                        let origin = traced.map(|(indicator, unit, period)| {
                            let counted = if include_submitted { "&include_submitted=true" } else { "" };
                            format!("/values/origin?indicator={indicator}&unit={unit}&period={period}{counted}")
                        });
                        (Cell::figure(*c, "").shown(), origin)
                    })
                    .collect(),
                marks: marks(r.estimated, false, r.pulled),
            })
            .collect();
        let export = query(&[
            ("form", &form.code),
            ("unit", &unit),
            ("period", &period.to_string()),
            ("submitted", if include_submitted { "1" } else { "" }),
        ]);
        Ok(OutputPage {
            export,
            chrome: Chrome::new(&state, &access),
            forms: outputs.iter().map(|f| (f.code.clone(), f.name.clone())).collect(),
            form: form.code.clone(),
            unit_choices: unit_choices(
                &state,
                &*state.registry().await?,
                &access,
                Permission::ViewReports,
                period.end(),
            )
            .await?,
            unit,
            periods: periods.iter().map(|p| (p.to_string(), p.label())).collect(),
            period: period.to_string(),
            include_submitted,
            rows,
            view,
            counting: Counting::Official { include_submitted }.vietnamese(),
        })
    };
    answer(&state, &access, &f, page).await
}
