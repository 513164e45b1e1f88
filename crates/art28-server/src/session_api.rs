//! Logging in and out, changing one's password, accounts, machine tokens, security events and
//! the permission register. Each handler calls one method of
//! [`art28_service::accounts::Accounts`], which judges the call and logs it.

use crate::auth::{Authorized, Caller, ClientAddr, PendingCaller, perm};
use crate::error::{ApiError, ApiResult};
use crate::extract::ApiJson;
use crate::extract::{Path, Query};
use crate::state::AppState;
use art28_core::ErrorCode;
use art28_core::auth::Role;
use art28_core::number::{Bounded, List, PageSize, Position, RowId};
use art28_service::accounts::{self, AccountRequest};
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use schemars::JsonSchema;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};

/// User name and password.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginBody {
    /// User name.
    pub username: String,
    /// Password.
    pub password: String,
}

/// A new session.
#[derive(Debug, Serialize, JsonSchema)]
pub struct SessionView {
    /// The session key, to send as `Authorization: Bearer <token>`; shown only now.
    pub token: String,
    /// When the session ends (RFC 3339).
    pub expires_at: String,
    /// The account's user name.
    pub username: String,
    /// Whether the password must be changed before anything else.
    pub must_change_password: bool,
    /// For the portal: send this in `x-csrf-token` with every change made with the cookie.
    pub csrf_token: String,
}

/// Old and new password.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordBody {
    /// The current password.
    pub old_password: String,
    /// The new password: at least 12 characters and hard to guess.
    pub new_password: String,
}

/// An account to add.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AccountBody {
    /// User name (3–64 of letters, digits, `.`, `-`, `_`, `@`); never reused.
    pub username: String,
    /// Name shown to people.
    pub display_name: String,
    /// Initial password; must be changed at the first login.
    pub password: String,
    /// Role, e.g. `customer_user`, `customer_auditor`, `support_engineer`.
    pub role: String,
    /// The customer, for a customer role.
    pub customer: Option<String>,
}

/// An account, without secrets.
#[derive(Debug, Serialize, JsonSchema)]
pub struct AccountView {
    /// Id, never reused.
    pub id: u64,
    /// User name.
    pub username: String,
    /// Name.
    pub display_name: String,
    /// The customer, for a customer account.
    pub customer: Option<String>,
    /// Disabled.
    pub disabled: bool,
    /// Must change the password.
    pub must_change_password: bool,
    /// Last use (RFC 3339).
    pub last_used_at: Option<String>,
}

impl From<art28_service::records::AccountRecord> for AccountView {
    fn from(a: art28_service::records::AccountRecord) -> Self {
        Self {
            id: a.id,
            username: a.username,
            display_name: a.display_name,
            customer: a.tenant.map(|t| t.to_string()),
            disabled: a.disabled,
            must_change_password: a.must_change_password,
            last_used_at: a.last_used_at.map(|t| t.to_string()),
        }
    }
}

/// Which customer's accounts.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct AccountsQuery {
    /// Customer id; all accounts when absent (staff only).
    pub customer: Option<String>,
}

/// Log in.
pub async fn login(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    ApiJson(body): ApiJson<LoginBody>,
) -> ApiResult<(StatusCode, [(axum::http::HeaderName, String); 1], Json<SessionView>)> {
    let password = SecretString::from(body.password);
    let s = state
        .accounts
        .login(&body.username, &password, client.as_deref())
        .await?;
    let key = secrecy::ExposeSecret::expose_secret(&s.session_key).to_string();
    // The portal's cookie: not readable by scripts, sent only over HTTPS (browsers treat
    // localhost as secure) and never with requests started by other sites.
    let cookie = format!(
        "{}={key}; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age={}",
        crate::auth::SESSION_COOKIE,
        accounts::SESSION_HOURS * 3600
    );
    Ok((
        StatusCode::CREATED,
        [(axum::http::header::SET_COOKIE, cookie)],
        Json(SessionView {
            csrf_token: crate::auth::csrf_token(&key),
            token: key,
            expires_at: s.expires_at.to_string(),
            username: s.account.username,
            must_change_password: s.account.must_change_password,
        }),
    ))
}

