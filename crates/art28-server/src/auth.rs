//! Who is calling.
//!
//! Until individual accounts arrive, the API knows one credential: the operator token, made
//! at first start and written to `operator.token` in the data directory (mode 0600). Only its
//! SHA-256 is kept in memory; it is never logged. Every `/api/v1` route requires it, reads
//! included, so nothing about a customer is readable without authentication.

use crate::error::ApiError;
use crate::state::AppState;
use aide::OperationInput;
use aide::generate::GenContext;
use aide::openapi::{Operation, SecurityRequirement};
use art28_core::ErrorCode;
use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use sha2::{Digest, Sha256};

/// Proof that the caller presented the operator token.
#[derive(Debug, Clone, Copy)]
pub struct Operator;

/// The digest of the operator token.
#[derive(Clone)]
pub struct TokenDigest(pub [u8; 32]);

impl std::fmt::Debug for TokenDigest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenDigest(..)")
    }
}

impl TokenDigest {
    /// Digest of a token.
    pub fn of(token: &str) -> Self {
        Self(Sha256::digest(token.as_bytes()).into())
    }

    /// Compare in constant time.
    fn matches(&self, token: &str) -> bool {
        let other = Self::of(token);
        self.0
            .iter()
            .zip(other.0.iter())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
    }
}

impl FromRequestParts<AppState> for Operator {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let header = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok());
        let Some(header) = header else {
            return Err(ApiError::new(
                ErrorCode::AuthenticationRequired,
                "send `Authorization: Bearer <token>`",
            ));
        };
        let token = header
            .strip_prefix("Bearer ")
            .map(str::trim)
            .unwrap_or_default();
        if token.is_empty() || !state.operator.matches(token) {
            tracing::warn!(path = %parts.uri.path(), "rejected API call with an invalid token");
            return Err(ApiError::new(
                ErrorCode::AuthenticationRequired,
                "the bearer token is not valid",
            ));
        }
        Ok(Operator)
    }
}

impl OperationInput for Operator {
    fn operation_input(_ctx: &mut GenContext, operation: &mut Operation) {
        let requirement: SecurityRequirement =
            [("bearer".to_string(), Vec::new())].into_iter().collect();
        if !operation.security.contains(&requirement) {
            operation.security.push(requirement);
        }
    }
}
