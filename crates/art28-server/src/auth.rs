//! Who is calling.
//!
//! Callers present a bearer key: a session key from `POST /api/v1/session`, a machine token,
//! or the operator token (the processor's bootstrap credential, written at first start to
//! `operator.token` in the data directory, mode 0600; only its SHA-256 is kept in memory). Every `/api/v1` route except the login requires one,
//! reads included, so nothing about a customer is readable without authentication. A refused attempt
//! on an existing customer's route is written to the access log with the rule that refused.

use crate::error::ApiError;
use crate::state::AppState;
use aide::OperationInput;
use aide::generate::GenContext;
use aide::openapi::{Operation as DocOperation, SecurityRequirement};
use art28_core::access::{Actor, ActorKind};
use art28_core::auth::{Grant, Permission, Principal, Role, authorize};
use art28_core::ids::CustomerId;
use art28_core::operation::Operation;
use art28_core::{Error, ErrorCode};
use art28_service::access::RequestContext;
use art28_service::records::AccountRecord;
use axum::extract::{ConnectInfo, FromRequestParts, MatchedPath, RawPathParams};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use sha2::{Digest, Sha256};
use std::marker::PhantomData;
use std::net::SocketAddr;

/// An authenticated caller: who (the principal and, for a person, the account) and the
/// request's context for the access log.
#[derive(Debug, Clone)]
pub struct Caller {
    /// Who, from where, which request.
    pub ctx: RequestContext,
    /// The roles held and for whom.
    pub principal: Principal,
    /// The account, for a person or a token (none for the operator token).
    pub account: Option<AccountRecord>,
}

/// The operator token's principal: the bootstrap credential of the processor, with the
/// processor administrator's and security officer's roles, until accounts take over.
fn operator_principal() -> Principal {
    Principal {
        account_id: 0,
        username: "operator".into(),
        grants: [Role::ProcessorAdmin, Role::SecurityOfficer]
            .into_iter()
            .filter_map(|r| Grant::staff(r).ok())
            .collect(),
        token_limit: None,
    }
}

/// The portal's session cookie.
pub const SESSION_COOKIE: &str = "art28_session";
/// The header a cookie-authenticated unsafe request must carry.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The CSRF token of a session: derived from the session key, so nothing more is stored, and
/// unknown to a third-party page that can make the browser send the cookie but cannot read it.
pub fn csrf_token(session_key: &str) -> String {
    hex::encode(Sha256::digest(format!("art28-csrf\n{session_key}").as_bytes()))
}

/// The session key from the cookie, if any.
pub fn session_cookie(headers: &axum::http::HeaderMap) -> Option<String> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|c| {
            let (k, v) = c.trim().split_once('=')?;
            (k == SESSION_COOKIE && !v.is_empty()).then(|| v.to_string())
        })
}

pub(crate) async fn authenticate(
    parts: &mut Parts,
    state: &AppState,
    allow_pending_change: bool,
) -> Result<Caller, ApiError> {
    let header = parts.headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok());
    let cookie = if header.is_none() {
        session_cookie(&parts.headers)
    } else {
        None
    };
    if let Some(key) = &cookie
        && !parts.method.is_safe()
    {
        let sent = parts
            .headers
            .get(CSRF_HEADER)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        let expected = csrf_token(key);
        if !equal_in_constant_time(sent.as_bytes(), expected.as_bytes()) {
            return Err(ApiError::new(
                ErrorCode::PermissionDenied,
                "a request with the session cookie must carry the x-csrf-token header",
            ));
        }
    }
    let token = header
        .and_then(|h| h.strip_prefix("Bearer "))
        .map(str::trim)
        .or(cookie.as_deref())
        .unwrap_or_default();
    if !token.is_empty() && state.operator.matches(token) {
        return Ok(Caller {
            ctx: context(parts, Actor::operator()),
            principal: operator_principal(),
            account: None,
        });
    }
    let error = if token.is_empty() {
        Error::new(
            ErrorCode::AuthenticationRequired,
            if header.is_none() {
                "send `Authorization: Bearer <token>`"
            } else {
                "the bearer token is not valid"
            },
        )
    } else {
        match state.accounts.authenticate(token, allow_pending_change).await {
            Ok((account, principal)) => {
                let kind = if principal.token_limit.is_some() {
                    ActorKind::Token
                } else {
                    ActorKind::User
                };
                let actor = Actor {
                    kind,
                    id: account.username.clone(),
                };
                let mut ctx = context(parts, actor);
                ctx.on_behalf_of = account.tenant.clone();
                return Ok(Caller {
                    ctx,
                    principal,
                    account: Some(account),
                });
            }
            Err(e) => e,
        }
    };
    tracing::warn!(path = %parts.uri.path(), code = %error.code, "refused an API call without valid credentials");
    Err(ApiError(log_unauthenticated(parts, state, error).await))
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        authenticate(parts, state, false).await
    }
}

