//! The pages' charts, drawn as SVG on the server: no script, nothing for
//! the Content-Security-Policy to refuse, and the same on a phone.

use baocao_core::text::format_number;

/// One period's bar: reports on time, late and missing, of those expected.
pub(super) struct Bar {
    pub(super) label: String,
    pub(super) on_time: usize,
    pub(super) late: usize,
    pub(super) missing: usize,
    pub(super) expected: usize,
}

/// Stacked bars of on-time, late and missing reports per period, as SVG.
pub(super) fn bars(bars: &[Bar]) -> String {
    let (w, h, left, bottom) = (560.0_f64, 220.0_f64, 36.0_f64, 36.0_f64);
    let max = bars.iter().map(|b| b.expected).max().unwrap_or(1).max(1) as f64;
    let step = (w - left) / bars.len().max(1) as f64;
    let bar_w = step * 0.6;
    let scale = (h - bottom - 10.0) / max;
    let mut svg = format!(
        "<svg viewBox=\"0 0 {w} {h}\" role=\"img\" aria-label=\"Số báo cáo đúng hạn, trễ hạn và chưa gửi theo kỳ\" class=\"chart\">"
    );
    svg.push_str(&format!("<line x1=\"{left}\" y1=\"{y}\" x2=\"{w}\" y2=\"{y}\" stroke=\"#999\"/>", y = h - bottom));
    for (i, b) in bars.iter().enumerate() {
        let x = left + step * i as f64 + (step - bar_w) / 2.0;
        let mut y = h - bottom;
        for (count, color, what) in
            [(b.on_time, "#2e7d32", "đúng hạn"), (b.late, "#f9a825", "trễ hạn"), (b.missing, "#c62828", "chưa gửi")]
        {
            let height = count as f64 * scale;
            y -= height;
            svg.push_str(&format!(
                "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{bar_w:.1}\" height=\"{height:.1}\" fill=\"{color}\"><title>{}: {count} {what}</title></rect>",
                b.label
            ));
        }
        svg.push_str(&format!(
            "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"middle\">{}</text>",
            x + bar_w / 2.0,
            h - bottom + 16.0,
            b.label
        ));
    }
    svg.push_str(&format!("<text x=\"4\" y=\"14\" font-size=\"11\">{}</text></svg>", format_number(max, 0)));
    svg
}

/// A line of values as SVG; estimated points hollow.
pub(super) fn line(values: &[(String, Option<f64>, bool)]) -> String {
    let (w, h, left, bottom) = (560.0_f64, 200.0_f64, 50.0_f64, 30.0_f64);
    let max = values.iter().filter_map(|v| v.1).fold(0.0_f64, f64::max).max(1.0);
    let step = (w - left - 10.0) / (values.len().max(2) - 1) as f64;
    let y_of = |v: f64| h - bottom - v / max * (h - bottom - 10.0);
    let mut svg = format!(
        "<svg viewBox=\"0 0 {w} {h}\" role=\"img\" aria-label=\"Giá trị chỉ tiêu theo kỳ\" class=\"chart\"><line x1=\"{left}\" y1=\"{y}\" x2=\"{w}\" y2=\"{y}\" stroke=\"#999\"/>",
        y = h - bottom
    );
    let points: Vec<String> = values
        .iter()
        .enumerate()
        .filter_map(|(i, (_, v, _))| Some(format!("{:.1},{:.1}", left + step * i as f64, y_of((*v)?))))
        .collect();
    svg.push_str(&format!(
        "<polyline fill=\"none\" stroke=\"#b3261e\" stroke-width=\"2\" points=\"{}\"/>",
        points.join(" ")
    ));
    for (i, (label, v, estimated)) in values.iter().enumerate() {
        let x = left + step * i as f64;
        if let Some(v) = v {
            let fill = if *estimated { "#fff" } else { "#b3261e" };
            svg.push_str(&format!(
                "<circle cx=\"{x:.1}\" cy=\"{:.1}\" r=\"4\" fill=\"{fill}\" stroke=\"#b3261e\"><title>{label}: {}{}</title></circle>",
                y_of(*v),
                format_number(*v, 0),
                if *estimated { " (ước tính)" } else { "" }
            ));
        }
        if i % 2 == 0 {
            svg.push_str(&format!(
                "<text x=\"{x:.1}\" y=\"{:.1}\" font-size=\"10\" text-anchor=\"middle\">{label}</text>",
                h - bottom + 14.0
            ));
        }
    }
    svg.push_str(&format!("<text x=\"2\" y=\"12\" font-size=\"10\">{}</text></svg>", format_number(max, 0)));
    svg
}

