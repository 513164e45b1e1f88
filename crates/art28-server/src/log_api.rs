//! The access log over HTTP: checkpoints, a customer's own entries with inclusion proofs,
//! evidence bundles for offline verification, and consistency proofs between checkpoints.
//!
//! A customer's view holds only its own entries; proofs carry sibling hashes, never other
//! customers' entries. Entries newer than the latest checkpoint are listed once the next fold
//! (at most a second or so later) has signed a checkpoint that covers them.

use crate::api::WithAccess;
use crate::auth::{Authorized, Caller, perm};
use crate::error::{ApiError, ApiResult};
use crate::extract::{Path, Query};
use crate::state::AppState;
use art28_core::ErrorCode;
use art28_core::access::AccessEntry;
use art28_core::ids::CustomerId;
use art28_core::number::{PageSize, Position};
use art28_service::access_log::MAX_PAGE;
use art28_service::records::StoredCheckpoint;
use axum::Json;
use axum::extract::State;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A signed checkpoint.
#[derive(Debug, Serialize, JsonSchema)]
pub struct CheckpointView {
    /// Number of entries in the tree.
    pub size: u64,
    /// Root hash, hex.
    pub root: String,
    /// The signed note (C2SP tlog-checkpoint), to keep and verify offline.
    pub note: String,
    /// When it was signed (RFC 3339, UTC).
    pub signed_at: String,
}

impl From<StoredCheckpoint> for CheckpointView {
    fn from(c: StoredCheckpoint) -> Self {
        Self {
            size: c.size,
            root: hex::encode(c.root),
            note: c.note,
            signed_at: c.signed_at.to_string(),
        }
    }
}

/// One entry with its inclusion proof.
#[derive(Debug, Serialize, JsonSchema)]
pub struct EntryView {
    /// Leaf index in the log.
    pub index: u64,
    /// The entry.
    pub entry: AccessEntry,
    /// Inclusion proof against the page's checkpoint, hex hashes.
    pub proof: Vec<String>,
}

/// A page of a customer's log.
#[derive(Debug, Serialize, JsonSchema)]
pub struct LogPage {
    /// The checkpoint the proofs lead to.
    pub checkpoint: CheckpointView,
    /// Entries, oldest first.
    pub entries: Vec<EntryView>,
    /// Index to ask for the next page from, if there may be more.
    pub next: Option<u64>,
}

/// Paging.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct PageQuery {
    /// First leaf index to include (default 0).
    pub from: Option<Position>,
    /// Most entries (default and maximum 1000).
    pub limit: Option<PageSize>,
    /// For a bundle: the size of an earlier checkpoint you hold, to include a consistency proof
    /// from it to the current one.
    pub since: Option<Position>,
}

/// Two tree sizes.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct ConsistencyQuery {
    /// The earlier size.
    pub old: Position,
    /// The later size (default: the latest checkpoint).
    pub new: Option<Position>,
}

/// A consistency proof between two checkpoints.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ConsistencyView {
    /// The earlier checkpoint.
    pub old: CheckpointView,
    /// The later checkpoint.
    pub new: CheckpointView,
    /// The proof, hex hashes.
    pub proof: Vec<String>,
}

/// Path with a customer id.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct CustomerPath {
    /// Customer id.
    pub customer: String,
}

/// The latest signed checkpoint.
pub async fn latest_checkpoint(op: Caller, State(state): State<AppState>) -> ApiResult<Json<CheckpointView>> {
    Ok(Json(state.log.checkpoint(&op.principal).await?.into()))
}

/// The log's public key in the C2SP verifier-key form.
pub async fn public_key(State(state): State<AppState>) -> String {
    format!("{}\n", state.log.verifier().to_vkey())
}

/// A customer's entries with inclusion proofs.
pub async fn customer_log(
    op: Authorized<perm::LogRead>,
    State(state): State<AppState>,
    Path(p): Path<CustomerPath>,
    Query(q): Query<PageQuery>,
) -> ApiResult<WithAccess<Json<LogPage>>> {
    let tenant: CustomerId = p.customer.parse()?;
    let (page, receipt) = state
        .log
        .page(
            &op.ctx,
            &op.principal,
            &tenant,
            q.from.map_or(0, Position::unsigned),
            q.limit.map_or(MAX_PAGE, PageSize::count),
        )
        .await?;
    let entries = page
        .entries
        .into_iter()
        .map(|e| EntryView {
            index: e.index,
            entry: e.entry,
            proof: e.proof.iter().map(hex::encode).collect(),
        })
        .collect();
    Ok(WithAccess(
        receipt.access_id,
        Json(LogPage {
            checkpoint: page.checkpoint.into(),
            entries,
            next: page.next,
        }),
    ))
}

/// An evidence bundle for `art28 log verify`.
pub async fn customer_bundle(
    op: Authorized<perm::LogRead>,
    State(state): State<AppState>,
    Path(p): Path<CustomerPath>,
    Query(q): Query<PageQuery>,
) -> ApiResult<WithAccess<Json<serde_json::Value>>> {
    let tenant: CustomerId = p.customer.parse()?;
    let (bundle, receipt) = state
        .log
        .bundle(
            &op.ctx,
            &op.principal,
            &tenant,
            q.from.map_or(0, Position::unsigned),
            q.limit.map_or(MAX_PAGE, PageSize::count),
            q.since.map(Position::unsigned),
        )
        .await?;
    // The bundle is the ledger crate's format (`art28/log-bundle/v1`), documented there.
    let value = serde_json::to_value(&bundle).map_err(|e| ApiError::new(ErrorCode::Internal, e.to_string()))?;
    Ok(WithAccess(receipt.access_id, Json(value)))
}

/// A consistency proof between two signed checkpoints.
pub async fn consistency(
    op: Caller,
    State(state): State<AppState>,
    Query(q): Query<ConsistencyQuery>,
) -> ApiResult<Json<ConsistencyView>> {
    let c = state
        .log
        .consistency(&op.principal, q.old.unsigned(), q.new.map(Position::unsigned))
        .await?;
    Ok(Json(ConsistencyView {
        old: c.old.into(),
        new: c.new.into(),
        proof: c.proof.iter().map(hex::encode).collect(),
    }))
}