/// Log out: end this session and clear the portal's cookie.
pub async fn logout(
    _: PendingCaller,
    State(state): State<AppState>,
    headers: HeaderMap,
) -> ApiResult<(StatusCode, [(axum::http::HeaderName, String); 1])> {
    let bearer = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|h| h.strip_prefix("Bearer "))
        .map(|k| k.trim().to_string());
    if let Some(key) = bearer.or_else(|| crate::auth::session_cookie(&headers)) {
        state.accounts.logout(&key).await?;
    }
    let clear = format!(
        "{}=; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age=0",
        crate::auth::SESSION_COOKIE
    );
    Ok((StatusCode::NO_CONTENT, [(axum::http::header::SET_COOKIE, clear)]))
}

/// Change one's own password; other sessions end.
pub async fn change_password(
    PendingCaller(caller): PendingCaller,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<PasswordBody>,
) -> ApiResult<StatusCode> {
    let account = caller
        .account
        .ok_or_else(|| ApiError::new(ErrorCode::BadRequest, "this credential has no password"))?;
    let (old, new) = (
        SecretString::from(body.old_password),
        SecretString::from(body.new_password),
    );
    state.accounts.change_password(&account, &old, &new).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Add an account with one role.
pub async fn create_account(
    caller: Caller,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<AccountBody>,
) -> ApiResult<(StatusCode, Json<AccountView>)> {
    let role: Role = body.role.parse()?;
    let customer = body.customer.as_deref().map(str::parse).transpose()?;
    let request = AccountRequest {
        username: body.username,
        display_name: body.display_name,
        password: SecretString::from(body.password),
        role,
        customer,
    };
    let (account, _) = state
        .accounts
        .create_account(&caller.ctx, &caller.principal, request)
        .await?;
    Ok((StatusCode::CREATED, Json(account.into())))
}

/// List accounts: a customer's (for its administrators and auditors) or all (staff).
pub async fn list_accounts(
    caller: Caller,
    State(state): State<AppState>,
    Query(q): Query<AccountsQuery>,
) -> ApiResult<Json<Vec<AccountView>>> {
    let customer: Option<art28_core::ids::CustomerId> = q.customer.as_deref().map(str::parse).transpose()?;
    Ok(Json(
        state
            .accounts
            .accounts(&caller.ctx, &caller.principal, customer.as_ref())
            .await?
            .into_iter()
            .map(Into::into)
            .collect(),
    ))
}

/// Paging of security events.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct EventsQuery {
    /// Only events after this id.
    pub after: Option<Position>,
    /// Most events (default and maximum 1000).
    pub limit: Option<PageSize>,
}

/// A security event: failed login, lockout, grant, password change, ….
#[derive(Debug, Serialize, JsonSchema)]
pub struct EventView {
    /// Id, increasing.
    pub id: u64,
    /// When (RFC 3339).
    pub time: String,
    /// Account concerned.
    pub account_id: Option<u64>,
    /// User name tried or concerned.
    pub username: Option<String>,
    /// Kind, e.g. `login_failed`, `account_locked`, `login_throttled`, `grant_added`.
    pub kind: String,
    /// What happened.
    pub detail: String,
    /// Client address.
    pub client: Option<String>,
}

/// Security events, for the security officer.
pub async fn security_events(
    caller: Authorized<perm::SecurityEventsRead>,
    State(state): State<AppState>,
    Query(q): Query<EventsQuery>,
) -> ApiResult<Json<Vec<EventView>>> {
    let events = state
        .accounts
        .security_events(
            &caller.principal,
            q.after.map_or(0, Position::unsigned),
            q.limit.map_or(1000, PageSize::count),
        )
        .await?;
    Ok(Json(
        events
            .into_iter()
            .map(|e| EventView {
                id: e.id,
                time: e.time.to_string(),
                account_id: e.account_id,
                username: e.username,
                kind: e.kind,
                detail: e.detail,
                client: e.client,
            })
            .collect(),
    ))
}

/// Path with an account id.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct AccountPath {
    /// Account id.
    pub account: RowId,
}

