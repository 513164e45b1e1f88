//! Extractors whose rejections are art28 errors (JSON with a stable code), not axum's
//! plain-text defaults: [`ApiJson`] and [`TomlBody`] for bodies, [`Path`] and [`Query`] for
//! the URL. Handlers take these, never axum's own (a test in the server's suite checks), so
//! every malformed request gets the API's error form.

use crate::error::ApiError;
use aide::OperationInput;
use aide::generate::GenContext;
use aide::openapi::{MediaType, Operation, RequestBody};
use art28_core::ErrorCode;
use axum::body::Bytes;
use axum::extract::FromRequestParts;
use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use schemars::JsonSchema;
use serde::de::DeserializeOwned;

/// JSON body.
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let json = req
            .headers()
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.split(';').next().unwrap_or(v).trim().to_ascii_lowercase())
            .is_some_and(|ct| ct == "application/json" || (ct.starts_with("application/") && ct.ends_with("+json")));
        if !json {
            return Err(ApiError::new(
                ErrorCode::BadRequest,
                "send the body as JSON, with `Content-Type: application/json`",
            ));
        }
        let bytes = match Bytes::from_request(req, state).await {
            Ok(b) => b,
            Err(BytesRejection::FailedToBufferBody(e)) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                return Err(ApiError::new(
                    ErrorCode::PayloadTooLarge,
                    "the request body is too large",
                ));
            }
            Err(e) => return Err(ApiError::new(ErrorCode::BadRequest, e.body_text())),
        };
        // serde takes the last of two equal keys in a map (and a `Value`) silently; a body that
        // says one thing twice is refused instead, whatever the type it is read into.
        if let Err(e) = serde_json::from_slice::<UniqueKeys>(&bytes) {
            return Err(ApiError::new(
                ErrorCode::BadRequest,
                format!("the body is not valid JSON: {e}"),
            ));
        }
        match axum::Json::<T>::from_bytes(&bytes) {
            Ok(axum::Json(v)) => Ok(Self(v)),
            Err(e) => Err(ApiError::new(ErrorCode::BadRequest, e.body_text())),
        }
    }
}

/// A JSON value read only to check that no object in it names a key twice.
struct UniqueKeys;

impl<'de> serde::Deserialize<'de> for UniqueKeys {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(UniqueKeysVisitor)
    }
}

struct UniqueKeysVisitor;

impl<'de> serde::de::Visitor<'de> for UniqueKeysVisitor {
    type Value = UniqueKeys;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<UniqueKeys, E> {
        Ok(UniqueKeys)
    }

    fn visit_i64<E>(self, _: i64) -> Result<UniqueKeys, E> {
        Ok(UniqueKeys)
    }

    fn visit_u64<E>(self, _: u64) -> Result<UniqueKeys, E> {
        Ok(UniqueKeys)
    }

    fn visit_f64<E>(self, _: f64) -> Result<UniqueKeys, E> {
        Ok(UniqueKeys)
    }

    fn visit_str<E>(self, _: &str) -> Result<UniqueKeys, E> {
        Ok(UniqueKeys)
    }

    fn visit_unit<E>(self) -> Result<UniqueKeys, E> {
        Ok(UniqueKeys)
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<UniqueKeys, A::Error> {
        while seq.next_element::<UniqueKeys>()?.is_some() {}
        Ok(UniqueKeys)
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<UniqueKeys, A::Error> {
        let mut keys = std::collections::HashSet::new();
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            if !keys.insert(key.clone()) {
                let shown: String = key.chars().take(80).collect();
                return Err(serde::de::Error::custom(format!(
                    "the key `{shown}` appears twice in one object"
                )));
            }
            map.next_value::<UniqueKeys>()?;
        }
        Ok(UniqueKeys)
    }
}

impl<T: JsonSchema> OperationInput for ApiJson<T> {
    fn operation_input(ctx: &mut GenContext, operation: &mut Operation) {
        axum::Json::<T>::operation_input(ctx, operation);
    }
}

/// A TOML document as the body (`Content-Type: application/toml`, or none).
#[derive(Debug)]
pub struct TomlBody(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for TomlBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let content_type = req
            .headers()
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.split(';').next().unwrap_or(v).trim().to_ascii_lowercase());
        if let Some(ct) = content_type.as_deref()
            && !matches!(
                ct,
                "application/toml" | "text/plain" | "text/toml" | "application/octet-stream"
            )
        {
            return Err(ApiError::new(
                ErrorCode::BadRequest,
                format!("send the agreement as application/toml, not {ct}"),
            ));
        }
        match Bytes::from_request(req, state).await {
            Ok(b) => Ok(Self(b)),
            Err(BytesRejection::FailedToBufferBody(e)) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => Err(
                ApiError::new(ErrorCode::PayloadTooLarge, "the request body is too large"),
            ),
            Err(e) => Err(ApiError::new(ErrorCode::BadRequest, e.body_text())),
        }
    }
}

