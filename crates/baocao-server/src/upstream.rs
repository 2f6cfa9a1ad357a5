//! Sends approved reports upward (gửi lên cấp trên): a worker `serve`
//! starts, which claims one delivery at a time from the database (so that
//! several processes never send the same one at once), posts the report's
//! dataValueSet and its completeness registration to the upstream's DHIS2
//! Web API, and records the answer: taken (with the upstream's import
//! summary), tried again later with a growing wait when the upstream is
//! down or busy, or refused until an administrator sends it again.
//!
//! Each request carries an `Idempotency-Key` made of the delivery's number:
//! a receiver that keeps keys (baocao does) answers a repeat with its first
//! answer, and either way the values sent again are the same values, so
//! nothing is doubled.

use std::time::Duration as StdDuration;

use baocao_core::upstream::{Auth, Link, Verdict, data_value_set, judge, registration};
use baocao_store::Db;
use baocao_store::upstream::{ClaimedDelivery, Settled};
use chrono::Utc;

/// How often an idle worker looks for due deliveries.
const POLL: StdDuration = StdDuration::from_secs(2);

/// The most of an upstream's answer kept with a delivery.
const KEPT_ANSWER: usize = 16 * 1024;

/// Starts the worker on the runtime.
pub fn spawn(db: Db) -> tokio::task::JoinHandle<()> {
    let client = client(StdDuration::from_secs(60));
    tokio::spawn(async move {
        loop {
            match db.claim_delivery(Utc::now()).await {
                Ok(Some(delivery)) => deliver(&db, &client, delivery).await,
                Ok(None) => tokio::time::sleep(POLL).await,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot read the upstream deliveries");
                    tokio::time::sleep(POLL).await;
                }
            }
        }
    })
}

async fn deliver(db: &Db, client: &reqwest::Client, delivery: ClaimedDelivery) {
    let id = delivery.id;
    let settled = send(client, &delivery).await;
    let outcome = match &settled {
        Outcome::Superseded => Settled::Superseded,
        Outcome::Sent { status, body } => Settled::Sent { http_status: *status, summary: body },
        Outcome::Retry { error, status } => Settled::Retry {
            error,
            http_status: *status,
            retry_at: Utc::now() + delivery.link.retry_after(delivery.attempts),
        },
        Outcome::Refused { error, status, body } => {
            Settled::Refused { error, http_status: *status, summary: body.as_deref() }
        }
    };
    match &settled {
        Outcome::Sent { .. } => tracing::info!(id, link = %delivery.link.code, "report sent upward"),
        Outcome::Superseded => tracing::info!(id, "report reopened before it was sent upward"),
        Outcome::Retry { error, .. } => tracing::warn!(id, %error, "upstream unavailable; trying again later"),
        Outcome::Refused { error, .. } => tracing::warn!(id, %error, "upstream refused a report"),
    }
    if let Err(e) = db.settle_delivery(id, outcome).await {
        tracing::error!(id, error = %e, "cannot record the outcome of a delivery");
    }
}

enum Outcome {
    Superseded,
    Sent { status: u16, body: String },
    Retry { error: String, status: Option<u16> },
    Refused { error: String, status: Option<u16>, body: Option<String> },
}

async fn send(client: &reqwest::Client, delivery: &ClaimedDelivery) -> Outcome {
    let Some(report) = &delivery.report else { return Outcome::Superseded };
    let link = &delivery.link;
    let sending = report.sending();
    let (Some(values), Some(complete)) = (data_value_set(link, &sending), registration(link, &sending)) else {
        return Outcome::Refused {
            error: format!("liên kết {} không còn nhận chế độ {}", link.code, report.regime),
            status: None,
            body: None,
        };
    };
    let secret = match baocao_ingest::upstream::secret(link) {
        Ok(secret) => secret,
        Err(error) => return Outcome::Retry { error, status: None },
    };
    let values = post(client, link, &secret, "dataValueSets", &values, delivery.id).await;
    let Outcome::Sent { body: summary, .. } = values else { return values };
    match post(client, link, &secret, "completeDataSetRegistrations", &complete, delivery.id).await {
        // What is kept is the values' import summary: it says what the
        // upstream did with the figures.
        Outcome::Sent { status, .. } => Outcome::Sent { status, body: summary },
        other => other,
    }
}

async fn post(
    client: &reqwest::Client,
    link: &Link,
    secret: &str,
    resource: &str,
    body: &serde_json::Value,
    id: i64,
) -> Outcome {
    let url = format!("{}/{resource}", link.url.trim_end_matches('/'));
    let request = client
        .post(&url)
        .header("idempotency-key", format!("baocao-upstream-{}-{id}-{resource}", link.code))
        .json(body);
    let request = authorized(request, link.auth, secret);
    let response = match request.send().await {
        Ok(response) => response,
        Err(e) => {
            return Outcome::Retry {
                error: format!("không kết nối được cấp trên ({url}): {e}"), status: None
            };
        }
    };
    let status = response.status().as_u16();
    let mut text = response.text().await.unwrap_or_default();
    if text.len() > KEPT_ANSWER {
        let mut cut = KEPT_ANSWER;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
    }
    match judge(status, &text) {
        Verdict::Taken { .. } => Outcome::Sent { status, body: text },
        Verdict::Retry(error) => Outcome::Retry { error: format!("{resource}: {error}"), status: Some(status) },
        Verdict::Refused(error) => {
            Outcome::Refused { error: format!("{resource}: {error}"), status: Some(status), body: Some(text) }
        }
    }
}

/// `request` signed in as `auth` says, with `secret` read from the
/// environment.
pub(crate) fn authorized(request: reqwest::RequestBuilder, auth: Auth, secret: &str) -> reqwest::RequestBuilder {
    match auth {
        Auth::Bearer => request.bearer_auth(secret),
        Auth::ApiToken => request.header("authorization", format!("ApiToken {secret}")),
        Auth::Basic => {
            let (user, password) = secret.split_once(':').unwrap_or((secret, ""));
            request.basic_auth(user, Some(password))
        }
    }
}

/// The HTTP client of the workers that call other systems, giving up a
/// call after `timeout`. A system that redirects is not followed: the key
/// would go wherever the redirect says.
pub(crate) fn client(timeout: StdDuration) -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(StdDuration::from_secs(10))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("an HTTP client with default TLS settings builds")
}
