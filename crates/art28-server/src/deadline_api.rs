//! The one deadlines view over HTTP: `GET /api/v1/deadlines` (JSON) and
//! `GET /api/v1/deadlines.ics` (an iCalendar feed of the deadlines still running).
//!
//! Handlers take the authenticated [`Caller`] (bearer token or session cookie), call
//! [`art28_service::deadlines::Deadlines::deadlines`], which judges the call and writes its
//! access entries, and map the result.

use crate::api::customer_id;
use crate::auth::Caller;
use crate::error::ApiResult;
use crate::extract::Query;
use crate::state::AppState;
use art28_core::deadline::{Deadline, DeadlineState};
use art28_core::lang::Lang;
use art28_service::deadlines::Filter;
use axum::Json;
use axum::extract::State;
use schemars::JsonSchema;
use serde::Deserialize;

/// Which deadlines.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct DeadlinesQuery {
    /// Only this customer's (staff: any customer; a customer's accounts: their own). Absent:
    /// every customer the caller may see.
    pub customer: Option<String>,
    /// Only deadlines in this state.
    pub state: Option<DeadlineState>,
}

/// Which deadlines, and the feed's language.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct FeedQuery {
    /// Only this customer's (staff: any customer; a customer's accounts: their own).
    pub customer: Option<String>,
    /// Only deadlines in this state (only running ones become events).
    pub state: Option<DeadlineState>,
    /// Language of the events' summaries (`nl` when absent).
    pub lang: Option<Lang>,
}

async fn view(
    state: &AppState,
    caller: &Caller,
    customer: Option<&str>,
    s: Option<DeadlineState>,
) -> ApiResult<(jiff::Timestamp, Vec<Deadline>)> {
    let filter = Filter {
        customer: customer.map(customer_id).transpose()?,
        state: s,
    };
    Ok(state
        .deadlines
        .deadlines(&caller.ctx, &caller.principal, &filter)
        .await?)
}

/// Every deadline the caller may see: overdue first (most overdue first), then due soon, then
/// open by due date, then met and met late, most recently done first.
pub async fn list(
    caller: Caller,
    State(state): State<AppState>,
    Query(q): Query<DeadlinesQuery>,
) -> ApiResult<Json<Vec<Deadline>>> {
    let (_, all) = view(&state, &caller, q.customer.as_deref(), q.state).await?;
    Ok(Json(all))
}

/// The deadlines still running as an iCalendar feed.
pub async fn feed(caller: Caller, State(state): State<AppState>, Query(q): Query<FeedQuery>) -> ApiResult<Calendar> {
    let (now, all) = view(&state, &caller, q.customer.as_deref(), q.state).await?;
    Ok(Calendar(art28_render::ics::calendar(
        &all,
        now,
        q.lang.unwrap_or_default(),
    )))
}

crate::api::text_answer!(
    /// An iCalendar document (RFC 5545).
    Calendar,
    "text/calendar",
    "inline; filename=\"deadlines.ics\"",
    "An iCalendar feed (RFC 5545): one VEVENT per deadline still running, its UID stable."
);
