//! Request body extractors whose rejections are art28 errors (JSON with a stable code),
//! not axum's plain-text defaults.

use crate::error::ApiError;
use aide::OperationInput;
use aide::generate::GenContext;
use aide::openapi::{MediaType, Operation, RequestBody};
use art28_core::ErrorCode;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, JsonRejection};
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use schemars::JsonSchema;
use serde::de::DeserializeOwned;

/// JSON body.
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(Self(v)),
            Err(JsonRejection::BytesRejection(e)) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => Err(ApiError::new(
                ErrorCode::PayloadTooLarge,
                "the request body is too large",
            )),
            Err(e) => Err(ApiError::new(ErrorCode::BadRequest, e.body_text())),
        }
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
