//! Staff access grants over HTTP (`/api/v1/customers/{customer}/access-grants`): staff ask,
//! the customer sees every grant and (where its agreement says so) approves or rejects; either
//! may end a grant early. Each handler calls one method of
//! [`art28_service::staff_access::StaffAccess`], which judges the call and logs it.

use crate::auth::{Authorized, Caller, perm};
use crate::error::{ApiError, ApiResult};
use crate::extract::ApiJson;
use crate::extract::Path;
use crate::state::AppState;
use art28_core::ErrorCode;
use art28_core::ids::CustomerId;
use art28_core::number::RowId;
use art28_service::records::AccessGrantRecord;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A request for access.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AccessRequestBody {
    /// `install_version_or_fix`, `backup`, `move_data`, `investigate_fault`, `support_ticket`,
    /// `migration` or `legal_obligation`.
    pub reason: String,
    /// Ticket reference.
    pub ticket: String,
    /// End (RFC 3339), at most the agreement's `staff_access_max` ahead.
    pub ends_at: String,
}

/// An access grant as the customer sees it.
#[derive(Debug, Serialize, JsonSchema)]
pub struct AccessGrantView {
    /// Id.
    pub id: u64,
    /// Staff member.
    pub username: String,
    /// Reason.
    pub reason: String,
    /// Ticket.
    pub ticket: String,
    /// Asked for at (RFC 3339).
    pub requested_at: String,
    /// Ends at (RFC 3339).
    pub ends_at: String,
    /// `requested`, `approved`, `rejected` or `revoked`.
    pub status: String,
    /// Who approved, rejected or ended it (`agreement` when no approval was needed).
    pub decided_by: Option<String>,
}

impl From<AccessGrantRecord> for AccessGrantView {
    fn from(g: AccessGrantRecord) -> Self {
        Self {
            id: g.id,
            username: g.username,
            reason: g.reason,
            ticket: g.ticket,
            requested_at: g.requested_at.to_string(),
            ends_at: g.ends_at.to_string(),
            status: g.status.as_str().into(),
            decided_by: g.decided_by,
        }
    }
}

/// Path with a customer.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct CustomerPath {
    /// Customer id.
    pub customer: String,
}

/// Path with a customer, a grant and a decision.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct DecisionPath {
    /// Customer id.
    pub customer: String,
    /// Grant id.
    pub grant: RowId,
    /// `approve`, `reject` or `revoke`.
    pub action: String,
}

/// Ask for access to a customer's data.
pub async fn request(
    caller: Authorized<perm::AccessGrantsRequest>,
    State(state): State<AppState>,
    Path(p): Path<CustomerPath>,
    ApiJson(body): ApiJson<AccessRequestBody>,
) -> ApiResult<(StatusCode, Json<AccessGrantView>)> {
    let tenant: CustomerId = p.customer.parse()?;
    let reason = body.reason.parse()?;
    let ends_at = body.ends_at.parse().map_err(|_| {
        ApiError::new(
            ErrorCode::BadRequest,
            "ends_at must be an RFC 3339 time, e.g. 2026-11-23T17:00:00Z",
        )
    })?;
    let g = state
        .staff_access
        .request(&caller.ctx, &caller.principal, &tenant, reason, &body.ticket, ends_at)
        .await?;
    Ok((StatusCode::CREATED, Json(g.into())))
}

/// Every access grant for a customer.
pub async fn list(
    caller: Authorized<perm::AccessGrantsRead>,
    State(state): State<AppState>,
    Path(p): Path<CustomerPath>,
) -> ApiResult<Json<Vec<AccessGrantView>>> {
    let tenant: CustomerId = p.customer.parse()?;
    Ok(Json(
        state
            .staff_access
            .list(&caller.ctx, &caller.principal, &tenant)
            .await?
            .into_iter()
            .map(Into::into)
            .collect(),
    ))
}

/// Approve, reject or end a grant.
pub async fn decide(
    caller: Caller,
    State(state): State<AppState>,
    Path(p): Path<DecisionPath>,
) -> ApiResult<Json<AccessGrantView>> {
    let tenant: CustomerId = p.customer.parse()?;
    let (grants, ctx, who) = (&state.staff_access, &caller.ctx, &caller.principal);
    let g = match p.action.as_str() {
        "approve" => grants.decide(ctx, who, &tenant, p.grant.unsigned(), true).await?,
        "reject" => grants.decide(ctx, who, &tenant, p.grant.unsigned(), false).await?,
        "revoke" => grants.revoke(ctx, who, &tenant, p.grant.unsigned()).await?,
        other => {
            return Err(ApiError::new(
                ErrorCode::BadRequest,
                format!("unknown action `{other}`; use approve, reject or revoke"),
            ));
        }
    };
    Ok(Json(g.into()))
}