/// Why an account is re-enabled.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EnableBody {
    /// The reason, kept in the security events.
    pub reason: String,
}

/// A block of a fellow representative.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BlockBody {
    /// How long, in hours (at most the agreement's term, e.g. 48).
    pub hours: Bounded<1, 8784>,
    /// The grounds, e.g. suspected fraud.
    pub grounds: String,
}

/// Re-enable a disabled account (audited).
pub async fn enable_account(
    caller: Caller,
    State(state): State<AppState>,
    Path(p): Path<AccountPath>,
    ApiJson(body): ApiJson<EnableBody>,
) -> ApiResult<Json<AccountView>> {
    let a = state
        .accounts
        .enable_account(&caller.ctx, &caller.principal, p.account.unsigned(), &body.reason)
        .await?;
    Ok(Json(a.into()))
}

/// Block a fellow representative of the same customer for at most the agreement's term.
pub async fn block_account(
    caller: Caller,
    State(state): State<AppState>,
    Path(p): Path<AccountPath>,
    ApiJson(body): ApiJson<BlockBody>,
) -> ApiResult<Json<AccountView>> {
    let a = state
        .accounts
        .block_account(
            &caller.ctx,
            &caller.principal,
            p.account.unsigned(),
            body.hours.get(),
            &body.grounds,
        )
        .await?;
    Ok(Json(a.into()))
}

/// A token to issue.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenBody {
    /// Operations (permission names), e.g. `agreements_read`, `log_read`; each at most once.
    pub operations: List<String, 64>,
    /// Purposes from the customer's agreement; empty for none; each at most once.
    #[serde(default)]
    pub purposes: List<String, 64>,
    /// Days until it expires (1 to 365).
    pub days: Bounded<1, 365>,
}

/// A token without its secret.
#[derive(Debug, Serialize, JsonSchema)]
pub struct TokenView {
    /// Public id.
    pub id: String,
    /// The secret, shown only in the response that issues it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// Operations.
    pub operations: Vec<String>,
    /// Purposes.
    pub purposes: Vec<String>,
    /// Expiry (RFC 3339).
    pub expires_at: String,
    /// Who issued it.
    pub created_by: String,
    /// Revoked at (RFC 3339).
    pub revoked_at: Option<String>,
    /// Last used (RFC 3339).
    pub last_used_at: Option<String>,
}

impl From<art28_service::records::TokenRecord> for TokenView {
    fn from(t: art28_service::records::TokenRecord) -> Self {
        Self {
            id: t.id,
            token: None,
            operations: t.operations,
            purposes: t.purposes,
            expires_at: t.expires_at.to_string(),
            created_by: t.created_by,
            revoked_at: t.revoked_at.map(|x| x.to_string()),
            last_used_at: t.last_used_at.map(|x| x.to_string()),
        }
    }
}

/// Path with a customer and a token.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct TokenPath {
    /// Customer id.
    pub customer: String,
    /// Token id.
    pub token: String,
}

/// Path with a customer.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct CustomerOnly {
    /// Customer id.
    pub customer: String,
}

/// Issue a machine token for this customer.
pub async fn create_token(
    caller: Authorized<perm::TokensManage>,
    State(state): State<AppState>,
    Path(p): Path<CustomerOnly>,
    ApiJson(body): ApiJson<TokenBody>,
) -> ApiResult<(StatusCode, Json<TokenView>)> {
    let operations = body
        .operations
        .iter()
        .map(|o| o.parse())
        .collect::<Result<Vec<_>, _>>()?;
    let request = accounts::TokenRequest {
        customer: p.customer.parse()?,
        operations,
        purposes: body.purposes.into_vec(),
        days: u32::try_from(body.days.get()).unwrap_or(365),
    };
    let (secret, record) = state
        .accounts
        .create_token(&caller.ctx, &caller.principal, request)
        .await?;
    let mut view = TokenView::from(record);
    view.token = Some(secrecy::ExposeSecret::expose_secret(&secret).to_string());
    Ok((StatusCode::CREATED, Json(view)))
}

