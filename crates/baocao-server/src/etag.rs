//! Conditional reads (RFC 9110 §13): a JSON answer tagged with the hash of
//! its body, and 304 Not Modified when the asker already holds that body.
//!
//! The tag is computed from what would be sent, so it changes exactly when
//! the answer does (a value, a computed column, a step of the history),
//! whatever caused the change; no revision counter has to be kept in step.

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use sha2::{Digest, Sha256};

/// `value` as JSON with its `ETag`, or 304 when `If-None-Match` names it.
pub fn answer<T: Serialize>(headers: &HeaderMap, value: &T) -> Response {
    let body = serde_json::to_vec(value).expect("plain data serializes");
    let digest = format!("{:x}", Sha256::digest(&body));
    let tag = format!("\"{}\"", &digest[..32]);
    let tag_header = HeaderValue::from_str(&tag).expect("hex in quotes is a header value");
    if matches(headers, &tag) {
        return (StatusCode::NOT_MODIFIED, [(header::ETAG, tag_header)]).into_response();
    }
    ([(header::ETAG, tag_header), (header::CONTENT_TYPE, HeaderValue::from_static("application/json"))], body)
        .into_response()
}

/// Whether `If-None-Match` names `tag` (weak comparison, as the RFC asks
/// for this header: `W/"x"` matches `"x"`), or is `*`.
fn matches(headers: &HeaderMap, tag: &str) -> bool {
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|list| list.split(',').map(str::trim).any(|t| t == "*" || t.strip_prefix("W/").unwrap_or(t) == tag))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn asked(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::IF_NONE_MATCH, HeaderValue::from_str(value).unwrap());
        headers
    }

    #[test]
    fn a_tag_named_among_others_or_weakly_matches() {
        assert!(matches(&asked("\"b\", W/\"a\""), "\"a\""));
        assert!(matches(&asked("*"), "\"a\""));
        assert!(!matches(&asked("\"ab\""), "\"a\""));
        assert!(!matches(&HeaderMap::new(), "\"a\""));
    }

    #[test]
    fn the_same_body_is_not_sent_twice() {
        let first = answer(&HeaderMap::new(), &[1, 2, 3]);
        assert_eq!(first.status(), StatusCode::OK);
        let tag = first.headers()[header::ETAG].to_str().unwrap().to_string();
        assert_eq!(answer(&asked(&tag), &[1, 2, 3]).status(), StatusCode::NOT_MODIFIED);
        assert_eq!(answer(&asked(&tag), &[1, 2, 4]).status(), StatusCode::OK);
    }
}
