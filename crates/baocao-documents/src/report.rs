//! A report laid out as the official document its unit signs (Decree
//! 30/2020: issuing agency and number on the left, national motto on the
//! right, place and date, title, the figures, recipients and signature).

use askama::Template;
use baocao_core::date::{day_in_vietnam, today_in_vietnam};
use baocao_core::report::{ReportView, signature_titles};
use baocao_ingest::xlsx::DEMO_MARK;
use chrono::Datelike;

use crate::DocumentError;

/// A row of the printed table: every cell as a reader sees it.
pub(crate) struct Row {
    pub(crate) stt: String,
    pub(crate) label: String,
    pub(crate) unit_of_measure: String,
    pub(crate) heading: bool,
    pub(crate) indent: u8,
    pub(crate) cells: Vec<String>,
}

/// What the printed report says, laid out as a page ([`render`]) or as a
/// PDF ([`crate::report_pdf`]).
#[derive(Template)]
#[template(path = "print.html")]
pub(crate) struct PrintedReport {
    pub(crate) view: ReportView,
    pub(crate) agency: String,
    pub(crate) place: String,
    pub(crate) day: String,
    pub(crate) month: String,
    pub(crate) year: String,
    pub(crate) columns: Vec<&'static str>,
    pub(crate) rows: Vec<Row>,
    pub(crate) signer: String,
    /// The title lines of the signature block.
    pub(crate) titles: Vec<String>,
    /// Made from the demo's data: the sheet says so.
    pub(crate) mark: Option<&'static str>,
    /// The systems figures marked [`PULLED_MARK`] were pulled from.
    pub(crate) pulled_note: Option<String>,
    /// What the mark * of a figure depending on an estimated share means,
    /// when one does.
    pub(crate) estimated_note: Option<&'static str>,
}

/// The mark of a figure pulled from another system (a feed), not typed.
pub(crate) const PULLED_MARK: &str = "‡";

/// The report as an HTML page linking the documents' stylesheet: what the
/// web application shows at `/reports/…/print`. `demo` marks it as made
/// from the demo's data.
pub fn render(view: ReportView, demo: bool) -> Result<String, DocumentError> {
    Ok(printed(view, demo).render()?)
}

/// The printed report's parts, from the report as it stands.
pub(crate) fn printed(view: ReportView, demo: bool) -> PrintedReport {
    // Dated the day it was signed, in Vietnam; a draft is dated today.
    let signed = view.signature.as_ref().map_or_else(today_in_vietnam, |s| day_in_vietnam(s.signed_at));
    // The place is the unit's name without its kind: "Xã Ngọk Bay" → "Ngọk Bay".
    let place = view.unit_name.split_once(' ').map_or(view.unit_name.clone(), |(_, rest)| rest.to_string());
    let rows = view
        .rows
        .iter()
        .map(|row| Row {
            stt: row.stt.clone(),
            label: row.label.clone(),
            unit_of_measure: row.unit_of_measure.clone().unwrap_or_default(),
            heading: row.heading,
            indent: row.indent,
            cells: view
                .columns
                .iter()
                .map(|&c| {
                    let mut shown = row.shown(c);
                    if row.estimated(c) {
                        shown.push_str(" *");
                    }
                    if row.pulled(c) {
                        shown = format!("{shown} {PULLED_MARK}");
                    }
                    shown
                })
                .collect(),
        })
        .collect();
    PrintedReport {
        agency: format!("ỦY BAN NHÂN DÂN\n{}", view.unit_name.to_uppercase()),
        place,
        day: format!("{:02}", signed.day()),
        month: format!("{:02}", signed.month()),
        year: signed.year().to_string(),
        columns: view.columns.iter().map(|c| c.heading()).collect(),
        rows,
        signer: view.signature.as_ref().map(|s| s.signer.clone()).unwrap_or_default(),
        // A commune's report is signed on behalf of its people's committee.
        titles: signature_titles(
            Some("Ủy ban nhân dân"),
            view.signature.as_ref().map_or("Chủ tịch", |s| s.position.as_str()),
        ),
        mark: demo.then_some(DEMO_MARK),
        pulled_note: view.pulled_note(),
        estimated_note: view.any_estimated().then_some(baocao_core::report::ESTIMATED_NOTE),
        view,
    }
}

/// The report as a standalone HTML file, its stylesheet inside: what
/// archive packages keep.
pub fn printable(view: ReportView, demo: bool) -> Result<String, DocumentError> {
    Ok(crate::standalone(&render(view, demo)?))
}

#[cfg(test)]
pub(crate) mod tests {
    use std::collections::BTreeMap;

    use baocao_core::Period;
    use baocao_core::form::Column;
    use baocao_core::report::{ReportRow, Signature};
    use baocao_core::workflow::Status;
    use chrono::{NaiveDate, TimeZone, Utc};

    use super::*;

