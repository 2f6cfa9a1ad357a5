//! Sends the outbox's mail through SMTP (lettre): one message at a time,
//! claimed from the database so that several `serve` processes never send
//! the same one, with retries and backoff for passing refusals
//! ([`baocao_core::mail::retry_after`]) and none for permanent ones.

use std::time::Duration as StdDuration;

use baocao_core::mail::{render, retry_after};
use baocao_store::Db;
use baocao_store::outbox::Claimed;
use chrono::Utc;
use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

/// How often an idle worker looks for due messages.
const POLL: StdDuration = StdDuration::from_secs(2);

/// Where and how mail is sent.
#[derive(Clone, Debug)]
pub struct MailSettings {
    /// `smtp://host:25` (plain), `smtp://user:pass@host:587?tls=required`
    /// (STARTTLS), `smtps://user:pass@host:465` (TLS), as lettre reads it.
    pub smtp_url: String,
    /// The sender, e.g. `Hệ thống báo cáo <baocao@tinh.gov.vn>`.
    pub from: String,
    /// The site's address as officials reach it, for the links in mail.
    pub public_url: String,
}

/// Checks the settings and starts the worker on the runtime.
pub fn spawn(db: Db, settings: MailSettings) -> Result<tokio::task::JoinHandle<()>, String> {
    let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(&settings.smtp_url)
        .map_err(|e| format!("địa chỉ máy chủ thư «{}» không dùng được: {e}", redacted(&settings.smtp_url)))?
        .build();
    let from: Mailbox =
        settings.from.parse().map_err(|e| format!("địa chỉ người gửi «{}» không hợp lệ: {e}", settings.from))?;
    Ok(tokio::spawn(async move {
        loop {
            match db.claim_mail(Utc::now()).await {
                Ok(Some(message)) => deliver(&db, &transport, &from, &settings.public_url, message).await,
                Ok(None) => tokio::time::sleep(POLL).await,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot read the outbox");
                    tokio::time::sleep(POLL).await;
                }
            }
        }
    }))
}

/// Connects to the SMTP server of `smtp_url` and greets it, sending
/// nothing: what `baocao doctor` checks.
pub async fn check_server(smtp_url: &str) -> Result<(), String> {
    let transport: AsyncSmtpTransport<Tokio1Executor> = AsyncSmtpTransport::<Tokio1Executor>::from_url(smtp_url)
        .map_err(|e| format!("địa chỉ máy chủ thư «{}» không dùng được: {e}", redacted(smtp_url)))?
        .timeout(Some(StdDuration::from_secs(10)))
        .build();
    match transport.test_connection().await {
        Ok(true) => Ok(()),
        Ok(false) => Err(format!("máy chủ thư {} không trả lời lời chào", redacted(smtp_url))),
        Err(e) => Err(format!("không kết nối được máy chủ thư {}: {e}", redacted(smtp_url))),
    }
}

/// The SMTP address without its password, for messages and pages.
pub fn redacted(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => url.to_string(),
    }
}

async fn deliver(
    db: &Db,
    transport: &AsyncSmtpTransport<Tokio1Executor>,
    from: &Mailbox,
    public_url: &str,
    claimed: Claimed,
) {
    let id = claimed.id;
    let outcome = match compose(from, public_url, &claimed) {
        Ok(message) => transport.send(message).await.map(drop).map_err(|e| (e.to_string(), e.is_permanent())),
        Err(e) => Err((e, true)),
    };
    let recorded = match outcome {
        Ok(()) => {
            tracing::info!(id, template = claimed.template.as_str(), "mail sent");
            db.mail_sent(id, Utc::now()).await
        }
        Err((error, permanent)) => {
            let retry = if permanent { None } else { retry_after(claimed.attempts).map(|d| Utc::now() + d) };
            tracing::warn!(id, %error, permanent, "mail not sent");
            db.mail_not_sent(id, &error, retry).await
        }
    };
    if let Err(e) = recorded {
        tracing::error!(id, error = %e, "cannot record the outcome of a mail");
    }
}

fn compose(from: &Mailbox, public_url: &str, claimed: &Claimed) -> Result<Message, String> {
    let to: Mailbox = claimed
        .recipient
        .parse()
        .map_err(|e| format!("địa chỉ người nhận «{}» không hợp lệ: {e}", claimed.recipient))?;
    let rendered = render(claimed.template, &claimed.params, public_url);
    // One Message-ID per outbox row: a copy sent again by an administrator
    // is recognisably the same message.
    let domain = from.email.domain().to_string();
    Message::builder()
        .from(from.clone())
        .to(to)
        .subject(rendered.subject)
        .message_id(Some(format!("<outbox-{}@{domain}>", claimed.id)))
        .multipart(MultiPart::alternative_plain_html(rendered.text, rendered.html))
        .map_err(|e| format!("không soạn được thư: {e}"))
}
