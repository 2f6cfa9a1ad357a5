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
    /// A notification (`core::notify`) sent by mail too.
    Notice,
}

impl Template {
    pub fn as_str(self) -> &'static str {
        match self {
            Template::Activation => "activation",
            Template::Reset => "reset",
            Template::Notice => "notice",
        }
    }

    /// In Vietnamese, for the outbox page.
    pub fn vietnamese(self) -> &'static str {
        match self {
            Template::Activation => "Kích hoạt tài khoản",
            Template::Reset => "Đặt lại mật khẩu",
            Template::Notice => "Thông báo",
        }
    }
}

/// What a one-time link to set a password is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Link {
    Activation,
    Reset,
}

impl Link {
    /// As stored with the link's token.
    pub fn as_str(self) -> &'static str {
        self.template().as_str()
    }

    /// In Vietnamese, for the page that sets the password.
    pub fn vietnamese(self) -> &'static str {
        self.template().vietnamese()
    }

    /// The page of the site the link opens.
    pub fn path(self) -> &'static str {
        match self {
            Link::Activation => "/activate",
            Link::Reset => "/reset",
        }
    }

    /// The message that carries it.
    pub fn template(self) -> Template {
        match self {
            Link::Activation => Template::Activation,
            Link::Reset => Template::Reset,
        }
    }
}

impl std::str::FromStr for Template {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "activation" => Ok(Template::Activation),
            "reset" => Ok(Template::Reset),
            "notice" => Ok(Template::Notice),
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

/// What a notification by mail carries.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NoticeParams {
    pub display_name: String,
    pub title: String,
    pub body: String,
    /// A path of the site.
    pub link: String,
}

/// What a message of the outbox says, as stored with it.
#[derive(Clone, Debug, PartialEq)]
pub enum Params {
    /// An activation or reset link.
    Link(LinkParams),
    Notice(NoticeParams),
}

impl Params {
    /// The stored JSON of a message of `template`.
    pub fn parse(template: Template, json: &str) -> Result<Params, String> {
        let bad = |e: serde_json::Error| format!("nội dung thư không đọc được: {e}");
        match template {
            Template::Activation | Template::Reset => serde_json::from_str(json).map(Params::Link).map_err(bad),
            Template::Notice => serde_json::from_str(json).map(Params::Notice).map_err(bad),
        }
    }

    pub fn to_json(&self) -> String {
        match self {
            Params::Link(p) => serde_json::to_string(p),
            Params::Notice(p) => serde_json::to_string(p),
        }
        .expect("plain data serializes")
    }
}

/// A message put into words.
#[derive(Clone, Debug, PartialEq)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// The message `template` with `params`, its link on the site at `base_url`.
pub fn render(template: Template, params: &Params, base_url: &str) -> Rendered {
    match params {
        Params::Link(p) => {
            render_link(if template == Template::Reset { Link::Reset } else { Link::Activation }, p, base_url)
        }
        Params::Notice(p) => render_notice(p, base_url),
    }
}

const SIGNATURE: &str = "Hệ thống thông tin báo cáo (thư gửi tự động, xin không trả lời)";

fn render_notice(params: &NoticeParams, base_url: &str) -> Rendered {
    let link = format!("{}{}", base_url.trim_end_matches('/'), params.link);
    let name = &params.display_name;
    let text = format!(
        "Kính gửi {name},\n\n{}\n\n{}\n\nXem chi tiết: {link}\n\nÔng/Bà chọn nhận thông báo loại nào, qua thư hay không, tại trang «Thông báo» của hệ thống.\n\n{SIGNATURE}\n",
        params.title, params.body
    );
    let body = escape(&params.body).replace('\n', "<br>");
    let html = format!(
        "<!doctype html><html lang=\"vi\"><body><p>Kính gửi {},</p><p><strong>{}</strong></p><p>{body}</p><p><a href=\"{}\">Xem chi tiết</a></p><p><small>{SIGNATURE}</small></p></body></html>",
        escape(name),
        escape(&params.title),
        escape(&link)
    );
    Rendered { subject: params.title.clone(), text, html }
}

fn render_link(kind: Link, params: &LinkParams, base_url: &str) -> Rendered {
    let link = format!("{}{}?token={}", base_url.trim_end_matches('/'), kind.path(), params.token);
    let until = params.expires_at.with_timezone(&crate::date::vietnam()).format("%H:%M ngày %d/%m/%Y").to_string();
    let (subject, lead, action) = match kind {
        Link::Activation => (
            "Kích hoạt tài khoản Hệ thống thông tin báo cáo",
            format!("Tài khoản «{}» của Ông/Bà trên Hệ thống thông tin báo cáo đã được tạo.", params.username),
            "Để bắt đầu sử dụng, Ông/Bà mở liên kết dưới đây và đặt mật khẩu",
        ),
        Link::Reset => (
            "Đặt lại mật khẩu Hệ thống thông tin báo cáo",
            format!("Có yêu cầu đặt lại mật khẩu cho tài khoản «{}».", params.username),
            "Nếu chính Ông/Bà yêu cầu, mở liên kết dưới đây và đặt mật khẩu mới",
        ),
    };
    let closing = match kind {
        Link::Activation => "Nếu Ông/Bà không phải người nhận thư này, xin bỏ qua thư.",
        Link::Reset => "Nếu Ông/Bà không yêu cầu, xin bỏ qua thư: mật khẩu hiện tại vẫn dùng được.",
    };
    let name = &params.display_name;
    let text = format!(
        "Kính gửi {name},\n\n{lead}\n{action} (liên kết dùng một lần, hết hạn lúc {until}):\n\n{link}\n\n{closing}\n\n{SIGNATURE}\n"
    );
    let html = format!(
        "<!doctype html><html lang=\"vi\"><body><p>Kính gửi {},</p><p>{}<br>{} (liên kết dùng một lần, hết hạn lúc {until}):</p><p><a href=\"{}\">{}</a></p><p>{}</p><p><small>{SIGNATURE}</small></p></body></html>",
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

    fn params() -> Params {
        Params::Link(LinkParams {
            display_name: "Nguyễn Văn <An>".into(),
            username: "nguyen.van.an@tinh.gov.vn".into(),
            token: "abc123".into(),
            expires_at: "2026-12-05T10:00:00Z".parse().unwrap(),
        })
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

    #[test]
    fn a_notice_by_mail_links_to_its_page_and_keeps_to_the_site() {
        let notice = Params::Notice(NoticeParams {
            display_name: "Trần Thị B".into(),
            title: "Báo cáo bị trả lại: <BC01>".into(),
            body: "Dòng một\nDòng hai".into(),
            link: "/reports/BC01/26734/202611".into(),
        });
        let stored = notice.to_json();
        assert_eq!(Params::parse(Template::Notice, &stored).unwrap(), notice);
        assert!(Params::parse(Template::Activation, &stored).is_err(), "a notice is not read as a link");
        let m = render(Template::Notice, &notice, "https://baocao.tinh.gov.vn/");
        assert_eq!(m.subject, "Báo cáo bị trả lại: <BC01>");
        assert!(m.text.contains("Xem chi tiết: https://baocao.tinh.gov.vn/reports/BC01/26734/202611"), "{}", m.text);
        assert!(m.html.contains("&lt;BC01&gt;") && m.html.contains("Dòng một<br>Dòng hai"), "{}", m.html);
    }
}