/// The colours of a chart's series, told apart in print as on screen.
const SERIES: [&str; 8] = ["#b3261e", "#1565c0", "#2e7d32", "#f9a825", "#6a1b9a", "#00838f", "#5d4037", "#546e7a"];

/// Several lines over the same labels (periods), as SVG, with a legend.
pub(super) fn lines(labels: &[String], series: &[(String, Vec<Option<f64>>)]) -> String {
    let (w, left, bottom) = (560.0_f64, 50.0_f64, 30.0_f64);
    let plot = 200.0_f64;
    let h = plot + 16.0 * series.len() as f64 + 8.0;
    let values = series.iter().flat_map(|(_, v)| v.iter().flatten());
    let max = values.fold(0.0_f64, |m, v| m.max(*v)).max(1.0);
    // Room on the right for the last label, centred on its point.
    let step = (w - left - 40.0) / (labels.len().max(2) - 1) as f64;
    let y_of = |v: f64| plot - bottom - v / max * (plot - bottom - 10.0);
    let mut svg = format!(
        "<svg viewBox=\"0 0 {w} {h}\" role=\"img\" aria-label=\"Giá trị theo kỳ\" class=\"chart\"><line x1=\"{left}\" y1=\"{y}\" x2=\"{w}\" y2=\"{y}\" stroke=\"#999\"/>",
        y = plot - bottom
    );
    for (n, (name, values)) in series.iter().enumerate() {
        let color = SERIES[n % SERIES.len()];
        let points: Vec<String> = values
            .iter()
            .enumerate()
            .filter_map(|(i, v)| Some(format!("{:.1},{:.1}", left + step * i as f64, y_of((*v)?))))
            .collect();
        svg.push_str(&format!(
            "<polyline fill=\"none\" stroke=\"{color}\" stroke-width=\"2\" points=\"{}\"><title>{}</title></polyline>",
            points.join(" "),
            escape(name)
        ));
        let y = plot + 12.0 + 16.0 * n as f64;
        svg.push_str(&format!(
            "<rect x=\"{left}\" y=\"{:.1}\" width=\"12\" height=\"4\" fill=\"{color}\"/><text x=\"{:.1}\" y=\"{y:.1}\" font-size=\"11\">{}</text>",
            y - 5.0,
            left + 18.0,
            escape(name)
        ));
    }
    let every = labels.len().div_ceil(8).max(1);
    for (i, label) in labels.iter().enumerate().step_by(every) {
        svg.push_str(&format!(
            "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"10\" text-anchor=\"middle\">{}</text>",
            left + step * i as f64,
            plot - bottom + 14.0,
            escape(label)
        ));
    }
    svg.push_str(&format!("<text x=\"2\" y=\"12\" font-size=\"10\">{}</text></svg>", format_number(max, 0)));
    svg
}

