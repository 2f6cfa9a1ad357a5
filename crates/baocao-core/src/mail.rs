//! What baocao's mail says, and when a message that could not be sent is
//! tried again. Messages are written to the outbox as a template and its
//! parameters, in the transaction of what caused them, and put into words
//! here as they are sent: in Vietnamese, with a plain-text part and the
//! same text as HTML.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

/// The kinds of message baocao sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Template {
    /// A new account's link to set its first password.
    Activation,
    /// A link to set a new password, asked for on «Quên mật khẩu».
    Reset,
}

impl Template {
    pub fn as_str(self) -> &'static str {
        match self {
            Template::Activation => "activation",
            Template::Reset => "reset",
        }
    }

    /// In Vietnamese, for the outbox page.
    pub fn vietnamese(self) -> &'static str {
        match self {
            Template::Activation => "Kích hoạt tài khoản",
            Template::Reset => "Đặt lại mật khẩu",
        }
    }

    /// The page of the site the message's link opens.
    pub fn path(self) -> &'static str {
        match self {
            Template::Activation => "/activate",
            Template::Reset => "/reset",
        }
    }
}

impl std::str::FromStr for Template {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "activation" => Ok(Template::Activation),
            "reset" => Ok(Template::Reset),
            other => Err(format!("không có mẫu thư «{other}»")),
        }
    }
}

/// What a link message carries: whom it greets and its one-time token.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LinkParams {
    pub display_name: String,
    pub username: String,
    pub token: String,
    pub expires_at: DateTime<Utc>,
}

/// A message put into words.
#[derive(Clone, Debug, PartialEq)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// The message `template` with `params`, its link on the site at `base_url`.
pub fn render(template: Template, params: &LinkParams, base_url: &str) -> Rendered {
    let link = format!("{}{}?token={}", base_url.trim_end_matches('/'), template.path(), params.token);
    let until = params.expires_at.with_timezone(&crate::date::vietnam()).format("%H:%M ngày %d/%m/%Y").to_string();
    let (subject, lead, action) = match template {
        Template::Activation => (
            "Kích hoạt tài khoản Hệ thống thông tin báo cáo",
            format!("Tài khoản «{}» của Ông/Bà trên Hệ thống thông tin báo cáo đã được tạo.", params.username),
            "Để bắt đầu sử dụng, Ông/Bà mở liên kết dưới đây và đặt mật khẩu",
        ),
        Template::Reset => (
            "Đặt lại mật khẩu Hệ thống thông tin báo cáo",
            format!("Có yêu cầu đặt lại mật khẩu cho tài khoản «{}».", params.username),
            "Nếu chính Ông/Bà yêu cầu, mở liên kết dưới đây và đặt mật khẩu mới",
        ),
    };
    let closing = match template {
        Template::Activation => "Nếu Ông/Bà không phải người nhận thư này, xin bỏ qua thư.",
        Template::Reset => "Nếu Ông/Bà không yêu cầu, xin bỏ qua thư: mật khẩu hiện tại vẫn dùng được.",
    };
    let name = &params.display_name;
    let text = format!(
        "Kính gửi {name},\n\n{lead}\n{action} (liên kết dùng một lần, hết hạn lúc {until}):\n\n{link}\n\n{closing}\n\nHệ thống thông tin báo cáo (thư gửi tự động, xin không trả lời)\n"
    );
    let html = format!(
        "<!doctype html><html lang=\"vi\"><body><p>Kính gửi {},</p><p>{}<br>{} (liên kết dùng một lần, hết hạn lúc {until}):</p><p><a href=\"{}\">{}</a></p><p>{}</p><p><small>Hệ thống thông tin báo cáo (thư gửi tự động, xin không trả lời)</small></p></body></html>",
        escape(name),
        escape(&lead),
        action,
        escape(&link),
        escape(&link),
        closing
    );
    Rendered { subject: subject.to_string(), text, html }
}

/// Text made safe to place in HTML.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Tries before a message that the server keeps refusing for a passing
/// reason is given up (about a day with the waits below).
pub const MAX_ATTEMPTS: i32 = 10;

/// How long to wait before trying a message again after `attempts` failed
/// tries: a minute, doubled each time, at most four hours; none once
/// [`MAX_ATTEMPTS`] have failed.
pub fn retry_after(attempts: i32) -> Option<Duration> {
    (attempts < MAX_ATTEMPTS).then(|| Duration::minutes(1i64 << attempts.clamp(0, 8)).min(Duration::hours(4)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params() -> LinkParams {
        LinkParams {
            display_name: "Nguyễn Văn <An>".into(),
            username: "nguyen.van.an@tinh.gov.vn".into(),
            token: "abc123".into(),
            expires_at: "2026-12-05T10:00:00Z".parse().unwrap(),
        }
    }

    #[test]
    fn a_link_message_says_where_to_go_until_when_in_both_parts() {
        let m = render(Template::Activation, &params(), "https://baocao.tinh.gov.vn/");
        assert_eq!(m.subject, "Kích hoạt tài khoản Hệ thống thông tin báo cáo");
        assert!(m.text.contains("https://baocao.tinh.gov.vn/activate?token=abc123"), "{}", m.text);
        // Vietnam time, dd/mm/yyyy.
        assert!(m.text.contains("hết hạn lúc 17:00 ngày 05/12/2026"), "{}", m.text);
        assert!(m.html.contains("Kính gửi Nguyễn Văn &lt;An&gt;,"), "names are escaped in HTML: {}", m.html);
        let reset = render(Template::Reset, &params(), "http://127.0.0.1:8080");
        assert!(reset.text.contains("http://127.0.0.1:8080/reset?token=abc123"), "{}", reset.text);
    }

    #[test]
    fn retries_wait_longer_each_time_then_stop() {
        assert_eq!(retry_after(0), Some(Duration::minutes(1)));
        assert_eq!(retry_after(3), Some(Duration::minutes(8)));
        assert_eq!(retry_after(9), Some(Duration::hours(4)));
        assert_eq!(retry_after(MAX_ATTEMPTS), None);
        assert_eq!("reset".parse::<Template>(), Ok(Template::Reset));
        assert!("spam".parse::<Template>().is_err());
    }
}
