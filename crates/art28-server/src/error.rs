//! The single mapping from art28 errors to HTTP responses.
//!
//! Clients get `{"error": {"code", "message", "details"}}` with a status chosen by the error's
//! kind; causes stay in the server log (the store logs them where they happen).

use aide::OperationOutput;
use aide::generate::GenContext;
use aide::openapi::{MediaType, Operation, Response as DocResponse, SchemaObject};
use art28_core::{Error, ErrorCode, ErrorKind};
use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use schemars::JsonSchema;
use serde::Serialize;

/// An error on its way to a client.
#[derive(Debug)]
pub struct ApiError(pub Error);

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        Self(e)
    }
}

impl ApiError {
    /// Make one from a code and message.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self(Error::new(code, message))
    }
}

/// Body of every error response.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// What went wrong.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ErrorDetail {
    /// Stable code, e.g. `customer_not_found` or `permission_denied`.
    pub code: String,
    /// Short message for people.
    pub message: String,
    /// Itemised findings, e.g. one per problem in an agreement; absent when there are none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub details: Vec<String>,
}

/// An error answer with a status and code of the router's own (`method_not_allowed`,
/// `uri_too_long`), which no [`ErrorCode`] kind maps to.
pub fn router_error(status: StatusCode, code: &str, message: String) -> Response {
    (
        status,
        Json(ErrorBody {
            error: ErrorDetail {
                code: code.to_string(),
                message,
                details: Vec::new(),
            },
        }),
    )
        .into_response()
}

/// The HTTP status for an error kind.
pub fn status(kind: ErrorKind) -> StatusCode {
    match kind {
        ErrorKind::Invalid => StatusCode::BAD_REQUEST,
        ErrorKind::Unauthenticated => StatusCode::UNAUTHORIZED,
        ErrorKind::Refused => StatusCode::FORBIDDEN,
        ErrorKind::NotFound => StatusCode::NOT_FOUND,
        ErrorKind::Conflict => StatusCode::CONFLICT,
        ErrorKind::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        ErrorKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        ErrorKind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let e = self.0;
        let kind = e.kind();
        if kind == ErrorKind::Internal {
            tracing::warn!(code = %e.code, "internal error returned to client");
        }
        let body = ErrorBody {
            error: ErrorDetail {
                code: e.code.as_str().to_string(),
                message: e.message,
                details: e.details,
            },
        };
        let mut response = (status(kind), Json(body)).into_response();
        if kind == ErrorKind::Unauthenticated {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"art28\""),
            );
        }
        response
    }
}

impl OperationOutput for ApiError {
    type Inner = ErrorBody;

    fn operation_response(ctx: &mut GenContext, _operation: &mut Operation) -> Option<DocResponse> {
        let schema = ctx.schema.subschema_for::<ErrorBody>();
        Some(DocResponse {
            description: "An error with a stable code.".into(),
            content: [(
                "application/json".to_string(),
                MediaType {
                    schema: Some(SchemaObject {
                        json_schema: schema,
                        example: None,
                        external_docs: None,
                    }),
                    ..Default::default()
                },
            )]
            .into_iter()
            .collect(),
            ..Default::default()
        })
    }

    fn inferred_responses(ctx: &mut GenContext, operation: &mut Operation) -> Vec<(Option<u16>, DocResponse)> {
        Self::operation_response(ctx, operation)
            .map(|r| vec![(None, r)])
            .unwrap_or_default()
    }
}

/// Result of a handler.
pub type ApiResult<T> = Result<T, ApiError>;