/// The customer's machine tokens, without secrets.
pub async fn list_tokens(
    caller: Authorized<perm::TokensManage>,
    State(state): State<AppState>,
    Path(p): Path<CustomerOnly>,
) -> ApiResult<Json<Vec<TokenView>>> {
    Ok(Json(
        state
            .accounts
            .tokens(&caller.ctx, &caller.principal, &p.customer.parse()?)
            .await?
            .into_iter()
            .map(Into::into)
            .collect(),
    ))
}

/// Revoke a machine token.
pub async fn revoke_token(
    caller: Authorized<perm::TokensManage>,
    State(state): State<AppState>,
    Path(p): Path<TokenPath>,
) -> ApiResult<StatusCode> {
    state
        .accounts
        .revoke_token(&caller.ctx, &caller.principal, &p.customer.parse()?, &p.token)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A role to grant.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GrantBody {
    /// Role name.
    pub role: String,
    /// The customer, for a customer role.
    pub customer: Option<String>,
}

/// An entry of the permission register.
#[derive(Debug, Serialize, JsonSchema)]
pub struct GrantView {
    /// Id.
    pub id: u64,
    /// Account.
    pub account_id: u64,
    /// Role.
    pub role: String,
    /// Customer, for a customer role.
    pub customer: Option<String>,
    /// Who granted it.
    pub granted_by: String,
    /// When (RFC 3339).
    pub granted_at: String,
    /// Who revoked it.
    pub revoked_by: Option<String>,
    /// When (RFC 3339).
    pub revoked_at: Option<String>,
}

impl From<art28_service::records::GrantRecord> for GrantView {
    fn from(g: art28_service::records::GrantRecord) -> Self {
        Self {
            id: g.id,
            account_id: g.account_id,
            role: g.role,
            customer: g.tenant.map(|t| t.to_string()),
            granted_by: g.granted_by,
            granted_at: g.granted_at.to_string(),
            revoked_by: g.revoked_by,
            revoked_at: g.revoked_at.map(|t| t.to_string()),
        }
    }
}

/// Path with a grant id.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct GrantPath {
    /// Grant id.
    pub grant: RowId,
}

/// Give an account a role.
pub async fn add_grant(
    caller: Caller,
    State(state): State<AppState>,
    Path(p): Path<AccountPath>,
    ApiJson(body): ApiJson<GrantBody>,
) -> ApiResult<(StatusCode, Json<GrantView>)> {
    let role: Role = body.role.parse()?;
    let customer = body.customer.as_deref().map(str::parse).transpose()?;
    let g = state
        .accounts
        .grant_role(&caller.ctx, &caller.principal, p.account.unsigned(), role, customer)
        .await?;
    Ok((StatusCode::CREATED, Json(g.into())))
}

/// Revoke a grant (it stays in the register).
pub async fn revoke_grant(
    caller: Caller,
    State(state): State<AppState>,
    Path(p): Path<GrantPath>,
) -> ApiResult<Json<GrantView>> {
    Ok(Json(
        state
            .accounts
            .revoke_grant(&caller.ctx, &caller.principal, p.grant.unsigned())
            .await?
            .into(),
    ))
}

/// The permission register: every role given, by whom and when, and who revoked it and when.
pub async fn grant_register(
    caller: Caller,
    State(state): State<AppState>,
    Query(q): Query<AccountsQuery>,
) -> ApiResult<Json<Vec<GrantView>>> {
    let customer: Option<art28_core::ids::CustomerId> = q.customer.as_deref().map(str::parse).transpose()?;
    Ok(Json(
        state
            .accounts
            .grants(&caller.ctx, &caller.principal, customer.as_ref())
            .await?
            .into_iter()
            .map(Into::into)
            .collect(),
    ))
}

/// Mark an account's password as disclosed: its sessions end and it must be changed.
pub async fn password_disclosed(
    caller: Caller,
    State(state): State<AppState>,
    Path(p): Path<AccountPath>,
    ApiJson(body): ApiJson<EnableBody>,
) -> ApiResult<Json<AccountView>> {
    let a = state
        .accounts
        .mark_password_disclosed(&caller.ctx, &caller.principal, p.account.unsigned(), &body.reason)
        .await?;
    Ok(Json(a.into()))
}
