//! What a request names (its path, its query, its form or JSON body), read
//! as axum reads it, and refused in the asker's language: JSON for the API,
//! SCIM's error format under `/scim/`, a Vietnamese page elsewhere (axum's
//! own refusals are English plain text).

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::response::Response;
use serde::de::DeserializeOwned;

use crate::respond::refuse;

/// [`axum::extract::Query`], refused in the asker's language.
pub struct Query<T>(pub T);

/// [`axum::extract::Path`], refused in the asker's language.
pub struct Path<T>(pub T);

/// [`axum::extract::Form`], refused in the asker's language.
pub struct Form<T>(pub T);

/// [`axum::Json`] as a request body, refused in the asker's language.
pub struct JsonBody<T>(pub T);

fn refused(path: &str, status: axum::http::StatusCode, what: &str, detail: String) -> Response {
    refuse(path, status, &format!("{what} không hợp lệ: {detail}"))
}

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for Query<T> {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Response> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(value)) => Ok(Query(value)),
            Err(r) => Err(refused(parts.uri.path(), r.status(), "Tham số (query)", r.body_text())),
        }
    }
}

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for Path<T> {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Response> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => Ok(Path(value)),
            Err(r) => Err(refused(parts.uri.path(), r.status(), "Đường dẫn (path)", r.body_text())),
        }
    }
}

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Form<T> {
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Response> {
        let path = req.uri().path().to_string();
        match axum::extract::Form::<T>::from_request(req, state).await {
            Ok(axum::extract::Form(value)) => Ok(Form(value)),
            Err(r) => Err(refused(&path, r.status(), "Biểu mẫu (form)", r.body_text())),
        }
    }
}

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for JsonBody<T> {
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Response> {
        let path = req.uri().path().to_string();
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(JsonBody(value)),
            Err(r) => Err(refused(&path, r.status(), "Dữ liệu JSON", r.body_text())),
        }
    }
}
