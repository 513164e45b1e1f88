//! Who is calling.
//!
//! Until individual accounts arrive, the API knows one credential: the operator token, made
//! at first start and written to `operator.token` in the data directory (mode 0600). Only its
//! SHA-256 is kept in memory; it is never logged. Every `/api/v1` route requires it, reads
//! included, so nothing about a customer is readable without authentication. A refused attempt
//! on an existing customer's route is written to the access log with the rule that refused.

use crate::error::ApiError;
use crate::state::AppState;
use aide::OperationInput;
use aide::generate::GenContext;
use aide::openapi::{Operation, SecurityRequirement};
use art28_core::access::Actor;
use art28_core::ids::CustomerId;
use art28_core::{Error, ErrorCode};
use art28_service::access::{Access, RequestContext, log_refusal};
use axum::extract::{ConnectInfo, FromRequestParts, MatchedPath, RawPathParams};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use sha2::{Digest, Sha256};
use std::net::SocketAddr;

/// The caller presented the operator token; carries the request's context for the log.
#[derive(Debug, Clone)]
pub struct Operator {
    /// Who, from where, which request.
    pub ctx: RequestContext,
}

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
        self.0.iter().zip(other.0.iter()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
    }
}

/// Request id and client address, whoever the caller is.
pub fn context(parts: &Parts, actor: Actor) -> RequestContext {
    RequestContext {
        actor,
        on_behalf_of: None,
        request_id: parts
            .headers
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string),
        client: parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip().to_string()),
        purpose: None,
        reference: None,
    }
}

/// The operation a route performs, as named in the access log.
pub fn operation_of(method: &axum::http::Method, route: &str) -> &'static str {
    match (method.as_str(), route) {
        ("GET", "/api/v1/customers/{customer}") => "customer.read",
        ("GET", "/api/v1/customers/{customer}/agreements") => "agreement.history",
        ("GET", "/api/v1/customers/{customer}/agreement") => "agreement.read",
        ("GET", "/api/v1/customers/{customer}/agreement/document") => "agreement.render",
        ("GET", "/api/v1/customers/{customer}/log") | ("GET", "/api/v1/customers/{customer}/log/bundle") => "log.read",
        ("POST", "/api/v1/agreements") => "agreement.record",
        ("POST", "/api/v1/customers") => "customer.create",
        _ => "api.request",
    }
}

impl FromRequestParts<AppState> for Operator {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let header = parts.headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok());
        let token = header
            .and_then(|h| h.strip_prefix("Bearer "))
            .map(str::trim)
            .unwrap_or_default();
        if !token.is_empty() && state.operator.matches(token) {
            return Ok(Operator {
                ctx: context(parts, Actor::operator()),
            });
        }
        let error = Error::new(
            ErrorCode::AuthenticationRequired,
            if header.is_none() {
                "send `Authorization: Bearer <token>`"
            } else {
                "the bearer token is not valid"
            },
        );
        tracing::warn!(path = %parts.uri.path(), "refused an API call without a valid token");
        Err(ApiError(log_unauthenticated(parts, state, error).await))
    }
}

/// Log a refused attempt on a route of an existing customer; other refusals (unknown
/// customers, routes without a customer) are only in the server log, so strangers cannot
/// fill the access log.
async fn log_unauthenticated(parts: &mut Parts, state: &AppState, error: Error) -> Error {
    let route = parts
        .extensions
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string())
        .unwrap_or_default();
    let Ok(params) = RawPathParams::from_request_parts(parts, state).await else {
        return error;
    };
    let Some(tenant) = params
        .iter()
        .find(|(k, _)| *k == "customer")
        .and_then(|(_, v)| v.parse::<CustomerId>().ok())
    else {
        return error;
    };
    if !matches!(state.store.customer(&tenant).await, Ok(Some(_))) {
        return error;
    }
    let access = Access {
        tenant: Some(&tenant),
        operation: operation_of(&parts.method, &route),
        resource: parts.uri.path().trim_start_matches("/api/v1/").to_string(),
    };
    log_refusal(
        state.store.as_ref(),
        state.clock.as_ref(),
        &context(parts, Actor::anonymous()),
        access,
        error,
    )
    .await
}

impl OperationInput for Operator {
    fn operation_input(_ctx: &mut GenContext, operation: &mut Operation) {
        let requirement: SecurityRequirement = [("bearer".to_string(), Vec::new())].into_iter().collect();
        if !operation.security.contains(&requirement) {
            operation.security.push(requirement);
        }
    }
}