/// A caller whose account may still have to change its password (for the change itself).
#[derive(Debug, Clone)]
pub struct PendingCaller(pub Caller);

impl FromRequestParts<AppState> for PendingCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        authenticate(parts, state, true).await.map(PendingCaller)
    }
}

/// A permission a handler requires, named in its signature: `Authorized<perm::AgreementsRead>`.
pub trait Needs: Send + Sync + 'static {
    /// The permission.
    const PERMISSION: Permission;
}

/// Permission markers for handler signatures.
pub mod perm {
    use super::{Needs, Permission};
    macro_rules! needs {
        ($($name:ident),*) => {$(
            #[doc = concat!("Requires `", stringify!($name), "`.")]
            #[derive(Debug, Clone, Copy)]
            pub struct $name;
            impl Needs for $name {
                const PERMISSION: Permission = Permission::$name;
            }
        )*};
    }
    needs!(
        CustomersRead,
        CustomersManage,
        AgreementsRead,
        AgreementsManage,
        LogRead,
        AccountsRead,
        AccountsManage,
        SecurityEventsRead,
        TokensManage,
        AccessGrantsRequest,
        AccessGrantsRead,
        LegalHoldManage,
        KeysManage,
        IncidentsReport,
        IncidentsRead,
        IncidentsManage,
        NoticesAcknowledge,
        WebhooksManage
    );
}

/// A caller authorized for `N` on the customer named in the path (`{customer}`), or across
/// all customers when the path names none. A refusal for an existing customer is written to
/// its access log with the rule that refused.
#[derive(Debug, Clone)]
pub struct Authorized<N: Needs> {
    /// The caller.
    pub caller: Caller,
    _need: PhantomData<N>,
}

impl<N: Needs> std::ops::Deref for Authorized<N> {
    type Target = Caller;
    fn deref(&self) -> &Caller {
        &self.caller
    }
}

impl<N: Needs> FromRequestParts<AppState> for Authorized<N> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let caller = authenticate(parts, state, false).await?;
        let tenant = path_tenant(parts, state).await;
        if let Err(e) = authorize(&caller.principal, N::PERMISSION, tenant.as_ref()) {
            return Err(ApiError(log_route_refusal(parts, state, &caller.ctx, e).await));
        }
        Ok(Authorized {
            caller,
            _need: PhantomData,
        })
    }
}

/// The `{customer}` path parameter, if the route has one and it is a valid id.
async fn path_tenant(parts: &mut Parts, state: &AppState) -> Option<CustomerId> {
    let params = RawPathParams::from_request_parts(parts, state).await.ok()?;
    params
        .iter()
        .find(|(k, _)| *k == "customer")
        .and_then(|(_, v)| v.parse().ok())
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
        equal_in_constant_time(&self.0, &Self::of(token).0)
    }
}