/// Vertical bars over the same labels, as SVG with a legend: side by side
/// for each label (a column chart), or piled up (a stacked one, whose
/// height is the labels' total: the parts of a whole, negative values
/// left out).
pub(super) fn columns(labels: &[String], series: &[(String, Vec<Option<f64>>)], stacked: bool) -> String {
    let (w, left, bottom) = (560.0_f64, 50.0_f64, 30.0_f64);
    let plot = 200.0_f64;
    let h = plot + 16.0 * series.len() as f64 + 8.0;
    let value = |s: &(String, Vec<Option<f64>>), i: usize| s.1.get(i).copied().flatten().unwrap_or(0.0).max(0.0);
    let max = (0..labels.len())
        .map(|i| {
            let values = series.iter().map(|s| value(s, i));
            if stacked { values.sum::<f64>() } else { values.fold(0.0, f64::max) }
        })
        .fold(0.0_f64, f64::max)
        .max(1.0);
    let step = (w - left) / labels.len().max(1) as f64;
    let group = step * 0.7;
    let bar_w = if stacked { group } else { group / series.len().max(1) as f64 };
    let scale = (plot - bottom - 10.0) / max;
    let kind = if stacked { "Cột chồng" } else { "Cột" };
    let mut svg = format!(
        "<svg viewBox=\"0 0 {w} {h}\" role=\"img\" aria-label=\"{kind}: giá trị theo {}\" class=\"chart\"><line x1=\"{left}\" y1=\"{y}\" x2=\"{w}\" y2=\"{y}\" stroke=\"#999\"/>",
        if stacked { "từng phần" } else { "từng cột" },
        y = plot - bottom
    );
    for (i, label) in labels.iter().enumerate() {
        let x0 = left + step * i as f64 + (step - group) / 2.0;
        let mut top = plot - bottom;
        for (n, s) in series.iter().enumerate() {
            let v = value(s, i);
            let height = v * scale;
            let (x, y) = if stacked {
                top -= height;
                (x0, top)
            } else {
                (x0 + bar_w * n as f64, plot - bottom - height)
            };
            svg.push_str(&format!(
                "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{bar_w:.1}\" height=\"{height:.1}\" fill=\"{}\"><title>{} · {}: {}</title></rect>",
                SERIES[n % SERIES.len()],
                escape(&s.0),
                escape(label),
                baocao_core::text::format_figure(v)
            ));
        }
    }
    let every = labels.len().div_ceil(8).max(1);
    for (i, label) in labels.iter().enumerate().step_by(every) {
        let short: String = label.chars().take(16).collect();
        svg.push_str(&format!(
            "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"10\" text-anchor=\"middle\">{}</text>",
            left + step * (i as f64 + 0.5),
            plot - bottom + 14.0,
            escape(&short)
        ));
    }
    for (n, (name, _)) in series.iter().enumerate() {
        let y = plot + 12.0 + 16.0 * n as f64;
        svg.push_str(&format!(
            "<rect x=\"{left}\" y=\"{:.1}\" width=\"12\" height=\"8\" fill=\"{}\"/><text x=\"{:.1}\" y=\"{y:.1}\" font-size=\"11\">{}</text>",
            y - 8.0,
            SERIES[n % SERIES.len()],
            left + 18.0,
            escape(name)
        ));
    }
    svg.push_str(&format!("<text x=\"2\" y=\"12\" font-size=\"10\">{}</text></svg>", format_number(max, 0)));
    svg
}

/// Horizontal bars from the largest value down (a ranking), as SVG.
pub(super) fn ranking(what: &str, bars: &[(String, f64)]) -> String {
    let mut sorted: Vec<&(String, f64)> = bars.iter().collect();
    sorted.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| baocao_core::text::compare_vi(&a.0, &b.0)));
    sorted.truncate(20);
    let (w, left, row) = (560.0_f64, 190.0_f64, 18.0_f64);
    let h = row * sorted.len() as f64 + 24.0;
    let max = sorted.iter().map(|b| b.1).fold(0.0_f64, f64::max).max(1.0);
    let mut svg =
        format!("<svg viewBox=\"0 0 {w} {h}\" role=\"img\" aria-label=\"Xếp hạng: {}\" class=\"chart\">", escape(what));
    for (i, (label, value)) in sorted.iter().enumerate() {
        let y = 4.0 + row * i as f64;
        let width = (value.max(0.0) / max * (w - left - 60.0)).max(0.0);
        let short: String = label.chars().take(30).collect();
        svg.push_str(&format!(
            "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"end\">{}</text><rect x=\"{left}\" y=\"{y:.1}\" width=\"{width:.1}\" height=\"{:.1}\" fill=\"#1565c0\"><title>{}: {}</title></rect><text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\">{}</text>",
            left - 6.0,
            y + 12.0,
            escape(&short),
            row - 5.0,
            escape(label),
            format_number(*value, 1),
            left + width + 4.0,
            y + 12.0,
            format_number(*value, 1)
        ));
    }
    svg.push_str(&format!("<text x=\"{left}\" y=\"{:.1}\" font-size=\"10\">{}</text></svg>", h - 4.0, escape(what)));
    svg
}

/// Text put inside SVG: names come from the registry and the catalog.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}