    pub(crate) fn view(signature: Option<Signature>) -> ReportView {
        let period: Period = "202511".parse().unwrap();
        let cells = BTreeMap::from([("this_period".to_string(), 1234.5), ("percent_of_plan".to_string(), 87.54)]);
        ReportView {
            regime: "BC_THANG".into(),
            form: "TTHC".into(),
            form_name: "Tình hình giải quyết thủ tục hành chính".into(),
            unit: "25450".into(),
            unit_name: "Xã Ngọk Bay".into(),
            period_label: period.label(),
            period,
            status: Status::Approved,
            deadline: NaiveDate::from_ymd_opt(2025, 12, 5).unwrap(),
            submitted_at: None,
            approved_at: None,
            returned_reason: None,
            signature,
            columns: vec![Column::ThisPeriod, Column::PercentOfPlan],
            rows: vec![ReportRow {
                stt: "1".into(),
                label: "Hồ sơ tiếp nhận".into(),
                indicator: Some("HS".into()),
                unit_of_measure: Some("hồ sơ".into()),
                heading: false,
                computed: false,
                indent: 0,
                cells,
                this_period_estimated: false,
                same_period_estimated: false,
                year_to_date_estimated: false,
                pulled_from: None,
                same_period_pulled: false,
                year_to_date_pulled: false,
            }],
            findings: Vec::new(),
            revisions: Vec::new(),
            levels: Vec::new(),
            approvals: 0,
        }
    }

    #[test]
    fn a_report_is_dated_the_day_it_was_signed_in_vietnam() {
        // 20:00 UTC on 30/11 is 03:00 on 01/12 in Vietnam.
        let signed_at = Utc.with_ymd_and_hms(2025, 11, 30, 20, 0, 0).unwrap();
        let signature = Signature { signer: "Nguyễn Văn A".into(), position: "Phó Chủ tịch".into(), signed_at };
        let html = render(view(Some(signature)), false).unwrap();
        assert!(html.contains("Ngọk Bay, ngày 01 tháng 12 năm 2025"), "{html}");
        assert!(html.contains("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"));
        assert!(html.contains("TM. ỦY BAN NHÂN DÂN"), "signed on behalf of the committee");
        assert!(html.contains("KT. CHỦ TỊCH"), "a deputy signs for the head");
        assert!(html.contains("Nguyễn Văn A"));
        assert!(html.contains(crate::STYLESHEET_PATH), "a page links the stylesheet");
        assert!(!html.contains(DEMO_MARK));
    }

    #[test]
    fn a_figure_pulled_from_another_system_is_marked_and_its_system_named() {
        let mut pulled = view(None);
        pulled.rows[0].pulled_from = Some("Hệ thống TTHC".into());
        let html = render(pulled.clone(), false).unwrap();
        assert!(html.contains(">1.234,50 ‡<"), "{html}");
        assert!(html.contains("‡ Số liệu lấy tự động từ Hệ thống TTHC"), "{html}");
        assert!(!html.contains(">87,5% ‡<"), "a computed column is not the pulled figure");
        assert!(!render(view(None), false).unwrap().contains("pulled-note"));
        assert!(crate::report_pdf::render(pulled, false).is_ok());
    }

    #[test]
    fn a_year_so_far_made_partly_of_pulled_numbers_is_marked_and_the_mark_explained() {
        let mut pulled = view(None);
        pulled.rows[0].year_to_date_pulled = true;
        let html = render(pulled.clone(), false).unwrap();
        assert!(html.contains(">87,5% ‡<"), "the percentage of the year so far: {html}");
        assert!(html.contains(">1.234,50<"), "this period was entered: {html}");
        assert!(html.contains(baocao_core::report::PULLED_NOTE), "{html}");
        assert!(crate::report_pdf::render(pulled, false).is_ok());
    }

    #[test]
    fn a_figure_depending_on_an_estimated_share_is_marked_and_the_mark_explained() {
        let mut estimated = view(None);
        estimated.rows[0].year_to_date_estimated = true;
        let html = render(estimated.clone(), false).unwrap();
        assert!(html.contains(">87,5% *<"), "the percentage of the year so far: {html}");
        assert!(html.contains(">1.234,50<"), "this period is exact: {html}");
        assert!(html.contains(baocao_core::report::ESTIMATED_NOTE), "{html}");
        assert!(!render(view(None), false).unwrap().contains("estimated-note"));
        assert!(crate::report_pdf::render(estimated, false).is_ok());
    }

    #[test]
    fn cells_read_the_vietnamese_way_and_the_demo_is_marked() {
        let html = printable(view(None), true).unwrap();
        assert!(html.contains(">1.234,50<"), "{html}");
        assert!(html.contains(">87,5%<"), "{html}");
        assert!(html.contains(DEMO_MARK));
        assert!(!html.contains(crate::STYLESHEET_PATH), "a file carries its stylesheet");
    }
}