impl OperationInput for TomlBody {
    fn operation_input(_ctx: &mut GenContext, operation: &mut Operation) {
        operation.request_body = Some(aide::openapi::ReferenceOr::Item(RequestBody {
            description: Some(
                "A processor agreement in the art28 TOML format (see docs/agreement.schema.json).".into(),
            ),
            content: [("application/toml".to_string(), MediaType::default())]
                .into_iter()
                .collect(),
            required: true,
            extensions: Default::default(),
        }));
    }
}

/// Path parameters (axum's `Path`, with the API's error form): a parameter that does not parse,
/// such as an id out of its range, is `400 bad_request` naming it.
#[derive(Debug)]
pub struct Path<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for Path<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(v)) => Ok(Self(v)),
            Err(PathRejection::FailedToDeserializePathParams(e)) => {
                Err(ApiError::new(ErrorCode::BadRequest, e.body_text()))
            }
            Err(e) => {
                tracing::error!(error = %e.body_text(), "path parameters missing for a route");
                Err(ApiError::new(
                    ErrorCode::Internal,
                    "the route's parameters were not found",
                ))
            }
        }
    }
}

impl<T: JsonSchema> OperationInput for Path<T> {
    fn operation_input(ctx: &mut GenContext, operation: &mut Operation) {
        axum::extract::Path::<T>::operation_input(ctx, operation);
    }
}

/// The query string (axum's `Query`, with the API's error form).
#[derive(Debug)]
pub struct Query<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Query(v)| Self(v))
            .map_err(|e| ApiError::new(ErrorCode::BadRequest, e.body_text()))
    }
}

impl<T: JsonSchema> OperationInput for Query<T> {
    fn operation_input(ctx: &mut GenContext, operation: &mut Operation) {
        axum::extract::Query::<T>::operation_input(ctx, operation);
    }
}

/// A document as the raw body, of any content type (a signed contract), within the server's
/// body limit.
#[derive(Debug)]
pub struct RawBody(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for RawBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, _state: &S) -> Result<Self, Self::Rejection> {
        // A signed contract is larger than the requests the server's body limit is set for: it
        // has a limit of its own (the service's largest contract, plus one byte so that one
        // over it is refused by the service's rule, with its message).
        let limit = art28_service::subprocessors::MAX_CONTRACT + 1;
        let too_large = || ApiError::new(ErrorCode::PayloadTooLarge, "the request body is too large");
        let declared = req
            .headers()
            .get(axum::http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|n| n > limit as u64) {
            return Err(too_large());
        }
        match axum::body::to_bytes(req.into_body(), limit).await {
            Ok(b) => Ok(Self(b)),
            // A body sent without its length that runs over the limit.
            Err(e) if e.to_string().contains("length limit") => Err(too_large()),
            Err(_) => Err(ApiError::new(
                ErrorCode::BadRequest,
                "the request body could not be read",
            )),
        }
    }
}

impl OperationInput for RawBody {
    fn operation_input(_ctx: &mut GenContext, operation: &mut Operation) {
        operation.request_body = Some(aide::openapi::ReferenceOr::Item(RequestBody {
            description: Some("The document itself, of any type (e.g. the signed PDF).".into()),
            content: [("application/octet-stream".to_string(), MediaType::default())]
                .into_iter()
                .collect(),
            required: true,
            extensions: Default::default(),
        }));
    }
}