/// Whether two byte strings are equal, taking the same time wherever they differ (the length
/// is not secret here: both sides are digests or tokens of a fixed length).
pub(crate) fn equal_in_constant_time(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
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

/// The operation a route performs, for refusals recorded before its handler runs.
pub fn operation_of(method: &axum::http::Method, route: &str) -> Operation {
    match (method.as_str(), route) {
        ("GET", "/api/v1/customers/{customer}") => Operation::CustomerRead,
        ("GET", "/api/v1/customers/{customer}/agreements") => Operation::AgreementHistory,
        ("GET", "/api/v1/customers/{customer}/agreement") => Operation::AgreementRead,
        ("GET", "/api/v1/customers/{customer}/agreement/document") => Operation::AgreementRender,
        ("GET", "/api/v1/customers/{customer}/log") | ("GET", "/api/v1/customers/{customer}/log/bundle") => {
            Operation::LogRead
        }
        ("POST", "/api/v1/agreements") => Operation::AgreementRecord,
        ("POST", "/api/v1/customers") => Operation::CustomerCreate,
        ("GET", "/api/v1/customers/{customer}/tokens") => Operation::TokenList,
        ("POST", "/api/v1/customers/{customer}/tokens") => Operation::TokenCreate,
        ("DELETE", "/api/v1/customers/{customer}/tokens/{token}") => Operation::TokenRevoke,
        ("GET", "/api/v1/customers/{customer}/access-grants") => Operation::AccessGrantList,
        ("POST", "/api/v1/customers/{customer}/access-grants") => Operation::AccessGrantRequest,
        ("GET", "/api/v1/customers/{customer}/vault/legal-holds") => Operation::LegalHoldList,
        ("GET", "/api/v1/customers/{customer}/vault/collections") => Operation::CollectionList,
        _ => Operation::ApiRequest,
    }
}

/// Log a refused attempt on a route of an existing customer; other refusals (unknown
/// customers, routes without a customer) are only in the server log, so strangers cannot
/// fill the access log.
async fn log_unauthenticated(parts: &mut Parts, state: &AppState, error: Error) -> Error {
    let ctx = context(parts, Actor::anonymous());
    log_route_refusal(parts, state, &ctx, error).await
}

/// Write a refusal on a route of an existing customer (the `{customer}` in the path) to that
/// customer's access log, naming the route's operation; hand the error back either way.
async fn log_route_refusal(parts: &mut Parts, state: &AppState, ctx: &RequestContext, error: Error) -> Error {
    let tenant = path_tenant(parts, state).await;
    let route = parts
        .extensions
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string())
        .unwrap_or_default();
    let operation = operation_of(&parts.method, &route);
    let resource = parts.uri.path().trim_start_matches("/api/v1/").to_string();
    state
        .log
        .refused(ctx, tenant.as_ref(), operation, resource, error)
        .await
}

impl OperationInput for Caller {
    fn operation_input(_ctx: &mut GenContext, operation: &mut DocOperation) {
        let requirement: SecurityRequirement = [("bearer".to_string(), Vec::new())].into_iter().collect();
        if !operation.security.contains(&requirement) {
            operation.security.push(requirement);
        }
    }
}

impl OperationInput for PendingCaller {
    fn operation_input(ctx: &mut GenContext, operation: &mut DocOperation) {
        Caller::operation_input(ctx, operation);
    }
}

impl<N: Needs> OperationInput for Authorized<N> {
    fn operation_input(ctx: &mut GenContext, operation: &mut DocOperation) {
        Caller::operation_input(ctx, operation);
        let line = format!("Requires the permission `{}`.", N::PERMISSION);
        match &mut operation.description {
            Some(d) if !d.contains(&line) => d.push_str(&format!(" {line}")),
            None => operation.description = Some(line),
            _ => {}
        }
    }
}

/// The client's network address, where known (for security events).
#[derive(Debug, Clone)]
pub struct ClientAddr(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientAddr(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0.ip().to_string()),
        ))
    }
}

impl OperationInput for ClientAddr {}
